/* taskrun.c - the task runner: runs, results, timeouts, deferred done
 * callbacks (see taskrun.h). Exec tasks are in taskrun_exec.c, plugins in
 * taskrun_plugin.c. */
#include "taskrun-internal.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/client.h"
#include "wfp/util.h"

/* ---- results --------------------------------------------------------- */

/* Stores text as the run's error: one line of text, as the task log
 * takes it: control characters (C0, DEL, C1) become spaces, bytes that
 * are not UTF-8 '?', cut at WFP_TASK_ERROR_MAX on a character boundary. */
void run_set_error(struct wfp_taskrun *run, const char *text)
{
	const unsigned char *s =
	    (const unsigned char *)(text ? text : "failed");
	size_t n = strlen((const char *)s), i = 0, o = 0;

	while (i < n) {
		uint32_t cp;
		size_t k = wfp_utf8_next(s + i, n - i, &cp);
		char sub = '\0'; /* what the character becomes, if not itself */

		if (k == 0)
			k = 1, sub = '?';
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			sub = ' ';
		if (o + (sub ? 1 : k) >= sizeof(run->error))
			break;
		if (sub)
			run->error[o++] = sub;
		else
			memcpy(run->error + o, s + i, k), o += k;
		i += k;
	}
	run->error[o] = '\0';
}

/* Sets ok 0 and a formatted error (the run goes on). */
void run_errorf(struct wfp_taskrun *run, const char *fmt, ...)
{
	char buf[WFP_TASK_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	run->ok = 0;
	run_set_error(run, buf);
}

/* Returns 1 when every key of the object o is a data name, else 0 with
 * the first bad key quoted in bad. */
static int outputs_keys_ok(json_t *o, char *bad, size_t n)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		(void)v;
		if (!wfp_word_ok(k, WFP_DATA_NAME_MAX, "_")) {
			wfp_quote(bad, n, k, strlen(k));
			return 0;
		}
	}
	return 1;
}

/* Returns 1 when the JSON text s nests at most WFP_PAYLOAD_DEPTH_MAX
 * arrays and objects (what the task log takes), else 0. */
static int outputs_depth_ok(const char *s)
{
	int depth = 0, in_str = 0;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				in_str = 0;
		} else if (*s == '"') {
			in_str = 1;
		} else if (*s == '[' || *s == '{') {
			if (++depth > WFP_PAYLOAD_DEPTH_MAX)
				return 0;
		} else if (*s == ']' || *s == '}') {
			depth--;
		}
	}
	return 1;
}

/*
 * Takes text[0..len) as the run's outputs when it is a JSON object with
 * data-name keys (stored compact). Not JSON or not an object: no outputs
 * (strict 0, the last line of an exec's stdout) or a failure (strict 1, a
 * plugin's outputs). A bad key, too big or nested deeper than the task
 * log takes: a failure. Returns 0, or -1
 * when the run became a failure (ok 0, error set; not ended here).
 */
int run_outputs(struct wfp_taskrun *run, const char *text, size_t len,
		int strict)
{
	char bad[WFP_QUOTE_BUF];
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	int rc = -1;

	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		if (!strict)
			return 0;
		run->ok = 0;
		run_set_error(run, "outputs are not a JSON object");
		return -1;
	}
	run->ok = 0;
	if (!outputs_keys_ok(o, bad, sizeof(bad))) {
		run_errorf(run,
			   "outputs key '%s' is not a data name (1-63 "
			   "of A-Z a-z 0-9 _)",
			   bad);
		goto out;
	}
	free(run->outputs);
	run->outputs = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (run->outputs == NULL) {
		run_set_error(run, "out of memory");
		goto out;
	}
	if (strlen(run->outputs) > WFP_TASK_OUTPUTS_MAX) {
		free(run->outputs);
		run->outputs = NULL;
		run_errorf(run, "outputs are over %d bytes",
			   WFP_TASK_OUTPUTS_MAX);
		goto out;
	}
	if (!outputs_depth_ok(run->outputs)) {
		free(run->outputs);
		run->outputs = NULL;
		if (run->revert) { /* not used, not logged: no failure */
			run->ok = 1;
			rc = 0;
			goto out;
		}
		run_errorf(run, "outputs nest deeper than %d levels",
			   WFP_PAYLOAD_DEPTH_MAX);
		goto out;
	}
	run->ok = 1;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* ---- a run's life ---------------------------------------------------- */

