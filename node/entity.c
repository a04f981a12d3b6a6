/*
 * entity.c — validation, defaults and multi-row user actions (see entity.h).
 *
 * Design notes
 *  1. Phase order for every action: resolve names → validate and convert every
 *     value → check references → write.  Nothing is written before the last
 *     check passed, and the writes share one transaction.
 *  2. The field tables below say what a person may set and how it is checked;
 *     which columns exist and replicate comes from schema/ (store.c catalog).
 *  3. E-mail and phone are not columns of contacts/companies: each is a row of
 *     `channels` (raw value kept, normalized value searched), so a person can
 *     have several and they merge field by field.
 */
#include "entity.h"
#include "error.h"
#include "merge.h"
#include "normalize.h"
#include "write.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_KV 48
#define TEXT_MAX 1000
#define BODY_MAX 100000

typedef enum fkind {
	F_TEXT, F_BODY, F_DATE, F_DATETIME, F_MONEY, F_CURRENCY, F_INT, F_PERCENT,
	F_BOOL, F_ENUM, F_REF, F_EMAIL, F_URL, F_MONTH, F_USER, F_STAGE, F_PIPELINE,
	F_CHANNEL,   /* pseudo-field: e-mail / phone kept in channels */
} fkind;

typedef struct fspec {
	const char *col;
	fkind kind;
	int required;        /* 1: needed on add, never cleared; 2: may be omitted on add, never cleared */
	const char *arg;     /* enum values ("a|b|c"), ref entity, or channel kind */
} fspec;

typedef struct espec {
	const char *name;
	const char *table;
	const fspec *fields;
	int owned;           /* has owner_id/branch_id/created_at defaults */
} espec;

static const fspec company_f[] = {
	{"name", F_TEXT, 1, NULL}, {"tax_id", F_TEXT, 0, NULL}, {"industry", F_TEXT, 0, NULL},
	{"website", F_URL, 0, NULL}, {"address", F_TEXT, 0, NULL},
	{"owner_id", F_USER, 0, NULL}, {"branch_id", F_REF, 0, "branch"},
	{"email", F_CHANNEL, 0, "email"}, {"phone", F_CHANNEL, 0, "phone"}, {NULL, 0, 0, NULL},
};
static const fspec contact_f[] = {
	{"first_name", F_TEXT, 1, NULL}, {"last_name", F_TEXT, 0, NULL}, {"title", F_TEXT, 0, NULL},
	{"birthday", F_DATE, 0, NULL}, {"company_id", F_REF, 0, "company"},
	{"next_contact", F_DATE, 0, NULL}, {"owner_id", F_USER, 0, NULL},
	{"branch_id", F_REF, 0, "branch"},
	{"email", F_CHANNEL, 0, "email"}, {"phone", F_CHANNEL, 0, "phone"}, {NULL, 0, 0, NULL},
};
static const fspec deal_f[] = {
	{"title", F_TEXT, 1, NULL}, {"company_id", F_REF, 0, "company"},
	{"contact_id", F_REF, 0, "contact"}, {"pipeline_id", F_PIPELINE, 2, NULL},
	{"stage_id", F_STAGE, 2, NULL}, {"currency", F_CURRENCY, 2, NULL},
	{"amount", F_MONEY, 0, NULL}, {"probability", F_PERCENT, 0, NULL},
	{"expected_close", F_DATE, 0, NULL}, {"source", F_TEXT, 0, NULL},
	{"lost_reason", F_TEXT, 0, NULL}, {"owner_id", F_USER, 0, NULL},
	{"branch_id", F_REF, 0, "branch"}, {NULL, 0, 0, NULL},
};
static const fspec activity_f[] = {
	{"kind", F_ENUM, 1, "call|meeting|email|note"}, {"subject", F_TEXT, 1, NULL},
	{"body", F_BODY, 0, NULL}, {"at", F_DATETIME, 0, NULL}, {"done", F_BOOL, 0, NULL},
	{"result", F_TEXT, 0, NULL}, {"next_contact", F_DATE, 0, NULL},
	{"company_id", F_REF, 0, "company"}, {"contact_id", F_REF, 0, "contact"},
	{"deal_id", F_REF, 0, "deal"}, {"owner_id", F_USER, 0, NULL},
	{"branch_id", F_REF, 0, "branch"}, {NULL, 0, 0, NULL},
};
static const fspec task_f[] = {
	{"title", F_TEXT, 1, NULL}, {"body", F_BODY, 0, NULL}, {"due", F_DATETIME, 0, NULL},
	{"reminder_at", F_DATETIME, 0, NULL}, {"priority", F_ENUM, 0, "low|normal|high"},
	{"status", F_ENUM, 0, "open|in_progress|done|cancelled"}, {"assignee_id", F_USER, 0, NULL},
	{"company_id", F_REF, 0, "company"}, {"contact_id", F_REF, 0, "contact"},
	{"deal_id", F_REF, 0, "deal"}, {"branch_id", F_REF, 0, "branch"}, {NULL, 0, 0, NULL},
};
static const fspec lead_f[] = {
	{"title", F_TEXT, 1, NULL}, {"first_name", F_TEXT, 0, NULL}, {"last_name", F_TEXT, 0, NULL},
	{"company_name", F_TEXT, 0, NULL}, {"email", F_EMAIL, 0, NULL}, {"phone", F_TEXT, 0, NULL},
	{"source", F_TEXT, 0, NULL}, {"status", F_ENUM, 0, "new|working|converted|disqualified"},
	{"contact_id", F_REF, 0, "contact"}, {"company_id", F_REF, 0, "company"},
	{"deal_id", F_REF, 0, "deal"}, {"owner_id", F_USER, 0, NULL},
	{"branch_id", F_REF, 0, "branch"}, {NULL, 0, 0, NULL},
};
static const fspec note_f[] = {
	{"body", F_BODY, 1, NULL}, {"company_id", F_REF, 0, "company"},
	{"contact_id", F_REF, 0, "contact"}, {"deal_id", F_REF, 0, "deal"},
	{"owner_id", F_USER, 0, NULL}, {"branch_id", F_REF, 0, "branch"}, {NULL, 0, 0, NULL},
};
static const fspec user_f[] = {
	{"login", F_TEXT, 1, NULL}, {"name", F_TEXT, 0, NULL}, {"email", F_EMAIL, 0, NULL},
	{"branch_id", F_REF, 0, "branch"}, {"manager_id", F_USER, 0, NULL}, {NULL, 0, 0, NULL},
};
static const fspec plan_f[] = {
	{"month", F_MONTH, 1, NULL}, {"user_id", F_USER, 0, NULL}, {"branch_id", F_REF, 0, "branch"},
	{"currency", F_CURRENCY, 0, NULL}, {"amount", F_MONEY, 1, NULL}, {NULL, 0, 0, NULL},
};
/* A person working for a company besides (or instead of) contacts.company_id:
 * contact_companies, the "one or more companies" of a contact. */
