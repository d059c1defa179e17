// SPDX-License-Identifier: GPL-2.0
/* hello-main.c: the test module's entry points. */
#include <linux/module.h>
#include <linux/init.h>
#include "hello.h"

static int __init hello_init(void)
{
	hello_greet("kforge");
	return 0;
}

static void __exit hello_exit(void)
{
	hello_greet("and goodbye");
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kforge test module: two files and a header in include/");
