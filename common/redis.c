/* redis.c - async Redis connection with reconnect and timeouts
 * (see wfp/redis.h). */
#include "wfp/redis.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/log.h"
#include "wfp/util.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

enum conn_state {
	CONN_DOWN,	 /* no context; a reconnect timer is armed */
	CONN_CONNECTING, /* TCP connect or AUTH/SELECT in flight */
	CONN_UP,	 /* ready for commands */
};

/* The function library (scripts.h) as this link knows it. */
enum lib_state {
	LIB_FCALL,   /* send FCALL (loaded, or not yet known) */
	LIB_LOADING, /* a FUNCTION LOAD is in flight */
	LIB_NONE,    /* it cannot be loaded here: send EVALSHA */
};

struct wfp_redis {
	struct event_base *base;
	struct wfp_redis_addr addr;
	char name[32];
	int64_t timeout_ms;
	redisAsyncContext *ac;
	enum conn_state state;
	int64_t backoff_ms;
	int64_t connects;
	int64_t calm_at_ms;	 /* after a transient error: wait until then */
	int64_t calm_backoff_ms; /* the next such wait (doubles) */
	struct event *retry;	 /* reconnect timer */
	struct event *drop;	 /* deferred drop after a timeout */
	wfp_redis_up_fn *on_up;
	void *on_up_arg;
	enum lib_state lib; /* the function library on this link */
};

/* One command in flight. Freed by its hiredis callback, which always runs
 * (with NULL when the context goes away). */
struct pending {
	struct wfp_redis *r;
	struct event *timer;
	wfp_redis_fn *fn;
	void *arg;
	int reported; /* fn already called (timed out) */
	int script;   /* -1, or a script id to resend on NOSCRIPT */
	int argc;     /* saved args for the EVAL resend */
	char **argv;
	size_t *lens;
};

static void redis_connect(struct wfp_redis *r);
static void redis_schedule(struct wfp_redis *r);
static int redis_send(struct wfp_redis *r, struct pending *p);
static struct pending *pending_new(struct wfp_redis *r, wfp_redis_fn *fn,
				   void *arg, int argc, const char **argv,
				   const size_t *lens);
static int redis_submit(struct wfp_redis *r, struct pending *p,
			int64_t timeout_ms);

/* ------------------------------------------------------------------ */
/* Pending commands                                                    */
/* ------------------------------------------------------------------ */

static void pending_free(struct pending *p)
{
	if (p->timer)
		event_free(p->timer);
	for (int i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	free(p->lens);
	free(p);
}

/* Calls the user's callback once. */
static void pending_report(struct pending *p, redisReply *reply)
{
	if (p->reported)
		return;
	p->reported = 1;
	if (p->fn)
		p->fn(p->r, reply, p->arg);
}

int wfp_redis_error_transient(const char *msg)
{
	static const char *const words[] = {
	    "BUSY",	   "LOADING",	"READONLY",   "OOM",
	    "TRYAGAIN",	   "MOVED",	"ASK",	      "MASTERDOWN",
	    "CLUSTERDOWN", "UNBLOCKED", "NOREPLICAS", NULL};

	for (int i = 0; msg && words[i]; i++) {
		size_t n = strlen(words[i]);

		if (strncmp(msg, words[i], n) == 0 &&
		    (msg[n] == ' ' || msg[n] == '\0'))
			return 1;
	}
	return 0;
}

int wfp_redis_time_offset(const redisReply *reply, int64_t sent_us,
			  int64_t now_us, int64_t *offset_us, int64_t *err_ms)
{
	int64_t sec = 0, usec = 0;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2 ||
	    wfp_parse_i64(reply->element[0]->str, &sec) != 0 ||
	    wfp_parse_i64(reply->element[1]->str, &usec) != 0)
		return -1;
	*offset_us = sec * 1000000 + usec - (sent_us + now_us) / 2;
	*err_ms = (now_us - sent_us) / 2000 + 1;
	return 0;
}

