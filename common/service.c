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

#define READ_COUNT	64   /* requests taken per read (at most) */
#define READ_BLOCK_MS	1000 /* one blocking read */
#define MAX_COUNTERS	16
#define ALIVE_EVERY_MS	1000	/* a replica says it is alive this often */
#define ALIVE_FORGET_MS 3600000 /* replicas silent this long are forgotten */
#define FORGET_EVERY_MS 60000	/* look for replicas and consumers gone */
#define ACK_BATCH	128	/* entries acknowledged in one XACK/XDEL */
#define CLOCK_EVERY_MS	10000	/* Redis's clock is measured this often */
#define ENTRY_ID_MAX	64	/* a stream entry id, NUL included */
#define ENTRY_MS_DIGITS 15	/* times and timeouts in entries: < 10^15 ms */
#define DEADLETTER_WORDS                                                       \
	64 /* words of a dead-letter call: the entry's                         \
	      first 29 fields are copied */
/* Bytes of field names and values, all together, copied to a dead
 * letter: past them a name or value keeps only its first bytes (a body
 * past the message limit, or a huge field name), so a client that writes
 * the request stream directly cannot grow the dead-letter stream by more
 * than this an entry. */
#define DEADLETTER_COPY_MAX WFP_CODEC_MAX_BYTES

/*
 * Taking over requests of other replicas (takeover.lua). Every
 * TAKEOVER_EVERY_MS each replica looks at the pending entries of the
 * group: an entry past its deadline is dropped whoever holds it; an entry
 * held by a replica with no sign of life in {p}:svc:SERVICE:replicas for
 * REPLICA_GONE_MS is claimed and served. So a request a killed replica
 * had read is served by another one at most REPLICA_GONE_MS +
 * ALIVE_EVERY_MS + TAKEOVER_EVERY_MS (about 7 s) after the kill, when its
 * deadline allows; a live replica's request is never taken over, however
 * long it waits (that replica retries it, or it expires). For
 * REPLICA_GONE_MS after its command link (re)connects a replica takes
 * over no entries of a replica that has a record (only its own earlier
 * life's and those of consumers with none): after an outage of Redis
 * every record is old, and the other replicas need that long to be back
 * and say they are alive.
 */
#define TAKEOVER_EVERY_MS 1000
#define REPLICA_GONE_MS	  5000
#define TAKEOVER_IDLE_MS                                                       \
	1000		 /* a live replica's newer entries: not looked at */
#define TAKEOVER_SCAN 64 /* pending entries looked at per pass */
#define RECLAIM_BATCH 32 /* lost entries fetched again per call */

/*
 * A read whose reply was lost with the link (the reader dropped on a
 * timeout, a network break, CLIENT KILL) leaves the entries it delivered
 * pending in our consumer, unknown to us. After a failed read, once this
 * replica holds nothing (no read, request, ack or takeover outstanding:
 * then every pending entry of our consumer is one of those), it lists
 * them, RECOVER_BATCH at a time (XPENDING ... our consumer), and serves
 * them as lost requests; reading resumes when none is left.
 */
#define RECOVER_BATCH RECLAIM_BATCH

/* A counter with its name stored alongside. */
struct counter {
	struct wfp_metric m;
	char name[96];
	char help[160];
};

/* A list of entry ids (acks to send, lost requests to serve again). */
struct idlist {
	char (*ids)[ENTRY_ID_MAX];
	int n, cap;
};

/* An XACK + XDEL of up to ACK_BATCH entries waiting for Redis's answer. */
struct ack_batch {
	struct wfp_service *svc;
	int n;
	int replies; /* answers still to come (2) */
	int failed;
	char ids[ACK_BATCH][ENTRY_ID_MAX];
};

/* A lost-request refetch (reclaim.lua) waiting for its answer. */
struct reclaim {
	struct wfp_service *svc;
	int n;
	char ids[RECLAIM_BATCH][ENTRY_ID_MAX];
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
	struct wfp_key replicas;
	struct event *tick;
	struct event *read_again;
	struct event *ack_flush; /* runs once the loop's callbacks are done */
	struct idlist acks;	 /* entries waiting for XACK + XDEL */
	struct idlist lost;	 /* entries to fetch again and serve */
	int acks_out;		 /* entries in ack batches not yet answered */
	int reclaiming;		 /* entries in reclaims not yet answered */
	int64_t held_max;	 /* cap on requests held (WFP_INFLIGHT_MAX) */
	int64_t clock_offset_us; /* Redis's clock - the monotonic clock */
	int64_t clock_err_ms;	 /* half the round trip of that measure */
	int64_t clock_sent_us;	 /* when the TIME went out (monotonic) */
	int64_t last_clock_ms;
	int64_t last_takeover_ms;
	int64_t last_alive_ms;
	int64_t up_ms; /* when the command link last came up (monotonic) */
	int64_t last_forget_ms;
	int clock_known;
	int adopted;	/* own entries of an earlier life taken over */
	int taking;	/* a takeover pass is outstanding */
	int taking_n;	/* entries it may claim (counted as held) */
	int recover;	/* a read failed: look for our own pending entries */
	int recovering; /* that XPENDING is outstanding */
	int reading;	/* a read is outstanding */
	int inflight;	/* requests being served (handlers, dead letters) */
	int arriving;	/* entries of a reply not yet looked at */
	int exit_code;
	struct counter counters[MAX_COUNTERS];
	int ncounters;
	struct wfp_metric *m_requests, *m_refused, *m_deadletter, *m_expired;
	struct wfp_metric *m_takeovers;
	struct wfp_metric m_up, m_connects, m_held;
	char held_name[96];
};

