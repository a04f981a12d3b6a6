/*
 * bench_write.c — cost of a local edit through the write path, against the
 * same rows written with plain SQLite (DESIGN.md §12: budget ≤ 1.5×).
 *
 * Method
 *  1. Three variants write the same rows, each on its own fresh replica made
 *     by crm_store_create (same schema, indexes and FTS triggers):
 *       write_path    crm_write: row + per-field clock + pending change;
 *       entity        crm_entity_add / crm_entity_set: validation, defaults
 *                     and crm_write (the full user-level path);
 *       plain_sqlite  sqlite3_open on a fresh replica's crm.db, the same
 *                     pragmas (WAL, synchronous=NORMAL), prepared INSERT /
 *                     UPDATE of the same columns and values.
 *     Every user action is one transaction (BEGIN … COMMIT).
 *  2. Phase "create": N actions alternating a contact (first, last name,
 *     title) and a company (name, industry, website), plus the defaults the
 *     entity layer adds (owner, branch, created_at).  Phase "update": N
 *     actions on pseudo-randomly chosen created rows, alternately one field
 *     (title / industry) and two (plus next_contact / website).
 *  3. Rounds interleave the variants (rotating their order); the figure is
 *     the median over rounds of the mean µs per action, and a ratio is the
 *     median over rounds of that round's ratio (the variants of one round ran
 *     back to back, so a slow spell of the machine weighs on them alike).
 *     A second pass runs with PRAGMA synchronous=FULL on every connection.
 *  4. Output: "RESULT" and "RATIO" lines (key=value, for tools/bench/run.sh)
 *     and a readable table.  Exit status 0 only if every write succeeded and
 *     every replica holds the rows it should.
 *  5. --profile adds SQLite's per-statement time (bench_prof.h) as PROFILE /
 *     PROFSTMT lines; tracing costs time, so use those runs for the
 *     breakdown only, not for the ratios.
 */
#include "bench_names.h"
#include "bench_prof.h"
#include "bench_util.h"
#include "entity.h"
#include "error.h"
#include "store.h"
#include "uuid.h"
#include "write.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUNDS 15

typedef enum variant { V_WRITE, V_ENTITY, V_PLAIN, V_COUNT } variant;
typedef enum phase { P_CREATE, P_UPDATE, P_ALL, P_COUNT } phase;

static const char *const variant_name[V_COUNT] = {"write_path", "entity", "plain_sqlite"};
static const char *const phase_name[P_COUNT] = {"create", "update", "all"};

