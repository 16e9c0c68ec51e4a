/* lease.c - the watch over lease sets (see wfp/lease.h). */
#include "wfp/lease.h"

#include <stdlib.h>
#include <string.h>

#include "wfp/keys.h"
#include "wfp/util.h"

/* Shortest wait a pass's own report arms: an end the pass just saw still
 * running is never run again in the same loop turn (which could spin
 * while the two clocks agree to within the round trip). */
#define LEASE_MIN_WAIT_US 250

struct wfp_lease_watch {
	struct wfp_redis *r;
	char sets[WFP_LEASE_SETS_MAX][WFP_KEY_MAX];
	int nsets;
	int64_t poll_ms;
	wfp_lease_pass_fn *pass;
	void *arg;
	struct event *poll;  /* every poll_ms: the earliest ends */
	struct event *timer; /* one shot: at the earliest end */
	int looking;	     /* ZRANGE replies still to come */
	int look_failed;     /* one of them failed */
	int64_t look_min;    /* earliest end they gave, -1 none */
	int passing;	     /* a pass is in flight */
	int again;	     /* kicked while passing: one more pass */
	int freed;	     /* wfp_lease_watch_free() ran: free when idle */
	int clock_known;     /* offset_us was measured */
	int64_t offset_us;   /* Redis's clock minus the monotonic one */
	int64_t sent_us;     /* when the pass in flight was sent */
	int64_t passes;	     /* passes sent */
};

/* ------------------------------------------------------------------ */
/* Passes and timing                                                  */
/* ------------------------------------------------------------------ */

/* Returns 1 when wfp_lease_watch_free() ran (w must not act any more),
 * freeing w once nothing is in flight; else 0. */
static int gone(struct wfp_lease_watch *w)
{
	if (!w->freed)
		return 0;
	if (w->looking == 0 && !w->passing)
		free(w);
	return 1;
}

/* Sends a pass unless one is in flight. */
static void run_pass(struct wfp_lease_watch *w)
{
	if (w->passing || w->freed)
		return;
	evtimer_del(w->timer);
	w->sent_us = wfp_mono_us();
	w->passing = 1;
	if (w->pass(w, w->arg) != 0) {
		w->passing = 0; /* the next look tries again */
		return;
	}
	w->passes++;
}

/* Microseconds from now until end_ms on Redis's clock (<= 0: due). */
static int64_t wait_us(const struct wfp_lease_watch *w, int64_t end_ms)
{
	return end_ms * 1000 - w->offset_us - wfp_mono_us();
}

/* Arms the timer to go off in us microseconds. */
static void arm(struct wfp_lease_watch *w, int64_t us)
{
	struct timeval tv = {(time_t)(us / 1000000), (long)(us % 1000000)};

	evtimer_add(w->timer, &tv); /* re-arms when already pending */
}

/* Acts on the earliest end (end_ms, -1 none) a look found: pass now when
 * due (or the clock is not known yet), the timer when it ends before the
 * look after next, else nothing (a later look arms it). */
static void plan(struct wfp_lease_watch *w, int64_t end_ms)
{
	int64_t us;

	if (end_ms < 0) {
		evtimer_del(w->timer);
		return;
	}
	if (!w->clock_known) {
		run_pass(w);
		return;
	}
	us = wait_us(w, end_ms);
	if (us <= 0)
		run_pass(w);
	else if (us <= 2 * w->poll_ms * 1000)
		arm(w, us);
	else
		evtimer_del(w->timer);
}

/*
 * Learns Redis's clock from a pass that read it as now_ms (whole ms)
 * after it was sent (sent_us). The true offset is at most now_ms * 1000 +
 * 1000 - sent_us, so the estimate now_ms * 1000 - sent_us is never more
 * than a millisecond behind: a timer set from it is never more than that
 * late, however long the reply took. It may be ahead by the time the pass
 * took to reach Redis: a pass then comes early, finds its end not yet
 * due, and its own reply measures the clock again.
 */
static void clock_measured(struct wfp_lease_watch *w, int64_t now_ms)
{
	w->offset_us = now_ms * 1000 - w->sent_us;
	w->clock_known = 1;
}

