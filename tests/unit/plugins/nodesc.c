/* nodesc.c: a shared object without the descriptor: refused. */
#include <kforge/plugin.h>

KFORGE_PLUGIN_EXPORT int nodesc_probe(void);
int nodesc_probe(void)
{
	return 100;
}
