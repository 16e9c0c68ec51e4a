/* fence_probe RESOURCE OWNER FENCE...: runs wfp_fence_check for each
 * fence in order, as writes of OWNER; exits 1 at the first refusal (as a
 * resource would refuse the write, the reason on stderr), 0 when all
 * pass. Helper of locks.sh and lock_scripts.sh. */
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
	if (argc < 4 || wfp_config_from_env(&cfg, err, sizeof(err)) != 0 ||
	    (c = wfp_client_new(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "usage: fence_probe RESOURCE OWNER FENCE...\n");
		return 2;
	}
	for (int i = 3; i < argc && rc == 0; i++) {
		if (wfp_fence_check(c, argv[1], atoll(argv[i]), argv[2]) != 0) {
			fprintf(stderr, "%s\n", wfp_client_error(c));
			rc = 1;
		}
	}
	wfp_client_free(c);
	return rc;
}
