/*
 * vcard.h — vCard 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350) address books:
 * a reader that turns a file of cards into decoded properties, and a writer
 * for 3.0 and 4.0.  Hand-written: Debian ships no maintained C vCard
 * library (docs/IMPORT.md, "Why vCard is hand-written").
 *
 * Text in, callbacks out: no store, no records, no printing.  Every error
 * names FILE:LINE in crm_error_last().
 */
#ifndef CRM_VCARD_H
#define CRM_VCARD_H

#include <stddef.h>
#include <stdio.h>

/* Hard input limits (docs/IMPORT.md). */
#define CRM_VCARD_MAX_LINE (1u << 20)   /* bytes of one unfolded property line */
#define CRM_VCARD_MAX_PROPS 1000        /* properties in one card */

typedef struct crm_vcard_prop {
	char *name;        /* upper case, without group ("TEL") */
	char *types;       /* TYPE values, lower case, comma-separated ("work,voice"), "" if none */
	char *value;       /* UTF-8, transfer encoding and charset undone, vCard escapes still in */
	unsigned line;     /* physical line where the property starts */
} crm_vcard_prop;

typedef struct crm_vcard {
	crm_vcard_prop *props;
	size_t count;
	char version[8];   /* "2.1", "3.0", "4.0" or "" if the card has none */
	unsigned line;     /* line of BEGIN:VCARD */
	size_t offset;     /* the card's bytes in the text: [offset, end) */
	size_t end;
} crm_vcard;

/* Called once per card; the card is borrowed during the call (values may
 * be modified in place).  Return 0 to go on or a negative crm_error. */
typedef int (*crm_vcard_fn)(void *ctx, crm_vcard *card);

/* Read every card of `text`.  Lines are unfolded (CRLF or LF followed by a
 * space or tab continues a line; a QUOTED-PRINTABLE value ending in '='
 * continues on the next line).  QUOTED-PRINTABLE is decoded, then the bytes
 * are converted from CHARSET if given, else kept if valid UTF-8, else
 * converted from `fallback_charset` (NULL = Windows-1251).  BASE64 values
 * (photos) are not decoded: their value is "".  vCard 2.1 bare parameters
 * ("TEL;WORK;VOICE") become TYPE values.  Errors: a card without
 * END:VCARD, text outside a card, a line without ':', a bad QUOTED-PRINTABLE
 * escape, bytes invalid in their charset, a limit exceeded. */
int crm_vcard_read(const char *text, size_t len, const char *fallback_charset, const char *file,
		   crm_vcard_fn fn, void *ctx);

/* The first property `name` of a card, or NULL. */
crm_vcard_prop *crm_vcard_get(const crm_vcard *card, const char *name);
/* 1 if the property's TYPE list holds `type` (lower case). */
int crm_vcard_has_type(const crm_vcard_prop *p, const char *type);

/* Undo text escapes in place: \n \N → line break, \, \; \: \\ → the char. */
void crm_vcard_unescape(char *value);
/* Split a structured value (N, ADR, ORG) on unescaped ';' in place into at
 * most `max` parts, unescaping each; returns the number of parts.  Parts
 * past max stay joined in the last one. */
size_t crm_vcard_split(char *value, char **parts, size_t max);

/* ---- writing ----------------------------------------------------------- */

/* A card of vCard `version` 3 or 4: begin, properties, end.  Values are
 * escaped, lines are folded at 75 octets without splitting a UTF-8
 * character and end with CRLF.  `params` ("TYPE=work") may be NULL.
 * NULL or empty values are not written.  CRM_EIO if the stream fails. */
int crm_vcard_begin(FILE *f, int version);
int crm_vcard_text(FILE *f, const char *name, const char *params, const char *value);
/* A structured value: parts escaped one by one, joined with ';'. Written
 * only if some part is non-empty. */
int crm_vcard_struct(FILE *f, const char *name, const char *params, const char *const *parts, size_t count);
int crm_vcard_end(FILE *f);

#endif
