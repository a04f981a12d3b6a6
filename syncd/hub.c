/*
 * hub.c — enrollment, authentication, authorization, push and pull (see hub.h).
 *
 * Design notes
 *  1. Authorization runs in the verify phase of the apply (crm_apply_opts),
 *     batch by batch, before anything is written; one refused change refuses
 *     the whole chunk, with a reason the node shows.
 *  2. Rules by role: hq may change everything; branch and laptop nodes may
 *     create and edit the shared customer base (companies, contacts and their
 *     channels, links, merges, attachments) but deals, leads, activities,
 *     tasks, notes and their histories only of their own branch, and never
 *     pipelines, stages, users, branches or plans.  A row's branch is the
 *     branch_id the batch gives it, else the one the hub holds; histories
 *     take their deal's or task's branch.
 *  3. Replay protection: a signed request carries a time within 5 minutes of
 *     the hub's clock and a nonce; nonces are kept 10 minutes.
 *  4. A record hq moves to another branch: a node of the old branch may
 *     have edited it offline before it learned of the move (its own check
 *     passed), and that batch, signed into its chain, would block it
 *     forever.  So the hub records each move (crm_hub_moves: from which
 *     branch, at which hub position) and each node's acknowledged pull
 *     position (crm_hub_nodes.pulled, the `since` of its pulls), and accepts
 *     a change of the old branch's node to the moved record while that node
 *     has not pulled past the move.  Last writer wins then decides the
 *     fields as usual; the record stays in its new branch.  Once the node
 *     has pulled the move, its own check refuses such edits, and the hub
 *     does too.
 */
#include "hub.h"
#include "cert.h"
#include "changelog.h"
#include "codec.h"
#include "error.h"
#include "exchange.h"
#include "reqsig.h"
#include "snapshot.h"
#include "token.h"
#include "write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void now_text(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int crm_hub_init(const char *dir, const char *listen)
{
	crm_init_opts o = {.name = "hub", .branch = "HQ", .user = "hub"};
	crm_store *st = NULL;
	char *pem = path_join(dir, "hub.pem");
	int err = pem ? crm_store_create(&st, dir, &o) : CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0)
		err = crm_meta_set(st, "role", "hq");
	if (err == 0)
		err = crm_meta_set(st, "listen", listen ? listen : "127.0.0.1:8443");
	if (err == 0)
		err = crm_cert_create(pem, "branchline-hub");
	crm_store_free(st);
	free(pem);
	return err;
}

int crm_hub_url(crm_store *st, char *out, size_t cap)
{
	char *url = NULL;
	int err = crm_meta_get(st, "url", &url);
	if (err == CRM_ENOTFOUND) {
		char *listen = NULL;
		crm_error_clear();
		err = crm_meta_get(st, "listen", &listen);
		if (err == 0)
			snprintf(out, cap, "https://%s", listen);
		free(listen);
		return err;
	}
	if (err == 0)
		snprintf(out, cap, "%s", url);
	free(url);
	return err;
}

int crm_hub_pin(crm_store *st, char out[128])
{
	char *pem = path_join(crm_store_dir(st), "hub.pem");
	int err = pem ? crm_cert_pin(out, pem) : CRM_ERR(CRM_ENOMEM, "out of memory");
	free(pem);
	return err;
}

