/* Unit tests of configuration parsing and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/client.h"
#include "wfp/config.h"

static char err[512];

static void test_defaults(void **state)
{
	struct wfp_config c;

	(void)state;
	wfp_config_defaults(&c);
	assert_int_equal(c.visibility_ms, 15000);
	assert_int_equal(c.concurrency, 8);
	assert_string_equal(c.prefix, "wfp");
	assert_string_equal(c.redis.host, "127.0.0.1");
	assert_int_equal(c.redis.port, 6379);
}

static void test_env_bad_value_names_variable(void **state)
{
	struct wfp_config c;

	(void)state;
	wfp_config_defaults(&c);
	setenv("WFP_VISIBILITY_MS", "soon", 1);
	assert_int_equal(wfp_config_from_env(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "WFP_VISIBILITY_MS"));
	assert_non_null(strstr(err, "'soon'"));
	setenv("WFP_VISIBILITY_MS", "0", 1);
	assert_int_equal(wfp_config_from_env(&c, err, sizeof(err)), -1);
	setenv("WFP_VISIBILITY_MS", "2500", 1);
	assert_int_equal(wfp_config_from_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.visibility_ms, 2500);
	unsetenv("WFP_VISIBILITY_MS");
}

static void test_flags_override_env(void **state)
{
	struct wfp_config c;
	char *argv[] = {"prog", "--concurrency", "4", "--prefix=t1", "rest"};
	int pos = 1;

	(void)state;
	wfp_config_defaults(&c);
	setenv("WFP_CONCURRENCY", "2", 1);
	assert_int_equal(wfp_config_from_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.concurrency, 2);
	assert_int_equal(
	    wfp_config_from_args(&c, 5, argv, &pos, err, sizeof(err)), 0);
	assert_int_equal(c.concurrency, 4);
	assert_string_equal(c.prefix, "t1");
	assert_int_equal(pos, 4);
	unsetenv("WFP_CONCURRENCY");
}

static void test_bad_values(void **state)
{
	struct wfp_config c;

	(void)state;
	wfp_config_defaults(&c);
	assert_int_equal(wfp_config_set(&c, "prefix", "a{b}", "WFP_PREFIX", err,
					sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "WFP_PREFIX"));
	assert_int_equal(wfp_config_set(&c, "log-level", "loud",
					"WFP_LOG_LEVEL", err, sizeof(err)),
			 -1);
	assert_int_equal(wfp_config_set(&c, "metrics-addr", "nope",
					"WFP_METRICS_ADDR", err, sizeof(err)),
			 -1);
	assert_int_equal(wfp_config_set(&c, "metrics-addr", "0.0.0.0:9100", "x",
					err, sizeof(err)),
			 0);
	assert_int_equal(wfp_config_set(&c, "concurrency", "257",
					"WFP_CONCURRENCY", err, sizeof(err)),
			 -1);
	assert_int_equal(
	    wfp_config_set(&c, "nosuch", "1", "x", err, sizeof(err)), -1);
}

static void test_redis_urls(void **state)
{
	struct wfp_redis_addr a;

	(void)state;
	assert_int_equal(
	    wfp_redis_url_parse("redis://h:7000/2", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "h");
	assert_int_equal(a.port, 7000);
	assert_int_equal(a.db, 2);
	assert_int_equal(
	    wfp_redis_url_parse("redis://u:pw@h", &a, err, sizeof(err)), 0);
	assert_string_equal(a.user, "u");
	assert_string_equal(a.password, "pw");
	assert_int_equal(a.port, 6379);
	assert_int_equal(wfp_redis_url_parse("http://h", &a, err, sizeof(err)),
			 -1);
	assert_int_equal(
	    wfp_redis_url_parse("redis://h:99999", &a, err, sizeof(err)), -1);
	assert_int_equal(
	    wfp_redis_url_parse("redis://:1", &a, err, sizeof(err)), -1);
	assert_int_equal(
	    wfp_redis_url_parse("redis://h:12x", &a, err, sizeof(err)), -1);
}

/* Passwords never reach a log or an error message. */
static void test_redis_url_redact(void **state)
{
	char out[WFP_URL_MAX + 8], why[WFP_URL_MAX + 128];
	struct wfp_redis_addr a;

	(void)state;
	wfp_redis_url_redact("redis://u:secret@h:1/2", out, sizeof(out));
	assert_string_equal(out, "redis://u:***@h:1/2");
	wfp_redis_url_redact("redis://secret@h", out, sizeof(out));
	assert_string_equal(out, "redis://***@h");
	wfp_redis_url_redact("redis://:p:w@x@h", out, sizeof(out));
	assert_string_equal(out, "redis://:***@h");
	wfp_redis_url_redact("redis://h:6379", out, sizeof(out));
	assert_string_equal(out, "redis://h:6379");
	/* Mistyped schemes and no scheme: the password is hidden too. */
	wfp_redis_url_redact("http://u:secret@h", out, sizeof(out));
	assert_string_equal(out, "http://u:***@h");
	wfp_redis_url_redact("rediss://u:secret@h:1", out, sizeof(out));
	assert_string_equal(out, "rediss://u:***@h:1");
	wfp_redis_url_redact("REDIS://secret@h", out, sizeof(out));
	assert_string_equal(out, "REDIS://***@h");
	wfp_redis_url_redact("u:secret@h:6379", out, sizeof(out));
	assert_string_equal(out, "u:***@h:6379");
	wfp_redis_url_redact("redis:/u:secret@h", out, sizeof(out));
	assert_string_equal(out, "redis:***@h");
	/* "://" inside a password is no scheme. */
	wfp_redis_url_redact("u:se://cret@h", out, sizeof(out));
	assert_string_equal(out, "u:***@h");
	wfp_redis_url_redact("redis://u:secret@h", out, 12);
	assert_string_equal(out, "redis://u:*");
	assert_int_equal(wfp_redis_url_parse("redis://u:secret@h:99999", &a,
					     why, sizeof(why)),
			 -1);
	assert_null(strstr(why, "secret"));
	assert_non_null(strstr(why, "redis://u:***@h:99999"));
	assert_int_equal(
	    wfp_redis_url_parse("rediss://u:secret@h", &a, why, sizeof(why)),
	    -1);
	assert_null(strstr(why, "secret"));
}

