/* test-util.c: reading back what a crash or an attacker left: FIFOs, devices, folders, huge files. */
#include "unit.h"

#include <fcntl.h>

struct fixture {
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = unit_mkdtemp();
	/* a regression that blocks on a FIFO ends the test binary instead of hanging make check */
	alarm(20);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	alarm(0);
	unit_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void test_regular_file(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, "a", "hello\n");
	char *path = kforge_path_join(f->dir, "a", NULL);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(kf_read_file(path, &text, &len), 0);
	assert_string_equal(text, "hello\n");
	assert_int_equal(len, 6);
	free(text);
	/* an empty file is "" */
	unit_write(f->dir, "empty", "");
	free(path);
	path = kforge_path_join(f->dir, "empty", NULL);
	assert_int_equal(kf_read_file(path, &text, &len), 0);
	assert_string_equal(text, "");
	assert_int_equal(len, 0);
	free(text);
	free(path);
}

static void test_fifo_refused_at_once(void **state)
{
	struct fixture *f = *state;
	/* no writer ever comes: a plain open() would block here for good */
	char *path = unit_mkfifo(f->dir, "fifo");
	char *text = NULL;
	assert_int_equal(kf_read_file(path, &text, NULL), -EINVAL);
	assert_null(text);
	assert_string_equal(kf_read_strerror(-EINVAL), "not a regular file");
	/* nor through a link */
	char *link = kforge_path_join(f->dir, "link", NULL);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(kf_read_file(link, &text, NULL), -EINVAL);
	/* the SDK's reader is the same */
	assert_int_equal(kforge_read_file(path, &text), -EINVAL);
	free(link);
	free(path);
}

static void test_device_folder_refused(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	/* /dev/zero never ends */
	assert_int_equal(kf_read_file("/dev/zero", &text, NULL), -EINVAL);
	assert_int_equal(kf_read_file("/dev/null", &text, NULL), -EINVAL);
	assert_int_equal(kf_read_file(f->dir, &text, NULL), -EINVAL);
	assert_null(text);
	char *missing = kforge_path_join(f->dir, "missing", NULL);
	assert_int_equal(kf_read_file(missing, &text, NULL), -ENOENT);
	free(missing);
}

static void test_size_cap(void **state)
{
	struct fixture *f = *state;
	/* sparse: nothing is written, the size alone is refused */
	char *big = kforge_path_join(f->dir, "big", NULL);
	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)KF_READ_MAX + 1), 0);
	close(fd);
	char *text = NULL;
	assert_int_equal(kf_read_file(big, &text, NULL), -EFBIG);
	assert_null(text);
	assert_non_null(strstr(kf_read_strerror(-EFBIG), "64 MiB"));
	/* exactly at a cap is fine, one byte more is not */
	unit_write(f->dir, "ten", "0123456789");
	char *ten = kforge_path_join(f->dir, "ten", NULL);
	assert_int_equal(kf_read_file_max(ten, 10, &text, NULL), 0);
	free(text);
	assert_int_equal(kf_read_file_max(ten, 9, &text, NULL), -EFBIG);
	free(ten);
	free(big);
}

static void test_proc_file_without_size(void **state)
{
	(void)state;
	/* /proc files say st_size 0: read to the end all the same, under the cap */
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(kf_read_file("/proc/self/status", &text, &len), 0);
	assert_true(len > 0);
	assert_non_null(strstr(text, "Name:"));
	free(text);
	assert_int_equal(kf_read_file_max("/proc/self/status", 8, &text, NULL), -EFBIG);
}

/* The module indexes and files handed to libkmod: it opens them plainly, so a FIFO never reaches it. */
static void test_module_files_for_libkmod(void **state)
{
	struct fixture *f = *state;
	/* a FIFO as modules.dep.bin: the text modules.dep answers instead */
	unit_write(f->dir, "modules.dep", "kernel/fs/btrfs/btrfs.ko: kernel/lib/libcrc32c.ko\n");
	free(unit_mkfifo(f->dir, "modules.dep.bin"));
	char *path = kf_module_path(f->dir, "btrfs");
	assert_non_null(path);
	assert_string_equal(path, "kernel/fs/btrfs/btrfs.ko");
	free(path);
	/* a FIFO as a module: no plain copy of it, EINVAL */
	char *ko = unit_mkfifo(f->dir, "kernel/fs/btrfs/btrfs.ko");
	char *tmpdir = NULL;
	errno = 0;
	assert_null(kf_module_plain_copy(ko, &tmpdir));
	assert_int_equal(errno, EINVAL);
	assert_null(tmpdir);
	free(ko);
	ko = unit_mkfifo(f->dir, "kernel/fs/xfs/xfs.ko.xz");
	errno = 0;
	assert_null(kf_module_plain_copy(ko, &tmpdir));
	assert_int_equal(errno, EINVAL);
	free(ko);
	/* a regular one is itself */
	unit_write(f->dir, "kernel/fs/ext4/ext4.ko", "\x7f" "ELF");
	ko = kforge_path_join(f->dir, "kernel/fs/ext4/ext4.ko", NULL);
	char *plain = kf_module_plain_copy(ko, &tmpdir);
	assert_non_null(plain);
	assert_string_equal(plain, ko);
	kf_module_plain_release(plain, tmpdir);
	free(ko);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regular_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_folder_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_file_without_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_files_for_libkmod, setup, teardown),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
