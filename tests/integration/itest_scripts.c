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

/* finish.lua takes only its five outcomes: `transfer` (in the move table)
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
		 (const char *const[]){"repost", "give_up", "expire", "claim",
				       "", NULL};
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
	const char *post_bad_ttl[8] = {job.s, tag,  "j2",  "n",
				       "3",   "{}", "key", "2592000001"};
	refused(WFP_LUA_POST, 8, post_bad_ttl, "BADARG idempotency TTL");
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

/* A request run after its deadline is never applied, whatever the
 * service saw when it sent the script (a stalled link, a paused Redis):
 * post, transfer and repost refuse it with TIMEOUT and change nothing; a
 * deadline still ahead, or none (a direct call), is served. */
static void test_request_after_deadline_refused(void **state)
{
	struct wfp_claim w;
	struct wfp_key late = wfp_key_job(tag, "late");
	struct wfp_key job = wfp_key_job(tag, "j9");
	const char *post[10] = {late.s, tag,	"late",
				"job",	"3",	"{}",
				"",	"1000", "1700000000000-1",
				"1000"};
	const char *transfer[8] = {
	    job.s, tag, "j9", "exec-b", "aaaa", "60000", "1700000000000-2",
	    "1000"};
	const char *repost[5] = {job.s, tag, "j9", "1700000000000-3", "1000"};
	char ahead[24];
	redisReply *r;

	(void)state;
	posted_and_claimed("j9", &w);
	refused(WFP_LUA_POST, 10, post, "TIMEOUT");
	refused(WFP_LUA_TRANSFER, 8, transfer, "TIMEOUT");
	refused(WFP_LUA_REPOST, 5, repost, "TIMEOUT");
	snprintf(ahead, sizeof(ahead), "%lld",
		 (long long)(wfp_now_ms() + 600000));
	post[9] = ahead;
	r = wfp_client_eval(c, WFP_LUA_POST, 1, 10, post, NULL);
	assert_non_null(r);
	freeReplyObject(r);
	repost[4] = "0";
	r = wfp_client_eval(c, WFP_LUA_REPOST, 1, 5, repost, NULL);
	assert_non_null(r);
	freeReplyObject(r);
	wfp_claims_release(&w, 1);
}

/* One payload: its bytes (a NUL inside, when len says so). */
struct payload {
	const char *s;
	size_t len; /* 0: strlen */
};

/* post.lua on payload p as job id: 1 when posted, 0 when refused as a
 * payload (any other error fails the test). */
