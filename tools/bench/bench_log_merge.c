/*
 * bench_log_merge.c — the synthetic merge of bench_log (see bench_log.c for
 * the whole method): throughput of crm_apply_changes on one core against the
 * same values written by plain SQLite.
 *
 * Method
 *  1. R rows — half contacts with 9 fields, half deals with 11 (10 R field
 *     changes) — written by two authors.  Every field gets one write of each,
 *     with random clocks; the later one names the earlier as its prev, so
 *     nothing is concurrent and about half of B's writes win.
 *  2. Pass "new": A's writes on a fresh replica, row by row (all win, a row's
 *     first field creates it).  Pass "mixed": B's writes, rows in random order,
 *     a row's fields together as in a batch (half win, half lose).  Each pass
 *     is one transaction.
 *  3. Variants, each on a fresh replica (same schema, indexes, FTS5 triggers):
 *       crm           crm_apply_changes over the pass (a row's fields together);
 *       plain_sqlite  prepared INSERT (a row's first field) / UPDATE per field
 *                     on crm.db opened with sqlite3_open and the same pragmas;
 *                     no clocks, every value written;
 *       plain_rows    one INSERT / UPDATE per row with all its fields: the
 *                     bound of an apply that groups a row's fields.
 *     Rounds interleave the variants (rotating their order); a figure is the
 *     median over rounds, a ratio the median of per-round ratios.
 *  4. Checked, or the run fails: the crm replica lets exactly the writes with
 *     the later clock win; every variant holds R rows and 1,000 random fields
 *     hold the value they must.
 */
#include "bench_log.h"
#include "bench_names.h"
#include "bench_prof.h"
#include "bench_util.h"
#include "error.h"
#include "hlc.h"
#include "uuid.h"
#include "write.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARENA_CHUNK (1u << 20)

typedef char rid[CRM_ID_LEN + 1];

static const char *const titles[] = {
	"Sales manager", "Директор", "Главный бухгалтер", "CTO", "Procurement lead",
	"Менеджер по закупкам", "Office manager", "Инженер", "Head of logistics", "Юрист",
};
static const char *const deal_titles[] = {
	"Поставка оборудования", "Annual license", "Сервисный контракт", "Pilot project", "Расширение склада",
};

/* ------------------------------------------------------- synthetic merge -- */

typedef enum vkind { K_FIRST, K_LAST, K_TITLE, K_DATE, K_REF, K_TIME, K_MONEY, K_PCT, K_CUR, K_SOURCE, K_DEAL } vkind;

typedef struct colspec {
	const char *col;
	vkind kind;
} colspec;

static const char *const table_names[2] = {"contacts", "deals"};
static const colspec contact_cols[] = {
	{"first_name", K_FIRST}, {"last_name", K_LAST}, {"title", K_TITLE}, {"birthday", K_DATE},
	{"company_id", K_REF}, {"next_contact", K_DATE}, {"owner_id", K_REF}, {"branch_id", K_REF},
	{"created_at", K_TIME},
};
static const colspec deal_cols[] = {
	{"title", K_DEAL}, {"company_id", K_REF}, {"contact_id", K_REF}, {"amount", K_MONEY},
	{"currency", K_CUR}, {"probability", K_PCT}, {"expected_close", K_DATE}, {"source", K_SOURCE},
	{"owner_id", K_REF}, {"branch_id", K_REF}, {"created_at", K_TIME},
};
static const colspec *const table_cols[2] = {contact_cols, deal_cols};
static const size_t table_ncols[2] = {BL_COUNT(contact_cols), BL_COUNT(deal_cols)};
static const char author_a[] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
static const char author_b[] = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";

/* Text values live in 1 MiB chunks that never move. */
typedef struct arena {
	char **chunks;
	size_t count, cap, used;
} arena;

