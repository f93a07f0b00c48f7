/* src/row/infer.c
 * Column type inference for --create: the narrowest type every value of a
 * sample fits, without changing any value (leading zeros, a '+' sign or
 * padding keep a column text, so "007" is never loaded as 7).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

#include "sluice/convert.h"
#include "sluice/infer.h"

/* What one column's values have been so far. */
struct column_seen {
	bool any;	  /* a non-empty value was seen */
	bool all_int;	  /* every value an integer that fits 64-bit signed */
	bool all_num;	  /* every value an integer or decimal */
	bool all_boolish; /* every value a boolean word or 0/1 */
	bool any_boolword;
	bool all_date;
	bool all_datetime; /* every value a date or a date-time */
	bool all_json;
	bool all_uuid;
	bool all_bytes;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits at s[*i..] (none allowed when min is 0); returns how many. */
static size_t digit_run(const char *s, size_t len, size_t *i)
{
	size_t start = *i;
	while (*i < len && is_digit(s[*i]))
		(*i)++;
	return *i - start;
}

/* An integer as written: -?digits without a redundant leading zero. *fits
 * tells whether it fits in 64-bit signed. */
static bool is_integer(const char *s, size_t len, bool *fits)
{
	size_t i = 0;
	bool neg = len && s[0] == '-';
	if (neg)
		i++;
	size_t n = digit_run(s, len, &i);
	if (n == 0 || i != len || (n > 1 && s[neg] == '0'))
		return false;
	/* compare with 9223372036854775807 (or ...808 when negative) as text */
	const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
	*fits = n < 19 || (n == 19 && memcmp(s + neg, limit, 19) <= 0);
	return true;
}

/* A decimal as written: -?digits.digits, optionally with an exponent. */
static bool is_decimal(const char *s, size_t len)
{
	size_t i = 0;
	if (len && s[0] == '-')
		i++;
	size_t int_start = i;
	size_t n = digit_run(s, len, &i);
	if (n == 0 || (n > 1 && s[int_start] == '0'))
		return false;
	if (i < len && s[i] == '.') {
		i++;
		if (digit_run(s, len, &i) == 0)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (digit_run(s, len, &i) == 0)
			return false;
	}
	return i == len;
}

static bool is_boolword(const char *s, size_t len)
{
	static const char *const words[] = {"true", "false", "t", "f", "yes", "no"};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strlen(words[i]) == len && !strncasecmp(s, words[i], len))
			return true;
	return false;
}

/* YYYY-MM-DD naming a day that exists. */
static bool is_date(const char *s, size_t len)
{
	char out[10 + CONVERT_MAX_GROWTH];
	size_t n;
	return len == 10 && is_digit(s[0]) && s[4] == '-' && s[7] == '-' &&
	       convert_iso_datetime(s, len, out, sizeof out, &n);
}

/* An ISO 8601 date-time: a date, 'T' or a space, a time, optional fraction
 * and zone. */
static bool is_datetime(const char *s, size_t len)
{
	char out[64 + CONVERT_MAX_GROWTH];
	size_t n;
	if (!(len > 10 && len <= 64 && is_date(s, 10) && (s[10] == 'T' || s[10] == ' ') &&
	      convert_iso_datetime(s, len, out, sizeof out, &n)))
		return false;
	/* more fractional digits than microseconds: a timestamp column on
	 * either server would round them, so the column stays text */
	const char *dot = memchr(s + 10, '.', len - 10);
	size_t digits = 0;
	while (dot && dot + 1 + digits < s + len && is_digit(dot[1 + digits]))
		digits++;
	return digits <= 6;
}

/* An object or array that YAJL accepts as a whole JSON text. */
static bool is_json(const char *s, size_t len)
{
	if (s[0] != '{' && s[0] != '[')
		return false;
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	if (!h)
		return false;
	bool ok = yajl_parse(h, (const unsigned char *)s, len) == yajl_status_ok &&
		  yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return ok;
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* 8-4-4-4-12 lowercase hex digits: a uuid column gives it back unchanged. */
static bool is_uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !is_lower_hex(s[i]))
			return false;
	return true;
}

/* "\x" and pairs of lowercase hex digits: bytes in bytea's text form (as
 * MongoDB's $binary loads). */
