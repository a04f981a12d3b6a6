/*
 * sign.c — the OpenSSL adapter of libcrm (see sign.h): Ed25519 node keys,
 * SHA-256, base64, OpenSSH public key lines and SSHSIG signatures
 * (OpenSSH PROTOCOL.sshsig), which is what git checks with gpg.format=ssh.
 *
 * This is the only file of libcrm that includes OpenSSL headers.
 *
 * It must never:
 *  - print, exit or prompt (not even for a passphrase): errors are crm_error
 *    codes with a message (error.h);
 *  - leave entries in OpenSSL's per-thread error queue after it returns;
 *  - write a private key over an existing file, or with a mode wider than 0600;
 *  - read outside untrusted input: every length read from a blob is checked
 *    against the bytes that remain, and armored input over 8 KiB is refused
 *    before it is looked at.
 */
#include "sign.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

struct crm_key {
	EVP_PKEY *pkey;
	uint8_t pub[CRM_PUBKEY_LEN];  /* cached so crm_key_public cannot fail */
	int has_private;
};

#define SSH_ED25519 "ssh-ed25519"
#define SSHSIG_MAGIC "SSHSIG"
#define SSHSIG_MAGIC_LEN 6
#define SSHSIG_VERSION 1
#define SSHSIG_HASH "sha512"        /* what we sign with */
#define SSHSIG_NS_MAX 1024          /* longest namespace we sign in */
#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define ARMOR_END "-----END SSH SIGNATURE-----"
#define ARMOR_WRAP 70               /* base64 columns, as ssh-keygen */
#define ARMOR_MAX 8192              /* longest armored signature accepted */
#define PUBLINE_B64_MAX 256         /* longest base64 key blob accepted */
#define OSSL_REASON_LEN 256

/* ---- small helpers ------------------------------------------------------ */

/* The reason for the oldest queued OpenSSL error, formatted into buf, and an
 * empty queue afterwards so that nothing stale leaks into a later call. */
static const char *ossl_reason(char buf[OSSL_REASON_LEN])
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, OSSL_REASON_LEN, "no OpenSSL error queued");
	else
		ERR_error_string_n(e, buf, OSSL_REASON_LEN);
	ERR_clear_error();
	return buf;
}

/* A non-NULL pointer for a possibly NULL buffer of length 0. */
static const unsigned char *nonnull(const void *p)
{
	return p ? p : (const void *)"";
}

