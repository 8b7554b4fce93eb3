/*
 * inspect.c — `etpu inspect MODEL [--json]`: a readable summary of any
 * .tflite model, or JSON for scripts.
 *
 * Models compiled by Google's edgetpu_compiler hold an `edgetpu-custom-op`
 * whose payload is the Edge TPU's closed instruction stream; inspect reports
 * the custom op, its inputs and outputs and the ops left on the CPU, without
 * trying to decode the payload.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "cli.h"

#define EDGETPU_CUSTOM_CODE "edgetpu-custom-op"

static void print_shape(FILE *f, uint32_t rank, const int32_t *shape) {
  fputc('[', f);
  for (uint32_t i = 0; i < rank; i++) fprintf(f, "%s%d", i ? "," : "", shape[i]);
  fputc(']', f);
}

static void print_float_json(FILE *f, double x) {
  if (isfinite(x))
    fprintf(f, "%.9g", x);
  else
    fprintf(f, "\"%s\"", isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf"));
}

static void tensor_line(FILE *f, const etpu_model *m, int32_t idx) {
  if (idx < 0) {
    fprintf(f, "(omitted)");
    return;
  }
  etpu_tensor_info t;
  if (etpu_model_tensor(m, 0, (uint32_t)idx, &t) != ETPU_OK) return;
  fprintf(f, "t%d %s", idx, etpu_dtype_name(t.type));
  print_shape(f, t.rank, t.shape);
  if (t.signature_rank) {
    bool dyn = false;
    for (uint32_t i = 0; i < t.signature_rank; i++) dyn |= t.shape_signature[i] < 0;
    if (dyn) {
      fprintf(f, " sig");
      print_shape(f, t.signature_rank, t.shape_signature);
    }
  }
  if (t.quant_count == 1)
    fprintf(f, " q(%.6g, %" PRId64 ")", t.scale[0], t.zero_point ? t.zero_point[0] : 0);
  else if (t.quant_count > 1)
    fprintf(f, " q(per-axis %u on dim %d)", t.quant_count, t.quantized_dimension);
  if (t.data) fprintf(f, " const");
  if (t.is_variable) fprintf(f, " var");
  fprintf(f, " '%s'", cli_t(t.name));
}

typedef struct hist_entry {
  const char *name;
  uint32_t count;
} hist_entry;

static uint32_t histogram(const etpu_model *m, uint32_t sg, hist_entry *h, uint32_t cap) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < etpu_model_op_count(m, sg); i++) {
    etpu_op_info op;
    if (etpu_model_op(m, sg, i, &op) != ETPU_OK) continue;
    uint32_t k = 0;
    while (k < n && strcmp(h[k].name, op.name) != 0) k++;
    if (k == n) {
      if (n == cap) continue;
      h[n].name = op.name;
      h[n].count = 0;
      n++;
    }
    h[k].count++;
  }
  return n;
}

/* Edge TPU facts of subgraph 0. */
typedef struct edgetpu_facts {
  uint32_t custom_ops; /* edgetpu-custom-op count */
  uint32_t cpu_ops;    /* all other ops */
  int32_t first;       /* index of the first custom op, -1 */
} edgetpu_facts;

static edgetpu_facts edgetpu_scan(const etpu_model *m) {
  edgetpu_facts e = {0, 0, -1};
  for (uint32_t i = 0; i < etpu_model_op_count(m, 0); i++) {
    etpu_op_info op;
    if (etpu_model_op(m, 0, i, &op) != ETPU_OK) continue;
    if (op.code == ETPU_OP_CUSTOM && !strcmp(op.name, EDGETPU_CUSTOM_CODE)) {
      if (e.first < 0) e.first = (int32_t)i;
      e.custom_ops++;
    } else {
      e.cpu_ops++;
    }
  }
  return e;
}

/* The normalization the TFLite metadata records for input i: count values
 * (0: none), or false with the library's message when it cannot be read. */
static bool input_norm(const etpu_model *m, uint32_t i, float *mean, float *std, uint32_t *count) {
  *count = 0;
  return etpu_model_input_normalization(m, i, 16, mean, std, count) == ETPU_OK;
}

/* ---- Google's Edge TPU package (etpu_package_read) ----------------------- */

static void pkg_layer_text(const char *dir, const etpu_pkg_layer *l) {
  printf("        %s '%s' %dx%dx%d %s, %d bytes", dir, cli_t(l->name), l->y_dim, l->x_dim, l->z_dim,
         etpu_pkg_dtype_name(l->data_type), l->size_bytes);
  if (l->has_numerics) printf(", zero point %d, scale %.9g", l->zero_point, (double)l->scale);
  if (l->execution_count != 1) printf(", executed %d times per inference", l->execution_count);
  printf("\n");
}

/* True when another edgetpu-custom-op of the model shares a caching token
 * with op `op`'s package (co-compiled models in one file). */
