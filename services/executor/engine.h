/*
 * engine.h - one job's run of a workflow, without I/O: which task may
 * start, what a task's end means, and what to write to the task log.
 *
 * Rules that always hold:
 *  - Forward mode: a task becomes ready when the last of its deps applies
 *    (a counter per task: no rescans); ready tasks are handed out in the
 *    order they became ready. A failed apply is retried up to the task's
 *    attempts, waiting backoff_ms, then twice that, ... (capped at
 *    WFP_ENGINE_BACKOFF_CAP_MS).
 *  - A final apply failure or a cancel starts rollback mode: no task
 *    starts any more; tasks already running are let finish (an apply that
 *    ends applied is reverted too); then every applied task is reverted
 *    one at a time in the reverse order of application. A task without a
 *    revert action is handed out as a skip (the caller logs `skipped`). A
 *    failed revert is retried like an apply; a revert that fails for good
 *    does not stop the rollback: the remaining ones are still tried, and
 *    the run ends failed naming every task whose revert failed.
 *  - Only tasks whose apply ended `applied` are reverted: a failed,
 *    timed-out or killed apply is not (its action must leave nothing
 *    behind when it fails, or be safe to run again: WFP_TASK_KEY).
 *  - The run ends completed (every task applied), reverted (rollback done,
 *    every revert succeeded) or failed (some revert failed), and only once
 *    no task is running.
 *  - Resume: the log entries of the current run are replayed before the
 *    run begins; an applied task is never handed out again. In rollback
 *    mode an apply the log shows running without an end runs again
 *    first (same key), as a running apply is let finish in a live
 *    rollback, and is reverted when it applies.
 * The engine borrows the workflow (it must outlive the engine) and owns
 * everything else. Not thread-safe; no function blocks.
 */
#ifndef WFP_ENGINE_H
#define WFP_ENGINE_H

#include <stdint.h>

#include "wfp/workflow.h"

#define WFP_ENGINE_BACKOFF_CAP_MS 3600000LL /* longest wait between tries */
#define WFP_ENGINE_INPUTS_MAX	  1024 /* distinct input names a task gets */
#define WFP_ENGINE_REASON_MAX	  1024 /* bytes of the final reason + NUL */

enum wfp_engine_status {
	WFP_ENGINE_RUNNING,   /* not ended */
	WFP_ENGINE_COMPLETED, /* every task applied */
	WFP_ENGINE_REVERTED,  /* rolled back, every revert succeeded */
	WFP_ENGINE_FAILED,    /* rolled back, some revert failed */
};

enum wfp_engine_phase {
	WFP_ENGINE_APPLY,  /* run the task's apply action */
	WFP_ENGINE_REVERT, /* run the task's revert action */
	WFP_ENGINE_SKIP,   /* no revert action: log `skipped`, run nothing */
};

/* A task to start, from wfp_engine_next. */
struct wfp_engine_step {
	int task; /* index in the workflow */
	enum wfp_engine_phase phase;
	int attempt; /* 1.. of this phase */
	int recover; /* an apply handed out in rollback mode: one the log
			shows running without an end, run again to learn
			its outcome (a cancel never refuses it) */
	int rerun;   /* an apply the log shows running without an end (a
			recover, or one handed out again in forward mode):
			its start is logged already */
};

/* The log entry that a task's end calls for, from wfp_engine_result. */
struct wfp_engine_entry {
	int task;
	const char *state; /* applied, apply-failed, reverted, revert-failed */
	int attempt;
	int final; /* 1 on a failure that will not be tried again */
};

/* A task's inputs: n names and values, owned by the struct. */
struct wfp_engine_inputs {
	int n;
	char **names;
	char **values;
};

struct wfp_engine;

/* A run of wf (borrowed). NULL when memory runs out. */
struct wfp_engine *wfp_engine_new(const struct wfp_workflow *wf);

void wfp_engine_free(struct wfp_engine *e);

/*
 * Replays one log entry of the current run (before wfp_engine_begin), in
 * log order: task name, state word, attempt, final, outputs (NULL or a
 * JSON object text), error (NULL or text), at_ms (the entry's time: a
 * retry waits its backoff from there). Returns 0, or -1 for an unknown
 * task or state word (the entry is ignored).
 */
int wfp_engine_replay(struct wfp_engine *e, const char *task, const char *state,
		      int attempt, int final, const char *outputs,
		      const char *error, int64_t at_ms);

/* Starts rollback mode with "cancelled: REASON" as the run's reason,
 * after the failure that started a rollback already ("task T failed:
 * ...; cancelled: REASON"). Again later: nothing changes. */
void wfp_engine_cancel(struct wfp_engine *e, const char *reason);
/* Starts rollback mode with reason as the run's reason (after one set
 * already, "; " between), e.g. the task log refused a write. */
void wfp_engine_abort(struct wfp_engine *e, const char *reason);

/* Ends the replay: counts what each task still waits for and queues the
 * ready ones. Call once, before the first wfp_engine_next. */
void wfp_engine_begin(struct wfp_engine *e);

/*
 * The next task to start at now_ms, marked running (a skip is done at
 * once). Returns 1 with *out, or 0 when none may start now (nothing
 * ready, waiting for a backoff, or a rollback waiting for running tasks).
 */
int wfp_engine_next(struct wfp_engine *e, int64_t now_ms,
		    struct wfp_engine_step *out);

/*
 * The end of a running task (apply or revert as handed out): ok, its
 * outputs (a JSON object text or NULL; kept for an applied task) and
 * error (text or NULL when !ok). Fills *log with the entry to write.
 * Returns 0, or -1 when the task is not running (nothing changes).
 */
int wfp_engine_result(struct wfp_engine *e, int task, int ok,
		      const char *outputs, const char *error, int64_t now_ms,
		      struct wfp_engine_entry *log);

/* The earliest time a waiting retry is due (ms), or -1 when none. */
int64_t wfp_engine_wake_ms(const struct wfp_engine *e);

/* Tasks handed out and not yet ended. */
int wfp_engine_running(const struct wfp_engine *e);

/* 1 once in rollback mode. */
int wfp_engine_rolling_back(const struct wfp_engine *e);

enum wfp_engine_status wfp_engine_status(const struct wfp_engine *e);

/* The run's reason: "" while running or completed; "task T failed: ...",
 * "cancelled: ..."; after a failed revert also "; revert failed: T
 * (why), ...". At most WFP_ENGINE_REASON_MAX - 1 bytes of UTF-8 text. */
const char *wfp_engine_reason(const struct wfp_engine *e);

/* The recorded outputs of an applied task (JSON object text) or NULL. */
const char *wfp_engine_outputs(const struct wfp_engine *e, int task);

/*
 * Fills *out with the inputs of task, lowest to highest precedence:
 * payload.inputs, the outputs of every task applied so far (later ones
 * win), the outputs of the task's direct deps (in deps order), for a
 * revert the task's own outputs, then the task's own inputs. A string
 * value as it is, other values as compact JSON. Returns 0, or -1 when memory
 * runs out. Free with wfp_engine_inputs_release.
 */
int wfp_engine_inputs(const struct wfp_engine *e, int task, int revert,
		      struct wfp_engine_inputs *out);

void wfp_engine_inputs_release(struct wfp_engine_inputs *in);

/* Makes s (in place) one line of text: control characters become spaces
 * and bytes that are not valid UTF-8 (or C1 controls) '?'. Returns s. */
char *wfp_engine_text_clean(char *s);

/* Cuts s (in place) to at most max - 1 bytes without splitting a UTF-8
 * character. */
void wfp_engine_text_cut(char *s, size_t max);

#endif
