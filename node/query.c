/*
 * query.c — lists, cards and search (see query.h).
 *
 * Search design: names go through FTS5 (unicode61, prefix) word by word;
 * e-mails and phones are rows of `channels` indexed by a trigram FTS5 table
 * over their normalized form, so a phone is found from any run of three or
 * more of its digits, and a number typed in national format ("8 495 …") is
 * first normalized with the replica's default country.
 */
#include "query.h"
#include "entity.h"
#include "error.h"
#include "merge.h"
#include "normalize.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Q_MAX 200
/* The ids of ?1's duplicate group (itself and the records merged into it). */
#define GROUP_OF_1 "(SELECT ?1 UNION ALL SELECT id FROM crm_alias WHERE survivor = ?1)"
#define NOT_MERGED(x) " AND " x ".id NOT IN (SELECT id FROM crm_alias)"

static json_t *column_json(sqlite3_stmt *q, int i)
{
	switch (sqlite3_column_type(q, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(q, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(q, i));
	case SQLITE_TEXT:
		return json_stringn((const char *)sqlite3_column_text(q, i), (size_t)sqlite3_column_bytes(q, i));
	case SQLITE_BLOB:
		return json_string("(binary)");
	default:
		return json_null();
	}
}

json_t *crm_query_row_json(sqlite3_stmt *q)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(q);
	for (int i = 0; i < n; i++)
		json_object_set_new(o, sqlite3_column_name(q, i), column_json(q, i));
	return o;
}

int crm_query_rows(json_t *arr, crm_store *st, const char *sql, const char *a1, const char *a2)
{
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(st);
	int err = crm_db_prepare(db, &q, sql);
	if (err < 0)
		return err;
	if (a1)
		sqlite3_bind_text(q, 1, a1, -1, SQLITE_TRANSIENT);
	if (a2)
		sqlite3_bind_text(q, 2, a2, -1, SQLITE_TRANSIENT);
	while ((err = crm_db_step(db, q)) == 1)
		json_array_append_new(arr, crm_query_row_json(q));
	sqlite3_reset(q);
	return err;
}

/* Per-entity SELECT with the readable extras a list shows. */
static const char *select_sql(const char *entity)
{
	if (strcmp(entity, "deal") == 0)
		return "SELECT d.*, s.name AS stage, s.kind AS stage_kind, c.name AS company, "
		       "trim(coalesce(ct.first_name, '') || ' ' || coalesce(ct.last_name, '')) AS contact, "
		       "p.name AS pipeline FROM deals d LEFT JOIN stages s ON s.id = d.stage_id "
		       "LEFT JOIN companies c ON c.id = coalesce((SELECT survivor FROM crm_alias WHERE id = d.company_id), d.company_id) "
		       "LEFT JOIN contacts ct ON ct.id = coalesce((SELECT survivor FROM crm_alias WHERE id = d.contact_id), d.contact_id) "
		       "LEFT JOIN pipelines p ON p.id = d.pipeline_id";
	if (strcmp(entity, "contact") == 0)
		return "SELECT t.*, co.name AS company, "
		       "(SELECT value FROM channels WHERE owner_id = t.id AND kind = 'email' AND deleted = 0 ORDER BY id LIMIT 1) AS email, "
		       "(SELECT value FROM channels WHERE owner_id = t.id AND kind = 'phone' AND deleted = 0 ORDER BY id LIMIT 1) AS phone "
		       "FROM contacts t LEFT JOIN companies co ON co.id = "
		       "coalesce((SELECT survivor FROM crm_alias WHERE id = t.company_id), t.company_id)";
	if (strcmp(entity, "company") == 0)
		return "SELECT t.*, "
		       "(SELECT value FROM channels WHERE owner_id = t.id AND kind = 'email' AND deleted = 0 ORDER BY id LIMIT 1) AS email, "
		       "(SELECT value FROM channels WHERE owner_id = t.id AND kind = 'phone' AND deleted = 0 ORDER BY id LIMIT 1) AS phone "
		       "FROM companies t";
	if (strcmp(entity, "task") == 0)
		return "SELECT t.*, u.login AS assignee FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id";
	if (strcmp(entity, "link") == 0)
		return "SELECT t.*, trim(coalesce(ct.first_name, '') || ' ' || coalesce(ct.last_name, '')) AS contact, "
		       "co.name AS company FROM contact_companies t "
		       "LEFT JOIN contacts ct ON ct.id = coalesce((SELECT survivor FROM crm_alias WHERE id = t.contact_id), t.contact_id) "
		       "LEFT JOIN companies co ON co.id = coalesce((SELECT survivor FROM crm_alias WHERE id = t.company_id), t.company_id)";
	return NULL;
}

