/* taskrun_plugin.c - plugin tasks: the built-in plugins, loading a .so
 * from WFP_PLUGIN_DIR, and the wfp_task_* API plugins call (see
 * include/wfp/task.h). */
#include "taskrun-internal.h"

#include <dlfcn.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/util.h"

/* Bounds of the sleep plugin's args.ms. */
#define SLEEP_MS_MAX 86400000LL

/* ---- built-in plugins ------------------------------------------------ */

/* noop: succeeds at once, no outputs. */
static int noop_run(struct wfp_task_ctx *ctx, void **state)
{
	(void)state;
	wfp_task_done(ctx, 1, NULL, NULL);
	return 0;
}

/* Nothing to stop: noop and fail end inside apply. */
static void noop_abort(struct wfp_task_ctx *ctx, void *state)
{
	(void)ctx;
	(void)state;
}

/* fail: fails with args.reason (a string; "failed" when absent). */
static int fail_run(struct wfp_task_ctx *ctx, void **state)
{
	json_t *args = json_loads(wfp_task_args(ctx), 0, NULL);
	json_t *r = json_object_get(args, "reason");

	(void)state;
	wfp_task_done(ctx, 0, NULL,
		      json_is_string(r) ? json_string_value(r) : "failed");
	json_decref(args);
	return 0;
}

struct sleep_state {
	struct event *ev;
	struct wfp_task_ctx *ctx;
};

/* The sleep is over. */
static void sleep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleep_state *s = arg;
	struct wfp_task_ctx *ctx = s->ctx;

	(void)fd;
	(void)what;
	event_free(s->ev);
	free(s);
	wfp_task_done(ctx, 1, NULL, NULL);
}

/* Reads args.ms into *ms. Returns 0, or -1 when it is not a whole number
 * from 0 to SLEEP_MS_MAX. */
static int sleep_ms(struct wfp_task_ctx *ctx, int64_t *ms)
{
	json_t *args = json_loads(wfp_task_args(ctx), 0, NULL);
	json_t *v = json_object_get(args, "ms");
	int rc = -1;

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= SLEEP_MS_MAX) {
		*ms = json_integer_value(v);
		rc = 0;
	}
	json_decref(args);
	return rc;
}

