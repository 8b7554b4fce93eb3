"""etpu — Python bindings of etpu, the open Coral Edge TPU toolchain.

This package gives tflite_runtime's ``Interpreter`` (and pycoral's
``load_delegate``) over libetpu's C interpreter, so code written for
``tflite_runtime`` runs with its import line changed::

    from etpu import Interpreter            # was: from tflite_runtime.interpreter import Interpreter
    interpreter = Interpreter(model_path="mobilenet_v1_0.25_128_quant.tflite")
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    interpreter.set_tensor(inp["index"], interpreter.image_to_input("cat.bmp"))  # resized as `etpu run`
    interpreter.invoke()
    scores = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

The C core is ``etpu._etpu`` (python/src/etpumodule.c and tools.c), linked
against ``libetpu.so``. Here: running models (``Interpreter``,
``load_delegate``, pycoral's ``make_interpreter``), images (``read_image``,
``Interpreter.image_to_input``), model inspection (``Model``), compiling
for the Edge TPU (``compile``), post-training quantization with a
TFLiteConverter-style representative dataset (``quantize``) and pycoral's
on-device learning (``etpu.learn``). Each writes the bytes the ``etpu``
command writes for the same inputs.
"""
import os
import time

import numpy as np

from . import _etpu

__all__ = ["Interpreter", "SignatureRunner", "Delegate", "load_delegate", "make_interpreter", "read_image", "image_to_input", "Model",
           "compile", "CompiledModel", "quantize", "QuantizedModel", "__version__"]

__version__ = _etpu.version()


def read_image(path):
    """Decode a BMP, PNG or JPEG file into a ``uint8`` numpy array of shape
    (height, width, channels), channels 1 (gray) or 3 (RGB), rows top first.
    Raises ValueError with etpu's message for unreadable or malformed files."""
    return _etpu.read_image(path)


class Delegate:
    """What ``load_delegate`` returns. etpu has no external delegate: the
    Edge TPU part of an etpu-compiled model is simulated by etpu's own
    interpreter, so this object only records the request."""

    def __init__(self, library, options=None):
        self.library = library
        self.options = dict(options or {})

    def __repr__(self):
        return "etpu.Delegate(%r, %r)" % (self.library, self.options)


def load_delegate(library, options=None):
    """tflite_runtime's / pycoral's ``load_delegate``. For the Edge TPU
    library (``libedgetpu.so.1``, ``edgetpu.dll``, ``libedgetpu.1.dylib``)
    returns a Delegate that ``Interpreter(experimental_delegates=[...])``
    accepts; models compiled by ``etpu compile`` then run, their Edge TPU op
    simulated on the CPU (bit-exact with the source model). Models compiled
    by Google's edgetpu_compiler are refused by the Interpreter with the
    message ``etpu run`` gives. Any other library raises ValueError (etpu
    cannot load foreign delegates)."""
    name = str(library)
    if "edgetpu" not in name:
        raise ValueError(
            "Failed to load delegate from %s: etpu runs no external delegates; only the Edge TPU delegate "
            "(libedgetpu.so.1) is understood, and etpu simulates it" % name)
    if options is not None and not isinstance(options, dict):
        raise ValueError("load_delegate: options must be a dict, got %s" % type(options).__name__)
    return Delegate(name, options)


