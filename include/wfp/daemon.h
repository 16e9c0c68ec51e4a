/*
 * daemon.h - what every wfp daemon does around its own work: read the
 * configuration, set up logging, the event loop, signals and the
 * /healthz + /metrics HTTP endpoint, and shut down cleanly.
 *
 * Life cycle: wfp_daemon_init() -> the service sets up its work on
 * d->base -> wfp_daemon_run() returns after SIGTERM/SIGINT once the
 * service's on_stop hook says the work in flight is finished or handed
 * back -> wfp_daemon_release().
 */
#ifndef WFP_DAEMON_H
#define WFP_DAEMON_H

#include <event2/event.h>
#include <event2/http.h>

#include "wfp/config.h"

/* The /healthz + /metrics endpoint serves GET and HEAD only; a request
 * whose headers pass WFP_HTTP_HEADERS_MAX bytes or whose body passes
 * WFP_HTTP_BODY_MAX is refused, and a connection idle for
 * WFP_HTTP_TIMEOUT_S seconds is closed, so a client cannot make a daemon
 * hold memory or connections without end. */
#define WFP_HTTP_HEADERS_MAX 8192
#define WFP_HTTP_BODY_MAX    1024
#define WFP_HTTP_TIMEOUT_S   10

struct wfp_daemon;

/* Asked to stop: begin finishing work; call wfp_daemon_stopped() when done. */
typedef void wfp_daemon_stop_fn(struct wfp_daemon *d, void *arg);

/* Returns 1 when the service is healthy (e.g. Redis connected). */
typedef int wfp_daemon_health_fn(void *arg);

struct wfp_daemon {
	const char *name; /* program name, e.g. "wfp-jobboard" */
	struct wfp_config cfg;
	struct event_base *base;
	struct event *sigterm, *sigint, *sigquit_timer;
	struct evhttp *http; /* NULL unless WFP_METRICS_ADDR is set */
	wfp_daemon_stop_fn *on_stop;
	wfp_daemon_health_fn *healthy;
	void *arg;
	int stopping;
};

/*
 * Reads the environment, then flags from argv (a bad value or unknown
 * flag prints a message naming it and returns -1; "--help" prints usage
 * and returns 1). Sets up logging, signals, SIGPIPE ignored and, when
 * configured, the HTTP endpoint. Returns 0 when ready to run.
 */
int wfp_daemon_init(struct wfp_daemon *d, const char *name, int argc,
		    char **argv);

/* The same, with the flags (names without "--", NULL-terminated) this
 * daemon reads: --help lists those only (flags NULL: every setting). */
int wfp_daemon_init_flags(struct wfp_daemon *d, const char *name,
			  const char *const *flags, int argc, char **argv);

/* Runs the loop until stopped. Returns 0 after a clean stop. */
int wfp_daemon_run(struct wfp_daemon *d);

/* The service reports that its work in flight is done; the loop ends. */
void wfp_daemon_stopped(struct wfp_daemon *d);

/* Frees what init made. */
void wfp_daemon_release(struct wfp_daemon *d);

/* What a daemon's main() hands over: how to start, judge and free its
 * service (the void * is the service's own state). */
struct wfp_daemon_ops {
	void *(*start)(struct wfp_daemon *d); /* NULL on failure (logged) */
	int (*exit_code)(const void *state);  /* status after a stop */
	void (*free)(void *state);
	const char *const *flags; /* settings it reads, for --help (NULL:
				     every one) */
};

/*
 * The whole life of a daemon: init from env and argv, start the service,
 * run until stopped, free. Returns main()'s exit status: 0 after a clean
 * stop or --help, 2 for bad settings, 1 when the service cannot start,
 * else the service's exit code.
 */
int wfp_daemon_main(const char *name, int argc, char **argv,
		    const struct wfp_daemon_ops *ops);

#endif
