/*
 * test_vcard.c — unit tests for node/vcard.c: vCard 2.1 quoted-printable
 * with soft breaks and charsets, 3.0 folding and escapes, 4.0 quoted
 * parameters, the errors that name their line, and the writer's escaping and
 * folding (read back by the reader).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vcard.h"

static void assert_msg_has(const char *needle)
{
	const char *msg = crm_error_last();
	if (!strstr(msg, needle))
		fail_msg("message '%s' lacks '%s'", msg, needle);
	assert_null(strchr(msg, '\n'));
}

typedef struct prop {
	char name[32], types[64], value[512];
	unsigned line;
} prop;

typedef struct cards {
	prop p[8][16];
	size_t count[8];
	char version[8][8];
	unsigned line[8];
	size_t n;
} cards;

static int keep(void *ctx, crm_vcard *c)
{
	cards *k = ctx;
	if (k->n >= 8)
		return CRM_ERR(CRM_ELIMIT, "too many cards for the test");
	for (size_t i = 0; i < c->count && i < 16; i++) {
		prop *p = &k->p[k->n][i];
		snprintf(p->name, sizeof(p->name), "%s", c->props[i].name);
		snprintf(p->types, sizeof(p->types), "%s", c->props[i].types);
		snprintf(p->value, sizeof(p->value), "%s", c->props[i].value);
		p->line = c->props[i].line;
	}
	k->count[k->n] = c->count;
	snprintf(k->version[k->n], 8, "%s", c->version);
	k->line[k->n] = c->line;
	k->n++;
	return 0;
}

static void read_ok(const char *t, cards *k)
{
	memset(k, 0, sizeof(*k));
	if (crm_vcard_read(t, strlen(t), NULL, "a.vcf", keep, k) != 0)
		fail_msg("refused: %s", crm_error_last());
}

static void test_v21_quoted_printable(void **state)
{
	(void)state;
	/* Android: UTF-8 QP, soft breaks without indent; Nokia: Windows-1251 QP, indented. */
	const char *t =
		"BEGIN:VCARD\r\nVERSION:2.1\r\n"
		"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD=D0=BE=D0=B2;=D0=98=D0=B2=\r\n"
		"=D0=B0=D0=BD;;;\r\n"
		"TEL;CELL;PREF:+7 916 123-45-67\r\n"
		"NOTE;QUOTED-PRINTABLE;CHARSET=UTF-8:line one=0D=0Aline =3D two=\r\n"
		"\r\n"
		"END:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:2.1\r\n"
		"ORG;CHARSET=WINDOWS-1251;ENCODING=QUOTED-PRINTABLE:=CE=CE=CE =\r\n"
		" \"=C2=E5=EA=F2=EE=F0\"\r\n"
		"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n"
		"HRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL\r\n"
		"\r\n"
		"EMAIL;INTERNET:x@example.ru\r\n"
		"END:VCARD\r\n";
	cards k;
	read_ok(t, &k);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.version[0], "2.1");
	assert_string_equal(k.p[0][0].name, "N");
	assert_string_equal(k.p[0][0].value, "Иванов;Иван;;;");
	assert_string_equal(k.p[0][1].types, "cell,pref");
	assert_string_equal(k.p[0][2].value, "line one\r\nline = two");   /* soft break, then a blank line */
	assert_int_equal(k.p[0][2].line, 6);
	assert_int_equal(k.line[1], 9);
	assert_string_equal(k.p[1][0].value, "ООО \"Вектор\"");
	assert_string_equal(k.p[1][1].name, "PHOTO");
	assert_string_equal(k.p[1][1].value, "");   /* base64 is not decoded */
	assert_string_equal(k.p[1][2].name, "EMAIL");   /* the unindented base64 line was skipped */
	assert_string_equal(k.p[1][2].types, "internet");
}

static void test_v30_folding_and_escapes(void **state)
{
	(void)state;
	const char *t =
		"BEGIN:VCARD\nVERSION:3.0\n"
		"item1.EMAIL;type=INTERNET;type=WORK:johnny@acme.example\n"
		"ORG:Acme\\, Inc.;Engineering\n"
		"NOTE:first\\nsecond\\; with a folded li\n"
		" ne and a\n"
		"\tsecond fold\n"
		"ADR;TYPE=work,pref:;;1 Main St;Springfield;;12345;USA\n"
		"end:vcard\n";
	cards k;
	read_ok(t, &k);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.p[0][0].name, "EMAIL");   /* group dropped */
	assert_string_equal(k.p[0][0].types, "internet,work");
	char org[64], *parts[7];
	snprintf(org, sizeof(org), "%s", k.p[0][1].value);
	assert_int_equal(crm_vcard_split(org, parts, 2), 2);
	assert_string_equal(parts[0], "Acme, Inc.");
	assert_string_equal(parts[1], "Engineering");
	char note[128];
	snprintf(note, sizeof(note), "%s", k.p[0][2].value);
	crm_vcard_unescape(note);
	assert_string_equal(note, "first\nsecond; with a folded line and asecond fold");
	char adr[128];
	snprintf(adr, sizeof(adr), "%s", k.p[0][3].value);
	assert_int_equal(crm_vcard_split(adr, parts, 7), 7);
	assert_string_equal(parts[2], "1 Main St");
	assert_string_equal(parts[6], "USA");
	crm_vcard c = {0};
	crm_vcard_prop p = {.name = "ADR", .types = "work,pref"};
	c.props = &p;
	c.count = 1;
	assert_true(crm_vcard_has_type(&p, "pref"));
	assert_false(crm_vcard_has_type(&p, "pre"));
	assert_ptr_equal(crm_vcard_get(&c, "ADR"), &p);
	assert_null(crm_vcard_get(&c, "TEL"));
}

