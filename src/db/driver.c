/* src/db/driver.c
 * Choosing a driver by URL, and helpers every driver shares.
 */
#include "sluice/driver.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/url.h"

const struct driver *driver_for_url(const char *url)
{
	switch (url_kind(url)) {
	case URL_POSTGRES: return &pg_driver;
	case URL_MYSQL: return &mysql_driver;
	default: return NULL;
	}
}

const char *method_name(enum write_method m)
{
	switch (m) {
	case METHOD_COPY: return "copy";
	case METHOD_INSERT: return "insert";
	case METHOD_INFILE: return "infile";
	default: return "default";
	}
}

bool table_desc_add_unique(struct table_desc *t, const char *name, bool primary,
			   char *const *cols, int ncols)
{
	struct unique_key *u = realloc(t->unique, (size_t)(t->nunique + 1) * sizeof *u);
	if (!u)
		return false;
	t->unique = u;
	u = &t->unique[t->nunique];
	memset(u, 0, sizeof *u);
	u->name = strdup(name);
	u->primary = primary;
	u->cols = calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *u->cols);
	t->nunique++;
	if (!u->name || !u->cols)
		return false;
	for (int k = 0; k < ncols; k++) {
		if (!(u->cols[k] = strdup(cols[k])))
			return false;
		u->ncols = k + 1;
	}
	return true;
}

void table_desc_free(struct table_desc *t)
{
	for (int i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].type);
	}
	free(t->cols);
	for (int i = 0; i < t->nunique; i++) {
		free(t->unique[i].name);
		for (int k = 0; k < t->unique[i].ncols; k++)
			free(t->unique[i].cols[k]);
		free(t->unique[i].cols);
	}
	free(t->unique);
	t->unique = NULL;
	t->nunique = 0;
	t->cols = NULL;
	t->ncols = 0;
	t->exists = false;
}
