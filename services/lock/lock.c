/* lock.c - the lock daemon: request stream and the lease/waiter watch
 * (see lock-internal.h and the README's "Locks" section). */
#include "lock-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/lease.h"
#include "wfp/log.h"
#include "wfp/metrics.h"
#include "wfp/redis.h"
#include "wfp/service.h"
#include "wfp/util.h"

#define SERVICE	   "lock"
#define POLL_MS	   10 /* the earliest lease and wait are looked at this often */
#define TICK_MS	   25 /* the service tick: signs of life, acks, retries */
#define TICK_LIMIT 500 /* leases and waiters looked at per pass */
_Static_assert(TICK_LIMIT <= WFP_LOCK_TICK_LIMIT_MAX,
	       "lock_tick.lua refuses a larger limit");

struct lockd {
	struct wfp_daemon *d;
	struct wfp_service *svc;
	struct wfp_lease_watch *watch; /* the held and waiters sets */
	struct wfp_metric *m_expired, *m_timeouts, *m_grants;
};

/* ------------------------------------------------------------------ */
/* Validation (pure)                                                   */
/* ------------------------------------------------------------------ */

/* Reads "names" (an array of strings) or "name" into a. */
static int parse_names(const msgpack_object *body, struct lockd_acquire *a,
		       char *err, size_t errlen)
{
	const msgpack_object *v = wfp_codec_get(body, "names");

	if (v == NULL) {
		a->n = 1;
		return wfp_codec_str(body, "name", 1, a->names[0],
				     WFP_LOCK_NAME_MAX, err, errlen);
	}
	if (wfp_codec_get(body, "name") != NULL)
		return snprintf(err, errlen,
				"give 'name' or 'names', not both"),
		       -1;
	if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size == 0 ||
	    v->via.array.size > WFP_LOCK_MULTI_MAX)
		return snprintf(err, errlen,
				"field 'names' is not an array of 1 to %d",
				WFP_LOCK_MULTI_MAX),
		       -1;
	a->n = (int)v->via.array.size;
	for (int i = 0; i < a->n; i++) {
		const msgpack_object *o = &v->via.array.ptr[i];

		if (o->type != MSGPACK_OBJECT_STR ||
		    o->via.str.size >= WFP_LOCK_NAME_MAX ||
		    memchr(o->via.str.ptr, '\0', o->via.str.size))
			return snprintf(err, errlen,
					"a lock name is not a "
					"string of 1-128 bytes"),
			       -1;
		memcpy(a->names[i], o->via.str.ptr, o->via.str.size);
		a->names[i][o->via.str.size] = '\0';
	}
	return 0;
}

