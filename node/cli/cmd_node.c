/*
 * cmd_node.c — crm init, whoami, status, state-hash.
 */
#include "cli.h"
#include "error.h"
#include "hash.h"
#include "sync.h"
#include "write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_init(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm init --name NAME [--branch CODE] [--user LOGIN] [--country CC] [--currency ISO]\n"
		     "       crm init --join TOKEN [--name NAME] [--country CC] [--currency ISO]\n"
		     "                [--snapshot | --snapshot-file FILE]\n"
		     "                                  enroll with a hub (token from 'crm-syncd token');\n"
		     "                                  --snapshot: start from the hub's snapshot instead of\n"
		     "                                  replaying all history (--snapshot-file: from a file\n"
		     "                                  made by 'crm-syncd snapshot'), then sync\n"
		     "Create a replica in the data directory: database, node key, change log.\n"
		     "Prints the new node id.  --country is the default for phone numbers typed\n"
		     "without +country (default RU); --currency the default for amounts (RUB).");
		return EXIT_OK;
	}
	int miss[7];
	const char *join = cli_take_opt(c, "join", &miss[5]);
	const char *snap_file = cli_take_opt(c, "snapshot-file", &miss[6]);
	int snap = cli_take_flag(c, "snapshot");
	crm_init_opts o = {
		.name = cli_take_opt(c, "name", &miss[0]),
		.branch = cli_take_opt(c, "branch", &miss[1]),
		.user = cli_take_opt(c, "user", &miss[2]),
		.country = cli_take_opt(c, "country", &miss[3]),
		.currency = cli_take_opt(c, "currency", &miss[4]),
	};
	cli_take_json(c);
	for (int i = 0; i < 7; i++)
		if (miss[i])
			return cli_usage("init", "an option is missing its value");
	if (c->argc > 0)
		return cli_usage("init", "unexpected argument '%s'", c->argv[0]);
	if (!o.name && !join)
		return cli_usage("init", "a node needs a name: crm init --name NAME (or --join TOKEN)");
	if (join && (o.branch || o.user))
		return cli_usage("init", "with --join the branch and user come from the token");
	if ((snap || snap_file) && !join)
		return cli_usage("init", "--snapshot and --snapshot-file need --join TOKEN");
	crm_store *st;
	int err = join ? crm_join(&st, c->data, join, &o, NULL) : crm_store_create(&st, c->data, &o);
	if (err < 0)
		return cli_fail(err);
	if (snap || snap_file) {
		crm_sync_opts so = {.snapshot = snap, .snapshot_file = snap_file};
		crm_sync_report r;
		err = crm_sync(st, &so, &r);
		if (err < 0) {
			err = CRM_ERR(err, "%s (node %s is enrolled, its replica still empty: retry with "
				      "'crm sync --snapshot', or 'crm sync' to replay the history)", crm_error_last(),
				      crm_store_node_id(st));
			crm_store_free(st);
			return cli_fail(err);
		}
	}
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "id", crm_store_node_id(st), "name",
				      crm_store_setting(st, "name"), "data", c->data);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("%s\n", crm_store_node_id(st));
	}
	crm_store_free(st);
	return EXIT_OK;
}

int cmd_whoami(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm whoami [--json]\nThis node's id, name, branch, user, hub and public key (OpenSSH format).");
		return EXIT_OK;
	}
	cli_take_json(c);
	if (c->argc > 0)
		return cli_usage("whoami", "unexpected argument '%s'", c->argv[0]);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	uint8_t pub[CRM_PUBKEY_LEN];
	char *line = NULL, *hub = NULL;
	crm_key_public(crm_store_key(st), pub);
	int err = crm_pubkey_to_openssh(&line, pub, crm_store_setting(st, "name"));
	if (err < 0) {
		crm_store_free(st);
		return cli_fail(err);
	}
	crm_meta_get(st, "hub", &hub);
	char *login = NULL;
	crm_db_get_text(crm_store_db(st), &login, "SELECT login FROM users WHERE id = ?1",
			crm_store_setting(st, "user_id"));
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s}",
			      "id", crm_store_node_id(st), "name", crm_store_setting(st, "name"),
			      "branch", crm_store_setting(st, "branch_code"),
			      "user", login ? login : crm_store_setting(st, "user_id"),
			      "country", crm_store_setting(st, "country"), "hub", hub,
			      "currency", crm_store_setting(st, "currency"), "public_key", line);
	if (c->json)
		cli_print_json(j);
	else
		cli_print_record(j);
	json_decref(j);
	free(line);
	free(hub);
	free(login);
	crm_store_free(st);
	return EXIT_OK;
}

int cmd_status(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm status [--json]\nPending (unsealed) changes and replica facts.");
		return EXIT_OK;
	}
	cli_take_json(c);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	int64_t pending = 0;
	int err = crm_pending_count(st, &pending);
	if (err < 0) {
		crm_store_free(st);
		return cli_fail(err);
	}
	json_t *j = json_pack("{s:s, s:I}", "id", crm_store_node_id(st), "pending_changes", (json_int_t)pending);
	crm_store_free(st);
	return cli_emit(c, j, NULL);
}

int cmd_state_hash(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm state-hash [--json]\nHex SHA-256 of the replicated state: equal on replicas that\n"
		     "hold the same rows and field values, whatever order they arrived in.");
		return EXIT_OK;
	}
	cli_take_json(c);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	char hex[65];
	int err = crm_state_hash(st, hex);
	crm_store_free(st);
	if (err < 0)
		return cli_fail(err);
	if (c->json) {
		json_t *j = json_pack("{s:s}", "state_hash", hex);
		cli_print_json(j);
		json_decref(j);
	} else {
		puts(hex);
	}
	return EXIT_OK;
}
