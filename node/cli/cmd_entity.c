/*
 * cmd_entity.c — crm ENTITY add|list|show|set|delete|restore, crm deal move,
 * crm search.
 */
#include "cli.h"
#include "entity.h"
#include "error.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_MAX 48

static const char *list_columns(const char *entity)
{
	static const char *const cols[][2] = {
		{"company", "id,name,tax_id,phone,email"},
		{"contact", "id,first_name,last_name,company,phone,email"},
		{"deal", "id,title,stage,amount_text,currency,company"},
		{"activity", "id,kind,subject,at,done"},
		{"task", "id,title,due,status,assignee"},
		{"lead", "id,title,status,source"},
		{"note", "id,body,created_at"},
		{"user", "id,login,name"},
		{"plan", "id,month,user_id,branch_id,amount,currency"},
		{"branch", "id,code,name"},
		{"link", "id,contact,company,role"},
	};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (strcmp(cols[i][0], entity) == 0)
			return cols[i][1];
	return "id";
}

static void entity_help(const char *entity)
{
	printf("usage: crm %s add [--FIELD VALUE...] [FIELD=VALUE...] [--json]\n"
	       "       crm %s list [--search Q] [--limit N] [--json]\n"
	       "       crm %s show ID [--json]\n"
	       "       crm %s set ID FIELD=VALUE...      (an empty VALUE clears the field)\n"
	       "       crm %s delete ID | restore ID\n", entity, entity, entity, entity, entity);
	if (strcmp(entity, "deal") == 0)
		printf("       crm deal move ID --stage NAME [--reason TEXT]\n");
	printf("Fields: see docs/USER_GUIDE.md; option names may use '-' for '_'\n"
	       "(--tax-id), and short names: first, last, company, contact, deal, stage, ...\n");
}

/* --name VALUE, --name=VALUE, FIELD=VALUE and valueless --done into kv. */
static int parse_fields(cli *c, const char *cmd, crm_kv *kv, size_t *count)
{
	*count = 0;
	for (int i = 0; i < c->argc; i++) {
		char *a = c->argv[i];
		if (*count >= KV_MAX)
			return cli_usage(cmd, "too many fields (at most %d)", KV_MAX);
		if (strncmp(a, "--", 2) == 0) {
			char *eq = strchr(a, '=');
			if (eq) {
				*eq = '\0';
				kv[(*count)++] = (crm_kv){a + 2, eq + 1};
			} else if (strcmp(a, "--done") == 0) {
				kv[(*count)++] = (crm_kv){"done", "yes"};
			} else if (i + 1 < c->argc) {
				kv[(*count)++] = (crm_kv){a + 2, c->argv[++i]};
			} else {
				return cli_usage(cmd, "option %s needs a value", a);
			}
		} else {
			char *eq = strchr(a, '=');
			if (!eq || eq == a)
				return cli_usage(cmd, "expected FIELD=VALUE, got '%s'", a);
			*eq = '\0';
			kv[(*count)++] = (crm_kv){a, eq + 1};
		}
	}
	return EXIT_OK;
}

static int print_id(cli *c, const char *id)
{
	if (c->json) {
		json_t *j = json_pack("{s:s}", "id", id);
		cli_print_json(j);
		json_decref(j);
	} else {
		puts(id);
	}
	return EXIT_OK;
}

static int do_add(cli *c, crm_store *st, const char *entity, const char *cmd)
{
	crm_kv kv[KV_MAX];
	size_t n;
	int rc = parse_fields(c, cmd, kv, &n);
	if (rc != EXIT_OK)
		return rc;
	char id[CRM_ID_LEN + 1];
	int err = crm_entity_add(st, entity, kv, n, id);
	return err < 0 ? cli_fail(err) : print_id(c, id);
}

static int do_list(cli *c, crm_store *st, const char *entity, const char *cmd)
{
	int miss1, miss2;
	const char *q = cli_take_opt(c, "search", &miss1);
	const char *lim = cli_take_opt(c, "limit", &miss2);
	if (miss1 || miss2)
		return cli_usage(cmd, "--search and --limit need a value");
	if (c->argc > 0)
		return cli_usage(cmd, "unexpected argument '%s'", c->argv[0]);
	char *end = NULL;
	long limit = lim ? strtol(lim, &end, 10) : 0;
	if (lim && (*end || limit < 0))
		return cli_usage(cmd, "--limit must be a number (0 = all), not '%s'", lim);
	json_t *arr;
	int err = crm_query_list(&arr, st, entity, q, (size_t)limit);
	if (err < 0)
		return cli_fail(err);
	if (c->json)
		cli_print_json(arr);
	else
		cli_print_table(arr, list_columns(entity));
	json_decref(arr);
	return EXIT_OK;
}

