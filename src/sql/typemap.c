/* src/sql/typemap.c
 * Column types across servers, for copy --create: a source column's type,
 * classified by its server's dialect into the type model (sqltype.h) and
 * named by the target's; what is about moving between the two is here:
 * the per-value transforms (hex, bits, zero dates, time zones), defaults
 * and identity translated, enum labels and CHECKs, --cast, indexes and
 * foreign keys written. Pure functions over catalog text: no I/O.
 */
#include "sluice/typemap.h"
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/convert.h"

/* The server kind of a dialect, by pointer or by name (a copy of a
 * dialect with another placeholder, in tests, is still that server). */
static bool is_mysql(const struct dialect *d)
{
	return d && (d == &mysql_dialect || (d->name && !strcmp(d->name, "mysql")));
}

static bool is_pg(const struct dialect *d)
{
	return d && (d == &pg_dialect || (d->name && !strcmp(d->name, "postgresql")));
}

static bool is_sqlite(const struct dialect *d)
{
	return d && (d == &sqlite_dialect || (d->name && !strcmp(d->name, "sqlite")));
}

/* ---- kinds ---- */

/* The kind t's values are written as in a default, an identity or a
 * --cast: an array as none of its elements', enum and set labels as text,
 * a MySQL bit(1) as bits, an address, a spatial value or money as what the
 * model does not describe. */
static enum sql_kind kind_of(const struct sql_type *t)
{
	if (t->array)
		return SQL_OTHER;
	switch (t->kind) {
	case SQL_ENUM:
	case SQL_SET:
		return SQL_TEXT;
	case SQL_BOOL:
		return t->bool_form == SQL_BOOL_BIT ? SQL_BIT : SQL_BOOL;
	case SQL_NETADDR:
	case SQL_SPATIAL:
	case SQL_MONEY:
		return SQL_OTHER;
	default:
		return t->kind;
	}
}

/* A date, or a date and a time (MySQL's timestamp too). */
static bool datelike(enum sql_kind k)
{
	return k == SQL_DATE || k == SQL_DATETIME || k == SQL_TIMESTAMPTZ;
}

/* True when name is one of the NULL-terminated list. */
static bool name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/* Whether s is a plain word (a character set or collation name). */
static bool safe_word(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
			     strlen(s);
}

/* ---- small writers ---- */

/* Write the printf result into dst (sz bytes); false when it does not fit. */
static bool set_fmt(char *dst, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool set_fmt(char *dst, size_t sz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, sz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sz) {
		dst[0] = '\0';
		return false;
	}
	return true;
}

/* Add a note to m ("; " between notes); a note too long ends in "...". */
static void vadd_note(struct mapped_column *m, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vadd_note(struct mapped_column *m, const char *fmt, va_list ap)
{
	type_note_add(m->note, sizeof m->note, fmt, ap);
}

static void add_note(struct mapped_column *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_note(struct mapped_column *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd_note(m, fmt, ap);
	va_end(ap);
}

/* Something could not be carried: note what, and mark the column. */
static void lose(struct mapped_column *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void lose(struct mapped_column *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd_note(m, fmt, ap);
	va_end(ap);
	m->lost = true;
}

/* Copy b's text into a fixed field; false when it does not fit. */
static bool set_from_buf(char *dst, size_t sz, const struct buf *b)
{
	if (b->len >= sz)
		return false;
	memcpy(dst, buf_str(b), b->len + 1);
	return true;
}

/* ---- SQL literals ---- */

/* Read the PostgreSQL string literal at *p ('...' with '' inside, or
 * E'...' with \\ and \' escapes) into b; *p moves past it. */
static bool pg_unquote(const char **p, const char *end, struct buf *b)
{
	const char *s = *p;
	bool escapes = false;
	if (s < end && (*s == 'E' || *s == 'e')) {
		escapes = true;
		s++;
	}
	if (s >= end || *s != '\'')
		return false;
	for (s++; s < end; s++) {
		char c = *s;
		if (c == '\'') {
			if (s + 1 < end && s[1] == '\'') {
				s++;
			} else {
				*p = s + 1;
				return true;
			}
		} else if (escapes && c == '\\') {
			if (s + 1 >= end || (s[1] != '\\' && s[1] != '\''))
				return false; /* other escapes: not worth guessing */
			c = *++s;
		}
		if (!buf_putc(b, c))
			return false;
	}
	return false;
}

/* Append s as a PostgreSQL standard string literal; false for a NUL byte,
 * which PostgreSQL text cannot hold. */
static bool pg_literal(struct buf *b, const char *s, size_t n)
{
	if (memchr(s, '\0', n) || !buf_putc(b, '\''))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((s[i] == '\'' && !buf_putc(b, '\'')) || !buf_putc(b, s[i]))
			return false;
	return buf_putc(b, '\'');
}

/* A plain decimal number: -12, 3.50, .5, 1e10. */
static bool is_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < n && isdigit((unsigned char)s[i]))
		i++, digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && isdigit((unsigned char)s[i]); i++)
			digits++;
	if (!digits)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return false;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	return i == n;
}

/* A MySQL zero date: YYYY-MM-DD with month or day 00 ('0000-00-00',
 * '2024-00-10', '2024-05-00 10:00:00'); a real date is never one. */
static bool zero_date(const char *s, size_t n)
{
	static const int digit_at[] = {0, 1, 2, 3, 5, 6, 8, 9};
	if (n < 10 || s[4] != '-' || s[7] != '-' || (n > 10 && s[10] != ' ' && s[10] != 'T'))
		return false;
	for (size_t i = 0; i < sizeof digit_at / sizeof digit_at[0]; i++)
		if (!isdigit((unsigned char)s[digit_at[i]]))
			return false;
	return (s[5] == '0' && s[6] == '0') || (s[8] == '0' && s[9] == '0');
}

/* A MySQL quoted default holding a zero date ('0000-00-00 00:00:00'). */
static bool zero_date_literal(const char *e)
{
	struct buf v;
	buf_init(&v, 64);
	const char *p = e;
	bool zero =
		mysql_read_string(&p, e + strlen(e), &v) && !*p && zero_date(buf_str(&v), v.len);
	buf_free(&v);
	return zero;
}

/* e (trimmed) is a call of name: "name", "name()" or "name(6)", any case;
 * *arg gets the number inside (-1 for none). */
static bool is_call(const char *e, const char *name, long *arg)
{
	size_t n = strlen(name);
	*arg = -1;
	if (strncasecmp(e, name, n))
		return false;
	e += n;
	if (!*e)
		return true;
	if (*e++ != '(')
		return false;
	if (isdigit((unsigned char)*e)) {
		*arg = 0;
		while (isdigit((unsigned char)*e))
			*arg = *arg * 10 + (*e++ - '0');
	}
	return e[0] == ')' && !e[1];
}

/* A call of any of names (NULL-terminated). */
static bool is_any_call(const char *e, const char *const *names, long *arg)
{
	for (; *names; names++)
		if (is_call(e, *names, arg))
			return true;
	return false;
}

static const char *const now_calls[] = {"current_timestamp",
					"now",
					"localtimestamp",
					"transaction_timestamp",
					"statement_timestamp",
					"clock_timestamp",
					NULL};
static const char *const date_calls[] = {"curdate", "current_date", NULL};
static const char *const uuid_calls[] = {"uuid", "gen_random_uuid", "uuid_generate_v4", NULL};

/* ---- defaults ---- */

/* MySQL default expr (as MariaDB's COLUMN_DEFAULT shows it) for a
 * PostgreSQL column of type t, into out->default_sql. */
static void default_mysql_to_pg(const char *expr, const struct sql_type *t,
				struct mapped_column *out)
{
	enum sql_kind k = kind_of(t);
	struct buf b, v;
	buf_init(&b, sizeof out->default_sql - 1);
	buf_init(&v, 0);
	long arg;
	bool ok = false, known = true;
	size_t n = strlen(expr);
	if (is_any_call(expr, now_calls, &arg) && (k == SQL_DATETIME || k == SQL_TIMESTAMPTZ)) {
		ok = buf_puts(&b, "CURRENT_TIMESTAMP");
	} else if (is_any_call(expr, date_calls, &arg) && datelike(k)) {
		ok = buf_puts(&b, "CURRENT_DATE");
	} else if (is_call(expr, "uuid", &arg) && arg < 0 && (k == SQL_TEXT || k == SQL_UUID)) {
		ok = buf_puts(&b, "gen_random_uuid()");
	} else if ((expr[0] == 'b' || expr[0] == 'B') && expr[1] == '\'') {
		/* a bit literal b'101' */
		const char *p = expr + 1;
		if (mysql_read_string(&p, expr + n, &v) && !*p && v.len &&
		    strspn(buf_str(&v), "01") == v.len) {
			const char *bits = buf_str(&v);
			size_t lead = strspn(bits, "0");
			if (k == SQL_BOOL && v.len - lead <= 1)
				ok = buf_puts(&b, lead == v.len ? "false" : "true");
			else if (k == SQL_BIT && t->length > 0 &&
				 v.len - lead <= (size_t)t->length) {
				ok = buf_puts(&b, "B'");
				for (long i = (long)(v.len - lead); ok && i < t->length; i++)
					ok = buf_putc(&b, '0');
				ok = ok && buf_puts(&b, bits + lead) && buf_putc(&b, '\'');
			}
		}
	} else if (expr[0] == '\'' || is_number(expr, n)) {
		const char *p = expr;
		bool number = expr[0] != '\'';
		if (number ? buf_append(&v, expr, n) : mysql_read_string(&p, expr + n, &v) && !*p) {
			const char *s = buf_str(&v);
			if (datelike(k) && zero_date(s, v.len)) {
				known = false;
				add_note(out,
					 "zero-date default %s dropped (zero dates become NULL)",
					 expr);
			} else if (k == SQL_BOOL) {
				ok = (!strcmp(s, "0") || !strcmp(s, "1")) &&
				     buf_puts(&b, s[0] == '1' ? "true" : "false");
			} else if (number && (k == SQL_INT || k == SQL_DECIMAL || k == SQL_FLOAT)) {
				ok = buf_puts(&b, s);
			} else if (k == SQL_BINARY) {
				ok = buf_puts(&b, "'\\x");
				for (size_t i = 0; ok && i < v.len; i++)
					ok = buf_printf(&b, "%02x", (unsigned char)s[i]);
				ok = ok && buf_putc(&b, '\'');
			} else if (k == SQL_TIMESTAMPTZ) {
				/* read in UTC, whatever the TimeZone of the session
				 * running the DDL */
				ok = buf_puts(&v, "+00") && pg_literal(&b, buf_str(&v), v.len);
			} else if (k != SQL_BIT) {
				ok = pg_literal(&b, s, v.len);
			}
		}
	} else if (!strcasecmp(expr, "NULL")) {
		known = false; /* the same as none */
	}
	if (ok && !set_from_buf(out->default_sql, sizeof out->default_sql, &b))
		ok = false;
	if (!ok && known)
		lose(out, "default %s not carried", expr);
	buf_free(&b);
	buf_free(&v);
}

/* PostgreSQL default expr (as pg_get_expr prints it) for a MySQL column of
 * type t, into out->default_sql. */
