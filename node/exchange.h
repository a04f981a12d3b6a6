/*
 * exchange.h — the change log through a file (USB stick, e-mail): for
 * branches with no link at all, in both directions.
 */
#ifndef CRM_EXCHANGE_H
#define CRM_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"

#define CRM_EXCHANGE_MAX_FILE (CRM_ENVELOPE_MAX_PACK + (16u << 20))

typedef struct crm_export_report {
	size_t batches;       /* commits in the file */
	size_t nodes;         /* authors */
	uint64_t cursor;      /* pass as --since next time to export only what is new */
	size_t bytes;         /* file size */
} crm_export_report;

/* Seal, then write every batch this replica holds (or those it got after
 * cursor `since`) with their authors' public keys to `path` (written to a
 * temporary file, synced, renamed: never a half-written file at path). */
int crm_export_changes(crm_store *st, const char *path, uint64_t since, crm_export_report *rep);

/* Read `path`, verify every batch in it, then apply them all in one
 * transaction.  Importing the same file again is a no-op. */
int crm_import_changes(crm_store *st, const char *path, crm_apply_report *rep);

/* The same for a change file already in memory (a sync response, a push
 * body), with apply options (authorization, cursor). */
int crm_import_buffer(crm_store *st, const uint8_t *data, size_t len, const crm_apply_opts *opts,
		      crm_apply_report *rep, uint64_t *cursor_out);

/* A change file in memory of this replica's batches: all of them after
 * cursor `since` (own = 0), or only its own with seq > `since` (own = 1);
 * at most max_bytes of payload (at least one batch).  *cursor_out gets the
 * lseq (own = 0) or seq (own = 1) of the last batch included; *more is set
 * when batches were left out. */
int crm_export_buffer(crm_store *st, uint64_t since, int own, const char *exclude_node, size_t max_bytes,
		      uint8_t **out, size_t *len, uint64_t *cursor_out, size_t *batches, int *more);

#endif
