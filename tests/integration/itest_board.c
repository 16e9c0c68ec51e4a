/* Integration tests of the job board's scripts through the client library,
 * against a real redis-server (WFP_REDIS_URL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "itest_common.h"
#include "wfp/util.h"

static struct wfp_config cfg;
static struct wfp_client *c;

static int setup(void **state)
{
	(void)state;
	itest_flush(c);
	return 0;
}

/* Posts one job named name; returns its id in id. */
static void post(const char *name, int max_attempts, char id[WFP_ID_MAX])
{
	struct wfp_post p = {NULL, name, "{\"x\":1}", max_attempts, NULL, 1000};
	int created = 0;

	assert_int_equal(wfp_job_post(c, &p, id, &created), 0);
	assert_int_equal(created, 1);
}

/* Claims exactly one job for owner. */
static void claim_one(const char *owner, int64_t vis, struct wfp_claim *w)
{
	int n = 0;

	assert_int_equal(wfp_job_claim(c, owner, 1, vis, 0, w, &n), 0);
	assert_int_equal(n, 1);
}

/* Runs the reaper script once; returns reposted + dead. */
static long long reap(void)
{
	struct wfp_key leases = wfp_key_leases(wfp_client_tag(c));
	const char *argv[4] = {leases.s, wfp_client_tag(c), "100", "60000"};
	redisReply *r = wfp_client_eval(c, WFP_LUA_REAP, 1, 4, argv, NULL);
	long long n;

	assert_non_null(r);
	n = r->element[0]->integer + r->element[1]->integer;
	freeReplyObject(r);
	return n;
}

static void test_post_claim_complete(void **state)
{
	char id[WFP_ID_MAX], s[64], st[16];
	struct wfp_claim w;
	struct wfp_key k;
	redisReply *r;

	(void)state;
	post("flow", 3, id);
	itest_job_str(c, id, "state", s, sizeof(s));
	assert_string_equal(s, "posted");
	claim_one("exec-a", 10000, &w);
	assert_string_equal(w.id, id);
	/* The fence is floored at the server clock in microseconds. */
	assert_true(w.fence > (wfp_now_ms() - 60000) * 1000);
	assert_int_equal(itest_job_int(c, id, "fence"), w.fence);
	assert_int_equal(w.attempts, 1);
	assert_string_equal(w.payload, "{\"x\":1}");
	itest_job_str(c, id, "state", s, sizeof(s));
	assert_string_equal(s, "claimed");
	itest_job_str(c, id, "owner", s, sizeof(s));
	assert_string_equal(s, "exec-a");
	assert_int_equal(
	    wfp_job_finish(c, id, w.token, w.fence, WFP_OP_COMPLETE, NULL, st),
	    0);
	assert_string_equal(st, "completed");
	assert_true(itest_job_int(c, id, "finished_at") > 0);
	/* A finished job expires after the retention time. */
	k = wfp_key_job(wfp_client_tag(c), id);
	r = wfp_client_commandf(c, "PTTL %s", k.s);
	assert_true(r->integer > 0);
	freeReplyObject(r);
	/* Completing twice is refused. */
	assert_int_equal(
	    wfp_job_finish(c, id, w.token, 0, WFP_OP_COMPLETE, NULL, NULL), -1);
	assert_non_null(strstr(wfp_client_error(c), "STALE"));
	wfp_claims_release(&w, 1);
}

