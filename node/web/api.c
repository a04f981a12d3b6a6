/*
 * api.c — the JSON API's routes over libcrm (docs/API.md).  Every write goes
 * through the one write path (crm_entity_*, crm_deal_move, merge.h), so the
 * web UI validates exactly like the CLI and a refused request changes
 * nothing.  Reads use query.h and agenda.h; kanban and reports are in
 * api_views.c.
 */
#include "web_int.h"
#include "agenda.h"
#include "entity.h"
#include "error.h"
#include "merge.h"
#include "query.h"
#include "sync.h"
#include "write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KV_MAX 48

int web_views(web_req *r, json_t **out);   /* api_views.c: board, reports */

static int is(web_req *r, enum evhttp_cmd_type m, size_t nseg, const char *s0)
{
	return r->method == m && r->nseg == nseg && strcmp(r->seg[0], s0) == 0;
}

static int is_get(web_req *r)
{
	return r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD;
}

/* A non-negative integer query parameter, or dflt; -1 if malformed or > max. */
static long query_num(web_req *r, const char *name, long dflt, long max)
{
	const char *v = web_query(r, name);
	if (!v)
		return dflt;
	char *end = NULL;
	long n = strtol(v, &end, 10);
	return (*v && !*end && n >= 0 && n <= max) ? n : -1;
}

/* Ownership of the strings of a kv list built from a JSON object. */
typedef struct kvbuf {
	crm_kv kv[KV_MAX];
	char *own[KV_MAX];
	size_t count;
} kvbuf;

static void kv_dispose(kvbuf *b)
{
	for (size_t i = 0; i < b->count; i++)
		free(b->own[i]);
}

/* The fields of a JSON object as typed text: strings as they are, integers
 * and reals in decimal, true/false as yes/no, null as "" (clear).  Objects
 * and arrays are refused: strict types, no guessing. */
static int body_fields(kvbuf *b, json_t *obj, json_t **out)
{
	const char *key;
	json_t *v;
	b->count = 0;
	json_object_foreach(obj, key, v) {
		char num[64];
		const char *text;
		if (b->count == KV_MAX)
			return web_error(out, 400, "too many fields (at most %d)", KV_MAX);
		if (json_is_string(v))
			text = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v)), text = num;
		else if (json_is_real(v))
			snprintf(num, sizeof(num), "%.15g", json_real_value(v)), text = num;
		else if (json_is_boolean(v))
			text = json_is_true(v) ? "yes" : "no";
		else if (json_is_null(v))
			text = "";
		else
			return web_error(out, 400, "field '%s' must be a string, number, boolean or null", key);
		if (strlen(text) != (json_is_string(v) ? json_string_length(v) : strlen(text)))
			return web_error(out, 400, "field '%s' contains a NUL character", key);
		b->own[b->count] = strdup(text);
		if (!b->own[b->count])
			return web_error(out, 500, "out of memory");
		b->kv[b->count] = (crm_kv){key, b->own[b->count]};
		b->count++;
	}
	return 0;
}

/* A required string member of the body. */
static const char *body_str(web_req *r, const char *name)
{
	return json_string_value(json_object_get(r->body, name));
}

static int reply(json_t **out, json_t *doc)
{
	*out = doc;
	return 200;
}

/* err < 0: the error answer (doc is freed); else doc. */
static int answer(json_t **out, int err, json_t *doc)
{
	if (err < 0) {
		json_decref(doc);
		return web_fail(out, err);
	}
	return reply(out, doc);
}

static int info(web_req *r, json_t **out)
{
	char *hub = NULL, today[11];
	crm_meta_get(r->st, "hub", &hub);
	crm_error_clear();
	crm_agenda_today(today, r->st);
	char *login = NULL;
	crm_db_get_text(crm_store_db(r->st), &login, "SELECT login FROM users WHERE id = ?1",
			crm_store_setting(r->st, "user_id"));
	crm_error_clear();
	json_t *j = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:b, s:b, s:s}", "node", crm_store_node_id(r->st),
			      "name", crm_store_setting(r->st, "name"), "branch", crm_store_setting(r->st, "branch_code"),
			      "user", login, "currency", crm_store_setting(r->st, "currency"), "sync_hub", hub,
			      "read_only", r->w->o.read_only, "hub", r->w->o.hub, "today", today);
	free(hub);
	free(login);
	return reply(out, j);
}

static int search(web_req *r, json_t **out)
{
	const char *q = web_query(r, "q");
	long limit = query_num(r, "limit", 20, 200);
	if (!q)
		return web_error(out, 400, "give the search text as ?q=");
	if (limit < 0)
		return web_error(out, 400, "limit must be a number from 0 to 200");
	json_t *arr = NULL;
	int err = crm_query_search(&arr, r->st, q, (size_t)limit);
	return answer(out, err, arr);
}

