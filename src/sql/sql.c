/* src/sql/sql.c
 * Statement builders shared by the dialects: they differ only in quoting,
 * placeholders and conflict clauses, which each dialect file supplies.
 */
#include "sluice/sql.h"

#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool sql_quote_with(struct buf *b, const char *ident, char q)
{
	if (!*ident || !buf_putc(b, q))
		return false;
	for (const char *p = ident; *p; p++) {
		if (*p == q && !buf_putc(b, q))
			return false;
		if (!buf_putc(b, *p))
			return false;
	}
	return buf_putc(b, q);
}

bool sql_table_name(const struct dialect *d, struct buf *b, const struct write_spec *spec)
{
	if (spec->schema && *spec->schema) {
		if (!d->quote_ident(b, spec->schema) || !buf_putc(b, '.'))
			return false;
	}
	return d->quote_ident(b, spec->table);
}

bool sql_read_table(const struct dialect *d, struct buf *b, const struct write_spec *spec)
{
	return (!spec->own_rows || !d->has_inheritance || buf_puts(b, "ONLY ")) &&
	       sql_table_name(d, b, spec);
}

bool sql_select_values(const struct dialect *d, struct buf *b, const struct write_spec *spec,
		       const char *const *values, int n)
{
	bool ok = buf_puts(b, "SELECT ");
	for (int i = 0; ok && i < n; i++)
		ok = (i == 0 || buf_puts(b, ", ")) && buf_puts(b, values[i]) &&
		     buf_printf(b, " AS c%d", i);
	if (n == 0)
		ok = ok && buf_puts(b, "1 AS c0");
	return ok && buf_puts(b, " FROM ") && sql_read_table(d, b, spec);
}

bool sql_count_rows(const struct dialect *d, struct buf *b, const struct write_spec *spec)
{
	return buf_puts(b, "SELECT count(*) FROM ") && sql_read_table(d, b, spec);
}

bool sql_literal(const struct dialect *d, struct buf *b, const char *value, bool numeric)
{
	/* a plain decimal number: [+-]digits[.digits] */
	const char *p = value + (*value == '-' || *value == '+');
	size_t whole = strspn(p, "0123456789");
	bool plain = whole > 0;
	if (plain && p[whole] == '.')
		plain = strspn(p + whole + 1, "0123456789") > 0 &&
			!p[whole + 1 + strspn(p + whole + 1, "0123456789")];
	else
		plain = plain && !p[whole];
	if (numeric && plain)
		return buf_puts(b, value);
	return d->quote_literal(b, value);
}

/* copy --incremental: the WHERE and ORDER BY of range (see read_range). */
static bool incremental_where(const struct dialect *d, struct buf *b, const struct read_range *r)
{
	bool ok = buf_puts(b, " WHERE ") && d->quote_ident(b, r->cursor);
	if (r->nulls)
		return ok && buf_puts(b, " IS NULL ORDER BY ") && d->quote_ident(b, r->ckey);
	if (!r->after_cursor) {
		ok = ok && buf_puts(b, " IS NOT NULL");
	} else if (r->lag > 0) {
		/* the window behind the watermark: the upsert makes the rows
		 * read again harmless */
		struct buf lit;
		buf_init(&lit, 0);
		ok = ok && sql_literal(d, &lit, r->after_cursor, r->cursor_numeric) &&
		     buf_puts(b, " >= ") && d->minus_seconds(b, buf_str(&lit), r->lag);
		buf_free(&lit);
	} else {
		/* (cursor, key) > (w, k), written out: MySQL does not use an
		 * index for a row comparison */
		ok = ok && buf_puts(b, " > ") &&
		     sql_literal(d, b, r->after_cursor, r->cursor_numeric) &&
		     buf_puts(b, " OR (") && d->quote_ident(b, r->cursor) && buf_puts(b, " = ") &&
		     sql_literal(d, b, r->after_cursor, r->cursor_numeric) &&
		     buf_puts(b, " AND ") && d->quote_ident(b, r->ckey) && buf_puts(b, " > ") &&
		     sql_literal(d, b, r->after_key ? r->after_key : "", r->key_numeric) &&
		     buf_putc(b, ')');
	}
	return ok && buf_puts(b, " ORDER BY ") && d->quote_ident(b, r->cursor) &&
	       buf_puts(b, ", ") && d->quote_ident(b, r->ckey);
}

bool sql_count_null(const struct dialect *d, struct buf *b, const struct write_spec *spec,
		    const char *column)
{
	return sql_count_rows(d, b, spec) && buf_puts(b, " WHERE ") && d->quote_ident(b, column) &&
	       buf_puts(b, " IS NULL");
}

