/* lock_client.c - the lock calls of the client library (see wfp/lock.h). */
#include "wfp/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/util.h"

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* Bytes of a refused value quoted in a message. */
#define LOCK_QUOTE_MAX 100

/*
 * Writes s quoted for a message into out (n bytes): its first max bytes,
 * each byte outside printable ASCII as \xNN, "..." after it when cut, so
 * a message is clean text and never ends inside a character.
 */
static const char *lock_quote(const char *s, size_t max, char *out, size_t n)
{
	size_t o = 0, i;

	out[o++] = '\'';
	for (i = 0; i < max && s[i] && o + 8 < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02X", ch);
	}
	out[o++] = '\'';
	out[o] = '\0';
	if (s[i])
		wfp_strlcpy(out + o, "...", n - o);
	return out;
}

int wfp_lock_check_name(const char *name, char *err, size_t errlen)
{
	char q[LOCK_QUOTE_MAX * 4 + 8];

	if (wfp_word_ok(name, WFP_LOCK_NAME_MAX, "_.:/-"))
		return 0;
	snprintf(err, errlen,
		 "lock name %s is not 1-128 of A-Z a-z 0-9 _ . : / -",
		 lock_quote(name, LOCK_QUOTE_MAX, q, sizeof(q)));
	return -1;
}

int wfp_lock_check_owner(const char *owner, char *err, size_t errlen)
{
	char q[LOCK_QUOTE_MAX * 4 + 8];

	if (wfp_word_ok(owner, WFP_LOCK_OWNER_MAX, "_.:@-"))
		return 0;
	snprintf(err, errlen, "owner %s is not 1-64 of A-Z a-z 0-9 _ . : @ -",
		 lock_quote(owner, LOCK_QUOTE_MAX, q, sizeof(q)));
	return -1;
}

int wfp_lock_check_token(const char *token, char *err, size_t errlen)
{
	const char *slash = strrchr(token, '/');
	char owner[WFP_LOCK_OWNER_MAX], q[LOCK_QUOTE_MAX * 4 + 8];
	size_t n = slash ? (size_t)(slash - token) : 0;

	if (slash && n < sizeof(owner) && strlen(slash + 1) == 32 &&
	    strspn(slash + 1, "0123456789abcdef") == 32) {
		memcpy(owner, token, n);
		owner[n] = '\0';
		if (wfp_word_ok(owner, WFP_LOCK_OWNER_MAX, "_.:@-"))
			return 0;
	}
	snprintf(err, errlen, "%s is not a lock token (OWNER/32 hex)",
		 lock_quote(token, LOCK_QUOTE_MAX, q, sizeof(q)));
	return -1;
}

