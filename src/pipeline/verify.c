/* src/pipeline/verify.c
 * sluice verify: the same tables on two servers compared by row count and an
 * order-independent checksum. Each server computes both in one query: every
 * value is normalized to one canonical text (see enum form), a row's texts
 * are length-prefixed and joined, and the first 60 bits of their md5 are
 * summed as an exact decimal, so row order does not matter and a duplicated
 * row cannot cancel another out.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/url.h"
#include "sluice/verify.h"

/* ---------------------------------------------------------------------------
 * Column types, as far as their canonical text goes
 */

enum kind {
	K_INT,	  /* any integer; MySQL year, tinyint(1) */
	K_BOOL,	  /* PostgreSQL boolean */
	K_DEC,	  /* numeric, decimal */
	K_FLOAT4, /* real, MySQL float */
	K_FLOAT8, /* double */
	K_DATE,
	K_TS,	 /* timestamp without time zone, MySQL datetime */
	K_TSTZ,	 /* timestamp with time zone, MySQL timestamp (driver sessions are UTC) */
	K_TIME,	 /* PostgreSQL time and interval, MySQL time */
	K_BITS,	 /* bit(n), PostgreSQL bit varying */
	K_BYTES, /* bytea, MySQL binary, varbinary, blobs, spatial types */
	K_TEXT,	 /* character types, MySQL enum and set */
	K_UUID,
	K_JSON, /* PostgreSQL json (kept as written), MySQL 8 json (reformatted) */
	K_JSONB,
	K_OTHER, /* anything else: compared by its text */
};

struct coltype {
	enum kind kind;
	int prec; /* K_TS, K_TSTZ, K_TIME: fractional digits of seconds */
	int bits; /* K_BITS: the width, 0 for bit varying */
};

/* The number in the first "(n" of t, or dflt when there is none; at most
 * max. */
static int paren_num(const char *t, int dflt, int max)
{
	const char *p = strchr(t, '(');
	if (!p || p[1] < '0' || p[1] > '9')
		return dflt;
	long n = strtol(p + 1, NULL, 10);
	return n > max ? max : (int)n;
}

/* Whether s begins with prefix. */
static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* A PostgreSQL type as format_type() spells it ("timestamp(3) with time
 * zone", "character varying(20)", "integer[]"). */
static struct coltype pg_coltype(const char *t)
{
	struct coltype c = {.kind = K_OTHER};
	size_t n = strlen(t);
	if (n >= 2 && !strcmp(t + n - 2, "[]"))
		return c;
	if (!strcmp(t, "smallint") || !strcmp(t, "integer") || !strcmp(t, "bigint") ||
	    !strcmp(t, "oid"))
		c.kind = K_INT;
	else if (!strcmp(t, "boolean"))
		c.kind = K_BOOL;
	else if (starts(t, "numeric"))
		c.kind = K_DEC;
	else if (!strcmp(t, "real"))
		c.kind = K_FLOAT4;
	else if (!strcmp(t, "double precision"))
		c.kind = K_FLOAT8;
	else if (!strcmp(t, "date"))
		c.kind = K_DATE;
	else if (starts(t, "timestamp")) {
		c.kind = strstr(t, "with time zone") ? K_TSTZ : K_TS;
		c.prec = paren_num(t, 6, 6);
	} else if (starts(t, "time") && !strstr(t, "with time zone")) {
		c.kind = K_TIME;
		c.prec = paren_num(t, 6, 6);
	} else if (starts(t, "interval")) {
		c.kind = K_TIME;
		c.prec = paren_num(t, 6, 6);
	} else if (!strcmp(t, "bytea"))
		c.kind = K_BYTES;
	else if (starts(t, "bit varying"))
		c.kind = K_BITS;
	else if (!strcmp(t, "bit") || starts(t, "bit(")) {
		c.kind = K_BITS;
		c.bits = paren_num(t, 1, 1 << 24);
	} else if (!strcmp(t, "text") || starts(t, "character") || !strcmp(t, "\"char\"") ||
		   !strcmp(t, "name") || !strcmp(t, "citext"))
		c.kind = K_TEXT;
	else if (!strcmp(t, "uuid"))
		c.kind = K_UUID;
	else if (!strcmp(t, "json"))
		c.kind = K_JSON;
	else if (!strcmp(t, "jsonb"))
		c.kind = K_JSONB;
	return c;
}

/* Whether the n-byte word w is one of the space-separated words in list. */
static bool word_in(const char *w, size_t n, const char *list)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncmp(p, w, n))
			return true;
		p += len;
		p += *p == ' ';
	}
	return false;
}

/* A MySQL type as information_schema.COLUMNS.COLUMN_TYPE spells it, lower
 * case ("int(10) unsigned", "datetime(6)", "enum('a','b')"). */
static struct coltype my_coltype(const char *t)
{
	struct coltype c = {.kind = K_OTHER};
	size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (word_in(t, n, "tinyint smallint mediumint int integer bigint year"))
		c.kind = K_INT;
	else if (word_in(t, n, "decimal numeric fixed"))
		c.kind = K_DEC;
	else if (word_in(t, n, "float"))
		c.kind = K_FLOAT4;
	else if (word_in(t, n, "double real"))
		c.kind = K_FLOAT8;
	else if (word_in(t, n, "date"))
		c.kind = K_DATE;
	else if (word_in(t, n, "datetime timestamp time")) {
		c.kind = word_in(t, n, "datetime")    ? K_TS
			 : word_in(t, n, "timestamp") ? K_TSTZ
						      : K_TIME;
		c.prec = paren_num(t, 0, 6);
	} else if (word_in(t, n, "bit")) {
		c.kind = K_BITS;
		c.bits = paren_num(t, 1, 1 << 24);
	} else if (word_in(t, n,
			   "binary varbinary tinyblob blob mediumblob longblob geometry point "
			   "linestring polygon multipoint multilinestring multipolygon "
			   "geometrycollection"))
		c.kind = K_BYTES;
	else if (word_in(t, n,
			 "char varchar tinytext text mediumtext longtext enum set inet4 inet6"))
		c.kind = K_TEXT;
	else if (word_in(t, n, "uuid"))
		c.kind = K_UUID;
	else if (word_in(t, n, "json"))
		c.kind = K_JSON;
	return c;
}

