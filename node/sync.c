/*
 * sync.c — node ↔ hub sync (see sync.h and docs/PROTOCOL.md §4).
 *
 * Design notes
 *  1. Push: the node sends its own batches with seq > hub_pushed, at most one
 *     chunk of payload per request.  The hub answers only after its apply
 *     transaction committed; the node then stores hub_pushed (the receipt).
 *     A lost answer means the next attempt resends batches the hub already
 *     has, which it acknowledges as known: nothing lost, nothing doubled.
 *  2. Pull: the node asks for batches after hub_cursor; it applies the chunk
 *     and stores the new cursor in one transaction, so a drop loses at most
 *     the chunk in flight.
 *  3. Chunk size adapts: doubled after a success (up to 256 KiB), halved
 *     after a failure (down to 32 KiB), so a bad line still makes progress.
 *  4. Every response carries the hub's clock; the node remembers its skew
 *     (conflict/clock.c) so its stamps are corrected before they are signed.
 */
#include "sync.h"
#include "codec.h"
#include "error.h"
#include "exchange.h"
#include "http.h"
#include "reqsig.h"
#include "snapshot.h"
#include "token.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RESPONSE (64u << 20)

typedef struct session {
	crm_store *st;
	const crm_sync_opts *o;
	crm_sync_report *rep;
	char hub[256];
	char pin[128];
	size_t chunk;
	crm_http_conn *conn;      /* one connection for all requests of a sync (keep-alive) */
	FILE *sink;               /* a snapshot download goes here */
} session;

static void progress(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(session *s, const char *fmt, ...)
{
	if (!s->o || !s->o->progress)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->o->progress(s->o->ctx, line);
}

/* One signed request to the hub, on the session's connection (kept open). */
static int request(session *s, crm_http_resp *resp, const char *method, const char *path,
		   const void *body, size_t len, long timeout)
{
	char url[512];
	crm_req_headers h;
	uint64_t now = crm_store_clock_ms(s->st);   /* corrected by the hub's time, if off */
	int err = crm_req_headers_make(&h, crm_store_key(s->st), crm_store_node_id(s->st), method, path, now,
				       body, len);
	if (err < 0)
		return err;
	snprintf(url, sizeof(url), "%s%s", s->hub, path);
	crm_http_req req = {method, url, s->pin, h.list, body, len, timeout,
			    s->sink ? (size_t)CRM_SNAPSHOT_MAX : MAX_RESPONSE, s->o ? s->o->proxy : NULL, s->conn, s->sink};
	s->rep->requests++;
	s->rep->bytes_up += len;
	err = crm_http_do(resp, &req);
	if (err == 0 && resp->status == 401 && resp->body && !s->sink &&
	    strstr((const char *)resp->body, "replayed request")) {
		/* libcurl resends a request once on a fresh connection when the
		 * kept one turns out dead; if the first copy did reach the hub,
		 * the resent one is a replay.  The hub refused it before doing
		 * anything, and push and pull are idempotent: sign anew, once. */
		crm_http_resp_dispose(resp);
		if ((err = crm_req_headers_make(&h, crm_store_key(s->st), crm_store_node_id(s->st), method, path,
						crm_store_clock_ms(s->st), body, len)) < 0)
			return err;
		s->rep->requests++;
		err = crm_http_do(resp, &req);
	}
	if (err == 0) {
		s->rep->bytes_down += resp->len;
		if (resp->hub_time_ms && (err = crm_store_observe_time(s->st, resp->hub_time_ms)) == 0)
			s->rep->skew_ms = crm_store_skew_ms(s->st);
	}
	return err;
}

/* A refusal from the hub: its JSON {"error": "..."} as our error. */
static int refused(const crm_http_resp *r)
{
	json_t *j = r->body ? json_loadb((const char *)r->body, r->len, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "error"));
	int code = r->status == 403 ? CRM_EDENIED : r->status == 409 ? CRM_EFORK : r->status == 413 ? CRM_ELIMIT
		   : r->status >= 500 ? CRM_EIO : CRM_EINVAL;
	const char *hint = code == CRM_EDENIED || code == CRM_EFORK
		? "; nothing was applied and this node keeps its changes; an administrator can get it unstuck "
		  "(docs/OPERATOR.md, \"A refused chunk\")" : "";
	int err = CRM_ERR(code, "the hub refused (HTTP %ld): %s%s", r->status,
			  msg ? msg : r->status == 413 ? "request too large" : "no reason given", hint);
	json_decref(j);
	return err;
}

