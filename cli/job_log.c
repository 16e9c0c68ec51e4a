/* job_log.c - `wfp job log` and `wfp job watch`: a job's task log and
 * its changes as they happen. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "wfp/keys.h"
#include "wfp/util.h"

#define WATCH_TIMEOUT_DEFAULT 3600000LL /* watch --timeout */
#define LOG_PAGE	      1000	/* entries per XRANGE of a log */
#define LOG_DETAIL_WIDTH      60	/* characters of DETAIL in a table */
#define WATCH_NAMES_WIDTH     60 /* characters of a list in a progress line */

/* ------------------------------------------------------------------ */
/* Reading the task log                                                */
/* ------------------------------------------------------------------ */

const redisReply *cli_flat_get(const redisReply *flat, const char *key)
{
	for (size_t i = 0; i + 1 < flat->elements; i += 2) {
		const redisReply *k = flat->element[i];

		if (k->str && strcmp(k->str, key) == 0 &&
		    flat->element[i + 1]->str)
			return flat->element[i + 1];
	}
	return NULL;
}

/* One log entry's fields as JSON (cli_fields_lossy). The note on a value
 * that is not valid UTF-8 goes into "utf8_error", never into "error",
 * which is the log's own field (a task's error). */
static json_t *log_entry_json(const redisReply *flat)
{
	int had_error = 0;
	json_t *o, *note;

	for (size_t i = 0; i + 1 < flat->elements; i += 2)
		had_error |= flat->element[i]->str &&
			     strcmp(flat->element[i]->str, "error") == 0;
	o = cli_fields_lossy(flat);
	note = json_object_get(o, "error");
	if (!had_error && note != NULL) {
		json_object_set(o, "utf8_error", note);
		json_object_del(o, "error");
	}
	return o;
}

/* Appends the entries of one XRANGE reply to log as {entry, field:
 * value} objects (a value that is not valid UTF-8, say a task's stderr
 * tail, is shown as cli_json_lossy does); copies the last entry's id into
 * last (lastn bytes). Returns how many entries the reply held (a reply
 * that is not an entry list holds none). */
static size_t log_add(json_t *log, const redisReply *r, char *last,
		      size_t lastn)
{
	size_t n = 0;

	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements;
	     i++) {
		const redisReply *e = r->element[i];
		json_t *o;

		n++;
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->str == NULL)
			continue;
		wfp_strlcpy(last, e->element[0]->str, lastn);
		o = log_entry_json(e->element[1]);
		json_object_set_new(o, "entry",
				    json_string(e->element[0]->str));
		json_array_append_new(log, o);
	}
	return n;
}

/* The entries of page as a JSON array (see log_add). */
static json_t *page_json(const redisReply *page)
{
	json_t *a = json_array();
	char last[64];

	log_add(a, page, last, sizeof(last));
	return a;
}

int cli_log_pages(struct wfp_client *cl, const struct wfp_key *key,
		  const char *after, const char *upto, cli_log_page_fn *fn,
		  void *arg, char *last, size_t lastn)
{
	char from[72];

	if (after[0])
		snprintf(from, sizeof(from), "(%s", after);
	else
		wfp_strlcpy(from, "-", sizeof(from));
	for (;;) {
		redisReply *r =
		    wfp_client_commandf(cl, "XRANGE %s %s %s COUNT %d", key->s,
					from, upto[0] ? upto : "+", LOG_PAGE);
		size_t n = 0;
		int rc;

		if (r == NULL)
			return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)),
			       -1;
		for (size_t i = 0;
		     r->type == REDIS_REPLY_ARRAY && i < r->elements;
		     i++, n++) {
			const redisReply *e = r->element[i];

			if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
			    e->element[0]->str != NULL)
				wfp_strlcpy(last, e->element[0]->str, lastn);
		}
		rc = n > 0 ? fn(r, arg) : 0;
		freeReplyObject(r);
		if (rc != 0)
			return rc;
		if (n < LOG_PAGE || (upto[0] && strcmp(last, upto) == 0))
			return 0;
		snprintf(from, sizeof(from), "(%s", last);
	}
}

/* ------------------------------------------------------------------ */
/* job log                                                             */
/* ------------------------------------------------------------------ */

