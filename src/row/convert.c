/* src/row/convert.c
 * Value conversion by target column type (see include/sluice/convert.h):
 * boolean spellings, ISO 8601 timestamps and bytea hex into what MySQL
 * columns accept.
 */
#include "sluice/convert.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

#include "sluice/batch.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum convert_kind convert_kind_mysql(const struct sql_type *t)
{
	if (!t)
		return CONVERT_NONE;
	switch (t->kind) {
	case SQL_BOOL:
		return t->bool_form == SQL_BOOL_BIT ? CONVERT_BIT1 : CONVERT_BOOL;
	case SQL_INT:
		/* tinyint(1) unsigned: a boolean's width too */
		return t->bytes == 1 && t->display == 1 && !t->year ? CONVERT_BOOL : CONVERT_NONE;
	case SQL_DATETIME:
	case SQL_TIMESTAMPTZ:
		return CONVERT_DATETIME;
	case SQL_DATE:
		return CONVERT_DATE;
	case SQL_BINARY:
		return CONVERT_BYTES;
	case SQL_BIT:
		return CONVERT_BITS;
	default:
		return CONVERT_NONE;
	}
}

/* 1 to 64 digits 0 and 1 into big-endian bytes, as many as they need. */
static bool convert_bits(const char *s, size_t len, char *out, size_t outsz, size_t *outlen)
{
	if (!len || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '0' && s[i] != '1')
			return false;
	size_t n = (len + 7) / 8;
	if (outsz < n + 1)
		return false;
	memset(out, 0, n + 1);
	for (size_t i = 0; i < len; i++) {
		size_t w = len - 1 - i; /* the digit's weight */
		if (s[i] == '1')
			out[n - 1 - w / 8] = (char)(out[n - 1 - w / 8] | 1 << (w % 8));
	}
	*outlen = n;
	return true;
}

static bool word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !strncasecmp(s, w, len);
}

bool convert_parse_bool(const char *s, size_t len, bool *value)
{
	static const char *const yes[] = {"1", "true", "t", "yes", "y", "on"};
	static const char *const no[] = {"0", "false", "f", "no", "n", "off"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		if (word_is(s, len, yes[i])) {
			*value = true;
			return true;
		}
		if (word_is(s, len, no[i])) {
			*value = false;
			return true;
		}
	}
	return false;
}

/* n decimal digits at s, into *v; false when any is not a digit. */
static bool digits(const char *s, size_t n, int *v)
{
	int x = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - (unsigned)'0'; /* not isdigit: no locale */
		if (d > 9)
			return false;
		x = x * 10 + (int)d;
	}
	*v = x;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The parts of an ISO 8601 value. */
struct iso_value {
	int year, month, day;
	bool has_time;
	int hour, minute, second;
	const char *frac; /* digits after the point, or NULL */
	size_t frac_len;
	bool zoned;
	int offset_minutes; /* east of UTC */
};

static bool iso_parse(const char *s, size_t len, struct iso_value *v)
{
	memset(v, 0, sizeof *v);
	if (len < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &v->year) ||
	    !digits(s + 5, 2, &v->month) || !digits(s + 8, 2, &v->day))
		return false;
	if (v->year < 1 || v->month < 1 || v->month > 12 || v->day < 1 ||
	    v->day > days_in_month(v->year, v->month))
		return false;
	size_t i = 10;
	if (i == len)
		return true;
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
		return false;
	i++;
	if (len - i < 5 || s[i + 2] != ':' || !digits(s + i, 2, &v->hour) ||
	    !digits(s + i + 3, 2, &v->minute))
		return false;
	v->has_time = true;
	i += 5;
	if (i < len && s[i] == ':') {
		if (len - i < 3 || !digits(s + i + 1, 2, &v->second))
			return false;
		i += 3;
		if (i < len && (s[i] == '.' || s[i] == ',')) {
			size_t j = i + 1;
			while (j < len && isdigit((unsigned char)s[j]))
				j++;
			if (j == i + 1)
				return false;
			v->frac = s + i + 1;
			v->frac_len = j - i - 1;
			i = j;
		}
	}
	if (v->hour > 23 || v->minute > 59 || v->second > 59)
		return false;
	if (i == len)
		return true;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
		v->zoned = true;
		return true;
	}
	if (s[i] != '+' && s[i] != '-')
		return false;
	int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
	size_t rest = len - i - 1;
	const char *z = s + i + 1;
	if (rest == 2 && digits(z, 2, &oh))
		;
	else if (rest == 4 && digits(z, 2, &oh) && digits(z + 2, 2, &om))
		;
	else if (rest == 5 && z[2] == ':' && digits(z, 2, &oh) && digits(z + 3, 2, &om))
		;
	else
		return false;
	if (oh > 23 || om > 59)
		return false;
	v->zoned = true;
	v->offset_minutes = sign * (oh * 60 + om);
	return true;
}

