/* tests/unit/test_output.c
 * The output writers' text, byte for byte: CSV quoting (what must be
 * quoted, and nothing else), and --ejson's wrappers (base64 with its
 * padding, $date from both timestamp forms, what has no wrapper stays a
 * string).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/output.h"

/* The text of one row of n cells (NULL: SQL NULL) in a file of opt's
 * format, start included, into out. */
static void one_row(const struct output_options *opt, const struct out_column *cols, int n,
		    const char *const *vals, char *out, size_t cap)
{
	struct cell cells[16];
	for (int i = 0; i < n; i++)
		cells[i] = (struct cell){.ptr = vals[i], .len = vals[i] ? strlen(vals[i]) : 0};
	struct output *o;
	struct sl_error err;
	ck_assert(output_open(&o, opt, cols, n, NULL, &err));
	ck_assert(output_row(o, cells, &err));
	snprintf(out, cap, "%s", buf_str(&o->pending));
	output_abort(o);
}

START_TEST(csv_quotes_what_must_be)
{
	struct out_column cols[] = {{"a", OUT_TEXT}, {"b", OUT_TEXT},  {"c", OUT_TEXT},
				    {"d", OUT_TEXT}, {"e", OUT_TEXT},  {"f", OUT_TEXT},
				    {"g", OUT_TEXT}, {"h", OUT_NUMBER}};
	const char *vals[] = {"plain", "a,b",	"say \"hi\"", "",
			      NULL,    " lead", "two\nlines", "1.50"};
	struct output_options opt = {.format = FORMAT_CSV};
	char out[512];
	one_row(&opt, cols, 8, vals, out, sizeof out);
	ck_assert_str_eq(out,
			 "a,b,c,d,e,f,g,h\n"
			 "plain,\"a,b\",\"say \"\"hi\"\"\",\"\",,\" lead\",\"two\nlines\",1.50\n");
	opt = (struct output_options){.format = FORMAT_TSV, .null_marker = "\\N"};
	const char *tsv[] = {"a,b", "\\N", NULL, "x\ty", "q\"", "", "-", "2"};
	one_row(&opt, cols, 8, tsv, out, sizeof out);
	ck_assert_str_eq(out, "a\tb\tc\td\te\tf\tg\th\n"
			      "a,b\t\"\\N\"\t\\N\t\"x\ty\"\t\"q\"\"\"\t\"\"\t-\t2\n");
}
END_TEST

START_TEST(ejson_wrappers)
{
	struct out_column cols[] = {{"d", OUT_DECIMAL},	 {"b", OUT_BINARY},   {"b1", OUT_BINARY},
				    {"b0", OUT_BINARY},	 {"u", OUT_UUID},     {"t", OUT_DATETIME},
				    {"z", OUT_DATETIME}, {"i", OUT_DATETIME}, {"f", OUT_FLOAT},
				    {"n", OUT_FLOAT},	 {"x", OUT_BINARY}};
	const char *vals[] = {"-0.000100",
			      "\\x00ff000a5c",
			      "\\xfb",
			      "\\x",
			      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
			      "1999-12-31 23:59:59.999999",
			      "2024-02-29 18:29:59+00",
			      "infinity",
			      "1.5",
			      "-Infinity",
			      "not hex"};
	struct output_options opt = {.format = FORMAT_NDJSON, .ejson = true};
	char out[2048];
	one_row(&opt, cols, 11, vals, out, sizeof out);
	ck_assert_str_eq(out, "{\"d\":{\"$numberDecimal\":\"-0.000100\"},"
			      "\"b\":{\"$binary\":{\"base64\":\"AP8AClw=\",\"subType\":\"00\"}},"
			      "\"b1\":{\"$binary\":{\"base64\":\"+w==\",\"subType\":\"00\"}},"
			      "\"b0\":{\"$binary\":{\"base64\":\"\",\"subType\":\"00\"}},"
			      "\"u\":{\"$binary\":{\"base64\":\"oO68mZwLTvi7bWu5vTgKEQ==\","
			      "\"subType\":\"04\"}},"
			      "\"t\":{\"$date\":\"1999-12-31T23:59:59.999999Z\"},"
			      "\"z\":{\"$date\":\"2024-02-29T18:29:59Z\"},"
			      "\"i\":\"infinity\",\"f\":1.5,"
			      "\"n\":{\"$numberDouble\":\"-Infinity\"},\"x\":\"not hex\"}\n");
	/* without --ejson: numbers bare, the rest strings */
	opt.ejson = false;
	one_row(&opt, cols, 3, vals, out, sizeof out);
	ck_assert_str_eq(out, "{\"d\":-0.000100,\"b\":\"\\\\x00ff000a5c\",\"b1\":\"\\\\xfb\"}\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, csv_quotes_what_must_be);
	tcase_add_test(tc, ejson_wrappers);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
