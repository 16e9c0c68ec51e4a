/* reservation.c - the reservation daemon: request stream, the expiry
 * watch and the sweep of the open set (see reservation-internal.h and
 * the README's "Reservations" section). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reservation-internal.h"
#include "wfp/codec.h"
#include "wfp/log.h"
#include "wfp/util.h"

#define TICK_MS		   100	/* the sweep's and the events link's retries */
#define SWEEP_EVERY_MS	   1000 /* a full pass over the open set at most */
#define SWEEP_LIMIT	   50	/* reservations looked at per sweep step */
#define EXPIRY_POLL_MS	   50 /* the earliest TTL end is looked at this often */
#define EXPIRY_LIMIT	   500	 /* reservations expired per pass */
#define CLEAN_EVERY_MS	   5000	 /* retention passes at most this far apart */
#define PASS_WARN_EVERY_MS 10000 /* a refused pass is logged this often */
#define CREATE_ARGS_MAX	   (WFP_SCRIPT_ARGS_MAX - 4) /* rsv_create.lua's */

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

struct wfp_key rsvd_key_rsv(const struct rsvd *rd, const char *id)
{
	return wfp_key_rsv(rd->tag, id);
}

struct wfp_key rsvd_key_pool(const struct rsvd *rd, const char *name)
{
	return wfp_key_pool(rd->tag, name);
}

/* ------------------------------------------------------------------ */
/* Running a request's script                                          */
/* ------------------------------------------------------------------ */

/* A request whose script is in flight, with what its reply names. */
struct rq_call {
	struct wfp_request *rq;
	char name[WFP_POOL_NAME_MAX > WFP_RSV_ID_MAX ? WFP_POOL_NAME_MAX
						     : WFP_RSV_ID_MAX];
	void (*ok)(struct rq_call *c, const redisReply *reply);
	char why[256]; /* why no teardown payload could be made, or "" */
};

/* Ends rq with a refusal msg (counted). */
static void rq_refuse(struct wfp_request *rq, const char *msg)
{
	struct rsvd *rd = wfp_service_arg(rq->svc);

	rd->m_refused->value++;
	wfp_request_refuse(rq, msg);
	wfp_request_done(rq);
}

/* The script answered: reply, refuse, or leave the entry for later. */
static void on_rq_script(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rq_call *c = arg;
	struct wfp_request *rq = c->rq;

	(void)r;
	if (reply == NULL) {
		wfp_request_lost(rq);
	} else if (reply->type == REDIS_REPLY_ERROR) {
		char msg[512];

		wfp_strlcpy(msg, reply->str, sizeof(msg));
		wfp_script_error_trim(msg);
		/* the script needed the payload that could not be made */
		if (c->why[0] && strstr(msg, "need a teardown payload"))
			snprintf(msg, sizeof(msg),
				 "STATE reservation %s cannot be torn down: %s",
				 c->name, c->why);
		rq_refuse(rq, msg);
	} else {
		c->ok(c, reply);
		wfp_request_done(rq);
	}
	free(c);
}

/* Runs script id (one key, then args) for rq; ok builds the reply; why
 * (NULL none) is said instead of the script's "need a teardown payload". */
static void rq_script(struct wfp_request *rq, const char *name,
		      enum wfp_script_id id, int argc, const char **argv,
		      void (*ok)(struct rq_call *c, const redisReply *reply),
		      const char *why)
{
	struct rq_call *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		wfp_request_lost(rq);
		return;
	}
	c->rq = rq, c->ok = ok;
	wfp_strlcpy(c->name, name, sizeof(c->name));
	wfp_strlcpy(c->why, why ? why : "", sizeof(c->why));
	if (wfp_redis_script(wfp_service_redis(rq->svc), id, on_rq_script, c, 1,
			     argc, argv, NULL) != 0) {
		free(c);
		wfp_request_lost(rq);
	}
}

/* Sends the reply map packed into buf and frees buf. */
static void rq_reply(struct wfp_request *rq, msgpack_sbuffer *buf)
{
	wfp_request_reply(rq, buf);
	msgpack_sbuffer_destroy(buf);
}

