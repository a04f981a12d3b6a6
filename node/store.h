/*
 * store.h — a replica: its SQLite file, its node key, its clock and the
 * catalog of replicated tables.
 *
 * A replica lives in one directory:
 *     crm.db     the SQLite replica (schema/ migrations, WAL mode)
 *     node.key   the node's Ed25519 private key (PKCS#8 PEM, mode 0600)
 *     log.git    the change log (bare git repository), see changelog.h
 */
#ifndef CRM_STORE_H
#define CRM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "sign.h"

typedef struct crm_store crm_store;
typedef struct crm_log crm_log;

typedef struct crm_init_opts {
	const char *name;       /* node name, required */
	const char *branch;     /* branch code ("MSK"); NULL = "HQ" */
	const char *user;       /* login of the person using this node; NULL = name */
	const char *country;    /* default phone country, ISO alpha-2; NULL = "RU" */
	const char *currency;   /* default currency, ISO 4217; NULL = "RUB" */
	const crm_key *key;     /* use this key instead of generating one (enrollment) */
	int joined;             /* enrolled with a hub: the hub writes the branch and user rows */
} crm_init_opts;

/* One column of a replicated table, from the schema (PRAGMA table_info). */
typedef struct crm_column {
	char *name;
	int is_int;             /* declared INTEGER */
	char *ref;              /* referenced table (REFERENCES clause) or NULL */
} crm_column;

typedef struct crm_table {
	char *name;
	int grow;               /* grow-only table (history, log-like) */
	crm_column *cols;       /* without "id" */
	size_t col_count;
} crm_table;

/* Create a new replica in `dir` (created if missing; must not hold one).
 * Generates the node key, runs migrations, records settings and creates the
 * branch and user rows through the write path. */
int crm_store_create(crm_store **out, const char *dir, const crm_init_opts *opts);
/* Open an existing replica; runs pending migrations. CRM_ENOTFOUND with a
 * hint if there is none in dir. */
int crm_store_open(crm_store **out, const char *dir);
void crm_store_free(crm_store *st);   /* NULL-safe */

crm_db *crm_store_db(crm_store *st);
const char *crm_store_dir(const crm_store *st);
const char *crm_store_node_id(const crm_store *st);
const crm_key *crm_store_key(const crm_store *st);

/* The change log (log.git), opened on first use and owned by the store. */
int crm_store_log(crm_store *st, crm_log **out);
/* For crm_log_repair_refs: 1 if no other process committed and none of our
 * transactions rolled back since refs were last found to match crm_heads
 * (so they still do, but for the nodes touched since); mark = 1 records
 * that they all match now and forgets the touched nodes. */
int crm_store_refs_unchanged(crm_store *st, int mark);
/* This process moved node's row of crm_heads (its ref must follow). */
int crm_store_refs_touch(crm_store *st, const char *node);
/* The nodes touched since the last mark. */
const char (*crm_store_refs_touched(const crm_store *st, size_t *count))[33];

/* Settings (crm_meta). get: CRM_ENOTFOUND if unset; caller frees *out. */
int crm_meta_get(crm_store *st, const char *key, char **out);
int crm_meta_set(crm_store *st, const char *key, const char *value);
/* A cached setting that always exists after create ("branch_id", "user_id",
 * "country", "currency", "name", "branch_code"). Borrowed. */
const char *crm_store_setting(const crm_store *st, const char *key);

/* The catalog: NULL if `name` is not a replicated table / column. */
const crm_table *crm_catalog_table(const crm_store *st, const char *name);
const crm_column *crm_table_column(const crm_table *t, const char *name);
/* All replicated tables, sorted by name. */
const crm_table *crm_catalog_tables(const crm_store *st, size_t *count);

/* Wall clock in Unix ms (overridable for tests). */
uint64_t crm_store_now_ms(const crm_store *st);
void crm_store_set_clock(crm_store *st, uint64_t (*now_ms)(void *), void *ctx);

/* The wall clock corrected by the skew measured against trusted time. */
uint64_t crm_store_clock_ms(const crm_store *st);
int64_t crm_store_skew_ms(const crm_store *st);
/* Trusted time (the hub's, reported on every response) was `trusted_ms` now:
 * remember how far off the wall clock is, if beyond tolerance, so later writes
 * are stamped with corrected time (docs/CONFLICTS.md, "Wrong clocks"). */
int crm_store_observe_time(crm_store *st, uint64_t trusted_ms);

/* The clock: issue a new local HLC (persisted with the current transaction),
 * and observe a received one (adopted only if not too far in the future). */
int crm_store_hlc_next(crm_store *st, uint64_t *out);
int crm_store_hlc_recv(crm_store *st, uint64_t remote);
/* Write the clock to crm_meta (sealing does, before pending rows go). */
int crm_store_hlc_persist(crm_store *st);

/* Deterministic name-based id (UUIDv8 from SHA-256 of "kind:name"), for rows
 * that every replica must create identically (branches by code). */
void crm_store_name_id(char out[37], const char *kind, const char *name);

/* State of crm_merge_hold/crm_merge_release (merge.h): how deep the hold,
 * and whether a refresh was asked for meanwhile. */
typedef struct crm_hold {
	int depth;
	int pending;
} crm_hold;
crm_hold *crm_store_merge_hold(crm_store *st);

#endif
