// SPDX-License-Identifier: GPL-2.0
/* flavour-main.c: the module's entry points; the test changes GENERATION between two builds. */
#include <linux/module.h>
#include <linux/init.h>

#define GENERATION "1"

const char *kforge_flavour(void);

static int __init flavour_init(void)
{
	pr_info("kforge_flavour: generation " GENERATION ", built for a %s kernel\n", kforge_flavour());
	return 0;
}

static void __exit flavour_exit(void)
{
}

module_init(flavour_init);
module_exit(flavour_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(GENERATION);
MODULE_DESCRIPTION("kforge test module: builds for the standard kernel, fails for PREEMPT_RT");