static int entity_ok(const char *e, json_t **out)
{
	return crm_entity_known(e) ? 0 : web_error(out, 404, "unknown kind of record '%s'; kinds are: %s", e,
						   crm_entity_names());
}

static int records(web_req *r, json_t **out)
{
	const char *e = r->seg[1];
	const char *id = r->nseg >= 3 ? r->seg[2] : NULL;
	int status = entity_ok(e, out), err;
	if (status)
		return status;
	if (r->nseg == 2 && is_get(r)) {
		long limit = query_num(r, "limit", 200, 100000);
		if (limit < 0)
			return web_error(out, 400, "limit must be a number from 0 to 100000");
		json_t *arr = NULL;
		err = crm_query_list(&arr, r->st, e, web_query(r, "search"), (size_t)limit);
	return answer(out, err, arr);
	}
	if (r->nseg == 3 && is_get(r)) {
		json_t *o = NULL;
		err = crm_query_show(&o, r->st, e, id);
	return answer(out, err, o);
	}
	if (r->nseg == 3 && r->method == EVHTTP_REQ_DELETE)
		return answer(out, crm_entity_delete(r->st, e, id), json_pack("{s:s}", "id", id));
	if (r->nseg == 4 && r->method == EVHTTP_REQ_POST && strcmp(r->seg[3], "restore") == 0)
		return answer(out, crm_entity_restore(r->st, e, id), json_pack("{s:s}", "id", id));
	if (r->nseg == 4 && r->method == EVHTTP_REQ_POST && strcmp(r->seg[3], "move") == 0 && strcmp(e, "deal") == 0) {
		json_t *stage = json_object_get(r->body, "stage"), *reason = json_object_get(r->body, "reason");
		if (!json_is_string(stage) || (reason && !json_is_string(reason) && !json_is_null(reason)))
			return web_error(out, 400, "give {\"stage\": NAME} and, for a lost deal, \"reason\": TEXT");
		err = crm_deal_move(r->st, id, json_string_value(stage), json_string_value(reason));
		json_t *deal = NULL;
		if (err == 0)
			err = crm_query_show(&deal, r->st, "deal", id);
		return answer(out, err, deal);
	}
	kvbuf b;
	if ((r->nseg == 2 && r->method == EVHTTP_REQ_POST) || (r->nseg == 3 && r->method == EVHTTP_REQ_PATCH)) {
		status = body_fields(&b, r->body, out);
		char new_id[CRM_ID_LEN + 1];
		if (!status && r->nseg == 2) {
			err = crm_entity_add(r->st, e, b.kv, b.count, new_id);
			status = err < 0 ? web_fail(out, err) : (reply(out, json_pack("{s:s}", "id", new_id)), 201);
		} else if (!status) {
			err = b.count ? crm_entity_set(r->st, e, id, b.kv, b.count)
				      : CRM_ERR(CRM_EINVAL, "nothing to change: give at least one field");
			status = answer(out, err, json_pack("{s:s}", "id", id));
		}
		kv_dispose(&b);
		return status;
	}
	return web_error(out, 405, "method not allowed on /api/records/%s%s", e, id ? "/ID" : "");
}

static int tasks(web_req *r, json_t **out)
{
	const char *view = web_query(r, "view");
	json_t *arr = NULL;
	int err = crm_agenda_tasks(&arr, r->st, view ? view : "mine", web_query(r, "today"), 0);
	return answer(out, err, arr);
}

static int birthdays(web_req *r, json_t **out)
{
	long days = query_num(r, "days", 30, 366);
	if (days < 0)
		return web_error(out, 400, "days must be a number from 0 to 366");
	json_t *arr = NULL;
	int err = crm_agenda_birthdays(&arr, r->st, (int)days, web_query(r, "today"));
	return answer(out, err, arr);
}

static int conflicts(web_req *r, json_t **out)
{
	if (r->nseg == 1 && is_get(r)) {
		json_t *arr = NULL;
		int err = crm_conflicts_list(&arr, r->st, query_num(r, "all", 0, 1) == 1);
	return answer(out, err, arr);
	}
	char *end = NULL;
	long long id = r->nseg == 3 ? strtoll(r->seg[1], &end, 10) : 0;
	if (r->nseg != 3 || r->method != EVHTTP_REQ_POST || !end || *end || id <= 0)
		return web_error(out, 404, "use POST /api/conflicts/ID/resolve or /api/conflicts/ID/reapply");
	int err;
	if (strcmp(r->seg[2], "resolve") == 0)
		err = crm_conflict_resolve(r->st, id);
	else if (strcmp(r->seg[2], "reapply") == 0)
		err = crm_conflict_reapply(r->st, id);
	else
		return web_error(out, 404, "unknown conflict action '%s'; use resolve or reapply", r->seg[2]);
	return answer(out, err, json_pack("{s:I}", "id", (json_int_t)id));
}

