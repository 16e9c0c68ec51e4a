/* codec.c - hostile-input-safe msgpack decoding (see wfp/codec.h). */
#include "wfp/codec.h"
#include "wfp/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Walk state of the structural checker. */
struct walk {
	const unsigned char *p;
	size_t left;
	size_t items;
	char *err;
	size_t errlen;
};

static int walk_object(struct walk *w, int depth);

/* One map key as the checker saw it: a string's bytes (kind 1), or the
 * raw encoding of any other key (kind 0). */
struct map_key {
	const unsigned char *p;
	size_t n;
	int kind;
};

#define KEYS_ON_STACK 16 /* keys compared pairwise; larger maps are sorted */

/* Describes the key encoded at start..end: strings by their bytes (so a
 * fixstr and a str8 of the same text are the same key). */
static struct map_key key_of(const unsigned char *start,
			     const unsigned char *end)
{
	struct map_key k = {start, (size_t)(end - start), 0};
	size_t head = 0;

	if ((start[0] & 0xe0) == 0xa0)
		head = 1;
	else if (start[0] == 0xd9)
		head = 2;
	else if (start[0] == 0xda)
		head = 3;
	else if (start[0] == 0xdb)
		head = 5;
	if (head > 0) {
		k.p = start + head, k.n -= head, k.kind = 1;
	}
	return k;
}

/* Orders keys by kind, length, then bytes (qsort). */
static int key_cmp(const void *a, const void *b)
{
	const struct map_key *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return memcmp(x->p, y->p, x->n);
}

/* Refuses keys[0..n) when two are equal: pairwise for a few keys, after a
 * sort (O(n log n), n <= WFP_CODEC_MAX_ITEMS) for more. */
static int keys_unique(struct walk *w, struct map_key *keys, size_t n)
{
	char q[WFP_QUOTE_BUF];
	size_t dup = n;

	if (n <= KEYS_ON_STACK) {
		for (size_t i = 0; i < n && dup == n; i++)
			for (size_t j = i + 1; j < n && dup == n; j++)
				if (key_cmp(&keys[i], &keys[j]) == 0)
					dup = i;
	} else {
		qsort(keys, n, sizeof(*keys), key_cmp);
		for (size_t i = 0; i + 1 < n && dup == n; i++)
			if (key_cmp(&keys[i], &keys[i + 1]) == 0)
				dup = i;
	}
	if (dup == n)
		return 0;
	if (keys[dup].kind == 1)
		snprintf(w->err, w->errlen, "map key '%s' repeated",
			 wfp_quote(q, sizeof(q), (const char *)keys[dup].p,
				   keys[dup].n));
	else
		snprintf(w->err, w->errlen, "map key repeated");
	return -1;
}

/* Walks the count key/value pairs of a map and refuses repeated keys. */
static int walk_map(struct walk *w, uint64_t count, int depth)
{
	struct map_key local[KEYS_ON_STACK];
	struct map_key *keys = local;
	int rc = 0;

	if (count * 2 > WFP_CODEC_MAX_ITEMS) {
		snprintf(w->err, w->errlen, "more than %d objects",
			 WFP_CODEC_MAX_ITEMS);
		return -1;
	}
	if (count > KEYS_ON_STACK) {
		keys = malloc((size_t)count * sizeof(*keys));
		if (keys == NULL) {
			snprintf(w->err, w->errlen, "out of memory");
			return -1;
		}
	}
	for (uint64_t i = 0; i < count && rc == 0; i++) {
		const unsigned char *start = w->p;

		rc = walk_object(w, depth + 1);
		if (rc == 0)
			keys[i] = key_of(start, w->p);
		if (rc == 0)
			rc = walk_object(w, depth + 1);
	}
	if (rc == 0)
		rc = keys_unique(w, keys, (size_t)count);
	if (keys != local)
		free(keys);
	return rc;
}

