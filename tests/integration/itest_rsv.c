/* Integration tests of the reservation scripts (pool_set, rsv_create,
 * rsv_release, rsv_reconcile, rsv_expire), called directly as the service
 * calls them, against a real redis-server: capacity never above a pool's,
 * all-or-nothing creates, capacity back exactly once whatever the order of
 * the events, replays, and argument checks. Jobs move through the board's
 * own claim and finish scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "itest_common.h"
#include "wfp/scripts.h"

#define PAYLOAD "{\"workflow\":{\"linear\":[]}}"
#define PLAN	"{\"items\":[]}"
#define RACERS	20

static struct wfp_config cfg;
static struct wfp_client *c;
static const char *tag;

static int setup(void **state)
{
	(void)state;
	itest_flush(c);
	return 0;
}

/* Sleeps ms milliseconds. */
static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Every key of the prefix with its value (DUMP), as one string: equal
 * snapshots mean nothing changed. The caller frees the reply. */
static redisReply *snapshot(void)
{
	static const char lua[] =
	    "local ks = redis.call('KEYS', ARGV[1]) table.sort(ks) "
	    "local out = {} for _, k in ipairs(ks) do "
	    "out[#out + 1] = k .. '=' .. redis.call('DUMP', k) end "
	    "return table.concat(out, '|')";
	char pattern[WFP_KEY_MAX];
	const char *argv[4] = {"EVAL", lua, "0", pattern};
	redisReply *r;

	snprintf(pattern, sizeof(pattern), "%s*", tag);
	r = wfp_client_command(c, 4, argv, NULL);
	assert_non_null(r);
	return r;
}

/* Runs script id with argv (argc words, one key first); expects a
 * refusal whose message contains want, and no change to any key. */
static void refused(enum wfp_script_id id, int argc, const char **argv,
		    const char *want)
{
	redisReply *before = snapshot(), *after;

	assert_null(wfp_client_eval(c, id, 1, argc, argv, NULL));
	if (strstr(wfp_client_error(c), want) == NULL)
		fail_msg("'%s' does not say '%s'", wfp_client_error(c), want);
	after = snapshot();
	assert_int_equal(before->len, after->len);
	assert_memory_equal(before->str, after->str, before->len);
	freeReplyObject(before);
	freeReplyObject(after);
}

/* Runs script id (argc words, one key first); fails the test on a refusal.
 * The caller frees the reply. */
static redisReply *run(enum wfp_script_id id, int argc, const char **argv)
{
	redisReply *r = wfp_client_eval(c, id, 1, argc, argv, NULL);

	if (r == NULL)
		fail_msg("%s refused: %s", wfp_script(id)->name,
			 wfp_client_error(c));
	return r;
}

/* Element i of an array reply as an integer. */
static long long el_int(const redisReply *r, size_t i)
{
	assert_true(r->type == REDIS_REPLY_ARRAY && i < r->elements);
	return r->element[i]->integer;
}

/* Element i of an array reply as a string. */
static const char *el_str(const redisReply *r, size_t i)
{
	assert_true(r->type == REDIS_REPLY_ARRAY && i < r->elements);
	assert_int_equal(r->element[i]->type, REDIS_REPLY_STRING);
	return r->element[i]->str;
}

/* pool_set NAME CAPACITY with request (may be ""); returns the reply or
 * NULL on a refusal. */
static redisReply *pool_set_req(const char *name, long long cap,
				const char *request)
{
	struct wfp_key k = wfp_key_pool(tag, name);
	char capstr[32];
	const char *argv[6] = {k.s, tag, name, capstr, request, "0"};

	snprintf(capstr, sizeof(capstr), "%lld", cap);
	return wfp_client_eval(c, WFP_LUA_POOL_SET, 1, 6, argv, NULL);
}

/* Creates pool name with capacity cap (or sets it). */
static void pool(const char *name, long long cap)
{
	redisReply *r = pool_set_req(name, cap, "");

	if (r == NULL)
		fail_msg("pool_set refused: %s", wfp_client_error(c));
	freeReplyObject(r);
}

/* Fills argv for rsv_create of id with ttl and the "POOL AMOUNT ..."
 * words in spec (at most 4 pools) and items "i1 i2"; returns argc.
 * bufs holds the strings. */
struct create_args {
	struct wfp_key key;
	char ttl[32], npools[16], words[256];
	const char *argv[32];
};

