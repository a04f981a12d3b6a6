/*
 * bench_search.c — contact search latency over large replicas (DESIGN.md
 * §12: ≤ 50 ms at 1,000,000 contacts).
 *
 * Method
 *  1. One fresh replica grows through the sizes given (default 100,000 then
 *     1,000,000 contacts).  Contact i is a pure function of (seed, i)
 *     (bench_names.c): a Russian or English first and last name, one e-mail
 *     and one mobile phone, stored as channels rows with the normalized
 *     value the entity layer would store (crm_norm_email / crm_norm_phone).
 *  2. Loading, "--load write" (default): every row goes through crm_write —
 *     row, per-field clocks and pending changes — inside transactions of
 *     --batch contacts (crm_db_begin / crm_db_commit).  "--load sql": plain
 *     INSERTs into contacts and channels in the same transactions (the FTS
 *     triggers still fire; no clocks or pending changes are written).
 *  3. After each size is loaded the replica is closed and reopened (SQLite's
 *     page cache starts cold, the OS cache is warm), then --queries queries
 *     of each type run, interleaved, through crm_query_search(…, 50):
 *       name_prefix   3–5 letters of an existing last name
 *       full_name     "First Last" of an existing contact
 *       phone_8       the number typed nationally: "8 (916) 5551234"
 *       phone_last7   its last seven digits: "5551234"
 *       email_part    the local part and "@": "ivan.petrov42@"
 *     and list_prefix: crm_query_list(…, "contact", <3–5 letters>, 50).
 *  4. Per type: p50/p95/p99/max/mean in ms, and how many queries found the
 *     contact they were made from (a fast wrong answer is not a result).
 *     A type that has used --budget seconds at one size stops early; the
 *     RESULT line says how many of the asked queries ran.
 *  5. SQLite's per-statement timer runs during the queries (bench_prof.h,
 *     a few µs per statement): SEARCHSTMT lines name the statements the time
 *     went to, SEARCHPLAN lines give the query plans of the top two.
 */
#include "bench_names.h"
#include "bench_prof.h"
#include "bench_util.h"
#include "error.h"
#include "normalize.h"
#include "query.h"
#include "store.h"
#include "uuid.h"
#include "write.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_SIZES 8

typedef enum qtype { Q_PREFIX, Q_FULL, Q_PHONE8, Q_PHONE7, Q_EMAIL, Q_LIST, Q_COUNT } qtype;
static const char *const qtype_name[Q_COUNT] = {
	"name_prefix", "full_name", "phone_8", "phone_last7", "email_part", "list_prefix",
};

typedef struct options {
	size_t sizes[MAX_SIZES];
	size_t size_count;
	size_t queries;
	size_t batch;
	uint64_t seed;
	double budget;       /* seconds per query type and size */
	int load_sql;
	int keep;
} options;

typedef struct loader {
	crm_store *st;
	char owner[64], branch[64], now[32];
} loader;

/* ----------------------------------------------------------------- load -- */

