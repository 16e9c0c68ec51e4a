/* script_text NAME: prints the full text of the Lua script NAME (as sent
 * with EVAL: prelude, lib.lua, locklib.lua for the lock scripts, then the
 * script), so shell tests can load it and call it as any other language
 * would. Exits 2 for an unknown name. Helper of lock_scripts.sh. */
#include <stdio.h>
#include <string.h>

#include "wfp/scripts.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: script_text NAME\n");
		return 2;
	}
	for (int id = 0; id < WFP_LUA_COUNT; id++) {
		const struct wfp_script *s = wfp_script((enum wfp_script_id)id);

		if (strcmp(s->name, argv[1]) == 0) {
			fwrite(s->text, 1, s->len, stdout);
			return ferror(stdout) ? 1 : 0;
		}
	}
	fprintf(stderr, "script_text: no script '%s'\n", argv[1]);
	return 2;
}
