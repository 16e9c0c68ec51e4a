/* jobboard.c - the job-board daemon: request stream, reaper, cleaner
 * (see jobboard-internal.h and the README's "Job board" section). */
#include "jobboard-internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wfp/client.h"
#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/log.h"
#include "wfp/metrics.h"
#include "wfp/redis.h"
#include "wfp/util.h"

#define SERVICE		"jobboard"
#define READ_COUNT	64   /* requests taken per read */
#define READ_BLOCK_MS	1000 /* one blocking read */
#define REAP_LIMIT	500  /* leases looked at per reaper pass */
#define CLEAN_LIMIT	500  /* jobs removed per cleaner pass */
#define CLEAN_EVERY_MS	5000 /* at most; sooner for short retention */
#define ORPHAN_EVERY_MS 10000
#define ORPHAN_IDLE_MS	30000	/* a replica's request unacked this long */
#define OWNER_TTL_MS	3600000 /* owners not seen for an hour are forgotten */
#define REPLY_TTL_MS	60000	/* unread replies expire */

struct jobboard {
	struct wfp_daemon *d;
	struct wfp_redis *cmd;	  /* scripts and replies */
	struct wfp_redis *reader; /* the blocking XREADGROUP */
	char tag[WFP_TAG_MAX];
	char consumer[96];
	struct wfp_key requests;
	struct event *tick;
	struct event *read_again;
	int64_t tick_ms;
	int64_t last_clean_ms, last_orphan_ms;
	int reading;  /* a read is outstanding */
	int inflight; /* requests being served */
	int exit_code;
};

/* One request being served. */
struct request {
	struct jobboard *jb;
	char entry[64];
	struct wfp_key reply; /* "" when the client wants none */
	char op[16];
};

static struct wfp_metric m_requests = {
    "wfp_jobboard_requests_total", "Requests served from the request stream",
    "counter", 0};
static struct wfp_metric m_refused = {"wfp_jobboard_requests_refused_total",
				      "Requests answered with an error",
				      "counter", 0};
static struct wfp_metric m_deadletter = {
    "wfp_jobboard_deadletter_total",
    "Unreadable requests moved to the dead-letter stream", "counter", 0};
static struct wfp_metric m_expired = {
    "wfp_jobboard_requests_expired_total",
    "Requests dropped because their deadline had passed", "counter", 0};
static struct wfp_metric m_reposted = {
    "wfp_jobboard_reaped_total",
    "Jobs taken from silent owners and posted again", "counter", 0};
static struct wfp_metric m_dead = {
    "wfp_jobboard_dead_total",
    "Jobs that went dead after their last attempt expired", "counter", 0};
static struct wfp_metric m_cleaned = {
    "wfp_jobboard_cleaned_total",
    "Finished jobs removed after the retention time", "counter", 0};
static struct wfp_metric m_up = {
    "wfp_redis_connected", "1 while the command connection to Redis is up",
    "gauge", 0};
static struct wfp_metric m_connects = {
    "wfp_redis_connects_total",
    "Successful connections to Redis (1 + reconnects)", "counter", 0};

static void read_next(struct jobboard *jb);
static void groups_create(struct jobboard *jb);
static void serve_entry(struct jobboard *jb, const redisReply *entry);

/* ------------------------------------------------------------------ */
/* Validation (pure)                                                   */
/* ------------------------------------------------------------------ */

/* Checks that text is one JSON object (jansson, duplicates refused). */
static int payload_check(const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	int ok = v != NULL && json_is_object(v);

	if (v == NULL)
		snprintf(err, errlen, "payload is not JSON: %s", je.text);
	else if (!ok)
		snprintf(err, errlen, "payload is not a JSON object");
	json_decref(v);
	return ok ? 0 : -1;
}

