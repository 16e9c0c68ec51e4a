/* Unit tests of the CLI's workflow progress (cli/progress.c) and text
 * helpers (cli/text.c): no Redis, log entries given as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cli.h"
#include "progress.h"

static const char payload[] =
    "{\"workflow\": {\"linear\": ["
    "{\"task\": \"a\", \"apply\": [\"true\"], \"revert\": [\"true\"]},"
    "{\"unordered\": [{\"task\": \"b\", \"apply\": [\"true\"]},"
    "{\"task\": \"c\", \"apply\": [\"true\"]}]}]}}";

/* A progress for the three-task workflow above, run 2. */
static struct progress *three_tasks(void)
{
	struct wfp_workflow *wf = NULL;
	char err[256];

	assert_int_equal(
	    wfp_workflow_parse(payload, strlen(payload), &wf, err, sizeof(err)),
	    1);
	return progress_new(wf, 2);
}

/* Feeds one entry {run, task, state, at[, error, final]}; returns what
 * progress_add returned. */
static int feed(struct progress *p, int run, const char *task,
		const char *state, long long at, const char *error,
		const char *final)
{
	json_t *e = json_pack("{s:i, s:s, s:s, s:I}", "run", run, "task", task,
			      "state", state, "at", (json_int_t)at);
	int rc;

	if (error)
		json_object_set_new(e, "error", json_string(error));
	if (final)
		json_object_set_new(e, "final", json_string(final));
	rc = progress_add(p, e);
	json_decref(e);
	return rc;
}

/* The summary line of p. */
static const char *text(const struct progress *p)
{
	static char buf[512];

	progress_text(p, 20, buf, sizeof(buf));
	return buf;
}

static void test_counts_and_changes(void **state)
{
	struct progress *p = three_tasks();

	(void)state;
	assert_string_equal(text(p), "0/3 applied");
	assert_int_equal(feed(p, 1, "a", "applied", 10, NULL, NULL), 0);
	assert_string_equal(text(p), "0/3 applied"); /* an older run */
	assert_int_equal(feed(p, 2, "a", "running", 1000, NULL, NULL), 1);
	assert_int_equal(feed(p, 2, "a", "running", 1001, NULL, NULL), 0);
	assert_int_equal(feed(p, 2, "nope", "applied", 1002, NULL, NULL), 0);
	assert_int_equal(feed(p, 2, "a", "bogus", 1002, NULL, NULL), 0);
	assert_string_equal(text(p), "0/3 applied; running: a");
	feed(p, 2, "a", "applied", 1500, NULL, NULL);
	feed(p, 2, "b", "running", 1600, NULL, NULL);
	feed(p, 2, "c", "skipped", 1600, NULL, NULL);
	assert_string_equal(text(p), "1/3 applied, 1 skipped; running: b");
	assert_int_equal(progress_elapsed_ms(p), 600);
	/* A non-final failure is shown; it does not start a rollback. */
	feed(p, 2, "b", "apply-failed", 1700, "exit 3", NULL);
	assert_string_equal(text(p),
			    "1/3 applied, 1 skipped; failed: b (exit 3)");
	/* The same state, now final: a change, and the rollback begins. */
	assert_int_equal(feed(p, 2, "b", "apply-failed", 1800, "exit 4", "1"),
			 1);
	assert_string_equal(text(p), "1/3 applied, 1 skipped; rolling back: "
				     "0/1 reverted; failed: b (exit 4)");
	feed(p, 2, "a", "reverting", 1900, NULL, NULL);
	assert_string_equal(text(p),
			    "0/3 applied, 1 skipped; rolling back: 0/1 "
			    "reverted; reverting: a; failed: b (exit 4)");
	feed(p, 2, "a", "reverted", 2000, NULL, NULL);
	json_t *j = progress_json(p);
	assert_int_equal(json_integer_value(json_object_get(j, "reverted")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "to_revert")),
			 1);
	assert_true(json_is_true(json_object_get(j, "rollback")));
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(j, "failed"), 0), "error")),
	    "exit 4");
	assert_int_equal(json_integer_value(json_object_get(j, "elapsed_ms")),
			 1000);
	json_decref(j);
	/* A newer run starts again. */
	assert_int_equal(feed(p, 3, "c", "running", 5000, NULL, NULL), 1);
	assert_string_equal(text(p), "0/3 applied; running: c");
	assert_int_equal(progress_elapsed_ms(p), 0);
	progress_free(p);
}

/* A failure is shown while it is its task's state: a completed run whose
 * task failed once ends without it; an older failure still in force is
 * shown when a newer one clears. */
