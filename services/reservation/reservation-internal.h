/*
 * reservation-internal.h - the reservation daemon's parts.
 *
 * reservation.c serves {prefix}:svc:reservation:requests (create,
 * release, pool_set), runs the expiry watch over the expiry zset
 * (rsv_expire.lua) and sweeps the open set on the tick. reconcile.c
 * reads job endings from {prefix}:events on a link of its own and
 * reconciles a reservation with its jobs: the item phases from the jobs'
 * task logs (wfp_rsv_progress_*), then rsv_reconcile.lua, and a teardown
 * (rsv_release.lua) when an expired reservation's fulfilment completed.
 * The rules live in the scripts (common/lua/rsv_*.lua).
 */
#ifndef WFP_RESERVATION_INTERNAL_H
#define WFP_RESERVATION_INTERNAL_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "wfp/daemon.h"
#include "wfp/keys.h"
#include "wfp/lease.h"
#include "wfp/metrics.h"
#include "wfp/redis.h"
#include "wfp/rsv.h"
#include "wfp/scripts.h"
#include "wfp/service.h"
#include "wfp/task.h"

#define RSVD_SERVICE "reservation"

/* Reconciles one replica runs at once; more wait for the sweep. */
#define RSVD_RECONCILE_MAX 64
/* Reservations waiting for a reconcile slot (job ends that came while
 * every slot was busy); past this, the sweep comes back to them. */
#define RSVD_QUEUE_MAX 4096

/* Entries of a task log read per XRANGE. */
#define RSVD_LOG_PAGE 256

/* Task-log entries of one job read at most (a guard against a log that
 * never ends); a job's log is far shorter. */
#define RSVD_LOG_ENTRIES_MAX 1000000

/* item:/undo:/failed:/out: pairs in one rsv_reconcile.lua call (a call
 * stays within WFP_SCRIPT_ARGS_MAX words). */
#define RSVD_FIELDS_PER_CALL 200

/* Bytes of field values in one rsv_reconcile.lua call (more go in the
 * next call; one pair always goes): keeps each call short. */
#define RSVD_CALL_BYTES_MAX (1024 * 1024)

/* Bytes of one item's merged outputs kept in its out:NAME field (the
 * script's bound, LIMIT.LOG_OUTPUTS, is the same). */
#define RSVD_OUT_MAX WFP_TASK_OUTPUTS_MAX

/* Reservations removed per retention pass (rsv_cleanup.lua). */
#define RSVD_CLEAN_LIMIT 200

struct rsvd_slot {
	char id[WFP_RSV_ID_MAX];
	int busy;	 /* a reconcile of id is in flight */
	int again;	 /* asked again meanwhile: run once more after */
	int expiry_wait; /* its TTL is over: waits for the expiry pass */
};

struct rsvd {
	struct wfp_daemon *d;
	struct wfp_service *svc;
	char tag[WFP_TAG_MAX];
	int closing; /* being freed: callbacks only free their state */
	/* The events link (blocking XREAD). */
	struct wfp_redis *ev;
	char ev_last[64]; /* last event id read; "" until known */
	int ev_reading;	  /* an XREAD (or the first XREVRANGE) in flight */
	/* The sweep of the open set. */
	int64_t sweep_at_ms; /* monotonic: next sweep */
	int64_t sweep_rank;  /* where the next sweep pass starts */
	int sweeping;	     /* a sweep ZRANGE in flight */
	struct rsvd_slot slots[RSVD_RECONCILE_MAX];
	char queue[RSVD_QUEUE_MAX][WFP_RSV_ID_MAX]; /* a ring of ids */
	int queue_head, queue_len;
	/* Expiry of pending reservations. */
	struct wfp_lease_watch *expiry;
	int64_t pass_warned_ms; /* monotonic: last "expiry pass refused" */
	struct wfp_metric *m_created, *m_active, *m_failed, *m_expired,
	    *m_released, *m_refused, *m_returned, *m_cleaned;
	/* Retention of ended reservations (rsv_cleanup.lua). */
	int64_t clean_at_ms; /* monotonic: next pass */
	int cleaning;	     /* a pass in flight */
};

/* Key names (one place). */
struct wfp_key rsvd_key_rsv(const struct rsvd *rd, const char *id);
struct wfp_key rsvd_key_pool(const struct rsvd *rd, const char *name);

