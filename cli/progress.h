/*
 * progress.h - the progress of a workflow job's run, from its task log
 * (pure: no I/O), for `wfp job watch`.
 *
 * Entries are fed in log order. Only the run followed counts: an entry of
 * an older run is ignored, an entry of a newer run (the job was reposted)
 * starts the count again from that run. A task's state is the state of
 * its newest entry; an entry naming no task of the workflow is ignored.
 */
#ifndef WFP_CLI_PROGRESS_H
#define WFP_CLI_PROGRESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "wfp/workflow.h"

struct progress;

/* A new count for workflow wf (owned by the progress from now on) of run
 * run (>= 1). NULL when memory runs out (wf is freed then). */
struct progress *progress_new(struct wfp_workflow *wf, int64_t run);

/* Frees p and its workflow (NULL is fine). */
void progress_free(struct progress *p);

/*
 * Feeds one log entry, its fields as a JSON object (run, task, state,
 * attempt, at and error as the log holds them; run and at numbers).
 * Returns 1 when it changed what progress_text shows (a task's state, a
 * new run), else 0.
 */
int progress_add(struct progress *p, json_t *entry);

/* Time from the run's first entry to its newest, ms (0 before any). */
int64_t progress_elapsed_ms(const struct progress *p);

/*
 * The summary as one line into out (n bytes): "N/TOTAL applied", then
 * when there are any ", K skipped", "; running: a,b", "; rolling back:
 * R/A reverted" (A: the tasks applied in the run; "R reverted, S skipped
 * of A" when S of them have no revert; "rolled back" once all are and
 * nothing runs), "; reverting: x" and "; failed: TASK (ERROR)" for the
 * newest failure that is still its task's state (a later entry of the
 * task clears it); lists and errors cut to width characters each.
 */
void progress_text(const struct progress *p, int width, char *out, size_t n);

/*
 * The summary as a JSON object: {type: "progress", run, elapsed_ms,
 * total, applied, skipped, running: [...], rollback: bool, rolled_back:
 * bool, reverted, to_revert, reverting: [...], failed: [{task, state,
 * error}]} (failed: every task whose newest state is apply-failed or
 * revert-failed).
 */
json_t *progress_json(const struct progress *p);

#endif
