/* script_text NAME: prints the full text of the Lua script NAME (as sent
 * with EVAL: prelude, lib.lua, locklib.lua for the lock scripts, then the
 * script), so shell tests can load it and call it as any other language
 * would. script_text --library prints the function library (as sent with
 * FUNCTION LOAD), script_text --function NAME the name FCALL calls.
 * Exits 2 for an unknown name. Helper of lock_scripts.sh. */
#include <stdio.h>
#include <string.h>

#include "wfp/scripts.h"

int main(int argc, char **argv)
{
	const char *name = argc == 3 ? argv[2] : argv[1];
	int fn = argc == 3 && strcmp(argv[1], "--function") == 0;

	if (argc == 2 && strcmp(argv[1], "--library") == 0) {
		fwrite(wfp_script_library()->text, 1, wfp_script_library()->len,
		       stdout);
		return ferror(stdout) ? 1 : 0;
	}
	if (argc != 2 && !fn) {
		fprintf(stderr, "usage: script_text [--function] NAME | "
				"--library\n");
		return 2;
	}
	for (int id = 0; id < WFP_LUA_COUNT; id++) {
		const struct wfp_script *s = wfp_script((enum wfp_script_id)id);

		if (strcmp(s->name, name) != 0 || (fn && s->fname[0] == '\0'))
			continue;
		if (fn)
			printf("%s\n", s->fname);
		else
			fwrite(s->text, 1, s->len, stdout);
		return ferror(stdout) ? 1 : 0;
	}
	fprintf(stderr, "script_text: no script '%s'\n", name);
	return 2;
}
