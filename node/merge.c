/*
 * merge.c — stage register, conflict records (see merge.h).
 *
 * Design notes
 *  1. The register of a deal's stage is crm_stage_writes: every stage write
 *     the replica has seen, local or received.  The current stage is always
 *     recomputed from the whole set by crm_conflict_stage_pick, so it is a
 *     function of the set, not of arrival order.
 *  2. Conflict records are keyed by (row, column, set-aside write): seeing the
 *     same writes in another order finds the same record again, not a new one.
 *     A record is written only when the set-aside value differs from the
 *     kept one and its writer and the winner's did not see each other.
 */
#include "merge.h"
#include "error.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STAGE_WRITES_MAX 512   /* a deal with more stage writes keeps the first 512 in the register */

static void now_text(crm_store *st, char out[32])
{
	time_t t = (time_t)(crm_store_now_ms(st) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Insert a conflict record; values come from bound crm_values or SQL. */
static int note(crm_store *st, const char *table, const char *row, const char *col,
		const crm_value *kept, const crm_stamp *ks, const crm_value *lost,
		const crm_stamp *ls, const char *rule)
{
	sqlite3_stmt *q;
	char now[32];
	now_text(st, now);
	int err = crm_db_prepare(crm_store_db(st), &q,
				 "INSERT OR IGNORE INTO crm_conflicts(tbl, row_id, col, kept_value, kept_hlc, "
				 "kept_node, lost_value, lost_hlc, lost_node, rule, detected_at) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, row, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, col, -1, SQLITE_STATIC);
	crm_bind_value(q, 4, kept);
	sqlite3_bind_int64(q, 5, (int64_t)ks->hlc);
	sqlite3_bind_text(q, 6, ks->node, -1, SQLITE_STATIC);
	crm_bind_value(q, 7, lost);
	sqlite3_bind_int64(q, 8, (int64_t)ls->hlc);
	sqlite3_bind_text(q, 9, ls->node, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 10, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, now, -1, SQLITE_STATIC);
	return crm_db_step_done(crm_store_db(st), q);
}

/* The stored value of table.col of row, as a crm_value borrowed from q
 * (valid until q is reset).  *found = 0 if the row does not exist. */
static int stored_value(crm_store *st, sqlite3_stmt **q, const char *table, const char *row,
			const char *col, crm_value *out, int *found)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM \"%s\" WHERE id = ?1", col, table);
	int err = crm_db_prepare(crm_store_db(st), q, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(*q, 1, row, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(st), *q);
	*found = err == 1;
	*out = CRM_NULLV;
	if (err == 1) {
		switch (sqlite3_column_type(*q, 0)) {
		case SQLITE_INTEGER:
			*out = CRM_INT(sqlite3_column_int64(*q, 0));
			break;
		case SQLITE_FLOAT:
			out->type = CRM_V_REAL;
			out->r = sqlite3_column_double(*q, 0);
			break;
		case SQLITE_TEXT:
		case SQLITE_BLOB:
			out->type = sqlite3_column_type(*q, 0) == SQLITE_TEXT ? CRM_V_TEXT : CRM_V_BLOB;
			out->s = sqlite3_column_blob(*q, 0);
			out->len = (size_t)sqlite3_column_bytes(*q, 0);
			if (out->type == CRM_V_TEXT && out->len == 0)
				out->s = "";
			break;
		}
	}
	return err < 0 ? err : 0;
}

static int same_value(const crm_value *a, const crm_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case CRM_V_NULL:
		return 1;
	case CRM_V_INT:
		return a->i == b->i;
	case CRM_V_REAL:
		return a->r == b->r;
	default: {
		size_t la = a->len || !a->s ? a->len : strlen(a->s);
		size_t lb = b->len || !b->s ? b->len : strlen(b->s);
		return la == lb && (la == 0 || memcmp(a->s, b->s, la) == 0);
	}
	}
}

int crm_merge_note_lww(crm_store *st, const crm_change *c, const crm_stamp *in,
		       const crm_stamp *cur, int incoming_won)
{
	sqlite3_stmt *q;
	crm_value stored;
	int found;
	int err = stored_value(st, &q, c->table, c->row_id, c->col, &stored, &found);
	if (err == 0 && found && !same_value(&stored, &c->v))
		err = incoming_won ? note(st, c->table, c->row_id, c->col, &c->v, in, &stored, cur, "last writer wins")
				   : note(st, c->table, c->row_id, c->col, &stored, cur, &c->v, in, "last writer wins");
	sqlite3_reset(q);
	return err;
}

static int is_deleted(const crm_value *v) { return v->type == CRM_V_INT && v->i == 1; }

/* Edits the deleter of the row did not see: fields whose clock is newer than
 * the delete's prev and from another node. */
static int note_edits_under_delete(crm_store *st, const crm_change *c, const crm_stamp *del)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q,
				 "SELECT col, hlc, node FROM crm_clock WHERE row_id = ?1 AND col <> 'deleted' "
				 "AND hlc > ?2 AND node <> ?3");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, c->row_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)c->prev_hlc);
	sqlite3_bind_text(q, 3, del->node, -1, SQLITE_STATIC);
	char cols[64][64];
	crm_stamp stamps[64];
	size_t n = 0;
	while (n < 64 && (err = crm_db_step(crm_store_db(st), q)) == 1) {
		snprintf(cols[n], sizeof(cols[0]), "%s", (const char *)sqlite3_column_text(q, 0));
		stamps[n].hlc = (uint64_t)sqlite3_column_int64(q, 1);
		snprintf(stamps[n].node, sizeof(stamps[n].node), "%s", (const char *)sqlite3_column_text(q, 2));
		n++;
	}
	sqlite3_reset(q);
	crm_value one = CRM_INT(1);
	for (size_t i = 0; err >= 0 && i < n; i++) {
		sqlite3_stmt *v;
		crm_value val;
		int found;
		err = stored_value(st, &v, c->table, c->row_id, cols[i], &val, &found);
		if (err == 0 && found)
			err = note(st, c->table, c->row_id, cols[i], &one, del, &val, &stamps[i], "edited while deleted elsewhere");
		sqlite3_reset(v);
	}
	return err < 0 ? err : 0;
}

