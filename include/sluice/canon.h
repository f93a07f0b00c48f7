/* include/sluice/canon.h
 * Canonical text for sluice verify: the forms a value is normalized to so
 * that two servers print equal values as the same bytes. verify chooses a
 * form per column from the types on both sides; each dialect writes the
 * expression for it (sql.h: canon_value, checksum_query). Plain data.
 */
#ifndef SLUICE_CANON_H
#define SLUICE_CANON_H

#include <stdbool.h>

/* The canonical text of a value. Every form is NULL for NULL, and, for
 * equal values, the same bytes on every dialect: that is the whole
 * contract, since the two sides' texts are hashed and compared. */
enum canon_form {
	/* An exact number as decimal text: integers without padding or
	 * ZEROFILL zeros (a year as 0, not 0000), a boolean 0 or 1, bits as
	 * binary digits, as many as the type is wide (so bit(1) is a
	 * boolean), a decimal without trailing fraction zeros nor a
	 * trailing point (1.5 for 1.500, 2 for 2.00). */
	CANON_NUM,
	/* The IEEE 754 bit pattern of the value as a double (bits 53: 16
	 * lower-case hex digits) or rounded to the nearest float (bits 24:
	 * 8 digits; ties to even, beyond the float range infinity, at most
	 * 2^-150 zero), zero of either sign all zeros; a NaN "NaN". */
	CANON_FLOAT,
	/* YYYY-MM-DD. A zero date, or one with a zero month or day (MySQL),
	 * is NULL, as copy writes it; what has no such text (an infinite or
	 * BC date) the server's own text. */
	CANON_DATE,
	/* YYYY-MM-DD HH:MM:SS, then when prec > 0 "." and the first prec
	 * digits of the fraction (truncated, not rounded); a timestamp with
	 * a time zone in UTC, a date at midnight. Zero dates and what has no
	 * such text as for CANON_DATE. */
	CANON_TS,
	/* A time of day or duration as the signed number of units of
	 * 10^-prec seconds, truncated toward zero ("-1" for -00:00:01 at
	 * prec 0). An interval with months or days: "<months> mons <days>
	 * days <that number of the time part>", months counting years as
	 * 12 and the time's hours not folded into days. */
	CANON_TIME,
	/* md5 (32 lower-case hex digits) of the value's bytes: text as UTF-8
	 * (lower-cased first with lower; as the type reads back, char(n)
	 * without its padding), binary values as they are, any other type
	 * its output text as copy reads it. */
	CANON_HASH,
	/* md5 of the json value's text as the server normalizes it. Only
	 * ever asked for between two sides of the same dialect. */
	CANON_JSON_NORM,
	/* "" for a value: only whether it is NULL is compared. */
	CANON_NULLNESS,
};

/* How one column is to be written: the form, and its parameters. */
struct canon_spec {
	enum canon_form form;
	int prec;   /* CANON_TS, CANON_TIME: fraction digits of seconds kept, 0..6 */
	int bits;   /* CANON_FLOAT: 24 (float) or 53 (double) */
	bool lower; /* CANON_HASH: lower-case the text first (a uuid on one side) */
};

/* 10^(6 - prec): microseconds in one unit of a CANON_TIME of prec digits. */
static inline int canon_micros_per_unit(int prec)
{
	int n = 1;
	for (int i = prec; i < 6; i++)
		n *= 10;
	return n;
}

#endif