/* Write v as n decimal digits, zero-padded. */
static void put_digits(char *out, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Write "YYYY-MM-DD HH:MM:SS" at out (19 bytes), by hand, not snprintf:
 * this runs for every timestamp of a load. */
static void put_datetime(char *out, int y, int mo, int d, int h, int mi, int sec)
{
	put_digits(out, y, 4);
	out[4] = '-';
	put_digits(out + 5, mo, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = ' ';
	put_digits(out + 11, h, 2);
	out[13] = ':';
	put_digits(out + 14, mi, 2);
	out[16] = ':';
	put_digits(out + 17, sec, 2);
}

bool convert_iso_datetime(const char *s, size_t len, char *out, size_t outsz, size_t *outlen)
{
	struct iso_value v;
	if (outsz < len + CONVERT_MAX_GROWTH || !iso_parse(s, len, &v))
		return false;
	if (!(v.zoned && v.offset_minutes)) {
		/* the digits stay as they are: copied, the 'T' a space */
		memcpy(out, s, 10);
		memcpy(out + 10, " 00:00:00", 9);
		if (v.has_time)
			memcpy(out + 11, s + 11, len > 16 && s[16] == ':' ? 8 : 5);
	} else {
		int y, mo, d;
		int64_t t = days_from_civil(v.year, v.month, v.day) * 1440 + v.hour * 60 +
			    v.minute - v.offset_minutes;
		int64_t days = t >= 0 ? t / 1440 : -((-t + 1439) / 1440);
		int64_t mins = t - days * 1440;
		civil_from_days(days, &y, &mo, &d);
		if (y < 1 || y > 9999)
			return false;
		put_datetime(out, y, mo, d, (int)(mins / 60), (int)(mins % 60), v.second);
	}
	size_t o = 19;
	if (v.frac) {
		if (o + 1 + v.frac_len + 1 > outsz)
			return false;
		out[o++] = '.';
		memcpy(out + o, v.frac, v.frac_len);
		o += v.frac_len;
	}
	out[o] = '\0';
	*outlen = o;
	return true;
}

bool convert_epoch_ms_iso(int64_t ms, char *out, size_t outsz, size_t *outlen)
{
	int64_t days = ms / 86400000, rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	int y, mo, d;
	civil_from_days(days, &y, &mo, &d);
	bool bc = y < 1;
	long long year = bc ? 1 - (long long)y : y;
	int n = snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ%s", year, mo, d,
			 (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
			 (int)(rem % 1000), bc ? " BC" : "");
	if (n < 0 || (size_t)n >= outsz)
		return false;
	*outlen = (size_t)n;
	return true;
}

/* The value of a hex digit, -1 for any other character. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool convert_pghex_decode(const char *s, size_t len, char *out)
{
	if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2)
		return false;
	for (size_t i = 2; i < len; i++)
		if (hex_value(s[i]) < 0)
			return false;
	for (size_t i = 0; i < (len - 2) / 2; i++)
		out[i] = (char)(hex_value(s[2 + 2 * i]) << 4 | hex_value(s[3 + 2 * i]));
	return true;
}

/* PostgreSQL's bytea hex form as the bytes it stands for (half as long: it
 * fits out). Anything else, raw bytes included, is left alone. */
static bool convert_bytes(const char *s, size_t len, char *out, size_t outsz, size_t *outlen)
{
	if (len < 2 || outsz < (len - 2) / 2 + 1 || !convert_pghex_decode(s, len, out))
		return false;
	*outlen = (len - 2) / 2;
	out[*outlen] = '\0';
	return true;
}

/* A date column takes a date, or a date-time at exactly midnight (in any
 * zone: a date has none); any other time is left for the server to judge. */
static bool convert_date(const char *s, size_t len, char *out, size_t outsz, size_t *outlen)
{
	struct iso_value v;
	if (outsz < 11 || !iso_parse(s, len, &v))
		return false;
	if (v.has_time) {
		if (v.hour || v.minute || v.second)
			return false;
		for (size_t i = 0; i < v.frac_len; i++)
			if (v.frac[i] != '0')
				return false;
	}
	memcpy(out, s, 10);
	out[10] = '\0';
	*outlen = 10;
	return true;
}

bool convert_value(enum convert_kind kind, const char *s, size_t len, char *out, size_t outsz,
		   size_t *outlen)
{
	bool b;
	if (!s || outsz < 2)
		return false;
	switch (kind) {
	case CONVERT_BOOL:
		if (!convert_parse_bool(s, len, &b))
			return false;
		out[0] = b ? '1' : '0';
		out[1] = '\0';
		*outlen = 1;
		return true;
	case CONVERT_BIT1:
		if (!convert_parse_bool(s, len, &b))
			return false;
		out[0] = b ? '\1' : '\0';
		out[1] = '\0';
		*outlen = 1;
		return true;
	case CONVERT_DATETIME:
		return convert_iso_datetime(s, len, out, outsz, outlen);
	case CONVERT_DATE:
		return convert_date(s, len, out, outsz, outlen);
	case CONVERT_BYTES:
		return convert_bytes(s, len, out, outsz, outlen);
	case CONVERT_BITS:
		return convert_bits(s, len, out, outsz, outlen);
	default:
		return false;
	}
}

/* The fraction digits of seconds a column of t keeps, when 0..6. */
static int fraction_rule(const struct sql_type *t)
{
	return t->fsp >= 0 && t->fsp <= 6 ? t->fsp : CONVERT_EXACT_ANY;
}

int convert_exact_mysql(const struct sql_type *t)
{
	if (!t)
		return CONVERT_EXACT_ANY;
	switch (t->kind) {
	case SQL_BOOL:
		return t->bool_form == SQL_BOOL_TINYINT ? CONVERT_EXACT_INTEGER : CONVERT_EXACT_ANY;
	case SQL_INT:
		return t->year ? CONVERT_EXACT_ANY : CONVERT_EXACT_INTEGER;
	case SQL_DATETIME:
	case SQL_TIMESTAMPTZ:
	case SQL_TIME:
		return fraction_rule(t);
	case SQL_FLOAT:
		return t->bytes == 4 ? CONVERT_EXACT_FLOAT : CONVERT_EXACT_DOUBLE;
	default:
		return CONVERT_EXACT_ANY;
	}
}

static int exact_pg_element(const struct sql_type *t);

int convert_exact_pg(const struct sql_type *t)
{
	if (!t)
		return CONVERT_EXACT_ANY;
	int rule = exact_pg_element(t);
	return t->array && rule != CONVERT_EXACT_ANY ? CONVERT_EXACT_ARRAY(rule) : rule;
}

/* The rule of a value of t's kind (an array's element). */
static int exact_pg_element(const struct sql_type *t)
{
	switch (t->kind) {
	case SQL_TEXT:
		/* character(n) pads and compares without trailing spaces */
		return !t->fixed && !t->case_insensitive && t->length > 0 && t->length <= 10485760
			       ? CONVERT_EXACT_PG_VARCHAR(t->length)
			       : CONVERT_EXACT_ANY;
	case SQL_DECIMAL:
		/* numeric alone keeps every decimal place */
		return t->precision >= 0 && t->scale >= 0 && t->scale <= 1000
			       ? CONVERT_EXACT_SCALE(t->scale)
			       : CONVERT_EXACT_ANY;
	case SQL_DATE:
		return CONVERT_EXACT_PG_DATE;
	case SQL_JSON:
		return t->json_text ? CONVERT_EXACT_ANY : CONVERT_EXACT_PG_JSONB;
	case SQL_BOOL:
		return CONVERT_EXACT_PG_BOOL;
	case SQL_DATETIME:
		/* without a time zone: an offset is dropped too */
		return t->fsp >= 0 && t->fsp <= 6 ? CONVERT_EXACT_PG_LOCAL_FSP(t->fsp)
						  : CONVERT_EXACT_ANY;
	case SQL_TIME:
		if (!t->with_tz) /* a date, an offset or a zone is dropped too */
			return t->fsp >= 0 && t->fsp <= 6 ? CONVERT_EXACT_PG_LOCAL_TIME_FSP(t->fsp)
							  : CONVERT_EXACT_PG_LOCAL_TIME_FSP(6);
		/* fall through */
	case SQL_TIMESTAMPTZ:
		/* its infinities are values, unlike MySQL's */
		return t->fsp >= 0 && t->fsp <= 6 ? CONVERT_EXACT_PG_FSP(t->fsp)
						  : CONVERT_EXACT_ANY;
	default:
		return CONVERT_EXACT_ANY;
	}
}

/* The fractional seconds of a datetime or time value: the digits after the
 * point that follows the seconds; NULL when there are none. */
static const char *fraction(const char *s, size_t len, size_t *n)
{
	struct iso_value v;
	*n = 0;
	if (iso_parse(s, len, &v)) {
		*n = v.frac_len;
		return v.frac;
	}
	/* a time, [-][H]HH:MM:SS.f */
	const char *dot = memchr(s, '.', len);
	if (!dot || dot - s < 5 || dot[-3] != ':')
		return NULL;
	const char *e = dot + 1;
	while (e < s + len && isdigit((unsigned char)*e))
		e++;
	*n = (size_t)(e - dot - 1);
	return dot + 1;
}

/* The decimal places a number written as s carries beyond its point once
 * its exponent is applied, trailing zeros aside ("1.50" 1, "1E2" 0,
 * "15E-1" 1); -1 when s is not a number (the server decides then). */
static long decimal_places(const char *s, size_t len)
{
	size_t i = 0, e = len;
	while (i < e && s[i] == ' ')
		i++;
	while (e > i && s[e - 1] == ' ')
		e--;
	if (i < e && (s[i] == '+' || s[i] == '-'))
		i++;
	long places = 0, digits = 0;
	bool point = false;
	long last_nonzero = 0; /* places up to the last nonzero fraction digit */
	for (; i < e && (isdigit((unsigned char)s[i]) || (s[i] == '.' && !point)); i++) {
		if (s[i] == '.') {
			point = true;
			continue;
		}
		digits++;
		if (point) {
			places++;
			if (s[i] != '0')
				last_nonzero = places;
		}
	}
	if (!digits)
		return -1;
	long exp = 0;
	if (i < e && (s[i] == 'e' || s[i] == 'E')) {
		size_t k = i + 1;
		bool neg = k < e && s[k] == '-';
		if (k < e && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k == e)
			return -1;
		for (; k < e && isdigit((unsigned char)s[k]); k++)
			if (exp < 100000)
				exp = exp * 10 + (s[k] - '0');
		if (k != e)
			return -1;
		exp = neg ? -exp : exp;
		i = e;
	}
	if (i != e)
		return -1;
	long p = last_nonzero - exp;
	return p > 0 ? p : 0;
}

/* The bytes that can make a number inexact, as bits: a point, an
 * exponent, a comma (a fraction of a second after it). */
enum { HAS_POINT = 1, HAS_EXP = 2, HAS_COMMA = 4 };
static const unsigned char exact_class[256] = {
	['.'] = HAS_POINT,
	['e'] = HAS_EXP,
	['E'] = HAS_EXP,
	[','] = HAS_COMMA,
};

/* Which of those bytes s[0, len) has: the cheap first test of
 * convert_is_exact, for the short values it sees on every row. */
static unsigned exact_classes(const char *s, size_t len)
{
	unsigned k = 0;
	for (size_t i = 0; i < len; i++)
		k |= exact_class[(unsigned char)s[i]];
	return k;
}

/* Whether s[i, i+n) is word, in any case. */
static bool word_at(const char *s, size_t i, size_t n, const char *word)
{
	return strlen(word) == n && !strncasecmp(s + i, word, n);
}

/* Whether a PostgreSQL time without time zone keeps what s says: it drops
 * a date before the time (2024-01-01 10:00), and a UTC offset or a zone
 * after it (10:00+02, 10:00 PST), silently. Z, UTC, GMT and offsets of 0
 * name the same time; AM and PM are part of it; allballs and now are
 * times. A value that starts with neither a digit nor a date is left to
 * the server. */
/* jsonb_keys_once's state: the keys of each open object, as offsets into
 * one buffer, and the first key found twice. */
struct key_scan {
	struct key_level {
		size_t first; /* its first key in keys[] */
		bool map;
	} levels[64];
	int depth;
	size_t *keys; /* offset of each key's text in text, its length after */
	size_t nkeys, cap;
	char *text;
	size_t tlen, tcap;
	char dup[80];
	bool too_deep;
};

static int ks_push(struct key_scan *k, bool map)
{
	if (k->depth >= 64) {
		k->too_deep = true;
		return 0;
	}
	k->levels[k->depth++] = (struct key_level){k->nkeys, map};
	return 1;
}

static int ks_start_map(void *ctx)
{
	return ks_push(ctx, true);
}

static int ks_start_array(void *ctx)
{
	return ks_push(ctx, false);
}

static int ks_end(void *ctx)
{
	struct key_scan *k = ctx;
	if (k->depth > 0)
		k->nkeys = k->levels[--k->depth].first;
	return 1;
}

static int ks_key(void *ctx, const unsigned char *key, size_t len)
{
	struct key_scan *k = ctx;
	size_t first = k->depth ? k->levels[k->depth - 1].first : 0;
	for (size_t i = first; i < k->nkeys; i++) {
		size_t off = k->keys[2 * i], n = k->keys[2 * i + 1];
		if (n == len && !memcmp(k->text + off, key, len)) {
			snprintf(k->dup, sizeof k->dup, "%.*s", (int)(len < 60 ? len : 60),
				 (const char *)key);
			return 0; /* found: stop */
		}
	}
	if (k->nkeys == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 32;
		size_t *p = realloc(k->keys, 2 * cap * sizeof *p);
		if (!p)
			return 0;
		k->keys = p;
		k->cap = cap;
	}
	if (k->tlen + len > k->tcap) {
		size_t cap = (k->tlen + len) * 2 + 64;
		char *p = realloc(k->text, cap);
		if (!p)
			return 0;
		k->text = p;
		k->tcap = cap;
	}
	memcpy(k->text + k->tlen, key, len);
	k->keys[2 * k->nkeys] = k->tlen;
	k->keys[2 * k->nkeys + 1] = len;
	k->nkeys++;
	k->tlen += len;
	return 1;
}

/* Whether jsonb keeps JSON text s as written: no object in it has a key
 * twice (jsonb keeps the last). Text that is no JSON is the server's to
 * refuse. */
static bool jsonb_keys_once(const char *s, size_t len, char *why, size_t whysz)
{
	static const yajl_callbacks cb = {.yajl_start_map = ks_start_map,
					  .yajl_map_key = ks_key,
					  .yajl_end_map = ks_end,
					  .yajl_start_array = ks_start_array,
					  .yajl_end_array = ks_end};
	struct key_scan k = {0};
	yajl_handle h = yajl_alloc(&cb, NULL, &k);
	if (!h)
		return true;
	yajl_status st = yajl_parse(h, (const unsigned char *)s, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	free(k.keys);
	free(k.text);
	if (!k.dup[0])
		return true;
	snprintf(why, whysz,
		 "'%.*s' repeats the key \"%s\" in an object: jsonb keeps only the last",
		 (int)(len < 60 ? len : 60), s, k.dup);
	return false;
}

/* The bounds [*a, *b) of s (len bytes) without its leading and trailing
 * spaces. */
static void trim_spaces(const char *s, size_t len, size_t *a, size_t *b)
{
	*a = 0;
	*b = len;
	while (*a < *b && isspace((unsigned char)s[*a]))
		(*a)++;
	while (*b > *a && isspace((unsigned char)s[*b - 1]))
		(*b)--;
}

/* Whether a PostgreSQL boolean keeps s as the word it is: boolin takes
 * any unique prefix of true, false, yes, no, on and off ('tr' is true,
 * 'of' off); the words and their letters go in. Else false, with why. */
static bool pg_bool_kept(const char *s, size_t len, char *why, size_t whysz)
{
	static const char *const prefixes[] = {"tr", "tru", "fa", "fal", "fals", "ye", "of"};
	size_t a, b;
	trim_spaces(s, len, &a, &b);
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (b - a == strlen(prefixes[i]) && !strncasecmp(s + a, prefixes[i], b - a)) {
			snprintf(why, whysz,
				 "'%.*s' is only the start of a word PostgreSQL would read as a "
				 "boolean: give the word (true/false, yes/no, on/off) or t/f, 1/0",
				 (int)(len < 60 ? len : 60), s);
			return false;
		}
	return true;
}

/* Whether PostgreSQL date or time text s names a moment the text fixes:
 * not a word PostgreSQL reads at load time ('now', 'today', 'tomorrow',
 * 'yesterday': the column would store the day or instant of the load),
 * nor a 60th second (made the next minute). Else false, with why. */
static bool pg_moment_fixed(const char *s, size_t len, char *why, size_t whysz)
{
	static const char *const words[] = {"now", "today", "tomorrow", "yesterday"};
	size_t a, b;
	trim_spaces(s, len, &a, &b);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = strlen(words[i]);
		/* the word alone, or first ("today 10:00", "now()"-less forms) */
		if (b - a >= n && !strncasecmp(s + a, words[i], n) &&
		    (b - a == n || !isalpha((unsigned char)s[a + n]))) {
			snprintf(why, whysz,
				 "'%.*s' names the day or moment of the load: the column would "
				 "store that, not a value the text fixes",
				 (int)(len < 60 ? len : 60), s);
			return false;
		}
	}
	for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), ":60", 3)) != NULL; p++) {
		size_t at = (size_t)(p - s);
		if (at >= 2 && isdigit((unsigned char)s[at - 1]) &&
		    isdigit((unsigned char)s[at - 2]) &&
		    (at + 3 == len || !isdigit((unsigned char)s[at + 3]))) {
			snprintf(why, whysz,
				 "'%.*s' has a 60th second, which PostgreSQL makes the next minute",
				 (int)(len < 60 ? len : 60), s);
			return false;
		}
	}
	return true;
}

