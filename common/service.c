/* service.c - the request-stream server under every daemon
 * (see wfp/service.h). */
#include "wfp/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wfp/codec.h"
#include "wfp/log.h"
#include "wfp/metrics.h"
#include "wfp/scripts.h"
#include "wfp/util.h"

#define READ_COUNT	64   /* requests taken per read */
#define READ_BLOCK_MS	1000 /* one blocking read */
#define ORPHAN_EVERY_MS 2000
#define ORPHAN_IDLE_MS	10000 /* a replica's request unacked this long */
#define MAX_COUNTERS	16
#define ALIVE_EVERY_MS	1000	/* a replica says it is alive this often */
#define ALIVE_FORGET_MS 3600000 /* replicas silent this long are forgotten */
#define FORGET_EVERY_MS 60000	/* look for replicas and consumers gone */
#define ACK_BATCH	128	/* entries acknowledged in one XACK/XDEL */

/* A counter with its name stored alongside. */
struct counter {
	struct wfp_metric m;
	char name[96];
	char help[160];
};

struct wfp_service {
	struct wfp_daemon *d;
	char name[32];
	const struct wfp_service_op *ops;
	wfp_service_tick_fn *tick_fn;
	wfp_service_up_fn *up_fn;
	void *arg;
	struct wfp_redis *cmd;	  /* scripts and replies */
	struct wfp_redis *reader; /* the blocking XREADGROUP */
	char tag[WFP_TAG_MAX];
	char consumer[96];
	struct wfp_key requests;
	struct event *tick;
	struct event *read_again;
	struct event *ack_flush;  /* runs once the loop's callbacks are done */
	char acks[ACK_BATCH][64]; /* entries waiting for XACK + XDEL */
	int nacks;
	int64_t last_orphan_ms;
	int64_t last_alive_ms;
	int64_t last_forget_ms;
	int reading;  /* a read is outstanding */
	int inflight; /* requests being served */
	int exit_code;
	struct counter counters[MAX_COUNTERS];
	int ncounters;
	struct wfp_metric *m_requests, *m_refused, *m_deadletter, *m_expired;
	struct wfp_metric m_up, m_connects;
};

static void read_next(struct wfp_service *svc);

/* ------------------------------------------------------------------ */
/* Metrics                                                             */
/* ------------------------------------------------------------------ */

struct wfp_metric *wfp_service_counter(struct wfp_service *svc,
				       const char *name, const char *help)
{
	struct counter *c;

	if (svc->ncounters >= MAX_COUNTERS)
		abort(); /* a programming error: raise MAX_COUNTERS */
	c = &svc->counters[svc->ncounters++];
	snprintf(c->name, sizeof(c->name), "wfp_%s_%s_total", svc->name, name);
	wfp_strlcpy(c->help, help, sizeof(c->help));
	c->m = (struct wfp_metric){c->name, c->help, "counter", 0};
	wfp_metrics_register(&c->m);
	return &c->m;
}

/* The counters every service has. */
static void service_metrics(struct wfp_service *svc)
{
	svc->m_requests = wfp_service_counter(
	    svc, "requests", "Requests served from the request stream");
	svc->m_refused = wfp_service_counter(svc, "requests_refused",
					     "Requests answered with an error");
	svc->m_deadletter = wfp_service_counter(
	    svc, "deadletter",
	    "Unreadable requests moved to the dead-letter stream");
	svc->m_expired = wfp_service_counter(
	    svc, "requests_expired",
	    "Requests dropped because their deadline had passed");
	svc->m_up = (struct wfp_metric){
	    "wfp_redis_connected",
	    "1 while the command connection to Redis is up", "gauge", 0};
	svc->m_connects = (struct wfp_metric){
	    "wfp_redis_connects_total",
	    "Successful connections to Redis (1 + reconnects)", "counter", 0};
	wfp_metrics_register(&svc->m_up);
	wfp_metrics_register(&svc->m_connects);
}

