/*
 * bench_report.c — reports and the kanban board over a large replica
 * (DESIGN.md §12: HQ funnel over 1,000,000 deals ≤ 1 s; kanban page ≤ 200 ms).
 *
 * Method
 *  1. A fresh replica (crm_store_create, all migrations) gets --branches
 *     branches with 10 users each, then --n deals of the default pipeline,
 *     each a pure function of (seed, i): branch, owner, amount (80 % RUB,
 *     15 % EUR, 5 % USD), source, created within the last 365 days, expected
 *     close 30–120 days later, and a fate — open in one of the four open
 *     stages (55 %), won (25 %) or lost with a reason (20 %).  Its
 *     stage_history walks New → … → its stage one row per step, 1–10 days
 *     apart; a quarter of the deals get a call, a tenth a task, a fifth a lead
 *     (a third of those converted into it); every user a plan this month.
 *  2. Loading is plain INSERTs in transactions of 50,000 deals, not crm_write:
 *     through the write path 1,000,000 deals are ≈ 15 million field changes
 *     with their clocks and pending rows, hours on this machine, and reports
 *     read only the rows.  Every trigger of the schema still fires (FTS5 on
 *     titles, crm_deal_board of 0005_reports.sql), so the replica a report
 *     reads is what the write path would have left, minus clocks.
 *  3. The replica is closed and reopened (cold SQLite cache, warm OS cache).
 *     Each operation then runs --runs times, interleaved: crm_board (first
 *     page, 20 cards per column) and every report, over all branches (HQ),
 *     for one branch, and the funnel with the per-branch breakdown.  p50/p95
 *     of wall time per call, JSON building included.
 *  4. Plain SQL, for the ratio: one more run of each operation is traced
 *     (sqlite3_trace_v2, SQLITE_TRACE_STMT) and the statements it ran, with
 *     their bound values (sqlite3_expanded_sql), are replayed through
 *     sqlite3_prepare_v2/sqlite3_step with no JSON: what the same queries
 *     cost without libcrm around them.
 *  5. --doc FILE writes the section between <!-- bench_report:begin --> and
 *     <!-- bench_report:end --> of FILE (appended if absent).
 */
#include "bench_util.h"
#include "error.h"
#include "report.h"
#include "store.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_OPS 24
#define MAX_STMTS 4096
#define BATCH 50000

static const char *const currencies[] = {"RUB", "RUB", "RUB", "RUB", "RUB", "RUB", "RUB", "RUB", "EUR", "EUR", "EUR", "USD"};
static const char *const sources[] = {"web", "referral", "cold call", "exhibition", "partner", NULL};
static const char *const reasons[] = {"price", "competitor", "no budget", "timing", NULL};
static const char *const stage_ids[] = {
	"00000000-0000-8000-8000-000000000101", "00000000-0000-8000-8000-000000000102",
	"00000000-0000-8000-8000-000000000103", "00000000-0000-8000-8000-000000000104",
	"00000000-0000-8000-8000-000000000105", "00000000-0000-8000-8000-000000000106",
};
#define PIPELINE "00000000-0000-8000-8000-000000000001"

typedef struct options {
	uint64_t n, seed;
	unsigned branches, runs;
	const char *doc;
	int keep;
	double budget;       /* seconds of repeated runs per operation */
} options;

typedef struct op {
	const char *name, *scope;
	const char *report;       /* NULL: the board */
	int branch, by_branch;
	double ms[64], plain_ms, total_ms;
	size_t runs;
	size_t stmts;
} op;

static time_t now_s;
static char load_before[64], load_after[64];

static void loadavg(char *out, size_t cap)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;
	if (!f || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
		snprintf(out, cap, "unknown");
	else
		snprintf(out, cap, "%.2f %.2f %.2f", a, b, c);
	if (f)
		fclose(f);
}

