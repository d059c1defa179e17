/* test-release.c: every release test vector of distro-facts.md, and the error cases. */
#include "unit.h"

struct vector {
	const char *release;
	const char *version; /* the Makefile's */
	const char *extra;
	const char *local;
	enum kforge_release_override override;
	/* a build dir is needed when the string alone cannot tell the Makefile version */
	const char *makefile;
	bool kernelvariables;
};

#define MK(v, p, s, e) "VERSION = " #v "\nPATCHLEVEL = " #p "\nSUBLEVEL = " #s "\nEXTRAVERSION = " e "\n"

static const struct vector vectors[] = {
	{ "6.6.1-arch1-1", "6.6.1", "-arch1", "-1", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.12.0-arch1-1", "6.12.0", "-arch1", "-1", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.6.63-1-lts", "6.6.63", "", "-1-lts", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.12.1-zen1-1-zen", "6.12.1", "-zen1", "-1-zen", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.16.8-hardened1-1-hardened", "6.16.8", "-hardened1", "-1-hardened", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.12.63-1-MANJARO", "6.12.63", "", "-1-MANJARO", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.1.0-56-amd64", "6.1.192", "", "", KFORGE_OVERRIDE_KERNELRELEASE, MK(6, 1, 192, ""), true },
	{ "6.1.0-56-rt-amd64", "6.1.192", "", "", KFORGE_OVERRIDE_KERNELRELEASE, MK(6, 1, 192, ""), true },
	{ "6.12.107+deb13-amd64", "6.12.107", "", "", KFORGE_OVERRIDE_KERNELRELEASE, MK(6, 12, 107, ""), true },
	{ "6.5.0-14-generic", "6.5.13", "", "", KFORGE_OVERRIDE_KERNELVERSION, MK(6, 5, 13, ""), false },
	{ "6.8.0-1019-aws", "6.8.12", "", "", KFORGE_OVERRIDE_KERNELVERSION, MK(6, 8, 12, ""), false },
	{ "6.8.0-51-generic", "6.8.12", "", "", KFORGE_OVERRIDE_KERNELVERSION, MK(6, 8, 12, ""), false },
	{ "6.8.0-51-lowlatency", "6.8.12", "", "", KFORGE_OVERRIDE_KERNELVERSION, MK(6, 8, 12, ""), false },
	{ "6.1.0-56-cloud-amd64", "6.1.192", "", "", KFORGE_OVERRIDE_KERNELRELEASE, MK(6, 1, 192, ""), true },
	{ "6.10.11+bpo-amd64", "6.10.11", "", "", KFORGE_OVERRIDE_KERNELRELEASE, MK(6, 10, 11, ""), true },
	{ "6.12.9+bpo-cloud-amd64", "6.12.9", "", "", KFORGE_OVERRIDE_KERNELRELEASE, MK(6, 12, 9, ""), true },
	{ "6.5.6-300.fc39.x86_64", "6.5.6", "-300.fc39.x86_64", "", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.5.6-300.fc39.x86_64+debug", "6.5.6", "-300.fc39.x86_64+debug", "", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "4.18.0-513.5.1.el8_9.x86_64", "4.18.0", "-513.5.1.el8_9.x86_64", "", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.6.1", "6.6.1", "", "", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.7.0-rc5", "6.7.0", "-rc5", "", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.7.0-rc5+", "6.7.0", "-rc5", "+", KFORGE_OVERRIDE_NONE, NULL, false },
	{ "6.8.0-rc1-00123-gabcdef012345-dirty", "6.8.0", "-rc1", "-00123-gabcdef012345-dirty", KFORGE_OVERRIDE_NONE,
	  NULL, false },
	{ "6.6.1-custom", "6.6.1", "", "-custom", KFORGE_OVERRIDE_NONE, NULL, false },
};