/* Whether d is PostgreSQL's dialect (else MySQL's): the one place verify
 * tells the servers apart. */
static bool is_pg(const struct dialect *d)
{
	return d == &pg_dialect;
}

/* The type of a column described on a server of dialect d. */
static struct coltype coltype_of(const struct dialect *d, const char *type)
{
	return is_pg(d) ? pg_coltype(type ? type : "") : my_coltype(type ? type : "");
}

/* ---------------------------------------------------------------------------
 * Canonical forms: one per column, chosen from the types on both sides
 */

enum form {
	F_NUM,	    /* integers as decimal text, booleans 0/1, bits as binary digits
		     * (so bit(1) = boolean), decimals without trailing zeros (1.5 =
		     * 1.500) */
	F_FLOAT,    /* rounded to digits significant digits, "<mantissa>e<exponent>" */
	F_DATE,	    /* YYYY-MM-DD */
	F_TS,	    /* YYYY-MM-DD HH:MM:SS[.f] in UTC, prec fraction digits, truncated */
	F_TIME,	    /* the signed number of 10^-prec seconds, truncated */
	F_HASH,	    /* md5 of the value's bytes: text as UTF-8, bytes as they are */
	F_JSONB,    /* PostgreSQL on both sides, json and jsonb: md5 of the jsonb text */
	F_NULLNESS, /* only whether it is NULL: json across servers */
};

/* How one column is compared; the same whichever side asks. */
struct plan {
	enum form form;
	int prec;     /* F_TS, F_TIME */
	int digits;   /* F_FLOAT */
	bool lower;   /* F_HASH: lower-case the text (one side is a uuid) */
	bool as_text; /* the types do not correspond: both compared as their text */
};

/* Exact numbers, and what reads as one: booleans 0/1, bits. */
static bool numeric_kind(enum kind k)
{
	return k == K_INT || k == K_BOOL || k == K_DEC || k == K_BITS;
}

/* Binary floating point. */
static bool float_kind(enum kind k)
{
	return k == K_FLOAT4 || k == K_FLOAT8;
}

/* A number that converts to a double on both servers. */
static bool to_float_kind(enum kind k)
{
	return k == K_INT || k == K_DEC || float_kind(k);
}

/* A point in time: dates and timestamps. */
static bool temporal_kind(enum kind k)
{
	return k == K_DATE || k == K_TS || k == K_TSTZ;
}

/* JSON in any of its types. */
static bool json_kind(enum kind k)
{
	return k == K_JSON || k == K_JSONB;
}

/* Values compared by the md5 of their bytes (text, bytes, anything else). */
static bool hashed_kind(enum kind k)
{
	return k == K_TEXT || k == K_BYTES || k == K_UUID || k == K_OTHER || json_kind(k);
}

/* The smaller of a and b. */
static int min_int(int a, int b)
{
	return a < b ? a : b;
}

/* The plan for a column of type a (on PostgreSQL when a_pg) whose
 * counterpart is b: symmetric in (a, b), so both queries agree. */
static struct plan plan_for(struct coltype a, bool a_pg, struct coltype b, bool b_pg)
{
	struct plan p = {.form = F_HASH};
	if (to_float_kind(a.kind) && to_float_kind(b.kind) &&
	    (float_kind(a.kind) || float_kind(b.kind))) {
		/* a float copied through text keeps about FLT_DIG / DBL_DIG digits */
		p.form = F_FLOAT;
		p.digits = a.kind == K_FLOAT4 || b.kind == K_FLOAT4 ? 6 : 15;
	} else if (numeric_kind(a.kind) && numeric_kind(b.kind)) {
		p.form = F_NUM;
	} else if (a.kind == K_DATE && b.kind == K_DATE) {
		p.form = F_DATE;
	} else if (temporal_kind(a.kind) && temporal_kind(b.kind)) {
		p.form = F_TS;
		p.prec = min_int(a.kind == K_DATE ? 0 : a.prec, b.kind == K_DATE ? 0 : b.prec);
	} else if (a.kind == K_TIME && b.kind == K_TIME) {
		p.form = F_TIME;
		p.prec = min_int(a.prec, b.prec);
	} else if ((json_kind(a.kind) || json_kind(b.kind)) && a_pg != b_pg) {
		/* No canonical JSON text both servers produce: jsonb sorts keys its
		 * own way and rewrites numbers, MySQL 8 reformats, MariaDB keeps the
		 * text. PostgreSQL json keeps the text too, so json against a
		 * MariaDB json (longtext) column compares as text. */
		struct coltype pg = a_pg ? a : b, my = a_pg ? b : a;
		p.form = pg.kind == K_JSON && my.kind == K_TEXT ? F_HASH : F_NULLNESS;
	} else if (hashed_kind(a.kind) && hashed_kind(b.kind)) {
		if (a_pg && b_pg && json_kind(a.kind) && json_kind(b.kind) &&
		    (a.kind == K_JSONB || b.kind == K_JSONB))
			p.form = F_JSONB;
		p.lower = a.kind == K_UUID || b.kind == K_UUID;
	} else {
		p.as_text = true;
	}
	return p;
}

