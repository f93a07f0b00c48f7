/* tests/unit/test_csv_reader.c
 * The CSV reader against RFC 4180 edge cases and malformed input.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/batch.h"
#include "sluice/buf.h"
#include "sluice/reader.h"
#include "sluice/textblock.h"

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
	struct reader_options def = {.format = FORMAT_CSV};
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
		ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message '%s' lacks '%s'", err.msg,
			      msg_part);
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
	struct reader *r =
		open_csv("a,b\n\"he said \"\"hi\"\"\",\"x,y\"\n\"two\nlines\",z\nlast,row\n", NULL);
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
	struct reader_options opt = {.format = FORMAT_CSV};
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
	struct reader_options opt = {.format = FORMAT_CSV,
				     .delimiter = ';',
				     .quote = '\'',
				     .escape = '\\',
				     .null_marker = "NA",
				     .encoding = ENCODING_LATIN1};
	struct reader *r = open_csv("a;b;c\n'it\\'s';NA;caf\xE9\n'back\\\\slash';'';x\n", &opt);
	expect_row(r, 2, 3, "it's", "\x01", "café");
	expect_row(r, 3, 3, "back\\slash", "", "x");
	done(r);
}
END_TEST

START_TEST(no_header_tsv)
{
	struct reader_options opt = {.format = FORMAT_TSV, .no_header = true};
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
	struct reader_options opt = {.format = FORMAT_AUTO};
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
	struct reader_options opt = {.format = FORMAT_CSV};
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
	ck_assert(!utf8_valid("\xE2\x82", 2, &at));	/* truncated */
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
	struct reader_options opt = {.format = FORMAT_CSV, .escape = '\\'};
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

/* Expect a rejected record at line with raw text raw (NULL: not checked). */
static void expect_reject_raw(struct reader *r, long line, const char *raw, const char *msg_part)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_msg(st == READ_REJECT, "status %d: %s", st, err.msg);
	ck_assert_int_eq(rec.line, line);
	ck_assert_int_eq(err.line, line);
	if (raw) {
		ck_assert_int_eq(rec.raw_len, strlen(raw));
		ck_assert(memcmp(rec.raw, raw, rec.raw_len) == 0);
	}
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message '%s' lacks '%s'", err.msg,
		      msg_part);
}

/* Expect a one-field NULL record at line, with empty raw text: a blank line. */
static void expect_null_row(struct reader *r, long line)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_msg(st == READ_OK, "status %d: %s", st, err.msg);
	ck_assert_int_eq(rec.line, line);
	ck_assert_int_eq(rec.nfields, 1);
	ck_assert_ptr_null(rec.fields[0].ptr);
	ck_assert_int_eq(rec.raw_len, 0);
}

/* PostgreSQL's CSV COPY loads a blank line of a one-column file as a NULL. */
START_TEST(blank_line_one_column_is_null)
{
	struct reader *r = open_csv("name\nalice\n\nbob\n\n", NULL);
	expect_row(r, 2, 1, "alice");
	expect_null_row(r, 3);
	expect_row(r, 4, 1, "bob");
	expect_null_row(r, 5);
	expect_status(r, READ_EOF, 0, NULL);
	ck_assert_int_eq(r->blank_lines, 0);
	done(r);

	/* CR LF, no header (the first record sets the count), blank lines in a
	 * row, a blank line inside quotes is data, no newline at the end */
	struct reader_options opt = {.format = FORMAT_CSV, .no_header = true};
	r = open_csv("x\r\n\r\n\r\n\"p\r\n\r\nq\"\r\n\r\ny", &opt);
	expect_row(r, 1, 1, "x");
	expect_null_row(r, 2);
	expect_null_row(r, 3);
	expect_row(r, 4, 1, "p\r\n\r\nq");
	expect_null_row(r, 7);
	expect_row(r, 8, 1, "y");
	expect_status(r, READ_EOF, 0, NULL);
	ck_assert_int_eq(r->blank_lines, 0);
	done(r);

	/* the final newline is no blank line, the one after it is */
	r = open_csv("a\n1\n\n", NULL);
	expect_row(r, 2, 1, "1");
	expect_null_row(r, 3);
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
	r = open_csv("a\n1\n", NULL);
	expect_row(r, 2, 1, "1");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);

	/* one column named by set_columns, TSV without a header */
	struct reader_options tsv = {.format = FORMAT_TSV, .no_header = true};
	r = open_csv("\n7\n", &tsv);
	char *one[] = {"v"};
	struct sl_error err;
	ck_assert(r->ops->set_columns(r, one, 1, &err));
	expect_null_row(r, 1);
	expect_row(r, 2, 1, "7");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

/* A CR LF cut by the end of the first read (the 4096 bytes peeked at open) is
 * one line end, not a line end and a blank line; a blank CR LF line cut
 * there is one blank line. */
