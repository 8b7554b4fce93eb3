/*
 * main.c — the etpu command-line program: dispatch to subcommands. The
 * helpers they share (exit codes, escaping, flags, folders) are in cli.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu <command> [options]\n"
          "\n"
          "commands:\n"
          "  compile [opts] MODEL...    map a model to the Edge TPU (edgetpu_compiler's flags and reports)\n"
          "  inspect MODEL [--json]     summarise a .tflite model (compiled ones too)\n"
          "  run MODEL --input FILE...  run a model on images, .npy or raw inputs (see run --help)\n"
          "  quantize MODEL --calib DIR -o OUT  int8 post-training quantization (see quantize --help)\n"
          "  imprint MODEL -o OUT --class ID IMAGE...  weight imprinting (see imprint --help)\n"
          "  train MODEL -o OUT --class ID IMAGE...    train a softmax layer on embeddings (see train --help)\n"
          "  extract MODEL IMAGE... -o OUT.npy          embeddings of images as a float32 .npy\n"
          "  demo OUT.tflite            write the bundled demo model (a small uint8 classifier)\n"
          "  version                    print the etpu version\n"
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
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-v")) {
    printf("etpu %s\n", etpu_version());
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "etpu: error: unknown command '%s'\n", cli_t(cmd));
  usage(stderr);
  return 2;
}
