/* xlock.c - the locks of a task: all at once before its action runs
 * (the lock service's own script first; when any is held, a waiting
 * request through wfp-lock's request stream whose reply is polled on the
 * command link), renewed with the job's lease, released after. The lock
 * owner is the executor's name, the ttl its WFP_VISIBILITY_MS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor-internal.h"
#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/log.h"
#include "wfp/util.h"

static void lock_request(struct xtask *t);
static void orphan_new(struct xtask *t);
static int lock_each(struct xtask *t, const char *ttl);

/* A lock command of t answered: 1 when t is still wanted. */
static int lock_answered(struct xtask *t)
{
	t->lock_cmds--;
	if (t->freed || t->job->gone) {
		if (t->freed)
			xtask_free(t);
		return 0;
	}
	return t->on_locks != NULL;
}

/* Ends the wait for t's locks with ok / why. */
static void lock_done(struct xtask *t, int ok, const char *why)
{
	void (*fn)(struct xtask *, int, const char *) = t->on_locks;

	t->on_locks = NULL;
	if (t->poll)
		evtimer_del(t->poll);
	t->granted = ok;
	if (fn)
		fn(t, ok, why);
}

/* Runs a lock script on t's behalf. */
static int lock_script(struct xtask *t, enum wfp_script_id id, wfp_redis_fn *fn,
		       int argc, const char **argv)
{
	if (wfp_redis_script(t->job->x->r, id, fn, t, 1, argc, argv, NULL) != 0)
		return -1;
	t->lock_cmds++;
	return 0;
}

/* Arms t's poll timer after ms. */
static void poll_after(struct xtask *t, int64_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(t->poll, &tv);
}

/* A fresh token for t's next try. */
static int new_token(struct xtask *t)
{
	char hex[33];

	if (wfp_random_hex(hex, 16) != 0)
		return -1;
	snprintf(t->grant.token, sizeof(t->grant.token), "%s/%s",
		 t->grant.owner, hex);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The waiting request                                                 */
/* ------------------------------------------------------------------ */

/* Reads a msgpack reply {ok, fences | error}. */
static void lock_reply(struct xtask *t, const redisReply *r)
{
	struct wfp_msg m;
	const msgpack_object *ok, *f, *er;
	char err[256], why[WFP_REASON_MAX] = "bad reply from wfp-lock";

	if (wfp_msg_decode(&m, r->str, r->len, err, sizeof(err)) != 0) {
		lock_done(t, 0, why);
		return;
	}
	ok = wfp_codec_get(&m.u.data, "ok");
	f = wfp_codec_get(&m.u.data, "fences");
	er = wfp_codec_get(&m.u.data, "error");
	if (ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean && f &&
	    f->type == MSGPACK_OBJECT_ARRAY &&
	    (int)f->via.array.size == t->grant.n) {
		for (int i = 0; i < t->grant.n; i++)
			t->grant.fences[i] =
			    (int64_t)f->via.array.ptr[i].via.u64;
		wfp_msg_destroy(&m);
		{
			lock_done(t, 1, "");
			return;
		}
	}
	if (er && er->type == MSGPACK_OBJECT_STR)
		snprintf(why, sizeof(why), "%.*s", (int)er->via.str.size,
			 er->via.str.ptr);
	wfp_msg_destroy(&m);
	if (strncmp(why, "TIMEOUT", 7) == 0) { /* still held: ask again */
		lock_request(t);
		return;
	}
	lock_done(t, 0, why);
}

/* LPOP of the reply key answered. */
static void on_poll_reply(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xtask *t = arg;

	(void)r;
	if (!lock_answered(t))
		return;
	if (reply && reply->type == REDIS_REPLY_STRING) {
		lock_reply(t, reply);
		return;
	}
	if (exec_now() < t->lock_deadline_ms) {
		poll_after(t, EXEC_LOCK_POLL_MS);
		return;
	}
	/* No reply in time: a grant whose reply was lost would hold until
	 * its ttl; release it, then ask again. */
	xlock_release(t);
	lock_request(t);
}

/* Looks for the reply. */
static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct xtask *t = arg;
	const char *argv[2] = {"LPOP", t->rkey};

	(void)fd, (void)what;
	if (t->freed || t->job->gone || t->on_locks == NULL)
		return;
	if (wfp_redis_command(t->job->x->r, 0, on_poll_reply, t, 2, argv,
			      NULL) == 0)
		t->lock_cmds++;
	else
		poll_after(t, EXEC_RETRY_MS);
}

