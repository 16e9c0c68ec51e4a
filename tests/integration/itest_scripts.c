/* Integration tests of the board scripts' own guards, called directly as
 * any language would (EVALSHA / EVAL), against a real redis-server:
 * argument checks, fences floored at the clock, repeated requests, and
 * the Lua key builders agreeing with common/keys.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "itest_common.h"
#include "wfp/util.h"

static struct wfp_config cfg;
static struct wfp_client *c;
static const char *tag;

static int setup(void **state)
{
	(void)state;
	itest_flush(c);
	return 0;
}

/* Every key of the prefix with its value (DUMP) and whether it has a
 * TTL, as one string: equal snapshots mean nothing changed. The caller
 * frees the reply. */
static redisReply *snapshot(void)
{
	static const char lua[] =
	    "local ks = redis.call('KEYS', ARGV[1]) table.sort(ks) "
	    "local out = {} for _, k in ipairs(ks) do "
	    "out[#out + 1] = k .. '=' .. redis.call('DUMP', k) .. "
	    "(redis.call('PTTL', k) > 0 and ' ttl' or '') end "
	    "return table.concat(out, '|')";
	char pattern[WFP_KEY_MAX];
	const char *argv[4] = {"EVAL", lua, "0", pattern};
	redisReply *r;

	snprintf(pattern, sizeof(pattern), "%s*", tag);
	r = wfp_client_command(c, 4, argv, NULL);
	assert_non_null(r);
	return r;
}

/* Posts a job and claims it: its id in id, the claim in w. */
static void posted_and_claimed(const char *id, struct wfp_claim *w)
{
	struct wfp_post p = {id, "job", "{}", 3, NULL, 1000};
	char got[WFP_ID_MAX];
	int n = 0;

	assert_int_equal(wfp_job_post(c, &p, got, NULL), 0);
	assert_int_equal(wfp_job_claim(c, "exec-a", 1, 60000, 0, w, &n), 0);
	assert_int_equal(n, 1);
}

/* Runs script id with argv (argc words, one key first); expects a
 * refusal naming want, and no change to any key. */
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

/* finish.lua takes only the four outcomes: `transfer` (in the move table)
 * used to give a claimed job a TTL and drop it while claimed. */
static void test_finish_refuses_other_outcomes(void **state)
{
	struct wfp_claim w;
	struct wfp_key job = wfp_key_job(tag, "j1");
	char fence[24];
	const char *argv[8] = {job.s, tag,	  "j1", NULL,
			       fence, "transfer", "",	"60000"};

	(void)state;
	posted_and_claimed("j1", &w);
	argv[3] = w.token;
	snprintf(fence, sizeof(fence), "%lld", (long long)w.fence);
	refused(WFP_LUA_FINISH, 8, argv, "BADARG outcome 'transfer'");
	for (const char *const *o =
		 (const char *const[]){"release", "repost", "give_up", "expire",
				       "claim", "", NULL};
	     *o; o++) {
		argv[5] = *o;
		refused(WFP_LUA_FINISH, 8, argv, "BADARG outcome");
	}
	argv[5] = "complete";
	argv[4] = "1e3";
	refused(WFP_LUA_FINISH, 8, argv, "BADARG fence");
	argv[4] = fence, argv[7] = "-5";
	refused(WFP_LUA_FINISH, 8, argv, "BADARG retention_ms");
	argv[7] = "60000", argv[6] = "bad \xc3(";
	refused(WFP_LUA_FINISH, 8, argv, "BADARG reason");
	argv[6] = "", argv[0] = "{other}:job:j1";
	refused(WFP_LUA_FINISH, 8, argv, "BADARG key");
	argv[0] = job.s;
	refused(WFP_LUA_FINISH, 7, argv, "BADARG expected 7-7 arguments");
	/* The job is still claimed, without a TTL. */
	assert_int_equal(itest_job_int(c, "j1", "fence"), w.fence);
	wfp_claims_release(&w, 1);
}

