/*
 * codec.h — the msgpack adapter: change batches (the payload of one change-log
 * commit) and exchange-file envelopes.  Every msgpack-c call of libcrm lives
 * in codec.c.  Decoders treat input as hostile: every length and count is
 * checked against the limits below before anything is allocated, types are
 * checked, and any violation is CRM_ECORRUPT with a message saying where.
 * Encoders refuse what decoders would refuse (CRM_EINVAL, or CRM_ELIMIT for
 * sizes): text may not contain NUL, hlc > 0, prev_hlc < hlc, so every batch
 * has exactly one valid encoding.
 *
 * Batch payload (docs/PROTOCOL.md has the byte-level description):
 *   map {
 *     "v":    1                       format version
 *     "node": str(32 hex)             author node id
 *     "seq":  uint                    batch sequence number of the author, from 1
 *     "base": uint                    the smallest hlc in the batch
 *     "rows": array of rows, each an array:
 *        [ table:str, row_id:(bin16 UUID | str), field, field, ... ]
 *        field = col:str, value:(nil|int|float|str|bin), hlc_delta:uint, prev_delta:uint
 *        hlc = base + hlc_delta; prev_hlc = prev_delta ? hlc - prev_delta : 0
 *   }
 * A row id that is a lower-case UUID travels as 16 raw bytes; anything else
 * as text.  Unknown map keys are ignored (forward compatibility).
 */
#ifndef CRM_CODEC_H
#define CRM_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "write.h"

#define CRM_BATCH_MAX_BYTES (4u << 20)     /* a payload we accept to decode */
#define CRM_BATCH_MAX_CHANGES 200000
#define CRM_STR_MAX (1u << 20)             /* one text or blob value */

/* A decoded batch.  All strings are owned by the batch (one arena). */
typedef struct crm_batch {
	char node[33];
	uint64_t seq;
	crm_change *changes;
	size_t count;
	void *arena;        /* private */
} crm_batch;

/* An encoder that accumulates changes and produces the payload bytes. */
typedef struct crm_batch_enc crm_batch_enc;

int crm_batch_enc_new(crm_batch_enc **out, const char *node, uint64_t seq);
/* Add one change; consecutive changes of the same (table, row_id) share a row.
 * Strings are copied. */
int crm_batch_enc_add(crm_batch_enc *enc, const crm_change *c);
/* An upper bound of the encoded size so far (to bound a batch). */
size_t crm_batch_enc_size(const crm_batch_enc *enc);
/* Number of changes added. */
size_t crm_batch_enc_count(const crm_batch_enc *enc);
/* Finish: *out (malloc'd, caller frees) and *len.  The encoder is freed. */
int crm_batch_enc_finish(crm_batch_enc *enc, uint8_t **out, size_t *len);
void crm_batch_enc_free(crm_batch_enc *enc);    /* NULL-safe */

/* Decode a payload; *out owned by caller (crm_batch_free). */
int crm_batch_decode(crm_batch **out, const uint8_t *data, size_t len);
void crm_batch_free(crm_batch *b);              /* NULL-safe */

/* Exchange-file envelope. */
#define CRM_ENVELOPE_MAGIC "branchline-changes"
#define CRM_ENVELOPE_MAX_PACK ((size_t)1 << 30)
#define CRM_ENVELOPE_MAX_ENTRIES 100000

typedef struct crm_env_head {
	char node[33];
	uint64_t seq;
	char oid[41];       /* hex git object id of the node's newest commit in the pack */
} crm_env_head;

typedef struct crm_env_key {
	char node[33];
	char *pubkey;       /* OpenSSH line "ssh-ed25519 AAAA..." */
	char *name;
} crm_env_key;

typedef struct crm_envelope {
	char from[33];                 /* exporting node */
	uint64_t cursor;               /* exporter's cursor after this file */
	crm_env_head *heads;
	size_t head_count;
	crm_env_key *keys;
	size_t key_count;
	const uint8_t *pack;           /* git packfile bytes; borrowed from decode input; NULL if pack_len is 0 */
	size_t pack_len;
} crm_envelope;

/*   map { "format": "branchline-changes", "v": 1, "from": str, "cursor": uint,
 *         "heads": [ [node, seq, oid], ... ], "keys": [ [node, pubkey, name], ... ],
 *         "pack": bin } */
int crm_envelope_encode(uint8_t **out, size_t *len, const crm_envelope *env);
/* Decode; pack points into `data`, which must outlive *out.  Caller frees
 * with crm_envelope_free. */
int crm_envelope_decode(crm_envelope **out, const uint8_t *data, size_t len);
/* Frees heads, keys (with pubkey and name) and env itself. NULL-safe. */
void crm_envelope_free(crm_envelope *env);

#endif
