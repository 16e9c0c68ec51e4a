/* healthcheck.c - wfp-healthcheck: asks a daemon's HTTP endpoint whether
 * it is healthy, for container health checks (the runtime image has no
 * curl). Exit status 0 when GET PATH answers "HTTP/1.x 200" within the
 * timeout, 1 when it answers anything else or nothing, 2 on bad use.
 *
 *   wfp-healthcheck [HOST:PORT] [PATH]
 *
 * HOST:PORT defaults to WFP_METRICS_ADDR (the address the daemon in the
 * same container serves on); a host of 0.0.0.0, "::" or "*" means this
 * machine (127.0.0.1). PATH defaults to /healthz. It speaks only enough
 * HTTP/1.0 to read the status line: no redirects, no TLS. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HC_TIMEOUT_MS 3000 /* the whole exchange, connect to status line */
#define HC_ADDR_MAX   128  /* HOST:PORT, as WFP_ADDR_MAX */
#define HC_PATH_MAX   256  /* the request path */
#define HC_REPLY_MAX  64   /* bytes read: enough for the status line */

#define HC_USAGE                                                               \
	"usage: wfp-healthcheck [HOST:PORT] [PATH]\n"                          \
	"  GET PATH (default /healthz) of HOST:PORT (default "                 \
	"WFP_METRICS_ADDR);\n"                                                 \
	"  exit 0 on 200, 1 on any other answer or none within 3 s, 2 on "     \
	"bad use\n"

/* Prints the reason and returns 1 (the "unhealthy" exit status). */
static int hc_fail(const char *addr, const char *why)
{
	fprintf(stderr, "wfp-healthcheck: %s: %s\n", addr, why);
	return 1;
}

/* Prints the reason and returns 2 (the "bad use" exit status). */
static int hc_bad_use(const char *addr, const char *why)
{
	fprintf(stderr, "wfp-healthcheck: %s: %s\n", addr, why);
	return 2;
}

/* The time of CLOCK_MONOTONIC in ms. */
static long long hc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline_ms (hc_now_ms), at least 0. */
static int hc_left_ms(long long deadline_ms)
{
	long long now = hc_now_ms();

	return now >= deadline_ms ? 0 : (int)(deadline_ms - now);
}

/* Splits "HOST:PORT" (the last colon; "[v6]" brackets dropped) into host
 * and port (both HC_ADDR_MAX), mapping a wildcard host to 127.0.0.1.
 * Returns 0, or -1 when there is no host or port. */
static int hc_split(const char *addr, char *host, size_t hostsz, char *port)
{
	char *colon;
	size_t n;

	if (strlen(addr) >= hostsz)
		return -1;
	memcpy(host, addr, strlen(addr) + 1);
	colon = strrchr(host, ':');
	if (colon == NULL || colon == host || colon[1] == '\0')
		return -1;
	*colon = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	    strcmp(host, "*") == 0)
		snprintf(host, hostsz, "127.0.0.1");
	return 0;
}

/* Connects to host:port within the deadline. Returns the socket or -1. */
static int hc_connect(const char *host, const char *port, long long deadline)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	int fd = -1;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		struct pollfd p;
		int err = 0;
		socklen_t len = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		p.fd = fd;
		p.events = POLLOUT;
		if (errno != EINPROGRESS ||
		    poll(&p, 1, hc_left_ms(deadline)) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Sends the request and reads up to HC_REPLY_MAX-1 bytes of the reply
 * into buf (NUL-terminated). Returns 0, or -1 on error or timeout. */
static int hc_exchange(int fd, const char *req, char *buf, long long deadline)
{
	size_t off = 0, len = strlen(req);
	struct pollfd p = {.fd = fd};
	ssize_t n;

	while (off < len) {
		p.events = POLLOUT;
		if (poll(&p, 1, hc_left_ms(deadline)) != 1)
			return -1;
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		off += n > 0 ? (size_t)n : 0;
	}
	off = 0;
	while (off < HC_REPLY_MAX - 1 && memchr(buf, '\n', off) == NULL) {
		p.events = POLLIN;
		if (poll(&p, 1, hc_left_ms(deadline)) != 1)
			return -1;
		n = recv(fd, buf + off, HC_REPLY_MAX - 1 - off, 0);
		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		off += n > 0 ? (size_t)n : 0;
	}
	buf[off] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("WFP_METRICS_ADDR");
	const char *addr = argc > 1 ? argv[1] : env;
	const char *path = argc > 2 ? argv[2] : "/healthz";
	char host[HC_ADDR_MAX], port[HC_ADDR_MAX], reply[HC_REPLY_MAX];
	char req[HC_PATH_MAX + HC_ADDR_MAX + 32];
	long long deadline = hc_now_ms() + HC_TIMEOUT_MS;
	int fd, rc;

	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s", HC_USAGE);
		return 0;
	}
	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "%s", HC_USAGE);
		return 2;
	}
	if (addr == NULL || addr[0] == '\0')
		return hc_bad_use("-", "no address (give HOST:PORT or set "
				       "WFP_METRICS_ADDR)");
	if (hc_split(addr, host, sizeof(host), port) != 0)
		return hc_bad_use(addr, "not HOST:PORT");
	if (path[0] != '/' || strlen(path) >= HC_PATH_MAX ||
	    strpbrk(path, " \r\n") != NULL)
		return hc_bad_use(addr, "the path must start with '/' and "
					"hold no space or line break");
	fd = hc_connect(host, port, deadline);
	if (fd < 0)
		return hc_fail(addr, "cannot connect");
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path,
		 host);
	memset(reply, 0, sizeof(reply));
	rc = hc_exchange(fd, req, reply, deadline);
	close(fd);
	if (rc != 0)
		return hc_fail(addr, "no answer within 3 s");
	if (strncmp(reply, "HTTP/1.", 7) != 0 || strlen(reply) < 12 ||
	    strncmp(reply + 8, " 200", 4) != 0 ||
	    (reply[12] != '\0' && reply[12] != ' ' && reply[12] != '\r' &&
	     reply[12] != '\n')) {
		reply[strcspn(reply, "\r\n")] = '\0';
		return hc_fail(addr, reply[0] ? reply : "empty answer");
	}
	return 0;
}
