/* config.c - settings from the environment and flags (see wfp/config.h). */
#include "wfp/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/client.h" /* WFP_LEASE_*_MS, WFP_RETENTION_MAX_MS */
#include "wfp/util.h"

enum opt_kind {
	OPT_URL,      /* a Redis URL */
	OPT_PREFIX,   /* a key prefix */
	OPT_INT,      /* a whole number in min..max */
	OPT_LEVEL,    /* a log level */
	OPT_ADDR,     /* host:port or "" */
	OPT_PATH,     /* a path (text, below max bytes) or "" */
	OPT_PATHLIST, /* absolute paths separated by ':', or "" */
	OPT_NAME,     /* 1..64 of A-Z a-z 0-9 _ . : @ -, or "" */
};

/* One setting: flag name, variable, kind, bounds for integers, field. */
struct opt {
	const char *flag;
	const char *env;
	enum opt_kind kind;
	int64_t min, max;
	size_t offset;
};

#define FIELD(f) offsetof(struct wfp_config, f)
static const struct opt opts[] = {
    {"redis", "WFP_REDIS_URL", OPT_URL, 0, 0, FIELD(redis_url)},
    {"prefix", "WFP_PREFIX", OPT_PREFIX, 0, 0, FIELD(prefix)},
    {"visibility-ms", "WFP_VISIBILITY_MS", OPT_INT, WFP_LEASE_MIN_MS,
     WFP_LEASE_MAX_MS, FIELD(visibility_ms)},
    {"retention-ms", "WFP_RETENTION_MS", OPT_INT, WFP_RETENTION_MIN_MS,
     WFP_RETENTION_MAX_MS, FIELD(retention_ms)},
    {"timeout-ms", "WFP_TIMEOUT_MS", OPT_INT, WFP_TIMEOUT_MIN_MS,
     WFP_TIMEOUT_MAX_MS, FIELD(timeout_ms)},
    {"concurrency", "WFP_CONCURRENCY", OPT_INT, 1, WFP_CONCURRENCY_MAX,
     FIELD(concurrency)},
    {"inflight-max", "WFP_INFLIGHT_MAX", OPT_INT, 1, WFP_INFLIGHT_MAX_MAX,
     FIELD(inflight_max)},
    {"log-level", "WFP_LOG_LEVEL", OPT_LEVEL, 0, 0, FIELD(log_level)},
    {"metrics-addr", "WFP_METRICS_ADDR", OPT_ADDR, 0, 0, FIELD(metrics_addr)},
    {"plugin-dir", "WFP_PLUGIN_DIR", OPT_PATH, 0, WFP_PATH_MAX,
     FIELD(plugin_dir)},
    {"classes-dir", "WFP_CLASSES_DIR", OPT_PATH, 0, WFP_PATH_MAX,
     FIELD(classes_dir)},
    {"exec-allow", "WFP_EXEC_ALLOW", OPT_PATHLIST, 0, WFP_EXEC_ALLOW_MAX,
     FIELD(exec_allow)},
    {"task-output-max", "WFP_TASK_OUTPUT_MAX", OPT_INT, 0,
     WFP_TASK_OUTPUT_MAX_MAX, FIELD(task_output_max)},
    {"grace-ms", "WFP_GRACE_MS", OPT_INT, 0, WFP_GRACE_MAX_MS, FIELD(grace_ms)},
    {"executor-name", "WFP_EXECUTOR_NAME", OPT_NAME, 0, WFP_EXECUTOR_NAME_MAX,
     FIELD(executor_name)},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void wfp_config_defaults(struct wfp_config *cfg)
{
	char err[128];

	memset(cfg, 0, sizeof(*cfg));
	wfp_strlcpy(cfg->redis_url, "redis://127.0.0.1:6379",
		    sizeof(cfg->redis_url));
	wfp_redis_url_parse(cfg->redis_url, &cfg->redis, err, sizeof(err));
	wfp_strlcpy(cfg->prefix, "wfp", sizeof(cfg->prefix));
	cfg->visibility_ms = 15000;
	cfg->retention_ms = 7LL * 24 * 3600 * 1000;
	cfg->timeout_ms = 5000;
	cfg->concurrency = 8;
	cfg->inflight_max = 1024;
	cfg->log_level = WFP_LOG_INFO;
	cfg->task_output_max = 4096;
	cfg->grace_ms = 10000;
}

/* Returns the setting whose flag is name, or NULL. */
static const struct opt *opt_find(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (strcmp(opts[i].flag, name) == 0)
			return &opts[i];
	}
	return NULL;
}