static void check(const struct vector *v, const struct kforge_release *rel)
{
	char ver[32];
	kforge_release_version_string(rel, ver, sizeof(ver));
	print_message("%s\n", v->release);
	assert_string_equal(rel->release, v->release);
	assert_string_equal(ver, v->version);
	assert_string_equal(rel->extraversion, v->extra);
	assert_string_equal(rel->localversion, v->local);
	assert_int_equal(rel->override, v->override);
}

/* One vector the way kforge meets it: with the target's build dir where it needs one. */
static void test_vector(void **state)
{
	const struct vector *v = *state;
	struct kforge_release rel;
	char *dir = NULL;
	if (v->makefile) {
		dir = unit_mkdtemp();
		unit_write(dir, "Makefile", v->makefile);
		if (v->kernelvariables)
			unit_write(dir, ".kernelvariables", "override ARCH = x86\noverride KERNELRELEASE = x\n");
	}
	assert_int_equal(kforge_release_parse(NULL, v->release, dir, &rel), 0);
	check(v, &rel);
	assert_int_equal(rel.from_build_dir, dir != NULL);
	unit_rm_rf(dir);
	free(dir);
}

/* The same vector read from a build dir whose Makefile says what setlocalversion started from. */
static void test_vector_with_makefile(void **state)
{
	const struct vector *v = *state;
	char *dir = unit_mkdtemp();
	unsigned int a, b, c;
	assert_int_equal(sscanf(v->version, "%u.%u.%u", &a, &b, &c), 3);
	char mk[256];
	snprintf(mk, sizeof(mk), "# SPDX\nVERSION = %u\nPATCHLEVEL = %u\nSUBLEVEL = %u\nEXTRAVERSION = %s\n", a, b, c,
		 v->extra);
	unit_write(dir, "Makefile", mk);
	struct kforge_release rel;
	assert_int_equal(kforge_release_parse(NULL, v->release, dir, &rel), 0);
	check(v, &rel);
	assert_int_equal(rel.from_build_dir, 1);
	unit_rm_rf(dir);
	free(dir);
}

/* Debian's build dir Makefile is one include line naming an absolute path: followed inside the root. */
static void test_debian_include_under_root(void **state)
{
	char *root = unit_mkdtemp();
	unit_write(root, "usr/src/linux-headers-6.1.0-56-common/Makefile", MK(6, 1, 192, ""));
	unit_write(root, "usr/src/linux-headers-6.1.0-56-amd64/Makefile",
		   "include /usr/src/linux-headers-6.1.0-56-common/Makefile\n");
	unit_write(root, "usr/src/linux-headers-6.1.0-56-amd64/.kernelvariables",
		   "override KERNELRELEASE = 6.1.0-56-amd64\n");
	char *build = kforge_path_join(root, "usr/src/linux-headers-6.1.0-56-amd64", NULL);
	struct kforge_release rel;
	assert_int_equal(kforge_release_parse(root, "6.1.0-56-amd64", build, &rel), 0);
	assert_int_equal(rel.sublevel, 192);
	assert_int_equal(rel.override, KFORGE_OVERRIDE_KERNELRELEASE);
	assert_int_equal(rel.from_build_dir, 1);
	/* without the root the include points nowhere: the parts come from the string */
	assert_int_equal(kforge_release_parse("/nonexistent", "6.1.0-56-amd64", build, &rel), 0);
	assert_int_equal(rel.from_build_dir, 0);
	assert_int_equal(rel.sublevel, 0);
	free(build);
	unit_rm_rf(root);
	free(root);
}

static void test_invalid(void **state)
{
	struct kforge_release rel;
	assert_int_equal(kforge_release_parse(NULL, "", NULL, &rel), -EINVAL);
	assert_int_equal(kforge_release_parse(NULL, "linux", NULL, &rel), -EINVAL);
	assert_int_equal(kforge_release_parse(NULL, "6", NULL, &rel), -EINVAL);
	assert_int_equal(kforge_release_parse(NULL, "6.1 amd64", NULL, &rel), -EINVAL);
	assert_int_equal(kforge_release_parse(NULL, "6.1/../x", NULL, &rel), -EINVAL);
	char longrel[80];
	memset(longrel, 'a', sizeof(longrel));
	memcpy(longrel, "6.1.0-", 6);
	longrel[65] = '\0';
	assert_int_equal(kforge_release_parse(NULL, longrel, NULL, &rel), -ENAMETOOLONG);
	longrel[64] = '\0';
	assert_int_equal(kforge_release_parse(NULL, longrel, NULL, &rel), 0);
}

