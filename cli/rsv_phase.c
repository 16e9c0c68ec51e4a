/* rsv_phase.c - the phases of a reservation's items, from its jobs' logs
 * or its hash, and following them live (see rsv_phase.h). */
#include "rsv_phase.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "wfp/keys.h"
#include "wfp/util.h"

#define RSV_POLL_MS	  1000 /* longest XREAD block between looks */
#define RSV_REDRAW_MAX	  40   /* items redrawn in place; more: lines */
#define RSV_ITEM_TEXT	  192  /* bytes of one item's state line */
#define RSV_ERROR_WIDTH	  200  /* characters of an error in a message */
#define RSV_JOB_ID_MAX	  WFP_ID_MAX
#define RSV_RELEASES_READ 1000 /* teardown logs read for phases at most */
#define RSV_NOTE_WIDTH	  120  /* characters of a retry's error shown */
#define RSV_NOTE_MAX	  (4 * RSV_NOTE_WIDTH + 160) /* bytes of a retry note */
/* Bytes of a redrawn line (its text, cut to the terminal's width). */
#define RSV_LINE_MAX	 (RSV_ITEM_TEXT + RSV_NOTE_MAX + 4 * WFP_NAME_MAX)
#define RSV_TTY_MIN_COLS 20 /* narrower terminals: lines, not redrawn */
/* Bytes of the reservation's error kept while following: more than the
 * longest the service writes ("teardown failed: STATE: " and a job's
 * reason of up to WFP_REASON_MAX bytes), so it is never cut. */
#define RSV_FOLLOW_ERROR_MAX (WFP_REASON_MAX + 1024)

/* ------------------------------------------------------------------ */
/* Phases from the logs                                                */
/* ------------------------------------------------------------------ */

struct wfp_rsv *rsv_plan_read(struct wfp_client *cl, const char *id)
{
	struct wfp_key k = wfp_key_rsv(wfp_client_tag(cl), id);
	redisReply *r = wfp_client_commandf(cl, "HMGET %s state plan", k.s);
	struct wfp_rsv *plan = NULL;
	char err[512];

	if (r == NULL)
		return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)), NULL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->str == NULL)
		cli_error(EXIT_FAIL, "NORSV reservation '%s' does not exist",
			  id);
	else if (r->element[1]->str == NULL)
		cli_error(EXIT_FAIL, "reservation '%s' has no plan", id);
	else if (wfp_rsv_plan_parse(r->element[1]->str, r->element[1]->len,
				    &plan, err, sizeof(err)) != 0)
		cli_error(EXIT_FAIL, "plan of reservation '%s': %s", id, err);
	freeReplyObject(r);
	return plan;
}

/* One log read: the plan and state fed, and what is done after each
 * entry (may be NULL). */
struct feed {
	const struct wfp_rsv *plan;
	struct wfp_rsv_item_state *st;
	int teardown;
	void (*after)(void *arg, const redisReply *entry);
	void *arg;
};

/* Feeds one log entry (the library keeps the step that failed through
 * the reverts after it). */
static void feed_entry(struct feed *f, const char *task, const char *state,
		       int final, const char *outputs, const char *error)
{
	wfp_rsv_progress_feed(f->plan, f->st, f->teardown, task, state, final,
			      outputs, error);
}

/* The `at` of a log entry (flat), ms on Redis's clock, or -1. */
static int64_t entry_at(const redisReply *flat)
{
	const redisReply *at = cli_flat_get(flat, "at");
	int64_t ms;

	return at && wfp_parse_i64(at->str, &ms) == 0 ? ms : -1;
}

/* Feeds one page of log entries (see rsv_feed_job). */
static int feed_page(const redisReply *page, void *arg)
{
	struct feed *f = arg;

	for (size_t i = 0; i < page->elements; i++) {
		const redisReply *e = page->element[i], *task, *state, *fin,
				 *out, *why;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		task = cli_flat_get(e->element[1], "task");
		state = cli_flat_get(e->element[1], "state");
		fin = cli_flat_get(e->element[1], "final");
		out = cli_flat_get(e->element[1], "outputs");
		why = cli_flat_get(e->element[1], "error");
		if (task == NULL || state == NULL)
			continue;
		feed_entry(f, task->str, state->str,
			   fin && strcmp(fin->str, "1") == 0,
			   out ? out->str : NULL, why ? why->str : NULL);
		if (f->after)
			f->after(f->arg, e->element[1]);
	}
	return 0;
}