static void read_next(struct wfp_service *svc);
static void say_alive(struct wfp_service *svc);
static void takeover_pass(struct wfp_service *svc);
static void serve_entries(struct wfp_service *svc, const redisReply *list);
static void lost_add(struct wfp_service *svc, const char *entry);
static void lost_retry(struct wfp_service *svc);
static void recover_own(struct wfp_service *svc);

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
	svc->m_takeovers = wfp_service_counter(
	    svc, "requests_taken_over",
	    "Requests of a replica gone silent served by this one");
	snprintf(svc->held_name, sizeof(svc->held_name), "wfp_%s_inflight",
		 svc->name);
	svc->m_held = (struct wfp_metric){
	    svc->held_name,
	    "Requests this replica has read and not yet acknowledged", "gauge",
	    0};
	svc->m_up = (struct wfp_metric){
	    "wfp_redis_connected",
	    "1 while the command connection to Redis is up", "gauge", 0};
	svc->m_connects = (struct wfp_metric){
	    "wfp_redis_connects_total",
	    "Successful connections to Redis (1 + reconnects)", "counter", 0};
	wfp_metrics_register(&svc->m_held);
	wfp_metrics_register(&svc->m_up);
	wfp_metrics_register(&svc->m_connects);
}

/* Requests this replica holds: read and not yet acknowledged (served,
 * being served, lost and waiting to be served again, or acks unsent),
 * and those an outstanding takeover pass may claim, so a read and a pass
 * sized from the same room never exceed the cap together (the id lists
 * have room for the cap only). */
static int64_t held(const struct wfp_service *svc)
{
	return svc->inflight + svc->acks.n + svc->acks_out + svc->lost.n +
	       svc->reclaiming + svc->arriving + svc->taking_n;
}

/* Updates the gauge; called whenever held() changes. */
static void held_changed(struct wfp_service *svc)
{
	svc->m_held.value = held(svc) - svc->taking_n; /* read ones only */
}

static void maybe_stop(struct wfp_service *svc);

/* held() went down as work ended: updates the gauge, reads again (the
 * read may have paused at the cap) and, at shutdown, stops once nothing
 * is left. */
static void held_released(struct wfp_service *svc)
{
	held_changed(svc);
	read_next(svc);
	maybe_stop(svc);
}

/* ------------------------------------------------------------------ */
/* Redis's clock                                                       */
/* ------------------------------------------------------------------ */

int64_t wfp_service_now_ms(const struct wfp_service *svc)
{
	if (!svc->clock_known)
		return wfp_now_ms();
	return (wfp_mono_us() + svc->clock_offset_us) / 1000;
}

/* TIME answered: Redis's clock is its answer at the middle of the round
 * trip, give or take half of it. */
static void on_time(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;

	(void)r;
	if (wfp_redis_time_offset(reply, svc->clock_sent_us, wfp_mono_us(),
				  &svc->clock_offset_us,
				  &svc->clock_err_ms) != 0)
		return; /* measured again on the next connect or tick */
	if (!svc->clock_known) {
		svc->clock_known = 1;
		say_alive(svc); /* the first one waited for Redis's clock */
	}
	if (!svc->adopted)
		takeover_pass(svc); /* reading starts once it is done */
	read_next(svc);
}

/* Measures Redis's clock against ours (at connect and now and then). */
static void clock_measure(struct wfp_service *svc)
{
	const char *argv[1] = {"TIME"};

	svc->last_clock_ms = wfp_mono_us() / 1000;
	svc->clock_sent_us = wfp_mono_us();
	wfp_redis_command(svc->cmd, 0, on_time, svc, 1, argv, NULL);
}

/* ------------------------------------------------------------------ */
/* Entry id lists                                                      */
/* ------------------------------------------------------------------ */

