/*
 * fuzz-kbuild.c: kf_find_module_in_dir() and kf_find_module_in_source(), which read a kernel
 * source's Makefiles and Kbuild files (obj-$(CONFIG_X) += name.o, continuation lines) to find
 * the folder and option that build a module. Input: the module's name on the first line, then
 * the text of drivers/fuzz/Makefile; after a NUL byte (which ends a Makefile's text for kforge
 * anyway), the text of drivers/fuzz/Kbuild, which is absent otherwise.
 */
#include "fuzz.h"

#include "kernel/kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t nlen = nl ? (size_t)(nl - data) : size;
	_cleanup_free_ char *name = fuzz_string(data, nlen);
	const uint8_t *mk = nl ? nl + 1 : data + size;
	size_t mklen = size - (size_t)(mk - data);
	const uint8_t *nul = memchr(mk, '\0', mklen);

	free(fuzz_write("src/drivers/fuzz/Makefile", mk, nul ? (size_t)(nul - mk) : mklen));
	if (nul)
		free(fuzz_write("src/drivers/fuzz/Kbuild", nul + 1, mklen - (size_t)(nul + 1 - mk)));
	else
		fuzz_unlink("src/drivers/fuzz/Kbuild");
	_cleanup_free_ char *src = kforge_path_join(fuzz_dir(), "src", NULL);

	static const size_t sizes[] = { 1, 64 };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* buffers of exactly that size: ASan sees one byte past them */
		char *option = malloc(sizes[i]);
		fuzz_assert(option);
		if (kf_find_module_in_dir(src, "drivers/fuzz", name, option, sizes[i]) == 0)
			fuzz_assert(strlen(option) < sizes[i]);
		char *subdir = NULL;
		if (kf_find_module_in_source(src, name, "x86", &subdir, option, sizes[i]) == 0) {
			fuzz_assert(subdir && strcmp(subdir, "drivers/fuzz") == 0);
			fuzz_assert(strlen(option) < sizes[i]);
		}
		free(subdir);
		free(option);
	}
	return 0;
}
