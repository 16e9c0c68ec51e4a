/* Unit tests of the job state machine and its Lua rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/job.h"
#include "wfp/rsv.h"
#include "wfp/scripts.h"
#include "wfp/sha1.h"

static void test_words_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < WFP_JOB_STATE_COUNT; s++) {
		enum wfp_job_state back;

		assert_int_equal(
		    wfp_job_state_parse(wfp_job_state_name(s), &back), 0);
		assert_int_equal(back, s);
	}
	enum wfp_job_state x;
	assert_int_equal(wfp_job_state_parse("running", &x), -1);
	assert_string_equal(wfp_job_state_name(WFP_JOB_DEAD), "dead");
}

static void test_moves(void **state)
{
	enum wfp_job_state to;

	(void)state;
	assert_int_equal(wfp_job_next(WFP_JOB_POSTED, WFP_OP_CLAIM, &to), 0);
	assert_int_equal(to, WFP_JOB_CLAIMED);
	assert_int_equal(wfp_job_next(WFP_JOB_CLAIMED, WFP_OP_EXPIRE, &to), 0);
	assert_int_equal(to, WFP_JOB_POSTED);
	assert_int_equal(wfp_job_next(WFP_JOB_CLAIMED, WFP_OP_GIVE_UP, &to), 0);
	assert_int_equal(to, WFP_JOB_DEAD);
	/* A cancel reverts a posted job at once; a claimed job's cancel is a
	 * request to its executor (no move), a final job's is refused. */
	assert_int_equal(wfp_job_next(WFP_JOB_POSTED, WFP_OP_CANCEL, &to), 0);
	assert_int_equal(to, WFP_JOB_REVERTED);
	assert_int_equal(wfp_job_next(WFP_JOB_CLAIMED, WFP_OP_CANCEL, &to), -1);
	assert_string_equal(wfp_job_op_name(WFP_OP_CANCEL), "cancel");
	/* Nothing but repost leaves a final state. */
	for (int s = WFP_JOB_COMPLETED; s < WFP_JOB_STATE_COUNT; s++) {
		for (int op = 0; op < WFP_OP_COUNT; op++) {
			int ok = wfp_job_next(s, op, &to) == 0;
			assert_int_equal(ok, op == WFP_OP_REPOST);
		}
	}
	/* A posted job cannot be completed, heartbeated into dead, reposted. */
	assert_int_equal(wfp_job_next(WFP_JOB_POSTED, WFP_OP_COMPLETE, &to),
			 -1);
	assert_int_equal(wfp_job_next(WFP_JOB_POSTED, WFP_OP_REPOST, &to), -1);
	assert_int_equal(wfp_job_next(WFP_JOB_POSTED, WFP_OP_RELEASE, &to), -1);
	assert_true(wfp_job_state_final(WFP_JOB_REVERTED));
	assert_false(wfp_job_state_final(WFP_JOB_CLAIMED));
}

static void test_lua_table(void **state)
{
	char buf[2048];
	int n;

	(void)state;
	n = wfp_job_table_lua(buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "[\"posted\"]={[\"claim\"]=\"claimed\","));
	assert_non_null(strstr(buf, "[\"dead\"]={[\"repost\"]=\"posted\",}"));
	assert_non_null(strstr(buf, "[\"cancel\"]=\"reverted\","));
	assert_int_equal(wfp_job_table_lua(buf, 20), -1);
}

static void test_sha1_and_scripts(void **state)
{
	char hex[41];
	const struct wfp_script *s;

	(void)state;
	wfp_sha1_hex("abc", 3, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	wfp_sha1_hex("", 0, hex);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	/* 56 bytes: the padding spills into a second block. */
	wfp_sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		     56, hex);
	assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	s = wfp_script(WFP_LUA_CLAIM);
	assert_non_null(strstr(s->text, "local NEXT = {"));
	assert_non_null(strstr(s->text, "XREADGROUP"));
	wfp_sha1_hex(s->text, s->len, hex);
	assert_string_equal(hex, s->sha);
}

/* The function library: named after its content, every script but the
 * bare request ones registered as wfp_<hash>_<name>, FCALL in the call's
 * words, and Redis's errors for a missing function told apart. */
