/* src/input/reader.c
 * Opening a reader: format detection by extension, then by content, and the
 * dispatch to the format's reader_ops.
 */
#include "sluice/reader.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

/* The input formats: a new format is one file behind struct reader_ops and
 * a line here (its names, the extensions that name it, its reader). */
static const struct format_entry {
	enum input_format format;
	const char *names[3];	   /* the --format names; the first is its own */
	const char *extensions[3]; /* before any .gz */
	const struct reader_ops *ops;
} formats[] = {
	{FORMAT_CSV, {"csv"}, {".csv"}, &csv_reader_ops},
	{FORMAT_TSV, {"tsv"}, {".tsv", ".tab"}, &csv_reader_ops},
	{FORMAT_NDJSON, {"ndjson", "jsonl"}, {".ndjson", ".jsonl"}, &json_reader_ops},
	{FORMAT_JSON, {"json"}, {".json"}, &json_reader_ops},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

static const struct format_entry *format_entry(enum input_format f)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].format == f)
			return &formats[i];
	return NULL;
}

enum input_format reader_format_from_name(const char *path)
{
	char name[4096];
	size_t n = strlen(path);
	if (n >= sizeof name)
		return FORMAT_AUTO;
	memcpy(name, path, n + 1);
	if (ends_with(name, ".gz"))
		name[n - 3] = '\0';
	for (size_t i = 0; i < NFORMATS; i++)
		for (size_t k = 0; k < 3 && formats[i].extensions[k]; k++)
			if (ends_with(name, formats[i].extensions[k]))
				return formats[i].format;
	return FORMAT_AUTO;
}

enum input_format reader_format_parse(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		for (size_t k = 0; k < 3 && formats[i].names[k]; k++)
			if (!strcasecmp(name, formats[i].names[k]))
				return formats[i].format;
	return FORMAT_AUTO;
}

const char *reader_format_name(enum input_format f)
{
	const struct format_entry *e = format_entry(f);
	return e ? e->names[0] : "auto";
}

/* Guess from the first bytes: '[' a JSON array, '{' NDJSON, else CSV. */
static enum input_format format_from_content(struct source *src, struct sl_error *err)
{
	const void *data;
	ssize_t n = source_peek(src, &data, 4096, err);
	if (n < 0)
		return FORMAT_AUTO;
	const unsigned char *p = data;
	ssize_t i = 0;
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < n && p[i] == '[')
		return FORMAT_JSON;
	if (i < n && p[i] == '{')
		return FORMAT_NDJSON;
	return FORMAT_CSV;
}

bool reader_open(struct reader **out, const char *path, const struct reader_options *opt,
		 struct sl_error *err)
{
	struct reader *r = calloc(1, sizeof *r);
	if (!r)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	char id[64];
	if (!source_open(&r->src, path, err)) {
		free(r);
		return false;
	}
	if (opt->identify_stream && !strcmp(path, "-") &&
	    !source_identify(r->src, id, sizeof id, err)) {
		source_close(r->src);
		free(r);
		return false;
	}
	r->format = opt->format;
	if (r->format == FORMAT_AUTO)
		r->format = reader_format_from_name(path);
	if (r->format == FORMAT_AUTO) {
		r->format = format_from_content(r->src, err);
		if (r->format == FORMAT_AUTO) {
			source_close(r->src);
			free(r);
			return false;
		}
	}
	r->ops = format_entry(r->format)->ops;
	if (!r->ops->open(r, opt, err)) {
		sl_error_prefix(err, "%s", source_name(r->src));
		reader_close(r);
		return false;
	}
	*out = r;
	return true;
}

unsigned long long reader_position(struct reader *r)
{
	if (r->src)
		return source_position(r->src);
	return r->ops && r->ops->position ? r->ops->position(r) : 0;
}

void reader_close(struct reader *r)
{
	if (!r)
		return;
	if (r->ops && r->impl)
		r->ops->close(r);
	for (int i = 0; i < r->nheader; i++)
		free(r->header[i]);
	free(r->header);
	source_close(r->src);
	free(r);
}

int nest_path_parent(char *const *paths, int n, int i)
{
	const char *dot = strrchr(paths[i], '.');
	if (!dot)
		return -1;
	size_t len = (size_t)(dot - paths[i]);
	for (int k = 0; k < i && k < n; k++)
		if (strlen(paths[k]) == len && !memcmp(paths[k], paths[i], len))
			return k;
	return -2;
}

const char *nest_path_field(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? dot + 1 : path;
}

bool utf8_valid(const char *s, size_t n, size_t *bad_at)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		/* fast path over ASCII, eight bytes at a time */
		while (i + 8 <= n) {
			unsigned long long w;
			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		unsigned cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (i + len > n)
			goto bad;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			goto bad;
		i += len;
	}
	return true;
bad:
	if (bad_at)
		*bad_at = i;
	return false;
}
