/* job_cmd.c - `wfp job ...`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/lock.h"
#include "wfp/scripts.h"
#include "wfp/util.h"
#include "wfp/workflow.h"

#define JOB_FILE_MAX	     (1024 * 1024) /* a job file, bytes */
#define LIST_LIMIT_MAX	     10000
#define WAIT_POLL_MS	     100
#define WAIT_TIMEOUT_DEFAULT 60000LL   /* wait --timeout */
#define CLAIM_WAIT_MAX_MS    3600000LL /* claim --wait: an hour */

/* ------------------------------------------------------------------ */
/* Checks of the arguments, before anything is sent                    */
/* ------------------------------------------------------------------ */

int cli_check_job_id(const struct cli *c, int with_token)
{
	char err[256];

	if (wfp_check_id("job id", c->pos[2], err, sizeof(err)) != 0 ||
	    (with_token && wfp_check_token(c->pos[3], err, sizeof(err)) != 0))
		return cli_error(EXIT_USAGE, "%s", err), -1;
	return 0;
}

/* Checks text option name (an owner, a transfer target), when given, by
 * the library's name rule; what names it. Returns 0, or prints why and
 * returns -1. */
static int check_text_opt(const struct cli *c, const char *name,
			  const char *what)
{
	const char *v = cli_opt(c, name);
	char err[256];

	if (v != NULL && wfp_check_name(what, v, err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "--%s: %s", name, err), -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* post                                                                */
/* ------------------------------------------------------------------ */

/* The payload of the job file (buf, n bytes) as compact text spelled as
 * the file spells it (2.50 stays 2.50, see wfp_json_member_compact), in
 * *payload (NULL without one). Returns 0, or -1 after printing why. */
static int job_payload(const char *buf, size_t n, json_t *job, const char *path,
		       char **payload)
{
	char err[256];

	*payload = NULL;
	if (!json_is_object(json_object_get(job, "payload")))
		return 0; /* none, or job_body refuses it */
	*payload = wfp_json_member_compact(buf, n, "payload", err, sizeof(err));
	if (*payload == NULL)
		return cli_error(EXIT_USAGE, "%s: %s", path, err), -1;
	return 0;
}

/* Loads FILE ("-" for stdin) as one JSON object within JOB_FILE_MAX, and
 * its payload's text into *payload (see job_payload). */
static json_t *load_job_file(const char *path, char **payload)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf;
	size_t n;
	json_error_t je;
	json_t *v;

	if (f == NULL)
		return cli_error(EXIT_USAGE, "cannot open '%s': %s", path,
				 strerror(errno)),
		       NULL;
	buf = malloc(JOB_FILE_MAX + 1);
	n = buf ? fread(buf, 1, JOB_FILE_MAX + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (buf == NULL || n > JOB_FILE_MAX) {
		free(buf);
		return cli_error(EXIT_USAGE, "'%s' is larger than %d bytes",
				 path, JOB_FILE_MAX),
		       NULL;
	}
	v = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL)
		cli_error(EXIT_USAGE, "%s:%d:%d: bad JSON: %s", path, je.line,
			  je.column, je.text);
	else if (!json_is_object(v))
		cli_error(EXIT_USAGE, "'%s' is not a JSON object", path);
	if (v != NULL &&
	    (!json_is_object(v) || job_payload(buf, n, v, path, payload))) {
		json_decref(v);
		v = NULL;
	}
	free(buf);
	return v;
}

/* Packs one job-file field into the request body, checking its type. */
static int pack_job_field(msgpack_packer *pk, const char *key, json_t *v,
			  const char *path, const char *payload)
{
	wfp_pack_cstr(pk, key);
	if (strcmp(key, "payload") == 0) {
		if (!json_is_object(v) || payload == NULL)
			return cli_error(EXIT_USAGE,
					 "%s: 'payload' is not an object",
					 path),
			       -1;
		wfp_pack_cstr(pk, payload);
	} else if (strcmp(key, "max_attempts") == 0 ||
		   strcmp(key, "idempotency_ttl_ms") == 0) {
		if (!json_is_integer(v))
			return cli_error(EXIT_USAGE,
					 "%s: '%s' is not an integer", path,
					 key),
			       -1;
		msgpack_pack_int64(pk, json_integer_value(v));
	} else {
		if (!json_is_string(v))
			return cli_error(EXIT_USAGE, "%s: '%s' is not a string",
					 path, key),
			       -1;
		wfp_pack_cstr(pk, json_string_value(v));
	}
	return 0;
}

/* Turns the job file into the msgpack body of a post request (payload:
 * its payload's text). */
static int job_body(json_t *job, const char *path, const char *payload,
		    msgpack_sbuffer *buf)
{
	msgpack_packer pk;
	const char *key;
	json_t *v;

	if (json_object_get(job, "name") == NULL)
		return cli_error(EXIT_USAGE, "%s: missing field 'name'", path),
		       -1;
	msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, json_object_size(job));
	json_object_foreach(job, key, v)
	{
		int ok = 0;

		for (const char *const *k = wfp_post_fields; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok)
			return cli_error(EXIT_USAGE, "%s: unknown field '%s'",
					 path, key),
			       -1;
		if (pack_job_field(&pk, key, v, path, payload) != 0)
			return -1;
	}
	return 0;
}