static void pack_bool(msgpack_packer *pk, const char *key, int v)
{
	wfp_pack_cstr(pk, key);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* rq's deadline as script text (0: none). */
static const char *rq_deadline(const struct wfp_request *rq, char buf[24])
{
	snprintf(buf, 24, "%lld",
		 (long long)(rq->deadline_ms > 0 ? rq->deadline_ms : 0));
	return buf;
}

/* 1 when reply is an array of n or more whose first m are strings. */
static int reply_strings(const redisReply *reply, size_t n, size_t m)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < n)
		return 0;
	for (size_t i = 0; i < m; i++) {
		if (reply->element[i]->type != REDIS_REPLY_STRING)
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* create                                                              */
/* ------------------------------------------------------------------ */

/* rsv_create.lua answered {id, job, created}. */
static void on_created(struct rq_call *c, const redisReply *reply)
{
	struct rsvd *rd = wfp_service_arg(c->rq->svc);
	msgpack_sbuffer buf;
	msgpack_packer pk;
	int created;

	if (!reply_strings(reply, 3, 2)) {
		wfp_request_refuse(c->rq,
				   "rsv_create.lua answered out of form");
		return;
	}
	created = reply->element[2]->integer == 1;
	if (created) {
		rd->m_created->value++;
		wfp_info("reservation %s: created (job %s)", c->name,
			 reply->element[1]->str);
		wfp_lease_watch_kick(rd->expiry);
	}
	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pack_bool(&pk, "ok", 1);
	wfp_pack_kv(&pk, "id", reply->element[0]->str);
	wfp_pack_kv(&pk, "state", "pending");
	wfp_pack_kv(&pk, "job", reply->element[1]->str);
	pack_bool(&pk, "created", created);
	rq_reply(c->rq, &buf);
}

/* Copies the body's "file" (a string of at most WFP_RSV_FILE_MAX bytes)
 * into a malloc'd text. Returns it, or NULL with err. */
static char *create_file(const msgpack_object *body, size_t *len, char *err,
			 size_t errlen)
{
	const msgpack_object *v = wfp_codec_get(body, "file");
	char *text;

	if (v == NULL || v->type != MSGPACK_OBJECT_STR)
		return snprintf(err, errlen,
				"field 'file' is missing or not a string"),
		       NULL;
	if (v->via.str.size > WFP_RSV_FILE_MAX)
		return snprintf(err, errlen,
				"field 'file' is %u bytes; a reservation file "
				"is at most WFP_RSV_FILE_MAX %d",
				v->via.str.size, WFP_RSV_FILE_MAX),
		       NULL;
	text = malloc(v->via.str.size + 1);
	if (text == NULL)
		return snprintf(err, errlen, "out of memory"), NULL;
	memcpy(text, v->via.str.ptr, v->via.str.size);
	text[v->via.str.size] = '\0';
	*len = v->via.str.size;
	return text;
}

/* The script arguments after the deadline: npools, pool/amount pairs,
 * the item names. Returns the count, or -1 when over CREATE_ARGS_MAX. */
static int create_tail(const struct wfp_rsv *r, const char **argv, int argc,
		       char npools[16], char (*amounts)[24])
{
	if (argc + 1 + 2 * r->nneeds + r->nitems > CREATE_ARGS_MAX)
		return -1;
	snprintf(npools, 16, "%d", r->nneeds);
	argv[argc++] = npools;
	for (int i = 0; i < r->nneeds; i++) {
		snprintf(amounts[i], 24, "%lld", (long long)r->needs[i].amount);
		argv[argc++] = r->needs[i].pool;
		argv[argc++] = amounts[i];
	}
	for (int i = 0; i < r->nitems; i++)
		argv[argc++] = r->items[i].name;
	return argc;
}

/* Resolves and sends a parsed reservation: rsv_create.lua. Returns 0, or
 * -1 with err (a refusal). */
static int create_send(struct wfp_request *rq, const char *id,
		       struct wfp_rsv *r, char *err, size_t errlen)
{
	struct rsvd *rd = wfp_service_arg(rq->svc);
	struct wfp_key k = rsvd_key_rsv(rd, id);
	char ttl[24], max[24], dl[24], npools[16], (*amounts)[24] = NULL;
	const char **argv = NULL;
	char *plan = NULL, *payload = NULL;
	int argc = -1;

	if (wfp_rsv_resolve(r, rd->d->cfg.classes_dir, err, errlen) != 0)
		return -1;
	plan = wfp_rsv_plan(r);
	payload = plan ? wfp_rsv_fulfil_payload(r, id, err, errlen) : NULL;
	argv = calloc(CREATE_ARGS_MAX + 1, sizeof(*argv));
	amounts = calloc((size_t)r->nneeds + 1, sizeof(*amounts));
	if (plan && payload && argv && amounts) {
		snprintf(ttl, sizeof(ttl), "%lld", (long long)r->ttl_ms);
		snprintf(max, sizeof(max), "%d", r->max_attempts);
		argv[0] = k.s, argv[1] = rd->tag, argv[2] = id;
		argv[3] = r->name, argv[4] = ttl, argv[5] = max;
		argv[6] = plan, argv[7] = payload, argv[8] = rq->entry;
		argv[9] = rq_deadline(rq, dl);
		argc = create_tail(r, argv, 10, npools, amounts);
		if (argc < 0)
			snprintf(err, errlen,
				 "reservation '%s' has %d items and %d pools: "
				 "more than one create call carries",
				 r->name, r->nitems, r->nneeds);
		else
			rq_script(rq, id, WFP_LUA_RSV_CREATE, argc, argv,
				  on_created, NULL);
	} else if (plan == NULL || payload != NULL || argv == NULL ||
		   amounts == NULL) {
		snprintf(err, errlen, "out of memory");
	}
	free(plan), free(payload), free(argv), free(amounts);
	return argc < 0 ? -1 : 0;
}

/* Reads a create body {id, file} (pure: see reservation-internal.h). */
int rsvd_parse_create(const msgpack_object *body, struct rsvd_create *c,
		      char *err, size_t errlen)
{
	static const char *const fields[] = {"id", "file", NULL};

	memset(c, 0, sizeof(*c));
	if (wfp_codec_only_keys(body, fields, err, errlen) ||
	    wfp_codec_str(body, "id", 1, c->id, sizeof(c->id), err, errlen) ||
	    wfp_rsv_check_id(c->id, err, errlen))
		return -1;
	c->file = create_file(body, &c->len, err, errlen);
	return c->file ? 0 : -1;
}

/* op "create" {id, file}: a reservation file is parsed, its classes
 * resolved from WFP_CLASSES_DIR, then rsv_create.lua takes the capacity
 * and posts the fulfilment job. */
static int serve_create(struct wfp_request *rq, const msgpack_object *body,
			char *err, size_t errlen)
{
	struct rsvd_create c;
	struct wfp_rsv *r = NULL;
	char why[512];

	if (rsvd_parse_create(body, &c, err, errlen) != 0)
		return -1;
	if (wfp_rsv_parse(c.file, c.len, &r, why, sizeof(why)) != 0 ||
	    create_send(rq, c.id, r, why, sizeof(why)) != 0)
		rq_refuse(rq, why);
	wfp_rsv_free(r);
	free(c.file);
	return 0;
}

/* ------------------------------------------------------------------ */
/* release                                                             */
/* ------------------------------------------------------------------ */

/* rsv_release.lua answered {state, job, action}. */
static void on_released(struct rq_call *c, const redisReply *reply)
{
	msgpack_sbuffer buf;
	msgpack_packer pk;

	if (!reply_strings(reply, 3, 3)) {
		wfp_request_refuse(c->rq,
				   "rsv_release.lua answered out of form");
		return;
	}
	wfp_info("reservation %s: release: %s (%s)", c->name,
		 reply->element[2]->str, reply->element[1]->str);
	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pack_bool(&pk, "ok", 1);
	wfp_pack_kv(&pk, "id", c->name);
	wfp_pack_kv(&pk, "state", reply->element[0]->str);
	wfp_pack_kv(&pk, "job", reply->element[1]->str);
	wfp_pack_kv(&pk, "action", reply->element[2]->str);
	rq_reply(c->rq, &buf);
}

/* The teardown payload of a reservation read with its logs, or NULL
 * when it needs none (the script then says what it does) or none could
 * be made (why says why). */
static char *release_payload(const struct rsvd_read *rr, char *why,
			     size_t whylen)
{
	char err[256];
	char *p;

	if (rr->found && rr->plan == NULL &&
	    (strcmp(rr->state, "active") == 0 ||
	     strcmp(rr->state, "expired") == 0))
		snprintf(why, whylen, "its plan does not parse");
	if (!rr->found || rr->plan == NULL || rr->prog == NULL ||
	    (strcmp(rr->state, "active") != 0 &&
	     strcmp(rr->state, "expired") != 0))
		return NULL;
	if (!rr->logs_whole)
		wfp_info("reservation %s: some of its jobs are gone; the "
			 "teardown gets the phases and outputs recorded in "
			 "the reservation",
			 rr->id);
	p = wfp_rsv_teardown_payload(rr->plan, rr->id, rr->prog, err,
				     sizeof(err));
	if (p == NULL) {
		wfp_warn("reservation %s: no teardown payload: %s", rr->id,
			 err);
		wfp_strlcpy(why, err, whylen);
	}
	return p;
}

/* The reservation and its logs are read: send rsv_release.lua. */
static void on_release_read(struct rsvd_read *rr, int ok)
{
	struct wfp_request *rq = rr->arg;
	struct wfp_key k;
	char dl[24], ret[24], why[256] = "";
	char *payload;

	if (!ok) {
		rsvd_read_free(rr);
		wfp_request_lost(rq);
		return;
	}
	payload = release_payload(rr, why, sizeof(why));
	k = rsvd_key_rsv(rr->rd, rr->id);
	snprintf(ret, sizeof(ret), "%lld",
		 (long long)rr->rd->d->cfg.retention_ms);
	const char *argv[7] = {
	    k.s,       rr->rd->tag,	    rr->id, payload ? payload : "",
	    rq->entry, rq_deadline(rq, dl), ret};
	rq_script(rq, rr->id, WFP_LUA_RSV_RELEASE, 7, argv, on_released, why);
	free(payload);
	rsvd_read_free(rr);
}

/* Reads a release body {id} (pure: see reservation-internal.h). */
int rsvd_parse_release(const msgpack_object *body, char *id, char *err,
		       size_t errlen)
{
	static const char *const fields[] = {"id", NULL};

	id[0] = '\0';
	if (wfp_codec_only_keys(body, fields, err, errlen) ||
	    wfp_codec_str(body, "id", 1, id, WFP_RSV_ID_MAX, err, errlen) ||
	    wfp_rsv_check_id(id, err, errlen))
		return -1;
	return 0;
}

/* op "release" {id}: a teardown from the item phases in the jobs' logs
 * (active, or expired with its fulfilment completed), a cancel of the
 * fulfilment (pending): rsv_release.lua decides. */
static int serve_release(struct wfp_request *rq, const msgpack_object *body,
			 char *err, size_t errlen)
{
	struct rsvd *rd = wfp_service_arg(rq->svc);
	char id[WFP_RSV_ID_MAX];

	if (rsvd_parse_release(body, id, err, errlen) != 0)
		return -1;
	if (rsvd_read_start(rd, id, 1, on_release_read, rq) != 0)
		wfp_request_lost(rq);
	return 0;
}

/* ------------------------------------------------------------------ */
/* pool_set                                                            */
/* ------------------------------------------------------------------ */

/* pool_set.lua answered {capacity, used, created}. */
static void on_pool_set(struct rq_call *c, const redisReply *reply)
{
	msgpack_sbuffer buf;
	msgpack_packer pk;
	int64_t v[2] = {0, 0};

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) {
		wfp_request_refuse(c->rq, "pool_set.lua answered out of form");
		return;
	}
	for (int i = 0; i < 2; i++) {
		const redisReply *e = reply->element[i];

		if (e->type == REDIS_REPLY_INTEGER)
			v[i] = e->integer;
		else if (e->str)
			wfp_parse_i64(e->str, &v[i]);
	}
	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pack_bool(&pk, "ok", 1);
	wfp_pack_kv(&pk, "name", c->name);
	wfp_pack_cstr(&pk, "capacity");
	msgpack_pack_int64(&pk, v[0]);
	wfp_pack_cstr(&pk, "used");
	msgpack_pack_int64(&pk, v[1]);
	pack_bool(&pk, "created", reply->element[2]->integer == 1);
	rq_reply(c->rq, &buf);
}

