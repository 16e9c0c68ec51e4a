/*
 * taskrun_bench - what the executor's task runner costs per task, without
 * Redis: noop plugin tasks (start, done deferred to the loop, callback)
 * with INFLIGHT of them started at a time, then /bin/true exec tasks
 * (posix_spawn, pipes, SIGCHLD reaping). Prints tasks a second.
 *
 * usage: taskrun_bench [NOOP_TASKS [EXEC_TASKS]]
 */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "taskrun.h"
#include "wfp/util.h"

#define INFLIGHT      1000 /* noop tasks started at once */
#define EXEC_INFLIGHT 32   /* exec tasks running at once */

struct bench {
	struct wfp_taskrunner *tr;
	const struct wfp_taskrun_spec *spec;
	long started, done, total, failed;
};

/* A task ended: count it and start the next one. */
static void bench_done(const struct wfp_taskrun_result *r, void *arg)
{
	struct bench *b = arg;

	b->done++;
	b->failed += !r->ok;
	if (b->started < b->total) {
		b->started++;
		wfp_taskrun_start(b->tr, b->spec, bench_done, b);
	}
}

/* Runs total tasks of spec, inflight at a time; prints tasks a second. */
static void bench_run(struct event_base *base, struct wfp_taskrunner *tr,
		      const char *what, const struct wfp_taskrun_spec *spec,
		      long total, long inflight)
{
	struct bench b = {tr, spec, 0, 0, total, 0};
	int64_t t0 = wfp_mono_us(), us;

	while (b.started < total && b.started < inflight) {
		b.started++;
		wfp_taskrun_start(tr, spec, bench_done, &b);
	}
	while (b.done < total)
		event_base_loop(base, EVLOOP_ONCE);
	us = wfp_mono_us() - t0;
	printf("taskrun %s: %ld tasks (%ld at once) in %.1f ms: %.0f tasks/s"
	       "%s\n",
	       what, total, inflight, us / 1000.0, total * 1e6 / (double)us,
	       b.failed ? " (some FAILED)" : "");
}

int main(int argc, char **argv)
{
	long noop = argc > 1 ? atol(argv[1]) : 1000000;
	long exec = argc > 2 ? atol(argv[2]) : 2000;
	char *true_argv[] = {"/bin/true", NULL};
	struct wfp_action a_noop = {WFP_ACTION_PLUGIN, 0, NULL, "noop", "{}"};
	struct wfp_action a_exec = {WFP_ACTION_EXEC, 1, true_argv, NULL, NULL};
	struct wfp_taskrun_spec spec = {"bench", "t", "bench:1:t", 0,	 1,  1,
					&a_noop, 0,   NULL,	   NULL, "", 0};
	struct wfp_taskrunner_config cfg = {"", NULL, 4096};
	struct event_base *base = event_base_new();
	struct wfp_taskrunner *tr;
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	tr = wfp_taskrunner_new(base, &cfg, err, sizeof(err));
	if (tr == NULL) {
		fprintf(stderr, "taskrun_bench: %s\n", err);
		return 1;
	}
	bench_run(base, tr, "noop plugin", &spec, noop, INFLIGHT);
	bench_run(base, tr, "noop plugin", &spec, noop / 10, 1);
	spec.action = &a_exec;
	bench_run(base, tr, "exec /bin/true", &spec, exec, EXEC_INFLIGHT);
	wfp_taskrunner_free(tr);
	event_base_free(base);
	return 0;
}