/* Every other board script refuses arguments out of form. */
static void test_scripts_refuse_bad_arguments(void **state)
{
	struct wfp_claim w;
	struct wfp_key job = wfp_key_job(tag, "j2");
	struct wfp_key stream = wfp_key_job_stream(tag);
	struct wfp_key leases = wfp_key_leases(tag);
	struct wfp_key events = wfp_key_events(tag);
	struct wfp_key req = wfp_key_requests(tag, "jobboard");

	(void)state;
	posted_and_claimed("j2", &w);
	const char *post_bad_name[8] = {job.s, tag,  "j2", "n\x01",
					"3",   "{}", "",   "1000"};
	refused(WFP_LUA_POST, 8, post_bad_name, "BADARG name");
	const char *post_bad_payload[8] = {job.s, tag,	 "j2", "n",
					   "3",	  "[1]", "",   "1000"};
	refused(WFP_LUA_POST, 8, post_bad_payload, "BADARG payload");
	const char *post_bad_attempts[8] = {job.s,  tag,  "j2", "n",
					    "1001", "{}", "",	"1000"};
	refused(WFP_LUA_POST, 8, post_bad_attempts, "BADARG max_attempts");
	const char *post_bad_id[8] = {job.s, tag,  "j 2", "n",
				      "3",   "{}", "",	  "1000"};
	refused(WFP_LUA_POST, 8, post_bad_id, "BADARG job id");
	const char *post_bad_req[9] = {job.s, tag, "j2",   "n",	 "3",
				       "{}",  "",  "1000", "x-1"};
	refused(WFP_LUA_POST, 9, post_bad_req, "BADARG request id");
	const char *claim_bad_count[6] = {stream.s, tag,   "o",
					  "257",    "abc", "1000"};
	refused(WFP_LUA_CLAIM, 6, claim_bad_count, "BADARG count");
	const char *claim_bad_vis[6] = {stream.s, tag, "o", "1", "abc", "99"};
	refused(WFP_LUA_CLAIM, 6, claim_bad_vis, "BADARG visibility_ms");
	const char *claim_bad_tag[6] = {stream.s, "wfp", "o",
					"1",	  "abc", "1000"};
	refused(WFP_LUA_CLAIM, 6, claim_bad_tag, "BADARG tag");
	const char *hb_bad_token[5] = {job.s, tag, "j2", "a b", "1000"};
	refused(WFP_LUA_HEARTBEAT, 5, hb_bad_token, "BADARG token");
	const char *reap_bad_limit[4] = {leases.s, tag, "0", "1000"};
	refused(WFP_LUA_REAP, 4, reap_bad_limit, "BADARG limit");
	const char *reap_bad_key[4] = {job.s, tag, "10", "1000"};
	refused(WFP_LUA_REAP, 4, reap_bad_key, "BADARG key");
	const char *xfer_bad_owner[6] = {job.s,	 tag,	"j2",
					 "\xff", "abc", "1000"};
	refused(WFP_LUA_TRANSFER, 6, xfer_bad_owner, "BADARG owner");
	const char *repost_bad_id[3] = {job.s, tag, ""};
	refused(WFP_LUA_REPOST, 3, repost_bad_id, "BADARG job id");
	const char *clean_bad[5] = {events.s, tag, "1000", "100000", "1"};
	refused(WFP_LUA_CLEANUP, 5, clean_bad, "BADARG limit");
	const char *dl_bad[6] = {req.s, tag, "jobboard", "1-1", "lock", "x"};
	refused(WFP_LUA_DEADLETTER, 6, dl_bad, "BADARG key");
	wfp_claims_release(&w, 1);
}

/* A failover to a replica that missed the last claim: the job's fence
 * field is back at an older value. The next claim's fence (and a
 * transfer's) is still higher than every fence handed out before. */
static void test_fence_floored_after_failover(void **state)
{
	struct wfp_claim a, b;
	struct wfp_key job = wfp_key_job(tag, "j3");
	char st[16], fence[32];
	redisReply *r;

	(void)state;
	posted_and_claimed("j3", &a);
	assert_int_equal(
	    wfp_job_finish(c, "j3", a.token, 0, WFP_OP_RETRY, "x", st), 0);
	r = wfp_client_commandf(c, "HSET %s fence 0", job.s);
	freeReplyObject(r);
	assert_int_equal(wfp_job_claim(c, "exec-b", 1, 60000, 0, &b, &(int){0}),
			 0);
	assert_true(b.fence > a.fence);
	itest_job_str(c, "j3", "fence", fence, sizeof(fence));
	assert_null(strchr(fence, 'e')); /* digits, not 1.7e+15 */
	r = wfp_client_commandf(c, "HSET %s fence 1", job.s);
	freeReplyObject(r);
	const char *argv[6] = {job.s, tag, "j3", "exec-c", "abcd", "60000"};
	r = wfp_client_eval(c, WFP_LUA_TRANSFER, 1, 6, argv, NULL);
	assert_non_null(r);
	assert_true(r->element[3]->integer > b.fence);
	freeReplyObject(r);
	wfp_claims_release(&a, 1);
	wfp_claims_release(&b, 1);
}

/* XLEN of job id's redelivery records. */
static long long deliveries(const char *id)
{
	struct wfp_key k = wfp_key_deliveries(tag, id);
	redisReply *r = wfp_client_commandf(c, "XLEN %s", k.s);
	long long n = r ? r->integer : -1;

	freeReplyObject(r);
	return n;
}

/* A transfer request served twice (same request id) answers as the first
 * time: same token and fence, one redelivery record; so does a repost. */
