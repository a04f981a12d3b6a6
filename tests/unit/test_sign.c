/*
 * test_sign.c — unit tests of node/sign.c: keys, node ids, OpenSSH public key
 * lines, SHA-256, raw Ed25519, SSHSIG (including malformed and tampered
 * input), and interoperability with OpenSSH's ssh-keygen in both directions.
 *
 * Every test runs in its own mkdtemp directory, removed afterwards.  The
 * ssh-keygen tests skip only when /usr/bin/ssh-keygen is absent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "sign.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#define SSH_KEYGEN "/usr/bin/ssh-keygen"
#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----\n"
#define ARMOR_END "-----END SSH SIGNATURE-----\n"
#define MSG "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\ncommit message\n"

/* Byte offsets inside an SSHSIG blob made with namespace "git" (3 bytes). */
#define OFF_VERSION 6
#define OFF_PUBKEY_TYPE 18     /* "ssh-ed25519" of the public key */
#define OFF_NS_LEN 65
#define OFF_HASH 80            /* "sha512" */
#define OFF_SIG 109            /* the 64 raw signature bytes */
#define GIT_BLOB_LEN 173

/* ---- fixtures and file helpers ------------------------------------------ */

static int setup_dir(void **state)
{
	char tmpl[] = "/tmp/crm_test_sign_XXXXXX";

	if (!mkdtemp(tmpl))
		return -1;
	*state = strdup(tmpl);
	return *state ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char *dir = *state, path[512];
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
	return 0;
}

static void path_in(char out[512], const char *dir, const char *name)
{
	snprintf(out, 512, "%s/%s", dir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, NUL-terminated; caller frees. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	assert_true(feof(f));
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Run a shell command with output to dir/log; on failure print the log. */
static int run(const char *dir, const char *cmd)
{
	char full[2048], log[512];
	int st;

	path_in(log, dir, "log");
	snprintf(full, sizeof(full), "%s > '%s' 2>&1", cmd, log);
	st = system(full);
	st = st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
	if (st != 0) {
		char *out = read_file(log);
		print_error("command failed (%d): %s\n%s", st, cmd, out);
		free(out);
	}
	return st;
}

/* ---- SSHSIG blob helpers (test side, built on OpenSSL directly) ------- */

/* Decode an armored signature into blob; returns the blob length. */
static size_t unarmor(uint8_t *blob, const char *armored)
{
	char b64[8192];
	size_t t = 0, pad = 0;
	const char *p = armored + strlen(ARMOR_BEGIN), *end = strstr(armored, ARMOR_END);
	int n;

	assert_non_null(end);
	for (; p < end; p++) {
		if (*p != '\n')
			b64[t++] = *p;
	}
	b64[t] = '\0';
	pad = (t > 0 && b64[t - 1] == '=') + (t > 1 && b64[t - 2] == '=');
	n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)t);
	assert_true(n >= 0);
	return (size_t)n - pad;
}