/* Reads a pool_set body {name, capacity} (pure: see
 * reservation-internal.h). */
int rsvd_parse_pool_set(const msgpack_object *body, char *name,
			int64_t *capacity, char *err, size_t errlen)
{
	static const char *const fields[] = {"name", "capacity", NULL};

	name[0] = '\0';
	if (wfp_codec_only_keys(body, fields, err, errlen) ||
	    wfp_codec_str(body, "name", 1, name, WFP_POOL_NAME_MAX, err,
			  errlen) ||
	    wfp_pool_check_name(name, err, errlen) ||
	    wfp_codec_int(body, "capacity", 1, 0, WFP_POOL_CAPACITY_MAX,
			  capacity, err, errlen))
		return -1;
	return 0;
}

/* op "pool_set" {name, capacity}: creates the pool or sets its capacity
 * (never below what is used). */
static int serve_pool_set(struct wfp_request *rq, const msgpack_object *body,
			  char *err, size_t errlen)
{
	struct rsvd *rd = wfp_service_arg(rq->svc);
	char name[WFP_POOL_NAME_MAX], cap[24], dl[24];
	int64_t capacity = 0;
	struct wfp_key k;

	if (rsvd_parse_pool_set(body, name, &capacity, err, errlen) != 0)
		return -1;
	k = rsvd_key_pool(rd, name);
	snprintf(cap, sizeof(cap), "%lld", (long long)capacity);
	const char *argv[6] = {k.s, rd->tag,   name,
			       cap, rq->entry, rq_deadline(rq, dl)};
	rq_script(rq, name, WFP_LUA_POOL_SET, 6, argv, on_pool_set, NULL);
	return 0;
}

