/* job_log.c - `wfp job log` and `wfp job watch`: a job's task log and
 * its changes as they happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/keys.h"
#include "wfp/util.h"

#define WATCH_TIMEOUT_DEFAULT 3600000LL /* watch --timeout */

/* The text form of `job log`: one block of fields per entry. */
static void log_print(json_t *log)
{
	for (size_t i = 0; i < json_array_size(log); i++) {
		cli_print_fields(json_array_get(log, i), "");
		printf("\n");
	}
}

int cli_job_log(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	struct wfp_key lk;
	redisReply *r;
	json_t *log;

	if (cli_expect(c, 3, 3, opts, "wfp job log ID") != 0 ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	r = cli_job_read(c, &cl);
	if (r == NULL)
		return EXIT_FAIL;
	freeReplyObject(r);
	lk = wfp_key_log(wfp_client_tag(cl), c->pos[2]);
	log = cli_stream_json(cl, &lk);
	return cli_emit(c, log, log_print);
}

/* The value of field key in a flat [k1, v1, ...] reply, or NULL. */
static const redisReply *flat_get(const redisReply *flat, const char *key)
{
	for (size_t i = 0; i + 1 < flat->elements; i += 2) {
		const redisReply *k = flat->element[i];

		if (k->str && strcmp(k->str, key) == 0 &&
		    flat->element[i + 1]->str)
			return flat->element[i + 1];
	}
	return NULL;
}

/* True when events entry flat is about job id: its raw type and id are
 * compared, so another entry, whatever its bytes, is never converted. */
static int event_of(const redisReply *flat, const char *id)
{
	const redisReply *type, *eid;

	if (flat->type != REDIS_REPLY_ARRAY)
		return 0;
	type = flat_get(flat, "type");
	eid = flat_get(flat, "id");
	return type && eid && strcmp(type->str, "job") == 0 &&
	       eid->len == strlen(id) && strcmp(eid->str, id) == 0;
}

/* Prints the events of job id in one XREAD reply, updating state (the
 * job's latest) and last (the newest entry read). Only the job's own
 * events are converted; a value of one that is not valid UTF-8 is shown
 * with U+FFFD (see cli_json_lossy). Returns 0, or -1 when the output
 * failed (recorded, see cli_output_error). */
static int watch_print(const struct cli *c, const redisReply *r, const char *id,
		       char *state, size_t n, char *last, size_t lastn)
{
	const redisReply *entries;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return 0;
	entries = r->element[0]->element[1];
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *flat = entries->element[i]->element[1];
		const char *eid = entries->element[i]->element[0]->str;
		json_t *o;

		wfp_strlcpy(last, eid, lastn);
		if (!event_of(flat, id))
			continue;
		o = cli_fields_lossy(flat);
		wfp_strlcpy(state, cli_jstr(o, "state"), n);
		json_object_set_new(o, "entry", json_string(eid));
		if (c->json) {
			cli_print_json(o);
		} else {
			if (cli_output_error() == NULL)
				printf("%s %-9s %-20s %s\n", eid, state,
				       cli_jstr(o, "owner"),
				       cli_jstr(o, "detail"));
			json_decref(o);
		}
		if (cli_output_flush() != 0)
			return -1;
	}
	return 0;
}

/* Copies the id of the newest entry of stream key into out ("0-0" when
 * the stream is empty or missing). Returns 0, or -1 (printed). */
static int stream_last_id(struct wfp_client *cl, const struct wfp_key *key,
			  char *out, size_t n)
{
	redisReply *r =
	    wfp_client_commandf(cl, "XREVRANGE %s + - COUNT 1", key->s);

	if (r == NULL)
		return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)), -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 && r->element[0]->element[0]->str)
		wfp_strlcpy(out, r->element[0]->element[0]->str, n);
	else
		wfp_strlcpy(out, "0-0", n);
	freeReplyObject(r);
	return 0;
}

/* watch ID [--timeout MS]: the job's state changes as they happen,
 * until it ends; exits 0 only when it completed. The events stream's
 * position is taken before the state is read, and events are read from
 * there: a change made between the two is read, not missed. */
int cli_job_watch(struct cli *c)
{
	static const char *const opts[] = {"timeout", NULL};
	long long timeout = WATCH_TIMEOUT_DEFAULT;
	char state[32], last[64];
	enum wfp_job_state st = WFP_JOB_POSTED;
	struct wfp_client *cl;
	struct wfp_key ev;
	redisReply *r;
	int64_t deadline;

	if (cli_expect(c, 3, 3, opts, "wfp job watch ID [--timeout MS]") ||
	    cli_opt_int(c, "timeout", 0, CLI_TIMEOUT_MAX_MS, &timeout) ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	ev = wfp_key_events(wfp_client_tag(cl));
	if (stream_last_id(cl, &ev, last, sizeof(last)) != 0)
		return EXIT_FAIL;
	r = cli_job_read(c, &cl);
	if (r == NULL)
		return EXIT_FAIL;
	freeReplyObject(r);
	if (cli_job_field(cl, c->pos[2], "state", state, sizeof(state)) != 0)
		return EXIT_FAIL;
	if (!c->json)
		printf("%s is %s\n", c->pos[2], state);
	if (cli_output_flush() != 0)
		return EXIT_FAIL; /* main reports why */
	deadline = wfp_now_ms() + timeout;
	while (wfp_job_state_parse(state, &st) != 0 ||
	       !wfp_job_state_final(st)) {
		int64_t left = deadline - wfp_now_ms();

		if (left <= 0)
			return cli_error(EXIT_NOTHING,
					 "job %s still %s after %lld ms",
					 c->pos[2], state, timeout);
		r = wfp_client_commandf(
		    cl, "XREAD COUNT 100 BLOCK %lld STREAMS %s %s",
		    (long long)(left < 1000 ? left : 1000), ev.s, last);
		if (r == NULL)
			return cli_failed(cl);
		if (watch_print(c, r, c->pos[2], state, sizeof(state), last,
				sizeof(last)) != 0) {
			freeReplyObject(r);
			return EXIT_FAIL; /* main reports why */
		}
		freeReplyObject(r);
	}
	return st == WFP_JOB_COMPLETED ? EXIT_OK : EXIT_FAIL;
}
