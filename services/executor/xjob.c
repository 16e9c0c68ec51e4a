/* xjob.c - one claimed job of the executor: load, resume, run the
 * engine's steps, batch the task log, renew the lease, cancel, finish
 * (see executor-internal.h and README.md, "Workflows and the
 * executor: semantics"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor-internal.h"
#include "wfp/keys.h"
#include "wfp/log.h"
#include "wfp/util.h"

static void job_flush(struct xjob *j);
static void job_check_end(struct xjob *j);
static void task_begin(struct xtask *t);
static void lease_arm(struct xjob *j);

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

/* Frees a log entry's strings. */
static void logent_free(struct logent *e)
{
	free(e->outputs);
	free(e->error);
	free(e->out_tail);
	free(e->err_tail);
}

/* Frees j once it is gone and nothing of it is outstanding. */
static void job_maybe_free(struct xjob *j)
{
	struct executor *x = j->x;

	if (!j->gone || j->pending > 0 || j->live > 0)
		return;
	for (int i = 0; i < j->qn; i++)
		logent_free(&j->q[i]);
	for (int i = 0; i < j->fln; i++)
		logent_free(&j->fl[i]);
	free(j->q);
	free(j->fl);
	event_free(j->hb);
	event_free(j->wake);
	event_free(j->grace);
	event_free(j->retry);
	if (j->lease)
		event_free(j->lease);
	wfp_engine_free(j->eng);
	free(j->dead);
	free(j->nolog);
	wfp_workflow_free(j->wf);
	free(j->payload);
	free(j);
	x->nunfreed--;
	exec_maybe_stopped(x);
}

/* Unlinks j from the executor (it holds no slot any more). */
static void job_unlink(struct xjob *j)
{
	struct executor *x = j->x;

	if (j->gone)
		return;
	j->gone = 1;
	x->nunfreed++;
	for (struct xjob **p = &x->jobs; *p; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			break;
		}
	}
	x->njobs--;
	x->m_jobs.value = x->njobs;
	evtimer_del(j->hb);
	evtimer_del(j->wake);
	evtimer_del(j->grace);
	evtimer_del(j->retry);
	evtimer_del(j->lease);
}

/* Kills every running action of j (their callbacks still come). */
void xjob_kill_tasks(struct xjob *j)
{
	for (struct xtask *t = j->tasks; t; t = t->next) {
		if (t->run)
			wfp_taskrun_kill(t->run);
	}
}

void xjob_lost(struct xjob *j, const char *why)
{
	if (j->gone)
		return;
	wfp_warn("job %s lost (%s): its tasks are stopped and it is "
		 "forgotten",
		 j->id, why);
	j->x->m_lost.value++;
	j->live++; /* held while its tasks are dropped */
	job_unlink(j);
	for (struct xtask *t = j->tasks, *next; t; t = next) {
		next = t->next;
		if (t->run) {
			wfp_taskrun_kill(t->run);
		} else {
			xlock_stop(t);
			xtask_free(t);
		}
	}
	exec_job_ended(j->x);
	j->live--;
	job_maybe_free(j);
}

/* ------------------------------------------------------------------ */
/* Tasks                                                               */
/* ------------------------------------------------------------------ */

/* Unlinks task t of j (its slot is free) and frees it once no lock
 * command of it is in flight. A task freed late (its lock release was
 * still in flight) may be the last thing the job's end waited for: the
 * end is checked then, else the job would finish only at its next
 * heartbeat. */
void xtask_free(struct xtask *t)
{
	struct xjob *j = t->job;
	int late = t->freed;

	if (!t->freed) {
		for (struct xtask **p = &j->tasks; *p; p = &(*p)->next) {
			if (*p == t) {
				*p = t->next;
				break;
			}
		}
		t->freed = 1;
		j->x->running--;
		j->x->m_running.value = j->x->running;
	}
	if (t->lock_cmds > 0)
		return;
	if (t->poll)
		event_free(t->poll);
	free(t);
	j->live--;
	if (late && !j->gone)
		job_check_end(j);
	job_maybe_free(j);
}

/* Adds an entry to j's queue; strings are copied (NULL: none). */
static int queue_add(struct xjob *j, int task, const char *state, int attempt,
		     int final, const char *outputs, const char *error,
		     struct xtask *start)
{
	struct logent *e;

	if (j->qn == j->qcap) {
		int cap = j->qcap ? 2 * j->qcap : 16;
		struct logent *q = realloc(j->q, (size_t)cap * sizeof(*q));

		if (q == NULL)
			return -1;
		j->q = q, j->qcap = cap;
	}
	e = &j->q[j->qn++];
	memset(e, 0, sizeof(*e));
	e->task = task, e->state = state, e->attempt = attempt;
	e->final = final, e->start = start;
	e->outputs = outputs && outputs[0] ? strdup(outputs) : NULL;
	if (error && error[0]) {
		e->error = strdup(error);
		if (e->error) {
			wfp_engine_text_clean(e->error);
			wfp_engine_text_cut(e->error, WFP_REASON_MAX);
		}
	}
	return 0;
}

