/*
 * web_int.h — what the pieces of node/web/ share: the server (web.c), the
 * API routes (api.c, api_views.c) and the embedded assets (assets.c, generated).
 */
#ifndef CRM_WEB_INT_H
#define CRM_WEB_INT_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "web.h"

#define WEB_MAX_SEGS 6

struct crm_web {
	crm_store *st;
	crm_web_opts o;
	struct evhttp *http;
	char url[160];
	char host[128];           /* as given in listen, without brackets */
	int port;
	int loopback;
};

typedef struct web_req {
	crm_web *w;
	crm_store *st;
	enum evhttp_cmd_type method;
	char *seg[WEB_MAX_SEGS];  /* decoded path segments after "/api/" */
	size_t nseg;
	struct evkeyvalq query;
	json_t *body;             /* the parsed JSON object of a write, else NULL */
} web_req;

/* Route one /api/ request: returns the HTTP status, *out the JSON answer
 * (caller owns). */
int web_api(web_req *r, json_t **out);

/* One /api/ request after the Host/Origin checks: parse the query, the body
 * (a JSON object, at most CRM_WEB_MAX_BODY; writes only) and the path
 * ("/api/a/b"), then route it.  Returns the status; *out the answer. */
int web_dispatch(crm_web *w, enum evhttp_cmd_type method, const char *path, const char *query,
		 const char *body, size_t len, json_t **out);

/* A query parameter, or NULL. */
const char *web_query(web_req *r, const char *name);
/* An error answer {"error": msg}: returns status. */
int web_error(json_t **out, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The answer for a libcrm error code and crm_error_last(). */
int web_fail(json_t **out, int err);

/* One embedded file of node/web/assets/. */
typedef struct web_asset {
	const char *path;         /* "/app.js" */
	const char *type;         /* Content-Type */
	const unsigned char *data;
	size_t len;
} web_asset;
extern const web_asset web_assets[];
extern const int web_asset_count;

#endif