/* A bad --redis=URL flag: the error names the flag, not the password. */
static void test_redis_flag_redacted(void **state)
{
	struct wfp_config cfg;
	char msg[512];
	char *argv[] = {"wfp", "--redis=redis://u:secret@h:99999", "x"};
	char *argv2[] = {"wfp", "--redis", "rediss://u:secret@h", "x"};
	int pos = 1;

	(void)state;
	wfp_config_defaults(&cfg);
	assert_int_equal(
	    wfp_config_from_args(&cfg, 3, argv, &pos, msg, sizeof(msg)), -1);
	assert_null(strstr(msg, "secret"));
	assert_non_null(strstr(msg, "--redis: "));
	pos = 1;
	assert_int_equal(
	    wfp_config_from_args(&cfg, 4, argv2, &pos, msg, sizeof(msg)), -1);
	assert_null(strstr(msg, "secret"));
}

/* WFP_INFLIGHT_MAX: default 1024, 1..65536, bad values name it. */
static void test_inflight_max(void **state)
{
	struct wfp_config c;

	(void)state;
	wfp_config_defaults(&c);
	assert_int_equal(c.inflight_max, 1024);
	setenv("WFP_INFLIGHT_MAX", "0", 1);
	assert_int_equal(wfp_config_from_env(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "WFP_INFLIGHT_MAX"));
	setenv("WFP_INFLIGHT_MAX", "65537", 1);
	assert_int_equal(wfp_config_from_env(&c, err, sizeof(err)), -1);
	setenv("WFP_INFLIGHT_MAX", "16", 1);
	assert_int_equal(wfp_config_from_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.inflight_max, 16);
	unsetenv("WFP_INFLIGHT_MAX");
}

/* Sets variable name to value from the environment; returns what
 * wfp_config_from_env returned (err names the variable on -1). */
static int env_try(struct wfp_config *c, const char *name, const char *value)
{
	int rc;

	setenv(name, value, 1);
	rc = wfp_config_from_env(c, err, sizeof(err));
	unsetenv(name);
	if (rc != 0)
		assert_non_null(strstr(err, name));
	return rc;
}

/* The executor's settings: defaults, good values kept, bad values
 * refused with a message naming the variable and the value. */
