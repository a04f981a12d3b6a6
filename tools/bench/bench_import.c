/*
 * bench_import.c — `crm import` throughput against plain SQLite inserting
 * the same rows (DESIGN.md §12: ≥ 20,000 rows/s for 100,000 contacts, and
 * ≥ 5,000 rows/s with duplicate checking against 1,000,000 existing).
 *
 * Method (docs/benchmarks.md, section "Import")
 *  1. The file: --n contacts as an Outlook-style CSV (First Name, Last Name,
 *     Company, Job Title, E-mail Address, Mobile Phone), names from
 *     bench_names.c, --n/10 company names, one e-mail and one phone each.
 *     Every 20th row is a person of the existing set (same e-mail, a new job
 *     title): against the big replica it must update that contact.
 *  2. Pass *fresh*: the file into a fresh replica (crm_store_create).  Pass
 *     *existing*: into a copy of a replica holding --existing contacts (an
 *     e-mail and a phone each) and --existing/10 companies, half of the
 *     file's company names among them.  That replica is built once per
 *     (size, seed) and kept in $BENCH_TMPDIR (see build_base: plain INSERTs
 *     in one transaction with the full-text triggers set aside, then the
 *     indexes rebuilt with FTS5's 'rebuild'), then copied for every round.
 *  3. Variants: crm — crm_import_file, what `crm import FILE` runs (parse,
 *     map, check, duplicate lookups, every row through the write path, one
 *     transaction); plain_sqlite — the same rows from memory (no CSV parse)
 *     with prepared INSERTs on the same database, an indexed e-mail lookup
 *     for duplicates and an UPDATE of the title when found, one transaction.
 *  4. Output: INFO, RESULT and RATIO lines (key=value) for run.sh.
 */
#include "bench_names.h"
#include "bench_prof.h"
#include "bench_util.h"
#include "error.h"
#include "import.h"
#include "normalize.h"
#include "store.h"
#include "uuid.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_ROUNDS 15
#define DUP_EVERY 20   /* every 20th row of the file is an existing person */

typedef struct options {
	size_t n, existing, rounds;
	uint64_t seed;
	int profile;
	int fresh, big;   /* passes to run */
} options;

typedef struct row {
	bench_person p;
	char email[256], norm_email[256], norm_phone[32];
	char company[96];
	const char *title;
	int dup;           /* an existing person (every DUP_EVERY-th row) */
} row;

static const char *const titles[] = {
	"Sales manager", "Директор", "Главный бухгалтер", "CTO", "Procurement lead",
	"Менеджер по закупкам", "Office manager", "Инженер", "Head of logistics", "Юрист",
};

/* Company k of the generated set: half of the file's names are among the
 * big replica's (k < existing / 10). */
static void company_name(char *out, size_t cap, uint64_t seed, size_t k)
{
	bench_person p;
	bench_person_make(&p, seed ^ 0xc0ffee, k);
	snprintf(out, cap, "%s & Partners %zu", p.last, k);
}

static size_t file_companies(const options *o) { return o->n / 10 ? o->n / 10 : 1; }
static size_t base_companies(const options *o) { return o->existing / 10 ? o->existing / 10 : 1; }

/* Row i of the file. */
static void make_row(row *r, const options *o, size_t i)
{
	bench_rng g;
	bench_rng_for(&g, o->seed ^ 0x1b9027, i);
	r->dup = o->existing > 0 && i % DUP_EVERY == 0;
	if (r->dup) {
		bench_person_make(&r->p, o->seed, bench_rng_below(&g, o->existing));
		snprintf(r->email, sizeof(r->email), "%s", r->p.email);
	} else {
		bench_person_make(&r->p, o->seed + 1, i);
		snprintf(r->email, sizeof(r->email), "i%zu.%.200s", i, r->p.email);   /* unique in the file */
	}
	size_t half = file_companies(o) / 2, k = bench_rng_below(&g, file_companies(o));
	/* the first half of the file's companies exist in the big replica */
	company_name(r->company, sizeof(r->company), o->seed, k < half ? k % base_companies(o) : base_companies(o) + k);
	r->title = titles[bench_rng_below(&g, sizeof(titles) / sizeof(titles[0]))];
	bench_check(crm_norm_email(r->norm_email, sizeof(r->norm_email), r->email), "crm_norm_email");
	bench_check(crm_norm_phone(r->norm_phone, sizeof(r->norm_phone), r->p.phone, "RU"), "crm_norm_phone");
}

