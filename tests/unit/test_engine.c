/* Unit tests of the executor's engine (services/executor/engine.c): the
 * order tasks start in, retries, rollback order, resume from a log, and
 * the inputs a task gets. Workflows are built by hand (no parser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* A workflow of n tasks named by the letters from 'a', every task with
 * an exec revert unless no_revert names it, 1 attempt. Edges added with
 * edge(). */
static struct wfp_workflow *wf_new(int n, const char *no_revert)
{
	static char *argv[] = {"true", NULL};
	struct wfp_workflow *wf = calloc(1, sizeof(*wf));

	wf->ntasks = n;
	wf->tasks = calloc((size_t)n, sizeof(*wf->tasks));
	for (int i = 0; i < n; i++) {
		struct wfp_wf_task *t = &wf->tasks[i];

		t->name = calloc(2, 1);
		t->name[0] = (char)('a' + i);
		t->apply =
		    (struct wfp_action){WFP_ACTION_EXEC, 1, argv, NULL, NULL};
		if (strchr(no_revert, 'a' + i) == NULL)
			t->revert = t->apply;
		t->attempts = 1;
		t->deps = calloc((size_t)n, sizeof(int));
		t->next = calloc((size_t)n, sizeof(int));
	}
	return wf;
}

/* from must apply before to. */
static void edge(struct wfp_workflow *wf, int from, int to)
{
	struct wfp_wf_task *f = &wf->tasks[from], *t = &wf->tasks[to];

	f->next[f->nnext++] = to;
	t->deps[t->ndeps++] = from;
}

/* A chain a -> b -> ... */
static struct wfp_workflow *linear(int n, const char *no_revert)
{
	struct wfp_workflow *wf = wf_new(n, no_revert);

	for (int i = 0; i + 1 < n; i++)
		edge(wf, i, i + 1);
	return wf;
}

static void wf_free(struct wfp_workflow *wf)
{
	for (int i = 0; i < wf->ntasks; i++) {
		free(wf->tasks[i].name);
		free(wf->tasks[i].deps);
		free(wf->tasks[i].next);
		free(wf->tasks[i].inputs);
	}
	free(wf->tasks);
	free(wf->inputs);
	free(wf);
}

/* The next step; fails when there is none. */
static struct wfp_engine_step step(struct wfp_engine *e, int64_t now)
{
	struct wfp_engine_step s;

	if (wfp_engine_next(e, now, &s) != 1)
		fail_msg("no step at %lld", (long long)now);
	return s;
}

/* Ends task i; returns the log entry. */
static struct wfp_engine_entry end(struct wfp_engine *e, int i, int ok,
				   const char *outputs, const char *error)
{
	struct wfp_engine_entry l;

	assert_int_equal(wfp_engine_result(e, i, ok, outputs, error, 0, &l), 0);
	return l;
}

static void test_linear_in_order(void **state)
{
	struct wfp_workflow *wf = linear(3, "");
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	wfp_engine_begin(e);
	for (int i = 0; i < 3; i++) {
		s = step(e, 0);
		assert_int_equal(s.task, i);
		assert_int_equal(s.phase, WFP_ENGINE_APPLY);
		assert_int_equal(s.attempt, 1);
		assert_int_equal(wfp_engine_next(e, 0, &s), 0);
		assert_int_equal(wfp_engine_status(e), WFP_ENGINE_RUNNING);
		assert_string_equal(end(e, i, 1, NULL, NULL).state, "applied");
	}
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_COMPLETED);
	assert_string_equal(wfp_engine_reason(e), "");
	wfp_engine_free(e);
	wf_free(wf);
}

