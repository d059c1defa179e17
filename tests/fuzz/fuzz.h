/* fuzz.h: what the libFuzzer harnesses share: one scratch folder per process, inputs made files. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the harness checks failed: a crash, so that libFuzzer keeps the input. */
#define fuzz_assert(cond)                                                                                      \
	do {                                                                                                   \
		if (!(cond)) {                                                                                 \
			fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__, __func__, #cond); \
			abort();                                                                               \
		}                                                                                              \
	} while (0)

static char *fuzz_scratch;

static inline void fuzz_remove_scratch(void)
{
	kf_rm_rf(fuzz_scratch);
	free(fuzz_scratch);
	fuzz_scratch = NULL;
}

/*
 * The process's scratch folder under $TMPDIR (make fuzz gives each run one of its own): made once
 * and reused by every input, so that millions of runs leave no folders behind; removed at exit.
 */
static inline const char *fuzz_dir(void)
{
	if (fuzz_scratch)
		return fuzz_scratch;
	const char *tmp = getenv("TMPDIR");
	fuzz_scratch = kf_strdup_printf("%s/kforge-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!fuzz_scratch || !mkdtemp(fuzz_scratch)) {
		perror("kforge fuzz: cannot make a scratch folder");
		abort();
	}
	atexit(fuzz_remove_scratch);
	return fuzz_scratch;
}

/* The input as a C string: it ends at its first NUL, as a file's text does for kforge's readers. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Writes SIZE bytes into the scratch folder's REL (folders made); returns its path (malloc'd). */
static inline char *fuzz_write(const char *rel, const void *data, size_t size)
{
	char *path = kforge_path_join(fuzz_dir(), rel, NULL);
	if (!path || kf_mkdir_parent(path) < 0)
		abort();
	FILE *f = fopen(path, "w");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
	return path;
}

/* Removes the scratch folder's REL, so that one input's file is not the next one's. */
static inline void fuzz_unlink(const char *rel)
{
	char *path = kforge_path_join(fuzz_dir(), rel, NULL);
	if (!path)
		abort();
	unlink(path);
	free(path);
}
