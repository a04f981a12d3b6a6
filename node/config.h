/*
 * config.h — the settings a person may change on a replica (`crm config`):
 * a fixed list of keys, each checked before it is stored in crm_meta.
 * They are local: they shape this replica's screens and imports and never
 * replicate.
 *
 *   stale_days              a deal with no activity for this many days is
 *                           "stale" on the board (1..3650, default 14)
 *   import.require.ENTITY   fields every imported company / contact / deal /
 *                           lead must have (comma-separated import fields,
 *                           e.g. "tax_id"); `crm import --require` adds more
 */
#ifndef CRM_CONFIG_H
#define CRM_CONFIG_H

#include <jansson.h>

#include "store.h"

/* Check and store `value` under `key`; CRM_EINVAL naming what is wrong. */
int crm_config_set(crm_store *st, const char *key, const char *value);
/* Remove a setting (back to its default); unknown keys are refused. */
int crm_config_unset(crm_store *st, const char *key);
/* Every key with its value (null if unset) and meaning: array of
 * {key, value, default, about}. */
int crm_config_list(json_t **out, crm_store *st);

#endif