static int create_argv(struct create_args *a, const char *id, long long ttl,
		       const char *spec, const char *request)
{
	int argc = 0, np = 0;
	char *save = NULL;

	a->key = wfp_key_rsv(tag, id);
	snprintf(a->ttl, sizeof(a->ttl), "%lld", ttl);
	snprintf(a->words, sizeof(a->words), "%s", spec);
	a->argv[argc++] = a->key.s;
	a->argv[argc++] = tag;
	a->argv[argc++] = id;
	a->argv[argc++] = "web-1";
	a->argv[argc++] = a->ttl;
	a->argv[argc++] = "3";
	a->argv[argc++] = PLAN;
	a->argv[argc++] = PAYLOAD;
	a->argv[argc++] = request;
	a->argv[argc++] = "0";
	a->argv[argc++] = a->npools;
	for (char *w = strtok_r(a->words, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		a->argv[argc++] = w;
		np++;
	}
	snprintf(a->npools, sizeof(a->npools), "%d", np / 2);
	a->argv[argc++] = "ip";
	a->argv[argc++] = "disk";
	return argc;
}

/* rsv_create; returns the reply, or NULL on a refusal. */
static redisReply *create_req(const char *id, long long ttl, const char *spec,
			      const char *request)
{
	struct create_args a;
	int argc = create_argv(&a, id, ttl, spec, request);

	return wfp_client_eval(c, WFP_LUA_RSV_CREATE, 1, argc, a.argv, NULL);
}

/* Creates id (must be accepted). */
static void create(const char *id, long long ttl, const char *spec)
{
	redisReply *r = create_req(id, ttl, spec, "");

	if (r == NULL)
		fail_msg("rsv_create refused: %s", wfp_client_error(c));
	assert_int_equal(el_int(r, 2), 1);
	freeReplyObject(r);
}

/* HGET of a key's field into out ("" when missing). */
static void hget(const char *key, const char *field, char *out, size_t n)
{
	redisReply *r = wfp_client_commandf(c, "HGET %s %s", key, field);

	snprintf(out, n, "%s", (r && r->str) ? r->str : "");
	if (r)
		freeReplyObject(r);
}

/* A reservation's field as a string in a static buffer. */
static const char *rsv_field(const char *id, const char *field)
{
	static char out[512];

	hget(wfp_key_rsv(tag, id).s, field, out, sizeof(out));
	return out;
}

/* A pool's field as a number. */
static long long pool_int(const char *name, const char *field)
{
	char out[64];

	hget(wfp_key_pool(tag, name).s, field, out, sizeof(out));
	return atoll(out);
}

/* The promise: every pool's used is the sum of its holders' amounts, its
 * reservations their count, and used never above capacity. */
static void check_pools(void)
{
	static const char lua[] =
	    "local bad = {} "
	    "for _, name in ipairs(redis.call('ZRANGE', ARGV[1] .. ':pools', "
	    "0, -1)) do "
	    "local p = ARGV[1] .. ':pool:' .. name "
	    "local sum, n = 0, 0 "
	    "for _, id in ipairs(redis.call('ZRANGE', ARGV[1] .. ':poolrsv:' "
	    ".. name, 0, -1)) do "
	    "local w = {} for x in string.gmatch(redis.call('HGET', ARGV[1] "
	    ".. ':rsv:' .. id, 'pools'), '%S+') do w[#w + 1] = x end "
	    "for i = 1, #w, 2 do if w[i] == name then sum = sum + w[i + 1] "
	    "end end n = n + 1 end "
	    "local used = tonumber(redis.call('HGET', p, 'used')) "
	    "local cap = tonumber(redis.call('HGET', p, 'capacity')) "
	    "local rs = tonumber(redis.call('HGET', p, 'reservations')) "
	    "if used ~= sum or rs ~= n or used > cap then bad[#bad + 1] = "
	    "name .. ' used ' .. used .. ' holders ' .. sum .. ' count ' .. rs "
	    ".. '/' .. n .. ' cap ' .. cap end end "
	    "return table.concat(bad, '; ')";
	const char *argv[4] = {"EVAL", lua, "0", tag};
	redisReply *r = wfp_client_command(c, 4, argv, NULL);

	assert_non_null(r);
	if (r->type != REDIS_REPLY_STRING || r->len != 0)
		fail_msg("pools disagree with their holders: %s",
			 r->str ? r->str : "?");
	freeReplyObject(r);
}

/* rsv_reconcile of id with no fields; *action gets the action word. Returns
 * returned_now; the state goes to state_out (may be NULL). */
static int reconcile(const char *id, char *state_out, char *action)
{
	struct wfp_key k = wfp_key_rsv(tag, id);
	const char *argv[4] = {k.s, tag, id, "0"};
	redisReply *r = run(WFP_LUA_RSV_RECONCILE, 4, argv);
	int back = (int)el_int(r, 2);

	if (state_out)
		snprintf(state_out, 32, "%s", el_str(r, 0));
	if (action)
		snprintf(action, 32, "%s", el_str(r, 1));
	freeReplyObject(r);
	check_pools();
	return back;
}

/* rsv_release of id with payload ("" none); the reply (caller frees). */
static redisReply *release(const char *id, const char *payload,
			   const char *request)
{
	struct wfp_key k = wfp_key_rsv(tag, id);
	const char *argv[6] = {k.s, tag, id, payload, request, "0"};

	return run(WFP_LUA_RSV_RELEASE, 6, argv);
}

/* rsv_expire pass; returns how many expired. */
static long long expire_pass(void)
{
	struct wfp_key k = wfp_key_rsv_expiry(tag);
	const char *argv[3] = {k.s, tag, "100"};
	redisReply *r = run(WFP_LUA_RSV_EXPIRE, 3, argv);
	long long n = el_int(r, 0);

	assert_true(el_int(r, 1) > 0);
	freeReplyObject(r);
	check_pools();
	return n;
}

/* Claims the one posted job, which must be want. */
static void claim(const char *want, struct wfp_claim *w)
{
	int n = 0;

	assert_int_equal(wfp_job_claim(c, "exec-a", 1, 60000, 0, w, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(w->id, want);
	wfp_claims_release(w, n);
}

/* The owner of claim w ends it with op. */
static void finish(struct wfp_claim *w, enum wfp_job_op op, const char *why)
{
	assert_int_equal(
	    wfp_job_finish(c, w->id, w->token, w->fence, op, why, NULL), 0);
}

/* Claims want and ends it with op (an executor's whole run). */
static void run_job(const char *want, enum wfp_job_op op)
{
	struct wfp_claim w;

	claim(want, &w);
	finish(&w, op, op == WFP_OP_COMPLETE ? "" : "task failed");
}

static void expect_state(const char *id, const char *want)
{
	assert_string_equal(rsv_field(id, "state"), want);
}

/* pool_set creates, sets, refuses a capacity below used with INUSE and
 * nothing changed, and answers a replayed request as the first time. */
static void test_pool_set(void **state)
{
	redisReply *r;

	(void)state;
	r = pool_set_req("ips", 10, "1-1");
	assert_non_null(r);
	assert_int_equal(el_int(r, 0), 10);
	assert_int_equal(el_int(r, 1), 0);
	assert_int_equal(el_int(r, 2), 1);
	freeReplyObject(r);
	r = pool_set_req("ips", 20, "");
	assert_non_null(r);
	assert_int_equal(el_int(r, 0), 20);
	assert_int_equal(el_int(r, 2), 0);
	freeReplyObject(r);
	create("r1", 60000, "ips 5");
	{
		struct wfp_key k = wfp_key_pool(tag, "ips");
		const char *argv[6] = {k.s, tag, "ips", "4", "", "0"};

		refused(WFP_LUA_POOL_SET, 6, argv,
			"INUSE pool 'ips' has 5 used; capacity 4 would be "
			"below it");
	}
	/* the first request again: its first answer, nothing written */
	{
		redisReply *before = snapshot(), *after;

		r = pool_set_req("ips", 10, "1-1");
		assert_non_null(r);
		assert_int_equal(el_int(r, 0), 10);
		assert_int_equal(el_int(r, 2), 1);
		freeReplyObject(r);
		after = snapshot();
		assert_string_equal(before->str, after->str);
		freeReplyObject(before);
		freeReplyObject(after);
	}
	r = pool_set_req("ips", 5, "");
	assert_non_null(r);
	assert_int_equal(el_int(r, 0), 5);
	assert_int_equal(el_int(r, 1), 5);
	freeReplyObject(r);
	assert_int_equal(pool_int("ips", "capacity"), 5);
	pool("big", 1000000000000000LL);
	assert_int_equal(pool_int("big", "capacity"), 1000000000000000LL);
	check_pools();
}

/* A create across two pools takes from both or from neither. */
static void test_create_all_or_nothing(void **state)
{
	struct create_args a;
	int argc;

	(void)state;
	pool("ips", 10);
	pool("volumes", 5);
	argc = create_argv(&a, "r1", 60000, "ips 3 volumes 6", "");
	refused(WFP_LUA_RSV_CREATE, argc, a.argv,
		"NOROOM pool 'volumes' has 5 free of 5; 6 asked");
	argc = create_argv(&a, "r1", 60000, "ips 3 dns 1", "");
	refused(WFP_LUA_RSV_CREATE, argc, a.argv,
		"NOPOOL pool 'dns' does not exist");
	create("r2", 60000, "ips 3 volumes 5");
	assert_int_equal(pool_int("ips", "used"), 3);
	assert_int_equal(pool_int("volumes", "used"), 5);
	assert_int_equal(pool_int("ips", "reservations"), 1);
	argc = create_argv(&a, "r3", 60000, "ips 7 volumes 1", "");
	refused(WFP_LUA_RSV_CREATE, argc, a.argv,
		"NOROOM pool 'volumes' has 0 free of 5; 1 asked");
	expect_state("r2", "pending");
	assert_string_equal(rsv_field("r2", "job"), "r2.fulfil");
	assert_string_equal(rsv_field("r2", "pools"), "ips 3 volumes 5");
	assert_string_equal(rsv_field("r2", "item:ip"), "none");
	assert_string_equal(rsv_field("r2", "item:disk"), "none");
	assert_int_equal(itest_job_int(c, "r2.fulfil", "max_attempts"), 3);
	{
		char s[64];

		itest_job_str(c, "r2.fulfil", "payload", s, sizeof(s));
		assert_string_equal(s, PAYLOAD);
	}
	check_pools();
}

/* One racer: its own client, one create of amount; exits 0 accepted, 1
 * refused with NOROOM, 2 anything else. */
static void racer(int n, const char *spec)
{
	struct wfp_config mine;
	struct wfp_client *cc = itest_client(&mine);
	struct create_args a;
	char id[16];
	int argc;
	redisReply *r;

	c = cc, tag = wfp_client_tag(cc);
	snprintf(id, sizeof(id), "race%d", n);
	argc = create_argv(&a, id, 60000, spec, "");
	r = wfp_client_eval(cc, WFP_LUA_RSV_CREATE, 1, argc, a.argv, NULL);
	if (r) {
		freeReplyObject(r);
		_exit(0);
	}
	_exit(strncmp(wfp_client_error(cc), "NOROOM", 6) == 0 ? 1 : 2);
}

/* Runs RACERS concurrent creates of spec; returns how many were taken. */
static int race(const char *spec)
{
	int taken = 0, refused_n = 0;

	for (int i = 0; i < RACERS; i++)
		if (fork() == 0)
			racer(i, spec);
	for (int i = 0; i < RACERS;) {
		int status = 0;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		/* while they race: used never above capacity */
		assert_true(pool_int("ips", "used") <=
			    pool_int("ips", "capacity"));
		if (pid == 0)
			continue;
		i++;
		assert_true(WIFEXITED(status));
		assert_int_not_equal(WEXITSTATUS(status), 2);
		if (WEXITSTATUS(status) == 0)
			taken++;
		else
			refused_n++;
	}
	assert_int_equal(taken + refused_n, RACERS);
	return taken;
}

/* 20 concurrent creates against capacity 10: exactly the ones that fit
 * are taken, and used never passes capacity. */
static void test_concurrent_creates(void **state)
{
	(void)state;
	pool("ips", 10);
	assert_int_equal(race("ips 1"), 10);
	assert_int_equal(pool_int("ips", "used"), 10);
	assert_int_equal(pool_int("ips", "reservations"), 10);
	check_pools();
	itest_flush(c);
	pool("ips", 10);
	assert_int_equal(race("ips 4"), 2);
	assert_int_equal(pool_int("ips", "used"), 8);
	check_pools();
}

/* Fulfilment completed -> active (reconciled twice, then an expiry pass):
 * the capacity stays taken. */
static void test_fulfil_completed(void **state)
{
	char st[32], act[32];

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	assert_int_equal(reconcile("r1", st, act), 0); /* job still posted */
	assert_string_equal(st, "pending");
	run_job("r1.fulfil", WFP_OP_COMPLETE);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "active");
	assert_string_equal(act, "none");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(expire_pass(), 0); /* not in the lease set now */
	expect_state("r1", "active");
	assert_int_equal(pool_int("ips", "used"), 4);
	assert_int_equal(pool_int("ips", "reservations"), 1);
}

/* The release of an active reservation without a teardown payload is
 * refused; with one, the teardown job is posted; a second release while
 * it runs answers 'running'. */
static void test_release_active(void **state)
{
	char st[32], act[32];
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	run_job("r1.fulfil", WFP_OP_COMPLETE);
	reconcile("r1", st, act);
	{
		struct wfp_key k = wfp_key_rsv(tag, "r1");
		const char *argv[6] = {k.s, tag, "r1", "", "", "0"};

		refused(WFP_LUA_RSV_RELEASE, 6, argv,
			"STATE need a teardown payload");
	}
	r = release("r1", PAYLOAD, "");
	assert_string_equal(el_str(r, 0), "active");
	assert_string_equal(el_str(r, 1), "r1.release.1");
	assert_string_equal(el_str(r, 2), "posted");
	freeReplyObject(r);
	r = release("r1", PAYLOAD, "");
	assert_string_equal(el_str(r, 1), "r1.release.1");
	assert_string_equal(el_str(r, 2), "running");
	freeReplyObject(r);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "active");
	run_job("r1.release.1", WFP_OP_COMPLETE);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "released");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_int_equal(pool_int("ips", "reservations"), 0);
	{
		struct wfp_key k = wfp_key_rsv(tag, "r1");
		const char *argv[6] = {k.s, tag, "r1", PAYLOAD, "", "0"};

		refused(WFP_LUA_RSV_RELEASE, 6, argv,
			"STATE reservation r1 is released; nothing to release");
	}
	assert_int_equal(expire_pass(), 0);
	check_pools();
}

