/* engine.c - one job's run of a workflow, without I/O (see engine.h). */
#include "engine.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/util.h"

/* Where one task is. Every value is one step of engine.h's rules. */
enum task_state {
	TS_WAITING,	   /* some dep has not applied yet */
	TS_READY,	   /* in the ready queue */
	TS_APPLY_BACKOFF,  /* an apply attempt failed; next one at due_ms */
	TS_APPLYING,	   /* apply handed out */
	TS_APPLIED,	   /* applied (in the application order) */
	TS_FAILED,	   /* apply failed for good, or was abandoned */
	TS_REVERT_BACKOFF, /* a revert attempt failed; next one at due_ms */
	TS_REVERTING,	   /* revert handed out */
	TS_REVERTED,	   /* reverted, or skipped (no revert action) */
	TS_REVERT_FAILED,  /* revert failed for good */
};

struct etask {
	enum task_state state;
	int waiting;	    /* deps not applied yet */
	int attempt;	    /* apply attempts made (or replayed) */
	int revert_attempt; /* revert attempts made */
	int64_t due_ms;	    /* a backoff's end */
	char *outputs;	    /* JSON object text when applied with outputs */
	int unfinished;	    /* replayed: its last apply entry is `running` */
};

struct wfp_engine {
	const struct wfp_workflow *wf;
	struct etask *t;
	int *ready; /* FIFO of task indices, each queued at most once */
	int rhead, rtail;
	int *backoff; /* tasks in TS_APPLY_BACKOFF (unordered) */
	int nbackoff;
	int *byname;  /* task indices sorted by name, for the replay */
	int *recover; /* rollback: unfinished applies to run again first */
	int nrecover;
	int begun;  /* wfp_engine_begin ran */
	int *order; /* applied tasks in the order they applied */
	int norder;
	int top; /* rollback: order[top] is the next to revert */
	int napplied;
	int running;
	int rollback;
	int revert_failures;
	json_t *env; /* payload.inputs, then outputs applied so far */
	char reason[WFP_ENGINE_REASON_MAX];
	int cancelled;			    /* wfp_engine_cancel ran */
	char failed[WFP_ENGINE_REASON_MAX]; /* "T (why), ..." */
};

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

char *wfp_engine_text_clean(char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t len;

		if (c < 0x20 || c == 0x7f) {
			s[i++] = ' ';
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		len = wfp_utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (len == 0 || cp <= 0x9f) {
			s[i++] = '?';
			continue;
		}
		i += len;
	}
	return s;
}

void wfp_engine_text_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < max)
		return;
	n = max - 1;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

