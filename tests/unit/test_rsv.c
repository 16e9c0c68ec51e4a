/* Unit tests of reservations without Redis (wfp/rsv.h): the reservation
 * and class file parsers and every refusal, class loading from a folder,
 * the plan round trip, the generated fulfilment and teardown workflows
 * (read back with the workflow parser) and the item phases fed from job
 * log entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wfp/client.h"
#include "wfp/rsv.h"
#include "wfp/workflow.h"

static char err[1024];

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A growable text buffer for generated documents. */
struct buf {
	char *s;
	size_t n, cap;
};

/* Appends printf-style text to b. */
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->n + (size_t)n + 1 > b->cap) {
		b->cap = (b->n + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

/* The document s with every ' turned into " (JSON without escapes). */
static char *jq(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	for (char *c = d; *c; c++)
		if (*c == '\'')
			*c = '"';
	return d;
}

/* Parses reservation file s (quotes as in jq); fails when refused. */
static struct wfp_rsv *rsv_ok(const char *s)
{
	struct wfp_rsv *r = NULL;
	char *doc = jq(s);

	if (wfp_rsv_parse(doc, strlen(doc), &r, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	free(doc);
	assert_non_null(r);
	return r;
}

/* Asserts that reservation file s is refused with a message holding
 * want (one line). */
static void rsv_refuse(const char *s, const char *want)
{
	struct wfp_rsv *r = (struct wfp_rsv *)1;
	char *doc = jq(s);

	if (wfp_rsv_parse(doc, strlen(doc), &r, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", s);
	assert_null(r);
	if (strstr(err, want) == NULL)
		fail_msg("message '%s' lacks '%s'", err, want);
	assert_null(strchr(err, '\n'));
	free(doc);
}

/* Asserts that class text s (quotes as in jq) of class name is refused
 * with a message holding want. */
static void class_refuse(const char *name, const char *s, const char *want)
{
	struct wfp_rsv_item it = {0};
	char *doc = jq(s);

	if (wfp_rsv_class_parse(name, doc, strlen(doc), &it, err,
				sizeof(err)) != -1)
		fail_msg("accepted: %s", s);
	for (int i = 0; i < WFP_RSV_STEPS; i++)
		assert_null(it.act[i]);
	if (strstr(err, want) == NULL)
		fail_msg("message '%s' lacks '%s'", err, want);
	assert_null(strchr(err, '\n'));
	free(doc);
}

/* A class with the three undo steps (exec actions). */
#define CLASS_VM                                                               \
	"{'description': 'a vm', 'timeout_ms': 5000,"                          \
	" 'retry': {'attempts': 3, 'backoff_ms': 100},"                        \
	" 'reserve': ['/bin/vm', 'reserve'],"                                  \
	" 'configure': ['/bin/vm', 'configure'],"                              \
	" 'acquire': ['/bin/vm', 'on'], 'poweroff': ['/bin/vm', 'off'],"       \
	" 'unconfigure': ['/bin/vm', 'unconfigure'],"                          \
	" 'unreserve': ['/bin/vm', 'unreserve']}"

/* A class that undoes with destroy (plugin actions). */
#define CLASS_IP                                                               \
	"{'reserve': {'plugin': 'ipam', 'args': {'op': 'take'}},"              \
	" 'configure': {'plugin': 'ipam', 'args': {'op': 'set'}},"             \
	" 'acquire': {'plugin': 'ipam'},"                                      \
	" 'destroy': {'plugin': 'ipam', 'args': {'op': 'free'}}}"

/* A reservation with a nested sub-reservation. */
#define RSV_WEB                                                                \
	"{'name': 'web-1', 'ttl_ms': 60000, 'max_attempts': 2,"                \
	" 'items': [{'name': 'vm', 'pool': 'vms', 'amount': 2, 'class': 'vm'," \
	"            'args': {'size': 'big', 'cpus': 4}},"                     \
	"           {'name': 'ip', 'pool': 'ips', 'amount': 1, 'class': "      \
	"'ip'}],"                                                              \
	" 'reservations': [{'name': 'db', 'items': ["                          \
	"     {'name': 'dbvm', 'pool': 'vms', 'amount': 3, 'class': 'vm'}],"   \
	"   'reservations': [{'name': 'db.ip', 'items': ["                     \
	"     {'name': 'dbip', 'pool': 'ips', 'amount': 1, 'class': "          \
	"'ip'}]}]}]}"

static char classdir[] = "/tmp/test_rsv.XXXXXX";

/* Writes file NAME in the class folder with text s (quotes as jq). */
static void class_write(const char *name, const char *s)
{
	char path[256], *doc = jq(s);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", classdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(doc, f);
	fclose(f);
	free(doc);
}

/* Removes file NAME from the class folder. */
static void class_remove(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", classdir, name);
	unlink(path);
}

/* RSV_WEB parsed and resolved against CLASS_VM and CLASS_IP. */
static struct wfp_rsv *web_resolved(void)
{
	struct wfp_rsv *r = rsv_ok(RSV_WEB);

	class_write("vm.json", CLASS_VM);
	class_write("ip.json", CLASS_IP);
	if (wfp_rsv_resolve(r, classdir, err, sizeof(err)) != 0)
		fail_msg("resolve: %s", err);
	return r;
}

/* Parses payload text; fails when the workflow parser refuses it. */
static struct wfp_workflow *wf_ok(const char *payload)
{
	struct wfp_workflow *wf = NULL;

	if (wfp_workflow_parse(payload, strlen(payload), &wf, err,
			       sizeof(err)) != 1)
		fail_msg("refused: %s (%s)", err, payload);
	return wf;
}

/* Index of task name in wf; fails when it is missing. */
static int idx(const struct wfp_workflow *wf, const char *name)
{
	int t = wfp_workflow_find(wf, name);

	if (t < 0)
		fail_msg("no task '%s'", name);
	return t;
}

/* The deps of task name as "a,b". */
static const char *deps(const struct wfp_workflow *wf, const char *name)
{
	static char out[512];
	const struct wfp_wf_task *k = &wf->tasks[idx(wf, name)];
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < k->ndeps; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
				      i ? "," : "", wf->tasks[k->deps[i]].name);
	return out;
}

/* The value of input name of task t, or NULL. */
static const char *task_input(const struct wfp_workflow *wf, int t,
			      const char *name)
{
	for (int i = 0; i < wf->tasks[t].ninputs; i++)
		if (strcmp(wf->tasks[t].inputs[i].name, name) == 0)
			return wf->tasks[t].inputs[i].value;
	return NULL;
}

/* The argv of action a joined by spaces, or "plugin NAME ARGS". */
static const char *act_text(const struct wfp_action *a)
{
	static char out[512];
	size_t n = 0;

	out[0] = '\0';
	if (a->kind == WFP_ACTION_NONE)
		return "none";
	if (a->kind == WFP_ACTION_PLUGIN) {
		snprintf(out, sizeof(out), "plugin %s %s", a->plugin, a->args);
		return out;
	}
	for (int i = 0; i < a->argc; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
				      i ? " " : "", a->argv[i]);
	return out;
}

/* ------------------------------------------------------------------ */
/* Words and names                                                     */
/* ------------------------------------------------------------------ */

/* Every step and phase word converts both ways; others do not. */
static void test_words(void **state)
{
	static const char *const steps[] = {
	    "reserve",	"configure",   "acquire",   "destroy",
	    "poweroff", "unconfigure", "unreserve",
	};
	static const char *const phases[] = {"none", "reserved", "configured",
					     "acquired"};

	(void)state;
	for (int i = 0; i < WFP_RSV_STEPS; i++) {
		assert_string_equal(wfp_rsv_step_word(i), steps[i]);
		assert_int_equal(wfp_rsv_step_parse(steps[i]), i);
	}
	for (int i = 0; i < 4; i++) {
		assert_string_equal(wfp_rsv_phase_word(i), phases[i]);
		assert_int_equal(wfp_rsv_phase_parse(phases[i]), i);
	}
	assert_null(wfp_rsv_step_word(-1));
	assert_null(wfp_rsv_step_word(WFP_RSV_STEPS));
	assert_null(wfp_rsv_phase_word(4));
	assert_int_equal(wfp_rsv_step_parse("Reserve"), -1);
	assert_int_equal(wfp_rsv_phase_parse(""), -1);
	assert_int_equal(wfp_rsv_phase_parse(NULL), -1);
}

/* Ids are 1..40 of A-Za-z0-9_- (no dot: ID.fulfil stays a job id);
 * pool names 1..63 of A-Za-z0-9_.-. */
static void test_ids_and_pool_names(void **state)
{
	char s[80];

	(void)state;
	assert_int_equal(wfp_rsv_check_id("r0123456789abcdef", err, 99), 0);
	memset(s, 'a', 40);
	s[40] = '\0';
	assert_int_equal(wfp_rsv_check_id(s, err, sizeof(err)), 0);
	s[40] = 'a', s[41] = '\0';
	assert_int_equal(wfp_rsv_check_id(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not 1-40 of"));
	assert_int_equal(wfp_rsv_check_id("a.b", err, sizeof(err)), -1);
	assert_int_equal(wfp_rsv_check_id("", err, sizeof(err)), -1);
	assert_int_equal(wfp_rsv_check_id("a\nb", err, sizeof(err)), -1);
	assert_null(strchr(err, '\n'));

	assert_int_equal(wfp_pool_check_name("ips.eu-1_a", err, 99), 0);
	memset(s, 'p', 63);
	s[63] = '\0';
	assert_int_equal(wfp_pool_check_name(s, err, sizeof(err)), 0);
	s[63] = 'p', s[64] = '\0';
	assert_int_equal(wfp_pool_check_name(s, err, sizeof(err)), -1);
	assert_int_equal(wfp_pool_check_name("a b", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pool name 'a b' is not 1-63"));
}

/* ------------------------------------------------------------------ */
/* The reservation file                                                */
/* ------------------------------------------------------------------ */

/* A good file: items in depth-first document order, subs with their
 * parents, needs summed per pool in first-use order, args compact. */
static void test_parse_good(void **state)
{
	struct wfp_rsv *r = rsv_ok(RSV_WEB);

	(void)state;
	assert_string_equal(r->name, "web-1");
	assert_int_equal(r->ttl_ms, 60000);
	assert_int_equal(r->max_attempts, 2);
	assert_int_equal(r->nitems, 4);
	assert_string_equal(r->items[0].name, "vm");
	assert_string_equal(r->items[0].pool, "vms");
	assert_string_equal(r->items[0].cls, "vm");
	assert_string_equal(r->items[0].sub, "");
	assert_int_equal(r->items[0].amount, 2);
	assert_string_equal(r->items[0].args, "{\"size\":\"big\",\"cpus\":4}");
	assert_string_equal(r->items[1].name, "ip");
	assert_string_equal(r->items[1].args, "{}");
	assert_string_equal(r->items[2].name, "dbvm");
	assert_string_equal(r->items[2].sub, "db");
	assert_string_equal(r->items[3].name, "dbip");
	assert_string_equal(r->items[3].sub, "db.ip");
	for (int i = 0; i < 4; i++)
		assert_null(r->items[i].act[WFP_RSV_RESERVE]);
	assert_int_equal(r->nsubs, 2);
	assert_string_equal(r->subs[0], "db");
	assert_int_equal(r->sub_parent[0], -1);
	assert_string_equal(r->subs[1], "db.ip");
	assert_int_equal(r->sub_parent[1], 0);
	assert_int_equal(r->nneeds, 2);
	assert_string_equal(r->needs[0].pool, "vms");
	assert_int_equal(r->needs[0].amount, 5);
	assert_string_equal(r->needs[1].pool, "ips");
	assert_int_equal(r->needs[1].amount, 2);
	wfp_rsv_free(r);

	/* defaults; a sub listed before the items still comes after them */
	r = rsv_ok("{'reservations': [{'name': 's', 'items': [{'name': 'b',"
		   " 'pool': 'p', 'amount': 1, 'class': 'c'}]}],"
		   " 'name': 'x', 'items': [{'name': 'a', 'pool': 'p',"
		   " 'amount': 1000000000000, 'class': 'c'}]}");
	assert_int_equal(r->ttl_ms, WFP_RSV_TTL_DEFAULT_MS);
	assert_int_equal(r->max_attempts, WFP_RSV_ATTEMPTS_DEFAULT);
	assert_string_equal(r->items[0].name, "a");
	assert_string_equal(r->items[1].name, "b");
	assert_int_equal(r->needs[0].amount, 1000000000001LL);
	wfp_rsv_free(r);

	/* only sub-reservations hold items */
	r = rsv_ok(
	    "{'name': 'x', 'reservations': [{'name': 's', 'items':"
	    " [{'name': 'b', 'pool': 'p', 'amount': 1, 'class': 'c'}]}]}");
	assert_int_equal(r->nitems, 1);
	wfp_rsv_free(r);
}

/* An item with the keys given by rest (its name 'a'). */
#define ITEM(rest) "{'name': 'x', 'items': [{'name': 'a', " rest "}]}"
#define GOOD	   "'pool': 'p', 'amount': 1, 'class': 'c'"

/* Every refusal of a reservation file, each message naming the place. */
static void test_parse_refusals(void **state)
{
	(void)state;
	rsv_refuse("[1]", "reservation file is not a JSON object");
	rsv_refuse("{'name': 'x',", "reservation file is not JSON");
	rsv_refuse("{'items': []}", "reservation file has no name");
	rsv_refuse("{'name': 5}", "a name that is not a string");
	rsv_refuse("{'name': 'a b'}", "reservation name 'a b' is not 1-63");
	rsv_refuse("{'name': 'x', 'color': 1, 'items': []}",
		   "reservation 'x': unknown key 'color'");
	rsv_refuse("{'name': 'x'}", "reservation 'x' has no items");
	rsv_refuse("{'name': 'x', 'items': []}", "has no items");
	rsv_refuse("{'name': 'x', 'items': {}}", "items is not an array");
	rsv_refuse("{'name': 'x', 'ttl_ms': 0, 'items': []}",
		   "ttl_ms 0 is not in 1..604800000");
	rsv_refuse("{'name': 'x', 'ttl_ms': 604800001, 'items': []}",
		   "ttl_ms 604800001 is not in");
	rsv_refuse("{'name': 'x', 'ttl_ms': 1.5, 'items': []}",
		   "ttl_ms is not an integer");
	rsv_refuse("{'name': 'x', 'max_attempts': 1001, 'items': []}",
		   "max_attempts 1001 is not in 1..1000");
	rsv_refuse("{'name': 'x', 'max_attempts': 0, 'items': []}",
		   "max_attempts 0 is not in");

	/* items */
	rsv_refuse("{'name': 'x', 'items': [5]}",
		   "reservation 'x': items[0] is not an object");
	rsv_refuse("{'name': 'x', 'items': [{'pool': 'p'}]}",
		   "reservation 'x': items[0] has no name");
	rsv_refuse(ITEM("'pool': 'p', 'amount': 1"), "item 'a' has no class");
	rsv_refuse(ITEM("'class': 'c', 'amount': 1"), "item 'a' has no pool");
	rsv_refuse(ITEM("'pool': 'p', 'class': 'c'"), "item 'a' has no amount");
	rsv_refuse(ITEM(GOOD ", 'size': 1"), "item 'a': unknown key 'size'");
	rsv_refuse(ITEM("'pool': 'p', 'amount': 0, 'class': 'c'"),
		   "item 'a': amount 0 is not in 1..1000000000000");
	rsv_refuse(ITEM("'pool': 'p', 'amount': -3, 'class': 'c'"),
		   "item 'a': amount -3 is not in");
	rsv_refuse(ITEM("'pool': 'p', 'amount': 1000000000001, 'class': 'c'"),
		   "amount 1000000000001 is not in");
	rsv_refuse(ITEM("'pool': 'p', 'amount': 99999999999999999999999,"
			" 'class': 'c'"),
		   "amount 99999999999999999999999 is not in");
	rsv_refuse(ITEM("'pool': 'p', 'amount': 2.0, 'class': 'c'"),
		   "item 'a': amount is not an integer");
	rsv_refuse(ITEM("'pool': 'p', 'amount': '2', 'class': 'c'"),
		   "amount is not an integer");
	rsv_refuse(ITEM("'pool': 'a/b', 'amount': 1, 'class': 'c'"),
		   "item 'a': pool name 'a/b' is not 1-63");
	rsv_refuse(ITEM("'pool': 7, 'amount': 1, 'class': 'c'"),
		   "item 'a': pool is not a string");
	rsv_refuse(ITEM("'pool': 'p', 'amount': 1, 'class': '../etc'"),
		   "item 'a': class name '../etc' is not 1-63");
	rsv_refuse(ITEM("'pool': 'p', 'amount': 1, 'class': 'a.b'"),
		   "class name 'a.b' is not");
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a.b', " GOOD "}]}",
		   "items[0]: item name 'a.b' is not 1-47");
	rsv_refuse("{'name': 'x', 'items': [{'name': "
		   "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', " GOOD
		   "}]}",
		   "is not 1-47");
	rsv_refuse(ITEM(GOOD ", 'args': [1]"), "item 'a': args is not an "
					       "object");
	rsv_refuse(ITEM(GOOD ", 'args': {'rsv_id': 'x'}"),
		   "item 'a': args: 'rsv_id' starts with rsv_");
	rsv_refuse(ITEM(GOOD ", 'args': {'a-b': 1}"),
		   "item 'a': args: data name 'a-b' is not 1-63");

	/* names unique in the whole tree */
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "},"
		   " {'name': 'a', " GOOD "}]}",
		   "item 'a' is named twice");
	rsv_refuse(
	    "{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
	    " 'reservations': [{'name': 's', 'items': [{'name': 'a', " GOOD
	    "}]}]}",
	    "item 'a' is named twice");
	rsv_refuse("{'name': 'x', 'reservations': [{'name': 's', 'items':"
		   " [{'name': 'a', " GOOD "}]}, {'name': 's', 'items':"
		   " [{'name': 'b', " GOOD "}]}]}",
		   "sub-reservation 's' is named twice");

	/* sub-reservations */
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
		   " 'reservations': [{'name': 's', 'ttl_ms': 5, 'items':"
		   " [{'name': 'b', " GOOD "}]}]}",
		   "sub-reservation 's': ttl_ms and max_attempts belong to the "
		   "top");
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
		   " 'reservations': [{'name': 's', 'x': 5, 'items':"
		   " [{'name': 'b', " GOOD "}]}]}",
		   "sub-reservation 's': unknown key 'x'");
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
		   " 'reservations': [{'name': 's'}]}",
		   "sub-reservation 's' has no items and no sub-reservations");
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
		   " 'reservations': [{'name': 's', 'items': [],"
		   " 'reservations': []}]}",
		   "sub-reservation 's' has no items and no");
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
		   " 'reservations': [{'items': []}]}",
		   "reservation 'x': reservations[0] has no name");
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
		   " 'reservations': [3]}",
		   "reservations[0] is not an object");
	rsv_refuse("{'name': 'x', 'items': [{'name': 'a', " GOOD "}],"
		   " 'reservations': {}}",
		   "reservations is not an array");
	rsv_refuse("{'name': 'x', 'reservations': [{'name': 's',"
		   " 'items': [{'name': 'b', 'pool': 'p', 'amount': 0,"
		   " 'class': 'c'}]}]}",
		   "item 'b': amount 0 is not in");
	rsv_refuse("{'name': 'x', 'reservations': [{'name': 's',"
		   " 'items': [{'pool': 'p'}]}]}",
		   "sub-reservation 's': items[0] has no name");
}

/* Sub-reservations nested `levels` deep, one item at the bottom. */
static char *nested(int levels)
{
	struct buf b = {0};

	bprintf(&b, "{\"name\":\"top\"");
	for (int i = 0; i < levels; i++)
		bprintf(&b, ",\"reservations\":[{\"name\":\"s%d\"", i);
	bprintf(&b, ",\"items\":[{\"name\":\"a\",\"pool\":\"p\",\"amount\":1,"
		    "\"class\":\"c\"}]");
	for (int i = 0; i < levels; i++)
		bprintf(&b, "}]");
	bprintf(&b, "}");
	return b.s;
}

/* A file of n items spread over subs sub-reservations (0: all top). */
static char *many(int n, int subs, const char *args)
{
	struct buf b = {0};

	bprintf(&b, "{\"name\":\"top\",\"items\":[");
	for (int i = 0; i < n - subs; i++)
		bprintf(&b,
			"%s{\"name\":\"i%d\",\"pool\":\"p\",\"amount\":1,"
			"\"class\":\"c\"%s}",
			i ? "," : "", i, args);
	bprintf(&b, "],\"reservations\":[");
	for (int s = 0; s < subs; s++)
		bprintf(&b,
			"%s{\"name\":\"s%d\",\"items\":[{\"name\":\"j%d\","
			"\"pool\":\"p\",\"amount\":1,\"class\":\"c\"}]}",
			s ? "," : "", s, s);
	bprintf(&b, "]}");
	return b.s;
}

/* Parses text and expects a refusal holding want (or success when want
 * is NULL). */
static void limit_try(char *text, const char *want)
{
	struct wfp_rsv *r = NULL;
	int rc = wfp_rsv_parse(text, strlen(text), &r, err, sizeof(err));

	if (want == NULL && rc != 0)
		fail_msg("refused: %s", err);
	if (want && (rc != -1 || strstr(err, want) == NULL))
		fail_msg("rc %d, message '%s' lacks '%s'", rc, err, want);
	wfp_rsv_free(r);
	free(text);
}

/* Every limit: depth, items, subs, args keys, file size. */
static void test_parse_limits(void **state)
{
	struct buf b = {0};
	char key[16];

	(void)state;
	limit_try(nested(WFP_RSV_DEPTH_MAX), NULL);
	limit_try(nested(WFP_RSV_DEPTH_MAX + 1),
		  "sub-reservation 's8': sub-reservations nest deeper than 8 "
		  "levels");
	limit_try(many(WFP_RSV_ITEMS_MAX, 0, ""), NULL);
	limit_try(many(WFP_RSV_ITEMS_MAX + 1, 0, ""),
		  "reservation has more than 256 items (sub-reservations "
		  "included)");
	limit_try(many(WFP_RSV_ITEMS_MAX + 1, 10, ""), "more than 256 items");
	limit_try(many(WFP_RSV_SUBS_MAX + 1, WFP_RSV_SUBS_MAX, ""), NULL);
	limit_try(many(WFP_RSV_SUBS_MAX + 2, WFP_RSV_SUBS_MAX + 1, ""),
		  "reservation has more than 64 sub-reservations in all");

	/* args: 64 keys, then 65 */
	bprintf(&b, ",\"args\":{");
	for (int i = 0; i < WFP_RSV_ARGS_MAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		bprintf(&b, "%s\"%s\":%d", i ? "," : "", key, i);
	}
	bprintf(&b, "}");
	limit_try(many(1, 0, b.s), NULL);
	b.n--;
	bprintf(&b, ",\"k64\":\"x\"}");
	limit_try(many(1, 0, b.s), "item 'i0': args has 65 keys, more than 64");

	/* the file: 65536 bytes at most */
	b.n = 0;
	bprintf(&b, ",\"args\":{\"blob\":\"");
	while (b.n < WFP_RSV_FILE_MAX)
		bprintf(&b, "x");
	bprintf(&b, "\"}");
	limit_try(many(1, 0, b.s), "bytes, more than 65536");
	free(b.s);
}

/* ------------------------------------------------------------------ */
/* Class files                                                         */
/* ------------------------------------------------------------------ */

/* A good class of each kind: actions as compact text, timeout, retry;
 * a second parse into the same item replaces the first. */
static void test_class_good(void **state)
{
	struct wfp_rsv_item it = {0};
	char *vm = jq(CLASS_VM), *ip = jq(CLASS_IP);

	(void)state;
	assert_int_equal(
	    wfp_rsv_class_parse("vm", vm, strlen(vm), &it, err, sizeof(err)),
	    0);
	assert_string_equal(it.act[WFP_RSV_RESERVE],
			    "[\"/bin/vm\",\"reserve\"]");
	assert_string_equal(it.act[WFP_RSV_POWEROFF], "[\"/bin/vm\",\"off\"]");
	assert_non_null(it.act[WFP_RSV_UNCONFIGURE]);
	assert_non_null(it.act[WFP_RSV_UNRESERVE]);
	assert_null(it.act[WFP_RSV_DESTROY]);
	assert_int_equal(it.timeout_ms, 5000);
	assert_int_equal(it.attempts, 3);
	assert_int_equal(it.backoff_ms, 100);

	assert_int_equal(
	    wfp_rsv_class_parse("ip", ip, strlen(ip), &it, err, sizeof(err)),
	    0);
	assert_string_equal(it.act[WFP_RSV_DESTROY],
			    "{\"plugin\":\"ipam\",\"args\":{\"op\":\"free\"}}");
	assert_string_equal(it.act[WFP_RSV_ACQUIRE], "{\"plugin\":\"ipam\"}");
	assert_null(it.act[WFP_RSV_POWEROFF]);
	assert_null(it.act[WFP_RSV_UNRESERVE]);
	assert_int_equal(it.timeout_ms, 0);
	assert_int_equal(it.attempts, 1);
	assert_int_equal(it.backoff_ms, 0);
	for (int i = 0; i < WFP_RSV_STEPS; i++)
		free(it.act[i]);
	free(vm), free(ip);
}

#define ACTS3 "'reserve': ['/r'], 'configure': ['/c'], 'acquire': ['/a']"

/* Every refusal of a class file names the class and its file. */
static void test_class_refusals(void **state)
{
	char *big = malloc(WFP_CLASS_FILE_MAX + 64);
	struct wfp_rsv_item it = {0};

	(void)state;
	class_refuse("vm",
		     "{" ACTS3 ", 'destroy': ['/d'], 'unreserve': ['/u']}",
		     "class 'vm' (vm.json): has destroy and unreserve; give "
		     "destroy, or poweroff, unconfigure and unreserve");
	class_refuse("vm",
		     "{" ACTS3 ", 'destroy': ['/d'], 'poweroff': ['/p'],"
		     " 'unreserve': ['/u']}",
		     "has destroy and poweroff and unreserve; give");
	class_refuse("vm",
		     "{" ACTS3 ", 'poweroff': ['/p'], 'unreserve': ['/u']}",
		     "class 'vm' (vm.json): has poweroff and unreserve but not "
		     "all of poweroff, unconfigure and unreserve");
	class_refuse("vm", "{" ACTS3 ", 'unconfigure': ['/p']}",
		     "has unconfigure but not all of");
	class_refuse("vm", "{" ACTS3 "}",
		     "class 'vm' (vm.json): has no undo; give destroy");
	class_refuse("vm",
		     "{'configure': ['/c'], 'acquire': ['/a'],"
		     " 'destroy': ['/d']}",
		     "class 'vm' (vm.json): has no reserve");
	class_refuse("vm",
		     "{'reserve': ['/c'], 'acquire': ['/a'],"
		     " 'destroy': ['/d']}",
		     "has no configure");
	class_refuse("vm", "{" ACTS3 ", 'destroy': ['/d'], 'colour': 1}",
		     "class 'vm' (vm.json): unknown key 'colour'");
	class_refuse("vm", "{" ACTS3 ", 'destroy': 'rm -rf'}",
		     "class 'vm' (vm.json): destroy is neither an argv array "
		     "nor a plugin object");
	/* the workflow rules for an apply, named by the class's step */
	class_refuse("vm", "{" ACTS3 ", 'destroy': []}",
		     "class 'vm' (vm.json): destroy is an empty argv");
	class_refuse("vm",
		     "{'reserve': ['/r', ''], 'configure': ['/c'],"
		     " 'acquire': ['/a'], 'destroy': ['/d']}",
		     "class 'vm' (vm.json): reserve[1] is empty");
	class_refuse(
	    "vm",
	    "{'reserve': ['/r'], 'configure': {'plugin': 'Bad'},"
	    " 'acquire': ['/a'], 'destroy': ['/d']}",
	    "class 'vm' (vm.json): configure: plugin name 'Bad' is not");
	class_refuse("vm",
		     "{'reserve': ['/r'], 'configure': {'plugin': 'p', 'x': 1},"
		     " 'acquire': ['/a'], 'destroy': ['/d']}",
		     "configure: unknown key 'x'");
	class_refuse(
	    "vm",
	    "{'reserve': ['/r'], 'configure': ['/c'],"
	    " 'acquire': {'plugin': 'p', 'args': 3}, 'destroy': ['/d']}",
	    "acquire: args is not an object");
	class_refuse(
	    "vm", "{" ACTS3 ", 'destroy': ['/d'], 'timeout_ms': -1}",
	    "class 'vm' (vm.json): timeout_ms -1 is not in 0..86400000");
	class_refuse("vm", "{" ACTS3 ", 'destroy': ['/d'], 'retry': 3}",
		     "class 'vm' (vm.json): retry is not an object");
	class_refuse("vm",
		     "{" ACTS3 ", 'destroy': ['/d'], 'retry': {'attempts': 0}}",
		     "retry: attempts 0 is not in 1..100");
	class_refuse("vm",
		     "{" ACTS3 ", 'destroy': ['/d'], 'retry': {'tries': 2}}",
		     "retry: unknown key 'tries'");
	class_refuse("vm", "{" ACTS3 ", 'destroy': ['/d'], 'description': 1}",
		     "description is not a string");
	class_refuse("vm", "{" ACTS3 ",", "class 'vm' (vm.json) is not JSON");
	class_refuse("vm", "[]", "class 'vm' (vm.json) is not a JSON object");
	class_refuse("a.b", "{}", "class name 'a.b' is not 1-63");

	assert_non_null(big);
	memset(big, ' ', WFP_CLASS_FILE_MAX + 1);
	big[0] = '{', big[WFP_CLASS_FILE_MAX] = '}';
	assert_int_equal(wfp_rsv_class_parse("vm", big, WFP_CLASS_FILE_MAX + 1,
					     &it, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "(vm.json) is 65537 bytes, more than "
				    "65536"));
	free(big);
}

/* Resolve loads NAME.json from the folder; a missing, unreadable or
 * bad file is refused naming the class. */
static void test_resolve(void **state)
{
	struct wfp_rsv *r = web_resolved();
	char path[256];
	FILE *f;

	(void)state;
	for (int i = 0; i < r->nitems; i++) {
		const struct wfp_rsv_item *it = &r->items[i];
		int vm = strcmp(it->cls, "vm") == 0;

		assert_non_null(it->act[WFP_RSV_RESERVE]);
		assert_int_equal(it->act[WFP_RSV_DESTROY] == NULL, vm);
		assert_int_equal(it->act[WFP_RSV_UNRESERVE] != NULL, vm);
		assert_int_equal(it->timeout_ms, vm ? 5000 : 0);
	}
	/* a second item of a class shares its text, not its memory */
	assert_string_equal(r->items[2].act[WFP_RSV_RESERVE],
			    r->items[0].act[WFP_RSV_RESERVE]);
	assert_ptr_not_equal(r->items[2].act[WFP_RSV_RESERVE],
			     r->items[0].act[WFP_RSV_RESERVE]);
	wfp_rsv_free(r);

	r = rsv_ok(RSV_WEB);
	class_remove("ip.json");
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "class 'ip': no file ip.json in %s",
		 classdir);
	assert_string_equal(err, path);

	class_write("ip.json", "{'reserve': ['/r']");
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "class 'ip' (ip.json) is not JSON"));

	class_write("ip.json", "{" ACTS3 ", 'destroy': ['/d'], 'unreserve': "
			       "['/u']}");
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "class 'ip' (ip.json): has destroy and"));

	class_remove("ip.json");
	snprintf(path, sizeof(path), "%s/ip.json", classdir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "class 'ip': "));
	assert_non_null(strstr(err, "ip.json is not a regular file"));
	rmdir(path);
	/* a FIFO is refused at once (never waited on) */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ip.json is not a regular file"));
	unlink(path);

	f = fopen(path, "w");
	assert_non_null(f);
	fputc('{', f);
	for (int i = 0; i < WFP_CLASS_FILE_MAX; i++)
		fputc(' ', f);
	fputc('}', f);
	fclose(f);
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "class 'ip' (ip.json) is 65538 bytes, "
				    "more than 65536"));

	assert_int_equal(wfp_rsv_resolve(r, "", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no classes directory (WFP_CLASSES_DIR)"));
	assert_int_equal(
	    wfp_rsv_resolve(r, "/nonexistent/dir", err, sizeof(err)), -1);
	assert_non_null(
	    strstr(err, "class 'vm': no file vm.json in /nonexistent/dir"));
	class_write("ip.json", CLASS_IP);
	wfp_rsv_free(r);
}

/* ------------------------------------------------------------------ */
/* Generated workflows                                                 */
/* ------------------------------------------------------------------ */

/* 1 when task a is an ancestor of task b (follows deps). */
static int before(const struct wfp_workflow *wf, int a, int b)
{
	const struct wfp_wf_task *k = &wf->tasks[b];

	for (int i = 0; i < k->ndeps; i++)
		if (k->deps[i] == a || before(wf, a, k->deps[i]))
			return 1;
	return 0;
}

/* The fulfilment workflow read back: per item reserve -> configure ->
 * acquire (acquire waiting for both), items independent (subs too), reverts per
 * class kind, class timeout and retry, the inputs of every task. */
static void test_fulfil_payload(void **state)
{
	static const char *const items[] = {"vm", "ip", "dbvm", "dbip"};
	struct wfp_rsv *r = web_resolved();
	char *p = wfp_rsv_fulfil_payload(r, "r1", err, sizeof(err));
	struct wfp_workflow *wf;
	int t;

	(void)state;
	if (p == NULL)
		fail_msg("refused: %s", err);
	wf = wf_ok(p);
	assert_int_equal(wf->ntasks, 12);
	assert_int_equal(wf->ninputs, 2);
	assert_string_equal(wf->inputs[0].name, "rsv_id");
	assert_string_equal(wf->inputs[0].value, "r1");
	assert_string_equal(wf->inputs[1].name, "rsv_name");
	assert_string_equal(wf->inputs[1].value, "web-1");
	for (int i = 0; i < 4; i++) {
		char res[64], conf[64], acq[64], both[160];

		snprintf(res, sizeof(res), "%s.reserve", items[i]);
		snprintf(conf, sizeof(conf), "%s.configure", items[i]);
		snprintf(acq, sizeof(acq), "%s.acquire", items[i]);
		snprintf(both, sizeof(both), "%s,%s", res, conf);
		assert_string_equal(deps(wf, res), "");
		assert_string_equal(deps(wf, conf), res);
		/* all of the item's earlier steps, in step order: the
		 * engine merges deps' outputs in deps order, so acquire
		 * and its revert see reserve's and configure's outputs
		 * (configure's winning) above any other item's */
		assert_string_equal(deps(wf, acq), both);
		/* nothing else waits for an item's tasks */
		assert_int_equal(wf->tasks[idx(wf, acq)].nnext, 0);
		for (int j = 0; j < 4; j++) {
			char other[64];

			snprintf(other, sizeof(other), "%s.acquire", items[j]);
			if (j != i)
				assert_false(
				    before(wf, idx(wf, res), idx(wf, other)));
		}
	}
	/* vm: three undo steps */
	t = idx(wf, "vm.reserve");
	assert_string_equal(act_text(&wf->tasks[t].apply), "/bin/vm reserve");
	assert_string_equal(act_text(&wf->tasks[t].revert),
			    "/bin/vm unreserve");
	assert_int_equal(wf->tasks[t].timeout_ms, 5000);
	assert_int_equal(wf->tasks[t].attempts, 3);
	assert_int_equal(wf->tasks[t].backoff_ms, 100);
	assert_string_equal(
	    act_text(&wf->tasks[idx(wf, "vm.configure")].revert),
	    "/bin/vm unconfigure");
	assert_string_equal(
	    act_text(&wf->tasks[idx(wf, "dbvm.acquire")].revert),
	    "/bin/vm off");
	/* ip: destroy undoes all from reserve; nothing else reverts */
	t = idx(wf, "dbip.reserve");
	assert_string_equal(act_text(&wf->tasks[t].apply),
			    "plugin ipam {\"op\":\"take\"}");
	assert_string_equal(act_text(&wf->tasks[t].revert),
			    "plugin ipam {\"op\":\"free\"}");
	assert_int_equal(wf->tasks[t].timeout_ms, 0);
	assert_int_equal(wf->tasks[t].attempts, 1);
	assert_string_equal(
	    act_text(&wf->tasks[idx(wf, "ip.configure")].revert), "none");
	assert_string_equal(act_text(&wf->tasks[idx(wf, "ip.acquire")].revert),
			    "none");
	/* inputs: the item's args and the service's own */
	t = idx(wf, "vm.configure");
	assert_int_equal(wf->tasks[t].ninputs, 7);
	assert_string_equal(task_input(wf, t, "rsv_id"), "r1");
	assert_string_equal(task_input(wf, t, "rsv_item"), "vm");
	assert_string_equal(task_input(wf, t, "rsv_pool"), "vms");
	assert_string_equal(task_input(wf, t, "rsv_amount"), "2");
	assert_string_equal(task_input(wf, t, "rsv_class"), "vm");
	assert_string_equal(task_input(wf, t, "size"), "big");
	assert_string_equal(task_input(wf, t, "cpus"), "4");
	t = idx(wf, "dbip.acquire");
	assert_int_equal(wf->tasks[t].ninputs, 5);
	assert_string_equal(task_input(wf, t, "rsv_amount"), "1");
	wfp_workflow_free(wf);
	free(p);
	wfp_rsv_free(r);
}

/* Strings that need escaping reach the workflow as they were. */
static void test_fulfil_escapes(void **state)
{
	struct wfp_rsv *r = rsv_ok(
	    "{'name': 'x', 'items': [{'name': 'a', 'pool': 'p', 'amount': 1,"
	    " 'class': 'ip', 'args': {'q': 'say \\'hi\\'\\n\\\\', 'o':"
	    " {'k': [1, 2.50]}}}]}");
	struct wfp_workflow *wf;
	char *p;
	int t;

	(void)state;
	class_write("ip.json", CLASS_IP);
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), 0);
	p = wfp_rsv_fulfil_payload(r, "r-2_x", err, sizeof(err));
	assert_non_null(p);
	wf = wf_ok(p);
	t = idx(wf, "a.reserve");
	assert_string_equal(task_input(wf, t, "q"), "say \"hi\"\n\\");
	assert_string_equal(task_input(wf, t, "o"), "{\"k\":[1,2.50]}");
	assert_string_equal(task_input(wf, t, "rsv_id"), "r-2_x");
	wfp_workflow_free(wf);
	free(p);
	wfp_rsv_free(r);
}

