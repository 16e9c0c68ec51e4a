/* main.c - wfp-jobboard: reads the configuration and hands over. */
#include <stdlib.h>

#include "jobboard-internal.h"
#include "wfp/daemon.h"

int main(int argc, char **argv)
{
	struct wfp_daemon d;
	struct jobboard *jb;
	int rc = wfp_daemon_init(&d, "wfp-jobboard", argc, argv);

	if (rc != 0) {
		wfp_daemon_release(&d);
		return rc > 0 ? 0 : 2;
	}
	jb = jobboard_new(&d);
	if (jb == NULL) {
		wfp_daemon_release(&d);
		return 1;
	}
	wfp_daemon_run(&d);
	rc = jobboard_exit_code(jb);
	jobboard_free(jb);
	wfp_daemon_release(&d);
	return rc;
}
