/*
 * bench_hub.c — load generator for crm-syncd: small-sync throughput of the
 * hub with many concurrent nodes (DESIGN.md §12: ≥ 500 syncs/s), measured on
 * the hub, not on the start-up of many crm processes.
 *
 * Method
 *  1. Set-up (not timed).  A fresh hub (crm-syncd init + run, a child
 *     process), N nodes enrolled through crm_join with their own keys (tokens
 *     from crm-syncd token, branches B0..B4), each writes a company and
 *     syncs twice with crm_sync, so every node has seen every other.
 *  2. Pre-built work (not timed, it is the nodes' work): for every round and
 *     node, one field change of its company (crm_write), sealed (crm_seal) and
 *     exported as the push body of its own new batch (crm_export_buffer) —
 *     exactly what crm sync sends.
 *  3. Timed rounds: C client threads, each with one HTTPS connection
 *     (libcurl, kept open between requests unless --no-keepalive), take the
 *     next node and do its small sync with the real protocol: a signed
 *     POST /v1/push of the batch, then signed GET /v1/pull?since=CURSOR until
 *     the hub says no more (the answer's cursor is kept; the pulled batches
 *     are not applied — that is node work).  Latency is per sync (push +
 *     pulls).  Then idle rounds: one signed pull each, nothing new.
 *  4. The hub's CPU (utime + stime from /proc) and RSS (VmRSS, VmHWM) before
 *     and after.  Output: RESULT key=value lines, then a readable summary.
 *
 * Usage: bench_hub --syncd PATH [--nodes N] [--conc C] [--rounds R]
 *                  [--idle R] [--no-keepalive]
 */
#include "bench_util.h"
#include "error.h"
#include "exchange.h"
#include "codec.h"
#include "http.h"
#include "reqsig.h"
#include "seal.h"
#include "store.h"
#include "sync.h"
#include "uuid.h"
#include "write.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NODES 1000
#define MAX_CONC 256

typedef struct node {
	crm_store *st;
	char company[CRM_ID_LEN + 1];
	uint64_t cursor;          /* hub pull cursor */
	uint8_t **push;           /* pre-built push body per round */
	size_t *push_len;
} node;

typedef struct bench {
	size_t n, conc, rounds, idle;
	int keepalive;
	node *nodes;
	char url[256], pin[128];
	pid_t hub;
	crm_http_conn *conn[MAX_CONC];
	/* one timed round */
	atomic_size_t next;
	atomic_size_t fails;
	atomic_size_t requests;
	int round;                /* -1: idle */
	double *lat_ms;           /* per node of this round */
} bench;

static void run_cmd(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(out, (int)cap, p)) {
		fprintf(stderr, "bench_hub: '%s' failed\n", cmd);
		exit(1);
	}
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void proc_stat(pid_t pid, double *cpu_ms, long *rss_kib, long *hwm_kib)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	unsigned long ut = 0, stt = 0;
	if (f && fgets(line, sizeof(line), f)) {
		char *p = strrchr(line, ')');
		if (p)
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt);
	}
	if (f)
		fclose(f);
	*cpu_ms = (double)(ut + stt) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", rss_kib);
		sscanf(line, "VmHWM: %ld", hwm_kib);
	}
	if (f)
		fclose(f);
}

