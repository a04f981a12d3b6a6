/*
 * csv.c — encodings (iconv), delimiter detection and RFC 4180 records
 * (libcsv); see csv.h.
 *
 * Design notes
 *  1. libcsv knows nothing of lines, so the text is fed to it one physical
 *     line at a time (a line ends at LF, CRLF or a lone CR).  Callbacks then
 *     know the line being read, and a record's first line is the first
 *     non-blank line fed after the previous record ended.  That is how every
 *     error names FILE:LINE.
 *  2. Strict mode (CSV_STRICT | CSV_STRICT_FINI): a quote inside an unquoted
 *     field, text after a closing quote and a quote never closed are errors,
 *     not silently repaired data.
 *  3. A record is collected into one growing buffer (fields NUL-separated)
 *     capped at CRM_CSV_MAX_RECORD, so a runaway quoted field stops with a
 *     clear error instead of swallowing memory.
 */
#include "csv.h"
#include "error.h"

#ifndef CRM_LIBCSV_H   /* libcsv's csv.h by full path: node/csv.h shares its name (node/CMakeLists.txt) */
#define CRM_LIBCSV_H "/usr/include/csv.h"
#endif
#include CRM_LIBCSV_H
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ encodings -- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (n == 0 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||   /* overlong, surrogate */
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))      /* overlong, > U+10FFFF */
		return 0;
	return n;
}

int crm_text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

static unsigned line_at(const char *s, size_t off)
{
	unsigned line = 1;
	for (size_t i = 0; i < off; i++)
		line += s[i] == '\n';
	return line;
}

