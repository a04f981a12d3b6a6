/*
 * test_csv.c — unit tests for node/csv.c: encoding detection and decoding,
 * delimiter detection, RFC 4180 reading through libcsv (with the line of
 * every record and of every error), and writing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"

static void assert_msg_has(const char *needle)
{
	const char *msg = crm_error_last();
	if (!strstr(msg, needle))
		fail_msg("message '%s' lacks '%s'", msg, needle);
	assert_null(strchr(msg, '\n'));
}

/* ---- decoding ----------------------------------------------------------- */

static char *decode_ok(const char *in, size_t len, const char *enc, const char *want_enc)
{
	char *out = NULL;
	size_t n = 0;
	const char *used = NULL;
	int rc = crm_text_decode(&out, &n, &used, in, len, enc, "f.csv");
	if (rc != 0)
		fail_msg("decode refused: %s", crm_error_last());
	assert_string_equal(used, want_enc);
	assert_int_equal(strlen(out), n);
	return out;
}

static void test_decode_utf8(void **state)
{
	(void)state;
	char *s = decode_ok("\xEF\xBB\xBFИмя,E-mail\n", 17, NULL, "UTF-8");
	assert_string_equal(s, "Имя,E-mail\n");   /* BOM dropped */
	free(s);
	s = decode_ok("a,b\n", 4, NULL, "UTF-8");
	assert_string_equal(s, "a,b\n");
	free(s);
}

static void test_decode_utf16(void **state)
{
	(void)state;
	static const char le_bom[] = "\xFF\xFE" "A\0;\0\x16\x04\n\0";   /* "A;Ж\n" */
	char *s = decode_ok(le_bom, sizeof(le_bom) - 1, NULL, "UTF-16LE");
	assert_string_equal(s, "A;Ж\n");
	free(s);
	static const char le[] = "N\0a\0m\0e\0\t\0x\0\n\0";   /* no BOM: NUL bytes give it away */
	s = decode_ok(le, sizeof(le) - 1, NULL, "UTF-16LE");
	assert_string_equal(s, "Name\tx\n");
	free(s);
	static const char be[] = "\xFE\xFF\0h\0i";
	s = decode_ok(be, sizeof(be) - 1, NULL, "UTF-16BE");
	assert_string_equal(s, "hi");
	free(s);
}

static void test_decode_1251(void **state)
{
	(void)state;
	/* "Имя;Фамилия\nИван;Петров\n" in Windows-1251: not UTF-8, so 1251. */
	static const char in[] = "\xC8\xEC\xFF;\xD4\xE0\xEC\xE8\xEB\xE8\xFF\n\xC8\xE2\xE0\xED;\xCF\xE5\xF2\xF0\xEE\xE2\n";
	char *s = decode_ok(in, sizeof(in) - 1, NULL, "WINDOWS-1251");
	assert_string_equal(s, "Имя;Фамилия\nИван;Петров\n");
	free(s);
	s = decode_ok(in, sizeof(in) - 1, "cp1251", "WINDOWS-1251");
	assert_string_equal(s, "Имя;Фамилия\nИван;Петров\n");
	free(s);
}

static void decode_bad(const char *in, size_t len, const char *enc, const char *needle)
{
	char *out = (char *)"junk";
	size_t n;
	const char *used;
	crm_error_clear();
	if (crm_text_decode(&out, &n, &used, in, len, enc, "f.csv") != CRM_EINVAL)
		fail_msg("accepted: %s", in);
	assert_null(out);
	assert_msg_has(needle);
}