static const char *arena_dup(arena *a, const char *s)
{
	size_t len = strlen(s) + 1;
	if (a->count == 0 || a->used + len > ARENA_CHUNK) {
		if (a->count == a->cap) {
			a->cap = a->cap ? 2 * a->cap : 64;
			a->chunks = realloc(a->chunks, a->cap * sizeof(char *));
			if (!a->chunks)
				bench_die("out of memory");
		}
		a->chunks[a->count++] = bl_xcalloc(ARENA_CHUNK, 1);
		a->used = 0;
	}
	char *p = a->chunks[a->count - 1] + a->used;
	memcpy(p, s, len);
	a->used += len;
	return p;
}

static void arena_free(arena *a)
{
	for (size_t i = 0; i < a->count; i++)
		free(a->chunks[i]);
	free(a->chunks);
}

typedef struct synth {
	size_t rows, count, expect_won;
	uint64_t seed, base;          /* clocks are base + [0, 2^32) */
	rid *ids;
	crm_change *pre, *mix;        /* author A's writes (row order), B's (random row order) */
	unsigned char *pre_slot, *mix_slot;   /* table << 4 | column index */
	arena text;
} synth;

/* The two writes of field (row, k): A's clock and B's, distinct. */
static void pair_clocks(const synth *s, size_t row, size_t k, uint64_t *ha, uint64_t *hb)
{
	bench_rng r;
	bench_rng_for(&r, s->seed ^ 0x41c, (uint64_t)row * 16 + k);
	*ha = s->base + bench_rng_below(&r, (uint64_t)1 << 32);
	*hb = s->base + bench_rng_below(&r, (uint64_t)1 << 32);
	if (*hb == *ha)
		(*hb)++;
}

static crm_value synth_value(synth *s, vkind kind, size_t row, int author, bench_rng *r)
{
	static const char *const cur[] = {"RUB", "USD", "EUR", "KZT"};
	static const char *const src[] = {"web", "referral", "cold call", "exhibition", "partner"};
	char buf[192];
	bench_person p;
	unsigned x = (unsigned)bench_rng_below(r, 1u << 30);
	switch (kind) {
	case K_MONEY: return CRM_INT((int64_t)(100000 + bench_rng_below(r, 100000000)));
	case K_PCT: return CRM_INT((int64_t)(x % 101));
	case K_FIRST: case K_LAST:
		bench_person_make(&p, s->seed ^ (uint64_t)author, row);
		snprintf(buf, sizeof(buf), "%s", kind == K_FIRST ? p.first : p.last);
		break;
	case K_TITLE: snprintf(buf, sizeof(buf), "%s", titles[x % BL_COUNT(titles)]); break;
	case K_DATE: snprintf(buf, sizeof(buf), "20%02u-%02u-%02u", 20 + x % 10, 1 + x / 10 % 12, 1 + x / 120 % 28); break;
	case K_REF:
		snprintf(buf, sizeof(buf), "%08x-%04x-7%03x-%04x-%012llx", x, x >> 7 & 0xffffu, x >> 3 & 0xfffu,
			 0x8000u | (x & 0x3fffu), (unsigned long long)(bench_rng_next(r) & 0xffffffffffffull));
		break;
	case K_TIME: snprintf(buf, sizeof(buf), "2026-%02u-%02uT%02u:%02u:00Z", 1 + x % 12, 1 + x / 12 % 28,
			      x / 336 % 24, x / 8064 % 60); break;
	case K_CUR: snprintf(buf, sizeof(buf), "%s", cur[x % BL_COUNT(cur)]); break;
	case K_SOURCE: snprintf(buf, sizeof(buf), "%s", src[x % BL_COUNT(src)]); break;
	default: snprintf(buf, sizeof(buf), "%s #%zu/%d", deal_titles[x % BL_COUNT(deal_titles)], row, author); break;
	}
	return CRM_TEXT(arena_dup(&s->text, buf));
}