/* ------------------------------------------------------------------ */
/* Replies, acknowledgements, dead letters                             */
/* ------------------------------------------------------------------ */

/* Acknowledges and deletes the collected entries: one XACK, one XDEL. */
static void acks_send(struct wfp_service *svc, wfp_redis_fn *done)
{
	const char *argv[3 + ACK_BATCH];

	argv[0] = "XACK", argv[1] = svc->requests.s, argv[2] = svc->name;
	for (int i = 0; i < svc->nacks; i++)
		argv[3 + i] = svc->acks[i];
	wfp_redis_command(svc->cmd, 0, NULL, NULL, 3 + svc->nacks, argv, NULL);
	argv[1] = "XDEL", argv[2] = svc->requests.s;
	if (wfp_redis_command(svc->cmd, 0, done, svc, 2 + svc->nacks, argv + 1,
			      NULL) != 0 &&
	    done)
		done(svc->cmd, NULL, svc); /* not connected: stop anyway */
	svc->nacks = 0;
}

static void acks_flush(struct wfp_service *svc)
{
	if (svc->nacks > 0)
		acks_send(svc, NULL);
}

/* The last acknowledgements at shutdown were answered: stop. */
static void on_last_acks(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;

	(void)r, (void)reply;
	wfp_daemon_stopped(svc->d);
}

/* At shutdown, once no read or request is in flight: acknowledge what
 * was served and stop when Redis has answered everything sent before
 * (so nothing served is served again). */
static void maybe_stop(struct wfp_service *svc)
{
	const char *ping[1] = {"PING"};

	if (!svc->d->stopping || svc->reading || svc->inflight > 0)
		return;
	if (svc->nacks > 0)
		acks_send(svc, on_last_acks);
	else if (wfp_redis_command(svc->cmd, 0, on_last_acks, svc, 1, ping,
				   NULL) != 0)
		wfp_daemon_stopped(svc->d);
}

static void on_ack_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	acks_flush(arg);
}

/* Queues an entry for acknowledgement and deletion, batched with the
 * others served in the same turn of the event loop. */
static void entry_ack(struct wfp_service *svc, const char *entry)
{
	if (svc->nacks == ACK_BATCH)
		acks_flush(svc);
	wfp_strlcpy(svc->acks[svc->nacks++], entry, sizeof(svc->acks[0]));
	event_active(svc->ack_flush, EV_TIMEOUT, 0);
}

/* Pushes a packed reply onto key with a TTL. */
static void reply_push(struct wfp_service *svc, const struct wfp_key *key,
		       const char *data, size_t len)
{
	char ttl[24];
	const char *push[3] = {"LPUSH", key->s, data};
	size_t lens[3] = {5, strlen(key->s), len};
	const char *exp[3] = {"PEXPIRE", key->s, ttl};

	if (key->s[0] == '\0')
		return;
	snprintf(ttl, sizeof(ttl), "%d", WFP_REPLY_TTL_MS);
	wfp_redis_command(svc->cmd, 0, NULL, NULL, 3, push, lens);
	wfp_redis_command(svc->cmd, 0, NULL, NULL, 3, exp, NULL);
}

/* Pushes {ok: false, error: msg} onto key. */
static void reply_error(struct wfp_service *svc, const struct wfp_key *key,
			const char *msg)
{
	msgpack_sbuffer buf;
	msgpack_packer pk;

	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	wfp_pack_cstr(&pk, "ok");
	msgpack_pack_false(&pk);
	wfp_pack_kv(&pk, "error", msg);
	reply_push(svc, key, buf.data, buf.size);
	msgpack_sbuffer_destroy(&buf);
}

void wfp_request_reply(struct wfp_request *rq, const msgpack_sbuffer *buf)
{
	reply_push(rq->svc, &rq->reply, buf->data, buf->size);
}

void wfp_request_refuse(struct wfp_request *rq, const char *msg)
{
	rq->svc->m_refused->value++;
	reply_error(rq->svc, &rq->reply, msg);
}

