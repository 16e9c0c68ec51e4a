/* executor.c - the executor daemon: claims, the executor registry,
 * metrics and the SIGTERM handback (see executor-internal.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "executor-internal.h"
#include "wfp/keys.h"
#include "wfp/log.h"
#include "wfp/util.h"

int64_t exec_now(void)
{
	return wfp_now_ms();
}

int64_t exec_mono_ms(void)
{
	return wfp_mono_us() / 1000;
}

/* ------------------------------------------------------------------ */
/* Claims                                                              */
/* ------------------------------------------------------------------ */

static void claim_block(struct executor *x);

/* Jobs this executor may still take. */
static int free_slots(const struct executor *x)
{
	if (x->stopping || x->running >= x->d->cfg.concurrency)
		return 0;
	return (int)x->d->cfg.concurrency - x->njobs;
}

/* The claim script answered: take the jobs; block for more when the
 * board had fewer than asked. */
static void on_claim(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct executor *x = arg;
	size_t got = 0;

	(void)r;
	x->claiming = 0;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 1) {
		if (reply && reply->type == REDIS_REPLY_ERROR)
			wfp_warn("claim refused: %s", reply->str);
		return; /* the beat tries again */
	}
	wfp_strlcpy(x->last_id,
		    reply->element[0]->str ? reply->element[0]->str : "0-0",
		    sizeof(x->last_id));
	for (size_t i = 1; i < reply->elements; i++) {
		const redisReply *row = reply->element[i];

		if (row->type != REDIS_REPLY_ARRAY || row->elements != 7)
			continue;
		if (xjob_new(x, row) != NULL)
			got++;
	}
	if (got > 0)
		exec_registry_soon(x);
	if (free_slots(x) > 0 && got == 0)
		claim_block(x);
	else if (free_slots(x) > 0)
		exec_claim_maybe(x);
}

void exec_claim_maybe(struct executor *x)
{
	struct wfp_key stream = wfp_key_job_stream(x->tag);
	char count[16], vis[24], base[33];
	const char *argv[6] = {stream.s, x->tag, x->set.name, count, base, vis};
	int n = free_slots(x);

	if (n <= 0 || x->claiming || !wfp_redis_ready(x->r))
		return;
	if (n > WFP_CLAIM_BATCH_MAX)
		n = WFP_CLAIM_BATCH_MAX;
	if (wfp_random_hex(base, 16) != 0)
		return;
	snprintf(count, sizeof(count), "%d", n);
	snprintf(vis, sizeof(vis), "%lld", (long long)x->d->cfg.visibility_ms);
	if (wfp_redis_script(x->r, WFP_LUA_CLAIM, on_claim, x, 1, 6, argv,
			     NULL) == 0) {
		x->claiming = 1;
		x->claim_sent_ms = exec_mono_ms();
		x->m_claims.value++;
	}
}

/* The blocking read ended (a new entry, its timeout, or a failure). */
static void on_block(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct executor *x = arg;

	(void)r;
	x->blocking = 0;
	if (reply == NULL && !x->stopping) {
		/* Not connected: the beat claims again in a second. */
		return;
	}
	exec_claim_maybe(x);
}

/* Waits on the second link for an entry after last_id. */
static void claim_block(struct executor *x)
{
	struct wfp_key stream = wfp_key_job_stream(x->tag);
	char ms[24];
	const char *argv[8] = {"XREAD", "COUNT",   "1",	     "BLOCK",
			       ms,	"STREAMS", stream.s, x->last_id};

	if (x->blocking || x->stopping || !wfp_redis_ready(x->rb))
		return;
	snprintf(ms, sizeof(ms), "%d", EXEC_BLOCK_MS);
	if (wfp_redis_command(x->rb, EXEC_BLOCK_MS + x->d->cfg.timeout_ms,
			      on_block, x, 8, argv, NULL) == 0)
		x->blocking = 1;
}

/* Claims after a slot or a job freed up, unless the blocking read is
 * waiting: it waits only when the board had nothing for this executor,
 * and wakes it for anything posted since. (A claim per ended task cost
 * Redis a script call that found nothing.) */