/* d fails: c, b, a reverted in that order; b has no revert: skipped. */
static void test_failure_reverts_in_reverse(void **state)
{
	struct wfp_workflow *wf = linear(4, "b");
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_entry l;
	struct wfp_engine_step s;

	(void)state;
	wfp_engine_begin(e);
	for (int i = 0; i < 3; i++)
		end(e, step(e, 0).task, 1, NULL, NULL);
	s = step(e, 0);
	assert_int_equal(s.task, 3);
	l = end(e, 3, 0, NULL, "exit 3");
	assert_string_equal(l.state, "apply-failed");
	assert_int_equal(l.final, 1);
	assert_true(wfp_engine_rolling_back(e));
	s = step(e, 0);
	assert_int_equal(s.task, 2);
	assert_int_equal(s.phase, WFP_ENGINE_REVERT);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0); /* one at a time */
	assert_string_equal(end(e, 2, 1, NULL, NULL).state, "reverted");
	s = step(e, 0);
	assert_int_equal(s.task, 1);
	assert_int_equal(s.phase, WFP_ENGINE_SKIP);
	s = step(e, 0);
	assert_int_equal(s.task, 0);
	assert_int_equal(s.phase, WFP_ENGINE_REVERT);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_RUNNING);
	end(e, 0, 1, NULL, NULL);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	assert_string_equal(wfp_engine_reason(e), "task d failed: exit 3");
	wfp_engine_free(e);
	wf_free(wf);
}

/* A revert that fails for good does not stop the others; every failed
 * one is named. */
static void test_failed_reverts_named(void **state)
{
	struct wfp_workflow *wf = linear(4, "");
	struct wfp_engine *e = wfp_engine_new(wf);
	int order[3], n = 0;

	(void)state;
	wfp_engine_begin(e);
	for (int i = 0; i < 3; i++)
		end(e, step(e, 0).task, 1, NULL, NULL);
	end(e, step(e, 0).task, 0, NULL, "exit 1");
	for (int k = 0; k < 3; k++) {
		struct wfp_engine_step s = step(e, 0);
		struct wfp_engine_entry l;

		order[n++] = s.task;
		l = end(e, s.task, s.task == 1, NULL, "exit 9");
		assert_string_equal(l.state,
				    s.task == 1 ? "reverted" : "revert-failed");
	}
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_FAILED);
	assert_string_equal(wfp_engine_reason(e),
			    "task d failed: exit 1; revert failed: c (exit 9), "
			    "a (exit 9)");
	wfp_engine_free(e);
	wf_free(wf);
}

/* a -> {b, c} -> d: b and c together, d only after both. */
static void test_graph_ready_counters(void **state)
{
	struct wfp_workflow *wf = wf_new(4, "");
	struct wfp_engine *e;
	struct wfp_engine_step s1, s2, s;

	(void)state;
	edge(wf, 0, 1), edge(wf, 0, 2), edge(wf, 1, 3), edge(wf, 2, 3);
	e = wfp_engine_new(wf);
	wfp_engine_begin(e);
	assert_int_equal(step(e, 0).task, 0);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0);
	end(e, 0, 1, NULL, NULL);
	s1 = step(e, 0), s2 = step(e, 0);
	assert_int_equal(s1.task + s2.task, 3);
	assert_int_equal(wfp_engine_running(e), 2);
	end(e, 1, 1, NULL, NULL);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0); /* d waits for c */
	end(e, 2, 1, NULL, NULL);
	assert_int_equal(step(e, 0).task, 3);
	end(e, 3, 1, NULL, NULL);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_COMPLETED);
	wfp_engine_free(e);
	wf_free(wf);
}

