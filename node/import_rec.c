/*
 * import_rec.c — one imported record: check every value (naming its column),
 * find the record it duplicates, write it with crm_entity_add / _set, count
 * suggestions.  Reads the store to match; never writes SQL (design notes in
 * import.c).
 */
#include "import_int.h"
#include "entity.h"
#include "error.h"
#include "normalize.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KV_MAX 48            /* entity.c's limit per action */
#define CHAN_MAX 8           /* entity.c's e-mails + phones per action */
#define TEXT_CAP 1001        /* entity.c TEXT_MAX + 1 */

/* --------------------------------------------------------- hash tables -- */

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

void imp_hmap_free(hmap *m)
{
	free(m->keys);
	free(m->ids);
	memset(m, 0, sizeof(*m));
}

static size_t hmap_slot(const hmap *m, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	while (m->keys[i] && m->keys[i] != h)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Add key (keeping the first id for a key). */
static int hmap_put(hmap *m, const char *key, const char *id)
{
	if ((m->count + 1) * 2 > m->cap) {
		hmap old = *m;
		m->cap = old.cap ? old.cap * 2 : 1024;
		m->keys = calloc(m->cap, sizeof(*m->keys));
		m->ids = m->with_ids ? calloc(m->cap, sizeof(*m->ids)) : NULL;
		if (!m->keys || (m->with_ids && !m->ids)) {
			free(m->keys);
			free(m->ids);
			*m = old;
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < old.cap; i++) {
			if (!old.keys[i])
				continue;
			size_t s = hmap_slot(m, old.keys[i]);
			m->keys[s] = old.keys[i];
			if (m->ids)
				memcpy(m->ids[s], old.ids[i], sizeof(m->ids[0]));
		}
		free(old.keys);
		free(old.ids);
	}
	uint64_t h = hash_key(key);
	size_t s = hmap_slot(m, h);
	if (m->keys[s])
		return 0;
	m->keys[s] = h;
	if (m->ids)
		snprintf(m->ids[s], sizeof(m->ids[0]), "%s", id ? id : "");
	m->count++;
	return 0;
}

/* The id stored for key ("" in a set), or NULL if absent. */
static const char *hmap_get(const hmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t s = hmap_slot(m, hash_key(key));
	return m->keys[s] ? (m->ids ? m->ids[s] : "") : NULL;
}

/* Keys as `crm duplicates` compares them: SQLite lower() folds ASCII only. */
static void key_name(char *out, size_t cap, const char *a, const char *b)
{
	size_t o = 0;
	while (*a == ' ')
		a++;
	for (; *a && o + 1 < cap; a++)
		out[o++] = (char)(*a >= 'A' && *a <= 'Z' ? *a + 32 : *a);
	while (!b && o && out[o - 1] == ' ')
		o--;
	if (b && o + 1 < cap)
		out[o++] = '\t';
	for (; b && *b && o + 1 < cap; b++)
		out[o++] = (char)(*b >= 'A' && *b <= 'Z' ? *b + 32 : *b);
	out[o] = '\0';
}

static void key_tax(char *out, size_t cap, const char *t)
{
	size_t o = 0;
	for (; *t && o + 1 < cap; t++)
		if (*t != ' ')
			out[o++] = (char)toupper((unsigned char)*t);
	out[o] = '\0';
}

void imp_rec_free(rec *r)
{
	for (size_t i = 0; i < r->ntmp; i++)
		free(r->tmp[i]);
	r->ntmp = 0;
}

char *imp_rec_keep(rec *r, char *s)
{
	if (!s || r->ntmp >= REC_MAX) {
		free(s);
		return NULL;
	}
	return r->tmp[r->ntmp++] = s;
}

int imp_rec_push(rec *r, const char *field, char *value, const char *src, unsigned line)
{
	while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
		value++;
	size_t n = strlen(value);
	while (n && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' || value[n - 1] == '\n'))
		value[--n] = '\0';
	if (!n)
		return 0;
	if (r->n >= REC_MAX)
		return CRM_ERR(CRM_ELIMIT, "more than %d values in one record", REC_MAX);
	r->v[r->n++] = (rval){field, value, src, NULL, line};
	return 0;
}

static rval *get(rec *r, const char *field)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].field, field) == 0)
			return &r->v[i];
	return NULL;
}

const char *imp_val(rec *r, const char *field)
{
	rval *v = get(r, field);
	return v ? v->value : NULL;
}

static void warn(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(importer *im, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_array_size(im->warnings) < LIST_MAX)
		json_array_append_new(im->warnings, json_string(msg));
}

