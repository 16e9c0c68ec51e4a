/*
 * replay.c - the main of a fuzz target in the normal build: feeds each
 * file named on the command line (a folder: every file under it, in name
 * order) to the target's LLVMFuzzerTestOneInput, as libFuzzer would.
 * ctest runs it over fuzz/corpus and fuzz/regressions, so a crash that
 * was fixed stays fixed without clang (a sanitizer build reports memory
 * errors as libFuzzer's build does).
 *
 * usage: replay_TARGET PATH...
 * Exits 0 after every file ran; 1 when a path cannot be read or no file
 * was found (a test that replays nothing proves nothing).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_FILE_MAX (4 * 1024 * 1024) /* bytes of one input file */

static int replay_path(const char *path, int *count);

/* Reads file path whole into a buffer of exactly its size (so a read
 * past the input is a sanitizer report) and runs the target on it. */
static int replay_file(const char *path, off_t size, int *count)
{
	FILE *f;
	uint8_t *buf;

	if (size < 0 || size > REPLAY_FILE_MAX) {
		fprintf(stderr, "replay: %s: over %d bytes\n", path,
			REPLAY_FILE_MAX);
		return -1;
	}
	buf = malloc(size > 0 ? (size_t)size : 1);
	f = fopen(path, "rb");
	if (buf == NULL || f == NULL ||
	    fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "replay: %s: cannot read it\n", path);
		free(buf);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	(*count)++;
	return 0;
}

/* Replays every entry of folder path but dot files, in name order. */
static int replay_dir(const char *path, int *count)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort), rc = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (names[i]->d_name[0] != '.' && rc == 0) {
			snprintf(sub, sizeof(sub), "%s/%s", path,
				 names[i]->d_name);
			rc = replay_path(sub, count);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Replays a file, or every file under a folder. */
static int replay_path(const char *path, int *count)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path, count);
	if (!S_ISREG(st.st_mode))
		return 0;
	return replay_file(path, st.st_size, count);
}

int main(int argc, char **argv)
{
	int count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (replay_path(argv[i], &count) != 0)
			return 1;
	}
	printf("%s: replayed %d files\n", argv[0], count);
	return count > 0 ? 0 : 1;
}
