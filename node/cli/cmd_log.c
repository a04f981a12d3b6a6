/*
 * cmd_log.c — the change log from the command line: seal, export-changes,
 * import-changes, trust, log, attach / attachments / attachment get.
 */
#include "attach.h"
#include "cli.h"
#include "error.h"
#include "exchange.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_seal(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm seal [--json]\nSeal pending changes into signed batches of the change log now\n"
		     "(export-changes and sync do this by themselves).");
		return EXIT_OK;
	}
	cli_take_json(c);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	size_t n = 0;
	int err = crm_seal(st, &n);
	crm_store_free(st);
	return err < 0 ? cli_fail(err) : cli_emit(c, json_pack("{s:I}", "batches", (json_int_t)n), NULL);
}

int cmd_export(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm export-changes FILE [--since CURSOR] [--json]\nWrite every change this replica knows "
		     "(or those it got after CURSOR) to FILE,\nsigned, for 'crm import-changes' on another replica. "
		     "Prints the cursor to\npass as --since next time.");
		return EXIT_OK;
	}
	int miss;
	const char *since = cli_take_opt(c, "since", &miss);
	cli_take_json(c);
	char *end = NULL;
	unsigned long long cur = since ? strtoull(since, &end, 10) : 0;
	if (miss || (since && (*end || !*since)))
		return cli_usage("export-changes", "--since needs a cursor number");
	if (c->argc != 1)
		return cli_usage("export-changes", "give one FILE");
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	crm_export_report r;
	int err = crm_export_changes(st, c->argv[0], cur, &r);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	if (!c->json) {
		printf("exported %zu batches from %zu nodes to %s (%zu bytes); next time: --since %llu\n",
		       r.batches, r.nodes, c->argv[0], r.bytes, (unsigned long long)r.cursor);
		return EXIT_OK;
	}
	return cli_emit(c, json_pack("{s:I, s:I, s:I, s:I}", "batches", (json_int_t)r.batches, "nodes",
				 (json_int_t)r.nodes, "cursor", (json_int_t)r.cursor, "bytes", (json_int_t)r.bytes), NULL);
}

int cmd_import(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm import-changes FILE [--json]\nVerify every batch in FILE (signatures, hashes, chains), "
		     "then apply\nthem all in one transaction. Importing the same file twice is a no-op.");
		return EXIT_OK;
	}
	cli_take_json(c);
	if (c->argc != 1)
		return cli_usage("import-changes", "give one FILE");
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	crm_apply_report r;
	int err = crm_import_changes(st, c->argv[0], &r);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	if (r.forks)
		fprintf(stderr, "crm: warning: %zu node(s) forked; their changes are kept but not applied "
			"(see 'crm forks' and docs/OPERATOR.md)\n", r.forks);
	if (!c->json) {
		printf("applied %zu batches (%zu field changes, %zu took effect); %zu already known; %zu skipped\n",
		       r.applied, r.changes, r.won, r.known, r.skipped);
		return EXIT_OK;
	}
	return cli_emit(c, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "applied", (json_int_t)r.applied,
				 "changes", (json_int_t)r.changes, "won", (json_int_t)r.won, "known",
				 (json_int_t)r.known, "skipped", (json_int_t)r.skipped, "forks", (json_int_t)r.forks), NULL);
}

int cmd_trust(cli *c)
{
	if (c->argc < 1 || cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm trust add PUBKEY [--name NAME]   accept another node's key (from its 'crm whoami')\n"
		     "       crm trust list [--json]");
		return c->argc < 1 ? EXIT_USAGE : EXIT_OK;
	}
	const char *verb = c->argv[0];
	c->argv++;
	c->argc--;
	int miss;
	const char *name = cli_take_opt(c, "name", &miss);
	cli_take_json(c);
	if (miss)
		return cli_usage("trust", "--name needs a value");
	int add = strcmp(verb, "add") == 0;
	if (!add && strcmp(verb, "list") != 0)
		return cli_usage("trust", "unknown command 'trust %s'", verb);
	if ((add && c->argc != 1) || (!add && c->argc != 0))
		return cli_usage("trust", add ? "give one PUBKEY line (quoted)" : "unexpected argument");
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *doc = NULL;
	char node[33];
	int err = add ? crm_trust_add(st, c->argv[0], name, "trust", node) : crm_query_keys(&doc, st);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	if (add)
		doc = json_pack("{s:s}", "id", node);
	if (add && !c->json) {
		printf("trusted node %s\n", node);
		json_decref(doc);
		return EXIT_OK;
	}
	return cli_emit(c, doc, "id,name,source,revoked");
}

