/*
 * report.h — the CRM reports (funnel, plan vs fact, lead sources, loss
 * reasons, time in stage, overdue, forecast) and the kanban board data, as
 * JSON documents (jansson), shared by `crm report`, `crm-syncd report` and
 * the web API.  docs/REPORTS.md defines every figure and shows every shape.
 *
 * Reports only read the replica: they never write, never open a write
 * transaction and may run on the hub's consolidated replica as well as on a
 * node's.  Tombstoned rows are never counted; references to merged-away
 * companies and contacts resolve to the survivor of their duplicate group
 * (crm_alias).  Amounts are integer minor units and every total is per
 * currency: currencies are never added together.
 */
#ifndef CRM_REPORT_H
#define CRM_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

typedef struct crm_report_opts {
	const char *branch;    /* branch code ("MSK"), NULL = all branches */
	const char *from;      /* ISO date YYYY-MM-DD inclusive, NULL = open */
	const char *to;        /* ISO date inclusive, NULL = open */
	const char *pipeline;  /* pipeline id or name, NULL = the default pipeline */
	int by_branch;         /* add a per-branch breakdown ("branches": [...]) */
} crm_report_opts;

/* Names of the reports, space-separated: "funnel plan sources losses stages overdue forecast". */
const char *crm_report_names(void);

/* Run report `name` on the replica; *out is a new JSON object (caller owns
 * it; NULL on error).  o may be NULL (all defaults).  CRM_EINVAL with a clear
 * message for an unknown name or a bad option (unknown branch code or
 * pipeline, a date that is not YYYY-MM-DD, from after to).  Pure reads. */
int crm_report(json_t **out, crm_store *st, const char *name, const crm_report_opts *o);

/* The kanban board of a pipeline (id or name; NULL = the default one):
 * {"pipeline": {id, name}, "branch": code|null, "stale_days": N,
 *  "columns": [{stage_id, stage, kind, position, probability, max_days,
 *               count, totals: [{currency, count, amount}],
 *               deals: [{id, title, amount, currency, company_id, company,
 *                        owner, entered_at, days_in_stage, last_activity,
 *                        over_max_days, stale}]}]}
 * Columns in stage order; count and totals are computed in SQL over every
 * live deal of the column; `deals` holds at most per_column of them (0 = no
 * cards, at most 1000: CRM_EINVAL above), newest activity first.  over_max_days: longer in the stage than its
 * max_days; stale: no activity for the setting "stale_days" (crm_meta,
 * default 14) days.  branch: a branch code, NULL = all.  Caller owns *out. */
int crm_board(json_t **out, crm_store *st, const char *pipeline, const char *branch, size_t per_column);

#endif
