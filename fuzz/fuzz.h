/*
 * fuzz.h - what the fuzz targets share (see the README, section
 * "Fuzzing (fuzz/)").
 *
 * Each fuzz_TARGET.c defines LLVMFuzzerTestOneInput, the entry libFuzzer
 * calls with one input (build-fuzz, -DWFP_FUZZ=ON, clang) and replay.c
 * calls with each file of the corpus and regressions (the normal build,
 * ctest fuzz_replay_TARGET). An entry returns 0 for any input: a crash, a
 * sanitizer report, a leak or a failed FUZZ_ASSERT is the finding.
 */
#ifndef WFP_FUZZ_H
#define WFP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/codec.h"

/* Bytes of the error buffers the targets hand to the parsers. */
#define FUZZ_ERR_MAX 512

/* Aborts (a finding) when cond is false, in every build type (assert()
 * is off under NDEBUG, which RelWithDebInfo sets). */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s) failed\n",     \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data with a NUL after its size bytes (for parsers
 * that take text), or NULL when memory runs out. The copy is exactly
 * size + 1 bytes, so a read past the NUL is a sanitizer report. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A driver of one service's body parsers (fuzz_jobboard.c, ...). */
typedef void (*fuzz_body_fn)(const msgpack_object *body);

/* Decodes data as a request body, as the services do, and hands it to
 * each of the n drivers in fns; an input that does not decode is no
 * finding (the codec target covers the decoder). */
static inline void fuzz_each_body(const uint8_t *data, size_t size,
				  const fuzz_body_fn *fns, size_t n)
{
	char err[FUZZ_ERR_MAX] = "";
	struct wfp_msg m;

	if (wfp_msg_decode(&m, (const char *)data, size, err, sizeof(err)) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		fns[i](&m.u.data);
	wfp_msg_destroy(&m);
}

/* Checks that a refusal left a message: err is NUL-terminated within
 * FUZZ_ERR_MAX bytes and not empty. */
static inline void fuzz_refused(const char *err)
{
	FUZZ_ASSERT(memchr(err, '\0', FUZZ_ERR_MAX) != NULL);
	FUZZ_ASSERT(err[0] != '\0');
}

#endif
