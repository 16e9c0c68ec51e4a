/*
 * cli.h - shared parts of the `wfp` command line.
 *
 * Rules: a command prints its result on stdout (one JSON value with
 * --json), and on failure one line "wfp: <reason>" on stderr, returning
 * the exit status. Exit statuses: 0 success, 1 failure (refused, not
 * found, Redis unreachable), 2 bad usage or input, 3 nothing happened in
 * time (no job to claim, wait ran out, a lock held: BUSY / TIMEOUT, no
 * reply from a service in time). Every argument is checked by the CLI
 * before anything is sent (exit 2); a refusal is classed by its code
 * word (cli_status_of), never by the words of its message.
 */
#ifndef WFP_CLI_H
#define WFP_CLI_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <msgpack.h>

#include "wfp/client.h"
#include "wfp/config.h"
#include "wfp/keys.h"
#include "wfp/lock.h"

/* Positional arguments: noun, verb and up to WFP_LOCK_MULTI_MAX lock
 * names, and one more so that a 17th name is refused by its rule. */
#define CLI_MAX_POS	   (3 + WFP_LOCK_MULTI_MAX)
#define CLI_MAX_OPTS	   8
#define CLI_TIMEOUT_MAX_MS 86400000LL /* wait, watch --timeout: a day */

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOTHING = 3 };

/* A parsed command line. */
struct cli {
	struct wfp_config cfg;
	int json; /* --json */
	int npos;
	const char *pos[CLI_MAX_POS]; /* noun, verb, arguments */
	int nopts;
	const char *opt_name[CLI_MAX_OPTS];  /* without "--" */
	const char *opt_value[CLI_MAX_OPTS]; /* NULL for a bare switch */
	struct wfp_client *client;	     /* connected on first use */
};

