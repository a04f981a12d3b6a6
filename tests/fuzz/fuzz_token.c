/*
 * fuzz_token.c — libFuzzer target: what an administrator pastes — join
 * tokens (node/token.c) and OpenSSH public-key lines (`crm trust add`).
 */
#include "sign.h"
#include "token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	crm_token t;
	if (crm_token_decode(&t, s) == 0) {
		char *again = NULL;
		if (crm_token_encode(&again, &t) < 0)
			abort();   /* a token that decodes must encode */
		free(again);
	}
	uint8_t pub[CRM_PUBKEY_LEN];
	crm_pubkey_from_openssh(pub, s);
	free(s);
	return 0;
}