/* Copies a tail for the log: valid UTF-8 (other bytes '?'), bounded. */
static char *tail_copy(const char *s)
{
	char *c;
	size_t n;

	if (s == NULL || s[0] == '\0')
		return NULL;
	n = strlen(s);
	if (n >= WFP_LOG_TAIL_MAX)
		s += n - (WFP_LOG_TAIL_MAX - 1);
	c = strdup(s);
	if (c == NULL)
		return NULL;
	for (size_t i = 0, len = strlen(c); i < len;) {
		uint32_t cp;
		size_t k = wfp_utf8_next((unsigned char *)c + i, len - i, &cp);

		if (k == 0)
			c[i++] = '?';
		else
			i += k;
	}
	return c;
}

/* The deepest nesting of arrays and objects in JSON text s (strings
 * skipped): log_append refuses outputs deeper than
 * WFP_PAYLOAD_DEPTH_MAX, and a refused batch loses the job. */
static int json_depth(const char *s)
{
	int depth = 0, max = 0, in_str = 0;

	for (; s && *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = 0;
		} else if (*s == '"') {
			in_str = 1;
		} else if (*s == '{' || *s == '[') {
			if (++depth > max)
				max = depth;
		} else if (*s == '}' || *s == ']') {
			depth--;
		}
	}
	return max;
}

/* The names of t's locks, "a,b", into buf. Returns buf. */
static const char *lock_names(const struct xtask *t, char *buf, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < t->grant.n && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? "," : "",
				       t->grant.names[i]);
	return buf;
}

/* An action ended. */
static void on_task_done(const struct wfp_taskrun_result *res, void *arg)
{
	struct xtask *t = arg;
	struct xjob *j = t->job;
	struct executor *x = j->x;
	struct wfp_engine_entry l;
	int ok = res->ok;
	const char *error = res->error, *outputs = res->outputs;
	char lost[WFP_REASON_MAX], names[WFP_REASON_MAX];

	t->run = NULL;
	xlock_release(t);
	if (j->gone || (res->killed && j->handback)) {
		/* Lost, or handed back: the log says running, the next
		 * owner runs it again with the same key. */
		j->live++; /* j stays while it is looked at */
		xtask_free(t);
		j->live--;
		job_check_end(j);
		job_maybe_free(j);
		exec_slot_freed(x);
		return;
	}
	if (ok && json_depth(res->outputs) > WFP_PAYLOAD_DEPTH_MAX) {
		/* An apply's outputs are kept: they must fit the log. A
		 * revert's are not used: they are just not logged. */
		outputs = NULL;
		if (t->step.phase == WFP_ENGINE_APPLY) {
			ok = 0;
			snprintf(lost, sizeof(lost),
				 "outputs nest deeper than %d levels",
				 WFP_PAYLOAD_DEPTH_MAX);
			error = lost;
		}
	}
	if (t->lock_lost) { /* killed: it ran without its lock */
		ok = 0;
		snprintf(lost, sizeof(lost), "lock %s lost while the task ran",
			 lock_names(t, names, sizeof(names)));
		error = lost;
	}
	wfp_engine_result(j->eng, t->step.task, ok, outputs,
			  error ? error : (ok ? NULL : "failed"), exec_now(),
			  &l);
	if (ok && t->step.phase == WFP_ENGINE_APPLY)
		j->x->m_applied.value++;
	if (ok && t->step.phase == WFP_ENGINE_REVERT)
		j->x->m_reverted_tasks.value++;
	if (queue_add(j, l.task, l.state, l.attempt, l.final,
		      ok ? outputs : NULL, ok ? NULL : error, NULL) == 0 &&
	    !ok) {
		j->q[j->qn - 1].out_tail = tail_copy(res->out_tail);
		j->q[j->qn - 1].err_tail = tail_copy(res->err_tail);
	}
	xtask_free(t);
	xjob_pump(j);
	exec_slot_freed(x);
}

/* "name=fence name=fence" of t's grant into buf. */
static void lock_fences(const struct xtask *t, char *buf, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; t->granted && i < t->grant.n && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s%s=%lld",
				       i ? " " : "", t->grant.names[i],
				       (long long)t->grant.fences[i]);
}

/* Runs t's action now. */
static void task_run(struct xtask *t)
{
	struct xjob *j = t->job;
	const struct wfp_wf_task *wt = &j->wf->tasks[t->step.task];
	int revert = t->step.phase == WFP_ENGINE_REVERT;
	struct wfp_engine_inputs in;
	struct wfp_taskrun_spec spec;
	char key[WFP_ID_MAX + WFP_TASK_NAME_MAX + 32];
	char fences[WFP_LOCK_MULTI_MAX * (WFP_LOCK_NAME_MAX + 24)];

	if (wfp_engine_inputs(j->eng, t->step.task, revert, &in) != 0)
		memset(&in, 0, sizeof(in));
	snprintf(key, sizeof(key), "%s:%lld:%s", j->id, (long long)j->run,
		 wt->name);
	lock_fences(t, fences, sizeof(fences));
	spec = (struct wfp_taskrun_spec){
	    .job_id = j->id,
	    .task = wt->name,
	    .task_key = key,
	    .revert = revert,
	    .attempt = t->step.attempt,
	    .fence = j->fence,
	    .action = revert ? &wt->revert : &wt->apply,
	    .ninputs = in.n,
	    .input_names = (const char *const *)in.names,
	    .input_values = (const char *const *)in.values,
	    .lock_fences = fences,
	    .timeout_ms = wt->timeout_ms,
	};
	t->state = XT_RUNNING;
	t->run = wfp_taskrun_start(j->x->tr, &spec, on_task_done, t);
	wfp_engine_inputs_release(&in);
	if (t->run == NULL) {
		struct wfp_taskrun_result res = {0};

		res.error = "out of memory";
		res.out_tail = res.err_tail = "";
		on_task_done(&res, t);
	}
}

