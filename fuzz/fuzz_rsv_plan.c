/*
 * fuzz_rsv_plan.c - fuzz target: the plan parser (wfp_rsv_plan_parse,
 * common/rsv.c) on any text, as wfp-reservation reads a reservation's
 * stored plan back from Redis to reconcile and release it.
 *
 * A plan that parses keeps the rules of wfp/rsv.h; its plan parses back
 * to the same text; its fulfilment and teardown payloads pass the
 * workflow parser; its item phases take a job log (fuzz_rsv.h).
 */
#include "fuzz_rsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERR_MAX] = "";
	struct wfp_rsv *r = NULL;
	char *text = fuzz_text(data, size);

	if (text == NULL)
		return 0;
	if (wfp_rsv_plan_parse(text, size, &r, err, sizeof(err)) == 0) {
		fuzz_rsv_rules(r);
		fuzz_rsv_made(r);
		wfp_rsv_free(r);
	} else {
		fuzz_refused(err);
		FUZZ_ASSERT(r == NULL);
	}
	free(text);
	return 0;
}
