/*
 * lock_bench - acquire+release pairs per second and acquire latency of
 * wfp locks, beside raw Redis locks (SET NX PX + compare-and-delete
 * script) on the same server in the same run.
 *
 * Three paths, each with 1 and 8 client processes, each client on a lock
 * of its own (uncontended):
 *   raw      SET lock token NX PX, then EVALSHA compare-and-delete;
 *   direct   wfp_lock_acquire/release, the client running the lock
 *            service's scripts (how a C client takes a free lock);
 *   service  acquire and release as requests through wfp-lock's request
 *            stream (XADD + the service + reply list), which must run;
 *   svc+rel  acquire through wfp-lock, release by the client's direct
 *            script: what the client library does when it had to wait.
 * Prints figures; never fails on timing.
 * usage: lock_bench [--pairs N] (per client)   (WFP_REDIS_URL, WFP_PREFIX)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "wfp/codec.h"
#include "wfp/lock.h"
#include "wfp/util.h"

enum path { RAW, DIRECT, SERVICE, SERVICE_ACQ, NPATHS };
static const char *const path_names[] = {"raw", "direct", "service", "svc+rel"};
static const char cad[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
			  "return redis.call('DEL', KEYS[1]) end return 0";
static struct wfp_config cfg;
static int pairs = 5000;

static struct wfp_client *client_or_die(void)
{
	char err[256];
	struct wfp_client *c = wfp_client_new(&cfg, err, sizeof(err));

	if (c == NULL) {
		fprintf(stderr, "lock_bench: %s\n", err);
		exit(1);
	}
	return c;
}

/* One raw pair: SET NX PX, compare-and-delete. */
static int raw_pair(struct wfp_client *c, const char *name, int64_t *acq_us)
{
	char token[33];
	int64_t t0 = wfp_mono_us();
	redisReply *r;

	wfp_random_hex(token, 16);
	r = wfp_client_commandf(c, "SET rawlock:%s %s NX PX 30000", name,
				token);
	*acq_us = wfp_mono_us() - t0;
	if (r == NULL || r->type != REDIS_REPLY_STATUS)
		return -1;
	freeReplyObject(r);
	r = wfp_client_commandf(c, "EVAL %s 1 rawlock:%s %s", cad, name, token);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* Sends one request to wfp-lock and waits for its reply. */
static int service_call(struct wfp_client *c, const char *op,
			msgpack_sbuffer *body)
{
	struct wfp_msg reply;

	if (wfp_request(c, "lock", op, body->data, body->size, 5000, &reply))
		return -1;
	wfp_msg_destroy(&reply);
	return 0;
}

/* One pair through the service's request stream; with direct_release,
 * the release runs the script directly instead. */
static int service_pair(struct wfp_client *c, const char *name, int64_t *acq_us,
			int direct_release)
{
	char hex[33], token[64];
	msgpack_sbuffer buf;
	msgpack_packer pk;
	int64_t t0;
	int rc;

	wfp_random_hex(hex, 16);
	snprintf(token, sizeof(token), "bench/%s", hex);
	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	wfp_pack_kv(&pk, "name", name);
	wfp_pack_kv(&pk, "owner", "bench");
	wfp_pack_kv(&pk, "token", token);
	wfp_pack_cstr(&pk, "ttl_ms");
	msgpack_pack_int(&pk, 30000);
	t0 = wfp_mono_us();
	rc = service_call(c, "acquire", &buf);
	*acq_us = wfp_mono_us() - t0;
	msgpack_sbuffer_clear(&buf);
	msgpack_pack_map(&pk, 2);
	wfp_pack_kv(&pk, "name", name);
	wfp_pack_kv(&pk, "token", token);
	if (rc == 0 && direct_release)
		rc = wfp_lock_release(c, name, token);
	else if (rc == 0)
		rc = service_call(c, "release", &buf);
	msgpack_sbuffer_destroy(&buf);
	return rc;
}

/* One pair through the client library (direct scripts). */
static int direct_pair(struct wfp_client *c, const char *name, int64_t *acq_us)
{
	const char *names[1] = {name};
	struct wfp_lock_grant g;
	int64_t t0 = wfp_mono_us();

	if (wfp_lock_acquire(c, names, 1, "bench", 30000, 0, &g) != 0)
		return -1;
	*acq_us = wfp_mono_us() - t0;
	return wfp_lock_release(c, name, g.token);
}

/* A client process: runs pairs, writes "p50 p99" of acquire (us) to fd. */
static int client(enum path p, int k, int fd)
{
	struct wfp_client *c = client_or_die();
	int64_t *us = calloc((size_t)pairs, sizeof(*us));
	char name[32], line[64];
	int len;

	snprintf(name, sizeof(name), "bench-%d", k);
	for (int i = 0; i < pairs; i++) {
		int rc = p == RAW ? raw_pair(c, name, &us[i])
			 : p == DIRECT
			     ? direct_pair(c, name, &us[i])
			     : service_pair(c, name, &us[i], p == SERVICE_ACQ);
		if (rc != 0) {
			fprintf(stderr, "lock_bench: %s\n",
				wfp_client_error(c));
			return 1;
		}
	}
	bench_sort(us, (size_t)pairs);
	len =
	    snprintf(line, sizeof(line), "%lld %lld\n",
		     (long long)us[pairs / 2], (long long)us[pairs * 99 / 100]);
	if (write(fd, line, (size_t)len) != len)
		return 1;
	free(us);
	wfp_client_free(c);
	return 0;
}

/* Runs n clients on path p; returns pairs/s, with the acquire p50 and
 * p99 of client 0. */
static double run(enum path p, int n, double *p50, double *p99)
{
	int fds[2];
	int64_t t0 = wfp_mono_us();
	char buf[256] = "";
	FILE *f;
	long long a = 0, b = 0;

	if (pipe(fds) != 0)
		exit(1);
	for (int k = 0; k < n; k++) {
		if (fork() == 0) {
			close(fds[0]);
			_exit(client(p, k, fds[1]));
		}
	}
	close(fds[1]);
	for (int k = 0; k < n; k++)
		wait(NULL);
	f = fdopen(fds[0], "r");
	if (f && fgets(buf, sizeof(buf), f))
		sscanf(buf, "%lld %lld", &a, &b);
	if (f)
		fclose(f);
	*p50 = a / 1000.0, *p99 = b / 1000.0;
	return (double)n * pairs / ((wfp_mono_us() - t0) / 1e6);
}

int main(int argc, char **argv)
{
	static const int clients[] = {1, 8};
	char err[256];

	if (argc == 3 && strcmp(argv[1], "--pairs") == 0 && atoi(argv[2]) > 0)
		pairs = atoi(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: lock_bench [--pairs N]\n");
		return 2;
	}
	wfp_config_defaults(&cfg);
	if (wfp_config_from_env(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "lock_bench: %s\n", err);
		return 2;
	}
	printf("lock_bench: %d acquire+release pairs per client, each client "
	       "on its own lock\n",
	       pairs);
	for (size_t i = 0; i < 2; i++) {
		double rate[NPATHS], p50[NPATHS], p99[NPATHS];

		for (int p = RAW; p < NPATHS; p++)
			rate[p] = run(p, clients[i], &p50[p], &p99[p]);
		printf("%d client%s:\n", clients[i], clients[i] > 1 ? "s" : "");
		for (int p = RAW; p < NPATHS; p++)
			printf("  %-8s %7.0f pairs/s  acquire p50 %.3f ms  p99 "
			       "%.3f ms  ratio to raw %.2f\n",
			       path_names[p], rate[p], p50[p], p99[p],
			       rate[p] / rate[RAW]);
	}
	return 0;
}
