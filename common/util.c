/* util.c - clocks, randomness and bounded copies (see include/wfp/util.h). */
#include "wfp/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Milliseconds since the epoch. */
int64_t wfp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic microseconds. */
int64_t wfp_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleeps ms milliseconds, resuming after signals. */
void wfp_sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Random hex string of 2*nbytes digits; returns 0 or -1. */
int wfp_random_hex(char *out, size_t nbytes)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t got = 0;

	if (nbytes > sizeof(raw))
		return -1;
	while (got < nbytes) {
		ssize_t n = getrandom(raw + got, nbytes - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

/* Bounded copy; returns -1 when src was truncated. */
int wfp_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n == 0)
		return -1;
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

int wfp_word_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return 0;
	}
	return 1;
}

/* See wfp_utf8_next() in util.h. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len;
	uint32_t v;

	if (s[0] < 0x80)
		return *cp = s[0], 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, v = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, v = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, v = s[0] & 0x07;
	else
		return 0; /* a continuation byte, 0xc0/0xc1 or 0xf5.. */
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min_cp[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

size_t wfp_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	return utf8_next(s, n, cp);
}

int wfp_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_next(p + i, n - i, &cp);

		if (len == 0)
			return 0;
		i += len;
	}
	return 1;
}

int wfp_text_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_next(p + i, n - i, &cp);

		if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

/* Whole-string decimal parse; returns 0 or -1. */
int wfp_parse_i64(const char *s, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Writes one byte c of quoted text at out+*w (size n): c itself when
 * printable ASCII, else \xNN. Returns 0, or -1 (nothing written) when it
 * would not fit with room left for "..." and the NUL. */
static int quote_byte(char *out, size_t n, size_t *w, unsigned char c)
{
	int plain = c >= 0x20 && c < 0x7f && c != '\\' && c != '\'';
	size_t need = plain ? 1 : 4;

	if (*w + need + 4 > n)
		return -1;
	if (plain)
		out[(*w)++] = (char)c;
	else
		*w += (size_t)snprintf(out + *w, n - *w, "\\x%02x", c);
	return 0;
}

const char *wfp_quote(char *out, size_t n, const char *s, size_t len)
{
	size_t w = 0, i;

	if (n == 0)
		return out;
	if (n < 4) {
		out[0] = '\0';
		return out;
	}
	for (i = 0; i < len && i < WFP_QUOTE_MAX; i++)
		if (quote_byte(out, n, &w, (unsigned char)s[i]) != 0)
			break;
	if (i < len)
		memcpy(out + w, "...", 3), w += 3;
	out[w] = '\0';
	return out;
}
