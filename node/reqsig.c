/*
 * reqsig.c — request signatures (see reqsig.h).
 */
#include "reqsig.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *message(const char *method, const char *path, uint64_t time_ms, const char *nonce,
		     const void *body, size_t len, size_t *out_len)
{
	uint8_t d[CRM_SHA256_LEN];
	char hex[2 * CRM_SHA256_LEN + 1];
	crm_sha256(d, body ? body : "", body ? len : 0);
	crm_hex(hex, d, sizeof(d));
	size_t n = strlen(method) + strlen(path) + strlen(nonce) + 128;
	char *m = malloc(n);
	if (m)
		*out_len = (size_t)snprintf(m, n, "BRANCHLINE-REQ-1\n%s\n%s\n%llu\n%s\n%s", method, path,
					    (unsigned long long)time_ms, nonce, hex);
	return m;
}

int crm_req_sign(char sig_hex[2 * CRM_SIG_LEN + 1], const crm_key *key, const char *method, const char *path,
		 uint64_t time_ms, const char *nonce, const void *body, size_t len)
{
	size_t n = 0;
	uint8_t sig[CRM_SIG_LEN];
	char *m = message(method, path, time_ms, nonce, body, len, &n);
	if (!m)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int err = crm_sign_raw(sig, key, m, n);
	free(m);
	if (err == 0)
		crm_hex(sig_hex, sig, sizeof(sig));
	return err;
}

int crm_req_headers_make(crm_req_headers *h, const crm_key *key, const char *node, const char *method,
			 const char *path, uint64_t time_ms, const void *body, size_t len)
{
	char nonce_hex[33], sig[2 * CRM_SIG_LEN + 1];
	uint8_t nonce[16];
	int err = crm_random(nonce, sizeof(nonce));
	if (err == 0) {
		crm_hex(nonce_hex, nonce, sizeof(nonce));
		err = crm_req_sign(sig, key, method, path, time_ms, nonce_hex, body, len);
	}
	if (err < 0)
		return err;
	snprintf(h->line[0], sizeof(h->line[0]), "X-Crm-Node: %s", node);
	snprintf(h->line[1], sizeof(h->line[1]), "X-Crm-Time: %llu", (unsigned long long)time_ms);
	snprintf(h->line[2], sizeof(h->line[2]), "X-Crm-Nonce: %s", nonce_hex);
	snprintf(h->line[3], sizeof(h->line[3]), "X-Crm-Signature: %s", sig);
	for (int i = 0; i < 4; i++)
		h->list[i] = h->line[i];
	h->list[4] = NULL;
	return 0;
}

static int unhex(uint8_t *out, size_t n, const char *hex)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", hex[2 * i]) ||
		    !strchr("0123456789abcdef", hex[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int crm_req_verify(const uint8_t pub[CRM_PUBKEY_LEN], const char *sig_hex, const char *method, const char *path,
		   uint64_t time_ms, const char *nonce, const void *body, size_t len)
{
	uint8_t sig[CRM_SIG_LEN];
	crm_key *key = NULL;
	size_t n = 0;
	if (!sig_hex || unhex(sig, sizeof(sig), sig_hex) < 0)
		return CRM_ERR(CRM_EVERIFY, "request signature is malformed");
	char *m = message(method, path, time_ms, nonce, body, len, &n);
	int err = m ? crm_key_from_public(&key, pub) : CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0)
		err = crm_verify_raw(key, sig, m, n);
	crm_key_free(key);
	free(m);
	return err < 0 ? CRM_ERR(CRM_EVERIFY, "request signature does not verify") : 0;
}
