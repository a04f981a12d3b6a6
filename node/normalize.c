/*
 * normalize.c — parsing and normalization of user-typed values (see
 * normalize.h): e-mail addresses, E.164 phone numbers, money amounts in
 * integer minor units of an ISO 4217 currency, ISO-8601 dates and
 * date-times.
 *
 * Everything here is a pure function of its arguments.  This module must
 * never do I/O, allocate, print, exit, read the clock, the locale or the
 * environment, keep mutable state, or use floating point; the only
 * globals are const tables.  Every failure returns CRM_EINVAL through
 * CRM_ERR with a one-line message that quotes the offending input and
 * says what is wrong with it.  Outputs are written only on success; on
 * failure a non-empty output buffer is left holding "".
 */
#include "normalize.h"

#include "error.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- shared helpers ---------------------------------------------------- */

/* Locale-independent ASCII classes (<ctype.h> depends on the locale). */
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int to_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

enum { QUOTE_MAX = 96 };

/* Copy `in` into q for quoting inside an error message: control bytes
 * become '?' so the message stays on one line, and a long input is cut at
 * a UTF-8 character boundary and marked with "...".  Returns q. */
static const char *quote(char q[QUOTE_MAX], const char *in)
{
	size_t n = 0;
	const size_t lim = QUOTE_MAX - 4;

	if (!in)
		in = "";
	while (in[n] && n < lim)
		n++;
	bool cut = in[n] != '\0';
	while (cut && n > 0 && ((unsigned char)in[n] & 0xC0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		q[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
	}
	memcpy(q + n, cut ? "..." : "", cut ? 4 : 1);
	return q;
}

/* A quoted copy of s that lives until the end of the enclosing block. */
#define Q(s) quote((char[QUOTE_MAX]){0}, (s))

/* Skip leading and trailing ASCII whitespace: returns the first kept byte
 * of s and stores the kept length in *len. */
static const char *trim(const char *s, size_t *len)
{
	while (is_space((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

/* Length of a UTF-8 no-break space U+00A0 (C2 A0) or narrow no-break
 * space U+202F (E2 80 AF) at s, within the `avail` bytes left; else 0. */
static size_t nbsp_len(const char *s, size_t avail)
{
	const unsigned char *u = (const unsigned char *)s;

	if (avail >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
		return 2;
	if (avail >= 3 && u[0] == 0xE2 && u[1] == 0x80 && u[2] == 0xAF)
		return 3;
	return 0;
}

/* Copy the n bytes of s and a NUL into out, or fail if cap is too small.
 * `what` and `in` name the value for the message. */
static int put_out(char *out, size_t cap, const char *s, size_t n,
		   const char *what, const char *in)
{
	if (!out || cap < n + 1)
		return CRM_ERR(CRM_EINVAL,
			       "%s '%s' does not fit the output buffer (%zu bytes needed, %zu given)",
			       what, Q(in), n + 1, out ? cap : 0);
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static void clear_out(char *out, size_t cap)
{
	if (out && cap > 0)
		out[0] = '\0';
}

/* ---- e-mail ------------------------------------------------------------ */

enum { EMAIL_MAX = 254, EMAIL_LOCAL_MAX = 64, DNS_LABEL_MAX = 63 };

#define EMAIL_BAD "invalid e-mail address '%s': "

/* The part before '@': 1..64 bytes, no dot at either end or twice in a
 * row, no control bytes and none of the RFC 5322 specials that would
 * need quoting.  UTF-8 (RFC 6531) bytes are allowed. */
static int email_check_local(const char *in, const char *s, size_t n)
{
	if (n == 0)
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "nothing before the '@'", Q(in));
	if (n > EMAIL_LOCAL_MAX)
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "the part before '@' is longer than %d bytes",
			       Q(in), EMAIL_LOCAL_MAX);
	if (s[0] == '.' || s[n - 1] == '.')
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "the part before '@' starts or ends with a dot",
			       Q(in));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' && s[i + 1] == '.')
			return CRM_ERR(CRM_EINVAL, EMAIL_BAD "two dots in a row before the '@'", Q(in));
		if (c < 0x20 || c == 0x7F)
			return CRM_ERR(CRM_EINVAL, EMAIL_BAD "contains a control character", Q(in));
		if (c < 0x80 && strchr("()<>[]\\,;:\"", c))
			return CRM_ERR(CRM_EINVAL, EMAIL_BAD "'%c' is not allowed before the '@'",
				       Q(in), c);
	}
	return 0;
}

/* The part after '@': at least two non-empty dot-separated labels of
 * letters, digits, hyphens (not at a label's ends) or UTF-8 bytes. */
static int email_check_domain(const char *in, const char *s, size_t n)
{
	size_t label = 0, dots = 0;

	if (n == 0)
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "nothing after the '@'", Q(in));
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)s[i] : '.';
		if (c == '.') {
			if (label == 0)
				return CRM_ERR(CRM_EINVAL, EMAIL_BAD "the domain has an empty label", Q(in));
			if (s[i - 1] == '-')
				return CRM_ERR(CRM_EINVAL, EMAIL_BAD "a domain label ends with '-'", Q(in));
			if (label > DNS_LABEL_MAX)
				return CRM_ERR(CRM_EINVAL, EMAIL_BAD "a domain label is longer than %d bytes",
					       Q(in), DNS_LABEL_MAX);
			dots += i < n;
			label = 0;
			continue;
		}
		if (c == '-' && label == 0)
			return CRM_ERR(CRM_EINVAL, EMAIL_BAD "a domain label starts with '-'", Q(in));
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c < 0x80)
			return CRM_ERR(CRM_EINVAL, EMAIL_BAD "'%c' is not allowed in the domain",
				       Q(in), c < 0x20 || c == 0x7F ? '?' : c);
		label++;
	}
	if (dots == 0)
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "the domain has no dot", Q(in));
	return 0;
}