static bool pkg_token_shared(const etpu_model *m, uint32_t op, const etpu_package *p) {
  uint64_t tok = 0;
  for (uint32_t k = 0; k < p->executable_count; k++)
    if (p->executables[k].parameter_caching_token) tok = p->executables[k].parameter_caching_token;
  if (!tok) return false;
  bool shared = false;
  for (uint32_t i = 0; i < etpu_model_op_count(m, 0) && !shared; i++) {
    etpu_op_info info;
    etpu_package *q;
    if (i == op || etpu_model_op(m, 0, i, &info) != ETPU_OK || info.code != ETPU_OP_CUSTOM ||
        strcmp(info.name, EDGETPU_CUSTOM_CODE) || etpu_model_package(m, 0, i, &q) != ETPU_OK)
      continue;
    for (uint32_t k = 0; k < q->executable_count; k++) shared |= q->executables[k].parameter_caching_token == tok;
    etpu_package_free(q);
  }
  return shared;
}

static void pkg_text(const etpu_model *m, uint32_t op, const etpu_package *p) {
  char a[32], b[32];
  if (p->legacy)
    printf("      package: 1.0-era layout (bare executables), options version %lld\n", (long long)p->options_version);
  else
    printf("      package: DWN1, min runtime version %d, compiler version '%s', options version %lld\n",
           p->min_runtime_version, cli_t(p->compiler_version), (long long)p->options_version);
  if (p->has_execution_preference) printf("      execution preference %lld", (long long)p->execution_preference);
  if (p->chip_id_count) {
    printf("%schip ids", p->has_execution_preference ? ", " : "      ");
    for (uint32_t k = 0; k < p->chip_id_count; k++) printf(" %lld", (long long)p->chip_ids[k]);
  }
  if (p->has_execution_preference || p->chip_id_count) printf("\n");
  if (p->extra_count || p->multi_chip_package_count || p->signature_size || p->model_identifier[0])
    printf("      %u further package(s), %u multi-chip package(s) (not decoded), signature %zu bytes, "
           "model identifier '%s'\n",
           p->extra_count, p->multi_chip_package_count, p->signature_size, cli_t(p->model_identifier));
  printf("      On-chip memory used for caching model parameters: %s\n",
         etpu_format_bytes(etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING), a, sizeof a));
  printf("      Off-chip memory used for streaming uncached model parameters: %s\n",
         etpu_format_bytes(etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY), b, sizeof b));
  const int64_t cycles = etpu_package_estimated_cycles(p);
  if (cycles) printf("      estimated cycles per inference: %lld\n", (long long)cycles);
  if (pkg_token_shared(m, op, p))
    printf("      co-compiled: another edgetpu-custom-op of this model shares its parameter caching token\n");
  for (uint32_t k = 0; k < p->executable_count; k++) {
    const etpu_pkg_executable *e = &p->executables[k];
    printf("      executable %u: %s, chip '%s', batch %d, caching token 0x%016llx\n", k, etpu_pkg_exe_type_name(e->type),
           cli_t(e->chip), e->batch_size, (unsigned long long)e->parameter_caching_token);
    printf("        instructions %zu bytes in %u bitstream(s), parameters %zu bytes, scratch %d bytes, "
           "narrow memory %d bytes per tile, %u DMA hint(s)\n",
           e->instruction_bytes, e->bitstream_count, e->parameters_size, e->scratch_size_bytes,
           e->used_narrow_memory_bytes_per_tile, e->dma_hint_count);
    if (e->name[0]) printf("        name '%s'\n", cli_t(e->name));
    if (e->estimated_cycles || e->estimated_cycles_64bit)
      printf("        estimated cycles %d (32-bit), %lld (64-bit)\n", e->estimated_cycles,
             (long long)e->estimated_cycles_64bit);
    for (uint32_t i = 0; i < e->input_count; i++) pkg_layer_text("in ", &e->inputs[i]);
    for (uint32_t i = 0; i < e->output_count; i++) pkg_layer_text("out", &e->outputs[i]);
  }
}

static void pkg_layers_json(FILE *f, uint32_t n, const etpu_pkg_layer *l) {
  fputc('[', f);
  for (uint32_t i = 0; i < n; i++) {
    fprintf(f, "%s{\"name\": ", i ? ", " : "");
    cli_json_string(f, l[i].name);
    fprintf(f, ", \"y\": %d, \"x\": %d, \"z\": %d, \"size_bytes\": %d, \"data_type\": \"%s\"", l[i].y_dim, l[i].x_dim,
            l[i].z_dim, l[i].size_bytes, etpu_pkg_dtype_name(l[i].data_type));
    if (l[i].has_numerics) {
      fprintf(f, ", \"zero_point\": %d, \"scale\": ", l[i].zero_point);
      print_float_json(f, l[i].scale);
    }
    fprintf(f, ", \"execution_count\": %d, \"shape\": [", l[i].execution_count);
    for (uint32_t k = 0; k < l[i].rank; k++) fprintf(f, "%s[%d, %d]", k ? ", " : "", l[i].dim_start[k], l[i].dim_end[k]);
    fprintf(f, "]}");
  }
  fputc(']', f);
}

