/* test-dkms-tree.c: DKMS's tree read as data (core/dkms/tree.c), whole and damaged. */
#include "unit.h"

#include "dkms/dkms.h"

#define KV "6.1.0-56-amd64"
#define TREE "var/lib/dkms"

/* A package DKMS added, built and installed for KV: the layout of dkms.in:1270, 1700, 1918. */
static void add_installed(const char *root, const char *name, const char *ver, const char *mod)
{
	char rel[512], target[256];
	snprintf(rel, sizeof(rel), "usr/src/%s-%s/Kbuild", name, ver);
	unit_write(root, rel, "obj-m += x.o\n");
	snprintf(rel, sizeof(rel), TREE "/%s/%s/source", name, ver);
	snprintf(target, sizeof(target), "/usr/src/%s-%s", name, ver);
	unit_symlink(root, rel, target);
	snprintf(rel, sizeof(rel), TREE "/%s/%s/" KV "/x86_64/module/%s.ko", name, ver, mod);
	unit_write(root, rel, "ELF");
	snprintf(rel, sizeof(rel), TREE "/%s/%s/" KV "/x86_64/log/make.log", name, ver);
	unit_write(root, rel, "DKMS make.log\n");
	snprintf(rel, sizeof(rel), TREE "/%s/kernel-" KV "-x86_64", name);
	snprintf(target, sizeof(target), "%s/" KV "/x86_64", ver);
	unit_symlink(root, rel, target);
	snprintf(rel, sizeof(rel), "lib/modules/" KV "/updates/dkms/%s.ko", mod);
	unit_write(root, rel, "ELF");
}

static const struct kforge_dkms_entry *find(const struct kforge_dkms_tree *t, const char *name, const char *kernel)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->entries[i].name, name) == 0 &&
		    (kernel ? t->entries[i].kernel && strcmp(t->entries[i].kernel, kernel) == 0 : !t->entries[i].kernel))
			return &t->entries[i];
	return NULL;
}

/* Is there a problem holding NEEDLE? */
static bool said(const struct kforge_dkms_tree *t, const char *needle)
{
	for (size_t i = 0; t->problems[i]; i++)
		if (strstr(t->problems[i], needle))
			return true;
	return false;
}

/* Each test's root: a scratch folder, removed after it. */
static int setup(void **state)
{
	*state = unit_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	unit_rm_rf(*state);
	free(*state);
	return 0;
}

static void test_no_tree(void **state)
{
	const char *root = *state;
	struct kforge_dkms_tree *t = NULL;
	assert_int_equal(kf_dkms_tree_read(root, NULL, &t), 0);
	assert_false(t->found);
	assert_int_equal(t->n, 0);
	assert_null(t->problems[0]);
	kforge_dkms_tree_free(t);
}