/* The locks of t were granted (ok) or cannot be (why). */
static void on_locks(struct xtask *t, int ok, const char *why)
{
	struct wfp_taskrun_result res = {0};
	char err[WFP_REASON_MAX];

	if (t->job->gone) {
		xtask_free(t);
		return;
	}
	if (ok) {
		task_run(t);
		return;
	}
	snprintf(err, sizeof(err), "locks: %s", why);
	res.error = err;
	res.out_tail = res.err_tail = "";
	on_task_done(&res, t);
}

/* Its running entry is acknowledged: t may start (locks first). */
static void task_begin(struct xtask *t)
{
	const struct wfp_wf_task *wt = &t->job->wf->tasks[t->step.task];

	if (wt->nlocks > 0) {
		t->state = XT_LOCKING;
		xlock_acquire(t, on_locks);
		return;
	}
	task_run(t);
}

/* A task acknowledged after a cancel arrived (or waiting for its locks
 * when it came): an apply never starts. Its `running` entry is logged
 * already, so the error says its action never ran. */
static void task_refuse(struct xtask *t)
{
	struct wfp_taskrun_result res = {0};

	res.error = WFP_WF_NOT_RUN_ERROR;
	res.out_tail = res.err_tail = "";
	on_task_done(&res, t);
}

/* A task whose start entry the log refused: it never runs; its end is
 * an apply-failed / revert-failed like a task refused by a cancel. */
static void task_unstarted(struct xtask *t)
{
	struct wfp_taskrun_result res = {0};

	res.error = "not started: its log entry was refused";
	res.out_tail = res.err_tail = "";
	on_task_done(&res, t);
}

/* The log cannot be written even for a rollback: no task starts or is
 * logged any more, running ones are killed, and the job ends failed with
 * why once they are gone. */