class Interpreter:
    """tflite_runtime's ``Interpreter`` on etpu's interpreter.

    ``Interpreter(model_path=None, model_content=None, experimental_delegates=None,
    num_threads=None, profile='litert', experimental_preserve_all_tensors=False)``

    - Exactly one of ``model_path`` and ``model_content`` (bytes, kept alive
      by the interpreter).
    - ``experimental_delegates``: Delegates from ``load_delegate``. Not
      needed: a model compiled by ``etpu compile`` runs without a delegate
      too (its Edge TPU op is always simulated by etpu).
    - ``num_threads``: threads an invoke may use (None or -1: every core
      this process may use, or ETPU_NUM_THREADS). Outputs are byte-identical
      for every count.
    - ``profile``: ``'litert'`` (TensorFlow Lite / LiteRT's arithmetic on a
      PC, the default) or ``'tflite-ref'`` (TFLite's reference kernels, as
      TFLite Micro).
    - ``experimental_preserve_all_tensors``: keep every intermediate tensor
      readable by ``get_tensor`` after ``invoke``.

    A model etpu cannot run (an op it lacks, a model compiled by Google's
    compiler) or malformed bytes raise ValueError here with etpu's message.
    Tensor shapes are fixed: ``resize_tensor_input`` accepts only the
    current shape. Only subgraph 0 runs.
    """

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None, num_threads=None,
                 profile="litert", experimental_preserve_all_tensors=False, **_ignored):
        for d in experimental_delegates or []:
            if not isinstance(d, Delegate):
                raise ValueError("experimental_delegates: %r is not a delegate from etpu.load_delegate" % (d,))
        if num_threads is None or num_threads == -1:
            threads = 0
        elif not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 1:
            raise ValueError("num_threads should be >= 1 (or None / -1 for the default), got %r" % (num_threads,))
        else:
            threads = num_threads
        self._delegates = list(experimental_delegates or [])
        self._source = model_path if model_path is not None else model_content
        self._sigs = None
        self._interp = _etpu._Interpreter(model_path=model_path, model_content=model_content, num_threads=threads,
                                          profile=profile, keep_all_tensors=bool(experimental_preserve_all_tensors))
        self.profile = profile

    def allocate_tensors(self):
        """Plan and allocate tensor memory (once; later calls do nothing).
        RuntimeError while a numpy view from ``tensor()`` is alive."""
        self._interp.allocate_tensors()

    def invoke(self):
        """Run the model on the inputs set, with the GIL released.
        RuntimeError before allocate_tensors(), while a numpy view from
        ``tensor()`` is alive (tflite_runtime's rule), or when an op fails
        (etpu's message)."""
        self._interp.invoke()

    def reset_all_variables(self):
        """Reset every variable (state) tensor, e.g. an LSTM's, to its
        initial value (the zero point; 0 for float), as TFLite does. State
        otherwise carries over from one invoke to the next."""
        self._interp.reset_all_variables()

    def _details(self, which):
        return self._interp.details(which)

    def get_input_details(self):
        """One dict per graph input: name, index, shape (np.int32 array),
        shape_signature, dtype (numpy type), quantization (scale,
        zero_point; (0.0, 0) unless quantized per tensor),
        quantization_parameters (scales, zero_points, quantized_dimension),
        sparsity_parameters."""
        return self._details(0)

    def get_output_details(self):
        """As get_input_details, for the graph outputs."""
        return self._details(1)

    def get_tensor_details(self):
        """As get_input_details, for every tensor of subgraph 0."""
        return self._details(2)

    def set_tensor(self, tensor_index, value):
        """Copy ``value`` into a graph input. Its dtype and shape must be the
        input's exactly (ValueError naming both otherwise)."""
        self._interp.set_tensor(tensor_index, value)

    def get_tensor(self, tensor_index, subgraph_index=0):
        """A copy of a tensor (a graph input or output; any tensor with
        experimental_preserve_all_tensors, and constants)."""
        if subgraph_index != 0:
            raise ValueError("etpu runs subgraph 0 only; got subgraph_index %r" % (subgraph_index,))
        return self._interp.get_tensor(tensor_index)

    def tensor(self, tensor_index):
        """A function returning a numpy view of the tensor's current memory,
        as tflite_runtime's. Writing to an input's view sets the input. Do
        not keep the array itself across ``invoke()`` or
        ``allocate_tensors()``: they raise RuntimeError while one is alive;
        keep the function and call it again."""
        interp = self._interp
        return lambda: interp.view(tensor_index)

    def resize_tensor_input(self, input_index, tensor_size, strict=False):
        """etpu's interpreter has fixed shapes: accepted only when
        ``tensor_size`` is the input's current shape, else ValueError."""
        want = [int(x) for x in tensor_size]
        for d in self.get_input_details():
            if d["index"] == input_index:
                have = [int(x) for x in d["shape"]]
                if want != have:
                    raise ValueError("etpu cannot resize tensors: input %d '%s' is %s; asked for %s"
                                     % (input_index, d["name"], have, want))
                return
        raise ValueError("resize_tensor_input: tensor %r is not a graph input" % (input_index,))

    def _signatures(self):
        if self._sigs is None:
            self._sigs = Model(self._source).signatures
        return self._sigs

    def get_signature_list(self):
        """The model's SignatureDefs as tflite_runtime gives them:
        ``{key: {"inputs": [names], "outputs": [names]}}`` ({} when the
        model records none)."""
        return {k: {"inputs": list(s["inputs"]), "outputs": list(s["outputs"])}
                for k, s in self._signatures().items()}

    def get_signature_runner(self, signature_key=None):
        """A SignatureRunner for ``signature_key`` (None: the model's only
        signature), as tflite_runtime's: call it with the inputs by name,
        get a dict of the outputs by name. ValueError when the model has no
        such signature, or when it runs another subgraph than 0 (etpu runs
        subgraph 0 only)."""
        sigs = self._signatures()
        if signature_key is None:
            if len(sigs) != 1:
                raise ValueError("SignatureDef signature_key is None and model has %d Signatures. None is only "
                                 "allowed when the model has 1 SignatureDef" % len(sigs))
            signature_key = next(iter(sigs))
        if signature_key not in sigs:
            raise ValueError("SignatureDef signature_key '%s' not found; the model has %s"
                             % (signature_key, sorted(sigs) or "none"))
        if sigs[signature_key]["subgraph"] != 0:
            raise ValueError("signature '%s' runs subgraph %d; etpu runs subgraph 0 only"
                             % (signature_key, sigs[signature_key]["subgraph"]))
        return SignatureRunner(self, signature_key, sigs[signature_key])

    def image_to_input(self, image, input_index=0, mean=None, std=None, resize="bilinear"):
        """Input ``input_index`` (0-based position among the graph inputs)
        made from an image exactly as ``etpu run --input`` makes it: ``image``
        a path (BMP, PNG, JPEG) or a uint8 HxW / HxWxC array; converted to
        the input's channels, resized (``'bilinear'``: half-pixel centres as
        Coral's tests; or ``'nearest'``) and quantized. ``mean``/``std``:
        real = (pixel - mean) / std; None: etpu run's defaults (a float input
        takes the model metadata's normalization; a quantized one receives the
        raw pixels). Returns a numpy array of the input's shape and dtype,
        ready for set_tensor."""
        if resize not in ("bilinear", "nearest"):
            raise ValueError("resize must be 'bilinear' or 'nearest', got %r" % (resize,))
        return self._interp.image_input(input_index, image, mean, std, resize == "nearest")

    def num_threads(self):
        """Threads an invoke runs on (the caller's included)."""
        return self._interp.info()["threads"]

    def close(self):
        """Free the interpreter and its model now (RuntimeError while a
        numpy view is alive). Any later call raises ValueError."""
        self._interp.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SignatureRunner:
    """tflite_runtime's SignatureRunner (from
    ``Interpreter.get_signature_runner``): ``runner(**inputs)`` sets every
    input of the signature by name, invokes and returns ``{output name:
    numpy array}`` (copies). ``get_input_details()`` /
    ``get_output_details()``: ``{name: details}``."""

    def __init__(self, interpreter, key, sig):
        self._interp = interpreter
        self.key = key
        self._inputs = sig["inputs"]
        self._outputs = sig["outputs"]

    def _details(self, names, which):
        by_index = {d["index"]: d for d in which()}
        return {n: by_index[t] for n, t in names.items() if t in by_index}

    def get_input_details(self):
        return self._details(self._inputs, self._interp.get_input_details)

    def get_output_details(self):
        return self._details(self._outputs, self._interp.get_tensor_details)

    def allocate_tensors(self):
        self._interp.allocate_tensors()

    def __call__(self, **kwargs):
        if len(kwargs) != len(self._inputs):
            raise ValueError("Invalid number of inputs provided for running a SignatureDef, expected %d vs "
                             "provided %d (signature '%s' takes %s)"
                             % (len(self._inputs), len(kwargs), self.key, sorted(self._inputs)))
        self._interp.allocate_tensors()
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise ValueError("signature '%s' has no input '%s' (its inputs: %s)"
                                 % (self.key, name, sorted(self._inputs)))
            self._interp.set_tensor(self._inputs[name], value)
        self._interp.invoke()
        return {name: self._interp.get_tensor(t) for name, t in self._outputs.items()}


