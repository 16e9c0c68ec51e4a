/*
 * log.h - levelled logging to stderr.
 *
 * One line per message: "<iso time> <level> <program>: <message>".
 * Messages are lowercase with no full stop and quote the offending value.
 * Every message is escaped as a whole before it is written (see
 * wfp_log_escape), so text from a request or a reply can never forge a
 * line, whichever caller logs it. A line is cut at WFP_LOG_LINE_MAX bytes.
 */
#ifndef WFP_LOG_H
#define WFP_LOG_H

#include <stddef.h>

#define WFP_LOG_LINE_MAX 2048 /* bytes of one log line, newline included */

enum wfp_log_level {
	WFP_LOG_DEBUG, /* chatter for developers */
	WFP_LOG_INFO,  /* one line per notable event (start, reconnect) */
	WFP_LOG_WARN,  /* something is off but the program carries on */
	WFP_LOG_ERROR, /* an operation failed */
};

/* Sets the program name shown in every line (the string must outlive use). */
void wfp_log_set_name(const char *name);

/* Messages below level are dropped. */
void wfp_log_set_level(enum wfp_log_level level);

/* Parses "debug", "info", "warn" or "error"; returns 0 or -1. */
int wfp_log_level_parse(const char *word, enum wfp_log_level *out);

/*
 * Copies in[0..inlen) into out (outlen bytes, always NUL-terminated),
 * escaping what could break or forge a log line: \n \r \t and \\ as
 * those two-character escapes, other bytes below 0x20, 0x7f and bytes that
 * are not part of valid UTF-8 as \xHH. Valid UTF-8 is kept. Stops before
 * an escape that would not fit whole. Returns the length written.
 */
size_t wfp_log_escape(char *out, size_t outlen, const char *in, size_t inlen);

/* Logs one line at level. */
void wfp_log(enum wfp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logs at error level and returns -1, for `return wfp_error(...)`. */
int wfp_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define wfp_debug(...) wfp_log(WFP_LOG_DEBUG, __VA_ARGS__)
#define wfp_info(...)  wfp_log(WFP_LOG_INFO, __VA_ARGS__)
#define wfp_warn(...)  wfp_log(WFP_LOG_WARN, __VA_ARGS__)

#endif
