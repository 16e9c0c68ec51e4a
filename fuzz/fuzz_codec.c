/*
 * fuzz_codec.c - fuzz target: the msgpack checker and decoder
 * (common/codec.c) on any bytes, as a request body arrives from a stream.
 *
 * Checks: wfp_codec_check and wfp_msg_decode never crash, leak or read
 * past the message; what the checker accepts, msgpack-c unpacks whole
 * (the checker is what stands between hostile bytes and msgpack-c); a
 * refusal names its reason; the field readers (wfp_codec_get, _str, _int,
 * _only_keys) work on every decoded map.
 */
#include "fuzz.h"

/* Field names the readers are asked for (those of the services). */
static const char *const fields[] = {
    "id",     "name",	 "payload", "idempotency_key", "max_attempts",
    "to",     "reason",	 "names",   "owner",	       "token",
    "ttl_ms", "wait_ms", "file",    "capacity",	       NULL};

/* Reads every known field of map as a string and as an integer, and
 * every field the map holds through wfp_codec_get. */
static void read_fields(const msgpack_object *map)
{
	char err[FUZZ_ERR_MAX], out[64];
	int64_t v = 0;

	for (const char *const *f = fields; *f; f++) {
		err[0] = '\0';
		if (wfp_codec_str(map, *f, 1, out, sizeof(out), err,
				  sizeof(err)) == 0)
			FUZZ_ASSERT(strlen(out) < sizeof(out));
		else
			fuzz_refused(err);
		err[0] = '\0';
		if (wfp_codec_int(map, *f, 1, -5, 1000, &v, err, sizeof(err)) ==
		    0)
			FUZZ_ASSERT(v >= -5 && v <= 1000);
		else
			fuzz_refused(err);
	}
	err[0] = '\0';
	if (wfp_codec_only_keys(map, fields, err, sizeof(err)) != 0)
		fuzz_refused(err);
}

/* What the checker accepts must unpack whole with msgpack-c. */
static void unpacks_whole(const uint8_t *data, size_t size)
{
	msgpack_unpacked u;
	size_t off = 0;
	msgpack_unpack_return rc;

	msgpack_unpacked_init(&u);
	rc = msgpack_unpack_next(&u, (const char *)data, size, &off);
	FUZZ_ASSERT(rc == MSGPACK_UNPACK_SUCCESS);
	FUZZ_ASSERT(off == size);
	msgpack_unpacked_destroy(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERR_MAX] = "";
	struct wfp_msg m;

	if (wfp_codec_check((const char *)data, size, err, sizeof(err)) == 0)
		unpacks_whole(data, size);
	else
		fuzz_refused(err);
	err[0] = '\0';
	if (wfp_msg_decode(&m, (const char *)data, size, err, sizeof(err)) !=
	    0) {
		fuzz_refused(err);
		return 0;
	}
	FUZZ_ASSERT(m.u.data.type == MSGPACK_OBJECT_MAP);
	read_fields(&m.u.data);
	wfp_msg_destroy(&m);
	return 0;
}
