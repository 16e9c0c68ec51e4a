/* reconcile.c - a reservation's bookkeeping after its jobs end: reading
 * its hash and its jobs' task logs, rsv_reconcile.lua, the teardown of an
 * expired reservation, and the events link that says when jobs end (see
 * reservation-internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reservation-internal.h"
#include "wfp/job.h"
#include "wfp/log.h"
#include "wfp/util.h"

_Static_assert(RSVD_FIELDS_PER_CALL <= WFP_RSV_RECONCILE_PAIRS_MAX,
	       "an rsv_reconcile.lua call must fit WFP_SCRIPT_ARGS_MAX "
	       "(scripts.c checks WFP_RSV_RECONCILE_PAIRS_MAX)");
_Static_assert(RSVD_OUT_MAX == WFP_LOG_OUTPUTS_MAX,
	       "out:NAME is bounded like a log entry's outputs");

#define EVENTS_BATCH	256  /* events read per XREAD */
#define EVENTS_BLOCK_MS 1000 /* an XREAD waits this long at most */

/* ------------------------------------------------------------------ */
/* Reading one reservation                                             */
/* ------------------------------------------------------------------ */

static void read_job_state(struct rsvd_read *rr);
static void read_log_page(struct rsvd_read *rr);

void rsvd_read_free(struct rsvd_read *rr)
{
	if (rr == NULL)
		return;
	for (int i = 0; i < 2 * rr->nfields; i++)
		free(rr->fields[i]);
	free(rr->fields);
	if (rr->prog)
		wfp_rsv_progress_free(rr->plan, rr->prog);
	wfp_rsv_free(rr->plan);
	free(rr->jobs);
	free(rr);
}

const char *rsvd_read_field(const struct rsvd_read *rr, const char *name)
{
	for (int i = 0; i < rr->nfields; i++) {
		if (strcmp(rr->fields[2 * i], name) == 0)
			return rr->fields[2 * i + 1];
	}
	return NULL;
}

/* Ends the read: hands rr to its owner. */
static void read_end(struct rsvd_read *rr, int ok)
{
	rr->done(rr, ok);
}

/* 1 when reply is a usable answer (not lost, not an error); logs an error
 * reply as what. */
static int reply_ok(const redisReply *reply, const char *what)
{
	if (reply == NULL)
		return 0;
	if (reply->type == REDIS_REPLY_ERROR) {
		wfp_warn("%s: %s", what, reply->str);
		return 0;
	}
	return 1;
}

/* Copies an HGETALL answer into rr. Returns 0, or -1 on no memory. */
static int read_copy_hash(struct rsvd_read *rr, const redisReply *reply)
{
	int n = (int)(reply->elements / 2);

	rr->fields = calloc((size_t)(2 * n + 1), sizeof(char *));
	if (rr->fields == NULL)
		return -1;
	for (int i = 0; i < 2 * n; i++) {
		const redisReply *e = reply->element[i];

		rr->fields[i] = strdup(e->str ? e->str : "");
		if (rr->fields[i] == NULL)
			return -1;
		rr->nfields = (i + 1) / 2;
	}
	rr->nfields = n;
	return 0;
}

/* Fills rr's jobs list: the fulfilment job, then ID.release.1..N. */
static int read_jobs_list(struct rsvd_read *rr)
{
	int64_t n = 0;
	const char *rel = rsvd_read_field(rr, "releases");

	if (rel && wfp_parse_i64(rel, &n) == 0 && n > 0 && n < 1000000)
		rr->releases = (int)n;
	rr->jobs = calloc((size_t)rr->releases + 1, sizeof(*rr->jobs));
	if (rr->jobs == NULL)
		return -1;
	if (rr->job[0])
		wfp_strlcpy(rr->jobs[rr->njobs++], rr->job, WFP_ID_MAX);
	for (int k = 1; k <= rr->releases; k++)
		snprintf(rr->jobs[rr->njobs++], WFP_ID_MAX, "%s.release.%d",
			 rr->id, k);
	return 0;
}

/* The phases (and outputs) recorded in the hash, for items whose jobs'
 * logs are gone. */
