/*
 * rsv.c - reservation and class files, the plan, the generated
 * workflows and the item phases (see wfp/rsv.h).
 *
 * Files are read with the workflow parser's strict JSON reader, so the
 * rules (UTF-8, no repeated key, numbers as spelled) are one set. Args
 * and actions are kept as compact JSON text as the file spells them and
 * copied verbatim into the generated workflows, whose every other string
 * is escaped here; what is generated is then read back by the workflow
 * parser, so a workflow the executor would refuse is never posted.
 */
#include "wfp/rsv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wfp/client.h"
#include "wfp/util.h"
#include "wfp/workflow.h"

#include "wf_json-internal.h"

/* ------------------------------------------------------------------ */
/* Words                                                               */
/* ------------------------------------------------------------------ */

static const char *const step_words[WFP_RSV_STEPS] = {
    "reserve",	"configure",   "acquire",   "destroy",
    "poweroff", "unconfigure", "unreserve",
};

static const char *const phase_words[] = {"none", "reserved", "configured",
					  "acquired"};
#define NPHASES ((int)(sizeof(phase_words) / sizeof(phase_words[0])))

const char *wfp_rsv_step_word(int step)
{
	return step >= 0 && step < WFP_RSV_STEPS ? step_words[step] : NULL;
}

int wfp_rsv_step_parse(const char *word)
{
	for (int i = 0; word && i < WFP_RSV_STEPS; i++)
		if (strcmp(step_words[i], word) == 0)
			return i;
	return -1;
}

const char *wfp_rsv_phase_word(int phase)
{
	return phase >= 0 && phase < NPHASES ? phase_words[phase] : NULL;
}

