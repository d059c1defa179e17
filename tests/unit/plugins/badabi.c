/* badabi.c: a plugin built for another ABI major: refused. */
#include <kforge/plugin.h>

static int probe(const struct kforge_probe_info *info)
{
	return 100;
}

KFORGE_PLUGIN_EXPORT extern const struct kforge_plugin kforge_plugin_descriptor;
const struct kforge_plugin kforge_plugin_descriptor = {
	.abi_major = KFORGE_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.name = "badabi",
	.probe = probe,
};
