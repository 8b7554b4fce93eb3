/*
 * etpumodule.c — etpu._etpu, the CPython extension behind `import etpu`:
 * tflite_runtime's Interpreter semantics over libetpu's public C API
 * (include/etpu/etpu.h only), on numpy arrays.
 *
 * The Python package (python/etpu/__init__.py) wraps the types here in the
 * classes users import (Interpreter, Model, load_delegate); everything that
 * touches tensor memory is in this file:
 *
 *  - _Interpreter owns an etpu_model (opened from a path, or from bytes the
 *    object keeps alive), the etpu_interp made from it at construction (so
 *    an op etpu cannot run is refused there, as tflite_runtime refuses it at
 *    load), and after allocate_tensors() one shadow buffer per graph input.
 *    Inputs live in the shadows, not in the arena, because etpu's planner
 *    reuses an input's arena bytes once its last reader has run; TFLite keeps
 *    inputs intact across invokes, so invoke() copies each shadow in first
 *    (a memcpy of the input, about 0.1% of an invoke on MobileNet v1 0.25).
 *  - view(i) returns a numpy array on the tensor's memory (the shadow for an
 *    input, the arena otherwise) whose base is a _View object holding the
 *    interpreter. Each live _View counts in views; allocate_tensors(),
 *    invoke() and close() raise RuntimeError while the count is not 0 —
 *    tflite_runtime's rule (its _safe_to_run counts references to the
 *    wrapper with sys.getrefcount), counted exactly here instead.
 *  - invoke() releases the GIL; `busy` refuses a second thread's call on
 *    the same interpreter meanwhile (etpu_interp is not reentrant).
 *  - Errors: etpu's message (etpu_errmsg) as ValueError for bad models and
 *    arguments, RuntimeError for calls out of order and failed invokes,
 *    MemoryError for ETPU_OUT_OF_MEMORY.
 *
 * Module functions: read_image(path) and model_summary(path or bytes) (the
 * data of etpu.Model, SignatureDefs included). Compiling, quantizing and
 * learning are in tools.c; the helpers both files use are declared in etpy.h.
 */
#define ETPY_IMPORT_ARRAY /* this file imports numpy's C API table for both */
#include "etpy.h"

#include <stdint.h>
#include <string.h>

#define MAX_RANK 16

/* ---- errors ------------------------------------------------------------- */

/* etpy.h. */
PyObject *etpy_raise(etpu_status st, PyObject *usage) {
  const char *msg = etpu_errmsg();
  if (!msg[0]) msg = etpu_status_name(st);
  if (st == ETPU_OUT_OF_MEMORY) return PyErr_Format(PyExc_MemoryError, "%s", msg);
  if (st == ETPU_INVALID_STATE) return PyErr_Format(PyExc_RuntimeError, "%s", msg);
  return PyErr_Format(usage, "%s", msg);
}

/* ---- dtype mapping ------------------------------------------------------ */

/* etpy.h. */
int etpy_npy_type(int32_t dtype) {
  switch (dtype) {
    case ETPU_FLOAT32: return NPY_FLOAT32;
    case ETPU_FLOAT16: return NPY_FLOAT16;
    case ETPU_FLOAT64: return NPY_FLOAT64;
    case ETPU_INT8: return NPY_INT8;
    case ETPU_UINT8: return NPY_UINT8;
    case ETPU_INT16: return NPY_INT16;
    case ETPU_UINT16: return NPY_UINT16;
    case ETPU_INT32: return NPY_INT32;
    case ETPU_UINT32: return NPY_UINT32;
    case ETPU_INT64: return NPY_INT64;
    case ETPU_UINT64: return NPY_UINT64;
    case ETPU_BOOL: return NPY_BOOL;
    case ETPU_COMPLEX64: return NPY_COMPLEX64;
    case ETPU_COMPLEX128: return NPY_COMPLEX128;
    case ETPU_STRING: return NPY_STRING;
    default: return -1;
  }
}

/* The numpy scalar type (np.uint8, ...) for a dtype, new reference; None
 * for types numpy cannot hold (sub-byte, resource, variant). */
static PyObject *np_type_object(int32_t dtype) {
  int t = etpy_npy_type(dtype);
  if (t < 0) Py_RETURN_NONE;
  PyArray_Descr *d = PyArray_DescrFromType(t);
  if (!d) return NULL;
  PyObject *o = (PyObject *)d->typeobj;
  Py_INCREF(o);
  Py_DECREF(d);
  return o;
}

static PyObject *int32_array(uint32_t n, const int32_t *v) {
  npy_intp dim = (npy_intp)n;
  PyObject *a = PyArray_SimpleNew(1, &dim, NPY_INT32);
  if (a && n) memcpy(PyArray_DATA((PyArrayObject *)a), v, n * sizeof *v);
  return a;
}

/* ---- the interpreter ---------------------------------------------------- */

typedef struct {
  PyObject_HEAD
  etpu_model *model;
  etpu_interp *interp;
  PyObject *content;     /* the model bytes (model_content), kept alive; NULL for a path */
  char *label;           /* the model's name for messages (owned copy) */
  uint32_t ninputs;
  void **shadow;         /* ninputs buffers after allocate_tensors, else NULL */
  size_t *shadow_size;
  Py_ssize_t views;      /* live _View objects */
  int planned;
  int busy;              /* an invoke is running without the GIL */
} InterpObject;

typedef struct {
  PyObject_HEAD
  InterpObject *owner; /* strong reference */
} ViewObject;

static PyTypeObject InterpType;
static PyTypeObject ViewType;

static void view_dealloc(ViewObject *v) {
  if (v->owner) {
    v->owner->views--;
    Py_DECREF(v->owner);
  }
  Py_TYPE(v)->tp_free((PyObject *)v);
}

static PyTypeObject ViewType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "etpu._etpu._View",
    .tp_basicsize = sizeof(ViewObject),
    .tp_dealloc = (destructor)view_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Keeps an interpreter alive while a numpy view of its tensor memory exists.",
};