static const fspec link_f[] = {
	{"contact_id", F_REF, 1, "contact"}, {"company_id", F_REF, 1, "company"},
	{"role", F_TEXT, 0, NULL}, {NULL, 0, 0, NULL},
};
static const fspec branch_f[] = {
	{"code", F_TEXT, 1, NULL}, {"name", F_TEXT, 0, NULL}, {NULL, 0, 0, NULL},
};

static const espec entities[] = {
	{"company", "companies", company_f, 1}, {"contact", "contacts", contact_f, 1},
	{"deal", "deals", deal_f, 1}, {"activity", "activities", activity_f, 1},
	{"task", "tasks", task_f, 1}, {"lead", "leads", lead_f, 1},
	{"note", "notes", note_f, 1}, {"user", "users", user_f, 0},
	{"plan", "plans", plan_f, 0}, {"branch", "branches", branch_f, 0},
	{"link", "contact_companies", link_f, 0},
};
#define ENTITY_COUNT (sizeof(entities) / sizeof(entities[0]))

/* Short names people type, per column suffix or whole name. */
static const char *const aliases[][2] = {
	{"first", "first_name"}, {"last", "last_name"}, {"company", "company_id"},
	{"contact", "contact_id"}, {"deal", "deal_id"}, {"pipeline", "pipeline_id"},
	{"stage", "stage_id"}, {"owner", "owner_id"}, {"branch", "branch_id"},
	{"assignee", "assignee_id"}, {"manager", "manager_id"}, {"user", "user_id"},
	{"close", "expected_close"}, {"reason", "lost_reason"}, {"reminder", "reminder_at"},
};

static const espec *find_entity(const char *name)
{
	for (size_t i = 0; i < ENTITY_COUNT; i++)
		if (strcmp(entities[i].name, name) == 0)
			return &entities[i];
	return NULL;
}

int crm_entity_known(const char *entity) { return find_entity(entity) != NULL; }

const char *crm_entity_table(const char *entity)
{
	const espec *e = find_entity(entity);
	return e ? e->table : NULL;
}

const char *crm_entity_names(void)
{
	return "company contact deal activity task lead note user plan branch link";
}

/* Canonical column name for what a person typed: '-' → '_', aliases. */
static void canon_key(char *out, size_t cap, const char *key)
{
	snprintf(out, cap, "%s", key);
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(out, aliases[i][0]) == 0)
			snprintf(out, cap, "%s", aliases[i][1]);
}

static const fspec *find_field(const espec *e, const char *col)
{
	for (const fspec *f = e->fields; f->col; f++)
		if (strcmp(f->col, col) == 0)
			return f;
	return NULL;
}

static void field_list(char *out, size_t cap, const espec *e)
{
	size_t off = 0;
	out[0] = '\0';
	for (const fspec *f = e->fields; f->col && off < cap; f++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? ", " : "", f->col);
}

/* --------------------------------------------------------------- values -- */

/* Strings that outlive one conversion (normalized text) live here until the
 * action is written. */
typedef struct action {
	crm_store *st;
	const espec *e;
	const char *id;           /* row being written */
	crm_field f[MAX_KV];
	size_t count;
	char text[MAX_KV][256];   /* converted short text per field */
	const char *clear_kind[2];   /* channel kinds to clear on set ("email=") */
	size_t clear_count;
	const char *chan_kind[8];
	const char *chan_raw[8];
	char chan_norm[8][256];
	size_t chan_count;
	const char *currency;     /* for amounts: given, stored, or default */
	const char *amount_raw;
	const char *pipeline_id;  /* for stage names */
	char pipeline_buf[40];
	const char *stage_raw;
	int creating;
} action;