static void test_decode_bad(void **state)
{
	(void)state;
	/* Mostly UTF-8 with one Latin-1 byte on line 3: reported, not guessed. */
	static const char broken[] = "Имя\nАнна\nJos\xE9 Garcí\n";
	decode_bad(broken, sizeof(broken) - 1, NULL, "f.csv:3: byte 0xE9");
	/* Windows-1251 text forced as UTF-8. */
	decode_bad("a\n\xC8\xE2\xE0\xED\n", 7, "utf-8", "f.csv:2: byte 0xC8");
	/* 0x98 is the one byte Windows-1251 leaves undefined. */
	decode_bad("x;y\n\x98\n", 6, "windows-1251", "f.csv:2: byte 0x98");
	/* UTF-16 cut in the middle of a character. */
	decode_bad("\xFF\xFE" "a\0\n\0b", 7, NULL, "f.csv:2: the file ends in the middle");
	/* A NUL character is not text. */
	decode_bad("a,b\n\0\n", 6, "utf-8", "f.csv:2: holds a NUL");
	/* Overlong forms and surrogates are not UTF-8. */
	decode_bad("\xC0\xAF", 2, "utf-8", "not valid UTF-8");
	decode_bad("\xED\xA0\x80", 3, "utf-8", "not valid UTF-8");
	decode_bad("x", 1, "ebcdic-martian", "unknown encoding 'ebcdic-martian'");
	assert_true(crm_text_utf8_valid("Ёж €", strlen("Ёж €")));
	assert_false(crm_text_utf8_valid("\xF5\x80\x80\x80", 4));
}

/* ---- delimiter ---------------------------------------------------------- */

static void test_delimiter(void **state)
{
	(void)state;
	assert_int_equal(crm_csv_detect_delim("a,b,c\n1;2", 9), ',');
	assert_int_equal(crm_csv_detect_delim("Имя;Фамилия;Компания, филиал\n", 40), ';');
	assert_int_equal(crm_csv_detect_delim("a\tb\tc;d\n", 8), '\t');
	assert_int_equal(crm_csv_detect_delim("\"a;b;c\",d\n", 10), ',');   /* quoted ones do not count */
	assert_int_equal(crm_csv_detect_delim("single\n", 7), ',');
	size_t skip;
	assert_int_equal(crm_csv_sep_line("sep=;\r\na;b\r\n", 12, &skip), ';');
	assert_int_equal(skip, 7);
	assert_int_equal(crm_csv_sep_line("separator,x\n", 12, &skip), 0);
}

/* ---- reading ------------------------------------------------------------ */

typedef struct got {
	char cells[16][8][64];
	size_t count[16];
	unsigned line[16];
	size_t rows;
	int stop_at;   /* return an error on this row (1-based), 0 = never */
} got;

static int collect(void *ctx, const crm_csv_row *row)
{
	got *g = ctx;
	if (g->rows >= 16)
		return CRM_ERR(CRM_ELIMIT, "too many rows for the test");
	for (size_t i = 0; i < row->count && i < 8; i++)
		snprintf(g->cells[g->rows][i], 64, "%s", row->fields[i]);
	g->count[g->rows] = row->count;
	g->line[g->rows] = row->line;
	g->rows++;
	if (g->stop_at && (int)g->rows == g->stop_at)
		return CRM_ERR(CRM_EINVAL, "stopped at row %zu", g->rows);
	return 0;
}

static void test_read_rfc4180(void **state)
{
	(void)state;
	const char *t = "name,company,note\r\n"
			"Anna,\"Acme, Inc.\",\"She said \"\"hi\"\"\"\r\n"
			"\r\n"
			"Bob,Globex,\"two\r\nlines\"\r\n"
			"  Carol  , Umbrella ,\r\n"
			"Dan,Hooli,last";   /* no final newline */
	got g = {0};
	assert_int_equal(crm_csv_read(t, strlen(t), ',', "f.csv", collect, &g), 0);
	assert_int_equal(g.rows, 5);
	assert_string_equal(g.cells[1][1], "Acme, Inc.");
	assert_string_equal(g.cells[1][2], "She said \"hi\"");
	assert_int_equal(g.line[1], 2);
	assert_string_equal(g.cells[2][2], "two\r\nlines");
	assert_int_equal(g.line[2], 4);      /* the blank line 3 is skipped */
	assert_string_equal(g.cells[3][0], "Carol");   /* unquoted fields are trimmed */
	assert_string_equal(g.cells[3][1], "Umbrella");
	assert_string_equal(g.cells[3][2], "");
	assert_int_equal(g.count[3], 3);
	assert_int_equal(g.line[3], 6);      /* after the two-line record */
	assert_string_equal(g.cells[4][2], "last");
	assert_int_equal(g.line[4], 7);
}