/* request_add answered: poll for the reply, or try again later. */
static void on_request_added(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xtask *t = arg;

	(void)r;
	if (!lock_answered(t))
		return;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		if (reply)
			wfp_warn("job %s task %s: lock request: %s", t->job->id,
				 t->job->wf->tasks[t->step.task].name,
				 reply->str);
		else /* lost: it may be queued in wfp-lock all the same, and
			its grant would hold the locks for a whole ttl while
			we wait under the next request: an orphan watches
			its reply key and releases what it is granted */
			orphan_new(t);
		t->lock_deadline_ms = 0; /* the timer asks again */
		poll_after(t, reply ? 1000 : EXEC_RETRY_MS);
		return;
	}
	poll_after(t, EXEC_LOCK_POLL_MS);
}

/* Sends a waiting acquire to wfp-lock (request_add.lua). */
static void lock_request(struct xtask *t)
{
	struct executor *x = t->job->x;
	struct wfp_key stream = wfp_key_requests(x->tag, "lock");
	int64_t timeout = EXEC_LOCK_WAIT_MS + x->d->cfg.timeout_ms;
	char nonce[33], tmo[24], cap[24];
	msgpack_sbuffer body;
	const char *argv[12];
	size_t lens[12];
	int rc;

	if (wfp_random_hex(nonce, 16) != 0 || new_token(t) != 0) {
		lock_done(t, 0, "no randomness");
		return;
	}
	wfp_strlcpy(t->rkey, wfp_key_reply(x->tag, nonce).s, sizeof(t->rkey));
	snprintf(tmo, sizeof(tmo), "%lld", (long long)timeout);
	snprintf(cap, sizeof(cap), "%d", WFP_REQUEST_STREAM_MAX);
	msgpack_sbuffer_init(&body);
	wfp_lock_pack_acquire(&body, &t->grant, EXEC_LOCK_WAIT_MS);
	argv[0] = stream.s, argv[1] = x->tag, argv[2] = "lock", argv[3] = cap;
	argv[4] = "op", argv[5] = "acquire", argv[6] = "reply";
	argv[7] = t->rkey, argv[8] = "timeout_ms", argv[9] = tmo;
	argv[10] = "body", argv[11] = body.data;
	for (int i = 0; i < 11; i++)
		lens[i] = strlen(argv[i]);
	lens[11] = body.size;
	t->lock_deadline_ms = exec_now() + timeout + 1000;
	rc = wfp_redis_script(x->r, WFP_LUA_REQUEST_ADD, on_request_added, t, 1,
			      12, argv, lens);
	msgpack_sbuffer_destroy(&body);
	if (rc == 0) {
		t->lock_cmds++;
		return;
	}
	/* Not sent (the link is down): nothing to wait for; ask again. */
	t->lock_deadline_ms = 0;
	poll_after(t, 1000);
}

/* ------------------------------------------------------------------ */
/* Direct attempt, renew, release                                      */
/* ------------------------------------------------------------------ */

/* The direct acquire answered: granted, or wait through wfp-lock. */
static void on_direct(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xtask *t = arg;

	(void)r;
	if (!lock_answered(t))
		return;
	if (reply == NULL) {
		/* Lost: it may have taken the locks under this token all the
		 * same; they are released (STALE when not held: fine) before
		 * the next try, under a new token, would wait behind them
		 * for a whole ttl. */
		t->release_old = 1;
		t->lock_deadline_ms = 0;
		poll_after(t, EXEC_RETRY_MS);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		lock_done(t, 0, reply->str);
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
	    reply->element[0]->str &&
	    strcmp(reply->element[0]->str, "granted") == 0) {
		for (int i = 0; i < t->grant.n && i + 1 < (int)reply->elements;
		     i++)
			t->grant.fences[i] = reply->element[i + 1]->integer;
		{
			lock_done(t, 1, "");
			return;
		}
	}
	lock_request(t);
}

/* Poll timer while no request is out (deadline 0): ask again. */
static void on_poll_or_retry(evutil_socket_t fd, short what, void *arg)
{
	struct xtask *t = arg;

	if (t->freed || t->job->gone || t->on_locks == NULL)
		return;
	if (t->lock_deadline_ms == 0) {
		if (t->release_old) { /* sent before the next request */
			if (lock_each(t, NULL) != 0) {
				poll_after(t, EXEC_RETRY_MS);
				return;
			}
			t->release_old = 0;
		}
		lock_request(t);
		return;
	}
	on_poll(fd, what, arg);
}