/* Integer field key of the job file, or def when absent. */
static int64_t job_int(json_t *job, const char *key, int64_t def)
{
	json_t *v = json_object_get(job, key);

	return v ? (int64_t)json_integer_value(v) : def;
}

/* Checks the job file (payload: its payload's text) with the library's
 * one job-document check (the board runs the same one). Call after
 * job_body has checked the types. */
static int job_check(json_t *job, const char *path, const char *payload)
{
	struct wfp_post p = {
	    json_string_value(json_object_get(job, "id")),
	    json_string_value(json_object_get(job, "name")),
	    payload,
	    job_int(job, "max_attempts", WFP_DEFAULT_MAX_ATTEMPTS),
	    json_string_value(json_object_get(job, "idempotency_key")),
	    job_int(job, "idempotency_ttl_ms", WFP_IDEM_TTL_DEFAULT_MS)};
	char err[256];
	int rc = wfp_post_check(&p, err, sizeof(err));

	if (rc != 0)
		return cli_error(EXIT_USAGE, "%s: %s", path, err), -1;
	return 0;
}

/* Prints the post reply: the id, or {id, created} with --json. */
static int post_print(const struct cli *c, const msgpack_object *reply)
{
	char id[WFP_ID_MAX], err[256];
	const msgpack_object *cr = wfp_codec_get(reply, "created");
	int64_t created = 1;

	if (wfp_codec_str(reply, "id", 1, id, sizeof(id), err, sizeof(err)))
		return cli_error(EXIT_FAIL, "bad reply: %s", err);
	/* A boolean; an integer 0/1 from a board before issue 6. */
	if (cr && cr->type == MSGPACK_OBJECT_BOOLEAN)
		created = cr->via.boolean;
	else if (wfp_codec_int(reply, "created", 0, 0, 1, &created, err,
			       sizeof(err)))
		return cli_error(EXIT_FAIL, "bad reply: %s", err);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:b}", "id", id, "state",
				      "posted", "created", (int)created);
		cli_print_json(o);
	} else {
		printf("%s\n", id);
	}
	return EXIT_OK;
}

/* Sends op/body to the job board service and prints with print. */
static int
board_request(struct cli *c, const char *op, const msgpack_sbuffer *body,
	      int (*print)(const struct cli *, const msgpack_object *))
{
	struct wfp_client *cl = cli_client(c);
	struct wfp_msg reply;
	int rc;

	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_request(cl, "jobboard", op, body->data, body->size,
			c->cfg.timeout_ms, &reply) != 0)
		return cli_failed(cl);
	rc = print(c, &reply.u.data);
	wfp_msg_destroy(&reply);
	return rc;
}

