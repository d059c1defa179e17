// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include "patch.h"
MODULE_DESCRIPTION("kfpatch make=" KFVAR " patched=" KF_P);
static int __init kfpatch_init(void) { return 0; }
static void __exit kfpatch_exit(void) { }
module_init(kfpatch_init);
module_exit(kfpatch_exit);
MODULE_LICENSE("GPL");
