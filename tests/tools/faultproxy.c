/* tests/tools/faultproxy.c
 * A TCP proxy on loopback for fault tests: forwards 127.0.0.1:LISTEN to
 * 127.0.0.1:TARGET, and on a signal breaks what it forwards the way
 * networks do:
 *   SIGUSR1  drop every open connection at once (a reset on both sides);
 *   SIGUSR2  stall: stop forwarding on the open connections, without closing
 *            them (a path that loses every packet); new connections are
 *            forwarded as usual;
 *   SIGHUP   end a stall: forward again, and close the other side of any
 *            connection whose one side went away meanwhile.
 * Usage: faultproxy LISTEN_PORT TARGET_PORT [PIDFILE]. One thread, poll().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 256
#define BUF_SIZE 65536

struct side {
	int fd;
	char buf[BUF_SIZE]; /* read from this side, not yet written to the other */
	size_t len, off;
	bool eof;
};

struct pair {
	struct side a, b; /* a: the client, b: the server */
	bool stalled;
};

static volatile sig_atomic_t drop_all, stall_all, resume_all;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		drop_all = 1;
	else if (sig == SIGUSR2)
		stall_all = 1;
	else if (sig == SIGHUP)
		resume_all = 1;
}

static void reset_close(int fd)
{
	struct linger l = {1, 0}; /* close with a reset, as a broken path */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

static int listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 64)) {
		perror("faultproxy: listen");
		exit(1);
	}
	return fd;
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Move bytes read from `from` to `to`; false when the pair is done. */
static bool pump(struct side *from, struct side *to, short rev_from)
{
	if ((rev_from & (POLLIN | POLLHUP | POLLERR)) && from->len == 0 && !from->eof) {
		ssize_t n = read(from->fd, from->buf, sizeof from->buf);
		if (n > 0) {
			from->len = (size_t)n;
			from->off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			from->eof = true;
		}
	}
	if (from->len > from->off) {
		ssize_t n = write(to->fd, from->buf + from->off, from->len - from->off);
		if (n > 0) {
			from->off += (size_t)n;
			if (from->off == from->len)
				from->len = from->off = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return false;
		}
	}
	return !(from->eof && from->len == 0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: faultproxy LISTEN_PORT TARGET_PORT [PIDFILE]\n");
		return 2;
	}
	int target = atoi(argv[2]);
	int lfd = listen_on(atoi(argv[1]));
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (argc > 3) {
		FILE *f = fopen(argv[3], "w");
		if (f) {
			fprintf(f, "%ld\n", (long)getpid());
			fclose(f);
		}
	}
	static struct pair pairs[MAX_PAIRS];
	int npairs = 0;
	for (;;) {
		if (drop_all) {
			drop_all = 0;
			for (int i = 0; i < npairs; i++) {
				reset_close(pairs[i].a.fd);
				reset_close(pairs[i].b.fd);
			}
			npairs = 0;
		}
		if (stall_all) {
			stall_all = 0;
			for (int i = 0; i < npairs; i++)
				pairs[i].stalled = true;
		}
		if (resume_all) {
			resume_all = 0;
			for (int i = 0; i < npairs; i++)
				pairs[i].stalled = false;
		}
		struct pollfd pf[1 + 2 * MAX_PAIRS];
		pf[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < npairs; i++) {
			short ev = pairs[i].stalled ? 0 : POLLIN;
			pf[1 + 2 * i] = (struct pollfd){
				.fd = pairs[i].a.fd,
				.events =
					(short)(ev | (pairs[i].b.len && !pairs[i].stalled ? POLLOUT
											  : 0))};
			pf[2 + 2 * i] = (struct pollfd){
				.fd = pairs[i].b.fd,
				.events =
					(short)(ev | (pairs[i].a.len && !pairs[i].stalled ? POLLOUT
											  : 0))};
		}
		if (poll(pf, (nfds_t)(1 + 2 * npairs), 200) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < npairs; i++) {
			struct pair *p = &pairs[i];
			if (p->stalled)
				continue;
			short ra = pf[1 + 2 * i].revents, rb = pf[2 + 2 * i].revents;
			bool up = pump(&p->a, &p->b, ra) && pump(&p->b, &p->a, rb);
			if (!up) {
				reset_close(p->a.fd);
				reset_close(p->b.fd);
				pairs[i--] = pairs[--npairs];
			}
		}
		if ((pf[0].revents & POLLIN) && npairs < MAX_PAIRS) {
			int cfd = accept(lfd, NULL, NULL);
			if (cfd >= 0) {
				int sfd = connect_to(target);
				if (sfd < 0) {
					close(cfd);
				} else {
					fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
					fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK);
					memset(&pairs[npairs], 0, sizeof pairs[npairs]);
					pairs[npairs].a.fd = cfd;
					pairs[npairs].b.fd = sfd;
					npairs++;
				}
			}
		}
	}
}