int crm_merge_note_deleted_edit(crm_store *st, const crm_change *c, const crm_stamp *in)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "SELECT hlc, node, prev FROM crm_clock "
				 "WHERE row_id = ?1 AND col = 'deleted'");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, c->row_id, -1, SQLITE_STATIC);
	crm_stamp del = {0};
	uint64_t del_prev = 0;
	int have = crm_db_step(crm_store_db(st), q) == 1;
	if (have) {
		del.hlc = (uint64_t)sqlite3_column_int64(q, 0);
		snprintf(del.node, sizeof(del.node), "%s", (const char *)sqlite3_column_text(q, 1));
		del_prev = (uint64_t)sqlite3_column_int64(q, 2);
	}
	sqlite3_reset(q);
	crm_value cur;
	int found;
	if (!have || (err = stored_value(st, &q, c->table, c->row_id, "deleted", &cur, &found)) < 0)
		return err;
	int deleted = found && is_deleted(&cur);
	sqlite3_reset(q);
	if (!deleted)
		return 0;
	if (strcmp(c->col, "deleted") == 0)
		return crm_stamp_cmp(&del, in) == 0 ? note_edits_under_delete(st, c, &del) : 0;
	if (del_prev < in->hlc && strcmp(del.node, in->node) != 0) {
		crm_value one = CRM_INT(1);
		return note(st, c->table, c->row_id, c->col, &one, &del, &c->v, in, "edited while deleted elsewhere");
	}
	return 0;
}

/* ---------------------------------------------------------- stage register */

typedef struct stage_set {
	crm_stage_write w[STAGE_WRITES_MAX];
	char stage[STAGE_WRITES_MAX][40];
	size_t n;
} stage_set;