/* PostgreSQL: v (a float8 expression) rounded to digits significant
 * digits as "<mantissa>e<exponent>": e = floor(log(|v|)), k = digits-1-e,
 * mantissa = round(v * 10^k) with 10^k taken in two factors so that
 * neither overflows at the ends of the double range. MySQL runs the same
 * IEEE arithmetic (pow, rint) on the same doubles. */
static bool pg_float(struct buf *b, const char *v, int digits)
{
	return buf_printf(b,
			  "CASE WHEN %1$s = 0 THEN '0' "
			  "WHEN %1$s IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) "
			  "THEN %1$s::text "
			  "ELSE round((%1$s * power(10::float8, "
			  "floor((%2$d - floor(log(abs(%1$s)))) / 2))) * power(10::float8, "
			  "(%2$d - floor(log(abs(%1$s)))) - "
			  "floor((%2$d - floor(log(abs(%1$s)))) / 2)))::bigint::text "
			  "|| 'e' || floor(log(abs(%1$s)))::bigint::text END",
			  v, digits - 1);
}

/* MySQL: the same as pg_float, with MySQL's names (MySQL cannot hold NaN or
 * infinities). */
static bool my_float(struct buf *b, const char *v, int digits)
{
	return buf_printf(b,
			  "CASE WHEN %1$s = 0 THEN '0' "
			  "ELSE CONCAT(CAST(ROUND((%1$s * POW(10, "
			  "FLOOR((%2$d - FLOOR(LOG10(ABS(%1$s)))) / 2))) * POW(10, "
			  "(%2$d - FLOOR(LOG10(ABS(%1$s)))) - "
			  "FLOOR((%2$d - FLOOR(LOG10(ABS(%1$s)))) / 2))) AS SIGNED), "
			  "'e', FLOOR(LOG10(ABS(%1$s)))) END",
			  v, digits - 1);
}

/* 10^(6 - prec): microseconds in one unit of a time with prec fraction
 * digits. */
