/* main.c - wfp-reservation: reads the configuration and hands over. */
#include "reservation-internal.h"
#include "wfp/daemon.h"

static void *start(struct wfp_daemon *d)
{
	return rsvd_new(d);
}

static int exit_code(const void *rd)
{
	return rsvd_exit_code(rd);
}

static void release(void *rd)
{
	rsvd_free(rd);
}

int main(int argc, char **argv)
{
	/* The settings it reads (its --help lists these). */
	static const char *const flags[] = {
	    "redis",	    "prefix",	    "timeout-ms",
	    "inflight-max", "retention-ms", "log-level",
	    "metrics-addr", "classes-dir",  NULL};
	static const struct wfp_daemon_ops ops = {start, exit_code, release,
						  flags};

	return wfp_daemon_main("wfp-reservation", argc, argv, &ops);
}