static int load_stage_writes(crm_store *st, const char *deal, stage_set *s)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q,
				 "SELECT w.hlc, w.node, w.prev, w.stage_id, coalesce(s.kind IN ('won', 'lost'), 0) "
				 "FROM crm_stage_writes w LEFT JOIN stages s ON s.id = w.stage_id "
				 "WHERE w.deal_id = ?1 ORDER BY w.hlc, w.node");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, deal, -1, SQLITE_STATIC);
	s->n = 0;
	while ((err = crm_db_step(crm_store_db(st), q)) == 1 && s->n < STAGE_WRITES_MAX) {
		crm_stage_write *w = &s->w[s->n];
		w->stamp.hlc = (uint64_t)sqlite3_column_int64(q, 0);
		snprintf(w->stamp.node, sizeof(w->stamp.node), "%s", (const char *)sqlite3_column_text(q, 1));
		w->prev_hlc = (uint64_t)sqlite3_column_int64(q, 2);
		const unsigned char *sid = sqlite3_column_text(q, 3);
		snprintf(s->stage[s->n], sizeof(s->stage[0]), "%s", sid ? (const char *)sid : "");
		w->terminal = sqlite3_column_int(q, 4);
		s->n++;
	}
	sqlite3_reset(q);
	return err < 0 ? err : 0;
}

static int add_stage_write(crm_store *st, const char *deal, const crm_stamp *in, uint64_t prev,
			   const crm_value *v)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "INSERT OR IGNORE INTO crm_stage_writes"
				 "(deal_id, hlc, node, prev, stage_id) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, deal, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)in->hlc);
	sqlite3_bind_text(q, 3, in->node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)prev);
	crm_bind_value(q, 5, v);
	err = crm_db_step_done(crm_store_db(st), q);
	return err < 0 ? err : sqlite3_changes(crm_db_handle(crm_store_db(st)));
}

/* Conflict records for heads the winner set aside without having seen them. */
static int note_stage_losers(crm_store *st, const char *deal, const stage_set *s, size_t win)
{
	int err = 0;
	const crm_stage_write *w = &s->w[win];
	crm_value kept = CRM_TEXT(s->stage[win]);
	for (size_t i = 0; err == 0 && i < s->n; i++) {
		if (i == win || !crm_conflict_stage_is_head(s->w, s->n, i) || strcmp(s->stage[i], s->stage[win]) == 0)
			continue;
		if (!crm_conflict_concurrent(w->prev_hlc, &s->w[i].stamp))
			continue;
		crm_value lost = CRM_TEXT(s->stage[i]);
		const char *rule = w->terminal && !s->w[i].terminal ? "stage: a close beats a concurrent move"
								    : "stage: last writer wins";
		err = note(st, "deals", deal, "stage_id", &kept, &w->stamp, &lost, &s->w[i].stamp, rule);
	}
	return err;
}

int crm_merge_stage(crm_store *st, const char *deal, const crm_stamp *in, uint64_t prev,
		    const crm_value *v)
{
	int added = add_stage_write(st, deal, in, prev, v);
	if (added <= 0)
		return added;   /* error, or this very write seen before */
	stage_set *s = malloc(sizeof(*s));
	if (!s)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int err = load_stage_writes(st, deal, s);
	size_t win = err == 0 && s->n ? crm_conflict_stage_pick(s->w, s->n) : 0;
	if (err == 0 && s->n) {
		crm_value val = s->stage[win][0] ? CRM_TEXT(s->stage[win]) : CRM_NULLV;
		err = crm_write_merged(st, "deals", deal, "stage_id", &val, &s->w[win].stamp, s->w[win].prev_hlc);
	}
	if (err == 0 && s->n)
		err = note_stage_losers(st, deal, s, win);
	int won = err == 0 && s->n && crm_stamp_cmp(&s->w[win].stamp, in) == 0;
	free(s);
	return err < 0 ? err : won;
}

/* ------------------------------------------------------- conflicts inbox */

/* The rows of sql (see crm_query_rows) as a new array in *out. */
static int list_of(json_t **out, crm_store *st, const char *sql, const char *a1)
{
	json_t *arr = json_array();
	int err = crm_query_rows(arr, st, sql, a1, NULL);
	if (err < 0) {
		json_decref(arr);
		arr = NULL;
	}
	*out = arr;
	return err;
}

