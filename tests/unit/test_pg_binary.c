/* tests/unit/test_pg_binary.c
 * COPY's binary format (src/db/pg_binary.c): each value's bytes as
 * PostgreSQL's send functions write them (numeric_send: digit count,
 * weight, sign, scale, base-10000 digits; timestamps in microseconds and
 * dates in days from 2000-01-01), and the forms left to the server's text
 * input. t_pg_binary holds the same against a real server.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/pg_internal.h"

/* value s of kind k as one column of a tuple, into out (its bytes after the
 * field count): the bytes' number, -1 when not carried */
static long enc(enum pg_bin_kind k, const char *s, unsigned char *out)
{
	struct buf o;
	buf_init(&o, 0);
	struct cell c = {s, s ? strlen(s) : 0};
	int got = pg_bin_row(&o, &k, &c, 1, false);
	long n = -1;
	if (got == 1) {
		ck_assert_uint_ge(o.len, 2);
		ck_assert_int_eq(o.data[0], 0);
		ck_assert_int_eq(o.data[1], 1);
		n = (long)o.len - 2;
		memcpy(out, o.data + 2, (size_t)n);
	} else {
		ck_assert_uint_eq(o.len, 0); /* nothing left behind */
	}
	buf_free(&o);
	return n;
}

/* the length word and then 16-bit words, as numeric_send writes them */
static void want_numeric(const char *s, int ndigits, int weight, int sign, int dscale,
			 const int *digits)
{
	unsigned char b[256];
	long n = enc(PG_BIN_NUMERIC, s, b);
	ck_assert_msg(n == 4 + 8 + 2 * ndigits, "%s: %ld bytes", s, n);
	int words[64];
	for (int i = 0; i < 4 + ndigits; i++)
		words[i] = (int16_t)(b[4 + 2 * i] << 8 | b[5 + 2 * i]);
	ck_assert_msg(words[0] == ndigits && words[1] == weight && (words[2] & 0xffff) == sign &&
			      words[3] == dscale,
		      "%s: %d %d %x %d", s, words[0], words[1], words[2] & 0xffff, words[3]);
	for (int i = 0; i < ndigits; i++)
		ck_assert_msg(words[4 + i] == digits[i], "%s: digit %d is %d", s, i, words[4 + i]);
}

static int64_t be64(const unsigned char *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return (int64_t)v;
}

START_TEST(numerics)
{
	want_numeric("27823.88", 3, 1, 0, 2, (const int[]){2, 7823, 8800});
	want_numeric("-0.00012", 2, -1, 0x4000, 5, (const int[]){1, 2000});
	want_numeric("10000", 1, 1, 0, 0, (const int[]){1});
	want_numeric("00001.1000", 2, 0, 0, 4, (const int[]){1, 1000});
	want_numeric("-0.00", 0, 0, 0, 2, NULL); /* zero: positive, weight 0 */
	want_numeric("0", 0, 0, 0, 0, NULL);
	want_numeric("123456789012345678901234.5", 7, 5, 0, 1,
		     (const int[]){1234, 5678, 9012, 3456, 7890, 1234, 5000});
	want_numeric("12345678901234567.123456789012345678", 10, 4, 0, 18,
		     (const int[]){1, 2345, 6789, 123, 4567, 1234, 5678, 9012, 3456, 7800});
	unsigned char b[64];
	const char *odd[] = {"1e5", "+7", " 3", "3 ", "NaN",  "Infinity",
			     ".5",  "5.", "-",	"",   "1.2.3"};
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
		ck_assert_msg(enc(PG_BIN_NUMERIC, odd[i], b) < 0, "'%s' carried", odd[i]);
}
END_TEST