/* True when id is in the open set. */
static int is_open(const char *id)
{
	struct wfp_key k = wfp_key_rsv_open(tag);
	redisReply *r = wfp_client_commandf(c, "ZSCORE %s %s", k.s, id);
	int in = r && r->type == REDIS_REPLY_STRING;

	if (r)
		freeReplyObject(r);
	return in;
}

/* How many jobs the jobs map still holds (ends not taken in). */
static long long jobs_left(void)
{
	struct wfp_key k = wfp_key_rsv_jobs(tag);
	redisReply *r = wfp_client_commandf(c, "HLEN %s", k.s);
	long long n = r ? r->integer : -1;

	if (r)
		freeReplyObject(r);
	return n;
}

/* Expects release of id to be refused: nothing to release in state. */
static void nothing_to_release(const char *id, const char *state)
{
	struct wfp_key k = wfp_key_rsv(tag, id);
	const char *argv[6] = {k.s, tag, id, PAYLOAD, "", "0"};
	char want[128];

	snprintf(want, sizeof(want),
		 "STATE reservation %s is %s; nothing to release", id, state);
	refused(WFP_LUA_RSV_RELEASE, 6, argv, want);
}

/* Expects a release of id to post job want. */
static void release_posts(const char *id, const char *state, const char *want)
{
	redisReply *r = release(id, PAYLOAD, "");

	assert_string_equal(el_str(r, 0), state);
	assert_string_equal(el_str(r, 1), want);
	assert_string_equal(el_str(r, 2), "posted");
	freeReplyObject(r);
	assert_int_equal(itest_job_int(c, want, "max_attempts"), 3);
}