static int job_post(struct cli *c)
{
	static const char *const opts[] = {NULL};
	msgpack_sbuffer body;
	json_t *job;
	char *payload = NULL;
	int rc;

	if (cli_expect(c, 3, 3, opts, "wfp job post FILE.json") != 0)
		return EXIT_USAGE;
	job = load_job_file(c->pos[2], &payload);
	if (job == NULL)
		return EXIT_USAGE;
	msgpack_sbuffer_init(&body);
	rc = job_body(job, c->pos[2], payload, &body) != 0 ||
		     job_check(job, c->pos[2], payload) != 0
		 ? EXIT_USAGE
		 : board_request(c, "post", &body, post_print);
	msgpack_sbuffer_destroy(&body);
	json_decref(job);
	free(payload);
	return rc;
}

/* ------------------------------------------------------------------ */
/* show, list, log, wait                                               */
/* ------------------------------------------------------------------ */

json_t *cli_stream_json(struct wfp_client *cl, const struct wfp_key *key)
{
	redisReply *r =
	    wfp_client_commandf(cl, "XRANGE %s - + COUNT 1000", key->s);
	json_t *a = r ? cli_entries_json(r) : json_array();

	if (r)
		freeReplyObject(r);
	return a;
}

redisReply *cli_job_read(struct cli *c, struct wfp_client **cl)
{
	redisReply *r;

	*cl = cli_client(c);
	if (*cl == NULL)
		return NULL;
	r = wfp_job_fields(*cl, c->pos[2]);
	if (r == NULL)
		cli_error(EXIT_FAIL, "%s", wfp_client_error(*cl));
	return r;
}

/* The text form of `job show`: fields, then each redelivery. */
static void show_print(json_t *job)
{
	json_t *del = json_incref(json_object_get(job, "deliveries"));

	json_object_del(job, "deliveries");
	cli_print_fields(job, "");
	for (size_t i = 0; i < json_array_size(del); i++) {
		printf("redelivery:\n");
		cli_print_fields(json_array_get(del, i), "  ");
	}
	json_decref(del);
}

static int job_show(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	struct wfp_key dk;
	redisReply *r;
	json_t *job;

	if (cli_expect(c, 3, 3, opts, "wfp job show ID") != 0 ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	r = cli_job_read(c, &cl);
	if (r == NULL)
		return EXIT_FAIL;
	job = cli_fields_json(r);
	freeReplyObject(r);
	/* The owner's secret is not shown, nor the answer a transfer
	 * remembered in the job before answers moved to their own keys: it
	 * held the token too. */
	json_object_del(job, "token");
	json_object_del(job, "op_reply");
	json_object_del(job, "op_request");
	dk = wfp_key_deliveries(wfp_client_tag(cl), c->pos[2]);
	json_object_set_new(job, "deliveries", cli_stream_json(cl, &dk));
	return cli_emit(c, job, show_print);
}

/* Appends the summary of job id to list (skipping vanished jobs). */
static void list_add(struct wfp_client *cl, const char *id, json_t *list)
{
	struct wfp_key k = wfp_key_job(wfp_client_tag(cl), id);
	redisReply *r = wfp_client_commandf(
	    cl, "HMGET %s id state owner attempts max_attempts name updated_at",
	    k.s);
	static const char *const names[] = {
	    "id",	    "state", "owner",	  "attempts",
	    "max_attempts", "name",  "updated_at"};
	json_t *o;

	if (r == NULL || r->elements != 7 || r->element[0]->str == NULL) {
		if (r)
			freeReplyObject(r);
		return;
	}
	o = json_object();
	for (int i = 0; i < 7; i++) {
		const redisReply *e = r->element[i];
		const char *s = e->str ? e->str : "";
		char what[32];
		int64_t n;

		snprintf(what, sizeof(what), "field '%s'", names[i]);
		if (i == 3 || i == 4 || i == 6)
			json_object_set_new(o, names[i],
					    wfp_parse_i64(s, &n) == 0
						? json_integer(n)
						: json_null());
		else
			json_object_set_new(o, names[i],
					    cli_json_lossy(s,
							   e->str ? e->len : 0,
							   what, id, o));
	}
	json_array_append_new(list, o);
	freeReplyObject(r);
}

/* Adds up to limit jobs of one state to list, oldest change first. */
static int list_state(struct wfp_client *cl, const char *state, long long limit,
		      json_t *list)
{
	struct wfp_key idx = wfp_key_index(wfp_client_tag(cl), state);
	redisReply *r =
	    wfp_client_commandf(cl, "ZRANGE %s 0 %lld", idx.s, limit - 1);

	if (r == NULL)
		return -1;
	for (size_t i = 0; i < r->elements; i++)
		list_add(cl, r->element[i]->str, list);
	freeReplyObject(r);
	return 0;
}

static void list_print(json_t *list)
{
	printf("%-18s %-10s %-20s %-8s %s\n", "ID", "STATE", "OWNER",
	       "ATTEMPTS", "NAME");
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *o = json_array_get(list, i);

		printf("%-18s %-10s %-20s %lld/%-6lld %s\n",
		       json_string_value(json_object_get(o, "id")),
		       json_string_value(json_object_get(o, "state")),
		       json_string_value(json_object_get(o, "owner")),
		       json_integer_value(json_object_get(o, "attempts")),
		       json_integer_value(json_object_get(o, "max_attempts")),
		       json_string_value(json_object_get(o, "name")));
	}
}

