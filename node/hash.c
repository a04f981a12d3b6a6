/*
 * hash.c — the state hash (see hash.h).
 *
 * Canonical encoding fed to SHA-256, per value:
 *   'T' table NUL | 'R' id NUL | 'C' column NUL type value
 * type: 'N' (null), 'I' + 8 bytes big-endian, 'F' + 8 bytes IEEE big-endian,
 * 'S'/'B' + 4 bytes big-endian length + bytes.  Kept unknown fields follow
 * as 'X' table NUL id NUL column NUL type value, ordered by (table, id, col).
 */
#include "hash.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

static void put_str(crm_sha256_ctx *h, char tag, const char *s)
{
	crm_sha256_update(h, &tag, 1);
	crm_sha256_update(h, s, strlen(s) + 1);
}

static void put_be(crm_sha256_ctx *h, uint64_t v, int bytes)
{
	uint8_t b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	crm_sha256_update(h, b, (size_t)bytes);
}

static void put_value(crm_sha256_ctx *h, sqlite3_stmt *q, int i)
{
	char t;
	switch (sqlite3_column_type(q, i)) {
	case SQLITE_INTEGER:
		t = 'I';
		crm_sha256_update(h, &t, 1);
		put_be(h, (uint64_t)sqlite3_column_int64(q, i), 8);
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(q, i);
		uint64_t bits;
		memcpy(&bits, &d, sizeof(bits));
		t = 'F';
		crm_sha256_update(h, &t, 1);
		put_be(h, bits, 8);
		break;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		t = sqlite3_column_type(q, i) == SQLITE_TEXT ? 'S' : 'B';
		const void *p = t == 'S' ? (const void *)sqlite3_column_text(q, i) : sqlite3_column_blob(q, i);
		int n = sqlite3_column_bytes(q, i);
		crm_sha256_update(h, &t, 1);
		put_be(h, (uint64_t)n, 4);
		crm_sha256_update(h, p, (size_t)n);
		break;
	}
	default:
		t = 'N';
		crm_sha256_update(h, &t, 1);
	}
}

static int hash_table(crm_sha256_ctx *h, crm_db *db, const crm_table *t)
{
	char sql[2048];
	size_t off = (size_t)snprintf(sql, sizeof(sql), "SELECT id");
	for (size_t i = 0; i < t->col_count && off < sizeof(sql); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",\"%s\"", t->cols[i].name);
	if (off < sizeof(sql))
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, " FROM \"%s\" ORDER BY id", t->name);
	if (off >= sizeof(sql))
		return CRM_ERR(CRM_ELIMIT, "table %s has too many columns", t->name);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(crm_db_handle(db), sql, -1, &q, NULL) != SQLITE_OK)
		return crm_db_error(db, "state hash");
	put_str(h, 'T', t->name);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		put_str(h, 'R', (const char *)sqlite3_column_text(q, 0));
		for (size_t i = 0; i < t->col_count; i++) {
			put_str(h, 'C', t->cols[i].name);
			put_value(h, q, (int)i + 1);
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : crm_db_error(db, "state hash");
}

static int hash_extra(crm_sha256_ctx *h, crm_db *db)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(crm_db_handle(db), "SELECT tbl, row_id, col, value FROM crm_extra "
			       "ORDER BY tbl, row_id, col", -1, &q, NULL) != SQLITE_OK)
		return crm_db_error(db, "state hash");
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		put_str(h, 'X', (const char *)sqlite3_column_text(q, 0));
		put_str(h, 'R', (const char *)sqlite3_column_text(q, 1));
		put_str(h, 'C', (const char *)sqlite3_column_text(q, 2));
		put_value(h, q, 3);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : crm_db_error(db, "state hash");
}

int crm_state_hash(crm_store *st, char out[65])
{
	crm_sha256_ctx *h;
	size_t count;
	const crm_table *tables = crm_catalog_tables(st, &count);
	crm_db *db = crm_store_db(st);
	int err = crm_sha256_new(&h);
	if (err < 0)
		return err;
	/* One read transaction: a consistent snapshot even while others write. */
	err = crm_db_exec(db, "BEGIN");
	for (size_t i = 0; err == 0 && i < count; i++)
		err = hash_table(h, db, &tables[i]);
	if (err == 0)
		err = hash_extra(h, db);
	crm_db_exec(db, err == 0 ? "COMMIT" : "ROLLBACK");
	uint8_t d[CRM_SHA256_LEN];
	crm_sha256_final(h, d);
	if (err == 0)
		crm_hex(out, d, sizeof(d));
	return err;
}