/* A pending reservation past its TTL whose job nobody claimed: expired,
 * the job reverted at once, the capacity back at once and only once. */
static void test_expire_posted(void **state)
{
	char st[32], act[32], s[128];

	(void)state;
	pool("ips", 10);
	create("r1", 1, "ips 4");
	create("r2", 60000, "ips 1");
	sleep_ms(5);
	assert_int_equal(expire_pass(), 1);
	expect_state("r1", "expired");
	assert_string_equal(rsv_field("r1", "error"),
			    "not fulfilled within 1 ms");
	itest_job_str(c, "r1.fulfil", "state", s, sizeof(s));
	assert_string_equal(s, "reverted");
	itest_job_str(c, "r1.fulfil", "error", s, sizeof(s));
	assert_string_equal(s, "cancelled: reservation expired");
	assert_int_equal(pool_int("ips", "used"), 1);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "expired");
	assert_int_equal(expire_pass(), 0);
	assert_int_equal(pool_int("ips", "used"), 1);
	assert_false(is_open("r1"));
	assert_true(is_open("r2"));
	assert_int_equal(jobs_left(), 1); /* r2.fulfil */
	nothing_to_release("r1", "expired");
}

/* Expired while its job runs: the cancel is asked; the job reverts; the
 * capacity comes back at the reconcile after, once. */
static void test_expire_claimed_reverted(void **state)
{
	struct wfp_claim w;
	char st[32], act[32], s[64];

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	claim("r1.fulfil", &w);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 1);
	expect_state("r1", "expired");
	itest_job_str(c, "r1.fulfil", "cancel", s, sizeof(s));
	assert_string_equal(s, "reservation expired");
	assert_int_equal(pool_int("ips", "used"), 4);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_true(is_open("r1"));
	finish(&w, WFP_OP_REVERT, "cancelled");
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "expired");
	assert_string_equal(act, "none");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(expire_pass(), 0);
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_false(is_open("r1"));
}

/* Expired while its job runs, and the job completes anyway: reconcile
 * asks for a teardown once; the teardown completes; capacity back once. */
static void test_expire_claimed_completed(void **state)
{
	struct wfp_claim w;
	char st[32], act[32];
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	claim("r1.fulfil", &w);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 1);
	finish(&w, WFP_OP_COMPLETE, "");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "expired");
	assert_string_equal(act, "teardown");
	release_posts("r1", "expired", "r1.release.1");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(act, "none");
	r = release("r1", PAYLOAD, "");
	assert_string_equal(el_str(r, 2), "running");
	freeReplyObject(r);
	run_job("r1.release.1", WFP_OP_COMPLETE);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "expired");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(expire_pass(), 0);
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_false(is_open("r1"));
	assert_int_equal(jobs_left(), 0);
	nothing_to_release("r1", "expired");
}

/* Expired while its job runs, the job completes anyway, and a release
 * posts the teardown before any reconcile took the fulfilment's end in:
 * once the teardown is reconciled, the jobs map holds neither job (the
 * fulfilment's entry was left behind for good). */
static void test_expired_release_first(void **state)
{
	struct wfp_claim w;
	char st[32], act[32];

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	claim("r1.fulfil", &w);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 1);
	finish(&w, WFP_OP_COMPLETE, "");
	release_posts("r1", "expired", "r1.release.1");
	run_job("r1.release.1", WFP_OP_COMPLETE);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "expired");
	assert_string_equal(act, "none");
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_false(is_open("r1"));
	assert_int_equal(jobs_left(), 0);
}

/* An expiry pass answers the earliest TTL end left, -1 when none. */
static void test_expire_next(void **state)
{
	struct wfp_key k = wfp_key_rsv_expiry(tag);
	const char *argv[3] = {k.s, tag, "100"};
	redisReply *r;
	long long expires;

	(void)state;
	pool("ips", 10);
	r = run(WFP_LUA_RSV_EXPIRE, 3, argv);
	assert_int_equal(el_int(r, 2), -1);
	freeReplyObject(r);
	create("r1", 60000, "ips 1");
	create("r2", 30000, "ips 1");
	expires = atoll(rsv_field("r2", "expires_at"));
	assert_int_equal(expires - atoll(rsv_field("r2", "created_at")), 30000);
	r = run(WFP_LUA_RSV_EXPIRE, 3, argv);
	assert_int_equal(el_int(r, 0), 0);
	assert_int_equal(el_int(r, 2), expires);
	assert_true(el_int(r, 1) < expires);
	freeReplyObject(r);
}

/* A job that completed before the TTL ended is not expired by a pass that
 * runs before the reconcile: it was fulfilled in time. */
static void test_completed_in_time(void **state)
{
	char st[32], act[32];

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	run_job("r1.fulfil", WFP_OP_COMPLETE);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 0);
	expect_state("r1", "pending");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "active");
	assert_int_equal(pool_int("ips", "used"), 4);
	assert_false(is_open("r1"));
}

/* The fulfilment reverted: failed with the job's error, capacity back
 * once (two reconciles, an expiry pass). */
static void test_fulfil_reverted(void **state)
{
	char st[32], act[32];

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	run_job("r1.fulfil", WFP_OP_REVERT);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "failed");
	assert_string_equal(rsv_field("r1", "error"), "task failed");
	assert_int_equal(reconcile("r1", st, act), 0);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 0);
	expect_state("r1", "failed");
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_false(is_open("r1"));
	assert_int_equal(jobs_left(), 0);
	nothing_to_release("r1", "failed");
}

/* A fulfilment job gone from Redis counts as dead: "job gone". */
static void test_job_gone(void **state)
{
	char st[32], act[32];
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	r = wfp_client_commandf(c, "DEL %s", wfp_key_job(tag, "r1.fulfil").s);
	freeReplyObject(r);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "failed");
	assert_string_equal(rsv_field("r1", "error"), "job gone");
	assert_int_equal(reconcile("r1", st, act), 0);
}

/* Release while pending and nobody claimed the job: the job reverts at
 * once; the reservation ends released; capacity back once. */
static void test_release_pending_posted(void **state)
{
	char st[32], act[32], s[64];
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	r = release("r1", "", "");
	assert_string_equal(el_str(r, 0), "pending");
	assert_string_equal(el_str(r, 1), "r1.fulfil");
	assert_string_equal(el_str(r, 2), "cancelling");
	freeReplyObject(r);
	itest_job_str(c, "r1.fulfil", "error", s, sizeof(s));
	assert_string_equal(s, "cancelled: released");
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "released");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(expire_pass(), 0);
	assert_int_equal(pool_int("ips", "used"), 0);
	nothing_to_release("r1", "released");
}

