/* main.c - wfp-executor: reads the configuration and hands over. */
#include <sys/prctl.h>

#include "executor-internal.h"
#include "wfp/daemon.h"

static void *start(struct wfp_daemon *d)
{
	return executor_new(d);
}

static int exit_code(const void *x)
{
	return executor_exit_code(x);
}

static void release(void *x)
{
	executor_free(x);
}

int main(int argc, char **argv)
{
	/* The settings it reads (its --help lists these). */
	static const char *const flags[] = {
	    "redis",	     "prefix",	    "visibility-ms",   "retention-ms",
	    "timeout-ms",    "concurrency", "log-level",       "metrics-addr",
	    "plugin-dir",    "exec-allow",  "task-output-max", "grace-ms",
	    "executor-name", NULL};
	static const struct wfp_daemon_ops ops = {start, exit_code, release,
						  flags};

	/* Tasks run as the executor's user: not dumpable, its environment
	 * (the Redis password in WFP_REDIS_URL) and memory are not theirs to
	 * read through /proc. A program it runs is dumpable again after
	 * execve. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return wfp_daemon_main("wfp-executor", argc, argv, &ops);
}
