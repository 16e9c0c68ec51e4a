/* wfp.c - the `wfp` command line: parses arguments, dispatches nouns. */
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/log.h"
#include "wfp/rsv.h"
#include "wfp/util.h"

/* One line of the usage: the noun it belongs to and the text. */
struct usage_line {
	const char *noun;
	const char *text;
};

static const struct usage_line usage_lines[] = {
    {"job", "  wfp job post FILE.json                 post a job ({name, "
	    "max_attempts, payload}); prints its id"},
    {"job", "  wfp job show ID                        a job, its "
	    "redeliveries (never the token)"},
    {"job", "  wfp job list [--state S] [--limit N]   jobs of one state or "
	    "all (S: posted claimed completed reverted failed dead)"},
    {"job", "  wfp job log ID                         the job's task log: RUN "
	    "AT TASK STATE ATTEMPT FENCE DETAIL"},
    {"job", "  wfp job wait ID [--timeout MS]         until it ends; exits 0 "
	    "only when completed"},
    {"job", "  wfp job watch ID [--timeout MS]        its state changes "
	    "and a workflow's progress (N/TOTAL applied, running,\n"
	    "                                         rollback) until it "
	    "ends; --json: one JSON object per line"},
    {"job", "  wfp job transfer ID --to OWNER | --board   hand a claimed job "
	    "to OWNER, or back to the board"},
    {"job", "  wfp job repost ID                      a claimed or finished "
	    "(completed, reverted, failed, dead) job\n"
	    "                                         back on the board, as a "
	    "new run"},
    {"job", "  wfp job cancel ID [--reason TEXT]      a posted job: reverted "
	    "at once; a claimed one: its executor rolls it back"},
    {"job", "  wfp job claim --owner NAME [--wait MS] [--count N]   prints ID "
	    "TOKEN FENCE ATTEMPTS NAME"},
    {"job", "  wfp job heartbeat ID TOKEN             extend the lease"},
    {"job", "  wfp job complete ID TOKEN [--fence F]  end the attempt: "
	    "completed"},
    {"job", "  wfp job fail ID TOKEN --reason TEXT [--final "
	    "reverted|failed]   retried while attempts remain"},
    {"lock", "  wfp lock acquire NAME... [--ttl MS] [--wait MS] [--owner "
	     "WHO]   prints NAME TOKEN FENCE"},
    {"lock", "  wfp lock renew NAME TOKEN [--ttl MS]   extend the lease"},
    {"lock", "  wfp lock release NAME TOKEN            its first waiter "
	     "gets it"},
    {"lock", "  wfp lock show NAME                     holder, fence, time "
	     "left, waiters (never the token)"},
    {"lock", "  wfp lock list                          every held lock"},
    {"pool", "  wfp pool set NAME --capacity N         create a pool or set "
	     "its capacity\n"
	     "                                         (never below what is "
	     "used: INUSE)"},
    {"pool", "  wfp pool show NAME [--limit N]         capacity, used, free, "
	     "reservations and the\n"
	     "                                         first N holders"},
    {"pool", "  wfp pool list [--limit N]              every pool: NAME "
	     "CAPACITY USED FREE\n"
	     "                                         RESERVATIONS"},
    {"rsv",
     "  wfp rsv create FILE.json [--id ID] [--wait] [--timeout MS]\n"
     "                                         checks the file, creates "
     "it, prints its id;\n"
     "                                         --wait: each item's phase "
     "until active (exit 0),\n"
     "                                         failed or expired (1)"},
    {"rsv", "  wfp rsv show ID                        fields, pools and each "
	    "item's phase, running,\n"
	    "                                         failed and undo steps"},
    {"rsv", "  wfp rsv list [--state S] [--limit N]   reservations of one "
	    "state or all\n"
	    "                                         (S: pending active "
	    "failed released expired)"},
    {"rsv", "  wfp rsv release ID [--wait] [--timeout MS]\n"
	    "                                         tear it down (a pending "
	    "one: cancel);\n"
	    "                                         --wait: until released "
	    "(exit 0)"},
    {"executor", "  wfp executor list                      executors with a "
		 "beat in the last 10 s: jobs, running tasks, last beat"},
    {"status", "  wfp status                             jobs per state, "
	       "live owners, dead letters, locks, live replicas, executors,\n"
	       "                                         reservations per "
	       "state, pools"},
};

static const char usage_tail[] =
    "Settings (also WFP_* variables): --redis URL --prefix P "
    "--visibility-ms\n"
    "  --retention-ms --timeout-ms. Exit: 0 ok, 1 failed, 2 bad usage or\n"
    "  input, 3 nothing happened in time.\n";

/* The tail of nouns that have no use for --visibility-ms and
 * --retention-ms (settings of the board's jobs). */
static const char usage_tail_short[] =
    "Settings (also WFP_* variables): --redis URL --prefix P --timeout-ms.\n"
    "Exit: 0 ok, 1 failed, 2 bad usage or input, 3 nothing happened in "
    "time.\n";

