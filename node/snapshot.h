/*
 * snapshot.h — start a replica from a hub snapshot instead of replaying all
 * history (docs/PROTOCOL.md §6, docs/ARCHITECTURE.md "Snapshots").
 *
 * A snapshot is one file: a zlib-deflated SQLite database holding the hub's replicated
 * tables, field clocks, stage register, merge aliases, extra fields, trusted
 * keys, forks and the change-log position (crm_applied, crm_heads) — none of
 * the hub's local tables (tokens, nonces, enrolled nodes, settings, inbox) —
 * followed by a trailer of CRM_SNAPSHOT_TRAILER bytes:
 *
 *   "CRMSNAP1 " CURSOR " " SHA256HEX(z) " " HUBNODE " " SIGHEX "\n", space-padded
 *
 * where z is the deflated database; SIGHEX is the hub key's Ed25519
 * signature over
 *   "BRANCHLINE-SNAPSHOT-1\n" HUBNODE "\n" CURSOR "\n" SHA256HEX "\n" ZSIZE
 */
#ifndef CRM_SNAPSHOT_H
#define CRM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CRM_SNAPSHOT_TRAILER 320
#define CRM_SNAPSHOT_MAX (1024ull << 20)   /* largest snapshot made or accepted */

/* Seal, then write a signed snapshot of this replica to path (created
 * exclusively).  *cursor: the newest crm_applied position it contains. */
int crm_snapshot_make(crm_store *st, const char *path, uint64_t *cursor, uint64_t *bytes);

/* Verify the snapshot at path against the key of node `hub` (which this
 * replica must trust) and install it in one transaction into this replica,
 * which must hold nothing yet but its own genesis; sets hub_cursor.
 * Refused (CRM_EVERIFY / CRM_ECORRUPT / CRM_EEXISTS) with nothing changed. */
int crm_snapshot_install(crm_store *st, const char *path, const char *hub, uint64_t *cursor);

#endif