/* Allocates room for cap ids. Returns 0 or -1. */
static int idlist_init(struct idlist *l, int cap)
{
	l->ids = calloc((size_t)cap, sizeof(*l->ids));
	l->n = 0, l->cap = cap;
	return l->ids ? 0 : -1;
}

/* Appends id; returns -1 (not added) when the list is full. */
static int idlist_add(struct idlist *l, const char *id)
{
	if (l->n >= l->cap)
		return -1;
	wfp_strlcpy(l->ids[l->n++], id, sizeof(l->ids[0]));
	return 0;
}

/* Moves up to max ids from the front of l into out; returns how many. */
static int idlist_take(struct idlist *l, char (*out)[ENTRY_ID_MAX], int max)
{
	int n = l->n < max ? l->n : max;

	memcpy(out, l->ids, (size_t)n * sizeof(l->ids[0]));
	memmove(l->ids, l->ids + n, (size_t)(l->n - n) * sizeof(l->ids[0]));
	l->n -= n;
	return n;
}

/* ------------------------------------------------------------------ */
/* Acknowledgements                                                    */
/* ------------------------------------------------------------------ */

/* The last acknowledgements at shutdown were answered: stop. */
static void on_last_acks(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;

	(void)r, (void)reply;
	wfp_daemon_stopped(svc->d);
}

/* At shutdown, once no read, request or acknowledgement is in flight:
 * stop when Redis has answered everything sent before (so nothing served
 * is served again). Acks that cannot be sent (no link) are left: their
 * entries are dropped by their deadline or served again by another
 * replica, which is safe (every request may be served twice). */
static void maybe_stop(struct wfp_service *svc)
{
	const char *ping[1] = {"PING"};

	if (!svc->d->stopping || svc->reading || svc->inflight > 0 ||
	    svc->acks_out > 0 || svc->reclaiming > 0 || svc->taking ||
	    svc->recovering)
		return;
	if (svc->acks.n > 0 && wfp_redis_calm(svc->cmd)) {
		event_active(svc->ack_flush, EV_TIMEOUT, 0);
		return; /* back here when they are answered */
	}
	if (wfp_redis_command(svc->cmd, 0, on_last_acks, svc, 1, ping, NULL) !=
	    0)
		wfp_daemon_stopped(svc->d);
}

/* XACK or XDEL of a batch answered: once both have, the batch is done;
 * if either failed (lost link, error) its entries are queued again. */
static void on_acked(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct ack_batch *b = arg;
	struct wfp_service *svc = b->svc;

	(void)r;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		b->failed = 1;
	if (--b->replies > 0)
		return;
	svc->acks_out -= b->n;
	if (b->failed && svc->d->stopping) {
		wfp_warn("%d requests served but not acknowledged at stop: "
			 "dropped at their deadline or served again",
			 b->n);
	} else if (b->failed) {
		for (int i = 0; i < b->n; i++)
			idlist_add(&svc->acks, b->ids[i]);
		wfp_warn("acknowledging %d requests failed: kept to send "
			 "again",
			 b->n);
	}
	free(b);
	held_released(svc);
}

/* Sends one XACK and one XDEL for up to ACK_BATCH queued entries; they
 * stay queued when Redis is not reachable. Returns 0 or -1. */
static int acks_send(struct wfp_service *svc)
{
	const char *argv[3 + ACK_BATCH];
	struct ack_batch *b;

	if (!wfp_redis_calm(svc->cmd))
		return -1;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -1;
	b->svc = svc;
	b->n = idlist_take(&svc->acks, b->ids, ACK_BATCH);
	b->replies = 2;
	svc->acks_out += b->n;
	argv[0] = "XACK", argv[1] = svc->requests.s, argv[2] = svc->name;
	for (int i = 0; i < b->n; i++)
		argv[3 + i] = b->ids[i];
	if (wfp_redis_command(svc->cmd, 0, on_acked, b, 3 + b->n, argv, NULL) !=
	    0)
		on_acked(svc->cmd, NULL, b);
	argv[1] = "XDEL", argv[2] = svc->requests.s;
	if (wfp_redis_command(svc->cmd, 0, on_acked, b, 2 + b->n, argv + 1,
			      NULL) != 0)
		on_acked(svc->cmd, NULL, b);
	return 0;
}

/* Sends every queued acknowledgement. */
static void acks_flush(struct wfp_service *svc)
{
	while (svc->acks.n > 0 && acks_send(svc) == 0)
		;
}

static void on_ack_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	acks_flush(arg);
}

/* Queues an entry for acknowledgement and deletion, batched with the
 * others served in the same turn of the event loop. The list has room for
 * every entry this replica may hold, so nothing is dropped. */
static void entry_ack(struct wfp_service *svc, const char *entry)
{
	if (idlist_add(&svc->acks, entry) != 0)
		wfp_warn("request %s not acknowledged: too many acks queued",
			 entry);
	event_active(svc->ack_flush, EV_TIMEOUT, 0);
	held_changed(svc);
}