/* The fulfilment payload is refused for a bad id, an unresolved
 * reservation, an action the workflow rules refuse (named by class and
 * step) and a payload over WFP_PAYLOAD_MAX. */
static void test_fulfil_refusals(void **state)
{
	struct wfp_rsv *r = rsv_ok(RSV_WEB);
	struct buf b = {0};

	(void)state;
	assert_null(wfp_rsv_fulfil_payload(r, "r1", err, sizeof(err)));
	assert_string_equal(err, "item 'vm': class 'vm' is not resolved (no "
				 "actions)");
	wfp_rsv_free(r);

	r = web_resolved();
	assert_null(wfp_rsv_fulfil_payload(r, "r.1", err, sizeof(err)));
	assert_non_null(strstr(err, "reservation id 'r.1' is not 1-40"));

	free(r->items[3].act[WFP_RSV_DESTROY]);
	r->items[3].act[WFP_RSV_DESTROY] = strdup("[\"/d\",\"\"]");
	assert_null(wfp_rsv_fulfil_payload(r, "r1", err, sizeof(err)));
	assert_string_equal(err, "class 'ip' (item 'dbip'): destroy[1] is "
				 "empty");
	wfp_rsv_free(r);

	/* 256 items of a class with a 1 KB action: over 256 KB */
	r = NULL;
	bprintf(&b, "{\"reserve\":[\"/r\",\"");
	for (int i = 0; i < 1024; i++)
		bprintf(&b, "x");
	bprintf(&b, "\"],\"configure\":[\"/c\"],\"acquire\":[\"/a\"],"
		    "\"destroy\":[\"/d\"]}");
	{
		char *doc = many(WFP_RSV_ITEMS_MAX, 0, "");

		assert_int_equal(
		    wfp_rsv_parse(doc, strlen(doc), &r, err, sizeof(err)), 0);
		free(doc);
	}
	class_write("c.json", b.s);
	assert_int_equal(wfp_rsv_resolve(r, classdir, err, sizeof(err)), 0);
	assert_null(wfp_rsv_fulfil_payload(r, "r1", err, sizeof(err)));
	assert_non_null(strstr(err, "fulfilment payload is "));
	assert_non_null(strstr(err, "bytes, more than 262144"));
	class_remove("c.json");
	free(b.s);
	wfp_rsv_free(r);
}

