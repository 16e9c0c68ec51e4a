/*
 * wf_json-internal.h - a strict JSON reader for the workflow parser.
 *
 * Why not jansson: a 10,000-task workflow (400 KB) takes jansson about
 * 30 ms to load and free, mostly in malloc/free of 70,000 small values;
 * this reader makes one array of values and one block of decoded strings,
 * in one pass, and frees them at once.
 *
 * Rules that always hold for a read document:
 *  - the text was one JSON value (RFC 8259 grammar, nothing but
 *    whitespace after it), valid UTF-8, no \u0000, no unpaired surrogate,
 *    no object with a repeated key, at most WF_JSON_DEPTH_MAX levels;
 *  - values are in document order; a container's members follow it, the
 *    value at index i ends before index v[i].end; an object's members are
 *    key, value, key, value...;
 *  - every string has its decoded text (NUL-terminated, s) and length.
 * The document owns everything; wf_json_free frees it.
 */
#ifndef WFP_WF_JSON_INTERNAL_H
#define WFP_WF_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define WF_JSON_DEPTH_MAX 512 /* as WFP_PAYLOAD_DEPTH_MAX */

enum wf_json_type {
	WF_JSON_NULL,
	WF_JSON_FALSE,
	WF_JSON_TRUE,
	WF_JSON_NUMBER,
	WF_JSON_STRING,
	WF_JSON_ARRAY,
	WF_JSON_OBJECT,
};

struct wf_json_val {
	enum wf_json_type type;
	int is_int;	   /* NUMBER: no fraction and no exponent */
	int end;	   /* index of the value after this one's members */
	int count;	   /* ARRAY: elements; OBJECT: members (pairs) */
	size_t start, len; /* the raw text of the value in the input */
	const char *s;	   /* STRING: decoded, NUL-terminated */
	size_t slen;	   /* STRING: bytes of s */
};

struct wf_json {
	const char *text; /* the input (not owned; must outlive the doc) */
	struct wf_json_val *v;
	int n, cap;
	char *strings; /* decoded strings, one block */
	size_t used;
};

/*
 * Reads text (len bytes) into doc. Returns 0, or -1 with a one-line
 * message in err ("... at byte N") and nothing held.
 */
int wf_json_read(const char *text, size_t len, struct wf_json *doc, char *err,
		 size_t errlen);

/* Frees what doc holds. */
void wf_json_free(struct wf_json *doc);

/* Index of the value of key in object o, or -1 (also when o is no
 * object). */
int wf_json_get(const struct wf_json *doc, int o, const char *key);

/* Writes the value at i as compact JSON text (the document's own
 * spelling, the whitespace between tokens removed) into out, which holds
 * at least doc->v[i].len + 1 bytes; returns its length. */
size_t wf_json_compact(const struct wf_json *doc, int i, char *out);

#endif
