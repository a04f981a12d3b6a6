/*
 * cmd_import.c — crm import FILE and crm export KIND: records from and to
 * the CSV and vCard files people already have (libcrm import.h, export.h).
 */
#include "cli.h"
#include "error.h"
#include "export.h"
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAP_MAX 64

static void import_help(void)
{
	puts("usage: crm import FILE.csv|FILE.vcf [--entity contact|company|deal|lead] [--map COLUMN=FIELD...]\n"
	     "                  [--encoding utf-8|utf-16le|windows-1251] [--delimiter ,|;|tab] [--require FIELD,...]\n"
	     "                  [--dry-run] [--skip-bad [--rejects FILE]] [--json]\n"
	     "Import contacts, companies, deals or leads from CSV (Excel, Outlook, Google Contacts, other CRMs)\n"
	     "or vCard 2.1/3.0/4.0.  Encoding, delimiter and columns are detected; --map COLUMN=FIELD names a\n"
	     "column's field (an empty FIELD ignores the column).  All or nothing: one bad record fails the\n"
	     "import with FILE:LINE and the column, and nothing is written; --skip-bad writes the good records\n"
	     "and lists the bad ones (in FILE with --rejects).  A contact whose e-mail or a company whose tax\n"
	     "id is already here is updated; same phone or name is counted as a suggested duplicate\n"
	     "('crm duplicates').  --dry-run shows what would be created, updated and suggested.\n"
	     "Fields: contact: id first_name last_name middle_name full_name title birthday email phone company\n"
	     "        company_tax_id next_contact owner note address\n"
	     "        company: id name tax_id industry website address email phone owner note\n"
	     "        deal: id title company company_tax_id contact_email pipeline stage amount currency\n"
	     "        probability expected_close source lost_reason owner note\n"
	     "        lead: id title first_name last_name middle_name full_name company_name email phone source\n"
	     "        status owner\n"
	     "See docs/IMPORT.md.");
}

static void export_help(void)
{
	puts("usage: crm export contacts|companies|deals [--format csv|vcf] [--bom] [--vcard 3.0|4.0] [--out FILE]\n"
	     "Write records as CSV (UTF-8; --bom for Excel) or vCard (3.0 by default); deals as CSV only.\n"
	     "Without --out the file goes to standard output.  'crm import' reads it back without loss.");
}

/* Progress bar on stderr, only when it is a terminal. */
static void progress(void *ctx, size_t done, size_t total)
{
	int *last = ctx;
	int pct = total ? (int)(done * 100 / total) : 100;
	if (pct == *last)
		return;
	*last = pct;
	char bar[41];
	memset(bar, '#', (size_t)pct * 40 / 100);
	memset(bar + pct * 40 / 100, '.', 40 - (size_t)pct * 40 / 100);
	bar[40] = '\0';
	fprintf(stderr, "\rimporting [%s] %3d%%", bar, pct);
	fflush(stderr);
}

static int parse_delim(const char *d, char *out)
{
	if (!d)
		return (*out = 0), 0;
	if (strcmp(d, ",") == 0 || strcmp(d, "comma") == 0)
		return (*out = ','), 0;
	if (strcmp(d, ";") == 0 || strcmp(d, "semicolon") == 0)
		return (*out = ';'), 0;
	if (strcmp(d, "tab") == 0 || strcmp(d, "\t") == 0 || strcmp(d, "\\t") == 0)
		return (*out = '\t'), 0;
	return -1;
}

static void print_report(json_t *r)
{
	json_int_t created = json_integer_value(json_object_get(r, "created"));
	const char *delim = json_string_value(json_object_get(r, "delimiter"));
	int dry = json_is_true(json_object_get(r, "dry_run"));
	printf("%s %s (%s, %s%s%s): %lld %s records\n", dry ? "Dry run of" : "Imported",
	       json_string_value(json_object_get(r, "file")), json_string_value(json_object_get(r, "format")),
	       json_string_value(json_object_get(r, "encoding")), delim ? ", delimiter " : "", delim ? delim : "",
	       (long long)json_integer_value(json_object_get(r, "records")),
	       json_string_value(json_object_get(r, "entity")));
	printf("%s %lld, updated %lld, unchanged %lld, suggested duplicates %lld, rejected %lld; "
	       "companies created %lld, notes %lld\n", dry ? "would create" : "created", (long long)created,
	       (long long)json_integer_value(json_object_get(r, "updated")),
	       (long long)json_integer_value(json_object_get(r, "unchanged")),
	       (long long)json_integer_value(json_object_get(r, "suggested")),
	       (long long)json_integer_value(json_object_get(r, "rejected")),
	       (long long)json_integer_value(json_object_get(r, "companies_created")),
	       (long long)json_integer_value(json_object_get(r, "notes_created")));
	size_t i;
	json_t *v;
	json_t *un = json_object_get(r, "unmapped");
	if (json_array_size(un)) {
		printf("not imported (no field for them): ");
		json_array_foreach(un, i, v)
			printf("%s%s", i ? ", " : "", json_string_value(v));
		printf("\n");
	}
	json_array_foreach(json_object_get(r, "warnings"), i, v)
		printf("warning: %s\n", json_string_value(v));
	json_array_foreach(json_object_get(r, "rejects"), i, v)
		printf("rejected: %s\n", json_string_value(json_object_get(v, "error")));
	json_array_foreach(json_object_get(r, "actions"), i, v) {
		const char *s = json_string_value(json_object_get(v, "suggestion"));
		printf("line %lld: %s %s %s %s%s%s%s\n", (long long)json_integer_value(json_object_get(v, "line")),
		       json_string_value(json_object_get(v, "action")), json_string_value(json_object_get(v, "entity")),
		       json_string_value(json_object_get(v, "id")), json_string_value(json_object_get(v, "name")),
		       s ? " (suggested duplicate: " : "", s ? s : "", s ? ")" : "");
	}
	if (dry)
		printf("nothing was written (dry run)\n");
	else if (json_integer_value(json_object_get(r, "suggested")))
		printf("see 'crm duplicates' to merge or keep apart the suggested duplicates\n");
}