static void default_pg_to_mysql(const char *expr, const struct sql_type *t,
				struct mapped_column *out)
{
	enum sql_kind k = kind_of(t);
	/* a text, blob or json default must be an expression in parentheses
	 * (MySQL 8; MariaDB takes both) */
	bool paren = ((k == SQL_TEXT || k == SQL_BINARY) && t->lob) || k == SQL_JSON;
	/* MySQL's timestamp takes what its datetime does */
	bool datetime = k == SQL_DATETIME || k == SQL_TIMESTAMPTZ;
	struct buf b, v;
	buf_init(&b, sizeof out->default_sql - 1);
	buf_init(&v, 0);
	long arg;
	bool ok = false, known = true;
	size_t n = strlen(expr);
	if (!strncasecmp(expr, "NULL", 4) && (!expr[4] || !strncmp(expr + 4, "::", 2))) {
		known = false;
	} else if (is_any_call(expr, now_calls, &arg)) {
		if (datetime)
			ok = t->fsp > 0 ? buf_printf(&b, "CURRENT_TIMESTAMP(%d)", t->fsp)
					: buf_puts(&b, "CURRENT_TIMESTAMP");
	} else if (is_any_call(expr, date_calls, &arg) ||
		   (!strncmp(expr, "('now'::text)::", 15) && k == SQL_DATE)) {
		/* ('now'::text)::date, older dumps' CURRENT_DATE */
		ok = k == SQL_DATE && buf_puts(&b, "(curdate())");
	} else if (!strncmp(expr, "('now'::text)::timestamp", 24) && datetime) {
		ok = t->fsp > 0 ? buf_printf(&b, "CURRENT_TIMESTAMP(%d)", t->fsp)
				: buf_puts(&b, "CURRENT_TIMESTAMP");
	} else if (is_any_call(expr, uuid_calls, &arg) && arg < 0) {
		ok = k == SQL_TEXT && buf_puts(&b, "(uuid())");
	} else if (!strcmp(expr, "true") || !strcmp(expr, "false")) {
		ok = (k == SQL_BOOL || k == SQL_INT) && buf_putc(&b, expr[0] == 't' ? '1' : '0');
	} else if (is_number(expr, n)) {
		ok = k == SQL_TEXT ? (paren ? buf_putc(&b, '(') : true) &&
					     mysql_quote_string(&b, expr, n) &&
					     (!paren || buf_putc(&b, ')'))
				   : buf_puts(&b, expr);
	} else if (expr[0] == '\'' || expr[0] == 'E' || expr[0] == 'B') {
		const char *p = expr;
		bool bitlit = expr[0] == 'B' && expr[1] == '\'';
		if (bitlit)
			p++;
		if (pg_unquote(&p, expr + n, &v) &&
		    (!*p || (p[0] == ':' && p[1] == ':' &&
			     strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789_ ()[],.\"") ==
				     strlen(p + 2)))) {
			const char *s = buf_str(&v);
			size_t len = v.len;
			if (k == SQL_BIT) {
				ok = len && strspn(s, "01") == len && buf_printf(&b, "b'%s'", s);
			} else if (k == SQL_BINARY) {
				ok = len >= 2 && s[0] == '\\' && s[1] == 'x' && len % 2 == 0 &&
				     strspn(s + 2, "0123456789abcdefABCDEF") == len - 2 &&
				     (paren ? buf_putc(&b, '(') : true) &&
				     buf_printf(&b, "X'%s'", s + 2) &&
				     (!paren || buf_putc(&b, ')'));
			} else if (k == SQL_BOOL || k == SQL_INT || k == SQL_DECIMAL ||
				   k == SQL_FLOAT) {
				if (k == SQL_BOOL && (!strcmp(s, "t") || !strcmp(s, "true")))
					ok = buf_putc(&b, '1');
				else if (k == SQL_BOOL && (!strcmp(s, "f") || !strcmp(s, "false")))
					ok = buf_putc(&b, '0');
				else
					ok = is_number(s, len) && buf_puts(&b, s);
			} else {
				/* a timestamp with time zone prints as UTC: its column
				 * holds UTC */
				if (datetime && len > 3 && !strcmp(s + len - 3, "+00"))
					len -= 3;
				/* 'infinity', BC dates or another offset would make
				 * the whole CREATE TABLE fail */
				bool temporal = k == SQL_DATE || datetime || k == SQL_TIME;
				ok = (!temporal || (len && isdigit((unsigned char)s[0]) &&
						    !memchr(s, '+', len) &&
						    (len <= 10 || !memchr(s + 10, '-', len - 10)) &&
						    !strstr(s, "BC"))) &&
				     (paren ? buf_putc(&b, '(') : true) &&
				     mysql_quote_string(&b, s, len) &&
				     (!paren || buf_putc(&b, ')'));
			}
		}
	}
	if (ok && !set_from_buf(out->default_sql, sizeof out->default_sql, &b))
		ok = false;
	if (!ok && known)
		lose(out, "default %s not carried", expr);
	buf_free(&b);
	buf_free(&v);
}

/* ---- from one server to the other ---- */

/* MySQL enum('a','','b''c') kept as text on PostgreSQL (to): CHECK ("c" IN
 * ('a', '', 'b''c')). */
static void enum_check(const struct dialect *to, const struct column_desc *src,
		       const struct sql_type *s, struct mapped_column *out)
{
	struct buf b;
	buf_init(&b, sizeof out->check_sql - 1);
	bool ok = s->nlabels >= 0 && to->quote_ident(&b, src->name) && buf_puts(&b, " IN (");
	for (int i = 0; ok && i < s->nlabels; i++)
		ok = (!i || buf_puts(&b, ", ")) &&
		     pg_literal(&b, s->labels[i], strlen(s->labels[i]));
	ok = ok && buf_putc(&b, ')') && set_from_buf(out->check_sql, sizeof out->check_sql, &b);
	if (!ok) {
		out->check_sql[0] = '\0';
		lose(out, "enum labels not enforced: they do not fit a CHECK");
	}
	buf_free(&b);
}

/* value_xf with SQLite on one side. SQLite's driver reads and writes a
 * blob as its raw bytes (as MySQL's), a boolean as the integer 0 or 1, a
 * timestamp as UTC text: PostgreSQL's \\x hex and t/f change on the way,
 * MySQL's bits and zero dates as they do to PostgreSQL. */
static unsigned sqlite_xf(const struct dialect *from, const struct sql_type *s,
			  const struct dialect *to, const struct sql_type *t, int *bits)
{
	/* SQLite's BIT TEXT(n) holds 0/1 digits, as PostgreSQL prints bits */
	if (is_mysql(to) && s->kind == SQL_BIT && kind_of(t) == SQL_BIT) {
		*bits = t->kind == SQL_BIT ? (int)t->length : 1;
		return XF_PG_TEXTBITS_TO_BYTES;
	}
	if (is_pg(from) && s->kind == SQL_FLOAT)
		return s->bytes == 4 ? XF_FLOAT4_DIGITS : XF_NONE; /* a real's exact digits */
	/* a character(n) prints with its padding, no part of its value (it
	 * compares equal without it, as MySQL's CHAR reads): SQLite would keep
	 * the spaces */
	if (is_pg(from))
		return s->kind == SQL_BOOL		  ? XF_BOOL_TO_01
		       : s->kind == SQL_BINARY		  ? XF_PGHEX_TO_BYTES
		       : s->kind == SQL_TEXT && s->padded ? XF_PAD_TRIM
							  : XF_NONE;
	if (is_pg(to))
		return s->kind == SQL_BINARY ? XF_BYTES_TO_PGHEX : XF_NONE;
	if (!is_mysql(from))
		return XF_NONE;
	switch (s->kind) {
	case SQL_BOOL:
		return s->bool_form == SQL_BOOL_BIT ? XF_BIT_TO_BOOL | XF_BOOL_TO_01 : XF_NONE;
	case SQL_BIT:
		*bits = (int)s->length;
		return XF_BITS_TO_TEXT;
	case SQL_DATE:
	case SQL_DATETIME:
		return XF_ZERO_DATE_NULL;
	case SQL_TIMESTAMPTZ:
		return XF_ZERO_DATE_NULL | XF_APPEND_UTC;
	case SQL_TIME:
		/* a duration kept as TEXT: the text verify compares it by, no
		 * fraction's trailing zeros (MySQL writes all fsp digits) */
		return s->span && kind_of(t) == SQL_TEXT ? XF_TIME_TRIM : XF_NONE;
	default:
		return XF_NONE;
	}
}

/* The transforms a value of type s on from's server needs to be one of
 * type t on to's (and t's bit width into *bits). They follow how each
 * server writes and reads a value: MySQL's binary strings and bits as raw
 * bytes, its zero dates, its timestamps in the session's UTC without an
 * offset; PostgreSQL's bytea as \x hex, its booleans as t/f, its bits as
 * 0/1 digits, its reals in their shortest text. */
static unsigned value_xf(const struct dialect *from, const struct sql_type *s,
			 const struct dialect *to, const struct sql_type *t, int *bits)
{
	*bits = 0;
	if (s->array)
		return XF_NONE;
	if (is_sqlite(from) || is_sqlite(to))
		return sqlite_xf(from, s, to, t, bits);
	if (is_mysql(from) && is_mysql(to))
		return datelike(s->kind) ? XF_ZERO_DATE_NULL : XF_NONE;
	if (is_mysql(from) && is_pg(to)) {
		switch (s->kind) {
		case SQL_BOOL:
			return s->bool_form == SQL_BOOL_BIT ? XF_BIT_TO_BOOL : XF_NONE;
		case SQL_BIT:
			*bits = (int)s->length;
			return XF_BITS_TO_TEXT;
		case SQL_DATE:
		case SQL_DATETIME:
			return XF_ZERO_DATE_NULL;
		case SQL_TIMESTAMPTZ:
			return XF_ZERO_DATE_NULL | XF_APPEND_UTC;
		case SQL_BINARY:
		case SQL_SPATIAL:
			return XF_BYTES_TO_PGHEX;
		default:
			return XF_NONE;
		}
	}
	if (is_pg(from) && is_mysql(to)) {
		switch (s->kind) {
		case SQL_BOOL:
			return XF_BOOL_TO_01;
		case SQL_FLOAT:
			/* PostgreSQL's shortest text of a real (3.4028235e+38) is a
			 * double MySQL takes as out of FLOAT's range: the float's
			 * exact digits */
			return s->bytes == 4 ? XF_FLOAT4_DIGITS : XF_NONE;
		case SQL_BINARY:
			return XF_PGHEX_TO_BYTES;
		case SQL_BIT:
			if (kind_of(t) != SQL_BIT)
				return XF_NONE; /* as 0/1 text */
			*bits = t->kind == SQL_BIT ? (int)t->length : 1;
			return XF_PG_TEXTBITS_TO_BYTES;
		default:
			return XF_NONE;
		}
	}
	return XF_NONE;
}

bool typemap_export_column(const struct dialect *from, const struct column_desc *col, unsigned *xf,
			   int *bits, enum sql_kind *kind, bool *as_written)
{
	*as_written = false;
	struct sql_type s;
	sql_type_init(&s, from);
	*xf = XF_NONE;
	*bits = 0;
	*kind = SQL_OTHER;
	if (!from->type_classify(col->type, col, &s)) {
		sql_type_free(&s);
		return false;
	}
	*kind = s.array ? SQL_OTHER : s.kind;
	/* a JSON type that keeps its text as written (PostgreSQL json, MariaDB's
	 * JSON, a longtext) must come back byte for byte: the writer nests it
	 * only where load stores the nested text as it is */
	*as_written = s.kind == SQL_JSON && (s.json_text || is_mysql(from));
	if (s.array) {
		/* PostgreSQL's array text, as it reads it back */
	} else if (is_mysql(from) || is_sqlite(from)) {
		/* the form a PostgreSQL target takes is the neutral one */
		*xf = is_mysql(from) ? value_xf(from, &s, &pg_dialect, &s, bits)
				     : sqlite_xf(from, &s, &pg_dialect, &s, bits);
		if (s.kind == SQL_BOOL && s.bool_form == SQL_BOOL_BIT)
			*xf |= XF_BOOL_TO_WORD;
		else if (s.kind == SQL_BOOL)
			*kind = SQL_INT; /* tinyint(1) holds any small integer */
	} else if (is_pg(from)) {
		if (s.kind == SQL_BOOL)
			*xf = XF_BOOL_TO_WORD;
		else if (s.kind == SQL_FLOAT && s.bytes == 4)
			*xf = XF_FLOAT4_DIGITS | XF_KEEP_SPECIAL;
	}
	sql_type_free(&s);
	return true;
}

/* src (type s) on the other server (to): the type to names s as, and the
 * transforms its values need; MySQL's enum labels as a CHECK. in_key,
 * max_len: see typemap_column. */
