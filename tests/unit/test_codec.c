/*
 * test_codec.c — unit tests of node/codec.c: change batches and exchange-file
 * envelopes.  Round trips of every value type and id form; the wire shape
 * (rows grouped, UUIDs as 16 bytes, base and deltas) read back with msgpack-c;
 * hostile input — every truncation, every single-byte corruption, wrong
 * types, lying counts, limits, trailing bytes, deep nesting — must be
 * rejected with CRM_ECORRUPT or decode to a different batch the encoder
 * accepts again.  Run under ASan/UBSan these are the decoder's memory-safety
 * tests.  test_bytes_per_change prints the size of a realistic batch (raw
 * and zlib) and asserts nothing about it.
 *
 * Text values never contain NUL (codec.c design note 5): both the encoder
 * and the decoder refuse it.  Blobs carry any bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "codec.h"
#include "error.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <zlib.h>

#define NODE "0123456789abcdef0123456789abcdef"
#define NODE2 "fedcba9876543210fedcba9876543210"
#define U1 "0190f5b2-7c4e-7a3b-9f00-1234567890ab"
#define U2 "0190f5b2-7c4f-7000-8000-00000000ffff"
#define U_UPPER "0190F5B2-7C4E-7A3B-9F00-1234567890AB"
#define OID1 "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
#define OID2 "0000000000000000000000000000000000000001"
#define H0 ((uint64_t)0x019b7a3c5000 << 16)     /* an HLC in 2026 */

static const char blob_nul[] = {0, 'x', 0, (char)0xff, 0};

/* ---- helpers ------------------------------------------------------------ */

static crm_value text_n(const char *s, size_t len)
{
	return (crm_value){CRM_V_TEXT, 0, 0, s, len};
}

static crm_value blob(const char *s, size_t len)
{
	return (crm_value){CRM_V_BLOB, 0, 0, s, len};
}

static crm_value real(double r)
{
	return (crm_value){CRM_V_REAL, 0, r, NULL, 0};
}

static crm_change chg(const char *table, const char *row, const char *col, crm_value v,
		      uint64_t hlc, uint64_t prev)
{
	return (crm_change){table, row, col, v, hlc, prev};
}

static size_t vlen(const crm_value *v)
{
	return v->type == CRM_V_TEXT && v->len == 0 && v->s ? strlen(v->s) : v->len;
}

static int value_eq(const crm_value *a, const crm_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case CRM_V_NULL:
		return 1;
	case CRM_V_INT:
		return a->i == b->i;
	case CRM_V_REAL:
		return memcmp(&a->r, &b->r, sizeof(a->r)) == 0;
	default:
		return vlen(a) == vlen(b) && (vlen(a) == 0 || memcmp(a->s, b->s, vlen(a)) == 0);
	}
}

static int change_eq(const crm_change *a, const crm_change *b)
{
	return strcmp(a->table, b->table) == 0 && strcmp(a->row_id, b->row_id) == 0 &&
	       strcmp(a->col, b->col) == 0 && value_eq(&a->v, &b->v) && a->hlc == b->hlc &&
	       a->prev_hlc == b->prev_hlc;
}

static int batch_eq(const crm_batch *a, const crm_batch *b)
{
	if (strcmp(a->node, b->node) != 0 || a->seq != b->seq || a->count != b->count)
		return 0;
	for (size_t i = 0; i < a->count; i++)
		if (!change_eq(&a->changes[i], &b->changes[i]))
			return 0;
	return 1;
}

/* Encode n changes; asserts success.  Caller frees. */
static uint8_t *encode(const crm_change *c, size_t n, uint64_t seq, size_t *len)
{
	crm_batch_enc *enc;
	uint8_t *out;

	assert_int_equal(crm_batch_enc_new(&enc, NODE, seq), 0);
	for (size_t i = 0; i < n; i++) {
		int rc = crm_batch_enc_add(enc, &c[i]);
		if (rc != 0)
			fail_msg("add %zu: %s", i, crm_error_last());
	}
	assert_int_equal(crm_batch_enc_count(enc), n);
	assert_int_equal(crm_batch_enc_finish(enc, &out, len), 0);
	return out;
}

/* Re-encode a decoded batch (the decoder must accept only what the encoder
 * can write); caller frees. */
static uint8_t *reencode(const crm_batch *b, size_t *len)
{
	crm_batch_enc *enc;
	uint8_t *out;

	assert_int_equal(crm_batch_enc_new(&enc, b->node, b->seq), 0);
	for (size_t i = 0; i < b->count; i++)
		if (crm_batch_enc_add(enc, &b->changes[i]) != 0)
			fail_msg("re-encode change %zu: %s", i, crm_error_last());
	assert_int_equal(crm_batch_enc_finish(enc, &out, len), 0);
	return out;
}

static void expect_batch_error(const uint8_t *p, size_t n, const char *msg)
{
	crm_batch *b = (crm_batch *)(uintptr_t)1;
	int rc = crm_batch_decode(&b, p, n);

	if (rc == 0)
		crm_batch_free(b);
	if (rc != CRM_ECORRUPT || !strstr(crm_error_last(), msg))
		fail_msg("expected ECORRUPT \"%s\", got %d \"%s\"", msg, rc, crm_error_last());
	assert_null(b);
}

static void expect_env_error(const uint8_t *p, size_t n, const char *msg)
{
	crm_envelope *e = (crm_envelope *)(uintptr_t)1;
	int rc = crm_envelope_decode(&e, p, n);

	if (rc == 0)
		crm_envelope_free(e);
	if (rc != CRM_ECORRUPT || !strstr(crm_error_last(), msg))
		fail_msg("expected ECORRUPT \"%s\", got %d \"%s\"", msg, rc, crm_error_last());
	assert_null(e);
}

