/*
 * import.c — CSV and vCard files into records through the one write path
 * (see import.h; the user's side is docs/IMPORT.md).
 *
 * Design notes
 *  1. Phases: read the file (capped) → decode to UTF-8 → records (csv.c,
 *     vcard.c) → map columns or properties to import fields (import_map.c)
 *     → check every value, naming its column → match duplicates → write
 *     with crm_entity_add / crm_entity_set (import_rec.c).  Nothing here
 *     writes SQL; it only reads to find matches.
 *  2. One transaction for the whole file.  Entity writes nest inside it
 *     (db.c), so the first bad record rolls everything back and the message
 *     names FILE:LINE and the column.  A dry run is the same run, always
 *     rolled back: its counts are exact.
 *  3. --skip-bad: a record that fails before any of its writes is simply
 *     left out.  One that fails after a write (its company was created, then
 *     the contact was refused) leaves the pass "dirty": the pass is rolled
 *     back and run again without the bad records, so no half record is ever
 *     committed.  Each extra pass removes at least one record, so this ends.
 *  4. Full-text indexing of the rows an import adds is deferred to the end
 *     of the pass (bulk.c): one index build instead of an index segment per
 *     row; same transaction, so a rollback undoes that too.  So is the
 *     recomputation of duplicate groups (crm_merge_hold): once per pass, not
 *     once per record whose strong key changed.
 *  5. Lookups that would scan big tables per record (company by name or tax
 *     id, contacts by name for suggestions) are loaded once per pass into
 *     hash tables of 64-bit key hashes; e-mail and phone lookups use the
 *     channels index.  Keys match what `crm duplicates` compares (SQLite's
 *     ASCII lower()).
 */
#include "import_int.h"
#include "bulk.h"
#include "csv.h"
#include "error.h"
#include "merge.h"
#include "vcard.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* -------------------------------------------------------------- passes -- */

