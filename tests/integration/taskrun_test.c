/* Tests of wfp-executor's task runner (services/executor/taskrun.h) with
 * real processes and real plugins: environment, outputs, tails, exit
 * codes, timeouts and process groups, WFP_EXEC_ALLOW and PATH, kill, the
 * built-in plugins, dlopen'd ones (WFP_TEST_PLUGIN_DIR) and many tasks at
 * once. No Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "taskrun.h"
#include "wfp/task.h"
#include "wfp/util.h"

/* What one done callback saw. */
struct got {
	int called;
	int during_start; /* called while wfp_taskrun_start ran */
	int ok, timed_out, killed;
	char error[WFP_TASK_ERROR_MAX];
	char *outputs;
	char *out_tail, *err_tail;
	int64_t duration_ms;
};

static struct event_base *base;
static struct wfp_taskrunner *tr;
static int in_start;
static char tmpdir[256];

/* The done callback of every test: copies the result. */
static void on_done(const struct wfp_taskrun_result *r, void *arg)
{
	struct got *g = arg;

	g->called++;
	g->during_start |= in_start;
	g->ok = r->ok;
	g->timed_out = r->timed_out;
	g->killed = r->killed;
	wfp_strlcpy(g->error, r->error ? r->error : "", sizeof(g->error));
	g->outputs = r->outputs ? strdup(r->outputs) : NULL;
	g->out_tail = strdup(r->out_tail);
	g->err_tail = strdup(r->err_tail);
	g->duration_ms = r->duration_ms;
}

/* Frees what on_done copied. */
static void got_free(struct got *g)
{
	free(g->outputs);
	free(g->out_tail);
	free(g->err_tail);
	memset(g, 0, sizeof(*g));
}

/* A runner with the given allow list and plugin dir. */
static void runner_make(const char *const *allow, const char *plugin_dir,
			size_t output_max)
{
	struct wfp_taskrunner_config cfg = {plugin_dir, allow, output_max};
	char err[256];

	wfp_taskrunner_free(tr);
	tr = wfp_taskrunner_new(base, &cfg, err, sizeof(err));
	assert_non_null(tr);
}

/* The directory the test's plugins were built in. */
static const char *plugin_dir(void)
{
	const char *d = getenv("WFP_TEST_PLUGIN_DIR");

	return d ? d : "plugins";
}

static int setup(void **state)
{
	(void)state;
	base = event_base_new();
	tr = NULL;
	runner_make(NULL, plugin_dir(), 4096);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	wfp_taskrunner_free(tr);
	tr = NULL;
	event_base_free(base);
	return 0;
}

/* A spec for action a with fixed job fields. */
static void spec_init(struct wfp_taskrun_spec *s, const struct wfp_action *a)
{
	memset(s, 0, sizeof(*s));
	s->job_id = "j1";
	s->task = "t1";
	s->task_key = "j1:1:t1";
	s->attempt = 1;
	s->fence = 7;
	s->action = a;
	s->lock_fences = "";
}

/* An exec action of argv (NULL-terminated). */
static struct wfp_action act_exec(char **argv)
{
	struct wfp_action a;

	memset(&a, 0, sizeof(a));
	a.kind = WFP_ACTION_EXEC;
	a.argv = argv;
	while (argv[a.argc] != NULL)
		a.argc++;
	return a;
}

/* A plugin action. */
static struct wfp_action act_plugin(const char *name, const char *args)
{
	struct wfp_action a;

	memset(&a, 0, sizeof(a));
	a.kind = WFP_ACTION_PLUGIN;
	a.plugin = (char *)name;
	a.args = (char *)args;
	return a;
}

/* Starts s; checks that done did not come from inside start. */
static struct wfp_taskrun *start(const struct wfp_taskrun_spec *s,
				 struct got *g)
{
	struct wfp_taskrun *r;

	in_start = 1;
	r = wfp_taskrun_start(tr, s, on_done, g);
	in_start = 0;
	assert_non_null(r);
	assert_int_equal(g->called, 0);
	return r;
}

/* Runs the loop until g was called. */
static void wait_done(struct got *g)
{
	while (!g->called)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(g->called, 1);
	assert_int_equal(g->during_start, 0);
}

/* Starts s and waits for its result. */
static void run(const struct wfp_taskrun_spec *s, struct got *g)
{
	start(s, g);
	wait_done(g);
}

/* Runs argv with default spec fields. */
static void run_argv(char **argv, struct got *g)
{
	struct wfp_action a = act_exec(argv);
	struct wfp_taskrun_spec s;

	spec_init(&s, &a);
	run(&s, g);
}

/* Runs /bin/sh -c script (test text only). */
static void run_sh(const char *script, struct got *g)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

	run_argv(argv, g);
}

/* Returns 1 when process pid is gone (or a zombie: dead, not yet reaped
 * by init), waiting up to 3 s. */
static int pid_gone(pid_t pid)
{
	for (int i = 0; i < 300; i++) {
		char path[64], buf[512];
		FILE *f;
		char *p;

		if (kill(pid, 0) != 0 && errno == ESRCH)
			return 1;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (f != NULL) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			fclose(f);
			buf[n] = '\0';
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'Z')
				return 1;
		}
		wfp_sleep_ms(10);
	}
	return 0;
}

/* ---- exec: environment and outputs ----------------------------------- */