/* The task names of wf in order, joined by spaces, with each task's
 * deps count: "a.poweroff a.unconfigure/1 ...". */
static const char *task_list(const struct wfp_workflow *wf)
{
	static char out[1024];
	size_t n = 0;

	out[0] = '\0';
	for (int t = 0; t < wf->ntasks; t++) {
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
				      t ? " " : "", wf->tasks[t].name);
		if (wf->tasks[t].ndeps)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "/%s",
					      deps(wf, wf->tasks[t].name));
		assert_int_equal(wf->tasks[t].revert.kind, WFP_ACTION_NONE);
	}
	return out;
}

/* The teardown workflow from each phase for both class kinds: undo
 * steps from the phase down, no reverts, items with phase none left
 * out; st NULL tears down everything. */
static void test_teardown_payload(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);
	struct wfp_workflow *wf;
	char *p;

	(void)state;
	assert_non_null(st);
	/* all none: an empty workflow (completes at once) */
	p = wfp_rsv_teardown_payload(r, "r1", st, err, sizeof(err));
	assert_non_null(p);
	wf = wf_ok(p);
	assert_int_equal(wf->ntasks, 0);
	assert_int_equal(wf->ninputs, 2);
	wfp_workflow_free(wf), free(p);

	st[0].phase = WFP_RSV_ACQUIRED;	  /* vm */
	st[1].phase = WFP_RSV_RESERVED;	  /* ip (destroy) */
	st[2].phase = WFP_RSV_CONFIGURED; /* dbvm */
	st[3].phase = WFP_RSV_NONE;	  /* dbip */
	p = wfp_rsv_teardown_payload(r, "r1", st, err, sizeof(err));
	assert_non_null(p);
	wf = wf_ok(p);
	assert_string_equal(task_list(wf),
			    "vm.poweroff vm.unconfigure/vm.poweroff "
			    "vm.unreserve/vm.unconfigure ip.destroy "
			    "dbvm.unconfigure dbvm.unreserve/dbvm.unconfigure");
	assert_string_equal(act_text(&wf->tasks[idx(wf, "ip.destroy")].apply),
			    "plugin ipam {\"op\":\"free\"}");
	assert_string_equal(act_text(&wf->tasks[idx(wf, "vm.poweroff")].apply),
			    "/bin/vm off");
	assert_int_equal(wf->tasks[idx(wf, "vm.unreserve")].timeout_ms, 5000);
	assert_int_equal(wf->tasks[idx(wf, "vm.unreserve")].attempts, 3);
	wfp_workflow_free(wf), free(p);

	st[0].phase = WFP_RSV_RESERVED;
	st[1].phase = WFP_RSV_ACQUIRED;
	st[2].phase = WFP_RSV_NONE;
	st[3].phase = WFP_RSV_CONFIGURED;
	p = wfp_rsv_teardown_payload(r, "r1", st, err, sizeof(err));
	wf = wf_ok(p);
	assert_string_equal(task_list(wf),
			    "vm.unreserve ip.destroy dbip.destroy");
	wfp_workflow_free(wf), free(p);

	p = wfp_rsv_teardown_payload(r, "r1", NULL, err, sizeof(err));
	wf = wf_ok(p);
	assert_int_equal(wf->ntasks, 8);
	wfp_workflow_free(wf), free(p);

	assert_null(wfp_rsv_teardown_payload(r, "", st, err, sizeof(err)));
	assert_non_null(strstr(err, "reservation id '' is not"));
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* Teardown tasks get the item's recorded outputs below its args and the
 * rsv_ inputs; odd output names are left out. */