START_TEST(blank_line_crlf_across_chunks)
{
	char buf[8192];
	for (int blank_at_cut = 0; blank_at_cut < 2; blank_at_cut++) {
		size_t o = (size_t)sprintf(buf, "v\r\n");
		int rows = 0;
		while (o < 4096 - 4) {
			o += (size_t)sprintf(buf + o, "r\r\n");
			rows++;
		}
		/* pad the last row so that byte 4095 is its CR, or the CR of
		 * a blank line after it */
		size_t pad = (blank_at_cut ? 4093 : 4095) - o;
		memset(buf + o, 'p', pad);
		o += pad;
		if (blank_at_cut) {
			buf[o++] = '\r';
			buf[o++] = '\n';
		}
		buf[o++] = '\r';
		ck_assert_int_eq(o, 4096);
		o += (size_t)sprintf(buf + o, "\nlast\r\n");
		buf[o] = '\0';
		struct reader *r = open_csv(buf, NULL);
		struct record rec;
		struct sl_error err;
		for (int i = 0; i < rows; i++)
			expect_row(r, 2 + i, 1, "r");
		ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
		ck_assert_int_eq(rec.line, 2 + rows);
		ck_assert_int_eq(rec.fields[0].len, pad);
		if (blank_at_cut)
			expect_null_row(r, 3 + rows);
		expect_row(r, 3 + rows + blank_at_cut, 1, "last");
		expect_status(r, READ_EOF, 0, NULL);
		ck_assert_int_eq(r->blank_lines, 0);
		done(r);
	}
}
END_TEST

/* Where records have more fields a blank line is skipped, and counted. */
START_TEST(blank_lines_counted_when_several_columns)
{
	struct reader *r = open_csv("\na,b\n\n1,2\r\n\r\n\"x\n\ny\",3\n\n", NULL);
	ck_assert_int_eq(r->nheader, 2);
	expect_row(r, 4, 2, "1", "2");
	expect_row(r, 6, 2, "x\n\ny", "3");
	expect_status(r, READ_EOF, 0, NULL);
	ck_assert_int_eq(r->blank_lines, 4); /* lines 1, 3, 5 and 9, not 7 */
	done(r);

	struct reader_options tsv = {.format = FORMAT_TSV, .no_header = true};
	r = open_csv("\n\n1\t2\n\n3\t4", &tsv);
	expect_row(r, 3, 2, "1", "2");
	expect_row(r, 5, 2, "3", "4");
	expect_status(r, READ_EOF, 0, NULL);
	ck_assert_int_eq(r->blank_lines, 3);
	done(r);
}
END_TEST

/* --null applies to values, never to the names of the header. */
START_TEST(null_marker_not_applied_to_header)
{
	struct reader_options opt = {.format = FORMAT_CSV, .null_marker = "NULL"};
	struct reader *r = open_csv("NULL,b\nNULL,x\n\"NULL\",NULL\n", &opt);
	ck_assert_int_eq(r->nheader, 2);
	ck_assert_str_eq(r->header[0], "NULL");
	ck_assert_str_eq(r->header[1], "b");
	expect_row(r, 2, 2, "\x01", "x");
	expect_row(r, 3, 2, "\x01", "\x01"); /* quoted or not, as before */
	done(r);

	struct reader_options tsv = {.format = FORMAT_TSV, .escape = '\\', .null_marker = "\\N"};
	r = open_csv("id\t\\N\t-\n1\t\\N\t-\n", &tsv);
	ck_assert_int_eq(r->nheader, 3);
	ck_assert_str_eq(r->header[1], "\\N");
	ck_assert_str_eq(r->header[2], "-");
	expect_row(r, 2, 3, "1", "\x01", "-");
	done(r);

	struct reader_options dash = {.format = FORMAT_CSV, .null_marker = "-"};
	r = open_csv("-\n-\nx\n", &dash);
	ck_assert_str_eq(r->header[0], "-");
	expect_row(r, 2, 1, "\x01");
	expect_row(r, 3, 1, "x");
	done(r);
}
END_TEST

/* Append c n times to b at *o. */
static void fill(char *b, size_t *o, char c, size_t n)
{
	memset(b + *o, c, n);
	*o += n;
}

START_TEST(max_record_bytes_rejects_and_goes_on)
{
	struct reader_options opt = {.format = FORMAT_CSV, .max_record_bytes = 1000};
	char *buf = malloc(20000);
	size_t o = (size_t)sprintf(buf, "a,b\n1,");
	fill(buf, &o, 'x', 998); /* exactly 1000 bytes: kept */
	o += (size_t)sprintf(buf + o, "\r\n2,");
	fill(buf, &o, 'y', 999); /* 1001 bytes: rejected */
	o += (size_t)sprintf(buf + o, "\n3,\"");
	for (int i = 0; i < 100; i++) /* a quoted field of 100 lines, 2400 bytes */
		o += (size_t)sprintf(buf + o, "line %03d ok ok ok ok ok\n", i);
	o += (size_t)sprintf(buf + o, "end\"\n4,z\n");
	buf[o] = '\0';
	struct reader *r = open_csv(buf, &opt);
	struct record rec;
	struct sl_error err;
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
	ck_assert_int_eq(rec.line, 2);
	ck_assert_int_eq(rec.fields[1].len, 998);
	ck_assert_int_eq(rec.raw_len, 1000);

	sl_error_clear(&err);
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_REJECT);
	ck_assert_int_eq(rec.line, 3);
	ck_assert_int_eq(err.line, 3);
	ck_assert_str_eq(err.msg, "line 3: record larger than --max-record-bytes (1000 bytes)");
	ck_assert_int_eq(rec.raw_len, 1001); /* under the 1 KiB prefix: all of it */
	ck_assert(memcmp(rec.raw, "2,yyy", 5) == 0);

	/* a genuine big quoted field: rejected whole, reading resumes after it */
	sl_error_clear(&err);
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_REJECT);
	ck_assert_int_eq(rec.line, 4);
	ck_assert_str_eq(err.msg, "line 4: record larger than --max-record-bytes (1000 bytes)");
	ck_assert_int_eq(rec.raw_len, 1024);
	ck_assert(memcmp(rec.raw, "3,\"line 000 ok", 14) == 0);
	expect_row(r, 105, 2, "4", "z");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
	free(buf);
}
END_TEST

