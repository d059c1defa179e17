/* test-path.c: paths resolved inside a root as a chroot would, links and all. */
#include "unit.h"

static void expect(const char *root, const char *path, const char *rel_expected)
{
	char *out = NULL;
	assert_int_equal(kforge_path_resolve(root, path, &out), 0);
	char *want = kforge_path_join(root, rel_expected, NULL);
	assert_string_equal(out, want);
	free(want);
	free(out);
}

static void test_links_stay_in_root(void **state)
{
	char *root = unit_mkdtemp();
	unit_write(root, "usr/src/linux-headers-6.1/Makefile", "x\n");
	unit_symlink(root, "usr/lib/modules/6.1/build", "/usr/src/linux-headers-6.1");
	unit_symlink(root, "lib", "usr/lib");
	unit_symlink(root, "usr/lib/modules/6.1/escape", "../../../../../../../../etc");
	/* an absolute target starts again at the root, a relative one from the link's folder */
	expect(root, "/lib/modules/6.1/build/Makefile", "usr/src/linux-headers-6.1/Makefile");
	/* ".." never climbs above the root */
	expect(root, "/lib/modules/6.1/escape/passwd", "etc/passwd");
	expect(root, "/../../x", "x");
	/* a missing tail is joined as given */
	expect(root, "/lib/modules/6.2/build", "usr/lib/modules/6.2/build");
	assert_true(kforge_path_exists(root, "/lib/modules/6.1/build/Makefile"));
	assert_false(kforge_path_exists(root, "/lib/modules/6.2/build"));
	char *found = kforge_path_find(root, "/lib/modules/6.1/build");
	char *want = kforge_path_join(root, "usr/src/linux-headers-6.1", NULL);
	assert_string_equal(found, want);
	free(found);
	free(want);
	unit_rm_rf(root);
	free(root);
}

static void test_loop(void **state)
{
	char *root = unit_mkdtemp();
	unit_symlink(root, "a", "/b");
	unit_symlink(root, "b", "/a");
	char *out = NULL;
	assert_int_equal(kforge_path_resolve(root, "/a/x", &out), -ELOOP);
	assert_null(out);
	unit_rm_rf(root);
	free(root);
}

static void test_slash_root_and_join(void **state)
{
	char *out = NULL;
	assert_int_equal(kforge_path_resolve("/", "/", &out), 0);
	assert_string_equal(out, "/");
	free(out);
	char *j = kforge_path_join("/a/", "/b", "c", NULL);
	assert_string_equal(j, "/a/b/c");
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_stay_in_root),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_slash_root_and_join),
	};
	return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
