/* tests/unit/test_json_reader.c
 * The NDJSON and JSON-array reader: key mapping, nested values, exact
 * numbers, missing and unknown keys, malformed input, gzip, line numbers,
 * MongoDB Extended JSON.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/reader.h"

/* not in reader.h yet: see src/input/json.c */
bool json_reader_sample_keys(struct reader *r, size_t max_records, struct sl_error *err);

#define NUL "\x01" /* stands for SQL NULL in expectations */

static char path[64];

static void write_file(const char *content, size_t n)
{
	strcpy(path, "/tmp/sluice-json-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, n), (ssize_t)n);
	close(fd);
}

/* Open content in format with the given target columns. */
static struct reader *open_json_opt(enum input_format format, const char *content, size_t n,
				    const char *cols, bool ignore_unknown)
{
	struct reader_options opt = {.format = format, .ignore_unknown = ignore_unknown};
	struct reader *r = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	write_file(content, n);
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	ck_assert_ptr_eq(r->ops, &json_reader_ops);
	ck_assert_ptr_null(r->header);
	if (cols) {
		char *copy = strdup(cols), *save = NULL;
		char *names[64];
		int k = 0;
		for (char *t = strtok_r(copy, "|", &save); t; t = strtok_r(NULL, "|", &save))
			names[k++] = t;
		ck_assert_msg(r->ops->set_columns(r, names, k, &err), "%s", err.msg);
		free(copy);
	}
	return r;
}

static struct reader *open_json(enum input_format format, const char *content, const char *cols)
{
	return open_json_opt(format, content, strlen(content), cols, false);
}

static void done(struct reader *r)
{
	reader_close(r);
	unlink(path);
}

/* Expect an OK record at line with these values (NUL for SQL NULL). */
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
		if (!strcmp(want, NUL)) {
			ck_assert_msg(rec.fields[i].ptr == NULL, "field %d should be NULL", i);
		} else {
			ck_assert_msg(rec.fields[i].ptr != NULL, "field %d is NULL", i);
			ck_assert_int_eq(rec.fields[i].len, strlen(want));
			ck_assert_msg(!memcmp(rec.fields[i].ptr, want, rec.fields[i].len),
				      "field %d: '%.*s' != '%s'", i, (int)rec.fields[i].len,
				      rec.fields[i].ptr, want);
		}
	}
	va_end(ap);
}

/* Expect a rejected record at line, raw text raw (NULL: not checked), with
 * msg_part in the message. */
static void expect_reject(struct reader *r, long line, const char *raw, const char *msg_part)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_msg(st == READ_REJECT, "status %d: %s", st, err.msg);
	ck_assert_int_eq(rec.line, line);
	if (raw) {
		ck_assert_int_eq(rec.raw_len, strlen(raw));
		ck_assert(!memcmp(rec.raw, raw, rec.raw_len));
	}
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message '%s' lacks '%s'", err.msg,
		      msg_part);
}

static void expect_fail(struct reader *r, const char *msg_part)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_msg(st == READ_FAIL, "status %d: %s", st, err.msg);
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message '%s' lacks '%s'", err.msg,
		      msg_part);
}

static void expect_eof(struct reader *r)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_msg(st == READ_EOF, "status %d: %s", st, err.msg);
}

