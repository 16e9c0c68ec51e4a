/*
 * workflow.c - parse, check and flatten workflow documents (see
 * wfp/workflow.h and DESIGN.md "Workflow documents").
 *
 * Two phases. Phase 1 walks the JSON once: every task is checked and gets
 * its index in document order, every pattern becomes a node of a small
 * tree, every data name an integer id. Phase 2 flattens the tree into
 * edges (each pattern hands its parent a span: its task index range, its
 * entry tasks and its exit tasks), builds deps/next, finds cycles with
 * Kahn's algorithm and checks every requires against the ancestors.
 * Nothing is quadratic in the number of tasks: names are hashed, provider
 * lookups are binary searches in per-name sorted lists, and the ancestor
 * check works on 64 data names at a time with one word per task.
 */
#include "wfp/workflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/lock.h"
#include "wfp/util.h"

#include "wf_json-internal.h"

/* ------------------------------------------------------------------ */
/* Growable int arrays and a string table                             */
/* ------------------------------------------------------------------ */

struct ivec {
	int *v;
	int n, cap;
};

/* Appends x to a; returns 0 or -1 when out of memory. */
static int ivec_push(struct ivec *a, int x)
{
	if (a->n == a->cap) {
		int cap = a->cap ? a->cap * 2 : 8;
		int *v = realloc(a->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -1;
		a->v = v, a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

/* Makes room for n ints in a; returns 0 or -1. */
static int ivec_reserve(struct ivec *a, int n)
{
	int *v;

	if (n <= a->cap)
		return 0;
	v = realloc(a->v, (size_t)n * sizeof(*v));
	if (v == NULL)
		return -1;
	a->v = v, a->cap = n;
	return 0;
}

/* Frees what a holds and empties it. */
static void ivec_free(struct ivec *a)
{
	free(a->v);
	*a = (struct ivec){0};
}

/* Open addressing from a string (not owned) to an int. */
struct strtab {
	const char **keys;
	int *vals;
	size_t cap, n;
};

/* FNV-1a of s. */
static size_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Slot of key k in t: where it is, or the empty slot where it goes. */
static size_t strtab_slot(const struct strtab *t, const char *k)
{
	size_t i = str_hash(k) & (t->cap - 1);

	while (t->keys[i] && strcmp(t->keys[i], k) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* Value of k in t, or -1. */
static int strtab_get(const struct strtab *t, const char *k)
{
	size_t i;

	if (t->cap == 0)
		return -1;
	i = strtab_slot(t, k);
	return t->keys[i] ? t->vals[i] : -1;
}

/* Doubles t (or makes its first 64 slots); returns 0 or -1. */
static int strtab_grow(struct strtab *t)
{
	struct strtab n = {NULL, NULL, t->cap ? t->cap * 2 : 64, 0};

	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if (n.keys == NULL || n.vals == NULL) {
		free(n.keys), free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (t->keys[i]) {
			size_t j = strtab_slot(&n, t->keys[i]);

			n.keys[j] = t->keys[i], n.vals[j] = t->vals[i];
			n.n++;
		}
	}
	free(t->keys), free(t->vals);
	*t = n;
	return 0;
}

/* Adds k -> v unless k is there; returns 0 added, 1 there, -1 ENOMEM. */
static int strtab_put(struct strtab *t, const char *k, int v)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap && strtab_grow(t) != 0)
		return -1;
	i = strtab_slot(t, k);
	if (t->keys[i])
		return 1;
	t->keys[i] = k, t->vals[i] = v;
	t->n++;
	return 0;
}

/* Frees the table (not the keys). */
static void strtab_free(struct strtab *t)
{
	free(t->keys), free(t->vals);
	*t = (struct strtab){0};
}

/* ------------------------------------------------------------------ */
/* Parse state and messages                                            */
/* ------------------------------------------------------------------ */

enum node_kind {
	NODE_TASK,	/* one task: node.task */
	NODE_LINEAR,	/* children one after another */
	NODE_UNORDERED, /* children side by side */
	NODE_GRAPH,	/* children ordered by requires/provides and after */
};

/* A node of the pattern tree; children are linked first/next. */
struct node {
	enum node_kind kind;
	int task;	 /* NODE_TASK: its index */
	int first, last; /* children (node indices), -1 when none */
	int next;	 /* next sibling, -1 */
};

/* What phase 2 needs of a task beyond struct wfp_wf_task. */
struct task_extra {
	int *prov, *req; /* data ids of provides / requires */
	char **after;	 /* task names (NULL-terminated when nafter) */
	int nafter;
};

/* A chunk of the block a workflow's strings and lists live in. */
struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

/* A parsed workflow with the chunks its strings and lists live in, so
 * that 10,000 tasks take a few allocations, not 100,000. */
struct wf_box {
	struct wfp_workflow wf; /* first: wfp_workflow_free casts back */
	struct chunk *pool;
	struct strtab by_name; /* task name -> index (wfp_workflow_find) */
};

/* Everything one parse holds. */
struct parse {
	struct wf_box *box;
	struct wf_json doc; /* the payload as read */
	struct wfp_workflow *wf;
	int taskcap;
	struct task_extra *ex;
	struct node *nodes;
	int nnodes, nodecap;
	struct strtab data; /* data name -> id */
	int ndata;
	unsigned char *in_inputs; /* per data id: payload.inputs holds it */
	int *pstart, *plist;	  /* providers of each data id, ascending */
	struct ivec efrom, eto;	  /* edges, as made */
	struct block *arena;	  /* span lists, freed at the end at once */
	int *stamp, stampv;	  /* per task: marked in this round */
	int *outg;		  /* per task: graph node it waits-for leaves */
	struct {
		const char *key;    /* pattern key: linear, unordered, graph */
		int index;	    /* element of its array */
	} at[WFP_WF_DEPTH_MAX + 1]; /* where phase 1 is: the message's place */
	int depth;
	char *err;
	size_t errlen;
};

/* A block of the parse's arena (lists that live as long as the parse,
 * so that flattening 10,000 tasks does not malloc and free for each). */
struct block {
	struct block *next;
	size_t used, cap;
	int v[];
};

/* Room for n ints from the arena, or NULL. */
static int *arena_ints(struct parse *p, int n)
{
	struct block *b = p->arena;

	if (b == NULL || b->cap - b->used < (size_t)n) {
		size_t cap = n > 16384 ? (size_t)n : 16384;

		b = malloc(sizeof(*b) + cap * sizeof(int));
		if (b == NULL)
			return NULL;
		b->next = p->arena, b->used = 0, b->cap = cap;
		p->arena = b;
	}
	b->used += (size_t)n;
	return b->v + b->used - n;
}

/* Frees the arena. */
static void arena_free(struct parse *p)
{
	while (p->arena) {
		struct block *b = p->arena;

		p->arena = b->next;
		free(b);
	}
}

/* Zeroed room for n bytes (8-aligned) that lives as long as the
 * workflow, or NULL. */
static void *pool_alloc(struct parse *p, size_t n)
{
	struct chunk *c = p->box->pool;

	n = (n + 7) & ~(size_t)7;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		c = calloc(1, sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = p->box->pool, c->cap = cap;
		p->box->pool = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

/* A copy of s (len bytes) in the pool, or NULL. */
static char *pool_strdup(struct parse *p, const char *s, size_t len)
{
	char *d = pool_alloc(p, len + 1);

	if (d)
		memcpy(d, s, len);
	return d;
}

/* Bytes a message may take before it is fitted to the caller's room. */
#define WF_MSG_MAX 2048

/* Writes s into out (room n) whole when it fits; else its first head
 * bytes, "..." and as much of its end as fits, the end starting after
 * a sep when one is near (sep 0: anywhere). Returns the length. */
static size_t cut_middle(char *out, size_t n, const char *s, size_t head,
			 char sep)
{
	size_t len = strlen(s), keep, tail;
	const char *end;

	if (len < n) {
		memcpy(out, s, len + 1);
		return len;
	}
	if (n < 8) {
		out[0] = '\0';
		return 0;
	}
	keep = n - 1 - 3; /* head + tail */
	if (head > keep / 2)
		head = keep / 2;
	tail = keep - head;
	end = s + len - tail;
	if (sep && strchr(end, sep) != NULL && strchr(end, sep)[1] != '\0')
		end = strchr(end, sep) + 1;
	memcpy(out, s, head);
	memcpy(out + head, "...", 3);
	memcpy(out + head + 3, end, (size_t)(s + len - end) + 1);
	return head + 3 + (size_t)(s + len - end);
}

/* Length of the first part of a place: "workflow.linear[2]" of
 * "workflow.linear[2].graph[0]". */
static size_t first_part(const char *place)
{
	size_t a = strcspn(place, ".");

	if (place[a] == '\0')
		return a;
	return a + 1 + strcspn(place + a + 1, ".");
}

/* Writes "PLACE: MSG" into p->err; when it does not fit, the place is
 * shortened in its middle (its first part, "...", its last parts), never
 * the message; a message longer than the room keeps both its ends. */
static void wf_compose(struct parse *p, const char *place, const char *msg)
{
	char *e = p->err;
	size_t n = p->errlen, ml = strlen(msg), pl;

	if (n == 0)
		return;
	if (place == NULL || ml + 2 + 8 >= n) {
		cut_middle(e, n, msg, n / 3, 0);
		return;
	}
	pl = cut_middle(e, n - ml - 2, place, first_part(place), '.');
	memcpy(e + pl, ": ", 2);
	memcpy(e + pl + 2, msg, ml + 1);
}

/* Writes the message; returns -1. */
static int wf_fail(struct parse *p, const char *fmt, ...)
{
	char msg[WF_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wf_compose(p, NULL, msg);
	return -1;
}

/* Writes "PLACE: message" (PLACE as "workflow.linear[2].graph[0]",
 * shortened as "workflow.linear[2]...graph[0]" when long); returns -1. */
static int wf_fail_at(struct parse *p, const char *fmt, ...)
{
	char msg[WF_MSG_MAX], place[WF_MSG_MAX];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(place, sizeof(place), "workflow");
	for (int i = 0; i < p->depth && n < sizeof(place); i++)
		n += (size_t)snprintf(place + n, sizeof(place) - n, ".%s[%d]",
				      p->at[i].key, p->at[i].index);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wf_compose(p, place, msg);
	return -1;
}

/* Writes "task 'NAME': message"; returns -1. */
static int wf_fail_task(struct parse *p, int t, const char *fmt, ...)
{
	char msg[WF_MSG_MAX], place[WFP_TASK_NAME_MAX + 8];
	va_list ap;

	snprintf(place, sizeof(place), "task '%s'", p->wf->tasks[t].name);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wf_compose(p, place, msg);
	return -1;
}

/* Out of memory; returns -1. */
static int wf_nomem(struct parse *p)
{
	return wf_fail(p, "out of memory reading the workflow");
}

/* Appends x to list a (storage from the arena). */
static int list_push(struct parse *p, struct ivec *a, int x)
{
	if (a->n == a->cap) {
		int cap = a->cap ? a->cap * 2 : 2;
		int *v = arena_ints(p, cap);

		if (v == NULL)
			return wf_nomem(p);
		if (a->n)
			memcpy(v, a->v, (size_t)a->n * sizeof(int));
		a->v = v, a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the document                                                */
/* ------------------------------------------------------------------ */

/* Iterates array a of p's document: c is each element's index, k its
 * position. */
#define J_EACH(p, a, k, c)                                                     \
	for (k = 0, c = (a) + 1; k < (p)->doc.v[a].count;                      \
	     k++, c = (p)->doc.v[c].end)

/* Iterates object o of p's document: kv is each key's index (its value
 * is kv + 1), m its position. */
#define J_EACH_KEY(p, o, m, kv)                                                \
	for (m = 0, kv = (o) + 1; m < (p)->doc.v[o].count;                     \
	     m++, kv = (p)->doc.v[kv + 1].end)

/* 1 when value i (-1: none) is of type t. */
static int j_is(const struct parse *p, int i, enum wf_json_type t)
{
	return i >= 0 && p->doc.v[i].type == t;
}

/* Value of key in object o, or -1 (none, or o is no object). */
static int j_get(const struct parse *p, int o, const char *key)
{
	return j_is(p, o, WF_JSON_OBJECT) ? wf_json_get(&p->doc, o, key) : -1;
}

/* Text of string i, or NULL when i is no string. */
static const char *j_str(const struct parse *p, int i)
{
	return j_is(p, i, WF_JSON_STRING) ? p->doc.v[i].s : NULL;
}

/* Members of array or object i. */
static int j_size(const struct parse *p, int i)
{
	return p->doc.v[i].count;
}

/* The raw text of number i into out (n > 4 bytes); a longer one is cut
 * to end in "...", so a message never shows another number. */
static const char *j_raw(const struct parse *p, int i, char *out, size_t n)
{
	const struct wf_json_val *v = &p->doc.v[i];

	if (v->len < n) {
		memcpy(out, p->doc.text + v->start, v->len);
		out[v->len] = '\0';
	} else {
		memcpy(out, p->doc.text + v->start, n - 4);
		memcpy(out + n - 4, "...", 4);
	}
	return out;
}

/* Room of a quoted value in a message: 64 printable bytes or 16 that
 * quote as \xNN, then "...", so that a message with its place fits 256. */
#define WF_QUOTE_ROOM (WFP_QUOTE_MAX + 4)

/* Quotes untrusted text for a message (at most WF_QUOTE_ROOM bytes). */
static const char *wf_quote(char *out, size_t n, const char *s)
{
	return wfp_quote(out, n < WF_QUOTE_ROOM ? n : WF_QUOTE_ROOM, s,
			 strlen(s));
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/* 1 when s is a task name (1-63 of A-Za-z0-9_.-). */
static int task_name_ok(const char *s)
{
	return wfp_word_ok(s, WFP_TASK_NAME_MAX, "_.-");
}

/* 1 when s is a data name (1-63 of A-Za-z0-9_). */
static int data_name_ok(const char *s)
{
	return wfp_word_ok(s, WFP_DATA_NAME_MAX, "_");
}

/* 1 when s is a plugin name (1-63 of a-z0-9_-). */
static int plugin_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= WFP_PLUGIN_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '_' && c != '-')
			return 0;
	}
	return 1;
}

/* Id of data name s (added when new; s must outlive the parse), or -1. */
static int data_id(struct parse *p, const char *s)
{
	int id = strtab_get(&p->data, s);

	if (id >= 0)
		return id;
	if (strtab_put(&p->data, s, p->ndata) != 0)
		return wf_nomem(p);
	return p->ndata++;
}

/* Checks that o, a part of task t (sub: "retry", "apply"... or NULL for
 * the task itself), has only the keys in allowed (NULL-terminated). */
static int only_keys(struct parse *p, int o, const char *const *allowed, int t,
		     const char *sub)
{
	char q[WFP_QUOTE_BUF];
	int m, kv;

	J_EACH_KEY(p, o, m, kv)
	{
		const char *k = p->doc.v[kv].s;
		int i = 0;

		while (allowed[i] && strcmp(allowed[i], k) != 0)
			i++;
		if (allowed[i] == NULL)
			return wf_fail_task(p, t, "%s%sunknown key '%s'",
					    sub ? sub : "", sub ? ": " : "",
					    wf_quote(q, sizeof(q), k));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Phase 1: tasks                                                      */
/* ------------------------------------------------------------------ */

/* What a list of names holds. */
enum name_kind {
	NAMES_DATA, /* provides, requires */
	NAMES_TASK, /* after */
	NAMES_LOCK, /* locks */
};

/* Checks word i of an argv (field "apply"/"revert") of task t. */
static int check_word(struct parse *p, int t, const char *field, int i, int w)
{
	const char *s = j_str(p, w);
	size_t len;

	if (s == NULL)
		return wf_fail_task(p, t, "%s[%d] is not a string", field, i);
	len = p->doc.v[w].slen;
	if (len == 0)
		return wf_fail_task(p, t, "%s[%d] is empty", field, i);
	if (len > WFP_WF_ARG_MAX)
		return wf_fail_task(p, t, "%s[%d] is longer than %d bytes",
				    field, i, WFP_WF_ARG_MAX);
	if (strlen(s) != len)
		return wf_fail_task(p, t, "%s[%d] holds a NUL byte", field, i);
	if (!wfp_utf8_ok(s, len))
		return wf_fail_task(p, t, "%s[%d] is not valid UTF-8", field,
				    i);
	return 0;
}

/* Reads an argv array into a (kind EXEC). */
static int parse_argv(struct parse *p, int t, const char *field, int v,
		      struct wfp_action *a)
{
	int n = j_size(p, v), i, w;

	if (n == 0)
		return wf_fail_task(p, t, "%s is an empty argv", field);
	if (n > WFP_WF_ARGV_MAX)
		return wf_fail_task(p, t, "%s has %d words, more than %d",
				    field, n, WFP_WF_ARGV_MAX);
	J_EACH(p, v, i, w)
	{
		if (check_word(p, t, field, i, w) != 0)
			return -1;
	}
	a->argv = pool_alloc(p, ((size_t)n + 1) * sizeof(*a->argv));
	if (a->argv == NULL)
		return wf_nomem(p);
	a->kind = WFP_ACTION_EXEC;
	J_EACH(p, v, i, w)
	{
		a->argv[i] = pool_strdup(p, j_str(p, w), p->doc.v[w].slen);
		if (a->argv[i] == NULL)
			return wf_nomem(p);
		a->argc++;
	}
	return 0;
}

/* Reads {"plugin": NAME, "args": {...}} into a (kind PLUGIN). */
static int parse_plugin(struct parse *p, int t, const char *field, int v,
			struct wfp_action *a)
{
	static const char *const keys[] = {"plugin", "args", NULL};
	const char *name = j_str(p, j_get(p, v, "plugin"));
	int args = j_get(p, v, "args");
	char q[WFP_QUOTE_BUF];

	if (only_keys(p, v, keys, t, field) != 0)
		return -1;
	if (name == NULL)
		return wf_fail_task(p, t, "%s has no plugin name", field);
	if (!plugin_name_ok(name))
		return wf_fail_task(
		    p, t, "%s: plugin name '%s' is not 1-63 of a-z 0-9 _ -",
		    field, wf_quote(q, sizeof(q), name));
	if (args >= 0 && !j_is(p, args, WF_JSON_OBJECT))
		return wf_fail_task(p, t, "%s: args is not an object", field);
	a->kind = WFP_ACTION_PLUGIN;
	a->plugin = pool_strdup(p, name, strlen(name));
	a->args = pool_alloc(p, args >= 0 ? p->doc.v[args].len + 1 : 3);
	if (a->args && args >= 0)
		wf_json_compact(&p->doc, args, a->args);
	else if (a->args)
		memcpy(a->args, "{}", 3);
	if (a->plugin == NULL || a->args == NULL)
		return wf_nomem(p);
	return 0;
}

/* Reads apply or revert (field) of task t into a. */
static int parse_action(struct parse *p, int t, const char *field, int v,
			struct wfp_action *a)
{
	if (j_is(p, v, WF_JSON_ARRAY))
		return parse_argv(p, t, field, v, a);
	if (j_is(p, v, WF_JSON_OBJECT))
		return parse_plugin(p, t, field, v, a);
	return wf_fail_task(
	    p, t, "%s is neither an argv array nor a plugin object", field);
}

/* Checks name s of a list of kind; returns 0 or -1 with the message. */
static int check_list_name(struct parse *p, int t, const char *field,
			   enum name_kind kind, const char *s)
{
	char q[WFP_QUOTE_BUF], lerr[256];

	if (kind == NAMES_DATA && !data_name_ok(s))
		return wf_fail_task(
		    p, t, "%s: data name '%s' is not 1-63 of A-Z a-z 0-9 _",
		    field, wf_quote(q, sizeof(q), s));
	if (kind == NAMES_TASK && !task_name_ok(s))
		return wf_fail_task(
		    p, t, "%s: task name '%s' is not 1-63 of A-Z a-z 0-9 _ . -",
		    field, wf_quote(q, sizeof(q), s));
	if (kind == NAMES_LOCK &&
	    wfp_lock_check_name(s, lerr, sizeof(lerr)) != 0)
		return wf_fail_task(p, t, "%s: %s", field, lerr);
	return 0;
}

/* Reads the list of names field (provides, requires, after, locks) of
 * task t into *out and *n (strings owned by the task). */
static int parse_names(struct parse *p, int t, const char *field, int v,
		       enum name_kind kind, char ***out, int *n)
{
	int max = kind == NAMES_LOCK ? WFP_WF_LOCKS_MAX : WFP_WF_NAMES_MAX;
	int cnt, i, w;

	if (!j_is(p, v, WF_JSON_ARRAY))
		return wf_fail_task(p, t, "%s is not an array", field);
	cnt = j_size(p, v);
	if (cnt > max)
		return wf_fail_task(p, t, "%s has %d names, more than %d",
				    field, cnt, max);
	*out = pool_alloc(p, ((size_t)cnt + 1) * sizeof(**out));
	if (*out == NULL)
		return wf_nomem(p);
	J_EACH(p, v, i, w)
	{
		const char *s = j_str(p, w);

		if (s == NULL)
			return wf_fail_task(p, t, "%s[%d] is not a string",
					    field, i);
		if (check_list_name(p, t, field, kind, s) != 0)
			return -1;
		for (int j = 0; j < *n; j++) {
			if (strcmp((*out)[j], s) == 0)
				return wf_fail_task(p, t, "%s names '%s' twice",
						    field, s);
		}
		(*out)[*n] = pool_strdup(p, s, p->doc.v[w].slen);
		if ((*out)[*n] == NULL)
			return wf_nomem(p);
		(*n)++;
	}
	return 0;
}

/* Reads integer field of task t into *out: absent leaves it, else an
 * integer in min..max. */
static int parse_int(struct parse *p, int t, const char *field, int v,
		     long long min, long long max, int64_t *out)
{
	char raw[32];
	int64_t x;

	if (v < 0)
		return 0;
	if (!j_is(p, v, WF_JSON_NUMBER) || !p->doc.v[v].is_int)
		return wf_fail_task(p, t, "%s is not an integer", field);
	j_raw(p, v, raw, sizeof(raw));
	if (wfp_parse_i64(raw, &x) != 0 || x < min || x > max)
		return wf_fail_task(p, t, "%s %s is not in %lld..%lld", field,
				    raw, min, max);
	*out = x;
	return 0;
}

/* Reads retry {"attempts", "backoff_ms"} of task t. */
static int parse_retry(struct parse *p, int t, int v)
{
	static const char *const keys[] = {"attempts", "backoff_ms", NULL};
	struct wfp_wf_task *task = &p->wf->tasks[t];
	int64_t attempts = 1;

	if (!j_is(p, v, WF_JSON_OBJECT))
		return wf_fail_task(p, t, "retry is not an object");
	if (only_keys(p, v, keys, t, "retry") != 0 ||
	    parse_int(p, t, "retry.attempts", j_get(p, v, "attempts"), 1,
		      WFP_WF_ATTEMPTS_MAX, &attempts) != 0 ||
	    parse_int(p, t, "retry.backoff_ms", j_get(p, v, "backoff_ms"), 0,
		      WFP_WF_BACKOFF_MAX_MS, &task->backoff_ms) != 0)
		return -1;
	task->attempts = (int)attempts;
	return 0;
}

/* Interns the data names of task t into its extra ids. */
static int intern_task_data(struct parse *p, int t)
{
	struct wfp_wf_task *task = &p->wf->tasks[t];
	struct task_extra *ex = &p->ex[t];

	if (task->nprovides + task->nrequires == 0)
		return 0;
	ex->prov = arena_ints(p, task->nprovides + 1);
	ex->req = arena_ints(p, task->nrequires + 1);
	if (ex->prov == NULL || ex->req == NULL)
		return wf_nomem(p);
	for (int i = 0; i < task->nprovides; i++) {
		ex->prov[i] = data_id(p, task->provides[i]);
		if (ex->prov[i] < 0)
			return -1;
	}
	for (int i = 0; i < task->nrequires; i++) {
		ex->req[i] = data_id(p, task->requires[i]);
		if (ex->req[i] < 0)
			return -1;
	}
	return 0;
}

/* Reads the name lists of task t from o. in_graph: its pattern is a
 * graph (the only place after is allowed). */
static int parse_task_lists(struct parse *p, int t, int o, int in_graph)
{
	struct wfp_wf_task *task = &p->wf->tasks[t];
	struct {
		const char *field;
		enum name_kind kind;
		char ***out;
		int *n;
	} lists[] = {
	    {"provides", NAMES_DATA, &task->provides, &task->nprovides},
	    {"requires", NAMES_DATA, &task->requires, &task->nrequires},
	    {"locks", NAMES_LOCK, &task->locks, &task->nlocks},
	    {"after", NAMES_TASK, &p->ex[t].after, &p->ex[t].nafter},
	};

	if (j_get(p, o, "after") >= 0 && !in_graph)
		return wf_fail_task(p, t,
				    "after is allowed only on a task "
				    "that is a member of a graph");
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		int v = j_get(p, o, lists[i].field);

		if (v < 0)
			continue;
		if (parse_names(p, t, lists[i].field, v, lists[i].kind,
				lists[i].out, lists[i].n) != 0)
			return -1;
	}
	return 0;
}

static int read_inputs(struct parse *p, int in, int t,
		       struct wfp_wf_input **out, int *n);

/* Reads the fields of task t (its name set) from o. */
static int parse_task_fields(struct parse *p, int t, int o, int in_graph)
{
	struct wfp_wf_task *task = &p->wf->tasks[t];
	int apply = j_get(p, o, "apply");
	int revert = j_get(p, o, "revert");
	int retry = j_get(p, o, "retry");

	if (apply < 0)
		return wf_fail_task(p, t,
				    revert >= 0 ? "has a revert but no apply"
						: "has no apply");
	if (parse_action(p, t, "apply", apply, &task->apply) != 0)
		return -1;
	if (revert >= 0 &&
	    parse_action(p, t, "revert", revert, &task->revert) != 0)
		return -1;
	if (parse_task_lists(p, t, o, in_graph) != 0)
		return -1;
	if (parse_int(p, t, "timeout_ms", j_get(p, o, "timeout_ms"), 0,
		      WFP_WF_TIMEOUT_MAX_MS, &task->timeout_ms) != 0)
		return -1;
	if (retry >= 0 && parse_retry(p, t, retry) != 0)
		return -1;
	if (read_inputs(p, j_get(p, o, "inputs"), t, &task->inputs,
			&task->ninputs) != 0)
		return -1;
	return intern_task_data(p, t);
}

/* Makes room for one more task; returns its index or -1. */
static int task_slot(struct parse *p)
{
	struct wfp_workflow *wf = p->wf;

	if (wf->ntasks >= WFP_WF_TASKS_MAX)
		return wf_fail(p, "workflow has more than %d tasks",
			       WFP_WF_TASKS_MAX);
	if (wf->ntasks == p->taskcap) {
		int cap = p->taskcap ? p->taskcap * 2 : 16;
		struct wfp_wf_task *t =
		    realloc(wf->tasks, (size_t)cap * sizeof(*t));
		struct task_extra *e;

		if (t == NULL)
			return wf_nomem(p);
		wf->tasks = t;
		e = realloc(p->ex, (size_t)cap * sizeof(*e));
		if (e == NULL)
			return wf_nomem(p);
		p->ex = e, p->taskcap = cap;
	}
	memset(&wf->tasks[wf->ntasks], 0, sizeof(wf->tasks[0]));
	memset(&p->ex[wf->ntasks], 0, sizeof(p->ex[0]));
	wf->tasks[wf->ntasks].attempts = 1;
	return wf->ntasks++;
}

/* Reads the task object o (it has "task"); returns its index or -1. */
static int parse_task(struct parse *p, int o, int in_graph)
{
	static const char *const keys[] = {
	    "task",	  "apply", "revert", "provides", "requires", "after",
	    "timeout_ms", "retry", "locks",  "inputs",	 NULL};
	const char *name = j_str(p, j_get(p, o, "task"));
	char q[WFP_QUOTE_BUF];
	int t;

	if (name == NULL)
		return wf_fail_at(p, "task name is not a string");
	if (!task_name_ok(name))
		return wf_fail_at(
		    p, "task name '%s' is not 1-63 of A-Z a-z 0-9 _ . -",
		    wf_quote(q, sizeof(q), name));
	t = task_slot(p);
	if (t < 0)
		return -1;
	p->wf->tasks[t].name = pool_strdup(p, name, strlen(name));
	if (p->wf->tasks[t].name == NULL)
		return wf_nomem(p);
	switch (strtab_put(&p->box->by_name, p->wf->tasks[t].name, t)) {
	case 1: return wf_fail_at(p, "task '%s' is named twice", name);
	case -1: return wf_nomem(p);
	default: break;
	}
	if (only_keys(p, o, keys, t, NULL) != 0)
		return -1;
	if (parse_task_fields(p, t, o, in_graph) != 0)
		return -1;
	return t;
}

/* ------------------------------------------------------------------ */
/* Phase 1: patterns                                                   */
/* ------------------------------------------------------------------ */

static int parse_element(struct parse *p, int v, int depth, int in_graph);

/* Appends a node of kind; returns its index or -1. */
static int node_new(struct parse *p, enum node_kind kind, int task)
{
	if (p->nnodes == p->nodecap) {
		int cap = p->nodecap ? p->nodecap * 2 : 16;
		struct node *n = realloc(p->nodes, (size_t)cap * sizeof(*n));

		if (n == NULL)
			return wf_nomem(p);
		p->nodes = n, p->nodecap = cap;
	}
	p->nodes[p->nnodes] = (struct node){kind, task, -1, -1, -1};
	return p->nnodes++;
}

/* Kind of pattern key k, or -1. */
static int pattern_kind(const char *k)
{
	if (strcmp(k, "linear") == 0)
		return NODE_LINEAR;
	if (strcmp(k, "unordered") == 0)
		return NODE_UNORDERED;
	if (strcmp(k, "graph") == 0)
		return NODE_GRAPH;
	return -1;
}

/* Refuses an object at the place p->at says that is no task and no pattern. */
static int not_a_pattern(struct parse *p, int o)
{
	static const char *const task_keys[] = {"apply", "revert", "provides",
						"requires", NULL};
	char q[WFP_QUOTE_BUF];

	for (int i = 0; task_keys[i]; i++) {
		if (j_get(p, o, task_keys[i]) >= 0)
			return wf_fail_at(p, "a task without a \"task\" name");
	}
	if (j_size(p, o) == 0)
		return wf_fail_at(p, "an empty object is neither a task nor a "
				     "pattern");
	if (j_size(p, o) > 1)
		return wf_fail_at(p,
				  "a pattern has one key (linear, unordered "
				  "or graph), this one has %d",
				  j_size(p, o));
	return wf_fail_at(p,
			  "unknown pattern '%s' (linear, unordered or graph)",
			  wf_quote(q, sizeof(q), p->doc.v[o + 1].s));
}

/* Reads the elements of pattern node n (key, array a) as its children. */
static int parse_children(struct parse *p, int n, const char *key, int a,
			  int depth)
{
	int in_graph = p->nodes[n].kind == NODE_GRAPH;
	int i, v;

	if (!j_is(p, a, WF_JSON_ARRAY))
		return wf_fail_at(p, "%s is not an array", key);
	J_EACH(p, a, i, v)
	{
		int c;

		p->at[p->depth].key = key, p->at[p->depth].index = i;
		p->depth++;
		c = parse_element(p, v, depth, in_graph);
		p->depth--;
		if (c < 0)
			return -1;
		if (p->nodes[n].last < 0)
			p->nodes[n].first = c;
		else
			p->nodes[p->nodes[n].last].next = c;
		p->nodes[n].last = c;
	}
	return 0;
}

/* Reads the pattern object o (one key); returns its node or -1. depth:
 * patterns around it. */
static int parse_pattern(struct parse *p, int o, int depth)
{
	const char *key = j_size(p, o) == 1 ? p->doc.v[o + 1].s : NULL;
	int kind = key ? pattern_kind(key) : -1;
	int n;

	if (kind < 0)
		return not_a_pattern(p, o);
	if (depth >= WFP_WF_DEPTH_MAX)
		return wf_fail_at(p, "patterns nest deeper than %d levels",
				  WFP_WF_DEPTH_MAX);
	n = node_new(p, (enum node_kind)kind, -1);
	if (n < 0 || parse_children(p, n, key, o + 2, depth + 1) != 0)
		return -1;
	return n;
}

/* Reads a task or pattern v at the place p->at says; returns its node or -1.
 * in_graph: v is a member of a graph. */
static int parse_element(struct parse *p, int v, int depth, int in_graph)
{
	int t;

	if (!j_is(p, v, WF_JSON_OBJECT))
		return wf_fail_at(p, "is not an object (a task or a pattern)");
	if (j_get(p, v, "task") < 0)
		return parse_pattern(p, v, depth);
	t = parse_task(p, v, in_graph);
	return t < 0 ? -1 : node_new(p, NODE_TASK, t);
}

/* Writes the message about an inputs object: "task 'T': ..." for task
 * t's own inputs, plain for payload.inputs (t -1); returns -1. */
static int inputs_fail(struct parse *p, int t, const char *fmt, ...)
{
	char msg[WF_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return t < 0 ? wf_fail(p, "%s", msg) : wf_fail_task(p, t, "%s", msg);
}

/* Reads the inputs object in (absent: none) into *out and *n: payload's
 * (t -1) or task t's own. */
static int read_inputs(struct parse *p, int in, int t,
		       struct wfp_wf_input **out, int *n)
{
	char q[WFP_QUOTE_BUF];
	int m, kv;

	if (in < 0)
		return 0;
	if (!j_is(p, in, WF_JSON_OBJECT))
		return inputs_fail(p, t, "inputs is not an object");
	if (j_size(p, in) > WFP_WF_INPUTS_MAX)
		return inputs_fail(p, t, "inputs has %d keys, more than %d",
				   j_size(p, in), WFP_WF_INPUTS_MAX);
	*out = pool_alloc(p, ((size_t)j_size(p, in) + 1) * sizeof(**out));
	if (*out == NULL)
		return wf_nomem(p);
	J_EACH_KEY(p, in, m, kv)
	{
		struct wfp_wf_input *i = &(*out)[*n];
		const char *k = p->doc.v[kv].s, *sv = j_str(p, kv + 1);

		if (!data_name_ok(k))
			return inputs_fail(p, t,
					   "inputs: data name '%s' is not 1-63 "
					   "of A-Z a-z 0-9 _",
					   wf_quote(q, sizeof(q), k));
		i->name = pool_strdup(p, k, p->doc.v[kv].slen);
		i->value = sv ? pool_strdup(p, sv, p->doc.v[kv + 1].slen)
			      : pool_alloc(p, p->doc.v[kv + 1].len + 1);
		if (!sv && i->value)
			wf_json_compact(&p->doc, kv + 1, i->value);
		(*n)++;
		if (i->name == NULL || i->value == NULL)
			return wf_nomem(p);
		if (strlen(i->value) > WFP_WF_INPUT_MAX)
			return inputs_fail(p, t,
					   "input '%s' is longer than %d bytes",
					   k, WFP_WF_INPUT_MAX);
	}
	return 0;
}

/* Reads payload.inputs (absent: none). */
static int parse_inputs(struct parse *p, int in)
{
	return read_inputs(p, in, -1, &p->wf->inputs, &p->wf->ninputs);
}

/* ------------------------------------------------------------------ */
/* Phase 2: flattening into edges                                      */
/* ------------------------------------------------------------------ */

/* What a flattened element hands its parent: its tasks [s, e), those
 * with no dependency inside it (in) and those nothing inside it waits
 * for (out). */
struct span {
	int s, e;
	struct ivec in, out;
};

/* Builds the ascending provider list of every data id. */
static int build_providers(struct parse *p)
{
	int n = p->wf->ntasks, total = 0;

	p->pstart = calloc((size_t)p->ndata + 1, sizeof(int));
	if (p->pstart == NULL)
		return wf_nomem(p);
	for (int t = 0; t < n; t++)
		for (int i = 0; i < p->wf->tasks[t].nprovides; i++)
			p->pstart[p->ex[t].prov[i] + 1]++, total++;
	for (int d = 0; d < p->ndata; d++)
		p->pstart[d + 1] += p->pstart[d];
	p->plist = calloc((size_t)total + 1, sizeof(int));
	if (p->plist == NULL)
		return wf_nomem(p);
	int *fill = calloc((size_t)p->ndata + 1, sizeof(int));
	if (fill == NULL)
		return wf_nomem(p);
	for (int t = 0; t < n; t++) {
		for (int i = 0; i < p->wf->tasks[t].nprovides; i++) {
			int d = p->ex[t].prov[i];

			p->plist[p->pstart[d] + fill[d]++] = t;
		}
	}
	free(fill);
	return 0;
}

/* Position in plist of the first provider of d with index >= x. */
static int prov_lower(const struct parse *p, int d, int x)
{
	int lo = p->pstart[d], hi = p->pstart[d + 1];

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (p->plist[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1 when some task in [s, e) provides d. */
static int provided_in(const struct parse *p, int d, int s, int e)
{
	int i = prov_lower(p, d, s);

	return i < p->pstart[d + 1] && p->plist[i] < e;
}

/* Records the edge from -> to (to waits for from). */
static int add_edge(struct parse *p, int from, int to)
{
	if (p->efrom.n >= WFP_WF_EDGES_MAX)
		return wf_fail(p,
			       "workflow has more than %d dependency edges "
			       "once flattened",
			       WFP_WF_EDGES_MAX);
	if (ivec_push(&p->efrom, from) != 0 || ivec_push(&p->eto, to) != 0)
		return wf_nomem(p);
	return 0;
}

/* Appends all of list b to list a. */
static int list_cat(struct parse *p, struct ivec *a, const struct ivec *b)
{
	for (int i = 0; i < b->n; i++)
		if (list_push(p, a, b->v[i]) != 0)
			return -1;
	return 0;
}

static int flatten(struct parse *p, int n, struct span *sp);

/* Widens sp's task range to hold c's (c not empty). */
static void span_cover(struct span *sp, const struct span *c)
{
	if (sp->s == sp->e)
		sp->s = c->s;
	sp->e = c->e;
}

/* Makes every entry of b wait for every exit of a. */
static int link_spans(struct parse *p, const struct span *a,
		      const struct span *b)
{
	for (int i = 0; i < a->out.n; i++) {
		for (int j = 0; j < b->in.n; j++) {
			if (add_edge(p, a->out.v[i], b->in.v[j]) != 0)
				return -1;
		}
	}
	return 0;
}

/* linear: every entry of an element waits for every exit of the element
 * before it (empty elements are skipped: they pass the exits on). */
static int flatten_linear(struct parse *p, int n, struct span *sp)
{
	struct span prev = {0};

	for (int c = p->nodes[n].first; c >= 0; c = p->nodes[c].next) {
		struct span cs = {0};

		if (flatten(p, c, &cs) != 0)
			return -1;
		if (cs.s == cs.e)
			continue;
		if (sp->s == sp->e) /* the first element with tasks */
			sp->in = cs.in;
		else if (link_spans(p, &prev, &cs) != 0)
			return -1;
		span_cover(sp, &cs);
		prev = cs;
	}
	sp->out = prev.out;
	return 0;
}

/* unordered: no edges between elements. */
static int flatten_unordered(struct parse *p, int n, struct span *sp)
{
	for (int c = p->nodes[n].first; c >= 0; c = p->nodes[c].next) {
		struct span cs = {0};

		if (flatten(p, c, &cs) != 0)
			return -1;
		if (cs.s == cs.e)
			continue;
		span_cover(sp, &cs);
		if (list_cat(p, &sp->in, &cs.in) != 0 ||
		    list_cat(p, &sp->out, &cs.out) != 0)
			return -1;
	}
	return 0;
}

/* Adds task t to the sources of this round (once). */
static int mark_source(struct parse *p, struct ivec *src, int t)
{
	if (p->stamp[t] == p->stampv)
		return 0;
	p->stamp[t] = p->stampv;
	return list_push(p, src, t);
}

/* Adds the tasks named in the after of task t (a member of the graph
 * holding tasks [gs, ge)) to src. */
static int after_sources(struct parse *p, int t, int gs, int ge,
			 struct ivec *src)
{
	for (int i = 0; i < p->ex[t].nafter; i++) {
		const char *name = p->ex[t].after[i];
		int a = strtab_get(&p->box->by_name, name);

		if (a < 0)
			return wf_fail_task(
			    p, t, "after names '%s', which is not a task",
			    name);
		if (a == t)
			return wf_fail_task(p, t,
					    "after names the task itself");
		if (a < gs || a >= ge)
			return wf_fail_task(p, t,
					    "after names '%s', which is not in "
					    "the same graph",
					    name);
		if (mark_source(p, src, a) != 0)
			return -1;
	}
	return 0;
}

/* Adds the tasks in [from, to) that provide d to src. */
static int providers_in(struct parse *p, int d, int from, int to,
			struct ivec *src)
{
	for (int j = prov_lower(p, d, from);
	     j < p->pstart[d + 1] && p->plist[j] < to; j++) {
		if (mark_source(p, src, p->plist[j]) != 0)
			return -1;
	}
	return 0;
}

/* Adds to src every task of the graph [gs, ge) outside member m that
 * provides a requires of m's tasks not provided inside m. */
static int require_sources(struct parse *p, const struct span *m, int gs,
			   int ge, struct ivec *src)
{
	for (int t = m->s; t < m->e; t++) {
		for (int i = 0; i < p->wf->tasks[t].nrequires; i++) {
			int d = p->ex[t].req[i];

			if (provided_in(p, d, m->s, m->e))
				continue;
			if (providers_in(p, d, gs, m->s, src) != 0 ||
			    providers_in(p, d, m->e, ge, src) != 0)
				return -1;
		}
	}
	return 0;
}

/* Makes member m (node c) of graph node g (tasks [gs, ge)) wait for what
 * it requires and its after names. Returns 1 when it waits for some
 * task, 0 when not, -1 on error. */
static int graph_member(struct parse *p, int g, int c, const struct span *m,
			int gs, int ge)
{
	struct ivec src = {0};
	int rc = 0;

	p->stampv++;
	if (p->nodes[c].kind == NODE_TASK)
		rc = after_sources(p, p->nodes[c].task, gs, ge, &src);
	if (rc == 0)
		rc = require_sources(p, m, gs, ge, &src);
	for (int i = 0; rc == 0 && i < src.n; i++) {
		p->outg[src.v[i]] = g;
		for (int j = 0; rc == 0 && j < m->in.n; j++)
			rc = add_edge(p, src.v[i], m->in.v[j]);
	}
	return rc == 0 ? src.n > 0 : -1;
}

/* Builds the entries and exits of graph g from its members' spans:
 * members that wait for nothing start it, tasks no member waits for end
 * it. */
static int graph_ends(struct parse *p, int g, struct span *m, const int *waits,
		      int k, struct span *sp)
{
	for (int i = 0; i < k; i++) {
		if (m[i].s == m[i].e)
			continue;
		if (!waits[i] && list_cat(p, &sp->in, &m[i].in) != 0)
			return -1;
		for (int j = 0; j < m[i].out.n; j++) {
			int x = m[i].out.v[j];

			if (p->outg[x] != g && list_push(p, &sp->out, x) != 0)
				return -1;
		}
	}
	return 0;
}

/* graph: a member starts once every task of the graph that provides one
 * of its requires (those not provided inside it) and every task in its
 * after have applied. */
static int flatten_graph(struct parse *p, int g, struct span *sp)
{
	int k = 0, i = 0, rc = 0, c;
	struct span *m;
	int *waits;

	for (c = p->nodes[g].first; c >= 0; c = p->nodes[c].next)
		k++;
	m = calloc((size_t)k + 1, sizeof(*m));
	waits = calloc((size_t)k + 1, sizeof(*waits));
	if (m == NULL || waits == NULL)
		rc = wf_nomem(p);
	for (c = p->nodes[g].first; rc == 0 && c >= 0; c = p->nodes[c].next) {
		rc = flatten(p, c, &m[i]);
		if (rc == 0 && m[i].s != m[i].e)
			span_cover(sp, &m[i]);
		i++;
	}
	i = 0;
	for (c = p->nodes[g].first; rc == 0 && c >= 0; c = p->nodes[c].next) {
		if (m[i].s != m[i].e) {
			waits[i] = graph_member(p, g, c, &m[i], sp->s, sp->e);
			rc = waits[i] < 0 ? -1 : 0;
		}
		i++;
	}
	if (rc == 0)
		rc = graph_ends(p, g, m, waits, k, sp);
	free(m), free(waits);
	return rc;
}

/* Flattens node n into sp (sp zeroed by the caller). */
static int flatten(struct parse *p, int n, struct span *sp)
{
	const struct node *nd = &p->nodes[n];

	switch (nd->kind) {
	case NODE_TASK:
		sp->s = nd->task, sp->e = nd->task + 1;
		if (list_push(p, &sp->in, nd->task) != 0 ||
		    list_push(p, &sp->out, nd->task) != 0)
			return -1;
		return 0;
	case NODE_LINEAR: return flatten_linear(p, n, sp);
	case NODE_UNORDERED: return flatten_unordered(p, n, sp);
	case NODE_GRAPH: return flatten_graph(p, n, sp);
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Phase 2: deps, cycles, requires                                     */
/* ------------------------------------------------------------------ */

/* Orders ints ascending (qsort). */
static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Fills every task's deps and next from the edges, each ascending. */
static int build_adjacency(struct parse *p)
{
	struct wfp_workflow *wf = p->wf;

	for (int i = 0; i < p->efrom.n; i++) {
		wf->tasks[p->eto.v[i]].ndeps++;
		wf->tasks[p->efrom.v[i]].nnext++;
	}
	for (int t = 0; t < wf->ntasks; t++) {
		struct wfp_wf_task *k = &wf->tasks[t];

		if (k->ndeps)
			k->deps = pool_alloc(p, (size_t)k->ndeps * sizeof(int));
		if (k->nnext)
			k->next = pool_alloc(p, (size_t)k->nnext * sizeof(int));
		if ((k->ndeps && !k->deps) || (k->nnext && !k->next))
			return wf_nomem(p);
		k->ndeps = k->nnext = 0;
	}
	for (int i = 0; i < p->efrom.n; i++) {
		struct wfp_wf_task *to = &wf->tasks[p->eto.v[i]];
		struct wfp_wf_task *from = &wf->tasks[p->efrom.v[i]];

		to->deps[to->ndeps++] = p->efrom.v[i];
		from->next[from->nnext++] = p->eto.v[i];
	}
	for (int t = 0; t < wf->ntasks; t++) {
		struct wfp_wf_task *k = &wf->tasks[t];

		if (k->ndeps > 1)
			qsort(k->deps, (size_t)k->ndeps, sizeof(int), int_cmp);
		if (k->nnext > 1)
			qsort(k->next, (size_t)k->nnext, sizeof(int), int_cmp);
	}
	return 0;
}

/* The task before t in a cycle among the tasks left (indeg > 0). */
static int cycle_step(const struct wfp_workflow *wf, const int *indeg, int t)
{
	for (int i = 0; i < wf->tasks[t].ndeps; i++)
		if (indeg[wf->tasks[t].deps[i]] > 0)
			return wf->tasks[t].deps[i];
	return t;
}

/* Writes the message naming the tasks of a cycle among the tasks left
 * (indeg > 0) by Kahn's algorithm; a long cycle is written as its first
 * tasks, " ..." and the wait that closes it. Returns -1. */
static int cycle_message(struct parse *p, const int *indeg)
{
	const struct wfp_workflow *wf = p->wf;
	char msg[WF_MSG_MAX];
	int t = 0, start, cut = 0;
	size_t n;

	while (indeg[t] == 0)
		t++;
	/* Walk deps among the tasks left until one repeats. */
	p->stampv++;
	while (p->stamp[t] != p->stampv) {
		p->stamp[t] = p->stampv;
		t = cycle_step(wf, indeg, t);
	}
	start = t;
	n = (size_t)snprintf(msg, sizeof(msg),
			     "tasks wait for each other in a cycle: '%s'",
			     wf->tasks[t].name);
	do {
		t = cycle_step(wf, indeg, t);
		/* room for " ..." and a last " waits for 'NAME'" */
		if (n + 2 * (WFP_TASK_NAME_MAX + 16) < sizeof(msg))
			n += (size_t)snprintf(msg + n, sizeof(msg) - n,
					      " waits for '%s'",
					      wf->tasks[t].name);
		else
			cut = 1;
	} while (t != start);
	if (cut)
		snprintf(msg + n, sizeof(msg) - n, " ... waits for '%s'",
			 wf->tasks[start].name);
	wf_compose(p, NULL, msg);
	return -1;
}

/* Kahn's algorithm: fills order (ntasks) with a topological order, or
 * refuses a cycle naming its tasks. */
static int topo_order(struct parse *p, int *order)
{
	const struct wfp_workflow *wf = p->wf;
	int *indeg = calloc((size_t)wf->ntasks + 1, sizeof(int));
	int head = 0, tail = 0;

	if (indeg == NULL)
		return wf_nomem(p);
	for (int t = 0; t < wf->ntasks; t++) {
		indeg[t] = wf->tasks[t].ndeps;
		if (indeg[t] == 0)
			order[tail++] = t;
	}
	while (head < tail) {
		const struct wfp_wf_task *k = &wf->tasks[order[head++]];

		for (int i = 0; i < k->nnext; i++)
			if (--indeg[k->next[i]] == 0)
				order[tail++] = k->next[i];
	}
	if (tail < wf->ntasks) {
		cycle_message(p, indeg);
		free(indeg);
		return -1;
	}
	free(indeg);
	return 0;
}

/* A requires of a task that needs the full ancestor check. */
struct need {
	int d, t, i; /* data id, task, position in its requires */
};

/* Orders needs by data id, then task, then position (qsort). */
static int need_cmp(const void *a, const void *b)
{
	const struct need *x = a, *y = b;

	if (x->d != y->d)
		return (x->d > y->d) - (x->d < y->d);
	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	return (x->i > y->i) - (x->i < y->i);
}

/* 1 when a task t waits for directly provides d. */
static int dep_provides(const struct parse *p, int t, int d)
{
	const struct wfp_wf_task *k = &p->wf->tasks[t];
	int np = p->pstart[d + 1] - p->pstart[d];

	if (k->ndeps <= np) {
		for (int i = 0; i < k->ndeps; i++)
			if (provided_in(p, d, k->deps[i], k->deps[i] + 1))
				return 1;
		return 0;
	}
	for (int j = p->pstart[d]; j < p->pstart[d + 1]; j++)
		if (bsearch(&p->plist[j], k->deps, (size_t)k->ndeps,
			    sizeof(int), int_cmp))
			return 1;
	return 0;
}

/* Refuses need x: no task before its task provides its data. */
static int need_fail(struct parse *p, const struct need *x)
{
	const char *data = p->wf->tasks[x->t].requires[x->i];

	for (int j = p->pstart[x->d]; j < p->pstart[x->d + 1]; j++) {
		if (p->plist[j] != x->t)
			return wf_fail_task(
			    p, x->t,
			    "requires '%s', but no task that runs before it "
			    "provides it ('%s' does not run before it)",
			    data, p->wf->tasks[p->plist[j]].name);
	}
	return wf_fail_task(p, x->t,
			    "requires '%s', which only the task itself "
			    "provides and payload.inputs does not hold",
			    data);
}

/* Checks the needs [a, b) (at most 64 data ids) against the ancestors:
 * one word per task, bit k for the k-th data id of the chunk. Keeps in
 * *worst the failing need first in document order. */
static void needs_chunk(struct parse *p, const int *order, uint64_t *prov,
			uint64_t *reach, const struct need *x, int a, int b,
			const struct need **worst)
{
	int n = p->wf->ntasks, bit = -1;

	memset(prov, 0, (size_t)n * sizeof(*prov));
	for (int i = a; i < b; i++) {
		if (i == a || x[i].d != x[i - 1].d) {
			bit++;
			for (int j = p->pstart[x[i].d];
			     j < p->pstart[x[i].d + 1]; j++)
				prov[p->plist[j]] |= 1ull << bit;
		}
	}
	for (int o = 0; o < n; o++) {
		const struct wfp_wf_task *k = &p->wf->tasks[order[o]];
		uint64_t r = 0;

		for (int i = 0; i < k->ndeps; i++)
			r |= reach[k->deps[i]] | prov[k->deps[i]];
		reach[order[o]] = r;
	}
	bit = -1;
	for (int i = a; i < b; i++) {
		if (i == a || x[i].d != x[i - 1].d)
			bit++;
		if (!(reach[x[i].t] >> bit & 1) &&
		    (*worst == NULL || x[i].t < (*worst)->t ||
		     (x[i].t == (*worst)->t && x[i].i < (*worst)->i)))
			*worst = &x[i];
	}
}

/* Checks the needs x (nx, sorted) against the ancestors of their tasks,
 * 64 data ids at a time. */
static int check_needs(struct parse *p, const int *order, struct need *x,
		       int nx)
{
	int n = p->wf->ntasks, a = 0;
	uint64_t *prov = calloc((size_t)n + 1, sizeof(*prov));
	uint64_t *reach = calloc((size_t)n + 1, sizeof(*reach));
	const struct need *worst = NULL;
	int rc = 0;

	if (prov == NULL || reach == NULL)
		rc = wf_nomem(p);
	while (rc == 0 && a < nx) {
		int b = a, ids = 0;

		while (b < nx && (ids < 64 || x[b].d == x[b - 1].d)) {
			if (b == a || x[b].d != x[b - 1].d)
				ids++;
			b++;
		}
		needs_chunk(p, order, prov, reach, x, a, b, &worst);
		a = b;
	}
	if (rc == 0 && worst)
		rc = need_fail(p, worst);
	free(prov), free(reach);
	return rc;
}

/* 1 when task t's own inputs hold its i-th requires. */
static int own_input(const struct parse *p, int t, int i)
{
	const struct wfp_wf_task *k = &p->wf->tasks[t];

	for (int j = 0; j < k->ninputs; j++)
		if (strcmp(k->inputs[j].name, k->requires[i]) == 0)
			return 1;
	return 0;
}

/* Checks every requires: payload.inputs or the task's own inputs hold
 * it, or a task the task waits for (directly or not) provides it. */
static int check_requires(struct parse *p, const int *order)
{
	struct need *x = NULL;
	int nx = 0, cap = 0, rc = 0;

	for (int t = 0; t < p->wf->ntasks && rc == 0; t++) {
		for (int i = 0; i < p->wf->tasks[t].nrequires && rc == 0; i++) {
			int d = p->ex[t].req[i];

			if (p->in_inputs[d] || own_input(p, t, i) ||
			    dep_provides(p, t, d))
				continue;
			if (p->pstart[d] == p->pstart[d + 1]) {
				rc = wf_fail_task(
				    p, t,
				    "requires '%s', which no task provides "
				    "and payload.inputs does not hold",
				    p->wf->tasks[t].requires[i]);
				break;
			}
			if (nx == cap) {
				struct need *y;

				cap = cap ? cap * 2 : 64;
				y = realloc(x, (size_t)cap * sizeof(*y));
				if (y == NULL) {
					rc = wf_nomem(p);
					break;
				}
				x = y;
			}
			x[nx++] = (struct need){d, t, i};
		}
	}
	if (rc == 0 && nx > 0) {
		qsort(x, (size_t)nx, sizeof(*x), need_cmp);
		rc = check_needs(p, order, x, nx);
	}
	free(x);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/* Marks the data ids payload.inputs holds. */
static int mark_inputs(struct parse *p)
{
	p->in_inputs = calloc((size_t)p->ndata + 1, 1);
	if (p->in_inputs == NULL)
		return wf_nomem(p);
	for (int i = 0; i < p->wf->ninputs; i++) {
		int d = strtab_get(&p->data, p->wf->inputs[i].name);

		if (d >= 0)
			p->in_inputs[d] = 1;
	}
	return 0;
}

/* Phase 2 on the tree whose root is node root. */
static int wf_flatten(struct parse *p, int root)
{
	int n = p->wf->ntasks;
	struct span sp = {0};
	int *order;
	int rc;

	p->stamp = calloc((size_t)n + 1, sizeof(int));
	p->outg = malloc(((size_t)n + 1) * sizeof(int));
	order = calloc((size_t)n + 1, sizeof(int));
	if (p->stamp == NULL || p->outg == NULL || order == NULL) {
		free(order);
		return wf_nomem(p);
	}
	for (int t = 0; t < n; t++)
		p->outg[t] = -1;
	rc = mark_inputs(p);
	if (rc == 0)
		rc = build_providers(p);
	if (rc == 0)
		rc = flatten(p, root, &sp);
	if (rc == 0)
		rc = build_adjacency(p);
	if (rc == 0)
		rc = topo_order(p, order);
	if (rc == 0)
		rc = check_requires(p, order);
	free(order);
	return rc;
}

/* Frees what the parse holds besides the workflow. */
static void parse_release(struct parse *p)
{
	free(p->ex), free(p->nodes);
	strtab_free(&p->data);
	free(p->in_inputs), free(p->pstart), free(p->plist);
	ivec_free(&p->efrom), ivec_free(&p->eto);
	arena_free(p);
	free(p->stamp), free(p->outg);
	wf_json_free(&p->doc);
}

/* Makes the task and node arrays for the workflow w at their size: one
 * task per object with "task" in it, one node per object (an upper
 * bound), so they are made once. */
static int wf_reserve(struct parse *p, int w)
{
	int tasks = 0, nodes = 0;

	for (int i = w; i < p->doc.v[w].end; i++) {
		if (p->doc.v[i].type != WF_JSON_OBJECT)
			continue;
		nodes++;
		if (tasks <= WFP_WF_TASKS_MAX && j_get(p, i, "task") >= 0)
			tasks++;
	}
	p->taskcap = tasks + 1;
	p->nodecap = nodes + 1;
	p->wf->tasks = calloc((size_t)p->taskcap, sizeof(*p->wf->tasks));
	p->ex = calloc((size_t)p->taskcap, sizeof(*p->ex));
	p->nodes = calloc((size_t)p->nodecap, sizeof(*p->nodes));
	if (p->wf->tasks == NULL || p->ex == NULL || p->nodes == NULL)
		return wf_nomem(p);
	if (ivec_reserve(&p->efrom, tasks) || ivec_reserve(&p->eto, tasks))
		return wf_nomem(p);
	return 0;
}

/* Parses the workflow of the payload (the document's root object) into
 * p->wf. */
static int wf_read(struct parse *p)
{
	int w = j_get(p, 0, "workflow");
	int root;

	if (parse_inputs(p, j_get(p, 0, "inputs")) != 0)
		return -1;
	if (!j_is(p, w, WF_JSON_OBJECT))
		return wf_fail_at(p, "is not an object (a task or a pattern)");
	if (wf_reserve(p, w) != 0)
		return -1;
	root = parse_element(p, w, 0, 0);
	if (root < 0)
		return -1;
	return wf_flatten(p, root);
}

int wfp_workflow_parse(const char *payload, size_t len,
		       struct wfp_workflow **out, char *err, size_t errlen)
{
	struct parse p = {0};
	char jerr[128];
	int rc;

	*out = NULL;
	if (wf_json_read(payload, len, &p.doc, jerr, sizeof(jerr)) != 0) {
		snprintf(err, errlen, "payload is not a JSON object: %s", jerr);
		return -1;
	}
	if (!j_is(&p, 0, WF_JSON_OBJECT)) {
		snprintf(err, errlen, "payload is not a JSON object");
		wf_json_free(&p.doc);
		return -1;
	}
	if (j_get(&p, 0, "workflow") < 0) {
		wf_json_free(&p.doc);
		return 0;
	}
	p.err = err, p.errlen = errlen;
	p.box = calloc(1, sizeof(*p.box));
	p.wf = p.box ? &p.box->wf : NULL;
	rc = p.wf ? wf_read(&p) : wf_nomem(&p);
	parse_release(&p);
	if (rc != 0) {
		wfp_workflow_free(p.wf);
		return -1;
	}
	*out = p.wf;
	return 1;
}

char *wfp_json_member_compact(const char *doc, size_t len, const char *key,
			      char *err, size_t errlen)
{
	struct wf_json d = {0};
	char *out = NULL;
	int i;

	if (wf_json_read(doc, len, &d, err, errlen) != 0)
		return NULL;
	i = wf_json_get(&d, 0, key);
	if (i >= 0)
		out = malloc(d.v[i].len + 1);
	if (i < 0)
		snprintf(err, errlen, "no member '%s'", key);
	else if (out == NULL)
		snprintf(err, errlen, "out of memory");
	else
		wf_json_compact(&d, i, out);
	wf_json_free(&d);
	return out;
}

int wfp_workflow_check(const char *payload, size_t len, char *err,
		       size_t errlen)
{
	struct wfp_workflow *wf;
	int rc = wfp_workflow_parse(payload, len, &wf, err, errlen);

	wfp_workflow_free(wf);
	return rc < 0 ? -1 : 0;
}

int wfp_workflow_find(const struct wfp_workflow *wf, const char *name)
{
	const struct wf_box *box = (const struct wf_box *)wf;

	return box ? strtab_get(&box->by_name, name) : -1;
}

void wfp_workflow_free(struct wfp_workflow *wf)
{
	struct wf_box *box = (struct wf_box *)wf;

	if (box == NULL)
		return;
	while (box->pool) {
		struct chunk *c = box->pool;

		box->pool = c->next;
		free(c);
	}
	strtab_free(&box->by_name);
	free(wf->tasks);
	free(box);
}
