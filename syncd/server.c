/*
 * server.c — HTTPS endpoints of the hub (docs/PROTOCOL.md §4), on libevent's
 * evhttp with OpenSSL bufferevents (TLS 1.3).
 *
 *   POST /v1/enroll      join with a one-time token (JSON)
 *   POST /v1/push        a change file of the node's own batches (signed request)
 *   GET  /v1/pull        ?since=CURSOR&max=BYTES → a change file (signed request)
 *   GET  /v1/snapshot    a signed snapshot of the replica (signed request)
 *
 * Every response carries X-Crm-Hub-Time (ms).  Errors are JSON {"error": "..."}
 * with 400 (bad input), 401/403 (authentication, authorization), 409 (fork),
 * 413 (too large), 500.  One event loop, one replica handle: requests are
 * handled one at a time, which is also the order SQLite writes in.
 *
 * Why not civetweb: Debian 12's civetweb 1.15 loads OpenSSL at run time and
 * calls SSL_get_peer_certificate, which OpenSSL 3 no longer exports; the
 * worker crashes on the first TLS connection (docs/ARCHITECTURE.md).
 */
#include "server.h"
#include "cert.h"
#include "error.h"
#include "hub.h"
#include "web.h"

#include <event2/buffer.h>
#include <fcntl.h>
#include <unistd.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct server {
	const char *dir;
	const char *dashboard;      /* HOST:PORT of the read-only HQ dashboard, or NULL */
	crm_store *st;
	SSL_CTX *ssl;
	struct event_base *base;
	volatile sig_atomic_t *stop;
} server;

