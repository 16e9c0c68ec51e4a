/* daemon.c - start-up, signals, HTTP endpoint, shutdown
 * (see wfp/daemon.h). */
#include "wfp/daemon.h"

#include <event2/buffer.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wfp/log.h"
#include "wfp/metrics.h"
#include "wfp/util.h"

#define STOP_GRACE_MS 10000 /* longest wait for work in flight at stop */

/* GET /healthz: 200 "ok" while healthy, else 503. */
static void on_healthz(struct evhttp_request *req, void *arg)
{
	struct wfp_daemon *d = arg;
	struct evbuffer *out = evbuffer_new();
	int ok = d->healthy ? d->healthy(d->arg) : 1;

	if (out == NULL)
		return;
	evbuffer_add_printf(out, ok ? "ok\n" : "unhealthy\n");
	evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Unavailable", out);
	evbuffer_free(out);
}

/* GET /metrics: the Prometheus text format. */
static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (out == NULL)
		return;
	wfp_metrics_write(out);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* Binds the HTTP endpoint to d->cfg.metrics_addr. */
static int daemon_http(struct wfp_daemon *d)
{
	char host[WFP_ADDR_MAX];
	char *colon;

	wfp_strlcpy(host, d->cfg.metrics_addr, sizeof(host));
	colon = strrchr(host, ':');
	*colon = '\0';
	d->http = evhttp_new(d->base);
	if (d->http == NULL ||
	    evhttp_bind_socket(d->http, host, (ev_uint16_t)atoi(colon + 1)) !=
		0)
		return wfp_error("cannot listen on WFP_METRICS_ADDR '%s'",
				 d->cfg.metrics_addr);
	evhttp_set_max_headers_size(d->http, WFP_HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(d->http, WFP_HTTP_BODY_MAX);
	evhttp_set_timeout(d->http, WFP_HTTP_TIMEOUT_S);
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_cb(d->http, "/healthz", on_healthz, d);
	evhttp_set_cb(d->http, "/metrics", on_metrics, d);
	wfp_info("serving /healthz and /metrics on %s", d->cfg.metrics_addr);
	return 0;
}

/* The grace period ran out: stop without waiting any longer. */
static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct wfp_daemon *d = arg;

	(void)fd, (void)what;
	wfp_warn("work still in flight after %d ms; stopping anyway",
		 STOP_GRACE_MS);
	event_base_loopbreak(d->base);
}

/* SIGTERM/SIGINT: ask the service to finish, with a deadline. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct wfp_daemon *d = arg;
	struct timeval tv = {STOP_GRACE_MS / 1000, 0};

	(void)what;
	if (d->stopping) {
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = 1;
	wfp_info("%s received; finishing work in flight",
		 sig == SIGTERM ? "SIGTERM" : "SIGINT");
	evtimer_add(d->sigquit_timer, &tv);
	if (d->on_stop)
		d->on_stop(d, d->arg);
	else
		wfp_daemon_stopped(d);
}

/* Every setting, for a daemon that did not say which it reads. */
static const char *const all_flags[] = {
    "redis",	    "prefix",	     "visibility-ms",
    "retention-ms", "timeout-ms",    "concurrency",
    "inflight-max", "log-level",     "metrics-addr",
    "plugin-dir",   "exec-allow",    "task-output-max",
    "grace-ms",	    "executor-name", NULL};

/* Prints the flags the daemon reads, each with its variable. */
static void usage(const char *name, const char *const *flags)
{
	printf("usage: %s [flags]\n", name);
	for (int i = 0; flags[i]; i++) {
		const char *env, *value;
		char left[64];

		if (wfp_config_flag_help(flags[i], &env, &value) != 0)
			continue;
		snprintf(left, sizeof(left), "--%s %s", flags[i], value);
		printf("  %-40s %s\n", left, env);
	}
	printf("Each flag is also the environment variable shown. Flags "
	       "win.\n");
}

int wfp_daemon_init(struct wfp_daemon *d, const char *name, int argc,
		    char **argv)
{
	return wfp_daemon_init_flags(d, name, NULL, argc, argv);
}

int wfp_daemon_init_flags(struct wfp_daemon *d, const char *name,
			  const char *const *flags, int argc, char **argv)
{
	char err[512];
	int pos = 1;

	memset(d, 0, sizeof(*d));
	d->name = name;
	wfp_log_set_name(name);
	wfp_config_defaults(&d->cfg);
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		return usage(name, flags ? flags : all_flags), 1;
	if (wfp_config_from_env(&d->cfg, err, sizeof(err)) != 0 ||
	    wfp_config_from_args(&d->cfg, argc, argv, &pos, err, sizeof(err)))
		return wfp_error("%s", err);
	if (pos < argc)
		return wfp_error("unknown argument '%s' (see --help)",
				 argv[pos]);
	wfp_log_set_level(d->cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)(getpid() ^ wfp_mono_us()));
	d->base = event_base_new();
	if (d->base == NULL)
		return wfp_error("cannot create the event loop");
	d->sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sigquit_timer = evtimer_new(d->base, on_grace, d);
	if (!d->sigterm || !d->sigint || !d->sigquit_timer)
		return wfp_error("cannot set up signal handling");
	evsignal_add(d->sigterm, NULL);
	evsignal_add(d->sigint, NULL);
	if (d->cfg.metrics_addr[0] && daemon_http(d) != 0)
		return -1;
	return 0;
}

int wfp_daemon_run(struct wfp_daemon *d)
{
	char url[WFP_URL_MAX + 8];

	wfp_redis_url_redact(d->cfg.redis_url, url, sizeof(url));
	wfp_info("started (redis %s, prefix '%s')", url, d->cfg.prefix);
	event_base_dispatch(d->base);
	wfp_info("stopped");
	return 0;
}

void wfp_daemon_stopped(struct wfp_daemon *d)
{
	event_base_loopexit(d->base, NULL);
}

void wfp_daemon_release(struct wfp_daemon *d)
{
	if (d->http)
		evhttp_free(d->http);
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sigint)
		event_free(d->sigint);
	if (d->sigquit_timer)
		event_free(d->sigquit_timer);
	if (d->base)
		event_base_free(d->base);
}

int wfp_daemon_main(const char *name, int argc, char **argv,
		    const struct wfp_daemon_ops *ops)
{
	struct wfp_daemon d;
	void *state;
	int rc = wfp_daemon_init_flags(&d, name, ops->flags, argc, argv);

	if (rc != 0) {
		wfp_daemon_release(&d);
		return rc > 0 ? 0 : 2;
	}
	state = ops->start(&d);
	if (state == NULL) {
		wfp_daemon_release(&d);
		return 1;
	}
	wfp_daemon_run(&d);
	rc = ops->exit_code(state);
	ops->free(state);
	wfp_daemon_release(&d);
	return rc;
}