/* Whether a PostgreSQL date keeps ISO text s: a time of day or an offset
 * after the date is dropped without a word (midnight without an offset is
 * the date itself). Other spellings are the server's to read. */
static bool pg_date_kept(const char *s, size_t len, char *why, size_t whysz)
{
	struct iso_value v;
	if (!iso_parse(s, len, &v) || !v.has_time)
		return true;
	bool midnight = !v.hour && !v.minute && !v.second;
	for (size_t i = 0; midnight && v.frac && i < v.frac_len; i++)
		midnight = v.frac[i] == '0';
	if (midnight && !(v.zoned && v.offset_minutes))
		return true;
	snprintf(why, whysz,
		 "'%.*s' has a time of day%s, which a date column drops: load it into a "
		 "timestamp, or give the date alone",
		 (int)(len < 60 ? len : 60), s,
		 v.zoned && v.offset_minutes ? " and an offset" : "");
	return false;
}

static bool pg_local_time_kept(const char *s, size_t len, char *why, size_t whysz)
{
	size_t i = 0, end = len;
	while (i < end && s[i] == ' ')
		i++;
	while (end > i && s[end - 1] == ' ')
		end--;
	int w = (int)(len < 60 ? len : 60);
	if (end - i >= 10 && s[i + 4] == '-' && s[i + 7] == '-') {
		bool date = true;
		for (size_t k = 0; k < 10; k++)
			date &= k == 4 || k == 7 || (unsigned char)(s[i + k] - '0') < 10;
		if (date) {
			snprintf(why, whysz,
				 "'%.*s' has a date, which a time column would drop: give the "
				 "time alone, or load into a timestamp",
				 w, s);
			return false;
		}
	}
	if (i == end || (unsigned char)(s[i] - '0') >= 10)
		return true; /* allballs, now, or what the server refuses */
	while (i < end &&
	       ((unsigned char)(s[i] - '0') < 10 || s[i] == ':' || s[i] == '.' || s[i] == ','))
		i++;
	while (i < end && s[i] == ' ')
		i++;
	if (end - i >= 2 && ((s[i] | 0x20) == 'a' || (s[i] | 0x20) == 'p') &&
	    (s[i + 1] | 0x20) == 'm') {
		i += 2;
		while (i < end && s[i] == ' ')
			i++;
	}
	if (i == end || word_at(s, i, end - i, "z") || word_at(s, i, end - i, "utc") ||
	    word_at(s, i, end - i, "gmt"))
		return true;
	if (s[i] == '+' || s[i] == '-') {
		bool zero = end - i > 1;
		for (size_t k = i + 1; k < end; k++)
			zero &= s[k] == '0' || s[k] == ':';
		if (zero)
			return true;
	}
	snprintf(why, whysz,
		 "'%.*s' has a UTC offset or a time zone, which a time without time zone "
		 "would drop: give the time in UTC, or load into timetz",
		 w, s);
	return false;
}

