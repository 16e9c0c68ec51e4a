/*
 * codec.h - msgpack decoding that is safe on hostile input.
 *
 * Everything that arrives on a stream (request bodies, replies) passes
 * wfp_codec_decode() before anything reads it. The checker walks the raw
 * bytes first and refuses, with a reason, anything that would make
 * msgpack-c allocate more than the message could hold:
 *   - messages larger than WFP_CODEC_MAX_BYTES;
 *   - a string, binary or container whose declared size exceeds the bytes
 *     left (a 5-byte array32 header would otherwise allocate gigabytes);
 *   - nesting deeper than WFP_CODEC_MAX_DEPTH;
 *   - more than WFP_CODEC_MAX_ITEMS objects in all;
 *   - trailing bytes after the first object, or a truncated object;
 *   - a map with the same string key twice (no "first one wins").
 * Strings inside a decoded object point into the unpacked zone and are not
 * NUL-terminated; the helpers below copy them out.
 */
#ifndef WFP_CODEC_H
#define WFP_CODEC_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define WFP_CODEC_MAX_BYTES (1024 * 1024) /* one message */
#define WFP_CODEC_MAX_DEPTH 8		  /* container nesting */
#define WFP_CODEC_MAX_ITEMS 65536	  /* objects in one message */

/*
 * Checks that buf[0..len) is exactly one msgpack object within the limits.
 * Returns 0, or -1 with a one-line reason in err.
 */
int wfp_codec_check(const char *buf, size_t len, char *err, size_t errlen);

/*
 * Checks then unpacks buf into out (initialised here; the caller calls
 * msgpack_unpacked_destroy(out) after a 0 return). The top object must be
 * a map. Returns 0, or -1 with err (nothing to destroy then).
 */
int wfp_codec_decode(const char *buf, size_t len, msgpack_unpacked *out,
		     char *err, size_t errlen);

/* A decoded message that owns a copy of its bytes, so its strings stay
 * valid after the buffer it came from is gone. */
struct wfp_msg {
	msgpack_unpacked u; /* u.data is the top map */
	char *buf;
};

/* Copies buf and decodes it like wfp_codec_decode. On 0 the caller calls
 * wfp_msg_destroy(m). Returns 0 or -1 with err (nothing to destroy). */
int wfp_msg_decode(struct wfp_msg *m, const char *buf, size_t len, char *err,
		   size_t errlen);

/* Frees what wfp_msg_decode made. */
void wfp_msg_destroy(struct wfp_msg *m);

/* Returns the value for string key in map, or NULL. */
const msgpack_object *wfp_codec_get(const msgpack_object *map, const char *key);

/*
 * Refuses keys of map that are not in allowed (NULL-terminated) and keys
 * that are not strings. Returns 0 or -1 with err naming the field.
 */
int wfp_codec_only_keys(const msgpack_object *map, const char *const *allowed,
			char *err, size_t errlen);

/*
 * Copies string field key into out (size n). A missing field is an error
 * when required, else out is set to "". Longer than n-1 bytes, not a
 * string, or holding a NUL byte is an error. Returns 0 or -1 with err.
 */
int wfp_codec_str(const msgpack_object *map, const char *key, int required,
		  char *out, size_t n, char *err, size_t errlen);

/*
 * Reads integer field key into out, which must lie in [min, max]. A missing
 * field is an error when required, else out is left unchanged.
 * Returns 0 or -1 with err.
 */
int wfp_codec_int(const msgpack_object *map, const char *key, int required,
		  int64_t min, int64_t max, int64_t *out, char *err,
		  size_t errlen);

/* Packs a NUL-terminated string. */
void wfp_pack_cstr(msgpack_packer *pk, const char *s);

/* Packs a key/value pair of strings into a map being built. */
void wfp_pack_kv(msgpack_packer *pk, const char *key, const char *value);

#endif
