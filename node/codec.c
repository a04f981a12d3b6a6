/*
 * codec.c — the msgpack adapter: change-batch payloads and exchange-file
 * envelopes (formats in codec.h, bytes in docs/PROTOCOL.md).  The only file
 * of libcrm that calls msgpack-c.  It never prints, exits or does I/O; every
 * failure is a crm_error with a message saying which part is wrong.
 *
 * Design notes
 *
 *  1. Hostile input.  msgpack-c allocates a container's element array as soon
 *     as it reads the header, so a 5-byte "array of 2^32 elements" would make
 *     it ask for ~100 GB before noticing the input is short.  So before
 *     msgpack-c sees a byte, mp_scan() walks the encoding without allocating
 *     and checks: the total length against the format's limit, that every
 *     str/bin/ext length fits in the bytes left, that all announced but unread
 *     elements could still get one byte each, the nesting depth, an object
 *     budget per format, and that the one top-level object ends exactly at
 *     the end of the input.  msgpack-c then allocates at most
 *     budget × sizeof(msgpack_object).
 *  2. Exactly one top-level map.  Its keys are strings; a known key twice is
 *     corruption; unknown keys are skipped (forward compatibility).
 *  3. Batch decode runs dec_rows() twice over msgpack-c's tree: the first pass
 *     validates everything and measures, the second copies into one
 *     exact-size block — the change array followed by every string, each
 *     NUL-terminated — which is crm_batch.arena.  Only the first pass fails.
 *  4. One spelling per batch.  The decoder also rejects what the encoder never
 *     writes where that is cheap to see: a lower-case UUID row id sent as
 *     text, a base that is not the smallest hlc, hlc 0, and prev_delta >= hlc
 *     (prev_delta == hlc would be a second spelling of prev_hlc 0).  The
 *     encoder refuses the matching inputs (hlc 0, prev_hlc >= hlc).
 *  5. Text never contains NUL, in either direction: decoded text is also used
 *     as a C string, and SQLite readers stop at the first NUL.  Text is
 *     otherwise opaque bytes (no UTF-8 check), so whatever a node stored it
 *     can send.  Blobs may hold any bytes.
 *  6. Encoding packs twice through mp_writer: once counting bytes, then into
 *     one exact malloc.  The size limit is checked before allocating.
 *  7. Envelope "pack" is zero-copy: msgpack-c's unpacker leaves str/bin
 *     objects pointing into the input buffer; env_pack_dec() still checks
 *     that the pointer lies inside the input before handing it out.
 */
#include "codec.h"
#include "error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#define CRM_CODEC_IDENT_MAX 64          /* table and column names */
#define CRM_CODEC_ROW_ID_MAX 64         /* row ids sent as text */
#define CRM_CODEC_NODE_LEN 32
#define CRM_CODEC_OID_LEN 40
#define CRM_CODEC_UUID_LEN 36
#define CRM_CODEC_MAX_DEPTH 16          /* msgpack-c itself stops at 32 */
#define CRM_CODEC_BATCH_OBJECTS (8 * (size_t)CRM_BATCH_MAX_CHANGES + 1024)
#define CRM_CODEC_ENV_OBJECTS (8 * (size_t)CRM_ENVELOPE_MAX_ENTRIES + 1024)
#define CRM_CODEC_ENV_MAX_BYTES (CRM_ENVELOPE_MAX_PACK + ((size_t)64 << 20))
#define CRM_CODEC_BATCH_HEAD 96         /* bound of the batch map without rows */

/* ---- text checks ------------------------------------------------------- */

static int is_lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* 1 if s is a NUL-terminated node id: exactly 32 lower-case hex digits. */
static int is_node(const char *s)
{
	return s && strnlen(s, CRM_CODEC_NODE_LEN + 1) == CRM_CODEC_NODE_LEN &&
	       is_lower_hex(s, CRM_CODEC_NODE_LEN);
}

/* 1 if s[0..len) is a table or column name: 1..64 bytes of [a-z0-9_]. */
static int is_ident(const char *s, size_t len)
{
	if (len == 0 || len > CRM_CODEC_IDENT_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int is_cident(const char *s)
{
	return s && is_ident(s, strnlen(s, CRM_CODEC_IDENT_MAX + 1));
}

/* 1 if s[0..len) is a lower-case UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
static int is_lower_uuid(const char *s, size_t len)
{
	if (len != CRM_CODEC_UUID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_lower_hex(s + i, 1))
			return 0;
	}
	return 1;
}

static unsigned hex_val(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

/* s must satisfy is_lower_uuid(). */
static void uuid_to_bytes(uint8_t out[16], const char *s)
{
	size_t j = 0;
	for (size_t i = 0; i < 16; i++) {
		if (s[j] == '-')
			j++;
		out[i] = (uint8_t)(hex_val(s[j]) << 4 | hex_val(s[j + 1]));
		j += 2;
	}
}

static void uuid_to_text(char out[CRM_CODEC_UUID_LEN + 1], const uint8_t b[16])
{
	static const char hex[] = "0123456789abcdef";
	size_t j = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 15];
	}
	out[j] = '\0';
}

/* ---- pre-scan of untrusted msgpack (design note 1) --------------------- */

enum { MP_BAD, MP_FIXED, MP_BYTES, MP_EXT, MP_ARRAY, MP_MAP };

/* Formats 0xc0..0xdf: kind, and n = total size (MP_FIXED) or the size of the
 * length or count field that follows the format byte (the others). */
static const struct { unsigned char kind, n; } mp_formats[32] = {
	{MP_FIXED, 1}, {MP_BAD, 0}, {MP_FIXED, 1}, {MP_FIXED, 1},     /* nil - false true */
	{MP_BYTES, 1}, {MP_BYTES, 2}, {MP_BYTES, 4},                   /* bin 8/16/32 */
	{MP_EXT, 1}, {MP_EXT, 2}, {MP_EXT, 4},                         /* ext 8/16/32 */
	{MP_FIXED, 5}, {MP_FIXED, 9},                                  /* float 32/64 */
	{MP_FIXED, 2}, {MP_FIXED, 3}, {MP_FIXED, 5}, {MP_FIXED, 9},   /* uint 8..64 */
	{MP_FIXED, 2}, {MP_FIXED, 3}, {MP_FIXED, 5}, {MP_FIXED, 9},   /* int 8..64 */
	{MP_FIXED, 3}, {MP_FIXED, 4}, {MP_FIXED, 6}, {MP_FIXED, 10},  /* fixext 1..8 */
	{MP_FIXED, 18},                                                /* fixext 16 */
	{MP_BYTES, 1}, {MP_BYTES, 2}, {MP_BYTES, 4},                   /* str 8/16/32 */
	{MP_ARRAY, 2}, {MP_ARRAY, 4}, {MP_MAP, 2}, {MP_MAP, 4},        /* array, map 16/32 */
};

