/* main.c - wfp-lock: reads the configuration and hands over. */
#include "lock-internal.h"
#include "wfp/daemon.h"

int main(int argc, char **argv)
{
	struct wfp_daemon d;
	struct lockd *l;
	int rc = wfp_daemon_init(&d, "wfp-lock", argc, argv);

	if (rc != 0) {
		wfp_daemon_release(&d);
		return rc > 0 ? 0 : 2;
	}
	l = lockd_new(&d);
	if (l == NULL) {
		wfp_daemon_release(&d);
		return 1;
	}
	wfp_daemon_run(&d);
	rc = lockd_exit_code(l);
	lockd_free(l);
	wfp_daemon_release(&d);
	return rc;
}
