/* src/sql/sqlite.c
 * The SQLite dialect: "double-quoted" identifiers, ?NNN placeholders,
 * ON CONFLICT upserts, and SQLite's declared types through the type model:
 * the affinity rules, with the meaning of the names applications declare.
 *
 * A value is stored as that value. SQLite's NUMERIC affinity (DECIMAL,
 * NUMERIC) turns the text '1.10' into the REAL 1.1 and long integers into
 * REALs of 15 digits, so sluice never creates a decimal column with it: a
 * decimal from another server becomes DECIMAL TEXT(p,s), a declared name
 * that reads as a decimal here and has TEXT affinity, so its digits are
 * kept as written. What an existing DECIMAL column holds (INTEGER or REAL)
 * is read back exactly (the shortest text of the double).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sluice/sql.h"

static bool lite_quote_ident(struct buf *b, const char *ident)
{
	return sql_quote_with(b, ident, '"');
}

/* A plain "?", numbered by its place: every statement numbers its
 * placeholders in order, and SQLite prepares "?NNN" in time quadratic in
 * their count (0.44 s for a full INSERT of 32,766, against 0.01 s). */
static bool lite_placeholder(struct buf *b, int n)
{
	(void)n;
	return buf_putc(b, '?');
}

static bool lite_conflict_clause(struct buf *b, const struct write_spec *spec)
{
	return sql_on_conflict(&sqlite_dialect, b, spec, "excluded");
}

static const char *lite_insert_verb(const struct write_spec *spec)
{
	(void)spec;
	return "INSERT";
}

enum sqlite_affinity sqlite_affinity(const char *declared)
{
	/* https://www.sqlite.org/datatype3.html, 3.1, in its order */
	char up[256];
	size_t n = 0;
	for (; declared && declared[n] && n + 1 < sizeof up; n++)
		up[n] = (char)(declared[n] >= 'a' && declared[n] <= 'z' ? declared[n] - 32
									: declared[n]);
	up[n] = '\0';
	if (strstr(up, "INT"))
		return SQLITE_AFF_INTEGER;
	if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
		return SQLITE_AFF_TEXT;
	bool blank = true;
	for (size_t i = 0; i < n; i++)
		blank &= up[i] == ' ' || up[i] == '\t';
	if (strstr(up, "BLOB") || blank)
		return SQLITE_AFF_BLOB;
	if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
		return SQLITE_AFF_REAL;
	return SQLITE_AFF_NUMERIC;
}

/* The declared names whose meaning the model keeps, by their first word. */
static const struct lite_name {
	const char *name;
	enum sql_kind kind;
	int size; /* INT: bytes */
} lite_names[] = {
	{"integer", SQL_INT, 8},	{"int", SQL_INT, 8},
	{"bigint", SQL_INT, 8},		{"int8", SQL_INT, 8},
	{"unsigned", SQL_INT, 8},	{"tinyint", SQL_INT, 1},
	{"smallint", SQL_INT, 2},	{"int2", SQL_INT, 2},
	{"mediumint", SQL_INT, 3},	{"boolean", SQL_BOOL, 0},
	{"bool", SQL_BOOL, 0},		{"real", SQL_FLOAT, 8},
	{"double", SQL_FLOAT, 8},	{"float", SQL_FLOAT, 8},
	{"decimal", SQL_DECIMAL, 0},	{"numeric", SQL_DECIMAL, 0},
	{"date", SQL_DATE, 0},		{"datetime", SQL_DATETIME, 0},
	{"timestamp", SQL_DATETIME, 0}, {"timestamptz", SQL_TIMESTAMPTZ, 0},
	{"time", SQL_TIME, 0},		{"text", SQL_TEXT, 0},
	{"clob", SQL_TEXT, 0},		{"char", SQL_TEXT, 0},
	{"character", SQL_TEXT, 0},	{"varchar", SQL_TEXT, 0},
	{"nchar", SQL_TEXT, 0},		{"nvarchar", SQL_TEXT, 0},
	{"varying", SQL_TEXT, 0},	{"native", SQL_TEXT, 0},
	{"string", SQL_TEXT, 0},	{"blob", SQL_BINARY, 0},
	{"json", SQL_JSON, 0},		{"bit", SQL_BIT, 0},
	{"uuid", SQL_UUID, 0},
};