static void read_seed(struct rsvd_read *rr)
{
	char name[WFP_RSV_ITEM_NAME_MAX + 16];

	for (int i = 0; i < rr->plan->nitems; i++) {
		struct wfp_rsv_item_state *s = &rr->prog[i];
		const char *v;

		snprintf(name, sizeof(name), "item:%s",
			 rr->plan->items[i].name);
		v = rsvd_read_field(rr, name);
		s->phase = v ? wfp_rsv_phase_parse(v) : WFP_RSV_NONE;
		if (s->phase < 0)
			s->phase = WFP_RSV_NONE;
		s->reached = s->phase;
		snprintf(name, sizeof(name), "failed:%s",
			 rr->plan->items[i].name);
		v = rsvd_read_field(rr, name);
		s->failed = v ? wfp_rsv_step_parse(v) : -1;
		snprintf(name, sizeof(name), "out:%s", rr->plan->items[i].name);
		v = rsvd_read_field(rr, name);
		if (v && v[0] && s->outputs == NULL)
			s->outputs = strdup(v); /* NULL: none (no memory) */
		snprintf(name, sizeof(name), "undo:%s",
			 rr->plan->items[i].name);
		v = rsvd_read_field(rr, name);
		for (int step = 0; v && step < WFP_RSV_STEPS; step++) {
			const char *w = wfp_rsv_step_word(step);
			const char *at = strstr(v, w);
			size_t n = strlen(w);

			while (at && !((at == v || at[-1] == ',') &&
				       (at[n] == ',' || at[n] == '\0')))
				at = strstr(at + 1, w);
			if (at)
				s->undone |= 1u << step;
		}
	}
}

/* The hash answered. */
static void on_read_hash(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd_read *rr = arg;
	const char *v, *plan;
	char err[256];

	(void)r;
	if (rr->rd->closing || !reply_ok(reply, "reading a reservation") ||
	    reply->type != REDIS_REPLY_ARRAY) {
		read_end(rr, 0);
		return;
	}
	if (read_copy_hash(rr, reply) != 0) {
		wfp_error("reservation %s: out of memory", rr->id);
		read_end(rr, 0);
		return;
	}
	rr->found = rr->nfields > 0;
	if ((v = rsvd_read_field(rr, "state")) != NULL)
		wfp_strlcpy(rr->state, v, sizeof(rr->state));
	if ((v = rsvd_read_field(rr, "job")) != NULL)
		wfp_strlcpy(rr->job, v, sizeof(rr->job));
	if ((v = rsvd_read_field(rr, "release_job")) != NULL)
		wfp_strlcpy(rr->release_job, v, sizeof(rr->release_job));
	plan = rsvd_read_field(rr, "plan");
	if (!rr->found || !rr->with_logs || plan == NULL) {
		read_end(rr, 1);
		return;
	}
	if (wfp_rsv_plan_parse(plan, strlen(plan), &rr->plan, err,
			       sizeof(err)) != 0) {
		wfp_error("reservation %s: its plan does not parse: %s", rr->id,
			  err);
		rr->plan = NULL;
		read_end(rr, 1);
		return;
	}
	rr->prog = wfp_rsv_progress_new(rr->plan);
	if (rr->prog == NULL || read_jobs_list(rr) != 0) {
		wfp_error("reservation %s: out of memory", rr->id);
		read_end(rr, 0);
		return;
	}
	rr->missing_last = -1;
	rr->cur = 0;
	read_job_state(rr);
}

/* A job's state answered: nil means the job is gone (cleaned). */
static void on_read_job_state(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd_read *rr = arg;

	(void)r;
	if (rr->rd->closing || !reply_ok(reply, "reading a job's state")) {
		read_end(rr, 0);
		return;
	}
	if (reply->type != REDIS_REPLY_STRING)
		rr->missing_last = rr->cur;
	rr->cur++;
	read_job_state(rr);
}

/* Asks for the state of job cur; after the last, reads the logs of the
 * jobs after the last one gone (the hash holds what came before). */
static void read_job_state(struct rsvd_read *rr)
{
	struct wfp_key k;

	if (rr->cur < rr->njobs) {
		k = wfp_key_job(rr->rd->tag, rr->jobs[rr->cur]);
		const char *argv[3] = {"HGET", k.s, "state"};
		if (wfp_redis_command(wfp_service_redis(rr->rd->svc), 0,
				      on_read_job_state, rr, 3, argv,
				      NULL) != 0)
			read_end(rr, 0);
		return;
	}
	rr->logs_whole = rr->missing_last < 0;
	if (!rr->logs_whole)
		read_seed(rr);
	rr->cur = rr->missing_last + 1;
	wfp_strlcpy(rr->next_start, "-", sizeof(rr->next_start));
	read_log_page(rr);
}

