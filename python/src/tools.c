/*
 * tools.c — compiling, quantizing and on-device learning for etpu._etpu:
 * the library calls `etpu compile`, `etpu quantize`, `etpu imprint` and
 * `etpu train` make (tools/etpu/), in the same order and with the same
 * options, so that the Python package writes the bytes the command writes.
 *
 *  - _Compilation(model, ...) holds an open model and its etpu_compilation:
 *    the per-op mapping, the summary (memory figures), each output model's
 *    bytes and the reports (console text, .log, JSON) for the file names the
 *    caller gives. etpu.compile (python/etpu/__init__.py) wraps it.
 *  - quantize(model, samples, ...) calibrates on float32 numpy samples,
 *    quantizes, refines (GPTQ, bias correction) and measures as `etpu
 *    quantize --calib` does for .npy samples, and returns the model bytes
 *    and the report.
 *  - _Imprint(model, keep_classes) and _SoftmaxRegression(...) are
 *    etpu_imprint and etpu_softmax_regression; etpu.learn gives them
 *    pycoral's ImprintingEngine and SoftmaxRegression shapes.
 *
 * Every sample, embedding and label from Python is checked here (type,
 * shape, count) and a misfit raises ValueError naming it; long library
 * calls run with the GIL released on memory the call holds references to.
 */
#include "etpy.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Status of a call made without the GIL: raise its message after. */
#define ETPY_NOGIL(st, call)  \
  do {                        \
    Py_BEGIN_ALLOW_THREADS;   \
    (st) = (call);            \
    Py_END_ALLOW_THREADS;     \
  } while (0)

/* A new bytes object from a buffer etpu allocated (freed here). */
static PyObject *take_bytes(void *data, size_t size) {
  PyObject *b = PyBytes_FromStringAndSize(data, (Py_ssize_t)size);
  etpu_free(data);
  return b;
}

/* Serialize a model (etpu_model_write_buffer with flags) as bytes. */
static PyObject *model_bytes(const etpu_model *m, unsigned flags) {
  void *data = NULL;
  size_t size = 0;
  etpu_status st = etpu_model_write_buffer(m, flags, &data, &size);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  return take_bytes(data, size);
}

/* Set d[key] = v and drop the reference to v; -1 on failure (v NULL too). */
static int put(PyObject *d, const char *key, PyObject *v) {
  int rc = v ? PyDict_SetItemString(d, key, v) : -1;
  Py_XDECREF(v);
  return rc;
}

/* A C-contiguous float32 array from obj, exactly `what` checked: its dtype
 * must be float32 (no silent cast: TensorFlow's calibrator refuses other
 * types too) unless cast is set, in which case any real number type is
 * converted; ndim in [min_nd, max_nd]. New reference, or NULL with
 * ValueError naming `what`. */
static PyArrayObject *float_array(PyObject *obj, const char *what, int min_nd, int max_nd, int cast) {
  PyArrayObject *a = (PyArrayObject *)PyArray_FROM_O(obj);
  if (!a) return NULL;
  int t = PyArray_TYPE(a);
  int real = PyTypeNum_ISFLOAT(t) || PyTypeNum_ISINTEGER(t);
  if ((cast && !real) || (!cast && t != NPY_FLOAT32)) {
    PyObject *dn = PyObject_Str((PyObject *)PyArray_DESCR(a));
    PyErr_Format(PyExc_ValueError, "etpu: %s: dtype %s; want %s", what, dn ? PyUnicode_AsUTF8(dn) : "?",
                 cast ? "a real number type (float32)" : "float32 (use .astype(np.float32))");
    Py_XDECREF(dn);
    Py_DECREF(a);
    return NULL;
  }
  if (PyArray_NDIM(a) < min_nd || PyArray_NDIM(a) > max_nd) {
    PyErr_Format(PyExc_ValueError, "etpu: %s: %d dimensions; want %d%s%d", what, PyArray_NDIM(a), min_nd,
                 min_nd == max_nd ? "" : " to ", max_nd);
    Py_DECREF(a);
    return NULL;
  }
  PyArrayObject *c = (PyArrayObject *)PyArray_FROMANY((PyObject *)a, NPY_FLOAT32, 0, 0,
                                                      NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | NPY_ARRAY_FORCECAST);
  Py_DECREF(a);
  return c;
}

/* ---- compiling ------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD
  etpu_model *model;
  etpu_compilation *comp;
} CompObject;

static void comp_dealloc(CompObject *c) {
  etpu_compilation_free(c->comp);
  etpu_model_free(c->model);
  Py_TYPE(c)->tp_free((PyObject *)c);
}

/* _Compilation(model, min_runtime_version, intermediate_tensors (a list of
 * tensor names or None), multiple_subgraphs, num_segments): etpu_compile
 * with the options `etpu compile -m -i -a -n` give it. */
static int comp_init(CompObject *c, PyObject *args, PyObject *kw) {
  static char *names[] = {"model", "min_runtime_version", "intermediate_tensors", "multiple_subgraphs",
                          "num_segments", NULL};
  PyObject *src, *inter = Py_None;
  int min_rt = 14, multi = 0;
  unsigned nseg = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|iOpI", names, &src, &min_rt, &inter, &multi, &nseg)) return -1;
  if (c->model) {
    PyErr_SetString(PyExc_RuntimeError, "etpu: a _Compilation is initialized once");
    return -1;
  }
  if (etpy_open_model(src, &c->model)) return -1;
  PyObject *seq = NULL;
  const char **tn = NULL;
  Py_ssize_t n = 0;
  if (inter != Py_None) {
    if (!(seq = PySequence_Fast(inter, "etpu: intermediate_tensors must be a list of tensor names"))) return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    tn = PyMem_Calloc(n ? (size_t)n : 1, sizeof *tn);
    if (!tn) {
      Py_DECREF(seq);
      PyErr_NoMemory();
      return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
      PyObject *s = PySequence_Fast_GET_ITEM(seq, k);
      if (!PyUnicode_Check(s) || !(tn[k] = PyUnicode_AsUTF8(s))) {
        if (!PyErr_Occurred())
          PyErr_Format(PyExc_ValueError, "etpu: intermediate_tensors[%zd] is %s, not a tensor name", k,
                       Py_TYPE(s)->tp_name);
        PyMem_Free(tn);
        Py_DECREF(seq);
        return -1;
      }
    }
  }
  etpu_compile_options o = {min_rt, (uint32_t)n, tn, multi != 0, nseg};
  etpu_status st;
  ETPY_NOGIL(st, etpu_compile(c->model, &o, &c->comp));
  PyMem_Free(tn);
  Py_XDECREF(seq);
  if (st != ETPU_OK) {
    c->comp = NULL;
    etpy_raise(st, PyExc_ValueError);
    return -1;
  }
  return 0;
}