static void test_transfer_served_twice(void **state)
{
	struct wfp_claim w;
	struct wfp_key job = wfp_key_job(tag, "j4");
	const char *argv[7] = {
	    job.s, tag, "j4", "exec-b", "aaaa", "60000", "1700000000000-7"};
	redisReply *r1, *r2;

	(void)state;
	posted_and_claimed("j4", &w);
	r1 = wfp_client_eval(c, WFP_LUA_TRANSFER, 1, 7, argv, NULL);
	assert_non_null(r1);
	argv[4] = "bbbb"; /* a second serving draws other random bits */
	r2 = wfp_client_eval(c, WFP_LUA_TRANSFER, 1, 7, argv, NULL);
	assert_non_null(r2);
	assert_string_equal(r1->element[2]->str, r2->element[2]->str);
	assert_int_equal(r1->element[3]->integer, r2->element[3]->integer);
	assert_int_equal(deliveries("j4"), 1);
	freeReplyObject(r1);
	freeReplyObject(r2);
	/* A repost served twice posts the job once. */
	const char *rp[4] = {job.s, tag, "j4", "1700000000000-8"};
	for (int i = 0; i < 2; i++) {
		r1 = wfp_client_eval(c, WFP_LUA_REPOST, 1, 4, rp, NULL);
		assert_non_null(r1);
		assert_string_equal(r1->str, "posted");
		freeReplyObject(r1);
	}
	assert_int_equal(deliveries("j4"), 2);
	wfp_claims_release(&w, 1);
}

/* Runs the prelude and body (returning a list of strings) with ARGV[1] =
 * the tag; returns the reply. */
static redisReply *lua_eval(const char *body)
{
	size_t len;
	char *text = wfp_script_with_body(body, &len);
	const char *argv[4] = {"EVAL", text, "0", tag};
	size_t lens[4] = {4, len, 1, strlen(tag)};
	redisReply *r = wfp_client_command(c, 4, argv, lens);

	free(text);
	assert_non_null(r);
	return r;
}

/* lib.lua's K table builds the same key names as common/keys.c. */
static void test_lua_keys_match_c(void **state)
{
	redisReply *r = lua_eval(
	    "return {K.job('x'), K.deliveries('x'), K.log('x'), "
	    "K.index('posted'), K.idem('order-1'), K.lock('a/b'), "
	    "K.lockinfo('n'), K.lockfence('n'), K.lockq('n'), K.held, "
	    "K.waiters, K.stream, K.leases, K.owners, K.dead, K.events, "
	    "K.requests('jobboard'), K.replicas('lock'), K.reply('nonce'), "
	    "K.fence('res')}");
	struct wfp_key want[] = {
	    wfp_key_job(tag, "x"),
	    wfp_key_deliveries(tag, "x"),
	    wfp_key_log(tag, "x"),
	    wfp_key_index(tag, "posted"),
	    wfp_key_idem(tag, "order-1"),
	    wfp_key_lock(tag, "a/b"),
	    wfp_key_lockinfo(tag, "n"),
	    wfp_key_lockfence(tag, "n"),
	    wfp_key_lockq(tag, "n"),
	    wfp_key_locks_held(tag),
	    wfp_key_locks_waiters(tag),
	    wfp_key_job_stream(tag),
	    wfp_key_leases(tag),
	    wfp_key_owners(tag),
	    wfp_key_deadletter(tag),
	    wfp_key_events(tag),
	    wfp_key_requests(tag, "jobboard"),
	    wfp_key_replicas(tag, "lock"),
	    wfp_key_reply(tag, "nonce"),
	    wfp_key_fence(tag, "res"),
	};
	size_t n = sizeof(want) / sizeof(want[0]);

	(void)state;
	assert_int_equal(r->elements, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->element[i]->str, want[i].s);
	freeReplyObject(r);
}

/* The limits the scripts enforce are the C constants. */
static void test_lua_limits_match_c(void **state)
{
	redisReply *r = lua_eval(
	    "return {LIMIT.ID, LIMIT.NAME, LIMIT.TOKEN, LIMIT.PAYLOAD, "
	    "LIMIT.REASON, LIMIT.IDEM_KEY, LIMIT.MAX_ATTEMPTS, "
	    "LIMIT.CLAIM_BATCH, LIMIT.LEASE_MIN_MS, LIMIT.LEASE_MAX_MS, "
	    "REPLY_TTL_MS}");
	long long want[] = {
	    WFP_ID_MAX - 1,	    WFP_NAME_MAX - 1,	 WFP_TOKEN_MAX - 1,
	    WFP_PAYLOAD_MAX,	    WFP_REASON_MAX - 1,	 WFP_IDEM_KEY_MAX - 1,
	    WFP_MAX_ATTEMPTS_LIMIT, WFP_CLAIM_BATCH_MAX, WFP_LEASE_MIN_MS,
	    WFP_LEASE_MAX_MS,	    WFP_REPLY_TTL_MS};
	size_t n = sizeof(want) / sizeof(want[0]);

	(void)state;
	assert_int_equal(r->elements, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r->element[i]->integer, want[i]);
	freeReplyObject(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_finish_refuses_other_outcomes, setup),
	    cmocka_unit_test_setup(test_scripts_refuse_bad_arguments, setup),
	    cmocka_unit_test_setup(test_fence_floored_after_failover, setup),
	    cmocka_unit_test_setup(test_transfer_served_twice, setup),
	    cmocka_unit_test_setup(test_lua_keys_match_c, setup),
	    cmocka_unit_test_setup(test_lua_limits_match_c, setup),
	};
	int rc;

	c = itest_client(&cfg);
	tag = wfp_client_tag(c);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	itest_flush(c);
	wfp_client_free(c);
	return rc;
}
