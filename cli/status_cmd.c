/* status_cmd.c - `wfp status`: counts of jobs, owners, locks, services. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/keys.h"
#include "wfp/util.h"

/* ------------------------------------------------------------------ */
/* status                                                              */
/* ------------------------------------------------------------------ */

/* An integer reply of a printf-style command, or -1. */
static long long int_of(struct wfp_client *cl, const char *fmt, const char *key)
{
	redisReply *r = wfp_client_commandf(cl, fmt, key);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

	if (r)
		freeReplyObject(r);
	return v;
}

/* Owners seen (claim or heartbeat) within the visibility timeout. */
static json_t *live_owners(struct wfp_client *cl, int64_t visibility_ms)
{
	struct wfp_key k = wfp_key_owners(wfp_client_tag(cl));
	redisReply *r =
	    wfp_client_commandf(cl, "ZRANGEBYSCORE %s %lld +inf", k.s,
				(long long)(wfp_now_ms() - visibility_ms));
	json_t *a = json_array();

	for (size_t i = 0; r && i < r->elements; i++)
		json_array_append_new(a, cli_json_str(r->element[i]->str,
						      r->element[i]->len,
						      "an owner's name", NULL));
	if (r)
		freeReplyObject(r);
	return a;
}

#define LIVE_MS 5000 /* a replica that said so this recently is live */

/* A service's live replicas (from {p}:svc:<service>:replicas), the requests
 * read but not yet acknowledged, and the entries on its request stream. */
static json_t *service_status(struct wfp_client *cl, const char *service)
{
	const char *tag = wfp_client_tag(cl);
	struct wfp_key req = wfp_key_requests(tag, service);
	struct wfp_key rep = wfp_key_replicas(tag, service);
	redisReply *r =
	    wfp_client_commandf(cl, "XPENDING %s %s", req.s, service);
	long long pending = r && r->type == REDIS_REPLY_ARRAY && r->elements
				? r->element[0]->integer
				: 0;
	char since[24];

	if (r)
		freeReplyObject(r);
	snprintf(since, sizeof(since), "%lld",
		 (long long)(wfp_now_ms() - LIVE_MS));
	r = wfp_client_commandf(cl, "ZCOUNT %s %s +inf", rep.s, since);
	json_t *o = json_pack("{s:I, s:I, s:I}", "live",
			      (json_int_t)(r ? r->integer : 0), "pending",
			      (json_int_t)pending, "queued",
			      (json_int_t)int_of(cl, "XLEN %s", req.s));
	if (r)
		freeReplyObject(r);
	return o;
}

/* Width of the names of `wfp status`'s text form ("wfp-reservation
 * pending" is the longest), so that the values line up. */
#define STATUS_NAME_WIDTH 23
/* Pools `wfp status` shows (the oldest; `wfp pool list` shows more). */
#define STATUS_POOLS_MAX 100
/* Characters of one owner's name in the text form (longer ones cut). */
#define STATUS_OWNER_WIDTH 60

/* Prints "PREFIXNAME VALUE", the value at column STATUS_NAME_WIDTH + 1
 * (a string as it is, else as compact JSON). */
static void status_line(const char *prefix, const char *name, json_t *v)
{
	char label[64];
	char *s = json_is_string(v)
		      ? NULL
		      : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(label, sizeof(label), "%s%s", prefix, name);
	printf("%-*s %s\n", STATUS_NAME_WIDTH, label,
	       s ? s : json_string_value(v));
	free(s);
}

/* Prints each member of object o as a status_line. */
static void status_lines(const char *prefix, json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		status_line(prefix, k, v);
	}
}

/* Prints the live owners as "a, b" (each cut to STATUS_OWNER_WIDTH
 * characters, controls shown as spaces), or "none". */
static void status_owners(json_t *owners)
{
	char cut[4 * STATUS_OWNER_WIDTH + 8];
	size_t i;
	json_t *v;

	printf("%-*s ", STATUS_NAME_WIDTH, "live owners");
	if (json_array_size(owners) == 0)
		printf("none");
	json_array_foreach(owners, i, v)
	{
		cli_text_cut(json_string_value(v), STATUS_OWNER_WIDTH, cut,
			     sizeof(cut));
		printf("%s%s", i ? ", " : "", cut);
	}
	printf("\n");
}

/* Prints "pool NAME USED/CAPACITY" per pool (the name cut to fit the
 * column), or "pools none". */