/* Compares two strings for qsort. */
static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits text into sorted lines (at most max). Returns the count. */
static int sorted_lines(char *text, char **lines, int max)
{
	int n = 0;

	for (char *p = text; p && *p && n < max;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		lines[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	qsort(lines, (size_t)n, sizeof(*lines), str_cmp);
	return n;
}

/* The task's environment is exactly the listed variables: inputs (the
 * later of two names wins), the task's own, PATH HOME LANG TZ; nothing
 * else of the executor's (not WFP_REDIS_URL). */
static void test_env_exact(void **state)
{
	char *argv[] = {"env", NULL};
	struct wfp_action a = act_exec(argv);
	const char *names[] = {"a", "b", "b"};
	const char *values[] = {"1", "first", "later one"};
	char *want[] = {"HOME=/home/t",	       "LANG=C.UTF-8",
			"PATH=/usr/bin:/bin",  "TZ=UTC",
			"WFP_ATTEMPT=2",       "WFP_FENCE=77",
			"WFP_IN_a=1",	       "WFP_IN_b=later one",
			"WFP_JOB_ID=j9",       "WFP_LOCK_FENCES=l1=5 l2=6",
			"WFP_PHASE=revert",    "WFP_TASK=t9",
			"WFP_TASK_KEY=j9:2:t9"};
	int nwant = (int)(sizeof(want) / sizeof(want[0]));
	struct wfp_taskrun_spec s;
	struct got g = {0};
	char *lines[64];
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	int n;

	(void)state;
	setenv("WFP_REDIS_URL", "redis://:secret@127.0.0.1:1/0", 1);
	setenv("OTHER_THING", "x", 1);
	setenv("HOME", "/home/t", 1);
	setenv("LANG", "C.UTF-8", 1);
	setenv("TZ", "UTC", 1);
	setenv("PATH", "/usr/bin:/bin", 1);
	spec_init(&s, &a);
	s.job_id = "j9";
	s.task = "t9";
	s.task_key = "j9:2:t9";
	s.revert = 1;
	s.attempt = 2;
	s.fence = 77;
	s.ninputs = 3;
	s.input_names = names;
	s.input_values = values;
	s.lock_fences = "l1=5 l2=6";
	run(&s, &g);
	setenv("PATH", saved ? saved : "/usr/bin:/bin", 1);
	free(saved);
	unsetenv("WFP_REDIS_URL");
	unsetenv("OTHER_THING");
	assert_int_equal(g.ok, 1);
	n = sorted_lines(g.out_tail, lines, 64);
	assert_int_equal(n, nwant);
	for (int i = 0; i < n; i++)
		assert_string_equal(lines[i], want[i]);
	got_free(&g);
}

/* No WFP_LOCK_FENCES without locks; an input name that is not a data
 * name fails the task before anything runs. */
static void test_env_no_locks_bad_input(void **state)
{
	char *argv[] = {"env", NULL};
	struct wfp_action a = act_exec(argv);
	const char *names[] = {"bad-name"};
	const char *values[] = {"1"};
	struct wfp_taskrun_spec s;
	struct got g = {0};

	(void)state;
	spec_init(&s, &a);
	run(&s, &g);
	assert_int_equal(g.ok, 1);
	assert_null(strstr(g.out_tail, "WFP_LOCK_FENCES"));
	assert_non_null(strstr(g.out_tail, "WFP_PHASE=apply\n"));
	got_free(&g);
	s.ninputs = 1;
	s.input_names = names;
	s.input_values = values;
	run(&s, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error,
			    "input name 'bad-name' is not a data name");
	got_free(&g);
}

/* The last line of stdout is the outputs when it is a JSON object
 * (compacted); blank lines after it do not count. */
static void test_outputs_last_line(void **state)
{
	struct got g = {0};

	(void)state;
	run_sh("echo starting; echo '{\"ip\": \"10.0.0.1\",  \"n\": [1, 2]}'; "
	       "printf '\\n  \\n'",
	       &g);
	assert_int_equal(g.ok, 1);
	assert_non_null(g.outputs);
	assert_string_equal(g.outputs, "{\"ip\":\"10.0.0.1\",\"n\":[1,2]}");
	got_free(&g);
	/* No newline at the end: still the last line. */
	run_sh("printf 'x\\n{\"a\":1}'", &g);
	assert_string_equal(g.outputs, "{\"a\":1}");
	got_free(&g);
}

/* The child gets stdin /dev/null, stdout and stderr, and no other
 * descriptor of the executor (one opened here without O_CLOEXEC). */
static void test_descriptors(void **state)
{
	char *ls[] = {"ls", "-1", "/proc/self/fd", NULL};
	char *in[] = {"readlink", "/proc/self/fd/0", NULL};
	int leak = open("/dev/null", O_RDONLY);
	struct got g = {0};

	(void)state;
	assert_true(leak > 2);
	run_argv(ls, &g);
	assert_int_equal(g.ok, 1);
	/* 3 is ls's own handle on the directory it lists. */
	assert_string_equal(g.out_tail, "0\n1\n2\n3\n");
	got_free(&g);
	run_argv(in, &g);
	assert_string_equal(g.out_tail, "/dev/null\n");
	got_free(&g);
	close(leak);
}

/* A last line that is not a JSON object gives no outputs (the task still
 * succeeds); a JSON object with a key that is not a data name fails. */
static void test_outputs_not_object(void **state)
{
	struct got g = {0};

	(void)state;
	run_sh("echo '{\"a\":1}'; echo done", &g);
	assert_int_equal(g.ok, 1);
	assert_null(g.outputs);
	got_free(&g);
	run_sh("echo '[1,2]'", &g);
	assert_int_equal(g.ok, 1);
	assert_null(g.outputs);
	got_free(&g);
	run_sh("echo '{\"a\":1'", &g);
	assert_int_equal(g.ok, 1);
	assert_null(g.outputs);
	got_free(&g);
	run_sh("echo '{\"a-b\":1}'", &g);
	assert_int_equal(g.ok, 0);
	assert_non_null(
	    strstr(g.error, "outputs key 'a-b' is not a data name"));
	assert_null(g.outputs);
	got_free(&g);
}

/* exit N -> "exit N: LAST STDERR LINE" ("exit N" with none); a signal ->
 * "killed by signal N"; outputs only on success. */
static void test_exit_codes(void **state)
{
	struct got g = {0};

	(void)state;
	run_sh("echo '{\"a\":1}'; echo oops >&2; exit 3", &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "exit 3: oops");
	assert_null(g.outputs);
	assert_string_equal(g.err_tail, "oops\n");
	got_free(&g);
	run_sh("kill -TERM $$", &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "killed by signal 15");
	got_free(&g);
	run_sh("exit 0", &g);
	assert_int_equal(g.ok, 1);
	assert_null(g.outputs);
	assert_string_equal(g.out_tail, "");
	assert_string_equal(g.err_tail, "");
	got_free(&g);
}

/* A task writing 1 MB to each stream: the tails hold the last output_max
 * bytes, the end of the output. */
static void test_bounded_tails(void **state)
{
	struct got g = {0};

	(void)state;
	run_sh("head -c 1048576 /dev/zero | tr '\\0' x; echo; echo out-end; "
	       "head -c 1048576 /dev/zero | tr '\\0' y >&2; echo err-end >&2",
	       &g);
	assert_int_equal(g.ok, 1);
	assert_int_equal(strlen(g.out_tail), 4096);
	assert_int_equal(strlen(g.err_tail), 4096);
	assert_string_equal(g.out_tail + 4096 - 9, "\nout-end\n");
	assert_string_equal(g.err_tail + 4096 - 8, "err-end\n");
	assert_int_equal(g.out_tail[0], 'x');
	assert_int_equal(g.err_tail[0], 'y');
	got_free(&g);
	/* output_max 0: no tails, outputs still taken. */
	runner_make(NULL, "", 0);
	run_sh("echo '{\"a\":1}'; echo e >&2", &g);
	assert_string_equal(g.out_tail, "");
	assert_string_equal(g.err_tail, "");
	assert_string_equal(g.outputs, "{\"a\":1}");
	got_free(&g);
}

/* ---- exec: timeouts and process groups ------------------------------- */

/* Reads "PID PID" from a tail. */
static void two_pids(const char *text, pid_t *a, pid_t *b)
{
	int x = 0, y = 0;

	assert_int_equal(sscanf(text, "%d %d", &x, &y), 2);
	*a = x;
	*b = y;
}

/* At timeout_ms the whole process group gets SIGKILL: the shell and its
 * background child are both gone. */
static void test_timeout_kills_group(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "sleep 100 & echo $$ $!; sleep 100",
			NULL};
	struct wfp_action a = act_exec(argv);
	struct wfp_taskrun_spec s;
	struct got g = {0};
	pid_t sh, bg;

	(void)state;
	spec_init(&s, &a);
	s.timeout_ms = 300;
	run(&s, &g);
	assert_int_equal(g.ok, 0);
	assert_int_equal(g.timed_out, 1);
	assert_int_equal(g.killed, 0);
	assert_string_equal(g.error, "timed out after 300 ms");
	assert_true(g.duration_ms >= 300 && g.duration_ms < 5000);
	two_pids(g.out_tail, &sh, &bg);
	assert_true(pid_gone(sh));
	assert_true(pid_gone(bg));
	got_free(&g);
}

/* A background child that keeps stdout open does not hold the task: it
 * ends when the leader exits, with the leader's outputs, and the child is
 * killed. */
static void test_grandchild_holding_pipe(void **state)
{
	struct got g = {0};
	pid_t bg = 0;
	int x = 0;

	(void)state;
	run_sh("sleep 100 & echo $! >&2; echo '{\"x\":1}'", &g);
	assert_int_equal(g.ok, 1);
	assert_true(g.duration_ms < 5000);
	assert_string_equal(g.outputs, "{\"x\":1}");
	assert_int_equal(sscanf(g.err_tail, "%d", &x), 1);
	bg = x;
	assert_true(pid_gone(bg));
	got_free(&g);
}

/* wfp_taskrun_kill stops a running task at once: killed = 1. */
static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wfp_taskrun_kill(arg);
}

