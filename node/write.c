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
#include "bulk.h"
#include "conflict.h"
#include "error.h"
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
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
		err = crm_db_prepare_shaped(crm_store_db(st), &q, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, row_id, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n; i++)
		crm_bind_value(q, (int)i + 2, &vals[i]);
	return crm_db_step_done(crm_store_db(st), q);
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

/* prevs[i] = the stored clock of field i (0 if never written): one read of
 * all the row's clocks, not one per field (a new row has none). */
static int read_prevs(crm_store *st, const char *row_id, const crm_field *f, size_t count, uint64_t *prevs)
{
	sqlite3_stmt *q;
	memset(prevs, 0, count * sizeof(*prevs));
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT col, hlc FROM crm_clock WHERE row_id = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, row_id, -1, SQLITE_STATIC);
	while ((err = crm_db_step(crm_store_db(st), q)) == 1) {
		const char *col = (const char *)sqlite3_column_text(q, 0);
		for (size_t i = 0; i < count; i++)
			if (strcmp(f[i].col, col) == 0)
				prevs[i] = (uint64_t)sqlite3_column_int64(q, 1);
	}
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
	int err = read_prevs(st, row_id, f, count, prevs);
	for (size_t i = 0; err == 0 && i < count; i++) {
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

/* ------------------------------------------------ apply of received changes
 *
 * A batch arrives sorted by row (seal.c), so the changes of one row come
 * together.  A run of changes to one (table, row) is decided in memory: the
 * row's clocks are read once, each change is decided by conflict/ exactly as
 * if it were applied alone, and the winners are written at the end of the run
 * with one multi-column row upsert and one multi-row clock upsert.  Anything
 * that reads the database to decide (conflict records, the deleted check of
 * a deleted row, the stage register) first flushes what the run holds, so it
 * sees the same database it would see change by change. */

typedef struct run_clock {
	int found;
	crm_stamp s;
	uint64_t prev;
} run_clock;

typedef struct row_run {
	const crm_table *t;
	const char *row_id;
	int loaded;             /* clocks of the row read */
	int has_clocks;         /* the row has clocks, so it exists */
	int deleted_clock;      /* the row has a 'deleted' clock */
	run_clock *clk;         /* per catalog column of t */
	/* Winners not yet written: the change by column index (NULL if none),
	 * and the list of those indexes. */
	const crm_change **val;
	size_t *pend;
	size_t npend;
	size_t cap;             /* columns the arrays hold */
} row_run;

static int run_reserve(row_run *r, size_t cols)
{
	if (cols <= r->cap)
		return 0;
	run_clock *clk = realloc(r->clk, cols * sizeof(*clk));
	if (clk)
		r->clk = clk;
	const crm_change **val = realloc(r->val, cols * sizeof(*val));
	if (val)
		r->val = val;
	size_t *pend = realloc(r->pend, cols * sizeof(*pend));
	if (pend)
		r->pend = pend;
	if (!clk || !val || !pend)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	r->cap = cols;
	return 0;
}

static void run_free(row_run *r)
{
	free(r->clk);
	free(r->val);
	free(r->pend);
}

static size_t col_index(const crm_table *t, const crm_column *c) { return (size_t)(c - t->cols); }

/* Read every clock of the run's row. */
static int run_load(crm_store *st, row_run *r)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT col, hlc, node, prev FROM crm_clock WHERE row_id = ?1");
	if (err < 0)
		return err;
	memset(r->clk, 0, r->t->col_count * sizeof(*r->clk));
	r->deleted_clock = r->has_clocks = 0;
	sqlite3_bind_text(q, 1, r->row_id, -1, SQLITE_STATIC);
	while ((err = crm_db_step(crm_store_db(st), q)) == 1) {
		const char *col = (const char *)sqlite3_column_text(q, 0);
		const crm_column *c = crm_table_column(r->t, col);
		r->has_clocks = 1;
		if (strcmp(col, "deleted") == 0)
			r->deleted_clock = 1;
		if (!c)
			continue;
		run_clock *k = &r->clk[col_index(r->t, c)];
		k->found = 1;
		k->s.hlc = (uint64_t)sqlite3_column_int64(q, 1);
		snprintf(k->s.node, sizeof(k->s.node), "%s", (const char *)sqlite3_column_text(q, 2));
		k->prev = (uint64_t)sqlite3_column_int64(q, 3);
	}
	sqlite3_reset(q);
	r->loaded = err == 0;
	return err;
}

