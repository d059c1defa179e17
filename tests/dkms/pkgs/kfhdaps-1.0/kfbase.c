// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_DESCRIPTION("kfbase");
static int __init kfbase_init(void) { return 0; }
static void __exit kfbase_exit(void) { }
module_init(kfbase_init);
module_exit(kfbase_exit);
MODULE_LICENSE("GPL");
