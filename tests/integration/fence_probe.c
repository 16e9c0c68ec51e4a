/* fence_probe RESOURCE FENCE...: runs wfp_fence_check for each fence in
 * order; exits 1 at the first refusal (as a resource would refuse the
 * write), 0 when all pass. Helper of locks.sh. */
#include <stdio.h>
#include <stdlib.h>

#include "wfp/lock.h"

int main(int argc, char **argv)
{
	struct wfp_config cfg;
	struct wfp_client *c;
	char err[256];
	int rc = 0;

	wfp_config_defaults(&cfg);
	if (argc < 3 || wfp_config_from_env(&cfg, err, sizeof(err)) != 0 ||
	    (c = wfp_client_new(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "usage: fence_probe RESOURCE FENCE...\n");
		return 2;
	}
	for (int i = 2; i < argc && rc == 0; i++) {
		if (wfp_fence_check(c, argv[1], atoll(argv[i])) != 0) {
			fprintf(stderr, "%s\n", wfp_client_error(c));
			rc = 1;
		}
	}
	wfp_client_free(c);
	return rc;
}
