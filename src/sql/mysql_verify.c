/* src/sql/mysql_verify.c
 * MySQL's and MariaDB's side of sluice verify (canon.h): a column's value
 * as canonical text, computed where MySQL shows no such text itself, and
 * the count and checksum of a table's rows.
 */
#include <string.h>

#include "sluice/sql.h"

/* What a column's expression depends on, of its type: the forms treat
 * these apart, any other type alike. */
enum my_canon_kind {
	MYC_OTHER, /* its text, in utf8mb4 */
	MYC_BITS,  /* bit(n), and a boolean held as bit(1) */
	MYC_DEC,
	MYC_FLOAT8,
	MYC_BYTES, /* binary strings and blobs, spatial types as their bytes */
	MYC_TIME,
};

/* Which of the kinds above t is. */
static enum my_canon_kind my_canon_kind(const struct sql_type *t)
{
	if (t->array)
		return MYC_OTHER;
	switch (t->kind) {
	case SQL_BOOL:
		return t->bool_form == SQL_BOOL_BIT ? MYC_BITS : MYC_OTHER;
	case SQL_BIT:
		return MYC_BITS;
	case SQL_DECIMAL:
		return MYC_DEC;
	case SQL_FLOAT:
		return t->bytes == 4 ? MYC_OTHER : MYC_FLOAT8;
	case SQL_BINARY:
		return MYC_BYTES;
	case SQL_SPATIAL:
		/* geomcollection (MySQL 8's geometrycollection) was never
		 * among verify's byte types: still compared by its text */
		return strcmp(t->name, "geomcollection") ? MYC_BYTES : MYC_OTHER;
	case SQL_TIME:
		return t->with_tz ? MYC_OTHER : MYC_TIME;
	default:
		return MYC_OTHER;
	}
}

/* The binary digits a MYC_BITS value is written with: its width. */
static int my_bit_width(const struct sql_type *t)
{
	if (t->kind == SQL_BOOL)
		return 1;
	return t->fixed ? (int)t->length : 0;
}

/* The canonical text of a float: the IEEE 754 bit pattern of its value
 * in lower-case hex, 16 digits for a double (bits 53), 8 for a float (24),
 * a double rounded to the nearest float (ties to even, as a cast rounds);
 * zero without its sign. A number is only equal to itself this way: a
 * changed last bit is a different text. */

/* MySQL: the exponent of v, a double expression, floor(log2(|v|)). LOG2 is
 * log(x) / log(2) on MySQL and MariaDB, one off next to powers of two, so
 * its estimate (kept where POW stays finite) is set right by comparing |v|
 * with the powers of two around it. Below the normal range it may be too
 * small: every caller raises it to the smallest normal exponent. */
static bool my_float_exponent(struct buf *b, const char *v)
{
	return buf_printf(
		b,
		"(LEAST(GREATEST(FLOOR(LOG2(ABS(%1$s))), -1023), 1022) - "
		"(ABS(%1$s) < POW(2, LEAST(GREATEST(FLOOR(LOG2(ABS(%1$s))), -1023), "
		"1022))) + (ABS(%1$s) >= POW(2, LEAST(GREATEST(FLOOR(LOG2(ABS(%1$s))), -1023), 1022) + 1)))",
		v);
}

/* MySQL: the pattern of v, a double expression, computed (MySQL shows no
 * bits). With e its exponent, raised to the smallest normal one (-1022,
 * -126), |v| * 2^(fraction bits - e) is the significand as an integer,
 * exact (a scaling by a power of two; for a double in two factors, since
 * 2^1074 overflows), rounded to a float's 24 bits by ROUND, which rounds a
 * double to even; (e + bias - 1) * 2^(fraction bits) plus it is the
 * pattern without its sign, subnormals and a rounding up into the next
 * exponent included. A float beyond range is infinity, the sign a bit of
 * its own. */
static bool my_float_bits(struct buf *b, const char *v, int bits)
{
	struct buf e, es;
	buf_init(&e, 0);
	buf_init(&es, 0);
	bool ok = my_float_exponent(&e, v);
	if (bits == 53)
		ok = ok && buf_printf(&es, "GREATEST(%s, -1022)", buf_str(&e)) &&
		     buf_printf(b,
				"CASE WHEN %1$s = 0 THEN '0000000000000000' ELSE "
				"LOWER(LPAD(HEX((CAST(%2$s + 1022 AS SIGNED) * 4503599627370496 + "
				"CAST(ABS(%1$s) * POW(2, -48 - %2$s) * POW(2, 100) AS SIGNED)) | "
				"((%1$s < 0) << 63)), 16, '0')) END",
				v, buf_str(&es));
	else
		ok = ok && buf_printf(&es, "GREATEST(%s, -126)", buf_str(&e)) &&
		     buf_printf(
			     b,
			     "CASE WHEN %1$s = 0 THEN '00000000' ELSE "
			     "LOWER(LPAD(HEX(LEAST(CAST(%2$s + 126 AS SIGNED) * 8388608 + "
			     "CAST(ROUND(ABS(%1$s) * POW(2, 23 - %2$s)) AS SIGNED), 2139095040) | "
			     "((%1$s < -POW(2, -150)) << 31)), 8, '0')) END",
			     v, buf_str(&es));
	buf_free(&e);
	buf_free(&es);
	return ok;
}