/* Armor a blob the way ssh-keygen does; caller frees. */
static char *armor(const uint8_t *blob, size_t len)
{
	char b64[8192], *out = calloc(1, 16384), *p;
	size_t n, i;

	assert_non_null(out);
	n = (size_t)EVP_EncodeBlock((unsigned char *)b64, blob, (int)len);
	p = out + sprintf(out, "%s", ARMOR_BEGIN);
	for (i = 0; i < n; i += 70) {
		size_t c = n - i < 70 ? n - i : 70;
		memcpy(p, b64 + i, c);
		p += c;
		*p++ = '\n';
	}
	strcpy(p, ARMOR_END);
	return out;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A fresh key and its armored SSHSIG of MSG in namespace "git", decoded. */
static crm_key *signed_blob(uint8_t blob[GIT_BLOB_LEN])
{
	crm_key *key = NULL;
	char *sig = NULL;

	assert_int_equal(crm_key_generate(&key), 0);
	assert_int_equal(crm_sshsig_sign(&sig, key, "git", MSG, strlen(MSG)), 0);
	assert_int_equal(unarmor(blob, sig), GIT_BLOB_LEN);
	assert_memory_equal(blob + OFF_HASH, "sha512", 6);
	free(sig);
	return key;
}

/* Verify a (possibly mutated) blob against MSG in "git". */
static int verify_blob(const uint8_t *blob, size_t len)
{
	char *a = armor(blob, len);
	int rc = crm_sshsig_verify(NULL, a, "git", MSG, strlen(MSG));

	free(a);
	assert_int_equal(ERR_peek_error(), 0);  /* no stale OpenSSL errors */
	return rc;
}

/* ---- keys ------------------------------------------------------------------ */

static void test_key_generate_save_load(void **state)
{
	char path[512];
	crm_key *a = NULL, *b = NULL;
	uint8_t pa[CRM_PUBKEY_LEN], pb[CRM_PUBKEY_LEN], sig[CRM_SIG_LEN];
	struct stat st;
	char *pem;

	path_in(path, *state, "node.key");
	assert_int_equal(crm_key_generate(&a), 0);
	assert_int_equal(crm_key_save(a, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	pem = read_file(path);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));  /* PKCS#8 */
	free(pem);
	assert_int_equal(crm_key_load(&b, path), 0);
	crm_key_public(a, pa);
	crm_key_public(b, pb);
	assert_memory_equal(pa, pb, CRM_PUBKEY_LEN);
	assert_int_equal(crm_sign_raw(sig, b, "x", 1), 0);
	assert_int_equal(crm_verify_raw(a, sig, "x", 1), 0);
	crm_key_free(a);
	crm_key_free(b);
	crm_key_free(NULL);
}

static void test_key_save_refuses_existing(void **state)
{
	char path[512];
	crm_key *a = NULL, *b = NULL, *c = NULL;
	uint8_t pa[CRM_PUBKEY_LEN], pc[CRM_PUBKEY_LEN];

	path_in(path, *state, "node.key");
	assert_int_equal(crm_key_generate(&a), 0);
	assert_int_equal(crm_key_generate(&b), 0);
	assert_int_equal(crm_key_save(a, path), 0);
	assert_int_equal(crm_key_save(b, path), CRM_EEXISTS);
	assert_int_equal(crm_key_load(&c, path), 0);  /* still a's key */
	crm_key_public(a, pa);
	crm_key_public(c, pc);
	assert_memory_equal(pa, pc, CRM_PUBKEY_LEN);
	crm_key_free(a);
	crm_key_free(b);
	crm_key_free(c);
}

static void test_key_load_and_save_errors(void **state)
{
	char path[512];
	crm_key *k = (crm_key *)&k, *pub = NULL;
	uint8_t raw[CRM_PUBKEY_LEN] = { 0 };

	path_in(path, *state, "missing.key");
	assert_int_equal(crm_key_load(&k, path), CRM_ENOTFOUND);
	assert_null(k);
	path_in(path, *state, "garbage.key");
	write_file(path, "not a key\n", 10);
	assert_int_equal(crm_key_load(&k, path), CRM_ECORRUPT);
	assert_null(k);
	assert_int_equal(ERR_peek_error(), 0);
	assert_true(strlen(crm_error_last()) > 0);
	assert_int_equal(crm_key_from_public(&pub, raw), 0);
	path_in(path, *state, "pub.key");
	assert_int_equal(crm_key_save(pub, path), CRM_EINVAL);
	assert_int_equal(access(path, F_OK), -1);
	crm_key_free(pub);
}

static void test_node_id(void **state)
{
	static const uint8_t zero[CRM_PUBKEY_LEN] = { 0 };
	char id1[CRM_NODE_ID_HEX + 1], id2[CRM_NODE_ID_HEX + 1];
	uint8_t pub[CRM_PUBKEY_LEN];
	crm_key *k = NULL;
	size_t i;

	(void)state;
	/* first 16 bytes of SHA-256 of 32 zero bytes */
	crm_node_id_of(id1, zero);
	assert_string_equal(id1, "66687aadf862bd776c8fc18b8e9f8e20");
	assert_int_equal(crm_key_generate(&k), 0);
	crm_key_public(k, pub);
	crm_node_id_of(id1, pub);
	crm_node_id_of(id2, pub);
	assert_int_equal(strlen(id1), CRM_NODE_ID_HEX);
	for (i = 0; i < CRM_NODE_ID_HEX; i++)
		assert_non_null(strchr("0123456789abcdef", id1[i]));
	assert_string_equal(id1, id2);
	crm_key_free(k);
}

/* ---- OpenSSH public key lines -------------------------------------------- */

static void test_openssh_roundtrip(void **state)
{
	crm_key *k = NULL;
	uint8_t pub[CRM_PUBKEY_LEN], back[CRM_PUBKEY_LEN];
	char *line = NULL, *bare = NULL, with_nl[256];

	(void)state;
	assert_int_equal(crm_key_generate(&k), 0);
	crm_key_public(k, pub);
	assert_int_equal(crm_pubkey_to_openssh(&line, pub, "alice@laptop"), 0);
	assert_int_equal(strncmp(line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37), 0);
	assert_string_equal(line + strlen(line) - 13, " alice@laptop");
	assert_int_equal(crm_pubkey_from_openssh(back, line), 0);
	assert_memory_equal(pub, back, CRM_PUBKEY_LEN);
	assert_int_equal(crm_pubkey_to_openssh(&bare, pub, ""), 0);
	assert_int_equal(strlen(bare), strlen("ssh-ed25519 ") + 68);
	snprintf(with_nl, sizeof(with_nl), "%s\n", bare);
	memset(back, 0, sizeof(back));
	assert_int_equal(crm_pubkey_from_openssh(back, with_nl), 0);
	assert_memory_equal(pub, back, CRM_PUBKEY_LEN);
	free(line);
	free(bare);
	assert_int_equal(crm_pubkey_to_openssh(&line, pub, "evil\nssh-ed25519 x"), CRM_EINVAL);
	assert_null(line);
	crm_key_free(k);
}

static void test_openssh_rejects(void **state)
{
	uint8_t out[CRM_PUBKEY_LEN];
	static const char *const bad[] = {
		"",
		"garbage",
		"ssh-ed25519",
		"ssh-ed25519 ",
		"ssh-ed25519AAAAC3NzaC1lZDI1NTE5AAAAIA==",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 x@y",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= x@y",
		"ssh-ed25519 !!!!",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA",       /* unpadded */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",     /* 0 of 32 bytes */
		/* string "ssh-ed25519" || string of 31 bytes */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		/* outer ssh-ed25519, inner "ssh-ed25518" */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE4AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		/* valid key followed by a trailing byte in the blob */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
	};
	size_t i;

	(void)state;
	/* the well-formed version of the last three is accepted */
	assert_int_equal(crm_pubkey_from_openssh(out,
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (crm_pubkey_from_openssh(out, bad[i]) != CRM_EINVAL)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(crm_pubkey_from_openssh(out, NULL), CRM_EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- hashes, hex, random --------------------------------------------------- */

static void test_sha256_known_answers(void **state)
{
	uint8_t d[CRM_SHA256_LEN];
	char hex[2 * CRM_SHA256_LEN + 1];

	(void)state;
	crm_sha256(d, "abc", 3);
	crm_hex(hex, d, sizeof(d));
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crm_sha256(d, NULL, 0);
	crm_hex(hex, d, sizeof(d));
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_incremental(void **state)
{
	static const char abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	uint8_t d[CRM_SHA256_LEN], one[CRM_SHA256_LEN], *big;
	char hex[2 * CRM_SHA256_LEN + 1];
	crm_sha256_ctx *h = NULL;
	size_t i, n = 1 << 20;

	(void)state;
	assert_int_equal(crm_sha256_new(&h), 0);
	crm_sha256_update(h, "a", 1);
	crm_sha256_update(h, NULL, 0);
	crm_sha256_update(h, "bc", 2);
	crm_sha256_final(h, d);
	crm_hex(hex, d, sizeof(d));
	assert_string_equal(hex, abc);
	assert_non_null(big = malloc(n));
	for (i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 31 + 7);
	crm_sha256(one, big, n);
	assert_int_equal(crm_sha256_new(&h), 0);
	for (i = 0; i < n; i += 4093)
		crm_sha256_update(h, big + i, n - i < 4093 ? n - i : 4093);
	crm_sha256_final(h, d);
	assert_memory_equal(d, one, sizeof(d));
	free(big);
	assert_int_equal(crm_sha256_new(&h), 0);  /* empty input */
	crm_sha256_final(h, d);
	crm_hex(hex, d, sizeof(d));
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hex(void **state)
{
	static const uint8_t b[] = { 0x00, 0x0f, 0xa5, 0xff };
	char hex[9];

	(void)state;
	crm_hex(hex, b, sizeof(b));
	assert_string_equal(hex, "000fa5ff");
	crm_hex(hex, b, 0);
	assert_string_equal(hex, "");
}

static void test_random(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };

	(void)state;
	assert_int_equal(crm_random(a, sizeof(a)), 0);
	assert_int_equal(crm_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crm_random(NULL, 0), 0);
}

/* ---- raw Ed25519 ------------------------------------------------------------ */

static void test_raw_sign_verify(void **state)
{
	crm_key *k = NULL, *other = NULL, *pubonly = NULL;
	uint8_t pub[CRM_PUBKEY_LEN], sig[CRM_SIG_LEN];
	char data[] = "some bytes to sign";

	(void)state;
	assert_int_equal(crm_key_generate(&k), 0);
	assert_int_equal(crm_key_generate(&other), 0);
	crm_key_public(k, pub);
	assert_int_equal(crm_key_from_public(&pubonly, pub), 0);
	assert_int_equal(crm_sign_raw(sig, k, data, sizeof(data)), 0);
	assert_int_equal(crm_verify_raw(pubonly, sig, data, sizeof(data)), 0);
	assert_int_equal(crm_verify_raw(other, sig, data, sizeof(data)), CRM_EVERIFY);
	data[0] ^= 1;
	assert_int_equal(crm_verify_raw(pubonly, sig, data, sizeof(data)), CRM_EVERIFY);
	data[0] ^= 1;
	sig[10] ^= 0x40;
	assert_int_equal(crm_verify_raw(pubonly, sig, data, sizeof(data)), CRM_EVERIFY);
	assert_int_equal(crm_sign_raw(sig, pubonly, data, sizeof(data)), CRM_EINVAL);
	assert_int_equal(crm_sign_raw(sig, k, NULL, 0), 0);  /* empty message */
	assert_int_equal(crm_verify_raw(k, sig, NULL, 0), 0);
	assert_int_equal(ERR_peek_error(), 0);
	crm_key_free(k);
	crm_key_free(other);
	crm_key_free(pubonly);
}

/* ---- SSHSIG ----------------------------------------------------------------- */

/* Armor layout: BEGIN line, full 70-column lines, a last line of 1..70
 * columns, END line, final newline; no blank lines. */
static void assert_armor_layout(const char *a)
{
	const char *p = a + strlen(ARMOR_BEGIN), *end = strstr(a, ARMOR_END);

	assert_int_equal(strncmp(a, ARMOR_BEGIN, strlen(ARMOR_BEGIN)), 0);
	assert_non_null(end);
	assert_string_equal(end, ARMOR_END);
	while (p < end) {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p);
		assert_true(n >= 1 && n <= 70);
		if (nl + 1 < end)
			assert_int_equal(n, 70);
		p = nl + 1;
	}
}

static void test_sshsig_roundtrip(void **state)
{
	crm_key *k = NULL;
	uint8_t pub[CRM_PUBKEY_LEN], signer[CRM_PUBKEY_LEN];
	char *sig = NULL, *sig40 = NULL;
	const char *ns40 = "0123456789012345678901234567890123456789";

	(void)state;
	assert_int_equal(crm_key_generate(&k), 0);
	crm_key_public(k, pub);
	assert_int_equal(crm_sshsig_sign(&sig, k, "git", MSG, strlen(MSG)), 0);
	assert_armor_layout(sig);
	assert_int_equal(strlen(sig), 294);  /* as ssh-keygen for ed25519 + "git" */
	assert_int_equal(strncmp(sig + strlen(ARMOR_BEGIN), "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg", 44), 0);
	assert_int_equal(crm_sshsig_verify(signer, sig, "git", MSG, strlen(MSG)), 0);
	assert_memory_equal(signer, pub, CRM_PUBKEY_LEN);
	assert_int_equal(crm_sshsig_verify(NULL, sig, "git", MSG, strlen(MSG)), 0);
	/* a namespace making the base64 exactly 4 x 70 columns: no blank line */
	assert_int_equal(crm_sshsig_sign(&sig40, k, ns40, "", 0), 0);
	assert_armor_layout(sig40);
	assert_int_equal(strlen(sig40), strlen(ARMOR_BEGIN) + 4 * 71 + strlen(ARMOR_END));
	assert_int_equal(crm_sshsig_verify(signer, sig40, ns40, NULL, 0), 0);
	free(sig);
	free(sig40);
	crm_key_free(k);
}

static void test_sshsig_rejects_tampering(void **state)
{
	crm_key *k = NULL;
	char *sig = NULL, msg[] = MSG;
	uint8_t signer[CRM_PUBKEY_LEN] = { 0 }, zero[CRM_PUBKEY_LEN] = { 0 };

	(void)state;
	assert_int_equal(crm_key_generate(&k), 0);
	assert_int_equal(crm_sshsig_sign(&sig, k, "git", msg, strlen(msg)), 0);
	msg[5] ^= 1;
	assert_int_equal(crm_sshsig_verify(signer, sig, "git", msg, strlen(msg)), CRM_EVERIFY);
	msg[5] ^= 1;
	assert_memory_equal(signer, zero, CRM_PUBKEY_LEN);  /* untouched on failure */
	assert_int_equal(crm_sshsig_verify(signer, sig, "gi", msg, strlen(msg)), CRM_EVERIFY);
	assert_int_equal(crm_sshsig_verify(signer, sig, "file", msg, strlen(msg)), CRM_EVERIFY);
	assert_int_equal(crm_sshsig_verify(signer, sig, "git", msg, strlen(msg) - 1), CRM_EVERIFY);
	assert_int_equal(ERR_peek_error(), 0);
	free(sig);
	crm_key_free(k);
}

/* Set the lowest bit of the last base64 character before the '=' padding:
 * a bit the decoded bytes do not use, so only a strict decoder notices. */
static void flip_unused_b64_bits(char *armored)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *eq = strchr(armored + strlen(ARMOR_BEGIN), '=');
	const char *c;

	assert_non_null(eq);
	c = strchr(alphabet, eq[-1]);
	assert_non_null(c);
	eq[-1] = alphabet[(c - alphabet) ^ 1];
}

static void test_sshsig_rejects_malformed_armor(void **state)
{
	crm_key *k = NULL;
	char *sig = NULL, *copy;
	size_t n;

	(void)state;
	assert_int_equal(crm_key_generate(&k), 0);
	assert_int_equal(crm_sshsig_sign(&sig, k, "git", MSG, strlen(MSG)), 0);
	n = strlen(sig);
	assert_non_null(copy = strdup(sig));
	copy[n / 2] = '\0';  /* truncated */
	assert_int_equal(crm_sshsig_verify(NULL, copy, "git", MSG, strlen(MSG)), CRM_EINVAL);
	strcpy(copy, sig);
	copy[n - strlen(ARMOR_END)] = '\0';  /* END line missing */
	assert_int_equal(crm_sshsig_verify(NULL, copy, "git", MSG, strlen(MSG)), CRM_EINVAL);
	strcpy(copy, sig);
	copy[strlen(ARMOR_BEGIN) + 40] = '!';  /* not base64 */
	assert_int_equal(crm_sshsig_verify(NULL, copy, "git", MSG, strlen(MSG)), CRM_EINVAL);
	strcpy(copy, sig);
	memmove(copy + strlen(ARMOR_BEGIN) + 8, copy + strlen(ARMOR_BEGIN) + 12,
		n + 1 - strlen(ARMOR_BEGIN) - 12);  /* 4 chars less */
	assert_int_equal(crm_sshsig_verify(NULL, copy, "git", MSG, strlen(MSG)), CRM_EINVAL);
	strcpy(copy, sig);
	flip_unused_b64_bits(copy);  /* same bytes, non-canonical base64 */
	assert_int_equal(crm_sshsig_verify(NULL, copy, "git", MSG, strlen(MSG)), CRM_EINVAL);
	assert_int_equal(crm_sshsig_verify(NULL, sig + 1, "git", MSG, strlen(MSG)), CRM_EINVAL);
	assert_int_equal(crm_sshsig_verify(NULL, "", "git", MSG, strlen(MSG)), CRM_EINVAL);
	free(copy);
	assert_non_null(copy = malloc(n + 8));
	snprintf(copy, n + 8, "%sjunk\n", sig);  /* text after END */
	assert_int_equal(crm_sshsig_verify(NULL, copy, "git", MSG, strlen(MSG)), CRM_EINVAL);
	free(copy);
	assert_int_equal(ERR_peek_error(), 0);
	free(sig);
	crm_key_free(k);
}

static void test_sshsig_rejects_oversized(void **state)
{
	crm_key *k = NULL;
	char *sig = NULL, *big;
	size_t n;

	(void)state;
	assert_int_equal(crm_key_generate(&k), 0);
	assert_int_equal(crm_sshsig_sign(&sig, k, "git", MSG, strlen(MSG)), 0);
	n = strlen(sig);
	big = malloc(9001);  /* a valid signature padded past 8 KiB */
	assert_non_null(big);
	memset(big, '\n', 9000);
	memcpy(big, sig, n);
	big[9000] = '\0';
	assert_int_equal(crm_sshsig_verify(NULL, big, "git", MSG, strlen(MSG)), CRM_ELIMIT);
	big[8193] = '\0';
	assert_int_equal(crm_sshsig_verify(NULL, big, "git", MSG, strlen(MSG)), CRM_ELIMIT);
	big[8192] = '\0';  /* exactly 8 KiB is still fine */
	assert_int_equal(crm_sshsig_verify(NULL, big, "git", MSG, strlen(MSG)), 0);
	free(big);
	free(sig);
	crm_key_free(k);
}

static void test_sshsig_rejects_bad_blobs(void **state)
{
	uint8_t blob[GIT_BLOB_LEN + 1], b[GIT_BLOB_LEN + 1];
	crm_key *k;

	(void)state;
	k = signed_blob(blob);
	assert_int_equal(verify_blob(blob, GIT_BLOB_LEN), 0);
	memcpy(b, blob, GIT_BLOB_LEN);
	b[OFF_SIG + 3] ^= 0x10;  /* signature bit */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN), CRM_EVERIFY);
	memcpy(b, blob, GIT_BLOB_LEN);
	b[0] = 'X';  /* magic */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN), CRM_EINVAL);
	memcpy(b, blob, GIT_BLOB_LEN);
	b[OFF_VERSION + 3] = 2;  /* version */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN), CRM_EINVAL);
	memcpy(b, blob, GIT_BLOB_LEN);
	memcpy(b + OFF_PUBKEY_TYPE, "ssh-ed25518", 11);  /* key type */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN), CRM_EINVAL);
	memcpy(b, blob, GIT_BLOB_LEN);
	memcpy(b + OFF_HASH, "sha384", 6);  /* hash algorithm */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN), CRM_EINVAL);
	memcpy(b, blob, GIT_BLOB_LEN);
	put_u32(b + OFF_NS_LEN, 0xffffffffu);  /* length past the end */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN), CRM_EINVAL);
	memcpy(b, blob, GIT_BLOB_LEN);
	put_u32(b + OFF_NS_LEN, 4);  /* length shifted by one */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN), CRM_EINVAL);
	memcpy(b, blob, GIT_BLOB_LEN);
	b[GIT_BLOB_LEN] = 0;  /* trailing byte */
	assert_int_equal(verify_blob(b, GIT_BLOB_LEN + 1), CRM_EINVAL);
	assert_int_equal(verify_blob(blob, GIT_BLOB_LEN - 1), CRM_EINVAL);  /* truncated */
	assert_int_equal(verify_blob(blob, 0), CRM_EINVAL);
	crm_key_free(k);
}

