/*
 * fuzz_rsv.c - fuzz target: the reservation file parser (wfp_rsv_parse)
 * and the class file parser (wfp_rsv_class_parse) of common/rsv.c on any
 * text, as `wfp rsv create` and wfp-reservation's create read a
 * reservation and a class file from WFP_CLASSES_DIR is read.
 *
 * Each input is parsed both ways. A reservation that parses is resolved
 * with two fixed classes (one with destroy, one with the three undo
 * steps) and everything made from it is checked (fuzz_rsv.h); a class
 * that parses resolves a fixed reservation, checked the same way.
 */
#include "fuzz_rsv.h"

/* Classes every parsed reservation is resolved with. */
static const char class_undo[] =
    "{\"reserve\":[\"/bin/true\",\"reserve\"],\"configure\":[\"/bin/true\","
    "\"configure\"],\"acquire\":{\"plugin\":\"counter\",\"args\":{}},"
    "\"poweroff\":[\"/bin/true\"],\"unconfigure\":[\"/bin/true\"],"
    "\"unreserve\":[\"/bin/true\"],\"timeout_ms\":1000}";
static const char class_destroy[] =
    "{\"reserve\":[\"/bin/true\"],\"configure\":[\"/bin/true\"],"
    "\"acquire\":[\"/bin/true\"],\"destroy\":[\"/bin/true\",\"all\"],"
    "\"retry\":{\"attempts\":2,\"backoff_ms\":10}}";

/* The reservation a parsed class resolves. */
static const char rsv_fixed[] =
    "{\"name\":\"web\",\"items\":[{\"name\":\"vm\",\"pool\":\"vcpus\","
    "\"amount\":2,\"class\":\"c\",\"args\":{\"cpus\":2}}],\"reservations\":[{"
    "\"name\":\"db\",\"items\":[{\"name\":\"disk\",\"pool\":\"gb\","
    "\"amount\":20,\"class\":\"c\"}]}]}";

/* Resolves every item of r with a fixed class (even items the undo one,
 * odd the destroy one); returns 0 or -1. */
static int resolve_fixed(struct wfp_rsv *r)
{
	char err[FUZZ_ERR_MAX] = "";

	for (int i = 0; i < r->nitems; i++) {
		const char *c = i % 2 ? class_destroy : class_undo;

		if (wfp_rsv_class_parse(r->items[i].cls, c, strlen(c),
					&r->items[i], err, sizeof(err)) != 0)
			return -1;
	}
	return 0;
}

/* The input as a reservation file. */
static void as_reservation(const char *text, size_t size)
{
	char err[FUZZ_ERR_MAX] = "";
	struct wfp_rsv *r = NULL;

	if (wfp_rsv_parse(text, size, &r, err, sizeof(err)) != 0) {
		fuzz_refused(err);
		FUZZ_ASSERT(r == NULL);
		return;
	}
	fuzz_rsv_rules(r);
	FUZZ_ASSERT(resolve_fixed(r) == 0);
	fuzz_rsv_made(r);
	wfp_rsv_free(r);
}

/* The input as class file "c": on success, it resolves every item of
 * the fixed reservation. */
static void as_class(const char *text, size_t size)
{
	char err[FUZZ_ERR_MAX] = "";
	struct wfp_rsv *r = NULL;

	FUZZ_ASSERT(wfp_rsv_parse(rsv_fixed, strlen(rsv_fixed), &r, err,
				  sizeof(err)) == 0);
	for (int i = 0; i < r->nitems; i++) {
		err[0] = '\0';
		if (wfp_rsv_class_parse("c", text, size, &r->items[i], err,
					sizeof(err)) != 0) {
			fuzz_refused(err);
			wfp_rsv_free(r);
			return;
		}
	}
	fuzz_rsv_made(r);
	wfp_rsv_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	if (text == NULL)
		return 0;
	as_reservation(text, size);
	as_class(text, size);
	free(text);
	return 0;
}