/* Whether msg is a cluster redirect (MOVED, ASK): hiredis 0.14 cannot
 * follow one, so it never goes away by itself. */
static int is_redirect(const char *msg)
{
	return strncmp(msg, "MOVED ", 6) == 0 || strncmp(msg, "ASK ", 4) == 0;
}

/*
 * A transient error reply: only its own caller sees a lost result (NULL);
 * the link stays up, so the replies of the other commands already sent
 * (which Redis ran) still arrive. The link is then not calm (see
 * wfp_redis_calm) for a backoff that doubles while the errors go on.
 */
static void on_transient(struct pending *p, const char *msg)
{
	struct wfp_redis *r = p->r;
	int64_t now = wfp_mono_us() / 1000;

	if (now >= r->calm_at_ms && is_redirect(msg))
		wfp_log(WFP_LOG_ERROR,
			"%s: redis at %s:%d answered '%.200s': that node does "
			"not own the slot of the {prefix} keys (a cluster "
			"redirect, which wfp does not follow). Fix: point "
			"WFP_REDIS_URL at the node that owns it; retrying in "
			"%lld ms",
			r->name, r->addr.host, r->addr.port, msg,
			(long long)r->calm_backoff_ms);
	else if (now >= r->calm_at_ms)
		wfp_log(WFP_LOG_WARN,
			"%s: redis answered '%.200s': retrying in %lld ms",
			r->name, msg, (long long)r->calm_backoff_ms);
	if (strncmp(msg, "READONLY", 8) == 0 ||
	    strncmp(msg, "MASTERDOWN", 10) == 0 ||
	    strncmp(msg, "UNBLOCKED", 9) == 0) {
		/* This node is not (or no longer) a usable primary: after a
		 * failover the address may now lead to the new one, which only
		 * a new connection reaches. The other commands in flight are
		 * reported lost and served again (requests are safe twice). */
		wfp_log(WFP_LOG_WARN,
			"%s: redis is not a writable primary: reconnecting",
			r->name);
		event_active(r->drop, EV_TIMEOUT, 0);
	}
	if (now >= r->calm_at_ms) {
		r->calm_at_ms = now + r->calm_backoff_ms;
		r->calm_backoff_ms *= 2;
		if (r->calm_backoff_ms > BACKOFF_MAX_MS)
			r->calm_backoff_ms = BACKOFF_MAX_MS;
	}
	pending_report(p, NULL);
}

/* A reply that is not a transient error: once the wait after the last
 * one is over, the next one starts from the shortest backoff again. */
static void on_calm_reply(struct wfp_redis *r)
{
	if (wfp_mono_us() / 1000 >= r->calm_at_ms)
		r->calm_backoff_ms = BACKOFF_MIN_MS;
}

/* The FUNCTION LOAD answered: the library is there (loaded, or "already
 * exists": another process loaded it), or cannot be loaded on this link
 * (say an ACL user without FUNCTION), which then sends EVALSHA. */
static void on_library(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ERROR ||
	    strstr(reply->str, "already exists") != NULL) {
		if (r->lib == LIB_LOADING)
			r->lib = LIB_FCALL;
		return;
	}
	wfp_log(WFP_LOG_WARN,
		"%s: cannot load the function library %s (%.200s): sending "
		"scripts with EVALSHA on this link",
		r->name, wfp_script_library()->name, reply->str);
	r->lib = LIB_NONE;
}

/* Sends FUNCTION LOAD of the library unless one is in flight. */
static void library_load(struct wfp_redis *r)
{
	const struct wfp_script_library *lib = wfp_script_library();
	const char *argv[3] = {"FUNCTION", "LOAD", lib->text};
	size_t lens[3] = {8, 4, lib->len};
	struct pending *p;

	if (r->lib != LIB_FCALL)
		return;
	p = pending_new(r, on_library, NULL, 3, argv, lens);
	if (p != NULL && redis_submit(r, p, 0) == 0)
		r->lib = LIB_LOADING;
}

