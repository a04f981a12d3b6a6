/*
 * hub.h — crm-syncd's duties over its replica: enrollment, request
 * authentication, authorization of every pushed change, and the pull feed.
 * HTTP lives in server.c; this file knows nothing of sockets.
 *
 * The hub is a replica like any node (same store, same apply), with role hq:
 * its own key signs the rows it writes (branches at token time, users at
 * enrollment), and its crm.db is the consolidated HQ view.
 */
#ifndef CRM_HUB_H
#define CRM_HUB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CRM_HUB_MAX_BODY (8u << 20)    /* largest request body accepted */

typedef struct crm_hub_node {
	char node[33];
	char name[128];
	char branch[64];        /* code */
	char branch_id[37];
	char role[16];
	char state[16];
} crm_hub_node;

/* Create a hub replica in dir: store (name "hub", branch HQ, role hq), TLS
 * certificate (hub.pem) and the listen address. */
int crm_hub_init(const char *dir, const char *listen);
/* The URL nodes use and the certificate pin. */
int crm_hub_url(crm_store *st, char *out, size_t cap);
int crm_hub_pin(crm_store *st, char out[128]);

/* A one-time join token for a new node of `branch` with `role`. */
int crm_hub_token(crm_store *st, const char *branch, const char *role, const char *name, char **out);

/* POST /v1/enroll.  *answer: JSON for the node. */
int crm_hub_enroll(crm_store *st, const char *body, size_t len, json_t **answer, crm_hub_node *who);

/* Authenticate a signed request (reqsig.h) and load the node. CRM_EDENIED
 * for unknown or revoked nodes, CRM_EVERIFY for bad/replayed signatures. */
int crm_hub_authenticate(crm_store *st, crm_hub_node *out, const char *node, const char *time_ms,
			 const char *nonce, const char *sig, const char *method, const char *path,
			 const void *body, size_t len);

/* POST /v1/push: verify, authorize and apply a chunk of the node's batches,
 * one transaction.  CRM_EDENIED (rule broken), CRM_EFORK (forked chain),
 * CRM_EVERIFY / CRM_ECORRUPT (bad data) refuse the whole chunk. */
int crm_hub_push(crm_store *st, const crm_hub_node *who, const uint8_t *body, size_t len, json_t **answer);

/* GET /v1/pull: batches of other nodes after `since`, at most max bytes. */
int crm_hub_pull(crm_store *st, const crm_hub_node *who, uint64_t since, size_t max, uint8_t **out,
		 size_t *len, int *more);

/* GET /v1/snapshot (and crm-syncd snapshot): a signed snapshot of the
 * consolidated replica written to path (snapshot.h).  who may be NULL. */
int crm_hub_snapshot(crm_store *st, const crm_hub_node *who, const char *path, uint64_t *cursor, uint64_t *bytes);

/* Administration. */
int crm_hub_nodes(crm_store *st, json_t **out);
int crm_hub_revoke(crm_store *st, const char *node);
int crm_hub_allowed_signers(crm_store *st, char **out);

#endif