void xlock_acquire(struct xtask *t,
		   void (*granted)(struct xtask *t, int ok, const char *why))
{
	struct executor *x = t->job->x;
	const struct wfp_wf_task *wt = &t->job->wf->tasks[t->step.task];
	struct wfp_key first = wfp_key_lock(x->tag, wt->locks[0]);
	char ttl[24];
	const char *argv[8 + WFP_LOCK_MULTI_MAX];

	t->on_locks = granted;
	t->nlocks = wt->nlocks;
	memset(&t->grant, 0, sizeof(t->grant));
	wfp_strlcpy(t->grant.owner, x->set.name, sizeof(t->grant.owner));
	t->grant.ttl_ms = x->d->cfg.visibility_ms;
	t->grant.n = wt->nlocks;
	for (int i = 0; i < wt->nlocks && i < WFP_LOCK_MULTI_MAX; i++)
		wfp_strlcpy(t->grant.names[i], wt->locks[i],
			    sizeof(t->grant.names[i]));
	if (t->poll == NULL)
		t->poll = evtimer_new(x->d->base, on_poll_or_retry, t);
	if (t->poll == NULL || new_token(t) != 0) {
		lock_done(t, 0, "out of memory");
		return;
	}
	snprintf(ttl, sizeof(ttl), "%lld", (long long)t->grant.ttl_ms);
	argv[0] = first.s, argv[1] = x->tag, argv[2] = t->grant.owner;
	argv[3] = t->grant.token, argv[4] = ttl, argv[5] = "0", argv[6] = "";
	argv[7] = "0";
	for (int i = 0; i < t->grant.n; i++)
		argv[8 + i] = t->grant.names[i];
	if (lock_script(t, WFP_LUA_LOCK_ACQUIRE, on_direct, 8 + t->grant.n,
			argv) != 0) {
		t->lock_deadline_ms = 0;
		poll_after(t, EXEC_RETRY_MS);
	}
}

/* A renew or release answered. */
static void on_lock_cmd(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xtask *t = arg;

	(void)r;
	t->lock_cmds--;
	if (reply && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "STALE", 5) != 0)
		wfp_warn("job %s: lock command refused: %s", t->job->id,
			 reply->str);
	if (t->freed)
		xtask_free(t);
}

/* A renew answered: a refusal (STALE: the lock expired or someone else
 * holds it) means the running action is no longer protected by it: it is
 * killed and its end logged as a failure naming the lock. */
static void on_renew(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xtask *t = arg;

	if (reply && reply->type == REDIS_REPLY_ERROR && !t->freed &&
	    !t->job->gone && t->run && t->granted && !t->lock_lost) {
		t->lock_lost = 1;
		wfp_warn("job %s task %s: a lock was lost while it ran (%s): "
			 "the task is killed",
			 t->job->id, t->job->wf->tasks[t->step.task].name,
			 reply->str);
		wfp_taskrun_kill(t->run);
	}
	on_lock_cmd(r, reply, arg);
}

/* Runs renew (ttl != NULL) or release of every lock of t's grant.
 * Returns 0, or -1 when some command could not be sent. */
static int lock_each(struct xtask *t, const char *ttl)
{
	int rc = 0;

	enum wfp_script_id id = ttl ? WFP_LUA_LOCK_RENEW : WFP_LUA_LOCK_RELEASE;

	for (int i = 0; i < t->grant.n; i++) {
		struct wfp_key k =
		    wfp_key_lock(t->job->x->tag, t->grant.names[i]);
		const char *argv[6] = {k.s,
				       t->job->x->tag,
				       t->grant.names[i],
				       t->grant.token,
				       ttl ? ttl : "",
				       ""};

		if (wfp_redis_script(t->job->x->r, id,
				     ttl ? on_renew : on_lock_cmd, t, 1,
				     ttl ? 6 : 5, argv, NULL) == 0)
			t->lock_cmds++;
		else
			rc = -1;
	}
	return rc;
}

void xlock_renew(struct xtask *t)
{
	char ttl[24];

	snprintf(ttl, sizeof(ttl), "%lld", (long long)t->grant.ttl_ms);
	lock_each(t, ttl);
}

