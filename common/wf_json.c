/* wf_json.c - a strict JSON reader for the workflow parser (see
 * wf_json-internal.h). Recursive descent, one value array, one string
 * block. */
#include "wf_json-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/util.h"

/* Objects with more members than this are checked for repeated keys by
 * sorting, smaller ones pair by pair. */
#define WF_JSON_PAIRWISE_MAX 16

/* The state of one read. */
struct rd {
	const char *t;
	size_t len, pos;
	struct wf_json *d;
	char *err;
	size_t errlen;
};

static int read_value(struct rd *r, int depth);

/* Writes "what at byte N"; returns -1. */
static int rd_fail(struct rd *r, const char *what)
{
	snprintf(r->err, r->errlen, "%s at byte %zu", what, r->pos);
	return -1;
}

/* Skips JSON whitespace. */
static void skip_ws(struct rd *r)
{
	while (r->pos < r->len &&
	       (r->t[r->pos] == ' ' || r->t[r->pos] == '\n' ||
		r->t[r->pos] == '\r' || r->t[r->pos] == '\t'))
		r->pos++;
}

/* Appends a value of type starting here; returns its index or -1. */
static int new_val(struct rd *r, enum wf_json_type type)
{
	struct wf_json *d = r->d;

	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 256;
		struct wf_json_val *v = realloc(d->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return rd_fail(r, "out of memory");
		d->v = v, d->cap = cap;
	}
	memset(&d->v[d->n], 0, sizeof(d->v[0]));
	d->v[d->n].type = type;
	d->v[d->n].start = r->pos;
	return d->n++;
}

/* Value of hex digit c, or -1. */
static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the 4 hex digits at r->pos into *u. */
static int read_hex4(struct rd *r, uint32_t *u)
{
	*u = 0;
	if (r->len - r->pos < 4)
		return rd_fail(r, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hex(r->t[r->pos + i]);

		if (h < 0)
			return rd_fail(r, "bad \\u escape");
		*u = *u << 4 | (uint32_t)h;
	}
	r->pos += 4;
	return 0;
}

/* Writes code point cp as UTF-8 at out; returns the bytes written. */
static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80)
		return out[0] = (char)cp, 1;
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Reads the \u escape after "\u" (a surrogate pair when it starts one);
 * writes its UTF-8 at out, *n its length. */
