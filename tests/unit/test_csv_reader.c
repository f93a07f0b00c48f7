/* tests/unit/test_csv_reader.c
 * The CSV reader against RFC 4180 edge cases and malformed input.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/reader.h"

static char path[64];

static void write_file(const char *content, size_t n)
{
	strcpy(path, "/tmp/sluice-csv-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, n), (ssize_t)n);
	close(fd);
}

static struct reader *open_csv(const char *content, struct reader_options *opt)
{
	struct reader_options def = { .format = FORMAT_CSV };
	struct reader *r = NULL;
	struct sl_error err;
	write_file(content, strlen(content));
	ck_assert_msg(reader_open(&r, path, opt ? opt : &def, &err), "%s", err.msg);
	return r;
}

static void done(struct reader *r)
{
	reader_close(r);
	unlink(path);
}

/* Expect the next record to be OK with these values ("\x01" stands for NULL). */
static void expect_row(struct reader *r, long line, int n, ...)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_msg(st == READ_OK, "status %d: %s", st, err.msg);
	ck_assert_int_eq(rec.line, line);
	ck_assert_int_eq(rec.nfields, n);
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		if (!strcmp(want, "\x01")) {
			ck_assert_msg(rec.fields[i].ptr == NULL, "field %d should be NULL", i);
		} else {
			ck_assert_msg(rec.fields[i].ptr != NULL, "field %d is NULL", i);
			ck_assert_int_eq(rec.fields[i].len, strlen(want));
			ck_assert_str_eq(rec.fields[i].ptr, want);
		}
	}
	va_end(ap);
}

static void expect_status(struct reader *r, enum read_status want, long line, const char *msg_part)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_int_eq(st, want);
	if (want == READ_REJECT) {
		ck_assert_int_eq(rec.line, line);
		ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message '%s' lacks '%s'", err.msg, msg_part);
	}
}

