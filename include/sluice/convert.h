/* include/sluice/convert.h
 * Value conversion by target column type: the spellings a user writes
 * (true/yes/on, ISO 8601 timestamps with T, fractions, Z and offsets) turned
 * into the text the server's column accepts. Pure functions, no I/O.
 *
 * A value that is not in a form its kind converts is left alone, so the
 * server (in strict mode) refuses it; nothing is ever silently changed.
 */
#ifndef SLUICE_CONVERT_H
#define SLUICE_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/sqltype.h"

enum convert_kind {
	CONVERT_NONE = 0,
	CONVERT_BOOL,	  /* tinyint(1), bool: "1" or "0" */
	CONVERT_BIT1,	  /* bit(1): one byte, 0x01 or 0x00 */
	CONVERT_DATETIME, /* datetime, timestamp: "YYYY-MM-DD HH:MM:SS[.f]" in UTC when zoned */
	CONVERT_DATE,	  /* date: "YYYY-MM-DD" */
	CONVERT_BYTES,	  /* binary, varbinary, *blob: "\x" and hex digits as the raw bytes */
	CONVERT_BITS,	  /* bit(n): 0/1 digits (as PostgreSQL and export write bits) as bytes */
};

/* The most bytes a conversion adds to its input; out buffers for an input
 * of len bytes need len + CONVERT_MAX_GROWTH bytes. */
#define CONVERT_MAX_GROWTH 16

/* The conversion a MySQL column of type t gets (a tinyint(1), signed or
 * not, takes booleans). The drivers reach it by a column's text through
 * sql.h's convert_kind_for_mysql. */
enum convert_kind convert_kind_mysql(const struct sql_type *t);

/* Parse a boolean spelling: true/false, t/f, yes/no, y/n, on/off (any case),
 * 1/0. False when s is none of them. */
bool convert_parse_bool(const char *s, size_t len, bool *value);

/* Parse an ISO 8601 date or date-time: YYYY-MM-DD, then optionally 'T' (or
 * a space) HH:MM[:SS[.fraction]] and optionally 'Z', +hh, +hh:mm or +hhmm.
 * A zoned value is converted to UTC. Writes "YYYY-MM-DD HH:MM:SS[.fraction]"
 * (the fraction's digits as given) into out, NUL-terminated, and its length
 * into *outlen. outsz must be at least len + CONVERT_MAX_GROWTH. False when
 * s is not such a value, or names a day that does not exist. */
bool convert_iso_datetime(const char *s, size_t len, char *out, size_t outsz, size_t *outlen);

/* Write the instant ms milliseconds after 1970-01-01T00:00:00Z (negative:
 * before) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out, NUL-terminated, and its
 * length into *outlen. Years past 9999 take more digits; years before 1
 * are written as PostgreSQL reads them, "YYYY-MM-DDTHH:MM:SS.mmmZ BC" (the
 * year before 1 is 0001 BC). outsz must be at least CONVERT_EPOCH_MAX. */
#define CONVERT_EPOCH_MAX 40
bool convert_epoch_ms_iso(int64_t ms, char *out, size_t outsz, size_t *outlen);

/* Convert s for kind into out (at least len + CONVERT_MAX_GROWTH bytes,
 * NUL-terminated); *outlen is the output length. False when kind does not
 * apply to s: the caller then sends s unchanged. */
bool convert_value(enum convert_kind kind, const char *s, size_t len, char *out, size_t outsz,
		   size_t *outlen);

/* How exactly a MySQL column keeps a value, beyond what the server reports.
 * MariaDB rounds a fraction sent to an integer column and drops fractional
 * seconds a datetime, timestamp or time column has no room for, silently
 * even in strict mode (a decimal's extra digits it does report, as a note).
 * A rule is CONVERT_EXACT_ANY, CONVERT_EXACT_INTEGER, or 0..6: the
 * fractional-second digits the column keeps. */