static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
		if (n < 0 || (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r'))
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static int check_text(const fspec *f, const char *v)
{
	size_t max = f->kind == F_BODY ? BODY_MAX : TEXT_MAX;
	if (strlen(v) > max)
		return CRM_ERR(CRM_EINVAL, "%s is too long (%zu bytes, at most %zu)", f->col, strlen(v), max);
	if (!utf8_ok(v))
		return CRM_ERR(CRM_EINVAL, "%s is not valid UTF-8 text or holds control characters", f->col);
	if (f->kind != F_BODY && strchr(v, '\n'))
		return CRM_ERR(CRM_EINVAL, "%s must be one line", f->col);
	return 0;
}

static int parse_int(int64_t *out, const char *col, const char *v, int64_t lo, int64_t hi)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || n < lo || n > hi)
		return CRM_ERR(CRM_EINVAL, "%s must be a whole number from %lld to %lld, not '%s'",
			       col, (long long)lo, (long long)hi, v);
	*out = n;
	return 0;
}

static int parse_bool(int64_t *out, const char *col, const char *v)
{
	static const char *const yes[] = {"1", "yes", "true", "y", "on", "done"};
	static const char *const no[] = {"0", "no", "false", "n", "off"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return (*out = 1), 0;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			return (*out = 0), 0;
	return CRM_ERR(CRM_EINVAL, "%s must be yes or no, not '%s'", col, v);
}

static int check_enum(const fspec *f, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = f->arg; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return 0;
		p += len + (bar ? 1 : 0);
	}
	return CRM_ERR(CRM_EINVAL, "%s must be one of %s, not '%s'", f->col, f->arg, v);
}

static int check_month(const char *col, const char *v)
{
	char d[16];
	if (strlen(v) != 7 || v[4] != '-')
		return CRM_ERR(CRM_EINVAL, "%s must be a month YYYY-MM, not '%s'", col, v);
	snprintf(d, sizeof(d), "%s-01", v);
	if (crm_parse_date(d) < 0)
		return CRM_ERR(CRM_EINVAL, "%s must be a month YYYY-MM, not '%s'", col, v);
	return 0;
}

static int check_url(const char *col, const char *v)
{
	if (strchr(v, ' ') || !strchr(v, '.') || strlen(v) < 4)
		return CRM_ERR(CRM_EINVAL, "%s '%s' does not look like a web address (example.com)", col, v);
	return 0;
}

int crm_entity_check(crm_store *st, const char *entity, const char *id)
{
	const espec *e = find_entity(entity);
	if (!e)
		return CRM_ERR(CRM_EINVAL, "unknown kind of record '%s'", entity);
	if (!crm_uuid_valid(id))
		return CRM_ERR(CRM_EINVAL, "'%s' is not a %s id (ids look like 0190f5b2-7c4e-7a3b-9f00-1234567890ab)", id, entity);
	char sql[128];
	int64_t deleted;
	snprintf(sql, sizeof(sql), "SELECT deleted FROM \"%s\" WHERE id = lower(?1)", e->table);
	int err = crm_db_get_int(crm_store_db(st), &deleted, sql, id);
	if (err == CRM_ENOTFOUND || (err == 0 && deleted))
		return CRM_ERR(CRM_ENOTFOUND, "no %s with id %s%s", entity, id, err == 0 ? " (it was deleted)" : "");
	return err;
}

/* A user given by login or id → id in buf. */
static int resolve_user(crm_store *st, char *buf, size_t cap, const char *col, const char *v)
{
	char *id = NULL;
	int err = crm_db_get_text(crm_store_db(st), &id,
				  "SELECT id FROM users WHERE deleted = 0 AND (login = ?1 OR id = lower(?1)) "
				  "ORDER BY id LIMIT 1", v);
	if (err == CRM_ENOTFOUND)
		return CRM_ERR(CRM_EINVAL, "%s: no user with login or id '%s' (see 'crm user list')", col, v);
	if (err == 0)
		snprintf(buf, cap, "%s", id);
	free(id);
	return err;
}

static int resolve_pipeline(action *a, char *buf, size_t cap, const char *v)
{
	char *id = NULL;
	int err = crm_db_get_text(crm_store_db(a->st), &id,
				  "SELECT id FROM pipelines WHERE deleted = 0 AND (name = ?1 COLLATE NOCASE "
				  "OR id = lower(?1)) ORDER BY position, id LIMIT 1", v);
	if (err == CRM_ENOTFOUND)
		return CRM_ERR(CRM_EINVAL, "no pipeline named '%s'", v);
	if (err == 0)
		snprintf(buf, cap, "%s", id);
	free(id);
	return err;
}

