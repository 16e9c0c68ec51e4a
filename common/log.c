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

/* Length of the valid UTF-8 sequence starting at s (n bytes left), or 0
 * when it is not one (overlong forms, surrogates, > U+10FFFF, cut short). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	unsigned int cp;

	if (s[0] < 0xc2 || s[0] > 0xf4 || n < len)
		return 0;
	cp = s[0] & (0x3fu >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t wfp_log_escape(char *out, size_t outlen, const char *in, size_t inlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < inlen;) {
		char esc[5] = {'\\', 0, 0, 0, 0};
		size_t n = 1, u = s[i] >= 0x80 ? utf8_len(s + i, inlen - i) : 0;
		const char *src = esc;

		if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ||
		    s[i] == '\\') {
			esc[1] = s[i] == '\n'	? 'n'
				 : s[i] == '\r' ? 'r'
				 : s[i] == '\t' ? 't'
						: '\\';
			n = 2;
		} else if (s[i] < 0x20 || s[i] == 0x7f ||
			   (s[i] >= 0x80 && !u)) {
			esc[1] = 'x', esc[2] = hex[s[i] >> 4];
			esc[3] = hex[s[i] & 15], n = 4;
		} else {
			src = (const char *)s + i, n = u ? u : 1;
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, src, n);
		o += n;
		i += src == esc ? 1 : n;
	}
	out[o] = '\0';
	return o;
}

/* Writes one line with time, level and program name in a single write,
 * so lines of several processes sharing a stream never interleave. The
 * message is escaped (wfp_log_escape), so text that came from a request
 * cannot start a line of its own or hide in terminal control codes. */
static void log_line(enum wfp_log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char msg[WFP_LOG_LINE_MAX];
	char line[WFP_LOG_LINE_MAX];
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n,
		      ".%03ldZ %s %s: ", ts.tv_nsec / 1000000,
		      level_words[level], log_name);
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(msg))
		m = (int)sizeof(msg) - 1;
	if (n < (int)sizeof(line) - 1)
		n += (int)wfp_log_escape(line + n, sizeof(line) - (size_t)n - 1,
					 msg, (size_t)m);
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
