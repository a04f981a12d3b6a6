/*
 * config.c — `crm config`: the changeable settings of a replica (config.h).
 */
#include "config.h"
#include "error.h"
#include "import.h"
#include "import_int.h"   /* imp_word_in: the import's own field-list test */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*check_fn)(const char *key, const char *value, char *norm, size_t cap);

static int check_days(const char *key, const char *value, char *norm, size_t cap)
{
	char *end;
	long n = strtol(value, &end, 10);
	if (!*value || *end || n < 1 || n > 3650)
		return CRM_ERR(CRM_EINVAL, "%s must be a whole number of days from 1 to 3650, not '%s'", key, value);
	snprintf(norm, cap, "%ld", n);
	return 0;
}

/* "tax_id, website" -> "tax_id,website", each a field the entity's import knows. */
static int check_fields(const char *key, const char *value, char *norm, size_t cap)
{
	const char *entity = key + strlen("import.require.");
	const char *fields = crm_import_fields(entity);
	size_t off = 0;
	norm[0] = '\0';
	for (const char *s = value; *s;) {
		size_t k = strcspn(s, ", ");
		if (k) {
			char f[64];
			if (k >= sizeof(f))
				return CRM_ERR(CRM_EINVAL, "%s: field name too long", key);
			for (size_t i = 0; i < k; i++)
				f[i] = s[i] == '-' ? '_' : (char)tolower((unsigned char)s[i]);
			f[k] = '\0';
			if (!imp_word_in(fields, f))
				return CRM_ERR(CRM_EINVAL, "%s: a %s has no import field '%s'; fields are: %s", key, entity,
					       f, fields);
			if (off + k + 2 >= cap)
				return CRM_ERR(CRM_EINVAL, "%s: too many fields", key);
			off += (size_t)snprintf(norm + off, cap - off, "%s%s", off ? "," : "", f);
		}
		s += k + (s[k] != '\0');
	}
	if (!off)
		return CRM_ERR(CRM_EINVAL, "%s needs at least one field (to drop the rule: crm config unset %s)", key, key);
	return 0;
}

static const struct {
	const char *key, *def, *about;
	check_fn check;
} keys[] = {
	{"stale_days", "14", "days without activity after which a deal is stale on the board", check_days},
	{"import.require.company", NULL, "fields every imported company must have (e.g. tax_id)", check_fields},
	{"import.require.contact", NULL, "fields every imported contact must have (e.g. email)", check_fields},
	{"import.require.deal", NULL, "fields every imported deal must have (e.g. amount)", check_fields},
	{"import.require.lead", NULL, "fields every imported lead must have (e.g. source)", check_fields},
};
#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static int find_key(const char *key)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].key, key) == 0)
			return (int)i;
	char list[512];
	size_t off = 0;
	for (size_t i = 0; i < KEY_COUNT && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? " " : "", keys[i].key);
	return CRM_ERR(CRM_EINVAL, "no setting '%s'; settings are: %s", key, list);
}

int crm_config_set(crm_store *st, const char *key, const char *value)
{
	int k = find_key(key);
	if (k < 0)
		return k;
	char norm[512];
	int err = keys[k].check(key, value, norm, sizeof(norm));
	return err < 0 ? err : crm_meta_set(st, key, norm);
}

int crm_config_unset(crm_store *st, const char *key)
{
	int k = find_key(key);
	if (k < 0)
		return k;
	sqlite3_stmt *q;
	int err = crm_db_prepare(crm_store_db(st), &q, "DELETE FROM crm_meta WHERE key = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	return crm_db_step_done(crm_store_db(st), q);
}

int crm_config_list(json_t **out, crm_store *st)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < KEY_COUNT; i++) {
		char *v = NULL;
		int err = crm_meta_get(st, keys[i].key, &v);
		if (err < 0 && err != CRM_ENOTFOUND) {
			json_decref(arr);
			return err;
		}
		crm_error_clear();
		json_array_append_new(arr, json_pack("{s:s, s:s?, s:s?, s:s}", "key", keys[i].key, "value", v,
						     "default", keys[i].def, "about", keys[i].about));
		free(v);
	}
	*out = arr;
	return 0;
}
