/* Unit tests of the workflow parser and validator (wfp/workflow.h): what
 * it refuses (each message names the task or place and the problem),
 * the edges it makes, and its speed on 10,000 tasks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Parses s (quotes as in jq); returns the workflow, fails the test when
 * it is refused. */
static struct wfp_workflow *parse_ok(const char *s)
{
	struct wfp_workflow *wf = NULL;
	char *doc = jq(s);
	int rc = wfp_workflow_parse(doc, strlen(doc), &wf, err, sizeof(err));

	if (rc != 1)
		fail_msg("refused: %s", err);
	free(doc);
	return wf;
}

/* Asserts that s (quotes as in jq) is refused with a message holding
 * want1 and want2 (NULL: anything). */
static void refuse(const char *s, const char *want1, const char *want2)
{
	struct wfp_workflow *wf = (struct wfp_workflow *)1;
	char *doc = jq(s);
	int rc = wfp_workflow_parse(doc, strlen(doc), &wf, err, sizeof(err));

	if (rc != -1)
		fail_msg("accepted: %s", s);
	assert_null(wf);
	if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
		fail_msg("message '%s' lacks '%s' / '%s'", err, want1,
			 want2 ? want2 : "");
	assert_null(strchr(err, '\n'));
	rc = wfp_workflow_check(doc, strlen(doc), err, sizeof(err));
	assert_int_equal(rc, -1);
	free(doc);
}

/* Index of task name in wf; fails the test when it is missing. */
static int idx(const struct wfp_workflow *wf, const char *name)
{
	int t = wfp_workflow_find(wf, name);

	if (t < 0)
		fail_msg("no task '%s'", name);
	return t;
}

/* The deps of task name as "a,b" (names, ascending indices). */
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

/* 1 when task a is an ancestor of task b (follows deps). */
static int before(const struct wfp_workflow *wf, int a, int b)
{
	const struct wfp_wf_task *k = &wf->tasks[b];

	for (int i = 0; i < k->ndeps; i++)
		if (k->deps[i] == a || before(wf, a, k->deps[i]))
			return 1;
	return 0;
}

/* Checks that next is the exact inverse of deps, each ascending. */
static void check_next(const struct wfp_workflow *wf)
{
	long in = 0, out = 0;

	for (int t = 0; t < wf->ntasks; t++) {
		const struct wfp_wf_task *k = &wf->tasks[t];

		for (int i = 0; i < k->ndeps; i++) {
			const struct wfp_wf_task *d = &wf->tasks[k->deps[i]];
			int found = 0;

			if (i > 0)
				assert_true(k->deps[i - 1] < k->deps[i]);
			for (int j = 0; j < d->nnext; j++)
				found += d->next[j] == t;
			assert_int_equal(found, 1);
		}
		in += k->ndeps, out += k->nnext;
	}
	assert_int_equal(in, out);
}

/* A task doc fragment: 'name' with a noop apply and extra fields. */
#define T(name, extra) "{'task':'" name "','apply':['true']" extra "}"
#define WF(body)       "{'workflow':" body "}"

/* ------------------------------------------------------------------ */
/* Documents that parse                                                */
/* ------------------------------------------------------------------ */

static const char design_doc[] =
    "{'inputs': {'region': 'eu-1'},"
    " 'workflow': {'linear': ["
    "  {'task': 'ip', 'apply': ['fake-cloud', 'ip', 'create'],"
    "   'revert': ['fake-cloud', 'ip', 'delete'], 'provides': ['ip']},"
    "  {'unordered': ["
    "    {'task': 'volume', 'apply': ['fake-cloud', 'volume', 'create'],"
    "     'revert': ['fake-cloud', 'volume', 'delete'], 'provides': "
    "['volume']},"
    "    {'task': 'dns', 'apply': ['fake-cloud', 'dns', 'add'], "
    "'requires': ['ip']}]},"
    "  {'graph': ["
    "    {'task': 'vm', 'apply': {'plugin': 'noop'}, 'requires': ['ip', "
    "'volume'], 'provides': ['vm']},"
    "    {'task': 'boot', 'apply': ['fake-cloud', 'vm', 'boot'], "
    "'requires': ['vm'],"
    "     'timeout_ms': 60000, 'retry': {'attempts': 3, 'backoff_ms': "
    "500}}]}]}}";

