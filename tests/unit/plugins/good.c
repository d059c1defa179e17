/* good.c: a well-formed test plugin that claims roots whose ID is "testos". */
#include <string.h>
#include <kforge/plugin.h>

static int good_probe(const struct kforge_probe_info *info)
{
	return strcmp(info->os->id, "testos") == 0 ? 42 : 0;
}

KFORGE_PLUGIN_DEFINE(.name = "good", .description = "loader test: loads", .probe = good_probe);
