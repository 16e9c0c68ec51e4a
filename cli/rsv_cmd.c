/* rsv_cmd.c - `wfp rsv ...`: reservations of pool capacity, fulfilled and
 * torn down by wfp-reservation's jobs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rsv_phase.h"
#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/rsv.h"
#include "wfp/util.h"

#define RSV_WAIT_DEFAULT_MS  3600000LL /* create/release --timeout */
#define RSV_LIST_MAX	     10000     /* list --limit */
#define RSV_LIST_DEFAULT     100
#define RSV_TEXT_WIDTH	     200 /* characters of a value in a text form */
#define RSV_STATE_MAX	     16
#define RSV_LIST_ERROR_WIDTH 80 /* characters of an error in `rsv list` */
#define RSV_COL_MAX	     32 /* SUB, POOL, CLASS columns of `rsv show` */

const char *const cli_rsv_states[] = {"pending",  "active",  "failed",
				      "released", "expired", NULL};

/* ------------------------------------------------------------------ */
/* Shared parts                                                        */
/* ------------------------------------------------------------------ */

/* Checks the reservation id at pos[2]. Returns 0, or prints why and
 * returns -1. */
static int check_rsv_id(const char *id)
{
	char err[256];

	if (wfp_rsv_check_id(id, err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "%s", err), -1;
	return 0;
}

/* Reads --timeout (only with --wait) into *timeout. Returns 0, or prints
 * why and returns -1. */
static int wait_opts(const struct cli *c, long long *timeout)
{
	*timeout = RSV_WAIT_DEFAULT_MS;
	if (cli_opt(c, "timeout") && !cli_switch(c, "wait"))
		return cli_error(EXIT_USAGE, "--timeout goes with --wait"), -1;
	return cli_opt_int(c, "timeout", 0, CLI_TIMEOUT_MAX_MS, timeout);
}

/* The events stream's newest entry into out when waiting, so that a
 * follow after the request misses no event. Returns 0, or -1 (printed). */
static int events_mark(struct cli *c, char *out, size_t n)
{
	struct wfp_client *cl = cli_client(c);
	struct wfp_key ev;

	wfp_strlcpy(out, "0-0", n);
	if (!cli_switch(c, "wait"))
		return 0;
	if (cl == NULL)
		return -1;
	ev = wfp_key_events(wfp_client_tag(cl));
	return cli_stream_last(cl, &ev, out, n);
}

/* Sends op with body to wfp-reservation; the reply in *reply (destroy it
 * after a 0 return). Returns 0, or the exit status after printing why. */
static int rsv_call(struct cli *c, const char *op, msgpack_sbuffer *body,
		    struct wfp_msg *reply)
{
	struct wfp_client *cl = cli_client(c);

	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_request(cl, CLI_RSV_SERVICE, op, body->data, body->size,
			c->cfg.timeout_ms, reply) != 0)
		return cli_failed(cl);
	return 0;
}

/* ------------------------------------------------------------------ */
/* create                                                              */
/* ------------------------------------------------------------------ */

/* Reads FILE ("-" for stdin) of at most WFP_RSV_FILE_MAX bytes into a
 * malloc'd NUL-terminated buffer (*len bytes). NULL after printing why. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf;
	int err;

	if (f == NULL)
		return cli_error(EXIT_USAGE, "cannot open '%s': %s", path,
				 strerror(errno)),
		       NULL;
	buf = malloc(WFP_RSV_FILE_MAX + 2);
	*len = buf ? fread(buf, 1, WFP_RSV_FILE_MAX + 1, f) : 0;
	err = ferror(f) ? errno : 0; /* a folder: EISDIR */
	if (f != stdin)
		fclose(f);
	if (buf == NULL)
		return cli_error(EXIT_FAIL, "out of memory"), NULL;
	if (err != 0) {
		free(buf);
		return cli_error(EXIT_USAGE, "cannot read '%s': %s", path,
				 strerror(err)),
		       NULL;
	}
	if (*len > WFP_RSV_FILE_MAX) {
		free(buf);
		return cli_error(EXIT_USAGE,
				 "'%s' is larger than %d bytes "
				 "(WFP_RSV_FILE_MAX)",
				 path, WFP_RSV_FILE_MAX),
		       NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* Checks the reservation file text by the library's one parser (the
 * service runs the same). Returns 0, or prints why and returns -1. */
