/* json.c - JSON output helpers for the CLI, and the checks that what it
 * prints was encoded and written (see cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/util.h"

/* Fields of job hashes and stream entries that hold whole numbers. */
static const char *const number_fields[] = {
    "fence",	  "attempts",	"max_attempts", "redeliveries", "created_at",
    "updated_at", "claimed_at", "heartbeat_at", "lease_until",	"finished_at",
    "n",	  "prev_fence", "at",		"run",		"attempt",
    "cancel_at",  NULL,
};

/* ------------------------------------------------------------------ */
/* output checks                                                       */
/* ------------------------------------------------------------------ */

/* The first reason the output could not be encoded or written ("" while
 * all is well), and whether it was reported on stderr. One command runs
 * per process, so this is the process's output state. */
static char output_error[256];
static int output_reported;

void cli_output_fail(const char *fmt, ...)
{
	va_list ap;

	if (output_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(output_error, sizeof(output_error), fmt, ap);
	va_end(ap);
}

const char *cli_output_error(void)
{
	return output_error[0] ? output_error : NULL;
}

int cli_output_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_output_fail("cannot write to stdout: %s",
				errno ? strerror(errno) : "write error");
		return -1;
	}
	return cli_output_error() ? -1 : 0;
}

int cli_output_report(const char *more)
{
	if (!output_reported) {
		output_reported = 1;
		cli_error(EXIT_FAIL, "cannot print the output: %s%s%s",
			  output_error, more ? "; " : "", more ? more : "");
	}
	return EXIT_FAIL;
}

/* Bytes of a name quoted in a message about a value. */
#define CLI_SHOWN_MAX 64

/* The first value of a listing shown with U+FFFD in place of bytes that
 * are not valid UTF-8 ("" while none), and how many were. */
static char lossy_first[512];
static int lossy_count;

int cli_output_done(int rc)
{
	if (cli_output_flush() != 0) {
		cli_output_report(NULL);
		return rc == EXIT_OK ? EXIT_FAIL : rc;
	}
	if (lossy_count == 0 || rc != EXIT_OK)
		return rc;
	if (lossy_count == 1)
		return cli_error(EXIT_FAIL, "%s", lossy_first);
	return cli_error(EXIT_FAIL, "%s; and %d more such value%s", lossy_first,
			 lossy_count - 1, lossy_count > 2 ? "s" : "");
}

json_t *cli_json_str(const char *s, size_t n, const char *what, const char *of)
{
	json_t *v = json_stringn(s, n);

	if (v == NULL)
		cli_output_fail("%s%s%s%s is not valid UTF-8", what,
				of ? " of '" : "", of ? of : "", of ? "'" : "");
	return v;
}

/* s[0..n) as a JSON string with U+FFFD for each byte that is not part of
 * a valid UTF-8 sequence. */
static json_t *json_replaced(const char *s, size_t n)
{
	char *buf = malloc(n * 3 + 1);
	size_t o = 0;
	json_t *v;

	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len =
		    wfp_utf8_next((const unsigned char *)s + i, n - i, &cp);

		if (len == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3, i++;
		} else {
			memcpy(buf + o, s + i, len);
			o += len, i += len;
		}
	}
	v = json_stringn(buf, o);
	free(buf);
	return v;
}

/* Copies s into out (n bytes) as clean text for a message: printable
 * ASCII kept, other bytes as \xNN, cut at CLI_SHOWN_MAX bytes of s. */
static const char *shown(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < CLI_SHOWN_MAX && s[i] && o + 5 < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02X", ch);
	}
	out[o] = '\0';
	return out;
}

json_t *cli_json_lossy(const char *s, size_t n, const char *what,
		       const char *of, json_t *entry)
{
	json_t *v = json_stringn(s, n);
	char why[512], q[CLI_SHOWN_MAX * 4 + 8];

	if (v != NULL)
		return v;
	snprintf(why, sizeof(why),
		 "%s%s%s%s is not valid UTF-8 (shown with U+FFFD in place of "
		 "the bad bytes)",
		 what, of ? " of '" : "", of ? shown(of, q, sizeof(q)) : "",
		 of ? "'" : "");
	if (lossy_count++ == 0)
		wfp_strlcpy(lossy_first, why, sizeof(lossy_first));
	if (entry != NULL && json_object_get(entry, "error") == NULL)
		json_object_set_new(entry, "error", json_string(why));
	v = json_replaced(s, n);
	if (v == NULL)
		cli_output_fail("out of memory");
	return v;
}

/* ------------------------------------------------------------------ */
/* JSON from Redis replies                                             */
/* ------------------------------------------------------------------ */

/* Returns 1 when name holds a number. */
static int is_number_field(const char *name)
{
	for (const char *const *f = number_fields; *f; f++) {
		if (strcmp(*f, name) == 0)
			return 1;
	}
	return 0;
}

