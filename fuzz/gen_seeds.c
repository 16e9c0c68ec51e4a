/*
 * gen_seeds.c - writes the generated seeds of the fuzz corpus: the
 * msgpack request bodies (valid and near-valid) of fuzz/corpus/codec,
 * jobboard, lock and reservation, and the plans of fuzz/corpus/rsv_plan
 * (made from the example reservations and classes, as wfp-reservation
 * makes them). The JSON and text seeds beside them are written by hand.
 *
 * usage: build/fuzz/fuzz_seedgen SOURCE_DIR
 * (writes into SOURCE_DIR/fuzz/corpus/TARGET/, reads
 * SOURCE_DIR/examples/provision). Run it again after changing a seed here
 * and commit what changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wfp/codec.h"
#include "wfp/rsv.h"

static const char *root; /* SOURCE_DIR */

/* Writes n bytes to SOURCE_DIR/fuzz/corpus/dir/name; exits on failure. */
static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fuzz/corpus/%s", root, dir);
	mkdir(path, 0755); /* there already, mostly */
	snprintf(path, sizeof(path), "%s/fuzz/corpus/%s/%s", root, dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "fuzz_seedgen: cannot write %s\n", path);
		exit(1);
	}
}

/* A msgpack body being built. */
struct body {
	msgpack_sbuffer buf;
	msgpack_packer pk;
};

/* Starts a body: a map of n pairs. */
static struct body *map(int n)
{
	static struct body b;

	msgpack_sbuffer_init(&b.buf);
	msgpack_packer_init(&b.pk, &b.buf, msgpack_sbuffer_write);
	msgpack_pack_map(&b.pk, (size_t)n);
	return &b;
}

/* Packs string pair key/value. */
static void str(struct body *b, const char *key, const char *value)
{
	wfp_pack_kv(&b->pk, key, value);
}

/* Packs integer pair key/value. */
static void num(struct body *b, const char *key, int64_t value)
{
	wfp_pack_cstr(&b->pk, key);
	msgpack_pack_int64(&b->pk, value);
}

/* Writes the body to dir/name and frees it. */
static void end(struct body *b, const char *dir, const char *name)
{
	put(dir, name, b->buf.data, b->buf.size);
	msgpack_sbuffer_destroy(&b->buf);
}

/* Raw bytes (a C string literal of escapes) to dir/name. */
#define RAW(dir, name, lit) put(dir, name, lit, sizeof(lit) - 1)

/* Seeds of the checker: every type, and each refusal. */
static void codec_seeds(void)
{
	struct body *b = map(9);
	msgpack_packer *pk = &b->pk;

	wfp_pack_cstr(pk, "nil"), msgpack_pack_nil(pk);
	wfp_pack_cstr(pk, "t"), msgpack_pack_true(pk);
	wfp_pack_cstr(pk, "ints"), msgpack_pack_array(pk, 6);
	msgpack_pack_int8(pk, -3), msgpack_pack_uint8(pk, 200);
	msgpack_pack_int16(pk, -300), msgpack_pack_uint32(pk, 70000);
	msgpack_pack_int64(pk, -5000000000LL);
	msgpack_pack_uint64(pk, 18000000000000000000ULL);
	wfp_pack_cstr(pk, "f"), msgpack_pack_double(pk, 2.5);
	wfp_pack_cstr(pk, "g"), msgpack_pack_float(pk, 1.5f);
	wfp_pack_cstr(pk, "bin"), msgpack_pack_bin(pk, 3);
	msgpack_pack_bin_body(pk, "\x00\x01\x02", 3);
	wfp_pack_cstr(pk, "ext"), msgpack_pack_ext(pk, 4, 7);
	msgpack_pack_ext_body(pk, "abcd", 4);
	wfp_pack_cstr(pk, "nest"), msgpack_pack_map(pk, 1);
	wfp_pack_cstr(pk, "a"), msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1), wfp_pack_kv(pk, "b", "c");
	str(b, "id", "job-1");
	end(b, "codec", "types.mp");
	RAW("codec", "empty.mp", "");
	RAW("codec", "empty-map.mp", "\x80");
	RAW("codec", "dup-key.mp", "\x82\xa1\x61\x01\xa1\x61\x02");
	RAW("codec", "dup-key-str8.mp", "\x82\xa1\x61\x01\xd9\x01\x61\x02");
	RAW("codec", "array32-lies.mp", "\x81\xa1\x61\xdd\xff\xff\xff\xff");
	RAW("codec", "str32-lies.mp", "\x81\xa1\x61\xdb\x7f\xff\xff\xff\x41");
	RAW("codec", "map16-lies.mp", "\xde\xff\xff\xa1\x61\x01");
	RAW("codec", "deep9.mp",
	    "\x81\xa1\x61\x91\x91\x91\x91\x91\x91\x91\x91\x01");
	RAW("codec", "trailing.mp", "\x80\x00");
	RAW("codec", "truncated.mp", "\x82\xa1\x61\x01\xa1");
	RAW("codec", "not-a-map.mp", "\x93\x01\x02\x03");
	RAW("codec", "never-used.mp", "\x81\xa1\x61\xc1");
	RAW("codec", "int-keys.mp", "\x82\x01\x01\xcc\x01\x02");
	RAW("codec", "fixext16.mp",
	    "\x81\xa1\x78\xd8\x01"
	    "0123456789abcdef");
}

