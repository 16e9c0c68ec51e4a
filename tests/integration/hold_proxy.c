/*
 * hold_proxy LISTEN_PORT REDIS_PORT WORD HELD_FILE GO_FILE
 *
 * A TCP relay between clients and a real redis-server on 127.0.0.1 that
 * holds the first request containing WORD (e.g. "XREAD"): it creates
 * HELD_FILE, waits until GO_FILE exists (at most HOLD_MAX_MS), then sends
 * the request on. A test uses it to run something at an exact point of a
 * client's command sequence, e.g. between `watch` reading a job's state
 * and reading its events. Each connection is served by its own child
 * process; the proxy runs until killed. Helper of watch.sh.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLD_MAX_MS  10000
#define RELAY_BUF    65536
#define HOLD_POLL_MS 10

/* Connects to 127.0.0.1:port; returns the socket or -1. */
static int connect_local(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((unsigned short)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Listens on 127.0.0.1:port; returns the socket or -1. */
static int listen_local(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((unsigned short)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Returns 1 when buf[0..n) contains word. */
static int contains(const char *buf, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++) {
		if (memcmp(buf + i, word, w) == 0)
			return 1;
	}
	return 0;
}

/* Creates held, then waits until go exists (or HOLD_MAX_MS passed). */
static void hold(const char *held, const char *go)
{
	struct stat st;
	FILE *f = fopen(held, "w");

	if (f)
		fclose(f);
	for (int ms = 0; ms < HOLD_MAX_MS && stat(go, &st) != 0;
	     ms += HOLD_POLL_MS)
		usleep(HOLD_POLL_MS * 1000);
}

/* Writes all of buf to fd; returns 0 or -1. */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Relays between client and server until either side closes. */
static void relay(int client, int server, char **argv)
{
	static char buf[RELAY_BUF];
	struct pollfd p[2] = {{.fd = client, .events = POLLIN},
			      {.fd = server, .events = POLLIN}};
	int held = 0;

	while (poll(p, 2, -1) > 0) {
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0)
				return;
			if (i == 0 && !held &&
			    contains(buf, (size_t)n, argv[3])) {
				held = 1;
				hold(argv[4], argv[5]);
			}
			if (write_all(p[1 - i].fd, buf, (size_t)n) != 0)
				return;
		}
	}
}

int main(int argc, char **argv)
{
	int lfd;

	if (argc != 6) {
		fprintf(stderr, "usage: hold_proxy LISTEN_PORT REDIS_PORT "
				"WORD HELD_FILE GO_FILE\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	lfd = listen_local(atoi(argv[1]));
	if (lfd < 0) {
		perror("hold_proxy: listen");
		return 1;
	}
	for (;;) {
		int c = accept(lfd, NULL, NULL), s;

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			s = connect_local(atoi(argv[2]));
			if (s >= 0)
				relay(c, s, argv);
			_exit(0);
		}
		close(c);
	}
}