enum {
	CONVERT_EXACT_ANY = -1,
	CONVERT_EXACT_INTEGER = -2,
	CONVERT_EXACT_DOUBLE = -3, /* a number that underflows to 0 is not kept */
	CONVERT_EXACT_FLOAT = -4,  /* the same at single precision */
	/* a PostgreSQL date, which drops a time of day and an offset, and
	 * reads 'today', 'now' as the day of the load */
	CONVERT_EXACT_PG_DATE = -5,
	/* a PostgreSQL jsonb, which keeps only the last of an object's keys
	 * that repeat (json keeps the text) */
	CONVERT_EXACT_PG_JSONB = -6,
	/* a PostgreSQL boolean, which reads a prefix ('tr', 'of') as a word */
	CONVERT_EXACT_PG_BOOL = -7,
};
/* A numeric column keeping s decimal places: what it would round. */
#define CONVERT_EXACT_SCALE(s) (-1000 - (s))
/* A PostgreSQL timestamp or time keeping n fractional-second digits (its
 * infinities are values, unlike MySQL's). */
#define CONVERT_EXACT_PG_FSP(n) (-200 - (n))
/* The same for a PostgreSQL timestamp without time zone, which also drops
 * a UTC offset the value carries (MariaDB's DATETIME converts it to the
 * session's UTC): a value with an offset other than 0 is not kept. */
#define CONVERT_EXACT_PG_LOCAL_FSP(n) (-300 - (n))
/* A PostgreSQL time without time zone keeping n digits, which also drops
 * a date, a UTC offset or a zone the value carries (MariaDB's TIME refuses
 * or reports them): a value with one is not kept, but Z, UTC, GMT and an
 * offset of 0 are. */
#define CONVERT_EXACT_PG_LOCAL_TIME_FSP(n) (-400 - (n))
/* A PostgreSQL array whose elements keep a value by rule r (any rule
 * above): each element of the array literal is held to r. */
#define CONVERT_EXACT_ARRAY(r) (-20000000 + (r))
#define CONVERT_EXACT_IS_ARRAY(rule) ((rule) <= -20000000)
#define CONVERT_EXACT_ELEMENT(rule) ((rule) + 20000000)
/* A PostgreSQL varchar(n), n up to 10485760: a longer value whose excess
 * is spaces is cut to n characters without a word (any other excess is an
 * error). */
#define CONVERT_EXACT_PG_VARCHAR(n) (-1000000 - (n))
#define CONVERT_EXACT_IS_VARCHAR(rule) ((rule) <= -1000000 && (rule) > -20000000)
/* The rule of a MySQL column of type t (sql.h: convert_exact_rule_for_mysql
 * by its text). */
int convert_exact_mysql(const struct sql_type *t);
/* The same for a PostgreSQL column: numeric(p,s) keeps s decimal places,
 * timestamp(n)/time(n) n fractional-second digits (6 without n), an array
 * as its elements. PostgreSQL rounds what does not fit, silently; a
 * timestamp without time zone drops an offset, silently. */
int convert_exact_pg(const struct sql_type *t);

/* PostgreSQL's bytea hex form, "\x" and an even number of hex digits: the
 * (len - 2) / 2 bytes it stands for into out; false (out untouched) for
 * anything else. */
bool convert_pghex_decode(const char *s, size_t len, char *out);

/* Whether s is plainly a number with at most keep digits after its point:
 * [+-]digits[.digits], no spaces, no exponent. Then the decimal places it
 * carries (convert_is_exact's close look counts no more than those
 * digits) are within keep too. */
static inline bool convert_plain_within(const char *s, size_t len, long keep)
{
	size_t i = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	size_t d0 = i;
	while (i < len && (unsigned char)(s[i] - '0') < 10)
		i++;
	bool any = i > d0;
	if (i < len && s[i] == '.') {
		size_t f0 = ++i;
		while (i < len && (unsigned char)(s[i] - '0') < 10)
			i++;
		if ((long)(i - f0) > keep)
			return false;
		any |= i > f0;
	}
	return any && i == len;
}

/* Whether no run of digits in s is longer than kept: fractional seconds
 * are such a run (fraction), so then none is dropped. */
