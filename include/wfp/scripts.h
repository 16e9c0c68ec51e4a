/*
 * scripts.h - the Lua scripts, ready to send.
 *
 * Each script's text is the job state table (from job.c), the shared
 * constants (WFP_REPLY_TTL_MS), lib.lua, for
 * the lock scripts locklib.lua, and the script's own file, joined once at first
 * use (the request server's own scripts, request_add, reply, takeover and
 * reclaim, get only the constants: they are on every request's path); its
 * SHA-1 is what EVALSHA names. Every script but the bare ones is also a
 * function of one library (wfp_script_library: the prelude runs once when
 * Redis loads it, not on every call). Callers send FCALL (EVALSHA for a
 * bare script); on a missing function (a restarted or flushed Redis) they
 * load the library and send the full text with EVAL, as after a NOSCRIPT
 * error. Every script takes ARGV[1] = the hash tag "{prefix}".
 */
#ifndef WFP_SCRIPTS_H
#define WFP_SCRIPTS_H

#include <stddef.h>

enum wfp_script_id {
	WFP_LUA_POST,	       /* post.lua */
	WFP_LUA_CLAIM,	       /* claim.lua */
	WFP_LUA_HEARTBEAT,     /* heartbeat.lua */
	WFP_LUA_FINISH,	       /* finish.lua */
	WFP_LUA_REAP,	       /* reap.lua */
	WFP_LUA_TRANSFER,      /* transfer.lua */
	WFP_LUA_REPOST,	       /* repost.lua */
	WFP_LUA_CLEANUP,       /* cleanup.lua */
	WFP_LUA_DEADLETTER,    /* deadletter.lua */
	WFP_LUA_LOCK_ACQUIRE,  /* lock_acquire.lua (with locklib.lua) */
	WFP_LUA_LOCK_RELEASE,  /* lock_release.lua (with locklib.lua) */
	WFP_LUA_LOCK_RENEW,    /* lock_renew.lua (with locklib.lua) */
	WFP_LUA_LOCK_TICK,     /* lock_tick.lua (with locklib.lua) */
	WFP_LUA_FENCE_CHECK,   /* fence_check.lua */
	WFP_LUA_REQUEST_ADD,   /* request_add.lua: a capped request XADD */
	WFP_LUA_REPLY,	       /* reply.lua: LPUSH + PEXPIRE of a reply */
	WFP_LUA_TAKEOVER,      /* takeover.lua: other replicas' requests */
	WFP_LUA_RECLAIM,       /* reclaim.lua: this replica's lost requests */
	WFP_LUA_CANCEL,	       /* cancel.lua: an operator cancels a job */
	WFP_LUA_LOG_APPEND,    /* log_append.lua: task log entries + lease */
	WFP_LUA_POOL_SET,      /* pool_set.lua: create a pool / set capacity */
	WFP_LUA_RSV_CREATE,    /* rsv_create.lua: capacity + fulfilment job */
	WFP_LUA_RSV_RELEASE,   /* rsv_release.lua: teardown job or cancel */
	WFP_LUA_RSV_RECONCILE, /* rsv_reconcile.lua: state from its jobs */
	WFP_LUA_RSV_EXPIRE,    /* rsv_expire.lua: pending past their TTL */
	WFP_LUA_RSV_CLEANUP,   /* rsv_cleanup.lua: ended past retention */
	WFP_LUA_COUNT
};

struct wfp_script {
	const char *name; /* file name without .lua */
	const char *text; /* full text sent with EVAL */
	size_t len;
	char sha[41]; /* SHA-1 of text, for EVALSHA */
	/* FCALL name: wfp_<hash>_<name> in the library, or "" for the bare
	 * scripts, which are sent with EVALSHA only. */
	char fname[48];
};

#define WFP_LIBRARY_PREFIX   "wfp_"
#define WFP_LIBRARY_HASH_LEN 12 /* hex digits of the library's SHA-1 */

/* The function library: every script but the bare ones, as functions
 * wfp_<hash>_<script> of one library wfp_<hash> (the prelude, lib.lua and
 * locklib.lua run once when Redis loads it, not on every call). hash is
 * the start of the SHA-1 of the text, so two builds with different
 * scripts load side by side and never replace each other's code. */
struct wfp_script_library {
	char hash[WFP_LIBRARY_HASH_LEN + 1];
	char name[sizeof(WFP_LIBRARY_PREFIX) + WFP_LIBRARY_HASH_LEN];
	const char *text; /* sent with FUNCTION LOAD */
	size_t len;
};

/* The library, built on first call (as wfp_script). */
const struct wfp_script_library *wfp_script_library(void);

/* The script id; built on first call (aborts if memory runs out). The
 * result lives until exit. Not thread-safe on its first call. */
const struct wfp_script *wfp_script(enum wfp_script_id id);

/* How long an unread reply list lives; rendered into every script's
 * prelude as REPLY_TTL_MS, so scripts and services agree. */
#define WFP_REPLY_TTL_MS 60000

/* Largest `limit` of a reaper or cleaner pass (the scripts refuse more). */
#define WFP_SCRIPT_SCAN_MAX 10000

/* Largest fence a script hands out or accepts: 2^53 - 1, the last integer
 * a Lua double holds exactly (fences are the clock in us: ~1.7e15). */
#define WFP_FENCE_MAX 9007199254740991LL