static const struct wfp_service_op ops[] = {
    {"create", serve_create},
    {"release", serve_release},
    {"pool_set", serve_pool_set},
    {NULL, NULL},
};

/* ------------------------------------------------------------------ */
/* Expiry                                                              */
/* ------------------------------------------------------------------ */

/* rsv_expire.lua answered {expired, now_ms, next_end_ms}. */
static void on_expired(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd *rd = arg;
	long long n;

	(void)r;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3) {
		if (reply && reply->type == REDIS_REPLY_ERROR &&
		    wfp_mono_us() / 1000 - rd->pass_warned_ms >=
			PASS_WARN_EVERY_MS) {
			/* (retried at each look: one line, not one a look) */
			rd->pass_warned_ms = wfp_mono_us() / 1000;
			wfp_warn("expiry pass refused: %s", reply->str);
		}
		wfp_lease_watch_passed(rd->expiry, -1, -1, 0);
		if (!rd->closing)
			rsvd_expiry_failed(rd);
		return;
	}
	n = reply->element[0]->integer;
	rd->m_expired->value += n;
	if (n > 0)
		wfp_info("%lld reservations expired", n);
	wfp_lease_watch_passed(rd->expiry, reply->element[1]->integer,
			       reply->element[2]->integer, n >= EXPIRY_LIMIT);
	if (!rd->closing)
		rsvd_expiry_passed(rd);
}

