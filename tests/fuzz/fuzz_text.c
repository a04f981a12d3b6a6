/*
 * fuzz_text.c — libFuzzer target: what `crm import` reads before any row is
 * written — encoding detection and conversion (node/csv.c), RFC 4180
 * records with every delimiter, and vCards (node/vcard.c).
 */
#include "csv.h"
#include "error.h"
#include "vcard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int count_row(void *ctx, const crm_csv_row *row)
{
	size_t *n = ctx;
	for (size_t i = 0; i < row->count; i++)
		*n += strlen(row->fields[i]);
	return 0;
}

static int count_card(void *ctx, crm_vcard *card)
{
	size_t *n = ctx;
	for (size_t i = 0; i < card->count; i++) {
		crm_vcard_unescape(card->props[i].value);
		char *parts[8];
		*n += crm_vcard_split(card->props[i].value, parts, 8);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = NULL;
	size_t text_len = 0, n = 0;
	const char *used = NULL;
	if (crm_text_decode(&text, &text_len, &used, (const char *)data, len, NULL, "fuzz") < 0)
		return 0;
	if (!crm_text_utf8_valid(text, text_len))
		abort();   /* the decoder promised UTF-8 */
	size_t skip = 0;
	char delim = crm_csv_sep_line(text, text_len, &skip);
	if (!delim)
		delim = crm_csv_detect_delim(text, text_len);
	crm_csv_read(text + skip, text_len - skip, delim, "fuzz", count_row, &n);
	crm_csv_read(text, text_len, ';', "fuzz", count_row, &n);
	crm_vcard_read(text, text_len, NULL, "fuzz", count_card, &n);
	free(text);
	return 0;
}