static int comp_ready(CompObject *c) {
  if (c->comp) return 0;
  PyErr_SetString(PyExc_RuntimeError, "etpu: the _Compilation was not initialized");
  return -1;
}

/* summary() -> dict of etpu_compile_summary. */
static PyObject *comp_summary(CompObject *c, PyObject *unused) {
  (void)unused;
  if (comp_ready(c)) return NULL;
  etpu_compile_summary s;
  etpu_compilation_summary(c->comp, &s);
  return Py_BuildValue("{s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:K,s:K,s:K,s:K}", "total_ops", s.total_ops, "edgetpu_ops",
                       s.edgetpu_ops, "cpu_ops", s.cpu_ops, "edgetpu_subgraphs", s.edgetpu_subgraphs, "output_models",
                       s.output_models, "min_runtime_version", s.min_runtime_version, "required_runtime_version",
                       s.required_runtime_version, "parameter_bytes", (unsigned long long)s.parameter_bytes,
                       "on_chip_bytes", (unsigned long long)s.on_chip_bytes, "on_chip_remaining_bytes",
                       (unsigned long long)s.on_chip_remaining_bytes, "off_chip_bytes",
                       (unsigned long long)s.off_chip_bytes);
}

/* ops() -> one dict per op of the input model (etpu_op_mapping). */
static PyObject *comp_ops(CompObject *c, PyObject *unused) {
  (void)unused;
  if (comp_ready(c)) return NULL;
  uint32_t n = etpu_compilation_op_count(c->comp);
  PyObject *l = PyList_New(0);
  for (uint32_t i = 0; l && i < n; i++) {
    etpu_op_mapping m;
    etpu_status st = etpu_compilation_op(c->comp, i, &m);
    if (st != ETPU_OK) {
      Py_DECREF(l);
      return etpy_raise(st, PyExc_ValueError);
    }
    PyObject *d = Py_BuildValue("{s:I,s:s,s:s,s:i,s:O,s:O,s:i,s:s,s:s,s:i}", "op", m.op, "type", m.op_name, "status",
                                etpu_map_status_text(m.status), "status_code", (int)m.status, "on_edgetpu",
                                m.on_edgetpu ? Py_True : Py_False, "before_cut", m.before_cut ? Py_True : Py_False,
                                "segment", m.segment, "reason", m.reason, "fix", m.fix, "blocked_by", m.blocked_by);
    if (!d || PyList_Append(l, d) != 0) Py_CLEAR(l);
    Py_XDECREF(d);
  }
  return l;
}

/* write(k) -> bytes of output model k. */
static PyObject *comp_write(CompObject *c, PyObject *args) {
  unsigned k;
  if (!PyArg_ParseTuple(args, "I", &k) || comp_ready(c)) return NULL;
  void *data = NULL;
  size_t size = 0;
  etpu_status st = etpu_compilation_write(c->comp, k, &data, &size);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  return take_bytes(data, size);
}

/* report(kind, input_path, output_path, log_path, input_bytes, output_bytes,
 * show_operations, elapsed_ms, model_filter) -> str (etpu_compilation_report;
 * kind 0 console, 1 .log, 2 JSON). */
static PyObject *comp_report(CompObject *c, PyObject *args) {
  int kind, show, filter;
  const char *in, *out, *log;
  unsigned long long inb, outb;
  double ms;
  if (!PyArg_ParseTuple(args, "isssKKpdi", &kind, &in, &out, &log, &inb, &outb, &show, &ms, &filter) ||
      comp_ready(c))
    return NULL;
  if (kind < ETPU_REPORT_CONSOLE || kind > ETPU_REPORT_JSON) {
    PyErr_Format(PyExc_ValueError, "etpu: report kind %d is not 0 (console), 1 (log) or 2 (JSON)", kind);
    return NULL;
  }
  etpu_report_options o = {in, out, log, inb, outb, show != 0, ms, filter};
  char *text = NULL;
  etpu_status st = etpu_compilation_report(c->comp, (etpu_report_kind)kind, &o, &text);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  PyObject *s = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
  etpu_free(text);
  return s;
}