static void test_teardown_outputs(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);
	struct wfp_workflow *wf;
	char *p;
	int t;

	(void)state;
	wfp_rsv_progress_feed(r, st, 0, "vm.reserve", "applied", 0,
			      "{\"host\":\"h1\",\"size\":\"tiny\","
			      "\"rsv_item\":\"no\",\"a-b\":1}",
			      NULL);
	wfp_rsv_progress_feed(r, st, 0, "vm.configure", "applied", 0,
			      "{\"host\":\"h2\",\"port\":22}", NULL);
	assert_string_equal(st[0].outputs, "{\"size\":\"tiny\",\"rsv_item\":"
					   "\"no\",\"a-b\":1,\"host\":\"h2\","
					   "\"port\":22}");
	p = wfp_rsv_teardown_payload(r, "r9", st, err, sizeof(err));
	if (p == NULL)
		fail_msg("refused: %s", err);
	wf = wf_ok(p);
	assert_string_equal(task_list(wf),
			    "vm.unconfigure vm.unreserve/vm.unconfigure");
	t = idx(wf, "vm.unreserve");
	assert_string_equal(task_input(wf, t, "host"), "h2");
	assert_string_equal(task_input(wf, t, "port"), "22");
	assert_string_equal(task_input(wf, t, "size"), "big"); /* args win */
	assert_string_equal(task_input(wf, t, "rsv_item"), "vm");
	assert_string_equal(task_input(wf, t, "rsv_id"), "r9");
	assert_null(task_input(wf, t, "a-b"));
	assert_int_equal(wf->tasks[t].ninputs, 9);
	wfp_workflow_free(wf), free(p);
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* Outputs (an outside command's, up to 64 KiB a key) repeated on every
 * teardown task can pass WFP_PAYLOAD_MAX where the fulfilment fit: the
 * teardown still goes out, without the outputs of the largest items. */
static void test_teardown_outputs_too_big(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);
	char *big = malloc(40001), *out = malloc(2 * 40000 + 64);
	struct wfp_workflow *wf;
	char *p;

	(void)state;
	memset(big, 'x', 40000);
	big[40000] = '\0';
	snprintf(out, 2 * 40000 + 64, "{\"a\":\"%s\",\"b\":\"%s\"}", big, big);
	wfp_rsv_progress_feed(r, st, 0, "vm.reserve", "applied", 0, NULL, NULL);
	wfp_rsv_progress_feed(r, st, 0, "vm.configure", "applied", 0, out,
			      NULL);
	wfp_rsv_progress_feed(r, st, 0, "vm.acquire", "applied", 0, NULL, NULL);
	snprintf(out, 2 * 40000 + 64, "{\"c\":\"%s\"}", big);
	wfp_rsv_progress_feed(r, st, 0, "ip.reserve", "applied", 0, out, NULL);
	wfp_rsv_progress_feed(r, st, 0, "dbvm.reserve", "applied", 0,
			      "{\"d\":\"small\"}", NULL);
	p = wfp_rsv_teardown_payload(r, "r1", st, err, sizeof(err));
	if (p == NULL)
		fail_msg("refused: %s", err);
	assert_true(strlen(p) <= WFP_PAYLOAD_MAX);
	wf = wf_ok(p);
	assert_null(task_input(wf, idx(wf, "vm.unreserve"), "a"));
	assert_string_equal(task_input(wf, idx(wf, "ip.destroy"), "c"), big);
	assert_string_equal(task_input(wf, idx(wf, "dbvm.unreserve"), "d"),
			    "small");
	wfp_workflow_free(wf), free(p);
	free(big), free(out);
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* ------------------------------------------------------------------ */
/* Progress                                                            */
/* ------------------------------------------------------------------ */

/* Feeds "task state" of the fulfilment job (final 0, no outputs). */
static void ff(const struct wfp_rsv *r, struct wfp_rsv_item_state *st,
	       const char *task, const char *state)
{
	wfp_rsv_progress_feed(r, st, 0, task, state, 0, NULL, NULL);
}

/* Feeds "task state" of a teardown job. */
static void ft(const struct wfp_rsv *r, struct wfp_rsv_item_state *st,
	       const char *task, const char *state)
{
	wfp_rsv_progress_feed(r, st, 1, task, state, 0, NULL, NULL);
}

/* Asserts item i's phase, reached, undone, running and failed. */
static void st_is(const struct wfp_rsv_item_state *st, int i, int phase,
		  int reached, unsigned undone, int running, int failed)
{
	assert_int_equal(st[i].phase, phase);
	assert_int_equal(st[i].reached, reached);
	assert_int_equal(st[i].undone, undone);
	assert_int_equal(st[i].running, running);
	assert_int_equal(st[i].failed, failed);
}

#define BIT(s) (1u << (s))

/* A fulfilment that completes, then a teardown that fails once and a
 * second that finishes: every phase on the way. */
static void test_progress_forward(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);

	(void)state;
	for (int i = 0; i < r->nitems; i++)
		st_is(st, i, WFP_RSV_NONE, WFP_RSV_NONE, 0, -1, -1);
	ff(r, st, "vm.reserve", "running");
	st_is(st, 0, WFP_RSV_NONE, WFP_RSV_NONE, 0, WFP_RSV_RESERVE, -1);
	wfp_rsv_progress_feed(r, st, 0, "vm.reserve", "applied", 0, NULL, NULL);
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_RESERVED, 0, -1, -1);
	ff(r, st, "vm.configure", "running");
	ff(r, st, "vm.configure", "apply-failed"); /* tried again */
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_RESERVED, 0, -1, -1);
	ff(r, st, "vm.configure", "applied");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_CONFIGURED, 0, -1, -1);
	ff(r, st, "vm.acquire", "applied");
	st_is(st, 0, WFP_RSV_ACQUIRED, WFP_RSV_ACQUIRED, 0, -1, -1);
	ff(r, st, "ip.reserve", "applied");
	ff(r, st, "ip.configure", "applied");
	ff(r, st, "ip.acquire", "applied");
	st_is(st, 1, WFP_RSV_ACQUIRED, WFP_RSV_ACQUIRED, 0, -1, -1);
	/* entries of no item, of no step, or of the other job kind */
	ff(r, st, "other.reserve", "applied");
	ff(r, st, "vm.fly", "applied");
	ff(r, st, "vm", "applied");
	ff(r, st, "dbvm.poweroff", "applied");
	ft(r, st, "dbvm.reserve", "applied");
	st_is(st, 2, WFP_RSV_NONE, WFP_RSV_NONE, 0, -1, -1);

	/* teardown 1: vm powers off, unconfigure fails for good */
	ft(r, st, "vm.poweroff", "running");
	st_is(st, 0, WFP_RSV_ACQUIRED, WFP_RSV_ACQUIRED, 0, WFP_RSV_POWEROFF,
	      -1);
	ft(r, st, "vm.poweroff", "applied");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF), -1, -1);
	ft(r, st, "vm.unconfigure", "running");
	wfp_rsv_progress_feed(r, st, 1, "vm.unconfigure", "apply-failed", 1,
			      NULL, NULL);
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF), -1, WFP_RSV_UNCONFIGURE);
	ft(r, st, "ip.destroy", "applied");
	st_is(st, 1, WFP_RSV_NONE, WFP_RSV_ACQUIRED, BIT(WFP_RSV_DESTROY), -1,
	      -1);
	/* teardown 2 goes on from there */
	ft(r, st, "vm.unconfigure", "applied");
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF) | BIT(WFP_RSV_UNCONFIGURE), -1, -1);
	ft(r, st, "vm.unreserve", "applied");
	st_is(st, 0, WFP_RSV_NONE, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF) | BIT(WFP_RSV_UNCONFIGURE) |
		  BIT(WFP_RSV_UNRESERVE),
	      -1, -1);
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* A fulfilment that fails: each item undone from how far it got, in
 * reverse; a destroy class's configure and acquire are skipped and its
 * reserve's revert (destroy) takes it to none; a revert that fails. */