int wfp_config_is_flag(const char *name)
{
	return opt_find(name) != NULL;
}

int wfp_config_flag_help(const char *name, const char **env, const char **value)
{
	static const char *const hints[] = {[OPT_URL] = "URL",
					    [OPT_PREFIX] = "P",
					    [OPT_INT] = "N",
					    [OPT_LEVEL] =
						"debug|info|warn|error",
					    [OPT_ADDR] = "HOST:PORT",
					    [OPT_PATH] = "PATH",
					    [OPT_PATHLIST] = "PATH[:PATH...]",
					    [OPT_NAME] = "NAME"};
	const struct opt *o = opt_find(name);

	if (o == NULL)
		return -1;
	*env = o->env;
	*value = strstr(o->flag, "-ms") ? "MS" : hints[o->kind];
	return 0;
}

/* A prefix is 1..31 characters of [A-Za-z0-9_.-]: no braces, colons or
 * spaces, so it can sit inside a hash tag. */
static int prefix_ok(const char *s)
{
	return wfp_word_ok(s, WFP_PREFIX_MAX, "_.-");
}

/* An address is "" (off) or host:port with a port in 1..65535. */
static int addr_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	int64_t port;

	if (*s == '\0')
		return 1;
	if (colon == NULL || colon == s || strlen(s) >= WFP_ADDR_MAX)
		return 0;
	if (wfp_parse_i64(colon + 1, &port) != 0)
		return 0;
	return port >= 1 && port <= 65535;
}

/* A path is "" or text (no control characters) below max bytes. */
static int path_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n < max && wfp_text_ok(s, n);
}

/* An allow list is "" or absolute paths separated by ':', at most
 * WFP_EXEC_ALLOW_PATHS_MAX, below max bytes in all. On a bad one, writes
 * the reason into why. */
static int pathlist_ok(const char *s, size_t max, char *why, size_t n)
{
	size_t count = 0;

	if (*s == '\0')
		return 1;
	if (!path_ok(s, max)) {
		snprintf(why, n, "is not text below %zu bytes", max);
		return 0;
	}
	for (const char *p = s; p != NULL; count++) {
		const char *colon = strchr(p, ':');

		if (*p != '/') {
			snprintf(why, n, "holds '%.*s', not an absolute path",
				 (int)(colon ? (size_t)(colon - p) : strlen(p)),
				 p);
			return 0;
		}
		p = colon ? colon + 1 : NULL;
	}
	if (count > WFP_EXEC_ALLOW_PATHS_MAX) {
		snprintf(why, n, "holds over %d paths",
			 WFP_EXEC_ALLOW_PATHS_MAX);
		return 0;
	}
	return 1;
}

/* Validates and stores one text setting of kind PATH, PATHLIST or NAME
 * (o->max: the field's size). */
static int set_text(struct wfp_config *cfg, const struct opt *o,
		    const char *value, const char *source, char *err,
		    size_t errlen)
{
	char why[128] = "", q[WFP_QUOTE_BUF];
	int ok;

	if (o->kind == OPT_PATH) {
		ok = path_ok(value, (size_t)o->max);
		snprintf(why, sizeof(why), "is not a path below %lld bytes",
			 (long long)o->max);
	} else if (o->kind == OPT_PATHLIST) {
		ok = pathlist_ok(value, (size_t)o->max, why, sizeof(why));
	} else {
		ok = *value == '\0' ||
		     wfp_word_ok(value, (size_t)o->max, "_.:@-");
		snprintf(why, sizeof(why),
			 "is not 1-64 of A-Z a-z 0-9 _ . : @ -");
	}
	if (!ok) {
		snprintf(err, errlen, "%s: '%s' %s", source,
			 wfp_quote(q, sizeof(q), value, strlen(value)), why);
		return -1;
	}
	wfp_strlcpy((char *)cfg + o->offset, value, (size_t)o->max);
	return 0;
}