/* The example of DESIGN.md: tasks, actions and edges. */
static void test_design_example(void **state)
{
	struct wfp_workflow *wf = parse_ok(design_doc);
	const struct wfp_wf_task *vm, *boot, *ip;

	(void)state;
	assert_int_equal(wf->ntasks, 5);
	assert_string_equal(wf->tasks[0].name, "ip");
	assert_string_equal(wf->tasks[4].name, "boot");
	assert_int_equal(wfp_workflow_find(wf, "boot"), 4);
	assert_int_equal(wfp_workflow_find(wf, "bo"), -1);
	assert_int_equal(wfp_workflow_find(NULL, "boot"), -1);
	assert_string_equal(deps(wf, "ip"), "");
	assert_string_equal(deps(wf, "volume"), "ip");
	assert_string_equal(deps(wf, "dns"), "ip");
	assert_string_equal(deps(wf, "vm"), "volume,dns");
	assert_string_equal(deps(wf, "boot"), "vm");
	assert_true(before(wf, idx(wf, "ip"), idx(wf, "vm")));
	assert_true(before(wf, idx(wf, "volume"), idx(wf, "vm")));
	assert_false(before(wf, idx(wf, "dns"), idx(wf, "volume")));
	check_next(wf);
	ip = &wf->tasks[idx(wf, "ip")];
	assert_int_equal(ip->apply.kind, WFP_ACTION_EXEC);
	assert_int_equal(ip->apply.argc, 3);
	assert_string_equal(ip->apply.argv[2], "create");
	assert_null(ip->apply.argv[3]);
	assert_int_equal(ip->revert.kind, WFP_ACTION_EXEC);
	assert_string_equal(ip->provides[0], "ip");
	vm = &wf->tasks[idx(wf, "vm")];
	assert_int_equal(vm->apply.kind, WFP_ACTION_PLUGIN);
	assert_string_equal(vm->apply.plugin, "noop");
	assert_string_equal(vm->apply.args, "{}");
	assert_int_equal(vm->revert.kind, WFP_ACTION_NONE);
	assert_int_equal(vm->attempts, 1);
	boot = &wf->tasks[idx(wf, "boot")];
	assert_int_equal(boot->timeout_ms, 60000);
	assert_int_equal(boot->attempts, 3);
	assert_int_equal(boot->backoff_ms, 500);
	assert_int_equal(wf->ninputs, 1);
	assert_string_equal(wf->inputs[0].name, "region");
	assert_string_equal(wf->inputs[0].value, "eu-1");
	wfp_workflow_free(wf);
}

/* A payload without workflow is a plain job: 0, nothing made. */
static void test_no_workflow(void **state)
{
	struct wfp_workflow *wf = (struct wfp_workflow *)1;
	const char *doc = "{\"inputs\":5,\"x\":[1,2]}";

	(void)state;
	assert_int_equal(
	    wfp_workflow_parse(doc, strlen(doc), &wf, err, sizeof(err)), 0);
	assert_null(wf);
	assert_int_equal(wfp_workflow_check(doc, strlen(doc), err, sizeof(err)),
			 0);
	assert_int_equal(wfp_workflow_parse("[1]", 3, &wf, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "payload is not a JSON object"));
	assert_int_equal(wfp_workflow_parse("{", 1, &wf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "payload is not a JSON object"));
}

/* Patterns nest; edges follow each pattern's rule. */
static void test_nested_patterns(void **state)
{
	struct wfp_workflow *wf;

	(void)state;
	/* linear of unordered of linear: c after a and b's chain ends. */
	wf = parse_ok(WF("{'linear':[{'unordered':[{'linear':[" T(
	    "a1", "") "," T("a2", "") "]}," T("b", "") "]}," T("c", "") "]}"));
	assert_string_equal(deps(wf, "a1"), "");
	assert_string_equal(deps(wf, "a2"), "a1");
	assert_string_equal(deps(wf, "b"), "");
	assert_string_equal(deps(wf, "c"), "a2,b");
	check_next(wf);
	wfp_workflow_free(wf);
	/* graph order does not follow document order; after adds edges. */
	wf = parse_ok(WF("{'graph':[" T("boot", ",'requires':['vm']") "," T(
	    "vm", ",'provides':['vm']") "," T("log",
					      ",'after':['boot']") "]}"));
	assert_string_equal(deps(wf, "boot"), "vm");
	assert_string_equal(deps(wf, "vm"), "");
	assert_string_equal(deps(wf, "log"), "boot");
	wfp_workflow_free(wf);
	/* a nested pattern in a graph waits as a whole: its entries wait
	 * for the provider, its later tasks through them. */
	wf = parse_ok(WF("{'graph':[{'linear':[" T("use", ",'requires':['x']") "," T(
	    "more",
	    ",'requires':['x']") "]},{'unordered':[" T("mk",
						       ",'provides'"
						       ":['x']") "," T("other",
								       "") "]}]"
									   "}"));
	assert_string_equal(deps(wf, "use"), "mk");
	assert_string_equal(deps(wf, "more"), "use");
	assert_string_equal(deps(wf, "other"), "");
	check_next(wf);
	wfp_workflow_free(wf);
}

/* A graph inside a graph: the inner one is a member of the outer. */
static void test_graph_in_graph(void **state)
{
	struct wfp_workflow *wf;

	(void)state;
	wf = parse_ok(
	    WF("{'graph':[" T("top", ",'provides':['t']") ",{'graph':[" T(
		"in1",
		",'requires':['t'],'provides':['i']") "," T("in2",
							    ",'requires':['"
							    "i']") "]}," T("las"
									   "t",
									   ",'"
									   "req"
									   "uir"
									   "es'"
									   ":"
									   "['"
									   "i'"
									   "]") "]}"));
	assert_string_equal(deps(wf, "in1"), "top");
	assert_string_equal(deps(wf, "in2"), "in1");
	assert_string_equal(deps(wf, "last"), "in1");
	check_next(wf);
	wfp_workflow_free(wf);
}

