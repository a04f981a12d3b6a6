/*
 * normalize.h — pure parsing and normalization of user-typed values:
 * e-mail addresses, phone numbers (E.164), money amounts, ISO-8601 dates.
 *
 * No I/O, no allocation except where stated, no global state.  Every
 * function returns 0 or CRM_EINVAL with a message naming the bad input.
 */
#ifndef CRM_NORMALIZE_H
#define CRM_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

/* Validate an e-mail address syntactically (local@domain with a dot in the
 * domain, no spaces, sane lengths: local <= 64, total <= 254) and write it
 * lower-cased and trimmed into out (cap bytes incl. NUL). */
int crm_norm_email(char *out, size_t cap, const char *in);

/* Normalize a phone number to E.164 ("+74951234567").
 * Accepts spaces, dashes, dots, parentheses, a leading "+" or international
 * prefix "00", an optional extension ("ext. 12", "x12", "доб. 12") which is
 * dropped. A number without "+"/"00" is national: the default country's
 * trunk prefix (e.g. "8" for RU, "0" for DE/GB/FR) is removed and its
 * calling code prepended. `default_country` is ISO 3166-1 alpha-2 ("RU",
 * "US", "DE", ...); a table covers at least 60 common countries.
 * Result must have 8..15 digits after "+". */
int crm_norm_phone(char *out, size_t cap, const char *in, const char *default_country);

/* Only the digits of `in` (for search), at most cap-1 of them. */
void crm_digits(char *out, size_t cap, const char *in);

/* Minor-unit exponent of an ISO 4217 currency code (upper case, 3 letters):
 * 2 for EUR/USD/RUB, 0 for JPY/KRW/..., 3 for BHD/KWD/OMR/JOD/TND/LYD/IQD.
 * Returns -1 for a code that is not a known ISO 4217 code. */
int crm_currency_exponent(const char *code);

/* Parse a decimal amount exactly — no floating point — into integer minor
 * units of `currency`: optional sign, digits, optional spaces / apostrophes
 * / U+00A0 / U+202F as thousands separators, one decimal separator "." or
 * ",". "12.50", "1 234,56", "-3", "1'000.5" are fine; "1,234.56", "12.3.4",
 * "abc", "" are refused. More fractional digits than the currency has is an
 * error; |amount| must be below 10^15 major units. */
int crm_parse_amount(int64_t *out, const char *in, const char *currency);
/* Format minor units back: "12.50", "-3.00", "1000" for JPY. */
void crm_format_amount(char *out, size_t cap, int64_t minor, const char *currency);

/* Validate an ISO-8601 calendar date "YYYY-MM-DD" (real date, leap years). */
int crm_parse_date(const char *in);
/* Validate and canonicalize an ISO-8601 date-time: accepts "YYYY-MM-DD",
 * "YYYY-MM-DDTHH:MM", "YYYY-MM-DD HH:MM[:SS]", with optional "Z" or
 * "+HH:MM"; writes UTC "YYYY-MM-DDTHH:MM:SSZ" (a bare date becomes 00:00:00Z;
 * no offset means UTC). */
int crm_parse_datetime(char *out, size_t cap, const char *in);

#endif