static void pkg_json(FILE *f, const etpu_model *m, uint32_t op, const etpu_package *p) {
  fprintf(f, ", \"package\": {\"layout\": \"%s\", \"options_version\": %lld, \"min_runtime_version\": %d, "
             "\"compiler_version\": ",
          p->legacy ? "legacy" : "DWN1", (long long)p->options_version, p->min_runtime_version);
  cli_json_string(f, p->compiler_version);
  fprintf(f, ", \"model_identifier\": ");
  cli_json_string(f, p->model_identifier);
  fprintf(f, ", \"keypair_version\": %d, \"virtual_chip_id\": %d, \"signature_bytes\": %zu, "
             "\"multi_chip_packages\": %u, \"further_packages\": %u",
          p->keypair_version, p->virtual_chip_id, p->signature_size, p->multi_chip_package_count, p->extra_count);
  if (p->has_execution_preference) fprintf(f, ", \"execution_preference\": %lld", (long long)p->execution_preference);
  fprintf(f, ", \"chip_ids\": [");
  for (uint32_t k = 0; k < p->chip_id_count; k++) fprintf(f, "%s%lld", k ? ", " : "", (long long)p->chip_ids[k]);
  fprintf(f, "], \"on_chip_parameter_bytes\": %llu, \"off_chip_parameter_bytes\": %llu, \"estimated_cycles\": %lld, "
             "\"co_compiled_in_file\": %s, \"executables\": [",
          (unsigned long long)etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING),
          (unsigned long long)etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY),
          (long long)etpu_package_estimated_cycles(p), pkg_token_shared(m, op, p) ? "true" : "false");
  for (uint32_t k = 0; k < p->executable_count; k++) {
    const etpu_pkg_executable *e = &p->executables[k];
    fprintf(f, "%s{\"type\": \"%s\", \"version\": %d, \"name\": ", k ? ", " : "", etpu_pkg_exe_type_name(e->type),
            e->version);
    cli_json_string(f, e->name);
    fprintf(f, ", \"chip\": ");
    cli_json_string(f, e->chip);
    fprintf(f, ", \"batch_size\": %d, \"parameter_caching_token\": %llu, \"parameter_bytes\": %zu, "
               "\"instruction_bytes\": %zu, \"bitstream_bytes\": [",
            e->batch_size, (unsigned long long)e->parameter_caching_token, e->parameters_size, e->instruction_bytes);
    for (uint32_t i = 0; i < e->bitstream_count; i++) fprintf(f, "%s%zu", i ? ", " : "", e->bitstream_sizes[i]);
    fprintf(f, "], \"scratch_size_bytes\": %d, \"serialized_model_bytes\": %zu, "
               "\"used_narrow_memory_bytes_per_tile\": %d, \"estimated_cycles\": %d, \"estimated_cycles_64bit\": %lld, "
               "\"use_tpu_dram_for_parameters\": %s, \"dma_fully_deterministic\": %s, \"dma_hints\": [",
            e->scratch_size_bytes, e->serialized_model_size, e->used_narrow_memory_bytes_per_tile, e->estimated_cycles,
            (long long)e->estimated_cycles_64bit, e->use_tpu_dram_for_parameters ? "true" : "false",
            e->dma_fully_deterministic ? "true" : "false");
    static const char *const kinds[] = {"", "descriptor", "instruction", "interrupt", "fence"};
    for (uint32_t i = 0; i < e->dma_hint_count; i++) {
      const etpu_pkg_dma_hint *h = &e->dma_hints[i];
      fprintf(f, "%s{\"kind\": \"%s\", \"direction\": \"%s\"", i ? ", " : "", kinds[h->kind],
              h->direction ? "outfeed" : "infeed");
      if (h->kind == 1)
        fprintf(f, ", \"desc\": %d, \"offset\": %d, \"size\": %d", h->desc, h->offset_in_bytes, h->size_in_bytes);
      else if (h->kind != 4)
        fprintf(f, ", \"value\": %d", h->value);
      fputc('}', f);
    }
    fprintf(f, "], \"inputs\": ");
    pkg_layers_json(f, e->input_count, e->inputs);
    fprintf(f, ", \"outputs\": ");
    pkg_layers_json(f, e->output_count, e->outputs);
    fputc('}', f);
  }
  fprintf(f, "]}");
}

/* Set when a Google package could not be read: the command exits 1. */
static bool pkg_failed;

static int print_target(const etpu_model *m, const char *path, etpu_target target, bool json);