def image_to_input(interpreter, image, input_index=0, mean=None, std=None, resize="bilinear"):
    """Module-level form of Interpreter.image_to_input."""
    return interpreter.image_to_input(image, input_index, mean, std, resize)


def visualize_html(source, min_runtime_version=0, intermediate_tensors=(), multiple_subgraphs=False):
    """The HTML page of ``etpu visualize`` for a model (a path or its bytes),
    as a str: the graph coloured by where ``etpu compile`` places each op
    (compiled with the flags given, as its -m, -i and -a), tensors, options,
    the rule and fix of each CPU op, summary tables and search; one file
    needing no network. Bad models or flags raise ValueError."""
    return _etpu.visualize_html(source, min_runtime_version, list(intermediate_tensors), multiple_subgraphs)


class Model:
    """Minimal inspection of a .tflite file (subgraph 0), as ``etpu inspect``:

    - ``ops``: dicts with index, type (the builtin name, or the custom
      code), code, version, inputs, outputs (tensor indices);
    - ``tensors``: dicts with index, name, type, dtype, shape, scales,
      zero_points, quantized_dimension, constant, bytes;
    - ``inputs`` / ``outputs``: tensor indices;
    - ``normalization(i)``: the tflite-support metadata's (mean, std) lists
      for input i, or None;
    - ``signatures``: the SignatureDefs, ``{key: {"subgraph": n, "inputs":
      {name: tensor index}, "outputs": {...}}}`` (empty when the model has
      none);
    - ``version`` (schema), ``description``, ``subgraphs``.

    Each op also has ``options`` (its builtin options as a dict, enums by
    name, as ``etpu inspect --json`` prints them) and ``options_name``.
    ``source`` is a path or the model's bytes. Malformed models raise
    ValueError with etpu's message."""

    def __init__(self, source):
        import json
        d = _etpu.model_summary(source)
        self.label = d["label"]
        self.version = d["version"]
        self.subgraphs = d["subgraphs"]
        self.description = d["description"]
        self.ops = d["ops"]
        for op in self.ops:
            text = op.pop("options_json")
            op["options"] = json.loads(text) if text else {}
        self.tensors = d["tensors"]
        self.inputs = d["inputs"]
        self.outputs = d["outputs"]
        self._norm = d["normalization"]
        self.signatures = {s["key"]: {"subgraph": s["subgraph"], "inputs": dict(s["inputs"]),
                                      "outputs": dict(s["outputs"])} for s in d["signatures"]}

    def normalization(self, input_index=0):
        """(mean, std) lists from the model's metadata for graph input
        ``input_index``, or None when the metadata records none."""
        n = self._norm[input_index]
        return None if n is None else (n["mean"], n["std"])

    def __repr__(self):
        return "etpu.Model(%r: %d ops, %d tensors)" % (self.label, len(self.ops), len(self.tensors))


