/*
 * replay.c - runs a fuzz target without libFuzzer.
 *
 * Linked with one fuzz_<target>.c instead of -fsanitize=fuzzer, so the
 * target builds with any compiler and runs in the unit suite (the plain
 * build and the ASan/UBSan build). Each argument is a file or a directory;
 * every regular file of a directory but dot files (.gitkeep) is fed, in
 * name order, to LLVMFuzzerTestOneInput in a buffer of exactly its size
 * (so ASan sees a read one byte past it). A failed property aborts, as
 * under libFuzzer, after the input's path was printed. A missing path, or
 * no input at all, is a failure: a wrong path must not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	uint8_t *buf;
	FILE *f;
	long len;
	size_t got;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
			fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: cannot size\n", path);
		fclose(f);
		return -1;
	}
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	got = fread(buf, 1, (size_t)len, f);
	fclose(f);
	if (got != (size_t)len) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return -1;
	}
	printf("replay: %s (%zu bytes)\n", path, got);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	return 0;
}

/* Returns the number of inputs run from path, or -1. */
static int
run_path(const char *path)
{
	struct dirent **names;
	struct stat st;
	char *file;
	int n, i, ran = 0, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path) == 0 ? 1 : -1;
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && names[i]->d_name[0] != '.') {
			if (asprintf(&file, "%s/%s", path,
					names[i]->d_name) < 0) {
				rc = -1;
			} else {
				if (stat(file, &st) == 0 &&
						S_ISREG(st.st_mode)) {
					rc = run_file(file);
					ran += rc == 0;
				}
				free(file);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc == 0 ? ran : -1;
}

int
main(int argc, char **argv)
{
	int i, n, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		n = run_path(argv[i]);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("replay: %d input(s) ran\n", total);
	return total > 0 ? 0 : 1;
}
