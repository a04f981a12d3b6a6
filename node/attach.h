/*
 * attach.h — files on records.  The content is a git blob in log.git
 * (content-addressed, so the same file twice is stored once); the
 * `attachments` row that points to it replicates like any record, and the
 * blob travels in the tree of the batch that carries the row.
 */
#ifndef CRM_ATTACH_H
#define CRM_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "uuid.h"

/* Largest file accepted: a batch carrying it must fit one sync request to
 * the hub (CRM_HUB_MAX_BODY, 8 MiB) with room for the rest of the batch. */
#define CRM_ATTACH_MAX (6u << 20)

/* Attach the file at path to the live record `id` of `entity`. */
int crm_attach(crm_store *st, const char *entity, const char *id, const char *path,
	       char out_id[CRM_ID_LEN + 1]);
/* The content of an attachment given by its SHA-256 (hex, or a unique prefix
 * of at least 8 digits); verified against the hash.  Caller frees *out and *name. */
int crm_attachment_get(crm_store *st, const char *hash, uint8_t **out, size_t *len, char **name);

#endif