bool sql_delete_keys(const struct dialect *d, struct buf *b, const struct write_spec *spec,
		     const char *key, int n, const char *soft_col, const char *soft_expr)
{
	bool ok = soft_col ? buf_puts(b, "UPDATE ") && sql_table_name(d, b, spec) &&
				     buf_puts(b, " SET ") && d->quote_ident(b, soft_col) &&
				     buf_puts(b, " = ") && buf_puts(b, soft_expr)
			   : buf_puts(b, "DELETE FROM ") && sql_table_name(d, b, spec);
	ok = ok && buf_puts(b, " WHERE ") && d->quote_ident(b, key) && buf_puts(b, " IN (");
	for (int i = 1; ok && i <= n; i++)
		ok = (i == 1 || buf_puts(b, ", ")) && d->placeholder(b, i);
	ok = ok && buf_putc(b, ')');
	/* a row marked already keeps its mark */
	return ok && (!soft_col || (buf_puts(b, " AND ") && d->quote_ident(b, soft_col) &&
				    buf_puts(b, " IS NULL")));
}

bool sql_select(const struct dialect *d, struct buf *b, const struct write_spec *spec,
		const struct read_range *range, const char *const *suffix)
{
	bool ok = buf_puts(b, "SELECT ");
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = (!i || buf_puts(b, ", ")) && d->quote_ident(b, spec->columns[i]) &&
		     (!suffix || !suffix[i] || buf_puts(b, suffix[i]));
	ok = ok && buf_puts(b, " FROM ") && sql_read_table(d, b, spec);
	if (ok && range && range->cursor)
		return incremental_where(d, b, range);
	if (!ok || !range || !range->key)
		return ok;
	if (range->bounded) {
		ok = buf_puts(b, " WHERE ") && d->quote_ident(b, range->key) &&
		     buf_printf(b, " >= %lld", range->lo);
		if (ok && !range->hi_open)
			ok = buf_puts(b, " AND ") && d->quote_ident(b, range->key) &&
			     buf_printf(b, " < %lld", range->hi);
	}
	if (ok && range->ordered)
		ok = buf_puts(b, " ORDER BY ") &&
		     (!range->bytewise || buf_puts(b, d->bytewise_open)) &&
		     d->quote_ident(b, range->key) &&
		     (!range->bytewise || buf_puts(b, d->bytewise_close));
	for (int i = 0; ok && range->ordered && i < range->nthen; i++)
		ok = buf_puts(b, ", ") && d->quote_ident(b, range->then[i]);
	return ok;
}

bool sql_fit_name(const struct dialect *d, const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name), max = (size_t)d->max_name_bytes;
	if (!max || n <= max) {
		snprintf(out, outsz, "%s", name);
		return false;
	}
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	size_t keep = max - 9;
	if (keep + 10 > outsz)
		keep = outsz - 10;
	while (keep && ((unsigned char)name[keep] & 0xC0) == 0x80)
		keep--; /* not inside a UTF-8 character */
	snprintf(out, outsz, "%.*s_%08x", (int)keep, name, (unsigned)h);
	return true;
}

bool sql_column_list(const struct dialect *d, struct buf *b, const struct write_spec *spec)
{
	if (!buf_putc(b, '('))
		return false;
	for (int i = 0; i < spec->ncols; i++) {
		if (i && !buf_puts(b, ", "))
			return false;
		if (!d->quote_ident(b, spec->columns[i]))
			return false;
	}
	return buf_putc(b, ')');
}

bool sql_insert(const struct dialect *d, struct buf *b, const struct write_spec *spec, size_t nrows)
{
	if (!buf_puts(b, d->insert_verb(spec)) || !buf_puts(b, " INTO ") ||
	    !sql_table_name(d, b, spec) || !buf_putc(b, ' ') || !sql_column_list(d, b, spec) ||
	    !buf_puts(b, " VALUES "))
		return false;
	int n = 1;
	for (size_t r = 0; r < nrows; r++) {
		if ((r && !buf_putc(b, ',')) || !buf_putc(b, '('))
			return false;
		for (int c = 0; c < spec->ncols; c++) {
			if ((c && !buf_putc(b, ',')) || !d->placeholder(b, n++))
				return false;
		}
		if (!buf_putc(b, ')'))
			return false;
	}
	return d->conflict_clause(b, spec);
}

bool sql_truncate(const struct dialect *d, struct buf *b, const struct write_spec *spec)
{
	return buf_puts(b, "TRUNCATE TABLE ") && sql_table_name(d, b, spec);
}

bool sql_delete_all(const struct dialect *d, struct buf *b, const struct write_spec *spec)
{
	return buf_puts(b, "DELETE FROM ") && sql_table_name(d, b, spec);
}

