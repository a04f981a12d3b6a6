/*
 * agenda.h — the read side of a person's day, as JSON (jansson): task lists
 * (mine, overdue, today, upcoming), birthdays of contact persons, and the
 * pipelines with their stages.  Shared by the web API and the CLI.
 *
 * "Today" is a UTC calendar date ("YYYY-MM-DD") the caller passes (NULL:
 * the store's clock), so tests can pin it.  A task is open unless its status
 * is done or cancelled; a due date without a time is due at the end of that
 * day.
 */
#ifndef CRM_AGENDA_H
#define CRM_AGENDA_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

/* Open tasks of one view, soonest due first, at most limit (0 = 500):
 *   "mine"      assigned to this node's user
 *   "overdue"   due before now
 *   "today"     due on `today`
 *   "upcoming"  due in the 7 days after `today`
 * *out is a new array of task objects (id, title, due, status, priority,
 * assignee, contact_id, company_id, deal_id, contact, company, deal).
 * CRM_EINVAL for an unknown view. */
int crm_agenda_tasks(json_t **out, crm_store *st, const char *view, const char *today, size_t limit);

/* Contacts whose birthday falls in [today, today + days], soonest first:
 * array of {id, first_name, last_name, birthday, company, in_days}.
 * days is 0..366. */
int crm_agenda_birthdays(json_t **out, crm_store *st, int days, const char *today);

/* Live pipelines by position, each {id, name, position, stages: [{id, name,
 * position, kind, probability, max_days}]}. */
int crm_agenda_pipelines(json_t **out, crm_store *st);

/* The store's clock as "YYYY-MM-DD" (UTC). */
void crm_agenda_today(char out[11], crm_store *st);

#endif