static void interp_release(InterpObject *s) {
  if (s->shadow)
    for (uint32_t i = 0; i < s->ninputs; i++) PyMem_Free(s->shadow[i]);
  PyMem_Free(s->shadow);
  PyMem_Free(s->shadow_size);
  s->shadow = NULL;
  s->shadow_size = NULL;
  etpu_interp_free(s->interp);
  etpu_model_free(s->model);
  s->interp = NULL;
  s->model = NULL;
  s->planned = 0;
}

static void interp_dealloc(InterpObject *s) {
  interp_release(s);
  Py_CLEAR(s->content);
  PyMem_Free(s->label);
  Py_TYPE(s)->tp_free((PyObject *)s);
}

/* _Interpreter(model_path, model_content, num_threads, profile,
 * keep_all_tensors): exactly one of path and content. */
static int interp_init(InterpObject *s, PyObject *args, PyObject *kw) {
  static char *names[] = {"model_path", "model_content", "num_threads", "profile", "keep_all_tensors", NULL};
  PyObject *path = Py_None, *content = Py_None;
  int threads = 0, keep_all = 0;
  const char *profile = "litert";
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOisp", names, &path, &content, &threads, &profile, &keep_all))
    return -1;
  if (s->model || s->label || s->content) {
    PyErr_SetString(PyExc_RuntimeError, "etpu: an Interpreter is initialized once");
    return -1;
  }
  if ((path == Py_None) == (content == Py_None)) {
    PyErr_SetString(PyExc_ValueError, "etpu: give exactly one of model_path and model_content");
    return -1;
  }
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  if (!strcmp(profile, "litert"))
    o.profile = ETPU_PROFILE_LITERT;
  else if (!strcmp(profile, "tflite-ref"))
    o.profile = ETPU_PROFILE_TFLITE_REF;
  else {
    PyErr_Format(PyExc_ValueError, "etpu: profile '%s' is not one of 'litert', 'tflite-ref'", profile);
    return -1;
  }
  if (threads < 0 || threads > 256) {
    PyErr_Format(PyExc_ValueError, "etpu: num_threads %d is not in 1..256 (or None: the cores this process may use)",
                 threads);
    return -1;
  }
  o.num_threads = (uint32_t)threads;
  o.keep_all_tensors = keep_all != 0;
  etpu_status st;
  if (path != Py_None) {
    PyObject *fs = NULL;
    if (!PyUnicode_FSConverter(path, &fs)) return -1;
    const char *p = PyBytes_AS_STRING(fs);
    Py_BEGIN_ALLOW_THREADS st = etpu_model_open(p, &s->model);
    Py_END_ALLOW_THREADS
    size_t n = strlen(p) + 1;
    s->label = PyMem_Malloc(n);
    if (s->label) memcpy(s->label, p, n);
    Py_DECREF(fs);
    if (!s->label) {
      PyErr_NoMemory();
      return -1;
    }
  } else {
    /* The model borrows these bytes for its life: keep a bytes object
     * (immutable) alive, a copy when given a mutable buffer. */
    PyObject *bytes;
    if (PyBytes_CheckExact(content)) {
      bytes = content;
      Py_INCREF(bytes);
    } else {
      Py_buffer b;
      if (PyObject_GetBuffer(content, &b, PyBUF_SIMPLE) != 0) return -1;
      bytes = PyBytes_FromStringAndSize(b.buf, b.len);
      PyBuffer_Release(&b);
      if (!bytes) return -1;
    }
    s->content = bytes;
    s->label = PyMem_Malloc(sizeof "<model_content>");
    if (!s->label) {
      PyErr_NoMemory();
      return -1;
    }
    memcpy(s->label, "<model_content>", sizeof "<model_content>");
    st = etpu_model_open_buffer(PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes), "<model_content>", 0,
                                &s->model);
  }
  if (st != ETPU_OK) {
    s->model = NULL;
    etpy_raise(st, PyExc_ValueError);
    return -1;
  }
  if ((st = etpu_interp_create(s->model, &o, &s->interp)) != ETPU_OK) {
    s->interp = NULL;
    etpy_raise(st, PyExc_ValueError);
    return -1;
  }
  s->ninputs = etpu_interp_input_count(s->interp);
  return 0;
}

/* 0 when the interpreter can be used; else an exception is set. */
static int check_open(InterpObject *s) {
  if (!s->interp) {
    PyErr_SetString(PyExc_ValueError, "etpu: the Interpreter is closed (or failed to initialize)");
    return -1;
  }
  if (s->busy) {
    PyErr_Format(PyExc_RuntimeError, "etpu: %s: invoke() is running on another thread", s->label);
    return -1;
  }
  return 0;
}

/* 0 when no numpy view of internal memory is alive; else RuntimeError. */
static int check_no_views(InterpObject *s, const char *what) {
  if (s->views == 0) return 0;
  PyErr_Format(PyExc_RuntimeError,
               "etpu: %s: %s: there is at least 1 reference to internal data in the interpreter in the form of a "
               "numpy array or slice (%zd live); be sure to only hold the function returned from tensor() if you "
               "are using raw data access",
               s->label, what, s->views);
  return -1;
}

/* The input slot of tensor index t, or -1. */
static int input_slot(InterpObject *s, long t) {
  for (uint32_t i = 0; i < s->ninputs; i++)
    if (etpu_interp_input_index(s->interp, i) == t) return (int)i;
  return -1;
}