/* The fields of one row by one author into out[at..]; returns the next index. */
static size_t fill_row(synth *s, crm_change *out, unsigned char *slot, size_t at, size_t row, int author)
{
	int t = (int)(row % 2);
	for (size_t k = 0; k < table_ncols[t]; k++, at++) {
		uint64_t ha, hb;
		bench_rng vr;
		pair_clocks(s, row, k, &ha, &hb);
		bench_rng_for(&vr, s->seed ^ (author ? 0xb0b : 0xa1a), (uint64_t)row * 16 + k);
		crm_change *c = &out[at];
		c->table = table_names[t];
		c->row_id = s->ids[row];
		c->col = table_cols[t][k].col;
		c->v = synth_value(s, table_cols[t][k].kind, row, author, &vr);
		c->hlc = author ? hb : ha;
		c->prev_hlc = author ? (ha < hb ? ha : 0) : (hb < ha ? hb : 0);
		slot[at] = (unsigned char)(t << 4 | (int)k);
		s->expect_won += author && hb > ha;
	}
	return at;
}

static void synth_make(synth *s, size_t rows, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
	s->seed = seed;
	uint64_t now = (uint64_t)time(NULL) * 1000u;
	s->base = CRM_HLC_FROM_MS(now - 86400000u);
	s->count = (rows + 1) / 2 * BL_COUNT(contact_cols) + rows / 2 * BL_COUNT(deal_cols);
	s->ids = bl_xcalloc(rows, sizeof(rid));
	s->pre = bl_xcalloc(s->count, sizeof(crm_change));
	s->mix = bl_xcalloc(s->count, sizeof(crm_change));
	s->pre_slot = bl_xcalloc(s->count, 1);
	s->mix_slot = bl_xcalloc(s->count, 1);
	size_t *perm = bl_xcalloc(rows, sizeof(size_t));
	bench_rng r;
	bench_rng_seed(&r, seed ^ 0x5e7);
	for (size_t i = 0; i < rows; i++) {
		bench_check(crm_uuid7(s->ids[i], now - 30 * 86400000u + i), "crm_uuid7");
		perm[i] = i;
	}
	for (size_t i = rows; i > 1; i--) {
		size_t j = (size_t)bench_rng_below(&r, i), t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0, at = 0; i < rows; i++)
		at = fill_row(s, s->pre, s->pre_slot, at, i, 0);
	for (size_t i = 0, at = 0; i < rows; i++)
		at = fill_row(s, s->mix, s->mix_slot, at, perm[i], 1);
	free(perm);
}

static void synth_free(synth *s)
{
	free(s->ids);
	free(s->pre);
	free(s->mix);
	free(s->pre_slot);
	free(s->mix_slot);
	arena_free(&s->text);
}

/* Index in s->pre of field k of row `row` (rows alternate 9 and 11 fields). */
static size_t pre_index(size_t row, size_t k)
{
	return row / 2 * (BL_COUNT(contact_cols) + BL_COUNT(deal_cols)) + (row % 2) * BL_COUNT(contact_cols) + k;
}

static int same_text(sqlite3_stmt *q, const crm_value *v)
{
	if (v->type == CRM_V_INT)
		return sqlite3_column_type(q, 0) == SQLITE_INTEGER && sqlite3_column_int64(q, 0) == v->i;
	const char *t = (const char *)sqlite3_column_text(q, 0);
	return t && strcmp(t, v->s) == 0;
}

/* A sample of B's fields hold the expected value: the later write's (lww), or
 * B's, the last delivered (plain SQLite keeps no clocks). */
