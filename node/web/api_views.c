/*
 * api_views.c — the kanban board and the reports of the web API, straight
 * from report.h, so the figures a page shows are the figures of
 * `crm report --json` and `crm-syncd report` (docs/REPORTS.md).  Nothing here
 * computes a figure.
 */
#include "web_int.h"
#include "error.h"
#include "normalize.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Presentation only: next to every integer money member (a name holding
 * "amount", or plan/fact/expected/weighted) of an object that has a
 * "currency", add "<name>_text" formatted as the reports format money
 * ("1234.50 RUB"), so the page never has to know a currency's minor unit. */
static void money_texts(json_t *j)
{
	static const char *const money[] = {"plan", "fact", "expected", "weighted"};
	size_t i;
	json_t *v;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			money_texts(v);
		return;
	}
	if (!json_is_object(j))
		return;
	const char *cur = json_string_value(json_object_get(j, "currency")), *key;
	void *tmp;
	json_object_foreach_safe(j, tmp, key, v) {
		int is_money = strstr(key, "amount") != NULL;
		for (size_t k = 0; k < sizeof(money) / sizeof(money[0]); k++)
			is_money |= strcmp(key, money[k]) == 0;
		if (cur && is_money && json_is_integer(v) && !strstr(key, "_text")) {
			char name[128], text[64], with_cur[80];
			snprintf(name, sizeof(name), "%s_text", key);
			crm_format_amount(text, sizeof(text), json_integer_value(v), cur);
			snprintf(with_cur, sizeof(with_cur), "%s %.8s", text, cur);
			if (!json_object_get(j, name))
				json_object_set_new(j, name, json_string(with_cur));
		} else {
			money_texts(v);
		}
	}
}

/* Options from ?branch=&from=&to=&pipeline=&by_branch=; the hub breaks
 * every report down by branch unless asked not to. */
static void report_opts(web_req *r, crm_report_opts *o)
{
	const char *bb = web_query(r, "by_branch");
	o->branch = web_query(r, "branch");
	o->from = web_query(r, "from");
	o->to = web_query(r, "to");
	o->pipeline = web_query(r, "pipeline");
	o->by_branch = bb ? strcmp(bb, "1") == 0 || strcmp(bb, "true") == 0 : r->w->o.hub;
	if (o->branch && !*o->branch)
		o->branch = NULL;
	if (o->pipeline && !*o->pipeline)
		o->pipeline = NULL;
}

static int board(web_req *r, json_t **out)
{
	const char *pc = web_query(r, "per_column"), *branch = web_query(r, "branch");
	char *end = NULL;
	long per = pc ? strtol(pc, &end, 10) : 50;
	if (pc && (!*pc || *end || per < 0 || per > 500))
		return web_error(out, 400, "per_column must be a number from 0 to 500");
	const char *pipeline = web_query(r, "pipeline");
	json_t *doc = NULL;
	int err = crm_board(&doc, r->st, pipeline && *pipeline ? pipeline : NULL, branch && *branch ? branch : NULL,
			    (size_t)per);
	if (err < 0)
		return web_fail(out, err);
	money_texts(doc);
	*out = doc;
	return 200;
}

static int one_report(web_req *r, json_t **out, const char *name)
{
	crm_report_opts o = {0};
	report_opts(r, &o);
	json_t *doc = NULL;
	int err = crm_report(&doc, r->st, name, &o);
	if (err < 0)
		return web_fail(out, err);
	money_texts(doc);
	*out = doc;
	return 200;
}

/* Every report at once, keyed by name: the dashboard is one request.  A
 * report that fails (a bad option) is {"error": ...} in its place. */
static int dashboard(web_req *r, json_t **out)
{
	crm_report_opts o = {0};
	report_opts(r, &o);
	char names[256];
	snprintf(names, sizeof(names), "%s", crm_report_names());
	json_t *all = json_object();
	char *save = NULL;
	for (char *n = strtok_r(names, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
		json_t *doc = NULL;
		if (crm_report(&doc, r->st, n, &o) < 0)   /* one failing report does not hide the others */
			doc = json_pack("{s:s}", "error", crm_error_last());
		json_object_set_new(all, n, doc);
	}
	money_texts(all);
	*out = all;
	return 200;
}

int web_views(web_req *r, json_t **out)
{
	int get = r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD;
	const char *s0 = r->seg[0];
	if (get && r->nseg == 1 && strcmp(s0, "board") == 0)
		return board(r, out);
	if (get && r->nseg == 1 && strcmp(s0, "dashboard") == 0)
		return dashboard(r, out);
	if (get && r->nseg == 2 && strcmp(s0, "reports") == 0)
		return one_report(r, out, r->seg[1]);
	return web_error(out, 404, "no such endpoint: %s /api/%s%s", get ? "GET" : "write", s0,
			 r->nseg > 1 ? "/..." : "");
}