static bool map_across(const struct dialect *from, const struct dialect *to,
		       const struct column_desc *src, const struct sql_type *s, bool in_key,
		       long max_len, struct mapped_column *out)
{
	struct type_use use = {.in_key = in_key,
			       .max_len = max_len,
			       .identity = src->identity && !(src->generated && *src->generated),
			       .what = src->type};
	struct type_naming n = {0};
	struct sql_type t;
	sql_type_init(&t, to);
	bool ok = to->type_name(s, &use, &n) && strlen(n.text) < sizeof out->type &&
		  to->type_classify(n.text, NULL, &t);
	if (ok) {
		strcpy(out->type, n.text);
		memcpy(out->note, n.note, sizeof out->note);
		out->lost = n.lost;
		out->xf = value_xf(from, s, to, &t, &out->bits);
		if (s->kind == SQL_ENUM && !s->array && is_pg(to) && kind_of(&t) == SQL_TEXT)
			enum_check(to, src, s, out);
	}
	sql_type_free(&t);
	return ok;
}

/* src (type s) kept on a server of its own kind (to): see typemap_column. */
static bool map_same(const struct dialect *to, const struct column_desc *src,
		     const struct sql_type *s, bool in_key, long max_len, struct mapped_column *out)
{
	const char *text = src->type;
	while (isspace((unsigned char)*text))
		text++;
	size_t n = strlen(text);
	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	if (n >= sizeof out->type)
		return false;
	memcpy(out->type, text, n);
	out->type[n] = '\0';
	if (!is_mysql(to) && src->udt && (src->udt_kind == 'e' || src->udt_kind == 'd')) {
		/* the type sluice creates on the target, in the target's schema,
		 * whatever schema format_type named on the source */
		struct buf b;
		buf_init(&b, sizeof out->type - 1);
		bool ok = to->quote_ident(&b, src->udt);
		for (const char *a = strstr(text, "[]"); ok && a; a = strstr(a + 2, "[]"))
			ok = buf_puts(&b, "[]");
		ok = ok && set_from_buf(out->type, sizeof out->type, &b);
		buf_free(&b);
		return ok;
	}
	if (!is_mysql(to))
		return true;
	int bits;
	out->xf = value_xf(to, s, to, s, &bits);
	if (src->charset && src->collation && safe_word(src->charset) &&
	    safe_word(src->collation) && s->kind != SQL_JSON) {
		/* the column's own character set and collation, whatever the
		 * table's: a BINARY column compares case-sensitively */
		if (!set_fmt(out->type + n, sizeof out->type - n, " CHARACTER SET %s COLLATE %s",
			     src->charset, src->collation))
			return false;
		return true; /* (MySQL keys a text column by a prefix, carried as is) */
	}
	if (!in_key || (s->kind != SQL_TEXT && s->kind != SQL_BINARY))
		return true;
	/* the source's key on a text or blob had a prefix length, which a key
	 * on the whole column cannot have: the dialect bounds it */
	if (s->lob) {
		struct type_use use = {.in_key = true, .max_len = max_len, .what = src->type};
		struct type_naming nm = {0};
		if (!to->type_name(s, &use, &nm) || strlen(nm.text) >= sizeof out->type)
			return false;
		strcpy(out->type, nm.text);
		memcpy(out->note, nm.note, sizeof out->note);
		out->lost = nm.lost;
		return true;
	}
	if (s->kind == SQL_TEXT)
		return set_fmt(out->type + n, sizeof out->type - n, " COLLATE utf8mb4_bin");
	return true;
}

/* ---- CHECK expressions, PostgreSQL to MySQL ---- */

static bool undo(struct buf *b, size_t start);

/* What an operand of a CHECK compares as. A comparison is carried only
 * where both servers decide it the same way for every value. */
enum ck_kind {
	CK_BAD = -1,
	CK_PRED,     /* a truth value: a comparison, AND, OR, NOT, IS NULL */
	CK_NUMBER,   /* integers, decimals, floats */
	CK_TEMPORAL, /* dates, times, timestamps (with a time zone: UTC on both) */
	CK_STRING,   /* text: MySQL's collation may fold case and ignore trailing spaces */
	CK_ENUM,     /* a PostgreSQL enum: equal only to its exact labels */
	CK_NULL,     /* the NULL literal */
	CK_OTHER,    /* a column of another type: IS NULL only */
};

/* The parse of one CHECK expression (see typemap_check_to_mysql). */
struct ck {
	const char *p, *end;
	struct buf *out;
	const struct table_desc *t; /* the columns an identifier may name */
	const char *value_col;	    /* what VALUE stands for (a domain's CHECK) */
	const char *value_type;
	bool negated; /* under an odd number of NOTs */
	char *why;
	size_t whysz;
	bool bad;
};

static enum ck_kind ck_fail(struct ck *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum ck_kind ck_fail(struct ck *c, const char *fmt, ...)
{
	if (!c->bad && c->why && c->whysz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->why, c->whysz, fmt, ap);
		va_end(ap);
	}
	c->bad = true;
	return CK_BAD;
}

static void ck_ws(struct ck *c)
{
	while (c->p < c->end && isspace((unsigned char)*c->p))
		c->p++;
}

static bool ident_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '$' || (unsigned char)ch >= 0x80;
}

/* The next token is the word w (whole, exact case); it is consumed. */
static bool ck_word(struct ck *c, const char *w)
{
	ck_ws(c);
	size_t n = strlen(w);
	if ((size_t)(c->end - c->p) < n || strncmp(c->p, w, n) ||
	    (c->p + n < c->end && ident_char(c->p[n])))
		return false;
	c->p += n;
	return true;
}

/* The next token is the punctuation s; it is consumed. */
static bool ck_punct(struct ck *c, const char *s)
{
	ck_ws(c);
	size_t n = strlen(s);
	if ((size_t)(c->end - c->p) < n || strncmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* The kind of a PostgreSQL type's values in a CHECK, or CK_BAD. */
static enum ck_kind ck_type_kind(const char *type)
{
	struct sql_type t;
	enum ck_kind k = CK_BAD;
	if (pg_dialect.type_classify(type, NULL, &t) && !t.array) {
		switch (t.kind) {
		case SQL_INT:
		case SQL_DECIMAL:
		case SQL_FLOAT:
			k = CK_NUMBER;
			break;
		case SQL_DATE:
		case SQL_DATETIME:
		case SQL_TIMESTAMPTZ:
			k = CK_TEMPORAL;
			break;
		case SQL_TIME:
			k = t.with_tz ? CK_BAD : CK_TEMPORAL;
			break;
		case SQL_TEXT:
			k = t.case_insensitive ? CK_BAD : CK_STRING;
			break;
		default:
			break;
		}
	}
	sql_type_free(&t);
	return k;
}

/* The built-in type a PostgreSQL domain column's values are: through
 * domains over domains when describe knew it, else the domain's base. */
static const char *domain_type(const struct column_desc *col)
{
	return col->value_type ? col->value_type : col->domain_base;
}

/* The kind of column name of c->t, or CK_BAD. */
static enum ck_kind ck_column_kind(const struct ck *c, const char *name)
{
	for (int i = 0; c->t && i < c->t->ncols; i++) {
		const struct column_desc *col = &c->t->cols[i];
		if (strcmp(col->name, name))
			continue;
		struct sql_type_text tx;
		sql_type_text_parse(col->type, &tx);
		enum ck_kind k = ck_type_kind(col->type);
		if (col->udt_kind == 'e' && !tx.array)
			k = CK_ENUM;
		else if (col->udt_kind == 'd' && col->domain_base && !tx.array)
			k = ck_type_kind(domain_type(col));
		return k == CK_BAD ? CK_OTHER : k;
	}
	return CK_BAD;
}

/* Whether c->t has an enum column whose type is named type. */
static bool ck_enum_type(const struct ck *c, const char *type, size_t n)
{
	for (int i = 0; c->t && i < c->t->ncols; i++) {
		const char *u = c->t->cols[i].udt;
		if (c->t->cols[i].udt_kind == 'e' && u && strlen(u) == n && !strncmp(u, type, n))
			return true;
	}
	return false;
}

/* The casts sluice reads, as PostgreSQL prints them, and their kinds. */
static const struct {
	const char *name;
	enum ck_kind kind;
} ck_casts[] = {
	{"timestamp without time zone", CK_TEMPORAL},
	{"timestamp with time zone", CK_TEMPORAL},
	{"time without time zone", CK_TEMPORAL},
	{"character varying", CK_STRING},
	{"double precision", CK_NUMBER},
	{"character", CK_STRING},
	{"varchar", CK_STRING},
	{"bpchar", CK_STRING},
	{"text", CK_STRING},
	{"smallint", CK_NUMBER},
	{"integer", CK_NUMBER},
	{"bigint", CK_NUMBER},
	{"numeric", CK_NUMBER},
	{"real", CK_NUMBER},
	{"date", CK_TEMPORAL},
};

/* After "::": the cast's type, consumed with its (n) and []; its kind, or
 * CK_BAD for a type sluice does not carry. *tz: with time zone; *array:
 * ends in []. */
static enum ck_kind ck_cast(struct ck *c, bool *tz, bool *array)
{
	ck_ws(c);
	*tz = *array = false;
	enum ck_kind k = CK_BAD;
	const char *start = c->p;
	for (size_t i = 0; i < sizeof ck_casts / sizeof ck_casts[0]; i++) {
		size_t n = strlen(ck_casts[i].name);
		if ((size_t)(c->end - c->p) >= n && !strncmp(c->p, ck_casts[i].name, n) &&
		    (c->p + n == c->end || !ident_char(c->p[n]))) {
			k = ck_casts[i].kind;
			*tz = strstr(ck_casts[i].name, "with time zone") &&
			      !strstr(ck_casts[i].name, "without");
			c->p += n;
			break;
		}
	}
	if (k == CK_BAD) {
		/* a user type: an enum of the table's columns */
		while (c->p < c->end && ident_char(*c->p))
			c->p++;
		if (c->p == start || !ck_enum_type(c, start, (size_t)(c->p - start)))
			return ck_fail(c, "a cast to %.*s", (int)(c->p - start + 1), start);
		k = CK_ENUM;
	}
	if (c->p < c->end && *c->p == '(') {
		const char *close = memchr(c->p, ')', (size_t)(c->end - c->p));
		if (!close)
			return ck_fail(c, "unbalanced parentheses");
		c->p = close + 1;
	}
	if (c->end - c->p >= 2 && c->p[0] == '[' && c->p[1] == ']') {
		*array = true;
		c->p += 2;
	}
	return k;
}

/* A string literal at c->p ('...' with '' inside) into v. */
static bool ck_string(struct ck *c, struct buf *v)
{
	if (c->p >= c->end || *c->p != '\'')
		return false;
	for (c->p++; c->p < c->end; c->p++) {
		if (*c->p == '\'') {
			if (c->p + 1 < c->end && c->p[1] == '\'') {
				c->p++;
			} else {
				c->p++;
				return true;
			}
		}
		if (!buf_putc(v, *c->p))
			return false;
	}
	return false;
}

/* A literal (a number, or a string with its cast) written for MySQL; its
 * kind. */
static enum ck_kind ck_literal(struct ck *c)
{
	struct buf v;
	buf_init(&v, 0);
	bool quoted = *c->p == '\'';
	if (quoted) {
		if (!ck_string(c, &v)) {
			buf_free(&v);
			return ck_fail(c, "an unterminated string");
		}
	} else {
		while (c->p < c->end && (isalnum((unsigned char)*c->p) || *c->p == '.' ||
					 ((*c->p == '-' || *c->p == '+') && v.len &&
					  (c->p[-1] == 'e' || c->p[-1] == 'E'))))
			buf_catc(&v, *c->p++);
	}
	if (buf_failed(&v)) {
		buf_free(&v);
		return ck_fail(c, "out of memory");
	}
	enum ck_kind k = quoted ? CK_STRING : CK_NUMBER;
	bool tz = false, array = false;
	if (ck_punct(c, "::"))
		k = ck_cast(c, &tz, &array);
	const char *s = buf_str(&v);
	size_t n = v.len;
	bool ok = k != CK_BAD && !array;
	if (ok && k == CK_NUMBER) {
		ok = is_number(s, n) && buf_append(c->out, s, n);
	} else if (ok && k == CK_TEMPORAL) {
		/* a timestamp with time zone prints in UTC, as its MySQL column
		 * holds it; 'infinity', BC years or another offset have no MySQL
		 * equivalent */
		if (tz && n > 3 && !strcmp(s + n - 3, "+00"))
			n -= 3;
		ok = n && isdigit((unsigned char)s[0]) && !memchr(s, '+', n) && !strstr(s, "BC") &&
		     (n <= 10 || !memchr(s + 10, '-', n - 10)) && mysql_quote_string(c->out, s, n);
	} else if (ok) {
		ok = quoted && mysql_quote_string(c->out, s, n);
	}
	if (!ok && !c->bad)
		ck_fail(c, "the literal %s%.*s%s", quoted ? "'" : "", (int)(n > 40 ? 40 : n), s,
			quoted ? "'" : "");
	buf_free(&v);
	return c->bad ? CK_BAD : k;
}

static enum ck_kind ck_or(struct ck *c);

/* An operand: a column, VALUE, a literal, NULL or a parenthesized
 * expression, with a cast that does not change what it compares as. */
static enum ck_kind ck_operand(struct ck *c)
{
	ck_ws(c);
	if (c->p >= c->end)
		return ck_fail(c, "an operand is missing");
	char ch = *c->p;
	enum ck_kind k;
	if (ch == '(') {
		c->p++;
		if (!buf_putc(c->out, '(') || (k = ck_or(c)) == CK_BAD)
			return CK_BAD;
		if (!ck_punct(c, ")") || !buf_putc(c->out, ')'))
			return ck_fail(c, "unbalanced parentheses");
	} else if (ch == '\'' || isdigit((unsigned char)ch) || ch == '.') {
		return ck_literal(c);
	} else if (ch == '"') {
		struct buf name;
		buf_init(&name, 0);
		const char *p = c->p + 1;
		for (; p < c->end; p++) {
			if (*p == '"' && !(p + 1 < c->end && p[1] == '"'))
				break;
			if (*p == '"')
				p++;
			buf_catc(&name, *p);
		}
		c->p = p < c->end ? p + 1 : p;
		k = buf_failed(&name) ? CK_BAD : ck_column_kind(c, buf_str(&name));
		if (k == CK_BAD || !mysql_dialect.quote_ident(c->out, buf_str(&name)))
			ck_fail(c, "the column \"%s\"", buf_str(&name));
		buf_free(&name);
		if (c->bad)
			return CK_BAD;
	} else if (ck_word(c, "NULL")) {
		return buf_puts(c->out, "NULL") ? CK_NULL : ck_fail(c, "out of memory");
	} else if (c->value_col && ck_word(c, "VALUE")) {
		k = ck_type_kind(c->value_type);
		if (k == CK_BAD)
			return ck_fail(c, "VALUE of type %s", c->value_type);
		if (!mysql_dialect.quote_ident(c->out, c->value_col))
			return ck_fail(c, "a column name that cannot be quoted");
	} else if (islower((unsigned char)ch) || ch == '_') {
		const char *start = c->p;
		while (c->p < c->end && ident_char(*c->p))
			c->p++;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(c->p - start), start);
		ck_ws(c);
		if (c->p < c->end && *c->p == '(')
			return ck_fail(c, "a call of %s()", name);
		k = ck_column_kind(c, name);
		if (k == CK_BAD)
			return ck_fail(c, "%s, not a column", name);
		if (!mysql_dialect.quote_ident(c->out, name))
			return ck_fail(c, "a column name that cannot be quoted");
	} else {
		const char *start = c->p;
		while (c->p < c->end && !isspace((unsigned char)*c->p))
			c->p++;
		return ck_fail(c, "%.*s", (int)(c->p - start > 20 ? 20 : c->p - start), start);
	}
	if (ck_punct(c, "::")) {
		/* (VALUE)::text and the like: a cast within the same kind, or an
		 * enum's label as text, compares as before */
		bool tz, array;
		enum ck_kind to = ck_cast(c, &tz, &array);
		if (to == CK_BAD)
			return CK_BAD;
		if (array || !(to == k || (k == CK_ENUM && to == CK_STRING)))
			return ck_fail(c, "a cast that changes what is compared");
		k = to;
	}
	return k;
}

/* The comparison operator at c->p, consumed, or NULL. */
static const char *ck_operator(struct ck *c)
{
	static const char *const ops[] = {"<>", "!=", "<=", ">=", "=", "<", ">"};
	ck_ws(c);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t n = strlen(ops[i]);
		if ((size_t)(c->end - c->p) >= n && !strncmp(c->p, ops[i], n) &&
		    (c->p + n >= c->end || !strchr("<>=!~*+-/%^&|#@", c->p[n]))) {
			c->p += n;
			return ops[i];
		}
	}
	return NULL;
}

