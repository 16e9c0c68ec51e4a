/*
 * client.h - the C client library: post, claim, heartbeat and finish jobs,
 * read the board, and send requests to a service.
 *
 * A wfp_client holds one blocking connection to Redis (hiredis) and is not
 * thread-safe: use one per thread or process. It reconnects on the next
 * call after a broken connection. Every int function returns 0 on success
 * and -1 on failure with a one-line reason in wfp_client_error(); a
 * refusal by a script starts with its code word:
 *   NOJOB  the job does not exist
 *   STALE  the token or fence is not the current owner's (claim lost)
 *   STATE  the job's state does not allow the operation
 *   EXISTS a job with this id exists already
 *   BADARG a script refused an argument out of form (nothing changed)
 * Hot-path calls (post, claim, heartbeat, finish) run the job board's own
 * scripts directly: the rules stay in the scripts either way.
 */
#ifndef WFP_CLIENT_H
#define WFP_CLIENT_H

#include <hiredis/hiredis.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "wfp/codec.h"
#include "wfp/config.h"
#include "wfp/job.h"
#include "wfp/scripts.h"

/* Limits, enforced by the client, the CLI and the service alike. */
#define WFP_ID_MAX		 64  /* job id: 1..63 of [A-Za-z0-9_.-] */
#define WFP_NAME_MAX		 128 /* job name, owner name: 1..127 bytes */
#define WFP_TOKEN_MAX		 80  /* owner token */
#define WFP_PAYLOAD_MAX		 (256 * 1024) /* job payload, bytes of JSON */
#define WFP_PAYLOAD_DEPTH_MAX	 512  /* nesting of arrays and objects in it */
#define WFP_REASON_MAX		 1024 /* failure reason */
#define WFP_IDEM_KEY_MAX	 128  /* idempotency key */
#define WFP_MAX_ATTEMPTS_LIMIT	 1000 /* max_attempts of one job */
#define WFP_DEFAULT_MAX_ATTEMPTS 3
#define WFP_IDEM_TTL_DEFAULT_MS	 86400000LL /* one day */
#define WFP_IDEM_TTL_MAX_MS	 (30LL * 86400000LL)
#define WFP_CLAIM_BATCH_MAX	 256 /* jobs in one claim call */
#define WFP_LEASE_MIN_MS	 100 /* visibility_ms of a claim or heartbeat */
#define WFP_LEASE_MAX_MS	 86400000LL    /* one day */
#define WFP_RETENTION_MAX_MS	 31536000000LL /* a year */
#define WFP_REQUEST_ID_MAX	 42	       /* a stream entry id "ms-seq" */
/* A cancel's reason: a cancelled job's error "cancelled: REASON" stays
 * within WFP_REASON_MAX. */
#define WFP_CANCEL_REASON_MAX (WFP_REASON_MAX - 11)

/* Requests to services (wfp_request): the longest a client may wait for a
 * reply (a lock wait of up to one hour plus margin), and the most entries
 * a request stream may hold before clients are refused with FULL. */
#define WFP_REQUEST_TIMEOUT_MAX_MS (70LL * 60 * 1000)
#define WFP_REQUEST_STREAM_MAX	   100000

struct wfp_client;

/* The fields of a job file and of a post request (NULL-terminated). */
extern const char *const wfp_post_fields[];

/* A job to post. id NULL or "" makes a random one. */
struct wfp_post {
	const char *id;
	const char *name;
	const char *payload;  /* a JSON object as text; NULL means "{}" */
	int64_t max_attempts; /* 1..WFP_MAX_ATTEMPTS_LIMIT */
	const char *idem_key; /* NULL or "": none */
	int64_t idem_ttl_ms;  /* how long the key dedups posts */
};

/* One claimed job. payload is owned by the claim (see wfp_claims_release). */
struct wfp_claim {
	char id[WFP_ID_MAX];
	char token[WFP_TOKEN_MAX];
	int64_t fence;
	int64_t attempts;
	int64_t max_attempts;
	char name[WFP_NAME_MAX];
	char *payload;
};

/*
 * Connects to cfg->redis (cfg is copied). Returns the client, or NULL with
 * the reason in err when Redis cannot be reached.
 */
struct wfp_client *wfp_client_new(const struct wfp_config *cfg, char *err,
				  size_t errlen);

/* Closes the connection and frees c (NULL is fine). */
void wfp_client_free(struct wfp_client *c);

/* The reason of the last failure ("" when none). Valid until the next call. */
const char *wfp_client_error(const struct wfp_client *c);

