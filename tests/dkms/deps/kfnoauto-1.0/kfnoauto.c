// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_DESCRIPTION("kfnoauto");
static int __init kfnoauto_init(void) { return 0; }
static void __exit kfnoauto_exit(void) { }
module_init(kfnoauto_init);
module_exit(kfnoauto_exit);
MODULE_LICENSE("GPL");