/* Whether a comparison op between kinds a and b means the same on MySQL:
 * numbers and times always; text and enum labels only for equality, text
 * not under NOT (MySQL may find equal what PostgreSQL does not, which
 * only ever lets a value pass). */
static bool ck_comparable(const struct ck *c, enum ck_kind a, enum ck_kind b, const char *op)
{
	if (a == CK_NULL || b == CK_NULL)
		return true;
	if (a == CK_ENUM || b == CK_ENUM)
		return (a == CK_ENUM || a == CK_STRING) && (b == CK_ENUM || b == CK_STRING) &&
		       (!strcmp(op, "=") || !strcmp(op, "<>") || !strcmp(op, "!="));
	if (a != b)
		return false;
	if (a == CK_STRING)
		return !strcmp(op, "=") && !c->negated;
	return a == CK_NUMBER || a == CK_TEMPORAL;
}

/* "= ANY (ARRAY[...])", PostgreSQL's IN list, as IN (...) for left kind l. */
static enum ck_kind ck_any(struct ck *c, enum ck_kind l)
{
	if (!ck_punct(c, "("))
		return ck_fail(c, "ANY without a list");
	bool wrapped = ck_punct(c, "(");
	if (!ck_word(c, "ARRAY") || !ck_punct(c, "["))
		return ck_fail(c, "ANY of something else than an ARRAY");
	if (!buf_puts(c->out, " IN ("))
		return ck_fail(c, "out of memory");
	for (int i = 0;; i++) {
		if (i && !buf_puts(c->out, ", "))
			return ck_fail(c, "out of memory");
		ck_ws(c);
		if (c->p >= c->end || (*c->p != '\'' && !isdigit((unsigned char)*c->p)))
			return ck_fail(c, "a list of something else than literals");
		enum ck_kind k = ck_literal(c);
		if (k == CK_BAD)
			return CK_BAD;
		if (!ck_comparable(c, l, k, "="))
			return ck_fail(c, "an IN list that MySQL may decide otherwise");
		if (ck_punct(c, "]"))
			break;
		if (!ck_punct(c, ","))
			return ck_fail(c, "a malformed ARRAY");
	}
	if (wrapped) {
		bool tz, array;
		enum ck_kind k;
		if (!ck_punct(c, ")") || !ck_punct(c, "::") ||
		    (k = ck_cast(c, &tz, &array)) == CK_BAD || !array ||
		    !(k == l || (l == CK_ENUM && k == CK_STRING)))
			return c->bad ? CK_BAD : ck_fail(c, "a cast of the IN list");
	}
	if (!ck_punct(c, ")") || !buf_putc(c->out, ')'))
		return ck_fail(c, "unbalanced parentheses");
	return CK_PRED;
}

/* A comparison, IS [NOT] NULL, or a lone operand (its kind). */
static enum ck_kind ck_cmp(struct ck *c)
{
	enum ck_kind l = ck_operand(c);
	if (l == CK_BAD)
		return CK_BAD;
	if (ck_word(c, "IS")) {
		bool not = ck_word(c, "NOT");
		if (!ck_word(c, "NULL"))
			return ck_fail(c, "IS without NULL");
		return buf_puts(c->out, not ? " IS NOT NULL" : " IS NULL")
			       ? CK_PRED
			       : ck_fail(c, "out of memory");
	}
	const char *op = ck_operator(c);
	if (!op) {
		ck_ws(c);
		if (c->p < c->end && *c->p != ')' && strncmp(c->p, "AND", 3) &&
		    strncmp(c->p, "OR", 2))
			return ck_fail(c, "the operator %.*s", (int)strcspn(c->p, " ("), c->p);
		return l;
	}
	if (l == CK_PRED)
		return ck_fail(c, "a comparison of truth values");
	if (ck_word(c, "ANY")) {
		if (strcmp(op, "="))
			return ck_fail(c, "%s ANY", op);
		return ck_any(c, l);
	}
	if (!buf_printf(c->out, " %s ", !strcmp(op, "!=") ? "<>" : op))
		return ck_fail(c, "out of memory");
	enum ck_kind r = ck_operand(c);
	if (r == CK_BAD)
		return CK_BAD;
	if (r == CK_PRED || !ck_comparable(c, l, r, op))
		return ck_fail(c, "a comparison (%s) that MySQL may decide otherwise", op);
	return CK_PRED;
}

static enum ck_kind ck_not(struct ck *c)
{
	if (!ck_word(c, "NOT"))
		return ck_cmp(c);
	if (!buf_puts(c->out, "NOT "))
		return ck_fail(c, "out of memory");
	c->negated = !c->negated;
	enum ck_kind k = ck_not(c);
	c->negated = !c->negated;
	if (k != CK_BAD && k != CK_PRED)
		return ck_fail(c, "NOT of a value");
	return k;
}

/* AND (op "AND", next ck_not) or OR (op "OR", next ck_and). */
static enum ck_kind ck_chain(struct ck *c, const char *op, enum ck_kind (*next)(struct ck *))
{
	enum ck_kind k = next(c);
	while (k != CK_BAD && ck_word(c, op)) {
		if (k != CK_PRED || !buf_printf(c->out, " %s ", op))
			return ck_fail(c, "%s of a value", op);
		k = next(c);
		if (k != CK_BAD && k != CK_PRED)
			return ck_fail(c, "%s of a value", op);
	}
	return k;
}

static enum ck_kind ck_and(struct ck *c)
{
	return ck_chain(c, "AND", ck_not);
}

static enum ck_kind ck_or(struct ck *c)
{
	return ck_chain(c, "OR", ck_and);
}

bool typemap_check_to_mysql(const char *expr, const struct table_desc *t, const char *value_col,
			    const char *value_type, struct buf *out, char *why, size_t whysz)
{
	if (why && whysz)
		why[0] = '\0';
	if (!expr || !out || (value_col && !value_type))
		return false;
	size_t start = out->len;
	struct ck c = {.p = expr,
		       .end = expr + strlen(expr),
		       .out = out,
		       .t = t,
		       .value_col = value_col,
		       .value_type = value_type,
		       .why = why,
		       .whysz = whysz};
	enum ck_kind k = ck_or(&c);
	ck_ws(&c);
	if (k != CK_BAD && c.p < c.end)
		ck_fail(&c, "%.20s", c.p);
	else if (k != CK_BAD && k != CK_PRED)
		ck_fail(&c, "a value, not a condition");
	if (c.bad)
		return undo(out, start);
	return true;
}

/* ---- keys on MySQL that trailing spaces must not merge ---- */

const char *typemap_nopad_collation(const char *server_version)
{
	int major = 0, minor = 0, patch = 0;
	if (!server_version)
		return NULL;
	if (sscanf(server_version, "MariaDB %d.%d", &major, &minor) == 2)
		return major > 10 || (major == 10 && minor >= 2) ? "utf8mb4_nopad_bin" : NULL;
	if (sscanf(server_version, "MySQL %d.%d.%d", &major, &minor, &patch) >= 2)
		return major > 8 || (major == 8 && (minor > 0 || patch >= 17)) ? "utf8mb4_0900_bin"
									       : NULL;
	return NULL;
}