static int micros_per_unit(int prec)
{
	int n = 1;
	for (int i = prec; i < 6; i++)
		n *= 10;
	return n;
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

/* Append the PostgreSQL expression for column q (quoted) of type c under
 * plan p: canonical text, or NULL for NULL. */
static bool pg_canon(struct buf *b, const char *q, struct coltype c, struct plan p)
{
	char v[1024];
	switch (p.form) {
	case F_NUM:
		if (c.kind == K_BOOL)
			return buf_printf(b, "%s::int::text", q);
		if (c.kind == K_DEC)
			return buf_printf(b,
					  "CASE WHEN strpos(%1$s::text, '.') > 0 THEN "
					  "rtrim(rtrim(%1$s::text, '0'), '.') ELSE %1$s::text END",
					  q);
		return buf_printf(b, "%s::text", q);
	case F_FLOAT:
		return wrap(v, sizeof v, "%s::float8", q) && pg_float(b, v, p.digits);
	case F_DATE:
		return buf_printf(b,
				  "CASE WHEN isfinite(%1$s) AND %1$s >= '0001-01-01' THEN "
				  "to_char(%1$s, 'YYYY-MM-DD') ELSE %1$s::text END",
				  q);
	case F_TS:
		if (!wrap(v, sizeof v,
			  c.kind == K_TSTZ   ? "(%s AT TIME ZONE 'UTC')"
			  : c.kind == K_DATE ? "%s::timestamp"
					     : "%s",
			  q))
			return false;
		/* to_char gives nothing for infinity and no era for BC years */
		if (!buf_printf(b,
				"CASE WHEN isfinite(%1$s) AND %1$s >= '0001-01-01' THEN "
				"to_char(%1$s, 'YYYY-MM-DD HH24:MI:SS')",
				v))
			return false;
		if (p.prec > 0 &&
		    !buf_printf(b, " || '.' || left(to_char(%s, 'US'), %d)", v, p.prec))
			return false;
		return buf_printf(b, " ELSE %s::text END", v);
	case F_TIME:
		/* EXTRACT is exact numeric since PostgreSQL 14, a float8 before: the
		 * round makes either an exact number of microseconds */
		if (p.prec >= 6)
			return buf_printf(
				b, "round(EXTRACT(EPOCH FROM %s) * 1000000)::bigint::text", q);
		return buf_printf(b, "(round(EXTRACT(EPOCH FROM %s) * 1000000)::bigint / %d)::text",
				  q, micros_per_unit(p.prec));
	case F_HASH:
		if (c.kind == K_BYTES)
			return buf_printf(b, "md5(%s)", q);
		/* the UTF-8 bytes whatever the database's encoding; character
		 * types through ::text (char(n) without its padding, as MySQL
		 * reads it), any other type through its output function, as copy
		 * reads it (inet::text would add a /32, boolean::text spell out
		 * true) */
		if (c.kind == K_TEXT)
			return buf_printf(b,
					  p.lower ? "md5(convert_to(lower(%s::text), 'UTF8'))"
						  : "md5(convert_to(%s::text, 'UTF8'))",
					  q);
		return buf_printf(
			b,
			p.lower ? "CASE WHEN %1$s IS NULL THEN NULL ELSE "
				  "md5(convert_to(lower(format('%%s', %1$s)), 'UTF8')) END"
				: "CASE WHEN %1$s IS NULL THEN NULL ELSE "
				  "md5(convert_to(format('%%s', %1$s), 'UTF8')) END",
			q);
	case F_JSONB:
		return buf_printf(b, "md5(convert_to(%s::jsonb::text, 'UTF8'))", q);
	case F_NULLNESS:
		return buf_printf(b, "CASE WHEN %s IS NULL THEN NULL ELSE '' END", q);
	}
	return false;
}

/* Append the MySQL expression for column q of type c under plan p. With
 * zero_null (always, since copy writes MySQL's zero dates as NULL whatever
 * the target) a zero date or a date with a zero month or day is NULL. */
static bool my_canon(struct buf *b, const char *q, struct coltype c, struct plan p, bool zero_null)
{
	char v[1024];
	bool ok;
	switch (p.form) {
	case F_NUM:
		if (c.kind == K_BITS)
			return buf_printf(b, "LPAD(BIN(%s + 0), %d, '0')", q, c.bits);
		/* + 0: a number without ZEROFILL's padding, a year as 0 not 0000 */
		if (c.kind == K_DEC)
			return buf_printf(
				b,
				"CASE WHEN LOCATE('.', CAST(%1$s + 0 AS CHAR)) > 0 THEN "
				"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST(%1$s + 0 AS "
				"CHAR))) ELSE CAST(%1$s + 0 AS CHAR) END",
				q);
		return buf_printf(b, "CAST(%s + 0 AS CHAR)", q);
	case F_FLOAT:
		return wrap(v, sizeof v, float_kind(c.kind) ? "%s" : "(%s + 0e0)", q) &&
		       my_float(b, v, p.digits);
	case F_DATE:
	case F_TS:
		ok = !zero_null ||
		     buf_printf(b,
				"CASE WHEN MONTH(%1$s) = 0 OR DAYOFMONTH(%1$s) = 0 THEN NULL ELSE ",
				q);
		if (p.form == F_DATE)
			ok = ok && buf_printf(b, "DATE_FORMAT(%s, '%%Y-%%m-%%d')", q);
		else if (p.prec > 0)
			ok = ok &&
			     buf_printf(b,
					"CONCAT(DATE_FORMAT(%1$s, '%%Y-%%m-%%d %%H:%%i:%%s'), '.', "
					"LEFT(DATE_FORMAT(%1$s, '%%f'), %2$d))",
					q, p.prec);
		else
			ok = ok && buf_printf(b, "DATE_FORMAT(%s, '%%Y-%%m-%%d %%H:%%i:%%s')", q);
		return ok && (!zero_null || buf_puts(b, " END"));
	case F_TIME:
		/* HOUR, MINUTE, SECOND and MICROSECOND are of the absolute value;
		 * TIME_TO_SEC keeps the fraction on MariaDB only */
		ok = buf_printf(b,
				"CAST((CAST((HOUR(%1$s) * 3600 + MINUTE(%1$s) * 60 + SECOND(%1$s)) "
				"* 1000000 + MICROSECOND(%1$s) AS SIGNED) "
				"* IF(LEFT(CAST(%1$s AS CHAR), 1) = '-', -1, 1))",
				q);
		if (p.prec < 6)
			ok = ok && buf_printf(b, " DIV %d", micros_per_unit(p.prec));
		return ok && buf_puts(b, " AS CHAR)");
	case F_HASH:
	case F_JSONB:
		if (c.kind == K_BYTES)
			return buf_printf(b, "MD5(%s)", q);
		/* a time against text (copy's interval -> varchar on the way back):
		 * the text of both without a fraction's trailing zeros */
		if (c.kind == K_TIME)
			return buf_printf(b,
					  "MD5(CASE WHEN LOCATE('.', CAST(%1$s AS CHAR)) > 0 THEN "
					  "TRIM(TRAILING "
					  "'.' FROM TRIM(TRAILING '0' FROM CAST(%1$s AS CHAR))) "
					  "ELSE CAST(%1$s AS "
					  "CHAR) END)",
					  q);
		/* MD5 hashes the bytes of the string's character set: UTF-8 */
		return buf_printf(b,
				  p.lower ? "MD5(LOWER(CONVERT(%s USING utf8mb4)))"
					  : "MD5(CONVERT(%s USING utf8mb4))",
				  q);
	case F_NULLNESS:
		return buf_printf(b, "CASE WHEN %s IS NULL THEN NULL ELSE '' END", q);
	}
	return false;
}

/* Append ", name" (or "name" first) to the note section *sec of notes,
 * starting it with head when it is empty. */
static void note_add(struct buf *sec, const char *head, const char *name)
{
	if (sec->len == 0)
		(void)(buf_puts(sec, head) && buf_puts(sec, name));
	else
		(void)(buf_puts(sec, ", ") && buf_puts(sec, name));
}

/* The query (see verify.h): SELECT count, sum over rows of the first 15 hex
 * digits of md5(row text) FROM (SELECT canonical c0, c1, ... FROM t) s. */
bool verify_sql(const struct dialect *d, const struct write_spec *t, const struct table_desc *mine,
		const struct dialect *other_d, const struct table_desc *other, struct buf *out,
		char *note, size_t notesz)
{
	if (note && notesz)
		note[0] = '\0';
	if (mine->ncols != other->ncols)
		return false;
	bool pg = is_pg(d), other_pg = is_pg(other_d);
	/* the note, in sections: json, floats to 6 and to 15 digits, as text */
	struct buf name, secs[4];
	buf_init(&name, 4096);
	for (int i = 0; i < 4; i++)
		buf_init(&secs[i], 4096);
	bool ok = buf_puts(out, "SELECT ");
	ok = ok && buf_puts(out, pg ? "count(*)::text, COALESCE(sum(('x' || substr(md5("
				    : "COUNT(*), CAST(COALESCE(SUM(CAST(CONV(SUBSTR(MD5(CONCAT(");
	/* each value: its length, ':', its text (all ASCII); NULL: N */
	for (int i = 0; ok && i < mine->ncols; i++) {
		if (pg)
			ok = buf_printf(out, "%sCOALESCE(length(c%d) || ':' || c%d, 'N')",
					i ? " || " : "", i, i);
		else
			ok = buf_printf(out, "%sCOALESCE(CONCAT(CHAR_LENGTH(c%d), ':', c%d), 'N')",
					i ? ", " : "", i, i);
	}
	if (mine->ncols == 0)
		ok = ok && buf_puts(out, "''");
	ok = ok &&
	     buf_puts(out,
		      pg ? "), 1, 15))::bit(60)::bigint), 0)::text FROM (SELECT "
			 : ")), 1, 15), 16, 10) AS UNSIGNED)), 0) AS DECIMAL(65,0)) FROM (SELECT ");
	for (int i = 0; ok && i < mine->ncols; i++) {
		const struct column_desc *mc = &mine->cols[i], *oc = &other->cols[i];
		struct coltype a = coltype_of(d, mc->type), b = coltype_of(other_d, oc->type);
		struct plan p = plan_for(a, pg, b, other_pg);
		buf_reset(&name);
		if (!d->quote_ident(&name, mc->name)) {
			ok = false;
			break;
		}
		ok = (i == 0 || buf_puts(out, ", ")) &&
		     (pg ? pg_canon(out, name.data, a, p) : my_canon(out, name.data, a, p, true)) &&
		     buf_printf(out, " AS c%d", i);
		if (p.form == F_NULLNESS)
			note_add(&secs[0],
				 "json compared as NULL or not only (no common canonical form): ",
				 mc->name);
		else if (p.form == F_FLOAT && p.digits == 6)
			note_add(&secs[1], "floats to 6 significant digits: ", mc->name);
		else if (p.form == F_FLOAT)
			note_add(&secs[2], "floats to 15 significant digits: ", mc->name);
		else if (p.as_text)
			note_add(&secs[3], "types differ, compared as text: ", mc->name);
	}
	if (mine->ncols == 0)
		ok = ok && buf_puts(out, "1 AS c0");
	ok = ok && buf_puts(out, " FROM ") && sql_read_table(d, out, t) && buf_puts(out, ") s");
	size_t used = 0;
	for (int i = 0; i < 4; i++) {
		if (note && notesz && secs[i].len && used < notesz) {
			int w = snprintf(note + used, notesz - used, "%s%s", used ? "; " : "",
					 buf_str(&secs[i]));
			used = w < 0 ? notesz : used + (size_t)w;
		}
		buf_free(&secs[i]);
	}
	buf_free(&name);
	return ok;
}

/* ---------------------------------------------------------------------------
 * One table
 */

/* One server's query, run on its own thread so both servers work at once. */
struct side_query {
	const struct driver *drv;
	struct conn *c;
	const char *sql;
	int nvals;
	char *vals[2];
	bool ok;
	struct sl_error err;
};

/* Run q's query (a pthread start routine). */
static void *side_run(void *arg)
{
	struct side_query *q = arg;
	sl_error_clear(&q->err);
	q->ok = q->drv->query_row(q->c, q->sql, q->vals, q->nvals, &q->err);
	return NULL;
}

/* Run the two queries, from's on a thread of its own (or after to's when no
 * thread can be started); false with err naming the server that failed. */
static bool run_both(struct side_query *from, struct side_query *to, struct sl_error *err)
{
	pthread_t th;
	bool threaded = pthread_create(&th, NULL, side_run, from) == 0;
	side_run(to);
	if (threaded)
		pthread_join(th, NULL);
	else
		side_run(from);
	struct side_query *bad = !from->ok ? from : !to->ok ? to : NULL;
	if (!bad)
		return true;
	*err = bad->err;
	return sl_error_prefix(err, "%s %s", bad == from ? "FROM" : "TO", bad->drv->name);
}

/* Free the values a query returned. */
static void side_free(struct side_query *q)
{
	for (int i = 0; i < 2; i++) {
		free(q->vals[i]);
		q->vals[i] = NULL;
	}
}

/* Append SELECT count(*) FROM t to b. */
static bool count_sql(const struct dialect *d, struct buf *b, const struct write_spec *t)
{
	return buf_puts(b, "SELECT count(*) FROM ") && sql_read_table(d, b, t);
}

/* The row counts of the sides where the table exists (the other stays 0). */
static bool count_rows(struct side_query *from, const struct write_spec *t_from, bool in_from,
		       struct side_query *to, const struct write_spec *t_to, bool in_to,
		       struct verify_result *out, struct sl_error *err)
{
	struct buf qf, qt;
	buf_init(&qf, 0);
	buf_init(&qt, 0);
	bool ok = (!in_from || count_sql(from->drv->dialect, &qf, t_from)) &&
		  (!in_to || count_sql(to->drv->dialect, &qt, t_to));
	if (!ok) {
		sl_error_set(err, SL_ERR_USAGE, "bad table name");
	} else if (in_from && in_to) {
		from->sql = qf.data;
		to->sql = qt.data;
		ok = run_both(from, to, err);
	} else if (in_from || in_to) {
		struct side_query *q = in_from ? from : to;
		q->sql = in_from ? qf.data : qt.data;
		side_run(q);
		ok = q->ok;
		if (!ok) {
			*err = q->err;
			sl_error_prefix(err, "%s %s", in_from ? "FROM" : "TO", q->drv->name);
		}
	}
	if (ok && in_from)
		out->rows_from = strtoull(from->vals[0] ? from->vals[0] : "0", NULL, 10);
	if (ok && in_to)
		out->rows_to = strtoull(to->vals[0] ? to->vals[0] : "0", NULL, 10);
	side_free(from);
	side_free(to);
	buf_free(&qf);
	buf_free(&qt);
	return ok;
}

/* Whether two column names are the same (fold: case-insensitively). */
static bool same_name(const char *a, const char *b, bool fold)
{
	return fold ? !strcasecmp(a, b) : !strcmp(a, b);
}

/* Line up to's columns with from's by name, in from's order, into the
 * caller's arrays (of from->ncols entries; the names stay owned by the
 * descriptions). False with a note naming the columns only on one side. */
static bool align_columns(const struct table_desc *from, const struct table_desc *to, bool fold,
			  struct column_desc *a, struct column_desc *b, char *note, size_t notesz)
{
	struct buf only_from, only_to;
	buf_init(&only_from, notesz);
	buf_init(&only_to, notesz);
	for (int i = 0; i < from->ncols; i++) {
		int j = 0;
		while (j < to->ncols && !same_name(from->cols[i].name, to->cols[j].name, fold))
			j++;
		if (j == to->ncols) {
			note_add(&only_from, "", from->cols[i].name);
			continue;
		}
		a[i] = from->cols[i];
		b[i] = to->cols[j];
	}
	for (int j = 0; j < to->ncols; j++) {
		int i = 0;
		while (i < from->ncols && !same_name(from->cols[i].name, to->cols[j].name, fold))
			i++;
		if (i == from->ncols)
			note_add(&only_to, "", to->cols[j].name);
	}
	bool same = only_from.len == 0 && only_to.len == 0;
	if (!same)
		snprintf(note, notesz, "columns differ:%s%s%s%s",
			 only_from.len ? " only on FROM: " : "", buf_str(&only_from),
			 only_to.len ? (only_from.len ? "; only on TO: " : " only on TO: ") : "",
			 buf_str(&only_to));
	buf_free(&only_from);
	buf_free(&only_to);
	return same;
}

/* Checksum both sides of a table whose columns line up (a[i] on from is
 * b[i] on to) and fill out's rows, sums, match and note. */
static bool compare_sums(struct side_query *qf, const struct write_spec *t_from,
			 const struct table_desc *a, struct side_query *qt,
			 const struct write_spec *t_to, const struct table_desc *b,
			 struct verify_result *out, struct sl_error *err)
{
	struct buf sf, st;
	buf_init(&sf, 0);
	buf_init(&st, 0);
	char note_to[sizeof out->note];
	bool ok = verify_sql(qf->drv->dialect, t_from, a, qt->drv->dialect, b, &sf, out->note,
			     sizeof out->note) &&
		  verify_sql(qt->drv->dialect, t_to, b, qf->drv->dialect, a, &st, note_to,
			     sizeof note_to);
	if (!ok) {
		sl_error_set(err, SL_ERR_USAGE, "a table or column name cannot be quoted");
	} else {
		qf->sql = sf.data;
		qt->sql = st.data;
		qf->nvals = qt->nvals = 2;
		ok = run_both(qf, qt, err);
	}
	if (ok) {
		out->rows_from = strtoull(qf->vals[0] ? qf->vals[0] : "0", NULL, 10);
		out->rows_to = strtoull(qt->vals[0] ? qt->vals[0] : "0", NULL, 10);
		snprintf(out->sum_from, sizeof out->sum_from, "%s", qf->vals[1] ? qf->vals[1] : "");
		snprintf(out->sum_to, sizeof out->sum_to, "%s", qt->vals[1] ? qt->vals[1] : "");
		out->match = out->rows_from == out->rows_to && out->sum_from[0] &&
			     !strcmp(out->sum_from, out->sum_to);
	}
	if (ok && !out->match) {
		/* why first; what was compared only in part after */
		char parts[sizeof out->note];
		memcpy(parts, out->note, sizeof parts);
		snprintf(out->note, sizeof out->note, "%s%s%.*s",
			 out->rows_from != out->rows_to ? "row counts differ" : "checksums differ",
			 parts[0] ? "; " : "", (int)sizeof parts - 20, parts);
	}
	side_free(qf);
	side_free(qt);
	buf_free(&sf);
	buf_free(&st);
	return ok;
}

/* Describe the table on both sides, then count (a table missing on a side,
 * columns that differ) or checksum it (see verify.h). */
bool verify_table(const struct driver *drv_from, struct conn *c_from,
		  const struct write_spec *t_from, const struct driver *drv_to, struct conn *c_to,
		  const struct write_spec *t_to, struct verify_result *out, struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	snprintf(out->table, sizeof out->table, "%s", t_from->table);
	if (!drv_from->query_row || !drv_to->query_row)
		return sl_error_set(err, SL_ERR_INTERNAL, "the driver cannot run verify queries");
	struct table_desc df, dt;
	if (!drv_from->describe_table(c_from, t_from, &df, err))
		return sl_error_prefix(err, "verifying %s on FROM", out->table);
	if (!drv_to->describe_table(c_to, t_to, &dt, err)) {
		table_desc_free(&df);
		return sl_error_prefix(err, "verifying %s on TO", out->table);
	}
	out->exists_from = df.exists;
	out->exists_to = dt.exists;
	/* a parent's own rows (ONLY), as copy reads them: the tables inheriting
	 * from it are tables of their own */
	struct write_spec sf = *t_from, st = *t_to;
	sf.own_rows = df.has_children;
	st.own_rows = dt.has_children;
	t_from = &sf;
	t_to = &st;
	struct side_query qf = {.drv = drv_from, .c = c_from, .nvals = 1};
	struct side_query qt = {.drv = drv_to, .c = c_to, .nvals = 1};
	size_t n = df.ncols > 0 ? (size_t)df.ncols : 1;
	struct column_desc *ca = calloc(n, sizeof *ca), *cb = calloc(n, sizeof *cb);
	bool fold = drv_from->dialect->columns_case_insensitive ||
		    drv_to->dialect->columns_case_insensitive;
	bool ok;
	if (!ca || !cb) {
		ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	} else if (!df.exists || !dt.exists) {
		snprintf(out->note, sizeof out->note, "%s",
			 !df.exists && !dt.exists ? "missing on both sides"
			 : !df.exists		  ? "missing on FROM"
						  : "missing on TO");
		ok = count_rows(&qf, t_from, df.exists, &qt, t_to, dt.exists, out, err);
	} else if (!align_columns(&df, &dt, fold, ca, cb, out->note, sizeof out->note)) {
		ok = count_rows(&qf, t_from, true, &qt, t_to, true, out, err);
	} else {
		struct table_desc va = {.exists = true, .ncols = df.ncols, .cols = ca};
		struct table_desc vb = {.exists = true, .ncols = df.ncols, .cols = cb};
		ok = compare_sums(&qf, t_from, &va, &qt, t_to, &vb, out, err);
	}
	free(ca);
	free(cb);
	table_desc_free(&df);
	table_desc_free(&dt);
	return ok || sl_error_prefix(err, "verifying %s", out->table);
}

/* ---------------------------------------------------------------------------
 * sluice verify
 */

#define VERIFY_MAX_ERRORS 16

/* One server of the run. */
struct side {
	const struct driver *drv;
	struct conn *c;
	char url[512]; /* redacted */
};

/* Connect to url; RUN_OK, or how the run ends (the error is logged). */
static enum run_status side_open(const char *url, double timeout, struct side *s)
{
	url_redact(url, s->url, sizeof s->url);
	s->drv = driver_for_url(url);
	if (!s->drv) {
		log_error("%s: not a postgresql:// or mysql:// URL", s->url);
		return RUN_USAGE;
	}
	struct sl_error err;
	sl_error_clear(&err);
	if (!s->drv->connect(url, &(struct conn_options){.timeout = timeout}, &s->c, &err)) {
		log_error("%s", err.msg);
		return err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
	}
	return RUN_OK;
}

/* Each table is read in a read-only snapshot of its own (its description
 * and its checksum agree; no transaction stays open across a long run, and
 * a failed query cannot spoil the next table's). */
static bool side_begin(struct side *s, struct sl_error *err)
{
	return !s->drv->snapshot || s->drv->snapshot(s->c, err) ||
	       sl_error_prefix(err, "%s", s->url);
}

/* End the table's snapshot. */
static void side_end(struct side *s)
{
	struct sl_error ignored;
	sl_error_clear(&ignored);
	/* only reads happened: nothing to keep (a plain ROLLBACK, since the
	 * driver's rollback ends only the transactions its begin started) */
	if (s->drv->snapshot)
		s->drv->exec(s->c, "ROLLBACK", &ignored);
}

/* Close s's connection. */
static void side_close(struct side *s)
{
	if (s->c)
		s->drv->close(s->c);
	s->c = NULL;
}

/* The schema a table is looked up in on side s: PostgreSQL --schema (or the
 * search path), the URL's database on MySQL. */
static const char *default_schema(const struct job *job, const struct side *s)
{
	return is_pg(s->drv->dialect) ? job->schema : NULL;
}

/* Whether --exclude-tables names name. */
static bool excluded(const struct job *job, const char *name)
{
	for (int i = 0; i < job->nexclude; i++)
		if (!strcmp(job->exclude_tables[i], name))
			return true;
	return false;
}

/* Append s as a JSON string. */
static bool json_str(struct buf *b, const char *s)
{
	bool ok = buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; ok && *p; p++) {
		if (*p == '"' || *p == '\\')
			ok = buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			ok = buf_printf(b, "\\u%04x", *p);
		else
			ok = buf_putc(b, (char)*p);
	}
	return ok && buf_putc(b, '"');
}

