/* text.c - text helpers of the CLI without I/O (see cli.h): members of
 * JSON objects, cutting text to a width, elapsed times. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wfp/util.h"

/* A string member of o, or "" when absent. */
const char *cli_jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* Counts characters as wfp_utf8_next decodes them (a bad byte counts as
 * one, shown as '?'); control characters (C0, DEL, C1) are shown as
 * spaces, so no text reaches a terminal as an escape sequence;
 * remembers where "..." would go. */
void cli_text_cut(const char *s, int width, char *out, size_t n)
{
	size_t len = strlen(s), o = 0, cut = 0;
	int chars = 0;

	for (size_t i = 0; i < len && o + 5 < n;) {
		uint32_t cp;
		size_t k =
		    wfp_utf8_next((const unsigned char *)s + i, len - i, &cp);

		if (k == 0)
			k = 1, cp = '?';
		if (chars == width - 3)
			cut = o; /* where "..." goes if s is too long */
		if (chars == width) {
			memcpy(out + cut, "...", 4);
			return;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			out[o++] = ' ';
		else if (cp == '?' && k == 1)
			out[o++] = '?'; /* also a bad byte: never copied raw */
		else
			memcpy(out + o, s + i, k), o += k;
		i += k, chars++;
	}
	out[o] = '\0';
}

/* Whole units, milliseconds shown up to an hour. */
void cli_fmt_elapsed(long long ms, char *out, size_t n)
{
	if (ms < 0)
		ms = 0;
	if (ms < 60000)
		snprintf(out, n, "+%lld.%03llds", ms / 1000, ms % 1000);
	else if (ms < 3600000)
		snprintf(out, n, "+%lldm%02lld.%03llds", ms / 60000,
			 ms / 1000 % 60, ms % 1000);
	else
		snprintf(out, n, "+%lldh%02lldm%02llds", ms / 3600000,
			 ms / 60000 % 60, ms / 1000 % 60);
}