static void test_progress_undo(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);

	(void)state;
	wfp_rsv_progress_feed(r, st, 0, "vm.reserve", "applied", 0, NULL, NULL);
	ff(r, st, "vm.configure", "applied");
	ff(r, st, "vm.acquire", "applied");
	ff(r, st, "ip.reserve", "applied");
	ff(r, st, "ip.configure", "applied");
	ff(r, st, "dbvm.reserve", "applied");
	ff(r, st, "dbip.reserve", "running");
	wfp_rsv_progress_feed(r, st, 0, "dbip.reserve", "apply-failed", 1, NULL,
			      NULL);
	st_is(st, 3, WFP_RSV_NONE, WFP_RSV_NONE, 0, -1, WFP_RSV_RESERVE);

	ff(r, st, "vm.acquire", "reverting");
	st_is(st, 0, WFP_RSV_ACQUIRED, WFP_RSV_ACQUIRED, 0, WFP_RSV_POWEROFF,
	      -1);
	ff(r, st, "vm.acquire", "reverted");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF), -1, -1);
	ff(r, st, "vm.configure", "reverted");
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF) | BIT(WFP_RSV_UNCONFIGURE), -1, -1);
	ff(r, st, "vm.reserve", "reverting");
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF) | BIT(WFP_RSV_UNCONFIGURE),
	      WFP_RSV_UNRESERVE, -1);
	ff(r, st, "vm.reserve", "reverted");
	st_is(st, 0, WFP_RSV_NONE, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF) | BIT(WFP_RSV_UNCONFIGURE) |
		  BIT(WFP_RSV_UNRESERVE),
	      -1, -1);

	ff(r, st, "ip.configure", "skipped");
	st_is(st, 1, WFP_RSV_CONFIGURED, WFP_RSV_CONFIGURED, 0, -1, -1);
	ff(r, st, "ip.reserve", "reverting");
	st_is(st, 1, WFP_RSV_CONFIGURED, WFP_RSV_CONFIGURED, 0, WFP_RSV_DESTROY,
	      -1);
	ff(r, st, "ip.reserve", "reverted");
	st_is(st, 1, WFP_RSV_NONE, WFP_RSV_CONFIGURED, BIT(WFP_RSV_DESTROY), -1,
	      -1);

	ff(r, st, "dbvm.reserve", "reverting");
	wfp_rsv_progress_feed(r, st, 0, "dbvm.reserve", "revert-failed", 1,
			      NULL, "exit 1");
	st_is(st, 2, WFP_RSV_RESERVED, WFP_RSV_RESERVED, 0, -1,
	      WFP_RSV_UNRESERVE);
	/* the teardown after a failed revert takes it down */
	ft(r, st, "dbvm.unreserve", "applied");
	st_is(st, 2, WFP_RSV_NONE, WFP_RSV_RESERVED, BIT(WFP_RSV_UNRESERVE), -1,
	      -1);
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* The step that failed stays through the reverts that follow it (it is
 * why the item is undone, and what the rsv hash keeps as failed:NAME);
 * only a later apply of that same step clears it. */
