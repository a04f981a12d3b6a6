/*
 * bench_log.c — the signed change log and the merge rules against the
 * budgets of DESIGN.md §12: sealing throughput, bytes per field change of an
 * exchange file (≤ 40), and merge throughput on one core (≥ 100,000 field
 * changes/s), the merge compared with the same values written by plain
 * SQLite.
 *
 * Method
 *  1. Realistic set.  Replica A (crm_store_create) exports its genesis (its
 *     branch and user rows), so the sets below hold only user actions.  Then
 *     it makes N actions through the entity layer, in a cycle of ten: three
 *     contacts with an e-mail and a phone (every other one at a company), a
 *     company with a phone, two deals, two deal moves (stage history), a
 *     contact update (title, next contact) and a deal update (amount,
 *     probability).  Then:
 *       seal    crm_seal — coalesce, encode, SHA-256, SSHSIG, pack — timed;
 *               the pack bytes it added to log.git/objects/pack, and the
 *               loose objects left (there should be none);
 *       export  crm_export_changes of the set to a file: bytes per field
 *               change in the file (after git's zlib), and of the payloads;
 *       import  replica B, which trusts A's key and holds A's genesis, runs
 *               crm_import_changes on the file — timed, wall and CPU;
 *       merge   replica C, started like B, applies the same changes (the
 *               batches read back from the log and decoded beforehand) with
 *               crm_apply_changes per batch in one transaction, without verification —
 *               timed; import − merge is everything else the import does
 *               (envelope, pack indexing, verification, bookkeeping), whose
 *               parts are then timed one by one.
 *     Import and merge run --reps times on fresh B and C (medians).  A
 *     day-of-work set (actions until ≈ --day field changes are written)
 *     repeats this on fresh replicas, at least 5 times.  A, B and C must end
 *     with the same rows, and the import and the merge must let the same
 *     changes win.
 *  2. Synthetic merge (bench_log_merge.c): crm_apply_changes over 10 R field
 *     changes of R rows by two authors, half of them winning, in one
 *     transaction, against the same values written by plain SQLite.
 *  3. Output: INFO, SAMPLE, RESULT and RATIO lines (key=value) for
 *     tools/bench/run.sh, then readable summaries.  --profile adds
 *     PROFILE/PROFSTMT lines: SQLite's per-statement time over one more
 *     traced synthetic pass (tracing costs time: not for the figures).
 */
#include "bench_log.h"
#include "bench_names.h"
#include "bench_util.h"
#include "changelog.h"
#include "codec.h"
#include "entity.h"
#include "error.h"
#include "exchange.h"
#include "merge.h"
#include "seal.h"
#include "store.h"
#include "write.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_REPS 15

typedef char rid[CRM_ID_LEN + 1];

typedef struct options {
	size_t n;            /* realistic set: user actions */
	size_t day;          /* day-of-work set: field changes, about */
	size_t reps;         /* imports and merges of the realistic set (medians) */
	size_t rows;         /* synthetic merge: rows (10 field changes each on average) */
	size_t rounds;       /* synthetic merge rounds */
	uint64_t seed;
	int profile;
	int sets, merge;     /* which parts run (--part) */
	int cache_kib;       /* synthetic merge: PRAGMA cache_size (--cache-mib), 0 = default */
} options;

static const char *const titles[] = {
	"Sales manager", "Директор", "Главный бухгалтер", "CTO", "Procurement lead",
	"Менеджер по закупкам", "Office manager", "Инженер", "Head of logistics", "Юрист",
};
static const char *const industries[] = {
	"Retail", "Логистика", "Manufacturing", "Строительство", "IT", "Агро", "Finance", "Медицина",
};
static const char *const company_kinds[] = {"Group", "Trading", "и партнёры", "Systems", "Логистик"};
static const char *const deal_titles[] = {
	"Поставка оборудования", "Annual license", "Сервисный контракт", "Pilot project", "Расширение склада",
};
static const char *const stage_names[] = {"New", "Qualified", "Proposal", "Negotiation", "Won", "Lost"};

void *bl_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	return p;
}

/* ---------------------------------------------------------------- timing -- */

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bl_start(bl_timing *t)
{
	t->cpu0 = cpu_ns();
	t->wall0 = bench_now_ns();
}

