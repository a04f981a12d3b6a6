/*
 * cmd_merge.c — crm conflicts, crm duplicates, crm merge.
 */
#include "cli.h"
#include "error.h"
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v <= 0)
		return CRM_ERR(CRM_EUSAGE, "'%s' is not a conflict number (see 'crm conflicts')", s);
	*out = v;
	return 0;
}

int cmd_conflicts(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm conflicts [--all] [--json]      what automatic merges set aside, and why\n"
		     "       crm conflicts resolve N             mark conflict N as seen\n"
		     "       crm conflicts reapply N             make the set-aside value current again");
		return EXIT_OK;
	}
	int all = cli_take_flag(c, "all");
	cli_take_json(c);
	const char *verb = c->argc > 0 ? c->argv[0] : NULL;
	if (verb && strcmp(verb, "resolve") != 0 && strcmp(verb, "reapply") != 0)
		return cli_usage("conflicts", "unknown command 'conflicts %s'", verb);
	if ((verb && c->argc != 2) || (!verb && c->argc != 0))
		return cli_usage("conflicts", verb ? "give one conflict number" : "unexpected argument");
	int64_t id = 0;
	if (verb && parse_id(c->argv[1], &id) < 0)
		return cli_fail(CRM_EUSAGE);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *doc = NULL;
	int err = !verb ? crm_conflicts_list(&doc, st, all)
		  : strcmp(verb, "resolve") == 0 ? crm_conflict_resolve(st, id) : crm_conflict_reapply(st, id);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	return doc ? cli_emit(c, doc, "id,entity,row_id,field,kept_value,kept_by,lost_value,set_aside_by,rule") : EXIT_OK;
}

int cmd_duplicates(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm duplicates [--json]               suggested duplicates (same phone, same name)\n"
		     "       crm duplicates keep-apart ID OTHER_ID  reject a suggestion (replicated)\n"
		     "Strong matches (same tax id, same e-mail) are merged automatically: see 'crm conflicts'.");
		return EXIT_OK;
	}
	cli_take_json(c);
	int apart = c->argc > 0 && strcmp(c->argv[0], "keep-apart") == 0;
	if ((apart && c->argc != 3) || (!apart && c->argc != 0))
		return cli_usage("duplicates", "usage: crm duplicates [keep-apart ID OTHER_ID]");
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *doc = NULL;
	int err = apart ? crm_merge_decide(st, c->argv[1], c->argv[2], 1) : crm_duplicates_list(&doc, st);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	return doc ? cli_emit(c, doc, "entity,id,other_id,reason") : EXIT_OK;
}

int cmd_merge(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm merge SURVIVOR_ID LOSER_ID     merge two companies or two contacts (replicated)\n"
		     "       crm merge --undo ID OTHER_ID        undo a merge (also undoes an automatic one)\n"
		     "The group is shown under its lowest id; its fields merge by last writer wins, and\n"
		     "deals, activities and tasks of both appear on it.");
		return EXIT_OK;
	}
	int undo = cli_take_flag(c, "undo");
	if (c->argc != 2)
		return cli_usage("merge", "give two ids");
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	int err = crm_merge_decide(st, c->argv[0], c->argv[1], undo);
	crm_store_free(st);
	return err < 0 ? cli_fail(err) : EXIT_OK;
}
