/*
 * jobs_bench - throughput and latency of the job board against raw Redis
 * streams on the same server, in the same run.
 *
 * For each claimer count it posts N empty jobs (post.lua, pipelined in
 * windows), then K claimer processes claim them in batches (claim.lua)
 * and complete each (finish.lua, pipelined per batch). The raw baseline
 * does the same with XADD, XREADGROUP COUNT batch and XACK alone. Then it
 * measures post -> claim -> complete latency of single jobs on an idle
 * board. Prints figures; never fails on timing.
 *
 * usage: jobs_bench [--jobs N] [--batch B] [--samples S]   (WFP_REDIS_URL)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "wfp/client.h"
#include "wfp/keys.h"
#include "wfp/util.h"

#define WINDOW 512 /* commands in flight per pipeline window */

static struct wfp_config cfg;
static char tag[WFP_TAG_MAX];
static int njobs = 100000, batch = 64, samples = 2000;

/* A raw hiredis connection to the configured server. */
static redisContext *connect_raw(void)
{
	redisContext *rc = redisConnect(cfg.redis.host, cfg.redis.port);

	if (rc == NULL || rc->err) {
		fprintf(stderr, "jobs_bench: cannot reach redis\n");
		exit(1);
	}
	return rc;
}

/* Reads n pending replies; exits on an error reply. */
static void drain(redisContext *rc, int n)
{
	for (int i = 0; i < n; i++) {
		redisReply *r;

		if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
			fprintf(stderr, "jobs_bench: connection failed\n");
			exit(1);
		}
		if (r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "jobs_bench: %s\n", r->str);
			exit(1);
		}
		freeReplyObject(r);
	}
}

/* Runs one command and returns its reply (caller frees). */
static redisReply *call(redisContext *rc, int argc, const char **argv)
{
	redisAppendCommandArgv(rc, argc, argv, NULL);
	redisReply *r = NULL;
	if (redisGetReply(rc, (void **)&r) != REDIS_OK || r == NULL) {
		fprintf(stderr, "jobs_bench: connection failed\n");
		exit(1);
	}
	return r;
}

/* Loads every script once so EVALSHA finds them, and the function
 * library the board's scripts are called from (FCALL, as the services
 * send them). */
static void load_scripts(redisContext *rc)
{
	const struct wfp_script_library *lib = wfp_script_library();
	const char *load[4] = {"FUNCTION", "LOAD", "REPLACE", lib->text};
	size_t llens[4] = {8, 4, 7, lib->len};

	redisAppendCommandArgv(rc, 4, load, llens);
	drain(rc, 1);

	for (int i = 0; i < WFP_LUA_COUNT; i++) {
		const struct wfp_script *s = wfp_script(i);
		const char *argv[3] = {"SCRIPT", "LOAD", s->text};
		size_t lens[3] = {6, 4, s->len};

		redisAppendCommandArgv(rc, 3, argv, lens);
		drain(rc, 1);
	}
}

static void flush_all(redisContext *rc)
{
	const char *argv[2] = {"FLUSHDB", NULL};

	freeReplyObject(call(rc, 1, argv));
}

/* ---------------- the board ---------------- */

/* Appends one post.lua call for job i. */
static void append_post(redisContext *rc, int i)
{
	char id[32];
	struct wfp_key job;

	snprintf(id, sizeof(id), "b%d", i);
	job = wfp_key_job(tag, id);
	const char *argv[11] = {"FCALL", wfp_script(WFP_LUA_POST)->fname,
				"1",	 job.s,
				tag,	 id,
				"bench", "1",
				"{}",	 "",
				"1000"};
	redisAppendCommandArgv(rc, 11, argv, NULL);
}

static void board_post(redisContext *rc, int n)
{
	for (int i = 0; i < n; i += WINDOW) {
		int w = n - i < WINDOW ? n - i : WINDOW;

		for (int j = 0; j < w; j++)
			append_post(rc, i + j);
		drain(rc, w);
	}
}