static void now_iso(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void new_id(loader *l, char id[CRM_ID_LEN + 1])
{
	bench_check(crm_uuid7(id, crm_store_now_ms(l->st)), "crm_uuid7");
}

/* One contact and its two channels through the write path. */
static void load_write(loader *l, const bench_person *p, const char *email, const char *phone)
{
	char cid[CRM_ID_LEN + 1], eid[CRM_ID_LEN + 1], pid[CRM_ID_LEN + 1];
	new_id(l, cid);
	new_id(l, eid);
	new_id(l, pid);
	crm_field c[] = {
		{"first_name", CRM_TEXT(p->first)}, {"last_name", CRM_TEXT(p->last)},
		{"owner_id", CRM_TEXT(l->owner)}, {"branch_id", CRM_TEXT(l->branch)},
		{"created_at", CRM_TEXT(l->now)},
	};
	crm_field e[] = {
		{"owner_id", CRM_TEXT(cid)}, {"kind", CRM_TEXT("email")},
		{"value", CRM_TEXT(p->email)}, {"normalized", CRM_TEXT(email)},
	};
	crm_field f[] = {
		{"owner_id", CRM_TEXT(cid)}, {"kind", CRM_TEXT("phone")},
		{"value", CRM_TEXT(p->phone)}, {"normalized", CRM_TEXT(phone)},
	};
	bench_check(crm_write(l->st, "contacts", cid, c, 5), "crm_write contact");
	bench_check(crm_write(l->st, "channels", eid, e, 4), "crm_write e-mail");
	bench_check(crm_write(l->st, "channels", pid, f, 4), "crm_write phone");
}

static void sql_channel(loader *l, const char *owner, const char *kind, const char *value,
			const char *norm)
{
	char id[CRM_ID_LEN + 1];
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(l->st);
	new_id(l, id);
	bench_check(crm_db_prepare(db, &q, "INSERT INTO channels(id, owner_id, kind, value, normalized) "
				   "VALUES (?1, ?2, ?3, ?4, ?5)"), "prepare");
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, norm, -1, SQLITE_STATIC);
	bench_check(crm_db_step_done(db, q), "INSERT channel");
}

/* The same rows with plain INSERTs (no clocks, no pending changes). */
static void load_sql(loader *l, const bench_person *p, const char *email, const char *phone)
{
	char cid[CRM_ID_LEN + 1];
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(l->st);
	new_id(l, cid);
	bench_check(crm_db_prepare(db, &q, "INSERT INTO contacts(id, first_name, last_name, owner_id, "
				   "branch_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"), "prepare");
	sqlite3_bind_text(q, 1, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, p->first, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, p->last, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, l->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, l->branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, l->now, -1, SQLITE_STATIC);
	bench_check(crm_db_step_done(db, q), "INSERT contact");
	sql_channel(l, cid, "email", p->email, email);
	sql_channel(l, cid, "phone", p->phone, phone);
}

static void load_one(loader *l, const options *o, uint64_t i)
{
	bench_person p;
	char email[256], phone[32];
	bench_person_make(&p, o->seed, i);
	bench_check(crm_norm_email(email, sizeof(email), p.email), "crm_norm_email");
	bench_check(crm_norm_phone(phone, sizeof(phone), p.phone, "RU"), "crm_norm_phone");
	if (o->load_sql)
		load_sql(l, &p, email, phone);
	else
		load_write(l, &p, email, phone);
}

