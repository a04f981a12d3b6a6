/*
 * cert.c — self-signed hub certificate and its pin (see cert.h).
 */
#include "cert.h"
#include "error.h"
#include "sign.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ssl_fail(const char *what)
{
	return CRM_ERR(CRM_ECRYPTO, "TLS certificate: %s failed", what);
}

static X509 *make_cert(EVP_PKEY *pkey, const char *name)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
						  "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (ext) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(x, pkey, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int crm_cert_create(const char *path, const char *name)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = pkey ? make_cert(pkey, name) : NULL;
	int err = x ? 0 : ssl_fail("key generation");
	int fd = err == 0 ? open(path, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (err == 0 && !f)
		err = CRM_ERR(CRM_EIO, "cannot create %s (it must not exist)", path);
	if (err == 0 && (!PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) || !PEM_write_X509(f, x)))
		err = ssl_fail("writing");
	if (f && fclose(f) != 0 && err == 0)
		err = CRM_ERR(CRM_EIO, "cannot write %s", path);
	else if (!f && fd >= 0)
		close(fd);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return err;
}

int crm_cert_pin(char out[128], const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return CRM_ERR(CRM_ENOTFOUND, "cannot read the hub certificate %s", path);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	if (!x) {   /* the key comes first in the file; read on */
		rewind(f);
		EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		EVP_PKEY_free(k);
		x = PEM_read_X509(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (!x)
		return CRM_ERR(CRM_ECORRUPT, "no certificate in %s", path);
	unsigned char *der = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	X509_free(x);
	if (n <= 0)
		return ssl_fail("reading the public key");
	uint8_t d[CRM_SHA256_LEN];
	crm_sha256(d, der, (size_t)n);
	OPENSSL_free(der);
	char *b = crm_base64_encode(d, sizeof(d));
	if (!b)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	snprintf(out, 128, "sha256//%s", b);
	free(b);
	return 0;
}

SSL_CTX *crm_cert_server_ctx(const char *path)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