/* Requires met through an ancestor that is not a direct dep. */
static void test_requires_ancestor(void **state)
{
	struct wfp_workflow *wf;

	(void)state;
	/* d requires x; e (in d's member) provides x too, so the member does
	 * not wait for a; a reaches d through b (after a). */
	static const char doc[] =
	    "{'workflow': {'graph': ["
	    " {'task': 'a', 'apply': ['x'], 'provides': ['x']},"
	    " {'task': 'b', 'apply': ['x'], 'after': ['a'], 'provides': ['y']},"
	    " {'unordered': ["
	    "  {'task': 'c', 'apply': ['x'], 'requires': ['y']},"
	    "  {'task': 'd', 'apply': ['x'], 'requires': ['x']},"
	    "  {'task': 'e', 'apply': ['x'], 'provides': ['x']}]}]}}";

	wf = parse_ok(doc);
	assert_string_equal(deps(wf, "d"), "b");
	assert_true(before(wf, idx(wf, "a"), idx(wf, "d")));
	wfp_workflow_free(wf);
	/* Many data names (more than 64: several chunks of the check). */
	struct buf b = {0};
	bprintf(&b, "{'workflow':{'linear':[");
	for (int i = 0; i < 200; i++)
		bprintf(&b,
			"%s{'task':'p%d','apply':['true'],'provides':['d%d']}",
			i ? "," : "", i, i);
	bprintf(&b, ",{'task':'mid','apply':['true']},{'task':'use','apply':"
		    "['true'],'requires':[");
	for (int i = 0; i < 64; i++)
		bprintf(&b, "%s'd%d'", i ? "," : "", i * 3);
	bprintf(&b, "]},{'task':'use2','apply':['true'],'requires':[");
	for (int i = 0; i < 64; i++)
		bprintf(&b, "%s'd%d'", i ? "," : "", i * 3 + 1);
	bprintf(&b, "]}]}}");
	wf = parse_ok(b.s);
	assert_string_equal(deps(wf, "use"), "mid");
	assert_string_equal(deps(wf, "use2"), "use");
	wfp_workflow_free(wf);
	free(b.s);
}

/* Empty pattern arrays are allowed: nothing to run, exits pass on. */
static void test_empty_patterns(void **state)
{
	struct wfp_workflow *wf;

	(void)state;
	wf = parse_ok(WF("{'linear':[" T("a", "") ",{'unordered':[]},{'graph':["
						  "]}," T("b", "") "]}"));
	assert_string_equal(deps(wf, "b"), "a");
	wfp_workflow_free(wf);
	wf = parse_ok(WF("{'linear':[]}"));
	assert_int_equal(wf->ntasks, 0);
	wfp_workflow_free(wf);
	/* A single task is a workflow too. */
	wf = parse_ok(WF(T("only", "")));
	assert_int_equal(wf->ntasks, 1);
	wfp_workflow_free(wf);
}

/* A task's own inputs: the rules of payload.inputs, a message naming
 * the task; they satisfy the task's own requires (and no other's). */
static void test_task_inputs(void **state)
{
	struct wfp_workflow *wf;
	struct buf b = {0};

	(void)state;
	wf = parse_ok(WF(
	    "{'linear':[" T("a", ",'inputs':{'s':'a b','n':42,"
				 "'o':{'k': [1, 2.50]}}") "," T("b", "") "]}"));
	assert_int_equal(wf->tasks[0].ninputs, 3);
	assert_string_equal(wf->tasks[0].inputs[0].name, "s");
	assert_string_equal(wf->tasks[0].inputs[0].value, "a b");
	assert_string_equal(wf->tasks[0].inputs[1].value, "42");
	assert_string_equal(wf->tasks[0].inputs[2].value, "{\"k\":[1,2.50]}");
	assert_int_equal(wf->tasks[1].ninputs, 0);
	assert_null(wf->tasks[1].inputs);
	assert_int_equal(wf->ninputs, 0);
	wfp_workflow_free(wf);

	wf = parse_ok(WF(T("a", ",'inputs':{'ip':'1'},'requires':['ip']")));
	assert_int_equal(wf->tasks[0].nrequires, 1);
	wfp_workflow_free(wf);
	refuse(WF("{'linear':[" T("a", ",'inputs':{'ip':'1'}") "," T(
		   "b", ",'requires':['ip']") "]}"),
	       "task 'b': requires 'ip', which no task provides", NULL);

	refuse(WF(T("a", ",'inputs':[1]")), "task 'a': inputs is not an object",
	       NULL);
	refuse(WF(T("a", ",'inputs':{'a-b':1}")),
	       "task 'a': inputs: data name 'a-b' is not 1-63", NULL);
	bprintf(&b, "{'workflow':{'task':'a','apply':['true'],'inputs':{");
	for (int i = 0; i <= WFP_WF_INPUTS_MAX; i++)
		bprintf(&b, "%s'k%d':%d", i ? "," : "", i, i);
	bprintf(&b, "}}}");
	refuse(b.s, "task 'a': inputs has 257 keys, more than 256", NULL);
	b.n = 0;
	bprintf(&b, "{'workflow':{'task':'a','apply':['true'],'inputs':{'v':'");
	for (int i = 0; i <= WFP_WF_INPUT_MAX; i++)
		bprintf(&b, "x");
	bprintf(&b, "'}}}");
	refuse(b.s, "task 'a': input 'v' is longer than 65536 bytes", NULL);
	free(b.s);
	/* payload.inputs keeps its own messages */
	refuse("{'inputs':[1],'workflow':" T("a", "") "}",
	       "inputs is not an object", NULL);
}