static int job_list(struct cli *c)
{
	static const char *const opts[] = {"state", "limit", NULL};
	const char *state = cli_opt(c, "state");
	long long limit = 100;
	enum wfp_job_state st;
	struct wfp_client *cl;
	json_t *list;

	if (cli_expect(c, 2, 2, opts, "wfp job list [--state S] [--limit N]") ||
	    cli_opt_int(c, "limit", 1, LIST_LIMIT_MAX, &limit))
		return EXIT_USAGE;
	if (state && wfp_job_state_parse(state, &st) != 0)
		return cli_error(EXIT_USAGE,
				 "unknown state '%s' (posted, claimed, "
				 "completed, reverted, failed, dead)",
				 state);
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	list = json_array();
	for (int s = 0; s < WFP_JOB_STATE_COUNT; s++) {
		long long left = limit - (long long)json_array_size(list);

		if ((state && s != (int)st) || left <= 0)
			continue;
		if (list_state(cl, wfp_job_state_name(s), left, list) != 0) {
			json_decref(list);
			return cli_failed(cl);
		}
	}
	return cli_emit(c, list, list_print);
}

/* Prints "ID STATE", or {id, state} with --json, for job pos[2]. */
static void print_id_state(const struct cli *c, const char *state)
{
	if (c->json)
		cli_print_json(
		    json_pack("{s:s, s:s}", "id", c->pos[2], "state", state));
	else
		printf("%s %s\n", c->pos[2], state);
}

int cli_job_field(struct wfp_client *cl, const char *id, const char *field,
		  char *out, size_t n)
{
	struct wfp_key k = wfp_key_job(wfp_client_tag(cl), id);
	redisReply *r = wfp_client_commandf(cl, "HGET %s %s", k.s, field);

	if (r == NULL)
		return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)), -1;
	if (r->str == NULL) {
		freeReplyObject(r);
		return cli_error(EXIT_FAIL, "NOJOB job %s does not exist", id),
		       -1;
	}
	wfp_strlcpy(out, r->str, n);
	freeReplyObject(r);
	return 0;
}