/* Add "amount_text" ("1 234.50 EUR" style) to objects with amount+currency. */
static void add_amount_text(json_t *o)
{
	json_t *amt = json_object_get(o, "amount");
	const char *cur = json_string_value(json_object_get(o, "currency"));
	if (!json_is_integer(amt) || !cur)
		return;
	char buf[64];
	crm_format_amount(buf, sizeof(buf), json_integer_value(amt), cur);
	json_object_set_new(o, "amount_text", json_string(buf));
}

/* FTS5 query from typed words: each word quoted and prefix-matched. */
static int fts_query(char *out, size_t cap, const char *q)
{
	size_t off = 0;
	const char *p = q;
	out[0] = '\0';
	while (*p) {
		while (*p && (isspace((unsigned char)*p) || *p == '"'))
			p++;
		const char *w = p;
		while (*p && !isspace((unsigned char)*p) && *p != '"')
			p++;
		if (p == w)
			break;
		int n = snprintf(out + off, cap - off, "%s\"%.*s\"*", off ? " " : "", (int)(p - w), w);
		if (n < 0 || (size_t)n >= cap - off)
			return CRM_ERR(CRM_ELIMIT, "search text is too long");
		off += (size_t)n;
	}
	return 0;
}

static const char *fts_table(const char *entity)
{
	if (strcmp(entity, "contact") == 0)
		return "contacts_fts";
	if (strcmp(entity, "company") == 0)
		return "companies_fts";
	if (strcmp(entity, "deal") == 0)
		return "deals_fts";
	return NULL;
}

int crm_query_list(json_t **out, crm_store *st, const char *entity, const char *search, size_t limit)
{
	const char *table = crm_entity_table(entity);
	*out = NULL;
	if (!table)
		return CRM_ERR(CRM_EINVAL, "unknown kind of record '%s'; kinds are: %s", entity, crm_entity_names());
	char base[1024], sql[2048], match[512] = "";
	const char *sel = select_sql(entity);
	if (sel)
		snprintf(base, sizeof(base), "%s", sel);
	else
		snprintf(base, sizeof(base), "SELECT t.* FROM %s t", table);
	const char *alias = strcmp(entity, "deal") == 0 ? "d" : "t";
	const char *fts = fts_table(entity);
	const char *merged = strcmp(entity, "company") == 0 || strcmp(entity, "contact") == 0 ? NOT_MERGED("t") : "";
	int err = 0;
	if (search && *search && fts) {
		if ((err = fts_query(match, sizeof(match), search)) < 0)
			return err;
		/* Newest first by local insertion, streamed from the index so a
		 * common prefix does not sort every match. */
		char from[1200], main_from[96];
		snprintf(from, sizeof(from), "%s", base);
		snprintf(main_from, sizeof(main_from), " FROM %s %s", table, alias);
		char *f = strstr(from, main_from);
		if (!f)
			return CRM_ERR(CRM_EINVAL, "internal: list query without FROM");
		snprintf(sql, sizeof(sql), "%.*s FROM (SELECT rowid AS r FROM %s WHERE %s MATCH ?1 ORDER BY rowid DESC) "
			 "fx CROSS JOIN %s WHERE %s.rowid = fx.r AND %s.deleted = 0%s LIMIT %zu", (int)(f - from), from,
			 fts, fts, f + 6, alias, alias, merged, limit ? limit : (size_t)-1 >> 1);
	} else if (search && *search) {
		snprintf(match, sizeof(match), "%%%s%%", search);
		snprintf(sql, sizeof(sql), "%s WHERE %s.deleted = 0 AND instr(lower(%s.%s), lower(?1)) > 0 "
			 "ORDER BY %s.id DESC LIMIT %zu", base, alias, alias,
			 strcmp(entity, "note") == 0 ? "body" : strcmp(entity, "activity") == 0 ? "subject" :
			 strcmp(entity, "user") == 0 || strcmp(entity, "plan") == 0 ? "id" : strcmp(entity, "branch") == 0 ? "code" :
			 strcmp(entity, "link") == 0 ? "role" : "title",
			 alias, limit ? limit : (size_t)-1 >> 1);
		snprintf(match, sizeof(match), "%s", search);
	} else {
		snprintf(sql, sizeof(sql), "%s WHERE %s.deleted = 0%s ORDER BY %s.id DESC LIMIT %zu",
			 base, alias, merged, alias, limit ? limit : (size_t)-1 >> 1);
	}
	json_t *arr = json_array();
	err = crm_query_rows(arr, st, sql, *match ? match : NULL, NULL);
	if (err < 0) {
		json_decref(arr);
		return err;
	}
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
		add_amount_text(o);
	*out = arr;
	return 0;
}

