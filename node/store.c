/*
 * store.c — opening and creating a replica (see store.h).
 *
 * Design notes
 *  1. Migrations run inside one transaction each and stamp user_version in
 *     it, so a crash leaves the database at a whole version.
 *  2. The catalog is read from the schema itself (crm_tables + PRAGMA
 *     table_info / foreign_key_list): schema/ is the single source of truth
 *     for what replicates.
 *  3. The HLC's last value is kept in memory and written to crm_meta in the
 *     same transaction as every write that issued or received a clock.
 */
#include "store.h"
#include "changelog.h"
#include "conflict.h"
#include "error.h"
#include "hlc.h"
#include "schema.h"
#include "uuid.h"
#include "write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SETTING_COUNT 7
static const char *const setting_keys[SETTING_COUNT] = {
	"name", "branch_code", "branch_id", "user_id", "country", "currency", "role",
};

struct crm_store {
	crm_db *db;
	char *dir;
	crm_key *key;
	char node_id[CRM_NODE_ID_HEX + 1];
	char *settings[SETTING_COUNT];
	uint64_t hlc;
	int64_t skew_ms;          /* wall - trusted time, when beyond tolerance (conflict/clock.c) */
	crm_table *tables;
	size_t table_count;
	uint64_t (*now_ms)(void *);
	void *now_ctx;
	crm_log *log;
	crm_hold merge_hold;      /* duplicate-group refreshes held by a bulk edit (merge.c) */
	int refs_checked;         /* refs matched crm_heads at ... */
	int64_t refs_version;     /* ... this data_version ... */
	unsigned refs_rollbacks;  /* ... and this rollback count */
	char (*touched)[33];      /* nodes whose crm_heads row this process moved since */
	size_t touched_count, touched_cap;
};

static uint64_t wall_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int migrate(crm_db *db)
{
	int64_t version = 0;
	int err = crm_db_get_int(db, &version, "PRAGMA user_version", NULL);
	if (err < 0)
		return err;
	for (int i = 0; i < crm_migration_count; i++) {
		const crm_migration *m = &crm_migrations[i];
		if (m->version <= version)
			continue;
		char stamp[96];
		snprintf(stamp, sizeof(stamp), "PRAGMA application_id=%d; PRAGMA user_version=%d;",
			 CRM_APPLICATION_ID, m->version);
		if ((err = crm_db_begin(db)) < 0)
			return err;
		err = crm_db_exec(db, m->sql);
		if (err == 0)
			err = crm_db_exec(db, stamp);
		if (err < 0) {
			crm_db_rollback(db);
			return CRM_ERR(err, "migration %s failed: %s", m->name, crm_error_last());
		}
		if ((err = crm_db_commit(db)) < 0)
			return err;
	}
	return 0;
}

static void free_tables(crm_table *t, size_t count)
{
	for (size_t i = 0; t && i < count; i++) {
		for (size_t j = 0; j < t[i].col_count; j++) {
			free(t[i].cols[j].name);
			free(t[i].cols[j].ref);
		}
		free(t[i].cols);
		free(t[i].name);
	}
	free(t);
}

