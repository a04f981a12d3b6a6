/*
 * web.h — the local web UI and its JSON API (docs/API.md), served over plain
 * HTTP by libevent's evhttp from one replica: `crm serve` on a node, and the
 * read-only HQ dashboard of `crm-syncd run --dashboard` on the hub.
 *
 * One event loop, one store handle: requests run one at a time in arrival
 * order (SQLite WAL with a busy timeout lets the CLI write at the same time).
 * The module never prints or exits; it reports through opts->log.
 */
#ifndef CRM_WEB_H
#define CRM_WEB_H

#include <signal.h>
#include <stddef.h>

#include "store.h"

struct event_base;
typedef struct crm_web crm_web;

#define CRM_WEB_MAX_BODY (1u << 20)   /* a request body larger than 1 MiB gets 413 */

typedef struct crm_web_opts {
	const char *listen;       /* "HOST:PORT", port 0 = any free port; NULL = "127.0.0.1:0" */
	int allow_remote;         /* bind a non-loopback address (there is no login yet) */
	int read_only;            /* refuse every write with 403; the UI hides write controls */
	int hub;                  /* serving the hub's consolidated replica: reports by branch */
	void (*log)(void *ctx, const char *line);   /* one line per request; may be NULL */
	void *ctx;
} crm_web_opts;

/* Bind the listen address and serve on `base` (which the caller runs).
 * `st` is borrowed and must outlive the server.  CRM_EINVAL for a malformed
 * or (without allow_remote) non-loopback address, CRM_EIO if it cannot bind. */
int crm_web_start(crm_web **out, struct event_base *base, crm_store *st, const crm_web_opts *o);
/* "http://127.0.0.1:PORT/": the address actually bound. Borrowed. */
const char *crm_web_url(const crm_web *w);
void crm_web_free(crm_web *w);   /* NULL-safe; closes the listening socket */

/* Own event loop: start, call ready(ctx, url) once listening, serve until
 * *stop becomes non-zero (checked ten times a second), then free. */
int crm_web_serve(crm_store *st, const crm_web_opts *o, volatile sig_atomic_t *stop,
		  void (*ready)(void *ctx, const char *url), void *ctx);

#endif
