/*
 * executor-internal.h - the executor daemon's parts.
 *
 * executor.c: the daemon: claims (the claim script on the command link,
 *   a blocking XREAD on the second link while idle), the executor
 *   registry, /metrics, SIGTERM handback.
 * xjob.c: one claimed job: load (run, cancel, log), resume, the engine's
 *   steps, task log batching (one log_append in flight per job), lease
 *   renewal, cancel, finish; a lost job (STALE) is forgotten.
 * xlock.c: the locks of a task, taken through wfp-lock before its action
 *   runs, renewed while it runs, released after.
 * engine.c: the run of one workflow without I/O; taskrun.c: the actions.
 *
 * Ownership: the executor owns its jobs; a job owns its tasks. A job
 * that ends or is lost is unlinked at once and freed once no command
 * and no task of it is outstanding (callbacks check `gone`).
 */
#ifndef WFP_EXECUTOR_INTERNAL_H
#define WFP_EXECUTOR_INTERNAL_H

#include <stdint.h>

#include "engine.h"
#include "taskrun.h"
#include "wfp/client.h"
#include "wfp/daemon.h"
#include "wfp/keys.h"
#include "wfp/lock.h"
#include "wfp/metrics.h"
#include "wfp/redis.h"
#include "wfp/workflow.h"

#define EXEC_NAME_MAX	  WFP_LOCK_OWNER_MAX /* 1..64: also the lock owner */
#define EXEC_DETAIL_JOBS  64	  /* jobs listed in the registry's detail */
#define EXEC_BEAT_MS	  1000	  /* registry write period */
#define EXEC_REG_GAP_MS	  50	  /* least gap of job start/end writes */
#define EXEC_FORGET_MS	  3600000 /* registry members silent this long go */
#define EXEC_BLOCK_MS	  2000	  /* one blocking XREAD while idle */
#define EXEC_RETRY_MS	  200	  /* a failed write is sent again after */
#define EXEC_LOCK_WAIT_MS 30000	  /* one waiting lock request (then again) */
#define EXEC_LOCK_POLL_MS 20	  /* a lock reply is looked for this often */
#define EXEC_LOG_PAGE	  10000	  /* log entries read per call on resume */
/* A task starts before its running entry is acknowledged only while more
 * than WFP_VISIBILITY_MS / EXEC_EARLY_MARGIN_DIV of the acknowledged
 * lease is left (xjob.c, may_start_early). */
#define EXEC_EARLY_MARGIN_DIV 3
/* ... and while at most this many entries wait to be sent (the task's own
 * included; a task held back starts when its entry is sent): that bounds
 * the queue's memory and what a crash may run again (these plus the batch
 * in flight: at most twice this many entries unacknowledged). */
#define EXEC_EARLY_QUEUE_MAX WFP_LOG_BATCH_MAX

struct executor;
struct xjob;
struct xorphan;

/* Settings of the executor beyond struct wfp_config's. */
struct exec_settings {
	char name[EXEC_NAME_MAX];
	int64_t grace_ms;
	char **allow; /* WFP_EXEC_ALLOW parsed, NULL = any */
	size_t output_max;
};

/* A task handed out by the engine. */
enum xtask_state {
	XT_LOGGING, /* waits for its running/reverting entry's ack */
	XT_LOCKING, /* waiting for its locks */
	XT_RUNNING, /* its action runs */
};

struct xtask {
	struct xjob *job;
	struct wfp_engine_step step;
	enum xtask_state state;
	struct wfp_taskrun *run;
	int nlocks;		     /* 0: the task has none */
	int granted;		     /* the locks are held */
	int lock_lost;		     /* a renew was refused: action killed */
	int release_old;	     /* a direct acquire's reply was lost:
					release its token before asking again */
	int lock_cmds;		     /* lock commands in flight */
	struct wfp_lock_grant grant; /* names, token, fences */
	char rkey[WFP_KEY_MAX];	     /* reply key of a waiting request */
	int64_t lock_deadline_ms;    /* give up polling then */
	struct event *poll;
	void (*on_locks)(struct xtask *t, int ok, const char *why);
	int freed; /* unlinked; freed once lock_cmds is 0 */
	struct xtask *next;
};

/* One log entry waiting to be written. */
struct logent {
	int task;
	const char *state;
	int attempt;
	int final;
	char *outputs, *error, *out_tail, *err_tail;
	struct xtask *start; /* started once the entry is acknowledged
			      (NULL: none, or started early) */
};

