/*
 * agenda.c — task lists, birthdays and the pipeline catalog (see agenda.h).
 * Read-only: plain SELECTs through crm_query_rows.
 */
#include "agenda.h"
#include "error.h"
#include "normalize.h"
#include "query.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define TASK_SELECT                                                                                  \
	"SELECT t.id, t.title, t.due, coalesce(t.status, 'open') AS status, t.priority, "           \
	"u.login AS assignee, t.contact_id, t.company_id, t.deal_id, "                                \
	"trim(coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, '')) AS contact, "          \
	"c.name AS company, d.title AS deal FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id "  \
	"LEFT JOIN contacts p ON p.id = t.contact_id LEFT JOIN companies c ON c.id = t.company_id "   \
	"LEFT JOIN deals d ON d.id = t.deal_id "                                                      \
	"WHERE t.deleted = 0 AND coalesce(t.status, 'open') NOT IN ('done', 'cancelled') "

/* End of a due value: a bare date is due until the end of its day. */
#define DUE_END "(CASE WHEN length(t.due) = 10 THEN t.due || 'T23:59:59Z' ELSE t.due END)"

void crm_agenda_today(char out[11], crm_store *st)
{
	time_t t = (time_t)(crm_store_clock_ms(st) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int pick_today(char out[11], crm_store *st, const char *today)
{
	if (!today) {
		crm_agenda_today(out, st);
		return 0;
	}
	if (strlen(today) != 10 || crm_parse_date(today) < 0)
		return CRM_ERR(CRM_EINVAL, "date must look like 2026-11-23, not '%s'", today);
	memcpy(out, today, 11);
	return 0;
}

int crm_agenda_tasks(json_t **out, crm_store *st, const char *view, const char *today, size_t limit)
{
	char day[11], now[24], sql[2048];
	const char *where, *arg = day;
	*out = NULL;
	int err = pick_today(day, st, today);
	if (err < 0)
		return err;
	time_t t = (time_t)(crm_store_clock_ms(st) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strcmp(view, "mine") == 0) {
		where = "AND t.assignee_id = ?1";
		arg = crm_store_setting(st, "user_id");
	} else if (strcmp(view, "overdue") == 0) {
		where = "AND t.due IS NOT NULL AND " DUE_END " < ?1";
		if (today)    /* a pinned day: overdue means due before it began */
			snprintf(now, sizeof(now), "%sT00:00:00Z", day);
		arg = now;
	} else if (strcmp(view, "today") == 0) {
		where = "AND substr(t.due, 1, 10) = ?1";
	} else if (strcmp(view, "upcoming") == 0) {
		where = "AND substr(t.due, 1, 10) > ?1 AND substr(t.due, 1, 10) <= date(?1, '+7 days')";
	} else {
		return CRM_ERR(CRM_EINVAL, "unknown task list '%s'; lists are: mine overdue today upcoming", view);
	}
	snprintf(sql, sizeof(sql), TASK_SELECT "%s ORDER BY t.due IS NULL, t.due, t.id LIMIT %zu", where,
		 limit ? limit : 500);
	json_t *arr = json_array();
	err = crm_query_rows(arr, st, sql, arg, NULL);
	if (err < 0) {
		json_decref(arr);
		return err;
	}
	*out = arr;
	return 0;
}

int crm_agenda_birthdays(json_t **out, crm_store *st, int days, const char *today)
{
	char day[11], span[8];
	*out = NULL;
	int err = pick_today(day, st, today);
	if (err < 0)
		return err;
	if (days < 0 || days > 366)
		return CRM_ERR(CRM_EINVAL, "days must be between 0 and 366, not %d", days);
	snprintf(span, sizeof(span), "%d", days);
	json_t *arr = json_array();
	/* The next anniversary: this year's if not past, else next year's. */
	err = crm_query_rows(arr, st,
		"SELECT * FROM (SELECT p.id, p.first_name, p.last_name, p.birthday, c.name AS company, "
		"CAST(julianday(CASE WHEN substr(p.birthday, 6) >= substr(?1, 6) THEN substr(?1, 1, 4) "
		"ELSE CAST(substr(?1, 1, 4) + 1 AS TEXT) END || substr(p.birthday, 5)) - julianday(?1) AS INTEGER) AS in_days "
		"FROM contacts p LEFT JOIN companies c ON c.id = p.company_id "
		"WHERE p.deleted = 0 AND p.birthday IS NOT NULL AND length(p.birthday) = 10 "
		"AND p.id NOT IN (SELECT id FROM crm_alias)) "
		"WHERE in_days BETWEEN 0 AND CAST(?2 AS INTEGER) ORDER BY in_days, last_name, first_name, id",
		day, span);
	if (err < 0) {
		json_decref(arr);
		return err;
	}
	*out = arr;
	return 0;
}

int crm_agenda_pipelines(json_t **out, crm_store *st)
{
	json_t *arr = json_array();
	*out = NULL;
	int err = crm_query_rows(arr, st, "SELECT id, name, position FROM pipelines WHERE deleted = 0 "
				 "ORDER BY position, name, id", NULL, NULL);
	size_t i;
	json_t *p;
	json_array_foreach(arr, i, p) {
		json_t *stages = json_array();
		if (err == 0)
			err = crm_query_rows(stages, st, "SELECT id, name, position, kind, probability, max_days "
					     "FROM stages WHERE pipeline_id = ?1 AND deleted = 0 ORDER BY position, id",
					     json_string_value(json_object_get(p, "id")), NULL);
		json_object_set_new(p, "stages", stages);
	}
	if (err < 0) {
		json_decref(arr);
		return err;
	}
	*out = arr;
	return 0;
}
