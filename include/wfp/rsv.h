/*
 * rsv.h - reservations and resource classes without Redis: the
 * reservation file and class file parsers, the plan (the resolved
 * reservation stored at create), the fulfilment and teardown workflows
 * made from it, and the phases of its items read from the job logs.
 *
 * Rules that always hold for a struct wfp_rsv from wfp_rsv_parse or
 * wfp_rsv_plan_parse:
 *  - every name, id, amount and count is within the limits below;
 *  - items[] is in depth-first document order (a reservation's own items,
 *    then each of its sub-reservations in turn); item names are unique
 *    in the whole tree, sub-reservation names too;
 *  - subs[] is in document order, a sub after its parent (sub_parent[i]
 *    < i, -1 for a sub of the top); every sub holds an item or a sub;
 *  - needs[] sums the amounts per pool, pools in first-use order;
 *  - after wfp_rsv_resolve or wfp_rsv_plan_parse each item's act[] holds
 *    reserve, configure and acquire, and either destroy or all three of
 *    poweroff, unconfigure and unreserve (resolve also checks each
 *    action with the workflow parser's rules for an apply; a plan holds
 *    what resolve checked, and every generated payload is checked whole
 *    again).
 * The struct owns every pointer in it; wfp_rsv_free frees them.
 * Messages are one line, lowercase, naming the file, class or item and
 * the problem, e.g. "item 'disk': amount 0 is not in 1..1000000000000".
 */
#ifndef WFP_RSV_H
#define WFP_RSV_H

#include <stddef.h>
#include <stdint.h>

#define WFP_RSV_FILE_MAX	 65536 /* bytes of a reservation file */
#define WFP_CLASS_FILE_MAX	 65536 /* bytes of a class file */
#define WFP_RSV_ITEMS_MAX	 256   /* items in one reservation, subs too */
#define WFP_RSV_SUBS_MAX	 64    /* sub-reservations in all */
#define WFP_RSV_DEPTH_MAX	 8     /* nesting of sub-reservations */
#define WFP_RSV_ID_MAX		 41    /* ids: 1..40 of A-Za-z0-9_- */
#define WFP_RSV_NAME_MAX	 64    /* 1..63 of A-Za-z0-9_.- */
#define WFP_RSV_ITEM_NAME_MAX	 48    /* 1..47 of A-Za-z0-9_- */
#define WFP_POOL_NAME_MAX	 64    /* 1..63 of A-Za-z0-9_.- */
#define WFP_CLASS_NAME_MAX	 64    /* 1..63 of A-Za-z0-9_- */
#define WFP_RSV_AMOUNT_MAX	 1000000000000LL    /* amount: 1.. */
#define WFP_POOL_CAPACITY_MAX	 1000000000000000LL /* capacity: 0.. */
#define WFP_RSV_TTL_MAX_MS	 604800000LL	    /* ttl_ms: 1..; a week */
#define WFP_RSV_TTL_DEFAULT_MS	 600000LL
#define WFP_RSV_ARGS_MAX	 64 /* keys of one item's args */
#define WFP_RSV_ATTEMPTS_DEFAULT 3  /* max_attempts of the fulfilment job */
#define WFP_RSV_PLAN_MAX                                                       \
	(256 * 1024) /* bytes of a plan (the                                   \
			 fulfilment payload, which                             \
			 holds more, is at most                                \
			 WFP_PAYLOAD_MAX) */

/* The steps of an item: the three that make it and the undo ones. */
enum wfp_rsv_step {
	WFP_RSV_RESERVE,     /* take the resource (fulfilment) */
	WFP_RSV_CONFIGURE,   /* configure it (fulfilment) */
	WFP_RSV_ACQUIRE,     /* hand it over / power it on (fulfilment) */
	WFP_RSV_DESTROY,     /* undo everything at once (destroy classes) */
	WFP_RSV_POWEROFF,    /* undo acquire */
	WFP_RSV_UNCONFIGURE, /* undo configure */
	WFP_RSV_UNRESERVE,   /* undo reserve */
	WFP_RSV_STEPS,	     /* count */
};