def make_interpreter(model_path_or_content, device=None, delegate=None):
    """pycoral's ``pycoral.utils.edgetpu.make_interpreter``: an Interpreter
    for a model path (str) or its content (bytes), with the Edge TPU delegate
    (etpu's simulation: ``device`` is accepted and ignored, there is one
    simulated Edge TPU). ``delegate``: a Delegate from ``load_delegate``."""
    delegates = [delegate if delegate is not None else load_delegate("libedgetpu.so.1")]
    if isinstance(model_path_or_content, (bytes, bytearray, memoryview)):
        return Interpreter(model_content=bytes(model_path_or_content), experimental_delegates=delegates)
    return Interpreter(model_path=model_path_or_content, experimental_delegates=delegates)


# ---- compiling ------------------------------------------------------------


def _stem(path):
    base = os.path.basename(path)
    return base[:-7] if len(base) > 7 and base.endswith(".tflite") else base


class CompiledModel:
    """What ``etpu.compile`` returns: ``etpu compile``'s results in memory.

    - ``model``: the compiled model's bytes (``models``: every output model,
      one per pipeline segment with ``num_segments`` > 1);
    - ``ops``: per op of the input model a dict: ``op`` (index), ``type``,
      ``status`` (the real compiler's text), ``status_code``, ``on_edgetpu``,
      ``before_cut``, ``segment``, ``reason`` (the rule broken, with values),
      ``fix`` (what would fix it), ``blocked_by``;
    - ``summary``: op counts, runtime versions and the memory figures
      (``parameter_bytes``, ``on_chip_bytes``, ``on_chip_remaining_bytes``,
      ``off_chip_bytes``; ``memory`` holds those four);
    - ``log``: the ``.log`` text for outputs written to the current folder
      (``logs``: per output model); ``report(out_dir)``: the console text
      ``etpu compile`` prints; ``json(out_dir)``: its ``--json`` report;
    - ``save(out_dir='.')``: write ``NAME_edgetpu.tflite`` and
      ``NAME_edgetpu.log`` (or ``NAME_segment_K_of_N_edgetpu.*``) as the
      command does, atomically, after checking the folder is writable;
      returns the paths of the models written.
    """

    def __init__(self, comp, input_path, input_bytes, elapsed_ms, show_operations):
        self._comp = comp
        self._input = input_path
        self._input_bytes = input_bytes
        self._elapsed = elapsed_ms
        self._show = show_operations
        self.summary = comp.summary()
        self.ops = comp.ops()
        self.models = [comp.write(k) for k in range(self.summary["output_models"])]
        self.model = self.models[0]
        self.memory = {k: self.summary[k] for k in
                       ("parameter_bytes", "on_chip_bytes", "on_chip_remaining_bytes", "off_chip_bytes")}
        self.logs = [self._report(1, ".", k) for k in range(len(self.models))]
        self.log = self.logs[0]

    def paths(self, out_dir="."):
        """(model path, log path) of each output model in out_dir, named as
        ``etpu compile`` names them."""
        stem, n = _stem(self._input), len(self.models)
        suffixes = ["_segment_%d_of_%d_edgetpu" % (k, n) for k in range(n)] if n > 1 else ["_edgetpu"]
        return [(os.path.join(out_dir, stem + s + ".tflite"), os.path.join(out_dir, stem + s + ".log"))
                for s in suffixes]

    def _report(self, kind, out_dir, k=-1):
        out, log = self.paths(out_dir)[max(k, 0)]
        return self._comp.report(kind, self._input, out, log, self._input_bytes, len(self.models[max(k, 0)]),
                                 self._show, self._elapsed, k if len(self.models) > 1 else -1)

    def report(self, out_dir="."):
        """The console text ``etpu compile`` prints (``-s``: the operator
        table too, when compile was given show_operations=True)."""
        return self._report(0, out_dir)

    def json(self, out_dir="."):
        """``etpu compile --json``'s report of this model, parsed."""
        import json
        return json.loads(self._report(2, out_dir))

    def save(self, out_dir="."):
        """Write the model(s) and log(s) into out_dir, as ``etpu compile -o
        out_dir`` writes them (same bytes). OSError (etpu's message) when
        the folder is missing or not writable; nothing is written then."""
        if not os.path.isdir(out_dir):
            raise OSError("etpu: compile: output directory '%s' does not exist" % (out_dir,))
        paths = self.paths(out_dir)
        _etpu.check_writable(paths[0][0])
        logs = [self._report(1, out_dir, k) for k in range(len(self.models))]
        for (mp, lp), data, log in zip(paths, self.models, logs):
            _etpu.write_file_atomic(mp, data)
            _etpu.write_file_atomic(lp, log.encode("utf-8"))
        return [mp for mp, _ in paths]

    def __repr__(self):
        s = self.summary
        return "etpu.CompiledModel(%r: %d of %d ops on the Edge TPU, %d bytes)" % (
            self._input, s["edgetpu_ops"], s["total_ops"], len(self.model))