static int check_file(const char *path, const char *text, size_t len)
{
	struct wfp_rsv *r = NULL;
	char err[512];

	if (wfp_rsv_parse(text, len, &r, err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "%s: %s", path, err), -1;
	wfp_rsv_free(r);
	return 0;
}

/* The id of a new reservation: --id, or "r" and 16 random hex digits.
 * Returns 0, or prints why and returns -1. */
static int new_id(const struct cli *c, char *out, size_t n)
{
	const char *id = cli_opt(c, "id");
	char hex[17];

	if (id != NULL) {
		if (check_rsv_id(id) != 0)
			return -1;
		wfp_strlcpy(out, id, n);
		return 0;
	}
	if (wfp_random_hex(hex, 8) != 0)
		return cli_error(EXIT_FAIL, "no randomness for an id"), -1;
	snprintf(out, n, "r%s", hex);
	return 0;
}

/* Prints the create reply: the id, or {id, state, job, created}; the
 * job's id into job. Returns 0, or the status after printing why. */
static int create_print(const struct cli *c, const msgpack_object *reply,
			char *job, size_t jobn)
{
	char id[WFP_RSV_ID_MAX], state[RSV_STATE_MAX] = "pending", err[256];
	const msgpack_object *cr = wfp_codec_get(reply, "created");

	if (wfp_codec_str(reply, "id", 1, id, sizeof(id), err, sizeof(err)) ||
	    wfp_codec_str(reply, "job", 1, job, jobn, err, sizeof(err)) ||
	    wfp_codec_str(reply, "state", 0, state, sizeof(state), err,
			  sizeof(err)))
		return cli_error(EXIT_FAIL, "bad reply: %s", err);
	if (c->json)
		cli_print_json(
		    json_pack("{s:s, s:s, s:s, s:b}", "id", id, "state", state,
			      "job", job, "created",
			      cr && cr->type == MSGPACK_OBJECT_BOOLEAN &&
				  cr->via.boolean));
	else
		printf("%s\n", id);
	return cli_output_flush() == 0 ? 0 : EXIT_FAIL;
}

/* Sends the create request (id, file) and prints the reply; the job's id
 * into job. Returns 0, or the status after printing why. */
static int create_send(struct cli *c, const char *id, const char *text,
		       size_t len, char *job, size_t jobn)
{
	msgpack_sbuffer body;
	msgpack_packer pk;
	struct wfp_msg reply;
	int rc;

	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	wfp_pack_kv(&pk, "id", id);
	wfp_pack_cstr(&pk, "file");
	msgpack_pack_str(&pk, len);
	msgpack_pack_str_body(&pk, text, len);
	rc = rsv_call(c, "create", &body, &reply);
	msgpack_sbuffer_destroy(&body);
	if (rc != 0)
		return rc;
	rc = create_print(c, &reply.u.data, job, jobn);
	wfp_msg_destroy(&reply);
	return rc;
}

/* create FILE.json [--id ID] [--wait [--timeout MS]]: checks the file,
 * asks wfp-reservation to create it, prints the id; --wait follows it
 * until active (exit 0), failed or expired (1). */
static int rsv_create(struct cli *c)
{
	static const char *const opts[] = {"id", "wait", "timeout", NULL};
	char id[WFP_RSV_ID_MAX], job[WFP_ID_MAX], mark[64];
	long long timeout;
	size_t len;
	char *text;
	int rc;

	if (cli_expect(c, 3, 3, opts,
		       "wfp rsv create FILE.json [--id ID] [--wait] "
		       "[--timeout MS]") ||
	    wait_opts(c, &timeout))
		return EXIT_USAGE;
	if (new_id(c, id, sizeof(id)) != 0)
		return cli_opt(c, "id") ? EXIT_USAGE : EXIT_FAIL;
	text = read_file(c->pos[2], &len);
	if (text == NULL)
		return EXIT_USAGE;
	if (check_file(c->pos[2], text, len) != 0) {
		free(text);
		return EXIT_USAGE;
	}
	rc = events_mark(c, mark, sizeof(mark)) != 0
		 ? EXIT_FAIL
		 : create_send(c, id, text, len, job, sizeof(job));
	free(text);
	if (rc != 0 || !cli_switch(c, "wait"))
		return rc;
	return rsv_follow(c, cli_client(c), id, RSV_UNTIL_ACTIVE, job, mark,
			  timeout);
}

/* ------------------------------------------------------------------ */
/* release                                                             */
/* ------------------------------------------------------------------ */

/* Prints the release reply: "ID STATE: ACTION JOB", or {id, state, job,
 * action}; its job and action into job and action. Returns 0, or the
 * status after printing why. */
static int release_print(const struct cli *c, const msgpack_object *reply,
			 char *job, size_t jobn, char *action, size_t an)
{
	char id[WFP_RSV_ID_MAX], state[RSV_STATE_MAX] = "", err[256];

	job[0] = '\0';
	if (wfp_codec_str(reply, "id", 1, id, sizeof(id), err, sizeof(err)) ||
	    wfp_codec_str(reply, "state", 1, state, sizeof(state), err,
			  sizeof(err)) ||
	    wfp_codec_str(reply, "job", 0, job, jobn, err, sizeof(err)) ||
	    wfp_codec_str(reply, "action", 1, action, an, err, sizeof(err)))
		return cli_error(EXIT_FAIL, "bad reply: %s", err);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "id", id,
					 "state", state, "job", job, "action",
					 action));
	else if (strcmp(action, "cancelling") == 0)
		printf("%s %s: cancelling %s\n", id, state, job);
	else
		printf("%s %s: teardown %s %s\n", id, state, job, action);
	return cli_output_flush() == 0 ? 0 : EXIT_FAIL;
}

