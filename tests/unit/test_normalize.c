/*
 * test_normalize.c — unit tests for node/normalize.c: e-mail, phone,
 * currency, amount and date parsing, including the rejections and the
 * error messages they leave in crm_error_last().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "normalize.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define STR(s) ((s) ? (s) : "(null)")

/* The last error message contains `needle`. */
static void assert_msg_has(const char *needle)
{
	const char *msg = crm_error_last();
	if (!strstr(msg, needle))
		fail_msg("message '%s' lacks '%s'", msg, needle);
	assert_null(strchr(msg, '\n'));
}

/* ---- e-mail ------------------------------------------------------------ */

static void email_ok(const char *in, const char *want)
{
	char out[300];
	int rc = crm_norm_email(out, sizeof(out), in);
	if (rc != 0)
		fail_msg("'%s' refused: %s", in, crm_error_last());
	assert_string_equal(out, want);
}

static void email_bad(const char *in)
{
	char out[300] = "junk";
	crm_error_clear();
	if (crm_norm_email(out, sizeof(out), in) != CRM_EINVAL)
		fail_msg("'%s' accepted as '%s'", STR(in), out);
	assert_string_equal(out, "");
	assert_true(crm_error_last()[0] != '\0');
}

static void test_email_valid(void **state)
{
	(void)state;
	email_ok("user@example.com", "user@example.com");
	email_ok("  John.Doe@Example.COM \t\n", "john.doe@example.com");
	email_ok("a.b+tag@mail.sub-domain.example.org", "a.b+tag@mail.sub-domain.example.org");
	email_ok("x@y.co", "x@y.co");
	email_ok("Иван@Пример.рф", "Иван@Пример.рф");   /* only ASCII is lower-cased */
	email_ok("O'Brien@Example.ie", "o'brien@example.ie");

	char local[65], addr[300];
	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	email_ok(addr, addr);
}

static void test_email_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "   ", "a@b", "a b@c.d", "@x.com", "x@.com", "x@", "plain",
		"a@@b.c", "a@b@c.d", ".a@b.c", "a.@b.c", "a..b@c.d", "a@b..c",
		"a@b.c.", "a@-b.c", "a@b-.c", "a@b_c.d", "a,b@c.d", "a<b@c.d",
		"a@b c.d", ("a\xC2\xA0" "b@c.d"), "a\tb@c.d",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		email_bad(bad[i]);
	email_bad(NULL);

	char local[66], addr[400];
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	email_bad(addr);                           /* local part of 65 */

	memset(addr, 'b', sizeof(addr));
	memcpy(addr, "a@", 2);
	for (size_t i = 40; i < 251; i += 40)
		addr[i] = '.';
	memcpy(addr + 251, ".com", 5);             /* 255 bytes in total */
	email_bad(addr);
	addr[250] = '\0';
	memcpy(addr + 246, ".com", 5);             /* 250 bytes: fine */
	char out[300];
	assert_int_equal(crm_norm_email(out, sizeof(out), addr), 0);
}

static void test_email_messages(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(crm_norm_email(out, sizeof(out), "a b@c.d"), CRM_EINVAL);
	assert_msg_has("'a b@c.d'");
	assert_msg_has("whitespace");
	assert_int_equal(crm_norm_email(out, sizeof(out), "a@b"), CRM_EINVAL);
	assert_msg_has("invalid e-mail address 'a@b'");
	assert_msg_has("no dot");
	/* A newline in the input must not break the message into lines. */
	assert_int_equal(crm_norm_email(out, sizeof(out), "a\nb@c.d"), CRM_EINVAL);
	assert_msg_has("'a?b@c.d'");
}

