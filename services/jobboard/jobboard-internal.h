/*
 * jobboard-internal.h - the job-board daemon's parts.
 *
 * jobboard.c has the handlers of the request stream
 * {prefix}:svc:jobboard:requests (post, transfer, repost,
 * cancel), runs the reaper (reap.lua at each lease's end, through a
 * lease watch, common/lease.c) and the retention cleaner on the service's
 * tick;
 * common/service.c reads the stream and dead-letters unreadable requests.
 * main.c reads the configuration and hands over.
 */
#ifndef WFP_JOBBOARD_INTERNAL_H
#define WFP_JOBBOARD_INTERNAL_H

#include <msgpack.h>
#include <stddef.h>

#include "wfp/daemon.h"

struct jobboard;

/* Sets up the board on d's loop. Returns NULL on failure (logged). */
struct jobboard *jobboard_new(struct wfp_daemon *d);

/* Exit status the daemon should return (non-zero after a refusal to run). */
int jobboard_exit_code(const struct jobboard *jb);

void jobboard_free(struct jobboard *jb);

/*
 * Checks a decoded post body (pure: no I/O). Fills the post fields, with
 * strings copied into the caller's buffers. Returns 0 or -1 with err.
 */
struct jobboard_post {
	char id[64];
	char name[128];
	char idem[128];
	char *payload; /* malloc'd JSON text; the caller frees it */
	long long max_attempts;
	long long idem_ttl_ms;
};
int jobboard_parse_post(const msgpack_object *body, struct jobboard_post *p,
			char *err, size_t errlen);

/*
 * Checks a transfer (with_to 1: {id, to}) or repost (with_to 0: {id}) body
 * (pure). Copies the job id into id (WFP_ID_MAX bytes) and the owner into
 * to (WFP_NAME_MAX bytes, "" back to the board). Returns 0 or -1 with err.
 */
int jobboard_parse_job_op(const msgpack_object *body, int with_to, char *id,
			  char *to, char *err, size_t errlen);

/*
 * Checks a cancel body {id, reason} (pure). Copies the job id into id
 * (WFP_ID_MAX bytes) and the reason into reason (WFP_CANCEL_REASON_MAX
 * bytes, "" none). Returns 0 or -1 with err.
 */
int jobboard_parse_cancel(const msgpack_object *body, char *id, char *reason,
			  char *err, size_t errlen);

#endif