void bl_stop(bl_timing *t)
{
	t->wall = (double)(bench_now_ns() - t->wall0) / 1e9;
	t->cpu = (double)(cpu_ns() - t->cpu0) / 1e9;
}

double bl_per_s(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

/* -------------------------------------------------------------- replicas -- */

static void scratch(char *out, size_t cap, const char *what)
{
	if (bench_tmpdir(out, cap, what) < 0) {
		perror("bench: cannot create a scratch directory");
		exit(1);
	}
}

void bl_replica_create(bl_replica *r, const char *what)
{
	scratch(r->dir, sizeof(r->dir), what);
	crm_init_opts o = {.name = what, .branch = "MSK", .user = what};
	bench_check(crm_store_create(&r->st, r->dir, &o), "crm_store_create");
}

void bl_replica_drop(bl_replica *r)
{
	crm_store_free(r->st);
	r->st = NULL;
	bench_rmtree(r->dir);
}

/* dst trusts src's node key, as after 'crm trust add'. */
static void trust(bl_replica *dst, const bl_replica *src)
{
	uint8_t pub[CRM_PUBKEY_LEN];
	char *line = NULL, node[33];
	crm_key_public(crm_store_key(src->st), pub);
	bench_check(crm_pubkey_to_openssh(&line, pub, "bench"), "crm_pubkey_to_openssh");
	bench_check(crm_trust_add(dst->st, line, "source", "bench", node), "crm_trust_add");
	free(line);
}

/* First integer of a one-row query on a replica (reads only). */
static int64_t query_int(crm_store *st, const char *sql)
{
	int64_t v = 0;
	int err = crm_db_get_int(crm_store_db(st), &v, sql, NULL);
	if (err == CRM_ENOTFOUND)
		return 0;
	bench_check(err, sql);
	return v;
}

/* Regular files directly in path: their count, bytes and disk blocks. */
typedef struct dirsize {
	uint64_t bytes, disk;
	size_t files;
} dirsize;

static dirsize dir_size(const char *path)
{
	dirsize s = {0, 0, 0};
	char p[PATH_MAX + 512];
	struct stat sb;
	struct dirent *e;
	DIR *d = opendir(path);
	while (d && (e = readdir(d))) {
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
			s.bytes += (uint64_t)sb.st_size;
			s.disk += (uint64_t)sb.st_blocks * 512u;
			s.files++;
		}
	}
	if (d)
		closedir(d);
	return s;
}

/* Loose objects of a replica's log: files in log.git/objects/XX/. */
static size_t loose_objects(const bl_replica *r)
{
	char objs[PATH_MAX + 32], sub[PATH_MAX + 512];
	size_t n = 0;
	struct dirent *e;
	snprintf(objs, sizeof(objs), "%s/log.git/objects", r->dir);
	DIR *d = opendir(objs);
	while (d && (e = readdir(d))) {
		if (strlen(e->d_name) != 2 || strspn(e->d_name, "0123456789abcdef") != 2)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", objs, e->d_name);
		n += dir_size(sub).files;
	}
	if (d)
		closedir(d);
	return n;
}

static dirsize pack_size(const bl_replica *r)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/log.git/objects/pack", r->dir);
	return dir_size(p);
}

/* ------------------------------------------------------ realistic workload -- */

typedef struct workload {
	crm_store *st;
	uint64_t seed;
	bench_rng rng;
	rid *contacts, *companies, *deals;
	unsigned char *stage;        /* per deal: index into stage_names */
	size_t n_contacts, n_companies, n_deals;
} workload;

static void wl_init(workload *w, crm_store *st, uint64_t seed, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->st = st;
	w->seed = seed;
	bench_rng_seed(&w->rng, seed ^ 0x10c);
	w->contacts = bl_xcalloc(cap, sizeof(rid));
	w->companies = bl_xcalloc(cap, sizeof(rid));
	w->deals = bl_xcalloc(cap, sizeof(rid));
	w->stage = bl_xcalloc(cap, 1);
}

static void wl_dispose(workload *w)
{
	free(w->contacts);
	free(w->companies);
	free(w->deals);
	free(w->stage);
}