START_TEST(header_and_rows)
{
	struct reader *r = open_csv("a,b,c\n1,2,3\nx,y,z\n", NULL);
	ck_assert_int_eq(r->nheader, 3);
	ck_assert_str_eq(r->header[0], "a");
	ck_assert_str_eq(r->header[2], "c");
	expect_row(r, 2, 3, "1", "2", "3");
	expect_row(r, 3, 3, "x", "y", "z");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

START_TEST(null_and_empty)
{
	/* unquoted empty = NULL; quoted empty = empty string */
	struct reader *r = open_csv("a,b,c\n,\"\",x\n\"\",,\n", NULL);
	expect_row(r, 2, 3, "\x01", "", "x");
	expect_row(r, 3, 3, "", "\x01", "\x01");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

START_TEST(quotes_commas_newlines)
{
	struct reader *r = open_csv("a,b\n\"he said \"\"hi\"\"\",\"x,y\"\n\"two\nlines\",z\nlast,row\n", NULL);
	expect_row(r, 2, 2, "he said \"hi\"", "x,y");
	expect_row(r, 3, 2, "two\nlines", "z");
	expect_row(r, 5, 2, "last", "row"); /* the embedded newline counts as a line */
	done(r);
}
END_TEST

START_TEST(crlf_and_bom)
{
	struct reader *r = open_csv("\xEF\xBB\xBFid,name\r\n1,\"a\r\nb\"\r\n2,c\r\n", NULL);
	ck_assert_str_eq(r->header[0], "id"); /* the BOM is not part of the name */
	expect_row(r, 2, 2, "1", "a\r\nb");
	expect_row(r, 4, 2, "2", "c");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

START_TEST(no_trailing_newline_and_blank_lines)
{
	struct reader *r = open_csv("a,b\n\n1,2\n\n3,4", NULL);
	expect_row(r, 3, 2, "1", "2");
	expect_row(r, 5, 2, "3", "4");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

START_TEST(spaces_kept)
{
	struct reader *r = open_csv("a,b\n  x  , y\n", NULL);
	expect_row(r, 2, 2, "  x  ", " y");
	done(r);
}
END_TEST

START_TEST(utf8_text)
{
	struct reader *r = open_csv("a,b\némoji 🎉,日本語\n", NULL);
	expect_row(r, 2, 2, "émoji 🎉", "日本語");
	done(r);
}
END_TEST

START_TEST(wrong_field_count_rejected)
{
	struct reader *r = open_csv("a,b\n1,2\n1,2,3\n4\n5,6\n", NULL);
	expect_row(r, 2, 2, "1", "2");
	expect_status(r, READ_REJECT, 3, "expected 2 fields, found 3");
	expect_status(r, READ_REJECT, 4, "expected 2 fields, found 1");
	expect_row(r, 5, 2, "5", "6");
	done(r);
}
END_TEST

START_TEST(stray_quote_rejected_then_continues)
{
	struct reader *r = open_csv("a,b\n1,2\n\"x\"y,3\n4,5\n", NULL);
	expect_row(r, 2, 2, "1", "2");
	expect_status(r, READ_REJECT, 3, "malformed CSV");
	expect_row(r, 4, 2, "4", "5");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

START_TEST(unterminated_quote_rejected)
{
	/* only the line with the stray quote is lost: the lines it swallowed are
	 * read again */
	struct reader *r = open_csv("a,b\n1,2\n3,\"open\n5,6\n7,8\n", NULL);
	expect_row(r, 2, 2, "1", "2");
	expect_status(r, READ_REJECT, 3, "unterminated quoted field");
	expect_row(r, 4, 2, "5", "6");
	expect_row(r, 5, 2, "7", "8");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

START_TEST(swallowing_quote_costs_one_line)
{
	/* a stray quote runs on until the next quote; only its line is rejected */
	struct reader *r = open_csv("a,b\n1,\"x\n2,y\n3,\"z\"\n4,w\n", NULL);
	struct record rec;
	struct sl_error err;
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_REJECT);
	ck_assert_int_eq(rec.line, 2);
	ck_assert_int_eq(rec.raw_len, 4);
	ck_assert(memcmp(rec.raw, "1,\"x", 4) == 0);
	expect_row(r, 3, 2, "2", "y");
	expect_row(r, 4, 2, "3", "z");
	expect_row(r, 5, 2, "4", "w");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

START_TEST(invalid_utf8_rejected)
{
	struct reader *r = open_csv("a,b\n1,ok\n2,bad\xC3\x28\n3,fine\n", NULL);
	expect_row(r, 2, 2, "1", "ok");
	expect_status(r, READ_REJECT, 3, "invalid UTF-8 in field 2");
	expect_row(r, 4, 2, "3", "fine");
	done(r);
}
END_TEST

START_TEST(raw_text_kept)
{
	struct reader *r = open_csv("a,b\n\"x\ny\",2\r\n", NULL);
	struct record rec;
	struct sl_error err;
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
	ck_assert_int_eq(rec.raw_len, strlen("\"x\ny\",2"));
	ck_assert(memcmp(rec.raw, "\"x\ny\",2", rec.raw_len) == 0);
	done(r);
}
END_TEST

/* Found by fuzz_csv: libcsv ends a record at a bare CR, and the record after
 * it had line 0 and no verbatim text (its text was glued to the one before). */
START_TEST(bare_cr_ends_a_record)
{
	struct reader *r = open_csv("a,b\r1,2\r\xff,3\n4,\"x\ry\"\r\n5,6\r\r7,8\n", NULL);
	struct record rec;
	struct sl_error err;
	ck_assert_int_eq(r->nheader, 2);
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
	ck_assert_int_eq(rec.line, 1);
	ck_assert_int_eq(rec.raw_len, 3);
	ck_assert(memcmp(rec.raw, "1,2", 3) == 0);
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_REJECT);
	ck_assert_int_eq(rec.line, 1);
	ck_assert_int_eq(rec.raw_len, 3);
	ck_assert(memcmp(rec.raw, "\xff,3", 3) == 0);
	expect_row(r, 2, 2, "4", "x\ry"); /* a CR inside quotes is data */
	expect_row(r, 3, 2, "5", "6");
	expect_row(r, 3, 2, "7", "8");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);

	/* the same in lines read again after an unterminated quote */
	r = open_csv("a,b\n1,\"x\n2,3\r4,5\n", NULL);
	expect_status(r, READ_REJECT, 2, "unterminated quoted field");
	expect_row(r, 3, 2, "2", "3");
	expect_row(r, 3, 2, "4", "5");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

/* Found by fuzz_csv: a NUL byte in a header name cut the name short (to ""
 * when it came first); such a header is refused like an empty name. */
START_TEST(nul_in_header_refused)
{
	struct reader_options opt = { .format = FORMAT_CSV };
	struct reader *r = NULL;
	struct sl_error err;
	write_file("\0id,b\n1,2\n", 10);
	ck_assert(!reader_open(&r, path, &opt, &err));
	ck_assert_msg(strstr(err.msg, "header field 1 contains a NUL byte"), "%s", err.msg);
	unlink(path);
}
END_TEST

START_TEST(options_delimiter_quote_escape_null_latin1)
{
	struct reader_options opt = { .format = FORMAT_CSV, .delimiter = ';', .quote = '\'',
				      .escape = '\\', .null_marker = "NA", .encoding = ENCODING_LATIN1 };
	struct reader *r = open_csv("a;b;c\n'it\\'s';NA;caf\xE9\n'back\\\\slash';'';x\n", &opt);
	expect_row(r, 2, 3, "it's", "\x01", "café");
	expect_row(r, 3, 3, "back\\slash", "", "x");
	done(r);
}
END_TEST

START_TEST(no_header_tsv)
{
	struct reader_options opt = { .format = FORMAT_TSV, .no_header = true };
	struct reader *r = open_csv("1\ta b\n2\t\n", &opt);
	ck_assert_int_eq(r->nheader, 0);
	expect_row(r, 1, 2, "1", "a b");
	expect_row(r, 2, 2, "2", "\x01");
	done(r);
}
END_TEST

START_TEST(gzip_detected_by_content)
{
	strcpy(path, "/tmp/sluice-gz-XXXXXX");
	int fd = mkstemp(path);
	gzFile gz = gzdopen(fd, "wb");
	gzputs(gz, "a,b\n1,2\n");
	gzclose(gz);
	struct reader_options opt = { .format = FORMAT_AUTO };
	struct reader *r = NULL;
	struct sl_error err;
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	ck_assert_int_eq(r->format, FORMAT_CSV);
	ck_assert(source_is_gzip(r->src));
	expect_row(r, 2, 2, "1", "2");
	done(r);
}
END_TEST

START_TEST(long_file_many_chunks)
{
	/* records crossing the reader's 256 KiB chunks keep their lines */
	size_t n = 50000;
	char *buf = malloc(n * 40 + 16);
	size_t o = (size_t)sprintf(buf, "id,text\n");
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(buf + o, "%zu,\"row %zu\nsecond\"\n", i, i);
	write_file(buf, o);
	free(buf);
	struct reader_options opt = { .format = FORMAT_CSV };
	struct reader *r = NULL;
	struct sl_error err;
	ck_assert(reader_open(&r, path, &opt, &err));
	struct record rec;
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
		ck_assert_int_eq(rec.line, (long)(2 + 2 * i));
		char want[64];
		sprintf(want, "row %zu\nsecond", i);
		ck_assert_str_eq(rec.fields[1].ptr, want);
	}
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_EOF);
	done(r);
}
END_TEST

START_TEST(format_detection)
{
	ck_assert_int_eq(reader_format_from_name("x/users.csv.gz"), FORMAT_CSV);
	ck_assert_int_eq(reader_format_from_name("a.jsonl"), FORMAT_NDJSON);
	ck_assert_int_eq(reader_format_from_name("a.NDJSON.GZ"), FORMAT_NDJSON);
	ck_assert_int_eq(reader_format_from_name("a.json"), FORMAT_JSON);
	ck_assert_int_eq(reader_format_from_name("a.tsv"), FORMAT_TSV);
	ck_assert_int_eq(reader_format_from_name("a.dat"), FORMAT_AUTO);
}
END_TEST

START_TEST(utf8_validation)
{
	size_t at;
	ck_assert(utf8_valid("plain ascii text here", 21, &at));
	ck_assert(utf8_valid("\xF0\x9F\x8E\x89", 4, &at));
	ck_assert(!utf8_valid("ab\xC0\xAF", 4, &at)); /* overlong */
	ck_assert_int_eq(at, 2);
	ck_assert(!utf8_valid("\xED\xA0\x80", 3, &at)); /* surrogate */
	ck_assert(!utf8_valid("\xE2\x82", 2, &at));     /* truncated */
}
END_TEST

START_TEST(escape_across_chunks)
{
	/* a backslash escape at the last byte of a read chunk still escapes the
	 * quote that starts the next one (reads: the 4 KiB peeked at open, then
	 * 256 KiB at a time) */
	size_t chunk = 4096 + 256 * 1024;
	char *buf = malloc(chunk + 4096);
	size_t o = (size_t)sprintf(buf, "a,b\n");
	int i = 0;
	while (o < chunk - 200)
		o += (size_t)sprintf(buf + o, "%d,\"x\\\"y\"\n", i++);
	int prefix = sprintf(buf + o, "%d,\"", i);
	o += (size_t)prefix;
	while (o < chunk - 1)
		buf[o++] = 'p';
	o += (size_t)sprintf(buf + o, "\\\"tail\"\n%d,\"z\"\n", i + 1);
	ck_assert_int_eq(buf[chunk - 1], '\\');
	write_file(buf, o);
	free(buf);
	struct reader_options opt = { .format = FORMAT_CSV, .escape = '\\' };
	struct reader *r = NULL;
	struct sl_error err;
	ck_assert(reader_open(&r, path, &opt, &err));
	struct record rec;
	for (int k = 0; k < i; k++) {
		ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
		ck_assert_str_eq(rec.fields[1].ptr, "x\"y");
	}
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
	ck_assert_str_eq(rec.fields[1].ptr + rec.fields[1].len - 6, "p\"tail");
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
	ck_assert_str_eq(rec.fields[1].ptr, "z");
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_EOF);
	done(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csv_reader");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, header_and_rows);
	tcase_add_test(tc, null_and_empty);
	tcase_add_test(tc, quotes_commas_newlines);
	tcase_add_test(tc, crlf_and_bom);
	tcase_add_test(tc, no_trailing_newline_and_blank_lines);
	tcase_add_test(tc, spaces_kept);
	tcase_add_test(tc, utf8_text);
	tcase_add_test(tc, wrong_field_count_rejected);
	tcase_add_test(tc, stray_quote_rejected_then_continues);
	tcase_add_test(tc, unterminated_quote_rejected);
	tcase_add_test(tc, swallowing_quote_costs_one_line);
	tcase_add_test(tc, escape_across_chunks);
	tcase_add_test(tc, invalid_utf8_rejected);
	tcase_add_test(tc, raw_text_kept);
	tcase_add_test(tc, bare_cr_ends_a_record);
	tcase_add_test(tc, nul_in_header_refused);
	tcase_add_test(tc, options_delimiter_quote_escape_null_latin1);
	tcase_add_test(tc, no_header_tsv);
	tcase_add_test(tc, gzip_detected_by_content);
	tcase_add_test(tc, long_file_many_chunks);
	tcase_add_test(tc, format_detection);
	tcase_add_test(tc, utf8_validation);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