/* Turns p into the EVAL of its script's full text and sends it again.
 * Returns 0, or -1 (p is then reported as it is). */
static int pending_resend_eval(struct pending *p)
{
	const struct wfp_script *s = wfp_script(p->script);

	free(p->argv[0]);
	free(p->argv[1]);
	p->argv[0] = strdup("EVAL");
	p->argv[1] = malloc(s->len);
	if (p->argv[0] == NULL || p->argv[1] == NULL)
		return -1;
	memcpy(p->argv[1], s->text, s->len);
	p->lens[0] = 4, p->lens[1] = s->len;
	p->script = -1;
	return redis_send(p->r, p);
}

/* Whether p's error reply asks for the script's full text: NOSCRIPT after
 * EVALSHA, or after FCALL no function (then the library is loaded for the
 * next calls) or no right to FCALL (then this link sends EVALSHA). */
static int wants_eval(struct pending *p, const char *msg)
{
	int why = wfp_script_error_no_function(msg);

	if (why == 1)
		library_load(p->r);
	else if (why == 2)
		p->r->lib = LIB_NONE;
	return why != 0 || strncmp(msg, "NOSCRIPT", 8) == 0;
}

/* hiredis callback: hands the reply over, resends on NOSCRIPT or a missing
 * function, or turns a transient error into a lost link. */
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct pending *p = privdata;
	redisReply *rep = reply;

	(void)ac;
	if (p->timer)
		evtimer_del(p->timer);
	if (rep && rep->type == REDIS_REPLY_ERROR && !p->reported &&
	    wfp_redis_error_transient(rep->str)) {
		on_transient(p, rep->str);
		pending_free(p);
		return;
	}
	if (rep)
		on_calm_reply(p->r);
	if (rep && rep->type == REDIS_REPLY_ERROR && p->script >= 0 &&
	    !p->reported && wants_eval(p, rep->str) &&
	    pending_resend_eval(p) == 0)
		return;
	pending_report(p, rep);
	pending_free(p);
}

/* Drops the connection from the event loop, outside any hiredis callback. */
static void on_drop(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_redis *r = arg;

	(void)fd, (void)what;
	if (r->ac != NULL) {
		wfp_log(WFP_LOG_WARN,
			"%s: dropping the connection (a command timed out, "
			"or the node is not a writable primary)",
			r->name);
		/* Callbacks run by the free must not see a usable link. */
		r->state = CONN_DOWN;
		redisAsyncFree(
		    r->ac); /* runs on_disconnect and all callbacks */
	}
	if (r->ac != NULL) {
		/* Never fully connected: hiredis ran no disconnect callback. */
		r->ac = NULL;
		redis_schedule(r);
	}
}

/* A command's timer fired: report failure now and drop the connection. */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct wfp_redis *r = p->r;

	(void)fd, (void)what;
	pending_report(p, NULL);
	event_active(r->drop, EV_TIMEOUT, 0);
}

/* Sends p on the live context and arms its timer. Returns 0 or -1. */
static int redis_send(struct wfp_redis *r, struct pending *p)
{
	struct timeval tv = {r->timeout_ms / 1000,
			     (r->timeout_ms % 1000) * 1000};

	if (redisAsyncCommandArgv(r->ac, on_reply, p, p->argc,
				  (const char **)p->argv, p->lens) != REDIS_OK)
		return -1;
	if (p->timer == NULL)
		p->timer = evtimer_new(r->base, on_timeout, p);
	if (p->timer)
		evtimer_add(p->timer, &tv);
	return 0;
}

