/*
 * web.c — the HTTP side of the web UI: binding, request checks, static
 * assets, and the hand-off of /api/ requests to api.c (docs/API.md).
 *
 * Checks every request passes, in order (docs/API.md, "Security"):
 *  1. Host must name this server (a loopback name and the bound port), so a
 *     web page on another site cannot reach the API through DNS rebinding.
 *  2. A write (POST, PATCH, DELETE) must be Content-Type: application/json —
 *     which a cross-site form cannot send without a CORS preflight that this
 *     server never grants — and, if the browser sends Origin, Origin must be
 *     this server.  A read-only server refuses every write with 403.
 *  3. Bodies over CRM_WEB_MAX_BODY are refused by evhttp with 413 before any
 *     handler runs; a write body must be one JSON object (no duplicate keys).
 */
#include "web_int.h"
#include "error.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		   : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||   /* overlong, surrogates */
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

/* An error answer.  Messages quote what the client sent (a path, an id),
 * which need not be UTF-8, and truncation may cut a character: bytes that
 * are not valid UTF-8 become '?', so the answer is always a JSON document. */
int web_error(json_t **out, int status, const char *fmt, ...)
{
	char msg[1024], clean[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t n = strlen(msg), o = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len((const unsigned char *)msg + i, n - i);
		if (k == 0) {
			clean[o++] = '?';
			i++;
			continue;
		}
		memcpy(clean + o, msg + i, k);
		o += k;
		i += k;
	}
	clean[o] = '\0';
	*out = json_pack("{s:s}", "error", clean);
	return status;
}

int web_fail(json_t **out, int err)
{
	int status;
	switch (err) {
	case CRM_EINVAL:
	case CRM_ELIMIT:
	case CRM_EUSAGE:
		status = 400;
		break;
	case CRM_ENOTFOUND:
		status = 404;
		break;
	case CRM_EEXISTS:
		status = 409;
		break;
	case CRM_EDENIED:
		status = 403;
		break;
	default:
		status = 500;
	}
	const char *msg = crm_error_last();
	return web_error(out, status, "%s", *msg ? msg : crm_error_name(err));
}

const char *web_query(web_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

static void log_req(crm_web *w, const char *method, const char *uri, int status, const char *detail)
{
	if (!w->o.log)
		return;
	char line[1200];
	snprintf(line, sizeof(line), "%s %.600s %d%s%.400s", method, uri, status, detail ? " " : "",
		 detail ? detail : "");
	w->o.log(w->o.ctx, line);
}

static void send_reply(struct evhttp_request *req, int status, const char *type, const void *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy",
			  "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
	struct evbuffer *out = evbuffer_new();
	if (out && len)
		evbuffer_add(out, body, len);
	evhttp_send_reply(req, status, status < 400 ? "OK" : "Error", out);
	if (out)
		evbuffer_free(out);
}

static int send_doc(struct evhttp_request *req, int status, json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!s)
		status = 500;
	send_reply(req, status, "application/json; charset=utf-8", s ? s : "{\"error\":\"out of memory\"}",
		   s ? strlen(s) : 25);
	free(s);
	json_decref(doc);
	return status;
}

static const char *in_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* Check 1: Host names this server. */
static int host_ok(crm_web *w, const char *host)
{
	if (!host)
		return 0;
	if (!w->loopback)
		return 1;     /* --allow-remote: any name that reaches us; Origin is still checked */
	static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
	char want[200];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "%s:%d", names[i], w->port);
		if (strcasecmp(host, want) == 0)
			return 1;
	}
	snprintf(want, sizeof(want), strchr(w->host, ':') ? "[%s]:%d" : "%s:%d", w->host, w->port);
	return strcasecmp(host, want) == 0;
}

/* Check 2 for a write; returns 0 or the refusal status with *out set. */
static int write_ok(crm_web *w, struct evhttp_request *req, json_t **out)
{
	if (w->o.read_only)
		return web_error(out, 403, "read-only: this server only shows data (the HQ dashboard); "
				 "make changes on a branch node");
	const char *type = in_header(req, "Content-Type");
	if (!type || strncasecmp(type, "application/json", 16) != 0)
		return web_error(out, 403, "write refused: send the body as Content-Type: application/json "
				 "(protection against cross-site requests, docs/API.md)");
	const char *origin = in_header(req, "Origin");
	const char *host = in_header(req, "Host");
	char want[300];
	snprintf(want, sizeof(want), "http://%s", host ? host : "");
	if (origin && strcmp(origin, want) != 0)
		return web_error(out, 403, "write refused: the request comes from another site (Origin %.200s)", origin);
	const char *site = in_header(req, "Sec-Fetch-Site");
	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return web_error(out, 403, "write refused: cross-site request (Sec-Fetch-Site: %.40s)", site);
	return 0;
}