static void verify_sample(sqlite3 *h, const synth *s, int lww, const char *variant)
{
	bench_rng r;
	bench_rng_seed(&r, s->seed ^ 0x7e5);
	for (int j = 0; j < 1000; j++) {
		size_t i = (size_t)bench_rng_below(&r, s->count), k = s->mix_slot[i] & 15u;
		const crm_change *c = &s->mix[i];
		size_t row = (size_t)((const rid *)(const void *)c->row_id - (const rid *)s->ids);
		const crm_change *want = lww && s->pre[pre_index(row, k)].hlc > c->hlc ? &s->pre[pre_index(row, k)] : c;
		char sql[128];
		sqlite3_stmt *q;
		snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM %s WHERE id = ?1", c->col, c->table);
		if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
			bench_die(sql);
		sqlite3_bind_text(q, 1, c->row_id, -1, SQLITE_STATIC);
		int ok = sqlite3_step(q) == SQLITE_ROW && same_text(q, &want->v);
		sqlite3_finalize(q);
		if (!ok) {
			fprintf(stderr, "bench: %s: %s.%s of %s does not hold the expected value\n", variant, c->table,
				c->col, c->row_id);
			exit(1);
		}
	}
}

static void verify_rows(sqlite3 *h, const synth *s, const char *variant)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(h, "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM deals)", -1, &q,
			       NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
		bench_die("count rows");
	int64_t contacts = sqlite3_column_int64(q, 0), deals = sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	if (contacts != (int64_t)((s->rows + 1) / 2) || deals != (int64_t)(s->rows / 2)) {
		fprintf(stderr, "bench: %s holds %lld contacts and %lld deals, expected %zu and %zu\n", variant,
			(long long)contacts, (long long)deals, (s->rows + 1) / 2, s->rows / 2);
		exit(1);
	}
}

/* ------------------------------------------------ synthetic merge: runs -- */

typedef enum svariant { SV_CRM, SV_PLAIN, SV_ROWS, SV_COUNT } svariant;
typedef enum spass { SP_NEW, SP_MIXED, SP_COUNT } spass;
static const char *const sv_name[SV_COUNT] = {"crm", "plain_sqlite", "plain_rows"};
static const char *const sp_name[SP_COUNT] = {"new", "mixed"};

typedef struct synth_results {
	size_t rounds;
	int cache_kib;          /* PRAGMA cache_size = -cache_kib on every connection; 0: SQLite's default */
	double wall[SV_COUNT][SP_COUNT][BL_MAX_ROUNDS], cpu[SV_COUNT][SP_COUNT][BL_MAX_ROUNDS];
	size_t won[SP_COUNT];
} synth_results;

static void record(synth_results *res, svariant v, spass p, size_t round, const bl_timing *t)
{
	res->wall[v][p][round] = t->wall;
	res->cpu[v][p][round] = t->cpu;
}

static void set_cache(sqlite3 *h, int kib)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
	if (kib > 0 && sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: %s: %s\n", sql, sqlite3_errmsg(h));
		exit(1);
	}
}

/* One transaction of crm_apply_changes over ch[0..n); returns the winners. */
static size_t crm_pass(crm_store *st, const crm_change *ch, size_t n, const char *author, bl_timing *t)
{
	size_t won = 0;
	crm_db *db = crm_store_db(st);
	bl_start(t);
	bench_check(crm_db_begin(db), "BEGIN");
	bench_check(crm_apply_changes(st, ch, n, author, &won), "crm_apply_changes");
	bench_check(crm_db_commit(db), "COMMIT");
	bl_stop(t);
	return won;
}

static void expect_won(size_t got, size_t want, const char *pass)
{
	if (got != want) {
		fprintf(stderr, "bench: crm, pass %s: %zu changes won, expected %zu\n", pass, got, want);
		exit(1);
	}
}

static void run_crm(synth_results *res, const synth *s, size_t round)
{
	bl_replica m;
	bl_timing t;
	bl_replica_create(&m, "log-merge");
	set_cache(crm_db_handle(crm_store_db(m.st)), res->cache_kib);
	res->won[SP_NEW] = crm_pass(m.st, s->pre, s->count, author_a, &t);
	record(res, SV_CRM, SP_NEW, round, &t);
	expect_won(res->won[SP_NEW], s->count, "new");
	res->won[SP_MIXED] = crm_pass(m.st, s->mix, s->count, author_b, &t);
	record(res, SV_CRM, SP_MIXED, round, &t);
	expect_won(res->won[SP_MIXED], s->expect_won, "mixed");
	verify_rows(crm_db_handle(crm_store_db(m.st)), s, "crm");
	verify_sample(crm_db_handle(crm_store_db(m.st)), s, 1, "crm");
	bl_replica_drop(&m);
}

