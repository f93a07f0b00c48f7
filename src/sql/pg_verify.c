/* src/sql/pg_verify.c
 * PostgreSQL's side of sluice verify (canon.h): a column's value as
 * canonical text, from PostgreSQL's own functions and output text, and
 * the count and checksum of a table's rows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/sql.h"

/* What a column's expression depends on, of its type: the forms treat
 * these apart, any other type alike. */
enum pg_canon_kind {
	PGC_OTHER, /* through its output function, as copy reads it */
	PGC_BOOL,
	PGC_DEC,
	PGC_DATE,
	PGC_TSTZ,
	PGC_INTERVAL,
	PGC_BYTES,
	PGC_TEXT, /* a character type, and what reads as one: ::text is its text */
};

/* PostgreSQL's own types the model leaves SQL_OTHER whose values read as
 * integers or text: oid; name, "char". */
enum sql_kind pg_compare_as(const struct sql_type *t)
{
	if (!strcmp(t->name, "oid"))
		return SQL_INT;
	if (!strcmp(t->name, "name") || !strcmp(t->name, "\"char\""))
		return SQL_TEXT;
	return SQL_OTHER;
}

/* Which of the kinds above t is. */
static enum pg_canon_kind pg_canon_kind(const struct sql_type *t)
{
	if (t->array)
		return PGC_OTHER;
	switch (t->kind) {
	case SQL_BOOL:
		return PGC_BOOL;
	case SQL_DECIMAL:
		return PGC_DEC;
	case SQL_DATE:
		return PGC_DATE;
	case SQL_TIMESTAMPTZ:
		return PGC_TSTZ;
	case SQL_INTERVAL:
		return PGC_INTERVAL;
	case SQL_BINARY:
		return PGC_BYTES;
	case SQL_TEXT:
		/* a bpchar without a length keeps the trailing spaces ::text
		 * would cut: through its output function, as other types */
		return t->padded && t->length < 0 ? PGC_OTHER : PGC_TEXT;
	case SQL_ENUM:
	case SQL_SET:
		return PGC_TEXT;
	case SQL_OTHER:
		return pg_compare_as(t) == SQL_TEXT ? PGC_TEXT : PGC_OTHER;
	default:
		/* inet::text would add a /32: through the output function */
		return PGC_OTHER;
	}
}

/* The canonical text of a float: the IEEE 754 bit pattern of its value
 * in lower-case hex, 16 digits for a double (bits 53), 8 for a float (24),
 * a double rounded to the nearest float (ties to even, as a cast rounds);
 * zero without its sign. A number is only equal to itself this way: a
 * changed last bit is a different text. */

/* PostgreSQL: the pattern of v, a float8 expression, from float8send or
 * float4send. A double the cast to real would refuse (beyond the float
 * range, or so small it rounds to zero) gets the pattern the rounding
 * gives: infinity or zero. */
static bool pg_float_bits(struct buf *b, const char *v, int bits)
{
	/* a NaN has many patterns ('NaN' is 7ff8..., inf - inf fff8...) and
	 * PostgreSQL counts them all equal */
	if (bits == 53)
		return buf_printf(b,
				  "CASE WHEN %1$s = 0 THEN '0000000000000000' "
				  "WHEN %1$s = 'NaN'::float8 THEN 'NaN' "
				  "ELSE encode(float8send(%1$s), 'hex') END",
				  v);
	/* 2^128 - 2^103 rounds up to infinity; 2^-150 down to zero */
	return buf_printf(
		b,
		"CASE WHEN %1$s = 0 THEN '00000000' WHEN %1$s = 'NaN'::float8 THEN 'NaN' "
		"WHEN %1$s >= 340282356779733661637539395458142568448::float8 THEN "
		"'7f800000' WHEN %1$s <= -340282356779733661637539395458142568448::float8 THEN 'ff800000' "
		"WHEN abs(%1$s) <= power(2::float8, -150) THEN '00000000' "
		"ELSE encode(float4send(%1$s::real), 'hex') END",
		v);
}