static void test_states(void **state)
{
	const char *root = *state;
	add_installed(root, "hello", "1.0", "hello");
	/* built for another kernel, not installed there; a second module file, and DKMS's other files */
	unit_write(root, TREE "/hello/1.0/6.1.0-58-amd64/x86_64/module/hello.ko", "ELF");
	unit_write(root, TREE "/hello/1.0/6.1.0-58-amd64/x86_64/module/Module.symvers", "");
	unit_write(root, TREE "/hello/1.0/6.1.0-58-amd64/.tmp_x86_64_AbCd/module/half.ko", "");
	/* added, built for no kernel */
	unit_write(root, "usr/src/lonely-2.0/Kbuild", "obj-m += lonely.o\n");
	unit_symlink(root, TREE "/lonely/2.0/source", "/usr/src/lonely-2.0");
	char *lonely_build = kforge_path_join(root, TREE "/lonely/2.0/build", NULL);
	assert_int_equal(kf_mkdir_p(lonely_build), 0);
	free(lonely_build);
	/* installed where the module is found by name only (not in updates/dkms): kernel/extra */
	add_installed(root, "moved", "3", "mv-mod");
	char *dkms_copy = kforge_path_join(root, "lib/modules/" KV "/updates/dkms/mv-mod.ko", NULL);
	char *elsewhere = unit_path_with_parents(root, "lib/modules/" KV "/extra/deep/mv-mod.ko");
	assert_int_equal(rename(dkms_copy, elsewhere), 0);
	/* a file of that name with other bytes (kforge's own build, say) is not DKMS's copy */
	unit_write(root, "lib/modules/" KV "/extra/mv-mod.ko", "another ELF");
	/* installed, then its file moved aside; kforge's own module of that name is in updates/ */
	add_installed(root, "gone", "1", "gone");
	char *gone = kforge_path_join(root, "lib/modules/" KV "/updates/dkms/gone.ko", NULL);
	assert_int_equal(unlink(gone), 0);
	unit_write(root, "lib/modules/" KV "/updates/gone.ko", "kforge's ELF");
	unit_write(root, TREE "/mok.key", "key");
	unit_write(root, TREE "/mok.pub", "cert");

	struct kforge_dkms_tree *t = NULL;
	assert_int_equal(kf_dkms_tree_read(root, NULL, &t), 0);
	assert_true(t->found);
	assert_string_equal(t->path, "/var/lib/dkms");
	assert_null(t->problems[0]); /* mok.*, build/, log/, .tmp_* and Module.symvers are DKMS's own */
	assert_int_equal(t->n, 5);

	const struct kforge_dkms_entry *e = find(t, "hello", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_INSTALLED);
	assert_true(e->installed);
	assert_string_equal(e->version, "1.0");
	assert_string_equal(e->arch, "x86_64");
	assert_string_equal(e->source, "/usr/src/hello-1.0");
	char *src = kforge_path_join(root, "usr/src/hello-1.0", NULL);
	assert_string_equal(e->source_dir, src);
	assert_int_equal(e->n_modules, 1);
	assert_string_equal(e->modules[0].name, "hello");
	assert_string_equal(e->modules[0].installed, "/lib/modules/" KV "/updates/dkms/hello.ko");
	assert_non_null(strstr(e->modules[0].built, "/var/lib/dkms/hello/1.0/" KV "/x86_64/module/hello.ko"));
	assert_null(e->problem);

	e = find(t, "hello", "6.1.0-58-amd64");
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_BUILT);
	assert_false(e->installed);
	assert_int_equal(e->n_modules, 1); /* not half.ko of the interrupted build, not Module.symvers */
	assert_null(e->modules[0].installed);

	e = find(t, "gone", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_INSTALLED);
	assert_null(e->modules[0].installed);
	assert_string_equal(e->problem, "no copy of gone.ko under /lib/modules/" KV " (moved aside or removed since)");

	e = find(t, "lonely", NULL);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_ADDED);
	assert_int_equal(e->n_modules, 0);

	e = find(t, "moved", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_INSTALLED);
	assert_string_equal(e->modules[0].name, "mv_mod"); /* named as the kernel names it */
	assert_string_equal(e->modules[0].installed, "/lib/modules/" KV "/extra/deep/mv-mod.ko");
	assert_null(e->problem);
	kforge_dkms_tree_free(t);

	/* one kernel only */
	assert_int_equal(kf_dkms_tree_read(root, "6.1.0-58-amd64", &t), 0);
	assert_int_equal(t->n, 1);
	assert_string_equal(t->entries[0].kernel, "6.1.0-58-amd64");
	kforge_dkms_tree_free(t);
	free(src);
	free(dkms_copy);
	free(gone);
	free(elsewhere);
}