typedef struct plain {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit;
	sqlite3_stmt *ins[2], *upd[2][16];    /* one field: [table], [table][column] */
	sqlite3_stmt *ins_row[2], *upd_row[2];   /* every field of a row: [table] */
} plain;

static sqlite3_stmt *plain_prepare(plain *p, const char *sql)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: plain SQLite: %s: %s\n", sql, sqlite3_errmsg(p->db));
		exit(1);
	}
	return q;
}

/* INSERT or UPDATE of every synthetic column of table t, id as ?1. */
static sqlite3_stmt *plain_row_stmt(plain *p, int t, int insert)
{
	char sql[1024], vals[256];
	size_t off = 0, voff = 0;
	for (size_t k = 0; k < table_ncols[t]; k++) {
		const char *col = table_cols[t][k].col;
		if (insert) {
			off += (size_t)snprintf(sql + off, sizeof(sql) - off, ", %s", col);
			voff += (size_t)snprintf(vals + voff, sizeof(vals) - voff, ", ?%zu", k + 2);
		} else {
			off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s%s = ?%zu", k ? ", " : "", col, k + 2);
		}
	}
	char full[1400];
	if (insert)
		snprintf(full, sizeof(full), "INSERT INTO %s(id%s) VALUES (?1%s)", table_names[t], sql, vals);
	else
		snprintf(full, sizeof(full), "UPDATE %s SET %s WHERE id = ?1", table_names[t], sql);
	return plain_prepare(p, full);
}

static void plain_open(plain *p, const char *dir, int cache_kib)
{
	char path[PATH_MAX + 16], sql[160];
	memset(p, 0, sizeof(*p));
	bench_path(path, sizeof(path), dir, "crm.db");
	if (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(p->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; "
			 "PRAGMA temp_store=MEMORY;", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: plain SQLite: cannot open %s: %s\n", path, sqlite3_errmsg(p->db));
		exit(1);
	}
	set_cache(p->db, cache_kib);
	p->begin = plain_prepare(p, "BEGIN");
	p->commit = plain_prepare(p, "COMMIT");
	for (int t = 0; t < 2; t++) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s(id, %s) VALUES (?1, ?2)", table_names[t], table_cols[t][0].col);
		p->ins[t] = plain_prepare(p, sql);
		for (size_t k = 0; k < table_ncols[t]; k++) {
			snprintf(sql, sizeof(sql), "UPDATE %s SET %s = ?2 WHERE id = ?1", table_names[t], table_cols[t][k].col);
			p->upd[t][k] = plain_prepare(p, sql);
		}
		p->ins_row[t] = plain_row_stmt(p, t, 1);
		p->upd_row[t] = plain_row_stmt(p, t, 0);
	}
}

static void plain_close(plain *p)
{
	sqlite3_finalize(p->begin);
	sqlite3_finalize(p->commit);
	for (int t = 0; t < 2; t++) {
		sqlite3_finalize(p->ins[t]);
		for (size_t k = 0; k < table_ncols[t]; k++)
			sqlite3_finalize(p->upd[t][k]);
		sqlite3_finalize(p->ins_row[t]);
		sqlite3_finalize(p->upd_row[t]);
	}
	sqlite3_close(p->db);
}

static void plain_step(plain *p, sqlite3_stmt *q, int one_row)
{
	int rc = sqlite3_step(q);
	if ((rc != SQLITE_DONE && rc != SQLITE_ROW) || (one_row && sqlite3_changes(p->db) != 1)) {
		fprintf(stderr, "bench: plain SQLite: %s: %s\n", sqlite3_sql(q), sqlite3_errmsg(p->db));
		exit(1);
	}
	sqlite3_reset(q);
}

