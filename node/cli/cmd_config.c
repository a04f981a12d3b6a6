/*
 * cmd_config.c — `crm config`: list, set and unset the settings a person may
 * change on this replica (node/config.h).
 */
#include "cli.h"
#include "config.h"

#include <stdio.h>
#include <string.h>

static void config_help(void)
{
	printf("usage: crm config [list] [--json]        the settings, their values and defaults\n"
	       "       crm config set KEY VALUE          change one (checked first)\n"
	       "       crm config unset KEY              back to the default\n"
	       "Settings are local to this replica; they do not replicate.\n");
}

int cmd_config(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		config_help();
		return EXIT_OK;
	}
	cli_take_json(c);
	const char *sub = c->argc > 0 ? c->argv[0] : "list";
	int want = strcmp(sub, "set") == 0 ? 3 : strcmp(sub, "unset") == 0 ? 2 : strcmp(sub, "list") == 0 ? -1 : 0;
	if (want == 0)
		return cli_usage("config", "unknown 'config %s'; use list, set KEY VALUE or unset KEY", sub);
	if (want > 0 && c->argc != want)
		return cli_usage("config", "'config %s' takes %s", sub, want == 3 ? "KEY VALUE" : "KEY");
	if (want < 0 && c->argc > 1)
		return cli_usage("config", "'config list' takes no arguments");
	int status;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	int err;
	if (want < 0) {
		json_t *arr = NULL;
		err = crm_config_list(&arr, st);
		crm_store_free(st);
		return err < 0 ? cli_fail(err) : cli_emit(c, arr, "key,value,default,about");
	}
	err = want == 3 ? crm_config_set(st, c->argv[1], c->argv[2]) : crm_config_unset(st, c->argv[1]);
	crm_store_free(st);
	return err < 0 ? cli_fail(err) : EXIT_OK;
}