/* The stage named v (or given by id) in pipeline a->pipeline_id. */
static int resolve_stage(action *a, char *buf, size_t cap, const char *v)
{
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(a->st), &q,
				 "SELECT id FROM stages WHERE deleted = 0 AND pipeline_id = ?1 AND "
				 "(name = ?2 COLLATE NOCASE OR id = lower(?2)) ORDER BY position, id LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, a->pipeline_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, v, -1, SQLITE_STATIC);
	err = crm_db_step(crm_store_db(a->st), q);
	if (err == 1)
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_reset(q);
	if (err != 0)
		return err < 0 ? err : 0;
	/* Name the choices: the person mistyped a stage. */
	char names[512] = "";
	size_t off = 0;
	err = crm_db_prepare(crm_store_db(a->st), &q,
			     "SELECT name FROM stages WHERE deleted = 0 AND pipeline_id = ?1 ORDER BY position, id");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, a->pipeline_id, -1, SQLITE_STATIC);
	while (crm_db_step(crm_store_db(a->st), q) == 1 && off < sizeof(names))
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", off ? ", " : "",
					(const char *)sqlite3_column_text(q, 0));
	sqlite3_reset(q);
	return CRM_ERR(CRM_EINVAL, "no stage '%s' in this pipeline; stages are: %s", v, names);
}

static void now_iso(crm_store *st, char out[32])
{
	uint64_t ms = crm_store_now_ms(st);
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int add_field(action *a, const char *col, crm_value v)
{
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->f[i].col, col) == 0)
			return CRM_ERR(CRM_EINVAL, "field '%s' given twice", col);
	if (a->count >= MAX_KV)
		return CRM_ERR(CRM_ELIMIT, "too many fields in one command (at most %d)", MAX_KV);
	a->f[a->count].col = col;
	a->f[a->count].v = v;
	a->count++;
	return 0;
}

/* Store converted text in the action's buffer of the next field. */
static crm_value keep(action *a, const char *s)
{
	char *buf = a->text[a->count];
	snprintf(buf, sizeof(a->text[0]), "%s", s);
	return CRM_TEXT(buf);
}

static int add_channel(action *a, const fspec *f, const char *v)
{
	if (a->chan_count >= 8)
		return CRM_ERR(CRM_ELIMIT, "at most 8 e-mails and phones in one command");
	char *norm = a->chan_norm[a->chan_count];
	int err = strcmp(f->arg, "email") == 0
			  ? crm_norm_email(norm, sizeof(a->chan_norm[0]), v)
			  : crm_norm_phone(norm, sizeof(a->chan_norm[0]), v, crm_store_setting(a->st, "country"));
	if (err < 0)
		return err;
	a->chan_kind[a->chan_count] = f->arg;
	a->chan_raw[a->chan_count] = v;
	a->chan_count++;
	return 0;
}

/* Validate one typed value and add it to the action (money and stage wait
 * for their currency and pipeline). */
static int convert(action *a, const fspec *f, const char *v)
{
	char buf[256];
	int64_t n = 0;
	int err = 0;
	if (!*v && f->kind != F_CHANNEL) {
		if (f->required)
			return CRM_ERR(CRM_EINVAL, "%s is required and cannot be cleared", f->col);
		return f->kind == F_BOOL ? add_field(a, f->col, CRM_INT(0)) : add_field(a, f->col, CRM_NULLV);
	}
	switch (f->kind) {
	case F_TEXT:
	case F_BODY:
		if (f->required && strspn(v, " \t\r\n") == strlen(v))
			return CRM_ERR(CRM_EINVAL, "%s is required and cannot be blank", f->col);
		return (err = check_text(f, v)) < 0 ? err : add_field(a, f->col, CRM_TEXT(v));
	case F_DATE:
		if (crm_parse_date(v) < 0)
			return CRM_ERR(CRM_EINVAL, "%s must be a date YYYY-MM-DD, not '%s'", f->col, v);
		return add_field(a, f->col, CRM_TEXT(v));
	case F_DATETIME:
		if (crm_parse_datetime(buf, sizeof(buf), v) < 0)
			return CRM_ERR(CRM_EINVAL, "%s must be a date or time like 2026-11-23 or 2026-11-23T15:30+03:00, not '%s'", f->col, v);
		return add_field(a, f->col, keep(a, buf));
	case F_MONEY:
		a->amount_raw = v;
		return 0;
	case F_CURRENCY:
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *p = buf; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (crm_currency_exponent(buf) < 0)
			return CRM_ERR(CRM_EINVAL, "'%s' is not an ISO 4217 currency code (EUR, USD, RUB, ...)", v);
		a->currency = a->text[a->count];
		return add_field(a, f->col, keep(a, buf));
	case F_INT:
	case F_PERCENT:
		err = parse_int(&n, f->col, v, f->kind == F_PERCENT ? 0 : INT32_MIN, f->kind == F_PERCENT ? 100 : INT32_MAX);
		return err < 0 ? err : add_field(a, f->col, CRM_INT(n));
	case F_BOOL:
		return (err = parse_bool(&n, f->col, v)) < 0 ? err : add_field(a, f->col, CRM_INT(n));
	case F_ENUM:
		return (err = check_enum(f, v)) < 0 ? err : add_field(a, f->col, CRM_TEXT(v));
	case F_REF:
		if ((err = crm_entity_check(a->st, f->arg, v)) < 0)
			return err;
		for (size_t i = 0; v[i] && i < sizeof(buf) - 1; i++)
			buf[i] = (char)tolower((unsigned char)v[i]), buf[i + 1] = '\0';
		return add_field(a, f->col, keep(a, buf));
	case F_EMAIL:
		return (err = crm_norm_email(buf, sizeof(buf), v)) < 0 ? err : add_field(a, f->col, keep(a, buf));
	case F_URL:
		return (err = check_url(f->col, v)) < 0 ? err : add_field(a, f->col, CRM_TEXT(v));
	case F_MONTH:
		return (err = check_month(f->col, v)) < 0 ? err : add_field(a, f->col, CRM_TEXT(v));
	case F_USER:
		err = resolve_user(a->st, buf, sizeof(buf), f->col, v);
		return err < 0 ? err : add_field(a, f->col, keep(a, buf));
	case F_PIPELINE:
		if ((err = resolve_pipeline(a, a->pipeline_buf, sizeof(a->pipeline_buf), v)) < 0)
			return err;
		a->pipeline_id = a->pipeline_buf;
		return add_field(a, f->col, keep(a, a->pipeline_buf));
	case F_STAGE:
		a->stage_raw = v;
		return 0;
	case F_CHANNEL:
		if (*v)
			return add_channel(a, f, v);
		if (a->creating || a->clear_count >= 2)
			return 0;
		a->clear_kind[a->clear_count++] = f->arg;
		return 0;
	}
	return CRM_ERR(CRM_EINVAL, "unsupported field %s", f->col);
}