/* Longest reason of a dead-lettered request, bytes. */
#define WFP_DEADLETTER_REASON_MAX 1024

/* The task log (log_append.lua): entries in one call (8 words each, so a
 * call stays within WFP_SCRIPT_ARGS_MAX), bytes of an entry's outputs
 * (a JSON object) and of each stdout/stderr tail, the largest attempt
 * number, and a task name's length (1..63, as workflow.h's
 * WFP_TASK_NAME_MAX - 1). */
#define WFP_LOG_BATCH_MAX   64
#define WFP_LOG_OUTPUTS_MAX 65536
#define WFP_LOG_TAIL_MAX    65536
#define WFP_LOG_ATTEMPT_MAX 1000000
#define WFP_LOG_TASK_MAX    63

/* The size of one job's task log, over all its runs (log_append.lua
 * refuses with LOGFULL): no task's apply starts (a `running` entry) once
 * the log would pass WFP_LOG_ENTRIES_MAX entries or WFP_LOG_BYTES_MAX
 * bytes (every field name and value counted, kept in the job hash's
 * log_bytes); nothing is written past those plus the reserves, which
 * leave room for the rollback that follows (a reverting and a reverted
 * entry for each of WFP_WF_TASKS_MAX tasks, scripts.c checks). */
#define WFP_LOG_ENTRIES_MAX	100000
#define WFP_LOG_ENTRIES_RESERVE 25000
#define WFP_LOG_BYTES_MAX	(64LL * 1024 * 1024)
#define WFP_LOG_BYTES_RESERVE	(64LL * 1024 * 1024)

/* Words in one script call: FCALL name numkeys, then the keys and
 * arguments. The largest calls: an rsv_reconcile of
 * WFP_RSV_RECONCILE_PAIRS_MAX pairs (3 + 4 + 400), a full rsv_create
 * (3 + 11 + 2 per pool + 1 per item: at most 3 + 11 + 3 * 256) and a
 * full log_append (3 + 8 + 8 * WFP_LOG_BATCH_MAX); scripts.c checks each.
 * A struct wfp_script_call is 16 bytes a word (~24 KiB). */
#define WFP_SCRIPT_ARGS_MAX (3 + 4 + 6 * 256)

/* Field/value pairs in one rsv_reconcile call. The script takes up to 4
 * per item (item:, undo:, failed:, out:), 1,024 for WFP_RSV_ITEMS_MAX
 * items, more than one call holds: a caller with more sends them over
 * several calls of at most this many (wfp-reservation does, and splits
 * by bytes too), each call moving the reservation as its jobs say. */
#define WFP_RSV_RECONCILE_PAIRS_MAX 200

/* Retention of a fulfilment job the reservation scripts cancel at once
 * when the caller gives none (config.c's default WFP_RETENTION_MS). */
#define WFP_SCRIPT_RETENTION_DEFAULT_MS (7LL * 24 * 3600 * 1000)

#define WFP_PRELUDE_MAX 4096 /* bytes of the rendered prelude */

/*
 * Writes the shared constants as Lua into out (size n): REPLY_TTL_MS and
 * the table LIMIT of the C limits the scripts enforce (lengths in bytes
 * as the largest allowed: LIMIT.ID = WFP_ID_MAX - 1). Returns the length
 * written, or -1 when out is too small.
 */
int wfp_script_limits_lua(char *out, size_t n);

/*
 * For tests and tools: the text of a script made of the usual prelude
 * (NEXT, LIMIT, lib.lua) and body. Returns it malloc'd (the caller frees
 * it) with its length in *len; aborts when memory runs out.
 */
char *wfp_script_with_body(const char *body, size_t *len);

/* The words of one script call: FCALL name numkeys args... (EVALSHA sha
 * for a bare script), or after wfp_script_call_evalsha() EVALSHA, or
 * after wfp_script_call_eval() EVAL text numkeys args... */
struct wfp_script_call {
	const char *argv[WFP_SCRIPT_ARGS_MAX];
	size_t lens[WFP_SCRIPT_ARGS_MAX];
	int argc;
	char nkeys[16];
};

/*
 * Fills call with FCALL (or EVALSHA) of script id, nkeys keys then args
 * (argv[i] of lens[i] bytes, or strlen when lens is NULL). The strings are
 * borrowed. Returns 0, or -1 when there are more than WFP_SCRIPT_ARGS_MAX
 * words.
 */
int wfp_script_call_init(struct wfp_script_call *call, enum wfp_script_id id,
			 int nkeys, int argc, const char **argv,
			 const size_t *lens);

/* Turns call into the EVAL of the script's full text (after NOSCRIPT). */
void wfp_script_call_eval(struct wfp_script_call *call, enum wfp_script_id id);

/* Turns call into EVALSHA (when the library cannot be loaded). */
void wfp_script_call_evalsha(struct wfp_script_call *call,
			     enum wfp_script_id id);

/* 1 when msg is Redis's reply to an FCALL of a function it does not have
 * (a restarted or flushed Redis, or one that never had this library): load
 * the library; 2 when the user may not run FCALL (ACL): send EVALSHA;
 * else 0. */
int wfp_script_error_no_function(const char *msg);

/* Strips the " script: ..." suffix Redis adds to errors raised by
 * scripts, in place. */
void wfp_script_error_trim(char *msg);

#endif
