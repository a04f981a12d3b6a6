/*
 * http.h — the libcurl adapter: HTTPS requests from a node to its hub, with
 * the hub's certificate pinned by public key (no CA), timeouts, and proxies
 * as libcurl finds them (https_proxy / HTTPS_PROXY, or an explicit one).
 */
#ifndef CRM_HTTP_H
#define CRM_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A client connection kept open between requests (HTTP keep-alive): one
 * per thread; requests through it reuse the TLS session to the same hub. */
typedef struct crm_http_conn crm_http_conn;
crm_http_conn *crm_http_conn_new(void);
void crm_http_conn_free(crm_http_conn *conn);   /* NULL-safe; closes the connection */

typedef struct crm_http_req {
	const char *method;         /* GET or POST */
	const char *url;
	const char *pin;            /* "sha256//BASE64" of the hub's public key */
	const char *const *headers; /* NULL-terminated "Name: value" lines, may be NULL */
	const void *body;
	size_t len;
	long timeout_s;             /* whole request */
	size_t max_response;        /* larger responses fail */
	const char *proxy;          /* NULL: libcurl's default (environment) */
	crm_http_conn *conn;        /* NULL: a new connection, closed after the request */
	FILE *to_file;              /* non-NULL: the body goes here, not to resp->body */
} crm_http_req;

typedef struct crm_http_resp {
	long status;                /* HTTP status, 0 if no response */
	uint8_t *body;              /* caller frees */
	size_t len;
	uint64_t hub_time_ms;       /* X-Crm-Hub-Time, 0 if absent */
	int more;                   /* X-Crm-More: 1 */
} crm_http_resp;

/* Perform one request. Network and TLS failures are CRM_EIO with curl's
 * message; any HTTP status is success at this level (check resp->status). */
int crm_http_do(crm_http_resp *resp, const crm_http_req *req);
void crm_http_resp_dispose(crm_http_resp *resp);

#endif
