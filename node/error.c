/*
 * error.c — per-thread error slot (see error.h).
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[1024];
static _Thread_local char last_where[128];

int crm_error_set(int code, const char *file, int line, const char *fmt, ...)
{
	/* Format aside first: callers may wrap the previous message
	 * (CRM_ERR(err, "%s: %s", path, crm_error_last())). */
	char buf[sizeof(last_msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(last_msg, buf, sizeof(buf));
	const char *base = strrchr(file, '/');
	snprintf(last_where, sizeof(last_where), "%s:%d", base ? base + 1 : file, line);
	return code;
}

const char *crm_error_last(void) { return last_msg; }
const char *crm_error_where(void) { return last_where; }

void crm_error_clear(void)
{
	last_msg[0] = '\0';
	last_where[0] = '\0';
}

const char *crm_error_name(int code)
{
	static const char *const names[] = {
		"OK", "EINVAL", "ENOTFOUND", "EEXISTS", "EDB", "EIO", "ECRYPTO",
		"ECORRUPT", "ENOMEM", "EUSAGE", "EVERIFY", "ELIMIT", "EFORK", "EGIT",
		"EDENIED",
	};
	int i = -code;
	if (i < 0 || i >= (int)(sizeof(names) / sizeof(names[0])))
		return "EUNKNOWN";
	return names[i];
}
