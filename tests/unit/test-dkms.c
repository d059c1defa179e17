/* test-dkms.c: dkms.conf's records read back and checked as DKMS 3.4 does, and its choices for a kernel. */
#include "unit.h"

#include "dkms/dkms.h"

/* Builds the driver's output ("NAME INDEX BYTES\nVALUE\n" ... "END\n") from NAME, INDEX, VALUE triples. */
static char *records(const char *const *t)
{
	struct kf_strbuf b = { 0 };
	for (size_t i = 0; t[i]; i += 3)
		assert_int_equal(kf_strbuf_appendf(&b, "%s %s %zu\n%s\n", t[i], t[i + 1], strlen(t[i + 2]), t[i + 2]), 0);
	assert_int_equal(kf_strbuf_append(&b, "END\n"), 0);
	return kf_strbuf_steal(&b);
}

static int parse(const char *const *t, struct kf_dkms_conf *c, char *why, size_t size)
{
	char *text = records(t);
	int r = kf_dkms_conf_parse("/usr/src/x-1/dkms.conf", text, strlen(text), c, why, size);
	free(text);
	return r;
}

#define BASE "PACKAGE_NAME", "0", "tp_smapi", "PACKAGE_VERSION", "0", "0.43"

static void test_three_modules(void **state)
{
	(void)state;
	const char *const t[] = { BASE,
				  "MAKE", "0", "make -C /k M=/t/build HDAPS=1",
				  "BUILT_MODULE_NAME", "0", "thinkpad_ec",
				  "BUILT_MODULE_NAME", "1", "tp_smapi",
				  "BUILT_MODULE_NAME", "2", "hdaps",
				  "BUILT_MODULE_LOCATION", "2", "sub/dir",
				  "DEST_MODULE_NAME", "1", "tp-smapi",
				  "DEST_MODULE_LOCATION", "0", "/extra",
				  "DEST_MODULE_LOCATION", "1", "/extra",
				  "DEST_MODULE_LOCATION", "2", "/updates",
				  "STRIP", "0", "no",
				  "STRIP", "2", "yes",
				  "AUTOINSTALL", "0", "YES",
				  "NO_WEAK_MODULES", "0", "No",
				  NULL };
	struct kf_dkms_conf c;
	char why[1024];
	assert_int_equal(parse(t, &c, why, sizeof(why)), 0);
	assert_string_equal(c.package_name, "tp_smapi");
	assert_int_equal(c.n_modules, 3);
	assert_string_equal(c.modules[0].built_name, "thinkpad_ec");
	assert_string_equal(c.modules[0].built_location, "");
	assert_string_equal(c.modules[0].dest_name, "thinkpad_ec"); /* defaults to the built name */
	assert_string_equal(c.modules[1].dest_name, "tp-smapi");
	assert_string_equal(c.modules[2].built_location, "sub/dir/"); /* a '/' appended */
	assert_string_equal(c.modules[2].dest_location, "/updates");
	/* STRIP[0]=no is the default of the records that leave it empty; STRIP[2]=yes is its own */
	assert_false(c.modules[0].strip);
	assert_false(c.modules[1].strip);
	assert_true(c.modules[2].strip);
	assert_true(c.autoinstall);
	assert_false(c.no_weak_modules);
	assert_string_equal(kf_dkms_array_get(&c.make, 0), "make -C /k M=/t/build HDAPS=1");
	kf_dkms_conf_free(&c);
}

static void test_defaults_one_module(void **state)
{
	(void)state;
	/* one record: the built name defaults to PACKAGE_NAME; STRIP "0" is neither y nor n: strips */
	const char *const t[] = { BASE, "DEST_MODULE_LOCATION", "0", "/kernel/drivers/misc", "STRIP", "0", "0", NULL };
	struct kf_dkms_conf c;
	char why[512];
	assert_int_equal(parse(t, &c, why, sizeof(why)), 0);
	assert_int_equal(c.n_modules, 1);
	assert_string_equal(c.modules[0].built_name, "tp_smapi");
	assert_string_equal(c.modules[0].dest_name, "tp_smapi");
	assert_true(c.modules[0].strip);
	kf_dkms_conf_free(&c);
}

