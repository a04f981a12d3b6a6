/*
 * fuzz_scratch.c — see fuzz_scratch.h.
 */
#define _XOPEN_SOURCE 700   /* nftw, mkdtemp */
#include "fuzz_scratch.h"
#include "error.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char root[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_root(void)
{
	if (root[0])
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, crm_error_last());
	exit(1);
}

const char *fuzz_scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/crm_fuzz_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		fuzz_die("mkdtemp");
	atexit(remove_root);
	return root;
}
