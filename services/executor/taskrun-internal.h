/*
 * taskrun-internal.h - what taskrun.c (the runner), taskrun_exec.c (exec
 * tasks) and taskrun_plugin.c (plugins) share. Not for other files.
 *
 * A run goes RUN_GOING -> RUN_ENDED (result set, its done event active)
 * -> freed after its done callback. Everything a run holds (children,
 * pipes, timers, plugin state) is released when it turns RUN_ENDED, so
 * the callback only reads the result.
 */
#ifndef WFP_TASKRUN_INTERNAL_H
#define WFP_TASKRUN_INTERNAL_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/types.h>

#include "taskrun.h"
#include "wfp/task.h"

/* Bytes read from a pipe at once. */
#define TASKRUN_READ_CHUNK 65536
/* Bytes read from a task's pipes after its leader exited, at most. */
#define TASKRUN_DRAIN_MAX (4 * 1024 * 1024)

enum run_kind {
	RUN_EXEC,   /* a child process group */
	RUN_PLUGIN, /* a plugin's apply or revert */
	RUN_NONE,   /* failed before it started */
};

enum run_state {
	RUN_GOING, /* the task runs */
	RUN_ENDED, /* the result is set; done is due from the loop */
};

/* The last cap bytes of one stream. */
struct run_tail {
	char *buf; /* cap + 1 bytes */
	size_t len, cap;
	int cut; /* bytes before buf were dropped */
};

/* A line of stdout, at most WFP_TASK_OUTPUTS_MAX bytes (over: too long;
 * its first and last bytes that are not blank are still known, so a JSON
 * object too big to be outputs is told from other text). */
struct run_line {
	char *buf;
	size_t len, cap;
	int over;
	char first, final; /* first and last non-blank bytes, '\0' none */
};

struct run_exec {
	pid_t pid;	    /* also the process group id */
	int fd[2];	    /* read ends of stdout, stderr; -1 closed */
	struct event ev[2]; /* their read events */
	struct run_tail tail[2];
	struct run_line line, last; /* stdout line being read, last one */
};

struct wfp_task_ctx {
	struct wfp_taskrun *run;
	const struct wfp_plugin *plugin;
	void *state; /* the plugin's */
	const char *job_id, *task, *key, *args, *lock_fences;
	int revert, attempt;
	int64_t fence;
	int ninputs;
	const char **names, **values;
};

struct wfp_taskrun {
	struct wfp_taskrunner *tr;
	struct wfp_taskrun *prev, *next; /* the runner's list */
	enum run_kind kind;
	enum run_state state;
	wfp_taskrun_fn *done;
	void *arg;
	struct event done_ev;  /* made active when the run ends */
	struct event timer_ev; /* timeout_ms, added when > 0 */
	int timer_on;
	int64_t start_us, timeout_ms;
	int ok, timed_out, killed;
	int revert; /* a revert: its outputs are not used */
	char error[WFP_TASK_ERROR_MAX];
	char *outputs;		 /* malloc'd compact JSON, or NULL */
	struct run_exec *x;	 /* RUN_EXEC */
	struct wfp_task_ctx ctx; /* RUN_PLUGIN; strings follow the run */
};

struct plugin_slot {
	struct plugin_slot *next;
	char name[WFP_PLUGIN_NAME_MAX];
	void *handle; /* dlopen's, NULL for a built-in */
	const struct wfp_plugin *plugin;
};

struct wfp_taskrunner {
	struct event_base *base;
	char *plugin_dir;
	char **allow; /* NULL: any program */
	size_t output_max;
	struct event *sigchld;
	struct wfp_taskrun *runs; /* started, not yet done */
	int active;
	struct plugin_slot *plugins; /* loaded .so files */
};

/* taskrun.c */
void run_errorf(struct wfp_taskrun *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void run_end(struct wfp_taskrun *run);
void run_set_error(struct wfp_taskrun *run, const char *text);
int run_outputs(struct wfp_taskrun *run, const char *text, size_t len,
		int strict);

/* taskrun_exec.c */
void exec_start(struct wfp_taskrun *run, const struct wfp_taskrun_spec *spec);
void exec_stop(struct wfp_taskrun *run);
void exec_reap_all(struct wfp_taskrunner *tr);
void exec_release(struct wfp_taskrun *run);

/* taskrun_plugin.c */
size_t plugin_ctx_size(const struct wfp_taskrun_spec *spec);
void plugin_start(struct wfp_taskrun *run, const struct wfp_taskrun_spec *spec);
void plugin_stop(struct wfp_taskrun *run);
void plugins_free(struct wfp_taskrunner *tr);

#endif