/* release ID [--wait [--timeout MS]]: tears an active reservation down
 * (or cancels a pending one); --wait follows it until released. */
static int rsv_release(struct cli *c)
{
	static const char *const opts[] = {"wait", "timeout", NULL};
	char job[WFP_ID_MAX], action[16], mark[64];
	struct wfp_msg reply;
	msgpack_sbuffer body;
	msgpack_packer pk;
	long long timeout;
	int rc;

	if (cli_expect(c, 3, 3, opts,
		       "wfp rsv release ID [--wait] [--timeout MS]") ||
	    wait_opts(c, &timeout) || check_rsv_id(c->pos[2]))
		return EXIT_USAGE;
	if (events_mark(c, mark, sizeof(mark)) != 0)
		return EXIT_FAIL;
	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	wfp_pack_kv(&pk, "id", c->pos[2]);
	rc = rsv_call(c, "release", &body, &reply);
	msgpack_sbuffer_destroy(&body);
	if (rc != 0)
		return rc;
	rc = release_print(c, &reply.u.data, job, sizeof(job), action,
			   sizeof(action));
	wfp_msg_destroy(&reply);
	if (rc != 0 || !cli_switch(c, "wait"))
		return rc;
	return rsv_follow(c, cli_client(c), c->pos[2],
			  strcmp(action, "cancelling") == 0
			      ? RSV_UNTIL_CANCELLED
			      : RSV_UNTIL_RELEASED,
			  job, mark, timeout);
}

/* ------------------------------------------------------------------ */
/* show                                                                */
/* ------------------------------------------------------------------ */

/* Fields of the rsv hash `show` gives, with whether each is a number. */
static const struct {
	const char *name;
	int number;
} show_fields[] = {
    {"id", 0},	       {"name", 0},	   {"state", 0},
    {"job", 0},	       {"release_job", 0}, {"created_at", 1},
    {"updated_at", 1}, {"expires_at", 1},  {"ttl_ms", 1},
    {"releases", 1},   {"returned_at", 1}, {"ended_at", 1},
    {"error", 0},
};

/* The show_fields of the hash (flat) as JSON: absent ones null (a
 * string "" for id..release_job and error); a value that is not valid
 * UTF-8 is recorded as an output failure. */
static json_t *show_head(const redisReply *flat, const char *id)
{
	json_t *o = json_object();

	for (size_t i = 0; i < sizeof(show_fields) / sizeof(show_fields[0]);
	     i++) {
		const char *k = show_fields[i].name;
		const redisReply *v = cli_flat_get(flat, k);
		char what[64];
		int64_t n;

		snprintf(what, sizeof(what), "field '%s'", k);
		if (show_fields[i].number)
			json_object_set_new(o, k,
					    v && wfp_parse_i64(v->str, &n) == 0
						? json_integer(n)
						: json_null());
		else
			json_object_set_new(o, k,
					    cli_json_str(v ? v->str : "",
							 v ? v->len : 0, what,
							 id));
	}
	return o;
}

/* The pools the reservation takes ([{pool, amount}], from the plan). */
static json_t *show_pools(const struct wfp_rsv *plan)
{
	json_t *a = json_array();

	for (int i = 0; i < plan->nneeds; i++)
		json_array_append_new(
		    a, json_pack("{s:s, s:I}", "pool", plan->needs[i].pool,
				 "amount", (json_int_t)plan->needs[i].amount));
	return a;
}

