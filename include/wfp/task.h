/*
 * task.h - the C plugin API of wfp-executor's tasks.
 *
 * A plugin is code the executor runs in its own process for a workflow
 * task whose apply or revert is {"plugin": NAME, "args": {...}} instead of
 * an argv. Three plugins are built in: `noop` (succeeds, no outputs),
 * `sleep` (args.ms 0..86400000: succeeds after that many ms) and `fail`
 * (fails with args.reason, default "failed"). Any other NAME is loaded on
 * first use with dlopen(3) from WFP_PLUGIN_DIR/NAME.so (NAME: 1..63 of
 * a-z 0-9 _ -, WFP_PLUGIN_NAME_MAX) and kept loaded until the executor
 * exits. The .so exports one function:
 *
 *	const struct wfp_plugin *wfp_plugin_entry(void);
 *
 * returning a description that stays valid while the .so is loaded. A
 * plugin whose abi is not WFP_PLUGIN_ABI, or without apply or abort, is
 * refused (its tasks fail with a message saying why); a plugin is built
 * with this header and links nothing of wfp (the wfp_task_* functions
 * below come from the executor, which exports them).
 *
 * Rules that always hold:
 *  - Everything runs on the executor's one event loop thread: apply,
 *    revert, abort and every wfp_task_* call. A plugin must never block
 *    that loop (no sleep, no blocking network or disk wait): it registers
 *    its own events on wfp_task_base() and calls wfp_task_done from one of
 *    them later. Long blocking work goes to a thread or process of the
 *    plugin's own, which reports back through the loop (a pipe or socket
 *    watched with an event on wfp_task_base(), or event_active() on an
 *    event of that base when libevent's threading is on). Small, quick
 *    work (parse args, touch a local file) may run inside apply and call
 *    wfp_task_done there.
 *  - For each task the executor calls apply (phase apply) or revert
 *    (phase revert) once, with a fresh ctx and *state NULL. The plugin
 *    then calls wfp_task_done(ctx, ...) exactly once, inside apply/revert
 *    or later from an event; the executor learns the result afterwards,
 *    from the loop, never from inside that call. Further calls for the
 *    same ctx are ignored.
 *  - Until the plugin has called wfp_task_done, the executor may stop the
 *    task (timeout_ms, cancel, shutdown, lost lease): it calls abort(ctx,
 *    state) once; abort frees what the task holds (timers, threads'
 *    results, *state) and must not call wfp_task_done. After done or
 *    abort the ctx is gone: the plugin keeps no pointer to it.
 *  - A task is retried with the same wfp_task_key() on every attempt and
 *    redelivery (WFP_TASK_KEY), so apply and revert should be idempotent
 *    for a key: a second apply of a key already applied succeeds with the
 *    same outputs, a revert of what was never applied succeeds.
 *  - wfp_task_done costs no allocation when outputs_json is NULL: the
 *    executor runs ~100,000 noop tasks a second.
 *
 * Ownership: every string a wfp_task_* accessor returns belongs to the
 * ctx and is valid until the plugin calls wfp_task_done (or abort
 * returns); copy what must live longer. The strings given to
 * wfp_task_done are copied before it returns.
 */
#ifndef WFP_TASK_H
#define WFP_TASK_H

#include <stdint.h>

struct event_base;

/* The plugin ABI this header describes; struct wfp_plugin.abi must hold
 * it. Raised whenever this header changes incompatibly. */
#define WFP_PLUGIN_ABI 1

/* Bytes of a task's error text kept (one line; longer is cut). */
#define WFP_TASK_ERROR_MAX 512
/* Bytes of a task's outputs (compact JSON object text). */
#define WFP_TASK_OUTPUTS_MAX 65536

/* One running task, as a plugin sees it (opaque). */
struct wfp_task_ctx;

/*
 * What a plugin .so describes about itself. apply and abort are required;
 * revert may be NULL (a revert with the plugin then fails with "plugin
 * 'NAME' has no revert"). apply/revert return 0 when the task is under
 * way (or already done), -1 when it could not start: the task then fails
 * with "plugin 'NAME' failed to start" unless wfp_task_done was called
 * first. *state is the plugin's own per-task pointer, NULL at the start,
 * handed to abort.
 */
struct wfp_plugin {
	int abi;	  /* WFP_PLUGIN_ABI */
	const char *name; /* for messages; the file name is what counts */
	int (*apply)(struct wfp_task_ctx *ctx, void **state);
	int (*revert)(struct wfp_task_ctx *ctx, void **state);
	void (*abort)(struct wfp_task_ctx *ctx, void *state);
};

/* The symbol a plugin .so exports (see above). */
typedef const struct wfp_plugin *wfp_plugin_entry_fn(void);
#define WFP_PLUGIN_ENTRY "wfp_plugin_entry"

/*
 * Ends the task, exactly once. ok: 1 success, 0 failure. outputs_json:
 * NULL (no outputs) or the text of a JSON object whose keys are data
 * names (1..63 of A-Za-z0-9_) and whose compact form is at most
 * WFP_TASK_OUTPUTS_MAX bytes; outputs that break this turn the result
 * into a failure saying why. error: the reason of a failure, one line
 * (control characters become spaces, cut at WFP_TASK_ERROR_MAX), NULL for
 * "failed". Both strings are copied; the ctx is gone afterwards.
 */
void wfp_task_done(struct wfp_task_ctx *ctx, int ok, const char *outputs_json,
		   const char *error);

/* The job id (WFP_JOB_ID). */
const char *wfp_task_job_id(const struct wfp_task_ctx *ctx);

/* The task's name in the workflow (WFP_TASK). */
const char *wfp_task_name(const struct wfp_task_ctx *ctx);

/* "apply" or "revert" (WFP_PHASE). */
const char *wfp_task_phase(const struct wfp_task_ctx *ctx);

/* 1 when this is a revert, else 0. */
int wfp_task_is_revert(const struct wfp_task_ctx *ctx);

/* The attempt of this phase, 1.. (WFP_ATTEMPT). */
int wfp_task_attempt(const struct wfp_task_ctx *ctx);

/* The job's fence (WFP_FENCE): present it to resources guarded by it. */
int64_t wfp_task_fence(const struct wfp_task_ctx *ctx);

/* "<job id>:<run>:<task>", the same for every attempt (WFP_TASK_KEY). */
const char *wfp_task_key(const struct wfp_task_ctx *ctx);

/* The action's args: compact JSON object text, "{}" when none. */
const char *wfp_task_args(const struct wfp_task_ctx *ctx);

/* The value of input name (a string input as it is, any other JSON
 * value as compact JSON text), or NULL when the task has no such input.
 * When a name was given twice the later value is the input. */
const char *wfp_task_input(const struct wfp_task_ctx *ctx, const char *name);

/* Number of inputs (names may repeat: see wfp_task_input). */
int wfp_task_input_count(const struct wfp_task_ctx *ctx);

/* The value of input i (0 <= i < count) and its name in *name; NULL when
 * i is out of range. */
const char *wfp_task_input_at(const struct wfp_task_ctx *ctx, int i,
			      const char **name);

/* The fences of the task's locks, "name=fence name=fence", "" when the
 * task holds none (WFP_LOCK_FENCES). */
const char *wfp_task_lock_fences(const struct wfp_task_ctx *ctx);

/* The executor's event loop, for the plugin's own events. */
struct event_base *wfp_task_base(const struct wfp_task_ctx *ctx);

#endif
