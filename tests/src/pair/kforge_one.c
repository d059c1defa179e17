// SPDX-License-Identifier: GPL-2.0
/* kforge_one.c: one of two modules built from the same folder. */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kforge test module one of a pair");
