/* src/input/source.c
 * Byte sources with transparent gzip (see include/sluice/source.h). zlib's
 * gzread passes plain data through unchanged, so detection is by magic bytes.
 */
#include "sluice/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PEEK_MAX 4096

struct source {
	gzFile gz;
	int fd;
	char *name;
	int64_t size;
	bool gzip;
	/* bytes read ahead by source_peek, served before further reads */
	unsigned char peek[PEEK_MAX];
	size_t peek_len;
	size_t peek_off;
};

bool source_open(struct source **out, const char *path, struct sl_error *err)
{
	struct source *s = calloc(1, sizeof *s);
	if (!s)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool is_stdin = !strcmp(path, "-");
	s->fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		sl_error_set(err, SL_ERR_USAGE, "cannot open %s: %s", path, strerror(errno));
		free(s);
		return false;
	}
	struct stat st;
	s->size = (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) ? (int64_t)st.st_size : -1;
	if (s->size >= 0)
		posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->name = strdup(is_stdin ? "stdin" : path);
	s->gz = gzdopen(s->fd, "rb");
	if (!s->gz || !s->name) {
		if (!s->gz)
			close(s->fd);
		else
			gzclose(s->gz);
		free(s->name);
		free(s);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	gzbuffer(s->gz, 256 * 1024);
	*out = s;
	/* read ahead so the gzip flag is known before anyone asks */
	const void *unused;
	if (source_peek(s, &unused, PEEK_MAX, err) < 0) {
		source_close(s);
		*out = NULL;
		return false;
	}
	s->gzip = !gzdirect(s->gz);
	return true;
}

static ssize_t raw_read(struct source *s, void *buf, size_t n, struct sl_error *err)
{
	if (n > (1u << 30))
		n = 1u << 30;
	int r = gzread(s->gz, buf, (unsigned)n);
	if (r < 0) {
		int zerr;
		const char *msg = gzerror(s->gz, &zerr);
		if (zerr == Z_ERRNO)
			msg = strerror(errno);
		sl_error_set(err, SL_ERR_INPUT, "reading %s: %s", s->name, msg);
		return -1;
	}
	if (r == 0) {
		/* a truncated gzip stream reads as a short end; tell it apart */
		int zerr;
		const char *msg = gzerror(s->gz, &zerr);
		if (zerr != Z_OK && zerr != Z_STREAM_END) {
			sl_error_set(err, SL_ERR_INPUT, "reading %s: %s", s->name, msg);
			return -1;
		}
	}
	return r;
}

ssize_t source_peek(struct source *s, const void **data, size_t n, struct sl_error *err)
{
	if (n > PEEK_MAX)
		n = PEEK_MAX;
	if (s->peek_off > 0 && s->peek_off < s->peek_len) {
		memmove(s->peek, s->peek + s->peek_off, s->peek_len - s->peek_off);
		s->peek_len -= s->peek_off;
		s->peek_off = 0;
	} else if (s->peek_off >= s->peek_len) {
		s->peek_len = s->peek_off = 0;
	}
	while (s->peek_len < n) {
		ssize_t r = raw_read(s, s->peek + s->peek_len, n - s->peek_len, err);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		s->peek_len += (size_t)r;
	}
	*data = s->peek;
	return (ssize_t)(s->peek_len < n ? s->peek_len : n);
}

ssize_t source_read(struct source *s, void *buf, size_t n, struct sl_error *err)
{
	if (s->peek_off < s->peek_len) {
		size_t k = s->peek_len - s->peek_off;
		if (k > n)
			k = n;
		memcpy(buf, s->peek + s->peek_off, k);
		s->peek_off += k;
		return (ssize_t)k;
	}
	return raw_read(s, buf, n, err);
}

uint64_t source_position(const struct source *s)
{
	z_off_t off = gzoffset(s->gz);
	return off < 0 ? 0 : (uint64_t)off;
}

int64_t source_size(const struct source *s)
{
	return s->size;
}

bool source_is_gzip(const struct source *s)
{
	return s->gzip;
}

const char *source_name(const struct source *s)
{
	return s->name;
}

void source_close(struct source *s)
{
	if (!s)
		return;
	gzclose(s->gz);
	free(s->name);
	free(s);
}