/* Trimmed in must be 1..254 bytes without inner whitespace (ASCII or
 * no-break) and with exactly one '@'; both halves are then checked.  On
 * success out holds the address with ASCII letters lower-cased. */
int crm_norm_email(char *out, size_t cap, const char *in)
{
	size_t n;
	const char *at = NULL;

	clear_out(out, cap);
	if (!in)
		return CRM_ERR(CRM_EINVAL, "invalid e-mail address: none given");
	const char *s = trim(in, &n);
	if (n == 0)
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "it is empty", Q(in));
	if (n > EMAIL_MAX)
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "longer than %d bytes", Q(in), EMAIL_MAX);
	for (size_t i = 0; i < n; i++) {
		if (is_space((unsigned char)s[i]) || nbsp_len(s + i, n - i))
			return CRM_ERR(CRM_EINVAL, EMAIL_BAD "contains whitespace", Q(in));
		if (s[i] == '@' && at)
			return CRM_ERR(CRM_EINVAL, EMAIL_BAD "more than one '@'", Q(in));
		if (s[i] == '@')
			at = s + i;
	}
	if (!at)
		return CRM_ERR(CRM_EINVAL, EMAIL_BAD "no '@'", Q(in));
	int rc = email_check_local(in, s, (size_t)(at - s));
	if (rc == 0)
		rc = email_check_domain(in, at + 1, n - (size_t)(at - s) - 1);
	if (rc == 0)
		rc = put_out(out, cap, s, n, "e-mail address", in);
	for (size_t i = 0; rc == 0 && i < n; i++)
		out[i] = (char)to_lower((unsigned char)out[i]);
	return rc;
}

/* ---- phone ------------------------------------------------------------- */

/*
 * How national numbers are written in a country.  A number typed without
 * "+" or "00" loses one of the trunk prefixes it starts with (if any) and
 * gets the calling code in front.  Where a trunk digit can also begin a
 * national significant number (RU "8 800 ...", NANP "1"), `nsn` gives the
 * length of that number and the prefix is removed only from numbers of
 * exactly prefix + nsn digits; 0 means "always remove".
 */