static int convert_all(action *a, const crm_kv *kv, size_t count)
{
	if (count > MAX_KV)
		return CRM_ERR(CRM_ELIMIT, "too many fields in one command (at most %d)", MAX_KV);
	for (size_t i = 0; i < count; i++) {
		char col[64];
		canon_key(col, sizeof(col), kv[i].key);
		const fspec *f = find_field(a->e, col);
		if (!f) {
			char list[512];
			field_list(list, sizeof(list), a->e);
			return CRM_ERR(CRM_EINVAL, "a %s has no field '%s'; fields are: %s", a->e->name, kv[i].key, list);
		}
		int err = convert(a, f, kv[i].value ? kv[i].value : "");
		if (err < 0)
			return err;
	}
	return 0;
}

static int has_field(const action *a, const char *col)
{
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->f[i].col, col) == 0)
			return 1;
	return 0;
}

/* Text of column `col` of the row being edited into buf ("" if NULL/absent). */
static void stored_text(action *a, const char *col, char *buf, size_t cap)
{
	char sql[160], *v = NULL;
	snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM \"%s\" WHERE id = ?1", col, a->e->table);
	buf[0] = '\0';
	if (crm_db_get_text(crm_store_db(a->st), &v, sql, a->id) == 0 && v)
		snprintf(buf, cap, "%s", v);
	free(v);
}

/* Money needs its currency: given in this command, stored on the row, or the
 * replica's default (then written too, so the amount is never ambiguous). */
static int finish_money(action *a)
{
	if (!a->amount_raw)
		return 0;
	const char *currency = a->currency;
	char cur[8] = "";
	int err = 0;
	if (!currency) {
		if (!a->creating)
			stored_text(a, "currency", cur, sizeof(cur));
		if (*cur) {
			currency = cur;
		} else {
			if ((err = add_field(a, "currency", keep(a, crm_store_setting(a->st, "currency")))) < 0)
				return err;
			currency = a->f[a->count - 1].v.s;
		}
	}
	if (!*a->amount_raw)
		return add_field(a, "amount", CRM_NULLV);
	int64_t minor;
	err = crm_parse_amount(&minor, a->amount_raw, currency);
	return err < 0 ? err : add_field(a, "amount", CRM_INT(minor));
}

/* The pipeline of the deal being edited: named in this command, stored on
 * the row, or (on creation) the first pipeline. */
static int finish_pipeline(action *a)
{
	if (a->pipeline_id)
		return 0;
	if (!a->creating)
		stored_text(a, "pipeline_id", a->pipeline_buf, sizeof(a->pipeline_buf));
	if (!*a->pipeline_buf) {
		char *id = NULL;
		int err = crm_db_get_text(crm_store_db(a->st), &id,
					  "SELECT id FROM pipelines WHERE deleted = 0 ORDER BY position, id LIMIT 1", NULL);
		if (err < 0)
			return err == CRM_ENOTFOUND ? CRM_ERR(CRM_EINVAL, "there is no pipeline to put the deal in") : err;
		snprintf(a->pipeline_buf, sizeof(a->pipeline_buf), "%s", id);
		free(id);
		if ((err = add_field(a, "pipeline_id", keep(a, a->pipeline_buf))) < 0)
			return err;
	}
	a->pipeline_id = a->pipeline_buf;
	return 0;
}

/* The deal's stage: the one named, or on creation the pipeline's first.
 * old_stage gets the stage the deal was in ("" for a new deal). */