/* ------------------------------------------------------------------ */
/* Replies, dead letters                                               */
/* ------------------------------------------------------------------ */

/* Pushes a packed reply onto key and sets its TTL, in one script. */
static void reply_push(struct wfp_service *svc, const struct wfp_key *key,
		       const char *data, size_t len)
{
	const char *argv[3] = {key->s, svc->tag, data};
	size_t lens[3] = {strlen(key->s), strlen(svc->tag), len};

	if (key->s[0] == '\0')
		return;
	wfp_redis_script(svc->cmd, WFP_LUA_REPLY, NULL, NULL, 1, 3, argv, lens);
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

/* Frees rq; reads more when there is room again; at shutdown, stops once
 * nothing is left in flight. */
static void request_free(struct wfp_request *rq)
{
	struct wfp_service *svc = rq->svc;

	free(rq);
	svc->inflight--;
	held_released(svc);
}

void wfp_request_done(struct wfp_request *rq)
{
	entry_ack(rq->svc, rq->entry);
	request_free(rq);
}

void wfp_request_lost(struct wfp_request *rq)
{
	wfp_warn("request %s not served: redis unavailable; retried after "
		 "reconnect unless its deadline passes",
		 rq->entry);
	lost_add(rq->svc, rq->entry);
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

/* The dead-letter script answered: the entry is gone, or (no answer) it
 * is served again later, which dead-letters it again. */
static void on_dead_lettered(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_request *rq = arg;

	(void)r;
	if (reply == NULL)
		lost_add(rq->svc, rq->entry);
	request_free(rq);
}

/* The length of a copy of n bytes that fits what is *left of the
 * dead-letter copy's bytes, taken from it; *cut set when it is shorter. */
static size_t copy_len(size_t n, size_t *left, int *cut)
{
	size_t k = n < *left ? n : *left;

	*left -= k;
	*cut |= k < n;
	return k;
}

/* Copies the entry's fields after the script's first 6 arguments (at
 * most DEADLETTER_COPY_MAX bytes of names and values); returns the
 * argument count and says in why when fields were cut. */
static int dead_letter_fields(const redisReply *fields, const char **argv,
			      size_t *lens, const char *reason, char *why,
			      size_t whylen)
{
	const int room = DEADLETTER_WORDS - 3; /* EVALSHA sha numkeys */
	size_t nfields = fields && fields->type == REDIS_REPLY_ARRAY
			     ? fields->elements / 2
			     : 0;
	size_t left = DEADLETTER_COPY_MAX;
	int argc = 6, cut = 0;

	for (size_t i = 0; i < nfields && argc + 2 <= room; i++) {
		const redisReply *k = fields->element[2 * i];
		const redisReply *v = fields->element[2 * i + 1];

		argv[argc] = k->str;
		lens[argc++] = copy_len(k->len, &left, &cut);
		argv[argc] = v->str;
		lens[argc++] = copy_len(v->len, &left, &cut);
	}
	char more[64] = "", cuts[80] = "";

	if ((size_t)(argc - 6) / 2 < nfields)
		snprintf(more, sizeof(more),
			 " (fields past the first %d not copied)",
			 (argc - 6) / 2);
	if (cut)
		snprintf(cuts, sizeof(cuts),
			 " (names and values cut to %d bytes in all)",
			 DEADLETTER_COPY_MAX);
	snprintf(why, whylen, "%s%s%s", reason, more, cuts);
	return argc;
}

/*
 * Moves an unreadable entry to the dead-letter stream with reason (copy,
 * ack, delete in one script) and tells the client when it named a reply.
 * Takes rq (its entry and reply key are set) and ends it.
 */
static void dead_letter(struct wfp_service *svc, const redisReply *entry,
			struct wfp_request *rq, const char *reason)
{
	const char *argv[DEADLETTER_WORDS];
	size_t lens[DEADLETTER_WORDS];
	char why[600];
	int argc = dead_letter_fields(entry->element[1], argv, lens, reason,
				      why, sizeof(why));

	wfp_warn("request %s dead-lettered: %s", rq->entry, reason);
	svc->m_deadletter->value++;
	argv[0] = svc->requests.s, argv[1] = svc->tag, argv[2] = svc->name;
	argv[3] = rq->entry, argv[4] = svc->name, argv[5] = why;
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	svc->inflight++;
	if (wfp_redis_script(svc->cmd, WFP_LUA_DEADLETTER, on_dead_lettered, rq,
			     1, argc, argv, lens) != 0) {
		on_dead_lettered(svc->cmd, NULL, rq);
		return;
	}
	if (rq->reply.s[0])
		reply_error(svc, &rq->reply, reason);
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
	char q[WFP_QUOTE_BUF];
	msgpack_unpacked msg;
	int rc;

	while (op->name && strcmp(op->name, rq->op) != 0)
		op++;
	if (op->name == NULL)
		return snprintf(
			   err, errlen, "unknown op '%s'",
			   wfp_quote(q, sizeof(q), rq->op, strlen(rq->op))),
		       -1;
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

/* Parses a time or duration in ms: 1 to ENTRY_MS_DIGITS digits, nothing
 * else (no sign, space, exponent or hex: takeover.lua parses the same
 * way), so adding a timeout to it never overflows. Returns 0 or -1. */
static int parse_ms(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || len < 1 || len > ENTRY_MS_DIGITS)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * When the request was added, on Redis's clock: min(entry id ms, field
 * at) (request_add.lua writes `at`, Redis's TIME: a `*` id inherits any
 * future time of an earlier id). An entry without `at` (made by hand)
 * uses its id, refused when the id is ahead of Redis's clock by more than
 * our clock's error. Returns 0 or -1 with err.
 */
static int entry_start(struct wfp_service *svc, struct wfp_request *rq,
		       const redisReply *fields, int64_t *start, char *err,
		       size_t errlen)
{
	const redisReply *at = entry_field(fields, "at");
	int64_t id_ms = 0, at_ms = 0, ahead;

	if (parse_ms(rq->entry, strcspn(rq->entry, "-"), &id_ms) != 0)
		return snprintf(err, errlen, "entry id is not a time"), -1;
	if (at && parse_ms(at->str, at->len, &at_ms) != 0)
		return snprintf(err, errlen,
				"field 'at' '%.24s' is not a time in ms",
				at->str),
		       -1;
	if (at) {
		*start = at_ms < id_ms ? at_ms : id_ms;
		return 0;
	}
	ahead = id_ms - wfp_service_now_ms(svc);
	if (ahead > svc->clock_err_ms + WFP_SERVICE_SERVE_MARGIN_MS)
		return snprintf(err, errlen,
				"entry id is %lld ms ahead of redis's clock "
				"and the entry has no field 'at'",
				(long long)ahead),
		       -1;
	*start = id_ms;
	return 0;
}

/* Sets rq->deadline_ms from when the entry was added and the envelope's
 * timeout_ms. Returns 0 or -1 with err. */
static int envelope_deadline(struct wfp_service *svc, struct wfp_request *rq,
			     const redisReply *fields, char *err, size_t errlen)
{
	const redisReply *t = entry_field(fields, "timeout_ms");
	int64_t timeout = 0, start = 0;

	if (t == NULL)
		return snprintf(err, errlen, "missing field 'timeout_ms'"), -1;
	if (parse_ms(t->str, t->len, &timeout) != 0 || timeout < 1 ||
	    timeout > WFP_REQUEST_TIMEOUT_MAX_MS)
		return snprintf(err, errlen,
				"field 'timeout_ms' '%.24s' is not 1..%lld ms",
				t->str, (long long)WFP_REQUEST_TIMEOUT_MAX_MS),
		       -1;
	if (entry_start(svc, rq, fields, &start, err, errlen) != 0)
		return -1;
	rq->deadline_ms = start + timeout;
	return 0;
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
	return envelope_deadline(svc, rq, fields, err, errlen);
}

/* Returns 1 when rq's deadline has passed, or is too near to serve it
 * (the clock's error and WFP_SERVICE_SERVE_MARGIN_MS): it is dropped,
 * acknowledged, and never served. */
static int entry_expired(struct wfp_service *svc, struct wfp_request *rq)
{
	int64_t now = wfp_service_now_ms(svc);

	if (now + svc->clock_err_ms + WFP_SERVICE_SERVE_MARGIN_MS <
	    rq->deadline_ms)
		return 0;
	if (now >= rq->deadline_ms)
		wfp_info("request %s dropped: its deadline passed %lld ms ago",
			 rq->entry, (long long)(now - rq->deadline_ms));
	else
		wfp_info("request %s dropped: its deadline is %lld ms away, "
			 "too near to serve it",
			 rq->entry, (long long)(rq->deadline_ms - now));
	svc->m_expired->value++;
	entry_ack(svc, rq->entry);
	return 1;
}

/* Serves one stream entry {id, [field, value, ...]}. */
static void serve_entry(struct wfp_service *svc, const redisReply *entry)
{
	const redisReply *fields = entry->element[1];
	struct wfp_request *rq = calloc(1, sizeof(*rq));
	char err[512] = "";

	if (rq == NULL) {
		lost_add(svc, entry->element[0]->str); /* tried again later */
		return;
	}
	rq->svc = svc;
	wfp_strlcpy(rq->entry, entry->element[0]->str, sizeof(rq->entry));
	if (fields == NULL || fields->type != REDIS_REPLY_ARRAY) {
		snprintf(err, sizeof(err), "entry has no fields");
	} else if (check_envelope(svc, rq, fields, err, sizeof(err)) == 0) {
		if (entry_expired(svc, rq)) {
			free(rq);
			return;
		}
		if (serve_body(rq, entry_field(fields, "body"), err,
			       sizeof(err)) == 0)
			return; /* rq now belongs to the handler */
	}
	dead_letter(svc, entry, rq, err);
}

/* Serves the entries of one XREADGROUP/script entry list. */
static void serve_entries(struct wfp_service *svc, const redisReply *list)
{
	svc->arriving = list ? (int)list->elements : 0;
	for (size_t i = 0; list && i < list->elements; i++) {
		const redisReply *e = list->element[i];

		svc->arriving--;
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
		    e->element[0]->type == REDIS_REPLY_STRING)
			serve_entry(svc, e);
	}
	held_changed(svc);
}

/* ------------------------------------------------------------------ */
/* Lost requests, served again                                         */
/* ------------------------------------------------------------------ */

/* Remembers an entry whose serving Redis failed under, to serve it again
 * after the link is back (if its deadline allows). */
static void lost_add(struct wfp_service *svc, const char *entry)
{
	if (idlist_add(&svc->lost, entry) != 0)
		wfp_warn("request %s left pending: too many lost requests "
			 "(dropped at its deadline by any replica)",
			 entry);
	held_changed(svc);
}

/* reclaim.lua answered: serve the entries still ours again; the others
 * were taken over or are gone. No answer: keep them for the next try. */
static void on_reclaimed(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct reclaim *rc = arg;
	struct wfp_service *svc = rc->svc;

	(void)r;
	svc->reclaiming -= rc->n;
	if (reply == NULL) {
		for (int i = 0; i < rc->n; i++)
			lost_add(svc, rc->ids[i]); /* warns if it cannot */
	} else if (reply->type == REDIS_REPLY_ARRAY && !svc->d->stopping) {
		serve_entries(svc, reply);
	} else if (reply->type == REDIS_REPLY_ERROR) {
		wfp_warn("serving lost requests again: %s", reply->str);
	}
	free(rc);
	held_released(svc);
}

/* Fetches up to RECLAIM_BATCH lost entries again (those still ours). */
static void lost_retry(struct wfp_service *svc)
{
	const char *argv[4 + RECLAIM_BATCH];
	struct reclaim *rc;

	if (svc->lost.n == 0 || svc->reclaiming > 0 ||
	    !wfp_redis_calm(svc->cmd) || svc->d->stopping)
		return;
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		return;
	rc->svc = svc;
	rc->n = idlist_take(&svc->lost, rc->ids, RECLAIM_BATCH);
	svc->reclaiming += rc->n;
	argv[0] = svc->requests.s, argv[1] = svc->tag, argv[2] = svc->name;
	argv[3] = svc->consumer;
	for (int i = 0; i < rc->n; i++)
		argv[4 + i] = rc->ids[i];
	if (wfp_redis_script(svc->cmd, WFP_LUA_RECLAIM, on_reclaimed, rc, 1,
			     4 + rc->n, argv, NULL) != 0)
		on_reclaimed(svc->cmd, NULL, rc);
}

/* ------------------------------------------------------------------ */
/* Taking over other replicas' requests                                */
/* ------------------------------------------------------------------ */

/* takeover.lua answered {claimed entries, expired, vanished, done}:
 * serve the claimed ones. While adopting our own earlier entries, go on
 * until a pass has looked at all of them (done), then start reading. */
static void on_takeover(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;
	long long expired = 0;
	size_t claimed = 0;

	(void)r;
	svc->taking = 0;
	svc->taking_n = 0;
	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 4) {
		claimed = reply->element[0]->elements;
		expired = reply->element[1]->integer;
		svc->m_expired->value += expired;
		svc->m_takeovers->value += (int64_t)claimed;
		if (claimed > 0)
			wfp_info("took over %zu requests of replicas gone "
				 "silent",
				 claimed);
		if (!svc->d->stopping)
			serve_entries(svc, reply->element[0]);
		if (!svc->adopted && reply->element[3]->integer == 1)
			svc->adopted = 1; /* every entry of ours looked at */
	} else if (reply && reply->type == REDIS_REPLY_ERROR) {
		wfp_warn("taking over requests: %s", reply->str);
		svc->adopted = 1; /* never stop reading over it */
	}
	if (!svc->adopted && reply && reply->type == REDIS_REPLY_ARRAY)
		takeover_pass(svc);
	read_next(svc);
	maybe_stop(svc);
}

