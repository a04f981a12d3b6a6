/*
 * hash.h — the state hash: a digest of the replicated state only.
 */
#ifndef CRM_HASH_H
#define CRM_HASH_H

#include "store.h"

/* SHA-256, lower-case hex (65 bytes with NUL), over every replicated table
 * (sorted by name), its rows (sorted by id) and their fields (sorted by
 * column name), plus kept unknown fields (crm_extra).  Local metadata —
 * clocks, pending changes, settings, search indexes — is excluded, so two
 * replicas holding the same rows and values hash equal whatever order the
 * writes arrived in. */
int crm_state_hash(crm_store *st, char out[65]);

#endif