/* Write an unterminated quote at line 3 of a file of many rows, far more
 * than the limit: gzipped when gz. */
static size_t write_unterminated(bool gz, int rows)
{
	char *buf = malloc((size_t)rows * 32 + 64);
	size_t o = (size_t)sprintf(buf, "id,v\n1,a\n2,\"open\n");
	for (int i = 3; i < rows + 3; i++)
		o += (size_t)sprintf(buf + o, "%d,row %d\n", i, i);
	if (gz) {
		strcpy(path, "/tmp/sluice-csv-XXXXXX");
		int fd = mkstemp(path);
		gzFile g = gzdopen(fd, "wb");
		ck_assert_int_eq(gzwrite(g, buf, (unsigned)o), (int)o);
		gzclose(g);
	} else {
		write_file(buf, o);
	}
	free(buf);
	return o;
}

START_TEST(max_record_bytes_unterminated_quote_read_again)
{
	for (int gz = 0; gz < 2; gz++) {
		int rows = 30000; /* about 400 KB: past the first chunk too */
		write_unterminated(gz, rows);
		struct reader_options opt = {.format = FORMAT_CSV, .max_record_bytes = 1000};
		struct reader *r = NULL;
		struct sl_error err;
		ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
		expect_row(r, 2, 2, "1", "a");
		expect_reject_raw(
			r, 3, "2,\"open",
			"record larger than --max-record-bytes (1000 bytes): "
			"an unterminated quoted field ran on to the end of input; the record ran "
			"on over several lines, so only this line is rejected");
		for (int i = 3; i < rows + 3; i++) {
			char id[16], v[32];
			sprintf(id, "%d", i);
			sprintf(v, "row %d", i);
			expect_row(r, i + 1, 2, id, v);
		}
		expect_status(r, READ_EOF, 0, NULL);
		done(r);
	}
}
END_TEST

/* A stray quote closed far later by text after the closing quote, and one
 * closed far later with a field count gone wrong, both past the limit: the
 * lines they took are read again from the file, only their first is lost. */
START_TEST(max_record_bytes_malformed_read_again)
{
	struct reader_options opt = {.format = FORMAT_CSV, .max_record_bytes = 200};
	char buf[4096];
	size_t o = (size_t)sprintf(buf, "a,b\n1,\"x\n");
	for (int i = 2; i < 60; i++)
		o += (size_t)sprintf(buf + o, "%d,y\n", i);
	o += (size_t)sprintf(buf + o, "60,\"z\"w\n61,\"q\n");
	for (int i = 62; i < 120; i++)
		o += (size_t)sprintf(buf + o, "%d,y\n", i);
	o += (size_t)sprintf(buf + o, "120,y\",extra\n121,end\n");
	buf[o] = '\0';
	struct reader *r = open_csv(buf, &opt);
	expect_reject_raw(
		r, 2, "1,\"x",
		"record larger than --max-record-bytes (200 bytes): "
		"malformed CSV (stray quote or text after a closing quote); the record ran on "
		"over several lines, so only this line is rejected");
	for (int i = 2; i < 60; i++) {
		char id[16];
		sprintf(id, "%d", i);
		expect_row(r, i + 1, 2, id, "y");
	}
	expect_reject_raw(r, 61, "60,\"z\"w", "malformed CSV");
	expect_reject_raw(r, 62, "61,\"q",
			  "record larger than --max-record-bytes (200 bytes): "
			  "expected 2 fields, found 3; the record ran on over several lines");
	for (int i = 62; i < 120; i++) {
		char id[16];
		sprintf(id, "%d", i);
		expect_row(r, i + 1, 2, id, "y");
	}
	expect_reject_raw(r, 121, "120,y\",extra", "malformed CSV");
	expect_row(r, 122, 2, "121", "end");
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
}
END_TEST

/* Stdin cannot be read again: the quote is cut where it passes the limit,
 * its first line rejected, and the lines it took are read again from
 * memory. */
