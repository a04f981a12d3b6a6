/*
 * server.h — crm-syncd's HTTPS server (libevent evhttp over OpenSSL): routes
 * requests to hub.c, one event loop and one replica handle.
 */
#ifndef CRM_SERVER_H
#define CRM_SERVER_H

#include <signal.h>

/* Serve the hub in `dir` until *stop becomes non-zero.  Logs one line per
 * event to stderr.  If the configured listen port is 0, the chosen port is
 * recorded in the replica (meta "url") and written to dir/url.
 * dashboard: NULL, or "HOST:PORT" where the same event loop also serves the
 * web UI read-only from the consolidated replica (the HQ dashboard, node/web/),
 * its address written to dir/dashboard-url. */
int crm_server_run(const char *dir, const char *dashboard, volatile sig_atomic_t *stop);

#endif