static void claim_unless_blocked(struct executor *x)
{
	if (!x->blocking)
		exec_claim_maybe(x);
}

void exec_slot_freed(struct executor *x)
{
	/* Other jobs may have tasks waiting for a slot: each gets its turn
	 * (a job hands out at most what is free, so the first ones in the
	 * list are not always served first: the list is rotated). */
	struct xjob *first = x->jobs;

	if (first && first->next) {
		struct xjob **tail = &x->jobs;

		x->jobs = first->next;
		while (*tail)
			tail = &(*tail)->next;
		*tail = first;
		first->next = NULL;
	}
	for (struct xjob *j = x->jobs; j && x->running < x->d->cfg.concurrency;
	     j = j->next)
		xjob_pump(j);
	claim_unless_blocked(x);
}

void exec_maybe_stopped(struct executor *x)
{
	if (!x->stopping || x->stopped || x->njobs > 0 || x->nunfreed > 0)
		return;
	x->stopped = 1;
	wfp_info("every job handed back or finished");
	wfp_daemon_stopped(x->d);
}

void exec_job_ended(struct executor *x)
{
	exec_registry_soon(x);
	if (x->stopping) {
		exec_maybe_stopped(x);
		return;
	}
	claim_unless_blocked(x);
}

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

/* The detail field: [{"job":"ID","tasks":["a",...]},...], at most
 * EXEC_DETAIL_JOBS jobs. Returns a malloc'd string or NULL. */