struct country {
	char iso[3];         /* ISO 3166-1 alpha-2 */
	char code[4];        /* ITU-T E.164 country calling code */
	char trunk[2][3];    /* national trunk prefixes, "" if none */
	unsigned char nsn;   /* see above */
};

static const struct country countries[] = {
	/* CIS and neighbours */
	{"RU", "7", {"8"}, 10},     {"KZ", "7", {"8"}, 10},
	{"BY", "375", {"80"}, 9},   {"UA", "380", {"0"}, 0},
	{"MD", "373", {"0"}, 0},    {"GE", "995", {"0"}, 0},
	{"AM", "374", {"0"}, 0},    {"AZ", "994", {"0"}, 0},
	/* North America (NANP) */
	{"US", "1", {"1"}, 10},     {"CA", "1", {"1"}, 10},
	/* Europe; Lithuania replaced "8" by "0" in 2025, old records use both */
	{"GB", "44", {"0"}, 0},     {"IE", "353", {"0"}, 0},
	{"DE", "49", {"0"}, 0},     {"FR", "33", {"0"}, 0},
	{"IT", "39", {""}, 0},      {"ES", "34", {""}, 0},
	{"PT", "351", {""}, 0},     {"NL", "31", {"0"}, 0},
	{"BE", "32", {"0"}, 0},     {"LU", "352", {""}, 0},
	{"CH", "41", {"0"}, 0},     {"AT", "43", {"0"}, 0},
	{"PL", "48", {""}, 0},      {"CZ", "420", {""}, 0},
	{"SK", "421", {"0"}, 0},    {"HU", "36", {"06"}, 0},
	{"RO", "40", {"0"}, 0},     {"BG", "359", {"0"}, 0},
	{"GR", "30", {""}, 0},      {"CY", "357", {""}, 0},
	{"MT", "356", {""}, 0},     {"SI", "386", {"0"}, 0},
	{"HR", "385", {"0"}, 0},    {"RS", "381", {"0"}, 0},
	{"BA", "387", {"0"}, 0},    {"ME", "382", {"0"}, 0},
	{"MK", "389", {"0"}, 0},    {"AL", "355", {"0"}, 0},
	{"SE", "46", {"0"}, 0},     {"NO", "47", {""}, 0},
	{"DK", "45", {""}, 0},      {"FI", "358", {"0"}, 0},
	{"IS", "354", {""}, 0},     {"EE", "372", {""}, 0},
	{"LV", "371", {""}, 0},     {"LT", "370", {"0", "8"}, 8},
	/* Middle East and Africa */
	{"TR", "90", {"0"}, 0},     {"IL", "972", {"0"}, 0},
	{"AE", "971", {"0"}, 0},    {"SA", "966", {"0"}, 0},
	{"QA", "974", {""}, 0},     {"KW", "965", {""}, 0},
	{"BH", "973", {""}, 0},     {"OM", "968", {""}, 0},
	{"JO", "962", {"0"}, 0},    {"LB", "961", {"0"}, 0},
	{"EG", "20", {"0"}, 0},     {"MA", "212", {"0"}, 0},
	{"DZ", "213", {"0"}, 0},    {"TN", "216", {""}, 0},
	{"NG", "234", {"0"}, 0},    {"GH", "233", {"0"}, 0},
	{"KE", "254", {"0"}, 0},    {"ZA", "27", {"0"}, 0},
	/* Asia and Oceania */
	{"IN", "91", {"0"}, 0},     {"PK", "92", {"0"}, 0},
	{"BD", "880", {"0"}, 0},    {"LK", "94", {"0"}, 0},
	{"CN", "86", {"0"}, 0},     {"HK", "852", {""}, 0},
	{"TW", "886", {"0"}, 0},    {"JP", "81", {"0"}, 0},
	{"KR", "82", {"0"}, 0},     {"SG", "65", {""}, 0},
	{"MY", "60", {"0"}, 0},     {"TH", "66", {"0"}, 0},
	{"VN", "84", {"0"}, 0},     {"ID", "62", {"0"}, 0},
	{"PH", "63", {"0"}, 0},     {"AU", "61", {"0"}, 0},
	{"NZ", "64", {"0"}, 0},
	/* Latin America */
	{"MX", "52", {""}, 0},      {"BR", "55", {"0"}, 0},
	{"AR", "54", {"0"}, 0},     {"CL", "56", {""}, 0},
	{"CO", "57", {""}, 0},      {"PE", "51", {"0"}, 0},
	{"VE", "58", {"0"}, 0},     {"EC", "593", {"0"}, 0},
	{"UY", "598", {"0"}, 0},
};

