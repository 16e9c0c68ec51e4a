/* lock_cmd.c - `wfp lock ...`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "wfp/keys.h"
#include "wfp/lock.h"
#include "wfp/util.h"

#define DEFAULT_TTL_MS 30000

/* One granted lock as JSON. */
static json_t *grant_json(const struct wfp_lock_grant *g, int i)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", g->names[i],
			 "owner", g->owner, "token", g->token, "fence",
			 (json_int_t)g->fences[i], "ttl_ms",
			 (json_int_t)g->ttl_ms);
}

/* The default owner: "cli-<host>-<pid>", made to fit the owner rules. */
static void default_owner(char *out, size_t n)
{
	char host[48] = "host";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++) {
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_.-",
			*p))
			*p = '-';
	}
	snprintf(out, n, "cli-%s-%d", host, (int)getpid());
}

/* Prints a grant (names, token, fences) and flushes stdout. Returns 0, or
 * -1 with the reason recorded (see cli_output_error). */
static int grant_print(const struct cli *c, const struct wfp_lock_grant *g)
{
	if (c->json && g->n == 1) {
		cli_print_json(grant_json(g, 0));
	} else if (c->json) {
		json_t *a = json_array();

		for (int i = 0; i < g->n; i++)
			json_array_append_new(a, grant_json(g, i));
		cli_print_json(a);
	} else {
		for (int i = 0; i < g->n; i++)
			printf("%s %s %lld\n", g->names[i], g->token,
			       (long long)g->fences[i]);
	}
	return cli_output_flush();
}

/*
 * A grant that could not be printed would hold its locks for the whole
 * TTL under a token nobody saw: release it at once and say so in the one
 * error line. Returns EXIT_FAIL.
 */
static int grant_hand_back(struct wfp_client *cl,
			   const struct wfp_lock_grant *g)
{
	char more[512];

	if (wfp_lock_release_grant(cl, g) != 0)
		snprintf(more, sizeof(more),
			 "releasing the grant failed too (held until its TTL "
			 "ends): %s",
			 wfp_client_error(cl));
	else if (g->n == 1)
		snprintf(more, sizeof(more), "lock %s was released",
			 g->names[0]);
	else
		snprintf(more, sizeof(more),
			 "all %d locks (%s, ...) were released", g->n,
			 g->names[0]);
	return cli_output_report(more);
}