static char *registry_detail(const struct executor *x)
{
	json_t *arr = json_array();
	int n = 0;
	char *s;

	for (const struct xjob *j = x->jobs; j && n < EXEC_DETAIL_JOBS;
	     j = j->next, n++) {
		json_t *o = json_object(), *tasks = json_array();

		for (const struct xtask *t = j->tasks; t && j->wf; t = t->next)
			json_array_append_new(
			    tasks,
			    json_string(j->wf->tasks[t->step.task].name));
		json_object_set_new(o, "job", json_string(j->id));
		json_object_set_new(o, "tasks", tasks);
		json_array_append_new(arr, o);
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* Redis's clock (ms) at monotonic time mono_us, once measured (the CLI
 * compares the registry's beats with Redis's TIME), else the wall clock. */
static int64_t redis_ms(const struct executor *x, int64_t mono_us)
{
	if (!x->clock_known)
		return exec_now() - (wfp_mono_us() - mono_us) / 1000;
	return (mono_us + x->clock_offset_us) / 1000;
}

int64_t exec_skew_ms(const struct executor *x)
{
	if (!x->clock_known)
		return 0;
	return redis_ms(x, wfp_mono_us()) - exec_now();
}

/* TIME answered: Redis's clock is its answer at the middle of the round
 * trip. */
static void on_time(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct executor *x = arg;
	int64_t err_ms;

	(void)r;
	if (wfp_redis_time_offset(reply, x->clock_sent_us, wfp_mono_us(),
				  &x->clock_offset_us, &err_ms) != 0)
		return; /* measured again at the next beat */
	x->clock_known = 1;
}

/* Measures Redis's clock against ours. */
static void clock_measure(struct executor *x)
{
	const char *argv[1] = {"TIME"};

	x->clock_sent_us = wfp_mono_us();
	wfp_redis_command(x->r, 0, on_time, x, 1, argv, NULL);
}

/* Writes this executor's record (replicas zset + info hash), at Redis's
 * clock. */
static void registry_write(struct executor *x)
{
	struct wfp_key zset = wfp_key_replicas(x->tag, "executor");
	struct wfp_key info = wfp_key_executor_info(x->tag, x->set.name);
	char now[24], pid[24], started[24], conc[24], jobs[24], run[24],
	    ttl[24], old[24], host[256] = "";
	char *detail = registry_detail(x);
	const char *zadd[4] = {"ZADD", zset.s, now, x->set.name};
	const char *hset[20] = {
	    "HSET",	   info.s,  "name",	    x->set.name,
	    "host",	   host,    "pid",	    pid,
	    "started_at",  started, "heartbeat_at", now,
	    "concurrency", conc,    "jobs",	    jobs,
	    "running",	   run,	    "detail",	    detail ? detail : "[]"};
	const char *exp[3] = {"PEXPIRE", info.s, ttl};

	gethostname(host, sizeof(host) - 1);
	x->reg_last_ms = wfp_mono_us() / 1000;
	snprintf(now, sizeof(now), "%lld",
		 (long long)redis_ms(x, wfp_mono_us()));
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(started, sizeof(started), "%lld",
		 (long long)redis_ms(x, x->started_us));
	snprintf(conc, sizeof(conc), "%lld", (long long)x->d->cfg.concurrency);
	snprintf(jobs, sizeof(jobs), "%d", x->njobs);
	snprintf(run, sizeof(run), "%d", x->running);
	snprintf(ttl, sizeof(ttl), "%d", 3 * EXEC_BEAT_MS);
	const char *trim[4] = {"ZREMRANGEBYSCORE", zset.s, "-inf", old};

	snprintf(old, sizeof(old), "%lld",
		 (long long)(redis_ms(x, wfp_mono_us()) - EXEC_FORGET_MS));
	wfp_redis_command(x->r, 0, NULL, NULL, 4, trim, NULL);
	wfp_redis_command(x->r, 0, NULL, NULL, 4, zadd, NULL);
	wfp_redis_command(x->r, 0, NULL, NULL, 20, hset, NULL);
	wfp_redis_command(x->r, 0, NULL, NULL, 3, exp, NULL);
	free(detail);
}

/* The Redis link's gauges, as the other daemons have them. */
static void redis_gauges(struct executor *x)
{
	x->m_up.value = wfp_redis_ready(x->r);
	x->m_connects.value = wfp_redis_connects(x->r);
}

/* Every EXEC_BEAT_MS: the registry, the link gauges, and a claim in case
 * a wake-up was missed (a lost blocking read). */
static void on_beat(evutil_socket_t fd, short what, void *arg)
{
	struct executor *x = arg;

	(void)fd, (void)what;
	redis_gauges(x);
	if (wfp_redis_ready(x->r)) {
		clock_measure(x);
		registry_write(x);
	}
	claim_unless_blocked(x);
}

/* A job started or ended: the record is written now, not at the next
 * beat (`wfp executor list` would show it a second late). */
static void on_registry_soon(evutil_socket_t fd, short what, void *arg)
{
	struct executor *x = arg;

	(void)fd, (void)what;
	if (wfp_redis_ready(x->r))
		registry_write(x);
}

void exec_registry_soon(struct executor *x)
{
	int64_t wait = x->reg_last_ms + EXEC_REG_GAP_MS - wfp_mono_us() / 1000;
	struct timeval tv = {0, 0};

	/* Coalesced: one write however many jobs changed meanwhile, at
	 * most one per EXEC_REG_GAP_MS (a burst of short jobs would write
	 * the record at every job's start and end). */
	if (x->reg == NULL || x->closing || evtimer_pending(x->reg, NULL))
		return;
	if (wait > 0)
		tv.tv_usec = (suseconds_t)(wait * 1000);
	evtimer_add(x->reg, &tv);
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */
/* ------------------------------------------------------------------ */

/* The grace after SIGTERM ran out: kill what still runs (those tasks
 * are run again by the next owner, with the same WFP_TASK_KEY). */
static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct executor *x = arg;

	(void)fd, (void)what;
	if (x->running > 0)
		wfp_info("killing %d running tasks after the grace",
			 x->running);
	for (struct xjob *j = x->jobs; j; j = j->next)
		xjob_kill_tasks(j);
}

/* SIGTERM: claim nothing more, let running tasks finish for the grace,
 * kill the rest, release every job not ended (its log intact). */
static void on_stop(struct wfp_daemon *d, void *arg)
{
	struct executor *x = arg;
	int64_t hard = x->set.grace_ms + 10000;
	struct timeval tv = {hard / 1000, (hard % 1000) * 1000};
	struct timeval g = {x->set.grace_ms / 1000,
			    (x->set.grace_ms % 1000) * 1000};

	x->stopping = 1;
	/* The daemon's own deadline must come after the grace. */
	evtimer_add(d->sigquit_timer, &tv);
	if (x->njobs == 0) {
		/* (a lost job's killed tasks may still have to end: it
		 * stops when they have) */
		exec_maybe_stopped(x);
		return;
	}
	wfp_info("handing back %d jobs (running tasks get %lld ms)", x->njobs,
		 (long long)x->set.grace_ms);
	evtimer_add(x->grace, &g);
	xjob_release_all(x);
}

static int healthy(void *arg)
{
	struct executor *x = arg;

	return wfp_redis_ready(x->r);
}

/* The connection is (back) up: claim. */
static void on_up(struct wfp_redis *r, void *arg)
{
	(void)r;
	redis_gauges(arg);
	clock_measure(arg);
	exec_claim_maybe(arg);
}

/* Registers the metrics. */
static void metrics_init(struct executor *x)
{
	struct {
		struct wfp_metric *m;
		const char *name, *help, *type;
	} defs[] = {
	    {&x->m_claimed, "wfp_executor_jobs_claimed_total", "Jobs claimed",
	     "counter"},
	    {&x->m_completed, "wfp_executor_jobs_completed_total",
	     "Jobs finished completed", "counter"},
	    {&x->m_reverted, "wfp_executor_jobs_reverted_total",
	     "Jobs finished reverted", "counter"},
	    {&x->m_failed, "wfp_executor_jobs_failed_total",
	     "Jobs finished failed (a revert failed)", "counter"},
	    {&x->m_dead, "wfp_executor_jobs_dead_total",
	     "Jobs that could not be read (finished dead)", "counter"},
	    {&x->m_lost, "wfp_executor_jobs_lost_total",
	     "Jobs lost to another owner (STALE)", "counter"},
	    {&x->m_applied, "wfp_executor_tasks_applied_total",
	     "Task applies that succeeded", "counter"},
	    {&x->m_reverted_tasks, "wfp_executor_tasks_reverted_total",
	     "Task reverts that succeeded", "counter"},
	    {&x->m_running, "wfp_executor_tasks_running",
	     "Tasks handed out and not ended", "gauge"},
	    {&x->m_jobs, "wfp_executor_jobs", "Jobs held", "gauge"},
	    {&x->m_claims, "wfp_executor_claim_calls_total",
	     "Claim script calls", "counter"},
	    {&x->m_log_calls, "wfp_executor_log_calls_total",
	     "log_append calls (entries, or a heartbeat)", "counter"},
	    {&x->m_log_entries, "wfp_executor_log_entries_total",
	     "Task log entries written", "counter"},
	    {&x->m_early, "wfp_executor_tasks_started_early_total",
	     "Tasks started before their running entry was acknowledged "
	     "(the lease allowed it)",
	     "counter"},
	    {&x->m_up, "wfp_redis_connected",
	     "1 while the command connection to Redis is up", "gauge"},
	    {&x->m_connects, "wfp_redis_connects_total",
	     "Successful connections to Redis (1 + reconnects)", "counter"},
	};

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		defs[i].m->name = defs[i].name;
		defs[i].m->help = defs[i].help;
		defs[i].m->type = defs[i].type;
		wfp_metrics_register(defs[i].m);
	}
}