/* Describe tensor t, with the interpreter's shape; exception on failure. */
static int tensor_info(InterpObject *s, long t, etpu_tensor_info *info, uint32_t *rank, const int32_t **dims) {
  uint32_t n = etpu_model_tensor_count(s->model, 0);
  if (t < 0 || (unsigned long)t >= n) {
    PyErr_Format(PyExc_ValueError, "etpu: %s: tensor %ld does not exist (the model has %u tensors)", s->label, t, n);
    return -1;
  }
  etpu_status st = etpu_model_tensor(s->model, 0, (uint32_t)t, info);
  if (st != ETPU_OK) {
    etpy_raise(st, PyExc_ValueError);
    return -1;
  }
  if (etpu_interp_tensor_shape(s->interp, (uint32_t)t, rank, dims) != ETPU_OK) {
    *rank = info->rank;
    *dims = info->shape;
  }
  if (*rank > MAX_RANK) {
    PyErr_Format(PyExc_ValueError, "etpu: %s: tensor %ld has rank %u; numpy arrays here go to %d", s->label, t, *rank,
                 MAX_RANK);
    return -1;
  }
  return 0;
}

static PyObject *interp_allocate(InterpObject *s, PyObject *unused) {
  (void)unused;
  if (check_open(s) || check_no_views(s, "allocate_tensors()")) return NULL;
  if (s->planned) Py_RETURN_NONE; /* shapes never change: the plan stands */
  size_t arena = 0;
  etpu_status st = etpu_interp_plan(s->interp, &arena);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_RuntimeError);
  s->shadow = PyMem_Calloc(s->ninputs ? s->ninputs : 1, sizeof *s->shadow);
  s->shadow_size = PyMem_Calloc(s->ninputs ? s->ninputs : 1, sizeof *s->shadow_size);
  if (!s->shadow || !s->shadow_size) return PyErr_NoMemory();
  for (uint32_t i = 0; i < s->ninputs; i++) {
    const void *data;
    size_t size;
    if ((st = etpu_interp_tensor(s->interp, (uint32_t)etpu_interp_input_index(s->interp, i), &data, &size)) != ETPU_OK)
      return etpy_raise(st, PyExc_RuntimeError);
    s->shadow[i] = PyMem_Malloc(size ? size : 1);
    if (!s->shadow[i]) return PyErr_NoMemory();
    memcpy(s->shadow[i], data, size); /* the arena starts zeroed, as TFLite's does */
    s->shadow_size[i] = size;
  }
  s->planned = 1;
  Py_RETURN_NONE;
}

static int check_planned(InterpObject *s, const char *what) {
  if (s->planned) return 0;
  PyErr_Format(PyExc_RuntimeError, "etpu: %s: %s before allocate_tensors()", s->label, what);
  return -1;
}

static PyObject *interp_invoke(InterpObject *s, PyObject *unused) {
  (void)unused;
  if (check_open(s) || check_planned(s, "invoke()") || check_no_views(s, "invoke()")) return NULL;
  etpu_status st = ETPU_OK;
  s->busy = 1;
  Py_BEGIN_ALLOW_THREADS
  for (uint32_t i = 0; i < s->ninputs && st == ETPU_OK; i++)
    st = etpu_interp_set_input(s->interp, i, s->shadow[i], s->shadow_size[i]);
  if (st == ETPU_OK) st = etpu_interp_invoke(s->interp);
  Py_END_ALLOW_THREADS
  s->busy = 0;
  if (st != ETPU_OK) return etpy_raise(st, PyExc_RuntimeError);
  Py_RETURN_NONE;
}

static PyObject *interp_reset_variables(InterpObject *s, PyObject *unused) {
  (void)unused;
  if (check_open(s) || check_planned(s, "reset_all_variables()") || check_no_views(s, "reset_all_variables()"))
    return NULL;
  etpu_status st = etpu_interp_reset_state(s->interp);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_RuntimeError);
  Py_RETURN_NONE;
}

/* Memory of tensor t: the shadow for an input, else the interpreter's. */
static void *tensor_memory(InterpObject *s, long t, size_t *size) {
  int slot = input_slot(s, t);
  if (slot >= 0) {
    *size = s->shadow_size[slot];
    return s->shadow[slot];
  }
  const void *data;
  etpu_status st = etpu_interp_tensor(s->interp, (uint32_t)t, &data, size);
  if (st != ETPU_OK) {
    etpy_raise(st, PyExc_ValueError);
    return NULL;
  }
  /* The interpreter's arena is writable memory it owns; the const in its
   * API says the library does not expect callers to write. Views that
   * write (tflite_runtime allows it) only matter before the next invoke. */
  return (void *)(uintptr_t)data;
}

/* A numpy array over tensor t's memory (copy = 0, base = a new _View) or a
 * copy of it. */
static PyObject *tensor_array(InterpObject *s, long t, int copy) {
  if (check_open(s)) return NULL;
  etpu_tensor_info info;
  uint32_t rank;
  const int32_t *dims;
  if (tensor_info(s, t, &info, &rank, &dims)) return NULL;
  if (check_planned(s, copy ? "get_tensor()" : "tensor()")) return NULL;
  int nt = etpy_npy_type(info.type);
  if (nt < 0 || nt == NPY_STRING) {
    PyErr_Format(PyExc_ValueError, "etpu: %s: tensor %ld '%s' is %s, which numpy cannot hold here", s->label, t,
                 info.name, etpu_dtype_name(info.type));
    return NULL;
  }
  size_t size;
  void *mem = tensor_memory(s, t, &size);
  if (!mem) return NULL;
  npy_intp shape[MAX_RANK];
  size_t elems = 1;
  for (uint32_t k = 0; k < rank; k++) {
    shape[k] = dims[k] < 0 ? 0 : dims[k];
    elems *= (size_t)shape[k];
  }
  PyArray_Descr *d = PyArray_DescrFromType(nt);
  if (!d) return NULL;
  if (elems * (size_t)d->elsize != size) {
    Py_DECREF(d);
    PyErr_Format(PyExc_RuntimeError, "etpu: %s: tensor %ld '%s': %zu bytes for a shape of %zu elements", s->label, t,
                 info.name, size, elems);
    return NULL;
  }
  if (copy) {
    PyObject *a = PyArray_NewFromDescr(&PyArray_Type, d, (int)rank, shape, NULL, NULL, 0, NULL);
    if (a && size) memcpy(PyArray_DATA((PyArrayObject *)a), mem, size);
    return a;
  }
  /* Constants live in the model's bytes (a read-only map, or the immutable
   * model_content): their views are read-only. numpy works out the
   * alignment of the memory itself. */
  int flags = NPY_ARRAY_C_CONTIGUOUS | (info.data ? 0 : NPY_ARRAY_WRITEABLE);
  PyObject *a = PyArray_NewFromDescr(&PyArray_Type, d, (int)rank, shape, NULL, mem, flags, NULL);
  if (!a) return NULL;
  ViewObject *v = PyObject_New(ViewObject, &ViewType);
  if (!v) {
    Py_DECREF(a);
    return NULL;
  }
  Py_INCREF(s);
  v->owner = s;
  s->views++;
  if (PyArray_SetBaseObject((PyArrayObject *)a, (PyObject *)v) != 0) { /* steals v */
    Py_DECREF(a);
    return NULL;
  }
  return a;
}