static int related(json_t *o, const char *key, crm_store *st, const char *sql, const char *id)
{
	json_t *arr = json_array();
	int err = crm_query_rows(arr, st, sql, id, NULL);
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		add_amount_text(x);
	json_object_set_new(o, key, arr);
	return err;
}

/* One timeline: activities, tasks, notes, and the stage changes of the
 * deals linked through `dcol` (kind "stage", title "Deal: From → To"). */
#define TIMELINE_SQL(col, dcol)                                                                    \
	"SELECT * FROM (SELECT id, kind, subject AS title, at, done, result FROM activities "          \
	"WHERE " col " IN " GROUP_OF_1 " AND deleted = 0 "                                             \
	"UNION ALL SELECT id, 'task', title, due, status = 'done', status FROM tasks WHERE " col      \
	" IN " GROUP_OF_1 " AND deleted = 0 "                                                          \
	"UNION ALL SELECT id, 'note', substr(body, 1, 200), created_at, 1, NULL FROM notes WHERE " col \
	" IN " GROUP_OF_1 " AND deleted = 0 "                                                          \
	"UNION ALL SELECT h.id, 'stage', d.title || ': ' || coalesce(f.name || ' \u2192 ', '') || "    \
	"coalesce(t.name, '?'), h.at, 1, NULL FROM stage_history h JOIN deals d ON d.id = h.deal_id "  \
	"LEFT JOIN stages f ON f.id = h.from_stage_id LEFT JOIN stages t ON t.id = h.to_stage_id "     \
	"WHERE " dcol " IN " GROUP_OF_1 " AND d.deleted = 0) ORDER BY at DESC, id DESC"

