/* Unit tests of the job board's request validation (no Redis). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "jobboard-internal.h"
#include "wfp/client.h"
#include "wfp/codec.h"

static char err[512];

/* Packs a map of n string pairs kv[0..2n) plus an optional int field. */
static void pack(msgpack_sbuffer *buf, const char *const *kv, int n,
		 const char *ikey, int64_t ival)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(buf);
	msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (size_t)n + (ikey ? 1 : 0));
	for (int i = 0; i < n; i++)
		wfp_pack_kv(&pk, kv[2 * i], kv[2 * i + 1]);
	if (ikey) {
		wfp_pack_cstr(&pk, ikey);
		msgpack_pack_int64(&pk, ival);
	}
}

/* Parses the packed body; returns jobboard_parse_post's result. */
static int parse(const char *const *kv, int n, const char *ikey, int64_t ival,
		 struct jobboard_post *p)
{
	msgpack_sbuffer buf;
	msgpack_unpacked u;
	int rc;

	pack(&buf, kv, n, ikey, ival);
	assert_int_equal(
	    wfp_codec_decode(buf.data, buf.size, &u, err, sizeof(err)), 0);
	rc = jobboard_parse_post(&u.data, p, err, sizeof(err));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&buf);
	return rc;
}

static void test_good_post(void **state)
{
	const char *kv[] = {"name", "vm", "payload", "{\"a\":1}"};
	struct jobboard_post p;

	(void)state;
	assert_int_equal(parse(kv, 2, "max_attempts", 5, &p), 0);
	assert_string_equal(p.name, "vm");
	assert_int_equal(p.max_attempts, 5);
	assert_string_equal(p.payload, "{\"a\":1}");
	free(p.payload);
}

static void test_bad_posts(void **state)
{
	const char *unknown[] = {"name", "vm", "colour", "red"};
	const char *noname[] = {"payload", "{}"};
	const char *badjson[] = {"name", "vm", "payload", "{\"a\":"};
	const char *array[] = {"name", "vm", "payload", "[1,2]"};
	const char *dup[] = {"name", "vm", "payload", "{\"a\":1,\"a\":2}"};
	const char *badid[] = {"name", "vm", "id", "a b"};
	struct jobboard_post p;

	(void)state;
	assert_int_equal(parse(unknown, 2, NULL, 0, &p), -1);
	assert_non_null(strstr(err, "unknown field 'colour'"));
	free(p.payload);
	assert_int_equal(parse(noname, 1, NULL, 0, &p), -1);
	assert_non_null(strstr(err, "missing field 'name'"));
	free(p.payload);
	assert_int_equal(parse(badjson, 2, NULL, 0, &p), -1);
	assert_non_null(strstr(err, "not JSON"));
	free(p.payload);
	assert_int_equal(parse(array, 2, NULL, 0, &p), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	free(p.payload);
	assert_int_equal(parse(dup, 2, NULL, 0, &p), -1);
	free(p.payload);
	assert_int_equal(parse(badid, 2, NULL, 0, &p), -1);
	free(p.payload);
	assert_int_equal(parse(unknown, 1, "max_attempts", 0, &p), -1);
	assert_non_null(strstr(err, "max_attempts"));
	free(p.payload);
	assert_int_equal(parse(unknown, 1, "max_attempts", 1001, &p), -1);
	free(p.payload);
}

/* A JSON object of exactly n bytes: {"a":"xxx...x"}. */
static char *object_of(size_t n)
{
	char *s = malloc(n + 1);

	memcpy(s, "{\"a\":\"", 6);
	memset(s + 6, 'x', n - 8);
	memcpy(s + n - 2, "\"}", 3);
	return s;
}

static void test_payload_limit(void **state)
{
	char *at = object_of(WFP_PAYLOAD_MAX),
	     *over = object_of(WFP_PAYLOAD_MAX + 1);
	const char *kv[] = {"name", "vm", "payload", at};
	struct jobboard_post p;

	(void)state;
	assert_int_equal(parse(kv, 2, NULL, 0, &p), 0);
	assert_int_equal(strlen(p.payload), WFP_PAYLOAD_MAX);
	free(p.payload);
	kv[3] = over;
	assert_int_equal(parse(kv, 2, NULL, 0, &p), -1);
	assert_non_null(strstr(err, "longer than 262144 bytes"));
	free(p.payload);
	kv[3] = "";
	assert_int_equal(parse(kv, 2, NULL, 0, &p), 0);
	assert_string_equal(p.payload, "{}");
	free(p.payload);
	free(at);
	free(over);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_post),
	    cmocka_unit_test(test_bad_posts),
	    cmocka_unit_test(test_payload_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