static void test_holes_and_errors(void **state)
{
	(void)state;
	/* upstream's sparse test: BUILT_MODULE_NAME[1] and [3] only: records 0, 2 (and DEST everywhere) fail */
	const char *const sparse[] = { BASE, "BUILT_MODULE_NAME", "1", "a", "BUILT_MODULE_NAME", "3", "b",
				       "DEST_MODULE_LOCATION", "1", "/updates", "DEST_MODULE_LOCATION", "3", "/updates",
				       NULL };
	struct kf_dkms_conf c;
	char why[4096];
	assert_int_equal(parse(sparse, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "/usr/src/x-1/dkms.conf: BUILT_MODULE_NAME[0] is not set"));
	assert_non_null(strstr(why, "BUILT_MODULE_NAME[2] is not set"));
	assert_non_null(strstr(why, "number the records from 0 without gaps"));
	assert_non_null(strstr(why, "DEST_MODULE_LOCATION[0] is not set"));
	assert_null(strstr(why, "BUILT_MODULE_NAME[1] is not set"));
	assert_null(c.package_name); /* OUT is cleared on failure */

	const char *const noname[] = { "BUILT_MODULE_NAME", "0", "a.ko", "DEST_MODULE_LOCATION", "0", "/lib/x",
				       "AUTOINSTALL", "0", "true", NULL };
	assert_int_equal(parse(noname, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "PACKAGE_NAME is not set: DKMS refuses the file too; add PACKAGE_NAME="));
	assert_non_null(strstr(why, "PACKAGE_VERSION is not set"));
	assert_non_null(strstr(why, "BUILT_MODULE_NAME[0] is 'a.ko': write the name without .o or .ko"));
	assert_non_null(strstr(why, "DEST_MODULE_LOCATION[0] is '/lib/x': it must begin with /kernel"));
	assert_non_null(strstr(why, "AUTOINSTALL is 'true': DKMS accepts only yes or no"));

	const char *const dup[] = { BASE, "BUILT_MODULE_NAME", "0", "a", "BUILT_MODULE_NAME", "1", "a",
				    "DEST_MODULE_NAME", "1", "b", "DEST_MODULE_LOCATION", "0", "/updates",
				    "DEST_MODULE_LOCATION", "1", "/updates", NULL };
	assert_int_equal(parse(dup, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "records #0 and #1 both name a.ko"));

	/* names become paths of kforge's (DKMS_TREE/NAME/VER, updates/NAME.ko, records/KVER/NAME.conf) */
	const char *const paths[] = { "PACKAGE_NAME", "0", "x", "PACKAGE_VERSION", "0", "../../../../etc",
				      "BUILT_MODULE_NAME", "0", "a", "BUILT_MODULE_LOCATION", "0", "../../outside",
				      "DEST_MODULE_NAME", "0", "../../../etc/modprobe.d/evil",
				      "DEST_MODULE_LOCATION", "0", "/updates/../../..", NULL };
	assert_int_equal(parse(paths, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "PACKAGE_VERSION is '../../../../etc': letters, digits and . _ + ~ -"));
	assert_non_null(strstr(why, "BUILT_MODULE_LOCATION[0] is '../../outside': a folder of the package, relative, without '..'"));
	assert_non_null(strstr(why, "DEST_MODULE_NAME[0] is '../../../etc/modprobe.d/evil': a module name is"));
	assert_non_null(strstr(why, "DEST_MODULE_LOCATION[0] is '/updates/../../..': a folder under the kernel's modules"));
	const char *const slash[] = { "PACKAGE_NAME", "0", "a/b", "PACKAGE_VERSION", "0", ".hidden",
				      "BUILT_MODULE_NAME", "0", "sub/a", "DEST_MODULE_LOCATION", "0", "/updates", NULL };
	assert_int_equal(parse(slash, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "PACKAGE_NAME is 'a/b'"));
	assert_non_null(strstr(why, "PACKAGE_VERSION is '.hidden'"));
	assert_non_null(strstr(why, "BUILT_MODULE_NAME[0] is 'sub/a': a module name is letters, digits and . _ + ~ -, no '/'"));
}