/* Each element of PostgreSQL array literal s ({1.5,"2.25",NULL,{3}}, with
 * [1:2]= dimensions or not) held to rule; what is not such a literal is
 * the server's to refuse. */
static bool array_exact(int rule, const char *s, size_t len, char *why, size_t whysz)
{
	size_t i = 0;
	if (i < len && s[i] == '[') {
		const char *eq = memchr(s, '=', len);
		if (!eq)
			return true;
		i = (size_t)(eq - s) + 1;
	}
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len || s[i] != '{')
		return true;
	/* an element is no longer than the whole: a long one (a varchar's
	 * trailing spaces, a number of many digits) is held to the rule too */
	char el_small[256];
	char *el = len <= sizeof el_small ? el_small : malloc(len);
	if (!el) {
		snprintf(why, whysz, "out of memory");
		return false;
	}
	bool exact = true;
	while (exact && i < len) {
		char c = s[i];
		if (c == '{' || c == '}' || c == ',' || isspace((unsigned char)c)) {
			i++;
			continue;
		}
		/* one element: quoted, or up to the next delimiter at its level */
		size_t n = 0;
		bool quoted = c == '"';
		if (quoted)
			i++;
		for (; i < len; i++) {
			c = s[i];
			if (quoted && c == '"') {
				i++;
				break;
			}
			if (!quoted && (c == ',' || c == '}' || c == '{'))
				break;
			if (c == '\\' && i + 1 < len)
				c = s[++i];
			el[n++] = c;
		}
		while (!quoted && n && isspace((unsigned char)el[n - 1]))
			n--;
		if (!quoted && n == 4 && !strncasecmp(el, "NULL", 4))
			continue; /* a NULL */
		char inner[300];
		if (!convert_is_exact(rule, el, n, inner, sizeof inner)) {
			snprintf(why, whysz, "'%.*s': an element: %s", (int)(len < 60 ? len : 60),
				 s, inner);
			exact = false;
		}
	}
	if (el != el_small)
		free(el);
	return exact;
}

