/*
 * redis.h - one asynchronous Redis connection on a libevent loop, for the
 * daemons.
 *
 * Rules that always hold:
 *  - The connection reconnects by itself after any failure, with
 *    exponential backoff (100 ms doubling to 5 s) and +-25% jitter; the
 *    on_up hook runs after every (re)connect, before queued work resumes.
 *  - Every command has a timeout. When it fires, the command's callback
 *    gets NULL and the whole connection is dropped (hiredis 0.14 has no
 *    timeouts, and a server that stopped answering answers nothing else
 *    either); every other pending command then gets NULL too.
 *  - An error reply that says Redis cannot serve now rather than "no"
 *    (its first word is BUSY, LOADING, READONLY, OOM, TRYAGAIN, MOVED, ASK,
 *    MASTERDOWN, CLUSTERDOWN, UNBLOCKED or NOREPLICAS: a busy script, a
 *    restart, a failover, full memory, a resharding, too few replicas
 *    for min-replicas-to-write; READONLY, MASTERDOWN and
 *    UNBLOCKED also drop the link, as the node is no longer a usable
 *    primary) is never handed to a callback: that command's
 *    callback gets NULL, as for a lost link, and only that one (the link
 *    stays up: the other commands sent, which Redis ran, get their
 *    replies). The link is then not calm (wfp_redis_calm) for a backoff
 *    (100 ms doubling to 5 s while such errors go on), in which callers
 *    hold back their retries. MOVED and ASK (the configured node does not
 *    own the {prefix} slot: hiredis 0.14 cannot follow redirects) are
 *    logged as errors that say so.
 *  - Scripts go out as FCALL of the function library (EVALSHA for the bare
 *    request scripts); "Function not found" (a restarted or flushed
 *    server) sends FUNCTION LOAD of the library and the same call as
 *    EVAL, once, as a NOSCRIPT reply does. A link that may not load the
 *    library or FCALL (ACL) sends EVALSHA until it reconnects.
 *  - The reply handed to a callback is valid only during the callback.
 *  - Callbacks never free the connection; wfp_redis_free() must not be
 *    called from inside one.
 */
#ifndef WFP_REDIS_H
#define WFP_REDIS_H

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdint.h>

#include "wfp/config.h"
#include "wfp/scripts.h"

struct wfp_redis;

/*
 * Called with the reply, or with NULL when the command failed (timeout,
 * lost connection, not connected, a transient error); any other error
 * reply is passed as it is.
 */
typedef void wfp_redis_fn(struct wfp_redis *r, redisReply *reply, void *arg);

/* Called after each successful connect (and AUTH/SELECT). */
typedef void wfp_redis_up_fn(struct wfp_redis *r, void *arg);

/*
 * Makes a connection to addr on base; `name` labels its log lines.
 * Connecting starts at once in the background. Returns NULL on no memory.
 */
struct wfp_redis *wfp_redis_new(struct event_base *base,
				const struct wfp_redis_addr *addr,
				const char *name, int64_t timeout_ms);

/* Sets the hook run after each connect. */
void wfp_redis_on_up(struct wfp_redis *r, wfp_redis_up_fn *fn, void *arg);

/* Returns 1 while connected and ready, else 0. */
int wfp_redis_ready(const struct wfp_redis *r);

/* Returns 1 while ready and not backing off after a transient error
 * reply; retries (lost requests, acks, reads) wait for it. */
int wfp_redis_calm(const struct wfp_redis *r);

/* Number of successful connects so far (1 after the first). */
int64_t wfp_redis_connects(const struct wfp_redis *r);

/*
 * Sends argv as one command with a timeout of timeout_ms (0: the default
 * given to wfp_redis_new). fn (may be NULL) gets the reply.
 * Returns 0, or -1 when not connected (fn is not called then).
 */
int wfp_redis_command(struct wfp_redis *r, int64_t timeout_ms, wfp_redis_fn *fn,
		      void *arg, int argc, const char **argv,
		      const size_t *lens);

/*
 * Runs script id with nkeys keys and args (as FCALL, falling back to
 * EVAL on a missing function or NOSCRIPT). Returns as wfp_redis_command
 * does.
 */
int wfp_redis_script(struct wfp_redis *r, enum wfp_script_id id,
		     wfp_redis_fn *fn, void *arg, int nkeys, int argc,
		     const char **argv, const size_t *lens);

/* Returns 1 when an error reply's first word says Redis cannot serve now
 * (BUSY, LOADING, READONLY, OOM, TRYAGAIN, MOVED, ASK, MASTERDOWN,
 * CLUSTERDOWN, UNBLOCKED, NOREPLICAS): retry after a reconnect, never report it
 * as a refusal. */
int wfp_redis_error_transient(const char *msg);

/*
 * Reads a reply to TIME sent at monotonic time sent_us and answered at
 * now_us: Redis's clock is its answer at the middle of the round trip.
 * Sets *offset_us (add it to wfp_mono_us() to get Redis's clock in us)
 * and *err_ms (half the round trip, rounded up). Returns 0, or -1 when
 * reply is not a TIME answer (nothing set).
 */
int wfp_redis_time_offset(const redisReply *reply, int64_t sent_us,
			  int64_t now_us, int64_t *offset_us, int64_t *err_ms);

/* Drops the connection (pending callbacks get NULL) and frees r. */
void wfp_redis_free(struct wfp_redis *r);

#endif