static void test_malformed(void **state)
{
	(void)state;
	struct kf_dkms_conf c;
	char why[512];
	const char *bad[] = {
		"PACKAGE_NAME 0 3\nabc\n",		/* no END: cut */
		"PACKAGE_NAME 0 9\nabc\nEND\n",	/* the count runs past the end */
		"PACKAGE_NAME x 3\nabc\nEND\n",	/* an index that is not a number */
		"PACKAGE_NAME 5000 3\nabc\nEND\n", /* too far */
		"UNKNOWN 0 3\nabc\nEND\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(kf_dkms_conf_parse("/c", bad[i], strlen(bad[i]), &c, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "could not be read back"));
	}
	/* a value with newlines and quotes comes back whole */
	const char *ok = "PACKAGE_NAME 0 1\na\nPACKAGE_VERSION 0 1\n1\nPRE_BUILD 0 4\na\n\"b\nEND\n";
	assert_int_equal(kf_dkms_conf_parse("/c", ok, strlen(ok), &c, why, sizeof(why)), 0);
	assert_string_equal(c.pre_build, "a\n\"b");
	kf_dkms_conf_free(&c);
}

static void test_make_select(void **state)
{
	(void)state;
	const char *const t[] = { BASE, "DEST_MODULE_LOCATION", "0", "/updates",
				  "MAKE", "0", "make all KVER=6", "MAKE_MATCH", "0", "^6\\.",
				  "MAKE", "1", "make old", "MAKE_MATCH", "1", "^5\\.",
				  "MAKE", "3", "make never", "MAKE_MATCH", "3", ".*", /* past ${#MAKE[@]} = 3: ignored */
				  NULL };
	struct kf_dkms_conf c;
	char why[512];
	assert_int_equal(parse(t, &c, why, sizeof(why)), 0);
	assert_string_equal(kf_dkms_make_select(&c, "6.1.0-56-amd64"), "make all KVER=6");
	assert_string_equal(kf_dkms_make_select(&c, "5.10.0-1-amd64"), "make old");
	/* MAKE_MATCH[0] set and nothing matches: the default, not MAKE[0] */
	assert_null(kf_dkms_make_select(&c, "4.19.0"));
	char *cmd = kf_dkms_make_command(&c, "4.19.0", "/lib/modules/4.19.0/build", "/w/x/1/build", 4);
	assert_string_equal(cmd, "make -j4 KERNELRELEASE=4.19.0 -C /lib/modules/4.19.0/build M=/w/x/1/build");
	free(cmd);
	cmd = kf_dkms_make_command(&c, "6.1.0-56-amd64", "/k", "/b", 0);
	assert_string_equal(cmd, "make -j KERNELRELEASE=6.1.0-56-amd64 all KVER=6");
	free(cmd);
	/* under a jobserver: no -j, MAKEFLAGS tells make */
	cmd = kf_dkms_make_command(&c, "6.1.0-56-amd64", "/k", "/b", -1);
	assert_string_equal(cmd, "make KERNELRELEASE=6.1.0-56-amd64 all KVER=6");
	free(cmd);
	kf_dkms_conf_free(&c);

	/* unanchored: "amd64" matches inside; a MAKE not starting with a literal make is left as written */
	const char *const t2[] = { BASE, "DEST_MODULE_LOCATION", "0", "/updates",
				   "MAKE", "0", "KERNELDIR=/lib/modules/6/build make driver",
				   "MAKE", "1", "'make' -C x", "MAKE_MATCH", "1", "amd64", NULL };
	assert_int_equal(parse(t2, &c, why, sizeof(why)), 0);
	cmd = kf_dkms_make_command(&c, "6.1.0-56-amd64", "/k", "/b", 2);
	assert_string_equal(cmd, "'make' -C x");
	free(cmd);
	cmd = kf_dkms_make_command(&c, "6.6.1-arch1-1", "/k", "/b", 2);
	assert_string_equal(cmd, "KERNELDIR=/lib/modules/6/build make driver");
	free(cmd);
	kf_dkms_conf_free(&c);
}