static void csv_field(FILE *f, const char *s, const char *sep)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
	fputs(sep, f);
}

static void write_csv(const options *o, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs("First Name,Last Name,Company,Job Title,E-mail Address,Mobile Phone\r\n", f);
	row r;
	for (size_t i = 0; i < o->n; i++) {
		make_row(&r, o, i);
		csv_field(f, r.p.first, ",");
		csv_field(f, r.p.last, ",");
		csv_field(f, r.company, ",");
		csv_field(f, r.title, ",");
		csv_field(f, r.email, ",");
		csv_field(f, r.p.phone, "\r\n");
	}
	if (fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ------------------------------------------------------------ plain SQLite */

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "bench: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	sql_ok(db, sqlite3_prepare_v2(db, sql, -1, &q, NULL), sql);
	return q;
}

static void run(sqlite3 *db, sqlite3_stmt *q, const char *what)
{
	sql_ok(db, sqlite3_step(q), what);
	sqlite3_reset(q);
}

static sqlite3 *plain_open(const char *dir)
{
	char path[PATH_MAX + 16];
	sqlite3 *db = NULL;
	bench_path(path, sizeof(path), dir, "crm.db");
	sql_ok(db, sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), "open");
	sqlite3_busy_timeout(db, 5000);
	sql_ok(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
				"PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;", NULL, NULL, NULL), "pragmas");
	return db;
}

static void text(sqlite3_stmt *q, int i, const char *s) { sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT); }

typedef struct plain {
	sqlite3 *db;
	sqlite3_stmt *contact, *channel, *company, *find, *update, *has_company;
	char owner[64], branch[64], now[32];
	unsigned char *made;   /* companies of the file already created, by k */
} plain;

static void new_id(char id[CRM_ID_LEN + 1])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	bench_check(crm_uuid7(id, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000), "crm_uuid7");
}

static void plain_channel(plain *p, const char *owner, const char *kind, const char *value, const char *norm)
{
	char id[CRM_ID_LEN + 1];
	new_id(id);
	text(p->channel, 1, id);
	text(p->channel, 2, owner);
	text(p->channel, 3, kind);
	text(p->channel, 4, value);
	text(p->channel, 5, norm);
	run(p->db, p->channel, "INSERT channel");
}

/* The company of row r: its id is derived from its name (as build_base
 * names them), so the lookup is an in-memory one, the fastest there is. */
static void plain_company(plain *p, const row *r, char id[37])
{
	crm_store_name_id(id, "bench-company", r->company);
	text(p->has_company, 1, id);
	int found = sqlite3_step(p->has_company) == SQLITE_ROW;
	sqlite3_reset(p->has_company);
	if (found)
		return;
	text(p->company, 1, id);
	text(p->company, 2, r->company);
	text(p->company, 3, p->owner);
	text(p->company, 4, p->branch);
	text(p->company, 5, p->now);
	run(p->db, p->company, "INSERT company");
}