/* DETAIL of a log entry: its error (with "(final)" when no retry
 * follows), else its outputs, else "". */
static const char *log_detail(json_t *e, char *buf, size_t n)
{
	const char *err = cli_jstr(e, "error");

	if (err[0] && strcmp(cli_jstr(e, "final"), "1") == 0) {
		snprintf(buf, n, "%s (final)", err);
		return buf;
	}
	return err[0] ? err : cli_jstr(e, "outputs");
}

/* A number member of o as text ("-" when absent). */
static const char *num_text(json_t *o, const char *key, char *buf, size_t n)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else
		wfp_strlcpy(buf, json_is_string(v) ? json_string_value(v) : "-",
			    n);
	return buf;
}

/* The text form of `job log`: the first pass finds the TASK width and
 * the first entry's `at` (AT counts from it), the second prints the rows
 * of the entries the first one saw. */
struct log_table {
	int tw;	       /* TASK column width */
	int64_t t0;    /* `at` of the first entry */
	int seen;      /* an entry was seen */
	char last[64]; /* the newest entry of the first pass */
};

/* First pass: widths and the start, from the raw entries (no JSON). */
static int table_measure(const redisReply *page, void *arg)
{
	struct log_table *t = arg;

	for (size_t i = 0; i < page->elements; i++) {
		const redisReply *e = page->element[i], *task, *at;
		int w;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		task = cli_flat_get(e->element[1], "task");
		at = cli_flat_get(e->element[1], "at");
		if (!t->seen && at && wfp_parse_i64(at->str, &t->t0) != 0)
			t->t0 = 0;
		t->seen = 1;
		w = task ? (int)task->len : 0;
		t->tw = w > t->tw
			    ? (w < WFP_TASK_NAME_MAX ? w : WFP_TASK_NAME_MAX)
			    : t->tw;
	}
	return 0;
}

/* Second pass: the rows. Returns 0, or -1 when the output failed
 * (recorded, see cli_output_error). */
static int table_rows(const redisReply *raw, void *arg)
{
	const struct log_table *t = arg;
	json_t *page = page_json(raw), *e;
	size_t i;

	json_array_foreach(page, i, e)
	{
		char at[32], run[24], att[24], fence[24],
		    d[WFP_REASON_MAX + 16];
		char cut[LOG_DETAIL_WIDTH * 4 + 8];

		if (cli_output_error() != NULL)
			break;
		cli_fmt_elapsed(json_integer_value(json_object_get(e, "at")) -
				    t->t0,
				at, sizeof(at));
		cli_text_cut(log_detail(e, d, sizeof(d)), LOG_DETAIL_WIDTH, cut,
			     sizeof(cut));
		printf("%-4s %-10s %-*s %-13s %-7s %-16s %s\n",
		       num_text(e, "run", run, sizeof(run)), at, t->tw,
		       cli_jstr(e, "task"), cli_jstr(e, "state"),
		       num_text(e, "attempt", att, sizeof(att)),
		       num_text(e, "fence", fence, sizeof(fence)), cut);
	}
	json_decref(page);
	return cli_output_flush();
}

/* --json: the entries as one compact JSON array, written as read. */
static int json_rows(const redisReply *raw, void *arg)
{
	int *count = arg;
	json_t *page = page_json(raw), *e;
	size_t i;

	json_array_foreach(page, i, e)
	{
		char *s = json_dumps(e, JSON_COMPACT);

		if (s == NULL)
			cli_output_fail("JSON encoding failed");
		else if (printf("%s%s", (*count)++ ? "," : "", s) < 0)
			cli_output_fail("cannot write to stdout");
		free(s);
		if (cli_output_error() != NULL)
			break;
	}
	json_decref(page);
	return cli_output_flush();
}

/* job log ID: the task log as a table, or with --json every entry with
 * the log's field names and full text; read and written a page at a
 * time, so a log of any length takes bounded memory. */