static int read_u_escape(struct rd *r, char *out, size_t *n)
{
	uint32_t u, lo;

	if (read_hex4(r, &u) != 0)
		return -1;
	if (u >= 0xdc00 && u <= 0xdfff)
		return rd_fail(r, "unpaired surrogate in a \\u escape");
	if (u >= 0xd800 && u <= 0xdbff) {
		if (r->len - r->pos < 2 || r->t[r->pos] != '\\' ||
		    r->t[r->pos + 1] != 'u')
			return rd_fail(r, "unpaired surrogate in a \\u escape");
		r->pos += 2;
		if (read_hex4(r, &lo) != 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return rd_fail(r, "unpaired surrogate in a \\u escape");
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (u == 0)
		return rd_fail(r, "\\u0000 in a string");
	*n = put_utf8(out, u);
	return 0;
}

/* Reads the escape after a backslash; writes its bytes at out, *n. */
static int read_escape(struct rd *r, char *out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (r->pos >= r->len)
		return rd_fail(r, "truncated string");
	if (r->t[r->pos] == 'u') {
		r->pos++;
		return read_u_escape(r, out, n);
	}
	e = strchr(from, r->t[r->pos]);
	if (e == NULL || *e == '\0')
		return rd_fail(r, "bad escape in a string");
	out[0] = to[e - from];
	*n = 1;
	r->pos++;
	return 0;
}

/* Reads the string at r->pos (its opening quote) into value i. */
static int read_string(struct rd *r, int i)
{
	struct wf_json *d = r->d;
	char *out = d->strings + d->used;
	size_t o = 0, n;

	r->pos++;
	for (;;) {
		unsigned char c;
		uint32_t cp;

		if (r->pos >= r->len)
			return rd_fail(r, "truncated string");
		c = (unsigned char)r->t[r->pos];
		if (c == '"')
			break;
		if (c == '\\') {
			r->pos++;
			if (read_escape(r, out + o, &n) != 0)
				return -1;
			o += n;
			continue;
		}
		if (c < 0x20)
			return rd_fail(r, "control character in a string");
		n = c < 0x80
			? 1
			: wfp_utf8_next((const unsigned char *)r->t + r->pos,
					r->len - r->pos, &cp);
		if (n == 0)
			return rd_fail(r, "invalid UTF-8 in a string");
		memcpy(out + o, r->t + r->pos, n);
		o += n, r->pos += n;
	}
	r->pos++;
	out[o] = '\0';
	d->used += o + 1;
	d->v[i].s = out, d->v[i].slen = o;
	return 0;
}

/* Skips the digits at r->pos; returns how many. */
static size_t digits(struct rd *r)
{
	size_t from = r->pos;

	while (r->pos < r->len && r->t[r->pos] >= '0' && r->t[r->pos] <= '9')
		r->pos++;
	return r->pos - from;
}

/* Reads the number at r->pos into value i. */
static int read_number(struct rd *r, int i)
{
	int is_int = 1;

	if (r->t[r->pos] == '-')
		r->pos++;
	if (r->pos < r->len && r->t[r->pos] == '0')
		r->pos++;
	else if (digits(r) == 0)
		return rd_fail(r, "bad number");
	if (r->pos < r->len && r->t[r->pos] == '.') {
		r->pos++, is_int = 0;
		if (digits(r) == 0)
			return rd_fail(r, "bad number");
	}
	if (r->pos < r->len && (r->t[r->pos] == 'e' || r->t[r->pos] == 'E')) {
		r->pos++, is_int = 0;
		if (r->pos < r->len &&
		    (r->t[r->pos] == '+' || r->t[r->pos] == '-'))
			r->pos++;
		if (digits(r) == 0)
			return rd_fail(r, "bad number");
	}
	r->d->v[i].is_int = is_int;
	return 0;
}

/* Reads the literal word (true, false, null) at r->pos. */
static int read_word(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	if (r->len - r->pos < n || memcmp(r->t + r->pos, word, n) != 0)
		return rd_fail(r, "invalid JSON value");
	r->pos += n;
	return 0;
}

/* Orders strings by length then bytes (qsort of struct wf_json_val *). */
static int key_cmp(const void *a, const void *b)
{
	const struct wf_json_val *x = *(const struct wf_json_val *const *)a;
	const struct wf_json_val *y = *(const struct wf_json_val *const *)b;

	if (x->slen != y->slen)
		return x->slen < y->slen ? -1 : 1;
	return memcmp(x->s, y->s, x->slen);
}

/* 1 when keys k[0..n) hold the same key twice (sorts k). */
static int keys_repeat(const struct wf_json_val **k, int n)
{
	if (n <= WF_JSON_PAIRWISE_MAX) {
		for (int a = 0; a < n; a++)
			for (int b = a + 1; b < n; b++)
				if (key_cmp(&k[a], &k[b]) == 0)
					return 1;
		return 0;
	}
	qsort(k, (size_t)n, sizeof(*k), key_cmp);
	for (int a = 1; a < n; a++)
		if (key_cmp(&k[a - 1], &k[a]) == 0)
			return 1;
	return 0;
}

/* Refuses object o when a key repeats. */
static int check_keys(struct rd *r, int o)
{
	const struct wf_json *d = r->d;
	int n = d->v[o].count, i = o + 1, rc;
	const struct wf_json_val **k;

	if (n < 2)
		return 0;
	k = malloc((size_t)n * sizeof(*k));
	if (k == NULL)
		return rd_fail(r, "out of memory");
	for (int m = 0; m < n; m++, i = d->v[i + 1].end)
		k[m] = &d->v[i];
	rc = keys_repeat(k, n);
	free(k);
	return rc ? rd_fail(r, "repeated key in an object") : 0;
}

/* Reads the members of the array or object at i (r->pos after its
 * opening bracket) up to its closing bracket. */
static int read_members(struct rd *r, int i, int depth)
{
	int obj = r->d->v[i].type == WF_JSON_OBJECT;
	char close = obj ? '}' : ']';

	skip_ws(r);
	if (r->pos < r->len && r->t[r->pos] == close)
		return r->pos++, 0;
	for (;;) {
		skip_ws(r);
		if (obj && (r->pos >= r->len || r->t[r->pos] != '"'))
			return rd_fail(r, "expected a key");
		if (read_value(r, depth + 1) != 0)
			return -1;
		skip_ws(r);
		if (obj) {
			if (r->pos >= r->len || r->t[r->pos] != ':')
				return rd_fail(r, "expected ':'");
			r->pos++;
			if (read_value(r, depth + 1) != 0)
				return -1;
			skip_ws(r);
		}
		r->d->v[i].count++;
		if (r->pos < r->len && r->t[r->pos] == ',') {
			r->pos++;
			continue;
		}
		if (r->pos < r->len && r->t[r->pos] == close)
			return r->pos++, 0;
		return rd_fail(r, obj ? "expected ',' or '}'"
				      : "expected ',' or ']'");
	}
}

/* Reads one value at r->pos (after whitespace); depth: containers
 * around it. */
static int read_value(struct rd *r, int depth)
{
	int i, rc;
	char c;

	skip_ws(r);
	if (r->pos >= r->len)
		return rd_fail(r, "unexpected end of text");
	c = r->t[r->pos];
	if (c != '"' && c != '{' && c != '[' && c != 't' && c != 'f' &&
	    c != 'n' && c != '-' && !(c >= '0' && c <= '9'))
		return rd_fail(r, "invalid JSON value");
	i = new_val(r, c == '"'	  ? WF_JSON_STRING
		       : c == '{' ? WF_JSON_OBJECT
		       : c == '[' ? WF_JSON_ARRAY
		       : c == 't' ? WF_JSON_TRUE
		       : c == 'f' ? WF_JSON_FALSE
		       : c == 'n' ? WF_JSON_NULL
				  : WF_JSON_NUMBER);
	if (i < 0)
		return -1;
	switch (r->d->v[i].type) {
	case WF_JSON_STRING: rc = read_string(r, i); break;
	case WF_JSON_TRUE: rc = read_word(r, "true"); break;
	case WF_JSON_FALSE: rc = read_word(r, "false"); break;
	case WF_JSON_NULL: rc = read_word(r, "null"); break;
	case WF_JSON_NUMBER: rc = read_number(r, i); break;
	default:
		if (depth >= WF_JSON_DEPTH_MAX)
			return rd_fail(r, "nesting too deep");
		r->pos++;
		rc = read_members(r, i, depth);
		if (rc == 0 && r->d->v[i].type == WF_JSON_OBJECT)
			rc = check_keys(r, i);
	}
	if (rc != 0)
		return -1;
	r->d->v[i].len = r->pos - r->d->v[i].start;
	r->d->v[i].end = r->d->n;
	return 0;
}

int wf_json_read(const char *text, size_t len, struct wf_json *doc, char *err,
		 size_t errlen)
{
	struct rd r = {text, len, 0, doc, err, errlen};

	memset(doc, 0, sizeof(*doc));
	doc->text = text;
	/* Decoded strings never outgrow their raw text with its quotes. */
	doc->strings = malloc(len + 1);
	if (doc->strings == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	if (read_value(&r, 0) == 0) {
		skip_ws(&r);
		if (r.pos == len)
			return 0;
		rd_fail(&r, "text after the JSON value");
	}
	wf_json_free(doc);
	return -1;
}

void wf_json_free(struct wf_json *doc)
{
	free(doc->v);
	free(doc->strings);
	memset(doc, 0, sizeof(*doc));
}

int wf_json_get(const struct wf_json *doc, int o, const char *key)
{
	size_t n = strlen(key);
	int i = o + 1;

	if (doc->v[o].type != WF_JSON_OBJECT)
		return -1;
	for (int m = 0; m < doc->v[o].count; m++, i = doc->v[i + 1].end) {
		if (doc->v[i].slen == n && memcmp(doc->v[i].s, key, n) == 0)
			return i + 1;
	}
	return -1;
}

size_t wf_json_compact(const struct wf_json *doc, int i, char *out)
{
	const char *t = doc->text + doc->v[i].start;
	size_t n = doc->v[i].len, o = 0;
	int in_str = 0;

	for (size_t k = 0; k < n; k++) {
		char c = t[k];

		if (in_str && c == '\\') {
			out[o++] = c, out[o++] = t[++k];
			continue;
		}
		if (c == '"')
			in_str = !in_str;
		if (in_str || (c != ' ' && c != '\n' && c != '\r' && c != '\t'))
			out[o++] = c;
	}
	out[o] = '\0';
	return o;
}
