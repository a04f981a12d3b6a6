/*
 * cert.h — the hub's TLS identity: a self-signed certificate whose public
 * key nodes pin (join tokens carry the pin), so no CA is involved.
 * The OpenSSL X.509 calls of the hub live here.
 */
#ifndef CRM_CERT_H
#define CRM_CERT_H

/* Write a new EC P-256 key and a self-signed certificate (10 years, CN
 * `name`, SAN for 127.0.0.1, ::1 and localhost) as one PEM file at path
 * (mode 0600; key and certificate in one file, as server.c loads them). */
int crm_cert_create(const char *path, const char *name);
/* The libcurl pin of the certificate in path: "sha256//" base64(SHA-256(SPKI)). */
int crm_cert_pin(char out[128], const char *path);

/* An OpenSSL server context (SSL_CTX *) for the PEM file: TLS 1.3 only. */
struct ssl_ctx_st;
struct ssl_ctx_st *crm_cert_server_ctx(const char *path);

#endif