/* The executor's name: WFP_EXECUTOR_NAME, else host-pid with each byte
 * of the host name outside the lock owner charset as '-'. */
static void settings_name(struct exec_settings *set,
			  const struct wfp_config *cfg)
{
	char host[256] = "";

	if (cfg->executor_name[0]) {
		wfp_strlcpy(set->name, cfg->executor_name, sizeof(set->name));
		return;
	}
	gethostname(host, sizeof(host) - 1);
	for (char *c = host; *c; c++) {
		if (!wfp_word_ok((char[]){*c, 0}, 2, "_.:@-"))
			*c = '-';
	}
	host[40] = '\0';
	snprintf(set->name, sizeof(set->name), "%s-%d", host[0] ? host : "exec",
		 (int)getpid());
}

/* Reads the executor's own settings from cfg. Returns 0 or -1 with err. */
static int settings_load(struct exec_settings *set,
			 const struct wfp_config *cfg, char *err, size_t errlen)
{
	struct stat st;

	memset(set, 0, sizeof(*set));
	if (cfg->plugin_dir[0] && stat(cfg->plugin_dir, &st) != 0) {
		snprintf(err, errlen, "WFP_PLUGIN_DIR '%.400s': %s",
			 cfg->plugin_dir, strerror(errno));
		return -1;
	}
	if (cfg->plugin_dir[0] && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "WFP_PLUGIN_DIR '%.400s' is not a directory",
			 cfg->plugin_dir);
		return -1;
	}
	settings_name(set, cfg);
	set->grace_ms = cfg->grace_ms;
	set->output_max = (size_t)cfg->task_output_max;
	return wfp_exec_allow_parse(cfg->exec_allow, &set->allow, err, errlen);
}

