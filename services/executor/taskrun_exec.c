/* taskrun_exec.c - exec tasks: find and check the program, spawn it in a
 * process group of its own with the task's environment, read its output
 * on the loop, reap it from SIGCHLD (see taskrun.h). */
#include "taskrun-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wfp/util.h"

/* Variables copied from the executor's environment when set. */
static const char *const exec_copied[] = {"PATH", "HOME", "LANG", "TZ"};
#define EXEC_COPIED (sizeof(exec_copied) / sizeof(exec_copied[0]))
/* WFP_JOB_ID .. WFP_LOCK_FENCES */
#define EXEC_OWN_VARS 7
/* PATH when the executor has none. */
#define EXEC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
/* Tries to reap a killed child when the runner is freed (1 ms apart). */
#define EXEC_FREE_REAP_TRIES 100
/* Bytes of stderr's last line a failed run's error ends with (its end
 * kept when longer): the error stays one short line. */
#define EXEC_NOTE_MAX 200

/* ---- the program ----------------------------------------------------- */

/* Returns 0 when path is a regular file we may execute, else fails run
 * with "not executable". q: the program word, quoted. */
static int exec_check_file(struct wfp_taskrun *run, const char *q,
			   const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		run_errorf(run, "program '%s' is not found", q);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
		run_errorf(run, "program '%s' is not executable", q);
		return -1;
	}
	return 0;
}

/* Writes dir (dlen bytes, "" = the current one) + "/" + word into path
 * (PATH_MAX). Returns 0, or -1 when it does not fit. */
static int exec_join(char *path, const char *dir, size_t dlen, const char *word)
{
	int n;

	if (dlen == 0)
		n = snprintf(path, PATH_MAX, "./%s", word);
	else
		n = snprintf(path, PATH_MAX, "%.*s/%s", (int)dlen, dir, word);
	return n > 0 && n < PATH_MAX ? 0 : -1;
}

/* Finds the program word (with a '/': as it is; else in the executor's
 * PATH) and writes its path into path (PATH_MAX). Returns 0, or -1 with
 * the run's error set. */
static int exec_find(struct wfp_taskrun *run, const char *word, char *path)
{
	char q[WFP_QUOTE_BUF];
	const char *p = getenv("PATH");
	int seen = 0;

	wfp_quote(q, sizeof(q), word, strlen(word));
	if (strchr(word, '/') != NULL) {
		if (wfp_strlcpy(path, word, PATH_MAX) != 0) {
			run_errorf(run, "program '%s' is not found", q);
			return -1;
		}
		return exec_check_file(run, q, path);
	}
	for (p = p ? p : EXEC_DEFAULT_PATH; p != NULL;) {
		const char *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		struct stat st;

		if (exec_join(path, p, dlen, word) == 0 &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(path, X_OK) == 0)
				return 0;
			seen = 1;
		}
		p = colon ? colon + 1 : NULL;
	}
	run_errorf(run,
		   seen ? "program '%s' is not executable"
			: "program '%s' is not found in PATH",
		   q);
	return -1;
}

/* Returns 0 when WFP_EXEC_ALLOW is off or holds path's real path, else -1
 * with the run's error set. */
static int exec_allowed(struct wfp_taskrun *run, const char *word,
			const char *path)
{
	char real[PATH_MAX], q[WFP_QUOTE_BUF], rq[WFP_QUOTE_BUF];
	char **a = run->tr->allow;

	if (a == NULL)
		return 0;
	wfp_quote(q, sizeof(q), word, strlen(word));
	if (realpath(path, real) == NULL) {
		run_errorf(run, "program '%s' cannot be resolved: %s", q,
			   strerror(errno));
		return -1;
	}
	for (; *a != NULL; a++) {
		if (strcmp(*a, real) == 0)
			return 0;
	}
	run_errorf(run,
		   "program '%s' is not allowed by WFP_EXEC_ALLOW (it is %s)",
		   q, wfp_quote(rq, sizeof(rq), real, strlen(real)));
	return -1;
}

/* ---- the environment ------------------------------------------------- */

struct env_input {
	const char *name;
	int i;
};