static PyObject *interp_get_tensor(InterpObject *s, PyObject *args) {
  long t;
  if (!PyArg_ParseTuple(args, "l", &t)) return NULL;
  return tensor_array(s, t, 1);
}

static PyObject *interp_view(InterpObject *s, PyObject *args) {
  long t;
  if (!PyArg_ParseTuple(args, "l", &t)) return NULL;
  return tensor_array(s, t, 0);
}

static PyObject *shape_text(uint32_t rank, const npy_intp *dims) {
  PyObject *l = PyList_New((Py_ssize_t)rank);
  if (!l) return NULL;
  for (uint32_t k = 0; k < rank; k++) PyList_SET_ITEM(l, k, PyLong_FromSsize_t(dims[k]));
  PyObject *r = PyObject_Repr(l);
  Py_DECREF(l);
  return r;
}

/* set_tensor(index, value): tflite_runtime's checks (type exactly, then
 * shape exactly), with tensor names in the message. */
static PyObject *interp_set_tensor(InterpObject *s, PyObject *args) {
  long t;
  PyObject *value;
  if (!PyArg_ParseTuple(args, "lO", &t, &value)) return NULL;
  if (check_open(s)) return NULL;
  etpu_tensor_info info;
  uint32_t rank;
  const int32_t *dims;
  if (tensor_info(s, t, &info, &rank, &dims)) return NULL;
  int slot = input_slot(s, t);
  if (slot < 0) {
    PyErr_Format(PyExc_ValueError,
                 "etpu: %s: cannot set tensor %ld '%s': it is not a graph input (etpu sets graph inputs only)",
                 s->label, t, info.name);
    return NULL;
  }
  if (check_planned(s, "set_tensor()")) return NULL;
  int nt = etpy_npy_type(info.type);
  PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(value, NPY_NOTYPE, 0, 0, 0);
  if (!a) return NULL;
  PyObject *ret = NULL;
  if (PyArray_TYPE(a) != nt) {
    PyArray_Descr *want = PyArray_DescrFromType(nt < 0 ? NPY_VOID : nt);
    PyErr_Format(PyExc_ValueError,
                 "etpu: %s: cannot set tensor %ld '%s': got a value of type %s but expected type %s (%s)", s->label, t,
                 info.name, PyArray_DESCR(a)->typeobj->tp_name, want ? want->typeobj->tp_name : "?",
                 etpu_dtype_name(info.type));
    Py_XDECREF(want);
    goto done;
  }
  int shape_ok = (uint32_t)PyArray_NDIM(a) == rank;
  for (uint32_t k = 0; shape_ok && k < rank; k++) shape_ok = PyArray_DIMS(a)[k] == dims[k];
  if (!shape_ok) {
    npy_intp want[MAX_RANK];
    for (uint32_t k = 0; k < rank; k++) want[k] = dims[k];
    PyObject *got = shape_text((uint32_t)PyArray_NDIM(a), PyArray_DIMS(a)), *exp = shape_text(rank, want);
    if (got && exp)
      PyErr_Format(PyExc_ValueError, "etpu: %s: cannot set tensor %ld '%s': dimension mismatch: got shape %U but "
                   "expected %U (etpu cannot resize inputs)", s->label, t, info.name, got, exp);
    Py_XDECREF(got);
    Py_XDECREF(exp);
    goto done;
  }
  if ((size_t)PyArray_NBYTES(a) != s->shadow_size[slot]) {
    PyErr_Format(PyExc_ValueError, "etpu: %s: cannot set tensor %ld '%s': %zd bytes for a %zu-byte tensor", s->label,
                 t, info.name, (Py_ssize_t)PyArray_NBYTES(a), s->shadow_size[slot]);
    goto done;
  }
  if (PyArray_IS_C_CONTIGUOUS(a)) {
    memcpy(s->shadow[slot], PyArray_DATA(a), s->shadow_size[slot]);
  } else {
    PyArrayObject *c = (PyArrayObject *)PyArray_NewCopy(a, NPY_CORDER);
    if (!c) goto done;
    memcpy(s->shadow[slot], PyArray_DATA(c), s->shadow_size[slot]);
    Py_DECREF(c);
  }
  ret = Py_None;
  Py_INCREF(ret);
done:
  Py_DECREF(a);
  return ret;
}

