/*
 * cli.h — shared pieces of the etpu command-line program. The CLI is a thin
 * layer over the public header; each subcommand lives in its own file.
 */
#ifndef ETPU_CLI_H
#define ETPU_CLI_H

#include <stdbool.h>
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
int etpu_cmd_visualize(int argc, char **argv);

/* Build the bundled demo model (a small uint8 classifier) in memory. */
etpu_status etpu_demo_build(bool extractor, etpu_model **model_out);

/* Exit codes of every subcommand (README, "Errors and exit codes"). */
enum {
  CLI_EXIT_OK = 0,    /* success (and -h/--help) */
  CLI_EXIT_RULE = 1,  /* a model or an input file (image, .npy, labels, sample) broke a rule */
  CLI_EXIT_USAGE = 2, /* unknown command or option, missing or bad flag value */
  CLI_EXIT_IO = 3,    /* I/O error or out of memory */
};

/* The one status-to-exit-code table. ETPU_INVALID_ARGUMENT is a usage error
 * when the library refused an option the command line gave, and a rule
 * broken (1) when input_at_fault: the file handed to it did not fit (an
 * image or .npy of the wrong size or type, a model that cannot be
 * quantized). */
int cli_exit_code(etpu_status st, bool input_at_fault);

/* "etpu: error: <etpu_errmsg()>" on stderr; returns cli_exit_code(st, false)
 * or, for cli_report_input, cli_exit_code(st, true). */
int cli_report(etpu_status st);
int cli_report_input(etpu_status st);

/* s (a name from a file, a path, a label) escaped for a terminal or a text
 * file by etpu_escape(ETPU_ESCAPE_TEXT): control characters and invalid
 * UTF-8 made visible. The copy is valid until 8 more calls; NULL gives "". */
const char *cli_t(const char *s);

/* Print s as a JSON string literal (quotes included) by etpu_escape. */
void cli_json_string(FILE *f, const char *s);

/* Flags. Every subcommand takes "--flag value" and "--flag=value" (and a
 * short alias such as -o as "-o value" or "-o=value"). Usage errors print
 * one line, "etpu: error: CMD: <what> (etpu CMD --help for usage)", not the
 * whole usage, and give exit 2. */

/* -h or --help (every subcommand prints its usage on stdout and exits 0). */
bool cli_is_help(const char *arg);

/* The flags every reporting subcommand has: -h/--help (usage on stdout,
 * *exit_out = 0) and --json (*json = true, *exit_out = -1; "--json=x" is a
 * usage error, *exit_out = 2). Returns true when arg was one of them: the
 * caller returns *exit_out when it is >= 0, else goes on to the next. */
bool cli_common_flag(const char *cmd, const char *arg, void (*usage)(FILE *), bool *json, int *exit_out);

/* Print the one-line usage error; returns CLI_EXIT_USAGE. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
int cli_usage_error(const char *cmd, const char *fmt, ...);

/* Whether argv[*i] is the valued flag lng ("--out") or shrt ("-o", may be
 * NULL): 1 with *val from "=VALUE" or the next argument (then *i moves on to
 * it), 0 when it is not this flag, -1 after a usage error (no value left). */
int cli_flag_value(const char *cmd, int argc, char **argv, int *i, const char *lng, const char *shrt,
                   const char **val);

/* Whether arg is the switch lng or shrt: 1, 0 when not, -1 after a usage
 * error ("--json=x": takes no value). */
int cli_flag_switch(const char *cmd, const char *arg, const char *lng, const char *shrt);

/* "FLAG needs WANT, not 'VAL'" as a usage error; returns CLI_EXIT_USAGE. */
int cli_bad_value(const char *cmd, const char *flag, const char *want, const char *val);

/* The file name of path without its folder and a final ".tflite" (a
 * malloc'd copy; NULL when out of memory): "dir/model.tflite" -> "model". */
char *cli_path_stem(const char *path);

/* Which entries of a folder cli_list_dir keeps (dotfiles never). */
typedef enum cli_entries {
  CLI_ENTRIES_ALL,     /* every entry */
  CLI_ENTRIES_IMAGES,  /* names ending in .bmp, .png, .jpg or .jpeg (any case) */
  CLI_ENTRIES_SUBDIRS, /* folders */
} cli_entries;

/* True for a name ending in .bmp, .png, .jpg or .jpeg (any case). */
int cli_is_image_name(const char *name);

/* The "DIR/NAME" paths of dir's entries of the given kind, sorted by name
 * (so runs are reproducible). Returns 0, or 3 after printing
 * "etpu: error: <what> DIR: <reason>" (cannot open) or an out-of-memory line.
 * Free the list with cli_free_list. */
int cli_list_dir(const char *what, const char *dir, cli_entries kind, char ***out, size_t *n_out);
void cli_free_list(char **list, size_t n);

/* Apply the normalization the model's metadata records for input `input`
 * (tflite-support's NormalizationOptions) to *opts, setting *applied. No
 * metadata: nothing changes. Unreadable metadata is advisory: a warning
 * "etpu: warning: CMD: ...", nothing changes. Per-channel values that differ
 * are refused (etpu normalizes every channel alike): returns 1 after the
 * error line naming the model and input; else 0. */
int cli_metadata_normalization(const char *cmd, const char *model_path, const etpu_model *model, uint32_t input,
                               etpu_input_options *opts, bool *applied);

/* The warning printed when a float image input gets raw pixels because
 * neither --mean/--std nor the model's metadata gives a normalization:
 * "etpu: warning: CMD: MODEL: input I: ..." naming the assumption (mean 0,
 * std 1) and the flags that override it. */
void cli_warn_assumed_normalization(const char *cmd, const char *model_path, uint32_t input);

/* `run --draw` (draw.c): write `image` with result `r` drawn on it (boxes,
 * mask and legend, skeletons; labels from `labels`, may be NULL; keypoints
 * and their edges at or above `threshold`) as a PNG to path, atomically.
 * The image must be the result's image size. Returns 0, or an exit code
 * after printing the error. */
#define CLI_DRAW_MAX_SIDE 32767u /* cairo's image surfaces: at most this many pixels a side */
int cli_draw(const char *path, const etpu_image *image, const etpu_task_result *r, const etpu_labels *labels,
             float threshold);

#endif