static void status_pools(json_t *pools)
{
	char cut[4 * STATUS_NAME_WIDTH + 8], label[4 * STATUS_NAME_WIDTH + 16];
	size_t i;
	json_t *p;

	if (json_array_size(pools) == 0)
		printf("%-*s none\n", STATUS_NAME_WIDTH, "pools");
	json_array_foreach(pools, i, p)
	{
		cli_text_cut(cli_jstr(p, "name"), STATUS_NAME_WIDTH - 5, cut,
			     sizeof(cut));
		snprintf(label, sizeof(label), "pool %s", cut);
		printf(
		    "%-*s %lld/%lld\n", STATUS_NAME_WIDTH, label,
		    (long long)json_integer_value(json_object_get(p, "used")),
		    (long long)json_integer_value(
			json_object_get(p, "capacity")));
	}
}

/* The text form of `wfp status`: one "NAME VALUE" line each, the values
 * lined up. */
static void status_print(json_t *o)
{
	json_t *services = json_object_get(o, "services");

	status_lines("jobs ", json_object_get(o, "jobs"));
	status_owners(json_object_get(o, "owners"));
	status_line("", "dead letters", json_object_get(o, "deadletter"));
	status_lines("locks ", json_object_get(o, "locks"));
	status_lines("wfp-jobboard ", json_object_get(services, "jobboard"));
	status_lines("wfp-lock ", json_object_get(services, "lock"));
	status_lines("wfp-reservation ",
		     json_object_get(services, "reservation"));
	status_line("", "executors", json_object_get(o, "executors"));
	status_lines("reservations ", json_object_get(o, "reservations"));
	status_pools(json_object_get(o, "pools"));
}

/* Executors with a beat in the last CLI_EXECUTOR_LIVE_MS (on Redis's
 * clock, as they write it), or -1 on a failure. */
static long long live_executors(struct wfp_client *cl)
{
	struct wfp_key z = wfp_key_replicas(wfp_client_tag(cl), "executor");
	int64_t now;
	redisReply *r;
	long long n;

	if (cli_redis_now_ms(cl, &now) != 0)
		return -1;
	r = wfp_client_commandf(cl, "ZCOUNT %s %lld +inf", z.s,
				(long long)(now - CLI_EXECUTOR_LIVE_MS));
	n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	if (r)
		freeReplyObject(r);
	return n;
}

/* Adds the reservations per state (ZCARD of each state's index) and the
 * pools ({name, capacity, used, free}) to o, and prints it. */
static int status_rsv(struct cli *c, struct wfp_client *cl, json_t *o)
{
	json_t *counts = json_object(), *pools;

	for (const char *const *s = cli_rsv_states; *s; s++) {
		struct wfp_key k = wfp_key_rsvs(wfp_client_tag(cl), *s);
		long long n = int_of(cl, "ZCARD %s", k.s);

		if (n < 0) {
			json_decref(counts), json_decref(o);
			return cli_failed(cl);
		}
		json_object_set_new(counts, *s, json_integer(n));
	}
	json_object_set_new(o, "reservations", counts);
	pools = cli_pools_json(cl, STATUS_POOLS_MAX);
	if (pools == NULL) {
		json_decref(o);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < json_array_size(pools); i++) {
		json_t *p = json_array_get(pools, i);

		json_object_del(p, "created_at");
		json_object_del(p, "updated_at");
		json_object_del(p, "reservations");
	}
	json_object_set_new(o, "pools", pools);
	return cli_emit(c, o, status_print);
}

int cmd_status(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	json_t *o, *counts;
	const char *tag;

	if (cli_expect(c, 1, 1, opts, "wfp status") != 0)
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	tag = wfp_client_tag(cl);
	counts = json_object();
	for (int s = 0; s < WFP_JOB_STATE_COUNT; s++) {
		struct wfp_key k = wfp_key_index(tag, wfp_job_state_name(s));
		long long n = int_of(cl, "ZCARD %s", k.s);

		if (n < 0) {
			json_decref(counts);
			return cli_failed(cl);
		}
		json_object_set_new(counts, wfp_job_state_name(s),
				    json_integer(n));
	}
	struct wfp_key dl = wfp_key_deadletter(tag);
	struct wfp_key held = wfp_key_locks_held(tag);
	struct wfp_key waiting = wfp_key_locks_waiters(tag);
	o = json_pack("{s:o, s:o, s:I, s:{s:I, s:I}, s:{s:o, s:o}}", "jobs",
		      counts, "owners", live_owners(cl, c->cfg.visibility_ms),
		      "deadletter", (json_int_t)int_of(cl, "XLEN %s", dl.s),
		      "locks", "held",
		      (json_int_t)int_of(cl, "ZCARD %s", held.s), "waiting",
		      (json_int_t)int_of(cl, "ZCARD %s", waiting.s), "services",
		      "jobboard", service_status(cl, "jobboard"), "lock",
		      service_status(cl, "lock"));
	json_object_set_new(o, "executors", json_integer(live_executors(cl)));
	json_object_set_new(json_object_get(o, "services"), "reservation",
			    service_status(cl, "reservation"));
	return status_rsv(c, cl, o);
}