static const char *pick(workload *w, rid *ids, size_t n)
{
	return ids[bench_rng_below(&w->rng, n)];
}

/* A contact with an e-mail (made unique by i) and a phone; every other one at a company. */
static void wl_contact(workload *w, size_t i)
{
	bench_person p;
	char email[320];
	bench_person_make(&p, w->seed, i);
	const char *at = strchr(p.email, '@');
	if (!at)
		at = p.email + strlen(p.email);
	snprintf(email, sizeof(email), "%.*s.%zu%s", (int)(at - p.email), p.email, i, at);
	crm_kv kv[6] = {
		{"first", p.first}, {"last", p.last}, {"title", titles[i % BL_COUNT(titles)]},
		{"email", email}, {"phone", p.phone}, {"company", NULL},
	};
	size_t n = 5;
	if (w->n_companies && i % 2)
		kv[n++].value = pick(w, w->companies, w->n_companies);
	bench_check(crm_entity_add(w->st, "contact", kv, n, w->contacts[w->n_contacts++]),
		    "crm_entity_add (contact)");
}

static void wl_company(workload *w, size_t i)
{
	bench_person p;
	char name[160], site[96];
	bench_person_make(&p, w->seed ^ 0xc0, i);
	snprintf(name, sizeof(name), "%s %s", p.last, company_kinds[i % BL_COUNT(company_kinds)]);
	snprintf(site, sizeof(site), "www.company-%zu.example.com", i);
	crm_kv kv[] = {
		{"name", name}, {"industry", industries[i % BL_COUNT(industries)]}, {"website", site},
		{"phone", p.phone},
	};
	bench_check(crm_entity_add(w->st, "company", kv, BL_COUNT(kv), w->companies[w->n_companies++]),
		    "crm_entity_add (company)");
}

static void wl_deal(workload *w, size_t i)
{
	char title[160], amount[32];
	snprintf(title, sizeof(title), "%s #%zu", deal_titles[i % BL_COUNT(deal_titles)], i);
	snprintf(amount, sizeof(amount), "%llu", (unsigned long long)(10000 + bench_rng_below(&w->rng, 5000000)));
	crm_kv kv[] = {
		{"title", title}, {"company", pick(w, w->companies, w->n_companies)},
		{"contact", pick(w, w->contacts, w->n_contacts)}, {"amount", amount},
	};
	bench_check(crm_entity_add(w->st, "deal", kv, BL_COUNT(kv), w->deals[w->n_deals]), "crm_entity_add (deal)");
	w->stage[w->n_deals++] = 0;
}

/* A deal moves on: the next open stage, won or lost from negotiation, reopened after. */
static void wl_move(workload *w)
{
	size_t j = (size_t)bench_rng_below(&w->rng, w->n_deals);
	unsigned s = w->stage[j];
	unsigned to = s < 3 ? s + 1 : s == 3 ? 4 + (unsigned)bench_rng_below(&w->rng, 2) : 1;
	const char *reason = to == 5 ? "Цена выше, чем у конкурента" : NULL;
	bench_check(crm_deal_move(w->st, w->deals[j], stage_names[to], reason), "crm_deal_move");
	w->stage[j] = (unsigned char)to;
}

static void wl_contact_set(workload *w)
{
	size_t k = (size_t)bench_rng_below(&w->rng, 1000);
	char next[16];
	snprintf(next, sizeof(next), "2027-%02zu-%02zu", 1 + k % 12, 1 + k % 28);
	crm_kv kv[] = {{"title", titles[k % BL_COUNT(titles)]}, {"next-contact", next}};
	bench_check(crm_entity_set(w->st, "contact", pick(w, w->contacts, w->n_contacts), kv, BL_COUNT(kv)),
		    "crm_entity_set (contact)");
}

static void wl_deal_set(workload *w)
{
	char amount[32], pct[8];
	snprintf(amount, sizeof(amount), "%llu", (unsigned long long)(10000 + bench_rng_below(&w->rng, 5000000)));
	snprintf(pct, sizeof(pct), "%u", 10 + 10 * (unsigned)bench_rng_below(&w->rng, 9));
	crm_kv kv[] = {{"amount", amount}, {"probability", pct}};
	bench_check(crm_entity_set(w->st, "deal", pick(w, w->deals, w->n_deals), kv, BL_COUNT(kv)),
		    "crm_entity_set (deal)");
}