int cli_job_log(struct cli *c)
{
	static const char *const opts[] = {NULL};
	struct log_table t = {.tw = 4};
	struct wfp_client *cl;
	struct wfp_key lk;
	redisReply *r;
	char last[64] = "";
	int count = 0, rc;

	if (cli_expect(c, 3, 3, opts, "wfp job log ID") != 0 ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	r = cli_job_read(c, &cl);
	if (r == NULL)
		return EXIT_FAIL;
	freeReplyObject(r);
	lk = wfp_key_log(wfp_client_tag(cl), c->pos[2]);
	if (c->json) {
		printf("[");
		rc = cli_log_pages(cl, &lk, "", "", json_rows, &count, last,
				   sizeof(last));
		if (rc == 0 && printf("]\n") < 0)
			cli_output_fail("cannot write to stdout");
	} else {
		rc = cli_log_pages(cl, &lk, "", "", table_measure, &t, t.last,
				   sizeof(t.last));
		if (rc == 0)
			printf("%-4s %-10s %-*s %-13s %-7s %-16s %s\n", "RUN",
			       "AT", t.tw, "TASK", "STATE", "ATTEMPT", "FENCE",
			       "DETAIL");
		if (rc == 0 && t.seen)
			rc = cli_log_pages(cl, &lk, "", t.last, table_rows, &t,
					   last, sizeof(last));
	}
	if (rc == -1 && cli_output_error() == NULL)
		return EXIT_FAIL; /* a Redis failure, printed */
	return cli_output_flush() == 0 ? EXIT_OK : cli_output_report(NULL);
}

/* ------------------------------------------------------------------ */
/* job watch                                                           */
/* ------------------------------------------------------------------ */

/* True when events entry flat is about job id: its raw type and id are
 * compared, so another entry, whatever its bytes, is never converted. */
static int event_of(const redisReply *flat, const char *id)
{
	const redisReply *type, *eid;

	if (flat->type != REDIS_REPLY_ARRAY)
		return 0;
	type = cli_flat_get(flat, "type");
	eid = cli_flat_get(flat, "id");
	return type && eid && strcmp(type->str, "job") == 0 &&
	       eid->len == strlen(id) && strcmp(eid->str, id) == 0;
}

/* What one `job watch` follows. */
struct watch {
	const struct cli *c;
	struct wfp_client *cl;
	const char *id;
	struct wfp_key ev, lk; /* the events stream, the job's task log */
	char ev_last[64];      /* newest event read */
	char log_last[64];     /* newest log entry read */
	char state[32];	       /* the job's newest state */
	struct progress *pg;   /* a workflow job's progress, else NULL */
};

/* Prints the events of the watched job among entries (of one XREAD
 * reply), updating w->state and w->ev_last. Only the job's own events are
 * converted; a value of one that is not valid UTF-8 is shown with U+FFFD
 * (see cli_json_lossy). Returns 0, or -1 when the output failed
 * (recorded, see cli_output_error). */
static int watch_events(struct watch *w, const redisReply *entries)
{
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *flat = entries->element[i]->element[1];
		const char *eid = entries->element[i]->element[0]->str;
		json_t *o;

		wfp_strlcpy(w->ev_last, eid, sizeof(w->ev_last));
		if (!event_of(flat, w->id))
			continue;
		o = cli_fields_lossy(flat);
		wfp_strlcpy(w->state, cli_jstr(o, "state"), sizeof(w->state));
		json_object_set_new(o, "entry", json_string(eid));
		if (w->c->json) {
			cli_print_json(o);
		} else {
			if (cli_output_error() == NULL)
				printf("%s %-9s %-20s %s\n", eid, w->state,
				       cli_jstr(o, "owner"),
				       cli_jstr(o, "detail"));
			json_decref(o);
		}
		if (cli_output_flush() != 0)
			return -1;
	}
	return 0;
}

/* Prints the progress line: "+ELAPSED SUMMARY", or with --json the
 * progress object with the job's id and the newest log entry. Returns 0,
 * or -1 when the output failed (recorded). */
static int watch_progress(const struct watch *w)
{
	char at[32], line[1024];

	if (w->c->json) {
		json_t *o = progress_json(w->pg);

		json_object_set_new(o, "id", json_string(w->id));
		json_object_set_new(o, "entry", json_string(w->log_last));
		cli_print_json(o);
	} else if (cli_output_error() == NULL) {
		cli_fmt_elapsed(progress_elapsed_ms(w->pg), at, sizeof(at));
		progress_text(w->pg, WATCH_NAMES_WIDTH, line, sizeof(line));
		printf("%s %s\n", at, line);
	}
	return cli_output_flush();
}

