/*
 * apply.c — verify received batches and apply them (DESIGN.md §7).
 *
 * Design notes
 *  1. Two passes.  Verify walks every chain back from its head to a batch
 *     this replica already holds (or to batch 1) and checks, for every
 *     commit: signed by the trusted, unrevoked key of the node its trailer
 *     names; payload SHA-256 equals the trailer; payload decodes and names the
 *     same node and batch; the parent is the same node's previous batch.
 *     Only when every commit of every chain passed does apply start.
 *  2. Apply is one SQLite transaction for all chains: every change goes to the
 *     merge (write.c → conflict/), then crm_applied and crm_heads record the
 *     batch.  A batch already in crm_applied is a no-op, so importing the same
 *     data twice changes nothing.
 *  3. A fork — the same node and batch number with a different commit — puts
 *     that node in quarantine (crm_forks): its commits are kept (refs/forks/)
 *     but nothing more of it is applied until an operator decides.
 */
#include "seal.h"
#include "codec.h"
#include "error.h"
#include "merge.h"
#include "write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAIN_MAX 10000000

typedef struct link {
	char oid[CRM_OID_HEX + 1];
	char node[33];
	uint64_t seq;
} link;

typedef struct plan {
	link *links;          /* to apply, each chain in ascending seq */
	size_t count, cap;
	crm_apply_report *rep;
	const crm_apply_opts *opts;
} plan;

static int plan_push(plan *p, const link *l)
{
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		link *n = realloc(p->links, cap * sizeof(*n));
		if (!n)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		p->links = n;
		p->cap = cap;
	}
	p->links[p->count++] = *l;
	return 0;
}

/* The trusted key of node; CRM_EDENIED with advice if unknown or revoked. */
static int trusted_key(crm_store *st, const char *node, uint8_t pub[CRM_PUBKEY_LEN])
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT pubkey, revoked FROM crm_keys WHERE node = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, node, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), q);
	int found = err == 1;
	int revoked = found && sqlite3_column_int(q, 1);
	if (found && !revoked)
		err = crm_pubkey_from_openssh(pub, (const char *)sqlite3_column_text(q, 0));
	sqlite3_reset(q);
	if (err == 0 && !found)
		return CRM_ERR(CRM_EDENIED, "changes signed by unknown node %s; if you trust it, add its key "
			       "with 'crm trust add \"ssh-ed25519 ...\"' (from 'crm whoami' on that node)", node);
	if (revoked)
		return CRM_ERR(CRM_EDENIED, "changes signed by node %s, whose key was revoked", node);
	return err < 0 ? err : 0;
}

/* Check one commit's trailers, signature and payload; fill l. */
static int verify_entry(crm_store *st, const crm_log_entry *e, link *l, const crm_apply_opts *opts)
{
	char seq[24], sha[80], hex[65];
	uint8_t pub[CRM_PUBKEY_LEN], signer[CRM_PUBKEY_LEN], d[CRM_SHA256_LEN];
	if (crm_log_trailer(e->message, "Node", l->node, sizeof(l->node)) < 0 ||
	    crm_log_trailer(e->message, "Batch", seq, sizeof(seq)) < 0 ||
	    crm_log_trailer(e->message, "Payload-SHA256", sha, sizeof(sha)) < 0 || strlen(l->node) != 32)
		return CRM_ERR(CRM_EVERIFY, "commit %s is not a change batch (trailers missing)", e->oid);
	char *end;
	l->seq = strtoull(seq, &end, 10);
	if (*end || l->seq == 0)
		return CRM_ERR(CRM_EVERIFY, "commit %s: bad batch number '%s'", e->oid, seq);
	snprintf(l->oid, sizeof(l->oid), "%s", e->oid);
	if (!e->signature)
		return CRM_ERR(CRM_EVERIFY, "batch %llu of node %s is not signed", (unsigned long long)l->seq, l->node);
	int err = trusted_key(st, l->node, pub);
	if (err < 0)
		return err;
	err = crm_sshsig_verify(signer, e->signature, "git", e->signed_data, e->signed_len);
	if (err < 0 || memcmp(signer, pub, sizeof(pub)) != 0)
		return CRM_ERR(CRM_EVERIFY, "batch %llu of node %s: bad signature (%s)", (unsigned long long)l->seq,
			       l->node, err < 0 ? crm_error_last() : "signed by another key");
	crm_sha256(d, e->payload, e->payload_len);
	crm_hex(hex, d, sizeof(d));
	if (strcmp(hex, sha) != 0)
		return CRM_ERR(CRM_EVERIFY, "batch %llu of node %s: payload does not match its SHA-256",
			       (unsigned long long)l->seq, l->node);
	crm_batch *b = NULL;
	err = crm_batch_decode(&b, e->payload, e->payload_len);
	if (err == 0 && (strcmp(b->node, l->node) != 0 || b->seq != l->seq))
		err = CRM_ERR(CRM_EVERIFY, "batch %llu of node %s: payload names another batch",
			      (unsigned long long)l->seq, l->node);
	if (err == 0 && opts && opts->authorize)
		err = opts->authorize(opts->ctx, st, l->node, b);
	crm_batch_free(b);
	return err;
}

