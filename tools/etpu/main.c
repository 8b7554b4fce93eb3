/*
 * main.c — the etpu command-line program: dispatch to subcommands. The
 * helpers they share (exit codes, escaping, flags, folders) are in cli.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu <command> [options]   (etpu <command> --help for its options)\n"
          "\n"
          "commands:\n"
          "  inspect MODEL [--json]            summarise a .tflite model, compiled ones too (alias: show)\n"
          "  compile [opts] MODEL... [-o DIR]  map a model to the Edge TPU (edgetpu_compiler's flags and reports)\n"
          "  run MODEL --input FILE... [-o DIR]  run a model on images, .npy or raw inputs\n"
          "  quantize MODEL --calib DIR -o OUT   int8 post-training quantization\n"
          "  imprint MODEL --class NAME=DIR... -o OUT  weight imprinting (also --make-model)\n"
          "  train MODEL --data DIR -o OUT       train a softmax layer on a model's embeddings\n"
          "  extract MODEL IMAGE|DIR... -o OUT.npy  embeddings of images as a float32 .npy\n"
          "  visualize MODEL [-o REPORT.html]  an HTML page of the graph and its Edge TPU mapping (compile flags too)\n"
          "  demo [-o] OUT.tflite              write the bundled demo model (a small uint8 classifier)\n"
          "  version                           print the etpu version\n"
          "\n"
          "Every flag takes \"--flag value\" or \"--flag=value\"; -o names where a command writes (a file, or\n"
          "a folder for compile and run, which write several); --json prints one JSON document.\n"
          "Exit codes: 0 success; 1 a model or input file broke a rule; 2 usage error; 3 I/O error or out\n"
          "of memory.\n"
          "\n"
          "etpu %s — open toolchain for Google Coral Edge TPU models\n",
          etpu_version());
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "inspect") || !strcmp(cmd, "show")) return etpu_cmd_inspect(argc - 1, argv + 1);
  if (!strcmp(cmd, "demo")) return etpu_cmd_demo(argc - 1, argv + 1);
  if (!strcmp(cmd, "compile")) return etpu_cmd_compile(argc - 1, argv + 1);
  if (!strcmp(cmd, "run")) return etpu_cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "imprint")) return etpu_cmd_imprint(argc - 1, argv + 1);
  if (!strcmp(cmd, "train")) return etpu_cmd_train(argc - 1, argv + 1);
  if (!strcmp(cmd, "extract")) return etpu_cmd_extract(argc - 1, argv + 1);
  if (!strcmp(cmd, "quantize")) return etpu_cmd_quantize(argc - 1, argv + 1);
  if (!strcmp(cmd, "visualize")) return etpu_cmd_visualize(argc - 1, argv + 1);
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-v")) {
    const bool json = argc > 2 && !strcmp(argv[2], "--json");
    if (argc > 2 && cli_is_help(argv[2])) {
      printf("usage: etpu version [--json]\n  the etpu version, the kernels' instruction set and the default thread "
             "count\n");
      return CLI_EXIT_OK;
    }
    if (argc > 2 + (json ? 1 : 0)) return cli_usage_error("version", "unexpected argument '%s' (only --json)", cli_t(argv[2 + json]));
    if (json)
      printf("{\"version\": \"%s\", \"isa\": \"%s\", \"threads\": %u}\n", etpu_version(), etpu_isa_name(),
             etpu_default_threads());
    else
      printf("etpu %s\nkernels: %s; threads: %u (the cores this process may use; run --threads N to change)\n",
             etpu_version(), etpu_isa_name(), etpu_default_threads());
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "etpu: error: unknown command '%s' (etpu --help for the commands)\n", cli_t(cmd));
  return CLI_EXIT_USAGE;
}
