/*
 * hlc.c — hybrid logical clock arithmetic (see hlc.h).
 */
#include "hlc.h"

#include <stdio.h>
#include <time.h>

uint64_t crm_hlc_next(uint64_t last, uint64_t now_ms)
{
	uint64_t wall = CRM_HLC_FROM_MS(now_ms);
	return wall > last ? wall : last + 1;
}

uint64_t crm_hlc_recv(uint64_t last, uint64_t remote)
{
	return remote > last ? remote : last;
}

void crm_hlc_format(char out[64], uint64_t hlc)
{
	uint64_t ms = CRM_HLC_MS(hlc);
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ+%u", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ms % 1000), (unsigned)(hlc & 0xffff));
}