static int meta_u64(crm_store *st, const char *key, uint64_t *out)
{
	char *v = NULL;
	int err = crm_meta_get(st, key, &v);
	*out = v ? strtoull(v, NULL, 10) : 0;
	free(v);
	if (err == CRM_ENOTFOUND) {
		crm_error_clear();
		return 0;
	}
	return err;
}

static int set_u64(crm_store *st, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return crm_meta_set(st, key, buf);
}

/* Push one chunk of our own batches; 1 = more to push, 0 = done. */
static int push_chunk(session *s)
{
	uint64_t pushed, cursor;
	uint8_t *body = NULL;
	size_t len = 0, batches = 0;
	int more = 0;
	int err = meta_u64(s->st, "hub_pushed", &pushed);
	if (err == 0)
		err = crm_export_buffer(s->st, pushed, 1, NULL, s->chunk, &body, &len, &cursor, &batches, &more);
	if (err < 0 || batches == 0) {
		free(body);
		return err;
	}
	crm_http_resp r;
	int64_t skew = crm_store_skew_ms(s->st);
	err = request(s, &r, "POST", "/v1/push", body, len, 120);
	if (err == 0 && r.status == 401 && crm_store_skew_ms(s->st) != skew) {
		/* Our clock was off and the answer told us by how much: once more. */
		crm_http_resp_dispose(&r);
		err = request(s, &r, "POST", "/v1/push", body, len, 120);
	}
	free(body);
	if (err < 0)
		return err;
	if (r.status != 200)
		err = refused(&r);
	if (err == 0)
		err = set_u64(s->st, "hub_pushed", cursor);   /* the receipt */
	crm_http_resp_dispose(&r);
	if (err == 0) {
		s->rep->pushed += batches;
		progress(s, "pushed %zu batches (%zu KiB sent)", s->rep->pushed, s->rep->bytes_up / 1024);
	}
	return err < 0 ? err : more;
}

/* Trust the node keys the hub vouches for (it enrolled them). */
static int trust_keys(crm_store *st, const uint8_t *body, size_t len)
{
	crm_envelope *env = NULL;
	int err = crm_envelope_decode(&env, body, len);
	for (size_t i = 0; err == 0 && i < env->key_count; i++) {
		char node[33];
		err = crm_trust_add(st, env->keys[i].pubkey, env->keys[i].name, "hub", node);
		if (err == 0 && strcmp(node, env->keys[i].node) != 0)
			err = CRM_ERR(CRM_EVERIFY, "the hub sent a key that does not match node %s", env->keys[i].node);
	}
	crm_envelope_free(env);
	return err;
}

/* Pull one chunk; 1 = more to pull, 0 = caught up. */
static int pull_chunk(session *s)
{
	uint64_t cursor;
	char path[128], next[24];
	int err = meta_u64(s->st, "hub_cursor", &cursor);
	if (err < 0)
		return err;
	snprintf(path, sizeof(path), "/v1/pull?since=%llu&max=%zu", (unsigned long long)cursor, s->chunk);
	crm_http_resp r;
	int64_t skew = crm_store_skew_ms(s->st);
	if ((err = request(s, &r, "GET", path, NULL, 0, 120)) < 0)
		return err;
	if (r.status == 401 && crm_store_skew_ms(s->st) != skew) {
		crm_http_resp_dispose(&r);   /* clock corrected by this answer: once more */
		if ((err = request(s, &r, "GET", path, NULL, 0, 120)) < 0)
			return err;
	}
	if (r.status != 200)
		err = refused(&r);
	crm_apply_report rep;
	uint64_t new_cursor = cursor;
	crm_envelope *env = NULL;
	if (err == 0 && (err = crm_envelope_decode(&env, r.body, r.len)) == 0) {
		new_cursor = env->cursor;
		crm_envelope_free(env);
	}
	if (err == 0)
		err = trust_keys(s->st, r.body, r.len);
	snprintf(next, sizeof(next), "%llu", (unsigned long long)new_cursor);
	crm_apply_opts opts = {.cursor_key = "hub_cursor", .cursor_value = next};
	if (err == 0)
		err = crm_import_buffer(s->st, r.body, r.len, &opts, &rep, NULL);
	int more = r.more;
	crm_http_resp_dispose(&r);
	if (err == 0) {
		s->rep->pulled += rep.applied;
		s->rep->changes += rep.changes;
		s->rep->forks += rep.forks;
		progress(s, "pulled %zu batches (%zu KiB received)", s->rep->pulled, s->rep->bytes_down / 1024);
	}
	return err < 0 ? err : more;
}