/* Starts s, kills it after 50 ms, waits for the result. */
static void run_and_kill(const struct wfp_taskrun_spec *s, struct got *g)
{
	struct wfp_taskrun *r = start(s, g);
	struct timeval tv = {0, 50000};

	event_base_once(base, -1, EV_TIMEOUT, kill_cb, r, &tv);
	wait_done(g);
}

static void test_kill(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "sleep 100 & echo $$ $!; wait", NULL};
	struct wfp_action a = act_exec(argv);
	struct wfp_taskrun_spec s;
	struct got g = {0};
	pid_t sh, bg;

	(void)state;
	spec_init(&s, &a);
	run_and_kill(&s, &g);
	assert_int_equal(g.ok, 0);
	assert_int_equal(g.killed, 1);
	assert_int_equal(g.timed_out, 0);
	assert_string_equal(g.error, "killed");
	assert_true(g.duration_ms < 5000);
	two_pids(g.out_tail, &sh, &bg);
	assert_true(pid_gone(sh));
	assert_true(pid_gone(bg));
	assert_int_equal(wfp_taskrunner_active(tr), 0);
	got_free(&g);
}

/* ---- exec: finding and allowing programs ----------------------------- */

/* Writes an executable (mode) script into tmpdir/name. */
static void write_script(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* A program not found: with a slash, and in PATH; nothing runs. */
static void test_not_found(void **state)
{
	char *abs[] = {"/nonexistent/prog", "x", NULL};
	char *word[] = {"no-such-program-wfp", NULL};
	struct got g = {0};

	(void)state;
	run_argv(abs, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error,
			    "program '/nonexistent/prog' is not found");
	got_free(&g);
	run_argv(word, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(
	    g.error, "program 'no-such-program-wfp' is not found in PATH");
	got_free(&g);
}

/* argv[0] without '/' is looked up in the executor's PATH; a file there
 * that is not executable is refused as such. */
static void test_path_lookup(void **state)
{
	char *argv[] = {"wfp-tool", "a b", NULL};
	char *noexec[] = {"wfp-noexec", NULL};
	char path[600];
	char *saved = strdup(getenv("PATH"));
	struct got g = {0};

	(void)state;
	write_script("wfp-tool",
		     "#!/bin/sh\necho \"{\\\"arg\\\":\\\"$1\\\"}\"\n", 0755);
	write_script("wfp-noexec", "#!/bin/sh\n", 0644);
	snprintf(path, sizeof(path), "/nonexistent:%s:%s", tmpdir, saved);
	setenv("PATH", path, 1);
	run_argv(argv, &g);
	assert_int_equal(g.ok, 1);
	assert_string_equal(g.outputs, "{\"arg\":\"a b\"}");
	got_free(&g);
	run_argv(noexec, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "program 'wfp-noexec' is not executable");
	got_free(&g);
	setenv("PATH", saved, 1);
	free(saved);
}

/* WFP_EXEC_ALLOW: a program whose resolved path is listed runs; another
 * is refused without being spawned. */
static void test_exec_allow(void **state)
{
	char **allow = NULL, err[256], value[600], marker[512];
	char tool[512];
	char *ok_argv[] = {tool, NULL};
	char *touch[] = {"touch", marker, NULL};
	struct got g = {0};

	(void)state;
	snprintf(tool, sizeof(tool), "%s/wfp-allowed", tmpdir);
	snprintf(marker, sizeof(marker), "%s/marker", tmpdir);
	write_script("wfp-allowed", "#!/bin/sh\necho '{\"ran\":1}'\n", 0755);
	/* The list names the script through a path with ".." in it. */
	snprintf(value, sizeof(value), "%s/../%s/wfp-allowed:/bin/true", tmpdir,
		 strrchr(tmpdir, '/') + 1);
	assert_int_equal(wfp_exec_allow_parse(value, &allow, err, sizeof(err)),
			 0);
	runner_make((const char *const *)allow, "", 4096);
	run_argv(ok_argv, &g);
	assert_int_equal(g.ok, 1);
	assert_string_equal(g.outputs, "{\"ran\":1}");
	got_free(&g);
	run_argv(touch, &g);
	assert_int_equal(g.ok, 0);
	assert_non_null(strstr(
	    g.error, "program 'touch' is not allowed by WFP_EXEC_ALLOW"));
	assert_int_equal(access(marker, F_OK), -1);
	got_free(&g);
	wfp_exec_allow_free(allow);
	assert_int_equal(
	    wfp_exec_allow_parse("bin/true", &allow, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'bin/true' is not absolute"));
	assert_int_equal(wfp_exec_allow_parse("", &allow, err, sizeof(err)), 0);
	assert_null(allow);
}

/* Bad runner configurations are refused with a reason. */
static void test_runner_config(void **state)
{
	struct wfp_taskrunner_config cfg = {"", NULL,
					    WFP_TASK_OUTPUT_MAX_MAX + 1};
	const char *rel[] = {"/bin/true", "true", NULL};
	char err[256], many[WFP_EXEC_ALLOW_PATHS_MAX * 3 + 8];
	char **allow = NULL;
	size_t n = 0;

	(void)state;
	assert_null(wfp_taskrunner_new(base, &cfg, err, sizeof(err)));
	assert_string_equal(err, "output max 65537 is over 65536 bytes");
	cfg.output_max = 10;
	cfg.exec_allow = rel;
	assert_null(wfp_taskrunner_new(base, &cfg, err, sizeof(err)));
	assert_string_equal(err, "exec allow path 'true' is not absolute");
	for (int i = 0; i <= WFP_EXEC_ALLOW_PATHS_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s/a",
				      i ? ":" : "");
	assert_int_equal(wfp_exec_allow_parse(many, &allow, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "exec allow list holds over 256 paths");
	many[n - 3] = '\0'; /* 256 paths */
	assert_int_equal(wfp_exec_allow_parse(many, &allow, err, sizeof(err)),
			 0);
	assert_non_null(allow);
	wfp_exec_allow_free(allow);
}

/* ---- plugins --------------------------------------------------------- */

/* Runs plugin name with args in phase revert. */
static void run_plugin(const char *name, const char *args, int revert,
		       struct got *g)
{
	struct wfp_action a = act_plugin(name, args);
	struct wfp_taskrun_spec s;

	spec_init(&s, &a);
	s.revert = revert;
	run(&s, g);
}

/* noop succeeds with no outputs; fail fails with its reason. */
static void test_builtin_noop_fail(void **state)
{
	struct got g = {0};

	(void)state;
	run_plugin("noop", "{}", 0, &g);
	assert_int_equal(g.ok, 1);
	assert_null(g.outputs);
	assert_string_equal(g.out_tail, "");
	got_free(&g);
	run_plugin("noop", NULL, 1, &g);
	assert_int_equal(g.ok, 1);
	got_free(&g);
	run_plugin("fail", "{\"reason\":\"disk full\\non sda\"}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "disk full on sda");
	got_free(&g);
	run_plugin("fail", "{}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "failed");
	got_free(&g);
}

/* sleep waits args.ms on a timer; bad args fail; kill and timeout call
 * its abort. */
static void test_builtin_sleep(void **state)
{
	struct wfp_action a = act_plugin("sleep", "{\"ms\":10000}");
	struct wfp_taskrun_spec s;
	struct got g = {0};

	(void)state;
	run_plugin("sleep", "{\"ms\":120}", 0, &g);
	assert_int_equal(g.ok, 1);
	assert_true(g.duration_ms >= 119 && g.duration_ms < 3000);
	got_free(&g);
	run_plugin("sleep", "{\"ms\":-1}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_non_null(strstr(g.error, "args.ms is not a whole number"));
	got_free(&g);
	run_plugin("sleep", "{\"ms\":86400001}", 0, &g);
	assert_int_equal(g.ok, 0);
	got_free(&g);
	spec_init(&s, &a);
	run_and_kill(&s, &g);
	assert_int_equal(g.killed, 1);
	assert_string_equal(g.error, "killed");
	assert_true(g.duration_ms < 3000);
	got_free(&g);
	s.timeout_ms = 100;
	run(&s, &g);
	assert_int_equal(g.timed_out, 1);
	assert_string_equal(g.error, "timed out after 100 ms");
	got_free(&g);
}

/* Unknown plugins: a bad name, none in the directory, no directory. */
static void test_plugin_missing(void **state)
{
	struct got g = {0};

	(void)state;
	run_plugin("nosuch", "{}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_non_null(strstr(g.error, "plugin 'nosuch' cannot be loaded"));
	got_free(&g);
	run_plugin("../counter", "{}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(
	    g.error, "plugin name '../counter' is not 1-63 of a-z 0-9 _ -");
	got_free(&g);
	runner_make(NULL, "", 4096);
	run_plugin("counter", "{}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "plugin 'counter' is not built in and "
				     "WFP_PLUGIN_DIR is not set");
	got_free(&g);
}

/* The sample plugin, loaded from WFP_PLUGIN_DIR: counts applications in
 * a file, gives outputs; revert counts down. */
static void test_plugin_counter(void **state)
{
	char args[600], file[512];
	struct got g = {0};
	FILE *f;
	int n = 0;

	(void)state;
	snprintf(file, sizeof(file), "%s/count", tmpdir);
	unlink(file);
	snprintf(args, sizeof(args), "{\"file\":\"%s\"}", file);
	run_plugin("counter", args, 0, &g);
	assert_int_equal(g.ok, 1);
	assert_string_equal(g.outputs, "{\"count\":1,\"key\":\"j1:1:t1\"}");
	got_free(&g);
	run_plugin("counter", args, 0, &g);
	assert_string_equal(g.outputs, "{\"count\":2,\"key\":\"j1:1:t1\"}");
	got_free(&g);
	run_plugin("counter", args, 1, &g);
	assert_int_equal(g.ok, 1);
	got_free(&g);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	fclose(f);
	assert_int_equal(n, 1);
	run_plugin("counter", "{}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "counter: args.file is not a string");
	got_free(&g);
}

/* A plugin built for another ABI is refused with a message. */
static void test_plugin_abi(void **state)
{
	struct got g = {0};

	(void)state;
	run_plugin("badabi", "{}", 0, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(
	    g.error, "plugin 'badabi' has ABI 999, this executor takes 1");
	got_free(&g);
}

/* What a plugin sees through the wfp_task_* accessors (the later of two
 * inputs with one name wins), done from a later event, a second done
 * ignored. */
static void test_plugin_api(void **state)
{
	struct wfp_action a = act_plugin("testplug", "{}");
	const char *names[] = {"a", "b", "a"};
	const char *values[] = {"1", "2", "3"};
	struct wfp_taskrun_spec s;
	struct got g = {0};

	(void)state;
	spec_init(&s, &a);
	s.ninputs = 3;
	s.input_names = names;
	s.input_values = values;
	s.lock_fences = "l=4";
	run(&s, &g);
	assert_int_equal(g.ok, 1);
	assert_string_equal(
	    g.outputs, "{\"job\":\"j1\",\"task\":\"t1\",\"phase\":\"apply\","
		       "\"attempt\":1,\"fence\":7,\"key\":\"j1:1:t1\","
		       "\"locks\":\"l=4\",\"ninputs\":3,\"in_a\":\"3\","
		       "\"first\":\"a\"}");
	got_free(&g);
	a.args = "{\"later\":true,\"outputs\":\"{\\\"x\\\": 1}\"}";
	run(&s, &g);
	assert_int_equal(g.ok, 1);
	assert_string_equal(g.outputs, "{\"x\":1}");
	got_free(&g);
	a.args = "{\"twice\":true,\"outputs\":\"{}\"}";
	run(&s, &g);
	assert_int_equal(g.ok, 1);
	assert_string_equal(g.outputs, "{}");
	got_free(&g);
}

/* A plugin's outputs must be a JSON object with data-name keys within
 * WFP_TASK_OUTPUTS_MAX; apply returning -1 and a missing revert fail. */
static void test_plugin_bad_outputs(void **state)
{
	struct wfp_action a = act_plugin("testplug", "{\"outputs\":\"[1]\"}");
	size_t big = WFP_TASK_OUTPUTS_MAX + 100;
	char *args = malloc(big + 64);
	struct wfp_taskrun_spec s;
	struct got g = {0};
	int n;

	(void)state;
	spec_init(&s, &a);
	run(&s, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "outputs are not a JSON object");
	assert_null(g.outputs);
	got_free(&g);
	a.args = "{\"outputs\":\"{\\\"bad key\\\":1}\"}";
	run(&s, &g);
	assert_int_equal(g.ok, 0);
	assert_non_null(strstr(g.error, "outputs key 'bad key'"));
	got_free(&g);
	n = snprintf(args, 64, "{\"outputs\":\"{\\\"a\\\":\\\"");
	memset(args + n, 'x', big);
	snprintf(args + n + big, 64, "\\\"}\"}");
	a.args = args;
	run(&s, &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "outputs are over 65536 bytes");
	got_free(&g);
	free(args);
	a.args = "{\"refuse\":true}";
	run(&s, &g);
	assert_string_equal(g.error, "plugin 'testplug' failed to start");
	got_free(&g);
	a.args = "{}";
	s.revert = 1;
	run(&s, &g);
	assert_string_equal(g.error, "plugin 'testplug' has no revert");
	got_free(&g);
}

/* ---- many at once, done never inside start, free ----------------------- */

/* 50 exec tasks in flight: all end, all are reaped, none is left. */
static void test_many_concurrent(void **state)
{
	struct got g[50];
	char *argv[] = {"/bin/sh", "-c", "sleep 0.2; echo \"{\\\"n\\\":$$}\"",
			NULL};
	struct wfp_action a = act_exec(argv);
	struct wfp_taskrun_spec s;
	int done = 0;

	(void)state;
	memset(g, 0, sizeof(g));
	spec_init(&s, &a);
	for (int i = 0; i < 50; i++)
		start(&s, &g[i]);
	assert_int_equal(wfp_taskrunner_active(tr), 50);
	while (done < 50) {
		event_base_loop(base, EVLOOP_ONCE);
		done = 0;
		for (int i = 0; i < 50; i++)
			done += g[i].called;
	}
	assert_int_equal(wfp_taskrunner_active(tr), 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(g[i].called, 1);
		assert_int_equal(g[i].ok, 1);
		assert_non_null(g[i].outputs);
		got_free(&g[i]);
	}
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* ---- hostile output and many tasks ----------------------------------- */

/* Output with NUL bytes: the tails still end with the end of the output
 * (a NUL is shown as '?'), they are not cut at the first NUL. */
static void test_tail_nul(void **state)
{
	struct got g = {0};

	(void)state;
	run_sh("printf 'a\\000b\\n'; echo out-end; printf 'x\\000y\\n' >&2; "
	       "echo err-end >&2; exit 1",
	       &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.out_tail, "a?b\nout-end\n");
	assert_string_equal(g.err_tail, "x?y\nerr-end\n");
	got_free(&g);
}

/* A last line that is a JSON object over WFP_TASK_OUTPUTS_MAX bytes fails
 * the task (as outputs too big after compaction do), instead of a success
 * whose outputs silently vanish; a long line that is no object is still
 * no outputs. */
static void test_outputs_line_too_long(void **state)
{
	struct got g = {0};

	(void)state;
	run_sh("printf '{\"a\":\"'; head -c 70000 /dev/zero | tr '\\0' x; "
	       "printf '\"}\\r\\n'",
	       &g);
	assert_int_equal(g.ok, 0);
	assert_string_equal(g.error, "outputs are over 65536 bytes");
	assert_null(g.outputs);
	got_free(&g);
	run_sh("head -c 70000 /dev/zero | tr '\\0' x; echo", &g);
	assert_int_equal(g.ok, 1);
	assert_null(g.outputs);
	got_free(&g);
	/* exactly at the bound: taken */
	run_sh("printf '{\"a\":\"'; head -c 65528 /dev/zero | tr '\\0' x; "
	       "printf '\"}\\n'",
	       &g);
	assert_int_equal(g.ok, 1);
	assert_non_null(g.outputs);
	assert_int_equal(strlen(g.outputs), 65536);
	got_free(&g);
}

/* Outputs nested deeper than the task log takes (WFP_PAYLOAD_DEPTH_MAX
 * levels, the outer object counted) fail the task: jansson reads up to
 * 2048 levels, and log_append.lua refused the whole log write (BADARG),
 * so the executor lost the job at each try. Exactly at the bound: taken. */
static void test_outputs_too_deep(void **state)
{
	char script[256];
	struct got g = {0};

	(void)state;
	for (int depth = 512; depth <= 513; depth++) {
		snprintf(script, sizeof(script),
			 "printf '{\"a\":'; i=2; while [ $i -lt %d ]; do "
			 "printf '['; i=$((i+1)); done; printf 1; i=2; "
			 "while [ $i -lt %d ]; do printf ']'; i=$((i+1)); "
			 "done; echo '}'",
			 depth + 1, depth + 1);
		run_sh(script, &g);
		if (depth == 512) {
			assert_int_equal(g.ok, 1);
			assert_non_null(g.outputs);
		} else {
			assert_int_equal(g.ok, 0);
			assert_string_equal(g.error,
					    "outputs nest deeper than 512 "
					    "levels");
		}
		got_free(&g);
	}
	/* a plugin's outputs too */
	{
		char args[2048];
		size_t o = (size_t)snprintf(args, sizeof(args),
					    "{\"outputs\":\"{\\\"a\\\":");

		for (int i = 0; i < 512; i++)
			args[o++] = '[';
		args[o++] = '1';
		for (int i = 0; i < 512; i++)
			args[o++] = ']';
		snprintf(args + o, sizeof(args) - o, "}\"}");
		run_plugin("testplug", args, 0, &g);
		assert_int_equal(g.ok, 0);
		assert_string_equal(g.error,
				    "outputs nest deeper than 512 levels");
		got_free(&g);
	}
}

/* A failed program's error ends with the last non-empty line it wrote to
 * stderr (why it failed): blanks around it trimmed, controls made spaces,
 * at most EXEC_NOTE_MAX (200) bytes of its end, cut on a character
 * boundary; none when stderr was empty or blank. */
static void test_exit_stderr_note(void **state)
{
	struct got g = {0};
	const char *e;

	(void)state;
	run_sh("echo first >&2; printf '\t cannot reach hypervisor h1 \r\n"
	       "\n  \n' >&2; exit 3",
	       &g);
	assert_string_equal(g.error, "exit 3: cannot reach hypervisor h1");
	got_free(&g);
	run_sh("printf 'a\033[2Jb\tc' >&2; exit 4", &g);
	assert_string_equal(g.error, "exit 4: a [2Jb c");
	assert_true(wfp_text_ok(g.error, strlen(g.error)));
	got_free(&g);
	run_sh("echo partial >&2; kill -KILL $$", &g);
	assert_string_equal(g.error, "killed by signal 9: partial");
	got_free(&g);
	run_sh("echo '  ' >&2; echo noise; exit 2", &g);
	assert_string_equal(g.error, "exit 2");
	got_free(&g);
	/* a long line: its end, 200 bytes at most, whole characters */
	run_sh("printf 'x%.0s' $(seq 300) >&2; printf '\303\251%.0s' "
	       "$(seq 150) >&2; echo END >&2; exit 1",
	       &g);
	assert_int_equal(strncmp(g.error, "exit 1: ", 8), 0);
	e = g.error + 8;
	assert_true(strlen(e) <= 200 && strlen(e) >= 198);
	assert_true(wfp_utf8_ok(e, strlen(e)));
	assert_string_equal(e + strlen(e) - 3, "END");
	got_free(&g);
}

/* A failure's error is one line of text: cut on a character boundary
 * (valid UTF-8), no control character (C0, DEL or C1) left. */
static void test_error_text(void **state)
{
	struct buf {
		char s[2048];
	} b;
	struct got g = {0};
	size_t o;

	(void)state;
	o = (size_t)snprintf(b.s, sizeof(b.s), "{\"reason\":\"");
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(b.s + o, sizeof(b.s) - o, "\\u00e9");
	snprintf(b.s + o, sizeof(b.s) - o, "\"}");
	run_plugin("fail", b.s, 0, &g);
	assert_int_equal(g.ok, 0);
	assert_true(strlen(g.error) < WFP_TASK_ERROR_MAX);
	assert_true(strlen(g.error) >= WFP_TASK_ERROR_MAX - 2);
	assert_true(wfp_utf8_ok(g.error, strlen(g.error)));
	got_free(&g);
	run_plugin("fail", "{\"reason\":\"a\\u009b2Jb\\u0085c\\u007fd\"}", 0,
		   &g);
	assert_string_equal(g.error, "a 2Jb c d");
	assert_true(wfp_text_ok(g.error, strlen(g.error)));
	got_free(&g);
}

/* A task that starts a daemon leaving its process group (setsid) and
 * holding stdout: the task still ends when its leader exits (the pipes
 * are drained without waiting for the daemon), but the daemon is out of
 * the group's SIGKILL and lives on: the runner cannot stop what leaves
 * the group (documented for operators). */
static void test_setsid_daemon(void **state)
{
	struct got g = {0};
	int x = 0;

	(void)state;
	run_sh("setsid sh -c 'echo $$; exec sleep 30' & sleep 0.3; "
	       "echo '{\"a\":1}'",
	       &g);
	assert_int_equal(g.ok, 1);
	assert_true(g.duration_ms < 5000);
	assert_string_equal(g.outputs, "{\"a\":1}");
	assert_int_equal(sscanf(g.out_tail, "%d", &x), 1);
	assert_int_equal(kill((pid_t)x, 0), 0); /* alive: it escaped */
	kill((pid_t)x, SIGKILL);
	assert_true(pid_gone((pid_t)x));
	got_free(&g);
}

/* Counts the open descriptors of this process (the directory's own
 * handle included, the same each time). */
static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* 1,000 tasks (20 at a time; successes, failures, kills, timeouts,
 * programs not found) leave no descriptor and no child behind. */
static void test_many_tasks_no_leak(void **state)
{
	char *ok[] = {"/bin/sh", "-c", "echo '{\"n\":1}'; echo e >&2", NULL};
	char *bad[] = {"/bin/sh", "-c", "exit 4", NULL};
	char *slow[] = {"/bin/sh", "-c", "sleep 5 & sleep 5", NULL};
	char *none[] = {"/no/such/program", NULL};
	struct wfp_action acts[4] = {act_exec(ok), act_exec(bad),
				     act_exec(slow), act_exec(none)};
	static struct got g[1000];
	struct wfp_taskrun_spec s;
	int before, after, next = 0, done = 0, oks = 0;

	(void)state;
	before = fd_count();
	memset(g, 0, sizeof(g));
	while (done < 1000) {
		while (next < 1000 && next - done < 20) {
			spec_init(&s, &acts[next % 4]);
			s.timeout_ms = next % 8 == 2 ? 20 : 0;
			{
				struct wfp_taskrun *r = start(&s, &g[next]);

				if (next % 8 == 6)
					wfp_taskrun_kill(r);
			}
			next++;
		}
		event_base_loop(base, EVLOOP_ONCE);
		while (done < next && g[done].called)
			done++;
	}
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(g[i].called, 1);
		oks += g[i].ok;
		got_free(&g[i]);
	}
	assert_int_equal(oks, 250);
	assert_int_equal(wfp_taskrunner_active(tr), 0);
	after = fd_count();
	assert_int_equal(after, before);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* Immediate results (refusals, noop) still come later, from the loop. */
static void test_done_never_in_start(void **state)
{
	char *argv[] = {"/nonexistent", NULL};
	struct wfp_action e = act_exec(argv), n = act_plugin("noop", "{}");
	struct wfp_action none;
	struct wfp_taskrun_spec s;
	struct got g[3];

	(void)state;
	memset(g, 0, sizeof(g));
	memset(&none, 0, sizeof(none));
	spec_init(&s, &e);
	start(&s, &g[0]);
	s.action = &n;
	start(&s, &g[1]);
	s.action = &none;
	start(&s, &g[2]);
	assert_int_equal(wfp_taskrunner_active(tr), 3);
	for (int i = 0; i < 3; i++) {
		wait_done(&g[i]);
		got_free(&g[i]);
	}
	assert_int_equal(wfp_taskrunner_active(tr), 0);
}

/* Freeing the runner kills what runs (the child is gone), without
 * callbacks. */
static void test_free_kills(void **state)
{
	char script[600], file[512];
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct wfp_action a = act_exec(argv),
			  sl = act_plugin("sleep", "{\"ms\":5000}");
	struct wfp_taskrun_spec s;
	struct got g = {0}, g2 = {0};
	struct timeval tv = {0, 300000};
	FILE *f;
	int sh = 0;

	(void)state;
	snprintf(file, sizeof(file), "%s/pid", tmpdir);
	snprintf(script, sizeof(script), "echo $$ > %s; sleep 100", file);
	spec_init(&s, &a);
	start(&s, &g);
	s.action = &sl;
	start(&s, &g2);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	wfp_taskrunner_free(tr);
	tr = NULL;
	assert_int_equal(g.called, 0);
	assert_int_equal(g2.called, 0);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &sh), 1);
	fclose(f);
	assert_true(pid_gone(sh));
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* Removes the files the tests wrote, then tmpdir. */
static void tmpdir_remove(void)
{
	const char *files[] = {"wfp-tool", "wfp-noexec", "wfp-allowed",
			       "marker",   "count",	 "pid"};
	char path[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_env_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_no_locks_bad_input, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_outputs_last_line, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_outputs_not_object, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_descriptors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exit_stderr_note, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bounded_tails, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_kills_group, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_grandchild_holding_pipe, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_allow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runner_config, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_builtin_noop_fail, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_builtin_sleep, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_plugin_missing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_plugin_counter, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_plugin_abi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plugin_api, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plugin_bad_outputs, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_many_concurrent, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_done_never_in_start, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_free_kills, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail_nul, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outputs_line_too_long, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_error_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outputs_too_deep, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_many_tasks_no_leak, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_setsid_daemon, setup,
					    teardown),
	};
	char tmpl[] = "/tmp/wfp-taskrun-XXXXXX";
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	wfp_strlcpy(tmpdir, tmpl, sizeof(tmpdir));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tmpdir_remove();
	return rc;
}