bool convert_is_exact(int rule, const char *s, size_t len, char *why, size_t whysz)
{
	if (!s || rule == CONVERT_EXACT_ANY)
		return true;
	if (CONVERT_EXACT_IS_ARRAY(rule))
		return array_exact(CONVERT_EXACT_ELEMENT(rule), s, len, why, whysz);
	if (CONVERT_EXACT_IS_VARCHAR(rule)) {
		/* characters past n, every one a space: cut without a word */
		long keep = CONVERT_EXACT_PG_VARCHAR(0) - rule, chars = 0;
		size_t cut = len;
		for (size_t i = 0; i < len; i++)
			if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == keep)
				cut = i;
		if (chars <= keep)
			return true;
		for (size_t i = cut; i < len; i++)
			if (s[i] != ' ')
				return true; /* too long: the server refuses it */
		snprintf(why, whysz,
			 "'%.*s' has %ld characters; varchar(%ld) would cut its trailing spaces",
			 (int)(len < 60 ? len : 60), s, chars, keep);
		return false;
	}
	unsigned k = exact_classes(s, len);
	/* without an exponent, a number of under 128 characters (40 for a
	 * FLOAT) is at least 1E-126 (1E-39) when not 0: it cannot underflow */
	if (((rule == CONVERT_EXACT_DOUBLE && len < 128) ||
	     (rule == CONVERT_EXACT_FLOAT && len <= 40)) &&
	    !(k & HAS_EXP))
		return true;
	/* without a point or an exponent, a number has no decimal places */
	if ((rule == CONVERT_EXACT_INTEGER || rule <= CONVERT_EXACT_SCALE(0)) &&
	    !(k & (HAS_POINT | HAS_EXP)))
		return true;
	if (rule == CONVERT_EXACT_DOUBLE || rule == CONVERT_EXACT_FLOAT) {
		/* MariaDB stores a number too small for the column as 0, without
		 * a word: a nonzero number that underflows is refused */
		char tmp[128];
		if (len >= sizeof tmp || decimal_places(s, len) < 0)
			return true; /* not a number: the server decides */
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		bool nonzero = false;
		for (size_t i = 0; i < len && !(tmp[i] == 'e' || tmp[i] == 'E'); i++)
			nonzero |= tmp[i] >= '1' && tmp[i] <= '9';
		double v = strtod(tmp, NULL);
		bool single = rule == CONVERT_EXACT_FLOAT;
		if (!nonzero || (single ? (float)v != 0.0f : v != 0.0))
			return true;
		snprintf(why, whysz, "'%.*s' is too small for a %s: the column would store 0",
			 (int)(len < 60 ? len : 60), s, single ? "FLOAT" : "DOUBLE");
		return false;
	}
	if (rule == CONVERT_EXACT_INTEGER || rule <= CONVERT_EXACT_SCALE(0)) {
		/* a number with more decimal places than the column keeps is
		 * rounded by the server (MySQL's integers, numeric(p,s) on
		 * PostgreSQL); 1.0 and 1E2 are whole numbers */
		long keep = rule == CONVERT_EXACT_INTEGER ? 0 : CONVERT_EXACT_SCALE(0) - rule;
		if (convert_plain_within(s, len, keep))
			return true;
		long places = decimal_places(s, len);
		if (places <= keep)
			return true; /* exact, or text the server refuses */
		if (!keep)
			snprintf(why, whysz,
				 "'%.*s' is not a whole number; the integer column would round it",
				 (int)(len < 60 ? len : 60), s);
		else
			snprintf(
				why, whysz,
				"'%.*s' has %ld decimal places; the column keeps %ld and would round it",
				(int)(len < 60 ? len : 60), s, places, keep);
		return false;
	}
	bool pg_time =
		(rule <= CONVERT_EXACT_PG_FSP(0) && rule >= CONVERT_EXACT_PG_FSP(6)) ||
		(rule <= CONVERT_EXACT_PG_LOCAL_FSP(0) && rule >= CONVERT_EXACT_PG_LOCAL_FSP(6)) ||
		(rule <= CONVERT_EXACT_PG_LOCAL_TIME_FSP(0) &&
		 rule >= CONVERT_EXACT_PG_LOCAL_TIME_FSP(6));
	if (rule == CONVERT_EXACT_PG_JSONB)
		return jsonb_keys_once(s, len, why, whysz);
	if (rule == CONVERT_EXACT_PG_BOOL)
		return pg_bool_kept(s, len, why, whysz);
	if ((pg_time || rule == CONVERT_EXACT_PG_DATE) && !pg_moment_fixed(s, len, why, whysz))
		return false;
	if (rule == CONVERT_EXACT_PG_DATE)
		return pg_date_kept(s, len, why, whysz);
	if (rule <= CONVERT_EXACT_PG_LOCAL_TIME_FSP(0) &&
	    rule >= CONVERT_EXACT_PG_LOCAL_TIME_FSP(6)) {
		if (!pg_local_time_kept(s, len, why, whysz))
			return false;
		rule = CONVERT_EXACT_PG_FSP(CONVERT_EXACT_PG_LOCAL_TIME_FSP(0) - rule);
	}
	if (rule <= CONVERT_EXACT_PG_LOCAL_FSP(0) && rule >= CONVERT_EXACT_PG_LOCAL_FSP(6)) {
		/* PostgreSQL reads the wall time and drops the offset: the
		 * instant would move by it (UTC, +00:00 and Z are kept) */
		struct iso_value v;
		if (iso_parse(s, len, &v) && v.zoned && v.offset_minutes) {
			snprintf(why, whysz,
				 "'%.*s' has a UTC offset, which a timestamp without time zone "
				 "would drop: give the time in UTC, or load into timestamptz",
				 (int)(len < 60 ? len : 60), s);
			return false;
		}
		rule = CONVERT_EXACT_PG_FSP(CONVERT_EXACT_PG_LOCAL_FSP(0) - rule);
	}
	bool pg = rule <= CONVERT_EXACT_PG_FSP(0) && rule >= CONVERT_EXACT_PG_FSP(6);
	if (pg)
		rule = CONVERT_EXACT_PG_FSP(0) - rule;
	else if ((len == 8 && !strncasecmp(s, "infinity", 8)) ||
		 (len == 9 && !strncasecmp(s, "-infinity", 9)) ||
		 (len == 9 && !strncasecmp(s, "+infinity", 9))) {
		/* PostgreSQL's infinite timestamps: MySQL would store a zero date */
		snprintf(why, whysz, "'%.*s' is no date MySQL can store", (int)len, s);
		return false;
	}
	size_t kept = (size_t)rule;
	if (!(k & (HAS_POINT | HAS_COMMA)))
		return true; /* no fraction of a second */
	if (convert_digit_runs_within(s, len, kept))
		return true;
	size_t n;
	const char *f = fraction(s, len, &n);
	for (size_t i = kept; f && i < n; i++) {
		if (f[i] != '0') {
			snprintf(why, whysz,
				 "'%.*s' has %zu fractional second digits; the column keeps %zu "
				 "and would drop "
				 "the rest",
				 (int)(len < 60 ? len : 60), s, n, kept);
			return false;
		}
	}
	return true;
}