/* Release while pending, the job claimed: the cancel is asked, but the
 * job completes anyway: active, and reconcile asks for the teardown. */
static void test_release_pending_completes(void **state)
{
	struct wfp_claim w;
	char st[32], act[32];
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	claim("r1.fulfil", &w);
	r = release("r1", "", "");
	assert_string_equal(el_str(r, 2), "cancelling");
	freeReplyObject(r);
	r = release("r1", "", ""); /* again: the same, nothing more */
	assert_string_equal(el_str(r, 2), "cancelling");
	freeReplyObject(r);
	finish(&w, WFP_OP_COMPLETE, "");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "active");
	assert_string_equal(act, "teardown");
	assert_true(is_open("r1"));
	release_posts("r1", "active", "r1.release.1");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(act, "none");
	run_job("r1.release.1", WFP_OP_COMPLETE);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "released");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_false(is_open("r1"));
}

/* Release while pending, then the TTL ends, then the job reverts: expired,
 * capacity back once. */
static void test_release_pending_then_expire(void **state)
{
	struct wfp_claim w;
	char st[32], act[32];
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	claim("r1.fulfil", &w);
	r = release("r1", "", "");
	freeReplyObject(r);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 1);
	assert_int_equal(pool_int("ips", "used"), 4);
	finish(&w, WFP_OP_REVERT, "cancelled");
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "expired");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_false(is_open("r1"));
}

/* A teardown that fails leaves the reservation active with the error and
 * no release job; the next release posts release.2; capacity back once. */
static void test_teardown_fails(void **state)
{
	char st[32], act[32];

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	run_job("r1.fulfil", WFP_OP_COMPLETE);
	reconcile("r1", st, act);
	release_posts("r1", "active", "r1.release.1");
	run_job("r1.release.1", WFP_OP_FAIL);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "active");
	assert_string_equal(act, "none");
	assert_string_equal(rsv_field("r1", "error"),
			    "release failed: failed: task failed");
	assert_string_equal(rsv_field("r1", "release_job"), "");
	assert_false(is_open("r1"));
	release_posts("r1", "active", "r1.release.2");
	assert_true(is_open("r1"));
	run_job("r1.release.2", WFP_OP_COMPLETE);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_string_equal(st, "released");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_int_equal(jobs_left(), 0);
	assert_false(is_open("r1"));
}

/* Expired with a completed fulfilment whose teardown fails: the error, no
 * second automatic teardown; a release retries; capacity back once. */
static void test_expired_teardown_fails(void **state)
{
	struct wfp_claim w;
	char st[32], act[32];

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	claim("r1.fulfil", &w);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 1);
	finish(&w, WFP_OP_COMPLETE, "");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(act, "teardown");
	release_posts("r1", "expired", "r1.release.1");
	run_job("r1.release.1", WFP_OP_REVERT);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(act, "none");
	assert_string_equal(rsv_field("r1", "error"),
			    "teardown failed: reverted: task failed");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(act, "none");
	assert_true(is_open("r1"));
	assert_int_equal(pool_int("ips", "used"), 4);
	release_posts("r1", "expired", "r1.release.2");
	run_job("r1.release.2", WFP_OP_COMPLETE);
	assert_int_equal(reconcile("r1", st, act), 1);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_int_equal(pool_int("ips", "used"), 0);
	assert_false(is_open("r1"));
}

/* The same create request again answers as the first time and writes
 * nothing; another request for the id is refused with EXISTS. */
static void test_create_replay(void **state)
{
	struct create_args a;
	redisReply *r, *before, *after;
	int argc;

	(void)state;
	pool("ips", 10);
	r = create_req("r1", 60000, "ips 4", "5-1");
	assert_non_null(r);
	assert_string_equal(el_str(r, 0), "r1");
	assert_string_equal(el_str(r, 1), "r1.fulfil");
	assert_int_equal(el_int(r, 2), 1);
	freeReplyObject(r);
	before = snapshot();
	r = create_req("r1", 60000, "ips 4", "5-1");
	assert_non_null(r);
	assert_string_equal(el_str(r, 1), "r1.fulfil");
	assert_int_equal(el_int(r, 2), 1);
	freeReplyObject(r);
	after = snapshot();
	assert_string_equal(before->str, after->str);
	freeReplyObject(before);
	freeReplyObject(after);
	argc = create_argv(&a, "r1", 60000, "ips 4", "5-2");
	refused(WFP_LUA_RSV_CREATE, argc, a.argv,
		"EXISTS reservation r1 already exists");
	argc = create_argv(&a, "r1", 60000, "ips 4", "");
	refused(WFP_LUA_RSV_CREATE, argc, a.argv, "EXISTS");
	assert_int_equal(pool_int("ips", "used"), 4);
	/* the remembered answer gone: the rsv's own request still answers */
	r = wfp_client_commandf(c, "DEL %s",
				wfp_key_done(tag, "reservation", "5-1").s);
	freeReplyObject(r);
	r = create_req("r1", 60000, "ips 4", "5-1");
	assert_non_null(r);
	assert_int_equal(el_int(r, 2), 0);
	freeReplyObject(r);
	assert_int_equal(pool_int("ips", "used"), 4);
	/* a job in the way of the fulfilment job: refused, nothing taken */
	{
		struct wfp_post p = {"r2.fulfil", "x", "{}", 1, NULL, 1000};
		char got[WFP_ID_MAX];

		assert_int_equal(wfp_job_post(c, &p, got, NULL), 0);
	}
	argc = create_argv(&a, "r2", 60000, "ips 4", "");
	refused(WFP_LUA_RSV_CREATE, argc, a.argv,
		"EXISTS job r2.fulfil already exists");
	check_pools();
}

/* The same release request again answers as the first time. */
static void test_release_replay(void **state)
{
	char st[32], act[32];
	redisReply *r, *before, *after;

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	run_job("r1.fulfil", WFP_OP_COMPLETE);
	reconcile("r1", st, act);
	r = release("r1", PAYLOAD, "7-1");
	assert_string_equal(el_str(r, 2), "posted");
	freeReplyObject(r);
	before = snapshot();
	r = release("r1", PAYLOAD, "7-1");
	assert_string_equal(el_str(r, 1), "r1.release.1");
	assert_string_equal(el_str(r, 2), "posted");
	freeReplyObject(r);
	after = snapshot();
	assert_string_equal(before->str, after->str);
	freeReplyObject(before);
	freeReplyObject(after);
}