/* The clocks of the run's winners: one statement, cached per count. */
static int flush_clocks(crm_store *st, const row_run *r)
{
	char sql[SQL_MAX];
	sqlite3_stmt *q;
	size_t off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO crm_clock(row_id, col, hlc, node, prev) VALUES ");
	for (size_t i = 0; i < r->npend && off < sizeof(sql); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s(?1,?%zu,?%zu,?%zu,?%zu)", i ? "," : "",
					2 + 4 * i, 3 + 4 * i, 4 + 4 * i, 5 + 4 * i);
	if (off < sizeof(sql))
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, " ON CONFLICT(row_id, col) DO UPDATE SET "
					"hlc = excluded.hlc, node = excluded.node, prev = excluded.prev");
	if (off >= sizeof(sql))
		return CRM_ERR(CRM_ELIMIT, "too many columns in one row of %s", r->t->name);
	int err = crm_db_prepare(crm_store_db(st), &q, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, r->row_id, -1, SQLITE_STATIC);
	for (size_t i = 0; i < r->npend; i++) {
		size_t k = r->pend[i];
		sqlite3_bind_text(q, (int)(2 + 4 * i), r->t->cols[k].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, (int)(3 + 4 * i), (int64_t)r->clk[k].s.hlc);
		sqlite3_bind_text(q, (int)(4 + 4 * i), r->clk[k].s.node, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, (int)(5 + 4 * i), (int64_t)r->clk[k].prev);
	}
	return crm_db_step_done(crm_store_db(st), q);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* The winners of an existing row: one UPDATE whose shape depends only on
 * which full-text-indexed columns won (so their trigger fires exactly as for
 * a per-column write, and a table has few shapes); every other column is
 * "c = iif(?won, ?value, c)".  *done = 0 if the row is not there. */
static int update_row(crm_store *st, const row_run *r, int *done)
{
	const crm_table *t = r->t;
	char sql[SQL_MAX];
	sqlite3_stmt *q;
	size_t off = (size_t)snprintf(sql, sizeof(sql), "UPDATE \"%s\" SET ", t->name);
	for (size_t k = 0, n = 0; k < t->col_count && off < sizeof(sql); k++) {
		const char *c = t->cols[k].name;
		if (!crm_bulk_indexed(t->name, c))
			off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s\"%s\" = iif(?%zu, ?%zu, \"%s\")",
						n++ ? ", " : "", c, 2 + 2 * k, 3 + 2 * k, c);
		else if (r->val[k])
			off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s\"%s\" = ?%zu", n++ ? ", " : "", c,
						3 + 2 * k);
	}
	if (off < sizeof(sql))
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, " WHERE id = ?1");
	if (off >= sizeof(sql))
		return CRM_ERR(CRM_ELIMIT, "too many columns in %s", t->name);
	int err = crm_db_prepare(crm_store_db(st), &q, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, r->row_id, -1, SQLITE_STATIC);
	for (size_t k = 0; k < t->col_count; k++) {
		int indexed = crm_bulk_indexed(t->name, t->cols[k].name);
		if (!indexed)
			sqlite3_bind_int(q, (int)(2 + 2 * k), r->val[k] != NULL);
		if (r->val[k])
			crm_bind_value(q, (int)(3 + 2 * k), &r->val[k]->v);
	}
	err = crm_db_step_done(crm_store_db(st), q);
	*done = err == 0 && sqlite3_changes(crm_db_handle(crm_store_db(st))) > 0;
	return err;
}

/* Write what the run holds: the clocks, then the row.  A row with clocks
 * exists: update_row.  Otherwise (new, or a genesis row) an upsert of the
 * winning columns in catalog order, so one statement serves every run with
 * the same column set — a new row's set is mostly the whole row. */
