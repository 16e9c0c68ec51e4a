/*
 * util.h - small helpers every wfp program uses: clocks, randomness,
 * bounded string copies.
 *
 * Rules: no function here allocates; all of them are safe to call from any
 * thread.
 */
#ifndef WFP_UTIL_H
#define WFP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the epoch (wall clock). */
int64_t wfp_now_ms(void);

/* Microseconds from a monotonic clock, for measuring durations. */
int64_t wfp_mono_us(void);

/* Sleeps for ms milliseconds (restarts on EINTR). */
void wfp_sleep_ms(int64_t ms);

/*
 * Fills out with 2*nbytes lowercase hex digits of randomness from
 * getrandom() and a terminating NUL; out must hold 2*nbytes+1 bytes.
 * Returns 0, or -1 when the kernel gave no randomness.
 */
int wfp_random_hex(char *out, size_t nbytes);

/*
 * Copies src into dst (size n), always NUL-terminated.
 * Returns 0, or -1 when src did not fit (dst then holds a truncated copy).
 */
int wfp_strlcpy(char *dst, const char *src, size_t n);

/*
 * Returns 1 when s is 1..max-1 characters, each a letter, a digit or one
 * of extra (the rule of ids, prefixes, lock names and owners), else 0.
 */
int wfp_word_ok(const char *s, size_t max, const char *extra);

/*
 * Returns 1 when s[0..n) is valid UTF-8: shortest forms only, no UTF-16
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF; else 0.
 */
int wfp_utf8_ok(const char *s, size_t n);

/*
 * Decodes the UTF-8 sequence at s[0..n) (n >= 1) into *cp; returns its
 * length, or 0 when it is invalid (bad lead or continuation byte,
 * truncated, overlong, a surrogate or above U+10FFFF).
 */
size_t wfp_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * Returns 1 when s[0..n) is text: valid UTF-8 (wfp_utf8_ok) without
 * control characters (U+0000..U+001F, U+007F, U+0080..U+009F); else 0.
 * The rule of job names, owners, idempotency keys and failure reasons.
 */
int wfp_text_ok(const char *s, size_t n);

/* Input bytes a refusal message quotes (wfp_quote); the quoted form
 * takes at most 4 bytes a byte, plus "..." and the NUL. */
#define WFP_QUOTE_MAX 64
#define WFP_QUOTE_BUF (4 * WFP_QUOTE_MAX + 4)

/*
 * Writes untrusted bytes s (len bytes) into out (size n) for a message:
 * printable ASCII stays, anything else (and \\ and ') becomes \xNN, so the
 * text is ASCII (valid UTF-8) whatever s holds. At most WFP_QUOTE_MAX
 * input bytes, then "..."; never cuts an escape. Returns out.
 */
const char *wfp_quote(char *out, size_t n, const char *s, size_t len);

/* Parses a whole decimal int64; returns 0, or -1 on junk or overflow. */
int wfp_parse_i64(const char *s, int64_t *out);

#endif
