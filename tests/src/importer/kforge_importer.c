// SPDX-License-Identifier: GPL-2.0
/* kforge_importer.c: calls kforge_answer() from kforge_exporter. */
#include <linux/module.h>

int kforge_answer(void);

static int __init importer_init(void)
{
	pr_info("kforge_importer: the answer is %d\n", kforge_answer());
	return kforge_answer() == 42 ? 0 : -EINVAL;
}

static void __exit importer_exit(void)
{
}

module_init(importer_init);
module_exit(importer_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kforge test module: imports a symbol from kforge_exporter");