/* reconcile writes the item fields as given, '' removing one. */
static void test_reconcile_fields(void **state)
{
	struct wfp_key k = wfp_key_rsv(tag, "r1");
	const char *argv[] = {k.s,	     tag,	 "r1",	      "3",
			      "item:ip",     "reserved", "undo:disk", "destroy",
			      "failed:disk", "reserve"};
	const char *clear[] = {k.s, tag, "r1", "1", "undo:disk", ""};
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	r = run(WFP_LUA_RSV_RECONCILE, 10, argv);
	freeReplyObject(r);
	assert_string_equal(rsv_field("r1", "item:ip"), "reserved");
	assert_string_equal(rsv_field("r1", "undo:disk"), "destroy");
	assert_string_equal(rsv_field("r1", "failed:disk"), "reserve");
	r = run(WFP_LUA_RSV_RECONCILE, 6, clear);
	freeReplyObject(r);
	assert_string_equal(rsv_field("r1", "undo:disk"), "");
	r = wfp_client_commandf(c, "HEXISTS %s undo:disk", k.s);
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
}

/* out:NAME takes an item's merged outputs (one JSON object) and '' removes
 * it; anything else is refused (test_badarg) and one over
 * LIMIT.LOG_OUTPUTS (WFP_LOG_OUTPUTS_MAX) bytes too. */
static void test_reconcile_out(void **state)
{
	struct wfp_key k = wfp_key_rsv(tag, "r1");
	const char *set[] = {
	    k.s,	tag,	  "r1",
	    "2",	"out:ip", "{\"addr\": \"10.0.0.7\", \"n\": [1, {}]}",
	    "out:disk", "{}"};
	const char *clear[] = {k.s, tag, "r1", "1", "out:ip", ""};
	const char *big[] = {k.s, tag, "r1", "1", "out:disk", NULL};
	size_t n = WFP_LOG_OUTPUTS_MAX + 1;
	char *text = malloc(n + 1);
	redisReply *r;

	(void)state;
	assert_non_null(text);
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	r = run(WFP_LUA_RSV_RECONCILE, 8, set);
	freeReplyObject(r);
	assert_string_equal(rsv_field("r1", "out:ip"),
			    "{\"addr\": \"10.0.0.7\", \"n\": [1, {}]}");
	assert_string_equal(rsv_field("r1", "out:disk"), "{}");
	r = run(WFP_LUA_RSV_RECONCILE, 6, clear);
	freeReplyObject(r);
	r = wfp_client_commandf(c, "HEXISTS %s out:ip", k.s);
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	/* {"a":"xxx..."} of n bytes: one over the bound */
	memset(text, 'x', n);
	memcpy(text, "{\"a\":\"", 6);
	memcpy(text + n - 2, "\"}", 2);
	text[n] = '\0';
	big[5] = text;
	refused(WFP_LUA_RSV_RECONCILE, 6, big, "BADARG out:disk");
	memcpy(text + n - 3, "\"}", 3); /* at the bound: taken */
	r = run(WFP_LUA_RSV_RECONCILE, 6, big);
	freeReplyObject(r);
	r = wfp_client_commandf(c, "HSTRLEN %s out:disk", k.s);
	assert_int_equal(r->integer, WFP_LOG_OUTPUTS_MAX);
	freeReplyObject(r);
	free(text);
}

/* A fulfilment that ended after expires_at is not taken in by reconcile
 * (whoever calls it): it answers 'expire' and leaves the reservation
 * pending in the expiry set, whose pass expires it. */
static void test_completed_late(void **state)
{
	struct wfp_claim w;
	char st[32], act[32];
	struct wfp_key ek = wfp_key_rsv_expiry(tag);
	redisReply *r;

	(void)state;
	pool("ips", 10);
	create("r1", 30, "ips 4");
	claim("r1.fulfil", &w);
	sleep_ms(50);
	finish(&w, WFP_OP_COMPLETE, "");
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "pending");
	assert_string_equal(act, "expire");
	expect_state("r1", "pending");
	assert_int_equal(pool_int("ips", "used"), 4);
	r = wfp_client_commandf(c, "ZSCORE %s r1", ek.s);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	freeReplyObject(r);
	assert_int_equal(expire_pass(), 1);
	assert_int_equal(reconcile("r1", st, act), 0);
	assert_string_equal(st, "expired");
	assert_string_equal(act, "teardown");
	/* one that failed late: the pass expires it, capacity back */
	create("r2", 30, "ips 2");
	claim("r2.fulfil", &w);
	sleep_ms(50);
	finish(&w, WFP_OP_FAIL, "task failed");
	assert_int_equal(reconcile("r2", st, act), 0);
	assert_string_equal(st, "pending");
	assert_string_equal(act, "expire");
	assert_int_equal(expire_pass(), 1);
	expect_state("r2", "expired");
	assert_int_equal(pool_int("ips", "used"), 4);
}

/* rsv_cleanup with retention_ms and limit; *looked gets ids looked at.
 * Returns how many it removed. */
static long long cleanup(long long retention, int limit, long long *looked)
{
	struct wfp_key k = wfp_key_rsv_open(tag);
	char ret[32], lim[16];
	const char *argv[4] = {k.s, tag, ret, lim};
	redisReply *r;
	long long n;

	snprintf(ret, sizeof(ret), "%lld", retention);
	snprintf(lim, sizeof(lim), "%d", limit);
	r = run(WFP_LUA_RSV_CLEANUP, 4, argv);
	n = el_int(r, 0);
	if (looked)
		*looked = el_int(r, 1);
	freeReplyObject(r);
	check_pools();
	return n;
}

/* 1 when reservation id's hash exists. */
static int rsv_exists(const char *id)
{
	redisReply *r =
	    wfp_client_commandf(c, "EXISTS %s", wfp_key_rsv(tag, id).s);
	int in = r && r->integer == 1;

	if (r)
		freeReplyObject(r);
	return in;
}

/* The score of id in state's index, or -1. */
static long long index_score(const char *state, const char *id)
{
	redisReply *r = wfp_client_commandf(c, "ZSCORE %s %s",
					    wfp_key_rsvs(tag, state).s, id);
	long long v = r && r->str ? atoll(r->str) : -1;

	if (r)
		freeReplyObject(r);
	return v;
}

/* Retention: failed, released and expired-with-capacity-back reservations
 * go after retention_ms with their index entries, a bounded number per
 * pass; active ones and expired ones whose capacity is not back stay;
 * an expired one's retention counts from when its capacity came back. */
