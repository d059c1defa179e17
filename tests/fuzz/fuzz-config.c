/*
 * fuzz-config.c: the configuration file reader (kforge_config_load() with the input as the
 * system file /etc/kforge/kforge.conf, [plugin.NAME] sections included), on a context made the
 * way kforge makes its own. Input: the file's text.
 */
#include "fuzz.h"

static void quiet(void *data, int priority, const char *file, int line, const char *fn, const char *format,
		  va_list args)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *path = fuzz_write("kforge.conf", data, size);
	struct kforge_ctx *ctx = NULL;
	fuzz_assert(kforge_ctx_new(NULL, &ctx) == 0);
	kforge_set_log_fn(ctx, quiet, NULL);
	/* a user file that does not exist: no $HOME or $XDG_CONFIG_HOME in the way */
	int r = kforge_config_load(ctx, path, "/nonexistent/kforge.conf");
	const char *key, *value, *origin, *help;
	for (unsigned int i = 0; kforge_config_entry(ctx, i, &key, &value, &origin, &help); i++) {
		fuzz_assert(key && value && origin && help);
		/*
		 * a file that loads sets only values the command line would accept; a [plugin.NAME]
		 * key waits for its plugin to declare it, and no plugin is loaded here
		 */
		if (r == 0 && strncmp(key, "plugin.", strlen("plugin.")) != 0)
			fuzz_assert(kforge_config_set(ctx, key, value, "fuzz") == 0);
	}
	kforge_ctx_unref(ctx);
	return 0;
}