static void test_v40_params(void **state)
{
	(void)state;
	const char *t = "BEGIN:VCARD\r\nVERSION:4.0\r\n"
			"TEL;VALUE=uri;TYPE=\"voice,cell\":tel:+33-6-12-34-56-78\r\n"
			"ADR;LABEL=\"12 rue; Paris: France\";TYPE=home:;;12 rue;Paris;;75002;France\r\n"
			"END:VCARD\r\n";
	cards k;
	read_ok(t, &k);
	assert_string_equal(k.p[0][0].types, "voice,cell");
	assert_string_equal(k.p[0][0].value, "tel:+33-6-12-34-56-78");
	assert_string_equal(k.p[0][1].types, "home");
	assert_string_equal(k.p[0][1].value, ";;12 rue;Paris;;75002;France");
}

static void read_bad(const char *t, const char *needle)
{
	cards k = {0};
	crm_error_clear();
	if (crm_vcard_read(t, strlen(t), NULL, "a.vcf", keep, &k) >= 0)
		fail_msg("accepted: %s", t);
	assert_msg_has(needle);
}

static void test_errors(void **state)
{
	(void)state;
	read_bad("BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\n",
		 "a.vcf:5: the vCard that starts here has no END:VCARD (the file ends on line 6)");
	read_bad("BEGIN:VCARD\nFN:A\nBEGIN:VCARD\nFN:B\nEND:VCARD\n",
		 "a.vcf:1: the vCard that starts here has no END:VCARD (a new BEGIN:VCARD follows on line 3)");
	read_bad("Name,E-mail\nAnna,a@b.c\n", "a.vcf:1: not a vCard");
	read_bad("BEGIN:VCARD\nFN:A\nEND:VCARD\nFN:stray\n", "a.vcf:4: text outside a vCard");
	read_bad("BEGIN:VCARD\nFN:A\njust some words\nEND:VCARD\n", "a.vcf:3: not a vCard property line");
	read_bad("BEGIN:VCARD\nN;CHARSET=UTF-8:\xC8\xE2\nEND:VCARD\n", "a.vcf:2: property N (CHARSET=UTF-8)");
	read_bad("BEGIN:VCARD\nNOTE;QUOTED-PRINTABLE:a=00b\nEND:VCARD\n", "a.vcf:2: property NOTE holds a NUL");
	read_bad("BEGIN:VCARD\nFN:x\nEND:VCALENDAR\n", "a.vcf:3: END:VCALENDAR inside a vCard");
	size_t n = 16 + (CRM_VCARD_MAX_PROPS + 1) * 8;
	char *many = malloc(n + 16);
	strcpy(many, "BEGIN:VCARD\n");
	for (int i = 0; i <= CRM_VCARD_MAX_PROPS; i++)
		strcat(many, "TEL:1\n");
	strcat(many, "END:VCARD\n");
	read_bad(many, "a.vcf:1: a vCard with more than 1000 properties");
	free(many);
	/* A non-UTF-8 value without CHARSET falls back to Windows-1251. */
	cards k;
	memset(&k, 0, sizeof(k));
	const char *t = "BEGIN:VCARD\nFN:\xC8\xE2\xE0\xED\nEND:VCARD\n";
	assert_int_equal(crm_vcard_read(t, strlen(t), NULL, "a.vcf", keep, &k), 0);
	assert_string_equal(k.p[0][0].value, "Иван");
}

static void test_write_fold_escape(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *n[5] = {"Петров-Водкин", "Кузьма", "", "", ""};
	char note[300];
	snprintf(note, sizeof(note), "%s", "Очень длинная заметка; с запятыми, точками с запятой и\nпереносом строки, "
					   "которая не помещается в семьдесят пять октетов");
	assert_int_equal(crm_vcard_begin(f, 4), 0);
	assert_int_equal(crm_vcard_struct(f, "N", NULL, n, 5), 0);
	assert_int_equal(crm_vcard_text(f, "NOTE", NULL, note), 0);
	assert_int_equal(crm_vcard_text(f, "TITLE", NULL, ""), 0);   /* empty: not written */
	assert_int_equal(crm_vcard_text(f, "EMAIL", "TYPE=work", "a\\b@example.com"), 0);
	assert_int_equal(crm_vcard_end(f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "BEGIN:VCARD\r\nVERSION:4.0\r\nN:Петров-Водкин;Кузьма;;;\r\n"));
	assert_non_null(strstr(buf, "EMAIL;TYPE=work:a\\\\b@example.com\r\n"));
	assert_null(strstr(buf, "TITLE"));
	/* Every physical line is at most 75 octets and valid UTF-8 on its own. */
	for (char *line = buf; *line;) {
		char *end = strstr(line, "\r\n");
		assert_non_null(end);
		assert_true(end - line <= 75);
		assert_true((unsigned char)*line < 0x80 || (*line & 0xC0) != 0x80);   /* no split character */
		line = end + 2;
	}
	cards k;
	read_ok(buf, &k);
	assert_string_equal(k.version[0], "4.0");
	assert_string_equal(k.p[0][1].name, "NOTE");
	char back[512];
	snprintf(back, sizeof(back), "%s", k.p[0][1].value);
	crm_vcard_unescape(back);
	assert_string_equal(back, note);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v21_quoted_printable),
		cmocka_unit_test(test_v30_folding_and_escapes),
		cmocka_unit_test(test_v40_params),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_write_fold_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
