/* tests/unit/test_convert.c
 * Value conversion by column type: which MySQL types convert, boolean
 * spellings, ISO 8601 timestamps to UTC, dates, bytea hex to bytes, epoch
 * milliseconds as ISO 8601, and values left alone.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/batch.h"
#include "sluice/convert.h"
#include "sluice/sql.h"

/* Convert s for kind; expect output want, or NULL for "left as is". */
static void expect(enum convert_kind kind, const char *s, const char *want)
{
	char out[256];
	size_t n = 12345;
	bool ok = convert_value(kind, s, strlen(s), out, sizeof out, &n);
	if (!want) {
		ck_assert_msg(!ok, "'%s' should be left alone, got '%s'", s, ok ? out : "");
		return;
	}
	ck_assert_msg(ok, "'%s' should convert to '%s'", s, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_mem_eq(out, want, n);
	ck_assert_int_eq(out[n], '\0');
}

START_TEST(kinds_from_mysql_types)
{
	ck_assert_int_eq(convert_kind_for_mysql("tinyint(1)"), CONVERT_BOOL);
	ck_assert_int_eq(convert_kind_for_mysql("tinyint(1) unsigned"), CONVERT_BOOL);
	ck_assert_int_eq(convert_kind_for_mysql("TINYINT(1)"), CONVERT_BOOL);
	ck_assert_int_eq(convert_kind_for_mysql("boolean"), CONVERT_BOOL);
	ck_assert_int_eq(convert_kind_for_mysql("bool"), CONVERT_BOOL);
	ck_assert_int_eq(convert_kind_for_mysql("bit(1)"), CONVERT_BIT1);
	ck_assert_int_eq(convert_kind_for_mysql("datetime"), CONVERT_DATETIME);
	ck_assert_int_eq(convert_kind_for_mysql("datetime(6)"), CONVERT_DATETIME);
	ck_assert_int_eq(convert_kind_for_mysql("timestamp(3)"), CONVERT_DATETIME);
	ck_assert_int_eq(convert_kind_for_mysql("date"), CONVERT_DATE);
	ck_assert_int_eq(convert_kind_for_mysql("tinyint(4)"), CONVERT_NONE);
	ck_assert_int_eq(convert_kind_for_mysql("tinyint"), CONVERT_NONE);
	ck_assert_int_eq(convert_kind_for_mysql("tinyint(10)"), CONVERT_NONE);
	/* bits as 0/1 digits (PostgreSQL's text, sluice export's) */
	ck_assert_int_eq(convert_kind_for_mysql("bit(8)"), CONVERT_BITS);
	ck_assert_int_eq(convert_kind_for_mysql("bit(10)"), CONVERT_BITS);
	char out[64];
	size_t n = 0;
	ck_assert(convert_value(CONVERT_BITS, "101000000101", 12, out, sizeof out, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq((unsigned char)out[0], 0x0a);
	ck_assert_int_eq((unsigned char)out[1], 0x05);
	ck_assert(convert_value(CONVERT_BITS, "0", 1, out, sizeof out, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], 0);
	ck_assert(!convert_value(CONVERT_BITS, "12", 2, out, sizeof out, &n));
	ck_assert(!convert_value(CONVERT_BITS, "", 0, out, sizeof out, &n));
	ck_assert_int_eq(convert_kind_for_mysql("int(11)"), CONVERT_NONE);
	ck_assert_int_eq(convert_kind_for_mysql("varchar(10)"), CONVERT_NONE);
	ck_assert_int_eq(convert_kind_for_mysql("dateish"), CONVERT_NONE);
	ck_assert_int_eq(convert_kind_for_mysql("time"), CONVERT_NONE);
	ck_assert_int_eq(convert_kind_for_mysql(NULL), CONVERT_NONE);
}
END_TEST

START_TEST(booleans)
{
	const char *yes[] = {"true", "TRUE", "True", "t", "T", "yes", "YES", "y", "on", "ON", "1"};
	const char *no[] = {"false", "FALSE", "f", "F", "no", "No", "n", "off", "Off", "0"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		expect(CONVERT_BOOL, yes[i], "1");
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		expect(CONVERT_BOOL, no[i], "0");
	/* not a boolean: left for the server to refuse */
	expect(CONVERT_BOOL, "", NULL);
	expect(CONVERT_BOOL, "maybe", NULL);
	expect(CONVERT_BOOL, "2", NULL);
	expect(CONVERT_BOOL, " true", NULL);
	expect(CONVERT_BOOL, "truee", NULL);
	expect(CONVERT_BOOL, "-1", NULL);
	bool v = true;
	ck_assert(convert_parse_bool("oFf", 3, &v));
	ck_assert(!v);
	/* the length counts, not the NUL */
	ck_assert(convert_parse_bool("yesterday", 3, &v));
	ck_assert(v);
}
END_TEST

START_TEST(bit_one)
{
	char out[32];
	size_t n = 0;
	ck_assert(convert_value(CONVERT_BIT1, "true", 4, out, sizeof out, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], 1);
	ck_assert(convert_value(CONVERT_BIT1, "0", 1, out, sizeof out, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], 0);
	ck_assert(!convert_value(CONVERT_BIT1, "b'1'", 4, out, sizeof out, &n));
}
END_TEST

START_TEST(iso_timestamps)
{
	/* T, Z, fractions */
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05Z", "2024-01-02 03:04:05");
	expect(CONVERT_DATETIME, "2024-01-02t03:04:05z", "2024-01-02 03:04:05");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05", "2024-01-02 03:04:05");
	expect(CONVERT_DATETIME, "2024-01-02 03:04:05", "2024-01-02 03:04:05");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05.5Z", "2024-01-02 03:04:05.5");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05.123456", "2024-01-02 03:04:05.123456");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05,25", "2024-01-02 03:04:05.25");
	/* more than microseconds: the digits go to the server as given */
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05.123456789Z", "2024-01-02 03:04:05.123456789");
	expect(CONVERT_DATETIME, "2024-01-02T03:04", "2024-01-02 03:04:00");
	expect(CONVERT_DATETIME, "2024-01-02t03:04Z", "2024-01-02 03:04:00");
	expect(CONVERT_DATETIME, "0999-01-02 03:04:05,5z", "0999-01-02 03:04:05.5");
	expect(CONVERT_DATETIME, "2024-01-02", "2024-01-02 00:00:00");
	/* offsets convert to UTC, across days, months, years and leap days */
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05+02:00", "2024-01-02 01:04:05");
	expect(CONVERT_DATETIME, "2024-01-02 03:04:05+02:00", "2024-01-02 01:04:05");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05-0530", "2024-01-02 08:34:05");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05+01", "2024-01-02 02:04:05");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05+00:00", "2024-01-02 03:04:05");
	expect(CONVERT_DATETIME, "2024-01-02T03:04:05-00:00", "2024-01-02 03:04:05");
	expect(CONVERT_DATETIME, "2024-01-01T01:00:00+14:00", "2023-12-31 11:00:00");
	expect(CONVERT_DATETIME, "2024-12-31T23:00:00-02:00", "2025-01-01 01:00:00");
	expect(CONVERT_DATETIME, "2024-02-28T23:30:00-01:00", "2024-02-29 00:30:00");
	expect(CONVERT_DATETIME, "2023-02-28T23:30:00-01:00", "2023-03-01 00:30:00");
	expect(CONVERT_DATETIME, "2024-03-01T00:15:00+00:30", "2024-02-29 23:45:00");
	expect(CONVERT_DATETIME, "2000-03-01T00:00:00+01:00", "2000-02-29 23:00:00");
	expect(CONVERT_DATETIME, "1900-03-01T00:00:00+01:00", "1900-02-28 23:00:00");
	expect(CONVERT_DATETIME, "1969-12-31T23:59:59.999-00:01", "1970-01-01 00:00:59.999");
	expect(CONVERT_DATETIME, "2024-02-29T23:59:59.123+05:30", "2024-02-29 18:29:59.123");
	expect(CONVERT_DATETIME, "0001-01-01T05:00:00+01:00", "0001-01-01 04:00:00");
	expect(CONVERT_DATETIME, "9999-12-31T20:00:00-01:00", "9999-12-31 21:00:00");
}
END_TEST

START_TEST(not_timestamps)
{
	/* each left as is, so strict mode refuses it rather than storing a guess */
	const char *bad[] = {
		"",
		"yesterday",
		"2024-13-01",
		"2024-00-10",
		"2024-02-30",
		"2023-02-29",
		"2024-04-31T00:00:00",
		"2024-01-02T24:00:00",
		"2024-01-02T23:60:00",
		"2024-01-02T23:59:60",
		"2024-1-2",
		"24-01-02",
		"2024/01/02",
		"2024-01-02X03:04:05",
		"2024-01-02T03",
		"2024-01-02T03:04:05.",
		"2024-01-02T03:04:05Zulu",
		"2024-01-02T03:04:05+2",
		"2024-01-02T03:04:05+24:00",
		"2024-01-02T03:04:05+02:60",
		"2024-01-02T03:04:05 +02:00",
		"2024-01-02T03:04:05+02:00:00",
		"0000-01-01",
		"0000-00-00 00:00:00",
		"0001-01-01T00:00:00+01:00", /* before year 1 in UTC */
		"9999-12-31T23:00:00-02:00", /* after year 9999 in UTC */
		"2024-01-02T03:04:05 ",
		" 2024-01-02",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		expect(CONVERT_DATETIME, bad[i], NULL);
}
END_TEST

START_TEST(dates)
{
	expect(CONVERT_DATE, "2024-02-29", "2024-02-29");
	expect(CONVERT_DATE, "2024-03-01T00:00:00Z", "2024-03-01");
	expect(CONVERT_DATE, "2024-03-01T00:00:00.000+02:00", "2024-03-01");
	expect(CONVERT_DATE, "2024-03-01 00:00", "2024-03-01");
	/* a time of day is not dropped silently */
	expect(CONVERT_DATE, "2024-03-01T10:00:00Z", NULL);
	expect(CONVERT_DATE, "2024-03-01T00:00:00.001", NULL);
	expect(CONVERT_DATE, "2023-02-29", NULL);
	expect(CONVERT_DATE, "march 1st", NULL);
}
END_TEST

START_TEST(other_kinds_and_limits)
{
	char out[64];
	size_t n;
	expect(CONVERT_NONE, "true", NULL);
	ck_assert(!convert_value(CONVERT_BOOL, NULL, 0, out, sizeof out, &n));
	/* an output buffer smaller than len + CONVERT_MAX_GROWTH is refused */
	ck_assert(!convert_iso_datetime("2024-01-02", 10, out, 20, &n));
	ck_assert(convert_iso_datetime("2024-01-02", 10, out, 10 + CONVERT_MAX_GROWTH, &n));
	ck_assert_str_eq(out, "2024-01-02 00:00:00");
	/* the input is read only up to its length */
	ck_assert(convert_iso_datetime("2024-01-02T03:04:05Zjunk", 20, out, sizeof out, &n));
	ck_assert_str_eq(out, "2024-01-02 03:04:05");
}
END_TEST

/* The rule for column type t keeps s exactly (or not, with a reason). */
static void exact(const char *t, const char *s, bool want)
{
	char why[300] = "";
	bool got = convert_is_exact(convert_exact_rule_for_mysql(t), s, strlen(s), why, sizeof why);
	ck_assert_msg(got == want, "%s '%s': expected %s (%s)", t, s, want ? "exact" : "inexact",
		      why);
	if (!want)
		ck_assert_msg(strstr(why, s) != NULL, "the reason names the value: %s", why);
}

/* The PostgreSQL rule for column type t keeps s exactly (or not). */
static void pg_exact(const char *t, const char *s, bool want)
{
	char why[300] = "";
	bool got = convert_is_exact(convert_exact_rule_for_pg(t), s, strlen(s), why, sizeof why);
	ck_assert_msg(got == want, "%s '%s': expected %s (%s)", t, s, want ? "exact" : "inexact",
		      why);
	/* the reason names the value (its first 60 bytes, when long) */
	char head[61];
	snprintf(head, sizeof head, "%s", s);
	if (!want)
		ck_assert_msg(strstr(why, head) != NULL, "the reason names the value: %s", why);
}

START_TEST(pg_exactness)
{
	/* PostgreSQL rounds numeric(p,s) and fractional seconds silently */
	pg_exact("numeric(10,2)", "1.23", true);
	pg_exact("numeric(10,2)", "1.230", true);
	pg_exact("numeric(10,2)", "1.234", false);
	pg_exact("numeric(10,2)", "12345E-4", false);
	pg_exact("numeric(10,2)", "1.5E1", true);
	pg_exact("numeric(5)", "7.5", false);
	pg_exact("numeric", "1.23456789", true);
	pg_exact("numeric(10,2)", "NaN", true); /* the server decides */
	pg_exact("timestamp(0) without time zone", "2024-01-01 23:59:59.6", false);
	pg_exact("timestamp(0) without time zone", "2024-01-01 23:59:59.000", true);
	pg_exact("timestamp without time zone", "2024-01-01T10:00:00.1234567", false);
	pg_exact("timestamp without time zone", "2024-01-01T10:00:00.123456", true);
	pg_exact("timestamp(3) with time zone", "2024-01-01T10:00:00.1234Z", false);
	pg_exact("time(2) without time zone", "10:00:00.125", false);
	pg_exact("timestamp(0) with time zone", "infinity", true);
	pg_exact("timestamp without time zone", "-infinity", true);
	/* the quick tests (plain numbers, short digit runs) agree with the
	 * closer look on either side of the column's scale */
	pg_exact("numeric(10,2)", "-12.34", true);
	pg_exact("numeric(10,2)", "+12.", true);
	pg_exact("numeric(10,2)", "1.2300000", true);
	pg_exact("numeric(10,2)", "-0.001", false);
	pg_exact("numeric(5)", "+.5", false);
	pg_exact("numeric(5)", "12", true);
	pg_exact("numeric(10,2)", ".", true); /* no number: the server decides */
	pg_exact("timestamp without time zone", "2024-01-01T10:00:00.1234560", true);
	pg_exact("timestamp without time zone", "2024-01-01 10:00:00,1234567", false);
	pg_exact("timestamp(2) without time zone", "2024-01-01 10:00:00.12", true);
	pg_exact("timestamp(2) without time zone", "2024-01-01 10:00:00.121", false);
	pg_exact("integer", "1.5", true); /* the server refuses it */
	pg_exact("text", "1.234", true);
	/* a timestamp without time zone drops an offset: the instant moves */
	pg_exact("timestamp without time zone", "2024-01-01 10:00:00-04:00", false);
	pg_exact("timestamp(0) without time zone", "2024-01-01T10:00:00+0530", false);
	pg_exact("timestamp(3) without time zone", "2024-01-01T10:00:00.5-01", false);
	pg_exact("timestamp without time zone", "2024-01-01T10:00:00Z", true);
	pg_exact("timestamp without time zone", "2024-01-01 10:00:00+00:00", true);
	pg_exact("timestamp with time zone", "2024-01-01 10:00:00-04:00", true);
	pg_exact("timestamp(0) without time zone", "2024-01-01 10:00:00.5Z", false);
	/* a time without time zone drops a date, an offset or a zone */
	pg_exact("time without time zone", "10:00:00", true);
	pg_exact("time without time zone", "10:00:00.123456", true);
	pg_exact("time(0) without time zone", "10:00:00.5", false);
	pg_exact("time without time zone", "10:00:00+02", false);
	pg_exact("time without time zone", "10:00-04:30", false);
	pg_exact("time without time zone", "10:00:00 PST", false);
	pg_exact("time without time zone", "2024-01-01 10:00:00", false);
	pg_exact("time without time zone", "2024-01-01T10:00:00Z", false);
	pg_exact("time without time zone", "10:00:00Z", true);
	pg_exact("time without time zone", "10:00:00+00:00", true);
	pg_exact("time without time zone", "10:00:00 UTC", true);
	pg_exact("time without time zone", "10:00 PM", true);
	pg_exact("time without time zone", "10:00 pm -01", false);
	pg_exact("time without time zone", "allballs", true);
	/* a boolean: the words and their letters, no other prefix */
	pg_exact("boolean", "true", true);
	pg_exact("boolean", "t", true);
	pg_exact("boolean", "No", true);
	pg_exact("boolean", "tr", false);
	pg_exact("boolean", "Fals", false);
	pg_exact("boolean", " of ", false);
	pg_exact("boolean", "maybe", true); /* the server refuses it */
	/* jsonb keeps the last of a repeated key; json keeps the text */
	pg_exact("jsonb", "{\"a\": 1, \"b\": {\"a\": 2}}", true);
	pg_exact("jsonb", "{\"a\": 1, \"a\": 2}", false);
	pg_exact("jsonb", "[{\"k\": 1}, {\"k\": 2}]", true);
	pg_exact("jsonb", "{\"o\": [{\"k\": 1, \"j\": {}, \"k\": 1}]}", false);
	pg_exact("jsonb", "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}, \"x\": 3}", true);
	pg_exact("jsonb", "not json", true); /* the server refuses it */
	pg_exact("json", "{\"a\": 1, \"a\": 2}", true);
	pg_exact("jsonb[]", "{\"{\\\"a\\\": 1, \\\"a\\\": 2}\"}", false);
	pg_exact("time with time zone", "10:00:00+02", true);
	/* an array as its elements: quoted, NULL, nested, dimensions */
	pg_exact("numeric(6,2)[]", "{1.25,2.5}", true);
	pg_exact("numeric(6,2)[]", "{1.25,1.005}", false);
	pg_exact("numeric(6,2)[]", "{{1,2},{3,\"4.125\"}}", false);
	pg_exact("numeric(6,2)[]", "{NULL, \"1.5\" ,null}", true);
	pg_exact("numeric(6,2)[]", "[0:1]={1.5,9.999}", false);
	pg_exact("numeric(6,2)[]", "{}", true);
	pg_exact("numeric(6,2)[]", "not an array", true); /* the server refuses it */
	pg_exact("timestamp(0) without time zone[]", "{\"2024-01-01 10:00:00\"}", true);
	pg_exact("timestamp(0) without time zone[]", "{\"2024-01-01 10:00:00.5\"}", false);
	pg_exact("timestamp without time zone[]", "{\"2024-01-01 10:00:00+02\"}", false);
	pg_exact("text[]", "{1.005}", true);
	/* varchar(n) cuts a longer value's trailing spaces without a word */
	pg_exact("character varying(3)", "ab ", true);
	pg_exact("character varying(3)", "ab   ", false);
	pg_exact("character varying(3)", "abc ", false);
	pg_exact("character varying(3)", "abcd", true); /* the server refuses it */
	pg_exact("character varying(3)", "\xc3\xa6\xc3\xb8\xc3\xa5", true);
	pg_exact("character varying(3)", "\xc3\xa6\xc3\xb8\xc3\xa5 ", false);
	pg_exact("character(3)", "ab   ", true); /* padding is no part of it */
	pg_exact("character varying", "ab   ", true);
	pg_exact("character varying(3)[]", "{\"ab   \",x}", false);
	pg_exact("character varying(3)[]", "{\"ab \",x}", true);
	/* a date drops a time of day and an offset; words name the load's day */
	pg_exact("date", "2024-01-09", true);
	pg_exact("date", "2024-01-09 00:00:00", true);
	pg_exact("date", "2024-01-09T10:00:00", false);
	pg_exact("date", "2024-01-09T00:00:00+05:00", false);
	pg_exact("date", "today", false);
	pg_exact("date", " Tomorrow ", false);
	pg_exact("date", "epoch", true);
	pg_exact("date", "infinity", true);
	pg_exact("date[]", "{2024-01-09,yesterday}", false);
	pg_exact("timestamp with time zone", "now", false);
	pg_exact("timestamp with time zone", "2016-12-31T23:59:60Z", false);
	pg_exact("timestamp with time zone", "2016-12-31T23:59:59.60Z", true);
	pg_exact("timestamp with time zone", "2024-01-01T24:00:00", true);
	pg_exact("timestamp without time zone", "yesterday", false);
	pg_exact("time without time zone", "23:59:60", false);
	pg_exact("time without time zone", "now", false);
	pg_exact("time without time zone", "allballs", true);
	/* a boolean: the words and their letters, no other prefix */
	pg_exact("boolean", "true", true);
	pg_exact("boolean", "t", true);
	pg_exact("boolean", "No", true);
	pg_exact("boolean", "tr", false);
	pg_exact("boolean", "Fals", false);
	pg_exact("boolean", " of ", false);
	pg_exact("boolean", "maybe", true); /* the server refuses it */
	/* jsonb keeps the last of a repeated key; json keeps the text */
	pg_exact("jsonb", "{\"a\": 1, \"b\": {\"a\": 2}}", true);
	pg_exact("jsonb", "{\"a\": 1, \"a\": 2}", false);
	pg_exact("jsonb", "[{\"k\": 1}, {\"k\": 2}]", true);
	pg_exact("jsonb", "{\"o\": [{\"k\": 1, \"j\": {}, \"k\": 1}]}", false);
	pg_exact("jsonb", "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}, \"x\": 3}", true);
	pg_exact("jsonb", "not json", true); /* the server refuses it */
	pg_exact("json", "{\"a\": 1, \"a\": 2}", true);
	pg_exact("jsonb[]", "{\"{\\\"a\\\": 1, \\\"a\\\": 2}\"}", false);
	{
		/* an element longer than any stack buffer is looked at too */
		char v[800], n[700];
		snprintf(v, sizeof v, "{x,\"abc%400s\"}", "");
		pg_exact("character varying(3)[]", v, false);
		snprintf(v, sizeof v, "{x,\"abcd%400s\"}", "");
		pg_exact("character varying(3)[]", v, true); /* the server refuses it */
		memset(n, '0', 600);
		n[0] = '1';
		n[1] = '.';
		n[599] = '1';
		n[600] = '\0';
		snprintf(v, sizeof v, "{2,%s}", n);
		pg_exact("numeric(6,2)[]", v, false);
		n[599] = '0';
		snprintf(v, sizeof v, "{2,%s}", n);
		pg_exact("numeric(6,2)[]", v, true);
	}
	ck_assert(!convert_surely_exact(convert_exact_rule_for_pg("numeric(6,2)[]"), "{1}", 3));
	int clock = convert_exact_rule_for_pg("time without time zone");
	ck_assert(convert_surely_exact(clock, "23:59:59.999999", 15));
	ck_assert(!convert_surely_exact(clock, "23:59:59-01", 11));
	ck_assert(!convert_surely_exact(convert_exact_rule_for_pg("time(2)"), "23:59:59.125", 12));
	int local = convert_exact_rule_for_pg("timestamp without time zone");
	ck_assert(!convert_surely_exact(local, "2024-01-01 10:00:00-04", 22));
	ck_assert(convert_surely_exact(local, "2024-01-01 10:00:00", 19));
	ck_assert(convert_surely_exact(local, "2024-01-01T10:00:00.25", 22));
}
END_TEST

START_TEST(exactness)
{
	/* MariaDB rounds a fraction into an integer column without a word */
	exact("int(11)", "42", true);
	exact("bigint(20) unsigned", " -7 ", true);
	exact("int", "1.5", false);
	/* whole numbers in other spellings are kept as they are */
	exact("smallint(6)", "2.0", true);
	exact("tinyint(4)", "1e3", true);
	exact("int", "1.50E1", true);
	exact("int", "1e-1", false);
	exact("int", "15E-1", false);
	/* MariaDB stores what underflows as 0 */
	exact("double", "1e-300", true);
	exact("double", "1e-400", false);
	exact("double", "0e-400", true);
	exact("double", "-0.0", true);
	exact("float", "1e-40", true); /* a subnormal float */
	exact("float", "1e-50", false);
	exact("float(30)", "1e-50", true);
	exact("double", "abc", true);
	exact("mediumint", "abc", true); /* refused by the server, not changed */
	exact("int", "", true);
	/* and drops fractional seconds the column has no room for */
	exact("datetime", "2024-01-02 03:04:05.7", false);
	exact("datetime", "2024-01-02T03:04:05.000Z", true);
	exact("datetime(3)", "2024-01-02T03:04:05.123Z", true);
	exact("datetime(3)", "2024-01-02T03:04:05.1234+02:00", false);
	exact("timestamp(6)", "2024-01-02 03:04:05.123456", true);
	exact("time", "10:11:12.5", false);
	exact("time(1)", "10:11:12.5", true);
	exact("time", "-838:59:59.9", false);
	exact("datetime", "2024-01-02", true);
	exact("datetime(6)", "infinity", false); /* PostgreSQL's: MySQL would store a zero date */
	exact("timestamp", "-infinity", false);
	/* other types are left to the server's own notes */
	exact("decimal(10,2)", "9.999", true);
	exact("varchar(10)", "1.5", true);
	exact("double", "1.5", true);
	/* the cheap first tests: no exponent, but a long number; a comma as
	 * the fraction's point */
	exact("float", "0.0000000000000000000000000000000000000000000000001", false);
	exact("float", "0.00000000000000000000000000000000000001", true);
	exact("double", "0.000000000000000000000000000000000000000000000000001", true);
	exact("datetime", "2024-01-02T03:04:05,7", false);
	exact("datetime", "2024-01-02T03:04:05", true);
	exact("int", "12E", true); /* not a number: the server refuses it */
	pg_exact("numeric(10,2)", "1234", true);
	pg_exact("timestamp(0) without time zone", "2024-01-01 23:59:59,6", false);
}
END_TEST

/* Convert s (len bytes) for CONVERT_BYTES; expect want (wlen bytes), or
 * want NULL for "left as is". */
static void expect_bytes(const char *s, const char *want, size_t wlen)
{
	char out[256];
	size_t n = 12345, len = strlen(s);
	bool ok = convert_value(CONVERT_BYTES, s, len, out, len + CONVERT_MAX_GROWTH, &n);
	if (!want) {
		ck_assert_msg(!ok, "'%s' should be left alone", s);
		return;
	}
	ck_assert_msg(ok, "'%s' should convert", s);
	ck_assert_uint_eq(n, wlen);
	ck_assert_mem_eq(out, want, n);
	ck_assert_int_eq(out[n], '\0');
}

START_TEST(bytes_from_hex)
{
	ck_assert_int_eq(convert_kind_for_mysql("blob"), CONVERT_BYTES);
	ck_assert_int_eq(convert_kind_for_mysql("LONGBLOB"), CONVERT_BYTES);
	ck_assert_int_eq(convert_kind_for_mysql("tinyblob"), CONVERT_BYTES);
	ck_assert_int_eq(convert_kind_for_mysql("mediumblob"), CONVERT_BYTES);
	ck_assert_int_eq(convert_kind_for_mysql("varbinary(255)"), CONVERT_BYTES);
	ck_assert_int_eq(convert_kind_for_mysql("binary(16)"), CONVERT_BYTES);
	ck_assert_int_eq(convert_kind_for_mysql("blobby"), CONVERT_NONE);
	ck_assert_int_eq(convert_kind_for_mysql("text"), CONVERT_NONE);
	/* PostgreSQL's bytea hex form, as the raw bytes */
	expect_bytes("\\x00ff41",
		     "\0\xff"
		     "A",
		     3);
	expect_bytes("\\xDEADbeef", "\xde\xad\xbe\xef", 4);
	expect_bytes("\\x", "", 0);
	/* anything else goes as it is */
	expect_bytes("\\x0", NULL, 0);
	expect_bytes("\\x0g", NULL, 0);
	expect_bytes("\\X00", NULL, 0);
	expect_bytes("x00", NULL, 0);
	expect_bytes("\\", NULL, 0);
	expect_bytes("raw bytes", NULL, 0);
}
END_TEST

/* convert_epoch_ms_iso(ms) is want. */
static void expect_epoch(int64_t ms, const char *want)
{
	char out[CONVERT_EPOCH_MAX];
	size_t n = 0;
	ck_assert(convert_epoch_ms_iso(ms, out, sizeof out, &n));
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
}

/* convert_has_colon60 says what memmem says, on every string of up to 7
 * bytes over the bytes that matter and one that does not */
START_TEST(colon60_is_memmem)
{
	static const char alphabet[] = ":601";
	char s[8];
	unsigned long tried = 0, found = 0;
	for (size_t len = 0; len <= 7; len++) {
		unsigned long n = 1;
		for (size_t i = 0; i < len; i++)
			n *= 4;
		for (unsigned long code = 0; code < n; code++) {
			unsigned long c = code;
			for (size_t i = 0; i < len; i++, c /= 4)
				s[i] = alphabet[c % 4];
			bool want = memmem(s, len, ":60", 3) != NULL;
			ck_assert_msg(convert_has_colon60(s, len) == want, "%.*s", (int)len, s);
			tried++;
			found += want;
		}
	}
	ck_assert_uint_eq(tried, 21845);
	ck_assert_uint_gt(found, 1000);
	/* the bytes after len are not looked at */
	ck_assert(!convert_has_colon60("10:6", 4));
	ck_assert(!convert_has_colon60("10:60", 4));
	ck_assert(convert_has_colon60("23:59:60", 8));
}
END_TEST

/* convert_quick_keeps_padded, and the function convert_quick_column
 * makes for each test (a column of one, and of three), give convert_quick_keeps' answer for every
 * quick test, on generated values of up to 40 bytes over the bytes the tests look for, each
 * followed by 32 bytes of such noise (which must not change the answer), and on the common shapes.
 */
START_TEST(padded_is_quick)
{
	static const struct {
		enum convert_quick q;
		size_t arg;
	} tests[] = {
		{CONVERT_QUICK_ANY, 0},	    {CONVERT_QUICK_PLAIN, 0}, {CONVERT_QUICK_PLAIN, 2},
		{CONVERT_QUICK_PLAIN, 6},   {CONVERT_QUICK_RUNS, 0},  {CONVERT_QUICK_RUNS, 3},
		{CONVERT_QUICK_RUNS, 6},    {CONVERT_QUICK_LOCAL, 0}, {CONVERT_QUICK_LOCAL, 4},
		{CONVERT_QUICK_LOCAL, 6},   {CONVERT_QUICK_NOEXP, 5}, {CONVERT_QUICK_NOEXP, 41},
		{CONVERT_QUICK_NOEXP, 128}, {CONVERT_QUICK_FSP, 0},   {CONVERT_QUICK_FSP, 3},
		{CONVERT_QUICK_FSP, 6},	    {CONVERT_QUICK_CLOCK, 0}, {CONVERT_QUICK_CLOCK, 6},
		{CONVERT_QUICK_LEN, 1},	    {CONVERT_QUICK_LEN, 5},   {CONVERT_QUICK_DATE, 0},
		{CONVERT_QUICK_FLAT, 0},    {CONVERT_QUICK_BOOL, 0},
	};
	static const char alphabet[] = "0123456789.:60-+eETZ ,{}abf\0\xc3";
	static const char *const shapes[] = {
		"2024-08-04 23:59:60.5",
		"2024-08-04 23:60:00",
		"2024-08-04T23:19:00.1234",
		"12:34:56.789",
		"27823.88",
		"-1.5",
		"+.5",
		".",
		"1.",
		"true",
		"false",
		"854.692401",
		"1e3",
		"2024-08-04T23:19:00",
		"23:59:60",
		"2024-08-04 23:19:00.123456",
		"2024-08-04 23:19:00.1234567",
		"10:00:00.5",
		"2024-01-01",
		"{\"a\":1}",
		"yes",
		"0.000000000000000000000000000001",
	};
	char buf[40 + CONVERT_QUICK_PAD];
	uint64_t x = 88172645463325252ULL;
	unsigned long tried = 0, kept = 0;
	for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
		for (int i = 0; i < 20000 + (int)(sizeof shapes / sizeof shapes[0]); i++) {
			size_t len;
			for (size_t k = 0; k < sizeof buf; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				buf[k] = alphabet[x % (sizeof alphabet - 1)];
			}
			if (i < (int)(sizeof shapes / sizeof shapes[0])) {
				len = strlen(shapes[i]);
				memcpy(buf, shapes[i], len);
			} else if (i % 2) {
				/* a common shape cut short or with a byte or two changed */
				const char *shape =
					shapes[(x >> 8) % (sizeof shapes / sizeof shapes[0])];
				size_t n = strlen(shape), at = (x >> 16) % (n + 1);
				len = (x >> 24) % 4 ? n : (x >> 32) % (n + 1);
				memcpy(buf, shape, n);
				if ((x >> 40) % 4)
					buf[at % (len ? len : 1)] =
						alphabet[(x >> 48) % (sizeof alphabet - 1)];
				if ((x >> 44) % 4 == 0)
					buf[(x >> 52) % (len ? len : 1)] =
						(char)('0' + (x >> 56) % 10);
			} else {
				len = x >> 58; /* 0 to 63 */
				if (len > 40)
					len = (len - 40) % 20; /* most of them short */
				if (x & (1u << 20))
					for (size_t k = 0; k < len; k++) /* mostly digits */
						if ((x >> (k % 40)) & 1)
							buf[k] = (char)('0' + k % 10);
			}
			bool want = convert_quick_keeps(tests[t].q, tests[t].arg, buf, len);
			ck_assert_msg(convert_quick_keeps_padded(tests[t].q, tests[t].arg, buf,
								 len) == want,
				      "quick test %d (%zu) on '%.*s': %d", (int)tests[t].q,
				      tests[t].arg, (int)len, buf, want);
			const struct cell one = {buf, len};
			ck_assert(convert_quick_column(tests[t].q)(tests[t].arg, &one, 1, 1) ==
				  want);
			/* down a column: a NULL and a default pass, the cells
			 * between (stride 2) are not looked at */
			const struct cell col[] = {{NULL, 0},	{"\x01", 1}, {cell_default, 0},
						   {"\x01", 1}, {buf, len},  {"\x01", 1}};
			ck_assert(convert_quick_column(tests[t].q)(tests[t].arg, col, 2, 3) ==
				  want);
			tried++;
			kept += want;
		}
	}
	ck_assert_uint_gt(kept, tried / 10);
	ck_assert_uint_lt(kept, tried - tried / 10);
}
END_TEST

/* The quick test agrees with the close look on every value it passes,
 * and passes the common shapes (what the reader and COPY rely on). */
START_TEST(quick_local_timestamps)
{
	static const char *const kept[] = {
		"2024-01-01T10:00:00",	      "2024-01-01 10:00:00",	   "2024-01-01 10:00:00.5",
		"2024-01-01T10:00:00.123456", "2024-01-01 10:00:00+00:00", "2024-01-01 10:00:00Z",
	};
	static const char *const looked_at[] = {
		"2024-01-01T10:00:00.1234567", "2024-01-01T10:00:00-04:00",
		"2024-01-01 10:00:00+02",      "2024-01-01 10:00:00 PST",
		"2024-01-01 1x:00:00",
	};
	int rule = CONVERT_EXACT_PG_LOCAL_FSP(6);
	char why[300];
	for (size_t i = 0; i < 2; i++)
		ck_assert_msg(convert_surely_exact(rule, kept[i], strlen(kept[i])), "%s", kept[i]);
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		ck_assert_msg(convert_is_exact(rule, kept[i], strlen(kept[i]), why, sizeof why),
			      "%s", kept[i]);
	for (size_t i = 0; i < sizeof looked_at / sizeof looked_at[0]; i++)
		ck_assert_msg(!convert_surely_exact(rule, looked_at[i], strlen(looked_at[i])), "%s",
			      looked_at[i]);
	ck_assert(!convert_is_exact(rule, looked_at[0], strlen(looked_at[0]), why, sizeof why));
	ck_assert(!convert_is_exact(rule, looked_at[1], strlen(looked_at[1]), why, sizeof why));
	/* timestamp(3): the fraction's fourth digit is a close look */
	ck_assert(!convert_surely_exact(CONVERT_EXACT_PG_LOCAL_FSP(3), "2024-01-01 10:00:00.1234",
					24));
	ck_assert(convert_is_exact(CONVERT_EXACT_PG_LOCAL_FSP(3), "2024-01-01 10:00:00.123", 23,
				   why, sizeof why));
}
END_TEST

/* Every rule's quick test passes only what its close look keeps, over
 * values on either side of each bound; and it passes the common values of
 * MySQL columns (what the reader's test relies on for LOAD DATA). */
START_TEST(quick_agrees_with_close_look)
{
	static const int rules[] = {
		CONVERT_EXACT_INTEGER,
		CONVERT_EXACT_SCALE(0),
		CONVERT_EXACT_SCALE(2),
		CONVERT_EXACT_DOUBLE,
		CONVERT_EXACT_FLOAT,
		0,
		3,
		6,
		CONVERT_EXACT_PG_FSP(0),
		CONVERT_EXACT_PG_FSP(6),
		CONVERT_EXACT_PG_LOCAL_FSP(0),
		CONVERT_EXACT_PG_LOCAL_FSP(3),
		CONVERT_EXACT_PG_LOCAL_TIME_FSP(0),
		CONVERT_EXACT_PG_LOCAL_TIME_FSP(6),
		CONVERT_EXACT_PG_VARCHAR(1),
		CONVERT_EXACT_PG_VARCHAR(5),
		CONVERT_EXACT_ARRAY(CONVERT_EXACT_SCALE(2)),
		CONVERT_EXACT_PG_DATE,
		CONVERT_EXACT_PG_JSONB,
		CONVERT_EXACT_PG_BOOL,
	};
	static const char *const values[] = {
		"0",
		"42",
		"-7",
		"1.5",
		"1.25",
		"1.255",
		"2.0",
		"1e3",
		"1E-1",
		"true",
		"false",
		"yes",
		"infinity",
		"-infinity",
		"+infinity",
		"1e-400",
		"1e-50",
		"1E-320",
		"",
		" 5",
		".",
		"NaN",
		"0.0000000000000000000000000000000000000000001",
		"2024-01-01",
		"2024-01-01T10:00:00",
		"2024-01-01 10:00:00.5",
		"2024-01-01 10:00:00.1234",
		"2024-01-01 10:00:00,1234567",
		"2024-01-01T10:00:00.1234567",
		"2024-01-01 10:00:00-04:00",
		"10:00:00.5",
		"10:00",
		"ab   ",
		"abcdef",
		"\xc3\xa6\xc3\xb8  ",
		"{1.5,2.25}",
		"{1.255}",
		"10:00:00+02",
		"10:00:00.25Z",
		"10:00 PM",
		"-10:00:00",
		"838:59:59",
		"10:00:00.",
		"12345678901234567890123456789012345678901234567890.5",
		"now",
		"today",
		"2016-12-31T23:59:60Z",
		"23:59:60",
		"2024-01-09T10:00:00+05:00",
		"{\"a\": 1, \"a\": 2}",
		"tr",
		"of",
		"on",
		"fals",
	};
	char why[300];
	for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
		for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
			size_t len = strlen(values[v]);
			if (convert_surely_exact(rules[r], values[v], len))
				ck_assert_msg(
					convert_is_exact(rules[r], values[v], len, why, sizeof why),
					"rule %d passes '%s' quickly, but not closely", rules[r],
					values[v]);
		}
	static const struct {
		const char *type, *value;
	} common[] = {
		{"int(11)", "552"},
		{"tinyint(1)", "true"},
		{"tinyint(1)", "0"},
		{"decimal(12,2)", "27823.88"},
		{"double", "854.692401"},
		{"float", "-1.5"},
		{"datetime", "2024-08-04T23:19:00"},
		{"datetime(3)", "2024-08-04 23:19:00.125"},
		{"timestamp", "2024-08-04 23:19:00"},
		{"time", "10:00:00"},
	};
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
		/* (MariaDB reports a decimal's rounding itself: no rule) */
		int rule = convert_exact_rule_for_mysql(common[i].type);
		ck_assert_msg(convert_surely_exact(rule, common[i].value, strlen(common[i].value)),
			      "%s: '%s' passes quickly", common[i].type, common[i].value);
	}
	ck_assert(!convert_surely_exact(0, "2024-08-04 23:19:00.5", 21));
	ck_assert(!convert_surely_exact(CONVERT_EXACT_FLOAT, "1e-50", 5));
	ck_assert(!convert_surely_exact(6, "infinity", 8));
}
END_TEST

