/*
 * fuzz_jobboard.c - fuzz target: wfp-jobboard's request parsers
 * (services/jobboard/jobboard.c) on any request body, as it arrives on
 * {prefix}:svc:jobboard:requests: the body is decoded as the service
 * decodes it (wfp_codec_decode), then read as each op's body: post
 * (jobboard_parse_post, which checks the payload's workflow too),
 * transfer, repost and cancel.
 */
#include "fuzz.h"
#include "jobboard-internal.h"
#include "wfp/client.h"
#include "wfp/job.h"

/* The body as a post: what is accepted is within its bounds. */
static void post(const msgpack_object *body)
{
	char err[FUZZ_ERR_MAX] = "";
	struct jobboard_post p;

	if (jobboard_parse_post(body, &p, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(p.payload != NULL && p.name[0] != '\0');
		FUZZ_ASSERT(strlen(p.payload) <= WFP_PAYLOAD_MAX);
		FUZZ_ASSERT(p.max_attempts >= 1 && p.idem_ttl_ms >= 1);
	} else {
		fuzz_refused(err);
	}
	free(p.payload);
}

/* The body as a transfer, a repost and a cancel. */
static void job_ops(const msgpack_object *body)
{
	char err[FUZZ_ERR_MAX] = "", id[WFP_ID_MAX], to[WFP_NAME_MAX];
	char reason[WFP_CANCEL_REASON_MAX];

	for (int with_to = 0; with_to <= 1; with_to++) {
		err[0] = '\0';
		if (jobboard_parse_job_op(body, with_to, id, to, err,
					  sizeof(err)) == 0)
			FUZZ_ASSERT(id[0] != '\0' && (with_to || !to[0]));
		else
			fuzz_refused(err);
	}
	err[0] = '\0';
	if (jobboard_parse_cancel(body, id, reason, err, sizeof(err)) == 0)
		FUZZ_ASSERT(id[0] != '\0');
	else
		fuzz_refused(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_body_fn fns[] = {post, job_ops};

	fuzz_each_body(data, size, fns, sizeof(fns) / sizeof(fns[0]));
	return 0;
}