const char *crm_text_encoding_name(const char *typed)
{
	static const char *const names[][2] = {
		{"utf-8", "UTF-8"}, {"utf8", "UTF-8"}, {"utf-16le", "UTF-16LE"}, {"utf16le", "UTF-16LE"},
		{"utf-16", "UTF-16LE"}, {"utf-16be", "UTF-16BE"}, {"utf16be", "UTF-16BE"},
		{"windows-1251", "WINDOWS-1251"}, {"cp1251", "WINDOWS-1251"}, {"1251", "WINDOWS-1251"},
		{"win1251", "WINDOWS-1251"}, {"windows-1252", "WINDOWS-1252"}, {"cp1252", "WINDOWS-1252"},
		{"koi8-r", "KOI8-R"}, {"koi8r", "KOI8-R"}, {"cp866", "CP866"}, {"ibm866", "CP866"},
		{"latin1", "ISO-8859-1"}, {"iso-8859-1", "ISO-8859-1"}, {"iso-8859-5", "ISO-8859-5"},
		{"us-ascii", "UTF-8"}, {"ascii", "UTF-8"},
	};
	if (!typed || !*typed)
		return NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(typed, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

/* Convert with iconv into a growing buffer; on a bad sequence report where
 * (line counted in the output so far). file may be NULL (no place). */
static int iconv_all(char **out, size_t *out_len, const char *in, size_t len, const char *from, const char *file)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return CRM_ERR(CRM_EINVAL, "unknown encoding '%s'", from);
	size_t cap = len * 2 + 16, used = 0;
	char *buf = malloc(cap);
	char *ip = (char *)in;
	size_t ileft = len;
	int err = 0;
	while (!err && buf) {
		char *op = buf + used;
		size_t oleft = cap - used - 1;
		size_t r = iconv(cd, ileft ? &ip : NULL, &ileft, &op, &oleft);
		used = (size_t)(op - buf);
		if (r != (size_t)-1 && ileft == 0)
			break;
		if (r != (size_t)-1 || errno == E2BIG) {
			char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
			continue;
		}
		size_t at = (size_t)(ip - in);
		unsigned char b = at < len ? (unsigned char)in[at] : 0;
		if (!file)
			err = CRM_ERR(CRM_EINVAL, "byte 0x%02X is not valid %s text", b, from);
		else if (errno == EINVAL)
			err = CRM_ERR(CRM_EINVAL, "%s:%u: the file ends in the middle of a %s character; give its encoding with --encoding",
				      file, line_at(buf, used), from);
		else
			err = CRM_ERR(CRM_EINVAL, "%s:%u: byte 0x%02X at offset %zu is not valid %s text; give the file's encoding with --encoding",
				      file, line_at(buf, used), b, at, from);
	}
	iconv_close(cd);
	if (!buf)
		return CRM_ERR(CRM_ENOMEM, "out of memory decoding %s", file ? file : "text");
	if (err < 0) {
		free(buf);
		return err;
	}
	if (used + 1 > cap) {
		free(buf);
		return CRM_ERR(CRM_ENOMEM, "out of memory decoding %s", file ? file : "text");
	}
	buf[used] = '\0';
	*out = buf;
	*out_len = used;
	return 0;
}

int crm_text_convert(char **out, const char *in, size_t len, const char *charset)
{
	size_t n;
	const char *name = crm_text_encoding_name(charset);
	*out = NULL;
	if ((name && strcmp(name, "UTF-8") == 0) || (!name && strcasecmp(charset, "utf-8") == 0)) {
		if (!crm_text_utf8_valid(in, len))
			return CRM_ERR(CRM_EINVAL, "not valid UTF-8 text");
		if (!(*out = malloc(len + 1)))
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		memcpy(*out, in, len);
		(*out)[len] = '\0';
		return 0;
	}
	return iconv_all(out, &n, in, len, name ? name : charset, NULL);
}

/* Guess: BOM, UTF-16 by NUL bytes, UTF-8, broken UTF-8, else Windows-1251. */
static const char *detect(const unsigned char *p, size_t len, size_t *bom)
{
	*bom = 0;
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return (*bom = 3), "UTF-8";
	if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE)
		return (*bom = 2), "UTF-16LE";
	if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF)
		return (*bom = 2), "UTF-16BE";
	size_t even = 0, odd = 0, probe = len < 4096 ? len : 4096;
	for (size_t i = 0; i < probe; i++)
		if (p[i] == 0)
			(i & 1) ? odd++ : even++;
	if (probe >= 2 && odd * 4 > probe / 2 && even * 8 < odd)
		return "UTF-16LE";
	if (probe >= 2 && even * 4 > probe / 2 && odd * 8 < even)
		return "UTF-16BE";
	size_t valid_multi = 0, invalid = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0) {
			invalid++;
			i++;
		} else {
			valid_multi += n > 1;
			i += n;
		}
	}
	if (invalid == 0 || valid_multi > invalid)
		return "UTF-8";   /* broken UTF-8 is reported by the UTF-8 check, not guessed */
	return "WINDOWS-1251";
}

static int utf8_copy(char **out, size_t *out_len, const char *in, size_t len, const char *file)
{
	const unsigned char *p = (const unsigned char *)in;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0)
			return CRM_ERR(CRM_EINVAL, "%s:%u: byte 0x%02X at offset %zu is not valid UTF-8; give the file's encoding with --encoding",
				       file, line_at(in, i), p[i], i);
		i += n;
	}
	if (!(*out = malloc(len + 1)))
		return CRM_ERR(CRM_ENOMEM, "out of memory reading %s", file);
	memcpy(*out, in, len);
	(*out)[len] = '\0';
	*out_len = len;
	return 0;
}