/* Write the results as one JSON object to path ("-": stdout). */
static bool write_json(const char *path, enum run_status st, const struct verify_result *res,
		       int nres, char *const *errors, int nerrors)
{
	struct buf b;
	buf_init(&b, 0);
	bool ok = buf_printf(&b, "{\"status\": \"%s\", \"tables\": [", run_status_name(st));
	for (int i = 0; ok && i < nres; i++) {
		const struct verify_result *r = &res[i];
		ok = buf_puts(&b, i ? ", {\"table\": " : "{\"table\": ") && json_str(&b, r->table);
		if (r->exists_from)
			ok = ok && buf_printf(&b, ", \"rows_from\": %llu", r->rows_from);
		else
			ok = ok && buf_puts(&b, ", \"rows_from\": null");
		if (r->exists_to)
			ok = ok && buf_printf(&b, ", \"rows_to\": %llu", r->rows_to);
		else
			ok = ok && buf_puts(&b, ", \"rows_to\": null");
		ok = ok && buf_puts(&b, ", \"checksum_from\": ") &&
		     (r->sum_from[0] ? json_str(&b, r->sum_from) : buf_puts(&b, "null")) &&
		     buf_puts(&b, ", \"checksum_to\": ") &&
		     (r->sum_to[0] ? json_str(&b, r->sum_to) : buf_puts(&b, "null")) &&
		     buf_printf(&b, ", \"match\": %s, \"note\": ", r->match ? "true" : "false") &&
		     json_str(&b, r->note) && buf_putc(&b, '}');
	}
	ok = ok && buf_puts(&b, "], \"errors\": [");
	for (int i = 0; ok && i < nerrors; i++)
		ok = (i == 0 || buf_puts(&b, ", ")) && json_str(&b, errors[i]);
	ok = ok && buf_puts(&b, "]}\n");
	FILE *f = !ok ? NULL : strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (f) {
		ok = fwrite(b.data, 1, b.len, f) == b.len;
		ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
	}
	if (!f || !ok)
		log_error("cannot write the summary to %s", strcmp(path, "-") ? path : "stdout");
	buf_free(&b);
	return f && ok;
}