bool typemap_key_pads(const struct mapped_column *m)
{
	return strstr(m->type, " COLLATE utf8mb4_bin") && !strncmp(m->type, "varchar(", 8);
}

bool typemap_key_nopad(struct mapped_column *m, const char *collation)
{
	static const char bin[] = " COLLATE utf8mb4_bin";
	char *at = strstr(m->type, bin);
	if (!collation || !at || at[sizeof bin - 1] || strncmp(m->type, "varchar(", 8))
		return false;
	size_t head = (size_t)(at - m->type);
	if (!set_fmt(at, sizeof m->type - head, " COLLATE %s", collation)) {
		memcpy(at, bin, sizeof bin); /* as it was */
		return false;
	}
	return true;
}

/* ---- --cast ---- */

/* s[0..n) lower case, spaces collapsed and dropped around ( ) and ,. */
static void norm_type(const char *s, size_t n, char *dst, size_t sz)
{
	size_t o = 0;
	bool space = false;
	for (size_t i = 0; i < n && o + 1 < sz; i++) {
		char c = (char)tolower((unsigned char)s[i]);
		if (isspace((unsigned char)c)) {
			space = o > 0;
			continue;
		}
		if (space && !strchr("(),", c) && !strchr("(,", dst[o - 1]))
			dst[o++] = ' ';
		space = false;
		if (o + 1 < sz)
			dst[o++] = c;
	}
	dst[o] = '\0';
}

/* The target of the first entry of cast whose source is key (normalized),
 * into target; false when none. */
static bool cast_find(const char *cast, const char *key, char *target, size_t tsz)
{
	const char *p = cast;
	while (*p) {
		/* one entry: up to a comma outside parentheses and quotes */
		const char *start = p, *eq = NULL;
		int depth = 0;
		bool quoted = false;
		for (; *p && (depth || quoted || *p != ','); p++) {
			if (*p == '\'')
				quoted = !quoted;
			else if (!quoted && *p == '(')
				depth++;
			else if (!quoted && *p == ')' && depth)
				depth--;
			else if (!quoted && !depth && *p == '=' && !eq)
				eq = p;
		}
		const char *end = p;
		if (*p)
			p++;
		if (!eq)
			continue;
		char src[256];
		norm_type(start, (size_t)(eq - start), src, sizeof src);
		if (strcmp(src, key))
			continue;
		const char *t = eq + 1;
		while (t < end && isspace((unsigned char)*t))
			t++;
		while (end > t && isspace((unsigned char)end[-1]))
			end--;
		if (end == t || (size_t)(end - t) >= tsz)
			continue;
		memcpy(target, t, (size_t)(end - t));
		target[end - t] = '\0';
		return true;
	}
	return false;
}

/* The --cast target for source type, tried as the whole type, as the type
 * without its (...) and [], then as its name before '('. */
static bool cast_lookup(const char *cast, const char *type, char *target, size_t tsz)
{
	char key[256];
	norm_type(type, strlen(type), key, sizeof key);
	if (cast_find(cast, key, target, tsz))
		return true;
	struct sql_type_text tx;
	sql_type_text_parse(type, &tx);
	if (tx.stripped[0] && strcmp(tx.stripped, key) && cast_find(cast, tx.stripped, target, tsz))
		return true;
	const char *paren = strchr(type, '(');
	if (!paren)
		return false;
	norm_type(type, (size_t)(paren - type), key, sizeof key);
	return cast_find(cast, key, target, tsz);
}

/* The transforms that still apply once a column's type is the --cast
 * target of kind k: those that make a value the target reads; a value
 * otherwise goes as the source printed it. */
static unsigned cast_xf(unsigned xf, enum sql_kind k)
{
	unsigned keep = 0;
	bool number = k == SQL_BOOL || k == SQL_INT || k == SQL_DECIMAL;
	if ((xf & XF_ZERO_DATE_NULL) && datelike(k))
		keep |= XF_ZERO_DATE_NULL;
	if ((xf & XF_APPEND_UTC) && k == SQL_TIMESTAMPTZ)
		keep |= XF_APPEND_UTC;
	if ((xf & XF_BYTES_TO_PGHEX) && k == SQL_BINARY)
		keep |= XF_BYTES_TO_PGHEX;
	if ((xf & XF_PGHEX_TO_BYTES) && k == SQL_BINARY)
		keep |= XF_PGHEX_TO_BYTES;
	/* MySQL bit(1): t/f for a boolean, 1/0 for a number or text */
	if ((xf & XF_BIT_TO_BOOL) &&
	    (k == SQL_BOOL || k == SQL_INT || k == SQL_DECIMAL || k == SQL_TEXT))
		keep |= XF_BIT_TO_BOOL | (k == SQL_BOOL ? 0 : XF_BOOL_TO_01);
	/* raw bit bytes mean nothing as text: digits do */
	if ((xf & XF_BITS_TO_TEXT) && (k == SQL_BIT || k == SQL_TEXT))
		keep |= XF_BITS_TO_TEXT;
	if ((xf & XF_BOOL_TO_01) && number)
		keep |= XF_BOOL_TO_01;
	if ((xf & XF_PG_TEXTBITS_TO_BYTES) && k == SQL_BIT)
		keep |= XF_PG_TEXTBITS_TO_BYTES;
	if ((xf & XF_FLOAT4_DIGITS) && k == SQL_FLOAT)
		keep |= XF_FLOAT4_DIGITS;
	if ((xf & XF_TIME_TRIM) && k == SQL_TEXT)
		keep |= XF_TIME_TRIM;
	if ((xf & XF_PAD_TRIM) && k == SQL_TEXT)
		keep |= XF_PAD_TRIM;
	return keep;
}

/* ---- the column ---- */

/* A PostgreSQL domain's NOT NULL and CHECK on its MySQL or SQLite column
 * (out, of the domain's base type): the CHECK inline where it can be
 * carried (MySQL). */
static void domain_on_target(const struct dialect *to, const struct column_desc *col,
			     struct mapped_column *out)
{
	if (col->domain_not_null)
		out->not_null = true;
	add_note(out, "domain %s as %s", col->udt, out->type);
	if (!col->domain_check)
		return;
	if (!is_mysql(to)) {
		lose(out, "its CHECK (%s) is not carried", col->domain_check);
		return;
	}
	struct buf b;
	buf_init(&b, sizeof out->check_sql - 1);
	char why[200] = "";
	if (typemap_check_to_mysql(col->domain_check, NULL, col->name, col->domain_base, &b, why,
				   sizeof why) &&
	    set_from_buf(out->check_sql, sizeof out->check_sql, &b))
		add_note(out, "with its CHECK");
	else
		lose(out, "its CHECK (%s) is not carried: %s", col->domain_check,
		     why[0] ? why : "too long");
	buf_free(&b);
}

/* A default to or from SQLite: a number, a plain string literal (without
 * PostgreSQL's ::type cast), NULL, the current time or date carry; an
 * expression of one server's functions does not. */
static void sqlite_default(const char *e, struct mapped_column *out)
{
	long arg;
	if (!strcasecmp(e, "NULL"))
		return;
	if (is_any_call(e,
			(const char *const[]){"current_timestamp", "now", "localtimestamp", NULL},
			&arg)) {
		set_fmt(out->default_sql, sizeof out->default_sql, "CURRENT_TIMESTAMP");
		return;
	}
	if (is_any_call(e, (const char *const[]){"current_date", "curdate", NULL}, &arg)) {
		set_fmt(out->default_sql, sizeof out->default_sql, "CURRENT_DATE");
		return;
	}
	size_t n = strlen(e);
	bool number = n > 0, quoted = n >= 2 && e[0] == '\'';
	for (size_t i = 0; i < n; i++)
		number &= (e[i] >= '0' && e[i] <= '9') || (i == 0 && e[i] == '-') || e[i] == '.';
	/* the literal's end: its closing quote, then nothing or ::type */
	size_t end = 0;
	for (size_t i = 1; quoted && !end && i < n; i++)
		if (e[i] == '\'' && (i + 1 == n || e[i + 1] != '\''))
			end = i + 1;
		else if (e[i] == '\'')
			i++;
	quoted = quoted && end && (end == n || !strncmp(e + end, "::", 2));
	if (number && set_fmt(out->default_sql, sizeof out->default_sql, "%s", e))
		return;
	if (quoted && set_fmt(out->default_sql, sizeof out->default_sql, "%.*s", (int)end, e))
		return;
	lose(out, "default %s not carried", e);
}

/* What typemap_column does once the type is mapped: --cast, ON UPDATE,
 * generated, identity and default; t is the target type. */
static void column_rest(const struct dialect *from, const struct dialect *to,
			const struct column_desc *src, const struct sql_type *t,
			struct mapped_column *out)
{
	bool generated = src->generated && src->generated[0];
	if (src->on_update && !generated) {
		/* MySQL's ON UPDATE CURRENT_TIMESTAMP[(n)]: on MySQL as is; on
		 * PostgreSQL a trigger does it (typemap_on_update_trigger) */
		long fsp = 0;
		if (!is_any_call(src->on_update,
				 (const char *const[]){"current_timestamp", "now", "localtimestamp",
						       NULL},
				 &fsp))
			lose(out, "ON UPDATE %s not carried", src->on_update);
		else if (is_mysql(to))
			set_fmt(out->on_update_sql, sizeof out->on_update_sql,
				fsp > 0 ? "CURRENT_TIMESTAMP(%ld)" : "CURRENT_TIMESTAMP", fsp);
		else if (is_sqlite(to))
			lose(out, "ON UPDATE %s not carried (SQLite has no such clause)",
			     src->on_update);
		else if (set_fmt(out->on_update_sql, sizeof out->on_update_sql, "now()"))
			add_note(out, "ON UPDATE CURRENT_TIMESTAMP as a BEFORE UPDATE trigger");
	}
	enum sql_kind k = kind_of(t);
	if (generated) {
		lose(out, "generated column: its values are copied, its expression (%s) is not",
		     src->generated);
	} else if (src->identity) {
		if (k == SQL_INT) {
			out->identity = true;
			out->not_null = true;
		} else {
			lose(out, "%s on %s not carried",
			     is_mysql(from) ? "AUTO_INCREMENT" : "identity", out->type);
		}
	} else if (src->default_expr) {
		const char *e = src->default_expr;
		while (isspace((unsigned char)*e))
			e++;
		if (!*e) {
			/* no default */
		} else if (is_sqlite(from) != is_sqlite(to)) {
			sqlite_default(e, out);
		} else if (is_mysql(from) && is_pg(to)) {
			default_mysql_to_pg(e, t, out);
		} else if (is_pg(from) && is_mysql(to)) {
			default_pg_to_mysql(e, t, out);
		} else if (is_pg(to) && !strncasecmp(e, "nextval(", 8)) {
			/* the sequence is not copied */
			lose(out, "default %s not carried (sequences are not copied)", e);
		} else if (is_mysql(to) && (!strcasecmp(e, "NULL"))) {
			/* the same as none */
		} else if (is_mysql(to) && datelike(k) && zero_date_literal(e)) {
			add_note(out, "zero-date default %s dropped (zero dates become NULL)", e);
		} else if (!set_fmt(out->default_sql, sizeof out->default_sql, "%s", e)) {
			lose(out, "default too long to carry");
		}
	}
}

