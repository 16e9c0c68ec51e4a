/* metrics.c - the registry behind /metrics (see wfp/metrics.h). */
#include "wfp/metrics.h"

#include <inttypes.h>

static struct wfp_metric *metrics[WFP_METRICS_MAX];
static int nmetrics;

int wfp_metrics_register(struct wfp_metric *m)
{
	if (nmetrics >= WFP_METRICS_MAX)
		return -1;
	metrics[nmetrics++] = m;
	return 0;
}

void wfp_metrics_write(struct evbuffer *out)
{
	for (int i = 0; i < nmetrics; i++) {
		const struct wfp_metric *m = metrics[i];

		evbuffer_add_printf(
		    out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRId64 "\n",
		    m->name, m->help, m->name, m->type, m->name, m->value);
	}
}
