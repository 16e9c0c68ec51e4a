/* Unit tests of lock request validation (no Redis). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lock-internal.h"
#include "wfp/codec.h"
#include "wfp/keys.h"
#include "wfp/scripts.h"

static char err[512];
static const char token[] = "alice/0123456789abcdef0123456789abcdef";

/* Decodes buf and parses it as an acquire body. */
static int parse(msgpack_sbuffer *buf, struct lockd_acquire *a)
{
	msgpack_unpacked u;
	int rc;

	assert_int_equal(
	    wfp_codec_decode(buf->data, buf->size, &u, err, sizeof(err)), 0);
	rc = lockd_parse_acquire(&u.data, a, err, sizeof(err));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(buf);
	return rc;
}

/* Packs {names: [...], owner, token, ttl_ms} with n names. */
static void pack(msgpack_sbuffer *buf, const char *const *names, int n,
		 const char *owner, const char *tok, int64_t ttl)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(buf);
	msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	wfp_pack_cstr(&pk, "names");
	msgpack_pack_array(&pk, (size_t)n);
	for (int i = 0; i < n; i++)
		wfp_pack_cstr(&pk, names[i]);
	wfp_pack_kv(&pk, "owner", owner);
	wfp_pack_kv(&pk, "token", tok);
	wfp_pack_cstr(&pk, "ttl_ms");
	msgpack_pack_int64(&pk, ttl);
}

static void test_good_acquire(void **state)
{
	const char *names[] = {"db", "volume/vol-7"};
	struct lockd_acquire a;
	msgpack_sbuffer buf;

	(void)state;
	pack(&buf, names, 2, "alice", token, 1000);
	assert_int_equal(parse(&buf, &a), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.names[1], "volume/vol-7");
	assert_int_equal(a.ttl_ms, 1000);
	assert_int_equal(a.wait_ms, 0);
}

static void test_bad_acquires(void **state)
{
	const char *good[] = {"db"};
	const char *illegal[] = {"a b"};
	const char *twice[] = {"db", "db"};
	struct lockd_acquire a;
	msgpack_sbuffer buf;

	(void)state;
	pack(&buf, illegal, 1, "alice", token, 1000);
	assert_int_equal(parse(&buf, &a), -1);
	assert_non_null(strstr(err, "is not 1-128"));
	pack(&buf, twice, 2, "alice", token, 1000);
	assert_int_equal(parse(&buf, &a), -1);
	assert_non_null(strstr(err, "named twice"));
	pack(&buf, good, 1, "alice", token, 0);
	assert_int_equal(parse(&buf, &a), -1);
	assert_non_null(strstr(err, "ttl_ms"));
	pack(&buf, good, 1, "alice", token, 86400001);
	assert_int_equal(parse(&buf, &a), -1);
	pack(&buf, good, 1, "bob", token, 1000);
	assert_int_equal(parse(&buf, &a), -1);
	assert_non_null(strstr(err, "does not name the owner"));
	pack(&buf, good, 1, "alice", "alice/xyz", 1000);
	assert_int_equal(parse(&buf, &a), -1);
	pack(&buf, good, 0, "alice", token, 1000);
	assert_int_equal(parse(&buf, &a), -1);
}

static void test_checks(void **state)
{
	(void)state;
	assert_int_equal(wfp_lock_check_name("job:42/step-1", err, sizeof(err)),
			 0);
	assert_int_equal(wfp_lock_check_name("", err, sizeof(err)), -1);
	assert_int_equal(wfp_lock_check_name("a{b}", err, sizeof(err)), -1);
	assert_int_equal(wfp_lock_check_owner("exec-1@host", err, sizeof(err)),
			 0);
	assert_int_equal(wfp_lock_check_owner("a/b", err, sizeof(err)), -1);
	assert_int_equal(wfp_lock_check_token(token, err, sizeof(err)), 0);
	assert_int_equal(
	    wfp_lock_check_token("alice/0123456789ABCDEF0123456789abcdef", err,
				 sizeof(err)),
	    -1);
}

/* Asserts that script id defines `local NAME = value` (a limit the C
 * side enforces too), so the scripts and lock.h cannot drift apart. */
static void assert_lua_limit(enum wfp_script_id id, const char *name,
			     long long value)
{
	const char *text = wfp_script(id)->text;
	char line[128];
	const char *at;

	snprintf(line, sizeof(line), "\nlocal %s = %lld", name, value);
	at = strstr(text, line);
	if (at == NULL || (at[strlen(line)] != ' ' && at[strlen(line)] != '\n'))
		fail_msg("%s.lua does not say '%s'", wfp_script(id)->name,
			 line + 1);
}

/* The lock scripts refuse exactly what the C side refuses. */
static void test_script_limits(void **state)
{
	const enum wfp_script_id lock_ids[] = {
	    WFP_LUA_LOCK_ACQUIRE, WFP_LUA_LOCK_RELEASE, WFP_LUA_LOCK_RENEW,
	    WFP_LUA_LOCK_TICK};

	(void)state;
	for (size_t i = 0; i < sizeof(lock_ids) / sizeof(lock_ids[0]); i++) {
		enum wfp_script_id id = lock_ids[i];

		assert_lua_limit(id, "LOCK_NAME_MAX", WFP_LOCK_NAME_MAX - 1);
		assert_lua_limit(id, "LOCK_OWNER_MAX", WFP_LOCK_OWNER_MAX - 1);
		assert_lua_limit(id, "LOCK_PREFIX_MAX", WFP_LOCK_PREFIX_MAX);
		assert_lua_limit(id, "LOCK_MULTI_MAX", WFP_LOCK_MULTI_MAX);
		assert_lua_limit(id, "LOCK_TTL_MIN_MS", WFP_LOCK_TTL_MIN_MS);
		assert_lua_limit(id, "LOCK_TTL_MAX_MS", WFP_LOCK_TTL_MAX_MS);
		assert_lua_limit(id, "LOCK_WAIT_MAX_MS", WFP_LOCK_WAIT_MAX_MS);
		assert_lua_limit(id, "LOCK_TIME_MAX_MS", WFP_LOCK_TIME_MAX_MS);
		assert_lua_limit(id, "LOCK_TICK_LIMIT_MAX",
				 WFP_LOCK_TICK_LIMIT_MAX);
		assert_lua_limit(id, "LOCK_KEY_MAX", WFP_KEY_MAX - 1);
		assert_lua_limit(id, "LOCK_REPLY_MARGIN_MS",
				 WFP_LOCK_REPLY_MARGIN_MS);
		assert_lua_limit(id, "LOCK_INFO_GRACE_MS",
				 WFP_LOCK_INFO_GRACE_MS);
		assert_lua_limit(id, "LOCK_WAITERS_MAX", WFP_LOCK_WAITERS_MAX);
		assert_lua_limit(id, "LOCK_WAITERS_ALL_MAX",
				 WFP_LOCK_WAITERS_ALL_MAX);
	}
	assert_lua_limit(WFP_LUA_FENCE_CHECK, "FENCE_MAX", WFP_LOCK_FENCE_MAX);
	/* fence_check's owner limit is LIMIT.NAME, rendered from client.h. */
	assert_lua_limit(WFP_LUA_FENCE_CHECK, "RESOURCE_MAX",
			 WFP_LOCK_NAME_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_acquire),
	    cmocka_unit_test(test_bad_acquires),
	    cmocka_unit_test(test_checks),
	    cmocka_unit_test(test_script_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
