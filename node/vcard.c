/*
 * vcard.c — vCard 2.1 / 3.0 / 4.0 reader and 3.0 / 4.0 writer (see vcard.h).
 *
 * Design notes
 *  1. Reading is line-oriented in three steps: take one logical line
 *     (physical lines joined by folding and by QUOTED-PRINTABLE soft breaks),
 *     split it into name, parameters and value, decode the value.  A card is
 *     the properties between BEGIN:VCARD and END:VCARD; it is handed to the
 *     callback whole, so a card without END is an error before any of it is
 *     used.
 *  2. Every logical line is capped (CRM_VCARD_MAX_LINE) and so is the number
 *     of properties of a card: a hostile file costs bounded memory per card.
 *  3. Unknown properties are kept (the caller reports what it ignored);
 *     parameters other than TYPE, ENCODING and CHARSET are dropped.
 *  4. vCard 2.1 photos may continue on unindented base64 lines until a blank
 *     line; those lines are skipped rather than refused.
 */
#include "vcard.h"
#include "csv.h"
#include "error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sbuf {
	char *p;
	size_t len, cap;
} sbuf;

static int sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return CRM_ERR(CRM_ENOMEM, "out of memory reading a vCard");
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* ------------------------------------------------------------- reading -- */

typedef struct vreader {
	const char *text, *file, *fallback;
	size_t len, pos;
	unsigned line;         /* physical lines consumed */
	sbuf lb;               /* current logical line */
	crm_vcard card;
	size_t cap;
	int in_card;
	int in_base64;         /* skipping a 2.1 photo's unindented lines */
} vreader;

/* The physical line at `at` without its terminator (LF, CRLF or CR):
 * [*s, *s + *n); returns where the next line starts. */
static size_t phys_line(const vreader *r, size_t at, const char **s, size_t *n)
{
	size_t i = at;
	while (i < r->len && r->text[i] != '\n' && r->text[i] != '\r')
		i++;
	*s = r->text + at;
	*n = i - at;
	if (i < r->len && r->text[i] == '\r')
		i++;
	if (i < r->len && r->text[i] == '\n' && (i == at + *n || r->text[i - 1] == '\r'))
		i++;
	return i;
}

/* Is the logical line so far a QUOTED-PRINTABLE property? (parameters only) */
static int is_qp(const sbuf *b)
{
	const char *colon = memchr(b->p, ':', b->len);
	size_t n = colon ? (size_t)(colon - b->p) : b->len;
	for (size_t i = 0; i + 16 <= n; i++)
		if (strncasecmp(b->p + i, "QUOTED-PRINTABLE", 16) == 0)
			return 1;
	return 0;
}