/* Sets up the reservation service on d's loop. Returns NULL on failure
 * (logged). */
struct rsvd *rsvd_new(struct wfp_daemon *d);

int rsvd_exit_code(const struct rsvd *rd);

void rsvd_free(struct rsvd *rd);

/* ---- request bodies (pure: no I/O; reservation.c) ---- */

/* A decoded create body {id, file}. */
struct rsvd_create {
	char id[WFP_RSV_ID_MAX];
	char *file; /* malloc'd copy of the reservation file (NUL ends it);
		       the caller frees it after a 0 return */
	size_t len; /* bytes of file, at most WFP_RSV_FILE_MAX */
};

/* Checks a create body: the id, and the file as a string of at most
 * WFP_RSV_FILE_MAX bytes (its parse is wfp_rsv_parse's). Returns 0, or
 * -1 with err (file NULL). */
int rsvd_parse_create(const msgpack_object *body, struct rsvd_create *c,
		      char *err, size_t errlen);

/* Checks a release body {id}; copies the id into id (WFP_RSV_ID_MAX
 * bytes). Returns 0 or -1 with err. */
int rsvd_parse_release(const msgpack_object *body, char *id, char *err,
		       size_t errlen);

/* Checks a pool_set body {name, capacity}; copies the name into name
 * (WFP_POOL_NAME_MAX bytes), the capacity into *capacity. Returns 0 or
 * -1 with err. */
int rsvd_parse_pool_set(const msgpack_object *body, char *name,
			int64_t *capacity, char *err, size_t errlen);

/* ---- reconcile.c ---- */

/* What a read of one reservation found (see rsvd_read_start). */
struct rsvd_read {
	struct rsvd *rd;
	char id[WFP_RSV_ID_MAX];
	int found; /* the rsv hash exists */
	char state[16];
	char job[WFP_ID_MAX];
	char release_job[WFP_ID_MAX];
	int releases;
	char **fields;	      /* the hash, as strdup'd name/value pairs */
	int nfields;	      /* pairs */
	struct wfp_rsv *plan; /* NULL when no plan parsed */
	struct wfp_rsv_item_state *prog; /* item phases, NULL unless computed */
	int logs_whole; /* 1: every job's log was there (outputs complete) */
	char
	    last_entry[64]; /* last entry read of the newest job's log, or "" */
	/* Internal: the jobs' walk. */
	int njobs, cur, missing_last;
	char (*jobs)[WFP_ID_MAX];
	char next_start[80];
	int64_t entries_read;
	int with_logs; /* compute phases from the logs */
	void (*done)(struct rsvd_read *rr, int ok);
	void *arg;
};

/*
 * Reads reservation id: its hash, then (with_logs) its jobs' states and
 * task logs into item phases. Calls done(rr, 1) when read (rr->found 0
 * when there is no such reservation) or done(rr, 0) when Redis failed;
 * done frees rr with rsvd_read_free. Returns 0, or -1 on no memory (done
 * is not called).
 */
int rsvd_read_start(struct rsvd *rd, const char *id, int with_logs,
		    void (*done)(struct rsvd_read *rr, int ok), void *arg);

void rsvd_read_free(struct rsvd_read *rr);

/* The value of hash field name as read, or NULL. */
const char *rsvd_read_field(const struct rsvd_read *rr, const char *name);

/* Reconciles reservation id with its jobs (deduplicated: one at a time
 * per id; a call while one runs makes it run once more after). */
void rsvd_reconcile(struct rsvd *rd, const char *id);

/* An expiry pass answered: the reconciles waiting for it run. */
void rsvd_expiry_passed(struct rsvd *rd);

/* An expiry pass failed (its reply lost or refused): the reconciles
 * waiting for it end; the sweep runs them again (a pass may never come:
 * another replica, or the lost pass itself, emptied the expiry set). */
void rsvd_expiry_failed(struct rsvd *rd);

/* Number of reconciles in flight. */
int rsvd_reconciling(const struct rsvd *rd);

/* The events link: start reading (after connect) and after each read. */
void rsvd_events_up(struct wfp_redis *r, void *arg);
void rsvd_events_read(struct rsvd *rd);

/* Asks for a sweep of the open set from its start at the next tick. */
void rsvd_sweep_soon(struct rsvd *rd);

#endif