/* Copies argv into a new pending command. */
static struct pending *pending_new(struct wfp_redis *r, wfp_redis_fn *fn,
				   void *arg, int argc, const char **argv,
				   const size_t *lens)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->r = r, p->fn = fn, p->arg = arg, p->script = -1;
	p->argv = calloc((size_t)argc, sizeof(char *));
	p->lens = calloc((size_t)argc, sizeof(size_t));
	if (p->argv == NULL || p->lens == NULL)
		goto oom;
	for (p->argc = 0; p->argc < argc; p->argc++) {
		size_t n = lens ? lens[p->argc] : strlen(argv[p->argc]);

		p->argv[p->argc] = malloc(n + 1);
		if (p->argv[p->argc] == NULL)
			goto oom;
		memcpy(p->argv[p->argc], argv[p->argc], n);
		p->argv[p->argc][n] = '\0';
		p->lens[p->argc] = n;
	}
	return p;
oom:
	pending_free(p);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Connection life cycle                                               */
/* ------------------------------------------------------------------ */

/* Arms the reconnect timer with backoff and jitter. */
static void redis_schedule(struct wfp_redis *r)
{
	int64_t ms = r->backoff_ms;
	int64_t jitter = ms / 4;
	struct timeval tv;

	if (jitter > 0)
		ms += (int64_t)(random() % (2 * jitter + 1)) - jitter;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	r->state = CONN_DOWN;
	evtimer_add(r->retry, &tv);
	r->backoff_ms *= 2;
	if (r->backoff_ms > BACKOFF_MAX_MS)
		r->backoff_ms = BACKOFF_MAX_MS;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	redis_connect(arg);
}

/* The handshake (PING, or AUTH/SELECT) answered: the link is usable. */
static void on_ready(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)arg;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		if (r->ac == NULL)
			return; /* the connect failed; on_connect said so */
		wfp_log(WFP_LOG_WARN, "%s: handshake refused: %s", r->name,
			reply ? reply->str : "no reply");
		event_active(r->drop, EV_TIMEOUT, 0);
		return;
	}
	if (r->state == CONN_UP)
		return; /* AUTH answered before SELECT; wait for the last */
	r->state = CONN_UP;
	r->lib = LIB_FCALL; /* maybe another server: try FCALL again */
	r->backoff_ms = BACKOFF_MIN_MS;
	r->connects++;
	wfp_info("%s: connected to redis at %s:%d", r->name, r->addr.host,
		 r->addr.port);
	if (r->on_up)
		r->on_up(r, r->on_up_arg);
}

/* Sends AUTH/SELECT (or a PING) straight on the context. */
static void redis_handshake(struct wfp_redis *r)
{
	const struct wfp_redis_addr *a = &r->addr;
	char db[16];
	const char *auth[3] = {"AUTH", a->user[0] ? a->user : a->password,
			       a->password};
	const char *sel[2] = {"SELECT", db};
	const char *ping[1] = {"PING"};
	int last = a->db != 0 ? 2 : (a->password[0] ? 1 : 0);
	struct pending *p;

	snprintf(db, sizeof(db), "%d", a->db);
	if (a->password[0]) {
		p = pending_new(r, last == 1 ? on_ready : NULL, NULL,
				a->user[0] ? 3 : 2, auth, NULL);
		if (p && redis_send(r, p) != 0)
			pending_free(p);
	}
	if (a->db != 0)
		p = pending_new(r, on_ready, NULL, 2, sel, NULL);
	else if (last == 0)
		p = pending_new(r, on_ready, NULL, 1, ping, NULL);
	else
		return;
	if (p && redis_send(r, p) != 0)
		pending_free(p);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct wfp_redis *r = ac->data;

	if (status != REDIS_OK) {
		wfp_log(WFP_LOG_WARN, "%s: cannot reach redis at %s:%d: %s",
			r->name, r->addr.host, r->addr.port, ac->errstr);
		r->ac = NULL; /* hiredis frees it after this callback */
		redis_schedule(r);
	}
	/* On success the handshake queued in redis_connect() goes out. */
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct wfp_redis *r = ac->data;

	if (r->state == CONN_UP)
		wfp_log(WFP_LOG_WARN, "%s: lost redis connection%s%s", r->name,
			status == REDIS_OK ? "" : ": ",
			status == REDIS_OK ? "" : ac->errstr);
	r->ac = NULL;
	redis_schedule(r);
}

