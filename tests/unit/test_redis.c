/* Unit tests of which Redis error replies are transient (retried)
 * rather than refusals, and (with a real redis-server in WFP_REDIS_URL;
 * skipped without one) that a transient error reaches only the command
 * that met it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "wfp/config.h"
#include "wfp/redis.h"

#define PIPELINED 4 /* commands sent together in the transient test */

static void test_transient_words(void **state)
{
	(void)state;
	assert_true(
	    wfp_redis_error_transient("BUSY Redis is busy running a script."));
	assert_true(wfp_redis_error_transient(
	    "LOADING Redis is loading the dataset in memory"));
	assert_true(wfp_redis_error_transient(
	    "READONLY You can't write against a read only replica."));
	assert_true(wfp_redis_error_transient(
	    "OOM command not allowed when used memory > 'maxmemory'."));
	assert_true(wfp_redis_error_transient("TRYAGAIN Multiple keys"));
	assert_true(wfp_redis_error_transient("MOVED 3999 127.0.0.1:6381"));
	assert_true(wfp_redis_error_transient("ASK 3999 127.0.0.1:6381"));
	assert_true(wfp_redis_error_transient("MASTERDOWN Link is down"));
	assert_true(wfp_redis_error_transient(
	    "UNBLOCKED force unblock from blocking operation"));
	assert_true(
	    wfp_redis_error_transient("CLUSTERDOWN The cluster is down"));
	assert_true(wfp_redis_error_transient("BUSY"));
	assert_true(wfp_redis_error_transient(
	    "NOREPLICAS Not enough good replicas to write."));
}

static void test_refusals_are_not_transient(void **state)
{
	(void)state;
	assert_false(wfp_redis_error_transient("BUSYKEY Target key exists"));
	assert_false(wfp_redis_error_transient("STALE token is stale"));
	assert_false(wfp_redis_error_transient("NOSCRIPT No matching script"));
	assert_false(wfp_redis_error_transient("NOPERM no permissions"));
	assert_false(wfp_redis_error_transient("ERR OOM in the text"));
	assert_false(wfp_redis_error_transient("FULL request stream"));
	assert_false(wfp_redis_error_transient("oom lowercase"));
	assert_false(wfp_redis_error_transient(""));
	assert_false(wfp_redis_error_transient(NULL));
}

/* What each pipelined command got: -1 nothing yet, 0 NULL, 1 a reply. */
struct pipeline {
	struct event_base *base;
	int got[PIPELINED];
	long long incr; /* the last INCR's answer */
	int calm_after; /* wfp_redis_calm() when the error came */
};

static struct pipeline *the_pipeline;

/* Records command i's result; the last one ends the loop. */
static void record(int i, struct wfp_redis *r, redisReply *reply)
{
	struct pipeline *pl = the_pipeline;

	pl->got[i] = reply != NULL;
	if (reply && reply->type == REDIS_REPLY_INTEGER)
		pl->incr = reply->integer;
	if (i == 1)
		pl->calm_after = wfp_redis_calm(r);
	if (i == PIPELINED - 1)
		event_base_loopbreak(pl->base);
}

static void on_0(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)arg;
	record(0, r, reply);
}

static void on_1(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)arg;
	record(1, r, reply);
}

static void on_2(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)arg;
	record(2, r, reply);
}

static void on_3(struct wfp_redis *r, redisReply *reply, void *arg)
{
	(void)arg;
	record(3, r, reply);
}

/* Connected: SET, a script answering a transient error, a BLPOP whose
 * reply comes 100 ms later (after the error was handled), INCR, at once. */
static void on_up_send(struct wfp_redis *r, void *arg)
{
	const char *set[3] = {"SET", "wfp-test-redis:n", "1"};
	const char *busy[3] = {
	    "EVAL", "return redis.error_reply('BUSY pretend a script runs')",
	    "0"};
	const char *incr[2] = {"INCR", "wfp-test-redis:n"};
	const char *wait[3] = {"BLPOP", "wfp-test-redis:none", "0.1"};

	(void)arg;
	if (wfp_redis_connects(r) > 1)
		return; /* a reconnect: the test fails on the count */
	wfp_redis_command(r, 0, on_0, NULL, 3, set, NULL);
	wfp_redis_command(r, 0, on_1, NULL, 3, busy, NULL);
	wfp_redis_command(r, 0, on_2, NULL, 3, wait, NULL);
	wfp_redis_command(r, 0, on_3, NULL, 2, incr, NULL);
}

/* A transient error (BUSY) reaches only its own command: the commands
 * sent with it get their replies, the link is not dropped, and it is not
 * calm (retries wait) for a while. */
static void test_transient_only_its_command(void **state)
{
	const char *url = getenv("WFP_REDIS_URL");
	struct wfp_redis_addr addr;
	struct pipeline pl = {0};
	struct timeval limit = {5, 0};
	struct wfp_redis *r;
	char err[256];

	(void)state;
	if (url == NULL || url[0] == '\0')
		skip();
	assert_int_equal(wfp_redis_url_parse(url, &addr, err, sizeof(err)), 0);
	pl.base = event_base_new();
	assert_non_null(pl.base);
	for (int i = 0; i < PIPELINED; i++)
		pl.got[i] = -1;
	the_pipeline = &pl;
	r = wfp_redis_new(pl.base, &addr, "test", 2000);
	assert_non_null(r);
	wfp_redis_on_up(r, on_up_send, NULL);
	event_base_loopexit(pl.base, &limit);
	event_base_dispatch(pl.base);
	assert_int_equal(pl.got[0], 1);
	assert_int_equal(pl.got[1], 0); /* the transient error: NULL */
	assert_int_equal(pl.got[2], 1); /* not lost with it */
	assert_int_equal(pl.got[3], 1);
	assert_int_equal(pl.incr, 2);
	assert_int_equal(pl.calm_after, 0);
	assert_int_equal(wfp_redis_connects(r), 1);
	assert_true(wfp_redis_ready(r));
	wfp_redis_free(r);
	event_base_free(pl.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transient_words),
	    cmocka_unit_test(test_refusals_are_not_transient),
	    cmocka_unit_test(test_transient_only_its_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
