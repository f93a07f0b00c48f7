/* src/output/sink.c
 * A file written whole or not at all: the bytes go to a temporary name in
 * the file's directory, gzipped on the way when asked (zlib), hashed
 * (SHA-256) as they reach the disk; commit fsyncs, renames and fsyncs the
 * directory. Every write is checked: a full disk, a short write or a
 * closed pipe is an error naming the file, never a short file.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/output.h"
#include "sluice/sha256.h"

#define SINK_CHUNK (256 * 1024)

struct sink {
	int fd;
	bool is_stdout;
	bool segment; /* sink_open_segment's: written where it is, for sink_join */
	char path[4096];
	char temp[4200];
	bool gzip;
	bool hash; /* sha is kept */
	z_stream z;
	unsigned char *zout; /* SINK_CHUNK bytes: deflate's output */
	struct sha256 sha;
	unsigned long long bytes; /* written to the file */
};

void sink_temp_name(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(out, n, "%.*s/.%s.sluice-tmp", (int)(slash - path), path, slash + 1);
	else
		snprintf(out, n, ".%s.sluice-tmp", path);
}

/* What to call the file in messages. */
static const char *sink_name(const struct sink *s)
{
	return s->is_stdout ? "stdout" : s->path;
}

/* n bytes to the file descriptor, all of them. */
static bool write_all(struct sink *s, const unsigned char *p, size_t n, struct sl_error *err)
{
	if (s->hash)
		sha256_update(&s->sha, p, n);
	while (n) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return sl_error_set(err, SL_ERR_INTERNAL, "writing %s: %s", sink_name(s),
					    w < 0 ? strerror(errno) : "nothing written");
		p += w;
		n -= (size_t)w;
		s->bytes += (unsigned long long)w;
	}
	return true;
}

/* Open a sink on path, written under its temporary name, or (segment)
 * at temp itself. */
