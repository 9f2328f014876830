/*
 * replay.c -- the main() of a fuzz target outside libFuzzer: runs
 * LLVMFuzzerTestOneInput() on every file named, or on every file of
 * every directory named, in name order.  The normal build links each
 * target with it, so `make check` replays the seed corpora and the inputs
 * that once crashed (tests/fuzz/regress/) with checksums verified.
 * Prints TAP, one "ok" per input (an input that crashes ends the run).
 */
#define _DEFAULT_SOURCE	/* DT_REG */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned replayed;

static int
replay_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL) {
		perror(path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	(void)LLVMFuzzerTestOneInput(buf, n);
	printf("ok %u - %s\n", ++replayed, path);
	fflush(stdout);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
replay_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	int n, rc = 0;

	n = scandir(dir, &ents, NULL, by_name);
	if (n < 0) {
		perror(dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    ents[i]->d_name);
			rc |= replay_file(path);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);

		if (d != NULL) {
			closedir(d);
			rc |= replay_dir(argv[i]);
		} else {
			rc |= replay_file(argv[i]);
		}
	}
	printf("1..%u\n", replayed);
	return rc;
}
