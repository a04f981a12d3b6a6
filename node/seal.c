/*
 * seal.c — pending changes → signed batches of the change log.
 *
 * Design notes
 *  1. A batch is a run of pending rows in seq order whose estimated payload
 *     stays under CRM_SEAL_MAX_PAYLOAD.  Inside a batch, writes to the same
 *     field are coalesced to the last one; its prev_hlc is the newest clock it
 *     replaced that was not the batch's own earlier write to that field, so
 *     concurrency stays visible after coalescing.  Deal stages are not
 *     coalesced: the stage register is decided over every stage write, and a
 *     replica must not decide over writes the others never receive.
 *  2. States of a pending row: pending → (pack written) → sealed (row deleted,
 *     crm_heads/crm_applied updated, one SQLite transaction) → ref updated.
 *     A crash before the transaction leaves the rows pending and the objects
 *     unreferenced; sealing again makes byte-identical commits (content and
 *     Ed25519 signatures are deterministic).  A crash after it leaves a stale
 *     ref, which crm_log_repair_refs fixes from crm_heads.
 */
#include "seal.h"
#include "codec.h"
#include "error.h"
#include "hlc.h"
#include "write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sealed {
	char oid[CRM_OID_HEX + 1];
	uint64_t seq;
	size_t size;
} sealed;

typedef struct seal_state {
	crm_store *st;
	crm_log *log;
	uint64_t seq;                  /* last sealed batch sequence of this node */
	char head[CRM_OID_HEX + 1];    /* its commit, "" if none */
	sealed *done;
	size_t done_count;
	int64_t last_pending;          /* highest pending seq sealed */
} seal_state;

/* Set node's ref to oid if it is not there already. */
static int repair_ref(crm_log *log, const char *node, const char *oid)
{
	char cur[CRM_OID_HEX + 1];
	if (crm_log_get_ref(log, node, cur) == 0 && strcmp(cur, oid) == 0)
		return 0;
	if (!crm_log_has(log, oid))
		return 0;   /* known from a snapshot, not held: no ref (snapshot.c) */
	return crm_log_set_ref(log, node, oid);
}

int crm_log_repair_refs(crm_store *st)
{
	crm_log *log;
	sqlite3_stmt *q;
	size_t touched = 0;
	const char (*nodes)[33] = crm_store_refs_touched(st, &touched);
	/* Refs go stale when a process dies between its commit and its ref
	 * update, or a transaction that moved refs rolls back: then every ref is
	 * checked.  Otherwise only the chains this process moved since the last
	 * check: a long-running hub does not read every node's ref per request. */
	int all = !crm_store_refs_unchanged(st, 0);
	if (!all && touched == 0)
		return 0;
	int err = crm_store_log(st, &log);
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, all ? "SELECT node, oid FROM crm_heads"
					       : "SELECT node, oid FROM crm_heads WHERE node = ?1");
	for (size_t i = 0; err == 0 && i < (all ? 1 : touched); i++) {
		if (!all)
			sqlite3_bind_text(q, 1, nodes[i], -1, SQLITE_STATIC);
		while (err == 0 && (err = crm_db_step(crm_store_db(st), q)) == 1)
			err = repair_ref(log, (const char *)sqlite3_column_text(q, 0),
					 (const char *)sqlite3_column_text(q, 1));
		sqlite3_reset(q);
	}
	if (err < 0)
		return err;
	crm_error_clear();
	crm_store_refs_unchanged(st, 1);
	return 0;
}

/* The highest pending seq such that rows (after, hi] fit one batch; 0 if none. */
static int batch_end(seal_state *s, int64_t after, int64_t *hi)
{
	sqlite3_stmt *q;
	*hi = 0;
	int err = crm_db_prepare(crm_store_db(s->st), &q,
				 "SELECT seq, length(CAST(value AS BLOB)) + length(col) + 24 FROM crm_pending "
				 "WHERE seq > ?1 ORDER BY seq");
	if (err < 0)
		return err;
	sqlite3_bind_int64(q, 1, after);
	size_t total = 0;
	while ((err = crm_db_step(crm_store_db(s->st), q)) == 1) {
		total += (size_t)sqlite3_column_int64(q, 1);
		if (total > CRM_SEAL_MAX_PAYLOAD && *hi > 0)
			break;
		*hi = sqlite3_column_int64(q, 0);
	}
	sqlite3_reset(q);
	return err < 0 ? err : 0;
}

