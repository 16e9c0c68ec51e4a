/* jobboard.c - the job-board daemon: request stream, reaper, cleaner
 * (see jobboard-internal.h and the README's "Job board" section). */
#include "jobboard-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/client.h"
#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/lease.h"
#include "wfp/log.h"
#include "wfp/metrics.h"
#include "wfp/redis.h"
#include "wfp/service.h"
#include "wfp/sha1.h"
#include "wfp/util.h"

#define SERVICE	       "jobboard"
#define REAP_LIMIT     500     /* leases looked at per reaper pass */
#define REAP_POLL_MS   10      /* the earliest lease is looked at this often */
#define CLEAN_LIMIT    500     /* jobs removed per cleaner pass */
#define CLEAN_EVERY_MS 5000    /* at most; sooner for short retention */
#define OWNER_TTL_MS   3600000 /* owners not seen for an hour are forgotten */

struct jobboard {
	struct wfp_daemon *d;
	struct wfp_service *svc;
	struct wfp_lease_watch *watch; /* the lease set: runs the reaper */
	int64_t last_clean_ms;
	struct wfp_metric *m_reposted, *m_dead, *m_cleaned;
};

/* ------------------------------------------------------------------ */
/* Validation (pure)                                                   */
/* ------------------------------------------------------------------ */

/* Bytes to hold body's payload: its size + 1 (room for "{}" when absent),
 * or one past the limit when over it, so the copy refuses it by name. */
static size_t payload_room(const msgpack_object *body)
{
	const msgpack_object *v = wfp_codec_get(body, "payload");
	size_t n = v && v->type == MSGPACK_OBJECT_STR ? v->via.str.size : 0;

	if (n > WFP_PAYLOAD_MAX)
		return WFP_PAYLOAD_MAX + 1;
	return n < 2 ? 3 : n + 1;
}