/* Fill t->cols from PRAGMA table_info and foreign_key_list. */
static int load_columns(crm_db *db, crm_table *t)
{
	char sql[160];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT name, type FROM pragma_table_info('%s') WHERE name <> 'id' ORDER BY name", t->name);
	int err = crm_db_prepare(db, &st, sql);
	while (err >= 0 && (err = crm_db_step(db, st)) == 1) {
		crm_column *c = realloc(t->cols, (t->col_count + 1) * sizeof(*c));
		if (!c)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		t->cols = c;
		c = &t->cols[t->col_count++];
		c->name = strdup((const char *)sqlite3_column_text(st, 0));
		c->is_int = strcmp((const char *)sqlite3_column_text(st, 1), "INTEGER") == 0;
		c->ref = NULL;
		if (!c->name)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	if (err < 0)
		return err;
	snprintf(sql, sizeof(sql), "SELECT \"from\", \"table\" FROM pragma_foreign_key_list('%s')", t->name);
	err = crm_db_prepare(db, &st, sql);
	while (err >= 0 && (err = crm_db_step(db, st)) == 1) {
		crm_column *c = (crm_column *)crm_table_column(t, (const char *)sqlite3_column_text(st, 0));
		if (c && !c->ref && !(c->ref = strdup((const char *)sqlite3_column_text(st, 1))))
			return CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	return err < 0 ? err : 0;
}

static int load_catalog(crm_store *st)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(st->db, &q, "SELECT name, kind FROM crm_tables ORDER BY name");
	while (err >= 0 && (err = crm_db_step(st->db, q)) == 1) {
		crm_table *t = realloc(st->tables, (st->table_count + 1) * sizeof(*t));
		if (!t)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		st->tables = t;
		t = &st->tables[st->table_count++];
		memset(t, 0, sizeof(*t));
		t->name = strdup((const char *)sqlite3_column_text(q, 0));
		t->grow = strcmp((const char *)sqlite3_column_text(q, 1), "grow") == 0;
		if (!t->name)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	if (err < 0)
		return err;
	sqlite3_reset(q);
	for (size_t i = 0; i < st->table_count; i++)
		if ((err = load_columns(st->db, &st->tables[i])) < 0)
			return err;
	return 0;
}

static int load_settings(crm_store *st)
{
	for (int i = 0; i < SETTING_COUNT; i++) {
		free(st->settings[i]);
		st->settings[i] = NULL;
		int err = crm_meta_get(st, setting_keys[i], &st->settings[i]);
		if (err < 0 && err != CRM_ENOTFOUND)
			return err;
	}
	char *h = NULL;
	int err = crm_meta_get(st, "hlc", &h);
	if (err < 0 && err != CRM_ENOTFOUND)
		return err;
	st->hlc = h ? strtoull(h, NULL, 10) : 0;
	free(h);
	h = NULL;
	int64_t pending_max = 0;
	if (crm_db_get_int(st->db, &pending_max, "SELECT coalesce(max(hlc), 0) FROM crm_pending", NULL) == 0 &&
	    (uint64_t)pending_max > st->hlc)
		st->hlc = (uint64_t)pending_max;
	err = crm_meta_get(st, "clock_skew_ms", &h);
	if (err < 0 && err != CRM_ENOTFOUND)
		return err;
	st->skew_ms = h ? strtoll(h, NULL, 10) : 0;
	free(h);
	crm_error_clear();
	return 0;
}

/* Open db + catalog + settings; key is loaded by the caller. */
static int open_common(crm_store **out, const char *dir, int create)
{
	*out = NULL;
	crm_store *st = calloc(1, sizeof(*st));
	if (!st || !(st->dir = strdup(dir))) {
		free(st);
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	st->now_ms = wall_ms;
	char *path = path_join(dir, "crm.db");
	int err = path ? crm_db_open(&st->db, path, create) : CRM_ERR(CRM_ENOMEM, "out of memory");
	free(path);
	if (err == 0)
		err = migrate(st->db);
	if (err == 0)
		err = load_catalog(st);
	if (err == 0)
		err = load_settings(st);
	if (err < 0) {
		crm_store_free(st);
		return err;
	}
	*out = st;
	return 0;
}

static int load_key(crm_store *st)
{
	char *path = path_join(st->dir, "node.key");
	if (!path)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int err = crm_key_load(&st->key, path);
	free(path);
	if (err < 0)
		return err;
	uint8_t pub[CRM_PUBKEY_LEN];
	crm_key_public(st->key, pub);
	crm_node_id_of(st->node_id, pub);
	return 0;
}

int crm_store_open(crm_store **out, const char *dir)
{
	*out = NULL;
	char *path = path_join(dir, "crm.db");
	struct stat sb;
	int exists = path && stat(path, &sb) == 0;
	free(path);
	if (!exists)
		return CRM_ERR(CRM_ENOTFOUND, "no replica in %s; create one with 'crm init --name NAME' or pass --data DIR", dir);
	crm_store *st;
	int err = open_common(&st, dir, 0);
	if (err == 0 && (err = load_key(st)) < 0)
		crm_store_free(st);
	if (err == 0)
		*out = st;
	return err;
}

/* mkdir -p for the parents of dir (a fresh account has no ~/.local/share). */
static void make_parents(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0700);
		*p = '/';
	}
}

static int create_dir(const char *dir)
{
	make_parents(dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return CRM_ERR(CRM_EIO, "cannot create directory %s: %s", dir, strerror(errno));
	char *path = path_join(dir, "crm.db");
	struct stat sb;
	int exists = path && stat(path, &sb) == 0;
	free(path);
	if (exists)
		return CRM_ERR(CRM_EEXISTS, "%s already holds a replica; use another --data directory", dir);
	return 0;
}

static int create_key(crm_store *st, const crm_key *given)
{
	crm_key *key = NULL;
	char *path = path_join(st->dir, "node.key");
	int err = path ? (given ? 0 : crm_key_generate(&key)) : CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0)
		err = crm_key_save(given ? given : key, path);
	crm_key_free(key);
	free(path);
	return err < 0 ? err : load_key(st);
}

static int open_log(crm_store *st, int create)
{
	char *path = path_join(st->dir, "log.git");
	int err = path ? crm_log_open(&st->log, path, create) : CRM_ERR(CRM_ENOMEM, "out of memory");
	free(path);
	return err;
}

int crm_store_refs_unchanged(crm_store *st, int mark)
{
	int64_t v = 0;
	if (crm_db_data_version(st->db, &v) < 0) {
		crm_error_clear();
		return 0;
	}
	unsigned rb = crm_db_rollbacks(st->db);
	if (mark) {
		st->touched_count = 0;
		st->refs_checked = 1;
		st->refs_version = v;
		st->refs_rollbacks = rb;
		return 1;
	}
	return st->refs_checked && v == st->refs_version && rb == st->refs_rollbacks;
}

int crm_store_refs_touch(crm_store *st, const char *node)
{
	for (size_t i = 0; i < st->touched_count; i++)
		if (strcmp(st->touched[i], node) == 0)
			return 0;
	if (st->touched_count == st->touched_cap) {
		size_t cap = st->touched_cap ? st->touched_cap * 2 : 16;
		char (*n)[33] = realloc(st->touched, cap * sizeof(*n));
		if (!n)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		st->touched = n;
		st->touched_cap = cap;
	}
	snprintf(st->touched[st->touched_count++], 33, "%s", node);
	return 0;
}

const char (*crm_store_refs_touched(const crm_store *st, size_t *count))[33]
{
	*count = st->touched_count;
	return (const char (*)[33])st->touched;
}

int crm_store_log(crm_store *st, crm_log **out)
{
	int err = st->log ? 0 : open_log(st, 0);
	*out = st->log;
	return err;
}

/* Our own key is trusted: crm_keys holds it like any other. */
static int trust_self(crm_store *st)
{
	uint8_t pub[CRM_PUBKEY_LEN];
	char *line = NULL;
	crm_key_public(st->key, pub);
	int err = crm_pubkey_to_openssh(&line, pub, NULL);
	sqlite3_stmt *q;
	if (err == 0)
		err = crm_db_prepare(st->db, &q, "INSERT OR REPLACE INTO crm_keys(node, pubkey, name, source) "
				     "VALUES (?1, ?2, ?3, 'self')");
	if (err == 0) {
		sqlite3_bind_text(q, 1, st->node_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, line, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, crm_store_setting(st, "name"), -1, SQLITE_STATIC);
		err = crm_db_step_done(st->db, q);
	}
	free(line);
	return err;
}

/* Settings, branch and user rows of a new replica, in one transaction. */
static int seed(crm_store *st, const crm_init_opts *o)
{
	const char *branch = o->branch ? o->branch : "HQ";
	const char *login = o->user ? o->user : o->name;
	char branch_id[37], user_id[37];
	crm_store_name_id(branch_id, "branch", branch);
	crm_store_name_id(user_id, "user", login);
	const char *kv[][2] = {
		{"node_id", st->node_id}, {"name", o->name}, {"branch_code", branch},
		{"branch_id", branch_id}, {"user_id", user_id},
		{"country", o->country ? o->country : "RU"},
		{"currency", o->currency ? o->currency : "RUB"},
	};
	int err = crm_db_begin(st->db);
	for (size_t i = 0; err == 0 && i < sizeof(kv) / sizeof(kv[0]); i++)
		err = crm_meta_set(st, kv[i][0], kv[i][1]);
	crm_field bf[] = {{"code", CRM_TEXT(branch)}, {"name", CRM_TEXT(branch)}};
	crm_field uf[] = {{"login", CRM_TEXT(login)}, {"name", CRM_TEXT(login)},
			  {"branch_id", CRM_TEXT(branch_id)}};
	if (err == 0 && !o->joined)
		err = crm_write(st, "branches", branch_id, bf, 2);
	if (err == 0 && !o->joined)
		err = crm_write(st, "users", user_id, uf, 3);
	if (err < 0) {
		crm_db_rollback(st->db);
		return err;
	}
	err = crm_db_commit(st->db);
	if (err == 0)
		err = load_settings(st);
	return err < 0 ? err : trust_self(st);
}

int crm_store_create(crm_store **out, const char *dir, const crm_init_opts *o)
{
	*out = NULL;
	if (!o->name || !*o->name)
		return CRM_ERR(CRM_EINVAL, "a node needs a name (--name)");
	int err = create_dir(dir);
	crm_store *st = NULL;
	if (err == 0)
		err = open_common(&st, dir, 1);
	if (err == 0)
		err = create_key(st, o->key);
	if (err == 0)
		err = open_log(st, 1);
	if (err == 0)
		err = seed(st, o);
	if (err < 0) {
		crm_store_free(st);
		return err;
	}
	*out = st;
	return 0;
}

void crm_store_free(crm_store *st)
{
	if (!st)
		return;
	crm_write_cleanup(st);
	crm_log_free(st->log);
	crm_db_free(st->db);
	crm_key_free(st->key);
	for (int i = 0; i < SETTING_COUNT; i++)
		free(st->settings[i]);
	free_tables(st->tables, st->table_count);
	free(st->touched);
	free(st->dir);
	free(st);
}

crm_db *crm_store_db(crm_store *st) { return st->db; }
const char *crm_store_dir(const crm_store *st) { return st->dir; }
const char *crm_store_node_id(const crm_store *st) { return st->node_id; }
const crm_key *crm_store_key(const crm_store *st) { return st->key; }

int crm_meta_get(crm_store *st, const char *key, char **out)
{
	return crm_db_get_text(st->db, out, "SELECT value FROM crm_meta WHERE key = ?1", key);
}

int crm_meta_set(crm_store *st, const char *key, const char *value)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(st->db, &q, "INSERT INTO crm_meta(key, value) VALUES (?1, ?2) "
				 "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	return crm_db_step_done(st->db, q);
}

const char *crm_store_setting(const crm_store *st, const char *key)
{
	for (int i = 0; i < SETTING_COUNT; i++)
		if (strcmp(setting_keys[i], key) == 0)
			return st->settings[i] ? st->settings[i] : "";
	return "";
}

const crm_table *crm_catalog_table(const crm_store *st, const char *name)
{
	for (size_t i = 0; i < st->table_count; i++)
		if (strcmp(st->tables[i].name, name) == 0)
			return &st->tables[i];
	return NULL;
}

const crm_column *crm_table_column(const crm_table *t, const char *name)
{
	for (size_t i = 0; i < t->col_count; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	return NULL;
}

const crm_table *crm_catalog_tables(const crm_store *st, size_t *count)
{
	*count = st->table_count;
	return st->tables;
}

uint64_t crm_store_now_ms(const crm_store *st) { return st->now_ms(st->now_ctx); }

void crm_store_set_clock(crm_store *st, uint64_t (*now_ms)(void *), void *ctx)
{
	st->now_ms = now_ms ? now_ms : wall_ms;
	st->now_ctx = ctx;
}

static int persist_hlc(crm_store *st)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)st->hlc);
	return crm_meta_set(st, "hlc", buf);
}