/* The current UTC time for a log line ("2026-11-23T16:05:00Z"). */
static void log_stamp(char ts[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One line per request; ms = time spent handling it in the event loop. */
static void log_line(const char *node, const char *method, const char *uri, int status, size_t in, size_t out,
		     double t0, const char *detail)
{
	char ts[32];
	log_stamp(ts);
	fprintf(stderr, "%s crm-syncd: %s %s node=%s status=%d in=%zu out=%zu ms=%.2f%s%s\n", ts, method, uri,
		node && *node ? node : "-", status, in, out, mono_ms() - t0, detail ? " " : "", detail ? detail : "");
}

static void add_headers(struct evhttp_request *req, const char *type, int more)
{
	struct timespec ts;
	char now[24];
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(now, sizeof(now), "%llu", (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "X-Crm-Hub-Time", now);
	evhttp_add_header(h, "X-Crm-More", more ? "1" : "0");
	evhttp_add_header(h, "Cache-Control", "no-store");
}

static void send_body(struct evhttp_request *req, int status, const char *type, const void *body, size_t len,
		      int more)
{
	add_headers(req, type, more);
	struct evbuffer *out = evbuffer_new();
	if (out && len)
		evbuffer_add(out, body, len);
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", out);
	if (out)
		evbuffer_free(out);
}

static int status_of(int err)
{
	switch (err) {
	case CRM_EDENIED:
		return 403;
	case CRM_EVERIFY:
		return 401;
	case CRM_EFORK:
		return 409;
	case CRM_ELIMIT:
		return 413;
	case CRM_EINVAL:
	case CRM_ECORRUPT:
	case CRM_EEXISTS:
	case CRM_ENOTFOUND:
		return 400;
	default:
		return 500;
	}
}

static int send_json(struct evhttp_request *c, int status, json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	send_body(c, status, "application/json", s ? s : "{}", s ? strlen(s) : 2, 0);
	free(s);
	json_decref(doc);
	return status;
}

static int send_error(struct evhttp_request *c, int err)
{
	return send_json(c, status_of(err), json_pack("{s:s}", "error", crm_error_last()));
}

/* The whole body (libevent already refused bodies over the limit with 413). */
static const uint8_t *get_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	*len = evbuffer_get_length(in);
	return *len ? evbuffer_pullup(in, -1) : (const uint8_t *)"";
}

static const char *header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

static int handle_enroll(struct evhttp_request *req, server *sv, const uint8_t *body, size_t len)
{
	json_t *ans = NULL;
	crm_hub_node who;
	double t0 = mono_ms();
	int err = crm_hub_enroll(sv->st, (const char *)body, len, &ans, &who);
	int status = err < 0 ? send_error(req, err) : send_json(req, 200, ans);
	log_line(who.node, "POST", "/v1/enroll", status, len, 0, t0, err < 0 ? crm_error_last() : "enrolled");
	return status;
}

static uint64_t query_u64(const struct evkeyvalq *q, const char *name, uint64_t dflt)
{
	const char *v = evhttp_find_header(q, name);
	return v ? strtoull(v, NULL, 10) : dflt;
}

static int handle_signed(struct evhttp_request *req, server *sv, int push, const char *uri, const char *path,
			 const uint8_t *body, size_t len)
{
	crm_hub_node who = {0};
	const char *method = push ? "POST" : "GET";
	double t0 = mono_ms();
	int err = crm_hub_authenticate(sv->st, &who, header(req, "X-Crm-Node"), header(req, "X-Crm-Time"),
				       header(req, "X-Crm-Nonce"), header(req, "X-Crm-Signature"), method, uri, body, len);
	json_t *ans = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int more = 0;
	if (err == 0 && push) {
		err = crm_hub_push(sv->st, &who, body, len, &ans);
	} else if (err == 0) {
		struct evkeyvalq q;
		const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
		memset(&q, 0, sizeof(q));
		evhttp_parse_query_str(evhttp_uri_get_query(u) ? evhttp_uri_get_query(u) : "", &q);
		size_t max = (size_t)query_u64(&q, "max", 256u * 1024u);
		err = crm_hub_pull(sv->st, &who, query_u64(&q, "since", 0),
				   max < 16384 ? 16384 : max > (8u << 20) ? (8u << 20) : max, &out, &out_len, &more);
		evhttp_clear_headers(&q);
	}
	int status = 200;
	if (err < 0)
		status = send_error(req, err);
	else if (push)
		send_json(req, 200, ans);
	else
		send_body(req, 200, "application/octet-stream", out, out_len, more);
	log_line(who.node, method, path, status, len, out_len, t0, err < 0 ? crm_error_last() : NULL);
	free(out);
	return status;
}

/* GET /v1/snapshot: a signed snapshot of the replica (snapshot.h), made in a
 * file that is unlinked at once and sent from its descriptor (libevent maps
 * it: the body does not sit on the heap). */
static void handle_snapshot(struct evhttp_request *req, server *sv, const char *uri)
{
	crm_hub_node who = {0};
	double t0 = mono_ms();
	char path[4200];
	uint64_t cursor = 0, bytes = 0;
	int fd = -1;
	int err = crm_hub_authenticate(sv->st, &who, header(req, "X-Crm-Node"), header(req, "X-Crm-Time"),
				       header(req, "X-Crm-Nonce"), header(req, "X-Crm-Signature"), "GET", uri, "", 0);
	snprintf(path, sizeof(path), "%s/snapshot-%s.tmp", sv->dir, who.node);
	unlink(path);   /* one left by a crash */
	if (err == 0)
		err = crm_hub_snapshot(sv->st, &who, path, &cursor, &bytes);
	if (err == 0 && (fd = open(path, O_RDONLY)) < 0)
		err = CRM_ERR(CRM_EIO, "cannot reopen the snapshot");
	if (err == 0)
		unlink(path);
	struct evbuffer *out = err == 0 ? evbuffer_new() : NULL;
	if (err == 0 && (!out || evbuffer_add_file(out, fd, 0, (ev_off_t)bytes) < 0))
		err = CRM_ERR(CRM_ENOMEM, "cannot send the snapshot");
	else
		fd = -1;   /* the buffer owns it */
	int status = 200;
	if (err < 0) {
		status = send_error(req, err);
		unlink(path);
	} else {
		add_headers(req, "application/octet-stream", 0);
		evhttp_send_reply(req, 200, "OK", out);
	}
	if (out)
		evbuffer_free(out);
	if (fd >= 0)
		close(fd);
	log_line(who.node, "GET", "/v1/snapshot", status, 0, err < 0 ? 0 : (size_t)bytes, t0,
		 err < 0 ? crm_error_last() : NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	server *sv = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *uri = evhttp_request_get_uri(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	size_t len;
	const uint8_t *body = get_body(req, &len);
	path = path ? path : "";
	if (cmd == EVHTTP_REQ_POST && strcmp(path, "/v1/enroll") == 0)
		handle_enroll(req, sv, body, len);
	else if (cmd == EVHTTP_REQ_POST && strcmp(path, "/v1/push") == 0)
		handle_signed(req, sv, 1, uri, path, body, len);
	else if (cmd == EVHTTP_REQ_GET && strcmp(path, "/v1/pull") == 0)
		handle_signed(req, sv, 0, uri, path, body, len);
	else if (cmd == EVHTTP_REQ_GET && strcmp(path, "/v1/snapshot") == 0)
		handle_snapshot(req, sv, uri);
	else
		send_json(req, 404, json_pack("{s:s}", "error", "no such endpoint"));
}

static struct bufferevent *make_tls(struct event_base *base, void *arg)
{
	server *sv = arg;
	SSL *ssl = SSL_new(sv->ssl);
	return ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
		   : NULL;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	server *sv = arg;
	if (*sv->stop)
		event_base_loopbreak(sv->base);
}

/* Bind "HOST:PORT" (port 0: any free port); record the URL nodes use. */
static int bind_and_record(server *sv, struct evhttp *http, const char *listen)
{
	char host[160], url[240], path[4096];
	snprintf(host, sizeof(host), "%s", listen);
	char *colon = strrchr(host, ':');
	if (!colon)
		return CRM_ERR(CRM_EINVAL, "listen address '%s' must be HOST:PORT", listen);
	*colon = '\0';
	int port = atoi(colon + 1);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port);
	if (!bs)
		return CRM_ERR(CRM_EIO, "cannot listen on %s (address in use?)", listen);
	/* Accepted connections inherit TCP_NODELAY (Linux): a response leaves in
	 * more than one TLS record, and Nagle would hold the last one back until
	 * the client's delayed ACK (40 ms per request on a kept connection). */
	int one = 1;
	setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%d" : "https://%s:%d", host, port);
	int err = crm_meta_set(sv->st, "url", url);
	snprintf(path, sizeof(path), "%s/url", sv->dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", url);
		fclose(f);
	}
	fprintf(stderr, "crm-syncd: listening on %s\n", url);
	return err;
}

static void log_web(void *ctx, const char *line)
{
	(void)ctx;
	char ts[32];
	log_stamp(ts);
	fprintf(stderr, "%s crm-syncd: dashboard %s\n", ts, line);
}

/* The HQ dashboard: node/web/ read-only on this loop and replica. */
static int start_dashboard(server *sv, crm_web **web)
{
	char path[4096];
	crm_web_opts o = {.listen = sv->dashboard, .read_only = 1, .hub = 1, .log = log_web};
	int err = crm_web_start(web, sv->base, sv->st, &o);
	if (err < 0)
		return err;
	snprintf(path, sizeof(path), "%s/dashboard-url", sv->dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", crm_web_url(*web));
		fclose(f);
	}
	fprintf(stderr, "crm-syncd: HQ dashboard (read-only) on %s\n", crm_web_url(*web));
	return 0;
}

static int serve(server *sv, const char *listen)
{
	crm_web *web = NULL;
	struct evhttp *http = evhttp_new(sv->base);
	struct timeval tv = {0, 100000};
	struct event *tick = event_new(sv->base, -1, EV_PERSIST, on_tick, sv);
	int err = http && tick ? 0 : CRM_ERR(CRM_ENOMEM, "cannot start the HTTP server");
	if (err == 0) {
		evhttp_set_bevcb(http, make_tls, sv);
		evhttp_set_gencb(http, on_request, sv);
		evhttp_set_max_body_size(http, CRM_HUB_MAX_BODY);
		evhttp_set_max_headers_size(http, 16384);
		evhttp_set_timeout(http, 120);
		evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
		/* The dashboard first: a refused address must not leave a url file
		 * behind as if the hub were serving. */
		err = sv->dashboard ? start_dashboard(sv, &web) : 0;
	}
	if (err == 0)
		err = bind_and_record(sv, http, listen);
	if (err == 0) {
		event_add(tick, &tv);
		event_base_dispatch(sv->base);
	}
	crm_web_free(web);
	if (tick)
		event_free(tick);
	if (http)
		evhttp_free(http);
	return err;
}

int crm_server_run(const char *dir, const char *dashboard, volatile sig_atomic_t *stop)
{
	server sv = {.dir = dir, .dashboard = dashboard, .stop = stop};
	char *listen = NULL, pem[4096];
	snprintf(pem, sizeof(pem), "%s/hub.pem", dir);
	int err = crm_store_open(&sv.st, dir);
	/* A push's receipt tells the node it may forget nothing more about those
	 * batches, so the commit behind it must survive a power cut: the WAL is
	 * synced at every commit here (nodes keep NORMAL, node/db.c). */
	if (err == 0)
		err = crm_db_exec(crm_store_db(sv.st), "PRAGMA synchronous=FULL");
	if (err == 0)
		err = crm_meta_get(sv.st, "listen", &listen);
	if (err == 0 && !(sv.ssl = crm_cert_server_ctx(pem)))
		err = CRM_ERR(CRM_ECRYPTO, "cannot load the TLS certificate %s", pem);
	if (err == 0 && !(sv.base = event_base_new()))
		err = CRM_ERR(CRM_ENOMEM, "cannot start the event loop");
	if (err == 0)
		err = serve(&sv, listen);
	if (sv.base)
		event_base_free(sv.base);
	if (sv.ssl)
		SSL_CTX_free(sv.ssl);
	free(listen);
	crm_store_free(sv.st);
	return err;
}