START_TEST(max_record_bytes_unterminated_quote_stdin)
{
	write_unterminated(false, 500);
	int saved = dup(STDIN_FILENO);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDIN_FILENO), 0);
	close(fd);
	struct reader_options opt = {.format = FORMAT_CSV, .max_record_bytes = 1000};
	struct reader *r = NULL;
	struct sl_error err;
	ck_assert_msg(reader_open(&r, "-", &opt, &err), "%s", err.msg);
	expect_row(r, 2, 2, "1", "a");
	expect_reject_raw(r, 3, "2,\"open",
			  "record larger than --max-record-bytes (1000 bytes): a quote ran on "
			  "over several lines, so only this line is rejected");
	for (int i = 3; i < 503; i++) {
		char id[16], v[32];
		sprintf(id, "%d", i);
		sprintf(v, "row %d", i);
		expect_row(r, i + 1, 2, id, v);
	}
	expect_status(r, READ_EOF, 0, NULL);
	done(r);
	dup2(saved, STDIN_FILENO);
	close(saved);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Fields past what a table can have are counted, not kept: a header of
 * 70000 names is refused, a record of 70000 fields is rejected. */
START_TEST(too_many_fields_counted_not_kept)
{
	size_t n = 70000;
	char *buf = malloc(n * 2 + 16);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(buf + o, i ? ",a" : "a");
	buf[o++] = '\n';
	buf[o] = '\0';
	struct reader_options opt = {.format = FORMAT_CSV};
	struct reader *r = NULL;
	struct sl_error err;
	write_file(buf, o);
	ck_assert(!reader_open(&r, path, &opt, &err));
	ck_assert_msg(strstr(err.msg, "bad header: line 1: more than 65536 fields"), "%s", err.msg);
	unlink(path);

	char *with_header = malloc(o + 16);
	sprintf(with_header, "x,y\n%s1,2\n", buf);
	r = open_csv(with_header, NULL);
	expect_status(r, READ_REJECT, 2, "expected 2 fields, found 70000");
	expect_row(r, 3, 2, "1", "2");
	done(r);
	free(with_header);
	free(buf);
}
END_TEST

/* Peak resident memory of this process so far, in KiB, or -1 when it cannot
 * be known or means little (AddressSanitizer keeps freed memory aside). */
