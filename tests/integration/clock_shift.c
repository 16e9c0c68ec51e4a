/*
 * clock_shift.c - an LD_PRELOAD helper of exec_registry.sh: the wall
 * clock (CLOCK_REALTIME of clock_gettime) of the process it is loaded
 * into is shifted by WFP_TEST_CLOCK_SHIFT_MS milliseconds, as on a host
 * whose clock is wrong. The monotonic clock is left alone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int clock_fn(clockid_t, struct timespec *);

/* clock_gettime with CLOCK_REALTIME moved by the shift. */
int clock_gettime(clockid_t id, struct timespec *ts)
{
	static clock_fn *real;
	const char *shift = getenv("WFP_TEST_CLOCK_SHIFT_MS");
	int64_t ns;
	int rc;

	if (real == NULL) {
		void *sym = dlsym(RTLD_NEXT, "clock_gettime");

		memcpy(&real, &sym, sizeof(real)); /* POSIX: a function */
	}
	rc = real(id, ts);
	if (rc != 0 || id != CLOCK_REALTIME || shift == NULL)
		return rc;
	ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec +
	     (int64_t)strtoll(shift, NULL, 10) * 1000000;
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
	return 0;
}