/* rsv_feed_job with a hook after each entry. */
static int feed_job(struct wfp_client *cl, struct feed *f, const char *job,
		    char *last, size_t lastn)
{
	struct wfp_key lk = wfp_key_log(wfp_client_tag(cl), job);
	char after[64];

	wfp_strlcpy(after, last, sizeof(after));
	return cli_log_pages(cl, &lk, after, "", feed_page, f, last, lastn);
}

int rsv_feed_job(struct wfp_client *cl, const struct wfp_rsv *plan,
		 struct wfp_rsv_item_state *st, const char *job, int teardown,
		 char *last, size_t lastn)
{
	struct feed f = {plan, st, teardown, NULL, NULL};

	return feed_job(cl, &f, job, last, lastn);
}

/* 1 when job exists, 0 when not, -1 after printing why. */
static int job_exists(struct wfp_client *cl, const char *job)
{
	struct wfp_key k = wfp_key_job(wfp_client_tag(cl), job);
	redisReply *r = wfp_client_commandf(cl, "EXISTS %s", k.s);
	int n;

	if (r == NULL)
		return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)), -1;
	n = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
	freeReplyObject(r);
	return n;
}

/* Feeds job's whole log when the job exists: 1 fed, 0 gone, -1 error. */
static int feed_whole(struct wfp_client *cl, struct feed *f, const char *job)
{
	char last[64] = "";
	int e = job_exists(cl, job);

	if (e <= 0)
		return e;
	return feed_job(cl, f, job, last, sizeof(last)) == 0 ? 1 : -1;
}

/* Feeds the fulfilment of id and its teardowns 1..upto (see
 * rsv_phases_from_logs). */
static int feed_jobs(struct wfp_client *cl, struct feed *f, const char *id,
		     long long upto)
{
	char job[RSV_JOB_ID_MAX];
	int rc;

	if (upto > RSV_RELEASES_READ)
		return 0;
	snprintf(job, sizeof(job), "%s.fulfil", id);
	f->teardown = 0;
	rc = feed_whole(cl, f, job);
	for (long long n = 1; rc == 1 && n <= upto; n++) {
		snprintf(job, sizeof(job), "%s.release.%lld", id, n);
		f->teardown = 1;
		rc = feed_whole(cl, f, job);
	}
	return rc;
}

int rsv_phases_from_logs(struct wfp_client *cl, const struct wfp_rsv *plan,
			 struct wfp_rsv_item_state *st, const char *id,
			 long long releases)
{
	struct feed f = {plan, st, 0, NULL, NULL};

	return feed_jobs(cl, &f, id, releases);
}

/* ------------------------------------------------------------------ */
/* Phases from the hash                                                */
/* ------------------------------------------------------------------ */

