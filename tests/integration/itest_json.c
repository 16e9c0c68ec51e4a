/* post.lua's payload check (lib.lua's utf8_ok and json_object_ok) against
 * its reference (integration/json_reference.lua: the check as it was
 * before its fast lanes, verbatim) and against the C side
 * (wfp_check_payload, jansson), in a real redis-server: a corpus around
 * every fast lane and its edges (long strings, escapes and multibyte
 * characters where a lane stops, whitespace runs, deep nesting, numbers,
 * repeated keys through either path), then generated payloads: random
 * documents and random edits of them. Reproduce a failure with the seed
 * it prints: WFP_TEST_SEED=N. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "itest_common.h"
#include "wfp/scripts.h"

#define BATCH	  200	       /* payloads per EVAL */
#define GENERATED 20000	       /* generated payloads */
#define DOC_MAX	  4096	       /* bytes of one generated payload */
#define LONG_RUN  (200 * 1024) /* bytes of a long string or space run */

static struct wfp_config cfg;
static struct wfp_client *c;
static char *checker;	   /* Lua: lib.lua, the reference, the comparison */
static uint64_t rng;	   /* xorshift64 state */
static int c_checked;	   /* payloads also compared with the C side */
static int taken, refused; /* verdicts of the Lua check */

/* One payload: its bytes (NULs allowed) and length. */
struct payload {
	char *s;
	size_t len;
};

/* A batch of payloads waiting to be checked. */
struct batch {
	struct payload p[BATCH];
	int n;
};

/* The whole file at path, NUL-terminated; aborts on failure. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n = -1;
	char *s;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n < 0)
		fail_msg("cannot read %s", path);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* The checker script: post's text up to post.lua itself (prelude and
 * lib.lua), the reference, then a loop that answers, per payload in
 * ARGV[2..], the six verdicts as bits: json_object_ok 1, reference 2,
 * utf8_ok 4, reference 8, utf8_ok as text 16, reference 32. */
static char *checker_script(void)
{
	static const char body[] =
	    "\nlocal out = {}\n"
	    "for k = 2, #ARGV do\n"
	    "  local s, v = ARGV[k], 0\n"
	    "  if json_object_ok(s) then v = v + 1 end\n"
	    "  if ref_json_object_ok(s) then v = v + 2 end\n"
	    "  if utf8_ok(s, false) then v = v + 4 end\n"
	    "  if ref_utf8_ok(s, false) then v = v + 8 end\n"
	    "  if utf8_ok(s, true) then v = v + 16 end\n"
	    "  if ref_utf8_ok(s, true) then v = v + 32 end\n"
	    "  out[#out + 1] = v\n"
	    "end\n"
	    "return out\n";
	const struct wfp_script *post = wfp_script(WFP_LUA_POST);
	const char *end = strstr(post->text, "-- post.lua:");
	char *ref = read_file(WFP_TEST_JSON_REF);
	size_t head, n;
	char *s;

	assert_non_null(end);
	head = (size_t)(end - post->text);
	n = head + strlen(ref) + sizeof(body);
	s = malloc(n);
	assert_non_null(s);
	memcpy(s, post->text, head);
	snprintf(s + head, n - head, "%s%s", ref, body);
	free(ref);
	return s;
}

/* p as text for a failure message: printable ASCII kept, the rest \xNN,
 * at most 300 bytes shown. */
static const char *shown(const struct payload *p)
{
	static char out[1300];
	size_t o = 0;

	for (size_t i = 0; i < p->len && i < 300; i++) {
		unsigned char ch = (unsigned char)p->s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o,
					      "\\x%02X", ch);
	}
	out[o] = '\0';
	return out;
}

/* Whether the C side takes p (only for payloads without a NUL). */
static int c_takes(const struct payload *p)
{
	char err[256];

	return wfp_check_payload(p->s, err, sizeof(err)) == 0;
}

/* Checks one payload's verdicts: each function agrees with its
 * reference, and the whole check (UTF-8 and JSON) with the C side. */