int crm_text_decode(char **out, size_t *out_len, const char **used, const char *in, size_t len,
		    const char *encoding, const char *file)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t bom = 0;
	const char *enc;
	*out = NULL;
	*out_len = 0;
	if (encoding) {
		if (!(enc = crm_text_encoding_name(encoding)))
			return CRM_ERR(CRM_EINVAL, "unknown encoding '%s'; use utf-8, utf-16le, utf-16be, windows-1251, "
				       "koi8-r, cp866, windows-1252 or iso-8859-1", encoding);
		if (strcmp(enc, "UTF-8") == 0 && len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
			bom = 3;
		else if ((strcmp(enc, "UTF-16LE") == 0 && len >= 2 && p[0] == 0xFF && p[1] == 0xFE) ||
			 (strcmp(enc, "UTF-16BE") == 0 && len >= 2 && p[0] == 0xFE && p[1] == 0xFF))
			bom = 2;
	} else {
		enc = detect(p, len, &bom);
	}
	*used = enc;
	int err = strcmp(enc, "UTF-8") == 0 ? utf8_copy(out, out_len, in + bom, len - bom, file)
					    : iconv_all(out, out_len, in + bom, len - bom, enc, file);
	if (err < 0)
		return err;
	const char *nul = memchr(*out, '\0', *out_len);
	if (nul) {
		err = CRM_ERR(CRM_EINVAL, "%s:%u: holds a NUL character: not a text file in %s; give its encoding with --encoding",
			      file, line_at(*out, (size_t)(nul - *out)), enc);
		free(*out);
		*out = NULL;
		return err;
	}
	return 0;
}

/* -------------------------------------------------------------- reading -- */

char crm_csv_sep_line(const char *text, size_t len, size_t *skip)
{
	*skip = 0;
	if (len < 5 || strncasecmp(text, "sep=", 4) != 0)
		return 0;
	size_t i = 5;
	if (i < len && text[i] == '\r')
		i++;
	if (i < len && text[i] != '\n')
		return 0;
	*skip = i < len ? i + 1 : i;
	return text[4];
}

char crm_csv_detect_delim(const char *text, size_t len)
{
	size_t tab = 0, semi = 0, comma = 0;
	int quoted = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '"')
			quoted = !quoted;
		else if (!quoted && (c == '\n' || c == '\r'))
			break;
		else if (!quoted)
			tab += c == '\t', semi += c == ';', comma += c == ',';
	}
	if (tab && tab >= semi && tab >= comma)
		return '\t';
	if (semi && semi >= comma)
		return ';';
	return ',';
}

typedef struct reader {
	const char *file;
	crm_csv_fn fn;
	void *ctx;
	char *buf;             /* fields of the record, NUL-separated */
	size_t len, cap;
	size_t starts[CRM_CSV_MAX_FIELDS];
	char *fields[CRM_CSV_MAX_FIELDS];
	size_t count;
	unsigned line;         /* physical line being fed */
	unsigned row_line;     /* first line of the record being read */
	size_t row_offset;
	size_t line_offset;
	int row_open;
	int err;               /* first error; stops everything */
} reader;

static void on_field(void *s, size_t n, void *data)
{
	reader *r = data;
	if (r->err)
		return;
	if (r->count >= CRM_CSV_MAX_FIELDS) {
		r->err = CRM_ERR(CRM_ELIMIT, "%s:%u: more than %d columns in one record", r->file, r->row_line,
				 CRM_CSV_MAX_FIELDS);
		return;
	}
	if (r->len + n + 1 > CRM_CSV_MAX_RECORD) {
		r->err = CRM_ERR(CRM_ELIMIT, "%s:%u: a record longer than %u bytes (an unbalanced quote?)", r->file,
				 r->row_line, CRM_CSV_MAX_RECORD);
		return;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = (r->len + n + 1) * 2;
		char *nb = realloc(r->buf, cap);
		if (!nb) {
			r->err = CRM_ERR(CRM_ENOMEM, "out of memory reading %s", r->file);
			return;
		}
		r->buf = nb;
		r->cap = cap;
	}
	if (n)
		memcpy(r->buf + r->len, s, n);
	r->starts[r->count++] = r->len;
	r->len += n;
	r->buf[r->len++] = '\0';
}

static void on_row(int c, void *data)
{
	reader *r = data;
	(void)c;
	r->row_open = 0;
	if (r->err)
		return;
	int blank = 1;
	for (size_t i = 0; i < r->count; i++) {
		r->fields[i] = r->buf + r->starts[i];
		blank &= r->fields[i][0] == '\0';
	}
	if (!blank) {
		crm_csv_row row = {r->fields, r->count, r->row_line, r->row_offset};
		r->err = r->fn(r->ctx, &row);
	}
	r->count = 0;
	r->len = 0;
}

