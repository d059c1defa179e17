// SPDX-License-Identifier: GPL-2.0
/* kforge_exporter.c: exports kforge_answer() for kforge_importer. */
#include <linux/module.h>

int kforge_answer(void)
{
	return 42;
}
EXPORT_SYMBOL_GPL(kforge_answer);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kforge test module: exports a symbol");