/* Seeds of wfp-jobboard's ops. */
static void jobboard_seeds(void)
{
	struct body *b = map(6);

	str(b, "id", "job-1"), str(b, "name", "deploy");
	str(b, "payload",
	    "{\"inputs\":{\"dir\":\"/tmp\"},\"workflow\":{"
	    "\"linear\":[{\"task\":\"a\",\"apply\":[\"/bin/"
	    "true\"],\"provides\":[\"x\"]},{\"task\":\"b\","
	    "\"apply\":{\"plugin\":\"counter\"},\"requires\":["
	    "\"x\"]}]}}");
	str(b, "idempotency_key", "k-1"), num(b, "max_attempts", 3);
	num(b, "idempotency_ttl_ms", 60000);
	end(b, "jobboard", "post-workflow.mp");
	b = map(2), str(b, "name", "plain"), str(b, "payload", "{\"a\":1}");
	end(b, "jobboard", "post-plain.mp");
	b = map(1), str(b, "name", "no-payload");
	end(b, "jobboard", "post-minimal.mp");
	b = map(2), str(b, "name", "n"), num(b, "max_attempts", 0);
	end(b, "jobboard", "post-bad-attempts.mp");
	b = map(2), str(b, "name", "n"), str(b, "colour", "red");
	end(b, "jobboard", "post-unknown-field.mp");
	b = map(2), str(b, "name", "n"), str(b, "payload", "{\"workflow\":1}");
	end(b, "jobboard", "post-bad-workflow.mp");
	b = map(2), str(b, "id", "job-1"), str(b, "to", "worker-7");
	end(b, "jobboard", "transfer.mp");
	b = map(2), str(b, "id", "job-1"), str(b, "to", "");
	end(b, "jobboard", "transfer-back.mp");
	b = map(1), str(b, "id", "job-1");
	end(b, "jobboard", "repost.mp");
	b = map(2), str(b, "id", "job-1"), str(b, "reason", "operator said");
	end(b, "jobboard", "cancel.mp");
	b = map(1), str(b, "id", "bad id!");
	end(b, "jobboard", "bad-id.mp");
}

/* Seeds of wfp-lock's ops. */
static void lock_seeds(void)
{
	static const char tok[] = "alice/0123456789abcdef0123456789abcdef";
	struct body *b = map(4);

	str(b, "name", "db"), str(b, "owner", "alice"), str(b, "token", tok);
	num(b, "ttl_ms", 5000);
	end(b, "lock", "acquire.mp");
	b = map(5);
	wfp_pack_cstr(&b->pk, "names"), msgpack_pack_array(&b->pk, 3);
	wfp_pack_cstr(&b->pk, "db"), wfp_pack_cstr(&b->pk, "volume/vol-7");
	wfp_pack_cstr(&b->pk, "net:a");
	str(b, "owner", "alice"), str(b, "token", tok);
	num(b, "ttl_ms", 5000), num(b, "wait_ms", 2000);
	end(b, "lock", "acquire-names-wait.mp");
	b = map(5), str(b, "name", "db");
	wfp_pack_cstr(&b->pk, "names"), msgpack_pack_array(&b->pk, 1);
	wfp_pack_cstr(&b->pk, "db");
	str(b, "owner", "alice"), str(b, "token", tok), num(b, "ttl_ms", 5000);
	end(b, "lock", "acquire-name-and-names.mp");
	b = map(4), str(b, "name", "db"), str(b, "owner", "bob");
	str(b, "token", tok), num(b, "ttl_ms", 5000);
	end(b, "lock", "acquire-token-not-owner.mp");
	b = map(3), str(b, "name", "db"), str(b, "token", tok);
	num(b, "ttl_ms", 5000);
	end(b, "lock", "renew.mp");
	b = map(2), str(b, "name", "db"), str(b, "token", tok);
	end(b, "lock", "release.mp");
}