static int print_text(const etpu_model *m, const char *path, etpu_target target) {
  printf("model: %s\n", cli_t(etpu_model_label(m)));
  printf("  schema version %u, %u subgraph(s), %u buffer(s)", etpu_model_schema_version(m),
         etpu_model_subgraph_count(m), etpu_model_buffer_count(m));
  if (etpu_model_description(m)[0]) printf(", description \"%s\"", cli_t(etpu_model_description(m)));
  printf("\n");
  for (uint32_t i = 0; i < etpu_model_metadata_count(m); i++) {
    const char *name;
    size_t size;
    if (etpu_model_metadata(m, i, &name, NULL, &size) == ETPU_OK) printf("  metadata '%s' (%zu bytes)\n", cli_t(name), size);
  }
  for (uint32_t i = 0; etpu_model_metadata_count(m) && i < etpu_model_input_count(m, 0); i++) {
    float mean[16], std[16];
    uint32_t n;
    if (!input_norm(m, i, mean, std, &n)) {
      printf("  input %u normalization: metadata unreadable (%s)\n", i, etpu_errmsg());
      continue;
    }
    if (!n) continue;
    printf("  input %u normalization (metadata): real = (x - mean) / std, mean", i);
    for (uint32_t c = 0; c < n; c++) printf(" %g", mean[c]);
    printf(", std");
    for (uint32_t c = 0; c < n; c++) printf(" %g", std[c]);
    printf("\n");
  }
  edgetpu_facts e = edgetpu_scan(m);
  if (e.custom_ops) {
    printf("  compiled for the Edge TPU: %u edgetpu-custom-op, %u op(s) on the CPU\n", e.custom_ops, e.cpu_ops);
    for (uint32_t i = 0; i < etpu_model_op_count(m, 0); i++) {
      etpu_op_info op;
      if (etpu_model_op(m, 0, i, &op) != ETPU_OK) continue;
      if (op.code == ETPU_OP_CUSTOM && !strcmp(op.name, EDGETPU_CUSTOM_CODE)) {
        const unsigned char *pl = op.custom_options;
        const bool ours = pl && op.custom_options_size >= 48 && !memcmp(pl, "ETPUSIM1", 8);
        if (ours)
          printf("    op %u edgetpu-custom-op: payload %zu bytes, written by etpu compile: %u ops as a .tflite, "
                 "Edge TPU runtime >= %u (simulated by `etpu run`; not for a physical Edge TPU)\n",
                 i, op.custom_options_size, (unsigned)(pl[40] | pl[41] << 8 | pl[42] << 16 | (unsigned)pl[43] << 24),
                 (unsigned)(pl[12] | pl[13] << 8 | pl[14] << 16 | (unsigned)pl[15] << 24));
        else
          printf("    op %u edgetpu-custom-op: payload %zu bytes (Google's Edge TPU package; instructions not decoded)\n",
                 i, op.custom_options_size);
        for (uint32_t k = 0; k < op.input_count; k++) {
          printf("      in  ");
          tensor_line(stdout, m, op.inputs[k]);
          printf("\n");
        }
        for (uint32_t k = 0; k < op.output_count; k++) {
          printf("      out ");
          tensor_line(stdout, m, op.outputs[k]);
          printf("\n");
        }
        if (!ours) {
          etpu_package *p;
          if (etpu_model_package(m, 0, i, &p) == ETPU_OK) {
            pkg_text(m, i, p);
            etpu_package_free(p);
          } else {
            printf("      package unreadable: %s\n", etpu_errmsg());
            pkg_failed = true;
          }
        }
      }
    }
  }
  int rc = print_target(m, path, target, false);
  if (rc) return rc;
  for (uint32_t sg = 0; sg < etpu_model_subgraph_count(m); sg++) {
    printf("\nsubgraph %u '%s': %u tensors, %u ops\n", sg, cli_t(etpu_model_subgraph_name(m, sg)),
           etpu_model_tensor_count(m, sg), etpu_model_op_count(m, sg));
    if (sg != 0) continue; /* details for the main graph */
    printf("inputs:\n");
    for (uint32_t i = 0; i < etpu_model_input_count(m, 0); i++) {
      printf("  ");
      tensor_line(stdout, m, etpu_model_input(m, 0, i));
      printf("\n");
    }
    printf("outputs:\n");
    for (uint32_t i = 0; i < etpu_model_output_count(m, 0); i++) {
      printf("  ");
      tensor_line(stdout, m, etpu_model_output(m, 0, i));
      printf("\n");
    }
    hist_entry h[256];
    uint32_t n = histogram(m, 0, h, 256);
    printf("op histogram:\n");
    for (uint32_t k = 0; k < n; k++) printf("  %-28s %u\n", cli_t(h[k].name), h[k].count);
    printf("ops:\n");
    for (uint32_t i = 0; i < etpu_model_op_count(m, 0); i++) {
      etpu_op_info op;
      if (etpu_model_op(m, 0, i, &op) != ETPU_OK) continue;
      printf("  %3u %s v%d\n", i, cli_t(op.name), op.version);
      for (uint32_t k = 0; k < op.input_count; k++) {
        printf("        in  ");
        tensor_line(stdout, m, op.inputs[k]);
        printf("\n");
      }
      for (uint32_t k = 0; k < op.output_count; k++) {
        printf("        out ");
        tensor_line(stdout, m, op.outputs[k]);
        printf("\n");
      }
    }
  }  return 0;
}