/* User action i of the cycle of ten. */
static void wl_action(workload *w, size_t i)
{
	switch (i % 10) {
	case 0: case 1: case 2: wl_contact(w, i); break;
	case 3: wl_company(w, i); break;
	case 4: case 5: wl_deal(w, i); break;
	case 6: case 7: wl_move(w); break;
	case 8: wl_contact_set(w); break;
	default: wl_deal_set(w); break;
	}
}

/* ----------------------------------------------------- the realistic sets -- */

typedef struct set_result {
	const char *name;
	size_t actions;
	int64_t written;            /* field changes written (pending rows) */
	bl_timing edit, seal, export, import, merge;
	size_t batches, loose;
	dirsize pack;               /* what the seal added to objects/pack */
	size_t file_bytes;
	int64_t payload_bytes;      /* msgpack payloads of the set, before zlib */
	crm_apply_report rep;       /* of the import */
	size_t merge_changes, merge_won;
	size_t reps;                /* import and merge repetitions (medians) */
	double verify_s;            /* import − merge */
	double envelope_s, index_s, read_s, sha_s, sig_s, decode_s, refresh_s;
} set_result;

/* Decoded batches of a set, read back from a log. */
typedef struct batches {
	crm_batch **v;
	size_t count;
} batches;

/* The oids of A's batches exported after `cursor`, oldest first (caller frees). */
static char **set_oids(crm_store *a, uint64_t cursor, size_t *count)
{
	sqlite3 *h = crm_db_handle(crm_store_db(a));
	sqlite3_stmt *q;
	size_t cap = (size_t)query_int(a, "SELECT count(*) FROM crm_applied");
	char **oids = bl_xcalloc(cap, sizeof(char *));
	*count = 0;
	if (sqlite3_prepare_v2(h, "SELECT oid FROM crm_applied WHERE lseq > ?1 ORDER BY lseq", -1, &q, NULL))
		bench_die("SELECT oid");
	sqlite3_bind_int64(q, 1, (int64_t)cursor);
	while (sqlite3_step(q) == SQLITE_ROW && *count < cap)
		oids[(*count)++] = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return oids;
}

/* Read every batch back from log (bl_timing each step of verification), decode it. */
static void read_batches(set_result *r, crm_log *log, char **oids, size_t count, batches *out)
{
	uint8_t sha[CRM_SHA256_LEN], signer[CRM_PUBKEY_LEN];
	out->v = bl_xcalloc(count, sizeof(crm_batch *));
	out->count = count;
	for (size_t i = 0; i < count; i++) {
		crm_log_entry e;
		uint64_t t0 = bench_now_ns();
		bench_check(crm_log_read(log, &e, oids[i]), "crm_log_read");
		uint64_t t1 = bench_now_ns();
		crm_sha256(sha, e.payload, e.payload_len);
		uint64_t t2 = bench_now_ns();
		bench_check(crm_sshsig_verify(signer, e.signature, "git", e.signed_data, e.signed_len), "crm_sshsig_verify");
		uint64_t t3 = bench_now_ns();
		bench_check(crm_batch_decode(&out->v[i], e.payload, e.payload_len), "crm_batch_decode");
		uint64_t t4 = bench_now_ns();
		r->read_s += (double)(t1 - t0) / 1e9;
		r->sha_s += (double)(t2 - t1) / 1e9;
		r->sig_s += (double)(t3 - t2) / 1e9;
		r->decode_s += (double)(t4 - t3) / 1e9;
		crm_log_entry_dispose(&e);
	}
}

static void batches_free(batches *b)
{
	for (size_t i = 0; i < b->count; i++)
		crm_batch_free(b->v[i]);
	free(b->v);
}