static crm_value column_value(sqlite3_stmt *q, int i)
{
	crm_value v = CRM_NULLV;
	switch (sqlite3_column_type(q, i)) {
	case SQLITE_INTEGER:
		v.type = CRM_V_INT;
		v.i = sqlite3_column_int64(q, i);
		break;
	case SQLITE_FLOAT:
		v.type = CRM_V_REAL;
		v.r = sqlite3_column_double(q, i);
		break;
	case SQLITE_TEXT:
		v.type = CRM_V_TEXT;
		v.s = (const char *)sqlite3_column_text(q, i);
		v.len = (size_t)sqlite3_column_bytes(q, i);
		break;
	case SQLITE_BLOB:
		v.type = CRM_V_BLOB;
		v.s = (const char *)sqlite3_column_blob(q, i);
		v.len = (size_t)sqlite3_column_bytes(q, i);
		break;
	}
	return v;
}

/* One coalesced field being collected (strings owned). */
typedef struct candidate {
	char *table, *row_id, *col;
	crm_value v;
	char *vbuf;
	uint64_t hlc, prev, last_hlc;
	int set;
} candidate;

static void cand_clear(candidate *c)
{
	free(c->table);
	free(c->row_id);
	free(c->col);
	free(c->vbuf);
	memset(c, 0, sizeof(*c));
}

static char *dup_str(const char *s) { return s ? strdup(s) : NULL; }

static int cand_take(candidate *c, sqlite3_stmt *q)
{
	crm_value v = column_value(q, 3);
	free(c->vbuf);
	c->vbuf = NULL;
	if (v.type == CRM_V_TEXT || v.type == CRM_V_BLOB) {
		if (!(c->vbuf = malloc(v.len + 1)))
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		memcpy(c->vbuf, v.s, v.len);
		c->vbuf[v.len] = '\0';
		v.s = c->vbuf;
	}
	c->v = v;
	c->hlc = (uint64_t)sqlite3_column_int64(q, 4);
	return 0;
}

/* Summary of a batch for the commit message. */
typedef struct summary {
	char tables[32][64];
	size_t rows[32], fields[32];
	size_t count, changes;
	uint64_t lo, hi;
	char last_row[40];
} summary;

static void summarize(summary *m, const candidate *c)
{
	size_t i = 0;
	while (i < m->count && strcmp(m->tables[i], c->table) != 0)
		i++;
	if (i == m->count && m->count < 32)
		snprintf(m->tables[m->count++], sizeof(m->tables[0]), "%s", c->table);
	if (i < m->count) {
		m->fields[i]++;
		if (strcmp(m->last_row, c->row_id) != 0)
			m->rows[i]++;
	}
	snprintf(m->last_row, sizeof(m->last_row), "%.39s", c->row_id);
	m->changes++;
	m->lo = m->lo && m->lo < c->hlc ? m->lo : c->hlc;
	m->hi = m->hi > c->hlc ? m->hi : c->hlc;
}

typedef struct blobs {
	char *oids[1000];
	size_t count;
} blobs;

static int emit(crm_batch_enc *enc, summary *m, blobs *b, candidate *c, crm_log *log)
{
	if (!c->set)
		return 0;
	crm_change ch = {c->table, c->row_id, c->col, c->v, c->hlc, c->prev};
	int err = crm_batch_enc_add(enc, &ch);
	summarize(m, c);
	if (err == 0 && strcmp(c->table, "attachments") == 0 && strcmp(c->col, "blob") == 0 &&
	    c->v.type == CRM_V_TEXT && b->count < 1000 && crm_log_has(log, c->v.s))
		b->oids[b->count++] = dup_str(c->v.s);
	cand_clear(c);
	return err;
}

