/*
 * http.c — HTTPS client over libcurl (see http.h).  Every curl_* call of
 * libcrm lives here.
 */
#include "http.h"
#include "error.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sink {
	crm_http_resp *resp;
	size_t max;
	int overflow;
	FILE *file;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	sink *s = ud;
	size_t add = size * n;
	if (s->resp->len + add > s->max) {
		s->overflow = 1;
		return 0;
	}
	if (s->file) {
		if (fwrite(p, 1, add, s->file) != add)
			return 0;
		s->resp->len += add;
		return add;
	}
	uint8_t *b = realloc(s->resp->body, s->resp->len + add + 1);
	if (!b)
		return 0;
	memcpy(b + s->resp->len, p, add);
	s->resp->body = b;
	s->resp->len += add;
	b[s->resp->len] = 0;
	return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	crm_http_resp *r = ud;
	size_t len = size * n;
	if (len > 16 && strncasecmp(p, "X-Crm-Hub-Time:", 15) == 0)
		r->hub_time_ms = strtoull(p + 15, NULL, 10);
	if (len > 11 && strncasecmp(p, "X-Crm-More:", 11) == 0)
		r->more = atoi(p + 11) != 0;
	return len;
}

static void lib_init(void)
{
	static int done;
	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = 1;
	}
}

static struct curl_slist *header_list(const crm_http_req *req)
{
	struct curl_slist *h = curl_slist_append(NULL, "Expect:");
	for (size_t i = 0; req->headers && req->headers[i]; i++)
		h = curl_slist_append(h, req->headers[i]);
	return curl_slist_append(h, "Content-Type: application/octet-stream");
}

struct crm_http_conn {
	CURL *c;
};

crm_http_conn *crm_http_conn_new(void)
{
	lib_init();
	crm_http_conn *conn = calloc(1, sizeof(*conn));
	if (conn && !(conn->c = curl_easy_init())) {
		free(conn);
		conn = NULL;
	}
	return conn;
}

void crm_http_conn_free(crm_http_conn *conn)
{
	if (conn) {
		curl_easy_cleanup(conn->c);
		free(conn);
	}
}

int crm_http_do(crm_http_resp *resp, const crm_http_req *req)
{
	memset(resp, 0, sizeof(*resp));
	lib_init();
	/* A kept connection: reset the options, keep the open connection. */
	CURL *c = req->conn ? req->conn->c : curl_easy_init();
	if (!c)
		return CRM_ERR(CRM_ENOMEM, "cannot start an HTTP request");
	if (req->conn)
		curl_easy_reset(c);
	sink s = {resp, req->max_response, 0, req->to_file};
	struct curl_slist *h = header_list(req);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, req->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	/* The hub's certificate is self-signed: trust comes from the pinned key. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, req->pin);
	if (req->proxy)
		curl_easy_setopt(c, CURLOPT_PROXY, req->proxy);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	}
	CURLcode rc = curl_easy_perform(c);
	int err = 0;
	if (rc != CURLE_OK)
		err = s.overflow ? CRM_ERR(CRM_ELIMIT, "the hub's answer is larger than %zu bytes", req->max_response)
				 : CRM_ERR(CRM_EIO, "cannot reach the hub at %s: %s", req->url, *errbuf ? errbuf : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(h);
	if (!req->conn)
		curl_easy_cleanup(c);
	if (err < 0)
		crm_http_resp_dispose(resp);
	return err;
}

void crm_http_resp_dispose(crm_http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