/* The items' phases: from the jobs' logs while every job exists, else
 * from the hash (flat). *from gets "logs" or "hash". Returns the states
 * (free with wfp_rsv_progress_free), or NULL after printing why. */
static struct wfp_rsv_item_state *show_phases(struct wfp_client *cl,
					      const struct wfp_rsv *plan,
					      const redisReply *flat,
					      const char *id, const char **from)
{
	const redisReply *rel = cli_flat_get(flat, "releases");
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(plan);
	int64_t releases = 0;
	int live;

	if (st == NULL)
		return cli_error(EXIT_FAIL, "out of memory"), NULL;
	if (rel && (wfp_parse_i64(rel->str, &releases) != 0 || releases < 0))
		releases = 0;
	live = rsv_phases_from_logs(cl, plan, st, id, releases);
	if (live < 0) {
		wfp_rsv_progress_free(plan, st);
		return NULL;
	}
	*from = live ? "logs" : "hash";
	if (live)
		return st;
	wfp_rsv_progress_free(plan, st); /* a partial count: start again */
	st = wfp_rsv_progress_new(plan);
	if (st == NULL)
		return cli_error(EXIT_FAIL, "out of memory"), NULL;
	rsv_phases_from_hash(plan, st, flat);
	return st;
}

/* Prints one "name value" line, the value cut to RSV_TEXT_WIDTH
 * characters with controls as spaces; "-" for "" or null. */
static void text_field(const char *k, json_t *v)
{
	char cut[4 * RSV_TEXT_WIDTH + 8], num[24];
	const char *s = json_string_value(v);

	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(v));
		s = num;
	}
	cli_text_cut(s && s[0] ? s : "-", RSV_TEXT_WIDTH, cut, sizeof(cut));
	printf("%-15s %s\n", k, cut);
}

/* The widest amount of items as decimal text (at least 6, "AMOUNT"). */
static int amount_width(json_t *items)
{
	json_t *it;
	size_t i;
	int w = 6;

	json_array_foreach(items, i, it)
	{
		char num[24];
		int n = snprintf(num, sizeof(num), "%lld",
				 (long long)json_integer_value(
				     json_object_get(it, "amount")));

		w = n > w ? n : w;
	}
	return w;
}

/* The items table of `rsv show`: columns as wide as their widest value
 * (SUB, POOL, CLASS cut at RSV_COL_MAX), AMOUNT right-aligned. */
static void show_items(json_t *items)
{
	int w = cli_column_width(items, "name", 4, WFP_RSV_ITEM_NAME_MAX - 1);
	int sw = cli_column_width(items, "sub", 3, RSV_COL_MAX);
	int pw = cli_column_width(items, "pool", 4, RSV_COL_MAX);
	int cw = cli_column_width(items, "class", 5, RSV_COL_MAX);
	int aw = amount_width(items);
	json_t *it;
	size_t i;

	printf("%-*s %-*s %-*s %*s %-*s %s\n", w, "ITEM", sw, "SUB", pw, "POOL",
	       aw, "AMOUNT", cw, "CLASS", "STATE");
	json_array_foreach(items, i, it)
	{
		char sub[4 * RSV_COL_MAX + 8], pool[4 * RSV_COL_MAX + 8];
		char cls[4 * RSV_COL_MAX + 8];
		const char *sv = cli_jstr(it, "sub");

		cli_text_cut(sv[0] ? sv : "-", sw, sub, sizeof(sub));
		cli_text_cut(cli_jstr(it, "pool"), pw, pool, sizeof(pool));
		cli_text_cut(cli_jstr(it, "class"), cw, cls, sizeof(cls));
		printf("%-*s %-*s %-*s %*lld %-*s %s\n", w,
		       cli_jstr(it, "name"), sw, sub, pw, pool, aw,
		       (long long)json_integer_value(
			   json_object_get(it, "amount")),
		       cw, cls, cli_jstr(it, "text"));
	}
}

/* The text form of `rsv show`: fields (expires_at only while pending,
 * the time by which it must be fulfilled, and once expired), pools, then one
 * row per item. */
