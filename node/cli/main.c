/*
 * main.c — the `crm` executable: global options, then one command.
 * Everything else lives in libcrm (node/) and the cmd_*.c files.
 */
#include "cli.h"
#include "entity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *to)
{
	fprintf(to,
		"usage: crm [--data DIR] COMMAND ...\n"
		"  init --name NAME [--branch CODE]     create a replica\n"
		"  init --join TOKEN                    enroll with a hub\n"
		"  sync [--once]                        push and pull with the hub\n"
		"  whoami [--json]                      node id, name, branch, public key\n"
		"  status [--json]                      pending changes\n"
		"  config [list] | set KEY VALUE | unset KEY   settings of this replica\n"
		"  ENTITY add|list|show|set|delete|restore ...\n"
		"         ENTITY: %s\n"
		"  deal move ID --stage NAME            move a deal on the pipeline\n"
		"  search QUERY [--json]                names, e-mails, phones\n"
		"  state-hash                           digest of the replicated state\n"
		"  seal | log | forks                   the signed change log\n"
		"  conflicts | duplicates | merge A B   what merges set aside; duplicate records\n"
		"  export-changes FILE [--since N]      changes to a file (USB stick, e-mail)\n"
		"  import-changes FILE                  verify and apply a change file\n"
		"  import FILE.csv|FILE.vcf [--dry-run] records from CSV or vCard (Excel, Outlook, Google)\n"
		"  export contacts|companies|deals --format csv|vcf [--out FILE]\n"
		"  trust add PUBKEY | trust list        keys whose changes this node accepts\n"
		"  attach ENTITY ID FILE | attachments ENTITY ID | attachment get HASH\n"
		"  report funnel|plan|sources|losses|stages|overdue|forecast [--branch CODE] [--json]\n"
		"  board [--pipeline NAME] [--branch CODE] [--limit N]   the kanban board\n"
		"  serve [--listen 127.0.0.1:PORT]      web UI and JSON API (prints its address)\n"
		"DIR: --data, else $CRM_DATA, else $XDG_DATA_HOME/branchline or ~/.local/share/branchline.\n"
		"Every command takes --help.\n", crm_entity_names());
}

static char *default_data(void)
{
	static char buf[4096];
	const char *env = getenv("CRM_DATA");
	if (env && *env)
		return (char *)env;
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(buf, sizeof(buf), "%s/branchline", xdg);
	else
		snprintf(buf, sizeof(buf), "%s/.local/share/branchline", home ? home : ".");
	return buf;
}

int main(int argc, char **argv)
{
	cli c = {.data = NULL};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
			c.data = argv[++i];
		} else if (strncmp(argv[i], "--data=", 7) == 0) {
			c.data = argv[i] + 7;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "crm: unknown option '%s'; see 'crm --help'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!c.data)
		c.data = default_data();
	const char *cmd = argv[i];
	c.argc = argc - i - 1;
	c.argv = argv + i + 1;
	static const struct { const char *name; cli_fn fn; } cmds[] = {
		{"init", cmd_init}, {"config", cmd_config}, {"whoami", cmd_whoami}, {"status", cmd_status},
		{"state-hash", cmd_state_hash}, {"search", cmd_search}, {"seal", cmd_seal},
		{"export-changes", cmd_export}, {"import-changes", cmd_import}, {"trust", cmd_trust},
		{"log", cmd_log}, {"forks", cmd_forks}, {"attach", cmd_attach},
		{"attachments", cmd_attachments}, {"attachment", cmd_attachment},
		{"sync", cmd_sync}, {"conflicts", cmd_conflicts}, {"duplicates", cmd_duplicates}, {"merge", cmd_merge},
		{"import", cmd_import_records}, {"export", cmd_export_records},
		{"report", cmd_report}, {"board", cmd_board}, {"serve", cmd_serve},
	};
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(cmd, cmds[k].name) == 0)
			return cmds[k].fn(&c);
	if (crm_entity_known(cmd))
		return cmd_entity(&c, cmd);
	fprintf(stderr, "crm: unknown command '%s'; see 'crm --help'\n", cmd);
	return EXIT_USAGE;
}
