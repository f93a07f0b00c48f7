/* src/catalog/catalog.c
 * Building and freeing the catalog model (catalog.h) that drivers fill.
 */
#include "sluice/catalog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

bool table_desc_add_unique(struct table_desc *t, const char *name, bool primary, char *const *cols,
			   int ncols)
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
		free(t->cols[i].base_type);
		free(t->cols[i].value_type);
		free(t->cols[i].array_value_type);
		free(t->cols[i].default_expr);
		free(t->cols[i].generated);
		free(t->cols[i].on_update);
		free(t->cols[i].charset);
		free(t->cols[i].collation);
		free(t->cols[i].udt);
		free(t->cols[i].domain_base);
		free(t->cols[i].domain_check);
		free(t->cols[i].domain_default);
		free_names(t->cols[i].labels, t->cols[i].nlabels);
	}
	for (int i = 0; i < t->nindexes; i++) {
		struct index_desc *x = &t->indexes[i];
		free(x->name);
		free(x->method);
		for (int k = 0; k < x->ncols; k++)
			free(x->cols[k]);
		free(x->cols);
		free(x->prefix);
		free(x->definition);
	}
	free(t->indexes);
	t->indexes = NULL;
	t->nindexes = 0;
	for (int i = 0; i < t->nfkeys; i++) {
		struct fkey_desc *f = &t->fkeys[i];
		free(f->name);
		for (int k = 0; k < f->ncols; k++) {
			free(f->cols[k]);
			free(f->ref_cols[k]);
		}
		free(f->cols);
		free(f->ref_cols);
		free(f->ref_schema);
		free(f->ref_table);
		free(f->on_delete);
		free(f->on_update);
		free(f->definition);
	}
	free(t->fkeys);
	t->fkeys = NULL;
	t->nfkeys = 0;
	for (int i = 0; i < t->nchecks; i++) {
		free(t->checks[i].name);
		free(t->checks[i].expr);
	}
	free(t->checks);
	t->checks = NULL;
	t->nchecks = 0;
	free(t->parent);
	t->parent = NULL;
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

void schema_desc_free(struct schema_desc *s)
{
	free_names(s->tables, s->ntables);
	free_names(s->views, s->nviews);
	free_names(s->triggers, s->ntriggers);
	free_names(s->objects, s->nobjects);
	memset(s, 0, sizeof *s);
}

bool names_add(char ***names, int *n, const char *name)
{
	char **grown = realloc(*names, (size_t)(*n + 1) * sizeof *grown);
	if (!grown)
		return false;
	*names = grown;
	if (!(grown[*n] = strdup(name)))
		return false;
	(*n)++;
	return true;
}

bool table_desc_add_index(struct table_desc *t, const char *name, bool unique, bool primary,
			  const char *method, bool expression, char *const *cols, int ncols)
{
	struct index_desc *x = realloc(t->indexes, (size_t)(t->nindexes + 1) * sizeof *x);
	if (!x)
		return false;
	t->indexes = x;
	x = &t->indexes[t->nindexes++];
	memset(x, 0, sizeof *x);
	x->unique = unique;
	x->primary = primary;
	x->expression = expression;
	x->name = strdup(name);
	x->method = strdup(method ? method : "btree");
	x->cols = calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *x->cols);
	if (!x->name || !x->method || !x->cols)
		return false;
	for (int k = 0; k < ncols; k++) {
		if (!(x->cols[k] = strdup(cols[k])))
			return false;
		x->ncols = k + 1;
	}
	return true;
}

const char *fkey_set_null_event(const struct fkey_desc *fk)
{
	if (!strcasecmp(fk->on_delete, "SET NULL"))
		return "DELETE";
	return !strcasecmp(fk->on_update, "SET NULL") ? "UPDATE" : NULL;
}

bool table_desc_add_fkey(struct table_desc *t, const char *name, char *const *cols,
			 const char *ref_schema, const char *ref_table, char *const *ref_cols,
			 int ncols, const char *on_delete, const char *on_update)
{
	struct fkey_desc *f = realloc(t->fkeys, (size_t)(t->nfkeys + 1) * sizeof *f);
	if (!f)
		return false;
	t->fkeys = f;
	f = &t->fkeys[t->nfkeys++];
	memset(f, 0, sizeof *f);
	f->name = strdup(name);
	f->ref_schema = ref_schema ? strdup(ref_schema) : NULL;
	f->ref_table = strdup(ref_table);
	f->on_delete = strdup(on_delete ? on_delete : "NO ACTION");
	f->on_update = strdup(on_update ? on_update : "NO ACTION");
	f->cols = calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *f->cols);
	f->ref_cols = calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *f->ref_cols);
	if (!f->name || !f->ref_table || !f->on_delete || !f->on_update || !f->cols ||
	    !f->ref_cols || (ref_schema && !f->ref_schema))
		return false;
	for (int k = 0; k < ncols; k++) {
		f->cols[k] = strdup(cols[k]);
		f->ref_cols[k] = strdup(ref_cols[k]);
		f->ncols = k + 1;
		if (!f->cols[k] || !f->ref_cols[k])
			return false;
	}
	return true;
}

bool table_desc_add_check(struct table_desc *t, const char *name, const char *expr)
{
	struct check_desc *k = realloc(t->checks, (size_t)(t->nchecks + 1) * sizeof *k);
	if (!k)
		return false;
	t->checks = k;
	k = &t->checks[t->nchecks++];
	k->name = strdup(name);
	k->expr = strdup(expr);
	return k->name && k->expr;
}

const struct index_desc *table_desc_primary(const struct table_desc *t)
{
	for (int i = 0; i < t->nindexes; i++)
		if (t->indexes[i].primary)
			return &t->indexes[i];
	return NULL;
}

const struct column_desc *table_desc_column(const struct table_desc *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i].name, name))
			return &t->cols[i];
	return NULL;
}