static uint64_t mp_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Read the object header at p[0..left) (left >= 1): *size = bytes of the
 * header plus any str/bin/ext payload, *children = elements that follow
 * (array: count, map: 2 × count).  Returns 0, -1 for a byte that is no
 * msgpack format (0xc1), -2 if the header or payload does not fit. */
static int mp_head(const uint8_t *p, size_t left, size_t *size, uint64_t *children)
{
	uint8_t c = p[0];
	*size = 1;
	*children = 0;
	if (c <= 0x7f || c >= 0xe0)
		return 0;
	if (c <= 0x9f) {                                /* fixmap, fixarray */
		*children = c <= 0x8f ? 2u * (c & 0x0fu) : (c & 0x0fu);
		return 0;
	}
	if (c <= 0xbf) {
		*size = 1 + (size_t)(c & 0x1fu);
		return *size <= left ? 0 : -2;
	}
	unsigned kind = mp_formats[c - 0xc0].kind, n = mp_formats[c - 0xc0].n;
	if (kind == MP_BAD)
		return -1;
	if (kind == MP_FIXED) {
		*size = n;
		return n <= left ? 0 : -2;
	}
	size_t head = 1 + n + (kind == MP_EXT);
	if (head > left)
		return -2;
	uint64_t v = mp_be(p + 1, n);
	*size = head;
	if (kind == MP_ARRAY || kind == MP_MAP) {
		*children = kind == MP_MAP ? 2 * v : v;
		return 0;
	}
	if (v > left - head)
		return -2;
	*size = head + (size_t)v;
	return 0;
}

/* Check that data[0..len) is exactly one well-formed msgpack object within
 * the limits of design note 1, without allocating.  Returns 0 or
 * CRM_ECORRUPT (recorded, prefixed with `what`). */
static int mp_scan(const uint8_t *data, size_t len, size_t max_objects, const char *what)
{
	uint64_t open[CRM_CODEC_MAX_DEPTH];   /* elements still to read, per level */
	uint64_t pending = 1, children;       /* elements still to read, all levels */
	size_t off = 0, size, objects = 0;
	int depth = 0;

	open[0] = 1;
	while (pending > 0) {
		while (open[depth] == 0)
			depth--;
		int rc = off < len ? mp_head(data + off, len - off, &size, &children) : -2;
		if (rc == -1)
			return CRM_ERR(CRM_ECORRUPT, "%s: byte 0x%02x at offset %zu is not msgpack",
				       what, data[off], off);
		if (rc < 0)
			return CRM_ERR(CRM_ECORRUPT, "%s: truncated at offset %zu", what, off);
		off += size;
		open[depth]--;
		pending--;
		if (++objects > max_objects)
			return CRM_ERR(CRM_ECORRUPT, "%s: more than %zu msgpack objects", what, max_objects);
		if (children == 0)
			continue;
		if (children > len - off || pending > len - off - children)
			return CRM_ERR(CRM_ECORRUPT, "%s: container at offset %zu announces %" PRIu64
				       " elements but only %zu bytes follow", what, off - size, children, len - off);
		if (depth + 1 >= CRM_CODEC_MAX_DEPTH)
			return CRM_ERR(CRM_ECORRUPT, "%s: nested deeper than %d", what, CRM_CODEC_MAX_DEPTH);
		open[++depth] = children;
		pending += children;
	}
	if (off != len)
		return CRM_ERR(CRM_ECORRUPT, "%s: %zu trailing bytes after the top-level object",
			       what, len - off);
	return 0;
}

/* ---- unpacking into msgpack-c objects ---------------------------------- */

/* Scan, then unpack data[0..len) into u (initialized by the caller, who
 * destroys it in every case); the one top-level object must be a map. */
static int mp_unpack_map(msgpack_unpacked *u, const uint8_t *data, size_t len, size_t max_len,
			 size_t max_objects, const char *what)
{
	size_t off = 0;
	if (!data || len == 0)
		return CRM_ERR(CRM_ECORRUPT, "%s: empty input", what);
	if (len > max_len)
		return CRM_ERR(CRM_ECORRUPT, "%s: %zu bytes, more than the limit of %zu", what, len, max_len);
	int err = mp_scan(data, len, max_objects, what);
	if (err < 0)
		return err;
	msgpack_unpack_return rc = msgpack_unpack_next(u, (const char *)data, len, &off);
	if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
		return CRM_ERR(CRM_ENOMEM, "%s: out of memory unpacking %zu bytes", what, len);
	if (rc != MSGPACK_UNPACK_SUCCESS || off != len)
		return CRM_ERR(CRM_ECORRUPT, "%s: malformed msgpack", what);
	if (u->data.type != MSGPACK_OBJECT_MAP)
		return CRM_ERR(CRM_ECORRUPT, "%s: the top-level object is not a map", what);
	return 0;
}

static int mp_str_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       (n == 0 || memcmp(o->via.str.ptr, s, n) == 0);
}

/* Point vals[i] at the value of key names[i] of map m, for i < count.  Every
 * key must be a string and every name present exactly once; other keys are
 * ignored.  Returns 0 or CRM_ECORRUPT. */
static int mp_map_get(const msgpack_object *m, const char *const *names,
		      const msgpack_object **vals, size_t count, const char *what)
{
	for (size_t i = 0; i < count; i++)
		vals[i] = NULL;
	for (uint32_t k = 0; k < m->via.map.size; k++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[k];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			return CRM_ERR(CRM_ECORRUPT, "%s: map key %" PRIu32 " is not a string", what, k);
		for (size_t i = 0; i < count; i++) {
			if (!mp_str_is(&kv->key, names[i]))
				continue;
			if (vals[i])
				return CRM_ERR(CRM_ECORRUPT, "%s: key \"%s\" appears twice", what, names[i]);
			vals[i] = &kv->val;
		}
	}
	for (size_t i = 0; i < count; i++)
		if (!vals[i])
			return CRM_ERR(CRM_ECORRUPT, "%s: key \"%s\" is missing", what, names[i]);
	return 0;
}

static int mp_uint(const msgpack_object *o, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return 0;
	*out = o->via.u64;
	return 1;
}