/* An exact-size heap copy, so ASan sees any read past the end. */
static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static void pk_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A packer over sb (initialized here); the caller destroys sb. */
static void pk_open(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

/* Every value type, UUID and other ids, several rows and tables, deltas. */
static size_t sample(crm_change *c)
{
	size_t n = 0;
	c[n++] = chg("contacts", U1, "name", CRM_TEXT("Zoë Ångström — 日本語 🎉"), H0 + 5, 0);
	c[n++] = chg("contacts", U1, "email", text_n("zoe@example.org!!", 15), H0 + 5, H0 + 1);
	c[n++] = chg("contacts", U1, "note", CRM_NULLV, H0 + 5, H0);
	c[n++] = chg("contacts", U1, "empty", CRM_TEXT(""), H0 + 5, 1);
	c[n++] = chg("contacts", U2, "score", CRM_INT(0), H0 + 9, 0);
	c[n++] = chg("contacts", U2, "neg", CRM_INT(-1), H0 + 9, 0);
	c[n++] = chg("contacts", U2, "min", CRM_INT(INT64_MIN), H0 + 9, 0);
	c[n++] = chg("contacts", U2, "max", CRM_INT(INT64_MAX), H0 + 9, 0);
	c[n++] = chg("deals", "legacy-42", "amount", real(1234.5), H0, 0);
	c[n++] = chg("deals", "legacy-42", "neg_zero", real(-0.0), H0, 0);
	c[n++] = chg("deals", "legacy-42", "tiny", real(4.9e-324), H0, 0);
	c[n++] = chg("deals", "legacy-42", "inf", real(-INFINITY), H0, 0);
	c[n++] = chg("deals", U_UPPER, "photo", blob(blob_nul, sizeof(blob_nul)), H0 + 1000, 0);
	c[n++] = chg("deals", U_UPPER, "empty_blob", blob(NULL, 0), H0 + 1000, H0 + 999);
	c[n++] = chg("t_2", "x", "c_1", CRM_INT(300), UINT64_MAX, UINT64_MAX - 1);
	c[n++] = chg("contacts", U1, "name", CRM_TEXT("Zoe"), H0 + 6, H0 + 5);
	return n;
}

/* ---- batch round trips --------------------------------------------------- */

static void test_batch_roundtrip_all_types(void **state)
{
	crm_change c[32];
	size_t n = sample(c), len, len2;
	crm_batch *b = NULL;
	uint8_t *out = encode(c, n, 7, &len);

	(void)state;
	assert_int_equal(crm_batch_decode(&b, out, len), 0);
	assert_string_equal(b->node, NODE);
	assert_int_equal(b->seq, 7);
	assert_int_equal(b->count, n);
	for (size_t i = 0; i < n; i++) {
		const crm_change *d = &b->changes[i];
		if (!change_eq(&c[i], d))
			fail_msg("change %zu differs after the round trip", i);
		if (d->v.type == CRM_V_TEXT || d->v.type == CRM_V_BLOB) {
			assert_non_null(d->v.s);
			assert_int_equal(d->v.s[d->v.len], '\0');   /* text is a C string too */
		}
	}
	assert_string_equal(b->changes[12].row_id, U_UPPER);   /* not folded to lower case */
	uint8_t *again = reencode(b, &len2);                   /* canonical: same bytes */
	assert_int_equal(len2, len);
	assert_memory_equal(again, out, len);
	free(again);
	free(out);
	crm_batch_free(b);
}

static void test_batch_empty(void **state)
{
	crm_batch *b = NULL;
	size_t len;
	uint8_t *out = encode(NULL, 0, 1, &len);

	(void)state;
	assert_int_equal(crm_batch_decode(&b, out, len), 0);
	assert_int_equal(b->count, 0);
	assert_int_equal(b->seq, 1);
	crm_batch_free(b);
	free(out);
}

/* Unpack with msgpack-c to look at the wire shape; caller destroys u. */
static const msgpack_object *wire_get(msgpack_unpacked *u, const uint8_t *p, size_t len,
				      const char *key)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	assert_int_equal(msgpack_unpack_next(u, (const char *)p, len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, len);
	assert_int_equal(u->data.type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < u->data.via.map.size; i++) {
		const msgpack_object_kv *kv = &u->data.via.map.ptr[i];
		if (kv->key.via.str.size == strlen(key) &&
		    memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0)
			return &kv->val;
	}
	fail_msg("key %s not found", key);
	return NULL;
}

static void test_batch_wire_rows_and_ids(void **state)
{
	crm_change c[32];
	size_t n = sample(c), len;
	msgpack_unpacked u;
	uint8_t *out = encode(c, n, 1, &len);
	const msgpack_object *rows = wire_get(&u, out, len, "rows");

	(void)state;
	/* U1 ×4, U2 ×4, legacy-42 ×4, U_UPPER ×2, x ×1, U1 again ×1 */
	assert_int_equal(rows->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(rows->via.array.size, 6);
	const uint32_t sizes[] = {18, 18, 18, 10, 6, 6};
	for (uint32_t r = 0; r < 6; r++)
		assert_int_equal(rows->via.array.ptr[r].via.array.size, sizes[r]);
	const msgpack_object *id0 = &rows->via.array.ptr[0].via.array.ptr[1];
	assert_int_equal(id0->type, MSGPACK_OBJECT_BIN);
	assert_int_equal(id0->via.bin.size, 16);
	assert_memory_equal(id0->via.bin.ptr, "\x01\x90\xf5\xb2\x7c\x4e\x7a\x3b", 8);
	assert_int_equal(rows->via.array.ptr[2].via.array.ptr[1].type, MSGPACK_OBJECT_STR);
	assert_int_equal(rows->via.array.ptr[3].via.array.ptr[1].type, MSGPACK_OBJECT_STR);
	msgpack_unpacked_destroy(&u);
	free(out);
}

static void test_batch_wire_base_and_deltas(void **state)
{
	crm_change c[32];
	size_t n = sample(c), len;
	msgpack_unpacked u;
	uint8_t *out = encode(c, n, 1, &len);
	const msgpack_object *base = wire_get(&u, out, len, "base");

	(void)state;
	assert_int_equal(base->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_true(base->via.u64 == H0);                      /* the smallest hlc, not the first */
	msgpack_unpacked_destroy(&u);
	const msgpack_object *rows = wire_get(&u, out, len, "rows");
	const msgpack_object *f = rows->via.array.ptr[0].via.array.ptr + 2;
	assert_true(f[2].via.u64 == 5 && f[3].via.u64 == 0);   /* name: delta 5, no prev */
	assert_true(f[6].via.u64 == 5 && f[7].via.u64 == 4);   /* email: prev = H0 + 1 */
	const msgpack_object *x = rows->via.array.ptr[4].via.array.ptr + 2;
	assert_true(x[2].via.u64 == UINT64_MAX - H0 && x[3].via.u64 == 1);
	msgpack_unpacked_destroy(&u);
	free(out);
}

static void test_batch_enc_size_is_upper_bound(void **state)
{
	crm_change c[32];
	size_t n = sample(c);

	(void)state;
	for (size_t k = 0; k <= n; k++) {
		crm_batch_enc *enc;
		uint8_t *out;
		size_t len, est;
		assert_int_equal(crm_batch_enc_new(&enc, NODE, 3), 0);
		for (size_t i = 0; i < k; i++)
			assert_int_equal(crm_batch_enc_add(enc, &c[i]), 0);
		est = crm_batch_enc_size(enc);
		assert_int_equal(crm_batch_enc_count(enc), k);
		assert_int_equal(crm_batch_enc_finish(enc, &out, &len), 0);
		if (len > est)
			fail_msg("%zu changes: estimate %zu below actual %zu", k, est, len);
		free(out);
	}
	assert_int_equal(crm_batch_enc_size(NULL), 0);
	assert_int_equal(crm_batch_enc_count(NULL), 0);
}

static void enc_reject(crm_change c, int code, const char *msg)
{
	crm_batch_enc *enc;

	assert_int_equal(crm_batch_enc_new(&enc, NODE, 1), 0);
	int rc = crm_batch_enc_add(enc, &c);
	if (rc != code || !strstr(crm_error_last(), msg))
		fail_msg("expected %d \"%s\", got %d \"%s\"", code, msg, rc, crm_error_last());
	assert_int_equal(crm_batch_enc_count(enc), 0);
	crm_batch_enc_free(enc);
}

static void test_batch_enc_rejects(void **state)
{
	crm_batch_enc *enc = (crm_batch_enc *)(uintptr_t)1;
	char long_id[66], *big = malloc(CRM_STR_MAX + 2);

	(void)state;
	assert_int_equal(crm_batch_enc_new(&enc, "0123456789ABCDEF0123456789abcdef", 1), CRM_EINVAL);
	assert_null(enc);
	assert_int_equal(crm_batch_enc_new(&enc, NODE "0", 1), CRM_EINVAL);
	assert_int_equal(crm_batch_enc_new(&enc, NULL, 1), CRM_EINVAL);
	assert_int_equal(crm_batch_enc_new(&enc, NODE, 0), CRM_EINVAL);
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	assert_non_null(big);
	memset(big, 'z', CRM_STR_MAX + 1);
	big[CRM_STR_MAX + 1] = '\0';
	enc_reject(chg("Contacts", U1, "name", CRM_NULLV, 1, 0), CRM_EINVAL, "table name");
	enc_reject(chg("", U1, "name", CRM_NULLV, 1, 0), CRM_EINVAL, "table name");
	enc_reject(chg(long_id, U1, "name", CRM_NULLV, 1, 0), CRM_EINVAL, "table name");
	enc_reject(chg("t", "", "name", CRM_NULLV, 1, 0), CRM_EINVAL, "row id");
	enc_reject(chg("t", long_id, "name", CRM_NULLV, 1, 0), CRM_EINVAL, "row id");
	enc_reject(chg("t", U1, "na-me", CRM_NULLV, 1, 0), CRM_EINVAL, "column name");
	enc_reject(chg("t", U1, "c", CRM_NULLV, 0, 0), CRM_EINVAL, "hlc 0");
	enc_reject(chg("t", U1, "c", CRM_NULLV, 5, 5), CRM_EINVAL, "prev_hlc");
	enc_reject(chg("t", U1, "c", CRM_NULLV, 5, 9), CRM_EINVAL, "prev_hlc");
	enc_reject(chg("t", U1, "c", text_n("a\0b", 3), 5, 0), CRM_EINVAL, "NUL");
	enc_reject(chg("t", U1, "c", (crm_value){CRM_V_TEXT, 0, 0, NULL, 0}, 5, 0), CRM_EINVAL,
		   "without a string");
	enc_reject(chg("t", U1, "c", CRM_TEXT(big), 5, 0), CRM_ELIMIT, "more than");
	enc_reject(chg("t", U1, "c", blob(big, CRM_STR_MAX + 1), 5, 0), CRM_ELIMIT, "more than");
	enc_reject(chg("t", U1, "c", blob(NULL, 3), 5, 0), CRM_EINVAL, "without bytes");
	enc_reject(chg("t", U1, "c", (crm_value){(crm_vtype)42, 0, 0, NULL, 0}, 5, 0), CRM_EINVAL,
		   "unknown value type");
	free(big);
	crm_change ok = chg("t", U1, "c", CRM_NULLV, 1, 0);
	assert_int_equal(crm_batch_enc_add(NULL, &ok), CRM_EINVAL);
	uint8_t *out;
	size_t len;
	assert_int_equal(crm_batch_enc_finish(NULL, &out, &len), CRM_EINVAL);
}

/* Exactly CRM_BATCH_MAX_CHANGES go in, decode, and one more is refused. */
static void test_batch_max_changes(void **state)
{
	crm_batch_enc *enc;
	crm_batch *b;
	crm_change c = chg("t", U1, "c", CRM_NULLV, H0, 0);
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(crm_batch_enc_new(&enc, NODE, 1), 0);
	for (int i = 0; i < CRM_BATCH_MAX_CHANGES; i++)
		assert_int_equal(crm_batch_enc_add(enc, &c), 0);
	assert_int_equal(crm_batch_enc_add(enc, &c), CRM_ELIMIT);
	assert_true(crm_batch_enc_size(enc) <= CRM_BATCH_MAX_BYTES);
	assert_int_equal(crm_batch_enc_finish(enc, &out, &len), 0);
	assert_int_equal(crm_batch_decode(&b, out, len), 0);
	assert_int_equal(b->count, CRM_BATCH_MAX_CHANGES);
	assert_string_equal(b->changes[CRM_BATCH_MAX_CHANGES - 1].row_id, U1);
	crm_batch_free(b);
	free(out);
}

/* ---- batch decode of hostile input --------------------------------------- */

static void test_batch_decode_truncated_every_length(void **state)
{
	crm_change c[32];
	size_t n = sample(c), len;
	uint8_t *out = encode(c, n, 1, &len);

	(void)state;
	for (size_t k = 0; k < len; k++) {
		uint8_t *p = dup_bytes(out, k);
		crm_batch *b = (crm_batch *)(uintptr_t)1;
		int rc = crm_batch_decode(&b, p, k);
		if (rc != CRM_ECORRUPT)
			fail_msg("prefix of %zu/%zu bytes: got %d", k, len, rc);
		assert_null(b);
		free(p);
	}
	free(out);
}

static void test_batch_decode_flipped_bytes(void **state)
{
	crm_change c[32];
	size_t n = sample(c), len, accepted = 0;
	crm_batch *orig;
	uint8_t *out = encode(c, n, 1, &len), *p = dup_bytes(out, len);
	static const uint8_t masks[] = {1, 2, 4, 8, 16, 32, 64, 128, 0xff};

	(void)state;
	assert_int_equal(crm_batch_decode(&orig, out, len), 0);
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			crm_batch *b = NULL;
			p[i] ^= masks[m];
			int rc = crm_batch_decode(&b, p, len);
			p[i] ^= masks[m];
			if (rc < 0) {
				assert_int_equal(rc, CRM_ECORRUPT);
				assert_null(b);
				continue;
			}
			accepted++;
			if (batch_eq(orig, b))
				fail_msg("byte %zu ^ 0x%02x decodes to the same batch", i, masks[m]);
			size_t len2;
			free(reencode(b, &len2));
			crm_batch_free(b);
		}
	}
	printf("flipped bytes: %zu of %zu variants decode to another valid batch\n",
	       accepted, len * sizeof(masks));
	crm_batch_free(orig);
	free(p);
	free(out);
}

enum craft {
	C_OK, C_TOP_ARRAY, C_V_STR, C_V_2, C_NODE_INT, C_NODE_UPPER, C_NODE_SHORT, C_SEQ_0,
	C_SEQ_NEG, C_BASE_STR, C_ROWS_MAP, C_NO_ROWS, C_DUP_KEY, C_KEY_INT, C_ROW_INT, C_ROW_5,
	C_ROW_2, C_TABLE_INT, C_TABLE_UPPER, C_TABLE_EMPTY, C_TABLE_65, C_TABLE_DASH, C_ROWID_INT,
	C_ROWID_BIN15, C_ROWID_EMPTY, C_ROWID_65, C_ROWID_UUID_TEXT, C_ROWID_NUL, C_COL_BIN,
	C_VAL_MAP, C_VAL_BOOL, C_VAL_ARRAY, C_VAL_EXT, C_VAL_TEXT_NUL, C_VAL_U64_BIG, C_VAL_FLOAT32,
	C_VAL_HUGE_STR, C_DELTA_NEG, C_DELTA_FLOAT, C_HLC_OVERFLOW, C_HLC_ZERO, C_PREV_ABOVE,
	C_PREV_EQUAL, C_PREV_STR, C_BASE_NOT_MIN, C_BASE_NO_CHANGES, C_UNKNOWN_KEY, C_DEEP_OK,
	C_DEEP_BAD,
};

/* 65 × 'a': one byte over the name and row id limits. */
static const char *a65(void)
{
	static char s[66];

	memset(s, 'a', 65);
	return s;
}

static void craft_nest(msgpack_packer *pk, int depth)
{
	for (int i = 0; i < depth; i++)
		msgpack_pack_array(pk, 1);
	msgpack_pack_nil(pk);
}

static void craft_value(msgpack_packer *pk, int k)
{
	switch (k) {
	case C_VAL_MAP: msgpack_pack_map(pk, 0); break;
	case C_VAL_BOOL: msgpack_pack_true(pk); break;
	case C_VAL_ARRAY: msgpack_pack_array(pk, 0); break;
	case C_VAL_EXT: msgpack_pack_ext_with_body(pk, "x", 1, 5); break;
	case C_VAL_TEXT_NUL: msgpack_pack_str_with_body(pk, "a\0b", 3); break;
	case C_VAL_U64_BIG: msgpack_pack_uint64(pk, (uint64_t)INT64_MAX + 1); break;
	case C_VAL_FLOAT32: msgpack_pack_float(pk, 2.5f); break;
	case C_VAL_HUGE_STR: {
		char *s = calloc(1, CRM_STR_MAX + 1);
		memset(s, 'a', CRM_STR_MAX + 1);
		msgpack_pack_str_with_body(pk, s, CRM_STR_MAX + 1);
		free(s);
		break;
	}
	default: pk_str(pk, "Ada"); break;
	}
}

static void craft_row_id(msgpack_packer *pk, int k)
{
	switch (k) {
	case C_ROWID_INT: msgpack_pack_int(pk, 5); break;
	case C_ROWID_BIN15: msgpack_pack_bin_with_body(pk, "0123456789abcde", 15); break;
	case C_ROWID_EMPTY: pk_str(pk, ""); break;
	case C_ROWID_65: pk_str(pk, a65()); break;
	case C_ROWID_UUID_TEXT: pk_str(pk, U1); break;
	case C_ROWID_NUL: msgpack_pack_str_with_body(pk, "a\0b", 3); break;
	default: msgpack_pack_bin_with_body(pk, "0123456789abcdef", 16); break;
	}
}

static void craft_table(msgpack_packer *pk, int k)
{
	switch (k) {
	case C_TABLE_INT: msgpack_pack_int(pk, 1); break;
	case C_TABLE_UPPER: pk_str(pk, "Contacts"); break;
	case C_TABLE_EMPTY: pk_str(pk, ""); break;
	case C_TABLE_65: pk_str(pk, a65()); break;
	case C_TABLE_DASH: pk_str(pk, "my-table"); break;
	default: pk_str(pk, "contacts"); break;
	}
}

/* rows: [[table, row_id, col, value, hlc_delta, prev_delta]] with base 1000. */
static void craft_rows(msgpack_packer *pk, int k)
{
	if (k == C_ROWS_MAP || k == C_BASE_NO_CHANGES) {
		k == C_ROWS_MAP ? msgpack_pack_map(pk, 0) : msgpack_pack_array(pk, 0);
		return;
	}
	msgpack_pack_array(pk, 1);
	if (k == C_ROW_INT || k == C_ROW_2) {
		k == C_ROW_INT ? msgpack_pack_int(pk, 3) : msgpack_pack_array(pk, 2);
		if (k == C_ROW_2) {
			craft_table(pk, k);
			craft_row_id(pk, k);
		}
		return;
	}
	msgpack_pack_array(pk, k == C_ROW_5 ? 5 : 6);
	craft_table(pk, k);
	craft_row_id(pk, k);
	k == C_COL_BIN ? (void)msgpack_pack_bin_with_body(pk, "name", 4) : pk_str(pk, "name");
	craft_value(pk, k);
	if (k == C_DELTA_NEG || k == C_DELTA_FLOAT)
		k == C_DELTA_NEG ? msgpack_pack_int(pk, -1) : msgpack_pack_double(pk, 1.0);
	else
		msgpack_pack_uint64(pk, k == C_HLC_OVERFLOW ? 5 : k == C_BASE_NOT_MIN ? 3 : 0);
	if (k == C_ROW_5)
		return;
	if (k == C_PREV_STR)
		pk_str(pk, "1");
	else
		msgpack_pack_uint64(pk, k == C_PREV_ABOVE ? 1001 : k == C_PREV_EQUAL ? 1000 : 7);
}

static uint64_t craft_base(int k)
{
	return k == C_HLC_OVERFLOW ? UINT64_MAX - 1 : k == C_HLC_ZERO ? 0
	       : k == C_BASE_NO_CHANGES ? 5 : 1000;
}

static void craft(msgpack_sbuffer *sb, int k)
{
	msgpack_packer pk;

	pk_open(sb, &pk);
	if (k == C_TOP_ARRAY) {
		msgpack_pack_array(&pk, 0);
		return;
	}
	msgpack_pack_map(&pk, 5 + (k == C_DUP_KEY) + (k == C_KEY_INT) - (k == C_NO_ROWS) +
			 (k == C_UNKNOWN_KEY || k == C_DEEP_OK || k == C_DEEP_BAD));
	if (k == C_KEY_INT) {
		msgpack_pack_int(&pk, 7);
		msgpack_pack_nil(&pk);
	}
	if (k == C_UNKNOWN_KEY || k == C_DEEP_OK || k == C_DEEP_BAD) {
		pk_str(&pk, "future");
		craft_nest(&pk, k == C_DEEP_OK ? 8 : k == C_DEEP_BAD ? 40 : 1);
	}
	pk_str(&pk, "v");
	k == C_V_STR ? pk_str(&pk, "1") : msgpack_pack_uint64(&pk, k == C_V_2 ? 2 : 1);
	pk_str(&pk, "node");
	if (k == C_NODE_INT)
		msgpack_pack_int(&pk, 1);
	else
		pk_str(&pk, k == C_NODE_UPPER ? "0123456789ABCDEF0123456789abcdef"
			    : k == C_NODE_SHORT ? "0123456789abcdef0123456789abcde" : NODE);
	pk_str(&pk, "seq");
	k == C_SEQ_NEG ? msgpack_pack_int(&pk, -3) : msgpack_pack_uint64(&pk, k == C_SEQ_0 ? 0 : 4);
	pk_str(&pk, "base");
	k == C_BASE_STR ? pk_str(&pk, "1000") : msgpack_pack_uint64(&pk, craft_base(k));
	if (k != C_NO_ROWS) {
		pk_str(&pk, "rows");
		craft_rows(&pk, k);
	}
	if (k == C_DUP_KEY) {
		pk_str(&pk, "seq");
		msgpack_pack_uint64(&pk, 9);
	}
}

static const struct {
	int k;
	const char *msg;
} craft_cases[] = {
	{C_TOP_ARRAY, "top-level object is not a map"},
	{C_V_STR, "\"v\" is not"}, {C_V_2, "\"v\" is not"},
	{C_NODE_INT, "\"node\""}, {C_NODE_UPPER, "\"node\""}, {C_NODE_SHORT, "\"node\""},
	{C_SEQ_0, "\"seq\""}, {C_SEQ_NEG, "\"seq\""}, {C_BASE_STR, "\"base\""},
	{C_ROWS_MAP, "\"rows\" is not an array"}, {C_NO_ROWS, "key \"rows\" is missing"},
	{C_DUP_KEY, "key \"seq\" appears twice"}, {C_KEY_INT, "map key 0 is not a string"},
	{C_ROW_INT, "row 0 is not an array"}, {C_ROW_5, "row 0 has 5 elements"},
	{C_ROW_2, "row 0 has 2 elements"},
	{C_TABLE_INT, "row 0: table name"}, {C_TABLE_UPPER, "row 0: table name"},
	{C_TABLE_EMPTY, "row 0: table name"}, {C_TABLE_65, "row 0: table name"},
	{C_TABLE_DASH, "row 0: table name"},
	{C_ROWID_INT, "row 0: row id is not text"}, {C_ROWID_BIN15, "blob of 15 bytes"},
	{C_ROWID_EMPTY, "row 0: row id is not 1..64"}, {C_ROWID_65, "row 0: row id is not 1..64"},
	{C_ROWID_UUID_TEXT, "UUID sent as text"}, {C_ROWID_NUL, "without NUL"},
	{C_COL_BIN, "row 0 field 0: column name"},
	{C_VAL_MAP, "row 0 field 0: value is not"}, {C_VAL_BOOL, "value is not nil"},
	{C_VAL_ARRAY, "value is not nil"}, {C_VAL_EXT, "value is not nil"},
	{C_VAL_TEXT_NUL, "text value contains a NUL"}, {C_VAL_U64_BIG, "above INT64_MAX"},
	{C_VAL_HUGE_STR, "more than 1048576"},
	{C_DELTA_NEG, "hlc delta is not"}, {C_DELTA_FLOAT, "hlc delta is not"},
	{C_HLC_OVERFLOW, "overflows base"}, {C_HLC_ZERO, "hlc is 0"},
	{C_PREV_ABOVE, "prev delta 1001 is not below hlc 1000"},
	{C_PREV_EQUAL, "prev delta 1000 is not below hlc 1000"},
	{C_PREV_STR, "prev delta is not"}, {C_BASE_NOT_MIN, "not the smallest hlc"},
	{C_BASE_NO_CHANGES, "no changes"}, {C_DEEP_BAD, "nested deeper"},
};

static void test_batch_decode_crafted(void **state)
{
	msgpack_sbuffer sb;
	crm_batch *b;

	(void)state;
	static const int accepted[] = {C_OK, C_DEEP_OK};
	for (size_t i = 0; i < 2; i++) {
		craft(&sb, accepted[i]);
		assert_int_equal(crm_batch_decode(&b, (uint8_t *)sb.data, sb.size), 0);
		assert_int_equal(b->count, 1);
		assert_string_equal(b->changes[0].row_id, "30313233-3435-3637-3839-616263646566");
		assert_true(b->changes[0].hlc == 1000 && b->changes[0].prev_hlc == 993);
		crm_batch_free(b);
		msgpack_sbuffer_destroy(&sb);
	}
	for (size_t i = 0; i < sizeof(craft_cases) / sizeof(craft_cases[0]); i++) {
		craft(&sb, craft_cases[i].k);
		uint8_t *p = dup_bytes((uint8_t *)sb.data, sb.size);
		expect_batch_error(p, sb.size, craft_cases[i].msg);
		free(p);
		msgpack_sbuffer_destroy(&sb);
	}
}

static void test_batch_decode_unknown_key_and_float32(void **state)
{
	msgpack_sbuffer sb;
	crm_batch *b;

	(void)state;
	craft(&sb, C_UNKNOWN_KEY);
	assert_int_equal(crm_batch_decode(&b, (uint8_t *)sb.data, sb.size), 0);
	assert_int_equal(b->count, 1);
	crm_batch_free(b);
	msgpack_sbuffer_destroy(&sb);
	craft(&sb, C_VAL_FLOAT32);
	assert_int_equal(crm_batch_decode(&b, (uint8_t *)sb.data, sb.size), 0);
	assert_int_equal(b->changes[0].v.type, CRM_V_REAL);
	assert_true(b->changes[0].v.r == 2.5);
	crm_batch_free(b);
	msgpack_sbuffer_destroy(&sb);
}

/* Headers that announce far more than the input holds: refused by the
 * pre-scan, before msgpack-c allocates anything for them. */
static void test_batch_decode_oversize_counts(void **state)
{
	static const uint8_t arr32[] = {0xdd, 0x80, 0x00, 0x00, 0x00};
	static const uint8_t map32[] = {0xdf, 0x80, 0x00, 0x00, 0x00, 0xc0};
	static const uint8_t str32[] = {0xdb, 0x80, 0x00, 0x00, 0x00, 'a'};
	static const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t map16[] = {0xde, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0};
	static const uint8_t ext32[] = {0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t bad[] = {0xc1};
	msgpack_sbuffer sb;
	msgpack_packer pk;

	(void)state;
	expect_batch_error(arr32, sizeof(arr32), "announces 2147483648 elements");
	expect_batch_error(map32, sizeof(map32), "announces 4294967296 elements");
	expect_batch_error(str32, sizeof(str32), "truncated at offset 0");
	expect_batch_error(bin32, sizeof(bin32), "truncated");
	expect_batch_error(map16, sizeof(map16), "announces 131070 elements");
	expect_batch_error(ext32, sizeof(ext32), "truncated");
	expect_batch_error(bad, sizeof(bad), "byte 0xc1 at offset 0 is not msgpack");
	/* a valid start whose "rows" claims 2^31 rows */
	pk_open(&sb, &pk);
	msgpack_pack_map(&pk, 5);
	pk_str(&pk, "v"); msgpack_pack_uint64(&pk, 1);
	pk_str(&pk, "node"); pk_str(&pk, NODE);
	pk_str(&pk, "seq"); msgpack_pack_uint64(&pk, 1);
	pk_str(&pk, "base"); msgpack_pack_uint64(&pk, 1);
	pk_str(&pk, "rows"); msgpack_pack_array(&pk, 0x80000000u);
	msgpack_pack_nil(&pk);
	expect_batch_error((uint8_t *)sb.data, sb.size, "announces 2147483648 elements");
	msgpack_sbuffer_destroy(&sb);
}

/* One row of CRM_BATCH_MAX_CHANGES + 1 fields: within the byte limit, over
 * the change limit. */
static void test_batch_decode_too_many_changes(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t fields = CRM_BATCH_MAX_CHANGES + 1;

	(void)state;
	pk_open(&sb, &pk);
	msgpack_pack_map(&pk, 5);
	pk_str(&pk, "v"); msgpack_pack_uint64(&pk, 1);
	pk_str(&pk, "node"); pk_str(&pk, NODE);
	pk_str(&pk, "seq"); msgpack_pack_uint64(&pk, 1);
	pk_str(&pk, "base"); msgpack_pack_uint64(&pk, 1);
	pk_str(&pk, "rows"); msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 2 + 4 * fields);
	pk_str(&pk, "t");
	pk_str(&pk, "r");
	for (size_t i = 0; i < fields; i++) {
		pk_str(&pk, "c");
		msgpack_pack_nil(&pk);
		msgpack_pack_uint64(&pk, 0);
		msgpack_pack_uint64(&pk, 0);
	}
	assert_true(sb.size <= CRM_BATCH_MAX_BYTES);
	expect_batch_error((uint8_t *)sb.data, sb.size, "more than 200000 changes");
	msgpack_sbuffer_destroy(&sb);
}

static void test_batch_decode_limits_and_trailing(void **state)
{
	crm_change c[32];
	size_t n = sample(c), len;
	uint8_t *out = encode(c, n, 1, &len);
	uint8_t *big = calloc(1, CRM_BATCH_MAX_BYTES + 1);
	uint8_t *two = malloc(2 * len);
	crm_batch *b;

	(void)state;
	assert_non_null(big);
	assert_non_null(two);
	expect_batch_error(big, CRM_BATCH_MAX_BYTES + 1, "more than the limit");
	expect_batch_error(NULL, 0, "empty input");
	expect_batch_error(out, 0, "empty input");
	memcpy(two, out, len);
	two[len] = 0xc0;
	expect_batch_error(two, len + 1, "1 trailing bytes");
	memcpy(two + len, out, len);                          /* two top-level maps */
	expect_batch_error(two, 2 * len, "trailing bytes");
	assert_int_equal(crm_batch_decode(NULL, out, len), CRM_EINVAL);
	assert_int_equal(crm_batch_decode(&b, out, len), 0);
	crm_batch_free(b);
	crm_batch_free(NULL);
	free(two);
	free(big);
	free(out);
}

/* ---- envelope ------------------------------------------------------------ */

static const uint8_t pack_bytes[] = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0, 0xff, 0x00};