/* A contact's name, for lists a person reads. */
#define CONTACT_NAME(id) "(SELECT trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) FROM contacts WHERE id = " id ")"

int crm_conflicts_list(json_t **out, crm_store *st, int include_resolved)
{
	return list_of(out, st,
		"SELECT c.id, c.tbl AS entity, c.row_id, c.col AS field, c.kept_value, c.kept_node, "
		"coalesce(kn.name, c.kept_node) AS kept_by, c.lost_value, c.lost_node, "
		"coalesce(ln.name, c.lost_node) AS set_aside_by, c.rule, c.detected_at, c.resolved, "
		"s1.name AS kept_stage, s2.name AS lost_stage, CASE c.tbl "
		"WHEN 'companies' THEN (SELECT name FROM companies WHERE id = c.row_id) "
		"WHEN 'contacts' THEN " CONTACT_NAME("c.row_id") " "
		"WHEN 'deals' THEN (SELECT title FROM deals WHERE id = c.row_id) END AS title "
		"FROM crm_conflicts c LEFT JOIN crm_keys kn ON kn.node = c.kept_node "
		"LEFT JOIN crm_keys ln ON ln.node = c.lost_node "
		"LEFT JOIN stages s1 ON c.col = 'stage_id' AND s1.id = c.kept_value "
		"LEFT JOIN stages s2 ON c.col = 'stage_id' AND s2.id = c.lost_value "
		"WHERE CAST(?1 AS INTEGER) OR c.resolved = 0 ORDER BY c.resolved, c.id DESC",
		include_resolved ? "1" : "0");
}

static int conflict_exists(crm_store *st, int64_t id)
{
	char buf[32];
	int64_t n = 0;
	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	int err = crm_db_get_int(crm_store_db(st), &n, "SELECT count(*) FROM crm_conflicts WHERE id = ?1", buf);
	if (err == 0 && n == 0)
		return CRM_ERR(CRM_ENOTFOUND, "no conflict %lld (see 'crm conflicts')", (long long)id);
	return err;
}

int crm_conflict_resolve(crm_store *st, int64_t id)
{
	sqlite3_stmt *q;
	int err = conflict_exists(st, id);
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, "UPDATE crm_conflicts SET resolved = 1 WHERE id = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(q, 1, id);
	return crm_db_step_done(crm_store_db(st), q);
}

int crm_conflict_reapply(crm_store *st, int64_t id)
{
	sqlite3_stmt *q;
	int err = conflict_exists(st, id);
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, "SELECT tbl, row_id, col, lost_value FROM crm_conflicts WHERE id = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(q, 1, id);
	if ((err = crm_db_begin(crm_store_db(st))) < 0)
		return err;
	err = crm_db_step(crm_store_db(st), q);
	char table[64], row[64], col[64];
	crm_value v = CRM_NULLV;
	char *text = NULL;
	if (err == 1) {
		snprintf(table, sizeof(table), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(row, sizeof(row), "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(col, sizeof(col), "%s", (const char *)sqlite3_column_text(q, 2));
		if (sqlite3_column_type(q, 3) == SQLITE_INTEGER)
			v = CRM_INT(sqlite3_column_int64(q, 3));
		else if (sqlite3_column_type(q, 3) != SQLITE_NULL && (text = strdup((const char *)sqlite3_column_text(q, 3))))
			v = CRM_TEXT(text);
	}
	sqlite3_reset(q);
	crm_field f = {col, v};
	if (err == 1)
		err = crm_write(st, table, row, &f, 1);
	if (err == 0)
		err = crm_conflict_resolve(st, id);
	free(text);
	if (err < 0) {
		crm_db_rollback(crm_store_db(st));
		return err;
	}
	return crm_db_commit(crm_store_db(st));
}

/* ------------------------------------------------------------ duplicates */

typedef struct graph {
	char **ids;            /* distinct record ids */
	size_t n, cap;
	size_t (*edges)[2];
	size_t m, ecap;
	int *auto_edge;        /* edge came from a strong key, not a person */
} graph;

static void graph_free(graph *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->ids[i]);
	free(g->ids);
	free(g->edges);
	free(g->auto_edge);
}

/* Index of id in g (added if new); linear probe is fine for the few
 * hundred ids that take part in duplicates. */
static int graph_id(graph *g, const char *id, size_t *out)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->ids[i], id) == 0)
			return (int)(*out = i, 0);
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		char **n = realloc(g->ids, cap * sizeof(*n));
		if (!n)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		g->ids = n;
		g->cap = cap;
	}
	if (!(g->ids[g->n] = strdup(id)))
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	*out = g->n++;
	return 0;
}