/* One takeover.lua pass over the group's pending entries (see the
 * comment above TAKEOVER_EVERY_MS). */
static void takeover_pass(struct wfp_service *svc)
{
	char gone[24], scan[24], margin[24], idle[24];
	int64_t room = svc->held_max - held(svc);
	int64_t up_for = wfp_mono_us() / 1000 - svc->up_ms;
	const char *argv[11] = {svc->requests.s,
				svc->replicas.s,
				svc->tag,
				svc->name,
				svc->consumer,
				gone,
				scan,
				margin,
				svc->adopted ? "0" : "1",
				idle,
				up_for >= REPLICA_GONE_MS ? "1" : "0"};

	if (svc->taking || svc->recovering || room <= 0 || !svc->clock_known ||
	    svc->d->stopping || !wfp_redis_calm(svc->cmd))
		return;
	svc->last_takeover_ms = wfp_mono_us() / 1000;
	snprintf(gone, sizeof(gone), "%d", REPLICA_GONE_MS);
	room = room < TAKEOVER_SCAN ? room : TAKEOVER_SCAN;
	snprintf(scan, sizeof(scan), "%lld", (long long)room);
	snprintf(margin, sizeof(margin), "%lld",
		 (long long)(WFP_SERVICE_SERVE_MARGIN_MS + svc->clock_err_ms));
	snprintf(idle, sizeof(idle), "%d", TAKEOVER_IDLE_MS);
	if (wfp_redis_script(svc->cmd, WFP_LUA_TAKEOVER, on_takeover, svc, 2,
			     11, argv, NULL) == 0) {
		svc->taking = 1;
		svc->taking_n = (int)room;
		held_changed(svc);
	}
}

