/*
 * export.c — records to CSV (csv.c over libcsv) and vCard (vcard.c); see
 * export.h.  Read-only: it never writes to the store.
 *
 * The CSV columns are the import field names (docs/IMPORT.md), so an
 * exported file maps itself on import; several e-mails or phones share one
 * cell, separated by "; ".  vCard carries what has no standard property in
 * X-CRM-* properties that import reads back.
 */
#include "export.h"
#include "csv.h"
#include "error.h"
#include "normalize.h"
#include "vcard.h"

#include <stdlib.h>
#include <string.h>

#define GROUP_OF_1 "(SELECT ?1 UNION ALL SELECT id FROM crm_alias WHERE survivor = ?1)"
#define SURVIVOR(col) "coalesce((SELECT survivor FROM crm_alias WHERE id = " col "), " col ")"

static const char *const contact_cols[] = {"id", "first_name", "last_name", "title", "birthday", "company",
					   "company_tax_id", "email", "phone", "next_contact", "owner"};
static const char *const company_cols[] = {"id", "name", "tax_id", "industry", "website", "address", "email",
					   "phone", "owner"};
static const char *const deal_cols[] = {"id", "title", "company", "company_tax_id", "contact_email", "pipeline",
					"stage", "amount", "currency", "probability", "expected_close", "source",
					"lost_reason", "owner"};

static const char *const contact_sql =
	"SELECT c.id, c.first_name, c.last_name, c.title, c.birthday, co.name, co.tax_id, NULL, NULL, "
	"c.next_contact, u.login FROM contacts c LEFT JOIN companies co ON co.id = " SURVIVOR("c.company_id")
	" LEFT JOIN users u ON u.id = c.owner_id WHERE c.deleted = 0 AND c.id NOT IN (SELECT id FROM crm_alias) "
	"ORDER BY c.id";
static const char *const company_sql =
	"SELECT c.id, c.name, c.tax_id, c.industry, c.website, c.address, NULL, NULL, u.login FROM companies c "
	"LEFT JOIN users u ON u.id = c.owner_id WHERE c.deleted = 0 AND c.id NOT IN (SELECT id FROM crm_alias) "
	"ORDER BY c.id";
static const char *const deal_sql =
	"SELECT d.id, d.title, co.name, co.tax_id, (SELECT ch.value FROM channels ch WHERE ch.owner_id = "
	SURVIVOR("d.contact_id") " AND ch.kind = 'email' AND ch.deleted = 0 ORDER BY ch.id LIMIT 1), p.name, s.name, "
	"d.amount, d.currency, d.probability, d.expected_close, d.source, d.lost_reason, u.login FROM deals d "
	"LEFT JOIN companies co ON co.id = " SURVIVOR("d.company_id") " LEFT JOIN pipelines p ON p.id = d.pipeline_id "
	"LEFT JOIN stages s ON s.id = d.stage_id LEFT JOIN users u ON u.id = d.owner_id WHERE d.deleted = 0 "
	"ORDER BY d.id";

#define MAX_COLS 16
#define CHAN_CAP 2048

typedef struct row {
	char *v[MAX_COLS];       /* column texts (NULL = empty), owned */
	char email[CHAN_CAP];    /* all e-mails / phones of the group, "; "-joined */
	char phone[CHAN_CAP];
} row;

static void row_clear(row *r)
{
	for (size_t i = 0; i < MAX_COLS; i++) {
		free(r->v[i]);
		r->v[i] = NULL;
	}
	r->email[0] = r->phone[0] = '\0';
}