/* Check 3: the body of a write is one JSON object (empty body: {}). */
static int parse_body(web_req *r, const char *body, size_t len, json_t **out)
{
	if (len == 0) {
		r->body = json_object();
		return 0;
	}
	if (len > CRM_WEB_MAX_BODY)
		return web_error(out, 413, "request body too large (%zu bytes, at most %u)", len, CRM_WEB_MAX_BODY);
	json_error_t je;
	r->body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!r->body)
		return web_error(out, 400, "bad JSON in the request body (line %d, column %d): %s", je.line,
				 je.column, je.text);
	if (!json_is_object(r->body))
		return web_error(out, 400, "the request body must be a JSON object");
	return 0;
}

/* Split "/api/a/b" into decoded segments after "api". */
static int split_path(web_req *r, const char *path, json_t **out)
{
	const char *p = path + 5;   /* after "/api/" */
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > 200 || r->nseg == WEB_MAX_SEGS)
			return web_error(out, 404, "no such endpoint");
		char buf[201];
		memcpy(buf, p, n);
		buf[n] = '\0';
		size_t dlen = 0;
		r->seg[r->nseg] = evhttp_uridecode(buf, 0, &dlen);
		if (!r->seg[r->nseg])
			return web_error(out, 500, "out of memory");
		if (strlen(r->seg[r->nseg++]) != dlen)
			return web_error(out, 400, "bad path (an encoded NUL byte)");
		p += n + (e ? 1 : 0);
	}
	return 0;
}

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "OTHER";
	}
}

int web_dispatch(crm_web *w, enum evhttp_cmd_type method, const char *path, const char *query,
		 const char *body, size_t len, json_t **out)
{
	web_req r = {.w = w, .st = w->st, .method = method};
	int status = 0;
	*out = NULL;
	if (evhttp_parse_query_str(query ? query : "", &r.query) < 0)
		status = web_error(out, 400, "bad query string");
	if (!status && method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)
		status = parse_body(&r, body, len, out);
	if (!status)
		status = split_path(&r, path, out);
	if (!status) {
		crm_error_clear();
		status = web_api(&r, out);
	}
	evhttp_clear_headers(&r.query);
	for (size_t i = 0; i < r.nseg; i++)
		free(r.seg[i]);
	json_decref(r.body);
	return status;
}

static void handle_api(crm_web *w, struct evhttp_request *req, const char *path, const char *uri)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	json_t *doc = NULL;
	int status = 0;
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)
		status = write_ok(w, req, &doc);
	if (!status) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
		status = web_dispatch(w, method, path, query, len ? (const char *)evbuffer_pullup(in, -1) : "", len,
				      &doc);
	}
	const char *err = status >= 400 ? json_string_value(json_object_get(doc, "error")) : NULL;
	char *detail = err ? strdup(err) : NULL;
	status = send_doc(req, status, doc);
	log_req(w, method_name(method), uri, status, detail);
	free(detail);
}

static void handle_asset(crm_web *w, struct evhttp_request *req, const char *path, const char *uri)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	for (int i = 0; i < web_asset_count; i++) {
		if (strcmp(web_assets[i].path, path) != 0)
			continue;
		if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD)
			break;
		send_reply(req, 200, web_assets[i].type, web_assets[i].data, web_assets[i].len);
		log_req(w, method_name(m), uri, 200, NULL);
		return;
	}
	send_reply(req, 404, "text/plain; charset=utf-8", "not found\n", 10);
	log_req(w, method_name(m), uri, 404, NULL);
}

/* Answers go out in more than one write (headers, body); without
 * TCP_NODELAY the second waits for the client's delayed ACK (~40 ms). */
