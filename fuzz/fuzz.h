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

/* Checks that a refusal left a message: err is NUL-terminated within
 * FUZZ_ERR_MAX bytes and not empty. */
static inline void fuzz_refused(const char *err)
{
	FUZZ_ASSERT(memchr(err, '\0', FUZZ_ERR_MAX) != NULL);
	FUZZ_ASSERT(err[0] != '\0');
}

#endif
