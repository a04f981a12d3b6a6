/*
 * import.h — records from the files people already have: CSV from Excel,
 * Outlook, Google Contacts or another CRM, and vCard address books.  Every
 * record goes through the one write path (entity.h), so imports replicate
 * like any edit.  docs/IMPORT.md is the user's side of this contract.
 */
#ifndef CRM_IMPORT_H
#define CRM_IMPORT_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

#define CRM_IMPORT_MAX_BYTES (256u << 20)   /* largest file read */

/* Progress: `done` of `total` bytes of the decoded file handled. */
typedef void (*crm_import_progress)(void *ctx, size_t done, size_t total);

typedef struct crm_import_opts {
	const char *path;            /* the file (.csv .tsv .txt .vcf; else sniffed) */
	const char *entity;          /* contact company deal lead; NULL = guess from the header */
	const char *encoding;        /* NULL = detect (BOM, UTF-16, UTF-8, else Windows-1251) */
	char delimiter;              /* ',' ';' '\t'; 0 = detect from the header line */
	const char *const *map;      /* "COLUMN=FIELD"; an empty FIELD (or "-") ignores the column */
	size_t map_count;
	const char *require;         /* comma-separated fields every record must have (e.g. "tax_id") */
	int dry_run;                 /* check and count everything, write nothing */
	int skip_bad;                /* write the good records, list the bad ones */
	const char *rejects_path;    /* with skip_bad: the bad records go there (CSV or vCard) */
	crm_import_progress progress;
	void *progress_ctx;
} crm_import_opts;

/* Import one file.  Every record is checked (values, required fields,
 * references) and written with crm_entity_add/_set in one transaction:
 * the first bad record fails the whole import with "FILE:LINE: column C:
 * problem" and nothing is written — unless skip_bad, which writes the good
 * records and reports the bad ones.  Duplicates: a contact whose e-mail or
 * a company whose tax id is already there (or a record whose id column
 * names an existing record) updates that record with the file's non-empty
 * values; same phone or same name are counted as suggestions (they show in
 * `crm duplicates`).  Contacts and deals are linked to their company by
 * name or tax id (the company is created if missing).
 *
 * On success *out is a new JSON report (caller decrefs): file, format,
 * encoding, delimiter, entity, dry_run, records, created, updated,
 * unchanged, suggested, rejected, companies_created, notes_created,
 * columns [{column, field}], unmapped [names], warnings [text],
 * rejects [{line, error}], and with dry_run actions [{line, action, entity,
 * id, name, suggestion}].  On error *out is NULL. */
int crm_import_file(json_t **out, crm_store *st, const crm_import_opts *o);

/* The import fields of an entity (what --map FIELD may name), space-separated;
 * NULL for an entity that cannot be imported. */
const char *crm_import_fields(const char *entity);

#endif
