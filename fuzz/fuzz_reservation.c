/*
 * fuzz_reservation.c - fuzz target: wfp-reservation's request parsers
 * (services/reservation/reservation.c) on any request body, as it arrives
 * on {prefix}:svc:reservation:requests: the body is decoded as the
 * service decodes it (wfp_codec_decode), then read as a create
 * (rsvd_parse_create, and the file it carries with wfp_rsv_parse, as
 * serve_create does), a release and a pool_set.
 */
#include "fuzz.h"
#include "reservation-internal.h"

/* The body as a create; its file goes through the reservation parser. */
static void create(const msgpack_object *body)
{
	char err[FUZZ_ERR_MAX] = "";
	struct rsvd_create c;
	struct wfp_rsv *r = NULL;

	if (rsvd_parse_create(body, &c, err, sizeof(err)) != 0) {
		fuzz_refused(err);
		FUZZ_ASSERT(c.file == NULL);
		return;
	}
	FUZZ_ASSERT(c.id[0] != '\0' && c.len <= WFP_RSV_FILE_MAX);
	FUZZ_ASSERT(c.file[c.len] == '\0');
	err[0] = '\0';
	if (wfp_rsv_parse(c.file, c.len, &r, err, sizeof(err)) == 0)
		FUZZ_ASSERT(r->nitems <= WFP_RSV_ITEMS_MAX);
	else
		fuzz_refused(err);
	wfp_rsv_free(r);
	free(c.file);
}

/* The body as a release and as a pool_set. */
static void release_pool_set(const msgpack_object *body)
{
	char err[FUZZ_ERR_MAX] = "", id[WFP_RSV_ID_MAX];
	char name[WFP_POOL_NAME_MAX];
	int64_t capacity = -1;

	if (rsvd_parse_release(body, id, err, sizeof(err)) == 0)
		FUZZ_ASSERT(id[0] != '\0');
	else
		fuzz_refused(err);
	err[0] = '\0';
	if (rsvd_parse_pool_set(body, name, &capacity, err, sizeof(err)) == 0)
		FUZZ_ASSERT(name[0] != '\0' && capacity >= 0 &&
			    capacity <= WFP_POOL_CAPACITY_MAX);
	else
		fuzz_refused(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_body_fn fns[] = {create, release_pool_set};

	fuzz_each_body(data, size, fns, sizeof(fns) / sizeof(fns[0]));
	return 0;
}