/* The index of item name in plan, or -1. */
static int item_index(const struct wfp_rsv *plan, const char *name)
{
	for (int i = 0; i < plan->nitems; i++) {
		if (strcmp(plan->items[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* The steps of a comma-separated list of step words as bits. */
static unsigned step_bits(const char *list)
{
	unsigned bits = 0;

	while (*list) {
		size_t n = strcspn(list, ",");
		char word[32];
		int step;

		if (n < sizeof(word)) {
			memcpy(word, list, n);
			word[n] = '\0';
			step = wfp_rsv_step_parse(word);
			if (step >= 0)
				bits |= 1u << step;
		}
		list += n + (list[n] == ',');
	}
	return bits;
}

/* Applies one hash field (k, v) to the item it names, if any. */
static void hash_field(const struct wfp_rsv *plan,
		       struct wfp_rsv_item_state *st, const char *k,
		       const char *v)
{
	static const char *const kinds[] = {
	    "item:", "undo:", "failed:", "out:"};

	for (int kind = 0; kind < 4; kind++) {
		size_t n = strlen(kinds[kind]);
		int i;

		if (strncmp(k, kinds[kind], n) != 0)
			continue;
		i = item_index(plan, k + n);
		if (i < 0)
			return;
		if (kind == 0 && wfp_rsv_phase_parse(v) >= 0)
			st[i].phase = wfp_rsv_phase_parse(v);
		else if (kind == 1)
			st[i].undone = step_bits(v);
		else if (kind == 2)
			st[i].failed = wfp_rsv_step_parse(v);
		else if (kind == 3 && st[i].outputs == NULL)
			st[i].outputs = strdup(v); /* NULL: shown as none */
		return;
	}
}

void rsv_phases_from_hash(const struct wfp_rsv *plan,
			  struct wfp_rsv_item_state *st, const redisReply *flat)
{
	for (int i = 0; i < plan->nitems; i++) {
		st[i].reached = -1;
		st[i].running = -1;
	}
	for (size_t i = 0;
	     flat->type == REDIS_REPLY_ARRAY && i + 1 < flat->elements;
	     i += 2) {
		const char *k = flat->element[i]->str;
		const char *v = flat->element[i + 1]->str;

		if (k && v)
			hash_field(plan, st, k, v);
	}
}

/* ------------------------------------------------------------------ */
/* An item as JSON and as text                                         */
/* ------------------------------------------------------------------ */

/* A step's word as JSON, null for none (-1). */
static json_t *step_json(int step)
{
	const char *w = step >= 0 ? wfp_rsv_step_word(step) : NULL;

	return w ? json_string(w) : json_null();
}

json_t *rsv_item_json(const struct wfp_rsv *plan,
		      const struct wfp_rsv_item_state *st, int i)
{
	const struct wfp_rsv_item *it = &plan->items[i];
	const struct wfp_rsv_item_state *s = &st[i];
	const char *reached =
	    s->reached >= 0 ? wfp_rsv_phase_word(s->reached) : NULL;
	json_t *undo = json_array();
	json_t *out = s->outputs ? json_loads(s->outputs, 0, NULL) : NULL;

	for (int step = 0; step < WFP_RSV_STEPS; step++) {
		if (s->undone & (1u << step))
			json_array_append_new(
			    undo, json_string(wfp_rsv_step_word(step)));
	}
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:o, s:o, "
			 "s:o}",
			 "name", it->name, "sub", it->sub, "pool", it->pool,
			 "amount", (json_int_t)it->amount, "class", it->cls,
			 "phase", wfp_rsv_phase_word(s->phase), "reached",
			 reached ? json_string(reached) : json_null(), "undo",
			 undo, "running", step_json(s->running), "failed",
			 step_json(s->failed), "outputs",
			 out ? out : json_null());
}

void rsv_item_text(const struct wfp_rsv_item_state *s, char *out, size_t n)
{
	size_t o = (size_t)snprintf(out, n, "%s", wfp_rsv_phase_word(s->phase));
	const char *sep = "; undone: ";

	if (s->running >= 0 && o < n)
		o += (size_t)snprintf(out + o, n - o, "; running: %s",
				      wfp_rsv_step_word(s->running));
	if (s->failed >= 0 && o < n)
		o += (size_t)snprintf(out + o, n - o, "; failed: %s",
				      wfp_rsv_step_word(s->failed));
	for (int step = 0; step < WFP_RSV_STEPS && o < n; step++) {
		if (!(s->undone & (1u << step)))
			continue;
		o += (size_t)snprintf(out + o, n - o, "%s%s", sep,
				      wfp_rsv_step_word(step));
		sep = ",";
	}
}

/* ------------------------------------------------------------------ */
/* Following a reservation                                             */
/* ------------------------------------------------------------------ */

/* What an item showed last. */
struct shown {
	int phase, running, failed;
	unsigned undone;
};

/* One follow (see rsv_follow). */
struct follow {
	struct cli *c;
	struct wfp_client *cl;
	const char *id;
	enum rsv_until until;
	struct wfp_rsv *plan;
	struct wfp_rsv_item_state *st;
	struct shown *shown;
	struct wfp_key ev, lk, rk; /* events, the followed log, the hash */
	char ev_last[64], log_last[64];
	int teardown;	  /* the followed job is a teardown */
	int tty, drawn;	  /* redrawn in place; lines drawn */
	int name_w;	  /* widest item name */
	int64_t start_us; /* when the follow began (monotonic) */
	int64_t first_at; /* `at` of the first log entry shown, or -1 */
	int64_t at;	  /* `at` of the newest */
	char state[16];	  /* the reservation's state now */
	char error[RSV_FOLLOW_ERROR_MAX]; /* and its error */
	int returned;		    /* its capacity came back (returned_at) */
	int release_job;	    /* a teardown is in flight (release_job) */
	char rjob[RSV_JOB_ID_MAX];  /* its id */
	int asked;		    /* release_requested */
	long long releases;	    /* teardowns posted so far */
	char (*note)[RSV_NOTE_MAX]; /* per item: its last retried attempt */
	int *note_run; /* per item: the step the retry runs (see note_over) */
};

/* Copies item i's state into what it showed; 1 when that changed. */
static int shown_update(struct follow *f, int i)
{
	const struct wfp_rsv_item_state *s = &f->st[i];
	struct shown now = {s->phase, s->running, s->failed, s->undone};

	if (memcmp(&now, &f->shown[i], sizeof(now)) == 0)
		return 0;
	f->shown[i] = now;
	return 1;
}

/* "+S.mmms" since the follow began, into out. */
static void follow_at(const struct follow *f, char *out, size_t n)
{
	cli_fmt_elapsed((wfp_mono_us() - f->start_us) / 1000, out, n);
}

/* "+S.mmms" from the first log entry shown to the newest (Redis's clock,
 * from the entries' `at`), into out. */
static void entry_elapsed(const struct follow *f, char *out, size_t n)
{
	cli_fmt_elapsed(
	    f->first_at >= 0 && f->at >= 0 ? f->at - f->first_at : 0, out, n);
}

/* Prints item i's change: a JSON object, or "+AT ITEM STATE". */
static void print_change(struct follow *f, int i)
{
	char text[RSV_ITEM_TEXT], at[32];

	if (f->c->json) {
		/* {type, id, item, sub, ...}: the order the README gives */
		json_t *o = json_pack("{s:s, s:s, s:s}", "type", "item", "id",
				      f->id, "item", f->plan->items[i].name);
		json_t *it = rsv_item_json(f->plan, f->st, i);

		json_object_del(it, "name");
		json_object_update(o, it);
		json_decref(it);
		cli_print_json(o);
		return;
	}
	rsv_item_text(&f->st[i], text, sizeof(text));
	entry_elapsed(f, at, sizeof(at));
	printf("%s %-*s %s\n", at, f->name_w, f->plan->items[i].name, text);
}

/* The item a log entry's task ("ITEM.STEP") belongs to, or -1. */
static int task_item(const struct wfp_rsv *plan, const char *task)
{
	const char *dot = strrchr(task, '.');

	for (int i = 0; dot && i < plan->nitems; i++) {
		if (strlen(plan->items[i].name) == (size_t)(dot - task) &&
		    strncmp(plan->items[i].name, task, (size_t)(dot - task)) ==
			0)
			return i;
	}
	return -1;
}

/* A failed attempt that is retried (an apply-failed or revert-failed
 * entry that is not final): "STEP attempt N failed: ERR; retrying" into
 * out. Returns the item's index, or -1 when entry is not one. */
static int retry_note(const struct follow *f, const redisReply *entry,
		      char *out, size_t n)
{
	const redisReply *task = cli_flat_get(entry, "task");
	const redisReply *state = cli_flat_get(entry, "state");
	const redisReply *fin = cli_flat_get(entry, "final");
	const redisReply *att = cli_flat_get(entry, "attempt");
	const redisReply *err = cli_flat_get(entry, "error");
	char cut[4 * RSV_NOTE_WIDTH + 8], step[4 * 16 + 8];
	int i;

	if (task == NULL || state == NULL ||
	    (fin && strcmp(fin->str, "1") == 0) ||
	    (strcmp(state->str, "apply-failed") != 0 &&
	     strcmp(state->str, "revert-failed") != 0))
		return -1;
	i = task_item(f->plan, task->str);
	if (i < 0)
		return -1;
	cli_text_cut(err && err->str[0] ? err->str : "failed", RSV_NOTE_WIDTH,
		     cut, sizeof(cut));
	cli_text_cut(task->str + strlen(f->plan->items[i].name) + 1, 16, step,
		     sizeof(step));
	snprintf(out, n, "%s attempt %lld failed: %s; retrying", step,
		 att ? strtoll(att->str, NULL, 10) : 0LL, cut);
	return i;
}

/* Shows a retried attempt of item i (note): a line, a JSON object
 * {type: "retry", id, item, task, attempt, error}, or kept for the
 * redraw. */
static void print_retry(struct follow *f, int i, const redisReply *entry,
			const char *note)
{
	const redisReply *task = cli_flat_get(entry, "task");
	const redisReply *att = cli_flat_get(entry, "attempt");
	const redisReply *err = cli_flat_get(entry, "error");
	int64_t attempt = 0;
	char at[32];

	const char *dot = task ? strrchr(task->str, '.') : NULL;
	const redisReply *state = cli_flat_get(entry, "state");

	wfp_strlcpy(f->note[i], note, sizeof(f->note[i]));
	/* an apply is tried again as the same step; a revert's step is
	 * known when it runs */
	f->note_run[i] = dot && state && strcmp(state->str, "apply-failed") == 0
			     ? wfp_rsv_step_parse(dot + 1)
			     : -2;
	if (f->tty)
		return;
	if (f->c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "type", "retry", "id",
				      f->id, "item", f->plan->items[i].name);

		json_object_set_new(
		    o, "task",
		    cli_json_lossy(task->str, task->len, "task", f->id, NULL));
		if (att && wfp_parse_i64(att->str, &attempt) != 0)
			attempt = 0;
		json_object_set_new(o, "attempt", json_integer(attempt));
		json_object_set_new(o, "error",
				    cli_json_lossy(err ? err->str : "",
						   err ? err->len : 0, "error",
						   f->id, NULL));
		cli_print_json(o);
		return;
	}
	entry_elapsed(f, at, sizeof(at));
	printf("%s %-*s %s\n", at, f->name_w, f->plan->items[i].name, note);
}

/* The columns of the terminal on stdout, or 0 when not known. */
static int term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
		return 0;
	return ws.ws_col;
}

/* Prints one redrawn line: line cut to cols - 1 characters (UTF-8 kept
 * whole), so that it never wraps and the cursor moves up by lines. */
static void redraw_line(const char *line, int cols)
{
	char cut[RSV_LINE_MAX + 8];
	int w = cols > 0 ? cols - 1 : RSV_LINE_MAX;

	if (w < RSV_TTY_MIN_COLS - 1)
		w = RSV_TTY_MIN_COLS - 1;
	if (w > RSV_LINE_MAX)
		w = RSV_LINE_MAX; /* longer than any line */
	cli_text_cut(line, w, cut, sizeof(cut));
	printf("\r\033[K%s\n", cut);
}

/* Redraws the block: "ID STATE +AT", then one line per item. */
static void redraw(struct follow *f)
{
	char text[RSV_ITEM_TEXT], at[32], line[RSV_LINE_MAX];
	int cols = term_cols();

	if (f->drawn > 0)
		printf("\033[%dA", f->drawn);
	follow_at(f, at, sizeof(at));
	snprintf(line, sizeof(line), "%s %s %s", f->id, f->state, at);
	redraw_line(line, cols);
	for (int i = 0; i < f->plan->nitems; i++) {
		rsv_item_text(&f->st[i], text, sizeof(text));
		snprintf(line, sizeof(line), "  %-*s %s%s%s", f->name_w,
			 f->plan->items[i].name, text,
			 f->note[i][0] ? "; " : "", f->note[i]);
		redraw_line(line, cols);
	}
	f->drawn = f->plan->nitems + 1;
}

/* The item whose final entry entry is (its task's last attempt), or
 * -1. */
static int final_item(const struct follow *f, const redisReply *entry)
{
	const redisReply *task = cli_flat_get(entry, "task");
	const redisReply *fin = cli_flat_get(entry, "final");

	if (task == NULL || fin == NULL || strcmp(fin->str, "1") != 0)
		return -1;
	return task_item(f->plan, task->str);
}

/* 1 when item i's change from was ends the retry its note tells of: its
 * phase, failed step or undone steps changed, or a step other than the
 * retried one runs (note_run: that step, -2 until it is known). */
static int note_over(struct follow *f, int i, const struct shown *was)
{
	const struct shown *now = &f->shown[i];

	if (was->phase != now->phase || was->failed != now->failed ||
	    was->undone != now->undone)
		return 1;
	if (now->running < 0 || now->running == was->running)
		return 0;
	if (f->note_run[i] == -2)
		f->note_run[i] = now->running; /* the next attempt */
	return now->running != f->note_run[i];
}

/* After each log entry: prints the items that changed (lines, JSON), or
 * marks the block for a redraw. */
static void follow_after(void *arg, const redisReply *entry)
{
	struct follow *f = arg;
	char note[RSV_NOTE_MAX];
	int r = retry_note(f, entry, note, sizeof(note));

	f->at = entry_at(entry);
	if (f->first_at < 0)
		f->first_at = f->at;
	int fin = final_item(f, entry);

	for (int i = 0; i < f->plan->nitems; i++) {
		struct shown was = f->shown[i];

		if (i == fin)
			f->note[i][0] = '\0'; /* its last attempt: no retry */
		if (!shown_update(f, i))
			continue;
		if (note_over(f, i, &was))
			f->note[i][0] = '\0'; /* the retried step is over */
		if (!f->tty && i != r)
			print_change(f, i); /* a retry: its note says it */
	}
	if (r >= 0)
		print_retry(f, r, entry, note);
}

/* Reads the followed log's new entries, showing the changes. Returns
 * 0, or -1 (printed or recorded). */
static int follow_drain(struct follow *f)
{
	struct feed fd = {f->plan, f->st, f->teardown, follow_after, f};

	if (cli_log_pages(f->cl, &f->lk, f->log_last, "", feed_page, &fd,
			  f->log_last, sizeof(f->log_last)) != 0)
		return -1;
	if (f->tty)
		redraw(f);
	return cli_output_flush();
}

/* Reads the reservation's state, error, returned_at and release_job.
 * Returns 0, or -1 after printing why (NORSV when it is gone). */
static int follow_state(struct follow *f)
{
	redisReply *r = wfp_client_commandf(
	    f->cl,
	    "HMGET %s state error returned_at release_job release_requested "
	    "releases",
	    f->rk.s);
	int rc = 0;

	if (r == NULL)
		return cli_failed(f->cl), -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
	    r->element[0]->str == NULL) {
		rc = -1;
		cli_error(EXIT_FAIL, "NORSV reservation '%s' does not exist",
			  f->id);
	} else {
		wfp_strlcpy(f->state, r->element[0]->str, sizeof(f->state));
		wfp_strlcpy(f->error,
			    r->element[1]->str ? r->element[1]->str : "",
			    sizeof(f->error));
		f->returned = r->element[2]->str && r->element[2]->str[0];
		f->release_job = r->element[3]->str && r->element[3]->str[0];
		wfp_strlcpy(f->rjob, f->release_job ? r->element[3]->str : "",
			    sizeof(f->rjob));
		f->asked =
		    r->element[4]->str && strcmp(r->element[4]->str, "1") == 0;
		f->releases = r->element[5]->str
				  ? strtoll(r->element[5]->str, NULL, 10)
				  : 0;
	}
	freeReplyObject(r);
	return rc;
}

/* 1 when the reservation's teardown ended other than completed: no
 * teardown in flight and the error the service writes then. */
static int teardown_failed(const struct follow *f)
{
	return !f->release_job &&
	       (strncmp(f->error, "teardown failed: ", 17) == 0 ||
		strncmp(f->error, "release failed: ", 16) == 0);
}

/* 1 when the reservation settled for f->until, with *ok 1 when as
 * wanted; else 0. */
static int follow_settled(const struct follow *f, int *ok)
{
	const char *s = f->state;
	int released = strcmp(s, "released") == 0 ||
		       (strcmp(s, "expired") == 0 && f->returned);

	*ok = 0;
	/* A teardown that ended other than completed (the one asked for,
	 * or the one wfp-reservation posted for a fulfilment that completed
	 * after its TTL or its cancel): nothing more comes in any mode. */
	if (teardown_failed(f))
		return 1;
	if (f->until == RSV_UNTIL_ACTIVE) {
		*ok = strcmp(s, "active") == 0;
		/* An expired one settles once its capacity is back (its job
		 * undone or torn down). */
		if (strcmp(s, "expired") == 0)
			return f->returned;
		return strcmp(s, "pending") != 0;
	}
	if (released || strcmp(s, "failed") == 0) {
		*ok = released;
		return 1;
	}
	/* A teardown that ended other than completed leaves the
	 * reservation as it was, with no teardown in flight and the
	 * error. */
	if (f->until == RSV_UNTIL_RELEASED)
		return !f->release_job && f->error[0];
	/* A pending one that became active before its cancel took effect:
	 * as release was asked, wfp-reservation tears it down itself
	 * (followed once posted, see follow_switch). */
	if (strcmp(s, "active") != 0)
		return 0;
	return !(f->asked && f->releases == 0);
}

/* Follows the log of the teardown in release_job from now on. */
static void follow_teardown(struct follow *f)
{
	f->teardown = 1;
	f->lk = wfp_key_log(wfp_client_tag(f->cl), f->rjob);
	f->log_last[0] = '\0';
}

/* 1 when the service posted a teardown that f does not follow yet: for
 * a fulfilment that completed after the TTL (expired), or, for a cancel,
 * after the release was asked (active, or already released). */
static int follow_switch(struct follow *f)
{
	int expired = strcmp(f->state, "expired") == 0;

	if (f->teardown || !f->release_job)
		return 0;
	if (f->until == RSV_UNTIL_ACTIVE && expired) {
		/* the teardown gives the capacity back */
		follow_teardown(f);
		return 1;
	}
	if (f->until != RSV_UNTIL_CANCELLED || !f->asked)
		return 0;
	if (strcmp(f->state, "active") == 0)
		f->until = RSV_UNTIL_RELEASED; /* settles when torn down */
	else if (!expired && strcmp(f->state, "released") != 0)
		return 0;
	follow_teardown(f);
	return 1;
}

/* The end: "ID STATE" (or {type: "rsv", id, state, error}); when not
 * ok, one line naming the state and the error. Returns the status. */
static int follow_end(struct follow *f, int ok)
{
	char cut[4 * RSV_ERROR_WIDTH + 8];

	if (f->c->json) {
		json_t *o = json_pack("{s:s, s:s}", "type", "rsv", "id", f->id);

		json_object_set_new(o, "state",
				    cli_json_lossy(f->state, strlen(f->state),
						   "state", f->id, NULL));
		json_object_set_new(o, "error",
				    cli_json_lossy(f->error, strlen(f->error),
						   "error", f->id, NULL));
		cli_print_json(o);
	} else
		printf("%s %s\n", f->id, f->state);
	/* stdout first: piped, the lines keep their order */
	fflush(stdout); /* errors are reported at exit (cli_output_done) */
	if (ok)
		return EXIT_OK;
	cli_text_cut(f->error, RSV_ERROR_WIDTH, cut, sizeof(cut));
	if (f->until != RSV_UNTIL_ACTIVE && strcmp(f->state, "active") == 0 &&
	    f->error[0] == '\0')
		return cli_error(EXIT_FAIL,
				 "reservation %s became active before the "
				 "release took effect; release it again",
				 f->id);
	if (teardown_failed(f))
		return cli_error(EXIT_FAIL,
				 "reservation %s is %s: %s; run `wfp rsv "
				 "release %s` again",
				 f->id, f->state, cut, f->id);
	if (strcmp(f->state, "expired") == 0)
		return cli_error(EXIT_FAIL,
				 "reservation %s expired: %s; its capacity "
				 "is back",
				 f->id, cut[0] ? cut : "TTL over");
	if (strcmp(f->state, "failed") == 0)
		return cli_error(EXIT_FAIL, "reservation %s failed%s%s", f->id,
				 cut[0] ? ": " : "", cut);
	return cli_error(EXIT_FAIL, "reservation %s is %s%s%s", f->id, f->state,
			 cut[0] ? ": " : "", cut);
}

/* The time ran out: one line naming what is left. Returns 3. */
static int follow_timeout(const struct follow *f, long long timeout_ms)
{
	if (strcmp(f->state, "expired") == 0 && !f->returned)
		return cli_error(EXIT_NOTHING,
				 "reservation %s expired; its job is being "
				 "undone, capacity comes back when it ends "
				 "(not yet after %lld ms)",
				 f->id, timeout_ms);
	return cli_error(EXIT_NOTHING, "reservation %s still %s after %lld ms",
			 f->id, f->state, timeout_ms);
}

/* Waits up to wait_ms for a new event or log entry (any: the state is
 * read again after it). Returns 0, or -1 after printing why. */
static int follow_wait(struct follow *f, int64_t wait_ms)
{
	redisReply *r = wfp_client_commandf(
	    f->cl, "XREAD COUNT 100 BLOCK %lld STREAMS %s %s %s %s",
	    (long long)wait_ms, f->ev.s, f->lk.s, f->ev_last,
	    f->log_last[0] ? f->log_last : "0-0");

	if (r == NULL)
		return cli_failed(f->cl), -1;
	for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k < r->elements;
	     k++) {
		const redisReply *s = r->element[k], *e;

		if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
		    s->element[0]->str == NULL ||
		    strcmp(s->element[0]->str, f->ev.s) != 0 ||
		    s->element[1]->elements == 0)
			continue;
		e = s->element[1]->element[s->element[1]->elements - 1];
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
		    e->element[0]->str)
			wfp_strlcpy(f->ev_last, e->element[0]->str,
				    sizeof(f->ev_last));
	}
	freeReplyObject(r);
	return 0;
}