/* payload.inputs: strings as they are, anything else as compact JSON. */
static void test_inputs(void **state)
{
	struct wfp_workflow *wf;

	(void)state;
	wf = parse_ok("{'inputs':{'s':'a b','n':42,'f':1.5,'o':{'k': [1, "
		      "true, null]},'z':null,'t':true},"
		      "'workflow':" T("t", ",'requires':['s','o']") "}");
	assert_int_equal(wf->ninputs, 6);
	assert_string_equal(wf->inputs[0].name, "s");
	assert_string_equal(wf->inputs[0].value, "a b");
	assert_string_equal(wf->inputs[1].value, "42");
	assert_string_equal(wf->inputs[2].value, "1.5");
	assert_string_equal(wf->inputs[3].value, "{\"k\":[1,true,null]}");
	assert_string_equal(wf->inputs[4].value, "null");
	assert_string_equal(wf->inputs[5].value, "true");
	wfp_workflow_free(wf);
	/* plugin args as compact JSON in document order */
	wf = parse_ok(WF(
	    "{'task':'p','apply':{'plugin':'sleep','args':{'ms': 5, 'a': 'b'}},"
	    "'revert':{'plugin':'fail-x_1'},'locks':['db/1','net:a']}"));
	assert_string_equal(wf->tasks[0].apply.args, "{\"ms\":5,\"a\":\"b\"}");
	assert_string_equal(wf->tasks[0].revert.plugin, "fail-x_1");
	assert_int_equal(wf->tasks[0].nlocks, 2);
	assert_string_equal(wf->tasks[0].locks[1], "net:a");
	wfp_workflow_free(wf);
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */
/* ------------------------------------------------------------------ */

/* Unknown keys, shapes of patterns. */
static void test_refuse_shapes(void **state)
{
	(void)state;
	refuse(WF("{'linear':[" T("a", ",'aply':1") "]}"), "task 'a'",
	       "unknown key 'aply'");
	refuse(
	    WF("{'linear':[" T("a", ",'retry':{'attempts':2,'tries':3}") "]}"),
	    "task 'a': retry", "unknown key 'tries'");
	refuse(
	    WF("{'linear':[{'task':'a','apply':{'plugin':'noop','arg':{}}}]}"),
	    "task 'a': apply", "unknown key 'arg'");
	refuse(WF("{'linear':[" T("a", "") ",{'linear':[],'graph':[]}]}"),
	       "workflow.linear[1]", "one key");
	refuse(WF("{'linear':[" T("a", "") ",{'linear':[{}]}]}"),
	       "workflow.linear[1].linear[0]", "empty object");
	refuse(
	    WF("{'linear':[" T("a", "") ",{'graph':[" T("b", "") ",{'serial':"
								 "[]}]}]}"),
	    "workflow.linear[1].graph[1]", "unknown pattern 'serial'");
	refuse(WF("{'linear':[" T("a", "") ",{'apply':['x']}]}"),
	       "workflow.linear[1]", "without a \"task\" name");
	refuse(WF("{'linear':[" T("a", "") ",7]}"), "workflow.linear[1]",
	       "is not an object");
	refuse(WF("{'unordered':{}}"), "workflow", "unordered is not an array");
	refuse(WF("[]"), "workflow", "is not an object");
	refuse("{'workflow':null}", "workflow", "is not an object");
}

/* Names of tasks, data, plugins and locks. */
static void test_refuse_names(void **state)
{
	(void)state;
	refuse(WF("{'linear':[" T("a", "") "," T("a", "") "]}"),
	       "workflow.linear[1]", "task 'a' is named twice");
	refuse(WF("{'linear':[{'unordered':[" T("a", "") "]},{'graph':[" T(
		   "a", "") "]}]}"),
	       "task 'a' is named twice", NULL);
	refuse(WF("{'linear':[" T("a b", "") "]}"), "workflow.linear[0]",
	       "task name 'a b' is not");
	refuse(WF("{'linear':[{'task':5,'apply':['x']}]}"),
	       "workflow.linear[0]", "task name is not a string");
	refuse(WF(T("a", ",'provides':['ip-1']")), "task 'a': provides",
	       "data name 'ip-1' is not");
	refuse(WF(T("a", ",'requires':['x','x']")), "task 'a'",
	       "requires names 'x' twice");
	refuse(WF("{'task':'a','apply':{'plugin':'No'}}"), "task 'a'",
	       "plugin name 'No' is not");
	refuse(WF("{'task':'a','apply':{'args':{}}}"), "task 'a'",
	       "apply has no plugin name");
	refuse(WF("{'task':'a','apply':{'plugin':'x','args':[]}}"), "task 'a'",
	       "args is not an object");
	refuse(WF(T("a", ",'locks':['ok','bad name']")), "task 'a': locks",
	       "lock name 'bad name'");
	refuse(WF(T("a", ",'locks':['l','l']")), "task 'a'",
	       "locks names 'l' twice");
	refuse(
	    WF(T("a", ",'locks':['a','b','c','d','e','f','g','h','i','j','k',"
		      "'l','m','n','o','p','q']")),
	    "task 'a'", "locks has 17 names, more than 16");
	refuse("{'inputs':{'a-b':1},'workflow':" T("a", "") "}", "inputs",
	       "data name 'a-b' is not");
	refuse("{'inputs':[1],'workflow':" T("a", "") "}",
	       "inputs is not an object", NULL);
}

/* apply and revert. */
static void test_refuse_actions(void **state)
{
	struct buf b = {0};

	(void)state;
	refuse(WF("{'task':'a','revert':['x']}"), "task 'a'",
	       "has a revert but no apply");
	refuse(WF("{'task':'a'}"), "task 'a'", "has no apply");
	refuse(WF("{'task':'a','apply':[]}"), "task 'a'",
	       "apply is an empty argv");
	refuse(WF("{'task':'a','apply':['x',3]}"), "task 'a'",
	       "apply[1] is not a string");
	refuse(WF("{'task':'a','apply':['x'],'revert':['x','']}"), "task 'a'",
	       "revert[1] is empty");
	refuse(WF("{'task':'a','apply':'rm -rf /'}"), "task 'a'",
	       "neither an argv array nor a plugin object");
	/* 257 words */
	bprintf(&b, "{'workflow':{'task':'a','apply':[");
	for (int i = 0; i < 257; i++)
		bprintf(&b, "%s'w'", i ? "," : "");
	bprintf(&b, "]}}");
	refuse(b.s, "task 'a'", "apply has 257 words, more than 256");
	/* a word of 4097 bytes (4096 is fine) */
	b.n = 0;
	bprintf(&b, "{'workflow':{'task':'a','apply':['%04096d']}}", 0);
	wfp_workflow_free(parse_ok(b.s));
	b.n = 0;
	bprintf(&b, "{'workflow':{'task':'a','apply':['%04097d']}}", 0);
	refuse(b.s, "task 'a'", "apply[0] is longer than 4096 bytes");
	free(b.s);
}

/* timeout_ms and retry. */
static void test_refuse_numbers(void **state)
{
	(void)state;
	refuse(WF(T("a", ",'timeout_ms':-1")), "task 'a'",
	       "timeout_ms -1 is not in 0..86400000");
	refuse(WF(T("a", ",'timeout_ms':86400001")), "task 'a'", "timeout_ms");
	refuse(WF(T("a", ",'timeout_ms':1.5")), "task 'a'",
	       "timeout_ms is not an integer");
	refuse(WF(T("a", ",'retry':{'attempts':0}")), "task 'a'",
	       "retry.attempts 0 is not in 1..100");
	refuse(WF(T("a", ",'retry':{'attempts':101}")), "task 'a'",
	       "retry.attempts 101 is not in 1..100");
	/* a number too long for the message is shown cut, with "..." (not
	 * as another number); exponents and fractions are no integers, -0
	 * is 0 */
	refuse(WF(T("a", ",'timeout_ms':123456789012345678901234567890123456"
			 "7890")),
	       "task 'a'",
	       "timeout_ms 1234567890123456789012345678... is not in "
	       "0..86400000");
	refuse(WF(T("a", ",'timeout_ms':1e400")), "task 'a'",
	       "timeout_ms is not an integer");
	refuse(WF(T("a", ",'timeout_ms':1.0")), "task 'a'",
	       "timeout_ms is not an integer");
	{
		char *doc = jq(WF(T("a", ",'timeout_ms':-0")));
		struct wfp_workflow *wf = NULL;

		assert_int_equal(
		    wfp_workflow_parse(doc, strlen(doc), &wf, err, sizeof(err)),
		    1);
		assert_int_equal(wf->tasks[0].timeout_ms, 0);
		wfp_workflow_free(wf);
		free(doc);
	}
	refuse(WF(T("a", ",'retry':{'backoff_ms':3600001}")), "task 'a'",
	       "retry.backoff_ms 3600001 is not in 0..3600000");
	refuse(WF(T("a", ",'retry':3")), "task 'a'", "retry is not an object");
}

/* Graph rules: cycles, after, requires. */
static void test_refuse_graph(void **state)
{
	(void)state;
	refuse(
	    WF("{'graph':[" T("x", "") "," T(
		"a",
		",'requires':['q'],'provi"
		"des':['p']") "," T("b",
				    ",'requires':['p'],'provides':['q']") "]}"),
	    "cycle", "'a' waits for 'b' waits for 'a'");
	refuse(WF("{'graph':[" T("a", ",'after':['c']") "," T(
		   "b", ",'after':['a']") "," T("c", ",'after':['b']") "]}"),
	       "cycle: 'a' waits for 'c' waits for 'b' waits for 'a'", NULL);
	refuse(WF("{'graph':[" T("a", ",'after':['nope']") "]}"), "task 'a'",
	       "after names 'nope', which is not a task");
	refuse(WF("{'linear':[" T("z", "") ",{'graph':[" T(
		   "a", ",'after':['z']") "]}"
					  "]}"),
	       "task 'a'", "after names 'z', which is not in the same graph");
	refuse(WF("{'graph':[" T("a", ",'after':['a']") "]}"), "task 'a'",
	       "after names the task itself");
	refuse(WF("{'linear':[" T("a", ",'after':['b']") "," T("b", "") "]}"),
	       "task 'a'", "after is allowed only on a task that is a member");
	refuse(WF("{'linear':[" T("a", ",'requires':['ip']") "]}"), "task 'a'",
	       "requires 'ip', which no task provides and payload.inputs");
	refuse(WF("{'linear':[" T("a", ",'requires':['ip']") "," T(
		   "b", ",'provides':['ip']") "]}"),
	       "task 'a'", "requires 'ip', but no task that runs before it");
	refuse(WF("{'unordered':[" T("a", ",'provides':['ip']") "," T(
		   "b", ",'requires':['ip']") "]}"),
	       "task 'b'", "('a' does not run before it)");
	refuse(WF(T("a", ",'requires':['x'],'provides':['x']")), "task 'a'",
	       "which only the task itself provides");
	/* the member provides x inside itself, so it does not wait for a;
	 * d is not after e either */
	refuse(WF("{'graph':[" T("a", ",'provides':['x']") ",{'unordered':[" T(
		   "d", ",'requires':['x']") "," T("e",
						   ",'provides':['x']") "]}]}"),
	       "task 'd'", "requires 'x', but no task that runs before it");
}

/* The limits of the header. */
static void test_refuse_limits(void **state)
{
	struct buf b = {0};

	(void)state;
	/* depth: 32 patterns are fine, 33 are not */
	for (int depth = 32; depth <= 33; depth++) {
		b.n = 0;
		bprintf(&b, "{'workflow':");
		for (int i = 0; i < depth; i++)
			bprintf(&b, "{'linear':[");
		bprintf(&b, T("a", ""));
		for (int i = 0; i < depth; i++)
			bprintf(&b, "]}");
		bprintf(&b, "}");
		if (depth == 32)
			wfp_workflow_free(parse_ok(b.s));
		else
			refuse(b.s, "workflow.linear[0]",
			       "patterns nest deeper than 32 levels");
	}
	/* tasks */
	b.n = 0;
	bprintf(&b, "{'workflow':{'unordered':[");
	for (int i = 0; i <= WFP_WF_TASKS_MAX; i++)
		bprintf(&b, "%s{'task':'t%d','apply':['x']}", i ? "," : "", i);
	bprintf(&b, "]}}");
	refuse(b.s, "workflow has more than 10000 tasks", NULL);
	/* edges: 450 exits times 450 entries */
	b.n = 0;
	bprintf(&b, "{'workflow':{'linear':[{'unordered':[");
	for (int i = 0; i < 900; i++)
		bprintf(&b, "%s{'task':'t%d','apply':['x']}%s",
			i == 0 || i == 450 ? "" : ",", i,
			i == 449 ? "]},{'unordered':[" : "");
	bprintf(&b, "]}]}}");
	refuse(b.s, "more than 200000 dependency edges", NULL);
	/* names in one list */
	b.n = 0;
	bprintf(&b, "{'workflow':{'task':'a','apply':['x'],'provides':[");
	for (int i = 0; i < 65; i++)
		bprintf(&b, "%s'd%d'", i ? "," : "", i);
	bprintf(&b, "]}}");
	refuse(b.s, "task 'a'", "provides has 65 names, more than 64");
	/* inputs */
	b.n = 0;
	bprintf(&b, "{'inputs':{");
	for (int i = 0; i < 257; i++)
		bprintf(&b, "%s'i%d':1", i ? "," : "", i);
	bprintf(&b, "},'workflow':{'task':'a','apply':['x']}}");
	refuse(b.s, "inputs has 257 keys, more than 256", NULL);
	b.n = 0;
	bprintf(&b,
		"{'inputs':{'big':'%065537d'},'workflow':{'task':'a','apply'"
		":['x']}}",
		0);
	refuse(b.s, "input 'big' is longer than 65536 bytes", NULL);
	free(b.s);
}

/* Asserts that doc is refused, and that with every room from 1 to 300
 * bytes the message fits, and from 160 (the CLI has 256) starts with
 * head and ends with tail: a long place or value is cut in its middle,
 * never the problem at the end. */
static void refuse_fits(const char *doc, const char *head, const char *tail)
{
	struct wfp_workflow *wf = NULL;
	char small[300];
	size_t hl = strlen(head), tl = strlen(tail);

	for (size_t n = 1; n <= sizeof(small); n++) {
		memset(small, 'X', sizeof(small));
		assert_int_equal(
		    wfp_workflow_parse(doc, strlen(doc), &wf, small, n), -1);
		if (memchr(small, '\0', n) == NULL)
			fail_msg("room %zu: no NUL", n);
		if (n < 160)
			continue;
		size_t ml = strlen(small);
		if (ml < hl + tl || strncmp(small, head, hl) != 0 ||
		    strcmp(small + ml - tl, tail) != 0)
			fail_msg("room %zu: '%s' is not '%s...%s'", n, small,
				 head, tail);
	}
	if (wfp_workflow_parse(doc, strlen(doc), &wf, small, 256) == -1)
		printf("# %s\n", small);
}

/* A member's text as the document spells it, and the refusals. */
static void test_member_compact(void **state)
{
	const char doc[] = "{ \"name\": \"x\", \"payload\" : { \"v\" : [ 1 , "
			   "2.50, 0.1, -0E-0, \"\\u0061 \\/\" ] } }";
	char *t;

	(void)state;
	t = wfp_json_member_compact(doc, sizeof(doc) - 1, "payload", err,
				    sizeof(err));
	assert_non_null(t);
	assert_string_equal(t, "{\"v\":[1,2.50,0.1,-0E-0,\"\\u0061 \\/\"]}");
	free(t);
	assert_null(wfp_json_member_compact(doc, sizeof(doc) - 1, "nope", err,
					    sizeof(err)));
	assert_string_equal(err, "no member 'nope'");
	assert_null(wfp_json_member_compact("{\"a\":1,\"a\":2}", 13, "a", err,
					    sizeof(err)));
	assert_null(wfp_json_member_compact("[1]", 3, "a", err, sizeof(err)));
}

/* Messages that embed a long place or value keep their problem. */
static void test_messages_fit(void **state)
{
	struct buf b = {0};
	char tail[128];
	const char *n63 = "n23456789012345678901234567890123456789012345678901"
			  "234567890123";

	(void)state;
	/* 40 nested patterns: the place is 408 bytes */
	bprintf(&b, "{\"workflow\":");
	for (int i = 0; i < 40; i++)
		bprintf(&b, "{\"linear\":[");
	bprintf(&b, "{\"task\":\"a\",\"apply\":[\"x\"]}");
	for (int i = 0; i < 40; i++)
		bprintf(&b, "]}");
	bprintf(&b, "}");
	refuse_fits(b.s, "workflow.linear[0]...",
		    "linear[0]: patterns nest deeper than 32 levels");
	/* a task named twice 32 patterns deep */
	b.n = 0;
	bprintf(&b, "{\"workflow\":");
	for (int i = 0; i < 32; i++)
		bprintf(&b, "{\"unordered\":[");
	bprintf(&b, "{\"task\":\"a\",\"apply\":[\"x\"]},"
		    "{\"task\":\"a\",\"apply\":[\"x\"]}");
	for (int i = 0; i < 32; i++)
		bprintf(&b, "]}");
	bprintf(&b, "}");
	refuse_fits(b.s, "workflow.unordered[0]...",
		    "unordered[1]: task 'a' is named twice");
	/* an unknown key of 64 bytes that each quote as \xNN */
	b.n = 0;
	bprintf(&b, "{\"workflow\":{\"task\":\"%s\",\"apply\":[\"x\"],\"", n63);
	for (int i = 0; i < 70; i++)
		bprintf(&b, "\u00e9");
	bprintf(&b, "\":1}}");
	refuse_fits(b.s, "task 'n2", "\\xc3\\xa9...'");
	/* a cycle of 60 tasks with long names */
	b.n = 0;
	bprintf(&b, "{\"workflow\":{\"graph\":[");
	for (int i = 0; i < 60; i++)
		bprintf(&b,
			"%s{\"task\":\"%.60s%02d\",\"apply\":[\"x\"],"
			"\"after\":[\"%.60s%02d\"]}",
			i ? "," : "", n63, i, n63, (i + 1) % 60);
	bprintf(&b, "]}}");
	snprintf(tail, sizeof(tail), " ... waits for '%.60s00'", n63);
	refuse_fits(b.s, "tasks wait for each other in a cycle: '", tail);
	free(b.s);
}

/* Asserts that raw text doc (no quote conversion) is refused as JSON
 * with a message holding want. */
static void bad_json(const char *doc, size_t len, const char *want)
{
	struct wfp_workflow *wf = NULL;

	if (wfp_workflow_parse(doc, len, &wf, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", doc);
	assert_null(wf);
	if (strncmp(err, "payload is not a JSON object: ", 30) != 0 ||
	    !strstr(err, want))
		fail_msg("message '%s' lacks '%s'", err, want);
}

#define BAD(doc, want) bad_json(doc, sizeof(doc) - 1, want)

/* The reader is strict JSON: what jansson (and post.lua) refuse. */
static void test_json_strict(void **state)
{
	struct buf b = {0};
	struct wfp_workflow *wf;

	(void)state;
	BAD("", "unexpected end of text at byte 0");
	BAD("{\"workflow\":1,}", "expected a key");
	BAD("{\"a\":[1,]}", "invalid JSON value");
	BAD("{\"a\":01}", "expected ',' or '}'");
	BAD("{\"a\":1.}", "bad number");
	BAD("{\"a\":-}", "bad number");
	BAD("{\"a\":1e}", "bad number");
	BAD("{\"a\":tru}", "invalid JSON value");
	BAD("{\"a\":\"\\x\"}", "bad escape");
	BAD("{\"a\":\"\\u12\"}", "bad \\u escape");
	BAD("{\"a\":\"\\ud800\"}", "unpaired surrogate");
	BAD("{\"a\":\"\\udc00\"}", "unpaired surrogate");
	BAD("{\"a\":\"\\ud800\\u0041\"}", "unpaired surrogate");
	BAD("{\"a\":\"\\u0000\"}", "\\u0000 in a string");
	BAD("{\"a\":\"\xc3\x28\"}", "invalid UTF-8");
	BAD("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"); /* raw surrogate */
	BAD("{\"a\":\"tab\there\"}", "control character");
	BAD("{\"a\":\"open}", "truncated string");
	BAD("{\"a\":1,\"a\":2}", "repeated key");
	BAD("{\"a\":1,\"\\u0061\":2}", "repeated key"); /* same once decoded */
	BAD("{\"a\":1} x", "text after the JSON value at byte 8");
	BAD("{\"a\" 1}", "expected ':'");
	bad_json("{\"a\":\"x\0\"}", 10, "control character");
	/* a repeated key among many (the sorted check) */
	bprintf(&b, "{");
	for (int i = 0; i < 40; i++)
		bprintf(&b, "\"k%d\":%d,", i, i);
	bprintf(&b, "\"k17\":0}");
	bad_json(b.s, b.n, "repeated key");
	/* 512 levels are fine, 513 are not */
	for (int depth = 512; depth <= 513; depth++) {
		b.n = 0;
		bprintf(&b, "{\"x\":");
		for (int i = 1; i < depth; i++)
			bprintf(&b, "[");
		for (int i = 1; i < depth; i++)
			bprintf(&b, "]");
		bprintf(&b, "}");
		if (depth == 512)
			assert_int_equal(
			    wfp_workflow_parse(b.s, b.n, &wf, err, sizeof(err)),
			    0);
		else
			bad_json(b.s, b.n, "nesting too deep");
	}
	free(b.s);
	/* escapes are decoded in names and words; args keep their text */
	wf = parse_ok(
	    "{\"workflow\":{\"task\":\"\\u0061b\",\"apply\":[\"caf\\u00e9"
	    "\",\"\\ud83d\\ude80\",\"a\\\"b\\\\\\/\\n\"],"
	    "\"revert\":{\"plugin\":\"x\",\"args\": { \"s\" : \"a b\\\"\" ,"
	    " \"n\" : [ 1 , 2.50e1 ] } } } }");
	assert_string_equal(wf->tasks[0].name, "ab");
	assert_string_equal(wf->tasks[0].apply.argv[0], "caf\xc3\xa9");
	assert_string_equal(wf->tasks[0].apply.argv[1], "\xf0\x9f\x9a\x80");
	assert_string_equal(wf->tasks[0].apply.argv[2], "a\"b\\/\n");
	assert_string_equal(wf->tasks[0].revert.args,
			    "{\"s\":\"a b\\\"\",\"n\":[1,2.50e1]}");
	wfp_workflow_free(wf);
}

/* ------------------------------------------------------------------ */
/* Size and speed                                                      */
/* ------------------------------------------------------------------ */

/* Milliseconds since an arbitrary start (monotonic). */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A linear workflow of n noop tasks into b. */
static void linear_doc(struct buf *b, int n)
{
	b->n = 0;
	bprintf(b, "{\"workflow\":{\"linear\":[");
	for (int i = 0; i < n; i++)
		bprintf(b,
			"%s{\"task\":\"t%d\",\"apply\":{\"plugin\":\"noop\"}}",
			i ? "," : "", i);
	bprintf(b, "]}}");
}

/* The best of 5 times (ms) of parsing b reps times; *wf gets the last
 * parse's workflow. */
static double parse_ms(const struct buf *b, int reps, struct wfp_workflow **wf)
{
	double best = 1e12;

	for (int run = 0; run < 5; run++) {
		double t0 = now_ms(), ms;

		for (int r = 0; r < reps; r++) {
			if (*wf)
				wfp_workflow_free(*wf);
			*wf = NULL;
			assert_int_equal(wfp_workflow_parse(b->s, b->n, wf, err,
							    sizeof(err)),
					 1);
		}
		ms = now_ms() - t0;
		best = ms < best ? ms : best;
	}
	return best;
}

/* Parse time grows linearly (no blow-up) up to 10,000 tasks. */
#define PARSE_GUARD_MS 5000.0 /* 10,000 tasks: a guard, never a figure */
#define PARSE_GROWTH_MAX                                                       \
	5.0 /* 10x the tasks over 10x 1,000: quadratic is 10                   \
	     */

/* 10,000 tasks in a linear: a chain, parsed in a few milliseconds. Time
 * is printed, not asserted (sanitizers and a busy machine slow it): the
 * checks are a 5 s guard, and that 10,000 tasks take not much more than
 * ten parses of 1,000 (a quadratic parse would take ten times more). */
static void test_ten_thousand(void **state)
{
	struct buf b = {0};
	struct wfp_workflow *wf = NULL;
	double small, best, growth, t0;

	(void)state;
	linear_doc(&b, WFP_WF_TASKS_MAX / 10);
	small = parse_ms(&b, 10, &wf);
	linear_doc(&b, WFP_WF_TASKS_MAX);
	best = parse_ms(&b, 1, &wf);
	growth = best / (small > 0.001 ? small : 0.001);
	printf("# 10000-task linear workflow (%zu bytes): parsed in %.2f ms "
	       "(best of 5); 10 x 1000 tasks: %.2f ms; growth %.2f\n",
	       b.n, best, small, growth);
	assert_int_equal(wf->ntasks, WFP_WF_TASKS_MAX);
	for (int t = 1; t < wf->ntasks; t++) {
		assert_int_equal(wf->tasks[t].ndeps, 1);
		assert_int_equal(wf->tasks[t].deps[0], t - 1);
	}
	assert_int_equal(wf->tasks[0].ndeps, 0);
	assert_int_equal(wf->tasks[WFP_WF_TASKS_MAX - 1].nnext, 0);
	check_next(wf);
	assert_true(best < PARSE_GUARD_MS);
	assert_true(growth < PARSE_GROWTH_MAX);
	wfp_workflow_free(wf);
	/* the same chain where each task requires what the one before
	 * provides: the requires check stays cheap */
	b.n = 0;
	bprintf(&b, "{\"workflow\":{\"linear\":[");
	for (int i = 0; i < WFP_WF_TASKS_MAX; i++)
		bprintf(&b,
			"%s{\"task\":\"t%d\",\"apply\":[\"true\"],"
			"\"provides\":[\"d%d\"],\"requires\":[\"d%d\"]}",
			i ? "," : "", i, i + 1, i);
	bprintf(&b, "]},\"inputs\":{\"d0\":\"\"}}");
	t0 = now_ms();
	assert_int_equal(wfp_workflow_parse(b.s, b.n, &wf, err, sizeof(err)),
			 1);
	printf("# 10000-task chain with provides/requires (%zu bytes): "
	       "parsed in %.2f ms\n",
	       b.n, now_ms() - t0);
	assert_int_equal(wf->tasks[9999].ndeps, 1);
	wfp_workflow_free(wf);
	free(b.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_design_example),
	    cmocka_unit_test(test_no_workflow),
	    cmocka_unit_test(test_nested_patterns),
	    cmocka_unit_test(test_graph_in_graph),
	    cmocka_unit_test(test_requires_ancestor),
	    cmocka_unit_test(test_empty_patterns),
	    cmocka_unit_test(test_inputs),
	    cmocka_unit_test(test_task_inputs),
	    cmocka_unit_test(test_refuse_shapes),
	    cmocka_unit_test(test_refuse_names),
	    cmocka_unit_test(test_refuse_actions),
	    cmocka_unit_test(test_refuse_numbers),
	    cmocka_unit_test(test_refuse_graph),
	    cmocka_unit_test(test_refuse_limits),
	    cmocka_unit_test(test_messages_fit),
	    cmocka_unit_test(test_member_compact),
	    cmocka_unit_test(test_json_strict),
	    cmocka_unit_test(test_ten_thousand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