/* attempts 3, backoff 100: retries at +100 then +200. */
static void test_retry_backoff_doubles(void **state)
{
	struct wfp_workflow *wf = linear(1, "");
	struct wfp_engine *e;
	struct wfp_engine_entry l;
	struct wfp_engine_step s;

	(void)state;
	wf->tasks[0].attempts = 3;
	wf->tasks[0].backoff_ms = 100;
	e = wfp_engine_new(wf);
	wfp_engine_begin(e);
	step(e, 1000);
	assert_int_equal(wfp_engine_result(e, 0, 0, NULL, "exit 1", 1000, &l),
			 0);
	assert_int_equal(l.final, 0);
	assert_int_equal(wfp_engine_wake_ms(e), 1100);
	assert_int_equal(wfp_engine_next(e, 1099, &s), 0);
	s = step(e, 1100);
	assert_int_equal(s.attempt, 2);
	wfp_engine_result(e, 0, 0, NULL, "exit 1", 1150, &l);
	assert_int_equal(wfp_engine_wake_ms(e), 1350);
	s = step(e, 1350);
	assert_int_equal(s.attempt, 3);
	wfp_engine_result(e, 0, 0, NULL, "exit 1", 1400, &l);
	assert_int_equal(l.final, 1);
	assert_int_equal(l.attempt, 3);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	wfp_engine_free(e);
	wf_free(wf);
}

/* A cancel lets running tasks end; one that ends applied is reverted
 * too; nothing new starts. */
static void test_cancel_waits_for_running(void **state)
{
	struct wfp_workflow *wf = wf_new(3, ""); /* unordered */
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	wfp_engine_begin(e);
	end(e, step(e, 0).task, 1, NULL, NULL); /* a applied */
	step(e, 0), step(e, 0);			/* b, c running */
	wfp_engine_cancel(e, "operator");
	assert_int_equal(wfp_engine_next(e, 0, &s), 0);
	end(e, 1, 1, NULL, NULL);				 /* b applied */
	assert_int_equal(end(e, 2, 0, NULL, "killed").final, 1); /* c */
	s = step(e, 0);
	assert_int_equal(s.task, 1);
	end(e, 1, 1, NULL, NULL);
	s = step(e, 0);
	assert_int_equal(s.task, 0);
	end(e, 0, 1, NULL, NULL);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	assert_string_equal(wfp_engine_reason(e), "cancelled: operator");
	wfp_engine_free(e);
	wf_free(wf);
}

/* A cancel during a rollback keeps the failure that started it: the
 * reason names both; a second cancel changes nothing. */
static void test_cancel_keeps_failure(void **state)
{
	struct wfp_workflow *wf = linear(2, "");
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	wfp_engine_begin(e);
	end(e, step(e, 0).task, 1, NULL, NULL);
	end(e, step(e, 0).task, 0, NULL, "exit 3");
	s = step(e, 0); /* a reverting */
	wfp_engine_cancel(e, "operator");
	wfp_engine_cancel(e, "again");
	end(e, s.task, 1, NULL, NULL);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	assert_string_equal(wfp_engine_reason(e),
			    "task b failed: exit 3; cancelled: operator");
	wfp_engine_free(e);
	wf_free(wf);
}

/* An abort (the log refused a write) rolls back like a failure, with
 * its reason. */
static void test_abort_rolls_back(void **state)
{
	struct wfp_workflow *wf = linear(2, "");
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	wfp_engine_begin(e);
	end(e, step(e, 0).task, 1, NULL, NULL);
	wfp_engine_abort(e, "task log write refused: X");
	assert_true(wfp_engine_rolling_back(e));
	s = step(e, 0);
	assert_int_equal(s.task, 0);
	assert_int_equal(s.phase, WFP_ENGINE_REVERT);
	end(e, 0, 1, NULL, NULL);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	assert_string_equal(wfp_engine_reason(e), "task log write refused: X");
	wfp_engine_free(e);
	wf_free(wf);
}

/* Resume: applied tasks never run again; the task running when the
 * owner died is retried with the same attempt. */