static void job_nolog(struct xjob *j, const char *why)
{
	const char *was = j->eng ? wfp_engine_reason(j->eng) : "";
	size_t n = strlen(was) + strlen(why) + 32;

	if (j->nolog != NULL)
		return;
	j->nolog = malloc(n); /* job_finish cuts it to a reason */
	if (j->nolog != NULL)
		snprintf(j->nolog, n, "%s%srollback stopped: %s", was,
			 was[0] ? "; " : "", why);
	if (j->nolog == NULL)
		j->nolog = strdup("task log write refused");
	for (struct xtask *t = j->tasks, *next; t; t = next) {
		next = t->next;
		if (t->run) {
			wfp_taskrun_kill(t->run);
		} else if (t->state == XT_LOCKING) {
			xlock_stop(t);
			xtask_free(t);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Stepping                                                            */
/* ------------------------------------------------------------------ */

/* The lease each log_append asks for. */
static int64_t x_vis(const struct xjob *j)
{
	return j->x->d->cfg.visibility_ms;
}

/*
 * 1 when task t may start now, before its running/reverting entry is
 * acknowledged (group commit): the lease Redis last acknowledged still
 * has more than a third of WFP_VISIBILITY_MS left on our clock (counted
 * from when that call was sent), so no other executor can hold the job
 * before the entry is written or the job is lost (STALE kills the task).
 * An apply after a cancel never starts early (on_append refuses it).
 * Only plugin actions start early: an exec action costs a process spawn
 * (milliseconds, far more than the round trip saved), and waiting for the
 * acknowledgement, which carries a cancel, means a program with outside
 * effects never starts after a cancel the executor could have seen.
 */
static int may_start_early(const struct xjob *j, const struct xtask *t,
			   int64_t now)
{
	const struct wfp_wf_task *wt = &j->wf->tasks[t->step.task];
	const struct wfp_action *a =
	    t->step.phase == WFP_ENGINE_REVERT ? &wt->revert : &wt->apply;

	if (a->kind != WFP_ACTION_PLUGIN)
		return 0;
	if (j->handback || (j->cancelled && t->step.phase == WFP_ENGINE_APPLY &&
			    !t->step.recover))
		return 0;
	return j->lease_end_ms - now > x_vis(j) / EXEC_EARLY_MARGIN_DIV;
}

/* Starts task t of entry e early (its entry is not acknowledged). */
static void start_early(struct xjob *j, struct logent *e)
{
	struct xtask *t = e->start;

	e->start = NULL;
	j->x->m_early.value++;
	task_begin(t);
}

/* Hands out what the engine lets start while the executor has free
 * task slots, queueing each one's running/reverting/skipped entry; a
 * task starts at once when the lease allows (may_start_early), else
 * once its entry is acknowledged (on_append). */
static void job_steps(struct xjob *j)
{
	struct executor *x = j->x;
	struct wfp_engine_step s;
	int64_t now = exec_now();

	while (!x->stopping && !j->handback && !j->nolog &&
	       x->running < x->d->cfg.concurrency &&
	       wfp_engine_next(j->eng, now, &s) == 1) {
		struct xtask *t;

		if (s.phase == WFP_ENGINE_SKIP) {
			queue_add(j, s.task, "skipped", s.attempt, 0, NULL,
				  NULL, NULL);
			continue;
		}
		t = calloc(1, sizeof(*t));
		if (t == NULL)
			break; /* the engine holds it running: lease ends */
		t->job = j, t->step = s, t->state = XT_LOGGING;
		t->next = j->tasks, j->tasks = t;
		j->live++;
		x->running++;
		x->m_running.value = x->running;
		if (queue_add(j, s.task,
			      s.phase == WFP_ENGINE_APPLY ? "running"
							  : "reverting",
			      s.attempt, 0, NULL, NULL, t) == 0 &&
		    j->qn <= EXEC_EARLY_QUEUE_MAX &&
		    may_start_early(j, t, exec_mono_ms()))
			start_early(j, &j->q[j->qn - 1]);
	}
}

/* Arms the wake timer at the engine's next due retry. */
static void job_wake_arm(struct xjob *j)
{
	int64_t due = wfp_engine_wake_ms(j->eng), wait;
	struct timeval tv;

	if (due < 0) {
		evtimer_del(j->wake);
		return;
	}
	wait = due - exec_now();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000, tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(j->wake, &tv);
}

void xjob_pump(struct xjob *j)
{
	if (j->gone || !j->loaded || j->finishing || j->eng == NULL)
		return;
	job_steps(j);
	job_flush(j);
	job_wake_arm(j);
	job_check_end(j);
}

/* ------------------------------------------------------------------ */
/* The task log                                                        */
/* ------------------------------------------------------------------ */

/* Applies a cancel reason returned by log_append. */
static void job_cancel(struct xjob *j, const char *reason)
{
	struct timeval tv;

	if (j->cancelled || reason == NULL || reason[0] == '\0' ||
	    j->eng == NULL) /* a dead job (no engine) only ends */
		return;
	j->cancelled = 1;
	wfp_info("job %s: cancel requested (%s)", j->id, reason);
	wfp_engine_cancel(j->eng, reason);
	/* An apply still waiting for its locks has not started: it never
	 * will. */
	for (struct xtask *t = j->tasks, *next; t; t = next) {
		next = t->next;
		if (t->state == XT_LOCKING &&
		    t->step.phase == WFP_ENGINE_APPLY && !t->step.recover) {
			xlock_stop(t);
			task_refuse(t);
		}
	}
	tv.tv_sec = j->x->set.grace_ms / 1000;
	tv.tv_usec = (j->x->set.grace_ms % 1000) * 1000;
	evtimer_add(j->grace, &tv);
}

/* Arms the lease timer at lease_end_ms. */
static void lease_arm(struct xjob *j)
{
	int64_t wait = j->lease_end_ms - exec_mono_ms();
	struct timeval tv;

	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000, tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(j->lease, &tv);
}

/* The log refused a write (not STALE/NOJOB: the job is still ours, but
 * what was sent cannot be recorded). Its entries are dropped; a task
 * whose start entry was refused never starts. The first refusal starts
 * a rollback with the refusal as the reason (reverts are logged as
 * usual, so an entry that alone was wrong costs only the run); a refusal
 * during a rollback stops it: running tasks are killed, nothing more is
 * written and the job ends failed, applied tasks possibly left. */
static void log_refused(struct xjob *j, struct logent *fl, int fln,
			const char *err)
{
	char why[WFP_REASON_MAX];

	wfp_warn("job %s: task log write refused: %s", j->id, err);
	snprintf(why, sizeof(why), "task log write refused: %s", err);
	if (j->eng != NULL && !wfp_engine_rolling_back(j->eng))
		wfp_engine_abort(j->eng, why);
	else
		job_nolog(j, why);
	for (int i = 0; i < fln; i++) {
		if (fl[i].start)
			task_unstarted(fl[i].start);
		logent_free(&fl[i]);
	}
	free(fl);
	xjob_pump(j);
	job_check_end(j);
}

/* Puts the fln entries of fl (an unanswered call's) back at the head of
 * the queue, in order, and frees fl. */
static void queue_front(struct xjob *j, struct logent *fl, int fln)
{
	struct logent *q = malloc((size_t)(fln + j->qn + 1) * sizeof(*q));

	if (q == NULL)
		abort(); /* as job_send: nothing sane is left to do */
	if (fln > 0)
		memcpy(q, fl, (size_t)fln * sizeof(*q));
	if (j->qn > 0)
		memcpy(q + fln, j->q, (size_t)j->qn * sizeof(*q));
	free(j->q);
	j->q = q, j->qn += fln, j->qcap = j->qn + 1;
	free(fl);
}

/* Drops the `running` entries of the n entries of a, keeping the others
 * in order; the tasks that were to start with them go to un[*nun], but
 * those whose start the log holds already (step.rerun: an apply a lost
 * owner left running) go to go[*ngo]. Returns how many entries are kept. */
static int drop_starts(struct logent *a, int n, struct xtask **un, int *nun,
		       struct xtask **go, int *ngo)
{
	int keep = 0;

	for (int i = 0; i < n; i++) {
		if (strcmp(a[i].state, "running") != 0) {
			a[keep++] = a[i];
			continue;
		}
		if (a[i].start && a[i].start->step.rerun)
			go[(*ngo)++] = a[i].start;
		else if (a[i].start)
			un[(*nun)++] = a[i].start;
		logent_free(&a[i]);
	}
	return keep;
}

/* The log is full for starts (LOGFULL: past WFP_LOG_ENTRIES_MAX entries
 * or WFP_LOG_BYTES_MAX bytes). The `running` entries of the call and of
 * the queue are dropped (a task waiting for its entry never starts; one
 * started early ends as usual), the call's other entries (ends of tasks
 * that ran) go back to the head of the queue, and a rollback starts with
 * the refusal as its reason (unless one runs): ends and reverts fit in
 * the log's reserve. An apply the log already shows running (a lost
 * owner's: it may have done its work) still runs, as a recover, so that
 * it is reverted rather than left applied. */
static void log_full(struct xjob *j, struct logent *fl, int fln,
		     const char *err)
{
	char why[WFP_REASON_MAX];
	size_t n = (size_t)(fln + j->qn + 1);
	struct xtask **un = malloc(n * sizeof(*un)),
		     **go = malloc(n * sizeof(*go));
	int nun = 0, ngo = 0;

	if (un == NULL || go == NULL)
		abort(); /* as job_send */
	wfp_warn("job %s: task log full: %s", j->id, err);
	snprintf(why, sizeof(why), "task log write refused: %s", err);
	j->qn = drop_starts(j->q, j->qn, un, &nun, go, &ngo);
	queue_front(j, fl, drop_starts(fl, fln, un, &nun, go, &ngo));
	if (!wfp_engine_rolling_back(j->eng))
		wfp_engine_abort(j->eng, why);
	for (int i = 0; i < ngo; i++) {
		if (j->handback) { /* the next owner runs it */
			xtask_free(go[i]);
			continue;
		}
		go[i]->step.recover = 1; /* a cancel never refuses it */
		task_begin(go[i]);
	}
	for (int i = 0; i < nun; i++)
		task_unstarted(un[i]);
	free(un);
	free(go);
	xjob_pump(j);
	job_check_end(j);
}

/* True when err is log_append's refusal of a call for its `running`
 * entries (the log is full for starts, not past its reserve). */
static int logfull_starts(const char *err)
{
	return strncmp(err, "LOGFULL", 7) == 0 &&
	       strstr(err, ": no task starts past ") != NULL;
}

/* The log_append answered. */
static void on_append(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xjob *j = arg;
	struct logent *fl = j->fl;
	int fln = j->fln;
	struct timeval tv = {0, EXEC_RETRY_MS * 1000};

	(void)r;
	j->pending--;
	j->appending = 0;
	j->fl = NULL, j->fln = 0;
	if (j->gone) {
		for (int i = 0; i < fln; i++)
			logent_free(&fl[i]);
		free(fl);
		job_maybe_free(j);
		return;
	}
	if (reply == NULL) {
		/* not sent, lost, or Redis cannot write now (the link hands
		 * such error replies over as NULL: wfp_redis_error_transient):
		 * the same entries again (the lease timer ends it if never) */
		queue_front(j, fl, fln);
		evtimer_add(j->retry, &tv);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR &&
	    (strncmp(reply->str, "STALE", 5) == 0 ||
	     strncmp(reply->str, "NOJOB", 5) == 0)) {
		for (int i = 0; i < fln; i++)
			logent_free(&fl[i]);
		free(fl);
		xjob_lost(j, reply->str);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR && j->eng != NULL &&
	    (logfull_starts(reply->str) ||
	     (strncmp(reply->str, "LOGFULL", 7) == 0 &&
	      !wfp_engine_rolling_back(j->eng)))) {
		log_full(j, fl, fln, reply->str);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR || reply->elements != 2) {
		log_refused(j, fl, fln,
			    reply->type == REDIS_REPLY_ERROR ? reply->str
							     : "bad reply");
		return;
	}
	j->lease_end_ms = j->last_renew_ms + x_vis(j);
	lease_arm(j);
	job_cancel(j, reply->element[1]->str);
	for (int i = 0; i < fln; i++) {
		if (fl[i].start && j->handback)
			xtask_free(fl[i].start); /* the next owner runs it */
		else if (fl[i].start && j->cancelled &&
			 fl[i].start->step.phase == WFP_ENGINE_APPLY &&
			 !fl[i].start->step.recover)
			task_refuse(fl[i].start);
		else if (fl[i].start)
			task_begin(fl[i].start);
		logent_free(&fl[i]);
	}
	free(fl);
	xjob_pump(j);
}

/* Drops every queued entry (the log cannot be written); a task that was
 * to start with its entry never does. */
static void queue_drop(struct xjob *j)
{
	int n = j->qn;

	j->qn = 0;
	for (int i = 0; i < n; i++) {
		if (j->q[i].start)
			xtask_free(j->q[i].start);
		logent_free(&j->q[i]);
	}
}

/* Sends up to WFP_LOG_BATCH_MAX queued entries (or, with none queued
 * and force, a heartbeat) in one log_append, renewing the lease. */
static void job_send(struct xjob *j, int force)
{
	struct executor *x = j->x;
	struct wfp_key job = wfp_key_job(x->tag, j->id);
	struct wfp_key log = wfp_key_log(x->tag, j->id);
	const char *argv[8 + 8 * WFP_LOG_BATCH_MAX];
	char fence[24], vis[24], count[16], att[WFP_LOG_BATCH_MAX][16];
	int n = j->qn < WFP_LOG_BATCH_MAX ? j->qn : WFP_LOG_BATCH_MAX;

	if (j->nolog != NULL) { /* nothing more is written */
		queue_drop(j);
		n = 0;
	}
	if (j->appending || (n == 0 && !force))
		return;
	snprintf(fence, sizeof(fence), "%lld", (long long)j->fence);
	snprintf(vis, sizeof(vis), "%lld", (long long)x->d->cfg.visibility_ms);
	snprintf(count, sizeof(count), "%d", n);
	argv[0] = job.s, argv[1] = log.s, argv[2] = x->tag, argv[3] = j->id;
	argv[4] = j->token, argv[5] = fence, argv[6] = vis, argv[7] = count;
	for (int i = 0; i < n; i++) {
		const struct logent *e = &j->q[i];
		const char **a = argv + 8 + 8 * i;

		snprintf(att[i], sizeof(att[i]), "%d", e->attempt);
		a[0] = j->wf->tasks[e->task].name, a[1] = e->state;
		a[2] = att[i], a[3] = e->outputs ? e->outputs : "";
		a[4] = e->error ? e->error : "", a[5] = e->final ? "1" : "";
		a[6] = e->out_tail ? e->out_tail : "";
		a[7] = e->err_tail ? e->err_tail : "";
	}
	if (wfp_redis_script(x->r, WFP_LUA_LOG_APPEND, on_append, j, 2,
			     8 + 8 * n, argv, NULL) != 0) {
		struct timeval tv = {0, EXEC_RETRY_MS * 1000};

		evtimer_add(j->retry, &tv);
		return;
	}
	j->fl = malloc((size_t)(n + 1) * sizeof(*j->fl));
	if (j->fl == NULL)
		abort(); /* a few bytes: nothing sane is left to do */
	if (n > 0) {	 /* j->q is NULL until an entry was queued */
		memcpy(j->fl, j->q, (size_t)n * sizeof(*j->fl));
		memmove(j->q, j->q + n, (size_t)(j->qn - n) * sizeof(*j->q));
	}
	j->qn -= n, j->fln = n;
	j->appending = 1;
	j->pending++;
	j->last_renew_ms = exec_mono_ms();
	x->m_log_calls.value++;
	x->m_log_entries.value += n;
	/* Tasks held back by a full queue are in this call now. */
	for (int i = 0; i < n; i++) {
		if (j->fl[i].start &&
		    may_start_early(j, j->fl[i].start, j->last_renew_ms))
			start_early(j, &j->fl[i]);
	}
}

static void job_flush(struct xjob *j)
{
	job_send(j, 0);
}

/* ------------------------------------------------------------------ */
/* Ending                                                              */
/* ------------------------------------------------------------------ */

/* finish answered. */
static void on_finish(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xjob *j = arg;

	(void)r;
	j->pending--;
	if (j->gone) {
		job_maybe_free(j);
		return;
	}
	if (reply == NULL) { /* lost: try again (the script is fenced) */
		struct timeval tv = {0, EXEC_RETRY_MS * 1000};

		j->finishing = 0;
		evtimer_add(j->retry, &tv);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR)
		wfp_warn("job %s: finish refused: %s", j->id, reply->str);
	else
		wfp_info("job %s: %s", j->id, reply->str);
	job_unlink(j);
	exec_job_ended(j->x);
	job_maybe_free(j);
}

/* Sends finish with outcome and reason. */
static void job_finish(struct xjob *j, const char *outcome, const char *reason)
{
	struct executor *x = j->x;
	struct wfp_key job = wfp_key_job(x->tag, j->id);
	char fence[24], ret[24], why[WFP_REASON_MAX];
	const char *argv[8] = {job.s, x->tag,  j->id, j->token,
			       fence, outcome, why,   ret};

	snprintf(fence, sizeof(fence), "%lld", (long long)j->fence);
	snprintf(ret, sizeof(ret), "%lld", (long long)x->d->cfg.retention_ms);
	wfp_strlcpy(why, reason ? reason : "", sizeof(why));
	wfp_engine_text_clean(why);
	wfp_engine_text_cut(why, sizeof(why));
	if (wfp_redis_script(x->r, WFP_LUA_FINISH, on_finish, j, 1, 8, argv,
			     NULL) != 0) {
		struct timeval tv = {0, EXEC_RETRY_MS * 1000};

		evtimer_add(j->retry, &tv);
		return;
	}
	j->finishing = 1;
	j->pending++;
	if (strcmp(outcome, "complete") == 0)
		x->m_completed.value++;
	else if (strcmp(outcome, "revert") == 0)
		x->m_reverted.value++;
	else if (strcmp(outcome, "fail") == 0)
		x->m_failed.value++;
	else if (strcmp(outcome, "dead") == 0)
		x->m_dead.value++;
}

/* Finishes j when its run has ended (or it is handed back) and
 * everything is written. */
static void job_check_end(struct xjob *j)
{
	enum wfp_engine_status st;

	if (j->gone || j->finishing || j->appending || j->qn > 0)
		return;
	if (j->dead) {
		job_finish(j, "dead", j->dead);
		return;
	}
	if (j->nolog) {
		if (j->live == 0)
			job_finish(j, "fail", j->nolog);
		return;
	}
	if (j->handback) {
		if (j->live == 0)
			job_finish(j, "release", "executor stopping");
		return;
	}
	if (j->live > 0)
		return;
	st = wfp_engine_status(j->eng);
	if (st == WFP_ENGINE_COMPLETED)
		job_finish(j, "complete", "");
	else if (st == WFP_ENGINE_REVERTED)
		job_finish(j, "revert", wfp_engine_reason(j->eng));
	else if (st == WFP_ENGINE_FAILED)
		job_finish(j, "fail", wfp_engine_reason(j->eng));
}

void xjob_handback(struct xjob *j)
{
	if (j->gone)
		return;
	j->handback = 1;
	for (struct xtask *t = j->tasks, *next; t; t = next) {
		next = t->next;
		if (t->state == XT_LOCKING) { /* never started: let go */
			xlock_stop(t);
			xtask_free(t);
		}
	}
	job_check_end(j);
}

/* ------------------------------------------------------------------ */
/* Timers                                                              */
/* ------------------------------------------------------------------ */

/* Every third of the lease: a heartbeat unless a write renewed it, and
 * the locks of running tasks. */
static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct xjob *j = arg;
	int64_t third = j->x->d->cfg.visibility_ms / 3;

	(void)fd, (void)what;
	if (j->gone)
		return;
	if (!j->finishing && exec_mono_ms() - j->last_renew_ms >= third - 20)
		job_send(j, 1);
	for (struct xtask *t = j->tasks; t; t = t->next) {
		if (t->granted)
			xlock_renew(t);
	}
}

/* Our lease ends: no renewal was acknowledged in time (Redis cut off):
 * the job may already be another executor's, so its tasks stop now. */
static void on_lease_end(evutil_socket_t fd, short what, void *arg)
{
	struct xjob *j = arg;

	(void)fd, (void)what;
	if (j->gone)
		return;
	if (exec_mono_ms() < j->lease_end_ms) {
		lease_arm(j);
		return;
	}
	xjob_lost(j, "its lease ran out unrenewed: Redis unreachable");
}

/* A retry is due. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	xjob_pump(arg);
}

/* The grace after a cancel ran out: kill the applies that still run
 * (never a revert: the rollback needs it). */
static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct xjob *j = arg;

	(void)fd, (void)what;
	if (j->gone)
		return;
	for (struct xtask *t = j->tasks; t; t = t->next) {
		if (t->run && t->step.phase == WFP_ENGINE_APPLY) {
			wfp_info("job %s: killing task %s after the grace",
				 j->id, j->wf->tasks[t->step.task].name);
			wfp_taskrun_kill(t->run);
		}
	}
}

/* A write failed earlier: send again. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct xjob *j = arg;

	(void)fd, (void)what;
	if (j->gone)
		return;
	job_flush(j);
	job_check_end(j);
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* Value of field name in a flat field list, or NULL. */
static const char *entry_get(const redisReply *f, const char *name)
{
	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		if (f->element[i]->str && strcmp(f->element[i]->str, name) == 0)
			return f->element[i + 1]->str;
	}
	return NULL;
}

