/*
 * robust_exercise.h — read every fact of an opened model through the public
 * API (shared by tests/robust_corrupt.c and tests/fuzz/fuzz_model.c).
 *
 * Under ASan/UBSan this touches every pointer etpu hands out (names, shapes,
 * quantization arrays, the first and last byte of constant data and custom
 * options, option JSON) so that a model which opened OK but carries a bad
 * internal pointer or index is caught. Returns a number of problems found:
 * an out-of-range query that does not fail, or a query that should work and
 * fails. The checksum keeps the compiler from dropping the reads.
 */
#ifndef ETPU_ROBUST_EXERCISE_H
#define ETPU_ROBUST_EXERCISE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "etpu/etpu.h"

static volatile uint64_t robust_sink;

static inline uint64_t robust_mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ull; }

/* Touch every pointer of a package that read OK (names, shapes, hints, the
 * first and last parameter byte); returns the number of problems (counts
 * that cannot be, a type outside the schema). */
static inline int robust_package_exercise(const etpu_package *p) {
  int bad = 0;
  uint64_t h = 0;
  h = robust_mix(h, strlen(p->compiler_version) + strlen(p->model_identifier));
  for (uint32_t i = 0; i < p->chip_id_count; i++) h = robust_mix(h, (uint64_t)p->chip_ids[i]);
  bad += p->executable_count == 0;
  for (uint32_t k = 0; k < p->executable_count; k++) {
    const etpu_pkg_executable *e = &p->executables[k];
    bad += e->type < 0 || e->type > 2;
    h = robust_mix(h, strlen(e->name) + strlen(e->chip) + (uint64_t)e->estimated_cycles_64bit);
    if (e->parameters_size) h = robust_mix(h, e->parameters[0] ^ e->parameters[e->parameters_size - 1]);
    size_t sum = 0;
    for (uint32_t i = 0; i < e->bitstream_count; i++) sum += e->bitstream_sizes[i] + e->field_offset_counts[i];
    h = robust_mix(h, sum);
    for (uint32_t i = 0; i < e->dma_hint_count; i++) {
      bad += e->dma_hints[i].kind < 1 || e->dma_hints[i].kind > 4;
      h = robust_mix(h, (uint64_t)e->dma_hints[i].size_in_bytes);
    }
    for (uint32_t io = 0; io < 2; io++) {
      const etpu_pkg_layer *l = io ? e->outputs : e->inputs;
      const uint32_t n = io ? e->output_count : e->input_count;
      for (uint32_t i = 0; i < n; i++) {
        h = robust_mix(h, strlen(l[i].name) + (uint64_t)l[i].size_bytes + (uint64_t)(int64_t)l[i].scale);
        for (uint32_t d = 0; d < l[i].rank; d++) h = robust_mix(h, (uint64_t)(l[i].dim_end[d] - l[i].dim_start[d]));
      }
    }
  }
  h = robust_mix(h, etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING));
  h = robust_mix(h, (uint64_t)etpu_package_estimated_cycles(p));
  robust_sink = h;
  return bad;
}

