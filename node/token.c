/*
 * token.c — join tokens (see token.h).
 */
#include "token.h"
#include "error.h"
#include "sign.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "BLT1:"

int crm_token_encode(char **out, const crm_token *t)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "hub", t->hub, "pin", t->pin, "branch", t->branch,
			      "role", t->role, "name", t->name, "secret", t->secret);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	char *b = s ? crm_base64_encode(s, strlen(s)) : NULL;
	free(s);
	*out = b ? malloc(strlen(b) + sizeof(PREFIX)) : NULL;
	if (*out)
		sprintf(*out, "%s%s", PREFIX, b);
	free(b);
	return *out ? 0 : CRM_ERR(CRM_ENOMEM, "out of memory");
}

static int take(char *dst, size_t cap, json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));
	if (!v || !*v || strlen(v) >= cap)
		return CRM_ERR(CRM_EINVAL, "join token: '%s' is missing or too long", key);
	snprintf(dst, cap, "%s", v);
	return 0;
}

int crm_token_decode(crm_token *t, const char *text)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	memset(t, 0, sizeof(*t));
	if (strncmp(text, PREFIX, strlen(PREFIX)) != 0 || strlen(text) > 4096)
		return CRM_ERR(CRM_EINVAL, "not a join token (it starts with %s; ask the administrator for "
			       "'crm-syncd token' output)", PREFIX);
	int err = crm_base64_decode(&raw, &len, text + strlen(PREFIX));
	json_t *j = err == 0 ? json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	free(raw);
	if (!j)
		return CRM_ERR(CRM_EINVAL, "join token is damaged (copy it again, whole)");
	err = take(t->hub, sizeof(t->hub), j, "hub");
	if (err == 0)
		err = take(t->pin, sizeof(t->pin), j, "pin");
	if (err == 0)
		err = take(t->branch, sizeof(t->branch), j, "branch");
	if (err == 0)
		err = take(t->role, sizeof(t->role), j, "role");
	if (err == 0)
		err = take(t->name, sizeof(t->name), j, "name");
	if (err == 0)
		err = take(t->secret, sizeof(t->secret), j, "secret");
	json_decref(j);
	if (err == 0 && strncmp(t->hub, "https://", 8) != 0)
		err = CRM_ERR(CRM_EINVAL, "join token: hub address must be https://");
	if (err == 0 && strncmp(t->pin, "sha256//", 8) != 0)
		err = CRM_ERR(CRM_EINVAL, "join token: bad certificate pin");
	if (err == 0 && strcmp(t->role, "laptop") && strcmp(t->role, "branch") && strcmp(t->role, "hq"))
		err = CRM_ERR(CRM_EINVAL, "join token: unknown role '%s'", t->role);
	return err;
}