static void test_library(void **state)
{
	const struct wfp_script_library *lib = wfp_script_library();
	struct wfp_script_call call;
	const char *args[1] = {"{t}"};
	char sha[41], want[128], reg[160];
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(strlen(lib->hash), WFP_LIBRARY_HASH_LEN);
	assert_int_equal(strspn(lib->hash, "0123456789abcdef"),
			 WFP_LIBRARY_HASH_LEN);
	snprintf(want, sizeof(want), "#!lua name=wfp_%s\n", lib->hash);
	assert_memory_equal(lib->text, want, strlen(want));
	/* The hash is the text's with the placeholder name. */
	text = strdup(lib->text);
	assert_non_null(text);
	len = strlen(text);
	for (char *at = strstr(text, lib->hash); at; at = strstr(at, lib->hash))
		memcpy(at, "000000000000", WFP_LIBRARY_HASH_LEN);
	wfp_sha1_hex(text, len, sha);
	free(text);
	assert_memory_equal(sha, lib->hash, WFP_LIBRARY_HASH_LEN);
	for (int i = 0; i < WFP_LUA_COUNT; i++) {
		const struct wfp_script *s = wfp_script(i);
		int bare = i == WFP_LUA_REQUEST_ADD || i == WFP_LUA_REPLY ||
			   i == WFP_LUA_TAKEOVER || i == WFP_LUA_RECLAIM;

		snprintf(want, sizeof(want), "%s_%s", lib->name, s->name);
		assert_string_equal(s->fname, bare ? "" : want);
		snprintf(reg, sizeof(reg), "register_function('%s',", want);
		assert_true((strstr(lib->text, reg) == NULL) == bare);
		assert_int_equal(
		    wfp_script_call_init(&call, i, 0, 1, args, NULL), 0);
		assert_string_equal(call.argv[0], bare ? "EVALSHA" : "FCALL");
		assert_string_equal(call.argv[1], bare ? s->sha : s->fname);
		wfp_script_call_evalsha(&call, i);
		assert_string_equal(call.argv[1], s->sha);
	}
	assert_int_equal(wfp_script_error_no_function("ERR Function not found"),
			 1);
	assert_int_equal(
	    wfp_script_error_no_function("NOPERM this user has no permissions "
					 "to run the 'fcall' command"),
	    2);
	assert_int_equal(wfp_script_error_no_function("NOSCRIPT No matching"),
			 0);
	assert_int_equal(wfp_script_error_no_function("BADARG x"), 0);
}

/* Words of an rsv_reconcile call with npairs pairs: key, tag, id,
 * nfields, then the pairs. Returns what wfp_script_call_init says. */
static int reconcile_call(struct wfp_script_call *call, int npairs)
{
	static const char *argv[4 + 2 * 4 * WFP_RSV_ITEMS_MAX];
	int argc = 4 + 2 * npairs;

	for (int i = 0; i < argc; i++)
		argv[i] = "x";
	return wfp_script_call_init(call, WFP_LUA_RSV_RECONCILE, 1, argc, argv,
				    NULL);
}

/* A reservation's rsv_reconcile fields (4 per item, out:NAME too) do not
 * fit one call at WFP_RSV_ITEMS_MAX items: they go over calls of at most
 * WFP_RSV_RECONCILE_PAIRS_MAX pairs, which fit. */
static void test_reconcile_call_split(void **state)
{
	static struct wfp_script_call call;

	(void)state;
	assert_int_equal(reconcile_call(&call, WFP_RSV_RECONCILE_PAIRS_MAX), 0);
	assert_int_equal(call.argc, 3 + 4 + 2 * WFP_RSV_RECONCILE_PAIRS_MAX);
	assert_int_equal(reconcile_call(&call, 4 * WFP_RSV_ITEMS_MAX), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words_round_trip),
	    cmocka_unit_test(test_moves),
	    cmocka_unit_test(test_lua_table),
	    cmocka_unit_test(test_sha1_and_scripts),
	    cmocka_unit_test(test_library),
	    cmocka_unit_test(test_reconcile_call_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