/* Encode pending rows (lo, hi] coalesced per field. */
static int encode_range(seal_state *s, crm_batch_enc *enc, summary *m, blobs *b, int64_t lo, int64_t hi)
{
	sqlite3_stmt *q;
	candidate c = {0};
	int err = crm_db_prepare(crm_store_db(s->st), &q,
				 "SELECT tbl, row_id, col, value, hlc, prev_hlc FROM crm_pending "
				 "WHERE seq > ?1 AND seq <= ?2 ORDER BY row_id, col, seq");
	if (err < 0)
		return err;
	sqlite3_bind_int64(q, 1, lo);
	sqlite3_bind_int64(q, 2, hi);
	while (err == 0 && (err = crm_db_step(crm_store_db(s->st), q)) == 1) {
		const char *row = (const char *)sqlite3_column_text(q, 1);
		const char *col = (const char *)sqlite3_column_text(q, 2);
		uint64_t prev = (uint64_t)sqlite3_column_int64(q, 5);
		err = 0;
		/* Every stage write travels (the register needs the whole set);
		 * other fields coalesce to their last value. */
		int keep_all = c.set && strcmp(c.col, "stage_id") == 0 && strcmp(c.table, "deals") == 0;
		if (c.set && (keep_all || strcmp(c.row_id, row) != 0 || strcmp(c.col, col) != 0))
			err = emit(enc, m, b, &c, s->log);
		if (err == 0 && !c.set) {
			c.table = dup_str((const char *)sqlite3_column_text(q, 0));
			c.row_id = dup_str(row);
			c.col = dup_str(col);
			c.set = 1;
			c.prev = prev;
		} else if (err == 0 && prev != c.hlc && prev > c.prev) {
			c.prev = prev;   /* replaced someone else's write, not our own earlier one */
		}
		if (err == 0)
			err = cand_take(&c, q);
	}
	sqlite3_reset(q);
	if (err == 0)
		err = emit(enc, m, b, &c, s->log);
	cand_clear(&c);
	return err;
}

static void build_message(char *out, size_t cap, const summary *m, const char *name,
			  const char *node, uint64_t seq, const char *sha_hex)
{
	char lo[64], hi[64];
	crm_hlc_format(lo, m->lo);
	crm_hlc_format(hi, m->hi);
	size_t off = (size_t)snprintf(out, cap, "Batch %llu of %s: %zu field changes\n\n",
				      (unsigned long long)seq, name, m->changes);
	for (size_t i = 0; i < m->count && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s: %zu records, %zu fields\n",
					m->tables[i], m->rows[i], m->fields[i]);
	if (off < cap)
		snprintf(out + off, cap - off, "Clock: %s .. %s\n\nNode: %s\nBatch: %llu\nSchema: %d\n"
			 "Payload-SHA256: %s\n", lo, hi, node, (unsigned long long)seq,
			 CRM_SCHEMA_VERSION, sha_hex);
}

static void blobs_free(blobs *b)
{
	for (size_t i = 0; i < b->count; i++)
		free(b->oids[i]);
	b->count = 0;
}

/* Encode, sign and commit one batch of pending rows (lo, hi]. */
static int seal_one(seal_state *s, int64_t lo, int64_t hi)
{
	crm_batch_enc *enc = NULL;
	summary *m = calloc(1, sizeof(*m));
	blobs *b = calloc(1, sizeof(*b));
	uint8_t *payload = NULL, sha[CRM_SHA256_LEN];
	size_t len = 0;
	char sha_hex[65], msg[4096], email[64], oid[CRM_OID_HEX + 1];
	const char *me = crm_store_node_id(s->st);
	int err = m && b ? crm_batch_enc_new(&enc, me, s->seq + 1) : CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0)
		err = encode_range(s, enc, m, b, lo, hi);
	if (err == 0) {
		err = crm_batch_enc_finish(enc, &payload, &len);
		enc = NULL;
	}
	if (err == 0) {
		crm_sha256(sha, payload, len);
		crm_hex(sha_hex, sha, sizeof(sha));
		build_message(msg, sizeof(msg), m, crm_store_setting(s->st, "name"), me, s->seq + 1, sha_hex);
		snprintf(email, sizeof(email), "%s@branchline", me);
		crm_commit_spec spec = {
			.parent = *s->head ? s->head : NULL, .payload = payload, .payload_len = len,
			.message = msg, .author_name = crm_store_setting(s->st, "name"), .author_email = email,
			.time = (int64_t)(CRM_HLC_MS(m->hi) / 1000), .blobs = (const char *const *)b->oids,
			.blob_count = b->count,
		};
		err = crm_log_commit(s->log, oid, crm_store_key(s->st), &spec);
	}
	if (err == 0) {
		sealed *d = realloc(s->done, (s->done_count + 1) * sizeof(*d));
		if (!d)
			err = CRM_ERR(CRM_ENOMEM, "out of memory");
		else {
			s->done = d;
			s->seq++;
			snprintf(s->head, sizeof(s->head), "%s", oid);
			d[s->done_count].seq = s->seq;
			/* Attachments travel in the same pack: they count toward the
			 * batch's size, which cuts sync chunks (sync.c). */
			size_t blob_bytes = 0;
			for (size_t i = 0; i < b->count; i++)
				blob_bytes += crm_log_object_size(s->log, b->oids[i]);
			d[s->done_count].size = len + blob_bytes;
			memcpy(d[s->done_count++].oid, oid, sizeof(oid));
			s->last_pending = hi;
		}
	}
	crm_batch_enc_free(enc);
	free(payload);
	if (b)
		blobs_free(b);
	free(b);
	free(m);
	return err;
}