/* The commit we hold for (node, seq), if any. */
static int applied_oid(crm_store *st, const char *node, uint64_t seq, char oid[CRM_OID_HEX + 1])
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT oid FROM crm_applied WHERE node = ?1 AND seq = ?2");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)seq);
	err = crm_db_step(crm_store_db(st), q);
	if (err == 1)
		snprintf(oid, CRM_OID_HEX + 1, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_reset(q);
	return err;   /* 1 found, 0 not, <0 error */
}

static int quarantined(crm_store *st, const char *node)
{
	int64_t n = 0;
	return crm_db_get_int(crm_store_db(st), &n, "SELECT count(*) FROM crm_forks WHERE node = ?1", node) == 0 && n > 0;
}

static int known_commit(crm_store *st, const char *oid, link *out)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT node, seq FROM crm_applied WHERE oid = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, oid, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), q);
	if (err == 1) {
		snprintf(out->node, sizeof(out->node), "%s", (const char *)sqlite3_column_text(q, 0));
		out->seq = (uint64_t)sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	return err;
}

static int record_fork(crm_store *st, crm_log *log, const link *l, const char *known)
{
	char now[32];
	time_t t = time(NULL);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "INSERT OR IGNORE INTO crm_forks(node, seq, known_oid, "
				 "other_oid, detected_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, l->node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)l->seq);
	sqlite3_bind_text(q, 3, known, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, l->oid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, now, -1, SQLITE_STATIC);
	err = crm_db_step_done(crm_store_db(st), q);
	return err < 0 ? err : crm_log_keep_fork(log, l->node, l->oid);
}

/* Record a fork in its own transaction (so the ref is written under the lock). */
static int record_fork_tx(crm_store *st, crm_log *log, const link *l, const char *known)
{
	int err = crm_db_begin(crm_store_db(st));
	if (err < 0)
		return err;
	err = record_fork(st, log, l, known);
	if (err < 0) {
		crm_db_rollback(crm_store_db(st));
		return err;
	}
	return crm_db_commit(crm_store_db(st));
}

static int in_plan(const plan *p, const char *oid)
{
	for (size_t i = 0; i < p->count; i++)
		if (strcmp(p->links[i].oid, oid) == 0)
			return 1;
	return 0;
}

