/* Helpers for the C integration tests: a client on WFP_REDIS_URL with the
 * test's own prefix (WFP_PREFIX), emptied before each test. */
#ifndef ITEST_COMMON_H
#define ITEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/client.h"
#include "wfp/keys.h"

/* Makes a client from the environment; aborts the test run on failure. */
static inline struct wfp_client *itest_client(struct wfp_config *cfg)
{
	char err[512];
	struct wfp_client *c;

	wfp_config_defaults(cfg);
	if (wfp_config_from_env(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	c = wfp_client_new(cfg, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "itest: %s (set WFP_REDIS_URL)\n", err);
		exit(1);
	}
	return c;
}

/* Deletes every key of the client's prefix. */
static inline void itest_flush(struct wfp_client *c)
{
	redisReply *r = wfp_client_commandf(
	    c, "EVAL %s 0 %s*",
	    "local n=0 for _,k in ipairs(redis.call('KEYS', ARGV[1])) do "
	    "redis.call('DEL', k) n=n+1 end return n",
	    wfp_client_tag(c));
	if (r)
		freeReplyObject(r);
}

/* HGET of a job field as a number (-1 when missing). */
static inline long long itest_job_int(struct wfp_client *c, const char *id,
				      const char *field)
{
	struct wfp_key k = wfp_key_job(wfp_client_tag(c), id);
	redisReply *r = wfp_client_commandf(c, "HGET %s %s", k.s, field);
	long long v = (r && r->str) ? atoll(r->str) : -1;

	if (r)
		freeReplyObject(r);
	return v;
}

/* HGET of a job field into out ("" when missing). */
static inline void itest_job_str(struct wfp_client *c, const char *id,
				 const char *field, char *out, size_t n)
{
	struct wfp_key k = wfp_key_job(wfp_client_tag(c), id);
	redisReply *r = wfp_client_commandf(c, "HGET %s %s", k.s, field);

	snprintf(out, n, "%s", (r && r->str) ? r->str : "");
	if (r)
		freeReplyObject(r);
}

#endif