/* Frees rq; at shutdown, stops once nothing is left in flight. */
static void request_free(struct wfp_request *rq)
{
	struct wfp_service *svc = rq->svc;

	free(rq);
	svc->inflight--;
	maybe_stop(svc);
}

void wfp_request_done(struct wfp_request *rq)
{
	entry_ack(rq->svc, rq->entry);
	request_free(rq);
}

void wfp_request_lost(struct wfp_request *rq)
{
	wfp_warn("request %s not served: redis unavailable", rq->entry);
	request_free(rq);
}

/* A request's script answered: refuse, pass on, or give up; end rq. */
static void on_request_script(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_request *rq = arg;

	(void)r;
	if (reply == NULL) {
		wfp_request_lost(rq);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		char msg[512];

		wfp_strlcpy(msg, reply->str, sizeof(msg));
		wfp_script_error_trim(msg);
		wfp_request_refuse(rq, msg);
	} else if (rq->ok) {
		rq->ok(rq, reply);
	}
	wfp_request_done(rq);
}

void wfp_request_script(struct wfp_request *rq, enum wfp_script_id id, int argc,
			const char **argv, wfp_request_ok_fn *ok)
{
	rq->ok = ok;
	if (wfp_redis_script(rq->svc->cmd, id, on_request_script, rq, 1, argc,
			     argv, NULL) != 0)
		wfp_request_lost(rq);
}

/*
 * Moves an unreadable entry to the dead-letter stream with reason (copy,
 * ack, delete in one script) and tells the client when it named a reply.
 */
static void dead_letter(struct wfp_service *svc, const redisReply *entry,
			const struct wfp_key *reply, const char *reason)
{
	const char *argv[WFP_SCRIPT_ARGS_MAX];
	size_t lens[WFP_SCRIPT_ARGS_MAX];
	const int room = WFP_SCRIPT_ARGS_MAX - 3; /* EVALSHA sha numkeys */
	const redisReply *fields = entry->element[1];
	size_t nfields = fields && fields->type == REDIS_REPLY_ARRAY
			     ? fields->elements / 2
			     : 0;
	char why[600];
	int argc = 6;

	wfp_warn("request %s dead-lettered: %s", entry->element[0]->str,
		 reason);
	svc->m_deadletter->value++;
	for (size_t i = 0; i < nfields && argc + 2 <= room; i++) {
		argv[argc] = fields->element[2 * i]->str;
		lens[argc++] = fields->element[2 * i]->len;
		argv[argc] = fields->element[2 * i + 1]->str;
		lens[argc++] = fields->element[2 * i + 1]->len;
	}
	if ((size_t)(argc - 6) / 2 < nfields)
		snprintf(why, sizeof(why),
			 "%s (fields past the first %d not copied)", reason,
			 (argc - 6) / 2);
	else
		snprintf(why, sizeof(why), "%s", reason);
	argv[0] = svc->requests.s, argv[1] = svc->tag, argv[2] = svc->name;
	argv[3] = entry->element[0]->str, argv[4] = svc->name, argv[5] = why;
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	wfp_redis_script(svc->cmd, WFP_LUA_DEADLETTER, NULL, NULL, 1, argc,
			 argv, lens);
	if (reply)
		reply_error(svc, reply, reason);
}

/* ------------------------------------------------------------------ */
/* Serving entries                                                     */
/* ------------------------------------------------------------------ */

/* Value of field name in an entry's flat field list, or NULL. */
static const redisReply *entry_field(const redisReply *fields, const char *name)
{
	for (size_t i = 0; fields && i + 1 < fields->elements; i += 2) {
		if (strcmp(fields->element[i]->str, name) == 0)
			return fields->element[i + 1];
	}
	return NULL;
}