static inline bool convert_digit_runs_within(const char *s, size_t len, size_t kept)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		run = (unsigned char)(s[i] - '0') < 10 ? run + 1 : 0;
		if (run > kept)
			return false;
	}
	return true;
}

/* Whether no run of digits in s is longer than kept and, after the date
 * and its separator (11 bytes), s has no sign nor letter: no UTC offset
 * (a PostgreSQL timestamp without time zone would drop it). One pass. */
static inline bool convert_local_within(const char *s, size_t len, size_t kept)
{
	/* the common shape first, tested without a loop: YYYY-MM-DD HH:MM:SS
	 * (or a T) and a fraction of at most kept digits; its longest run of
	 * digits is the year's, and no sign nor letter follows the date */
#define CONVERT_D(i) ((unsigned)((unsigned char)s[i] - '0') <= 9)
	if (len >= 19 && kept >= 4 && s[4] == '-' && s[7] == '-' &&
	    (s[10] == 'T' || s[10] == ' ') && s[13] == ':' && s[16] == ':' &&
	    (CONVERT_D(11) & CONVERT_D(12) & CONVERT_D(14) & CONVERT_D(15) & CONVERT_D(17) &
	     CONVERT_D(18)) &&
	    (len == 19 || (s[19] == '.' && len - 20 <= kept && len > 20))) {
		bool digits = true;
		for (size_t i = 20; i < len; i++)
			digits &= CONVERT_D(i);
		if (digits)
			return true;
	}
#undef CONVERT_D
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((unsigned char)(ch - '0') < 10) {
			if (++run > kept)
				return false;
			continue;
		}
		run = 0;
		if (i >= 11 && (ch == '+' || ch == '-' || (unsigned char)((ch | 0x20) - 'a') < 26))
			return false;
	}
	return true;
}

/* Whether s has ":60" in it: memmem(s, len, ":60", 3), without its set-up
 * cost, which on values this short was a tenth of a COPY load's CPU. */
static inline bool convert_has_colon60(const char *s, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (s[i] == ':' && s[i + 1] == '6' && s[i + 2] == '0')
			return true;
	return false;
}

/* Whether a PostgreSQL date or time value s starts with a digit and has
 * no ":60" (a word, 'now' or 'today', is read at load time; a 60th
 * second becomes the next minute): else the close look decides. */
static inline bool convert_pg_time_plain(const char *s, size_t len)
{
	return len && (unsigned char)(s[0] - '0') < 10 && !convert_has_colon60(s, len);
}

/* Whether s has none of the bytes in set (at most four, NUL-padded). */
static inline bool convert_has_none(const char *s, size_t len, const char set[4])
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == set[0] || s[i] == set[1] || s[i] == set[2] || s[i] == set[3])
			return false;
	return true;
}

/* Which quick test tells that a rule surely keeps a value (arg: its
 * bound), so a writer picks it once per column, not once per value. */
