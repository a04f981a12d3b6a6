/*
 * import_int.h — what the three files of the import module share; not an API
 * outside it.  import.c reads the file and runs the passes (records in,
 * report out), import_map.c maps headers to import fields, import_rec.c
 * checks one record's values and writes it through entity.h.
 */
#ifndef CRM_IMPORT_INT_H
#define CRM_IMPORT_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "import.h"
#include "uuid.h"

#define REC_MAX 200          /* mapped values of one record */
#define LIST_MAX 1000        /* warnings / rejects kept in the report */

/* The entities an import writes, as bits (a mapping table applies to several). */
enum { E_CONTACT = 1, E_COMPANY = 2, E_DEAL = 4, E_LEAD = 8, E_ALL = 15 };

/* 64-bit key hashes with an optional id each: a set (ids == NULL) or a map. */
typedef struct hmap {
	uint64_t *keys;          /* 0 = empty slot */
	char (*ids)[CRM_ID_LEN + 1];
	size_t cap, count;
	int loaded, with_ids;
} hmap;

typedef struct column {
	char *header;
	char *label;         /* "column HEADER", for messages */
	const char *field;   /* NULL: not imported */
	int has_data;
	int shadowed;        /* an address part left out because a whole address column exists */
	int ignored;         /* --map COLUMN= : left out on purpose, not reported */
} column;

typedef struct rval {
	const char *field;
	char *value;         /* trimmed, writable */
	const char *src;     /* "column Имя" / "property TEL" */
	const char *label;   /* vCard TYPE of an address, or NULL */
	unsigned line;
} rval;

typedef struct rec {
	rval v[REC_MAX];
	size_t n;
	unsigned line;
	unsigned ent;
	char *tmp[REC_MAX];  /* strings made for this record, freed after it */
	size_t ntmp;
} rec;

typedef struct importer {
	crm_store *st;
	const crm_import_opts *o;
	const char *file;
	char *text;
	size_t len, body;         /* body: CSV text after a "sep=" line */
	const char *encoding;
	const char *fallback;     /* vCard: charset of values that are not UTF-8 */
	int vcard;
	char delim;
	unsigned ent;             /* chosen entity (vCard: per card when 0) */
	column *cols;
	size_t ncols;
	unsigned header_line;
	int header_done;
	char require[8][32];
	size_t nrequire;
	char *rule[4];            /* setting import.require.ENTITY per entity bit (crm config), or NULL */
	hmap company_names, company_tax, contact_names;
	size_t records, created, updated, unchanged, suggested, companies_created, notes_created;
	json_t *warnings, *rejects, *actions, *ignored;
	unsigned *skip;           /* record lines rejected in earlier passes, ascending */
	size_t nskip, skipcap;
	size_t row_writes;        /* writes made by the record being handled */
	int dirty;                /* a rejected record had written something */
} importer;

/* ---- import_map.c: headers → import fields ---- */

unsigned imp_ent_bit(const char *entity);          /* 0 if not importable */
const char *imp_ent_name(unsigned ent);
int imp_word_in(const char *list, const char *w);  /* w is a word of the space-separated list */
int imp_is_multi(unsigned ent, const char *field); /* several columns may feed it */
/* Lower-case letters and digits of a header, Cyrillic folded, ё → е. */
void imp_norm_header(char *out, size_t cap, const char *in);
/* The import field of `ent` named norm (without '_' unless exact), or NULL. */
const char *imp_field_match(const char *norm, unsigned ent, int exact);
/* The import field a normalized header means for `ent`, or NULL; *weak if it
 * yields to another column mapped to the same field. */
const char *imp_map_header(const char *norm, unsigned ent, int *weak);

/* ---- import_rec.c: one record ---- */

void imp_hmap_free(hmap *m);
void imp_rec_free(rec *r);
char *imp_rec_keep(rec *r, char *s);   /* r frees s after the record; NULL if full */
/* Add a trimmed non-empty value (empty ones are skipped). */
int imp_rec_push(rec *r, const char *field, char *value, const char *src, unsigned line);
const char *imp_val(rec *r, const char *field);
/* 1 for errors that reject one record rather than stop the import. */
int imp_record_error(int err);
/* Check and write one record of that entity; errors name FILE:LINE and the column. */
int imp_contact(importer *im, rec *r);
int imp_company(importer *im, rec *r);
int imp_deal(importer *im, rec *r);
int imp_lead(importer *im, rec *r);

#endif