static void test_failure_clears(void **state)
{
	struct progress *p = three_tasks();

	(void)state;
	feed(p, 2, "a", "running", 1000, NULL, NULL);
	feed(p, 2, "a", "applied", 1100, NULL, NULL);
	feed(p, 2, "b", "running", 1200, NULL, NULL);
	feed(p, 2, "c", "running", 1200, NULL, NULL);
	feed(p, 2, "b", "apply-failed", 1300, "exit 3", NULL);
	feed(p, 2, "c", "apply-failed", 1400, "timed out", NULL);
	assert_string_equal(text(p), "1/3 applied; failed: c (timed out)");
	assert_int_equal(feed(p, 2, "c", "running", 1500, NULL, NULL), 1);
	assert_string_equal(text(p),
			    "1/3 applied; running: c; failed: b (exit 3)");
	feed(p, 2, "b", "running", 1600, NULL, NULL);
	assert_string_equal(text(p), "1/3 applied; running: b,c");
	feed(p, 2, "b", "applied", 1700, NULL, NULL);
	feed(p, 2, "c", "applied", 1800, NULL, NULL);
	assert_string_equal(text(p), "3/3 applied");
	json_t *j = progress_json(p);
	assert_int_equal(json_array_size(json_object_get(j, "failed")), 0);
	assert_true(json_is_false(json_object_get(j, "rollback")));
	json_decref(j);
	progress_free(p);
}

/* A rollback where tasks have no revert: they are skipped, counted as
 * done, and the last line says "rolled back". */
static void test_rollback_skipped(void **state)
{
	struct progress *p = three_tasks();

	(void)state;
	feed(p, 2, "a", "applied", 1000, NULL, NULL);
	feed(p, 2, "b", "applied", 1100, NULL, NULL);
	feed(p, 2, "c", "apply-failed", 1200, "exit 1", "1");
	assert_string_equal(text(p), "2/3 applied; rolling back: 0/2 "
				     "reverted; failed: c (exit 1)");
	feed(p, 2, "b", "skipped", 1300, NULL, NULL);
	feed(p, 2, "a", "reverting", 1400, NULL, NULL);
	assert_string_equal(text(p), "0/3 applied, 1 skipped; rolling back: 0 "
				     "reverted, 1 skipped of 2; reverting: a; "
				     "failed: c (exit 1)");
	json_t *j = progress_json(p);
	assert_true(json_is_false(json_object_get(j, "rolled_back")));
	json_decref(j);
	feed(p, 2, "a", "reverted", 1500, NULL, NULL);
	assert_string_equal(text(p), "0/3 applied, 1 skipped; rolled back: 1 "
				     "reverted, 1 skipped of 2; failed: c "
				     "(exit 1)");
	j = progress_json(p);
	assert_true(json_is_true(json_object_get(j, "rolled_back")));
	json_decref(j);
	progress_free(p);
	/* without skipped tasks: R/A, then rolled back */
	p = three_tasks();
	feed(p, 2, "a", "applied", 1000, NULL, NULL);
	feed(p, 2, "b", "apply-failed", 1100, "exit 2", "1");
	feed(p, 2, "a", "reverted", 1200, NULL, NULL);
	assert_string_equal(text(p), "0/3 applied; rolled back: 1/1 reverted; "
				     "failed: b (exit 2)");
	progress_free(p);
}

static void test_text_helpers(void **state)
{
	char out[128];

	(void)state;
	cli_text_cut("abcdef", 6, out, sizeof(out));
	assert_string_equal(out, "abcdef");
	cli_text_cut("abcdefg", 6, out, sizeof(out));
	assert_string_equal(out, "abc...");
	cli_text_cut("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x", 4, out, sizeof(out));
	assert_string_equal(out, "\xc3\xa9...");
	cli_text_cut("a\nb\x01", 10, out, sizeof(out));
	assert_string_equal(out, "a b ");
	/* C1 controls (U+009B is CSI to a terminal) become spaces too, and a
	 * byte that is not UTF-8 is shown as '?', never copied raw */
	cli_text_cut("a\xc2\x9b"
		     "2Jb\xc2\x85",
		     10, out, sizeof(out));
	assert_string_equal(out, "a 2Jb ");
	cli_text_cut("x\x9b"
		     "31my\xff",
		     10, out, sizeof(out));
	assert_string_equal(out, "x?31my?");
	cli_fmt_elapsed(0, out, sizeof(out));
	assert_string_equal(out, "+0.000s");
	cli_fmt_elapsed(59999, out, sizeof(out));
	assert_string_equal(out, "+59.999s");
	cli_fmt_elapsed(125000, out, sizeof(out));
	assert_string_equal(out, "+2m05.000s");
	cli_fmt_elapsed(3725000, out, sizeof(out));
	assert_string_equal(out, "+1h02m05s");
	cli_fmt_elapsed(-5, out, sizeof(out));
	assert_string_equal(out, "+0.000s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_and_changes),
	    cmocka_unit_test(test_failure_clears),
	    cmocka_unit_test(test_rollback_skipped),
	    cmocka_unit_test(test_text_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
