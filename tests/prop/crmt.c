/*
 * crmt.c — the property tests' harness (see crmt.h).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* nftw, mkdtemp */
#endif
#include "crmt.h"

#include <ctype.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* RAND_set_rand_method is deprecated in OpenSSL 3 but is the one way to make
 * key generation and UUIDs repeatable in process; the tests need exactly that. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/rand.h>

#include "db.h"
#include "error.h"
#include "exchange.h"
#include "hash.h"
#include "query.h"

/* ---- seeded generator (splitmix64) -------------------------------------- */

uint64_t crmt_next(crmt_rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

size_t crmt_below(crmt_rng *g, size_t n) { return n ? (size_t)(crmt_next(g) % n) : 0; }
/* 1 with probability pct %. */
int crmt_chance(crmt_rng *g, unsigned pct) { return crmt_below(g, 100) < pct; }

/* Every random byte OpenSSL hands out in this process (node keys, the random
 * bits of UUIDv7 ids) comes from this generator, reseeded per scenario, so a
 * seed replays a scenario exactly: same keys, same ids, same tie-breaks. */
static crmt_rng openssl_rng;

static int det_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i += 8) {
		uint64_t v = crmt_next(&openssl_rng);
		for (int k = 0; k < 8 && i + k < num; k++)
			buf[i + k] = (unsigned char)(v >> (8 * k));
	}
	return 1;
}

static int det_seed(const void *buf, int num) { return (void)buf, (void)num, 1; }
static int det_add(const void *buf, int num, double entropy) { return (void)buf, (void)num, (void)entropy, 1; }
static int det_status(void) { return 1; }

static const RAND_METHOD det_rand = {det_seed, det_bytes, NULL, det_add, det_bytes, det_status};

int crmt_rand_install(void)
{
	return RAND_set_rand_method(&det_rand) ? 0 : -1;
}

/* ---- worlds ---------------------------------------------------------------- */

const char *const crmt_kind_name[CRMT_KINDS] = {"company", "contact", "deal", "note"};

void crmt_trace(crmt_world *w, const char *fmt, ...)
{
	va_list ap;
	if (!w->trace)
		return;
	fprintf(w->trace, "%5u ", w->step);
	va_start(ap, fmt);
	vfprintf(w->trace, fmt, ap);
	va_end(ap);
	fputc('\n', w->trace);
}

/* Record a failure: printed and written to the trace; the scenario stops. */
void crmt_fail(crmt_world *w, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("FAIL: %s\n", msg);
	crmt_trace(w, "FAIL: %s", msg);
	w->failed = 1;
}

/* An action's result: 0 or a legitimate refusal is fine, anything else fails. */
int crmt_acted(crmt_world *w, int ri, int rc, const char *what, const char *detail)
{
	crmt_trace(w, "r%d %s %s -> %s%s%s", ri, what, detail, rc ? crm_error_name(rc) : "ok",
		   rc ? ": " : "", rc ? crm_error_last() : "");
	w->ops++;
	if (rc == 0)
		return 0;
	if (rc == CRM_EINVAL || rc == CRM_ENOTFOUND || rc == CRM_EEXISTS) {
		w->refused++;
		return rc;
	}
	crmt_fail(w, "replica %d: %s %s returned %s: %s (%s)", ri, what, detail, crm_error_name(rc),
		  crm_error_last(), crm_error_where());
	return rc;
}

static uint64_t sim_clock(void *ctx)
{
	const crmt_replica *r = ctx;
	return (uint64_t)((int64_t)r->w->now_ms + r->clock_error_ms);
}

void crmt_add_record(crmt_world *w, const char *id, enum crmt_kind k)
{
	if (w->rec_count == CRMT_MAX_RECORDS)
		return;
	snprintf(w->rec[w->rec_count].id, sizeof(w->rec[0].id), "%s", id);
	w->rec[w->rec_count++].kind = k;
}

/* dst accepts src's batches. */
static int trust(crmt_world *w, int dst, int src)
{
	uint8_t pub[CRM_PUBKEY_LEN];
	char *line = NULL, node[33];
	crm_key_public(crm_store_key(w->r[src].st), pub);
	int rc = crm_pubkey_to_openssh(&line, pub, "peer");
	if (rc == 0)
		rc = crm_trust_add(w->r[dst].st, line, "peer", "prop", node);
	free(line);
	if (rc < 0)
		crmt_fail(w, "trust %d -> %d: %s", src, dst, crm_error_last());
	return rc;
}