static int job_wait(struct cli *c)
{
	static const char *const opts[] = {"timeout", NULL};
	long long timeout = WAIT_TIMEOUT_DEFAULT;
	struct wfp_client *cl;
	char state[32];
	enum wfp_job_state st;
	int64_t deadline;

	if (cli_expect(c, 3, 3, opts, "wfp job wait ID [--timeout MS]") ||
	    cli_opt_int(c, "timeout", 0, CLI_TIMEOUT_MAX_MS, &timeout) ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	deadline = wfp_now_ms() + timeout;
	for (;;) {
		if (cli_job_field(cl, c->pos[2], "state", state,
				  sizeof(state)) != 0)
			return EXIT_FAIL;
		if (wfp_job_state_parse(state, &st) == 0 &&
		    wfp_job_state_final(st))
			break;
		if (wfp_now_ms() >= deadline)
			return cli_error(EXIT_NOTHING,
					 "job %s still %s after %lld ms",
					 c->pos[2], state, timeout);
		wfp_sleep_ms(WAIT_POLL_MS);
	}
	print_id_state(c, state);
	return st == WFP_JOB_COMPLETED ? EXIT_OK : EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* transfer, repost                                                    */
/* ------------------------------------------------------------------ */

static int transfer_print(const struct cli *c, const msgpack_object *reply)
{
	char state[32] = "", owner[WFP_NAME_MAX] = "",
	     token[WFP_TOKEN_MAX] = "";
	char err[256];
	int64_t fence = 0;

	wfp_codec_str(reply, "state", 0, state, sizeof(state), err,
		      sizeof(err));
	wfp_codec_str(reply, "owner", 0, owner, sizeof(owner), err,
		      sizeof(err));
	wfp_codec_str(reply, "token", 0, token, sizeof(token), err,
		      sizeof(err));
	wfp_codec_int(reply, "fence", 0, 0, INT64_MAX, &fence, err,
		      sizeof(err));
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:I}", "id",
					 c->pos[2], "state", state, "owner",
					 owner, "token", token, "fence",
					 (json_int_t)fence));
	else
		printf("%s %s %s %s %lld\n", c->pos[2], state,
		       owner[0] ? owner : "-", token[0] ? token : "-",
		       (long long)fence);
	return EXIT_OK;
}

static int state_print(const struct cli *c, const msgpack_object *reply)
{
	char state[32] = "", err[256];

	wfp_codec_str(reply, "state", 0, state, sizeof(state), err,
		      sizeof(err));
	print_id_state(c, state);
	return EXIT_OK;
}

/* transfer ID --to OWNER | --board, and repost ID. */
static int job_move(struct cli *c, int is_transfer)
{
	static const char *const topts[] = {"to", "board", NULL};
	static const char *const ropts[] = {NULL};
	const char *to = cli_opt(c, "to");
	msgpack_sbuffer body;
	msgpack_packer pk;
	int rc;

	if (cli_expect(c, 3, 3, is_transfer ? topts : ropts,
		       is_transfer ? "wfp job transfer ID --to OWNER | --board"
				   : "wfp job repost ID") ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	if (is_transfer && (to == NULL) == !cli_switch(c, "board"))
		return cli_error(EXIT_USAGE,
				 "give exactly one of --to OWNER or --board");
	if (check_text_opt(c, "to", "transfer target") != 0)
		return EXIT_USAGE;
	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, is_transfer ? 2 : 1);
	wfp_pack_kv(&pk, "id", c->pos[2]);
	if (is_transfer)
		wfp_pack_kv(&pk, "to", to ? to : "");
	rc = board_request(c, is_transfer ? "transfer" : "repost", &body,
			   is_transfer ? transfer_print : state_print);
	msgpack_sbuffer_destroy(&body);
	return rc;
}

/* cancel ID [--reason R]: "ID reverted" when it was reverted at once,
 * "ID cancel requested" when its executor is to roll it back. */
static int job_cancel(struct cli *c)
{
	static const char *const opts[] = {"reason", NULL};
	const char *reason = cli_opt(c, "reason");
	struct wfp_client *cl;
	char state[16], err[256];

	if (cli_expect(c, 3, 3, opts, "wfp job cancel ID [--reason TEXT]") ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	if (reason && reason[0] &&
	    wfp_check_text("reason", reason, WFP_CANCEL_REASON_MAX, err,
			   sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "--reason: %s", err);
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_job_cancel(cl, c->pos[2], reason, state) != 0)
		return cli_failed(cl);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:b}", "id", c->pos[2],
					 "state", state, "cancel_requested",
					 strcmp(state, "reverted") != 0));
	else if (strcmp(state, "reverted") == 0)
		printf("%s reverted\n", c->pos[2]);
	else
		printf("%s cancel requested\n", c->pos[2]);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* claim, heartbeat, complete, fail                                    */
/* ------------------------------------------------------------------ */

/* One claim as JSON; a name or payload that cannot be encoded is
 * recorded as an output failure (see cli_output_error). */
