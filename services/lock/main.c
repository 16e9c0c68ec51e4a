/* main.c - wfp-lock: reads the configuration and hands over. */
#include "lock-internal.h"
#include "wfp/daemon.h"

static void *start(struct wfp_daemon *d)
{
	return lockd_new(d);
}

static int exit_code(const void *l)
{
	return lockd_exit_code(l);
}

static void release(void *l)
{
	lockd_free(l);
}

int main(int argc, char **argv)
{
	/* The settings it reads (its --help lists these). */
	static const char *const flags[] = {
	    "redis",	 "prefix",	 "timeout-ms", "inflight-max",
	    "log-level", "metrics-addr", NULL};
	static const struct wfp_daemon_ops ops = {start, exit_code, release,
						  flags};

	return wfp_daemon_main("wfp-lock", argc, argv, &ops);
}
