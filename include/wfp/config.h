/*
 * config.h - settings of every wfp program, from the environment and flags.
 *
 * Each setting has one environment variable and one flag (see the table in
 * config.c and the README). Environment variables are read first, then
 * flags override them. Every value is validated; a bad one produces an
 * error naming the variable or flag and the value, and the program exits
 * non-zero before doing anything.
 */
#ifndef WFP_CONFIG_H
#define WFP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "wfp/log.h"

#define WFP_URL_MAX		 256
#define WFP_PREFIX_MAX		 32
#define WFP_ADDR_MAX		 128
#define WFP_PATH_MAX		 1024 /* bytes of a path setting (WFP_PLUGIN_DIR...) */
#define WFP_EXEC_ALLOW_MAX	 8192  /* bytes of WFP_EXEC_ALLOW */
#define WFP_EXEC_ALLOW_PATHS_MAX 256   /* paths in WFP_EXEC_ALLOW */
#define WFP_EXECUTOR_NAME_MAX	 65    /* 1..64 of A-Z a-z 0-9 _ . : @ - */
#define WFP_TASK_OUTPUT_MAX_MAX	 65536 /* WFP_TASK_OUTPUT_MAX at most */
/* Ranges of the numeric settings (WFP_VISIBILITY_MS takes client.h's
 * WFP_LEASE_MIN_MS..WFP_LEASE_MAX_MS, WFP_RETENTION_MS goes up to its
 * WFP_RETENTION_MAX_MS). */
#define WFP_RETENTION_MIN_MS 100
#define WFP_TIMEOUT_MIN_MS   10	    /* WFP_TIMEOUT_MS: one Redis command */
#define WFP_TIMEOUT_MAX_MS   600000 /* ten minutes */
#define WFP_CONCURRENCY_MAX  256
#define WFP_INFLIGHT_MAX_MAX 65536   /* WFP_INFLIGHT_MAX at most */
#define WFP_GRACE_MAX_MS     3600000 /* one hour */

/* A parsed redis://[[user]:password@]host[:port][/db] address. */
struct wfp_redis_addr {
	char host[WFP_URL_MAX];
	int port;
	int db;
	char user[64];
	char password[128];
};

struct wfp_config {
	char redis_url[WFP_URL_MAX]; /* WFP_REDIS_URL */
	struct wfp_redis_addr redis; /* parsed from redis_url */
	char
	    prefix[WFP_PREFIX_MAX]; /* WFP_PREFIX: key prefix, [A-Za-z0-9_.-] */
	int64_t visibility_ms;	    /* WFP_VISIBILITY_MS: lease of a claim */
	int64_t retention_ms;	    /* WFP_RETENTION_MS: finished jobs kept */
	int64_t timeout_ms;	    /* WFP_TIMEOUT_MS: one Redis command */
	int64_t concurrency;	    /* WFP_CONCURRENCY: executor slots */
	int64_t inflight_max; /* WFP_INFLIGHT_MAX: requests a replica holds */
	enum wfp_log_level log_level;	 /* WFP_LOG_LEVEL */
	char metrics_addr[WFP_ADDR_MAX]; /* WFP_METRICS_ADDR: host:port or "" */
	char plugin_dir[WFP_PATH_MAX];	 /* WFP_PLUGIN_DIR: "" none */
	char classes_dir[WFP_PATH_MAX];	 /* WFP_CLASSES_DIR: resource class
					    files NAME.json, "" none */
	char exec_allow[WFP_EXEC_ALLOW_MAX]; /* WFP_EXEC_ALLOW: absolute paths
						separated by ':', "" any */
	int64_t task_output_max; /* WFP_TASK_OUTPUT_MAX: bytes of each of a
				    task's stdout/stderr tails kept */
	int64_t grace_ms; /* WFP_GRACE_MS: running tasks may go on this long
			     after SIGTERM or a cancel before they are killed */
	char executor_name[WFP_EXECUTOR_NAME_MAX]; /* WFP_EXECUTOR_NAME: ""
						      means host-pid */
};

/* Fills cfg with the defaults (laptop and small cluster alike). */
void wfp_config_defaults(struct wfp_config *cfg);

/*
 * Sets one setting by its flag name (without "--", e.g. "visibility-ms").
 * Returns 0; -1 on an unknown name or bad value with a one-line reason in
 * err that names `source` (the variable or flag the value came from).
 */
int wfp_config_set(struct wfp_config *cfg, const char *name, const char *value,
		   const char *source, char *err, size_t errlen);

/* Reads every WFP_* variable that is set. Returns 0 or -1 with err. */
int wfp_config_from_env(struct wfp_config *cfg, char *err, size_t errlen);

/*
 * Consumes "--name value" and "--name=value" flags that name settings from
 * argv, starting at argv[*pos]; stops at the first argument that is not
 * one of them (leaving *pos there). Returns 0 or -1 with err.
 */
int wfp_config_from_args(struct wfp_config *cfg, int argc, char **argv,
			 int *pos, char *err, size_t errlen);

/* Returns 1 when `name` (without "--") is a setting's flag, else 0. */
int wfp_config_is_flag(const char *name);

/* For usage text: the variable of flag `name` and a word for its value
 * ("MS", "N", "URL"...). Returns 0, or -1 when name is no flag. */
int wfp_config_flag_help(const char *name, const char **env,
			 const char **value);

/* Parses a Redis URL into out. Returns 0 or -1 with err. */
int wfp_redis_url_parse(const char *url, struct wfp_redis_addr *out, char *err,
			size_t errlen);

/* Writes url into out (outlen bytes) with its password replaced by
 * "***" (redis://user:***@host...), for logs and error messages: the
 * userinfo of any scheme (a mistyped "rediss://"), or of none
 * ("user:password@host"). A URL with no '@' is copied as it is; out is
 * always NUL-terminated. */
void wfp_redis_url_redact(const char *url, char *out, size_t outlen);

/* Writes "{prefix}" (the hash tag all keys share) into out. */
void wfp_config_tag(const struct wfp_config *cfg, char *out, size_t n);

#endif
