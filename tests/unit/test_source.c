/* tests/unit/test_source.c
 * Byte sources: which files open, source_verify on whole and damaged gzip
 * files agreeing with what reading them says, and a slow pipe read as its
 * bytes come.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/source.h"

/* source_verify's input buffer, to put member boundaries across it */
#define VERIFY_IN (256 * 1024)

static char dir[64];
static char path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/sluice-source-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/in.csv.gz", dir);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

struct bytes {
	unsigned char *data;
	size_t len;
	size_t cap;
};

static void append(struct bytes *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = realloc(b->data, b->cap);
		ck_assert_ptr_nonnull(b->data);
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

/* One gzip member holding data, with a header comment of comment_len bytes
 * (0: none) to place what follows at an exact offset. */
static void append_member(struct bytes *b, const void *data, size_t n, size_t comment_len)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	gz_header h;
	memset(&h, 0, sizeof h);
	char *comment = NULL;
	if (comment_len) {
		comment = malloc(comment_len);
		memset(comment, 'c', comment_len - 1);
		comment[comment_len - 1] = '\0';
		h.comment = (Bytef *)comment;
	}
	h.os = 3;
	ck_assert_int_eq(deflateSetHeader(&zs, &h), Z_OK);
	size_t cap = deflateBound(&zs, n) + comment_len + 64;
	unsigned char *out = malloc(cap);
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	append(b, out, cap - zs.avail_out);
	deflateEnd(&zs);
	free(out);
	free(comment);
}

/* The size of the member append_member makes without a comment. */
static size_t member_size(const void *data, size_t n)
{
	struct bytes b = {0};
	append_member(&b, data, n, 0);
	free(b.data);
	return b.len;
}