static void test_cleanup(void **state)
{
	struct wfp_claim w;
	char st[32], act[32];
	long long looked;

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 1");
	run_job("r1.fulfil", WFP_OP_REVERT);
	reconcile("r1", st, act);
	expect_state("r1", "failed");
	create("r2", 60000, "ips 1");
	run_job("r2.fulfil", WFP_OP_COMPLETE);
	reconcile("r2", st, act);
	release_posts("r2", "active", "r2.release.1");
	run_job("r2.release.1", WFP_OP_COMPLETE);
	reconcile("r2", st, act);
	expect_state("r2", "released");
	create("r3", 1, "ips 1");
	sleep_ms(5);
	assert_int_equal(expire_pass(), 1); /* capacity back at once */
	create("r4", 60000, "ips 1");
	run_job("r4.fulfil", WFP_OP_COMPLETE);
	reconcile("r4", st, act);
	expect_state("r4", "active");
	create("r5", 30, "ips 1");
	claim("r5.fulfil", &w);
	sleep_ms(50);
	assert_int_equal(expire_pass(), 1); /* its job runs: not back */
	expect_state("r5", "expired");
	assert_int_equal(cleanup(60000, 100, NULL), 0);
	sleep_ms(20);
	assert_int_equal(cleanup(10, 1, &looked), 1); /* bounded */
	assert_int_equal(looked, 1);
	assert_false(rsv_exists("r1"));
	assert_int_equal(index_score("failed", "r1"), -1);
	assert_int_equal(cleanup(10, 100, &looked), 2);
	assert_int_equal(looked, 3); /* r2, r3, and r5 kept */
	assert_false(rsv_exists("r2"));
	assert_false(rsv_exists("r3"));
	assert_int_equal(index_score("released", "r2"), -1);
	assert_int_equal(index_score("expired", "r3"), -1);
	assert_false(is_open("r3"));
	assert_true(rsv_exists("r4"));
	assert_true(rsv_exists("r5"));
	assert_true(is_open("r5"));
	/* r5's capacity comes back now: its retention starts then */
	finish(&w, WFP_OP_REVERT, "cancelled");
	assert_int_equal(reconcile("r5", st, act), 1);
	assert_int_equal(index_score("expired", "r5"),
			 atoll(rsv_field("r5", "returned_at")));
	assert_int_equal(cleanup(200, 100, NULL), 0);
	sleep_ms(250);
	assert_int_equal(cleanup(200, 100, NULL), 1);
	assert_false(rsv_exists("r5"));
	assert_int_equal(jobs_left(), 0);
	assert_true(rsv_exists("r4"));
	assert_int_equal(pool_int("ips", "used"), 1);
}

/* Appends an entry to job's task log; its id goes to out. */
static void log_add(const char *job, char *out, size_t n)
{
	struct wfp_key k = wfp_key_log(tag, job);
	redisReply *r = wfp_client_commandf(c,
					    "XADD %s * task ip.reserve "
					    "state applied",
					    k.s);

	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	snprintf(out, n, "%s", r->str);
	freeReplyObject(r);
}

/* reconcile of item:ip = phase with the guard releases/entry. */
static void reconcile_guarded(const char *phase, const char *releases,
			      const char *entry)
{
	struct wfp_key k = wfp_key_rsv(tag, "r1");
	const char *argv[] = {k.s,	 tag,	"r1",	  "1",
			      "item:ip", phase, releases, entry};
	redisReply *r = run(WFP_LUA_RSV_RECONCILE, 8, argv);

	freeReplyObject(r);
}

/* Item fields computed from a log read before a later entry (another
 * replica read and wrote meanwhile) are not written over newer ones: the
 * guard (releases, last entry of the newest job's log) must still hold. */
static void test_reconcile_guard(void **state)
{
	char e1[64], e2[64];

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	reconcile_guarded("reserved", "0", "");
	assert_string_equal(rsv_field("r1", "item:ip"), "reserved");
	log_add("r1.fulfil", e1, sizeof(e1));
	reconcile_guarded("configured", "0", "");
	assert_string_equal(rsv_field("r1", "item:ip"), "reserved");
	reconcile_guarded("configured", "0", e1);
	assert_string_equal(rsv_field("r1", "item:ip"), "configured");
	log_add("r1.fulfil", e2, sizeof(e2));
	reconcile_guarded("reserved", "0", e1);
	assert_string_equal(rsv_field("r1", "item:ip"), "configured");
	reconcile_guarded("acquired", "1", e2);
	assert_string_equal(rsv_field("r1", "item:ip"), "configured");
	reconcile_guarded("acquired", "0", e2);
	assert_string_equal(rsv_field("r1", "item:ip"), "acquired");
}

/* One malformed call: script, words, expected message part. */
struct bad_call {
	enum wfp_script_id id;
	const char *argv[16];
	const char *want;
};

#define RK  "\x01rsv"  /* replaced by the rsv key of r1 */
#define PK  "\x01pool" /* replaced by the pool key of ips */
#define EK  "\x01exp"  /* replaced by the expiry set */
#define TAG "\x01tag"  /* replaced by the tag */
#define OK  "\x01open" /* replaced by the open set */

/* Every script refuses malformed arguments with BADARG (or NORSV) and
 * writes nothing. */