/* sleep: succeeds after args.ms milliseconds, on a timer. */
static int sleep_run(struct wfp_task_ctx *ctx, void **state)
{
	struct sleep_state *s;
	struct timeval tv;
	int64_t ms;

	if (sleep_ms(ctx, &ms) != 0) {
		wfp_task_done(ctx, 0, NULL,
			      "sleep: args.ms is not a whole number from 0 to "
			      "86400000");
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	s->ctx = ctx;
	s->ev = evtimer_new(wfp_task_base(ctx), sleep_cb, s);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (s->ev == NULL || evtimer_add(s->ev, &tv) != 0) {
		if (s->ev)
			event_free(s->ev);
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* Stops a sleep: its timer goes. */
static void sleep_abort(struct wfp_task_ctx *ctx, void *state)
{
	struct sleep_state *s = state;

	(void)ctx;
	if (s == NULL)
		return;
	event_free(s->ev);
	free(s);
}

static const struct wfp_plugin builtins[] = {
    {WFP_PLUGIN_ABI, "noop", noop_run, noop_run, noop_abort},
    {WFP_PLUGIN_ABI, "sleep", sleep_run, sleep_run, sleep_abort},
    {WFP_PLUGIN_ABI, "fail", fail_run, fail_run, noop_abort},
};
#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

/* ---- loading --------------------------------------------------------- */

/* Returns 1 when name is 1..63 of a-z 0-9 _ -. */
static int plugin_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n < WFP_PLUGIN_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Checks what a .so's entry gave. Returns 0, or -1 with err. */
static int plugin_check(const char *name, const struct wfp_plugin *p, char *err,
			size_t errlen)
{
	if (p == NULL) {
		snprintf(err, errlen, "plugin '%s' gave no description", name);
		return -1;
	}
	if (p->abi != WFP_PLUGIN_ABI) {
		snprintf(err, errlen,
			 "plugin '%s' has ABI %d, this executor takes %d", name,
			 p->abi, WFP_PLUGIN_ABI);
		return -1;
	}
	if (p->apply == NULL || p->abort == NULL) {
		snprintf(err, errlen, "plugin '%s' has no apply or no abort",
			 name);
		return -1;
	}
	return 0;
}

/* Loads WFP_PLUGIN_DIR/name.so and keeps it. Returns the plugin, or NULL
 * with err. */
static const struct wfp_plugin *plugin_load(struct wfp_taskrunner *tr,
					    const char *name, char *err,
					    size_t errlen)
{
	char path[4096];
	wfp_plugin_entry_fn *entry;
	const struct wfp_plugin *p;
	struct plugin_slot *slot;
	void *h, *sym;

	snprintf(path, sizeof(path), "%s/%s.so", tr->plugin_dir, name);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "plugin '%s' cannot be loaded: %s", name,
			 dlerror());
		return NULL;
	}
	sym = dlsym(h, WFP_PLUGIN_ENTRY);
	if (sym == NULL) {
		snprintf(err, errlen, "plugin '%s' has no %s", name,
			 WFP_PLUGIN_ENTRY);
		dlclose(h);
		return NULL;
	}
	memcpy(&entry, &sym, sizeof(entry));
	p = entry();
	slot = calloc(1, sizeof(*slot));
	if (slot == NULL || plugin_check(name, p, err, errlen) != 0) {
		if (slot == NULL)
			snprintf(err, errlen, "out of memory");
		free(slot);
		dlclose(h);
		return NULL;
	}
	wfp_strlcpy(slot->name, name, sizeof(slot->name));
	slot->handle = h;
	slot->plugin = p;
	slot->next = tr->plugins;
	tr->plugins = slot;
	return slot->plugin;
}

/* The plugin called name: built in, loaded before, or loaded now.
 * Returns NULL with err when there is none. */
static const struct wfp_plugin *plugin_find(struct wfp_taskrunner *tr,
					    const char *name, char *err,
					    size_t errlen)
{
	char q[WFP_QUOTE_BUF];

	for (size_t i = 0; i < NBUILTINS; i++) {
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	}
	if (!plugin_name_ok(name)) {
		snprintf(err, errlen,
			 "plugin name '%s' is not 1-63 of a-z 0-9 _ -",
			 wfp_quote(q, sizeof(q), name, strlen(name)));
		return NULL;
	}
	for (struct plugin_slot *s = tr->plugins; s != NULL; s = s->next) {
		if (strcmp(s->name, name) == 0)
			return s->plugin;
	}
	if (tr->plugin_dir[0] == '\0') {
		snprintf(err, errlen,
			 "plugin '%s' is not built in and WFP_PLUGIN_DIR is "
			 "not set",
			 name);
		return NULL;
	}
	return plugin_load(tr, name, err, errlen);
}

void plugins_free(struct wfp_taskrunner *tr)
{
	while (tr->plugins) {
		struct plugin_slot *s = tr->plugins;

		tr->plugins = s->next;
		dlclose(s->handle);
		free(s);
	}
}

/* ---- running --------------------------------------------------------- */

/* Bytes of s with its NUL (NULL counts as ""). */
static size_t str_size(const char *s)
{
	return (s ? strlen(s) : 0) + 1;
}

size_t plugin_ctx_size(const struct wfp_taskrun_spec *spec)
{
	size_t n = 2 * (size_t)spec->ninputs * sizeof(char *);

	n += str_size(spec->job_id) + str_size(spec->task) +
	     str_size(spec->task_key) + str_size(spec->lock_fences) +
	     str_size(spec->action->args ? spec->action->args : "{}");
	for (int i = 0; i < spec->ninputs; i++)
		n += str_size(spec->input_names[i]) +
		     str_size(spec->input_values[i]);
	return n;
}

/* Copies s ("" for NULL) to *p and moves *p past it. */
static const char *ctx_copy(char **p, const char *s)
{
	size_t n = str_size(s);
	char *r = *p;

	memcpy(r, s ? s : "", n);
	*p += n;
	return r;
}

/* Fills the run's ctx, copying the spec into the bytes after the run. */
static void ctx_fill(struct wfp_taskrun *run,
		     const struct wfp_taskrun_spec *spec)
{
	struct wfp_task_ctx *c = &run->ctx;
	char *p = (char *)(run + 1);
	const char *args = spec->action->args;

	c->run = run;
	c->revert = spec->revert ? 1 : 0;
	c->attempt = spec->attempt;
	c->fence = spec->fence;
	c->ninputs = spec->ninputs;
	c->names = (const char **)(void *)p;
	p += (size_t)spec->ninputs * sizeof(char *);
	c->values = (const char **)(void *)p;
	p += (size_t)spec->ninputs * sizeof(char *);
	c->job_id = ctx_copy(&p, spec->job_id);
	c->task = ctx_copy(&p, spec->task);
	c->key = ctx_copy(&p, spec->task_key);
	c->lock_fences = ctx_copy(&p, spec->lock_fences);
	c->args = ctx_copy(&p, args ? args : "{}");
	for (int i = 0; i < spec->ninputs; i++) {
		c->names[i] = ctx_copy(&p, spec->input_names[i]);
		c->values[i] = ctx_copy(&p, spec->input_values[i]);
	}
}

void plugin_start(struct wfp_taskrun *run, const struct wfp_taskrun_spec *spec)
{
	const char *name = spec->action->plugin;
	int (*fn)(struct wfp_task_ctx *, void **);
	char err[WFP_TASK_ERROR_MAX];

	ctx_fill(run, spec);
	run->ctx.plugin = plugin_find(run->tr, name, err, sizeof(err));
	if (run->ctx.plugin == NULL) {
		run_errorf(run, "%s", err);
		run_end(run);
		return;
	}
	fn = spec->revert ? run->ctx.plugin->revert : run->ctx.plugin->apply;
	if (fn == NULL) {
		run_errorf(run, "plugin '%s' has no revert", name);
		run_end(run);
		return;
	}
	if (fn(&run->ctx, &run->ctx.state) != 0 && run->state == RUN_GOING) {
		run_errorf(run, "plugin '%s' failed to start", name);
		run_end(run);
	}
}

void plugin_stop(struct wfp_taskrun *run)
{
	if (run->ctx.plugin != NULL)
		run->ctx.plugin->abort(&run->ctx, run->ctx.state);
	run_end(run);
}

/* ---- the API plugins call -------------------------------------------- */

void wfp_task_done(struct wfp_task_ctx *ctx, int ok, const char *outputs_json,
		   const char *error)
{
	struct wfp_taskrun *run = ctx->run;

	if (run->state != RUN_GOING)
		return;
	run->ok = ok ? 1 : 0;
	if (!run->ok)
		run_set_error(run, error ? error : "failed");
	else if (outputs_json != NULL)
		run_outputs(run, outputs_json, strlen(outputs_json), 1);
	run_end(run);
}

const char *wfp_task_job_id(const struct wfp_task_ctx *ctx)
{
	return ctx->job_id;
}

const char *wfp_task_name(const struct wfp_task_ctx *ctx)
{
	return ctx->task;
}

const char *wfp_task_phase(const struct wfp_task_ctx *ctx)
{
	return ctx->revert ? "revert" : "apply";
}

int wfp_task_is_revert(const struct wfp_task_ctx *ctx)
{
	return ctx->revert;
}

int wfp_task_attempt(const struct wfp_task_ctx *ctx)
{
	return ctx->attempt;
}

int64_t wfp_task_fence(const struct wfp_task_ctx *ctx)
{
	return ctx->fence;
}

const char *wfp_task_key(const struct wfp_task_ctx *ctx)
{
	return ctx->key;
}

const char *wfp_task_args(const struct wfp_task_ctx *ctx)
{
	return ctx->args;
}

const char *wfp_task_input(const struct wfp_task_ctx *ctx, const char *name)
{
	for (int i = ctx->ninputs - 1; i >= 0; i--) {
		if (strcmp(ctx->names[i], name) == 0)
			return ctx->values[i];
	}
	return NULL;
}

int wfp_task_input_count(const struct wfp_task_ctx *ctx)
{
	return ctx->ninputs;
}

const char *wfp_task_input_at(const struct wfp_task_ctx *ctx, int i,
			      const char **name)
{
	if (i < 0 || i >= ctx->ninputs)
		return NULL;
	if (name)
		*name = ctx->names[i];
	return ctx->values[i];
}

const char *wfp_task_lock_fences(const struct wfp_task_ctx *ctx)
{
	return ctx->lock_fences;
}

struct event_base *wfp_task_base(const struct wfp_task_ctx *ctx)
{
	return ctx->run->tr->base;
}
