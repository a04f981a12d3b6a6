/*
 * query.h — the read side: lists, cards and search, as JSON documents
 * (jansson), shared by the CLI and the web API.
 */
#ifndef CRM_QUERY_H
#define CRM_QUERY_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

/* Live records of `entity`, newest first; `search` (may be NULL) filters by
 * the entity's search index; limit 0 = all.  *out is a new JSON array of
 * objects with at least "id". */
int crm_query_list(json_t **out, crm_store *st, const char *entity, const char *search, size_t limit);
/* One record with its related records (channels, deals, timeline...).
 * Deleted records are shown with "deleted": 1. CRM_ENOTFOUND if absent. */
int crm_query_show(json_t **out, crm_store *st, const char *entity, const char *id);
/* Search names, e-mails and phones across contacts, companies and deals.
 * Phones match by digits whatever the formatting.  Array of objects
 * {id, entity, title, detail}, at most `limit`. */
int crm_query_search(json_t **out, crm_store *st, const char *q, size_t limit);

/* Run sql (catalog-built, never from input) with up to two text arguments
 * (?1, ?2; NULL = unbound) and append every row to arr as an object keyed
 * by column name. */
int crm_query_rows(json_t *arr, crm_store *st, const char *sql, const char *a1, const char *a2);

/* The current row of q as a new object keyed by column name (integers,
 * reals, text; NULL as null; blobs as "(binary)"). */
json_t *crm_query_row_json(sqlite3_stmt *q);

/* Attachments of a record: array of {id, name, size, sha256, created_at}. */
int crm_query_attachments(json_t **out, crm_store *st, const char *entity, const char *id);
/* Batches of the change log this replica holds, newest first (at most limit):
 * array of {lseq, oid, node, seq}. */
int crm_query_log(json_t **out, crm_store *st, size_t limit);
/* Trusted node keys: array of {id, pubkey, name, source, revoked}. */
int crm_query_keys(json_t **out, crm_store *st);
/* Quarantined nodes (forks): array of {id, seq, known_oid, other_oid, detected_at}. */
int crm_query_forks(json_t **out, crm_store *st);

#endif