static long long file_size(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	struct stat sb;
	bench_path(path, sizeof(path), dir, name);
	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* Grow the replica from `from` to `to` contacts, in batches, and report. */
static void load_range(crm_store *st, const options *o, size_t from, size_t to)
{
	loader l = {.st = st};
	crm_db *db = crm_store_db(st);
	snprintf(l.owner, sizeof(l.owner), "%s", crm_store_setting(st, "user_id"));
	snprintf(l.branch, sizeof(l.branch), "%s", crm_store_setting(st, "branch_id"));
	now_iso(l.now);
	uint64_t t0 = bench_now_ns();
	for (size_t i = from; i < to;) {
		size_t end = i + o->batch < to ? i + o->batch : to;
		bench_check(crm_db_begin(db), "BEGIN");
		for (; i < end; i++)
			load_one(&l, o, i);
		bench_check(crm_db_commit(db), "COMMIT");
	}
	bench_check(crm_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "checkpoint");
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	printf("LOAD bench=search size=%zu method=%s added=%zu batch=%zu seconds=%.1f contacts_per_s=%.0f "
	       "db_bytes=%lld\n", to, o->load_sql ? "sql" : "crm_write", to - from, o->batch, secs,
	       (double)(to - from) / secs, file_size(crm_store_dir(st), "crm.db"));
	fflush(stdout);
}

/* -------------------------------------------------------------- queries -- */

typedef struct query {
	qtype type;
	char text[300];
	const char *want_key;   /* result field that must equal want; NULL = any result */
	char want[300];
} query;

/* A query of `type` for person p, typed the way a person would. */
static void make_query(query *q, qtype type, const bench_person *p, bench_rng *r)
{
	memset(q, 0, sizeof(*q));
	q->type = type;
	switch (type) {
	case Q_PREFIX:
	case Q_LIST:
		bench_utf8_prefix(q->text, sizeof(q->text), p->last, 3 + (size_t)bench_rng_below(r, 3));
		break;
	case Q_FULL:
		snprintf(q->text, sizeof(q->text), "%s %s", p->first, p->last);
		q->want_key = "title";
		snprintf(q->want, sizeof(q->want), "%s", q->text);
		break;
	case Q_PHONE8:
	case Q_PHONE7:
		if (type == Q_PHONE8)
			snprintf(q->text, sizeof(q->text), "8 (%.3s) %s", p->digits + 1, p->digits + 4);
		else
			snprintf(q->text, sizeof(q->text), "%s", p->digits + 4);
		q->want_key = "detail";
		snprintf(q->want, sizeof(q->want), "%s", p->phone);
		break;
	case Q_EMAIL:
		snprintf(q->text, sizeof(q->text), "%.*s", (int)(strchr(p->email, '@') - p->email + 1), p->email);
		q->want_key = "detail";
		snprintf(q->want, sizeof(q->want), "%s", p->email);
		break;
	default:
		break;
	}
}

static int is_hit(const query *q, json_t *arr)
{
	size_t i;
	json_t *o;
	if (!q->want_key)
		return json_array_size(arr) > 0;
	json_array_foreach(arr, i, o) {
		const char *v = json_string_value(json_object_get(o, q->want_key));
		if (v && strcmp(v, q->want) == 0)
			return 1;
	}
	return 0;
}

/* Time one query in ms; *hit says whether it found what it was made from. */
static double run_query(crm_store *st, const query *q, int *hit)
{
	json_t *arr = NULL;
	uint64_t t0 = bench_now_ns();
	int err = q->type == Q_LIST ? crm_query_list(&arr, st, "contact", q->text, 50)
				    : crm_query_search(&arr, st, q->text, 50);
	uint64_t t1 = bench_now_ns();
	if (err < 0) {
		fprintf(stderr, "bench: %s query '%s' failed: %s\n", qtype_name[q->type], q->text,
			crm_error_last());
		exit(1);
	}
	*hit = is_hit(q, arr);
	json_decref(arr);
	return (double)(t1 - t0) / 1e6;
}

typedef struct qstats {
	double *ms;          /* one latency per query run, sorted after the run */
	size_t n;            /* queries run (fewer than asked if the budget ran out) */
	size_t hits;
	double spent;        /* seconds so far */
	double p50, p95, p99, max, mean;
} qstats;

static void summarize(qstats *s)
{
	double sum = 0;
	bench_sort(s->ms, s->n);
	for (size_t i = 0; i < s->n; i++)
		sum += s->ms[i];
	s->p50 = bench_pct(s->ms, s->n, 50);
	s->p95 = bench_pct(s->ms, s->n, 95);
	s->p99 = bench_pct(s->ms, s->n, 99);
	s->max = s->n ? s->ms[s->n - 1] : 0;
	s->mean = s->n ? sum / (double)s->n : 0;
}

static void print_stats(const qstats *s, size_t size, const options *o)
{
	for (int t = 0; t < Q_COUNT; t++)
		printf("RESULT bench=search size=%zu type=%s queries=%zu asked=%zu p50_ms=%.3f p95_ms=%.3f "
		       "p99_ms=%.3f max_ms=%.3f mean_ms=%.3f hits=%zu\n", size, qtype_name[t], s[t].n,
		       o->queries, s[t].p50, s[t].p95, s[t].p99, s[t].max, s[t].mean, s[t].hits);
	printf("\n  %zu contacts, up to %zu queries per type or %.0f s (ms)\n", size, o->queries, o->budget);
	printf("  %-12s %6s %8s %8s %8s %8s %8s %6s\n", "type", "n", "p50", "p95", "p99", "max", "mean", "found");
	for (int t = 0; t < Q_COUNT; t++)
		printf("  %-12s %6zu %8.2f %8.2f %8.2f %8.2f %8.2f %5.1f%%\n", qtype_name[t], s[t].n,
		       s[t].p50, s[t].p95, s[t].p99, s[t].max, s[t].mean,
		       s[t].n ? 100.0 * (double)s[t].hits / (double)s[t].n : 0.0);
	printf("\n");
	fflush(stdout);
}

/* Query i of type t over `size` contacts: made from a random existing contact. */
static void run_one(qstats *s, crm_store *st, const options *o, size_t size, int t, size_t i)
{
	bench_rng r;
	bench_person p;
	query q;
	int hit;
	bench_rng_for(&r, o->seed ^ ((uint64_t)size << 8) ^ (uint64_t)t, i);
	bench_person_make(&p, o->seed, bench_rng_below(&r, size));
	make_query(&q, (qtype)t, &p, &r);
	double ms = run_query(st, &q, &hit);
	s->ms[s->n++] = ms;
	s->hits += (size_t)hit;
	s->spent += ms / 1e3;
}

/* EXPLAIN QUERY PLAN of sql, one SEARCHPLAN line per plan step. */
static void print_plan(sqlite3 *h, size_t size, size_t rank, const char *sql)
{
	char *ex = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *q = NULL;
	int ids[64], depths[64], n = 0;
	if (!ex || sqlite3_prepare_v2(h, ex, -1, &q, NULL) != SQLITE_OK) {
		sqlite3_free(ex);
		return;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		int id = sqlite3_column_int(q, 0), parent = sqlite3_column_int(q, 1), depth = 0;
		for (int i = 0; i < n; i++)
			if (ids[i] == parent)
				depth = depths[i] + 1;
		if (n < 64)
			ids[n] = id, depths[n++] = depth;
		printf("SEARCHPLAN bench=search size=%zu rank=%zu depth=%d detail=%s\n", size, rank, depth,
		       (const char *)sqlite3_column_text(q, 3));
	}
	sqlite3_finalize(q);
	sqlite3_free(ex);
}

/* The statements the queries spent their time in, and the plans of the top two. */
static void print_prof(bench_prof *pr, sqlite3 *h, size_t size)
{
	size_t count, shown = 0;
	const bench_prof_stmt *e = bench_prof_sorted(pr, &count);
	double total = (double)bench_prof_top_ns(pr);
	for (size_t i = 0; i < count && shown < 6; i++) {
		if (e[i].nested)
			continue;
		shown++;
		printf("SEARCHSTMT bench=search size=%zu rank=%zu calls=%llu ms_per_call=%.3f share=%.1f sql=",
		       size, shown, (unsigned long long)e[i].calls, (double)e[i].ns / 1e6 / (double)e[i].calls,
		       total > 0 ? 100.0 * (double)e[i].ns / total : 0.0);
		bench_print_sql(stdout, e[i].sql);
		putchar('\n');
		if (shown <= 2)
			print_plan(h, size, shown, e[i].sql);
	}
	fflush(stdout);
}

/* All query types over a replica of `size` contacts, interleaved; a type
 * stops early once it has used its time budget (the queries it ran are a
 * prefix of the same random sequence, so still an unbiased sample). */
static void measure(crm_store *st, const options *o, size_t size)
{
	qstats s[Q_COUNT];
	memset(s, 0, sizeof(s));
	for (int t = 0; t < Q_COUNT; t++)
		if (!(s[t].ms = calloc(o->queries, sizeof(double)))) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
	sqlite3 *h = crm_db_handle(crm_store_db(st));
	bench_prof *pr = bench_prof_start(h);
	for (size_t i = 0; i < o->queries; i++)
		for (int t = 0; t < Q_COUNT; t++)
			if (s[t].spent < o->budget)
				run_one(&s[t], st, o, size, t, i);
	bench_prof_stop(pr, h);
	for (int t = 0; t < Q_COUNT; t++)
		summarize(&s[t]);
	print_stats(s, size, o);
	print_prof(pr, h, size);
	bench_prof_free(pr);
	for (int t = 0; t < Q_COUNT; t++)
		free(s[t].ms);
}

/* ----------------------------------------------------------------- main -- */

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_search [--sizes 100000,1000000] [--queries 1000] [--seed S]\n"
		"                    [--batch 10000] [--load write|sql] [--budget 60] [--keep]\n"
		"  sizes grow one replica (ascending); --budget caps the seconds spent on\n"
		"  one query type at one size; --keep leaves the replica in $BENCH_TMPDIR\n");
	exit(2);
}

