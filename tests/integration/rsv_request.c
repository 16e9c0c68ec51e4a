/*
 * rsv_request OP [KEY=TEXT | KEY:=INTEGER | KEY@=FILE]...: sends one
 * request to wfp-reservation (its body a map of the given fields; @=
 * sends a file's text) and prints the reply's fields as KEY=VALUE lines.
 * Exits 0 on {ok: true}, 1 with the error on stderr on a refusal or no
 * reply, 2 on bad usage. Helper of the reservation tests (rsv_*.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp/client.h"
#include "wfp/codec.h"

#define FILE_MAX (1024 * 1024) /* bytes read from a @= file */

/* Reads path into a malloc'd buffer (*len bytes). Returns it or NULL. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(FILE_MAX);

	if (f == NULL || buf == NULL) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	*len = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	return buf;
}

/* Packs one KEY?=VALUE argument. Returns 0 or -1. */
static int pack_arg(msgpack_packer *pk, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t klen, len = 0;
	char *text;

	if (eq == NULL || eq == arg)
		return -1;
	klen = (size_t)(eq - arg);
	if (eq[-1] == ':' || eq[-1] == '@')
		klen--;
	msgpack_pack_str(pk, klen);
	msgpack_pack_str_body(pk, arg, klen);
	if (eq[-1] == ':')
		return msgpack_pack_int64(pk, atoll(eq + 1)), 0;
	if (eq[-1] != '@')
		return wfp_pack_cstr(pk, eq + 1), 0;
	text = read_file(eq + 1, &len);
	if (text == NULL)
		return -1;
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, text, len);
	free(text);
	return 0;
}

/* Prints the reply map's fields, one a line. */
static void print_reply(const msgpack_object *m)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		const msgpack_object *v = &m->via.map.ptr[i].val;

		printf("%.*s=", (int)k->via.str.size, k->via.str.ptr);
		if (v->type == MSGPACK_OBJECT_STR)
			printf("%.*s\n", (int)v->via.str.size, v->via.str.ptr);
		else if (v->type == MSGPACK_OBJECT_BOOLEAN)
			printf("%s\n", v->via.boolean ? "true" : "false");
		else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			printf("%llu\n", (unsigned long long)v->via.u64);
		else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			printf("%lld\n", (long long)v->via.i64);
		else
			printf("?\n");
	}
}

int main(int argc, char **argv)
{
	struct wfp_config cfg;
	struct wfp_client *c;
	struct wfp_msg reply;
	msgpack_sbuffer buf;
	msgpack_packer pk;
	char err[256];
	int rc = 0;

	wfp_config_defaults(&cfg);
	if (argc < 2 || wfp_config_from_env(&cfg, err, sizeof(err)) != 0 ||
	    (c = wfp_client_new(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "usage: rsv_request OP [KEY=TEXT|KEY:=INT|"
				"KEY@=FILE]...\n");
		return 2;
	}
	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (size_t)(argc - 2));
	for (int i = 2; i < argc; i++) {
		if (pack_arg(&pk, argv[i]) != 0) {
			fprintf(stderr, "rsv_request: bad argument '%s'\n",
				argv[i]);
			rc = 2;
		}
	}
	if (rc == 0 && wfp_request(c, "reservation", argv[1], buf.data,
				   buf.size, 10000, &reply) != 0) {
		fprintf(stderr, "%s\n", wfp_client_error(c));
		rc = 1;
	} else if (rc == 0) {
		print_reply(&reply.u.data);
		wfp_msg_destroy(&reply);
	}
	msgpack_sbuffer_destroy(&buf);
	wfp_client_free(c);
	return rc;
}