/* Validates and stores one integer setting. */
static int set_int(struct wfp_config *cfg, const struct opt *o,
		   const char *value, const char *source, char *err,
		   size_t errlen)
{
	int64_t v;

	if (wfp_parse_i64(value, &v) != 0 || v < o->min || v > o->max) {
		snprintf(err, errlen,
			 "%s: '%s' is not a whole number from %lld to %lld",
			 source, value, (long long)o->min, (long long)o->max);
		return -1;
	}
	*(int64_t *)((char *)cfg + o->offset) = v;
	return 0;
}

int wfp_config_set(struct wfp_config *cfg, const char *name, const char *value,
		   const char *source, char *err, size_t errlen)
{
	const struct opt *o = opt_find(name);
	char *field;

	if (o == NULL) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -1;
	}
	field = (char *)cfg + o->offset;
	switch (o->kind) {
	case OPT_INT: return set_int(cfg, o, value, source, err, errlen);
	case OPT_PATH:
	case OPT_PATHLIST:
	case OPT_NAME: return set_text(cfg, o, value, source, err, errlen);
	case OPT_URL: {
		char why[WFP_URL_MAX + 64];

		if (wfp_redis_url_parse(value, &cfg->redis, why, sizeof(why))) {
			/* "--redis=URL": the flag's name only (the URL,
			 * redacted, is in why). */
			const char *eq = strchr(source, '=');
			int n = eq && strncmp(source, "--", 2) == 0
				    ? (int)(eq - source)
				    : (int)strlen(source);

			snprintf(err, errlen, "%.*s: %s", n, source, why);
			return -1;
		}
		wfp_strlcpy(field, value, WFP_URL_MAX);
		return 0;
	}
	case OPT_PREFIX:
		if (!prefix_ok(value)) {
			snprintf(err, errlen,
				 "%s: '%s' is not a prefix (1-31 of A-Z a-z "
				 "0-9 _ . -)",
				 source, value);
			return -1;
		}
		wfp_strlcpy(field, value, WFP_PREFIX_MAX);
		return 0;
	case OPT_LEVEL:
		if (wfp_log_level_parse(value, &cfg->log_level) != 0) {
			snprintf(
			    err, errlen,
			    "%s: '%s' is not one of debug, info, warn, error",
			    source, value);
			return -1;
		}
		return 0;
	case OPT_ADDR:
		if (!addr_ok(value)) {
			snprintf(err, errlen, "%s: '%s' is not host:port",
				 source, value);
			return -1;
		}
		wfp_strlcpy(field, value, WFP_ADDR_MAX);
		return 0;
	}
	return -1;
}

int wfp_config_from_env(struct wfp_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const char *v = getenv(opts[i].env);

		if (v == NULL)
			continue;
		if (wfp_config_set(cfg, opts[i].flag, v, opts[i].env, err,
				   errlen) != 0)
			return -1;
	}
	return 0;
}

int wfp_config_from_args(struct wfp_config *cfg, int argc, char **argv,
			 int *pos, char *err, size_t errlen)
{
	while (*pos < argc && strncmp(argv[*pos], "--", 2) == 0) {
		char name[64];
		const char *arg = argv[*pos] + 2;
		const char *eq = strchr(arg, '=');
		size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
		const char *value;

		if (n >= sizeof(name))
			return 0;
		memcpy(name, arg, n);
		name[n] = '\0';
		if (!wfp_config_is_flag(name))
			return 0;
		if (eq == NULL && *pos + 1 >= argc) {
			snprintf(err, errlen, "--%s needs a value", name);
			return -1;
		}
		value = eq ? eq + 1 : argv[*pos + 1];
		if (wfp_config_set(cfg, name, value, argv[*pos], err, errlen))
			return -1;
		*pos += eq ? 1 : 2;
	}
	return 0;
}

