/* src/input/source.c
 * Byte sources with transparent gzip (see include/sluice/source.h). zlib's
 * gzread passes plain data through unchanged, so detection is by magic bytes.
 */
#include "sluice/source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Whether a file of this type can be read as a stream of bytes, once: a
 * regular file, a pipe or FIFO (stdin, <(zcat ...)), a character device
 * (/dev/stdin on a terminal). A directory opens fine and fails only at the
 * first read, so it is refused here with the error read(2) would give;
 * block devices and sockets are refused too, except that stdin may be a
 * socket (inetd, some process managers). False with err (SL_ERR_USAGE)
 * naming the file. */
static bool check_type(const struct stat *st, const char *name, bool is_stdin, struct sl_error *err)
{
	mode_t m = st->st_mode;
	if (S_ISDIR(m))
		return sl_error_set(err, SL_ERR_USAGE, "cannot open %s: %s", name,
				    strerror(EISDIR));
	if (S_ISREG(m) || S_ISFIFO(m) || S_ISCHR(m) || (is_stdin && S_ISSOCK(m)))
		return true;
	return sl_error_set(err, SL_ERR_USAGE,
			    "cannot open %s: not a regular file, pipe or character device", name);
}

bool source_open(struct source **out, const char *path, struct sl_error *err)
{
	struct source *s = calloc(1, sizeof *s);
	if (!s)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool is_stdin = !strcmp(path, "-");
	s->fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (s->fd < 0) {
		/* a socket fails with ENXIO: say what it is instead, as
		 * source_verify does */
		int e = errno;
		if (is_stdin || stat(path, &st) != 0 || check_type(&st, path, false, err))
			sl_error_set(err, SL_ERR_USAGE, "cannot open %s: %s",
				     is_stdin ? "stdin" : path, strerror(e));
		free(s);
		return false;
	}
	if (fstat(s->fd, &st) != 0) {
		sl_error_set(err, SL_ERR_USAGE, "cannot open %s: %s", is_stdin ? "stdin" : path,
			     strerror(errno));
		close(s->fd);
		free(s);
		return false;
	}
	if (!check_type(&st, is_stdin ? "stdin" : path, is_stdin, err)) {
		close(s->fd);
		free(s);
		return false;
	}
	s->size = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
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

#define VERIFY_IN (256 * 1024)
#define VERIFY_OUT (1024 * 1024)

/* Refill buf after moving its unread bytes (*next, *have) to the front,
 * reading until it is full or the file ends, as zlib's gz_avail does: then
 * "fewer than two bytes left" means the end of the file, nothing else.
 * False with errno set on a read error. */
static bool verify_fill(int fd, unsigned char *buf, unsigned char **next, size_t *have, bool *eof)
{
	if (*have && *next != buf)
		memmove(buf, *next, *have);
	*next = buf;
	while (!*eof && *have < VERIFY_IN) {
		ssize_t r = read(fd, buf + *have, VERIFY_IN - *have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return false;
		if (r == 0)
			*eof = true;
		*have += (size_t)r;
	}
	return true;
}

/* Inflate every gzip member of the open file fd, output discarded, so that
 * inflate checks each member's CRC-32 and length trailer. What follows a
 * member is read as gzread reads it (zlib's gz_look): the end of the file,
 * or two bytes 1f 8b that start another member, or anything else, which is
 * trailing garbage that gzread ignores and so is ignored here too; a file
 * verifies exactly when reading it through source_read ends without error. */
static bool verify_gzip(int fd, const char *path, struct sl_error *err)
{
	unsigned char *in = malloc(VERIFY_IN), *out = malloc(VERIFY_OUT);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (!in || !out || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(in);
		free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	unsigned char *next = in;
	size_t have = 0;
	bool eof = false, in_member = false, ok = true;
	for (;;) {
		if (have < 2 && !eof && !verify_fill(fd, in, &next, &have, &eof)) {
			ok = sl_error_set(err, SL_ERR_INPUT, "reading %s: %s", path,
					  strerror(errno));
			break;
		}
		if (!in_member) {
			/* between members: another one, or the end */
			if (have < 2 || next[0] != 0x1f || next[1] != 0x8b)
				break;
			inflateReset(&zs);
			in_member = true;
		}
		if (have == 0) {
			ok = sl_error_set(err, SL_ERR_INPUT,
					  "%s: truncated gzip data (unexpected end of file)", path);
			break;
		}
		zs.next_in = next;
		zs.avail_in = have > UINT_MAX ? UINT_MAX : (uInt)have;
		zs.next_out = out;
		zs.avail_out = VERIFY_OUT;
		int ret = inflate(&zs, Z_NO_FLUSH);
		have -= (size_t)(zs.next_in - next);
		next = zs.next_in;
		if (ret == Z_STREAM_END) {
			in_member = false;
		} else if (ret == Z_MEM_ERROR) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		} else if (ret != Z_OK && ret != Z_BUF_ERROR) {
			ok = sl_error_set(err, SL_ERR_INPUT, "%s: corrupt gzip data (%s)", path,
					  zs.msg ? zs.msg : "compressed data error");
			break;
		}
		/* inflate stops with input left only when the output is full;
		 * otherwise all of it was used and the loop reads more */
		if (have == 0 && !eof && !verify_fill(fd, in, &next, &have, &eof)) {
			ok = sl_error_set(err, SL_ERR_INPUT, "reading %s: %s", path,
					  strerror(errno));
			break;
		}
	}
	inflateEnd(&zs);
	free(in);
	free(out);
	return ok;
}

/* Gzip files get one full decompression pass; plain files, pipes, FIFOs and
 * character devices are not read (a pipe cannot be read twice, and a plain
 * file has nothing to check). A file that source_open would refuse (missing,
 * unreadable, a directory) is refused here with the same SL_ERR_USAGE
 * message, so that every input is known good before anything is written. */
bool source_verify(const char *path, struct sl_error *err)
{
	if (!strcmp(path, "-"))
		return true;
	struct stat st;
	if (stat(path, &st) != 0)
		return sl_error_set(err, SL_ERR_USAGE, "cannot open %s: %s", path, strerror(errno));
	if (!check_type(&st, path, false, err))
		return false;
	if (!S_ISREG(st.st_mode))
		return true;
	/* O_NONBLOCK: should path become a FIFO after the stat, opening it
	 * must not wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return sl_error_set(err, SL_ERR_USAGE, "cannot open %s: %s", path, strerror(errno));
	bool ok = true;
	unsigned char magic[2];
	ssize_t r;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto done; /* no longer a regular file: source_open decides */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	do
		r = pread(fd, magic, 2, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		ok = sl_error_set(err, SL_ERR_INPUT, "reading %s: %s", path, strerror(errno));
	else if (r == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		ok = verify_gzip(fd, path, err);
done:
	close(fd);
	return ok;
}