/* ------------------------------------------------------------------ */
/* Our own entries of a lost read                                      */
/* ------------------------------------------------------------------ */

/* XPENDING of our consumer answered: every entry listed is one a lost
 * read delivered (we held nothing when it went out): serve them as lost
 * requests. A full batch: look again once they are done. */
static void on_own_pending(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct wfp_service *svc = arg;
	size_t n = 0;

	(void)r;
	svc->recovering = 0;
	if (reply && reply->type == REDIS_REPLY_ARRAY) {
		n = reply->elements;
		for (size_t i = 0; i < n; i++) {
			const redisReply *row = reply->element[i];

			if (row->type == REDIS_REPLY_ARRAY &&
			    row->elements >= 1 &&
			    row->element[0]->type == REDIS_REPLY_STRING)
				lost_add(svc, row->element[0]->str);
		}
		if (n > 0)
			wfp_warn("%zu requests of a lost read found pending: "
				 "serving them",
				 n);
		if (n < RECOVER_BATCH)
			svc->recover = 0;
	} else if (reply && reply->type == REDIS_REPLY_ERROR) {
		wfp_warn("listing our pending requests: %s", reply->str);
	}
	lost_retry(svc);
	read_next(svc);
	maybe_stop(svc);
}

/* Lists our consumer's pending entries once we hold nothing (see
 * RECOVER_BATCH); tried again on the next tick when it cannot go out. */
