/*
 * cmd_report.c — `crm report NAME` and `crm-syncd report NAME`: parse the
 * options, run crm_report (node/report.h), print a table or JSON.  Shared by
 * both executables (library crmcli); the hub differs only in the default of
 * the per-branch breakdown.
 */
#include "cli.h"
#include "error.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which arrays of a report print as tables, with which columns. */
static const struct {
	const char *report, *key, *columns;
} views[] = {
	{"funnel", "stages", "stage,kind,reached,conversion,count,amount_text"},
	{"plan", "users", "login,name,branch,currency,plan_text,fact_text,percent,won"},
	{"plan", "branch_plans", "branch,currency,plan_text,fact_text,percent,won"},
	{"sources", "sources", "source,leads,converted,conversion,deals,won,won_text"},
	{"losses", "reasons", "reason,count,share,amount_text"},
	{"stages", "stages", "stage,kind,visits,avg_days,max_days,longest_deal"},
	{"overdue", "deals", "title,stage,owner,branch,amount_text,days_in_stage,max_days,expected_close,reason"},
	{"overdue", "tasks", "title,due,days_overdue,assignee,branch,deal"},
	{"forecast", "months", "month,currency,deals,amount_text,expected_text"},
};

static void print_report(const char *name, json_t *doc, int depth)
{
	const char *key;
	json_t *v;
	json_object_foreach(doc, key, v) {
		if (json_is_array(v) || json_is_object(v))
			continue;
		char buf[256];
		if (json_is_string(v))
			snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		else
			snprintf(buf, sizeof(buf), "-");
		printf("%*s%-12s %s\n", depth * 2, "", key, buf);
	}
	json_t *p = json_object_get(doc, "pipeline");
	if (json_is_object(p))
		printf("%*s%-12s %s\n", depth * 2, "", "pipeline", json_string_value(json_object_get(p, "name")));
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		json_t *arr = json_object_get(doc, views[i].key);
		if (strcmp(views[i].report, name) != 0 || !json_is_array(arr))
			continue;
		printf("\n%s (%zu)\n", views[i].key, json_array_size(arr));
		if (json_array_size(arr))
			cli_print_table(arr, views[i].columns);
	}
	size_t i;
	json_array_foreach(json_object_get(doc, "branches"), i, v) {
		printf("\n== branch %s (%s) ==\n", json_string_value(json_object_get(v, "branch")),
		       json_string_value(json_object_get(v, "branch_name")) ? json_string_value(json_object_get(v, "branch_name")) : "");
		print_report(name, v, depth + 1);
	}
}

/* name is one of the words of crm_report_names(). */
static int known(const char *name)
{
	size_t n = strlen(name);
	for (const char *p = crm_report_names(); n && *p;) {
		size_t w = strcspn(p, " ");
		if (w == n && strncmp(p, name, n) == 0)
			return 1;
		p += w + (p[w] ? 1 : 0);
	}
	return 0;
}

int cli_report(cli *c, int hub)
{
	const char *prog = cli_prog;
	if (c->argc < 1 || cli_wants_help(c->argc, c->argv)) {
		printf("usage: %s report NAME [--branch CODE] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
		       "       [--pipeline NAME] [%s] [--json]\n"
		       "NAME: %s\n"
		       "Reports over the %s; figures are defined in docs/REPORTS.md.\n"
		       "--from/--to bound the period (inclusive); plan uses the month of --from\n"
		       "(default: this month); overdue and time in stage are as of the end of --to.\n",
		       prog, hub ? "--no-by-branch" : "--by-branch", crm_report_names(),
		       hub ? "hub's consolidated replica, broken down by branch" : "replica");
		return c->argc < 1 ? EXIT_USAGE : EXIT_OK;
	}
	const char *name = c->argv[0];
	c->argv++;
	c->argc--;
	int mb = 0, mf = 0, mt = 0, mp = 0;
	crm_report_opts o = {0};
	o.branch = cli_take_opt(c, "branch", &mb);
	o.from = cli_take_opt(c, "from", &mf);
	o.to = cli_take_opt(c, "to", &mt);
	o.pipeline = cli_take_opt(c, "pipeline", &mp);
	o.by_branch = hub ? !cli_take_flag(c, "no-by-branch") : cli_take_flag(c, "by-branch");
	cli_take_json(c);
	if (mb || mf || mt || mp)
		return cli_usage("report", "--%s needs a value", mb ? "branch" : mf ? "from" : mt ? "to" : "pipeline");
	if (c->argc > 0)
		return cli_usage("report", "unexpected argument '%s'", c->argv[0]);
	if (!known(name))
		return cli_usage("report", "unknown report '%s'; reports are: %s", name, crm_report_names());
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *doc = NULL;
	int err = crm_report(&doc, st, name, &o);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	if (c->json)
		cli_print_json(doc);
	else
		print_report(name, doc, 0);
	json_decref(doc);
	return EXIT_OK;
}

int cmd_board(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm board [--pipeline NAME] [--branch CODE] [--limit N] [--json]\n"
		     "The kanban board of a pipeline: per stage the deal count and totals per\n"
		     "currency, and the N (default 10) deals with the newest activity, flagged\n"
		     "when over the stage's max days or without activity for 'stale_days'.");
		return EXIT_OK;
	}
	int mp = 0, mb = 0, ml = 0;
	const char *pipeline = cli_take_opt(c, "pipeline", &mp);
	const char *branch = cli_take_opt(c, "branch", &mb);
	const char *limit = cli_take_opt(c, "limit", &ml);
	cli_take_json(c);
	char *end = NULL;
	unsigned long n = limit ? strtoul(limit, &end, 10) : 10;
	if (mp || mb || ml)
		return cli_usage("board", "--%s needs a value", mp ? "pipeline" : mb ? "branch" : "limit");
	if (limit && (!*limit || *end || n > 1000 || *limit == '-'))
		return cli_usage("board", "--limit needs a number from 0 to 1000");
	if (c->argc > 0)
		return cli_usage("board", "unexpected argument '%s'", c->argv[0]);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *doc = NULL;
	int err = crm_board(&doc, st, pipeline, branch, n);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	if (c->json) {
		cli_print_json(doc);
	} else {
		size_t i;
		json_t *col;
		json_array_foreach(json_object_get(doc, "columns"), i, col) {
			printf("%s%s (%lld) %s\n", i ? "\n" : "", json_string_value(json_object_get(col, "stage")),
			       (long long)json_integer_value(json_object_get(col, "count")),
			       json_string_value(json_object_get(col, "amount_text")));
			if (json_array_size(json_object_get(col, "deals")))
				cli_print_table(json_object_get(col, "deals"),
						"title,company,owner,amount_text,days_in_stage,over_max_days,stale");
		}
	}
	json_decref(doc);
	return EXIT_OK;
}

int cmd_report(cli *c)
{
	return cli_report(c, 0);
}