static void test_replay_forward(void **state)
{
	struct wfp_workflow *wf = linear(4, "");
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	assert_int_equal(
	    wfp_engine_replay(e, "a", "running", 1, 0, NULL, NULL, 0), 0);
	wfp_engine_replay(e, "a", "applied", 1, 0, "{\"x\":\"1\"}", NULL, 0);
	wfp_engine_replay(e, "b", "running", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "apply-failed", 1, 0, NULL, "exit 1", 0);
	wfp_engine_replay(e, "b", "running", 2, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "applied", 2, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "c", "running", 1, 0, NULL, NULL, 0);
	assert_int_equal(
	    wfp_engine_replay(e, "zz", "applied", 1, 0, NULL, NULL, 0), -1);
	assert_int_equal(wfp_engine_replay(e, "c", "done", 1, 0, NULL, NULL, 0),
			 -1);
	wfp_engine_begin(e);
	s = step(e, 0);
	assert_int_equal(s.task, 2);
	assert_int_equal(s.attempt, 1);
	assert_int_equal(s.rerun, 1); /* the log shows it running already */
	assert_int_equal(s.recover, 0);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0);
	assert_string_equal(wfp_engine_outputs(e, 0), "{\"x\":\"1\"}");
	end(e, 2, 1, NULL, NULL);
	s = step(e, 0);
	assert_int_equal(s.rerun, 0); /* d never started */
	end(e, s.task, 1, NULL, NULL);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_COMPLETED);
	wfp_engine_free(e);
	wf_free(wf);
}

/* Resume in the middle of a rollback: what was reverted stays so, the
 * revert that was running runs again, then the rest in reverse order. */
static void test_replay_rollback(void **state)
{
	struct wfp_workflow *wf = linear(4, "");
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	wfp_engine_replay(e, "a", "applied", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "applied", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "c", "applied", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "d", "apply-failed", 1, 1, NULL, "exit 2", 0);
	wfp_engine_replay(e, "c", "reverting", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "c", "reverted", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "reverting", 1, 0, NULL, NULL, 0);
	wfp_engine_begin(e);
	s = step(e, 0);
	assert_int_equal(s.task, 1);
	assert_int_equal(s.phase, WFP_ENGINE_REVERT);
	assert_int_equal(s.attempt, 1);
	end(e, 1, 1, NULL, NULL);
	s = step(e, 0);
	assert_int_equal(s.task, 0);
	end(e, 0, 1, NULL, NULL);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	assert_string_equal(wfp_engine_reason(e), "task d failed: exit 2");
	wfp_engine_free(e);
	wf_free(wf);
}

/* A log whose apply entries of a task come after its revert entries (a
 * log no executor writes, but it is data read from Redis): the task
 * stays reverted, it is never reverted twice, and the order of applied
 * tasks (one slot per task) never overflows. */
static void test_replay_apply_after_revert(void **state)
{
	struct wfp_workflow *wf = linear(1, "");
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	for (int k = 0; k < 4; k++) {
		wfp_engine_replay(e, "a", "applied", 1, 0, NULL, NULL, 0);
		wfp_engine_replay(e, "a", "reverting", 1, 0, NULL, NULL, 0);
		wfp_engine_replay(e, "a", "reverted", 1, 0, NULL, NULL, 0);
	}
	wfp_engine_replay(e, "a", "applied", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "a", "running", 2, 0, NULL, NULL, 0);
	wfp_engine_begin(e);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	wfp_engine_free(e);
	wf_free(wf);
}

/* Resume of a rollback whose log shows an apply that never ended (the
 * executor died while it ran; its action may have done its work): as in
 * a live rollback, where a running apply is let finish and reverted when
 * it applied, the apply runs again (same key) before the reverts, and is
 * reverted when it applies. It was forgotten: the job ended reverted
 * with its effect left behind. */
static void test_replay_rollback_unfinished_apply(void **state)
{
	struct wfp_workflow *wf = wf_new(3, ""); /* unordered */
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;

	(void)state;
	wfp_engine_replay(e, "a", "running", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "running", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "c", "running", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "c", "applied", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "apply-failed", 1, 1, NULL, "exit 3", 0);
	wfp_engine_begin(e);
	s = step(e, 0);
	assert_int_equal(s.task, 0);
	assert_int_equal(s.phase, WFP_ENGINE_APPLY);
	assert_int_equal(s.attempt, 1);
	assert_int_equal(s.recover, 1);
	assert_int_equal(s.rerun, 1);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0); /* it runs */
	end(e, 0, 1, "{\"ip\":\"10.0.0.1\"}", NULL);
	s = step(e, 0);
	assert_int_equal(s.task, 0);
	assert_int_equal(s.phase, WFP_ENGINE_REVERT);
	end(e, 0, 1, NULL, NULL);
	s = step(e, 0);
	assert_int_equal(s.task, 2);
	assert_int_equal(s.phase, WFP_ENGINE_REVERT);
	end(e, 2, 1, NULL, NULL);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	assert_string_equal(wfp_engine_reason(e), "task b failed: exit 3");
	wfp_engine_free(e);
	wf_free(wf);
}