uint64_t crm_store_clock_ms(const crm_store *st)
{
	return crm_conflict_corrected_now(crm_store_now_ms(st), st->skew_ms);
}

int64_t crm_store_skew_ms(const crm_store *st) { return st->skew_ms; }

int crm_store_observe_time(crm_store *st, uint64_t trusted_ms)
{
	int64_t skew = crm_conflict_skew(crm_store_now_ms(st), trusted_ms);
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)skew);
	int err = crm_meta_set(st, "clock_skew_ms", buf);
	if (err == 0)
		st->skew_ms = skew;
	return err;
}

/* The clock of a local write is not written to crm_meta each time: every
 * local write leaves pending changes with its clock in the same transaction,
 * and opening takes the max of crm_meta and crm_pending (sealing persists the
 * clock before it deletes pending rows). */
int crm_store_hlc_next(crm_store *st, uint64_t *out)
{
	st->hlc = crm_hlc_next(st->hlc, crm_store_clock_ms(st));
	*out = st->hlc;
	return 0;
}

int crm_store_hlc_persist(crm_store *st)
{
	return persist_hlc(st);
}

int crm_store_hlc_recv(crm_store *st, uint64_t remote)
{
	if (!crm_conflict_clock_adoptable(remote, crm_store_clock_ms(st)))
		return 0;   /* stored and merged, but not spread into our own clock */
	uint64_t next = crm_hlc_recv(st->hlc, remote);
	if (next == st->hlc)
		return 0;
	st->hlc = next;
	return persist_hlc(st);
}

crm_hold *crm_store_merge_hold(crm_store *st) { return &st->merge_hold; }

void crm_store_name_id(char out[37], const char *kind, const char *name)
{
	uint8_t h[CRM_SHA256_LEN];
	char buf[256];
	snprintf(buf, sizeof(buf), "%s:%s", kind, name);
	crm_sha256(h, buf, strlen(buf));
	h[6] = (uint8_t)(0x80 | (h[6] & 0x0f));   /* version 8: custom */
	h[8] = (uint8_t)(0x80 | (h[8] & 0x3f));
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11],
		 h[12], h[13], h[14], h[15]);
}