/* One transaction writing every value: one statement per field (INSERT for a
 * new row's first field, else UPDATE), or per row (by_row: all its fields,
 * which lie together in column order). */
static void plain_pass(plain *p, const crm_change *ch, const unsigned char *slot, size_t n, int inserts,
		       int by_row, bl_timing *t)
{
	bl_start(t);
	plain_step(p, p->begin, 0);
	for (size_t i = 0; i < n;) {
		unsigned tb = slot[i] >> 4, k = slot[i] & 15u;
		size_t fields = by_row ? table_ncols[tb] : 1;
		sqlite3_stmt *q = by_row ? (inserts ? p->ins_row[tb] : p->upd_row[tb])
					 : inserts && k == 0 ? p->ins[tb] : p->upd[tb][k];
		sqlite3_bind_text(q, 1, ch[i].row_id, -1, SQLITE_STATIC);
		for (size_t j = 0; j < fields; j++)
			crm_bind_value(q, (int)j + 2, &ch[i + j].v);
		plain_step(p, q, 1);
		i += fields;
	}
	plain_step(p, p->commit, 0);
	bl_stop(t);
}

static void run_plain(synth_results *res, const synth *s, size_t round, svariant v)
{
	bl_replica r;
	plain p;
	bl_timing t;
	bl_replica_create(&r, v == SV_ROWS ? "log-rows" : "log-plain");
	crm_store_free(r.st);
	r.st = NULL;
	plain_open(&p, r.dir, res->cache_kib);
	plain_pass(&p, s->pre, s->pre_slot, s->count, 1, v == SV_ROWS, &t);
	record(res, v, SP_NEW, round, &t);
	plain_pass(&p, s->mix, s->mix_slot, s->count, 0, v == SV_ROWS, &t);
	record(res, v, SP_MIXED, round, &t);
	verify_rows(p.db, s, sv_name[v]);
	verify_sample(p.db, s, 0, sv_name[v]);
	plain_close(&p);
	bl_replica_drop(&r);
}

static void run_synth(synth_results *res, const synth *s, size_t rounds, int cache_kib)
{
	memset(res, 0, sizeof(*res));
	res->rounds = rounds;
	res->cache_kib = cache_kib;
	for (size_t round = 0; round < rounds; round++)
		for (size_t k = 0; k < SV_COUNT; k++) {
			svariant v = (svariant)((round + k) % SV_COUNT);
			if (v == SV_CRM)
				run_crm(res, s, round);
			else
				run_plain(res, s, round, v);
			for (int p = 0; p < SP_COUNT; p++)
				printf("SAMPLE bench=log set=synthetic variant=%s pass=%s round=%zu seconds=%.3f cpu_s=%.3f\n",
				       sv_name[v], sp_name[p], round + 1, res->wall[v][p][round], res->cpu[v][p][round]);
			fflush(stdout);
		}
}

/* Median over rounds of the per-round ratio of variant num to den. */
static double ratio(const double (*x)[SP_COUNT][BL_MAX_ROUNDS], svariant num, svariant den, spass p, size_t rounds)
{
	double q[BL_MAX_ROUNDS];
	for (size_t k = 0; k < rounds; k++)
		q[k] = x[num][p][k] / x[den][p][k];
	return bench_median(q, rounds);
}