int wfp_lock_check_acquire(const char *const *names, int n, const char *owner,
			   int64_t ttl_ms, int64_t wait_ms, char *err,
			   size_t errlen)
{
	if (n < 1 || n > WFP_LOCK_MULTI_MAX)
		return snprintf(err, errlen, "give 1 to %d lock names, not %d",
				WFP_LOCK_MULTI_MAX, n),
		       -1;
	for (int i = 0; i < n; i++) {
		if (wfp_lock_check_name(names[i], err, errlen) != 0)
			return -1;
		for (int j = 0; j < i; j++) {
			if (strcmp(names[i], names[j]) == 0)
				return snprintf(err, errlen,
						"lock '%s' named twice",
						names[i]),
				       -1;
		}
	}
	if (wfp_lock_check_owner(owner, err, errlen) != 0)
		return -1;
	if (ttl_ms < WFP_LOCK_TTL_MIN_MS || ttl_ms > WFP_LOCK_TTL_MAX_MS)
		return snprintf(err, errlen, "ttl %lld ms is not in %d..%lld",
				(long long)ttl_ms, WFP_LOCK_TTL_MIN_MS,
				(long long)WFP_LOCK_TTL_MAX_MS),
		       -1;
	if (wait_ms < 0 || wait_ms > WFP_LOCK_WAIT_MAX_MS)
		return snprintf(err, errlen, "wait %lld ms is not in 0..%lld",
				(long long)wait_ms,
				(long long)WFP_LOCK_WAIT_MAX_MS),
		       -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Acquire                                                             */
/* ------------------------------------------------------------------ */

/* Fills the names and identity of a grant. */
static void grant_init(struct wfp_lock_grant *g, const char *const *names,
		       int n, const char *owner, const char *token,
		       int64_t ttl_ms)
{
	memset(g, 0, sizeof(*g));
	wfp_strlcpy(g->owner, owner, sizeof(g->owner));
	wfp_strlcpy(g->token, token, sizeof(g->token));
	g->ttl_ms = ttl_ms;
	g->n = n;
	for (int i = 0; i < n; i++)
		wfp_strlcpy(g->names[i], names[i], sizeof(g->names[i]));
}

/*
 * The direct attempt: lock_acquire.lua without a reply key. Returns 1
 * when granted (fences filled), 0 when busy (reason in err), -1 on failure.
 */
static int acquire_direct(struct wfp_client *c, struct wfp_lock_grant *g,
			  char *err, size_t errlen)
{
	const char *tag = wfp_client_tag(c);
	struct wfp_key first = wfp_key_lock(tag, g->names[0]);
	char ttl[24];
	const char *argv[8 + WFP_LOCK_MULTI_MAX];
	redisReply *r;
	int rc;

	snprintf(ttl, sizeof(ttl), "%lld", (long long)g->ttl_ms);
	argv[0] = first.s, argv[1] = tag, argv[2] = g->owner;
	argv[3] = g->token, argv[4] = ttl, argv[5] = "0", argv[6] = "";
	argv[7] = "0"; /* no request deadline: nothing waits */
	for (int i = 0; i < g->n; i++)
		argv[8 + i] = g->names[i];
	r = wfp_client_eval(c, WFP_LUA_LOCK_ACQUIRE, 1, 8 + g->n, argv, NULL);
	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	     strcmp(r->element[0]->str, "granted") == 0;
	if (rc) {
		for (int i = 0; i < g->n && i + 1 < (int)r->elements; i++)
			g->fences[i] = r->element[i + 1]->integer;
	} else if (r->elements >= 2 && r->element[1]->str) {
		snprintf(err, errlen, "%s", r->element[1]->str);
	}
	freeReplyObject(r);
	return rc;
}

/* Reads the fences array of a grant reply into g. */
static int grant_fences(const msgpack_object *reply, struct wfp_lock_grant *g,
			char *err, size_t errlen)
{
	const msgpack_object *f = wfp_codec_get(reply, "fences");

	if (f == NULL || f->type != MSGPACK_OBJECT_ARRAY ||
	    (int)f->via.array.size != g->n)
		return snprintf(err, errlen, "bad grant reply"), -1;
	for (int i = 0; i < g->n; i++) {
		const msgpack_object *o = &f->via.array.ptr[i];

		if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return snprintf(err, errlen, "bad fence in reply"), -1;
		g->fences[i] = (int64_t)o->via.u64;
	}
	return 0;
}

void wfp_lock_pack_acquire(msgpack_sbuffer *buf, const struct wfp_lock_grant *g,
			   int64_t wait_ms)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	wfp_pack_cstr(&pk, "names");
	msgpack_pack_array(&pk, (size_t)g->n);
	for (int i = 0; i < g->n; i++)
		wfp_pack_cstr(&pk, g->names[i]);
	wfp_pack_kv(&pk, "owner", g->owner);
	wfp_pack_kv(&pk, "token", g->token);
	wfp_pack_cstr(&pk, "ttl_ms");
	msgpack_pack_int64(&pk, g->ttl_ms);
	wfp_pack_cstr(&pk, "wait_ms");
	msgpack_pack_int64(&pk, wait_ms);
}

/* True when the error is wfp-lock's own answer (the request was served
 * and refused: nothing was granted), not a lost or missing reply. */
static int answered_refusal(const char *why)
{
	return strncmp(why, "BUSY ", 5) == 0 ||
	       strncmp(why, "TIMEOUT ", 8) == 0 ||
	       strncmp(why, "BADARG ", 7) == 0;
}

/*
 * After a waiting acquire got no usable reply: releases g in case it was
 * granted and only its reply was lost (it would hold until its TTL). A
 * refused release (STALE: no grant was made under this token) is the
 * usual case and says nothing; the caller's error is kept either way.
 */
static void release_lost_grant(struct wfp_client *c,
			       const struct wfp_lock_grant *g)
{
	char why[512];

	wfp_strlcpy(why, wfp_client_error(c), sizeof(why));
	for (int i = 0; i < g->n; i++)
		wfp_lock_release(c, g->names[i], g->token);
	wfp_client_set_error(c, "%s", why);
}

/* The waiting attempt, through wfp-lock's request stream. wfp-lock ends
 * the wait before the request's deadline, so once this call gives up no
 * grant can come later. */
static int acquire_waiting(struct wfp_client *c, struct wfp_lock_grant *g,
			   int64_t wait_ms)
{
	int64_t timeout = wait_ms + wfp_client_config(c)->timeout_ms;
	msgpack_sbuffer body;
	struct wfp_msg reply;
	char err[256];
	int rc;

	msgpack_sbuffer_init(&body);
	wfp_lock_pack_acquire(&body, g, wait_ms);
	rc = wfp_request(c, "lock", "acquire", body.data, body.size, timeout,
			 &reply);
	msgpack_sbuffer_destroy(&body);
	if (rc != 0) {
		if (!answered_refusal(wfp_client_error(c)))
			release_lost_grant(c, g);
		return -1;
	}
	rc = grant_fences(&reply.u.data, g, err, sizeof(err));
	wfp_msg_destroy(&reply);
	if (rc != 0) {
		wfp_client_set_error(c, "%s", err);
		return -1;
	}
	return 0;
}