int jobboard_parse_post(const msgpack_object *body, struct jobboard_post *p,
			char *err, size_t errlen)
{
	int64_t max = WFP_DEFAULT_MAX_ATTEMPTS, ttl = WFP_IDEM_TTL_DEFAULT_MS;
	size_t room = payload_room(body);
	struct wfp_post post;

	memset(p, 0, sizeof(*p));
	p->payload = malloc(room);
	if (p->payload == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	if (wfp_codec_only_keys(body, wfp_post_fields, err, errlen) ||
	    wfp_codec_str(body, "id", 0, p->id, sizeof(p->id), err, errlen) ||
	    wfp_codec_str(body, "name", 1, p->name, sizeof(p->name), err,
			  errlen) ||
	    wfp_codec_str(body, "payload", 0, p->payload, room, err, errlen) ||
	    wfp_codec_str(body, "idempotency_key", 0, p->idem, sizeof(p->idem),
			  err, errlen) ||
	    wfp_codec_int(body, "max_attempts", 0, 1, WFP_MAX_ATTEMPTS_LIMIT,
			  &max, err, errlen) ||
	    wfp_codec_int(body, "idempotency_ttl_ms", 0, 1, WFP_IDEM_TTL_MAX_MS,
			  &ttl, err, errlen))
		return -1;
	if (p->payload[0] == '\0')
		wfp_strlcpy(p->payload, "{}", room);
	p->max_attempts = max;
	p->idem_ttl_ms = ttl;
	post = (struct wfp_post){p->id, p->name, p->payload, max, p->idem, ttl};
	return wfp_post_check(&post, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Serving requests                                                    */
/* ------------------------------------------------------------------ */

/* Packs a script's answer to op as the reply map. */
static void pack_result(msgpack_packer *pk, const char *op, const redisReply *r)
{
	if (strcmp(op, "post") == 0) {
		msgpack_pack_map(pk, 3);
		wfp_pack_cstr(pk, "ok"), msgpack_pack_true(pk);
		wfp_pack_kv(pk, "id", r->element[0]->str);
		wfp_pack_cstr(pk, "created"); /* a boolean since issue 6 */
		if (r->element[1]->integer == 1)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
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

/* A script succeeded: reply with its answer. */
static void on_result(struct wfp_request *rq, const redisReply *reply)
{
	msgpack_sbuffer buf;
	msgpack_packer pk;

	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	pack_result(&pk, rq->op, reply);
	wfp_request_reply(rq, &buf);
	msgpack_sbuffer_destroy(&buf);
}

/* rq's deadline (Redis-clock ms) as text in buf, for the scripts'
 * deadline argument: they refuse to act once it has passed. */
static const char *request_deadline(const struct wfp_request *rq, char buf[24])
{
	snprintf(buf, 24, "%lld", (long long)rq->deadline_ms);
	return buf;
}

/* Runs script id for rq. */
static void request_run(struct wfp_request *rq, enum wfp_script_id id, int argc,
			const char **argv)
{
	wfp_request_script(rq, id, argc, argv, on_result);
}

/*
 * The id of a job posted without one: derived from the request's stream
 * entry, so a request served twice (a replica died before acknowledging
 * it) names the same job and posts it once.
 */
static void request_job_id(const struct wfp_request *rq, char id[WFP_ID_MAX])
{
	char seed[WFP_KEY_MAX + 64], hex[41];

	snprintf(seed, sizeof(seed), "%s/%s", wfp_service_tag(rq->svc),
		 rq->entry);
	wfp_sha1_hex(seed, strlen(seed), hex);
	memcpy(id, hex, 16);
	id[16] = '\0';
}

/* op "post": validate the body, then run post.lua. */
static int serve_post(struct wfp_request *rq, const msgpack_object *body,
		      char *err, size_t errlen)
{
	const char *tag = wfp_service_tag(rq->svc);
	struct jobboard_post p;
	char id[WFP_ID_MAX], max[24], ttl[24], dl[24];
	struct wfp_key job;
	const char *argv[10];

	if (jobboard_parse_post(body, &p, err, errlen) != 0) {
		free(p.payload);
		return -1;
	}
	if (p.id[0])
		wfp_strlcpy(id, p.id, sizeof(id));
	else
		request_job_id(rq, id);
	job = wfp_key_job(tag, id);
	snprintf(max, sizeof(max), "%lld", p.max_attempts);
	snprintf(ttl, sizeof(ttl), "%lld", p.idem_ttl_ms);
	argv[0] = job.s, argv[1] = tag, argv[2] = id;
	argv[3] = p.name, argv[4] = max, argv[5] = p.payload;
	argv[6] = p.idem, argv[7] = ttl, argv[8] = rq->entry;
	argv[9] = request_deadline(rq, dl);
	request_run(rq, WFP_LUA_POST, 10, argv);
	free(p.payload);
	return 0;
}

/* Reads {id[, to]} of a transfer or repost body (pure). */
int jobboard_parse_job_op(const msgpack_object *body, int with_to, char *id,
			  char *to, char *err, size_t errlen)
{
	static const char *const tfields[] = {"id", "to", NULL};
	static const char *const rfields[] = {"id", NULL};

	if (wfp_codec_only_keys(body, with_to ? tfields : rfields, err,
				errlen) ||
	    wfp_codec_str(body, "id", 1, id, WFP_ID_MAX, err, errlen) ||
	    wfp_codec_str(body, "to", 0, to, WFP_NAME_MAX, err, errlen) ||
	    wfp_check_id("job id", id, err, errlen))
		return -1;
	if (to[0] && wfp_check_name("owner", to, err, errlen))
		return -1;
	return 0;
}

/* op "transfer" {id, to}: to a named owner, or ("") back to the board. */
static int serve_transfer(struct wfp_request *rq, const msgpack_object *body,
			  char *err, size_t errlen)
{
	const char *tag = wfp_service_tag(rq->svc);
	char id[WFP_ID_MAX], to[WFP_NAME_MAX], base[33], vis[24], dl[24];
	struct wfp_key job;

	if (jobboard_parse_job_op(body, 1, id, to, err, errlen) != 0)
		return -1;
	job = wfp_key_job(tag, id);
	wfp_random_hex(base, 16);
	snprintf(vis, sizeof(vis), "%lld",
		 (long long)wfp_service_daemon(rq->svc)->cfg.visibility_ms);
	const char *argv[8] = {job.s, tag, id,	      to,
			       base,  vis, rq->entry, request_deadline(rq, dl)};
	request_run(rq, WFP_LUA_TRANSFER, 8, argv);
	return 0;
}

/* op "repost" {id}. */
static int serve_repost(struct wfp_request *rq, const msgpack_object *body,
			char *err, size_t errlen)
{
	const char *tag = wfp_service_tag(rq->svc);
	char id[WFP_ID_MAX], to[WFP_NAME_MAX], dl[24];
	struct wfp_key job;

	if (jobboard_parse_job_op(body, 0, id, to, err, errlen) != 0)
		return -1;
	job = wfp_key_job(tag, id);
	const char *argv[5] = {job.s, tag, id, rq->entry,
			       request_deadline(rq, dl)};
	request_run(rq, WFP_LUA_REPOST, 5, argv);
	return 0;
}

/* Reads {id[, reason]} of a cancel body (pure). */
int jobboard_parse_cancel(const msgpack_object *body, char *id, char *reason,
			  char *err, size_t errlen)
{
	static const char *const fields[] = {"id", "reason", NULL};

	if (wfp_codec_only_keys(body, fields, err, errlen) ||
	    wfp_codec_str(body, "id", 1, id, WFP_ID_MAX, err, errlen) ||
	    wfp_codec_str(body, "reason", 0, reason, WFP_CANCEL_REASON_MAX, err,
			  errlen) ||
	    wfp_check_id("job id", id, err, errlen))
		return -1;
	if (reason[0] && wfp_check_text("reason", reason, WFP_CANCEL_REASON_MAX,
					err, errlen))
		return -1;
	return 0;
}

/* op "cancel" {id, reason}: see cancel.lua. */
static int serve_cancel(struct wfp_request *rq, const msgpack_object *body,
			char *err, size_t errlen)
{
	const char *tag = wfp_service_tag(rq->svc);
	char id[WFP_ID_MAX], reason[WFP_CANCEL_REASON_MAX], dl[24], ret[24];
	struct wfp_key job;

	if (jobboard_parse_cancel(body, id, reason, err, errlen) != 0)
		return -1;
	job = wfp_key_job(tag, id);
	snprintf(ret, sizeof(ret), "%lld",
		 (long long)wfp_service_daemon(rq->svc)->cfg.retention_ms);
	const char *argv[7] = {
	    job.s, tag, id, reason, rq->entry, request_deadline(rq, dl), ret};
	request_run(rq, WFP_LUA_CANCEL, 7, argv);
	return 0;
}

static const struct wfp_service_op ops[] = {
    {"post", serve_post},
    {"transfer", serve_transfer},
    {"repost", serve_repost},
    {"cancel", serve_cancel},
    {NULL, NULL},
};

/* ------------------------------------------------------------------ */
/* The reaper: at each lease's end, whatever lease its claimer chose    */
/* ------------------------------------------------------------------ */

/*
 * Leases are the claimers' own (visibility_ms of each claim, made by the
 * library without the board), so the board cannot be told of each one.
 * A lease watch (common/lease.c) looks at the earliest lease every
 * REAP_POLL_MS and runs reap.lua at its exact end; each pass reports the
 * server clock and the next earliest lease.
 */

/* A reaper pass answered (NULL: it failed; the watch tries again). */
static void on_reaped(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct jobboard *jb = arg;
	long long reposted, dead;

	(void)r;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 4) {
		wfp_lease_watch_passed(jb->watch, -1, -1, 0);
		return;
	}
	reposted = reply->element[0]->integer;
	dead = reply->element[1]->integer;
	jb->m_reposted->value += reposted;
	jb->m_dead->value += dead;
	if (reposted + dead > 0)
		wfp_info("reaper: %lld jobs posted again, %lld dead", reposted,
			 dead);
	wfp_lease_watch_passed(jb->watch, reply->element[2]->integer,
			       reply->element[3]->integer,
			       reposted + dead >= REAP_LIMIT);
}

/* The watch's pass: one reap.lua call. Returns 0 when sent, -1 when not
 * (stopping, link down). */
static int reap_pass(struct wfp_lease_watch *w, void *arg)
{
	struct jobboard *jb = arg;
	const char *tag = wfp_service_tag(jb->svc);
	struct wfp_key leases = wfp_key_leases(tag);
	char limit[16], ret[24];

	(void)w;
	if (jb->d->stopping)
		return -1;
	snprintf(limit, sizeof(limit), "%d", REAP_LIMIT);
	snprintf(ret, sizeof(ret), "%lld", (long long)jb->d->cfg.retention_ms);
	const char *reap[4] = {leases.s, tag, limit, ret};
	return wfp_redis_script(wfp_service_redis(jb->svc), WFP_LUA_REAP,
				on_reaped, jb, 1, 4, reap, NULL);
}

/* ------------------------------------------------------------------ */
/* The tick: the cleaner                                               */
/* ------------------------------------------------------------------ */

static void on_cleaned(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct jobboard *jb = arg;

	(void)r;
	if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
		jb->m_cleaned->value += reply->integer;
		wfp_info("cleaner: removed %lld finished jobs", reply->integer);
	}
}

/* Runs the cleaner when it is due. */
static void on_tick(struct wfp_service *svc, void *arg)
{
	struct jobboard *jb = arg;
	const struct wfp_config *cfg = &jb->d->cfg;
	const char *tag = wfp_service_tag(svc);
	struct wfp_key events = wfp_key_events(tag);
	char ret[24], clean[16], owners[24];
	int64_t now = wfp_now_ms();

	if (now - jb->last_clean_ms < CLEAN_EVERY_MS &&
	    now - jb->last_clean_ms < cfg->retention_ms / 2)
		return;
	jb->last_clean_ms = now;
	snprintf(ret, sizeof(ret), "%lld", (long long)cfg->retention_ms);
	snprintf(clean, sizeof(clean), "%d", CLEAN_LIMIT);
	snprintf(owners, sizeof(owners), "%d", OWNER_TTL_MS);
	const char *cl[5] = {events.s, tag, ret, clean, owners};
	wfp_redis_script(wfp_service_redis(svc), WFP_LUA_CLEANUP, on_cleaned,
			 jb, 1, 5, cl, NULL);
}

/* After each connect: the job stream's group exists. */
static void on_up(struct wfp_service *svc, void *arg)
{
	struct wfp_key jobs = wfp_key_job_stream(wfp_service_tag(svc));
	const char *argv[6] = {"XGROUP",      "CREATE", jobs.s,
			       WFP_JOB_GROUP, "0",	"MKSTREAM"};

	(void)arg;
	wfp_redis_command(wfp_service_redis(svc), 0, NULL, NULL, 6, argv, NULL);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

/* Starts the lease watch. Returns 0, or -1 on no memory. */
static int reaper_start(struct jobboard *jb)
{
	struct wfp_key leases = wfp_key_leases(wfp_service_tag(jb->svc));
	const char *sets[1] = {leases.s};

	jb->watch = wfp_lease_watch_new(jb->d->base, wfp_service_redis(jb->svc),
					sets, 1, REAP_POLL_MS, reap_pass, jb);
	return jb->watch ? 0 : -1;
}

struct jobboard *jobboard_new(struct wfp_daemon *d)
{
	struct jobboard *jb = calloc(1, sizeof(*jb));
	int64_t tick_ms = d->cfg.visibility_ms / 4;

	if (jb == NULL)
		return NULL;
	jb->d = d;
	tick_ms = tick_ms < 50 ? 50 : (tick_ms > 1000 ? 1000 : tick_ms);
	jb->svc = wfp_service_new(d, SERVICE, ops, on_tick, tick_ms, on_up, jb);
	if (jb->svc == NULL) {
		free(jb);
		return NULL;
	}
	jb->m_reposted = wfp_service_counter(
	    jb->svc, "reaped",
	    "Jobs taken from silent owners and posted again");
	jb->m_dead = wfp_service_counter(
	    jb->svc, "dead",
	    "Jobs that went dead after their last attempt expired");
	jb->m_cleaned = wfp_service_counter(
	    jb->svc, "cleaned",
	    "Finished jobs removed after the retention time");
	if (reaper_start(jb) != 0) {
		jobboard_free(jb);
		return NULL;
	}
	return jb;
}

int jobboard_exit_code(const struct jobboard *jb)
{
	return wfp_service_exit_code(jb->svc);
}

void jobboard_free(struct jobboard *jb)
{
	if (jb == NULL)
		return;
	wfp_lease_watch_free(jb->watch); /* a pass in flight ends below */
	wfp_service_free(jb->svc);
	free(jb);
}
