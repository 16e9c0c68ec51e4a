/* log.c - levelled logging to stderr (see include/wfp/log.h). */
#include "wfp/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_name = "wfp";
static enum wfp_log_level log_level = WFP_LOG_INFO;
static const char *const level_words[] = {"debug", "info", "warn", "error"};

void wfp_log_set_name(const char *name)
{
	log_name = name;
}

void wfp_log_set_level(enum wfp_log_level level)
{
	log_level = level;
}

/* Maps a level word to its enum; returns 0 or -1 on an unknown word. */
int wfp_log_level_parse(const char *word, enum wfp_log_level *out)
{
	for (int i = 0; i <= WFP_LOG_ERROR; i++) {
		if (strcmp(word, level_words[i]) == 0) {
			*out = (enum wfp_log_level)i;
			return 0;
		}
	}
	return -1;
}

/* Writes one line with time, level and program name in a single write,
 * so lines of several processes sharing a stream never interleave. */
static void log_line(enum wfp_log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char line[2048];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n,
		      ".%03ldZ %s %s: ", ts.tv_nsec / 1000000,
		      level_words[level], log_name);
	if (n < (int)sizeof(line) - 1)
		vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n] = '\n';
	fwrite(line, 1, (size_t)n + 1, stderr);
}

void wfp_log(enum wfp_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	log_line(level, fmt, ap);
	va_end(ap);
}

int wfp_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(WFP_LOG_ERROR, fmt, ap);
	va_end(ap);
	return -1;
}
