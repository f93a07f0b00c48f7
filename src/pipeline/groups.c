/* src/pipeline/groups.c
 * --group-by, the reader's side: which group a record belongs to, and
 * whether a group comes back after other records broke it off (the input
 * is not grouped). Closed groups are remembered by a 64-bit hash of their
 * value and the line they began on: 16 bytes a group, whatever its size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/pipeline.h"

struct closed {
	uint64_t hash; /* 0: an empty slot */
	long line;
};

struct group_state {
	bool open; /* a group is open */
	uint64_t hash;
	long line; /* where the open group began */
	char *val; /* its value (NULL for SQL NULL) */
	size_t len, cap;
	size_t rows;	    /* its records so far */
	bool rejecting;	    /* a record of it was refused: every record of it is a reject */
	char why[400];	    /* why, for each of them */
	struct closed *set; /* open addressing, a power of two */
	size_t nset, capset;
};

/* FNV-1a of the value, NULL apart from every text; never 0. */
static uint64_t value_hash(const struct cell *v)
{
	uint64_t h = 1469598103934665603ULL;
	if (!v->ptr)
		return 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < v->len; i++)
		h = (h ^ (unsigned char)v->ptr[i]) * 1099511628211ULL;
	return h ? h : 1;
}

bool groups_open(struct group_state **out)
{
	*out = calloc(1, sizeof **out);
	return *out != NULL;
}

void groups_free(struct group_state *g)
{
	if (!g)
		return;
	free(g->val);
	free(g->set);
	free(g);
}

/* Remember the open group as closed; false on out of memory. */
static bool close_group(struct group_state *g)
{
	if ((g->nset + 1) * 2 > g->capset) {
		size_t cap = g->capset ? g->capset * 2 : 1024;
		struct closed *set = calloc(cap, sizeof *set);
		if (!set)
			return false;
		for (size_t i = 0; i < g->capset; i++) {
			if (!g->set[i].hash)
				continue;
			size_t k = g->set[i].hash & (cap - 1);
			while (set[k].hash)
				k = (k + 1) & (cap - 1);
			set[k] = g->set[i];
		}
		free(g->set);
		g->set = set;
		g->capset = cap;
	}
	size_t k = g->hash & (g->capset - 1);
	while (g->set[k].hash && g->set[k].hash != g->hash)
		k = (k + 1) & (g->capset - 1);
	if (!g->set[k].hash)
		g->nset++;
	g->set[k] = (struct closed){g->hash, g->line};
	return true;
}

/* The line a closed group with hash h began on, or 0. */
static long closed_line(const struct group_state *g, uint64_t h)
{
	if (!g->capset)
		return 0;
	size_t k = h & (g->capset - 1);
	while (g->set[k].hash) {
		if (g->set[k].hash == h)
			return g->set[k].line;
		k = (k + 1) & (g->capset - 1);
	}
	return 0;
}

enum group_step groups_next(struct group_state *g, const struct cell *v, long line, long *began)
{
	bool same =
		g->open &&
		(v->ptr ? g->val && g->len == v->len && !memcmp(g->val, v->ptr, v->len) : !g->val);
	if (same) {
		g->rows++;
		return GROUP_SAME;
	}
	uint64_t h = value_hash(v);
	if (g->open && !close_group(g))
		return GROUP_NO_MEMORY;
	*began = closed_line(g, h);
	if (*began)
		return GROUP_BROKEN;
	if (v->ptr) {
		if (v->len + 1 > g->cap) {
			char *p = realloc(g->val, v->len + 1);
			if (!p)
				return GROUP_NO_MEMORY;
			g->val = p;
			g->cap = v->len + 1;
		}
		memcpy(g->val, v->ptr, v->len);
		g->val[v->len] = '\0';
	} else {
		free(g->val);
		g->val = NULL;
		g->cap = 0;
	}
	g->len = v->ptr ? v->len : 0;
	g->open = true;
	g->hash = h;
	g->line = line;
	g->rows = 1;
	g->rejecting = false;
	return GROUP_NEW;
}

size_t groups_rows(const struct group_state *g)
{
	return g->rows;
}

bool groups_rejecting(const struct group_state *g)
{
	return g->rejecting;
}

void groups_reject(struct group_state *g, const char *why)
{
	g->rejecting = true;
	snprintf(g->why, sizeof g->why, "%s", why);
}

const char *groups_why(const struct group_state *g)
{
	return g->why;
}
