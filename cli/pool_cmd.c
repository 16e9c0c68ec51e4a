/* pool_cmd.c - `wfp pool ...`: capacity pools of reservations. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/rsv.h"
#include "wfp/util.h"

#define POOL_PAGE	   1000	 /* names per ZRANGE of a listing */
#define POOL_LIST_MAX	   10000 /* pool list --limit */
#define POOL_LIST_DEFAULT  1000
#define POOL_HOLDERS_MAX   10000 /* pool show --limit */
#define POOL_HOLDERS_SHOWN 100	 /* pool show: holders by default */

/* ------------------------------------------------------------------ */
/* Shared parts                                                        */
/* ------------------------------------------------------------------ */

int cli_rsv_request(struct cli *c, const char *op, const msgpack_sbuffer *body,
		    int (*print)(struct cli *, const msgpack_object *))
{
	struct wfp_client *cl = cli_client(c);
	struct wfp_msg reply;
	int rc;

	if (cl == NULL)
		return EXIT_FAIL;
	if (wfp_request(cl, CLI_RSV_SERVICE, op, body->data, body->size,
			c->cfg.timeout_ms, &reply) != 0)
		return cli_failed(cl);
	rc = print(c, &reply.u.data);
	wfp_msg_destroy(&reply);
	return rc;
}

/* Checks the pool name at pos[2] by the library's rule. Returns 0, or
 * prints why and returns -1. */
static int check_pool_name(const struct cli *c)
{
	char err[256];

	if (wfp_pool_check_name(c->pos[2], err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "%s", err), -1;
	return 0;
}

/* A whole number of reply element e, or 0 when it is not one. */
static int64_t reply_int(const redisReply *e)
{
	int64_t n = 0;

	if (e == NULL || e->str == NULL || wfp_parse_i64(e->str, &n) != 0)
		return 0;
	return n;
}

/* {name, capacity, used, free, reservations} of pool name from an HMGET
 * of capacity used reservations created_at updated_at (f). */
static json_t *pool_numbers(const char *name, const redisReply *f)
{
	int64_t cap = reply_int(f->element[0]), used = reply_int(f->element[1]);
	json_t *o = json_object();

	json_object_set_new(
	    o, "name",
	    cli_json_lossy(name, strlen(name), "pool name", NULL, o));
	json_object_set_new(o, "capacity", json_integer(cap));
	json_object_set_new(o, "used", json_integer(used));
	json_object_set_new(o, "free",
			    json_integer(cap > used ? cap - used : 0));
	json_object_set_new(o, "reservations",
			    json_integer(reply_int(f->element[2])));
	json_object_set_new(o, "created_at",
			    json_integer(reply_int(f->element[3])));
	json_object_set_new(o, "updated_at",
			    json_integer(reply_int(f->element[4])));
	return o;
}

/* The numbers of pool name (see pool_numbers); NULL with *gone set when
 * the pool does not exist, NULL with the client's error on a failure. */
static json_t *pool_read(struct wfp_client *cl, const char *name, int *gone)
{
	struct wfp_key k = wfp_key_pool(wfp_client_tag(cl), name);
	redisReply *r = wfp_client_commandf(
	    cl, "HMGET %s capacity used reservations created_at updated_at",
	    k.s);
	json_t *o = NULL;

	*gone = 0;
	if (r == NULL)
		return NULL;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 5 &&
	    r->element[0]->str != NULL)
		o = pool_numbers(name, r);
	else
		*gone = 1;
	freeReplyObject(r);
	return o;
}

/* Adds the pools of one ZRANGE page (names) to list. Returns 0, or -1
 * with the client's error. */
static int pools_add(struct wfp_client *cl, const redisReply *names,
		     json_t *list)
{
	for (size_t i = 0; i < names->elements; i++) {
		const char *name = names->element[i]->str;
		int gone;
		json_t *o;

		if (name == NULL)
			continue;
		o = pool_read(cl, name, &gone);
		if (o == NULL && !gone)
			return -1;
		if (o != NULL)
			json_array_append_new(list, o);
	}
	return 0;
}

