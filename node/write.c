/*
 * write.c — the one write path and the apply of received changes.
 *
 * Design notes
 *  1. A local edit is one crm_write call: one new HLC for all its fields; for
 *     each field the stored clock becomes (hlc, this node) and a pending change
 *     records (table, row, column, value, hlc, prev_hlc); the row is upserted
 *     with one statement.  All in one transaction, so a crash leaves either
 *     the edit and its change records, or neither.
 *  2. A received change wins iff its (hlc, node) is greater than the stored
 *     clock of that field (conflict/lww.c).  A field never written has no
 *     clock row: genesis rows and defaults count as (0, "000…").
 *  3. Nothing received is dropped: columns or tables this version does not
 *     know are kept in crm_extra with their clocks, by the same LWW rule, so
 *     they can be passed on and picked up by a later schema.
 *  4. SQL is built from catalog names only (never from input), and cached
 *     per (table, column set) by db.c.
 */
#include "write.h"
#include "conflict.h"
#include "error.h"
#include "merge.h"

#include <stdio.h>
#include <string.h>

#define MAX_FIELDS 64
#define SQL_MAX 4096

void crm_write_cleanup(crm_store *st) { (void)st; }

static int is_stage(const char *table, const char *col)
{
	return strcmp(col, "stage_id") == 0 && strcmp(table, "deals") == 0;
}

void crm_bind_value(sqlite3_stmt *q, int idx, const crm_value *v)
{
	switch (v->type) {
	case CRM_V_INT:
		sqlite3_bind_int64(q, idx, v->i);
		break;
	case CRM_V_REAL:
		sqlite3_bind_double(q, idx, v->r);
		break;
	case CRM_V_TEXT:
		sqlite3_bind_text(q, idx, v->s, v->len ? (int)v->len : -1, SQLITE_STATIC);
		break;
	case CRM_V_BLOB:
		sqlite3_bind_blob(q, idx, v->s, (int)v->len, SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(q, idx);
	}
}

/* "INSERT INTO t(id,a,b) VALUES(?1,?2,?3) ON CONFLICT(id) DO UPDATE SET a=excluded.a,..." */
static int upsert_sql(char *sql, size_t cap, const char *table, const char *const *cols, size_t n)
{
	size_t off = (size_t)snprintf(sql, cap, "INSERT INTO \"%s\"(id", table);
	for (size_t i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(sql + off, cap - off, ",\"%s\"", cols[i]);
	off += off < cap ? (size_t)snprintf(sql + off, cap - off, ") VALUES(?1") : 0;
	for (size_t i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(sql + off, cap - off, ",?%zu", i + 2);
	off += off < cap ? (size_t)snprintf(sql + off, cap - off, ") ON CONFLICT(id) DO UPDATE SET ") : 0;
	for (size_t i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(sql + off, cap - off, "%s\"%s\"=excluded.\"%s\"",
					i ? "," : "", cols[i], cols[i]);
	if (off >= cap)
		return CRM_ERR(CRM_ELIMIT, "too many columns in one write to %s", table);
	return 0;
}

static int upsert_row(crm_store *st, const char *table, const char *row_id,
		      const char *const *cols, const crm_value *vals, size_t n)
{
	char sql[SQL_MAX];
	sqlite3_stmt *q;
	int err = upsert_sql(sql, sizeof(sql), table, cols, n);
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, row_id, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n; i++)
		crm_bind_value(q, (int)i + 2, &vals[i]);
	return crm_db_step_done(crm_store_db(st), q);
}

/* Read the stored clock of a field (and the prev clock of its write);
 * *found = 0 if never written. */
static int clock_get(crm_store *st, const char *row_id, const char *col, crm_stamp *out,
		     uint64_t *prev, int *found)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q,
				 "SELECT hlc, node, prev FROM crm_clock WHERE row_id = ?1 AND col = ?2");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, row_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, col, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), q);
	*found = err == 1;
	if (err == 1) {
		out->hlc = (uint64_t)sqlite3_column_int64(q, 0);
		snprintf(out->node, sizeof(out->node), "%s", (const char *)sqlite3_column_text(q, 1));
		*prev = (uint64_t)sqlite3_column_int64(q, 2);
	}
	sqlite3_reset(q);
	return err < 0 ? err : 0;
}

static int clock_set(crm_store *st, const char *row_id, const char *col, uint64_t hlc,
		     const char *node, uint64_t prev)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q,
				 "INSERT INTO crm_clock(row_id, col, hlc, node, prev) VALUES (?1, ?2, ?3, ?4, ?5) "
				 "ON CONFLICT(row_id, col) DO UPDATE SET hlc = excluded.hlc, node = excluded.node, "
				 "prev = excluded.prev");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, row_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, col, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)hlc);
	sqlite3_bind_text(q, 4, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, (int64_t)prev);
	return crm_db_step_done(crm_store_db(st), q);
}

