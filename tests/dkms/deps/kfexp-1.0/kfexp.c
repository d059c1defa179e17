// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_DESCRIPTION("kfexp");
int kfexp_value(int x)
{
	return x + KFEXP_STEP;
}
EXPORT_SYMBOL_GPL(kfexp_value);
static int __init kfexp_init(void) { return 0; }
static void __exit kfexp_exit(void) { }
module_init(kfexp_init);
module_exit(kfexp_exit);
MODULE_LICENSE("GPL");