static crm_envelope sample_env(crm_env_head *heads, crm_env_key *keys)
{
	heads[0] = (crm_env_head){NODE, 12, OID1};
	heads[1] = (crm_env_head){NODE2, 1, OID2};
	keys[0] = (crm_env_key){NODE, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx ana@laptop",
				"Ана's laptop"};
	keys[1] = (crm_env_key){NODE2, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFy", ""};
	return (crm_envelope){NODE, 42, heads, 2, keys, 2, pack_bytes, sizeof(pack_bytes)};
}

static void test_envelope_roundtrip(void **state)
{
	crm_env_head heads[2];
	crm_env_key keys[2];
	crm_envelope in = sample_env(heads, keys), *e;
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(crm_envelope_encode(&out, &len, &in), 0);
	assert_int_equal(crm_envelope_decode(&e, out, len), 0);
	assert_string_equal(e->from, NODE);
	assert_true(e->cursor == 42);
	assert_int_equal(e->head_count, 2);
	assert_int_equal(e->key_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(e->heads[i].node, heads[i].node);
		assert_true(e->heads[i].seq == heads[i].seq);
		assert_string_equal(e->heads[i].oid, heads[i].oid);
		assert_string_equal(e->keys[i].node, keys[i].node);
		assert_string_equal(e->keys[i].pubkey, keys[i].pubkey);
		assert_string_equal(e->keys[i].name, keys[i].name);
	}
	assert_int_equal(e->pack_len, sizeof(pack_bytes));
	assert_memory_equal(e->pack, pack_bytes, sizeof(pack_bytes));
	/* zero-copy: the pack is the tail of the input (the last map value) */
	assert_ptr_equal(e->pack, out + len - sizeof(pack_bytes));
	crm_envelope_free(e);
	free(out);
}

static void test_envelope_empty(void **state)
{
	crm_envelope in = {NODE2, 0, NULL, 0, NULL, 0, NULL, 0}, *e;
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(crm_envelope_encode(&out, &len, &in), 0);
	assert_int_equal(crm_envelope_decode(&e, out, len), 0);
	assert_string_equal(e->from, NODE2);
	assert_int_equal(e->head_count, 0);
	assert_int_equal(e->key_count, 0);
	assert_null(e->pack);
	assert_int_equal(e->pack_len, 0);
	crm_envelope_free(e);
	crm_envelope_free(NULL);
	free(out);
}

static void test_envelope_truncated_and_flipped(void **state)
{
	crm_env_head heads[2];
	crm_env_key keys[2];
	crm_envelope in = sample_env(heads, keys);
	static const uint8_t masks[] = {1, 2, 4, 8, 16, 32, 64, 128, 0xff};
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(crm_envelope_encode(&out, &len, &in), 0);
	for (size_t k = 0; k < len; k++) {
		uint8_t *p = dup_bytes(out, k);
		crm_envelope *e = (crm_envelope *)(uintptr_t)1;
		assert_int_equal(crm_envelope_decode(&e, p, k), CRM_ECORRUPT);
		assert_null(e);
		free(p);
	}
	uint8_t *p = dup_bytes(out, len);
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			crm_envelope *e = NULL;
			p[i] ^= masks[m];
			int rc = crm_envelope_decode(&e, p, len);
			p[i] ^= masks[m];
			assert_true(rc == 0 || rc == CRM_ECORRUPT);
			assert_true(rc == 0 ? e != NULL : e == NULL);
			crm_envelope_free(e);
		}
	}
	free(p);
	free(out);
}