#ifdef __SSE2__
/* Bit i set for each byte i of the 32 in a and b that is c. */
static inline uint32_t convert_eq32(__m128i a, __m128i b, char c)
{
	__m128i k = _mm_set1_epi8(c);
	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, k)) |
	       (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, k)) << 16;
}

/* Bit i set for each byte i of the 32 in a and b that is an ASCII digit. */
static inline uint32_t convert_digits32(__m128i a, __m128i b)
{
	__m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
	__m128i da = _mm_sub_epi8(a, zero), db = _mm_sub_epi8(b, zero);
	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(da, nine), da)) |
	       (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(db, nine), db)) << 16;
}
#endif

/* convert_quick_keeps_padded's body, inlined into each function
 * convert_quick_padded_fn hands out, with its test fixed there */
__attribute__((always_inline)) static inline bool
quick_keeps_padded(enum convert_quick q, size_t arg, const char *s, size_t len)
{
#ifdef __SSE2__
	if (len && len <= 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
		uint32_t valid = len == 32 ? UINT32_MAX : ((uint32_t)1 << len) - 1;
		switch (q) {
		case CONVERT_QUICK_PLAIN: {
			uint32_t other = ~convert_digits32(a, b) & valid;
			if (!other)
				return true; /* digits only */
			if (!(other & (other - 1))) {
				/* one byte that is no digit: a point with at most arg
				 * digits after it (a digit at least), or a byte that is
				 * no point, exponent nor NUL (convert_has_none) */
				unsigned at = (unsigned)__builtin_ctz(other);
				if (s[at] == '.' ? len > 1 && len - 1 - at <= arg
						 : s[at] != 'e' && s[at] != 'E' && s[at])
					return true;
			}
			if ((len == 4 && !memcmp(s, "true", 4)) ||
			    (len == 5 && !memcmp(s, "false", 5)))
				return true;
			uint32_t dot = convert_eq32(a, b, '.') & valid;
			if (!((dot | convert_eq32(a, b, 'e') | convert_eq32(a, b, 'E') |
			       convert_eq32(a, b, 0)) &
			      valid))
				return true; /* no point, exponent nor NUL (convert_has_none) */
			/* convert_plain_within: a sign first, digits and one point
			 * with at most arg digits after it, a digit at least */
			bool sign = s[0] == '+' || s[0] == '-';
			other &= ~dot & ~(uint32_t)sign;
			if (!other && !(dot & (dot - 1)) && len > 1 + (size_t)sign &&
			    len - 1 - (size_t)__builtin_ctz(dot) <= arg)
				return true;
			break; /* the byte-wise tests decide the rest */
		}
		case CONVERT_QUICK_NOEXP: {
			/* a byte ORed with 0x20 is 'e' for 'e' and 'E' only */
			__m128i lower = _mm_set1_epi8(0x20);
			return len < arg && !((convert_eq32(_mm_or_si128(a, lower),
							    _mm_or_si128(b, lower), 'e') |
					       convert_eq32(a, b, 0)) &
					      valid);
		}
		case CONVERT_QUICK_FSP: {
			uint32_t digits = convert_digits32(a, b);
			if (!(digits & 1) || (convert_eq32(a, b, ',') & valid))
				return false;
			uint32_t dot = convert_eq32(a, b, '.') & valid;
			if (!dot)
				return true;
			/* the bytes after the first point: all digits, at most arg */
			unsigned at = (unsigned)__builtin_ctz(dot);
			uint32_t frac = valid & (uint32_t) ~(((uint64_t)2 << at) - 1);
			return (digits & frac) == frac && len - 1 - at <= arg;
		}
		case CONVERT_QUICK_FLAT:
			return !(convert_eq32(a, b, '{') & valid);
		case CONVERT_QUICK_RUNS:
		case CONVERT_QUICK_LOCAL: {
			uint32_t digits = convert_digits32(a, b);
			/* convert_local_within's common shape, YYYY-MM-DD HH:MM:SS
			 * (or a T) and at most arg fraction digits, all digits where
			 * it has them: its only colons are the two, so the 60th
			 * second or minute is two bytes to look at */
			if (q == CONVERT_QUICK_LOCAL && arg >= 4 && len >= 19 && s[4] == '-' &&
			    s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' &&
			    s[16] == ':' &&
			    (len == 19 || (s[19] == '.' && len > 20 && len - 20 <= arg))) {
				uint32_t need = 0x6db6fu | (valid & ~(((uint32_t)1 << 20) - 1));
				if ((digits & need) == need && !(s[14] == '6' && s[15] == '0') &&
				    !(s[17] == '6' && s[18] == '0'))
					return true;
			}
			/* convert_pg_time_plain: a digit first, no ":60" */
			uint32_t c60 = convert_eq32(a, b, ':') & (convert_eq32(a, b, '6') >> 1) &
				       (convert_eq32(a, b, '0') >> 2);
			if (!(digits & 1) || (c60 & valid >> 2))
				return false;
			if (q == CONVERT_QUICK_LOCAL)
				return convert_local_within(s, len, arg);
			/* no run of more than arg digits: no arg + 1 digits in a row */
			uint32_t run = digits & valid;
			for (size_t i = 0; i < arg && run; i++)
				run &= run >> 1;
			return !run;
		}
		default:
			break;
		}
	}
#endif
	return convert_quick_keeps(q, arg, s, len);
}

