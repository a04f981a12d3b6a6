/*
 * util.c — argument and output helpers of the `crm` CLI (see cli.h).
 */
#include "cli.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "crm";

int cli_fail(int err)
{
	const char *msg = crm_error_last();
	fprintf(stderr, "%s: %s\n", cli_prog, *msg ? msg : crm_error_name(err));
	return err == CRM_EUSAGE ? EXIT_USAGE : EXIT_DATA;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see '%s %s --help'\n", cli_prog, cmd);
	return EXIT_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static void drop_args(cli *c, int at, int n)
{
	memmove(&c->argv[at], &c->argv[at + n], (size_t)(c->argc - at - n + 1) * sizeof(char *));
	c->argc -= n;
}

void cli_take_json(cli *c)
{
	if (cli_take_flag(c, "json"))
		c->json = 1;
}

int cli_take_flag(cli *c, const char *name)
{
	for (int i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] == '-' && a[1] == '-' && strcmp(a + 2, name) == 0) {
			drop_args(c, i, 1);
			return 1;
		}
	}
	return 0;
}

const char *cli_take_opt(cli *c, const char *name, int *missing)
{
	size_t n = strlen(name);
	*missing = 0;
	for (int i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-' || a[1] != '-' || strncmp(a + 2, name, n) != 0)
			continue;
		if (a[2 + n] == '=') {
			drop_args(c, i, 1);
			return a + 3 + n;
		}
		if (a[2 + n] != '\0')
			continue;
		if (i + 1 >= c->argc) {
			*missing = 1;
			drop_args(c, i, 1);
			return NULL;
		}
		const char *v = c->argv[i + 1];
		drop_args(c, i, 2);
		return v;
	}
	return NULL;
}

crm_store *cli_open(cli *c, int *status)
{
	crm_store *st = NULL;
	int err = crm_store_open(&st, c->data);
	if (err < 0)
		*status = cli_fail(err);
	return st;
}

void cli_print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s) {
		puts(s);
		free(s);
	}
}

static void value_text(char *buf, size_t cap, json_t *v)
{
	if (!v || json_is_null(v))
		snprintf(buf, cap, "-");
	else if (json_is_string(v))
		snprintf(buf, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, cap, "%g", json_real_value(v));
	else if (json_is_array(v))
		snprintf(buf, cap, "(%zu)", json_array_size(v));
	else
		snprintf(buf, cap, "%s", json_is_true(v) ? "yes" : "no");
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

/* Display width of UTF-8 text (code points; good enough for names). */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void cli_print_table(json_t *arr, const char *columns)
{
	char cols[16][32], buf[512];
	int ncol = 0, w[16];
	for (const char *p = columns; *p && ncol < 16;) {
		size_t n = strcspn(p, ",");
		snprintf(cols[ncol], sizeof(cols[0]), "%.*s", (int)n, p);
		w[ncol] = width(cols[ncol]);
		ncol++;
		p += n + (p[n] ? 1 : 0);
	}
	size_t i;
	json_t *row;
	json_array_foreach(arr, i, row)
		for (int k = 0; k < ncol; k++) {
			value_text(buf, 48, json_object_get(row, cols[k]));
			if (width(buf) > w[k])
				w[k] = width(buf);
		}
	for (int k = 0; k < ncol; k++)
		printf("%s%-*s", k ? "  " : "", k + 1 < ncol ? w[k] : 0, cols[k]);
	printf("\n");
	json_array_foreach(arr, i, row) {
		for (int k = 0; k < ncol; k++) {
			value_text(buf, 48, json_object_get(row, cols[k]));
			printf("%s%s%*s", k ? "  " : "", buf, k + 1 < ncol ? w[k] - width(buf) : 0, "");
		}
		printf("\n");
	}
}

void cli_print_record(json_t *obj)
{
	const char *key;
	json_t *v;
	char buf[1024];
	json_object_foreach(obj, key, v) {
		if (json_is_array(v))
			continue;
		value_text(buf, sizeof(buf), v);
		printf("%-16s %s\n", key, buf);
	}
	json_object_foreach(obj, key, v) {
		if (!json_is_array(v))
			continue;
		printf("\n%s (%zu)\n", key, json_array_size(v));
		if (json_array_size(v) == 0)
			continue;
		/* Columns: the keys of the first row. */
		char cols[512] = "";
		size_t off = 0;
		const char *k;
		json_t *x;
		json_object_foreach(json_array_get(v, 0), k, x)
			off += (size_t)snprintf(cols + off, sizeof(cols) - off, "%s%s", off ? "," : "", k);
		cli_print_table(v, cols);
	}
}

int cli_emit(cli *c, json_t *doc, const char *columns)
{
	if (c->json)
		cli_print_json(doc);
	else if (json_is_array(doc))
		cli_print_table(doc, columns);
	else
		cli_print_record(doc);
	json_decref(doc);
	return EXIT_OK;
}