static PyMethodDef comp_methods[] = {
    {"summary", (PyCFunction)comp_summary, METH_NOARGS, "Counts and memory figures (etpu_compile_summary)."},
    {"ops", (PyCFunction)comp_ops, METH_NOARGS, "Per-op mapping: op, type, status, reason, fix, ..."},
    {"write", (PyCFunction)comp_write, METH_VARARGS, "write(k) -> bytes of output model k."},
    {"report", (PyCFunction)comp_report, METH_VARARGS, "report(kind, in, out, log, in_bytes, out_bytes, show, ms, k)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CompType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "etpu._etpu._Compilation",
    .tp_basicsize = sizeof(CompObject),
    .tp_dealloc = (destructor)comp_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A model compiled for the Edge TPU; use etpu.compile.",
    .tp_methods = comp_methods,
    .tp_init = (initproc)comp_init,
    .tp_new = PyType_GenericNew,
};

/* cocompile(list of _Compilation): share on-chip memory between models
 * compiled together, the earlier ones cached first (etpu compile A B ...). */
static PyObject *mod_cocompile(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *list;
  if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &list)) return NULL;
  Py_ssize_t n = PyList_GET_SIZE(list);
  etpu_compilation **v = PyMem_Calloc(n ? (size_t)n : 1, sizeof *v);
  if (!v) return PyErr_NoMemory();
  for (Py_ssize_t k = 0; k < n; k++) {
    PyObject *c = PyList_GET_ITEM(list, k);
    if (!PyObject_TypeCheck(c, &CompType) || comp_ready((CompObject *)c)) {
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_ValueError, "etpu: cocompile: item %zd is %s, not a _Compilation", k, Py_TYPE(c)->tp_name);
      PyMem_Free(v);
      return NULL;
    }
    v[k] = ((CompObject *)c)->comp;
  }
  etpu_compilation_cocompile(v, (uint32_t)n);
  PyMem_Free(v);
  Py_RETURN_NONE;
}

/* ---- quantizing ----------------------------------------------------------- */

/* Whether an array's shape is the tensor's, leading 1s aside (the rule
 * etpu_tensor_load applies to .npy samples). */
static int same_shape(PyArrayObject *a, const etpu_tensor_info *t) {
  int na = PyArray_NDIM(a), nt = (int)t->rank, i = 0, j = 0;
  const npy_intp *d = PyArray_DIMS(a);
  while (i < na - 1 && d[i] == 1 && na - i > nt - j) i++;
  while (j < nt - 1 && t->shape[j] == 1 && nt - j > na - i) j++;
  if (na - i != nt - j) return 0;
  for (; i < na; i++, j++)
    if (d[i] != t->shape[j]) return 0;
  return 1;
}

/* The shape of a tensor as a Python string "[1, 224, 224, 3]". */
static PyObject *shape_text(const etpu_tensor_info *t) {
  PyObject *l = PyList_New(t->rank);
  for (uint32_t k = 0; l && k < t->rank; k++) PyList_SET_ITEM(l, k, PyLong_FromLong(t->shape[k]));
  PyObject *s = l ? PyObject_Str(l) : NULL;
  Py_XDECREF(l);
  return s;
}

/* The quantization state: what the CLI's `state` holds, for one call. */
typedef struct qstate {
  etpu_model *model, *qmodel;
  etpu_calibration *cal;
  uint32_t ninputs;
  size_t nsamples;
  const float **samples; /* nsamples x ninputs pointers into arrays `held` references */
  size_t *bytes;         /* per input */
} qstate;

/* Run every sample through the calibration (pass 0), the histograms (1)
 * or the comparison with the quantized model (2), without the GIL. */
static etpu_status each_sample(qstate *q, int pass, size_t *failed) {
  etpu_status st = ETPU_OK;
  for (size_t k = 0; k < q->nsamples && st == ETPU_OK; k++) {
    const float *const *in = q->samples + k * q->ninputs;
    st = pass == 0   ? etpu_calibration_run(q->cal, in, q->bytes, q->ninputs)
         : pass == 1 ? etpu_calibration_run_histogram(q->cal, in, q->bytes, q->ninputs)
                     : etpu_calibration_compare(q->cal, q->qmodel, in, q->bytes, q->ninputs);
    *failed = k;
  }
  return st;
}

/* The report: per tensor with a range its min, max, scale, zero point and
 * SQNR (None when not measured); per graph output its SQNR; the refinement's
 * counts. */
static PyObject *quant_report(const qstate *q, int method, float percentile, const etpu_refine_options *ro,
                              const etpu_refine_report *rr) {
  static const char *const methods[] = {"minmax", "percentile", "mse"};
  PyObject *d = PyDict_New(), *tensors = PyList_New(0), *outs = PyList_New(0);
  if (!d || !tensors || !outs) goto fail;
  for (uint32_t t = 0; t < etpu_model_tensor_count(q->model, 0); t++) {
    float mn, mx;
    etpu_tensor_info qi;
    if (!etpu_calibration_range(q->cal, t, &mn, &mx) || etpu_model_tensor(q->qmodel, 0, t, &qi) != ETPU_OK) continue;
    double sq = NAN;
    PyObject *sqo = etpu_calibration_sqnr(q->cal, t, &sq) ? PyFloat_FromDouble(sq) : (Py_INCREF(Py_None), Py_None);
    PyObject *e = Py_BuildValue("{s:I,s:s,s:d,s:d,s:d,s:L,s:N}", "index", t, "name", qi.name, "min", (double)mn, "max",
                                (double)mx, "scale", qi.quant_count ? (double)qi.scale[0] : 0.0, "zero_point",
                                qi.quant_count ? (long long)qi.zero_point[0] : 0LL, "sqnr_db", sqo);
    int bad = !e || PyList_Append(tensors, e) != 0;
    Py_XDECREF(e);
    if (bad) goto fail;
  }
  for (uint32_t i = 0; i < etpu_model_output_count(q->model, 0); i++) {
    double sq;
    int32_t t = etpu_model_output(q->model, 0, i);
    if (t < 0 || !etpu_calibration_sqnr(q->cal, (uint32_t)t, &sq)) continue;
    PyObject *e = Py_BuildValue("{s:I,s:d}", "output", i, "sqnr_db", sq);
    int bad = !e || PyList_Append(outs, e) != 0;
    Py_XDECREF(e);
    if (bad) goto fail;
  }
  if (put(d, "samples", PyLong_FromUnsignedLong(etpu_calibration_samples(q->cal))) ||
      put(d, "calibration", PyUnicode_FromString(methods[method])) ||
      put(d, "percentile", method == ETPU_CALIB_PERCENTILE ? PyFloat_FromDouble(percentile) : (Py_INCREF(Py_None), Py_None)) ||
      put(d, "recorded_ranges", PyLong_FromUnsignedLong(etpu_calibration_recorded(q->cal))) ||
      put(d, "refine", Py_BuildValue("{s:O,s:O,s:I,s:I,s:I}", "gptq", ro->gptq ? Py_True : Py_False, "bias_correct",
                                     ro->bias_correct ? Py_True : Py_False, "rounded", rr->rounded,
                                     "rounded_to_nearest", rr->rounded_to_nearest, "corrected", rr->corrected)) ||
      PyDict_SetItemString(d, "tensors", tensors) || PyDict_SetItemString(d, "outputs", outs))
    goto fail;
  Py_DECREF(tensors);
  Py_DECREF(outs);
  return d;
fail:
  Py_XDECREF(d);
  Py_XDECREF(tensors);
  Py_XDECREF(outs);
  return NULL;
}