json_t *cli_pools_json(struct wfp_client *cl, long long limit)
{
	struct wfp_key z = wfp_key_pools(wfp_client_tag(cl));
	json_t *list = json_array();

	for (long long from = 0; from < limit; from += POOL_PAGE) {
		long long to =
		    from + POOL_PAGE < limit ? from + POOL_PAGE : limit;
		redisReply *r = wfp_client_commandf(cl, "ZRANGE %s %lld %lld",
						    z.s, from, to - 1);
		size_t n = r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
		int rc = r ? pools_add(cl, r, list) : -1;

		if (r)
			freeReplyObject(r);
		if (rc != 0) {
			json_decref(list);
			cli_failed(cl);
			return NULL;
		}
		if ((long long)n < to - from)
			break;
	}
	return list;
}

/* ------------------------------------------------------------------ */
/* set                                                                 */
/* ------------------------------------------------------------------ */

/* Prints the pool_set reply: "NAME capacity C used U free F" (with
 * "(created)" when it is new), or the object with --json. */
static int set_print(struct cli *c, const msgpack_object *reply)
{
	char name[WFP_POOL_NAME_MAX] = "", err[256];
	const msgpack_object *cr = wfp_codec_get(reply, "created");
	int64_t cap = 0, used = 0;
	int created =
	    cr && cr->type == MSGPACK_OBJECT_BOOLEAN && cr->via.boolean;

	if (wfp_codec_str(reply, "name", 1, name, sizeof(name), err,
			  sizeof(err)) ||
	    wfp_codec_int(reply, "capacity", 1, 0, INT64_MAX, &cap, err,
			  sizeof(err)) ||
	    wfp_codec_int(reply, "used", 1, 0, INT64_MAX, &used, err,
			  sizeof(err)))
		return cli_error(EXIT_FAIL, "bad reply: %s", err);
	if (c->json) {
		cli_print_json(json_pack(
		    "{s:s, s:I, s:I, s:I, s:b}", "name", name, "capacity",
		    (json_int_t)cap, "used", (json_int_t)used, "free",
		    (json_int_t)(cap > used ? cap - used : 0), "created",
		    created));
		return EXIT_OK;
	}
	printf("%s capacity %" PRId64 " used %" PRId64 " free %" PRId64 "%s\n",
	       name, cap, used, cap > used ? cap - used : 0,
	       created ? " (created)" : "");
	return EXIT_OK;
}

/* set NAME --capacity N: creates the pool or sets its capacity (never
 * below what reservations use now: INUSE). */
static int pool_set(struct cli *c)
{
	static const char *const opts[] = {"capacity", NULL};
	long long cap = -1;
	msgpack_sbuffer body;
	msgpack_packer pk;
	int rc;

	if (cli_expect(c, 3, 3, opts, "wfp pool set NAME --capacity N") ||
	    check_pool_name(c) ||
	    cli_opt_int(c, "capacity", 0, WFP_POOL_CAPACITY_MAX, &cap))
		return EXIT_USAGE;
	if (cap < 0)
		return cli_error(EXIT_USAGE, "missing --capacity N (0 to %lld)",
				 (long long)WFP_POOL_CAPACITY_MAX);
	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	wfp_pack_kv(&pk, "name", c->pos[2]);
	wfp_pack_cstr(&pk, "capacity");
	msgpack_pack_int64(&pk, cap);
	rc = cli_rsv_request(c, "pool_set", &body, set_print);
	msgpack_sbuffer_destroy(&body);
	return rc;
}

/* ------------------------------------------------------------------ */
/* show                                                                */
/* ------------------------------------------------------------------ */

/* The amount of pool in a `pools` field s ("POOL AMOUNT POOL AMOUNT
 * ..."); -1 when it is not there. */