static int valid_code(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* The branch row every replica shares (deterministic id), written by the hub. */
static int ensure_branch(crm_store *st, const char *code, char id[37])
{
	int64_t n = 0;
	crm_store_name_id(id, "branch", code);
	int err = crm_db_get_int(crm_store_db(st), &n, "SELECT count(*) FROM branches WHERE id = ?1", id);
	if (err < 0 || n > 0)
		return err;
	crm_field f[] = {{"code", CRM_TEXT(code)}, {"name", CRM_TEXT(code)}};
	return crm_write(st, "branches", id, f, 2);
}

int crm_hub_token(crm_store *st, const char *branch, const char *role, const char *name, char **out)
{
	crm_token t = {0};
	char bid[37], now[32];
	uint8_t secret[16];
	*out = NULL;
	if (!valid_code(branch))
		return CRM_ERR(CRM_EINVAL, "branch code '%s' must be 1-32 letters, digits, '-' or '_'", branch);
	if (strcmp(role, "laptop") && strcmp(role, "branch") && strcmp(role, "hq"))
		return CRM_ERR(CRM_EINVAL, "role must be laptop, branch or hq, not '%s'", role);
	int err = crm_random(secret, sizeof(secret));
	if (err == 0)
		err = crm_hub_url(st, t.hub, sizeof(t.hub));
	if (err == 0)
		err = crm_hub_pin(st, t.pin);
	if (err < 0)
		return err;
	crm_hex(t.secret, secret, sizeof(secret));
	snprintf(t.branch, sizeof(t.branch), "%s", branch);
	snprintf(t.role, sizeof(t.role), "%s", role);
	snprintf(t.name, sizeof(t.name), "%s", name && *name ? name : branch);
	now_text(now);
	sqlite3_stmt *q;
	if ((err = crm_db_begin(crm_store_db(st))) < 0)
		return err;
	err = ensure_branch(st, branch, bid);
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, "INSERT INTO crm_hub_tokens(secret, branch, role, name, "
				     "created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (err == 0) {
		sqlite3_bind_text(q, 1, t.secret, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, t.branch, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, t.role, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, t.name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, now, -1, SQLITE_STATIC);
		err = crm_db_step_done(crm_store_db(st), q);
	}
	if (err < 0) {
		crm_db_rollback(crm_store_db(st));
		return err;
	}
	err = crm_db_commit(crm_store_db(st));
	return err < 0 ? err : crm_token_encode(out, &t);
}

static int load_node(crm_store *st, const char *node, crm_hub_node *out)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT node, coalesce(name, ''), branch, role, state "
				 "FROM crm_hub_nodes WHERE node = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, node, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), q);
	if (err == 1) {
		snprintf(out->node, sizeof(out->node), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(out->branch, sizeof(out->branch), "%s", (const char *)sqlite3_column_text(q, 2));
		snprintf(out->role, sizeof(out->role), "%s", (const char *)sqlite3_column_text(q, 3));
		snprintf(out->state, sizeof(out->state), "%s", (const char *)sqlite3_column_text(q, 4));
		crm_store_name_id(out->branch_id, "branch", out->branch);
	}
	sqlite3_reset(q);
	if (err == 0)
		return CRM_ERR(CRM_EDENIED, "node %s is not enrolled with this hub", node);
	return err < 0 ? err : 0;
}

static json_t *key_list(crm_store *st)
{
	json_t *arr = json_array();
	sqlite3_stmt *q;
	if (crm_db_prepare(crm_store_db(st), &q, "SELECT node, pubkey, coalesce(name, '') FROM crm_keys "
			   "WHERE revoked = 0 ORDER BY node") < 0)
		return arr;
	while (crm_db_step(crm_store_db(st), q) == 1)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "node", sqlite3_column_text(q, 0),
						     "pubkey", sqlite3_column_text(q, 1), "name", sqlite3_column_text(q, 2)));
	sqlite3_reset(q);
	return arr;
}