void wfp_lease_watch_passed(struct wfp_lease_watch *w, int64_t now_ms,
			    int64_t next_ms, int more)
{
	int again = w->again;

	w->passing = 0;
	w->again = 0;
	if (gone(w))
		return;
	if (now_ms < 0)
		return; /* failed: the next look tries again */
	clock_measured(w, now_ms);
	if (more || again)
		run_pass(w);
	else if (next_ms < 0)
		evtimer_del(w->timer);
	else if (next_ms <= now_ms)
		arm(w, 1000); /* still due after a full pass: not in a loop */
	else {
		int64_t us = wait_us(w, next_ms);

		arm(w, us < LEASE_MIN_WAIT_US ? LEASE_MIN_WAIT_US : us);
	}
}

void wfp_lease_watch_kick(struct wfp_lease_watch *w)
{
	if (w->passing)
		w->again = 1;
	else
		run_pass(w);
}

int64_t wfp_lease_watch_passes(const struct wfp_lease_watch *w)
{
	return w->passes;
}

/* ------------------------------------------------------------------ */
/* Looking at the earliest ends                                       */
/* ------------------------------------------------------------------ */

/* One set's earliest {member, end} (or none) came back. */
static void on_look(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_lease_watch *w = arg;
	int64_t end_ms;

	(void)r;
	w->looking--;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		w->look_failed = 1;
	else if (reply->elements == 2 &&
		 reply->element[1]->type == REDIS_REPLY_STRING &&
		 wfp_parse_i64(reply->element[1]->str, &end_ms) == 0) {
		if (w->look_min < 0 || end_ms < w->look_min)
			w->look_min = end_ms;
	} else if (reply->elements != 0)
		w->look_failed = 1;
	if (gone(w) || w->looking > 0 || w->look_failed)
		return;
	plan(w, w->look_min);
}

/* Every poll_ms: asks for the earliest end of each set. */
static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_lease_watch *w = arg;

	(void)fd, (void)what;
	if (w->looking > 0 || w->passing || !wfp_redis_ready(w->r))
		return;
	w->look_failed = 0;
	w->look_min = -1;
	for (int i = 0; i < w->nsets; i++) {
		const char *argv[5] = {"ZRANGE", w->sets[i], "0", "0",
				       "WITHSCORES"};

		if (wfp_redis_command(w->r, 0, on_look, w, 5, argv, NULL) !=
		    0) {
			w->look_failed = 1; /* the link went down */
			return;
		}
		w->looking++;
	}
}

/* The timer armed for an end went off. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	run_pass(arg);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */
/* ------------------------------------------------------------------ */

/* Copies the set names into w. Returns 0, or -1 when one is too long. */
static int copy_sets(struct wfp_lease_watch *w, const char *const *sets,
		     int nsets)
{
	for (int i = 0; i < nsets; i++) {
		if (sets[i] == NULL || sets[i][0] == '\0' ||
		    strlen(sets[i]) >= WFP_KEY_MAX)
			return -1;
		memcpy(w->sets[i], sets[i], strlen(sets[i]) + 1);
	}
	w->nsets = nsets;
	return 0;
}

struct wfp_lease_watch *wfp_lease_watch_new(struct event_base *base,
					    struct wfp_redis *r,
					    const char *const *sets, int nsets,
					    int64_t poll_ms,
					    wfp_lease_pass_fn *pass, void *arg)
{
	struct wfp_lease_watch *w;
	struct timeval every = {(time_t)(poll_ms / 1000),
				(long)(poll_ms % 1000) * 1000};

	if (nsets < 1 || nsets > WFP_LEASE_SETS_MAX || poll_ms < 1 ||
	    pass == NULL || r == NULL)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->r = r, w->poll_ms = poll_ms, w->pass = pass, w->arg = arg;
	w->look_min = -1;
	w->poll = event_new(base, -1, EV_PERSIST, on_poll, w);
	w->timer = evtimer_new(base, on_timer, w);
	if (copy_sets(w, sets, nsets) != 0 || w->poll == NULL ||
	    w->timer == NULL || event_add(w->poll, &every) != 0) {
		wfp_lease_watch_free(w);
		return NULL;
	}
	return w;
}

void wfp_lease_watch_free(struct wfp_lease_watch *w)
{
	if (w == NULL)
		return;
	if (w->poll)
		event_free(w->poll);
	if (w->timer)
		event_free(w->timer);
	w->poll = w->timer = NULL;
	w->freed = 1;
	gone(w);
}