/* The envelope decode and pack indexing of the import, timed on a fresh log. */
static void time_envelope(set_result *r, const char *file, const char *tmp)
{
	FILE *f = fopen(file, "rb");
	uint8_t *data = bl_xcalloc(r->file_bytes, 1);
	if (!f || fread(data, 1, r->file_bytes, f) != r->file_bytes) {
		fprintf(stderr, "bench: cannot read back %s\n", file);
		exit(1);
	}
	fclose(f);
	crm_envelope *env = NULL;
	crm_log *log = NULL;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/index.git", tmp);
	uint64_t t0 = bench_now_ns();
	bench_check(crm_envelope_decode(&env, data, r->file_bytes), "crm_envelope_decode");
	uint64_t t1 = bench_now_ns();
	bench_check(crm_log_open(&log, path, 1), "crm_log_open");
	uint64_t t2 = bench_now_ns();
	bench_check(crm_log_import_pack(log, env->pack, env->pack_len), "crm_log_import_pack");
	uint64_t t3 = bench_now_ns();
	r->envelope_s = (double)(t1 - t0) / 1e9;
	r->index_s = (double)(t3 - t2) / 1e9;
	crm_log_free(log);
	crm_envelope_free(env);
	free(data);
}

/* Replica C: the same decoded changes through crm_apply_changes in one
 * transaction, its COMMIT included; the duplicate refresh that the import also
 * runs before its commit is timed apart. */
static void merge_only(set_result *r, bl_replica *c, const batches *b, const char *author, bl_timing *t)
{
	crm_db *db = crm_store_db(c->st);
	bl_timing commit;
	r->merge_changes = r->merge_won = 0;
	bl_start(t);
	bench_check(crm_db_begin(db), "BEGIN");
	for (size_t i = 0; i < b->count; i++) {
		size_t won;
		bench_check(crm_apply_changes(c->st, b->v[i]->changes, b->v[i]->count, author, &won),
			    "crm_apply_changes");
		r->merge_won += won;
		r->merge_changes += b->v[i]->count;
	}
	bl_stop(t);
	uint64_t t0 = bench_now_ns();
	bench_check(crm_merge_refresh(c->st), "crm_merge_refresh");
	r->refresh_s = (double)(bench_now_ns() - t0) / 1e9;
	bl_start(&commit);
	bench_check(crm_db_commit(db), "COMMIT");
	bl_stop(&commit);
	t->wall += commit.wall;
	t->cpu += commit.cpu;
}

/* A fresh replica that trusts A and holds A's genesis, like any receiver. */
static void receiver(bl_replica *r, const char *what, const bl_replica *a, const char *genesis)
{
	crm_apply_report rep;
	bl_replica_create(r, what);
	trust(r, a);
	bench_check(crm_import_changes(r->st, genesis, &rep), "crm_import_changes (genesis)");
}

/* A, B and C hold the same records: a fast wrong benchmark is worthless. */
static void same_rows(const set_result *r, bl_replica *const *reps, size_t n)
{
	static const char *const tables[] = {"contacts", "companies", "deals", "channels", "stage_history"};
	char sql[96];
	for (size_t t = 0; t < BL_COUNT(tables); t++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[t]);
		int64_t want = query_int(reps[0]->st, sql);
		for (size_t i = 1; i < n; i++)
			if (query_int(reps[i]->st, sql) != want) {
				fprintf(stderr, "bench: set %s: replica %zu does not hold the %s of A\n", r->name, i, tables[t]);
				exit(1);
			}
	}
	if (r->rep.changes != r->merge_changes || r->rep.won != r->merge_won) {
		fprintf(stderr, "bench: set %s: import applied %zu changes (%zu won), merge %zu (%zu won)\n",
			r->name, r->rep.changes, r->rep.won, r->merge_changes, r->merge_won);
		exit(1);
	}
}

/* A's actions (n, or until `until` field changes are pending), then the seal. */
static void make_and_seal(set_result *r, bl_replica *a, const options *o, size_t n, size_t until)
{
	workload w;
	size_t cap = until ? until : n;
	wl_init(&w, a->st, o->seed, cap);
	bl_start(&r->edit);
	for (r->actions = 0; until ? r->written < (int64_t)until && r->actions < cap : r->actions < n; r->actions++) {
		wl_action(&w, r->actions);
		if (until)
			bench_check(crm_pending_count(a->st, &r->written), "crm_pending_count");
	}
	bl_stop(&r->edit);
	wl_dispose(&w);
	bench_check(crm_pending_count(a->st, &r->written), "crm_pending_count");
	dirsize before = pack_size(a);
	bl_start(&r->seal);
	bench_check(crm_seal(a->st, &r->batches), "crm_seal");
	bl_stop(&r->seal);
	dirsize after = pack_size(a);
	r->pack = (dirsize){after.bytes - before.bytes, after.disk - before.disk, after.files - before.files};
	r->loose = loose_objects(a);
}

