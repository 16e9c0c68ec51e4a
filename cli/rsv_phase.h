/*
 * rsv_phase.h - the phases of a reservation's items for `wfp rsv`: from
 * the task logs of its jobs (its fulfilment `ID.fulfil` and teardowns
 * `ID.release.N`) with the library's wfp_rsv_progress_*, or from the
 * item:/undo:/failed: fields of its hash once the jobs are gone; and
 * following them live until the reservation settles.
 *
 * Rules: a plan is parsed with wfp_rsv_plan_parse (the plan the service
 * stored at create, so the items and steps are the ones the jobs run);
 * logs are read a page at a time; every function that fails prints one
 * line "wfp: ..." first.
 */
#ifndef WFP_CLI_RSV_PHASE_H
#define WFP_CLI_RSV_PHASE_H

#include <jansson.h>

#include "cli.h"
#include "wfp/rsv.h"

/* Reads reservation id's plan (the hash's `plan`) and parses it. Returns
 * the plan (wfp_rsv_free it), or NULL after printing why: "NORSV
 * reservation 'ID' does not exist" when there is no such reservation. */
struct wfp_rsv *rsv_plan_read(struct wfp_client *cl, const char *id);

/*
 * Feeds the task log of job id job into st (teardown: 1 for a teardown
 * job), the entries after entry *last ("" for all), a page at a time;
 * last gets the newest entry read. Returns 0 (also when the log is
 * missing), or -1 after printing why.
 */
int rsv_feed_job(struct wfp_client *cl, const struct wfp_rsv *plan,
		 struct wfp_rsv_item_state *st, const char *job, int teardown,
		 char *last, size_t lastn);

/*
 * The phases of reservation id's items from the logs of its jobs: the
 * fulfilment, then teardowns 1..releases in order. Returns 1 when every
 * one of those jobs still exists and its log was fed, 0 when one of them
 * is gone (st is then partial: read the hash instead), -1 after printing
 * why.
 */
int rsv_phases_from_logs(struct wfp_client *cl, const struct wfp_rsv *plan,
			 struct wfp_rsv_item_state *st, const char *id,
			 long long releases);

/* The phases of the items from the hash's item:NAME, undo:NAME and
 * failed:NAME fields (flat: an HGETALL reply): reached and running are
 * unknown there (-1), outputs NULL. */
void rsv_phases_from_hash(const struct wfp_rsv *plan,
			  struct wfp_rsv_item_state *st,
			  const redisReply *flat);

/* Item i as JSON: {name, sub, pool, amount, class, phase, reached, undo:
 * [steps], running, failed, outputs}; a step or phase not known (-1) is
 * null, outputs is the object or null. */
json_t *rsv_item_json(const struct wfp_rsv *plan,
		      const struct wfp_rsv_item_state *st, int i);

/* An item's state in one line: "PHASE[; running: STEP][; failed:
 * STEP][; undone: STEP,STEP]". */
void rsv_item_text(const struct wfp_rsv_item_state *s, char *out, size_t n);

/* What a follow waits for. */
enum rsv_until {
	RSV_UNTIL_ACTIVE,   /* create --wait: active (0), failed, expired */
	RSV_UNTIL_RELEASED, /* release --wait of a teardown: released */
	RSV_UNTIL_CANCELLED /* release --wait of a pending one: released */
};

/*
 * Follows reservation id live until it settles (see enum rsv_until) or
 * timeout_ms passes: job is the job whose log shows the changes (the
 * fulfilment, or the teardown the release posted); the logs of its
 * jobs before it are fed first, silently. Prints each item's state as it
 * changes: on a terminal (not --json) a block of one line per item
 * redrawn in place, else one line per change ("+ELAPSED ITEM STATE"), or
 * with --json one object per line ({type: "item", id, item, ...}); then
 * "ID STATE" ({type: "rsv", id, state, error}). events_from is the events
 * stream's position taken before the request ("0-0" for none). Returns
 * 0 when it settled as wanted, 1 with one line naming the state and error
 * when it did not, 3 when the time ran out.
 */
int rsv_follow(struct cli *c, struct wfp_client *cl, const char *id,
	       enum rsv_until until, const char *job, const char *events_from,
	       long long timeout_ms);

#endif