_Static_assert(sizeof(countries) / sizeof(countries[0]) >= 60,
	       "the phone table must cover at least 60 countries");

enum { E164_MIN = 8, E164_MAX = 15, PHONE_SCAN_MAX = 32 };

#define PHONE_BAD "invalid phone number '%s': "

/* The table row for an alpha-2 code (either case), or NULL. */
static const struct country *find_country(const char *iso)
{
	if (strlen(iso) != 2)
		return NULL;
	for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++) {
		const char *c = countries[i].iso;
		if (to_lower((unsigned char)iso[0]) == to_lower(c[0]) &&
		    to_lower((unsigned char)iso[1]) == to_lower(c[1]))
			return &countries[i];
	}
	return NULL;
}

/* Whether s[i..n) is an extension: a marker ("ext", "x" in any case,
 * "доб"), an optional '.' or ':', optional spaces and at least one digit,
 * then nothing but digits. */
static bool is_extension(const char *s, size_t i, size_t n)
{
	static const char *const markers[] = {"ext", "x", "доб", "Доб", "ДОБ"};
	size_t k = 0, m;

	for (m = 0; m < sizeof(markers) / sizeof(markers[0]); m++) {
		for (k = 0; markers[m][k] && i + k < n; k++)
			if (to_lower((unsigned char)s[i + k]) != (unsigned char)markers[m][k])
				break;
		if (markers[m][k] == '\0')
			break;
	}
	if (m == sizeof(markers) / sizeof(markers[0]))
		return false;
	i += k;
	if (i < n && (s[i] == '.' || s[i] == ':'))
		i++;
	while (i < n && is_space((unsigned char)s[i]))
		i++;
	if (i == n)
		return false;
	while (i < n && is_digit(s[i]))
		i++;
	return i == n;
}

/* Length of the part of trimmed s[0..n) before a trailing extension: n
 * if there is none, (size_t)-1 if letters appear that are not one. */
static size_t phone_main_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = nbsp_len(s + i, n - i);
		unsigned char c = (unsigned char)s[i];
		if (k == 0 && (is_alpha(c) || c >= 0x80))
			break;
		i += k ? k : 1;
	}
	if (i == n || is_extension(s, i, n))
		return i;
	return (size_t)-1;
}

/* Collect the digits of s[0..n) into d (*nd of them), noting a leading
 * '+'; separators may be spaces, no-break spaces, "-./()". */
static int phone_scan(const char *in, const char *s, size_t n, char *d,
		      size_t *nd, bool *plus)
{
	*nd = 0;
	*plus = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t k = nbsp_len(s + i, n - i);
		if (k) {
			i += k - 1;
		} else if (is_digit(c)) {
			if (*nd == PHONE_SCAN_MAX)
				return CRM_ERR(CRM_EINVAL, PHONE_BAD "too many digits", Q(in));
			d[(*nd)++] = (char)c;
		} else if (c == '+' && *nd == 0 && !*plus) {
			*plus = true;
		} else if (!is_space(c) && !strchr("-./()", c)) {
			return CRM_ERR(CRM_EINVAL, PHONE_BAD "unexpected character '%c'",
				       Q(in), c < 0x20 || c == 0x7F ? '?' : c);
		}
	}
	if (*nd == 0)
		return CRM_ERR(CRM_EINVAL, PHONE_BAD "no digits", Q(in));
	return 0;
}