static void verdict_ok(const struct payload *p, long long v)
{
	int lua = (v & 1) && (v & 4);

	if (lua)
		taken++;
	else
		refused++;

	if (!(v & 1) != !(v & 2))
		fail_msg("json_object_ok %s, reference %s: '%s'",
			 v & 1 ? "takes" : "refuses",
			 v & 2 ? "takes" : "refuses", shown(p));
	if (!(v & 4) != !(v & 8) || !(v & 16) != !(v & 32))
		fail_msg("utf8_ok disagrees with its reference (%lld): '%s'", v,
			 shown(p));
	if (memchr(p->s, '\0', p->len) == NULL) {
		c_checked++;
		if (lua != c_takes(p))
			fail_msg("Lua %s, C %s: '%s'",
				 lua ? "takes" : "refuses",
				 lua ? "refuses" : "takes", shown(p));
	}
}

/* Checks the batch's payloads in one EVAL and empties it. */
static void batch_check(struct batch *b)
{
	const char *argv[BATCH + 4] = {"EVAL", checker, "0", wfp_client_tag(c)};
	size_t lens[BATCH + 4];
	redisReply *r;

	if (b->n == 0)
		return;
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	for (int i = 0; i < b->n; i++) {
		argv[4 + i] = b->p[i].s;
		lens[4 + i] = b->p[i].len;
	}
	r = wfp_client_command(c, 4 + b->n, argv, lens);
	if (r == NULL)
		fail_msg("checker: %s", wfp_client_error(c));
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, (size_t)b->n);
	for (int i = 0; i < b->n; i++) {
		verdict_ok(&b->p[i], r->element[i]->integer);
		free(b->p[i].s);
	}
	freeReplyObject(r);
	b->n = 0;
}

/* Adds a copy of s (len bytes) to the batch, checking it when full. */
static void batch_add(struct batch *b, const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	copy[len] = '\0';
	b->p[b->n++] = (struct payload){copy, len};
	if (b->n == BATCH)
		batch_check(b);
}