static void no_delay(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void on_request(struct evhttp_request *req, void *arg)
{
	crm_web *w = arg;
	no_delay(req);
	const char *uri = evhttp_request_get_uri(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	path = path && *path ? path : "/";
	if (!host_ok(w, in_header(req, "Host"))) {
		send_doc(req, 421, json_pack("{s:s}", "error", "this server does not answer to that Host name"));
		log_req(w, method_name(evhttp_request_get_command(req)), uri, 421, "wrong Host");
	} else if (strncmp(path, "/api/", 5) == 0) {
		handle_api(w, req, path, uri);
	} else {
		handle_asset(w, req, path, uri);
	}
}

/* "HOST:PORT" or "[V6]:PORT" → host (no brackets), port; loopback or not. */
static int parse_listen(crm_web *w, const char *listen)
{
	const char *colon = strrchr(listen, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	size_t hlen = colon ? (size_t)(colon - listen) : 0;
	if (!colon || !*(colon + 1) || *end || port < 0 || port > 65535 || hlen == 0 || hlen >= sizeof(w->host))
		return CRM_ERR(CRM_EINVAL, "listen address '%s' must be HOST:PORT, like 127.0.0.1:8080 (port 0: any)",
			       listen);
	if (listen[0] == '[' && listen[hlen - 1] == ']')
		snprintf(w->host, sizeof(w->host), "%.*s", (int)hlen - 2, listen + 1);
	else
		snprintf(w->host, sizeof(w->host), "%.*s", (int)hlen, listen);
	w->port = (int)port;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, w->host, &a4) == 1)
		w->loopback = (ntohl(a4.s_addr) >> 24) == 127;
	else if (inet_pton(AF_INET6, w->host, &a6) == 1)
		w->loopback = IN6_IS_ADDR_LOOPBACK(&a6);
	else if (strcmp(w->host, "localhost") == 0)
		snprintf(w->host, sizeof(w->host), "127.0.0.1"), w->loopback = 1;
	else
		return CRM_ERR(CRM_EINVAL, "listen address '%s': give a numeric IP address, like 127.0.0.1:8080", listen);
	if (!w->loopback && !w->o.allow_remote)
		return CRM_ERR(CRM_EINVAL, "refusing to listen on %s: the web UI has no login yet, so anyone who can "
			       "reach it can read and change the CRM; use 127.0.0.1, or --allow-remote on a trusted "
			       "network (docs/USER_GUIDE.md)", listen);
	return 0;
}

int crm_web_start(crm_web **out, struct event_base *base, crm_store *st, const crm_web_opts *o)
{
	crm_web *w = calloc(1, sizeof(*w));
	*out = NULL;
	if (!w)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	w->st = st;
	w->o = *o;
	int err = parse_listen(w, o->listen ? o->listen : "127.0.0.1:0");
	if (err == 0 && !(w->http = evhttp_new(base)))
		err = CRM_ERR(CRM_ENOMEM, "cannot start the HTTP server");
	struct evhttp_bound_socket *bs = NULL;
	if (err == 0 && !(bs = evhttp_bind_socket_with_handle(w->http, w->host, (ev_uint16_t)w->port)))
		err = CRM_ERR(CRM_EIO, "cannot listen on %s:%d (address in use or not on this machine?)", w->host, w->port);
	if (err < 0) {
		crm_web_free(w);
		return err;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
	w->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(w->url, sizeof(w->url), strchr(w->host, ':') ? "http://[%s]:%d/" : "http://%s:%d/", w->host, w->port);
	evhttp_set_gencb(w->http, on_request, w);
	evhttp_set_max_body_size(w->http, CRM_WEB_MAX_BODY);
	evhttp_set_max_headers_size(w->http, 32768);
	evhttp_set_timeout(w->http, 60);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PATCH |
					    EVHTTP_REQ_DELETE);
	*out = w;
	return 0;
}

const char *crm_web_url(const crm_web *w)
{
	return w->url;
}

void crm_web_free(crm_web *w)
{
	if (!w)
		return;
	if (w->http)
		evhttp_free(w->http);
	free(w);
}

typedef struct loop_ctx {
	struct event_base *base;
	volatile sig_atomic_t *stop;
} loop_ctx;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loop_ctx *l = arg;
	if (*l->stop)
		event_base_loopbreak(l->base);
}

int crm_web_serve(crm_store *st, const crm_web_opts *o, volatile sig_atomic_t *stop,
		  void (*ready)(void *ctx, const char *url), void *ctx)
{
	loop_ctx l = {.base = event_base_new(), .stop = stop};
	if (!l.base)
		return CRM_ERR(CRM_ENOMEM, "cannot start the event loop");
	crm_web *w = NULL;
	struct event *tick = event_new(l.base, -1, EV_PERSIST, on_tick, &l);
	int err = tick ? crm_web_start(&w, l.base, st, o) : CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0) {
		struct timeval tv = {0, 100000};
		event_add(tick, &tv);
		if (ready)
			ready(ctx, crm_web_url(w));
		event_base_dispatch(l.base);
	}
	crm_web_free(w);
	if (tick)
		event_free(tick);
	event_base_free(l.base);
	return err;
}
