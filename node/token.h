/*
 * token.h — one-time join tokens (DESIGN.md §8): what a new node needs to
 * enroll with a hub, in one line an administrator can hand over.
 *
 *   "BLT1:" base64(JSON {"hub": URL, "pin": "sha256//BASE64", "branch": CODE,
 *                        "role": laptop|branch|hq, "name": NAME, "secret": HEX})
 *
 * `pin` is the SHA-256 of the hub certificate's public key (the libcurl
 * pinned-key form); the node trusts the hub's TLS certificate through it,
 * with no CA.  `secret` is single-use.
 */
#ifndef CRM_TOKEN_H
#define CRM_TOKEN_H

typedef struct crm_token {
	char hub[256];
	char pin[128];
	char branch[64];
	char role[16];
	char name[128];
	char secret[65];
} crm_token;

/* Encode; caller frees *out. */
int crm_token_encode(char **out, const crm_token *t);
/* Decode and check every field; CRM_EINVAL naming what is wrong. */
int crm_token_decode(crm_token *t, const char *text);

#endif
