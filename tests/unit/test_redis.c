/* Unit tests of which Redis error replies are transient (retried after a
 * reconnect) rather than refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wfp/redis.h"

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
	assert_true(
	    wfp_redis_error_transient("CLUSTERDOWN The cluster is down"));
	assert_true(wfp_redis_error_transient("BUSY"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transient_words),
	    cmocka_unit_test(test_refusals_are_not_transient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
