/*
 * counter.c - a sample wfp-executor plugin (include/wfp/task.h).
 *
 * {"plugin": "counter", "args": {"file": "/tmp/n"}} counts the
 * applications of a task in a file: apply adds one to the number in
 * args.file (absent: 0) and gives {"count": N, "key": WFP_TASK_KEY} as
 * outputs; revert takes one away (not below 0). Unlike a real plugin it
 * is deliberately not idempotent per task key: tests use it to count how
 * often a task was applied.
 *
 * Build: cc -shared -fPIC -o counter.so counter.c -ljansson, then put
 * counter.so in WFP_PLUGIN_DIR. The file is small and local, so the work
 * is done inside apply and wfp_task_done called there; a plugin that
 * waits on anything (network, a slow disk, a child) registers an event on
 * wfp_task_base(ctx) and calls wfp_task_done from it instead.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/task.h"

/* Reads the count in path: 0 when the file does not exist. Returns 0 or
 * -1 (not a number, unreadable). */
static int counter_read(const char *path, long long *n)
{
	FILE *f = fopen(path, "r");
	int rc;

	*n = 0;
	if (f == NULL)
		return 0;
	rc = fscanf(f, "%lld", n) == 1 ? 0 : -1;
	fclose(f);
	return rc;
}

/* Writes n into path through a temporary file and a rename, so a reader
 * never sees half a number. Returns 0 or -1. */
static int counter_write(const char *path, long long n)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	if (fprintf(f, "%lld\n", n) < 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* Adds delta to the count in args.file and ends the task. */
static void counter_step(struct wfp_task_ctx *ctx, int delta)
{
	json_t *args = json_loads(wfp_task_args(ctx), 0, NULL);
	const char *file = json_string_value(json_object_get(args, "file"));
	char out[512];
	long long n;

	if (file == NULL) {
		wfp_task_done(ctx, 0, NULL,
			      "counter: args.file is not a string");
	} else if (counter_read(file, &n) != 0) {
		wfp_task_done(ctx, 0, NULL,
			      "counter: the file holds no number");
	} else {
		n += delta;
		if (n < 0)
			n = 0;
		if (counter_write(file, n) != 0) {
			wfp_task_done(ctx, 0, NULL,
				      "counter: cannot write the file");
		} else {
			json_t *o = json_pack("{s:I,s:s}", "count", n, "key",
					      wfp_task_key(ctx));
			char *text = json_dumps(o, JSON_COMPACT);

			snprintf(out, sizeof(out), "%s", text ? text : "{}");
			free(text);
			json_decref(o);
			wfp_task_done(ctx, 1, out, NULL);
		}
	}
	json_decref(args);
}

/* apply: one more. */
static int counter_apply(struct wfp_task_ctx *ctx, void **state)
{
	(void)state;
	counter_step(ctx, 1);
	return 0;
}

/* revert: one less. */
static int counter_revert(struct wfp_task_ctx *ctx, void **state)
{
	(void)state;
	counter_step(ctx, -1);
	return 0;
}

/* Nothing to stop: every task ends inside apply or revert. */
static void counter_abort(struct wfp_task_ctx *ctx, void *state)
{
	(void)ctx;
	(void)state;
}

static const struct wfp_plugin counter_plugin = {
    .abi = WFP_PLUGIN_ABI,
    .name = "counter",
    .apply = counter_apply,
    .revert = counter_revert,
    .abort = counter_abort,
};

/* The entry wfp-executor looks up after dlopen. */
const struct wfp_plugin *wfp_plugin_entry(void)
{
	return &counter_plugin;
}
