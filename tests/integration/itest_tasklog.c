/* Integration tests of the task log script (log_append.lua) and finish
 * outcome dead against a real redis-server: only the job's current owner
 * writes, run/fence/at/owner come from the job hash, arguments out of
 * form are refused, the lease is renewed and a cancel reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "itest_common.h"
#include "wfp/util.h"

static struct wfp_config cfg;
static struct wfp_client *c;
static const char *tag;

static int setup(void **state)
{
	(void)state;
	itest_flush(c);
	return 0;
}

/* Posts job id and claims it as owner. */
static void claimed(const char *id, const char *owner, struct wfp_claim *w)
{
	struct wfp_post p = {id, "job", "{}", 3, NULL, 1000};
	char got[WFP_ID_MAX];
	int n = 0;

	assert_int_equal(wfp_job_post(c, &p, got, NULL), 0);
	assert_int_equal(wfp_job_claim(c, owner, 1, 60000, 0, w, &n), 0);
	assert_int_equal(n, 1);
}

/* Fills argv for log_append of job id with one entry (8 words from
 * entry); returns the word count. fence (24 bytes) holds the fence. */
static int append_args(const char **argv, const char *id,
		       const struct wfp_claim *w, char *fence, const char *vis,
		       const char *const *entry, int nentries)
{
	static struct wfp_key job, log;
	static char count[8];

	job = wfp_key_job(tag, id), log = wfp_key_log(tag, id);
	snprintf(fence, 24, "%lld", (long long)w->fence);
	snprintf(count, sizeof(count), "%d", nentries);
	argv[0] = job.s, argv[1] = log.s, argv[2] = tag, argv[3] = id;
	argv[4] = w->token, argv[5] = fence, argv[6] = vis, argv[7] = count;
	for (int i = 0; i < 8 * nentries; i++)
		argv[8 + i] = entry[i];
	return 8 + 8 * nentries;
}

/* Runs a command whose reply is not needed. */
static void cmd(const char *fmt, const char *key, const char *value)
{
	redisReply *r = wfp_client_commandf(c, fmt, key, value);

	assert_non_null(r);
	freeReplyObject(r);
}

/* Runs log_append; returns the reply (caller frees) or NULL. */
static redisReply *append(int argc, const char **argv)
{
	return wfp_client_eval(c, WFP_LUA_LOG_APPEND, 2, argc, argv, NULL);
}

/* Expects a refusal naming want. */
static void refused(int argc, const char **argv, const char *want)
{
	assert_null(append(argc, argv));
	if (strstr(wfp_client_error(c), want) == NULL)
		fail_msg("'%s' does not say '%s'", wfp_client_error(c), want);
}

/* The log's entries (XRANGE reply; the caller frees it). */
static redisReply *log_entries(const char *id)
{
	struct wfp_key log = wfp_key_log(tag, id);
	redisReply *r = wfp_client_commandf(c, "XRANGE %s - +", log.s);

	assert_non_null(r);
	return r;
}

/* Field name of XRANGE entry e, or "". */
static const char *entry_field(const redisReply *e, const char *name)
{
	const redisReply *f = e->element[1];

	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		if (strcmp(f->element[i]->str, name) == 0)
			return f->element[i + 1]->str;
	}
	return "";
}

/* The owner's entries get run, fence, at and owner from the job hash, in
 * the fixed field order; outputs and error only when given. */
static void test_append_fields_from_job(void **state)
{
	const char *entry[16] = {
	    "ip", "running", "1", "",	       "", "", "", "",
	    "ip", "applied", "1", "{\"a\":1}", "", "", "", ""};
	const char *argv[40];
	char fence[24], want_fence[24];
	struct wfp_claim w;
	redisReply *r;
	int argc;

	(void)state;
	claimed("t1", "exec-a", &w);
	cmd("HSET %s run %s", wfp_key_job(tag, "t1").s, "4");
	argc = append_args(argv, "t1", &w, fence, "0", entry, 2);
	r = append(argc, argv);
	assert_non_null(r);
	assert_int_equal(r->elements, 2);
	assert_string_equal(r->element[1]->str, "");
	freeReplyObject(r);
	r = log_entries("t1");
	assert_int_equal(r->elements, 2);
	snprintf(want_fence, sizeof(want_fence), "%lld", (long long)w.fence);
	{
		const redisReply *f = r->element[1]->element[1];
		const char *names[] = {"run",	"task", "state", "attempt",
				       "fence", "at",	"owner", "outputs"};

		assert_int_equal(f->elements, 16);
		for (int i = 0; i < 8; i++)
			assert_string_equal(f->element[2 * i]->str, names[i]);
	}
	assert_string_equal(entry_field(r->element[1], "run"), "4");
	assert_string_equal(entry_field(r->element[1], "fence"), want_fence);
	assert_string_equal(entry_field(r->element[1], "owner"), "exec-a");
	assert_string_equal(entry_field(r->element[1], "outputs"), "{\"a\":1}");
	assert_true(atoll(entry_field(r->element[0], "at")) > 1600000000000LL);
	assert_string_equal(entry_field(r->element[0], "error"), "");
	freeReplyObject(r);
	wfp_claims_release(&w, 1);
}