int jobboard_parse_post(const msgpack_object *body, struct jobboard_post *p,
			char *err, size_t errlen)
{
	static const char *const fields[] = {"id",
					     "name",
					     "max_attempts",
					     "payload",
					     "idempotency_key",
					     "idempotency_ttl_ms",
					     NULL};
	int64_t max = WFP_DEFAULT_MAX_ATTEMPTS, ttl = WFP_IDEM_TTL_DEFAULT_MS;
	struct wfp_post post;

	memset(p, 0, sizeof(*p));
	p->payload = malloc(WFP_PAYLOAD_MAX + 1);
	if (p->payload == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	if (wfp_codec_only_keys(body, fields, err, errlen) ||
	    wfp_codec_str(body, "id", 0, p->id, sizeof(p->id), err, errlen) ||
	    wfp_codec_str(body, "name", 1, p->name, sizeof(p->name), err,
			  errlen) ||
	    wfp_codec_str(body, "payload", 0, p->payload, WFP_PAYLOAD_MAX + 1,
			  err, errlen) ||
	    wfp_codec_str(body, "idempotency_key", 0, p->idem, sizeof(p->idem),
			  err, errlen) ||
	    wfp_codec_int(body, "max_attempts", 0, 1, WFP_MAX_ATTEMPTS_LIMIT,
			  &max, err, errlen) ||
	    wfp_codec_int(body, "idempotency_ttl_ms", 0, 1, WFP_IDEM_TTL_MAX_MS,
			  &ttl, err, errlen))
		return -1;
	if (p->payload[0] == '\0')
		wfp_strlcpy(p->payload, "{}", WFP_PAYLOAD_MAX + 1);
	p->max_attempts = max;
	p->idem_ttl_ms = ttl;
	post = (struct wfp_post){p->id, p->name, p->payload, max, p->idem, ttl};
	if (wfp_post_check(&post, err, errlen) != 0)
		return -1;
	return payload_check(p->payload, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Replies and dead letters                                            */
/* ------------------------------------------------------------------ */

/* Acknowledges and deletes a served request. */
static void request_ack(struct jobboard *jb, const char *entry)
{
	const char *ack[4] = {"XACK", jb->requests.s, SERVICE, entry};
	const char *del[3] = {"XDEL", jb->requests.s, entry};

	wfp_redis_command(jb->cmd, 0, NULL, NULL, 4, ack, NULL);
	wfp_redis_command(jb->cmd, 0, NULL, NULL, 3, del, NULL);
}

/* Pushes a packed reply to the client's reply list (with a TTL). */
static void reply_send(struct jobboard *jb, const struct wfp_key *key,
		       const msgpack_sbuffer *buf)
{
	char ttl[24];
	const char *push[3] = {"LPUSH", key->s, buf->data};
	size_t lens[3] = {5, strlen(key->s), buf->size};
	const char *exp[3] = {"PEXPIRE", key->s, ttl};

	if (key->s[0] == '\0')
		return;
	snprintf(ttl, sizeof(ttl), "%d", REPLY_TTL_MS);
	wfp_redis_command(jb->cmd, 0, NULL, NULL, 3, push, lens);
	wfp_redis_command(jb->cmd, 0, NULL, NULL, 3, exp, NULL);
}

/* Replies {ok: false, error: msg}. */
static void reply_error(struct jobboard *jb, const struct wfp_key *key,
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
	reply_send(jb, key, &buf);
	msgpack_sbuffer_destroy(&buf);
}

/*
 * Moves an unreadable entry to the dead-letter stream with reason (one
 * script: copy, ack, delete) and tells the client, when it named a reply.
 */
static void dead_letter(struct jobboard *jb, const redisReply *entry,
			const struct wfp_key *reply, const char *reason)
{
	const char *argv[64];
	size_t lens[64];
	int argc = 0;
	const redisReply *fields = entry->element[1];

	wfp_warn("request %s dead-lettered: %s", entry->element[0]->str,
		 reason);
	m_deadletter.value++;
	argv[argc++] = jb->requests.s, argv[argc++] = jb->tag;
	argv[argc++] = SERVICE, argv[argc++] = entry->element[0]->str;
	argv[argc++] = SERVICE, argv[argc++] = reason;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; fields && i + 1 < fields->elements && argc < 62;
	     i += 2) {
		argv[argc] = fields->element[i]->str;
		lens[argc++] = fields->element[i]->len;
		argv[argc] = fields->element[i + 1]->str;
		lens[argc++] = fields->element[i + 1]->len;
	}
	wfp_redis_script(jb->cmd, WFP_LUA_DEADLETTER, NULL, NULL, 1, argc, argv,
			 lens);
	if (reply)
		reply_error(jb, reply, reason);
}

/* ------------------------------------------------------------------ */
/* Serving requests                                                    */
/* ------------------------------------------------------------------ */

/* Ends one request: ack it and, at shutdown, stop when nothing is left. */
static void request_done(struct request *rq)
{
	struct jobboard *jb = rq->jb;

	request_ack(jb, rq->entry);
	free(rq);
	jb->inflight--;
	if (jb->d->stopping && jb->inflight == 0 && !jb->reading)
		wfp_daemon_stopped(jb->d);
}

/* Packs a script's answer to op as the reply map. */
static void pack_result(msgpack_packer *pk, const char *op, const redisReply *r)
{
	if (strcmp(op, "post") == 0) {
		msgpack_pack_map(pk, 3);
		wfp_pack_cstr(pk, "ok"), msgpack_pack_true(pk);
		wfp_pack_kv(pk, "id", r->element[0]->str);
		wfp_pack_cstr(pk, "created");
		msgpack_pack_int64(pk, r->element[1]->integer);
	} else if (strcmp(op, "transfer") == 0) {
		msgpack_pack_map(pk, 5);
		wfp_pack_cstr(pk, "ok"), msgpack_pack_true(pk);
		wfp_pack_kv(pk, "state", r->element[0]->str);
		wfp_pack_kv(pk, "owner", r->element[1]->str);
		wfp_pack_kv(pk, "token", r->element[2]->str);
		wfp_pack_cstr(pk, "fence");
		msgpack_pack_int64(pk, r->element[3]->integer);
	} else {
		msgpack_pack_map(pk, 2);
		wfp_pack_cstr(pk, "ok"), msgpack_pack_true(pk);
		wfp_pack_kv(pk, "state", r->str ? r->str : "");
	}
}

/* A request's script answered: reply to the client, ack the entry. */
static void on_script(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct request *rq = arg;
	msgpack_sbuffer buf;
	msgpack_packer pk;

	(void)r;
	if (reply == NULL) {
		/* Redis went away: leave the entry pending; it is retried
		 * (or expires) once another pass claims it. */
		wfp_warn("request %s not served: redis unavailable", rq->entry);
		rq->jb->inflight--;
		free(rq);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		char msg[512];

		wfp_strlcpy(msg, reply->str, sizeof(msg));
		wfp_script_error_trim(msg);
		m_refused.value++;
		reply_error(rq->jb, &rq->reply, msg);
		request_done(rq);
		return;
	}
	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	pack_result(&pk, rq->op, reply);
	reply_send(rq->jb, &rq->reply, &buf);
	msgpack_sbuffer_destroy(&buf);
	request_done(rq);
}

/* Runs script id for rq; on a send failure the entry stays pending. */
static void request_run(struct request *rq, enum wfp_script_id id, int argc,
			const char **argv)
{
	rq->jb->inflight++;
	m_requests.value++;
	if (wfp_redis_script(rq->jb->cmd, id, on_script, rq, 1, argc, argv,
			     NULL) != 0) {
		rq->jb->inflight--;
		free(rq);
	}
}

/* op "post": validate the body, then run post.lua. */
static int serve_post(struct request *rq, const msgpack_object *body, char *err,
		      size_t errlen)
{
	struct jobboard_post p;
	char id[WFP_ID_MAX], max[24], ttl[24];
	struct wfp_key job;
	const char *argv[8];

	if (jobboard_parse_post(body, &p, err, errlen) != 0) {
		free(p.payload);
		return -1;
	}
	if (p.id[0])
		wfp_strlcpy(id, p.id, sizeof(id));
	else
		wfp_random_hex(id, 8);
	job = wfp_key_job(rq->jb->tag, id);
	snprintf(max, sizeof(max), "%lld", p.max_attempts);
	snprintf(ttl, sizeof(ttl), "%lld", p.idem_ttl_ms);
	argv[0] = job.s, argv[1] = rq->jb->tag, argv[2] = id;
	argv[3] = p.name, argv[4] = max, argv[5] = p.payload;
	argv[6] = p.idem, argv[7] = ttl;
	request_run(rq, WFP_LUA_POST, 8, argv);
	free(p.payload);
	return 0;
}

/* ops "transfer" {id, to} and "repost" {id}. */
static int serve_job_op(struct request *rq, const msgpack_object *body,
			char *err, size_t errlen)
{
	static const char *const fields[] = {"id", "to", NULL};
	int is_transfer = strcmp(rq->op, "transfer") == 0;
	char id[WFP_ID_MAX], to[WFP_NAME_MAX], base[33], vis[24];
	struct wfp_key job;
	const char *argv[5];

	if (wfp_codec_only_keys(body, fields, err, errlen) ||
	    wfp_codec_str(body, "id", 1, id, sizeof(id), err, errlen) ||
	    wfp_codec_str(body, "to", 0, to, sizeof(to), err, errlen) ||
	    wfp_check_id("job id", id, err, errlen))
		return -1;
	if (!is_transfer && wfp_codec_get(body, "to") != NULL)
		return snprintf(err, errlen, "unknown field 'to'"), -1;
	if (to[0] && wfp_check_name("owner", to, err, errlen))
		return -1;
	job = wfp_key_job(rq->jb->tag, id);
	wfp_random_hex(base, 16);
	snprintf(vis, sizeof(vis), "%lld",
		 (long long)rq->jb->d->cfg.visibility_ms);
	argv[0] = job.s, argv[1] = rq->jb->tag, argv[2] = id;
	argv[3] = to, argv[4] = base;
	if (is_transfer) {
		const char *targv[6] = {argv[0], argv[1], id, to, base, vis};

		request_run(rq, WFP_LUA_TRANSFER, 6, targv);
	} else {
		request_run(rq, WFP_LUA_REPOST, 3, argv);
	}
	return 0;
}

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
static int reply_key_ok(const struct jobboard *jb, const redisReply *v)
{
	struct wfp_key want = wfp_key_reply(jb->tag, "");

	return v && v->len < WFP_KEY_MAX &&
	       strncmp(v->str, want.s, strlen(want.s)) == 0;
}

/* Decodes and dispatches one body; returns 0, or -1 with err. */
static int serve_body(struct request *rq, const redisReply *body, char *err,
		      size_t errlen)
{
	msgpack_unpacked msg;
	int rc;

	if (body == NULL)
		return snprintf(err, errlen, "missing field 'body'"), -1;
	if (wfp_codec_decode(body->str, body->len, &msg, err, errlen) != 0)
		return -1;
	if (strcmp(rq->op, "post") == 0)
		rc = serve_post(rq, &msg.data, err, errlen);
	else if (strcmp(rq->op, "transfer") == 0 ||
		 strcmp(rq->op, "repost") == 0)
		rc = serve_job_op(rq, &msg.data, err, errlen);
	else {
		snprintf(err, errlen, "unknown op '%.32s'", rq->op);
		rc = -1;
	}
	msgpack_unpacked_destroy(&msg);
	return rc;
}

/* Serves one stream entry {id, [field, value, ...]}. */
static void serve_entry(struct jobboard *jb, const redisReply *entry)
{
	const redisReply *fields = entry->element[1];
	const redisReply *op = entry_field(fields, "op");
	const redisReply *reply = entry_field(fields, "reply");
	const redisReply *deadline = entry_field(fields, "deadline_ms");
	struct request *rq = calloc(1, sizeof(*rq));
	char err[512] = "";
	int64_t dl = 0;

	if (rq == NULL)
		return;
	rq->jb = jb;
	wfp_strlcpy(rq->entry, entry->element[0]->str, sizeof(rq->entry));
	if (reply_key_ok(jb, reply))
		wfp_strlcpy(rq->reply.s, reply->str, sizeof(rq->reply.s));
	if (deadline && (wfp_parse_i64(deadline->str, &dl) != 0 || dl < 0))
		snprintf(err, sizeof(err), "field 'deadline_ms' is not a time");
	else if (dl > 0 && dl < wfp_now_ms()) {
		wfp_info("request %s dropped: its deadline passed", rq->entry);
		m_expired.value++;
		request_ack(jb, rq->entry);
		free(rq);
		return;
	} else if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
		snprintf(err, sizeof(err), "entry has no fields");
	else if (reply && !rq->reply.s[0])
		snprintf(err, sizeof(err), "field 'reply' is not a reply key");
	else if (op == NULL || op->len >= sizeof(rq->op))
		snprintf(err, sizeof(err), "missing or overlong field 'op'");
	if (err[0] == '\0') {
		wfp_strlcpy(rq->op, op->str, sizeof(rq->op));
		if (serve_body(rq, entry_field(fields, "body"), err,
			       sizeof(err)) == 0)
			return; /* rq now belongs to the script callback */
	}
	dead_letter(jb, entry, rq->reply.s[0] ? &rq->reply : NULL, err);
	free(rq);
}

/* ------------------------------------------------------------------ */
/* Reading the request stream                                          */
/* ------------------------------------------------------------------ */

/* Serves the entries of one XREADGROUP/XAUTOCLAIM entry list. */
static void serve_entries(struct jobboard *jb, const redisReply *list)
{
	for (size_t i = 0; list && i < list->elements; i++) {
		const redisReply *e = list->element[i];

		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2)
			serve_entry(jb, e);
	}
}

static void on_read(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct jobboard *jb = arg;
	struct timeval again = {0, 200000};

	(void)r;
	jb->reading = 0;
	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0)
		serve_entries(jb, reply->element[0]->element[1]);
	if (reply && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOGROUP", 7) == 0)
		groups_create(jb); /* the stream was deleted or flushed */
	else if (reply && reply->type == REDIS_REPLY_ERROR)
		wfp_warn("reading requests: %s", reply->str);
	if (jb->d->stopping) {
		if (jb->inflight == 0)
			wfp_daemon_stopped(jb->d);
		return;
	}
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		evtimer_add(jb->read_again, &again); /* reconnect or group */
	else
		read_next(jb);
}

/* Starts the next blocking read, unless one is outstanding. */
static void read_next(struct jobboard *jb)
{
	char count[16], block[16];
	const char *argv[10] = {
	    "XREADGROUP", "GROUP", SERVICE, jb->consumer, "COUNT",
	    count,	  "BLOCK", block,   "STREAMS",	  jb->requests.s};
	const char *full[11];

	if (jb->reading || jb->d->stopping)
		return;
	snprintf(count, sizeof(count), "%d", READ_COUNT);
	snprintf(block, sizeof(block), "%d", READ_BLOCK_MS);
	memcpy(full, argv, sizeof(argv));
	full[10] = ">";
	if (wfp_redis_command(jb->reader, READ_BLOCK_MS + jb->d->cfg.timeout_ms,
			      on_read, jb, 11, full, NULL) == 0)
		jb->reading = 1;
}

static void on_read_again(evutil_socket_t fd, short what, void *arg)
{
	struct jobboard *jb = arg;
	struct timeval again = {0, 200000};

	(void)fd, (void)what;
	read_next(jb);
	if (!jb->reading && !jb->d->stopping)
		evtimer_add(jb->read_again, &again);
}

/* ------------------------------------------------------------------ */
/* Start-up checks                                                     */
/* ------------------------------------------------------------------ */

/* Refuses to run when Redis could evict keys: an evicted key is a lost
 * job or lock. */
static void on_policy(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct jobboard *jb = arg;
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
	wfp_error(
	    "redis maxmemory-policy is '%s': redis could evict jobs and "
	    "locks. Fix: redis-cli CONFIG SET maxmemory-policy noeviction "
	    "(and 'maxmemory-policy noeviction' in redis.conf)",
	    policy);
	jb->exit_code = 3;
	jb->d->stopping = 1;
	wfp_daemon_stopped(jb->d);
}

/* Creates a consumer group, ignoring "already exists". */
static void group_create(struct jobboard *jb, const char *stream,
			 const char *group)
{
	const char *argv[6] = {"XGROUP", "CREATE", stream,
			       group,	 "0",	   "MKSTREAM"};

	wfp_redis_command(jb->cmd, 0, NULL, NULL, 6, argv, NULL);
}

/* Creates the request stream's and the job stream's groups. */
static void groups_create(struct jobboard *jb)
{
	struct wfp_key jobs = wfp_key_job_stream(jb->tag);

	group_create(jb, jb->requests.s, SERVICE);
	group_create(jb, jobs.s, WFP_JOB_GROUP);
}

static void on_cmd_up(struct wfp_redis *r, void *arg)
{
	struct jobboard *jb = arg;
	const char *policy[3] = {"CONFIG", "GET", "maxmemory-policy"};

	m_up.value = 1;
	m_connects.value++;
	wfp_redis_command(r, 0, on_policy, jb, 3, policy, NULL);
	groups_create(jb);
}

static void on_reader_up(struct wfp_redis *r, void *arg)
{
	(void)r;
	read_next(arg);
}

/* ------------------------------------------------------------------ */
/* The tick: reaper, cleaner, orphaned requests                        */
/* ------------------------------------------------------------------ */

static void on_reaped(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)r, (void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2)
		return;
	m_reposted.value += reply->element[0]->integer;
	m_dead.value += reply->element[1]->integer;
	if (reply->element[0]->integer + reply->element[1]->integer > 0)
		wfp_info("reaper: %lld jobs posted again, %lld dead",
			 reply->element[0]->integer,
			 reply->element[1]->integer);
}

