/* cmocka_fail.c - harness self-test: an assertion that fails on purpose.
 * selftest.sh runs it and expects cmocka to report the failure with a
 * non-zero exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* Passes: the control. */
static void test_passes(void **state)
{
	(void)state;
	assert_int_equal(1, 1);
}

/* Fails on purpose. */
static void test_fails_on_purpose(void **state)
{
	(void)state;
	assert_int_equal(1, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_passes),
	    cmocka_unit_test(test_fails_on_purpose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