/* Follows until settled or the deadline; returns the exit status. */
static int follow_loop(struct follow *f, long long timeout_ms)
{
	int64_t deadline = wfp_now_ms() + timeout_ms;
	int64_t poll = f->c->cfg.timeout_ms / 2;
	int ok;

	if (poll > RSV_POLL_MS)
		poll = RSV_POLL_MS;
	if (poll < 1)
		poll = 1;
	for (;;) {
		int64_t left = deadline - wfp_now_ms();

		if (follow_state(f) != 0)
			return EXIT_FAIL;
		if (follow_drain(f) != 0)
			return EXIT_FAIL;
		/* the new log's entries so far before settling: a teardown
		 * that already ended still shows its items */
		if (follow_switch(f) && follow_drain(f) != 0)
			return EXIT_FAIL;
		if (follow_settled(f, &ok))
			return follow_end(f, ok);
		if (left <= 0)
			return follow_timeout(f, timeout_ms);
		if (follow_wait(f, left < poll ? left : poll) != 0)
			return EXIT_FAIL;
	}
}

/* Feeds the logs before the followed job, silently: for a teardown
 * ID.release.N, the fulfilment and teardowns 1..N-1; for a cancel, what
 * the fulfilment logged so far (only its rollback is news). Returns 0,
 * or -1 after printing why. */