/* Remove the first matching trunk prefix of `home` from d[0..*nd). */
static const char *strip_trunk(const struct country *home, const char *d, size_t *nd)
{
	for (size_t t = 0; t < 2; t++) {
		size_t tl = strlen(home->trunk[t]);
		if (tl == 0 || *nd < tl || memcmp(d, home->trunk[t], tl) != 0)
			continue;
		if (home->nsn && *nd != tl + home->nsn)
			continue;
		*nd -= tl;
		return d + tl;
	}
	return d;
}

/* Build "+<digits>" into e (room for 1 + 3 + PHONE_SCAN_MAX + 1) from the
 * scanned digits: international after "+" or "00", else national. */
static int phone_build(const char *in, char *e, size_t *len, const char *d,
		       size_t nd, bool plus, const struct country *home)
{
	size_t n = 0;

	e[n++] = '+';
	if (!plus && nd >= 2 && d[0] == '0' && d[1] == '0') {
		plus = true;
		d += 2;
		nd -= 2;
	}
	if (plus && (nd == 0 || d[0] == '0'))
		return CRM_ERR(CRM_EINVAL, PHONE_BAD "a country calling code cannot start with 0",
			       Q(in));
	if (!plus && !home)
		return CRM_ERR(CRM_EINVAL,
			       PHONE_BAD "no '+' or '00' and no default country to read it in", Q(in));
	if (!plus) {
		d = strip_trunk(home, d, &nd);
		memcpy(e + n, home->code, strlen(home->code));
		n += strlen(home->code);
	}
	memcpy(e + n, d, nd);
	n += nd;
	if (n - 1 < E164_MIN || n - 1 > E164_MAX)
		return CRM_ERR(CRM_EINVAL, PHONE_BAD "%zu digits with the country code, expected %d to %d",
			       Q(in), n - 1, E164_MIN, E164_MAX);
	*len = n;
	return 0;
}

/* A NULL or empty default_country accepts only international numbers. */
int crm_norm_phone(char *out, size_t cap, const char *in, const char *default_country)
{
	const struct country *home = NULL;
	char digits[PHONE_SCAN_MAX], e164[1 + 3 + PHONE_SCAN_MAX + 1];
	size_t n, nd, len = 0;
	bool plus = false;

	clear_out(out, cap);
	if (!in)
		return CRM_ERR(CRM_EINVAL, "invalid phone number: none given");
	if (default_country && *default_country) {
		home = find_country(default_country);
		if (!home)
			return CRM_ERR(CRM_EINVAL, "unknown default country '%s' for phone number '%s'",
				       Q(default_country), Q(in));
	}
	const char *s = trim(in, &n);
	size_t main_len = phone_main_len(s, n);
	if (main_len == (size_t)-1)
		return CRM_ERR(CRM_EINVAL, PHONE_BAD "contains letters", Q(in));
	int rc = phone_scan(in, s, main_len, digits, &nd, &plus);
	if (rc == 0)
		rc = phone_build(in, e164, &len, digits, nd, plus, home);
	if (rc == 0)
		rc = put_out(out, cap, e164, len, "phone number", in);
	return rc;
}

void crm_digits(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	if (!out || cap == 0)
		return;
	for (; in && *in && n + 1 < cap; in++)
		if (is_digit(*in))
			out[n++] = *in;
	out[n] = '\0';
}

/* ---- currencies and amounts -------------------------------------------- */

/*
 * ISO 4217 codes by number of minor-unit digits: the active list (funds
 * codes included) plus ANG, CUC, SLL and ZWL, which are being withdrawn
 * but still appear in records.  Codes without a minor unit (XAU, XDR,
 * XXX, ...) are not money and are left out.  Codes are 4 bytes apart.
 */
static const struct {
	int exponent;
	const char *codes;
} currencies[] = {
	{2, "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND "
	    "BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU "
	    "CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
	    "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS "
	    "KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP "
	    "MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN "
	    "PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE "
	    "SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS "
	    "UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"},
	{0, "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF "
	    "XPF"},
	{3, "BHD IQD JOD KWD LYD OMR TND"},
	{4, "CLF UYW"},
};