static int finish_stage(action *a, char *old_stage, size_t cap)
{
	char buf[64];
	old_stage[0] = '\0';
	if (strcmp(a->e->name, "deal") != 0)
		return 0;
	int err = finish_pipeline(a);
	if (err < 0)
		return err;
	if (!a->creating)
		stored_text(a, "stage_id", old_stage, cap);
	if (!a->stage_raw && !a->creating)
		return 0;
	if (a->stage_raw) {
		err = resolve_stage(a, buf, sizeof(buf), a->stage_raw);
	} else {
		char *id = NULL;
		err = crm_db_get_text(crm_store_db(a->st), &id,
				      "SELECT id FROM stages WHERE deleted = 0 AND pipeline_id = ?1 "
				      "ORDER BY position, id LIMIT 1", a->pipeline_id);
		if (err == CRM_ENOTFOUND)
			err = CRM_ERR(CRM_EINVAL, "the deal's pipeline has no stages");
		if (err == 0)
			snprintf(buf, sizeof(buf), "%s", id);
		free(id);
	}
	return err < 0 ? err : add_field(a, "stage_id", keep(a, buf));
}

static int add_default(action *a, const char *col, crm_value v)
{
	if (!find_field(a->e, col) && strcmp(col, "created_at") != 0)
		return 0;
	if (strcmp(col, "created_at") == 0 && !crm_table_column(crm_catalog_table(a->st, a->e->table), col))
		return 0;
	return has_field(a, col) ? 0 : add_field(a, col, v);
}

/* Defaults of a new record: who owns it, which branch, when, initial status. */
static int add_defaults(action *a, const char *now)
{
	const char *me = crm_store_setting(a->st, "user_id");
	const char *branch = crm_store_setting(a->st, "branch_id");
	int err = 0;
	if (a->e->owned) {
		err = add_default(a, "owner_id", CRM_TEXT(me));
		if (err == 0)
			err = add_default(a, "branch_id", CRM_TEXT(branch));
		if (err == 0)
			err = add_default(a, "created_at", CRM_TEXT(now));
	}
	if (err == 0 && strcmp(a->e->name, "activity") == 0)
		err = add_default(a, "at", CRM_TEXT(now));
	if (err == 0 && strcmp(a->e->name, "task") == 0) {
		err = add_default(a, "assignee_id", CRM_TEXT(me));
		if (err == 0)
			err = add_default(a, "status", CRM_TEXT("open"));
		if (err == 0)
			err = add_default(a, "priority", CRM_TEXT("normal"));
	}
	if (err == 0 && strcmp(a->e->name, "deal") == 0)
		err = add_default(a, "currency", CRM_TEXT(crm_store_setting(a->st, "currency")));
	if (err == 0 && strcmp(a->e->name, "lead") == 0)
		err = add_default(a, "status", CRM_TEXT("new"));
	return err;
}

static int check_required(const action *a)
{
	for (const fspec *f = a->e->fields; f->col; f++) {
		if (f->required != 1 || has_field(a, f->col) || (f->kind == F_MONEY && a->amount_raw))
			continue;
		return CRM_ERR(CRM_EINVAL, "a %s needs %s (--%s)", a->e->name, f->col, f->col);
	}
	return 0;
}

static int write_history(action *a, const char *table, const crm_field *f, size_t count)
{
	char id[CRM_ID_LEN + 1];
	int err = crm_uuid7(id, crm_store_now_ms(a->st));
	return err < 0 ? err : crm_write(a->st, table, id, f, count);
}

/* On set, a new e-mail or phone replaces the record's earlier ones of that kind. */
static int retire_channels(action *a, const char *kind)
{
	sqlite3_stmt *q;
	char ids[16][CRM_ID_LEN + 1];
	size_t n = 0;
	int err = crm_db_prepare(crm_store_db(a->st), &q,
				 "SELECT id FROM channels WHERE owner_id = ?1 AND kind = ?2 AND deleted = 0 LIMIT 16");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	while ((err = crm_db_step(crm_store_db(a->st), q)) == 1)
		snprintf(ids[n++], sizeof(ids[0]), "%s", (const char *)sqlite3_column_text(q, 0));
	crm_field del = {"deleted", CRM_INT(1)};
	for (size_t i = 0; err == 0 && i < n; i++)
		err = crm_write(a->st, "channels", ids[i], &del, 1);
	return err;
}

static int write_channels(action *a)
{
	int err = 0;
	for (size_t i = 0; err == 0 && i < a->clear_count; i++)
		err = retire_channels(a, a->clear_kind[i]);
	for (size_t i = 0; err == 0 && i < a->chan_count; i++) {
		crm_field f[] = {
			{"owner_id", CRM_TEXT(a->id)}, {"kind", CRM_TEXT(a->chan_kind[i])},
			{"value", CRM_TEXT(a->chan_raw[i])}, {"normalized", CRM_TEXT(a->chan_norm[i])},
		};
		int first = 1;
		for (size_t j = 0; j < i; j++)
			first &= strcmp(a->chan_kind[j], a->chan_kind[i]) != 0;
		if (!a->creating && first)
			err = retire_channels(a, a->chan_kind[i]);
		if (err == 0)
			err = write_history(a, "channels", f, 4);
	}
	return err;
}

