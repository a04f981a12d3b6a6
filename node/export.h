/*
 * export.h — contacts, companies and deals out to the files other programs
 * read: CSV (UTF-8, optionally with the BOM Excel wants) and vCard 3.0 /
 * 4.0.  What export writes, import reads back without loss
 * (docs/IMPORT.md, "Round trip").
 */
#ifndef CRM_EXPORT_H
#define CRM_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "store.h"

typedef struct crm_export_opts {
	const char *what;        /* "contacts" "companies" "deals" (singular accepted) */
	const char *format;      /* "csv" or "vcf" (deals: csv only) */
	int bom;                 /* CSV: start with a UTF-8 byte-order mark */
	int vcard_version;       /* 3 or 4 (0 = 3) */
} crm_export_opts;

/* Write every live record of o->what (merged duplicates once, as their
 * survivor, with the e-mails and phones of the whole group), oldest first.
 * *count gets the number written.  CRM_EUSAGE for an unknown kind or
 * format, CRM_EIO if the stream fails. */
int crm_export(crm_store *st, FILE *out, const crm_export_opts *o, size_t *count);

#endif
