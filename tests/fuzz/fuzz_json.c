/* tests/fuzz/fuzz_json.c
 * libFuzzer target for the NDJSON and JSON-array reader (src/input/json.c):
 * the unit scanner, YAJL callbacks, nested values re-generated as text, key
 * sampling for --create. Each input is read under several option sets.
 */
#include "fuzz_common.h"

static char *const abc[] = {"a", "b", "c"};
static char *const named[] = {"id", "name", "tags", ""};

struct json_case {
	struct reader_options opt;
	char *const *cols; /* set_columns with these; NULL: sample the keys first */
	int ncols;
	size_t sample; /* records json_reader_sample_keys reads ahead */
};

static void run_case(const struct json_case *c, size_t size)
{
	struct reader *r = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	if (!reader_open(&r, fuzz_path, &c->opt, &err)) {
		FUZZ_CHECK(err.msg[0] != '\0', "reader_open failed without a message");
		return;
	}
	struct fuzz_expect want = {.nfields = -1, .utf8 = true, .sticky_fail = true};
	char *const *cols = c->cols;
	int ncols = c->ncols;
	if (r->format == FORMAT_CSV || r->format == FORMAT_TSV) {
		cols = NULL; /* FORMAT_AUTO found CSV: its header names the columns */
		want.sticky_fail = false;
		ncols = r->nheader;
		if (r->header)
			cols = r->header;
	} else if (!cols) {
		if (!json_reader_sample_keys(r, c->sample, &err)) {
			reader_close(r);
			return;
		}
		FUZZ_CHECK(r->nheader >= 0, "negative key count");
		for (int i = 0; i < r->nheader; i++)
			FUZZ_CHECK(r->header[i] != NULL, "key %d is NULL", i + 1);
		cols = r->nheader ? r->header : abc;
		ncols = r->nheader ? r->nheader : 3;
	}
	if (cols) {
		if (!r->ops->set_columns(r, cols, ncols, &err)) {
			reader_close(r);
			return;
		}
		want.nfields = ncols;
	}
	fuzz_drain(r, want, 2 * size + 16);
	reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct json_case cases[] = {
		{.opt = {.format = FORMAT_NDJSON}, .cols = abc, .ncols = 3},
		{.opt = {.format = FORMAT_NDJSON, .ignore_unknown = true},
		 .cols = named,
		 .ncols = 4},
		{.opt = {.format = FORMAT_JSON}, .cols = abc, .ncols = 3},
		{.opt = {.format = FORMAT_JSON, .ignore_unknown = true}, .cols = named, .ncols = 4},
		/* --create: keys sampled from the first records become the columns */
		{.opt = {.format = FORMAT_JSON}, .sample = 3},
		{.opt = {.format = FORMAT_NDJSON, .missing_as_default = true}, .sample = 2},
		{.opt = {.format = FORMAT_AUTO, .ignore_unknown = true}, .sample = 1000},
	};
	fuzz_set_input(data, size);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i], size);
	return 0;
}