/* One expiry pass: rsv_expire.lua. */
static int expiry_pass(struct wfp_lease_watch *w, void *arg)
{
	struct rsvd *rd = arg;
	struct wfp_key set = wfp_key_rsv_expiry(rd->tag);
	char limit[16], ret[24];
	const char *argv[4] = {set.s, rd->tag, limit, ret};

	(void)w;
	if (rd->closing || rd->d->stopping)
		return -1;
	snprintf(limit, sizeof(limit), "%d", EXPIRY_LIMIT);
	snprintf(ret, sizeof(ret), "%lld", (long long)rd->d->cfg.retention_ms);
	return wfp_redis_script(wfp_service_redis(rd->svc), WFP_LUA_RSV_EXPIRE,
				on_expired, rd, 1, 4, argv, NULL);
}

/* ------------------------------------------------------------------ */
/* The sweep of the open set                                           */
/* ------------------------------------------------------------------ */

void rsvd_sweep_soon(struct rsvd *rd)
{
	rd->sweep_rank = 0;
	rd->sweep_at_ms = 0;
}

/* A step of the sweep answered: reconcile each id. */
static void on_swept(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd *rd = arg;

	(void)r;
	rd->sweeping = 0;
	if (rd->closing || reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < reply->elements; i++) {
		if (reply->element[i]->type == REDIS_REPLY_STRING)
			rsvd_reconcile(rd, reply->element[i]->str);
	}
	if (reply->elements < SWEEP_LIMIT) {
		rd->sweep_rank = 0; /* went round: rest until the next pass */
		rd->sweep_at_ms = wfp_mono_us() / 1000 + SWEEP_EVERY_MS;
	} else {
		rd->sweep_rank += (int64_t)reply->elements;
	}
}