static bool is_hex_bytes(const char *s, size_t len)
{
	if (len < 2 || len % 2 || s[0] != '\\' || s[1] != 'x')
		return false;
	for (size_t i = 2; i < len; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

static void see_value(struct column_seen *c, const char *s, size_t len)
{
	bool fits = false;
	bool integer = is_integer(s, len, &fits);
	c->any = true;
	if (!(integer && fits))
		c->all_int = false;
	if (c->all_num && !integer && !is_decimal(s, len))
		c->all_num = false;
	if (c->all_boolish) {
		if (is_boolword(s, len))
			c->any_boolword = true;
		else if (!(len == 1 && (s[0] == '0' || s[0] == '1')))
			c->all_boolish = false;
	}
	bool date = (c->all_date || c->all_datetime) && is_date(s, len);
	if (!date)
		c->all_date = false;
	if (c->all_datetime && !date && !is_datetime(s, len))
		c->all_datetime = false;
	if (c->all_json && !is_json(s, len))
		c->all_json = false;
	if (c->all_uuid && !is_uuid(s, len))
		c->all_uuid = false;
	if (c->all_bytes && !is_hex_bytes(s, len))
		c->all_bytes = false;
}

static enum col_type decide(const struct column_seen *c)
{
	if (!c->any)
		return TYPE_TEXT;
	if (c->all_int)
		return TYPE_BIGINT;
	if (c->all_num)
		return TYPE_NUMERIC;
	if (c->all_boolish && c->any_boolword)
		return TYPE_BOOLEAN;
	if (c->all_date)
		return TYPE_DATE;
	if (c->all_datetime)
		return TYPE_TIMESTAMP;
	if (c->all_json)
		return TYPE_JSON;
	if (c->all_uuid)
		return TYPE_UUID;
	if (c->all_bytes)
		return TYPE_BYTES;
	return TYPE_TEXT;
}

void infer_types(const struct batch *b, enum col_type *types)
{
	for (int col = 0; col < b->ncols; col++) {
		struct column_seen c = {.all_int = true,
					.all_num = true,
					.all_boolish = true,
					.all_date = true,
					.all_datetime = true,
					.all_json = true,
					.all_uuid = true,
					.all_bytes = true};
		for (size_t r = 0; r < b->nrows; r++) {
			const struct cell *v = &batch_row(b, r)[col];
			if (v->ptr && v->len)
				see_value(&c, v->ptr, v->len);
		}
		types[col] = decide(&c);
	}
}

bool infer_value_fits(enum col_type t, const char *s, size_t len)
{
	bool fits = false;
	if (!s || !len)
		return true;
	switch (t) {
	case TYPE_TEXT:
		return true;
	case TYPE_BIGINT:
		return is_integer(s, len, &fits) && fits;
	case TYPE_NUMERIC:
		return is_integer(s, len, &fits) || is_decimal(s, len);
	case TYPE_BOOLEAN:
		return is_boolword(s, len) || (len == 1 && (s[0] == '0' || s[0] == '1'));
	case TYPE_DATE:
		return is_date(s, len);
	case TYPE_TIMESTAMP:
		return is_date(s, len) || is_datetime(s, len);
	case TYPE_JSON:
		return is_json(s, len);
	case TYPE_UUID:
		return is_uuid(s, len);
	case TYPE_BYTES:
		return is_hex_bytes(s, len);
	}
	return true;
}

const char *infer_type_words(enum col_type t)
{
	switch (t) {
	case TYPE_BIGINT:
		return "an integer as written (no leading zero nor '+')";
	case TYPE_NUMERIC:
		return "a number as written";
	case TYPE_BOOLEAN:
		return "a boolean (true/false/t/f/yes/no, 0/1)";
	case TYPE_DATE:
		return "a date (YYYY-MM-DD)";
	case TYPE_TIMESTAMP:
		return "an ISO 8601 date and time";
	case TYPE_JSON:
		return "a JSON object or array";
	case TYPE_UUID:
		return "a lowercase UUID";
	case TYPE_BYTES:
		return "bytes as \\x and hex pairs";
	case TYPE_TEXT:
		break;
	}
	return "text";
}
