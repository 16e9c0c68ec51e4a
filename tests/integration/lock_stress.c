/*
 * lock_stress CLIENTS CYCLES LOCKS: mutual exclusion under contention.
 * CLIENTS processes each run CYCLES acquire/work/release cycles over LOCKS
 * locks (waiting through wfp-lock, which must be running). The work is a
 * critical section that must never have two holders: it marks the lock's
 * "holder" key with SET NX (a second holder would find it set), passes a
 * fence check (a holder whose lease ran out is refused), and increments
 * a counter. Prints "violations N" and exits 1 when any was seen or the
 * counters do not add up to CLIENTS x CYCLES.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest_common.h"
#include "wfp/lock.h"

/* One cycle's critical section; returns 0, or 1 on a violation. */
static int critical(struct wfp_client *c, const char *name, int64_t fence,
		    const char *me)
{
	const char *tag = wfp_client_tag(c);
	redisReply *r = wfp_client_commandf(
	    c, "SET %s:holder:%s %s NX PX 10000", tag, name, me);
	int bad = r == NULL || r->type != REDIS_REPLY_STATUS;

	if (r)
		freeReplyObject(r);
	if (bad)
		fprintf(stderr, "two holders of %s\n", name);
	if (wfp_fence_check(c, name, fence, me) != 0) {
		fprintf(stderr, "fence refused: %s\n", wfp_client_error(c));
		bad = 1;
	}
	r = wfp_client_commandf(c, "INCR %s:counter:%s", tag, name);
	if (r)
		freeReplyObject(r);
	r = wfp_client_commandf(c, "DEL %s:holder:%s", tag, name);
	if (r)
		freeReplyObject(r);
	return bad;
}

/* One client process; returns its violations (capped at 100). */
static int client(int k, int cycles, int locks)
{
	struct wfp_config cfg;
	struct wfp_client *c;
	char me[32], name[32];
	int bad = 0;

	c = itest_client(&cfg); /* exits 1 when Redis cannot be reached */
	snprintf(me, sizeof(me), "client-%d", k);
	for (int i = 0; i < cycles && bad < 100; i++) {
		struct wfp_lock_grant g;
		const char *names[1] = {name};

		snprintf(name, sizeof(name), "mx-%d", (k + i) % locks);
		if (wfp_lock_acquire(c, names, 1, me, 5000, 30000, &g) != 0) {
			fprintf(stderr, "%s: %s\n", me, wfp_client_error(c));
			bad++;
			continue;
		}
		bad += critical(c, name, g.fences[0], me);
		if (wfp_lock_release(c, name, g.token) != 0) {
			fprintf(stderr, "%s: %s\n", me, wfp_client_error(c));
			bad++;
		}
	}
	wfp_client_free(c);
	return bad;
}

int main(int argc, char **argv)
{
	int clients, cycles, locks, bad = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: lock_stress CLIENTS CYCLES LOCKS\n");
		return 2;
	}
	clients = atoi(argv[1]), cycles = atoi(argv[2]), locks = atoi(argv[3]);
	for (int k = 0; k < clients; k++) {
		if (fork() == 0)
			_exit(client(k, cycles, locks));
	}
	for (int k = 0; k < clients; k++) {
		int status = 0;

		wait(&status);
		bad += WIFEXITED(status) ? WEXITSTATUS(status) : 100;
	}
	printf("violations %d\n", bad);
	return bad == 0 ? 0 : 1;
}
