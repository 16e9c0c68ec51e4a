/*
 * fuzz_config.c - fuzz target: the settings parsers of common/config.c
 * on any text, as they come from WFP_* variables and flags.
 *
 * The input is lines (split at '\n'). The first line is parsed as a Redis
 * URL (wfp_redis_url_parse, then wfp_redis_url_redact, which must hide
 * the password), then given to wfp_config_set as the value of every
 * setting; a line "NAME=VALUE" is set by its name too; and all the lines
 * are an argv for wfp_config_from_args.
 */
#include "fuzz.h"
#include "wfp/config.h"

#define LINES_MAX 64 /* lines of one input used as argv */

/* The flag of every setting (the table in common/config.c). */
static const char *const flags[] = {
    "redis",	       "prefix",      "visibility-ms", "retention-ms",
    "timeout-ms",      "concurrency", "inflight-max",  "log-level",
    "metrics-addr",    "plugin-dir",  "classes-dir",   "exec-allow",
    "task-output-max", "grace-ms",    "executor-name", NULL};

/* Parses line as a URL; one with a password shows "***" when redacted,
 * and the redacted text always fits its buffer. */
static void url(const char *line)
{
	char err[FUZZ_ERR_MAX] = "", shown[WFP_URL_MAX + 16];
	struct wfp_redis_addr a;

	if (wfp_redis_url_parse(line, &a, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(a.port >= 1 && a.port <= 65535);
		FUZZ_ASSERT(a.host[0] != '\0');
		wfp_redis_url_redact(line, shown, sizeof(shown));
		if (a.password[0] != '\0')
			FUZZ_ASSERT(strstr(shown, ":***@") != NULL ||
				    strncmp(shown, "redis://***@", 12) == 0);
	} else {
		fuzz_refused(err);
	}
	wfp_redis_url_redact(line, shown, 1);
	FUZZ_ASSERT(shown[0] == '\0');
}

/* Sets value as every setting, and NAME=VALUE lines by their name. */
static void set_all(const char *value, char **lines, int n)
{
	struct wfp_config cfg;
	char err[FUZZ_ERR_MAX];

	wfp_config_defaults(&cfg);
	for (const char *const *f = flags; *f; f++) {
		FUZZ_ASSERT(wfp_config_is_flag(*f));
		err[0] = '\0';
		if (wfp_config_set(&cfg, *f, value, *f, err, sizeof(err)) != 0)
			fuzz_refused(err);
	}
	for (int i = 0; i < n; i++) {
		char *eq = strchr(lines[i], '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		err[0] = '\0';
		if (wfp_config_set(&cfg, lines[i], eq + 1, "line", err,
				   sizeof(err)) != 0)
			fuzz_refused(err);
		*eq = '=';
	}
}

/* The lines as an argv (the flags a daemon reads after its name). */
static void args(char **lines, int n)
{
	struct wfp_config cfg;
	char err[FUZZ_ERR_MAX] = "";
	int pos = 0;

	wfp_config_defaults(&cfg);
	if (wfp_config_from_args(&cfg, n, lines, &pos, err, sizeof(err)) == 0)
		FUZZ_ASSERT(pos >= 0 && pos <= n);
	else
		fuzz_refused(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *lines[LINES_MAX + 1];
	int n = 0;

	if (text == NULL)
		return 0;
	for (char *p = text; p != NULL && n < LINES_MAX;) {
		char *nl = strchr(p, '\n');

		lines[n++] = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}
	lines[n] = NULL;
	url(lines[0]);
	set_all(lines[0], lines, n);
	args(lines, n);
	free(text);
	return 0;
}