/* The same when the unfinished apply fails again: nothing to revert. */
static void test_replay_rollback_unfinished_fails(void **state)
{
	struct wfp_workflow *wf = wf_new(2, ""); /* unordered */
	struct wfp_engine *e = wfp_engine_new(wf);
	struct wfp_engine_step s;
	struct wfp_engine_entry l;

	(void)state;
	wfp_engine_replay(e, "a", "running", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "running", 1, 0, NULL, NULL, 0);
	wfp_engine_replay(e, "b", "apply-failed", 1, 1, NULL, "exit 3", 0);
	wfp_engine_begin(e);
	s = step(e, 0);
	assert_int_equal(s.task, 0);
	l = end(e, 0, 0, NULL, "exit 1");
	assert_string_equal(l.state, "apply-failed");
	assert_int_equal(l.final, 1);
	assert_int_equal(wfp_engine_next(e, 0, &s), 0);
	assert_int_equal(wfp_engine_status(e), WFP_ENGINE_REVERTED);
	wfp_engine_free(e);
	wf_free(wf);
}

/* Value of name in in, or NULL. */
static const char *input(const struct wfp_engine_inputs *in, const char *name)
{
	for (int i = 0; i < in->n; i++) {
		if (strcmp(in->names[i], name) == 0)
			return in->values[i];
	}
	return NULL;
}

/* payload.inputs, then outputs applied so far (later win); a revert
 * gets its own outputs last; non-strings as JSON text. */
static void test_inputs_flow(void **state)
{
	struct wfp_workflow *wf = linear(3, "");
	struct wfp_engine *e;
	struct wfp_engine_inputs in;

	(void)state;
	wf->ninputs = 2;
	wf->inputs = calloc(2, sizeof(*wf->inputs));
	wf->inputs[0] = (struct wfp_wf_input){"region", "eu-1"};
	wf->inputs[1] = (struct wfp_wf_input){"ip", "none"};
	e = wfp_engine_new(wf);
	wfp_engine_begin(e);
	step(e, 0);
	end(e, 0, 1, "{\"ip\":\"10.0.0.1\",\"n\":3,\"bad-name\":1}", NULL);
	step(e, 0);
	assert_int_equal(wfp_engine_inputs(e, 1, 0, &in), 0);
	assert_string_equal(input(&in, "region"), "eu-1");
	assert_string_equal(input(&in, "ip"), "10.0.0.1");
	assert_string_equal(input(&in, "n"), "3");
	assert_null(input(&in, "bad-name"));
	wfp_engine_inputs_release(&in);
	end(e, 1, 1, "{\"ip\":\"10.0.0.2\"}", NULL);
	step(e, 0);
	end(e, 2, 0, NULL, "exit 1");
	step(e, 0); /* revert b */
	assert_int_equal(wfp_engine_inputs(e, 1, 1, &in), 0);
	assert_string_equal(input(&in, "ip"), "10.0.0.2");
	wfp_engine_inputs_release(&in);
	end(e, 1, 1, NULL, NULL);
	step(e, 0); /* revert a: its own ip last */
	assert_int_equal(wfp_engine_inputs(e, 0, 1, &in), 0);
	assert_string_equal(input(&in, "ip"), "10.0.0.1");
	wfp_engine_inputs_release(&in);
	wfp_engine_free(e);
	wf_free(wf);
}