/* Ends the run: a stopped run's error says why; its timer goes and its
 * done event is made active, so the callback comes from the loop. */
void run_end(struct wfp_taskrun *run)
{
	if (run->state == RUN_ENDED)
		return;
	run->state = RUN_ENDED;
	if (run->timed_out)
		run_errorf(run, "timed out after %lld ms",
			   (long long)run->timeout_ms);
	else if (run->killed)
		run_errorf(run, "killed");
	if (!run->ok) {
		free(run->outputs);
		run->outputs = NULL;
	}
	if (run->timer_on) {
		event_del(&run->timer_ev);
		run->timer_on = 0;
	}
	event_active(&run->done_ev, EV_TIMEOUT, 1);
}

/* Takes the run off its runner's list. */
static void run_unlink(struct wfp_taskrun *run)
{
	struct wfp_taskrunner *tr = run->tr;

	if (run->prev)
		run->prev->next = run->next;
	else
		tr->runs = run->next;
	if (run->next)
		run->next->prev = run->prev;
	run->prev = run->next = NULL;
	tr->active--;
}

/* Frees a run that is off the list (touches nothing of the runner). */
static void run_free(struct wfp_taskrun *run)
{
	if (run->x)
		exec_release(run);
	event_del(&run->done_ev);
	event_del(&run->timer_ev);
	free(run->outputs);
	free(run);
}

/* The text of a tail: NUL-terminated (a NUL byte of the output shown as
 * '?'), without the broken UTF-8 sequence a cut may have left at its
 * start. */
static const char *tail_text(struct run_tail *t)
{
	size_t skip = 0;

	if (t->buf == NULL)
		return "";
	t->buf[t->len] = '\0';
	/* A NUL would end the text early: the end of the output is kept. */
	for (char *p = memchr(t->buf, '\0', t->len); p != NULL;
	     p = memchr(p, '\0', t->len - (size_t)(p - t->buf)))
		*p = '?';
	while (t->cut && skip < 3 && skip < t->len &&
	       ((unsigned char)t->buf[skip] & 0xc0) == 0x80)
		skip++;
	return t->buf + skip;
}

/* The run's done event: hands the result to the caller, frees the run. */
static void run_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_taskrun *run = arg;
	struct wfp_taskrun_result res;

	(void)fd;
	(void)what;
	run_unlink(run);
	memset(&res, 0, sizeof(res));
	res.ok = run->ok;
	res.timed_out = run->timed_out;
	res.killed = run->killed;
	res.error = run->ok ? NULL : run->error;
	res.outputs = run->ok ? run->outputs : NULL;
	res.out_tail = run->x ? tail_text(&run->x->tail[0]) : "";
	res.err_tail = run->x ? tail_text(&run->x->tail[1]) : "";
	res.duration_ms = (wfp_mono_us() - run->start_us) / 1000;
	run->done(&res, run->arg);
	run_free(run);
}

/* Stops a running task: SIGKILL to its group (it ends when reaped) or the
 * plugin's abort (it ends now). */
static void run_stop(struct wfp_taskrun *run)
{
	if (run->kind == RUN_EXEC)
		exec_stop(run);
	else if (run->kind == RUN_PLUGIN)
		plugin_stop(run);
	else
		run_end(run);
}