/* A reply key must be one of ours, so a request cannot write any key. */
static int reply_key_ok(const struct wfp_service *svc, const redisReply *v)
{
	struct wfp_key want = wfp_key_reply(svc->tag, "");

	return v && v->len < WFP_KEY_MAX &&
	       strncmp(v->str, want.s, strlen(want.s)) == 0;
}

/* Decodes the body and calls op's handler; returns 0 or -1 with err. */
static int serve_body(struct wfp_request *rq, const redisReply *body, char *err,
		      size_t errlen)
{
	const struct wfp_service_op *op = rq->svc->ops;
	msgpack_unpacked msg;
	int rc;

	while (op->name && strcmp(op->name, rq->op) != 0)
		op++;
	if (op->name == NULL)
		return snprintf(err, errlen, "unknown op '%.32s'", rq->op), -1;
	if (body == NULL)
		return snprintf(err, errlen, "missing field 'body'"), -1;
	if (wfp_codec_decode(body->str, body->len, &msg, err, errlen) != 0)
		return -1;
	rq->svc->inflight++;
	rq->svc->m_requests->value++;
	rc = op->fn(rq, &msg.data, err, errlen);
	if (rc != 0)
		rq->svc->inflight--;
	msgpack_unpacked_destroy(&msg);
	return rc;
}

/* Checks the envelope of an entry; returns 0 or -1 with err. */
static int check_envelope(struct wfp_service *svc, struct wfp_request *rq,
			  const redisReply *fields, char *err, size_t errlen)
{
	const redisReply *op = entry_field(fields, "op");
	const redisReply *reply = entry_field(fields, "reply");

	if (reply_key_ok(svc, reply))
		wfp_strlcpy(rq->reply.s, reply->str, sizeof(rq->reply.s));
	if (reply && !rq->reply.s[0])
		return snprintf(err, errlen,
				"field 'reply' is not a reply key"),
		       -1;
	if (op == NULL || op->len >= sizeof(rq->op))
		return snprintf(err, errlen, "missing or overlong field 'op'"),
		       -1;
	wfp_strlcpy(rq->op, op->str, sizeof(rq->op));
	return 0;
}

/* Returns 1 when the entry's deadline has passed (it is dropped); sets
 * *dl to the deadline (0: none). */
static int entry_expired(struct wfp_service *svc, const redisReply *fields,
			 const char *entry, int64_t *dl, char *err,
			 size_t errlen)
{
	const redisReply *deadline = entry_field(fields, "deadline_ms");

	*dl = 0;
	if (deadline && (wfp_parse_i64(deadline->str, dl) != 0 || *dl < 0)) {
		snprintf(err, errlen, "field 'deadline_ms' is not a time");
		*dl = 0;
		return 0;
	}
	if (*dl == 0 || *dl >= wfp_now_ms())
		return 0;
	wfp_info("request %s dropped: its deadline passed", entry);
	svc->m_expired->value++;
	entry_ack(svc, entry);
	return 1;
}

/* Serves one stream entry {id, [field, value, ...]}. */
static void serve_entry(struct wfp_service *svc, const redisReply *entry)
{
	const redisReply *fields = entry->element[1];
	struct wfp_request *rq;
	char err[512] = "";
	int64_t deadline_ms;

	if (fields == NULL || fields->type != REDIS_REPLY_ARRAY) {
		dead_letter(svc, entry, NULL, "entry has no fields");
		return;
	}
	if (entry_expired(svc, fields, entry->element[0]->str, &deadline_ms,
			  err, sizeof(err)))
		return;
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return; /* left pending; retried later */
	rq->svc = svc;
	rq->deadline_ms = deadline_ms;
	wfp_strlcpy(rq->entry, entry->element[0]->str, sizeof(rq->entry));
	if (err[0] == '\0' &&
	    check_envelope(svc, rq, fields, err, sizeof(err)) == 0 &&
	    serve_body(rq, entry_field(fields, "body"), err, sizeof(err)) == 0)
		return; /* rq now belongs to the handler */
	dead_letter(svc, entry, rq->reply.s[0] ? &rq->reply : NULL, err);
	free(rq);
}