static void show_print(json_t *o)
{
	json_t *items = json_object_get(o, "items"), *p;
	int pending = strcmp(cli_jstr(o, "state"), "pending") == 0 ||
		      strcmp(cli_jstr(o, "state"), "expired") == 0;
	size_t i;

	for (size_t f = 0; f < sizeof(show_fields) / sizeof(show_fields[0]);
	     f++) {
		if (!pending && strcmp(show_fields[f].name, "expires_at") == 0)
			continue;
		text_field(show_fields[f].name,
			   json_object_get(o, show_fields[f].name));
	}
	text_field("phases from", json_object_get(o, "phases_from"));
	json_array_foreach(json_object_get(o, "pools"), i, p)
	{
		printf("%-15s %s %lld\n", i ? "" : "pools", cli_jstr(p, "pool"),
		       (long long)json_integer_value(
			   json_object_get(p, "amount")));
	}
	show_items(items);
}

/* The show object of reservation id from its hash (flat). NULL after
 * printing why. */
static json_t *show_json(struct wfp_client *cl, const redisReply *flat,
			 const char *id, int json)
{
	const redisReply *pt = cli_flat_get(flat, "plan");
	struct wfp_rsv_item_state *st;
	struct wfp_rsv *plan = NULL;
	const char *from = "hash";
	char err[512];
	json_t *o, *items;

	if (pt == NULL)
		return cli_error(EXIT_FAIL, "reservation '%s' has no plan", id),
		       NULL;
	if (wfp_rsv_plan_parse(pt->str, pt->len, &plan, err, sizeof(err)))
		return cli_error(EXIT_FAIL, "plan of reservation '%s': %s", id,
				 err),
		       NULL;
	st = show_phases(cl, plan, flat, id, &from);
	if (st == NULL) {
		wfp_rsv_free(plan);
		return NULL;
	}
	o = show_head(flat, id);
	json_object_set_new(o, "phases_from", json_string(from));
	json_object_set_new(o, "pools", show_pools(plan));
	items = json_array();
	for (int i = 0; i < plan->nitems; i++) {
		json_t *it = rsv_item_json(plan, st, i);
		char text[192];

		rsv_item_text(&st[i], text, sizeof(text));
		if (!json)
			json_object_set_new(it, "text", json_string(text));
		json_array_append_new(items, it);
	}
	json_object_set_new(o, "items", items);
	wfp_rsv_progress_free(plan, st);
	wfp_rsv_free(plan);
	return o;
}

/* show ID: the reservation's fields, its pools and each item's phase. */
static int rsv_show(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct wfp_client *cl;
	struct wfp_key k;
	redisReply *r;
	json_t *o;

	if (cli_expect(c, 3, 3, opts, "wfp rsv show ID") ||
	    check_rsv_id(c->pos[2]))
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	k = wfp_key_rsv(wfp_client_tag(cl), c->pos[2]);
	r = wfp_client_commandf(cl, "HGETALL %s", k.s);
	if (r == NULL)
		return cli_failed(cl);
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		freeReplyObject(r);
		return cli_error(EXIT_FAIL,
				 "NORSV reservation '%s' does not exist",
				 c->pos[2]);
	}
	o = show_json(cl, r, c->pos[2], c->json);
	freeReplyObject(r);
	if (o == NULL)
		return EXIT_FAIL;
	return cli_emit(c, o, show_print);
}

/* ------------------------------------------------------------------ */
/* list                                                                */
/* ------------------------------------------------------------------ */

/* Appends reservation id's summary to list (a vanished one is skipped).
 * Returns 0, or -1 with the client's error. */
static int list_add(struct wfp_client *cl, const char *id, json_t *list)
{
	static const char *const names[] = {
	    "id",	  "name",	"state", "created_at",
	    "updated_at", "expires_at", "error"};
	struct wfp_key k = wfp_key_rsv(wfp_client_tag(cl), id);
	redisReply *r = wfp_client_commandf(
	    cl, "HMGET %s id name state created_at updated_at expires_at error",
	    k.s);
	json_t *o;

	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 7 ||
	    r->element[2]->str == NULL) {
		freeReplyObject(r);
		return 0;
	}
	o = json_object();
	for (int i = 0; i < 7; i++) {
		const redisReply *e = r->element[i];
		int64_t n;

		if (i >= 3 && i <= 5)
			json_object_set_new(
			    o, names[i],
			    e->str && wfp_parse_i64(e->str, &n) == 0
				? json_integer(n)
				: json_null());
		else
			json_object_set_new(o, names[i],
					    cli_json_lossy(e->str ? e->str : "",
							   e->str ? e->len : 0,
							   names[i], id, o));
	}
	json_array_append_new(list, o);
	freeReplyObject(r);
	return 0;
}

