/*
 * bench_web.c — response times of the web API (issue 6: a kanban page
 * ≤ 200 ms and the funnel ≤ 1 s over 1,000,000 deals; search-as-you-type
 * ≤ 50 ms), each side by side with the same work done without HTTP and with
 * the plainest SQLite query that answers part of it.
 *
 * Method
 *  1. One fresh replica; --deals deals (default 1,000,000) on the default
 *     pipeline, each a pure function of (seed, i): a stage drawn with
 *     weights New 30 %, Qualified 20 %, Proposal 15 %, Negotiation 10 %,
 *     Won 15 %, Lost 10 %; amount 1,000–1,000,000.00; RUB (90 %) or EUR;
 *     created within the last 400 days; one stage_history row (the stage it
 *     entered, when).  One company per 20 deals; --contacts contacts with an
 *     e-mail and a phone (bench_names.c).  Loaded with plain INSERTs in
 *     transactions of 10,000 rows (search-index triggers fire; no clocks or
 *     pending changes — the load is not what is measured), then ANALYZE.
 *  2. A child process opens the replica and serves it with crm_web_serve on
 *     127.0.0.1:0 (what `crm serve` runs).  The parent opens its own handle
 *     and, over one keep-alive libcurl connection, times --requests requests
 *     of each kind (default 5), after one warm-up, interleaved with the same
 *     call made directly on its handle:
 *       board    GET /api/board?per_column=50   vs crm_board(…, 50) + JSON text
 *       funnel   GET /api/reports/funnel        vs crm_report("funnel") + JSON text
 *       search   every prefix of --names last names (default 30) as typed,
 *                one request per key,
 *                GET /api/search?q=PREFIX&limit=15 vs crm_query_search(…, 15)
 *     and the plain SQLite baseline for the kanban's column figures:
 *       counts   SELECT stage_id, currency, count(*), sum(amount) FROM deals
 *                WHERE deleted = 0 GROUP BY stage_id, currency
 *  3. RESULT lines: p50/p95/max ms over HTTP and direct, and the ratios
 *     http/direct (the cost of HTTP, JSON parsing and routing) and
 *     direct/counts (the cost of the board beyond plain counting).
 */
#include "bench_names.h"
#include "bench_util.h"
#include "error.h"
#include "query.h"
#include "report.h"
#include "store.h"
#include "web.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 10000
#define MAX_REQ 2000

typedef struct options {
	uint64_t deals, contacts, requests, names, seed;
	int keep;
} options;

static const char *const stage_ids[6] = {
	"00000000-0000-8000-8000-000000000101", "00000000-0000-8000-8000-000000000102",
	"00000000-0000-8000-8000-000000000103", "00000000-0000-8000-8000-000000000104",
	"00000000-0000-8000-8000-000000000105", "00000000-0000-8000-8000-000000000106",
};
static const int stage_weight[6] = {30, 20, 15, 10, 15, 10};

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench_web: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_web: prepare: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	return q;
}