void xlock_release(struct xtask *t)
{
	if (t->grant.n == 0 || t->grant.token[0] == '\0')
		return;
	lock_each(t, NULL);
	t->granted = 0;
	t->grant.token[0] = '\0'; /* released once */
}

/* ------------------------------------------------------------------ */
/* Abandoned waits                                                     */
/* ------------------------------------------------------------------ */

/* A waiting request given up (cancel, SIGTERM, a lost job): wfp-lock may
 * still grant it until its deadline, and that grant would hold the locks
 * for a whole ttl. An orphan keeps polling its reply key until then and
 * releases whatever is granted. */
struct xorphan {
	struct executor *x;
	char rkey[WFP_KEY_MAX];
	struct wfp_lock_grant g;
	int64_t deadline_ms;
	struct event *ev;
	int cmds; /* commands in flight */
	int done;
	struct xorphan *next;
};

/* Unlinks and frees o once it is done and nothing is in flight. */
static void orphan_maybe_free(struct xorphan *o)
{
	if (!o->done || o->cmds > 0)
		return;
	for (struct xorphan **p = &o->x->orphans; *p; p = &(*p)->next) {
		if (*p == o) {
			*p = o->next;
			break;
		}
	}
	event_free(o->ev);
	free(o);
}

/* A release of an orphan's grant answered. */
static void on_orphan_release(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xorphan *o = arg;

	(void)r, (void)reply;
	o->cmds--;
	orphan_maybe_free(o);
}

/* The orphan's reply key answered: a grant is released at once. */
static void on_orphan_poll(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xorphan *o = arg;
	struct timeval tv = {0, 100 * 1000};

	(void)r;
	o->cmds--;
	if (reply && reply->type == REDIS_REPLY_STRING) {
		for (int i = 0; i < o->g.n; i++) {
			struct wfp_key k =
			    wfp_key_lock(o->x->tag, o->g.names[i]);
			const char *argv[5] = {k.s, o->x->tag, o->g.names[i],
					       o->g.token, ""};

			if (wfp_redis_script(o->x->r, WFP_LUA_LOCK_RELEASE,
					     on_orphan_release, o, 1, 5, argv,
					     NULL) == 0)
				o->cmds++;
		}
		o->done = 1;
	} else if (exec_now() >= o->deadline_ms || o->x->closing) {
		o->done = 1;
	} else {
		evtimer_add(o->ev, &tv);
	}
	orphan_maybe_free(o);
}

/* The orphan's timer: look at its reply key. */
static void on_orphan_timer(evutil_socket_t fd, short what, void *arg)
{
	struct xorphan *o = arg;
	const char *argv[2] = {"LPOP", o->rkey};

	(void)fd, (void)what;
	o->cmds++; /* on_orphan_poll counts it down, also when not sent */
	if (wfp_redis_command(o->x->r, 0, on_orphan_poll, o, 2, argv, NULL) ==
	    0)
		return;
	on_orphan_poll(o->x->r, NULL, o);
}

/* Hands t's outstanding waiting request to an orphan. */
static void orphan_new(struct xtask *t)
{
	struct executor *x = t->job->x;
	struct xorphan *o = calloc(1, sizeof(*o));
	struct timeval tv = {0, 0};

	if (o == NULL)
		return;
	o->x = x;
	wfp_strlcpy(o->rkey, t->rkey, sizeof(o->rkey));
	o->g = t->grant;
	o->deadline_ms = t->lock_deadline_ms;
	o->ev = evtimer_new(x->d->base, on_orphan_timer, o);
	if (o->ev == NULL) {
		free(o);
		return;
	}
	o->next = x->orphans, x->orphans = o;
	evtimer_add(o->ev, &tv);
}

void xlock_orphans_free(struct executor *x)
{
	while (x->orphans) {
		struct xorphan *o = x->orphans;

		x->orphans = o->next;
		event_free(o->ev);
		free(o);
	}
}

void xlock_stop(struct xtask *t)
{
	int waiting = t->on_locks != NULL;

	t->on_locks = NULL;
	if (t->poll)
		evtimer_del(t->poll);
	if (waiting && t->lock_deadline_ms > 0 && t->rkey[0])
		orphan_new(t);
	if (t->granted || waiting)
		xlock_release(t);
}