/* Seeds of wfp-reservation's ops (file: a reservation file's text). */
static void reservation_seeds(const char *file)
{
	struct body *b = map(2);

	str(b, "id", "rsv-1"), str(b, "file", file);
	end(b, "reservation", "create.mp");
	b = map(2), str(b, "id", "rsv-2");
	str(b, "file",
	    "{\"name\":\"x\",\"items\":[{\"name\":\"a\",\"pool\":"
	    "\"p\",\"amount\":1,\"class\":\"c\"}],\"reservations\":[{"
	    "\"name\":\"s\",\"items\":[{\"name\":\"b\",\"pool\":"
	    "\"p\",\"amount\":2,\"class\":\"c\"}]}]}");
	end(b, "reservation", "create-subs.mp");
	b = map(2), str(b, "id", "no/slash"), str(b, "file", "{}");
	end(b, "reservation", "create-bad-id.mp");
	b = map(2), str(b, "id", "rsv-3"), num(b, "file", 7);
	end(b, "reservation", "create-file-not-string.mp");
	b = map(1), str(b, "id", "rsv-1");
	end(b, "reservation", "release.mp");
	b = map(2), str(b, "name", "vcpus"), num(b, "capacity", 64);
	end(b, "reservation", "pool-set.mp");
	b = map(2), str(b, "name", "vcpus"), num(b, "capacity", -1);
	end(b, "reservation", "pool-set-negative.mp");
}

/* Reads SOURCE_DIR/rel whole (NUL-terminated); exits on failure. */
static char *slurp(const char *rel, size_t *len)
{
	char path[4096], *s;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (s = malloc((size_t)n + 1)) == NULL ||
	    fread(s, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "fuzz_seedgen: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	s[n] = '\0';
	*len = (size_t)n;
	return s;
}

/* A job log of the small-server example (fuzz_rsv_plan.c's LOG): steps
 * applied with outputs, a failure, a step that never ran, reverts and a
 * teardown entry. */
static const char small_log[] =
    "ip.reserve\trunning\t0\t0\n"
    "ip.reserve\tapplied\t0\t0\t{\"ip\":\"10.0.0.7\",\"zone\":\"a\"}\n"
    "ip.configure\tapplied\t0\t0\t{\"ip\":\"10.0.0.8\",\"n\":[1,2]}\n"
    "disk.reserve\tapplied\t0\t0\t{\"vol\":\"v-1\"}\n"
    "vm.reserve\trunning\t0\t0\n"
    "vm.reserve\tapply-failed\t1\t0\t\tboom\n"
    "vm.configure\tapply-failed\t1\t0\t\tcancelled before its action ran\n"
    "disk.reserve\treverting\t0\t0\n"
    "disk.reserve\treverted\t0\t0\n"
    "ip.destroy\trunning\t0\t1\n"
    "ip.destroy\tapplied\t0\t1\n";

/* The plan of reservation text (resolved with the example classes)
 * into fuzz/corpus/rsv_plan/name; with log (not NULL), a second seed
 * name.log: the plan, a NUL byte and the log. */
static void plan_seed(const char *text, const char *name, const char *log)
{
	char err[512], dir[4096];
	struct wfp_rsv *r = NULL;
	char *plan;

	snprintf(dir, sizeof(dir), "%s/examples/provision/classes", root);
	if (wfp_rsv_parse(text, strlen(text), &r, err, sizeof(err)) != 0 ||
	    wfp_rsv_resolve(r, dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_seedgen: %s: %s\n", name, err);
		exit(1);
	}
	plan = wfp_rsv_plan(r);
	if (plan == NULL)
		exit(1);
	put("rsv_plan", name, plan, strlen(plan));
	if (log != NULL) {
		char logname[256];
		size_t n = strlen(plan), m = strlen(log);

		plan = realloc(plan, n + 1 + m);
		if (plan == NULL)
			exit(1);
		memcpy(plan + n + 1, log, m);
		snprintf(logname, sizeof(logname), "%s.log", name);
		put("rsv_plan", logname, plan, n + 1 + m);
	}
	free(plan);
	wfp_rsv_free(r);
}

/* A reservation with nested sub-reservations, for a plan with subs. */
static const char nested[] =
    "{\"name\":\"web\",\"ttl_ms\":5000,\"max_attempts\":2,\"items\":[{"
    "\"name\":\"ip\",\"pool\":\"ips\",\"amount\":1,\"class\":\"ip\"}],"
    "\"reservations\":[{\"name\":\"db\",\"items\":[{\"name\":\"dbvm\",\"pool\":"
    "\"vcpus\",\"amount\":4,\"class\":\"vm\",\"args\":{\"cpus\":4}}],"
    "\"reservations\":[{\"name\":\"dbdisk\",\"items\":[{\"name\":\"disk\","
    "\"pool\":\"gb\",\"amount\":100,\"class\":\"volume\"}]}]}]}";

int main(int argc, char **argv)
{
	size_t len;
	char *file;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seedgen SOURCE_DIR\n");
		return 1;
	}
	root = argv[1];
	codec_seeds();
	jobboard_seeds();
	lock_seeds();
	file = slurp("examples/provision/small-server.json", &len);
	reservation_seeds(file);
	plan_seed(file, "small-server.json", small_log);
	free(file);
	file = slurp("examples/provision/small-server-fails.json", &len);
	plan_seed(file, "small-server-fails.json", NULL);
	free(file);
	plan_seed(nested, "nested-subs.json",
		  "disk.reserve\tapplied\t0\t0\t{\"a\":{\"b\":null}}\n"
		  "dbvm.unreserve\trevert-failed\t1\t1\t\tstuck\n");
	return 0;
}