int crm_currency_exponent(const char *code)
{
	if (!code || strlen(code) != 3)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return -1;
	for (size_t g = 0; g < sizeof(currencies) / sizeof(currencies[0]); g++) {
		const char *list = currencies[g].codes;
		size_t len = strlen(list);
		for (size_t i = 0; i + 3 <= len; i += 4)
			if (memcmp(list + i, code, 3) == 0)
				return currencies[g].exponent;
	}
	return -1;
}

#define AMOUNT_BAD "invalid amount '%s': "

/* Amounts are limited to |major units| < 10^15. */
static const int64_t MAJOR_LIMIT = INT64_C(1000000000000000);

struct amount {
	bool neg;
	int64_t major;   /* integer part, below MAJOR_LIMIT */
	int nint;        /* integer digits seen */
	int64_t frac;    /* the first `exponent` fractional digits */
	int nfrac;       /* fractional digits seen */
};

static int64_t pow10i(int e)
{
	int64_t p = 1;
	while (e-- > 0)
		p *= 10;
	return p;
}

static bool is_group_sep(const char *s, size_t avail, size_t *len)
{
	*len = nbsp_len(s, avail);
	if (*len == 0 && (*s == ' ' || *s == '\''))
		*len = 1;
	return *len != 0;
}

static int amount_bad_char(const char *in, unsigned char c)
{
	if (c > 0x20 && c < 0x7F)
		return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "unexpected character '%c'", Q(in), c);
	return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "unexpected byte 0x%02X", Q(in), c);
}

/* Integer part of s[*pos..n) up to a decimal separator or the end.
 * Thousands separators must split it into groups of 1-3 then 3 digits. */
static int amount_int_part(const char *in, const char *s, size_t n, size_t *pos,
			   struct amount *a)
{
	size_t i = *pos, group = 0, seps = 0, k;

	while (i < n && s[i] != '.' && s[i] != ',') {
		if (is_group_sep(s + i, n - i, &k)) {
			if (group == 0 || group > 3 || (seps > 0 && group != 3))
				return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "misplaced space or thousands separator",
					       Q(in));
			seps++;
			group = 0;
			i += k;
			continue;
		}
		if (!is_digit(s[i]))
			return amount_bad_char(in, (unsigned char)s[i]);
		a->major = a->major * 10 + (s[i] - '0');
		if (a->major >= MAJOR_LIMIT)
			return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "too large, must be below 10^15", Q(in));
		a->nint++;
		group++;
		i++;
	}
	if (a->nint == 0)
		return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "%s", Q(in),
			       i < n ? "no digits before the decimal separator" : "no digits");
	if (group == 0 || (seps > 0 && group != 3))
		return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "misplaced space or thousands separator", Q(in));
	*pos = i;
	return 0;
}

/* Fractional part after the decimal separator at s[pos]: digits only. */
static int amount_frac_part(const char *in, const char *s, size_t n, size_t pos,
			    int exponent, struct amount *a)
{
	for (size_t i = pos + 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' || c == ',')
			return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "more than one decimal separator", Q(in));
		if (!is_digit(c))
			return amount_bad_char(in, c);
		if (a->nfrac < exponent)
			a->frac = a->frac * 10 + (c - '0');
		a->nfrac++;
	}
	if (a->nfrac == 0)
		return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "no digits after the decimal separator", Q(in));
	return 0;
}

int crm_parse_amount(int64_t *out, const char *in, const char *currency)
{
	struct amount a = {0};
	size_t n, i = 0;

	if (out)
		*out = 0;
	if (!in)
		return CRM_ERR(CRM_EINVAL, "invalid amount: none given");
	int exponent = crm_currency_exponent(currency);
	if (exponent < 0)
		return CRM_ERR(CRM_EINVAL, "unknown currency '%s' for amount '%s'",
			       Q(currency), Q(in));
	const char *s = trim(in, &n);
	if (n == 0)
		return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "it is empty", Q(in));
	if (s[0] == '-' || s[0] == '+') {
		a.neg = s[0] == '-';
		i = 1;
	}
	int rc = amount_int_part(in, s, n, &i, &a);
	if (rc == 0 && i < n)
		rc = amount_frac_part(in, s, n, i, exponent, &a);
	if (rc)
		return rc;
	if (a.nfrac > exponent)
		return CRM_ERR(CRM_EINVAL, "amount '%s' has more decimals than %s allows (%d)",
			       Q(in), currency, exponent);
	int64_t scale = pow10i(exponent);
	int64_t frac = a.frac * pow10i(exponent - a.nfrac);
	if (a.major > (INT64_MAX - frac) / scale)
		return CRM_ERR(CRM_EINVAL, AMOUNT_BAD "too large for %s in minor units",
			       Q(in), currency);
	int64_t minor = a.major * scale + frac;
	if (out)
		*out = a.neg ? -minor : minor;
	return 0;
}