static int graph_edge(graph *g, const char *a, const char *b, int is_auto)
{
	size_t ia, ib;
	int err = graph_id(g, a, &ia);
	if (err == 0)
		err = graph_id(g, b, &ib);
	if (err == 0 && g->m == g->ecap) {
		size_t cap = g->ecap ? g->ecap * 2 : 64;
		size_t (*e)[2] = realloc(g->edges, cap * sizeof(*e));
		int *au = e ? realloc(g->auto_edge, cap * sizeof(*au)) : NULL;
		if (e)
			g->edges = e;
		if (!au)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		g->auto_edge = au;
		g->ecap = cap;
	}
	if (err == 0) {
		g->edges[g->m][0] = ia;
		g->edges[g->m][1] = ib;
		g->auto_edge[g->m++] = is_auto;
	}
	return err;
}

/* Groups sharing a strong key: rows of (key, id) ordered by key, id.  Each
 * member joins the group's first id unless a person kept the pair apart. */
static int strong_key_edges(crm_store *st, graph *g, const char *sql)
{
	sqlite3_stmt *q;
	char key[256] = "", first[64] = "";
	int err = crm_db_prepare(crm_store_db(st), &q, sql);
	while (err == 0 && (err = crm_db_step(crm_store_db(st), q)) == 1) {
		const char *k = (const char *)sqlite3_column_text(q, 0);
		const char *id = (const char *)sqlite3_column_text(q, 1);
		err = 0;
		if (strcmp(k, key) != 0) {
			snprintf(key, sizeof(key), "%s", k);
			snprintf(first, sizeof(first), "%s", id);
		} else if (strcmp(first, id) != 0 && sqlite3_column_int(q, 2) == 0) {
			err = graph_edge(g, first, id, 1);
		}
	}
	if (err >= 0)
		sqlite3_reset(q);
	return err < 0 ? err : 0;
}

#define KEPT_APART(a, b) \
	"EXISTS (SELECT 1 FROM merges m WHERE m.undone = 1 AND m.deleted = 0 AND " \
	"m.survivor_id = min(" a ", " b ") AND m.loser_id = max(" a ", " b "))"

static int collect_edges(crm_store *st, graph *g)
{
	int err = strong_key_edges(st, g,
		"SELECT g.k, g.id, " KEPT_APART("g.id", "g.first_id") " FROM (SELECT upper(replace(trim(tax_id), ' ', '')) AS k, id, "
		"min(id) OVER (PARTITION BY upper(replace(trim(tax_id), ' ', ''))) AS first_id FROM companies "
		"WHERE deleted = 0 AND tax_id IS NOT NULL AND trim(tax_id) <> '') g ORDER BY g.k, g.id");
	if (err == 0)
		err = strong_key_edges(st, g,
			"SELECT g.k, g.id, " KEPT_APART("g.id", "g.first_id") " FROM (SELECT DISTINCT ch.normalized AS k, p.id AS id, "
			"min(p.id) OVER (PARTITION BY ch.normalized) AS first_id FROM channels ch "
			"JOIN contacts p ON p.id = ch.owner_id AND p.deleted = 0 "
			"WHERE ch.kind = 'email' AND ch.deleted = 0) g ORDER BY g.k, g.id");
	sqlite3_stmt *q = NULL;
	if (err == 0)
		err = crm_db_prepare(crm_store_db(st), &q, "SELECT loser_id, survivor_id FROM merges "
				     "WHERE undone = 0 AND deleted = 0 AND loser_id IS NOT NULL AND survivor_id IS NOT NULL");
	while (err == 0 && (err = crm_db_step(crm_store_db(st), q)) == 1)
		err = graph_edge(g, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1), 0);
	if (err >= 0 && q)
		sqlite3_reset(q);
	return err < 0 ? err : 0;
}

