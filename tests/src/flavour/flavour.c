// SPDX-License-Identifier: GPL-2.0
/*
 * flavour.c: compiled for whichever kernel the build is for, and says which (kforge_flavour in
 * modinfo). Only Debian's standard flavour builds: for a PREEMPT_RT kernel (the rt flavour) or one
 * without CONFIG_VIDEO_DEV (the cloud flavour) it calls a function that no kernel has, so those
 * builds fail at modpost, this object already compiled. Such an object linked into a build for
 * the standard kernel fails that build too, or makes the module say rt or cloud.
 */
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#if defined(CONFIG_PREEMPT_RT)
#define FLAVOUR "rt"
#elif !IS_ENABLED(CONFIG_VIDEO_DEV)
#define FLAVOUR "cloud"
#else
#define FLAVOUR "standard"
#endif
MODULE_INFO(kforge_flavour, FLAVOUR);

static DEFINE_SPINLOCK(flavour_lock);
static int flavour_calls;

void kforge_flavour_not_in_any_kernel(void);

const char *kforge_flavour(void)
{
	spin_lock(&flavour_lock);
	flavour_calls++;
	spin_unlock(&flavour_lock);
	if (strcmp(FLAVOUR, "standard") != 0)
		kforge_flavour_not_in_any_kernel();
	return FLAVOUR;
}