/* The token row for secret, if unused: branch, role, name. */
static int take_token(crm_store *st, const char *secret, crm_hub_node *who)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT branch, role, coalesce(name, ''), used_by "
				 "FROM crm_hub_tokens WHERE secret = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, secret, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), q);
	int used = err == 1 && sqlite3_column_type(q, 3) != SQLITE_NULL;
	if (err == 1) {
		snprintf(who->branch, sizeof(who->branch), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(who->role, sizeof(who->role), "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(who->name, sizeof(who->name), "%s", (const char *)sqlite3_column_text(q, 2));
	}
	sqlite3_reset(q);
	if (err == 0 || used)
		return CRM_ERR(CRM_EDENIED, used ? "this join token was used already; ask for a new one"
						 : "unknown join token");
	return err < 0 ? err : 0;
}

/* Parse and check the enrollment request: key possession, token. */
static int enroll_check(crm_store *st, json_t *j, crm_hub_node *who, const char **line)
{
	const char *secret = json_string_value(json_object_get(j, "secret"));
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *sig = json_string_value(json_object_get(j, "signature"));
	uint8_t pub[CRM_PUBKEY_LEN], raw[CRM_SIG_LEN];
	*line = json_string_value(json_object_get(j, "pubkey"));
	if (!secret || !*line || !sig || strlen(sig) != 2 * CRM_SIG_LEN || strlen(secret) > 64)
		return CRM_ERR(CRM_EINVAL, "enrollment request is incomplete");
	int err = take_token(st, secret, who);
	if (err == 0)
		err = crm_pubkey_from_openssh(pub, *line);
	for (size_t i = 0; err == 0 && i < CRM_SIG_LEN; i++) {
		unsigned v;
		if (sscanf(sig + 2 * i, "%2x", &v) != 1)
			err = CRM_ERR(CRM_EINVAL, "enrollment signature is malformed");
		raw[i] = (uint8_t)v;
	}
	char msg[128];
	crm_key *k = NULL;
	snprintf(msg, sizeof(msg), "BRANCHLINE-ENROLL-1\n%s", secret);
	if (err == 0)
		err = crm_key_from_public(&k, pub);
	if (err == 0 && crm_verify_raw(k, raw, msg, strlen(msg)) < 0)
		err = CRM_ERR(CRM_EVERIFY, "enrollment signature does not match the key");
	crm_key_free(k);
	crm_node_id_of(who->node, pub);
	if (name && *name && strlen(name) < sizeof(who->name))
		snprintf(who->name, sizeof(who->name), "%s", name);
	return err;
}

static int enroll_write(crm_store *st, const crm_hub_node *who, const char *line, const char *secret)
{
	char now[32], uid[37], bid[37], node[33];
	sqlite3_stmt *q;
	now_text(now);
	int err = crm_db_prepare(crm_store_db(st), &q, "INSERT INTO crm_hub_nodes(node, pubkey, name, branch, role, "
				 "enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (err == 0) {
		sqlite3_bind_text(q, 1, who->node, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, line, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, who->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, who->branch, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, who->role, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 6, now, -1, SQLITE_STATIC);
		if ((err = crm_db_step_done(crm_store_db(st), q)) < 0)
			err = CRM_ERR(CRM_EEXISTS, "node %s is enrolled already", who->node);
	}
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, "UPDATE crm_hub_tokens SET used_by = ?2 WHERE secret = ?1");
	if (err == 0) {
		sqlite3_bind_text(q, 1, secret, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, who->node, -1, SQLITE_STATIC);
		err = crm_db_step_done(crm_store_db(st), q);
	}
	if (err == 0)
		err = crm_trust_add(st, line, who->name, "enrolled", node);
	if (err == 0)
		err = ensure_branch(st, who->branch, bid);
	crm_store_name_id(uid, "user", who->name);
	crm_field f[] = {{"login", CRM_TEXT(who->name)}, {"name", CRM_TEXT(who->name)}, {"branch_id", CRM_TEXT(bid)}};
	if (err == 0)
		err = crm_write(st, "users", uid, f, 3);
	return err;
}

int crm_hub_enroll(crm_store *st, const char *body, size_t len, json_t **answer, crm_hub_node *who)
{
	const char *line = NULL;
	*answer = NULL;
	memset(who, 0, sizeof(*who));
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return CRM_ERR(CRM_EINVAL, "enrollment request is not JSON");
	crm_db *db = crm_store_db(st);
	int err = crm_db_begin(db);
	if (err == 0)
		err = enroll_check(st, j, who, &line);
	if (err == 0)
		err = enroll_write(st, who, line, json_string_value(json_object_get(j, "secret")));
	if (err < 0)
		crm_db_rollback(db);
	else
		err = crm_db_commit(db);
	if (err == 0)
		err = crm_seal(st, NULL);   /* the new user row travels to everyone */
	json_decref(j);
	if (err == 0)
		*answer = json_pack("{s:s, s:s, s:s, s:o}", "hub_node", crm_store_node_id(st), "branch", who->branch,
				    "role", who->role, "keys", key_list(st));
	return err;
}

