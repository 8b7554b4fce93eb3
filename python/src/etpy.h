/*
 * etpy.h — what the C files of the extension etpu._etpu share: the numpy C
 * API set-up (one table, imported once by etpumodule.c) and the helpers that
 * turn etpu's statuses and models into Python exceptions and objects.
 *
 * etpumodule.c holds the interpreter and model inspection; tools.c holds
 * compiling, quantizing and on-device learning. Both use etpu.h only.
 */
#ifndef ETPU_PY_ETPY_H
#define ETPU_PY_ETPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL etpy_ARRAY_API
#ifndef ETPY_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "etpu/etpu.h"

/* Raise etpu's current message (etpu_errmsg) as the exception that fits
 * status st: `usage` for a caller's or model's fault, RuntimeError for calls
 * out of order (ETPU_INVALID_STATE), MemoryError for out of memory.
 * Returns NULL. */
PyObject *etpy_raise(etpu_status st, PyObject *usage);

/* Open a model from src: a bytes-like object is the model's content
 * (copied), anything else a path (str, bytes path or os.PathLike). 0 and
 * *model_out set, or -1 with ValueError (etpu's message) set. */
int etpy_open_model(PyObject *src, etpu_model **model_out);

/* The numpy type number of an etpu dtype; -1 when numpy has none. */
int etpy_npy_type(int32_t dtype);

/* Register tools.c's types and functions in the module. 0, or -1 with an
 * exception set. */
int etpy_tools_init(PyObject *module);

#endif