int lockd_parse_acquire(const msgpack_object *body, struct lockd_acquire *a,
			char *err, size_t errlen)
{
	static const char *const fields[] = {
	    "name", "names", "owner", "token", "ttl_ms", "wait_ms", NULL};
	const char *names[WFP_LOCK_MULTI_MAX];

	memset(a, 0, sizeof(*a));
	if (wfp_codec_only_keys(body, fields, err, errlen) ||
	    parse_names(body, a, err, errlen) ||
	    wfp_codec_str(body, "owner", 1, a->owner, sizeof(a->owner), err,
			  errlen) ||
	    wfp_codec_str(body, "token", 1, a->token, sizeof(a->token), err,
			  errlen) ||
	    wfp_codec_int(body, "ttl_ms", 1, WFP_LOCK_TTL_MIN_MS,
			  WFP_LOCK_TTL_MAX_MS, &a->ttl_ms, err, errlen) ||
	    wfp_codec_int(body, "wait_ms", 0, 0, WFP_LOCK_WAIT_MAX_MS,
			  &a->wait_ms, err, errlen) ||
	    wfp_lock_check_token(a->token, err, errlen))
		return -1;
	if (strncmp(a->token, a->owner, strlen(a->owner)) != 0 ||
	    a->token[strlen(a->owner)] != '/')
		return snprintf(err, errlen, "token does not name the owner"),
		       -1;
	for (int i = 0; i < a->n; i++)
		names[i] = a->names[i];
	return wfp_lock_check_acquire(names, a->n, a->owner, a->ttl_ms,
				      a->wait_ms, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Serving requests                                                    */
/* ------------------------------------------------------------------ */

/* Runs a lock script for rq with its reply key last; the script replies
 * to the client itself. */
static void request_run(struct wfp_request *rq, enum wfp_script_id id, int argc,
			const char **argv)
{
	wfp_request_script(rq, id, argc, argv, NULL);
}

/* op "acquire" {name | names, owner, token, ttl_ms, wait_ms}. The
 * request's deadline goes to the script, which ends a wait before it. */
static int serve_acquire(struct wfp_request *rq, const msgpack_object *body,
			 char *err, size_t errlen)
{
	const char *tag = wfp_service_tag(rq->svc);
	struct lockd_acquire a;
	char ttl[24], wait[24], deadline[24];
	const char *argv[8 + WFP_LOCK_MULTI_MAX];
	struct wfp_key first;

	if (lockd_parse_acquire(body, &a, err, errlen) != 0)
		return -1;
	first = wfp_key_lock(tag, a.names[0]);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)a.ttl_ms);
	snprintf(wait, sizeof(wait), "%lld", (long long)a.wait_ms);
	snprintf(deadline, sizeof(deadline), "%lld",
		 (long long)(rq->deadline_ms > 0 ? rq->deadline_ms : 0));
	argv[0] = first.s, argv[1] = tag, argv[2] = a.owner;
	argv[3] = a.token, argv[4] = ttl, argv[5] = wait, argv[6] = rq->reply.s;
	argv[7] = deadline;
	for (int i = 0; i < a.n; i++)
		argv[8 + i] = a.names[i];
	request_run(rq, WFP_LUA_LOCK_ACQUIRE, 8 + a.n, argv);
	return 0;
}

/* Reads a renew or release body (pure: see lock-internal.h). */
int lockd_parse_holder(const msgpack_object *body, int renew,
		       struct lockd_holder *h, char *err, size_t errlen)
{
	static const char *const rfields[] = {"name", "token", "ttl_ms", NULL};
	static const char *const lfields[] = {"name", "token", NULL};

	memset(h, 0, sizeof(*h));
	if (wfp_codec_only_keys(body, renew ? rfields : lfields, err, errlen) ||
	    wfp_codec_str(body, "name", 1, h->name, sizeof(h->name), err,
			  errlen) ||
	    wfp_codec_str(body, "token", 1, h->token, sizeof(h->token), err,
			  errlen) ||
	    wfp_codec_int(body, "ttl_ms", renew, WFP_LOCK_TTL_MIN_MS,
			  WFP_LOCK_TTL_MAX_MS, &h->ttl_ms, err, errlen) ||
	    wfp_lock_check_name(h->name, err, errlen) ||
	    wfp_lock_check_token(h->token, err, errlen))
		return -1;
	return 0;
}

/* ops "renew" {name, token, ttl_ms} and "release" {name, token}. */
static int serve_holder_op(struct wfp_request *rq, const msgpack_object *body,
			   int renew, char *err, size_t errlen)
{
	const char *tag = wfp_service_tag(rq->svc);
	struct lockd_holder h;
	char ttl[24];
	struct wfp_key k;

	if (lockd_parse_holder(body, renew, &h, err, errlen) != 0)
		return -1;
	k = wfp_key_lock(tag, h.name);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)h.ttl_ms);
	if (renew) {
		const char *argv[6] = {k.s,	tag, h.name,
				       h.token, ttl, rq->reply.s};
		request_run(rq, WFP_LUA_LOCK_RENEW, 6, argv);
	} else {
		const char *argv[5] = {k.s, tag, h.name, h.token, rq->reply.s};
		request_run(rq, WFP_LUA_LOCK_RELEASE, 5, argv);
	}
	return 0;
}

static int serve_renew(struct wfp_request *rq, const msgpack_object *body,
		       char *err, size_t errlen)
{
	return serve_holder_op(rq, body, 1, err, errlen);
}

