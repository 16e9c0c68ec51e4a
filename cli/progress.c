/* progress.c - the progress of a workflow job's run (see progress.h). */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A task's newest state in the run, as the task log words. */
enum phase {
	PH_NONE,	  /* no entry yet in this run */
	PH_RUNNING,	  /* its apply runs */
	PH_APPLIED,	  /* applied */
	PH_APPLY_FAILED,  /* an apply attempt failed */
	PH_REVERTING,	  /* its revert runs */
	PH_REVERTED,	  /* reverted */
	PH_REVERT_FAILED, /* its revert failed */
	PH_SKIPPED,	  /* not run */
	PH_COUNT
};

static const char *const phase_words[PH_COUNT] = {
    "",		 "running",  "applied",	      "apply-failed",
    "reverting", "reverted", "revert-failed", "skipped",
};

/* One task's count. */
struct task_progress {
	enum phase phase;
	int ever_applied; /* applied in this run (so it needs a revert) */
	int final;	  /* its apply failed for the last time */
	char *error;	  /* its newest failure's error, or NULL */
	int64_t fail_seq; /* when it failed last: p->nfail then */
};

struct progress {
	struct wfp_workflow *wf;
	int64_t run;		 /* the run counted */
	struct task_progress *t; /* wf->ntasks, by task index */
	int seen;		 /* an entry of the run was counted */
	int64_t first_at;	 /* `at` of the run's first entry */
	int64_t last_at;	 /* and of its newest */
	int64_t nfail;		 /* failures counted in the run */
};

/* Forgets every task's state (a new run begins). */
static void progress_reset(struct progress *p)
{
	for (int i = 0; i < p->wf->ntasks; i++) {
		free(p->t[i].error);
		memset(&p->t[i], 0, sizeof(p->t[i]));
	}
	p->seen = 0;
	p->first_at = p->last_at = 0;
	p->nfail = 0;
}

struct progress *progress_new(struct wfp_workflow *wf, int64_t run)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (p)
		p->t = calloc((size_t)wf->ntasks + 1, sizeof(*p->t));
	if (p == NULL || p->t == NULL) {
		free(p);
		wfp_workflow_free(wf);
		return NULL;
	}
	p->wf = wf;
	p->run = run;
	return p;
}

void progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	progress_reset(p);
	free(p->t);
	wfp_workflow_free(p->wf);
	free(p);
}

/* The phase named word, or PH_COUNT for an unknown word. */
static enum phase phase_of(const char *word)
{
	for (int i = PH_RUNNING; i < PH_COUNT; i++) {
		if (strcmp(phase_words[i], word) == 0)
			return (enum phase)i;
	}
	return PH_COUNT;
}

/* An integer member of o (a number, or digits), or def. */
static int64_t int_member(json_t *o, const char *key, int64_t def)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return atoll(json_string_value(v));
	return def;
}

/* Records a failure of task i (phase ph) with its error. */
static void failure(struct progress *p, int i, enum phase ph, json_t *e)
{
	struct task_progress *t = &p->t[i];

	free(t->error);
	t->error = strdup(cli_jstr(e, "error"));
	t->final =
	    ph == PH_APPLY_FAILED && strcmp(cli_jstr(e, "final"), "1") == 0;
	t->fail_seq = ++p->nfail;
}

int progress_add(struct progress *p, json_t *e)
{
	int64_t run = int_member(e, "run", 1);
	int i = wfp_workflow_find(p->wf, cli_jstr(e, "task"));
	enum phase ph = phase_of(cli_jstr(e, "state"));
	int changed = 0, was_final;

	if (run < p->run)
		return 0;
	if (run > p->run) {
		progress_reset(p);
		p->run = run;
		changed = 1;
	}
	if (i < 0 || ph == PH_COUNT)
		return changed;
	p->last_at = int_member(e, "at", 0);
	if (!p->seen)
		p->first_at = p->last_at, p->seen = 1;
	was_final = p->t[i].final;
	if (ph == PH_APPLY_FAILED || ph == PH_REVERT_FAILED)
		failure(p, i, ph, e);
	changed |= p->t[i].phase != ph || p->t[i].final != was_final;
	p->t[i].phase = ph;
	p->t[i].ever_applied |= ph == PH_APPLIED;
	return changed;
}

int64_t progress_elapsed_ms(const struct progress *p)
{
	return p->seen ? p->last_at - p->first_at : 0;
}

/* Tasks whose newest state is ph. */
static int count_of(const struct progress *p, enum phase ph)
{
	int n = 0;

	for (int i = 0; i < p->wf->ntasks; i++)
		n += p->t[i].phase == ph;
	return n;
}

/* True once the run rolls back: a revert began, or an apply failed for
 * the last time. */
static int rolling_back(const struct progress *p)
{
	for (int i = 0; i < p->wf->ntasks; i++) {
		enum phase ph = p->t[i].phase;

		if (ph == PH_REVERTING || ph == PH_REVERTED ||
		    ph == PH_REVERT_FAILED || p->t[i].final)
			return 1;
	}
	return 0;
}

/* True when task i's newest state is a failure. */
static int failed_now(const struct progress *p, int i)
{
	return p->t[i].phase == PH_APPLY_FAILED ||
	       p->t[i].phase == PH_REVERT_FAILED;
}

/* The task of the newest failure that is still its task's state (a
 * later running, applied or reverted of that task clears it), or -1. */
static int newest_failure(const struct progress *p)
{
	int best = -1;

	for (int i = 0; i < p->wf->ntasks; i++)
		if (failed_now(p, i) &&
		    (best < 0 || p->t[i].fail_seq > p->t[best].fail_seq))
			best = i;
	return best;
}

