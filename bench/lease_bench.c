/*
 * lease_bench - how soon a job held by a killed claimer reaches the next
 * claimer: the reaper's delay after a lease's end, as an owner sees it.
 *
 * Needs a running wfp-jobboard on the same Redis and prefix (bench/run
 * starts one with WFP_VISIBILITY_MS=60000, so only the claimer's own
 * lease can explain a prompt recovery). For each sample: post a job;
 * claimer A claims it with a LEASE_MS lease and is SIGKILLed; claimer B,
 * already waiting (wfp_job_claim with a wait, as `wfp job claim --wait`),
 * claims it. Prints the delay from A's claim call (the lease starts
 * within it) to B's claim returning: median and max. Also the Redis load
 * of an idle board (its lease poll), from INFO commandstats.
 *
 * usage: lease_bench [--samples N]   (WFP_REDIS_URL, WFP_PREFIX)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "wfp/client.h"
#include "wfp/util.h"

#define LEASE_MS     1000
#define SAMPLES_MAX  100
#define B_WAIT_MS    10000 /* B gives up after this */
#define IDLE_WATCHMS 2000  /* idle load measured over this */

static struct wfp_config cfg;

/* A client of its own (after fork, each process needs one). */
static struct wfp_client *client(void)
{
	char err[256];
	struct wfp_client *c = wfp_client_new(&cfg, err, sizeof(err));

	if (c == NULL) {
		fprintf(stderr, "lease_bench: %s\n", err);
		exit(1);
	}
	return c;
}

/* Child A: claims one job with a LEASE_MS lease, writes the monotonic
 * time it sent the claim, then waits to be killed. */
static void claimer_a(int fd)
{
	struct wfp_client *c = client();
	struct wfp_claim w;
	int n = 0;
	int64_t t = wfp_mono_us();

	if (wfp_job_claim(c, "bench-a", 1, LEASE_MS, 0, &w, &n) != 0 || n != 1)
		t = -1;
	if (write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
		_exit(1);
	for (;;)
		pause();
}

/* Child B: waits for a job, writes the time it got it, completes it. */
static void claimer_b(int fd)
{
	struct wfp_client *c = client();
	struct wfp_claim w;
	int n = 0;
	int64_t t;

	if (wfp_job_claim(c, "bench-b", 1, 60000, B_WAIT_MS, &w, &n) != 0 ||
	    n != 1)
		t = -1;
	else
		t = wfp_mono_us();
	if (write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
		_exit(1);
	if (n == 1)
		wfp_job_finish(c, w.id, w.token, w.fence, WFP_OP_COMPLETE, NULL,
			       NULL);
	_exit(0);
}

/* Reads one time from fd; exits on failure. */
static int64_t read_time(int fd)
{
	int64_t t = -1;

	if (read(fd, &t, sizeof(t)) != (ssize_t)sizeof(t) || t < 0) {
		fprintf(stderr, "lease_bench: a claimer failed (is "
				"wfp-jobboard running on this prefix?)\n");
		exit(1);
	}
	return t;
}

/* One sample: the recovery delay in microseconds. */
static int64_t sample(struct wfp_client *c)
{
	struct wfp_post p = {NULL, "lease-bench", "{}", 3, NULL, 1000};
	char id[WFP_ID_MAX];
	int fa[2], fb[2];
	pid_t a, b;
	int64_t ta, tb;

	if (wfp_job_post(c, &p, id, NULL) != 0 || pipe(fa) || pipe(fb)) {
		fprintf(stderr, "lease_bench: %s\n", wfp_client_error(c));
		exit(1);
	}
	a = fork();
	if (a == 0)
		claimer_a(fa[1]);
	ta = read_time(fa[0]);
	b = fork();
	if (b == 0)
		claimer_b(fb[1]);
	wfp_sleep_ms(50); /* B is blocked in its wait by now */
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	tb = read_time(fb[0]);
	waitpid(b, NULL, 0);
	close(fa[0]), close(fa[1]), close(fb[0]), close(fb[1]);
	return tb - ta;
}

/* calls and usec of one command in INFO commandstats (0 when absent). */
static void cmdstat(struct wfp_client *c, const char *cmd, long long *calls,
		    long long *usec)
{
	redisReply *r = wfp_client_commandf(c, "INFO commandstats");
	char want[64];
	const char *at;

	*calls = 0, *usec = 0;
	snprintf(want, sizeof(want), "cmdstat_%s:calls=", cmd);
	at = r && r->str ? strstr(r->str, want) : NULL;
	if (at)
		sscanf(at + strlen(want), "%lld,usec=%lld", calls, usec);
	freeReplyObject(r);
}

/* Prints the Redis load of the idle board's lease poll. */
static void idle_load(struct wfp_client *c)
{
	long long c0, u0, c1, u1;

	cmdstat(c, "zrange", &c0, &u0);
	wfp_sleep_ms(IDLE_WATCHMS);
	cmdstat(c, "zrange", &c1, &u1);
	printf("idle board: %.0f ZRANGE/s, %.0f us of Redis CPU per second\n",
	       (double)(c1 - c0) * 1000 / IDLE_WATCHMS,
	       (double)(u1 - u0) * 1000 / IDLE_WATCHMS);
}

int main(int argc, char **argv)
{
	int64_t v[SAMPLES_MAX];
	int samples = 10;
	char err[256];
	struct wfp_client *c;

	if (argc == 3 && strcmp(argv[1], "--samples") == 0)
		samples = atoi(argv[2]);
	if (samples < 1 || samples > SAMPLES_MAX) {
		fprintf(stderr, "usage: lease_bench [--samples 1..%d]\n",
			SAMPLES_MAX);
		return 2;
	}
	wfp_config_defaults(&cfg);
	if (wfp_config_from_env(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "lease_bench: %s\n", err);
		return 2;
	}
	c = client();
	idle_load(c);
	for (int i = 0; i < samples; i++)
		v[i] = sample(c);
	bench_sort(v, (size_t)samples);
	printf("claimer killed holding a %d ms lease -> a waiting claimer has "
	       "the job after: median %.1f ms, max %.1f ms (%d samples)\n",
	       LEASE_MS, (double)v[samples / 2] / 1000.0,
	       (double)v[samples - 1] / 1000.0, samples);
	wfp_client_free(c);
	return 0;
}