static void test_email_small_buffer(void **state)
{
	(void)state;
	char out[8] = "junk";
	assert_int_equal(crm_norm_email(out, sizeof(out), "user@example.com"), CRM_EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(crm_norm_email(out, sizeof(out), "a@b.cd"), 0);
	assert_string_equal(out, "a@b.cd");
}

/* ---- phone ------------------------------------------------------------- */

static void phone_ok(const char *in, const char *country, const char *want)
{
	char out[32];
	int rc = crm_norm_phone(out, sizeof(out), in, country);
	if (rc != 0)
		fail_msg("'%s' (%s) refused: %s", in, STR(country), crm_error_last());
	if (strcmp(out, want) != 0)
		fail_msg("'%s' (%s) gave '%s', want '%s'", in, STR(country), out, want);
}

static void phone_bad(const char *in, const char *country)
{
	char out[32] = "junk";
	if (crm_norm_phone(out, sizeof(out), in, country) != CRM_EINVAL)
		fail_msg("'%s' (%s) accepted as '%s'", STR(in), STR(country), out);
	assert_string_equal(out, "");
}

static void test_phone_ru(void **state)
{
	(void)state;
	static const char *const same[] = {
		"+7 (495) 123-45-67", "8 495 123 45 67", "84951234567",
		"007 495 1234567", "495 123-45-67", "+74951234567",
		"8 (495) 123-45-67", "  +7 495 123.45.67  ", "(+7) 495 1234567",
		"+7\xC2\xA0" "495\xE2\x80\xAF" "1234567",
		"+7 495 123-45-67 доб. 123", "8 495 123 45 67 доб 5",
		"+7 495 123-45-67 ДОБ.12",
	};
	for (size_t i = 0; i < ARRAY_LEN(same); i++)
		phone_ok(same[i], "RU", "+74951234567");
	phone_ok("8 800 555 35 35", "RU", "+78005553535");
	phone_ok("800 555 35 35", "RU", "+78005553535");   /* 10 digits: no trunk */
	phone_ok("8 701 123 45 67", "KZ", "+77011234567");
	phone_ok("84951234567", "ru", "+74951234567");     /* code in lower case */
}

static void test_phone_other_countries(void **state)
{
	(void)state;
	phone_ok("(415) 555-2671", "US", "+14155552671");
	phone_ok("1-415-555-2671", "US", "+14155552671");
	phone_ok("415.555.2671 x12", "US", "+14155552671");
	phone_ok("415-555-2671 ext. 12", "US", "+14155552671");
	phone_ok("+1 415 555 2671 EXT 9", "US", "+14155552671");
	phone_ok("(416) 555-0199", "CA", "+14165550199");
	phone_ok("030 1234567", "DE", "+49301234567");
	phone_ok("030/1234567", "DE", "+49301234567");
	phone_ok("020 7946 0018", "GB", "+442079460018");
	phone_ok("01 23 45 67 89", "FR", "+33123456789");
	phone_ok("06 1234 5678", "IT", "+390612345678");   /* Italy keeps the 0 */
	phone_ok("8 029 123-45-67", "BY", "+375291234567");
	phone_ok("044 123 4567", "UA", "+380441234567");
	phone_ok("06 1 234 5678", "HU", "+3612345678");
	phone_ok("8 612 34567", "LT", "+37061234567");
	phone_ok("0 612 34567", "LT", "+37061234567");
	phone_ok("03-1234-5678", "JP", "+81312345678");
	phone_ok("55 1234 5678", "MX", "+525512345678");
	/* International numbers ignore the default country. */
	phone_ok("+44 20 7946 0018", "RU", "+442079460018");
	phone_ok("0049 30 1234567", "US", "+49301234567");
	phone_ok("+49 30 1234567", NULL, "+49301234567");
	phone_ok("+49 30 1234567", "", "+49301234567");
}

static void test_phone_invalid(void **state)
{
	(void)state;
	phone_bad("12", "RU");
	phone_bad("abc", "RU");
	phone_bad("+123456789012345678", "RU");
	phone_bad("+7 495 123 45 67", "XX");
	phone_bad("", "RU");
	phone_bad("   ", "RU");
	phone_bad("+", "RU");
	phone_bad("+0 495 1234567", "RU");
	phone_bad("++7 495 1234567", "RU");
	phone_bad("7 495 + 1234567", "RU");
	phone_bad("495 12a 45 67", "RU");
	phone_bad("495 123 45 67 ext", "RU");        /* marker without digits */
	phone_bad("495 123 45 67 ext 12a", "RU");
	phone_bad("call 495 123 45 67", "RU");
	phone_bad("495_123_45_67", "RU");
	phone_bad("495 123 45 67", NULL);             /* national, no country */
	phone_bad("0123", "DE");                      /* +49123: too short */
	phone_bad(NULL, "RU");
	phone_bad("+7 495 123 45 67", "RUS");
}

static void test_phone_messages(void **state)
{
	(void)state;
	char out[32];
	assert_int_equal(crm_norm_phone(out, sizeof(out), "+7 495 1234567", "XX"), CRM_EINVAL);
	assert_msg_has("'XX'");
	assert_msg_has("country");
	assert_int_equal(crm_norm_phone(out, sizeof(out), "abc", "RU"), CRM_EINVAL);
	assert_msg_has("invalid phone number 'abc'");
	assert_int_equal(crm_norm_phone(out, sizeof(out), "12", "RU"), CRM_EINVAL);
	assert_msg_has("'12'");
	assert_int_equal(crm_norm_phone(out, 5, "+74951234567", "RU"), CRM_EINVAL);
	assert_string_equal(out, "");
}

static void test_digits(void **state)
{
	(void)state;
	char out[32];
	crm_digits(out, sizeof(out), "+7 (495) 123-45-67");
	assert_string_equal(out, "74951234567");
	crm_digits(out, 4, "+7 (495) 123-45-67");
	assert_string_equal(out, "749");
	crm_digits(out, sizeof(out), "no digits");
	assert_string_equal(out, "");
	crm_digits(out, sizeof(out), "ул. Ленина 5, кв 12");
	assert_string_equal(out, "512");
	crm_digits(out, 1, "123");
	assert_string_equal(out, "");
}

/* ---- currencies and amounts -------------------------------------------- */

static void test_currency_exponent(void **state)
{
	(void)state;
	static const char *const two[] = {
		"USD", "EUR", "RUB", "GBP", "CHF", "CNY", "KZT", "BYN", "UAH", "CAD",
		"AUD", "SEK", "NOK", "PLN", "CZK", "TRY", "INR", "BRL", "MXN", "AED",
	};
	static const char *const zero[] = {
		"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", "PYG",
		"RWF", "KMF", "GNF", "DJF", "BIF", "VUV",
	};
	static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
	static const char *const unknown[] = {"XYZ", "eur", "Eur", "EU", "EURO", "", "E1R", "XAU", "XXX"};

	for (size_t i = 0; i < ARRAY_LEN(two); i++)
		assert_int_equal(crm_currency_exponent(two[i]), 2);
	for (size_t i = 0; i < ARRAY_LEN(zero); i++)
		assert_int_equal(crm_currency_exponent(zero[i]), 0);
	for (size_t i = 0; i < ARRAY_LEN(three); i++)
		assert_int_equal(crm_currency_exponent(three[i]), 3);
	for (size_t i = 0; i < ARRAY_LEN(unknown); i++)
		assert_int_equal(crm_currency_exponent(unknown[i]), -1);
	assert_int_equal(crm_currency_exponent("CLF"), 4);
	assert_int_equal(crm_currency_exponent(NULL), -1);
}

static void amount_ok(const char *in, const char *cur, int64_t want)
{
	int64_t v = 42;
	if (crm_parse_amount(&v, in, cur) != 0)
		fail_msg("'%s' %s refused: %s", in, cur, crm_error_last());
	if (v != want)
		fail_msg("'%s' %s gave %lld, want %lld", in, cur, (long long)v, (long long)want);
}

static void amount_bad(const char *in, const char *cur)
{
	int64_t v = 42;
	if (crm_parse_amount(&v, in, cur) != CRM_EINVAL)
		fail_msg("'%s' %s accepted as %lld", STR(in), STR(cur), (long long)v);
	assert_true(crm_error_last()[0] != '\0');
}

static void test_amount_valid(void **state)
{
	(void)state;
	amount_ok("12.50", "EUR", 1250);
	amount_ok("12,5", "EUR", 1250);
	amount_ok("1 234,56", "EUR", 123456);
	amount_ok("-3", "EUR", -300);
	amount_ok("+3", "EUR", 300);
	amount_ok("1'000.5", "CHF", 100050);
	amount_ok("1\xC2\xA0" "234,56", "RUB", 123456);          /* U+00A0 */
	amount_ok("1\xE2\x80\xAF" "234\xE2\x80\xAF" "567,8", "EUR", 123456780); /* U+202F */
	amount_ok("  7.05 ", "USD", 705);
	amount_ok("0.01", "USD", 1);
	amount_ok("-0", "USD", 0);
	amount_ok("007", "USD", 700);
	amount_ok("1000", "JPY", 1000);
	amount_ok("1 000 000", "KRW", 1000000);
	amount_ok("1.234", "KWD", 1234);
	amount_ok("1.2", "KWD", 1200);
	amount_ok("0.0001", "CLF", 1);
	amount_ok("999999999999999.99", "EUR", INT64_C(99999999999999999));
	amount_ok("-999 999 999 999 999,99", "EUR", -INT64_C(99999999999999999));
	amount_ok("999999999999999", "JPY", INT64_C(999999999999999));
	amount_ok("999999999999999.999", "BHD", INT64_C(999999999999999999));
}

static void test_amount_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"12.345", "1,234.56", "1.234,56", "12.3.4", "abc", "", "   ", "-", "+",
		"1e5", "99999999999999999999", "1000000000000000", "12.", ".5", ",5",
		"1 23", "12 3456", "1234 567", "1'", "1 ,5", "- 3", "--3", "3-",
		"1.2 3", "0x10", "1_000", "12 €", "$12", "1\xC2\xA0", "NaN",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		amount_bad(bad[i], "EUR");
	amount_bad("10.5", "JPY");
	amount_bad("10.0", "JPY");
	amount_bad("1.2345", "KWD");
	amount_bad("999999999999999.9999", "CLF");   /* over INT64_MAX minor units */
	amount_bad("12", "XYZ");
	amount_bad("12", NULL);
	amount_bad(NULL, "EUR");
}

