/*
 * group.c — duplicate groups: union-find over merge records (DESIGN.md §6).
 *
 * A merge record joins two records; groups are the connected components, so
 * concurrent merges of A+B on one branch and B+C on another commute.  The
 * survivor of a group is its lowest id, whatever order merges arrived in.
 */
#include "conflict.h"

#include <string.h>

static size_t find(size_t *parent, size_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];   /* path halving */
		i = parent[i];
	}
	return i;
}

void crm_conflict_groups(const char *const *ids, size_t n, const size_t (*edges)[2], size_t m,
			 size_t *parent, size_t *root)
{
	for (size_t i = 0; i < n; i++)
		parent[i] = i;
	for (size_t e = 0; e < m; e++) {
		if (edges[e][0] >= n || edges[e][1] >= n)
			continue;
		size_t a = find(parent, edges[e][0]), b = find(parent, edges[e][1]);
		if (a == b)
			continue;
		/* Keep the smaller id as the representative. */
		if (strcmp(ids[a], ids[b]) < 0)
			parent[b] = a;
		else
			parent[a] = b;
	}
	for (size_t i = 0; i < n; i++)
		root[i] = find(parent, i);
}