START_TEST(integers_and_booleans)
{
	unsigned char b[64];
	ck_assert_int_eq(enc(PG_BIN_INT2, "-32768", b), 6);
	ck_assert_int_eq(b[4] << 8 | b[5], 0x8000);
	ck_assert_int_lt(enc(PG_BIN_INT2, "32768", b), 0);
	ck_assert_int_eq(enc(PG_BIN_INT4, "007", b), 8);
	ck_assert_int_eq(b[7], 7);
	ck_assert_int_eq(enc(PG_BIN_INT8, "-9223372036854775808", b), 12);
	ck_assert_int_eq(be64(b + 4), INT64_MIN);
	ck_assert_int_eq(enc(PG_BIN_INT8, "9223372036854775807", b), 12);
	ck_assert_int_eq(be64(b + 4), INT64_MAX);
	ck_assert_int_lt(enc(PG_BIN_INT8, "9223372036854775808", b), 0);
	ck_assert_int_lt(enc(PG_BIN_INT8, "+1", b), 0);
	ck_assert_int_lt(enc(PG_BIN_INT8, "1.0", b), 0);
	const char *yes[] = {"t", "TRUE", "Yes", "on", "1", "y"},
		   *no[] = {"f", "False", "NO", "off", "0", "n"};
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(enc(PG_BIN_BOOL, yes[i], b), 5);
		ck_assert_int_eq(b[4], 1);
		ck_assert_int_eq(enc(PG_BIN_BOOL, no[i], b), 5);
		ck_assert_int_eq(b[4], 0);
	}
	const char *odd[] = {"tr", "o", "of", "yes ", "2", "", "truex"};
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
		ck_assert_msg(enc(PG_BIN_BOOL, odd[i], b) < 0, "'%s' carried", odd[i]);
}
END_TEST

START_TEST(doubles)
{
	unsigned char b[64];
	const struct {
		const char *s;
		double d;
	} ok[] = {{"0.1", 0.1},
		  {"-0", -0.0},
		  {"854.692401", 854.692401},
		  {"9007199254740992", 9007199254740992.0},
		  {"0.0000000000000000000001", 1e-22},
		  {"1234567890123456", 1234567890123456.0}};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		ck_assert_int_eq(enc(PG_BIN_FLOAT8, ok[i].s, b), 12);
		uint64_t bits;
		memcpy(&bits, &ok[i].d, 8);
		ck_assert_msg((uint64_t)be64(b + 4) == bits, "%s", ok[i].s);
	}
	/* beyond one exact rounding, and forms strtod reads differently */
	const char *odd[] = {"9007199254740993",
			     "12345678901234567",
			     "0.00000000000000000000001",
			     "1e5",
			     "Infinity",
			     "NaN",
			     "+1",
			     ".5"};
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
		ck_assert_msg(enc(PG_BIN_FLOAT8, odd[i], b) < 0, "'%s' carried", odd[i]);
}
END_TEST

START_TEST(dates_and_timestamps)
{
	unsigned char b[64];
	ck_assert_int_eq(enc(PG_BIN_DATE, "2000-01-02", b), 8);
	ck_assert_int_eq(b[7], 1);
	ck_assert_int_eq(enc(PG_BIN_DATE, "1999-12-31", b), 8);
	ck_assert_int_eq(b[4] & b[5] & b[6] & b[7], 0xff); /* -1 */
	ck_assert_int_eq(enc(PG_BIN_DATE, "2024-02-29", b), 8);
	ck_assert_int_eq(b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7], 8825);
	ck_assert_int_eq(enc(PG_BIN_TIMESTAMP, "2000-01-01T00:00:01.5", b), 12);
	ck_assert_int_eq(be64(b + 4), 1500000);
	ck_assert_int_eq(enc(PG_BIN_TIMESTAMP, "2024-08-04 23:19:00.000001", b), 12);
	ck_assert_int_eq(be64(b + 4), (8982LL * 86400 + 23 * 3600 + 19 * 60) * 1000000 + 1);
	const char *odd_d[] = {"2023-02-29", "2024-13-01", "0000-01-01", "2024-1-01",
			       "2024-01-01 "};
	for (size_t i = 0; i < sizeof odd_d / sizeof *odd_d; i++)
		ck_assert_msg(enc(PG_BIN_DATE, odd_d[i], b) < 0, "'%s' carried", odd_d[i]);
	const char *odd_t[] = {"2024-01-01 24:00:00",	 "2016-12-31 23:59:60",
			       "2024-01-01 12:00",	 "2024-01-01 12:00:00.1234567",
			       "2024-01-01 12:00:00+02", "2024-01-01T12:00:00Z",
			       "2024-01-01 12:00:00."};
	for (size_t i = 0; i < sizeof odd_t / sizeof *odd_t; i++)
		ck_assert_msg(enc(PG_BIN_TIMESTAMP, odd_t[i], b) < 0, "'%s' carried", odd_t[i]);
}
END_TEST

