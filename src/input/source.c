/* src/input/source.c
 * Byte sources with transparent gzip (see include/sluice/source.h), known by
 * their magic bytes. Reads hand over what the file or pipe has at once
 * (plain data by read(2), gzip through inflate), so a slow producer's
 * records are written as they come.
 */
#include "sluice/source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/signals.h"

#define PEEK_MAX 4096
#define IN_SIZE (256 * 1024)

struct source {
	int fd;
	char *name;
	int64_t size;
	bool gzip;
	/* bytes read from fd and not yet used: in[in_off, in_len) */
	unsigned char *in;
	size_t in_off, in_len;
	bool eof;	   /* fd is at its end */
	uint64_t consumed; /* bytes of the file used, for progress */
	/* gzip: each member inflated in turn (inflateInit2 done when gzip) */
	z_stream zs;
	bool in_member, done;
	/* bytes read ahead by source_peek, served before further reads */
	unsigned char peek[PEEK_MAX];
	size_t peek_len;
	size_t peek_off;
	char identity[64]; /* source_identify's, or "" */
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

/* Wait until a pipe (not a regular file: s->size < 0) has bytes or its end,
 * or a signal comes: a producer that is slow or silent does not hold sluice
 * past SIGINT. False with err at a signal. */
static bool wait_input(struct source *s, struct sl_error *err)
{
	struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
			      {.fd = signals_fd(), .events = POLLIN}};
	while (s->size < 0 && p[1].fd >= 0) {
		if (signals_caught())
			return sl_error_set(err, SL_ERR_INTERRUPTED,
					    "reading %s: interrupted by %s", s->name,
					    signals_name());
		int rc = poll(p, 2, -1);
		if ((rc > 0 && p[0].revents) || (rc < 0 && errno != EINTR))
			return true; /* read(2) tells the rest */
	}
	return true;
}

/* Read once from fd into in (after what is there): as much as is
 * available, at least a byte unless at the end. A slow pipe hands over what
 * it has, so its records are written without waiting for a full buffer. */
static bool fill_once(struct source *s, struct sl_error *err)
{
	if (s->in_off > 0) {
		memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
		s->in_len -= s->in_off;
		s->in_off = 0;
	}
	if (s->eof || s->in_len == IN_SIZE)
		return true;
	if (!wait_input(s, err))
		return false;
	ssize_t r;
	do
		r = read(s->fd, s->in + s->in_len, IN_SIZE - s->in_len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sl_error_set(err, SL_ERR_INPUT, "reading %s: %s", s->name, strerror(errno));
	if (r == 0)
		s->eof = true;
	s->in_len += (size_t)r;
	return true;
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
	s->in = malloc(IN_SIZE);
	if (!s->name || !s->in) {
		source_close(s);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	/* gzip by its magic bytes, read as they come (two are enough) */
	while (s->in_len < 2 && !s->eof)
		if (!fill_once(s, err)) {
			source_close(s);
			return false;
		}
	s->gzip = s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
	if (s->gzip && inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
		s->gzip = false;
		source_close(s);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	*out = s;
	return true;
}

bool source_identify(struct source *s, char *out, size_t n, struct sl_error *err)
{
	/* nothing is used yet: in[] holds the stream from its first byte */
	while (s->in_len < PEEK_MAX && !s->eof)
		if (!fill_once(s, err))
			return false;
	size_t k = s->in_len < PEEK_MAX ? s->in_len : PEEK_MAX;
	unsigned long long h = 1469598103934665603ULL;
	for (size_t i = 0; i < k; i++)
		h = (h ^ s->in[i]) * 1099511628211ULL;
	snprintf(s->identity, sizeof s->identity, "stream:%zu:%016llx", k, h);
	snprintf(out, n, "%s", s->identity);
	return true;
}

const char *source_identity(const struct source *s)
{
	return s->identity;
}

/* Up to n bytes of a plain source: what was read ahead, else one read. */
static ssize_t plain_read(struct source *s, void *buf, size_t n, struct sl_error *err)
{
	if (s->in_off < s->in_len) {
		size_t k = s->in_len - s->in_off < n ? s->in_len - s->in_off : n;
		memcpy(buf, s->in + s->in_off, k);
		s->in_off += k;
		s->consumed += k;
		return (ssize_t)k;
	}
	if (s->eof)
		return 0;
	if (!wait_input(s, err))
		return -1;
	ssize_t r;
	do
		r = read(s->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		sl_error_set(err, SL_ERR_INPUT, "reading %s: %s", s->name, strerror(errno));
		return -1;
	}
	if (r == 0)
		s->eof = true;
	s->consumed += (uint64_t)r;
	return r;
}

/* Up to n inflated bytes, as soon as some are there. Members follow each
 * other; what follows a member that is not another one (two bytes 1f 8b) is
 * trailing garbage, ignored as zlib's gzread ignores it (source_verify reads
 * the same way); a member cut short is an error. */
static ssize_t gzip_read(struct source *s, void *buf, size_t n, struct sl_error *err)
{
	while (!s->done) {
		if (!s->in_member) {
			while (s->in_len - s->in_off < 2 && !s->eof)
				if (!fill_once(s, err))
					return -1;
			const unsigned char *p = s->in + s->in_off;
			if (s->in_len - s->in_off < 2 || p[0] != 0x1f || p[1] != 0x8b) {
				s->done = true;
				break;
			}
			inflateReset(&s->zs);
			s->in_member = true;
		}
		if (s->in_off == s->in_len) {
			if (s->eof) {
				sl_error_set(err, SL_ERR_INPUT,
					     "%s: truncated gzip data (unexpected end of file)",
					     s->name);
				return -1;
			}
			if (!fill_once(s, err))
				return -1;
			continue;
		}
		s->zs.next_in = s->in + s->in_off;
		s->zs.avail_in = (uInt)(s->in_len - s->in_off);
		s->zs.next_out = buf;
		s->zs.avail_out = n > UINT_MAX ? UINT_MAX : (uInt)n;
		uInt out_before = s->zs.avail_out;
		int ret = inflate(&s->zs, Z_NO_FLUSH);
		size_t used = (size_t)(s->zs.next_in - (s->in + s->in_off));
		s->in_off += used;
		s->consumed += used;
		size_t made = out_before - s->zs.avail_out;
		if (ret == Z_STREAM_END) {
			s->in_member = false;
		} else if (ret == Z_MEM_ERROR) {
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			return -1;
		} else if (ret != Z_OK && ret != Z_BUF_ERROR) {
			sl_error_set(err, SL_ERR_INPUT, "%s: corrupt gzip data (%s)", s->name,
				     s->zs.msg ? s->zs.msg : "compressed data error");
			return -1;
		}
		if (made > 0)
			return (ssize_t)made;
	}
	return 0;
}

static ssize_t raw_read(struct source *s, void *buf, size_t n, struct sl_error *err)
{
	if (n > (1u << 30))
		n = 1u << 30;
	return s->gzip ? gzip_read(s, buf, n, err) : plain_read(s, buf, n, err);
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
	return s->consumed;
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
	if (s->gzip)
		inflateEnd(&s->zs);
	if (s->fd >= 0)
		close(s->fd);
	free(s->in);
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