bool sqlite_type_classify(const char *text, const struct column_desc *col, struct sql_type *t)
{
	sql_type_init(t, &sqlite_dialect);
	struct sql_type_text tx;
	sql_type_text_parse(text ? text : "", &tx);
	if (col && col->collation)
		snprintf(t->collation, sizeof t->collation, "%s", col->collation);
	enum sqlite_affinity aff = sqlite_affinity(text);
	/* by the first word: "unsigned big int", "decimal text(10,2)" */
	char first[64];
	snprintf(first, sizeof first, "%.*s", (int)strcspn(tx.name, " "), tx.name);
	const struct lite_name *m = NULL;
	for (size_t i = 0; first[0] && i < sizeof lite_names / sizeof lite_names[0]; i++)
		if (!strcmp(first, lite_names[i].name))
			m = &lite_names[i];
	long p0 = tx.nparams >= 1 ? tx.p[0] : -1, p1 = tx.nparams >= 2 ? tx.p[1] : -1;
	if (!m) {
		/* a name the model does not know: what its affinity keeps */
		switch (aff) {
		case SQLITE_AFF_INTEGER:
			t->kind = SQL_INT;
			t->bytes = 8;
			break;
		case SQLITE_AFF_TEXT:
			t->kind = SQL_TEXT;
			t->length = -1;
			break;
		case SQLITE_AFF_REAL:
			t->kind = SQL_FLOAT;
			t->bytes = 8;
			break;
		case SQLITE_AFF_BLOB:
			/* no declared type: any value; sluice reads its text,
			 * numbers as their digits (a blob there is refused) */
			t->kind = tx.trimmed_len ? SQL_BINARY : SQL_TEXT;
			t->length = -1;
			break;
		default:
			t->kind = SQL_OTHER;
			break;
		}
		size_t n = tx.trimmed_len < sizeof t->name ? tx.trimmed_len : 0;
		memcpy(t->name, tx.trimmed, n);
		t->name[n] = '\0';
		for (char *p = t->name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		return true;
	}
	strcpy(t->name, first);
	t->kind = m->kind;
	switch (m->kind) {
	case SQL_INT:
		/* SQLite's integers are 64-bit whatever the name; the small
		 * names keep their size, the others are 8 bytes */
		t->bytes = m->size;
		t->is_unsigned = tx.is_unsigned || !strcmp(m->name, "unsigned");
		if (t->is_unsigned)
			t->bytes = 8;
		break;
	case SQL_DECIMAL:
		t->precision = p0 > 0 ? (int)p0 : -1;
		t->scale = p1 >= 0 ? (int)p1 : 0;
		break;
	case SQL_FLOAT:
		t->bytes = 8;
		break;
	case SQL_DATETIME:
	case SQL_TIMESTAMPTZ:
	case SQL_TIME:
		/* text with up to microseconds, or a number (see the driver);
		 * "timestamp with time zone" is an instant */
		t->fsp = 6;
		if (tx.tz > 0 && m->kind == SQL_DATETIME)
			t->kind = SQL_TIMESTAMPTZ;
		if (tx.tz > 0 && m->kind == SQL_TIME)
			t->with_tz = true;
		break;
	case SQL_TEXT:
		t->length = p0 > 0 ? p0 : -1;
		break;
	case SQL_BINARY:
		t->length = -1;
		break;
	case SQL_JSON:
		t->json_text = true;
		break;
	case SQL_BIT:
		/* BIT TEXT(n): n binary digits as text */
		t->fixed = true;
		t->length = p0 > 0 ? p0 : 1;
		if (aff != SQLITE_AFF_TEXT)
			t->kind = SQL_OTHER;
		break;
	default:
		break;
	}
	/* a known name with another affinity than its kind's ("decimal
	 * text(10,2)" is a decimal kept as text; "int text" is text) */
	if (m->kind == SQL_INT && aff != SQLITE_AFF_INTEGER)
		t->kind = SQL_OTHER;
	if (m->kind == SQL_TEXT && aff != SQLITE_AFF_TEXT)
		t->kind = SQL_OTHER;
	if (m->kind == SQL_FLOAT && aff != SQLITE_AFF_REAL)
		t->kind = SQL_OTHER;
	if (m->kind == SQL_BINARY && aff != SQLITE_AFF_BLOB) {
		/* "blob sub_type text" (Sakila's port): TEXT affinity, since
		 * TEXT is looked for before BLOB; its values are text */
		t->kind = aff == SQLITE_AFF_TEXT ? SQL_TEXT : SQL_OTHER;
		t->length = -1;
	}
	if (t->kind == SQL_OTHER) {
		snprintf(t->name, sizeof t->name, "%.*s", (int)tx.trimmed_len, tx.trimmed);
		for (char *p = t->name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	return true;
}

/* A text for a type SQLite has no kind of: TEXT, with a note. */
static bool as_text(const struct sql_type *t, const struct type_use *use, struct type_naming *n,
		    const char *why)
{
	type_naming_note(n, "%s as TEXT%s%s", use && use->what ? use->what : t->name,
			 why ? ": " : "", why ? why : "");
	return type_naming_set(n, "TEXT");
}

bool sqlite_type_name(const struct sql_type *t, const struct type_use *use, struct type_naming *n)
{
	const char *what = use && use->what ? use->what : t->name;
	if (t->array)
		return as_text(t, use, n, "SQLite has no arrays (the array's text)");
	switch (t->kind) {
	case SQL_BOOL:
		return type_naming_set(n, "BOOLEAN");
	case SQL_INT:
		if (use && use->identity)
			return type_naming_set(n, "INTEGER");
		if (t->is_unsigned && t->bytes == 8) {
			type_naming_note(n,
					 "%s as DECIMAL TEXT(20,0): SQLite's INTEGER is signed "
					 "64-bit, the digits are kept as text",
					 what);
			return type_naming_set(n, "DECIMAL TEXT(20,0)");
		}
		if (t->year)
			return type_naming_set(n, "INTEGER");
		return type_naming_set(n, t->bytes == 1	  ? "TINYINT"
					  : t->bytes == 2 ? "SMALLINT"
					  : t->bytes == 3 ? "MEDIUMINT"
							  : "INTEGER");
	case SQL_DECIMAL:
		/* NUMERIC affinity would store a REAL: the digits as text */
		if (t->origin != &sqlite_dialect)
			type_naming_note(n, "%s kept as text digits (DECIMAL TEXT)", what);
		if (t->precision < 0)
			return type_naming_set(n, "DECIMAL TEXT");
		return type_naming_set(n, "DECIMAL TEXT(%d,%d)", t->precision, t->scale);
	case SQL_FLOAT:
		return type_naming_set(n, "REAL");
	case SQL_DATE:
		return type_naming_set(n, "DATE");
	case SQL_DATETIME:
		return type_naming_set(n, "DATETIME");
	case SQL_TIMESTAMPTZ:
		type_naming_note(n, "%s as TIMESTAMPTZ text in UTC", what);
		return type_naming_set(n, "TIMESTAMPTZ");
	case SQL_TIME:
		if (t->with_tz || t->span)
			return as_text(t, use, n, t->span ? "a duration" : "with its zone");
		return type_naming_set(n, "TIME");
	case SQL_TEXT:
		if (t->length > 0)
			return type_naming_set(n, "%s(%ld)", t->fixed ? "CHAR" : "VARCHAR",
					       t->length);
		return type_naming_set(n, "TEXT");
	case SQL_BINARY:
		return type_naming_set(n, "BLOB");
	case SQL_JSON:
		return type_naming_set(n, "JSON TEXT");
	case SQL_UUID:
		return type_naming_set(n, "UUID");
	case SQL_BIT:
		/* TEXT affinity: NUMERIC would make 0101 the integer 101 */
		if (t->fixed && t->length > 0)
			return type_naming_set(n, "BIT TEXT(%ld)", t->length);
		return as_text(t, use, n, "its bits as 0 and 1 digits");
	case SQL_ENUM:
	case SQL_SET:
		return as_text(t, use, n, "its labels are not enforced");
	case SQL_SPATIAL:
		type_naming_note(n, "%s as BLOB (SRID and WKB bytes)", what);
		return type_naming_set(n, "BLOB");
	case SQL_OTHER:
		if (t->origin == &sqlite_dialect)
			return type_naming_set(n, "%s", t->name);
		type_naming_lose(n, "%s has no SQLite type: kept as its text", what);
		return type_naming_set(n, "TEXT");
	default:
		return as_text(t, use, n, NULL);
	}
}

/* --- sluice verify (canon.h) ---
 * SQLite has no md5, no float bit patterns and no exact sum of big
 * numbers; the driver registers them on every connection as functions
 * (src/db/sqlite.c): sluice_canon(value, form, prec, bits, lower, kind)
 * writes the canonical text of a value of a column of that kind from its
 * storage class, sluice_md5(value) the md5 of its bytes, and the aggregate
 * sluice_checksum(c0, ...) the checksum of checksum_query. */

bool sqlite_canon_value(struct buf *b, const char *col, const struct sql_type *t,
			const struct canon_spec *how)
{
	switch (how->form) {
	case CANON_NULLNESS:
		return buf_printf(b, "CASE WHEN %s IS NULL THEN NULL ELSE '' END", col);
	case CANON_JSON_NORM:
		return buf_printf(b, "sluice_md5(json(%s))", col);
	default:
		return buf_printf(b, "sluice_canon(%s, %d, %d, %d, %d, %d)", col, (int)how->form,
				  how->prec, how->bits, how->lower ? 1 : 0, (int)t->kind);
	}
}

bool sqlite_checksum_query(struct buf *b, const struct write_spec *spec, const char *const *values,
			   int n)
{
	bool ok = buf_puts(b, "SELECT count(*), sluice_checksum(");
	for (int i = 0; ok && i < n; i++)
		ok = buf_printf(b, "%sc%d", i ? ", " : "", i);
	return ok && buf_puts(b, ") FROM (") &&
	       sql_select_values(&sqlite_dialect, b, spec, values, n) && buf_puts(b, ") s");
}

static bool lite_quote_literal(struct buf *b, const char *s)
{
	return sql_quote_with(b, s, '\'') || (!*s && buf_puts(b, "''"));
}

static bool lite_minus_seconds(struct buf *b, const char *lit, double seconds)
{
	return buf_printf(b, "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '-%.6f seconds')", lit,
			  seconds);
}

const struct dialect sqlite_dialect = {
	.name = "sqlite",
	/* SQLITE_MAX_VARIABLE_NUMBER since 3.32 (the driver checks the
	 * library's own limit) */
	.max_params = 32766,
	.transactional_ddl = true,
	.columns_case_insensitive = true,
	.max_name_bytes = 63,
	.bytewise_open = "",
	.bytewise_close = " COLLATE BINARY",
	.quote_ident = lite_quote_ident,
	.quote_literal = lite_quote_literal,
	.minus_seconds = lite_minus_seconds,
	.placeholder = lite_placeholder,
	.conflict_clause = lite_conflict_clause,
	.insert_verb = lite_insert_verb,
	.bulk_load = NULL, /* no COPY: prepared multi-row INSERTs in one transaction */
	.type_classify = sqlite_type_classify,
	.type_name = sqlite_type_name,
	.canon_value = sqlite_canon_value,
	.checksum_query = sqlite_checksum_query,
};