/* The next step of the sweep, when due and reconciles have room. */
static void sweep_step(struct rsvd *rd)
{
	struct wfp_key open = wfp_key_rsv_open(rd->tag);
	char from[24], to[24];
	const char *argv[4] = {"ZRANGE", open.s, from, to};

	if (rd->sweeping || wfp_mono_us() / 1000 < rd->sweep_at_ms ||
	    RSVD_RECONCILE_MAX - rsvd_reconciling(rd) < SWEEP_LIMIT)
		return;
	snprintf(from, sizeof(from), "%lld", (long long)rd->sweep_rank);
	snprintf(to, sizeof(to), "%lld",
		 (long long)(rd->sweep_rank + SWEEP_LIMIT - 1));
	if (wfp_redis_command(wfp_service_redis(rd->svc), 0, on_swept, rd, 4,
			      argv, NULL) == 0)
		rd->sweeping = 1;
}

/* ------------------------------------------------------------------ */
/* Retention of ended reservations                                     */
/* ------------------------------------------------------------------ */

/* rsv_cleanup.lua answered {removed, looked_at}. */
static void on_cleaned(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd *rd = arg;

	(void)r;
	rd->cleaning = 0;
	if (reply && reply->type == REDIS_REPLY_ERROR)
		wfp_warn("retention pass refused: %s", reply->str);
	if (rd->closing || reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2)
		return;
	if (reply->element[0]->integer > 0) {
		rd->m_cleaned->value += reply->element[0]->integer;
		wfp_info("retention: removed %lld ended reservations",
			 reply->element[0]->integer);
	}
	if (reply->element[1]->integer >= RSVD_CLEAN_LIMIT)
		rd->clean_at_ms = 0; /* more may be due: again next tick */
}

/* Runs a retention pass (rsv_cleanup.lua) when one is due: every
 * CLEAN_EVERY_MS at most, sooner for a short retention. */
static void clean_step(struct rsvd *rd)
{
	int64_t now = wfp_mono_us() / 1000, every = CLEAN_EVERY_MS;
	struct wfp_key open = wfp_key_rsv_open(rd->tag);
	char ret[24], limit[16];
	const char *argv[4] = {open.s, rd->tag, ret, limit};

	if (rd->cleaning || now < rd->clean_at_ms)
		return;
	if (rd->d->cfg.retention_ms / 2 < every)
		every = rd->d->cfg.retention_ms / 2;
	rd->clean_at_ms = now + every;
	snprintf(ret, sizeof(ret), "%lld", (long long)rd->d->cfg.retention_ms);
	snprintf(limit, sizeof(limit), "%d", RSVD_CLEAN_LIMIT);
	if (wfp_redis_script(wfp_service_redis(rd->svc), WFP_LUA_RSV_CLEANUP,
			     on_cleaned, rd, 1, 4, argv, NULL) == 0)
		rd->cleaning = 1;
}

/* Every TICK_MS with the command link up. */
static void on_tick(struct wfp_service *svc, void *arg)
{
	struct rsvd *rd = arg;

	(void)svc;
	rsvd_events_read(rd); /* after a failed read on a live link */
	sweep_step(rd);
	clean_step(rd);
}

