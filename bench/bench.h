/* bench.h - helpers the benchmarks share. */
#ifndef WFP_BENCH_H
#define WFP_BENCH_H

#include <stdint.h>
#include <stdlib.h>

static inline int bench_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Sorts n samples so that v[n / 2] is the median and v[n * 99 / 100]
 * the 99th percentile. */
static inline void bench_sort(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_i64);
}

#endif