/* 1 and out filled if o is a node id string (32 lower-case hex digits). */
static int mp_node(const msgpack_object *o, char out[CRM_CODEC_NODE_LEN + 1])
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size != CRM_CODEC_NODE_LEN ||
	    !is_lower_hex(o->via.str.ptr, CRM_CODEC_NODE_LEN))
		return 0;
	memcpy(out, o->via.str.ptr, CRM_CODEC_NODE_LEN);
	out[CRM_CODEC_NODE_LEN] = '\0';
	return 1;
}

/* ---- batch decode (design note 3) -------------------------------------- */

typedef struct dec_ctx {
	crm_change *changes;   /* NULL while measuring */
	char *next;            /* next free arena byte; NULL while measuring */
	size_t count;          /* changes so far */
	size_t bytes;          /* arena bytes needed so far */
	uint64_t base;
	int base_used;         /* some change has hlc == base */
} dec_ctx;

/* Count len + 1 arena bytes; when filling, copy s and a NUL there. */
static const char *dec_copy(dec_ctx *d, const char *s, size_t len)
{
	d->bytes += len + 1;
	if (!d->next)
		return NULL;
	char *p = d->next;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	d->next += len + 1;
	return p;
}

static int dec_ident(dec_ctx *d, const msgpack_object *o, const char **out)
{
	if (o->type != MSGPACK_OBJECT_STR || !is_ident(o->via.str.ptr, o->via.str.size))
		return 0;
	*out = dec_copy(d, o->via.str.ptr, o->via.str.size);
	return 1;
}

static int dec_row_id(dec_ctx *d, const msgpack_object *o, size_t r, const char **out)
{
	if (o->type == MSGPACK_OBJECT_BIN) {
		char text[CRM_CODEC_UUID_LEN + 1];
		if (o->via.bin.size != 16)
			return CRM_ERR(CRM_ECORRUPT, "batch: row %zu: row id is a blob of %" PRIu32
				       " bytes, not a 16-byte UUID", r, o->via.bin.size);
		uuid_to_text(text, (const uint8_t *)o->via.bin.ptr);
		*out = dec_copy(d, text, CRM_CODEC_UUID_LEN);
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_STR)
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu: row id is not text or a 16-byte UUID", r);
	const char *s = o->via.str.ptr;
	uint32_t n = o->via.str.size;
	if (n == 0 || n > CRM_CODEC_ROW_ID_MAX || memchr(s, 0, n))
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu: row id is not 1..%d bytes without NUL",
			       r, CRM_CODEC_ROW_ID_MAX);
	if (is_lower_uuid(s, n))
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu: row id is a UUID sent as text, "
			       "not as 16 bytes", r);
	*out = dec_copy(d, s, n);
	return 0;
}

static int dec_bytes(dec_ctx *d, const msgpack_object *o, crm_value *v, size_t r, size_t f)
{
	int text = o->type == MSGPACK_OBJECT_STR;
	const char *s = text ? o->via.str.ptr : o->via.bin.ptr;
	uint32_t n = text ? o->via.str.size : o->via.bin.size;
	if (n > CRM_STR_MAX)
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: value is %" PRIu32
			       " bytes, more than %u", r, f, n, CRM_STR_MAX);
	if (text && n && memchr(s, 0, n))
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: text value contains a NUL byte",
			       r, f);
	v->type = text ? CRM_V_TEXT : CRM_V_BLOB;
	v->s = dec_copy(d, s, n);
	v->len = n;
	return 0;
}

static int dec_value(dec_ctx *d, const msgpack_object *o, crm_value *v, size_t r, size_t f)
{
	*v = CRM_NULLV;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: value %" PRIu64
				       " is above INT64_MAX", r, f, o->via.u64);
		v->type = CRM_V_INT;
		v->i = (int64_t)o->via.u64;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		v->type = CRM_V_INT;
		v->i = o->via.i64;
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		v->type = CRM_V_REAL;
		v->r = o->via.f64;
		return 0;
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		return dec_bytes(d, o, v, r, f);
	default:
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: value is not nil, an integer, "
			       "a float, text or a blob", r, f);
	}
}

/* el[0..4) = col, value, hlc_delta, prev_delta of field f of row r. */
static int dec_field(dec_ctx *d, const msgpack_object *el, size_t r, size_t f, crm_change *c)
{
	uint64_t delta, prev;
	if (!dec_ident(d, &el[0], &c->col))
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: column name is not 1..%d "
			       "bytes of [a-z0-9_]", r, f, CRM_CODEC_IDENT_MAX);
	int err = dec_value(d, &el[1], &c->v, r, f);
	if (err < 0)
		return err;
	if (!mp_uint(&el[2], &delta))
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: hlc delta is not an "
			       "unsigned integer", r, f);
	if (delta > UINT64_MAX - d->base)
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: hlc delta %" PRIu64
			       " overflows base %" PRIu64, r, f, delta, d->base);
	c->hlc = d->base + delta;
	if (c->hlc == 0)
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: hlc is 0", r, f);
	if (!mp_uint(&el[3], &prev))
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: prev delta is not an "
			       "unsigned integer", r, f);
	if (prev != 0 && prev >= c->hlc)
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu field %zu: prev delta %" PRIu64
			       " is not below hlc %" PRIu64, r, f, prev, c->hlc);
	c->prev_hlc = prev ? c->hlc - prev : 0;
	d->base_used |= delta == 0;
	return 0;
}

/* Row r: [table, row_id, field × 4 ...]. */
static int dec_row(dec_ctx *d, const msgpack_object *o, size_t r)
{
	const char *table = NULL, *row_id = NULL;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu is not an array", r);
	const msgpack_object *el = o->via.array.ptr;
	uint32_t n = o->via.array.size;
	if (n < 6 || (n - 2) % 4 != 0)
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu has %" PRIu32 " elements, not table, "
			       "row id and 4 per field", r, n);
	size_t fields = (n - 2) / 4;
	if (fields > (size_t)CRM_BATCH_MAX_CHANGES - d->count)
		return CRM_ERR(CRM_ECORRUPT, "batch: more than %d changes", CRM_BATCH_MAX_CHANGES);
	if (!dec_ident(d, &el[0], &table))
		return CRM_ERR(CRM_ECORRUPT, "batch: row %zu: table name is not 1..%d bytes of "
			       "[a-z0-9_]", r, CRM_CODEC_IDENT_MAX);
	int err = dec_row_id(d, &el[1], r, &row_id);
	for (size_t f = 0; err >= 0 && f < fields; f++) {
		crm_change scratch, *c = d->changes ? &d->changes[d->count] : &scratch;
		c->table = table;
		c->row_id = row_id;
		err = dec_field(d, el + 2 + 4 * f, r, f, c);
		d->count++;
	}
	return err;
}

