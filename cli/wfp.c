/* wfp.c - the `wfp` command line: parses arguments, dispatches nouns. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wfp/log.h"
#include "wfp/util.h"

static const char usage_text[] =
    "usage: wfp <noun> <verb> [args] [--json] [--redis URL] [--prefix P]\n"
    "  wfp job post FILE.json        post a job ({name, max_attempts, "
    "payload})\n"
    "  wfp job show ID               a job, its redeliveries\n"
    "  wfp job list [--state S] [--limit N]\n"
    "  wfp job log ID                the job's task log\n"
    "  wfp job wait ID [--timeout MS]      exits 0 only when completed\n"
    "  wfp job watch ID [--timeout MS]     follow its state changes\n"
    "  wfp job transfer ID --to OWNER | --board\n"
    "  wfp job repost ID\n"
    "  wfp job claim --owner NAME [--wait MS] [--count N]\n"
    "  wfp job heartbeat ID TOKEN\n"
    "  wfp job complete ID TOKEN [--fence F]\n"
    "  wfp job fail ID TOKEN --reason TEXT [--final reverted|failed]\n"
    "  wfp status                    jobs per state, live owners\n"
    "Settings (also WFP_* variables): --redis --prefix --visibility-ms\n"
    "  --retention-ms --timeout-ms. Exit: 0 ok, 1 failed, 2 bad usage or\n"
    "  input, 3 nothing happened in time.\n";

/* Switches: options that take no value. */
static const char *const switches[] = {"json", "board", "help", NULL};

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

/* Returns 1 when name is a switch. */
static int is_switch(const char *name)
{
	for (const char *const *s = switches; *s; s++) {
		if (strcmp(*s, name) == 0)
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
	if (is_switch(name)) {
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

/* Dispatches on the noun. */
static int dispatch(struct cli *c)
{
	static const char *const later[] = {"lock", "rsv", "pool", "executor",
					    NULL};

	if (c->npos == 0 || cli_switch(c, "help")) {
		fputs(usage_text,
		      c->npos == 0 && !cli_switch(c, "help") ? stderr : stdout);
		return c->npos == 0 && !cli_switch(c, "help") ? EXIT_USAGE
							      : EXIT_OK;
	}
	if (strcmp(c->pos[0], "job") == 0)
		return cmd_job(c);
	if (strcmp(c->pos[0], "status") == 0)
		return cmd_status(c);
	if (strcmp(c->pos[0], "lock") == 0)
		return cmd_lock(c);
	for (const char *const *l = later; *l; l++) {
		if (strcmp(c->pos[0], *l) == 0)
			return cli_error(EXIT_FAIL,
					 "'wfp %s' is not built yet (see "
					 "README, \"Not done yet\")",
					 *l);
	}
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
