/* src/sql/pg_types.c
 * PostgreSQL types in the type model (sqltype.h): format_type() text
 * classified into a struct sql_type, and a struct sql_type named as the
 * type PostgreSQL gives it.
 */
#include <stdio.h>
#include <string.h>

#include "sluice/sql.h"

/* PostgreSQL's type names (format_type's and their aliases), and what each
 * is. */
static const struct pg_name {
	const char *name;
	enum sql_kind kind;
	int bytes; /* INT, FLOAT */
} pg_names[] = {
	{"boolean", SQL_BOOL, 0},
	{"bool", SQL_BOOL, 0},
	{"smallint", SQL_INT, 2},
	{"int2", SQL_INT, 2},
	{"integer", SQL_INT, 4},
	{"int", SQL_INT, 4},
	{"int4", SQL_INT, 4},
	{"bigint", SQL_INT, 8},
	{"int8", SQL_INT, 8},
	{"numeric", SQL_DECIMAL, 0},
	{"decimal", SQL_DECIMAL, 0},
	{"real", SQL_FLOAT, 4},
	{"float4", SQL_FLOAT, 4},
	{"double precision", SQL_FLOAT, 8},
	{"float8", SQL_FLOAT, 8},
	{"float", SQL_FLOAT, 8},
	{"date", SQL_DATE, 0},
	{"timestamp", SQL_DATETIME, 0},
	{"timestamptz", SQL_TIMESTAMPTZ, 0},
	{"time", SQL_TIME, 0},
	{"timetz", SQL_TIME, 0},
	{"text", SQL_TEXT, 0},
	{"character varying", SQL_TEXT, 0},
	{"varchar", SQL_TEXT, 0},
	{"character", SQL_TEXT, 0},
	{"char", SQL_TEXT, 0},
	{"bpchar", SQL_TEXT, 0},
	{"citext", SQL_TEXT, 0},
	{"bytea", SQL_BINARY, 0},
	{"bit", SQL_BIT, 0},
	{"bit varying", SQL_BIT, 0},
	{"varbit", SQL_BIT, 0},
	{"json", SQL_JSON, 0},
	{"jsonb", SQL_JSON, 0},
	{"uuid", SQL_UUID, 0},
	{"inet", SQL_NETADDR, 0},
	{"cidr", SQL_NETADDR, 0},
	{"macaddr", SQL_NETADDR, 0},
	{"macaddr8", SQL_NETADDR, 0},
	{"money", SQL_MONEY, 0},
};

/* A string type: text, character varying, character, bpchar, citext. */
static void text_type(struct sql_type *t, const char *name, long p0)
{
	t->fixed = !strcmp(name, "character") || !strcmp(name, "char") || !strcmp(name, "bpchar");
	t->padded = t->fixed;
	t->case_insensitive = !strcmp(name, "citext");
	/* character alone is character(1); bpchar alone has no bound */
	t->length = p0 > 0 ? p0 : t->fixed && strcmp(name, "bpchar") ? 1 : -1;
}

