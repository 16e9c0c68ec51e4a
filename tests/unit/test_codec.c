/* Unit tests of the msgpack codec's limits on hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "wfp/codec.h"

static char err[256];

/* Packs {"name": "x", "n": 5} into buf. */
static void pack_small(msgpack_sbuffer *buf)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(buf);
	msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	wfp_pack_kv(&pk, "name", "x");
	wfp_pack_cstr(&pk, "n");
	msgpack_pack_int(&pk, 5);
}

static void test_valid_map_decodes(void **state)
{
	msgpack_sbuffer buf;
	msgpack_unpacked u;
	char name[8];
	int64_t n = 0;

	(void)state;
	pack_small(&buf);
	assert_int_equal(
	    wfp_codec_decode(buf.data, buf.size, &u, err, sizeof(err)), 0);
	assert_int_equal(wfp_codec_str(&u.data, "name", 1, name, sizeof(name),
				       err, sizeof(err)),
			 0);
	assert_string_equal(name, "x");
	assert_int_equal(
	    wfp_codec_int(&u.data, "n", 1, 0, 10, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 5);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&buf);
}

static void test_huge_array32_refused(void **state)
{
	/* array32 declaring 0xff000000 elements in 5 bytes. */
	const char bad[] = {(char)0xdd, (char)0xff, 0, 0, 0};

	(void)state;
	assert_int_equal(wfp_codec_check(bad, sizeof(bad), err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "exceed"));
}

static void test_huge_map32_and_str32_refused(void **state)
{
	const char map[] = {(char)0xdf, 0x7f,	    (char)0xff,
			    (char)0xff, (char)0xff, 1};
	const char str[] = {(char)0xdb, 0x10, 0, 0, 0, 'a'};

	(void)state;
	assert_int_equal(wfp_codec_check(map, sizeof(map), err, sizeof(err)),
			 -1);
	assert_int_equal(wfp_codec_check(str, sizeof(str), err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "declared size"));
}

static void test_trailing_bytes_refused(void **state)
{
	msgpack_sbuffer buf;

	(void)state;
	pack_small(&buf);
	msgpack_sbuffer_write(&buf, "\x01", 1);
	assert_int_equal(wfp_codec_check(buf.data, buf.size, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "trailing"));
	msgpack_sbuffer_destroy(&buf);
}

static void test_truncated_refused(void **state)
{
	msgpack_sbuffer buf;

	(void)state;
	pack_small(&buf);
	assert_int_equal(
	    wfp_codec_check(buf.data, buf.size - 1, err, sizeof(err)), -1);
	assert_int_equal(wfp_codec_check(buf.data, 0, err, sizeof(err)), -1);
	msgpack_sbuffer_destroy(&buf);
}

static void test_depth_limit(void **state)
{
	char deep[64];

	(void)state;
	/* WFP_CODEC_MAX_DEPTH nested arrays are fine, one more is not. */
	memset(deep, (char)0x91, sizeof(deep));
	deep[WFP_CODEC_MAX_DEPTH] = 0x01;
	assert_int_equal(
	    wfp_codec_check(deep, WFP_CODEC_MAX_DEPTH + 1, err, sizeof(err)),
	    0);
	deep[WFP_CODEC_MAX_DEPTH] = (char)0x91;
	deep[WFP_CODEC_MAX_DEPTH + 1] = 0x01;
	assert_int_equal(
	    wfp_codec_check(deep, WFP_CODEC_MAX_DEPTH + 2, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "nesting"));
}

static void test_size_limit(void **state)
{
	static char big[WFP_CODEC_MAX_BYTES + 1];

	(void)state;
	assert_int_equal(wfp_codec_check(big, sizeof(big), err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "exceeds"));
}