static int lua_posts(const char *id, const struct payload *p)
{
	struct wfp_key job = wfp_key_job(tag, id);
	const char *argv[8] = {job.s, tag, id, "n", "3", p->s, "", "1000"};
	size_t lens[8];
	redisReply *r;

	for (int i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	if (p->len)
		lens[5] = p->len;
	r = wfp_client_eval(c, WFP_LUA_POST, 1, 8, argv, lens);
	if (r == NULL && strstr(wfp_client_error(c), "BADARG payload") == NULL)
		fail_msg("post.lua: %s", wfp_client_error(c));
	freeReplyObject(r);
	return r != NULL;
}

/* Whether the C side takes payload p (wfp_check_payload). */
static int c_takes(const struct payload *p)
{
	char err[256];

	return wfp_check_payload(p->s, err, sizeof(err)) == 0;
}

/* n nested arrays in an object: {"a":[[...]]}, n + 1 levels; the caller
 * frees it. */
static char *nested(int n)
{
	char *s = malloc((size_t)n * 2 + 16);

	assert_non_null(s);
	memcpy(s, "{\"a\":", 5);
	memset(s + 5, '[', (size_t)n);
	memset(s + 5 + n, ']', (size_t)n);
	memcpy(s + 5 + 2 * n, "}", 2);
	return s;
}

/* Every payload the scripts accept the C side accepts (and prints), and
 * the other way round: cjson.decode took repeated keys, 0x10, nan,
 * Infinity, 1e999, \u0000, raw control bytes and bytes after a NUL. */
static void test_payloads_c_and_lua_agree(void **state)
{
	static const struct payload refused_both[] = {
	    {"{\"a\":1,\"a\":2}", 0},
	    {"{\"a\":1,\"\\u0061\":2}", 0},
	    {"{\"o\":{\"b\":1,\"b\":1}}", 0},
	    {"{\"a\":0x10}", 0},
	    {"{\"a\":nan}", 0},
	    {"{\"a\":Infinity}", 0},
	    {"{\"a\":-Infinity}", 0},
	    {"{\"a\":\"\\u0000\"}", 0},
	    {"{\"a\":\"\x01\"}", 0},
	    {"{\"a\":\"tab\there\"}", 0},
	    {"{\"a\":1e999}", 0},
	    {"{\"a\":-1e999}", 0},
	    {"{\"a\":99999999999999999999}", 0},
	    {"{\"a\":01}", 0},
	    {"{\"a\":1.}", 0},
	    {"{\"a\":.5}", 0},
	    {"{\"a\":+1}", 0},
	    {"{\"a\":\"\\x41\"}", 0},
	    {"{\"a\":\"\\ud800\"}", 0},
	    {"{\"a\":\"\\udc00\"}", 0},
	    {"{\"a\":1,}", 0},
	    {"{\"a\":[1,]}", 0},
	    {"{'a':1}", 0},
	    {"{a:1}", 0},
	    {"{\"a\":1} x", 0},
	    {"{\"a\":1}{}", 0},
	    {"\f{\"a\":1}", 0},
	    {"{\"a\":\"\xff\"}", 0},
	    {"[1]", 0},
	    {"{\"a\":True}", 0},
	};
	static const struct payload taken_both[] = {
	    {"{}", 0},
	    {" {\"a\" : 1 }\n", 0},
	    {"{\"a\":{\"b\":{\"c\":[1,{\"a\":2}]}},\"b\":{\"a\":3}}", 0},
	    {"{\"s\":\"\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00\"}",
	     0},
	    {"{\"n\":[-0,0,1e5,1.5E-3,-12.25e+2,9223372036854775807,"
	     "-9223372036854775808]}",
	     0},
	    {"{\"t\":\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"}", 0},
	    {"{\"b\":[true,false,null,[],{}]}", 0},
	    {"{\"\":1,\"a\\u0000b\":0}", 0}, /* refused: \u0000 in a key */
	};
	static const struct payload nul = {"{\"a\":1}\0garbage", 15};
	char id[16];
	char *deep;

	(void)state;
	for (size_t i = 0; i < sizeof(refused_both) / sizeof(*refused_both);
	     i++) {
		snprintf(id, sizeof(id), "r%zu", i);
		if (lua_posts(id, &refused_both[i]) ||
		    c_takes(&refused_both[i]))
			fail_msg("payload %s was taken", refused_both[i].s);
	}
	assert_false(lua_posts("nul", &nul));
	for (size_t i = 0; i + 1 < sizeof(taken_both) / sizeof(*taken_both);
	     i++) {
		snprintf(id, sizeof(id), "t%zu", i);
		if (!lua_posts(id, &taken_both[i]) || !c_takes(&taken_both[i]))
			fail_msg("payload %s was refused", taken_both[i].s);
	}
	assert_false(lua_posts("k0", &taken_both[7]));
	assert_false(c_takes(&taken_both[7]));
	deep = nested(WFP_PAYLOAD_DEPTH_MAX - 1); /* the deepest taken */
	assert_true(lua_posts("d1", &(struct payload){deep, 0}));
	assert_true(c_takes(&(struct payload){deep, 0}));
	free(deep);
	deep = nested(WFP_PAYLOAD_DEPTH_MAX);
	assert_false(lua_posts("d2", &(struct payload){deep, 0}));
	assert_false(c_takes(&(struct payload){deep, 0}));
	free(deep);
}

/* Claim and transfer append to the token base ('.N', '.t'): a base that
 * would make the token longer than heartbeat and finish take is refused,
 * and the longest allowed one gives a token they take. */
static void test_token_base_capped(void **state)
{
	struct wfp_key job = wfp_key_job(tag, "j6");
	struct wfp_key stream = wfp_key_job_stream(tag);
	struct wfp_post p = {"j6", "job", "{}", 3, NULL, 1000};
	char base[WFP_TOKEN_MAX], got[WFP_ID_MAX], st[16];
	int64_t lease;
	redisReply *r;

	(void)state;
	memset(base, 'a', WFP_TOKEN_MAX - 1);
	base[WFP_TOKEN_MAX - 1] = '\0'; /* 79 bytes: a valid token itself */
	assert_int_equal(wfp_job_post(c, &p, got, NULL), 0);
	const char *claim[6] = {stream.s, tag, "o", "1", base, "60000"};
	refused(WFP_LUA_CLAIM, 6, claim, "BADARG token base");
	const char *xfer[6] = {job.s, tag, "j6", "o", base, "60000"};
	refused(WFP_LUA_TRANSFER, 6, xfer, "BADARG token base");
	base[WFP_TOKEN_MAX - 3] = '\0'; /* the longest a transfer takes */
	r = wfp_client_eval(c, WFP_LUA_TRANSFER, 1, 6, xfer, NULL);
	assert_non_null(r);
	assert_int_equal(strlen(r->element[2]->str), WFP_TOKEN_MAX - 1);
	assert_int_equal(
	    wfp_job_heartbeat(c, "j6", r->element[2]->str, 60000, &lease), 0);
	assert_int_equal(wfp_job_finish(c, "j6", r->element[2]->str, 0,
					WFP_OP_RETRY, "x", st),
			 0);
	freeReplyObject(r);
	base[WFP_TOKEN_MAX - 3] = 'a'; /* 78 bytes: 1 + 1 digit over */
	base[WFP_TOKEN_MAX - 2] = '\0';
	refused(WFP_LUA_CLAIM, 6, claim, "BADARG token base");
	base[WFP_TOKEN_MAX - 3] = '\0'; /* 77: ".1" makes 79 */
	r = wfp_client_eval(c, WFP_LUA_CLAIM, 1, 6, claim, NULL);
	assert_non_null(r);
	assert_int_equal(r->elements, 2);
	assert_int_equal(strlen(r->element[1]->element[1]->str),
			 WFP_TOKEN_MAX - 1);
	assert_int_equal(wfp_job_finish(c, "j6", r->element[1]->element[1]->str,
					0, WFP_OP_COMPLETE, "", st),
			 0);
	freeReplyObject(r);
}

/* Transfer A, transfer B, then A served again: A's first answer, nothing
 * applied again (the job stays with B under B's fence; A's token is not
 * handed out again since the job no longer holds it). A repost's request
 * id given to transfer is a BADARG, not a Lua error. No answer, and so no
 * token, is kept in the job hash. */
static void test_transfer_interleaved(void **state)
{
	struct wfp_claim w;
	struct wfp_key job = wfp_key_job(tag, "j7");
	const char *a[7] = {
	    job.s, tag, "j7", "exec-a", "aaaa", "60000", "1700000000000-1"};
	const char *b[7] = {
	    job.s, tag, "j7", "exec-b", "bbbb", "60000", "1700000000000-2"};
	redisReply *ra, *rb, *ra2, *r;

	(void)state;
	posted_and_claimed("j7", &w);
	ra = wfp_client_eval(c, WFP_LUA_TRANSFER, 1, 7, a, NULL);
	assert_non_null(ra);
	rb = wfp_client_eval(c, WFP_LUA_TRANSFER, 1, 7, b, NULL);
	assert_non_null(rb);
	a[4] = "cccc";
	ra2 = wfp_client_eval(c, WFP_LUA_TRANSFER, 1, 7, a, NULL);
	assert_non_null(ra2);
	assert_string_equal(ra2->element[0]->str, "claimed");
	assert_string_equal(ra2->element[1]->str, "exec-a");
	assert_string_equal(ra2->element[2]->str, "");
	assert_int_equal(ra2->element[3]->integer, ra->element[3]->integer);
	assert_int_equal(deliveries("j7"), 2);
	assert_int_equal(itest_job_int(c, "j7", "fence"),
			 rb->element[3]->integer);
	assert_int_equal(itest_job_int(c, "j7", "attempts"), 3);
	char owner[32];
	itest_job_str(c, "j7", "owner", owner, sizeof(owner));
	assert_string_equal(owner, "exec-b");
	r = wfp_client_commandf(c, "HGETALL %s", job.s);
	assert_non_null(r);
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (strcmp(r->element[i]->str, "token") != 0 &&
		    strstr(r->element[i + 1]->str, "bbbb") != NULL)
			fail_msg("field %s holds the token",
				 r->element[i]->str);
	freeReplyObject(r);
	const char *rp[4] = {job.s, tag, "j7", "1700000000000-3"};
	r = wfp_client_eval(c, WFP_LUA_REPOST, 1, 4, rp, NULL);
	assert_non_null(r);
	freeReplyObject(r);
	const char *x[7] = {
	    job.s, tag, "j7", "exec-a", "dddd", "60000", "1700000000000-3"};
	refused(WFP_LUA_TRANSFER, 7, x, "BADARG request id");
	const char *rp2[4] = {job.s, tag, "j7", "1700000000000-2"};
	refused(WFP_LUA_REPOST, 4, rp2, "BADARG request id");
	freeReplyObject(ra);
	freeReplyObject(rb);
	freeReplyObject(ra2);
	wfp_claims_release(&w, 1);
}

/* An owner hands back a claim it never started (its output failed): the
 * attempt is not counted, so a job with max_attempts 1 is posted again,
 * not dead, with a redelivery record 'released'. Token-checked. */
static void test_release_keeps_the_attempt(void **state)
{
	struct wfp_post p = {"j8", "job", "{}", 1, NULL, 1000};
	struct wfp_key dk = wfp_key_deliveries(tag, "j8");
	char got[WFP_ID_MAX], st[16];
	struct wfp_claim w;
	redisReply *r;
	int n = 0;

	(void)state;
	assert_int_equal(wfp_job_post(c, &p, got, NULL), 0);
	assert_int_equal(wfp_job_claim(c, "exec-a", 1, 60000, 0, &w, &n), 0);
	assert_int_equal(
	    wfp_job_finish(c, "j8", "wrong", 0, WFP_OP_RELEASE, "x", st), -1);
	assert_non_null(strstr(wfp_client_error(c), "STALE"));
	assert_int_equal(wfp_job_finish(c, "j8", w.token, w.fence,
					WFP_OP_RELEASE, "output failed", st),
			 0);
	assert_string_equal(st, "posted");
	assert_int_equal(itest_job_int(c, "j8", "attempts"), 0);
	r = wfp_client_commandf(c, "XREVRANGE %s + - COUNT 1", dk.s);
	assert_non_null(r);
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->element[1]->element[3]->str,
			    "released");
	freeReplyObject(r);
	wfp_claims_release(&w, 1);
}