/* Check and convert the samples (a list of sequences, one float32 array per
 * graph input) into q; the arrays go to `held`. 0, or -1 with ValueError. */
static int take_samples(qstate *q, PyObject *samples, PyObject *held) {
  etpu_tensor_info in[16];
  for (uint32_t i = 0; i < q->ninputs; i++) {
    etpu_status st = etpu_model_tensor(q->model, 0, (uint32_t)etpu_model_input(q->model, 0, i), &in[i]);
    if (st != ETPU_OK) {
      etpy_raise(st, PyExc_ValueError);
      return -1;
    }
    size_t b = sizeof(float);
    for (uint32_t d = 0; d < in[i].rank; d++) b *= in[i].shape[d] > 0 ? (size_t)in[i].shape[d] : 0u;
    if (in[i].type != ETPU_FLOAT32 || b == 0) {
      PyErr_Format(PyExc_ValueError, "etpu: %s: input %u '%s' is %s%s; calibration feeds float32 inputs of fixed shape",
                   etpu_model_label(q->model), i, in[i].name, etpu_dtype_name(in[i].type),
                   b ? "" : " with a dynamic or empty shape");
      return -1;
    }
    q->bytes[i] = b;
  }
  for (size_t k = 0; k < q->nsamples; k++) {
    PyObject *s = PyList_GET_ITEM(samples, (Py_ssize_t)k);
    PyObject *seq = PyList_Check(s) || PyTuple_Check(s) ? PySequence_Fast(s, "") : NULL;
    if (!seq) {
      PyErr_Format(PyExc_ValueError,
                   "etpu: representative_dataset: sample %zu is %s; want a list of %u numpy array(s), one per model "
                   "input (as TFLiteConverter takes them)",
                   k, Py_TYPE(s)->tp_name, q->ninputs);
      return -1;
    }
    if (PySequence_Fast_GET_SIZE(seq) != (Py_ssize_t)q->ninputs) {
      PyErr_Format(PyExc_ValueError,
                   "etpu: representative_dataset: sample %zu holds %zd array(s); the model has %u input(s): want a "
                   "list of one numpy array per input",
                   k, PySequence_Fast_GET_SIZE(seq), q->ninputs);
      Py_DECREF(seq);
      return -1;
    }
    for (uint32_t i = 0; i < q->ninputs; i++) {
      char what[96];
      snprintf(what, sizeof what, "representative_dataset: sample %zu, input %u", k, i);
      PyArrayObject *a = float_array(PySequence_Fast_GET_ITEM(seq, i), what, 0, NPY_MAXDIMS, 0);
      if (a && !same_shape(a, &in[i])) {
        PyObject *sh = PyObject_GetAttrString((PyObject *)a, "shape");
        PyObject *want = shape_text(&in[i]), *got = sh ? PyObject_Str(sh) : NULL;
        Py_XDECREF(sh);
        PyErr_Format(PyExc_ValueError, "etpu: %s '%s': shape %U; the model's input is %U", what, in[i].name,
                     got ? got : Py_None, want ? want : Py_None);
        Py_XDECREF(want);
        Py_XDECREF(got);
        Py_CLEAR(a);
      }
      if (!a || PyList_Append(held, (PyObject *)a) != 0) {
        Py_XDECREF(a);
        Py_DECREF(seq);
        return -1;
      }
      q->samples[k * q->ninputs + i] = PyArray_DATA(a);
      Py_DECREF(a); /* `held` keeps it */
    }
    Py_DECREF(seq);
  }
  return 0;
}

/* quantize(model, samples, io, allow_float, method, percentile, gptq,
 * bias_correct) -> (bytes, report): `etpu quantize --calib` on .npy samples
 * (calibrate, choose ranges, etpu_quantize, refine, compare, write compact). */