static int nonce_fresh(crm_store *st, const char *node, const char *nonce, uint64_t now)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "DELETE FROM crm_hub_nonces WHERE at < ?1");
	if (err == 0) {
		sqlite3_bind_int64(q, 1, (int64_t)(now - 2 * CRM_REQ_SKEW_MS));
		err = crm_db_step_done(crm_store_db(st), q);
	}
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, "INSERT OR IGNORE INTO crm_hub_nonces(node, nonce, at) VALUES (?1, ?2, ?3)");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, node, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)now);
	err = crm_db_step_done(crm_store_db(st), q);
	if (err == 0 && sqlite3_changes(crm_db_handle(crm_store_db(st))) == 0)
		return CRM_ERR(CRM_EVERIFY, "replayed request refused");
	return err;
}

int crm_hub_authenticate(crm_store *st, crm_hub_node *out, const char *node, const char *time_ms,
			 const char *nonce, const char *sig, const char *method, const char *path,
			 const void *body, size_t len)
{
	char *line = NULL;
	uint8_t pub[CRM_PUBKEY_LEN];
	if (!node || !time_ms || !nonce || !sig || strlen(node) != 32 || strlen(nonce) > 64)
		return CRM_ERR(CRM_EDENIED, "request is not signed by a node key");
	int err = load_node(st, node, out);
	if (err == 0 && strcmp(out->state, "revoked") == 0)
		err = CRM_ERR(CRM_EDENIED, "node %s was revoked by the administrator", node);
	uint64_t t = strtoull(time_ms, NULL, 10), now = crm_store_now_ms(st);
	if (err == 0 && (t + CRM_REQ_SKEW_MS < now || t > now + CRM_REQ_SKEW_MS))
		err = CRM_ERR(CRM_EVERIFY, "request time is %lld s off the hub's clock; check this computer's clock",
			      (long long)((int64_t)(t - now) / 1000));
	if (err == 0)
		err = crm_db_get_text(crm_store_db(st), &line, "SELECT pubkey FROM crm_hub_nodes WHERE node = ?1", node);
	if (err == 0)
		err = crm_pubkey_from_openssh(pub, line);
	free(line);
	if (err == 0)
		err = crm_req_verify(pub, sig, method, path, t, nonce, body, len);
	if (err == 0)
		err = nonce_fresh(st, node, nonce, now);
	return err;
}

/* ---------------------------------------------------------- authorization */

typedef enum scope { SCOPE_SHARED, SCOPE_BRANCH, SCOPE_CHILD, SCOPE_HQ } scope;

static scope table_scope(const char *table, const char **parent_col, const char **parent_table)
{
	static const char *const shared[] = {"companies", "contacts", "contact_companies", "channels",
					     "merges", "attachments"};
	static const char *const branch[] = {"deals", "leads", "activities", "tasks", "notes"};
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		if (strcmp(table, shared[i]) == 0)
			return SCOPE_SHARED;
	for (size_t i = 0; i < sizeof(branch) / sizeof(branch[0]); i++)
		if (strcmp(table, branch[i]) == 0)
			return SCOPE_BRANCH;
	*parent_col = strcmp(table, "stage_history") == 0 ? "deal_id" : "task_id";
	*parent_table = strcmp(table, "stage_history") == 0 ? "deals" : "tasks";
	if (strcmp(table, "stage_history") == 0 || strcmp(table, "task_history") == 0)
		return SCOPE_CHILD;
	return SCOPE_HQ;
}