static long peak_kib(void)
{
#ifdef UNDER_ASAN
	return -1;
#endif
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long kib = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Memory follows the limit, not the input: 32 MB after an unterminated
 * quote, and a single 32 MB field, read with a 1 MiB limit. */
START_TEST(max_record_bytes_bounds_memory)
{
	for (int huge_field = 0; huge_field < 2; huge_field++) {
		strcpy(path, "/tmp/sluice-csv-XXXXXX");
		int fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		const char *head = huge_field ? "a,b\n1,\"" : "a,b\n1,\"open\n";
		ck_assert_int_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
		char line[4096];
		for (size_t i = 0; i < sizeof line; i++)
			line[i] = huge_field ? 'x' : i % 16 == 15 ? '\n' : i % 16 == 7 ? ',' : '7';
		for (int i = 0; i < 8192; i++) /* 32 MiB, written without holding it */
			ck_assert_int_eq(write(fd, line, sizeof line), (ssize_t)sizeof line);
		const char *tail = huge_field ? "\"\n2,end\n" : "2,end\n";
		ck_assert_int_eq(write(fd, tail, strlen(tail)), (ssize_t)strlen(tail));
		close(fd);
		long before = peak_kib();
		struct reader_options opt = {.format = FORMAT_CSV, .max_record_bytes = 1 << 20};
		struct reader *r = NULL;
		struct sl_error err;
		ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
		expect_status(r, READ_REJECT, 2,
			      "record larger than --max-record-bytes (1048576 bytes)");
		struct record rec;
		enum read_status st;
		long rows = 0;
		while ((st = r->ops->next(r, &rec, &err)) == READ_OK)
			rows++;
		ck_assert_int_eq(st, READ_EOF);
		ck_assert_int_eq(rows, huge_field ? 1 : 8192 * 256 + 1);
		if (before >= 0) {
			long grew = peak_kib() - before;
			ck_assert_msg(grew < 12 * 1024, "reading took %ld KiB more at its peak",
				      grew);
		}
		done(r);
	}
}
END_TEST

/* Read the file at path twice, through the parser alone and with records as
 * raw CSV (raw_csv), and hold every record, reject and line of the second
 * to the first; returns how many records came as CSV text. */
static size_t same_both_ways(const struct reader_options *opt)
{
	struct reader *a = NULL, *b = NULL;
	struct sl_error ea, eb;
	ck_assert_msg(reader_open(&a, path, opt, &ea), "%s", ea.msg);
	ck_assert_msg(reader_open(&b, path, opt, &eb), "%s", eb.msg);
	char d, q;
	ck_assert(b->ops->raw_csv && b->ops->raw_csv(b, &d, &q));
	size_t ncsv = 0;
	for (;;) {
		struct record ra = {0}, rb = {0};
		sl_error_clear(&ea);
		sl_error_clear(&eb);
		enum read_status sa = a->ops->next(a, &ra, &ea);
		enum read_status sb = b->ops->next(b, &rb, &eb);
		ck_assert_int_eq(sa, sb);
		if (sa == READ_EOF || sa == READ_FAIL)
			break;
		ck_assert_int_eq(ra.line, rb.line);
		ck_assert_int_eq(ra.raw_len, rb.raw_len);
		ck_assert(!memcmp(ra.raw, rb.raw, ra.raw_len));
		ck_assert(!ra.csv);
		if (sa == READ_REJECT) {
			ck_assert_str_eq(ea.msg, eb.msg);
			continue;
		}
		ck_assert_int_eq(ra.nfields, rb.nfields);
		for (size_t i = 0; i < ra.nfields; i++) {
			ck_assert_int_eq(ra.fields[i].ptr == NULL, rb.fields[i].ptr == NULL);
			ck_assert_int_eq(ra.fields[i].len, rb.fields[i].len);
			if (ra.fields[i].ptr)
				ck_assert(!memcmp(ra.fields[i].ptr, rb.fields[i].ptr,
						  ra.fields[i].len));
		}
		ncsv += rb.csv;
	}
	ck_assert_int_eq(a->blank_lines, b->blank_lines);
	reader_close(a);
	reader_close(b);
	return ncsv;
}

START_TEST(raw_csv_same_records)
{
	const char *text = "\xEF\xBB\xBFid,a,b\r\n"
			   "1,plain,\"quoted, with comma\"\r\n"
			   "2,,\"\"\n"
			   "3,\"say \"\"hi\"\"\",\"multi\nline\"\n"
			   "4,\"cr\rin quotes\",x\n"
			   "5,unquoted\rcr,x\n"
			   "6,st\"ray,x\n"
			   "7,too,many,fields\n"
			   "\n"
			   "8,bad \xff utf8,x\n"
			   "9,h\xc3\xa9llo,\"\xe6\x97\xa5\"\n"
			   "10,\"closed\"junk,x\n"
			   "\\.\n"
			   "11,\"runs on,x\n"
			   "12,a,b\n"
			   "13,last,no newline";
	write_file(text, strlen(text));
	struct reader_options opt = {.format = FORMAT_CSV};
	size_t ncsv = same_both_ways(&opt);
	ck_assert_uint_ge(ncsv, 4);
	unlink(path);
}
END_TEST

/* Records cut by the read chunk's end, in another dialect. */
/* r's next record into *rec (err cleared first): READ_OK, READ_REJECT or
 * READ_EOF; a READ_FAIL fails the test. */
static enum read_status next_record(struct reader *r, struct record *rec, struct sl_error *err)
{
	*rec = (struct record){0};
	sl_error_clear(err);
	enum read_status st = r->ops->next(r, rec, err);
	ck_assert_int_ne(st, READ_FAIL);
	return st;
}

/* A CR inside an unquoted field, in one 64-byte step of the scan, at the
 * bit where the closing CR of CR LF falls in a later step: the record is
 * not plain (the parser ends a record at the CR), whatever the step. */
START_TEST(raw_csv_cr_as_far_as_the_closing_one)
{
	struct buf t;
	buf_init(&t, 0);
	ck_assert(buf_puts(&t, "x,y\r\n"));
	for (int k = 1; k < 63; k++)
		for (int step = 1; step <= 2; step++)
			ck_assert(buf_printf(
				&t, "g%d,h\r\n%.*s\r%.20s,%.*s\r\n", k, k,
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 64 * step - 22,
				"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
				"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"));
	write_file(t.data, t.len);
	buf_free(&t);
	struct reader_options opt = {.format = FORMAT_CSV};
	/* the good records only, 124 of them, go as CSV text */
	ck_assert_uint_eq(same_both_ways(&opt), 124);
	unlink(path);
}
END_TEST

/* A malformed line (text after a closing quote) that goes on past the end
 * of a read: rejected whole, with its own line number, and the lines after
 * it numbered on from it, whether the reader meets the end of the read
 * inside it (the parser alone, whose reads end at multiples of the block)
 * or not (with raw CSV, which moves a cut record to the front). */
START_TEST(raw_csv_malformed_line_across_reads)
{
	for (size_t before = 5; before <= 65; before += 30) {
		struct buf t;
		buf_init(&t, 0);
		ck_assert(buf_puts(&t, "a,b,c\n"));
		long lines = 1;
		/* good lines up to `before` bytes short of the first read's end */
		while (t.len + 40 < TEXT_BLOCK_SIZE - before) {
			ck_assert(buf_printf(&t, "%ld,good,%030ld\n", lines, lines));
			lines++;
		}
		while (t.len < TEXT_BLOCK_SIZE - before) {
			ck_assert(buf_printf(&t, "%ld,x,y\n", lines));
			lines++;
		}
		long bad_line = ++lines;
		ck_assert(buf_printf(&t, "\"q\"z,%0100d,b\n", 0));
		for (int i = 0; i < 20; i++) {
			ck_assert(buf_printf(&t, "%ld,after,%d\n", lines + 1, i));
			lines++;
		}
		write_file(t.data, t.len);
		buf_free(&t);
		struct reader_options opt = {.format = FORMAT_CSV};
		ck_assert_uint_gt(same_both_ways(&opt), 6000);
		/* and the parser's own reading is the right one */
		struct reader *r = NULL;
		struct sl_error err;
		ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
		long rejects = 0, last = 0;
		struct record rec;
		enum read_status st;
		while ((st = next_record(r, &rec, &err)) != READ_EOF) {
			if (st == READ_REJECT) {
				rejects++;
				ck_assert_int_eq(rec.line, bad_line);
				ck_assert_uint_eq(rec.raw_len, 4 + 1 + 100 + 2);
				continue;
			}
			last = rec.line;
		}
		ck_assert_int_eq(rejects, 1);
		ck_assert_int_eq(last, lines);
		reader_close(r);
		unlink(path);
	}
}
END_TEST

/* xorshift64: the generated files below are the same on every run. */
static uint64_t gen_state;
static unsigned gen_below(unsigned n)
{
	gen_state ^= gen_state << 13;
	gen_state ^= gen_state >> 7;
	gen_state ^= gen_state << 17;
	return (unsigned)(gen_state % n);
}

/* A generated file of mostly good records and trouble near them: quoted
 * fields with doubled quotes, line feeds, delimiters and CRs inside, stray
 * quotes, text after a closing quote, bare CRs in unquoted fields,
 * multi-byte and invalid UTF-8, CR LF and LF line ends, too few and too
 * many fields, long fields across the scan's 64-byte steps and the
 * reader's chunks. */
static void write_generated(uint64_t seed)
{
	gen_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	struct buf t;
	buf_init(&t, 0);
	int ncols = 1 + (int)gen_below(5);
	for (int c = 0; c < ncols; c++)
		ck_assert(buf_printf(&t, "%sc%d", c ? "," : "", c));
	ck_assert(buf_puts(&t, "\n"));
	int nrec = 2000 + (int)gen_below(2000);
	for (int r = 0; r < nrec; r++) {
		int nf = gen_below(20) ? ncols : 1 + (int)gen_below((unsigned)ncols + 2);
		for (int c = 0; c < nf; c++) {
			if (c)
				ck_assert(buf_puts(&t, ","));
			int len = gen_below(4) ? (int)gen_below(20) : (int)gen_below(200);
			bool quoted = gen_below(10) < 4;
			if (quoted)
				ck_assert(buf_puts(&t, "\""));
			for (int i = 0; i < len; i++) {
				unsigned k = gen_below(quoted ? 40 : 60);
				const char *piece = k == 2 ? "\xc3\xa9" : NULL;
				if (quoted && k == 0)
					piece = "\"\"";
				else if (quoted && k == 1)
					piece = "\n";
				else if (quoted && k == 3)
					piece = ",";
				else if (k == 4 && !gen_below(quoted ? 10 : 3))
					piece = "\r";
				else if (k == 5 && !gen_below(quoted ? 20 : 10))
					piece = "\""; /* a stray quote: broken */
				else if (k == 6 && !gen_below(50))
					piece = "\xff";
				if (piece) {
					ck_assert(buf_puts(&t, piece));
				} else {
					char ch = (char)('a' + gen_below(26));
					ck_assert(buf_append(&t, &ch, 1));
				}
			}
			if (quoted)
				ck_assert(buf_puts(&t, gen_below(50) ? "\"" : "\"x"));
		}
		ck_assert(buf_puts(&t, gen_below(10) ? "\n" : "\r\n"));
	}
	write_file(t.data, t.len);
	buf_free(&t);
}

/* Generated files, each read through the parser alone and with records as
 * raw CSV: the same records, rejects, reasons and lines (same_both_ways). */
START_TEST(raw_csv_generated_files_same_both_ways)
{
	struct reader_options opt = {.format = FORMAT_CSV};
	size_t ncsv = 0;
	for (uint64_t seed = 1; seed <= 16; seed++) {
		write_generated(seed);
		ncsv += same_both_ways(&opt);
		unlink(path);
	}
	ck_assert_uint_gt(ncsv, 16000); /* most records went as CSV text */
}
END_TEST

START_TEST(raw_csv_across_chunks)
{
	struct buf t;
	buf_init(&t, 0);
	ck_assert(buf_puts(&t, "id;a;b\n"));
	for (int i = 0; i < 3000; i++) {
		bool ok = buf_printf(
			&t, "%d;'%.*s';'it''s\n%d'\n", i, 200 + i % 97,
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			i);
		ck_assert(ok);
	}
	write_file(t.data, t.len);
	buf_free(&t);
	struct reader_options opt = {.format = FORMAT_CSV, .delimiter = ';', .quote = '\''};
	ck_assert_uint_eq(same_both_ways(&opt), 3000);
	unlink(path);
}
END_TEST

/* One record as the parser alone gives it, copied. */
struct kept {
	long line;
	char *raw;
	size_t raw_len;
	char *vals[3]; /* NULL for NULL */
	size_t lens[3];
};

static char *dup_bytes(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	ck_assert(p);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Batch b's row i against k. */
static void same_row(const struct batch *b, size_t i, const struct kept *k)
{
	const struct row_meta *m = &b->meta[i];
	ck_assert_int_eq(m->line, k->line);
	ck_assert_uint_eq(m->raw_len, k->raw_len);
	ck_assert_msg(!memcmp(m->raw, k->raw, k->raw_len), "line %ld: text changed", k->line);
	for (int c = 0; c < 3; c++) {
		const struct cell *v = &batch_row(b, i)[c];
		ck_assert_int_eq(v->ptr == NULL, k->vals[c] == NULL);
		if (!v->ptr)
			continue;
		ck_assert_uint_eq(v->len, k->lens[c]);
		ck_assert_msg(!memcmp(v->ptr, k->vals[c], v->len), "line %ld: value %d changed",
			      k->line, c);
	}
}

/* Records found as raw CSV go into batches that hold the reader's blocks
 * of text instead of copying it: a held batch keeps its rows exact while
 * the reader reads block after block, and, with held batches given back
 * as it goes (release), while the blocks are reused; with direct, the
 * reader puts each record's fields straight into the batch's next row
 * (reader.cells_to), as the load does. Every row against the parser's own
 * reading. */
static void held_rows(bool release, bool direct)
{
	struct buf t;
	buf_init(&t, 0);
	ck_assert(buf_puts(&t, "id,a,b\n"));
	const int n = 9000; /* about 1.7 MB: several blocks */
	for (int i = 0; i < n; i++) {
		bool ok;
		if (i % 7 == 3) /* quoted, doubled quotes: a value copied apart */
			ok = buf_printf(&t, "%d,\"say \"\"%d\"\"\",tail%d\n", i, i, i);
		else if (i % 11 == 5) /* CR LF: its text is copied */
			ok = buf_printf(
				&t, "%d,crlf%d,%.*s\r\n", i, i, 100 + i % 50,
				"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
				"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
				"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		else if (i % 17 == 8) /* CR LF and doubled quotes: both copied */
			ok = buf_printf(&t, "%d,\"q \"\"%d\"\"\",crlf\r\n", i, i);
		else if (i % 13 == 6) /* a refused record between held ones */
			ok = buf_printf(&t, "%d,too,many,fields\n", i);
		else
			ok = buf_printf(&t, "%d,,v%0*d\n", i, 20 + i % 160, i);
		ck_assert(ok);
	}
	write_file(t.data, t.len);
	buf_free(&t);
	struct reader_options opt = {.format = FORMAT_CSV};
	struct reader *a = NULL, *b = NULL;
	struct sl_error err;
	ck_assert_msg(reader_open(&a, path, &opt, &err), "%s", err.msg);
	ck_assert_msg(reader_open(&b, path, &opt, &err), "%s", err.msg);
	char d, q;
	ck_assert(b->ops->raw_csv(b, &d, &q));
	struct kept *want = calloc((size_t)n, sizeof *want);
	ck_assert(want);
	size_t nwant = 0, nheld = 0, held_batches = 0, in_place = 0;
	enum { PER = 500, MAXB = 20 };
	struct batch batches[MAXB];
	int nb = 0;
	for (;;) {
		struct record ra = {0}, rb = {0};
		sl_error_clear(&err);
		enum read_status sa = a->ops->next(a, &ra, &err);
		sl_error_clear(&err);
		b->cells_to = direct && nb ? batch_next_cells(&batches[nb - 1]) : NULL;
		b->cells_room = 3;
		enum read_status sb = b->ops->next(b, &rb, &err);
		in_place += b->cells_to && rb.fields == b->cells_to;
		ck_assert_int_eq(sa, sb);
		if (sa == READ_EOF)
			break;
		ck_assert_int_eq(sa == READ_FAIL, false);
		if (sa == READ_REJECT)
			continue;
		struct kept *k = &want[nwant++];
		k->line = ra.line;
		k->raw = dup_bytes(ra.raw, ra.raw_len);
		k->raw_len = ra.raw_len;
		for (int c = 0; c < 3; c++) {
			k->vals[c] = ra.fields[c].ptr
					     ? dup_bytes(ra.fields[c].ptr, ra.fields[c].len)
					     : NULL;
			k->lens[c] = ra.fields[c].len;
		}
		if (nb == 0 || batches[nb - 1].nrows == PER) {
			if (release && nb == 2) {
				/* the older batch checked and given back */
				for (size_t i = 0; i < batches[0].nrows; i++)
					same_row(&batches[0], i, &want[nwant - 1 - PER * 2 + i]);
				batch_free(&batches[0]);
				batches[0] = batches[1];
				nb = 1;
			}
			ck_assert_int_lt(nb, MAXB);
			ck_assert(batch_init(&batches[nb++], 3, PER));
			batches[nb - 1].csv_delim = d;
			batches[nb - 1].csv_quote = q;
		}
		nheld += rb.block != NULL;
		ck_assert(batch_add_row(&batches[nb - 1], &rb, 0, true));
		held_batches += batches[nb - 1].nrows == PER && batches[nb - 1].nheld > 0;
	}
	/* most records were held where they were read, in many batches */
	ck_assert_uint_gt(nheld, nwant / 2);
	ck_assert_uint_gt(held_batches, 5);
	if (direct) /* most of them read straight into their rows */
		ck_assert_uint_gt(in_place, nwant / 2);
	size_t first = nwant - (nwant % PER ? nwant % PER : PER) - (size_t)(nb - 1) * PER;
	for (int bi = 0; bi < nb; bi++)
		for (size_t i = 0; i < batches[bi].nrows; i++)
			same_row(&batches[bi], i, &want[first + (size_t)bi * PER + i]);
	for (int bi = 0; bi < nb; bi++)
		batch_free(&batches[bi]);
	for (size_t i = 0; i < nwant; i++) {
		free(want[i].raw);
		for (int c = 0; c < 3; c++)
			free(want[i].vals[c]);
	}
	free(want);
	reader_close(a);
	reader_close(b);
	unlink(path);
}

START_TEST(raw_csv_rows_held_by_batches)
{
	held_rows(false, false);
}
END_TEST

START_TEST(raw_csv_held_blocks_reused)
{
	held_rows(true, false);
}
END_TEST

START_TEST(raw_csv_fields_into_batch_rows)
{
	held_rows(false, true);
	held_rows(true, true);
}
END_TEST

/* Good records few and far between (64 KB of refused lines apart): a
 * batch holds no block for each of them, it copies their text once the
 * blocks would outweigh it, and every row is still exact. */
START_TEST(raw_csv_sparse_rows_copied)
{
	struct buf t;
	buf_init(&t, 0);
	ck_assert(buf_puts(&t, "id,a,b\n"));
	enum { GOOD = 100 };
	for (int i = 0; i < GOOD; i++) {
		ck_assert(buf_printf(&t, "%d,,good%d\n", i, i));
		for (int j = 0; j < 2000; j++) /* 32 bytes each, refused */
			ck_assert(buf_printf(&t, "%05d,too,many,fields,here,x\n", j));
	}
	write_file(t.data, t.len);
	buf_free(&t);
	struct reader_options opt = {.format = FORMAT_CSV};
	struct reader *r = NULL;
	struct sl_error err;
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	char d, q;
	ck_assert(r->ops->raw_csv(r, &d, &q));
	struct batch b;
	ck_assert(batch_init(&b, 3, GOOD));
	b.csv_delim = d;
	b.csv_quote = q;
	size_t nheld = 0;
	struct record rec;
	enum read_status st;
	while ((st = next_record(r, &rec, &err)) != READ_EOF) {
		if (st == READ_REJECT)
			continue;
		nheld += rec.block != NULL;
		ck_assert(batch_add_row(&b, &rec, 0, true));
	}
	ck_assert_uint_eq(b.nrows, GOOD);
	ck_assert_uint_eq(nheld, GOOD); /* each could have been held */
	/* 6.4 MB of input, 25 blocks: the batch holds no more than its
	 * bound, two blocks and twice its text */
	ck_assert_uint_le(b.nheld * TEXT_BLOCK_SIZE, 2 * b.text_bytes + 2 * TEXT_BLOCK_SIZE);
	ck_assert_uint_le(b.nheld, 3);
	for (size_t i = 0; i < b.nrows; i++) {
		char want[32];
		snprintf(want, sizeof want, "good%zu", i);
		const struct cell *c = batch_row(&b, i);
		ck_assert_uint_eq(c[2].len, strlen(want));
		ck_assert(!memcmp(c[2].ptr, want, c[2].len));
		ck_assert(c[1].ptr == NULL);
		ck_assert_int_eq(b.meta[i].line, 2 + (long)i * 2001);
	}
	batch_free(&b);
	reader_close(r);
	unlink(path);
}
END_TEST

START_TEST(raw_csv_refused_by_options)
{
	write_file("a,b\n1,2\n", 8);
	struct reader_options opts[] = {
		{.format = FORMAT_CSV, .null_marker = "NULL"},
		{.format = FORMAT_CSV, .escape = '\\'},
		{.format = FORMAT_CSV, .encoding = ENCODING_LATIN1},
	};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		struct reader *r = NULL;
		struct sl_error err;
		ck_assert(reader_open(&r, path, &opts[i], &err));
		char d, q;
		ck_assert(!r->ops->raw_csv(r, &d, &q));
		reader_close(r);
	}
	unlink(path);
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
	tcase_add_test(tc, blank_line_one_column_is_null);
	tcase_add_test(tc, blank_line_crlf_across_chunks);
	tcase_add_test(tc, blank_lines_counted_when_several_columns);
	tcase_add_test(tc, null_marker_not_applied_to_header);
	tcase_add_test(tc, max_record_bytes_rejects_and_goes_on);
	tcase_add_test(tc, max_record_bytes_unterminated_quote_read_again);
	tcase_add_test(tc, max_record_bytes_malformed_read_again);
	tcase_add_test(tc, max_record_bytes_unterminated_quote_stdin);
	tcase_add_test(tc, max_record_bytes_bounds_memory);
	tcase_add_test(tc, too_many_fields_counted_not_kept);
	tcase_add_test(tc, raw_csv_same_records);
	tcase_add_test(tc, raw_csv_across_chunks);
	tcase_add_test(tc, raw_csv_cr_as_far_as_the_closing_one);
	tcase_add_test(tc, raw_csv_malformed_line_across_reads);
	tcase_add_test(tc, raw_csv_generated_files_same_both_ways);
	tcase_add_test(tc, raw_csv_refused_by_options);
	tcase_add_test(tc, raw_csv_rows_held_by_batches);
	tcase_add_test(tc, raw_csv_held_blocks_reused);
	tcase_add_test(tc, raw_csv_fields_into_batch_rows);
	tcase_add_test(tc, raw_csv_sparse_rows_copied);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