static bool open_sink(struct sink **out, const char *path, const char *temp,
		      const struct output_options *opt, struct sl_error *err)
{
	bool gzip = opt && opt->gzip;
	int level = opt && opt->gzip_level ? opt->gzip_level : 1;
	struct sink *s = calloc(1, sizeof *s);
	if (!s)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (strlen(path) >= sizeof s->path) {
		free(s);
		return sl_error_set(err, SL_ERR_USAGE, "%.100s...: the path is too long", path);
	}
	snprintf(s->path, sizeof s->path, "%s", path);
	s->is_stdout = !temp && !strcmp(path, "-");
	s->segment = temp != NULL;
	s->hash = !opt || opt->sha256;
	sha256_init(&s->sha);
	s->gzip = gzip;
	if (gzip) {
		s->zout = malloc(SINK_CHUNK);
		/* windowBits 15 + 16: a gzip header and trailer */
		if (!s->zout || deflateInit2(&s->z, level, Z_DEFLATED, 15 + 16, 8,
					     Z_DEFAULT_STRATEGY) != Z_OK) {
			free(s->zout);
			free(s);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory (zlib)");
		}
	}
	if (s->is_stdout) {
		s->fd = STDOUT_FILENO;
	} else {
		if (temp)
			snprintf(s->temp, sizeof s->temp, "%s", temp);
		else
			sink_temp_name(path, s->temp, sizeof s->temp);
		s->fd = open(s->temp, (temp ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0666);
		if (s->fd < 0) {
			sl_error_set(err,
				     errno == ENOENT || errno == EACCES ? SL_ERR_USAGE
									: SL_ERR_INTERNAL,
				     "cannot write %s: %s", path, strerror(errno));
			if (gzip)
				deflateEnd(&s->z);
			free(s->zout);
			free(s);
			return false;
		}
	}
	*out = s;
	return true;
}

bool sink_open(struct sink **out, const char *path, const struct output_options *opt,
	       struct sl_error *err)
{
	return open_sink(out, path, NULL, opt, err);
}

bool sink_open_segment(struct sink **out, const char *path, const char *temp,
		       const struct output_options *opt, struct sl_error *err)
{
	return open_sink(out, path, temp, opt, err);
}

/* Run deflate over what is in s->z with flush, writing what comes out. */
static bool deflate_out(struct sink *s, int flush, struct sl_error *err)
{
	int rc;
	do {
		s->z.next_out = s->zout;
		s->z.avail_out = SINK_CHUNK;
		rc = deflate(&s->z, flush);
		if (rc == Z_STREAM_ERROR)
			return sl_error_set(err, SL_ERR_INTERNAL, "compressing %s: zlib failed",
					    sink_name(s));
		size_t have = SINK_CHUNK - s->z.avail_out;
		if (have && !write_all(s, s->zout, have, err))
			return false;
	} while (s->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return true;
}

bool sink_write(struct sink *s, const void *p, size_t n, struct sl_error *err)
{
	if (!s->gzip)
		return write_all(s, p, n, err);
	while (n) {
		/* zlib counts in uInt: feed a huge write in pieces */
		size_t take = n > (1u << 30) ? (1u << 30) : n;
		s->z.next_in = (Bytef *)(uintptr_t)p;
		s->z.avail_in = (uInt)take;
		if (!deflate_out(s, Z_NO_FLUSH, err))
			return false;
		p = (const char *)p + take;
		n -= take;
	}
	return true;
}

static void sink_free(struct sink *s)
{
	if (s->gzip)
		deflateEnd(&s->z);
	free(s->zout);
	free(s);
}

void sink_abort(struct sink *s)
{
	if (!s)
		return;
	if (!s->is_stdout) {
		close(s->fd);
		unlink(s->temp);
	}
	sink_free(s);
}

/* The bytes of the file at fd (from its start) written to s as they are:
 * by copy_file_range in the kernel when nothing needs to see them. */
static bool copy_in(struct sink *s, int fd, const char *name, struct sl_error *err)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sl_error_set(err, SL_ERR_INTERNAL, "reading %s: %s", name, strerror(errno));
	bool kernel = !s->hash && !s->is_stdout;
	for (;;) {
		ssize_t n =
			kernel ? copy_file_range(fd, NULL, s->fd, NULL, SINK_CHUNK * 16, 0) : -1;
		if (n > 0) {
			s->bytes += (unsigned long long)n;
			continue;
		}
		if (n == 0)
			return true;
		if (kernel && errno == EINTR)
			continue;
		if (kernel && errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP)
			return sl_error_set(err, SL_ERR_INTERNAL, "writing %s: %s", sink_name(s),
					    strerror(errno));
		break; /* no copy_file_range here: through user space */
	}
	unsigned char *block = malloc(SINK_CHUNK);
	if (!block)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool ok = true;
	for (;;) {
		ssize_t n = read(fd, block, SINK_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ok = sl_error_set(err, SL_ERR_INTERNAL, "reading %s: %s", name,
					  strerror(errno));
		if (n <= 0 || !(ok = write_all(s, block, (size_t)n, err)))
			break;
	}
	free(block);
	return ok;
}

bool sink_join(struct sink *s, struct sink *seg, struct sl_error *err)
{
	bool ok = true;
	/* each side's gzip member ends here: the file is their concatenation */
	if (seg->gzip)
		ok = deflate_out(seg, Z_FINISH, err);
	if (ok && s->gzip) {
		ok = deflate_out(s, Z_FINISH, err);
		if (ok && deflateReset(&s->z) != Z_OK)
			ok = sl_error_set(err, SL_ERR_INTERNAL, "compressing %s: zlib failed",
					  sink_name(s));
	}
	ok = ok && copy_in(s, seg->fd, seg->temp, err);
	sink_abort(seg);
	return ok;
}

/* fsync the directory path is in, so that the rename lasts. */
static bool sync_dir(const char *path, struct sl_error *err)
{
	char copy[4096];
	snprintf(copy, sizeof copy, "%s", path);
	const char *dir = dirname(copy);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sl_error_set(err, SL_ERR_INTERNAL, "opening directory %s: %s", dir,
				    strerror(errno));
	bool ok = fsync(fd) == 0 || errno == EINVAL;
	int e = errno;
	close(fd);
	return ok ||
	       sl_error_set(err, SL_ERR_INTERNAL, "syncing directory %s: %s", dir, strerror(e));
}

bool sink_commit(struct sink *s, unsigned long long *bytes, char *sha256, struct sl_error *err)
{
	if (s->gzip && !deflate_out(s, Z_FINISH, err)) {
		sink_abort(s);
		return false;
	}
	if (!s->is_stdout) {
		if (fsync(s->fd) != 0) {
			sl_error_set(err, SL_ERR_INTERNAL, "writing %s: %s", s->path,
				     strerror(errno));
			sink_abort(s);
			return false;
		}
		if (close(s->fd) != 0) {
			s->fd = -1;
			sl_error_set(err, SL_ERR_INTERNAL, "writing %s: %s", s->path,
				     strerror(errno));
			unlink(s->temp);
			sink_free(s);
			return false;
		}
		if (rename(s->temp, s->path) != 0) {
			sl_error_set(err, SL_ERR_INTERNAL, "renaming %s to %s: %s", s->temp,
				     s->path, strerror(errno));
			unlink(s->temp);
			sink_free(s);
			return false;
		}
		if (!sync_dir(s->path, err)) {
			sink_free(s);
			return false;
		}
	}
	if (bytes)
		*bytes = s->bytes;
	if (sha256 && s->hash)
		sha256_final_hex(&s->sha, sha256);
	else if (sha256)
		sha256[0] = '\0';
	sink_free(s);
	return true;
}