static bool wrap(char *v, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Format the expression fmt (around a quoted name) into v; false when it
 * does not fit. */
static bool wrap(char *v, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(v, n, fmt, ap);
	va_end(ap);
	return w >= 0 && (size_t)w < n;
}

/* PostgreSQL: interval q by its fields, as PostgreSQL keeps it: months,
 * days and a time, so '1 mon' is not '30 days' nor '1 day' '24:00:00'
 * (interval equality and the epoch count a month as 30 days). The time
 * (the hours are not folded into days) in units of 10^-prec seconds,
 * truncated; alone when months and days are 0, as a MySQL time reads. */
static bool pg_interval(struct buf *b, const char *q, int prec)
{
	char t[1024];
	if (!wrap(t, sizeof t,
		  "round(EXTRACT(HOUR FROM %1$s) * 3600000000 + EXTRACT(MINUTE FROM %1$s) * "
		  "60000000 + EXTRACT(MICROSECONDS FROM %1$s))::bigint",
		  q))
		return false;
	if (prec < 6 &&
	    !wrap(t + strlen(t), sizeof t - strlen(t), " / %d", canon_micros_per_unit(prec)))
		return false;
	return buf_printf(
		b,
		"CASE WHEN EXTRACT(YEAR FROM %1$s) = 0 AND EXTRACT(MONTH FROM %1$s) = 0 "
		"AND EXTRACT(DAY FROM %1$s) = 0 THEN (%2$s)::text "
		"ELSE (EXTRACT(YEAR FROM %1$s) * 12 + EXTRACT(MONTH FROM %1$s))::bigint::text "
		"|| ' mons ' || EXTRACT(DAY FROM %1$s)::bigint::text || ' days ' || "
		"(%2$s)::text END",
		q, t);
}

bool pg_canon_value(struct buf *b, const char *q, const struct sql_type *t,
		    const struct canon_spec *how)
{
	enum pg_canon_kind c = pg_canon_kind(t);
	char v[1024];
	switch (how->form) {
	case CANON_NUM:
		if (c == PGC_BOOL)
			return buf_printf(b, "%s::int::text", q);
		if (c == PGC_DEC)
			return buf_printf(b,
					  "CASE WHEN strpos(%1$s::text, '.') > 0 THEN "
					  "rtrim(rtrim(%1$s::text, '0'), '.') ELSE %1$s::text END",
					  q);
		return buf_printf(b, "%s::text", q);
	case CANON_FLOAT:
		return wrap(v, sizeof v, "%s::float8", q) && pg_float_bits(b, v, how->bits);
	case CANON_DATE:
		return buf_printf(b,
				  "CASE WHEN isfinite(%1$s) AND %1$s >= '0001-01-01' THEN "
				  "to_char(%1$s, 'YYYY-MM-DD') ELSE %1$s::text END",
				  q);
	case CANON_TS:
		if (!wrap(v, sizeof v,
			  c == PGC_TSTZ	  ? "(%s AT TIME ZONE 'UTC')"
			  : c == PGC_DATE ? "%s::timestamp"
					  : "%s",
			  q))
			return false;
		/* to_char gives nothing for infinity and no era for BC years */
		if (!buf_printf(b,
				"CASE WHEN isfinite(%1$s) AND %1$s >= '0001-01-01' THEN "
				"to_char(%1$s, 'YYYY-MM-DD HH24:MI:SS')",
				v))
			return false;
		if (how->prec > 0 &&
		    !buf_printf(b, " || '.' || left(to_char(%s, 'US'), %d)", v, how->prec))
			return false;
		return buf_printf(b, " ELSE %s::text END", v);
	case CANON_TIME:
		if (c == PGC_INTERVAL)
			return pg_interval(b, q, how->prec);
		/* EXTRACT is exact numeric since PostgreSQL 14, a float8 before: the
		 * round makes either an exact number of microseconds */
		if (how->prec >= 6)
			return buf_printf(
				b, "round(EXTRACT(EPOCH FROM %s) * 1000000)::bigint::text", q);
		return buf_printf(b, "(round(EXTRACT(EPOCH FROM %s) * 1000000)::bigint / %d)::text",
				  q, canon_micros_per_unit(how->prec));
	case CANON_HASH:
		if (c == PGC_BYTES)
			return buf_printf(b, "md5(%s)", q);
		/* the UTF-8 bytes whatever the database's encoding; character
		 * types through ::text (char(n) without its padding, as MySQL
		 * reads it), any other type through its output function, as copy
		 * reads it (inet::text would add a /32, boolean::text spell out
		 * true) */
		if (c == PGC_TEXT)
			return buf_printf(b,
					  how->lower ? "md5(convert_to(lower(%s::text), 'UTF8'))"
						     : "md5(convert_to(%s::text, 'UTF8'))",
					  q);
		return buf_printf(
			b,
			how->lower ? "CASE WHEN %1$s IS NULL THEN NULL ELSE "
				     "md5(convert_to(lower(format('%%s', %1$s)), 'UTF8')) END"
				   : "CASE WHEN %1$s IS NULL THEN NULL ELSE "
				     "md5(convert_to(format('%%s', %1$s), 'UTF8')) END",
			q);
	case CANON_JSON_NORM:
		return buf_printf(b, "md5(convert_to(%s::jsonb::text, 'UTF8'))", q);
	case CANON_NULLNESS:
		return buf_printf(b, "CASE WHEN %s IS NULL THEN NULL ELSE '' END", q);
	}
	return false;
}

bool pg_checksum_query(struct buf *b, const struct write_spec *spec, const char *const *values,
		       int n)
{
	bool ok = buf_puts(b, "SELECT count(*)::text, COALESCE(sum(('x' || substr(md5(");
	/* each value: its length, ':', its text (all ASCII); NULL: N */
	for (int i = 0; ok && i < n; i++)
		ok = buf_printf(b, "%sCOALESCE(length(c%d) || ':' || c%d, 'N')", i ? " || " : "", i,
				i);
	if (n == 0)
		ok = ok && buf_puts(b, "''");
	return ok && buf_puts(b, "), 1, 15))::bit(60)::bigint), 0)::text FROM (") &&
	       sql_select_values(&pg_dialect, b, spec, values, n) && buf_puts(b, ") s");
}
