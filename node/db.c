/*
 * db.c — SQLite adapter (see db.h).
 *
 * Statement cache: a small open-addressed table keyed by the SQL text's
 * address and content.  The write path builds SQL per (table, column set),
 * so the cache is what keeps a local edit within budget of a plain insert.
 */
#include "db.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 1024
#define SHAPE_SLOTS 256

typedef struct cached {
	char *sql;
	sqlite3_stmt *stmt;
} cached;

typedef struct shaped {
	char *sql;
	sqlite3_stmt *stmt;
	uint32_t hash;
	uint64_t used;       /* tick of the last use, for eviction */
} shaped;

struct crm_db {
	sqlite3 *h;
	int depth;      /* nesting of crm_db_begin */
	int doomed;     /* a nested rollback happened */
	unsigned rollbacks;   /* outermost transactions rolled back so far */
	cached cache[CACHE_SLOTS];
	shaped shape[SHAPE_SLOTS];   /* statements built per column set: bounded, LRU */
	uint64_t tick;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int crm_db_error(crm_db *db, const char *what)
{
	return CRM_ERR(CRM_EDB, "database error during %s: %s", what,
		       db && db->h ? sqlite3_errmsg(db->h) : "out of memory");
}

int crm_db_open(crm_db **out, const char *path, int create)
{
	*out = NULL;
	crm_db *db = calloc(1, sizeof(*db));
	if (!db)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		int err = CRM_ERR(create ? CRM_EIO : CRM_ENOTFOUND, "cannot open database %s: %s",
				  path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		crm_db_free(db);
		return err;
	}
	sqlite3_busy_timeout(db->h, 5000);
	sqlite3_extended_result_codes(db->h, 1);
	int err = crm_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
				  "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;");
	if (err < 0) {
		crm_db_free(db);
		return err;
	}
	*out = db;
	return 0;
}

void crm_db_free(crm_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		sqlite3_finalize(db->cache[i].stmt);
		free(db->cache[i].sql);
	}
	for (int i = 0; i < SHAPE_SLOTS; i++) {
		sqlite3_finalize(db->shape[i].stmt);
		free(db->shape[i].sql);
	}
	sqlite3_close(db->h);
	free(db);
}

sqlite3 *crm_db_handle(crm_db *db) { return db->h; }

int crm_db_exec(crm_db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int err = CRM_ERR(CRM_EDB, "database error: %s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return err;
	}
	return 0;
}

int crm_db_prepare(crm_db *db, sqlite3_stmt **out, const char *sql)
{
	uint32_t h = hash_str(sql);
	for (int probe = 0; probe < CACHE_SLOTS; probe++) {
		cached *c = &db->cache[(h + (uint32_t)probe) % CACHE_SLOTS];
		if (c->sql && strcmp(c->sql, sql) == 0) {
			sqlite3_reset(c->stmt);
			sqlite3_clear_bindings(c->stmt);
			*out = c->stmt;
			return 0;
		}
		if (!c->sql) {
			if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
					       &c->stmt, NULL) != SQLITE_OK)
				return crm_db_error(db, "prepare");
			c->sql = strdup(sql);
			if (!c->sql)
				return CRM_ERR(CRM_ENOMEM, "out of memory");
			*out = c->stmt;
			return 0;
		}
	}
	/* Cache full: callers only build SQL from a fixed catalog, so this is a bug. */
	return CRM_ERR(CRM_ELIMIT, "statement cache full");
}

int crm_db_prepare_shaped(crm_db *db, sqlite3_stmt **out, const char *sql)
{
	uint32_t h = hash_str(sql);
	shaped *victim = &db->shape[0];
	for (int i = 0; i < SHAPE_SLOTS; i++) {
		shaped *c = &db->shape[i];
		if (c->sql && c->hash == h && strcmp(c->sql, sql) == 0) {
			sqlite3_reset(c->stmt);
			sqlite3_clear_bindings(c->stmt);
			c->used = ++db->tick;
			*out = c->stmt;
			return 0;
		}
		if (!c->sql ? victim->sql != NULL : (victim->sql && c->used < victim->used))
			victim = c;
	}
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
		return crm_db_error(db, "prepare");
	char *copy = strdup(sql);
	if (!copy) {
		sqlite3_finalize(stmt);
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	sqlite3_finalize(victim->stmt);
	free(victim->sql);
	*victim = (shaped){.sql = copy, .stmt = stmt, .hash = h, .used = ++db->tick};
	*out = stmt;
	return 0;
}

int crm_db_step(crm_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	int err = crm_db_error(db, "query");
	sqlite3_reset(st);
	return err;
}

int crm_db_step_done(crm_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int err = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : crm_db_error(db, "write");
	sqlite3_reset(st);
	return err;
}

/* Run a cached no-argument statement (BEGIN, COMMIT, ROLLBACK). */
static int run_cached(crm_db *db, const char *sql)
{
	sqlite3_stmt *st;
	int err = crm_db_prepare(db, &st, sql);
	return err < 0 ? err : crm_db_step_done(db, st);
}

int crm_db_begin(crm_db *db)
{
	if (db->depth++ > 0)
		return 0;
	db->doomed = 0;
	int err = run_cached(db, "BEGIN IMMEDIATE");
	if (err < 0)
		db->depth = 0;
	return err;
}

int crm_db_commit(crm_db *db)
{
	if (db->depth == 0)
		return CRM_ERR(CRM_EDB, "commit without transaction");
	if (--db->depth > 0)
		return 0;
	if (db->doomed) {
		crm_db_exec(db, "ROLLBACK");
		db->rollbacks++;
		return CRM_ERR(CRM_EDB, "transaction was rolled back by an inner failure");
	}
	int err = run_cached(db, "COMMIT");
	if (err < 0) {
		crm_db_exec(db, "ROLLBACK");
		db->rollbacks++;
	}
	return err;
}

unsigned crm_db_rollbacks(const crm_db *db)
{
	return db->rollbacks;
}

int crm_db_data_version(crm_db *db, int64_t *out)
{
	return crm_db_get_int(db, out, "PRAGMA data_version", NULL);
}

void crm_db_rollback(crm_db *db)
{
	if (db->depth == 0)
		return;
	if (--db->depth > 0) {
		db->doomed = 1;
		return;
	}
	/* Keep the first error message: ROLLBACK's own result is not interesting. */
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->rollbacks++;
}

int crm_db_get_int(crm_db *db, int64_t *out, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	int err = crm_db_prepare(db, &st, sql);
	if (err < 0)
		return err;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	err = crm_db_step(db, st);
	if (err == 1)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return err < 0 ? err : err == 1 ? 0 : CRM_ENOTFOUND;
}

int crm_db_get_text(crm_db *db, char **out, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	*out = NULL;
	int err = crm_db_prepare(db, &st, sql);
	if (err < 0)
		return err;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	err = crm_db_step(db, st);
	if (err == 1) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*out = t ? strdup((const char *)t) : NULL;
		if (t && !*out)
			err = CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	sqlite3_reset(st);
	return err < 0 ? err : err == 1 ? 0 : CRM_ENOTFOUND;
}