struct xjob {
	struct executor *x;
	char id[WFP_ID_MAX];
	char token[WFP_TOKEN_MAX];
	int64_t fence;
	int64_t run;
	char *payload;
	struct wfp_workflow *wf;
	struct wfp_engine *eng;
	struct logent *q; /* entries not sent yet */
	int qn, qcap;
	struct logent *fl; /* entries of the log_append in flight */
	int fln;
	int appending; /* a log_append is in flight */
	int64_t
	    last_renew_ms; /* when the lease was last renewed (exec_mono_ms) */
	int64_t lease_end_ms; /* ours: last acknowledged renewal's send +
				 the lease; past it the job may be another's */
	int loaded;	      /* run, cancel and log read */
	int64_t replayed;     /* log entries of this run replayed */
	int cancelled;	      /* a cancel reached the engine */
	int handback;	      /* SIGTERM: release when idle */
	int finishing;	      /* finish sent */
	char *dead;	      /* cannot run: ends dead with this reason */
	char *nolog;	      /* the log refused a rollback's write: ends
				 failed with this reason, writes nothing */
	int gone;	      /* lost or ended: unlinked, free when idle */
	int pending;	      /* commands in flight */
	int live;	      /* tasks not freed */
	struct xtask *tasks;
	struct event *hb, *wake, *grace, *retry;
	struct event *lease; /* at lease_end_ms: lost (self-fencing) */
	struct xjob *next;
};

struct executor {
	struct wfp_daemon *d;
	struct exec_settings set;
	char tag[WFP_PREFIX_MAX + 2];
	struct wfp_redis *r;  /* commands */
	struct wfp_redis *rb; /* blocking reads */
	struct wfp_taskrunner *tr;
	struct xjob *jobs;
	int njobs;
	int nunfreed; /* jobs unlinked (lost or ended) not freed yet: killed
			tasks or commands of theirs still outstanding */
	int running;  /* tasks handed out over all jobs */
	int claiming, blocking;
	int64_t claim_sent_ms; /* when the claim in flight was sent */
	char last_id[64];
	int64_t started_us;	 /* monotonic, at start */
	int64_t clock_offset_us; /* Redis's clock - the monotonic clock */
	int64_t clock_sent_us;	 /* when the last TIME was sent */
	int clock_known;	 /* clock_offset_us was measured */
	struct event *beat, *grace;
	struct event *reg;   /* a registry write soon (a job started/ended) */
	int64_t reg_last_ms; /* monotonic ms of the last registry write */
	struct xorphan *orphans; /* abandoned lock waits (xlock.c) */
	int closing;		 /* executor_free runs */
	int stopping;
	int stopped; /* wfp_daemon_stopped called */
	struct wfp_metric m_claimed, m_completed, m_reverted, m_failed, m_dead,
	    m_lost, m_applied, m_reverted_tasks, m_running, m_jobs, m_log_calls,
	    m_claims, m_log_entries, m_early, m_up, m_connects;
};

/* executor.c */
struct executor *executor_new(struct wfp_daemon *d); /* NULL: logged */
int executor_exit_code(const struct executor *x);
void executor_free(struct executor *x);
void exec_claim_maybe(struct executor *x);
void exec_job_ended(struct executor *x);

/* Stopping, and nothing left to wait for (no job held, none unlinked
 * with work outstanding): tells the daemon, once. */
void exec_maybe_stopped(struct executor *x);
void exec_slot_freed(struct executor *x); /* a task ended: pump every job */
int64_t exec_now(void);

/* The monotonic clock in ms: what lease estimates are measured on (send
 * times, lease ends), so a wall clock step never lengthens a lease. */
int64_t exec_mono_ms(void);
void exec_registry_soon(struct executor *x);	/* jobs changed */
int64_t exec_skew_ms(const struct executor *x); /* Redis's clock - ours */

/* xjob.c */
struct xjob *xjob_new(struct executor *x, const redisReply *row);
void xjob_pump(struct xjob *j);
void xjob_lost(struct xjob *j, const char *why);
void xjob_handback(struct xjob *j);
void xjob_kill_tasks(struct xjob *j);
void xjob_release_all(struct executor *x);
void xtask_free(struct xtask *t);

/* xlock.c */
void xlock_acquire(struct xtask *t,
		   void (*granted)(struct xtask *t, int ok, const char *why));
void xlock_renew(struct xtask *t);
void xlock_release(struct xtask *t);
void xlock_stop(struct xtask *t);
void xlock_orphans_free(struct executor *x);

#endif
