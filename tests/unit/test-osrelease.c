/* test-osrelease.c: os-release parsing under a root, and the ID/ID_LIKE matching probes use. */
#include "unit.h"

static void test_parse_quotes(void **state)
{
	struct kf_os_release os;
	assert_int_equal(kf_os_release_parse("# comment\nNAME=\"Linux \\\"Mint\\\"\"\nID=linuxmint\n"
					     "ID_LIKE='ubuntu debian'\nVERSION_ID=\"21.3\"\n  \nJUNK\n",
					     &os),
			 0);
	assert_string_equal(os.pub.name, "Linux \"Mint\"");
	assert_string_equal(os.pub.id, "linuxmint");
	assert_string_equal(os.pub.id_like, "ubuntu debian");
	assert_string_equal(os.pub.version_id, "21.3");
	assert_true(kforge_os_is_like(&os.pub, "debian"));
	assert_true(kforge_os_is_like(&os.pub, "ubuntu"));
	assert_false(kforge_os_is_like(&os.pub, "deb"));
	assert_false(kforge_os_is_like(&os.pub, "ubuntu debian"));
	assert_true(kforge_os_is(&os.pub, "linuxmint"));
	assert_false(kforge_os_is(&os.pub, "linux"));
	kf_os_release_free(&os);
}

static void test_missing_fields_are_empty(void **state)
{
	struct kf_os_release os;
	assert_int_equal(kf_os_release_parse("ID=arch\n", &os), 0);
	assert_string_equal(os.pub.id, "arch");
	assert_string_equal(os.pub.id_like, "");
	assert_string_equal(os.pub.version_id, "");
	assert_false(kforge_os_is_like(&os.pub, "arch"));
	kf_os_release_free(&os);
}

static void test_read_under_root(void **state)
{
	char *root = unit_mkdtemp();
	struct kf_os_release os;
	/* nothing there: every field "" */
	assert_int_equal(kf_os_release_read(NULL, root, &os), 0);
	assert_string_equal(os.pub.id, "");
	kf_os_release_free(&os);
	/* /usr/lib/os-release is the fallback, reached through /etc/os-release's absolute link */
	unit_write(root, "usr/lib/os-release", "ID=fedora\nVERSION_ID=39\n");
	assert_int_equal(kf_os_release_read(NULL, root, &os), 0);
	assert_string_equal(os.pub.id, "fedora");
	kf_os_release_free(&os);
	unit_symlink(root, "etc/os-release", "/usr/lib/os-release-rocky");
	unit_write(root, "usr/lib/os-release-rocky", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n");
	assert_int_equal(kf_os_release_read(NULL, root, &os), 0);
	assert_string_equal(os.pub.id, "rocky");
	assert_true(kforge_os_is_like(&os.pub, "fedora"));
	kf_os_release_free(&os);
	unit_rm_rf(root);
	free(root);
}

/* A FIFO or a folder where os-release belongs: skipped with a warning, never waited on. */
static void test_not_regular_skipped(void **state)
{
	char *root = unit_mkdtemp();
	struct kforge_ctx *ctx;
	struct unit_log log = { 0 };
	assert_int_equal(kforge_ctx_new(root, &ctx), 0);
	kforge_set_log_fn(ctx, unit_log_fn, &log);
	struct kf_os_release os;
	free(unit_mkfifo(root, "etc/os-release"));
	unit_write(root, "usr/lib/os-release", "ID=fedora\n");
	alarm(20); /* a regression blocks on the FIFO: the alarm ends it as a failure */
	assert_int_equal(kf_os_release_read(ctx, root, &os), 0);
	alarm(0);
	/* the fallback is read */
	assert_string_equal(os.pub.id, "fedora");
	kf_os_release_free(&os);
	char *want = kf_strdup_printf("%s/etc/os-release is not a regular file: ignored", root);
	assert_non_null(strstr(log.buf, want));
	free(want);
	/* neither is usable: an unknown system, said twice */
	char *lib = kforge_path_join(root, "usr/lib/os-release", NULL);
	assert_int_equal(unlink(lib), 0);
	assert_int_equal(mkdir(lib, 0755), 0);
	log.len = 0;
	alarm(20);
	assert_int_equal(kf_os_release_read(ctx, root, &os), 0);
	alarm(0);
	assert_string_equal(os.pub.id, "");
	kf_os_release_free(&os);
	want = kf_strdup_printf("%s/usr/lib/os-release is not a regular file: ignored", root);
	assert_non_null(strstr(log.buf, want));
	free(want);
	free(lib);
	kforge_ctx_unref(ctx);
	unit_rm_rf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_quotes),
		cmocka_unit_test(test_missing_fields_are_empty),
		cmocka_unit_test(test_read_under_root),
		cmocka_unit_test(test_not_regular_skipped),
	};
	return cmocka_run_group_tests_name("osrelease", tests, NULL, NULL);
}