/* Feeds one task-log entry (a field/value array) to the phases. */
static void read_feed(struct rsvd_read *rr, const redisReply *fv)
{
	const char *task = NULL, *state = NULL, *outputs = NULL, *error = NULL;
	int final = 0;
	int teardown = !(rr->job[0] && rr->cur == 0);

	for (size_t i = 0; i + 1 < fv->elements; i += 2) {
		const char *k = fv->element[i]->str;
		const char *v = fv->element[i + 1]->str;

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "task") == 0)
			task = v;
		else if (strcmp(k, "state") == 0)
			state = v;
		else if (strcmp(k, "outputs") == 0)
			outputs = v;
		else if (strcmp(k, "error") == 0)
			error = v;
		else if (strcmp(k, "final") == 0)
			final = strcmp(v, "1") == 0;
	}
	if (task && state)
		wfp_rsv_progress_feed(rr->plan, rr->prog, teardown, task, state,
				      final, outputs, error);
}

/* A page of job cur's log answered. */
static void on_read_log(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd_read *rr = arg;
	size_t n;

	(void)r;
	if (rr->rd->closing || !reply_ok(reply, "reading a task log") ||
	    reply->type != REDIS_REPLY_ARRAY) {
		read_end(rr, 0);
		return;
	}
	n = reply->elements;
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = reply->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->str == NULL)
			continue;
		read_feed(rr, e->element[1]);
		snprintf(rr->next_start, sizeof(rr->next_start), "(%s",
			 e->element[0]->str);
		if (rr->cur == rr->njobs - 1)
			wfp_strlcpy(rr->last_entry, e->element[0]->str,
				    sizeof(rr->last_entry));
	}
	rr->entries_read += (int64_t)n;
	if (n < RSVD_LOG_PAGE || rr->entries_read >= RSVD_LOG_ENTRIES_MAX) {
		rr->cur++;
		rr->entries_read = 0;
		wfp_strlcpy(rr->next_start, "-", sizeof(rr->next_start));
	}
	read_log_page(rr);
}

/* Reads the next page of the current job's log, or ends the read. */
static void read_log_page(struct rsvd_read *rr)
{
	struct wfp_key k;
	char count[16];

	if (rr->cur >= rr->njobs) {
		read_end(rr, 1);
		return;
	}
	k = wfp_key_log(rr->rd->tag, rr->jobs[rr->cur]);
	snprintf(count, sizeof(count), "%d", RSVD_LOG_PAGE);
	const char *argv[6] = {"XRANGE", k.s,	  rr->next_start,
			       "+",	 "COUNT", count};
	if (wfp_redis_command(wfp_service_redis(rr->rd->svc), 0, on_read_log,
			      rr, 6, argv, NULL) != 0)
		read_end(rr, 0);
}

