/* misnamed.c: a descriptor whose name is not the file's: refused. */
#include <kforge/plugin.h>

static int probe(const struct kforge_probe_info *info)
{
	return 100;
}

KFORGE_PLUGIN_DEFINE(.name = "debian", .description = "pretends to be another", .probe = probe);
