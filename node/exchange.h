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

#endif
