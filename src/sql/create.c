/* src/sql/create.c
 * CREATE TABLE text for --create: inferred column types named in each
 * dialect, every identifier quoted by the dialect.
 */
#include <stdio.h>
#include <string.h>

#include "sluice/create.h"

/* The type a dialect without a list here gives an inferred column type:
 * what its namer calls the neutral type (sqltype.h), into out. */
static const char *neutral_name(const struct dialect *d, enum col_type t, struct type_naming *out)
{
	static const enum sql_kind kinds[] = {
		[TYPE_TEXT] = SQL_TEXT,	      [TYPE_BIGINT] = SQL_INT,
		[TYPE_NUMERIC] = SQL_DECIMAL, [TYPE_BOOLEAN] = SQL_BOOL,
		[TYPE_DATE] = SQL_DATE,	      [TYPE_TIMESTAMP] = SQL_TIMESTAMPTZ,
		[TYPE_JSON] = SQL_JSON,	      [TYPE_UUID] = SQL_UUID,
		[TYPE_BYTES] = SQL_BINARY,
	};
	struct sql_type st;
	sql_type_init(&st, NULL);
	st.kind = kinds[t];
	st.bytes = 8;
	st.precision = -1;
	st.length = -1;
	st.fsp = 6;
	bool ok = d->type_name(&st, &(struct type_use){0}, out);
	sql_type_free(&st);
	return ok ? out->text : "text";
}

/* The type a dialect gives an inferred column type; n holds it for a
 * dialect that names it through the type model. */
static const char *type_name(const struct dialect *d, enum col_type t, struct type_naming *n)
{
	if (d != &mysql_dialect && d != &pg_dialect && d->type_name && strcmp(d->name, "mysql") &&
	    strcmp(d->name, "postgresql"))
		return neutral_name(d, t, n);
	if (d == &mysql_dialect || !strcmp(d->name, "mysql")) {
		switch (t) {
		case TYPE_BIGINT:
			return "bigint";
		/* the widest exact decimal MySQL has: 35 digits before the point,
		 * 30 after; a narrower scale would round longer fractions silently */
		case TYPE_NUMERIC:
			return "decimal(65,30)";
		case TYPE_BOOLEAN:
			return "tinyint(1)";
		case TYPE_DATE:
			return "date";
		case TYPE_TIMESTAMP:
			return "datetime(6)";
		case TYPE_JSON:
			return "json";
		case TYPE_UUID:
			return "char(36)";
		case TYPE_BYTES:
			return "longblob";
		case TYPE_TEXT:
			break;
		}
		return "longtext";
	}
	switch (t) {
	case TYPE_BIGINT:
		return "bigint";
	case TYPE_NUMERIC:
		return "numeric";
	case TYPE_BOOLEAN:
		return "boolean";
	case TYPE_DATE:
		return "date";
	/* timestamptz keeps the instant of values with Z or an offset, which a
	 * plain timestamp column would drop silently */
	case TYPE_TIMESTAMP:
		return "timestamptz";
	case TYPE_JSON:
		return "jsonb";
	case TYPE_UUID:
		return "uuid";
	case TYPE_BYTES:
		return "bytea";
	case TYPE_TEXT:
		break;
	}
	return "text";
}

bool sql_create_table(const struct dialect *d, struct buf *out, const struct write_spec *spec,
		      const enum col_type *types)
{
	return sql_create_table_keyed(d, out, spec, types, NULL);
}

bool sql_create_table_keyed(const struct dialect *d, struct buf *out, const struct write_spec *spec,
			    const enum col_type *types, const char *key_collation)
{
	if (spec->ncols <= 0)
		return false;
	if (!buf_puts(out, "CREATE TABLE ") || !sql_table_name(d, out, spec) ||
	    !buf_puts(out, " ("))
		return false;
	bool mysql = d == &mysql_dialect || !strcmp(d->name, "mysql");
	char key_type[96];
	snprintf(key_type, sizeof key_type, "varchar(255) COLLATE %s",
		 key_collation ? key_collation : "utf8mb4_bin");
	for (int i = 0; i < spec->ncols; i++) {
		bool is_key = false;
		for (int k = 0; k < spec->nkey; k++)
			is_key |= !strcmp(spec->key[k], spec->columns[i]);
		struct type_naming named = {0};
		const char *type = type_name(d, types[i], &named);
		/* MySQL cannot index a longtext or json column whole; and a key keeps
		 * its case (a binary collation), so "A" and "a" stay two keys, and
		 * its trailing spaces where the server has a NO PAD one, so "A"
		 * and "A " do too */
		if (is_key && mysql &&
		    (types[i] == TYPE_TEXT || types[i] == TYPE_JSON || types[i] == TYPE_BYTES))
			type = key_type;
		if (!buf_puts(out, i ? ",\n    " : "\n    ") ||
		    !d->quote_ident(out, spec->columns[i]) || !buf_putc(out, ' ') ||
		    !buf_puts(out, type))
			return false;
	}
	if (spec->nkey > 0) {
		/* --key: the primary key, so an upsert's conflicts are decided by it */
		if (!buf_puts(out, ",\n    PRIMARY KEY ("))
			return false;
		for (int k = 0; k < spec->nkey; k++)
			if ((k && !buf_puts(out, ", ")) || !d->quote_ident(out, spec->key[k]))
				return false;
		if (!buf_putc(out, ')'))
			return false;
	}
	if (!buf_puts(out, "\n)"))
		return false;
	/* MariaDB's default character set may still be latin1 */
	if (mysql && !buf_puts(out, " DEFAULT CHARSET=utf8mb4"))
		return false;
	return true;
}

bool sql_add_foreign_key(const struct dialect *d, struct buf *out, const struct write_spec *child,
			 const char *name, char *const *cols, const struct write_spec *parent,
			 char *const *pcols, int n)
{
	bool ok = buf_puts(out, "ALTER TABLE ") && sql_table_name(d, out, child) &&
		  buf_puts(out, " ADD CONSTRAINT ") && d->quote_ident(out, name) &&
		  buf_puts(out, " FOREIGN KEY (");
	for (int i = 0; ok && i < n; i++)
		ok = (!i || buf_puts(out, ", ")) && d->quote_ident(out, cols[i]);
	ok = ok && buf_puts(out, ") REFERENCES ") && sql_table_name(d, out, parent) &&
	     buf_puts(out, " (");
	for (int i = 0; ok && i < n; i++)
		ok = (!i || buf_puts(out, ", ")) && d->quote_ident(out, pcols[i]);
	return ok && buf_puts(out, ") ON DELETE CASCADE");
}