/* One step of a chain walk: 1 = go on to the parent, 0 = chain done, <0 error. */
static int walk_step(crm_store *st, crm_log *log, plan *p, char *cur, link *expect, size_t start)
{
	link l = {0}, k = {0};
	crm_log_entry e;
	int err = known_commit(st, cur, &k);
	if (err == 1 || in_plan(p, cur)) {
		if (err == 1 && expect->seq && (strcmp(k.node, expect->node) != 0 || k.seq != expect->seq))
			return CRM_ERR(CRM_EVERIFY, "batch chain of node %s is broken at batch %llu", expect->node,
				       (unsigned long long)expect->seq + 1);
		return 0;
	}
	if (err < 0 || (err = crm_log_read(log, &e, cur)) < 0) {
		if (err == CRM_ENOTFOUND && expect->seq)
			return CRM_ERR(CRM_ENOTFOUND, "batches up to %llu of node %s are missing; import an earlier "
				       "export of that node first", (unsigned long long)expect->seq, expect->node);
		return err;
	}
	err = verify_entry(st, &e, &l, p->opts);
	if (err == 0 && expect->seq && (strcmp(l.node, expect->node) != 0 || l.seq != expect->seq))
		err = CRM_ERR(CRM_EVERIFY, "batch chain of node %s is broken at batch %llu", expect->node,
			      (unsigned long long)expect->seq + 1);
	if (err == 0 && (l.seq == 1) != (e.parent_count == 0))
		err = CRM_ERR(CRM_EVERIFY, "batch %llu of node %s has a wrong parent", (unsigned long long)l.seq, l.node);
	char known[CRM_OID_HEX + 1];
	int have = err == 0 ? applied_oid(st, l.node, l.seq, known) : 0;
	if (err == 0 && (have == 1 || quarantined(st, l.node))) {
		p->count = start;    /* drop this node's chain from the plan */
		p->rep->skipped++;
		if (have == 1) {
			p->rep->forks++;
			err = record_fork_tx(st, log, &l, known);
		}
		crm_log_entry_dispose(&e);
		return err < 0 ? err : 0;
	}
	if (err == 0)
		err = plan_push(p, &l);
	if (err == 0 && e.parent_count == 1) {
		snprintf(cur, CRM_OID_HEX + 1, "%s", e.parent);
		snprintf(expect->node, sizeof(expect->node), "%s", l.node);
		expect->seq = l.seq - 1;
	}
	int more = e.parent_count == 1;
	crm_log_entry_dispose(&e);
	return err < 0 ? err : more;
}

static int walk_chain(crm_store *st, crm_log *log, plan *p, const char *head)
{
	char cur[CRM_OID_HEX + 1];
	link expect = {0};
	size_t start = p->count, skipped = p->rep->skipped;
	snprintf(cur, sizeof(cur), "%s", head);
	int rc;
	for (size_t steps = 0; (rc = walk_step(st, log, p, cur, &expect, start)) == 1; steps++)
		if (steps > CHAIN_MAX)
			return CRM_ERR(CRM_ELIMIT, "batch chain longer than %d", CHAIN_MAX);
	if (rc < 0)
		return rc;
	if (p->count == start && p->rep->skipped == skipped)
		p->rep->known++;
	for (size_t i = start, j = p->count; i + 1 < j; i++, j--) {   /* oldest first */
		link t = p->links[i];
		p->links[i] = p->links[j - 1];
		p->links[j - 1] = t;
	}
	return 0;
}

static int record_applied(crm_store *st, const link *l, size_t size)
{
	crm_db *db = crm_store_db(st);
	sqlite3_stmt *q;
	int err = crm_db_prepare(db, &q, "INSERT INTO crm_applied(oid, node, seq, size) VALUES (?1, ?2, ?3, ?4)");
	if (err == 0) {
		sqlite3_bind_text(q, 1, l->oid, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, l->node, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, (int64_t)l->seq);
		sqlite3_bind_int64(q, 4, (int64_t)size);
		err = crm_db_step_done(db, q);
	}
	if (err == 0)
		err = crm_db_prepare(db, &q, "INSERT INTO crm_heads(node, seq, oid) VALUES (?1, ?2, ?3) "
				     "ON CONFLICT(node) DO UPDATE SET seq = excluded.seq, oid = excluded.oid "
				     "WHERE excluded.seq > crm_heads.seq");
	if (err == 0) {
		sqlite3_bind_text(q, 1, l->node, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, (int64_t)l->seq);
		sqlite3_bind_text(q, 3, l->oid, -1, SQLITE_STATIC);
		err = crm_db_step_done(db, q);
	}
	if (err == 0)
		err = crm_store_refs_touch(st, l->node);   /* its ref follows in crm_log_repair_refs */
	return err;
}