/* The value of (table, row, col) given by the batch, else held by the hub. */
static int row_value(crm_store *st, const crm_batch *b, const char *table, const char *row, const char *col,
		     char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < b->count; i++) {
		const crm_change *c = &b->changes[i];
		if (strcmp(c->table, table) == 0 && strcmp(c->row_id, row) == 0 && strcmp(c->col, col) == 0)
			snprintf(out, cap, "%s", c->v.type == CRM_V_TEXT ? c->v.s : "");
	}
	if (*out)
		return 0;
	char sql[160], *v = NULL;
	snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM \"%s\" WHERE id = ?1", col, table);
	int err = crm_db_get_text(crm_store_db(st), &v, sql, row);
	if (err == 0 && v)
		snprintf(out, cap, "%s", v);
	free(v);
	crm_error_clear();
	return err == CRM_ENOTFOUND ? 0 : err;
}

/* Design note 4: was (table, row) moved away from who's branch after who's
 * last pull?  1 yes, 0 no. */
static int moved_unseen(crm_store *st, const crm_hub_node *who, const char *table, const char *row)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT count(*) FROM crm_hub_moves m, crm_hub_nodes n "
				 "WHERE m.tbl = ?1 AND m.row_id = ?2 AND m.from_branch = ?3 AND n.node = ?4 "
				 "AND m.after_lseq >= n.pulled");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, row, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, who->branch_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, who->node, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), q);
	int n = err == 1 ? sqlite3_column_int(q, 0) : 0;
	sqlite3_reset(q);
	return err < 0 ? err : n > 0;
}

/* An hq batch moving branch-scoped records: remember where from (note 4). */
static int record_moves(crm_store *st, const crm_batch *b)
{
	static const crm_batch none;
	int err = 0;
	for (size_t i = 0; err == 0 && i < b->count; i++) {
		const crm_change *c = &b->changes[i];
		const char *pcol, *ptable;
		char from[64];
		if (strcmp(c->col, "branch_id") || table_scope(c->table, &pcol, &ptable) != SCOPE_BRANCH)
			continue;
		err = row_value(st, &none, c->table, c->row_id, "branch_id", from, sizeof(from));
		if (err < 0 || !*from || (c->v.type == CRM_V_TEXT && strcmp(from, c->v.s) == 0))
			continue;
		sqlite3_stmt *q;
		err = crm_db_prepare(crm_store_db(st), &q, "INSERT OR REPLACE INTO crm_hub_moves(tbl, row_id, "
				     "from_branch, after_lseq) VALUES (?1, ?2, ?3, "
				     "(SELECT coalesce(max(lseq), 0) FROM crm_applied))");
		if (err == 0) {
			sqlite3_bind_text(q, 1, c->table, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, c->row_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 3, from, -1, SQLITE_STATIC);
			err = crm_db_step_done(crm_store_db(st), q);
		}
	}
	return err;
}

static int authorize_change(crm_store *st, const crm_hub_node *who, const crm_batch *b, const crm_change *c)
{
	const char *pcol = NULL, *ptable = NULL;
	char branch[64], parent[64];
	scope sc = table_scope(c->table, &pcol, &ptable);
	if (sc == SCOPE_SHARED)
		return 0;
	if (sc == SCOPE_HQ)
		return CRM_ERR(CRM_EDENIED, "a %s node may not change %s (only headquarters may)", who->role, c->table);
	int err = 0;
	if (sc == SCOPE_CHILD) {
		err = row_value(st, b, c->table, c->row_id, pcol, parent, sizeof(parent));
		if (err == 0)
			err = row_value(st, b, ptable, parent, "branch_id", branch, sizeof(branch));
	} else {
		err = row_value(st, b, c->table, c->row_id, "branch_id", branch, sizeof(branch));
	}
	if (err == 0 && strcmp(branch, who->branch_id) != 0 && strcmp(c->col, "branch_id") != 0 &&
	    (err = moved_unseen(st, who, sc == SCOPE_CHILD ? ptable : c->table, sc == SCOPE_CHILD ? parent : c->row_id)) == 1)
		return 0;   /* an edit made before the node saw the move (note 4) */
	if (err == 0 && strcmp(branch, who->branch_id) != 0)
		err = CRM_ERR(CRM_EDENIED, "a %s node of branch %s may not change %s %s of another branch",
			      who->role, who->branch, c->table, c->row_id);
	return err;
}