/* The tables to compare, into *names (malloc'd; the strings belong to job
 * or sd): --tables, or every base table of FROM, minus --exclude-tables. */
static bool list_tables(const struct job *job, struct side *from, struct schema_desc *sd,
			const char ***names, int *n)
{
	memset(sd, 0, sizeof *sd);
	char *const *all = job->tables;
	int nall = job->ntables;
	if (nall == 0) {
		struct sl_error err;
		sl_error_clear(&err);
		if (!from->drv->describe_schema) {
			log_error("%s: the driver cannot list tables: name them with --tables",
				  from->url);
			return false;
		}
		if (!from->drv->describe_schema(from->c, default_schema(job, from), sd, &err)) {
			log_error("%s: %s", from->url, err.msg);
			return false;
		}
		all = sd->tables;
		nall = sd->ntables;
	}
	*names = calloc(nall ? (size_t)nall : 1, sizeof **names);
	if (!*names) {
		log_error("out of memory");
		return false;
	}
	*n = 0;
	for (int i = 0; i < nall; i++)
		if (!excluded(job, all[i]))
			(*names)[(*n)++] = all[i];
	return true;
}

/* Compare the table named name (as --tables gave it, "schema.table" allowed:
 * that schema on FROM, and on TO when it is the same kind of server). */