static int alias_set(crm_store *st, const char *id, const char *survivor)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "INSERT OR REPLACE INTO crm_alias(id, survivor) VALUES (?1, ?2)");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, survivor, -1, SQLITE_STATIC);
	return crm_db_step_done(crm_store_db(st), q);
}

/* Tell people about automatic merges: one inbox entry per merged record. */
static int note_auto(crm_store *st, const char *loser, const char *survivor)
{
	crm_stamp auto_stamp = {0, "automatic"};
	crm_value kept = CRM_TEXT(survivor), lost = CRM_TEXT(loser);
	const char *table = NULL;
	char *t = NULL;
	if (crm_db_get_text(crm_store_db(st), &t, "SELECT 'companies' FROM companies WHERE id = ?1 "
			    "UNION ALL SELECT 'contacts' FROM contacts WHERE id = ?1", loser) == 0)
		table = t;
	crm_error_clear();
	int err = note(st, table ? table : "records", loser, "merged_into", &kept, &auto_stamp, &lost, &auto_stamp,
		       table && strcmp(table, "companies") == 0 ? "duplicate: same tax id, merged automatically"
							     : "duplicate: same e-mail, merged automatically");
	free(t);
	return err;
}

void crm_merge_hold(crm_store *st) { crm_store_merge_hold(st)->depth++; }

int crm_merge_release(crm_store *st, int run)
{
	crm_hold *h = crm_store_merge_hold(st);
	if (h->depth > 0 && --h->depth > 0)
		return 0;
	int pending = h->pending;
	h->pending = 0;
	return run && pending ? crm_merge_refresh(st) : 0;
}

int crm_merge_refresh(crm_store *st)
{
	crm_hold *h = crm_store_merge_hold(st);
	if (h->depth > 0) {
		h->pending = 1;   /* a bulk edit runs it once, at crm_merge_release */
		return 0;
	}
	graph g = {0};
	size_t *scratch = NULL, *root = NULL;
	crm_db *db = crm_store_db(st);
	int err = crm_db_begin(db);
	if (err < 0)
		return err;
	err = collect_edges(st, &g);
	if (err == 0 && g.n && (!(scratch = malloc(g.n * sizeof(size_t))) || !(root = malloc(g.n * sizeof(size_t)))))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0)
		crm_conflict_groups((const char *const *)g.ids, g.n, (const size_t (*)[2])g.edges, g.m, scratch, root);
	if (err == 0)
		err = crm_db_exec(db, "DELETE FROM crm_alias");
	for (size_t i = 0; err == 0 && i < g.n; i++)
		if (root[i] != i)
			err = alias_set(st, g.ids[i], g.ids[root[i]]);
	for (size_t e = 0; err == 0 && e < g.m; e++) {
		size_t a = g.edges[e][0], b = g.edges[e][1];
		if (g.auto_edge[e])
			err = note_auto(st, strcmp(g.ids[a], g.ids[b]) > 0 ? g.ids[a] : g.ids[b], g.ids[root[a]]);
	}
	free(scratch);
	free(root);
	graph_free(&g);
	if (err < 0) {
		crm_db_rollback(db);
		return err;
	}
	return crm_db_commit(db);
}

static const char *record_kind(crm_store *st, const char *id, char **buf)
{
	*buf = NULL;
	crm_db_get_text(crm_store_db(st), buf, "SELECT 'company' FROM companies WHERE id = lower(?1) AND deleted = 0 "
			"UNION ALL SELECT 'contact' FROM contacts WHERE id = lower(?1) AND deleted = 0", id);
	crm_error_clear();
	return *buf;
}

