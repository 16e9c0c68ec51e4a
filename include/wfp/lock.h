/*
 * lock.h - named locks with a TTL, owner tokens and fencing tokens.
 *
 * Rules that always hold:
 *  - A lock is held by at most one owner at a time, for the TTL it was
 *    granted or last renewed with. Only the token it was granted under can
 *    renew or release it; anything else is refused with STALE.
 *  - Each grant of a lock carries a fencing token larger than every
 *    earlier one of that lock (+1, floored at the server clock in
 *    microseconds). A protected resource records the last fence it
 *    accepted and its owner, refuses lower fences and accepts an equal
 *    one only from that owner (wfp_fence_check, or the same check in the
 *    resource's own write script), so it never accepts a write from an
 *    owner whose lock expired.
 *  - Acquiring several locks is all or nothing; waiting acquirers are
 *    served in arrival order, so overlapping requests cannot deadlock.
 *  - A waiting acquire never outlives its request: its wait ends at
 *    wait_ms or WFP_LOCK_REPLY_MARGIN_MS before the request's deadline,
 *    whichever comes first, and a waiter at its deadline is never granted.
 *  - The lock scripts check their keys and arguments against the limits
 *    below (the same numbers are in common/lua/locklib.lua and
 *    fence_check.lua; a unit test checks they agree) and refuse with
 *    BADARG before any write, whoever calls them.
 * An uncontended acquire (wait_ms 0, or free locks) runs the lock
 * service's script directly; a waiting acquire goes through wfp-lock.
 * The token is "<owner>/<128 random bits in hex>": `GET` on the lock's key
 * shows who holds it. It is a credential: the CLI prints it only to the
 * one who acquired the lock, never in `lock show` or `lock list`.
 */
#ifndef WFP_LOCK_H
#define WFP_LOCK_H

#include <stdint.h>

#include "wfp/client.h"

#define WFP_LOCK_NAME_MAX	129 /* 1..128 of A-Z a-z 0-9 _ . : / - */
#define WFP_LOCK_OWNER_MAX	65  /* 1..64 of A-Z a-z 0-9 _ . : @ - */
#define WFP_LOCK_TOKEN_MAX	(WFP_LOCK_OWNER_MAX + 34)
#define WFP_LOCK_MULTI_MAX	16 /* locks in one request */
#define WFP_LOCK_TTL_MIN_MS	10
#define WFP_LOCK_TTL_MAX_MS	86400000LL	     /* one day */
#define WFP_LOCK_WAIT_MAX_MS	3600000LL	     /* one hour */
#define WFP_LOCK_PREFIX_MAX	(WFP_PREFIX_MAX - 1) /* in the tag {PREFIX} */
#define WFP_LOCK_TIME_MAX_MS	9007199254740991LL   /* 2^53-1: exact in Lua */
#define WFP_LOCK_FENCE_MAX	WFP_LOCK_TIME_MAX_MS
#define WFP_LOCK_TICK_LIMIT_MAX 10000 /* leases, waiters per tick call */
/* A waiter's wait ends this long before its request's deadline, so the
 * TIMEOUT (or a grant) reaches the client before it gives up. */
#define WFP_LOCK_REPLY_MARGIN_MS 100
/* A lock's info hash outlives its lease by this, so the expiry tick can
 * still name the owner that lost it; released or expired, it is removed. */
#define WFP_LOCK_INFO_GRACE_MS 10000
/* Waiting requests queued on one lock, and on all locks together; an
 * acquire that would wait past either is refused BUSY (each waiter is a
 * hash and a member of every queue it waits in). */
#define WFP_LOCK_WAITERS_MAX	 10000
#define WFP_LOCK_WAITERS_ALL_MAX 100000

/* What an acquire was granted. */
struct wfp_lock_grant {
	char owner[WFP_LOCK_OWNER_MAX];
	char token[WFP_LOCK_TOKEN_MAX];
	int64_t ttl_ms;
	int n;
	char names[WFP_LOCK_MULTI_MAX][WFP_LOCK_NAME_MAX];
	int64_t fences[WFP_LOCK_MULTI_MAX];
};

/*
 * Packs the msgpack body of a waiting acquire request to wfp-lock (names,
 * owner, token, ttl_ms of g; wait_ms) into buf, which the caller owns.
 */
void wfp_lock_pack_acquire(msgpack_sbuffer *buf, const struct wfp_lock_grant *g,
			   int64_t wait_ms);

/* Checks a lock name. Returns 0 or -1 with err. */
int wfp_lock_check_name(const char *name, char *err, size_t errlen);

/* Checks an owner name. Returns 0 or -1 with err. */
int wfp_lock_check_owner(const char *owner, char *err, size_t errlen);

/* Checks a token: "<owner>/<32 hex>". Returns 0 or -1 with err. */
int wfp_lock_check_token(const char *token, char *err, size_t errlen);

/*
 * Checks an acquire's arguments: 1..WFP_LOCK_MULTI_MAX distinct valid
 * names, a valid owner, ttl and wait within limits. Returns 0 or -1.
 */
int wfp_lock_check_acquire(const char *const *names, int n, const char *owner,
			   int64_t ttl_ms, int64_t wait_ms, char *err,
			   size_t errlen);

/*
 * Takes names[0..n) for owner with a lease of ttl_ms, all or nothing,
 * waiting up to wait_ms (through wfp-lock) when any is held. Fills out.
 * Returns 0; -1 with "BUSY ..." (held, no wait), "TIMEOUT ..." (the wait
 * ran out; names the locks held by others), "no reply ..." (wfp-lock did
 * not answer in time: nothing is granted later, and a grant whose reply
 * was lost has been released) or another reason in wfp_client_error().
 */
int wfp_lock_acquire(struct wfp_client *c, const char *const *names, int n,
		     const char *owner, int64_t ttl_ms, int64_t wait_ms,
		     struct wfp_lock_grant *out);

/* Extends the lease of name held under token to ttl_ms from now.
 * *expires_at (may be NULL) gets its end. Refused (STALE) when not held. */
int wfp_lock_renew(struct wfp_client *c, const char *name, const char *token,
		   int64_t ttl_ms, int64_t *expires_at);

/* Releases name held under token; its first waiter gets it. */
int wfp_lock_release(struct wfp_client *c, const char *name, const char *token);

/* Releases every lock of a grant (stops at the first failure). */
int wfp_lock_release_grant(struct wfp_client *c,
			   const struct wfp_lock_grant *g);

/*
 * The check a protected resource makes before a write, with the fence
 * and owner of the writer's grant: refuses (STALE) a fence lower than the
 * last one resource accepted, and an equal fence from another owner;
 * else records fence and owner in {prefix}:fence:RESOURCE. resource is
 * 1-128 of A-Z a-z 0-9 _ . : / -; fence 1..WFP_LOCK_FENCE_MAX; owner a
 * lock's owner or a job's (a job fence guards a resource the same way):
 * 1-127 bytes of UTF-8 text without control characters. Returns 0 or -1
 * with the reason in wfp_client_error().
 */
int wfp_fence_check(struct wfp_client *c, const char *resource, int64_t fence,
		    const char *owner);

#endif