/* Reads an n-byte big-endian unsigned integer; -1 when truncated. */
static int take_uint(struct walk *w, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (w->left < n) {
		snprintf(w->err, w->errlen, "truncated message");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | w->p[i];
	w->p += n;
	w->left -= n;
	*out = v;
	return 0;
}

/* Skips n payload bytes, refusing a size larger than what is left. */
static int skip_bytes(struct walk *w, uint64_t n)
{
	if (n > w->left) {
		snprintf(w->err, w->errlen,
			 "declared size %llu exceeds the %zu bytes left",
			 (unsigned long long)n, w->left);
		return -1;
	}
	w->p += n;
	w->left -= (size_t)n;
	return 0;
}

/* Walks `count` objects (twice that for a map) of a container. */
static int walk_container(struct walk *w, uint64_t count, int is_map, int depth)
{
	uint64_t objects = is_map ? count * 2 : count;

	if (depth >= WFP_CODEC_MAX_DEPTH) {
		snprintf(w->err, w->errlen, "nesting deeper than %d",
			 WFP_CODEC_MAX_DEPTH);
		return -1;
	}
	/* Every object takes at least one byte: a count above the bytes left
	 * is a lie, caught before msgpack-c would allocate for it. */
	if (objects > w->left) {
		snprintf(w->err, w->errlen,
			 "declared %llu elements exceed the %zu bytes left",
			 (unsigned long long)count, w->left);
		return -1;
	}
	if (is_map)
		return walk_map(w, count, depth);
	for (uint64_t i = 0; i < objects; i++) {
		if (walk_object(w, depth + 1) != 0)
			return -1;
	}
	return 0;
}

/* Size in bytes of the length field of ext/str/bin/array/map headers. */
static int walk_sized(struct walk *w, unsigned char b, int depth)
{
	uint64_t n;

	switch (b) {
	case 0xc4:
	case 0xd9: return take_uint(w, 1, &n) ? -1 : skip_bytes(w, n);
	case 0xc5:
	case 0xda: return take_uint(w, 2, &n) ? -1 : skip_bytes(w, n);
	case 0xc6:
	case 0xdb: return take_uint(w, 4, &n) ? -1 : skip_bytes(w, n);
	case 0xc7: return take_uint(w, 1, &n) ? -1 : skip_bytes(w, n + 1);
	case 0xc8: return take_uint(w, 2, &n) ? -1 : skip_bytes(w, n + 1);
	case 0xc9: return take_uint(w, 4, &n) ? -1 : skip_bytes(w, n + 1);
	case 0xdc:
		return take_uint(w, 2, &n) ? -1
					   : walk_container(w, n, 0, depth);
	case 0xdd:
		return take_uint(w, 4, &n) ? -1
					   : walk_container(w, n, 0, depth);
	case 0xde:
		return take_uint(w, 2, &n) ? -1
					   : walk_container(w, n, 1, depth);
	case 0xdf:
		return take_uint(w, 4, &n) ? -1
					   : walk_container(w, n, 1, depth);
	}
	snprintf(w->err, w->errlen, "invalid type byte 0x%02x", b);
	return -1;
}

/* Fixed-size payloads after the type byte, by type byte; -1 if not fixed. */
static int fixed_size(unsigned char b)
{
	switch (b) {
	case 0xc0:
	case 0xc2:
	case 0xc3: return 0;
	case 0xcc:
	case 0xd0: return 1;
	case 0xcd:
	case 0xd1: return 2;
	case 0xca:
	case 0xce:
	case 0xd2: return 4;
	case 0xcb:
	case 0xcf:
	case 0xd3: return 8;
	case 0xd4: return 2;
	case 0xd5: return 3;
	case 0xd6: return 5;
	case 0xd7: return 9;
	case 0xd8: return 17;
	}
	return -1;
}

/* Walks one object, counting it against the item limit. */
static int walk_object(struct walk *w, int depth)
{
	uint64_t b;
	int fixed;

	if (++w->items > WFP_CODEC_MAX_ITEMS) {
		snprintf(w->err, w->errlen, "more than %d objects",
			 WFP_CODEC_MAX_ITEMS);
		return -1;
	}
	if (take_uint(w, 1, &b) != 0)
		return -1;
	if (b <= 0x7f || b >= 0xe0)
		return 0; /* fixint */
	if ((b & 0xe0) == 0xa0)
		return skip_bytes(w, b & 0x1f); /* fixstr */
	if ((b & 0xf0) == 0x90)
		return walk_container(w, b & 0x0f, 0, depth);
	if ((b & 0xf0) == 0x80)
		return walk_container(w, b & 0x0f, 1, depth);
	fixed = fixed_size((unsigned char)b);
	if (fixed >= 0)
		return skip_bytes(w, (uint64_t)fixed);
	return walk_sized(w, (unsigned char)b, depth);
}

int wfp_codec_check(const char *buf, size_t len, char *err, size_t errlen)
{
	struct walk w = {(const unsigned char *)buf, len, 0, err, errlen};

	if (len == 0) {
		snprintf(err, errlen, "empty message");
		return -1;
	}
	if (len > WFP_CODEC_MAX_BYTES) {
		snprintf(err, errlen, "message of %zu bytes exceeds %d", len,
			 WFP_CODEC_MAX_BYTES);
		return -1;
	}
	if (walk_object(&w, 0) != 0)
		return -1;
	if (w.left != 0) {
		snprintf(err, errlen, "%zu trailing bytes after the message",
			 w.left);
		return -1;
	}
	return 0;
}

int wfp_codec_decode(const char *buf, size_t len, msgpack_unpacked *out,
		     char *err, size_t errlen)
{
	size_t off = 0;
	msgpack_unpack_return rc;

	if (wfp_codec_check(buf, len, err, errlen) != 0)
		return -1;
	msgpack_unpacked_init(out);
	rc = msgpack_unpack_next(out, buf, len, &off);
	if (rc != MSGPACK_UNPACK_SUCCESS || off != len) {
		snprintf(err, errlen, "undecodable message (code %d)", (int)rc);
		msgpack_unpacked_destroy(out);
		return -1;
	}
	if (out->data.type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "message is not a map");
		msgpack_unpacked_destroy(out);
		return -1;
	}
	return 0;
}