/* One field value as JSON: numbers as numbers, payload parsed. A value
 * that cannot be encoded is recorded (see cli_output_fail) with its name
 * and of (the entry's id, or NULL), and gives NULL; or, with entry (the
 * object of a listing), is shown with U+FFFD (see cli_json_lossy). */
static json_t *field_value(const char *name, const redisReply *v,
			   const char *of, json_t *entry)
{
	char what[96];
	int64_t n;

	if (v->str == NULL)
		return json_null();
	if (is_number_field(name) && wfp_parse_i64(v->str, &n) == 0)
		return json_integer(n);
	if (strcmp(name, "payload") == 0) {
		json_t *p = json_loadb(v->str, v->len, 0, NULL);

		if (p)
			return p;
	}
	snprintf(what, sizeof(what), "field '%s'", name);
	if (entry != NULL)
		return cli_json_lossy(v->str, v->len, what, of, entry);
	return cli_json_str(v->str, v->len, what, of);
}

/* The value of field "id" in a flat [k1, v1, ...] reply, or NULL. */
static const char *flat_id(const redisReply *flat)
{
	for (size_t i = 0; flat && i + 1 < flat->elements; i += 2) {
		const char *k = flat->element[i]->str;

		if (k != NULL && strcmp(k, "id") == 0)
			return flat->element[i + 1]->str;
	}
	return NULL;
}

/* The fields of flat as a JSON object; lossy: see cli_fields_lossy. */
static json_t *fields_json(const redisReply *flat, int lossy)
{
	json_t *o = json_object();
	const char *id = flat_id(flat);

	for (size_t i = 0; flat && i + 1 < flat->elements; i += 2) {
		const char *k = flat->element[i]->str;

		if (k != NULL)
			json_object_set_new(o, k,
					    field_value(k, flat->element[i + 1],
							id, lossy ? o : NULL));
	}
	return o;
}

json_t *cli_fields_json(const redisReply *flat)
{
	return fields_json(flat, 0);
}

json_t *cli_fields_lossy(const redisReply *flat)
{
	return fields_json(flat, 1);
}

json_t *cli_entries_json(const redisReply *entries)
{
	json_t *a = json_array();

	for (size_t i = 0; entries && i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		json_t *o;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		o = cli_fields_json(e->element[1]);
		json_object_set_new(o, "entry",
				    json_string(e->element[0]->str));
		json_array_append_new(a, o);
	}
	return a;
}

/* ------------------------------------------------------------------ */
/* printing                                                            */
/* ------------------------------------------------------------------ */

int cli_print_json(json_t *v)
{
	char *s;

	if (v == NULL)
		cli_output_fail("a value is not valid UTF-8");
	if (cli_output_error()) {
		json_decref(v);
		return -1;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	if (s == NULL) {
		cli_output_fail("JSON encoding failed");
		return -1;
	}
	if (puts(s) == EOF)
		cli_output_fail("cannot write to stdout: %s", strerror(errno));
	free(s);
	return cli_output_error() ? -1 : 0;
}

int cli_emit(const struct cli *c, json_t *v, void (*text)(json_t *v))
{
	if (c->json) {
		if (cli_print_json(v) != 0 || cli_output_flush() != 0)
			return cli_output_report(NULL);
		return EXIT_OK;
	}
	if (v == NULL || cli_output_error()) {
		json_decref(v);
		return cli_output_report(NULL);
	}
	text(v);
	json_decref(v);
	return cli_output_flush() == 0 ? EXIT_OK : cli_output_report(NULL);
}

/* ------------------------------------------------------------------ */
/* text output                                                         */
/* ------------------------------------------------------------------ */

/* Fields shown first, in this order; any others follow. */
static const char *const field_order[] = {
    "id",
    "name",
    "state",
    "owner",
    "attempts",
    "max_attempts",
    "fence",
    "redeliveries",
    "error",
    "created_at",
    "updated_at",
    "claimed_at",
    "heartbeat_at",
    "lease_until",
    "finished_at",
    "idempotency_key",
    "n",
    "reason",
    "prev_owner",
    "prev_fence",
    "detail",
    "at",
    NULL,
};

/* Prints one "name value" line. */
void cli_print_field(const char *indent, const char *k, json_t *v)
{
	char *s = json_is_string(v)
		      ? NULL
		      : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	printf("%s%-15s %s\n", indent, k, s ? s : json_string_value(v));
	free(s);
}

/* Prints a JSON object's fields as "name value" lines, known ones first. */
void cli_print_fields(json_t *o, const char *indent)
{
	const char *k;
	json_t *v;

	for (const char *const *f = field_order; *f; f++) {
		v = json_object_get(o, *f);
		if (v != NULL)
			cli_print_field(indent, *f, v);
	}
	json_object_foreach(o, k, v)
	{
		int known = 0;

		for (const char *const *f = field_order; *f && !known; f++)
			known = strcmp(*f, k) == 0;
		if (!known)
			cli_print_field(indent, k, v);
	}
}