/* deadletter.lua writes the reason as UTF-8 text (\xNN for other bytes)
 * in the dead letter and in the event's detail. */
static void test_deadletter_reason_as_text(void **state)
{
	struct wfp_key req = wfp_key_requests(tag, "jobboard");
	struct wfp_key dl = wfp_key_deadletter(tag);
	struct wfp_key ev = wfp_key_events(tag);
	const char *argv[6] = {req.s, tag,	  "jobboard",
			       "1-1", "jobboard", "unknown op 'bad\xffop'"};
	redisReply *r;

	(void)state;
	r = wfp_client_commandf(c, "XGROUP CREATE %s jobboard $ MKSTREAM",
				req.s);
	freeReplyObject(r);
	r = wfp_client_eval(c, WFP_LUA_DEADLETTER, 1, 6, argv, NULL);
	assert_non_null(r);
	freeReplyObject(r);
	r = wfp_client_commandf(c, "XREVRANGE %s + - COUNT 1", dl.s);
	assert_non_null(r);
	assert_non_null(
	    strstr(r->element[0]->element[1]->element[9]->str, "bad\\xffop"));
	freeReplyObject(r);
	r = wfp_client_commandf(c, "XREVRANGE %s + - COUNT 1", ev.s);
	assert_non_null(r);
	for (size_t i = 0; i < r->element[0]->element[1]->elements; i++) {
		const redisReply *f = r->element[0]->element[1]->element[i];
		assert_true(wfp_utf8_ok(f->str, f->len));
	}
	freeReplyObject(r);
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
	    "K.fence('res'), K.done('jobboard', '1-2'), K.waiter('o/ab'), "
	    "K.waiter_seq}");
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
	    wfp_key_done(tag, "jobboard", "1-2"),
	    wfp_key_waiter(tag, "o/ab"),
	    wfp_key_locks_seq(tag),
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
	    cmocka_unit_test_setup(test_request_after_deadline_refused, setup),
	    cmocka_unit_test_setup(test_payloads_c_and_lua_agree, setup),
	    cmocka_unit_test_setup(test_token_base_capped, setup),
	    cmocka_unit_test_setup(test_transfer_interleaved, setup),
	    cmocka_unit_test_setup(test_release_keeps_the_attempt, setup),
	    cmocka_unit_test_setup(test_deadletter_reason_as_text, setup),
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