static void recover_own(struct wfp_service *svc)
{
	char count[16];
	const char *argv[7] = {"XPENDING", svc->requests.s, svc->name,	  "-",
			       "+",	   count,	    svc->consumer};

	if (svc->recovering || svc->reading || svc->taking || held(svc) > 0)
		return;
	snprintf(count, sizeof(count), "%d", RECOVER_BATCH);
	if (wfp_redis_command(svc->cmd, 0, on_own_pending, svc, 7, argv,
			      NULL) == 0)
		svc->recovering = 1;
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
	if (failed)
		svc->recover = 1; /* its reply may have delivered entries */
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

/*
 * Starts the next blocking read, unless one is outstanding, Redis's clock
 * is not known yet, our own earlier entries are not adopted yet, or this
 * replica already holds its cap of requests (it reads again as they end).
 */
static void read_next(struct wfp_service *svc)
{
	char count[16], block[16];
	int64_t room = svc->held_max - held(svc);
	const char *argv[11] = {
	    "XREADGROUP", "GROUP", svc->name, svc->consumer,   "COUNT", count,
	    "BLOCK",	  block,   "STREAMS", svc->requests.s, ">"};

	if (svc->reading || svc->d->stopping || !svc->clock_known ||
	    !svc->adopted || room <= 0 || !wfp_redis_calm(svc->reader) ||
	    !wfp_redis_calm(svc->cmd))
		return;
	if (svc->recover) {
		recover_own(svc); /* reading resumes once it is done */
		return;
	}
	snprintf(count, sizeof(count), "%lld",
		 (long long)(room < READ_COUNT ? room : READ_COUNT));
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

/* The command link is up: check the policy, make the group, say we are
 * alive, measure Redis's clock (reading starts once it is known), adopt
 * our own earlier entries (first connect), send the acks kept while the
 * link was down and serve the lost requests again. */
static void on_cmd_up(struct wfp_redis *r, void *arg)
{
	struct wfp_service *svc = arg;
	const char *policy[3] = {"CONFIG", "GET", "maxmemory-policy"};

	svc->m_up.value = 1;
	svc->m_connects.value = wfp_redis_connects(r);
	svc->up_ms = wfp_mono_us() / 1000;
	wfp_redis_command(r, 0, on_policy, svc, 3, policy, NULL);
	group_create(svc, svc->requests.s, svc->name);
	say_alive(svc);
	clock_measure(svc);
	if (!svc->adopted)
		takeover_pass(svc);
	if (svc->up_fn)
		svc->up_fn(svc, svc->arg);
	acks_flush(svc);
	lost_retry(svc);
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

/* Records this replica as alive in {p}:svc:<service>:replicas, at
 * Redis's time (the takeover compares it with Redis's TIME). */
static void say_alive(struct wfp_service *svc)
{
	char at[24];
	const char *add[4] = {"ZADD", svc->replicas.s, at, svc->consumer};

	if (!svc->clock_known)
		return; /* on_time says it once Redis's clock is known */
	svc->last_alive_ms = wfp_mono_us() / 1000;
	snprintf(at, sizeof(at), "%lld", (long long)wfp_service_now_ms(svc));
	wfp_redis_command(svc->cmd, 0, NULL, NULL, 4, add, NULL);
}

/* Forgets replicas, and the group's consumers of replicas, silent for
 * ALIVE_FORGET_MS. */
static void forget_gone(struct wfp_service *svc, int64_t now)
{
	char old[24];
	const char *trim[4] = {"ZREMRANGEBYSCORE", svc->replicas.s, "-inf",
			       old};
	const char *ci[4] = {"XINFO", "CONSUMERS", svc->requests.s, svc->name};

	svc->last_forget_ms = now;
	snprintf(old, sizeof(old), "%lld",
		 (long long)(wfp_service_now_ms(svc) - ALIVE_FORGET_MS));
	wfp_redis_command(svc->cmd, 0, NULL, NULL, 4, trim, NULL);
	wfp_redis_command(svc->cmd, 0, on_consumers, svc, 4, ci, NULL);
}

/* Every tick with the link up: the owner's tick, our sign of life, the
 * clock, a takeover pass, acks and lost requests kept from an outage,
 * and now and then forgetting replicas gone. Times are monotonic. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_service *svc = arg;
	int64_t now = wfp_mono_us() / 1000;

	(void)fd, (void)what;
	svc->m_up.value = wfp_redis_ready(svc->cmd);
	if (!svc->m_up.value || svc->d->stopping)
		return;
	if (svc->tick_fn)
		svc->tick_fn(svc, svc->arg);
	if (now - svc->last_alive_ms >= ALIVE_EVERY_MS)
		say_alive(svc);
	if (now - svc->last_clock_ms >= CLOCK_EVERY_MS)
		clock_measure(svc);
	if (now - svc->last_takeover_ms >= TAKEOVER_EVERY_MS)
		takeover_pass(svc);
	if (now - svc->last_forget_ms >= FORGET_EVERY_MS)
		forget_gone(svc, now);
	acks_flush(svc);
	lost_retry(svc);
	read_next(svc);
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
	svc->replicas = wfp_key_replicas(svc->tag, name);
	svc->held_max = d->cfg.inflight_max > 0 ? d->cfg.inflight_max
						: WFP_SERVICE_INFLIGHT_MAX;
	svc->last_forget_ms = wfp_mono_us() / 1000;
	svc->tick = event_new(d->base, -1, EV_PERSIST, on_tick, svc);
	svc->read_again = evtimer_new(d->base, on_read_again, svc);
	svc->ack_flush = event_new(d->base, -1, 0, on_ack_flush, svc);
	svc->cmd =
	    wfp_redis_new(d->base, &d->cfg.redis, "redis", d->cfg.timeout_ms);
	snprintf(label, sizeof(label), "redis-reader");
	svc->reader =
	    wfp_redis_new(d->base, &d->cfg.redis, label, d->cfg.timeout_ms);
	if (!svc->tick || !svc->read_again || !svc->ack_flush || !svc->cmd ||
	    !svc->reader || idlist_init(&svc->acks, (int)svc->held_max) ||
	    idlist_init(&svc->lost, (int)svc->held_max)) {
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
	if (svc->cmd && svc->acks.ids)
		acks_flush(svc);
	wfp_redis_free(svc->cmd);
	free(svc->acks.ids);
	free(svc->lost.ids);
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