/* Appends text to buf (size WFP_ENGINE_REASON_MAX), cut as text. */
static void reason_add(char *buf, const char *text)
{
	size_t n = strlen(buf);

	if (n + 1 >= WFP_ENGINE_REASON_MAX)
		return;
	snprintf(buf + n, WFP_ENGINE_REASON_MAX - n, "%s", text);
	wfp_engine_text_cut(buf, WFP_ENGINE_REASON_MAX);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

/* Adds a name/value to env when the name is a data name and there is
 * room (a later value of the same name wins). */
static void env_set(json_t *env, const char *name, json_t *value)
{
	if (!wfp_word_ok(name, WFP_DATA_NAME_MAX, "_") ||
	    (json_object_get(env, name) == NULL &&
	     json_object_size(env) >= WFP_ENGINE_INPUTS_MAX))
		return;
	if (json_is_string(value)) {
		json_object_set(env, name, value);
		return;
	}
	char *dump = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	json_object_set_new(env, name, json_string(dump ? dump : ""));
	free(dump);
}

/* Adds the keys of an outputs object text to env. */
static void env_merge(json_t *env, const char *outputs)
{
	json_t *o =
	    outputs ? json_loads(outputs, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const char *k;
	json_t *v;

	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	json_object_foreach(o, k, v)
	{
		env_set(env, k, v);
	}
	json_decref(o);
}

static const struct wfp_workflow *sort_wf; /* for byname_cmp */

/* Orders task indices by name. */
static int byname_cmp(const void *a, const void *b)
{
	return strcmp(sort_wf->tasks[*(const int *)a].name,
		      sort_wf->tasks[*(const int *)b].name);
}

/* Index of the task called name, or -1 (binary search of byname). */
static int task_find(const struct wfp_engine *e, const char *name)
{
	int lo = 0, hi = e->wf->ntasks - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(name, e->wf->tasks[e->byname[mid]].name);

		if (c == 0)
			return e->byname[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

struct wfp_engine *wfp_engine_new(const struct wfp_workflow *wf)
{
	struct wfp_engine *e = calloc(1, sizeof(*e));
	size_t n = (size_t)wf->ntasks + 1;

	if (e == NULL)
		return NULL;
	e->wf = wf;
	e->t = calloc(n, sizeof(*e->t));
	e->ready = calloc(n, sizeof(int));
	e->backoff = calloc(n, sizeof(int));
	e->order = calloc(n, sizeof(int));
	e->recover = calloc(n, sizeof(int));
	e->byname = calloc(n, sizeof(int));
	e->env = json_object();
	if (!e->t || !e->ready || !e->backoff || !e->order || !e->byname ||
	    !e->recover || !e->env) {
		wfp_engine_free(e);
		return NULL;
	}
	for (int i = 0; i < wf->ntasks; i++)
		e->byname[i] = i;
	sort_wf = wf;
	qsort(e->byname, (size_t)wf->ntasks, sizeof(int), byname_cmp);
	for (int i = 0; i < wf->ninputs; i++) {
		json_t *v = json_string(wf->inputs[i].value);

		env_set(e->env, wf->inputs[i].name, v);
		json_decref(v);
	}
	return e;
}

void wfp_engine_free(struct wfp_engine *e)
{
	if (e == NULL)
		return;
	for (int i = 0; e->t && i < e->wf->ntasks; i++)
		free(e->t[i].outputs);
	free(e->t);
	free(e->ready);
	free(e->backoff);
	free(e->order);
	free(e->recover);
	free(e->byname);
	json_decref(e->env);
	free(e);
}

/* ------------------------------------------------------------------ */
/* Moves                                                               */
/* ------------------------------------------------------------------ */

/* The wait before attempt + 1 after `attempt` failed tries. */
static int64_t backoff_ms(const struct wfp_wf_task *wt, int attempt)
{
	int64_t ms = wt->backoff_ms;

	for (int i = 1; i < attempt && ms < WFP_ENGINE_BACKOFF_CAP_MS; i++)
		ms *= 2;
	return ms < WFP_ENGINE_BACKOFF_CAP_MS ? ms : WFP_ENGINE_BACKOFF_CAP_MS;
}

/* Rollback mode after a resume: an apply the log shows running without
 * an end (its executor died; the action may have done its work) and not
 * handed out again yet runs again first (same key), as a running apply
 * is let finish in a live rollback; it is reverted when it applies. */
static void recover_collect(struct wfp_engine *e)
{
	for (int i = 0; i < e->wf->ntasks; i++) {
		struct etask *t = &e->t[i];

		if (t->unfinished &&
		    (t->state == TS_WAITING || t->state == TS_READY)) {
			t->unfinished = 0;
			e->recover[e->nrecover++] = i;
		}
	}
}

/* Enters rollback mode with reason (kept when one is set already). */
static void rollback(struct wfp_engine *e, const char *reason)
{
	if (!e->rollback) {
		e->rollback = 1;
		e->top = e->norder - 1;
		if (e->begun)
			recover_collect(e);
	}
	if (e->reason[0] == '\0')
		reason_add(e->reason, reason);
}

/* Task i applied with outputs: into the order, its dependants counted
 * down (queued when forward and ready). */
static void mark_applied(struct wfp_engine *e, int i, const char *outputs,
			 int queue)
{
	const struct wfp_wf_task *wt = &e->wf->tasks[i];
	struct etask *t = &e->t[i];

	t->state = TS_APPLIED;
	free(t->outputs);
	t->outputs = outputs && outputs[0] ? strdup(outputs) : NULL;
	env_merge(e->env, t->outputs);
	e->order[e->norder++] = i;
	e->napplied++;
	if (e->rollback)
		e->top = e->norder - 1;
	if (!queue)
		return;
	for (int k = 0; k < wt->nnext; k++) {
		struct etask *n = &e->t[wt->next[k]];

		if (--n->waiting == 0 && n->state == TS_WAITING) {
			n->state = TS_READY;
			e->ready[e->rtail++] = wt->next[k];
		}
	}
}

/* Drops task i from the backoff list. */
static void backoff_drop(struct wfp_engine *e, int i)
{
	for (int k = 0; k < e->nbackoff; k++) {
		if (e->backoff[k] == i) {
			e->backoff[k] = e->backoff[--e->nbackoff];
			return;
		}
	}
}

/* Records a revert of task i that failed for good. */
static void revert_failed(struct wfp_engine *e, int i, const char *error)
{
	char one[WFP_ENGINE_REASON_MAX];

	e->t[i].state = TS_REVERT_FAILED;
	snprintf(one, sizeof(one), "%s%s (%s)", e->revert_failures ? ", " : "",
		 e->wf->tasks[i].name, error && error[0] ? error : "failed");
	reason_add(e->failed, one);
	e->revert_failures++;
}

/* ------------------------------------------------------------------ */
/* Replay                                                              */
/* ------------------------------------------------------------------ */

/* Replays an apply-phase entry of task i. */
static void replay_apply(struct wfp_engine *e, int i, const char *state,
			 int attempt, int final, const char *outputs,
			 const char *error, int64_t at_ms)
{
	struct etask *t = &e->t[i];
	char why[WFP_ENGINE_REASON_MAX];

	if (t->state == TS_APPLIED || t->state >= TS_REVERT_BACKOFF)
		return; /* never applied twice; a rollback never undone */
	t->unfinished = strcmp(state, "running") == 0;
	if (t->unfinished) {
		t->attempt = attempt - 1; /* retried with the same attempt */
		backoff_drop(e, i);
		t->state = TS_WAITING;
	} else if (strcmp(state, "applied") == 0) {
		backoff_drop(e, i);
		mark_applied(e, i, outputs, 0);
	} else if (final) {
		backoff_drop(e, i);
		t->state = TS_FAILED;
		snprintf(why, sizeof(why), "task %s failed: %s",
			 e->wf->tasks[i].name, error ? error : "");
		rollback(e, why);
	} else {
		t->attempt = attempt;
		t->state = TS_APPLY_BACKOFF;
		t->due_ms = at_ms + backoff_ms(&e->wf->tasks[i], attempt);
		backoff_drop(e, i);
		e->backoff[e->nbackoff++] = i;
	}
}

/* Replays a revert-phase entry of task i. */
static void replay_revert(struct wfp_engine *e, int i, const char *state,
			  int attempt, int final, const char *error,
			  int64_t at_ms)
{
	struct etask *t = &e->t[i];

	rollback(e, "rollback resumed");
	if (strcmp(state, "reverting") == 0) {
		t->revert_attempt = attempt - 1; /* reverted again */
		t->state = TS_APPLIED;
	} else if (strcmp(state, "reverted") == 0 ||
		   strcmp(state, "skipped") == 0) {
		t->state = TS_REVERTED;
	} else if (final) {
		revert_failed(e, i, error);
	} else {
		t->revert_attempt = attempt;
		t->state = TS_REVERT_BACKOFF;
		t->due_ms = at_ms + backoff_ms(&e->wf->tasks[i], attempt);
	}
}

int wfp_engine_replay(struct wfp_engine *e, const char *task, const char *state,
		      int attempt, int final, const char *outputs,
		      const char *error, int64_t at_ms)
{
	static const char *const apply[] = {"running", "applied",
					    "apply-failed"};
	static const char *const revert[] = {"reverting", "reverted",
					     "revert-failed", "skipped"};
	int i = task_find(e, task);

	if (i < 0 || attempt < 1)
		return -1;
	for (size_t k = 0; k < 3; k++) {
		if (strcmp(state, apply[k]) == 0) {
			replay_apply(e, i, state, attempt, final, outputs,
				     error, at_ms);
			return 0;
		}
	}
	for (size_t k = 0; k < 4; k++) {
		if (strcmp(state, revert[k]) == 0) {
			if (e->t[i].state == TS_APPLIED ||
			    e->t[i].state == TS_REVERT_BACKOFF)
				replay_revert(e, i, state, attempt, final,
					      error, at_ms);
			return 0;
		}
	}
	return -1;
}

void wfp_engine_cancel(struct wfp_engine *e, const char *reason)
{
	if (e->cancelled)
		return;
	e->cancelled = 1;
	if (e->reason[0] != '\0') /* a failure started the rollback */
		reason_add(e->reason, "; ");
	reason_add(e->reason, "cancelled: ");
	reason_add(e->reason, reason && reason[0] ? reason : "cancelled");
	rollback(e, "");
}

void wfp_engine_abort(struct wfp_engine *e, const char *reason)
{
	if (e->reason[0] != '\0')
		reason_add(e->reason, "; ");
	reason_add(e->reason, reason);
	rollback(e, "");
}

void wfp_engine_begin(struct wfp_engine *e)
{
	for (int i = 0; i < e->wf->ntasks; i++)
		e->t[i].waiting = e->wf->tasks[i].ndeps;
	for (int i = 0; i < e->wf->ntasks; i++) {
		const struct wfp_wf_task *wt = &e->wf->tasks[i];

		if (e->t[i].state < TS_APPLIED || e->t[i].state == TS_FAILED)
			continue;
		for (int k = 0; k < wt->nnext; k++)
			e->t[wt->next[k]].waiting--;
	}
	for (int i = 0; i < e->wf->ntasks; i++) {
		if (e->t[i].state == TS_WAITING && e->t[i].waiting == 0) {
			e->t[i].state = TS_READY;
			e->ready[e->rtail++] = i;
		}
	}
	if (e->rollback) {
		e->top = e->norder - 1;
		recover_collect(e);
	}
	e->begun = 1;
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/* Hands out task i's apply. */
static int start_apply(struct wfp_engine *e, int i, struct wfp_engine_step *out)
{
	int rerun = e->rollback || e->t[i].unfinished;

	e->t[i].state = TS_APPLYING;
	e->t[i].attempt++;
	e->t[i].unfinished = 0;
	e->running++;
	*out = (struct wfp_engine_step){i, WFP_ENGINE_APPLY, e->t[i].attempt,
					e->rollback, rerun};
	return 1;
}

static int next_revert(struct wfp_engine *e, int64_t now_ms,
		       struct wfp_engine_step *out);

/* Forward mode: a due retry first, then the oldest ready task. */
static int next_forward(struct wfp_engine *e, int64_t now_ms,
			struct wfp_engine_step *out)
{
	for (int k = 0; k < e->nbackoff; k++) {
		int i = e->backoff[k];

		if (e->t[i].due_ms <= now_ms) {
			backoff_drop(e, i);
			return start_apply(e, i, out);
		}
	}
	if (e->rhead == e->rtail) {
		/* Cannot happen with an acyclic graph; never hang on it. */
		if (e->running == 0 && e->nbackoff == 0 &&
		    e->napplied < e->wf->ntasks) {
			rollback(e, "workflow stalled: no task can start");
			return next_revert(e, now_ms, out);
		}
		return 0;
	}
	return start_apply(e, e->ready[e->rhead++], out);
}

/* Rollback mode: once nothing runs, the last applied task not yet
 * reverted: its revert (or a skip), one at a time. */
static int next_revert(struct wfp_engine *e, int64_t now_ms,
		       struct wfp_engine_step *out)
{
	struct etask *t;
	int i;

	while (e->nrecover > 0) {
		i = e->recover[--e->nrecover];
		if (e->t[i].state == TS_WAITING || e->t[i].state == TS_READY)
			return start_apply(e, i, out);
	}
	if (e->running > 0)
		return 0;
	while (e->top >= 0 &&
	       (e->t[e->order[e->top]].state == TS_REVERTED ||
		e->t[e->order[e->top]].state == TS_REVERT_FAILED))
		e->top--;
	if (e->top < 0)
		return 0;
	i = e->order[e->top];
	t = &e->t[i];
	if (t->state == TS_REVERT_BACKOFF && t->due_ms > now_ms)
		return 0;
	t->revert_attempt++;
	if (e->wf->tasks[i].revert.kind == WFP_ACTION_NONE) {
		t->state = TS_REVERTED;
		*out = (struct wfp_engine_step){i, WFP_ENGINE_SKIP,
						t->revert_attempt, 0, 0};
		return 1;
	}
	t->state = TS_REVERTING;
	e->running++;
	*out = (struct wfp_engine_step){i, WFP_ENGINE_REVERT, t->revert_attempt,
					0, 0};
	return 1;
}

int wfp_engine_next(struct wfp_engine *e, int64_t now_ms,
		    struct wfp_engine_step *out)
{
	if (e->rollback)
		return next_revert(e, now_ms, out);
	return next_forward(e, now_ms, out);
}

/* The end of an apply of task i. */
static void apply_result(struct wfp_engine *e, int i, int ok,
			 const char *outputs, const char *error, int64_t now_ms,
			 struct wfp_engine_entry *log)
{
	const struct wfp_wf_task *wt = &e->wf->tasks[i];
	struct etask *t = &e->t[i];
	char why[WFP_ENGINE_REASON_MAX];

	*log = (struct wfp_engine_entry){i, "applied", t->attempt, 0};
	if (ok) {
		mark_applied(e, i, outputs, 1);
		return;
	}
	log->state = "apply-failed";
	if (!e->rollback && t->attempt < wt->attempts) {
		t->state = TS_APPLY_BACKOFF;
		t->due_ms = now_ms + backoff_ms(wt, t->attempt);
		e->backoff[e->nbackoff++] = i;
		return;
	}
	log->final = 1;
	t->state = TS_FAILED;
	snprintf(why, sizeof(why), "task %s failed: %s", wt->name,
		 error && error[0] ? error : "failed");
	rollback(e, why);
}

/* The end of a revert of task i. */
static void revert_result(struct wfp_engine *e, int i, int ok,
			  const char *error, int64_t now_ms,
			  struct wfp_engine_entry *log)
{
	const struct wfp_wf_task *wt = &e->wf->tasks[i];
	struct etask *t = &e->t[i];

	*log = (struct wfp_engine_entry){i, "reverted", t->revert_attempt, 0};
	if (ok) {
		t->state = TS_REVERTED;
		return;
	}
	log->state = "revert-failed";
	if (t->revert_attempt < wt->attempts) {
		t->state = TS_REVERT_BACKOFF;
		t->due_ms = now_ms + backoff_ms(wt, t->revert_attempt);
		return;
	}
	log->final = 1;
	revert_failed(e, i, error);
}

int wfp_engine_result(struct wfp_engine *e, int task, int ok,
		      const char *outputs, const char *error, int64_t now_ms,
		      struct wfp_engine_entry *log)
{
	if (task < 0 || task >= e->wf->ntasks)
		return -1;
	if (e->t[task].state == TS_APPLYING)
		apply_result(e, task, ok, outputs, error, now_ms, log);
	else if (e->t[task].state == TS_REVERTING)
		revert_result(e, task, ok, error, now_ms, log);
	else
		return -1;
	e->running--;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Questions                                                           */
/* ------------------------------------------------------------------ */

int64_t wfp_engine_wake_ms(const struct wfp_engine *e)
{
	int64_t best = -1;

	if (e->rollback) {
		if (e->top >= 0 &&
		    e->t[e->order[e->top]].state == TS_REVERT_BACKOFF)
			best = e->t[e->order[e->top]].due_ms;
		return best;
	}
	for (int k = 0; k < e->nbackoff; k++) {
		int64_t due = e->t[e->backoff[k]].due_ms;

		if (best < 0 || due < best)
			best = due;
	}
	return best;
}

int wfp_engine_running(const struct wfp_engine *e)
{
	return e->running;
}

int wfp_engine_rolling_back(const struct wfp_engine *e)
{
	return e->rollback;
}

/* True when no revert is left in rollback mode. */
static int rollback_done(const struct wfp_engine *e)
{
	if (e->nrecover > 0)
		return 0;
	for (int k = e->top; k >= 0; k--) {
		enum task_state s = e->t[e->order[k]].state;

		if (s != TS_REVERTED && s != TS_REVERT_FAILED)
			return 0;
	}
	return 1;
}

enum wfp_engine_status wfp_engine_status(const struct wfp_engine *e)
{
	if (e->running > 0)
		return WFP_ENGINE_RUNNING;
	if (!e->rollback)
		return e->napplied == e->wf->ntasks ? WFP_ENGINE_COMPLETED
						    : WFP_ENGINE_RUNNING;
	if (!rollback_done(e))
		return WFP_ENGINE_RUNNING;
	return e->revert_failures ? WFP_ENGINE_FAILED : WFP_ENGINE_REVERTED;
}

const char *wfp_engine_reason(const struct wfp_engine *e)
{
	static char buf[WFP_ENGINE_REASON_MAX];

	if (e->revert_failures == 0)
		return e->reason;
	buf[0] = '\0';
	reason_add(buf, e->reason);
	reason_add(buf, "; revert failed: ");
	reason_add(buf, e->failed);
	return buf;
}

const char *wfp_engine_outputs(const struct wfp_engine *e, int task)
{
	if (task < 0 || task >= e->wf->ntasks)
		return NULL;
	return e->t[task].outputs;
}

/* Copies env's names and values into out. */
static int inputs_fill(json_t *env, struct wfp_engine_inputs *out)
{
	size_t n = json_object_size(env);
	const char *k;
	json_t *v;

	out->n = 0;
	out->names = calloc(n + 1, sizeof(char *));
	out->values = calloc(n + 1, sizeof(char *));
	if (!out->names || !out->values)
		return -1;
	json_object_foreach(env, k, v)
	{
		out->names[out->n] = strdup(k);
		out->values[out->n] = strdup(json_string_value(v));
		if (!out->names[out->n] || !out->values[out->n])
			return out->n++, -1;
		out->n++;
	}
	return 0;
}

/* 1 when task's inputs differ from env: a dep has outputs, it has inputs
 * of its own, or it is a revert with outputs of its own or of a task
 * that depends on it. */
static int inputs_own(const struct wfp_engine *e, int task, int revert)
{
	const struct wfp_wf_task *wt = &e->wf->tasks[task];

	if (wt->ninputs > 0 || (revert && e->t[task].outputs))
		return 1;
	for (int i = 0; revert && i < wt->nnext; i++)
		if (e->t[wt->next[i]].outputs)
			return 1;
	for (int i = 0; i < wt->ndeps; i++)
		if (e->t[wt->deps[i]].outputs)
			return 1;
	return 0;
}

/* Adds name/value to env unless env holds name (env_set's rules
 * otherwise): filling from the highest precedence down keeps the cap
 * for the lowest. */
static void env_add(json_t *env, const char *name, json_t *value)
{
	if (json_object_get(env, name) == NULL)
		env_set(env, name, value);
}

/* Adds the keys of outputs object text that env does not hold. */
static void env_add_outputs(json_t *env, const char *outputs)
{
	json_t *o =
	    outputs ? json_loads(outputs, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		env_add(env, k, v);
	}
	json_decref(o);
}

/* Task's inputs, filled from the highest precedence down: its own
 * inputs (what its workflow says of it beats anything a program
 * printed), (revert) its own outputs, then (revert) the outputs of the
 * tasks that depend on it directly (the last first), the outputs of its
 * direct deps
 * (the last dep first), then env (payload.inputs and outputs applied so
 * far); or NULL when memory runs out. */
static json_t *inputs_env(const struct wfp_engine *e, int task, int revert)
{
	const struct wfp_wf_task *wt = &e->wf->tasks[task];
	json_t *env = json_object(), *v;
	const char *k;

	if (env == NULL)
		return NULL;
	for (int i = 0; i < wt->ninputs; i++) {
		v = json_string(wt->inputs[i].value);
		env_add(env, wt->inputs[i].name, v);
		json_decref(v);
	}
	if (revert) {
		env_add_outputs(env, e->t[task].outputs);
		/* what was built on it (a reservation item's later steps,
		 * whose own reverts may be none: its destroy needs them) */
		for (int i = wt->nnext - 1; i >= 0; i--)
			env_add_outputs(env, e->t[wt->next[i]].outputs);
	}
	for (int i = wt->ndeps - 1; i >= 0; i--)
		env_add_outputs(env, e->t[wt->deps[i]].outputs);
	json_object_foreach(e->env, k, v)
	{
		env_add(env, k, v);
	}
	return env;
}

int wfp_engine_inputs(const struct wfp_engine *e, int task, int revert,
		      struct wfp_engine_inputs *out)
{
	json_t *env = e->env;
	int rc;

	memset(out, 0, sizeof(*out));
	if (task >= 0 && task < e->wf->ntasks && inputs_own(e, task, revert)) {
		env = inputs_env(e, task, revert);
		if (env == NULL)
			return -1;
	} else {
		json_incref(env);
	}
	rc = inputs_fill(env, out);
	json_decref(env);
	if (rc != 0)
		wfp_engine_inputs_release(out);
	return rc;
}

void wfp_engine_inputs_release(struct wfp_engine_inputs *in)
{
	for (int i = 0; i < in->n; i++) {
		free(in->names[i]);
		free(in->values[i]);
	}
	free(in->names);
	free(in->values);
	memset(in, 0, sizeof(*in));
}