enum ecraft {
	E_OK, E_FORMAT, E_NO_FORMAT, E_V2, E_FROM_UPPER, E_CURSOR_NEG, E_HEADS_MAP, E_HEADS_HUGE,
	E_HEADS_MANY, E_HEAD_SHORT, E_HEAD_SEQ0, E_OID_UPPER, E_OID_39, E_HEAD_NODE, E_KEYS_INT,
	E_KEY_PUB_EMPTY, E_KEY_NAME_NUL, E_KEY_NAME_INT, E_PACK_STR, E_DUP, E_TRAILING,
};

static void ecraft_heads(msgpack_packer *pk, int k)
{
	if (k == E_HEADS_MAP || k == E_HEADS_HUGE || k == E_HEADS_MANY) {
		if (k == E_HEADS_MAP)
			msgpack_pack_map(pk, 0);
		else
			msgpack_pack_array(pk, k == E_HEADS_HUGE ? 0x80000000u : 100001u);
		for (int i = 0; k == E_HEADS_MANY && i < 100001; i++)
			msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, k == E_HEAD_SHORT ? 2 : 3);
	pk_str(pk, k == E_HEAD_NODE ? "node" : NODE);
	msgpack_pack_uint64(pk, k == E_HEAD_SEQ0 ? 0 : 3);
	if (k != E_HEAD_SHORT)
		pk_str(pk, k == E_OID_UPPER ? "4B825DC642CB6EB9A060E54BF8D69288FBEE4904"
			   : k == E_OID_39 ? "4b825dc642cb6eb9a060e54bf8d69288fbee490" : OID1);
}

