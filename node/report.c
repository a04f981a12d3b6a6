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

#define SQL_MAX 8192
#define PART_MAX 2048
#define ID_MAX 64
#define STALE_DAYS_DEFAULT 14
#define LIST_MAX 200            /* rows listed by the overdue report, per kind */
#define BOARD_CARDS_MAX 1000    /* deals per board column */

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
	char m0[11], m1[11];        /* first day of the month and of the next */
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
	bind_named(q, ":m0", c->m0);
	bind_named(q, ":m1", c->m1);
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

/* "amount_text" ("1 234.50 EUR") on every row with amount and currency. */
static void amount_texts(json_t *arr)
{
	size_t i;
	json_t *r;
	json_array_foreach(arr, i, r) {
		char buf[64];
		const char *cur = sget(r, "currency");
		if (!json_is_integer(json_object_get(r, "amount")) || !cur)
			continue;
		crm_format_amount(buf, sizeof(buf), iget(r, "amount"), cur);
		json_object_set_new(r, "amount_text", json_sprintf("%s %s", buf, cur));
	}
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
		return CRM_ERR(CRM_EINVAL, "no %s '%s' on this replica (see 'crm %s list')", what, v ? v : "(default)", what);
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
	strftime(c->m0, sizeof(c->m0), "%Y-%m-01", &tm);
	tm.tm_mon++;
	tm.tm_mday = 1;
	time_t m1 = timegm(&tm);
	gmtime_r(&m1, &tm);
	strftime(c->m1, sizeof(c->m1), "%Y-%m-01", &tm);
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

static int stages_of(json_t *arr, rctx *c)
{
	return rows(arr, c, "SELECT id AS stage_id, name AS stage, kind, position, probability, max_days "
		    "FROM stages WHERE deleted = 0 AND pipeline_id = :pipeline ORDER BY position, id");
}

/* Counts and totals of the stages from rows {cur, currency, n, amount}
 * (any finer grouping, ordered by currency): per stage "count", "totals"
 * [{currency, count, amount}] and "amount_text". */
static void add_totals(json_t *stages, json_t *groups)
{
	size_t i, j, k;
	json_t *s, *g, *t;
	json_array_foreach(stages, i, s) {
		json_t *tot = json_array();
		json_int_t n = 0;
		json_array_foreach(groups, j, g) {
			const char *cur = sget(g, "cur"), *ccy = sget(g, "currency");
			if (!cur || strcmp(cur, sget(s, "stage_id")) != 0)
				continue;
			json_t *hit = NULL;
			json_array_foreach(tot, k, t)
				if (json_equal(json_object_get(t, "currency"), json_object_get(g, "currency")))
					hit = t;
			if (!hit) {
				hit = json_pack("{s:o, s:I, s:I}", "currency", ccy ? json_string(ccy) : json_null(), "count",
						(json_int_t)0, "amount", (json_int_t)0);
				json_array_append_new(tot, hit);
			}
			json_object_set_new(hit, "count", json_integer(iget(hit, "count") + iget(g, "n")));
			json_object_set_new(hit, "amount", json_integer(iget(hit, "amount") + iget(g, "amount")));
			n += iget(g, "n");
		}
		json_object_set_new(s, "count", json_integer(n));
		json_object_set_new(s, "totals", tot);
		money_text(s, "totals", "amount", "amount_text");
	}
}

/* Live deals of the pipeline per stage, reach code and currency: {cur,
 * code, currency, n, amount}.  Without a period from the counters of
 * crm_deal_counts (a few hundred rows), else from the deals created in the
 * period (an index range of crm_deal_board).  with_reach 0 folds the codes. */
static int deal_groups(json_t *out, rctx *c, int with_reach)
{
	char sql[SQL_MAX], f[256];
	if (!*c->from && !*c->to1) {
		snprintf(sql, sizeof(sql), "SELECT nullif(stage_id, '') AS cur, %s AS code, nullif(currency, '') AS currency, "
			 "sum(n) AS n, sum(amount) AS amount FROM crm_deal_counts WHERE pipeline_id = :pipeline%s "
			 "GROUP BY stage_id, code, currency ORDER BY stage_id, currency, code", with_reach ? "reach" : "0",
			 *c->branch ? " AND branch_id = :branch" : "");
	} else {
		filters(f, sizeof(f), c, "d", "d.created_at");
		snprintf(sql, sizeof(sql), "SELECT d.stage_id AS cur, %s AS code, d.currency, count(*) AS n, "
			 "coalesce(sum(d.amount), 0) AS amount FROM crm_deal_board d WHERE d.pipeline_id = :pipeline "
			 "AND d.deleted = 0%s GROUP BY d.stage_id, code, d.currency ORDER BY d.stage_id, d.currency, code",
			 with_reach ? "d.reach" : "0", f);
	}
	return rows(out, c, sql);
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
	json_t *stages = json_array(), *groups = json_array();
	/* The reach code of a deal: the stages it ever entered, bits 0..39 the
	 * highest open position, bit 40 won, bit 41 lost (0005_reports.sql). */
	int err = stages_of(stages, c);
	if (err == 0)
		err = deal_groups(groups, c, 1);
	if (err < 0)
		goto done;
	add_totals(stages, groups);
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

/* The latest entry of deal d into its current stage (b: its crm_deal_board row). */
#define ENTERED_SQL "b.entered_at"

/* -------------------------------------------------------------- plan ---- */

/* Live deals now in a stage of `kind` whose latest entry into that stage
 * (stage_history; created_at if there is none: crm_deal_board.entered_at)
 * falls in the range of lo and hi (conditions on b.entered_at), read from
 * the index crm_deal_board(stage_id, deleted, entered_at): columns id,
 * owner_id, branch_id, currency, amount, lost_reason, at.  %s: filters on d. */
#define CLOSED_SQL(kind, lo, hi) \
	"SELECT d.id, d.owner_id, d.branch_id, d.currency, coalesce(d.amount, 0) AS amount, d.lost_reason, " \
	"b.entered_at AS at FROM stages s JOIN crm_deal_board b ON b.stage_id = s.id AND b.deleted = 0 " lo hi \
	" JOIN deals d ON d.id = b.deal_id WHERE s.kind = '" kind "'%s"

static int report_plan(json_t *out, rctx *c)
{
	char sql[SQL_MAX], f[256], won[PART_MAX];
	json_t *users = json_array(), *branches = json_array();
	filters(f, sizeof(f), c, "d", NULL);
	snprintf(won, sizeof(won), CLOSED_SQL("won", "AND b.entered_at >= :m0", " AND b.entered_at < :m1"), f);
	/* Per user: their plans (their branch: the plan's, else the user's) and
	 * the deals they own that were won in the month. */
	snprintf(sql, sizeof(sql), "WITH won AS (%s), x AS ("
		 "SELECT p.user_id AS uid, coalesce(p.branch_id, u.branch_id) AS bid, p.currency, p.amount AS plan, "
		 "0 AS fact, 0 AS won FROM plans p LEFT JOIN users u ON u.id = p.user_id "
		 "WHERE p.deleted = 0 AND p.month = :month AND p.user_id IS NOT NULL%s "
		 "UNION ALL SELECT owner_id, branch_id, currency, 0, amount, 1 FROM won) "
		 "SELECT x.uid AS user_id, u.login, u.name, b.code AS branch, x.currency, sum(x.plan) AS plan, "
		 "sum(x.fact) AS fact, sum(x.won) AS won FROM x LEFT JOIN users u ON u.id = x.uid "
		 "LEFT JOIN branches b ON b.id = u.branch_id GROUP BY x.uid, x.currency "
		 "ORDER BY u.login, x.uid, x.currency", won,
		 *c->branch ? " AND coalesce(p.branch_id, u.branch_id) = :branch" : "");
	int err = rows(users, c, sql);
	/* Per branch: its own plans (user_id empty) if it has any that month,
	 * else the sum of its users' plans; fact: won deals of the branch. */
	snprintf(sql, sizeof(sql), "WITH won AS (%s), "
		 "bp AS (SELECT p.branch_id AS bid, p.currency, p.amount AS plan FROM plans p "
		 "WHERE p.deleted = 0 AND p.month = :month AND p.user_id IS NULL AND p.branch_id IS NOT NULL), "
		 "up AS (SELECT coalesce(p.branch_id, u.branch_id) AS bid, p.currency, p.amount AS plan FROM plans p "
		 "LEFT JOIN users u ON u.id = p.user_id WHERE p.deleted = 0 AND p.month = :month AND p.user_id IS NOT NULL), "
		 "x AS (SELECT bid, currency, plan, 0 AS fact, 0 AS won FROM bp UNION ALL SELECT bid, currency, plan, 0, 0 "
		 "FROM up WHERE bid NOT IN (SELECT bid FROM bp) UNION ALL SELECT branch_id, currency, 0, amount, 1 FROM won) "
		 "SELECT b.code AS branch, b.name AS branch_name, x.currency, sum(x.plan) AS plan, sum(x.fact) AS fact, "
		 "sum(x.won) AS won FROM x LEFT JOIN branches b ON b.id = x.bid %s GROUP BY x.bid, x.currency "
		 "ORDER BY b.code, x.bid, x.currency", won, *c->branch ? "WHERE x.bid = :branch" : "");
	if (err == 0)
		err = rows(branches, c, sql);
	json_t *lists[2] = {users, branches}, *r;
	size_t i;
	for (int k = 0; k < 2; k++)
		json_array_foreach(lists[k], i, r) {
			char buf[64];
			const char *cur = sget(r, "currency") ? sget(r, "currency") : "";
			json_object_set_new(r, "percent", percent(iget(r, "fact"), iget(r, "plan")));
			crm_format_amount(buf, sizeof(buf), iget(r, "plan"), cur);
			json_object_set_new(r, "plan_text", json_sprintf("%s %s", buf, cur));
			crm_format_amount(buf, sizeof(buf), iget(r, "fact"), cur);
			json_object_set_new(r, "fact_text", json_sprintf("%s %s", buf, cur));
		}
	json_object_set_new(out, "month", json_string(c->month));
	json_object_set_new(out, "users", users);
	json_object_set_new(out, "branch_plans", branches);
	return err;
}

/* ----------------------------------------------------------- sources ---- */

static int report_sources(json_t *out, rctx *c)
{
	char sql[SQL_MAX], fl[256], fd[256];
	json_t *src = json_array(), *amounts = json_array();
	filters(fl, sizeof(fl), c, "l", "l.created_at");
	filters(fd, sizeof(fd), c, "d", "d.created_at");
	/* A deal's source: its own, else that of the lead converted into it. */
	char cte[PART_MAX];
	snprintf(cte, sizeof(cte), "WITH l AS (SELECT coalesce(nullif(l.source, ''), '(none)') AS source, count(*) AS leads, "
		 "sum(l.status = 'converted' OR l.deal_id IS NOT NULL) AS converted FROM leads l WHERE l.deleted = 0%s "
		 "GROUP BY 1), dd AS (SELECT coalesce(nullif(coalesce(nullif(d.source, ''), (SELECT l.source FROM leads l "
		 "WHERE l.deal_id = d.id AND l.deleted = 0 ORDER BY l.id LIMIT 1)), ''), '(none)') AS source, "
		 "s.kind, d.currency, coalesce(d.amount, 0) AS amount FROM deals d JOIN stages s ON s.id = d.stage_id "
		 "WHERE d.deleted = 0%s)", fl, fd);
	snprintf(sql, sizeof(sql), "%s, d AS (SELECT source, count(*) AS deals, sum(kind = 'won') AS won FROM dd GROUP BY 1) "
		 "SELECT k.source, coalesce(l.leads, 0) AS leads, coalesce(l.converted, 0) AS converted, "
		 "coalesce(d.deals, 0) AS deals, coalesce(d.won, 0) AS won FROM (SELECT source FROM l UNION SELECT source FROM d) k "
		 "LEFT JOIN l ON l.source = k.source LEFT JOIN d ON d.source = k.source ORDER BY leads DESC, deals DESC, k.source",
		 cte);
	int err = rows(src, c, sql);
	/* The same deals, won ones, summed per source and currency. */
	snprintf(sql, sizeof(sql), "%s SELECT source, currency, count(*) AS count, sum(amount) AS amount "
		 "FROM dd WHERE kind = 'won' GROUP BY source, currency ORDER BY source, currency", cte);
	if (err == 0)
		err = rows(amounts, c, sql);
	nest(src, "source", amounts, "won_totals");
	size_t i;
	json_t *r;
	json_array_foreach(src, i, r) {
		json_object_set_new(r, "conversion", percent(iget(r, "converted"), iget(r, "leads")));
		json_object_set_new(r, "win_rate", percent(iget(r, "won"), iget(r, "deals")));
		money_text(r, "won_totals", "amount", "won_text");
	}
	json_decref(amounts);
	json_object_set_new(out, "sources", src);
	return err;
}

/* ------------------------------------------------------------ losses ---- */

static int report_losses(json_t *out, rctx *c)
{
	char sql[SQL_MAX], f[256], lost[PART_MAX];
	json_t *reasons = json_array(), *amounts = json_array();
	filters(f, sizeof(f), c, "d", NULL);
	snprintf(lost, sizeof(lost), CLOSED_SQL("lost", "%s", "%s"), *c->from ? "AND b.entered_at >= :from" : "",
		 *c->to1 ? " AND b.entered_at < :to1" : "", f);
	snprintf(sql, sizeof(sql), "WITH x AS (SELECT coalesce(nullif(lost_reason, ''), '(none)') AS reason, currency, amount "
		 "FROM (%s)) SELECT reason, count(*) AS count FROM x GROUP BY reason ORDER BY count DESC, reason", lost);
	int err = rows(reasons, c, sql);
	snprintf(sql, sizeof(sql), "WITH x AS (SELECT coalesce(nullif(lost_reason, ''), '(none)') AS reason, currency, amount "
		 "FROM (%s)) SELECT reason, currency, count(*) AS count, sum(amount) AS amount FROM x "
		 "GROUP BY reason, currency ORDER BY reason, currency", lost);
	if (err == 0)
		err = rows(amounts, c, sql);
	nest(reasons, "reason", amounts, "totals");
	json_int_t total = 0;
	size_t i;
	json_t *r;
	json_array_foreach(reasons, i, r)
		total += iget(r, "count");
	json_array_foreach(reasons, i, r) {
		json_object_set_new(r, "share", percent(iget(r, "count"), total));
		money_text(r, "totals", "amount", "amount_text");
	}
	json_decref(amounts);
	json_object_set_new(out, "lost", json_integer(total));
	json_object_set_new(out, "reasons", reasons);
	return err;
}

/* ------------------------------------------------------------ stages ---- */

static int report_stages(json_t *out, rctx *c)
{
	char sql[SQL_MAX], f[256], fp[256];
	json_t *stages = json_array();
	filters(f, sizeof(f), c, "d", NULL);
	rctx nob = *c;
	nob.branch[0] = '\0';
	filters(fp, sizeof(fp), &nob, "v", "v.at");
	/* A visit lasts from its entry to the deal's next entry (by time, then
	 * id), or to "as of" if the deal is still in that stage. */
	snprintf(sql, sizeof(sql), "WITH v AS (SELECT h.deal_id, h.to_stage_id AS sid, h.at, d.stage_id AS cur, "
		 "lead(h.at) OVER (PARTITION BY h.deal_id ORDER BY h.at, h.id) AS next_at FROM stage_history h "
		 "JOIN deals d ON d.id = h.deal_id WHERE h.deleted = 0 AND d.deleted = 0 AND d.pipeline_id = :pipeline%s), "
		 "x AS (SELECT v.sid, v.deal_id, julianday(coalesce(v.next_at, :asof)) - julianday(v.at) AS days FROM v "
		 "WHERE v.at <= :asof AND (v.next_at IS NOT NULL OR v.cur = v.sid)%s), "
		 "agg AS (SELECT sid, count(*) AS visits, avg(days) AS avg_days, max(days) AS max_days, deal_id FROM x GROUP BY sid) "
		 "SELECT s.id AS stage_id, s.name AS stage, s.kind, s.max_days AS limit_days, coalesce(a.visits, 0) AS visits, "
		 "round(a.avg_days, 1) AS avg_days, round(a.max_days, 1) AS max_days, a.deal_id AS longest_deal_id, "
		 "(SELECT title FROM deals WHERE id = a.deal_id) AS longest_deal FROM stages s LEFT JOIN agg a ON a.sid = s.id "
		 "WHERE s.deleted = 0 AND s.pipeline_id = :pipeline AND s.kind = 'open' ORDER BY s.position, s.id", f, fp);
	int err = rows(stages, c, sql);
	json_object_set_new(out, "as_of", json_string(c->asof));
	json_object_set_new(out, "stages", stages);
	return err;
}

/* ----------------------------------------------------------- overdue ---- */

static int report_overdue(json_t *out, rctx *c)
{
	char sql[SQL_MAX], f[256], ft[256];
	json_t *deals = json_array(), *tasks = json_array(), *n = json_array(), *tot = json_array();
	filters(f, sizeof(f), c, "d", NULL);
	filters(ft, sizeof(ft), c, "t", NULL);
	snprintf(sql, sizeof(sql), "WITH o AS (SELECT * FROM (SELECT d.id, d.title, d.currency, coalesce(d.amount, 0) AS amount, "
		 "d.expected_close, s.name AS stage, s.max_days, (SELECT login FROM users WHERE id = d.owner_id) AS owner, "
		 "(SELECT code FROM branches WHERE id = d.branch_id) AS branch, "
		 "CAST(julianday(:asof) - julianday(coalesce(" ENTERED_SQL ", d.created_at)) AS INTEGER) AS days_in_stage "
		 "FROM deals d JOIN stages s ON s.id = d.stage_id JOIN crm_deal_board b ON b.deal_id = d.id "
		 "WHERE s.kind = 'open' AND d.deleted = 0%s) "
		 "WHERE (max_days IS NOT NULL AND days_in_stage > max_days) OR expected_close < substr(:asof, 1, 10)) ", f);
	size_t off = strlen(sql);
	snprintf(sql + off, sizeof(sql) - off, "SELECT id, title, stage, owner, branch, days_in_stage, max_days, "
		 "expected_close, amount, currency, (max_days IS NOT NULL AND days_in_stage > max_days) AS over_max_days, "
		 "coalesce(expected_close < substr(:asof, 1, 10), 0) AS past_close, "
		 "CASE WHEN max_days IS NOT NULL AND days_in_stage > max_days THEN 'over ' || max_days || ' days in stage' "
		 "ELSE 'close date passed' END AS reason FROM o "
		 "ORDER BY days_in_stage DESC, id LIMIT %d", LIST_MAX);
	int err = rows(deals, c, sql);
	snprintf(sql + off, sizeof(sql) - off, "SELECT currency, count(*) AS count, sum(amount) AS amount FROM o "
		 "GROUP BY currency ORDER BY currency");
	if (err == 0)
		err = rows(tot, c, sql);
	char tw[PART_MAX];
	snprintf(tw, sizeof(tw), "FROM tasks t WHERE t.deleted = 0 AND coalesce(t.status, 'open') NOT IN ('done', 'cancelled') "
		 "AND t.due < :asof%s", ft);
	snprintf(sql, sizeof(sql), "SELECT t.id, t.title, t.due, t.status, CAST(julianday(:asof) - julianday(t.due) AS INTEGER) "
		 "AS days_overdue, (SELECT login FROM users WHERE id = t.assignee_id) AS assignee, "
		 "(SELECT code FROM branches WHERE id = t.branch_id) AS branch, t.deal_id, "
		 "(SELECT title FROM deals WHERE id = t.deal_id) AS deal %s ORDER BY t.due, t.id LIMIT %d", tw, LIST_MAX);
	if (err == 0)
		err = rows(tasks, c, sql);
	snprintf(sql, sizeof(sql), "SELECT count(*) AS n %s", tw);
	if (err == 0)
		err = rows(n, c, sql);
	json_int_t deal_count = 0;
	size_t i;
	json_t *r;
	json_array_foreach(tot, i, r)
		deal_count += iget(r, "count");
	json_object_set_new(out, "as_of", json_string(c->asof));
	json_object_set_new(out, "deals_count", json_integer(deal_count));
	json_object_set_new(out, "tasks_count", json_integer(iget(json_array_get(n, 0), "n")));
	json_object_set_new(out, "totals", tot);
	money_text(out, "totals", "amount", "amount_text");
	amount_texts(deals);
	json_object_set_new(out, "deals", deals);
	json_object_set_new(out, "tasks", tasks);
	json_decref(n);
	return err;
}

/* ---------------------------------------------------------- forecast ---- */

static int report_forecast(json_t *out, rctx *c)
{
	char sql[SQL_MAX], f[256];
	json_t *months = json_array();
	filters(f, sizeof(f), c, "d", "d.expected_close");
	snprintf(sql, sizeof(sql), "SELECT substr(d.expected_close, 1, 7) AS month, d.currency, count(*) AS deals, "
		 "coalesce(sum(d.amount), 0) AS amount, CAST(round(coalesce(sum(d.amount * "
		 "(coalesce(d.probability, s.probability, 0) / 100.0)), 0)) AS INTEGER) AS expected "
		 "FROM deals d JOIN stages s ON s.id = d.stage_id WHERE s.kind = 'open' AND d.deleted = 0%s "
		 "GROUP BY month, d.currency ORDER BY month IS NULL, month, d.currency", f);
	int err = rows(months, c, sql);
	size_t i;
	json_t *r;
	json_array_foreach(months, i, r) {
		char a[64], e[64];
		const char *cur = sget(r, "currency") ? sget(r, "currency") : "";
		crm_format_amount(a, sizeof(a), iget(r, "amount"), cur);
		crm_format_amount(e, sizeof(e), iget(r, "expected"), cur);
		json_object_set_new(r, "amount_text", json_sprintf("%s %s", a, cur));
		json_object_set_new(r, "expected_text", json_sprintf("%s %s", e, cur));
	}
	json_object_set_new(out, "months", months);
	return err;
}

/* ------------------------------------------------------------- board ---- */

int crm_board(json_t **out, crm_store *st, const char *pipeline, const char *branch, size_t per_column)
{
	rctx c;
	crm_report_opts o = {.pipeline = pipeline, .branch = branch};
	char sql[SQL_MAX];
	*out = NULL;
	if (per_column > BOARD_CARDS_MAX)
		return CRM_ERR(CRM_EINVAL, "at most %d deals per column, not %zu", BOARD_CARDS_MAX, per_column);
	int err = setup(&c, st, &o);
	if (err < 0)
		return err;
	json_t *doc = json_object(), *cols = json_array(), *groups = json_array();
	err = stages_of(cols, &c);
	if (err == 0)
		err = deal_groups(groups, &c, 0);
	add_totals(cols, groups);
	json_decref(groups);
	char fb[256];
	filters(fb, sizeof(fb), &c, "b", NULL);
	/* Cards straight from crm_deal_board's index, newest activity first. */
	snprintf(sql, sizeof(sql), "SELECT id, title, amount, currency, company_id, company, owner, entered_at, "
		 "days_in_stage, last_activity, (max_days IS NOT NULL AND days_in_stage > max_days) AS over_max_days, "
		 "(last_activity = '' OR julianday(:asof) - julianday(last_activity) > CAST(:stale AS INTEGER)) AS stale FROM ("
		 "SELECT d.id, d.title, d.amount, d.currency, " SURVIVOR("d.company_id") " AS company_id, "
		 "(SELECT name FROM companies WHERE id = " SURVIVOR("d.company_id") ") AS company, "
		 "(SELECT login FROM users WHERE id = d.owner_id) AS owner, " ENTERED_SQL " AS entered_at, "
		 "CAST(julianday(:asof) - julianday(coalesce(" ENTERED_SQL ", d.created_at)) AS INTEGER) AS days_in_stage, "
		 "b.touched_at AS last_activity, s.max_days FROM crm_deal_board b JOIN deals d ON d.id = b.deal_id "
		 "JOIN stages s ON s.id = d.stage_id WHERE b.pipeline_id = :pipeline AND b.stage_id = :id AND b.deleted = 0%s "
		 "ORDER BY b.touched_at DESC, b.deal_id DESC LIMIT %zu)", fb, per_column);
	size_t i;
	json_t *col;
	json_array_foreach(cols, i, col) {
		json_t *cards = json_array();
		if (err == 0 && per_column)
			err = rows_id(cards, &c, sql, sget(col, "stage_id"));
		amount_texts(cards);
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
	{"funnel", report_funnel}, {"plan", report_plan}, {"sources", report_sources},
	{"losses", report_losses}, {"stages", report_stages}, {"overdue", report_overdue},
	{"forecast", report_forecast},
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
	if (strcmp(name, "funnel") == 0 || strcmp(name, "stages") == 0)   /* the others span every pipeline */
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