static int show_related(json_t *o, crm_store *st, const char *entity, const char *id)
{
	const char *deals = "SELECT d.id, d.title, d.amount, d.currency, s.name AS stage, s.kind AS stage_kind "
			    "FROM deals d LEFT JOIN stages s ON s.id = d.stage_id WHERE d.%s IN " GROUP_OF_1 " AND d.deleted = 0 ORDER BY d.id DESC";
	char sql[512];
	int err = 0;
	if (strcmp(entity, "contact") == 0 || strcmp(entity, "company") == 0) {
		const char *col = entity[1] == 'o' && entity[2] == 'n' ? "contact_id" : "company_id";
		err = related(o, "channels", st, "SELECT id, kind, value, normalized, label FROM channels "
			      "WHERE owner_id IN " GROUP_OF_1 " AND deleted = 0 ORDER BY kind, id", id);
		if (err == 0)
			err = related(o, "merged", st, "SELECT id FROM crm_alias WHERE survivor = ?1 ORDER BY id", id);
		snprintf(sql, sizeof(sql), deals, col);
		if (err == 0)
			err = related(o, "deals", st, sql, id);
		/* People of a company: by contacts.company_id or by a link
		 * (contact_companies, `crm link`); the role comes from the link. */
		if (err == 0 && strcmp(col, "company_id") == 0)
			err = related(o, "contacts", st, "SELECT c.id, c.first_name, c.last_name, c.title, "
				      "(SELECT role FROM contact_companies l WHERE l.contact_id = c.id AND l.company_id IN "
				      GROUP_OF_1 " AND l.deleted = 0 ORDER BY l.id LIMIT 1) AS role FROM contacts c "
				      "WHERE c.deleted = 0" NOT_MERGED("c") " AND (c.company_id IN " GROUP_OF_1
				      " OR c.id IN (SELECT coalesce((SELECT survivor FROM crm_alias WHERE id = l.contact_id), "
				      "l.contact_id) FROM contact_companies l WHERE l.company_id IN " GROUP_OF_1
				      " AND l.deleted = 0)) ORDER BY c.last_name, c.first_name, c.id", id);
		/* Companies a person works for through links, besides company_id. */
		if (err == 0 && strcmp(col, "contact_id") == 0)
			err = related(o, "companies", st, "SELECT l.id AS link_id, co.id, co.name, l.role "
				      "FROM contact_companies l JOIN companies co ON co.id = coalesce((SELECT survivor "
				      "FROM crm_alias WHERE id = l.company_id), l.company_id) WHERE l.contact_id IN "
				      GROUP_OF_1 " AND l.deleted = 0 AND co.deleted = 0 ORDER BY co.name, l.id", id);
		if (err == 0)
			err = related(o, "timeline", st, strcmp(col, "company_id") == 0
							 ? TIMELINE_SQL("company_id", "d.company_id")
							 : TIMELINE_SQL("contact_id", "d.contact_id"), id);
	} else if (strcmp(entity, "deal") == 0) {
		err = related(o, "stage_history", st, "SELECT h.id, f.name AS from_stage, t.name AS to_stage, h.at, "
			      "u.login AS user FROM stage_history h LEFT JOIN stages f ON f.id = h.from_stage_id "
			      "LEFT JOIN stages t ON t.id = h.to_stage_id LEFT JOIN users u ON u.id = h.user_id "
			      "WHERE h.deal_id = ?1 ORDER BY h.at, h.id", id);
		if (err == 0)
			err = related(o, "timeline", st, TIMELINE_SQL("deal_id", "d.id"), id);
	} else if (strcmp(entity, "task") == 0) {
		err = related(o, "status_history", st, "SELECT id, status, at FROM task_history "
			      "WHERE task_id = ?1 ORDER BY at, id", id);
	}
	return err;
}

static int show_one(json_t **out, crm_store *st, const char *entity, const char *table, const char *id, int grouped);

/* A merged group shows, for each field, the newest value among its members
 * (last writer wins across the group, DESIGN.md §6). */
static int group_fields(json_t *o, crm_store *st, const char *table, const char *id)
{
	const crm_table *t = crm_catalog_table(st, table);
	int err = 0;
	for (size_t i = 0; t && err == 0 && i < t->col_count; i++) {
		const char *col = t->cols[i].name;
		if (strcmp(col, "deleted") == 0)
			continue;
		char sql[400];
		snprintf(sql, sizeof(sql), "SELECT r.\"%s\" AS v FROM crm_clock c JOIN \"%s\" r ON r.id = c.row_id "
			 "WHERE c.row_id IN " GROUP_OF_1 " AND c.col = ?2 ORDER BY c.hlc DESC, c.node DESC LIMIT 1",
			 col, table);
		json_t *arr = json_array();
		err = crm_query_rows(arr, st, sql, id, col);
		if (err == 0 && json_array_size(arr) == 1)
			json_object_set(o, col, json_object_get(json_array_get(arr, 0), "v"));
		json_decref(arr);
	}
	return err;
}

int crm_query_show(json_t **out, crm_store *st, const char *entity, const char *id_in)
{
	const char *table = crm_entity_table(entity);
	*out = NULL;
	if (!table)
		return CRM_ERR(CRM_EINVAL, "unknown kind of record '%s'; kinds are: %s", entity, crm_entity_names());
	char *survivor = NULL;
	int grouped = strcmp(entity, "company") == 0 || strcmp(entity, "contact") == 0;
	if (grouped && crm_merge_survivor(st, id_in, &survivor) < 0)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int rc = show_one(out, st, entity, table, survivor ? survivor : id_in, grouped);
	free(survivor);
	return rc;
}

