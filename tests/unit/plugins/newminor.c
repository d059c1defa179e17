/* newminor.c: a plugin built against a newer SDK minor than the host: refused. */
#include <kforge/plugin.h>

static int probe(const struct kforge_probe_info *info)
{
	return 100;
}

KFORGE_PLUGIN_EXPORT extern const struct kforge_plugin kforge_plugin_descriptor;
const struct kforge_plugin kforge_plugin_descriptor = {
	.abi_major = KFORGE_PLUGIN_ABI_MAJOR,
	.abi_minor = KFORGE_PLUGIN_ABI_MINOR + 1,
	.name = "newminor",
	.probe = probe,
};