static void test_amount_messages(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(crm_parse_amount(&v, "12.345", "EUR"), CRM_EINVAL);
	assert_string_equal(crm_error_last(), "amount '12.345' has more decimals than EUR allows (2)");
	assert_int_equal(crm_parse_amount(&v, "10.5", "JPY"), CRM_EINVAL);
	assert_string_equal(crm_error_last(), "amount '10.5' has more decimals than JPY allows (0)");
	assert_int_equal(crm_parse_amount(&v, "1e5", "EUR"), CRM_EINVAL);
	assert_msg_has("'1e5'");
	assert_msg_has("'e'");
	assert_int_equal(crm_parse_amount(&v, "99999999999999999999", "EUR"), CRM_EINVAL);
	assert_msg_has("'99999999999999999999'");
	assert_msg_has("too large");
	assert_int_equal(crm_parse_amount(&v, "1,234.56", "USD"), CRM_EINVAL);
	assert_msg_has("decimal separator");
	assert_int_equal(crm_parse_amount(&v, "5", "XYZ"), CRM_EINVAL);
	assert_msg_has("'XYZ'");
}

static void format_is(int64_t minor, const char *cur, const char *want)
{
	char out[32] = "junk";
	crm_format_amount(out, sizeof(out), minor, cur);
	assert_string_equal(out, want);
}

