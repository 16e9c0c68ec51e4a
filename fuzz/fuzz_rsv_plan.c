/*
 * fuzz_rsv_plan.c - fuzz target: the plan parser (wfp_rsv_plan_parse,
 * common/rsv.c) on any text, as wfp-reservation reads a reservation's
 * stored plan back from Redis to reconcile and release it, and the item
 * phases fed from job log entries (wfp_rsv_progress_feed), as it reads
 * them from the jobs' task logs, outputs of outside commands included.
 *
 * The input is PLAN, optionally followed by a NUL byte and LOG: lines of
 * TASK, STATE, FINAL (1 or else), TEARDOWN (1: a teardown job's entry),
 * OUTPUTS and ERROR separated by tabs (fields left off are none). A plan
 * that parses keeps the rules of wfp/rsv.h; its plan parses back to the
 * same text; its fulfilment and teardown payloads pass the workflow
 * parser, the teardown after LOG's entries too (fuzz_rsv.h; without
 * LOG, a made-up log of every step applied).
 */
#include "fuzz_rsv.h"

#define LOG_FIELDS 6 /* fields of one LOG line */

/* Feeds the log entry in line (split at tabs here) into st. */
static void feed_line(const struct wfp_rsv *r, struct wfp_rsv_item_state *st,
		      char *line)
{
	char *f[LOG_FIELDS] = {NULL};
	int n = 0;

	for (char *p = line; p != NULL && n < LOG_FIELDS;) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	if (n < 2)
		return;
	wfp_rsv_progress_feed(r, st, n > 3 && strcmp(f[3], "1") == 0, f[0],
			      f[1], n > 2 && strcmp(f[2], "1") == 0, f[4],
			      f[5]);
}

/* Feeds every line of log into fresh phases of r, then makes the
 * teardown from them. */
static void feed_log(const struct wfp_rsv *r, char *log)
{
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);

	if (st == NULL)
		return;
	for (char *line = log; line != NULL;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		feed_line(r, st, line);
		line = nl ? nl + 1 : NULL;
	}
	fuzz_rsv_teardown(r, st);
	wfp_rsv_progress_free(r, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERR_MAX] = "";
	struct wfp_rsv *r = NULL;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	char *plan = fuzz_text(data, plen);
	char *log = nul ? fuzz_text(nul + 1, size - plen - 1) : NULL;

	if (plan != NULL &&
	    wfp_rsv_plan_parse(plan, plen, &r, err, sizeof(err)) == 0) {
		fuzz_rsv_rules(r);
		fuzz_rsv_payloads(r);
		if (log)
			feed_log(r, log);
		else
			fuzz_rsv_progress(r);
		wfp_rsv_free(r);
	} else if (plan != NULL) {
		fuzz_refused(err);
		FUZZ_ASSERT(r == NULL);
	}
	free(plan);
	free(log);
	return 0;
}