/* A zero date, or a date with a zero month or day, is NULL: copy writes
 * MySQL's zero dates as NULL whatever the target. */
bool mysql_canon_value(struct buf *b, const char *q, const struct sql_type *t,
		       const struct canon_spec *how)
{
	enum my_canon_kind c = my_canon_kind(t);
	struct buf v;
	bool ok;
	switch (how->form) {
	case CANON_NUM:
		if (c == MYC_BITS)
			return buf_printf(b, "LPAD(BIN(%s + 0), %d, '0')", q, my_bit_width(t));
		/* + 0: a number without ZEROFILL's padding, a year as 0 not 0000 */
		if (c == MYC_DEC)
			return buf_printf(
				b,
				"CASE WHEN LOCATE('.', CAST(%1$s + 0 AS CHAR)) > 0 THEN "
				"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST(%1$s + 0 AS "
				"CHAR))) ELSE CAST(%1$s + 0 AS CHAR) END",
				q);
		return buf_printf(b, "CAST(%s + 0 AS CHAR)", q);
	case CANON_FLOAT:
		/* + 0e0: a double, exactly the float's value (MySQL shows a FLOAT
		 * to 6 digits) */
		buf_init(&v, 0);
		ok = buf_printf(&v, c == MYC_FLOAT8 ? "%s" : "(%s + 0e0)", q) &&
		     my_float_bits(b, buf_str(&v), how->bits);
		buf_free(&v);
		return ok;
	case CANON_DATE:
	case CANON_TS:
		ok = buf_printf(
			b, "CASE WHEN MONTH(%1$s) = 0 OR DAYOFMONTH(%1$s) = 0 THEN NULL ELSE ", q);
		if (how->form == CANON_DATE)
			ok = ok && buf_printf(b, "DATE_FORMAT(%s, '%%Y-%%m-%%d')", q);
		else if (how->prec > 0)
			ok = ok &&
			     buf_printf(b,
					"CONCAT(DATE_FORMAT(%1$s, '%%Y-%%m-%%d %%H:%%i:%%s'), '.', "
					"LEFT(DATE_FORMAT(%1$s, '%%f'), %2$d))",
					q, how->prec);
		else
			ok = ok && buf_printf(b, "DATE_FORMAT(%s, '%%Y-%%m-%%d %%H:%%i:%%s')", q);
		return ok && buf_puts(b, " END");
	case CANON_TIME:
		/* HOUR, MINUTE, SECOND and MICROSECOND are of the absolute value;
		 * TIME_TO_SEC keeps the fraction on MariaDB only */
		ok = buf_printf(b,
				"CAST((CAST((HOUR(%1$s) * 3600 + MINUTE(%1$s) * 60 + SECOND(%1$s)) "
				"* 1000000 + MICROSECOND(%1$s) AS SIGNED) "
				"* IF(LEFT(CAST(%1$s AS CHAR), 1) = '-', -1, 1))",
				q);
		if (how->prec < 6)
			ok = ok && buf_printf(b, " DIV %d", canon_micros_per_unit(how->prec));
		return ok && buf_puts(b, " AS CHAR)");
	case CANON_HASH:
	case CANON_JSON_NORM:
		if (c == MYC_BYTES)
			return buf_printf(b, "MD5(%s)", q);
		/* a time against text (copy's interval -> varchar on the way back):
		 * the text of both without a fraction's trailing zeros */
		if (c == MYC_TIME)
			return buf_printf(b,
					  "MD5(CASE WHEN LOCATE('.', CAST(%1$s AS CHAR)) > 0 THEN "
					  "TRIM(TRAILING "
					  "'.' FROM TRIM(TRAILING '0' FROM CAST(%1$s AS CHAR))) "
					  "ELSE CAST(%1$s AS "
					  "CHAR) END)",
					  q);
		/* MD5 hashes the bytes of the string's character set: UTF-8 */
		return buf_printf(b,
				  how->lower ? "MD5(LOWER(CONVERT(%s USING utf8mb4)))"
					     : "MD5(CONVERT(%s USING utf8mb4))",
				  q);
	case CANON_NULLNESS:
		return buf_printf(b, "CASE WHEN %s IS NULL THEN NULL ELSE '' END", q);
	}
	return false;
}

bool mysql_checksum_query(struct buf *b, const struct write_spec *spec, const char *const *values,
			  int n)
{
	bool ok = buf_puts(b, "SELECT COUNT(*), CAST(COALESCE(SUM(CAST(CONV(SUBSTR(MD5(CONCAT(");
	/* each value: its length, ':', its text (all ASCII); NULL: N */
	for (int i = 0; ok && i < n; i++)
		ok = buf_printf(b, "%sCOALESCE(CONCAT(CHAR_LENGTH(c%d), ':', c%d), 'N')",
				i ? ", " : "", i, i);
	if (n == 0)
		ok = ok && buf_puts(b, "''");
	/* the sum of up to 2^64 rows' 60-bit numbers fits DECIMAL(65,0) */
	return ok &&
	       buf_puts(b, ")), 1, 15), 16, 10) AS UNSIGNED)), 0) AS DECIMAL(65,0)) FROM (") &&
	       sql_select_values(&mysql_dialect, b, spec, values, n) && buf_puts(b, ") s");
}