/* The history rows that go with the edit: stage moves, task status. */
static int write_histories(action *a, const char *old_stage, const char *now)
{
	const char *me = crm_store_setting(a->st, "user_id");
	for (size_t i = 0; i < a->count; i++) {
		const crm_field *f = &a->f[i];
		if (strcmp(a->e->name, "deal") == 0 && strcmp(f->col, "stage_id") == 0 && f->v.s &&
		    strcmp(f->v.s, old_stage) != 0) {
			crm_field h[] = {{"deal_id", CRM_TEXT(a->id)}, {"from_stage_id", CRM_TEXT(*old_stage ? old_stage : NULL)},
					 {"to_stage_id", f->v}, {"at", CRM_TEXT(now)}, {"user_id", CRM_TEXT(me)}};
			return write_history(a, "stage_history", h, 5);
		}
		if (strcmp(a->e->name, "task") == 0 && strcmp(f->col, "status") == 0 && f->v.s) {
			crm_field h[] = {{"task_id", CRM_TEXT(a->id)}, {"status", f->v},
					 {"at", CRM_TEXT(now)}, {"user_id", CRM_TEXT(me)}};
			return write_history(a, "task_history", h, 4);
		}
	}
	return 0;
}

/* Strong keys are unique among live records: a second company with the same
 * tax id or a second contact with the same e-mail is refused here (created
 * apart on two branches, they are merged automatically instead). */