/* Arms the run's timer for what is left of timeout_ms. Returns 0 or -1. */
static int run_arm_timer(struct wfp_taskrun *run)
{
	int64_t left_ms =
	    run->timeout_ms - (wfp_mono_us() - run->start_us) / 1000;
	struct timeval tv;

	if (left_ms < 1)
		left_ms = 1;
	tv.tv_sec = (time_t)(left_ms / 1000);
	tv.tv_usec = (suseconds_t)(left_ms % 1000) * 1000;
	if (event_add(&run->timer_ev, &tv) != 0)
		return -1;
	run->timer_on = 1;
	return 0;
}

/* The run's timer: stops the task once timeout_ms really passed (libevent
 * may use a coarse clock and fire a few ms early: then it waits on). */
static void run_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_taskrun *run = arg;

	(void)fd;
	(void)what;
	run->timer_on = 0;
	if (run->state != RUN_GOING)
		return;
	if ((wfp_mono_us() - run->start_us) / 1000 < run->timeout_ms &&
	    run_arm_timer(run) == 0)
		return;
	run->timed_out = 1;
	run_stop(run);
}

/* Makes a run and puts it on the runner's list; NULL on ENOMEM. */
static struct wfp_taskrun *run_new(struct wfp_taskrunner *tr,
				   const struct wfp_taskrun_spec *spec,
				   wfp_taskrun_fn *done, void *arg)
{
	const struct wfp_action *a = spec->action;
	size_t extra = 0;
	struct wfp_taskrun *run;

	if (a && a->kind == WFP_ACTION_PLUGIN)
		extra = plugin_ctx_size(spec);
	run = calloc(1, sizeof(*run) + extra);
	if (run == NULL)
		return NULL;
	run->tr = tr;
	run->done = done;
	run->arg = arg;
	run->start_us = wfp_mono_us();
	run->timeout_ms = spec->timeout_ms;
	run->revert = spec->revert ? 1 : 0;
	run->kind = RUN_NONE;
	event_assign(&run->done_ev, tr->base, -1, 0, run_done_cb, run);
	event_assign(&run->timer_ev, tr->base, -1, 0, run_timeout_cb, run);
	run->next = tr->runs;
	if (tr->runs)
		tr->runs->prev = run;
	tr->runs = run;
	tr->active++;
	return run;
}

struct wfp_taskrun *wfp_taskrun_start(struct wfp_taskrunner *tr,
				      const struct wfp_taskrun_spec *spec,
				      wfp_taskrun_fn *done, void *arg)
{
	const struct wfp_action *a = spec->action;
	struct wfp_taskrun *run = run_new(tr, spec, done, arg);

	if (run == NULL)
		return NULL;
	if (run->timeout_ms > 0 && run_arm_timer(run) != 0) {
		run_errorf(run, "cannot arm the timeout timer");
		run_end(run);
		return run;
	}
	if (a && a->kind == WFP_ACTION_EXEC && a->argc >= 1 && a->argv) {
		run->kind = RUN_EXEC;
		exec_start(run, spec);
	} else if (a && a->kind == WFP_ACTION_PLUGIN && a->plugin) {
		run->kind = RUN_PLUGIN;
		plugin_start(run, spec);
	} else {
		run_errorf(run, "task has nothing to run");
		run_end(run);
	}
	return run;
}

void wfp_taskrun_kill(struct wfp_taskrun *run)
{
	if (run == NULL || run->state != RUN_GOING)
		return;
	run->killed = 1;
	run_stop(run);
}

int wfp_taskrunner_active(const struct wfp_taskrunner *tr)
{
	return tr->active;
}

/* ---- the runner ------------------------------------------------------ */

/* SIGCHLD: reaps the exec tasks whose leader exited. */
static void runner_sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	exec_reap_all(arg);
}

/* Copies a NULL-terminated path array (resolving each again); NULL with
 * err on a relative path, too many or no memory. */