static void iso(char out[24], time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void day(char out[11], time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void fake_id(char out[37], unsigned kind, uint64_t i)
{
	snprintf(out, 37, "%08x-%04x-7000-8000-%012llx", 0x01a00000u + kind, (unsigned)(i >> 48) & 0xffff,
		 (unsigned long long)(i & 0xffffffffffffULL));
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: %s: %s\n", sql, sqlite3_errmsg(db));
		exit(1);
	}
	return q;
}

static void done(sqlite3 *db, sqlite3_stmt *q)
{
	if (sqlite3_step(q) != SQLITE_DONE) {
		fprintf(stderr, "bench: insert failed: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

#define T(q, i, s) sqlite3_bind_text((q), (i), (s), -1, SQLITE_TRANSIENT)

typedef struct gen {
	sqlite3 *db;
	sqlite3_stmt *deal, *hist, *act, *task, *lead, *plan;
	char branch[64][37];
	unsigned branches;
} gen;

static void load_people(gen *g, const options *o)
{
	sqlite3_stmt *b = prep(g->db, "INSERT INTO branches(id, code, name) VALUES (?1, ?2, ?3)");
	sqlite3_stmt *u = prep(g->db, "INSERT INTO users(id, login, name, branch_id) VALUES (?1, ?2, ?3, ?4)");
	char code[16], id[37], login[32], month[8];
	struct tm tm;
	gmtime_r(&now_s, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	for (unsigned i = 0; i < o->branches; i++) {
		snprintf(code, sizeof(code), "B%02u", i + 1);
		crm_store_name_id(g->branch[i], "branch", code);
		T(b, 1, g->branch[i]), T(b, 2, code), T(b, 3, code);
		done(g->db, b);
		for (unsigned k = 0; k < 10; k++) {
			fake_id(id, 1, i * 10 + k);
			snprintf(login, sizeof(login), "u%02u%u", i + 1, k);
			T(u, 1, id), T(u, 2, login), T(u, 3, login), T(u, 4, g->branch[i]);
			done(g->db, u);
			char pid[37];
			fake_id(pid, 2, i * 10 + k);
			T(g->plan, 1, pid), T(g->plan, 2, month), T(g->plan, 3, id);
			sqlite3_bind_int64(g->plan, 4, 50000000 + 1000000 * (int64_t)k);
			T(g->plan, 5, "RUB");
			done(g->db, g->plan);
		}
	}
	sqlite3_finalize(b);
	sqlite3_finalize(u);
}

/* Deal i with its history, call, task and lead. */
static void load_deal(gen *g, const options *o, uint64_t i)
{
	bench_rng r;
	bench_rng_for(&r, o->seed, i);
	char id[37], hid[37], at[24], d1[11], owner[37], title[48];
	unsigned br = (unsigned)bench_rng_below(&r, g->branches);
	fake_id(id, 10, i);
	fake_id(owner, 1, br * 10 + bench_rng_below(&r, 10));
	time_t t = now_s - (time_t)bench_rng_below(&r, 365 * 86400);
	unsigned fate = (unsigned)bench_rng_below(&r, 100), top, last;
	if (fate < 55) {            /* open in stage 0..3 */
		last = top = (unsigned)bench_rng_below(&r, 4);
	} else {                    /* won (4) or lost (5) after reaching 0..3 */
		top = (unsigned)bench_rng_below(&r, 4);
		last = fate < 80 ? 4 : 5;
	}
	char created[24];
	iso(created, t);
	for (unsigned s = 0, step = 0; s <= top || (last > 3 && s == top + 1); s++, step++) {
		unsigned sid = s <= top ? s : last;
		if (step)
			t += (time_t)(86400 + bench_rng_below(&r, 9 * 86400));
		if (t > now_s)
			t = now_s;
		fake_id(hid, 11, i * 8 + step);
		iso(at, t);
		T(g->hist, 1, hid), T(g->hist, 2, id), T(g->hist, 3, step ? stage_ids[s - 1 <= top ? s - 1 : top] : NULL);
		T(g->hist, 4, stage_ids[sid]), T(g->hist, 5, at), T(g->hist, 6, owner);
		done(g->db, g->hist);
	}
	if (bench_rng_below(&r, 4) == 0) {
		fake_id(hid, 12, i);
		iso(at, t - (time_t)bench_rng_below(&r, 86400));
		T(g->act, 1, hid), T(g->act, 2, id), T(g->act, 3, at), T(g->act, 4, owner), T(g->act, 5, g->branch[br]);
		done(g->db, g->act);
	}
	if (bench_rng_below(&r, 10) == 0) {
		fake_id(hid, 13, i);
		iso(at, now_s - 60 * 86400 + (time_t)bench_rng_below(&r, 120 * 86400));
		T(g->task, 1, hid), T(g->task, 2, at), T(g->task, 3, bench_rng_below(&r, 3) ? "open" : "done");
		T(g->task, 4, owner), T(g->task, 5, id), T(g->task, 6, g->branch[br]);
		done(g->db, g->task);
	}
	const char *src = sources[bench_rng_below(&r, 6)];
	if (bench_rng_below(&r, 5) == 0) {
		fake_id(hid, 14, i);
		int conv = bench_rng_below(&r, 3) == 0;
		T(g->lead, 1, hid), T(g->lead, 2, src), T(g->lead, 3, conv ? "converted" : "working");
		T(g->lead, 4, conv ? id : NULL), T(g->lead, 5, g->branch[br]), T(g->lead, 6, created);
		done(g->db, g->lead);
	}
	snprintf(title, sizeof(title), "Deal %llu", (unsigned long long)i);
	day(d1, now_s - (time_t)bench_rng_below(&r, 365 * 86400) + (time_t)(30 + bench_rng_below(&r, 90)) * 86400);
	T(g->deal, 1, id), T(g->deal, 2, title), T(g->deal, 3, stage_ids[last]);
	sqlite3_bind_int64(g->deal, 4, (int64_t)(100000 + bench_rng_below(&r, 100000000)));
	T(g->deal, 5, currencies[bench_rng_below(&r, 12)]), T(g->deal, 6, d1), T(g->deal, 7, src);
	T(g->deal, 8, last == 5 ? reasons[bench_rng_below(&r, 5)] : NULL), T(g->deal, 9, owner);
	T(g->deal, 10, g->branch[br]), T(g->deal, 11, created);
	done(g->db, g->deal);
}

static double load(crm_store *st, const options *o)
{
	gen g = {.db = crm_db_handle(crm_store_db(st)), .branches = o->branches};
	g.deal = prep(g.db, "INSERT INTO deals(id, title, pipeline_id, stage_id, amount, currency, expected_close, source, "
		      "lost_reason, owner_id, branch_id, created_at) VALUES (?1, ?2, '" PIPELINE "', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
	g.hist = prep(g.db, "INSERT INTO stage_history(id, deal_id, from_stage_id, to_stage_id, at, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	g.act = prep(g.db, "INSERT INTO activities(id, kind, subject, at, done, deal_id, owner_id, branch_id, created_at) "
		     "VALUES (?1, 'call', 'Call', ?3, 1, ?2, ?4, ?5, ?3)");
	g.task = prep(g.db, "INSERT INTO tasks(id, title, due, status, assignee_id, deal_id, branch_id) VALUES (?1, 'Follow up', ?2, ?3, ?4, ?5, ?6)");
	g.lead = prep(g.db, "INSERT INTO leads(id, title, source, status, deal_id, branch_id, created_at) VALUES (?1, 'Lead', ?2, ?3, ?4, ?5, ?6)");
	g.plan = prep(g.db, "INSERT INTO plans(id, month, user_id, amount, currency) VALUES (?1, ?2, ?3, ?4, ?5)");
	uint64_t t0 = bench_now_ns();
	exec(g.db, "BEGIN");
	load_people(&g, o);
	for (uint64_t i = 0; i < o->n; i++) {
		load_deal(&g, o, i);
		if ((i + 1) % BATCH == 0) {
			exec(g.db, "COMMIT; BEGIN");
			fprintf(stderr, "\rloaded %llu deals", (unsigned long long)(i + 1));
		}
	}
	exec(g.db, "COMMIT");
	fprintf(stderr, "\n");
	sqlite3_stmt *qs[] = {g.deal, g.hist, g.act, g.task, g.lead, g.plan};
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++)
		sqlite3_finalize(qs[k]);
	exec(g.db, "PRAGMA wal_checkpoint(TRUNCATE)");
	return (double)(bench_now_ns() - t0) / 1e9;
}

/* ------------------------------------------------------------- timing -- */

typedef struct trace {
	char *sql[MAX_STMTS];
	size_t count;
} trace;

static int on_stmt(unsigned what, void *ctx, void *p, void *x)
{
	trace *t = ctx;
	(void)what;
	const char *text = x;
	if (text && text[0] == '-' && text[1] == '-')
		return 0;   /* a trigger's statement */
	char *s = sqlite3_expanded_sql(p);
	if (s && t->count < MAX_STMTS)
		t->sql[t->count++] = strdup(s);
	sqlite3_free(s);
	return 0;
}

static double run_op(crm_store *st, op *p, const char *branch)
{
	json_t *doc = NULL;
	crm_report_opts o = {.branch = p->branch ? branch : NULL, .by_branch = p->by_branch};
	uint64_t t0 = bench_now_ns();
	int err = p->report ? crm_report(&doc, st, p->report, &o) : crm_board(&doc, st, NULL, o.branch, 20);
	double ms = (double)(bench_now_ns() - t0) / 1e6;
	bench_check(err, p->name);
	json_decref(doc);
	return ms;
}

/* The op's statements, traced once, replayed as plain SQL. */
static void plain(crm_store *st, op *p, const char *branch, unsigned runs)
{
	sqlite3 *db = crm_db_handle(crm_store_db(st));
	trace t = {.count = 0};
	sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_stmt, &t);
	run_op(st, p, branch);
	sqlite3_trace_v2(db, 0, NULL, NULL);
	p->stmts = t.count;
	double best[64];
	for (unsigned k = 0; k < runs; k++) {
		uint64_t t0 = bench_now_ns();
		for (size_t i = 0; i < t.count; i++) {
			sqlite3_stmt *q = prep(db, t.sql[i]);
			while (sqlite3_step(q) == SQLITE_ROW)
				;
			sqlite3_finalize(q);
		}
		best[k] = (double)(bench_now_ns() - t0) / 1e6;
	}
	p->plain_ms = bench_median(best, runs);
	for (size_t i = 0; i < t.count; i++)
		free(t.sql[i]);
}

static void write_doc(const options *o, op *ops, size_t nops, double load_s, long long db_bytes)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->doc);
	FILE *in = fopen(o->doc, "r"), *out = fopen(tmp, "w");
	if (!out) {
		perror(tmp);
		exit(1);
	}
	char line[8192];
	int skipping = 0, written = 0;
	for (;;) {
		int have = in && fgets(line, sizeof(line), in);
		if (have && strncmp(line, "<!-- bench_report:begin -->", 27) == 0)
			skipping = 1;
		if (!have || (skipping && strncmp(line, "<!-- bench_report:end -->", 25) == 0)) {
			if (!written) {
				if (!have)
					fputs("\n", out);
				char run_when[256], day_s[24];
				iso(day_s, now_s);
				snprintf(run_when, sizeof(run_when), "started %s, single-threaded; load averages %s before the\n"
					 "queries and %s after (2 cores, shared with other work)", day_s, load_before, load_after);
				fprintf(out, "<!-- bench_report:begin -->\n## Reports and the kanban board\n\n");
				fprintf(out, "Measured by `tools/bench/bench_report` (seed %llu, `--n %llu --branches %u --runs %u`)\n"
					"on the machine above, %s.  Method: the header of tools/bench/bench_report.c.  A replica\n"
					"with %llu deals of the default pipeline in %u branches, their stage history (one row per\n"
					"step), a call on a quarter of them, a task on a tenth, a lead on a fifth, loaded with plain\n"
					"INSERTs in %.0f s (every trigger fires; crm_write would take hours for no difference to\n"
					"what reports read); the file is %.0f MiB.  Wall time per call, JSON included; \"plain SQL\"\n"
					"is the same statements with the same bound values replayed through sqlite3_step with no\n"
					"JSON (median of up to 3 runs).  An operation stops repeating once its runs took %.0f s (the\n"
					"runs column says how many ran).  Budgets (DESIGN.md §12): HQ funnel ≤ 1 s, kanban page ≤ 200 ms.\n\n",
					(unsigned long long)o->seed, (unsigned long long)o->n, o->branches, o->runs,
					run_when, (unsigned long long)o->n, o->branches, load_s,
					(double)db_bytes / 1048576.0, o->budget);
				fprintf(out, "| operation | scope | runs | p50 ms | p95 ms | plain SQL ms | ÷ plain | statements | budget |\n"
					"|---|---|---:|---:|---:|---:|---:|---:|---|\n");
				for (size_t i = 0; i < nops; i++) {
					op *p = &ops[i];
					double v[64];
					memcpy(v, p->ms, p->runs * sizeof(double));
					bench_sort(v, p->runs);
					double p50 = bench_pct(v, p->runs, 50), p95 = bench_pct(v, p->runs, 95);
					const char *budget = "";
					if (!p->report && strcmp(p->scope, "HQ") == 0)
						budget = p95 <= 200 ? "≤ 200 ms: met" : "≤ 200 ms: **not met**";
					if (p->report && strcmp(p->report, "funnel") == 0 && strcmp(p->scope, "HQ") == 0)
						budget = p95 <= 1000 ? "≤ 1 s: met" : "≤ 1 s: **not met**";
					fprintf(out, "| %s | %s | %zu | %.1f | %.1f | %.1f | %.2f× | %zu | %s |\n", p->name, p->scope, p->runs, p50, p95,
						p->plain_ms, p->plain_ms > 0 ? p50 / p->plain_ms : 0, p->stmts, budget);
				}
				fprintf(out, "\n<!-- bench_report:end -->\n");
				written = 1;
			}
			skipping = 0;
			if (!have)
				break;
			continue;
		}
		if (!skipping)
			fputs(line, out);
	}
	if (in)
		fclose(in);
	fclose(out);
	if (rename(tmp, o->doc) != 0) {
		perror(o->doc);
		exit(1);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_report [--n DEALS] [--branches N] [--runs N] [--budget SECONDS] [--seed S] [--quick]\n"
		"                    [--doc FILE] [--keep]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	options o = {.n = 1000000, .seed = 20260101, .branches = 8, .runs = 7, .budget = 60};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--quick") == 0) {
			o.n = 20000;
			o.runs = 3;
		} else if (strcmp(a, "--keep") == 0) {
			o.keep = 1;
		} else if (v && strcmp(a, "--n") == 0) {
			o.n = bench_arg_u64("--n", v), i++;
		} else if (v && strcmp(a, "--branches") == 0) {
			o.branches = (unsigned)bench_arg_u64("--branches", v), i++;
		} else if (v && strcmp(a, "--runs") == 0) {
			o.runs = (unsigned)bench_arg_u64("--runs", v), i++;
		} else if (v && strcmp(a, "--budget") == 0) {
			o.budget = (double)bench_arg_u64("--budget", v), i++;
		} else if (v && strcmp(a, "--seed") == 0) {
			o.seed = bench_arg_u64("--seed", v), i++;
		} else if (v && strcmp(a, "--doc") == 0) {
			o.doc = v, i++;
		} else {
			usage();
		}
	}
	if (o.branches > 64 || o.runs > 64)
		usage();
	now_s = time(NULL);
	char dir[4096], branch[8] = "B01";
	if (bench_tmpdir(dir, sizeof(dir), "report") < 0)
		bench_die("scratch directory");
	crm_store *st = NULL;
	crm_init_opts init = {.name = "hq", .branch = "HQ"};
	bench_check(crm_store_create(&st, dir, &init), "crm_store_create");
	double load_s = load(st, &o);
	crm_store_free(st);
	bench_check(crm_store_open(&st, dir), "crm_store_open");
	long long db_bytes = 0;
	{
		char path[4200];
		snprintf(path, sizeof(path), "%s/crm.db", dir);
		FILE *f = fopen(path, "rb");
		if (f && fseek(f, 0, SEEK_END) == 0)
			db_bytes = ftell(f);
		if (f)
			fclose(f);
	}
	printf("LOAD bench=report deals=%llu branches=%u seconds=%.1f db_bytes=%lld\n", (unsigned long long)o.n,
	       o.branches, load_s, db_bytes);
	op ops[MAX_OPS] = {
		{.name = "board (first page, 20 cards per column)", .scope = "HQ"},
		{.name = "board (first page, 20 cards per column)", .scope = "one branch", .branch = 1},
		{.name = "funnel", .scope = "HQ", .report = "funnel"},
		{.name = "funnel --by-branch", .scope = "HQ", .report = "funnel", .by_branch = 1},
		{.name = "funnel", .scope = "one branch", .report = "funnel", .branch = 1},
	};
	size_t nops = 5;
	const char *names[] = {"plan", "sources", "losses", "stages", "overdue", "forecast"};
	for (size_t k = 0; k < 6; k++) {
		ops[nops++] = (op){.name = names[k], .scope = "HQ", .report = names[k]};
		ops[nops++] = (op){.name = names[k], .scope = "one branch", .report = names[k], .branch = 1};
	}
	loadavg(load_before, sizeof(load_before));
	for (unsigned r = 0; r < o.runs; r++)
		for (size_t i = 0; i < nops; i++) {
			if (ops[i].total_ms > o.budget * 1000)
				continue;   /* a slow operation: the runs so far are its sample */
			double ms = run_op(st, &ops[i], branch);
			ops[i].ms[ops[i].runs++] = ms;
			ops[i].total_ms += ms;
		}
	for (size_t i = 0; i < nops; i++) {
		plain(st, &ops[i], branch, ops[i].runs < 3 ? (unsigned)ops[i].runs : 3);
		double v[64];
		memcpy(v, ops[i].ms, ops[i].runs * sizeof(double));
		bench_sort(v, ops[i].runs);
		printf("RESULT bench=report op=%s%s%s scope=%s runs=%zu p50_ms=%.2f p95_ms=%.2f plain_ms=%.2f statements=%zu\n",
		       ops[i].report ? ops[i].report : "board", ops[i].by_branch ? "_by_branch" : "", "",
		       ops[i].branch ? "branch" : "hq", ops[i].runs, bench_pct(v, ops[i].runs, 50),
		       bench_pct(v, ops[i].runs, 95), ops[i].plain_ms, ops[i].stmts);
		fflush(stdout);
	}
	loadavg(load_after, sizeof(load_after));
	crm_store_free(st);
	if (o.doc)
		write_doc(&o, ops, nops, load_s, db_bytes);
	if (o.keep)
		printf("INFO bench=report kept=%s\n", dir);
	else
		bench_rmtree(dir);
	return 0;
}