/* Re-sign a crm-made SSHSIG blob with hash sha256: verify accepts it. */
static void test_sshsig_accepts_sha256(void **state)
{
	uint8_t blob[GIT_BLOB_LEN], tbs[6 + 7 + 4 + 10 + 4 + SHA256_DIGEST_LENGTH], *p = tbs;
	crm_key *k;

	(void)state;
	k = signed_blob(blob);
	memcpy(blob + OFF_HASH, "sha256", 6);
	assert_int_equal(verify_blob(blob, GIT_BLOB_LEN), CRM_EVERIFY);
	memcpy(p, "SSHSIG", 6), p += 6;
	put_u32(p, 3), memcpy(p + 4, "git", 3), p += 7;
	put_u32(p, 0), p += 4;
	put_u32(p, 6), memcpy(p + 4, "sha256", 6), p += 10;
	put_u32(p, SHA256_DIGEST_LENGTH), p += 4;
	SHA256((const unsigned char *)MSG, strlen(MSG), p);
	assert_int_equal(crm_sign_raw(blob + OFF_SIG, k, tbs, sizeof(tbs)), 0);
	assert_int_equal(verify_blob(blob, GIT_BLOB_LEN), 0);
	crm_key_free(k);
}

static void test_sshsig_argument_errors(void **state)
{
	crm_key *k = NULL, *pubonly = NULL;
	uint8_t pub[CRM_PUBKEY_LEN];
	char *sig = (char *)&sig, longns[1100];

	(void)state;
	assert_int_equal(crm_key_generate(&k), 0);
	crm_key_public(k, pub);
	assert_int_equal(crm_key_from_public(&pubonly, pub), 0);
	assert_int_equal(crm_sshsig_sign(&sig, k, "", "x", 1), CRM_EINVAL);
	assert_null(sig);
	memset(longns, 'n', sizeof(longns) - 1);
	longns[sizeof(longns) - 1] = '\0';
	assert_int_equal(crm_sshsig_sign(&sig, k, longns, "x", 1), CRM_ELIMIT);
	assert_int_equal(crm_sshsig_sign(&sig, pubonly, "git", "x", 1), CRM_EINVAL);
	assert_null(sig);
	crm_key_free(k);
	crm_key_free(pubonly);
}

