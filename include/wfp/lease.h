/*
 * lease.h - one watch over lease sets, for every service whose records
 * end at a time: job claims (the board's reaper), lock leases and lock
 * waits (the lock service), reservation TTLs (the reservation service).
 *
 * A lease set is a sorted set whose score is the member's end, in ms on
 * Redis's clock. The owner's pass script acts on every member whose end
 * has come (lib.lua's lease_due) and reports the earliest end left
 * (lease_next); the watch decides when to run that pass.
 *
 * Rules that always hold:
 *  - Every poll_ms the watch looks at the earliest end of each set (one
 *    ZRANGE each, pipelined) unless a pass or a look is in flight or the
 *    link is down. An end already due runs the pass at once; an end that
 *    comes before the look after next arms a one-shot timer for that
 *    exact end, so an end is acted on within about a millisecond of it,
 *    not a poll later.
 *  - At most one pass is in flight. Each pass reply tells the watch
 *    Redis's clock (now_ms): the offset to the local monotonic clock comes
 *    from it, taken as of the pass's sending, so a timer is never more
 *    than a millisecond late however long a reply took (a pass that comes
 *    early finds its end not due and measures again). Until a pass has
 *    answered, any end found runs a pass at once.
 *  - A pass that failed (link lost, timeout, a transient error: now_ms -1)
 *    changes nothing: the next look tries again. A pass that hit its
 *    limit (more 1) runs again at once.
 *  - The watch never learns about stopping: the owner's pass function
 *    returns -1 while its daemon stops, so nothing is written after that.
 *  - wfp_lease_watch_free() may be called with a look or a pass in
 *    flight: the watch is then freed when the last of them reports (the
 *    link hands every pending callback NULL when it is freed). The pass
 *    reply must still reach wfp_lease_watch_passed().
 */
#ifndef WFP_LEASE_H
#define WFP_LEASE_H

#include <event2/event.h>
#include <stdint.h>

#include "wfp/redis.h"

#define WFP_LEASE_SETS_MAX 4 /* lease sets one watch looks at */

struct wfp_lease_watch;

/*
 * Starts one pass (sends the pass script). Returns 0 when sent: its reply
 * must reach wfp_lease_watch_passed(); -1 when not sent (tried again at
 * the next poll).
 */
typedef int wfp_lease_pass_fn(struct wfp_lease_watch *w, void *arg);

/*
 * Watches the lease sets (zsets scored by end, ms on Redis's clock; nsets
 * 1..WFP_LEASE_SETS_MAX; the names are copied) on r: looks at the earliest
 * end of each every poll_ms (one ZRANGE each), runs pass at once when an
 * end is due, else arms a timer for the exact end when it comes before
 * the next look. pass gets arg. Returns NULL on no memory or bad
 * arguments (nsets out of range, a name too long, poll_ms < 1).
 */
struct wfp_lease_watch *wfp_lease_watch_new(struct event_base *base,
					    struct wfp_redis *r,
					    const char *const *sets, int nsets,
					    int64_t poll_ms,
					    wfp_lease_pass_fn *pass, void *arg);

/*
 * A pass ended: now_ms Redis's clock at the pass (-1 when it failed),
 * next_ms the earliest end left (-1 none), more 1 when it hit its limit
 * (run again now). May start the next pass before it returns.
 */
void wfp_lease_watch_passed(struct wfp_lease_watch *w, int64_t now_ms,
			    int64_t next_ms, int more);

/* Runs a pass now unless one is in flight, and then once more after it
 * (after a change that moved an end earlier). */
void wfp_lease_watch_kick(struct wfp_lease_watch *w);

/* Passes sent so far (for tests and metrics). */
int64_t wfp_lease_watch_passes(const struct wfp_lease_watch *w);

/* Stops the watch and frees it (at once, or when what is in flight
 * reports; see above). w may be NULL. */
void wfp_lease_watch_free(struct wfp_lease_watch *w);

#endif
