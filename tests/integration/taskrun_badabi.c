/* A plugin built for another ABI (999): wfp-executor must refuse it.
 * Used by taskrun_test. */
#include <stddef.h>

#include "wfp/task.h"

/* Never called: the plugin is refused before. */
static int badabi_apply(struct wfp_task_ctx *ctx, void **state)
{
	(void)state;
	wfp_task_done(ctx, 1, NULL, NULL);
	return 0;
}

/* Never called. */
static void badabi_abort(struct wfp_task_ctx *ctx, void *state)
{
	(void)ctx;
	(void)state;
}

static const struct wfp_plugin badabi = {999, "badabi", badabi_apply, NULL,
					 badabi_abort};

/* The entry point, with the wrong ABI. */
const struct wfp_plugin *wfp_plugin_entry(void)
{
	return &badabi;
}
