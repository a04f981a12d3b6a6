/*
 * cli.h — shared pieces of the `crm` command line (argument helpers,
 * output).  The commands themselves are thin: parse, call libcrm, print.
 */
#ifndef CRM_CLI_H
#define CRM_CLI_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

/* Exit statuses of CLI.md. */
#define EXIT_OK 0
#define EXIT_DATA 1
#define EXIT_USAGE 2

typedef struct cli {
	const char *data;     /* replica directory */
	int json;             /* --json given */
	int argc;             /* arguments after the command word(s) */
	char **argv;
} cli;

typedef int (*cli_fn)(cli *c);

/* The program name errors are prefixed with ("crm", "crm-syncd"). */
extern const char *cli_prog;

/* Report a libcrm error on stderr as one line and map it to an exit status. */
int cli_fail(int err);
/* Report a usage error ("crm: ...; see 'crm CMD --help'") and return 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if argv holds --help or -h. */
int cli_wants_help(int argc, char **argv);
/* Remove --json from argv (setting c->json). */
void cli_take_json(cli *c);
/* Value of "--name VALUE" / "--name=VALUE" in argv, removing it; NULL if absent.
 * *missing is set if the option is present without a value. */
const char *cli_take_opt(cli *c, const char *name, int *missing);
/* Presence of a valueless flag, removing it. */
int cli_take_flag(cli *c, const char *name);

/* Open the replica in c->data; prints the error and returns NULL on failure. */
crm_store *cli_open(cli *c, int *status);

/* Print a JSON document (one line per document, UTF-8) to stdout. */
void cli_print_json(json_t *doc);
/* Print an array of objects as an aligned table with the given columns
 * ("id,title,stage"); missing values print as "-". */
void cli_print_table(json_t *arr, const char *columns);
/* Print doc (--json: as JSON; an array: as a table of `columns`; an object:
 * as a record), free it, and return EXIT_OK. */
int cli_emit(cli *c, json_t *doc, const char *columns);
/* Print an object as "key: value" lines, nested arrays as indented tables. */
void cli_print_record(json_t *obj);

/* Command groups (cmd_*.c). */
int cmd_init(cli *c);
int cmd_whoami(cli *c);
int cmd_state_hash(cli *c);
int cmd_status(cli *c);
int cmd_entity(cli *c, const char *entity);
int cmd_search(cli *c);
int cmd_seal(cli *c);
int cmd_export(cli *c);
int cmd_import(cli *c);
int cmd_trust(cli *c);
int cmd_log(cli *c);
int cmd_forks(cli *c);
int cmd_attach(cli *c);
int cmd_attachments(cli *c);
int cmd_attachment(cli *c);
int cmd_conflicts(cli *c);
int cmd_duplicates(cli *c);
int cmd_merge(cli *c);
int cmd_import_records(cli *c);   /* crm import FILE (cmd_import.c) */
int cmd_export_records(cli *c);   /* crm export KIND */
int cmd_sync(cli *c);
int cmd_report(cli *c);
int cmd_board(cli *c);
/* `PROG report NAME ...` (cmd_report.c), shared with crm-syncd: hub = 1 makes
 * the per-branch breakdown the default (--no-by-branch turns it off). */
int cli_report(cli *c, int hub);
int cmd_serve(cli *c);      /* crm serve (cmd_serve.c) */
int cmd_config(cli *c);     /* crm config (cmd_config.c) */

#endif