/* Replays the log entries of the current run. Their `at` is Redis's
 * clock; the engine's is ours (a resumed backoff ends at at + wait). */
static void job_replay(struct xjob *j, const redisReply *r)
{
	int n = 0;
	int64_t skew = exec_skew_ms(j->x);

	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *f = r->element[i]->element[1];
		const char *run = entry_get(f, "run");
		const char *task = entry_get(f, "task");
		const char *state = entry_get(f, "state");
		const char *attempt = entry_get(f, "attempt");
		const char *final = entry_get(f, "final");
		const char *at = entry_get(f, "at");

		if (!run || atoll(run) != j->run || !task || !state || !attempt)
			continue;
		if (wfp_engine_replay(j->eng, task, state, atoi(attempt),
				      final && strcmp(final, "1") == 0,
				      entry_get(f, "outputs"),
				      entry_get(f, "error"),
				      at ? atoll(at) - skew : exec_now()) != 0)
			wfp_warn("job %s: log entry of unknown task '%s' or "
				 "state '%s' ignored",
				 j->id, task, state);
		n++;
	}
	j->replayed += n;
}

/* The job hash's run and cancel. */
static void on_fields(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xjob *j = arg;

	(void)r;
	j->pending--;
	if (j->gone || reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2)
		return; /* on_log sees the same failure */
	j->run = reply->element[0]->str ? atoll(reply->element[0]->str) : 1;
	if (j->run < 1)
		j->run = 1;
	if (reply->element[1]->str && reply->element[1]->str[0])
		job_cancel(j, reply->element[1]->str);
}