START_TEST(epoch_milliseconds)
{
	expect_epoch(0, "1970-01-01T00:00:00.000Z");
	expect_epoch(1709210096789, "2024-02-29T12:34:56.789Z");
	expect_epoch(-1, "1969-12-31T23:59:59.999Z");
	expect_epoch(-315619200000, "1960-01-01T00:00:00.000Z");
	expect_epoch(253402300799999, "9999-12-31T23:59:59.999Z");
	expect_epoch(253402300800000, "10000-01-01T00:00:00.000Z");
	expect_epoch(-62135596800000, "0001-01-01T00:00:00.000Z");
	expect_epoch(-62135596800001, "0001-12-31T23:59:59.999Z BC"); /* year 0 */
	expect_epoch(-62167219200000, "0001-01-01T00:00:00.000Z BC");
	expect_epoch(INT64_MAX, "292278994-08-17T07:12:55.807Z");
	expect_epoch(INT64_MIN, "292275056-05-16T16:47:04.192Z BC");
	char small[20];
	size_t n;
	ck_assert(!convert_epoch_ms_iso(0, small, sizeof small, &n));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("convert");
	TCase *tc = tcase_create("core");
	/* padded_is_quick tries 500,000 values three ways: seconds in an -O0
	 * build (the package's noopt test) or under a sanitizer */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kinds_from_mysql_types);
	tcase_add_test(tc, booleans);
	tcase_add_test(tc, bit_one);
	tcase_add_test(tc, iso_timestamps);
	tcase_add_test(tc, not_timestamps);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, other_kinds_and_limits);
	tcase_add_test(tc, exactness);
	tcase_add_test(tc, pg_exactness);
	tcase_add_test(tc, bytes_from_hex);
	tcase_add_test(tc, epoch_milliseconds);
	tcase_add_test(tc, colon60_is_memmem);
	tcase_add_test(tc, padded_is_quick);
	tcase_add_test(tc, quick_local_timestamps);
	tcase_add_test(tc, quick_agrees_with_close_look);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