/* A problem with one value: "FILE:LINE: column C: what". */
static int col_err(importer *im, const rval *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int col_err(importer *im, const rval *v, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return CRM_ERR(CRM_EINVAL, "%s:%u: %s: %s", im->file, v->line, v->src, msg);
}

/* An error of the write path for record r: name the column whose value the
 * message quotes, or at least the line. */
static int rec_err(importer *im, rec *r, int err)
{
	char msg[768];
	snprintf(msg, sizeof(msg), "%s", crm_error_last());
	if (strncmp(msg, im->file, strlen(im->file)) == 0 && msg[strlen(im->file)] == ':')
		return err;   /* already placed */
	for (size_t i = 0; i < r->n; i++) {
		char q[TEXT_CAP + 2];
		snprintf(q, sizeof(q), "'%s'", r->v[i].value);
		if (strstr(msg, q))
			return CRM_ERR(err, "%s:%u: %s: %s", im->file, r->v[i].line, r->v[i].src, msg);
	}
	return CRM_ERR(err, "%s:%u: %s", im->file, r->line, msg);
}

/* Errors that reject one record (with --skip-bad) rather than stop the import. */
int imp_record_error(int err)
{
	return err == CRM_EINVAL || err == CRM_ENOTFOUND || err == CRM_EEXISTS || err == CRM_ELIMIT;
}

/* ---------------------------------------------------------------- values -- */

/* Single-line text of at most 1000 bytes (line breaks become spaces). */
static int text_ok(importer *im, rval *v)
{
	if (!v)
		return 0;
	for (char *p = v->value; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	if (strlen(v->value) >= TEXT_CAP)
		return col_err(im, v, "too long (%zu bytes, at most %d)", strlen(v->value), TEXT_CAP - 1);
	return 0;
}

/* Dates as exported by spreadsheets and address books → YYYY-MM-DD.
 * Returns 0 (out set), 1 for an empty placeholder ("0/0/00"), 2 for a date
 * without a year ("--04-12"), CRM_EINVAL otherwise. */
static int date_value(char out[11], const char *in)
{
	int y = 0, m = 0, d = 0, n = 0;
	if (strcmp(in, "0/0/00") == 0 || strcmp(in, "00.00.0000") == 0 || strcmp(in, "0000-00-00") == 0)
		return 1;
	if (strncmp(in, "--", 2) == 0)
		return 2;
	int iso = sscanf(in, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10 && (!in[n] || in[n] == 'T' || in[n] == ' ');
	int basic = !iso && strlen(in) >= 8 && sscanf(in, "%4d%2d%2d%n", &y, &m, &d, &n) == 3 && n == 8 &&
		    (!in[n] || in[n] == 'T');
	int dots = !iso && !basic && sscanf(in, "%2d.%2d.%4d%n", &d, &m, &y, &n) == 3 && (!in[n] || in[n] == ' ');
	int ymd = !iso && !basic && !dots && sscanf(in, "%4d/%2d/%2d%n", &y, &m, &d, &n) == 3 && !in[n];
	int us = !iso && !basic && !dots && !ymd && sscanf(in, "%2d/%2d/%4d%n", &m, &d, &y, &n) == 3 &&
		 (!in[n] || in[n] == ' ');
	if (us && m > 12 && d <= 12) {   /* 25/12/1980 can only be day first */
		int t = m;
		m = d;
		d = t;
	}
	if (!(iso || basic || dots || ymd || us) || y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return CRM_EINVAL;
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return crm_parse_date(out) < 0 ? (crm_error_clear(), CRM_EINVAL) : 0;
}

/* A date field of the record into buf; "" if absent or skipped. */
static int date_field(importer *im, rec *r, const char *field, char buf[11])
{
	rval *v = get(r, field);
	buf[0] = '\0';
	if (!v)
		return 0;
	int rc = date_value(buf, v->value);
	if (rc == 2)
		warn(im, "%s:%u: %s: '%s' has no year; not imported", im->file, v->line, v->src, v->value);
	if (rc == 1 || rc == 2)
		buf[0] = '\0';
	if (rc < 0)
		return col_err(im, v, "'%s' is not a date (use YYYY-MM-DD, DD.MM.YYYY or MM/DD/YYYY)", v->value);
	return 0;
}

/* The user a value names (login, name or id) into id; "" with a warning if none. */
static int owner_field(importer *im, rec *r, char id[CRM_ID_LEN + 1])
{
	rval *v = get(r, "owner");
	char *found = NULL;
	id[0] = '\0';
	if (!v)
		return 0;
	int err = crm_db_get_text(crm_store_db(im->st), &found,
				  "SELECT id FROM users WHERE deleted = 0 AND (login = ?1 COLLATE NOCASE OR "
				  "name = ?1 COLLATE NOCASE OR id = lower(?1)) ORDER BY id LIMIT 1", v->value);
	if (err == CRM_ENOTFOUND) {
		crm_error_clear();
		warn(im, "%s:%u: %s: no user '%s' here; the record is yours", im->file, v->line, v->src, v->value);
		return 0;
	}
	if (err == 0)
		snprintf(id, CRM_ID_LEN + 1, "%s", found);
	free(found);
	return err;
}

typedef struct chan {
	const char *kind;    /* "email" / "phone" */
	const char *raw;
	char norm[256];
} chan;

/* Split the e-mail or phone values of a record (cells may hold several,
 * separated by ';', ',' for e-mails, or Google's " ::: ") and check each. */
static int channels(importer *im, rec *r, chan *out, size_t *count)
{
	const char *country = crm_store_setting(im->st, "country");
	for (size_t i = 0; i < r->n; i++) {
		rval *v = &r->v[i];
		int email = strcmp(v->field, "email") == 0;
		if (!email && strcmp(v->field, "phone") != 0)
			continue;
		const char *seps = email ? ",; \t\r\n" : ";\r\n";
		char *lt = email ? strchr(v->value, '<') : NULL, *gt = lt ? strchr(lt, '>') : NULL;
		char *start = v->value;
		if (lt && gt && !strchr(gt + 1, '<') && memchr(lt, '@', (size_t)(gt - lt))) {
			*gt = '\0';   /* "Anna Smith <anna@example.com>": the address */
			start = lt + 1;
		}
		for (char *tok = start; *tok;) {
			size_t k = strcspn(tok, seps);
			if (!email && strstr(tok, ":::") && (size_t)(strstr(tok, ":::") - tok) < k)
				k = (size_t)(strstr(tok, ":::") - tok);
			char save = tok[k];
			tok[k] = '\0';
			char *s = tok;
			while (*s == ' ' || *s == ':')
				s++;
			if (!email && strncasecmp(s, "tel:", 4) == 0)
				s += 4;
			if (email && strncasecmp(s, "mailto:", 7) == 0)
				s += 7;
			char *e = s + strlen(s);
			while (e > s && (e[-1] == ' ' || e[-1] == ':'))
				*--e = '\0';
			if (*s) {
				if (*count >= CHAN_MAX)
					return col_err(im, v, "more than %d e-mails and phones in one record", CHAN_MAX);
				chan *c = &out[*count];
				c->kind = email ? "email" : "phone";
				c->raw = s;
				int err = email ? crm_norm_email(c->norm, sizeof(c->norm), s)
						: crm_norm_phone(c->norm, sizeof(c->norm), s, country);
				if (err < 0)
					return col_err(im, v, "%s", crm_error_last());
				int dup = 0;
				for (size_t j = 0; j < *count; j++)
					dup |= strcmp(out[j].norm, c->norm) == 0;
				*count += !dup;
			}
			if (!save)
				break;
			tok += k + (save == ':' ? 3 : 1);   /* the raw values stay cut in place */
		}
	}
	return 0;
}

/* ------------------------------------------------------------- lookups -- */

static int load_companies(importer *im)
{
	if (im->company_names.loaded)
		return 0;
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(im->st);
	int err = crm_db_prepare(db, &q, "SELECT id, name, tax_id FROM companies WHERE deleted = 0 AND "
				 "id NOT IN (SELECT id FROM crm_alias) ORDER BY id");
	im->company_names.with_ids = im->company_tax.with_ids = 1;
	while (err == 0 && (err = crm_db_step(db, q)) == 1) {
		char key[TEXT_CAP + 8];
		const char *id = (const char *)sqlite3_column_text(q, 0);
		const char *name = (const char *)sqlite3_column_text(q, 1);
		const char *tax = (const char *)sqlite3_column_text(q, 2);
		err = 0;
		if (name) {
			key_name(key, sizeof(key), name, NULL);
			err = hmap_put(&im->company_names, key, id);
		}
		if (err == 0 && tax && *tax) {
			key_tax(key, sizeof(key), tax);
			err = hmap_put(&im->company_tax, key, id);
		}
	}
	sqlite3_reset(q);
	im->company_names.loaded = 1;
	return err;
}

static int load_contact_names(importer *im)
{
	if (im->contact_names.loaded)
		return 0;
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(im->st);
	int err = crm_db_prepare(db, &q, "SELECT first_name, last_name FROM contacts WHERE deleted = 0 "
				 "AND first_name IS NOT NULL AND last_name IS NOT NULL");
	while (err == 0 && (err = crm_db_step(db, q)) == 1) {
		char key[2 * TEXT_CAP + 8];
		key_name(key, sizeof(key), (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1));
		err = hmap_put(&im->contact_names, key, NULL);
	}
	sqlite3_reset(q);
	im->contact_names.loaded = 1;
	return err;
}

/* A live contact (the survivor of its duplicate group) with this e-mail. */
static int contact_by_email(importer *im, const char *norm, char id[CRM_ID_LEN + 1])
{
	char *found = NULL;
	int err = crm_db_get_text(crm_store_db(im->st), &found,
				  "SELECT coalesce((SELECT survivor FROM crm_alias WHERE id = p.id), p.id) FROM channels c "
				  "JOIN contacts p ON p.id = c.owner_id AND p.deleted = 0 WHERE c.normalized = ?1 "
				  "AND c.kind = 'email' AND c.deleted = 0 ORDER BY p.id LIMIT 1", norm);
	id[0] = '\0';
	if (err == CRM_ENOTFOUND) {
		crm_error_clear();
		return 0;
	}
	if (err == 0)
		snprintf(id, CRM_ID_LEN + 1, "%s", found);
	free(found);
	return err;
}

/* 1 if another live contact has this phone (E.164). */
static int phone_taken(importer *im, const char *norm, const char *self)
{
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(im->st);
	int err = crm_db_prepare(db, &q, "SELECT 1 FROM channels a JOIN contacts p ON p.id = a.owner_id AND "
				 "p.deleted = 0 WHERE a.normalized = ?1 AND a.kind = 'phone' AND a.deleted = 0 "
				 "AND a.owner_id <> ?2 LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, norm, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, self, -1, SQLITE_STATIC);
	err = crm_db_step(db, q);
	sqlite3_reset(q);
	return err;
}

/* The id column: our own id of a live record of `entity`, else "". */
static void own_id(importer *im, rec *r, const char *entity, char id[CRM_ID_LEN + 1])
{
	const char *v = imp_val(r, "id");
	id[0] = '\0';
	if (v && strncasecmp(v, "urn:uuid:", 9) == 0)
		v += 9;
	if (v && crm_uuid_valid(v) && crm_entity_check(im->st, entity, v) == 0)
		for (size_t i = 0; i <= CRM_ID_LEN; i++)
			id[i] = (char)tolower((unsigned char)v[i]);
	crm_error_clear();
}

typedef struct kvs {
	crm_kv kv[KV_MAX];
	size_t n;
} kvs;

static void kv_add(kvs *k, const char *key, const char *v)
{
	if (v && *v && k->n < KV_MAX)
		k->kv[k->n++] = (crm_kv){key, v};
}

static int add_record(importer *im, rec *r, const char *entity, kvs *k, char id[CRM_ID_LEN + 1])
{
	im->row_writes++;
	int err = crm_entity_add(im->st, entity, k->kv, k->n, id);
	return err < 0 ? rec_err(im, r, err) : 0;
}

/* The company a contact or deal names, by tax id or name; created from the
 * name if there is none.  id = "" if the record names no company. */
static int find_company(importer *im, rec *r, char id[CRM_ID_LEN + 1])
{
	rval *name = get(r, "company"), *tax = get(r, "company_tax_id");
	char key[TEXT_CAP + 8];
	const char *found = NULL;
	int err = 0;
	id[0] = '\0';
	if (!name && !tax)
		return 0;
	if ((err = text_ok(im, name)) < 0 || (err = text_ok(im, tax)) < 0 || (err = load_companies(im)) < 0)
		return err;
	if (tax) {
		key_tax(key, sizeof(key), tax->value);
		found = hmap_get(&im->company_tax, key);
	}
	if (!found && name) {
		key_name(key, sizeof(key), name->value, NULL);
		found = hmap_get(&im->company_names, key);
	}
	if (found) {
		snprintf(id, CRM_ID_LEN + 1, "%s", found);
		return 0;
	}
	if (!name)
		return col_err(im, tax, "no company with tax id '%s' (add a company name column to create it)", tax->value);
	kvs k = {.n = 0};
	kv_add(&k, "name", name->value);
	kv_add(&k, "tax_id", tax ? tax->value : NULL);
	if ((err = add_record(im, r, "company", &k, id)) < 0)
		return err;
	im->companies_created++;
	key_name(key, sizeof(key), name->value, NULL);
	err = hmap_put(&im->company_names, key, id);
	if (err == 0 && tax) {
		key_tax(key, sizeof(key), tax->value);
		err = hmap_put(&im->company_tax, key, id);
	}
	return err;
}

/* First and last name from first/middle/last or a full name. */
static void person_name(rec *r, char *first, size_t fcap, char *last, size_t lcap)
{
	const char *f = imp_val(r, "first_name"), *l = imp_val(r, "last_name"), *m = imp_val(r, "middle_name");
	rval *full = get(r, "full_name");
	int ru = 0;
	if (!full && (full = get(r, "full_name_ru")))
		ru = 1;
	first[0] = last[0] = '\0';
	if (!f && !l && full) {
		const char *s = full->value;
		const char *sp = ru ? strchr(s, ' ') : strrchr(s, ' ');
		if (!sp) {
			snprintf(first, fcap, "%s", s);
		} else if (ru) {
			snprintf(last, lcap, "%.*s", (int)(sp - s), s);
			snprintf(first, fcap, "%s", sp + 1);
		} else {
			snprintf(first, fcap, "%.*s", (int)(sp - s), s);
			snprintf(last, lcap, "%s", sp + 1);
		}
	} else {
		snprintf(first, fcap, "%s%s%s", f ? f : "", f && m ? " " : "", f && m ? m : "");
		snprintf(last, lcap, "%s", l ? l : "");
	}
}

/* Notes of a record (and, for a contact, its addresses) as one body. */
static int note_body(importer *im, rec *r, int with_address, char **out)
{
	size_t cap = 0, len = 0;
	char *b = NULL;
	*out = NULL;
	for (size_t i = 0; i < r->n; i++) {
		rval *v = &r->v[i];
		int addr = with_address && strcmp(v->field, "address") == 0;
		if (!addr && strcmp(v->field, "note") != 0)
			continue;
		size_t need = len + strlen(v->value) + (v->label ? strlen(v->label) : 0) + 32;
		if (need > 100000)
			return col_err(im, v, "the notes of this record are longer than 100000 bytes");
		if (need > cap) {
			char *nb = realloc(b, cap = need * 2);
			if (!nb) {
				free(b);
				return CRM_ERR(CRM_ENOMEM, "out of memory");
			}
			b = nb;
		}
		if (addr && v->label)
			len += (size_t)sprintf(b + len, "%s%s: %s", len ? "\n" : "", v->label, v->value);
		else if (addr)
			len += (size_t)sprintf(b + len, "%sAddress: %s", len ? "\n" : "", v->value);
		else
			len += (size_t)sprintf(b + len, "%s%s", len ? "\n" : "", v->value);
	}
	if (b) {   /* CRLF (Excel cells, quoted-printable =0D=0A) → LF */
		char *o = b;
		for (char *p = b; *p; p++)
			if (*p != '\r' || p[1] != '\n')
				*o++ = *p == '\r' ? '\n' : *p;
		*o = '\0';
	}
	*out = imp_rec_keep(r, b);
	return b && !*out ? CRM_ERR(CRM_ELIMIT, "too many values in one record") : 0;
}

/* Add the note to record `col` = id unless the same text is there already. */
static int add_note(importer *im, rec *r, const char *col, const char *id, const char *body)
{
	if (!body || !*body)
		return 0;
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(im->st);
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT 1 FROM notes WHERE %s = ?1 AND body = ?2 AND deleted = 0 LIMIT 1", col);
	int err = crm_db_prepare(db, &q, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, body, -1, SQLITE_STATIC);
	err = crm_db_step(db, q);
	sqlite3_reset(q);
	if (err != 0)
		return err < 0 ? err : 0;
	kvs k = {.n = 0};
	char nid[CRM_ID_LEN + 1];
	kv_add(&k, "body", body);
	kv_add(&k, col, id);
	if ((err = add_record(im, r, "note", &k, nid)) == 0)
		im->notes_created++;
	return err;
}

/* Fields of want whose stored value differs (by text) stay; the others go.
 * E-mails and phones: if the file brings new ones, the record's current
 * ones are added to the set, because a set replaces them. */
static int diff_update(importer *im, rec *r, const char *table, const char *id, kvs *want, const chan *ch, size_t nch)
{
	kvs keep = {.n = 0};
	for (size_t i = 0; i < want->n; i++) {
		char sql[160], *cur = NULL;
		snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM \"%s\" WHERE id = ?1", want->kv[i].key, table);
		int err = crm_db_get_text(crm_store_db(im->st), &cur, sql, id);
		if (err < 0 && err != CRM_ENOTFOUND)
			return err;
		crm_error_clear();
		if (!cur || strcmp(cur, want->kv[i].value) != 0)
			keep.kv[keep.n++] = want->kv[i];
		free(cur);
	}
	static const char *const kinds[] = {"email", "phone"};
	for (size_t k = 0; k < 2; k++) {
		sqlite3_stmt *q;
		crm_db *db = crm_store_db(im->st);
		const char *have[CHAN_MAX * 2];
		size_t nhave = 0, fresh = 0;
		int err = crm_db_prepare(db, &q, "SELECT value, normalized FROM channels WHERE owner_id = ?1 AND kind = ?2 "
					 "AND deleted = 0 ORDER BY id");
		if (err < 0)
			return err;
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, kinds[k], -1, SQLITE_STATIC);
		char norms[CHAN_MAX * 2][256];
		while ((err = crm_db_step(db, q)) == 1 && nhave < CHAN_MAX * 2) {
			have[nhave] = imp_rec_keep(r, strdup((const char *)sqlite3_column_text(q, 0)));
			snprintf(norms[nhave], sizeof(norms[0]), "%s", (const char *)sqlite3_column_text(q, 1));
			nhave += have[nhave] != NULL;
		}
		sqlite3_reset(q);
		if (err < 0)
			return err;
		for (size_t i = 0; i < nch; i++) {
			int known = strcmp(ch[i].kind, kinds[k]) != 0;
			for (size_t j = 0; !known && j < nhave; j++)
				known = strcmp(norms[j], ch[i].norm) == 0;
			fresh += !known;
		}
		if (!fresh)
			continue;
		for (size_t j = 0; j < nhave; j++)
			kv_add(&keep, kinds[k], have[j]);
		for (size_t i = 0; i < nch; i++) {
			int known = strcmp(ch[i].kind, kinds[k]) != 0;
			for (size_t j = 0; !known && j < nhave; j++)
				known = strcmp(norms[j], ch[i].norm) == 0;
			if (!known)
				kv_add(&keep, kinds[k], ch[i].raw);
		}
	}
	*want = keep;
	return 0;
}

static void action(importer *im, rec *r, const char *what, const char *entity, const char *id, const char *name,
		   const char *suggestion)
{
	if (!im->o->dry_run || json_array_size(im->actions) >= LIST_MAX * 100)
		return;
	json_t *a = json_pack("{s:I,s:s,s:s,s:s,s:s}", "line", (json_int_t)r->line, "action", what, "entity", entity,
			      "id", id, "name", name ? name : "");
	if (a && suggestion)
		json_object_set_new(a, "suggestion", json_string(suggestion));
	if (a)
		json_array_append_new(im->actions, a);
}

/* Write or update: the common tail of contacts and companies. */
static int upsert(importer *im, rec *r, const char *entity, const char *table, char id[CRM_ID_LEN + 1], kvs *k,
		  const chan *ch, size_t nch, const char *name, int *created)
{
	int err;
	*created = 0;
	if (*id) {
		if ((err = diff_update(im, r, table, id, k, ch, nch)) < 0)
			return err;
		if (k->n == 0) {
			im->unchanged++;
			action(im, r, "unchanged", entity, id, name, NULL);
			return 0;
		}
		im->row_writes++;
		if ((err = crm_entity_set(im->st, entity, id, k->kv, k->n)) < 0)
			return rec_err(im, r, err);
		im->updated++;
		action(im, r, "update", entity, id, name, NULL);
		return 0;
	}
	for (size_t i = 0; i < nch; i++)
		kv_add(k, ch[i].kind, ch[i].raw);
	if ((err = add_record(im, r, entity, k, id)) < 0)
		return err;
	im->created++;
	*created = 1;
	return 0;
}

/* ------------------------------------------------------------- records -- */

static int suggest_contact(importer *im, const char *id, const char *first, const char *last, const chan *ch,
			   size_t nch, char *why, size_t cap)
{
	int err = 0;
	why[0] = '\0';
	for (size_t i = 0; err == 0 && !why[0] && i < nch; i++)
		if (strcmp(ch[i].kind, "phone") == 0 && (err = phone_taken(im, ch[i].norm, id)) == 1)
			snprintf(why, cap, "same phone %s", ch[i].norm), err = 0;
	if (err < 0 || !*first || !*last)
		return err;
	char key[2 * TEXT_CAP + 8];
	key_name(key, sizeof(key), first, last);
	if (!why[0] && hmap_get(&im->contact_names, key))
		snprintf(why, cap, "same name %.120s %.120s", first, last);
	return hmap_put(&im->contact_names, key, NULL);
}

int imp_contact(importer *im, rec *r)
{
	static const char *const texts[] = {"first_name", "last_name", "middle_name", "full_name", "full_name_ru", "title"};
	char first[2 * TEXT_CAP + 2], last[TEXT_CAP], birthday[11], next[11], owner[CRM_ID_LEN + 1];
	char id[CRM_ID_LEN + 1], company[CRM_ID_LEN + 1], why[300], *note = NULL;
	chan ch[CHAN_MAX];
	size_t nch = 0;
	int err = 0, created;
	for (size_t i = 0; err == 0 && i < sizeof(texts) / sizeof(texts[0]); i++)
		err = text_ok(im, get(r, texts[i]));
	if (err < 0)
		return err;
	person_name(r, first, sizeof(first), last, sizeof(last));
	if (!*first) {
		rval *v = get(r, "last_name");
		if (v)
			return col_err(im, v, "a contact needs a first name, and this record has only '%s'", v->value);
		return CRM_ERR(CRM_EINVAL, "%s:%u: a contact needs a first name, and this record has none", im->file, r->line);
	}
	if ((err = channels(im, r, ch, &nch)) < 0 || (err = date_field(im, r, "birthday", birthday)) < 0 ||
	    (err = date_field(im, r, "next_contact", next)) < 0 || (err = owner_field(im, r, owner)) < 0 ||
	    (err = note_body(im, r, 1, &note)) < 0)
		return err;
	if ((err = load_contact_names(im)) < 0)   /* before this record is written: it must not find itself */
		return err;
	own_id(im, r, "contact", id);
	for (size_t i = 0; err == 0 && !*id && i < nch; i++)
		if (strcmp(ch[i].kind, "email") == 0)
			err = contact_by_email(im, ch[i].norm, id);
	if (err < 0 || (err = find_company(im, r, company)) < 0)
		return err;
	kvs k = {.n = 0};
	kv_add(&k, "first_name", first);
	kv_add(&k, "last_name", last);
	kv_add(&k, "title", imp_val(r, "title"));
	kv_add(&k, "birthday", birthday);
	kv_add(&k, "next_contact", next);
	kv_add(&k, "company_id", company);
	kv_add(&k, "owner_id", owner);
	char display[sizeof(first) + sizeof(last)];
	snprintf(display, sizeof(display), "%s%s%s", first, *last ? " " : "", last);
	if ((err = upsert(im, r, "contact", "contacts", id, &k, ch, nch, display, &created)) < 0)
		return err;
	if (created) {
		if ((err = suggest_contact(im, id, first, last, ch, nch, why, sizeof(why))) < 0)
			return err;
		im->suggested += why[0] != '\0';
		action(im, r, "create", "contact", id, display, why[0] ? why : NULL);
	}
	return add_note(im, r, "contact_id", id, note);
}

int imp_company(importer *im, rec *r)
{
	static const char *const texts[] = {"name", "full_name", "tax_id", "industry", "website"};
	char owner[CRM_ID_LEN + 1], id[CRM_ID_LEN + 1], key[TEXT_CAP + 8], why[TEXT_CAP + 16], *note = NULL;
	chan ch[CHAN_MAX];
	size_t nch = 0, alen = 0;
	int err = 0, created;
	for (size_t i = 0; err == 0 && i < sizeof(texts) / sizeof(texts[0]); i++)
		err = text_ok(im, get(r, texts[i]));
	if (err < 0)
		return err;
	const char *name = imp_val(r, "name") ? imp_val(r, "name") : imp_val(r, "full_name");
	if (!name)
		return CRM_ERR(CRM_EINVAL, "%s:%u: a company needs a name, and this record has none", im->file, r->line);
	char *addr = imp_rec_keep(r, calloc(1, TEXT_CAP));
	for (size_t i = 0; addr && i < r->n; i++)
		if (strcmp(r->v[i].field, "address") == 0 && alen + strlen(r->v[i].value) + 3 < TEXT_CAP)
			alen += (size_t)sprintf(addr + alen, "%s%s", alen ? ", " : "", r->v[i].value);
	for (char *p = addr; p && *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if ((err = channels(im, r, ch, &nch)) < 0 || (err = owner_field(im, r, owner)) < 0 ||
	    (err = note_body(im, r, 0, &note)) < 0 || (err = load_companies(im)) < 0)
		return err;
	own_id(im, r, "company", id);
	rval *tax = get(r, "tax_id");
	if (!*id && tax) {
		key_tax(key, sizeof(key), tax->value);
		const char *found = hmap_get(&im->company_tax, key);
		snprintf(id, sizeof(id), "%s", found ? found : "");
	}
	kvs k = {.n = 0};
	kv_add(&k, "name", name);
	kv_add(&k, "tax_id", tax ? tax->value : NULL);
	kv_add(&k, "industry", imp_val(r, "industry"));
	kv_add(&k, "website", imp_val(r, "website"));
	kv_add(&k, "address", addr);
	kv_add(&k, "owner_id", owner);
	if ((err = upsert(im, r, "company", "companies", id, &k, ch, nch, name, &created)) < 0)
		return err;
	if (created) {
		key_name(key, sizeof(key), name, NULL);
		why[0] = '\0';
		if (hmap_get(&im->company_names, key))
			snprintf(why, sizeof(why), "same name %s", name);
		im->suggested += why[0] != '\0';
		action(im, r, "create", "company", id, name, why[0] ? why : NULL);
		if ((err = hmap_put(&im->company_names, key, id)) == 0 && tax) {
			key_tax(key, sizeof(key), tax->value);
			err = hmap_put(&im->company_tax, key, id);
		}
	}
	return err < 0 ? err : add_note(im, r, "company_id", id, note);
}

int imp_deal(importer *im, rec *r)
{
	static const char *const texts[] = {"title", "pipeline", "stage", "source", "lost_reason", "currency"};
	char close[11], owner[CRM_ID_LEN + 1], id[CRM_ID_LEN + 1], company[CRM_ID_LEN + 1], contact[CRM_ID_LEN + 1];
	char cur[8] = "", prob[16] = "", *note = NULL;
	int err = 0;
	for (size_t i = 0; err == 0 && i < sizeof(texts) / sizeof(texts[0]); i++)
		err = text_ok(im, get(r, texts[i]));
	if (err < 0)
		return err;
	if (!imp_val(r, "title"))
		return CRM_ERR(CRM_EINVAL, "%s:%u: a deal needs a title, and this record has none", im->file, r->line);
	rval *c = get(r, "currency"), *a = get(r, "amount"), *p = get(r, "probability"), *ce = get(r, "contact_email");
	if (c) {
		for (size_t i = 0; i < sizeof(cur) - 1 && c->value[i]; i++)
			cur[i] = (char)toupper((unsigned char)c->value[i]);
		if (crm_currency_exponent(cur) < 0)
			return col_err(im, c, "'%s' is not an ISO 4217 currency code (EUR, USD, RUB, ...)", c->value);
	}
	int64_t minor;
	if (a && crm_parse_amount(&minor, a->value, *cur ? cur : crm_store_setting(im->st, "currency")) < 0)
		return col_err(im, a, "%s", crm_error_last());
	if (p) {
		size_t o = 0;
		for (const char *s = p->value; *s && o + 1 < sizeof(prob); s++)
			if (*s != '%' && *s != ' ')
				prob[o++] = *s;
		prob[o] = '\0';
	}
	contact[0] = '\0';
	if (ce) {
		char norm[256];
		if (crm_norm_email(norm, sizeof(norm), ce->value) < 0)
			return col_err(im, ce, "%s", crm_error_last());
		if ((err = contact_by_email(im, norm, contact)) < 0)
			return err;
		if (!*contact)
			warn(im, "%s:%u: %s: no contact with e-mail %s; the deal is not linked to one", im->file, ce->line,
			     ce->src, norm);
	}
	if ((err = date_field(im, r, "expected_close", close)) < 0 || (err = owner_field(im, r, owner)) < 0 ||
	    (err = note_body(im, r, 0, &note)) < 0 || (err = find_company(im, r, company)) < 0)
		return err;
	own_id(im, r, "deal", id);
	kvs k = {.n = 0};
	kv_add(&k, "title", imp_val(r, "title"));
	kv_add(&k, "company_id", company);
	kv_add(&k, "contact_id", contact);
	kv_add(&k, "pipeline_id", imp_val(r, "pipeline"));
	kv_add(&k, "stage_id", imp_val(r, "stage"));
	kv_add(&k, "currency", cur);
	kv_add(&k, "amount", a ? a->value : NULL);
	kv_add(&k, "probability", prob);
	kv_add(&k, "expected_close", close);
	kv_add(&k, "source", imp_val(r, "source"));
	kv_add(&k, "lost_reason", imp_val(r, "lost_reason"));
	kv_add(&k, "owner_id", owner);
	if (*id) {
		im->row_writes++;
		if ((err = crm_entity_set(im->st, "deal", id, k.kv, k.n)) < 0)
			return rec_err(im, r, err);
		im->updated++;
		action(im, r, "update", "deal", id, imp_val(r, "title"), NULL);
	} else {
		if ((err = add_record(im, r, "deal", &k, id)) < 0)
			return err;
		im->created++;
		action(im, r, "create", "deal", id, imp_val(r, "title"), NULL);
	}
	return add_note(im, r, "deal_id", id, note);
}

int imp_lead(importer *im, rec *r)
{
	static const char *const texts[] = {"title", "first_name", "last_name", "middle_name", "full_name",
					    "full_name_ru", "company_name", "phone", "source", "status"};
	char first[2 * TEXT_CAP + 2], last[TEXT_CAP], title[3 * TEXT_CAP + 8], owner[CRM_ID_LEN + 1];
	char id[CRM_ID_LEN + 1], email[256] = "";
	int err = 0;
	for (size_t i = 0; err == 0 && i < sizeof(texts) / sizeof(texts[0]); i++)
		err = text_ok(im, get(r, texts[i]));
	if (err < 0)
		return err;
	person_name(r, first, sizeof(first), last, sizeof(last));
	rval *e = get(r, "email");
	if (e && crm_norm_email(email, sizeof(email), e->value) < 0)
		return col_err(im, e, "%s", crm_error_last());
	const char *company = imp_val(r, "company_name");
	if (imp_val(r, "title"))
		snprintf(title, sizeof(title), "%s", imp_val(r, "title"));
	else if (*first || *last)
		snprintf(title, sizeof(title), "%s%s%s%s%s%s", first, *first && *last ? " " : "", last,
			 company ? " (" : "", company ? company : "", company ? ")" : "");
	else
		snprintf(title, sizeof(title), "%s", company ? company : email);
	if (!*title)
		return CRM_ERR(CRM_EINVAL, "%s:%u: a lead needs a title, a name, a company or an e-mail, and this record "
			       "has none", im->file, r->line);
	if ((err = owner_field(im, r, owner)) < 0)
		return err;
	char status[32] = "";
	if (imp_val(r, "status"))
		for (size_t i = 0; i < sizeof(status) - 1 && imp_val(r, "status")[i]; i++)
			status[i] = (char)tolower((unsigned char)imp_val(r, "status")[i]);
	own_id(im, r, "lead", id);
	kvs k = {.n = 0};
	kv_add(&k, "title", title);
	kv_add(&k, "first_name", first);
	kv_add(&k, "last_name", last);
	kv_add(&k, "company_name", company);
	kv_add(&k, "email", email);
	kv_add(&k, "phone", imp_val(r, "phone"));
	kv_add(&k, "source", imp_val(r, "source"));
	kv_add(&k, "status", status);
	kv_add(&k, "owner_id", owner);
	if (*id) {
		im->row_writes++;
		if ((err = crm_entity_set(im->st, "lead", id, k.kv, k.n)) < 0)
			return rec_err(im, r, err);
		im->updated++;
		action(im, r, "update", "lead", id, title, NULL);
		return 0;
	}
	if ((err = add_record(im, r, "lead", &k, id)) < 0)
		return err;
	im->created++;
	action(im, r, "create", "lead", id, title, NULL);
	return 0;
}
