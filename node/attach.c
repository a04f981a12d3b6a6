/*
 * attach.c — attachments (see attach.h).
 */
#include "attach.h"
#include "changelog.h"
#include "entity.h"
#include "error.h"
#include "write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int slurp(const char *path, uint8_t **out, size_t *len)
{
	struct stat sb;
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f)
		return CRM_ERR(errno == ENOENT ? CRM_ENOTFOUND : CRM_EIO, "cannot read %s: %s", path, strerror(errno));
	int err = 0;
	if (fstat(fileno(f), &sb) < 0 || !S_ISREG(sb.st_mode))
		err = CRM_ERR(CRM_EINVAL, "%s is not a regular file", path);
	else if ((uint64_t)sb.st_size > CRM_ATTACH_MAX)
		err = CRM_ERR(CRM_ELIMIT, "%s is too large to attach (%lld bytes, at most %u)", path,
			      (long long)sb.st_size, CRM_ATTACH_MAX);
	else if (!(*out = malloc((size_t)sb.st_size + 1)))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	else if ((*len = fread(*out, 1, (size_t)sb.st_size, f)) != (size_t)sb.st_size)
		err = CRM_ERR(CRM_EIO, "cannot read %s", path);
	fclose(f);
	if (err < 0) {
		free(*out);
		*out = NULL;
	}
	return err;
}

int crm_attach(crm_store *st, const char *entity, const char *id, const char *path,
	       char out_id[CRM_ID_LEN + 1])
{
	uint8_t *data = NULL, d[CRM_SHA256_LEN];
	size_t len = 0;
	char blob[CRM_OID_HEX + 1], sha[65], now[32], lid[CRM_ID_LEN + 1];
	crm_log *log;
	int err = crm_entity_check(st, entity, id);
	if (err == 0)
		err = slurp(path, &data, &len);
	if (err == 0)
		err = crm_store_log(st, &log);
	if (err == 0)
		err = crm_log_write_blob(log, blob, data, len);
	if (err == 0)
		err = crm_log_flush(log);    /* the blob is in a pack before the row names it */
	if (err == 0)
		err = crm_uuid7(out_id, crm_store_now_ms(st));
	if (err < 0) {
		free(data);
		return err;
	}
	crm_sha256(d, data, len);
	crm_hex(sha, d, sizeof(d));
	free(data);
	time_t t = (time_t)(crm_store_now_ms(st) / 1000);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	for (size_t i = 0; i <= CRM_ID_LEN; i++)
		lid[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
	const char *base = strrchr(path, '/');
	crm_field f[] = {
		{"entity_id", CRM_TEXT(lid)}, {"name", CRM_TEXT(base ? base + 1 : path)},
		{"size", CRM_INT((int64_t)len)}, {"sha256", CRM_TEXT(sha)}, {"blob", CRM_TEXT(blob)},
		{"owner_id", CRM_TEXT(crm_store_setting(st, "user_id"))}, {"created_at", CRM_TEXT(now)},
	};
	return crm_write(st, "attachments", out_id, f, sizeof(f) / sizeof(f[0]));
}

int crm_attachment_get(crm_store *st, const char *hash, uint8_t **out, size_t *len, char **name)
{
	sqlite3_stmt *q;
	char blob[CRM_OID_HEX + 1] = "", sha[65] = "", got[65];
	int rows = 0, err;
	*out = NULL;
	*name = NULL;
	size_t n = strlen(hash);
	if (n < 8 || n > 64 || strspn(hash, "0123456789abcdef") != n)
		return CRM_ERR(CRM_EINVAL, "'%s' is not an attachment hash (8 to 64 lower-case hex digits)", hash);
	err = crm_db_prepare(crm_store_db(st), &q, "SELECT DISTINCT sha256, blob, name FROM attachments "
			     "WHERE substr(sha256, 1, ?2) = ?1 AND deleted = 0 GROUP BY sha256 LIMIT 2");
	if (err < 0)
		return err;
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, (int)n);
	while ((err = crm_db_step(crm_store_db(st), q)) == 1 && ++rows == 1) {
		snprintf(sha, sizeof(sha), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(blob, sizeof(blob), "%s", (const char *)sqlite3_column_text(q, 1));
		*name = strdup((const char *)sqlite3_column_text(q, 2));
	}
	sqlite3_reset(q);
	if (err < 0 || rows != 1) {
		free(*name);
		*name = NULL;
		return err < 0 ? err : rows ? CRM_ERR(CRM_EINVAL, "hash prefix %s is ambiguous; give more digits", hash)
					    : CRM_ERR(CRM_ENOTFOUND, "no attachment with hash %s", hash);
	}
	crm_log *log;
	uint8_t d[CRM_SHA256_LEN];
	err = crm_store_log(st, &log);
	if (err == 0)
		err = crm_log_read_blob(log, blob, out, len);
	if (err == 0) {
		crm_sha256(d, *out, *len);
		crm_hex(got, d, sizeof(d));
		if (strcmp(got, sha) != 0)
			err = CRM_ERR(CRM_ECORRUPT, "attachment %s is damaged (content does not match its SHA-256)", sha);
	}
	if (err < 0) {
		free(*out);
		free(*name);
		*out = NULL;
		*name = NULL;
	}
	return err;
}