int cmd_import_records(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		import_help();
		return EXIT_OK;
	}
	cli_take_json(c);
	const char *maps[MAP_MAX];
	crm_import_opts o = {0};
	int miss = 0, m, last_pct = -1;
	const char *map;
	while ((map = cli_take_opt(c, "map", &m)) || m) {
		if (m || o.map_count >= MAP_MAX)
			return cli_usage("import", m ? "--map needs COLUMN=FIELD" : "at most %d --map options", MAP_MAX);
		maps[o.map_count++] = map;
	}
	o.map = maps;
	o.entity = cli_take_opt(c, "entity", &m), miss |= m;
	o.encoding = cli_take_opt(c, "encoding", &m), miss |= m;
	const char *delim = cli_take_opt(c, "delimiter", &m);
	miss |= m;
	o.require = cli_take_opt(c, "require", &m), miss |= m;
	o.rejects_path = cli_take_opt(c, "rejects", &m), miss |= m;
	o.dry_run = cli_take_flag(c, "dry-run");
	o.skip_bad = cli_take_flag(c, "skip-bad");
	if (miss)
		return cli_usage("import", "an option needs a value");
	if (parse_delim(delim, &o.delimiter) < 0)
		return cli_usage("import", "--delimiter is ',', ';' or tab, not '%s'", delim);
	if (o.rejects_path && !o.skip_bad)
		return cli_usage("import", "--rejects goes with --skip-bad");
	if (c->argc != 1 || c->argv[0][0] == '-')
		return cli_usage("import", c->argc ? "unexpected argument '%s'" : "name the FILE to import%s",
				 c->argc ? c->argv[0] : "");
	o.path = c->argv[0];
	if (isatty(STDERR_FILENO)) {
		o.progress = progress;
		o.progress_ctx = &last_pct;
	}
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	json_t *report = NULL;
	int err = crm_import_file(&report, st, &o);
	crm_store_free(st);
	if (last_pct >= 0)
		fprintf(stderr, "\r\033[K");
	if (err < 0)
		return cli_fail(err);
	if (c->json)
		cli_print_json(report);
	else
		print_report(report);
	json_decref(report);
	return EXIT_OK;
}

int cmd_export_records(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		export_help();
		return EXIT_OK;
	}
	cli_take_json(c);
	int m1, m2, m3;
	crm_export_opts o = {0};
	o.format = cli_take_opt(c, "format", &m1);
	const char *ver = cli_take_opt(c, "vcard", &m2);
	const char *out = cli_take_opt(c, "out", &m3);
	o.bom = cli_take_flag(c, "bom");
	if (m1 || m2 || m3)
		return cli_usage("export", "--format, --vcard and --out need a value");
	if (!o.format)
		o.format = "csv";
	if (ver && strcmp(ver, "3.0") != 0 && strcmp(ver, "3") != 0 && strcmp(ver, "4.0") != 0 && strcmp(ver, "4") != 0)
		return cli_usage("export", "--vcard is 3.0 or 4.0, not '%s'", ver);
	o.vcard_version = ver && ver[0] == '4' ? 4 : 3;
	if (c->argc != 1)
		return cli_usage("export", "name what to export: contacts, companies or deals");
	o.what = c->argv[0];
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	char tmp[4096];
	FILE *f = stdout;
	if (out) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", out);
		if (!(f = fopen(tmp, "wb"))) {
			crm_store_free(st);
			fprintf(stderr, "crm: cannot write %s\n", tmp);
			return EXIT_DATA;
		}
	}
	size_t count = 0;
	int err = crm_export(st, f, &o, &count);
	crm_store_free(st);
	if (out) {
		if (fclose(f) != 0 && err == 0)
			err = CRM_ERR(CRM_EIO, "cannot write %s", tmp);
		if (err == 0 && rename(tmp, out) != 0)
			err = CRM_ERR(CRM_EIO, "cannot write %s", out);
		if (err < 0)
			remove(tmp);
	}
	if (err < 0)
		return cli_fail(err);
	if (out && c->json) {
		json_t *j = json_pack("{s:s,s:I}", "file", out, "count", (json_int_t)count);
		cli_print_json(j);
		json_decref(j);
	} else if (out) {
		printf("exported %zu %s to %s\n", count, o.what, out);
	}
	return EXIT_OK;
}