static json_t *claim_json(const struct wfp_claim *w)
{
	json_t *payload = json_loads(w->payload, 0, NULL);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "id", w->id, "state",
		      "claimed", "token", w->token, "fence",
		      (json_int_t)w->fence, "attempts", (json_int_t)w->attempts,
		      "max_attempts", (json_int_t)w->max_attempts);

	if (o == NULL)
		return NULL;
	json_object_set_new(
	    o, "name",
	    cli_json_str(w->name, strlen(w->name), "field 'name'", w->id));
	if (payload == NULL)
		cli_output_fail("payload of '%s' is not valid JSON", w->id);
	json_object_set_new(o, "payload", payload);
	return o;
}

/* Prints n claims (one object with --json and count 1, else an array, or
 * text lines). Returns 0, or -1 when the output failed (recorded). */
static int claim_print(const struct cli *c, const struct wfp_claim *got, int n,
		       long long count)
{
	if (c->json && count == 1) {
		cli_print_json(claim_json(&got[0]));
	} else if (c->json) {
		json_t *a = json_array();

		for (int i = 0; i < n; i++)
			json_array_append_new(a, claim_json(&got[i]));
		cli_print_json(a);
	} else {
		for (int i = 0; i < n; i++)
			printf("%s %s %lld %lld %s\n", got[i].id, got[i].token,
			       (long long)got[i].fence,
			       (long long)got[i].attempts, got[i].name);
	}
	return cli_output_flush();
}

/* How cli/json.c's output failures start when stdout could not be
 * written (as opposed to a value that could not be encoded). */
#define CLI_WRITE_ERROR "cannot write to stdout"

/*
 * Claims that could not be printed would be lost to their caller (who
 * never saw the tokens) until their leases end: hand each back at once,
 * with the reason. When stdout could not be written (the consumer's disk
 * is full) the attempt is not counted (WFP_OP_RELEASE): the job is posted
 * again whatever its attempts. When the job itself could not be encoded
 * the attempt is failed (WFP_OP_RETRY), so an unprintable job goes dead
 * after its last attempt. Prints one line and returns EXIT_FAIL.
 */
static int claims_hand_back(struct wfp_client *cl, const struct wfp_claim *got,
			    int n)
{
	char reason[WFP_REASON_MAX], state[16] = "", more[512];
	const char *why = cli_output_error();
	int release =
	    strncmp(why, CLI_WRITE_ERROR, strlen(CLI_WRITE_ERROR)) == 0;
	enum wfp_job_op op = release ? WFP_OP_RELEASE : WFP_OP_RETRY;
	const char *done = release ? "released" : "failed";
	int back = 0;

	snprintf(reason, sizeof(reason), "the claim could not be printed: %s",
		 why);
	for (int i = 0; i < n; i++) {
		if (wfp_job_finish(cl, got[i].id, got[i].token, got[i].fence,
				   op, reason, state) == 0)
			back++;
	}
	if (n == 1 && back == 1)
		snprintf(more, sizeof(more),
			 "the attempt of job %s was %s and handed back "
			 "(now %s)",
			 got[0].id, done, state);
	else
		snprintf(more, sizeof(more),
			 "%d of %d claimed jobs %s and handed back%s%s", back,
			 n, done, back < n ? ": " : "",
			 back < n ? wfp_client_error(cl) : "");
	return cli_output_report(more);
}

static int job_claim(struct cli *c)
{
	static const char *const opts[] = {"owner", "wait", "count", NULL};
	const char *owner = cli_opt(c, "owner");
	long long wait = 0, count = 1;
	struct wfp_claim got[WFP_CLAIM_BATCH_MAX];
	struct wfp_client *cl;
	int n = 0, rc;

	if (cli_expect(c, 2, 2, opts,
		       "wfp job claim --owner NAME [--wait MS] [--count N]") ||
	    cli_opt_int(c, "wait", 0, CLAIM_WAIT_MAX_MS, &wait) ||
	    cli_opt_int(c, "count", 1, WFP_CLAIM_BATCH_MAX, &count))
		return EXIT_USAGE;
	if (owner == NULL)
		return cli_error(EXIT_USAGE, "missing --owner NAME");
	if (check_text_opt(c, "owner", "owner") != 0)
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_job_claim(cl, owner, (int)count, c->cfg.visibility_ms, wait,
			  got, &n))
		return cli_failed(cl);
	if (n == 0)
		return cli_error(EXIT_NOTHING, "no job to claim within %lld ms",
				 wait);
	rc = claim_print(c, got, n, count) == 0 ? EXIT_OK
						: claims_hand_back(cl, got, n);
	wfp_claims_release(got, n);
	return rc;
}