static void print_synth(const synth_results *res, const synth *s)
{
	double n = (double)s->count;
	for (int p = 0; p < SP_COUNT; p++) {
		for (int v = 0; v < SV_COUNT; v++) {
			double wall = bench_median(res->wall[v][p], res->rounds), cpu = bench_median(res->cpu[v][p], res->rounds);
			printf("RESULT bench=log set=synthetic pass=%s variant=%s rows=%zu field_changes=%zu won=%zu rounds=%zu "
			       "cache_kib=%d seconds=%.3f cpu_s=%.3f changes_per_s=%.0f changes_per_cpu_s=%.0f "
			       "us_per_change=%.3f\n", sp_name[p], sv_name[v], s->rows, s->count,
			       v == SV_CRM ? res->won[p] : s->count, res->rounds, res->cache_kib, wall, cpu, bl_per_s(n, wall),
			       bl_per_s(n, cpu), 1e6 * wall / n);
		}
		for (int d = SV_PLAIN; d < SV_COUNT; d++)
			printf("RATIO bench=log set=synthetic pass=%s num=crm den=%s ratio=%.3f cpu_ratio=%.3f\n", sp_name[p],
			       sv_name[d], ratio(res->wall, SV_CRM, (svariant)d, (spass)p, res->rounds),
			       ratio(res->cpu, SV_CRM, (svariant)d, (spass)p, res->rounds));
	}
	fflush(stdout);
}

/* One more crm round with the mixed pass traced: where its time goes in SQL. */
static void profile_mixed(const synth *s, int cache_kib)
{
	bl_replica m;
	bl_timing t;
	bl_replica_create(&m, "log-profile");
	set_cache(crm_db_handle(crm_store_db(m.st)), cache_kib);
	crm_pass(m.st, s->pre, s->count, author_a, &t);
	sqlite3 *h = crm_db_handle(crm_store_db(m.st));
	bench_prof *pr = bench_prof_start(h);
	crm_pass(m.st, s->mix, s->count, author_b, &t);
	bench_prof_stop(pr, h);
	size_t count;
	const bench_prof_stmt *e = bench_prof_sorted(pr, &count);
	uint64_t in_sql = bench_prof_top_ns(pr), total = (uint64_t)(t.wall * 1e9);
	double per = 1e3 * (double)s->count;
	printf("PROFILE bench=log pass=mixed changes=%zu us_per_change=%.3f sql_us=%.3f other_us=%.3f\n", s->count,
	       (double)total / per, (double)in_sql / per, (double)(total > in_sql ? total - in_sql : 0) / per);
	for (size_t i = 0; i < count; i++) {
		printf("PROFSTMT bench=log pass=mixed nested=%d us_per_change=%.3f share=%.1f calls_per_change=%.3f sql=",
		       e[i].nested, (double)e[i].ns / per, 100.0 * (double)e[i].ns / (double)total,
		       (double)e[i].calls / (double)s->count);
		bench_print_sql(stdout, e[i].sql);
		putchar('\n');
	}
	fflush(stdout);
	bench_prof_free(pr);
	bl_replica_drop(&m);
}


static void print_table(const synth_results *res, const synth *s)
{
	printf("\n  synthetic merge: %zu field changes over %zu rows, median of %zu rounds\n", s->count, s->rows,
	       res->rounds);
	printf("  %-6s %-13s %12s %14s %10s\n", "pass", "variant", "changes/s", "changes/cpu-s", "µs/change");
	for (int p = 0; p < SP_COUNT; p++)
		for (int v = 0; v < SV_COUNT; v++) {
			double wall = bench_median(res->wall[v][p], res->rounds), cpu = bench_median(res->cpu[v][p], res->rounds);
			printf("  %-6s %-13s %12.0f %14.0f %10.2f\n", sp_name[p], sv_name[v], bl_per_s((double)s->count, wall),
			       bl_per_s((double)s->count, cpu), 1e6 * wall / (double)s->count);
		}
	printf("\n");
	fflush(stdout);
}

void bl_merge_run(const bl_merge_opts *o)
{
	static synth s;
	static synth_results res;
	synth_make(&s, o->rows, o->seed);
	run_synth(&res, &s, o->rounds, o->cache_kib);
	print_synth(&res, &s);
	if (o->profile)
		profile_mixed(&s, o->cache_kib);
	print_table(&res, &s);
	synth_free(&s);
}