/* Plain digits, '-' for negatives, '.' before exactly `exponent` digits;
 * an unknown currency is formatted with 2 decimals.  If the text does not
 * fit in cap bytes, out gets "" rather than a truncated number. */
void crm_format_amount(char *out, size_t cap, int64_t minor, const char *currency)
{
	char buf[32];
	int len;

	if (!out || cap == 0)
		return;
	int exponent = crm_currency_exponent(currency);
	if (exponent < 0)
		exponent = 2;
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	uint64_t scale = (uint64_t)pow10i(exponent);
	const char *sign = minor < 0 ? "-" : "";
	if (exponent == 0)
		len = snprintf(buf, sizeof(buf), "%s%" PRIu64, sign, mag);
	else
		len = snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%0*" PRIu64, sign,
			       mag / scale, exponent, mag % scale);
	if (len < 0 || (size_t)len >= cap) {
		out[0] = '\0';
		return;
	}
	memcpy(out, buf, (size_t)len + 1);
}

/* ---- dates ------------------------------------------------------------- */

enum { YEAR_MIN = 1000, YEAR_MAX = 9999 };

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Exactly `width` ASCII digits at s as a number, or -1.  Stops at the
 * first non-digit, so it never reads past a NUL. */
static int fixed_num(const char *s, int width)
{
	int v = 0;

	for (int i = 0; i < width; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD" at the start of in, a real Gregorian date in years
 * 1000..9999.  `kind` names the value in messages. */
static int parse_ymd(const char *in, const char *kind, int *y, int *m, int *d)
{
	*y = fixed_num(in, 4);
	if (*y < 0 || in[4] != '-' || (*m = fixed_num(in + 5, 2)) < 0 || in[7] != '-' ||
	    (*d = fixed_num(in + 8, 2)) < 0)
		return CRM_ERR(CRM_EINVAL, "invalid %s '%s': expected YYYY-MM-DD", kind, Q(in));
	if (*y < YEAR_MIN)
		return CRM_ERR(CRM_EINVAL, "invalid %s '%s': year must be %d to %d",
			       kind, Q(in), YEAR_MIN, YEAR_MAX);
	if (*m < 1 || *m > 12)
		return CRM_ERR(CRM_EINVAL, "invalid %s '%s': there is no month %02d",
			       kind, Q(in), *m);
	if (*d < 1 || *d > days_in_month(*y, *m))
		return CRM_ERR(CRM_EINVAL, "invalid %s '%s': %04d-%02d has no day %02d",
			       kind, Q(in), *y, *m, *d);
	return 0;
}

/* No surrounding whitespace is accepted. */
int crm_parse_date(const char *in)
{
	int y, m, d;

	if (!in)
		return CRM_ERR(CRM_EINVAL, "invalid date: none given");
	int rc = parse_ymd(in, "date", &y, &m, &d);
	if (rc == 0 && in[10] != '\0')
		rc = CRM_ERR(CRM_EINVAL, "invalid date '%s': unexpected text after YYYY-MM-DD", Q(in));
	return rc;
}

/* Days from 0000-03-01 of the proleptic Gregorian calendar to the first
 * of March of year y (y >= 0): counting years from March puts the leap
 * day at the end of each year. */
static int64_t march_first(int64_t y)
{
	return 365 * y + y / 4 - y / 100 + y / 400;
}

/* Days from 0000-03-01 to y-m-d (y >= 1).  (153 * mp + 2) / 5 is the
 * day of the year at which month mp starts, March being mp = 0. */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t mp = (m + 9) % 12;
	return march_first(yy) + (153 * mp + 2) / 5 + d - 1;
}

/* Inverse of days_from_civil for days >= 0. */
static void civil_from_days(int64_t days, int *y, int *m, int *d)
{
	int64_t yy = days * 400 / 146097;   /* 146097 days per 400 years */

	while (march_first(yy + 1) <= days)
		yy++;
	while (yy > 0 && march_first(yy) > days)
		yy--;
	int64_t doy = days - march_first(yy);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

#define DATETIME_BAD "invalid date-time '%s': "

/* "HH:MM[:SS]" at *p; advances *p past it and stores seconds of day. */
static int parse_hms(const char *in, const char **p, int64_t *sec)
{
	const char *t = *p;
	int h = fixed_num(t, 2), mi = -1, s = 0;

	if (h >= 0 && t[2] == ':')
		mi = fixed_num(t + 3, 2);
	if (mi < 0)
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "expected HH:MM after the date", Q(in));
	t += 5;
	if (*t == ':' && (s = fixed_num(t + 1, 2)) < 0)
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "expected two digits of seconds", Q(in));
	if (*t == ':')
		t += 3;
	if (h > 23 || mi > 59 || s > 59)
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "%s %02d is out of range", Q(in),
			       h > 23 ? "hour" : mi > 59 ? "minute" : "second",
			       h > 23 ? h : mi > 59 ? mi : s);
	*sec = h * 3600 + mi * 60 + s;
	*p = t;
	return 0;
}

