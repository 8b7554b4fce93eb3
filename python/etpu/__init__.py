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

The C core is ``etpu._etpu`` (python/src/etpumodule.c), linked against
``libetpu.so``. What is here so far: running models (``Interpreter``,
``load_delegate``), images (``read_image``, ``Interpreter.image_to_input``)
and model inspection (``Model``). Compiling, quantizing and on-device
learning from Python come later (issue #14); use the ``etpu`` command for
them meanwhile.
"""

from . import _etpu

__all__ = ["Interpreter", "Delegate", "load_delegate", "read_image", "image_to_input", "Model", "__version__"]

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

    def get_signature_list(self):
        """Not available yet: etpu's C API does not expose a model's
        SignatureDefs. Raises ValueError (use the input/output details)."""
        raise ValueError("etpu cannot read SignatureDefs yet (etpu.h has no API for them); "
                         "use get_input_details() / get_output_details()")

    def get_signature_runner(self, signature_key=None):
        """Not available yet: see get_signature_list. Raises ValueError."""
        self.get_signature_list()

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
    - ``version`` (schema), ``description``, ``subgraphs``.

    ``source`` is a path or the model's bytes. Malformed models raise
    ValueError with etpu's message."""

    def __init__(self, source):
        d = _etpu.model_summary(source)
        self.label = d["label"]
        self.version = d["version"]
        self.subgraphs = d["subgraphs"]
        self.description = d["description"]
        self.ops = d["ops"]
        self.tensors = d["tensors"]
        self.inputs = d["inputs"]
        self.outputs = d["outputs"]
        self._norm = d["normalization"]

    def normalization(self, input_index=0):
        """(mean, std) lists from the model's metadata for graph input
        ``input_index``, or None when the metadata records none."""
        n = self._norm[input_index]
        return None if n is None else (n["mean"], n["std"])

    def __repr__(self):
        return "etpu.Model(%r: %d ops, %d tensors)" % (self.label, len(self.ops), len(self.tensors))