/* Returns 1 when noun has lines in the usage. */
static int usage_has(const char *noun)
{
	for (size_t i = 0; i < sizeof(usage_lines) / sizeof(usage_lines[0]);
	     i++) {
		if (strcmp(usage_lines[i].noun, noun) == 0)
			return 1;
	}
	return 0;
}

int cli_usage(const char *noun, int status)
{
	FILE *out = status == EXIT_OK ? stdout : stderr;

	if (noun[0] == '\0')
		fputs("usage: wfp <noun> <verb> [args] [--json] [--redis URL] "
		      "[--prefix P]\n",
		      out);
	else
		fprintf(out,
			"usage: wfp %s%s [--json] [--redis URL] [--prefix P]\n",
			noun,
			strcmp(noun, "status") == 0 ? "" : " <verb> [args]");
	for (size_t i = 0; i < sizeof(usage_lines) / sizeof(usage_lines[0]);
	     i++) {
		if (noun[0] == '\0' || strcmp(usage_lines[i].noun, noun) == 0)
			fprintf(out, "%s\n", usage_lines[i].text);
	}
	fputs(noun[0] == '\0' || strcmp(noun, "job") == 0 ? usage_tail
							  : usage_tail_short,
	      out);
	return status;
}

/* Switches: options that take no value. */
static const char *const switches[] = {"json", "board", "help", NULL};

/* Switches of one noun only (elsewhere the same name takes a value:
 * `job claim --wait MS`, `rsv create --wait`). */
static const struct {
	const char *noun, *name;
} noun_switches[] = {
    {"rsv", "wait"},
};

int cli_error(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("wfp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* Returns 1 when name is a switch (of every noun, or of the noun given
 * so far). */
static int is_switch(const struct cli *c, const char *name)
{
	for (const char *const *s = switches; *s; s++) {
		if (strcmp(*s, name) == 0)
			return 1;
	}
	for (size_t i = 0; c->npos > 0 &&
			   i < sizeof(noun_switches) / sizeof(noun_switches[0]);
	     i++) {
		if (strcmp(noun_switches[i].noun, c->pos[0]) == 0 &&
		    strcmp(noun_switches[i].name, name) == 0)
			return 1;
	}
	return 0;
}

/* Stores one "--name[=value]" option; settings go into c->cfg. */
static int parse_option(struct cli *c, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	char name[64], err[512];
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	const char *value;

	if (n == 0 || n >= sizeof(name))
		return cli_error(EXIT_USAGE, "bad option '%s'", argv[*i]), -1;
	memcpy(name, arg, n);
	name[n] = '\0';
	if (is_switch(c, name)) {
		value = NULL;
	} else if (eq) {
		value = eq + 1;
	} else if (*i + 1 < argc) {
		value = argv[++*i];
	} else {
		return cli_error(EXIT_USAGE, "option --%s needs a value", name),
		       -1;
	}
	if (wfp_config_is_flag(name)) {
		if (wfp_config_set(&c->cfg, name, value, name, err,
				   sizeof(err)))
			return cli_error(EXIT_USAGE, "--%s", err), -1;
		return 0;
	}
	if (strcmp(name, "json") == 0) {
		c->json = 1;
		return 0;
	}
	if (c->nopts >= CLI_MAX_OPTS)
		return cli_error(EXIT_USAGE, "too many options"), -1;
	c->opt_name[c->nopts] = arg; /* "name" or "name=value" */
	c->opt_value[c->nopts++] = value;
	return 0;
}

/* Fills c from the environment and argv. Returns 0 or -1 (printed). */
static int parse_args(struct cli *c, int argc, char **argv)
{
	char err[512];

	wfp_config_defaults(&c->cfg);
	if (wfp_config_from_env(&c->cfg, err, sizeof(err)) != 0)
		return cli_error(EXIT_USAGE, "%s", err), -1;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
			if (parse_option(c, argc, argv, &i) != 0)
				return -1;
		} else if (c->npos < CLI_MAX_POS) {
			c->pos[c->npos++] = argv[i];
		} else {
			return cli_error(EXIT_USAGE, "too many arguments"), -1;
		}
	}
	return 0;
}

/* Compares an option's stored name ("state" or "state=x") with name. */
static int opt_is(const char *stored, const char *name)
{
	size_t n = strlen(name);

	return strncmp(stored, name, n) == 0 &&
	       (stored[n] == '\0' || stored[n] == '=');
}

const char *cli_opt(const struct cli *c, const char *name)
{
	for (int i = 0; i < c->nopts; i++) {
		if (opt_is(c->opt_name[i], name))
			return c->opt_value[i] ? c->opt_value[i] : "";
	}
	return NULL;
}

int cli_switch(const struct cli *c, const char *name)
{
	return cli_opt(c, name) != NULL;
}