static PyObject *mod_quantize(PyObject *self, PyObject *args, PyObject *kw) {
  (void)self;
  static char *names[] = {"model", "samples", "io", "allow_float", "method", "percentile", "gptq", "bias_correct", NULL};
  PyObject *src, *samples;
  int io = ETPU_QUANT_IO_UINT8, allow_float = 0, method = ETPU_CALIB_MINMAX, gptq = 0, bias = 0;
  float pc = 0.0f;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO!|ipifpp", names, &src, &PyList_Type, &samples, &io, &allow_float,
                                   &method, &pc, &gptq, &bias))
    return NULL;
  if (io < ETPU_QUANT_IO_FLOAT || io > ETPU_QUANT_IO_UINT8 || method < ETPU_CALIB_MINMAX || method > ETPU_CALIB_MSE) {
    PyErr_Format(PyExc_ValueError, "etpu: quantize: io %d or method %d out of range", io, method);
    return NULL;
  }
  qstate q;
  memset(&q, 0, sizeof q);
  PyObject *held = PyList_New(0), *result = NULL;
  etpu_status st = ETPU_OK;
  void *qbytes = NULL;
  size_t qsize = 0, failed = 0;
  etpu_refine_options ro = {gptq != 0, bias != 0};
  etpu_refine_report rr = {0, 0, 0};
  if (!held || etpy_open_model(src, &q.model)) goto done;
  if ((st = etpu_calibration_create(q.model, &q.cal)) != ETPU_OK) goto fail;
  q.ninputs = etpu_model_input_count(q.model, 0);
  q.nsamples = (size_t)PyList_GET_SIZE(samples);
  if (q.ninputs == 0 || q.ninputs > 16) {
    PyErr_Format(PyExc_ValueError, "etpu: %s has %u inputs; etpu quantizes models of 1 to 16 inputs",
                 etpu_model_label(q.model), q.ninputs);
    goto done;
  }
  if (!q.nsamples && !etpu_calibration_recorded(q.cal)) {
    PyErr_Format(PyExc_ValueError,
                 "etpu: quantize: representative_dataset gave no samples, and %s records no calibrated ranges: give "
                 "samples",
                 etpu_model_label(q.model));
    goto done;
  }
  if (!q.nsamples && (gptq || bias)) {
    PyErr_SetString(PyExc_ValueError, "etpu: quantize: gptq and bias_correct need samples (representative_dataset)");
    goto done;
  }
  q.bytes = PyMem_Calloc(q.ninputs, sizeof *q.bytes);
  q.samples = PyMem_Calloc(q.nsamples * q.ninputs + 1, sizeof *q.samples);
  if (!q.bytes || !q.samples) {
    PyErr_NoMemory();
    goto done;
  }
  if (take_samples(&q, samples, held)) goto done;
  Py_BEGIN_ALLOW_THREADS;
  st = each_sample(&q, 0, &failed);
  if (st == ETPU_OK && method != ETPU_CALIB_MINMAX) st = each_sample(&q, 1, &failed);
  Py_END_ALLOW_THREADS;
  if (st != ETPU_OK) {
    PyErr_Format(PyExc_ValueError, "etpu: quantize: sample %zu: %s", failed, etpu_errmsg());
    goto done;
  }
  if ((st = etpu_calibration_set_method(q.cal, (etpu_calib_method)method, pc)) != ETPU_OK) goto fail;
  etpu_quantize_options qo = {(etpu_quant_io)io, allow_float != 0};
  ETPY_NOGIL(st, etpu_quantize(q.model, q.cal, &qo, &q.qmodel));
  if (st != ETPU_OK) goto fail;
  if (gptq || bias) {
    /* samples[k][i]: sample k's input pointers. */
    const float *const **per = PyMem_Calloc(q.nsamples, sizeof *per);
    if (!per) {
      PyErr_NoMemory();
      goto done;
    }
    for (size_t k = 0; k < q.nsamples; k++) per[k] = q.samples + k * q.ninputs;
    ETPY_NOGIL(st, etpu_quantize_refine(q.cal, q.qmodel, &ro, (uint32_t)q.nsamples, per, q.bytes, q.ninputs, &rr));
    PyMem_Free(per);
    if (st != ETPU_OK) goto fail;
  }
  Py_BEGIN_ALLOW_THREADS;
  st = each_sample(&q, 2, &failed);
  Py_END_ALLOW_THREADS;
  if (st != ETPU_OK) {
    PyErr_Format(PyExc_ValueError, "etpu: quantize: comparing sample %zu: %s", failed, etpu_errmsg());
    goto done;
  }
  if ((st = etpu_model_write_buffer(q.qmodel, ETPU_WRITE_COMPACT, &qbytes, &qsize)) != ETPU_OK) goto fail;
  PyObject *report = quant_report(&q, method, pc, &ro, &rr);
  PyObject *b = report ? PyBytes_FromStringAndSize(qbytes, (Py_ssize_t)qsize) : NULL;
  if (b) result = PyTuple_Pack(2, b, report);
  Py_XDECREF(b);
  Py_XDECREF(report);
  goto done;
fail:
  etpy_raise(st, PyExc_ValueError);
done:
  etpu_free(qbytes);
  PyMem_Free(q.samples);
  PyMem_Free(q.bytes);
  etpu_calibration_free(q.cal);
  etpu_model_free(q.qmodel);
  etpu_model_free(q.model);
  Py_XDECREF(held);
  return result;
}

/* ---- weight imprinting ---------------------------------------------------- */

typedef struct {
  PyObject_HEAD
  etpu_imprint *im;
} ImprintObject;

static void imprint_dealloc(ImprintObject *o) {
  etpu_imprint_free(o->im);
  Py_TYPE(o)->tp_free((PyObject *)o);
}

/* _Imprint(model, keep_classes): etpu_imprint_create on the model (a path
 * or its bytes), which it copies. */
static int imprint_init(ImprintObject *o, PyObject *args, PyObject *kw) {
  static char *names[] = {"model", "keep_classes", NULL};
  PyObject *src;
  int keep = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", names, &src, &keep)) return -1;
  if (o->im) {
    PyErr_SetString(PyExc_RuntimeError, "etpu: an _Imprint is initialized once");
    return -1;
  }
  etpu_model *m = NULL;
  if (etpy_open_model(src, &m)) return -1;
  etpu_status st = etpu_imprint_create(m, keep != 0, &o->im);
  etpu_model_free(m);
  if (st != ETPU_OK) {
    o->im = NULL;
    etpy_raise(st, PyExc_ValueError);
    return -1;
  }
  return 0;
}

static int imprint_ready(ImprintObject *o) {
  if (o->im) return 0;
  PyErr_SetString(PyExc_RuntimeError, "etpu: the _Imprint was not initialized");
  return -1;
}