/* Sets the reason wfp_client_error() returns (for library extensions). */
void wfp_client_set_error(struct wfp_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The hash tag "{prefix}" all keys start with. */
const char *wfp_client_tag(const struct wfp_client *c);

/* The configuration the client was made with. */
const struct wfp_config *wfp_client_config(const struct wfp_client *c);

/*
 * Runs one command. Returns the reply (the caller frees it with
 * freeReplyObject), or NULL on a connection failure or an error reply,
 * with the reason in wfp_client_error().
 */
redisReply *wfp_client_command(struct wfp_client *c, int argc,
			       const char **argv, const size_t *lens);

/* Like wfp_client_command for a printf-style command without user data. */
redisReply *wfp_client_commandf(struct wfp_client *c, const char *fmt, ...);

/*
 * Runs script id with nkeys keys followed by args (argv excludes the
 * script and numkeys; ARGV[1] must be the tag). FCALL; on a missing
 * function FUNCTION LOAD and FCALL again (EVAL when it cannot be loaded);
 * EVALSHA then EVAL on NOSCRIPT once FCALL is refused (ACL). Returns the
 * reply or NULL as wfp_client_command does.
 */
redisReply *wfp_client_eval(struct wfp_client *c, enum wfp_script_id id,
			    int nkeys, int argc, const char **argv,
			    const size_t *lens);

/* Checks a job id (1..63 of A-Z a-z 0-9 _ . -). Returns 0 or -1 with err. */
int wfp_check_id(const char *what, const char *id, char *err, size_t errlen);

/*
 * Checks text (a name, owner, idempotency key, reason): 1..max-1 bytes of
 * valid UTF-8 without control characters (see wfp_text_ok). what names
 * it in the message. Returns 0 or -1 with err.
 */
int wfp_check_text(const char *what, const char *s, size_t max, char *err,
		   size_t errlen);

/* Checks a name or owner: wfp_check_text with WFP_NAME_MAX. */
int wfp_check_name(const char *what, const char *name, char *err,
		   size_t errlen);

/* Checks an owner token: 1..WFP_TOKEN_MAX-1 of A-Z a-z 0-9 _ . - */
int wfp_check_token(const char *token, char *err, size_t errlen);

/* Checks a failure reason: NULL or "" (none), else wfp_check_text with
 * WFP_REASON_MAX. Returns 0 or -1 with err. */
int wfp_check_reason(const char *reason, char *err, size_t errlen);

/* Checks a payload: at most WFP_PAYLOAD_MAX bytes of JSON (valid UTF-8,
 * no repeated key, no \u0000, at most WFP_PAYLOAD_DEPTH_MAX levels of
 * nesting) whose top value is an object: what post.lua accepts. Returns 0
 * or -1. */
int wfp_check_payload(const char *payload, char *err, size_t errlen);

/*
 * The one check of a job document, used by the client library's post, the
 * board's post handler and the CLI: every field of p against the limits,
 * the name and idempotency key as text, the payload a JSON object whose
 * workflow, if any, passes wfp_workflow_check (wfp/workflow.h).
 * Returns 0 or -1 with err.
 */
int wfp_post_check(const struct wfp_post *p, char *err, size_t errlen);

/*
 * Posts p directly with the board's script. Writes the job's id into
 * id_out; *created is 0 when the idempotency key returned an earlier job.
 */
int wfp_job_post(struct wfp_client *c, const struct wfp_post *p,
		 char id_out[WFP_ID_MAX], int *created);

/*
 * Claims up to max jobs for owner with a lease of visibility_ms. When none
 * is posted and wait_ms > 0, blocks until one is or wait_ms passes.
 * Fills out[0..*n); *n may be 0. The caller releases the claims.
 */
int wfp_job_claim(struct wfp_client *c, const char *owner, int max,
		  int64_t visibility_ms, int64_t wait_ms, struct wfp_claim *out,
		  int *n);

/* Frees the payloads of claims[0..n). */
void wfp_claims_release(struct wfp_claim *claims, int n);

/* Extends the lease of job id held with token; *lease_until gets its end. */
int wfp_job_heartbeat(struct wfp_client *c, const char *id, const char *token,
		      int64_t visibility_ms, int64_t *lease_until);

/*
 * Ends the owner's attempt: op is WFP_OP_COMPLETE, WFP_OP_REVERT,
 * WFP_OP_FAIL, WFP_OP_RETRY (back on the board while attempts remain,
 * else dead) or WFP_OP_RELEASE (back on the board, the attempt not
 * counted: the owner hands back a claim it never started). fence 0 skips the
 * fence check. state_out (may be NULL, 16 bytes) gets the job's new state word.
 */
int wfp_job_finish(struct wfp_client *c, const char *id, const char *token,
		   int64_t fence, enum wfp_job_op op, const char *reason,
		   char *state_out);

/*
 * Cancels job id through wfp-jobboard (request op "cancel", waiting up to
 * the client's timeout_ms): a posted job nothing ran of is reverted at
 * once (error "cancelled: REASON"); a claimed job (or a posted one whose
 * current run applied tasks) keeps its state and gets the fields cancel
 * and cancel_at, which its executor reads and then rolls back. reason may
 * be NULL or "" (none) or text of at most WFP_CANCEL_REASON_MAX - 1
 * bytes. state_out (may be NULL, 16 bytes) gets the state after:
 * "reverted", "claimed" or "posted". A final job is refused with STATE,
 * an unknown one with NOJOB.
 */
int wfp_job_cancel(struct wfp_client *c, const char *id, const char *reason,
		   char *state_out);

/*
 * Reads job id's hash. Returns the HGETALL reply (caller frees), or NULL
 * with "NOJOB ..." when there is no such job, or on failure.
 */
redisReply *wfp_job_fields(struct wfp_client *c, const char *id);

/*
 * Sends op with a msgpack map body to service's request stream and waits
 * up to timeout_ms (1..WFP_REQUEST_TIMEOUT_MAX_MS) for its reply, decoded
 * into reply (the caller calls wfp_msg_destroy after a 0 return). A reply
 * {ok: false, error: ...} returns -1 with that error. The entry carries
 * timeout_ms; its deadline is the entry id's time + timeout_ms on Redis's
 * clock, and the wait is counted from after the add, so the client never
 * gives up before that deadline; a request not served by then is dropped
 * by the service, never applied later. Errors: "FULL request stream of
 * wfp-SERVICE holds N requests: ..." when the stream holds
 * WFP_REQUEST_STREAM_MAX entries; "no reply from wfp-SERVICE within N ms
 * ..."; "redis unavailable: ..." for BUSY, LOADING, READONLY, OOM... (the
 * request may or may not have been added: retry later).
 */
int wfp_request(struct wfp_client *c, const char *service, const char *op,
		const char *body, size_t body_len, int64_t timeout_ms,
		struct wfp_msg *reply);

#endif