static int load_channels(crm_store *st, const char *id, row *r)
{
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(st);
	int err = crm_db_prepare(db, &q, "SELECT kind, value FROM channels WHERE owner_id IN " GROUP_OF_1
				 " AND deleted = 0 AND kind IN ('email', 'phone') ORDER BY kind, id");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	while ((err = crm_db_step(db, q)) == 1) {
		const char *kind = (const char *)sqlite3_column_text(q, 0), *v = (const char *)sqlite3_column_text(q, 1);
		char *to = kind[0] == 'e' ? r->email : r->phone;
		size_t len = strlen(to);
		if (v && len + strlen(v) + 3 < CHAN_CAP)
			snprintf(to + len, CHAN_CAP - len, "%s%s", len ? "; " : "", v);
	}
	sqlite3_reset(q);
	return err;
}

/* One joined value back into its parts, for vCard (one TEL per phone). */
static int each_part(FILE *f, const char *name, const char *params, const char *joined)
{
	char buf[CHAN_CAP];
	snprintf(buf, sizeof(buf), "%s", joined);
	int err = 0;
	for (char *p = strtok(buf, ";"); err == 0 && p; p = strtok(NULL, ";")) {
		while (*p == ' ')
			p++;
		err = crm_vcard_text(f, name, params, p);
	}
	return err;
}

static int write_vcard(FILE *f, int version, int company, const row *r)
{
	int v4 = version == 4;
	char uid[64], bday[16] = "";
	const char *const *v = (const char *const *)r->v;
	snprintf(uid, sizeof(uid), "%s%s", v4 ? "urn:uuid:" : "", v[0]);
	int err = crm_vcard_begin(f, v4 ? 4 : 3);
	if (company) {
		const char *adr[7] = {"", "", v[5], "", "", "", ""};
		if (err == 0)
			err = v4 ? crm_vcard_text(f, "KIND", NULL, "org") : crm_vcard_text(f, "X-ABShowAs", NULL, "COMPANY");
		if (err == 0)
			err = crm_vcard_text(f, "FN", NULL, v[1]);
		if (err == 0)
			err = crm_vcard_struct(f, "ORG", NULL, &v[1], 1);
		if (err == 0)
			err = crm_vcard_struct(f, "ADR", v4 ? "TYPE=work" : "TYPE=WORK", adr, 7);
		if (err == 0)
			err = crm_vcard_text(f, "URL", NULL, v[4]);
		if (err == 0)
			err = crm_vcard_text(f, "X-CRM-TAX-ID", NULL, v[2]);
		if (err == 0)
			err = crm_vcard_text(f, "X-CRM-INDUSTRY", NULL, v[3]);
		if (err == 0)
			err = crm_vcard_text(f, "X-CRM-OWNER", NULL, v[8]);
	} else {
		const char *n[5] = {v[2] ? v[2] : "", v[1] ? v[1] : "", "", "", ""};
		char fn[2048];
		snprintf(fn, sizeof(fn), "%s%s%s", v[1] ? v[1] : "", v[1] && v[2] ? " " : "", v[2] ? v[2] : "");
		if (v[4] && strlen(v[4]) == 10 && v4)   /* 4.0 dates are basic format: 19850412 */
			snprintf(bday, sizeof(bday), "%.4s%.2s%.2s", v[4], v[4] + 5, v[4] + 8);
		else if (v[4])
			snprintf(bday, sizeof(bday), "%s", v[4]);
		if (err == 0)
			err = crm_vcard_struct(f, "N", NULL, n, 5);
		if (err == 0)
			err = crm_vcard_text(f, "FN", NULL, fn);
		if (err == 0)
			err = crm_vcard_struct(f, "ORG", NULL, &v[5], 1);
		if (err == 0)
			err = crm_vcard_text(f, "TITLE", NULL, v[3]);
		if (err == 0)
			err = crm_vcard_text(f, "BDAY", NULL, bday);
		if (err == 0)
			err = crm_vcard_text(f, "X-CRM-COMPANY-TAX-ID", NULL, v[6]);
		if (err == 0)
			err = crm_vcard_text(f, "X-CRM-NEXT-CONTACT", NULL, v[9]);
		if (err == 0)
			err = crm_vcard_text(f, "X-CRM-OWNER", NULL, v[10]);
	}
	if (err == 0)
		err = each_part(f, "EMAIL", v4 ? NULL : "TYPE=INTERNET", r->email);
	if (err == 0)
		err = each_part(f, "TEL", NULL, r->phone);
	if (err == 0)
		err = crm_vcard_text(f, "UID", NULL, uid);
	return err < 0 ? err : crm_vcard_end(f);
}

