/*
 * bulk.c — deferred full-text indexing (see bulk.h).
 *
 * Design notes
 *  1. Rows added during the bulk write have a rowid above the table's
 *     largest rowid at the start (SQLite assigns max + 1 while the maximum
 *     is below 2^62, checked).  Their insert trigger is dropped; the update
 *     and delete triggers are replaced by copies guarded with
 *     "WHEN old.rowid <= max", so an added row that is changed again is not
 *     'deleted' from an index that never held it, while the rows that were
 *     there before keep their index exact.
 *  2. At the end the added rows are indexed from their final values, and the
 *     original triggers (their SQL kept from sqlite_master) come back.
 *  3. The indexed columns of each table are listed here; crm_bulk_begin
 *     checks each insert trigger names them, so a schema change that
 *     touches them turns deferral off instead of building a wrong index.
 */
#include "bulk.h"
#include "db.h"
#include "error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWID_SAFE ((int64_t)1 << 62)

static const struct {
	const char *table;
	const char *cols;   /* as the insert trigger lists them */
} indexed[] = {
	{"contacts", "first_name, last_name, title"},
	{"companies", "name, tax_id"},
	{"deals", "title"},
	{"channels", "normalized"},
};
#define NT (sizeof(indexed) / sizeof(indexed[0]))
static const char *const kinds[] = {"ai", "au", "ad"};

struct crm_bulk {
	int64_t max[NT];
	char *sql[NT][3];   /* the original triggers */
};

int crm_bulk_indexed(const char *table, const char *col)
{
	size_t n = strlen(col);
	for (size_t i = 0; i < NT; i++) {
		if (strcmp(indexed[i].table, table) != 0)
			continue;
		for (const char *c = indexed[i].cols; (c = strstr(c, col)) != NULL; c += n)
			if ((c == indexed[i].cols || c[-1] == ' ') && (c[n] == ',' || c[n] == '\0'))
				return 1;
	}
	return 0;
}

void crm_bulk_free(crm_bulk *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < NT; i++)
		for (size_t k = 0; k < 3; k++)
			free(b->sql[i][k]);
	free(b);
}

static int trigger_sql(crm_db *db, const char *table, const char *kind, char **out)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_fts_%s", table, kind);
	int err = crm_db_get_text(db, out, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1", name);
	return err == CRM_ENOTFOUND ? 0 : err;
}

/* The first whole word `word` in sql[0, end), or NULL. */
static const char *keyword(const char *sql, const char *end, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = sql; (p = strstr(p, word)) != NULL && p + n <= end; p += n)
		if (p > sql && isspace((unsigned char)p[-1]) && isspace((unsigned char)p[n]))
			return p;
	return NULL;
}

/* "CREATE TRIGGER t_fts_au … ON t [WHEN c] BEGIN …" with the condition
 * "old.rowid <= max" added before BEGIN: "WHEN old.rowid <= max [AND (c)]". */
static int guarded(crm_db *db, const char *sql, int64_t max)
{
	const char *begin = keyword(sql, sql + strlen(sql), "BEGIN");
	if (!begin)
		return CRM_ERR(CRM_EDB, "unexpected trigger text");
	const char *when = keyword(sql, begin, "WHEN");
	size_t len = strlen(sql) + 80;
	char *s = malloc(len);
	if (!s)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	if (when)
		snprintf(s, len, "%.*sWHEN old.rowid <= %lld AND (%.*s)\n%s", (int)(when - sql), sql, (long long)max,
			 (int)(begin - when - 5), when + 5, begin);
	else
		snprintf(s, len, "%.*s WHEN old.rowid <= %lld\n%s", (int)(begin - sql), sql, (long long)max, begin);
	int err = crm_db_exec(db, s);
	free(s);
	return err;
}

static int drop(crm_db *db, const char *table, const char *kind)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "DROP TRIGGER \"%s_fts_%s\"", table, kind);
	return crm_db_exec(db, sql);
}

int crm_bulk_begin(crm_store *st, crm_bulk **out)
{
	crm_db *db = crm_store_db(st);
	char sql[128];
	*out = NULL;
	crm_bulk *b = calloc(1, sizeof(*b));
	if (!b)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int err = 0, usable = 1;
	for (size_t i = 0; err == 0 && usable && i < NT; i++) {
		snprintf(sql, sizeof(sql), "SELECT coalesce(max(rowid), 0) FROM \"%s\"", indexed[i].table);
		err = crm_db_get_int(db, &b->max[i], sql, NULL);
		for (size_t k = 0; err == 0 && k < 3; k++)
			err = trigger_sql(db, indexed[i].table, kinds[k], &b->sql[i][k]);
		usable = err == 0 && b->max[i] < ROWID_SAFE && b->sql[i][0] && b->sql[i][1] && b->sql[i][2] &&
			 strstr(b->sql[i][0], indexed[i].cols);
	}
	for (size_t i = 0; err == 0 && usable && i < NT; i++) {
		err = drop(db, indexed[i].table, "ai");
		for (size_t k = 1; err == 0 && k < 3; k++)
			if ((err = drop(db, indexed[i].table, kinds[k])) == 0)
				err = guarded(db, b->sql[i][k], b->max[i]);
	}
	if (err < 0 || !usable) {
		crm_bulk_free(b);
		return err;   /* on error the caller rolls back, which restores the triggers */
	}
	*out = b;
	return 0;
}

int crm_bulk_end(crm_store *st, crm_bulk *b)
{
	crm_db *db = crm_store_db(st);
	char sql[320];
	int err = 0;
	for (size_t i = 0; b && err == 0 && i < NT; i++) {
		const char *t = indexed[i].table, *c = indexed[i].cols;
		snprintf(sql, sizeof(sql), "INSERT INTO \"%s_fts\"(rowid, %s) SELECT rowid, %s FROM \"%s\" WHERE rowid > %lld",
			 t, c, c, t, (long long)b->max[i]);
		err = crm_db_exec(db, sql);
		for (size_t k = 1; err == 0 && k < 3; k++)
			err = drop(db, t, kinds[k]);
		for (size_t k = 0; err == 0 && k < 3; k++)
			err = crm_db_exec(db, b->sql[i][k]);
	}
	return err;
}