static int follow_before(struct follow *f, const char *job)
{
	struct feed fd = {f->plan, f->st, 0, NULL, NULL};
	const char *dot = strrchr(job, '.');
	int64_t n = 0;

	if (f->until == RSV_UNTIL_CANCELLED)
		return feed_job(f->cl, &fd, job, f->log_last,
				sizeof(f->log_last));
	if (!f->teardown)
		return 0;
	if (dot == NULL || wfp_parse_i64(dot + 1, &n) != 0 || n < 1)
		return cli_error(EXIT_FAIL, "bad teardown job id '%s'", job),
		       -1;
	return feed_jobs(f->cl, &fd, f->id, n - 1) < 0 ? -1 : 0;
}

/* Sets up f (plan, state, keys, what is shown). Returns 0, or -1 after
 * printing why. */
static int follow_init(struct follow *f, const char *job,
		       const char *events_from)
{
	const char *tag = wfp_client_tag(f->cl);

	f->plan = rsv_plan_read(f->cl, f->id);
	if (f->plan == NULL)
		return -1;
	f->st = wfp_rsv_progress_new(f->plan);
	f->shown = calloc((size_t)f->plan->nitems + 1, sizeof(*f->shown));
	f->note = calloc((size_t)f->plan->nitems + 1, sizeof(*f->note));
	f->note_run = calloc((size_t)f->plan->nitems + 1, sizeof(int));
	if (f->st == NULL || f->shown == NULL || f->note == NULL ||
	    f->note_run == NULL)
		return cli_error(EXIT_FAIL, "out of memory"), -1;
	f->teardown = f->until == RSV_UNTIL_RELEASED;
	f->ev = wfp_key_events(tag);
	f->lk = wfp_key_log(tag, job);
	f->rk = wfp_key_rsv(tag, f->id);
	wfp_strlcpy(f->ev_last, events_from, sizeof(f->ev_last));
	f->tty = !f->c->json && isatty(STDOUT_FILENO) &&
		 f->plan->nitems < RSV_REDRAW_MAX &&
		 (term_cols() == 0 || term_cols() >= RSV_TTY_MIN_COLS);
	f->start_us = wfp_mono_us();
	f->first_at = f->at = -1;
	for (int i = 0; i < f->plan->nitems; i++) {
		int w = (int)strlen(f->plan->items[i].name);

		f->name_w = w > f->name_w ? w : f->name_w;
	}
	if (follow_before(f, job) != 0)
		return -1;
	for (int i = 0; i < f->plan->nitems; i++)
		shown_update(f, i);
	return 0;
}

int rsv_follow(struct cli *c, struct wfp_client *cl, const char *id,
	       enum rsv_until until, const char *job, const char *events_from,
	       long long timeout_ms)
{
	struct follow f = {.c = c, .cl = cl, .id = id, .until = until};
	int rc = follow_init(&f, job, events_from) == 0
		     ? follow_loop(&f, timeout_ms)
		     : EXIT_FAIL;

	if (f.plan && f.st)
		wfp_rsv_progress_free(f.plan, f.st);
	wfp_rsv_free(f.plan);
	free(f.shown);
	free(f.note);
	free(f.note_run);
	return rc;
}