/* One repetition: the import into a fresh B and the merge alone into a fresh
 * C, both checked against A; their times go to t[.][k] (import wall, cpu,
 * merge wall, cpu, and import − merge wall of this repetition). */
static void receive_once(set_result *r, bl_replica *a, const char *files, const batches *bt, size_t k,
			 double (*t)[MAX_REPS])
{
	bl_replica b, c;
	bl_timing imp, mer;
	char genesis[PATH_MAX + 32], file[PATH_MAX + 32];
	snprintf(genesis, sizeof(genesis), "%s/genesis.changes", files);
	snprintf(file, sizeof(file), "%s/set.changes", files);
	receiver(&b, "log-b", a, genesis);
	bl_start(&imp);
	bench_check(crm_import_changes(b.st, file, &r->rep), "crm_import_changes");
	bl_stop(&imp);
	receiver(&c, "log-c", a, genesis);
	merge_only(r, &c, bt, crm_store_node_id(a->st), &mer);
	bl_replica *all[] = {a, &b, &c};
	same_rows(r, all, BL_COUNT(all));
	t[0][k] = imp.wall;
	t[1][k] = imp.cpu;
	t[2][k] = mer.wall;
	t[3][k] = mer.cpu;
	t[4][k] = imp.wall - mer.wall;
	bl_replica_drop(&b);
	bl_replica_drop(&c);
}

/* Import and merge alone, r->reps times (medians; the difference is the median
 * of each repetition's difference), and the parts of the difference. */
static void receive(set_result *r, bl_replica *a, const char *files, uint64_t cursor)
{
	double t[5][MAX_REPS];
	size_t n_oids;
	char **oids = set_oids(a->st, cursor, &n_oids), file[PATH_MAX + 32];
	crm_log *log;
	batches bt;
	bench_check(crm_store_log(a->st, &log), "crm_store_log");
	read_batches(r, log, oids, n_oids, &bt);
	for (size_t k = 0; k < r->reps; k++)
		receive_once(r, a, files, &bt, k, t);
	r->import.wall = bench_median(t[0], r->reps);
	r->import.cpu = bench_median(t[1], r->reps);
	r->merge.wall = bench_median(t[2], r->reps);
	r->merge.cpu = bench_median(t[3], r->reps);
	r->verify_s = bench_median(t[4], r->reps);
	snprintf(file, sizeof(file), "%s/set.changes", files);
	time_envelope(r, file, files);
	batches_free(&bt);
	for (size_t i = 0; i < n_oids; i++)
		free(oids[i]);
	free(oids);
}

static void run_set(set_result *r, const options *o, const char *name, size_t n, size_t until, size_t reps)
{
	bl_replica a;
	crm_export_report rep;
	char files[PATH_MAX], genesis[PATH_MAX + 32], file[PATH_MAX + 32];
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->reps = reps;
	scratch(files, sizeof(files), "log-files");
	snprintf(genesis, sizeof(genesis), "%s/genesis.changes", files);
	snprintf(file, sizeof(file), "%s/set.changes", files);
	bl_replica_create(&a, "log-a");
	bench_check(crm_export_changes(a.st, genesis, 0, &rep), "crm_export_changes (genesis)");
	uint64_t cursor = rep.cursor;
	make_and_seal(r, &a, o, n, until);
	bl_start(&r->export);
	bench_check(crm_export_changes(a.st, file, cursor, &rep), "crm_export_changes");
	bl_stop(&r->export);
	r->file_bytes = rep.bytes;
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT sum(size) FROM crm_applied WHERE lseq > %llu", (unsigned long long)cursor);
	r->payload_bytes = query_int(a.st, sql);
	receive(r, &a, files, cursor);
	bl_replica_drop(&a);
	bench_rmtree(files);
}