static void parse_sizes(options *o, const char *list)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	o->size_count = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->size_count == MAX_SIZES)
			usage();
		size_t v = bench_arg_u64("--sizes", tok);
		if (o->size_count && v <= o->sizes[o->size_count - 1])
			usage();
		o->sizes[o->size_count++] = v;
	}
	if (!o->size_count)
		usage();
}

static const char *opt_value(int *i, int argc, char **argv)
{
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

static void parse_args(options *o, int argc, char **argv)
{
	*o = (options){.sizes = {100000, 1000000}, .size_count = 2, .queries = 1000,
		       .batch = 10000, .seed = 20260101, .budget = 60};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--sizes") == 0)
			parse_sizes(o, opt_value(&i, argc, argv));
		else if (strcmp(a, "--queries") == 0)
			o->queries = bench_arg_u64("--queries", opt_value(&i, argc, argv));
		else if (strcmp(a, "--seed") == 0)
			o->seed = bench_arg_u64("--seed", opt_value(&i, argc, argv));
		else if (strcmp(a, "--batch") == 0)
			o->batch = bench_arg_u64("--batch", opt_value(&i, argc, argv));
		else if (strcmp(a, "--load") == 0)
			o->load_sql = strcmp(opt_value(&i, argc, argv), "sql") == 0;
		else if (strcmp(a, "--budget") == 0)
			o->budget = (double)bench_arg_u64("--budget", opt_value(&i, argc, argv));
		else if (strcmp(a, "--keep") == 0)
			o->keep = 1;
		else
			usage();
	}
}