static void test_expired_owner_is_fenced_out(void **state)
{
	char id[WFP_ID_MAX], s[64];
	struct wfp_claim a, b;
	struct wfp_key dk;
	redisReply *r;

	(void)state;
	post("fence", 3, id);
	claim_one("exec-a", 100, &a);
	wfp_sleep_ms(150);
	assert_int_equal(reap(), 1);
	itest_job_str(c, id, "state", s, sizeof(s));
	assert_string_equal(s, "posted");
	claim_one("exec-b", 10000, &b);
	assert_true(b.fence > a.fence);
	assert_int_equal(b.attempts, 2);
	/* The old owner's writes are refused. */
	assert_int_equal(wfp_job_heartbeat(c, id, a.token, 1000, NULL), -1);
	assert_non_null(strstr(wfp_client_error(c), "STALE"));
	assert_int_equal(wfp_job_finish(c, id, a.token, a.fence,
					WFP_OP_COMPLETE, NULL, NULL),
			 -1);
	/* Right token, stale fence: refused too. */
	assert_int_equal(wfp_job_finish(c, id, b.token, a.fence,
					WFP_OP_COMPLETE, NULL, NULL),
			 -1);
	assert_int_equal(wfp_job_finish(c, id, b.token, b.fence,
					WFP_OP_COMPLETE, NULL, NULL),
			 0);
	/* The redelivery is recorded with its reason and previous owner. */
	dk = wfp_key_deliveries(wfp_client_tag(c), id);
	r = wfp_client_commandf(c, "XRANGE %s - +", dk.s);
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->element[1]->element[3]->str,
			    "heartbeat-timeout");
	assert_string_equal(r->element[0]->element[1]->element[5]->str,
			    "exec-a");
	freeReplyObject(r);
	wfp_claims_release(&a, 1);
	wfp_claims_release(&b, 1);
}

static void test_dead_after_max_attempts(void **state)
{
	char id[WFP_ID_MAX], s[256];
	struct wfp_claim w;
	struct wfp_key dl;
	redisReply *r;

	(void)state;
	post("doomed", 2, id);
	for (int i = 0; i < 2; i++) {
		claim_one("exec-a", 100, &w);
		wfp_claims_release(&w, 1);
		wfp_sleep_ms(130);
		assert_int_equal(reap(), 1);
	}
	itest_job_str(c, id, "state", s, sizeof(s));
	assert_string_equal(s, "dead");
	assert_int_equal(itest_job_int(c, id, "attempts"), 2);
	itest_job_str(c, id, "error", s, sizeof(s));
	assert_non_null(strstr(s, "gave up after 2 attempts"));
	dl = wfp_key_deadletter(wfp_client_tag(c));
	r = wfp_client_commandf(c, "XLEN %s", dl.s);
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);
}

static void test_fail_retries_then_dies(void **state)
{
	char id[WFP_ID_MAX], st[16];
	struct wfp_claim w;

	(void)state;
	post("flaky", 2, id);
	claim_one("exec-a", 10000, &w);
	assert_int_equal(
	    wfp_job_finish(c, id, w.token, 0, WFP_OP_RETRY, "boom", st), 0);
	assert_string_equal(st, "posted");
	wfp_claims_release(&w, 1);
	claim_one("exec-a", 10000, &w);
	assert_int_equal(
	    wfp_job_finish(c, id, w.token, 0, WFP_OP_RETRY, "boom", st), 0);
	assert_string_equal(st, "dead");
	wfp_claims_release(&w, 1);
	post("reverts", 3, id);
	claim_one("exec-a", 10000, &w);
	assert_int_equal(
	    wfp_job_finish(c, id, w.token, 0, WFP_OP_REVERT, "undone", st), 0);
	assert_string_equal(st, "reverted");
	wfp_claims_release(&w, 1);
}