static int sync_once(session *s)
{
	int rc = crm_seal(s->st, NULL);
	while (rc == 0 && (rc = push_chunk(s)) == 1) {
		s->chunk = s->chunk * 2 > CRM_CHUNK_MAX ? CRM_CHUNK_MAX : s->chunk * 2;
		rc = 0;   /* more to push */
	}
	while (rc == 0 && (rc = pull_chunk(s)) == 1) {
		s->chunk = s->chunk * 2 > CRM_CHUNK_MAX ? CRM_CHUNK_MAX : s->chunk * 2;
		rc = 0;   /* more to pull */
	}
	if (rc == 0)
		rc = set_u64(s->st, "hub_last_sync", crm_store_now_ms(s->st));
	return rc < 0 ? rc : 0;
}

static int open_session(session *s, crm_store *st, const crm_sync_opts *o, crm_sync_report *rep)
{
	char *hub = NULL, *pin = NULL;
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->o = o;
	s->rep = rep;
	s->chunk = 64u * 1024u;
	int err = crm_meta_get(st, "hub", &hub);
	if (err == 0)
		err = crm_meta_get(st, "hub_pin", &pin);
	if (err == CRM_ENOTFOUND)
		err = CRM_ERR(CRM_EINVAL, "this node is not enrolled with a hub; create it with 'crm init --join TOKEN'");
	if (err == 0) {
		snprintf(s->hub, sizeof(s->hub), "%s", o && o->hub ? o->hub : hub);
		snprintf(s->pin, sizeof(s->pin), "%s", pin);
	}
	free(hub);
	free(pin);
	if (err == 0 && !(s->conn = crm_http_conn_new()))
		err = CRM_ERR(CRM_ENOMEM, "cannot start an HTTP client");
	return err;
}

/* Install the snapshot at path (made by our hub) into this fresh replica. */
static int install_snapshot(session *s, const char *path)
{
	char *hub = NULL;
	uint64_t cursor = 0;
	int err = crm_meta_get(s->st, "hub_node", &hub);
	if (err == CRM_ENOTFOUND)
		err = CRM_ERR(CRM_EINVAL, "this node does not know its hub's key (enrolled by an older crm); "
			      "sync without --snapshot");
	if (err == 0)
		err = crm_snapshot_install(s->st, path, hub, &cursor);
	free(hub);
	if (err == 0)
		progress(s, "installed the hub's snapshot (up to position %llu)", (unsigned long long)cursor);
	return err;
}

/* GET /v1/snapshot into a file beside the replica, verify, install. */
static int fetch_snapshot(session *s)
{
	char path[4200];
	crm_http_resp r;
	snprintf(path, sizeof(path), "%s/snapshot.download", crm_store_dir(s->st));
	FILE *f = fopen(path, "w+");
	if (!f)
		return CRM_ERR(CRM_EIO, "cannot create %s", path);
	progress(s, "downloading the hub's snapshot");
	s->sink = f;
	int err = request(s, &r, "GET", "/v1/snapshot", NULL, 0, 600);
	s->sink = NULL;
	if (err == 0 && r.status != 200) {
		char msg[4096];
		size_t n = fseek(f, 0, SEEK_SET) == 0 ? fread(msg, 1, sizeof(msg), f) : 0;
		r.body = (uint8_t *)msg;   /* the hub's JSON error, for refused() */
		r.len = n;
		err = refused(&r);
		r.body = NULL;
	}
	if (fclose(f) != 0 && err == 0)
		err = CRM_ERR(CRM_EIO, "cannot write %s", path);
	if (err == 0)
		err = install_snapshot(s, path);
	unlink(path);
	return err;
}

static int retryable(int err) { return err == CRM_EIO || err == CRM_ECORRUPT; }

int crm_sync(crm_store *st, const crm_sync_opts *o, crm_sync_report *rep)
{
	session s;
	memset(rep, 0, sizeof(*rep));
	int err = open_session(&s, st, o, rep);
	if (err == 0 && o && o->snapshot_file)
		err = install_snapshot(&s, o->snapshot_file);
	else if (err == 0 && o && o->snapshot)
		err = fetch_snapshot(&s);
	int max = o && o->max_attempts ? o->max_attempts : 40;
	time_t deadline = time(NULL) + (o && o->max_seconds ? o->max_seconds : 600);
	for (int attempt = 0; err == 0; attempt++) {
		rep->attempts++;
		err = sync_once(&s);
		if (err == 0 || !retryable(err) || (o && o->once) || attempt + 1 >= max || time(NULL) >= deadline)
			break;
		s.chunk = s.chunk / 2 < CRM_CHUNK_MIN ? CRM_CHUNK_MIN : s.chunk / 2;
		unsigned wait_ms = 250u << (attempt < 5 ? attempt : 5);    /* 0.25 s .. 8 s */
		progress(&s, "link failed (%s); retrying in %.1f s", crm_error_last(), wait_ms / 1000.0);
		usleep(wait_ms * 1000u);
		err = 0;
	}
	crm_http_conn_free(s.conn);
	return err;
}