static void on_cleaned(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)r, (void)arg;
	if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
		m_cleaned.value += reply->integer;
		wfp_info("cleaner: removed %lld finished jobs", reply->integer);
	}
}

/* XAUTOCLAIM answered: serve requests a dead replica left unacked. */
static void on_orphans(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct jobboard *jb = arg;

	(void)r;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 2)
		return;
	serve_entries(jb, reply->element[1]);
	if (reply->elements >= 3) {
		const redisReply *gone = reply->element[2];

		for (size_t i = 0; i < gone->elements; i++)
			request_ack(jb, gone->element[i]->str);
	}
}

/* Runs the periodic scripts that are due. */
static void tick_run(struct jobboard *jb)
{
	const struct wfp_config *cfg = &jb->d->cfg;
	struct wfp_key leases = wfp_key_leases(jb->tag);
	struct wfp_key events = wfp_key_events(jb->tag);
	char limit[16], ret[24], clean[16], owners[24], idle[16];
	int64_t now = wfp_now_ms();

	snprintf(limit, sizeof(limit), "%d", REAP_LIMIT);
	snprintf(ret, sizeof(ret), "%lld", (long long)cfg->retention_ms);
	const char *reap[4] = {leases.s, jb->tag, limit, ret};
	wfp_redis_script(jb->cmd, WFP_LUA_REAP, on_reaped, jb, 1, 4, reap,
			 NULL);
	if (now - jb->last_clean_ms >= CLEAN_EVERY_MS ||
	    now - jb->last_clean_ms >= cfg->retention_ms / 2) {
		jb->last_clean_ms = now;
		snprintf(clean, sizeof(clean), "%d", CLEAN_LIMIT);
		snprintf(owners, sizeof(owners), "%d", OWNER_TTL_MS);
		const char *cl[5] = {events.s, jb->tag, ret, clean, owners};
		wfp_redis_script(jb->cmd, WFP_LUA_CLEANUP, on_cleaned, jb, 1, 5,
				 cl, NULL);
	}
	if (now - jb->last_orphan_ms >= ORPHAN_EVERY_MS) {
		jb->last_orphan_ms = now;
		snprintf(idle, sizeof(idle), "%d", ORPHAN_IDLE_MS);
		const char *ac[8] = {
		    "XAUTOCLAIM", jb->requests.s, SERVICE, jb->consumer,
		    idle,	  "0-0",	  "COUNT", "16"};
		wfp_redis_command(jb->cmd, 0, on_orphans, jb, 8, ac, NULL);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jobboard *jb = arg;

	(void)fd, (void)what;
	m_up.value = wfp_redis_ready(jb->cmd);
	if (m_up.value && !jb->d->stopping)
		tick_run(jb);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static void on_stop(struct wfp_daemon *d, void *arg)
{
	struct jobboard *jb = arg;

	(void)d;
	evtimer_del(jb->read_again);
	if (!jb->reading && jb->inflight == 0)
		wfp_daemon_stopped(jb->d);
	/* else on_read / request_done stop once the read and work finish */
}

static int healthy(void *arg)
{
	struct jobboard *jb = arg;

	return wfp_redis_ready(jb->cmd) && wfp_redis_ready(jb->reader);
}

static void metrics_register(void)
{
	struct wfp_metric *all[] = {&m_requests, &m_refused,  &m_deadletter,
				    &m_expired,	 &m_reposted, &m_dead,
				    &m_cleaned,	 &m_up,	      &m_connects};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		wfp_metrics_register(all[i]);
}

struct jobboard *jobboard_new(struct wfp_daemon *d)
{
	struct jobboard *jb = calloc(1, sizeof(*jb));
	struct timeval tv;
	char host[64] = "host";

	if (jb == NULL)
		return NULL;
	jb->d = d;
	wfp_config_tag(&d->cfg, jb->tag, sizeof(jb->tag));
	gethostname(host, sizeof(host) - 1);
	snprintf(jb->consumer, sizeof(jb->consumer), "%s-%d", host, getpid());
	jb->requests = wfp_key_requests(jb->tag, SERVICE);
	jb->tick_ms = d->cfg.visibility_ms / 4;
	jb->tick_ms =
	    jb->tick_ms < 50 ? 50 : (jb->tick_ms > 1000 ? 1000 : jb->tick_ms);
	tv = (struct timeval){jb->tick_ms / 1000, (jb->tick_ms % 1000) * 1000};
	jb->tick = event_new(d->base, -1, EV_PERSIST, on_tick, jb);
	jb->read_again = evtimer_new(d->base, on_read_again, jb);
	jb->cmd =
	    wfp_redis_new(d->base, &d->cfg.redis, "redis", d->cfg.timeout_ms);
	jb->reader = wfp_redis_new(d->base, &d->cfg.redis, "redis-reader",
				   d->cfg.timeout_ms);
	if (!jb->tick || !jb->read_again || !jb->cmd || !jb->reader) {
		jobboard_free(jb);
		return NULL;
	}
	wfp_redis_on_up(jb->cmd, on_cmd_up, jb);
	wfp_redis_on_up(jb->reader, on_reader_up, jb);
	event_add(jb->tick, &tv);
	d->on_stop = on_stop;
	d->healthy = healthy;
	d->arg = jb;
	metrics_register();
	return jb;
}

int jobboard_exit_code(const struct jobboard *jb)
{
	return jb->exit_code;
}

void jobboard_free(struct jobboard *jb)
{
	if (jb == NULL)
		return;
	wfp_redis_free(jb->reader);
	wfp_redis_free(jb->cmd);
	if (jb->tick)
		event_free(jb->tick);
	if (jb->read_again)
		event_free(jb->read_again);
	free(jb);
}