static pid_t start_hub(const char *syncd, const char *dir, char *url, size_t cap)
{
	char log[4096], path[4096];
	bench_path(log, sizeof(log), dir, "hub.log");
	bench_path(path, sizeof(path), dir, "hub/url");
	pid_t pid = fork();
	if (pid == 0) {
		char hub[4096];
		bench_path(hub, sizeof(hub), dir, "hub");
		if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(127);
		execl(syncd, syncd, "--data", hub, "run", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {   /* up to 10 s */
		FILE *f = fopen(path, "r");
		int ok = f && fgets(url, (int)cap, f) && strchr(url, '\n');
		if (f)
			fclose(f);
		if (ok) {
			url[strcspn(url, "\n")] = '\0';
			return pid;
		}
		usleep(100000);
	}
	kill(pid, SIGTERM);
	fprintf(stderr, "bench_hub: the hub did not start (see %s)\n", log);
	exit(1);
}

/* One signed request of node nd; 0 and the response, or an error. */
static int hub_request(bench *b, crm_http_conn *conn, node *nd, crm_http_resp *r, const char *method,
		       const char *path, const void *body, size_t len)
{
	char url[512];
	crm_req_headers h;
	int err = crm_req_headers_make(&h, crm_store_key(nd->st), crm_store_node_id(nd->st), method, path,
				       crm_store_now_ms(nd->st), body, len);
	if (err < 0)
		return err;
	snprintf(url, sizeof(url), "%s%s", b->url, path);
	crm_http_req req = {method, url, b->pin, h.list, body, len, 60, 64u << 20, "", conn, NULL};
	atomic_fetch_add(&b->requests, 1);
	err = crm_http_do(r, &req);
	if (err == 0 && r->status != 200) {
		err = CRM_ERR(CRM_EIO, "HTTP %ld: %.*s", r->status, (int)r->len, r->body ? (char *)r->body : "");
		crm_http_resp_dispose(r);
	}
	return err;
}

/* The real small sync: push the round's batch (if any), pull until caught up. */
static int small_sync(bench *b, crm_http_conn *conn, node *nd)
{
	crm_http_resp r;
	int err = 0, more = 1;
	if (b->round >= 0) {
		err = hub_request(b, conn, nd, &r, "POST", "/v1/push", nd->push[b->round], nd->push_len[b->round]);
		if (err == 0)
			crm_http_resp_dispose(&r);
	}
	for (int i = 0; err == 0 && more && i < 100; i++) {
		char path[128];
		crm_envelope *env = NULL;
		snprintf(path, sizeof(path), "/v1/pull?since=%llu&max=%u", (unsigned long long)nd->cursor, CRM_CHUNK_MAX);
		if ((err = hub_request(b, conn, nd, &r, "GET", path, NULL, 0)) < 0)
			break;
		more = r.more;
		if ((err = crm_envelope_decode(&env, r.body, r.len)) == 0)
			nd->cursor = env->cursor;
		crm_envelope_free(env);
		crm_http_resp_dispose(&r);
	}
	return err;
}

static void *client(void *arg)
{
	void **a = arg;
	bench *b = a[0];
	crm_http_conn *conn = a[1];
	crm_http_conn *once = NULL;
	size_t i;
	while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
		if (!b->keepalive)
			conn = once = crm_http_conn_new();
		uint64_t t0 = bench_now_ns();
		int err = small_sync(b, conn, &b->nodes[i]);
		b->lat_ms[i] = (double)(bench_now_ns() - t0) / 1e6;
		if (err < 0) {
			atomic_fetch_add(&b->fails, 1);
			fprintf(stderr, "bench_hub: node %zu: %s\n", i, crm_error_last());
		}
		crm_http_conn_free(once);
		once = NULL;
	}
	return NULL;
}

typedef struct figures {
	size_t syncs, fails, requests;
	double wall_s, cpu_ms, p50, p95, max;
	double *lat;
} figures;

/* Rounds [0, rounds) of pushes+pulls, or `rounds` idle rounds (round = -1). */
static void timed(bench *b, size_t rounds, int idle, figures *f)
{
	double cpu0, cpu1;
	long rss, hwm;
	memset(f, 0, sizeof(*f));
	f->lat = calloc(rounds * b->n, sizeof(double));
	b->lat_ms = calloc(b->n, sizeof(double));
	if (!f->lat || !b->lat_ms)
		bench_die("out of memory");
	atomic_store(&b->requests, 0);
	atomic_store(&b->fails, 0);
	proc_stat(b->hub, &cpu0, &rss, &hwm);
	uint64_t t0 = bench_now_ns();
	for (size_t r = 0; r < rounds; r++) {
		pthread_t th[MAX_CONC];
		void *args[MAX_CONC][2];
		b->round = idle ? -1 : (int)r;
		atomic_store(&b->next, 0);
		for (size_t t = 0; t < b->conc; t++) {
			args[t][0] = b;
			args[t][1] = b->conn[t];
			pthread_create(&th[t], NULL, client, args[t]);
		}
		for (size_t t = 0; t < b->conc; t++)
			pthread_join(th[t], NULL);
		memcpy(f->lat + r * b->n, b->lat_ms, b->n * sizeof(double));
	}
	f->wall_s = (double)(bench_now_ns() - t0) / 1e9;
	proc_stat(b->hub, &cpu1, &rss, &hwm);
	f->syncs = rounds * b->n;
	f->fails = atomic_load(&b->fails);
	f->requests = atomic_load(&b->requests);
	f->cpu_ms = cpu1 - cpu0;
	bench_sort(f->lat, f->syncs);
	f->p50 = bench_pct(f->lat, f->syncs, 50);
	f->p95 = bench_pct(f->lat, f->syncs, 95);
	f->max = bench_pct(f->lat, f->syncs, 100);
	free(b->lat_ms);
	free(f->lat);
}

static void report(const char *what, const figures *f)
{
	double rate = f->wall_s > 0 ? (double)f->syncs / f->wall_s : 0;
	double cpu = f->syncs ? f->cpu_ms / (double)f->syncs : 0;
	printf("RESULT %s_syncs=%zu %s_fails=%zu %s_wall_s=%.3f %s_rate=%.1f %s_p50_ms=%.2f %s_p95_ms=%.2f "
	       "%s_max_ms=%.2f %s_hub_cpu_ms=%.3f %s_hub_ceiling=%.0f %s_requests_per_sync=%.2f\n",
	       what, f->syncs, what, f->fails, what, f->wall_s, what, rate, what, f->p50, what, f->p95, what, f->max,
	       what, cpu, what, cpu > 0 ? 1000.0 / cpu : 0, what, f->syncs ? (double)f->requests / (double)f->syncs : 0);
}

/* Enroll, warm up and pre-build every node's pushes. */
static void setup(bench *b, const char *syncd, const char *dir)
{
	char cmd[8192], token[2048], path[4200];
	for (size_t i = 0; i < b->n; i++) {
		node *nd = &b->nodes[i];
		char name[32];
		snprintf(name, sizeof(name), "node%zu", i);
		snprintf(cmd, sizeof(cmd), "'%s' --data '%s/hub' token --branch B%zu --role branch --name %s", syncd,
			 dir, i % 5, name);
		run_cmd(cmd, token, sizeof(token));
		bench_path(path, sizeof(path), dir, name);
		crm_init_opts io = {.name = name};
		bench_check(crm_join(&nd->st, path, token, &io, NULL), "crm_join");
		char company[64];
		snprintf(company, sizeof(company), "Company of %s", name);
		crm_field f[] = {{"name", CRM_TEXT(company)}};
		bench_check(crm_uuid7(nd->company, crm_store_now_ms(nd->st)), "uuid");
		bench_check(crm_write(nd->st, "companies", nd->company, f, 1), "company");
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < b->n; i++) {
			crm_sync_report rep;
			crm_sync_opts o = {.once = 1, .proxy = ""};
			bench_check(crm_sync(b->nodes[i].st, &o, &rep), "warm-up sync");
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		node *nd = &b->nodes[i];
		char *v = NULL;
		uint64_t pushed;
		bench_check(crm_meta_get(nd->st, "hub_pushed", &v), "hub_pushed");
		pushed = strtoull(v, NULL, 10);
		free(v);
		bench_check(crm_meta_get(nd->st, "hub_cursor", &v), "hub_cursor");
		nd->cursor = strtoull(v, NULL, 10);
		free(v);
		nd->push = calloc(b->rounds, sizeof(*nd->push));
		nd->push_len = calloc(b->rounds, sizeof(*nd->push_len));
		if (!nd->push || !nd->push_len)
			bench_die("out of memory");
		for (size_t r = 0; r < b->rounds; r++) {
			char industry[32];
			size_t batches;
			int more;
			snprintf(industry, sizeof(industry), "Round %zu", r + 1);
			crm_field f[] = {{"industry", CRM_TEXT(industry)}};
			bench_check(crm_write(nd->st, "companies", nd->company, f, 1), "edit");
			bench_check(crm_seal(nd->st, NULL), "seal");
			bench_check(crm_export_buffer(nd->st, pushed, 1, NULL, CRM_CHUNK_MAX, &nd->push[r],
						      &nd->push_len[r], &pushed, &batches, &more), "export");
			if (batches != 1)
				bench_die("expected one batch per round");
		}
	}
	char *v = NULL;
	bench_check(crm_meta_get(b->nodes[0].st, "hub", &v), "hub");
	snprintf(b->url, sizeof(b->url), "%s", v);
	free(v);
	bench_check(crm_meta_get(b->nodes[0].st, "hub_pin", &v), "hub_pin");
	snprintf(b->pin, sizeof(b->pin), "%s", v);
	free(v);
}

int main(int argc, char **argv)
{
	bench b = {.n = 50, .conc = 16, .rounds = 4, .idle = 2, .keepalive = 1};
	const char *syncd = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--no-keepalive") == 0) {
			b.keepalive = 0;
			continue;
		}
		if (!v) {
			fprintf(stderr, "usage: bench_hub --syncd PATH [--nodes N] [--conc C] [--rounds R] [--idle R] "
				"[--no-keepalive]\n");
			return 2;
		}
		if (strcmp(a, "--syncd") == 0)
			syncd = v;
		else if (strcmp(a, "--nodes") == 0)
			b.n = bench_arg_u64(a, v);
		else if (strcmp(a, "--conc") == 0)
			b.conc = bench_arg_u64(a, v);
		else if (strcmp(a, "--rounds") == 0)
			b.rounds = bench_arg_u64(a, v);
		else if (strcmp(a, "--idle") == 0)
			b.idle = bench_arg_u64(a, v);
		else {
			fprintf(stderr, "bench_hub: unknown argument '%s'\n", a);
			return 2;
		}
		i++;
	}
	if (!syncd || b.n > MAX_NODES || b.conc > MAX_CONC || b.conc > b.n) {
		fprintf(stderr, "bench_hub: needs --syncd PATH, nodes <= %d, conc <= %d and <= nodes\n", MAX_NODES,
			MAX_CONC);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char dir[4096], cmd[8192], url[256];
	if (bench_tmpdir(dir, sizeof(dir), "hub") < 0)
		bench_die("scratch directory");
	snprintf(cmd, sizeof(cmd), "'%s' --data '%s/hub' init --listen 127.0.0.1:0 >/dev/null", syncd, dir);
	if (system(cmd) != 0)
		bench_die("crm-syncd init");
	b.hub = start_hub(syncd, dir, url, sizeof(url));
	b.nodes = calloc(b.n, sizeof(node));
	if (!b.nodes)
		bench_die("out of memory");
	uint64_t t0 = bench_now_ns();
	setup(&b, syncd, dir);
	double setup_s = (double)(bench_now_ns() - t0) / 1e9;
	for (size_t t = 0; t < b.conc; t++)
		if (!(b.conn[t] = crm_http_conn_new()))
			bench_die("http client");
	double cpu;
	long rss0 = 0, hwm0 = 0, rss1 = 0, hwm1 = 0;
	proc_stat(b.hub, &cpu, &rss0, &hwm0);
	figures fs, fi;
	fprintf(stderr, "bench_hub: set-up done in %.1f s; timed rounds start (hub pid %d)\n", setup_s, (int)b.hub);
	timed(&b, b.rounds, 0, &fs);
	timed(&b, 1, 1, &fi);                   /* catch up with the last round: not reported */
	timed(&b, b.idle, 1, &fi);
	proc_stat(b.hub, &cpu, &rss1, &hwm1);
	printf("INFO nodes=%zu conc=%zu rounds=%zu idle=%zu keepalive=%d setup_s=%.1f\n", b.n, b.conc, b.rounds, b.idle,
	       b.keepalive, setup_s);
	report("small", &fs);
	report("idle", &fi);
	printf("RESULT hub_rss_kib_before=%ld hub_rss_kib_after=%ld hub_hwm_kib_after=%ld\n", rss0, rss1, hwm1);
	printf("small sync (push 1 batch + pull): %zu syncs (%zu failed) in %.2f s = %.1f syncs/s, p50 %.1f ms, "
	       "p95 %.1f ms; hub CPU %.2f ms/sync\n", fs.syncs, fs.fails, fs.wall_s, fs.syncs / fs.wall_s, fs.p50,
	       fs.p95, fs.cpu_ms / (double)fs.syncs);
	printf("idle sync (one pull): %zu syncs (%zu failed) in %.2f s = %.1f syncs/s, p50 %.1f ms, p95 %.1f ms; "
	       "hub CPU %.2f ms/sync\n", fi.syncs, fi.fails, fi.wall_s, fi.syncs / fi.wall_s, fi.p50, fi.p95,
	       fi.cpu_ms / (double)fi.syncs);
	for (size_t t = 0; t < b.conc; t++)
		crm_http_conn_free(b.conn[t]);
	kill(b.hub, SIGTERM);
	waitpid(b.hub, NULL, 0);
	for (size_t i = 0; i < b.n; i++) {
		for (size_t r = 0; r < b.rounds; r++)
			free(b.nodes[i].push[r]);
		free(b.nodes[i].push);
		free(b.nodes[i].push_len);
		crm_store_free(b.nodes[i].st);
	}
	free(b.nodes);
	if (getenv("BENCH_HUB_KEEP"))
		fprintf(stderr, "bench_hub: kept %s\n", dir);
	else
		bench_rmtree(dir);
	return fs.fails || fi.fails ? 1 : 0;
}
