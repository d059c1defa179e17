/*
 * fuzz-release.c: kforge_release_parse(), from the release string alone and with a build dir
 * whose Makefile (VERSION, PATCHLEVEL, SUBLEVEL, EXTRAVERSION, `include` lines) it reads. Input:
 * the release on the first line, the Makefile's text after it. The Makefile is also read with
 * the same text as the build dir's .kernelvariables (Debian's KERNELRELEASE override), and its
 * includes are resolved inside the scratch folder as the root.
 */
#include "fuzz.h"

static void check(int r, const char *release, const struct kforge_release *rel)
{
	if (r < 0)
		return;
	/* every part fits its array, and the release is kept whole */
	fuzz_assert(strnlen(rel->release, sizeof(rel->release)) < sizeof(rel->release));
	fuzz_assert(strnlen(rel->extraversion, sizeof(rel->extraversion)) < sizeof(rel->extraversion));
	fuzz_assert(strnlen(rel->localversion, sizeof(rel->localversion)) < sizeof(rel->localversion));
	fuzz_assert(strcmp(rel->release, release) == 0);
	char buf[64];
	fuzz_assert(kforge_release_version_string(rel, buf, sizeof(buf)) == buf);
	fuzz_assert(kforge_release_override_name(rel->override));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rlen = nl ? (size_t)(nl - data) : size;
	_cleanup_free_ char *release = fuzz_string(data, rlen);
	const uint8_t *mk = nl ? nl + 1 : data + size;
	size_t mklen = size - (size_t)(mk - data);
	struct kforge_release rel;

	check(kforge_release_parse(NULL, release, NULL, &rel), release, &rel);

	const char *root = fuzz_dir();
	_cleanup_free_ char *build = kforge_path_join(root, "build", NULL);
	free(fuzz_write("build/Makefile", mk, mklen));
	fuzz_unlink("build/.kernelvariables");
	check(kforge_release_parse(root, release, build, &rel), release, &rel);
	free(fuzz_write("build/.kernelvariables", mk, mklen));
	check(kforge_release_parse(root, release, build, &rel), release, &rel);
	return 0;
}