enum convert_quick {
	CONVERT_QUICK_ANY,   /* every value is kept */
	CONVERT_QUICK_PLAIN, /* convert_plain_within(arg), or no point nor exponent */
	CONVERT_QUICK_RUNS,  /* convert_digit_runs_within(arg) */
	CONVERT_QUICK_LOCAL, /* convert_local_within(arg) */
	CONVERT_QUICK_NOEXP, /* a MySQL DOUBLE or FLOAT: shorter than arg, no exponent */
	CONVERT_QUICK_FSP,   /* a MySQL time keeping arg digits: no fraction, or runs within */
	CONVERT_QUICK_CLOCK, /* a PostgreSQL local time: digits and colons, arg fraction digits */
	CONVERT_QUICK_LEN,   /* a PostgreSQL varchar(arg): no longer in bytes, or no space last */
	CONVERT_QUICK_DATE,  /* a PostgreSQL date: YYYY-MM-DD exactly */
	CONVERT_QUICK_FLAT,  /* a PostgreSQL jsonb: no object in it */
	CONVERT_QUICK_BOOL,  /* a PostgreSQL boolean: no prefix of a word */
	CONVERT_QUICK_NONE,  /* none: ask convert_is_exact */
};
static inline enum convert_quick convert_quick_for(int rule, size_t *arg)
{
	*arg = 0;
	if (rule == CONVERT_EXACT_ANY)
		return CONVERT_QUICK_ANY;
	if (CONVERT_EXACT_IS_ARRAY(rule))
		return CONVERT_QUICK_NONE; /* arrays are rare: always the close look */
	if (CONVERT_EXACT_IS_VARCHAR(rule)) {
		*arg = (size_t)(CONVERT_EXACT_PG_VARCHAR(0) - rule);
		return CONVERT_QUICK_LEN;
	}
	if (rule == CONVERT_EXACT_INTEGER || rule <= CONVERT_EXACT_SCALE(0)) {
		if (rule != CONVERT_EXACT_INTEGER)
			*arg = (size_t)(CONVERT_EXACT_SCALE(0) - rule);
		return CONVERT_QUICK_PLAIN;
	}
	if (rule <= CONVERT_EXACT_PG_FSP(0) && rule >= CONVERT_EXACT_PG_FSP(6)) {
		*arg = (size_t)(CONVERT_EXACT_PG_FSP(0) - rule);
		return CONVERT_QUICK_RUNS;
	}
	if (rule <= CONVERT_EXACT_PG_LOCAL_FSP(0) && rule >= CONVERT_EXACT_PG_LOCAL_FSP(6)) {
		*arg = (size_t)(CONVERT_EXACT_PG_LOCAL_FSP(0) - rule);
		return CONVERT_QUICK_LOCAL;
	}
	if (rule <= CONVERT_EXACT_PG_LOCAL_TIME_FSP(0) &&
	    rule >= CONVERT_EXACT_PG_LOCAL_TIME_FSP(6)) {
		*arg = (size_t)(CONVERT_EXACT_PG_LOCAL_TIME_FSP(0) - rule);
		return CONVERT_QUICK_CLOCK;
	}
	if (rule == CONVERT_EXACT_PG_DATE)
		return CONVERT_QUICK_DATE;
	if (rule == CONVERT_EXACT_PG_JSONB)
		return CONVERT_QUICK_FLAT;
	if (rule == CONVERT_EXACT_PG_BOOL)
		return CONVERT_QUICK_BOOL;
	if (rule == CONVERT_EXACT_DOUBLE || rule == CONVERT_EXACT_FLOAT) {
		/* convert_is_exact: such a number cannot underflow */
		*arg = rule == CONVERT_EXACT_DOUBLE ? 128 : 41;
		return CONVERT_QUICK_NOEXP;
	}
	if (rule >= 0 && rule <= 6) {
		*arg = (size_t)rule;
		return CONVERT_QUICK_FSP;
	}
	return CONVERT_QUICK_NONE;
}

/* True when a rule whose quick test is q (arg) surely keeps s exactly;
 * false: ask convert_is_exact. */
