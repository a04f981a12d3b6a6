/*
 * sign.h — the OpenSSL adapter: node keys (Ed25519), SHA-256, SSHSIG.
 *
 * Every use of OpenSSL in libcrm goes through this module.  It never prints
 * and never exits; errors are crm_error codes with a message (error.h).
 *
 * SSHSIG is the signature format of OpenSSH (PROTOCOL.sshsig); git verifies it
 * with gpg.format=ssh, so commits signed here pass stock `git verify-commit`.
 */
#ifndef CRM_SIGN_H
#define CRM_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define CRM_PUBKEY_LEN 32    /* raw Ed25519 public key */
#define CRM_SIG_LEN 64       /* raw Ed25519 signature */
#define CRM_SHA256_LEN 32
#define CRM_NODE_ID_HEX 32   /* node id: first 16 bytes of SHA-256(pubkey), hex */

typedef struct crm_key crm_key;  /* opaque; holds the private key (or only the public one) */

/* Generate a new Ed25519 key pair. Caller owns *out (crm_key_free). */
int crm_key_generate(crm_key **out);
/* Write the private key as PKCS#8 PEM to `path`, created with mode 0600;
 * fails with CRM_EEXISTS if the file exists. */
int crm_key_save(const crm_key *key, const char *path);
/* Load a private key written by crm_key_save: CRM_ENOTFOUND, CRM_EIO,
 * CRM_ECORRUPT (no usable unencrypted PEM key) or CRM_EINVAL (not Ed25519). */
int crm_key_load(crm_key **out, const char *path);
/* A public-only key from 32 raw bytes (for verification). */
int crm_key_from_public(crm_key **out, const uint8_t pub[CRM_PUBKEY_LEN]);
void crm_key_free(crm_key *key);  /* NULL-safe */

/* The 32 raw public key bytes. */
void crm_key_public(const crm_key *key, uint8_t out[CRM_PUBKEY_LEN]);
/* Node id of a raw public key: hex of the first 16 bytes of SHA-256(pub),
 * NUL-terminated (33 bytes). */
void crm_node_id_of(char out[CRM_NODE_ID_HEX + 1], const uint8_t pub[CRM_PUBKEY_LEN]);

/* OpenSSH public key line "ssh-ed25519 AAAA... comment" (comment omitted if
 * NULL or empty).  Caller frees *out with free(). */
int crm_pubkey_to_openssh(char **out, const uint8_t pub[CRM_PUBKEY_LEN], const char *comment);
/* Parse "ssh-ed25519 AAAA... [comment]" back into raw bytes. CRM_EINVAL on
 * anything else (other key types, bad base64, wrong length). */
int crm_pubkey_from_openssh(uint8_t out[CRM_PUBKEY_LEN], const char *line);

/* SHA-256 of a buffer. */
void crm_sha256(uint8_t out[CRM_SHA256_LEN], const void *data, size_t len);
/* Lower-case hex of `len` bytes into out (2*len+1 bytes). */
void crm_hex(char *out, const uint8_t *data, size_t len);

/* Raw Ed25519 signature of `data`. */
int crm_sign_raw(uint8_t out[CRM_SIG_LEN], const crm_key *key, const void *data, size_t len);
/* 0 if `sig` is a valid signature of data by key, CRM_EVERIFY if not. */
int crm_verify_raw(const crm_key *key, const uint8_t sig[CRM_SIG_LEN], const void *data, size_t len);

/* Armored SSHSIG signature ("-----BEGIN SSH SIGNATURE-----" ... "-----END SSH
 * SIGNATURE-----\n", base64 wrapped at 70 columns like ssh-keygen) of `data`
 * in namespace `ns` (git uses "git") with hash sha512.  Caller frees *out. */
int crm_sshsig_sign(char **out, const crm_key *key, const char *ns,
		    const void *data, size_t len);
/* Verify an armored SSHSIG over data in namespace. On success writes the
 * signer's raw public key to signer_out (may be NULL) and returns 0; returns
 * CRM_EVERIFY for a bad/mismatched signature or namespace, CRM_EINVAL for
 * malformed armor or unsupported key/hash, CRM_ELIMIT for armored input over
 * 8 KiB. */
int crm_sshsig_verify(uint8_t signer_out[CRM_PUBKEY_LEN], const char *armored,
		      const char *ns, const void *data, size_t len);

/* Fill buf with cryptographically random bytes. */
int crm_random(void *buf, size_t len);

/* Standard padded base64, no line breaks; caller frees; NULL when out of memory. */
char *crm_base64_encode(const void *data, size_t len);
/* Decode canonical base64; *out malloc'd (caller frees). CRM_EINVAL if malformed. */
int crm_base64_decode(uint8_t **out, size_t *out_len, const char *in);

/* Incremental SHA-256 (for hashing large state). crm_sha256_final frees ctx. */
typedef struct crm_sha256_ctx crm_sha256_ctx;
int crm_sha256_new(crm_sha256_ctx **out);
void crm_sha256_update(crm_sha256_ctx *ctx, const void *data, size_t len);
void crm_sha256_final(crm_sha256_ctx *ctx, uint8_t out[CRM_SHA256_LEN]);

#endif