static void plain_row(plain *p, const row *r, size_t *updated)
{
	char cid[CRM_ID_LEN + 1], company[37];
	text(p->find, 1, r->norm_email);
	int rc = sqlite3_step(p->find);
	sql_ok(p->db, rc, "SELECT channel");
	if (rc == SQLITE_ROW) {
		snprintf(cid, sizeof(cid), "%s", (const char *)sqlite3_column_text(p->find, 0));
		sqlite3_reset(p->find);
		text(p->update, 1, cid);
		text(p->update, 2, r->title);
		run(p->db, p->update, "UPDATE contact");
		++*updated;
		return;
	}
	sqlite3_reset(p->find);
	plain_company(p, r, company);
	new_id(cid);
	text(p->contact, 1, cid);
	text(p->contact, 2, r->p.first);
	text(p->contact, 3, r->p.last);
	text(p->contact, 4, r->title);
	text(p->contact, 5, company);
	text(p->contact, 6, p->owner);
	text(p->contact, 7, p->branch);
	text(p->contact, 8, p->now);
	run(p->db, p->contact, "INSERT contact");
	plain_channel(p, cid, "email", r->email, r->norm_email);
	plain_channel(p, cid, "phone", r->p.phone, r->norm_phone);
}

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void plain_prepare(plain *p, const char *dir, const char *owner, const char *branch)
{
	p->db = plain_open(dir);
	snprintf(p->owner, sizeof(p->owner), "%s", owner);
	snprintf(p->branch, sizeof(p->branch), "%s", branch);
	now_iso(p->now);
	p->contact = prep(p->db, "INSERT INTO contacts(id, first_name, last_name, title, company_id, owner_id, "
			  "branch_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	p->channel = prep(p->db, "INSERT INTO channels(id, owner_id, kind, value, normalized) VALUES (?1, ?2, ?3, ?4, ?5)");
	p->company = prep(p->db, "INSERT INTO companies(id, name, owner_id, branch_id, created_at) "
			  "VALUES (?1, ?2, ?3, ?4, ?5)");
	p->has_company = prep(p->db, "SELECT 1 FROM companies WHERE id = ?1");
	p->find = prep(p->db, "SELECT owner_id FROM channels WHERE normalized = ?1 AND kind = 'email' LIMIT 1");
	p->update = prep(p->db, "UPDATE contacts SET title = ?2 WHERE id = ?1");
}

static void plain_close(plain *p)
{
	sqlite3_stmt *all[] = {p->contact, p->channel, p->company, p->has_company, p->find, p->update};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(p->db);
}

/* ------------------------------------------------------------ the replica */

/* The big replica: `existing` contacts with an e-mail and a phone, and
 * existing/10 companies, by plain INSERTs in one transaction.  The
 * full-text triggers are set aside for the load and the indexes rebuilt
 * from the tables afterwards ('rebuild'): the same index the triggers would
 * have built, in a fraction of the time.  The rows have no field clocks,
 * like genesis rows (a write to them finds prev = 0). */
static void build_base(const options *o, const char *dir)
{
	crm_store *st;
	crm_init_opts io = {.name = "bench", .branch = "MSK", .user = "bench"};
	uint64_t t0 = bench_now_ns();
	bench_check(crm_store_create(&st, dir, &io), "crm_store_create");
	plain p = {0};
	plain_prepare(&p, dir, crm_store_setting(st, "user_id"), crm_store_setting(st, "branch_id"));
	crm_store_free(st);
	sqlite3_stmt *trig = prep(p.db, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%fts%'");
	char *saved[16];
	size_t nsaved = 0;
	char sql[160];
	sql_ok(p.db, sqlite3_exec(p.db, "BEGIN", NULL, NULL, NULL), "BEGIN");
	while (sqlite3_step(trig) == SQLITE_ROW && nsaved < 16) {
		saved[nsaved++] = strdup((const char *)sqlite3_column_text(trig, 1));
		snprintf(sql, sizeof(sql), "DROP TRIGGER \"%s\"", (const char *)sqlite3_column_text(trig, 0));
		sql_ok(p.db, sqlite3_exec(p.db, sql, NULL, NULL, NULL), sql);
	}
	sqlite3_finalize(trig);
	row r = {0};
	char company[37];
	for (size_t k = 0; k < base_companies(o); k++) {
		company_name(r.company, sizeof(r.company), o->seed, k);
		plain_company(&p, &r, company);
	}
	for (size_t i = 0; i < o->existing; i++) {
		char cid[CRM_ID_LEN + 1], email[256], phone[32];
		bench_person_make(&r.p, o->seed, i);
		bench_check(crm_norm_email(email, sizeof(email), r.p.email), "crm_norm_email");
		bench_check(crm_norm_phone(phone, sizeof(phone), r.p.phone, "RU"), "crm_norm_phone");
		company_name(r.company, sizeof(r.company), o->seed, i % base_companies(o));
		crm_store_name_id(company, "bench-company", r.company);
		new_id(cid);
		text(p.contact, 1, cid);
		text(p.contact, 2, r.p.first);
		text(p.contact, 3, r.p.last);
		text(p.contact, 4, titles[i % (sizeof(titles) / sizeof(titles[0]))]);
		text(p.contact, 5, company);
		text(p.contact, 6, p.owner);
		text(p.contact, 7, p.branch);
		text(p.contact, 8, p.now);
		run(p.db, p.contact, "INSERT contact");
		plain_channel(&p, cid, "email", r.p.email, email);
		plain_channel(&p, cid, "phone", r.p.phone, phone);
	}
	for (size_t i = 0; i < nsaved; i++) {
		sql_ok(p.db, sqlite3_exec(p.db, saved[i], NULL, NULL, NULL), "CREATE TRIGGER");
		free(saved[i]);
	}
	sql_ok(p.db, sqlite3_exec(p.db, "INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild');"
				"INSERT INTO companies_fts(companies_fts) VALUES ('rebuild');"
				"INSERT INTO channels_fts(channels_fts) VALUES ('rebuild');"
				"COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL), "rebuild");
	plain_close(&p);
	printf("BASE bench=import existing=%zu companies=%zu seconds=%.1f\n", o->existing, base_companies(o),
	       (double)(bench_now_ns() - t0) / 1e9);
	fflush(stdout);
}

/* The cached big replica (built if missing) copied into a fresh scratch dir. */
static void base_copy(const options *o, char *out, size_t cap)
{
	const char *root = getenv("BENCH_TMPDIR");
	char base[PATH_MAX], done[PATH_MAX + 8], cmd[3 * PATH_MAX];
	snprintf(base, sizeof(base), "%s/import-base-%zu-%llu", root && *root ? root : "/tmp", o->existing,
		 (unsigned long long)o->seed);
	snprintf(done, sizeof(done), "%s/.done", base);
	struct stat sb;
	if (stat(done, &sb) != 0) {
		bench_rmtree(base);
		build_base(o, base);
		FILE *f = fopen(done, "w");
		if (!f || fclose(f) != 0) {
			perror(done);
			exit(1);
		}
	}
	if (bench_tmpdir(out, cap, "import-big") < 0) {
		perror("bench: cannot create a scratch directory");
		exit(1);
	}
	snprintf(cmd, sizeof(cmd), "cp -a '%.1000s/.' '%.1000s/' && rm -f '%.1000s/.done'", base, out, out);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench: %s failed\n", cmd);
		exit(1);
	}
}

static void fresh_dir(char *out, size_t cap)
{
	crm_store *st;
	crm_init_opts io = {.name = "bench", .branch = "MSK", .user = "bench"};
	if (bench_tmpdir(out, cap, "import-fresh") < 0) {
		perror("bench: cannot create a scratch directory");
		exit(1);
	}
	bench_check(crm_store_create(&st, out, &io), "crm_store_create");
	crm_store_free(st);
}

/* ------------------------------------------------------------- variants */

typedef struct result {
	double secs[MAX_ROUNDS], cpu[MAX_ROUNDS];
	size_t created, updated;
} result;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_crm(const options *o, const char *pass, const char *dir, const char *csv, result *res, size_t round)
{
	crm_store *st;
	json_t *rep = NULL;
	bench_check(crm_store_open(&st, dir), "crm_store_open");
	crm_import_opts io = {.path = csv, .entity = "contact"};
	bench_prof *pr = o->profile && round == 0 ? bench_prof_start(crm_db_handle(crm_store_db(st))) : NULL;
	double c0 = cpu_now();
	uint64_t t0 = bench_now_ns();
	bench_check(crm_import_file(&rep, st, &io), "crm_import_file");
	res->secs[round] = (double)(bench_now_ns() - t0) / 1e9;
	res->cpu[round] = cpu_now() - c0;
	res->created = (size_t)json_integer_value(json_object_get(rep, "created"));
	res->updated = (size_t)json_integer_value(json_object_get(rep, "updated")) +
		       (size_t)json_integer_value(json_object_get(rep, "unchanged"));
	json_decref(rep);
	if (pr) {
		bench_prof_stop(pr, crm_db_handle(crm_store_db(st)));
		size_t count;
		const bench_prof_stmt *e = bench_prof_sorted(pr, &count);
		for (size_t i = 0; i < count && i < 15; i++) {
			printf("PROFSTMT bench=import pass=%s us_per_row=%.2f calls_per_row=%.2f nested=%d sql=", pass,
			       (double)e[i].ns / 1e3 / (double)o->n, (double)e[i].calls / (double)o->n, e[i].nested);
			bench_print_sql(stdout, e[i].sql);
			printf("\n");
		}
		printf("PROFILE bench=import pass=%s us_per_row=%.2f in_sql_us_per_row=%.2f\n", pass, res->secs[round] * 1e6 / (double)o->n,
		       (double)bench_prof_top_ns(pr) / 1e3 / (double)o->n);
		bench_prof_free(pr);
	}
	crm_store_free(st);
}

static void run_plain(const options *o, const char *dir, result *res, size_t round)
{
	crm_store *st;
	bench_check(crm_store_open(&st, dir), "crm_store_open");
	plain p = {0};
	plain_prepare(&p, dir, crm_store_setting(st, "user_id"), crm_store_setting(st, "branch_id"));
	crm_store_free(st);
	row r;
	size_t updated = 0;
	double c0 = cpu_now();
	uint64_t t0 = bench_now_ns();
	sql_ok(p.db, sqlite3_exec(p.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "BEGIN");
	for (size_t i = 0; i < o->n; i++) {
		make_row(&r, o, i);
		plain_row(&p, &r, &updated);
	}
	sql_ok(p.db, sqlite3_exec(p.db, "COMMIT", NULL, NULL, NULL), "COMMIT");
	res->secs[round] = (double)(bench_now_ns() - t0) / 1e9;
	res->cpu[round] = cpu_now() - c0;
	res->created = o->n - updated;
	res->updated = updated;
	plain_close(&p);
}

static void check_counts(const options *o, const char *pass, const char *variant, const result *r, int big)
{
	size_t want_updated = big ? (o->n + DUP_EVERY - 1) / DUP_EVERY : 0;
	/* A generated person of the file may share an e-mail with another;
	 * allow a handful, never a different order of magnitude. */
	if (r->created + r->updated != o->n || r->updated < want_updated || r->updated > want_updated + o->n / 1000 + 2) {
		fprintf(stderr, "bench: %s %s: created %zu, updated %zu of %zu rows (expected about %zu updates)\n",
			pass, variant, r->created, r->updated, o->n, want_updated);
		exit(1);
	}
}

static void report(const options *o, const char *pass, const char *variant, const result *r)
{
	double s = bench_median(r->secs, o->rounds), c = bench_median(r->cpu, o->rounds);
	printf("RESULT bench=import pass=%s variant=%s rows=%zu existing=%zu rounds=%zu created=%zu updated=%zu "
	       "seconds=%.3f cpu_s=%.3f rows_per_s=%.0f rows_per_cpu_s=%.0f\n", pass, variant, o->n,
	       strcmp(pass, "existing") == 0 ? o->existing : 0, o->rounds, r->created, r->updated, s, c,
	       (double)o->n / s, (double)o->n / c);
	fflush(stdout);
}

static void run_pass(const options *o, const char *pass, const char *csv)
{
	int big = strcmp(pass, "existing") == 0;
	result cr = {0}, pr = {0};
	double ratio[MAX_ROUNDS], cratio[MAX_ROUNDS];
	char dir[PATH_MAX];
	for (size_t round = 0; round < o->rounds; round++) {
		for (int k = 0; k < 2; k++) {   /* rotate the order */
			int crm = (k + (int)round) % 2 == 0;
			if (big)
				base_copy(o, dir, sizeof(dir));
			else
				fresh_dir(dir, sizeof(dir));
			if (crm)
				run_crm(o, pass, dir, csv, &cr, round);
			else
				run_plain(o, dir, &pr, round);
			bench_rmtree(dir);
		}
		check_counts(o, pass, "crm", &cr, big);
		check_counts(o, pass, "plain_sqlite", &pr, big);
		ratio[round] = cr.secs[round] / pr.secs[round];
		cratio[round] = cr.cpu[round] / pr.cpu[round];
	}
	report(o, pass, "crm", &cr);
	report(o, pass, "plain_sqlite", &pr);
	printf("RATIO bench=import pass=%s num=crm den=plain_sqlite ratio=%.3f cpu_ratio=%.3f\n", pass,
	       bench_median(ratio, o->rounds), bench_median(cratio, o->rounds));
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_import [--n N] [--existing M] [--rounds K] [--seed S] [--pass fresh|existing|all] [--profile]\n"
		"  --n N         contacts in the CSV file (default 100000)\n"
		"  --existing M  contacts of the big replica (default 1000000; built once, kept in $BENCH_TMPDIR)\n"
		"  --rounds K    rounds, median (default 1, at most 15)\n"
		"  --profile     SQLite's time per statement of the first crm import\n");
	exit(2);
}

int main(int argc, char **argv)
{
	options o = {.n = 100000, .existing = 1000000, .rounds = 1, .seed = 20260101, .fresh = 1, .big = 1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--profile") == 0) {
			o.profile = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (strcmp(a, "--n") == 0)
			o.n = (size_t)bench_arg_u64(a, v);
		else if (strcmp(a, "--existing") == 0)
			o.existing = (size_t)bench_arg_u64(a, v);
		else if (strcmp(a, "--rounds") == 0)
			o.rounds = (size_t)bench_arg_u64(a, v);
		else if (strcmp(a, "--seed") == 0)
			o.seed = bench_arg_u64(a, v);
		else if (strcmp(a, "--pass") == 0 && strcmp(v, "fresh") == 0)
			o.big = 0;
		else if (strcmp(a, "--pass") == 0 && strcmp(v, "existing") == 0)
			o.fresh = 0;
		else if (strcmp(a, "--pass") != 0 || strcmp(v, "all") != 0)
			usage();
	}
	o.rounds = o.rounds < 1 ? 1 : o.rounds > MAX_ROUNDS ? MAX_ROUNDS : o.rounds;
	printf("INFO bench=import n=%zu existing=%zu rounds=%zu seed=%llu dup_every=%d sqlite=%s\n", o.n, o.existing,
	       o.rounds, (unsigned long long)o.seed, DUP_EVERY, sqlite3_libversion());
	fflush(stdout);
	char dir[PATH_MAX], csv[PATH_MAX + 16];
	if (bench_tmpdir(dir, sizeof(dir), "import-csv") < 0) {
		perror("bench: cannot create a scratch directory");
		exit(1);
	}
	bench_path(csv, sizeof(csv), dir, "contacts.csv");
	/* The fresh pass gets the same file, whose dup rows are then new people. */
	write_csv(&o, csv);
	if (o.fresh)
		run_pass(&o, "fresh", csv);
	if (o.big && o.existing)
		run_pass(&o, "existing", csv);
	bench_rmtree(dir);
	return 0;
}