/* tflite_runtime's detail dict for tensor t. */
static PyObject *details_of(InterpObject *s, long t) {
  etpu_tensor_info info;
  uint32_t rank;
  const int32_t *dims;
  if (tensor_info(s, t, &info, &rank, &dims)) return NULL;
  PyObject *d = PyDict_New();
  if (!d) return NULL;
  PyObject *scales = NULL, *zps = NULL, *qp = NULL;
  npy_intp n = (npy_intp)info.quant_count;
  scales = PyArray_SimpleNew(1, &n, NPY_FLOAT32);
  zps = PyArray_SimpleNew(1, &n, NPY_INT32);
  if (!scales || !zps) goto fail;
  for (uint32_t k = 0; k < info.quant_count; k++) {
    ((float *)PyArray_DATA((PyArrayObject *)scales))[k] = info.scale[k];
    ((int32_t *)PyArray_DATA((PyArrayObject *)zps))[k] = (int32_t)info.zero_point[k];
  }
  qp = Py_BuildValue("{s:O,s:O,s:i}", "scales", scales, "zero_points", zps, "quantized_dimension",
                     info.quantized_dimension);
  if (!qp) goto fail;
  /* TFLite's legacy (scale, zero_point): per-tensor parameters only. */
  double scale = info.quant_count == 1 ? info.scale[0] : 0.0;
  long zp = info.quant_count == 1 ? (long)info.zero_point[0] : 0;
  PyObject *items[][2] = {
      {PyUnicode_FromString("name"), PyUnicode_FromString(info.name)},
      {PyUnicode_FromString("index"), PyLong_FromLong(t)},
      {PyUnicode_FromString("shape"), int32_array(rank, dims)},
      {PyUnicode_FromString("shape_signature"),
       info.signature_rank ? int32_array(info.signature_rank, info.shape_signature) : int32_array(rank, dims)},
      {PyUnicode_FromString("dtype"), np_type_object(info.type)},
      {PyUnicode_FromString("quantization"), Py_BuildValue("(dl)", scale, zp)},
      {PyUnicode_FromString("quantization_parameters"), qp},
      {PyUnicode_FromString("sparsity_parameters"), PyDict_New()},
  };
  qp = NULL;
  int bad = 0;
  for (size_t k = 0; k < sizeof items / sizeof items[0]; k++) {
    if (!items[k][0] || !items[k][1] || PyDict_SetItem(d, items[k][0], items[k][1]) != 0) bad = 1;
    Py_XDECREF(items[k][0]);
    Py_XDECREF(items[k][1]);
  }
  Py_DECREF(scales);
  Py_DECREF(zps);
  if (bad) {
    Py_DECREF(d);
    return NULL;
  }
  return d;
fail:
  Py_XDECREF(scales);
  Py_XDECREF(zps);
  Py_XDECREF(qp);
  Py_DECREF(d);
  return NULL;
}

/* io_details(which): 0 inputs, 1 outputs, 2 every tensor. */
static PyObject *interp_details(InterpObject *s, PyObject *args) {
  int which;
  if (!PyArg_ParseTuple(args, "i", &which)) return NULL;
  if (check_open(s)) return NULL;
  uint32_t n = which == 0   ? s->ninputs
               : which == 1 ? etpu_interp_output_count(s->interp)
                            : etpu_model_tensor_count(s->model, 0);
  PyObject *l = PyList_New(0);
  if (!l) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    long t = which == 0 ? etpu_interp_input_index(s->interp, i)
             : which == 1 ? etpu_interp_output_index(s->interp, i)
                          : (long)i;
    PyObject *d = details_of(s, t);
    if (!d || PyList_Append(l, d) != 0) {
      Py_XDECREF(d);
      Py_DECREF(l);
      return NULL;
    }
    Py_DECREF(d);
  }
  return l;
}

/* image_input(slot, image, mean, std, resize): input `slot` filled from an
 * image (a path, or a uint8 HxW / HxWxC array) as `etpu run` fills it,
 * returned as a new numpy array of the input's shape and type. mean/std
 * None: etpu run's defaults (for a FLOAT32 input the model metadata's
 * normalization, else raw pixels). */
static PyObject *interp_image_input(InterpObject *s, PyObject *args) {
  unsigned slot;
  PyObject *image, *mean_o, *std_o;
  int nearest = 0;
  if (!PyArg_ParseTuple(args, "IOOO|p", &slot, &image, &mean_o, &std_o, &nearest)) return NULL;
  if (check_open(s)) return NULL;
  if (slot >= s->ninputs) {
    PyErr_Format(PyExc_ValueError, "etpu: %s: input %u does not exist (the model has %u)", s->label, slot, s->ninputs);
    return NULL;
  }
  long t = etpu_interp_input_index(s->interp, slot);
  etpu_tensor_info info;
  uint32_t rank;
  const int32_t *dims;
  if (tensor_info(s, t, &info, &rank, &dims)) return NULL;
  etpu_input_options o = {nearest ? ETPU_RESIZE_NEAREST : ETPU_RESIZE_BILINEAR, false, 0.0f, 1.0f};
  if ((mean_o == Py_None) != (std_o == Py_None)) {
    PyErr_SetString(PyExc_ValueError, "etpu: mean and std go together");
    return NULL;
  }
  if (mean_o != Py_None) {
    o.normalize = true;
    o.mean = (float)PyFloat_AsDouble(mean_o);
    o.std = (float)PyFloat_AsDouble(std_o);
    if (PyErr_Occurred()) return NULL;
  } else if (info.type == ETPU_FLOAT32) {
    float mean[64], stdv[64];
    uint32_t count = 0;
    etpu_status st = etpu_model_input_normalization(s->model, slot, 64, mean, stdv, &count);
    if (st != ETPU_OK) {
      if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "etpu: not using the model's metadata: %s", etpu_errmsg()) < 0)
        return NULL;
      count = 0;
    }
    for (uint32_t c = 1; c < count; c++)
      if (mean[c] != mean[0] || stdv[c] != stdv[0]) {
        PyErr_Format(PyExc_ValueError,
                     "etpu: %s: input %u: the model's metadata gives per-channel normalization; etpu normalizes "
                     "every channel alike: give mean and std",
                     s->label, slot);
        return NULL;
      }
    if (count) {
      o.normalize = true;
      o.mean = mean[0];
      o.std = stdv[0];
    }
  }
  etpu_image *img = NULL;
  etpu_status st;
  if (PyUnicode_Check(image) || PyBytes_Check(image) || PyObject_HasAttrString(image, "__fspath__")) {
    PyObject *fs = NULL;
    if (!PyUnicode_FSConverter(image, &fs)) return NULL;
    st = etpu_image_read(PyBytes_AS_STRING(fs), &img);
    Py_DECREF(fs);
  } else {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(image, NPY_UINT8, 2, 3, NPY_ARRAY_C_CONTIGUOUS);
    if (!a) return NULL;
    npy_intp *sh = PyArray_DIMS(a);
    npy_intp c = PyArray_NDIM(a) == 3 ? sh[2] : 1;
    if ((c != 1 && c != 3) || sh[0] < 1 || sh[1] < 1 || sh[0] > 65535 || sh[1] > 65535) {
      Py_DECREF(a);
      PyErr_SetString(PyExc_ValueError, "etpu: an image array is uint8 HxW or HxWxC with C 1 or 3");
      return NULL;
    }
    st = etpu_image_create((uint32_t)sh[1], (uint32_t)sh[0], (uint32_t)c, &img);
    if (st == ETPU_OK) memcpy(img->pixels, PyArray_DATA(a), (size_t)PyArray_NBYTES(a));
    Py_DECREF(a);
  }
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  int nt = etpy_npy_type(info.type);
  npy_intp shape[MAX_RANK];
  for (uint32_t k = 0; k < rank; k++) shape[k] = dims[k] < 0 ? 0 : dims[k];
  PyObject *out = nt < 0 ? NULL : PyArray_SimpleNew((int)rank, shape, nt);
  if (!out) {
    etpu_image_free(img);
    if (!PyErr_Occurred())
      PyErr_Format(PyExc_ValueError, "etpu: input %u is %s, not an image input", slot, etpu_dtype_name(info.type));
    return NULL;
  }
  st = etpu_image_to_tensor(img, &info, &o, PyArray_DATA((PyArrayObject *)out),
                            (size_t)PyArray_NBYTES((PyArrayObject *)out));
  etpu_image_free(img);
  if (st != ETPU_OK) {
    Py_DECREF(out);
    return etpy_raise(st, PyExc_ValueError);
  }
  return out;
}

