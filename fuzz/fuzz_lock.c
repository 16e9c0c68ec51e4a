/*
 * fuzz_lock.c - fuzz target: wfp-lock's request parsers
 * (services/lock/lock.c) on any request body, as it arrives on
 * {prefix}:svc:lock:requests: the body is decoded as the service decodes
 * it (wfp_codec_decode), then read as an acquire (lockd_parse_acquire), a
 * renew and a release (lockd_parse_holder).
 */
#include "fuzz.h"
#include "lock-internal.h"

/* The body as an acquire: what is accepted is within its bounds. */
static void acquire(const msgpack_object *body)
{
	char err[FUZZ_ERR_MAX] = "";
	struct lockd_acquire a;

	if (lockd_parse_acquire(body, &a, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(a.n >= 1 && a.n <= WFP_LOCK_MULTI_MAX);
		FUZZ_ASSERT(a.ttl_ms >= WFP_LOCK_TTL_MIN_MS &&
			    a.ttl_ms <= WFP_LOCK_TTL_MAX_MS);
		FUZZ_ASSERT(a.wait_ms >= 0 &&
			    a.wait_ms <= WFP_LOCK_WAIT_MAX_MS);
		for (int i = 0; i < a.n; i++)
			FUZZ_ASSERT(a.names[i][0] != '\0');
	} else {
		fuzz_refused(err);
	}
}

/* The body as a renew and as a release. */
static void holder(const msgpack_object *body)
{
	char err[FUZZ_ERR_MAX];
	struct lockd_holder h;

	for (int renew = 0; renew <= 1; renew++) {
		err[0] = '\0';
		if (lockd_parse_holder(body, renew, &h, err, sizeof(err)) == 0)
			FUZZ_ASSERT(h.name[0] != '\0' &&
				    (renew ? h.ttl_ms >= WFP_LOCK_TTL_MIN_MS
					   : h.ttl_ms == 0));
		else
			fuzz_refused(err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_body_fn fns[] = {acquire, holder};

	fuzz_each_body(data, size, fns, sizeof(fns) / sizeof(fns[0]));
	return 0;
}
