// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include "gen.h"
MODULE_DESCRIPTION("kfwrap_a " KF_GEN);
static int __init kfwrap_a_init(void) { return 0; }
static void __exit kfwrap_a_exit(void) { }
module_init(kfwrap_a_init);
module_exit(kfwrap_a_exit);
MODULE_LICENSE("GPL");