static int check_fields(crm_store *st, const char *table, const crm_field *f, size_t count)
{
	const crm_table *t = crm_catalog_table(st, table);
	if (!t)
		return CRM_ERR(CRM_EINVAL, "'%s' is not a replicated table", table);
	if (count == 0 || count > MAX_FIELDS)
		return CRM_ERR(CRM_EINVAL, "a write to %s needs 1..%d fields, got %zu", table, MAX_FIELDS, count);
	for (size_t i = 0; i < count; i++) {
		if (!crm_table_column(t, f[i].col))
			return CRM_ERR(CRM_EINVAL, "'%s' is not a field of %s", f[i].col, table);
		for (size_t j = 0; j < i; j++)
			if (strcmp(f[i].col, f[j].col) == 0)
				return CRM_ERR(CRM_EINVAL, "field '%s' given twice", f[i].col);
	}
	return 0;
}

/* 1 if the row exists (a new row has no field clocks to read). */
static int row_exists(crm_store *st, const char *table, const char *row_id)
{
	char sql[128];
	sqlite3_stmt *q;
	snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" WHERE id = ?1", table);
	int err = crm_db_prepare(crm_store_db(st), &q, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, row_id, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), q);
	sqlite3_reset(q);
	return err;
}

/* Clocks and pending changes of all fields of one write: two multi-row
 * statements (cached per field count) instead of two per field. */
static int record_fields(crm_store *st, const char *table, const char *row_id, const crm_field *f,
			 size_t count, uint64_t hlc, const uint64_t *prevs)
{
	char sql[8192];
	sqlite3_stmt *q;
	const char *me = crm_store_node_id(st);
	size_t off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO crm_clock(row_id, col, hlc, node, prev) VALUES ");
	for (size_t i = 0; i < count; i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s(?1, ?%zu, ?2, ?3, ?%zu)", i ? "," : "",
					4 + 3 * i, 6 + 3 * i);
	snprintf(sql + off, sizeof(sql) - off, " ON CONFLICT(row_id, col) DO UPDATE SET hlc = excluded.hlc, "
		 "node = excluded.node, prev = excluded.prev");
	int err = crm_db_prepare(crm_store_db(st), &q, sql);
	for (int pass = 0; err == 0 && pass < 2; pass++) {
		sqlite3_bind_text(q, 1, row_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, (int64_t)hlc);
		sqlite3_bind_text(q, 3, pass ? table : me, -1, SQLITE_STATIC);
		for (size_t i = 0; i < count; i++) {
			sqlite3_bind_text(q, (int)(4 + 3 * i), f[i].col, -1, SQLITE_STATIC);
			crm_bind_value(q, (int)(5 + 3 * i), &f[i].v);
			sqlite3_bind_int64(q, (int)(6 + 3 * i), (int64_t)prevs[i]);
		}
		err = crm_db_step_done(crm_store_db(st), q);
		if (err == 0 && pass == 0) {
			off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO crm_pending(row_id, hlc, tbl, col, value, "
					       "prev_hlc) VALUES ");
			for (size_t i = 0; i < count; i++)
				off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s(?1, ?2, ?3, ?%zu, ?%zu, ?%zu)",
							i ? "," : "", 4 + 3 * i, 5 + 3 * i, 6 + 3 * i);
			err = crm_db_prepare(crm_store_db(st), &q, sql);
		}
	}
	return err;
}

static int write_fields(crm_store *st, const char *table, const char *row_id,
			const crm_field *f, size_t count)
{
	const char *cols[MAX_FIELDS];
	crm_value vals[MAX_FIELDS];
	uint64_t prevs[MAX_FIELDS], hlc = 0, max_prev = 0;
	const char *me = crm_store_node_id(st);
	int stage = -1;
	int exists = row_exists(st, table, row_id);
	int err = exists < 0 ? exists : 0;
	for (size_t i = 0; err == 0 && i < count; i++) {
		crm_stamp cur;
		uint64_t cur_prev;
		int found = 0;
		if (exists)
			err = clock_get(st, row_id, f[i].col, &cur, &cur_prev, &found);
		prevs[i] = found ? cur.hlc : 0;
		max_prev = prevs[i] > max_prev ? prevs[i] : max_prev;
		cols[i] = f[i].col;
		vals[i] = f[i].v;
		if (is_stage(table, f[i].col))
			stage = (int)i;
	}
	if (err == 0)
		err = crm_store_hlc_next(st, &hlc);
	/* An edit made after seeing a value must order after it, even when that
	 * value carries a clock from a node that runs ahead (conflict/clock.c). */
	if (hlc <= max_prev)
		hlc = max_prev + 1;
	if (err == 0)
		err = record_fields(st, table, row_id, f, count, hlc, prevs);
	if (err == 0)
		err = upsert_row(st, table, row_id, cols, vals, count);
	if (err == 0 && stage >= 0) {
		crm_stamp in = {.hlc = hlc};
		snprintf(in.node, sizeof(in.node), "%s", me);
		err = crm_merge_stage(st, row_id, &in, prevs[stage], &f[stage].v);
	}
	return err < 0 ? err : 0;
}