int cli_expect(const struct cli *c, int min, int max,
	       const char *const *allowed, const char *usage)
{
	for (int i = 0; i < c->nopts; i++) {
		int ok = 0;

		for (const char *const *a = allowed; a && *a && !ok; a++)
			ok = opt_is(c->opt_name[i], *a);
		if (!ok) {
			cli_error(EXIT_USAGE,
				  "unknown option '--%.*s' (usage: %s)",
				  (int)strcspn(c->opt_name[i], "="),
				  c->opt_name[i], usage);
			return -1;
		}
	}
	if (c->npos < min || c->npos > max) {
		cli_error(EXIT_USAGE, "usage: %s", usage);
		return -1;
	}
	return 0;
}

int cli_opt_int(const struct cli *c, const char *name, long long min,
		long long max, long long *out)
{
	const char *v = cli_opt(c, name);
	int64_t n;

	if (v == NULL)
		return 0;
	if (wfp_parse_i64(v, &n) != 0 || n < min || n > max) {
		cli_error(EXIT_USAGE,
			  "--%s: '%s' is not a whole number from %lld to %lld",
			  name, v, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int cli_status_of(const char *why)
{
	static const struct {
		const char *word;
		int status;
	} codes[] = {
	    {"BUSY ", EXIT_NOTHING},
	    {"TIMEOUT ", EXIT_NOTHING},
	    {"no reply from ", EXIT_NOTHING},
	    {"BADARG ", EXIT_USAGE},
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strncmp(why, codes[i].word, strlen(codes[i].word)) == 0)
			return codes[i].status;
	}
	return EXIT_FAIL;
}

/* The name in "NOPOOL pool 'NAME' does not exist" into out (n bytes):
 * 1, or 0 when why is not that. */
static int nopool_name(const char *why, char *out, size_t n)
{
	static const char head[] = "NOPOOL pool '";
	const char *end;

	if (strncmp(why, head, sizeof(head) - 1) != 0)
		return 0;
	why += sizeof(head) - 1;
	end = strchr(why, '\'');
	if (end == NULL || (size_t)(end - why) >= n ||
	    strcmp(end, "' does not exist") != 0)
		return 0;
	memcpy(out, why, (size_t)(end - why));
	out[end - why] = '\0';
	return 1;
}

int cli_failed(struct wfp_client *cl)
{
	const char *why = wfp_client_error(cl);
	char pool[WFP_POOL_NAME_MAX];

	if (nopool_name(why, pool, sizeof(pool)))
		return cli_error(cli_status_of(why),
				 "%s; create it with `wfp pool set %s "
				 "--capacity N`",
				 why, pool);
	return cli_error(cli_status_of(why), "%s", why);
}

struct wfp_client *cli_client(struct cli *c)
{
	char err[512];

	if (c->client == NULL) {
		c->client = wfp_client_new(&c->cfg, err, sizeof(err));
		if (c->client == NULL)
			cli_error(EXIT_FAIL, "%s", err);
	}
	return c->client;
}

int cli_redis_now_ms(struct wfp_client *cl, int64_t *now_ms)
{
	redisReply *r = wfp_client_commandf(cl, "TIME");

	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		freeReplyObject(r);
		wfp_client_set_error(cl, "TIME gave an unexpected reply");
		return -1;
	}
	*now_ms =
	    atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
	freeReplyObject(r);
	return 0;
}

/*
 * Help and missing verbs: `wfp --help` (every noun), `wfp NOUN --help`
 * (that noun's usage, exit 0), `wfp` or `wfp NOUN` without its verb (the
 * usage on stderr, exit 2). Returns -1 when the command is to run.
 */
static int help(const struct cli *c)
{
	const char *noun = c->npos > 0 ? c->pos[0] : "";
	int known = usage_has(noun);

	if (cli_switch(c, "help"))
		return cli_usage(known ? noun : "", EXIT_OK);
	if (c->npos == 0 ||
	    (c->npos == 1 && known && strcmp(noun, "status") != 0))
		return cli_usage(noun, EXIT_USAGE);
	return -1;
}

/* Dispatches on the noun. */
static int dispatch(struct cli *c)
{
	int rc = help(c);

	if (rc >= 0)
		return rc;
	if (strcmp(c->pos[0], "job") == 0)
		return cmd_job(c);
	if (strcmp(c->pos[0], "status") == 0)
		return cmd_status(c);
	if (strcmp(c->pos[0], "lock") == 0)
		return cmd_lock(c);
	if (strcmp(c->pos[0], "executor") == 0)
		return cmd_executor(c);
	if (strcmp(c->pos[0], "pool") == 0)
		return cmd_pool(c);
	if (strcmp(c->pos[0], "rsv") == 0)
		return cmd_rsv(c);
	return cli_error(EXIT_USAGE, "unknown noun '%s' (try: wfp --help)",
			 c->pos[0]);
}

/* Parses, runs one command, and fails it when its output failed. */
int main(int argc, char **argv)
{
	struct cli c;
	int rc;

	memset(&c, 0, sizeof(c));
	/* A closed stdout is a write error we report (and a claim we hand
	 * back), not a silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	wfp_log_set_name("wfp");
	if (parse_args(&c, argc, argv) != 0)
		return EXIT_USAGE;
	rc = dispatch(&c);
	wfp_client_free(c.client);
	return cli_output_done(rc);
}