static void test_progress_failed_kept(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);

	(void)state;
	ff(r, st, "vm.reserve", "applied");
	ff(r, st, "vm.configure", "running");
	wfp_rsv_progress_feed(r, st, 0, "vm.configure", "apply-failed", 1, NULL,
			      NULL);
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_RESERVED, 0, -1,
	      WFP_RSV_CONFIGURE);
	ff(r, st, "vm.reserve", "reverting");
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_RESERVED, 0, WFP_RSV_UNRESERVE,
	      WFP_RSV_CONFIGURE);
	ff(r, st, "vm.reserve", "reverted");
	st_is(st, 0, WFP_RSV_NONE, WFP_RSV_RESERVED, BIT(WFP_RSV_UNRESERVE), -1,
	      WFP_RSV_CONFIGURE);
	/* a retried fulfilment: another step applying keeps it, the same
	 * step applying clears it */
	ff(r, st, "vm.reserve", "applied");
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_RESERVED, BIT(WFP_RSV_UNRESERVE),
	      -1, WFP_RSV_CONFIGURE);
	ff(r, st, "vm.configure", "applied");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_CONFIGURED,
	      BIT(WFP_RSV_UNRESERVE), -1, -1);
	ff(r, st, "vm.acquire", "applied");
	/* a teardown that fails at poweroff; a retried one clears it */
	wfp_rsv_progress_feed(r, st, 1, "vm.poweroff", "apply-failed", 1, NULL,
			      NULL);
	st_is(st, 0, WFP_RSV_ACQUIRED, WFP_RSV_ACQUIRED, BIT(WFP_RSV_UNRESERVE),
	      -1, WFP_RSV_POWEROFF);
	ft(r, st, "vm.poweroff", "applied");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_UNRESERVE) | BIT(WFP_RSV_POWEROFF), -1, -1);
	/* a destroy item whose reserve failed and was never applied */
	wfp_rsv_progress_feed(r, st, 0, "ip.reserve", "apply-failed", 1, NULL,
			      NULL);
	ff(r, st, "ip.configure", "skipped");
	st_is(st, 1, WFP_RSV_NONE, WFP_RSV_NONE, 0, -1, WFP_RSV_RESERVE);
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* A step whose `running` entry was logged but whose action never ran (a
 * cancel came first: apply-failed, final, WFP_WF_NOT_RUN_ERROR) did not
 * fail: an expired or released pending reservation does not show it as
 * failed, in the fulfilment or in a teardown; a real failure does. */