/* One claim.lua call for up to count jobs, then finish.lua for each
 * (pipelined). Returns the number of jobs claimed and completed. */
static int claim_complete(redisContext *rc, const char *owner, int count)
{
	struct wfp_key stream = wfp_key_job_stream(tag);
	char base[33], n[16];
	redisReply *r;
	size_t got;

	wfp_random_hex(base, 16);
	snprintf(n, sizeof(n), "%d", count);
	const char *argv[9] = {"FCALL", wfp_script(WFP_LUA_CLAIM)->fname,
			       "1",	stream.s,
			       tag,	owner,
			       n,	base,
			       "60000"};
	r = call(rc, 9, argv);
	got = r->type == REDIS_REPLY_ARRAY ? r->elements - 1 : 0;
	for (size_t i = 1; i <= got; i++) {
		redisReply **e = r->element[i]->element;
		struct wfp_key job = wfp_key_job(tag, e[0]->str);
		const char *fin[11] = {
		    "FCALL",	wfp_script(WFP_LUA_FINISH)->fname,
		    "1",	job.s,
		    tag,	e[0]->str,
		    e[1]->str,	"0",
		    "complete", "",
		    "60000"};
		redisAppendCommandArgv(rc, 11, fin, NULL);
	}
	freeReplyObject(r);
	drain(rc, (int)got);
	return (int)got;
}

/* One claimer process: claims batches and completes them until empty. */
static int board_claimer(int k)
{
	redisContext *rc = connect_raw();
	char owner[32];
	int done = 0, got;

	snprintf(owner, sizeof(owner), "bench-%d", k);
	while ((got = claim_complete(rc, owner, batch)) > 0)
		done += got;
	redisFree(rc);
	return done;
}

/* ---------------- raw streams ---------------- */

static void raw_post(redisContext *rc, int n)
{
	for (int i = 0; i < n; i += WINDOW) {
		int w = n - i < WINDOW ? n - i : WINDOW;

		for (int j = 0; j < w; j++) {
			char id[32];

			snprintf(id, sizeof(id), "b%d", i + j);
			const char *argv[5] = {"XADD", "raw:stream", "*", "id",
					       id};
			redisAppendCommandArgv(rc, 5, argv, NULL);
		}
		drain(rc, w);
	}
}

static int raw_claimer(int k)
{
	redisContext *rc = connect_raw();
	char consumer[32], count[16];
	int done = 0;

	snprintf(consumer, sizeof(consumer), "c%d", k);
	snprintf(count, sizeof(count), "%d", batch);
	for (;;) {
		const char *argv[9] = {"XREADGROUP", "GROUP",	   "g",
				       consumer,     "COUNT",	   count,
				       "STREAMS",    "raw:stream", ">"};
		redisReply *r = call(rc, 9, argv);
		redisReply *list = r->type == REDIS_REPLY_ARRAY
				       ? r->element[0]->element[1]
				       : NULL;
		size_t got = list ? list->elements : 0;

		for (size_t i = 0; i < got; i++) {
			const char *ack[4] = {
			    "XACK", "raw:stream", "g",
			    list->element[i]->element[0]->str};
			redisAppendCommandArgv(rc, 4, ack, NULL);
		}
		freeReplyObject(r);
		drain(rc, (int)got);
		done += (int)got;
		if (got == 0)
			break;
	}
	redisFree(rc);
	return done;
}

/* ---------------- driver ---------------- */

/* Forks k claimers running fn; returns when all exit. */
static void run_claimers(int k, int (*fn)(int))
{
	for (int i = 0; i < k; i++) {
		if (fork() == 0)
			_exit(fn(i) >= 0 ? 0 : 1);
	}
	for (int i = 0; i < k; i++)
		wait(NULL);
}

/* Posts then works n jobs with k claimers; returns jobs/s end to end and
 * sets the post and work phase rates. */