bool convert_quick_keeps_padded(enum convert_quick q, size_t arg, const char *s, size_t len)
{
	return quick_keeps_padded(q, arg, s, len);
}

/* quick_keeps_padded with its test fixed, one function each, down one
 * column of n rows (every stride-th cell from v; NULL and default cells
 * pass) */
#define QUICK_COLUMN(name, q)                                                                      \
	static bool name(size_t arg, const struct cell *v, size_t stride, size_t n)                \
	{                                                                                          \
		for (size_t i = 0; i < n; i++, v += stride)                                        \
			if (v->ptr && !cell_is_default(v) &&                                       \
			    !quick_keeps_padded(q, arg, v->ptr, v->len))                           \
				return false;                                                      \
		return true;                                                                       \
	}
QUICK_COLUMN(quick_any, CONVERT_QUICK_ANY)
QUICK_COLUMN(quick_plain, CONVERT_QUICK_PLAIN)
QUICK_COLUMN(quick_runs, CONVERT_QUICK_RUNS)
QUICK_COLUMN(quick_local, CONVERT_QUICK_LOCAL)
QUICK_COLUMN(quick_noexp, CONVERT_QUICK_NOEXP)
QUICK_COLUMN(quick_fsp, CONVERT_QUICK_FSP)
QUICK_COLUMN(quick_clock, CONVERT_QUICK_CLOCK)
QUICK_COLUMN(quick_len, CONVERT_QUICK_LEN)
QUICK_COLUMN(quick_date, CONVERT_QUICK_DATE)
QUICK_COLUMN(quick_flat, CONVERT_QUICK_FLAT)
QUICK_COLUMN(quick_bool, CONVERT_QUICK_BOOL)
QUICK_COLUMN(quick_none, CONVERT_QUICK_NONE)

static const convert_quick_column_fn quick_columns[] = {
	[CONVERT_QUICK_ANY] = quick_any,     [CONVERT_QUICK_PLAIN] = quick_plain,
	[CONVERT_QUICK_RUNS] = quick_runs,   [CONVERT_QUICK_LOCAL] = quick_local,
	[CONVERT_QUICK_NOEXP] = quick_noexp, [CONVERT_QUICK_FSP] = quick_fsp,
	[CONVERT_QUICK_CLOCK] = quick_clock, [CONVERT_QUICK_LEN] = quick_len,
	[CONVERT_QUICK_DATE] = quick_date,   [CONVERT_QUICK_FLAT] = quick_flat,
	[CONVERT_QUICK_BOOL] = quick_bool,   [CONVERT_QUICK_NONE] = quick_none,
};

convert_quick_column_fn convert_quick_column(enum convert_quick q)
{
	return (unsigned)q < sizeof quick_columns / sizeof *quick_columns ? quick_columns[q]
									  : quick_none;
}
