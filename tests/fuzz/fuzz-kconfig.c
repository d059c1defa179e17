/*
 * fuzz-kconfig.c: kf_kconfig_lookup() over a kernel's .config (or /boot/config-KVER) text, for
 * the options kforge asks about, into buffers of several sizes. Input: the .config's text; a
 * second pass takes its first line as the option name and the rest as the text.
 */
#include "fuzz.h"

#include "kernel/kernel.h"

static void lookup(const char *text, const char *option)
{
	static const size_t sizes[] = { 1, 2, 16, 256 };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* a buffer of exactly that size: ASan sees one byte past it */
		char *buf = malloc(sizes[i]);
		fuzz_assert(buf);
		const char *got = kf_kconfig_lookup(text, option, buf, sizes[i]);
		if (got) {
			fuzz_assert(got == buf);
			fuzz_assert(strlen(buf) < sizes[i]);
		}
		free(buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_string(data, size);
	/* what kforge asks, a prefix of other options, and the empty name */
	static const char *const options[] = {
		"CONFIG_MODULE_SIG", "CONFIG_MODVERSIONS", "CONFIG_LOCALVERSION", "CONFIG_MODULE_COMPRESS_ZSTD",
		"CONFIG_X86_64", "CONFIG_SYSTEM_TRUSTED_KEYS", "CONFIG_M", "",
	};
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		lookup(text, options[i]);

	char *nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		lookup(nl + 1, text);
	}
	return 0;
}
