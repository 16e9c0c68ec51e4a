/*
 * service.h - the request-stream server every wfp daemon is built on.
 *
 * A service reads its request stream {prefix}:svc:<name>:requests through the
 * consumer group <name> (replicas share it), and for each entry:
 *   - checks the envelope (op, reply, timeout_ms, body); the request's
 *     deadline is the entry id's time (Redis's clock when XADD ran) +
 *     timeout_ms (1..WFP_REQUEST_TIMEOUT_MAX_MS; missing or bad: dead
 *     letter), so both ends use Redis's clock;
 *   - drops it, acknowledged, when its deadline has passed or is nearer
 *     than WFP_SERVICE_SERVE_MARGIN_MS plus the clock's error (the client
 *     has given up, so it must never be applied later);
 *   - decodes the msgpack body with the hostile-input-safe codec;
 *   - calls the handler registered for op. A handler that returns -1 has
 *     refused the entry as unreadable: it is moved to the dead-letter
 *     stream with the reason (one script: copy, ack, delete) and the client
 *     gets an error reply. A handler that returns 0 owns the request and
 *     ends it with wfp_request_done() (acknowledge and delete) or, when
 *     Redis failed under it, wfp_request_lost() (left pending, so another
 *     pass retries it or drops it once its deadline passes).
 * Every request may be served twice (a replica that looked dead was only
 * slow, an acknowledgement lost with the link): handlers make serving
 * twice safe (the same job id, the same grant).
 * Rules that always hold:
 *   - A replica holds at most WFP_INFLIGHT_MAX requests (default
 *     WFP_SERVICE_INFLIGHT_MAX): read and not yet acknowledged. It does
 *     not read more until some end.
 *   - Acknowledgements (XACK + XDEL) that fail or cannot be sent are kept
 *     and sent again after the reconnect; a request whose handler lost the
 *     link is fetched again and served (or dropped at its deadline).
 *   - Another replica's request is taken over only when that replica has
 *     been silent in {prefix}:svc:<name>:replicas for a few seconds, or
 *     dropped by anyone once its deadline passed (see service.c).
 * It also checks maxmemory-policy on every connect (refusing to run unless
 * noeviction), restarts reads after reconnects, calls the owner's tick on
 * a timer, exports its counters on /metrics and stops only when work in
 * flight is done.
 */
#ifndef WFP_SERVICE_H
#define WFP_SERVICE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "wfp/client.h"
#include "wfp/daemon.h"
#include "wfp/keys.h"
#include "wfp/redis.h"

/* Default cap on requests one replica holds (env WFP_INFLIGHT_MAX). */
#define WFP_SERVICE_INFLIGHT_MAX 1024

/* A request is served only if at least this long (plus the error of the
 * service's estimate of Redis's clock) is left before its deadline, so
 * its script runs inside the deadline with room to spare. */
#define WFP_SERVICE_SERVE_MARGIN_MS 50

struct wfp_service;

struct wfp_request;

/* Called with a script's successful reply to build the client's reply. */
typedef void wfp_request_ok_fn(struct wfp_request *rq, const redisReply *reply);

/* One request being served; the handler owns it after returning 0. */
struct wfp_request {
	struct wfp_service *svc;
	char entry[64];	      /* stream entry id */
	struct wfp_key reply; /* reply list; s[0] == 0 when none wanted */
	char op[16];
	int64_t deadline_ms;   /* the request's deadline on Redis's clock (entry
				  id ms + timeout_ms) */
	wfp_request_ok_fn *ok; /* set by wfp_request_script */
};

/*
 * Handles one decoded body. Returns 0 when it took over rq, or -1 with a
 * one-line reason in err to dead-letter the entry (rq is then freed by
 * the service).
 */
typedef int wfp_service_handler(struct wfp_request *rq,
				const msgpack_object *body, char *err,
				size_t errlen);

struct wfp_service_op {
	const char *name;
	wfp_service_handler *fn;
};

/* Periodic work (reapers, cleaners), with the command link up. */
typedef void wfp_service_tick_fn(struct wfp_service *svc, void *arg);

/* Extra work after each connect of the command link (groups, ...). */
typedef void wfp_service_up_fn(struct wfp_service *svc, void *arg);

/*
 * Sets up the service `name` on d's loop with ops (terminated by a NULL
 * name). tick runs every tick_ms. Returns NULL on no memory.
 */
struct wfp_service *wfp_service_new(struct wfp_daemon *d, const char *name,
				    const struct wfp_service_op *ops,
				    wfp_service_tick_fn *tick, int64_t tick_ms,
				    wfp_service_up_fn *on_up, void *arg);

void wfp_service_free(struct wfp_service *svc);

/* The command link, for the handlers' scripts. */
struct wfp_redis *wfp_service_redis(const struct wfp_service *svc);

/* The hash tag "{prefix}". */
const char *wfp_service_tag(const struct wfp_service *svc);

/* The daemon (configuration, stopping flag). */
struct wfp_daemon *wfp_service_daemon(const struct wfp_service *svc);

/* The arg given to wfp_service_new. */
void *wfp_service_arg(const struct wfp_service *svc);

/*
 * Redis's clock (ms since the epoch) as this service estimates it: an
 * offset from Redis's TIME measured at each connect and every 10 s,
 * taken at the middle of the round trip, applied to the monotonic clock.
 * Before the first measure, the local clock. Compare with
 * rq->deadline_ms.
 */
int64_t wfp_service_now_ms(const struct wfp_service *svc);

/* Exit status for main: non-zero after a refusal to run. */
int wfp_service_exit_code(const struct wfp_service *svc);

/* Pushes buf as the reply (when the client named a reply list). */
void wfp_request_reply(struct wfp_request *rq, const msgpack_sbuffer *buf);

/* Replies {ok: false, error: msg} and counts a refusal. */
void wfp_request_refuse(struct wfp_request *rq, const char *msg);

/* Acknowledges and deletes the entry; frees rq. */
void wfp_request_done(struct wfp_request *rq);

/* Redis failed: leaves the entry pending and fetches it again after the
 * reconnect, to serve it again unless its deadline passed; frees rq. */
void wfp_request_lost(struct wfp_request *rq);

/*
 * Runs script id (one key, then args) for rq and ends rq when it answers:
 * a success goes to ok (NULL when the script replies to the client
 * itself), an error reply is sent to the client as a refusal, a lost
 * connection leaves the entry pending.
 */
void wfp_request_script(struct wfp_request *rq, enum wfp_script_id id, int argc,
			const char **argv, wfp_request_ok_fn *ok);

/* Counter helpers: registers "wfp_<service>_<name>" on /metrics. */
struct wfp_metric *wfp_service_counter(struct wfp_service *svc,
				       const char *name, const char *help);

#endif