/* Starts one connection attempt. */
static void redis_connect(struct wfp_redis *r)
{
	redisAsyncContext *ac = redisAsyncConnect(r->addr.host, r->addr.port);

	if (ac == NULL || ac->err) {
		wfp_log(WFP_LOG_WARN, "%s: connect failed: %s", r->name,
			ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		redis_schedule(r);
		return;
	}
	ac->data = r;
	r->ac = ac;
	r->state = CONN_CONNECTING;
	redisLibeventAttach(ac, r->base);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	/* Queued now, so its timeout also bounds the TCP connect. */
	redis_handshake(r);
}

struct wfp_redis *wfp_redis_new(struct event_base *base,
				const struct wfp_redis_addr *addr,
				const char *name, int64_t timeout_ms)
{
	struct wfp_redis *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->base = base;
	r->addr = *addr;
	wfp_strlcpy(r->name, name, sizeof(r->name));
	r->timeout_ms = timeout_ms;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->calm_backoff_ms = BACKOFF_MIN_MS;
	r->retry = evtimer_new(base, on_retry, r);
	r->drop = event_new(base, -1, 0, on_drop, r);
	if (r->retry == NULL || r->drop == NULL) {
		wfp_redis_free(r);
		return NULL;
	}
	redis_connect(r);
	return r;
}

void wfp_redis_on_up(struct wfp_redis *r, wfp_redis_up_fn *fn, void *arg)
{
	r->on_up = fn;
	r->on_up_arg = arg;
}

int wfp_redis_ready(const struct wfp_redis *r)
{
	return r->state == CONN_UP && r->ac != NULL;
}

int wfp_redis_calm(const struct wfp_redis *r)
{
	return wfp_redis_ready(r) && wfp_mono_us() / 1000 >= r->calm_at_ms;
}

int64_t wfp_redis_connects(const struct wfp_redis *r)
{
	return r->connects;
}

/* Sends a pending command with its own timeout. */
static int redis_submit(struct wfp_redis *r, struct pending *p,
			int64_t timeout_ms)
{
	int64_t saved = r->timeout_ms;
	int rc;

	if (timeout_ms > 0)
		r->timeout_ms = timeout_ms;
	rc = redis_send(r, p);
	r->timeout_ms = saved;
	if (rc != 0)
		pending_free(p);
	return rc;
}

int wfp_redis_command(struct wfp_redis *r, int64_t timeout_ms, wfp_redis_fn *fn,
		      void *arg, int argc, const char **argv,
		      const size_t *lens)
{
	struct pending *p;

	if (!wfp_redis_ready(r))
		return -1;
	p = pending_new(r, fn, arg, argc, argv, lens);
	if (p == NULL)
		return -1;
	return redis_submit(r, p, timeout_ms);
}

int wfp_redis_script(struct wfp_redis *r, enum wfp_script_id id,
		     wfp_redis_fn *fn, void *arg, int nkeys, int argc,
		     const char **argv, const size_t *lens)
{
	struct wfp_script_call call;
	struct pending *p;

	if (!wfp_redis_ready(r) ||
	    wfp_script_call_init(&call, id, nkeys, argc, argv, lens) != 0)
		return -1;
	if (r->lib == LIB_NONE)
		wfp_script_call_evalsha(&call, id);
	p = pending_new(r, fn, arg, call.argc, call.argv, call.lens);
	if (p == NULL)
		return -1;
	p->script = (int)id;
	return redis_submit(r, p, 0);
}

void wfp_redis_free(struct wfp_redis *r)
{
	if (r == NULL)
		return;
	r->state = CONN_DOWN;
	if (r->ac) {
		redisAsyncContext *ac = r->ac;

		ac->onDisconnect = NULL; /* hiredis 0.14 cannot unset it */
		r->ac = NULL;
		redisAsyncFree(ac);
	}
	if (r->retry)
		event_free(r->retry);
	if (r->drop)
		event_free(r->drop);
	free(r);
}