/* Releases become folder names under lib/modules: each odd one refused, and why, shown safely. */
static void test_check_says_why(void **state)
{
	static const struct {
		const char *release;
		int err;
		const char *why;
	} odd[] = {
		{ "", -EINVAL, "\"\" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): it is empty" },
		{ "6.1.0/../../etc", -EINVAL, "it holds a '/'" },
		{ "6.1.0-56-amd64/", -EINVAL, "it holds a '/'" },
		{ "..", -EINVAL, "it holds \"..\"" },
		{ "6.1..0", -EINVAL, "it holds \"..\"" },
		{ "6.1.0 amd64", -EINVAL, "it holds a space" },
		{ "6.1.0-\033[31m", -EINVAL, "\"6.1.0-\\x1b[31m\" is no kernel release" },
		{ "6.1.0-\tx", -EINVAL, "it holds a control character" },
		{ "6.1.0-\x7f", -EINVAL, "it holds a control character" },
		{ "linux", -EINVAL, "it does not start with VERSION.PATCHLEVEL" },
	};
	char why[512];
	struct kforge_release rel;
	for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
		why[0] = '\0';
		assert_int_equal(kf_release_check(odd[i].release, why, sizeof(why)), odd[i].err);
		if (!strstr(why, odd[i].why))
			print_error("%s: got %s\n", odd[i].why, why);
		assert_non_null(strstr(why, odd[i].why));
		/* no byte that steers a terminal is in the message */
		for (const char *q = why; *q; q++)
			assert_true((unsigned char)*q >= 0x20 && (unsigned char)*q != 0x7f);
		assert_int_equal(kforge_release_parse(NULL, odd[i].release, NULL, &rel), odd[i].err);
	}
	/* 256 characters: too long, and shown cut at 64 */
	char longrel[257];
	memset(longrel, 'a', 256);
	longrel[256] = '\0';
	assert_int_equal(kf_release_check(longrel, why, sizeof(why)), -ENAMETOOLONG);
	assert_non_null(strstr(why, ": longer than 64 characters"));
	assert_non_null(strstr(why, "aaa...\" is no kernel release"));
	assert_true(strlen(why) < 200);
	assert_int_equal(kf_release_check("6.1.0-56-amd64", why, sizeof(why)), 0);
	assert_int_equal(kf_release_check("6.5.6-300.fc39.x86_64", NULL, 0), 0);
	assert_int_equal(kf_release_check("6.1.21-v8+", NULL, 0), 0);
}

/* Before any path is made of it: kf_kernel_load() refuses a release that is no folder name. */
static void test_kernel_load_checks_first(void **state)
{
	char *root = unit_mkdtemp();
	struct kforge_ctx *ctx;
	assert_int_equal(kforge_ctx_new(root, &ctx), 0);
	struct kf_kernel k;
	char longrel[257];
	memset(longrel, 'a', 256);
	longrel[256] = '\0';
	assert_int_equal(kf_kernel_load(ctx, longrel, &k), -ENAMETOOLONG);
	kf_kernel_free(&k);
	/* ROOT/lib/modules/.. is a folder, but ".." is no release */
	unit_write(root, "lib/modules/6.1.0-1-amd64/modules.dep", "");
	assert_int_equal(kf_kernel_load(ctx, "..", &k), -EINVAL);
	kf_kernel_free(&k);
	assert_int_equal(kf_kernel_load(ctx, "6.1.0-1-amd64/..", &k), -EINVAL);
	kf_kernel_free(&k);
	kforge_ctx_unref(ctx);
	unit_rm_rf(root);
	free(root);
}