/* ---- interoperability with ssh-keygen --------------------------------------- */

static int have_ssh_keygen(void)
{
	return access(SSH_KEYGEN, X_OK) == 0;
}

/* crm signs, ssh-keygen -Y verify accepts (the check git runs). */
static void test_interop_crm_signs_sshkeygen_verifies(void **state)
{
	const char *dir = *state;
	char allowed[512], msgp[512], sigp[512], cmd[2048], *line = NULL, *sig = NULL;
	char entry[256];
	crm_key *k = NULL;
	uint8_t pub[CRM_PUBKEY_LEN];

	if (!have_ssh_keygen())
		skip();
	path_in(allowed, dir, "allowed");
	path_in(msgp, dir, "msg");
	path_in(sigp, dir, "msg.sig");
	assert_int_equal(crm_key_generate(&k), 0);
	crm_key_public(k, pub);
	assert_int_equal(crm_pubkey_to_openssh(&line, pub, NULL), 0);
	snprintf(entry, sizeof(entry), "test@x namespaces=\"git\" %s\n", line);
	write_file(allowed, entry, strlen(entry));
	write_file(msgp, MSG, strlen(MSG));
	assert_int_equal(crm_sshsig_sign(&sig, k, "git", MSG, strlen(MSG)), 0);
	write_file(sigp, sig, strlen(sig));
	snprintf(cmd, sizeof(cmd), SSH_KEYGEN " -Y verify -f '%s' -I test@x -n git -s '%s' < '%s'",
		 allowed, sigp, msgp);
	assert_int_equal(run(dir, cmd), 0);
	/* and it refuses another namespace, so the exit status means something */
	snprintf(cmd, sizeof(cmd), SSH_KEYGEN " -Y verify -f '%s' -I test@x -n file -s '%s' < '%s' > /dev/null 2>&1",
		 allowed, sigp, msgp);
	assert_int_not_equal(system(cmd), 0);
	free(line);
	free(sig);
	crm_key_free(k);
}