static PyObject *interp_close(InterpObject *s, PyObject *unused) {
  (void)unused;
  if (s->busy) {
    PyErr_Format(PyExc_RuntimeError, "etpu: %s: close() while invoke() runs on another thread", s->label);
    return NULL;
  }
  if (check_no_views(s, "close()")) return NULL;
  interp_release(s);
  Py_RETURN_NONE;
}

static PyObject *interp_info(InterpObject *s, PyObject *unused) {
  (void)unused;
  if (check_open(s)) return NULL;
  return Py_BuildValue("{s:I,s:s,s:s,s:I,s:I,s:O}", "threads", etpu_interp_threads(s->interp), "isa",
                       etpu_isa_name(), "label", s->label, "inputs", s->ninputs, "outputs",
                       etpu_interp_output_count(s->interp), "allocated", s->planned ? Py_True : Py_False);
}

static PyMethodDef interp_methods[] = {
    {"allocate_tensors", (PyCFunction)interp_allocate, METH_NOARGS, "Plan and allocate tensor memory."},
    {"invoke", (PyCFunction)interp_invoke, METH_NOARGS, "Run the model (GIL released)."},
    {"reset_all_variables", (PyCFunction)interp_reset_variables, METH_NOARGS, "Reset state tensors."},
    {"get_tensor", (PyCFunction)interp_get_tensor, METH_VARARGS, "A copy of a tensor as a numpy array."},
    {"view", (PyCFunction)interp_view, METH_VARARGS, "A numpy view of a tensor's memory (counted)."},
    {"set_tensor", (PyCFunction)interp_set_tensor, METH_VARARGS, "Copy a numpy array into a graph input."},
    {"details", (PyCFunction)interp_details, METH_VARARGS, "Detail dicts: 0 inputs, 1 outputs, 2 all tensors."},
    {"image_input", (PyCFunction)interp_image_input, METH_VARARGS, "An input filled from an image, as etpu run does."},
    {"close", (PyCFunction)interp_close, METH_NOARGS, "Free the interpreter and its model now."},
    {"info", (PyCFunction)interp_info, METH_NOARGS, "threads, isa, label, input/output counts."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject InterpType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "etpu._etpu._Interpreter",
    .tp_basicsize = sizeof(InterpObject),
    .tp_dealloc = (destructor)interp_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "etpu's interpreter core; use etpu.Interpreter.",
    .tp_methods = interp_methods,
    .tp_init = (initproc)interp_init,
    .tp_new = PyType_GenericNew,
};

/* ---- module functions --------------------------------------------------- */

static PyObject *mod_read_image(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *path, *fs = NULL;
  if (!PyArg_ParseTuple(args, "O", &path)) return NULL;
  if (!PyUnicode_FSConverter(path, &fs)) return NULL;
  etpu_image *img = NULL;
  etpu_status st = etpu_image_read(PyBytes_AS_STRING(fs), &img);
  Py_DECREF(fs);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  npy_intp shape[3] = {(npy_intp)img->height, (npy_intp)img->width, (npy_intp)img->channels};
  PyObject *a = PyArray_SimpleNew(3, shape, NPY_UINT8);
  if (a) memcpy(PyArray_DATA((PyArrayObject *)a), img->pixels, (size_t)img->height * img->width * img->channels);
  etpu_image_free(img);
  return a;
}

static PyObject *tensor_summary(const etpu_model *m, uint32_t t) {
  etpu_tensor_info info;
  etpu_status st = etpu_model_tensor(m, 0, t, &info);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  PyObject *shape = int32_array(info.rank, info.shape), *type = np_type_object(info.type);
  PyObject *scales = PyList_New((Py_ssize_t)info.quant_count), *zps = PyList_New((Py_ssize_t)info.quant_count);
  PyObject *d = NULL;
  if (shape && type && scales && zps) {
    for (uint32_t k = 0; k < info.quant_count; k++) {
      PyList_SET_ITEM(scales, k, PyFloat_FromDouble(info.scale[k]));
      PyList_SET_ITEM(zps, k, PyLong_FromLongLong(info.zero_point[k]));
    }
    d = Py_BuildValue("{s:I,s:s,s:s,s:O,s:O,s:O,s:O,s:i,s:O,s:n}", "index", t, "name", info.name, "type",
                      etpu_dtype_name(info.type), "dtype", type, "shape", shape, "scales", scales, "zero_points", zps,
                      "quantized_dimension", info.quantized_dimension, "constant", info.data ? Py_True : Py_False,
                      "bytes", (Py_ssize_t)info.bytes);
  }
  Py_XDECREF(shape);
  Py_XDECREF(type);
  Py_XDECREF(scales);
  Py_XDECREF(zps);
  return d;
}

static PyObject *op_summary(const etpu_model *m, uint32_t i) {
  etpu_op_info op;
  etpu_status st = etpu_model_op(m, 0, i, &op);
  if (st != ETPU_OK) return etpy_raise(st, PyExc_ValueError);
  PyObject *in = PyList_New((Py_ssize_t)op.input_count), *out = PyList_New((Py_ssize_t)op.output_count);
  PyObject *d = NULL;
  if (in && out) {
    for (uint32_t k = 0; k < op.input_count; k++) PyList_SET_ITEM(in, k, PyLong_FromLong(op.inputs[k]));
    for (uint32_t k = 0; k < op.output_count; k++) PyList_SET_ITEM(out, k, PyLong_FromLong(op.outputs[k]));
    /* The builtin options as etpu inspect prints them (JSON, enums by name). */
    size_t need = etpu_model_op_options_json(m, 0, i, NULL, 0);
    char *json = PyMem_Malloc(need + 1);
    if (json) {
      etpu_model_op_options_json(m, 0, i, json, need + 1);
      d = Py_BuildValue("{s:I,s:s,s:i,s:i,s:O,s:O,s:s,s:N}", "index", i, "type", op.name, "code", op.code, "version",
                        op.version, "inputs", in, "outputs", out, "options_name", op.options_name, "options_json",
                        PyUnicode_DecodeUTF8(json, (Py_ssize_t)strlen(json), "replace"));
      PyMem_Free(json);
    } else {
      PyErr_NoMemory();
    }
  }
  Py_XDECREF(in);
  Py_XDECREF(out);
  return d;
}

/* Append summaries 0..n-1 made by fn to a new list. */
static PyObject *summaries(const etpu_model *m, uint32_t n, PyObject *(*fn)(const etpu_model *, uint32_t)) {
  PyObject *l = PyList_New(0);
  for (uint32_t i = 0; l && i < n; i++) {
    PyObject *x = fn(m, i);
    if (!x || PyList_Append(l, x) != 0) {
      Py_XDECREF(x);
      Py_CLEAR(l);
      break;
    }
    Py_DECREF(x);
  }
  return l;
}

/* The model's SignatureDefs as a list of dicts: key, subgraph, inputs and
 * outputs (lists of (name, tensor index) in the maps' order). */
static PyObject *signatures(const etpu_model *m) {
  PyObject *l = PyList_New(0);
  for (uint32_t i = 0; l && i < etpu_model_signature_count(m); i++) {
    etpu_signature_info si;
    etpu_status st = etpu_model_signature(m, i, &si);
    PyObject *io[2] = {PyList_New(0), PyList_New(0)}, *d = NULL;
    for (int o = 0; o < 2 && st == ETPU_OK && io[0] && io[1]; o++)
      for (uint32_t k = 0; st == ETPU_OK && k < (o ? si.output_count : si.input_count); k++) {
        const char *name;
        uint32_t t;
        if ((st = etpu_model_signature_tensor(m, i, o == 1, k, &name, &t)) != ETPU_OK) break;
        PyObject *e = Py_BuildValue("(NI)", PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "replace"), t);
        if (!e || PyList_Append(io[o], e) != 0) st = ETPU_OUT_OF_MEMORY;
        Py_XDECREF(e);
      }
    if (st != ETPU_OK && !PyErr_Occurred()) etpy_raise(st, PyExc_ValueError);
    if (!PyErr_Occurred() && io[0] && io[1])
      d = Py_BuildValue("{s:N,s:I,s:O,s:O}", "key", PyUnicode_DecodeUTF8(si.key, (Py_ssize_t)strlen(si.key), "replace"),
                        "subgraph", si.subgraph, "inputs", io[0], "outputs", io[1]);
    Py_XDECREF(io[0]);
    Py_XDECREF(io[1]);
    if (!d || PyList_Append(l, d) != 0) Py_CLEAR(l);
    Py_XDECREF(d);
  }
  return l;
}