static void step(sqlite3 *db, sqlite3_stmt *q)
{
	if (sqlite3_step(q) != SQLITE_DONE) {
		fprintf(stderr, "bench_web: insert: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_reset(q);
}

static void iso_day(char *out, size_t cap, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Step 1: deals, their stage history and companies; contacts with channels. */
static void load(crm_store *st, const options *o)
{
	sqlite3 *db = crm_db_handle(crm_store_db(st));
	const char *branch = crm_store_setting(st, "branch_id"), *user = crm_store_setting(st, "user_id");
	sqlite3_stmt *co = prep(db, "INSERT INTO companies (id, name, branch_id, owner_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_stmt *de = prep(db, "INSERT INTO deals (id, title, company_id, pipeline_id, stage_id, amount, currency, "
			       "source, branch_id, owner_id, created_at) VALUES (?1, ?2, ?3, "
			       "'00000000-0000-8000-8000-000000000001', ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	sqlite3_stmt *sh = prep(db, "INSERT INTO stage_history (id, deal_id, to_stage_id, at, user_id) VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_stmt *pe = prep(db, "INSERT INTO contacts (id, first_name, last_name, branch_id, owner_id, created_at) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_stmt *ch = prep(db, "INSERT INTO channels (id, owner_id, kind, value, normalized) VALUES (?1, ?2, ?3, ?4, ?5)");
	static const char *const sources[] = {"web", "referral", "trade show", "cold call", "partner"};
	time_t now = time(NULL);
	char id[64], id2[64], when[32], title[160];
	uint64_t start = bench_now_ns();
	exec_sql(db, "BEGIN");
	for (uint64_t i = 0; i < o->deals; i++) {
		bench_rng r;
		bench_rng_for(&r, o->seed, i);
		if (i % 20 == 0) {
			bench_person p;
			bench_person_make(&p, o->seed ^ 0xc0ffee, i / 20);
			snprintf(id, sizeof(id), "c0000000-0000-7000-8000-%012llx", (unsigned long long)(i / 20));
			snprintf(title, sizeof(title), "%s Trading %llu", p.last, (unsigned long long)(i / 20));
			iso_day(when, sizeof(when), now - 400 * 86400);
			sqlite3_bind_text(co, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(co, 2, title, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(co, 3, branch, -1, SQLITE_STATIC);
			sqlite3_bind_text(co, 4, user, -1, SQLITE_STATIC);
			sqlite3_bind_text(co, 5, when, -1, SQLITE_TRANSIENT);
			step(db, co);
		}
		int pick = (int)bench_rng_below(&r, 100), s = 0;
		while (pick >= stage_weight[s])
			pick -= stage_weight[s++];
		snprintf(id, sizeof(id), "d0000000-0000-7000-8000-%012llx", (unsigned long long)(i & 0xffffffffffffULL));
		snprintf(id2, sizeof(id2), "c0000000-0000-7000-8000-%012llx", (unsigned long long)(i / 20));
		snprintf(title, sizeof(title), "Deal %llu", (unsigned long long)(i & 0xffffffffffffULL));
		time_t created = now - (time_t)bench_rng_below(&r, 400 * 86400);
		iso_day(when, sizeof(when), created);
		sqlite3_bind_text(de, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(de, 2, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(de, 3, id2, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(de, 4, stage_ids[s], -1, SQLITE_STATIC);
		sqlite3_bind_int64(de, 5, (sqlite3_int64)(100000 + bench_rng_below(&r, 99900000)));
		sqlite3_bind_text(de, 6, bench_rng_below(&r, 10) ? "RUB" : "EUR", -1, SQLITE_STATIC);
		sqlite3_bind_text(de, 7, sources[bench_rng_below(&r, 5)], -1, SQLITE_STATIC);
		sqlite3_bind_text(de, 8, branch, -1, SQLITE_STATIC);
		sqlite3_bind_text(de, 9, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(de, 10, when, -1, SQLITE_TRANSIENT);
		step(db, de);
		iso_day(when, sizeof(when), created + (time_t)bench_rng_below(&r, 30 * 86400));
		snprintf(id2, sizeof(id2), "e0000000-0000-7000-8000-%012llx", (unsigned long long)(i & 0xffffffffffffULL));
		sqlite3_bind_text(sh, 1, id2, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sh, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sh, 3, stage_ids[s], -1, SQLITE_STATIC);
		sqlite3_bind_text(sh, 4, when, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sh, 5, user, -1, SQLITE_STATIC);
		step(db, sh);
		if ((i + 1) % BATCH == 0)
			exec_sql(db, "COMMIT; BEGIN");
	}
	for (uint64_t i = 0; i < o->contacts; i++) {
		bench_person p;
		bench_person_make(&p, o->seed, i);
		snprintf(id, sizeof(id), "a0000000-0000-7000-8000-%012llx", (unsigned long long)(i & 0xffffffffffffULL));
		sqlite3_bind_text(pe, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(pe, 2, p.first, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(pe, 3, p.last, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(pe, 4, branch, -1, SQLITE_STATIC);
		sqlite3_bind_text(pe, 5, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(pe, 6, "2026-01-01T00:00:00Z", -1, SQLITE_STATIC);
		step(db, pe);
		for (int k = 0; k < 2; k++) {
			char norm[40];
			snprintf(id2, sizeof(id2), "b%07d-0000-7000-8000-%012llx", k, (unsigned long long)(i & 0xffffffffffffULL));
			snprintf(norm, sizeof(norm), "+%s", p.digits);
			sqlite3_bind_text(ch, 1, id2, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ch, 2, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ch, 3, k ? "phone" : "email", -1, SQLITE_STATIC);
			sqlite3_bind_text(ch, 4, k ? p.phone : p.email, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ch, 5, k ? norm : p.email, -1, SQLITE_TRANSIENT);
			step(db, ch);
		}
		if ((i + 1) % BATCH == 0)
			exec_sql(db, "COMMIT; BEGIN");
	}
	exec_sql(db, "COMMIT");
	exec_sql(db, "ANALYZE");
	sqlite3_finalize(co);
	sqlite3_finalize(de);
	sqlite3_finalize(sh);
	sqlite3_finalize(pe);
	sqlite3_finalize(ch);
	printf("LOAD deals=%llu contacts=%llu seconds=%.1f\n", (unsigned long long)o->deals,
	       (unsigned long long)o->contacts, (double)(bench_now_ns() - start) / 1e9);
	fflush(stdout);
}

/* ---- step 2: the server in a child process ---- */

static volatile sig_atomic_t child_stop;
static void on_term(int sig) { (void)sig; child_stop = 1; }
static void tell_url(void *ctx, const char *url)
{
	int fd = *(int *)ctx;
	char line[300];
	int n = snprintf(line, sizeof(line), "%s\n", url);
	if (write(fd, line, (size_t)n) != n)   /* one write: the parent reads once */
		fprintf(stderr, "bench_web: cannot pass the URL to the parent\n");
	close(fd);
}

static pid_t start_server(const char *dir, char *url, size_t cap)
{
	int fds[2];
	if (pipe(fds) < 0)
		bench_die("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct sigaction sa = {0};
		sa.sa_handler = on_term;
		sigaction(SIGTERM, &sa, NULL);
		crm_store *st;
		if (crm_store_open(&st, dir) < 0)
			_exit(1);
		crm_web_opts wo = {.listen = "127.0.0.1:0"};
		int err = crm_web_serve(st, &wo, &child_stop, tell_url, &fds[1]);
		if (err < 0)
			fprintf(stderr, "bench_web: server: %s\n", crm_error_last());
		crm_store_free(st);
		_exit(err < 0 ? 1 : 0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], url, cap - 1);
	close(fds[0]);
	if (n <= 0)
		bench_die("the server did not start");
	url[n] = '\0';
	url[strcspn(url, "\n")] = '\0';
	return pid;
}

typedef struct sink {
	size_t len;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	((sink *)ctx)->len += size * n;
	return size * n;
}

/* One GET; returns ms; dies on a non-200. */
static double http_get(CURL *c, const char *url)
{
	sink s = {0};
	long code = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	uint64_t t0 = bench_now_ns();
	CURLcode rc = curl_easy_perform(c);
	double ms = (double)(bench_now_ns() - t0) / 1e6;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code != 200) {
		int status = 0;
		pid_t dead = waitpid(-1, &status, WNOHANG);
		fprintf(stderr, "bench_web: GET %s: %s, HTTP %ld%s\n", url, curl_easy_strerror(rc), code,
			dead > 0 ? " (the server process has ended)" : "");
		if (dead > 0 && WIFEXITED(status))
			fprintf(stderr, "bench_web: the server exited with %d\n", WEXITSTATUS(status));
		if (dead > 0 && WIFSIGNALED(status))
			fprintf(stderr, "bench_web: the server was killed by signal %d\n", WTERMSIG(status));
		exit(1);
	}
	return ms;
}

/* A library call plus its JSON text (what the server sends); returns ms. */
static double direct(crm_store *st, int kind, const char *q)
{
	json_t *doc = NULL;
	uint64_t t0 = bench_now_ns();
	int err = kind == 0 ? crm_board(&doc, st, NULL, NULL, 50)
		  : kind == 1 ? crm_report(&doc, st, "funnel", NULL)
			      : crm_query_search(&doc, st, q, 15);
	bench_check(err, "direct call");
	char *s = json_dumps(doc, JSON_COMPACT);
	double ms = (double)(bench_now_ns() - t0) / 1e6;
	free(s);
	json_decref(doc);
	return ms;
}

static double plain_counts(crm_store *st)
{
	sqlite3 *db = crm_db_handle(crm_store_db(st));
	sqlite3_stmt *q = prep(db, "SELECT stage_id, currency, count(*), sum(amount) FROM deals WHERE deleted = 0 "
			       "GROUP BY stage_id, currency");
	uint64_t t0 = bench_now_ns();
	while (sqlite3_step(q) == SQLITE_ROW)
		;
	double ms = (double)(bench_now_ns() - t0) / 1e6;
	sqlite3_finalize(q);
	return ms;
}

static void result(const char *op, const options *o, double *http, double *lib, size_t n, double *base, size_t nb)
{
	bench_sort(http, n);
	bench_sort(lib, n);
	double hp50 = bench_pct(http, n, 50), lp50 = bench_pct(lib, n, 50);
	printf("RESULT web op=%s deals=%llu contacts=%llu requests=%zu http_p50_ms=%.2f http_p95_ms=%.2f http_max_ms=%.2f "
	       "direct_p50_ms=%.2f direct_p95_ms=%.2f http_over_direct=%.2f", op, (unsigned long long)o->deals,
	       (unsigned long long)o->contacts, n, hp50, bench_pct(http, n, 95), http[n - 1], lp50, bench_pct(lib, n, 95),
	       lp50 > 0 ? hp50 / lp50 : 0);
	if (base && nb) {
		bench_sort(base, nb);
		double b = bench_pct(base, nb, 50);
		printf(" plain_sql_p50_ms=%.2f direct_over_plain=%.2f", b, b > 0 ? lp50 / b : 0);
	}
	printf("\n");
	fflush(stdout);
}

static void measure(const char *dir, const char *base_url, const options *o)
{
	crm_store *st;
	bench_check(crm_store_open(&st, dir), "open");
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	char url[512];
	size_t n = o->requests > MAX_REQ ? MAX_REQ : (size_t)o->requests;
	static double http[MAX_REQ * 16], lib[MAX_REQ * 16], base[MAX_REQ];
	static const char *const paths[2] = {"api/board?per_column=50", "api/reports/funnel"};
	for (int kind = 0; kind < 2; kind++) {
		snprintf(url, sizeof(url), "%s%s", base_url, paths[kind]);
		http_get(c, url);     /* warm-up */
		direct(st, kind, NULL);
		for (size_t i = 0; i < n; i++) {
			http[i] = http_get(c, url);
			lib[i] = direct(st, kind, NULL);
			if (kind == 0)
				base[i] = plain_counts(st);
		}
		result(kind == 0 ? "board" : "funnel", o, http, lib, n, kind == 0 ? base : NULL, n);
	}
	/* Search as you type: every prefix of a last name, one request per key. */
	size_t k = 0;
	for (size_t i = 0; i < o->names && k < MAX_REQ * 16 - 64; i++) {
		bench_person p;
		bench_person_make(&p, o->seed, (i * 7919) % (o->contacts ? o->contacts : 1));
		size_t chars = 0;
		for (const char *q = p.last; *q; q++)
			chars += ((unsigned char)*q & 0xc0) != 0x80;
		for (size_t len = 1; len <= chars && k < MAX_REQ * 16; len++) {
			char prefix[96], *esc;
			bench_utf8_prefix(prefix, sizeof(prefix), p.last, len);
			esc = curl_easy_escape(c, prefix, 0);
			snprintf(url, sizeof(url), "%sapi/search?q=%s&limit=15", base_url, esc);
			curl_free(esc);
			http[k] = http_get(c, url);
			lib[k] = direct(st, 2, prefix);
			k++;
		}
	}
	result("search_as_you_type", o, http, lib, k, NULL, 0);
	curl_easy_cleanup(c);
	crm_store_free(st);
}

int main(int argc, char **argv)
{
	options o = {.deals = 1000000, .contacts = 100000, .requests = 5, .names = 30, .seed = 20260101};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--keep") == 0) {
			o.keep = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "usage: bench_web [--deals N] [--contacts N] [--requests N] [--names N] [--seed N] [--keep]\n");
			return 2;
		}
		if (strcmp(a, "--deals") == 0)
			o.deals = bench_arg_u64(a, v);
		else if (strcmp(a, "--contacts") == 0)
			o.contacts = bench_arg_u64(a, v);
		else if (strcmp(a, "--requests") == 0)
			o.requests = bench_arg_u64(a, v);
		else if (strcmp(a, "--names") == 0)
			o.names = bench_arg_u64(a, v);
		else if (strcmp(a, "--seed") == 0)
			o.seed = bench_arg_u64(a, v);
		else {
			fprintf(stderr, "bench_web: unknown option %s\n", a);
			return 2;
		}
		i++;
	}
	char dir[1024], url[256];
	if (bench_tmpdir(dir, sizeof(dir), "web") < 0)
		bench_die("scratch directory");
	char data[1100];
	bench_path(data, sizeof(data), dir, "node");
	crm_store *st;
	crm_init_opts io = {.name = "bench", .branch = "MSK", .user = "anna"};
	bench_check(crm_store_create(&st, data, &io), "create");
	load(st, &o);
	crm_store_free(st);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pid_t pid = start_server(data, url, sizeof(url));
	measure(data, url, &o);
	kill(pid, SIGTERM);
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "bench_web: the server process ended badly (status %d)\n", status);
	curl_global_cleanup();
	if (!o.keep)
		bench_rmtree(dir);
	else
		printf("KEPT %s\n", data);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
