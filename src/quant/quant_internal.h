/*
 * quant_internal.h — what the quantization stage's files share: the
 * calibration state (quant.c records it; refine.c reads it) and the two
 * helpers that run the float model and feed a model float samples.
 */
#ifndef ETPU_QUANT_INTERNAL_H
#define ETPU_QUANT_INTERNAL_H

#include "base/base.h"

struct etpu_calibration {
  const etpu_model *model;
  etpu_interp *interp;
  uint32_t ntensors;
  uint32_t samples;
  float *min, *max;  /* per tensor; min > max = no value seen */
  double *sig, *err; /* compare accumulators */
  bool *compared;
  float *rmin, *rmax; /* per tensor: range recorded in the model (min > max = none) */
  uint32_t *hist;     /* ETPU_CALIB_BINS per tensor over [min, max] of pass 1, or NULL */
  uint32_t hist_samples;
  etpu_calib_method method;
  float percentile;
  float *clo, *chi;   /* per tensor: the clipped range of method, when clip_ready */
  bool clip_ready;    /* set by etpu_calibration_set_method, cleared by a histogram pass */
  bool *covered;      /* per tensor, or NULL: range widened by etpu_calibration_cover_range, never clipped */
  uint32_t recorded;  /* tensors with a recorded range */
};

/* The float interpreter of c's model (every tensor kept), made on first use. */
etpu_status etpu_calib_float_interp(etpu_calibration *c);

/* Set the n inputs of it (made from m) from float samples: float inputs as
 * they are, int8/uint8 inputs quantized with their parameters. */
etpu_status etpu_calib_set_inputs(etpu_interp *it, const etpu_model *m, const float *const *inputs,
                                  const size_t *sizes, uint32_t n);

#endif