/* What task c (deps a, b) sees, lowest to highest: payload.inputs <
 * outputs applied so far (d applied last) < outputs of its direct deps
 * in deps order (b over a) < (revert) its own outputs < its own inputs. */
static void test_inputs_precedence(void **state)
{
	struct wfp_workflow *wf = wf_new(4, "");
	struct wfp_wf_task *c = &wf->tasks[2];
	struct wfp_engine *e;
	struct wfp_engine_inputs in;

	(void)state;
	edge(wf, 0, 2);
	edge(wf, 1, 2);
	wf->ninputs = 2;
	wf->inputs = calloc(2, sizeof(*wf->inputs));
	wf->inputs[0] = (struct wfp_wf_input){"p", "payload"};
	wf->inputs[1] = (struct wfp_wf_input){"x", "payload"};
	c->ninputs = 2;
	c->inputs = calloc(2, sizeof(*c->inputs));
	c->inputs[0] = (struct wfp_wf_input){"u", "own"};
	c->inputs[1] = (struct wfp_wf_input){"w", "own"};
	e = wfp_engine_new(wf);
	wfp_engine_begin(e);
	assert_int_equal(step(e, 0).task, 0);
	assert_int_equal(step(e, 0).task, 1);
	assert_int_equal(step(e, 0).task, 3);
	end(e, 0, 1, "{\"x\":\"a\",\"y\":\"a\"}", NULL);
	end(e, 1, 1, "{\"y\":\"b\",\"u\":\"b\"}", NULL);
	end(e, 3, 1, "{\"x\":\"d\",\"y\":\"d\",\"z\":\"d\",\"w\":\"d\"}", NULL);
	assert_int_equal(step(e, 0).task, 2);
	assert_int_equal(wfp_engine_inputs(e, 2, 0, &in), 0);
	assert_string_equal(input(&in, "p"), "payload");
	assert_string_equal(input(&in, "z"), "d"); /* applied so far */
	assert_string_equal(input(&in, "x"), "a"); /* a dep over d */
	assert_string_equal(input(&in, "y"), "b"); /* the later dep */
	assert_string_equal(input(&in, "u"), "own");
	assert_string_equal(input(&in, "w"), "own");
	wfp_engine_inputs_release(&in);
	/* d (no deps, no inputs) sees the plain flow: the last applied */
	assert_int_equal(wfp_engine_inputs(e, 3, 0, &in), 0);
	assert_string_equal(input(&in, "x"), "d");
	assert_string_equal(input(&in, "u"), "b");
	wfp_engine_inputs_release(&in);
	end(e, 2, 1, "{\"u\":\"c-out\",\"x\":\"c\"}", NULL);
	assert_int_equal(wfp_engine_inputs(e, 2, 0, &in), 0);
	assert_string_equal(input(&in, "u"), "own");
	assert_string_equal(input(&in, "x"), "a");
	wfp_engine_inputs_release(&in);
	assert_int_equal(wfp_engine_inputs(e, 2, 1, &in), 0);
	/* revert: own outputs over deps, own inputs over own outputs (an
	 * output never changes what the workflow says of the task) */
	assert_string_equal(input(&in, "x"), "c");
	assert_string_equal(input(&in, "u"), "own");
	assert_string_equal(input(&in, "w"), "own");
	wfp_engine_inputs_release(&in);
	wfp_engine_free(e);
	wf_free(wf);
}

/* A revert sees what was built on it: the outputs of the tasks that
 * depend on it directly, above later applies of other tasks (a
 * reservation item's destroy, the revert of its reserve, needs what its
 * acquire printed, not another item's); its own outputs stay above. */