static void print_set(const set_result *r)
{
	double fc = (double)r->rep.changes, w = (double)r->written;
	double verify = r->verify_s;
	printf("RESULT bench=log set=%s phase=edit actions=%zu written=%lld seconds=%.3f actions_per_s=%.0f "
	       "changes_per_s=%.0f\n", r->name, r->actions, (long long)r->written, r->edit.wall,
	       bl_per_s((double)r->actions, r->edit.wall), bl_per_s(w, r->edit.wall));
	printf("RESULT bench=log set=%s phase=seal written=%lld batches=%zu seconds=%.3f cpu_s=%.3f changes_per_s=%.0f "
	       "pack_bytes=%llu pack_disk_bytes=%llu pack_files=%zu loose_objects=%zu\n", r->name, (long long)r->written,
	       r->batches, r->seal.wall, r->seal.cpu, bl_per_s(w, r->seal.wall), (unsigned long long)r->pack.bytes,
	       (unsigned long long)r->pack.disk, r->pack.files, r->loose);
	printf("RESULT bench=log set=%s phase=export batches=%zu field_changes=%zu file_bytes=%zu bytes_per_change=%.2f "
	       "payload_bytes=%lld payload_bytes_per_change=%.2f bytes_per_written=%.2f seconds=%.3f cpu_s=%.3f\n", r->name,
	       r->rep.applied, r->rep.changes, r->file_bytes, bl_per_s((double)r->file_bytes, fc),
	       (long long)r->payload_bytes, bl_per_s((double)r->payload_bytes, fc), bl_per_s((double)r->file_bytes, w),
	       r->export.wall, r->export.cpu);
	printf("RESULT bench=log set=%s phase=import batches=%zu field_changes=%zu won=%zu seconds=%.3f cpu_s=%.3f "
	       "changes_per_s=%.0f changes_per_cpu_s=%.0f reps=%zu\n", r->name, r->rep.applied, r->rep.changes, r->rep.won,
	       r->import.wall, r->import.cpu, bl_per_s(fc, r->import.wall), bl_per_s(fc, r->import.cpu), r->reps);
	printf("RESULT bench=log set=%s phase=merge field_changes=%zu won=%zu seconds=%.3f cpu_s=%.3f changes_per_s=%.0f "
	       "changes_per_cpu_s=%.0f reps=%zu\n", r->name, r->merge_changes, r->merge_won, r->merge.wall, r->merge.cpu,
	       bl_per_s((double)r->merge_changes, r->merge.wall), bl_per_s((double)r->merge_changes, r->merge.cpu), r->reps);
	printf("RESULT bench=log set=%s phase=verify seconds=%.3f share=%.1f\n", r->name, verify,
	       r->import.wall > 0 ? 100 * verify / r->import.wall : 0);
	printf("RESULT bench=log set=%s phase=parts envelope_s=%.3f pack_index_s=%.3f read_s=%.3f sha256_s=%.3f "
	       "signature_s=%.3f decode_s=%.3f refresh_s=%.3f\n", r->name, r->envelope_s, r->index_s, r->read_s,
	       r->sha_s, r->sig_s, r->decode_s, r->refresh_s);
	fflush(stdout);
}

/* ------------------------------------------------------------------ main -- */

static void summary(const set_result *sets, size_t n_sets)
{
	printf("\n  %-10s %9s %9s %8s %10s %12s %12s %12s %9s\n", "set", "written", "in file", "batches",
	       "B/change", "seal ch/s", "import ch/s", "merge ch/s", "verify %");
	for (size_t i = 0; i < n_sets; i++) {
		const set_result *r = &sets[i];
		double fc = (double)r->rep.changes;
		printf("  %-10s %9lld %9zu %8zu %10.2f %12.0f %12.0f %12.0f %9.1f\n", r->name, (long long)r->written,
		       r->rep.changes, r->batches, bl_per_s((double)r->file_bytes, fc),
		       bl_per_s((double)r->written, r->seal.wall), bl_per_s(fc, r->import.wall),
		       bl_per_s((double)r->merge_changes, r->merge.wall),
		       r->import.wall > 0 ? 100 * r->verify_s / r->import.wall : 0);
	}
	printf("\n");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_log [--n N] [--day N] [--reps K] [--rows R] [--rounds K] [--seed S]\n"
		"                 [--profile] [--cache-mib M] [--part sets|merge|all]\n"
		"  --n N          user actions of the realistic set (default 20000, about 10 field changes each)\n"
		"  --day N        field changes of the day-of-work set (default 2000)\n"
		"  --reps K       imports and merges of the realistic set, median (default 3; the day set: at least 5)\n"
		"  --rows R       rows of the synthetic merge: 10 R field changes (default 100000)\n"
		"  --rounds K     synthetic merge rounds (default 3, at most 15)\n"
		"  --profile      one more traced mixed pass: SQLite's time per statement\n"
		"  --cache-mib M  synthetic merge: PRAGMA cache_size of M MiB on every connection\n"
		"  --part P       only the realistic sets (sets) or the synthetic merge (merge); default all\n");
	exit(2);
}