static void on_log(struct wfp_redis *r, redisReply *reply, void *arg);

/* Asks for the page of the log after entry id `after` ("-": the first). */
static int log_page(struct xjob *j, const char *after)
{
	struct wfp_key log = wfp_key_log(j->x->tag, j->id);
	char count[24], from[80];
	const char *xr[6] = {"XRANGE", log.s, from, "+", "COUNT", count};

	snprintf(count, sizeof(count), "%d", EXEC_LOG_PAGE);
	snprintf(from, sizeof(from), "%s%s", strcmp(after, "-") ? "(" : "",
		 after);
	if (wfp_redis_command(j->x->r, 0, on_log, j, 6, xr, NULL) != 0)
		return -1;
	j->pending++;
	return 0;
}

/* A page of the log: replayed; the next page, or resume and run. */
static void on_log(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct xjob *j = arg;

	(void)r;
	j->pending--;
	if (j->gone) {
		job_maybe_free(j);
		return;
	}
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		/* Cannot read it: hand the job back, untouched. */
		j->handback = 1;
		j->loaded = 1;
		job_check_end(j);
		return;
	}
	job_replay(j, reply);
	if (reply->elements == EXEC_LOG_PAGE) {
		const char *last =
		    reply->element[reply->elements - 1]->element[0]->str;

		if (log_page(j, last) == 0)
			return;
		j->handback = 1, j->loaded = 1;
		job_check_end(j);
		return;
	}
	if (j->replayed > 0)
		wfp_info("job %s: resuming run %lld from %lld log entries",
			 j->id, (long long)j->run, (long long)j->replayed);
	if (j->cancelled) /* the cancel came before the replay */
		wfp_engine_cancel(j->eng, "");
	wfp_engine_begin(j->eng);
	j->loaded = 1;
	xjob_pump(j);
}

