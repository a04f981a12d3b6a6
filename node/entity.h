/*
 * entity.h — the CRM's entities as users see them: validation, defaults and
 * the multi-row edits behind one user action (a contact with its e-mail and
 * phone, a deal with its first stage-history entry).
 *
 * Input is what a person typed: (field, text) pairs.  Everything is checked
 * before anything is written, and all rows of one action are written through
 * crm_write in one transaction, so a refused command changes nothing.
 */
#ifndef CRM_ENTITY_H
#define CRM_ENTITY_H

#include <stddef.h>

#include "store.h"
#include "uuid.h"

typedef struct crm_kv {
	const char *key;     /* a field name ("tax_id") or alias ("tax-id", "first") */
	const char *value;   /* as typed; "" clears the field on set */
} crm_kv;

/* Entity names: company contact deal activity task lead note user plan. */
int crm_entity_known(const char *entity);
/* The table behind an entity, or NULL. */
const char *crm_entity_table(const char *entity);
/* A space-separated list of the entity names, for help text. */
const char *crm_entity_names(void);

/* Create a record; writes its new id to out_id. */
int crm_entity_add(crm_store *st, const char *entity, const crm_kv *kv, size_t count,
		   char out_id[CRM_ID_LEN + 1]);
/* Change fields of an existing, not deleted record. */
int crm_entity_set(crm_store *st, const char *entity, const char *id, const crm_kv *kv, size_t count);
/* Tombstone a record (deleted = 1); CRM_ENOTFOUND if absent or deleted. */
int crm_entity_delete(crm_store *st, const char *entity, const char *id);
/* Bring a deleted record back (deleted = 0). */
int crm_entity_restore(crm_store *st, const char *entity, const char *id);

/* Move a deal to the stage named `stage` of its pipeline (case-insensitive),
 * recording stage history; `reason` is the loss reason for a lost stage
 * (may be NULL). */
int crm_deal_move(crm_store *st, const char *id, const char *stage, const char *reason);

/* 0 if `id` names a live row of `entity`, CRM_ENOTFOUND (with message) if not. */
int crm_entity_check(crm_store *st, const char *entity, const char *id);

#endif