__attribute__((always_inline)) static inline bool
convert_quick_keeps(enum convert_quick q, size_t arg, const char *s, size_t len)
{
	switch (q) {
	case CONVERT_QUICK_ANY:
		return true;
	case CONVERT_QUICK_PLAIN: {
		/* convert_is_exact: without a point or an exponent a value has
		 * no decimal places, and a boolean's spelling is no number */
		bool b;
		return convert_plain_within(s, len, (long)arg) || convert_has_none(s, len, ".eE") ||
		       (len == 4 && !memcmp(s, "true", 4)) ||
		       (len == 5 && !memcmp(s, "false", 5)) ||
		       (len <= 5 && convert_parse_bool(s, len, &b));
	}
	case CONVERT_QUICK_NOEXP:
		return len < arg && convert_has_none(s, len, "eE\0");
	case CONVERT_QUICK_LEN:
		/* a byte or more per character; cut only when spaces end it */
		return len <= arg || s[len - 1] != ' ';
	case CONVERT_QUICK_CLOCK: {
		/* only digits and colons (no date, zone nor offset), then at
		 * most arg digits after one point; no 60th second */
		size_t i = 0;
		if (convert_has_colon60(s, len))
			return false;
		while (i < len && ((unsigned char)(s[i] - '0') < 10 || s[i] == ':'))
			i++;
		if (i == len)
			return len > 0;
		if (s[i] != '.' || len - i - 1 > arg)
			return false;
		while (++i < len)
			if ((unsigned char)(s[i] - '0') >= 10)
				return false;
		return true;
	}
	case CONVERT_QUICK_FSP: {
		/* a digit first: not one of the infinities MySQL cannot store;
		 * then no fraction, or one point and at most arg digits after
		 * it that end the value */
		if (!len || (unsigned char)(s[0] - '0') >= 10 || memchr(s, ',', len))
			return false;
		const char *dot = memchr(s, '.', len);
		if (!dot)
			return true;
		size_t f = len - (size_t)(dot + 1 - s);
		for (size_t i = len - f; i < len; i++)
			if ((unsigned char)(s[i] - '0') >= 10)
				return false;
		return f <= arg;
	}
	case CONVERT_QUICK_DATE:
		return len == 10 && s[4] == '-' && s[7] == '-';
	case CONVERT_QUICK_FLAT:
		return !memchr(s, '{', len);
	case CONVERT_QUICK_BOOL:
		/* the prefixes boolin takes are 2 to 4 letters: a value of
		 * another length, or a whole word of that length, is no prefix */
		return len < 2 || len > 4 || (len == 4 && !memcmp(s, "true", 4)) ||
		       (len == 3 && (!memcmp(s, "yes", 3) || !memcmp(s, "off", 3))) ||
		       (len == 2 && (!memcmp(s, "no", 2) || !memcmp(s, "on", 2)));
	case CONVERT_QUICK_RUNS:
		return convert_pg_time_plain(s, len) && convert_digit_runs_within(s, len, arg);
	case CONVERT_QUICK_LOCAL:
		return convert_pg_time_plain(s, len) && convert_local_within(s, len, arg);
	default:
		return false;
	}
}

/* How many bytes past a value's end convert_quick_keeps_padded may read
 * (ARENA_PAD, include/sluice/batch.h, leaves that many after each). */
#define CONVERT_QUICK_PAD 32

/* convert_quick_keeps, with the same answers, for a value s followed by at
 * least CONVERT_QUICK_PAD readable bytes (not part of it): a value of up to
 * 32 bytes is looked at whole, as bit masks of its bytes, instead of a
 * byte at a time. The loops were a fifth of a plain load's CPU. */
bool convert_quick_keeps_padded(enum convert_quick q, size_t arg, const char *s, size_t len);

/* convert_quick_keeps_padded for one quick test q, made once per test (its
 * switch decided when it is made, not once per value), down one column of
 * n rows: the cells at v, v + stride, ... (each value padded the same
 * way); true when it keeps every one (a NULL or default cell is kept).
 * One call for a block of rows, not one per value: what a reader's loop
 * calls for the rows it has just added. */
struct cell;
typedef bool (*convert_quick_column_fn)(size_t arg, const struct cell *v, size_t stride, size_t n);
convert_quick_column_fn convert_quick_column(enum convert_quick q);

/* True when rule surely keeps s exactly, by the quick tests above (a
 * numeric, integer, floating-point or time column); false: ask
 * convert_is_exact. Lets a writer skip the call for the common value. */
static inline bool convert_surely_exact(int rule, const char *s, size_t len)
{
	size_t arg;
	enum convert_quick q = convert_quick_for(rule, &arg);
	return convert_quick_keeps(q, arg, s, len);
}

/* True when the column keeps the value s exactly under rule (a value the
 * column refuses outright is left to the server); else false with the
 * reason in why. */
bool convert_is_exact(int rule, const char *s, size_t len, char *why, size_t whysz);

#endif
