/*
 * metrics.h - counters and gauges a daemon exposes on /metrics in the
 * Prometheus text format.
 *
 * A metric is a static struct the daemon registers once; values are plain
 * int64 updated from the event loop thread only.
 */
#ifndef WFP_METRICS_H
#define WFP_METRICS_H

#include <event2/buffer.h>
#include <stdint.h>

#define WFP_METRICS_MAX 64

struct wfp_metric {
	const char *name; /* e.g. "wfp_jobboard_requests_total" */
	const char *help;
	const char *type; /* "counter" or "gauge" */
	int64_t value;
};

/* Adds m to the exported set. Returns 0, or -1 when the set is full. */
int wfp_metrics_register(struct wfp_metric *m);

/* Writes every registered metric to out in the Prometheus text format. */
void wfp_metrics_write(struct evbuffer *out);

#endif
