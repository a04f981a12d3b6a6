/*
 * fuzz_codec.c — libFuzzer target: the msgpack decoders of the change log
 * (node/codec.c).  Any input must be refused cleanly or decoded into
 * something that encodes again; nothing may crash or leak.
 */
#include "codec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	crm_batch *b = NULL;
	if (crm_batch_decode(&b, data, len) == 0)
		crm_batch_free(b);

	crm_envelope *env = NULL;
	if (crm_envelope_decode(&env, data, len) == 0) {
		/* What decodes must encode again (the relay path re-encodes). */
		uint8_t *out = NULL;
		size_t out_len = 0;
		if (crm_envelope_encode(&out, &out_len, env) < 0)
			abort();
		free(out);
		crm_envelope_free(env);
	}
	return 0;
}