/* Prints "wfp: <message>" to stderr and returns status. */
int cli_error(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The exit status of a call that failed with reason why, by its code
 * word: BUSY, TIMEOUT (a lock held, a wait or a request's deadline ran
 * out) and "no reply from" a service are EXIT_NOTHING; BADARG (a script
 * refused the input) is EXIT_USAGE; anything else (STALE, NOJOB, STATE,
 * EXISTS, FULL, Redis unreachable or unavailable...) is EXIT_FAIL.
 */
int cli_status_of(const char *why);

/* Prints the client's last error and returns cli_status_of it. */
int cli_failed(struct wfp_client *cl);

/* Prints noun's usage ("" for every noun): on stdout and EXIT_OK when
 * status is EXIT_OK, else on stderr; returns status. */
int cli_usage(const char *noun, int status);

/* The client, connected on first use; NULL after printing why. */
struct wfp_client *cli_client(struct cli *c);

/* The value of option name, or NULL when absent. */
const char *cli_opt(const struct cli *c, const char *name);

/* Returns 1 when switch name (e.g. "board") was given. */
int cli_switch(const struct cli *c, const char *name);

/*
 * Checks that only the allowed options (NULL-terminated) were given and
 * that the positional count is in [min, max]. Returns 0 or prints why and
 * returns -1.
 */
int cli_expect(const struct cli *c, int min, int max,
	       const char *const *allowed, const char *usage);

/* Parses option name as an integer in [min, max] into out (unchanged when
 * absent). Returns 0 or prints why and returns -1. */
int cli_opt_int(const struct cli *c, const char *name, long long min,
		long long max, long long *out);

/*
 * Output checks. Output that cannot be encoded (a value that is not valid
 * UTF-8 cannot be JSON) or written (stdout full, closed) is an error,
 * never silence: the first reason is recorded, the command fails with
 * "wfp: cannot print the output: <reason>" and exit status 1.
 */

/* Records the reason the output failed (the first one is kept). */
void cli_output_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The recorded reason, or NULL while the output is fine. */
const char *cli_output_error(void);

/* Flushes stdout. Returns 0, or -1 when it failed or a reason was
 * recorded (nothing is printed on stderr). */
int cli_output_flush(void);

/* Prints "wfp: cannot print the output: <reason>[; <more>]" once (more may
 * be NULL). Returns EXIT_FAIL. */
int cli_output_report(const char *more);

/* At the end of a command: flushes stdout; on a failed output prints the
 * reason (once) and returns EXIT_FAIL in place of EXIT_OK; else rc. */
int cli_output_done(int rc);

/* The JSON string of s[0..n), or NULL with "<what> of '<of>' is not valid
 * UTF-8" recorded (of may be NULL). */
json_t *cli_json_str(const char *s, size_t n, const char *what, const char *of);

/*
 * The JSON string of s[0..n) for one entry of a listing (what, of: as for
 * cli_json_str). A value that is not valid UTF-8 does not fail the whole
 * listing: it is shown with U+FFFD in place of each bad byte, entry (when
 * not NULL) gets an "error" member saying so, and the command, having
 * printed everything, exits 1 with one line naming the first such value.
 */
json_t *cli_json_lossy(const char *s, size_t n, const char *what,
		       const char *of, json_t *entry);

/* Prints v as JSON with --json, else with text(v); frees v either way
 * (v may be NULL: a value could not be encoded). Returns EXIT_OK, or
 * EXIT_FAIL after printing why the output failed. */
int cli_emit(const struct cli *c, json_t *v, void (*text)(json_t *v));

/* Prints v (may be NULL) to stdout as compact JSON and a newline; steals
 * v. Returns 0, or -1 with the reason recorded (not printed). */
int cli_print_json(json_t *v);

/* Turns a flat [k1, v1, ...] reply into a JSON object; the fields named in
 * WFP's number list become numbers, "payload" becomes a JSON value. A
 * value that is not valid UTF-8 is left out and recorded as an output
 * failure (cli_output_error). */
json_t *cli_fields_json(const redisReply *flat);

/* As cli_fields_json for one entry of a listing or a watch: a value that
 * is not valid UTF-8 is shown as cli_json_lossy does. */
json_t *cli_fields_lossy(const redisReply *flat);

/* Entries of an XRANGE reply as a JSON array of {entry, field: value}. */
json_t *cli_entries_json(const redisReply *entries);

/* Prints one "name value" line: indent, the name padded to 15, the value
 * (a string as it is, anything else as compact JSON). */
void cli_print_field(const char *indent, const char *k, json_t *v);

/* Prints a JSON object's members as cli_print_field lines: the fields of
 * jobs and stream entries known to the CLI first, in a fixed order, then
 * any others. */
void cli_print_fields(json_t *o, const char *indent);

/* A string member of o, or "" when absent or not a string. */
const char *cli_jstr(json_t *o, const char *key);

/* Copies at most width characters of UTF-8 text s into out (n bytes, at
 * least 4 * width + 8), control characters (C0, DEL, C1) as spaces and
 * bytes that are not UTF-8 as '?'; a longer s is cut to end in "..."
 * within width. */
void cli_text_cut(const char *s, int width, char *out, size_t n);

/* Writes ms (negative: 0) as a time since some start into out (n
 * bytes): "+1.250s" under a minute, "+2m05.000s" under an hour, else
 * "+1h02m05s". */
void cli_fmt_elapsed(long long ms, char *out, size_t n);

/* Redis's clock (TIME) in ms into now_ms. Returns 0, or -1 with the
 * reason in wfp_client_error(). */
int cli_redis_now_ms(struct wfp_client *cl, int64_t *now_ms);

/* Job commands (job_cmd.c). Each returns the exit status. */
int cmd_job(struct cli *c);

/* Checks the job id at pos[2] and, with with_token, the token at pos[3]
 * by the library's rules. Returns 0, or prints why and returns -1. */
int cli_check_job_id(const struct cli *c, int with_token);

/* Connects and reads job pos[2]'s fields (HGETALL, the caller frees it);
 * NULL after printing why (NOJOB for an unknown job). */
redisReply *cli_job_read(struct cli *c, struct wfp_client **cl);

/* Reads one field of job id into out (n bytes); returns 0, or -1 after
 * printing why (NOJOB when the job does not exist). */
int cli_job_field(struct wfp_client *cl, const char *id, const char *field,
		  char *out, size_t n);

/* The first 1000 entries of stream key as a JSON array of {entry,
 * field: value} (empty when the stream is missing). */
json_t *cli_stream_json(struct wfp_client *cl, const struct wfp_key *key);

/* The value of field key in a flat [k1, v1, ...] reply (a string), or
 * NULL. */
const redisReply *cli_flat_get(const redisReply *flat, const char *key);

/* What is done with each page of a stream read (an XRANGE reply of at
 * least one entry): returns 0 to go on, else the read stops with it. */
typedef int cli_log_page_fn(const redisReply *page, void *arg);

/*
 * Reads the entries of stream key after entry id after ("" for all) up to
 * entry id upto ("" for the end), 1000 at a time, handing each page to fn
 * (so a long log is never held whole); last gets the id of the newest one
 * read (unchanged when none). Returns 0, -1 after printing why, or what
 * fn returned when not 0.
 */
int cli_log_pages(struct wfp_client *cl, const struct wfp_key *key,
		  const char *after, const char *upto, cli_log_page_fn *fn,
		  void *arg, char *last, size_t lastn);

/* Copies the id of the newest entry of stream key into out ("0-0" when
 * the stream is empty or missing). Returns 0, or -1 (printed). */
int cli_stream_last(struct wfp_client *cl, const struct wfp_key *key, char *out,
		    size_t n);

/* `wfp job log` and `wfp job watch` (job_log.c). */
int cli_job_log(struct cli *c);
int cli_job_watch(struct cli *c);

/* `wfp status` (status_cmd.c). */
int cmd_status(struct cli *c);

/* An executor with a beat this recent is alive (`wfp executor list`,
 * `wfp status`). */
#define CLI_EXECUTOR_LIVE_MS 10000

/* `wfp executor ...` (executor_cmd.c). */
int cmd_executor(struct cli *c);

/* Lock commands (lock_cmd.c). */
int cmd_lock(struct cli *c);

/* Pool commands (pool_cmd.c). */
int cmd_pool(struct cli *c);

/* Reservation commands (rsv_cmd.c). */
int cmd_rsv(struct cli *c);

/* The five reservation states, in the order `rsv list` and `status`
 * show them (NULL-terminated; rsv_cmd.c). */
extern const char *const cli_rsv_states[];

/* The service that owns pools and reservations. */
#define CLI_RSV_SERVICE "reservation"

/* Sends op with the msgpack body to wfp-reservation and hands its reply
 * to print (pool_cmd.c). Returns print's status, or the refusal's. */
int cli_rsv_request(struct cli *c, const char *op, const msgpack_sbuffer *body,
		    int (*print)(struct cli *, const msgpack_object *));

/* Pools with their numbers for `wfp pool list` and `wfp status`: at most
 * limit of them, oldest first, as [{name, capacity, used, free,
 * reservations}]; NULL after printing why (pool_cmd.c). */
json_t *cli_pools_json(struct wfp_client *cl, long long limit);

/* The widest of key's string values of the objects in list, in bytes,
 * at least min and at most max: a text column's width. */
int cli_column_width(json_t *list, const char *key, int min, int max);

#endif