/* A full batch (WFP_LOG_BATCH_MAX = 64 entries, 520 words) goes in one
 * call of the client (WFP_SCRIPT_ARGS_MAX holds it) and is appended in
 * order; an entry count past the batch is refused. */
static void test_full_batch(void **state)
{
	static const char *entry[8 * WFP_LOG_BATCH_MAX];
	static const char *argv[8 + 8 * WFP_LOG_BATCH_MAX];
	static char names[WFP_LOG_BATCH_MAX][16];
	char fence[24];
	struct wfp_claim w;
	redisReply *r;
	int argc;

	(void)state;
	assert_int_equal(WFP_LOG_BATCH_MAX, 64);
	for (int i = 0; i < WFP_LOG_BATCH_MAX; i++) {
		const char **e = entry + 8 * i;

		snprintf(names[i], sizeof(names[i]), "t%d", i);
		e[0] = names[i], e[1] = i % 2 ? "applied" : "running";
		e[2] = "1";
		e[3] = e[4] = e[5] = e[6] = e[7] = "";
	}
	claimed("t9", "exec-a", &w);
	argc =
	    append_args(argv, "t9", &w, fence, "0", entry, WFP_LOG_BATCH_MAX);
	r = append(argc, argv);
	if (r == NULL)
		fail_msg("a full batch refused: %s", wfp_client_error(c));
	freeReplyObject(r);
	r = log_entries("t9");
	assert_int_equal(r->elements, WFP_LOG_BATCH_MAX);
	for (int i = 0; i < WFP_LOG_BATCH_MAX; i++)
		assert_string_equal(entry_field(r->element[i], "task"),
				    names[i]);
	freeReplyObject(r);
	argv[7] = "65"; /* more entries than a call may carry */
	refused(argc, argv, "entry count");
	wfp_claims_release(&w, 1);
}

/* A writer that lost the job (released, claimed by another) writes
 * nothing: its append and its finish are refused STALE. */
static void test_stale_owner_refused(void **state)
{
	const char *entry[8] = {"ip", "applied", "1", "", "", "", "", ""};
	const char *argv[20];
	char fence[24];
	struct wfp_claim a, b;
	int n = 0, argc;
	redisReply *r;

	(void)state;
	claimed("t2", "exec-a", &a);
	assert_int_equal(
	    wfp_job_finish(c, "t2", a.token, a.fence, WFP_OP_RELEASE, "", NULL),
	    0);
	assert_int_equal(wfp_job_claim(c, "exec-b", 1, 60000, 0, &b, &n), 0);
	assert_int_equal(n, 1);
	argc = append_args(argv, "t2", &a, fence, "5000", entry, 1);
	refused(argc, argv, "STALE");
	/* The right token with an older fence is refused too. */
	argv[4] = b.token;
	refused(argc, argv, "STALE");
	r = log_entries("t2");
	assert_int_equal(r->elements, 0);
	freeReplyObject(r);
	assert_int_equal(wfp_job_finish(c, "t2", a.token, a.fence,
					WFP_OP_COMPLETE, "", NULL),
			 -1);
	assert_non_null(strstr(wfp_client_error(c), "STALE"));
	wfp_claims_release(&a, 1);
	wfp_claims_release(&b, 1);
}