static void write_bytes(const char *p, const void *data, size_t n)
{
	FILE *f = fopen(p, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* Read p through source_open/source_read: false when the read fails. */
static bool read_all(const char *p, size_t *total, struct sl_error *err)
{
	struct source *s;
	*total = 0;
	if (!source_open(&s, p, err))
		return false;
	static char buf[65536];
	ssize_t r;
	while ((r = source_read(s, buf, sizeof buf, err)) > 0)
		*total += (size_t)r;
	source_close(s);
	return r == 0;
}

/* source_verify on b, and it agrees with reading the file. */
static bool verify_bytes(const struct bytes *b, struct sl_error *err)
{
	write_bytes(path, b->data, b->len);
	sl_error_clear(err);
	bool ok = source_verify(path, err);
	struct sl_error rerr;
	size_t n;
	bool read_ok = read_all(path, &n, &rerr);
	ck_assert_msg(ok == read_ok, "verify says %d (%s), reading says %d (%s)", ok, err->msg,
		      read_ok, rerr.msg);
	if (!ok)
		ck_assert_int_eq(err->kind, SL_ERR_INPUT);
	return ok;
}

static const char csv[] = "id,name\n1,alpha\n2,beta\n";

START_TEST(verify_plain_and_stdin)
{
	struct sl_error err;
	write_bytes(path, csv, sizeof csv - 1);
	ck_assert(source_verify(path, &err));
	write_bytes(path, "", 0);
	ck_assert(source_verify(path, &err));
	/* one byte 1f is not the gzip magic, for gzread neither */
	write_bytes(path, "\x1f", 1);
	ck_assert(source_verify(path, &err));
	ck_assert(source_verify("-", &err));
}
END_TEST

START_TEST(verify_whole)
{
	struct sl_error err;
	struct bytes b = {0};
	append_member(&b, csv, sizeof csv - 1, 0);
	ck_assert_msg(verify_bytes(&b, &err), "%s", err.msg);
	/* several members, one of them empty */
	append_member(&b, "", 0, 0);
	append_member(&b, csv, sizeof csv - 1, 20);
	ck_assert_msg(verify_bytes(&b, &err), "%s", err.msg);
	size_t n;
	ck_assert(read_all(path, &n, &err));
	ck_assert_uint_eq(n, 2 * (sizeof csv - 1));
	/* detected by content, whatever the name */
	char other[160];
	snprintf(other, sizeof other, "%s/data.csv", dir);
	b.data[b.len - 5] ^= 0x01;
	write_bytes(other, b.data, b.len);
	ck_assert(!source_verify(other, &err));
	free(b.data);
}
END_TEST

START_TEST(verify_trailer)
{
	struct sl_error err;
	struct bytes b = {0};
	append_member(&b, csv, sizeof csv - 1, 0);
	b.data[b.len - 8] ^= 0x40; /* CRC-32 */
	ck_assert(!verify_bytes(&b, &err));
	ck_assert_str_eq(err.msg + strlen(path), ": corrupt gzip data (incorrect data check)");
	ck_assert(!strncmp(err.msg, path, strlen(path)));
	b.data[b.len - 8] ^= 0x40;
	b.data[b.len - 4] ^= 0x01; /* ISIZE */
	ck_assert(!verify_bytes(&b, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "incorrect length check"));
	free(b.data);
}
END_TEST

START_TEST(verify_truncated)
{
	struct sl_error err;
	struct bytes b = {0};
	append_member(&b, csv, sizeof csv - 1, 0);
	size_t whole = b.len;
	for (size_t cut = 2; cut < whole; cut++) {
		b.len = cut;
		ck_assert_msg(!verify_bytes(&b, &err), "cut at %zu verifies", cut);
	}
	b.len = 1;
	ck_assert(verify_bytes(&b, &err)); /* one byte: not gzip at all */
	b.len = whole - 1;
	ck_assert(!verify_bytes(&b, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "truncated gzip data"));
	free(b.data);
}
END_TEST

/* After a whole member, gzread ends quietly at anything but the magic
 * 1f 8b; after the magic, it wants a whole member. */
START_TEST(verify_after_member)
{
	struct sl_error err;
	static const struct {
		const char *tail;
		size_t n;
		bool ok;
	} cases[] = {
		{"\0\0\0\0\0\0\0\0", 8, true},
		{"garbage", 7, true},
		{"\x1f", 1, true},
		{"\x1f\x8c", 2, true},
		{"\x1f\x8b", 2, false},
		{"\x1f\x8b\x08\x00", 4, false},
		{"\x1f\x8b\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bytes b = {0};
		append_member(&b, csv, sizeof csv - 1, 0);
		append(&b, cases[i].tail, cases[i].n);
		ck_assert_msg(verify_bytes(&b, &err) == cases[i].ok, "case %zu: %s", i, err.msg);
		free(b.data);
	}
}
END_TEST

/* The second member's magic at and around the edge of the input buffer. */
START_TEST(verify_buffer_edges)
{
	struct sl_error err;
	size_t base = member_size(csv, sizeof csv - 1);
	for (size_t end = VERIFY_IN - 3; end <= VERIFY_IN + 2; end++) {
		/* a comment of k bytes (NUL included) adds k to the member */
		size_t k = end - base;
		struct bytes b = {0};
		append_member(&b, csv, sizeof csv - 1, k);
		ck_assert_uint_eq(b.len, end);
		struct bytes good = {0};
		append(&good, b.data, b.len);
		append_member(&good, csv, sizeof csv - 1, 0);
		ck_assert_msg(verify_bytes(&good, &err), "member end %zu: %s", end, err.msg);
		/* one byte of trailing garbage, and just the magic */
		append(&b, "\x1f", 1);
		ck_assert_msg(verify_bytes(&b, &err), "member end %zu: %s", end, err.msg);
		append(&b, "\x8b", 1);
		ck_assert_msg(!verify_bytes(&b, &err), "member end %zu", end);
		free(b.data);
		free(good.data);
	}
}
END_TEST

/* Ten flipped bytes in the middle of 100,000 rows: refused before a row is
 * read (reading alone would hand out rows first). */
START_TEST(verify_flipped_bytes)
{
	struct sl_error err;
	struct bytes rows = {0};
	char line[128];
	for (int i = 1; i <= 100000; i++) {
		int n = snprintf(line, sizeof line, "%d,name %d,%d.%02d,2024-01-%02d\n", i,
				 i * 7919 % 100003, i % 1000, i % 100, i % 28 + 1);
		append(&rows, line, (size_t)n);
	}
	struct bytes b = {0};
	append_member(&b, rows.data, rows.len, 0);
	ck_assert_msg(verify_bytes(&b, &err), "%s", err.msg);
	for (size_t i = 0; i < 10; i++)
		b.data[b.len / 2 + i * 37] ^= 0x5a;
	ck_assert(!verify_bytes(&b, &err));
	ck_assert(!strncmp(err.msg, path, strlen(path)));
	ck_assert_ptr_nonnull(strstr(err.msg, "corrupt gzip data ("));
	free(rows.data);
	free(b.data);
}
END_TEST

START_TEST(refuse_directory)
{
	struct sl_error err;
	struct source *s = NULL;
	char want[160];
	snprintf(want, sizeof want, "cannot open %s: Is a directory", dir);
	ck_assert(!source_open(&s, dir, &err));
	ck_assert_int_eq(err.kind, SL_ERR_USAGE);
	ck_assert_str_eq(err.msg, want);
	ck_assert(!source_verify(dir, &err));
	ck_assert_int_eq(err.kind, SL_ERR_USAGE);
	ck_assert_str_eq(err.msg, want);
	/* stdin redirected from a directory */
	int fd = open(dir, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDIN_FILENO), 0);
	close(fd);
	ck_assert(!source_open(&s, "-", &err));
	ck_assert_str_eq(err.msg, "cannot open stdin: Is a directory");
}
END_TEST

START_TEST(refuse_missing_and_socket)
{
	struct sl_error err;
	struct source *s = NULL;
	char p[160], want[220];
	snprintf(p, sizeof p, "%s/missing.csv", dir);
	ck_assert(!source_open(&s, p, &err));
	ck_assert_int_eq(err.kind, SL_ERR_USAGE);
	ck_assert(!source_verify(p, &err));
	ck_assert_int_eq(err.kind, SL_ERR_USAGE);
	snprintf(want, sizeof want, "cannot open %s: No such file or directory", p);
	ck_assert_str_eq(err.msg, want);

	snprintf(p, sizeof p, "%s/sock", dir);
	int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	ck_assert_uint_lt(strlen(p), sizeof sa.sun_path);
	memcpy(sa.sun_path, p, strlen(p) + 1);
	ck_assert_int_eq(bind(sfd, (struct sockaddr *)&sa, sizeof sa), 0);
	snprintf(want, sizeof want, "cannot open %s: not a regular file, pipe or character device",
		 p);
	ck_assert(!source_open(&s, p, &err));
	ck_assert_str_eq(err.msg, want);
	ck_assert(!source_verify(p, &err));
	ck_assert_str_eq(err.msg, want);
	close(sfd);
}
END_TEST

/* A FIFO is not read by source_verify (and does not block it when no one
 * writes), then reads fine. */
START_TEST(fifo_and_stdin)
{
	struct sl_error err;
	char p[160];
	snprintf(p, sizeof p, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert(source_verify(p, &err));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(p, O_WRONLY);
		ssize_t w = write(fd, csv, sizeof csv - 1);
		_exit(w == (ssize_t)(sizeof csv - 1) ? 0 : 1);
	}
	size_t n;
	ck_assert_msg(read_all(p, &n, &err), "%s", err.msg);
	ck_assert_uint_eq(n, sizeof csv - 1);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* stdin as "-" and as /dev/stdin, a pipe holding gzip data */
	struct bytes b = {0};
	append_member(&b, csv, sizeof csv - 1, 0);
	const char *names[] = {"-", "/dev/stdin"};
	for (int i = 0; i < 2; i++) {
		int fds[2];
		ck_assert_int_eq(pipe(fds), 0);
		ck_assert_int_eq(write(fds[1], b.data, b.len), (ssize_t)b.len);
		close(fds[1]);
		ck_assert_int_ge(dup2(fds[0], STDIN_FILENO), 0);
		close(fds[0]);
		ck_assert(source_verify(names[i], &err));
		struct source *s;
		ck_assert_msg(source_open(&s, names[i], &err), "%s: %s", names[i], err.msg);
		ck_assert(source_is_gzip(s));
		char buf[256];
		ck_assert_int_eq(source_read(s, buf, sizeof buf, &err), (ssize_t)(sizeof csv - 1));
		ck_assert(!memcmp(buf, csv, sizeof csv - 1));
		source_close(s);
	}
	free(b.data);
}
END_TEST

/* A pipe whose writer is slow: the bytes it wrote come out at once, plain
 * or gzip (up to the writer's last flush), not when a buffer is full or the
 * writer is done. SIGALRM ends the test if a read waits. */
START_TEST(slow_pipe_at_once)
{
	for (int gz = 0; gz < 2; gz++) {
		int fds[2];
		ck_assert_int_eq(pipe(fds), 0);
		unsigned char out[512];
		size_t len = sizeof csv - 1;
		if (gz) {
			z_stream zs;
			memset(&zs, 0, sizeof zs);
			ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
						      Z_DEFAULT_STRATEGY),
					 Z_OK);
			zs.next_in = (unsigned char *)csv;
			zs.avail_in = (uInt)len;
			zs.next_out = out;
			zs.avail_out = sizeof out;
			ck_assert_int_eq(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
			len = sizeof out - zs.avail_out;
			deflateEnd(&zs);
		} else {
			memcpy(out, csv, len);
		}
		ck_assert_int_eq(write(fds[1], out, len), (ssize_t)len);
		char p[64];
		snprintf(p, sizeof p, "/dev/fd/%d", fds[0]);
		struct sl_error err;
		struct source *s;
		alarm(10);
		ck_assert_msg(source_open(&s, p, &err), "%s", err.msg);
		ck_assert(source_is_gzip(s) == (gz == 1));
		char buf[4096];
		size_t got = 0;
		while (got < sizeof csv - 1) {
			ssize_t r = source_read(s, buf + got, sizeof buf - got, &err);
			ck_assert_msg(r > 0, "read %zd: %s", r, err.msg);
			got += (size_t)r;
		}
		alarm(0);
		ck_assert(!memcmp(buf, csv, sizeof csv - 1));
		close(fds[1]);
		if (!gz)
			ck_assert_int_eq(source_read(s, buf, sizeof buf, &err), 0);
		source_close(s);
		close(fds[0]);
	}
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, verify_plain_and_stdin);
	tcase_add_test(tc, verify_whole);
	tcase_add_test(tc, verify_trailer);
	tcase_add_test(tc, verify_truncated);
	tcase_add_test(tc, verify_after_member);
	tcase_add_test(tc, verify_buffer_edges);
	tcase_add_test(tc, verify_flipped_bytes);
	tcase_add_test(tc, refuse_directory);
	tcase_add_test(tc, refuse_missing_and_socket);
	tcase_add_test(tc, fifo_and_stdin);
	tcase_add_test(tc, slow_pipe_at_once);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