static int load_head(seal_state *s)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(s->st), &q, "SELECT seq, oid FROM crm_heads WHERE node = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, crm_store_node_id(s->st), -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(s->st), q);
	if (err == 1) {
		s->seq = (uint64_t)sqlite3_column_int64(q, 0);
		snprintf(s->head, sizeof(s->head), "%s", (const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_reset(q);
	return err < 0 ? err : 0;
}

/* The transaction that makes the sealed batches official. */
static int record_sealed(seal_state *s)
{
	crm_db *db = crm_store_db(s->st);
	const char *me = crm_store_node_id(s->st);
	sqlite3_stmt *q;
	int err = crm_db_begin(db);
	if (err < 0)
		return err;
	err = crm_store_hlc_persist(s->st);   /* the pending rows held the newest clock */
	if (err == 0)
		err = crm_db_prepare(db, &q, "DELETE FROM crm_pending WHERE seq <= ?1");
	if (err == 0) {
		sqlite3_bind_int64(q, 1, s->last_pending);
		err = crm_db_step_done(db, q);
	}
	for (size_t i = 0; err == 0 && i < s->done_count; i++) {
		err = crm_db_prepare(db, &q, "INSERT INTO crm_applied(oid, node, seq, size) VALUES (?1, ?2, ?3, ?4)");
		if (err == 0) {
			sqlite3_bind_text(q, 1, s->done[i].oid, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, me, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 3, (int64_t)s->done[i].seq);
			sqlite3_bind_int64(q, 4, (int64_t)s->done[i].size);
			err = crm_db_step_done(db, q);
		}
	}
	if (err == 0)
		err = crm_db_prepare(db, &q, "INSERT OR REPLACE INTO crm_heads(node, seq, oid) VALUES (?1, ?2, ?3)");
	if (err == 0) {
		sqlite3_bind_text(q, 1, me, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, (int64_t)s->seq);
		sqlite3_bind_text(q, 3, s->head, -1, SQLITE_STATIC);
		err = crm_db_step_done(db, q);
	}
	if (err < 0) {
		crm_db_rollback(db);
		return err;
	}
	return crm_db_commit(db);
}

int crm_seal(crm_store *st, size_t *batches)
{
	seal_state s = {.st = st};
	crm_db *db = crm_store_db(st);
	int64_t hi = 0;
	if (batches)
		*batches = 0;
	int err = crm_store_log(st, &s.log);
	/* A sealed batch may leave this machine right after (sync, a change
	 * file), so its commit must survive a power cut: were it lost, the node
	 * would seal other changes under the same seq and fork its own chain.
	 * Local edits keep synchronous=NORMAL (node/db.c); this commit, which
	 * also syncs every WAL frame before it, is synced in full. */
	if (err == 0)
		err = crm_db_exec(db, "PRAGMA synchronous=FULL");
	/* The write lock for the whole seal: two processes sealing at once must
	 * not both make batch n+1 (that would fork our own chain), and refs are
	 * only updated under it (changelog.c). */
	if (err == 0 && (err = crm_db_begin(db)) == 0) {
		err = crm_log_repair_refs(st);
		if (err == 0)
			err = load_head(&s);
		while (err == 0 && (err = batch_end(&s, s.last_pending, &hi)) == 0 && hi > 0)
			err = seal_one(&s, s.last_pending, hi);
		if (err == 0 && s.done_count > 0)
			err = crm_log_flush(s.log);   /* objects durable before we forget the rows */
		if (err == 0 && s.done_count > 0)
			err = record_sealed(&s);
		/* A crash between this ref update and the commit leaves the ref
		 * ahead of crm_heads; the next repair puts it back. */
		if (err == 0 && s.done_count > 0)
			err = crm_log_set_ref(s.log, crm_store_node_id(st), s.head);
		if (err < 0)
			crm_db_rollback(db);
		else
			err = crm_db_commit(db);
	}
	int back = crm_db_exec(db, "PRAGMA synchronous=NORMAL");
	if (err == 0)
		err = back;
	if (err == 0 && batches)
		*batches = s.done_count;
	free(s.done);
	return err;
}