size_t sql_rows_per_statement(const struct dialect *d, int ncols, size_t batch_rows)
{
	size_t max_rows = (size_t)d->max_params / (size_t)(ncols > 0 ? ncols : 1);
	if (max_rows == 0)
		max_rows = 1;
	if (batch_rows == 0)
		batch_rows = 1;
	if (batch_rows <= max_rows)
		return batch_rows;
	size_t nstmt = (batch_rows + max_rows - 1) / max_rows;
	return (batch_rows + nstmt - 1) / nstmt;
}

/* Copy one part of a qualified name, removing its quotes (a doubled quote
 * inside stands for one). */
static char *unquote_part(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	if (n >= 2 && (s[0] == '"' || s[0] == '`') && s[n - 1] == s[0]) {
		char q = s[0];
		size_t o = 0;
		for (size_t i = 1; i + 1 < n; i++) {
			out[o++] = s[i];
			if (s[i] == q && i + 2 < n && s[i + 1] == q)
				i++;
		}
		out[o] = '\0';
		return out;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

bool sql_split_table(const char *qualified, char **schema, char **name)
{
	*schema = NULL;
	*name = NULL;
	size_t n = strlen(qualified);
	char q = 0;
	size_t dot = n;
	for (size_t i = 0; i < n; i++) {
		char c = qualified[i];
		if (q) {
			if (c == q)
				q = 0;
		} else if (c == '"' || c == '`') {
			q = c;
		} else if (c == '.') {
			dot = i;
			break;
		}
	}
	if (n == 0 || dot == 0 || (dot < n && dot + 1 == n))
		return false;
	if (dot < n) {
		*schema = unquote_part(qualified, dot);
		*name = unquote_part(qualified + dot + 1, n - dot - 1);
	} else {
		*name = unquote_part(qualified, n);
	}
	if (!*name || (dot < n && !*schema) || !**name) {
		free(*schema);
		free(*name);
		*schema = *name = NULL;
		return false;
	}
	return true;
}

static int column_index(const struct write_spec *spec, const char *name)
{
	for (int i = 0; i < spec->ncols; i++)
		if (!strcmp(spec->columns[i], name))
			return i;
	return -1;
}

bool sql_update_columns(const struct write_spec *spec, int *set, int *nset, int *key, int *nkey)
{
	*nset = *nkey = 0;
	if (spec->ncols > SQL_MAX_COLUMNS || spec->nkey > spec->ncols || spec->nset > spec->ncols)
		return false;
	for (int k = 0; k < spec->nkey; k++) {
		int i = column_index(spec, spec->key[k]);
		if (i < 0)
			return false;
		key[(*nkey)++] = i;
	}
	if (spec->del)
		return true; /* a delete sets nothing (--soft sets its expression) */
	if (spec->nset) {
		for (int s = 0; s < spec->nset; s++) {
			int i = column_index(spec, spec->set[s]);
			if (i < 0)
				return false;
			set[(*nset)++] = i;
		}
		/* --add columns are set too, as deltas */
		for (int a = 0; a < spec->nadd; a++) {
			int i = column_index(spec, spec->add[a]);
			bool in = i < 0;
			for (int s = 0; !in && s < *nset; s++)
				in = set[s] == i;
			if (!in && *nset < spec->ncols)
				set[(*nset)++] = i;
		}
		return true;
	}
	for (int i = 0; i < spec->ncols; i++) {
		bool is_key = false;
		for (int k = 0; k < *nkey; k++)
			if (key[k] == i)
				is_key = true;
		if (!is_key)
			set[(*nset)++] = i;
	}
	return true;
}

bool sql_is_add_column(const struct write_spec *spec, const char *name)
{
	for (int a = 0; a < spec->nadd; a++)
		if (!strcmp(spec->add[a], name))
			return true;
	return false;
}

bool sql_assign(const struct dialect *d, struct buf *b, const struct write_spec *spec,
		const char *col, const char *target, const char *value)
{
	if (!d->quote_ident(b, col) || !buf_puts(b, " = "))
		return false;
	if (sql_is_add_column(spec, col)) {
		bool zero = spec->add_null_as_zero;
		if (!buf_puts(b, zero ? "COALESCE(" : "") || !buf_puts(b, target) ||
		    !d->quote_ident(b, col) || !buf_puts(b, zero ? ", 0) + " : " + "))
			return false;
	}
	return buf_puts(b, value);
}

bool sql_null_adds(const struct dialect *d, struct buf *b, const struct write_spec *spec,
		   const char *target)
{
	bool any = false;
	if (!buf_putc(b, '('))
		return false;
	for (int c = 0; c < spec->ncols; c++) {
		if (!sql_is_add_column(spec, spec->columns[c]))
			continue;
		if (!buf_puts(b, any ? " OR " : "") || !buf_puts(b, target) ||
		    !d->quote_ident(b, spec->columns[c]) || !buf_puts(b, " IS NULL"))
			return false;
		any = true;
	}
	return buf_puts(b, any ? ")" : "1 = 0)");
}

bool sql_checks_null_adds(const struct write_spec *spec)
{
	return spec->nadd > 0 && !spec->add_null_as_zero && !spec->del;
}

bool sql_update_row(const struct dialect *d, struct buf *b, const struct write_spec *spec)
{
	int set[SQL_MAX_COLUMNS], key[SQL_MAX_COLUMNS], nset, nkey;
	if (!sql_update_columns(spec, set, &nset, key, &nkey) || !nkey || (!nset && !spec->del))
		return false;
	int n = 1;
	if (spec->del && !spec->soft_col) {
		if (!buf_puts(b, "DELETE FROM ") || !sql_table_name(d, b, spec))
			return false;
	} else if (!buf_puts(b, "UPDATE ") || !sql_table_name(d, b, spec) ||
		   !buf_puts(b, " SET ")) {
		return false;
	} else if (spec->del) {
		if (!d->quote_ident(b, spec->soft_col) || !buf_puts(b, " = ") ||
		    !buf_puts(b, spec->soft_expr))
			return false;
	}
	for (int i = 0; !spec->del && i < nset; i++) {
		struct buf ph;
		buf_init(&ph, 0);
		bool ok = d->placeholder(&ph, n++) && (!i || buf_puts(b, ", ")) &&
			  sql_assign(d, b, spec, spec->columns[set[i]], "", ph.data);
		buf_free(&ph);
		if (!ok)
			return false;
	}
	if (!buf_puts(b, " WHERE "))
		return false;
	for (int i = 0; i < nkey; i++)
		if ((i && !buf_puts(b, " AND ")) || !d->quote_ident(b, spec->columns[key[i]]) ||
		    !buf_puts(b, " = ") || !d->placeholder(b, n++))
			return false;
	return true;
}

bool sql_uses_bulk(const struct write_spec *spec)
{
	return (spec->method == METHOD_COPY || spec->method == METHOD_INFILE) &&
	       spec->on_conflict == CONFLICT_ERROR && !spec->update;
}

bool sql_is_key_column(const struct dialect *d, const struct write_spec *spec, int c)
{
	for (int k = 0; k < spec->nkey; k++)
		if (!(d->columns_case_insensitive ? strcasecmp : strcmp)(spec->columns[c],
									 spec->key[k]))
			return true;
	return false;
}

bool sql_upsert_sets(const struct dialect *d, const struct write_spec *spec)
{
	for (int c = 0; spec->on_conflict == CONFLICT_UPDATE && c < spec->ncols; c++)
		if (!sql_is_key_column(d, spec, c))
			return true;
	return false;
}

bool sql_on_conflict(const struct dialect *d, struct buf *b, const struct write_spec *spec,
		     const char *excluded)
{
	if (spec->on_conflict == CONFLICT_SKIP)
		return buf_puts(b, " ON CONFLICT DO NOTHING");
	if (spec->on_conflict != CONFLICT_UPDATE)
		return true;
	if (!buf_puts(b, " ON CONFLICT ("))
		return false;
	for (int i = 0; i < spec->nkey; i++)
		if ((i && !buf_puts(b, ", ")) || !d->quote_ident(b, spec->key[i]))
			return false;
	if (!buf_puts(b, ") DO "))
		return false;
	bool any = false;
	for (int c = 0; c < spec->ncols; c++) {
		if (sql_is_key_column(d, spec, c))
			continue;
		struct buf v, t;
		buf_init(&v, 0);
		buf_init(&t, 0);
		/* a delta adds to the row there, named by the table's own name */
		bool ok = buf_printf(&v, "%s.", excluded) && d->quote_ident(&v, spec->columns[c]) &&
			  d->quote_ident(&t, spec->table) && buf_putc(&t, '.') &&
			  buf_puts(b, any ? ", " : "UPDATE SET ") &&
			  sql_assign(d, b, spec, spec->columns[c], t.data, v.data);
		buf_free(&v);
		buf_free(&t);
		if (!ok)
			return false;
		any = true;
	}
	return any ? true : buf_puts(b, "NOTHING");
}

bool sql_take_ids(const struct dialect *d, struct buf *b)
{
	return d->take_ids_sql && buf_puts(b, d->take_ids_sql);
}

bool sql_insert_returning(const struct dialect *d, struct buf *b, const struct write_spec *spec,
			  size_t nrows, const char *key)
{
	return d->has_returning && sql_insert(d, b, spec, nrows) && buf_puts(b, " RETURNING ") &&
	       d->quote_ident(b, key);
}