/* ssh-keygen makes a key and signs (sha512, then sha256); crm verifies. */
static void test_interop_sshkeygen_signs_crm_verifies(void **state)
{
	const char *dir = *state;
	static const char *const hashes[] = { "sha512", "sha256" };
	char key[512], msgp[512], sigp[512], pubp[512], cmd[2048], *publine, *sig;
	uint8_t pub[CRM_PUBKEY_LEN], signer[CRM_PUBKEY_LEN];
	size_t i;

	if (!have_ssh_keygen())
		skip();
	path_in(key, dir, "k");
	path_in(pubp, dir, "k.pub");
	path_in(msgp, dir, "msg");
	path_in(sigp, dir, "msg.sig");
	snprintf(cmd, sizeof(cmd), SSH_KEYGEN " -q -t ed25519 -N '' -C test@x -f '%s'", key);
	assert_int_equal(run(dir, cmd), 0);
	write_file(msgp, MSG, strlen(MSG));
	publine = read_file(pubp);
	assert_int_equal(crm_pubkey_from_openssh(pub, publine), 0);
	for (i = 0; i < 2; i++) {
		unlink(sigp);
		snprintf(cmd, sizeof(cmd), SSH_KEYGEN " -Y sign -f '%s' -n git -O hashalg=%s '%s'",
			 key, hashes[i], msgp);
		assert_int_equal(run(dir, cmd), 0);
		sig = read_file(sigp);
		memset(signer, 0, sizeof(signer));
		assert_int_equal(crm_sshsig_verify(signer, sig, "git", MSG, strlen(MSG)), 0);
		assert_memory_equal(signer, pub, CRM_PUBKEY_LEN);
		assert_int_equal(crm_sshsig_verify(signer, sig, "file", MSG, strlen(MSG)), CRM_EVERIFY);
		free(sig);
	}
	free(publine);
}