static void test_format_amount(void **state)
{
	(void)state;
	format_is(1250, "EUR", "12.50");
	format_is(-300, "EUR", "-3.00");
	format_is(-5, "USD", "-0.05");
	format_is(0, "USD", "0.00");
	format_is(1000, "JPY", "1000");
	format_is(-1000, "JPY", "-1000");
	format_is(1234, "KWD", "1.234");
	format_is(1, "CLF", "0.0001");
	format_is(1250, "XYZ", "12.50");            /* unknown: 2 decimals */
	format_is(INT64_MAX, "EUR", "92233720368547758.07");
	format_is(INT64_MIN, "EUR", "-92233720368547758.08");

	char small[5] = "junk";
	crm_format_amount(small, sizeof(small), 123456, "EUR");   /* "1234.56" */
	assert_string_equal(small, "");
	crm_format_amount(small, sizeof(small), 150, "EUR");
	assert_string_equal(small, "1.50");
}

static void test_amount_round_trip(void **state)
{
	(void)state;
	static const int64_t values[] = {
		0, 1, -1, 9, 10, 99, 100, 101, 1250, -300, 123456789,
		INT64_C(999999999999999), -INT64_C(999999999999999),
	};
	static const char *const curs[] = {"EUR", "JPY", "KWD", "RUB", "BHD"};
	for (size_t c = 0; c < ARRAY_LEN(curs); c++) {
		for (size_t i = 0; i < ARRAY_LEN(values); i++) {
			char text[32];
			int64_t back = 42;
			crm_format_amount(text, sizeof(text), values[i], curs[c]);
			if (crm_parse_amount(&back, text, curs[c]) != 0)
				fail_msg("'%s' %s refused: %s", text, curs[c], crm_error_last());
			assert_int_equal(back, values[i]);
		}
	}
}

/* ---- dates ------------------------------------------------------------- */

