/*
 * report.c — the CRM reports and the kanban board (see report.h; every
 * figure is defined in docs/REPORTS.md).
 *
 * Design notes
 *  1. Every figure is computed by SQLite (GROUP BY, count, sum); C only
 *     decodes, rounds percentages and shapes JSON.  Nothing is written.
 *  2. Options become named parameters (:pipeline, :branch, :from, :to1,
 *     :asof, :month, :stale) of SQL built from fixed fragments: a filter that
 *     is not set is left out of the text (not "OR :x IS NULL"), so SQLite can
 *     use the indexes of schema/0005_reports.sql.  No input is pasted into SQL.
 *  3. A period [from, to] is half-open in SQL: col >= from AND col < to + 1 day,
 *     which works for both dates and ISO date-times.  "as of" (overdue, time in
 *     stage of open deals) is the end of `to` if given, else now.
 *  4. A per-branch breakdown runs the same builder once per branch with the
 *     branch filter set, so a branch's figures are by construction those of
 *     `--branch CODE`.
 */
#include "report.h"
#include "error.h"
#include "normalize.h"
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQL_MAX 4096
#define ID_MAX 64
#define STALE_DAYS_DEFAULT 14
#define LIST_MAX 200            /* rows listed by the overdue report, per kind */

/* A company id resolved through its duplicate group. */
#define SURVIVOR(col) "coalesce((SELECT survivor FROM crm_alias WHERE id = " col "), " col ")"

typedef struct rctx {
	crm_store *st;
	crm_db *db;
	char pipeline[ID_MAX];      /* pipeline id */
	char branch[ID_MAX];        /* branch id, "" = all */
	char from[11], to1[11];     /* "" = open; to1 is the day after `to` */
	char asof[24];              /* ISO date-time the report is "as of" */
	char month[8];              /* YYYY-MM (plan) */
	char stale[16];             /* days (board) */
} rctx;

typedef int (*report_fn)(json_t *out, rctx *c);

/* ------------------------------------------------------------ helpers ---- */

static void bind_named(sqlite3_stmt *q, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(q, name);
	if (i > 0 && v && *v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
}

/* Run sql with the context's named parameters (and :id = id, if given);
 * append every row to arr as an object. */
static int rows_id(json_t *arr, rctx *c, const char *sql, const char *id)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(c->db, &q, sql);
	if (err < 0)
		return err;
	bind_named(q, ":pipeline", c->pipeline);
	bind_named(q, ":branch", c->branch);
	bind_named(q, ":from", c->from);
	bind_named(q, ":to1", c->to1);
	bind_named(q, ":asof", c->asof);
	bind_named(q, ":month", c->month);
	bind_named(q, ":stale", c->stale);
	bind_named(q, ":id", id);
	while ((err = crm_db_step(c->db, q)) == 1)
		json_array_append_new(arr, crm_query_row_json(q));
	sqlite3_reset(q);
	return err;
}

static int rows(json_t *arr, rctx *c, const char *sql)
{
	return rows_id(arr, c, sql, NULL);
}

/* " AND <alias>.branch_id = :branch" and the period on `col`, as set. */
static void filters(char *buf, size_t cap, const rctx *c, const char *alias, const char *col)
{
	snprintf(buf, cap, "%s%s%s%s%s%s%s%s%s", *c->branch ? " AND " : "", *c->branch ? alias : "",
		 *c->branch ? ".branch_id = :branch" : "", *c->from && col ? " AND " : "", *c->from && col ? col : "",
		 *c->from && col ? " >= :from" : "", *c->to1 && col ? " AND " : "", *c->to1 && col ? col : "",
		 *c->to1 && col ? " < :to1" : "");
}

/* Percentage num/den with one decimal, or null when den is 0. */
static json_t *percent(json_int_t num, json_int_t den)
{
	if (den <= 0)
		return json_null();
	return json_real(round((double)num * 1000.0 / (double)den) / 10.0);
}

