/*
 * schema.h — the embedded SQL migrations (generated from the schema/ SQL files).
 */
#ifndef CRM_SCHEMA_H
#define CRM_SCHEMA_H

typedef struct crm_migration {
	int version;        /* the NNNN of NNNN_what.sql; user_version after it ran */
	const char *name;
	const char *sql;
} crm_migration;

extern const crm_migration crm_migrations[];
extern const int crm_migration_count;

#define CRM_APPLICATION_ID 0x42524C4E  /* "BRLN" in PRAGMA application_id */

#endif