/* model_summary(path or bytes): what etpu.Model exposes, as a dict. */
static PyObject *mod_model_summary(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *src;
  if (!PyArg_ParseTuple(args, "O", &src)) return NULL;
  etpu_model *m = NULL;
  if (etpy_open_model(src, &m)) return NULL;
  PyObject *ops = summaries(m, etpu_model_op_count(m, 0), op_summary);
  PyObject *tensors = ops ? summaries(m, etpu_model_tensor_count(m, 0), tensor_summary) : NULL;
  PyObject *ins = PyList_New(0), *outs = PyList_New(0), *norm = PyList_New(0), *d = NULL, *sigs = NULL;
  if (!ops || !tensors || !ins || !outs || !norm) goto done;
  for (uint32_t i = 0; i < etpu_model_input_count(m, 0); i++) {
    PyObject *x = PyLong_FromLong(etpu_model_input(m, 0, i));
    int bad = !x || PyList_Append(ins, x) != 0;
    Py_XDECREF(x);
    float mean[64], stdv[64];
    uint32_t count = 0;
    if (!bad && etpu_model_input_normalization(m, i, 64, mean, stdv, &count) != ETPU_OK) {
      PyErr_Format(PyExc_ValueError, "%s", etpu_errmsg());
      goto done;
    }
    PyObject *mn = bad ? NULL : PyList_New((Py_ssize_t)count), *sd = bad ? NULL : PyList_New((Py_ssize_t)count);
    for (uint32_t c = 0; mn && sd && c < count; c++) {
      PyList_SET_ITEM(mn, c, PyFloat_FromDouble(mean[c]));
      PyList_SET_ITEM(sd, c, PyFloat_FromDouble(stdv[c]));
    }
    PyObject *e = (mn && sd) ? (count ? Py_BuildValue("{s:O,s:O}", "mean", mn, "std", sd) : (Py_INCREF(Py_None), Py_None))
                             : NULL;
    Py_XDECREF(mn);
    Py_XDECREF(sd);
    bad = bad || !e || PyList_Append(norm, e) != 0;
    Py_XDECREF(e);
    if (bad) goto done;
  }
  for (uint32_t i = 0; i < etpu_model_output_count(m, 0); i++) {
    PyObject *x = PyLong_FromLong(etpu_model_output(m, 0, i));
    int bad = !x || PyList_Append(outs, x) != 0;
    Py_XDECREF(x);
    if (bad) goto done;
  }
  if (!(sigs = signatures(m))) goto done;
  d = Py_BuildValue("{s:O,s:s,s:I,s:I,s:s,s:O,s:O,s:O,s:O,s:O}", "signatures", sigs, "label", etpu_model_label(m), "version",
                    etpu_model_schema_version(m), "subgraphs", etpu_model_subgraph_count(m), "description",
                    etpu_model_description(m), "ops", ops, "tensors", tensors, "inputs", ins, "outputs", outs,
                    "normalization", norm);
done:
  Py_XDECREF(sigs);
  Py_XDECREF(ops);
  Py_XDECREF(tensors);
  Py_XDECREF(ins);
  Py_XDECREF(outs);
  Py_XDECREF(norm);
  etpu_model_free(m);
  return d;
}