/* Adds up to limit reservations of state (oldest change first). Returns
 * 0, or -1 with the client's error. */
static int list_state(struct wfp_client *cl, const char *state, long long limit,
		      json_t *list)
{
	struct wfp_key z = wfp_key_rsvs(wfp_client_tag(cl), state);
	redisReply *r =
	    wfp_client_commandf(cl, "ZRANGE %s 0 %lld", z.s, limit - 1);
	int rc = 0;

	if (r == NULL)
		return -1;
	for (size_t i = 0;
	     r->type == REDIS_REPLY_ARRAY && i < r->elements && rc == 0; i++) {
		if (r->element[i]->str)
			rc = list_add(cl, r->element[i]->str, list);
	}
	freeReplyObject(r);
	return rc;
}

/* The widest of key's string values in list (at least min, at most max
 * characters). */
int cli_column_width(json_t *list, const char *key, int min, int max)
{
	json_t *o;
	size_t i;
	int w = min;

	json_array_foreach(list, i, o)
	{
		int n = (int)strlen(cli_jstr(o, key));

		w = n > w ? n : w;
	}
	return w < max ? w : max;
}

/* The text form of `rsv list`: ID and NAME as wide as the widest. */
static void list_print(json_t *list)
{
	int iw = cli_column_width(list, "id", 2, WFP_RSV_ID_MAX - 1);
	int nw = cli_column_width(list, "name", 4, WFP_RSV_NAME_MAX - 1);
	json_t *o;
	size_t i;

	printf("%-*s %-8s %-*s %s\n", iw, "ID", "STATE", nw, "NAME", "ERROR");
	json_array_foreach(list, i, o)
	{
		char id[4 * WFP_RSV_ID_MAX + 8], name[4 * WFP_RSV_NAME_MAX + 8];
		char err[4 * RSV_LIST_ERROR_WIDTH + 8];

		cli_text_cut(cli_jstr(o, "id"), iw, id, sizeof(id));
		cli_text_cut(cli_jstr(o, "name"), nw, name, sizeof(name));
		cli_text_cut(cli_jstr(o, "error"), RSV_LIST_ERROR_WIDTH, err,
			     sizeof(err));
		if (err[0])
			printf("%-*s %-8s %-*s %s\n", iw, id,
			       cli_jstr(o, "state"), nw, name, err);
		else
			printf("%-*s %-8s %s\n", iw, id, cli_jstr(o, "state"),
			       name);
	}
}

/* Returns 1 when s is one of the five states. */
static int is_state(const char *s)
{
	for (const char *const *w = cli_rsv_states; *w; w++) {
		if (strcmp(*w, s) == 0)
			return 1;
	}
	return 0;
}

/* list [--state S] [--limit N]: reservations of one state or all. */
static int rsv_list(struct cli *c)
{
	static const char *const opts[] = {"state", "limit", NULL};
	const char *state = cli_opt(c, "state");
	long long limit = RSV_LIST_DEFAULT;
	struct wfp_client *cl;
	json_t *list;

	if (cli_expect(c, 2, 2, opts, "wfp rsv list [--state S] [--limit N]") ||
	    cli_opt_int(c, "limit", 1, RSV_LIST_MAX, &limit))
		return EXIT_USAGE;
	if (state && !is_state(state))
		return cli_error(EXIT_USAGE,
				 "unknown state '%s' (pending, active, failed, "
				 "released, expired)",
				 state);
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	list = json_array();
	for (const char *const *w = cli_rsv_states; *w; w++) {
		long long left = limit - (long long)json_array_size(list);

		if ((state && strcmp(state, *w) != 0) || left <= 0)
			continue;
		if (list_state(cl, *w, left, list) != 0) {
			json_decref(list);
			return cli_failed(cl);
		}
	}
	return cli_emit(c, list, list_print);
}

int cmd_rsv(struct cli *c)
{
	const char *verb = c->npos > 1 ? c->pos[1] : "";

	if (strcmp(verb, "create") == 0)
		return rsv_create(c);
	if (strcmp(verb, "show") == 0)
		return rsv_show(c);
	if (strcmp(verb, "list") == 0)
		return rsv_list(c);
	if (strcmp(verb, "release") == 0)
		return rsv_release(c);
	return cli_error(EXIT_USAGE,
			 "unknown verb 'rsv %s' (try: wfp rsv --help)", verb);
}
