/* test-kbuild.c: a module's folder and Kconfig option, found in a source tree's Makefiles. */
#include "unit.h"

static char *tree(void)
{
	char *src = unit_mkdtemp();
	unit_write(src, "Makefile", "obj-y += fs/ drivers/\n");
	unit_write(src, "fs/btrfs/Makefile", "obj-$(CONFIG_BTRFS_FS) := btrfs.o\n\nbtrfs-y += super.o ctree.o \\\n\t  extent-tree.o\n");
	unit_write(src, "drivers/net/Makefile",
		   "obj-$(CONFIG_BONDING) += bonding/\nobj-$(CONFIG_IPVLAN) += ipvlan/\n"
		   "obj-$(CONFIG_DUMMY) += dummy.o \\\n\t\tnot-dummy.o\nobj-m += always.o\n");
	unit_write(src, "drivers/net/wireless/Kbuild", "obj-$(CONFIG_MAC80211_HWSIM) += mac80211_hwsim.o\n");
	unit_write(src, "drivers/misc/Makefile", "obj-$(CONFIG_DUMMY_IRQ)\t+= dummy-irq.o\n");
	/* other architectures and tools are not searched */
	unit_write(src, "arch/arm/mach-x/Makefile", "obj-$(CONFIG_ARM_ONLY) += armonly.o\n");
	unit_write(src, "arch/x86/kvm/Makefile", "obj-$(CONFIG_KVM) += kvm.o\n");
	unit_write(src, "tools/foo/Makefile", "obj-$(CONFIG_TOOL) += tool.o\n");
	return src;
}

static void expect(const char *src, const char *name, const char *subdir, const char *option)
{
	char *sub = NULL;
	char opt[64] = "?";
	assert_int_equal(kf_find_module_in_source(src, name, "x86", &sub, opt, sizeof(opt)), 0);
	assert_string_equal(sub, subdir);
	assert_string_equal(opt, option);
	free(sub);
}

static void test_find(void **state)
{
	char *src = tree();
	expect(src, "btrfs", "fs/btrfs", "CONFIG_BTRFS_FS");
	/* continuation lines are joined */
	expect(src, "not-dummy", "drivers/net", "CONFIG_DUMMY");
	expect(src, "dummy", "drivers/net", "CONFIG_DUMMY");
	expect(src, "always", "drivers/net", "");
	expect(src, "mac80211_hwsim", "drivers/net/wireless", "CONFIG_MAC80211_HWSIM");
	/* kmod spells it dummy_irq, the Makefile dummy-irq */
	expect(src, "dummy_irq", "drivers/misc", "CONFIG_DUMMY_IRQ");
	expect(src, "kvm", "arch/x86/kvm", "CONFIG_KVM");
	char *sub = NULL;
	char opt[64];
	assert_int_equal(kf_find_module_in_source(src, "armonly", "x86", &sub, opt, sizeof(opt)), -ENOENT);
	assert_int_equal(kf_find_module_in_source(src, "tool", "x86", &sub, opt, sizeof(opt)), -ENOENT);
	/* "super" is an object of btrfs, not a module */
	assert_int_equal(kf_find_module_in_source(src, "super", "x86", &sub, opt, sizeof(opt)), -ENOENT);
	assert_null(sub);
	unit_rm_rf(src);
	free(src);
}

static void test_find_in_dir(void **state)
{
	char *src = tree();
	char opt[64];
	assert_int_equal(kf_find_module_in_dir(src, "fs/btrfs", "btrfs", opt, sizeof(opt)), 0);
	assert_string_equal(opt, "CONFIG_BTRFS_FS");
	assert_int_equal(kf_find_module_in_dir(src, "fs/btrfs", "dummy", opt, sizeof(opt)), -ENOENT);
	assert_int_equal(kf_find_module_in_dir(src, "no/such", "btrfs", opt, sizeof(opt)), -ENOENT);
	unit_rm_rf(src);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_in_dir),
	};
	return cmocka_run_group_tests_name("kbuild", tests, NULL, NULL);
}