int crm_merge_decide(crm_store *st, const char *a, const char *b, int undo)
{
	char *ka = NULL, *kb = NULL, lo[64], hi[64], pair[140], mid[37];
	const char *ea = record_kind(st, a, &ka), *eb = record_kind(st, b, &kb);
	int err = 0;
	if (!ea || !eb)
		err = CRM_ERR(CRM_ENOTFOUND, "no company or contact with id %s", !ea ? a : b);
	else if (strcmp(ea, eb) != 0)
		err = CRM_ERR(CRM_EINVAL, "cannot merge a %s with a %s", ea, eb);
	else if (strcasecmp(a, b) == 0)
		err = CRM_ERR(CRM_EINVAL, "a record cannot be merged with itself");
	if (err == 0) {
		int c = strcasecmp(a, b);
		snprintf(lo, sizeof(lo), "%s", c < 0 ? a : b);
		snprintf(hi, sizeof(hi), "%s", c < 0 ? b : a);
		for (char *p = lo; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		for (char *p = hi; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		snprintf(pair, sizeof(pair), "%s>%s", hi, lo);
		crm_store_name_id(mid, "merge", pair);
		crm_field f[] = {{"loser_id", CRM_TEXT(hi)}, {"survivor_id", CRM_TEXT(lo)},
				 {"entity", CRM_TEXT(ea)}, {"undone", CRM_INT(undo)}};
		err = crm_write(st, "merges", mid, f, 4);
	}
	free(ka);
	free(kb);
	return err < 0 ? err : crm_merge_refresh(st);
}

int crm_merge_survivor(crm_store *st, const char *id, char **out)
{
	int err = crm_db_get_text(crm_store_db(st), out, "SELECT survivor FROM crm_alias WHERE id = lower(?1)", id);
	if (err == CRM_ENOTFOUND) {
		crm_error_clear();
		*out = strdup(id);
		return *out ? 0 : CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	return err;
}

int crm_duplicates_list(json_t **out, crm_store *st)
{
	return list_of(out, st,
		"SELECT d.*, CASE d.entity WHEN 'company' THEN (SELECT name FROM companies WHERE id = d.id) "
		"ELSE " CONTACT_NAME("d.id") " END AS title, CASE d.entity "
		"WHEN 'company' THEN (SELECT name FROM companies WHERE id = d.other_id) "
		"ELSE " CONTACT_NAME("d.other_id") " END AS other_title FROM ("
		"SELECT 'contact' AS entity, min(a.owner_id, b.owner_id) AS id, max(a.owner_id, b.owner_id) AS other_id, "
		"'same phone ' || a.normalized AS reason FROM channels a JOIN channels b ON a.normalized = b.normalized "
		"AND a.owner_id < b.owner_id AND a.kind = 'phone' AND b.kind = 'phone' AND a.deleted = 0 AND b.deleted = 0 "
		"JOIN contacts pa ON pa.id = a.owner_id AND pa.deleted = 0 JOIN contacts pb ON pb.id = b.owner_id AND pb.deleted = 0 "
		"UNION SELECT 'company', min(a.id, b.id), max(a.id, b.id), 'same name ' || a.name FROM companies a JOIN companies b "
		"ON lower(trim(a.name)) = lower(trim(b.name)) AND a.id < b.id AND a.deleted = 0 AND b.deleted = 0 "
		"UNION SELECT 'contact', min(a.id, b.id), max(a.id, b.id), 'same name ' || a.first_name || ' ' || a.last_name "
		"FROM contacts a JOIN contacts b ON lower(a.first_name) = lower(b.first_name) AND lower(a.last_name) = lower(b.last_name) "
		"AND a.id < b.id AND a.deleted = 0 AND b.deleted = 0) d "
		"WHERE coalesce((SELECT survivor FROM crm_alias WHERE id = d.id), d.id) <> "
		"coalesce((SELECT survivor FROM crm_alias WHERE id = d.other_id), d.other_id) "
		"AND NOT " KEPT_APART("d.id", "d.other_id") " ORDER BY entity, id LIMIT 500", NULL);
}