static inline int robust_exercise(const etpu_model *m) {
  int bad = 0;
  uint64_t h = 0xcbf29ce484222325ull;
  h = robust_mix(h, strlen(etpu_model_label(m)));
  h = robust_mix(h, strlen(etpu_model_description(m)));
  h = robust_mix(h, etpu_model_schema_version(m));
  h = robust_mix(h, etpu_model_buffer_count(m));
  uint32_t nmeta = etpu_model_metadata_count(m);
  for (uint32_t i = 0; i <= nmeta; i++) {
    const char *name = NULL;
    const void *data = NULL;
    size_t size = 0;
    etpu_status st = etpu_model_metadata(m, i, &name, &data, &size);
    if (i == nmeta) {
      bad += st == ETPU_OK;
      continue;
    }
    if (st != ETPU_OK || !name) {
      bad++;
      continue;
    }
    h = robust_mix(h, strlen(name));
    if (size) h = robust_mix(h, ((const uint8_t *)data)[0] ^ ((const uint8_t *)data)[size - 1]);
  }
  uint32_t nsg = etpu_model_subgraph_count(m);
  for (uint32_t s = 0; s <= nsg; s++) {
    h = robust_mix(h, strlen(etpu_model_subgraph_name(m, s)));
    uint32_t ni = etpu_model_input_count(m, s), no = etpu_model_output_count(m, s);
    for (uint32_t i = 0; i <= ni; i++) h = robust_mix(h, (uint32_t)etpu_model_input(m, s, i));
    for (uint32_t i = 0; i <= no; i++) h = robust_mix(h, (uint32_t)etpu_model_output(m, s, i));
    if (etpu_model_input(m, s, ni) != -1 || etpu_model_output(m, s, no) != -1) bad++;
    uint32_t nt = etpu_model_tensor_count(m, s);
    if (s == nsg && (nt != 0 || etpu_model_op_count(m, s) != 0)) bad++;
    for (uint32_t t = 0; t <= nt; t++) {
      etpu_tensor_info ti;
      etpu_status st = etpu_model_tensor(m, s, t, &ti);
      if (t == nt) {
        bad += st == ETPU_OK;
        continue;
      }
      if (st != ETPU_OK || !ti.name) {
        bad++;
        continue;
      }
      h = robust_mix(h, strlen(ti.name));
      h = robust_mix(h, (uint64_t)ti.type);
      h = robust_mix(h, strlen(etpu_dtype_name(ti.type)));
      h = robust_mix(h, etpu_dtype_size(ti.type));
      for (uint32_t d = 0; d < ti.rank; d++) h = robust_mix(h, (uint32_t)ti.shape[d]);
      for (uint32_t d = 0; d < ti.signature_rank; d++) h = robust_mix(h, (uint32_t)ti.shape_signature[d]);
      for (uint32_t q = 0; q < ti.quant_count; q++) {
        uint32_t bits;
        memcpy(&bits, &ti.scale[q], 4);
        h = robust_mix(h, bits);
        if (ti.zero_point) h = robust_mix(h, (uint64_t)ti.zero_point[q]);
      }
      h = robust_mix(h, (uint64_t)ti.quantized_dimension);
      if (ti.data_size) {
        if (!ti.data) bad++;
        else h = robust_mix(h, ((const uint8_t *)ti.data)[0] ^ ((const uint8_t *)ti.data)[ti.data_size - 1]);
      }
      h = robust_mix(h, (uint64_t)ti.is_variable + 2u * ti.is_sparse);
      h = robust_mix(h, (uint32_t)ti.producer);
      h = robust_mix(h, ti.consumer_count);
      if (ti.producer < -1 || (ti.producer >= 0 && (uint32_t)ti.producer >= etpu_model_op_count(m, s))) bad++;
    }
    uint32_t nops = etpu_model_op_count(m, s);
    for (uint32_t o = 0; o <= nops; o++) {
      etpu_op_info oi;
      etpu_status st = etpu_model_op(m, s, o, &oi);
      if (o == nops) {
        bad += st == ETPU_OK;
        continue;
      }
      if (st != ETPU_OK || !oi.name || !oi.options_name) {
        bad++;
        continue;
      }
      h = robust_mix(h, (uint64_t)oi.code);
      h = robust_mix(h, strlen(oi.name));
      h = robust_mix(h, strlen(etpu_op_code_name(oi.code)));
      h = robust_mix(h, (uint64_t)oi.version + oi.opcode_index);
      for (uint32_t k = 0; k < oi.input_count; k++) {
        h = robust_mix(h, (uint32_t)oi.inputs[k]);
        if (oi.inputs[k] < -1 || (oi.inputs[k] >= 0 && (uint32_t)oi.inputs[k] >= nt)) bad++;
      }
      for (uint32_t k = 0; k < oi.output_count; k++) {
        h = robust_mix(h, (uint32_t)oi.outputs[k]);
        if (oi.outputs[k] < 0 || (uint32_t)oi.outputs[k] >= nt) bad++;
      }
      h = robust_mix(h, strlen(oi.options_name));
      if (oi.custom_options_size) {
        const uint8_t *c = oi.custom_options;
        h = robust_mix(h, c[0] ^ c[oi.custom_options_size - 1]);
      }
      if (s == 0 && oi.code == ETPU_OP_CUSTOM && !strcmp(oi.name, "edgetpu-custom-op")) {
        /* Google's package: reads, or fails cleanly with a message. */
        etpu_package *pk = NULL;
        etpu_status pst = etpu_model_package(m, s, o, &pk);
        if (pst == ETPU_OK) {
          bad += robust_package_exercise(pk);
          etpu_package_free(pk);
        } else {
          bad += (pst != ETPU_MALFORMED && pst != ETPU_UNSUPPORTED) || !etpu_errmsg()[0];
        }
      }
      int64_t iv = 0;
      double fv = 0;
      static const char *const ifields[] = {"fused_activation_function", "padding", "stride_w", "axis",
                                            "keep_num_dims", "align_corners", "no_such_field"};
      for (size_t f = 0; f < sizeof ifields / sizeof ifields[0]; f++)
        if (etpu_model_op_option_int(m, s, o, ifields[f], &iv) == ETPU_OK) h = robust_mix(h, (uint64_t)iv);
      static const char *const ffields[] = {"beta", "alpha", "cell_clip", "no_such_field"};
      for (size_t f = 0; f < sizeof ffields / sizeof ffields[0]; f++)
        if (etpu_model_op_option_float(m, s, o, ffields[f], &fv) == ETPU_OK) {
          uint64_t bits; /* the value's bits: a float option from a file may be any double (1e300, NaN) */
          memcpy(&bits, &fv, sizeof bits);
          h = robust_mix(h, bits);
        }
      if (etpu_model_op_option_int(m, s, o, "no_such_field", &iv) == ETPU_OK) bad++;
      char small[8], big[4096];
      size_t need = etpu_model_op_options_json(m, s, o, NULL, 0);
      size_t need2 = etpu_model_op_options_json(m, s, o, small, sizeof small);
      size_t need3 = etpu_model_op_options_json(m, s, o, big, sizeof big);
      if (need != need2 || need != need3 || strlen(small) >= sizeof small) bad++;
      if (need <= sizeof big && strlen(big) + 1 != need) bad++;
      h = robust_mix(h, need);
    }
  }
  /* Metadata normalization: advisory, so a damaged metadata buffer may fail
   * (malformed / unsupported) but must not crash; no input past the last. */
  uint32_t nin0 = etpu_model_input_count(m, 0);
  for (uint32_t i = 0; i <= nin0; i++) {
    float mean[8], std[8];
    uint32_t count = 0;
    etpu_status st = etpu_model_input_normalization(m, i, 8, mean, std, &count);
    if (i == nin0) {
      bad += st != ETPU_INVALID_ARGUMENT;
    } else if (st == ETPU_OK) {
      bad += count > 8;
      for (uint32_t c = 0; c < count && c < 8; c++) h = robust_mix(h, (uint64_t)(int64_t)(mean[c] + std[c]));
    } else {
      bad += st != ETPU_MALFORMED && st != ETPU_UNSUPPORTED && st != ETPU_INVALID_ARGUMENT;
    }
  }
  if (etpu_model_validate(m) != ETPU_OK) bad++;
  /* The --target reports on the model as given: the Dev Board Micro verdict
   * and every target's latency answer, or run out of memory. */
  etpu_micro *mc = NULL;
  etpu_status ms = etpu_micro_check(m, 0, &mc);
  if (ms == ETPU_OK) {
    etpu_micro_verdict v;
    etpu_micro_summary(mc, &v);
    h = robust_mix(h, v.arena_bytes);
    char *t = NULL;
    if (etpu_micro_report(mc, ETPU_REPORT_JSON, &t) == ETPU_OK) h = robust_mix(h, strlen(t));
    etpu_free(t);
    etpu_micro_free(mc);
  } else {
    bad += ms != ETPU_OUT_OF_MEMORY;
  }
  for (int target = ETPU_TARGET_USB; target <= ETPU_TARGET_DEVBOARD_MICRO; target++) {
    etpu_latency lat;
    etpu_status ls = etpu_model_latency(m, (etpu_target)target, &lat);
    if (ls == ETPU_OK)
      h = robust_mix(h, (uint64_t)(lat.total_ms * 1000));
    else
      bad += ls != ETPU_OUT_OF_MEMORY && ls != ETPU_MALFORMED;
  }
  robust_sink = h;
  return bad;
}

#endif
