/*
 * fuzz_rsv.h - what the reservation targets (fuzz_rsv.c, fuzz_rsv_plan.c)
 * do with a reservation their parser accepted: the plan round trip, the
 * fulfilment payload, the item phases fed from a made-up job log and the
 * teardown payloads (wfp/rsv.h).
 */
#ifndef WFP_FUZZ_RSV_H
#define WFP_FUZZ_RSV_H

#include "fuzz.h"
#include "wfp/rsv.h"
#include "wfp/workflow.h"

/* Checks the rules of wfp/rsv.h that hold for every parsed reservation. */
static inline void fuzz_rsv_rules(const struct wfp_rsv *r)
{
	FUZZ_ASSERT(r->nitems >= 0 && r->nitems <= WFP_RSV_ITEMS_MAX);
	FUZZ_ASSERT(r->nsubs >= 0 && r->nsubs <= WFP_RSV_SUBS_MAX);
	FUZZ_ASSERT(r->ttl_ms >= 1 && r->ttl_ms <= WFP_RSV_TTL_MAX_MS);
	for (int i = 0; i < r->nsubs; i++)
		FUZZ_ASSERT(r->sub_parent[i] >= -1 && r->sub_parent[i] < i);
	for (int i = 0; i < r->nitems; i++) {
		FUZZ_ASSERT(r->items[i].amount >= 1 &&
			    r->items[i].amount <= WFP_RSV_AMOUNT_MAX);
		for (int j = 0; j < i; j++)
			FUZZ_ASSERT(
			    strcmp(r->items[i].name, r->items[j].name) != 0);
	}
}

/* A fulfilment or teardown payload, when made, passes the workflow
 * parser; when not, err says why. */
static inline void fuzz_rsv_payload(char *payload, const char *err)
{
	char werr[FUZZ_ERR_MAX] = "";

	if (payload == NULL) {
		fuzz_refused(err);
		return;
	}
	FUZZ_ASSERT(wfp_workflow_check(payload, strlen(payload), werr,
				       sizeof(werr)) == 0);
	free(payload);
}

/* The plan of r parses back to a reservation with the same plan (one
 * longer than WFP_RSV_PLAN_MAX may be refused). */
static inline void fuzz_rsv_round_trip(const struct wfp_rsv *r)
{
	char err[FUZZ_ERR_MAX] = "";
	char *plan = wfp_rsv_plan(r), *again;
	struct wfp_rsv *b = NULL;

	if (plan == NULL)
		return;
	if (wfp_rsv_plan_parse(plan, strlen(plan), &b, err, sizeof(err)) == 0) {
		again = wfp_rsv_plan(b);
		FUZZ_ASSERT(again == NULL || strcmp(plan, again) == 0);
		free(again);
		wfp_rsv_free(b);
	} else {
		FUZZ_ASSERT(strlen(plan) > WFP_RSV_PLAN_MAX);
	}
	free(plan);
}

/* The teardown payload of r from the item phases in st. */
static inline void fuzz_rsv_teardown(const struct wfp_rsv *r,
				     const struct wfp_rsv_item_state *st)
{
	char err[FUZZ_ERR_MAX] = "";

	fuzz_rsv_payload(
	    wfp_rsv_teardown_payload(r, "rsv-1", st, err, sizeof(err)), err);
}

/* Feeds a job log into the item phases of resolved r: every step of
 * every item runs and applies, the last item's acquire fails, then the
 * teardown payload from those phases is made. */
static inline void fuzz_rsv_progress(const struct wfp_rsv *r)
{
	struct wfp_rsv_item_state *st = wfp_rsv_progress_new(r);
	char task[WFP_RSV_ITEM_NAME_MAX + 16];

	if (st == NULL)
		return;
	for (int i = 0; i < r->nitems; i++) {
		for (int s = WFP_RSV_RESERVE; s <= WFP_RSV_ACQUIRE; s++) {
			int last = i == r->nitems - 1 && s == WFP_RSV_ACQUIRE;

			snprintf(task, sizeof(task), "%s.%s", r->items[i].name,
				 wfp_rsv_step_word(s));
			wfp_rsv_progress_feed(r, st, 0, task, "running", 0,
					      NULL, NULL);
			wfp_rsv_progress_feed(
			    r, st, 0, task, last ? "apply-failed" : "applied",
			    last, last ? NULL : "{\"ip\":\"10.0.0.1\"}",
			    last ? "no capacity" : NULL);
		}
	}
	fuzz_rsv_teardown(r, st);
	wfp_rsv_progress_free(r, st);
}

/* Everything made from resolved reservation r but the phases: the plan
 * round trip, the fulfilment payload, the teardown of it all. */
static inline void fuzz_rsv_payloads(const struct wfp_rsv *r)
{
	char err[FUZZ_ERR_MAX] = "";

	fuzz_rsv_round_trip(r);
	fuzz_rsv_payload(wfp_rsv_fulfil_payload(r, "rsv-1", err, sizeof(err)),
			 err);
	fuzz_rsv_teardown(r, NULL);
}

/* Everything made from resolved reservation r. */
static inline void fuzz_rsv_made(const struct wfp_rsv *r)
{
	fuzz_rsv_payloads(r);
	fuzz_rsv_progress(r);
}

#endif