/* Arguments out of form are refused before any write. */
static void test_append_bad_arguments(void **state)
{
	const char *entry[8] = {"ip", "applied", "1", "", "", "", "", ""};
	const char *argv[20];
	char fence[24];
	struct wfp_claim w;
	redisReply *r;
	int argc;

	(void)state;
	claimed("t3", "exec-a", &w);
	argc = append_args(argv, "t3", &w, fence, "0", entry, 1);
	argv[9] = "done";
	refused(argc, argv, "BADARG state");
	argv[9] = "applied", argv[10] = "0";
	refused(argc, argv, "BADARG attempt");
	argv[10] = "1000001"; /* past WFP_LOG_ATTEMPT_MAX */
	refused(argc, argv, "BADARG attempt");
	argv[10] = "1", argv[11] = "[1]";
	refused(argc, argv, "BADARG outputs");
	argv[11] = "{\"a\":1,\"a\":2}";
	refused(argc, argv, "BADARG outputs");
	argv[11] = "", argv[12] = "two\nlines";
	refused(argc, argv, "BADARG error");
	argv[12] = "", argv[13] = "yes";
	refused(argc, argv, "BADARG final");
	argv[13] = "", argv[14] = "\xff";
	refused(argc, argv, "BADARG stdout");
	argv[14] = "", argv[8] = "bad name";
	refused(argc, argv, "BADARG task");
	argv[8] = "ip", argv[5] = "0";
	refused(argc, argv, "BADARG fence");
	argv[5] = fence, argv[6] = "50";
	refused(argc, argv, "BADARG visibility_ms");
	argv[6] = "0", argv[7] = "2";
	refused(argc, argv, "BADARG 2 entries take");
	argv[7] = "1", argv[1] = wfp_key_log(tag, "other").s;
	refused(argc, argv, "BADARG key");
	r = log_entries("t3");
	assert_int_equal(r->elements, 0);
	freeReplyObject(r);
	wfp_claims_release(&w, 1);
}

/* visibility_ms > 0 renews the lease; 0 leaves it; a cancel is
 * reported, with n = 0 as well. */
static void test_lease_and_cancel(void **state)
{
	const char *argv[20];
	char fence[24];
	struct wfp_claim w;
	redisReply *r;
	long long before, after;
	int argc;

	(void)state;
	claimed("t4", "exec-a", &w);
	cmd("HSET %s lease_until %s", wfp_key_job(tag, "t4").s, "5");
	argc = append_args(argv, "t4", &w, fence, "0", NULL, 0);
	r = append(argc, argv);
	assert_non_null(r);
	assert_int_equal(r->element[0]->integer, 5);
	freeReplyObject(r);
	before = wfp_now_ms();
	argv[6] = "30000";
	r = append(argc, argv);
	assert_non_null(r);
	after = itest_job_int(c, "t4", "lease_until");
	assert_true(after >= before + 29000);
	assert_int_equal(r->element[0]->integer, after);
	freeReplyObject(r);
	cmd("HSET %s cancel %s", wfp_key_job(tag, "t4").s, "by-operator");
	r = append(argc, argv);
	assert_non_null(r);
	assert_string_equal(r->element[1]->str, "by-operator");
	freeReplyObject(r);
	wfp_claims_release(&w, 1);
}

/* Adds n filler entries to job id's log, 5,000 a script call (so Redis
 * is never held long by one: other tests may share it). */
static void fill_log(const char *id, long long n)
{
	static const char lua[] =
	    "for i = 1, tonumber(ARGV[1]) do "
	    "redis.call('XADD', KEYS[1], '*', 'f', 'v') end";
	struct wfp_key log = wfp_key_log(tag, id);

	for (long long done = 0; done < n; done += 5000) {
		long long k = n - done < 5000 ? n - done : 5000;
		redisReply *r =
		    wfp_client_commandf(c, "EVAL %s 1 %s %lld", lua, log.s, k);

		assert_non_null(r);
		assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
		freeReplyObject(r);
	}
}

/* The bytes of XRANGE entry e: every field name and value. */
static long long entry_bytes(const redisReply *e)
{
	const redisReply *f = e->element[1];
	long long n = 0;

	for (size_t i = 0; i < f->elements; i++)
		n += (long long)f->element[i]->len;
	return n;
}

/* Sets job id's log_bytes to v. */
static void set_log_bytes(const char *id, long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", v);
	cmd("HSET %s log_bytes %s", wfp_key_job(tag, id).s, num);
}

/* The task log of a job is bounded: log_bytes counts each entry's
 * bytes; past WFP_LOG_ENTRIES_MAX entries or WFP_LOG_BYTES_MAX bytes a
 * call with a `running` entry is refused LOGFULL (nothing written) while
 * ends and reverts still go in; past the reserves nothing goes in. */
