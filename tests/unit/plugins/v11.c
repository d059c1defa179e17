/* v11.c: a plugin built against ABI 1.1: claims one kernel flavour ("-v11-") of roots whose ID is "testos". */
#include <string.h>
#include <kforge/plugin.h>

static int v11_probe(const struct kforge_probe_info *info)
{
	/* what a 1.1 probe is given besides the root: the kernel, the context, its own name */
	if (strcmp(info->os->id, "testos") != 0 || !info->ctx || strcmp(info->plugin, "v11") != 0)
		return KFORGE_SCORE_NONE;
	if (!info->release || !strstr(info->release, "-v11-"))
		return KFORGE_SCORE_NONE;
	return KFORGE_SCORE_KERNEL + (info->build_dir != NULL);
}

KFORGE_PLUGIN_DEFINE(.name = "v11", .description = "loader test: ABI 1.1", .probe = v11_probe);