/* Serves the entries of one XREADGROUP/XAUTOCLAIM entry list. */
static void serve_entries(struct wfp_service *svc, const redisReply *list)
{
	for (size_t i = 0; list && i < list->elements; i++) {
		const redisReply *e = list->element[i];

		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2)
			serve_entry(svc, e);
	}
}

/* ------------------------------------------------------------------ */
/* Reading the request stream                                          */
/* ------------------------------------------------------------------ */

/* Creates a consumer group, ignoring "already exists". */
static void group_create(struct wfp_service *svc, const char *stream,
			 const char *group)
{
	const char *argv[6] = {"XGROUP", "CREATE", stream,
			       group,	 "0",	   "MKSTREAM"};

	wfp_redis_command(svc->cmd, 0, NULL, NULL, 6, argv, NULL);
}

static void on_read(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;
	struct timeval again = {0, 200000};
	int failed = reply == NULL || reply->type == REDIS_REPLY_ERROR;

	(void)r;
	svc->reading = 0;
	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0)
		serve_entries(svc, reply->element[0]->element[1]);
	if (failed && reply && strncmp(reply->str, "NOGROUP", 7) == 0)
		group_create(svc, svc->requests.s, svc->name); /* flushed */
	else if (failed && reply)
		wfp_warn("reading requests: %s", reply->str);
	if (svc->d->stopping) {
		maybe_stop(svc);
		return;
	}
	if (failed)
		evtimer_add(svc->read_again, &again);
	else
		read_next(svc);
}

/* Starts the next blocking read, unless one is outstanding. */
static void read_next(struct wfp_service *svc)
{
	char count[16], block[16];
	const char *argv[11] = {
	    "XREADGROUP", "GROUP", svc->name, svc->consumer,   "COUNT", count,
	    "BLOCK",	  block,   "STREAMS", svc->requests.s, ">"};

	if (svc->reading || svc->d->stopping)
		return;
	snprintf(count, sizeof(count), "%d", READ_COUNT);
	snprintf(block, sizeof(block), "%d", READ_BLOCK_MS);
	if (wfp_redis_command(svc->reader,
			      READ_BLOCK_MS + svc->d->cfg.timeout_ms, on_read,
			      svc, 11, argv, NULL) == 0)
		svc->reading = 1;
}

static void on_read_again(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_service *svc = arg;
	struct timeval again = {0, 200000};

	(void)fd, (void)what;
	read_next(svc);
	if (!svc->reading && !svc->d->stopping)
		evtimer_add(svc->read_again, &again);
}

/* XAUTOCLAIM answered: serve requests a dead replica left unacked. */
static void on_orphans(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;

	(void)r;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 2)
		return;
	serve_entries(svc, reply->element[1]);
	if (reply->elements >= 3) {
		const redisReply *gone = reply->element[2];

		for (size_t i = 0; i < gone->elements; i++)
			entry_ack(svc, gone->element[i]->str);
	}
}

/* ------------------------------------------------------------------ */
/* Connects, ticks, life cycle                                         */
/* ------------------------------------------------------------------ */

/* Refuses to run when Redis could evict keys: an evicted key is a lost
 * job or lock. */
static void on_policy(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;
	const char *policy;

	(void)r;
	if (reply == NULL)
		return; /* reconnecting; checked again on the next connect */
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
		wfp_warn("cannot read maxmemory-policy (%s); make sure it is "
			 "noeviction",
			 reply->type == REDIS_REPLY_ERROR ? reply->str
							  : "no such setting");
		return;
	}
	policy = reply->element[1]->str;
	if (strcmp(policy, "noeviction") == 0)
		return;
	wfp_error("redis maxmemory-policy is '%s': redis could evict jobs and "
		  "locks. Fix: redis-cli CONFIG SET maxmemory-policy "
		  "noeviction (and 'maxmemory-policy noeviction' in "
		  "redis.conf)",
		  policy);
	svc->exit_code = 3;
	svc->d->stopping = 1;
	wfp_daemon_stopped(svc->d);
}