static int duplicates(web_req *r, json_t **out)
{
	if (r->nseg == 1 && is_get(r)) {
		json_t *arr = NULL;
		int err = crm_duplicates_list(&arr, r->st);
	return answer(out, err, arr);
	}
	int keep = r->nseg == 2 && strcmp(r->seg[1], "keep-apart") == 0;
	if (r->nseg != 2 || r->method != EVHTTP_REQ_POST || (!keep && strcmp(r->seg[1], "merge") != 0))
		return web_error(out, 404, "use POST /api/duplicates/merge or /api/duplicates/keep-apart");
	const char *a = body_str(r, "a"), *b = body_str(r, "b");
	if (!a || !b)
		return web_error(out, 400, "give {\"a\": ID, \"b\": ID}: the two records");
	return answer(out, crm_merge_decide(r->st, a, b, keep), json_pack("{s:s, s:s}", "a", a, "b", b));
}

static json_t *iso_ms(uint64_t ms)
{
	char buf[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static int sync_status(web_req *r, json_t **out, json_t *last)
{
	int64_t pending = 0;
	char *hub = NULL, *last_ms = NULL;
	int err = crm_pending_count(r->st, &pending);
	if (err < 0)
		return web_fail(out, err);
	crm_meta_get(r->st, "hub", &hub);
	crm_meta_get(r->st, "hub_last_sync", &last_ms);
	crm_error_clear();
	json_t *j = json_pack("{s:b, s:s?, s:I, s:o}", "enrolled", hub != NULL, "hub", hub, "pending_changes",
			      (json_int_t)pending, "last_sync", last_ms ? iso_ms(strtoull(last_ms, NULL, 10)) : json_null());
	if (last)
		json_object_set_new(j, "result", last);
	free(hub);
	free(last_ms);
	return reply(out, j);
}

/* POST /api/sync: one attempt, bounded in time; the event loop waits for it. */
static int sync_now(web_req *r, json_t **out)
{
	char *hub = NULL;
	if (crm_meta_get(r->st, "hub", &hub) < 0) {
		crm_error_clear();
		return web_error(out, 409, "this node is not enrolled with a hub, so there is nothing to sync with "
				 "(crm init --join TOKEN; docs/USER_GUIDE.md)");
	}
	free(hub);
	crm_sync_opts o = {.once = 1, .max_attempts = 1, .max_seconds = 30};
	crm_sync_report rep;
	int err = crm_sync(r->st, &o, &rep);
	if (err < 0)
		return web_fail(out, err);
	return sync_status(r, out, json_pack("{s:I, s:I, s:I}", "pushed", (json_int_t)rep.pushed, "pulled",
					       (json_int_t)rep.pulled, "changes", (json_int_t)rep.changes));
}

int web_api(web_req *r, json_t **out)
{
	if (r->nseg == 0)
		return web_error(out, 404, "no such endpoint");
	const char *s0 = r->seg[0];
	int get = is_get(r);
	if (strcmp(s0, "records") == 0 && r->nseg >= 2 && r->nseg <= 4)
		return records(r, out);
	if (strcmp(s0, "conflicts") == 0)
		return conflicts(r, out);
	if (strcmp(s0, "duplicates") == 0)
		return duplicates(r, out);
	if (r->nseg == 1 && get && strcmp(s0, "info") == 0)
		return info(r, out);
	if (r->nseg == 1 && get && strcmp(s0, "search") == 0)
		return search(r, out);
	if (r->nseg == 1 && get && strcmp(s0, "tasks") == 0)
		return tasks(r, out);
	if (r->nseg == 1 && get && strcmp(s0, "birthdays") == 0)
		return birthdays(r, out);
	if (r->nseg == 1 && get && strcmp(s0, "pipelines") == 0) {
		json_t *arr = NULL;
		int err = crm_agenda_pipelines(&arr, r->st);
	return answer(out, err, arr);
	}
	if (r->nseg == 1 && strcmp(s0, "sync") == 0)
		return get ? sync_status(r, out, NULL) : is(r, EVHTTP_REQ_POST, 1, "sync") ? sync_now(r, out)
							: web_error(out, 405, "use GET or POST /api/sync");
	return web_views(r, out);
}