static int check_unique(action *a)
{
	int err = 0;
	for (size_t i = 0; err == 0 && i < a->count; i++) {
		const crm_field *f = &a->f[i];
		if (strcmp(a->e->name, "company") != 0 || strcmp(f->col, "tax_id") != 0 || !f->v.s)
			continue;
		char sql[] = "SELECT id FROM companies WHERE deleted = 0 AND id <> ?2 AND "
			     "upper(replace(trim(tax_id), ' ', '')) = upper(replace(trim(?1), ' ', '')) LIMIT 1";
		sqlite3_stmt *q;
		if ((err = crm_db_prepare(crm_store_db(a->st), &q, sql)) < 0)
			return err;
		sqlite3_bind_text(q, 1, f->v.s, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, a->id, -1, SQLITE_STATIC);
		if (crm_db_step(crm_store_db(a->st), q) == 1)
			err = CRM_ERR(CRM_EEXISTS, "company %s already has tax id %s", (const char *)sqlite3_column_text(q, 0), f->v.s);
		sqlite3_reset(q);
	}
	for (size_t i = 0; err == 0 && i < a->chan_count; i++) {
		if (strcmp(a->e->name, "contact") != 0 || strcmp(a->chan_kind[i], "email") != 0)
			continue;
		sqlite3_stmt *q;
		if ((err = crm_db_prepare(crm_store_db(a->st), &q, "SELECT p.id FROM channels c JOIN contacts p ON "
					  "p.id = c.owner_id AND p.deleted = 0 WHERE c.normalized = ?1 AND c.kind = 'email' "
					  "AND c.deleted = 0 AND p.id <> ?2 LIMIT 1")) < 0)
			return err;
		sqlite3_bind_text(q, 1, a->chan_norm[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, a->id, -1, SQLITE_STATIC);
		if (crm_db_step(crm_store_db(a->st), q) == 1)
			err = CRM_ERR(CRM_EEXISTS, "contact %s already has e-mail %s", (const char *)sqlite3_column_text(q, 0), a->chan_norm[i]);
		sqlite3_reset(q);
	}
	return err;
}

/* What a node enrolled as branch or laptop may write (the hub enforces the
 * same rules; refusing here tells the person at once, DESIGN.md §9). */
static int check_role(crm_store *st, const espec *e, const char *id, const char *new_branch)
{
	const char *role = crm_store_setting(st, "role");
	if (!*role || strcmp(role, "hq") == 0)
		return 0;
	static const char *const hq_only[] = {"user", "plan", "branch"};
	for (size_t i = 0; i < sizeof(hq_only) / sizeof(hq_only[0]); i++)
		if (strcmp(e->name, hq_only[i]) == 0)
			return CRM_ERR(CRM_EDENIED, "a %s node may not change %ss; headquarters does", role, e->name);
	if (!find_field(e, "branch_id") || strcmp(e->name, "company") == 0 || strcmp(e->name, "contact") == 0)
		return 0;   /* the shared customer base */
	const char *mine = crm_store_setting(st, "branch_id");
	char sql[128], *cur = NULL;
	snprintf(sql, sizeof(sql), "SELECT branch_id FROM \"%s\" WHERE id = ?1", e->table);
	crm_db_get_text(crm_store_db(st), &cur, sql, id);
	crm_error_clear();
	int other = (cur && strcmp(cur, mine) != 0) || (new_branch && strcmp(new_branch, mine) != 0);
	free(cur);
	if (other)
		return CRM_ERR(CRM_EDENIED, "a %s node may change %ss of its own branch only", role, e->name);
	return 0;
}

/* Records whose strong keys or existence changed: duplicate groups may too. */
static int keys_changed(const action *a)
{
	if (strcmp(a->e->name, "company") == 0)
		return has_field(a, "tax_id") || has_field(a, "deleted");
	if (strcmp(a->e->name, "contact") != 0)
		return 0;
	/* Only e-mail is a strong key of a person; phones are suggestions. */
	for (size_t i = 0; i < a->chan_count; i++)
		if (strcmp(a->chan_kind[i], "email") == 0)
			return 1;
	for (size_t i = 0; i < a->clear_count; i++)
		if (strcmp(a->clear_kind[i], "email") == 0)
			return 1;
	return 0;
}

/* Validate everything, then write the record and its companions in one transaction. */
static int run_action(action *a, const crm_kv *kv, size_t count)
{
	char now[32], old_stage[64];
	now_iso(a->st, now);
	int err = convert_all(a, kv, count);
	if (err == 0)
		err = finish_money(a);
	if (err == 0)
		err = finish_stage(a, old_stage, sizeof(old_stage));
	if (err == 0 && a->creating)
		err = add_defaults(a, now);
	if (err == 0 && a->creating)
		err = check_required(a);
	if (err == 0 && a->count == 0 && a->chan_count == 0 && a->clear_count == 0)
		err = CRM_ERR(CRM_EINVAL, "nothing to change: give FIELD=VALUE");
	if (err == 0)
		err = check_unique(a);
	for (size_t i = 0; err == 0 && i < a->count; i++)
		if (strcmp(a->f[i].col, "branch_id") == 0)
			err = check_role(a->st, a->e, a->id, a->f[i].v.s ? a->f[i].v.s : "");
	if (err == 0)
		err = check_role(a->st, a->e, a->id, NULL);
	if (err < 0)
		return err;
	crm_db *db = crm_store_db(a->st);
	if ((err = crm_db_begin(db)) < 0)
		return err;
	if (a->count)
		err = crm_write(a->st, a->e->table, a->id, a->f, a->count);
	else if (a->creating)
		err = CRM_ERR(CRM_EINVAL, "nothing to create");
	if (err == 0)
		err = write_channels(a);
	if (err == 0)
		err = write_histories(a, old_stage, now);
	if (err == 0 && !a->creating && keys_changed(a))
		err = crm_merge_refresh(a->st);
	if (err < 0) {
		crm_db_rollback(db);
		return err;
	}
	return crm_db_commit(db);
}

static int start_action(action *a, crm_store *st, const char *entity)
{
	memset(a, 0, sizeof(*a));
	a->st = st;
	a->e = find_entity(entity);
	if (!a->e)
		return CRM_ERR(CRM_EINVAL, "unknown kind of record '%s'; kinds are: %s", entity, crm_entity_names());
	return 0;
}

int crm_entity_add(crm_store *st, const char *entity, const crm_kv *kv, size_t count,
		   char out_id[CRM_ID_LEN + 1])
{
	action *a = malloc(sizeof(*a));
	if (!a)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int err = start_action(a, st, entity);
	if (err == 0)
		err = crm_uuid7(out_id, crm_store_now_ms(st));
	if (err == 0) {
		a->id = out_id;
		a->creating = 1;
		err = run_action(a, kv, count);
	}
	free(a);
	return err;
}

int crm_entity_set(crm_store *st, const char *entity, const char *id, const crm_kv *kv, size_t count)
{
	action *a = malloc(sizeof(*a));
	char lid[CRM_ID_LEN + 1];
	if (!a)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int err = start_action(a, st, entity);
	if (err == 0)
		err = crm_entity_check(st, entity, id);
	if (err == 0) {
		for (size_t i = 0; i <= CRM_ID_LEN; i++)
			lid[i] = (char)tolower((unsigned char)id[i]);
		a->id = lid;
		err = run_action(a, kv, count);
	}
	free(a);
	return err;
}

static int set_deleted(crm_store *st, const char *entity, const char *id, int deleted)
{
	const char *table = crm_entity_table(entity);
	if (!table)
		return CRM_ERR(CRM_EINVAL, "unknown kind of record '%s'; kinds are: %s", entity, crm_entity_names());
	int err = crm_entity_check(st, entity, id);
	if (deleted == 0) {
		if (err == 0)
			return CRM_ERR(CRM_EINVAL, "%s %s is not deleted", entity, id);
		if (err != CRM_ENOTFOUND || !strstr(crm_error_last(), "deleted"))
			return err;
	} else if (err < 0) {
		return err;
	}
	char lid[CRM_ID_LEN + 1];
	for (size_t i = 0; i <= CRM_ID_LEN; i++)
		lid[i] = (char)tolower((unsigned char)id[i]);
	crm_field f = {"deleted", CRM_INT(deleted)};
	if ((err = check_role(st, find_entity(entity), lid, NULL)) < 0)
		return err;
	int grouped = strcmp(entity, "company") == 0 || strcmp(entity, "contact") == 0;
	if ((err = crm_db_begin(crm_store_db(st))) < 0)
		return err;
	err = crm_write(st, table, lid, &f, 1);
	if (err == 0 && grouped)
		err = crm_merge_refresh(st);
	if (err < 0) {
		crm_db_rollback(crm_store_db(st));
		return err;
	}
	return crm_db_commit(crm_store_db(st));
}

int crm_entity_delete(crm_store *st, const char *entity, const char *id)
{
	return set_deleted(st, entity, id, 1);
}

int crm_entity_restore(crm_store *st, const char *entity, const char *id)
{
	return set_deleted(st, entity, id, 0);
}

int crm_deal_move(crm_store *st, const char *id, const char *stage, const char *reason)
{
	crm_kv kv[2] = {{"stage_id", stage}, {"lost_reason", reason}};
	if (!stage || !*stage)
		return CRM_ERR(CRM_EINVAL, "name the stage to move the deal to (--stage NAME)");
	return crm_entity_set(st, "deal", id, kv, reason ? 2 : 1);
}
