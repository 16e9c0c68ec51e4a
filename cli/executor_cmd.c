/* executor_cmd.c - `wfp executor list`: the executors alive now, from the
 * registry each wfp-executor rewrites every second ({P}:svc:executor:
 * replicas, a zset of names by last beat, and one info hash each). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/keys.h"
#include "wfp/util.h"

#define EXECUTORS_MAX	  1000 /* executors listed at most */
#define RUNNING_WIDTH	  48   /* characters of RUNNING in the table */
#define EXECUTOR_NAME_MAX 64   /* 1..64 bytes: WFP_EXECUTOR_NAME */

/* Fields of an executor's info hash that hold whole numbers. */
static const char *const info_numbers[] = {
    "pid", "started_at", "heartbeat_at", "concurrency", "jobs", "running", NULL,
};

/* Returns 1 when field name of the info hash holds a number. */
static int info_number(const char *name)
{
	for (const char *const *f = info_numbers; *f; f++) {
		if (strcmp(*f, name) == 0)
			return 1;
	}
	return 0;
}

/* One executor's info hash (HGETALL reply) into o: numbers as numbers,
 * detail parsed (an array of {job, tasks}), text as it is (lossy: a value
 * that is not valid UTF-8 is shown with U+FFFD, see cli_json_lossy). */
static void info_fields(json_t *o, const redisReply *flat, const char *name)
{
	for (size_t i = 0; i + 1 < flat->elements; i += 2) {
		const char *k = flat->element[i]->str;
		const redisReply *v = flat->element[i + 1];
		json_t *j = NULL;
		int64_t n;
		char what[96];

		if (k == NULL || v->str == NULL || strcmp(k, "name") == 0)
			continue;
		if (info_number(k) && wfp_parse_i64(v->str, &n) == 0)
			j = json_integer(n);
		else if (strcmp(k, "detail") == 0)
			j = json_loadb(v->str, v->len, 0, NULL);
		if (j == NULL) {
			snprintf(what, sizeof(what), "field '%s'", k);
			j = cli_json_lossy(v->str, v->len, what, name, o);
		}
		json_object_set_new(o, k, j);
	}
}

/* The entry of executor name (last beat at beat_ms, Redis's clock now at
 * now_ms) with its info hash, when it has one. NULL after printing why. */
static json_t *executor_json(struct wfp_client *cl, const redisReply *name,
			     int64_t beat_ms, int64_t now_ms)
{
	struct wfp_key k = wfp_key_executor_info(wfp_client_tag(cl), name->str);
	redisReply *r = wfp_client_commandf(cl, "HGETALL %s", k.s);
	json_t *o = json_object();

	if (r == NULL) {
		json_decref(o);
		cli_error(EXIT_FAIL, "%s", wfp_client_error(cl));
		return NULL;
	}
	json_object_set_new(o, "name",
			    cli_json_lossy(name->str, name->len,
					   "an executor's name", NULL, o));
	json_object_set_new(o, "last_beat_ms_ago",
			    json_integer(now_ms - beat_ms));
	info_fields(o, r, name->str);
	freeReplyObject(r);
	return o;
}

/* Executors with a beat in the last CLI_EXECUTOR_LIVE_MS, by name, as a
 * JSON array; NULL after printing why. */
static json_t *executors_json(struct wfp_client *cl)
{
	struct wfp_key z = wfp_key_replicas(wfp_client_tag(cl), "executor");
	int64_t now;
	redisReply *r;
	json_t *a;

	if (cli_redis_now_ms(cl, &now) != 0)
		return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)), NULL;
	r = wfp_client_commandf(
	    cl, "ZRANGEBYSCORE %s %lld +inf WITHSCORES LIMIT 0 %d", z.s,
	    (long long)(now - CLI_EXECUTOR_LIVE_MS), EXECUTORS_MAX);
	if (r == NULL)
		return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)), NULL;
	a = json_array();
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		json_t *o = executor_json(cl, r->element[i],
					  atoll(r->element[i + 1]->str), now);

		if (o == NULL) {
			json_decref(a);
			a = NULL;
			break;
		}
		json_array_append_new(a, o);
	}
	freeReplyObject(r);
	return a;
}

/* The task names of an executor's detail, "a,b,c", cut to RUNNING_WIDTH
 * characters (ending in "..." when cut), "-" when none. */
static void running_text(json_t *detail, char *out, size_t n)
{
	size_t o = 0;
	size_t i, j;
	json_t *job, *task;

	out[0] = '\0';
	json_array_foreach(detail, i, job)
	{
		json_array_foreach(json_object_get(job, "tasks"), j, task)
		{
			const char *t = json_string_value(task);
			int w = snprintf(out + o, n - o, "%s%s", o ? "," : "",
					 t ? t : "?");

			if (w < 0 || (size_t)w >= n - o) {
				out[o] = '\0';
				break;
			}
			o += (size_t)w;
		}
	}
	if (o == 0)
		wfp_strlcpy(out, "-", n);
}

/* An executor's name as shown in the table: text (control characters
 * as spaces), at most EXECUTOR_NAME_MAX characters. */
static const char *name_text(json_t *e, char *out, size_t n)
{
	cli_text_cut(cli_jstr(e, "name"), EXECUTOR_NAME_MAX, out, n);
	return out;
}

/* The text form: NAME JOBS RUNNING LAST BEAT. */
static void executors_print(json_t *list)
{
	char name[EXECUTOR_NAME_MAX * 4 + 8];
	size_t i;
	json_t *e;
	int nw = 4;

	json_array_foreach(list, i, e)
	{
		int w = (int)strlen(name_text(e, name, sizeof(name)));

		nw = w > nw ? w : nw;
	}
	printf("%-*s %-5s %-*s %s\n", nw, "NAME", "JOBS", RUNNING_WIDTH,
	       "RUNNING", "LAST BEAT");
	json_array_foreach(list, i, e)
	{
		char running[4096], cut[RUNNING_WIDTH * 4 + 8], jobs[24];
		json_t *nj = json_object_get(e, "jobs");

		running_text(json_object_get(e, "detail"), running,
			     sizeof(running));
		cli_text_cut(running, RUNNING_WIDTH, cut, sizeof(cut));
		snprintf(jobs, sizeof(jobs), "%lld",
			 (long long)json_integer_value(nj));
		printf("%-*s %-5s %-*s %lld ms ago\n", nw,
		       name_text(e, name, sizeof(name)),
		       json_is_integer(nj) ? jobs : "-", RUNNING_WIDTH, cut,
		       (long long)json_integer_value(
			   json_object_get(e, "last_beat_ms_ago")));
	}
}

/* executor list: the executors with a beat in the last 10 s. */
static int executor_list(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	json_t *list;

	if (cli_expect(c, 2, 2, opts, "wfp executor list") != 0)
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	list = executors_json(cl);
	if (list == NULL)
		return EXIT_FAIL;
	return cli_emit(c, list, executors_print);
}

int cmd_executor(struct cli *c)
{
	const char *verb = c->npos > 1 ? c->pos[1] : "";

	if (strcmp(verb, "list") == 0)
		return executor_list(c);
	return cli_error(
	    EXIT_USAGE, "unknown verb 'executor %s' (try: wfp executor --help)",
	    verb);
}