static int list_cmd(cli *c, const char *help, const char *columns,
		    int (*fn)(json_t **, crm_store *))
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts(help);
		return EXIT_OK;
	}
	cli_take_json(c);
	if (c->argc != 0)
		return cli_usage("log", "unexpected argument '%s'", c->argv[0]);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *doc;
	int err = fn(&doc, st);
	crm_store_free(st);
	return err < 0 ? cli_fail(err) : cli_emit(c, doc, columns);
}

static int log_all(json_t **out, crm_store *st) { return crm_query_log(out, st, 0); }

int cmd_log(cli *c)
{
	return list_cmd(c, "usage: crm log [--json]\nBatches of the change log this replica holds, newest first.",
			"lseq,node,seq,oid", log_all);
}

int cmd_forks(cli *c)
{
	return list_cmd(c, "usage: crm forks [--json]\nNodes quarantined because their chain forked.",
			"id,seq,known_oid,other_oid,detected_at", crm_query_forks);
}

int cmd_attach(cli *c)
{
	if (cli_wants_help(c->argc, c->argv) || c->argc != 3) {
		puts("usage: crm attach ENTITY ID FILE\nAttach a file to a record; it replicates with the change log.");
		return c->argc == 3 || cli_wants_help(c->argc, c->argv) ? EXIT_OK : EXIT_USAGE;
	}
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	char id[CRM_ID_LEN + 1];
	int err = crm_attach(st, c->argv[0], c->argv[1], c->argv[2], id);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	puts(id);
	return EXIT_OK;
}

int cmd_attachments(cli *c)
{
	cli_take_json(c);
	if (cli_wants_help(c->argc, c->argv) || c->argc != 2) {
		puts("usage: crm attachments ENTITY ID [--json]\nFiles attached to a record.");
		return cli_wants_help(c->argc, c->argv) ? EXIT_OK : EXIT_USAGE;
	}
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *doc;
	int err = crm_query_attachments(&doc, st, c->argv[0], c->argv[1]);
	crm_store_free(st);
	return err < 0 ? cli_fail(err) : cli_emit(c, doc, "id,name,size,sha256,created_at");
}

int cmd_attachment(cli *c)
{
	int miss;
	const char *outp = cli_take_opt(c, "out", &miss);
	if (cli_wants_help(c->argc, c->argv) || c->argc != 2 || strcmp(c->argv[0], "get") != 0 || miss) {
		puts("usage: crm attachment get HASH [--out FILE]\nWrite an attachment's content (to stdout without --out).");
		return cli_wants_help(c->argc, c->argv) ? EXIT_OK : EXIT_USAGE;
	}
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	uint8_t *data = NULL;
	size_t len = 0;
	char *name = NULL;
	int err = crm_attachment_get(st, c->argv[1], &data, &len, &name);
	crm_store_free(st);
	FILE *f = err == 0 ? (outp ? fopen(outp, "wb") : stdout) : NULL;
	if (err == 0 && !f)
		err = CRM_ERR(CRM_EIO, "cannot write %s", outp);
	if (err == 0 && (fwrite(data, 1, len, f) != len || (outp ? fclose(f) : fflush(f)) != 0))
		err = CRM_ERR(CRM_EIO, "cannot write %s", outp ? outp : "standard output");
	free(data);
	free(name);
	return err < 0 ? cli_fail(err) : EXIT_OK;
}