static void test_log_full(void **state)
{
	const char *start[8] = {"ip", "running", "1", "", "", "", "", ""};
	const char *end[8] = {"ip", "applied", "1", "{\"a\":1}",
			      "",   "",	       "",  ""};
	const char *argv[20];
	char fence[24];
	struct wfp_claim w;
	redisReply *r;
	long long bytes = 0;
	int argc;

	(void)state;
	claimed("t6", "exec-a", &w);
	argc = append_args(argv, "t6", &w, fence, "0", start, 1);
	freeReplyObject(append(argc, argv));
	argc = append_args(argv, "t6", &w, fence, "0", end, 1);
	freeReplyObject(append(argc, argv));
	r = log_entries("t6");
	assert_int_equal(r->elements, 2);
	for (size_t i = 0; i < r->elements; i++)
		bytes += entry_bytes(r->element[i]);
	freeReplyObject(r);
	assert_int_equal(itest_job_int(c, "t6", "log_bytes"), bytes);

	/* Bytes: a start past WFP_LOG_BYTES_MAX is refused, an end is not;
	 * past the reserve an end is refused too. */
	set_log_bytes("t6", WFP_LOG_BYTES_MAX - 10);
	argc = append_args(argv, "t6", &w, fence, "0", start, 1);
	refused(argc, argv, "LOGFULL task log of job t6 holds 2 entries");
	assert_non_null(strstr(wfp_client_error(c), "no task starts"));
	argc = append_args(argv, "t6", &w, fence, "0", end, 1);
	freeReplyObject(append(argc, argv));
	set_log_bytes("t6", WFP_LOG_BYTES_MAX + WFP_LOG_BYTES_RESERVE - 10);
	refused(argc, argv, "nothing is written");
	r = log_entries("t6");
	assert_int_equal(r->elements, 3);
	freeReplyObject(r);

	/* Entries: the same at WFP_LOG_ENTRIES_MAX and past the reserve. */
	set_log_bytes("t6", 0);
	fill_log("t6", WFP_LOG_ENTRIES_MAX - 3);
	argc = append_args(argv, "t6", &w, fence, "0", start, 1);
	refused(argc, argv, "no task starts past 100000 entries");
	argc = append_args(argv, "t6", &w, fence, "0", end, 1);
	freeReplyObject(append(argc, argv));
	fill_log("t6", WFP_LOG_ENTRIES_RESERVE - 1);
	refused(argc, argv, "nothing is written past 125000 entries");
	r = wfp_client_commandf(c, "XLEN %s", wfp_key_log(tag, "t6").s);
	assert_non_null(r);
	assert_int_equal(r->integer,
			 WFP_LOG_ENTRIES_MAX + WFP_LOG_ENTRIES_RESERVE);
	freeReplyObject(r);
	cmd("DEL %s%s", wfp_key_log(tag, "t6").s, "");
	wfp_claims_release(&w, 1);
}

/* finish outcome dead: the job ends dead at once (attempts remain) with
 * the reason as its error, and goes to the dead-letter stream. */
static void test_finish_dead(void **state)
{
	struct wfp_key job = wfp_key_job(tag, "t5");
	struct wfp_claim w;
	char fence[24], err[128];
	const char *argv[8] = {
	    job.s, tag, "t5", NULL, fence, "dead", "workflow: bad", "60000"};
	redisReply *r;

	(void)state;
	claimed("t5", "exec-a", &w);
	argv[3] = w.token;
	snprintf(fence, sizeof(fence), "%lld", (long long)w.fence);
	r = wfp_client_eval(c, WFP_LUA_FINISH, 1, 8, argv, NULL);
	assert_non_null(r);
	assert_string_equal(r->str, "dead");
	freeReplyObject(r);
	itest_job_str(c, "t5", "error", err, sizeof(err));
	assert_string_equal(err, "workflow: bad");
	r = wfp_client_commandf(c, "XLEN %s", wfp_key_deadletter(tag).s);
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);
	wfp_claims_release(&w, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_append_fields_from_job, setup),
	    cmocka_unit_test_setup(test_full_batch, setup),
	    cmocka_unit_test_setup(test_stale_owner_refused, setup),
	    cmocka_unit_test_setup(test_append_bad_arguments, setup),
	    cmocka_unit_test_setup(test_lease_and_cancel, setup),
	    cmocka_unit_test_setup(test_finish_dead, setup),
	    cmocka_unit_test_setup(test_log_full, setup),
	};
	int rc;

	c = itest_client(&cfg);
	tag = wfp_client_tag(c);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	wfp_client_free(c);
	return rc;
}
