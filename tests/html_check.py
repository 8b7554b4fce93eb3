"""html_check.py — structural checks of the HTML page etpu visualize writes.

Shared by visualize_html.py and hostile_strings.py. problems(data) parses
the page with Python's html.parser and returns a list of what is wrong:

  - not valid UTF-8, or a raw control character other than \\n and \\t;
  - a tag or attribute outside the small set the page uses (a name from the
    model that escaped its escaping would add one), an event-handler
    attribute, or more than one <script>;
  - an element closed that is not open, or left open at the end (void
    elements excepted): the page is well formed;
  - anything that would reach the network: src=, href= other than the
    data: icon, url( in a style, http:// or https:// outside the SVG
    namespace.

nodes(data) returns, for each graph node (<g class="n ...">), its attributes
as a dict, so tests can compare the ops drawn with etpu inspect --json.
Python 3 standard library only.
"""

import html.parser

VOID = {"meta", "link", "input", "br", "rect"}
TAGS = VOID | {"html", "head", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "span", "button", "div",
               "main", "aside", "p", "b", "i", "code", "table", "tr", "th", "td", "pre", "section", "svg", "g",
               "text", "script", "path"}
ATTRS = {"lang", "charset", "http-equiv", "content", "name", "rel", "href", "id", "type", "placeholder",
         "aria-label", "title", "class", "hidden", "xmlns", "width", "height", "viewbox", "role", "tabindex",
         "data-op", "data-inner", "data-io", "data-where", "data-s", "transform", "rx", "x", "y", "d", "colspan"}
SVG_NS = "http://www.w3.org/2000/svg"


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.stack = []
        self.scripts = 0
        self.nodes = []

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs)

    def _tag(self, tag, attrs):
        if tag not in TAGS:
            self.problems.append("unexpected tag <%s> at %s" % (tag, self.getpos()))
        if tag == "script":
            self.scripts += 1
        a = {}
        for k, v in attrs:
            a[k] = v
            if k not in ATTRS or k.startswith("on"):
                self.problems.append("unexpected attribute %s= on <%s> at %s" % (k, tag, self.getpos()))
            if k in ("src", "srcset") or (k == "href" and v != "data:,"):
                self.problems.append("a reference out of the page: %s=%r" % (k, v))
        if tag == "g" and (a.get("class") or "").split()[:1] == ["n"]:
            self.nodes.append(a)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> at %s closes %r" % (tag, self.getpos(), self.stack[-1:]))
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def _parse(data):
    p = _Parser()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        p.problems.append("invalid UTF-8 at byte %d" % e.start)
        return p, ""
    for i, ch in enumerate(text):
        c = ord(ch)
        if (c < 0x20 and ch not in "\n\t") or c == 0x7F or 0x80 <= c <= 0x9F:
            p.problems.append("raw control U+%04X at character %d" % (c, i))
            break
    p.feed(text)
    p.close()
    return p, text


def problems(data):
    """What is wrong with the page (an empty list when nothing is)."""
    p, text = _parse(data)
    out = list(p.problems)
    if p.stack:
        out.append("elements left open: %r" % p.stack[-5:])
    if p.scripts != 1:
        out.append("%d <script> elements, want 1" % p.scripts)
    if not text.startswith("<!DOCTYPE html>"):
        out.append("no <!DOCTYPE html> at the start")
    rest = text.replace(SVG_NS, "")
    for bad in ("http://", "https://", "url(", "@import"):
        if bad in rest:
            out.append("%r in the page: it must need no network" % bad)
    return out


def nodes(data):
    """The attributes of every graph node, in document order."""
    p, _ = _parse(data)
    return p.nodes