static void test_executor_settings(void **state)
{
	struct wfp_config c;
	char big[WFP_EXEC_ALLOW_MAX + 8];

	(void)state;
	wfp_config_defaults(&c);
	assert_string_equal(c.plugin_dir, "");
	assert_string_equal(c.exec_allow, "");
	assert_int_equal(c.task_output_max, 4096);
	assert_int_equal(c.grace_ms, 10000);
	assert_string_equal(c.executor_name, "");

	assert_int_equal(env_try(&c, "WFP_PLUGIN_DIR", "/opt/wfp/plugins"), 0);
	assert_string_equal(c.plugin_dir, "/opt/wfp/plugins");
	assert_int_equal(env_try(&c, "WFP_PLUGIN_DIR", "/a\nb"), -1);
	assert_non_null(strstr(err, "'/a\\x0ab' is not a path"));

	assert_string_equal(c.classes_dir, "");
	assert_int_equal(env_try(&c, "WFP_CLASSES_DIR", "/etc/wfp/classes"), 0);
	assert_string_equal(c.classes_dir, "/etc/wfp/classes");
	assert_int_equal(env_try(&c, "WFP_CLASSES_DIR", "/a\tb"), -1);
	assert_non_null(strstr(err, "WFP_CLASSES_DIR"));

	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", "/bin/true:/usr/bin/x"),
			 0);
	assert_string_equal(c.exec_allow, "/bin/true:/usr/bin/x");
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", "/bin/true:bin/x"), -1);
	assert_non_null(strstr(err, "holds 'bin/x', not an absolute path"));
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", "/bin/true:"), -1);
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", "/a::/b"), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", big), -1);
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", ""), 0);
	assert_string_equal(c.exec_allow, "");

	assert_int_equal(env_try(&c, "WFP_TASK_OUTPUT_MAX", "0"), 0);
	assert_int_equal(c.task_output_max, 0);
	assert_int_equal(env_try(&c, "WFP_TASK_OUTPUT_MAX", "65537"), -1);
	assert_int_equal(env_try(&c, "WFP_TASK_OUTPUT_MAX", "-1"), -1);
	assert_int_equal(env_try(&c, "WFP_TASK_OUTPUT_MAX", "65536"), 0);

	assert_int_equal(env_try(&c, "WFP_GRACE_MS", "0"), 0);
	assert_int_equal(c.grace_ms, 0);
	assert_int_equal(env_try(&c, "WFP_GRACE_MS", "3600001"), -1);
	assert_int_equal(env_try(&c, "WFP_GRACE_MS", "soon"), -1);

	assert_int_equal(env_try(&c, "WFP_EXECUTOR_NAME", "ex-1.dc:a@b"), 0);
	assert_string_equal(c.executor_name, "ex-1.dc:a@b");
	assert_int_equal(env_try(&c, "WFP_EXECUTOR_NAME", "ex 1"), -1);
	assert_non_null(strstr(err, "'ex 1' is not 1-64"));
	memset(big, 'e', 65);
	big[65] = '\0';
	assert_int_equal(env_try(&c, "WFP_EXECUTOR_NAME", big), -1);
	big[64] = '\0';
	assert_int_equal(env_try(&c, "WFP_EXECUTOR_NAME", big), 0);
}

/* Fills out with "head", then c up to len bytes, then "tail" (out holds
 * len + 1 bytes). */
static char *sized(char *out, size_t len, const char *head, char c,
		   const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);

	memcpy(out, head, h);
	memset(out + h, c, len - h - t);
	memcpy(out + len - t, tail, t);
	out[len] = '\0';
	return out;
}

/* Checks a numeric setting's range: lo and hi taken, one past refused. */
static void range_ok(struct wfp_config *c, const char *var, long long lo,
		     long long hi)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", lo);
	assert_int_equal(env_try(c, var, v), 0);
	snprintf(v, sizeof(v), "%lld", hi);
	assert_int_equal(env_try(c, var, v), 0);
	snprintf(v, sizeof(v), "%lld", lo - 1);
	assert_int_equal(env_try(c, var, v), -1);
	snprintf(v, sizeof(v), "%lld", hi + 1);
	assert_int_equal(env_try(c, var, v), -1);
}

/* Every setting's bound, at it and one past it: the numeric ranges and
 * the lengths of the text settings. */