static void test_not_a_map_and_invalid_byte(void **state)
{
	const char arr[] = {(char)0x91, 0x01};
	const char inv[] = {(char)0xc1};
	msgpack_unpacked u;

	(void)state;
	assert_int_equal(
	    wfp_codec_decode(arr, sizeof(arr), &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a map"));
	assert_int_equal(wfp_codec_check(inv, sizeof(inv), err, sizeof(err)),
			 -1);
}

static void test_unknown_keys_and_types(void **state)
{
	static const char *const allowed[] = {"name", NULL};
	msgpack_sbuffer buf;
	msgpack_unpacked u;
	char s[2];
	int64_t n;

	(void)state;
	pack_small(&buf);
	assert_int_equal(
	    wfp_codec_decode(buf.data, buf.size, &u, err, sizeof(err)), 0);
	assert_int_equal(
	    wfp_codec_only_keys(&u.data, allowed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown field 'n'"));
	/* "name" is a string, not an integer; n is out of range. */
	assert_int_equal(
	    wfp_codec_int(&u.data, "name", 1, 0, 9, &n, err, sizeof(err)), -1);
	assert_int_equal(
	    wfp_codec_int(&u.data, "n", 1, 6, 9, &n, err, sizeof(err)), -1);
	/* A 2-byte buffer holds at most 1 byte of string: "x" fits. */
	assert_int_equal(
	    wfp_codec_str(&u.data, "name", 1, s, sizeof(s), err, sizeof(err)),
	    0);
	assert_int_equal(wfp_codec_str(&u.data, "missing", 1, s, sizeof(s), err,
				       sizeof(err)),
			 -1);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&buf);
}

/* A map with a repeated string key is refused, whatever the encoding of
 * the repeat (fixstr and str8 of the same text), in small and big maps. */
static void test_repeated_key_refused(void **state)
{
	/* {"id": "a", "id": "b"} */
	const char two[] = "\x82\xa2id\xa1"
			   "a\xa2id\xa1"
			   "b";
	/* {"id": 1, str8 "id": 2} */
	const char mixed[] = "\x82\xa2id\x01\xd9\x02id\x02";
	/* {1: 1, 1: 2} */
	const char ints[] = "\x82\x01\x01\x01\x02";
	msgpack_sbuffer buf;
	msgpack_packer pk;
	char key[16];

	(void)state;
	assert_int_equal(
	    wfp_codec_check(two, sizeof(two) - 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "map key 'id' repeated"));
	assert_int_equal(
	    wfp_codec_check(mixed, sizeof(mixed) - 1, err, sizeof(err)), -1);
	assert_int_equal(
	    wfp_codec_check(ints, sizeof(ints) - 1, err, sizeof(err)), -1);
	/* 1,000 keys: unique passes, one repeat at the end is found. */
	for (int dup = 0; dup < 2; dup++) {
		msgpack_sbuffer_init(&buf);
		msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1000);
		for (int i = 0; i < 1000; i++) {
			snprintf(key, sizeof(key), "k%d",
				 dup && i == 999 ? 7 : i);
			wfp_pack_cstr(&pk, key);
			msgpack_pack_int(&pk, i);
		}
		assert_int_equal(
		    wfp_codec_check(buf.data, buf.size, err, sizeof(err)),
		    dup ? -1 : 0);
		msgpack_sbuffer_destroy(&buf);
	}
	assert_non_null(strstr(err, "map key 'k7' repeated"));
	/* Nested maps are checked too. */
	const char nested[] = "\x81\xa1m\x82\xa1x\x01\xa1x\x02";
	assert_int_equal(
	    wfp_codec_check(nested, sizeof(nested) - 1, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_map_decodes),
	    cmocka_unit_test(test_huge_array32_refused),
	    cmocka_unit_test(test_huge_map32_and_str32_refused),
	    cmocka_unit_test(test_trailing_bytes_refused),
	    cmocka_unit_test(test_truncated_refused),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_not_a_map_and_invalid_byte),
	    cmocka_unit_test(test_unknown_keys_and_types),
	    cmocka_unit_test(test_repeated_key_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