static int dec_rows(dec_ctx *d, const msgpack_object *rows)
{
	for (uint32_t r = 0; r < rows->via.array.size; r++) {
		int err = dec_row(d, &rows->via.array.ptr[r], r);
		if (err < 0)
			return err;
	}
	if (d->count == 0 && d->base != 0)
		return CRM_ERR(CRM_ECORRUPT, "batch: base is %" PRIu64 " but there are no changes",
			       d->base);
	if (d->count > 0 && !d->base_used)
		return CRM_ERR(CRM_ECORRUPT, "batch: base %" PRIu64 " is not the smallest hlc", d->base);
	return 0;
}

static const char *const batch_key_names[] = {"v", "node", "seq", "base", "rows"};
enum { BK_V, BK_NODE, BK_SEQ, BK_BASE, BK_ROWS, BK_COUNT };

static int dec_header(const msgpack_object *map, crm_batch *b, uint64_t *base,
		      const msgpack_object **rows)
{
	const msgpack_object *v[BK_COUNT];
	uint64_t version;
	int err = mp_map_get(map, batch_key_names, v, BK_COUNT, "batch");
	if (err < 0)
		return err;
	if (!mp_uint(v[BK_V], &version) || version != 1)
		return CRM_ERR(CRM_ECORRUPT, "batch: \"v\" is not the supported version 1");
	if (!mp_node(v[BK_NODE], b->node))
		return CRM_ERR(CRM_ECORRUPT, "batch: \"node\" is not 32 lower-case hex digits");
	if (!mp_uint(v[BK_SEQ], &b->seq) || b->seq == 0)
		return CRM_ERR(CRM_ECORRUPT, "batch: \"seq\" is not a positive integer");
	if (!mp_uint(v[BK_BASE], base))
		return CRM_ERR(CRM_ECORRUPT, "batch: \"base\" is not an unsigned integer");
	if (v[BK_ROWS]->type != MSGPACK_OBJECT_ARRAY)
		return CRM_ERR(CRM_ECORRUPT, "batch: \"rows\" is not an array");
	*rows = v[BK_ROWS];
	return 0;
}

/* Second pass: allocate the block measured by m and copy into it. */
static int dec_fill(crm_batch *b, const dec_ctx *m, const msgpack_object *rows)
{
	size_t head = m->count * sizeof(crm_change);
	char *block = malloc(head + m->bytes + 1);
	if (!block)
		return CRM_ERR(CRM_ENOMEM, "batch: out of memory for %zu changes", m->count);
	dec_ctx d = {.changes = (crm_change *)(void *)block, .next = block + head, .base = m->base};
	b->arena = block;
	b->changes = m->count ? d.changes : NULL;
	int err = dec_rows(&d, rows);
	b->count = d.count;
	return err;
}

int crm_batch_decode(crm_batch **out, const uint8_t *data, size_t len)
{
	msgpack_unpacked u;
	const msgpack_object *rows = NULL;
	dec_ctx d = {0};
	if (!out)
		return CRM_ERR(CRM_EINVAL, "batch: no output");
	*out = NULL;
	crm_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return CRM_ERR(CRM_ENOMEM, "batch: out of memory");
	msgpack_unpacked_init(&u);
	int err = mp_unpack_map(&u, data, len, CRM_BATCH_MAX_BYTES, CRM_CODEC_BATCH_OBJECTS, "batch");
	if (err >= 0)
		err = dec_header(&u.data, b, &d.base, &rows);
	if (err >= 0)
		err = dec_rows(&d, rows);
	if (err >= 0)
		err = dec_fill(b, &d, rows);
	msgpack_unpacked_destroy(&u);
	if (err < 0) {
		crm_batch_free(b);
		return err;
	}
	*out = b;
	return 0;
}

void crm_batch_free(crm_batch *b)
{
	if (!b)
		return;
	free(b->arena);
	free(b);
}

/* ---- encoding through a counting writer (design note 6) ---------------- */

typedef struct mp_writer {
	uint8_t *data;      /* NULL while counting */
	size_t len, alloc;
} mp_writer;

static int mp_write(void *ctx, const char *buf, size_t len)
{
	mp_writer *w = ctx;
	if (len > (w->data ? w->alloc : SIZE_MAX) - w->len)
		return -1;
	if (w->data && len)
		memcpy(w->data + w->len, buf, len);
	w->len += len;
	return 0;
}

typedef int (*mp_pack_fn)(msgpack_packer *pk, const void *src);

/* Pack src with `pack` into a new exact-size buffer of at most max bytes. */
static int mp_pack_twice(uint8_t **out, size_t *len, size_t max, mp_pack_fn pack,
			 const void *src, const char *what)
{
	mp_writer w = {0};
	msgpack_packer pk;
	msgpack_packer_init(&pk, &w, mp_write);
	if (pack(&pk, src) != 0 || w.len > max)
		return CRM_ERR(CRM_ELIMIT, "%s: encoded size is more than the limit of %zu bytes",
			       what, max);
	w.alloc = w.len;
	w.len = 0;
	w.data = malloc(w.alloc ? w.alloc : 1);
	if (!w.data)
		return CRM_ERR(CRM_ENOMEM, "%s: out of memory for %zu bytes", what, w.alloc);
	if (pack(&pk, src) != 0 || w.len != w.alloc) {
		free(w.data);
		return CRM_ERR(CRM_EINVAL, "%s: input changed while encoding", what);
	}
	*out = w.data;
	*len = w.len;
	return 0;
}

static int mp_key(msgpack_packer *pk, const char *s)
{
	return msgpack_pack_str_with_body(pk, s, strlen(s));
}