static int64_t pools_amount(const char *s, const char *pool)
{
	size_t pl = strlen(pool);

	while (*s) {
		const char *sp = strchr(s, ' ');
		char num[24];
		size_t nl;
		int64_t n;

		if (sp == NULL)
			return -1;
		nl = strcspn(sp + 1, " ");
		if ((size_t)(sp - s) == pl && strncmp(s, pool, pl) == 0) {
			if (nl == 0 || nl >= sizeof(num))
				return -1;
			memcpy(num, sp + 1, nl);
			num[nl] = '\0';
			return wfp_parse_i64(num, &n) == 0 ? n : -1;
		}
		s = sp + 1 + nl;
		s += *s == ' ';
	}
	return -1;
}

/* The amount of pool that reservation id holds, from its `pools` field;
 * -1 when unknown. */
static int64_t holder_amount(struct wfp_client *cl, const char *id,
			     const char *pool)
{
	struct wfp_key k = wfp_key_rsv(wfp_client_tag(cl), id);
	redisReply *r = wfp_client_commandf(cl, "HGET %s pools", k.s);
	int64_t amount = r && r->str ? pools_amount(r->str, pool) : -1;

	if (r)
		freeReplyObject(r);
	return amount;
}

/* The first limit holders of pool name (its poolrsv zset, oldest first)
 * as [{id, amount, since, since_ms_ago}] (ago: by Redis's clock); NULL
 * with the client's error. */
static json_t *pool_holders(struct wfp_client *cl, const char *name,
			    long long limit)
{
	struct wfp_key z = wfp_key_poolrsv(wfp_client_tag(cl), name);
	redisReply *r;
	int64_t now;
	json_t *a;

	if (cli_redis_now_ms(cl, &now) != 0)
		return NULL;
	r = wfp_client_commandf(cl, "ZRANGE %s 0 %lld WITHSCORES", z.s,
				limit - 1);
	if (r == NULL)
		return NULL;
	a = json_array();
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	     i += 2) {
		const char *id = r->element[i]->str;
		int64_t amount;
		json_t *h;

		if (id == NULL)
			continue;
		amount = holder_amount(cl, id, name);
		h = json_object();
		json_object_set_new(
		    h, "id",
		    cli_json_lossy(id, strlen(id), "holder id", name, h));
		json_object_set_new(h, "amount",
				    amount >= 0 ? json_integer(amount)
						: json_null());
		json_object_set_new(h, "since",
				    json_integer(reply_int(r->element[i + 1])));
		json_object_set_new(
		    h, "since_ms_ago",
		    json_integer(now - reply_int(r->element[i + 1])));
		json_array_append_new(a, h);
	}
	freeReplyObject(r);
	return a;
}

/* The width of a number column: its header's, or the widest of key's
 * values in list. */
static int number_width(json_t *list, const char *key, const char *head)
{
	int w = (int)strlen(head);
	json_t *o;
	size_t i;

	json_array_foreach(list, i, o)
	{
		char num[24];
		int n = snprintf(
		    num, sizeof(num), "%lld",
		    (long long)json_integer_value(json_object_get(o, key)));

		w = n > w ? n : w;
	}
	return w;
}

/* The text form of `pool show`: fields, then one line per holder (SINCE
 * as time ago, like `wfp executor list`'s LAST BEAT). */
static void show_print(json_t *o)
{
	static const char *const keys[] = {
	    "name",	    "capacity",	  "used",	"free",
	    "reservations", "created_at", "updated_at", NULL};
	json_t *holders = json_object_get(o, "holders"), *h;
	int hw = cli_column_width(holders, "id", 6, WFP_RSV_ID_MAX - 1);
	int aw = number_width(holders, "amount", "AMOUNT");
	size_t i;

	for (const char *const *k = keys; *k; k++)
		cli_print_field("", *k, json_object_get(o, *k));
	if (json_array_size(holders) > 0)
		printf("%-*s %*s %s\n", hw, "HOLDER", aw, "AMOUNT", "SINCE");
	json_array_foreach(holders, i, h)
	{
		json_t *amount = json_object_get(h, "amount");
		json_t *ago = json_object_get(h, "since_ms_ago");
		char num[24] = "-", id[4 * WFP_RSV_ID_MAX + 8], since[40];

		if (json_is_integer(amount))
			snprintf(num, sizeof(num), "%lld",
				 (long long)json_integer_value(amount));
		cli_text_cut(cli_jstr(h, "id"), hw, id, sizeof(id));
		cli_fmt_elapsed(json_integer_value(ago), since, sizeof(since));
		printf("%-*s %*s %s ago\n", hw, id, aw, num, since + 1);
	}
}