static void test_date(void **state)
{
	(void)state;
	static const char *const good[] = {
		"2024-02-29", "2000-02-29", "2023-02-28", "2024-12-31", "1000-01-01",
		"9999-12-31", "2023-04-30",
	};
	static const char *const bad[] = {
		"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-01-00",
		"2024-04-31", "2024-01-32", "0999-12-31", "2024-1-01", "2024-01-1",
		"2024/01/01", "20240101", "2024-01-01x", " 2024-01-01", "2024-01-01T00:00",
		"", "abcd-ef-gh", "2024-01", "+2024-01-01",
	};
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		if (crm_parse_date(good[i]) != 0)
			fail_msg("'%s' refused: %s", good[i], crm_error_last());
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (crm_parse_date(bad[i]) != CRM_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(crm_parse_date(NULL), CRM_EINVAL);

	assert_int_equal(crm_parse_date("2023-02-29"), CRM_EINVAL);
	assert_msg_has("'2023-02-29'");
	assert_int_equal(crm_parse_date("2024-13-01"), CRM_EINVAL);
	assert_msg_has("month 13");
}

static void datetime_ok(const char *in, const char *want)
{
	char out[32];
	if (crm_parse_datetime(out, sizeof(out), in) != 0)
		fail_msg("'%s' refused: %s", in, crm_error_last());
	if (strcmp(out, want) != 0)
		fail_msg("'%s' gave '%s', want '%s'", in, out, want);
}

static void test_datetime_valid(void **state)
{
	(void)state;
	datetime_ok("2024-03-01T01:30+03:00", "2024-02-29T22:30:00Z");
	datetime_ok("2024-03-01", "2024-03-01T00:00:00Z");
	datetime_ok("2024-03-01T12:34", "2024-03-01T12:34:00Z");
	datetime_ok("2024-03-01 12:34:56", "2024-03-01T12:34:56Z");
	datetime_ok("2024-03-01T12:34:56Z", "2024-03-01T12:34:56Z");
	datetime_ok("2024-03-01 00:00-00:00", "2024-03-01T00:00:00Z");
	datetime_ok("2024-12-31T23:30-01:00", "2025-01-01T00:30:00Z");
	datetime_ok("2023-03-01T00:59:59+01:00", "2023-02-28T23:59:59Z");
	datetime_ok("2024-02-28T23:00-05:30", "2024-02-29T04:30:00Z");
	datetime_ok("2000-01-01T05:45+05:45", "2000-01-01T00:00:00Z");
	datetime_ok("2100-02-28T20:00-04:00", "2100-03-01T00:00:00Z");
	datetime_ok("1970-01-01T03:00+03:00", "1970-01-01T00:00:00Z");
	datetime_ok("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z");
	datetime_ok("1000-01-01T00:00Z", "1000-01-01T00:00:00Z");
}

static void test_datetime_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"2024-03-01 25:00", "2024-03-01T24:00", "2024-03-01T12:60",
		"2024-03-01T12:30:60", "2024-03-01T12", "2024-03-01T1:30",
		"2024-03-01T12:30+3:00", "2024-03-01T12:30+03", "2024-03-01T12:30+0300",
		"2024-03-01T12:30+24:00", "2024-03-01T12:30+03:60",
		"2024-03-01T12:30:00.5Z", "2024-03-01Z", "2024-03-01T", "2024-03-01 ",
		"2024-03-01x12:30", "2024-03-01T12:30Zx", "2024-03-01T12:30z",
		"2023-02-29T10:00", "1000-01-01T00:30+01:00", "9999-12-31T23:30-01:00",
		"", "2024-03-01T12:30:5",
	};
	char out[32] = "junk";
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (crm_parse_datetime(out, sizeof(out), bad[i]) != CRM_EINVAL)
			fail_msg("'%s' accepted as '%s'", bad[i], out);
		assert_string_equal(out, "");
	}
	assert_int_equal(crm_parse_datetime(out, sizeof(out), NULL), CRM_EINVAL);
	assert_int_equal(crm_parse_datetime(out, 20, "2024-03-01"), CRM_EINVAL);
	assert_int_equal(crm_parse_datetime(out, 21, "2024-03-01"), 0);
	assert_string_equal(out, "2024-03-01T00:00:00Z");

	assert_int_equal(crm_parse_datetime(out, sizeof(out), "2024-03-01 25:00"), CRM_EINVAL);
	assert_msg_has("'2024-03-01 25:00'");
	assert_msg_has("hour 25");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email_valid),
		cmocka_unit_test(test_email_invalid),
		cmocka_unit_test(test_email_messages),
		cmocka_unit_test(test_email_small_buffer),
		cmocka_unit_test(test_phone_ru),
		cmocka_unit_test(test_phone_other_countries),
		cmocka_unit_test(test_phone_invalid),
		cmocka_unit_test(test_phone_messages),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_currency_exponent),
		cmocka_unit_test(test_amount_valid),
		cmocka_unit_test(test_amount_invalid),
		cmocka_unit_test(test_amount_messages),
		cmocka_unit_test(test_format_amount),
		cmocka_unit_test(test_amount_round_trip),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_datetime_valid),
		cmocka_unit_test(test_datetime_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