static void on_cmd_up(struct wfp_redis *r, void *arg)
{
	struct wfp_service *svc = arg;
	const char *policy[3] = {"CONFIG", "GET", "maxmemory-policy"};

	svc->m_up.value = 1;
	svc->m_connects.value = wfp_redis_connects(r);
	wfp_redis_command(r, 0, on_policy, svc, 3, policy, NULL);
	group_create(svc, svc->requests.s, svc->name);
	if (svc->up_fn)
		svc->up_fn(svc, svc->arg);
}

static void on_reader_up(struct wfp_redis *r, void *arg)
{
	(void)r;
	read_next(arg);
}

/* XINFO CONSUMERS answered: forget consumers of replicas gone for an hour
 * that hold nothing (one with pending entries is never deleted: they would
 * become unclaimable). */
static void on_consumers(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;

	(void)r;
	for (size_t i = 0;
	     reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
	     i++) {
		const redisReply *c = reply->element[i];
		const char *name = NULL;
		long long pending = -1, idle = -1;

		for (size_t j = 0; j + 1 < c->elements; j += 2) {
			const char *k = c->element[j]->str;
			const redisReply *v = c->element[j + 1];

			if (strcmp(k, "name") == 0)
				name = v->str;
			else if (strcmp(k, "pending") == 0)
				pending = v->integer;
			else if (strcmp(k, "idle") == 0)
				idle = v->integer;
		}
		if (name && pending == 0 && idle > ALIVE_FORGET_MS &&
		    strcmp(name, svc->consumer) != 0) {
			const char *del[5] = {"XGROUP", "DELCONSUMER",
					      svc->requests.s, svc->name, name};
			wfp_redis_command(svc->cmd, 0, NULL, NULL, 5, del,
					  NULL);
		}
	}
}

/* Records this replica as alive in {p}:svc:<service>:replicas. */
static void say_alive(struct wfp_service *svc, int64_t now)
{
	struct wfp_key k = wfp_key_replicas(svc->tag, svc->name);
	char at[24];
	const char *add[4] = {"ZADD", k.s, at, svc->consumer};

	svc->last_alive_ms = now;
	snprintf(at, sizeof(at), "%lld", (long long)now);
	wfp_redis_command(svc->cmd, 0, NULL, NULL, 4, add, NULL);
}

/* Forgets replicas, and the group's consumers of replicas, silent for
 * ALIVE_FORGET_MS. */