/* The command link (re)connected: what was in flight on it is lost. */
static void on_up(struct wfp_service *svc, void *arg)
{
	(void)svc;
	rsvd_sweep_soon(arg);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

/* Refuses a missing or unreadable WFP_CLASSES_DIR. Returns 0 or -1. */
static int classes_dir_check(const struct wfp_config *cfg)
{
	DIR *dir;

	if (cfg->classes_dir[0] == '\0')
		return wfp_error("WFP_CLASSES_DIR is not set: wfp-reservation "
				 "needs the folder of resource class files "
				 "(NAME.json)"),
		       -1;
	dir = opendir(cfg->classes_dir);
	if (dir == NULL || access(cfg->classes_dir, R_OK | X_OK) != 0) {
		wfp_error("WFP_CLASSES_DIR '%.400s' is not a readable "
			  "directory: %s",
			  cfg->classes_dir, strerror(errno));
		if (dir)
			closedir(dir);
		return -1;
	}
	closedir(dir);
	return 0;
}

/* Registers the metrics. */
static void metrics_init(struct rsvd *rd)
{
	struct wfp_service *s = rd->svc;

	rd->m_created =
	    wfp_service_counter(s, "created", "Reservations created (pending)");
	rd->m_active = wfp_service_counter(
	    s, "active", "Reservations whose fulfilment completed");
	rd->m_failed = wfp_service_counter(
	    s, "failed", "Reservations whose fulfilment did not complete");
	rd->m_expired = wfp_service_counter(
	    s, "expired", "Reservations not fulfilled within their TTL");
	rd->m_released =
	    wfp_service_counter(s, "released", "Reservations released");
	rd->m_refused = wfp_service_counter(
	    s, "refused",
	    "Requests refused (bad reservation file or class, no pool, no "
	    "room, wrong state)");
	rd->m_returned = wfp_service_counter(
	    s, "returned",
	    "Reservations whose capacity came back to the pools");
	rd->m_cleaned = wfp_service_counter(
	    s, "cleaned",
	    "Ended reservations removed after the retention time");
}

/* The events link and the expiry watch. Returns 0 or -1. */
static int rsvd_setup(struct rsvd *rd)
{
	struct wfp_daemon *d = rd->d;
	struct wfp_key set = wfp_key_rsv_expiry(rd->tag);
	const char *sets[1] = {set.s};

	rd->ev = wfp_redis_new(d->base, &d->cfg.redis, "redis-events",
			       d->cfg.timeout_ms);
	rd->expiry =
	    wfp_lease_watch_new(d->base, wfp_service_redis(rd->svc), sets, 1,
				EXPIRY_POLL_MS, expiry_pass, rd);
	if (rd->ev == NULL || rd->expiry == NULL)
		return wfp_error("out of memory"), -1;
	wfp_redis_on_up(rd->ev, rsvd_events_up, rd);
	return 0;
}

struct rsvd *rsvd_new(struct wfp_daemon *d)
{
	struct rsvd *rd;

	if (classes_dir_check(&d->cfg) != 0)
		return NULL;
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL)
		return NULL;
	rd->d = d;
	wfp_config_tag(&d->cfg, rd->tag, sizeof(rd->tag));
	rd->svc =
	    wfp_service_new(d, RSVD_SERVICE, ops, on_tick, TICK_MS, on_up, rd);
	if (rd->svc == NULL) {
		free(rd);
		return NULL;
	}
	metrics_init(rd);
	if (rsvd_setup(rd) != 0) {
		rsvd_free(rd);
		return NULL;
	}
	wfp_info("reservation service: classes from %s", d->cfg.classes_dir);
	return rd;
}

int rsvd_exit_code(const struct rsvd *rd)
{
	return wfp_service_exit_code(rd->svc);
}

void rsvd_free(struct rsvd *rd)
{
	if (rd == NULL)
		return;
	rd->closing = 1;
	if (rd->ev)
		wfp_redis_free(rd->ev);
	/* The watch goes when its pass in flight reports (NULL, as every
	 * callback in flight on the command link gets when it is freed). */
	wfp_lease_watch_free(rd->expiry);
	wfp_service_free(rd->svc);
	free(rd);
}