bool typemap_column(const struct dialect *from, const struct dialect *to,
		    const struct column_desc *src, bool in_key, long max_len, const char *cast,
		    struct mapped_column *out)
{
	memset(out, 0, sizeof *out);
	if (!src || !src->name || !src->name[0] || !src->type) {
		add_note(out, "a column without a name or type");
		return false;
	}
	if (!(is_mysql(from) || is_pg(from) || is_sqlite(from)) ||
	    !(is_mysql(to) || is_pg(to) || is_sqlite(to)) || !from->type_classify ||
	    !to->type_classify || !to->type_name) {
		add_note(out, "unknown server kind");
		return false;
	}
	/* a PostgreSQL domain on MySQL is its base type, with the domain's
	 * default where the column has none; its NOT NULL and CHECK follow */
	struct column_desc base;
	const struct column_desc *domain = NULL;
	struct sql_type_text tx;
	sql_type_text_parse(src->type, &tx);
	if (is_pg(from) && !is_pg(to) && src->udt_kind == 'd' && src->domain_base && !tx.array) {
		base = *src;
		base.type = (char *)domain_type(src);
		base.udt = NULL;
		base.udt_kind = 0;
		if (!base.default_expr)
			base.default_expr = src->domain_default;
		domain = src;
		src = &base;
	}
	out->not_null = !src->nullable;
	struct sql_type s, t;
	sql_type_init(&t, to);
	bool ok = from->type_classify(src->type, src, &s) &&
		  (is_mysql(from) == is_mysql(to) && is_sqlite(from) == is_sqlite(to)
			   ? map_same(to, src, &s, in_key, max_len, out)
			   : map_across(from, to, src, &s, in_key, max_len, out));
	sql_type_free(&s);
	char cast_to[sizeof out->type];
	if (ok && cast && cast_lookup(cast, src->type, cast_to, sizeof cast_to)) {
		/* the user's choice: what the mapping said of its own type no
		 * longer holds */
		strcpy(out->type, cast_to);
		out->note[0] = '\0';
		out->lost = false;
		ok = to->type_classify(out->type, NULL, &t);
		out->xf = cast_xf(out->xf, kind_of(&t));
		if (!(out->xf & (XF_BITS_TO_TEXT | XF_PG_TEXTBITS_TO_BYTES)))
			out->bits = 0;
		if (kind_of(&t) != SQL_TEXT)
			out->check_sql[0] = '\0';
	} else if (ok) {
		ok = to->type_classify(out->type, NULL, &t);
	}
	if (!ok) {
		sql_type_free(&t);
		memset(out, 0, sizeof *out);
		add_note(out, "the type of column %s does not fit (%s)", src->name, src->type);
		return false;
	}
	column_rest(from, to, src, &t, out);
	sql_type_free(&t);
	if (domain)
		domain_on_target(to, domain, out);
	return true;
}

/* ---- DDL ---- */

/* The length of UTF-8 text s in characters. */
static long utf8_chars(const char *s)
{
	long n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Forget what was appended to b since start (a failed statement). */
static bool undo(struct buf *b, size_t start)
{
	b->len = start;
	if (b->data)
		b->data[start] = '\0';
	return false;
}

/* Append ("a", "b") for n column names quoted by d. */
static bool column_list(const struct dialect *d, struct buf *b, char *const *cols, int n)
{
	if (!buf_putc(b, '('))
		return false;
	for (int i = 0; i < n; i++)
		if ((i && !buf_puts(b, ", ")) || !cols[i] || !d->quote_ident(b, cols[i]))
			return false;
	return buf_putc(b, ')');
}

/* The referential action text for SQL, or NULL when a is not one; "" for
 * NULL or NO ACTION (the default, left out). */
static const char *fk_action(const char *a)
{
	static const char *const actions[] = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT",
					      NULL};
	if (!a || !a[0] || !strcasecmp(a, "NO ACTION"))
		return "";
	for (int i = 0; actions[i]; i++)
		if (!strcasecmp(a, actions[i]))
			return actions[i];
	return NULL;
}

/* Append ",\n    CONSTRAINT name FOREIGN KEY (...) REFERENCES ..." for fk
 * of a table being created (SQLite); nothing for a foreign key whose
 * actions have no SQL text, or to a table of another schema (SQLite's
 * REFERENCES names a table of the same file): copy names it as not
 * carried. False when out is full. */
static bool inline_fkey(const struct dialect *to, struct buf *out, const struct write_spec *spec,
			const struct fkey_desc *fk)
{
	const char *del = fk_action(fk->on_delete), *upd = fk_action(fk->on_update);
	if (!del || !upd || !fk->name || !fk->ref_table || fk->ncols <= 0 || !fk->cols ||
	    !fk->ref_cols || fk->ref_schema)
		return true;
	struct write_spec ref = *spec;
	ref.table = fk->ref_table;
	return buf_puts(out, ",\n    CONSTRAINT ") && to->quote_ident(out, fk->name) &&
	       buf_puts(out, " FOREIGN KEY ") && column_list(to, out, fk->cols, fk->ncols) &&
	       buf_puts(out, " REFERENCES ") && sql_table_name(to, out, &ref) &&
	       buf_putc(out, ' ') && column_list(to, out, fk->ref_cols, fk->ncols) &&
	       (!del[0] || buf_printf(out, " ON DELETE %s", del)) &&
	       (!upd[0] || buf_printf(out, " ON UPDATE %s", upd));
}

bool typemap_create_table(const struct dialect *to, struct buf *out, const struct write_spec *spec,
			  const struct table_desc *src, const struct mapped_column *cols,
			  const struct index_desc *pk)
{
	if (!to || !out || !spec || !src || !cols || src->ncols <= 0)
		return false;
	size_t start = out->len;
	bool my = is_mysql(to), lite = is_sqlite(to);
	int auto_col = -1;
	bool has_pk = pk && pk->ncols > 0 && pk->cols;
	bool ok = buf_puts(out, "CREATE TABLE ") && sql_table_name(to, out, spec) &&
		  buf_puts(out, " (");
	for (int i = 0; ok && i < src->ncols; i++) {
		const struct mapped_column *m = &cols[i];
		ok = buf_puts(out, i ? ",\n    " : "\n    ") && src->cols[i].name &&
		     to->quote_ident(out, src->cols[i].name) && buf_putc(out, ' ') &&
		     buf_puts(out, m->type);
		/* SQLite: an identity is the rowid, an INTEGER PRIMARY KEY of
		 * one column; any other is a plain column */
		bool rowid = lite && m->identity && has_pk && pk->ncols == 1 && pk->cols[0] &&
			     !strcasecmp(pk->cols[0], src->cols[i].name) &&
			     !strcasecmp(m->type, "INTEGER");
		if (ok && rowid) {
			ok = buf_puts(out, " PRIMARY KEY AUTOINCREMENT");
			has_pk = false;
		} else if (ok && m->identity && !my && !lite) {
			ok = buf_puts(out, " GENERATED BY DEFAULT AS IDENTITY");
		} else if (ok && m->identity && my && auto_col < 0) {
			ok = buf_puts(out, " NOT NULL AUTO_INCREMENT");
			auto_col = i;
		} else if (ok) {
			if (m->not_null || m->identity)
				ok = buf_puts(out, " NOT NULL");
			if (ok && m->default_sql[0])
				ok = buf_puts(out, " DEFAULT ") && buf_puts(out, m->default_sql);
		}
		if (ok && m->on_update_sql[0] && my)
			ok = buf_puts(out, " ON UPDATE ") && buf_puts(out, m->on_update_sql);
		if (ok && m->check_sql[0])
			ok = buf_puts(out, " CHECK (") && buf_puts(out, m->check_sql) &&
			     buf_putc(out, ')');
	}
	if (ok && has_pk)
		ok = buf_puts(out, ",\n    PRIMARY KEY ") &&
		     column_list(to, out, pk->cols, pk->ncols);
	/* InnoDB wants the AUTO_INCREMENT column to lead some index, and the
	 * secondary indexes come only after the data */
	if (ok && auto_col >= 0 &&
	    !(has_pk && pk->cols[0] && !strcasecmp(pk->cols[0], src->cols[auto_col].name)))
		ok = buf_puts(out, ",\n    KEY (") &&
		     to->quote_ident(out, src->cols[auto_col].name) && buf_putc(out, ')');
	/* SQLite cannot add a foreign key to a table that is there (no ALTER
	 * TABLE ADD CONSTRAINT): its foreign keys go in here, and copy then
	 * finds them on the target */
	for (int k = 0; ok && lite && k < src->nfkeys; k++)
		ok = inline_fkey(to, out, spec, &src->fkeys[k]);
	ok = ok && buf_puts(out, "\n)");
	/* MariaDB's default character set may still be latin1 */
	ok = ok && (!my || buf_puts(out, " DEFAULT CHARSET=utf8mb4"));
	return ok || undo(out, start);
}

bool typemap_create_type(const struct dialect *to, struct buf *out, const struct column_desc *col)
{
	if (!is_pg(to) || !out || !col || !col->udt)
		return false;
	size_t start = out->len;
	bool ok = false;
	if (col->udt_kind == 'e') {
		ok = buf_puts(out, "CREATE TYPE ") && to->quote_ident(out, col->udt) &&
		     buf_puts(out, " AS ENUM (");
		for (int i = 0; ok && i < col->nlabels; i++)
			ok = (!i || buf_puts(out, ", ")) &&
			     pg_literal(out, col->labels[i], strlen(col->labels[i]));
		ok = ok && buf_putc(out, ')');
	} else if (col->udt_kind == 'd' && col->domain_base) {
		/* over the built-in type (a domain over a domain: over the
		 * inner one's type, copy_schema says what is left out) */
		ok = buf_puts(out, "CREATE DOMAIN ") && to->quote_ident(out, col->udt) &&
		     buf_printf(out, " AS %s", domain_type(col)) &&
		     (!col->domain_not_null || buf_puts(out, " NOT NULL")) &&
		     (!col->domain_default ||
		      buf_printf(out, " DEFAULT %s", col->domain_default)) &&
		     (!col->domain_check || buf_printf(out, " CHECK (%s)", col->domain_check));
	}
	return ok || undo(out, start);
}

bool typemap_type_lookup(const struct dialect *to, struct buf *out, const struct column_desc *col)
{
	if (!is_pg(to) || !out || !col || !col->udt ||
	    (col->udt_kind != 'e' && col->udt_kind != 'd'))
		return false;
	size_t start = out->len;
	struct buf name;
	buf_init(&name, 0);
	bool ok = to->quote_ident(&name, col->udt) &&
		  buf_puts(out,
			   "SELECT t.typtype::text, CASE t.typtype WHEN 'e' THEN "
			   "coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) "
			   "FROM pg_enum e WHERE e.enumtypid = t.oid), '{}') = ARRAY[");
	for (int i = 0; ok && col->udt_kind == 'e' && i < col->nlabels; i++)
		ok = (!i || buf_puts(out, ", ")) &&
		     pg_literal(out, col->labels[i], strlen(col->labels[i]));
	ok = ok &&
	     buf_puts(out, "]::text[] WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) = ") &&
	     (domain_type(col) ? pg_literal(out, domain_type(col), strlen(domain_type(col)))
			       : buf_puts(out, "''")) &&
	     buf_puts(out, " ELSE false END FROM (SELECT to_regtype(") &&
	     pg_literal(out, buf_str(&name), name.len) &&
	     buf_puts(out, ") AS oid) r LEFT JOIN pg_type t ON t.oid = r.oid");
	buf_free(&name);
	return ok || undo(out, start);
}