/* How far an item is made. */
enum wfp_rsv_phase {
	WFP_RSV_NONE,	    /* nothing applied (yet, or any more) */
	WFP_RSV_RESERVED,   /* reserve applied */
	WFP_RSV_CONFIGURED, /* configure applied too */
	WFP_RSV_ACQUIRED,   /* acquire applied too: ready */
};

/* The word of a step (reserve, configure...), NULL when out of range. */
const char *wfp_rsv_step_word(int step);

/* The step of a word, or -1. */
int wfp_rsv_step_parse(const char *word);

/* The word of a phase (none, reserved, configured, acquired), NULL when
 * out of range. */
const char *wfp_rsv_phase_word(int phase);

/* The phase of a word, or -1. */
int wfp_rsv_phase_parse(const char *word);

/* Checks a reservation id (1..40 of A-Za-z0-9_-): 0, or -1 with err. */
int wfp_rsv_check_id(const char *id, char *err, size_t errlen);

/* Checks a pool name (1..63 of A-Za-z0-9_.-): 0, or -1 with err. */
int wfp_pool_check_name(const char *name, char *err, size_t errlen);

struct wfp_rsv_item {
	char name[WFP_RSV_ITEM_NAME_MAX];
	char pool[WFP_POOL_NAME_MAX];
	char cls[WFP_CLASS_NAME_MAX];
	char sub[WFP_RSV_NAME_MAX]; /* its sub-reservation's name, "" top */
	int64_t amount;		    /* 1..WFP_RSV_AMOUNT_MAX */
	char *args;		    /* compact JSON object text, "{}" none */
	char *act[WFP_RSV_STEPS];   /* compact JSON action text (an argv
				       array or a plugin object), NULL when
				       the class has none (or unresolved) */
	int64_t timeout_ms;	    /* class's, 0: none */
	int attempts;		    /* class's retry.attempts, 1 */
	int64_t backoff_ms;	    /* class's retry.backoff_ms, 0 */
};

/* Capacity a reservation takes of one pool. */
struct wfp_rsv_need {
	char pool[WFP_POOL_NAME_MAX];
	int64_t amount; /* summed over its items */
};

struct wfp_rsv {
	char name[WFP_RSV_NAME_MAX];
	int64_t ttl_ms;	  /* 1..WFP_RSV_TTL_MAX_MS */
	int max_attempts; /* of the fulfilment job */
	struct wfp_rsv_item *items;
	int nitems;
	char (*subs)[WFP_RSV_NAME_MAX]; /* sub-reservation names */
	int *sub_parent;		/* parent sub of each, -1 the top */
	int nsubs;
	struct wfp_rsv_need *needs;
	int nneeds;
};

/*
 * Parses a reservation file (text, len bytes; at most WFP_RSV_FILE_MAX).
 * Classes are named, not loaded (act[] NULL): see wfp_rsv_resolve.
 * Pools are not checked to exist (the service does). Returns 0 with *out
 * (free with wfp_rsv_free), or -1 with err and *out NULL.
 */
int wfp_rsv_parse(const char *text, size_t len, struct wfp_rsv **out, char *err,
		  size_t errlen);

/*
 * Loads the class file classes_dir/NAME.json of each distinct class once
 * (a regular file, at most WFP_CLASS_FILE_MAX bytes) and fills every
 * item's actions, timeout and retry. Returns 0, or -1 with err
 * ("class 'vm': no file vm.json in DIR", or the class parser's message).
 */
int wfp_rsv_resolve(struct wfp_rsv *r, const char *classes_dir, char *err,
		    size_t errlen);

/*
 * Parses the class file text (len bytes) of class name into into's
 * act[], timeout_ms, attempts and backoff_ms (other fields untouched;
 * old actions freed). Returns 0, or -1 with err ("class 'vm' (vm.json):
 * ...") and into's actions unchanged.
 */