int main(int argc, char **argv)
{
	options o;
	char dir[PATH_MAX];
	crm_store *st = NULL;
	size_t rf, rl, ef, el;
	parse_args(&o, argc, argv);
	bench_name_counts(&rf, &rl, &ef, &el);
	printf("INFO bench=search seed=%llu queries=%zu budget_s=%.0f batch=%zu load=%s sqlite=%s "
	       "names_ru=%zu+%zu names_en=%zu+%zu\n", (unsigned long long)o.seed, o.queries, o.budget,
	       o.batch, o.load_sql ? "sql" : "crm_write", sqlite3_libversion(), rf, rl, ef, el);
	if (bench_tmpdir(dir, sizeof(dir), "search") < 0) {
		perror("bench: cannot create a scratch directory");
		return 1;
	}
	crm_init_opts init = {.name = "bench", .branch = "MSK", .user = "bench"};
	bench_check(crm_store_create(&st, dir, &init), "crm_store_create");
	for (size_t k = 0; k < o.size_count; k++) {
		load_range(st, &o, k ? o.sizes[k - 1] : 0, o.sizes[k]);
		crm_store_free(st);
		bench_check(crm_store_open(&st, dir), "crm_store_open");
		measure(st, &o, o.sizes[k]);
	}
	crm_store_free(st);
	if (o.keep)
		printf("INFO kept replica in %s\n", dir);
	else
		bench_rmtree(dir);
	return 0;
}