static void test_read_uts(void **state)
{
	char *dir = unit_mkdtemp();
	char buf[65];
	assert_int_equal(kforge_release_read_uts(dir, buf, sizeof(buf)), -ENOENT);
	unit_write(dir, "include/generated/utsrelease.h", "#define UTS_RELEASE \"6.1.0-56-amd64\"\n");
	assert_int_equal(kforge_release_read_uts(dir, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "6.1.0-56-amd64");
	unit_write(dir, "include/generated/utsrelease.h", "/* nothing */\n");
	assert_int_equal(kforge_release_read_uts(dir, buf, sizeof(buf)), -EINVAL);
	unit_rm_rf(dir);
	free(dir);
}

/* kforge_makefile_version: a Makefile's text as plugins fetch it (a git blob, a prepared tree) */
static void test_makefile_text(void **state)
{
	(void)state;
	char v[32], e[64];
	const char mk[] = "# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 6\nSUBLEVEL = 1\n"
			  "EXTRAVERSION = -arch1\nNAME = Hurr durr I'ma ninja sloth\n\nEXTRAVERSION = -later\n";
	assert_int_equal(kforge_makefile_version(mk, v, sizeof(v), e, sizeof(e)), 0);
	assert_string_equal(v, "6.6.1");
	assert_string_equal(e, "-arch1"); /* the first assignment: a later one is a recipe's */
	const char lts[] = "VERSION=6\r\nPATCHLEVEL = 6\nSUBLEVEL\t= 63 \nEXTRAVERSION =\nVERSIONX = 9\n";
	assert_int_equal(kforge_makefile_version(lts, v, sizeof(v), e, sizeof(e)), 0);
	assert_string_equal(v, "6.6.63");
	assert_string_equal(e, "");
	/* no EXTRAVERSION line at all: "" */
	assert_int_equal(kforge_makefile_version("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0", v, sizeof(v), e, sizeof(e)), 0);
	assert_string_equal(e, "");
	assert_int_equal(kforge_makefile_version("VERSION = 6\nPATCHLEVEL = 6\n", v, sizeof(v), e, sizeof(e)), -EINVAL);
	assert_int_equal(kforge_makefile_version("VERSION = x\nPATCHLEVEL = 6\nSUBLEVEL = 1\n", v, sizeof(v), e, sizeof(e)),
			 -EINVAL);
	assert_int_equal(kforge_makefile_version("VERSION = 6\nPATCHLEVEL =\nSUBLEVEL = 1\n", v, sizeof(v), e, sizeof(e)),
			 -EINVAL);
	assert_int_equal(kforge_makefile_version("VERSION := 6\nPATCHLEVEL = 6\nSUBLEVEL = 1\n", v, sizeof(v), e, sizeof(e)),
			 -EINVAL);
	assert_int_equal(kforge_makefile_version(mk, v, 4, e, sizeof(e)), -ENAMETOOLONG);
	assert_int_equal(kforge_makefile_version(mk, v, sizeof(v), e, 3), -ENAMETOOLONG);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_debian_include_under_root),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_check_says_why),
		cmocka_unit_test(test_makefile_text),
		cmocka_unit_test(test_kernel_load_checks_first),
		cmocka_unit_test(test_read_uts),
	};
	/* one result line per vector, named after it; the Makefile variant where it applies */
	struct CMUnitTest tests[2 * ARRAY_SIZE(vectors) + ARRAY_SIZE(fixed)];
	char names[2 * ARRAY_SIZE(vectors)][96];
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		snprintf(names[n], sizeof(names[n]), "vector %s", vectors[i].release);
		tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = test_vector,
						.initial_state = (void *)&vectors[i] };
		n++;
		if (vectors[i].makefile)
			continue;
		snprintf(names[n], sizeof(names[n]), "vector %s from a build dir", vectors[i].release);
		tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = test_vector_with_makefile,
						.initial_state = (void *)&vectors[i] };
		n++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("release", tests, n, NULL, NULL);
}
