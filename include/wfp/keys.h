/*
 * keys.h - every Redis key name wfp uses, built in one place.
 *
 * All keys start with the hash tag "{prefix}" (default "{wfp}"), so every
 * script's keys share one Redis Cluster slot. The Lua side builds the same
 * names in common/lua/lib.lua; the README lists them for redis-cli users.
 */
#ifndef WFP_KEYS_H
#define WFP_KEYS_H

#define WFP_KEY_MAX 320
#define WFP_TAG_MAX 40

/* A key name, returned by value so callers need no buffers. */
struct wfp_key {
	char s[WFP_KEY_MAX];
};

/* The consumer group executors' claims read the job stream through. */
#define WFP_JOB_GROUP "executors"

struct wfp_key wfp_key_job(const char *tag, const char *id);	    /* hash */
struct wfp_key wfp_key_deliveries(const char *tag, const char *id); /* stream */
struct wfp_key wfp_key_log(const char *tag, const char *id);	    /* stream */
struct wfp_key wfp_key_index(const char *tag, const char *state);   /* zset */
struct wfp_key wfp_key_job_stream(const char *tag);		    /* stream */
struct wfp_key wfp_key_leases(const char *tag);			    /* zset */
struct wfp_key wfp_key_owners(const char *tag);			    /* zset */
struct wfp_key wfp_key_deadletter(const char *tag);		    /* stream */
struct wfp_key wfp_key_events(const char *tag);			    /* stream */
struct wfp_key wfp_key_idem(const char *tag, const char *key);	    /* string */

struct wfp_key wfp_key_lock(const char *tag, const char *name);	    /* string */
struct wfp_key wfp_key_lockinfo(const char *tag, const char *name); /* hash */
struct wfp_key wfp_key_lockfence(const char *tag,
				 const char *name);		 /* counter */
struct wfp_key wfp_key_lockq(const char *tag, const char *name); /* zset */
struct wfp_key wfp_key_locks_held(const char *tag);		 /* zset */
struct wfp_key wfp_key_locks_waiters(const char *tag);		 /* zset */

/* Highest fence a protected resource has seen (see fence_check.lua). */
struct wfp_key wfp_key_fence(const char *tag, const char *resource);

/* Request stream of a service ("jobboard", ...); its group has the same
 * name as the service. */
struct wfp_key wfp_key_requests(const char *tag, const char *service);

/* Replicas of a service by last sign of life (ms): a zset each replica
 * refreshes every second, for `wfp status`. */
struct wfp_key wfp_key_replicas(const char *tag, const char *service);

/* An executor's record (a hash: name host pid started_at heartbeat_at
 * concurrency jobs running detail), expiring 3 beats after its last
 * write; the executors themselves are in wfp_key_replicas(tag,
 * "executor"). */
struct wfp_key wfp_key_executor_info(const char *tag, const char *name);
/* The remembered answer of one request (entry id) a service served, so
 * the same request served again answers the same (a string with a TTL). */
struct wfp_key wfp_key_done(const char *tag, const char *service,
			    const char *entry);

/* A lock waiter's record (a hash), and the arrival sequence of waiters. */
struct wfp_key wfp_key_waiter(const char *tag, const char *token);
struct wfp_key wfp_key_locks_seq(const char *tag);

/* A reply list a client waits on for one request. */
struct wfp_key wfp_key_reply(const char *tag, const char *nonce);

/* Reservations and pools (the wfp-reservation service). A pool (hash:
 * name capacity used reservations created_at updated_at), the pools by
 * creation (zset name -> created_at) and a pool's holders (zset rsv id ->
 * created_at). */
struct wfp_key wfp_key_pool(const char *tag, const char *name);	   /* hash */
struct wfp_key wfp_key_pools(const char *tag);			   /* zset */
struct wfp_key wfp_key_poolrsv(const char *tag, const char *name); /* zset */
/* A reservation (hash) and the reservations in one state (zset id ->
 * updated_at). */
struct wfp_key wfp_key_rsv(const char *tag, const char *id);
struct wfp_key wfp_key_rsvs(const char *tag, const char *state);
/* The service's keys: pending reservations by TTL end (a lease set: zset
 * id -> expires_at), job id -> rsv id (hash), and the reservations whose
 * bookkeeping is not over (zset id -> created_at). */
struct wfp_key wfp_key_rsv_expiry(const char *tag);
struct wfp_key wfp_key_rsv_jobs(const char *tag);
struct wfp_key wfp_key_rsv_open(const char *tag);

#endif