static void ecraft_keys(msgpack_packer *pk, int k)
{
	if (k == E_KEYS_INT) {
		msgpack_pack_int(pk, 0);
		return;
	}
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 3);
	pk_str(pk, NODE2);
	pk_str(pk, k == E_KEY_PUB_EMPTY ? "" : "ssh-ed25519 AAAA");
	if (k == E_KEY_NAME_NUL)
		msgpack_pack_str_with_body(pk, "a\0b", 3);
	else if (k == E_KEY_NAME_INT)
		msgpack_pack_int(pk, 1);
	else
		pk_str(pk, "laptop");
}

static void ecraft(msgpack_sbuffer *sb, int k)
{
	msgpack_packer pk;

	pk_open(sb, &pk);
	msgpack_pack_map(&pk, 7 - (k == E_NO_FORMAT) + (k == E_DUP));
	if (k != E_NO_FORMAT) {
		pk_str(&pk, "format");
		pk_str(&pk, k == E_FORMAT ? "branchline-change" : CRM_ENVELOPE_MAGIC);
	}
	pk_str(&pk, "v"); msgpack_pack_uint64(&pk, k == E_V2 ? 2 : 1);
	pk_str(&pk, "from"); pk_str(&pk, k == E_FROM_UPPER ? "0123456789ABCDEF0123456789ABCDEF" : NODE);
	pk_str(&pk, "cursor");
	k == E_CURSOR_NEG ? msgpack_pack_int(&pk, -1) : msgpack_pack_uint64(&pk, 9);
	pk_str(&pk, "heads"); ecraft_heads(&pk, k);
	pk_str(&pk, "keys"); ecraft_keys(&pk, k);
	pk_str(&pk, "pack");
	k == E_PACK_STR ? pk_str(&pk, "PACK") : msgpack_pack_bin_with_body(&pk, "PACK", 4);
	if (k == E_DUP) {
		pk_str(&pk, "cursor");
		msgpack_pack_uint64(&pk, 1);
	}
	if (k == E_TRAILING)
		msgpack_pack_nil(&pk);
}