/* The rest of the input after the time: "", "Z" or "+HH:MM" / "-HH:MM".
 * Stores the offset east of UTC in seconds. */
static int parse_offset(const char *in, const char *p, int64_t *off)
{
	int h = -1, m = -1;

	*off = 0;
	if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0'))
		return 0;
	if (*p == '.')
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "fractional seconds are not supported", Q(in));
	if ((*p == '+' || *p == '-') && (h = fixed_num(p + 1, 2)) >= 0 && p[3] == ':')
		m = fixed_num(p + 4, 2);
	if (m < 0 || p[6] != '\0')
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "expected 'Z' or +HH:MM after the time, not '%s'",
			       Q(in), Q(p));
	if (h > 23 || m > 59)
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "offset %s is out of range", Q(in), Q(p));
	*off = (*p == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return 0;
}

int crm_parse_datetime(char *out, size_t cap, const char *in)
{
	int y, m, d;
	int64_t sec = 0, off = 0;
	char buf[32];

	clear_out(out, cap);
	if (!in)
		return CRM_ERR(CRM_EINVAL, "invalid date-time: none given");
	int rc = parse_ymd(in, "date-time", &y, &m, &d);
	const char *p = in + 10;
	if (rc == 0 && *p != '\0' && *p != 'T' && *p != ' ')
		rc = CRM_ERR(CRM_EINVAL, DATETIME_BAD "expected 'T' or a space after the date", Q(in));
	if (rc == 0 && *p != '\0') {
		p++;
		rc = parse_hms(in, &p, &sec);
		if (rc == 0)
			rc = parse_offset(in, p, &off);
	}
	if (rc)
		return rc;
	/* Non-negative: years >= 1000 are far from day 0. */
	int64_t t = days_from_civil(y, m, d) * 86400 + sec - off;
	civil_from_days(t / 86400, &y, &m, &d);
	if (y < YEAR_MIN || y > YEAR_MAX)
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "outside the years %d to %d in UTC",
			       Q(in), YEAR_MIN, YEAR_MAX);
	int s = (int)(t % 86400);
	int len = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
			   y, m, d, s / 3600, s / 60 % 60, s % 60);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return CRM_ERR(CRM_EINVAL, DATETIME_BAD "cannot be formatted", Q(in));
	return put_out(out, cap, buf, (size_t)len, "date-time", in);
}
