/*
 * taskrun.h - wfp-executor's task runner: runs one task's apply or revert,
 * an exec (argv) or a plugin (include/wfp/task.h), on the executor's event
 * loop, and reports the result once through a callback.
 *
 * Rules that always hold:
 *  - Nothing here blocks the loop: children are spawned (posix_spawn),
 *    their output read from non-blocking pipes and they are reaped from a
 *    SIGCHLD event with waitid/waitpid(WNOHANG). The runner owns SIGCHLD
 *    on its base: only one runner per process, and no other code of the
 *    process may make children it expects to reap itself.
 *  - done is ALWAYS called later from the loop, never from inside
 *    wfp_taskrun_start, exactly once per start, also for failures to
 *    start (unknown plugin, program not found or not allowed).
 *  - An exec task runs argv (argv[0] without '/' looked up in the
 *    executor's PATH) in a process group of its own, stdin /dev/null,
 *    cwd and umask the executor's, with only these variables: WFP_IN_<name>
 *    per input, WFP_JOB_ID, WFP_TASK, WFP_PHASE, WFP_ATTEMPT, WFP_FENCE,
 *    WFP_TASK_KEY, WFP_LOCK_FENCES (when not ""), and PATH, HOME, LANG, TZ
 *    copied from the executor when set. No other descriptor is inherited.
 *  - When the group's leader exits, the task is over: what is in its pipes
 *    is read, and what is left of its process group (a background child
 *    still holding the pipes) gets SIGKILL. A task that must leave a
 *    process behind detaches it with setsid.
 *  - At timeout_ms (and on wfp_taskrun_kill) the whole process group gets
 *    SIGKILL; a plugin's abort is called.
 *  - out_tail/err_tail are the last output_max bytes of stdout/stderr
 *    (read up to a NUL byte the task wrote, without a UTF-8 sequence the
 *    cut broke at their start); a result's outputs exist only when ok.
 * Ownership: the runner copies what it needs from a spec during start;
 * the spec's strings may be freed once start returns. A result and its
 * strings are valid only during the callback. A struct wfp_taskrun is
 * the runner's: valid until its done callback returns.
 */
#ifndef WFP_TASKRUN_H
#define WFP_TASKRUN_H

#include <stddef.h>
#include <stdint.h>

#include "wfp/config.h"
#include "wfp/workflow.h"

struct event_base;

/* Limits from config.h: WFP_TASK_OUTPUT_MAX_MAX (bytes of one tail at
 * most), WFP_EXEC_ALLOW_PATHS_MAX (paths in an allow list). */

/* Bytes of an exec task's WFP_IN_<name>=value variables, all together,
 * that an apply is started with; past it the apply fails with the size
 * in its error, before anything runs. A revert is not held to it: it
 * gets its own outputs on top of what its apply had, and the kernel's
 * bound (argv + environment, ARG_MAX: about 2 MiB) leaves it room, so
 * the tasks that ran can still be undone. */
#define WFP_TASK_INPUTS_BYTES_MAX (1024 * 1024)

struct wfp_taskrunner_config {
	/* WFP_PLUGIN_DIR or "" */
	const char *plugin_dir;
	/* NULL-terminated resolved paths, or NULL = any */
	const char *const *exec_allow;
	/* bytes of stdout/stderr tail kept, each (WFP_TASK_OUTPUT_MAX) */
	size_t output_max;
};

struct wfp_taskrun_spec {
	const char *job_id, *task, *task_key;
	int revert;			 /* 0 apply, 1 revert: WFP_PHASE */
	int attempt;			 /* WFP_ATTEMPT */
	int64_t fence;			 /* WFP_FENCE (the job's fence) */
	const struct wfp_action *action; /* from workflow.h (EXEC or PLUGIN) */
	int ninputs;			 /* WFP_IN_<name>=value */
	const char *const *input_names, *const *input_values;
	/* WFP_LOCK_FENCES "name=fence name=fence" or "" */
	const char *lock_fences;
	/* 0: none; past it the process group gets SIGKILL */
	int64_t timeout_ms;
};

struct wfp_taskrun_result {
	int ok;		   /* exit 0 (exec) / done ok (plugin) */
	int timed_out;	   /* killed at timeout_ms */
	int killed;	   /* stopped by wfp_taskrun_kill */
	const char *error; /* one line when !ok: "exit 3", "killed by signal 9",
			      "timed out after N ms", plugin's text, "program
			      'x' is not allowed by WFP_EXEC_ALLOW" ... */
	const char *outputs; /* compact JSON object text (last stdout line if a
				JSON object; plugin's outputs) or NULL */
	const char *out_tail, *err_tail; /* bounded tails, "" when none */
	int64_t duration_ms;
}; /* valid only during the callback */

typedef void wfp_taskrun_fn(const struct wfp_taskrun_result *res, void *arg);

/*
 * Makes a runner on base (and takes SIGCHLD on it). cfg is copied
 * (exec_allow paths are resolved again with realpath when they exist).
 * Returns NULL with a one-line reason in err (output_max above
 * WFP_TASK_OUTPUT_MAX_MAX, a relative allow path, no memory).
 */
struct wfp_taskrunner *
wfp_taskrunner_new(struct event_base *base,
		   const struct wfp_taskrunner_config *cfg, char *err,
		   size_t errlen);

/* Starts a task; done is ALWAYS called later from the loop (never from
 * inside start), exactly once, also for failures to start (unknown plugin,
 * program not found, not allowed). NULL only on ENOMEM. */
struct wfp_taskrun *wfp_taskrun_start(struct wfp_taskrunner *tr,
				      const struct wfp_taskrun_spec *spec,
				      wfp_taskrun_fn *done, void *arg);

/* Stops a running task now (SIGKILL to its process group / plugin abort);
 * done is still called once, with killed = 1. A task that had already
 * ended (its done pending on the loop) keeps its result (killed = 0). */
void wfp_taskrun_kill(struct wfp_taskrun *run);

/* Tasks started and not yet done. */
int wfp_taskrunner_active(const struct wfp_taskrunner *tr);

/* Kills what runs (SIGKILL / abort), no callbacks; frees the runner.
 * May be called from inside a done callback. NULL is fine. */
void wfp_taskrunner_free(struct wfp_taskrunner *tr);

/*
 * Splits a WFP_EXEC_ALLOW value ("/bin/a:/usr/bin/b", "" = any) into a
 * NULL-terminated array of paths resolved with realpath (a path that does
 * not exist is kept as written), for wfp_taskrunner_config.exec_allow.
 * Returns 0 with *out (NULL for "": any program; free it with
 * wfp_exec_allow_free), or -1 with err (a relative path, too many paths,
 * no memory).
 */
int wfp_exec_allow_parse(const char *value, char ***out, char *err,
			 size_t errlen);

/* Frees what wfp_exec_allow_parse made (NULL is fine). */
void wfp_exec_allow_free(char **paths);

#endif
