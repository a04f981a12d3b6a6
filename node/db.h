/*
 * db.h — the SQLite adapter.  Every sqlite3_* call of libcrm outside this
 * file goes through these helpers or through a statement they prepared, so
 * SQLite errors become crm_error codes with the database's message.
 */
#ifndef CRM_DB_H
#define CRM_DB_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct crm_db crm_db;

/* Open (creating if `create`) the database file at path with the pragmas of a
 * replica: WAL, synchronous=NORMAL, busy timeout 5 s, foreign keys off. */
int crm_db_open(crm_db **out, const char *path, int create);
void crm_db_free(crm_db *db);   /* NULL-safe; finalizes cached statements */
sqlite3 *crm_db_handle(crm_db *db);

/* Run one or more statements with no results. */
int crm_db_exec(crm_db *db, const char *sql);
/* A cached prepared statement for `sql` (reset and cleared, ready to bind).
 * Borrowed: valid until crm_db_free; do not finalize. */
int crm_db_prepare(crm_db *db, sqlite3_stmt **out, const char *sql);
/* Like crm_db_prepare, for SQL built per column set (there may be many):
 * a bounded cache that evicts the least recently used statement.  Valid only
 * until the next crm_db_prepare_shaped call: step and reset it before. */
int crm_db_prepare_shaped(crm_db *db, sqlite3_stmt **out, const char *sql);
/* Step a statement expected to finish (SQLITE_DONE) and reset it. */
int crm_db_step_done(crm_db *db, sqlite3_stmt *st);
/* Step: 1 for a row, 0 for done, negative on error. */
int crm_db_step(crm_db *db, sqlite3_stmt *st);

/* Transactions nest: only the outermost begin/commit touches SQLite; a
 * rollback at any depth dooms the whole transaction. */
int crm_db_begin(crm_db *db);
int crm_db_commit(crm_db *db);
void crm_db_rollback(crm_db *db);
/* Outermost transactions of this handle rolled back so far (a counter). */
unsigned crm_db_rollbacks(const crm_db *db);
/* PRAGMA data_version: changes when another connection commits. */
int crm_db_data_version(crm_db *db, int64_t *out);

/* Translate the database's last error into a crm_error (CRM_EDB) with `what`. */
int crm_db_error(crm_db *db, const char *what);

/* Single-value helpers: -ENOTFOUND if no row. Text result caller-freed. */
int crm_db_get_int(crm_db *db, int64_t *out, const char *sql, const char *arg);
int crm_db_get_text(crm_db *db, char **out, const char *sql, const char *arg);

#endif