static void test_progress_never_ran(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);

	(void)state;
	ff(r, st, "ip.reserve", "applied");
	ff(r, st, "ip.configure", "applied");
	ff(r, st, "ip.acquire", "running");
	wfp_rsv_progress_feed(r, st, 0, "ip.acquire", "apply-failed", 1, NULL,
			      WFP_WF_NOT_RUN_ERROR);
	st_is(st, 1, WFP_RSV_CONFIGURED, WFP_RSV_CONFIGURED, 0, -1, -1);
	ff(r, st, "ip.configure", "skipped");
	ff(r, st, "ip.reserve", "reverting");
	ff(r, st, "ip.reserve", "reverted");
	st_is(st, 1, WFP_RSV_NONE, WFP_RSV_CONFIGURED, BIT(WFP_RSV_DESTROY), -1,
	      -1);
	/* the same entry with another error is a failure */
	ff(r, st, "dbip.reserve", "running");
	wfp_rsv_progress_feed(r, st, 0, "dbip.reserve", "apply-failed", 1, NULL,
			      "exit 3");
	st_is(st, 3, WFP_RSV_NONE, WFP_RSV_NONE, 0, -1, WFP_RSV_RESERVE);
	/* in a teardown */
	ff(r, st, "vm.reserve", "applied");
	ft(r, st, "vm.unreserve", "running");
	wfp_rsv_progress_feed(r, st, 1, "vm.unreserve", "apply-failed", 1, NULL,
			      WFP_WF_NOT_RUN_ERROR);
	st_is(st, 0, WFP_RSV_RESERVED, WFP_RSV_RESERVED, 0, -1, -1);
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* A step that runs again clears the failure an earlier job left for it
 * (a retried teardown is `running: unconfigure`, not failed too); a
 * revert that failed but is tried again is no failure for good. */