/* Read the next logical line into r->lb; 0 at end of text, 1 if read. */
static int next_logical(vreader *r, unsigned *start_line)
{
	const char *s;
	size_t n;
	if (r->pos >= r->len)
		return 0;
	r->lb.len = 0;
	size_t next = phys_line(r, r->pos, &s, &n);
	r->line++;
	*start_line = r->line;
	int err = sb_add(&r->lb, s, n);
	r->pos = next;
	while (err == 0 && r->pos < r->len) {
		int qp_soft = r->lb.len && r->lb.p[r->lb.len - 1] == '=' && is_qp(&r->lb);
		char c = r->text[r->pos];
		if (!qp_soft && c != ' ' && c != '\t')
			break;
		next = phys_line(r, r->pos, &s, &n);
		if (qp_soft) {
			r->lb.len--;   /* the soft break's '=' */
			if (n && (s[0] == ' ' || s[0] == '\t'))
				s++, n--;
		} else {
			s++, n--;
		}
		r->line++;
		r->pos = next;
		if (r->lb.len + n > CRM_VCARD_MAX_LINE)
			return CRM_ERR(CRM_ELIMIT, "%s:%u: a property longer than %u bytes", r->file, *start_line,
				       CRM_VCARD_MAX_LINE);
		err = sb_add(&r->lb, s, n);
	}
	if (err == 0 && r->lb.len > CRM_VCARD_MAX_LINE)
		return CRM_ERR(CRM_ELIMIT, "%s:%u: a property longer than %u bytes", r->file, *start_line,
			       CRM_VCARD_MAX_LINE);
	return err < 0 ? err : 1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = toupper(c);
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode QUOTED-PRINTABLE in place; a '=' not followed by two hex digits is
 * kept as it is (writers that forgot to escape it). Returns the new length. */
static size_t qp_decode(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
		if (s[i] == '=' && hi >= 0 && lo >= 0) {
			s[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

/* Split "name;params:value" — the first ':' outside double quotes. */
static char *find_colon(char *s)
{
	int q = 0;
	for (; *s; s++) {
		if (*s == '"')
			q = !q;
		else if (*s == ':' && !q)
			return s;
	}
	return NULL;
}

static int name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

typedef struct pinfo {
	char types[256];
	char charset[48];
	int qp, b64;
} pinfo;

static void add_types(pinfo *pi, const char *v)
{
	size_t off = strlen(pi->types);
	for (const char *p = v; *p && off + 2 < sizeof(pi->types);) {
		const char *e = p + strcspn(p, ",");
		if (e > p) {
			if (off)
				pi->types[off++] = ',';
			for (const char *c = p; c < e && off + 1 < sizeof(pi->types); c++)
				pi->types[off++] = (char)tolower((unsigned char)*c);
			pi->types[off] = '\0';
		}
		p = *e ? e + 1 : e;
	}
}

/* Parameters "TYPE=work,voice;CHARSET=UTF-8;QUOTED-PRINTABLE" into pi. */
static void parse_params(char *s, pinfo *pi)
{
	memset(pi, 0, sizeof(*pi));
	while (s && *s) {
		char *semi = s;
		int q = 0;
		while (*semi && (*semi != ';' || q))
			q ^= *semi++ == '"';
		char *next = *semi ? semi + 1 : NULL;
		*semi = '\0';
		char *eq = strchr(s, '=');
		const char *k = eq ? s : "TYPE";
		char *v = eq ? eq + 1 : s;
		if (eq)
			*eq = '\0';
		size_t vn = strlen(v);
		if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {   /* 4.0: TYPE="voice,cell" */
			v[vn - 1] = '\0';
			v++;
		}
		if (!eq && (strcasecmp(v, "QUOTED-PRINTABLE") == 0 || strcasecmp(v, "BASE64") == 0 ||
			    strcasecmp(v, "8BIT") == 0 || strcasecmp(v, "7BIT") == 0))
			k = "ENCODING";
		if (strcasecmp(k, "ENCODING") == 0) {
			pi->qp |= strcasecmp(v, "QUOTED-PRINTABLE") == 0;
			pi->b64 |= strcasecmp(v, "BASE64") == 0 || strcasecmp(v, "B") == 0;
		} else if (strcasecmp(k, "CHARSET") == 0) {
			snprintf(pi->charset, sizeof(pi->charset), "%s", v);
		} else if (strcasecmp(k, "TYPE") == 0) {
			add_types(pi, v);
		}
		s = next;
	}
}

static int add_prop(vreader *r, const char *name, const pinfo *pi, char *val, size_t n, unsigned line)
{
	crm_vcard *c = &r->card;
	if (c->count >= CRM_VCARD_MAX_PROPS)
		return CRM_ERR(CRM_ELIMIT, "%s:%u: a vCard with more than %d properties", r->file, c->line,
			       CRM_VCARD_MAX_PROPS);
	char *value = NULL;
	int err = 0;
	if (pi->b64)
		n = 0;
	if (memchr(val, '\0', n))
		return CRM_ERR(CRM_EINVAL, "%s:%u: property %s holds a NUL character", r->file, line, name);
	if (pi->charset[0])
		err = crm_text_convert(&value, val, n, pi->charset);
	else if (crm_text_utf8_valid(val, n))
		err = crm_text_convert(&value, val, n, "UTF-8");
	else
		err = crm_text_convert(&value, val, n, r->fallback ? r->fallback : "WINDOWS-1251");
	if (err < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", crm_error_last());
		if (pi->charset[0])
			return CRM_ERR(CRM_EINVAL, "%s:%u: property %s (CHARSET=%s): %s", r->file, line, name,
				       pi->charset, msg);
		return CRM_ERR(CRM_EINVAL, "%s:%u: property %s: %s; give the file's encoding with --encoding", r->file,
			       line, name, msg);
	}

	if (c->count >= r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		crm_vcard_prop *np = realloc(c->props, cap * sizeof(*np));
		if (!np) {
			free(value);
			return CRM_ERR(CRM_ENOMEM, "out of memory reading %s", r->file);
		}
		c->props = np;
		r->cap = cap;
	}
	crm_vcard_prop *p = &c->props[c->count];
	p->name = strdup(name);
	p->types = strdup(pi->types);
	p->value = value;
	p->line = line;
	if (!p->name || !p->types) {
		free(p->name);
		free(p->types);
		free(value);
		return CRM_ERR(CRM_ENOMEM, "out of memory reading %s", r->file);
	}
	for (char *q = p->name; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	c->count++;
	return 0;
}

static void card_reset(vreader *r)
{
	for (size_t i = 0; i < r->card.count; i++) {
		free(r->card.props[i].name);
		free(r->card.props[i].types);
		free(r->card.props[i].value);
	}
	r->card.count = 0;
	r->card.version[0] = '\0';
	r->in_card = 0;
	r->in_base64 = 0;
}

static int base64_line(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/' && s[i] != '=')
			return 0;
	return 1;
}

/* One logical line (in r->lb) that started on `line`. */
static int handle_line(vreader *r, unsigned line, size_t line_off, crm_vcard_fn fn, void *ctx)
{
	char *s = r->lb.p;
	size_t n = r->lb.len;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	if (n == 0) {
		r->in_base64 = 0;
		return 0;
	}
	if (r->in_base64 && base64_line(s, n))
		return 0;
	r->in_base64 = 0;
	char *colon = find_colon(s);
	if (!colon) {
		if (!r->in_card)
			return CRM_ERR(CRM_EINVAL, "%s:%u: not a vCard: expected BEGIN:VCARD, found '%.40s'", r->file, line, s);
		return CRM_ERR(CRM_EINVAL, "%s:%u: not a vCard property line (no ':'): '%.40s'", r->file, line, s);
	}
	*colon = '\0';
	char *value = colon + 1;
	size_t vlen = n - (size_t)(value - s);
	char *params = strchr(s, ';');
	if (params)
		*params++ = '\0';
	char *dot = strrchr(s, '.');
	char *name = dot ? dot + 1 : s;
	if (!name_ok(name))
		return CRM_ERR(CRM_EINVAL, "%s:%u: not a vCard property name: '%.40s'", r->file, line, name);
	int begin = strcasecmp(name, "BEGIN") == 0 && strcasecmp(value, "VCARD") == 0;
	if (!r->in_card) {
		if (!begin)
			return CRM_ERR(CRM_EINVAL, "%s:%u: text outside a vCard: expected BEGIN:VCARD, found '%.40s'",
				       r->file, line, name);
		r->in_card = 1;
		r->card.line = line;
		r->card.offset = line_off;
		return 0;
	}
	if (begin)
		return CRM_ERR(CRM_EINVAL, "%s:%u: the vCard that starts here has no END:VCARD (a new BEGIN:VCARD "
			       "follows on line %u)", r->file, r->card.line, line);
	if (strcasecmp(name, "END") == 0) {
		if (strcasecmp(value, "VCARD") != 0)
			return CRM_ERR(CRM_EINVAL, "%s:%u: END:%.20s inside a vCard", r->file, line, value);
		r->card.end = r->pos;
		int err = fn(ctx, &r->card);
		card_reset(r);
		return err;
	}
	if (strcasecmp(name, "VERSION") == 0) {
		snprintf(r->card.version, sizeof(r->card.version), "%s", value);
		return 0;
	}
	pinfo pi;
	parse_params(params, &pi);
	if (pi.qp)
		vlen = qp_decode(value, vlen);
	r->in_base64 = pi.b64;
	return add_prop(r, name, &pi, value, vlen, line);
}

int crm_vcard_read(const char *text, size_t len, const char *fallback_charset, const char *file,
		   crm_vcard_fn fn, void *ctx)
{
	vreader r = {.text = text, .file = file, .fallback = fallback_charset, .len = len};
	int err = 0;
	unsigned line = 0;
	while (err == 0) {
		size_t off = r.pos;
		int got = next_logical(&r, &line);
		if (got <= 0) {
			err = got;
			break;
		}
		err = handle_line(&r, line, off, fn, ctx);
	}
	if (err == 0 && r.in_card)
		err = CRM_ERR(CRM_EINVAL, "%s:%u: the vCard that starts here has no END:VCARD (the file ends on line %u)",
			      file, r.card.line, r.line);
	card_reset(&r);
	free(r.card.props);
	free(r.lb.p);
	return err;
}

crm_vcard_prop *crm_vcard_get(const crm_vcard *card, const char *name)
{
	for (size_t i = 0; i < card->count; i++)
		if (strcmp(card->props[i].name, name) == 0)
			return &card->props[i];
	return NULL;
}

int crm_vcard_has_type(const crm_vcard_prop *p, const char *type)
{
	size_t n = strlen(type);
	for (const char *t = p->types; *t;) {
		size_t k = strcspn(t, ",");
		if (k == n && strncmp(t, type, n) == 0)
			return 1;
		t += k + (t[k] == ',');
	}
	return 0;
}

void crm_vcard_unescape(char *v)
{
	char *o = v;
	for (char *p = v; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			*o++ = *p == 'n' || *p == 'N' ? '\n' : *p;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

size_t crm_vcard_split(char *value, char **parts, size_t max)
{
	size_t count = 0;
	char *p = value;
	if (max == 0)
		return 0;
	parts[count++] = p;
	while (*p) {
		if (*p == '\\' && p[1]) {
			p += 2;
			continue;
		}
		if (*p == ';' && count < max) {
			*p = '\0';
			parts[count++] = p + 1;
		}
		p++;
	}
	for (size_t i = 0; i < count; i++)
		crm_vcard_unescape(parts[i]);
	return count;
}

/* ------------------------------------------------------------- writing -- */

static int escape_into(sbuf *b, const char *v)
{
	int err = 0;
	for (const char *p = v; *p && err == 0; p++) {
		switch (*p) {
		case '\\': err = sb_add(b, "\\\\", 2); break;
		case ',': err = sb_add(b, "\\,", 2); break;
		case ';': err = sb_add(b, "\\;", 2); break;
		case '\n': err = sb_add(b, "\\n", 2); break;
		case '\r': if (p[1] != '\n') err = sb_add(b, "\\n", 2); break;
		default: err = sb_add(b, p, 1);
		}
	}
	return err;
}

/* Write a content line folded at 75 octets, never inside a UTF-8 character. */
static int put_folded(FILE *f, const char *s, size_t n)
{
	size_t off = 0, width = 75;
	while (n - off > width) {
		size_t cut = off + width;
		while (cut > off + 1 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		if (fwrite(s + off, 1, cut - off, f) != cut - off || fputs("\r\n ", f) == EOF)
			return CRM_ERR(CRM_EIO, "cannot write the vCard file");
		off = cut;
		width = 74;   /* the leading space counts */
	}
	if (fwrite(s + off, 1, n - off, f) != n - off || fputs("\r\n", f) == EOF)
		return CRM_ERR(CRM_EIO, "cannot write the vCard file");
	return 0;
}

static int put_prop(FILE *f, const char *name, const char *params, const char *const *parts, size_t count)
{
	sbuf b = {0};
	int err = sb_add(&b, name, strlen(name));
	if (err == 0 && params && *params && (err = sb_add(&b, ";", 1)) == 0)
		err = sb_add(&b, params, strlen(params));
	if (err == 0)
		err = sb_add(&b, ":", 1);
	for (size_t i = 0; err == 0 && i < count; i++) {
		if (i)
			err = sb_add(&b, ";", 1);
		if (err == 0 && parts[i])
			err = escape_into(&b, parts[i]);
	}
	if (err == 0)
		err = put_folded(f, b.p, b.len);
	free(b.p);
	return err < 0 ? err : 0;
}

int crm_vcard_begin(FILE *f, int version)
{
	if (fprintf(f, "BEGIN:VCARD\r\nVERSION:%s\r\n", version == 4 ? "4.0" : "3.0") < 0)
		return CRM_ERR(CRM_EIO, "cannot write the vCard file");
	return 0;
}

int crm_vcard_text(FILE *f, const char *name, const char *params, const char *value)
{
	if (!value || !*value)
		return 0;
	return put_prop(f, name, params, &value, 1);
}

int crm_vcard_struct(FILE *f, const char *name, const char *params, const char *const *parts, size_t count)
{
	int any = 0;
	for (size_t i = 0; i < count; i++)
		any |= parts[i] && *parts[i];
	return any ? put_prop(f, name, params, parts, count) : 0;
}

int crm_vcard_end(FILE *f)
{
	if (fputs("END:VCARD\r\n", f) == EOF)
		return CRM_ERR(CRM_EIO, "cannot write the vCard file");
	return 0;
}
