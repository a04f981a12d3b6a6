/*
 * bulk.h — full-text indexing deferred for a bulk write (an import).
 *
 * The FTS5 indexes follow their tables through triggers.  Inside a
 * transaction every statement that fires one runs in a statement savepoint,
 * and FTS5 writes its pending terms out as a new index segment at every
 * savepoint: one segment per written row, merged again and again.  A bulk
 * write sets the insert triggers aside for the rows it adds and indexes
 * them all at the end with one INSERT … SELECT per table — the same index,
 * built in one go.  Everything happens in the caller's transaction (SQLite's
 * DDL is transactional): a rollback restores the triggers untouched.
 */
#ifndef CRM_BULK_H
#define CRM_BULK_H

#include "store.h"

typedef struct crm_bulk crm_bulk;

/* Inside a write transaction: defer the indexing of rows added from now on.
 * *out is NULL (and nothing deferred) when the schema is not the one
 * expected; crm_bulk_end and crm_bulk_free accept NULL. */
int crm_bulk_begin(crm_store *st, crm_bulk **out);
/* Index the rows added since crm_bulk_begin and put the triggers back, in
 * the same transaction (before its commit). */
int crm_bulk_end(crm_store *st, crm_bulk *b);
void crm_bulk_free(crm_bulk *b);

/* 1 if table.col is full-text indexed (writing it re-indexes the row). */
int crm_bulk_indexed(const char *table, const char *col);

#endif