static void test_read_delims_and_newlines(void **state)
{
	(void)state;
	got g = {0};
	const char *semi = "a;b\r1;\"x;y\"\r2;z";   /* old Mac CR line ends */
	assert_int_equal(crm_csv_read(semi, strlen(semi), ';', "f.csv", collect, &g), 0);
	assert_int_equal(g.rows, 3);
	assert_string_equal(g.cells[1][1], "x;y");
	assert_int_equal(g.line[2], 3);
	got t = {0};
	const char *tab = "a\tb\n\t2\n";   /* an empty first field, tab not taken as space */
	assert_int_equal(crm_csv_read(tab, strlen(tab), '\t', "f.tsv", collect, &t), 0);
	assert_int_equal(t.count[1], 2);
	assert_string_equal(t.cells[1][0], "");
	assert_string_equal(t.cells[1][1], "2");
}

static void read_bad(const char *t, const char *needle)
{
	got g = {0};
	crm_error_clear();
	int rc = crm_csv_read(t, strlen(t), ',', "f.csv", collect, &g);
	if (rc >= 0)
		fail_msg("accepted: %s", t);
	assert_msg_has(needle);
}

static void test_read_errors(void **state)
{
	(void)state;
	read_bad("a,b\n1,\"open\n2,3\n4,5\n", "f.csv:2: unbalanced quote");
	read_bad("a,b\nx\"y,2\n", "f.csv:2: malformed quoting");
	read_bad("a,b\n\"x\"y,2\n", "f.csv:2: malformed quoting");
	read_bad("a,b\n1,\"open\n2,3\n\"q\",4\n", "f.csv:2: unbalanced quote");   /* breaks on line 4 */
	char *wide = malloc(CRM_CSV_MAX_FIELDS * 2 + 8);
	for (size_t i = 0; i < CRM_CSV_MAX_FIELDS + 1; i++)
		memcpy(wide + 2 * i, "x,", 2);
	strcpy(wide + 2 * (CRM_CSV_MAX_FIELDS + 1), "\n");
	read_bad(wide, "f.csv:1: more than 512 columns");
	free(wide);
	size_t big = CRM_CSV_MAX_RECORD + 16;
	char *huge = malloc(big + 1);
	memset(huge, 'a', big);
	huge[0] = '"';
	huge[big] = '\0';
	read_bad(huge, "f.csv:1: a record longer than");
	free(huge);
	got g = {.stop_at = 2};
	assert_int_equal(crm_csv_read("a\nb\nc\n", 6, ',', "f.csv", collect, &g), CRM_EINVAL);
	assert_int_equal(g.rows, 2);   /* the callback's error stops the read */
	assert_msg_has("stopped at row 2");
}

/* ---- writing ------------------------------------------------------------ */

static void test_write_and_read_back(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *row1[] = {"name", "note", NULL};
	const char *row2[] = {"ООО \"Ромашка\"", "a,b;c\nd", "  padded  "};
	assert_int_equal(crm_csv_write_row(f, ',', row1, 3), 0);
	assert_int_equal(crm_csv_write_row(f, ',', row2, 3), 0);
	fclose(f);
	assert_string_equal(buf, "\"name\",\"note\",\"\"\r\n\"ООО \"\"Ромашка\"\"\",\"a,b;c\nd\",\"  padded  \"\r\n");
	got g = {0};
	assert_int_equal(crm_csv_read(buf, len, ',', "out.csv", collect, &g), 0);
	assert_int_equal(g.rows, 2);
	assert_string_equal(g.cells[1][0], "ООО \"Ромашка\"");
	assert_string_equal(g.cells[1][1], "a,b;c\nd");
	assert_string_equal(g.cells[1][2], "  padded  ");   /* quoted: kept as written */
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_utf8),
		cmocka_unit_test(test_decode_utf16),
		cmocka_unit_test(test_decode_1251),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_delimiter),
		cmocka_unit_test(test_read_rfc4180),
		cmocka_unit_test(test_read_delims_and_newlines),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_write_and_read_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