/* Orders inputs by name, then by position. */
static int env_input_cmp(const void *a, const void *b)
{
	const struct env_input *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Adds "name=value" (name given as prefix + rest) to env[*n]. */
static int env_add(char **env, int *n, const char *prefix, const char *name,
		   const char *value)
{
	if (asprintf(&env[*n], "%s%s=%s", prefix, name, value) < 0) {
		env[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

/* Adds WFP_IN_<name> for each input, the later of two with one name;
 * an apply's come to at most WFP_TASK_INPUTS_BYTES_MAX bytes. Returns 0,
 * or -1 with the run's error set. */
static int env_inputs(struct wfp_taskrun *run,
		      const struct wfp_taskrun_spec *spec, char **env, int *n)
{
	struct env_input *in = calloc((size_t)spec->ninputs + 1, sizeof(*in));
	size_t bytes = 0;
	int i, rc = 0;

	if (in == NULL) {
		run_errorf(run, "out of memory");
		return -1;
	}
	for (i = 0; i < spec->ninputs; i++) {
		char q[WFP_QUOTE_BUF];
		const char *name = spec->input_names[i];

		if (!wfp_word_ok(name, WFP_DATA_NAME_MAX, "_")) {
			wfp_quote(q, sizeof(q), name, strlen(name));
			run_errorf(run, "input name '%s' is not a data name",
				   q);
			free(in);
			return -1;
		}
		in[i].name = name;
		in[i].i = i;
	}
	qsort(in, (size_t)spec->ninputs, sizeof(*in), env_input_cmp);
	for (i = 0; i < spec->ninputs && rc == 0; i++) {
		if (i + 1 < spec->ninputs &&
		    strcmp(in[i].name, in[i + 1].name) == 0)
			continue;
		rc = env_add(env, n, "WFP_IN_", in[i].name,
			     spec->input_values[in[i].i]);
		bytes += rc == 0 ? strlen(env[*n - 1]) + 1 : 0;
	}
	free(in);
	if (rc != 0) {
		run_errorf(run, "out of memory");
		return -1;
	}
	if (!spec->revert && bytes > WFP_TASK_INPUTS_BYTES_MAX) {
		run_errorf(run,
			   "inputs of %zu bytes as environment variables are "
			   "past %d: keep outputs and inputs small",
			   bytes, WFP_TASK_INPUTS_BYTES_MAX);
		return -1;
	}
	return 0;
}

/* Frees an environment made by exec_env. */
static void env_free(char **env)
{
	if (env == NULL)
		return;
	for (char **e = env; *e != NULL; e++)
		free(*e);
	free(env);
}

/* Adds the task's own variables and the copied ones. Returns 0 or -1. */
static int env_own(const struct wfp_taskrun_spec *spec, char **env, int *n)
{
	char num[2][24];
	int rc = 0;

	snprintf(num[0], sizeof(num[0]), "%d", spec->attempt);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)spec->fence);
	rc |=
	    env_add(env, n, "WFP_", "JOB_ID", spec->job_id ? spec->job_id : "");
	rc |= env_add(env, n, "WFP_", "TASK", spec->task ? spec->task : "");
	rc |=
	    env_add(env, n, "WFP_", "PHASE", spec->revert ? "revert" : "apply");
	rc |= env_add(env, n, "WFP_", "ATTEMPT", num[0]);
	rc |= env_add(env, n, "WFP_", "FENCE", num[1]);
	rc |= env_add(env, n, "WFP_", "TASK_KEY",
		      spec->task_key ? spec->task_key : "");
	if (spec->lock_fences && spec->lock_fences[0] != '\0')
		rc |= env_add(env, n, "WFP_", "LOCK_FENCES", spec->lock_fences);
	for (size_t i = 0; i < EXEC_COPIED && rc == 0; i++) {
		const char *v = getenv(exec_copied[i]);

		if (v != NULL)
			rc |= env_add(env, n, "", exec_copied[i], v);
	}
	return rc ? -1 : 0;
}

/* The task's environment (taskrun.h), or NULL with the run's error set. */
static char **exec_env(struct wfp_taskrun *run,
		       const struct wfp_taskrun_spec *spec)
{
	size_t cap = (size_t)spec->ninputs + EXEC_OWN_VARS + EXEC_COPIED + 1;
	char **env = calloc(cap, sizeof(*env));
	int n = 0;

	if (env == NULL) {
		run_errorf(run, "out of memory");
		return NULL;
	}
	if (env_inputs(run, spec, env, &n) != 0) {
		env_free(env);
		return NULL;
	}
	if (env_own(spec, env, &n) != 0) {
		run_errorf(run, "out of memory");
		env_free(env);
		return NULL;
	}
	return env;
}

/* ---- output ---------------------------------------------------------- */

/* Gives tail t room for the last cap bytes. Returns 0 or -1. */
static int tail_init(struct run_tail *t, size_t cap)
{
	t->cap = cap;
	if (cap == 0)
		return 0;
	t->buf = malloc(cap + 1);
	return t->buf ? 0 : -1;
}

/* Keeps the last cap bytes of what t saw and p[0..n). */
static void tail_add(struct run_tail *t, const char *p, size_t n)
{
	if (t->cap == 0) {
		t->cut = 1;
		return;
	}
	if (n >= t->cap) {
		memcpy(t->buf, p + n - t->cap, t->cap);
		t->cut |= n > t->cap || t->len > 0;
		t->len = t->cap;
		return;
	}
	if (t->len + n > t->cap) {
		size_t drop = t->len + n - t->cap;

		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
		t->cut = 1;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* 1 when c is a blank of a line (space, tab, CR). */
static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Notes the first and last non-blank bytes of p[0..n) in the line. */
static void line_ends(struct run_line *l, const char *p, size_t n)
{
	size_t i = 0, j = n;

	while (i < n && blank(p[i]))
		i++;
	if (i == n)
		return;
	if (l->first == '\0')
		l->first = p[i];
	while (j > i && blank(p[j - 1]))
		j--;
	l->final = p[j - 1];
}

/* Appends p[0..n) to the line; past WFP_TASK_OUTPUTS_MAX it is over. */
static void line_add(struct run_line *l, const char *p, size_t n)
{
	size_t want = l->len + n;

	line_ends(l, p, n);
	if (l->over || n == 0)
		return;
	if (want > WFP_TASK_OUTPUTS_MAX) {
		l->over = 1;
		return;
	}
	if (want > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		char *b;

		while (cap < want)
			cap *= 2;
		b = realloc(l->buf, cap);
		if (b == NULL) {
			l->over = 1;
			return;
		}
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len = want;
}

/* Returns 1 when the line holds only blanks (spaces, tabs, CR). */
static int line_blank(const struct run_line *l)
{
	return l->first == '\0';
}

/* A line of stdout ended: a line that is not blank becomes the last. */
static void line_close(struct run_exec *x)
{
	struct run_line t;

	if (!line_blank(&x->line)) {
		t = x->last;
		x->last = x->line;
		x->line = t;
	}
	x->line.len = 0;
	x->line.over = 0;
	x->line.first = x->line.final = '\0';
}

/* Takes in n bytes of stream i (0 stdout, 1 stderr). */
static void exec_feed(struct run_exec *x, int i, const char *p, size_t n)
{
	tail_add(&x->tail[i], p, n);
	while (i == 0 && n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;

		line_add(&x->line, p, seg);
		if (nl == NULL)
			break;
		line_close(x);
		p += seg + 1;
		n -= seg + 1;
	}
}

/* Closes stream i and drops its event. */
static void exec_close(struct run_exec *x, int i)
{
	if (x->fd[i] < 0)
		return;
	event_del(&x->ev[i]);
	close(x->fd[i]);
	x->fd[i] = -1;
}

/* Reads stream i until it would block, ends, or limit bytes were read;
 * closes it at its end or on an error. */
static void exec_read(struct run_exec *x, int i, size_t limit)
{
	char buf[TASKRUN_READ_CHUNK];
	size_t total = 0;

	while (x->fd[i] >= 0 && total < limit) {
		ssize_t n = read(x->fd[i], buf, sizeof(buf));

		if (n > 0) {
			exec_feed(x, i, buf, (size_t)n);
			total += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			exec_close(x, i);
		}
	}
}

/* A pipe is readable: one chunk at a time, so one task cannot hold the
 * loop. */
static void exec_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run_exec *x = arg;

	(void)what;
	exec_read(x, fd == x->fd[0] ? 0 : 1, TASKRUN_READ_CHUNK);
}

/* ---- spawning -------------------------------------------------------- */

/* Makes a pipe whose ends are close-on-exec and above 2 (so the child's
 * dup2 onto 0..2 cannot close them), the read end non-blocking. Returns 0
 * or -1 with errno. */
static int exec_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 3) {
			int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);

			close(fds[i]);
			fds[i] = fd;
		}
	}
	if (fds[0] < 0 || fds[1] < 0 ||
	    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) != 0) {
		int e = errno;

		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		errno = e;
		return -1;
	}
	return 0;
}