/* Reads run, cancel and the log of j (pipelined: one round trip for a
 * log of up to EXEC_LOG_PAGE entries). */
static void job_load(struct xjob *j)
{
	struct wfp_key job = wfp_key_job(j->x->tag, j->id);
	const char *hm[4] = {"HMGET", job.s, "run", "cancel"};

	if (wfp_redis_command(j->x->r, 0, on_fields, j, 4, hm, NULL) == 0)
		j->pending++;
	if (log_page(j, "-") == 0)
		return;
	j->handback = 1, j->loaded = 1;
	job_check_end(j);
}

/* Parses the payload; a job that cannot run ends dead. Returns 0 when
 * the engine is ready. */
static int job_parse(struct xjob *j)
{
	char err[WFP_REASON_MAX];
	int rc = wfp_workflow_parse(j->payload, strlen(j->payload), &j->wf, err,
				    sizeof(err));

	if (rc == 0)
		wfp_strlcpy(err, "payload holds no workflow", sizeof(err));
	if (rc == 1) {
		j->eng = wfp_engine_new(j->wf);
		if (j->eng != NULL)
			return 0;
		wfp_strlcpy(err, "out of memory", sizeof(err));
	}
	wfp_warn("job %s cannot run: %s", j->id, err);
	j->loaded = 1;
	j->dead = strdup(err);
	if (j->dead == NULL)
		j->handback = 1;
	job_check_end(j);
	return -1;
}

