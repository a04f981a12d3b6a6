/*
 * uuid.h — row ids: UUIDv7 text (time-ordered, 74 random bits), made locally.
 */
#ifndef CRM_UUID_H
#define CRM_UUID_H

#include <stdint.h>

#define CRM_ID_LEN 36   /* "0190f5b2-7c4e-7a3b-9f00-1234567890ab" */

/* A new UUIDv7 for the Unix time now_ms, lower-case, NUL-terminated. */
int crm_uuid7(char out[CRM_ID_LEN + 1], uint64_t now_ms);
/* 1 if s is a well-formed lower- or upper-case UUID string (any version). */
int crm_uuid_valid(const char *s);

#endif
