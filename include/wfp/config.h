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

#define WFP_URL_MAX    256
#define WFP_PREFIX_MAX 32
#define WFP_ADDR_MAX   128

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

/* Parses a Redis URL into out. Returns 0 or -1 with err. */
int wfp_redis_url_parse(const char *url, struct wfp_redis_addr *out, char *err,
			size_t errlen);

/* Writes "{prefix}" (the hash tag all keys share) into out. */
void wfp_config_tag(const struct wfp_config *cfg, char *out, size_t n);

#endif
