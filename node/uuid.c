/*
 * uuid.c — UUIDv7 generation and syntax check (RFC 9562).
 */
#include "uuid.h"
#include "sign.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int crm_uuid7(char out[CRM_ID_LEN + 1], uint64_t now_ms)
{
	uint8_t b[16];
	int err = crm_random(b + 6, 10);
	if (err < 0)
		return err;
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(now_ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));   /* version 7 */
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));   /* variant 10 */
	snprintf(out, CRM_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
	return 0;
}

int crm_uuid_valid(const char *s)
{
	if (!s || strlen(s) != CRM_ID_LEN)
		return 0;
	for (int i = 0; i < CRM_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}