int wfp_rsv_class_parse(const char *name, const char *text, size_t len,
			struct wfp_rsv_item *into, char *err, size_t errlen);

/* The plan of a resolved reservation: malloc'd JSON text (the caller
 * frees it), NULL when memory runs out. */
char *wfp_rsv_plan(const struct wfp_rsv *r);

/* Parses a plan (wfp_rsv_plan's text) back: 0 with *out, or -1 with err
 * and *out NULL. */
int wfp_rsv_plan_parse(const char *text, size_t len, struct wfp_rsv **out,
		       char *err, size_t errlen);

/*
 * The payload of the fulfilment job ID.fulfil of resolved reservation r
 * with id: {"inputs": {"rsv_id", "rsv_name"}, "workflow": ...}, checked
 * with the workflow parser and against WFP_PAYLOAD_MAX. Each item is a
 * graph [reserve, configure after reserve, acquire after reserve and
 * configure]: every step's direct deps are all of its item's earlier
 * steps, so it and its revert see their outputs above other items'
 * (configure's over reserve's). Returns malloc'd
 * text (the caller frees it), or NULL with err.
 */
char *wfp_rsv_fulfil_payload(const struct wfp_rsv *r, const char *id, char *err,
			     size_t errlen);

/* What the job logs say of one item. */
struct wfp_rsv_item_state {
	int phase;	 /* enum wfp_rsv_phase now */
	int reached;	 /* furthest phase ever applied */
	unsigned undone; /* bit (1u << step) per undo step that ran: a
			    fulfilment revert logged `reverted`, or a
			    teardown task logged `applied` */
	int running;	 /* step running now (`running`; for `reverting`
			    the undo step), or -1 */
	int failed;	 /* step that failed for good: an apply
			    (`apply-failed` final, not a step that never
			    ran) or the undo step of a `revert-failed`
			    final; -1 none. Kept through the reverts that
			    follow; cleared when that same step later runs
			    or applies (a retried fulfilment or teardown) */
	char *outputs;	 /* merged outputs of its applied fulfilment steps
			    (JSON object text, later win) or NULL */
};

/* One state per item of r, all phase none; NULL when memory runs out.
 * Free with wfp_rsv_progress_free. */
struct wfp_rsv_item_state *wfp_rsv_progress_new(const struct wfp_rsv *r);

/*
 * Feeds one task log entry (task "ITEM.STEP", state word, final, outputs
 * JSON object text or NULL, error text or NULL) of the fulfilment job
 * (teardown 0) or of a teardown job (teardown 1) into st, in log order.
 * Entries of tasks that are no item's step of that kind of job are
 * ignored. An `apply-failed` whose error is WFP_WF_NOT_RUN_ERROR (the
 * step never ran) ends its running without a failure; a `running` or
 * `reverting` entry of the step held as failed clears it (an earlier job
 * failed it, this one runs it again).
 */
void wfp_rsv_progress_feed(const struct wfp_rsv *r,
			   struct wfp_rsv_item_state *st, int teardown,
			   const char *task, const char *state, int final,
			   const char *outputs, const char *error);

/* Frees st (NULL is fine). */
void wfp_rsv_progress_free(const struct wfp_rsv *r,
			   struct wfp_rsv_item_state *st);

/*
 * The payload of a teardown job of r with id: for every item whose phase
 * in st is not none, its undo steps from its phase down (st NULL: every
 * item counts as acquired); the item's recorded outputs reach its tasks
 * below its args. Returns malloc'd text, or NULL with err.
 */
char *wfp_rsv_teardown_payload(const struct wfp_rsv *r, const char *id,
			       const struct wfp_rsv_item_state *st, char *err,
			       size_t errlen);

/* Frees r and everything it holds (NULL is fine). */
void wfp_rsv_free(struct wfp_rsv *r);

#endif
