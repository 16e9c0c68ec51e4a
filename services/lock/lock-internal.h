/*
 * lock-internal.h - the lock daemon's parts.
 *
 * lock.c serves {prefix}:svc:lock:requests (acquire with waiting, renew,
 * release) and runs lock_tick.lua through a lease watch (common/lease.c)
 * at each lease or wait end: expired leases produce an
 * `expired` event and go to their first waiter; waiters whose wait ran out
 * are answered TIMEOUT. The rules live in common/lua/lock*.lua.
 */
#ifndef WFP_LOCK_INTERNAL_H
#define WFP_LOCK_INTERNAL_H

#include <msgpack.h>
#include <stddef.h>

#include "wfp/daemon.h"
#include "wfp/lock.h"

struct lockd;

/* Sets up the lock service on d's loop. Returns NULL on failure. */
struct lockd *lockd_new(struct wfp_daemon *d);

int lockd_exit_code(const struct lockd *l);

void lockd_free(struct lockd *l);

/* A decoded acquire request (pure: no I/O). */
struct lockd_acquire {
	char names[WFP_LOCK_MULTI_MAX][WFP_LOCK_NAME_MAX];
	int n;
	char owner[WFP_LOCK_OWNER_MAX];
	char token[WFP_LOCK_TOKEN_MAX];
	int64_t ttl_ms;
	int64_t wait_ms;
};

/* Checks an acquire body. Returns 0 or -1 with err. */
int lockd_parse_acquire(const msgpack_object *body, struct lockd_acquire *a,
			char *err, size_t errlen);

/* A decoded renew or release request (pure: no I/O). */
struct lockd_holder {
	char name[WFP_LOCK_NAME_MAX];
	char token[WFP_LOCK_TOKEN_MAX];
	int64_t ttl_ms; /* renew: the new lease; release: 0 */
};

/* Checks a renew (renew 1: {name, token, ttl_ms}) or release (renew 0:
 * {name, token}) body. Returns 0 or -1 with err. */
int lockd_parse_holder(const msgpack_object *body, int renew,
		       struct lockd_holder *h, char *err, size_t errlen);

#endif
