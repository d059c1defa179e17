// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_DESCRIPTION("kfhdaps");
static int __init kfhdaps_init(void) { return 0; }
static void __exit kfhdaps_exit(void) { }
module_init(kfhdaps_init);
module_exit(kfhdaps_exit);
MODULE_LICENSE("GPL");