int wfp_rsv_phase_parse(const char *word)
{
	for (int i = 0; word && i < NPHASES; i++)
		if (strcmp(phase_words[i], word) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/* 1 when s is a reservation or sub-reservation name. */
static int rsv_name_ok(const char *s)
{
	return wfp_word_ok(s, WFP_RSV_NAME_MAX, "_.-");
}

/* 1 when s is an item name. */
static int item_name_ok(const char *s)
{
	return wfp_word_ok(s, WFP_RSV_ITEM_NAME_MAX, "_-");
}

/* 1 when s is a pool name. */
static int pool_name_ok(const char *s)
{
	return wfp_word_ok(s, WFP_POOL_NAME_MAX, "_.-");
}

/* 1 when s is a class name (no dot: NAME.json stays in its folder). */
static int class_name_ok(const char *s)
{
	return wfp_word_ok(s, WFP_CLASS_NAME_MAX, "_-");
}

/* 1 when s is a data name (an input's name). */
static int data_name_ok(const char *s)
{
	return wfp_word_ok(s, WFP_DATA_NAME_MAX, "_");
}

/* Quotes untrusted s for a message into q (WFP_QUOTE_BUF bytes). */
static const char *qt(char *q, const char *s)
{
	return wfp_quote(q, WFP_QUOTE_BUF, s, strlen(s));
}

int wfp_rsv_check_id(const char *id, char *err, size_t errlen)
{
	char q[WFP_QUOTE_BUF];

	if (wfp_word_ok(id, WFP_RSV_ID_MAX, "_-"))
		return 0;
	snprintf(err, errlen,
		 "reservation id '%s' is not 1-%d of A-Z a-z 0-9 _ -",
		 qt(q, id), WFP_RSV_ID_MAX - 1);
	return -1;
}

int wfp_pool_check_name(const char *name, char *err, size_t errlen)
{
	char q[WFP_QUOTE_BUF];

	if (pool_name_ok(name))
		return 0;
	snprintf(err, errlen, "pool name '%s' is not 1-%d of A-Z a-z 0-9 _ . -",
		 qt(q, name), WFP_POOL_NAME_MAX - 1);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Text building                                                       */
/* ------------------------------------------------------------------ */

/* A growing text; oom set once memory ran out (later adds do nothing). */
struct sb {
	char *s;
	size_t n, cap;
	int oom;
};

/* Appends len bytes of t. */
static void sb_add(struct sb *b, const char *t, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *s;

		while (cap < b->n + len + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (s == NULL) {
			b->oom = 1;
			return;
		}
		b->s = s, b->cap = cap;
	}
	memcpy(b->s + b->n, t, len);
	b->n += len;
	b->s[b->n] = '\0';
}

/* Appends the string t. */
static void sb_str(struct sb *b, const char *t)
{
	sb_add(b, t, strlen(t));
}

/* Appends t as a JSON string (quoted, escaped; t is UTF-8). */
static void sb_json(struct sb *b, const char *t)
{
	static const char hexd[] = "0123456789abcdef";

	sb_add(b, "\"", 1);
	for (; *t; t++) {
		unsigned char c = (unsigned char)*t;
		char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};

		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			sb_add(b, e, 2);
		} else if (c < 0x20) {
			sb_add(b, e, 6);
		} else {
			sb_add(b, t, 1);
		}
	}
	sb_add(b, "\"", 1);
}

/* Appends "KEY": with KEY escaped, after a comma unless first. */
static void sb_key(struct sb *b, const char *key, int first)
{
	if (!first)
		sb_add(b, ",", 1);
	sb_json(b, key);
	sb_add(b, ":", 1);
}

/* Appends x in decimal. */
static void sb_i64(struct sb *b, int64_t x)
{
	char n[24];

	snprintf(n, sizeof(n), "%lld", (long long)x);
	sb_str(b, n);
}

/* The text (the caller owns it), or NULL when memory ran out. */
static char *sb_take(struct sb *b)
{
	if (b->oom || b->s == NULL) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

/* ------------------------------------------------------------------ */
/* Reading JSON                                                        */
/* ------------------------------------------------------------------ */

/* The state of reading one file (reservation, class or plan). */
struct rd {
	struct wf_json doc;
	char *err;
	size_t errlen;
};

/* Writes the message; returns -1. */
static int rd_fail(struct rd *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* 1 when value i (-1: none) is of type t. */
static int j_is(const struct rd *x, int i, enum wf_json_type t)
{
	return i >= 0 && x->doc.v[i].type == t;
}

/* Value of key in object o, or -1. */
static int j_get(const struct rd *x, int o, const char *key)
{
	return j_is(x, o, WF_JSON_OBJECT) ? wf_json_get(&x->doc, o, key) : -1;
}

/* Text of string i, or NULL when i is no string. */
static const char *j_str(const struct rd *x, int i)
{
	return j_is(x, i, WF_JSON_STRING) ? x->doc.v[i].s : NULL;
}

/* Index of the next element after value i of a container. */
static int j_next(const struct rd *x, int i)
{
	return x->doc.v[i].end;
}

/* A malloc'd compact copy of value i, or NULL. */
static char *j_compact(const struct rd *x, int i)
{
	char *s = malloc(x->doc.v[i].len + 1);

	if (s)
		wf_json_compact(&x->doc, i, s);
	return s;
}

/* Reads integer i into *out: 0, 1 when it is no integer, 2 when it is
 * out of int64 (raw then holds its text, cut, for the message). */
static int j_int(const struct rd *x, int i, int64_t *out, char *raw,
		 size_t rawlen)
{
	const struct wf_json_val *v = &x->doc.v[i];

	if (!j_is(x, i, WF_JSON_NUMBER) || !v->is_int)
		return 1;
	if (v->len < rawlen) {
		memcpy(raw, x->doc.text + v->start, v->len);
		raw[v->len] = '\0';
	} else {
		memcpy(raw, x->doc.text + v->start, rawlen - 4);
		memcpy(raw + rawlen - 4, "...", 4);
	}
	return wfp_parse_i64(raw, out) != 0 ? 2 : 0;
}

/* Reads integer field (named what, in a message after place) of value
 * i (-1: absent, *out kept) within min..max. */
static int j_int_in(struct rd *x, const char *place, const char *what, int i,
		    int64_t min, int64_t max, int64_t *out)
{
	char raw[32];
	int64_t v = 0;
	int rc;

	if (i < 0)
		return 0;
	rc = j_int(x, i, &v, raw, sizeof(raw));
	if (rc == 1)
		return rd_fail(x, "%s: %s is not an integer", place, what);
	if (rc == 2 || v < min || v > max)
		return rd_fail(x, "%s: %s %s is not in %lld..%lld", place, what,
			       raw, (long long)min, (long long)max);
	*out = v;
	return 0;
}

/* Refuses a key of object o not in allowed (NULL-terminated); place
 * starts the message. */
static int j_only_keys(struct rd *x, int o, const char *const *allowed,
		       const char *place)
{
	char q[WFP_QUOTE_BUF];
	int kv = o + 1;

	for (int m = 0; m < x->doc.v[o].count; m++, kv = j_next(x, kv + 1)) {
		const char *k = x->doc.v[kv].s;
		int i = 0;

		while (allowed[i] && strcmp(allowed[i], k) != 0)
			i++;
		if (allowed[i] == NULL)
			return rd_fail(x, "%s: unknown key '%s'", place,
				       qt(q, k));
	}
	return 0;
}

/* Reads text (len bytes, at most max) as a JSON object into x->doc;
 * what names it in messages ("reservation file"). */
static int rd_open(struct rd *x, const char *text, size_t len, size_t max,
		   const char *what)
{
	char jerr[128];

	if (len > max)
		return rd_fail(x, "%s is %zu bytes, more than %zu", what, len,
			       max);
	if (wf_json_read(text, len, &x->doc, jerr, sizeof(jerr)) != 0)
		return rd_fail(x, "%s is not JSON: %s", what, jerr);
	if (!j_is(x, 0, WF_JSON_OBJECT))
		return rd_fail(x, "%s is not a JSON object", what);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The reservation                                                     */
/* ------------------------------------------------------------------ */

/* Index of the item called name among r's first n, or -1. */
static int item_find(const struct wfp_rsv *r, const char *name, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return i;
	return -1;
}

/* Index of the sub called name, or -1. */
static int sub_find(const struct wfp_rsv *r, const char *name)
{
	for (int i = 0; i < r->nsubs; i++)
		if (strcmp(r->subs[i], name) == 0)
			return i;
	return -1;
}

/* An empty reservation with room for the limits; NULL on no memory. */
static struct wfp_rsv *rsv_new(void)
{
	struct wfp_rsv *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->items = calloc(WFP_RSV_ITEMS_MAX, sizeof(*r->items));
	r->subs = calloc(WFP_RSV_SUBS_MAX, sizeof(*r->subs));
	r->sub_parent = calloc(WFP_RSV_SUBS_MAX, sizeof(*r->sub_parent));
	r->needs = calloc(WFP_RSV_ITEMS_MAX, sizeof(*r->needs));
	if (!r->items || !r->subs || !r->sub_parent || !r->needs) {
		wfp_rsv_free(r);
		return NULL;
	}
	r->ttl_ms = WFP_RSV_TTL_DEFAULT_MS;
	r->max_attempts = WFP_RSV_ATTEMPTS_DEFAULT;
	return r;
}

/* Frees the actions of item it. */
static void item_acts_free(struct wfp_rsv_item *it)
{
	for (int s = 0; s < WFP_RSV_STEPS; s++) {
		free(it->act[s]);
		it->act[s] = NULL;
	}
}

void wfp_rsv_free(struct wfp_rsv *r)
{
	if (r == NULL)
		return;
	for (int i = 0; r->items && i < r->nitems; i++) {
		free(r->items[i].args);
		item_acts_free(&r->items[i]);
	}
	free(r->items);
	free(r->subs);
	free(r->sub_parent);
	free(r->needs);
	free(r);
}

/* Sums r's amounts per pool into needs, pools in first-use order. */
static void rsv_needs(struct wfp_rsv *r)
{
	r->nneeds = 0;
	for (int i = 0; i < r->nitems; i++) {
		const struct wfp_rsv_item *it = &r->items[i];
		int k = 0;

		while (k < r->nneeds && strcmp(r->needs[k].pool, it->pool) != 0)
			k++;
		if (k == r->nneeds) {
			wfp_strlcpy(r->needs[k].pool, it->pool,
				    sizeof(r->needs[k].pool));
			r->needs[k].amount = 0;
			r->nneeds++;
		}
		r->needs[k].amount += it->amount;
	}
}

/* Reads args object a (-1: none) of item it. */
static int read_args(struct rd *x, int a, struct wfp_rsv_item *it)
{
	char q[WFP_QUOTE_BUF];
	int kv;

	if (a < 0) {
		it->args = strdup("{}");
		return it->args ? 0 : rd_fail(x, "out of memory");
	}
	if (!j_is(x, a, WF_JSON_OBJECT))
		return rd_fail(x, "item '%s': args is not an object", it->name);
	if (x->doc.v[a].count > WFP_RSV_ARGS_MAX)
		return rd_fail(x, "item '%s': args has %d keys, more than %d",
			       it->name, x->doc.v[a].count, WFP_RSV_ARGS_MAX);
	kv = a + 1;
	for (int m = 0; m < x->doc.v[a].count; m++, kv = j_next(x, kv + 1)) {
		const struct wf_json_val *k = &x->doc.v[kv], *v = k + 1;
		size_t vlen = v->type == WF_JSON_STRING ? v->slen : v->len;

		if (!data_name_ok(k->s))
			return rd_fail(x,
				       "item '%s': args: data name '%s' is "
				       "not 1-63 of A-Z a-z 0-9 _",
				       it->name, qt(q, k->s));
		if (strncmp(k->s, "rsv_", 4) == 0)
			return rd_fail(x,
				       "item '%s': args: '%s' starts with "
				       "rsv_ (the service's own inputs)",
				       it->name, k->s);
		if (vlen > WFP_WF_INPUT_MAX)
			return rd_fail(x,
				       "item '%s': args: '%s' is longer than "
				       "%d bytes",
				       it->name, k->s, WFP_WF_INPUT_MAX);
	}
	it->args = j_compact(x, a);
	return it->args ? 0 : rd_fail(x, "out of memory");
}

/* Reads a name field (what) of item it: required, a word by ok. */
static int item_word(struct rd *x, int o, const char *field, const char *what,
		     int (*ok)(const char *), const char *rule, char *out,
		     size_t outlen, const char *item)
{
	const char *s = j_str(x, j_get(x, o, field));
	char q[WFP_QUOTE_BUF];

	if (j_get(x, o, field) < 0)
		return rd_fail(x, "item '%s' has no %s", item, field);
	if (s == NULL)
		return rd_fail(x, "item '%s': %s is not a string", item, field);
	if (!ok(s))
		return rd_fail(x, "item '%s': %s '%s' is not %s", item, what,
			       qt(q, s), rule);
	wfp_strlcpy(out, s, outlen);
	return 0;
}

/* Reads the name of item object o (element k of where's items). */
static int item_name(struct rd *x, struct wfp_rsv *r, int o, int k,
		     const char *where, struct wfp_rsv_item *it)
{
	const char *s = j_str(x, j_get(x, o, "name"));
	char q[WFP_QUOTE_BUF];

	if (s == NULL)
		return rd_fail(x, "%s: items[%d] has %s", where, k,
			       j_get(x, o, "name") < 0 ? "no name"
						       : "a name that is not "
							 "a string");
	if (!item_name_ok(s))
		return rd_fail(x,
			       "%s: items[%d]: item name '%s' is not 1-%d of "
			       "A-Z a-z 0-9 _ -",
			       where, k, qt(q, s), WFP_RSV_ITEM_NAME_MAX - 1);
	if (item_find(r, s, r->nitems) >= 0)
		return rd_fail(x,
			       "item '%s' is named twice (item names are "
			       "unique in the reservation and its "
			       "sub-reservations)",
			       s);
	wfp_strlcpy(it->name, s, sizeof(it->name));
	return 0;
}

/* Reads item object o (element k of the items of sub, where names
 * it) as r's next item. */
static int read_item(struct rd *x, struct wfp_rsv *r, int o, int k,
		     const char *sub, const char *where,
		     const char *const *keys)
{
	struct wfp_rsv_item *it = &r->items[r->nitems];
	char place[WFP_RSV_ITEM_NAME_MAX + 16];

	if (r->nitems >= WFP_RSV_ITEMS_MAX)
		return rd_fail(x,
			       "reservation has more than %d items "
			       "(sub-reservations included)",
			       WFP_RSV_ITEMS_MAX);
	if (!j_is(x, o, WF_JSON_OBJECT))
		return rd_fail(x, "%s: items[%d] is not an object", where, k);
	memset(it, 0, sizeof(*it));
	it->attempts = 1;
	if (item_name(x, r, o, k, where, it) != 0)
		return -1;
	snprintf(place, sizeof(place), "item '%s'", it->name);
	wfp_strlcpy(it->sub, sub, sizeof(it->sub));
	if (j_only_keys(x, o, keys, place) != 0 ||
	    item_word(x, o, "pool", "pool name", pool_name_ok,
		      "1-63 of A-Z a-z 0-9 _ . -", it->pool, sizeof(it->pool),
		      it->name) != 0)
		return -1;
	if (j_get(x, o, "amount") < 0)
		return rd_fail(x, "item '%s' has no amount", it->name);
	if (j_int_in(x, place, "amount", j_get(x, o, "amount"), 1,
		     WFP_RSV_AMOUNT_MAX, &it->amount) != 0)
		return -1;
	if (item_word(x, o, "class", "class name", class_name_ok,
		      "1-63 of A-Z a-z 0-9 _ -", it->cls, sizeof(it->cls),
		      it->name) != 0)
		return -1;
	r->nitems++; /* from here on wfp_rsv_free frees its args */
	return read_args(x, j_get(x, o, "args"), it);
}

static int read_level(struct rd *x, struct wfp_rsv *r, int o, int depth,
		      int sub, const char *where);

/* Reads the name of sub-reservation object o (element k of where's
 * reservations) and adds it under parent. */
static int sub_add(struct rd *x, struct wfp_rsv *r, int o, int k,
		   const char *where, int parent)
{
	const char *s = j_str(x, j_get(x, o, "name"));
	char q[WFP_QUOTE_BUF];

	if (s == NULL)
		return rd_fail(x, "%s: reservations[%d] has %s", where, k,
			       j_get(x, o, "name") < 0 ? "no name"
						       : "a name that is not "
							 "a string");
	if (!rsv_name_ok(s))
		return rd_fail(x,
			       "%s: reservations[%d]: name '%s' is not 1-%d of "
			       "A-Z a-z 0-9 _ . -",
			       where, k, qt(q, s), WFP_RSV_NAME_MAX - 1);
	if (sub_find(r, s) >= 0)
		return rd_fail(x, "sub-reservation '%s' is named twice", s);
	if (r->nsubs >= WFP_RSV_SUBS_MAX)
		return rd_fail(x,
			       "reservation has more than %d "
			       "sub-reservations in all",
			       WFP_RSV_SUBS_MAX);
	wfp_strlcpy(r->subs[r->nsubs], s, sizeof(r->subs[0]));
	r->sub_parent[r->nsubs] = parent;
	return r->nsubs++;
}

/* Reads sub-reservation object o (element k of where's reservations),
 * child of parent at depth. */
static int read_sub(struct rd *x, struct wfp_rsv *r, int o, int k,
		    const char *where, int parent, int depth)
{
	static const char *const keys[] = {"name", "items", "reservations",
					   NULL};
	char place[WFP_RSV_NAME_MAX + 24];
	int s;

	if (!j_is(x, o, WF_JSON_OBJECT))
		return rd_fail(x, "%s: reservations[%d] is not an object",
			       where, k);
	s = sub_add(x, r, o, k, where, parent);
	if (s < 0)
		return -1;
	snprintf(place, sizeof(place), "sub-reservation '%s'", r->subs[s]);
	if (depth > WFP_RSV_DEPTH_MAX)
		return rd_fail(x,
			       "%s: sub-reservations nest deeper than %d "
			       "levels",
			       place, WFP_RSV_DEPTH_MAX);
	if (j_get(x, o, "ttl_ms") >= 0 || j_get(x, o, "max_attempts") >= 0)
		return rd_fail(x,
			       "%s: ttl_ms and max_attempts belong to the "
			       "top reservation only",
			       place);
	if (j_only_keys(x, o, keys, place) != 0)
		return -1;
	return read_level(x, r, o, depth, s, place);
}

/* The number of elements of array field of o (0 when absent). */
static int level_count(const struct rd *x, int o, const char *field)
{
	int a = j_get(x, o, field);

	return j_is(x, a, WF_JSON_ARRAY) ? x->doc.v[a].count : 0;
}

/* The keys of an item in a reservation file. */
static const char *const item_keys[] = {"name",	 "pool", "amount",
					"class", "args", NULL};

/* Reads the items, then the sub-reservations, of the (sub-)reservation
 * object o: sub -1 the top, else its index; where names it. */
static int read_level(struct rd *x, struct wfp_rsv *r, int o, int depth,
		      int sub, const char *where)
{
	const char *subname = sub < 0 ? "" : r->subs[sub];
	int items = j_get(x, o, "items"), subs = j_get(x, o, "reservations");
	int k, e;

	if (items >= 0 && !j_is(x, items, WF_JSON_ARRAY))
		return rd_fail(x, "%s: items is not an array", where);
	if (subs >= 0 && !j_is(x, subs, WF_JSON_ARRAY))
		return rd_fail(x, "%s: reservations is not an array", where);
	if (sub >= 0 && level_count(x, o, "items") == 0 &&
	    level_count(x, o, "reservations") == 0)
		return rd_fail(x, "%s has no items and no sub-reservations",
			       where);
	for (k = 0, e = items + 1; items >= 0 && k < x->doc.v[items].count;
	     k++, e = j_next(x, e))
		if (read_item(x, r, e, k, subname, where, item_keys) != 0)
			return -1;
	for (k = 0, e = subs + 1; subs >= 0 && k < x->doc.v[subs].count;
	     k++, e = j_next(x, e))
		if (read_sub(x, r, e, k, where, sub, depth + 1) != 0)
			return -1;
	return 0;
}

/* Reads the top reservation object (the document's root) into r. */
static int read_top(struct rd *x, struct wfp_rsv *r)
{
	static const char *const keys[] = {
	    "name", "ttl_ms", "max_attempts", "items", "reservations", NULL};
	const char *name = j_str(x, j_get(x, 0, "name"));
	char place[WFP_RSV_NAME_MAX + 24], q[WFP_QUOTE_BUF];
	int64_t attempts = r->max_attempts;

	if (name == NULL)
		return rd_fail(x, "reservation file has %s",
			       j_get(x, 0, "name") < 0 ? "no name"
						       : "a name that is not "
							 "a string");
	if (!rsv_name_ok(name))
		return rd_fail(x,
			       "reservation name '%s' is not 1-%d of A-Z a-z "
			       "0-9 _ . -",
			       qt(q, name), WFP_RSV_NAME_MAX - 1);
	wfp_strlcpy(r->name, name, sizeof(r->name));
	snprintf(place, sizeof(place), "reservation '%s'", name);
	if (j_only_keys(x, 0, keys, place) != 0 ||
	    j_int_in(x, place, "ttl_ms", j_get(x, 0, "ttl_ms"), 1,
		     WFP_RSV_TTL_MAX_MS, &r->ttl_ms) != 0 ||
	    j_int_in(x, place, "max_attempts", j_get(x, 0, "max_attempts"), 1,
		     WFP_MAX_ATTEMPTS_LIMIT, &attempts) != 0)
		return -1;
	r->max_attempts = (int)attempts;
	if (read_level(x, r, 0, 0, -1, place) != 0)
		return -1;
	if (r->nitems == 0)
		return rd_fail(x, "%s has no items (nor its sub-reservations)",
			       place);
	rsv_needs(r);
	return 0;
}

int wfp_rsv_parse(const char *text, size_t len, struct wfp_rsv **out, char *err,
		  size_t errlen)
{
	struct rd x = {.err = err, .errlen = errlen};
	struct wfp_rsv *r;
	int rc;

	*out = NULL;
	if (rd_open(&x, text, len, WFP_RSV_FILE_MAX, "reservation file") != 0) {
		wf_json_free(&x.doc);
		return -1;
	}
	r = rsv_new();
	rc = r ? read_top(&x, r) : rd_fail(&x, "out of memory");
	wf_json_free(&x.doc);
	if (rc != 0) {
		wfp_rsv_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Classes                                                             */
/* ------------------------------------------------------------------ */

/* Bytes of a generated message part before it is cut. */
#define RSV_MSG_MAX 1024

/* Checks action text act of step (its class's place says where) with
 * the workflow parser's rules for an apply; writes "PLACE: STEP...". */
static int action_check(const char *place, int step, const char *act, char *err,
			size_t errlen)
{
	const char *word = step_words[step];
	char werr[RSV_MSG_MAX], prefix[64];
	struct sb b = {0};
	const char *m;
	int rc;

	sb_str(&b, "{\"workflow\":{\"task\":\"x\",\"apply\":");
	sb_str(&b, act);
	sb_str(&b, "}}");
	if (b.oom)
		return free(b.s), snprintf(err, errlen, "out of memory"), -1;
	rc = wfp_workflow_check(b.s, b.n, werr, sizeof(werr));
	free(b.s);
	if (rc == 0)
		return 0;
	/* "task 'x': apply[0] is empty" -> "reserve[0] is empty" */
	snprintf(prefix, sizeof(prefix), "task 'x': apply");
	m = strncmp(werr, prefix, strlen(prefix)) == 0 ? werr + strlen(prefix)
						       : NULL;
	if (m)
		snprintf(err, errlen, "%s: %s%s", place, word, m);
	else
		snprintf(err, errlen, "%s: %s: %s", place, word, werr);
	return -1;
}

/* The undo rule: destroy alone, or poweroff, unconfigure and unreserve
 * all three. has: the steps the class gives. */
static int undo_check(struct rd *x, const char *place, const int *has)
{
	static const char *const give =
	    "give destroy, or poweroff, unconfigure and unreserve";
	int three = has[WFP_RSV_POWEROFF] + has[WFP_RSV_UNCONFIGURE] +
		    has[WFP_RSV_UNRESERVE];
	char list[64] = "";

	if (has[WFP_RSV_DESTROY] && three == 0)
		return 0;
	if (!has[WFP_RSV_DESTROY] && three == 3)
		return 0;
	if (!has[WFP_RSV_DESTROY] && three == 0)
		return rd_fail(x, "%s: has no undo; %s", place, give);
	for (int s = WFP_RSV_POWEROFF; s <= WFP_RSV_UNRESERVE; s++) {
		if (!has[s])
			continue;
		if (list[0])
			wfp_strlcpy(list + strlen(list), " and ",
				    sizeof(list) - strlen(list));
		wfp_strlcpy(list + strlen(list), step_words[s],
			    sizeof(list) - strlen(list));
	}
	if (has[WFP_RSV_DESTROY])
		return rd_fail(x, "%s: has destroy and %s; %s", place, list,
			       give);
	return rd_fail(x,
		       "%s: has %s but not all of poweroff, unconfigure "
		       "and unreserve; %s",
		       place, list, give);
}

/* Reads the actions of object o (a class file, or a plan's "actions")
 * into acts (malloc'd compact texts); check: run each through the
 * workflow parser's rules. */
static int read_actions(struct rd *x, int o, const char *place, int check,
			char **acts)
{
	int has[WFP_RSV_STEPS] = {0};

	for (int s = 0; s < WFP_RSV_STEPS; s++) {
		int v = j_get(x, o, step_words[s]);

		if (v < 0) {
			if (s <= WFP_RSV_ACQUIRE)
				return rd_fail(x, "%s: has no %s", place,
					       step_words[s]);
			continue;
		}
		if (!j_is(x, v, WF_JSON_ARRAY) && !j_is(x, v, WF_JSON_OBJECT))
			return rd_fail(x,
				       "%s: %s is neither an argv array nor a "
				       "plugin object",
				       place, step_words[s]);
		has[s] = 1;
	}
	if (undo_check(x, place, has) != 0)
		return -1;
	for (int s = 0; s < WFP_RSV_STEPS; s++) {
		if (!has[s])
			continue;
		acts[s] = j_compact(x, j_get(x, o, step_words[s]));
		if (acts[s] == NULL)
			return rd_fail(x, "out of memory");
		if (check &&
		    action_check(place, s, acts[s], x->err, x->errlen) != 0)
			return -1;
	}
	return 0;
}

/* Reads retry object v (-1: none) into *attempts and *backoff_ms. */
static int read_retry(struct rd *x, int v, const char *place, int *attempts,
		      int64_t *backoff_ms)
{
	static const char *const keys[] = {"attempts", "backoff_ms", NULL};
	char rplace[RSV_MSG_MAX];
	int64_t a = 1;

	if (v < 0)
		return 0;
	snprintf(rplace, sizeof(rplace), "%s: retry", place);
	if (!j_is(x, v, WF_JSON_OBJECT))
		return rd_fail(x, "%s is not an object", rplace);
	if (j_only_keys(x, v, keys, rplace) != 0 ||
	    j_int_in(x, rplace, "attempts", j_get(x, v, "attempts"), 1,
		     WFP_WF_ATTEMPTS_MAX, &a) != 0 ||
	    j_int_in(x, rplace, "backoff_ms", j_get(x, v, "backoff_ms"), 0,
		     WFP_WF_BACKOFF_MAX_MS, backoff_ms) != 0)
		return -1;
	*attempts = (int)a;
	return 0;
}

/* Reads the class document (x->doc) into acts and the item's timeout
 * and retry fields (tmp). */
static int read_class(struct rd *x, const char *place, char **acts,
		      struct wfp_rsv_item *tmp)
{
	static const char *const keys[] = {
	    "reserve",	"configure",   "acquire",   "destroy",
	    "poweroff", "unconfigure", "unreserve", "timeout_ms",
	    "retry",	"description", NULL};
	int d = j_get(x, 0, "description");

	if (j_only_keys(x, 0, keys, place) != 0)
		return -1;
	if (d >= 0 && !j_is(x, d, WF_JSON_STRING))
		return rd_fail(x, "%s: description is not a string", place);
	if (j_int_in(x, place, "timeout_ms", j_get(x, 0, "timeout_ms"), 0,
		     WFP_WF_TIMEOUT_MAX_MS, &tmp->timeout_ms) != 0 ||
	    read_retry(x, j_get(x, 0, "retry"), place, &tmp->attempts,
		       &tmp->backoff_ms) != 0)
		return -1;
	return read_actions(x, 0, place, 1, acts);
}

int wfp_rsv_class_parse(const char *name, const char *text, size_t len,
			struct wfp_rsv_item *into, char *err, size_t errlen)
{
	struct rd x = {.err = err, .errlen = errlen};
	struct wfp_rsv_item tmp = {.attempts = 1};
	char place[WFP_CLASS_NAME_MAX * 2 + 32], q[WFP_QUOTE_BUF];
	int rc;

	if (!class_name_ok(name)) {
		snprintf(err, errlen,
			 "class name '%s' is not 1-63 of A-Z a-z 0-9 _ -",
			 qt(q, name));
		return -1;
	}
	snprintf(place, sizeof(place), "class '%s' (%s.json)", name, name);
	rc = rd_open(&x, text, len, WFP_CLASS_FILE_MAX, place);
	if (rc == 0)
		rc = read_class(&x, place, tmp.act, &tmp);
	wf_json_free(&x.doc);
	if (rc != 0) {
		item_acts_free(&tmp);
		return -1;
	}
	item_acts_free(into);
	memcpy(into->act, tmp.act, sizeof(into->act));
	into->timeout_ms = tmp.timeout_ms;
	into->attempts = tmp.attempts;
	into->backoff_ms = tmp.backoff_ms;
	return 0;
}

/* Opens the class file path of class cls in dir: a regular file of at
 * most WFP_CLASS_FILE_MAX bytes. Returns the descriptor, or -1 with err.
 * Symbolic links are followed (a folder of links, as a mounted config
 * map is, works); the class name has no '/' or '.', so the file is
 * always one in dir. */
static int class_open(const char *path, const char *dir, const char *cls,
		      char *err, size_t errlen)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO planted there must not hang the service. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT)
		return snprintf(err, errlen,
				"class '%s': no file %s.json in %s", cls, cls,
				dir),
		       -1;
	if (fd < 0)
		return snprintf(err, errlen, "class '%s': cannot open %s: %s",
				cls, path, strerror(errno)),
		       -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		snprintf(err, errlen, "class '%s': %s is not a regular file",
			 cls, path);
	else if (st.st_size > WFP_CLASS_FILE_MAX)
		snprintf(err, errlen,
			 "class '%s' (%s.json) is %lld bytes, more than %d",
			 cls, cls, (long long)st.st_size, WFP_CLASS_FILE_MAX);
	else
		return fd;
	close(fd);
	return -1;
}

/* Reads fd to its end, at most max + 1 bytes, into buf; returns the
 * bytes read or -1 (errno set). */
static ssize_t read_all(int fd, char *buf, size_t max)
{
	size_t len = 0;

	while (len <= max) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Reads the class file of class cls in dir into *text (malloc'd) and
 * *len (a file that grew past the limit meanwhile reads as
 * WFP_CLASS_FILE_MAX + 1 bytes: the parser refuses it). */
static int class_load(const char *dir, const char *cls, char **text,
		      size_t *len, char *err, size_t errlen)
{
	char path[WFP_PATH_MAX + WFP_CLASS_NAME_MAX + 8];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.json", dir, cls) >=
	    sizeof(path))
		return snprintf(err, errlen,
				"classes directory is longer than %d bytes",
				WFP_PATH_MAX - 1),
		       -1;
	fd = class_open(path, dir, cls, err, errlen);
	if (fd < 0)
		return -1;
	*text = malloc(WFP_CLASS_FILE_MAX + 1);
	n = *text ? read_all(fd, *text, WFP_CLASS_FILE_MAX) : -1;
	if (n < 0) {
		snprintf(err, errlen, "class '%s': cannot read %s: %s", cls,
			 path, *text ? strerror(errno) : "out of memory");
		free(*text);
		*text = NULL;
	}
	close(fd);
	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -1 : 0;
}

/* Copies the class fields of item from into item to. */
static int class_copy(const struct wfp_rsv_item *from, struct wfp_rsv_item *to)
{
	item_acts_free(to);
	for (int s = 0; s < WFP_RSV_STEPS; s++) {
		if (from->act[s] == NULL)
			continue;
		to->act[s] = strdup(from->act[s]);
		if (to->act[s] == NULL)
			return -1;
	}
	to->timeout_ms = from->timeout_ms;
	to->attempts = from->attempts;
	to->backoff_ms = from->backoff_ms;
	return 0;
}

int wfp_rsv_resolve(struct wfp_rsv *r, const char *classes_dir, char *err,
		    size_t errlen)
{
	if (classes_dir == NULL || classes_dir[0] == '\0')
		return snprintf(err, errlen,
				"no classes directory (WFP_CLASSES_DIR) to "
				"load class '%s' from",
				r->nitems ? r->items[0].cls : ""),
		       -1;
	for (int i = 0; i < r->nitems; i++) {
		struct wfp_rsv_item *it = &r->items[i];
		int j = 0;
		char *text = NULL;
		size_t len = 0;
		int rc;

		while (j < i && strcmp(r->items[j].cls, it->cls) != 0)
			j++;
		if (j < i) {
			if (class_copy(&r->items[j], it) != 0)
				return snprintf(err, errlen, "out of memory"),
				       -1;
			continue;
		}
		if (class_load(classes_dir, it->cls, &text, &len, err,
			       errlen) != 0)
			return -1;
		rc = wfp_rsv_class_parse(it->cls, text, len, it, err, errlen);
		free(text);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The plan                                                            */
/* ------------------------------------------------------------------ */

/* Appends item it of a plan. */
static void plan_item(struct sb *b, const struct wfp_rsv_item *it)
{
	int first = 1;

	sb_str(b, "{\"name\":");
	sb_json(b, it->name);
	sb_str(b, ",\"pool\":");
	sb_json(b, it->pool);
	sb_str(b, ",\"amount\":");
	sb_i64(b, it->amount);
	sb_str(b, ",\"class\":");
	sb_json(b, it->cls);
	sb_str(b, ",\"sub\":");
	sb_json(b, it->sub);
	sb_str(b, ",\"args\":");
	sb_str(b, it->args ? it->args : "{}");
	sb_str(b, ",\"timeout_ms\":");
	sb_i64(b, it->timeout_ms);
	sb_str(b, ",\"retry\":{\"attempts\":");
	sb_i64(b, it->attempts);
	sb_str(b, ",\"backoff_ms\":");
	sb_i64(b, it->backoff_ms);
	sb_str(b, "},\"actions\":{");
	for (int s = 0; s < WFP_RSV_STEPS; s++) {
		if (it->act[s] == NULL)
			continue;
		sb_key(b, step_words[s], first);
		sb_str(b, it->act[s]);
		first = 0;
	}
	sb_str(b, "}}");
}

char *wfp_rsv_plan(const struct wfp_rsv *r)
{
	struct sb b = {0};

	sb_str(&b, "{\"name\":");
	sb_json(&b, r->name);
	sb_str(&b, ",\"ttl_ms\":");
	sb_i64(&b, r->ttl_ms);
	sb_str(&b, ",\"max_attempts\":");
	sb_i64(&b, r->max_attempts);
	sb_str(&b, ",\"subs\":[");
	for (int i = 0; i < r->nsubs; i++) {
		int p = r->sub_parent[i];

		sb_str(&b, i ? ",{\"name\":" : "{\"name\":");
		sb_json(&b, r->subs[i]);
		sb_str(&b, ",\"parent\":");
		sb_json(&b, p >= 0 ? r->subs[p] : "");
		sb_str(&b, "}");
	}
	sb_str(&b, "],\"items\":[");
	for (int i = 0; i < r->nitems; i++) {
		if (i)
			sb_str(&b, ",");
		plan_item(&b, &r->items[i]);
	}
	sb_str(&b, "]}");
	return sb_take(&b);
}

/* Reads sub k of a plan (object o). */
static int plan_sub(struct rd *x, struct wfp_rsv *r, int o, int k)
{
	static const char *const keys[] = {"name", "parent", NULL};
	const char *parent = j_str(x, j_get(x, o, "parent"));
	int s, p = -1;

	if (!j_is(x, o, WF_JSON_OBJECT))
		return rd_fail(x, "plan: subs[%d] is not an object", k);
	if (j_only_keys(x, o, keys, "plan: subs") != 0)
		return -1;
	s = sub_add(x, r, o, k, "plan", -1);
	if (s < 0)
		return -1;
	if (parent == NULL)
		return rd_fail(x, "plan: sub-reservation '%s' has no parent",
			       r->subs[s]);
	if (parent[0] != '\0') {
		p = sub_find(r, parent);
		if (p < 0 || p >= s)
			return rd_fail(x,
				       "plan: sub-reservation '%s': parent is "
				       "not a sub-reservation before it",
				       r->subs[s]);
	}
	r->sub_parent[s] = p;
	return 0;
}

/* Reads the class fields (timeout_ms, retry, actions) of plan item it
 * (object o). */
static int plan_class(struct rd *x, int o, struct wfp_rsv_item *it,
		      const char *place)
{
	int a = j_get(x, o, "actions");

	if (j_int_in(x, place, "timeout_ms", j_get(x, o, "timeout_ms"), 0,
		     WFP_WF_TIMEOUT_MAX_MS, &it->timeout_ms) != 0 ||
	    read_retry(x, j_get(x, o, "retry"), place, &it->attempts,
		       &it->backoff_ms) != 0)
		return -1;
	if (!j_is(x, a, WF_JSON_OBJECT))
		return rd_fail(x, "%s: actions is not an object", place);
	return read_actions(x, a, place, 0, it->act);
}

/* Reads item k of a plan (object o) as r's next item. */
static int plan_item_read(struct rd *x, struct wfp_rsv *r, int o, int k)
{
	static const char *const keys[] = {
	    "name", "pool",	  "amount", "class",   "sub",
	    "args", "timeout_ms", "retry",  "actions", NULL};
	const char *sub = j_str(x, j_get(x, o, "sub"));
	char place[WFP_RSV_ITEM_NAME_MAX + 24];
	struct wfp_rsv_item *it;

	if (read_item(x, r, o, k, "", "plan", keys) != 0)
		return -1;
	it = &r->items[r->nitems - 1];
	snprintf(place, sizeof(place), "plan: item '%s'", it->name);
	if (sub == NULL || (sub[0] && sub_find(r, sub) < 0))
		return rd_fail(x, "%s: sub is not a sub-reservation", place);
	wfp_strlcpy(it->sub, sub, sizeof(it->sub));
	return plan_class(x, o, it, place);
}

/* Reads array field of the plan's root with fn for each element. */
static int plan_list(struct rd *x, struct wfp_rsv *r, const char *field,
		     int (*fn)(struct rd *, struct wfp_rsv *, int, int))
{
	int a = j_get(x, 0, field), e = a + 1;

	if (!j_is(x, a, WF_JSON_ARRAY))
		return rd_fail(x, "plan: %s is not an array", field);
	for (int k = 0; k < x->doc.v[a].count; k++, e = j_next(x, e))
		if (fn(x, r, e, k) != 0)
			return -1;
	return 0;
}

/* Reads the plan document into r. */
static int plan_read(struct rd *x, struct wfp_rsv *r)
{
	static const char *const keys[] = {"name", "ttl_ms", "max_attempts",
					   "subs", "items",  NULL};
	const char *name = j_str(x, j_get(x, 0, "name"));
	int64_t attempts = 0, ttl = 0;

	if (j_only_keys(x, 0, keys, "plan") != 0)
		return -1;
	if (name == NULL || !rsv_name_ok(name))
		return rd_fail(x, "plan: name is not a reservation name");
	wfp_strlcpy(r->name, name, sizeof(r->name));
	if (j_get(x, 0, "ttl_ms") < 0 || j_get(x, 0, "max_attempts") < 0)
		return rd_fail(x, "plan: no ttl_ms or max_attempts");
	if (j_int_in(x, "plan", "ttl_ms", j_get(x, 0, "ttl_ms"), 1,
		     WFP_RSV_TTL_MAX_MS, &ttl) != 0 ||
	    j_int_in(x, "plan", "max_attempts", j_get(x, 0, "max_attempts"), 1,
		     WFP_MAX_ATTEMPTS_LIMIT, &attempts) != 0)
		return -1;
	r->ttl_ms = ttl, r->max_attempts = (int)attempts;
	if (plan_list(x, r, "subs", plan_sub) != 0 ||
	    plan_list(x, r, "items", plan_item_read) != 0)
		return -1;
	if (r->nitems == 0)
		return rd_fail(x, "plan: no items");
	rsv_needs(r);
	return 0;
}

int wfp_rsv_plan_parse(const char *text, size_t len, struct wfp_rsv **out,
		       char *err, size_t errlen)
{
	struct rd x = {.err = err, .errlen = errlen};
	struct wfp_rsv *r = NULL;
	int rc;

	*out = NULL;
	rc = rd_open(&x, text, len, (size_t)WFP_RSV_PLAN_MAX, "plan");
	if (rc == 0) {
		r = rsv_new();
		rc = r ? plan_read(&x, r) : rd_fail(&x, "out of memory");
	}
	wf_json_free(&x.doc);
	if (rc != 0) {
		wfp_rsv_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Generated workflows                                                 */
/* ------------------------------------------------------------------ */

/* The service's own inputs every generated task gets. */
static const char *const rsv_inputs[] = {"rsv_id", "rsv_item", "rsv_pool",
					 "rsv_amount", "rsv_class"};
#define NRSV_INPUTS ((int)(sizeof(rsv_inputs) / sizeof(rsv_inputs[0])))

/* Appends the members of compact object text obj (no braces), after a
 * comma; returns count (the caller's bound on how many it holds), or 0
 * for "{}" (nothing appended). */
static int sb_members(struct sb *b, const char *obj, int count)
{
	size_t n = strlen(obj);

	if (n <= 2)
		return 0;
	sb_add(b, ",", 1);
	sb_add(b, obj + 1, n - 2);
	return count;
}

/* Appends, after a comma each, the members of outputs (JSON object
 * text) that args (object text) does not hold, while there is room
 * (room: keys left); unless all, only those that can be inputs (a data
 * name not starting with rsv_, a value of at most WFP_WF_INPUT_MAX). */
static void sb_outputs(struct sb *b, const char *outputs, const char *args,
		       int room, int all)
{
	struct wf_json o = {0}, a = {0};
	char jerr[64];
	int kv;

	if (wf_json_read(outputs, strlen(outputs), &o, jerr, sizeof(jerr)) ||
	    wf_json_read(args, strlen(args), &a, jerr, sizeof(jerr)) ||
	    o.v[0].type != WF_JSON_OBJECT || a.v[0].type != WF_JSON_OBJECT)
		goto done;
	kv = 1;
	for (int m = 0; m < o.v[0].count && room > 0;
	     m++, kv = o.v[kv + 1].end) {
		const struct wf_json_val *k = &o.v[kv], *v = k + 1;
		size_t vlen = v->type == WF_JSON_STRING ? v->slen : v->len;
		char *c;

		if (wf_json_get(&a, 0, k->s) >= 0)
			continue;
		if (!all &&
		    (!data_name_ok(k->s) || strncmp(k->s, "rsv_", 4) == 0 ||
		     vlen > WFP_WF_INPUT_MAX))
			continue;
		c = malloc(k->len + v->len + 2);
		if (c == NULL) {
			b->oom = 1;
			break;
		}
		sb_add(b, ",", 1);
		sb_add(b, c, wf_json_compact(&o, kv, c));
		sb_add(b, ":", 1);
		sb_add(b, c, wf_json_compact(&o, kv + 1, c));
		free(c);
		room--;
	}
done:
	wf_json_free(&o);
	wf_json_free(&a);
}

/* Appends the "inputs" of a task of item it of reservation id:
 * rsv_* above args above outputs (NULL: none). */
static void sb_task_inputs(struct sb *b, const char *id,
			   const struct wfp_rsv_item *it, const char *outputs)
{
	const char *vals[NRSV_INPUTS] = {id, it->name, it->pool, NULL, it->cls};
	const char *args = it->args ? it->args : "{}";
	char amount[24];
	int n = NRSV_INPUTS;

	snprintf(amount, sizeof(amount), "%lld", (long long)it->amount);
	vals[3] = amount;
	sb_str(b, ",\"inputs\":{");
	for (int i = 0; i < NRSV_INPUTS; i++) {
		sb_key(b, rsv_inputs[i], i == 0);
		sb_json(b, vals[i]);
	}
	n += sb_members(b, args, WFP_RSV_ARGS_MAX);
	if (outputs)
		sb_outputs(b, outputs, args, WFP_WF_INPUTS_MAX - n, 0);
	sb_str(b, "}");
}

/* Appends ,"after":[ITEM.reserve, ...] naming the item's first n
 * fulfilment steps (nothing when n is 0). */
static void sb_after(struct sb *b, const struct wfp_rsv_item *it, int n)
{
	char name[WFP_TASK_NAME_MAX];

	for (int s = 0; s < n; s++) {
		snprintf(name, sizeof(name), "%s.%s", it->name, step_words[s]);
		sb_str(b, s ? "," : ",\"after\":[");
		sb_json(b, name);
	}
	if (n > 0)
		sb_str(b, "]");
}

/* Appends the task ITEM.STEP of item it: apply the class's step, revert
 * its undo step (-1 none), after the item's first `after` fulfilment
 * steps (a graph member), the class's timeout and retry, the inputs. */
static void sb_task(struct sb *b, const char *id, const struct wfp_rsv_item *it,
		    int step, int undo, int after, const char *outputs)
{
	char name[WFP_TASK_NAME_MAX];

	snprintf(name, sizeof(name), "%s.%s", it->name, step_words[step]);
	sb_str(b, "{\"task\":");
	sb_json(b, name);
	sb_after(b, it, after);
	sb_str(b, ",\"apply\":");
	sb_str(b, it->act[step]);
	if (undo >= 0 && it->act[undo]) {
		sb_str(b, ",\"revert\":");
		sb_str(b, it->act[undo]);
	}
	if (it->timeout_ms > 0) {
		sb_str(b, ",\"timeout_ms\":");
		sb_i64(b, it->timeout_ms);
	}
	if (it->attempts > 1 || it->backoff_ms > 0) {
		sb_str(b, ",\"retry\":{\"attempts\":");
		sb_i64(b, it->attempts);
		sb_str(b, ",\"backoff_ms\":");
		sb_i64(b, it->backoff_ms);
		sb_str(b, "}");
	}
	sb_task_inputs(b, id, it, outputs);
	sb_str(b, "}");
}

/* 1 when item it's class undoes with destroy. */
static int is_destroy(const struct wfp_rsv_item *it)
{
	return it->act[WFP_RSV_DESTROY] != NULL;
}

/*
 * Appends the fulfilment of item it: a graph in which configure waits
 * for reserve and acquire for reserve and configure. Each step's direct
 * deps are then all of its item's earlier steps, in step order (the
 * parser keeps deps in document order), so a step and its revert see
 * their item's outputs above any other item's, configure's over
 * reserve's on a clash (a linear would give acquire configure's only,
 * and any other item's newer outputs would hide reserve's).
 */
static void sb_fulfil_item(struct sb *b, const char *id,
			   const struct wfp_rsv_item *it)
{
	int d = is_destroy(it);

	sb_str(b, "{\"graph\":[");
	sb_task(b, id, it, WFP_RSV_RESERVE,
		d ? WFP_RSV_DESTROY : WFP_RSV_UNRESERVE, 0, NULL);
	sb_str(b, ",");
	sb_task(b, id, it, WFP_RSV_CONFIGURE, d ? -1 : WFP_RSV_UNCONFIGURE, 1,
		NULL);
	sb_str(b, ",");
	sb_task(b, id, it, WFP_RSV_ACQUIRE, d ? -1 : WFP_RSV_POWEROFF, 2, NULL);
	sb_str(b, "]}");
}

/* Appends the unordered of sub (-1: the top): its items' graphs, then
 * its subs' unordereds. */
static void sb_fulfil_level(struct sb *b, const struct wfp_rsv *r,
			    const char *id, int sub)
{
	const char *name = sub < 0 ? "" : r->subs[sub];
	int first = 1;

	sb_str(b, "{\"unordered\":[");
	for (int i = 0; i < r->nitems; i++) {
		if (strcmp(r->items[i].sub, name) != 0)
			continue;
		if (!first)
			sb_str(b, ",");
		sb_fulfil_item(b, id, &r->items[i]);
		first = 0;
	}
	for (int s = 0; s < r->nsubs; s++) {
		if (r->sub_parent[s] != sub)
			continue;
		if (!first)
			sb_str(b, ",");
		sb_fulfil_level(b, r, id, s);
		first = 0;
	}
	sb_str(b, "]}");
}

/* Appends {"inputs": {...}, "workflow": of a payload of r with id. */
static void sb_payload_head(struct sb *b, const struct wfp_rsv *r,
			    const char *id)
{
	sb_str(b, "{\"inputs\":{\"rsv_id\":");
	sb_json(b, id);
	sb_str(b, ",\"rsv_name\":");
	sb_json(b, r->name);
	sb_str(b, "},\"workflow\":");
}

/* Checks that every item of r is resolved; 0 or -1 with err. */
static int rsv_resolved(const struct wfp_rsv *r, char *err, size_t errlen)
{
	for (int i = 0; i < r->nitems; i++) {
		const struct wfp_rsv_item *it = &r->items[i];

		if (!it->act[WFP_RSV_RESERVE] || !it->act[WFP_RSV_CONFIGURE] ||
		    !it->act[WFP_RSV_ACQUIRE] ||
		    (!is_destroy(it) && (!it->act[WFP_RSV_POWEROFF] ||
					 !it->act[WFP_RSV_UNCONFIGURE] ||
					 !it->act[WFP_RSV_UNRESERVE])))
			return snprintf(err, errlen,
					"item '%s': class '%s' is not "
					"resolved (no actions)",
					it->name, it->cls),
			       -1;
	}
	return 0;
}

/* The item of task name "ITEM.STEP" in r, or -1; *step its step. */
static int task_item(const struct wfp_rsv *r, const char *task, int *step)
{
	const char *dot = task ? strchr(task, '.') : NULL;
	char item[WFP_RSV_ITEM_NAME_MAX];
	size_t n;

	if (dot == NULL)
		return -1;
	n = (size_t)(dot - task);
	if (n == 0 || n >= sizeof(item))
		return -1;
	memcpy(item, task, n);
	item[n] = '\0';
	*step = wfp_rsv_step_parse(dot + 1);
	return *step < 0 ? -1 : item_find(r, item, r->nitems);
}

/* The undo step that reverts fulfilment step of item it, or -1. */
static int undo_of(const struct wfp_rsv_item *it, int step)
{
	switch (step) {
	case WFP_RSV_RESERVE:
		return is_destroy(it) ? WFP_RSV_DESTROY : WFP_RSV_UNRESERVE;
	case WFP_RSV_CONFIGURE:
		return is_destroy(it) ? -1 : WFP_RSV_UNCONFIGURE;
	case WFP_RSV_ACQUIRE: return is_destroy(it) ? -1 : WFP_RSV_POWEROFF;
	default: return -1;
	}
}

/* Writes what the workflow parser said of a generated payload (what:
 * the job) into err: a task's apply or revert is named as its class's
 * step ("class 'vm' (item 'web'): unreserve[1] is empty"). */
static void gen_refusal(const struct wfp_rsv *r, const char *what,
			const char *werr, char *err, size_t errlen)
{
	char task[WFP_TASK_NAME_MAX];
	const char *end =
	    strncmp(werr, "task '", 6) == 0 ? strchr(werr + 6, '\'') : NULL;
	const struct wfp_rsv_item *it;
	int i = -1, step = -1;
	size_t n;

	if (end && (size_t)(end - werr - 6) < sizeof(task) &&
	    strncmp(end, "': ", 3) == 0) {
		n = (size_t)(end - werr - 6);
		memcpy(task, werr + 6, n);
		task[n] = '\0';
		i = task_item(r, task, &step);
	}
	if (i < 0) {
		snprintf(err, errlen, "%s workflow: %s", what, werr);
		return;
	}
	it = &r->items[i];
	end += 3;
	if (strncmp(end, "apply", 5) == 0)
		snprintf(err, errlen, "class '%s' (item '%s'): %s%s", it->cls,
			 it->name, step_words[step], end + 5);
	else if (strncmp(end, "revert", 6) == 0 && undo_of(it, step) >= 0)
		snprintf(err, errlen, "class '%s' (item '%s'): %s%s", it->cls,
			 it->name, step_words[undo_of(it, step)], end + 6);
	else
		snprintf(err, errlen, "%s workflow: %s", what, werr);
}

/* Ends payload b of what ("fulfilment"): checks its size and the
 * workflow; returns the text or NULL with err. */
static char *gen_finish(struct sb *b, const struct wfp_rsv *r, const char *what,
			char *err, size_t errlen)
{
	char werr[RSV_MSG_MAX];
	char *text = sb_take(b);

	if (text == NULL)
		return snprintf(err, errlen, "out of memory"), NULL;
	if (b->n > WFP_PAYLOAD_MAX) {
		snprintf(err, errlen,
			 "%s payload is %zu bytes, more than %d: fewer items "
			 "or smaller args and class actions",
			 what, b->n, WFP_PAYLOAD_MAX);
		free(text);
		return NULL;
	}
	if (wfp_workflow_check(text, b->n, werr, sizeof(werr)) != 0) {
		gen_refusal(r, what, werr, err, errlen);
		free(text);
		return NULL;
	}
	return text;
}

char *wfp_rsv_fulfil_payload(const struct wfp_rsv *r, const char *id, char *err,
			     size_t errlen)
{
	struct sb b = {0};

	if (wfp_rsv_check_id(id, err, errlen) != 0 ||
	    rsv_resolved(r, err, errlen) != 0)
		return NULL;
	sb_payload_head(&b, r, id);
	sb_fulfil_level(&b, r, id, -1);
	sb_str(&b, "}");
	return gen_finish(&b, r, "fulfilment", err, errlen);
}

/* Appends the teardown linear of item it from phase (not none). */
static void sb_teardown_item(struct sb *b, const char *id,
			     const struct wfp_rsv_item *it, int phase,
			     const char *outputs)
{
	sb_str(b, "{\"linear\":[");
	if (is_destroy(it)) {
		sb_task(b, id, it, WFP_RSV_DESTROY, -1, 0, outputs);
		sb_str(b, "]}");
		return;
	}
	if (phase >= WFP_RSV_ACQUIRED) {
		sb_task(b, id, it, WFP_RSV_POWEROFF, -1, 0, outputs);
		sb_str(b, ",");
	}
	if (phase >= WFP_RSV_CONFIGURED) {
		sb_task(b, id, it, WFP_RSV_UNCONFIGURE, -1, 0, outputs);
		sb_str(b, ",");
	}
	sb_task(b, id, it, WFP_RSV_UNRESERVE, -1, 0, outputs);
	sb_str(b, "]}");
}

/* Appends the teardown workflow of r (id) from the phases in st (NULL:
 * every item acquired, no outputs); an item i with drop[i] set gets no
 * recorded outputs. */
static void sb_teardown(struct sb *b, const struct wfp_rsv *r, const char *id,
			const struct wfp_rsv_item_state *st, const char *drop)
{
	int first = 1;

	sb_payload_head(b, r, id);
	sb_str(b, "{\"unordered\":[");
	for (int i = 0; i < r->nitems; i++) {
		int phase = st ? st[i].phase : WFP_RSV_ACQUIRED;

		if (phase <= WFP_RSV_NONE)
			continue;
		if (!first)
			sb_str(b, ",");
		sb_teardown_item(b, id, &r->items[i], phase,
				 st && !drop[i] ? st[i].outputs : NULL);
		first = 0;
	}
	sb_str(b, "]}}");
}

/* The item torn down (phase not none) with the longest recorded outputs
 * not yet dropped, or -1 when none has any left. */
static int teardown_biggest(const struct wfp_rsv *r,
			    const struct wfp_rsv_item_state *st,
			    const char *drop)
{
	size_t most = 2; /* "{}" */
	int k = -1;

	for (int i = 0; st && i < r->nitems; i++) {
		size_t n = st[i].outputs ? strlen(st[i].outputs) : 0;

		if (st[i].phase > WFP_RSV_NONE && !drop[i] && n > most)
			most = n, k = i;
	}
	return k;
}

/*
 * The recorded outputs go on every teardown task of their item (up to
 * three), so outside commands' outputs can make the teardown larger than
 * WFP_PAYLOAD_MAX where the fulfilment fit; a teardown that cannot be
 * posted would hold the capacity for good. Then the outputs of the items
 * with the longest ones are left out, one item at a time, until it fits
 * (without any it is smaller than the fulfilment was).
 */
char *wfp_rsv_teardown_payload(const struct wfp_rsv *r, const char *id,
			       const struct wfp_rsv_item_state *st, char *err,
			       size_t errlen)
{
	struct sb b = {0};
	char *drop;
	int k;

	if (wfp_rsv_check_id(id, err, errlen) != 0 ||
	    rsv_resolved(r, err, errlen) != 0)
		return NULL;
	drop = calloc((size_t)r->nitems + 1, 1);
	if (drop == NULL)
		return snprintf(err, errlen, "out of memory"), NULL;
	for (;;) {
		sb_teardown(&b, r, id, st, drop);
		if (b.oom || b.n <= WFP_PAYLOAD_MAX ||
		    (k = teardown_biggest(r, st, drop)) < 0)
			break;
		drop[k] = 1;
		b.n = 0;
	}
	free(drop);
	return gen_finish(&b, r, "teardown", err, errlen);
}

/* ------------------------------------------------------------------ */
/* Progress                                                            */
/* ------------------------------------------------------------------ */

struct wfp_rsv_item_state *wfp_rsv_progress_new(const struct wfp_rsv *r)
{
	struct wfp_rsv_item_state *st =
	    calloc((size_t)r->nitems + 1, sizeof(*st));

	for (int i = 0; st && i < r->nitems; i++)
		st[i].running = st[i].failed = -1;
	return st;
}

void wfp_rsv_progress_free(const struct wfp_rsv *r,
			   struct wfp_rsv_item_state *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < r->nitems; i++)
		free(st[i].outputs);
	free(st);
}

/* Outputs text old with the members of add over it (add wins): a new
 * malloc'd text, or NULL (old kept by the caller) when add is no JSON
 * object or memory runs out. */
static char *outputs_merge(const char *old, const char *add)
{
	struct wf_json a = {0};
	struct sb body = {0}, b = {0};
	char jerr[64];
	int ok;

	if (wf_json_read(add, strlen(add), &a, jerr, sizeof(jerr)) != 0)
		return NULL;
	ok = a.v[0].type == WF_JSON_OBJECT;
	wf_json_free(&a);
	if (!ok)
		return NULL;
	/* ",K:V" for each of old's members not in add, then add's */
	sb_str(&body, "");
	if (old)
		sb_outputs(&body, old, add, INT32_MAX, 1);
	sb_members(&body, add, 0);
	sb_str(&b, "{");
	if (!body.oom && body.n > 0)
		sb_add(&b, body.s + 1, body.n - 1);
	sb_str(&b, "}");
	if (body.oom)
		b.oom = 1;
	free(body.s);
	return sb_take(&b);
}

/* Item s applied fulfilment step with outputs. */
static void feed_applied(struct wfp_rsv_item_state *s, int step,
			 const char *outputs)
{
	char *merged;

	s->phase = step + 1; /* reserve -> reserved ... */
	if (s->phase > s->reached)
		s->reached = s->phase;
	s->running = -1;
	if (s->failed == step) /* a later attempt of it went through */
		s->failed = -1;
	if (outputs == NULL || outputs[0] == '\0')
		return;
	merged = outputs_merge(s->outputs, outputs);
	if (merged) {
		free(s->outputs);
		s->outputs = merged;
	}
}

/* 1 when an apply-failed entry with error says its step never ran. */
static int never_ran(const char *error)
{
	return error && strcmp(error, WFP_WF_NOT_RUN_ERROR) == 0;
}

/* Item s's step runs (now) again: a failure an earlier job left for it
 * is not the last word any more. */
static void feed_running(struct wfp_rsv_item_state *s, int step)
{
	s->running = step;
	if (s->failed == step)
		s->failed = -1;
}

/* An apply of step ended apply-failed (final: for good; error: why). */
static void feed_apply_failed(struct wfp_rsv_item_state *s, int step, int final,
			      const char *error)
{
	s->running = -1;
	if (final && !never_ran(error))
		s->failed = step;
}

/* One entry of the fulfilment job's log for item it (state s). */
static void feed_fulfil(const struct wfp_rsv_item *it,
			struct wfp_rsv_item_state *s, int step,
			const char *state, int final, const char *outputs,
			const char *error)
{
	int undo = undo_of(it, step);

	if (step > WFP_RSV_ACQUIRE)
		return;
	if (strcmp(state, "running") == 0) {
		feed_running(s, step);
	} else if (strcmp(state, "applied") == 0) {
		feed_applied(s, step, outputs);
	} else if (strcmp(state, "apply-failed") == 0) {
		feed_apply_failed(s, step, final, error);
	} else if (strcmp(state, "reverting") == 0) {
		feed_running(s, undo);
	} else if (strcmp(state, "reverted") == 0) {
		/* acquire reverted -> configured ... reserve -> none */
		if (s->phase > step)
			s->phase = step;
		if (undo >= 0)
			s->undone |= 1u << undo;
		s->running =
		    -1; /* failed stays: it is why the item is undone */
	} else if (strcmp(state, "revert-failed") == 0) {
		s->running = -1;
		if (final) /* else tried again */
			s->failed = undo;
	} else if (strcmp(state, "skipped") == 0) {
		s->running = -1;
	}
}

/* One entry of a teardown job's log (state s). */
static void feed_teardown(struct wfp_rsv_item_state *s, int step,
			  const char *state, int final, const char *error)
{
	static const int after[WFP_RSV_STEPS] = {
	    [WFP_RSV_DESTROY] = WFP_RSV_NONE,
	    [WFP_RSV_POWEROFF] = WFP_RSV_CONFIGURED,
	    [WFP_RSV_UNCONFIGURE] = WFP_RSV_RESERVED,
	    [WFP_RSV_UNRESERVE] = WFP_RSV_NONE,
	};

	if (step < WFP_RSV_DESTROY)
		return;
	if (strcmp(state, "running") == 0) {
		feed_running(s, step);
	} else if (strcmp(state, "applied") == 0) {
		if (s->phase > after[step])
			s->phase = after[step];
		s->undone |= 1u << step;
		s->running = -1;
		if (s->failed == step) /* a retried teardown did it */
			s->failed = -1;
	} else if (strcmp(state, "apply-failed") == 0) {
		feed_apply_failed(s, step, final, error);
	}
}

void wfp_rsv_progress_feed(const struct wfp_rsv *r,
			   struct wfp_rsv_item_state *st, int teardown,
			   const char *task, const char *state, int final,
			   const char *outputs, const char *error)
{
	int step, i = task_item(r, task, &step);

	if (i < 0 || state == NULL)
		return;
	if (teardown)
		feed_teardown(&st[i], step, state, final, error);
	else
		feed_fulfil(&r->items[i], &st[i], step, state, final, outputs,
			    error);
}
