/* json.c - JSON output helpers for the CLI (see cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/util.h"

/* Fields of job hashes and stream entries that hold whole numbers. */
static const char *const number_fields[] = {
    "fence",	  "attempts",	"max_attempts", "redeliveries", "created_at",
    "updated_at", "claimed_at", "heartbeat_at", "lease_until",	"finished_at",
    "n",	  "prev_fence", "at",		NULL,
};

/* Returns 1 when name holds a number. */
static int is_number_field(const char *name)
{
	for (const char *const *f = number_fields; *f; f++) {
		if (strcmp(*f, name) == 0)
			return 1;
	}
	return 0;
}

/* One field value as JSON: numbers as numbers, payload parsed. */
static json_t *field_value(const char *name, const redisReply *v)
{
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
	return json_stringn(v->str, v->len);
}

json_t *cli_fields_json(const redisReply *flat)
{
	json_t *o = json_object();

	for (size_t i = 0; flat && i + 1 < flat->elements; i += 2) {
		const char *k = flat->element[i]->str;

		if (k != NULL)
			json_object_set_new(
			    o, k, field_value(k, flat->element[i + 1]));
	}
	return o;
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

void cli_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(v);
}

int cli_emit(const struct cli *c, json_t *v, void (*text)(json_t *v))
{
	if (c->json) {
		cli_print_json(v);
		return EXIT_OK;
	}
	text(v);
	json_decref(v);
	return EXIT_OK;
}