START_TEST(ndjson_keys_by_name)
{
	/* keys in any order, with spaces and non-ASCII; fields come in column order */
	struct reader *r = open_json(
		FORMAT_NDJSON,
		"{\"b\": \"x\", \"a\": 1, \"first name\": \"Zoë\", \"日付\": \"2024-01-02\"}\n"
		"{\"日付\":null,\"first name\":\"\",\"a\":-2,\"b\":\"y\\n\\\"q\\\" "
		"\\u00e9\\ud83c\\udf89\"}\n",
		"a|b|first name|日付");
	expect_row(r, 1, 4, "1", "x", "Zoë", "2024-01-02");
	expect_row(r, 2, 4, "-2", "y\n\"q\" é\xF0\x9F\x8E\x89", "", NUL);
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(exact_numbers_and_literals)
{
	struct reader *r = open_json(
		FORMAT_NDJSON,
		"{\"n\":0.1,\"m\":1.50,\"d\":12345678901234.123456,\"u\":18446744073709551615,"
		"\"e\":-1.5E+300,\"t\":true,\"f\":false,\"z\":null}\n",
		"n|m|d|u|e|t|f|z");
	expect_row(r, 1, 8, "0.1", "1.50", "12345678901234.123456", "18446744073709551615",
		   "-1.5E+300", "true", "false", NUL);
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(nested_values_as_json_text)
{
	struct reader *r = open_json(FORMAT_NDJSON,
				     "{\"id\": 1, \"doc\": {\"x\": [1, 2.50, {\"y\": null}], "
				     "\"s\": \"a\\\"b/é\"}, \"tags\": [\"a\", true]}\n"
				     "{\"id\": 2, \"doc\": {}, \"tags\": []}\n",
				     "id|doc|tags");
	expect_row(r, 1, 3, "1", "{\"x\":[1,2.50,{\"y\":null}],\"s\":\"a\\\"b/é\"}",
		   "[\"a\",true]");
	expect_row(r, 2, 3, "2", "{}", "[]");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(deeply_nested_kept_as_written)
{
	/* deeper than yajl_gen goes: the bytes as written */
	char doc[2048] = "{\"id\":7,\"deep\":";
	for (int i = 0; i < 200; i++)
		strcat(doc, "[");
	strcat(doc, "1");
	for (int i = 0; i < 200; i++)
		strcat(doc, "]");
	char want[sizeof doc];
	strcpy(want, doc + strlen("{\"id\":7,\"deep\":"));
	strcat(doc, "}\n");
	struct reader *r = open_json(FORMAT_NDJSON, doc, "id|deep");
	expect_row(r, 1, 2, "7", want);
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(missing_and_unknown_keys)
{
	struct reader *r = open_json(FORMAT_NDJSON,
				     "{\"a\":1}\n"
				     "{\"a\":2,\"zz top\":3,\"b\":4}\n"
				     "{\"b\":5}\n"
				     "{\"a\":6,\"a\":7}\n",
				     "a|b");
	expect_row(r, 1, 2, "1", NUL);
	expect_reject(r, 2, "{\"a\":2,\"zz top\":3,\"b\":4}", "unknown key \"zz top\"");
	expect_row(r, 3, 2, NUL, "5");
	expect_reject(r, 4, NULL, "duplicate key \"a\"");
	expect_eof(r);
	done(r);

	const char *in = "{\"a\":1,\"extra\":{\"deep\":[1,{\"b\":9}]},\"b\":2}\n";
	r = open_json_opt(FORMAT_NDJSON, in, strlen(in), "a|b", true);
	expect_row(r, 1, 2, "1", "2");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ndjson_bad_lines_continue)
{
	struct reader *r = open_json(FORMAT_NDJSON,
				     "{\"a\":1}\r\n"
				     "\n"
				     "   \n"
				     "{\"a\":2,}\n"
				     "[1,2]\n"
				     "{\"a\":\"\xC3\x28\"}\n"
				     "\"just a string\"\n"
				     "{\"a\":3} {\"a\":4}\n"
				     "{\"a\":\"unterminated\n"
				     "{\"a\":\"bad \\x escape\"}\n"
				     "{\"a\":5}",
				     "a");
	expect_row(r, 1, 1, "1");
	expect_reject(r, 4, "{\"a\":2,}", "line 4, byte ");
	expect_reject(r, 5, "[1,2]", "not a JSON object");
	expect_reject(r, 6, "{\"a\":\"\xC3\x28\"}", "UTF8");
	expect_reject(r, 7, "\"just a string\"", "a string, not a JSON object");
	expect_reject(r, 8, NULL, "line 8");
	expect_reject(r, 9, "{\"a\":\"unterminated", "line 9");
	expect_reject(r, 10, NULL, "line 10");
	expect_row(r, 11, 1, "5");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(array_elements_and_lines)
{
	struct reader *r = open_json(FORMAT_JSON,
				     "\xEF\xBB\xBF[\n"
				     "  {\"id\": 1, \"name\": \"a\"},\n"
				     "  {\n"
				     "    \"id\": 2,\n"
				     "    \"name\": \"b, ] }\"\n"
				     "  },\n"
				     "  42,\n"
				     "  \"str\", null, [1, {\"id\": 9}],\n"
				     "  {\"name\": \"c\", \"id\": 3}\n"
				     "]\n",
				     "id|name");
	expect_row(r, 2, 2, "1", "a");
	expect_row(r, 3, 2, "2", "b, ] }");
	expect_reject(r, 7, "42", "a number, not a JSON object");
	expect_reject(r, 8, "\"str\"", "not a JSON object");
	expect_reject(r, 8, "null", "not a JSON object");
	expect_reject(r, 8, "[1, {\"id\": 9}]", "an array, not a JSON object");
	expect_row(r, 9, 2, "3", "c");
	expect_eof(r);
	expect_eof(r);
	done(r);

	r = open_json(FORMAT_JSON, "[]", "id");
	expect_eof(r);
	done(r);
	r = open_json(FORMAT_JSON, "", "id");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(array_unknown_key_rejects_one)
{
	struct reader *r = open_json(FORMAT_JSON, "[{\"a\":1},{\"a\":2,\"b\":3},{\"a\":4}]", "a");
	expect_row(r, 1, 1, "1");
	expect_reject(r, 1, "{\"a\":2,\"b\":3}", "unknown key \"b\"");
	expect_row(r, 1, 1, "4");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(array_truncated_fails_after_earlier_records)
{
	struct reader *r =
		open_json(FORMAT_JSON, "[\n{\"a\":1},\n{\"a\":2},\n{\"a\":3, \"b\"", "a|b");
	expect_row(r, 2, 2, "1", NUL);
	expect_row(r, 3, 2, "2", NUL);
	expect_fail(r, "line 4, byte ");
	expect_fail(r, "invalid JSON"); /* and stays failed */
	done(r);

	r = open_json(FORMAT_JSON, "[{\"a\":1},", "a");
	expect_row(r, 1, 1, "1");
	expect_fail(r, "line 1, byte 10");
	done(r);

	r = open_json(FORMAT_JSON, "[{\"a\":1}\n{\"a\":2}]", "a");
	expect_row(r, 1, 1, "1");
	expect_fail(r, "line 2, byte 10: invalid JSON: expected ',' or ']'");
	done(r);

	r = open_json(FORMAT_JSON, "[{\"a\":1}", "a");
	expect_row(r, 1, 1, "1");
	expect_fail(r, "not closed");
	done(r);

	r = open_json(FORMAT_JSON, "[{\"a\":1}] x", "a");
	expect_row(r, 1, 1, "1");
	expect_fail(r, "text after the end");
	done(r);
}
END_TEST

START_TEST(array_syntax_errors_fail)
{
	/* a bad escape, and invalid UTF-8, inside the second element */
	struct reader *r =
		open_json(FORMAT_JSON, "[{\"a\":\"x\"},\n {\"a\":\"\\q\"}, {\"a\":\"y\"}]", "a");
	expect_row(r, 1, 1, "x");
	expect_fail(r, "line 2, byte ");
	done(r);

	r = open_json(FORMAT_JSON, "[{\"a\":\"x\"},{\"a\":\"\xFF\"}]", "a");
	expect_row(r, 1, 1, "x");
	expect_fail(r, "UTF8");
	done(r);

	r = open_json(FORMAT_JSON, "{\"a\":1} garbage", "a");
	expect_row(r, 1, 1, "1");
	expect_fail(r, "invalid JSON");
	done(r);

	r = open_json(FORMAT_JSON, "a,b\n1,2\n", "a");
	expect_fail(r, "line 1, byte 1: invalid JSON: expected an array of objects");
	done(r);
}
END_TEST

START_TEST(object_stream_in_json_file)
{
	/* a .json file that holds objects one after another (or just one) */
	struct reader *r = open_json(FORMAT_JSON, "{\n  \"a\": 1\n}\n{\"a\": 2}\n", "a");
	expect_row(r, 1, 1, "1");
	expect_row(r, 4, 1, "2");
	expect_eof(r);
	done(r);
}
END_TEST

static void write_gzip(const char *content)
{
	strcpy(path, "/tmp/sluice-json-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	gzFile gz = gzdopen(fd, "wb");
	ck_assert_ptr_nonnull(gz);
	ck_assert_int_eq(gzwrite(gz, content, (unsigned)strlen(content)), (int)strlen(content));
	ck_assert_int_eq(gzclose(gz), Z_OK);
}

START_TEST(gzip_detected_by_content)
{
	write_gzip("[{\"a\": 1.25}, {\"a\": \"é\"}]");
	struct reader_options opt = {0};
	struct reader *r = NULL;
	struct sl_error err;
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	ck_assert_int_eq(r->format, FORMAT_JSON);
	ck_assert(source_is_gzip(r->src));
	char *names[] = {"a"};
	ck_assert(r->ops->set_columns(r, names, 1, &err));
	expect_row(r, 1, 1, "1.25");
	expect_row(r, 1, 1, "é");
	expect_eof(r);
	done(r);

	write_gzip("{\"a\": 1}\n{\"a\": 2}\n");
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	ck_assert_int_eq(r->format, FORMAT_NDJSON);
	ck_assert(r->ops->set_columns(r, names, 1, &err));
	expect_row(r, 1, 1, "1");
	expect_row(r, 2, 1, "2");
	expect_eof(r);
	done(r);
}
END_TEST

/* Many records across many chunks: line numbers and values stay right. */
static void many(enum input_format f)
{
	size_t n = 30000, cap = n * 80 + 16, len = 0;
	char *s = malloc(cap);
	if (f == FORMAT_JSON)
		len += (size_t)sprintf(s + len, "[\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len,
				       "{\"id\": %zu, \"v\": \"value number %zu \\u00e9\"}%s\n", i,
				       i * 7, f == FORMAT_JSON && i + 1 < n ? "," : "");
	if (f == FORMAT_JSON)
		len += (size_t)sprintf(s + len, "]\n");
	struct reader *r = open_json_opt(f, s, len, "v|id", false);
	for (size_t i = 0; i < n; i++) {
		char id[32], v[64];
		snprintf(id, sizeof id, "%zu", i);
		snprintf(v, sizeof v, "value number %zu é", i * 7);
		expect_row(r, (long)i + (f == FORMAT_JSON ? 2 : 1), 2, v, id);
	}
	expect_eof(r);
	done(r);
	free(s);
}

START_TEST(long_inputs_many_chunks)
{
	many(FORMAT_NDJSON);
	many(FORMAT_JSON);
}
END_TEST

/* Found by fuzz_json: YAJL decodes a lone low surrogate ("\udc00") to bytes
 * that are not UTF-8; such a record is rejected, in a value, a key or a
 * nested value, and such a key is no column name for --create. */
START_TEST(unpaired_surrogate_rejected)
{
	struct reader *r = open_json(FORMAT_NDJSON,
				     "{\"a\":\"\\udc00\"}\n"
				     "{\"a\":\"\\ud83d\\ude00 ok\"}\n"
				     "{\"\\udfff\":1}\n"
				     "{\"a\":{\"k\":[\"\\udc01\"]}}\n"
				     "{\"a\":{\"\\udc02\":1}}\n"
				     "{\"a\":2}\n",
				     "a");
	expect_reject(r, 1, "{\"a\":\"\\udc00\"}", "unpaired surrogate");
	expect_row(r, 2, 1, "\xF0\x9F\x98\x80 ok");
	expect_reject(r, 3, NULL, "unpaired surrogate");
	expect_reject(r, 4, NULL, "unpaired surrogate");
	expect_reject(r, 5, NULL, "unpaired surrogate");
	expect_row(r, 6, 1, "2");
	expect_eof(r);
	done(r);

	r = open_json(FORMAT_JSON, "[{\"\\udc00x\":1,\"a\":2},{\"a\":3}]", NULL);
	struct sl_error err;
	ck_assert_msg(json_reader_sample_keys(r, 2, &err), "%s", err.msg);
	ck_assert_int_eq(r->nheader, 1);
	ck_assert_str_eq(r->header[0], "a");
	ck_assert(r->ops->set_columns(r, r->header, r->nheader, &err));
	expect_reject(r, 1, NULL, "unpaired surrogate");
	expect_row(r, 1, 1, "3");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(sample_keys_then_read)
{
	struct reader *r = open_json(
		FORMAT_JSON,
		"[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"when\":\"2024-01-01\",\"name\":\"b\"},"
		"{\"id\":3,\"extra\":true},\n{\"id\":4",
		NULL);
	struct sl_error err;
	ck_assert_msg(json_reader_sample_keys(r, 2, &err), "%s", err.msg);
	ck_assert_int_eq(r->nheader, 3);
	ck_assert_str_eq(r->header[0], "id");
	ck_assert_str_eq(r->header[1], "name");
	ck_assert_str_eq(r->header[2], "when");
	ck_assert(r->ops->set_columns(r, r->header, r->nheader, &err));
	expect_row(r, 1, 3, "1", "a", NUL);
	expect_row(r, 1, 3, "2", "b", "2024-01-01");
	expect_reject(r, 1, "{\"id\":3,\"extra\":true}", "unknown key \"extra\"");
	expect_fail(r, "line 2");
	done(r);

	/* a failure inside the sample comes after the records before it */
	r = open_json(FORMAT_JSON, "[{\"x\":1},{\"x\":2}", NULL);
	ck_assert_msg(json_reader_sample_keys(r, 100, &err), "%s", err.msg);
	ck_assert_int_eq(r->nheader, 1);
	ck_assert(r->ops->set_columns(r, r->header, r->nheader, &err));
	expect_row(r, 1, 1, "1");
	expect_row(r, 1, 1, "2");
	expect_fail(r, "not closed");
	done(r);

	r = open_json(FORMAT_NDJSON, "{\"b\":1}\nnot json\n{\"a\":2,\"b\":3}\n", NULL);
	ck_assert_msg(json_reader_sample_keys(r, 100, &err), "%s", err.msg);
	ck_assert_int_eq(r->nheader, 2);
	ck_assert_str_eq(r->header[0], "b");
	ck_assert_str_eq(r->header[1], "a");
	ck_assert(r->ops->set_columns(r, r->header, r->nheader, &err));
	expect_row(r, 1, 2, "1", NUL);
	expect_reject(r, 2, "not json", "line 2");
	expect_row(r, 3, 2, "3", "2");
	expect_eof(r);
	done(r);
}
END_TEST

/* YAJL stores a lone high surrogate as "?" (or glues it to the escape after
 * it): every unpaired surrogate rejects its record, a pair still loads. */
START_TEST(lone_high_surrogate_rejected)
{
	struct reader *r = open_json(FORMAT_NDJSON,
				     "{\"a\":\"\\ud800\"}\n"
				     "{\"a\":\"\\ud800\\u0041\"}\n"
				     "{\"a\":\"\\ud800x\"}\n"
				     "{\"a\":\"\\ud83d\\ude00\"}\n"
				     "{\"a\":\"x\\\\ud800\"}\n"
				     "{\"a\":\"x\\\\\\ud800\"}\n"
				     "{\"\\udbff\":1}\n"
				     "{\"a\":{\"k\":[1,\"ok\",\"\\ud800\\ud800\"]}}\n"
				     "{\"a\":[{\"\\ud83d\":true}]}\n"
				     "{\"a\":{\"\\ud83d\\ude00\":\"\\u00e9\\uDBFF\\uDFFF\"}}\n"
				     "{\"a\":\"end \\ud800\",\"b\":1}\n",
				     "a|b");
	expect_reject(r, 1, "{\"a\":\"\\ud800\"}", "unpaired surrogate");
	expect_reject(r, 2, "{\"a\":\"\\ud800\\u0041\"}", "unpaired surrogate");
	expect_reject(r, 3, NULL,
		      "line 3: a \\u escape is not a character (an unpaired surrogate)");
	expect_row(r, 4, 2, "\xF0\x9F\x98\x80", NUL);
	expect_row(r, 5, 2, "x\\ud800", NUL); /* an escaped backslash, then text */
	expect_reject(r, 6, NULL, "unpaired surrogate");
	expect_reject(r, 7, NULL, "unpaired surrogate");
	expect_reject(r, 8, NULL, "unpaired surrogate");
	expect_reject(r, 9, NULL, "unpaired surrogate");
	expect_row(r, 10, 2, "{\"\xF0\x9F\x98\x80\":\"\xC3\xA9\xF4\x8F\xBF\xBF\"}", NUL);
	expect_reject(r, 11, NULL, "unpaired surrogate");
	expect_eof(r);
	done(r);

	/* a JSON array over lines; a lone surrogate key is no name for --create */
	r = open_json(FORMAT_JSON,
		      "[{\"a\":\"\\ud800\"},\n"
		      " {\"\\ud800k\":1,\"a\":\"\\ud800\\udc00\"},\n"
		      " {\"a\":\"fine\"}]",
		      NULL);
	struct sl_error err;
	ck_assert_msg(json_reader_sample_keys(r, 10, &err), "%s", err.msg);
	ck_assert_int_eq(r->nheader, 1);
	ck_assert_str_eq(r->header[0], "a");
	ck_assert(r->ops->set_columns(r, r->header, r->nheader, &err));
	expect_reject(r, 1, "{\"a\":\"\\ud800\"}", "unpaired surrogate");
	expect_reject(r, 2, NULL, "line 2: a \\u escape is not a character");
	expect_row(r, 3, 1, "fine");
	expect_eof(r);
	done(r);
}
END_TEST

/* Blank NDJSON lines are skipped and counted; white space in a JSON array
 * is not. */
START_TEST(ndjson_blank_lines_counted)
{
	struct reader *r = open_json(FORMAT_NDJSON, "\n{\"a\":1}\n\n \t \r\n{\"a\":2}\n\n", "a");
	expect_row(r, 2, 1, "1");
	expect_row(r, 5, 1, "2");
	expect_eof(r);
	ck_assert_int_eq(r->blank_lines, 4); /* lines 1, 3, 4 and 6 */
	done(r);

	r = open_json(FORMAT_NDJSON, "{\"a\":1}\r\n\r\n{\"a\":2}", "a");
	expect_row(r, 1, 1, "1");
	expect_row(r, 3, 1, "2");
	expect_eof(r);
	ck_assert_int_eq(r->blank_lines, 1);
	done(r);

	r = open_json(FORMAT_JSON, "\n[\n\n{\"a\":1},\n\n{\"a\":2}\n\n]\n\n", "a");
	expect_row(r, 4, 1, "1");
	expect_row(r, 6, 1, "2");
	expect_eof(r);
	ck_assert_int_eq(r->blank_lines, 0);
	done(r);
}
END_TEST

/* Open content with target columns cols and --max-record-bytes max. */
static struct reader *open_json_max(enum input_format format, const char *content, char **cols,
				    int ncols, size_t max)
{
	struct reader_options opt = {.format = format, .max_record_bytes = max};
	struct reader *r = NULL;
	struct sl_error err;
	write_file(content, strlen(content));
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	if (cols)
		ck_assert_msg(r->ops->set_columns(r, cols, ncols, &err), "%s", err.msg);
	return r;
}

/* Expect a reject at line for being past a limit of max bytes, with the
 * first raw_len bytes of the record as its raw text (which starts with
 * raw_start). */
static void expect_too_large(struct reader *r, long line, size_t max, size_t raw_len,
			     const char *raw_start)
{
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	enum read_status st = r->ops->next(r, &rec, &err);
	ck_assert_msg(st == READ_REJECT, "status %d: %s", st, err.msg);
	ck_assert_int_eq(rec.line, line);
	ck_assert_int_eq(err.line, line);
	char want[128];
	snprintf(want, sizeof want, "line %ld: record larger than --max-record-bytes (%zu bytes)",
		 line, max);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(rec.raw_len, raw_len);
	ck_assert(!memcmp(rec.raw, raw_start, strlen(raw_start)));
}

START_TEST(max_record_bytes_ndjson)
{
	char *buf = malloc(20000);
	size_t o = 0;
	char *cols[] = {"a"};
	/* {"a":"x...x"} of exactly 1000 bytes, then with a CR, then 1001 bytes */
	for (int k = 0; k < 3; k++) {
		o += (size_t)sprintf(buf + o, "{\"a\":\"");
		memset(buf + o, 'x', 992 + (k == 2));
		o += 992 + (k == 2);
		o += (size_t)sprintf(buf + o, "\"}%s\n", k == 1 ? "\r" : "");
	}
	o += (size_t)sprintf(buf + o, "{\"a\":\"");
	memset(buf + o, 'y', 9000); /* far past the limit: a 1 KiB prefix */
	o += 9000;
	o += (size_t)sprintf(buf + o, "\"}\n\n{\"a\":\"after\"}\n");
	buf[o] = '\0';
	struct reader *r = open_json_max(FORMAT_NDJSON, buf, cols, 1, 1000);
	struct record rec;
	struct sl_error err;
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
		ck_assert_int_eq(rec.line, k + 1);
		ck_assert_int_eq(rec.raw_len, 1000);
		ck_assert_int_eq(rec.fields[0].len, 992);
	}
	expect_too_large(r, 3, 1000, 1001, "{\"a\":\"xxx");
	expect_too_large(r, 4, 1000, 1024, "{\"a\":\"yyy");
	expect_row(r, 6, 1, "after");
	expect_eof(r);
	ck_assert_int_eq(r->blank_lines, 1);
	done(r);
	free(buf);
}
END_TEST

START_TEST(max_record_bytes_json_array)
{
	/* an element past the limit is rejected, and the scanner, which kept
	 * scanning it without storing it, goes on with the next */
	char *buf = malloc(20000);
	size_t o = (size_t)sprintf(buf, "[{\"a\":1},\n{\"a\":\"");
	for (int i = 0; i < 300; i++)
		o += (size_t)sprintf(buf + o, "]}[{,\\\"\\n");
	o += (size_t)sprintf(buf + o, "\", \"b\": [\n{\"c\": \"}\"}\n]},\n{\"a\":2},\n");
	memset(buf + o, '7', 3000); /* a long number */
	o += 3000;
	o += (size_t)sprintf(buf + o, ",\n{\"a\":3}]\n");
	buf[o] = '\0';
	char *cols[] = {"a", "b"};
	struct reader *r = open_json_max(FORMAT_JSON, buf, cols, 2, 1000);
	expect_row(r, 1, 2, "1", NUL);
	expect_too_large(r, 2, 1000, 1024, "{\"a\":\"]}[{,\\\"\\n]}");
	expect_row(r, 5, 2, "2", NUL);
	expect_too_large(r, 6, 1000, 1024, "7777");
	expect_row(r, 7, 2, "3", NUL);
	expect_eof(r);
	done(r);

	/* read ahead by sample_keys: rejected in its turn */
	r = open_json_max(FORMAT_JSON, buf, NULL, 0, 1000);
	struct sl_error err;
	ck_assert_msg(json_reader_sample_keys(r, 100, &err), "%s", err.msg);
	ck_assert_int_eq(r->nheader, 1);
	ck_assert_str_eq(r->header[0], "a");
	ck_assert(r->ops->set_columns(r, cols, 2, &err));
	expect_row(r, 1, 2, "1", NUL);
	expect_too_large(r, 2, 1000, 1024, "{\"a\":\"]}");
	expect_row(r, 5, 2, "2", NUL);
	expect_too_large(r, 6, 1000, 1024, "7777");
	expect_row(r, 7, 2, "3", NUL);
	expect_eof(r);
	done(r);
	free(buf);
}
END_TEST

/* Open NDJSON content with one column v, unwrapping Extended JSON unless
 * no_ejson. */
static struct reader *open_ejson(enum input_format format, const char *content, bool no_ejson)
{
	struct reader_options opt = {.format = format, .no_ejson = no_ejson};
	struct reader *r = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	write_file(content, strlen(content));
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	char *names[] = {"v"};
	ck_assert_msg(r->ops->set_columns(r, names, 1, &err), "%s", err.msg);
	return r;
}

START_TEST(ejson_wrappers_unwrapped)
{
	struct reader *r = open_ejson(
		FORMAT_NDJSON,
		"{\"v\": {\"$oid\": \"65D0A1B2C3D4E5F600000001\"}}\n"
		"{\"v\": {\"$numberLong\": \"-9223372036854775808\"}}\n"
		"{\"v\": {\"$numberLong\": \"007\"}}\n"
		"{\"v\": {\"$numberInt\": \"-2147483648\"}}\n"
		"{\"v\": {\"$numberDouble\": \"1.5\"}}\n"
		"{\"v\": {\"$numberDouble\": \"-Infinity\"}}\n"
		"{\"v\": {\"$numberDouble\": \"NaN\"}}\n"
		"{\"v\": {\"$numberDouble\": \"1e+300\"}}\n"
		"{\"v\": {\"$numberDecimal\": \"1.234567890123456789012345678901234\"}}\n"
		"{\"v\": {\"$numberDecimal\": \"1E-34\"}}\n"
		"{\"v\": {\"$binary\": {\"base64\": \"AAEC/v8A\", \"subType\": \"00\"}}}\n"
		"{\"v\": {\"$binary\": {\"subType\": \"04\", \"base64\": "
		"\"D4+tW9nLRp+hZXCGdyiVDg==\"}}}\n"
		"{\"v\": {\"$binary\": \"AP8=\", \"$type\": \"80\"}}\n"
		"{\"v\": {\"$type\": \"04\", \"$binary\": \"D4+tW9nLRp+hZXCGdyiVDg==\"}}\n"
		"{\"v\": {\"$binary\": {\"base64\": \"\", \"subType\": \"00\"}}}\n"
		"{\"v\": {\"$uuid\": \"0F8FAD5B-D9CB-469F-A165-70867728950E\"}}\n"
		"{\"v\": {\"$uuid\": \"0f8fad5bd9cb469fa16570867728950e\"}}\n"
		"{\"v\": {\"$timestamp\": {\"t\": 1700000000, \"i\": 7}}}\n"
		"{\"v\": {\"$regularExpression\": {\"pattern\": \"^a\\\\d\", \"options\": "
		"\"im\"}}}\n"
		"{\"v\": {\"$minKey\": 1}}\n"
		"{\"v\": {\"$maxKey\": 1}}\n"
		"{\"v\": {\"$symbol\": \"sym\"}}\n"
		"{\"v\": {\"$code\": \"f(\\\"x\\\")\"}}\n"
		"{\"v\": {\"$undefined\": true}}\n",
		false);
	const char *want[] = {"65d0a1b2c3d4e5f600000001",
			      "-9223372036854775808",
			      "7",
			      "-2147483648",
			      "1.5",
			      "-Infinity",
			      "NaN",
			      "1e+300",
			      "1.234567890123456789012345678901234",
			      "1E-34",
			      "\\x000102feff00",
			      "0f8fad5b-d9cb-469f-a165-70867728950e",
			      "\\x00ff",
			      "0f8fad5b-d9cb-469f-a165-70867728950e",
			      "\\x",
			      "0f8fad5b-d9cb-469f-a165-70867728950e",
			      "0f8fad5b-d9cb-469f-a165-70867728950e",
			      "2023-11-14T22:13:20.000Z",
			      "/^a\\d/im",
			      "MinKey",
			      "MaxKey",
			      "sym",
			      "f(\"x\")",
			      NUL};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		expect_row(r, (long)i + 1, 1, want[i]);
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ejson_dates)
{
	struct reader *r =
		open_ejson(FORMAT_NDJSON,
			   "{\"v\": {\"$date\": {\"$numberLong\": \"0\"}}}\n"
			   "{\"v\": {\"$date\": {\"$numberLong\": \"-1\"}}}\n"
			   "{\"v\": {\"$date\": {\"$numberLong\": \"-315619200000\"}}}\n"
			   "{\"v\": {\"$date\": {\"$numberLong\": \"253402300799999\"}}}\n"
			   "{\"v\": {\"$date\": {\"$numberLong\": \"253402300800000\"}}}\n"
			   "{\"v\": {\"$date\": {\"$numberLong\": \"-62135596800000\"}}}\n"
			   "{\"v\": {\"$date\": {\"$numberLong\": \"-62135596800001\"}}}\n"
			   "{\"v\": {\"$date\": \"2024-02-29T12:34:56.789Z\"}}\n"
			   "{\"v\": {\"$date\": \"2024-01-01T00:00:00Z\"}}\n"
			   "{\"v\": {\"$date\": \"2024-01-01T01:00:00.5+01:00\"}}\n"
			   "{\"v\": {\"$date\": \"2024-01-01T00:00:00.123456Z\"}}\n"
			   "{\"v\": {\"$date\": \"2024-01-01T00:00:00\"}}\n"
			   "{\"v\": {\"$date\": 1000}}\n"
			   "{\"v\": {\"$date\": {\"$numberLong\": \"-9223372036854775808\"}}}\n",
			   false);
	expect_row(r, 1, 1, "1970-01-01T00:00:00.000Z");
	expect_row(r, 2, 1, "1969-12-31T23:59:59.999Z");
	expect_row(r, 3, 1, "1960-01-01T00:00:00.000Z");
	expect_row(r, 4, 1, "9999-12-31T23:59:59.999Z");
	expect_row(r, 5, 1, "10000-01-01T00:00:00.000Z");
	expect_row(r, 6, 1, "0001-01-01T00:00:00.000Z");
	expect_row(r, 7, 1, "0001-12-31T23:59:59.999Z BC");
	expect_row(r, 8, 1, "2024-02-29T12:34:56.789Z");
	expect_row(r, 9, 1, "2024-01-01T00:00:00.000Z");
	expect_row(r, 10, 1, "2024-01-01T00:00:00.500Z");
	expect_row(r, 11, 1, "2024-01-01T00:00:00.123456Z");
	expect_row(r, 12, 1, "2024-01-01T00:00:00.000Z"); /* no zone: UTC */
	expect_row(r, 13, 1, "1970-01-01T00:00:01.000Z");
	expect_row(r, 14, 1, "292275056-05-16T16:47:04.192Z BC"); /* -292275055 */
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ejson_nested_relaxed)
{
	struct reader *r = open_ejson(
		FORMAT_NDJSON,
		"{\"v\": {\"d\": {\"$date\": {\"$numberLong\": \"1000000000000\"}}, \"l\": "
		"{\"$numberLong\": \"5\"},"
		" \"i\": {\"$numberInt\": \"007\"}, \"f\": {\"$numberDouble\": \"NaN\"},"
		" \"g\": {\"$numberDouble\": \"-2.5e-3\"}, \"dec\": {\"$numberDecimal\": \"0.10\"},"
		" \"inf\": {\"$numberDecimal\": \"Infinity\"}, \"o\": {\"$oid\": "
		"\"65d0a1b2c3d4e5f600000063\"},"
		" \"u\": {\"$uuid\": \"0f8fad5b-d9cb-469f-a165-70867728950e\"},"
		" \"u4\": {\"$binary\": {\"base64\": \"D4+tW9nLRp+hZXCGdyiVDg==\", \"subType\": "
		"\"04\"}},"
		" \"b\": {\"$binary\": {\"base64\": \"AP8=\", \"subType\": \"00\"}},"
		" \"ts\": {\"$timestamp\": {\"t\": 1, \"i\": 2}},"
		" \"re\": {\"$regularExpression\": {\"pattern\": \"p\", \"options\": \"\"}},"
		" \"mk\": {\"$minKey\": 1}, \"un\": {\"$undefined\": true}, \"c\": {\"$code\": "
		"\"x\"},"
		" \"arr\": [{\"$numberInt\": \"1\"}, [{\"$date\": \"2024-01-01T00:00:00Z\"}]],"
		" \"plain\": {\"$foo\": 1, \"x\": [true, null, \"\\u0000\"]}}}\n"
		"{\"v\": [{\"$oid\": \"65d0a1b2c3d4e5f600000063\"}, {\"$numberLong\": \"1\"}]}\n",
		false);
	expect_row(
		r, 1, 1,
		"{\"d\":\"2001-09-09T01:46:40.000Z\",\"l\":5,\"i\":7,\"f\":\"NaN\",\"g\":-2.5e-3,"
		"\"dec\":0.10,\"inf\":\"Infinity\",\"o\":\"65d0a1b2c3d4e5f600000063\","
		"\"u\":\"0f8fad5b-d9cb-469f-a165-70867728950e\","
		"\"u4\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"b\":\"AP8=\","
		"\"ts\":\"1970-01-01T00:00:01.000Z\",\"re\":\"/p/\",\"mk\":\"MinKey\",\"un\":null,"
		"\"c\":\"x\",\"arr\":[1,[\"2024-01-01T00:00:00.000Z\"]],"
		"\"plain\":{\"$foo\":1,\"x\":[true,null,\"\\u0000\"]}}");
	expect_row(r, 2, 1, "[\"65d0a1b2c3d4e5f600000063\",1]");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ejson_only_exact_wrappers)
{
	/* keys that are not exactly a wrapper's: the object as it is */
	struct reader *r = open_ejson(
		FORMAT_NDJSON,
		"{\"v\": {\"$oid\": \"65d0a1b2c3d4e5f600000063\", \"x\": 1}}\n"
		"{\"v\": {\"$foo\": 1}}\n"
		"{\"v\": {\"$code\": \"f()\", \"$scope\": {\"a\": {\"$numberInt\": \"1\"}}}}\n"
		"{\"v\": {\"x\": {\"$date\": \"2024-01-01T00:00:00Z\", \"$numberLong\": \"1\"}}}\n"
		"{\"v\": {\"$type\": \"04\"}}\n"
		"{\"v\": {\"$code\": \"a\\u0000b\"}}\n",
		false);
	expect_row(r, 1, 1, "{\"$oid\":\"65d0a1b2c3d4e5f600000063\",\"x\":1}");
	expect_row(r, 2, 1, "{\"$foo\":1}");
	/* not a wrapper itself, but one inside it becomes relaxed */
	expect_row(r, 3, 1, "{\"$code\":\"f()\",\"$scope\":{\"a\":1}}");
	expect_row(r, 4, 1, "{\"x\":{\"$date\":\"2024-01-01T00:00:00Z\",\"$numberLong\":\"1\"}}");
	expect_row(r, 5, 1, "{\"$type\":\"04\"}");
	struct record rec;
	struct sl_error err;
	sl_error_clear(&err);
	ck_assert_int_eq(r->ops->next(r, &rec, &err), READ_OK);
	ck_assert_uint_eq(rec.fields[0].len, 3);
	ck_assert_mem_eq(rec.fields[0].ptr, "a\0b", 3);
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ejson_invalid_wrapper_rejects)
{
	struct reader *r = open_ejson(
		FORMAT_NDJSON,
		"{\"v\": {\"$oid\": \"xyz\"}}\n"
		"{\"v\": {\"$numberLong\": \"9223372036854775808\"}}\n"
		"{\"v\": {\"$numberInt\": \"2147483648\"}}\n"
		"{\"v\": {\"$numberDouble\": \"1.\"}}\n"
		"{\"v\": {\"$numberDecimal\": \"abc\"}}\n"
		"{\"v\": {\"$date\": \"yesterday\"}}\n"
		"{\"v\": {\"$binary\": {\"base64\": \"A\", \"subType\": \"00\"}}}\n"
		"{\"v\": {\"$binary\": {\"base64\": \"AA==\", \"subType\": \"00\", \"x\": 1}}}\n"
		"{\"v\": {\"$uuid\": \"0f8fad5b-d9cb-469f-a165-70867728950\"}}\n"
		"{\"v\": {\"$timestamp\": {\"t\": -1, \"i\": 0}}}\n"
		"{\"v\": {\"a\": [{\"$minKey\": 2}]}}\n"
		"{\"v\": {\"$binary\": {\"base64\": \"AP8=\", \"subType\": \"4\"}}}\n"
		"{\"v\": {\"$oid\": \"65d0a1b2c3d4e5f600000063\"}}\n",
		false);
	expect_reject(r, 1, "{\"v\": {\"$oid\": \"xyz\"}}",
		      "line 1: \"v\": not valid MongoDB Extended JSON: $oid is not 24 hex digits "
		      "(--no-ejson loads it as written)");
	expect_reject(r, 2, NULL, "$numberLong is not a 64-bit integer");
	expect_reject(r, 3, NULL, "$numberInt is not a 32-bit integer");
	expect_reject(r, 4, NULL, "$numberDouble is not a number");
	expect_reject(r, 5, NULL, "$numberDecimal is not a number");
	expect_reject(r, 6, NULL, "$date is not an ISO 8601 date-time");
	expect_reject(r, 7, NULL, "$binary is not base64");
	expect_reject(r, 8, NULL, "$binary is not {\"base64\"");
	expect_reject(r, 9, NULL, "$uuid is not a UUID");
	expect_reject(r, 10, NULL, "$timestamp is not");
	expect_reject(r, 11, NULL, "$minKey is not 1");
	/* subtype 4 is a UUID: two bytes are none */
	expect_reject(r, 12, NULL, "subtype 4 is a UUID, and this one is not 16 bytes");
	expect_row(r, 13, 1, "65d0a1b2c3d4e5f600000063");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ejson_off_keeps_wrappers)
{
	struct reader *r = open_ejson(FORMAT_NDJSON,
				      "{\"v\": {\"$oid\": \"65d0a1b2c3d4e5f600000063\"}}\n"
				      "{\"v\": {\"d\": {\"$date\": {\"$numberLong\": \"0\"}}}}\n"
				      "{\"v\": {\"$oid\": \"xyz\"}}\n",
				      true);
	expect_row(r, 1, 1, "{\"$oid\":\"65d0a1b2c3d4e5f600000063\"}");
	expect_row(r, 2, 1, "{\"d\":{\"$date\":{\"$numberLong\":\"0\"}}}");
	expect_row(r, 3, 1, "{\"$oid\":\"xyz\"}");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ejson_json_array_and_sampling)
{
	/* mongoexport --jsonArray; --create samples the keys first */
	struct reader_options opt = {.format = FORMAT_JSON};
	struct reader *r = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	const char *content = "[{\"_id\": {\"$oid\": \"65d0a1b2c3d4e5f600000001\"}, \"n\": 5},\n"
			      "{\"_id\": {\"$oid\": \"65d0a1b2c3d4e5f600000002\"}, \"n\": "
			      "{\"$numberLong\": \"6\"},"
			      " \"at\": {\"$date\": \"1969-07-20T20:17:40Z\"}}]\n";
	write_file(content, strlen(content));
	ck_assert_msg(reader_open(&r, path, &opt, &err), "%s", err.msg);
	ck_assert(json_reader_sample_keys(r, 10, &err));
	ck_assert_int_eq(r->nheader, 3);
	ck_assert_str_eq(r->header[0], "_id");
	ck_assert_str_eq(r->header[2], "at");
	ck_assert(r->ops->set_columns(r, r->header, r->nheader, &err));
	expect_row(r, 1, 3, "65d0a1b2c3d4e5f600000001", "5", NUL);
	expect_row(r, 2, 3, "65d0a1b2c3d4e5f600000002", "6", "1969-07-20T20:17:40.000Z");
	expect_eof(r);
	done(r);
}
END_TEST

START_TEST(ejson_too_deep_rejects)
{
	/* a wrapper deeper than yajl_gen writes: rejected, never left as written */
	char doc[2048] = "{\"v\":";
	for (int i = 0; i < 200; i++)
		strcat(doc, "[");
	strcat(doc, "{\"$numberLong\":\"1\"}");
	for (int i = 0; i < 200; i++)
		strcat(doc, "]");
	strcat(doc, "}\n");
	struct reader *r = open_ejson(FORMAT_NDJSON, doc, false);
	expect_reject(r, 1, NULL, "nested too deep to rewrite its wrappers");
	expect_eof(r);
	done(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json_reader");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ndjson_keys_by_name);
	tcase_add_test(tc, exact_numbers_and_literals);
	tcase_add_test(tc, nested_values_as_json_text);
	tcase_add_test(tc, deeply_nested_kept_as_written);
	tcase_add_test(tc, missing_and_unknown_keys);
	tcase_add_test(tc, ndjson_bad_lines_continue);
	tcase_add_test(tc, array_elements_and_lines);
	tcase_add_test(tc, array_unknown_key_rejects_one);
	tcase_add_test(tc, array_truncated_fails_after_earlier_records);
	tcase_add_test(tc, array_syntax_errors_fail);
	tcase_add_test(tc, object_stream_in_json_file);
	tcase_add_test(tc, gzip_detected_by_content);
	tcase_add_test(tc, long_inputs_many_chunks);
	tcase_add_test(tc, sample_keys_then_read);
	tcase_add_test(tc, unpaired_surrogate_rejected);
	tcase_add_test(tc, lone_high_surrogate_rejected);
	tcase_add_test(tc, ndjson_blank_lines_counted);
	tcase_add_test(tc, max_record_bytes_ndjson);
	tcase_add_test(tc, max_record_bytes_json_array);
	tcase_add_test(tc, ejson_wrappers_unwrapped);
	tcase_add_test(tc, ejson_dates);
	tcase_add_test(tc, ejson_nested_relaxed);
	tcase_add_test(tc, ejson_only_exact_wrappers);
	tcase_add_test(tc, ejson_invalid_wrapper_rejects);
	tcase_add_test(tc, ejson_off_keeps_wrappers);
	tcase_add_test(tc, ejson_json_array_and_sampling);
	tcase_add_test(tc, ejson_too_deep_rejects);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