static void test_patches(void **state)
{
	(void)state;
	const char *const t[] = { BASE, "DEST_MODULE_LOCATION", "0", "/updates",
				  "PATCH", "0", "b.patch", "PATCH", "1", "a.patch", "PATCH_MATCH", "1", "^5\\.",
				  "PATCH", "2", "c.patch", "PATCH", "4", "late.patch", NULL };
	struct kf_dkms_conf c;
	char why[512];
	assert_int_equal(parse(t, &c, why, sizeof(why)), 0);
	struct kf_strv v = { 0 };
	assert_int_equal(kf_dkms_patches(&c, "6.1.0-56-amd64", &v), 0);
	/* index order; PATCH[1]'s match misses; PATCH[4] is past the count (4 set: 0..3 looked at) */
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0], "b.patch");
	assert_string_equal(v.v[1], "c.patch");
	kf_strv_free(&v);
	assert_int_equal(kf_dkms_patches(&c, "5.10.0", &v), 0);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[1], "a.patch");
	kf_strv_free(&v);
	kf_dkms_conf_free(&c);
}

static void test_ver(void **state)
{
	(void)state;
	const char *vec[][2] = { { "6.1.0-56-amd64", "006.001.000-056-amd064" }, { "6.1", "006.001" },
				 { "4.12-rc1", "004.012-rc001" }, { "", "" }, { "1234", "1234" } };
	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		char *v = kf_dkms_ver(vec[i][0]);
		assert_string_equal(v, vec[i][1]);
		free(v);
	}
	assert_true(kf_dkms_version_cmp("6.1.0-56-amd64", "6.1") > 0); /* KERNEL_MAX=6.1 excludes Debian's 6.1 */
	assert_true(kf_dkms_version_cmp("4.12-rc1", "4.12") > 0);
	assert_true(kf_dkms_version_cmp("6.10.1", "6.9") > 0);
	assert_true(kf_dkms_version_cmp("6.1.0-56", "6.1.0-100") < 0);
	assert_int_equal(kf_dkms_version_cmp("6.1", "6.1"), 0);
}

static const char config[] = "CONFIG_USB=y\nCONFIG_I2C=m\n# CONFIG_VIDEO_DEV is not set\nCONFIG_ACPI_X=y\n";

static void test_exclusive(void **state)
{
	(void)state;
	struct kf_dkms_conf c;
	char why[512], *w = NULL;
	/* global rules */
	const char *const g[] = { BASE, "DEST_MODULE_LOCATION", "0", "/updates",
				  "BUILD_EXCLUSIVE_CONFIG", "0", "CONFIG_USB !CONFIG_VIDEO_DEV",
				  "BUILD_EXCLUSIVE_KERNEL_MIN", "0", "3.9", "BUILD_EXCLUSIVE_ARCH", "0", "x86_64|aarch64", NULL };
	assert_int_equal(parse(g, &c, why, sizeof(why)), 0);
	assert_false(kf_dkms_package_excluded(&c, "6.1.0-56-amd64", "x86_64", config, &w));
	assert_null(w);
	assert_true(kf_dkms_package_excluded(&c, "3.2.0", "x86_64", config, &w));
	assert_string_equal(w, "BUILD_EXCLUSIVE_KERNEL_MIN: 3.2.0 is older than 3.9");
	free(w);
	assert_true(kf_dkms_package_excluded(&c, "6.1.0", "ppc64le", config, &w));
	assert_string_equal(w, "BUILD_EXCLUSIVE_ARCH 'x86_64|aarch64' does not match ppc64le");
	free(w);
	assert_true(kf_dkms_package_excluded(&c, "6.1.0", "x86_64", "CONFIG_VIDEO_DEV=m\n", &w));
	assert_string_equal(w, "BUILD_EXCLUSIVE_CONFIG: CONFIG_USB is not y or m");
	free(w);
	/* no config: the CONFIG rules are skipped, as DKMS skips them without the file */
	assert_false(kf_dkms_package_excluded(&c, "6.1.0", "x86_64", NULL, NULL));
	kf_dkms_conf_free(&c);

	/* v4l2loopback's impossible string: unanchored regex that never matches */
	const char *const v4l[] = { BASE, "DEST_MODULE_LOCATION", "0", "/updates",
				    "BUILD_EXCLUSIVE_KERNEL", "0", "REQUIRES CONFIG_VIDEO_DEV", NULL };
	assert_int_equal(parse(v4l, &c, why, sizeof(why)), 0);
	assert_true(kf_dkms_package_excluded(&c, "6.1.0-56-cloud-amd64", "x86_64", config, &w));
	assert_string_equal(w, "BUILD_EXCLUSIVE_KERNEL 'REQUIRES CONFIG_VIDEO_DEV' does not match 6.1.0-56-cloud-amd64");
	free(w);
	kf_dkms_conf_free(&c);
}

