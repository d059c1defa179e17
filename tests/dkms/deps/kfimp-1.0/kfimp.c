// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_DESCRIPTION("kfimp");
int kfexp_value(int x);
static int __init kfimp_init(void) { return kfexp_value(0) > 0 ? 0 : -EINVAL; }
static void __exit kfimp_exit(void) { }
module_init(kfimp_init);
module_exit(kfimp_exit);
MODULE_LICENSE("GPL");