static void test_revert_sees_dependants(void **state)
{
	struct wfp_workflow *wf = wf_new(3, "");
	struct wfp_engine *e;
	struct wfp_engine_inputs in;

	(void)state;
	edge(wf, 0, 1);
	e = wfp_engine_new(wf);
	wfp_engine_begin(e);
	assert_int_equal(step(e, 0).task, 0);
	assert_int_equal(step(e, 0).task, 2);
	end(e, 0, 1, "{\"x\":\"a\"}", NULL);
	assert_int_equal(step(e, 0).task, 1);
	end(e, 1, 1, "{\"k\":\"b\",\"x\":\"b\"}", NULL);
	end(e, 2, 1, "{\"k\":\"other\"}", NULL); /* applied last */
	assert_int_equal(wfp_engine_inputs(e, 0, 1, &in), 0);
	assert_string_equal(input(&in, "k"), "b");
	assert_string_equal(input(&in, "x"), "a");
	wfp_engine_inputs_release(&in);
	/* an apply of a still sees the plain flow (no dependants) */
	assert_int_equal(wfp_engine_inputs(e, 0, 0, &in), 0);
	assert_string_equal(input(&in, "k"), "other");
	wfp_engine_inputs_release(&in);
	wfp_engine_free(e);
	wf_free(wf);
}

/* At the cap of names a task gets, the highest precedence is kept: a
 * task's own inputs are there even when payload.inputs fill the cap. */
static void test_inputs_cap_keeps_own(void **state)
{
	struct wfp_workflow *wf = wf_new(1, "");
	struct wfp_wf_task *a = &wf->tasks[0];
	int n = WFP_ENGINE_INPUTS_MAX + 10;
	char(*names)[16] = calloc((size_t)n, sizeof(*names));
	struct wfp_engine *e;
	struct wfp_engine_inputs in;

	(void)state;
	wf->ninputs = n;
	wf->inputs = calloc((size_t)n, sizeof(*wf->inputs));
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		wf->inputs[i] = (struct wfp_wf_input){names[i], "payload"};
	}
	a->ninputs = 2;
	a->inputs = calloc(2, sizeof(*a->inputs));
	a->inputs[0] = (struct wfp_wf_input){"own", "mine"};
	a->inputs[1] = (struct wfp_wf_input){"p0", "mine"};
	e = wfp_engine_new(wf);
	wfp_engine_begin(e);
	assert_int_equal(wfp_engine_inputs(e, 0, 0, &in), 0);
	assert_int_equal(in.n, WFP_ENGINE_INPUTS_MAX);
	assert_non_null(input(&in, "own"));
	assert_string_equal(input(&in, "own"), "mine");
	assert_string_equal(input(&in, "p0"), "mine");
	wfp_engine_inputs_release(&in);
	wfp_engine_free(e);
	wf_free(wf);
	free(names);
}

static void test_text_clean_and_cut(void **state)
{
	char s[] = "a\nb\tc\x01\xff\xc3\xa9";
	char t[] = "ab\xc3\xa9";

	(void)state;
	assert_string_equal(wfp_engine_text_clean(s), "a b c ?\xc3\xa9");
	wfp_engine_text_cut(t, 4); /* 3 bytes: never half of the e-acute */
	assert_string_equal(t, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linear_in_order),
	    cmocka_unit_test(test_failure_reverts_in_reverse),
	    cmocka_unit_test(test_failed_reverts_named),
	    cmocka_unit_test(test_graph_ready_counters),
	    cmocka_unit_test(test_retry_backoff_doubles),
	    cmocka_unit_test(test_cancel_waits_for_running),
	    cmocka_unit_test(test_cancel_keeps_failure),
	    cmocka_unit_test(test_abort_rolls_back),
	    cmocka_unit_test(test_replay_forward),
	    cmocka_unit_test(test_replay_rollback),
	    cmocka_unit_test(test_replay_apply_after_revert),
	    cmocka_unit_test(test_replay_rollback_unfinished_apply),
	    cmocka_unit_test(test_replay_rollback_unfinished_fails),
	    cmocka_unit_test(test_inputs_flow),
	    cmocka_unit_test(test_inputs_precedence),
	    cmocka_unit_test(test_revert_sees_dependants),
	    cmocka_unit_test(test_inputs_cap_keeps_own),
	    cmocka_unit_test(test_text_clean_and_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