int wfp_lock_acquire(struct wfp_client *c, const char *const *names, int n,
		     const char *owner, int64_t ttl_ms, int64_t wait_ms,
		     struct wfp_lock_grant *out)
{
	char err[512] = "", hex[33], token[WFP_LOCK_TOKEN_MAX];
	int rc;

	if (wfp_lock_check_acquire(names, n, owner, ttl_ms, wait_ms, err,
				   sizeof(err)) != 0 ||
	    wfp_random_hex(hex, 16) != 0) {
		wfp_client_set_error(c, "%s", err[0] ? err : "no randomness");
		return -1;
	}
	snprintf(token, sizeof(token), "%s/%s", owner, hex);
	grant_init(out, names, n, owner, token, ttl_ms);
	rc = acquire_direct(c, out, err, sizeof(err));
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	if (wait_ms == 0) {
		wfp_client_set_error(c, "%s", err);
		return -1;
	}
	return acquire_waiting(c, out, wait_ms);
}

/* ------------------------------------------------------------------ */
/* Renew, release, fences                                              */
/* ------------------------------------------------------------------ */

/* Runs a lock script on name with token and extra args. */
static redisReply *lock_eval(struct wfp_client *c, enum wfp_script_id id,
			     const char *name, const char *token,
			     const char *extra)
{
	const char *tag = wfp_client_tag(c);
	struct wfp_key k = wfp_key_lock(tag, name);
	const char *argv[6] = {k.s, tag, name, token, extra, ""};
	char err[256];

	if (wfp_lock_check_name(name, err, sizeof(err)) != 0 ||
	    wfp_lock_check_token(token, err, sizeof(err)) != 0) {
		wfp_client_set_error(c, "%s", err);
		return NULL;
	}
	if (extra == NULL) /* release: no extra argument */
		argv[4] = "";
	return wfp_client_eval(c, id, 1, extra ? 6 : 5, argv, NULL);
}

int wfp_lock_renew(struct wfp_client *c, const char *name, const char *token,
		   int64_t ttl_ms, int64_t *expires_at)
{
	char ttl[24];
	redisReply *r;

	if (ttl_ms < WFP_LOCK_TTL_MIN_MS || ttl_ms > WFP_LOCK_TTL_MAX_MS) {
		wfp_client_set_error(c, "ttl %lld ms is not in %d..%lld",
				     (long long)ttl_ms, WFP_LOCK_TTL_MIN_MS,
				     (long long)WFP_LOCK_TTL_MAX_MS);
		return -1;
	}
	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
	r = lock_eval(c, WFP_LUA_LOCK_RENEW, name, token, ttl);
	if (r == NULL)
		return -1;
	if (expires_at)
		*expires_at = r->integer;
	freeReplyObject(r);
	return 0;
}

int wfp_lock_release(struct wfp_client *c, const char *name, const char *token)
{
	redisReply *r = lock_eval(c, WFP_LUA_LOCK_RELEASE, name, token, NULL);

	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int wfp_lock_release_grant(struct wfp_client *c, const struct wfp_lock_grant *g)
{
	for (int i = 0; i < g->n; i++) {
		if (wfp_lock_release(c, g->names[i], g->token) != 0)
			return -1;
	}
	return 0;
}

int wfp_fence_check(struct wfp_client *c, const char *resource, int64_t fence,
		    const char *owner)
{
	const char *tag = wfp_client_tag(c);
	struct wfp_key k = wfp_key_fence(tag, resource);
	char f[24], err[256];
	const char *argv[4] = {k.s, tag, f, owner};
	redisReply *r;

	if (wfp_lock_check_name(resource, err, sizeof(err)) != 0 ||
	    wfp_check_name("owner", owner, err, sizeof(err)) != 0) {
		wfp_client_set_error(c, "%s", err);
		return -1;
	}
	if (fence < 1 || fence > WFP_LOCK_FENCE_MAX) {
		wfp_client_set_error(c, "fence %lld is not in 1..%lld",
				     (long long)fence,
				     (long long)WFP_LOCK_FENCE_MAX);
		return -1;
	}
	snprintf(f, sizeof(f), "%lld", (long long)fence);
	r = wfp_client_eval(c, WFP_LUA_FENCE_CHECK, 1, 4, argv, NULL);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}