static int show_one(json_t **out, crm_store *st, const char *entity, const char *table, const char *id, int grouped)
{
	char sql[1200];
	const char *sel = select_sql(entity);
	const char *alias = strcmp(entity, "deal") == 0 ? "d" : "t";
	if (sel)
		snprintf(sql, sizeof(sql), "%s WHERE %s.id = lower(?1)", sel, alias);
	else
		snprintf(sql, sizeof(sql), "SELECT t.* FROM \"%s\" t WHERE t.id = lower(?1)", table);
	json_t *arr = json_array();
	int err = crm_query_rows(arr, st, sql, id, NULL);
	if (err == 0 && json_array_size(arr) == 0)
		err = CRM_ERR(CRM_ENOTFOUND, "no %s with id %s", entity, id);
	json_t *o = err == 0 ? json_incref(json_array_get(arr, 0)) : NULL;
	json_decref(arr);
	const char *rid = err == 0 ? json_string_value(json_object_get(o, "id")) : NULL;
	if (err == 0 && grouped)
		err = group_fields(o, st, table, rid);
	if (err == 0) {
		add_amount_text(o);
		err = show_related(o, st, entity, rid);
	}
	if (err < 0) {
		json_decref(o);
		return err;
	}
	*out = o;
	return 0;
}

/* Channel owners whose normalized e-mail/phone contains `needle` (>= 3
 * chars).  Driven from the trigram index and joined to owners by key, one
 * branch per owner table, each stopping at 50 hits: cost follows the number
 * of hits, not the number of contacts. */
static int search_channels(json_t *arr, crm_store *st, const char *needle)
{
	char match[Q_MAX + 4];
	snprintf(match, sizeof(match), "\"%s\"", needle);
	return crm_query_rows(arr, st,
		"SELECT * FROM (SELECT coalesce(a.survivor, p.id) AS id, 'contact' AS entity, "
		"  trim(coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, '')) AS title, ch.value AS detail "
		"  FROM channels_fts f JOIN channels ch ON ch.rowid = f.rowid JOIN contacts p ON p.id = ch.owner_id "
		"  LEFT JOIN crm_alias a ON a.id = p.id "
		"  WHERE channels_fts MATCH ?1 AND ch.deleted = 0 AND p.deleted = 0 LIMIT 50) "
		"UNION ALL SELECT * FROM (SELECT coalesce(a.survivor, c.id), 'company', c.name, ch.value "
		"  FROM channels_fts f JOIN channels ch ON ch.rowid = f.rowid JOIN companies c ON c.id = ch.owner_id "
		"  LEFT JOIN crm_alias a ON a.id = c.id "
		"  WHERE channels_fts MATCH ?1 AND ch.deleted = 0 AND c.deleted = 0 LIMIT 50)", match, NULL);
}

/* Names through FTS5, driven from the index with early stop per entity.  A
 * contact or company hit that was merged away is reported as its group's
 * survivor, with the survivor's own name, as lists show it; dedupe then
 * keeps one line per group. */
static int search_names(json_t *arr, crm_store *st, const char *match)
{
	return crm_query_rows(arr, st,
		"SELECT * FROM (SELECT s.id, 'contact' AS entity, "
		"  trim(coalesce(s.first_name, '') || ' ' || coalesce(s.last_name, '')) AS title, s.title AS detail "
		"  FROM contacts_fts f JOIN contacts p ON p.rowid = f.rowid LEFT JOIN crm_alias a ON a.id = p.id "
		"  JOIN contacts s ON s.id = coalesce(a.survivor, p.id) "
		"  WHERE contacts_fts MATCH ?1 AND p.deleted = 0 AND s.deleted = 0 LIMIT 50) "
		"UNION ALL SELECT * FROM (SELECT s.id, 'company', s.name, s.tax_id FROM companies_fts f "
		"  JOIN companies c ON c.rowid = f.rowid LEFT JOIN crm_alias a ON a.id = c.id "
		"  JOIN companies s ON s.id = coalesce(a.survivor, c.id) "
		"  WHERE companies_fts MATCH ?1 AND c.deleted = 0 AND s.deleted = 0 LIMIT 50) "
		"UNION ALL SELECT * FROM (SELECT d.id, 'deal', d.title, NULL FROM deals_fts f "
		"  JOIN deals d ON d.rowid = f.rowid WHERE deals_fts MATCH ?1 AND d.deleted = 0 LIMIT 50)", match, NULL);
}