int wfp_msg_decode(struct wfp_msg *m, const char *buf, size_t len, char *err,
		   size_t errlen)
{
	m->buf = malloc(len ? len : 1);
	if (m->buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(m->buf, buf, len);
	if (wfp_codec_decode(m->buf, len, &m->u, err, errlen) != 0) {
		free(m->buf);
		return -1;
	}
	return 0;
}

void wfp_msg_destroy(struct wfp_msg *m)
{
	msgpack_unpacked_destroy(&m->u);
	free(m->buf);
}

/* Compares a msgpack string object with a C string. */
static int str_eq(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *wfp_codec_get(const msgpack_object *map, const char *key)
{
	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		if (str_eq(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int wfp_codec_only_keys(const msgpack_object *map, const char *const *allowed,
			char *err, size_t errlen)
{
	char q[WFP_QUOTE_BUF];

	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		int known = 0;

		if (k->type != MSGPACK_OBJECT_STR) {
			snprintf(err, errlen, "a field name is not a string");
			return -1;
		}
		for (const char *const *a = allowed; *a && !known; a++)
			known = str_eq(k, *a);
		if (!known) {
			snprintf(err, errlen, "unknown field '%s'",
				 wfp_quote(q, sizeof(q), k->via.str.ptr,
					   k->via.str.size));
			return -1;
		}
	}
	return 0;
}

int wfp_codec_str(const msgpack_object *map, const char *key, int required,
		  char *out, size_t n, char *err, size_t errlen)
{
	const msgpack_object *v = wfp_codec_get(map, key);

	out[0] = '\0';
	if (v == NULL) {
		if (!required)
			return 0;
		snprintf(err, errlen, "missing field '%s'", key);
		return -1;
	}
	if (v->type != MSGPACK_OBJECT_STR) {
		snprintf(err, errlen, "field '%s' is not a string", key);
		return -1;
	}
	if (v->via.str.size >= n) {
		snprintf(err, errlen, "field '%s' is longer than %zu bytes",
			 key, n - 1);
		return -1;
	}
	if (memchr(v->via.str.ptr, '\0', v->via.str.size) != NULL) {
		snprintf(err, errlen, "field '%s' holds a NUL byte", key);
		return -1;
	}
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = '\0';
	return 0;
}

int wfp_codec_int(const msgpack_object *map, const char *key, int required,
		  int64_t min, int64_t max, int64_t *out, char *err,
		  size_t errlen)
{
	const msgpack_object *v = wfp_codec_get(map, key);
	int64_t x;

	if (v == NULL) {
		if (!required)
			return 0;
		snprintf(err, errlen, "missing field '%s'", key);
		return -1;
	}
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    v->via.u64 <= (uint64_t)INT64_MAX)
		x = (int64_t)v->via.u64;
	else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		x = v->via.i64;
	else {
		snprintf(err, errlen, "field '%s' is not an integer", key);
		return -1;
	}
	if (x < min || x > max) {
		snprintf(err, errlen, "field '%s' is %lld, not in %lld..%lld",
			 key, (long long)x, (long long)min, (long long)max);
		return -1;
	}
	*out = x;
	return 0;
}

void wfp_pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void wfp_pack_kv(msgpack_packer *pk, const char *key, const char *value)
{
	wfp_pack_cstr(pk, key);
	wfp_pack_cstr(pk, value);
}