/* Splits "[[user]:password@]" off the authority into out. */
static const char *url_userinfo(const char *s, struct wfp_redis_addr *out)
{
	const char *at = strrchr(s, '@');
	const char *colon;

	if (at == NULL)
		return s;
	colon = memchr(s, ':', (size_t)(at - s));
	if (colon == NULL) {
		snprintf(out->password, sizeof(out->password), "%.*s",
			 (int)(at - s), s);
	} else {
		snprintf(out->user, sizeof(out->user), "%.*s", (int)(colon - s),
			 s);
		snprintf(out->password, sizeof(out->password), "%.*s",
			 (int)(at - colon - 1), colon + 1);
	}
	return at + 1;
}

int wfp_redis_url_parse(const char *url, struct wfp_redis_addr *out, char *err,
			size_t errlen)
{
	const char *s;
	const char *slash, *colon;
	size_t hostlen;
	int64_t v = 6379;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "redis://", 8) != 0 || strlen(url) >= WFP_URL_MAX)
		goto bad;
	s = url_userinfo(url + 8, out);
	slash = strchr(s, '/');
	colon = strchr(s, ':');
	if (colon && slash && colon > slash)
		colon = NULL;
	hostlen = colon ? (size_t)(colon - s)
			: (slash ? (size_t)(slash - s) : strlen(s));
	if (hostlen == 0 || hostlen >= sizeof(out->host))
		goto bad;
	memcpy(out->host, s, hostlen);
	if (colon) {
		char port[8] = "";
		size_t n =
		    slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
		if (n == 0 || n >= sizeof(port))
			goto bad;
		memcpy(port, colon + 1, n);
		if (wfp_parse_i64(port, &v) != 0 || v < 1 || v > 65535)
			goto bad;
	}
	out->port = (int)v;
	if (slash && slash[1] != '\0') {
		if (wfp_parse_i64(slash + 1, &v) != 0 || v < 0 || v > 1000)
			goto bad;
		out->db = (int)v;
	}
	return 0;
bad : {
	char shown[WFP_URL_MAX + 8];

	wfp_redis_url_redact(url, shown, sizeof(shown));
	snprintf(err, errlen,
		 "'%s' is not a redis://[[user]:password@]host[:port][/db] URL",
		 shown);
	return -1;
}
}

/* The length of url's scheme and "://" (0 when it has none: a scheme is
 * a letter, then letters, digits, '+', '-' or '.'). */
static size_t url_scheme_len(const char *url)
{
	const char *sep = strstr(url, "://");
	const char *p;

	if (sep == NULL || sep == url)
		return 0;
	for (p = url; p < sep; p++)
		if (!(isalpha((unsigned char)*p) ||
		      (p > url && (isdigit((unsigned char)*p) || *p == '+' ||
				   *p == '-' || *p == '.'))))
			return 0;
	return (size_t)(sep - url) + 3;
}

void wfp_redis_url_redact(const char *url, char *out, size_t outlen)
{
	/* Any scheme (a mistyped "rediss://" or "REDIS://" is shown in an
	 * error message too), or none ("user:password@host"). */
	size_t skip = url_scheme_len(url);
	const char *rest = url + skip;
	const char *at = strrchr(rest, '@');
	const char *colon;

	if (outlen == 0)
		return;
	if (at == NULL) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	/* The same split as url_userinfo: user up to the first ':'. */
	colon = memchr(rest, ':', (size_t)(at - rest));
	if (colon == NULL)
		snprintf(out, outlen, "%.*s***%s", (int)skip, url, at);
	else
		snprintf(out, outlen, "%.*s:***%s", (int)(colon - url), url,
			 at);
}

void wfp_config_tag(const struct wfp_config *cfg, char *out, size_t n)
{
	snprintf(out, n, "{%s}", cfg->prefix);
}