/* A query that looks like a phone number: digits and phone punctuation only. */
static int phone_like(const char *q, size_t *digits)
{
	*digits = 0;
	for (const char *p = q; *p; p++) {
		if (isdigit((unsigned char)*p))
			(*digits)++;
		else if (!strchr(" +-().", *p))
			return 0;
	}
	return *digits >= 3;
}

static void dedupe(json_t *arr, size_t limit)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *id = json_string_value(json_object_get(json_array_get(arr, i), "id"));
		for (size_t j = i + 1; j < json_array_size(arr);) {
			const char *other = json_string_value(json_object_get(json_array_get(arr, j), "id"));
			if (id && other && strcmp(id, other) == 0)
				json_array_remove(arr, j);
			else
				j++;
		}
	}
	while (json_array_size(arr) > limit)
		json_array_remove(arr, json_array_size(arr) - 1);
}

int crm_query_search(json_t **out, crm_store *st, const char *q, size_t limit)
{
	*out = NULL;
	size_t len = strlen(q), digits;
	if (len == 0)
		return CRM_ERR(CRM_EINVAL, "search for what? give a name, e-mail or phone");
	if (len > Q_MAX)
		return CRM_ERR(CRM_ELIMIT, "search text is too long (%zu bytes, at most %d)", len, Q_MAX);
	json_t *arr = json_array();
	int err = 0;
	char buf[Q_MAX + 1], match[Q_MAX * 2 + 64];
	if (phone_like(q, &digits)) {
		/* National format first ("8 495 …" → "+7495…"), then the raw digits. */
		if (crm_norm_phone(buf, sizeof(buf), q, crm_store_setting(st, "country")) == 0)
			err = search_channels(arr, st, buf + 1);
		crm_error_clear();
		crm_digits(buf, sizeof(buf), q);
		if (err == 0)
			err = search_channels(arr, st, buf);
		/* Digits are also tax ids and numbers in names. */
		if (err == 0 && (err = fts_query(match, sizeof(match), buf)) == 0)
			err = search_names(arr, st, match);
	} else if (strchr(q, '@') && len >= 3) {
		for (size_t i = 0; i <= len; i++)
			buf[i] = (char)tolower((unsigned char)q[i]);
		for (char *p = buf; *p; p++)
			if (*p == '"')
				*p = ' ';
		err = search_channels(arr, st, buf);
	} else {
		err = fts_query(match, sizeof(match), q);
		if (err == 0)
			err = search_names(arr, st, match);
		if (err == 0 && len >= 3 && !strchr(q, '"'))
			err = search_channels(arr, st, q);
	}
	if (err < 0) {
		json_decref(arr);
		return err;
	}
	dedupe(arr, limit ? limit : 50);
	*out = arr;
	return 0;
}

static int simple_list(json_t **out, crm_store *st, const char *sql, const char *a1, const char *a2)
{
	json_t *arr = json_array();
	int err = crm_query_rows(arr, st, sql, a1, a2);
	if (err < 0) {
		json_decref(arr);
		return err;
	}
	*out = arr;
	return 0;
}

int crm_query_attachments(json_t **out, crm_store *st, const char *entity, const char *id)
{
	*out = NULL;
	int err = crm_entity_check(st, entity, id);
	return err < 0 ? err : simple_list(out, st, "SELECT id, name, size, sha256, created_at FROM attachments "
					   "WHERE entity_id = lower(?1) AND deleted = 0 ORDER BY created_at, id", id, NULL);
}

int crm_query_log(json_t **out, crm_store *st, size_t limit)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT lseq, oid, node, seq FROM crm_applied ORDER BY lseq DESC LIMIT %zu",
		 limit ? limit : (size_t)-1 >> 1);
	return simple_list(out, st, sql, NULL, NULL);
}

int crm_query_keys(json_t **out, crm_store *st)
{
	return simple_list(out, st, "SELECT node AS id, name, source, revoked, pubkey FROM crm_keys ORDER BY node",
			   NULL, NULL);
}

int crm_query_forks(json_t **out, crm_store *st)
{
	return simple_list(out, st, "SELECT node AS id, seq, known_oid, other_oid, detected_at FROM crm_forks "
			   "ORDER BY detected_at, node", NULL, NULL);
}