static int run_flush(crm_store *st, row_run *r)
{
	const char *cols[MAX_FIELDS];
	crm_value vals[MAX_FIELDS];
	if (r->npend == 0)
		return 0;
	qsort(r->pend, r->npend, sizeof(*r->pend), cmp_size);
	int err = flush_clocks(st, r), updated = 0;
	if (err == 0 && r->has_clocks)
		err = update_row(st, r, &updated);
	for (size_t done = 0; err == 0 && !updated && done < r->npend; done += MAX_FIELDS) {
		size_t n = r->npend - done < MAX_FIELDS ? r->npend - done : MAX_FIELDS;
		for (size_t i = 0; i < n; i++) {
			cols[i] = r->t->cols[r->pend[done + i]].name;
			vals[i] = r->val[r->pend[done + i]]->v;
		}
		err = upsert_row(st, r->t->name, r->row_id, cols, vals, n);
	}
	for (size_t i = 0; i < r->npend; i++)
		r->val[r->pend[i]] = NULL;
	r->npend = 0;
	return err;
}

/* Decide one change of a known table and column against the run's clocks. */
static int run_change(crm_store *st, row_run *r, const crm_change *c, const crm_column *col, const crm_stamp *in)
{
	int err = 0;
	if (!r->loaded && (err = run_load(st, r)) < 0)
		return err;
	size_t k = col_index(r->t, col);
	run_clock *cur = &r->clk[k];
	crm_pick pick = crm_conflict_lww(cur->found ? &cur->s : NULL, in);
	if (pick == CRM_PICK_SAME)
		return 0;
	if (pick == CRM_PICK_KEEP) {
		/* The stored value stays; if its writer never saw this one, say so. */
		if (crm_conflict_concurrent(cur->prev, in) && (err = run_flush(st, r)) == 0)
			err = crm_merge_note_lww(st, c, in, &cur->s, 0);
	} else {
		if (cur->found && crm_conflict_concurrent(c->prev_hlc, &cur->s) && (err = run_flush(st, r)) == 0)
			err = crm_merge_note_lww(st, c, in, &cur->s, 1);
		if (!r->val[k])
			r->pend[r->npend++] = k;
		r->val[k] = c;
		cur->found = 1;
		cur->s = *in;
		cur->prev = c->prev_hlc;
		if (strcmp(col->name, "deleted") == 0)
			r->deleted_clock = 1;
	}
	/* Only a row with a 'deleted' clock can have been deleted. */
	if (err == 0 && r->deleted_clock && (err = run_flush(st, r)) == 0)
		err = crm_merge_note_deleted_edit(st, c, in);
	return err < 0 ? err : pick == CRM_PICK_TAKE;
}

/* One change; *r is the run it belongs to (flushed and restarted when the
 * change is for another row). */
static int apply_one(crm_store *st, row_run *r, const crm_change *c, const crm_stamp *in)
{
	const crm_table *t = crm_catalog_table(st, c->table);
	const crm_column *col = t ? crm_table_column(t, c->col) : NULL;
	if (!col)
		return apply_extra(st, c, in);
	int err = 0;
	if (r->t != t || !r->row_id || strcmp(r->row_id, c->row_id) != 0) {
		if ((err = run_flush(st, r)) < 0)
			return err;
		if ((err = run_reserve(r, t->col_count)) < 0)
			return err;
		r->t = t;
		r->row_id = c->row_id;
		r->loaded = 0;
		memset(r->val, 0, t->col_count * sizeof(*r->val));
	}
	if (is_stage(c->table, c->col)) {
		/* The register writes the stage's clock and value itself. */
		if ((err = run_flush(st, r)) < 0)
			return err;
		r->loaded = 0;
		return crm_merge_stage(st, c->row_id, in, c->prev_hlc, &c->v);
	}
	return run_change(st, r, c, col, in);
}

int crm_apply_changes(crm_store *st, const crm_change *c, size_t count, const char *author, size_t *won)
{
	crm_stamp in = {0};
	row_run r = {0};
	int err = 0;
	snprintf(in.node, sizeof(in.node), "%s", author);
	*won = 0;
	for (size_t i = 0; err >= 0 && i < count; i++) {
		in.hlc = c[i].hlc;
		err = apply_one(st, &r, &c[i], &in);
		*won += err > 0;
	}
	if (err >= 0)
		err = run_flush(st, &r);
	run_free(&r);
	return err < 0 ? err : 0;
}

int crm_apply_change(crm_store *st, const crm_change *c, const char *author)
{
	size_t won;
	int err = crm_apply_changes(st, c, 1, author, &won);
	return err < 0 ? err : won > 0;
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