static const struct {
	int k;
	const char *msg;
} ecraft_cases[] = {
	{E_FORMAT, "\"format\" is not \"branchline-changes\""}, {E_NO_FORMAT, "\"format\" is missing"},
	{E_V2, "\"v\" is not"}, {E_FROM_UPPER, "\"from\""}, {E_CURSOR_NEG, "\"cursor\""},
	{E_HEADS_MAP, "\"heads\" is not an array"}, {E_HEADS_HUGE, "announces 2147483648"},
	{E_HEADS_MANY, "100001 heads, more than 100000"}, {E_HEAD_SHORT, "head 0 is not"},
	{E_HEAD_SEQ0, "head 0: seq"}, {E_OID_UPPER, "head 0: oid"}, {E_OID_39, "head 0: oid"},
	{E_HEAD_NODE, "head 0: node id"}, {E_KEYS_INT, "\"keys\" is not an array"},
	{E_KEY_PUB_EMPTY, "key 0: pubkey"}, {E_KEY_NAME_NUL, "key 0: name"},
	{E_KEY_NAME_INT, "key 0: name"}, {E_PACK_STR, "\"pack\" is not a blob"},
	{E_DUP, "key \"cursor\" appears twice"}, {E_TRAILING, "1 trailing bytes"},
};

static void test_envelope_decode_crafted(void **state)
{
	msgpack_sbuffer sb;
	crm_envelope *e;

	(void)state;
	ecraft(&sb, E_OK);
	assert_int_equal(crm_envelope_decode(&e, (uint8_t *)sb.data, sb.size), 0);
	assert_int_equal(e->head_count, 1);
	assert_string_equal(e->keys[0].name, "laptop");
	assert_memory_equal(e->pack, "PACK", 4);
	crm_envelope_free(e);
	msgpack_sbuffer_destroy(&sb);
	for (size_t i = 0; i < sizeof(ecraft_cases) / sizeof(ecraft_cases[0]); i++) {
		ecraft(&sb, ecraft_cases[i].k);
		uint8_t *p = dup_bytes((uint8_t *)sb.data, sb.size);
		expect_env_error(p, sb.size, ecraft_cases[i].msg);
		free(p);
		msgpack_sbuffer_destroy(&sb);
	}
}