/* Merge every change of one verified batch. */
static int apply_link(crm_store *st, crm_log *log, const link *l, crm_apply_report *rep)
{
	crm_log_entry e;
	crm_batch *b = NULL;
	int err = crm_log_read(log, &e, l->oid);
	if (err < 0)
		return err;
	err = crm_batch_decode(&b, e.payload, e.payload_len);
	uint64_t max_hlc = 0;
	size_t won = 0;
	if (err == 0)
		err = crm_apply_changes(st, b->changes, b->count, l->node, &won);
	for (size_t i = 0; err == 0 && i < b->count; i++)
		if (b->changes[i].hlc > max_hlc)
			max_hlc = b->changes[i].hlc;
	if (err == 0) {
		rep->changes += b->count;
		rep->won += won;
	}
	if (err == 0)
		err = crm_store_hlc_recv(st, max_hlc);
	if (err == 0)
		err = record_applied(st, l, e.payload_len);
	crm_batch_free(b);
	crm_log_entry_dispose(&e);
	return err;
}

int crm_apply_heads(crm_store *st, char *const *heads, size_t count, crm_apply_report *rep)
{
	return crm_apply_heads_opts(st, heads, count, NULL, rep);
}

int crm_apply_heads_opts(crm_store *st, char *const *heads, size_t count, const crm_apply_opts *opts,
			 crm_apply_report *rep)
{
	crm_log *log;
	plan p = {.rep = rep, .opts = opts};
	memset(rep, 0, sizeof(*rep));
	int err = crm_store_log(st, &log);
	for (size_t i = 0; err == 0 && i < count; i++)
		err = walk_chain(st, log, &p, heads[i]);
	crm_db *db = crm_store_db(st);
	int cursor = opts && opts->cursor_key;
	/* Always a write transaction, even for a no-op: refs left behind by a
	 * killed process are repaired under the lock. */
	if (err == 0 && (err = crm_db_begin(db)) == 0) {
		for (size_t i = 0; err == 0 && i < p.count; i++)
			err = apply_link(st, log, &p.links[i], rep);
		if (err == 0 && p.count > 0)
			err = crm_merge_refresh(st);   /* duplicates created apart meet here */
		if (err == 0 && cursor)
			err = crm_meta_set(st, opts->cursor_key, opts->cursor_value);
		if (err == 0)
			err = crm_log_repair_refs(st);   /* under the write lock (changelog.c) */
		if (err < 0)
			crm_db_rollback(db);
		else
			err = crm_db_commit(db);
	}
	if (err == 0)
		rep->applied = p.count;
	free(p.links);
	return err;
}

int crm_trust_add(crm_store *st, const char *line, const char *name, const char *source, char node_out[33])
{
	uint8_t pub[CRM_PUBKEY_LEN];
	char *canon = NULL;
	int err = crm_pubkey_from_openssh(pub, line);
	if (err < 0)
		return CRM_ERR(CRM_EINVAL, "not an ssh-ed25519 public key line: %s", crm_error_last());
	crm_node_id_of(node_out, pub);
	if ((err = crm_pubkey_to_openssh(&canon, pub, NULL)) < 0)
		return err;
	sqlite3_stmt *q;
	err = crm_db_prepare(crm_store_db(st), &q, "INSERT INTO crm_keys(node, pubkey, name, source, added_at) "
			     "VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) ON CONFLICT(node) DO UPDATE "
			     "SET name = coalesce(excluded.name, crm_keys.name)");
	if (err == 0) {
		sqlite3_bind_text(q, 1, node_out, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, canon, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, source, -1, SQLITE_STATIC);
		err = crm_db_step_done(crm_store_db(st), q);
	}
	free(canon);
	return err;
}