int crm_write(crm_store *st, const char *table, const char *row_id,
	      const crm_field *fields, size_t count)
{
	int err = check_fields(st, table, fields, count);
	if (err < 0)
		return err;
	crm_db *db = crm_store_db(st);
	if ((err = crm_db_begin(db)) < 0)
		return err;
	err = write_fields(st, table, row_id, fields, count);
	if (err < 0) {
		crm_db_rollback(db);
		return err;
	}
	return crm_db_commit(db);
}

/* Unknown table or column: keep the value by LWW in crm_extra. */
static int apply_extra(crm_store *st, const crm_change *c, const crm_stamp *in)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q,
				 "INSERT INTO crm_extra(tbl, row_id, col, value, hlc, node) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(tbl, row_id, col) DO UPDATE "
				 "SET value = excluded.value, hlc = excluded.hlc, node = excluded.node "
				 "WHERE excluded.hlc > crm_extra.hlc OR (excluded.hlc = crm_extra.hlc "
				 "AND excluded.node > crm_extra.node)");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, c->table, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->row_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, c->col, -1, SQLITE_STATIC);
	crm_bind_value(q, 4, &c->v);
	sqlite3_bind_int64(q, 5, (int64_t)in->hlc);
	sqlite3_bind_text(q, 6, in->node, -1, SQLITE_STATIC);
	err = crm_db_step_done(crm_store_db(st), q);
	return err < 0 ? err : sqlite3_changes(crm_db_handle(crm_store_db(st))) > 0;
}

int crm_apply_change(crm_store *st, const crm_change *c, const char *author)
{
	crm_stamp in = {.hlc = c->hlc}, cur;
	uint64_t cur_prev = 0;
	int found, err;
	snprintf(in.node, sizeof(in.node), "%s", author);
	const crm_table *t = crm_catalog_table(st, c->table);
	if (!t || !crm_table_column(t, c->col))
		return apply_extra(st, c, &in);
	if (is_stage(c->table, c->col))
		return crm_merge_stage(st, c->row_id, &in, c->prev_hlc, &c->v);
	if ((err = clock_get(st, c->row_id, c->col, &cur, &cur_prev, &found)) < 0)
		return err;
	crm_pick pick = crm_conflict_lww(found ? &cur : NULL, &in);
	if (pick == CRM_PICK_SAME)
		return 0;
	if (pick == CRM_PICK_KEEP) {
		/* The stored value stays; if its writer never saw this one, say so. */
		if (crm_conflict_concurrent(cur_prev, &in))
			err = crm_merge_note_lww(st, c, &in, &cur, 0);
		return err < 0 ? err : crm_merge_note_deleted_edit(st, c, &in);
	}
	if (found && crm_conflict_concurrent(c->prev_hlc, &cur))
		err = crm_merge_note_lww(st, c, &in, &cur, 1);
	if (err == 0)
		err = clock_set(st, c->row_id, c->col, in.hlc, in.node, c->prev_hlc);
	if (err == 0)
		err = upsert_row(st, c->table, c->row_id, &c->col, &c->v, 1);
	if (err == 0)
		err = crm_merge_note_deleted_edit(st, c, &in);
	return err < 0 ? err : 1;
}

int crm_write_merged(crm_store *st, const char *table, const char *row_id, const char *col,
		     const crm_value *v, const crm_stamp *stamp, uint64_t prev)
{
	int err = clock_set(st, row_id, col, stamp->hlc, stamp->node, prev);
	return err < 0 ? err : upsert_row(st, table, row_id, &col, v, 1);
}

int crm_pending_count(crm_store *st, int64_t *out)
{
	return crm_db_get_int(crm_store_db(st), out, "SELECT count(*) FROM crm_pending", NULL);
}