static void test_envelope_encode_rejects(void **state)
{
	crm_env_head heads[2];
	crm_env_key keys[2];
	crm_envelope in = sample_env(heads, keys), bad;
	uint8_t *out = (uint8_t *)(uintptr_t)1;
	size_t len;

	(void)state;
	bad = in;
	memcpy(bad.from, "0123456789ABCDEF0123456789abcdef", 33);
	assert_int_equal(crm_envelope_encode(&out, &len, &bad), CRM_EINVAL);
	assert_null(out);
	heads[1].oid[3] = 'G';
	assert_int_equal(crm_envelope_encode(&out, &len, &in), CRM_EINVAL);
	heads[1].oid[3] = '0';
	heads[1].seq = 0;
	assert_int_equal(crm_envelope_encode(&out, &len, &in), CRM_EINVAL);
	heads[1].seq = 1;
	keys[1].pubkey = "";
	assert_int_equal(crm_envelope_encode(&out, &len, &in), CRM_EINVAL);
	keys[1].pubkey = "ssh-ed25519 AAAA";
	keys[1].name = NULL;                                  /* allowed: sent as "" */
	assert_int_equal(crm_envelope_encode(&out, &len, &in), 0);
	free(out);
	bad = in;
	bad.head_count = CRM_ENVELOPE_MAX_ENTRIES + 1;
	assert_int_equal(crm_envelope_encode(&out, &len, &bad), CRM_ELIMIT);
	bad = in;
	bad.pack_len = CRM_ENVELOPE_MAX_PACK + 1;
	assert_int_equal(crm_envelope_encode(&out, &len, &bad), CRM_ELIMIT);
	bad = in;
	bad.pack = NULL;
	assert_int_equal(crm_envelope_encode(&out, &len, &bad), CRM_EINVAL);
	assert_int_equal(crm_envelope_encode(&out, &len, NULL), CRM_EINVAL);
	assert_int_equal(crm_envelope_decode(NULL, out, 0), CRM_EINVAL);
}

/* ---- size of a realistic batch (printed, not asserted) ------------------- */

static uint32_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(*s >> 33);
}

static const char *pick(uint64_t *s, const char *const *list, size_t n)
{
	return list[lcg(s) % n];
}

#define PICK(s, list) pick((s), (list), sizeof(list) / sizeof((list)[0]))