static int skipped(const importer *im, unsigned line)
{
	size_t lo = 0, hi = im->nskip;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (im->skip[mid] == line)
			return 1;
		if (im->skip[mid] < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int reject(importer *im, unsigned line, const char *msg)
{
	if (im->nskip == im->skipcap) {
		size_t cap = im->skipcap ? im->skipcap * 2 : 64;
		unsigned *ns = realloc(im->skip, cap * sizeof(*ns));
		if (!ns)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		im->skip = ns;
		im->skipcap = cap;
	}
	size_t at = im->nskip;
	while (at && im->skip[at - 1] > line)
		at--;
	memmove(im->skip + at + 1, im->skip + at, (im->nskip - at) * sizeof(*im->skip));
	im->skip[at] = line;
	im->nskip++;
	if (json_array_size(im->rejects) < LIST_MAX)
		json_array_append_new(im->rejects, json_pack("{s:I,s:s}", "line", (json_int_t)line, "error", msg));
	return 0;
}

static int check_required(importer *im, rec *r)
{
	for (size_t i = 0; i < im->nrequire; i++) {
		if (imp_val(r, im->require[i]))
			continue;
		for (size_t c = 0; c < im->ncols; c++)
			if (im->cols[c].field && strcmp(im->cols[c].field, im->require[i]) == 0)
				return CRM_ERR(CRM_EINVAL, "%s:%u: column %s: empty, but --require names %s", im->file,
					       r->line, im->cols[c].header, im->require[i]);
		return CRM_ERR(CRM_EINVAL, "%s:%u: no %s, but --require names it", im->file, r->line, im->require[i]);
	}
	/* The replica's own rule for this kind of record (crm config). */
	for (int b = 0; b < 4; b++) {
		if (r->ent != (1u << b) || !im->rule[b])
			continue;
		for (const char *s = im->rule[b]; *s;) {
			size_t k = strcspn(s, ",");
			char f[32];
			snprintf(f, sizeof(f), "%.*s", (int)k, s);
			if (k && k < sizeof(f) && !imp_val(r, f))
				return CRM_ERR(CRM_EINVAL, "%s:%u: no %s, which every imported %s must have here "
					       "(crm config import.require.%s)", im->file, r->line, f,
					       imp_ent_name(r->ent), imp_ent_name(r->ent));
			s += k + (s[k] != '\0');
		}
	}
	return 0;
}

/* The replica's import.require.ENTITY settings (config.h). */
static int load_rules(importer *im)
{
	for (int b = 0; b < 4; b++) {
		char key[64];
		snprintf(key, sizeof(key), "import.require.%s", imp_ent_name(1u << b));
		int err = crm_meta_get(im->st, key, &im->rule[b]);
		if (err == CRM_ENOTFOUND)
			crm_error_clear();
		else if (err < 0)
			return err;
	}
	return 0;
}

static int handle_record(importer *im, rec *r, size_t offset)
{
	int err = check_required(im, r);
	im->row_writes = 0;
	if (err == 0)
		err = r->ent == E_CONTACT ? imp_contact(im, r) : r->ent == E_COMPANY ? imp_company(im, r)
			: r->ent == E_DEAL ? imp_deal(im, r) : imp_lead(im, r);
	imp_rec_free(r);
	if (im->o->progress)
		im->o->progress(im->o->progress_ctx, offset, im->len);
	if (err < 0 && imp_record_error(err) && im->o->skip_bad) {
		im->dirty |= im->row_writes > 0;
		err = reject(im, r->line, crm_error_last());
		crm_error_clear();
	}
	return err;
}

static unsigned guess_entity(importer *im)
{
	int person = 0, named = 0, works = 0, deal = 0, company = 0, lead = 0, weak;
	for (size_t i = 0; i < im->ncols; i++) {
		char norm[256];
		imp_norm_header(norm, sizeof(norm), im->cols[i].header);
		const char *c = imp_map_header(norm, E_CONTACT, &weak);
		if (c && !weak && (strstr(c, "_name") || strcmp(c, "full_name_ru") == 0))
			person = 1;
		named |= c && strcmp(c, "full_name") == 0;
		works |= c && strcmp(c, "company") == 0;
		lead |= strstr(norm, "lead") || strstr(norm, "лид");
		const char *d = imp_map_header(norm, E_DEAL, &weak);
		if (d && !weak && (strcmp(d, "amount") == 0 || strcmp(d, "stage") == 0 || strcmp(d, "pipeline") == 0 ||
				   strcmp(d, "expected_close") == 0))
			deal = 1;
		const char *o = imp_map_header(norm, E_COMPANY, &weak);
		if (o && (strcmp(o, "tax_id") == 0 || (strcmp(o, "name") == 0 && strcmp(norm, "name") != 0)))
			company = 1;
	}
	if (lead)
		return E_LEAD;
	return deal ? E_DEAL : person || (named && works) ? E_CONTACT : company ? E_COMPANY : E_CONTACT;
}

/* --map COLUMN=FIELD over the automatic mapping. */
static int apply_maps(importer *im, int *rank)
{
	const char *ename = imp_ent_name(im->ent);
	for (size_t m = 0; m < im->o->map_count; m++) {
		const char *spec = im->o->map[m], *eq = strrchr(spec, '=');
		char colname[256], want[64], norm[256], hn[256];
		if (!eq || eq == spec)
			return CRM_ERR(CRM_EUSAGE, "--map wants COLUMN=FIELD, not '%s'", spec);
		snprintf(colname, sizeof(colname), "%.*s", (int)(eq - spec), spec);
		snprintf(want, sizeof(want), "%s", eq + 1);
		for (char *p = want; *p; p++)
			*p = *p == '-' && want[1] ? '_' : (char)tolower((unsigned char)*p);
		const char *field = NULL;
		if (*want && strcmp(want, "-") != 0 && !(field = imp_field_match(want, im->ent, 1)))
			return CRM_ERR(CRM_EUSAGE, "--map %s: a %s has no import field '%s'; fields are: %s", spec, ename,
				       eq + 1, crm_import_fields(ename));
		imp_norm_header(norm, sizeof(norm), colname);
		size_t c = 0;
		for (; c < im->ncols; c++) {
			imp_norm_header(hn, sizeof(hn), im->cols[c].header);
			if (strcasecmp(im->cols[c].header, colname) == 0 || (*norm && strcmp(hn, norm) == 0))
				break;
		}
		if (c == im->ncols)
			return CRM_ERR(CRM_EINVAL, "--map %s: %s:%u has no column '%s'", spec, im->file, im->header_line, colname);
		im->cols[c].field = field;
		im->cols[c].ignored = field == NULL;
		rank[c] = 0;
	}
	return 0;
}

/* The header record: name every column's field, settle collisions. */
static int build_columns(importer *im, const crm_csv_row *row)
{
	im->header_line = row->line;
	im->ncols = row->count;
	im->cols = calloc(row->count, sizeof(*im->cols));
	int *rank = calloc(row->count, sizeof(int));
	int err = im->cols && rank ? 0 : CRM_ERR(CRM_ENOMEM, "out of memory");
	for (size_t i = 0; err == 0 && i < row->count; i++) {
		size_t n = strlen(row->fields[i]) + 8;
		im->cols[i].header = strdup(row->fields[i]);
		if ((im->cols[i].label = malloc(n)))
			snprintf(im->cols[i].label, n, "column %s", row->fields[i]);
		if (!im->cols[i].header || !im->cols[i].label)
			err = CRM_ERR(CRM_ENOMEM, "out of memory");
	}
	if (err == 0 && !im->ent)
		im->ent = im->o->entity ? imp_ent_bit(im->o->entity) : guess_entity(im);
	for (size_t i = 0; err == 0 && i < row->count; i++) {
		char norm[256];
		int weak;
		imp_norm_header(norm, sizeof(norm), im->cols[i].header);
		im->cols[i].field = imp_map_header(norm, im->ent, &weak);
		rank[i] = weak ? 2 : 1;
	}
	if (err == 0)
		err = apply_maps(im, rank);
	for (size_t i = 0; err == 0 && i < row->count; i++) {
		const char *f = im->cols[i].field;
		if (!f)
			continue;
		int multi = imp_is_multi(im->ent, f);
		for (size_t j = 0; j < row->count; j++) {
			if (j == i || !im->cols[j].field || strcmp(im->cols[j].field, f) != 0)
				continue;
			if (rank[j] < rank[i] || (!multi && rank[j] == rank[i] && j < i)) {
				if (!multi || rank[i] == 2) {
					im->cols[i].shadowed = multi;
					im->cols[i].field = NULL;
					break;
				}
			}
		}
	}
	free(rank);
	size_t mapped = 0;
	for (size_t i = 0; err == 0 && i < im->ncols; i++)
		mapped += im->cols[i].field != NULL;
	if (err == 0 && !mapped)
		return CRM_ERR(CRM_EINVAL, "%s:%u: none of the %zu columns is known (first: '%.40s'); name them with "
			       "--map COLUMN=FIELD (fields: %s)", im->file, im->header_line, im->ncols,
			       im->ncols ? im->cols[0].header : "", crm_import_fields(imp_ent_name(im->ent)));
	for (size_t q = 0; err == 0 && q < im->nrequire; q++) {
		int found = 0;
		for (size_t i = 0; i < im->ncols; i++)
			found |= im->cols[i].field && strcmp(im->cols[i].field, im->require[q]) == 0;
		if (!found)
			err = CRM_ERR(CRM_EINVAL, "%s:%u: --require %s, but no column maps to it; name one with --map "
				      "COLUMN=%s", im->file, im->header_line, im->require[q], im->require[q]);
	}
	return err;
}

static int csv_record(void *ctx, const crm_csv_row *row)
{
	importer *im = ctx;
	if (!im->header_done) {
		im->header_done = 1;
		return build_columns(im, row);
	}
	im->records++;
	if (skipped(im, row->line))
		return 0;
	rec *r = calloc(1, sizeof(*r));
	if (!r)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	r->line = row->line;
	r->ent = im->ent;
	int err = 0;
	size_t extra = 0;
	for (size_t i = im->ncols; i < row->count; i++)
		extra += row->fields[i][0] != '\0';
	if (row->count < im->ncols || extra)
		err = CRM_ERR(CRM_EINVAL, "%s:%u: %zu columns, but the header on line %u has %zu (a missing or extra "
			      "delimiter '%s'?)", im->file, row->line, row->count, im->header_line, im->ncols,
			      im->delim == '\t' ? "tab" : im->delim == ';' ? ";" : ",");
	for (size_t i = 0; err == 0 && i < im->ncols; i++) {
		column *c = &im->cols[i];
		if (row->fields[i][0])
			c->has_data = 1;
		size_t before = r->n;
		if (c->field && (err = imp_rec_push(r, c->field, row->fields[i], c->label, row->line)) == 0 &&
		    r->n > before && strcmp(c->field, "address") == 0)
			r->v[r->n - 1].label = c->header;
	}
	if (err < 0) {
		free(r);
		if (imp_record_error(err) && im->o->skip_bad) {
			err = reject(im, row->line, crm_error_last());
			crm_error_clear();
		}
		return err;
	}
	err = handle_record(im, r, row->offset);
	free(r);
	return err;
}

static void ignore_prop(importer *im, const char *name)
{
	json_t *n = json_object_get(im->ignored, name);
	json_object_set_new(im->ignored, name, json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* One vCard property into the record. */
static int vcard_prop(importer *im, rec *r, crm_vcard_prop *p)
{
	static const char *const silent[] = {"KIND", "PRODID", "REV", "X-ABSHOWAS", "CATEGORIES", "PHOTO", "LOGO", "SOUND"};
	static const char *const xprops[][3] = {   /* what our own export writes: property, contact field, company field */
		{"X-CRM-TAX-ID", NULL, "tax_id"}, {"X-CRM-COMPANY-TAX-ID", "company_tax_id", NULL},
		{"X-CRM-INDUSTRY", NULL, "industry"}, {"X-CRM-NEXT-CONTACT", "next_contact", NULL},
		{"X-CRM-OWNER", "owner", "owner"},
	};
	int contact = r->ent == E_CONTACT;
	size_t n = strlen(p->name) + 10;
	char *src = imp_rec_keep(r, malloc(n)), *parts[7];
	if (!src)
		return CRM_ERR(CRM_ELIMIT, "%s:%u: too many properties in one vCard", im->file, r->line);
	snprintf(src, n, "property %s", p->name);
	const char *name = p->name;
	if (strcmp(name, "N") == 0) {
		size_t k = crm_vcard_split(p->value, parts, 5);
		if (!contact)
			return 0;
		int err = imp_rec_push(r, "last_name", parts[0], src, p->line);
		if (err == 0 && k > 1)
			err = imp_rec_push(r, "first_name", parts[1], src, p->line);
		if (err == 0 && k > 2)
			err = imp_rec_push(r, "middle_name", parts[2], src, p->line);
		return err;
	}
	if (strcmp(name, "ORG") == 0) {
		crm_vcard_split(p->value, parts, 2);
		return imp_rec_push(r, contact ? "company" : "name", parts[0], src, p->line);
	}
	if (strcmp(name, "ADR") == 0) {
		size_t vlen = strlen(p->value), len = 0;
		size_t k = crm_vcard_split(p->value, parts, 7);
		static const int order[] = {2, 1, 0, 3, 4, 5, 6};   /* street, extended, PO box, city, region, code, country */
		char *joined = imp_rec_keep(r, malloc(vlen + 7 * 2 + 1));
		char *label = imp_rec_keep(r, malloc(strlen(p->types) + 16));
		if (!joined || !label)
			return CRM_ERR(CRM_ELIMIT, "%s:%u: too many properties in one vCard", im->file, r->line);
		joined[0] = '\0';
		for (size_t i = 0; i < 7; i++)
			if ((size_t)order[i] < k && *parts[order[i]])
				len += (size_t)sprintf(joined + len, "%s%s", len ? ", " : "", parts[order[i]]);
		char types[256] = "";
		for (char *t = p->types, *e; *t; t = *e ? e + 1 : e) {   /* "work,pref" → "work" */
			e = t + strcspn(t, ",");
			if ((size_t)(e - t) != 4 || strncmp(t, "pref", 4) != 0)
				snprintf(types + strlen(types), sizeof(types) - strlen(types), "%s%.*s", *types ? "," : "",
					 (int)(e - t), t);
		}
		if (*types)
			sprintf(label, "Address (%s)", types);
		else
			strcpy(label, "Address");
		size_t before = r->n;
		int err = imp_rec_push(r, "address", joined, src, p->line);
		if (err == 0 && r->n > before)
			r->v[r->n - 1].label = label;
		return err;
	}
	crm_vcard_unescape(p->value);
	const char *field = NULL;
	if (strcmp(name, "FN") == 0)
		field = "full_name";
	else if (strcmp(name, "TITLE") == 0 && contact)
		field = "title";
	else if (strcmp(name, "BDAY") == 0 && contact)
		field = "birthday";
	else if (strcmp(name, "TEL") == 0)
		field = "phone";
	else if (strcmp(name, "EMAIL") == 0)
		field = "email";
	else if (strcmp(name, "NOTE") == 0)
		field = "note";
	else if (strcmp(name, "URL") == 0 && !contact)
		field = "website";
	else if (strcmp(name, "UID") == 0)
		field = "id";
	for (size_t i = 0; !field && i < sizeof(xprops) / sizeof(xprops[0]); i++)
		if (strcmp(name, xprops[i][0]) == 0)
			field = xprops[i][contact ? 1 : 2];
	if (field)
		return imp_rec_push(r, field, p->value, src, p->line);
	for (size_t i = 0; i < sizeof(silent) / sizeof(silent[0]); i++)
		if (strcmp(name, silent[i]) == 0)
			return 0;
	ignore_prop(im, name);
	return 0;
}

static int vcard_record(void *ctx, crm_vcard *card)
{
	importer *im = ctx;
	im->records++;
	if (skipped(im, card->line))
		return 0;
	rec *r = calloc(1, sizeof(*r));
	if (!r)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	r->line = card->line;
	r->ent = im->ent;
	if (!r->ent) {
		crm_vcard_prop *k = crm_vcard_get(card, "KIND"), *x = crm_vcard_get(card, "X-ABSHOWAS");
		r->ent = (k && strcasecmp(k->value, "org") == 0) || (x && strcasecmp(x->value, "company") == 0)
				 ? E_COMPANY : E_CONTACT;
	}
	int err = 0;
	for (size_t i = 0; err == 0 && i < card->count; i++)
		err = vcard_prop(im, r, &card->props[i]);
	if (err == 0) {
		err = handle_record(im, r, card->offset);
	} else {
		imp_rec_free(r);
		if (imp_record_error(err) && im->o->skip_bad) {
			err = reject(im, card->line, crm_error_last());
			crm_error_clear();
		}
	}
	free(r);
	return err;
}

/* ---------------------------------------------------------------- file -- */

static int read_all(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	*out = NULL;
	if (!f)
		return errno == ENOENT ? CRM_ERR(CRM_ENOTFOUND, "no file %s", path)
				       : CRM_ERR(CRM_EIO, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return CRM_ERR(CRM_EIO, "cannot read %s: not a regular file", path);
	}
	if ((uint64_t)sb.st_size > CRM_IMPORT_MAX_BYTES) {
		fclose(f);
		return CRM_ERR(CRM_ELIMIT, "%s is %llu MiB; at most %u MiB can be imported at once (split the file)", path,
			       (unsigned long long)sb.st_size >> 20, CRM_IMPORT_MAX_BYTES >> 20);
	}
	size_t n = (size_t)sb.st_size;
	char *buf = malloc(n + 1);
	if (!buf) {
		fclose(f);
		return CRM_ERR(CRM_ENOMEM, "out of memory reading %s", path);
	}
	size_t got = fread(buf, 1, n, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || got != n) {
		free(buf);
		return CRM_ERR(CRM_EIO, "cannot read %s", path);
	}
	if (n == 0) {
		free(buf);
		return CRM_ERR(CRM_EINVAL, "%s is empty", path);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int has_ext(const char *path, const char *ext)
{
	size_t a = strlen(path), b = strlen(ext);
	return a > b && strcasecmp(path + a - b, ext) == 0;
}

static int starts_vcard(const char *s, size_t len)
{
	size_t i = 0;
	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return len - i >= 11 && strncasecmp(s + i, "BEGIN:VCARD", 11) == 0;
}

/* Read, pick the format, decode. */
static int load(importer *im)
{
	char *raw;
	size_t rawlen = 0;
	const crm_import_opts *o = im->o;
	int err = read_all(o->path, &raw, &rawlen);
	if (err < 0)
		return err;
	int utf16 = (rawlen >= 2 && (((unsigned char)raw[0] == 0xFF && (unsigned char)raw[1] == 0xFE) ||
				     ((unsigned char)raw[0] == 0xFE && (unsigned char)raw[1] == 0xFF))) ||
		    memchr(raw, '\0', rawlen < 4096 ? rawlen : 4096) != NULL;
	im->vcard = has_ext(o->path, ".vcf") || has_ext(o->path, ".vcard") || (!utf16 && starts_vcard(raw, rawlen));
	if (im->vcard && !utf16) {
		size_t bom = rawlen >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		if (o->encoding && !(im->fallback = crm_text_encoding_name(o->encoding)))
			err = CRM_ERR(CRM_EINVAL, "unknown encoding '%s'; use utf-8, utf-16le, windows-1251, koi8-r, cp866, "
				      "windows-1252 or iso-8859-1", o->encoding);
		im->encoding = im->fallback ? im->fallback : "UTF-8";
		if (err == 0 && !(im->text = malloc(rawlen - bom + 1)))
			err = CRM_ERR(CRM_ENOMEM, "out of memory reading %s", o->path);
		if (err == 0) {
			memcpy(im->text, raw + bom, rawlen - bom + 1);
			im->len = rawlen - bom;
		}
	} else {
		err = crm_text_decode(&im->text, &im->len, &im->encoding, raw, rawlen, o->encoding, im->file);
		if (err == 0 && !im->vcard)
			im->vcard = starts_vcard(im->text, im->len);
	}
	free(raw);
	if (err < 0 || im->vcard)
		return err;
	char sep = crm_csv_sep_line(im->text, im->len, &im->body);
	im->delim = o->delimiter ? o->delimiter : sep ? sep : crm_csv_detect_delim(im->text + im->body, im->len - im->body);
	return 0;
}

static void free_pass(importer *im)
{
	for (size_t i = 0; i < im->ncols; i++) {
		free(im->cols[i].header);
		free(im->cols[i].label);
	}
	free(im->cols);
	im->cols = NULL;
	im->ncols = 0;
	im->header_done = 0;
	if (!im->vcard && !im->o->entity)
		im->ent = 0;
	imp_hmap_free(&im->company_names);
	imp_hmap_free(&im->company_tax);
	imp_hmap_free(&im->contact_names);
}

static void pass_reset(importer *im)
{
	free_pass(im);
	im->records = im->created = im->updated = im->unchanged = im->suggested = 0;
	im->companies_created = im->notes_created = 0;
	im->dirty = 0;
	json_array_clear(im->warnings);
	json_array_clear(im->actions);
	json_object_clear(im->ignored);
}

/* One pass over the file inside one transaction; see design note 3. */
static int run_passes(importer *im)
{
	crm_db *db = crm_store_db(im->st);
	for (;;) {
		crm_bulk *bulk = NULL;
		pass_reset(im);
		int err = crm_db_begin(db);
		if (err < 0)
			return err;
		crm_merge_hold(im->st);
		if (!im->o->dry_run)
			err = crm_bulk_begin(im->st, &bulk);
		if (err == 0)
			err = im->vcard ? crm_vcard_read(im->text, im->len, im->fallback, im->file, vcard_record, im)
				: crm_csv_read(im->text + im->body, im->len - im->body, im->delim, im->file, csv_record, im);
		if (err == 0 && !im->vcard && !im->header_done)
			err = CRM_ERR(CRM_EINVAL, "%s holds no header line", im->file);
		int rc = crm_merge_release(im->st, err == 0 && !im->dirty);
		err = err < 0 ? err : rc;
		if (err == 0 && !im->dirty)
			err = crm_bulk_end(im->st, bulk);
		crm_bulk_free(bulk);
		if (err < 0 || im->o->dry_run || im->dirty) {
			crm_db_rollback(db);   /* also puts back what crm_bulk_begin set aside */
			if (err < 0 || !im->dirty || im->o->dry_run)
				return err;
			continue;   /* a rejected record had written: again without it */
		}
		return crm_db_commit(db);
	}
}

/* ------------------------------------------------------ rejects, report -- */

typedef struct rejw {
	importer *im;
	FILE *f;
	int header;
} rejw;

static const char *reject_msg(importer *im, unsigned line)
{
	size_t i;
	json_t *o;
	json_array_foreach(im->rejects, i, o)
		if (json_integer_value(json_object_get(o, "line")) == (json_int_t)line)
			return json_string_value(json_object_get(o, "error"));
	return "";
}

static int reject_csv_row(void *ctx, const crm_csv_row *row)
{
	rejw *w = ctx;
	const char *fields[CRM_CSV_MAX_FIELDS + 1];
	for (size_t i = 0; i < row->count; i++)
		fields[i] = row->fields[i];
	if (!w->header) {
		w->header = 1;
		fields[row->count] = "error";
	} else if (skipped(w->im, row->line)) {
		fields[row->count] = reject_msg(w->im, row->line);
	} else {
		return 0;
	}
	return crm_csv_write_row(w->f, w->im->delim, fields, row->count + 1);
}

static int reject_card(void *ctx, crm_vcard *card)
{
	rejw *w = ctx;
	size_t n = card->end - card->offset;
	if (skipped(w->im, card->line) && fwrite(w->im->text + card->offset, 1, n, w->f) != n)
		return CRM_ERR(CRM_EIO, "cannot write %s", w->im->o->rejects_path);
	return 0;
}

/* The rejected records, as they were, into o->rejects_path (CSV: UTF-8 with
 * a BOM and an "error" column; vCard: the cards unchanged). */
static int write_rejects(importer *im)
{
	const char *path = im->o->rejects_path;
	rejw w = {im, fopen(path, "wb"), 0};
	if (!w.f)
		return CRM_ERR(CRM_EIO, "cannot write %s: %s", path, strerror(errno));
	int err = 0;
	if (im->vcard) {
		err = crm_vcard_read(im->text, im->len, im->fallback, im->file, reject_card, &w);
	} else {
		if (fputs("\xEF\xBB\xBF", w.f) == EOF)
			err = CRM_ERR(CRM_EIO, "cannot write %s", path);
		if (err == 0)
			err = crm_csv_read(im->text + im->body, im->len - im->body, im->delim, im->file, reject_csv_row, &w);
	}
	if (fclose(w.f) != 0 && err == 0)
		err = CRM_ERR(CRM_EIO, "cannot write %s: %s", path, strerror(errno));
	return err;
}

static json_t *report(importer *im)
{
	json_t *cols = json_array(), *unmapped = json_array();
	for (size_t i = 0; i < im->ncols; i++) {
		const column *c = &im->cols[i];
		const char *f = c->field && strcmp(c->field, "full_name_ru") == 0 ? "full_name" : c->field;
		json_array_append_new(cols, json_pack("{s:s,s:o}", "column", c->header, "field",
						      f ? json_string(f) : json_null()));
		if (!c->field && c->has_data && !c->shadowed && !c->ignored)
			json_array_append_new(unmapped, json_string(c->header));
	}
	const char *key;
	json_t *v;
	json_object_foreach(im->ignored, key, v)
		json_array_append_new(unmapped, json_string(key));
	char enc[32];
	size_t i = 0;
	for (; im->encoding[i] && i + 1 < sizeof(enc); i++)
		enc[i] = (char)tolower((unsigned char)im->encoding[i]);
	enc[i] = '\0';
	const char *delim = im->vcard ? NULL : im->delim == '\t' ? "tab" : im->delim == ';' ? ";" : ",";
	unsigned e = im->ent ? im->ent : E_CONTACT;
	json_t *r = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			      "file", im->file, "format", im->vcard ? "vcard" : "csv", "encoding", enc,
			      "delimiter", delim ? json_string(delim) : json_null(),
			      "entity", imp_ent_name(e),
			      "dry_run", im->o->dry_run, "records", (json_int_t)im->records,
			      "created", (json_int_t)im->created, "updated", (json_int_t)im->updated,
			      "unchanged", (json_int_t)im->unchanged, "suggested", (json_int_t)im->suggested,
			      "rejected", (json_int_t)im->nskip, "companies_created", (json_int_t)im->companies_created,
			      "notes_created", (json_int_t)im->notes_created);
	json_object_set_new(r, "columns", cols);
	json_object_set_new(r, "unmapped", unmapped);
	json_object_set(r, "warnings", im->warnings);
	json_object_set(r, "rejects", im->rejects);
	if (im->o->dry_run)
		json_object_set(r, "actions", im->actions);
	return r;
}

static int parse_require(importer *im)
{
	const char *s = im->o->require;
	while (s && *s) {
		size_t k = strcspn(s, ", ");
		if (k) {
			if (im->nrequire >= sizeof(im->require) / sizeof(im->require[0]) || k >= sizeof(im->require[0]))
				return CRM_ERR(CRM_EUSAGE, "--require: too many or too long field names");
			char *f = im->require[im->nrequire++];
			for (size_t i = 0; i < k; i++)
				f[i] = s[i] == '-' ? '_' : (char)tolower((unsigned char)s[i]);
			f[k] = '\0';
			if (im->o->entity && !imp_word_in(crm_import_fields(im->o->entity), f))
				return CRM_ERR(CRM_EUSAGE, "--require %s: a %s has no import field '%s'; fields are: %s", f,
					       im->o->entity, f, crm_import_fields(im->o->entity));
		}
		s += k + (s[k] != '\0');
	}
	return 0;
}

int crm_import_file(json_t **out, crm_store *st, const crm_import_opts *o)
{
	*out = NULL;
	if (o->entity && !imp_ent_bit(o->entity))
		return CRM_ERR(CRM_EUSAGE, "cannot import '%s'; import contact, company, deal or lead", o->entity);
	importer *im = calloc(1, sizeof(*im));
	if (!im)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	im->st = st;
	im->o = o;
	im->file = o->path;
	im->warnings = json_array();
	im->rejects = json_array();
	im->actions = json_array();
	im->ignored = json_object();
	int err = parse_require(im);
	if (err == 0)
		err = load_rules(im);
	if (err == 0 && o->encoding && !crm_text_encoding_name(o->encoding))
		err = CRM_ERR(CRM_EUSAGE, "unknown encoding '%s'; use utf-8, utf-16le, utf-16be, windows-1251, koi8-r, "
			      "cp866, windows-1252 or iso-8859-1", o->encoding);
	if (err == 0)
		err = load(im);
	if (err == 0 && im->vcard && o->entity && imp_ent_bit(o->entity) > E_COMPANY)
		err = CRM_ERR(CRM_EUSAGE, "a vCard file holds contacts or companies, not %ss", o->entity);
	if (err == 0 && im->vcard && o->map_count)
		err = CRM_ERR(CRM_EUSAGE, "--map applies to CSV files; vCard properties are mapped by name (docs/IMPORT.md)");
	im->ent = o->entity ? imp_ent_bit(o->entity) : 0;
	if (err == 0)
		err = run_passes(im);
	if (err == 0 && o->skip_bad && o->rejects_path)
		err = write_rejects(im);
	if (err == 0)
		*out = report(im);
	free_pass(im);
	json_decref(im->warnings);
	json_decref(im->rejects);
	json_decref(im->actions);
	json_decref(im->ignored);
	free(im->skip);
	free(im->text);
	for (int b = 0; b < 4; b++)
		free(im->rule[b]);
	free(im);
	return err;
}