/* Spawns path with argv and env: its own process group, stdin /dev/null,
 * stdout/stderr onto out/err, no other descriptor, default signal
 * dispositions and an empty mask. Returns 0 with *pid, or an errno. */
static int exec_spawn(const char *path, char *const *argv, char *const *env,
		      int out, int err, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
					  POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	rc = posix_spawn(pid, path, &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Starts the child with its pipes and their events. Returns 0, or -1 with
 * the run's error set. */
static int exec_launch(struct wfp_taskrun *run, const char *path,
		       char *const *argv, char *const *env)
{
	struct run_exec *x = run->x;
	int out[2], err[2];
	char q[WFP_QUOTE_BUF];
	int rc;

	if (exec_pipe(out) != 0) {
		run_errorf(run, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (exec_pipe(err) != 0) {
		rc = errno;
		close(out[0]);
		close(out[1]);
		run_errorf(run, "cannot make a pipe: %s", strerror(rc));
		return -1;
	}
	rc = exec_spawn(path, argv, env, out[1], err[1], &x->pid);
	close(out[1]);
	close(err[1]);
	if (rc != 0) {
		close(out[0]);
		close(err[0]);
		x->pid = 0;
		wfp_quote(q, sizeof(q), argv[0], strlen(argv[0]));
		run_errorf(run, "cannot run '%s': %s", q, strerror(rc));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		x->fd[i] = i == 0 ? out[0] : err[0];
		event_assign(&x->ev[i], run->tr->base, x->fd[i],
			     EV_READ | EV_PERSIST, exec_read_cb, x);
		event_add(&x->ev[i], NULL);
	}
	return 0;
}

void exec_start(struct wfp_taskrun *run, const struct wfp_taskrun_spec *spec)
{
	char path[PATH_MAX];
	char **argv = spec->action->argv;
	char **env = NULL;
	struct run_exec *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		run_errorf(run, "out of memory");
		run_end(run);
		return;
	}
	x->fd[0] = x->fd[1] = -1;
	run->x = x;
	if (tail_init(&x->tail[0], run->tr->output_max) != 0 ||
	    tail_init(&x->tail[1], run->tr->output_max) != 0) {
		run_errorf(run, "out of memory");
		run_end(run);
		return;
	}
	if (exec_find(run, argv[0], path) != 0 ||
	    exec_allowed(run, argv[0], path) != 0 ||
	    (env = exec_env(run, spec)) == NULL ||
	    exec_launch(run, path, argv, env) != 0)
		run_end(run);
	env_free(env);
}

/* ---- the end --------------------------------------------------------- */

/* The last non-empty line of stderr's tail, blanks around it trimmed, at
 * most EXEC_NOTE_MAX bytes (its end kept, cut on a character boundary)
 * into out (size n > EXEC_NOTE_MAX); "" when there is none.
 * run_set_error makes it terminal-safe. */
static void stderr_note(const struct run_tail *t, char *out, size_t n)
{
	const char *b = t->buf;
	size_t end = t->len, start;

	out[0] = '\0';
	while (end > 0 && (b[end - 1] == '\n' || blank(b[end - 1])))
		end--;
	start = end;
	while (start > 0 && b[start - 1] != '\n')
		start--;
	while (start < end && blank(b[start]))
		start++;
	if (end - start > EXEC_NOTE_MAX) {
		start = end - EXEC_NOTE_MAX;
		while (start < end && ((unsigned char)b[start] & 0xc0) == 0x80)
			start++; /* not inside a character */
	}
	if (end > start && end - start < n) {
		memcpy(out, b + start, end - start);
		out[end - start] = '\0';
	}
}

/* Sets the run's error: what (the exit status), then ": " and the last
 * line the program wrote to stderr when there is one (why it failed). */
static void exec_fail(struct wfp_taskrun *run, const char *what)
{
	char note[EXEC_NOTE_MAX + 1];

	stderr_note(&run->x->tail[1], note, sizeof(note));
	if (note[0])
		run_errorf(run, "%s: %s", what, note);
	else
		run_errorf(run, "%s", what);
}

/* Sets the result from the leader's wait status and stdout's last line. */
static void exec_result(struct wfp_taskrun *run, int status)
{
	struct run_exec *x = run->x;
	char what[48];

	if (x->line.len > 0 || x->line.over)
		line_close(x);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		run->ok = 1;
		if (x->last.len > 0 && !x->last.over)
			run_outputs(run, x->last.buf, x->last.len, 0);
		else if (x->last.over && x->last.first == '{' &&
			 x->last.final == '}')
			run_errorf(run, "outputs are over %d bytes",
				   WFP_TASK_OUTPUTS_MAX);
	} else if (WIFEXITED(status)) {
		snprintf(what, sizeof(what), "exit %d", WEXITSTATUS(status));
		exec_fail(run, what);
	} else if (WIFSIGNALED(status)) {
		snprintf(what, sizeof(what), "killed by signal %d",
			 WTERMSIG(status));
		exec_fail(run, what);
	} else {
		run_errorf(run, "ended with wait status %d", status);
	}
}

/*
 * Ends the run if its leader exited. The leader is seen with WNOWAIT
 * first, so while its group's leftovers get SIGKILL the group id cannot
 * have been reused; then it is reaped, what is in the pipes is read
 * (bounded: the leftovers are dying) and the run ends.
 */
static void exec_check_exit(struct wfp_taskrun *run)
{
	struct run_exec *x = run->x;
	siginfo_t si;
	int status = 0, lost = 0;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)x->pid, &si, WEXITED | WNOHANG | WNOWAIT) !=
	    0) {
		if (errno != ECHILD)
			return;
		lost = 1;
	} else if (si.si_pid == 0) {
		return;
	} else {
		kill(-x->pid, SIGKILL);
		while (waitpid(x->pid, &status, WNOHANG) < 0 && errno == EINTR)
			;
	}
	x->pid = 0;
	for (int i = 0; i < 2; i++) {
		exec_read(x, i, TASKRUN_DRAIN_MAX);
		exec_close(x, i);
	}
	if (lost)
		run_errorf(run, "the task's process was reaped elsewhere");
	else
		exec_result(run, status);
	run_end(run);
}