bool pg_type_classify(const char *text, const struct column_desc *col, struct sql_type *t)
{
	sql_type_init(t, &pg_dialect);
	struct sql_type_text tx;
	sql_type_text_parse(text ? text : "", &tx);
	t->array = tx.array;
	if (col && col->udt && col->udt_kind == 'e') {
		/* an enum of the database's own: its labels are in the catalog */
		t->kind = SQL_ENUM;
		snprintf(t->udt, sizeof t->udt, "%s", col->udt);
		for (int i = 0; i < col->nlabels; i++)
			if (!sql_type_add_label(t, col->labels[i], strlen(col->labels[i])))
				return false;
		return true;
	}
	const struct pg_name *m = NULL;
	bool interval = !strncmp(tx.name, "interval", 8) && (!tx.name[8] || tx.name[8] == ' ');
	for (size_t i = 0; tx.name[0] && i < sizeof pg_names / sizeof pg_names[0]; i++)
		if (!strcmp(tx.name, pg_names[i].name))
			m = &pg_names[i];
	if ((!m && !interval) || tx.nparams < 0) {
		t->kind = SQL_OTHER;
		size_t n = tx.base_len < sizeof t->name ? tx.base_len : 0;
		memcpy(t->name, tx.trimmed, n);
		t->name[n] = '\0';
		return true;
	}
	long p0 = tx.nparams >= 1 ? tx.p[0] : -1;
	snprintf(t->name, sizeof t->name, "%s", tx.name);
	if (col && col->collation)
		snprintf(t->collation, sizeof t->collation, "%s", col->collation);
	if (interval) {
		t->kind = SQL_INTERVAL;
		t->fsp = tx.nparams == 1 ? (int)p0 : 6;
		snprintf(t->fields, sizeof t->fields, "%.*s", (int)sizeof t->fields - 1,
			 tx.name[8] ? tx.name + 9 : "");
		return true;
	}
	t->kind = m->kind;
	t->bytes = m->bytes;
	switch (m->kind) {
	case SQL_DECIMAL:
		/* numeric(p) has no decimal places; numeric alone is unconstrained */
		t->precision = tx.nparams >= 1 ? (int)p0 : -1;
		t->scale = tx.nparams == 2 ? (int)tx.p[1] : 0;
		break;
	case SQL_DATETIME:
	case SQL_TIMESTAMPTZ:
	case SQL_TIME:
		/* without (n): microseconds */
		t->fsp = tx.nparams == 1 ? (int)p0 : 6;
		if (m->kind == SQL_DATETIME && tx.tz > 0)
			t->kind = SQL_TIMESTAMPTZ;
		t->with_tz = m->kind == SQL_TIME && (tx.tz > 0 || !strcmp(m->name, "timetz"));
		break;
	case SQL_TEXT:
		text_type(t, m->name, p0);
		break;
	case SQL_BIT:
		t->fixed = !strcmp(m->name, "bit");
		t->length = p0 > 0 ? p0 : t->fixed ? 1 : -1;
		break;
	case SQL_JSON:
		t->json_text = !strcmp(m->name, "json");
		break;
	default:
		break;
	}
	return true;
}

/* ---- naming ---- */

/* A string type. MySQL's char hands its values back without their trailing
 * spaces: a varchar keeps them so, where character(n) would pad them. */
static bool name_text(const struct sql_type *t, struct type_naming *n)
{
	if (t->case_insensitive)
		return type_naming_set(n, "citext");
	if (t->padded)
		return t->length > 0 ? type_naming_set(n, "character(%ld)", t->length)
				     : type_naming_set(n, "bpchar");
	if (t->lob || t->length <= 0)
		return type_naming_set(n, "text");
	if (t->fixed)
		type_naming_note(n, "char(%ld) as varchar(%ld): values keep no padding", t->length,
				 t->length);
	return type_naming_set(n, "varchar(%ld)", t->length);
}

/* An integer: PostgreSQL's are signed, so an unsigned one takes the next
 * size up. */
static bool name_int(const struct sql_type *t, const struct type_use *use, struct type_naming *n)
{
	bool u = t->is_unsigned && !t->year;
	switch (t->bytes) {
	case 1:
		return type_naming_set(n, "smallint");
	case 2:
		return type_naming_set(n, u ? "integer" : "smallint");
	case 3:
		return type_naming_set(n, "integer");
	case 8:
		if (!u)
			return type_naming_set(n, "bigint");
		/* an identity needs an integer type; ids past 2^63 are not worth
		 * losing the identity for */
		if (!use->identity)
			return type_naming_set(n, "numeric(20)");
		type_naming_note(n, "bigint unsigned AUTO_INCREMENT as bigint: ids above "
				    "9223372036854775807 are rejected");
		return type_naming_set(n, "bigint");
	default:
		return type_naming_set(n, u ? "bigint" : "integer");
	}
}