static const char *opt_value(int *i, int argc, char **argv)
{
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

static void parse_part(options *o, const char *part)
{
	o->sets = strcmp(part, "sets") == 0 || strcmp(part, "all") == 0;
	o->merge = strcmp(part, "merge") == 0 || strcmp(part, "all") == 0;
	if (!o->sets && !o->merge)
		usage();
}

/* Option argv[*i] with its value; 0 if it is not one of the numeric options. */
static int parse_number(options *o, int *i, int argc, char **argv)
{
	static const char *const names[] = {"--n", "--day", "--reps", "--rows", "--rounds", "--seed", "--cache-mib"};
	size_t k = 0;
	while (k < BL_COUNT(names) && strcmp(argv[*i], names[k]) != 0)
		k++;
	if (k == BL_COUNT(names))
		return 0;
	uint64_t v = bench_arg_u64(names[k], opt_value(i, argc, argv));
	switch (k) {
	case 0: o->n = (size_t)v; break;
	case 1: o->day = (size_t)v; break;
	case 2: o->reps = (size_t)v; break;
	case 3: o->rows = (size_t)v; break;
	case 4: o->rounds = (size_t)v; break;
	case 5: o->seed = v; break;
	default: o->cache_kib = (int)(1024 * v); break;
	}
	return 1;
}

static void parse_args(options *o, int argc, char **argv)
{
	*o = (options){.n = 20000, .day = 2000, .reps = 3, .rows = 100000, .rounds = 3, .seed = 20260101,
		       .sets = 1, .merge = 1};
	for (int i = 1; i < argc; i++) {
		if (parse_number(o, &i, argc, argv))
			continue;
		if (strcmp(argv[i], "--profile") == 0)
			o->profile = 1;
		else if (strcmp(argv[i], "--part") == 0)
			parse_part(o, opt_value(&i, argc, argv));
		else
			usage();
	}
	o->rounds = o->rounds > BL_MAX_ROUNDS ? BL_MAX_ROUNDS : o->rounds;
	o->reps = o->reps > MAX_REPS ? MAX_REPS : o->reps;
	o->rows = o->rows < 2 ? 2 : o->rows;
	o->cache_kib = o->cache_kib < 0 ? 0 : o->cache_kib;
}

int main(int argc, char **argv)
{
	options o;
	static set_result sets[2];
	parse_args(&o, argc, argv);
	printf("INFO bench=log n=%zu day=%zu reps=%zu rows=%zu rounds=%zu seed=%llu sqlite=%s\n", o.n, o.day, o.reps,
	       o.rows, o.rounds, (unsigned long long)o.seed, sqlite3_libversion());
	fflush(stdout);
	if (o.sets) {
		run_set(&sets[0], &o, "realistic", o.n, 0, o.reps);
		print_set(&sets[0]);
		run_set(&sets[1], &o, "day", 0, o.day, o.reps > 5 ? o.reps : 5);
		print_set(&sets[1]);
		summary(sets, BL_COUNT(sets));
	}
	if (o.merge) {
		bl_merge_opts m = {.rows = o.rows, .rounds = o.rounds, .seed = o.seed, .cache_kib = o.cache_kib,
				   .profile = o.profile};
		bl_merge_run(&m);
	}
	return 0;
}