static size_t mp_str_size(size_t n)
{
	return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

static size_t mp_bin_size(size_t n)
{
	return n + (n < 256 ? 2 : n < 65536 ? 3 : 5);
}

/* Bytes msgpack-c uses for an unsigned or signed integer (smallest form). */
static size_t mp_uint_size(uint64_t v)
{
	return v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v <= UINT32_MAX ? 5 : 9;
}

static size_t mp_int_size(int64_t v)
{
	if (v >= 0)
		return mp_uint_size((uint64_t)v);
	return v >= -32 ? 1 : v >= -128 ? 2 : v >= -32768 ? 3 : v >= INT32_MIN ? 5 : 9;
}

/* ---- batch encoder ----------------------------------------------------- */

struct crm_batch_enc {
	char node[CRM_CODEC_NODE_LEN + 1];
	uint64_t seq;
	msgpack_zone *zone;     /* copies of every string */
	crm_change *changes;    /* consecutive changes of a row share table/row_id pointers */
	size_t count, cap;
	size_t row_count;
	uint64_t base;          /* smallest hlc so far (when count > 0) */
	uint64_t hlc_max;       /* largest hlc so far */
	size_t size;            /* encoded bound, hlc deltas not included */
};

int crm_batch_enc_new(crm_batch_enc **out, const char *node, uint64_t seq)
{
	if (!out)
		return CRM_ERR(CRM_EINVAL, "batch: no output");
	*out = NULL;
	if (!is_node(node))
		return CRM_ERR(CRM_EINVAL, "batch: node id is not 32 lower-case hex digits");
	if (seq == 0)
		return CRM_ERR(CRM_EINVAL, "batch: seq must be at least 1");
	crm_batch_enc *enc = calloc(1, sizeof(*enc));
	if (enc)
		enc->zone = msgpack_zone_new(64 << 10);
	if (!enc || !enc->zone) {
		free(enc);
		return CRM_ERR(CRM_ENOMEM, "batch: out of memory");
	}
	memcpy(enc->node, node, sizeof(enc->node));
	enc->seq = seq;
	enc->size = CRM_CODEC_BATCH_HEAD;
	*out = enc;
	return 0;
}

/* Check a value to encode; *len = bytes of text or blob. */
static int enc_check_value(const crm_value *v, size_t *len)
{
	*len = 0;
	switch (v->type) {
	case CRM_V_NULL:
	case CRM_V_INT:
	case CRM_V_REAL:
		return 0;
	case CRM_V_TEXT:
		if (!v->s)
			return CRM_ERR(CRM_EINVAL, "batch: text value without a string");
		*len = v->len ? v->len : strlen(v->s);
		if (*len > CRM_STR_MAX)
			return CRM_ERR(CRM_ELIMIT, "batch: text value of %zu bytes, more than %u",
				       *len, CRM_STR_MAX);
		if (memchr(v->s, 0, *len))
			return CRM_ERR(CRM_EINVAL, "batch: text value contains a NUL byte");
		return 0;
	case CRM_V_BLOB:
		if (!v->s && v->len)
			return CRM_ERR(CRM_EINVAL, "batch: blob value without bytes");
		*len = v->len;
		if (*len > CRM_STR_MAX)
			return CRM_ERR(CRM_ELIMIT, "batch: blob value of %zu bytes, more than %u",
				       *len, CRM_STR_MAX);
		return 0;
	}
	return CRM_ERR(CRM_EINVAL, "batch: unknown value type %d", (int)v->type);
}

static int enc_check(const crm_change *c, size_t *vlen)
{
	size_t n = c->row_id ? strnlen(c->row_id, CRM_CODEC_ROW_ID_MAX + 1) : 0;
	if (!is_cident(c->table))
		return CRM_ERR(CRM_EINVAL, "batch: table name \"%.64s\" is not 1..%d bytes of "
			       "[a-z0-9_]", c->table ? c->table : "", CRM_CODEC_IDENT_MAX);
	if (n == 0 || n > CRM_CODEC_ROW_ID_MAX)
		return CRM_ERR(CRM_EINVAL, "batch: row id \"%.64s\" is not 1..%d bytes",
			       c->row_id ? c->row_id : "", CRM_CODEC_ROW_ID_MAX);
	if (!is_cident(c->col))
		return CRM_ERR(CRM_EINVAL, "batch: column name \"%.64s\" is not 1..%d bytes of "
			       "[a-z0-9_]", c->col ? c->col : "", CRM_CODEC_IDENT_MAX);
	if (c->hlc == 0)
		return CRM_ERR(CRM_EINVAL, "batch: %s.%s of %s has hlc 0", c->table, c->col, c->row_id);
	if (c->prev_hlc != 0 && c->prev_hlc >= c->hlc)
		return CRM_ERR(CRM_EINVAL, "batch: %s.%s of %s: prev_hlc %" PRIu64 " is not below "
			       "hlc %" PRIu64, c->table, c->col, c->row_id, c->prev_hlc, c->hlc);
	return enc_check_value(&c->v, vlen);
}

static const char *enc_strdup(crm_batch_enc *enc, const char *s, size_t len)
{
	char *p = msgpack_zone_malloc_no_align(enc->zone, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Give dst the table and row id of c: the previous change's copies when c
 * continues its row, else new copies (*row_size = encoded bound of the new
 * row's head, 0 if no new row). */
static int enc_row(crm_batch_enc *enc, const crm_change *c, crm_change *dst, size_t *row_size)
{
	const crm_change *prev = enc->count ? dst - 1 : NULL;
	size_t tlen = strlen(c->table), rlen = strlen(c->row_id);
	*row_size = 0;
	if (prev && strcmp(prev->table, c->table) == 0 && strcmp(prev->row_id, c->row_id) == 0) {
		dst->table = prev->table;
		dst->row_id = prev->row_id;
		return 0;
	}
	dst->table = enc_strdup(enc, c->table, tlen);
	dst->row_id = enc_strdup(enc, c->row_id, rlen);
	if (!dst->table || !dst->row_id)
		return CRM_ERR(CRM_ENOMEM, "batch: out of memory");
	*row_size = 5 + mp_str_size(tlen) +
		    (is_lower_uuid(c->row_id, rlen) ? mp_bin_size(16) : mp_str_size(rlen));
	return 0;
}

/* Copy col and value of c into dst; *size = encoded bound of the field. */
static int enc_field(crm_batch_enc *enc, const crm_change *c, size_t vlen, crm_change *dst,
		     size_t *size)
{
	size_t clen = strlen(c->col);
	dst->col = enc_strdup(enc, c->col, clen);
	dst->v = c->v;
	dst->hlc = c->hlc;
	dst->prev_hlc = c->prev_hlc;
	*size = mp_str_size(clen) + mp_uint_size(c->prev_hlc ? c->hlc - c->prev_hlc : 0) +
		(c->v.type == CRM_V_INT ? mp_int_size(c->v.i) : c->v.type == CRM_V_REAL ? 9 : 1);
	if (c->v.type == CRM_V_TEXT || c->v.type == CRM_V_BLOB) {
		dst->v.s = enc_strdup(enc, c->v.s, vlen);
		dst->v.len = vlen;
		*size += (c->v.type == CRM_V_TEXT ? mp_str_size(vlen) : mp_bin_size(vlen)) - 1;
		if (!dst->v.s)
			return CRM_ERR(CRM_ENOMEM, "batch: out of memory for a %zu-byte value", vlen);
	}
	return dst->col ? 0 : CRM_ERR(CRM_ENOMEM, "batch: out of memory");
}

static int enc_grow(crm_batch_enc *enc)
{
	size_t cap = enc->cap ? 2 * enc->cap : 64;
	if (cap > CRM_BATCH_MAX_CHANGES)
		cap = CRM_BATCH_MAX_CHANGES;
	crm_change *p = realloc(enc->changes, cap * sizeof(*p));
	if (!p)
		return CRM_ERR(CRM_ENOMEM, "batch: out of memory for %zu changes", cap);
	enc->changes = p;
	enc->cap = cap;
	return 0;
}

int crm_batch_enc_add(crm_batch_enc *enc, const crm_change *c)
{
	size_t vlen = 0, row_size = 0, field_size = 0;
	if (!enc || !c)
		return CRM_ERR(CRM_EINVAL, "batch: no encoder or change");
	int err = enc_check(c, &vlen);
	if (err < 0)
		return err;
	if (enc->count >= CRM_BATCH_MAX_CHANGES)
		return CRM_ERR(CRM_ELIMIT, "batch: more than %d changes", CRM_BATCH_MAX_CHANGES);
	if (enc->count == enc->cap && (err = enc_grow(enc)) < 0)
		return err;
	crm_change *dst = &enc->changes[enc->count];
	err = enc_row(enc, c, dst, &row_size);
	if (err >= 0)
		err = enc_field(enc, c, vlen, dst, &field_size);
	if (err < 0)
		return err;
	if (enc->count == 0 || c->hlc < enc->base)
		enc->base = c->hlc;
	if (c->hlc > enc->hlc_max)
		enc->hlc_max = c->hlc;
	enc->row_count += row_size != 0;
	enc->size += row_size + field_size;
	enc->count++;
	return 0;
}

/* An upper bound: every hlc delta is at most hlc_max - base, so takes at
 * most that many bytes. */
size_t crm_batch_enc_size(const crm_batch_enc *enc)
{
	if (!enc)
		return 0;
	return enc->size + enc->count * mp_uint_size(enc->count ? enc->hlc_max - enc->base : 0);
}

size_t crm_batch_enc_count(const crm_batch_enc *enc)
{
	return enc ? enc->count : 0;
}

static int pack_row_id(msgpack_packer *pk, const char *id)
{
	size_t n = strlen(id);
	uint8_t b[16];
	if (!is_lower_uuid(id, n))
		return msgpack_pack_str_with_body(pk, id, n);
	uuid_to_bytes(b, id);
	return msgpack_pack_bin_with_body(pk, b, sizeof(b));
}

static int pack_value(msgpack_packer *pk, const crm_value *v)
{
	switch (v->type) {
	case CRM_V_INT:
		return msgpack_pack_int64(pk, v->i);
	case CRM_V_REAL:
		return msgpack_pack_double(pk, v->r);
	case CRM_V_TEXT:
		return msgpack_pack_str_with_body(pk, v->s, v->len);
	case CRM_V_BLOB:
		return msgpack_pack_bin_with_body(pk, v->s, v->len);
	default:
		return msgpack_pack_nil(pk);
	}
}

/* One row: the changes [first, end) share table and row id. */
static int pack_row(msgpack_packer *pk, const crm_batch_enc *enc, size_t first, size_t end)
{
	const crm_change *c = &enc->changes[first];
	if (msgpack_pack_array(pk, 2 + 4 * (end - first)) || mp_key(pk, c->table) ||
	    pack_row_id(pk, c->row_id))
		return -1;
	for (; c < enc->changes + end; c++) {
		uint64_t prev = c->prev_hlc ? c->hlc - c->prev_hlc : 0;
		if (mp_key(pk, c->col) || pack_value(pk, &c->v) ||
		    msgpack_pack_uint64(pk, c->hlc - enc->base) || msgpack_pack_uint64(pk, prev))
			return -1;
	}
	return 0;
}

static int batch_pack(msgpack_packer *pk, const void *src)
{
	const crm_batch_enc *enc = src;
	if (msgpack_pack_map(pk, 5) ||
	    mp_key(pk, "v") || msgpack_pack_uint64(pk, 1) ||
	    mp_key(pk, "node") || msgpack_pack_str_with_body(pk, enc->node, CRM_CODEC_NODE_LEN) ||
	    mp_key(pk, "seq") || msgpack_pack_uint64(pk, enc->seq) ||
	    mp_key(pk, "base") || msgpack_pack_uint64(pk, enc->count ? enc->base : 0) ||
	    mp_key(pk, "rows") || msgpack_pack_array(pk, enc->row_count))
		return -1;
	for (size_t i = 0, end; i < enc->count; i = end) {
		const crm_change *c = &enc->changes[i];
		for (end = i + 1; end < enc->count; end++)
			if (enc->changes[end].table != c->table || enc->changes[end].row_id != c->row_id)
				break;
		if (pack_row(pk, enc, i, end))
			return -1;
	}
	return 0;
}

int crm_batch_enc_finish(crm_batch_enc *enc, uint8_t **out, size_t *len)
{
	if (!out || !len) {
		crm_batch_enc_free(enc);
		return CRM_ERR(CRM_EINVAL, "batch: no output");
	}
	*out = NULL;
	*len = 0;
	if (!enc)
		return CRM_ERR(CRM_EINVAL, "batch: no encoder");
	int err = mp_pack_twice(out, len, CRM_BATCH_MAX_BYTES, batch_pack, enc, "batch");
	crm_batch_enc_free(enc);
	return err;
}

void crm_batch_enc_free(crm_batch_enc *enc)
{
	if (!enc)
		return;
	if (enc->zone)
		msgpack_zone_free(enc->zone);
	free(enc->changes);
	free(enc);
}

/* ---- envelope encode --------------------------------------------------- */

static int env_check_heads(const crm_envelope *env)
{
	if (env->head_count > CRM_ENVELOPE_MAX_ENTRIES)
		return CRM_ERR(CRM_ELIMIT, "envelope: %zu heads, more than %d", env->head_count,
			       CRM_ENVELOPE_MAX_ENTRIES);
	if (env->head_count && !env->heads)
		return CRM_ERR(CRM_EINVAL, "envelope: head_count without heads");
	for (size_t i = 0; i < env->head_count; i++) {
		const crm_env_head *h = &env->heads[i];
		if (!is_node(h->node))
			return CRM_ERR(CRM_EINVAL, "envelope: head %zu: node id is not 32 lower-case "
				       "hex digits", i);
		if (h->seq == 0)
			return CRM_ERR(CRM_EINVAL, "envelope: head %zu: seq is 0", i);
		if (strnlen(h->oid, sizeof(h->oid)) != CRM_CODEC_OID_LEN ||
		    !is_lower_hex(h->oid, CRM_CODEC_OID_LEN))
			return CRM_ERR(CRM_EINVAL, "envelope: head %zu: oid is not 40 lower-case hex "
				       "digits", i);
	}
	return 0;
}

static int env_check_keys(const crm_envelope *env)
{
	if (env->key_count > CRM_ENVELOPE_MAX_ENTRIES)
		return CRM_ERR(CRM_ELIMIT, "envelope: %zu keys, more than %d", env->key_count,
			       CRM_ENVELOPE_MAX_ENTRIES);
	if (env->key_count && !env->keys)
		return CRM_ERR(CRM_EINVAL, "envelope: key_count without keys");
	for (size_t i = 0; i < env->key_count; i++) {
		const crm_env_key *k = &env->keys[i];
		size_t plen = k->pubkey ? strnlen(k->pubkey, CRM_STR_MAX + 1) : 0;
		size_t nlen = k->name ? strnlen(k->name, CRM_STR_MAX + 1) : 0;
		if (!is_node(k->node))
			return CRM_ERR(CRM_EINVAL, "envelope: key %zu: node id is not 32 lower-case "
				       "hex digits", i);
		if (plen == 0 || plen > CRM_STR_MAX || nlen > CRM_STR_MAX)
			return CRM_ERR(CRM_EINVAL, "envelope: key %zu: pubkey is not 1..%u bytes or "
				       "name is longer than %u", i, CRM_STR_MAX, CRM_STR_MAX);
	}
	return 0;
}

static int env_pack(msgpack_packer *pk, const void *src)
{
	const crm_envelope *env = src;
	if (msgpack_pack_map(pk, 7) ||
	    mp_key(pk, "format") || mp_key(pk, CRM_ENVELOPE_MAGIC) ||
	    mp_key(pk, "v") || msgpack_pack_uint64(pk, 1) ||
	    mp_key(pk, "from") || msgpack_pack_str_with_body(pk, env->from, CRM_CODEC_NODE_LEN) ||
	    mp_key(pk, "cursor") || msgpack_pack_uint64(pk, env->cursor) ||
	    mp_key(pk, "heads") || msgpack_pack_array(pk, env->head_count))
		return -1;
	for (size_t i = 0; i < env->head_count; i++) {
		const crm_env_head *h = &env->heads[i];
		if (msgpack_pack_array(pk, 3) || mp_key(pk, h->node) ||
		    msgpack_pack_uint64(pk, h->seq) || mp_key(pk, h->oid))
			return -1;
	}
	if (mp_key(pk, "keys") || msgpack_pack_array(pk, env->key_count))
		return -1;
	for (size_t i = 0; i < env->key_count; i++) {
		const crm_env_key *k = &env->keys[i];
		if (msgpack_pack_array(pk, 3) || mp_key(pk, k->node) || mp_key(pk, k->pubkey) ||
		    mp_key(pk, k->name ? k->name : ""))
			return -1;
	}
	if (mp_key(pk, "pack") || msgpack_pack_bin_with_body(pk, env->pack, env->pack_len))
		return -1;
	return 0;
}

int crm_envelope_encode(uint8_t **out, size_t *len, const crm_envelope *env)
{
	if (!out || !len || !env)
		return CRM_ERR(CRM_EINVAL, "envelope: no input or output");
	*out = NULL;
	*len = 0;
	if (!is_node(env->from))
		return CRM_ERR(CRM_EINVAL, "envelope: from is not 32 lower-case hex digits");
	int err = env_check_heads(env);
	if (err >= 0)
		err = env_check_keys(env);
	if (err < 0)
		return err;
	if (env->pack_len > CRM_ENVELOPE_MAX_PACK)
		return CRM_ERR(CRM_ELIMIT, "envelope: pack of %zu bytes, more than %zu",
			       env->pack_len, CRM_ENVELOPE_MAX_PACK);
	if (env->pack_len && !env->pack)
		return CRM_ERR(CRM_EINVAL, "envelope: pack_len without pack");
	return mp_pack_twice(out, len, CRM_CODEC_ENV_MAX_BYTES, env_pack, env, "envelope");
}

/* ---- envelope decode --------------------------------------------------- */

static int env_head(crm_env_head *h, const msgpack_object *o, size_t i)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3)
		return CRM_ERR(CRM_ECORRUPT, "envelope: head %zu is not [node, seq, oid]", i);
	const msgpack_object *el = o->via.array.ptr;
	if (!mp_node(&el[0], h->node))
		return CRM_ERR(CRM_ECORRUPT, "envelope: head %zu: node id is not 32 lower-case hex "
			       "digits", i);
	if (!mp_uint(&el[1], &h->seq) || h->seq == 0)
		return CRM_ERR(CRM_ECORRUPT, "envelope: head %zu: seq is not a positive integer", i);
	if (el[2].type != MSGPACK_OBJECT_STR || el[2].via.str.size != CRM_CODEC_OID_LEN ||
	    !is_lower_hex(el[2].via.str.ptr, CRM_CODEC_OID_LEN))
		return CRM_ERR(CRM_ECORRUPT, "envelope: head %zu: oid is not 40 lower-case hex "
			       "digits", i);
	memcpy(h->oid, el[2].via.str.ptr, CRM_CODEC_OID_LEN);
	h->oid[CRM_CODEC_OID_LEN] = '\0';
	return 0;
}

static int env_heads_dec(crm_envelope *env, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return CRM_ERR(CRM_ECORRUPT, "envelope: \"heads\" is not an array");
	uint32_t n = o->via.array.size;
	if (n > CRM_ENVELOPE_MAX_ENTRIES)
		return CRM_ERR(CRM_ECORRUPT, "envelope: %" PRIu32 " heads, more than %d", n,
			       CRM_ENVELOPE_MAX_ENTRIES);
	if (n == 0)
		return 0;
	env->heads = calloc(n, sizeof(*env->heads));
	if (!env->heads)
		return CRM_ERR(CRM_ENOMEM, "envelope: out of memory for %" PRIu32 " heads", n);
	env->head_count = n;
	for (uint32_t i = 0; i < n; i++) {
		int err = env_head(&env->heads[i], &o->via.array.ptr[i], i);
		if (err < 0)
			return err;
	}
	return 0;
}

/* *out = a new C string copied from o if o is text of min..CRM_STR_MAX bytes
 * without NUL.  Returns 1, 0 if o does not qualify, or CRM_ENOMEM. */
static int mp_strdup(const msgpack_object *o, size_t min, char **out)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return 0;
	uint32_t n = o->via.str.size;
	if (n < min || n > CRM_STR_MAX || (n && memchr(o->via.str.ptr, 0, n)))
		return 0;
	*out = malloc((size_t)n + 1);
	if (!*out)
		return CRM_ERR(CRM_ENOMEM, "envelope: out of memory");
	if (n)
		memcpy(*out, o->via.str.ptr, n);
	(*out)[n] = '\0';
	return 1;
}

static int env_key(crm_env_key *k, const msgpack_object *o, size_t i)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3)
		return CRM_ERR(CRM_ECORRUPT, "envelope: key %zu is not [node, pubkey, name]", i);
	const msgpack_object *el = o->via.array.ptr;
	if (!mp_node(&el[0], k->node))
		return CRM_ERR(CRM_ECORRUPT, "envelope: key %zu: node id is not 32 lower-case hex "
			       "digits", i);
	int rc = mp_strdup(&el[1], 1, &k->pubkey);
	if (rc == 0)
		return CRM_ERR(CRM_ECORRUPT, "envelope: key %zu: pubkey is not text of 1..%u bytes "
			       "without NUL", i, CRM_STR_MAX);
	if (rc > 0)
		rc = mp_strdup(&el[2], 0, &k->name);
	if (rc == 0)
		return CRM_ERR(CRM_ECORRUPT, "envelope: key %zu: name is not text of at most %u "
			       "bytes without NUL", i, CRM_STR_MAX);
	return rc < 0 ? rc : 0;
}