static void test_damaged(void **state)
{
	const char *root = *state;
	char *outside = unit_mkdtemp();
	unit_write(outside, "secret/Kbuild", "obj-m += evil.o\n");
	unit_write(outside, "secret/evil.ko", "ELF");
	char *secret = kforge_path_join(outside, "secret", NULL);

	/* a dangling source link: the package is broken, still listed as installed */
	add_installed(root, "dangle", "1", "dangle");
	char *p = kforge_path_join(root, "usr/src/dangle-1", NULL);
	unit_rm_rf(p);
	free(p);
	/* a source link out of /usr/src (to the host's folder, as an absolute link) */
	add_installed(root, "escape", "1", "escape");
	p = kforge_path_join(root, TREE "/escape/1/source", NULL);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(secret, p), 0);
	free(p);
	/* a source link that names /usr/src/X, where X is itself a link to the root's /etc */
	add_installed(root, "hop", "1", "hop");
	p = kforge_path_join(root, "usr/src/hop-1", NULL);
	unit_rm_rf(p);
	assert_int_equal(symlink("/etc", p), 0);
	unit_write(root, "etc/hostname", "x\n");
	free(p);
	/* a kernel link that climbs out of the package, and one naming another kernel */
	add_installed(root, "climb", "1", "climb");
	p = kforge_path_join(root, TREE "/climb/kernel-" KV "-x86_64", NULL);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("../../../../etc", p), 0);
	free(p);
	unit_symlink(root, TREE "/climb/kernel-9.9.9-x86_64", "1/" KV "/x86_64");
	/* garbage names, a link at the top, a module file that is a link */
	unit_write(root, TREE "/bad name!/1/Kbuild", "");
	unit_write(root, TREE "/.hidden/1/source", "");
	unit_symlink(root, TREE "/linked", secret);
	add_installed(root, "lnk", "1", "lnk");
	p = kforge_path_join(root, TREE "/lnk/1/" KV "/x86_64/module/other.ko", NULL);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	free(p);
	unit_write(root, TREE "/lnk/1/" KV "/x86_64/module/we\x1b[2Jird.ko", "");

	struct kforge_dkms_tree *t = NULL;
	assert_int_equal(kf_dkms_tree_read(root, NULL, &t), 0);
	const struct kforge_dkms_entry *e = find(t, "dangle", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_BROKEN);
	assert_true(e->installed);
	assert_null(e->source_dir);
	assert_non_null(strstr(e->problem, "its source link dangles: /usr/src/dangle-1 is no folder"));

	e = find(t, "escape", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_BROKEN);
	assert_null(e->source_dir);
	assert_non_null(strstr(e->problem, "outside /usr/src: not followed"));

	e = find(t, "hop", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_BROKEN);
	assert_null(e->source_dir);
	assert_non_null(strstr(e->problem, "a link that leads out of /usr/src"));

	/* the climbing link is not followed: climb is built, not installed */
	e = find(t, "climb", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_BUILT);
	assert_false(e->installed);
	assert_true(said(t, "/var/lib/dkms/climb/kernel-" KV "-x86_64 -> ../../../../etc: not the VERSION/KERNEL/ARCH"));
	assert_true(said(t, "/var/lib/dkms/climb/kernel-9.9.9-x86_64 -> 1/" KV "/x86_64: not the"));

	assert_null(find(t, "bad name!", NULL));
	assert_null(find(t, ".hidden", NULL));
	assert_null(find(t, "linked", NULL));
	assert_true(said(t, "/var/lib/dkms/bad name!: not a package folder of DKMS's: skipped"));
	assert_true(said(t, "/var/lib/dkms/.hidden: not a package folder"));
	assert_true(said(t, "/var/lib/dkms/linked: not a package folder of DKMS's: skipped (a link, not followed)"));

	e = find(t, "lnk", KV);
	assert_non_null(e);
	assert_int_equal(e->state, KFORGE_DKMS_INSTALLED);
	assert_int_equal(e->n_modules, 1);
	assert_string_equal(e->modules[0].name, "lnk");
	assert_true(said(t, "/module/other.ko: not a plain module file: skipped"));
	assert_true(said(t, "ird.ko: not a plain module file: skipped"));
	/* nothing read names a host path outside the root */
	for (size_t i = 0; i < t->n; i++) {
		assert_true(!t->entries[i].source_dir || strncmp(t->entries[i].source_dir, root, strlen(root)) == 0);
		for (size_t j = 0; j < t->entries[i].n_modules; j++)
			assert_int_equal(strncmp(t->entries[i].modules[j].built, root, strlen(root)), 0);
	}
	kforge_dkms_tree_free(t);
	free(secret);
	unit_rm_rf(outside);
	free(outside);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(kf_dkms_good_name("v4l2loopback"));
	assert_true(kf_dkms_good_name("0.0+git20231103-1~deb12u1"));
	assert_true(kf_dkms_good_name("6.1.0-56-amd64"));
	assert_true(kf_dkms_good_name("x86_64"));
	assert_false(kf_dkms_good_name(""));
	assert_false(kf_dkms_good_name(".."));
	assert_false(kf_dkms_good_name("-rf"));
	assert_false(kf_dkms_good_name("a/b"));
	assert_false(kf_dkms_good_name("a b"));
	assert_false(kf_dkms_good_name("a\nb"));
	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(kf_dkms_good_name(longname));
	assert_string_equal(kforge_dkms_state_name(KFORGE_DKMS_BROKEN), "broken");
	assert_string_equal(kforge_dkms_state_name(KFORGE_DKMS_INSTALLED), "installed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("dkms-tree", tests, NULL, NULL);
}