static int job_heartbeat(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	int64_t lease = 0;

	if (cli_expect(c, 4, 4, opts, "wfp job heartbeat ID TOKEN") != 0 ||
	    cli_check_job_id(c, 1) != 0)
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_job_heartbeat(cl, c->pos[2], c->pos[3], c->cfg.visibility_ms,
			      &lease))
		return cli_failed(cl);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:I}", "id", c->pos[2],
					 "state", "claimed", "lease_until",
					 (json_int_t)lease));
	else
		printf("%s lease until %lld\n", c->pos[2], (long long)lease);
	return EXIT_OK;
}

/* complete ID TOKEN [--fence F] and fail ID TOKEN --reason R [--final S]. */
static int job_finish(struct cli *c, int is_fail)
{
	static const char *const copts[] = {"fence", NULL};
	static const char *const fopts[] = {"fence", "reason", "final", NULL};
	const char *reason = cli_opt(c, "reason");
	const char *final = cli_opt(c, "final");
	enum wfp_job_op op = is_fail ? WFP_OP_RETRY : WFP_OP_COMPLETE;
	long long fence = 0;
	struct wfp_client *cl;
	char state[16], err[256];

	if (cli_expect(c, 4, 4, is_fail ? fopts : copts,
		       is_fail ? "wfp job fail ID TOKEN --reason TEXT [--final "
				 "reverted|failed]"
			       : "wfp job complete ID TOKEN [--fence F]") ||
	    cli_opt_int(c, "fence", 1, WFP_FENCE_MAX, &fence) ||
	    cli_check_job_id(c, 1) != 0)
		return EXIT_USAGE;
	if (is_fail && (reason == NULL || reason[0] == '\0'))
		return cli_error(EXIT_USAGE, "missing --reason TEXT");
	if (is_fail && wfp_check_reason(reason, err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "--reason: %s", err);
	if (final && strcmp(final, "reverted") == 0)
		op = WFP_OP_REVERT;
	else if (final && strcmp(final, "failed") == 0)
		op = WFP_OP_FAIL;
	else if (final)
		return cli_error(EXIT_USAGE,
				 "--final: '%s' is not reverted or failed",
				 final);
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_job_finish(cl, c->pos[2], c->pos[3], fence, op, reason, state))
		return cli_failed(cl);
	print_id_state(c, state);
	return EXIT_OK;
}

int cmd_job(struct cli *c)
{
	const char *verb = c->npos > 1 ? c->pos[1] : "";

	if (strcmp(verb, "post") == 0)
		return job_post(c);
	if (strcmp(verb, "show") == 0)
		return job_show(c);
	if (strcmp(verb, "list") == 0)
		return job_list(c);
	if (strcmp(verb, "log") == 0)
		return cli_job_log(c);
	if (strcmp(verb, "wait") == 0)
		return job_wait(c);
	if (strcmp(verb, "watch") == 0)
		return cli_job_watch(c);
	if (strcmp(verb, "transfer") == 0 || strcmp(verb, "repost") == 0)
		return job_move(c, verb[0] == 't');
	if (strcmp(verb, "cancel") == 0)
		return job_cancel(c);
	if (strcmp(verb, "claim") == 0)
		return job_claim(c);
	if (strcmp(verb, "heartbeat") == 0)
		return job_heartbeat(c);
	if (strcmp(verb, "complete") == 0 || strcmp(verb, "fail") == 0)
		return job_finish(c, verb[0] == 'f');
	return cli_error(EXIT_USAGE,
			 "unknown verb 'job %s' (try: wfp job --help)", verb);
}