/* Makes the links, the runner and the timers. Returns 0 or -1. */
static int exec_setup(struct executor *x)
{
	struct wfp_daemon *d = x->d;
	struct wfp_taskrunner_config tc = {d->cfg.plugin_dir,
					   (const char *const *)x->set.allow,
					   x->set.output_max};
	struct timeval tv = {EXEC_BEAT_MS / 1000, (EXEC_BEAT_MS % 1000) * 1000};
	char err[512];

	x->r =
	    wfp_redis_new(d->base, &d->cfg.redis, "redis", d->cfg.timeout_ms);
	x->rb = wfp_redis_new(d->base, &d->cfg.redis, "redis-block",
			      d->cfg.timeout_ms);
	x->tr = wfp_taskrunner_new(d->base, &tc, err, sizeof(err));
	if (x->tr == NULL)
		return wfp_error("%s", err);
	x->beat = event_new(d->base, -1, EV_PERSIST, on_beat, x);
	x->grace = evtimer_new(d->base, on_grace, x);
	x->reg = evtimer_new(d->base, on_registry_soon, x);
	if (!x->r || !x->rb || !x->beat || !x->grace || !x->reg)
		return wfp_error("out of memory");
	wfp_redis_on_up(x->r, on_up, x);
	evtimer_add(x->beat, &tv);
	return 0;
}

struct executor *executor_new(struct wfp_daemon *d)
{
	struct executor *x = calloc(1, sizeof(*x));
	char err[512];

	if (x == NULL)
		return NULL;
	x->d = d;
	x->started_us = wfp_mono_us();
	wfp_strlcpy(x->last_id, "$", sizeof(x->last_id));
	wfp_config_tag(&d->cfg, x->tag, sizeof(x->tag));
	if (settings_load(&x->set, &d->cfg, err, sizeof(err)) != 0) {
		wfp_error("%s", err);
		free(x);
		return NULL;
	}
	metrics_init(x);
	if (exec_setup(x) != 0) {
		executor_free(x);
		return NULL;
	}
	d->on_stop = on_stop;
	d->healthy = healthy;
	d->arg = x;
	wfp_info("executor '%s': %lld task slots, lease %lld ms", x->set.name,
		 (long long)d->cfg.concurrency,
		 (long long)d->cfg.visibility_ms);
	return x;
}

int executor_exit_code(const struct executor *x)
{
	(void)x;
	return 0;
}

void executor_free(struct executor *x)
{
	if (x == NULL)
		return;
	x->closing = 1;
	if (x->tr)
		wfp_taskrunner_free(x->tr); /* kills what runs, no callbacks */
	if (x->r)
		wfp_redis_free(x->r);
	if (x->rb)
		wfp_redis_free(x->rb);
	if (x->beat)
		event_free(x->beat);
	if (x->grace)
		event_free(x->grace);
	if (x->reg)
		event_free(x->reg);
	xlock_orphans_free(x);
	wfp_exec_allow_free(x->set.allow);
	free(x);
}
