/* tests/fuzz/fuzz_csv.c
 * libFuzzer target for the CSV/TSV reader (src/input/csv.c) and what sits under
 * it (source.c: gzip detection, peeking; reader.c: format detection, UTF-8).
 * Each input is read under several option sets, as `sluice load` would.
 */
#include "fuzz_common.h"

static char *const three[] = {"a", "b", "c"};
static char *const two[] = {"x", "y"};

struct csv_case {
	struct reader_options opt;
	char *const *cols; /* set_columns with these; NULL: the header's names */
	int ncols;
};

static void run_case(const struct csv_case *c, size_t size)
{
	struct reader *r = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	if (!reader_open(&r, fuzz_path, &c->opt, &err)) {
		FUZZ_CHECK(err.msg[0] != '\0', "reader_open failed without a message");
		return;
	}
	struct fuzz_expect want = {.nfields = -1, .utf8 = true};
	if (r->format != FORMAT_CSV && r->format != FORMAT_TSV) {
		/* FORMAT_AUTO found JSON: read it with target columns, as load does */
		if (!r->ops->set_columns(r, three, 3, &err)) {
			reader_close(r);
			return;
		}
		want.nfields = 3;
		want.sticky_fail = true;
	} else if (c->cols) {
		if (!r->ops->set_columns(r, c->cols, c->ncols, &err)) {
			/* the header disagrees with the names: load stops here too */
			FUZZ_CHECK(!c->opt.no_header,
				   "set_columns refused %d names without a header", c->ncols);
			reader_close(r);
			return;
		}
		want.nfields = c->ncols;
	} else if (r->header) {
		FUZZ_CHECK(r->nheader > 0, "a header with no names");
		for (int i = 0; i < r->nheader; i++)
			FUZZ_CHECK(r->header[i] && r->header[i][0], "header name %d empty", i + 1);
		FUZZ_CHECK(r->ops->set_columns(r, r->header, r->nheader, &err),
			   "set_columns refused the header's own names: %s", err.msg);
		want.nfields = r->nheader;
	}
	fuzz_drain(r, want, 2 * size + 16);
	reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct csv_case cases[] = {
		/* the defaults: a header names the columns */
		{.opt = {.format = FORMAT_CSV}},
		/* no header, three named columns */
		{.opt = {.format = FORMAT_CSV, .no_header = true}, .cols = three, .ncols = 3},
		/* no header, no names: the first record sets the count */
		{.opt = {.format = FORMAT_CSV, .no_header = true}},
		/* TSV with a backslash escape and a NULL marker */
		{.opt = {.format = FORMAT_TSV, .escape = '\\', .null_marker = "\\N"}},
		/* other delimiter and quote, Latin-1 input */
		{.opt = {.format = FORMAT_CSV,
			 .no_header = true,
			 .delimiter = ';',
			 .quote = '\'',
			 .escape = '\\',
			 .encoding = ENCODING_LATIN1,
			 .null_marker = ""},
		 .cols = two,
		 .ncols = 2},
		/* detection by content (the path has no extension) */
		{.opt = {.format = FORMAT_AUTO}},
	};
	fuzz_set_input(data, size);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i], size);
	return 0;
}