/* Replicas r0..r(n-1) in the world's directory, on simulated clocks, each
 * trusting all the others. */
static int make_replicas(crmt_world *w)
{
	static const char *const branch[] = {"MSK", "SPB", "MSK", "KZN"};
	for (int i = 0; i < w->n; i++) {
		char dir[CRMT_PATH_CAP + 8], name[16];
		snprintf(dir, sizeof(dir), "%s/r%d", w->root, i);
		snprintf(name, sizeof(name), "node%d", i);
		crm_init_opts o = {.name = name, .branch = branch[i]};
		if (crm_store_create(&w->r[i].st, dir, &o) < 0) {
			crmt_fail(w, "create replica %d: %s", i, crm_error_last());
			return -1;
		}
		w->r[i].w = w;
		crm_store_set_clock(w->r[i].st, sim_clock, &w->r[i]);
	}
	for (int i = 0; i < w->n; i++)
		for (int j = 0; j < w->n; j++)
			if (i != j && trust(w, i, j) < 0)
				return -1;
	return 0;
}

/* Where scenario directories go: CRM_PROP_TMPDIR, else /dev/shm when it is
 * writable (the stores fsync a lot; on tmpfs that costs nothing), else
 * TMPDIR, else /tmp. */
static const char *scratch_dir(void)
{
	const char *d = getenv("CRM_PROP_TMPDIR");
	if (d && *d)
		return d;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

/* A world of n replicas in a new temp directory; NULL on failure (printed). */
crmt_world *crmt_world_new(uint64_t seed, int n)
{
	crmt_world *w = calloc(1, sizeof(*w));
	char path[CRMT_PATH_CAP + 16];
	if (!w)
		return NULL;
	w->g.s = seed;
	openssl_rng.s = seed ^ 0x5deece66dull;
	w->n = n;
	snprintf(w->root, sizeof(w->root), "%s/crm_prop_XXXXXX", scratch_dir());
	if (!mkdtemp(w->root)) {
		perror(w->root);
		free(w);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/trace.txt", w->root);
	w->trace = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/x", w->root);
	mkdir(path, 0700);
	make_replicas(w);
	/* True time starts a second after the replicas' own first writes
	 * (crm_store_create stamps them with the real clock). */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	w->now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 1000u;
	return w;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Close the stores and remove the directory unless keep; frees w. */
void crmt_world_free(crmt_world *w, int keep)
{
	if (!w)
		return;
	for (int i = 0; i < w->n; i++)
		crm_store_free(w->r[i].st);
	if (w->trace)
		fclose(w->trace);
	if (!keep)
		nftw(w->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(w);
}

/* ---- exchanges ------------------------------------------------------------- */

int crmt_export(crmt_world *w, int src, char path[CRMT_PATH_CAP])
{
	crm_export_report rep;
	if (snprintf(path, CRMT_PATH_CAP, "%s/x/f%04u.crm", w->root, w->file_seq++) >= CRMT_PATH_CAP)
		return CRM_ELIMIT;
	int rc = crm_export_changes(w->r[src].st, path, 0, &rep);
	crmt_trace(w, "r%d export -> %s: %zu batches, %zu bytes%s", src, path, rep.batches, rep.bytes,
		   rc ? " FAILED" : "");
	if (rc < 0)
		crmt_fail(w, "replica %d: export: %s (%s)", src, crm_error_last(), crm_error_where());
	return rc;
}

/* Import path into dst; *applied gets the batches applied now. */
int crmt_import(crmt_world *w, int dst, const char *path, size_t *applied)
{
	crm_apply_report rep;
	int rc = crm_import_changes(w->r[dst].st, path, &rep);
	crmt_trace(w, "r%d import %s: applied %zu, known %zu, changes %zu, won %zu, forks %zu, skipped %zu%s",
		   dst, path, rep.applied, rep.known, rep.changes, rep.won, rep.forks, rep.skipped, rc ? " FAILED" : "");
	if (rc < 0)
		crmt_fail(w, "replica %d: import %s: %s (%s)", dst, path, crm_error_last(), crm_error_where());
	else if (rep.forks || rep.skipped)
		crmt_fail(w, "replica %d: import %s reported a fork (%zu) or skipped batches (%zu)", dst, path,
			  rep.forks, rep.skipped);
	w->exchanges++;
	w->applied += rep.applied;
	if (applied)
		*applied = rep.applied;
	return rc;
}

int crmt_heal(crmt_world *w)
{
	memset(w->blocked, 0, sizeof(w->blocked));
	crmt_trace(w, "heal");
	for (int round = 0; round < 8; round++) {
		size_t total = 0;
		for (int src = 0; src < w->n && !w->failed; src++) {
			char path[CRMT_PATH_CAP];
			if (crmt_export(w, src, path) < 0)
				return -1;
			for (int dst = 0; dst < w->n && !w->failed; dst++) {
				size_t applied = 0;
				if (dst != src && crmt_import(w, dst, path, &applied) == 0)
					total += applied;
			}
			remove(path);
		}
		if (w->failed)
			return -1;
		if (total == 0)
			return 0;
	}
	crmt_fail(w, "replicas still apply new batches after 8 full-mesh rounds");
	return -1;
}

/* ---- checks ------------------------------------------------------------------------- */

/* Print how row ia of qa and row ib of qb differ (same id); counts lines. */
static void diff_row(sqlite3_stmt *qa, sqlite3_stmt *qb, const char *table, int a, int b, int *shown)
{
	const char *id = (const char *)sqlite3_column_text(qa, 0);
	for (int i = 1; i < sqlite3_column_count(qa) && *shown < 12; i++) {
		const char *va = (const char *)sqlite3_column_text(qa, i);
		const char *vb = (const char *)sqlite3_column_text(qb, i);
		if (!va && !vb)
			continue;
		if (va && vb && strcmp(va, vb) == 0)
			continue;
		printf("  %s %s.%s: replica %d '%s', replica %d '%s'\n", table, id,
			sqlite3_column_name(qa, i), a, va ? va : "NULL", b, vb ? vb : "NULL");
		(*shown)++;
	}
}

/* Rows of one replicated table that differ between replicas a and b. */
static void diff_table(crmt_world *w, int a, int b, const char *table)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY id", table);
	sqlite3_stmt *qa = NULL, *qb = NULL;
	int shown = 0, ra = SQLITE_DONE, rb = SQLITE_DONE;
	if (sqlite3_prepare_v2(crm_db_handle(crm_store_db(w->r[a].st)), sql, -1, &qa, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(crm_db_handle(crm_store_db(w->r[b].st)), sql, -1, &qb, NULL) == SQLITE_OK) {
		ra = sqlite3_step(qa);
		rb = sqlite3_step(qb);
	}
	while ((ra == SQLITE_ROW || rb == SQLITE_ROW) && shown < 12) {
		const char *ia = ra == SQLITE_ROW ? (const char *)sqlite3_column_text(qa, 0) : NULL;
		const char *ib = rb == SQLITE_ROW ? (const char *)sqlite3_column_text(qb, 0) : NULL;
		int c = !ia ? 1 : !ib ? -1 : strcmp(ia, ib);
		if (c != 0)
			printf("  %s %s only on replica %d\n", table, (c < 0 ? ia : ib) ? (c < 0 ? ia : ib) : "?",
			       c < 0 ? a : b), shown++;
		else
			diff_row(qa, qb, table, a, b, &shown);
		if (c <= 0)
			ra = sqlite3_step(qa);
		if (c >= 0)
			rb = sqlite3_step(qb);
	}
	sqlite3_finalize(qa);
	sqlite3_finalize(qb);
}

static void explain_hash_mismatch(crmt_world *w, int a, int b)
{
	size_t count;
	const crm_table *t = crm_catalog_tables(w->r[a].st, &count);
	printf("differences between replica %d and replica %d:\n", a, b);
	for (size_t i = 0; i < count; i++)
		diff_table(w, a, b, t[i].name);
}

void crmt_check_hashes(crmt_world *w)
{
	char h[CRMT_MAX_REPLICAS][65];
	int same = 1;
	for (int i = 0; i < w->n; i++) {
		if (crm_state_hash(w->r[i].st, h[i]) < 0) {
			crmt_fail(w, "replica %d: state hash: %s", i, crm_error_last());
			return;
		}
		same &= strcmp(h[i], h[0]) == 0;
	}
	if (same)
		return;
	crmt_fail(w, "state hashes differ after heal");
	for (int i = 0; i < w->n; i++)
		printf("  replica %d (%s, clock %+lld ms): %s\n", i, crm_store_node_id(w->r[i].st),
			(long long)w->r[i].clock_error_ms, h[i]);
	for (int i = 1; i < w->n; i++)
		if (strcmp(h[i], h[0]) != 0)
			explain_hash_mismatch(w, 0, i);
}

/* The first record where two lists differ, printed as JSON (or "none"). */
static void report_list_diff(crmt_world *w, const char *entity, int i, json_t *a, json_t *b)
{
	size_t k = 0;
	while (k < json_array_size(a) && k < json_array_size(b) &&
	       json_equal(json_array_get(a, k), json_array_get(b, k)))
		k++;
	char *ra = json_dumps(json_array_get(a, k), JSON_SORT_KEYS | JSON_COMPACT);
	char *rb = json_dumps(json_array_get(b, k), JSON_SORT_KEYS | JSON_COMPACT);
	crmt_fail(w, "%s list differs between replica 0 (%zu listed) and replica %d (%zu listed), first at "
		  "position %zu:\n  r0: %s\n  r%d: %s", entity, json_array_size(a), i, json_array_size(b), k,
		  ra ? ra : "none", i, rb ? rb : "none");
	free(ra);
	free(rb);
}

void crmt_check_lists(crmt_world *w)
{
	for (int k = CRMT_COMPANY; k <= CRMT_DEAL && !w->failed; k++) {
		json_t *first = NULL;
		for (int i = 0; i < w->n && !w->failed; i++) {
			json_t *arr = NULL;
			if (crm_query_list(&arr, w->r[i].st, crmt_kind_name[k], NULL, 0) < 0)
				crmt_fail(w, "replica %d: list %s: %s", i, crmt_kind_name[k], crm_error_last());
			else if (i == 0)
				first = json_incref(arr);
			else if (!json_equal(first, arr))
				report_list_diff(w, crmt_kind_name[k], i, first, arr);
			json_decref(arr);
		}
		json_decref(first);
	}
}

/* Whether a person kept apart two records with strong key `key`. */
static int kept_apart(crmt_world *w, int ri, const char *entity, const char *key)
{
	const char *sql = strcmp(entity, "company") == 0
		? "SELECT count(*) FROM merges m JOIN companies a ON a.id = m.loser_id JOIN companies b ON b.id = m.survivor_id "
		  "WHERE m.undone = 1 AND m.deleted = 0 AND upper(replace(trim(a.tax_id), ' ', '')) = ?1 "
		  "AND upper(replace(trim(b.tax_id), ' ', '')) = ?1"
		: "SELECT count(*) FROM merges m WHERE m.undone = 1 AND m.deleted = 0 AND m.entity = 'contact' "
		  "AND EXISTS (SELECT 1 FROM channels c WHERE c.owner_id = m.loser_id AND c.kind = 'email' AND c.deleted = 0 AND c.normalized = ?1) "
		  "AND EXISTS (SELECT 1 FROM channels c WHERE c.owner_id = m.survivor_id AND c.kind = 'email' AND c.deleted = 0 AND c.normalized = ?1)";
	int64_t n = 0;
	if (crm_db_get_int(crm_store_db(w->r[ri].st), &n, sql, key) < 0)
		crmt_fail(w, "replica %d: kept-apart query: %s", ri, crm_error_last());
	return n > 0;
}

/* The strong key of a listed record, normalized like merge.c does: tax ids
 * without spaces, upper case; e-mails in lower case. */
static void strong_key(char *out, size_t cap, json_t *o, int company)
{
	const char *v = json_string_value(json_object_get(o, company ? "tax_id" : "email"));
	size_t n = 0;
	for (; v && *v && n + 1 < cap; v++) {
		if (company && *v != ' ')
			out[n++] = (char)toupper((unsigned char)*v);
		else if (!company)
			out[n++] = (char)tolower((unsigned char)*v);
	}
	out[n] = '\0';
}

/* No two listed records share a strong key unless kept apart by a person. */
void crmt_check_strong_keys(crmt_world *w, int ri, const char *entity)
{
	json_t *arr = NULL;
	if (crm_query_list(&arr, w->r[ri].st, entity, NULL, 0) < 0) {
		crmt_fail(w, "replica %d: list %s: %s", ri, entity, crm_error_last());
		return;
	}
	size_t n = json_array_size(arr);
	int company = strcmp(entity, "company") == 0;
	for (size_t i = 0; i < n && !w->failed; i++) {
		char ki[128], kj[128];
		strong_key(ki, sizeof(ki), json_array_get(arr, i), company);
		for (size_t j = i + 1; *ki && j < n && !w->failed; j++) {
			strong_key(kj, sizeof(kj), json_array_get(arr, j), company);
			if (strcmp(ki, kj) == 0 && !kept_apart(w, ri, entity, ki))
				crmt_fail(w, "replica %d: %s %s and %s both listed with strong key %s (not merged)",
					  ri, entity, json_string_value(json_object_get(json_array_get(arr, i), "id")),
					  json_string_value(json_object_get(json_array_get(arr, j), "id")), ki);
		}
	}
	json_decref(arr);
}

/* The derived tables' digest: every row of the board and the counters. */
static const char derived_sql[] =
	"SELECT coalesce((SELECT group_concat(r, '|') FROM (SELECT "
	"quote(deal_id)||','||quote(pipeline_id)||','||quote(stage_id)||','||quote(branch_id)||','||quote(deleted)||','||quote(created_at) || ','"
	"|| quote(currency)||','||quote(amount)||','||quote(reach)||','||quote(entered_at)||','||quote(touched_at) AS r "
	"FROM crm_deal_board ORDER BY deal_id)), '') || '#' || coalesce((SELECT group_concat(r, '|') FROM (SELECT "
	"quote(pipeline_id)||','||quote(stage_id)||','||quote(branch_id)||','||quote(reach)||','||quote(currency)||','||quote(n)||','||quote(amount) AS r "
	"FROM crm_deal_counts ORDER BY 1)), '')";

void crmt_check_derived(crmt_world *w, int ri)
{
	static const char *const fts[] = {"contacts_fts", "companies_fts", "deals_fts", "channels_fts"};
	crm_db *db = crm_store_db(w->r[ri].st);
	char sql[160], *kept = NULL, *rebuilt = NULL;
	for (size_t i = 0; i < sizeof(fts) / sizeof(fts[0]) && !w->failed; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s(%s, rank) VALUES ('integrity-check', 1)", fts[i], fts[i]);
		if (crm_db_exec(db, sql) < 0)
			crmt_fail(w, "replica %d: %s does not match its table: %s", ri, fts[i], crm_error_last());
	}
	if (w->failed)
		return;
	/* Rebuild the board from the deals, as migration 0006 does, and compare. */
	int err = crm_db_get_text(db, &kept, derived_sql, NULL);
	if (err == 0)
		err = crm_db_exec(db, "SAVEPOINT crmt_derived; DELETE FROM crm_deal_board;"
				      "INSERT INTO crm_deal_board (deal_id, pipeline_id, stage_id, branch_id, deleted, created_at,"
				      " currency, amount) SELECT id, pipeline_id, stage_id, branch_id, deleted, created_at,"
				      " currency, amount FROM deals;"
				      "INSERT INTO crm_deal_touch (deal_id) SELECT deal_id FROM crm_deal_board;");
	if (err == 0)
		err = crm_db_get_text(db, &rebuilt, derived_sql, NULL);
	if (crm_db_exec(db, "ROLLBACK TO crmt_derived; RELEASE crmt_derived") < 0 && err == 0)
		err = -1;
	if (err < 0)
		crmt_fail(w, "replica %d: derived tables: %s", ri, crm_error_last());
	else if (strcmp(kept, rebuilt) != 0)
		crmt_fail(w, "replica %d: crm_deal_board/crm_deal_counts differ from a rebuild:\n  kept    %.400s\n  rebuilt %.400s",
			  ri, kept, rebuilt);
	free(kept);
	free(rebuilt);
}
