/*
 * write.h — the one write path (DESIGN.md §5) and the apply of received
 * changes.
 *
 * Every change to replicated data — CLI, web UI, import, merge engine — goes
 * through crm_write (local edits) or crm_apply_change (writes received from
 * other nodes).  Both change the row and its per-field clocks in the
 * caller's transaction (they open a nested one if the caller has none).
 */
#ifndef CRM_WRITE_H
#define CRM_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "conflict.h"
#include "store.h"

typedef enum crm_vtype { CRM_V_NULL = 0, CRM_V_INT, CRM_V_REAL, CRM_V_TEXT, CRM_V_BLOB } crm_vtype;

/* A field value.  Text and blobs are borrowed (s, len); text need not be
 * NUL-terminated when len is set (len == 0 with s != NULL means strlen). */
typedef struct crm_value {
	crm_vtype type;
	int64_t i;
	double r;
	const char *s;
	size_t len;
} crm_value;

#define CRM_NULLV ((crm_value){CRM_V_NULL, 0, 0, NULL, 0})
#define CRM_INT(x) ((crm_value){CRM_V_INT, (x), 0, NULL, 0})
static inline crm_value crm_text_value(const char *s)
{
	return s ? (crm_value){CRM_V_TEXT, 0, 0, s, 0} : CRM_NULLV;
}
#define CRM_TEXT(x) crm_text_value(x)

typedef struct crm_field {
	const char *col;
	crm_value v;
} crm_field;

/* One change record (DESIGN.md §5): a field's new value with its clock and
 * the clock of the value it replaced.  The author is the commit's signer. */
typedef struct crm_change {
	const char *table;
	const char *row_id;
	const char *col;
	crm_value v;
	uint64_t hlc;
	uint64_t prev_hlc;
} crm_change;

/* Local edit: set `count` fields of row `row_id` in `table` (creating the row
 * if needed), stamp them all with one new HLC, and append one pending change
 * per field — all in one transaction.  Columns must be in the catalog.
 * Validation of meaning (e-mail syntax, references) is the caller's (entity.c);
 * this checks only that the table and columns replicate. */
int crm_write(crm_store *st, const char *table, const char *row_id,
	      const crm_field *fields, size_t count);

/* Apply one change written by node `author`: last writer wins by (hlc, node)
 * against the stored clock; unknown tables/columns go to crm_extra and are
 * kept.  Returns 1 if the change won, 0 if it lost or was already there.
 * The caller advances the local clock past received clocks (once per batch). */
int crm_apply_change(crm_store *st, const crm_change *c, const char *author);
/* The changes c[0..count) of one batch of `author`, in order, with the same
 * outcome as crm_apply_change on each; consecutive changes to one row are
 * decided together and written with one row and one clock statement.
 * *won counts the changes that took effect. */
int crm_apply_changes(crm_store *st, const crm_change *c, size_t count, const char *author, size_t *won);

/* For the merge engine (merge.c): set one field to a value written by
 * `stamp` (clock and row), without recording a pending change. */
int crm_write_merged(crm_store *st, const char *table, const char *row_id, const char *col,
		     const crm_value *v, const crm_stamp *stamp, uint64_t prev);
/* Bind a crm_value to parameter idx of a prepared statement. */
void crm_bind_value(sqlite3_stmt *q, int idx, const crm_value *v);

/* Number of pending (unsealed) changes. */
int crm_pending_count(crm_store *st, int64_t *out);

/* Free per-store state of this module (called by crm_store_free). */
void crm_write_cleanup(crm_store *st);

#endif