static int env_keys_dec(crm_envelope *env, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return CRM_ERR(CRM_ECORRUPT, "envelope: \"keys\" is not an array");
	uint32_t n = o->via.array.size;
	if (n > CRM_ENVELOPE_MAX_ENTRIES)
		return CRM_ERR(CRM_ECORRUPT, "envelope: %" PRIu32 " keys, more than %d", n,
			       CRM_ENVELOPE_MAX_ENTRIES);
	if (n == 0)
		return 0;
	env->keys = calloc(n, sizeof(*env->keys));
	if (!env->keys)
		return CRM_ERR(CRM_ENOMEM, "envelope: out of memory for %" PRIu32 " keys", n);
	env->key_count = n;
	for (uint32_t i = 0; i < n; i++) {
		int err = env_key(&env->keys[i], &o->via.array.ptr[i], i);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Point env->pack into data (design note 7); NULL when the pack is empty. */
static int env_pack_dec(crm_envelope *env, const msgpack_object *o, const uint8_t *data,
			size_t len)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return CRM_ERR(CRM_ECORRUPT, "envelope: \"pack\" is not a blob");
	size_t n = o->via.bin.size;
	if (n > CRM_ENVELOPE_MAX_PACK)
		return CRM_ERR(CRM_ECORRUPT, "envelope: pack of %zu bytes, more than %zu", n,
			       CRM_ENVELOPE_MAX_PACK);
	if (n == 0)
		return 0;
	uintptr_t p = (uintptr_t)o->via.bin.ptr, lo = (uintptr_t)data;
	if (p < lo || p - lo > len || n > len - (p - lo))
		return CRM_ERR(CRM_ECORRUPT, "envelope: pack does not point into the input");
	env->pack = data + (p - lo);
	env->pack_len = n;
	return 0;
}

static const char *const env_key_names[] = {
	"format", "v", "from", "cursor", "heads", "keys", "pack",
};
enum { EK_FORMAT, EK_V, EK_FROM, EK_CURSOR, EK_HEADS, EK_KEYS, EK_PACK, EK_COUNT };

static int env_fields(crm_envelope *env, const msgpack_object *map, const uint8_t *data,
		      size_t len)
{
	const msgpack_object *v[EK_COUNT];
	uint64_t version;
	int err = mp_map_get(map, env_key_names, v, EK_COUNT, "envelope");
	if (err < 0)
		return err;
	if (!mp_str_is(v[EK_FORMAT], CRM_ENVELOPE_MAGIC))
		return CRM_ERR(CRM_ECORRUPT, "envelope: \"format\" is not \"%s\"", CRM_ENVELOPE_MAGIC);
	if (!mp_uint(v[EK_V], &version) || version != 1)
		return CRM_ERR(CRM_ECORRUPT, "envelope: \"v\" is not the supported version 1");
	if (!mp_node(v[EK_FROM], env->from))
		return CRM_ERR(CRM_ECORRUPT, "envelope: \"from\" is not 32 lower-case hex digits");
	if (!mp_uint(v[EK_CURSOR], &env->cursor))
		return CRM_ERR(CRM_ECORRUPT, "envelope: \"cursor\" is not an unsigned integer");
	err = env_heads_dec(env, v[EK_HEADS]);
	if (err >= 0)
		err = env_keys_dec(env, v[EK_KEYS]);
	if (err >= 0)
		err = env_pack_dec(env, v[EK_PACK], data, len);
	return err;
}

int crm_envelope_decode(crm_envelope **out, const uint8_t *data, size_t len)
{
	msgpack_unpacked u;
	if (!out)
		return CRM_ERR(CRM_EINVAL, "envelope: no output");
	*out = NULL;
	crm_envelope *env = calloc(1, sizeof(*env));
	if (!env)
		return CRM_ERR(CRM_ENOMEM, "envelope: out of memory");
	msgpack_unpacked_init(&u);
	int err = mp_unpack_map(&u, data, len, CRM_CODEC_ENV_MAX_BYTES, CRM_CODEC_ENV_OBJECTS,
				"envelope");
	if (err >= 0)
		err = env_fields(env, &u.data, data, len);
	msgpack_unpacked_destroy(&u);
	if (err < 0) {
		crm_envelope_free(env);
		return err;
	}
	*out = env;
	return 0;
}

void crm_envelope_free(crm_envelope *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < env->key_count; i++) {
		free(env->keys[i].pubkey);
		free(env->keys[i].name);
	}
	free(env->keys);
	free(env->heads);
	free(env);
}