/* Ed25519 is deterministic, so with the same key, message and namespace crm
 * must produce ssh-keygen's signature file byte for byte.  The test lifts the
 * seed out of ssh-keygen's unencrypted openssh-key-v1 file into PKCS#8. */
static int openssh_seed(uint8_t seed[32], const char *path)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	char *text = read_file(path), b64[8192];
	uint8_t raw[6144], *p;
	size_t t = 0, i;
	int n, rc = -1;

	for (i = strlen(begin); text[i] && text[i] != '-'; i++) {
		if (text[i] != '\n')
			b64[t++] = text[i];
	}
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)t);
	/* "openssh-key-v1\0", "none", "none", "", nkeys=1, string pub(51), then
	 * the private section: check1, check2, "ssh-ed25519", pub32, seed||pub */
	p = raw + 15 + (4 + 4) + (4 + 4) + 4 + 4 + (4 + 51) + 4 + 4 + 4 + (4 + 11) + (4 + 32);
	if (n > (int)(p - raw) + 36 && memcmp(raw, "openssh-key-v1", 15) == 0 &&
	    p[0] == 0 && p[3] == 64) {
		memcpy(seed, p + 4, 32);
		rc = 0;
	}
	free(text);
	return rc;
}

static void test_interop_byte_identical_signature(void **state)
{
	const char *dir = *state;
	char key[512], pem[512], msgp[512], sigp[512], cmd[2048], *theirs, *ours = NULL;
	uint8_t seed[32];
	EVP_PKEY *pk;
	FILE *f;
	crm_key *k = NULL;

	if (!have_ssh_keygen())
		skip();
	path_in(key, dir, "k");
	path_in(pem, dir, "k.pem");
	path_in(msgp, dir, "msg");
	path_in(sigp, dir, "msg.sig");
	snprintf(cmd, sizeof(cmd), SSH_KEYGEN " -q -t ed25519 -N '' -f '%s'", key);
	assert_int_equal(run(dir, cmd), 0);
	assert_int_equal(openssh_seed(seed, key), 0);
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	assert_non_null(pk);
	assert_non_null(f = fopen(pem, "w"));
	assert_int_equal(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(pk);
	assert_int_equal(crm_key_load(&k, pem), 0);
	write_file(msgp, MSG, strlen(MSG));
	snprintf(cmd, sizeof(cmd), SSH_KEYGEN " -Y sign -f '%s' -n git '%s'", key, msgp);
	assert_int_equal(run(dir, cmd), 0);
	theirs = read_file(sigp);
	assert_int_equal(crm_sshsig_sign(&ours, k, "git", MSG, strlen(MSG)), 0);
	assert_string_equal(ours, theirs);
	free(theirs);
	free(ours);
	crm_key_free(k);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_key_generate_save_load),
		T(test_key_save_refuses_existing),
		T(test_key_load_and_save_errors),
		T(test_node_id),
		T(test_openssh_roundtrip),
		T(test_openssh_rejects),
		T(test_sha256_known_answers),
		T(test_sha256_incremental),
		T(test_hex),
		T(test_random),
		T(test_raw_sign_verify),
		T(test_sshsig_roundtrip),
		T(test_sshsig_rejects_tampering),
		T(test_sshsig_rejects_malformed_armor),
		T(test_sshsig_rejects_oversized),
		T(test_sshsig_rejects_bad_blobs),
		T(test_sshsig_accepts_sha256),
		T(test_sshsig_argument_errors),
		T(test_interop_crm_signs_sshkeygen_verifies),
		T(test_interop_sshkeygen_signs_crm_verifies),
		T(test_interop_byte_identical_signature),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
