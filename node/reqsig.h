/*
 * reqsig.h — signed HTTP requests between a node and its hub (docs/PROTOCOL.md
 * §4).  A node signs every request with its Ed25519 key over
 *
 *   "BRANCHLINE-REQ-1\n" METHOD "\n" PATH?QUERY "\n" TIME_MS "\n" NONCE "\n" hex(SHA-256(body))
 *
 * and sends X-Crm-Node, X-Crm-Time, X-Crm-Nonce and X-Crm-Signature (hex).
 * The hub accepts a time within CRM_REQ_SKEW_MS of its own clock and each
 * nonce once, so a captured request cannot be replayed.
 */
#ifndef CRM_REQSIG_H
#define CRM_REQSIG_H

#include <stddef.h>
#include <stdint.h>

#include "sign.h"

#define CRM_REQ_SKEW_MS (5u * 60u * 1000u)

int crm_req_sign(char sig_hex[2 * CRM_SIG_LEN + 1], const crm_key *key, const char *method, const char *path,
		 uint64_t time_ms, const char *nonce, const void *body, size_t len);
/* The four signed-request header lines ("X-Crm-Node: ..." etc.) for one
 * request of node `node` at time_ms, with a fresh random nonce. */
typedef struct crm_req_headers {
	char line[4][200];
	const char *list[5];        /* the lines, NULL-terminated (crm_http_req.headers) */
} crm_req_headers;
int crm_req_headers_make(crm_req_headers *h, const crm_key *key, const char *node, const char *method,
			 const char *path, uint64_t time_ms, const void *body, size_t len);
/* 0 if valid, CRM_EVERIFY if not. */
int crm_req_verify(const uint8_t pub[CRM_PUBKEY_LEN], const char *sig_hex, const char *method, const char *path,
		   uint64_t time_ms, const char *nonce, const void *body, size_t len);

#endif