static void forget_gone(struct wfp_service *svc, int64_t now)
{
	struct wfp_key k = wfp_key_replicas(svc->tag, svc->name);
	char old[24];
	const char *trim[4] = {"ZREMRANGEBYSCORE", k.s, "-inf", old};
	const char *ci[4] = {"XINFO", "CONSUMERS", svc->requests.s, svc->name};

	svc->last_forget_ms = now;
	snprintf(old, sizeof(old), "%lld", (long long)(now - ALIVE_FORGET_MS));
	wfp_redis_command(svc->cmd, 0, NULL, NULL, 4, trim, NULL);
	wfp_redis_command(svc->cmd, 0, on_consumers, svc, 4, ci, NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_service *svc = arg;
	int64_t now = wfp_now_ms();

	(void)fd, (void)what;
	svc->m_up.value = wfp_redis_ready(svc->cmd);
	if (!svc->m_up.value || svc->d->stopping)
		return;
	if (svc->tick_fn)
		svc->tick_fn(svc, svc->arg);
	if (now - svc->last_alive_ms >= ALIVE_EVERY_MS)
		say_alive(svc, now);
	if (now - svc->last_orphan_ms >= ORPHAN_EVERY_MS) {
		char idle[16];
		const char *ac[8] = {
		    "XAUTOCLAIM", svc->requests.s, svc->name, svc->consumer,
		    idle,	  "0-0",	   "COUNT",   "16"};

		svc->last_orphan_ms = now;
		snprintf(idle, sizeof(idle), "%d", ORPHAN_IDLE_MS);
		wfp_redis_command(svc->cmd, 0, on_orphans, svc, 8, ac, NULL);
	}
	if (now - svc->last_forget_ms >= FORGET_EVERY_MS)
		forget_gone(svc, now);
}

static void on_stop(struct wfp_daemon *d, void *arg)
{
	struct wfp_service *svc = arg;

	(void)d;
	evtimer_del(svc->read_again);
	maybe_stop(svc); /* else on_read / request_free call it when done */
}

static int healthy(void *arg)
{
	struct wfp_service *svc = arg;

	return wfp_redis_ready(svc->cmd) && wfp_redis_ready(svc->reader);
}

/* Names this replica's consumer after its host and process. */
static void consumer_name(struct wfp_service *svc)
{
	char host[64] = "host";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(svc->consumer, sizeof(svc->consumer), "%s-%d", host,
		 (int)getpid());
}

struct wfp_service *wfp_service_new(struct wfp_daemon *d, const char *name,
				    const struct wfp_service_op *ops,
				    wfp_service_tick_fn *tick, int64_t tick_ms,
				    wfp_service_up_fn *on_up, void *arg)
{
	struct wfp_service *svc = calloc(1, sizeof(*svc));
	struct timeval tv = {tick_ms / 1000, (tick_ms % 1000) * 1000};
	char label[48];

	if (svc == NULL)
		return NULL;
	svc->d = d, svc->ops = ops, svc->tick_fn = tick, svc->up_fn = on_up;
	svc->arg = arg;
	wfp_strlcpy(svc->name, name, sizeof(svc->name));
	wfp_config_tag(&d->cfg, svc->tag, sizeof(svc->tag));
	consumer_name(svc);
	svc->requests = wfp_key_requests(svc->tag, name);
	svc->tick = event_new(d->base, -1, EV_PERSIST, on_tick, svc);
	svc->read_again = evtimer_new(d->base, on_read_again, svc);
	svc->ack_flush = event_new(d->base, -1, 0, on_ack_flush, svc);
	svc->cmd =
	    wfp_redis_new(d->base, &d->cfg.redis, "redis", d->cfg.timeout_ms);
	snprintf(label, sizeof(label), "redis-reader");
	svc->reader =
	    wfp_redis_new(d->base, &d->cfg.redis, label, d->cfg.timeout_ms);
	if (!svc->tick || !svc->read_again || !svc->ack_flush || !svc->cmd ||
	    !svc->reader) {
		wfp_service_free(svc);
		return NULL;
	}
	service_metrics(svc);
	wfp_redis_on_up(svc->cmd, on_cmd_up, svc);
	wfp_redis_on_up(svc->reader, on_reader_up, svc);
	event_add(svc->tick, &tv);
	d->on_stop = on_stop;
	d->healthy = healthy;
	d->arg = svc;
	return svc;
}

void wfp_service_free(struct wfp_service *svc)
{
	if (svc == NULL)
		return;
	wfp_redis_free(svc->reader);
	if (svc->cmd)
		acks_flush(svc);
	wfp_redis_free(svc->cmd);
	if (svc->ack_flush)
		event_free(svc->ack_flush);
	if (svc->tick)
		event_free(svc->tick);
	if (svc->read_again)
		event_free(svc->read_again);
	free(svc);
}

struct wfp_redis *wfp_service_redis(const struct wfp_service *svc)
{
	return svc->cmd;
}

const char *wfp_service_tag(const struct wfp_service *svc)
{
	return svc->tag;
}

struct wfp_daemon *wfp_service_daemon(const struct wfp_service *svc)
{
	return svc->d;
}

void *wfp_service_arg(const struct wfp_service *svc)
{
	return svc->arg;
}

int wfp_service_exit_code(const struct wfp_service *svc)
{
	return svc->exit_code;
}