static json_int_t iget(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *sget(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "1 234.50 RUB; 10.00 USD" from [{currency, amount}...] under `key`. */
static void money_text(json_t *o, const char *arr_key, const char *amount_key, const char *text_key)
{
	char buf[512] = "", one[64];
	size_t off = 0, i;
	json_t *t;
	json_array_foreach(json_object_get(o, arr_key), i, t) {
		const char *cur = sget(t, "currency");
		crm_format_amount(one, sizeof(one), iget(t, amount_key), cur ? cur : "");
		off += (size_t)snprintf(buf + off, off < sizeof(buf) ? sizeof(buf) - off : 0, "%s%s %s", off ? "; " : "", one,
					cur ? cur : "?");
		if (off >= sizeof(buf))
			break;
	}
	json_object_set_new(o, text_key, json_string(buf));
}

/* Attach to every object of `objs` (keyed by `key`) the rows of `rowsarr`
 * with the same value of `key`, as an array under `as` (without `key`). */
static void nest(json_t *objs, const char *key, json_t *rowsarr, const char *as)
{
	size_t i, j;
	json_t *o, *r;
	json_array_foreach(objs, i, o) {
		json_t *sub = json_array();
		json_array_foreach(rowsarr, j, r) {
			if (json_equal(json_object_get(o, key), json_object_get(r, key))) {
				json_t *x = json_deep_copy(r);
				json_object_del(x, key);
				json_array_append_new(sub, x);
			}
		}
		json_object_set_new(o, as, sub);
	}
}

/* ------------------------------------------------------------ options ---- */

/* A real calendar date "YYYY-MM-DD"; *out gets its time_t at 00:00 UTC. */
static int parse_date(const char *s, time_t *out)
{
	int y, m, d;
	char tail;
	if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || s[4] != '-' || s[7] != '-')
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
	time_t t = timegm(&tm);
	struct tm back;
	gmtime_r(&t, &back);
	if (y < 1900 || back.tm_year != y - 1900 || back.tm_mon != m - 1 || back.tm_mday != d)
		return -1;
	*out = t;
	return 0;
}

static int resolve_id(rctx *c, char *buf, const char *sql, const char *v, const char *what)
{
	char *id = NULL;
	int err = crm_db_get_text(c->db, &id, sql, v);
	if (err == CRM_ENOTFOUND)
		return CRM_ERR(CRM_EINVAL, "no %s '%s' on this replica (see 'crm %s list')", what, v, what);
	if (err == 0)
		snprintf(buf, ID_MAX, "%s", id);
	free(id);
	return err;
}

static int setup(rctx *c, crm_store *st, const crm_report_opts *o)
{
	static const crm_report_opts none = {0};
	if (!o)
		o = &none;
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->db = crm_store_db(st);
	int err;
	if (o->pipeline && *o->pipeline)
		err = resolve_id(c, c->pipeline, "SELECT id FROM pipelines WHERE deleted = 0 AND (name = ?1 COLLATE NOCASE "
				 "OR id = lower(?1)) ORDER BY position, id LIMIT 1", o->pipeline, "pipeline");
	else
		err = resolve_id(c, c->pipeline, "SELECT id FROM pipelines WHERE deleted = 0 ORDER BY position, id LIMIT 1",
				 NULL, "pipeline");
	if (err < 0)
		return err;
	if (o->branch && *o->branch &&
	    (err = resolve_id(c, c->branch, "SELECT id FROM branches WHERE deleted = 0 AND (code = ?1 COLLATE NOCASE "
			      "OR id = lower(?1)) ORDER BY code, id LIMIT 1", o->branch, "branch")) < 0)
		return err;
	time_t tf = 0, tt = 0, now = (time_t)(crm_store_now_ms(st) / 1000);
	if (o->from && parse_date(o->from, &tf) < 0)
		return CRM_ERR(CRM_EINVAL, "--from '%s' is not a date; use YYYY-MM-DD", o->from);
	if (o->to && parse_date(o->to, &tt) < 0)
		return CRM_ERR(CRM_EINVAL, "--to '%s' is not a date; use YYYY-MM-DD", o->to);
	if (o->from && o->to && tf > tt)
		return CRM_ERR(CRM_EINVAL, "--from %s is after --to %s", o->from, o->to);
	struct tm tm;
	if (o->from)
		snprintf(c->from, sizeof(c->from), "%s", o->from);
	if (o->to) {
		time_t next = tt + 86400;
		gmtime_r(&next, &tm);
		strftime(c->to1, sizeof(c->to1), "%Y-%m-%d", &tm);
	}
	time_t asof = o->to ? tt + 86399 : now;
	gmtime_r(&asof, &tm);
	strftime(c->asof, sizeof(c->asof), "%Y-%m-%dT%H:%M:%SZ", &tm);
	time_t mref = o->from ? tf : now;
	gmtime_r(&mref, &tm);
	strftime(c->month, sizeof(c->month), "%Y-%m", &tm);
	char *stale = NULL;
	long days = STALE_DAYS_DEFAULT;
	if (crm_meta_get(st, "stale_days", &stale) == 0) {
		char *end;
		long v = strtol(stale, &end, 10);
		if (*stale && !*end && v > 0 && v < 100000)
			days = v;
	}
	free(stale);
	crm_error_clear();
	snprintf(c->stale, sizeof(c->stale), "%ld", days);
	return 0;
}

/* ------------------------------------------------------------- funnel ---- */

/* Per deal, one code of the stages it ever entered (history and current):
 * bits 0..39 the highest open position, bit 40 won, bit 41 lost. */
#define REACH_SQL \
	"(SELECT coalesce(max(CASE WHEN s.kind = 'open' THEN s.position ELSE 0 END), 0) " \
	"+ 1099511627776 * coalesce(max(s.kind = 'won'), 0) + 2199023255552 * coalesce(max(s.kind = 'lost'), 0) " \
	"FROM stage_history h JOIN stages s ON s.id = h.to_stage_id " \
	"WHERE h.deal_id = d.id AND h.deleted = 0 AND s.pipeline_id = :pipeline)"

static int stages_of(json_t *arr, rctx *c)
{
	return rows(arr, c, "SELECT id AS stage_id, name AS stage, kind, position, probability, max_days "
		    "FROM stages WHERE deleted = 0 AND pipeline_id = :pipeline ORDER BY position, id");
}

/* Current count and totals per stage and currency of the filtered deals. */
static int stage_totals(json_t *stages, rctx *c, const char *f)
{
	char sql[SQL_MAX];
	json_t *tot = json_array();
	snprintf(sql, sizeof(sql), "SELECT d.stage_id, d.currency, count(*) AS count, coalesce(sum(d.amount), 0) AS amount "
		 "FROM deals d WHERE d.deleted = 0 AND d.pipeline_id = :pipeline%s GROUP BY d.stage_id, d.currency "
		 "ORDER BY d.stage_id, d.currency", f);
	int err = rows(tot, c, sql);
	if (err == 0) {
		nest(stages, "stage_id", tot, "totals");
		size_t i, j;
		json_t *s, *t;
		json_array_foreach(stages, i, s) {
			json_int_t n = 0;
			json_array_foreach(json_object_get(s, "totals"), j, t)
				n += iget(t, "count");
			json_object_set_new(s, "count", json_integer(n));
			money_text(s, "totals", "amount", "amount_text");
		}
	}
	json_decref(tot);
	return err;
}

static json_int_t stage_pos(json_t *stages, const char *id, const char **kind)
{
	size_t i;
	json_t *s;
	json_array_foreach(stages, i, s)
		if (id && strcmp(sget(s, "stage_id"), id) == 0) {
			*kind = sget(s, "kind");
			return iget(s, "position");
		}
	*kind = "";
	return 0;
}

static int report_funnel(json_t *out, rctx *c)
{
	char sql[SQL_MAX], f[512];
	json_t *stages = json_array(), *groups = json_array();
	filters(f, sizeof(f), c, "d", "d.created_at");
	snprintf(sql, sizeof(sql), "SELECT d.stage_id AS cur, " REACH_SQL " AS code, count(*) AS n FROM deals d "
		 "WHERE d.deleted = 0 AND d.pipeline_id = :pipeline%s GROUP BY cur, code", f);
	int err = stages_of(stages, c);
	if (err == 0)
		err = rows(groups, c, sql);
	if (err == 0)
		err = stage_totals(stages, c, f);
	if (err < 0)
		goto done;
	/* reached[open stage] = deals whose highest open stage is at or past it,
	 * or that were won; reached[won/lost] = deals that ever entered one. */
	json_int_t total = 0, won = 0, lost = 0;
	size_t i, j;
	json_t *g, *s;
	json_array_foreach(stages, i, s)
		json_object_set_new(s, "reached", json_integer(0));
	json_array_foreach(groups, i, g) {
		const char *kind;
		json_int_t code = iget(g, "code"), n = iget(g, "n");
		json_int_t top = code & 0xffffffffffLL, cp = stage_pos(stages, sget(g, "cur"), &kind);
		int w = (code >> 40 & 1) || strcmp(kind, "won") == 0, l = (code >> 41 & 1) || strcmp(kind, "lost") == 0;
		if (strcmp(kind, "open") == 0 && cp > top)
			top = cp;
		total += n;
		won += w ? n : 0;
		lost += l ? n : 0;
		json_array_foreach(stages, j, s) {
			const char *k = sget(s, "kind");
			int hit = strcmp(k, "open") == 0 ? (w || iget(s, "position") <= top) : strcmp(k, "won") == 0 ? w : l;
			if (hit)
				json_object_set_new(s, "reached", json_integer(iget(s, "reached") + n));
		}
	}
	json_int_t prev = -1;
	json_array_foreach(stages, i, s) {
		int is_lost = strcmp(sget(s, "kind"), "lost") == 0;
		json_object_set_new(s, "conversion", is_lost || prev < 0 ? json_null() : percent(iget(s, "reached"), prev));
		if (!is_lost)
			prev = iget(s, "reached");
	}
	json_object_set_new(out, "deals", json_integer(total));
	json_object_set_new(out, "won", json_integer(won));
	json_object_set_new(out, "lost", json_integer(lost));
	json_object_set_new(out, "win_rate", percent(won, total));
	json_object_set_new(out, "stages", json_incref(stages));
done:
	json_decref(stages);
	json_decref(groups);
	return err;
}

/* -------------------------------------------------------------- board ---- */

#define ENTERED_SQL \
	"(SELECT max(h.at) FROM stage_history h WHERE h.deal_id = d.id AND h.to_stage_id = d.stage_id AND h.deleted = 0)"
#define LAST_ACT_SQL \
	"max(coalesce(d.created_at, ''), coalesce(" ENTERED_SQL ", ''), coalesce((SELECT max(a.at) FROM activities a " \
	"WHERE a.deal_id = d.id AND a.deleted = 0), ''))"

int crm_board(json_t **out, crm_store *st, const char *pipeline, const char *branch, size_t per_column)
{
	rctx c;
	crm_report_opts o = {.pipeline = pipeline, .branch = branch};
	char sql[SQL_MAX], f[256];
	*out = NULL;
	int err = setup(&c, st, &o);
	if (err < 0)
		return err;
	json_t *doc = json_object(), *cols = json_array();
	filters(f, sizeof(f), &c, "d", NULL);
	err = stages_of(cols, &c);
	if (err == 0)
		err = stage_totals(cols, &c, f);
	snprintf(sql, sizeof(sql), "SELECT id, title, amount, currency, company_id, company, owner, entered_at, "
		 "days_in_stage, last_activity, (max_days IS NOT NULL AND days_in_stage > max_days) AS over_max_days, "
		 "(julianday(:asof) - julianday(last_activity) > :stale) AS stale FROM ("
		 "SELECT d.id, d.title, d.amount, d.currency, " SURVIVOR("d.company_id") " AS company_id, "
		 "(SELECT name FROM companies WHERE id = " SURVIVOR("d.company_id") ") AS company, "
		 "(SELECT login FROM users WHERE id = d.owner_id) AS owner, " ENTERED_SQL " AS entered_at, "
		 "CAST(julianday(:asof) - julianday(coalesce(" ENTERED_SQL ", d.created_at)) AS INTEGER) AS days_in_stage, "
		 LAST_ACT_SQL " AS last_activity, s.max_days "
		 "FROM deals d JOIN stages s ON s.id = d.stage_id "
		 "WHERE d.deleted = 0 AND d.pipeline_id = :pipeline AND d.stage_id = :id%s "
		 "ORDER BY last_activity DESC, d.id DESC LIMIT %zu)", f, per_column);
	size_t i;
	json_t *col;
	json_array_foreach(cols, i, col) {
		json_t *cards = json_array();
		if (err == 0 && per_column)
			err = rows_id(cards, &c, sql, sget(col, "stage_id"));
		json_object_set_new(col, "deals", cards);
	}
	if (err < 0) {
		json_decref(doc);
		json_decref(cols);
		return err;
	}
	json_t *p = json_array();
	rows(p, &c, "SELECT id, name FROM pipelines WHERE id = :pipeline");
	json_object_set(doc, "pipeline", json_array_get(p, 0));
	json_decref(p);
	json_object_set_new(doc, "branch", branch ? json_string(branch) : json_null());
	json_object_set_new(doc, "stale_days", json_integer(atoi(c.stale)));
	json_object_set_new(doc, "columns", cols);
	*out = doc;
	return 0;
}

/* ------------------------------------------------------------ reports ---- */

static const struct {
	const char *name;
	report_fn fn;
} reports[] = {
	{"funnel", report_funnel},
};

const char *crm_report_names(void)
{
	return "funnel plan sources losses stages overdue forecast";
}

/* The header every report starts with. */
static int header(json_t *doc, rctx *c, const char *name, const crm_report_opts *o)
{
	json_t *p = json_array();
	int err = rows(p, c, "SELECT id, name FROM pipelines WHERE id = :pipeline");
	json_object_set_new(doc, "report", json_string(name));
	json_object_set(doc, "pipeline", json_array_get(p, 0));
	json_object_set_new(doc, "branch", o && o->branch ? json_string(o->branch) : json_null());
	json_object_set_new(doc, "from", o && o->from ? json_string(o->from) : json_null());
	json_object_set_new(doc, "to", o && o->to ? json_string(o->to) : json_null());
	json_decref(p);
	return err;
}

/* The same report once per live branch, under "branches". */
static int breakdown(json_t *doc, rctx *c, report_fn fn)
{
	json_t *br = json_array(), *list = json_array();
	int err = rows(br, c, "SELECT id, code, name FROM branches WHERE deleted = 0 ORDER BY code, id");
	size_t i;
	json_t *b;
	json_array_foreach(br, i, b) {
		if (err < 0)
			break;
		json_t *one = json_object();
		snprintf(c->branch, sizeof(c->branch), "%s", sget(b, "id"));
		json_object_set(one, "branch", json_object_get(b, "code"));
		json_object_set(one, "branch_name", json_object_get(b, "name"));
		err = fn(one, c);
		json_array_append_new(list, one);
	}
	c->branch[0] = '\0';
	json_object_set_new(doc, "branches", list);
	json_decref(br);
	return err;
}

int crm_report(json_t **out, crm_store *st, const char *name, const crm_report_opts *o)
{
	*out = NULL;
	report_fn fn = NULL;
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (name && strcmp(name, reports[i].name) == 0)
			fn = reports[i].fn;
	if (!fn)
		return CRM_ERR(CRM_EINVAL, "unknown report '%s'; reports are: %s", name ? name : "", crm_report_names());
	rctx c;
	int err = setup(&c, st, o);
	if (err < 0)
		return err;
	json_t *doc = json_object();
	err = header(doc, &c, name, o);
	if (err == 0)
		err = fn(doc, &c);
	if (err == 0 && o && o->by_branch && !*c.branch)
		err = breakdown(doc, &c, fn);
	if (err < 0) {
		json_decref(doc);
		return err;
	}
	*out = doc;
	return 0;
}
