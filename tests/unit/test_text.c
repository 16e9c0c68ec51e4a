/* Unit tests of the one text and job-document check shared by the client
 * library, the board's post handler and the CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "wfp/client.h"
#include "wfp/util.h"

static char err[256];

/* wfp_text_ok on a NUL-terminated string. */
static int text(const char *s)
{
	return wfp_text_ok(s, strlen(s));
}

static void test_valid_text(void **state)
{
	(void)state;
	assert_true(text("plain ascii"));
	assert_true(text("caf\xc3\xa9"));      /* U+00E9, 2 bytes */
	assert_true(text("\xe2\x82\xac 5"));   /* U+20AC, 3 bytes */
	assert_true(text("\xf0\x9f\x9a\x80")); /* U+1F680, 4 bytes */
	assert_true(text("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last */
	assert_true(text("\xed\x9f\xbf"));     /* U+D7FF, below surrogates */
	assert_true(text("\xc2\xa0"));	       /* U+00A0, after C1 */
	assert_true(wfp_text_ok("", 0));
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	assert_false(text("\xc0\xaf"));		/* overlong '/' */
	assert_false(text("\xe0\x80\xaf"));	/* overlong, 3 bytes */
	assert_false(text("\xf0\x80\x80\xaf")); /* overlong, 4 bytes */
	assert_false(text("\xc3"));		/* truncated */
	assert_false(text("ab\xe2\x82"));	/* truncated at the end */
	assert_false(text("\xed\xa0\x80"));	/* U+D800, a surrogate */
	assert_false(text("\xed\xbf\xbf"));	/* U+DFFF */
	assert_false(text("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(text("\xf5\x80\x80\x80")); /* lead byte past F4 */
	assert_false(text("\x80"));		/* lone continuation */
	assert_false(text("\xff"));
	assert_false(text("a\xc3(b")); /* bad continuation */
	assert_true(wfp_utf8_ok("\x01", 1));
}

static void test_control_characters(void **state)
{
	(void)state;
	assert_false(text("tab\there"));
	assert_false(text("line\n"));
	assert_false(text("del\x7f"));
	assert_false(text("c1 \xc2\x85")); /* U+0085 NEL */
	assert_false(text("c1 \xc2\x9f")); /* U+009F */
	assert_false(wfp_text_ok("a\0b", 3));
}

static void test_checks(void **state)
{
	char long_name[WFP_NAME_MAX + 1];

	(void)state;
	assert_int_equal(wfp_check_name("name", "ok", err, sizeof(err)), 0);
	assert_int_equal(wfp_check_name("name", "\xc3(", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name is not UTF-8 text"));
	assert_int_equal(wfp_check_name("owner", "", err, sizeof(err)), -1);
	memset(long_name, 'a', WFP_NAME_MAX);
	long_name[WFP_NAME_MAX] = '\0';
	assert_int_equal(wfp_check_name("name", long_name, err, sizeof(err)),
			 -1);
	long_name[WFP_NAME_MAX - 1] = '\0';
	assert_int_equal(wfp_check_name("name", long_name, err, sizeof(err)),
			 0);
	assert_int_equal(wfp_check_reason(NULL, err, sizeof(err)), 0);
	assert_int_equal(wfp_check_reason("disk \xff", err, sizeof(err)), -1);
	assert_int_equal(wfp_check_token("abc.1", err, sizeof(err)), 0);
	assert_int_equal(wfp_check_token("a b", err, sizeof(err)), -1);
}

static void test_post_document(void **state)
{
	struct wfp_post p = {NULL, "job", "{\"a\":1}", 3, NULL, 1000};

	(void)state;
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), 0);
	p.payload = "[1]";
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	p.payload = "{\"a\":\"\xc3(\"}";
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), -1);
	p.payload = "{\"a\":1,\"a\":2}";
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), -1);
	p.payload = "{";
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), -1);
	p.payload = NULL, p.name = "bad \xe0\x80\xaf";
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), -1);
	p.name = "job", p.idem_key = "key\x01";
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "idempotency_key"));
	p.idem_key = "order-\xc3\xa9";
	assert_int_equal(wfp_post_check(&p, err, sizeof(err)), 0);
}

/* wfp_quote: printable ASCII kept, other bytes as \xNN, at most
 * WFP_QUOTE_MAX input bytes, never an escape cut by a small buffer; the
 * refusals that quote input use it. */
static void test_quote(void **state)
{
	char q[WFP_QUOTE_BUF], small[10], long_id[200];

	(void)state;
	assert_string_equal(wfp_quote(q, sizeof(q), "bad\xffop", 6),
			    "bad\\xffop");
	assert_string_equal(wfp_quote(q, sizeof(q), "a\\'\0b", 5),
			    "a\\x5c\\x27\\x00b");
	assert_string_equal(wfp_quote(small, sizeof(small), "ab\xc3\xa9", 4),
			    "ab\\xc3...");
	assert_string_equal(wfp_quote(small, 9, "ab\xc3\xa9", 4), "ab...");
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	wfp_quote(q, sizeof(q), long_id, strlen(long_id));
	assert_int_equal(strlen(q), WFP_QUOTE_MAX + 3);
	assert_string_equal(q + WFP_QUOTE_MAX, "...");
	long_id[62] = '\xe2', long_id[63] = '\x82', long_id[64] = '\xac';
	assert_int_equal(wfp_check_id("job id", long_id, err, sizeof(err)), -1);
	assert_true(wfp_utf8_ok(err, strlen(err)));
	assert_int_equal(wfp_check_token("t\xc3", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'t\\xc3'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_text),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_checks),
	    cmocka_unit_test(test_post_document),
	    cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