/* etpy.h. */
int etpy_open_model(PyObject *src, etpu_model **model_out) {
  etpu_status st;
  *model_out = NULL;
  if (PyObject_CheckBuffer(src) && !PyUnicode_Check(src)) {
    Py_buffer b;
    if (PyObject_GetBuffer(src, &b, PyBUF_SIMPLE) != 0) return -1;
    st = etpu_model_open_buffer(b.buf, (size_t)b.len, "<model_content>", ETPU_OPEN_COPY, model_out);
    PyBuffer_Release(&b);
  } else {
    PyObject *fs = NULL;
    if (!PyUnicode_FSConverter(src, &fs)) return -1;
    st = etpu_model_open(PyBytes_AS_STRING(fs), model_out);
    Py_DECREF(fs);
  }
  if (st == ETPU_OK) return 0;
  *model_out = NULL;
  etpy_raise(st, PyExc_ValueError);
  return -1;
}

/* visualize_html(source, min_runtime_version=0, intermediate_tensors=(),
 * multiple_subgraphs=False) -> str: etpu_visualize_html. */
static PyObject *mod_visualize_html(PyObject *self, PyObject *args, PyObject *kw) {
  (void)self;
  static char *kwlist[] = {"source", "min_runtime_version", "intermediate_tensors", "multiple_subgraphs", NULL};
  PyObject *src, *names = NULL;
  int rt = 0, multi = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|iOp", kwlist, &src, &rt, &names, &multi)) return NULL;
  PyObject *seq = names && names != Py_None ? PySequence_Fast(names, "intermediate_tensors must be a sequence of str")
                                           : PyTuple_New(0);
  if (!seq) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  const char **list = PyMem_Calloc((size_t)n + 1, sizeof *list);
  PyObject *out = NULL;
  etpu_model *m = NULL;
  if (!list) {
    PyErr_NoMemory();
    goto done;
  }
  for (Py_ssize_t i = 0; i < n; i++)
    if (!(list[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i)))) goto done;
  if (etpy_open_model(src, &m)) goto done;
  etpu_compile_options co = {rt, (uint32_t)n, list, multi != 0, 0};
  etpu_visualize_options o;
  etpu_visualize_options_init(&o);
  o.compile = &co;
  char *html = NULL;
  size_t size = 0;
  etpu_status st;
  Py_BEGIN_ALLOW_THREADS
  st = etpu_visualize_html(m, &o, &html, &size);
  Py_END_ALLOW_THREADS
  if (st != ETPU_OK) {
    etpy_raise(st, PyExc_ValueError);
    goto done;
  }
  out = PyUnicode_DecodeUTF8(html, (Py_ssize_t)size, "strict");
  etpu_free(html);
done:
  etpu_model_free(m);
  PyMem_Free(list);
  Py_DECREF(seq);
  return out;
}

static PyObject *mod_version(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  return PyUnicode_FromString(etpu_version());
}

static PyMethodDef mod_methods[] = {
    {"read_image", mod_read_image, METH_VARARGS, "read_image(path) -> uint8 array HxWxC (BMP, PNG, JPEG)."},
    {"model_summary", mod_model_summary, METH_VARARGS, "model_summary(path or bytes) -> dict (etpu.Model's data)."},
    {"visualize_html", (PyCFunction)(void (*)(void))mod_visualize_html, METH_VARARGS | METH_KEYWORDS,
     "visualize_html(source, min_runtime_version=0, intermediate_tensors=(), multiple_subgraphs=False) -> str."},
    {"version", mod_version, METH_NOARGS, "libetpu's version string."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef etpu_module = {
    PyModuleDef_HEAD_INIT, "_etpu", "etpu's C core (see the etpu package).", -1, mod_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__etpu(void);
PyMODINIT_FUNC PyInit__etpu(void) {
  import_array();
  if (PyType_Ready(&InterpType) < 0 || PyType_Ready(&ViewType) < 0) return NULL;
  PyObject *m = PyModule_Create(&etpu_module);
  if (!m) return NULL;
  Py_INCREF(&InterpType);
  if (PyModule_AddObject(m, "_Interpreter", (PyObject *)&InterpType) < 0) {
    Py_DECREF(&InterpType);
    Py_DECREF(m);
    return NULL;
  }
  if (etpy_tools_init(m) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
