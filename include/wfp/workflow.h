/*
 * workflow.h - workflow documents (DESIGN.md "Workflow documents"): parse,
 * check and flatten into the task graph the executor runs.
 *
 * One parser and validator for everyone: `wfp job post` (refuses before
 * posting), wfp-jobboard's post handler and direct posts through
 * wfp_post_check (refuse a post), and wfp-executor (a job it cannot read
 * goes dead with the message).
 *
 * Rules that always hold for a parsed workflow:
 *  - tasks[] is in document order; task names are unique;
 *  - deps/next are the edges of an acyclic graph: a task may start once
 *    every task in its deps has applied. Edges come from the patterns
 *    (linear: each element after every exit of the one before; unordered:
 *    none between elements; graph: from every task that provides one of
 *    a task's requires inside the same graph, and from its after) and are
 *    listed once each;
 *  - every requires of a task is in payload.inputs or in the task's own
 *    inputs, or provided by a task that is an ancestor of it in that graph;
 *  - payload.inputs and every task's inputs hold at most WFP_WF_INPUTS_MAX
 *    data names, each value at most WFP_WF_INPUT_MAX bytes as text;
 *  - every count, size and depth is within the limits below.
 * Error messages name the task (or the pattern's place, e.g.
 * "workflow.linear[2].graph[0]") and the problem, lowercase, one line.
 */
#ifndef WFP_WORKFLOW_H
#define WFP_WORKFLOW_H

#include <stddef.h>
#include <stdint.h>

#define WFP_WF_TASKS_MAX      10000  /* tasks in one workflow */
#define WFP_WF_DEPTH_MAX      32     /* nesting of patterns */
#define WFP_WF_EDGES_MAX      200000 /* dependency edges after flattening */
#define WFP_WF_ARGV_MAX	      256    /* words in one argv */
#define WFP_WF_ARG_MAX	      4096   /* bytes in one argv word */
#define WFP_WF_NAMES_MAX      64     /* names in one provides/requires/after */
#define WFP_WF_LOCKS_MAX      16    /* locks of one task (WFP_LOCK_MULTI_MAX) */
#define WFP_WF_INPUTS_MAX     256   /* keys of payload.inputs, of a task's */
#define WFP_WF_INPUT_MAX      65536 /* bytes of one input value as text */
#define WFP_WF_TIMEOUT_MAX_MS 86400000LL /* timeout_ms of a task: one day */
#define WFP_WF_ATTEMPTS_MAX   100	 /* retry.attempts */
#define WFP_WF_BACKOFF_MAX_MS 3600000LL	 /* retry.backoff_ms: one hour */
#define WFP_TASK_NAME_MAX     64	 /* 1..63 of A-Za-z0-9_.- */
#define WFP_DATA_NAME_MAX     64	 /* 1..63 of A-Za-z0-9_ */
#define WFP_PLUGIN_NAME_MAX   64	 /* 1..63 of a-z0-9_- */

/* The error of the `apply-failed` entry of a task whose action never ran:
 * wfp-executor logged it `running`, then a cancel came before it started
 * (readers of the log, such as reservation progress, tell it from a
 * failure by this text). */
#define WFP_WF_NOT_RUN_ERROR "cancelled before its action ran"

enum wfp_action_kind {
	WFP_ACTION_NONE,   /* no action (a task without revert) */
	WFP_ACTION_EXEC,   /* argv run with execve */
	WFP_ACTION_PLUGIN, /* a C plugin, built in or from WFP_PLUGIN_DIR */
};

struct wfp_action {
	enum wfp_action_kind kind;
	int argc;     /* EXEC: 1..WFP_WF_ARGV_MAX */
	char **argv;  /* EXEC: argc words, then NULL */
	char *plugin; /* PLUGIN: its name */
	char *args;   /* PLUGIN: "args" as compact JSON object text ("{}") */
};

struct wfp_wf_task {
	char *name;
	struct wfp_action apply;
	struct wfp_action revert; /* kind NONE: nothing to undo */
	char **provides;
	int nprovides;
	char **requires;
	int nrequires;
	char **locks; /* lock names (wfp_lock_check_name), distinct */
	int nlocks;
	int64_t timeout_ms; /* 0: none */
	int attempts;	    /* apply attempts in all, >= 1 (retry.attempts) */
	int64_t backoff_ms; /* wait before the 2nd attempt, doubling after */
	struct wfp_wf_input *inputs; /* the task's own "inputs" (above the
					outputs of its deps, see the engine) */
	int ninputs;
	int *deps; /* indices of tasks that must apply first */
	int ndeps;
	int *next; /* indices of tasks whose deps hold this one */
	int nnext;
};

/* One payload.inputs (or a task's inputs) entry: a string value as it
 * is, any other JSON value as compact JSON text. */
struct wfp_wf_input {
	char *name;
	char *value;
};

struct wfp_workflow {
	struct wfp_wf_task *tasks;
	int ntasks;
	struct wfp_wf_input *inputs;
	int ninputs;
};

/*
 * Parses and checks the workflow of a job payload (a JSON object, len
 * bytes). Returns 1 with *out set (the caller frees it with
 * wfp_workflow_free) when the payload holds "workflow"; 0 with *out NULL
 * when it holds none (a plain job for other workers); -1 with a one-line
 * message in err when the payload is not a JSON object or the workflow or
 * inputs break a rule (nothing is allocated then).
 */
int wfp_workflow_parse(const char *payload, size_t len,
		       struct wfp_workflow **out, char *err, size_t errlen);

/* Checks a payload's workflow without keeping it: 0 (fine, or no
 * workflow) or -1 with err, as wfp_workflow_parse. */
int wfp_workflow_check(const char *payload, size_t len, char *err,
		       size_t errlen);

/*
 * The compact JSON text of member key of the JSON object doc (len bytes),
 * spelled as doc spells it: numbers (2.50, 0.1) and string escapes are
 * kept, only the whitespace between tokens goes (what the parser keeps of
 * payload.inputs). `wfp job post` sends a payload so. Returns a string
 * the caller frees, or NULL with a one-line message in err when doc is
 * not such JSON (the parser's rules) or holds no key.
 */
char *wfp_json_member_compact(const char *doc, size_t len, const char *key,
			      char *err, size_t errlen);

/* Index of the task called name, or -1. */
int wfp_workflow_find(const struct wfp_workflow *wf, const char *name);

/* Frees wf and everything it holds (NULL is fine). */
void wfp_workflow_free(struct wfp_workflow *wf);

#endif