/* Makes a job's timers; -1 when memory runs out. */
static int job_timers(struct xjob *j)
{
	struct event_base *base = j->x->d->base;
	int64_t third = j->x->d->cfg.visibility_ms / 3;
	struct timeval tv = {third / 1000, (third % 1000) * 1000};

	j->hb = event_new(base, -1, EV_PERSIST, on_heartbeat, j);
	j->wake = evtimer_new(base, on_wake, j);
	j->grace = evtimer_new(base, on_grace, j);
	j->retry = evtimer_new(base, on_retry, j);
	j->lease = evtimer_new(base, on_lease_end, j);
	if (!j->hb || !j->wake || !j->grace || !j->retry || !j->lease)
		return -1;
	evtimer_add(j->hb, &tv);
	lease_arm(j);
	return 0;
}

struct xjob *xjob_new(struct executor *x, const redisReply *row)
{
	struct xjob *j = calloc(1, sizeof(*j));
	redisReply *const *e = row->element;

	if (j == NULL)
		return NULL;
	j->x = x;
	j->run = 1;
	wfp_strlcpy(j->id, e[0]->str ? e[0]->str : "", sizeof(j->id));
	wfp_strlcpy(j->token, e[1]->str ? e[1]->str : "", sizeof(j->token));
	j->fence = e[2]->integer;
	j->payload = strdup(e[6]->str ? e[6]->str : "{}");
	j->last_renew_ms = exec_mono_ms();
	j->lease_end_ms = x->claim_sent_ms + x->d->cfg.visibility_ms;
	if (j->payload == NULL || job_timers(j) != 0) {
		j->gone = 1;
		x->nunfreed++; /* (job_maybe_free counts it off) */
		job_maybe_free(j);
		return NULL;
	}
	j->next = x->jobs, x->jobs = j;
	x->njobs++;
	x->m_jobs.value = x->njobs;
	x->m_claimed.value++;
	wfp_info("job %s claimed (fence %lld)", j->id, (long long)j->fence);
	if (job_parse(j) == 0)
		job_load(j);
	return j;
}

void xjob_release_all(struct executor *x)
{
	for (struct xjob *j = x->jobs; j; j = j->next)
		xjob_handback(j);
}