static PyObject *imprint_info(ImprintObject *o, PyObject *unused) {
  (void)unused;
  if (imprint_ready(o)) return NULL;
  return Py_BuildValue("{s:I,s:I}", "embedding_dim", etpu_imprint_embedding_dim(o->im), "classes",
                       etpu_imprint_class_count(o->im));
}

/* train(embedding, class_id): any real array of D values (flattened). */
static PyObject *imprint_train(ImprintObject *o, PyObject *args) {
  PyObject *e;
  long long cls;
  if (!PyArg_ParseTuple(args, "OL", &e, &cls) || imprint_ready(o)) return NULL;
  if (cls < 0 || cls > (long long)UINT32_MAX) {
    PyErr_Format(PyExc_ValueError, "etpu: ImprintingEngine.train: class_id %lld is negative or too large", cls);
    return NULL;
  }
  PyArrayObject *a = float_array(e, "ImprintingEngine.train: embedding", 0, NPY_MAXDIMS, 1);
  if (!a) return NULL;
  npy_intp n = PyArray_SIZE(a);
  etpu_status st = n > (npy_intp)UINT32_MAX ? ETPU_INVALID_ARGUMENT
                                            : etpu_imprint_train(o->im, PyArray_DATA(a), (uint32_t)n, (uint32_t)cls);
  Py_DECREF(a);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  Py_RETURN_NONE;
}

/* model() / extractor() -> bytes, as `etpu imprint` writes them. */
static PyObject *imprint_serialize(ImprintObject *o, int extractor) {
  if (imprint_ready(o)) return NULL;
  etpu_model *m = NULL;
  etpu_status st = extractor ? etpu_imprint_extractor(o->im, &m) : etpu_imprint_build(o->im, &m);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  PyObject *b = model_bytes(m, 0);
  etpu_model_free(m);
  return b;
}
static PyObject *imprint_model(ImprintObject *o, PyObject *unused) {
  (void)unused;
  return imprint_serialize(o, 0);
}
static PyObject *imprint_extractor(ImprintObject *o, PyObject *unused) {
  (void)unused;
  return imprint_serialize(o, 1);
}

static PyObject *imprint_trainable(ImprintObject *o, PyObject *args) {
  unsigned c;
  if (!PyArg_ParseTuple(args, "I", &c) || imprint_ready(o)) return NULL;
  return PyBool_FromLong(etpu_imprint_class_trainable(o->im, c));
}

static PyMethodDef imprint_methods[] = {
    {"info", (PyCFunction)imprint_info, METH_NOARGS, "embedding_dim and classes."},
    {"train", (PyCFunction)imprint_train, METH_VARARGS, "train(embedding, class_id)."},
    {"model", (PyCFunction)imprint_model, METH_NOARGS, "The imprinted model's bytes."},
    {"extractor", (PyCFunction)imprint_extractor, METH_NOARGS, "The embedding extractor's bytes."},
    {"trainable", (PyCFunction)imprint_trainable, METH_VARARGS, "Whether class c may be imprinted."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ImprintType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "etpu._etpu._Imprint",
    .tp_basicsize = sizeof(ImprintObject),
    .tp_dealloc = (destructor)imprint_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Weight imprinting (etpu_imprint); use etpu.learn.ImprintingEngine.",
    .tp_methods = imprint_methods,
    .tp_init = (initproc)imprint_init,
    .tp_new = PyType_GenericNew,
};

/* ---- softmax regression --------------------------------------------------- */

typedef struct {
  PyObject_HEAD
  etpu_softmax_regression *sr;
  uint32_t dim, classes;
} SRObject;

static void sr_dealloc(SRObject *o) {
  etpu_softmax_regression_free(o->sr);
  Py_TYPE(o)->tp_free((PyObject *)o);
}

/* _SoftmaxRegression(feature_dim, num_classes, weight_scale, reg, seed). */
static int sr_init(SRObject *o, PyObject *args, PyObject *kw) {
  static char *names[] = {"feature_dim", "num_classes", "weight_scale", "reg", "seed", NULL};
  long long d, c;
  double ws = 0.01, reg = 0.0;
  unsigned long long seed = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "LL|ddK", names, &d, &c, &ws, &reg, &seed)) return -1;
  if (o->sr) {
    PyErr_SetString(PyExc_RuntimeError, "etpu: a _SoftmaxRegression is initialized once");
    return -1;
  }
  if (d < 1 || d > (long long)UINT32_MAX || c < 2 || c > (long long)UINT32_MAX) {
    PyErr_Format(PyExc_ValueError,
                 "etpu: SoftmaxRegression: feature_dim %lld and num_classes %lld: need at least 1 feature and 2 classes",
                 d, c);
    return -1;
  }
  etpu_sr_options so;
  etpu_softmax_regression_default_options((uint32_t)d, (uint32_t)c, &so);
  so.weight_scale = (float)ws;
  so.l2_reg = (float)reg;
  so.seed = seed;
  etpu_status st = etpu_softmax_regression_create(&so, &o->sr);
  if (st != ETPU_OK) {
    o->sr = NULL;
    etpy_raise(st, PyExc_ValueError);
    return -1;
  }
  o->dim = (uint32_t)d;
  o->classes = (uint32_t)c;
  return 0;
}

static int sr_ready(SRObject *o) {
  if (o->sr) return 0;
  PyErr_SetString(PyExc_RuntimeError, "etpu: the _SoftmaxRegression was not initialized");
  return -1;
}