int rsvd_read_start(struct rsvd *rd, const char *id, int with_logs,
		    void (*done)(struct rsvd_read *rr, int ok), void *arg)
{
	struct rsvd_read *rr = calloc(1, sizeof(*rr));
	struct wfp_key k;

	if (rr == NULL) {
		wfp_error("reservation %s: out of memory", id);
		return -1;
	}
	rr->rd = rd, rr->done = done, rr->arg = arg;
	rr->with_logs = with_logs;
	wfp_strlcpy(rr->id, id, sizeof(rr->id));
	k = rsvd_key_rsv(rd, id);
	const char *argv[2] = {"HGETALL", k.s};
	if (wfp_redis_command(wfp_service_redis(rd->svc), 0, on_read_hash, rr,
			      2, argv, NULL) != 0)
		read_end(rr, 0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reconcile                                                           */
/* ------------------------------------------------------------------ */

/* One reconcile in flight: the read, then the script calls. */
struct recon {
	struct rsvd *rd;
	struct rsvd_slot *slot;
	struct rsvd_read *rr;
	char old_state[16];
	char **args; /* strdup'd item:/undo:/failed:/out: pairs that changed */
	int npairs, sent;
	int teardown; /* a call answered 'teardown' */
	int expire;   /* a call answered 'expire': the expiry pass decides */
	char state[16];
	int returned;
};

static void recon_run(struct rsvd *rd, struct rsvd_slot *slot);

/* The slot of id, or a free one (NULL when all are taken). */
static struct rsvd_slot *slot_find(struct rsvd *rd, const char *id, int *busy)
{
	struct rsvd_slot *free_slot = NULL;

	*busy = 0;
	for (int i = 0; i < RSVD_RECONCILE_MAX; i++) {
		struct rsvd_slot *s = &rd->slots[i];

		if (s->busy && strcmp(s->id, id) == 0) {
			*busy = 1;
			return s;
		}
		if (!s->busy && free_slot == NULL)
			free_slot = s;
	}
	return free_slot;
}

int rsvd_reconciling(const struct rsvd *rd)
{
	int n = 0;

	for (int i = 0; i < RSVD_RECONCILE_MAX; i++)
		n += rd->slots[i].busy;
	return n;
}

/* Keeps id for the next free slot; when the queue is full, the sweep
 * comes back to it. */
static void queue_add(struct rsvd *rd, const char *id)
{
	if (rd->queue_len == RSVD_QUEUE_MAX)
		return;
	wfp_strlcpy(
	    rd->queue[(rd->queue_head + rd->queue_len) % RSVD_QUEUE_MAX], id,
	    WFP_RSV_ID_MAX);
	rd->queue_len++;
}

/* Starts the reconciles waiting in the queue while slots are free. */
static void queue_run(struct rsvd *rd)
{
	char id[WFP_RSV_ID_MAX];
	int busy;

	while (rd->queue_len > 0 && !rd->closing && !rd->d->stopping) {
		if (slot_find(rd, rd->queue[rd->queue_head], &busy) == NULL &&
		    !busy)
			return; /* no free slot yet */
		wfp_strlcpy(id, rd->queue[rd->queue_head], sizeof(id));
		rd->queue_head = (rd->queue_head + 1) % RSVD_QUEUE_MAX;
		rd->queue_len--;
		rsvd_reconcile(rd, id);
	}
}

void rsvd_reconcile(struct rsvd *rd, const char *id)
{
	int busy;
	struct rsvd_slot *s;

	if (rd->closing || rd->d->stopping)
		return;
	s = slot_find(rd, id, &busy);
	if (s == NULL) {
		queue_add(rd, id); /* run when a slot frees */
		return;
	}
	if (busy) {
		s->again = 1;
		return;
	}
	s->busy = 1, s->again = 0;
	wfp_strlcpy(s->id, id, sizeof(s->id));
	recon_run(rd, s);
}

/* Frees rc (its arguments and its read). */
static void recon_free(struct recon *rc)
{
	for (int i = 0; i < 2 * rc->npairs; i++)
		free(rc->args[i]);
	free(rc->args);
	rsvd_read_free(rc->rr);
	free(rc);
}

/* Ends a reconcile; runs it again when it was asked meanwhile. */
static void recon_end(struct recon *rc)
{
	struct rsvd *rd = rc->rd;
	struct rsvd_slot *s = rc->slot;

	recon_free(rc);
	if (s->again && !rd->closing && !rd->d->stopping) {
		s->again = 0;
		recon_run(rd, s);
		return;
	}
	s->busy = 0, s->again = 0;
	queue_run(rd);
}

/* The fulfilment ended after the TTL (rsv_reconcile.lua left it to the
 * expiry pass): the slot waits for the pass (rsvd_expiry_passed), then
 * reconciles again (the pass expired it, or found it fulfilled in time). */
static void recon_wait_expiry(struct recon *rc)
{
	struct rsvd *rd = rc->rd;
	struct rsvd_slot *s = rc->slot;

	s->again = 0;
	s->expiry_wait = 1;
	recon_free(rc);
	wfp_lease_watch_kick(rd->expiry);
}

/* Adds pair name=value to rc's arguments unless the hash holds it so. */
static int recon_pair(struct recon *rc, const char *name, const char *value)
{
	const char *was = rsvd_read_field(rc->rr, name);

	if (was && strcmp(was, value) == 0)
		return 0;
	rc->args[2 * rc->npairs] = strdup(name);
	rc->args[2 * rc->npairs + 1] = strdup(value);
	rc->npairs++;
	if (!rc->args[2 * rc->npairs - 2] || !rc->args[2 * rc->npairs - 1])
		return -1;
	return 0;
}

/* Like recon_pair for a field that is absent when value is "": one the
 * hash holds is removed (rsv_reconcile.lua deletes a field given ""). */
static int recon_opt(struct recon *rc, const char *name, const char *value)
{
	if (value[0] == '\0' && rsvd_read_field(rc->rr, name) == NULL)
		return 0;
	return recon_pair(rc, name, value);
}

/* The comma-separated words of the undo steps in mask. */
static void undo_words(unsigned mask, char *out, size_t n)
{
	size_t at = 0;

	out[0] = '\0';
	for (int step = 0; step < WFP_RSV_STEPS; step++) {
		if (!(mask & (1u << step)))
			continue;
		at += (size_t)snprintf(out + at, n - at, "%s%s", at ? "," : "",
				       wfp_rsv_step_word(step));
		if (at >= n)
			break;
	}
}

/* The out:NAME pair of item iname (its merged fulfilment outputs, kept
 * so a teardown after the logs are gone still gets them): outputs beyond
 * RSVD_OUT_MAX are not kept (a warning; the field is left as it is). */
static int recon_out(struct recon *rc, const char *iname, const char *outputs)
{
	char name[WFP_RSV_ITEM_NAME_MAX + 16];

	snprintf(name, sizeof(name), "out:%s", iname);
	if (outputs && strlen(outputs) > RSVD_OUT_MAX) {
		wfp_warn("reservation %s: item %s: outputs of %zu bytes are "
			 "over %d (WFP_TASK_OUTPUTS_MAX): not kept",
			 rc->slot->id, iname, strlen(outputs), RSVD_OUT_MAX);
		return 0;
	}
	return recon_opt(rc, name, outputs ? outputs : "");
}

/* The item fields that differ from the hash. Returns 0 or -1 (memory). */
static int recon_fields(struct recon *rc)
{
	const struct wfp_rsv *p = rc->rr->plan;
	char name[WFP_RSV_ITEM_NAME_MAX + 16], words[128];

	rc->args = calloc((size_t)(8 * p->nitems + 1), sizeof(char *));
	if (rc->args == NULL)
		return -1;
	for (int i = 0; i < p->nitems; i++) {
		const struct wfp_rsv_item_state *s = &rc->rr->prog[i];
		const char *iname = p->items[i].name;

		snprintf(name, sizeof(name), "item:%s", iname);
		if (recon_pair(rc, name, wfp_rsv_phase_word(s->phase)))
			return -1;
		undo_words(s->undone, words, sizeof(words));
		snprintf(name, sizeof(name), "undo:%s", iname);
		if (recon_opt(rc, name, words))
			return -1;
		snprintf(name, sizeof(name), "failed:%s", iname);
		if (recon_opt(rc, name,
			      s->failed >= 0 ? wfp_rsv_step_word(s->failed)
					     : ""))
			return -1;
		if (recon_out(rc, iname, s->outputs))
			return -1;
	}
	return 0;
}

static void recon_send(struct recon *rc);

/* Counts the reservation's move and says it. */
static void recon_moved(struct recon *rc)
{
	struct rsvd *rd = rc->rd;

	if (rc->returned) {
		rd->m_returned->value++;
		wfp_info("reservation %s: capacity returned", rc->slot->id);
	}
	if (strcmp(rc->old_state, rc->state) == 0)
		return;
	wfp_info("reservation %s: %s -> %s", rc->slot->id, rc->old_state,
		 rc->state);
	if (strcmp(rc->state, "active") == 0)
		rd->m_active->value++;
	else if (strcmp(rc->state, "failed") == 0)
		rd->m_failed->value++;
	else if (strcmp(rc->state, "released") == 0)
		rd->m_released->value++;
}

/* rsv_release.lua answered the teardown of an expired reservation. */
static void on_recon_teardown(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct recon *rc = arg;

	(void)r;
	if (!rc->rd->closing && reply_ok(reply, "posting a teardown") &&
	    reply->type == REDIS_REPLY_ARRAY && reply->elements >= 3 &&
	    reply->element[1]->str && reply->element[2]->str)
		wfp_info("reservation %s: teardown %s (%s)", rc->slot->id,
			 reply->element[1]->str, reply->element[2]->str);
	recon_end(rc);
}

/* The fulfilment of an expired reservation completed: tear it down. */
static void recon_teardown(struct recon *rc)
{
	struct rsvd *rd = rc->rd;
	struct wfp_key k = rsvd_key_rsv(rd, rc->slot->id);
	char err[256] = "its plan does not parse";
	char *payload =
	    rc->rr->plan == NULL
		? NULL
		: wfp_rsv_teardown_payload(rc->rr->plan, rc->slot->id,
					   rc->rr->prog, err, sizeof(err));

	if (payload == NULL) {
		wfp_error("reservation %s: no teardown: %s", rc->slot->id, err);
		recon_end(rc);
		return;
	}
	char ret[24];

	snprintf(ret, sizeof(ret), "%lld", (long long)rd->d->cfg.retention_ms);
	const char *argv[7] = {k.s, rd->tag, rc->slot->id, payload,
			       "",  "0",     ret};
	if (wfp_redis_script(wfp_service_redis(rd->svc), WFP_LUA_RSV_RELEASE,
			     on_recon_teardown, rc, 1, 7, argv, NULL) != 0)
		recon_end(rc);
	free(payload);
}

/* rsv_reconcile.lua answered one call: send the next, or act. */
static void on_recon_script(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct recon *rc = arg;

	(void)r;
	if (rc->rd->closing || !reply_ok(reply, "reconciling") ||
	    reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[0]->str == NULL || reply->element[1]->str == NULL) {
		recon_end(rc);
		return;
	}
	wfp_strlcpy(rc->state, reply->element[0]->str, sizeof(rc->state));
	rc->teardown |= strcmp(reply->element[1]->str, "teardown") == 0;
	rc->expire |= strcmp(reply->element[1]->str, "expire") == 0;
	rc->returned |= reply->element[2]->integer == 1;
	if (rc->sent < rc->npairs) {
		recon_send(rc);
		return;
	}
	recon_moved(rc);
	if (rc->expire)
		recon_wait_expiry(rc);
	else if (rc->teardown)
		recon_teardown(rc);
	else
		recon_end(rc);
}

/* Sends the next rsv_reconcile.lua call (at most RSVD_FIELDS_PER_CALL
 * pairs and about RSVD_CALL_BYTES_MAX bytes of values; one call even when
 * none changed), with the guard: the releases and the last log entry the
 * fields were computed from (a replica that read before a later job ran
 * never writes over newer fields). */
static void recon_send(struct recon *rc)
{
	struct rsvd *rd = rc->rd;
	struct wfp_key k = rsvd_key_rsv(rd, rc->slot->id);
	const char *argv[6 + 2 * RSVD_FIELDS_PER_CALL];
	int n = rc->npairs - rc->sent, argc = 4;
	char count[16], releases[16];
	size_t bytes = 0;

	if (n > RSVD_FIELDS_PER_CALL)
		n = RSVD_FIELDS_PER_CALL;
	for (int i = 0; i < n; i++) {
		bytes += strlen(rc->args[2 * (rc->sent + i) + 1]);
		if (bytes > RSVD_CALL_BYTES_MAX && i > 0) {
			n = i; /* the rest in the next call */
			break;
		}
	}
	snprintf(count, sizeof(count), "%d", n);
	argv[0] = k.s, argv[1] = rd->tag, argv[2] = rc->slot->id;
	argv[3] = count;
	for (int i = 0; i < 2 * n; i++)
		argv[argc++] = rc->args[2 * rc->sent + i];
	rc->sent += n;
	snprintf(releases, sizeof(releases), "%d", rc->rr->releases);
	argv[argc++] = releases;
	argv[argc++] = rc->rr->last_entry;
	if (wfp_redis_script(wfp_service_redis(rd->svc), WFP_LUA_RSV_RECONCILE,
			     on_recon_script, rc, 1, argc, argv, NULL) != 0)
		recon_end(rc);
}

/* The reservation and its jobs' logs are read. */
static void on_recon_read(struct rsvd_read *rr, int ok)
{
	struct recon *rc = rr->arg;

	rc->rr = rr;
	if (!ok || !rr->found) {
		recon_end(rc);
		return;
	}
	wfp_strlcpy(rc->old_state, rr->state, sizeof(rc->old_state));
	/* Without a plan (one that does not parse, logged) the state still
	 * follows the jobs; only the item fields and a teardown need it. */
	if (rr->plan && recon_fields(rc) != 0) {
		wfp_error("reservation %s: out of memory", rc->slot->id);
		recon_end(rc);
		return;
	}
	recon_send(rc);
}

/* Reads the reservation and its jobs' logs. */
static void recon_read(struct recon *rc)
{
	if (rsvd_read_start(rc->rd, rc->slot->id, 1, on_recon_read, rc) != 0)
		recon_end(rc);
}

/* The relevant job's state answered: reconcile once it ended (or is
 * gone), else nothing to do yet. */
static void on_recon_job(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct recon *rc = arg;
	enum wfp_job_state st;

	(void)r;
	if (rc->rd->closing || !reply_ok(reply, "reading a job's state")) {
		recon_end(rc);
		return;
	}
	if (reply->type == REDIS_REPLY_STRING &&
	    wfp_job_state_parse(reply->str, &st) == 0 &&
	    !wfp_job_state_final(st)) {
		recon_end(rc);
		return;
	}
	recon_read(rc);
}

/* The reservation's state and jobs answered (HMGET). */
static void on_recon_head(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct recon *rc = arg;
	struct rsvd *rd = rc->rd;
	const char *job;
	struct wfp_key k;
	char err[128];

	(void)r;
	if (rd->closing || !reply_ok(reply, "reading a reservation") ||
	    reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
		recon_end(rc);
		return;
	}
	if (reply->element[0]->type != REDIS_REPLY_STRING) {
		/* No such reservation: nothing is outstanding for it. */
		k = wfp_key_rsv_open(rd->tag);
		const char *zrem[3] = {"ZREM", k.s, rc->slot->id};
		wfp_redis_command(wfp_service_redis(rd->svc), 0, NULL, NULL, 3,
				  zrem, NULL);
		recon_end(rc);
		return;
	}
	job = reply->element[2]->str && reply->element[2]->str[0]
		  ? reply->element[2]->str
		  : reply->element[1]->str;
	if (job == NULL || job[0] == '\0' ||
	    wfp_check_id("job id", job, err, sizeof(err)) != 0) {
		recon_read(rc);
		return;
	}
	k = wfp_key_job(rd->tag, job);
	const char *argv[3] = {"HGET", k.s, "state"};
	if (wfp_redis_command(wfp_service_redis(rd->svc), 0, on_recon_job, rc,
			      3, argv, NULL) != 0)
		recon_end(rc);
}

/* Reads the reservation's state and jobs (HMGET). */
static void recon_head(struct recon *rc)
{
	struct rsvd *rd = rc->rd;
	struct wfp_key k = rsvd_key_rsv(rd, rc->slot->id);
	const char *argv[5] = {"HMGET", k.s, "state", "job", "release_job"};

	if (wfp_redis_command(wfp_service_redis(rd->svc), 0, on_recon_head, rc,
			      5, argv, NULL) != 0)
		recon_end(rc);
}

/* Starts the reconcile of slot's reservation: a look at its state and
 * its job, the full read only when a job ended. */
static void recon_run(struct rsvd *rd, struct rsvd_slot *slot)
{
	struct recon *rc = calloc(1, sizeof(*rc));

	if (rc == NULL) {
		slot->busy = 0;
		return;
	}
	rc->rd = rd, rc->slot = slot;
	recon_head(rc);
}

void rsvd_expiry_passed(struct rsvd *rd)
{
	for (int i = 0; i < RSVD_RECONCILE_MAX; i++) {
		struct rsvd_slot *s = &rd->slots[i];

		if (s->busy && s->expiry_wait && !rd->closing) {
			s->expiry_wait = 0;
			recon_run(rd, s);
		}
	}
}

void rsvd_expiry_failed(struct rsvd *rd)
{
	for (int i = 0; i < RSVD_RECONCILE_MAX; i++) {
		struct rsvd_slot *s = &rd->slots[i];

		if (s->busy && s->expiry_wait)
			s->busy = 0, s->again = 0, s->expiry_wait = 0;
	}
}

/* ------------------------------------------------------------------ */
/* The events link                                                     */
/* ------------------------------------------------------------------ */

/* 1 when job id names a reservation's job (ID.fulfil, ID.release.N). */
static int rsv_job_name(const char *id)
{
	const char *dot = strchr(id, '.');

	return dot && (strcmp(dot, ".fulfil") == 0 ||
		       strncmp(dot, ".release.", 9) == 0);
}

/* The jobs map answered: reconcile that reservation. */
static void on_job_owner(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd *rd = arg;
	char err[128];

	(void)r;
	if (rd->closing || reply == NULL || reply->type != REDIS_REPLY_STRING ||
	    wfp_rsv_check_id(reply->str, err, sizeof(err)) != 0)
		return;
	rsvd_reconcile(rd, reply->str);
}

/* One event (a field/value array): a reservation's job that ended. */
static void event_seen(struct rsvd *rd, const redisReply *fv)
{
	const char *type = NULL, *id = NULL, *state = NULL;
	enum wfp_job_state st;
	struct wfp_key map;

	for (size_t i = 0; i + 1 < fv->elements; i += 2) {
		const char *k = fv->element[i]->str;
		const char *v = fv->element[i + 1]->str;

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "type") == 0)
			type = v;
		else if (strcmp(k, "id") == 0)
			id = v;
		else if (strcmp(k, "state") == 0)
			state = v;
	}
	if (!type || !id || !state || strcmp(type, "job") != 0 ||
	    wfp_job_state_parse(state, &st) != 0 || !wfp_job_state_final(st) ||
	    !rsv_job_name(id))
		return;
	map = wfp_key_rsv_jobs(rd->tag);
	const char *argv[3] = {"HGET", map.s, id};
	wfp_redis_command(wfp_service_redis(rd->svc), 0, on_job_owner, rd, 3,
			  argv, NULL);
}