static char **runner_copy_allow(const char *const *paths, char *err,
				size_t errlen)
{
	size_t n = 0, i;
	char **out;

	while (paths[n] != NULL)
		n++;
	if (n > WFP_EXEC_ALLOW_PATHS_MAX) {
		snprintf(err, errlen, "exec allow list holds over %d paths",
			 WFP_EXEC_ALLOW_PATHS_MAX);
		return NULL;
	}
	out = calloc(n + 1, sizeof(*out));
	for (i = 0; out && i < n; i++) {
		char real[PATH_MAX];

		if (paths[i][0] != '/') {
			snprintf(err, errlen,
				 "exec allow path '%s' is not "
				 "absolute",
				 paths[i]);
			wfp_exec_allow_free(out);
			return NULL;
		}
		out[i] = strdup(realpath(paths[i], real) ? real : paths[i]);
		if (out[i] == NULL) {
			wfp_exec_allow_free(out);
			out = NULL;
		}
	}
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	return out;
}

struct wfp_taskrunner *
wfp_taskrunner_new(struct event_base *base,
		   const struct wfp_taskrunner_config *cfg, char *err,
		   size_t errlen)
{
	struct wfp_taskrunner *tr;

	if (cfg->output_max > WFP_TASK_OUTPUT_MAX_MAX) {
		snprintf(err, errlen, "output max %zu is over %d bytes",
			 cfg->output_max, WFP_TASK_OUTPUT_MAX_MAX);
		return NULL;
	}
	tr = calloc(1, sizeof(*tr));
	if (tr == NULL)
		goto nomem;
	tr->base = base;
	tr->output_max = cfg->output_max;
	tr->plugin_dir = strdup(cfg->plugin_dir ? cfg->plugin_dir : "");
	if (tr->plugin_dir == NULL)
		goto nomem;
	if (cfg->exec_allow) {
		tr->allow = runner_copy_allow(cfg->exec_allow, err, errlen);
		if (tr->allow == NULL)
			goto fail;
	}
	tr->sigchld = evsignal_new(base, SIGCHLD, runner_sigchld_cb, tr);
	if (tr->sigchld == NULL || event_add(tr->sigchld, NULL) != 0) {
		snprintf(err, errlen, "cannot watch SIGCHLD");
		goto fail;
	}
	return tr;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	wfp_taskrunner_free(tr);
	return NULL;
}

void wfp_taskrunner_free(struct wfp_taskrunner *tr)
{
	if (tr == NULL)
		return;
	while (tr->runs) {
		struct wfp_taskrun *run = tr->runs;

		run_unlink(run);
		if (run->state == RUN_GOING && run->kind == RUN_PLUGIN)
			run->ctx.plugin->abort(&run->ctx, run->ctx.state);
		run_free(run);
	}
	if (tr->sigchld)
		event_free(tr->sigchld);
	plugins_free(tr);
	wfp_exec_allow_free(tr->allow);
	free(tr->plugin_dir);
	free(tr);
}

/* ---- WFP_EXEC_ALLOW -------------------------------------------------- */

int wfp_exec_allow_parse(const char *value, char ***out, char *err,
			 size_t errlen)
{
	const char *list[WFP_EXEC_ALLOW_PATHS_MAX + 2];
	char *copy, *p;
	size_t n = 0;

	*out = NULL;
	if (value == NULL || *value == '\0')
		return 0;
	copy = strdup(value);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (p = copy; p != NULL && n <= WFP_EXEC_ALLOW_PATHS_MAX; n++) {
		char *colon = strchr(p, ':');

		if (colon)
			*colon = '\0';
		list[n] = p;
		p = colon ? colon + 1 : NULL;
	}
	list[n] = NULL;
	*out = runner_copy_allow(list, err, errlen);
	free(copy);
	return *out ? 0 : -1;
}

void wfp_exec_allow_free(char **paths)
{
	if (paths == NULL)
		return;
	for (size_t i = 0; paths[i] != NULL; i++)
		free(paths[i]);
	free(paths);
}