void exec_reap_all(struct wfp_taskrunner *tr)
{
	struct wfp_taskrun *run, *next;

	for (run = tr->runs; run != NULL; run = next) {
		next = run->next;
		if (run->kind == RUN_EXEC && run->state == RUN_GOING &&
		    run->x != NULL && run->x->pid > 0)
			exec_check_exit(run);
	}
}

void exec_stop(struct wfp_taskrun *run)
{
	if (run->x != NULL && run->x->pid > 0)
		kill(-run->x->pid, SIGKILL);
	else
		run_end(run);
}

/* Kills and reaps a child that still runs when its runner is freed: it
 * dies at once from SIGKILL, unless stuck in the kernel; then it is left
 * to init after EXEC_FREE_REAP_TRIES ms. */
static void exec_kill_now(pid_t pid)
{
	kill(-pid, SIGKILL);
	for (int i = 0; i < EXEC_FREE_REAP_TRIES; i++) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return;
		wfp_sleep_ms(1);
	}
}

void exec_release(struct wfp_taskrun *run)
{
	struct run_exec *x = run->x;

	if (x == NULL)
		return;
	if (x->pid > 0)
		exec_kill_now(x->pid);
	for (int i = 0; i < 2; i++) {
		exec_close(x, i);
		free(x->tail[i].buf);
	}
	free(x->line.buf);
	free(x->last.buf);
	free(x);
	run->x = NULL;
}