/* The blocking read ended: new events, its timeout, or a failure. */
static void on_events(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd *rd = arg;

	(void)r;
	rd->ev_reading = 0;
	if (rd->closing || !reply_ok(reply, "reading events"))
		return; /* the link's up hook or the tick reads again */
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
		const redisReply *s = reply->element[0];
		const redisReply *list = s->elements == 2 ? s->element[1] : s;

		for (size_t i = 0;
		     list->type == REDIS_REPLY_ARRAY && i < list->elements;
		     i++) {
			const redisReply *e = list->element[i];

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->str == NULL)
				continue;
			wfp_strlcpy(rd->ev_last, e->element[0]->str,
				    sizeof(rd->ev_last));
			if (e->element[1]->type == REDIS_REPLY_ARRAY)
				event_seen(rd, e->element[1]);
		}
	}
	rsvd_events_read(rd);
}

/* The newest event id answered (first connect): read from there, and
 * sweep for what ended before. */
static void on_events_last(struct wfp_redis *r, redisReply *reply, void *arg)
{
	struct rsvd *rd = arg;

	(void)r;
	rd->ev_reading = 0;
	if (rd->closing || !reply_ok(reply, "reading the newest event") ||
	    reply->type != REDIS_REPLY_ARRAY)
		return; /* the tick asks again */
	if (reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2 &&
	    reply->element[0]->element[0]->str)
		wfp_strlcpy(rd->ev_last, reply->element[0]->element[0]->str,
			    sizeof(rd->ev_last));
	else
		wfp_strlcpy(rd->ev_last, "0-0", sizeof(rd->ev_last));
	rsvd_sweep_soon(rd);
	rsvd_events_read(rd);
}

