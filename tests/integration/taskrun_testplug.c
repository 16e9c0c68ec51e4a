/*
 * A plugin for taskrun_test: shows back what the executor gave it, and
 * misbehaves on request. args (all optional):
 *   "outputs": text given as outputs as it is (default: a JSON object of
 *              the ctx: job, task, phase, attempt, fence, key, locks,
 *              ninputs, in_a = input "a", first = the name of input 0);
 *   "later": 1 -> done from a 0 ms timer on wfp_task_base, not in apply;
 *   "twice": 1 -> done called a second time (must be ignored);
 *   "refuse": 1 -> apply returns -1 without calling done.
 * It has no revert.
 */
#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>

#include "wfp/task.h"

/* Ends the task with outputs: args.outputs, or the ctx as JSON. */
static void testplug_finish(struct wfp_task_ctx *ctx)
{
	json_t *args = json_loads(wfp_task_args(ctx), 0, NULL);
	json_t *given = json_object_get(args, "outputs");
	const char *first = NULL;
	char *text;
	json_t *o;

	wfp_task_input_at(ctx, 0, &first);
	o = json_pack("{s:s,s:s,s:s,s:i,s:I,s:s,s:s,s:i,s:s?,s:s?}", "job",
		      wfp_task_job_id(ctx), "task", wfp_task_name(ctx), "phase",
		      wfp_task_phase(ctx), "attempt", wfp_task_attempt(ctx),
		      "fence", (json_int_t)wfp_task_fence(ctx), "key",
		      wfp_task_key(ctx), "locks", wfp_task_lock_fences(ctx),
		      "ninputs", wfp_task_input_count(ctx), "in_a",
		      wfp_task_input(ctx, "a"), "first", first);
	text = json_dumps(o, JSON_COMPACT);
	wfp_task_done(ctx, 1,
		      json_is_string(given) ? json_string_value(given) : text,
		      NULL);
	if (json_is_true(json_object_get(args, "twice")))
		wfp_task_done(ctx, 0, NULL, "second done");
	free(text);
	json_decref(o);
	json_decref(args);
}

/* The 0 ms timer of "later". */
static void testplug_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	testplug_finish(arg);
}

/* apply: see the file's comment. */
static int testplug_apply(struct wfp_task_ctx *ctx, void **state)
{
	json_t *args = json_loads(wfp_task_args(ctx), 0, NULL);
	int later = json_is_true(json_object_get(args, "later"));
	int refuse = json_is_true(json_object_get(args, "refuse"));

	json_decref(args);
	(void)state;
	if (refuse)
		return -1;
	if (later) {
		struct timeval tv = {0, 0};

		return event_base_once(wfp_task_base(ctx), -1, EV_TIMEOUT,
				       testplug_later, ctx, &tv);
	}
	testplug_finish(ctx);
	return 0;
}

/* Nothing to stop in the tests that use it. */
static void testplug_abort(struct wfp_task_ctx *ctx, void *state)
{
	(void)ctx;
	(void)state;
}

static const struct wfp_plugin testplug = {
    WFP_PLUGIN_ABI, "testplug", testplug_apply, NULL, testplug_abort};

/* The entry point. */
const struct wfp_plugin *wfp_plugin_entry(void)
{
	return &testplug;
}
