/*
 * cli.h — shared pieces of the etpu command-line program. The CLI is a thin
 * layer over the public header; each subcommand lives in its own file.
 */
#ifndef ETPU_CLI_H
#define ETPU_CLI_H

#include <stdio.h>

#include "etpu/etpu.h"

int etpu_cmd_inspect(int argc, char **argv);
int etpu_cmd_demo(int argc, char **argv);
int etpu_cmd_compile(int argc, char **argv);
int etpu_cmd_run(int argc, char **argv);
int etpu_cmd_imprint(int argc, char **argv);
int etpu_cmd_train(int argc, char **argv);
int etpu_cmd_extract(int argc, char **argv);
int etpu_cmd_quantize(int argc, char **argv);

/* Build the bundled demo model (a small uint8 classifier) in memory. */
etpu_status etpu_demo_build(etpu_model **model_out);

/* Print a JSON string literal with escapes. */
void cli_json_string(FILE *f, const char *s);

/* "error: <message>" on stderr; returns the exit code for status. */
int cli_report(etpu_status st);

#endif