static void json_int_list(FILE *f, uint32_t n, const int32_t *v) {
  fputc('[', f);
  for (uint32_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", v[i]);
  fputc(']', f);
}

static void json_tensor(FILE *f, const etpu_model *m, uint32_t sg, uint32_t i) {
  etpu_tensor_info t;
  if (etpu_model_tensor(m, sg, i, &t) != ETPU_OK) {
    fprintf(f, "null");
    return;
  }
  fprintf(f, "{\"index\": %u, \"name\": ", i);
  cli_json_string(f, t.name);
  fprintf(f, ", \"type\": \"%s\", \"shape\": ", etpu_dtype_name(t.type));
  json_int_list(f, t.rank, t.shape);
  if (t.signature_rank) {
    fprintf(f, ", \"shape_signature\": ");
    json_int_list(f, t.signature_rank, t.shape_signature);
  }
  if (t.quant_count) {
    fprintf(f, ", \"quantization\": {\"scale\": [");
    for (uint32_t k = 0; k < t.quant_count; k++) {
      if (k) fprintf(f, ", ");
      print_float_json(f, t.scale[k]);
    }
    fprintf(f, "], \"zero_point\": [");
    for (uint32_t k = 0; k < t.quant_count; k++) fprintf(f, "%s%" PRId64, k ? ", " : "", t.zero_point ? t.zero_point[k] : 0);
    fprintf(f, "], \"quantized_dimension\": %d}", t.quantized_dimension);
  }
  fprintf(f, ", \"buffer\": %u, \"constant\": %s, \"bytes\": %zu", t.buffer, t.data ? "true" : "false", t.data_size);
  if (t.is_variable) fprintf(f, ", \"variable\": true");
  if (t.is_sparse) fprintf(f, ", \"sparse\": true");
  fprintf(f, ", \"producer\": %d, \"consumers\": %u}", t.producer, t.consumer_count);
}

static int print_json(const etpu_model *m, const char *path, etpu_target target) {
  FILE *f = stdout;
  fprintf(f, "{\n  \"file\": ");
  cli_json_string(f, etpu_model_label(m));
  fprintf(f, ",\n  \"schema_version\": %u,\n  \"description\": ", etpu_model_schema_version(m));
  cli_json_string(f, etpu_model_description(m));
  fprintf(f, ",\n  \"buffers\": %u,\n  \"metadata\": [", etpu_model_buffer_count(m));
  for (uint32_t i = 0; i < etpu_model_metadata_count(m); i++) {
    const char *name;
    size_t size;
    if (etpu_model_metadata(m, i, &name, NULL, &size) != ETPU_OK) continue;
    fprintf(f, "%s{\"name\": ", i ? ", " : "");
    cli_json_string(f, name);
    fprintf(f, ", \"bytes\": %zu}", size);
  }
  fprintf(f, "],\n  \"input_normalization\": [");
  bool first = true;
  for (uint32_t i = 0; etpu_model_metadata_count(m) && i < etpu_model_input_count(m, 0); i++) {
    float mean[16], std[16];
    uint32_t n;
    bool ok = input_norm(m, i, mean, std, &n);
    if (ok && !n) continue;
    fprintf(f, "%s{\"input\": %u, ", first ? "" : ", ", i);
    first = false;
    if (!ok) {
      fprintf(f, "\"error\": ");
      cli_json_string(f, etpu_errmsg());
    } else {
      fprintf(f, "\"mean\": [");
      for (uint32_t c = 0; c < n; c++) fprintf(f, "%s%.9g", c ? ", " : "", mean[c]);
      fprintf(f, "], \"std\": [");
      for (uint32_t c = 0; c < n; c++) fprintf(f, "%s%.9g", c ? ", " : "", std[c]);
      fprintf(f, "]");
    }
    fprintf(f, "}");
  }
  fprintf(f, "],\n");
  edgetpu_facts e = edgetpu_scan(m);
  fprintf(f, "  \"edgetpu\": {\"compiled\": %s, \"custom_ops\": %u, \"cpu_ops\": %u", e.custom_ops ? "true" : "false",
          e.custom_ops, e.custom_ops ? e.cpu_ops : 0);
  if (e.custom_ops) {
    etpu_op_info op;
    if (etpu_model_op(m, 0, (uint32_t)e.first, &op) == ETPU_OK) {
      bool ours = op.custom_options && op.custom_options_size >= 48 &&
                  !memcmp(op.custom_options, "ETPUSIM1", 8);
      fprintf(f, ", \"custom_op_index\": %d, \"payload_bytes\": %zu, \"payload_format\": \"%s\", \"inputs\": ", e.first,
              op.custom_options_size, ours ? "etpu-simulation" : "edgetpu-compiler");
      json_int_list(f, op.input_count, op.inputs);
      fprintf(f, ", \"outputs\": ");
      json_int_list(f, op.output_count, op.outputs);
      etpu_package *p;
      if (!ours && etpu_model_package(m, 0, (uint32_t)e.first, &p) == ETPU_OK) {
        pkg_json(f, m, (uint32_t)e.first, p);
        etpu_package_free(p);
      } else if (!ours) {
        fprintf(f, ", \"package_error\": ");
        cli_json_string(f, etpu_errmsg());
        pkg_failed = true;
      }
    }
  }
  fprintf(f, "},\n");
  int rc = print_target(m, path, target, true);
  if (rc) return rc;
  fprintf(f, "  \"subgraphs\": [\n");
  for (uint32_t sg = 0; sg < etpu_model_subgraph_count(m); sg++) {
    fprintf(f, "    {\"name\": ");
    cli_json_string(f, etpu_model_subgraph_name(m, sg));
    fprintf(f, ", \"inputs\": [");
    for (uint32_t i = 0; i < etpu_model_input_count(m, sg); i++)
      fprintf(f, "%s%d", i ? ", " : "", etpu_model_input(m, sg, i));
    fprintf(f, "], \"outputs\": [");
    for (uint32_t i = 0; i < etpu_model_output_count(m, sg); i++)
      fprintf(f, "%s%d", i ? ", " : "", etpu_model_output(m, sg, i));
    fprintf(f, "],\n     \"op_count\": %u, \"tensor_count\": %u,\n     \"op_histogram\": {", etpu_model_op_count(m, sg),
            etpu_model_tensor_count(m, sg));
    hist_entry h[256];
    uint32_t n = histogram(m, sg, h, 256);
    for (uint32_t k = 0; k < n; k++) {
      fprintf(f, "%s", k ? ", " : "");
      cli_json_string(f, h[k].name);
      fprintf(f, ": %u", h[k].count);
    }
    fprintf(f, "},\n     \"tensors\": [\n");
    for (uint32_t i = 0; i < etpu_model_tensor_count(m, sg); i++) {
      fprintf(f, "       ");
      json_tensor(f, m, sg, i);
      fprintf(f, "%s\n", i + 1 < etpu_model_tensor_count(m, sg) ? "," : "");
    }
    fprintf(f, "     ],\n     \"ops\": [\n");
    size_t cap = 1024;
    char *buf = malloc(cap);
    for (uint32_t i = 0; i < etpu_model_op_count(m, sg); i++) {
      etpu_op_info op;
      if (etpu_model_op(m, sg, i, &op) != ETPU_OK) continue;
      fprintf(f, "       {\"index\": %u, \"type\": ", i);
      cli_json_string(f, op.code == ETPU_OP_CUSTOM ? "CUSTOM" : op.name);
      if (op.code == ETPU_OP_CUSTOM) {
        fprintf(f, ", \"custom_code\": ");
        cli_json_string(f, op.name);
        fprintf(f, ", \"custom_options_bytes\": %zu", op.custom_options_size);
      }
      fprintf(f, ", \"builtin_code\": %d, \"version\": %d, \"inputs\": ", op.code, op.version);
      json_int_list(f, op.input_count, op.inputs);
      fprintf(f, ", \"outputs\": ");
      json_int_list(f, op.output_count, op.outputs);
      if (buf) {
        size_t need = etpu_model_op_options_json(m, sg, i, buf, cap);
        if (need > cap) {
          char *nb = realloc(buf, need);
          if (nb) {
            buf = nb;
            cap = need;
            etpu_model_op_options_json(m, sg, i, buf, cap);
          }
        }
        if (op.options_name[0]) fprintf(f, ", \"options_type\": \"%s\", \"options\": %s", op.options_name, buf);
      }
      fprintf(f, "}%s\n", i + 1 < etpu_model_op_count(m, sg) ? "," : "");
    }
    free(buf);
    fprintf(f, "     ]}%s\n", sg + 1 < etpu_model_subgraph_count(m) ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  return 0;
}

/* The target block (--target): the device assumed, the Edge TPU latency
 * estimate of a compiled model, and for devboard-micro the verdict on the
 * model as given. Text lines, or JSON members ending ",\n". Returns the
 * exit code (0, or the library's error). */
static int print_target(const etpu_model *m, const char *path, etpu_target target, bool json) {
  etpu_latency lat;
  char *lt = NULL, *mt = NULL;
  etpu_micro *mc = NULL;
  struct stat st;
  etpu_status s = etpu_model_latency(m, target, &lat);
  if (s == ETPU_OK) s = etpu_latency_report(&lat, json ? ETPU_REPORT_JSON : ETPU_REPORT_CONSOLE, &lt);
  if (s == ETPU_OK && target == ETPU_TARGET_DEVBOARD_MICRO)
    s = etpu_micro_check(m, stat(path, &st) == 0 ? (uint64_t)st.st_size : 0, &mc);
  if (s == ETPU_OK && mc) s = etpu_micro_report(mc, json ? ETPU_REPORT_JSON : ETPU_REPORT_CONSOLE, &mt);
  if (s == ETPU_OK && json) {
    printf("  \"target\": \"%s\", \"target_description\": ", etpu_target_name(target));
    cli_json_string(stdout, etpu_target_description(target));
    printf(",\n  \"latency\": %s,\n", lt);
    if (mt) printf("  \"devboard_micro\": %s,\n", mt);
  } else if (s == ETPU_OK) {
    printf("etpu: target %s: %s\n%s%s", etpu_target_name(target), etpu_target_description(target), lt, mt ? mt : "");
  }
  etpu_free(lt);
  etpu_free(mt);
  etpu_micro_free(mc);
  return s == ETPU_OK ? 0 : cli_report(s);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu inspect MODEL [--json] [--target T] [--source SOURCE.tflite]   (also: etpu show)\n"
          "  summarise a .tflite model (compiled ones too): tensors, ops, metadata, Edge TPU custom ops\n"
          "  and Google's Edge TPU package (executables, layers, memory, estimated cycles)\n"
          "  --json           print JSON for scripts instead\n"
          "  --target usb|pcie|devboard|devboard-micro\n"
          "                   the device assumed (default usb): the Edge TPU latency estimate of a compiled\n"
          "                   model; devboard-micro adds whether its CPU ops run under TFLite Micro on the\n"
          "                   board (all ops of a model not compiled) and whether it fits the board's memories\n"
          "  --source FILE    MODEL is compiled by edgetpu_compiler: say layer by layer whether its cached\n"
          "                   parameters are exactly FILE's (\"all layers equal\", or the first layer that\n"
          "                   differs; exit 0 either way, 1 when they cannot be compared)\n"
          "  -h, --help       this help\n");
}

/* ---- inspect --source: the package's parameters against a source model ---- */

static const char *layer_kind(int32_t code) {
  return code == ETPU_OP_SOFTMAX ? "SOFTMAX tables" : etpu_op_code_name(code);
}

/* Compare op 0's package of `m` with `src`; prints text or JSON. Returns the
 * exit code. */
static int source_check(const etpu_model *m, const etpu_model *src, bool json) {
  int32_t op = -1;
  for (uint32_t i = 0; i < etpu_model_op_count(m, 0) && op < 0; i++) {
    etpu_op_info info;
    if (etpu_model_op(m, 0, i, &info) == ETPU_OK && info.code == ETPU_OP_CUSTOM &&
        !strcmp(info.name, EDGETPU_CUSTOM_CODE))
      op = (int32_t)i;
  }
  if (op < 0) {
    fprintf(stderr, "etpu: error: %s: --source needs a model compiled by edgetpu_compiler (no %s)\n",
            cli_t(etpu_model_label(m)), EDGETPU_CUSTOM_CODE);
    return 1;
  }
  etpu_package *p;
  etpu_status st = etpu_model_package(m, 0, (uint32_t)op, &p);
  if (st) return cli_report_input(st);
  etpu_params *enc, *dec;
  st = etpu_params_match_package(src, p, &enc, &dec);
  if (st) {
    etpu_package_free(p);
    return cli_report_input(st);
  }
  const uint64_t google = etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING);
  int32_t first = -1;
  const char *what = NULL;
  uint32_t equal = 0;
  FILE *f = stdout;
  if (json) {
    fprintf(f, "{\"model\": ");
    cli_json_string(f, etpu_model_label(m));
    fprintf(f, ", \"source\": ");
    cli_json_string(f, etpu_model_label(src));
    fprintf(f, ", \"package_parameter_bytes\": %llu, \"source_parameter_bytes\": %zu, \"softmax_tables\": %s, "
               "\"layers\": [",
            (unsigned long long)google, enc->size, enc->softmax_tables ? "true" : "false");
  } else {
    printf("%s: cached parameters %llu bytes; %s encodes to %zu bytes in %u layers%s\n", cli_t(etpu_model_label(m)),
           (unsigned long long)google, cli_t(etpu_model_label(src)), enc->size, enc->layer_count,
           enc->softmax_tables ? " (with SOFTMAX tables)" : "");
  }
  for (uint32_t i = 0; i < enc->layer_count; i++) {
    const etpu_param_layer *a = &enc->layers[i], *b = &dec->layers[i];
    const char *d = etpu_param_layer_diff(a, b);
    if (!d && !b->exact) d = "layout (the bytes do not re-encode)";
    if (!d) equal++;
    else if (first < 0) first = (int32_t)i, what = d;
    if (json) {
      fprintf(f, "%s{\"layer\": %u, \"op\": %u, \"type\": \"%s\", \"offset\": %zu, \"bytes\": %zu, "
                 "\"kxk_order\": %d, \"equal\": %s",
              i ? ", " : "", i, a->op, layer_kind(a->code), a->offset, a->size, b->kxk_order, d ? "false" : "true");
      if (d) fprintf(f, ", \"differs\": \"%s\"", d);
      fputc('}', f);
    } else {
      printf("  layer %3u op %3u %-17s %4ux%-4u %ux%u  bytes %8zu at %8zu: %s%s\n", i, a->op, layer_kind(a->code),
             a->in_channels, a->out_channels, a->kernel_h, a->kernel_w, a->size, a->offset, d ? d : "equal",
             d ? " differ" : "");
    }
  }
  const bool sizes = enc->size == google;
  const bool all = first < 0 && sizes && !enc->unencoded_count;
  if (json) {
    fprintf(f, "], \"not_decoded_ops\": [");
    for (uint32_t k = 0; k < enc->unencoded_count; k++) fprintf(f, "%s%u", k ? ", " : "", enc->unencoded_ops[k]);
    fprintf(f, "], \"equal_layers\": %u, \"all_layers_equal\": %s", equal, all ? "true" : "false");
    if (first >= 0) fprintf(f, ", \"first_differing_layer\": %d, \"first_differing_op\": %u", first,
                            enc->layers[first].op);
    fprintf(f, "}\n");
  } else {
    for (uint32_t k = 0; k < enc->unencoded_count; k++) {
      etpu_op_info info;
      if (etpu_model_op(src, 0, enc->unencoded_ops[k], &info) == ETPU_OK)
        printf("  op %u %s: parameters not decoded (its layout is not known)\n", enc->unencoded_ops[k], info.name);
    }
    if (enc->unencoded_count)
      printf("not compared whole: %u op(s) not decoded; %u of %u encoded layers found equal in the data\n",
             enc->unencoded_count, equal, enc->layer_count);
    else if (all)
      printf("all layers equal: %s holds exactly the parameters of %s\n", cli_t(etpu_model_label(m)),
             cli_t(etpu_model_label(src)));
    else if (first >= 0)
      printf("first differing layer: layer %d (op %u %s): %s differ; %u of %u layers equal\n", first,
             enc->layers[first].op, layer_kind(enc->layers[first].code), what, equal, enc->layer_count);
    else if (!sizes)
      printf("sizes differ: %llu cached bytes, %zu encoded; %u of %u layers equal\n", (unsigned long long)google,
             enc->size, equal, enc->layer_count);
    else
      printf("the %u encoded layers are equal; %u op(s) not decoded\n", equal, enc->unencoded_count);
  }
  etpu_params_free(dec);
  etpu_params_free(enc);
  etpu_package_free(p);
  return 0;
}

int etpu_cmd_inspect(int argc, char **argv) {
  const char *path = NULL, *tval = NULL, *source = NULL;
  bool json = false;
  etpu_target target = ETPU_TARGET_USB;
  for (int i = 1; i < argc; i++) {
    int r;
    if (cli_common_flag("inspect", argv[i], usage, &json, &r)) {
      if (r >= 0) return r;
    } else if ((r = cli_flag_value("inspect", argc, argv, &i, "--target", NULL, &tval)) != 0) {
      if (r < 0) return CLI_EXIT_USAGE;
      if (etpu_target_parse(tval, &target) != ETPU_OK)
        return cli_bad_value("inspect", "--target", "usb, pcie, devboard or devboard-micro", tval);
    } else if ((r = cli_flag_value("inspect", argc, argv, &i, "--source", NULL, &source)) != 0) {
      if (r < 0) return CLI_EXIT_USAGE;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return cli_usage_error("inspect", "unknown option '%s'", cli_t(argv[i]));
    } else if (!path) {
      path = argv[i];
    } else {
      return cli_usage_error("inspect", "one model at a time ('%s' is extra)", cli_t(argv[i]));
    }
  }
  if (!path) return cli_usage_error("inspect", "no MODEL given");
  etpu_model *m;
  etpu_status st = etpu_model_open(path, &m);
  if (st != ETPU_OK) return cli_report(st);
  int rc = 0;
  if (source) {
    etpu_model *src;
    st = etpu_model_open(source, &src);
    if (st != ETPU_OK) {
      etpu_model_free(m);
      return cli_report(st);
    }
    const int sr = source_check(m, src, json);
    etpu_model_free(src);
    etpu_model_free(m);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      fprintf(stderr, "etpu: error: cannot write to standard output\n");
      return CLI_EXIT_IO;
    }
    return sr;
  }
  if (json)
    rc = print_json(m, path, target);
  else
    rc = print_text(m, path, target);
  etpu_model_free(m);
  if (rc) return rc;
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "etpu: error: cannot write to standard output\n");
    return CLI_EXIT_IO;
  }
  if (pkg_failed) {
    fprintf(stderr, "etpu: error: %s: the Edge TPU package breaks a rule (see the package line above)\n", cli_t(path));
    return 1;
  }
  return 0;
}