/* Check an N x D matrix and N labels; new references in *xo and *lo. */
static int sr_data(SRObject *o, PyObject *x, PyObject *labels, const char *what, PyArrayObject **xo,
                   PyArrayObject **lo) {
  char name[96];
  snprintf(name, sizeof name, "%s data", what);
  PyArrayObject *a = float_array(x, name, 2, 2, 1);
  if (!a) return -1;
  PyArrayObject *l = (PyArrayObject *)PyArray_FROM_O(labels);
  if (l && (!PyTypeNum_ISINTEGER(PyArray_TYPE(l)) || PyArray_NDIM(l) != 1)) {
    PyErr_Format(PyExc_ValueError, "etpu: %s labels: want a 1-D array of integer class ids", what);
    Py_CLEAR(l);
  }
  PyArrayObject *l64 = l ? (PyArrayObject *)PyArray_FROMANY((PyObject *)l, NPY_INT64, 1, 1,
                                                             NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED)
                         : NULL;
  Py_XDECREF(l);
  if (!l64) {
    Py_DECREF(a);
    return -1;
  }
  npy_intp n = PyArray_DIM(a, 0);
  if (PyArray_DIM(a, 1) != (npy_intp)o->dim || PyArray_DIM(l64, 0) != n) {
    PyErr_Format(PyExc_ValueError, "etpu: %s: data is %zd x %zd and labels %zd; want N x %u (feature_dim) and N", what,
                 (Py_ssize_t)n, (Py_ssize_t)PyArray_DIM(a, 1), (Py_ssize_t)PyArray_DIM(l64, 0), o->dim);
    Py_DECREF(a);
    Py_DECREF(l64);
    return -1;
  }
  const int64_t *lv = PyArray_DATA(l64);
  for (npy_intp i = 0; i < n; i++)
    if (lv[i] < 0 || lv[i] >= (int64_t)o->classes) {
      PyErr_Format(PyExc_ValueError, "etpu: %s labels[%zd] is %lld, not a class (0..%u)", what, (Py_ssize_t)i,
                   (long long)lv[i], o->classes - 1);
      Py_DECREF(a);
      Py_DECREF(l64);
      return -1;
    }
  *xo = a;
  *lo = l64;
  return 0;
}

/* set_data(data_train, labels_train, data_val, labels_val): the examples
 * the next train() samples from (any held before are dropped). */
static PyObject *sr_set_data(SRObject *o, PyObject *args) {
  PyObject *x[2], *l[2];
  if (!PyArg_ParseTuple(args, "OOOO", &x[0], &l[0], &x[1], &l[1]) || sr_ready(o)) return NULL;
  PyArrayObject *xa[2] = {NULL, NULL}, *la[2] = {NULL, NULL};
  static const char *const what[2] = {"train_with_sgd: data_train / labels_train",
                                      "train_with_sgd: data_val / labels_val"};
  for (int v = 0; v < 2; v++)
    if (sr_data(o, x[v], l[v], what[v], &xa[v], &la[v])) goto fail;
  etpu_softmax_regression_clear(o->sr);
  for (int v = 0; v < 2; v++) {
    const float *xv = PyArray_DATA(xa[v]);
    const int64_t *lv = PyArray_DATA(la[v]);
    for (npy_intp i = 0; i < PyArray_DIM(xa[v], 0); i++) {
      etpu_status st = etpu_softmax_regression_add(o->sr, xv + (size_t)i * o->dim, o->dim, (uint32_t)lv[i], v == 1);
      if (st != ETPU_OK) {
        etpu_softmax_regression_clear(o->sr);
        etpy_raise(st, PyExc_ValueError);
        goto fail;
      }
    }
  }
  for (int v = 0; v < 2; v++) {
    Py_DECREF(xa[v]);
    Py_DECREF(la[v]);
  }
  Py_RETURN_NONE;
fail:
  for (int v = 0; v < 2; v++) {
    Py_XDECREF(xa[v]);
    Py_XDECREF(la[v]);
  }
  return NULL;
}

/* Progress lines as libcoral prints them, through Python's print (sys.stdout). */
typedef struct sr_print {
  PyThreadState **save; /* the released thread state, to take the GIL back */
  int failed;
} sr_print;

static bool sr_progress(void *user, const etpu_sr_progress *p) {
  sr_print *pr = user;
  PyEval_RestoreThread(*pr->save);
  char line[256];
  int n = snprintf(line, sizeof line, "Iteration %u/%u: loss %.6f, train accuracy %.4f", p->iteration, p->iterations,
                   (double)p->batch_loss, (double)p->train_accuracy);
  if (p->val_accuracy >= 0 && n > 0 && (size_t)n < sizeof line)
    snprintf(line + n, sizeof line - (size_t)n, ", validation accuracy %.4f", (double)p->val_accuracy);
  if (PySys_WriteStdout("%s\n", line), PyErr_Occurred()) pr->failed = 1;
  *pr->save = PyEval_SaveThread();
  return !pr->failed;
}

/* train(num_iter, learning_rate, batch_size, print_every). */
static PyObject *sr_train(SRObject *o, PyObject *args) {
  long long iters, batch, every;
  double lr;
  if (!PyArg_ParseTuple(args, "LdLL", &iters, &lr, &batch, &every) || sr_ready(o)) return NULL;
  if (iters < 0 || iters > UINT32_MAX || batch < 1 || batch > UINT32_MAX || !(lr > 0) || !isfinite(lr)) {
    PyErr_Format(PyExc_ValueError,
                 "etpu: train_with_sgd: num_iter %lld (>= 0), batch_size %lld (>= 1) and learning_rate %g (> 0) "
                 "out of range",
                 iters, batch, lr);
    return NULL;
  }
  if (iters == 0) Py_RETURN_NONE;
  PyThreadState *save = NULL;
  sr_print pr = {&save, 0};
  etpu_sr_train_options t = {(uint32_t)iters, (uint32_t)batch, (float)lr,
                             every > 0 ? (uint32_t)(every > UINT32_MAX ? UINT32_MAX : every) : 0,
                             every > 0 ? sr_progress : NULL, &pr};
  save = PyEval_SaveThread();
  etpu_status st = etpu_softmax_regression_train(o->sr, &t);
  PyEval_RestoreThread(save);
  if (pr.failed) return NULL;
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  Py_RETURN_NONE;
}