/* Adds the NUL-terminated s. */
static void batch_str(struct batch *b, const char *s)
{
	batch_add(b, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* The corpus: each lane, where it stops and what it leaves to the
 * general path. */

/* Payloads around the member, key, string, integer, literal and
 * separator lanes. */
static const char *const lanes[] = {
    "{\"a\":\"b\"}",
    "{\"a\" : \"b\" }",
    " \t\r\n{\"a\":\"b\"} \n",
    "{\"a\":\"x\",\"a\":\"y\"}",
    "{\"a\":\"x\",\"a\":1}",
    "{\"a\":1,\"a\":\"x\"}",
    "{\"a\":1,\"\\u0061\":\"x\"}",
    "{\"\\u0061\":1,\"a\":\"x\"}",
    "{\"\\u0061\":1,\"a\":2}",
    "{\"a\\\"b\":1,\"a\\\"b\":2}",
    "{\"a\\\"b\":1,\"a\\u0022b\":2}",
    "{\"\":\"\",\"\":1}",
    "{\"\":\"\"}",
    "{\"a\tb\":1}",
    "{\"a\":\"b\tc\"}",
    "{\"a\x7f\":\"\x7f\"}",
    "{\"a\":\"b\\\"\"}",
    "{\"a\":\"b\\\\\"}",
    "{\"a\":\"b\\\\\\\"\"}",
    "{\"a\":\"\\\"\"}",
    "{\"a\":\"\\u00e9x\"}",
    "{\"a\":\"x\\u00\"}",
    "{\"a\":\"x\\q\"}",
    "{\"a\":\"x\\\"}",
    "{\"a\":\"x}",
    "{\"a\":\"x\"",
    "{\"a\":\"x\",}",
    "{\"a\":\"x\" \"b\":1}",
    "{\"a\":\"b\":\"c\"}",
    "{\"a\":\"b\\\":c\",\"d\":\":\"}",
    "{\"a\":\"\\\":\"}",
    "{\"a\"::1}",
    "{\"a\":}",
    "{\"a\"}",
    "{\"a\" 1}",
    "{:1}",
    "{\"a\":[\"x\",\"y\" , \"z\"]}",
    "{\"a\":[\"x\"\"y\"]}",
    "{\"a\":[\"x\",]}",
    "{\"a\":[,\"x\"]}",
    "{\"a\":[\"x\":1]}",
    "{\"a\":[\"\\u0000\"]}",
    "{\"a\\u0000\":1}",
    "{\"a\":\"\\ud83d\\ude00\"}",
    "{\"a\":\"\\ud83d\\u0041\"}",
    "{\"a\":\"\\ude00\\ud83d\"}",
    "{\"a\":\"\\ud83d\"}",
    "{\"a\":\"\\uD83D\\uDE00\"}",
    "{\"n\":123456789012345678}",
    "{\"n\":1234567890123456789}",
    "{\"n\":9223372036854775807}",
    "{\"n\":9223372036854775808}",
    "{\"n\":-9223372036854775808}",
    "{\"n\":-9223372036854775809}",
    "{\"n\":12345678901234567890}",
    "{\"n\":0}",
    "{\"n\":-0}",
    "{\"n\":00}",
    "{\"n\":-01}",
    "{\"n\":01.5}",
    "{\"n\":-}",
    "{\"n\":--1}",
    "{\"n\":1 2}",
    "{\"n\":[1 ,2 ]}",
    "{\"n\":[1,-]}",
    "{\"n\":1.}",
    "{\"n\":1.5}",
    "{\"n\":1e5}",
    "{\"n\":1E+5}",
    "{\"n\":-0.0e-0}",
    "{\"n\":1e}",
    "{\"n\":1e+}",
    "{\"n\":.5}",
    "{\"n\":1.5.5}",
    "{\"n\":1e999}",
    "{\"n\":1e-999}",
    "{\"n\":0x10}",
    "{\"n\":1a}",
    "{\"n\":1\"x\"}",
    "{\"n\":[0,-0,1,-1]}",
    "{\"n\":1}x",
    "{\"w\":true}",
    "{\"w\":false}",
    "{\"w\":null}",
    "{\"w\":True}",
    "{\"w\":nul}",
    "{\"w\":nulll}",
    "{\"w\":truefalse}",
    "{\"w\":tru e}",
    "{\"w\":[true ,false , null ]}",
    "{\"w\":[true false]}",
    "{\"w\":nan}",
    "{\"w\":inf}",
    "{\"w\":t}",
    "{\"w\":x}",
    "{\"a\":1 , \"b\":2 }",
    "{\"a\":1]",
    "[1}",
    "{\"a\":[1}]",
    "{\"a\":{\"b\":1]}",
    "{\"a\":{}}",
    "{\"a\":{ }}",
    "{\"a\":[ ]}",
    "{ }",
    "{}",
    "{,}",
    "{\"a\":[,]}",
    "{\"a\":[]]}",
    "{\"a\":{}}}",
    "{\"a\":{\"a\":{\"a\":1}}}",
    "{\"a\":{\"b\":1,\"b\":2}}",
    "{\"a\":{\"b\":1},\"b\":{\"b\":2}}",
    "{\"a\":[{\"b\":1},{\"b\":2}]}",
    "{\"a\":[{\"b\":1,\"b\":2}]}",
    "{\"a\":\"\xc3\xa9\"}",
    "{\"\xc3\xa9\":1,\"\xc3\xa9\":2}",
    "{\"a\":\"\xc3\"}",
    "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
    "{\"a\":\"\xe2\x82\"}",
    "{\"a\":\"\xf0\x9f\x98\"}",
    "{\"a\":\"\xc0\x80\"}",
    "{\"a\":\"\xe0\x80\x80\"}",
    "{\"a\":\"\xed\xa0\x80\"}",
    "{\"a\":\"\xf4\x90\x80\x80\"}",
    "{\"a\":\"\xf5\x80\x80\x80\"}",
    "{\"a\":\"\x80\"}",
    "{\"a\":\"\xc2\x85\"}",
    "{\"a\":\"\xc2\xa0\"}",
    "{\"a\":1}\xc3\xa9",
    "\xef\xbb\xbf{}",
    "{\"a\":\"\f\"}",
    "{\f}",
    "{\"a\":1\f}",
    "\v{}",
    "{\"a\":\"x\"}\n\n\n",
    "{\"a\":\"x\"}\n\nx",
    "",
    " ",
    "{",
    "}",
    "[]",
    "\"a\"",
    "1",
    "null",
};

/* A long plain string (LONG_RUN bytes) ending in tail: where the string
 * lane stops. */
static void long_string(struct batch *b, const char *tail)
{
	size_t t = strlen(tail), n = LONG_RUN + t + 16;
	char *s = malloc(n);

	assert_non_null(s);
	memcpy(s, "{\"a\":\"", 6);
	memset(s + 6, 'x', LONG_RUN);
	snprintf(s + 6 + LONG_RUN, n - 6 - LONG_RUN, "%s\"}", tail);
	batch_str(b, s);
	free(s);
}

/* {"a":1 RUN ,"b":2}, RUN a LONG_RUN run of the whitespace byte ws. */
static void long_space(struct batch *b, char ws)
{
	size_t n = LONG_RUN + 32;
	char *s = malloc(n);

	assert_non_null(s);
	memcpy(s, "{\"a\":1", 6);
	memset(s + 6, ws, LONG_RUN);
	snprintf(s + 6 + LONG_RUN, n - 6 - LONG_RUN, ",\"b\":2}");
	batch_str(b, s);
	free(s);
}

/* {"a": open^n 1 close^n} with open "[" or "{\"k\":": n + 1 levels. */
static void nested(struct batch *b, const char *open, const char *close, int n)
{
	size_t lo = strlen(open), lc = strlen(close);
	size_t len = 16 + (size_t)n * (lo + lc);
	char *s = malloc(len), *p = s;

	assert_non_null(s);
	p += snprintf(p, len, "{\"a\":");
	for (int i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	*p++ = '1';
	for (int i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	snprintf(p, 3, "}");
	batch_str(b, s);
	free(s);
}

/* Many keys, k0 .. k(n-1), then again the key of index dup (none when
 * dup < 0): a repeated key far from its first. */
static void many_keys(struct batch *b, int n, int dup)
{
	size_t len = (size_t)n * 24 + 64, o = 0;
	char *s = malloc(len);

	assert_non_null(s);
	s[o++] = '{';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, len - o, "\"k%d\":%s,", i,
				      i % 2 ? "\"v\"" : "[1]");
	if (dup >= 0)
		o += (size_t)snprintf(s + o, len - o, "\"k%d\":0,", dup);
	snprintf(s + o - 1, len - o + 1, "}");
	batch_str(b, s);
	free(s);
}

/* Every corpus payload agrees with the reference and with C. */
static void test_corpus_agrees(void **state)
{
	static const char *const tails[] = {
	    "",
	    "\\n",
	    "\\u00e9",
	    "\\ud83d\\ude00",
	    "\\\"",
	    "\\\\",
	    "\\u0000",
	    "\\x",
	    "\t",
	    "\x01",
	    "\xc3\xa9",
	    "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80",
	    "\xc3",
	    "\xf0\x9f\x98",
	    "\x80",
	    "\xed\xa0\x80",
	    "\xc2\x85",
	    "\x7f",
	    "\\",
	};
	struct batch b = {.n = 0};

	(void)state;
	taken = refused = c_checked = 0;
	for (size_t i = 0; i < sizeof(lanes) / sizeof(*lanes); i++)
		batch_str(&b, lanes[i]);
	batch_add(&b, "{\"a\":1}\0x", 9);
	batch_add(&b, "{\"a\":\"\0\"}", 9);
	batch_add(&b, "{\"a\0\":1}", 8);
	for (size_t i = 0; i < sizeof(tails) / sizeof(*tails); i++)
		long_string(&b, tails[i]);
	long_space(&b, ' ');
	long_space(&b, '\n');
	long_space(&b, '\f');
	for (int d = WFP_PAYLOAD_DEPTH_MAX - 2; d <= WFP_PAYLOAD_DEPTH_MAX;
	     d++) {
		nested(&b, "[", "]", d);
		nested(&b, "{\"k\":", "}", d);
		nested(&b, "[{\"k\":", "}]", d / 2);
		nested(&b, "{\"k\":[", "]}", d / 2 + 1);
	}
	many_keys(&b, 5000, -1);
	many_keys(&b, 5000, 0);
	many_keys(&b, 5000, 4998);
	batch_check(&b);
	assert_true(c_checked > 100);
	assert_true(taken > 50 && refused > 100);
}

/* ------------------------------------------------------------------ */
/* Generated payloads. */

/* The next pseudo-random number (xorshift64). */
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A pseudo-random index below n. */
static size_t pick(size_t n)
{
	return (size_t)(next_rand() % n);
}

/* A growing payload of at most DOC_MAX bytes. */
struct doc {
	char s[DOC_MAX];
	size_t len;
};

/* Appends text (silently stops at DOC_MAX). */
static void put(struct doc *d, const char *text)
{
	size_t n = strlen(text);

	if (d->len + n >= DOC_MAX)
		return;
	memcpy(d->s + d->len, text, n);
	d->len += n;
}

/* Sometimes whitespace, sometimes a stray byte JSON does not take. */
static void put_ws(struct doc *d)
{
	static const char *const ws[] = {"",	 "",   "",     "",    " ",
					 "\n  ", "\t", "\r\n", "   ", "\f"};

	put(d, ws[pick(sizeof(ws) / sizeof(*ws))]);
}

/* A string: pieces of plain text, escapes (good and bad), multibyte
 * characters (valid or not) and control bytes; the first 15 pieces are
 * good ones, taken three times in four. */
static void put_string(struct doc *d)
{
	static const char *const piece[] = {
	    "a",
	    "k",
	    "plugin",
	    "noop",
	    " ",
	    ":",
	    ",",
	    "}",
	    "\\n",
	    "\\\"",
	    "\\\\",
	    "\\/",
	    "\\u0061",
	    "\\u00e9",
	    "\\ud83d\\ude00",
	    "\\u0000",
	    "\\ud800",
	    "\\udc00",
	    "\\x",
	    "\\u12",
	    "\xc3\xa9",
	    "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80",
	    "\xc3",
	    "\x80",
	    "\xed\xa0\x80",
	    "\xc2\x85",
	    "\x7f",
	    "\t",
	    "\x01",
	};
	int n = (int)pick(4);

	put(d, "\"");
	for (int i = 0; i < n; i++)
		put(d,
		    piece[pick(i == 0 ? 8 : sizeof(piece) / sizeof(*piece))]);
	put(d, "\"");
}

/* A number or a literal, good or bad: the first 11 are good, taken
 * three times in four. */
static void put_scalar(struct doc *d)
{
	static const char *const v[] = {
	    "0",
	    "1",
	    "-1",
	    "60000",
	    "-0",
	    "1.5",
	    "1e5",
	    "-2.5E-3",
	    "123456789012345678",
	    "1234567890123456789",
	    "9223372036854775807",
	    "9223372036854775808",
	    "-9223372036854775808",
	    "-9223372036854775809",
	    "99999999999999999999",
	    "01",
	    "1.",
	    ".5",
	    "1e999",
	    "-",
	    "0x10",
	    "true",
	    "false",
	    "null",
	    "True",
	    "nul",
	    "nan",
	};

	put(d, v[pick(pick(4) ? 11 : sizeof(v) / sizeof(*v))]);
}

static void put_value(struct doc *d, int depth);

/* An object of up to 4 members; keys from a small set, so repeats come
 * up, some written with escapes. */
static void put_object(struct doc *d, int depth)
{
	static const char *const keys[] = {"\"a\"", "\"b\"",	"\"\\u0061\"",
					   "\"\"",  "\"task\"", "\"a\\\"\""};
	int n = (int)pick(5);

	put(d, "{");
	for (int i = 0; i < n; i++) {
		put_ws(d);
		if (pick(4) == 0)
			put_string(d);
		else
			put(d, keys[pick(sizeof(keys) / sizeof(*keys))]);
		put_ws(d);
		put(d, ":");
		put_ws(d);
		put_value(d, depth + 1);
		put_ws(d);
		if (i + 1 < n)
			put(d, ",");
	}
	put(d, "}");
}

/* An array of up to 4 values. */
static void put_array(struct doc *d, int depth)
{
	int n = (int)pick(5);

	put(d, "[");
	for (int i = 0; i < n; i++) {
		put_ws(d);
		put_value(d, depth + 1);
		put_ws(d);
		if (i + 1 < n)
			put(d, ",");
	}
	put(d, "]");
}

/* Any value; containers less often the deeper it goes. */
static void put_value(struct doc *d, int depth)
{
	size_t k = pick(depth < 5 ? 8 : 4);

	if (k < 2)
		put_string(d);
	else if (k < 4)
		put_scalar(d);
	else if (k < 6)
		put_object(d, depth);
	else
		put_array(d, depth);
}

/* One random edit: a byte JSON cares about inserted, bytes deleted, a
 * byte replaced or a slice repeated. */
static void mutate(struct doc *d)
{
	static const char set[] = "{}[]:,\"\\ \t\n\f0-1.eEu\x01\x7f\x80\xc3";
	size_t at = d->len ? pick(d->len) : 0, n;

	switch (pick(4)) {
	case 0:
		if (d->len + 1 >= DOC_MAX)
			return;
		memmove(d->s + at + 1, d->s + at, d->len - at);
		d->s[at] = set[pick(sizeof(set) - 1)];
		d->len++;
		break;
	case 1:
		n = d->len - at < 3 ? d->len - at : 1 + pick(3);
		memmove(d->s + at, d->s + at + n, d->len - at - n);
		d->len -= n;
		break;
	case 2:
		if (at < d->len)
			d->s[at] = set[pick(sizeof(set) - 1)];
		break;
	default:
		n = d->len - at < 8 ? d->len - at : 1 + pick(8);
		if (d->len + n >= DOC_MAX)
			return;
		memmove(d->s + at + n, d->s + at, d->len - at);
		d->len += n;
		break;
	}
}

/* GENERATED random documents (an object at the top, most of the time),
 * half of them edited, each agrees with the reference and with C; some
 * of each kind are taken and some refused. */
static void test_generated_agree(void **state)
{
	const char *seed = getenv("WFP_TEST_SEED");
	struct batch b = {.n = 0};
	struct doc d;

	(void)state;
	taken = refused = c_checked = 0;
	rng = seed ? strtoull(seed, NULL, 10) : 0x5eed5eedULL;
	if (rng == 0)
		rng = 1;
	print_message("seed %llu\n", (unsigned long long)rng);
	for (int i = 0; i < GENERATED; i++) {
		d.len = 0;
		put_ws(&d);
		if (pick(10) == 0)
			put_value(&d, 0);
		else
			put_object(&d, 0);
		put_ws(&d);
		for (int m = i % 2 ? 1 + (int)pick(3) : 0; m > 0; m--)
			mutate(&d);
		batch_add(&b, d.s, d.len);
	}
	batch_check(&b);
	print_message("%d taken, %d refused, %d also by C\n", taken, refused,
		      c_checked);
	assert_true(taken > GENERATED / 20 && refused > GENERATED / 20);
}

/* Builds the checker script once for both tests. */
static int group_setup(void **state)
{
	(void)state;
	checker = checker_script();
	return 0;
}

/* Frees the checker script. */
static int group_teardown(void **state)
{
	(void)state;
	free(checker);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corpus_agrees),
	    cmocka_unit_test(test_generated_agree),
	};
	int rc;

	c = itest_client(&cfg);
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	wfp_client_free(c);
	return rc;
}