/* Fill why (whysz bytes, may be 0) and return false. */
static bool refuse(char *why, size_t whysz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool refuse(char *why, size_t whysz, const char *fmt, ...)
{
	if (why && whysz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* PostgreSQL to PostgreSQL: idx as the source defines it (expressions,
 * WHERE, operator classes, INCLUDE, an EXCLUDE constraint), on spec's
 * table. */
static bool pg_index_by_definition(const struct dialect *to, struct buf *out,
				   const struct write_spec *spec, const struct index_desc *idx,
				   char *why, size_t whysz)
{
	size_t start = out->len;
	bool ok = idx->exclusion
			  ? buf_puts(out, "ALTER TABLE ") && sql_table_name(to, out, spec) &&
				    buf_puts(out, " ADD CONSTRAINT ") &&
				    to->quote_ident(out, idx->name) && buf_putc(out, ' ')
			  : buf_printf(out, "CREATE %sINDEX ", idx->unique ? "UNIQUE " : "") &&
				    to->quote_ident(out, idx->name) && buf_puts(out, " ON ") &&
				    sql_table_name(to, out, spec) && buf_putc(out, ' ');
	if (!(ok && buf_puts(out, idx->definition))) {
		undo(out, start);
		return refuse(why, whysz,
			      "index %s: a name cannot be quoted or the statement is too long",
			      idx->name);
	}
	return true;
}

bool typemap_create_index(const struct dialect *from, const struct dialect *to, struct buf *out,
			  const struct write_spec *spec, const struct index_desc *idx, char *why,
			  size_t whysz)
{
	if (why && whysz)
		why[0] = '\0';
	if (!from || !to || !out || !spec || !idx || !idx->name || !idx->name[0])
		return refuse(why, whysz, "an index without a name");
	if (idx->primary)
		return refuse(why, whysz, "index %s is the primary key, made with the table",
			      idx->name);
	if (is_pg(from) && is_pg(to) && idx->definition)
		return pg_index_by_definition(to, out, spec, idx, why, whysz);
	if (idx->exclusion)
		return refuse(why, whysz, "index %s is an EXCLUDE constraint (%s): %s has none",
			      idx->name, idx->definition ? idx->definition : "?", to->name);
	if (idx->expression)
		return refuse(why, whysz, "index %s is on an expression or partial: not carried",
			      idx->name);
	if (idx->ncols <= 0 || !idx->cols)
		return refuse(why, whysz, "index %s has no columns", idx->name);
	const char *method = idx->method && idx->method[0] ? idx->method : "btree";
	bool same = is_mysql(from) == is_mysql(to) && is_sqlite(from) == is_sqlite(to);
	bool plain = !strcasecmp(method, "btree") || !strcasecmp(method, "hash");
	const char *kind = "", *using = NULL;
	if (!plain && !same)
		return refuse(why, whysz, "index %s is a %s index, which %s does not have",
			      idx->name, method, to->name);
	if (is_mysql(to)) {
		/* InnoDB makes every plain index a btree */
		if (!strcasecmp(method, "fulltext"))
			kind = "FULLTEXT ";
		else if (!strcasecmp(method, "spatial"))
			kind = "SPATIAL ";
		else if (!plain)
			return refuse(why, whysz, "index %s: unknown method %s", idx->name, method);
	} else if (same && strcasecmp(method, "btree")) {
		if (strspn(method, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(method))
			return refuse(why, whysz, "index %s: unknown method %s", idx->name, method);
		using = method;
	}
	if (idx->unique && kind[0])
		return refuse(why, whysz, "index %s: a unique %s index", idx->name, method);
	size_t start = out->len;
	bool ok = buf_printf(out, "CREATE %s%sINDEX ", idx->unique ? "UNIQUE " : "", kind);
	if (ok && ((!is_mysql(to) && is_mysql(from)) ||
		   (is_sqlite(to) && !strncasecmp(idx->name, "sqlite_", 7)))) {
		/* MySQL names indexes per table, PostgreSQL per schema and SQLite
		 * per database; SQLite keeps sqlite_ names to itself */
		struct buf name;
		buf_init(&name, 0);
		char fit[80];
		ok = buf_printf(&name, "%s_%s", spec->table, idx->name);
		sql_fit_name(to, buf_str(&name), fit, sizeof fit);
		ok = ok && to->quote_ident(out, fit);
		buf_free(&name);
	} else {
		ok = ok && to->quote_ident(out, idx->name);
	}
	ok = ok && buf_puts(out, " ON ") && sql_table_name(to, out, spec) &&
	     (!using || buf_printf(out, " USING %s", using)) && buf_puts(out, " (");
	for (int k = 0; ok && k < idx->ncols; k++) {
		int prefix = idx->prefix ? idx->prefix[k] : 0;
		ok = (!k || buf_puts(out, ", "));
		if (is_sqlite(to))
			prefix = 0; /* SQLite indexes whole values of any length */
		if (ok && prefix > 0 && is_pg(to))
			/* MySQL's prefix: the same first characters (bytes of a blob) */
			ok = buf_puts(out, "(substring(") && to->quote_ident(out, idx->cols[k]) &&
			     buf_printf(out, " from 1 for %d))", prefix);
		else
			ok = ok && to->quote_ident(out, idx->cols[k]) &&
			     (prefix <= 0 || buf_printf(out, "(%d)", prefix));
	}
	ok = ok && buf_putc(out, ')');
	if (!ok) {
		undo(out, start);
		return refuse(why, whysz,
			      "index %s: a name cannot be quoted or the statement is too long",
			      idx->name);
	}
	return true;
}

bool typemap_add_check(const struct dialect *from, const struct dialect *to, struct buf *out,
		       const struct write_spec *spec, const struct table_desc *src,
		       const struct check_desc *ck, char *why, size_t whysz)
{
	if (why && whysz)
		why[0] = '\0';
	if (!from || !to || !out || !spec || !ck || !ck->name || !ck->expr)
		return refuse(why, whysz, "a CHECK without a name or expression");
	if (!is_pg(to) && !is_mysql(to))
		return refuse(why, whysz,
			      "CHECK %s: %s cannot add a constraint to a table once it is made",
			      ck->name, to->name);
	size_t start = out->len;
	/* MySQL names a constraint in 64 characters: a longer name is left to
	 * the server to choose */
	bool named = is_pg(to) || utf8_chars(ck->name) <= 64;
	bool ok = buf_puts(out, "ALTER TABLE ") && sql_table_name(to, out, spec) &&
		  buf_puts(out, " ADD ") &&
		  (!named || (buf_puts(out, "CONSTRAINT ") && to->quote_ident(out, ck->name) &&
			      buf_putc(out, ' '))) &&
		  buf_puts(out, "CHECK (");
	char because[200] = "";
	if (ok && is_mysql(from) == is_mysql(to)) {
		ok = buf_puts(out, ck->expr);
	} else if (ok && is_pg(from)) {
		ok = typemap_check_to_mysql(ck->expr, src, NULL, NULL, out, because,
					    sizeof because);
	} else if (ok && !typemap_check(from, to, ck->expr, out)) {
		snprintf(because, sizeof because,
			 "it uses what is not known to mean the same on %s (a function, a cast)",
			 to->name);
		ok = false;
	}
	if (!(ok && buf_putc(out, ')'))) {
		undo(out, start);
		return refuse(why, whysz, "CHECK %s (%s): %s", ck->name, ck->expr,
			      because[0] ? because : "a name cannot be quoted or it is too long");
	}
	return true;
}

enum fkey_extra typemap_fkey_extras(const struct fkey_desc *fk)
{
	const char *d = fk->definition;
	if (!d)
		return 0;
	unsigned x = 0;
	if (strstr(d, " MATCH FULL"))
		x |= FKEY_MATCH_FULL;
	if (strstr(d, " DEFERRABLE") && !strstr(d, "NOT DEFERRABLE"))
		x |= FKEY_DEFERRABLE;
	if (strstr(d, "INITIALLY DEFERRED"))
		x |= FKEY_INITIALLY_DEFERRED;
	return (enum fkey_extra)x;
}

bool typemap_add_fkey(const struct dialect *to, struct buf *out, const struct write_spec *spec,
		      const struct fkey_desc *fk)
{
	if (!to || !out || !spec || !fk || !fk->name || !fk->ref_table || fk->ncols <= 0 ||
	    !fk->cols || !fk->ref_cols)
		return false;
	const char *del = fk_action(fk->on_delete), *upd = fk_action(fk->on_update);
	if (!del || !upd)
		return false;
	struct write_spec ref = *spec;
	ref.schema = fk->ref_schema ? fk->ref_schema : spec->schema;
	ref.table = fk->ref_table;
	/* from PostgreSQL to PostgreSQL: MATCH FULL and DEFERRABLE too */
	enum fkey_extra x = is_pg(to) ? typemap_fkey_extras(fk) : 0;
	size_t start = out->len;
	bool ok = buf_puts(out, "ALTER TABLE ") && sql_table_name(to, out, spec) &&
		  buf_puts(out, " ADD CONSTRAINT ") && to->quote_ident(out, fk->name) &&
		  buf_puts(out, " FOREIGN KEY ") && column_list(to, out, fk->cols, fk->ncols) &&
		  buf_puts(out, " REFERENCES ") && sql_table_name(to, out, &ref) &&
		  buf_putc(out, ' ') && column_list(to, out, fk->ref_cols, fk->ncols) &&
		  (!(x & FKEY_MATCH_FULL) || buf_puts(out, " MATCH FULL")) &&
		  (!del[0] || buf_printf(out, " ON DELETE %s", del)) &&
		  (!upd[0] || buf_printf(out, " ON UPDATE %s", upd)) &&
		  (!(x & FKEY_DEFERRABLE) || buf_puts(out, " DEFERRABLE")) &&
		  (!(x & FKEY_INITIALLY_DEFERRED) || buf_puts(out, " INITIALLY DEFERRED"));
	return ok || undo(out, start);
}

bool typemap_drop_fkey(const struct dialect *to, struct buf *out, const struct write_spec *spec,
		       const char *name)
{
	if (!out || !spec || !name || !(is_pg(to) || is_mysql(to)))
		return false;
	size_t start = out->len;
	bool ok = buf_puts(out, "ALTER TABLE ") && sql_table_name(to, out, spec) &&
		  buf_puts(out, is_mysql(to) ? " DROP FOREIGN KEY " : " DROP CONSTRAINT ") &&
		  to->quote_ident(out, name);
	return ok || undo(out, start);
}

/* ---- values ---- */

/* Steps of typemap_value write their output after out's contents, then
 * slide it to the front: the input may be out's own contents (an earlier
 * step's output). step_begin makes room for need bytes, re-pointing *in
 * when it lives in out (the room may move it). */
static bool step_begin(struct buf *out, bool in_out, const char **in, size_t need, char **dst)
{
	if (!in_out)
		buf_reset(out);
	if (!buf_reserve(out, need))
		return false;
	if (in_out)
		*in = out->data;
	*dst = out->data + out->len;
	return true;
}

/* The step wrote produced bytes at dst: they become out's contents and
 * the next step's input. */
static void step_end(struct buf *out, bool *in_out, char *dst, size_t produced, const char **cur,
		     size_t *n)
{
	if (*in_out)
		memmove(out->data, dst, produced);
	out->len = produced;
	out->data[produced] = '\0';
	*cur = out->data;
	*n = produced;
	*in_out = true;
}

bool typemap_value(unsigned xf, int bits, const char *s, size_t len, struct buf *out, bool *is_null,
		   char *why, size_t whysz)
{
	static const char hex[] = "0123456789abcdef";
	*is_null = false;
	buf_reset(out);
	if (why && whysz)
		why[0] = '\0';
	if (!s) {
		*is_null = true;
		return true;
	}
	const char *cur = s;
	size_t n = len;
	bool in_out = false; /* cur is out's contents */
	char *dst;

	if ((xf & XF_ZERO_DATE_NULL) && zero_date(cur, n)) {
		*is_null = true;
		return true;
	}
	if (xf & XF_BYTES_TO_PGHEX) {
		if (n > (SIZE_MAX - 2) / 2 || !step_begin(out, in_out, &cur, 2 + 2 * n, &dst))
			return refuse(why, whysz, "value too large");
		dst[0] = '\\';
		dst[1] = 'x';
		for (size_t i = 0; i < n; i++) {
			dst[2 + 2 * i] = hex[(unsigned char)cur[i] >> 4];
			dst[3 + 2 * i] = hex[(unsigned char)cur[i] & 15];
		}
		step_end(out, &in_out, dst, 2 + 2 * n, &cur, &n);
	}
	if (xf & XF_PGHEX_TO_BYTES) {
		size_t need = n >= 2 ? (n - 2) / 2 : 0;
		if (!step_begin(out, in_out, &cur, need, &dst))
			return refuse(why, whysz, "value too large");
		if (!convert_pghex_decode(cur, n, dst))
			return refuse(why, whysz, "a bytea value that is not \\x hex");
		step_end(out, &in_out, dst, need, &cur, &n);
	}
	if (xf & XF_BIT_TO_BOOL) {
		/* big-endian bytes of a bit(1): all zero but maybe the last bit */
		bool set = n && (unsigned char)cur[n - 1] == 1;
		for (size_t i = 0; i + 1 < n; i++)
			if (cur[i])
				return refuse(why, whysz, "a bit(1) value wider than one bit");
		if (!n || (unsigned char)cur[n - 1] > 1)
			return refuse(why, whysz, "not a bit(1) value");
		cur = set ? "t" : "f";
		n = 1;
		in_out = false;
	}
	if (xf & XF_BITS_TO_TEXT) {
		if (bits <= 0 || !n)
			return refuse(why, whysz, "not a bit(%d) value", bits);
		/* every bit above the width must be zero */
		for (size_t i = 0; i < n; i++) {
			size_t low = (n - 1 - i) * 8; /* the weight of this byte's lowest bit */
			unsigned char c = (unsigned char)cur[i];
			if (low >= (size_t)bits
				    ? c != 0
				    : (size_t)bits - low < 8 && c >> ((size_t)bits - low))
				return refuse(why, whysz, "a bit value wider than bit(%d)", bits);
		}
		if (!step_begin(out, in_out, &cur, (size_t)bits, &dst))
			return refuse(why, whysz, "value too large");
		for (int i = 0; i < bits; i++) {
			size_t w = (size_t)(bits - 1 - i); /* weight of digit i */
			unsigned char c = w / 8 < n ? (unsigned char)cur[n - 1 - w / 8] : 0;
			dst[i] = (char)('0' + ((c >> (w % 8)) & 1));
		}
		step_end(out, &in_out, dst, (size_t)bits, &cur, &n);
	}
	if (xf & XF_APPEND_UTC) {
		if (!step_begin(out, in_out, &cur, n + 3, &dst))
			return refuse(why, whysz, "value too large");
		memcpy(dst, cur, n);
		memcpy(dst + n, "+00", 3);
		step_end(out, &in_out, dst, n + 3, &cur, &n);
	}
	if (xf & XF_BOOL_TO_01) {
		if (n != 1 || (cur[0] != 't' && cur[0] != 'f'))
			return refuse(why, whysz, "not a boolean t or f");
		cur = cur[0] == 't' ? "1" : "0";
		in_out = false;
	}
	if (xf & XF_BOOL_TO_WORD) {
		if (n != 1 || (cur[0] != 't' && cur[0] != 'f'))
			return refuse(why, whysz, "not a boolean t or f");
		cur = cur[0] == 't' ? "true" : "false";
		n = cur[0] == 't' ? 4 : 5;
		in_out = false;
	}
	if (xf & XF_PG_TEXTBITS_TO_BYTES) {
		bool digits = bits > 0 && n;
		for (size_t i = 0; digits && i < n; i++)
			digits = cur[i] == '0' || cur[i] == '1';
		if (!digits)
			return refuse(why, whysz, "not a bit(%d) value of 0/1 digits", bits);
		if (n > (size_t)bits)
			return refuse(why, whysz, "a bit value wider than bit(%d)", bits);
		size_t need = ((size_t)bits + 7) / 8;
		if (!step_begin(out, in_out, &cur, need, &dst))
			return refuse(why, whysz, "value too large");
		memset(dst, 0, need);
		for (size_t i = 0; i < n; i++) {
			size_t w = n - 1 - i;
			if (cur[i] == '1')
				dst[need - 1 - w / 8] =
					(char)(dst[need - 1 - w / 8] | 1 << (w % 8));
		}
		step_end(out, &in_out, dst, need, &cur, &n);
	}
	if ((xf & XF_TIME_TRIM) && memchr(cur, '.', n)) {
		while (cur[n - 1] == '0')
			n--;
		if (cur[n - 1] == '.')
			n--;
		if (in_out) {
			out->len = n;
			out->data[n] = '\0';
		}
	}
	if ((xf & XF_PAD_TRIM) && n && cur[n - 1] == ' ') {
		while (n && cur[n - 1] == ' ')
			n--;
		if (in_out) {
			out->len = n;
			out->data[n] = '\0';
		}
	}
	bool special = (xf & XF_KEEP_SPECIAL) && ((n == 3 && !memcmp(cur, "NaN", 3)) ||
						  (n == 8 && !memcmp(cur, "Infinity", 8)) ||
						  (n == 9 && !memcmp(cur, "-Infinity", 9)));
	if ((xf & XF_FLOAT4_DIGITS) && !special) {
		char tmp[64], *end;
		if (n >= sizeof tmp)
			return refuse(why, whysz, "not a real value");
		memcpy(tmp, cur, n);
		tmp[n] = '\0';
		/* (a subnormal sets ERANGE, yet is a real's exact value) */
		float f = strtof(tmp, &end);
		if (end == tmp || *end || isnan(f) || isinf(f))
			return refuse(why, whysz, "%s: not a finite real value", tmp);
		/* 17 digits name the double exactly, and the double is the float */
		int w = snprintf(tmp, sizeof tmp, "%.17g", (double)f);
		cur = tmp;
		n = (size_t)w;
		buf_reset(out);
		if (!buf_append(out, cur, n))
			return refuse(why, whysz, "value too large");
		return true;
	}
	if (!in_out) {
		buf_reset(out);
		if (!buf_append(out, cur, n))
			return refuse(why, whysz, "value too large");
	}
	return true;
}

/* ---- CHECK expressions ---- */

/* Words a CHECK may use that mean the same on both servers. */
static const char *const check_words[] = {"and",  "or",	  "not",   "in",   "between", "is",
					  "null", "true", "false", "like", NULL};

bool typemap_check(const struct dialect *from, const struct dialect *to, const char *expr,
		   struct buf *out)
{
	size_t start = out->len;
	const char *p = expr;
	char from_q = is_mysql(from) ? '`' : '"';
	bool ok = true;
	while (ok && *p) {
		unsigned char ch = (unsigned char)*p;
		if (isspace(ch)) {
			ok = buf_putc(out, ' ');
			while (isspace((unsigned char)*p))
				p++;
		} else if (*p == from_q) {
			/* a quoted name, its quote doubled inside */
			struct buf name;
			buf_init(&name, 0);
			for (p++; ok && *p && !(*p == from_q && p[1] != from_q); p++) {
				if (*p == from_q)
					p++;
				ok = buf_putc(&name, *p);
			}
			ok = ok && *p == from_q && to->quote_ident(out, buf_str(&name));
			buf_free(&name);
			p++;
		} else if (*p == '\'') {
			/* a string: '' inside; a backslash means other things on
			 * the two servers, so such a CHECK is not translated */
			const char *s = p++;
			while (*p && !(*p == '\'' && p[1] != '\'')) {
				if (*p == '\\')
					ok = false;
				p += *p == '\'' ? 2 : 1;
			}
			ok = ok && *p == '\'' && buf_append(out, s, (size_t)(p + 1 - s));
			p++;
		} else if (isdigit(ch) || (*p == '.' && isdigit((unsigned char)p[1]))) {
			const char *s = p;
			while (isalnum((unsigned char)*p) || *p == '.')
				p++;
			ok = buf_append(out, s, (size_t)(p - s));
		} else if (isalpha(ch) || *p == '_') {
			const char *s = p;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			char w[64];
			size_t n = (size_t)(p - s);
			if (n >= sizeof w)
				ok = false;
			for (size_t i = 0; ok && i < n; i++)
				w[i] = (char)tolower((unsigned char)s[i]);
			if (ok)
				w[n] = '\0';
			bool call = *p == '(';
			if (!ok || call) {
				ok = false; /* a function: not known to mean the same */
			} else if (name_in(w, check_words)) {
				ok = buf_append(out, s, n);
			} else {
				/* a bare name: PostgreSQL prints lower case names so */
				ok = to->quote_ident(out, w);
			}
		} else if (strchr("()<>=!+-*/,%", *p)) {
			ok = buf_putc(out, *p++);
		} else {
			ok = false;
		}
	}
	return ok || undo(out, start);
}

long typemap_index_prefix(const struct dialect *to, const char *type)
{
	if (!is_mysql(to))
		return 0;
	/* MySQL indexes a text, a blob or a json only by a prefix; 255 is the
	 * bound copy gives a text key (see mysql_types.c) */
	struct sql_type t;
	bool whole =
		to->type_classify(type, NULL, &t) &&
		(((t.kind == SQL_TEXT || t.kind == SQL_BINARY) && t.lob) || t.kind == SQL_JSON);
	sql_type_free(&t);
	return whole ? 255 : 0;
}

bool typemap_on_update_function(const struct dialect *to, struct buf *out)
{
	if (!is_pg(to))
		return false;
	/* MySQL's ON UPDATE: the column takes the time when the row changes
	 * and the update did not set the column itself */
	return buf_puts(out,
			"CREATE OR REPLACE FUNCTION sluice_on_update() RETURNS trigger "
			"LANGUAGE plpgsql AS $sluice$ BEGIN IF to_jsonb(NEW) - TG_ARGV[0] IS "
			"DISTINCT FROM to_jsonb(OLD) - TG_ARGV[0] AND to_jsonb(NEW) -> TG_ARGV[0] "
			"IS NOT DISTINCT FROM to_jsonb(OLD) -> TG_ARGV[0] THEN NEW := "
			"jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], now())); END "
			"IF; RETURN NEW; END $sluice$");
}

bool typemap_on_update_trigger(const struct dialect *to, struct buf *out,
			       const struct write_spec *spec, const char *column)
{
	if (!is_pg(to))
		return false;
	size_t start = out->len;
	struct buf name;
	buf_init(&name, 0);
	char fit[80];
	bool ok = buf_printf(&name, "%s_%s_on_update", spec->table, column);
	sql_fit_name(to, buf_str(&name), fit, sizeof fit);
	ok = ok && buf_puts(out, "CREATE TRIGGER ") && to->quote_ident(out, fit) &&
	     buf_puts(out, " BEFORE UPDATE ON ") && sql_table_name(to, out, spec) &&
	     buf_puts(out, " FOR EACH ROW EXECUTE FUNCTION sluice_on_update(") &&
	     sql_quote_with(out, column, '\'') && buf_putc(out, ')');
	buf_free(&name);
	return ok || undo(out, start);
}

bool typemap_create_schema(const struct dialect *to, struct buf *out, const char *schema)
{
	if (!is_pg(to))
		return false;
	size_t start = out->len;
	return (buf_puts(out, "CREATE SCHEMA IF NOT EXISTS ") && to->quote_ident(out, schema)) ||
	       undo(out, start);
}

bool typemap_cast_check(const char *cast, char *why, size_t whysz)
{
	const char *p = cast;
	if (!*p)
		return refuse(why, whysz, "--cast is empty");
	while (*p) {
		const char *start = p, *eq = NULL;
		int depth = 0;
		bool quoted = false, twice = false; /* a=b=c: which is the type? */
		for (; *p && (depth || quoted || *p != ','); p++) {
			if (*p == '\'')
				quoted = !quoted;
			else if (!quoted && *p == '(')
				depth++;
			else if (!quoted && *p == ')' && !depth--)
				break;
			else if (!quoted && !depth && *p == '=') {
				twice |= eq != NULL;
				eq = eq ? eq : p;
			} else if (!quoted && (*p == ';' || *p == '`' || *p == '"'))
				break;
		}
		const char *end = p;
		while (start < end && isspace((unsigned char)*start))
			start++;
		bool bad = quoted || depth || (*p && *p != ',') || !eq || twice;
		const char *t = eq ? eq + 1 : end;
		while (t < end && isspace((unsigned char)*t))
			t++;
		bool empty = eq && (eq == start || t == end);
		if (bad || empty)
			return refuse(
				why, whysz,
				"--cast entry '%.*s' is not SOURCE_TYPE=TARGET_TYPE (a type, '=', "
				"a type; entries apart by commas)",
				(int)(end - start + (*p && *p != ',')), start);
		if (*p)
			p++;
	}
	return true;
}