/* Counts the log entries (a JSON array) into the progress, printing a
 * line after each that changed it when show is set. Returns 0, or -1 when
 * the output failed (recorded). */
static int watch_feed(struct watch *w, json_t *log, int show)
{
	size_t i;
	json_t *e;

	json_array_foreach(log, i, e)
	{
		wfp_strlcpy(w->log_last, cli_jstr(e, "entry"),
			    sizeof(w->log_last));
		if (progress_add(w->pg, e) && show && watch_progress(w) != 0)
			return -1;
	}
	return 0;
}

/* What watch_log hands each page of the log to. */
struct watch_pass {
	struct watch *w;
	int show;
};

/* Counts one page of log entries (see watch_feed). */
static int watch_page(const redisReply *raw, void *arg)
{
	struct watch_pass *p = arg;
	json_t *page = page_json(raw);
	int rc = watch_feed(p->w, page, p->show);

	json_decref(page);
	return rc;
}

/* Reads the log entries after w->log_last and counts them (printing
 * changes when show is set), a page at a time. Returns 0, or -1 (printed
 * or recorded). */
static int watch_log(struct watch *w, int show)
{
	struct watch_pass p = {w, show};
	char last[64];

	wfp_strlcpy(last, w->log_last, sizeof(last));
	return cli_log_pages(w->cl, &w->lk, strcmp(last, "0-0") ? last : "", "",
			     watch_page, &p, last, sizeof(last)) != 0
		   ? -1
		   : 0;
}

/* Handles one XREAD reply: events of the job, entries of its log.
 * Returns 0, or -1 when the output failed (recorded). */
static int watch_reply(struct watch *w, const redisReply *r)
{
	for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k < r->elements;
	     k++) {
		const redisReply *s = r->element[k];
		json_t *log;
		char last[64];
		int rc;

		if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
		    s->element[0]->str == NULL)
			continue;
		if (strcmp(s->element[0]->str, w->ev.s) == 0) {
			if (watch_events(w, s->element[1]) != 0)
				return -1;
			continue;
		}
		if (w->pg == NULL || strcmp(s->element[0]->str, w->lk.s) != 0)
			continue;
		log = json_array();
		log_add(log, s->element[1], last, sizeof(last));
		rc = watch_feed(w, log, 1);
		json_decref(log);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int cli_stream_last(struct wfp_client *cl, const struct wfp_key *key, char *out,
		    size_t n)
{
	redisReply *r =
	    wfp_client_commandf(cl, "XREVRANGE %s + - COUNT 1", key->s);

	if (r == NULL)
		return cli_error(EXIT_FAIL, "%s", wfp_client_error(cl)), -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 && r->element[0]->element[0]->str)
		wfp_strlcpy(out, r->element[0]->element[0]->str, n);
	else
		wfp_strlcpy(out, "0-0", n);
	freeReplyObject(r);
	return 0;
}

/*
 * Starts following a workflow job: parses its payload (from the job's
 * fields flat, an HGETALL reply) and counts the log entries of its run
 * written so far. A job without a workflow, or with one that cannot be
 * read (it goes dead), is followed by its events alone. Returns 0, or -1
 * after printing why.
 */
static int watch_start_progress(struct watch *w, const redisReply *flat)
{
	const redisReply *payload = cli_flat_get(flat, "payload");
	const redisReply *run = cli_flat_get(flat, "run");
	struct wfp_workflow *wf = NULL;
	char err[256];
	int64_t n = 1;

	if (payload == NULL || wfp_workflow_parse(payload->str, payload->len,
						  &wf, err, sizeof(err)) != 1)
		return 0;
	if (run && (wfp_parse_i64(run->str, &n) != 0 || n < 1))
		n = 1;
	w->pg = progress_new(wf, n);
	if (w->pg == NULL)
		return cli_error(EXIT_FAIL, "out of memory"), -1;
	return watch_log(w, 0);
}