static void test_setting_bounds(void **state)
{
	static char v[WFP_EXEC_ALLOW_MAX + 16];
	struct wfp_config c;

	(void)state;
	wfp_config_defaults(&c);
	range_ok(&c, "WFP_VISIBILITY_MS", WFP_LEASE_MIN_MS, WFP_LEASE_MAX_MS);
	range_ok(&c, "WFP_RETENTION_MS", WFP_RETENTION_MIN_MS,
		 WFP_RETENTION_MAX_MS);
	range_ok(&c, "WFP_TIMEOUT_MS", WFP_TIMEOUT_MIN_MS, WFP_TIMEOUT_MAX_MS);
	range_ok(&c, "WFP_CONCURRENCY", 1, WFP_CONCURRENCY_MAX);
	range_ok(&c, "WFP_INFLIGHT_MAX", 1, WFP_INFLIGHT_MAX_MAX);
	range_ok(&c, "WFP_GRACE_MS", 0, WFP_GRACE_MAX_MS);
	range_ok(&c, "WFP_TASK_OUTPUT_MAX", 0, WFP_TASK_OUTPUT_MAX_MAX);
	sized(v, WFP_URL_MAX - 1, "redis://", 'h', ":1");
	assert_int_equal(env_try(&c, "WFP_REDIS_URL", v), 0);
	sized(v, WFP_URL_MAX, "redis://", 'h', ":1");
	assert_int_equal(env_try(&c, "WFP_REDIS_URL", v), -1);
	assert_int_equal(env_try(&c, "WFP_PREFIX", sized(v, 31, "", 'p', "")),
			 0);
	assert_int_equal(env_try(&c, "WFP_PREFIX", sized(v, 32, "", 'p', "")),
			 -1);
	sized(v, WFP_ADDR_MAX - 1, "", 'h', ":9100");
	assert_int_equal(env_try(&c, "WFP_METRICS_ADDR", v), 0);
	sized(v, WFP_ADDR_MAX, "", 'h', ":9100");
	assert_int_equal(env_try(&c, "WFP_METRICS_ADDR", v), -1);
	sized(v, WFP_PATH_MAX - 1, "/", 'd', "");
	assert_int_equal(env_try(&c, "WFP_PLUGIN_DIR", v), 0);
	assert_int_equal(env_try(&c, "WFP_CLASSES_DIR", v), 0);
	sized(v, WFP_PATH_MAX, "/", 'd', "");
	assert_int_equal(env_try(&c, "WFP_PLUGIN_DIR", v), -1);
	assert_int_equal(env_try(&c, "WFP_CLASSES_DIR", v), -1);
	/* WFP_EXEC_ALLOW: 256 paths "/a:" taken, 257 refused. */
	sized(v, 3 * WFP_EXEC_ALLOW_PATHS_MAX - 1, "", 'x', "");
	for (int i = 0; i < WFP_EXEC_ALLOW_PATHS_MAX; i++)
		memcpy(v + 3 * i,
		       i + 1 < WFP_EXEC_ALLOW_PATHS_MAX ? "/a:" : "/a",
		       i + 1 < WFP_EXEC_ALLOW_PATHS_MAX ? 3 : 2);
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", v), 0);
	memcpy(v + strlen(v), ":/b", 4);
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", v), -1);
	assert_non_null(strstr(err, "holds over 256 paths"));
	assert_int_equal(env_try(&c, "WFP_EXEC_ALLOW", ""), 0);
}

/* The executor's settings are flags too. */
static void test_executor_flags(void **state)
{
	struct wfp_config c;
	char *argv[] = {"prog",
			"--grace-ms",
			"250",
			"--exec-allow=/bin/sh",
			"--executor-name",
			"e1",
			"--task-output-max=10",
			"--plugin-dir",
			"plugins",
			"--classes-dir=cls",
			"rest"};
	int pos = 1;

	(void)state;
	wfp_config_defaults(&c);
	assert_int_equal(
	    wfp_config_from_args(&c, 11, argv, &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 10);
	assert_int_equal(c.grace_ms, 250);
	assert_string_equal(c.exec_allow, "/bin/sh");
	assert_string_equal(c.executor_name, "e1");
	assert_int_equal(c.task_output_max, 10);
	assert_string_equal(c.plugin_dir, "plugins");
	assert_string_equal(c.classes_dir, "cls");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_env_bad_value_names_variable),
	    cmocka_unit_test(test_flags_override_env),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_redis_urls),
	    cmocka_unit_test(test_redis_url_redact),
	    cmocka_unit_test(test_redis_flag_redacted),
	    cmocka_unit_test(test_inflight_max),
	    cmocka_unit_test(test_executor_settings),
	    cmocka_unit_test(test_executor_flags),
	    cmocka_unit_test(test_setting_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
