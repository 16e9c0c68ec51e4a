/*
 * cli.h - shared parts of the `wfp` command line.
 *
 * Rules: a command prints its result on stdout (one JSON value with
 * --json), and on failure one line "wfp: <reason>" on stderr, returning
 * the exit status. Exit statuses: 0 success, 1 failure (refused, not
 * found, Redis unreachable), 2 bad usage or input, 3 nothing happened in
 * time (no job to claim, wait ran out).
 */
#ifndef WFP_CLI_H
#define WFP_CLI_H

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "wfp/client.h"
#include "wfp/config.h"

#define CLI_MAX_POS  8
#define CLI_MAX_OPTS 8

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

/* Prints v as JSON with --json, else with text(v); frees v either way.
 * Returns EXIT_OK. */
int cli_emit(const struct cli *c, json_t *v, void (*text)(json_t *v));

/* Prints v to stdout as compact JSON and a newline; steals v. */
void cli_print_json(json_t *v);

/* Turns a flat [k1, v1, ...] reply into a JSON object; the fields named in
 * WFP's number list become numbers, "payload" becomes a JSON value. */
json_t *cli_fields_json(const redisReply *flat);

/* Entries of an XRANGE reply as a JSON array of {entry, field: value}. */
json_t *cli_entries_json(const redisReply *entries);

/* Job commands (job_cmd.c). Each returns the exit status. */
int cmd_job(struct cli *c);
int cmd_status(struct cli *c);

/* Lock commands (lock_cmd.c). */
int cmd_lock(struct cli *c);

#endif