/* The type of t's kind, without its array dimensions. */
static bool name_scalar(const struct sql_type *t, const struct type_use *use, struct type_naming *n)
{
	bool own = t->origin == &pg_dialect;
	switch (t->kind) {
	case SQL_BOOL:
		if (t->bool_form == SQL_BOOL_TINYINT)
			type_naming_note(
				n, "tinyint(1) as boolean: values other than 0 and 1 are rejected");
		return type_naming_set(n, "boolean");
	case SQL_INT:
		return name_int(t, use, n);
	case SQL_DECIMAL:
		if (t->precision < 0)
			return type_naming_set(n, "numeric");
		return type_naming_set(n, "numeric(%d,%d)", t->precision > 0 ? t->precision : 10,
				       t->scale);
	case SQL_FLOAT:
		return type_naming_set(n, t->bytes == 4 ? "real" : "double precision");
	case SQL_DATE:
		return type_naming_set(n, "date");
	case SQL_DATETIME:
		return type_naming_set(n, "timestamp(%d) without time zone", t->fsp);
	case SQL_TIMESTAMPTZ:
		return type_naming_set(n, "timestamp(%d) with time zone", t->fsp);
	case SQL_TIME:
		if (t->span) {
			type_naming_note(n, "time as interval: MySQL times span -838..838 hours, "
					    "beyond PostgreSQL's time");
			return type_naming_set(n, "interval(%d)", t->fsp);
		}
		return type_naming_set(n, "time(%d) with%s time zone", t->fsp,
				       t->with_tz ? "" : "out");
	case SQL_INTERVAL:
		return t->fields[0] ? type_naming_set(n, "interval %s(%d)", t->fields, t->fsp)
				    : type_naming_set(n, "interval(%d)", t->fsp);
	case SQL_TEXT:
		return name_text(t, n);
	case SQL_BINARY:
		return type_naming_set(n, "bytea");
	case SQL_BIT:
		if (!t->fixed)
			return t->length > 0 ? type_naming_set(n, "bit varying(%ld)", t->length)
					     : type_naming_set(n, "bit varying");
		return type_naming_set(n, "bit(%ld)", t->length > 0 ? t->length : 1);
	case SQL_JSON:
		return type_naming_set(n, t->json_text ? "json" : "jsonb");
	case SQL_UUID:
		return type_naming_set(n, "uuid");
	case SQL_ENUM:
		if (t->udt[0]) {
			/* the type sluice creates on the target, in the target's schema */
			struct buf b;
			buf_init(&b, sizeof n->text - 1);
			bool ok = pg_dialect.quote_ident(&b, t->udt) &&
				  type_naming_set(n, "%s", b.data);
			buf_free(&b);
			return ok;
		}
		/* the labels are a CHECK (typemap) */
		return type_naming_set(n, "text");
	case SQL_SET:
		type_naming_note(n, "%s as text: its members are not enforced", use->what);
		return type_naming_set(n, "text");
	case SQL_NETADDR:
		return type_naming_set(n, "%s", own ? t->name : "inet");
	case SQL_SPATIAL:
		type_naming_lose(n, "%s as bytea (MySQL's SRID and WKB bytes): no spatial type",
				 t->name);
		return type_naming_set(n, "bytea");
	case SQL_MONEY:
		return type_naming_set(n, "money");
	case SQL_OTHER:
		if (own && t->name[0])
			return type_naming_set(n, "%s", t->name);
		break;
	}
	type_naming_note(n, "%s: unknown type, copied as text", use->what);
	return type_naming_set(n, "text");
}

bool pg_type_name(const struct sql_type *t, const struct type_use *use, struct type_naming *n)
{
	bool ok = name_scalar(t, use, n);
	for (int i = 0; ok && i < t->array; i++)
		ok = strlen(n->text) + 2 < sizeof n->text && strcat(n->text, "[]");
	if (ok && t->zerofill)
		type_naming_note(n, "zerofill padding not kept");
	return ok;
}

/* ---- value conversion, by a column's text ---- */

int convert_exact_rule_for_pg(const char *column_type)
{
	struct sql_type t;
	int rule = CONVERT_EXACT_ANY;
	if (!column_type)
		return rule;
	if (pg_type_classify(column_type, NULL, &t))
		rule = convert_exact_pg(&t);
	sql_type_free(&t);
	return rule;
}