static void test_exclusive_per_module(void **state)
{
	(void)state;
	struct kf_dkms_conf c;
	char why[512], *w = NULL;
	const char *const mods[] = { BASE, "BUILT_MODULE_NAME", "0", "m0", "BUILT_MODULE_NAME", "1", "m1",
				     "DEST_MODULE_LOCATION", "0", "/updates", "DEST_MODULE_LOCATION", "1", "/updates" };
	/* upstream dkms_per_module_kernel_version_test: KERNEL_MAX[0]=3.99 is global: everything excluded */
	const char *t1[ARRAY_SIZE(mods) + 7];
	memcpy(t1, mods, sizeof(mods));
	const char *x1[] = { "BUILD_EXCLUSIVE_KERNEL_MAX", "0", "3.99", "BUILD_EXCLUSIVE_KERNEL_MIN", "1", "5.0", NULL };
	memcpy(t1 + ARRAY_SIZE(mods), x1, sizeof(x1));
	assert_int_equal(parse(t1, &c, why, sizeof(why)), 0);
	assert_true(kf_dkms_module_excluded(&c, 1, "6.1.0", "x86_64", config, &w));
	assert_string_equal(w, "BUILD_EXCLUSIVE_KERNEL_MAX: 6.1.0 is newer than 3.99");
	free(w);
	assert_true(kf_dkms_package_excluded(&c, "6.1.0", "x86_64", config, NULL));
	kf_dkms_conf_free(&c);
	/* dkms_per_module_config_exclusive_test: CONFIG[0] met, CONFIG[1] not: only module 0 builds */
	const char *x2[] = { "BUILD_EXCLUSIVE_CONFIG", "0", "CONFIG_USB", "BUILD_EXCLUSIVE_CONFIG", "1",
			     "CONFIG_VIDEO_DEV", NULL };
	memcpy(t1 + ARRAY_SIZE(mods), x2, sizeof(x2));
	assert_int_equal(parse(t1, &c, why, sizeof(why)), 0);
	assert_false(kf_dkms_module_excluded(&c, 0, "6.1.0", "x86_64", config, NULL));
	assert_true(kf_dkms_module_excluded(&c, 1, "6.1.0", "x86_64", config, &w));
	assert_string_equal(w, "BUILD_EXCLUSIVE_CONFIG[1]: CONFIG_VIDEO_DEV is not y or m");
	free(w);
	assert_false(kf_dkms_package_excluded(&c, "6.1.0", "x86_64", config, NULL));
	kf_dkms_conf_free(&c);
	/* OBSOLETE_BY becomes the global KERNEL_MAX when no record has one */
	const char *x3[] = { "OBSOLETE_BY", "0", "5.4", NULL };
	memcpy(t1 + ARRAY_SIZE(mods), x3, sizeof(x3));
	assert_int_equal(parse(t1, &c, why, sizeof(why)), 0);
	assert_string_equal(kf_dkms_array_get(&c.excl_kernel_max, 0), "5.4");
	assert_true(kf_dkms_package_excluded(&c, "6.1.0", "x86_64", NULL, NULL));
	assert_false(kf_dkms_package_excluded(&c, "5.4", "x86_64", NULL, NULL));
	kf_dkms_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_modules),
		cmocka_unit_test(test_defaults_one_module),
		cmocka_unit_test(test_holes_and_errors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_make_select),
		cmocka_unit_test(test_patches),
		cmocka_unit_test(test_ver),
		cmocka_unit_test(test_exclusive),
		cmocka_unit_test(test_exclusive_per_module),
	};
	return cmocka_run_group_tests_name("dkms", tests, NULL, NULL);
}
