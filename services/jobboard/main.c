/* main.c - wfp-jobboard: reads the configuration and hands over. */
#include "jobboard-internal.h"
#include "wfp/daemon.h"

static void *start(struct wfp_daemon *d)
{
	return jobboard_new(d);
}

static int exit_code(const void *jb)
{
	return jobboard_exit_code(jb);
}

static void release(void *jb)
{
	jobboard_free(jb);
}

int main(int argc, char **argv)
{
	/* The settings it reads (its --help lists these). */
	static const char *const flags[] = {
	    "redis",	    "prefix",	    "visibility-ms",
	    "retention-ms", "timeout-ms",   "inflight-max",
	    "log-level",    "metrics-addr", NULL};
	static const struct wfp_daemon_ops ops = {start, exit_code, release,
						  flags};

	return wfp_daemon_main("wfp-jobboard", argc, argv, &ops);
}