/* show NAME [--limit N]: the pool's numbers and its holders (the first
 * N, oldest first). */
static int pool_show(struct cli *c)
{
	static const char *const opts[] = {"limit", NULL};
	long long limit = POOL_HOLDERS_SHOWN;
	struct wfp_client *cl;
	json_t *o, *holders;
	int gone;

	if (cli_expect(c, 3, 3, opts, "wfp pool show NAME [--limit N]") ||
	    check_pool_name(c) ||
	    cli_opt_int(c, "limit", 1, POOL_HOLDERS_MAX, &limit))
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	o = pool_read(cl, c->pos[2], &gone);
	if (o == NULL && gone)
		return cli_error(EXIT_FAIL,
				 "NOPOOL pool '%s' does not exist; create it "
				 "with `wfp pool set %s --capacity N`",
				 c->pos[2], c->pos[2]);
	if (o == NULL)
		return cli_failed(cl);
	holders = pool_holders(cl, c->pos[2], limit);
	if (holders == NULL) {
		json_decref(o);
		return cli_failed(cl);
	}
	json_object_set_new(o, "holders", holders);
	return cli_emit(c, o, show_print);
}

/* ------------------------------------------------------------------ */
/* list                                                                */
/* ------------------------------------------------------------------ */

/* The text form of `pool list`: one row per pool, NAME as wide as the
 * widest, the numbers right-aligned. */
static void list_print(json_t *list)
{
	static const char *const keys[] = {"capacity", "used", "free",
					   "reservations"};
	static const char *const heads[] = {"CAPACITY", "USED", "FREE",
					    "RESERVATIONS"};
	int nw = cli_column_width(list, "name", 4, WFP_POOL_NAME_MAX - 1);
	int w[4];
	json_t *o;
	size_t i;

	for (int k = 0; k < 4; k++)
		w[k] = number_width(list, keys[k], heads[k]);
	printf("%-*s %*s %*s %*s %*s\n", nw, "NAME", w[0], heads[0], w[1],
	       heads[1], w[2], heads[2], w[3], heads[3]);
	json_array_foreach(list, i, o)
	{
		char name[4 * WFP_POOL_NAME_MAX + 8];

		cli_text_cut(cli_jstr(o, "name"), nw, name, sizeof(name));
		printf("%-*s", nw, name);
		for (int k = 0; k < 4; k++)
			printf(" %*lld", w[k],
			       (long long)json_integer_value(
				   json_object_get(o, keys[k])));
		printf("\n");
	}
}

/* list [--limit N]: every pool (the first N by name). */
static int pool_list(struct cli *c)
{
	static const char *const opts[] = {"limit", NULL};
	long long limit = POOL_LIST_DEFAULT;
	struct wfp_client *cl;
	json_t *list;

	if (cli_expect(c, 2, 2, opts, "wfp pool list [--limit N]") ||
	    cli_opt_int(c, "limit", 1, POOL_LIST_MAX, &limit))
		return EXIT_USAGE;
	cl = cli_client(c);
	if (cl == NULL)
		return EXIT_FAIL;
	list = cli_pools_json(cl, limit);
	if (list == NULL)
		return EXIT_FAIL;
	return cli_emit(c, list, list_print);
}

int cmd_pool(struct cli *c)
{
	const char *verb = c->npos > 1 ? c->pos[1] : "";

	if (strcmp(verb, "set") == 0)
		return pool_set(c);
	if (strcmp(verb, "show") == 0)
		return pool_show(c);
	if (strcmp(verb, "list") == 0)
		return pool_list(c);
	return cli_error(EXIT_USAGE,
			 "unknown verb 'pool %s' (try: wfp pool --help)", verb);
}