/* Asks for the newest event id, where reading starts. */
static void events_start(struct rsvd *rd)
{
	struct wfp_key events = wfp_key_events(rd->tag);
	const char *argv[6] = {"XREVRANGE", events.s, "+", "-", "COUNT", "1"};

	if (wfp_redis_command(rd->ev, 0, on_events_last, rd, 6, argv, NULL) ==
	    0)
		rd->ev_reading = 1;
}

void rsvd_events_read(struct rsvd *rd)
{
	struct wfp_key events = wfp_key_events(rd->tag);
	char count[16], block[16];
	const char *argv[8] = {"XREAD", "COUNT",   count,    "BLOCK",
			       block,	"STREAMS", events.s, rd->ev_last};

	if (rd->ev_reading || rd->closing || rd->d->stopping ||
	    !wfp_redis_ready(rd->ev))
		return;
	if (rd->ev_last[0] == '\0') {
		events_start(rd);
		return;
	}
	snprintf(count, sizeof(count), "%d", EVENTS_BATCH);
	snprintf(block, sizeof(block), "%d", EVENTS_BLOCK_MS);
	if (wfp_redis_command(rd->ev, EVENTS_BLOCK_MS + rd->d->cfg.timeout_ms,
			      on_events, rd, 8, argv, NULL) == 0)
		rd->ev_reading = 1;
}

void rsvd_events_up(struct wfp_redis *r, void *arg)
{
	struct rsvd *rd = arg;

	(void)r;
	/* After a reconnect reading goes on from the last event read; the
	 * sweep catches up with anything trimmed meanwhile. */
	if (rd->ev_last[0])
		rsvd_sweep_soon(rd);
	rsvd_events_read(rd);
}