static void test_idempotency_key(void **state)
{
	struct wfp_post p = {NULL, "once", NULL, 3, "order-42", 10000};
	char a[WFP_ID_MAX], b[WFP_ID_MAX];
	int created = -1;

	(void)state;
	assert_int_equal(wfp_job_post(c, &p, a, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(wfp_job_post(c, &p, b, &created), 0);
	assert_int_equal(created, 0);
	assert_string_equal(a, b);
	p.idem_key = "order-43";
	assert_int_equal(wfp_job_post(c, &p, b, &created), 0);
	assert_int_equal(created, 1);
	assert_string_not_equal(a, b);
}

/* post.lua with a request id twice: one job, and the repeat answers with
 * it instead of failing; another request (or none) for that id fails. */
static void test_repeated_request_posts_once(void **state)
{
	struct wfp_key job = wfp_key_job(wfp_client_tag(c), "derived01");
	const char *argv[9] = {
	    job.s,  wfp_client_tag(c), "derived01", "x", "3", "{}", "",
	    "1000", "1700000000000-0"};
	redisReply *r;

	(void)state;
	for (int i = 0; i < 2; i++) {
		r = wfp_client_eval(c, WFP_LUA_POST, 1, 9, argv, NULL);
		assert_non_null(r);
		assert_string_equal(r->element[0]->str, "derived01");
		assert_int_equal(r->element[1]->integer, i == 0 ? 1 : 0);
		freeReplyObject(r);
	}
	argv[8] = "1700000000000-1"; /* another request for an existing id */
	assert_null(wfp_client_eval(c, WFP_LUA_POST, 1, 9, argv, NULL));
	assert_non_null(strstr(wfp_client_error(c), "EXISTS"));
	assert_null(wfp_client_eval(c, WFP_LUA_POST, 1, 8, argv, NULL));
	assert_non_null(strstr(wfp_client_error(c), "EXISTS"));
}

static void test_heartbeat_keeps_the_job(void **state)
{
	char id[WFP_ID_MAX], s[32];
	struct wfp_claim w;
	int64_t lease = 0;

	(void)state;
	post("long", 3, id);
	claim_one("exec-a", 200, &w);
	for (int i = 0; i < 6; i++) {
		wfp_sleep_ms(80);
		assert_int_equal(wfp_job_heartbeat(c, id, w.token, 200, &lease),
				 0);
		assert_int_equal(reap(), 0);
	}
	assert_true(lease > wfp_now_ms());
	itest_job_str(c, id, "state", s, sizeof(s));
	assert_string_equal(s, "claimed");
	assert_int_equal(itest_job_int(c, id, "fence"), w.fence);
	wfp_claims_release(&w, 1);
}

static void test_noscript_recovery(void **state)
{
	char id[WFP_ID_MAX];
	struct wfp_claim w;
	redisReply *r;

	(void)state;
	post("flushed", 3, id);
	r = wfp_client_commandf(c, "SCRIPT FLUSH");
	freeReplyObject(r);
	claim_one("exec-a", 10000, &w);
	assert_string_equal(w.id, id);
	wfp_claims_release(&w, 1);
}

static void test_bad_input_refused(void **state)
{
	struct wfp_post p = {"bad id!", "x", NULL, 3, NULL, 1000};
	char id[WFP_ID_MAX];
	struct wfp_claim w[2];
	int n;

	(void)state;
	assert_int_equal(wfp_job_post(c, &p, id, NULL), -1);
	p.id = NULL, p.max_attempts = 0;
	assert_int_equal(wfp_job_post(c, &p, id, NULL), -1);
	p.max_attempts = 3, p.name = "";
	assert_int_equal(wfp_job_post(c, &p, id, NULL), -1);
	assert_int_equal(wfp_job_claim(c, "o", 0, 1000, 0, w, &n), -1);
	assert_int_equal(wfp_job_claim(c, "o", 1, 1000, 0, w, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(wfp_job_heartbeat(c, "nosuchjob", "t", 1000, NULL),
			 -1);
	assert_non_null(strstr(wfp_client_error(c), "NOJOB"));
}

static void test_claim_waits_for_a_post(void **state)
{
	struct wfp_claim w;
	int64_t t0 = wfp_mono_us();
	int n = -1;

	(void)state;
	/* Nothing posted: the wait runs out. */
	assert_int_equal(wfp_job_claim(c, "exec-a", 1, 1000, 200, &w, &n), 0);
	assert_int_equal(n, 0);
	assert_true(wfp_mono_us() - t0 >= 190000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_post_claim_complete, setup),
	    cmocka_unit_test_setup(test_expired_owner_is_fenced_out, setup),
	    cmocka_unit_test_setup(test_dead_after_max_attempts, setup),
	    cmocka_unit_test_setup(test_fail_retries_then_dies, setup),
	    cmocka_unit_test_setup(test_idempotency_key, setup),
	    cmocka_unit_test_setup(test_repeated_request_posts_once, setup),
	    cmocka_unit_test_setup(test_heartbeat_keeps_the_job, setup),
	    cmocka_unit_test_setup(test_noscript_recovery, setup),
	    cmocka_unit_test_setup(test_bad_input_refused, setup),
	    cmocka_unit_test_setup(test_claim_waits_for_a_post, setup),
	};
	int rc;

	c = itest_client(&cfg);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	itest_flush(c);
	wfp_client_free(c);
	return rc;
}
