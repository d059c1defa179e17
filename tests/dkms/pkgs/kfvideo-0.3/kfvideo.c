// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_DESCRIPTION("kfvideo configured for " KF_CONFIGURED_FOR);
static int __init kfvideo_init(void) { return 0; }
static void __exit kfvideo_exit(void) { }
module_init(kfvideo_init);
module_exit(kfvideo_exit);
MODULE_LICENSE("GPL");
