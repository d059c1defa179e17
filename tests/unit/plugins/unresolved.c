/* unresolved.c: needs a symbol nothing defines, so dlopen fails: the loader says which. */
#include <kforge/plugin.h>

extern int kforge_test_symbol_nobody_defines;
KFORGE_PLUGIN_EXPORT int *unresolved_ref;
int *unresolved_ref = &kforge_test_symbol_nobody_defines;

static int probe(const struct kforge_probe_info *info)
{
	return 100;
}

KFORGE_PLUGIN_DEFINE(.name = "unresolved", .probe = probe);