static int do_show(cli *c, crm_store *st, const char *entity, const char *cmd)
{
	if (c->argc != 1)
		return cli_usage(cmd, "give exactly one id");
	json_t *o;
	int err = crm_query_show(&o, st, entity, c->argv[0]);
	if (err < 0)
		return cli_fail(err);
	if (c->json)
		cli_print_json(o);
	else
		cli_print_record(o);
	json_decref(o);
	return EXIT_OK;
}

static int do_set(cli *c, crm_store *st, const char *entity, const char *cmd)
{
	if (c->argc < 2)
		return cli_usage(cmd, "give an id and FIELD=VALUE");
	const char *id = c->argv[0];
	c->argv++;
	c->argc--;
	crm_kv kv[KV_MAX];
	size_t n;
	int rc = parse_fields(c, cmd, kv, &n);
	if (rc != EXIT_OK)
		return rc;
	int err = crm_entity_set(st, entity, id, kv, n);
	return err < 0 ? cli_fail(err) : EXIT_OK;
}

static int do_delete(cli *c, crm_store *st, const char *entity, const char *cmd, int restore)
{
	if (c->argc != 1)
		return cli_usage(cmd, "give exactly one id");
	int err = restore ? crm_entity_restore(st, entity, c->argv[0])
			  : crm_entity_delete(st, entity, c->argv[0]);
	return err < 0 ? cli_fail(err) : EXIT_OK;
}

static int do_move(cli *c, crm_store *st, const char *cmd)
{
	int miss1, miss2;
	const char *stage = cli_take_opt(c, "stage", &miss1);
	const char *reason = cli_take_opt(c, "reason", &miss2);
	if (miss1 || miss2 || !stage)
		return cli_usage(cmd, "usage: crm deal move ID --stage NAME [--reason TEXT]");
	if (c->argc != 1)
		return cli_usage(cmd, "give exactly one deal id");
	int err = crm_deal_move(st, c->argv[0], stage, reason);
	return err < 0 ? cli_fail(err) : EXIT_OK;
}

int cmd_entity(cli *c, const char *entity)
{
	char cmd[64];
	if (c->argc < 1 || strcmp(c->argv[0], "--help") == 0 || strcmp(c->argv[0], "-h") == 0) {
		entity_help(entity);
		return c->argc < 1 ? EXIT_USAGE : EXIT_OK;
	}
	const char *verb = c->argv[0];
	snprintf(cmd, sizeof(cmd), "%s %s", entity, verb);
	c->argv++;
	c->argc--;
	if (cli_wants_help(c->argc, c->argv)) {
		entity_help(entity);
		return EXIT_OK;
	}
	static const char *const verbs[] = {"add", "list", "show", "set", "delete", "restore", "move"};
	int known = 0;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		known |= strcmp(verb, verbs[i]) == 0;
	if (!known || (strcmp(verb, "move") == 0 && strcmp(entity, "deal") != 0))
		return cli_usage(entity, "unknown command '%s %s'", entity, verb);
	cli_take_json(c);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	if (strcmp(verb, "add") == 0)
		status = do_add(c, st, entity, cmd);
	else if (strcmp(verb, "list") == 0)
		status = do_list(c, st, entity, cmd);
	else if (strcmp(verb, "show") == 0)
		status = do_show(c, st, entity, cmd);
	else if (strcmp(verb, "set") == 0)
		status = do_set(c, st, entity, cmd);
	else if (strcmp(verb, "move") == 0)
		status = do_move(c, st, cmd);
	else
		status = do_delete(c, st, entity, cmd, strcmp(verb, "restore") == 0);
	crm_store_free(st);
	return status;
}

int cmd_search(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm search QUERY [--json]\nFind contacts, companies and deals by name, e-mail or phone\n"
		     "(phones match by digits, typed any way).");
		return EXIT_OK;
	}
	cli_take_json(c);
	if (c->argc != 1)
		return cli_usage("search", "give one QUERY (quote it if it has spaces)");
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *arr;
	int err = crm_query_search(&arr, st, c->argv[0], 50);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	if (c->json)
		cli_print_json(arr);
	else
		cli_print_table(arr, "id,entity,title,detail");
	json_decref(arr);
	return EXIT_OK;
}
