/*
 * csv.h — spreadsheet text files as they come: the file's encoding turned
 * into UTF-8 (glibc iconv), the delimiter guessed from the header line, and
 * RFC 4180 records read and written by libcsv (Debian libcsv-dev).  This is
 * the one adapter over libcsv: no other file includes <csv.h>.
 *
 * Pure text in, callbacks out: no store, no records, no printing.  Every
 * error names the file and the physical line where it was found
 * ("FILE:LINE: ...") in crm_error_last().
 */
#ifndef CRM_CSV_H
#define CRM_CSV_H

#include <stddef.h>
#include <stdio.h>

/* Hard input limits (docs/IMPORT.md). */
#define CRM_CSV_MAX_FIELDS 512          /* columns in one record */
#define CRM_CSV_MAX_RECORD (4u << 20)   /* bytes of one record, all fields */

/* ---- encodings --------------------------------------------------------- */

/* Decode a whole file into UTF-8.  `encoding` names the file's encoding
 * ("utf-8", "utf-16le", "utf-16be", "windows-1251"/"cp1251", or any name
 * iconv knows); NULL detects it: a byte-order mark, else NUL bytes in
 * alternate positions (UTF-16 without BOM), else valid UTF-8, else
 * Windows-1251 — unless the text is mostly valid UTF-8 with a few bad bytes,
 * which is reported as broken UTF-8 rather than guessed.  A BOM is dropped.
 * *out (caller frees) is NUL-terminated, *out_len excludes the NUL; *used is
 * the encoding applied (static string).  Refuses NUL characters in the
 * decoded text.  CRM_EINVAL names FILE:LINE of the first bad byte. */
int crm_text_decode(char **out, size_t *out_len, const char **used, const char *in, size_t len,
		    const char *encoding, const char *file);

/* The canonical iconv name for an encoding a person typed ("cp1251" →
 * "WINDOWS-1251"), or NULL if iconv does not know it. */
const char *crm_text_encoding_name(const char *typed);

/* Convert `len` bytes in `charset` to UTF-8 (for vCard CHARSET values).
 * *out is caller-freed and NUL-terminated.  CRM_EINVAL if the bytes are not
 * valid in that charset or it is unknown (message without a place). */
int crm_text_convert(char **out, const char *in, size_t len, const char *charset);

/* 1 if s[0..len) is valid UTF-8 (no overlong forms, no surrogates). */
int crm_text_utf8_valid(const char *s, size_t len);

/* ---- reading ----------------------------------------------------------- */

typedef struct crm_csv_row {
	char **fields;     /* count NUL-terminated UTF-8 strings; borrowed during the callback */
	size_t count;
	unsigned line;     /* physical line (1-based) where the record starts */
	size_t offset;     /* byte offset of that line in the text */
} crm_csv_row;

/* Called once per record (blank lines are skipped).  Return 0 to go on or a
 * negative crm_error to stop; that error is returned by crm_csv_read. */
typedef int (*crm_csv_fn)(void *ctx, const crm_csv_row *row);

/* The delimiter of a header line: the most frequent of tab, ';' and ','
 * outside quotes on the first line (ties in that order), ',' if none. */
char crm_csv_detect_delim(const char *text, size_t len);

/* Read UTF-8 text as RFC 4180 records separated by `delim`: quoted fields
 * may hold delimiters, doubled quotes and line breaks; unquoted fields are
 * trimmed of spaces.  A first line "sep=X" (Excel) is skipped by the caller,
 * see crm_csv_sep_line.  Errors: a quote inside an unquoted field or text
 * after a closing quote, a quoted field never closed, a record over the
 * limits — each with FILE:LINE. */
int crm_csv_read(const char *text, size_t len, char delim, const char *file, crm_csv_fn fn, void *ctx);

/* If the text starts with Excel's "sep=X" line, return X and set *skip to
 * the bytes of that line; else return 0. */
char crm_csv_sep_line(const char *text, size_t len, size_t *skip);

/* ---- writing ----------------------------------------------------------- */

/* Write one record: every field quoted (quotes doubled) by libcsv's
 * csv_fwrite, separated by `delim`, ended by CRLF (RFC 4180).  NULL fields
 * are written empty.  CRM_EIO if the stream fails. */
int crm_csv_write_row(FILE *f, char delim, const char *const *fields, size_t count);

#endif
