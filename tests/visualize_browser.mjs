// visualize_browser.mjs — open etpu visualize pages in headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core from
// tools/browser; no browser is downloaded) and report what a user would see.
//
//   node visualize_browser.mjs JOBS.json RESULTS.json
//
// JOBS.json: [{"name", "html", "png", "search", "chromium"}]. For each page:
// console errors, page errors and any request leaving the file; the time
// from navigation to the first painted frame after the load event; every
// graph node (its data attributes and whether it has a rendered box); the
// side panel after clicking the first CPU op (or the first op); the search
// for a tensor name (the result buttons, the nodes marked, the time taken);
// then a screenshot of the viewport with the clicked node in view. The
// Python side (visualize_browser.py) judges the results.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);
const { chromium } = require(path.join(here, '..', 'tools', 'browser', 'node_modules', 'playwright-core'));

const [jobsPath, resultsPath] = process.argv.slice(2);
const jobs = JSON.parse(fs.readFileSync(jobsPath, 'utf8'));
// The flags that work on this machine kind: no sandbox as root, no GPU, and
// no background traffic (the network is closed). launch() gives Chromium a
// fresh, empty profile folder of its own each time.
const browser = await chromium.launch({
  executablePath: jobs.length ? jobs[0].chromium : '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  for (const job of jobs) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = [];
    const url = 'file://' + path.resolve(job.html);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('request', (r) => { if (r.url() !== url) errors.push(`request out of the page: ${r.url()}`); });
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'load', timeout: 120000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const renderMs = Date.now() - t0;
    const nodes = await page.$$eval('g.n', (ns) => ns.map((n) => {
      const b = n.getBBox();
      return { op: n.dataset.op ?? null, inner: n.dataset.inner ?? null, io: n.dataset.io ?? null,
        where: n.dataset.where, id: n.id, drawn: b.width > 0 && b.height > 0 };
    }));
    // Click the first CPU op (else the first op): its details in the side panel.
    const target = (await page.$('g.n.cpu')) || (await page.$('g.n[data-op]')) || (await page.$('g.n'));
    let panel = '';
    let clicked = null;
    if (target) {
      await target.scrollIntoViewIfNeeded();
      await target.click();
      clicked = await target.getAttribute('id');
      panel = await page.$eval('#panel', (p) => p.innerText);
    }
    // Search for a tensor by name, as a user types it.
    let search = { results: [], hits: [], ms: 0 };
    if (job.search) {
      const s0 = Date.now();
      await page.fill('#q', job.search);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
      search = {
        ms: Date.now() - s0,
        results: await page.$$eval('#results button', (bs) => bs.map((b) => ({ text: b.textContent, node: b.dataset.node }))),
        hits: await page.$$eval('g.n.hit', (ns) => ns.map((n) => n.id)),
        count: await page.$eval('#count', (c) => c.textContent),
      };
      // Follow the first result: it pins that node.
      if (search.results.length) {
        await page.click('#results button');
        search.pinned = await page.$eval('g.n.sel', (n) => n.id).catch(() => null);
      }
      await page.fill('#q', '');
    }
    if (target) await target.scrollIntoViewIfNeeded();
    await page.screenshot({ path: job.png });
    results.push({ name: job.name, renderMs, errors, nodes, clicked, panel, search, png: job.png });
    await page.close();
  }
} finally {
  await browser.close();
}
fs.writeFileSync(resultsPath, JSON.stringify(results, null, 1));
