// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_DESCRIPTION("kfwrap_b");
static int __init kfwrap_b_init(void) { return 0; }
static void __exit kfwrap_b_exit(void) { }
module_init(kfwrap_b_init);
module_exit(kfwrap_b_exit);
MODULE_LICENSE("GPL");