static void test_badarg(void **state)
{
	static const char id41[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const struct bad_call calls[] = {
	    {WFP_LUA_POOL_SET, {PK, TAG, "ips", "-1"}, "BADARG capacity"},
	    {WFP_LUA_POOL_SET, {PK, TAG, "ips", "1e3"}, "BADARG capacity"},
	    {WFP_LUA_POOL_SET,
	     {PK, TAG, "ips", "1000000000000001"},
	     "BADARG capacity"},
	    {WFP_LUA_POOL_SET, {PK, TAG, "ips"}, "BADARG expected 3-5"},
	    {WFP_LUA_POOL_SET, {PK, TAG, "ip s", "1"}, "BADARG pool name"},
	    {WFP_LUA_POOL_SET, {PK, TAG, "vols", "1"}, "BADARG key"},
	    {WFP_LUA_POOL_SET, {PK, "wfp", "ips", "1"}, "BADARG tag"},
	    {WFP_LUA_POOL_SET, {PK, TAG, "ips", "1", "x"}, "BADARG request"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "0", "ip"},
	     "BADARG amount"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "0", "3", PLAN, PAYLOAD, "", "0", "1", "ips",
	      "1", "ip"},
	     "BADARG ttl_ms"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "604800001", "3", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "1", "ip"},
	     "BADARG ttl_ms"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "0", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "1", "ip"},
	     "BADARG max_attempts"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", "{", PAYLOAD, "", "0", "1",
	      "ips", "1", "ip"},
	     "BADARG plan"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", PLAN, "[1]", "", "0", "1", "ips",
	      "1", "ip"},
	     "BADARG payload"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", PLAN, PAYLOAD, "", "0", "2",
	      "ips", "1", "ip"},
	     "BADARG expected 1-256 item names"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", PLAN, PAYLOAD, "", "0", "0",
	      "ips", "1", "ip"},
	     "BADARG npools"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", PLAN, PAYLOAD, "", "0", "2",
	      "ips", "1", "ips", "2", "ip"},
	     "BADARG pool name 'ips' is given twice"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "1", "ip", "ip"},
	     "BADARG item name 'ip' is given twice"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n", "1000", "3", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "1", "i.p"},
	     "BADARG item name"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r1", "n m", "1000", "3", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "1", "ip"},
	     "BADARG reservation name"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, "r.1", "n", "1000", "3", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "1", "ip"},
	     "BADARG reservation id"},
	    {WFP_LUA_RSV_CREATE,
	     {RK, TAG, id41, "n", "1000", "3", PLAN, PAYLOAD, "", "0", "1",
	      "ips", "1", "ip"},
	     "BADARG reservation id"},
	    {WFP_LUA_RSV_RELEASE, {RK, TAG, "r1", "[1]"}, "BADARG payload"},
	    {WFP_LUA_RSV_RELEASE, {RK, TAG, "r1"}, "BADARG expected 3-6"},
	    {WFP_LUA_RSV_RELEASE,
	     {RK, TAG, "r1", "", "", "0", "0"},
	     "BADARG retention_ms"},
	    {WFP_LUA_RSV_RECONCILE, {RK, TAG, "r1", "1"}, "BADARG expected 5"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "item:nosuch", "none"},
	     "BADARG field 'item:nosuch'"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "item:ip", "broken"},
	     "BADARG item:ip 'broken'"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "undo:ip", "destroy,,unreserve"},
	     "BADARG undo:ip"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "undo:ip", "reserve"},
	     "BADARG undo:ip"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "state", "released"},
	     "BADARG field 'state'"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "failed:ip", "fly"},
	     "BADARG failed:ip"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "out:ip", "[1]"},
	     "BADARG out:ip"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "out:ip", "{\"a\": 1"},
	     "BADARG out:ip"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "out:ip", "{\"a\": 1, \"a\": 2}"},
	     "BADARG out:ip"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "out:ip", "{\"a\": \"\xff\"}"},
	     "BADARG out:ip"},
	    {WFP_LUA_RSV_RECONCILE,
	     {RK, TAG, "r1", "1", "out:nosuch", "{}"},
	     "BADARG field 'out:nosuch'"},
	    {WFP_LUA_RSV_CLEANUP, {EK, TAG, "1000", "10"}, "BADARG key"},
	    {WFP_LUA_RSV_CLEANUP, {OK, TAG, "0", "10"}, "BADARG retention_ms"},
	    {WFP_LUA_RSV_CLEANUP, {OK, TAG, "1000", "0"}, "BADARG limit"},
	    {WFP_LUA_RSV_CLEANUP, {OK, TAG, "1000"}, "BADARG expected 3"},
	    {WFP_LUA_RSV_EXPIRE, {EK, TAG, "0"}, "BADARG limit"},
	    {WFP_LUA_RSV_EXPIRE, {RK, TAG, "10"}, "BADARG key"},
	};
	struct wfp_key rk = wfp_key_rsv(tag, "r1"),
		       pk = wfp_key_pool(tag, "ips"),
		       ek = wfp_key_rsv_expiry(tag), ok = wfp_key_rsv_open(tag);
	struct wfp_key nk = wfp_key_rsv(tag, "r9");
	const char *nosuch[] = {nk.s, tag, "r9", "0"};

	(void)state;
	pool("ips", 10);
	create("r1", 60000, "ips 4");
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const char *argv[16];
		int argc = 0;

		for (; argc < 16 && calls[i].argv[argc]; argc++) {
			const char *w = calls[i].argv[argc];

			argv[argc] = strcmp(w, RK) == 0	   ? rk.s
				     : strcmp(w, PK) == 0  ? pk.s
				     : strcmp(w, EK) == 0  ? ek.s
				     : strcmp(w, OK) == 0  ? ok.s
				     : strcmp(w, TAG) == 0 ? tag
							   : w;
		}
		refused(calls[i].id, argc, argv, calls[i].want);
	}
	refused(WFP_LUA_RSV_RECONCILE, 4, nosuch,
		"NORSV reservation r9 does not exist");
	nosuch[3] = "";
	refused(WFP_LUA_RSV_RELEASE, 4, nosuch,
		"NORSV reservation 'r9' does not exist");
}

/* lib.lua's K table builds the same reservation keys as common/keys.c. */
static void test_lua_keys_match_c(void **state)
{
	size_t len;
	char *text = wfp_script_with_body(
	    "return {K.pool('ips'), K.pools, K.poolrsv('ips'), K.rsv('r1'), "
	    "K.rsvs('pending'), K.rsv_expiry, K.rsv_jobs, K.rsv_open}",
	    &len);
	const char *argv[4] = {"EVAL", text, "0", tag};
	size_t lens[4] = {4, len, 1, strlen(tag)};
	redisReply *r = wfp_client_command(c, 4, argv, lens);
	struct wfp_key want[] = {
	    wfp_key_pool(tag, "ips"),	  wfp_key_pools(tag),
	    wfp_key_poolrsv(tag, "ips"),  wfp_key_rsv(tag, "r1"),
	    wfp_key_rsvs(tag, "pending"), wfp_key_rsv_expiry(tag),
	    wfp_key_rsv_jobs(tag),	  wfp_key_rsv_open(tag),
	};

	(void)state;
	free(text);
	assert_non_null(r);
	assert_int_equal(r->elements, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < r->elements; i++)
		assert_string_equal(r->element[i]->str, want[i].s);
	freeReplyObject(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_pool_set, setup),
	    cmocka_unit_test_setup(test_create_all_or_nothing, setup),
	    cmocka_unit_test_setup(test_concurrent_creates, setup),
	    cmocka_unit_test_setup(test_fulfil_completed, setup),
	    cmocka_unit_test_setup(test_release_active, setup),
	    cmocka_unit_test_setup(test_expire_posted, setup),
	    cmocka_unit_test_setup(test_expire_claimed_reverted, setup),
	    cmocka_unit_test_setup(test_expire_claimed_completed, setup),
	    cmocka_unit_test_setup(test_expired_release_first, setup),
	    cmocka_unit_test_setup(test_expire_next, setup),
	    cmocka_unit_test_setup(test_completed_in_time, setup),
	    cmocka_unit_test_setup(test_fulfil_reverted, setup),
	    cmocka_unit_test_setup(test_job_gone, setup),
	    cmocka_unit_test_setup(test_release_pending_posted, setup),
	    cmocka_unit_test_setup(test_release_pending_completes, setup),
	    cmocka_unit_test_setup(test_release_pending_then_expire, setup),
	    cmocka_unit_test_setup(test_teardown_fails, setup),
	    cmocka_unit_test_setup(test_expired_teardown_fails, setup),
	    cmocka_unit_test_setup(test_create_replay, setup),
	    cmocka_unit_test_setup(test_release_replay, setup),
	    cmocka_unit_test_setup(test_reconcile_fields, setup),
	    cmocka_unit_test_setup(test_reconcile_out, setup),
	    cmocka_unit_test_setup(test_completed_late, setup),
	    cmocka_unit_test_setup(test_cleanup, setup),
	    cmocka_unit_test_setup(test_reconcile_guard, setup),
	    cmocka_unit_test_setup(test_badarg, setup),
	    cmocka_unit_test_setup(test_lua_keys_match_c, setup),
	};
	int rc;

	c = itest_client(&cfg);
	tag = wfp_client_tag(c);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	itest_flush(c);
	wfp_client_free(c);
	return rc;
}
