/* client.c - the blocking client library (see wfp/client.h). */
#include "wfp/client.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/redis.h"
#include "wfp/util.h"
#include "wfp/workflow.h"

const char *const wfp_post_fields[] = {
    "id",
    "name",
    "max_attempts",
    "payload",
    "idempotency_key",
    "idempotency_ttl_ms",
    NULL,
};

struct wfp_client {
	struct wfp_config cfg;
	char tag[WFP_TAG_MAX];
	redisContext *rc; /* NULL while disconnected */
	char err[512];
	int no_functions; /* the library cannot be loaded: EVALSHA */
};

/* ------------------------------------------------------------------ */
/* Connection                                                          */
/* ------------------------------------------------------------------ */

/* Records a printf-style reason in c->err; returns -1. */
static int client_fail(struct wfp_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int client_fail(struct wfp_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Sets the socket timeout of the live connection to ms. */
static void client_set_timeout(struct wfp_client *c, int64_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	redisSetTimeout(c->rc, tv);
}

/* Without a password in the URL: a PING, so that a server that wants one
 * is told apart from other failures (it would refuse the first script
 * call with "unauthenticated multibulk length"). Returns 0, or -1 with
 * c->err naming the fix. */
static int client_need_auth(struct wfp_client *c)
{
	const struct wfp_redis_addr *a = &c->cfg.redis;
	redisReply *r = redisCommand(c->rc, "PING");
	int noauth = r != NULL && r->type == REDIS_REPLY_ERROR &&
		     strncmp(r->str, "NOAUTH", 6) == 0;

	if (r)
		freeReplyObject(r);
	if (!noauth)
		return 0;
	client_fail(c,
		    "redis at %s:%d wants a user and password: give them in "
		    "WFP_REDIS_URL (redis://USER:PASSWORD@%s:%d)",
		    a->host, a->port, a->host, a->port);
	return -1;
}

/* Sends AUTH and SELECT when the URL asks for them. */
static int client_handshake(struct wfp_client *c)
{
	const struct wfp_redis_addr *a = &c->cfg.redis;
	redisReply *r = NULL;

	if (a->password[0] == '\0' && client_need_auth(c) != 0)
		return -1;
	if (a->password[0] != '\0') {
		r = a->user[0] ? redisCommand(c->rc, "AUTH %s %s", a->user,
					      a->password)
			       : redisCommand(c->rc, "AUTH %s", a->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			goto fail;
		freeReplyObject(r);
	}
	if (a->db != 0) {
		r = redisCommand(c->rc, "SELECT %d", a->db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			goto fail;
		freeReplyObject(r);
	}
	return 0;
fail:
	client_fail(c, "redis handshake failed: %s",
		    r ? r->str : c->rc->errstr);
	if (r)
		freeReplyObject(r);
	return -1;
}

/* Makes sure c->rc is a live connection. Returns 0 or -1 with c->err. */
static int client_connect(struct wfp_client *c)
{
	const struct wfp_redis_addr *a = &c->cfg.redis;
	int64_t ms = c->cfg.timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (c->rc != NULL && c->rc->err == 0)
		return 0;
	if (c->rc != NULL)
		redisFree(c->rc);
	c->rc = redisConnectWithTimeout(a->host, a->port, tv);
	if (c->rc == NULL || c->rc->err) {
		client_fail(c, "cannot reach redis at %s:%d: %s", a->host,
			    a->port, c->rc ? c->rc->errstr : "out of memory");
		goto drop;
	}
	client_set_timeout(c, ms);
	c->no_functions = 0; /* maybe another server: try FCALL again */
	if (client_handshake(c) == 0)
		return 0;
drop:
	if (c->rc)
		redisFree(c->rc);
	c->rc = NULL;
	return -1;
}

struct wfp_client *wfp_client_new(const struct wfp_config *cfg, char *err,
				  size_t errlen)
{
	struct wfp_client *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	wfp_config_tag(cfg, c->tag, sizeof(c->tag));
	if (client_connect(c) != 0) {
		snprintf(err, errlen, "%s", c->err);
		wfp_client_free(c);
		return NULL;
	}
	return c;
}

void wfp_client_free(struct wfp_client *c)
{
	if (c == NULL)
		return;
	if (c->rc)
		redisFree(c->rc);
	free(c);
}

const char *wfp_client_error(const struct wfp_client *c)
{
	return c->err;
}

void wfp_client_set_error(struct wfp_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *wfp_client_tag(const struct wfp_client *c)
{
	return c->tag;
}

const struct wfp_config *wfp_client_config(const struct wfp_client *c)
{
	return &c->cfg;
}

/* Closes a broken or unusable link; the next call connects again. */
static void client_drop(struct wfp_client *c)
{
	if (c->rc)
		redisFree(c->rc);
	c->rc = NULL;
}

/* Turns a raw reply into the API's convention: error replies and
 * connection failures become NULL with c->err. An error that says Redis
 * cannot serve now (BUSY, LOADING, READONLY, OOM, ...: see
 * wfp_redis_error_transient) is "redis unavailable: ...", like a lost
 * link, and the link is made again on the next call. */
static redisReply *client_reply(struct wfp_client *c, redisReply *r)
{
	if (r == NULL) {
		client_fail(c, "redis connection failed: %s", c->rc->errstr);
		client_drop(c);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (wfp_redis_error_transient(r->str)) {
			client_fail(c, "redis unavailable: %s", r->str);
			client_drop(c);
		} else {
			client_fail(c, "%s", r->str);
		}
		wfp_script_error_trim(c->err);
		freeReplyObject(r);
		return NULL;
	}
	c->err[0] = '\0';
	return r;
}

redisReply *wfp_client_command(struct wfp_client *c, int argc,
			       const char **argv, const size_t *lens)
{
	if (client_connect(c) != 0)
		return NULL;
	return client_reply(c, redisCommandArgv(c->rc, argc, argv, lens));
}

redisReply *wfp_client_commandf(struct wfp_client *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	if (client_connect(c) != 0)
		return NULL;
	va_start(ap, fmt);
	r = redisvCommand(c->rc, fmt, ap);
	va_end(ap);
	return client_reply(c, r);
}

/*
 * Loads the function library (after an FCALL found no function). Returns
 * 0 when Redis has it now (loaded, or loaded meanwhile by another
 * process), 1 when it cannot be loaded (say an ACL user without FUNCTION:
 * this link then sends EVALSHA), -1 when the link failed (c->err).
 */
static int client_library_load(struct wfp_client *c)
{
	const struct wfp_script_library *lib = wfp_script_library();
	const char *argv[3] = {"FUNCTION", "LOAD", lib->text};
	size_t lens[3] = {8, 4, lib->len};
	redisReply *r = wfp_client_command(c, 3, argv, lens);

	if (r != NULL) {
		freeReplyObject(r);
		return 0;
	}
	if (c->rc == NULL)
		return -1;
	if (strstr(c->err, "already exists") != NULL)
		return 0;
	c->no_functions = 1;
	return 1;
}

redisReply *wfp_client_eval(struct wfp_client *c, enum wfp_script_id id,
			    int nkeys, int argc, const char **argv,
			    const size_t *lens)
{
	struct wfp_script_call call;
	redisReply *r;
	int why;

	if (wfp_script_call_init(&call, id, nkeys, argc, argv, lens) != 0)
		return client_fail(c, "too many script arguments"), NULL;
	if (c->no_functions)
		wfp_script_call_evalsha(&call, id);
	r = wfp_client_command(c, call.argc, call.argv, call.lens);
	why = r == NULL ? wfp_script_error_no_function(c->err) : 0;
	if (why == 1) {
		int rc = client_library_load(c);

		if (rc < 0)
			return NULL;
		if (rc == 0) {
			r = wfp_client_command(c, call.argc, call.argv,
					       call.lens);
			if (r != NULL ||
			    wfp_script_error_no_function(c->err) == 0)
				return r;
		}
	} else if (why == 2) {
		c->no_functions = 1;
	} else if (r != NULL || strncmp(c->err, "NOSCRIPT", 8) != 0) {
		return r;
	}
	wfp_script_call_eval(&call, id);
	return wfp_client_command(c, call.argc, call.argv, call.lens);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

int wfp_check_id(const char *what, const char *id, char *err, size_t errlen)
{
	char q[WFP_QUOTE_BUF];

	if (!wfp_word_ok(id, WFP_ID_MAX, "_.-")) {
		snprintf(err, errlen,
			 "%s '%s' is not 1-%d of A-Z a-z 0-9 _ . -", what,
			 wfp_quote(q, sizeof(q), id, strlen(id)),
			 WFP_ID_MAX - 1);
		return -1;
	}
	return 0;
}

int wfp_check_text(const char *what, const char *s, size_t max, char *err,
		   size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max) {
		snprintf(err, errlen, "%s must be 1-%zu bytes, not %zu", what,
			 max - 1, n);
		return -1;
	}
	if (!wfp_text_ok(s, n)) {
		snprintf(err, errlen,
			 "%s is not UTF-8 text without control characters",
			 what);
		return -1;
	}
	return 0;
}

int wfp_check_name(const char *what, const char *name, char *err, size_t errlen)
{
	return wfp_check_text(what, name, WFP_NAME_MAX, err, errlen);
}

int wfp_check_token(const char *token, char *err, size_t errlen)
{
	char q[WFP_QUOTE_BUF];

	if (!wfp_word_ok(token, WFP_TOKEN_MAX, "_.-")) {
		snprintf(err, errlen,
			 "token '%s' is not 1-%d of A-Z a-z 0-9 _ . -",
			 wfp_quote(q, sizeof(q), token, strlen(token)),
			 WFP_TOKEN_MAX - 1);
		return -1;
	}
	return 0;
}

int wfp_check_reason(const char *reason, char *err, size_t errlen)
{
	if (reason == NULL || reason[0] == '\0')
		return 0;
	return wfp_check_text("reason", reason, WFP_REASON_MAX, err, errlen);
}

/* True when v nests arrays and objects at most depth levels deep. */
static int json_depth_ok(json_t *v, int depth)
{
	const char *k;
	json_t *m;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return 1;
	if (depth < 1)
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
		{
			if (!json_depth_ok(m, depth - 1))
				return 0;
		}
		return 1;
	}
	json_object_foreach(v, k, m)
	{
		if (!json_depth_ok(m, depth - 1))
			return 0;
	}
	return 1;
}

int wfp_check_payload(const char *payload, char *err, size_t errlen)
{
	size_t n = strlen(payload);
	json_error_t je;
	json_t *v;
	int ok;

	if (n > WFP_PAYLOAD_MAX) {
		snprintf(err, errlen, "payload of %zu bytes exceeds %d", n,
			 WFP_PAYLOAD_MAX);
		return -1;
	}
	/* jansson refuses invalid UTF-8 and (with the flag) repeated keys. */
	v = json_loadb(payload, n, JSON_REJECT_DUPLICATES, &je);
	ok = v != NULL && json_is_object(v);
	if (v == NULL)
		snprintf(err, errlen, "payload is not JSON: %s", je.text);
	else if (!ok)
		snprintf(err, errlen, "payload is not a JSON object");
	else if (!json_depth_ok(v, WFP_PAYLOAD_DEPTH_MAX)) {
		snprintf(err, errlen, "payload nests deeper than %d levels",
			 WFP_PAYLOAD_DEPTH_MAX);
		ok = 0;
	}
	json_decref(v);
	return ok ? 0 : -1;
}

int wfp_post_check(const struct wfp_post *p, char *err, size_t errlen)
{
	if (p->id && p->id[0] && wfp_check_id("job id", p->id, err, errlen))
		return -1;
	if (p->name == NULL)
		return snprintf(err, errlen, "missing name"), -1;
	if (wfp_check_name("name", p->name, err, errlen) != 0)
		return -1;
	if (p->payload && wfp_check_payload(p->payload, err, errlen) != 0)
		return -1;
	/* A workflow the executor could not run is refused before posting. */
	if (p->payload && wfp_workflow_check(p->payload, strlen(p->payload),
					     err, errlen) != 0)
		return -1;
	if (p->max_attempts < 1 || p->max_attempts > WFP_MAX_ATTEMPTS_LIMIT) {
		snprintf(err, errlen, "max_attempts %lld is not in 1..%d",
			 (long long)p->max_attempts, WFP_MAX_ATTEMPTS_LIMIT);
		return -1;
	}
	if (p->idem_key && p->idem_key[0] &&
	    wfp_check_text("idempotency_key", p->idem_key, WFP_IDEM_KEY_MAX,
			   err, errlen) != 0)
		return -1;
	if (p->idem_ttl_ms < 1 || p->idem_ttl_ms > WFP_IDEM_TTL_MAX_MS) {
		snprintf(
		    err, errlen, "idempotency_ttl_ms %lld is not in 1..%lld",
		    (long long)p->idem_ttl_ms, (long long)WFP_IDEM_TTL_MAX_MS);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                */
/* ------------------------------------------------------------------ */

int wfp_job_post(struct wfp_client *c, const struct wfp_post *p,
		 char id_out[WFP_ID_MAX], int *created)
{
	char id[WFP_ID_MAX], max[24], ttl[24];
	const char *payload = p->payload ? p->payload : "{}";
	struct wfp_key job;
	const char *argv[8];
	redisReply *r;

	if (wfp_post_check(p, c->err, sizeof(c->err)) != 0)
		return -1;
	if (p->id && p->id[0])
		wfp_strlcpy(id, p->id, sizeof(id));
	else if (wfp_random_hex(id, 8) != 0)
		return client_fail(c, "no randomness for a job id");
	job = wfp_key_job(c->tag, id);
	snprintf(max, sizeof(max), "%lld", (long long)p->max_attempts);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)p->idem_ttl_ms);
	argv[0] = job.s, argv[1] = c->tag, argv[2] = id, argv[3] = p->name;
	argv[4] = max, argv[5] = payload;
	argv[6] = p->idem_key ? p->idem_key : "", argv[7] = ttl;
	r = wfp_client_eval(c, WFP_LUA_POST, 1, 8, argv, NULL);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return client_fail(c, "unexpected reply to post");
	}
	wfp_strlcpy(id_out, r->element[0]->str, WFP_ID_MAX);
	if (created)
		*created = r->element[1]->integer == 1;
	freeReplyObject(r);
	return 0;
}

/* Copies one claim row {id, token, fence, attempts, max, name, payload}. */
static int claim_copy(struct wfp_client *c, const redisReply *row,
		      struct wfp_claim *out)
{
	redisReply *const *e = row->element;

	if (row->type != REDIS_REPLY_ARRAY || row->elements != 7)
		return client_fail(c, "unexpected claim row");
	memset(out, 0, sizeof(*out));
	wfp_strlcpy(out->id, e[0]->str ? e[0]->str : "", sizeof(out->id));
	wfp_strlcpy(out->token, e[1]->str ? e[1]->str : "", sizeof(out->token));
	out->fence = e[2]->integer;
	out->attempts = e[3]->integer;
	out->max_attempts = e[4]->integer;
	wfp_strlcpy(out->name, e[5]->str ? e[5]->str : "", sizeof(out->name));
	out->payload = strdup(e[6]->str ? e[6]->str : "{}");
	return out->payload ? 0 : client_fail(c, "out of memory");
}

/* Refuses a lease outside WFP_LEASE_MIN_MS..WFP_LEASE_MAX_MS. */
static int lease_check(struct wfp_client *c, int64_t visibility_ms)
{
	if (visibility_ms < WFP_LEASE_MIN_MS ||
	    visibility_ms > WFP_LEASE_MAX_MS)
		return client_fail(c, "visibility_ms %lld is not in %d..%lld",
				   (long long)visibility_ms, WFP_LEASE_MIN_MS,
				   (long long)WFP_LEASE_MAX_MS);
	return 0;
}

/* One claim script call; *last_id gets the newest stream id when empty. */
static int claim_once(struct wfp_client *c, const char *owner, int max,
		      int64_t visibility_ms, struct wfp_claim *out, int *n,
		      char *last_id, size_t last_len)
{
	struct wfp_key stream = wfp_key_job_stream(c->tag);
	char count[16], vis[24], base[33];
	const char *argv[6] = {stream.s, c->tag, owner, count, base, vis};
	redisReply *r;

	if (wfp_random_hex(base, 16) != 0)
		return client_fail(c, "no randomness for a token");
	snprintf(count, sizeof(count), "%d", max);
	snprintf(vis, sizeof(vis), "%lld", (long long)visibility_ms);
	r = wfp_client_eval(c, WFP_LUA_CLAIM, 1, 6, argv, NULL);
	if (r == NULL)
		return -1;
	*n = 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		freeReplyObject(r);
		return client_fail(c, "unexpected reply to claim");
	}
	wfp_strlcpy(last_id, r->element[0]->str ? r->element[0]->str : "0-0",
		    last_len);
	for (size_t i = 1; i < r->elements && *n < max; i++) {
		if (claim_copy(c, r->element[i], &out[*n]) != 0)
			break;
		(*n)++;
	}
	freeReplyObject(r);
	return 0;
}

/* Blocks on XREAD until the job stream has an entry after last_id. */
static int claim_block(struct wfp_client *c, const char *last_id, int64_t ms)
{
	struct wfp_key stream = wfp_key_job_stream(c->tag);
	redisReply *r;

	client_set_timeout(c, ms + c->cfg.timeout_ms);
	r = wfp_client_commandf(c, "XREAD COUNT 1 BLOCK %lld STREAMS %s %s",
				(long long)ms, stream.s, last_id);
	if (c->rc)
		client_set_timeout(c, c->cfg.timeout_ms);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int wfp_job_claim(struct wfp_client *c, const char *owner, int max,
		  int64_t visibility_ms, int64_t wait_ms, struct wfp_claim *out,
		  int *n)
{
	int64_t deadline = wfp_mono_us() + wait_ms * 1000;
	char last_id[64];

	*n = 0;
	if (wfp_check_name("owner", owner, c->err, sizeof(c->err)) != 0)
		return -1;
	if (max < 1 || max > WFP_CLAIM_BATCH_MAX)
		return client_fail(c, "claim count %d is not in 1..%d", max,
				   WFP_CLAIM_BATCH_MAX);
	if (lease_check(c, visibility_ms) != 0)
		return -1;
	for (;;) {
		int64_t left_ms;

		if (claim_once(c, owner, max, visibility_ms, out, n, last_id,
			       sizeof(last_id)) != 0)
			return -1;
		left_ms = (deadline - wfp_mono_us()) / 1000;
		if (*n > 0 || left_ms <= 0)
			return 0;
		if (claim_block(c, last_id, left_ms) != 0)
			return -1;
	}
}

void wfp_claims_release(struct wfp_claim *claims, int n)
{
	for (int i = 0; i < n; i++) {
		free(claims[i].payload);
		claims[i].payload = NULL;
	}
}

int wfp_job_heartbeat(struct wfp_client *c, const char *id, const char *token,
		      int64_t visibility_ms, int64_t *lease_until)
{
	struct wfp_key job = wfp_key_job(c->tag, id);
	char vis[24];
	const char *argv[5] = {job.s, c->tag, id, token, vis};
	redisReply *r;

	if (wfp_check_id("job id", id, c->err, sizeof(c->err)) != 0 ||
	    wfp_check_token(token, c->err, sizeof(c->err)) != 0 ||
	    lease_check(c, visibility_ms) != 0)
		return -1;
	snprintf(vis, sizeof(vis), "%lld", (long long)visibility_ms);
	r = wfp_client_eval(c, WFP_LUA_HEARTBEAT, 1, 5, argv, NULL);
	if (r == NULL)
		return -1;
	if (lease_until)
		*lease_until = r->integer;
	freeReplyObject(r);
	return 0;
}

int wfp_job_finish(struct wfp_client *c, const char *id, const char *token,
		   int64_t fence, enum wfp_job_op op, const char *reason,
		   char *state_out)
{
	struct wfp_key job = wfp_key_job(c->tag, id);
	char f[24], ret[24];
	const char *argv[8] = {job.s,
			       c->tag,
			       id,
			       token,
			       f,
			       wfp_job_op_name(op),
			       reason ? reason : "",
			       ret};
	redisReply *r;

	if (wfp_check_id("job id", id, c->err, sizeof(c->err)) != 0)
		return -1;
	if (op != WFP_OP_COMPLETE && op != WFP_OP_REVERT && op != WFP_OP_FAIL &&
	    op != WFP_OP_RETRY && op != WFP_OP_RELEASE)
		return client_fail(c, "'%s' does not end an attempt",
				   wfp_job_op_name(op));
	if (wfp_check_token(token, c->err, sizeof(c->err)) != 0 ||
	    wfp_check_reason(reason, c->err, sizeof(c->err)) != 0)
		return -1;
	snprintf(f, sizeof(f), "%lld", (long long)fence);
	snprintf(ret, sizeof(ret), "%lld", (long long)c->cfg.retention_ms);
	r = wfp_client_eval(c, WFP_LUA_FINISH, 1, 8, argv, NULL);
	if (r == NULL)
		return -1;
	if (state_out)
		wfp_strlcpy(state_out, r->str ? r->str : "", 16);
	freeReplyObject(r);
	return 0;
}

int wfp_job_cancel(struct wfp_client *c, const char *id, const char *reason,
		   char *state_out)
{
	msgpack_sbuffer body;
	msgpack_packer pk;
	struct wfp_msg reply;
	char state[16] = "";
	int rc;

	if (wfp_check_id("job id", id, c->err, sizeof(c->err)) != 0)
		return -1;
	if (reason && reason[0] &&
	    wfp_check_text("reason", reason, WFP_CANCEL_REASON_MAX, c->err,
			   sizeof(c->err)) != 0)
		return -1;
	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	wfp_pack_kv(&pk, "id", id);
	wfp_pack_kv(&pk, "reason", reason ? reason : "");
	rc = wfp_request(c, "jobboard", "cancel", body.data, body.size,
			 c->cfg.timeout_ms, &reply);
	msgpack_sbuffer_destroy(&body);
	if (rc != 0)
		return -1;
	rc = wfp_codec_str(&reply.u.data, "state", 1, state, sizeof(state),
			   c->err, sizeof(c->err));
	wfp_msg_destroy(&reply);
	if (rc != 0)
		return -1;
	if (state_out)
		wfp_strlcpy(state_out, state, 16);
	return 0;
}

redisReply *wfp_job_fields(struct wfp_client *c, const char *id)
{
	struct wfp_key job;
	redisReply *r;

	if (wfp_check_id("job id", id, c->err, sizeof(c->err)) != 0)
		return NULL;
	job = wfp_key_job(c->tag, id);
	r = wfp_client_commandf(c, "HGETALL %s", job.s);
	if (r != NULL && r->elements == 0) {
		freeReplyObject(r);
		client_fail(c, "NOJOB job %s does not exist", id);
		return NULL;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Requests to services                                                */
/* ------------------------------------------------------------------ */

/* Decodes a reply body and turns {ok: false} into -1 with its error. */
static int request_reply(struct wfp_client *c, const redisReply *r,
			 struct wfp_msg *reply)
{
	const msgpack_object *ok;
	char why[WFP_REASON_MAX];

	if (wfp_msg_decode(reply, r->str, r->len, c->err, sizeof(c->err)))
		return -1;
	ok = wfp_codec_get(&reply->u.data, "ok");
	if (ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean)
		return 0;
	if (wfp_codec_str(&reply->u.data, "error", 1, why, sizeof(why), c->err,
			  sizeof(c->err)) == 0)
		client_fail(c, "%s", why);
	wfp_msg_destroy(reply);
	return -1;
}

/* True when the link's last read gave up on its timeout (hiredis says
 * so with the read's errno, EAGAIN, as an I/O error). */
static int client_read_timed_out(const struct wfp_client *c)
{
	return c->rc && c->rc->err == REDIS_ERR_IO &&
	       (strcmp(c->rc->errstr, strerror(EAGAIN)) == 0 ||
		strcmp(c->rc->errstr, strerror(EWOULDBLOCK)) == 0);
}

/* Reads one reply of a request into *r (see client_reply). When Redis
 * did not answer before the link's timeout, which is past the request's
 * deadline, the service's reply did not come in time: says so as a
 * service that does not answer ("no reply from wfp-SERVICE"), drops the
 * link and leaves *r NULL. */
static redisReply *request_read(struct wfp_client *c, const char *service,
				int64_t timeout_ms)
{
	redisReply *r = NULL;

	if (redisGetReply(c->rc, (void **)&r) == REDIS_OK)
		return client_reply(c, r);
	if (!client_read_timed_out(c))
		return client_reply(c, NULL);
	client_fail(c,
		    "no reply from wfp-%s within %lld ms (redis did not "
		    "answer in time)",
		    service, (long long)timeout_ms);
	client_drop(c);
	return NULL;
}

/*
 * Sends the request's capped add (request_add.lua) and the BLPOP for its
 * reply in one write (one round trip). Redis runs the BLPOP after the add,
 * so its timeout ends no earlier than the entry's time + timeout_ms on
 * Redis's clock: the client never gives up before the request's deadline.
 * Returns the BLPOP reply, or NULL with c->err.
 */
static redisReply *request_send(struct wfp_client *c, const char *service,
				struct wfp_script_call *add, const char *rkey,
				const char *secs, int64_t timeout_ms)
{
	const char *blpop[3] = {"BLPOP", rkey, secs};
	redisReply *r;

	if (client_connect(c) != 0)
		return NULL;
	client_set_timeout(c, timeout_ms + c->cfg.timeout_ms);
	redisAppendCommandArgv(c->rc, add->argc, add->argv, add->lens);
	redisAppendCommandArgv(c->rc, 3, blpop, NULL);
	r = request_read(c, service, timeout_ms); /* the add: an id */
	if (r != NULL) {
		freeReplyObject(r);
		r = request_read(c, service, timeout_ms);
	} else if (c->rc) {
		/* The BLPOP is still queued behind the refused add: drop the
		 * link rather than wait for it. */
		client_drop(c);
	}
	if (c->rc)
		client_set_timeout(c, c->cfg.timeout_ms);
	return r;
}

/* Fills argv/lens with the add's arguments: the stream, tag, service,
 * cap (written into cap, 24 bytes), then the envelope op, reply,
 * timeout_ms, body. */
static void request_args(const char **argv, size_t *lens, const char *stream,
			 const char *tag, const char *service, const char *op,
			 const char *rkey, const char *timeout, char *cap,
			 const char *body, size_t body_len)
{
	snprintf(cap, 24, "%d", WFP_REQUEST_STREAM_MAX);
	argv[0] = stream, argv[1] = tag, argv[2] = service, argv[3] = cap;
	argv[4] = "op", argv[5] = op, argv[6] = "reply", argv[7] = rkey;
	argv[8] = "timeout_ms", argv[9] = timeout;
	argv[10] = "body", argv[11] = body;
	for (int i = 0; i < 11; i++)
		lens[i] = strlen(argv[i]);
	lens[11] = body_len;
}

int wfp_request(struct wfp_client *c, const char *service, const char *op,
		const char *body, size_t body_len, int64_t timeout_ms,
		struct wfp_msg *reply)
{
	struct wfp_key stream = wfp_key_requests(c->tag, service);
	struct wfp_key rkey;
	char nonce[33], timeout[24], secs[32], cap[24];
	const char *argv[12];
	size_t lens[12];
	struct wfp_script_call add;
	redisReply *r;

	if (timeout_ms < 1 || timeout_ms > WFP_REQUEST_TIMEOUT_MAX_MS)
		return client_fail(c,
				   "request timeout %lld ms is not in 1..%lld",
				   (long long)timeout_ms,
				   (long long)WFP_REQUEST_TIMEOUT_MAX_MS);
	if (wfp_random_hex(nonce, 16) != 0)
		return client_fail(c, "no randomness for a reply key");
	rkey = wfp_key_reply(c->tag, nonce);
	snprintf(timeout, sizeof(timeout), "%lld", (long long)timeout_ms);
	request_args(argv, lens, stream.s, c->tag, service, op, rkey.s, timeout,
		     cap, body, body_len);
	snprintf(secs, sizeof(secs), "%.3f", (double)timeout_ms / 1000.0);
	wfp_script_call_init(&add, WFP_LUA_REQUEST_ADD, 1, 12, argv, lens);
	r = request_send(c, service, &add, rkey.s, secs, timeout_ms);
	if (r == NULL && strncmp(c->err, "NOSCRIPT", 8) == 0) {
		wfp_script_call_eval(&add, WFP_LUA_REQUEST_ADD);
		r = request_send(c, service, &add, rkey.s, secs, timeout_ms);
	}
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		freeReplyObject(r);
		return client_fail(
		    c, "no reply from wfp-%s within %lld ms (is it running?)",
		    service, (long long)timeout_ms);
	}
	int rc = request_reply(c, r->element[1], reply);
	freeReplyObject(r);
	return rc;
}