static double round_trip(redisContext *rc, int k, int raw, double *post_rate,
			 double *work_rate)
{
	int64_t t0, t1, t2;

	flush_all(rc);
	load_scripts(rc);
	if (raw) {
		const char *argv[6] = {"XGROUP", "CREATE", "raw:stream",
				       "g",	 "0",	   "MKSTREAM"};
		freeReplyObject(call(rc, 6, argv));
	}
	t0 = wfp_mono_us();
	if (raw)
		raw_post(rc, njobs);
	else
		board_post(rc, njobs);
	t1 = wfp_mono_us();
	run_claimers(k, raw ? raw_claimer : board_claimer);
	t2 = wfp_mono_us();
	*post_rate = njobs / ((t1 - t0) / 1e6);
	*work_rate = njobs / ((t2 - t1) / 1e6);
	return njobs / ((t2 - t0) / 1e6);
}

/* post -> claim -> complete of single jobs, one at a time (3 round trips). */
static void latency(redisContext *rc)
{
	int64_t *us = calloc((size_t)samples, sizeof(*us));

	flush_all(rc);
	load_scripts(rc);
	for (int i = 0; i < samples; i++) {
		int64_t t0 = wfp_mono_us();

		append_post(rc, i);
		drain(rc, 1);
		if (claim_complete(rc, "lat", 1) != 1) {
			fprintf(stderr, "jobs_bench: posted job not claimed\n");
			exit(1);
		}
		us[i] = wfp_mono_us() - t0;
	}
	bench_sort(us, (size_t)samples);
	printf("latency post->claim->complete, idle board, %d jobs one at a "
	       "time:\n"
	       "  p50 %.3f ms   p99 %.3f ms   max %.3f ms\n",
	       samples, us[samples / 2] / 1000.0,
	       us[samples * 99 / 100] / 1000.0, us[samples - 1] / 1000.0);
	free(us);
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		int v = atoi(argv[i + 1]);

		if (strcmp(argv[i], "--jobs") == 0 && v > 0)
			njobs = v;
		else if (strcmp(argv[i], "--batch") == 0 && v > 0 &&
			 v <= WFP_CLAIM_BATCH_MAX)
			batch = v;
		else if (strcmp(argv[i], "--samples") == 0 && v > 0)
			samples = v;
		else {
			fprintf(stderr, "usage: jobs_bench [--jobs N] [--batch "
					"B] [--samples S]\n");
			exit(2);
		}
	}
}

int main(int argc, char **argv)
{
	static const int claimers[] = {1, 4};
	char err[256];
	redisContext *rc;

	parse_args(argc, argv);
	wfp_config_defaults(&cfg);
	if (wfp_config_from_env(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "jobs_bench: %s\n", err);
		return 2;
	}
	wfp_config_tag(&cfg, tag, sizeof(tag));
	rc = connect_raw();
	printf("jobs_bench: %d empty jobs, claim batch %d, redis %s (db "
	       "flushed)\n",
	       njobs, batch, cfg.redis_url);
	for (size_t i = 0; i < sizeof(claimers) / sizeof(claimers[0]); i++) {
		double bp, bw, rp, rw;
		double board = round_trip(rc, claimers[i], 0, &bp, &bw);
		double raw = round_trip(rc, claimers[i], 1, &rp, &rw);

		printf("%d claimer%s: wfp %.0f jobs/s (post %.0f/s, "
		       "claim+complete %.0f/s)\n"
		       "            raw %.0f jobs/s (XADD %.0f/s, "
		       "XREADGROUP+XACK %.0f/s)\n"
		       "            ratio wfp/raw %.2f\n",
		       claimers[i], claimers[i] > 1 ? "s" : " ", board, bp, bw,
		       raw, rp, rw, board / raw);
	}
	latency(rc);
	flush_all(rc);
	redisFree(rc);
	return 0;
}
