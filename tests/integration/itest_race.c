/* 8 claimer processes race for 1,000 jobs: every job is claimed by exactly
 * one of them and completed once. Real redis-server (WFP_REDIS_URL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest_common.h"

#define JOBS	 1000
#define CLAIMERS 8
#define BATCH	 16

/* One claimer: claims and completes until the board is empty, writing each
 * claimed id as a line to fd. Exits 0, or 1 on any refused write. */
static void claimer(int n, int fd)
{
	struct wfp_config cfg;
	struct wfp_client *c = itest_client(&cfg);
	struct wfp_claim got[BATCH];
	char owner[32];
	int k, bad = 0;

	snprintf(owner, sizeof(owner), "racer-%d", n);
	for (;;) {
		if (wfp_job_claim(c, owner, BATCH, 30000, 0, got, &k) != 0 ||
		    k == 0)
			break;
		for (int i = 0; i < k; i++) {
			char line[WFP_ID_MAX + 1];
			int len =
			    snprintf(line, sizeof(line), "%s\n", got[i].id);

			if (write(fd, line, (size_t)len) != len)
				bad = 1;
			if (wfp_job_finish(c, got[i].id, got[i].token,
					   got[i].fence, WFP_OP_COMPLETE, NULL,
					   NULL) != 0)
				bad = 1;
		}
		wfp_claims_release(got, k);
	}
	wfp_client_free(c);
	_exit(bad);
}

/* Counts how often each posted id appears in the lines of buf. */
static void check_once(char ids[JOBS][WFP_ID_MAX], char *buf)
{
	static int seen[JOBS];
	int lines = 0;
	char *save = NULL;

	for (char *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		int found = 0;

		lines++;
		for (int i = 0; i < JOBS && !found; i++) {
			if (strcmp(ids[i], line) == 0) {
				seen[i]++;
				found = 1;
			}
		}
		assert_true(found);
	}
	assert_int_equal(lines, JOBS);
	for (int i = 0; i < JOBS; i++)
		assert_int_equal(seen[i], 1);
}

static void test_race(void **state)
{
	static char ids[JOBS][WFP_ID_MAX];
	static char buf[JOBS * (WFP_ID_MAX + 1)];
	struct wfp_config cfg;
	struct wfp_client *c = itest_client(&cfg);
	struct wfp_post p = {NULL, "race", NULL, 1, NULL, 1000};
	int fds[2];
	size_t used = 0;
	ssize_t n;

	(void)state;
	itest_flush(c);
	for (int i = 0; i < JOBS; i++)
		assert_int_equal(wfp_job_post(c, &p, ids[i], NULL), 0);
	assert_int_equal(pipe(fds), 0);
	for (int i = 0; i < CLAIMERS; i++) {
		if (fork() == 0) {
			close(fds[0]);
			claimer(i, fds[1]);
		}
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	close(fds[0]);
	for (int i = 0; i < CLAIMERS; i++) {
		int status = 0;

		wait(&status);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	check_once(ids, buf);
	for (int i = 0; i < JOBS; i += 97) {
		char s[32];

		itest_job_str(c, ids[i], "state", s, sizeof(s));
		assert_string_equal(s, "completed");
		assert_int_equal(itest_job_int(c, ids[i], "attempts"), 1);
	}
	itest_flush(c);
	wfp_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