/* POST /v1/enroll: prove the key with a signature over the token secret. */
static int enroll(const crm_token *t, const crm_key *key, const char *name, const crm_sync_opts *o, json_t **out)
{
	uint8_t pub[CRM_PUBKEY_LEN], sig[CRM_SIG_LEN];
	char *line = NULL, sig_hex[2 * CRM_SIG_LEN + 1], msg[128], url[512];
	crm_key_public(key, pub);
	snprintf(msg, sizeof(msg), "BRANCHLINE-ENROLL-1\n%s", t->secret);
	int err = crm_pubkey_to_openssh(&line, pub, NULL);
	if (err == 0)
		err = crm_sign_raw(sig, key, msg, strlen(msg));
	if (err < 0) {
		free(line);
		return err;
	}
	crm_hex(sig_hex, sig, sizeof(sig));
	json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "secret", t->secret, "pubkey", line, "name", name,
				 "signature", sig_hex);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	free(line);
	snprintf(url, sizeof(url), "%s/v1/enroll", t->hub);
	crm_http_req req = {"POST", url, t->pin, NULL, text, text ? strlen(text) : 0, 60, 1u << 20, o ? o->proxy : NULL, NULL, NULL};
	crm_http_resp r;
	err = text ? crm_http_do(&r, &req) : CRM_ERR(CRM_ENOMEM, "out of memory");
	free(text);
	if (err < 0)
		return err;
	if (r.status != 200)
		err = refused(&r);
	if (err == 0 && !(*out = json_loadb((const char *)r.body, r.len, 0, NULL)))
		err = CRM_ERR(CRM_ECORRUPT, "the hub's enrollment answer is not JSON");
	crm_http_resp_dispose(&r);
	return err;
}

/* Settings and trust from the enrollment answer. */
static int adopt_hub(crm_store *st, const crm_token *t, json_t *ans)
{
	int err = crm_meta_set(st, "hub", t->hub);
	if (err == 0)
		err = crm_meta_set(st, "hub_pin", t->pin);
	if (err == 0)
		err = crm_meta_set(st, "role", t->role);
	const char *hub = json_string_value(json_object_get(ans, "hub_node"));
	if (err == 0 && hub)
		err = crm_meta_set(st, "hub_node", hub);   /* whose key signs snapshots */
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(ans, "keys"), i, k) {
		char node[33];
		const char *line = json_string_value(json_object_get(k, "pubkey"));
		if (err == 0 && line)
			err = crm_trust_add(st, line, json_string_value(json_object_get(k, "name")), "hub", node);
	}
	return err;
}

int crm_join(crm_store **out, const char *dir, const char *text, const crm_init_opts *local,
	     const crm_sync_opts *o)
{
	const char *name = local ? local->name : NULL;
	crm_token t;
	crm_key *key = NULL;
	json_t *ans = NULL;
	*out = NULL;
	int err = crm_token_decode(&t, text);
	struct stat sb;
	char db[4096];
	snprintf(db, sizeof(db), "%s/crm.db", dir);
	if (err == 0 && stat(db, &sb) == 0)   /* before the token is spent */
		err = CRM_ERR(CRM_EEXISTS, "%s already holds a replica; use another --data directory", dir);
	if (err == 0)
		err = crm_key_generate(&key);
	if (err == 0)
		err = enroll(&t, key, name ? name : t.name, o, &ans);
	crm_init_opts io = {.name = name ? name : t.name, .branch = t.branch, .key = key, .joined = 1,
			    .country = local ? local->country : NULL, .currency = local ? local->currency : NULL};
	crm_store *st = NULL;
	if (err == 0)
		err = crm_store_create(&st, dir, &io);
	if (err == 0)
		err = adopt_hub(st, &t, ans);
	json_decref(ans);
	crm_key_free(key);
	if (err < 0) {
		crm_store_free(st);
		return err;
	}
	*out = st;
	return 0;
}