/* Tasks applied in the run whose newest state is ph. */
static int applied_in(const struct progress *p, enum phase ph)
{
	int n = 0;

	for (int i = 0; i < p->wf->ntasks; i++)
		n += p->t[i].ever_applied && p->t[i].phase == ph;
	return n;
}

/* True once a rollback ended: every task applied in the run is reverted
 * or skipped (it has no revert) and nothing runs or reverts. */
static int rolled_back(const struct progress *p, int to_rev)
{
	return rolling_back(p) && count_of(p, PH_RUNNING) == 0 &&
	       count_of(p, PH_REVERTING) == 0 &&
	       applied_in(p, PH_REVERTED) + applied_in(p, PH_SKIPPED) == to_rev;
}

/* Tasks applied in the run: those a rollback reverts. */
static int to_revert(const struct progress *p)
{
	int n = 0;

	for (int i = 0; i < p->wf->ntasks; i++)
		n += p->t[i].ever_applied;
	return n;
}

/* The names of the tasks in phase ph, "a,b", cut to width characters,
 * into out (4 * width + 8 bytes). */
static void names_of(const struct progress *p, enum phase ph, int width,
		     char *out, size_t n)
{
	char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < p->wf->ntasks && o + 1 < sizeof(buf); i++) {
		int w;

		if (p->t[i].phase != ph)
			continue;
		w = snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "",
			     p->wf->tasks[i].name);
		o = w < 0 || (size_t)w >= sizeof(buf) - o ? sizeof(buf) - 1
							  : o + (size_t)w;
	}
	cli_text_cut(buf, width, out, n);
}

/* Appends formatted text to out (n bytes) at *o; stops quietly when full. */
static void put(char *out, size_t n, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *out, size_t n, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*o + 1 >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(out + *o, n - *o, fmt, ap);
	va_end(ap);
	*o = w < 0 || (size_t)w >= n - *o ? n - 1 : *o + (size_t)w;
}

/* Appends "; rolling back: R/A reverted" (A: the tasks applied in the
 * run), "; rolling back: R reverted, S skipped of A" when some have no
 * revert, and "rolled back" once it ended. */
static void rollback_text(const struct progress *p, char *out, size_t n,
			  size_t *o)
{
	int a = to_revert(p), r = applied_in(p, PH_REVERTED);
	int k = applied_in(p, PH_SKIPPED);
	const char *what = rolled_back(p, a) ? "rolled back" : "rolling back";

	if (k > 0)
		put(out, n, o, "; %s: %d reverted, %d skipped of %d", what, r,
		    k, a);
	else
		put(out, n, o, "; %s: %d/%d reverted", what, r, a);
}

void progress_text(const struct progress *p, int width, char *out, size_t n)
{
	char *names = malloc((size_t)width * 4 + 8);
	size_t o = 0;
	int k = count_of(p, PH_SKIPPED), f = newest_failure(p);

	out[0] = '\0';
	if (names == NULL)
		return;
	put(out, n, &o, "%d/%d applied", count_of(p, PH_APPLIED),
	    p->wf->ntasks);
	if (k > 0)
		put(out, n, &o, ", %d skipped", k);
	names_of(p, PH_RUNNING, width, names, (size_t)width * 4 + 8);
	if (names[0])
		put(out, n, &o, "; running: %s", names);
	if (rolling_back(p))
		rollback_text(p, out, n, &o);
	names_of(p, PH_REVERTING, width, names, (size_t)width * 4 + 8);
	if (names[0])
		put(out, n, &o, "; reverting: %s", names);
	if (f >= 0) {
		cli_text_cut(p->t[f].error ? p->t[f].error : "", width, names,
			     (size_t)width * 4 + 8);
		put(out, n, &o, "; failed: %s (%s)", p->wf->tasks[f].name,
		    names);
	}
	free(names);
}

/* The names of the tasks in phase ph as a JSON array. */
static json_t *names_json(const struct progress *p, enum phase ph)
{
	json_t *a = json_array();

	for (int i = 0; i < p->wf->ntasks; i++) {
		if (p->t[i].phase == ph)
			json_array_append_new(
			    a, json_string(p->wf->tasks[i].name));
	}
	return a;
}

/* Tasks whose newest state is a failure, as [{task, state, error}]. */
static json_t *failed_json(const struct progress *p)
{
	json_t *a = json_array();

	for (int i = 0; i < p->wf->ntasks; i++) {
		const struct task_progress *t = &p->t[i];

		if (!failed_now(p, i))
			continue;
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:s?}", "task",
				 p->wf->tasks[i].name, "state",
				 phase_words[t->phase], "error", t->error));
	}
	return a;
}

json_t *progress_json(const struct progress *p)
{
	return json_pack(
	    "{s:s, s:I, s:I, s:i, s:i, s:i, s:o, s:b, s:b, s:i, s:i, s:o, "
	    "s:o}",
	    "type", "progress", "run", (json_int_t)p->run, "elapsed_ms",
	    (json_int_t)progress_elapsed_ms(p), "total", p->wf->ntasks,
	    "applied", count_of(p, PH_APPLIED), "skipped",
	    count_of(p, PH_SKIPPED), "running", names_json(p, PH_RUNNING),
	    "rollback", rolling_back(p), "rolled_back",
	    rolled_back(p, to_revert(p)), "reverted", count_of(p, PH_REVERTED),
	    "to_revert", to_revert(p), "reverting", names_json(p, PH_REVERTING),
	    "failed", failed_json(p));
}