/* accuracy(data, labels) -> fraction of rows whose largest logit is their label. */
static PyObject *sr_accuracy(SRObject *o, PyObject *args) {
  PyObject *x, *l;
  PyArrayObject *xa, *la;
  if (!PyArg_ParseTuple(args, "OO", &x, &l) || sr_ready(o) || sr_data(o, x, l, "get_accuracy", &xa, &la)) return NULL;
  npy_intp n = PyArray_DIM(xa, 0), right = 0;
  const float *xv = PyArray_DATA(xa);
  const int64_t *lv = PyArray_DATA(la);
  etpu_status st = ETPU_OK;
  for (npy_intp i = 0; i < n && st == ETPU_OK; i++) {
    uint32_t c = 0;
    st = etpu_softmax_regression_predict(o->sr, xv + (size_t)i * o->dim, o->dim, NULL, &c);
    right += st == ETPU_OK && (int64_t)c == lv[i];
  }
  Py_DECREF(xa);
  Py_DECREF(la);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  if (n == 0) {
    PyErr_SetString(PyExc_ValueError, "etpu: get_accuracy: no examples");
    return NULL;
  }
  return PyFloat_FromDouble((double)right / (double)n);
}

/* append(extractor) -> bytes: the extractor with the trained layer, as
 * `etpu train` writes it. */
static PyObject *sr_append(SRObject *o, PyObject *args) {
  PyObject *src;
  if (!PyArg_ParseTuple(args, "O", &src) || sr_ready(o)) return NULL;
  etpu_model *m = NULL, *out = NULL;
  if (etpy_open_model(src, &m)) return NULL;
  etpu_status st = etpu_softmax_regression_append(m, o->sr, &out);
  PyObject *b = st == ETPU_OK ? model_bytes(out, 0) : etpy_raise(st, PyExc_ValueError);
  etpu_model_free(out);
  etpu_model_free(m);
  return b;
}

/* evaluate(validation) -> (loss, accuracy) over the held examples. */
static PyObject *sr_evaluate(SRObject *o, PyObject *args) {
  int val;
  if (!PyArg_ParseTuple(args, "p", &val) || sr_ready(o)) return NULL;
  float loss, acc;
  etpu_status st = etpu_softmax_regression_evaluate(o->sr, val != 0, &loss, &acc);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  return Py_BuildValue("(dd)", (double)loss, (double)acc);
}

static PyMethodDef sr_methods[] = {
    {"set_data", (PyCFunction)sr_set_data, METH_VARARGS, "set_data(x_train, y_train, x_val, y_val)."},
    {"train", (PyCFunction)sr_train, METH_VARARGS, "train(num_iter, learning_rate, batch_size, print_every)."},
    {"accuracy", (PyCFunction)sr_accuracy, METH_VARARGS, "accuracy(data, labels) -> fraction correct."},
    {"append", (PyCFunction)sr_append, METH_VARARGS, "append(extractor) -> bytes of the retrained model."},
    {"evaluate", (PyCFunction)sr_evaluate, METH_VARARGS, "evaluate(validation) -> (loss, accuracy)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SRType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "etpu._etpu._SoftmaxRegression",
    .tp_basicsize = sizeof(SRObject),
    .tp_dealloc = (destructor)sr_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Softmax regression (etpu_softmax_regression); use etpu.learn.SoftmaxRegression.",
    .tp_methods = sr_methods,
    .tp_init = (initproc)sr_init,
    .tp_new = PyType_GenericNew,
};

/* ---- files ---------------------------------------------------------------- */

/* write_file_atomic(path, data): etpu_write_file_atomic. */
static PyObject *mod_write_file(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *fs = NULL;
  Py_buffer b;
  if (!PyArg_ParseTuple(args, "O&y*", PyUnicode_FSConverter, &fs, &b)) return NULL;
  etpu_status st;
  ETPY_NOGIL(st, etpu_write_file_atomic(PyBytes_AS_STRING(fs), b.buf, (size_t)b.len));
  PyBuffer_Release(&b);
  Py_DECREF(fs);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_OSError);
  Py_RETURN_NONE;
}

/* check_writable(path): etpu_file_check_writable. */
static PyObject *mod_check_writable(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *fs = NULL;
  if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &fs)) return NULL;
  etpu_status st = etpu_file_check_writable(PyBytes_AS_STRING(fs));
  Py_DECREF(fs);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_OSError);
  Py_RETURN_NONE;
}

static PyMethodDef tool_functions[] = {
    {"quantize", (PyCFunction)(void (*)(void))mod_quantize, METH_VARARGS | METH_KEYWORDS,
     "quantize(model, samples, io, allow_float, method, percentile, gptq, bias_correct) -> (bytes, report)."},
    {"cocompile", mod_cocompile, METH_VARARGS, "cocompile([_Compilation, ...]): share on-chip memory, in order."},
    {"write_file_atomic", mod_write_file, METH_VARARGS, "write_file_atomic(path, data): temporary file + rename."},
    {"check_writable", mod_check_writable, METH_VARARGS, "check_writable(path): OSError unless it can be written."},
    {NULL, NULL, 0, NULL},
};

/* etpy.h. */
int etpy_tools_init(PyObject *module) {
  static PyTypeObject *const types[] = {&CompType, &ImprintType, &SRType};
  static const char *const names[] = {"_Compilation", "_Imprint", "_SoftmaxRegression"};
  for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
    if (PyType_Ready(types[k]) < 0) return -1;
    Py_INCREF(types[k]);
    if (PyModule_AddObject(module, names[k], (PyObject *)types[k]) < 0) {
      Py_DECREF(types[k]);
      return -1;
    }
  }
  return PyModule_AddFunctions(module, tool_functions);
}