/* The XREAD of the watch's next changes, waiting up to wait_ms. */
static redisReply *watch_read(struct watch *w, int64_t wait_ms)
{
	if (w->pg == NULL)
		return wfp_client_commandf(
		    w->cl, "XREAD COUNT 100 BLOCK %lld STREAMS %s %s",
		    (long long)wait_ms, w->ev.s, w->ev_last);
	return wfp_client_commandf(
	    w->cl, "XREAD COUNT 100 BLOCK %lld STREAMS %s %s %s %s",
	    (long long)wait_ms, w->ev.s, w->lk.s, w->ev_last, w->log_last);
}

/* The end of a watch: the log entries not read yet (a workflow job).
 * The job's final event, printed, said the state and the error. Returns
 * the exit status: 0 for completed, else 1. */
static int watch_end(struct watch *w, enum wfp_job_state st)
{
	if (w->pg && watch_log(w, 1) != 0)
		return EXIT_FAIL; /* main reports why */
	return st == WFP_JOB_COMPLETED ? EXIT_OK : EXIT_FAIL;
}

/* Follows w until the job ends or timeout_ms passes. */
static int watch_loop(struct watch *w, long long timeout_ms)
{
	int64_t deadline = wfp_now_ms() + timeout_ms;
	enum wfp_job_state st = WFP_JOB_POSTED;
	redisReply *r;

	while (wfp_job_state_parse(w->state, &st) != 0 ||
	       !wfp_job_state_final(st)) {
		int64_t left = deadline - wfp_now_ms();

		if (left <= 0)
			return cli_error(EXIT_NOTHING,
					 "job %s still %s after %lld ms", w->id,
					 w->state, timeout_ms);
		r = watch_read(w, left < 1000 ? left : 1000);
		if (r == NULL)
			return cli_failed(w->cl);
		if (watch_reply(w, r) != 0) {
			freeReplyObject(r);
			return EXIT_FAIL; /* main reports why */
		}
		freeReplyObject(r);
	}
	return watch_end(w, st);
}

/* Prints the job's state as watch starts: "ID is STATE", or with --json
 * {"type": "job", "id", "state"}, so that a script reading stdout learns
 * the state of a job already finished. Returns 0, or -1 when the output
 * failed (recorded). */
static int watch_state(const struct watch *w)
{
	if (w->c->json)
		cli_print_json(json_pack("{s:s, s:s, s:s}", "type", "job", "id",
					 w->id, "state", w->state));
	else if (cli_output_error() == NULL)
		printf("%s is %s\n", w->id, w->state);
	return cli_output_flush();
}

/*
 * watch ID [--timeout MS]: the job's state changes as they happen, and
 * for a workflow job a progress line at each change of its task log,
 * until it ends; exits 0 only when it completed. The positions of the
 * events stream and of the log are taken before the state is read, and
 * both are read from there: a change made between is read, not missed.
 */
int cli_job_watch(struct cli *c)
{
	static const char *const opts[] = {"timeout", NULL};
	long long timeout = WATCH_TIMEOUT_DEFAULT;
	struct watch w = {.c = c, .log_last = "0-0"};
	redisReply *r;
	int rc;

	if (cli_expect(c, 3, 3, opts, "wfp job watch ID [--timeout MS]") ||
	    cli_opt_int(c, "timeout", 0, CLI_TIMEOUT_MAX_MS, &timeout) ||
	    cli_check_job_id(c, 0) != 0)
		return EXIT_USAGE;
	w.cl = cli_client(c);
	if (w.cl == NULL)
		return EXIT_FAIL;
	w.id = c->pos[2];
	w.ev = wfp_key_events(wfp_client_tag(w.cl));
	w.lk = wfp_key_log(wfp_client_tag(w.cl), w.id);
	if (cli_stream_last(w.cl, &w.ev, w.ev_last, sizeof(w.ev_last)) != 0)
		return EXIT_FAIL;
	r = cli_job_read(c, &w.cl);
	if (r == NULL)
		return EXIT_FAIL;
	rc = watch_start_progress(&w, r);
	freeReplyObject(r);
	if (rc == 0)
		rc = cli_job_field(w.cl, w.id, "state", w.state,
				   sizeof(w.state));
	if (rc == 0)
		rc = watch_state(&w);
	if (rc == 0 && w.pg)
		rc = watch_progress(&w);
	rc = rc != 0 || cli_output_flush() != 0 ? EXIT_FAIL
						: watch_loop(&w, timeout);
	progress_free(w.pg);
	return rc;
}