/* 1 if the n bytes at s are exactly the NUL-terminated string lit. */
static int bytes_are(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* ---- base64 ------------------------------------------------------------- */

/* Standard padded base64 of n bytes, NUL-terminated, no newlines, or NULL
 * when out of memory (or n is absurdly large).  Caller frees. */
static char *b64_encode(const uint8_t *data, size_t n)
{
	char *out;

	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	out = malloc((n + 2) / 3 * 4 + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

/* The 6-bit value of a base64 alphabet character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode exactly len characters of canonical padded base64 (no whitespace;
 * '=' only as final padding; unused trailing bits zero) into out, which must
 * hold len / 4 * 3 bytes.  Returns 0 and the byte count in *out_len, or -1. */
static int b64_decode(uint8_t *out, size_t *out_len, const char *in, size_t len)
{
	size_t i, j, o = 0, pad = 0;
	uint32_t v = 0;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (j = i; j < i + 4; j++) {
			int d = j >= len - pad ? 0 : b64_value((unsigned char)in[j]);
			if (d < 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
		return -1;
	*out_len = o - pad;
	return 0;
}

/* ---- SSH wire format: a growable writer and a bounds-checked reader ----- */

typedef struct wr {
	uint8_t *p;
	size_t len, cap;
	int oom;  /* sticky: set on the first failed allocation */
} wr;

/* Append n bytes; on failure set w->oom and drop the write. */
static void wr_bytes(wr *w, const void *data, size_t n)
{
	if (w->oom)
		return;
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *p;
		while (cap - w->len < n && cap < SIZE_MAX / 2)
			cap *= 2;
		p = cap - w->len < n ? NULL : realloc(w->p, cap);
		if (!p) {
			w->oom = 1;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	if (n > 0)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

/* Append a uint32 in network byte order. */
static void wr_u32(wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	wr_bytes(w, b, sizeof(b));
}

/* Append an SSH "string": uint32 length, then the bytes (n <= UINT32_MAX). */
static void wr_string(wr *w, const void *data, size_t n)
{
	wr_u32(w, (uint32_t)n);
	wr_bytes(w, data, n);
}

/* Append string "ssh-ed25519" || string data: the body of an ssh-ed25519
 * public key blob (data = 32 bytes) or signature blob (data = 64 bytes). */
static void wr_ed25519(wr *w, const uint8_t *data, size_t n)
{
	wr_string(w, SSH_ED25519, strlen(SSH_ED25519));
	wr_string(w, data, n);
}

/* The length of what wr_ed25519 writes. */
static size_t ed25519_blob_len(size_t n)
{
	return 4 + strlen(SSH_ED25519) + 4 + n;
}

typedef struct rd {
	const uint8_t *p;
	size_t len, off;
} rd;

/* Take n raw bytes; -1 if fewer remain. */
static int rd_bytes(rd *r, const uint8_t **out, size_t n)
{
	if (n > r->len - r->off)
		return -1;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

/* Take a network-order uint32; -1 if fewer than 4 bytes remain. */
static int rd_u32(rd *r, uint32_t *v)
{
	const uint8_t *b;

	if (rd_bytes(r, &b, 4) != 0)
		return -1;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return 0;
}

/* Take an SSH "string"; -1 if its length exceeds what remains. */
static int rd_string(rd *r, const uint8_t **s, size_t *n)
{
	uint32_t len;

	if (rd_u32(r, &len) != 0 || rd_bytes(r, s, len) != 0)
		return -1;
	*n = len;
	return 0;
}

/* Parse the body of an ssh-ed25519 key or signature blob, s[0..n):
 * string "ssh-ed25519" || string data, where data must be exactly `want`
 * bytes and nothing may follow.  Points *data into s; -1 on mismatch. */
static int rd_ed25519(const uint8_t *s, size_t n, size_t want, const uint8_t **data)
{
	rd r = { s, n, 0 };
	const uint8_t *type, *d;
	size_t type_len, d_len;

	if (rd_string(&r, &type, &type_len) != 0 || !bytes_are(type, type_len, SSH_ED25519))
		return -1;
	if (rd_string(&r, &d, &d_len) != 0 || d_len != want || r.off != r.len)
		return -1;
	*data = d;
	return 0;
}

/* ---- keys ----------------------------------------------------------------- */

/* Wrap pkey into a new crm_key in *out.  Takes ownership of pkey: it is freed
 * on failure.  Refuses anything but Ed25519. */
static int key_wrap(crm_key **out, EVP_PKEY *pkey, int has_private)
{
	int rc = 0;
	size_t n = CRM_PUBKEY_LEN;
	char eb[OSSL_REASON_LEN];
	crm_key *k = calloc(1, sizeof(*k));

	if (!k) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory for a key");
		goto done;
	}
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		rc = CRM_ERR(CRM_EINVAL, "not an Ed25519 key");
		goto done;
	}
	if (EVP_PKEY_get_raw_public_key(pkey, k->pub, &n) != 1 || n != CRM_PUBKEY_LEN) {
		rc = CRM_ERR(CRM_ECRYPTO, "reading the public key: %s", ossl_reason(eb));
		goto done;
	}
	k->pkey = pkey;
	k->has_private = has_private;
	*out = k;
	k = NULL;
	pkey = NULL;
done:
	EVP_PKEY_free(pkey);
	free(k);
	return rc;
}

/* Contract: on success *out is a new key pair owned by the caller; on failure
 * *out is NULL.  CRM_ECRYPTO if OpenSSL cannot generate. */
int crm_key_generate(crm_key **out)
{
	char eb[OSSL_REASON_LEN];
	EVP_PKEY *pkey;

	if (!out)
		return CRM_ERR(CRM_EINVAL, "crm_key_generate: NULL out");
	*out = NULL;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey)
		return CRM_ERR(CRM_ECRYPTO, "generating an Ed25519 key: %s", ossl_reason(eb));
	return key_wrap(out, pkey, 1);
}

/* Contract: creates `path` (O_EXCL, mode 0600) holding the PKCS#8 PEM of the
 * private key, flushed to disk.  CRM_EEXISTS if anything is at path,
 * CRM_EINVAL for a public-only key, CRM_EIO / CRM_ECRYPTO otherwise; a file
 * this call created is removed again when it fails. */
int crm_key_save(const crm_key *key, const char *path)
{
	int rc = 0, fd = -1, created = 0;
	FILE *fp = NULL;
	char eb[OSSL_REASON_LEN];

	if (!key || !path)
		return CRM_ERR(CRM_EINVAL, "crm_key_save: NULL argument");
	if (!key->has_private)
		return CRM_ERR(CRM_EINVAL, "cannot save a public-only key");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int code = errno == EEXIST ? CRM_EEXISTS : CRM_EIO;
		rc = CRM_ERR(code, "%s: %s", path, strerror(errno));
		goto done;
	}
	created = 1;
	if (!(fp = fdopen(fd, "w"))) {
		rc = CRM_ERR(CRM_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	fd = -1;  /* now owned by fp */
	if (PEM_write_PrivateKey(fp, key->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = CRM_ERR(CRM_ECRYPTO, "%s: writing the key: %s", path, ossl_reason(eb));
		goto done;
	}
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		rc = CRM_ERR(CRM_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
done:
	if (fp && fclose(fp) != 0 && rc == 0)
		rc = CRM_ERR(CRM_EIO, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc != 0 && created)
		unlink(path);
	return rc;
}

/* Passphrase callback that refuses: libcrm never prompts, and its key files
 * are not encrypted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Contract: on success *out is the private key stored at path (caller frees);
 * on failure *out is NULL.  CRM_ENOTFOUND if path does not exist, CRM_EIO if
 * it cannot be read, CRM_ECORRUPT if it holds no unencrypted PEM private key,
 * CRM_EINVAL if the key is not Ed25519. */
int crm_key_load(crm_key **out, const char *path)
{
	int rc = 0;
	FILE *fp = NULL;
	EVP_PKEY *pkey;
	char eb[OSSL_REASON_LEN];

	if (!out || !path)
		return CRM_ERR(CRM_EINVAL, "crm_key_load: NULL argument");
	*out = NULL;
	if (!(fp = fopen(path, "re"))) {
		int code = errno == ENOENT ? CRM_ENOTFOUND : CRM_EIO;
		rc = CRM_ERR(code, "%s: %s", path, strerror(errno));
		goto done;
	}
	pkey = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
	if (!pkey) {
		rc = CRM_ERR(CRM_ECORRUPT, "%s: no usable PEM private key: %s", path,
			     ossl_reason(eb));
		goto done;
	}
	rc = key_wrap(out, pkey, 1);
done:
	if (fp)
		fclose(fp);
	return rc;
}

/* Contract: *out is a new public-only key (it can verify, not sign or be
 * saved); NULL on failure.  The point is not validated here: a bad point
 * simply never verifies. */
int crm_key_from_public(crm_key **out, const uint8_t pub[CRM_PUBKEY_LEN])
{
	char eb[OSSL_REASON_LEN];
	EVP_PKEY *pkey;

	if (!out || !pub)
		return CRM_ERR(CRM_EINVAL, "crm_key_from_public: NULL argument");
	*out = NULL;
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, CRM_PUBKEY_LEN);
	if (!pkey)
		return CRM_ERR(CRM_ECRYPTO, "loading a public key: %s", ossl_reason(eb));
	return key_wrap(out, pkey, 0);
}

void crm_key_free(crm_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

void crm_key_public(const crm_key *key, uint8_t out[CRM_PUBKEY_LEN])
{
	memcpy(out, key->pub, CRM_PUBKEY_LEN);
}

void crm_node_id_of(char out[CRM_NODE_ID_HEX + 1], const uint8_t pub[CRM_PUBKEY_LEN])
{
	uint8_t d[CRM_SHA256_LEN];

	crm_sha256(d, pub, CRM_PUBKEY_LEN);
	crm_hex(out, d, CRM_NODE_ID_HEX / 2);
}

/* ---- OpenSSH public key lines ----------------------------------------- */

/* Contract: *out is "ssh-ed25519 <base64 blob>[ <comment>]" without a
 * newline, malloc'd.  CRM_EINVAL if the comment holds a line break. */
int crm_pubkey_to_openssh(char **out, const uint8_t pub[CRM_PUBKEY_LEN], const char *comment)
{
	int rc = 0;
	wr w = { 0 };
	char *b64 = NULL, *p;
	size_t n;
	int has_comment = comment && comment[0] != '\0';

	if (!out || !pub)
		return CRM_ERR(CRM_EINVAL, "crm_pubkey_to_openssh: NULL argument");
	*out = NULL;
	if (has_comment && strpbrk(comment, "\r\n"))
		return CRM_ERR(CRM_EINVAL, "a key comment cannot contain a line break");
	wr_ed25519(&w, pub, CRM_PUBKEY_LEN);
	if (w.oom || !(b64 = b64_encode(w.p, w.len))) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	n = strlen(SSH_ED25519) + 1 + strlen(b64) + (has_comment ? 1 + strlen(comment) : 0) + 1;
	if (!(*out = malloc(n))) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	p = stpcpy(stpcpy(*out, SSH_ED25519 " "), b64);
	if (has_comment)
		stpcpy(stpcpy(p, " "), comment);
done:
	free(w.p);
	free(b64);
	return rc;
}

/* Contract: accepts "ssh-ed25519", blanks, the base64 blob, then the end of
 * the string or a blank/line break followed by anything (the comment).  The
 * blob must be exactly string "ssh-ed25519" || string pub32.  Anything else,
 * including options before the key type, is CRM_EINVAL. */
int crm_pubkey_from_openssh(uint8_t out[CRM_PUBKEY_LEN], const char *line)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	size_t type_len = strlen(SSH_ED25519), n, blob_len;
	uint8_t blob[PUBLINE_B64_MAX / 4 * 3];
	const uint8_t *pub;
	const char *p;

	if (!out || !line)
		return CRM_ERR(CRM_EINVAL, "crm_pubkey_from_openssh: NULL argument");
	if (strncmp(line, SSH_ED25519, type_len) != 0 ||
	    (line[type_len] != ' ' && line[type_len] != '\t'))
		return CRM_ERR(CRM_EINVAL, "not an ssh-ed25519 public key line");
	p = line + type_len + strspn(line + type_len, " \t");
	n = strspn(p, alphabet);
	if (p[n] != '\0' && !strchr(" \t\r\n", p[n]))
		return CRM_ERR(CRM_EINVAL, "bad character in the public key's base64");
	if (n == 0 || n > PUBLINE_B64_MAX)
		return CRM_ERR(CRM_EINVAL, "public key base64 of the wrong length");
	if (b64_decode(blob, &blob_len, p, n) != 0)
		return CRM_ERR(CRM_EINVAL, "public key is not valid base64");
	if (rd_ed25519(blob, blob_len, CRM_PUBKEY_LEN, &pub) != 0)
		return CRM_ERR(CRM_EINVAL, "public key blob is not a 32-byte ssh-ed25519 key");
	memcpy(out, pub, CRM_PUBKEY_LEN);
	return 0;
}

/* ---- hashes, hex, randomness --------------------------------------------- */

void crm_sha256(uint8_t out[CRM_SHA256_LEN], const void *data, size_t len)
{
	SHA256(nonnull(data), len, out);
}

struct crm_sha256_ctx {
	EVP_MD_CTX *md;
	int failed;  /* an OpenSSL call failed: final yields all-zero bytes */
};

/* Contract: *out is a fresh SHA-256 context, to be passed to
 * crm_sha256_final exactly once (which frees it); NULL on failure. */
int crm_sha256_new(crm_sha256_ctx **out)
{
	int rc = 0;
	char eb[OSSL_REASON_LEN];
	crm_sha256_ctx *c = NULL;

	if (!out)
		return CRM_ERR(CRM_EINVAL, "crm_sha256_new: NULL out");
	*out = NULL;
	if (!(c = calloc(1, sizeof(*c))) || !(c->md = EVP_MD_CTX_new())) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory for a SHA-256 context");
		goto done;
	}
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		rc = CRM_ERR(CRM_ECRYPTO, "SHA-256 init: %s", ossl_reason(eb));
		goto done;
	}
	*out = c;
	c = NULL;
done:
	if (c)
		EVP_MD_CTX_free(c->md);
	free(c);
	return rc;
}

/* Contract: hashes len more bytes.  It cannot report an error (OpenSSL's
 * SHA-256 does not fail once initialised); if it ever did, the context is
 * marked failed and crm_sha256_final yields all-zero bytes, which match no
 * real digest. */
void crm_sha256_update(crm_sha256_ctx *ctx, const void *data, size_t len)
{
	if (ctx->failed || len == 0)
		return;
	if (EVP_DigestUpdate(ctx->md, data, len) != 1) {
		ERR_clear_error();
		ctx->failed = 1;
	}
}

/* Contract: writes the digest (all zero if the context failed) and frees
 * ctx.  NULL-safe: a NULL ctx yields all-zero bytes. */
void crm_sha256_final(crm_sha256_ctx *ctx, uint8_t out[CRM_SHA256_LEN])
{
	unsigned int n = 0;

	if (!ctx || ctx->failed || EVP_DigestFinal_ex(ctx->md, out, &n) != 1 ||
	    n != CRM_SHA256_LEN) {
		ERR_clear_error();
		memset(out, 0, CRM_SHA256_LEN);
	}
	if (ctx)
		EVP_MD_CTX_free(ctx->md);
	free(ctx);
}

void crm_hex(char *out, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* Contract: fills all len bytes from OpenSSL's CSPRNG or returns
 * CRM_ECRYPTO (the buffer contents are then unspecified). */
int crm_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	char eb[OSSL_REASON_LEN];

	if (!buf && len > 0)
		return CRM_ERR(CRM_EINVAL, "crm_random: NULL buffer");
	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(p, n) != 1)
			return CRM_ERR(CRM_ECRYPTO, "RAND_bytes: %s", ossl_reason(eb));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- raw Ed25519 ---------------------------------------------------------- */

/* Contract: out is the 64-byte Ed25519 (pure, RFC 8032) signature of data.
 * CRM_EINVAL for a public-only key, CRM_ECRYPTO if OpenSSL fails. */
int crm_sign_raw(uint8_t out[CRM_SIG_LEN], const crm_key *key, const void *data, size_t len)
{
	int rc = 0;
	size_t sig_len = CRM_SIG_LEN;
	char eb[OSSL_REASON_LEN];
	EVP_MD_CTX *ctx = NULL;

	if (!out || !key || (!data && len > 0))
		return CRM_ERR(CRM_EINVAL, "crm_sign_raw: NULL argument");
	if (!key->has_private)
		return CRM_ERR(CRM_EINVAL, "cannot sign with a public-only key");
	if (!(ctx = EVP_MD_CTX_new())) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, out, &sig_len, nonnull(data), len) != 1 ||
	    sig_len != CRM_SIG_LEN) {
		rc = CRM_ERR(CRM_ECRYPTO, "Ed25519 signing: %s", ossl_reason(eb));
		goto done;
	}
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Contract: 0 if sig is key's Ed25519 signature of data, else CRM_EVERIFY
 * (also for a public key that is not a valid curve point). */
int crm_verify_raw(const crm_key *key, const uint8_t sig[CRM_SIG_LEN], const void *data, size_t len)
{
	int rc = 0;
	char eb[OSSL_REASON_LEN];
	EVP_MD_CTX *ctx = NULL;

	if (!key || !sig || (!data && len > 0))
		return CRM_ERR(CRM_EINVAL, "crm_verify_raw: NULL argument");
	if (!(ctx = EVP_MD_CTX_new())) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) != 1) {
		rc = CRM_ERR(CRM_ECRYPTO, "Ed25519 verify init: %s", ossl_reason(eb));
		goto done;
	}
	if (EVP_DigestVerify(ctx, sig, CRM_SIG_LEN, nonnull(data), len) != 1) {
		ERR_clear_error();
		rc = CRM_ERR(CRM_EVERIFY, "Ed25519 signature does not verify");
		goto done;
	}
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* ---- SSHSIG ------------------------------------------------------------- */

/* The fields of a parsed SSHSIG blob; pointers into the blob. */
typedef struct sshsig {
	const uint8_t *pub;         /* CRM_PUBKEY_LEN bytes */
	const uint8_t *ns;
	size_t ns_len;
	const uint8_t *reserved;
	size_t reserved_len;
	const char *hash;           /* "sha256" or "sha512" */
	const uint8_t *sig;         /* CRM_SIG_LEN bytes */
} sshsig;

/* H(message) for an SSHSIG hash algorithm name ("sha256" or "sha512");
 * returns the digest length. */
static size_t sshsig_digest(uint8_t out[SHA512_DIGEST_LENGTH], const char *hash,
			    const void *data, size_t len)
{
	if (strcmp(hash, "sha256") == 0) {
		SHA256(nonnull(data), len, out);
		return SHA256_DIGEST_LENGTH;
	}
	SHA512(nonnull(data), len, out);
	return SHA512_DIGEST_LENGTH;
}

/* Append the data the Ed25519 signature covers (PROTOCOL.sshsig):
 * "SSHSIG" || string namespace || string reserved || string hash || string H(m). */
static void wr_sshsig_signed_data(wr *w, const sshsig *sg, const uint8_t *digest, size_t digest_len)
{
	wr_bytes(w, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN);
	wr_string(w, sg->ns, sg->ns_len);
	wr_string(w, sg->reserved, sg->reserved_len);
	wr_string(w, sg->hash, strlen(sg->hash));
	wr_string(w, digest, digest_len);
}

/* Append the SSHSIG blob: "SSHSIG" || uint32 1 || string publickey ||
 * string namespace || string reserved || string hash || string signature. */
static void wr_sshsig_blob(wr *w, const sshsig *sg)
{
	wr_bytes(w, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN);
	wr_u32(w, SSHSIG_VERSION);
	wr_u32(w, (uint32_t)ed25519_blob_len(CRM_PUBKEY_LEN));
	wr_ed25519(w, sg->pub, CRM_PUBKEY_LEN);
	wr_string(w, sg->ns, sg->ns_len);
	wr_string(w, sg->reserved, sg->reserved_len);
	wr_string(w, sg->hash, strlen(sg->hash));
	wr_u32(w, (uint32_t)ed25519_blob_len(CRM_SIG_LEN));
	wr_ed25519(w, sg->sig, CRM_SIG_LEN);
}

/* Parse an SSHSIG blob into sg, checking every length against what remains
 * and refusing trailing bytes.  CRM_EINVAL for anything malformed or
 * unsupported (version other than 1, key type other than ssh-ed25519, hash
 * other than sha256/sha512). */
static int sshsig_parse(sshsig *sg, const uint8_t *blob, size_t len)
{
	rd r = { blob, len, 0 };
	const uint8_t *magic, *pk, *hash, *sig;
	size_t pk_len, hash_len, sig_len;
	uint32_t version;

	if (rd_bytes(&r, &magic, SSHSIG_MAGIC_LEN) != 0 || memcmp(magic, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		return CRM_ERR(CRM_EINVAL, "SSHSIG: bad magic");
	if (rd_u32(&r, &version) != 0 || version != SSHSIG_VERSION)
		return CRM_ERR(CRM_EINVAL, "SSHSIG: missing or unsupported version");
	if (rd_string(&r, &pk, &pk_len) != 0 || rd_string(&r, &sg->ns, &sg->ns_len) != 0 ||
	    rd_string(&r, &sg->reserved, &sg->reserved_len) != 0 ||
	    rd_string(&r, &hash, &hash_len) != 0 || rd_string(&r, &sig, &sig_len) != 0)
		return CRM_ERR(CRM_EINVAL, "SSHSIG: truncated");
	if (r.off != r.len)
		return CRM_ERR(CRM_EINVAL, "SSHSIG: trailing bytes");
	if (rd_ed25519(pk, pk_len, CRM_PUBKEY_LEN, &sg->pub) != 0)
		return CRM_ERR(CRM_EINVAL, "SSHSIG: unsupported public key (only ssh-ed25519)");
	if (rd_ed25519(sig, sig_len, CRM_SIG_LEN, &sg->sig) != 0)
		return CRM_ERR(CRM_EINVAL, "SSHSIG: unsupported signature (only ssh-ed25519)");
	if (bytes_are(hash, hash_len, "sha512"))
		sg->hash = "sha512";
	else if (bytes_are(hash, hash_len, "sha256"))
		sg->hash = "sha256";
	else
		return CRM_ERR(CRM_EINVAL, "SSHSIG: unsupported hash algorithm");
	return 0;
}

/* *out = ARMOR_BEGIN "\n", the base64 of blob in lines of ARMOR_WRAP
 * characters each ending in "\n", then ARMOR_END "\n" — byte for byte what
 * ssh-keygen -Y sign writes.  Caller frees. */
static int armor_encode(char **out, const uint8_t *blob, size_t len)
{
	int rc = 0;
	char *b64 = b64_encode(blob, len), *p;
	size_t n, i, chunk;

	if (!b64) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	n = strlen(b64);
	*out = malloc(strlen(ARMOR_BEGIN) + 1 + n + n / ARMOR_WRAP + 1 + strlen(ARMOR_END) + 2);
	if (!(p = *out)) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	p += sprintf(p, "%s\n", ARMOR_BEGIN);
	for (i = 0; i < n; i += chunk) {
		chunk = n - i < ARMOR_WRAP ? n - i : ARMOR_WRAP;
		memcpy(p, b64 + i, chunk);
		p += chunk;
		*p++ = '\n';
	}
	sprintf(p, "%s\n", ARMOR_END);
done:
	free(b64);
	return rc;
}

/* Strip the armor of untrusted text and decode it into blob (room for
 * ARMOR_MAX / 4 * 3 bytes).  The text must start with ARMOR_BEGIN and a line
 * break; then come base64, blanks and line breaks up to a line starting with
 * ARMOR_END, then only blanks and line breaks.  CRM_ELIMIT over ARMOR_MAX
 * bytes, CRM_EINVAL if malformed. */
static int armor_decode(uint8_t *blob, size_t *blob_len, const char *armored)
{
	char text[ARMOR_MAX];
	size_t n = strnlen(armored, ARMOR_MAX + 1), t = 0;
	const char *p, *end;

	if (n > ARMOR_MAX)
		return CRM_ERR(CRM_ELIMIT, "SSH signature longer than %d bytes", ARMOR_MAX);
	if (strncmp(armored, ARMOR_BEGIN, strlen(ARMOR_BEGIN)) != 0)
		return CRM_ERR(CRM_EINVAL, "SSH signature: missing BEGIN line");
	p = armored + strlen(ARMOR_BEGIN);
	if (*p != '\n' && *p != '\r')
		return CRM_ERR(CRM_EINVAL, "SSH signature: text after the BEGIN marker");
	if (!(end = strstr(p, "\n" ARMOR_END)))
		return CRM_ERR(CRM_EINVAL, "SSH signature: missing END line");
	end++;
	if (strspn(end + strlen(ARMOR_END), " \t\r\n") != strlen(end + strlen(ARMOR_END)))
		return CRM_ERR(CRM_EINVAL, "SSH signature: text after the END line");
	for (; p < end; p++) {
		if (!strchr(" \t\r\n", *p))
			text[t++] = *p;
	}
	if (b64_decode(blob, blob_len, text, t) != 0)
		return CRM_ERR(CRM_EINVAL, "SSH signature: bad base64");
	return 0;
}

/* Contract: see sign.h.  ns must be non-empty and at most SSHSIG_NS_MAX
 * bytes (CRM_EINVAL / CRM_ELIMIT); the hash is always sha512 and the
 * reserved field empty, as ssh-keygen does. */
int crm_sshsig_sign(char **out, const crm_key *key, const char *ns, const void *data, size_t len)
{
	int rc = 0;
	wr tbs = { 0 }, blob = { 0 };
	uint8_t digest[SHA512_DIGEST_LENGTH], sig[CRM_SIG_LEN];
	sshsig sg;
	size_t digest_len;

	if (!out || !key || !ns || (!data && len > 0))
		return CRM_ERR(CRM_EINVAL, "crm_sshsig_sign: NULL argument");
	*out = NULL;
	if (ns[0] == '\0')
		return CRM_ERR(CRM_EINVAL, "SSHSIG namespace must not be empty");
	if (strlen(ns) > SSHSIG_NS_MAX)
		return CRM_ERR(CRM_ELIMIT, "SSHSIG namespace longer than %d bytes", SSHSIG_NS_MAX);
	sg = (sshsig){ .pub = key->pub, .ns = (const uint8_t *)ns, .ns_len = strlen(ns),
		       .reserved = (const uint8_t *)"", .hash = SSHSIG_HASH, .sig = sig };
	digest_len = sshsig_digest(digest, sg.hash, data, len);
	wr_sshsig_signed_data(&tbs, &sg, digest, digest_len);
	if (tbs.oom) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = crm_sign_raw(sig, key, tbs.p, tbs.len)) != 0)
		goto done;
	wr_sshsig_blob(&blob, &sg);
	if (blob.oom) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	rc = armor_encode(out, blob.p, blob.len);
done:
	free(tbs.p);
	free(blob.p);
	return rc;
}

/* Contract: see sign.h.  Order of checks: size (CRM_ELIMIT), armor and blob
 * structure (CRM_EINVAL), namespace equality (CRM_EVERIFY), Ed25519
 * signature (CRM_EVERIFY).  signer_out is written only on success. */
int crm_sshsig_verify(uint8_t signer_out[CRM_PUBKEY_LEN], const char *armored,
		      const char *ns, const void *data, size_t len)
{
	int rc = 0;
	uint8_t blob[ARMOR_MAX / 4 * 3], digest[SHA512_DIGEST_LENGTH];
	size_t blob_len = 0, digest_len;
	sshsig sg;
	wr tbs = { 0 };
	crm_key *signer = NULL;

	if (!armored || !ns || (!data && len > 0))
		return CRM_ERR(CRM_EINVAL, "crm_sshsig_verify: NULL argument");
	if ((rc = armor_decode(blob, &blob_len, armored)) != 0 ||
	    (rc = sshsig_parse(&sg, blob, blob_len)) != 0)
		goto done;
	if (!bytes_are(sg.ns, sg.ns_len, ns)) {
		rc = CRM_ERR(CRM_EVERIFY, "SSH signature is not in namespace \"%s\"", ns);
		goto done;
	}
	digest_len = sshsig_digest(digest, sg.hash, data, len);
	wr_sshsig_signed_data(&tbs, &sg, digest, digest_len);
	if (tbs.oom) {
		rc = CRM_ERR(CRM_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = crm_key_from_public(&signer, sg.pub)) != 0 ||
	    (rc = crm_verify_raw(signer, sg.sig, tbs.p, tbs.len)) != 0)
		goto done;
	if (signer_out)
		memcpy(signer_out, sg.pub, CRM_PUBKEY_LEN);
done:
	free(tbs.p);
	crm_key_free(signer);
	return rc;
}

/* ---- base64 for other modules -------------------------------------------- */

char *crm_base64_encode(const void *data, size_t len)
{
	return b64_encode(data, len);
}

int crm_base64_decode(uint8_t **out, size_t *out_len, const char *in)
{
	size_t len = strlen(in);
	*out = NULL;
	if (len > (1u << 20))
		return CRM_ERR(CRM_ELIMIT, "base64 text too long");
	uint8_t *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	if (b64_decode(buf, out_len, in, len) < 0) {
		free(buf);
		return CRM_ERR(CRM_EINVAL, "not valid base64");
	}
	*out = buf;
	return 0;
}
