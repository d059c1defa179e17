// SPDX-License-Identifier: GPL-2.0
/* hello-greet.c: the second file of the test module. */
#include <linux/printk.h>
#include "hello.h"

void hello_greet(const char *who)
{
	pr_info("hello from %s\n", who);
}
