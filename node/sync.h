/*
 * sync.h — the node's side of sync with a hub over HTTPS (DESIGN.md §8,
 * docs/PROTOCOL.md §4): enrollment from a join token, then push and pull of
 * the change log in bounded, atomic chunks.
 */
#ifndef CRM_SYNC_H
#define CRM_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CRM_CHUNK_MIN (32u * 1024u)
#define CRM_CHUNK_MAX (256u * 1024u)

typedef struct crm_sync_opts {
	const char *hub;          /* hub URL override; NULL: the enrolled hub */
	int once;                 /* one attempt, no retries */
	int max_attempts;         /* retries on network failure (default 40) */
	int max_seconds;          /* give up after this long (default 600) */
	const char *proxy;        /* HTTP proxy, NULL: libcurl's default */
	int snapshot;             /* first install the hub's snapshot (a fresh replica only) */
	const char *snapshot_file;/* ... or this snapshot file (crm-syncd snapshot) */
	void (*progress)(void *ctx, const char *line);
	void *ctx;
} crm_sync_opts;

typedef struct crm_sync_report {
	size_t pushed;            /* batches the hub acknowledged */
	size_t pulled;            /* batches received and applied */
	size_t changes;           /* field changes applied here */
	size_t attempts;          /* sync attempts (1 + retries) */
	size_t requests;          /* HTTP requests made */
	size_t bytes_up, bytes_down;
	int64_t skew_ms;          /* this node's clock minus the hub's, if beyond tolerance */
	size_t forks;             /* nodes found forked while pulling (quarantined here) */
} crm_sync_report;

/* Enroll with the hub named in `token` and create the replica in `dir`:
 * generates the node key locally, registers its public key once (pinning
 * the hub's certificate from the token), trusts the keys the hub vouches for. */
int crm_join(crm_store **out, const char *dir, const char *token, const crm_init_opts *local,
	     const crm_sync_opts *o);

/* Push what the hub lacks and pull what this node lacks until caught up.
 * Network failures are retried with backoff (unless o->once); a refusal by
 * the hub (CRM_EDENIED) is returned at once with the hub's reason. */
int crm_sync(crm_store *st, const crm_sync_opts *o, crm_sync_report *rep);

#endif