static int lock_acquire(struct cli *c)
{
	static const char *const opts[] = {"ttl", "wait", "owner", NULL};
	const char *owner = cli_opt(c, "owner");
	long long ttl = DEFAULT_TTL_MS, wait = 0;
	char defowner[WFP_LOCK_OWNER_MAX];
	struct wfp_lock_grant g;
	struct wfp_client *cl;
	char err[256];

	if (cli_expect(c, 3, CLI_MAX_POS, opts,
		       "wfp lock acquire NAME... [--ttl MS] [--wait MS] "
		       "[--owner WHO]") ||
	    cli_opt_int(c, "ttl", WFP_LOCK_TTL_MIN_MS, WFP_LOCK_TTL_MAX_MS,
			&ttl) ||
	    cli_opt_int(c, "wait", 0, WFP_LOCK_WAIT_MAX_MS, &wait))
		return EXIT_USAGE;
	if (owner == NULL) {
		default_owner(defowner, sizeof(defowner));
		owner = defowner;
	}
	if (wfp_lock_check_acquire(c->pos + 2, c->npos - 2, owner, ttl, wait,
				   err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_lock_acquire(cl, c->pos + 2, c->npos - 2, owner, ttl, wait,
			     &g) != 0)
		return cli_failed(cl);
	if (grant_print(c, &g) == 0)
		return EXIT_OK;
	return grant_hand_back(cl, &g);
}

/* renew NAME TOKEN [--ttl MS] and release NAME TOKEN. */
static int lock_holder_op(struct cli *c, int renew)
{
	static const char *const ropts[] = {"ttl", NULL};
	static const char *const lopts[] = {NULL};
	long long ttl = DEFAULT_TTL_MS;
	int64_t expires = 0;
	struct wfp_client *cl;
	char err[256];
	int rc;

	if (cli_expect(c, 4, 4, renew ? ropts : lopts,
		       renew ? "wfp lock renew NAME TOKEN [--ttl MS]"
			     : "wfp lock release NAME TOKEN") ||
	    cli_opt_int(c, "ttl", WFP_LOCK_TTL_MIN_MS, WFP_LOCK_TTL_MAX_MS,
			&ttl))
		return EXIT_USAGE;
	if (wfp_lock_check_name(c->pos[2], err, sizeof(err)) != 0 ||
	    wfp_lock_check_token(c->pos[3], err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	rc = renew ? wfp_lock_renew(cl, c->pos[2], c->pos[3], ttl, &expires)
		   : wfp_lock_release(cl, c->pos[2], c->pos[3]);
	if (rc != 0)
		return cli_failed(cl);
	if (c->json && renew)
		cli_print_json(json_pack("{s:s, s:s, s:I, s:I}", "name",
					 c->pos[2], "state", "held", "ttl_ms",
					 (json_int_t)ttl, "expires_at",
					 (json_int_t)expires));
	else if (c->json)
		cli_print_json(json_pack("{s:s, s:s}", "name", c->pos[2],
					 "state", "released"));
	else
		printf("%s %s\n", c->pos[2], renew ? "renewed" : "released");
	return EXIT_OK;
}

/*
 * A lock's state as JSON: holder from lockinfo, time left from PTTL. The
 * token is left out: it is a credential (whoever has it can release the
 * lock), printed only to the one who acquired it; owner and fence say
 * who holds it.
 */
static json_t *lock_json(struct wfp_client *cl, const char *name)
{
	const char *tag = wfp_client_tag(cl);
	struct wfp_key k = wfp_key_lock(tag, name);
	struct wfp_key info = wfp_key_lockinfo(tag, name);
	struct wfp_key q = wfp_key_lockq(tag, name);
	redisReply *ttl = wfp_client_commandf(cl, "PTTL %s", k.s);
	redisReply *inf =
	    wfp_client_commandf(cl, "HMGET %s owner fence", info.s);
	redisReply *wq = wfp_client_commandf(cl, "ZCARD %s", q.s);
	json_t *o = NULL;

	if (ttl && inf && wq) {
		int held = ttl->integer > 0 || ttl->integer == -1;
		const redisReply *who = inf->element[0];
		int64_t fence = 0;

		if (inf->element[1]->str)
			wfp_parse_i64(inf->element[1]->str, &fence);
		o = json_object();
		json_object_set_new(
		    o, "name",
		    cli_json_lossy(name, strlen(name), "lock name", NULL, o));
		json_object_set_new(o, "state",
				    json_string(held ? "held" : "free"));
		json_object_set_new(
		    o, "owner",
		    cli_json_lossy(held && who->str ? who->str : "",
				   held && who->str ? who->len : 0, "owner",
				   name, o));
		json_object_set_new(o, "fence", json_integer(held ? fence : 0));
		json_object_set_new(o, "ttl_ms",
				    json_integer(held ? ttl->integer : 0));
		json_object_set_new(o, "waiters", json_integer(wq->integer));
	}
	freeReplyObject(ttl), freeReplyObject(inf), freeReplyObject(wq);
	return o;
}

static void lock_print(json_t *o)
{
	printf("%-30s %-5s %-24s %10lld ms  fence %lld  waiters %lld\n",
	       json_string_value(json_object_get(o, "name")),
	       json_string_value(json_object_get(o, "state")),
	       json_string_value(json_object_get(o, "owner")),
	       json_integer_value(json_object_get(o, "ttl_ms")),
	       json_integer_value(json_object_get(o, "fence")),
	       json_integer_value(json_object_get(o, "waiters")));
}

static int lock_show(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	char err[256];
	json_t *o;

	if (cli_expect(c, 3, 3, opts, "wfp lock show NAME") != 0)
		return EXIT_USAGE;
	if (wfp_lock_check_name(c->pos[2], err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	o = lock_json(cl, c->pos[2]);
	if (o == NULL)
		return cli_failed(cl);
	return cli_emit(c, o, lock_print);
}

/* The text form of `lock list`. */
static void locks_print(json_t *a)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		lock_print(json_array_get(a, i));
}

static int lock_list(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	struct wfp_key held;
	redisReply *r;
	json_t *a;

	if (cli_expect(c, 2, 2, opts, "wfp lock list") != 0)
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	held = wfp_key_locks_held(wfp_client_tag(cl));
	r = wfp_client_commandf(cl, "ZRANGE %s 0 9999", held.s);
	if (r == NULL)
		return cli_failed(cl);
	a = json_array();
	for (size_t i = 0; i < r->elements; i++) {
		json_t *o = lock_json(cl, r->element[i]->str);

		if (o && strcmp(json_string_value(json_object_get(o, "state")),
				"held") == 0)
			json_array_append_new(a, o);
		else
			json_decref(o);
	}
	freeReplyObject(r);
	return cli_emit(c, a, locks_print);
}

int cmd_lock(struct cli *c)
{
	const char *verb = c->npos > 1 ? c->pos[1] : "";

	if (strcmp(verb, "acquire") == 0)
		return lock_acquire(c);
	if (strcmp(verb, "renew") == 0)
		return lock_holder_op(c, 1);
	if (strcmp(verb, "release") == 0)
		return lock_holder_op(c, 0);
	if (strcmp(verb, "show") == 0)
		return lock_show(c);
	if (strcmp(verb, "list") == 0)
		return lock_list(c);
	return cli_error(EXIT_USAGE,
			 "unknown verb 'lock %s' (try: wfp lock --help)", verb);
}