def compile(model, min_runtime_version=14, intermediate_tensors=None, num_segments=1,
            enable_multiple_subgraphs=False, show_operations=False, name=None):
    """Compile a quantized model for the Edge TPU, as ``etpu compile`` (and
    edgetpu_compiler's flags) does: returns a CompiledModel.

    ``model``: a path or the model's bytes (``name``: the file name its
    outputs take then, default ``model.tflite``). ``min_runtime_version``
    (-m, 10..14), ``intermediate_tensors`` (-i: tensor names, a list or a
    comma-separated string, where the Edge TPU part stops),
    ``num_segments`` (-n, pipeline segments), ``enable_multiple_subgraphs``
    (-a), ``show_operations`` (-s, in ``report()``). The Edge TPU op holds
    etpu's simulation payload: it runs in etpu, not on a physical Edge TPU.
    ValueError with etpu's message when the model cannot be compiled (not
    quantized, dynamic shapes, an unknown -i tensor, ...).

    ``model`` may also be a list of models compiled together (``etpu
    compile A B ...``, co-compilation: on-chip memory goes to the earlier
    ones first); then ``intermediate_tensors`` is None or one entry per
    model, ``name`` None or one name per model, num_segments 1, and a list
    of CompiledModel is returned."""
    several = isinstance(model, (list, tuple))
    models = list(model) if several else [model]
    if several:
        if not models:
            raise ValueError("etpu.compile: no model given")
        if num_segments != 1:
            raise ValueError("etpu.compile: num_segments compiles one model at a time")
        inters = [None] * len(models) if intermediate_tensors is None else list(intermediate_tensors)
        names = [None] * len(models) if name is None else list(name)
        if len(inters) != len(models) or len(names) != len(models):
            raise ValueError("etpu.compile: %d models: give one intermediate_tensors entry and one name per model"
                             % len(models))
    else:
        inters, names = [intermediate_tensors], [name]
    for flag, v, lo, hi in (("min_runtime_version", min_runtime_version, 10, 14), ("num_segments", num_segments, 1, 64)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError("etpu.compile: %s takes %d to %d, not %r" % (flag, lo, hi, v))
    t0 = time.monotonic()
    comps = []
    for m, inter in zip(models, inters):
        if isinstance(inter, str):
            inter = [t for t in inter.split(",") if t]
        comps.append(_etpu._Compilation(m, min_runtime_version, None if inter is None else list(inter),
                                        bool(enable_multiple_subgraphs), num_segments))
    if len(comps) > 1:
        _etpu.cocompile(comps)
    elapsed = (time.monotonic() - t0) * 1e3
    out = []
    for m, comp, nm in zip(models, comps, names):
        if isinstance(m, (bytes, bytearray, memoryview)):
            path, size = nm or "model.tflite", len(m)
        else:
            path = os.fsdecode(m)
            size = os.stat(path).st_size
        out.append(CompiledModel(comp, path, size, elapsed, bool(show_operations)))
    return out if several else out[0]


# ---- quantizing -----------------------------------------------------------

_QUANT_IO = {np.dtype(np.float32): 0, np.dtype(np.int8): 1, np.dtype(np.uint8): 2}
_MAX_SAMPLES = 100000


class QuantizedModel(bytes):
    """The quantized model's bytes (write them to a file as they are), with
    ``report``: a dict of what ``etpu quantize --json`` reports — samples,
    calibration method, per tensor its range, scale, zero point and the SQNR
    of int8 against float on the samples (``tensors``), per graph output its
    SQNR (``outputs``), the refinement's counts (``refine``)."""

    report = None


def _calibration(method):
    if isinstance(method, tuple) and len(method) == 2 and method[0] == "percentile":
        method = "percentile=%r" % (method[1],)
    if method == "minmax":
        return 0, 0.0
    if method == "mse":
        return 2, 0.0
    if isinstance(method, str) and method.startswith("percentile="):
        try:
            p = float(method[len("percentile="):])
        except ValueError:
            p = float("nan")
        if 50.0 < p <= 100.0:
            return 1, p
    raise ValueError("etpu.quantize: calibration must be 'minmax', 'mse' or 'percentile=P' with P in (50, 100], "
                     "not %r" % (method,))


def quantize(model, representative_dataset=None, inference_input_type=np.uint8, inference_output_type=np.uint8,
             allow_float=False, calibration="minmax", gptq=False, bias_correct=False):
    """Post-training int8 quantization of a float model, as ``etpu quantize``
    does it (TensorFlow's converter's rules), on samples given the way
    ``TFLiteConverter.representative_dataset`` takes them: a callable
    returning an iterator of lists of numpy arrays, one float32 array per
    model input, in input order::

        def representative_dataset():
            for x in samples:
                yield [x[np.newaxis].astype(np.float32)]
        q = etpu.quantize("model.tflite", representative_dataset)
        open("model_int8.tflite", "wb").write(q)

    ``model``: a path or the model's bytes. ``inference_input_type`` /
    ``inference_output_type``: np.float32, np.int8 or np.uint8 (one type for
    both). ``allow_float``: keep ops that cannot be quantized in float
    (False: ValueError listing them). ``calibration``: 'minmax' (the
    default, TensorFlow's), 'percentile=P' or 'mse'. ``gptq``,
    ``bias_correct``: etpu's refinements (see the README). Returns a
    QuantizedModel (bytes, with ``report``): the bytes ``etpu quantize
    --calib DIR`` writes for the same samples saved as .npy files.

    Samples must have the input's shape (leading 1s aside) and dtype float32;
    a misfit, an empty dataset (unless the model records its ranges) or a
    dataset that raises gives ValueError naming the sample."""
    types = []
    for what, t in (("inference_input_type", inference_input_type), ("inference_output_type", inference_output_type)):
        try:
            d = np.dtype(t)
        except TypeError:
            d = None
        if d not in _QUANT_IO:
            raise ValueError("etpu.quantize: %s must be np.float32, np.int8 or np.uint8, not %r" % (what, t))
        types.append(_QUANT_IO[d])
    if types[0] != types[1]:
        raise ValueError("etpu.quantize: inference_input_type and inference_output_type differ (%s, %s); etpu "
                         "gives inputs and outputs one type" % (np.dtype(inference_input_type).name,
                                                                np.dtype(inference_output_type).name))
    method, percentile = _calibration(calibration)
    samples = []
    if representative_dataset is not None:
        if not callable(representative_dataset):
            raise ValueError("etpu.quantize: representative_dataset must be a callable returning an iterator of "
                             "lists of numpy arrays (as TFLiteConverter takes it), not %s"
                             % type(representative_dataset).__name__)
        k = 0
        try:
            it = iter(representative_dataset())
            for k, sample in enumerate(it):
                if k >= _MAX_SAMPLES:
                    raise ValueError("etpu.quantize: representative_dataset gave more than %d samples" % _MAX_SAMPLES)
                samples.append(sample)
        except ValueError as e:
            if str(e).startswith("etpu.quantize:"):
                raise
            raise ValueError("etpu.quantize: representative_dataset raised at sample %d: %s: %s"
                             % (len(samples), type(e).__name__, e)) from e
        except Exception as e:
            raise ValueError("etpu.quantize: representative_dataset raised at sample %d: %s: %s"
                             % (len(samples), type(e).__name__, e)) from e
    data, report = _etpu.quantize(model, samples, types[0], bool(allow_float), method, percentile, bool(gptq),
                                  bool(bias_correct))
    q = QuantizedModel(data)
    q.report = report
    return q