int crm_export(crm_store *st, FILE *out, const crm_export_opts *o, size_t *count)
{
	const char *w = o->what ? o->what : "";
	int contacts = strcmp(w, "contacts") == 0 || strcmp(w, "contact") == 0;
	int companies = strcmp(w, "companies") == 0 || strcmp(w, "company") == 0;
	int deals = strcmp(w, "deals") == 0 || strcmp(w, "deal") == 0;
	int vcf = o->format && (strcmp(o->format, "vcf") == 0 || strcmp(o->format, "vcard") == 0);
	*count = 0;
	if (!contacts && !companies && !deals)
		return CRM_ERR(CRM_EUSAGE, "cannot export '%s'; export contacts, companies or deals", w);
	if (!vcf && (!o->format || strcmp(o->format, "csv") != 0))
		return CRM_ERR(CRM_EUSAGE, "unknown format '%s'; use csv or vcf", o->format ? o->format : "");
	if (vcf && deals)
		return CRM_ERR(CRM_EUSAGE, "deals are exported as CSV only (--format csv)");
	if (o->vcard_version && o->vcard_version != 3 && o->vcard_version != 4)
		return CRM_ERR(CRM_EUSAGE, "vCard version %d: use 3.0 or 4.0", o->vcard_version);
	const char *const *cols = contacts ? contact_cols : companies ? company_cols : deal_cols;
	size_t ncols = contacts ? sizeof(contact_cols) / sizeof(*cols) : companies ? sizeof(company_cols) / sizeof(*cols)
										    : sizeof(deal_cols) / sizeof(*cols);
	int email_col = contacts ? 7 : companies ? 6 : -1;
	int err = 0;
	if (!vcf && o->bom && fputs("\xEF\xBB\xBF", out) == EOF)
		err = CRM_ERR(CRM_EIO, "cannot write the export");
	if (err == 0 && !vcf)
		err = crm_csv_write_row(out, ',', cols, ncols);
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(st);
	if (err == 0)
		err = crm_db_prepare(db, &q, contacts ? contact_sql : companies ? company_sql : deal_sql);
	if (err < 0)
		return err;
	row r = {0};
	while (err == 0 && (err = crm_db_step(db, q)) == 1) {
		err = 0;
		row_clear(&r);
		for (size_t i = 0; i < ncols; i++)
			if (sqlite3_column_type(q, (int)i) != SQLITE_NULL && !(r.v[i] = strdup((const char *)sqlite3_column_text(q, (int)i))))
				err = CRM_ERR(CRM_ENOMEM, "out of memory");
		if (deals && r.v[7] && r.v[8]) {   /* minor units back to "1500.50" */
			char amt[64];
			crm_format_amount(amt, sizeof(amt), sqlite3_column_int64(q, 7), r.v[8]);
			free(r.v[7]);
			r.v[7] = strdup(amt);
		}
		if (err == 0 && email_col >= 0)
			err = load_channels(st, r.v[0], &r);
		if (err == 0 && email_col >= 0) {
			r.v[email_col] = strdup(r.email);
			r.v[email_col + 1] = strdup(r.phone);
		}
		if (err == 0)
			err = vcf ? write_vcard(out, o->vcard_version, companies, &r)
				  : crm_csv_write_row(out, ',', (const char *const *)r.v, ncols);
		*count += err == 0;
	}
	sqlite3_reset(q);
	row_clear(&r);
	if (err == 0 && fflush(out) != 0)
		err = CRM_ERR(CRM_EIO, "cannot write the export");
	return err;
}