START_TEST(rows_and_kinds)
{
	ck_assert_int_eq(pg_bin_kind_of("character varying(12)"), PG_BIN_TEXT);
	ck_assert_int_eq(pg_bin_kind_of("numeric(12,2)"), PG_BIN_NUMERIC);
	ck_assert_int_eq(pg_bin_kind_of("timestamp without time zone"), PG_BIN_TIMESTAMP);
	ck_assert_int_eq(pg_bin_kind_of("timestamp(3) without time zone"), PG_BIN_NONE);
	ck_assert_int_eq(pg_bin_kind_of("timestamp with time zone"), PG_BIN_NONE);
	ck_assert_int_eq(pg_bin_kind_of("integer[]"), PG_BIN_NONE);
	ck_assert_int_eq(pg_bin_kind_of("numeric(12,2)[]"), PG_BIN_NONE);
	ck_assert_int_eq(pg_bin_kind_of("uuid"), PG_BIN_NONE);
	/* a row: its count, NULL as -1, an empty text as 0 bytes; one value
	 * not carried leaves nothing */
	struct buf o;
	buf_init(&o, 0);
	enum pg_bin_kind k[3] = {PG_BIN_INT4, PG_BIN_TEXT, PG_BIN_TEXT};
	struct cell row[3] = {{"5", 1}, {NULL, 0}, {"", 0}};
	ck_assert_int_eq(pg_bin_row(&o, k, row, 3, false), 1);
	const unsigned char want[] = {0, 3,    0,    0,	   0,	 4, 0, 0, 0,
				      5, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	ck_assert_uint_eq(o.len, sizeof want);
	ck_assert_int_eq(memcmp(o.data, want, sizeof want), 0);
	row[0] = (struct cell){"5x", 2};
	ck_assert_int_eq(pg_bin_row(&o, k, row, 3, false), 0);
	ck_assert_uint_eq(o.len, sizeof want);
	row[0] = (struct cell){cell_default, 0};
	ck_assert_int_eq(pg_bin_row(&o, k, row, 3, false), 0);
	ck_assert_uint_eq(o.len, sizeof want);
	buf_free(&o);
}
END_TEST

/* Padded rows copy short texts 32 bytes at a time: the bytes are those of
 * an unpadded row, for texts of every length to 40 and long ones, rows
 * that outgrow the buffer midway, and a row refused midway leaves
 * nothing (the bytes copied past a value are not kept). */
START_TEST(padded_rows_are_the_same)
{
	enum { N = 6, PAD = 32 };
	static char text[N][2100 + PAD];
	enum pg_bin_kind k[N] = {PG_BIN_TEXT, PG_BIN_INT4, PG_BIN_TEXT,
				 PG_BIN_TEXT, PG_BIN_BOOL, PG_BIN_TEXT};
	struct buf plain, padded;
	buf_init(&plain, 0);
	buf_init(&padded, 0);
	unsigned seed = 3;
	for (int r = 0; r < 400; r++) {
		struct cell row[N];
		for (int c = 0; c < N; c++) {
			seed = seed * 1103515245u + 12345u;
			size_t len = (seed >> 16) % 41;
			if (r % 50 == 7 && c == 3)
				len = 2000;		      /* grows the buffer midway */
			memset(text[c], 'x', sizeof text[c]); /* past the value */
			for (size_t i = 0; i < len; i++)
				text[c][i] = (char)('a' + (seed >> (i % 16)) % 26);
			row[c] = (struct cell){text[c], len};
		}
		/* padded too: the integer (refused now and then) and the boolean
		 * are read past their ends in a padded row */
		const char *n = r % 9 ? "42" : "4x2";
		memcpy(text[1], n, strlen(n));
		row[1] = (struct cell){text[1], strlen(n)};
		memcpy(text[4], "false", 5);
		row[4] = (struct cell){text[4], 5};
		if (r % 13 == 0)
			row[2] = (struct cell){NULL, 0};
		int a = pg_bin_row(&plain, k, row, N, false),
		    b = pg_bin_row(&padded, k, row, N, true);
		ck_assert_int_eq(a, b);
		ck_assert_int_eq(a, r % 9 ? 1 : 0);
		ck_assert_uint_eq(plain.len, padded.len);
		ck_assert_int_eq(memcmp(plain.data, padded.data, plain.len), 0);
		ck_assert_int_eq(padded.data[padded.len], 0);
	}
	buf_free(&plain);
	buf_free(&padded);
}
END_TEST

/* Numbers read eight digits at a time from a padded batch (the bytes past
 * a value are read too) against the plain reading, for every numeric kind:
 * generated texts of digits, points and signs up to 20 bytes, with digits
 * and points right after them, and the edges of the eight-digit steps. */
START_TEST(padded_numbers_are_the_same)
{
	static const char *const edges[] = {"0",
					    "-0",
					    "-",
					    ".",
					    "-.",
					    "1.",
					    ".5",
					    "-.5",
					    "12345678",
					    "123456789",
					    "1234567.8",
					    "12345678.9",
					    "123456789.1",
					    "1.23456789",
					    "1.2345678",
					    "12345678.12345678",
					    "-12345678.12345678",
					    "9999999999999999",
					    "99999999999999999",
					    "9223372036854775807",
					    "-9223372036854775808",
					    "9223372036854775808",
					    "32767",
					    "-32768",
					    "32768",
					    "2147483647",
					    "2147483648",
					    "0000000000000001",
					    "00000000.00000001",
					    "1..2",
					    "1.2.3",
					    "--1",
					    "+1",
					    "1-",
					    "12a4",
					    "1 2",
					    "9007199254740993",
					    "900719925474099.3",
					    "0.1",
					    "854.692401"};
	static const enum pg_bin_kind kinds[] = {PG_BIN_INT2, PG_BIN_INT4, PG_BIN_INT8,
						 PG_BIN_FLOAT8, PG_BIN_NUMERIC};
	static const char alphabet[] = "0123456789012345678901234567890123456789.-";
	char text[64];
	struct buf plain, padded;
	buf_init(&plain, 0);
	buf_init(&padded, 0);
	unsigned seed = 11;
	size_t nedges = sizeof edges / sizeof *edges, agreed = 0;
	for (size_t r = 0; r < 50000; r++) {
		size_t len;
		seed = seed * 1103515245u + 12345u;
		if (r < nedges) {
			len = strlen(edges[r]);
			memcpy(text, edges[r], len);
		} else {
			len = (seed >> 16) % 21;
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				/* mostly digits, a point or a sign now and then */
				text[i] = alphabet[(seed >> 16) % (i && (seed & 7) ? 40 : 42)];
			}
		}
		for (size_t i = len; i < sizeof text; i++) {
			seed = seed * 1103515245u + 12345u;
			text[i] = alphabet[(seed >> 16) % 42];
		}
		struct cell c = {text, len};
		for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
			buf_reset(&plain);
			buf_reset(&padded);
			int a = pg_bin_row(&plain, &kinds[k], &c, 1, false),
			    b = pg_bin_row(&padded, &kinds[k], &c, 1, true);
			ck_assert_msg(a == b, "\"%.*s\" as kind %d: %d padded, %d not", (int)len,
				      text, (int)kinds[k], b, a);
			ck_assert_uint_eq(plain.len, padded.len);
			ck_assert_msg(!memcmp(plain.data, padded.data, plain.len),
				      "\"%.*s\" as kind %d: other bytes", (int)len, text,
				      (int)kinds[k]);
			agreed += a == 1;
		}
	}
	ck_assert_uint_gt(agreed, 25000); /* many were numbers */
	buf_free(&plain);
	buf_free(&padded);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pg_binary");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30); /* under the sanitizers on a loaded CI machine */
	tcase_add_test(tc, numerics);
	tcase_add_test(tc, integers_and_booleans);
	tcase_add_test(tc, doubles);
	tcase_add_test(tc, dates_and_timestamps);
	tcase_add_test(tc, rows_and_kinds);
	tcase_add_test(tc, padded_rows_are_the_same);
	tcase_add_test(tc, padded_numbers_are_the_same);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