/* One physical line, terminator included: [p, p+n). */
static size_t next_line(const char *p, size_t left)
{
	for (size_t i = 0; i < left; i++) {
		if (p[i] == '\n')
			return i + 1;
		if (p[i] == '\r')
			return i + 1 < left && p[i + 1] == '\n' ? i + 2 : i + 1;
	}
	return left;
}

static int parse_error(reader *r)
{
	if (r->row_line == r->line)
		return CRM_ERR(CRM_EINVAL, "%s:%u: malformed quoting: a quote inside an unquoted field, or text after a "
			       "closing quote (quote such fields whole and double the quotes inside)", r->file, r->line);
	return CRM_ERR(CRM_EINVAL, "%s:%u: unbalanced quote: a quoted field of the record that starts here runs on "
		       "to line %u, where the quoting breaks", r->file, r->row_line, r->line);
}

int crm_csv_read(const char *text, size_t len, char delim, const char *file, crm_csv_fn fn, void *ctx)
{
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return CRM_ERR(CRM_ENOMEM, "out of memory reading %s", file);
	csv_set_delim(&p, (unsigned char)delim);
	csv_set_blk_size(&p, 16384);   /* libcsv grows its field buffer linearly by this much */
	reader *r = calloc(1, sizeof(*r));
	if (!r) {
		csv_free(&p);
		return CRM_ERR(CRM_ENOMEM, "out of memory reading %s", file);
	}
	*r = (reader){.file = file, .fn = fn, .ctx = ctx};
	size_t off = 0;
	while (off < len && !r->err) {
		size_t n = next_line(text + off, len - off);
		r->line++;
		r->line_offset = off;
		if (!r->row_open) {
			size_t k = 0;
			while (k < n && (text[off + k] == ' ' || text[off + k] == '\t' || text[off + k] == '\r' ||
					 text[off + k] == '\n'))
				k++;
			if (k < n) {
				r->row_open = 1;
				r->row_line = r->line;
				r->row_offset = off;
			}
		}
		for (size_t done = 0; done < n && !r->err;) {   /* in pieces: a runaway field stops early */
			size_t k = n - done < 65536 ? n - done : 65536;
			if (csv_parse(&p, text + off + done, k, on_field, on_row, r) != k && !r->err)
				r->err = csv_error(&p) == CSV_EPARSE
						 ? parse_error(r)
						 : CRM_ERR(CRM_ENOMEM, "%s:%u: %s", file, r->line, csv_strerror(csv_error(&p)));
			if (!r->err && r->len + p.entry_pos > CRM_CSV_MAX_RECORD)
				r->err = CRM_ERR(CRM_ELIMIT, "%s:%u: a record longer than %u bytes (an unbalanced quote?)",
						 file, r->row_line, CRM_CSV_MAX_RECORD);
			done += k;
		}
		off += n;
	}
	if (!r->err && csv_fini(&p, on_field, on_row, r) != 0 && !r->err)
		r->err = csv_error(&p) == CSV_EPARSE
				 ? CRM_ERR(CRM_EINVAL, "%s:%u: unbalanced quote: the quoted field in the record that starts "
					   "here is never closed", file, r->row_line)
				 : CRM_ERR(CRM_ENOMEM, "%s: %s", file, csv_strerror(csv_error(&p)));
	int err = r->err;
	csv_free(&p);
	free(r->buf);
	free(r);
	return err;
}

/* -------------------------------------------------------------- writing -- */

int crm_csv_write_row(FILE *f, char delim, const char *const *fields, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *v = fields[i] ? fields[i] : "";
		if ((i && fputc(delim, f) == EOF) || csv_fwrite(f, v, strlen(v)) != 0)
			return CRM_ERR(CRM_EIO, "cannot write the CSV file");
	}
	if (fputs("\r\n", f) == EOF)
		return CRM_ERR(CRM_EIO, "cannot write the CSV file");
	return 0;
}