static bool verify_one(const struct job *job, struct side *from, struct side *to, const char *name,
		       struct verify_result *r, struct sl_error *err)
{
	char *schema = NULL, *table = NULL;
	if (job->ntables) {
		if (!sql_split_table(name, &schema, &table)) {
			memset(r, 0, sizeof *r);
			snprintf(r->table, sizeof r->table, "%s", name);
			return sl_error_set(err, SL_ERR_USAGE, "%s: not a table name", name);
		}
	} else if (!(table = strdup(name))) {
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	bool same_kind = from->drv->dialect == to->drv->dialect;
	struct write_spec tf = {.schema = schema ? schema : default_schema(job, from),
				.table = table};
	struct write_spec tt = {.schema = schema && same_kind ? schema : default_schema(job, to),
				.table = table};
	memset(r, 0, sizeof *r);
	bool ok = side_begin(from, err) && side_begin(to, err) &&
		  verify_table(from->drv, from->c, &tf, to->drv, to->c, &tt, r, err);
	side_end(from);
	side_end(to);
	snprintf(r->table, sizeof r->table, "%s", name);
	free(schema);
	free(table);
	return ok;
}

/* sluice verify FROM_URL TO_URL: a line per table on stdout (table, rows on
 * FROM, rows on TO, match or MISMATCH, a note), the tables that differ named
 * on stderr; RUN_OK when every table matches, RUN_FAILED when one differs or
 * cannot be compared, RUN_USAGE for a bad URL. */
enum run_status verify_run(const struct job *job)
{
	struct side from = {0}, to = {0};
	enum run_status st = side_open(job->from, job->timeout, &from);
	if (st == RUN_OK && (st = side_open(job->target, job->timeout, &to)) != RUN_OK)
		side_close(&from);
	if (st != RUN_OK)
		return st;
	struct schema_desc sd;
	const char **names = NULL;
	int n = 0;
	if (!list_tables(job, &from, &sd, &names, &n)) {
		side_close(&from);
		side_close(&to);
		schema_desc_free(&sd);
		return RUN_FAILED;
	}
	struct verify_result *res = calloc(n ? (size_t)n : 1, sizeof *res);
	char *errors[VERIFY_MAX_ERRORS];
	int nerrors = 0, nres = 0, ndiffer = 0;
	struct buf differ;
	buf_init(&differ, 4096);
	bool json_stdout = job->summary_json && !strcmp(job->summary_json, "-");
	if (!res) {
		log_error("out of memory");
		st = RUN_FAILED;
	}
	for (int i = 0; res && i < n; i++) {
		struct verify_result *r = &res[nres];
		struct sl_error err;
		sl_error_clear(&err);
		if (!verify_one(job, &from, &to, names[i], r, &err)) {
			log_error("%s", err.msg);
			if (nerrors < VERIFY_MAX_ERRORS &&
			    (errors[nerrors] = strdup(err.msg)) != NULL)
				nerrors++;
			st = RUN_FAILED;
			if (err.kind == SL_ERR_CONNECTION)
				break; /* the server is gone: every next table would say so */
			continue;
		}
		nres++;
		if (!r->match) {
			ndiffer++;
			note_add(&differ, "", r->table);
			st = RUN_FAILED;
		}
		/* the per-table lines are the command's data, unless the JSON is */
		if (json_stdout)
			continue;
		char rf[24] = "-", rt[24] = "-";
		if (r->exists_from)
			snprintf(rf, sizeof rf, "%llu", r->rows_from);
		if (r->exists_to)
			snprintf(rt, sizeof rt, "%llu", r->rows_to);
		printf("%s\t%s\t%s\t%s%s%s\n", r->table, rf, rt, r->match ? "match" : "MISMATCH",
		       r->note[0] ? "\t" : "", r->note);
	}
	if (!json_stdout && fflush(stdout) != 0) {
		log_error("writing the results to stdout failed");
		st = RUN_FAILED;
	}
	if (ndiffer)
		log_error("%d of %d tables differ: %s", ndiffer, n, buf_str(&differ));
	if (res && nres < n)
		log_error("%d of %d tables could not be compared", n - nres, n);
	if (n == 0)
		log_warn("no tables to compare");
	else if (st == RUN_OK)
		log_info("%d table%s compared, all match", n, n == 1 ? "" : "s");
	if (job->summary_json && !write_json(job->summary_json, st, res, nres, errors, nerrors))
		st = RUN_FAILED;
	for (int i = 0; i < nerrors; i++)
		free(errors[i]);
	buf_free(&differ);
	free(res);
	free(names);
	schema_desc_free(&sd);
	side_close(&from);
	side_close(&to);
	return st;
}