static const char *const titles[] = {
	"Sales manager", "Директор", "Главный бухгалтер", "CTO", "Procurement lead",
	"Менеджер по закупкам", "Office manager", "Инженер", "Head of logistics", "Юрист",
};
static const char *const industries[] = {
	"Retail", "Логистика", "Manufacturing", "Строительство", "IT", "Агро", "Finance", "Медицина",
};
static const char *const company_kinds[] = {"Group", "Trading", "и партнёры", "Systems", "Логистик"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct options {
	size_t n;           /* actions per phase, sync=NORMAL pass */
	size_t n_full;      /* actions per phase, sync=FULL pass (0 = skip) */
	size_t rounds;
	uint64_t seed;
	int only;           /* -1 = all variants, else one (for profiling) */
	int profile;        /* per-statement time of every variant (slower) */
} options;

/* One variant's replica for one round. */
typedef struct target {
	variant v;
	char dir[PATH_MAX];
	crm_store *st;                  /* write_path, entity */
	sqlite3 *db;                    /* plain_sqlite */
	sqlite3_stmt *begin, *commit;
	sqlite3_stmt *ins[2];           /* [company?] */
	sqlite3_stmt *upd[2][2];        /* [company?][two fields?] */
	char owner[64], branch[64];
	char (*ids)[CRM_ID_LEN + 1];    /* created rows, in creation order */
	size_t created;
} target;

/* The values of one create or update action, the same for every variant. */
typedef struct edit {
	int company;
	int two;                /* update: two fields instead of one */
	size_t row;             /* update: index of the created row */
	char a[160], b[96], c[96];
} edit;

/* ------------------------------------------------------------ workload -- */

static void create_edit(edit *e, uint64_t seed, size_t i)
{
	bench_person p;
	bench_person_make(&p, seed, i);
	memset(e, 0, sizeof(*e));
	e->company = (int)(i % 2);
	if (e->company) {
		snprintf(e->a, sizeof(e->a), "%s %s", p.last, company_kinds[i % COUNT(company_kinds)]);
		snprintf(e->b, sizeof(e->b), "%s", industries[(i / 2) % COUNT(industries)]);
		snprintf(e->c, sizeof(e->c), "www.company-%zu.example.com", i);
	} else {
		snprintf(e->a, sizeof(e->a), "%s", p.first);
		snprintf(e->b, sizeof(e->b), "%s", p.last);
		snprintf(e->c, sizeof(e->c), "%s", titles[(i / 2) % COUNT(titles)]);
	}
}

static void update_edit(edit *e, uint64_t seed, size_t j, size_t rows)
{
	bench_rng r;
	bench_rng_for(&r, seed ^ 0x5bd1e995u, j);
	memset(e, 0, sizeof(*e));
	e->row = (size_t)bench_rng_below(&r, rows);
	e->company = (int)(e->row % 2);
	e->two = (int)(j % 2);
	size_t k = (size_t)bench_rng_below(&r, 1000);
	if (e->company) {
		snprintf(e->a, sizeof(e->a), "%s", industries[k % COUNT(industries)]);
		snprintf(e->b, sizeof(e->b), "www.renamed-%zu.example.org", j);
	} else {
		snprintf(e->a, sizeof(e->a), "%s", titles[k % COUNT(titles)]);
		snprintf(e->b, sizeof(e->b), "2027-%02zu-%02zu", 1 + k % 12, 1 + k % 28);
	}
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void now_iso(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------- plain SQLite -- */

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
		return;
	fprintf(stderr, "bench: plain SQLite %s failed: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static sqlite3_stmt *plain_prepare(target *t, const char *sql)
{
	sqlite3_stmt *q = NULL;
	sql_ok(t->db, sqlite3_prepare_v2(t->db, sql, -1, &q, NULL), sql);
	return q;
}

static void plain_run(target *t, sqlite3_stmt *q, const char *what)
{
	sql_ok(t->db, sqlite3_step(q), what);
	sqlite3_reset(q);
}

static void plain_open(target *t, int full)
{
	char path[PATH_MAX + 16];
	bench_path(path, sizeof(path), t->dir, "crm.db");
	sql_ok(t->db, sqlite3_open_v2(path, &t->db, SQLITE_OPEN_READWRITE, NULL), "open");
	sqlite3_busy_timeout(t->db, 5000);
	sql_ok(t->db, sqlite3_exec(t->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
				   "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;", NULL, NULL, NULL), "pragmas");
	if (full)
		sql_ok(t->db, sqlite3_exec(t->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL), "pragma");
	t->begin = plain_prepare(t, "BEGIN");
	t->commit = plain_prepare(t, "COMMIT");
	t->ins[0] = plain_prepare(t, "INSERT INTO contacts(id, first_name, last_name, title, owner_id, "
				  "branch_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	t->ins[1] = plain_prepare(t, "INSERT INTO companies(id, name, industry, website, owner_id, "
				  "branch_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	t->upd[0][0] = plain_prepare(t, "UPDATE contacts SET title = ?2 WHERE id = ?1");
	t->upd[0][1] = plain_prepare(t, "UPDATE contacts SET title = ?2, next_contact = ?3 WHERE id = ?1");
	t->upd[1][0] = plain_prepare(t, "UPDATE companies SET industry = ?2 WHERE id = ?1");
	t->upd[1][1] = plain_prepare(t, "UPDATE companies SET industry = ?2, website = ?3 WHERE id = ?1");
}

static void plain_create(target *t, const edit *e, const char *id)
{
	char now[32];
	now_iso(now);
	sqlite3_stmt *q = t->ins[e->company];
	plain_run(t, t->begin, "BEGIN");
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, e->a, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, e->b, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, e->c, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, t->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, t->branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, now, -1, SQLITE_STATIC);
	plain_run(t, q, "INSERT");
	plain_run(t, t->commit, "COMMIT");
}

static void plain_update(target *t, const edit *e)
{
	sqlite3_stmt *q = t->upd[e->company][e->two];
	plain_run(t, t->begin, "BEGIN");
	sqlite3_bind_text(q, 1, t->ids[e->row], -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, e->a, -1, SQLITE_STATIC);
	if (e->two)
		sqlite3_bind_text(q, 3, e->b, -1, SQLITE_STATIC);
	plain_run(t, q, "UPDATE");
	if (sqlite3_changes(t->db) != 1)
		sql_ok(t->db, SQLITE_ERROR, "UPDATE (row missing)");
	plain_run(t, t->commit, "COMMIT");
}

/* ------------------------------------------------- write path and entity -- */

static void write_create(target *t, const edit *e, const char *id)
{
	char now[32];
	now_iso(now);
	static const char *const cols[2][3] = {
		{"first_name", "last_name", "title"}, {"name", "industry", "website"},
	};
	const char *const *c = cols[e->company];
	crm_field f[] = {
		{c[0], CRM_TEXT(e->a)}, {c[1], CRM_TEXT(e->b)}, {c[2], CRM_TEXT(e->c)},
		{"owner_id", CRM_TEXT(t->owner)}, {"branch_id", CRM_TEXT(t->branch)},
		{"created_at", CRM_TEXT(now)},
	};
	bench_check(crm_write(t->st, e->company ? "companies" : "contacts", id, f, COUNT(f)), "crm_write");
}

static void write_update(target *t, const edit *e)
{
	crm_field f[] = {
		{e->company ? "industry" : "title", CRM_TEXT(e->a)},
		{e->company ? "website" : "next_contact", CRM_TEXT(e->b)},
	};
	bench_check(crm_write(t->st, e->company ? "companies" : "contacts", t->ids[e->row], f,
			      e->two ? 2 : 1), "crm_write (update)");
}

static void entity_create(target *t, const edit *e, char *id_out)
{
	crm_kv kv[3];
	if (e->company) {
		kv[0] = (crm_kv){"name", e->a};
		kv[1] = (crm_kv){"industry", e->b};
		kv[2] = (crm_kv){"website", e->c};
	} else {
		kv[0] = (crm_kv){"first", e->a};
		kv[1] = (crm_kv){"last", e->b};
		kv[2] = (crm_kv){"title", e->c};
	}
	bench_check(crm_entity_add(t->st, e->company ? "company" : "contact", kv, 3, id_out),
		    "crm_entity_add");
}

static void entity_update(target *t, const edit *e)
{
	crm_kv kv[2] = {
		{e->company ? "industry" : "title", e->a},
		{e->company ? "website" : "next-contact", e->b},
	};
	bench_check(crm_entity_set(t->st, e->company ? "company" : "contact", t->ids[e->row], kv,
				   e->two ? 2 : 1), "crm_entity_set");
}

/* ---------------------------------------------------------------- rounds -- */

static void target_open(target *t, variant v, size_t n, int full)
{
	memset(t, 0, sizeof(*t));
	t->v = v;
	if (bench_tmpdir(t->dir, sizeof(t->dir), variant_name[v]) < 0) {
		perror("bench: cannot create a scratch directory");
		exit(1);
	}
	crm_init_opts o = {.name = "bench", .branch = "MSK", .user = "bench"};
	bench_check(crm_store_create(&t->st, t->dir, &o), "crm_store_create");
	snprintf(t->owner, sizeof(t->owner), "%s", crm_store_setting(t->st, "user_id"));
	snprintf(t->branch, sizeof(t->branch), "%s", crm_store_setting(t->st, "branch_id"));
	t->ids = calloc(n, sizeof(*t->ids));
	if (!t->ids) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	if (v == V_PLAIN) {
		crm_store_free(t->st);
		t->st = NULL;
		plain_open(t, full);
	} else if (full) {
		bench_check(crm_db_exec(crm_store_db(t->st), "PRAGMA synchronous=FULL"), "PRAGMA");
	}
}

static void target_close(target *t)
{
	sqlite3_stmt *all[] = {t->begin, t->commit, t->ins[0], t->ins[1], t->upd[0][0],
			       t->upd[0][1], t->upd[1][0], t->upd[1][1]};
	for (size_t i = 0; i < COUNT(all); i++)
		sqlite3_finalize(all[i]);
	if (t->db)
		sqlite3_close(t->db);
	crm_store_free(t->st);
	free(t->ids);
	bench_rmtree(t->dir);
}

static void do_create(target *t, uint64_t seed, size_t i)
{
	edit e;
	char *id = t->ids[t->created];
	create_edit(&e, seed, i);
	if (t->v == V_ENTITY) {
		entity_create(t, &e, id);
	} else {
		bench_check(crm_uuid7(id, wall_ms()), "crm_uuid7");
		if (t->v == V_WRITE)
			write_create(t, &e, id);
		else
			plain_create(t, &e, id);
	}
	t->created++;
}

static void do_update(target *t, uint64_t seed, size_t j)
{
	edit e;
	update_edit(&e, seed, j, t->created);
	if (t->v == V_ENTITY)
		entity_update(t, &e);
	else if (t->v == V_WRITE)
		write_update(t, &e);
	else
		plain_update(t, &e);
}

/* Rows, clocks and pending changes are all there: a fast wrong benchmark is worthless. */
static void verify(target *t, size_t n)
{
	sqlite3 *h = t->db ? t->db : crm_db_handle(crm_store_db(t->st));
	sqlite3_stmt *q;
	const char *sql = "SELECT (SELECT count(*) FROM contacts) + (SELECT count(*) FROM companies), "
			  "(SELECT count(*) FROM crm_pending WHERE tbl IN ('contacts', 'companies'))";
	sql_ok(h, sqlite3_prepare_v2(h, sql, -1, &q, NULL), "verify");
	sql_ok(h, sqlite3_step(q), "verify");
	int64_t rows = sqlite3_column_int64(q, 0), pending = sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	/* 6 fields per create; 1 or 2 per update: 3n/2 on average (n even or odd). */
	int64_t want = t->v == V_PLAIN ? 0 : (int64_t)(6 * n + n / 2 + n);
	if (rows != (int64_t)n || pending != want) {
		fprintf(stderr, "bench: %s replica holds %lld rows / %lld pending changes, expected %zu / %lld\n",
			variant_name[t->v], (long long)rows, (long long)pending, n, (long long)want);
		exit(1);
	}
}

/* ------------------------------------------------------------- profile -- */

/* Print where the actions' time went (bench_prof.h), per action. */
static void prof_report(bench_prof *pr, variant v, uint64_t total_ns, size_t actions)
{
	size_t count;
	const bench_prof_stmt *e = bench_prof_sorted(pr, &count);
	uint64_t in_sql = bench_prof_top_ns(pr);
	double per = 1e3 * (double)actions;
	printf("PROFILE bench=write variant=%s actions=%zu us_per_action=%.2f sql_us=%.2f other_us=%.2f\n",
	       variant_name[v], actions, (double)total_ns / per, (double)in_sql / per,
	       (double)(total_ns > in_sql ? total_ns - in_sql : 0) / per);
	for (size_t i = 0; i < count; i++) {
		printf("PROFSTMT bench=write variant=%s nested=%d us_per_action=%.2f share=%.1f "
		       "calls_per_action=%.2f sql=", variant_name[v], e[i].nested, (double)e[i].ns / per,
		       100.0 * (double)e[i].ns / (double)total_ns, (double)e[i].calls / (double)actions);
		bench_print_sql(stdout, e[i].sql);
		putchar('\n');
	}
	fflush(stdout);
}

static sqlite3 *target_handle(target *t)
{
	return t->db ? t->db : crm_db_handle(crm_store_db(t->st));
}

typedef struct results {
	const char *sync;                          /* "NORMAL" or "FULL" */
	size_t n, rounds;
	double sample[V_COUNT][P_COUNT][MAX_ROUNDS];   /* mean µs per action, per round */
	double us[V_COUNT][P_COUNT];                   /* median over rounds */
	double ratio[V_COUNT][P_COUNT];                /* median of per-round ratios to plain */
	int ran[V_COUNT];
	int profile;                               /* trace statements, print PROFILE */
} results;

/* One variant, one round: fresh replica, N creates then N updates, timed. */
static void run_variant(results *r, variant v, size_t round, uint64_t seed)
{
	target t;
	bench_prof *pr = NULL;
	target_open(&t, v, r->n, strcmp(r->sync, "FULL") == 0);
	if (r->profile)
		pr = bench_prof_start(target_handle(&t));
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < r->n; i++)
		do_create(&t, seed, i);
	uint64_t t1 = bench_now_ns();
	for (size_t j = 0; j < r->n; j++)
		do_update(&t, seed, j);
	uint64_t t2 = bench_now_ns();
	if (pr) {
		bench_prof_stop(pr, target_handle(&t));
		prof_report(pr, v, t2 - t0, 2 * r->n);
		bench_prof_free(pr);
	}
	verify(&t, r->n);
	target_close(&t);
	r->sample[v][P_CREATE][round] = (double)(t1 - t0) / 1e3 / (double)r->n;
	r->sample[v][P_UPDATE][round] = (double)(t2 - t1) / 1e3 / (double)r->n;
	r->sample[v][P_ALL][round] = (double)(t2 - t0) / 1e3 / (double)(2 * r->n);
	printf("SAMPLE bench=write sync=%s variant=%s round=%zu n=%zu create_us=%.3f update_us=%.3f\n",
	       r->sync, variant_name[v], round + 1, r->n, r->sample[v][P_CREATE][round],
	       r->sample[v][P_UPDATE][round]);
	fflush(stdout);
	r->ran[v] = 1;
}

/* All rounds of one pass; variants interleaved, their order rotating. */
static void run_pass(results *r, const options *o, const char *sync, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->sync = sync;
	r->n = n;
	r->rounds = o->rounds;
	r->profile = o->profile;
	for (size_t round = 0; round < o->rounds; round++)
		for (size_t k = 0; k < V_COUNT; k++) {
			variant v = (variant)((round + k) % V_COUNT);
			if (o->only < 0 || o->only == (int)v)
				run_variant(r, v, round, o->seed);
		}
	for (size_t v = 0; v < V_COUNT; v++)
		for (size_t p = 0; p < P_COUNT; p++) {
			double q[MAX_ROUNDS];
			for (size_t k = 0; k < o->rounds; k++)
				q[k] = r->sample[v][p][k] / r->sample[V_PLAIN][p][k];
			r->us[v][p] = bench_median(r->sample[v][p], o->rounds);
			r->ratio[v][p] = r->ran[V_PLAIN] ? bench_median(q, o->rounds) : 0;
		}
}

static void print_pass(const results *r)
{
	for (size_t p = 0; p < P_COUNT; p++)
		for (size_t v = 0; v < V_COUNT; v++)
			if (r->ran[v])
				printf("RESULT bench=write sync=%s phase=%s variant=%s n=%zu rounds=%zu "
				       "us_per_op=%.3f ops_per_s=%.0f\n", r->sync, phase_name[p], variant_name[v],
				       r->n, r->rounds, r->us[v][p], 1e6 / r->us[v][p]);
	for (size_t p = 0; p < P_COUNT; p++)
		for (size_t v = 0; v < V_PLAIN; v++)
			if (r->ran[v] && r->ran[V_PLAIN])
				printf("RATIO bench=write sync=%s phase=%s num=%s den=plain_sqlite ratio=%.3f\n",
				       r->sync, phase_name[p], variant_name[v], r->ratio[v][p]);
	printf("\n  sync=%-6s  N=%zu per phase, median of %zu rounds (ratio: median of per-round ratios)\n",
	       r->sync, r->n, r->rounds);
	printf("  %-8s %-13s %12s %12s %10s\n", "phase", "variant", "µs/action", "actions/s", "× plain");
	for (size_t p = 0; p < P_COUNT; p++)
		for (size_t v = 0; v < V_COUNT; v++)
			if (r->ran[v])
				printf("  %-8s %-13s %12.2f %12.0f %10.2f\n", phase_name[p], variant_name[v],
				       r->us[v][p], 1e6 / r->us[v][p], r->ratio[v][p]);
	printf("\n");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_write [N] [--n N] [--n-full N] [--rounds R] [--seed S]\n"
		"                   [--variant write_path|entity|plain_sqlite] [--no-full] [--profile]\n"
		"  N          actions per phase (default 20000)\n"
		"  --n-full   actions per phase in the synchronous=FULL pass (default N/4)\n"
		"  --profile  time every SQL statement (PROFILE/PROFSTMT lines; slows the run)\n");
	exit(2);
}

static int parse_variant(const char *s)
{
	for (int v = 0; v < V_COUNT; v++)
		if (s && strcmp(s, variant_name[v]) == 0)
			return v;
	usage();
	return -1;
}

/* The value after option argv[*i]; advances *i. */
static const char *opt_value(int *i, int argc, char **argv)
{
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

static void parse_args(options *o, int argc, char **argv)
{
	int n_full_set = 0, no_full = 0;
	*o = (options){.n = 20000, .rounds = 3, .seed = 20260101, .only = -1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--n") == 0)
			o->n = bench_arg_u64("--n", opt_value(&i, argc, argv));
		else if (strcmp(a, "--n-full") == 0)
			o->n_full = bench_arg_u64("--n-full", opt_value(&i, argc, argv)), n_full_set = 1;
		else if (strcmp(a, "--rounds") == 0)
			o->rounds = bench_arg_u64("--rounds", opt_value(&i, argc, argv));
		else if (strcmp(a, "--seed") == 0)
			o->seed = bench_arg_u64("--seed", opt_value(&i, argc, argv));
		else if (strcmp(a, "--variant") == 0)
			o->only = parse_variant(opt_value(&i, argc, argv));
		else if (strcmp(a, "--profile") == 0)
			o->profile = 1;
		else if (strcmp(a, "--no-full") == 0)
			no_full = 1;
		else if (a[0] >= '0' && a[0] <= '9')
			o->n = bench_arg_u64("N", a);
		else
			usage();
	}
	if (o->rounds > MAX_ROUNDS)
		o->rounds = MAX_ROUNDS;
	if (!n_full_set)
		o->n_full = o->n / 4 ? o->n / 4 : 1;
	if (no_full)
		o->n_full = 0;
}

int main(int argc, char **argv)
{
	options o;
	static results normal, full;
	parse_args(&o, argc, argv);
	printf("INFO bench=write n=%zu n_full=%zu rounds=%zu seed=%llu sqlite=%s\n", o.n, o.n_full,
	       o.rounds, (unsigned long long)o.seed, sqlite3_libversion());
	fflush(stdout);
	run_pass(&normal, &o, "NORMAL", o.n);
	print_pass(&normal);
	if (o.n_full) {
		run_pass(&full, &o, "FULL", o.n_full);
		print_pass(&full);
	}
	return 0;
}