static const char *const firsts[] = {"Anna", "Dmitri", "Olga", "Sven", "Maria", "Ivan",
	"Chloé", "Jürgen", "Aisha", "Kenji", "Lucía", "Pavel", "Grace", "Tomás"};
static const char *const lasts[] = {"Ivanova", "Petrov", "Müller", "Smith", "García",
	"Nakamura", "Kowalski", "Dubois", "Okafor", "Lindqvist", "Rossi", "Novak"};
static const char *const companies[] = {"Acme Logistics LLC", "Nordwind GmbH",
	"Sibirskaya Torgovaya Kompaniya", "Blue Harbor Foods", "Kaizen Robotics KK",
	"Petrov & Sons", "Lumen Analytics", "Green Valley Farms", "Orbita Telecom"};
static const char *const titles[] = {"Head of Procurement", "CEO", "Sales Manager",
	"Office Manager", "CTO", "Purchasing Specialist", "Founder", "Account Executive"};
static const char *const cities[] = {"Moscow", "Berlin", "Kazan", "Lyon", "Osaka",
	"Novosibirsk", "Austin", "Lagos", "Gothenburg", "Milan"};
static const char *const sources[] = {"website", "referral", "trade show", "cold call",
	"import"};

/* Contact i's ten fields, all stamped with one hlc (as crm_write does). */
static size_t contact_fields(uint64_t *s, crm_change *c, const char *id, uint64_t hlc,
			     char bufs[4][96])
{
	const char *first = PICK(s, firsts), *last = PICK(s, lasts), *co = PICK(s, companies);
	size_t n = 0;
	snprintf(bufs[0], 96, "%s %s", first, last);
	snprintf(bufs[1], 96, "%c.%s%u@%s.example.com", first[0], last, lcg(s) % 100,
		 co[0] == 'A' ? "acme" : "mail");
	snprintf(bufs[2], 96, "+7 9%02u %03u-%02u-%02u", lcg(s) % 100, lcg(s) % 1000,
		 lcg(s) % 100, lcg(s) % 100);
	snprintf(bufs[3], 96, "Met at %s; interested in %u units, call back in Q%u.",
		 PICK(s, sources), 10 + lcg(s) % 990, 1 + lcg(s) % 4);
	c[n++] = chg("contacts", id, "name", CRM_TEXT(bufs[0]), hlc, 0);
	c[n++] = chg("contacts", id, "email", CRM_TEXT(bufs[1]), hlc, 0);
	c[n++] = chg("contacts", id, "phone", CRM_TEXT(bufs[2]), hlc, 0);
	c[n++] = chg("contacts", id, "company", CRM_TEXT(co), hlc, 0);
	c[n++] = chg("contacts", id, "title", CRM_TEXT(PICK(s, titles)), hlc, 0);
	c[n++] = chg("contacts", id, "city", CRM_TEXT(PICK(s, cities)), hlc, 0);
	c[n++] = chg("contacts", id, "source", CRM_TEXT(PICK(s, sources)), hlc, 0);
	c[n++] = chg("contacts", id, "notes", CRM_TEXT(bufs[3]), hlc, 0);
	c[n++] = chg("contacts", id, "score", CRM_INT((int64_t)(lcg(s) % 100)), hlc, 0);
	c[n++] = chg("contacts", id, "created_at", CRM_INT(1767225600 + (int64_t)(lcg(s) % 86400)),
		     hlc, 0);
	return n;
}

static void print_size(const char *what, const uint8_t *p, size_t len, size_t count)
{
	uLongf zlen = compressBound((uLong)len);
	Bytef *z = malloc(zlen);

	assert_non_null(z);
	assert_int_equal(compress2(z, &zlen, p, (uLong)len, 6), Z_OK);
	printf("%s: %zu changes, %zu bytes raw = %.1f B/change; zlib-6 %lu bytes = %.1f B/change\n",
	       what, count, len, (double)len / (double)count, (unsigned long)zlen,
	       (double)zlen / (double)count);
	free(z);
}

static void test_bytes_per_change(void **state)
{
	enum { CONTACTS = 300, FIELDS = 10 };
	uint64_t seed = 20260101, ms = 1767225600000;
	crm_batch_enc *enc, *upd;
	char ids[CONTACTS][37], bufs[4][96];
	crm_change c[FIELDS];
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(crm_batch_enc_new(&enc, NODE, 17), 0);
	assert_int_equal(crm_batch_enc_new(&upd, NODE, 18), 0);
	for (int i = 0; i < CONTACTS; i++) {
		uint64_t hlc = (ms << 16) + (uint64_t)i;           /* consecutive hlcs */
		snprintf(ids[i], 37, "%08" PRIx64 "-%04" PRIx64 "-7%03x-%04x-%04x%08x",
			 (ms + (uint64_t)i / 8) >> 16, (ms + (uint64_t)i / 8) & 0xffff,
			 lcg(&seed) & 0xfff, 0x8000 | (lcg(&seed) & 0x3fff), lcg(&seed) & 0xffff,
			 lcg(&seed));
		size_t n = contact_fields(&seed, c, ids[i], hlc, bufs);
		for (size_t f = 0; f < n; f++)
			assert_int_equal(crm_batch_enc_add(enc, &c[f]), 0);
		crm_change e = chg("contacts", ids[i], "title", CRM_TEXT(PICK(&seed, titles)),
				   hlc + 70000, hlc);
		assert_int_equal(crm_batch_enc_add(upd, &e), 0);
	}
	size_t est = crm_batch_enc_size(enc);
	assert_int_equal(crm_batch_enc_finish(enc, &out, &len), 0);
	printf("enc_size estimate %zu for %zu actual bytes\n", est, len);
	print_size("300 new contacts x 10 fields", out, len, CONTACTS * FIELDS);
	free(out);
	assert_int_equal(crm_batch_enc_finish(upd, &out, &len), 0);
	print_size("300 one-field edits (prev_hlc set)", out, len, CONTACTS);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_roundtrip_all_types),
		cmocka_unit_test(test_batch_empty),
		cmocka_unit_test(test_batch_wire_rows_and_ids),
		cmocka_unit_test(test_batch_wire_base_and_deltas),
		cmocka_unit_test(test_batch_enc_size_is_upper_bound),
		cmocka_unit_test(test_batch_enc_rejects),
		cmocka_unit_test(test_batch_max_changes),
		cmocka_unit_test(test_batch_decode_truncated_every_length),
		cmocka_unit_test(test_batch_decode_flipped_bytes),
		cmocka_unit_test(test_batch_decode_crafted),
		cmocka_unit_test(test_batch_decode_unknown_key_and_float32),
		cmocka_unit_test(test_batch_decode_oversize_counts),
		cmocka_unit_test(test_batch_decode_too_many_changes),
		cmocka_unit_test(test_batch_decode_limits_and_trailing),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_empty),
		cmocka_unit_test(test_envelope_truncated_and_flipped),
		cmocka_unit_test(test_envelope_decode_crafted),
		cmocka_unit_test(test_envelope_encode_rejects),
		cmocka_unit_test(test_bytes_per_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