static void test_progress_rerun_clears_failed(void **state)
{
	struct wfp_rsv *r = web_resolved();
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);

	(void)state;
	ff(r, st, "vm.reserve", "applied");
	ff(r, st, "vm.configure", "applied");
	ff(r, st, "vm.acquire", "applied");
	/* teardown 1: unconfigure fails for good */
	ft(r, st, "vm.poweroff", "applied");
	ft(r, st, "vm.unconfigure", "running");
	wfp_rsv_progress_feed(r, st, 1, "vm.unconfigure", "apply-failed", 1,
			      NULL, "exit 1");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF), -1, WFP_RSV_UNCONFIGURE);
	/* teardown 2 runs it again: running, not failed */
	ft(r, st, "vm.unconfigure", "running");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF), WFP_RSV_UNCONFIGURE, -1);
	/* ... and fails again: failed again */
	wfp_rsv_progress_feed(r, st, 1, "vm.unconfigure", "apply-failed", 1,
			      NULL, "exit 1");
	st_is(st, 0, WFP_RSV_CONFIGURED, WFP_RSV_ACQUIRED,
	      BIT(WFP_RSV_POWEROFF), -1, WFP_RSV_UNCONFIGURE);
	/* another step running keeps it */
	ft(r, st, "vm.poweroff", "running");
	assert_int_equal(st[0].failed, WFP_RSV_UNCONFIGURE);

	/* a revert that fails once, then reverts: no failure left */
	ff(r, st, "dbvm.reserve", "applied");
	ff(r, st, "dbvm.configure", "running");
	wfp_rsv_progress_feed(r, st, 0, "dbvm.configure", "apply-failed", 1,
			      NULL, "exit 2");
	ff(r, st, "dbvm.reserve", "reverting");
	ff(r, st, "dbvm.reserve", "revert-failed"); /* final 0 */
	st_is(st, 2, WFP_RSV_RESERVED, WFP_RSV_RESERVED, 0, -1,
	      WFP_RSV_CONFIGURE);
	ff(r, st, "dbvm.reserve", "reverting");
	ff(r, st, "dbvm.reserve", "reverted");
	st_is(st, 2, WFP_RSV_NONE, WFP_RSV_RESERVED, BIT(WFP_RSV_UNRESERVE), -1,
	      WFP_RSV_CONFIGURE);
	wfp_rsv_progress_free(r, st);
	wfp_rsv_free(r);
}

/* ------------------------------------------------------------------ */
/* The plan                                                            */
/* ------------------------------------------------------------------ */

/* A plan read back is the same reservation (and writes the same text);
 * the fulfilment payload from it is the same. */
static void test_plan_round_trip(void **state)
{
	struct wfp_rsv *r = web_resolved(), *b = NULL;
	char *plan = wfp_rsv_plan(r), *plan2, *p1, *p2;

	(void)state;
	assert_non_null(plan);
	if (wfp_rsv_plan_parse(plan, strlen(plan), &b, err, sizeof(err)) != 0)
		fail_msg("plan refused: %s (%s)", err, plan);
	plan2 = wfp_rsv_plan(b);
	assert_string_equal(plan, plan2);
	assert_string_equal(b->name, r->name);
	assert_int_equal(b->ttl_ms, 60000);
	assert_int_equal(b->max_attempts, 2);
	assert_int_equal(b->nitems, r->nitems);
	assert_int_equal(b->nsubs, 2);
	assert_int_equal(b->sub_parent[1], 0);
	assert_int_equal(b->nneeds, 2);
	assert_int_equal(b->needs[0].amount, 5);
	for (int i = 0; i < r->nitems; i++) {
		assert_string_equal(b->items[i].name, r->items[i].name);
		assert_string_equal(b->items[i].sub, r->items[i].sub);
		assert_string_equal(b->items[i].args, r->items[i].args);
		assert_int_equal(b->items[i].attempts, r->items[i].attempts);
		for (int s = 0; s < WFP_RSV_STEPS; s++)
			if (r->items[i].act[s])
				assert_string_equal(b->items[i].act[s],
						    r->items[i].act[s]);
			else
				assert_null(b->items[i].act[s]);
	}
	p1 = wfp_rsv_fulfil_payload(r, "r1", err, sizeof(err));
	p2 = wfp_rsv_fulfil_payload(b, "r1", err, sizeof(err));
	assert_non_null(p1);
	assert_non_null(p2);
	assert_string_equal(p1, p2);
	free(p1), free(p2), free(plan), free(plan2);
	wfp_rsv_free(b);
	wfp_rsv_free(r);
}

/* Asserts that plan text s (quotes as jq) is refused holding want. */
static void plan_refuse(const char *s, const char *want)
{
	struct wfp_rsv *r = (struct wfp_rsv *)1;
	char *doc = jq(s);

	if (wfp_rsv_plan_parse(doc, strlen(doc), &r, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", s);
	assert_null(r);
	if (strstr(err, want) == NULL)
		fail_msg("message '%s' lacks '%s'", err, want);
	free(doc);
}

#define PITEM(sub, acts)                                                       \
	"{'name': 'a', 'pool': 'p', 'amount': 1, 'class': 'c', 'sub': " sub    \
	", 'args': {}, 'timeout_ms': 0, 'retry': {'attempts': 1,"              \
	" 'backoff_ms': 0}, 'actions': " acts "}"
#define PACTS "{" ACTS3 ", 'destroy': ['/d']}"

/* A plan that is not one wfp_rsv_plan writes is refused. */
static void test_plan_refusals(void **state)
{
	struct wfp_rsv *r = NULL;
	char *doc =
	    jq("{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1, 'subs': [],"
	       " 'items': [" PITEM("''", PACTS) "]}");

	(void)state;
	assert_int_equal(
	    wfp_rsv_plan_parse(doc, strlen(doc), &r, err, sizeof(err)), 0);
	assert_int_equal(r->ttl_ms, 5);
	wfp_rsv_free(r);
	free(doc);
	plan_refuse("{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1, 'subs': [],"
		    " 'items': [" PITEM("'s'", PACTS) "]}",
		    "plan: item 'a': sub is not a sub-reservation");
	plan_refuse("{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1, 'subs': [],"
		    " 'items': [" PITEM("''", "{" ACTS3 "}") "]}",
		    "plan: item 'a': has no undo");
	plan_refuse("{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1, 'subs': [],"
		    " 'items': [" PITEM("''", "[]") "]}",
		    "plan: item 'a': actions is not an object");
	plan_refuse("{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1,"
		    " 'subs': [{'name': 's', 'parent': 't'}],"
		    " 'items': [" PITEM("'s'", PACTS) "]}",
		    "plan: sub-reservation 's': parent is not");
	plan_refuse("{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1, 'subs': [],"
		    " 'items': []}",
		    "plan: no items");
	plan_refuse("{'name': 'x', 'ttl_ms': 5, 'subs': [], 'items': []}",
		    "plan: no ttl_ms or max_attempts");
	plan_refuse("{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1, 'subs': [],"
		    " 'items': [], 'extra': 1}",
		    "plan: unknown key 'extra'");
	plan_refuse("[]", "plan is not a JSON object");

	/* an args value over WFP_WF_INPUT_MAX (no file could hold one) */
	{
		struct buf b = {0};

		bprintf(&b, "{'name': 'x', 'ttl_ms': 5, 'max_attempts': 1,"
			    " 'subs': [], 'items': [{'name': 'a', 'pool': 'p',"
			    " 'amount': 1, 'class': 'c', 'args': {'v': '");
		for (int i = 0; i <= WFP_WF_INPUT_MAX; i++)
			bprintf(&b, "x");
		bprintf(&b, "'}}]}");
		plan_refuse(b.s, "item 'a': args: 'v' is longer than 65536 "
				 "bytes");
		free(b.s);
	}
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

/* Makes the class folder. */
static int setup(void **state)
{
	(void)state;
	return mkdtemp(classdir) ? 0 : -1;
}

/* Removes the class folder and what the tests left in it. */
static int teardown(void **state)
{
	(void)state;
	class_remove("vm.json");
	class_remove("ip.json");
	class_remove("c.json");
	return rmdir(classdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_ids_and_pool_names),
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_refusals),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_class_good),
	    cmocka_unit_test(test_class_refusals),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_fulfil_payload),
	    cmocka_unit_test(test_fulfil_escapes),
	    cmocka_unit_test(test_fulfil_refusals),
	    cmocka_unit_test(test_teardown_payload),
	    cmocka_unit_test(test_teardown_outputs),
	    cmocka_unit_test(test_teardown_outputs_too_big),
	    cmocka_unit_test(test_progress_forward),
	    cmocka_unit_test(test_progress_undo),
	    cmocka_unit_test(test_progress_failed_kept),
	    cmocka_unit_test(test_progress_never_ran),
	    cmocka_unit_test(test_progress_rerun_clears_failed),
	    cmocka_unit_test(test_plan_round_trip),
	    cmocka_unit_test(test_plan_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