static int serve_release(struct wfp_request *rq, const msgpack_object *body,
			 char *err, size_t errlen)
{
	return serve_holder_op(rq, body, 0, err, errlen);
}

static const struct wfp_service_op ops[] = {
    {"acquire", serve_acquire},
    {"renew", serve_renew},
    {"release", serve_release},
    {NULL, NULL},
};

/* ------------------------------------------------------------------ */
/* Lease ends: the watch over the held and waiters sets                */
/* ------------------------------------------------------------------ */

/*
 * Lock leases (the held set) and waits (the waiters set) end at times the
 * acquirers chose. A lease watch (common/lease.c) looks at the earliest
 * end of both every POLL_MS and runs lock_tick.lua at that exact end, so
 * an expired lease is announced and handed to its first waiter, and a
 * wait that ran out is answered, within about a millisecond of the end.
 */

/* A lock_tick.lua pass answered {expired, timed_out, granted, now_ms,
 * next_end_ms} (NULL: it failed; the watch tries again). */
static void on_ticked(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct lockd *l = arg;
	long long now, next;

	(void)r;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 5) {
		wfp_lease_watch_passed(l->watch, -1, -1, 0);
		return;
	}
	l->m_expired->value += reply->element[0]->integer;
	l->m_timeouts->value += reply->element[1]->integer;
	l->m_grants->value += reply->element[2]->integer;
	if (reply->element[0]->integer > 0)
		wfp_info("%lld lock leases expired",
			 reply->element[0]->integer);
	now = reply->element[3]->integer;
	next = reply->element[4]->integer;
	/* an end still due after the pass: it stopped at its limit */
	wfp_lease_watch_passed(l->watch, now, next, next >= 0 && next <= now);
}

/* The watch's pass: one lock_tick.lua call. Returns 0 when sent, -1 when
 * not (stopping, link down). */
static int tick_pass(struct wfp_lease_watch *w, void *arg)
{
	struct lockd *l = arg;
	const char *tag = wfp_service_tag(l->svc);
	struct wfp_key held = wfp_key_locks_held(tag);
	char limit[16];
	const char *argv[3] = {held.s, tag, limit};

	(void)w;
	if (l->d->stopping)
		return -1;
	snprintf(limit, sizeof(limit), "%d", TICK_LIMIT);
	return wfp_redis_script(wfp_service_redis(l->svc), WFP_LUA_LOCK_TICK,
				on_ticked, l, 1, 3, argv, NULL);
}

/* Starts the watch over the held and waiters sets. Returns 0, or -1 on
 * no memory. */
static int watch_start(struct lockd *l)
{
	const char *tag = wfp_service_tag(l->svc);
	struct wfp_key held = wfp_key_locks_held(tag);
	struct wfp_key waiters = wfp_key_locks_waiters(tag);
	const char *sets[2] = {held.s, waiters.s};

	l->watch = wfp_lease_watch_new(l->d->base, wfp_service_redis(l->svc),
				       sets, 2, POLL_MS, tick_pass, l);
	return l->watch ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

struct lockd *lockd_new(struct wfp_daemon *d)
{
	struct lockd *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->d = d;
	l->svc = wfp_service_new(d, SERVICE, ops, NULL, TICK_MS, NULL, l);
	if (l->svc == NULL) {
		free(l);
		return NULL;
	}
	l->m_expired = wfp_service_counter(
	    l->svc, "expired", "Leases that ran out without a renew");
	l->m_timeouts =
	    wfp_service_counter(l->svc, "wait_timeouts",
				"Waiting acquirers told their wait ran out");
	l->m_grants = wfp_service_counter(
	    l->svc, "waiter_grants",
	    "Locks handed to waiters when a lease or wait ended");
	if (watch_start(l) != 0) {
		lockd_free(l);
		return NULL;
	}
	return l;
}

int lockd_exit_code(const struct lockd *l)
{
	return wfp_service_exit_code(l->svc);
}

void lockd_free(struct lockd *l)
{
	if (l == NULL)
		return;
	wfp_lease_watch_free(l->watch); /* a pass in flight ends below */
	wfp_service_free(l->svc);
	free(l);
}
