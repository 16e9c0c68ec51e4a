/* Unit tests of log line escaping: text from a request can never forge a
 * log line or carry terminal control codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wfp/log.h"

/* Escapes in (inlen bytes) into a 256-byte buffer and returns it. */
static const char *esc(const char *in, size_t inlen)
{
	static char out[256];

	wfp_log_escape(out, sizeof(out), in, inlen);
	return out;
}

static void test_plain_text_kept(void **state)
{
	(void)state;
	assert_string_equal(esc("request 1-0 dropped", 19),
			    "request 1-0 dropped");
}

static void test_line_breaks_and_tabs(void **state)
{
	const char *forged = "x\n2026-01-01T00:00:00.000Z error wfp: fake\r\t";

	(void)state;
	assert_string_equal(
	    esc(forged, strlen(forged)),
	    "x\\n2026-01-01T00:00:00.000Z error wfp: fake\\r\\t");
}

static void test_control_bytes_and_del(void **state)
{
	const char in[] = {'a', 0x1b, '[', '2', 'J', 0x00, 0x07, 0x7f, 'b'};

	(void)state;
	assert_string_equal(esc(in, sizeof(in)), "a\\x1b[2J\\x00\\x07\\x7fb");
}

static void test_backslash_escaped(void **state)
{
	(void)state;
	assert_string_equal(esc("a\\nb", 4), "a\\\\nb");
}

static void test_utf8_kept_invalid_escaped(void **state)
{
	const char *ok = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	const char bad[] = {(char)0xc0, (char)0xaf, (char)0xed, (char)0xa0,
			    (char)0x80, (char)0xe2, (char)0x82, (char)0xff};

	(void)state;
	assert_string_equal(esc(ok, strlen(ok)), ok);
	/* overlong '/', a surrogate, a cut sequence */
	assert_string_equal(esc(bad, sizeof(bad)),
			    "\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82\\xff");
}

static void test_cut_keeps_escapes_whole(void **state)
{
	char out[6];

	(void)state;
	assert_int_equal(wfp_log_escape(out, sizeof(out), "ab\n\n", 4), 4);
	assert_string_equal(out, "ab\\n");
	assert_int_equal(
	    wfp_log_escape(out, sizeof(out), "\xe2\x82\xac\xe2\x82\xac", 6), 3);
	assert_string_equal(out, "\xe2\x82\xac");
}

/* The whole line goes through the escaping: a message with a newline in
 * its argument is written as one line. */
static void test_log_line_is_one_line(void **state)
{
	int fds[2];
	char buf[4096];
	ssize_t n;
	int saved = dup(2);

	(void)state;
	assert_int_equal(pipe(fds), 0);
	dup2(fds[1], 2);
	wfp_log(WFP_LOG_WARN, "op '%s'", "x\nerror wfp: forged");
	fflush(stderr);
	dup2(saved, 2);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	close(saved);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "op 'x\\nerror wfp: forged'\n"));
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_text_kept),
	    cmocka_unit_test(test_line_breaks_and_tabs),
	    cmocka_unit_test(test_control_bytes_and_del),
	    cmocka_unit_test(test_backslash_escaped),
	    cmocka_unit_test(test_utf8_kept_invalid_escaped),
	    cmocka_unit_test(test_cut_keeps_escapes_whole),
	    cmocka_unit_test(test_log_line_is_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
