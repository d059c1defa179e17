/*
 * test-util.c: reading back what a crash or an attacker left: FIFOs, devices, folders, huge files;
 * the SDK's small helpers for plugins (folders, PATH lookup) and the sandbox's command line.
 */
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

/* kf_path_leads_below: links resolved on both sides, a prefix that is not a folder boundary refused */
static void test_path_leads_below(void **state)
{
	struct fixture *f = *state;
	char *top = kforge_path_join(f->dir, "top", NULL), *sub = kforge_path_join(f->dir, "top/sub", NULL);
	char *twin = kforge_path_join(f->dir, "topx", NULL), *out = kforge_path_join(f->dir, "top/out", NULL);
	char *in = kforge_path_join(f->dir, "top/in", NULL);
	assert_int_equal(mkdir(top, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(mkdir(twin, 0755), 0);
	assert_int_equal(symlink(twin, out), 0); /* top/out -> topx */
	assert_int_equal(symlink("sub", in), 0); /* top/in -> sub */
	assert_true(kf_path_leads_below(sub, top, false));
	assert_true(kf_path_leads_below(in, top, false));
	assert_false(kf_path_leads_below(out, top, false));
	assert_false(kf_path_leads_below(twin, top, false)); /* "topx" starts with "top" */
	assert_false(kf_path_leads_below(top, top, false));
	assert_true(kf_path_leads_below(top, top, true));
	assert_true(kf_path_leads_below(sub, "/", false));
	assert_false(kf_path_leads_below("/nonexistent-kforge-path", "/", false));
	free(top);
	free(sub);
	free(twin);
	free(out);
	free(in);
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

/* A module's place in the kernel's own tree: modules.dep, else modules.order when updates/ wins. */
static void test_module_tree_path(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, "modules.dep", "updates/btrfs.ko.zst: kernel/lib/libcrc32c.ko.zst\n"
					  "kernel/drivers/hid/hid-generic.ko.zst:\nextra/vendor.ko:\n");
	unit_write(f->dir, "modules.order", "kernel/lib/libcrc32c.ko\nkernel/fs/btrfs/btrfs.ko\n"
					    "kernel/drivers/hid/hid-generic.ko\n");
	char *path = kf_module_tree_path(f->dir, "btrfs");
	assert_non_null(path);
	assert_string_equal(path, "kernel/fs/btrfs/btrfs.ko");
	free(path);
	path = kf_module_tree_path(f->dir, "hid_generic");
	assert_non_null(path);
	assert_string_equal(path, "kernel/drivers/hid/hid-generic.ko.zst");
	free(path);
	/* not the kernel's: no folder of its tree */
	assert_null(kf_module_tree_path(f->dir, "vendor"));
	assert_null(kf_module_tree_path(f->dir, "nosuch"));
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

/* ---- the SDK's helpers for plugins ---- */

static void test_plugin_helpers(void **state)
{
	struct fixture *f = *state;
	char *s = kforge_strdup_printf("%s-%d", "a", 7);
	assert_string_equal(s, "a-7");
	free(s);
	/* mkdir -p: parents made, an existing folder is fine */
	char *deep = kforge_path_join(f->dir, "x/y/z", NULL);
	assert_false(kforge_is_dir(deep));
	assert_int_equal(kforge_mkdir_p(deep), 0);
	assert_true(kforge_is_dir(deep));
	assert_int_equal(kforge_mkdir_p(deep), 0);
	assert_false(kforge_is_dir(NULL));
	/* remove a tree: a link inside to a folder outside is removed, not followed */
	unit_write(f->dir, "keep/precious", "x");
	char *keep = kforge_path_join(f->dir, "keep", NULL);
	char *link = kforge_path_join(deep, "to-keep", NULL);
	assert_int_equal(symlink(keep, link), 0);
	unit_write(f->dir, "x/y/file", "y");
	char *top = kforge_path_join(f->dir, "x", NULL);
	assert_int_equal(kforge_remove_tree(top), 0);
	assert_false(kforge_is_dir(top));
	char *precious = kforge_path_join(keep, "precious", NULL);
	assert_int_equal(access(precious, F_OK), 0);
	assert_int_equal(kforge_remove_tree(top), 0); /* missing: fine */
	/* a link given as the tree: the link goes, its target stays */
	assert_int_equal(symlink(keep, top), 0);
	assert_int_equal(kforge_remove_tree(top), 0);
	assert_int_equal(access(precious, F_OK), 0);
	/* PATH lookup as execvp does it: the first executable entry; empty entries skipped; a name with '/' as is */
	unit_write(f->dir, "bin1/tool", "#!/bin/sh\n");
	unit_write(f->dir, "bin2/tool", "#!/bin/sh\n");
	char *t1 = kforge_path_join(f->dir, "bin1/tool", NULL), *t2 = kforge_path_join(f->dir, "bin2/tool", NULL);
	chmod(t2, 0755);
	char *path = kforge_strdup_printf("::%s/bin1:%s/bin2", f->dir, f->dir);
	char *found = kf_find_program("tool", path);
	assert_non_null(found);
	assert_string_equal(found, t2); /* bin1's is not executable */
	free(found);
	chmod(t1, 0755);
	found = kf_find_program("tool", path);
	assert_string_equal(found, t1);
	free(found);
	assert_null(kf_find_program("no-such-tool", path));
	assert_null(kf_find_program("bin1", f->dir)); /* a folder is no program */
	found = kf_find_program(t2, "/nowhere");
	assert_string_equal(found, t2);
	free(found);
	found = kforge_find_program("sh");
	assert_non_null(found);
	free(found);
	free(path);
	free(t1);
	free(t2);
	free(precious);
	free(top);
	free(link);
	free(keep);
	free(deep);
}

/* ---- the sandbox's command line (kforge_run_sandboxed) ---- */

static size_t index_of(char *const *argv, const char *s)
{
	for (size_t i = 0; argv[i]; i++)
		if (strcmp(argv[i], s) == 0)
			return i;
	return (size_t)-1;
}
#define NONE ((size_t)-1)

static void test_sandbox_argv(void **state)
{
	(void)state;
	const char *const cmd[] = { "rpmbuild", "-bp", "x.spec", NULL };
	const char *const readable[] = { "/tmp/r", NULL };
	const char *const writable[] = { "/tmp/w", NULL };
	const char *const env[] = { "FOO=bar", NULL };
	struct kforge_sandbox o = { .readable = readable, .writable = writable, .timeout = 60, .env = env };
	struct kf_sandbox_host h = { .as_root = true, .bwrap = true, .uid = 65534, .gid = 65533, .path = "/usr/bin" };
	struct kf_strv v = { 0 };
	assert_int_equal(kf_sandbox_argv(&o, &h, "/tmp/w", cmd, &v), 0);
	char **a = v.v;
	/* root drops to the build user before bwrap, which then unshares everything (the network too) */
	assert_string_equal(a[0], "timeout");
	assert_string_equal(a[3], "60");
	size_t sp = index_of(a, "setpriv"), bw = index_of(a, "bwrap");
	assert_true(sp < bw && bw != NONE);
	assert_string_equal(a[sp + 1], "--reuid=65534");
	assert_string_equal(a[sp + 2], "--regid=65533");
	assert_true(index_of(a, "--clear-groups") < bw && index_of(a, "--no-new-privs") < bw);
	assert_true(index_of(a, "--unshare-all") > bw);
	assert_int_equal(index_of(a, "--share-net"), NONE);
	assert_int_equal(index_of(a, "unshare"), NONE);
	assert_string_equal(a[index_of(a, "--ro-bind") + 1], "/");
	/* the folders bound after /tmp is made (one under /tmp shows through), at the same path */
	size_t r = index_of(a, "/tmp/r"), w = index_of(a, "/tmp/w");
	assert_true(r > index_of(a, "--tmpfs") && w > index_of(a, "--tmpfs"));
	assert_string_equal(a[r - 1], "--ro-bind");
	assert_string_equal(a[r + 1], "/tmp/r");
	assert_string_equal(a[w - 1], "--bind");
	assert_string_equal(a[index_of(a, "--chdir") + 1], "/tmp/w");
	/* a cleared environment: PATH, HOME (/tmp), LC_ALL=C, the extra entries */
	size_t ce = index_of(a, "--clearenv");
	assert_true(ce != NONE && ce > bw);
	assert_string_equal(a[index_of(a, "PATH") + 1], "/usr/bin");
	assert_string_equal(a[index_of(a, "HOME") + 1], "/tmp");
	assert_string_equal(a[index_of(a, "PWD") + 1], "/tmp/w");
	assert_string_equal(a[index_of(a, "FOO") + 1], "bar");
	size_t c = index_of(a, "rpmbuild");
	assert_string_equal(a[c - 1], "--");
	assert_string_equal(a[c + 2], "x.spec");
	assert_null(a[c + 3]);
	kf_strv_free(&v);

	/* no bubblewrap: a network namespace of its own, then the build user, then env -i */
	h.bwrap = false;
	o.home = "/tmp/w";
	assert_int_equal(kf_sandbox_argv(&o, &h, "/tmp/w", cmd, &v), 0);
	a = v.v;
	size_t un = index_of(a, "unshare");
	assert_string_equal(a[un + 1], "--net");
	assert_string_equal(a[un + 2], "--");
	assert_true(un < index_of(a, "setpriv"));
	assert_int_equal(index_of(a, "bwrap"), NONE);
	size_t e = index_of(a, "env");
	assert_true(e > index_of(a, "setpriv"));
	assert_string_equal(a[e + 1], "-i");
	assert_string_equal(a[e + 2], "PATH=/usr/bin");
	assert_string_equal(a[e + 3], "HOME=/tmp/w");
	assert_string_equal(a[e + 4], "LC_ALL=C");
	assert_string_equal(a[e + 5], "PWD=/tmp/w");
	assert_string_equal(a[e + 6], "FOO=bar");
	assert_string_equal(a[e + 7], "rpmbuild");
	kf_strv_free(&v);

	/* [build] sandbox = none: no namespace either, still the build user and a cleared environment */
	h.no_netns = true;
	assert_int_equal(kf_sandbox_argv(&o, &h, "/tmp/w", cmd, &v), 0);
	assert_int_equal(index_of(v.v, "unshare"), NONE);
	assert_int_equal(index_of(v.v, "bwrap"), NONE);
	assert_true(index_of(v.v, "setpriv") < index_of(v.v, "env"));
	assert_true(index_of(v.v, "PWD=/tmp/w") != NONE);
	kf_strv_free(&v);
	h.no_netns = false;

	/* not root: no setpriv; unshare keeps the user in a user namespace of its own */
	h.as_root = false;
	assert_int_equal(kf_sandbox_argv(&o, &h, NULL, cmd, &v), 0);
	assert_int_equal(index_of(v.v, "setpriv"), NONE);
	assert_true(index_of(v.v, "--map-current-user") == index_of(v.v, "--net") + 1);
	kf_strv_free(&v);
	h.bwrap = true;
	assert_int_equal(kf_sandbox_argv(&o, &h, NULL, cmd, &v), 0);
	assert_int_equal(index_of(v.v, "setpriv"), NONE);
	assert_true(index_of(v.v, "--unshare-all") != NONE);
	assert_int_equal(index_of(v.v, "--chdir"), NONE);
	kf_strv_free(&v);

	/* with network (dnf download), no timeout: no namespace, only the build user's rights */
	struct kforge_sandbox net = { .network = true };
	h = (struct kf_sandbox_host){ .as_root = true, .bwrap = false, .uid = 1, .gid = 1, .path = NULL };
	assert_int_equal(kf_sandbox_argv(&net, &h, NULL, cmd, &v), 0);
	assert_string_equal(v.v[0], "setpriv");
	assert_int_equal(index_of(v.v, "unshare"), NONE);
	assert_int_equal(index_of(v.v, "timeout"), NONE);
	assert_true(index_of(v.v, "PATH=/usr/bin:/bin") != NONE); /* no PATH: execvp's default */
	kf_strv_free(&v);
	h.bwrap = true;
	assert_int_equal(kf_sandbox_argv(&net, &h, NULL, cmd, &v), 0);
	assert_true(index_of(v.v, "--share-net") > index_of(v.v, "--unshare-all"));
	kf_strv_free(&v);
	/* no options: all defaults */
	assert_int_equal(kf_sandbox_argv(NULL, &h, NULL, cmd, &v), 0);
	assert_true(index_of(v.v, "--unshare-all") != NONE);
	kf_strv_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regular_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_leads_below, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_folder_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_file_without_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_files_for_libkmod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_tree_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_helpers, setup, teardown),
		cmocka_unit_test(test_sandbox_argv),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