static int authorize(void *ctx, crm_store *st, const char *author, const crm_batch *b)
{
	const crm_hub_node *who = ctx;
	if (strcmp(author, who->node) != 0)
		return CRM_ERR(CRM_EDENIED, "a node pushes only its own batches (got one of node %s)", author);
	if (strcmp(who->role, "hq") == 0)
		return record_moves(st, b);
	for (size_t i = 0; i < b->count; i++) {
		int err = authorize_change(st, who, b, &b->changes[i]);
		if (err < 0)
			return CRM_ERR(err, "batch %llu refused: %s", (unsigned long long)b->seq, crm_error_last());
	}
	return 0;
}

/* ------------------------------------------------------------- push, pull */

static int set_node_state(crm_store *st, const char *node, const char *state, const char *reason)
{
	char now[32];
	sqlite3_stmt *q;
	now_text(now);
	int err = crm_db_prepare(crm_store_db(st), &q, "UPDATE crm_hub_nodes SET state = coalesce(?2, state), "
				 "reason = ?3, last_sync = ?4 WHERE node = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, node, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, now, -1, SQLITE_STATIC);
	return crm_db_step_done(crm_store_db(st), q);
}

/* Each push adds a small pack to the hub's log: merge them now and then
 * (changelog.h), so lookups and new files stay fast.  A failure here only
 * costs speed; the push itself is done. */
static void compact_log(crm_store *st)
{
	static unsigned pushes;
	crm_log *log;
	if (++pushes % 16)
		return;   /* looking costs a directory listing */
	int n = crm_store_log(st, &log);
	if (n == 0)
		n = crm_log_compact(log, 64);
	if (n > 0)
		fprintf(stderr, "crm-syncd: merged %d small packs of the change log into one\n", n);
	else if (n < 0)
		fprintf(stderr, "crm-syncd: merging the change log's packs failed: %s\n", crm_error_last());
	crm_error_clear();
}

int crm_hub_push(crm_store *st, const crm_hub_node *who, const uint8_t *body, size_t len, json_t **answer)
{
	crm_apply_report rep;
	crm_apply_opts opts = {.authorize = authorize, .ctx = (void *)who};
	*answer = NULL;
	if (strcmp(who->state, "forked") == 0)
		return CRM_ERR(CRM_EFORK, "node %s is quarantined: its change log forked (restored from a backup or "
			       "cloned?); re-enroll it under a new id — see docs/OPERATOR.md", who->node);
	int err = crm_import_buffer(st, body, len, &opts, &rep, NULL);
	if (err == 0 && rep.forks > 0) {
		err = CRM_ERR(CRM_EFORK, "node %s forked: it sent a different batch under a number the hub already "
			      "holds; the node is quarantined and nothing more from it is applied", who->node);
		set_node_state(st, who->node, "forked", crm_error_last());
	} else if (err < 0) {
		char reason[1024];
		snprintf(reason, sizeof(reason), "%s", crm_error_last());
		set_node_state(st, who->node, NULL, reason);
		err = CRM_ERR(err, "%s", reason);
	} else {
		set_node_state(st, who->node, NULL, NULL);
		compact_log(st);
		*answer = json_pack("{s:I, s:I, s:I}", "applied", (json_int_t)rep.applied, "known",
				    (json_int_t)rep.known, "changes", (json_int_t)rep.changes);
	}
	return err;
}

int crm_hub_pull(crm_store *st, const crm_hub_node *who, uint64_t since, size_t max, uint8_t **out,
		 size_t *len, int *more)
{
	uint64_t cursor;
	size_t batches;
	*out = NULL;
	if (strcmp(who->state, "forked") == 0)
		return CRM_ERR(CRM_EFORK, "node %s is quarantined: its change log forked; re-enroll it", who->node);
	int err = crm_seal(st, NULL);   /* rows the hub wrote itself travel too */
	if (err == 0)
		err = crm_export_buffer(st, since, 0, who->node, max, out, len, &cursor, &batches, more);
	if (err == 0)
		set_node_state(st, who->node, NULL, NULL);
	sqlite3_stmt *q;
	if (err == 0 && crm_db_prepare(crm_store_db(st), &q, "UPDATE crm_hub_nodes SET pulled = ?2 WHERE node = ?1 "
				       "AND pulled < ?2") == 0) {
		sqlite3_bind_text(q, 1, who->node, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, (int64_t)since);   /* the node applied everything up to here */
		err = crm_db_step_done(crm_store_db(st), q);
	}
	return err;
}

int crm_hub_snapshot(crm_store *st, const crm_hub_node *who, const char *path, uint64_t *cursor, uint64_t *bytes)
{
	if (who && strcmp(who->state, "forked") == 0)
		return CRM_ERR(CRM_EFORK, "node %s is quarantined: its change log forked; re-enroll it", who->node);
	int err = crm_snapshot_make(st, path, cursor, bytes);
	if (err == 0 && who)
		set_node_state(st, who->node, NULL, NULL);
	return err;
}

int crm_hub_nodes(crm_store *st, json_t **out)
{
	sqlite3_stmt *q;
	*out = NULL;
	int err = crm_db_prepare(crm_store_db(st), &q,
		"SELECT n.node AS id, n.name, n.branch, n.role, n.state, n.enrolled_at, n.last_sync, n.reason, "
		"coalesce(h.seq, 0) AS batches FROM crm_hub_nodes n LEFT JOIN crm_heads h ON h.node = n.node "
		"ORDER BY n.branch, n.name");
	if (err < 0)
		return err;
	json_t *arr = json_array();
	while ((err = crm_db_step(crm_store_db(st), q)) == 1) {
		json_t *o = json_object();
		for (int i = 0; i < sqlite3_column_count(q); i++) {
			const unsigned char *v = sqlite3_column_text(q, i);
			json_object_set_new(o, sqlite3_column_name(q, i),
					    sqlite3_column_type(q, i) == SQLITE_INTEGER ? json_integer(sqlite3_column_int64(q, i))
					    : v ? json_string((const char *)v) : json_null());
		}
		json_array_append_new(arr, o);
	}
	sqlite3_reset(q);
	*out = arr;
	return err < 0 ? err : 0;
}

int crm_hub_revoke(crm_store *st, const char *node)
{
	crm_hub_node who;
	sqlite3_stmt *q;
	int err = load_node(st, node, &who);
	if (err < 0)
		return CRM_ERR(CRM_ENOTFOUND, "no enrolled node %s (see 'crm-syncd nodes')", node);
	if ((err = crm_db_begin(crm_store_db(st))) < 0)
		return err;
	err = set_node_state(st, node, "revoked", "revoked by the administrator");
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, "UPDATE crm_keys SET revoked = 1 WHERE node = ?1");
	if (err == 0) {
		sqlite3_bind_text(q, 1, node, -1, SQLITE_STATIC);
		err = crm_db_step_done(crm_store_db(st), q);
	}
	if (err < 0) {
		crm_db_rollback(crm_store_db(st));
		return err;
	}
	return crm_db_commit(crm_store_db(st));
}

int crm_hub_allowed_signers(crm_store *st, char **out)
{
	sqlite3_stmt *q;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int err = buf ? crm_db_prepare(crm_store_db(st), &q, "SELECT node, pubkey FROM crm_keys ORDER BY node")
		      : CRM_ERR(CRM_ENOMEM, "out of memory");
	while (err == 0 && (err = crm_db_step(crm_store_db(st), q)) == 1) {
		const char *node = (const char *)sqlite3_column_text(q, 0), *key = (const char *)sqlite3_column_text(q, 1);
		size_t need = strlen(node) + strlen(key) + 32;
		if (len + need >= cap) {
			char *n = realloc(buf, cap = (cap + need) * 2);
			if (!n) {
				err = CRM_ERR(CRM_ENOMEM, "out of memory");
				break;
			}
			buf = n;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s namespaces=\"git\" %s\n", node, key);
		err = 0;
	}
	if (err >= 0 && buf)
		sqlite3_reset(q);
	if (err < 0) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}
