/* test-fedora.c: the fedora plugin's pure parts: the release vectors, the SRPM's URL, the Makefile, the spec read as data. */
#include "unit.h"

#include "../../plugins/fedora/fedora.h"

struct vector {
	const char *release, *version, *rel, *arch, *variant, *dist, *extra;
	bool rhel;
	unsigned int major;
	int minor;
};

static void test_release_vectors(void **state)
{
	(void)state;
	static const struct vector v[] = {
		{ "6.5.6-300.fc39.x86_64", "6.5.6", "300.fc39", "x86_64", "", "fc39", "-300.fc39.x86_64", false, 39, -1 },
		{ "6.5.6-300.fc39.x86_64+debug", "6.5.6", "300.fc39", "x86_64", "debug", "fc39", "-300.fc39.x86_64+debug",
		  false, 39, -1 },
		{ "6.13.0-0.rc3.20241217git78d4f34e2115.fc42.x86_64", "6.13.0", "0.rc3.20241217git78d4f34e2115.fc42", "x86_64",
		  "", "fc42", "-0.rc3.20241217git78d4f34e2115.fc42.x86_64", false, 42, -1 },
		{ "4.18.0-513.5.1.el8_9.x86_64", "4.18.0", "513.5.1.el8_9", "x86_64", "", "el8_9", "-513.5.1.el8_9.x86_64",
		  true, 8, 9 },
		{ "5.14.0-427.13.1.el9_4.x86_64", "5.14.0", "427.13.1.el9_4", "x86_64", "", "el9_4", "-427.13.1.el9_4.x86_64",
		  true, 9, 4 },
		{ "5.14.0-427.13.1.el9_4.aarch64+64k", "5.14.0", "427.13.1.el9_4", "aarch64", "64k", "el9_4",
		  "-427.13.1.el9_4.aarch64+64k", true, 9, 4 },
		{ "5.14.0-503.el9.x86_64", "5.14.0", "503.el9", "x86_64", "", "el9", "-503.el9.x86_64", true, 9, -1 },
		{ "6.1.192-300.fc39.x86_64", "6.1.192", "300.fc39", "x86_64", "", "fc39", "-300.fc39.x86_64", false, 39, -1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct fedora_release fr;
		char why[256] = "";
		assert_int_equal(fedora_release_parse(v[i].release, &fr, why, sizeof(why)), 0);
		assert_string_equal(fr.version, v[i].version);
		assert_string_equal(fr.rel, v[i].rel);
		assert_string_equal(fr.arch, v[i].arch);
		assert_string_equal(fr.variant, v[i].variant);
		assert_string_equal(fr.dist, v[i].dist);
		assert_string_equal(fr.extraversion, v[i].extra);
		assert_int_equal(fr.rhel, v[i].rhel);
		assert_int_equal(fr.major, v[i].major);
		assert_int_equal(fr.minor, v[i].minor);
		/* the version and EXTRAVERSION make the release again */
		char again[130];
		snprintf(again, sizeof(again), "%s%s", fr.version, fr.extraversion);
		assert_string_equal(again, v[i].release);
	}
}

static void test_release_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"6.1.0-56-amd64",	  /* Debian's */
		"6.6.1-arch1-1",	  /* Arch's */
		"6.5.6-300.fc39",	  /* no arch */
		"6.5.6-300.x86_64",	  /* no dist tag */
		"6.5-300.fc39.x86_64",	  /* two numbers */
		"6.5.6-300.fc39.x86_64+", /* an empty variant */
		"6.5.6-300.fc39.x86_64+de/bug",
		"6.5.6-.fc39.x86_64x",
		"6.5.6-300.fc39.x86_64 ",
		"",
		"6.5.6-3000000000000000000000000000000000000000000000000000000.fc39.x86_64",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct fedora_release fr;
		char why[256] = "";
		assert_int_equal(fedora_release_parse(bad[i], &fr, why, sizeof(why)), -EINVAL);
		assert_true(why[0] != '\0');
	}
}

/* The package that provides /usr/src/kernels/KVER, named from the release's parts. */
static void test_devel_package(void **state)
{
	(void)state;
	char pkg[256];
	assert_int_equal(fedora_devel_package("6.5.6-300.fc39.x86_64", pkg, sizeof(pkg)), 0);
	assert_string_equal(pkg, "kernel-devel-6.5.6-300.fc39.x86_64");
	assert_int_equal(fedora_devel_package("6.5.6-300.fc39.x86_64+debug", pkg, sizeof(pkg)), 0);
	assert_string_equal(pkg, "kernel-debug-devel-6.5.6-300.fc39.x86_64");
	/* the RHEL family: kernel-devel-VER-REL.ARCH, REL with the z-stream's numbers and the minor */
	assert_int_equal(fedora_devel_package("4.18.0-513.5.1.el8_9.x86_64", pkg, sizeof(pkg)), 0);
	assert_string_equal(pkg, "kernel-devel-4.18.0-513.5.1.el8_9.x86_64");
	assert_int_equal(fedora_devel_package("5.14.0-427.13.1.el9_4.aarch64+64k", pkg, sizeof(pkg)), 0);
	assert_string_equal(pkg, "kernel-64k-devel-5.14.0-427.13.1.el9_4.aarch64");
	assert_int_equal(fedora_devel_package("6.13.0-0.rc3.20241217git1a2b3c4d.fc42.x86_64", pkg, sizeof(pkg)), 0);
	assert_string_equal(pkg, "kernel-devel-6.13.0-0.rc3.20241217git1a2b3c4d.fc42.x86_64");
	/* no package builds these: the core's general words */
	assert_int_equal(fedora_devel_package("6.6.2-custom", pkg, sizeof(pkg)), -EINVAL);
	assert_int_equal(fedora_devel_package("6.5.6-300.fc39.x86_64", pkg, 10), -ENAMETOOLONG);
}

static void test_url_format(void **state)
{
	(void)state;
	struct fedora_release fr;
	char why[256];
	char *url = NULL;
	assert_int_equal(fedora_release_parse("6.5.6-300.fc39.x86_64+debug", &fr, why, sizeof(why)), 0);
	assert_int_equal(fedora_url_format("https://kojipkgs.fedoraproject.org/packages/kernel/%v/%r/src/kernel-%v-%r.src.rpm",
					   &fr, &url, why, sizeof(why)),
			 0);
	assert_string_equal(url, "https://kojipkgs.fedoraproject.org/packages/kernel/6.5.6/300.fc39/src/"
				 "kernel-6.5.6-300.fc39.src.rpm");
	free(url);
	assert_int_equal(fedora_release_parse("5.14.0-427.13.1.el9_4.x86_64", &fr, why, sizeof(why)), 0);
	assert_int_equal(fedora_url_format("https://v/%m/%M/%a/kernel-%v-%r.src.rpm?100%%", &fr, &url, why, sizeof(why)), 0);
	assert_string_equal(url, "https://v/9.4/9/x86_64/kernel-5.14.0-427.13.1.el9_4.src.rpm?100%");
	free(url);
	/* Stream's el9 has no minor: %m cannot be made */
	assert_int_equal(fedora_release_parse("5.14.0-503.el9.x86_64", &fr, why, sizeof(why)), 0);
	assert_int_equal(fedora_url_format("https://v/%m/x", &fr, &url, why, sizeof(why)), -EINVAL);
	assert_null(url);
	assert_non_null(strstr(why, "no minor release"));
	assert_int_equal(fedora_check_url_format("https://x/%s", why, sizeof(why)), -EINVAL);
	assert_int_equal(fedora_check_url_format("ftp://x/%v", why, sizeof(why)), -EINVAL);
	assert_int_equal(fedora_check_url_format("https://x/%v y", why, sizeof(why)), -EINVAL);
	assert_int_equal(fedora_check_url_format("https://x/%", why, sizeof(why)), -EINVAL);
	assert_int_equal(fedora_check_url_format("file:///srv/%v-%r", why, sizeof(why)), 0);
}

static void test_makefile(void **state)
{
	(void)state;
	const char *mk = "# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\nEXTRAVERSION = -rc3\nNAME = Baby Opossum Posse\n";
	char v[32], e[80];
	assert_int_equal(kforge_makefile_version(mk, v, sizeof(v), e, sizeof(e)), 0);
	assert_string_equal(v, "6.12.0");
	assert_string_equal(e, "-rc3");
	/* a pre-rc1 tree: PATCHLEVEL follows the release, as InitBuildVars sets it */
	char *out = NULL;
	assert_int_equal(fedora_makefile_set(mk, "6.13.0", "-0.rc3.20241217gitabc.fc42.x86_64", &out), 0);
	assert_int_equal(kforge_makefile_version(out, v, sizeof(v), e, sizeof(e)), 0);
	assert_string_equal(v, "6.13.0");
	assert_string_equal(e, "-0.rc3.20241217gitabc.fc42.x86_64");
	assert_non_null(strstr(out, "NAME = Baby Opossum Posse\n"));
	free(out);
	assert_int_equal(fedora_makefile_set("VERSION = 6\n", "6.1.0", "-1", &out), -EINVAL);
}

/* ---- the spec ---- */

/* The shape of Fedora's kernel.spec: the redhat patch through a literal macro, ApplyOptionalPatch. */
static const char fedora_spec[] =
	"%global specrpmversion 6.5.6\n"
	"%define patchversion 6.5\n"
	"%define pkgrelease 300\n"
	"%define tarfile_release %{specrpmversion}\n"
	"%global buildid %(echo never-run)\n"
	"Name: kernel\n"
	"Version: %{specrpmversion}\n"
	"Source0: linux-%{tarfile_release}.tar.xz\n"
	"Source1: Makefile.rhelver\n"
	"Patch1: patch-%{patchversion}-redhat.patch\n"
	"Patch999999: linux-kernel-test.patch\n"
	"%description\n"
	"ApplyPatch not-this.patch\n"
	"%prep\n"
	"ApplyOptionalPatch()\n"
	"{\n"
	"  local patch=$1\n"
	"  ApplyPatch $patch ${1+\"$@\"}\n"
	"  ApplyPatch \"$patch\"\n"
	"}\n"
	"%setup -q -n kernel-%{tarfile_release} -c\n"
	"%if !%{nopatches}\n"
	"\n"
	"ApplyOptionalPatch patch-%{patchversion}-redhat.patch\n"
	"%endif\n"
	"ApplyOptionalPatch linux-kernel-test.patch\n"
	"%build\n"
	"ApplyPatch nor-this.patch\n";

static void test_spec_fedora(void **state)
{
	(void)state;
	struct fedora_spec s;
	char why[256] = "";
	assert_int_equal(fedora_spec_parse(fedora_spec, strlen(fedora_spec), &s, why, sizeof(why)), 0);
	assert_string_equal(s.name, "kernel");
	assert_string_equal(s.source0, "linux-%{tarfile_release}.tar.xz");
	assert_int_equal(s.n_patches, 2);
	assert_int_equal(s.n_apply, 2);
	assert_string_equal(s.apply[0].name, "patch-%{patchversion}-redhat.patch");
	assert_true(s.apply[0].optional);
	assert_int_equal(s.apply[0].strip, 1);
	/* the calls inside ApplyOptionalPatch()'s own definition name a variable: no patch */
	assert_int_equal(s.apply[0].line, 24);
	assert_string_equal(s.apply[1].name, "linux-kernel-test.patch");
	assert_true(s.conditional);
	char buf[256];
	assert_int_equal(fedora_spec_expand(&s, s.apply[0].name, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "patch-6.5-redhat.patch");
	assert_int_equal(fedora_spec_expand(&s, s.source0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "linux-6.5.6.tar.xz");
	/* a macro that runs something is not expanded: a pattern instead */
	assert_int_equal(fedora_spec_expand(&s, "x%{buildid}y", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "x*y");
	assert_int_equal(fedora_spec_expand(&s, "a%{?undefined}b%{name}", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "abkernel");
	char *files[] = { "kernel.spec", "linux-6.5.6.tar.xz", "patch-6.5-redhat.patch", "linux-kernel-test.patch" };
	const char *file;
	assert_int_equal(fedora_spec_resolve(&s, s.apply[0].name, files, 4, &file, why, sizeof(why)), 0);
	assert_string_equal(file, "patch-6.5-redhat.patch");
	assert_int_equal(fedora_spec_resolve(&s, "patch-%{buildid}-redhat.patch", files, 4, &file, why, sizeof(why)), 0);
	assert_string_equal(file, "patch-6.5-redhat.patch");
	assert_int_equal(fedora_spec_resolve(&s, "%{buildid}.patch", files, 4, &file, why, sizeof(why)), -EEXIST);
	assert_int_equal(fedora_spec_resolve(&s, "missing.patch", files, 4, &file, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "missing.patch"));
	fedora_spec_free(&s);
}

static void test_spec_percent_patch(void **state)
{
	(void)state;
	const char *text = "Name: x\nPatch0: a.patch\nPatch1: b.patch\nPatch: zero-too.patch\nPatch7: c.patch\n"
			   "%prep\n%setup -q\n%patch1 -p1\n%patch -P 0 -p2\n%patch -P7\n%patch 1 -b .orig\n";
	struct fedora_spec s;
	char why[256] = "";
	/* Patch: and Patch0: are both number 0 */
	assert_int_equal(fedora_spec_parse(text, strlen(text), &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "Patch0: is given twice"));
	text = "Name: x\nPatch0: a.patch\nPatch1: b.patch\nPatch7: c.patch\n"
	       "%prep\n%setup -q\n%patch1 -p1\n%patch -P 0 -p2\n%patch -P7\n%patch 1 -b .orig\n";
	assert_int_equal(fedora_spec_parse(text, strlen(text), &s, why, sizeof(why)), 0);
	assert_int_equal(s.n_apply, 4);
	assert_string_equal(s.apply[0].name, "b.patch");
	assert_int_equal(s.apply[0].strip, 1);
	assert_string_equal(s.apply[1].name, "a.patch");
	assert_int_equal(s.apply[1].strip, 2);
	assert_string_equal(s.apply[2].name, "c.patch");
	assert_int_equal(s.apply[2].strip, -1);
	assert_string_equal(s.apply[3].name, "b.patch");
	fedora_spec_free(&s);
	text = "Name: x\nPatch2: b.patch\nPatch1: a.patch\n%prep\n%autosetup -p1\n";
	assert_int_equal(fedora_spec_parse(text, strlen(text), &s, why, sizeof(why)), 0);
	assert_int_equal(s.n_apply, 2);
	assert_string_equal(s.apply[0].name, "a.patch");
	assert_string_equal(s.apply[1].name, "b.patch");
	assert_int_equal(s.apply[1].strip, 1);
	fedora_spec_free(&s);
}

static void test_spec_hostile(void **state)
{
	(void)state;
	struct fedora_spec s;
	char why[256];
	/* a NUL byte, no %prep, a %patch of no PatchN, a bad -p, a line past 8 KiB */
	const char nul[] = "Name: x\n%prep\n\0ApplyPatch a\n";
	assert_int_equal(fedora_spec_parse(nul, sizeof(nul) - 1, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "NUL"));
	const char *noprep = "Name: x\nPatch1: a.patch\n";
	assert_int_equal(fedora_spec_parse(noprep, strlen(noprep), &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "%prep"));
	const char *nopatch = "Name: x\n%prep\n%patch3 -p1\n";
	assert_int_equal(fedora_spec_parse(nopatch, strlen(nopatch), &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 3"));
	const char *badp = "Name: x\n%prep\nApplyPatch a.patch -pX\n";
	assert_int_equal(fedora_spec_parse(badp, strlen(badp), &s, why, sizeof(why)), -EINVAL);
	size_t big = 10000;
	char *longline = malloc(big + 32);
	strcpy(longline, "Name: x\n%prep\nApplyPatch ");
	memset(longline + strlen(longline), 'a', big);
	longline[25 + big] = '\0';
	assert_int_equal(fedora_spec_parse(longline, strlen(longline), &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 3 is longer"));
	free(longline);
	/* names that leave the SRPM's folder, or hide as options, never resolve */
	const char *evil = "Name: x\n%define up ..\n%prep\nApplyPatch ../../etc/shadow\nApplyPatch %{up}\n"
			   "ApplyPatch -R\n";
	assert_int_equal(fedora_spec_parse(evil, strlen(evil), &s, why, sizeof(why)), 0);
	char *files[] = { "a.patch", "..", "-R" };
	const char *file;
	for (size_t i = 0; i < s.n_apply; i++)
		assert_int_equal(fedora_spec_resolve(&s, s.apply[i].name, files, 3, &file, why, sizeof(why)), -EINVAL);
	fedora_spec_free(&s);
	/* a macro that expands itself stops */
	const char *loop = "Name: x\n%define a %{a}x\n%prep\nApplyPatch %{a}\n";
	assert_int_equal(fedora_spec_parse(loop, strlen(loop), &s, why, sizeof(why)), 0);
	char buf[64];
	int r = fedora_spec_expand(&s, "%{a}", buf, sizeof(buf));
	assert_true(r == -ENOENT || r == -ENAMETOOLONG);
	fedora_spec_free(&s);
	/* more patches than the limit */
	size_t n = 5000;
	char *many = malloc(n * 32 + 64), *o = many;
	o += sprintf(o, "Name: x\n");
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "Patch%zu: p%zu.patch\n", i, i);
	sprintf(o, "%%prep\n%%autopatch\n");
	assert_int_equal(fedora_spec_parse(many, strlen(many), &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "more than"));
	free(many);
}

static void test_count_lines(void **state)
{
	(void)state;
	assert_int_equal(fedora_count_lines("", 0), 0);
	assert_int_equal(fedora_count_lines("a\nb\n", 4), 2);
	assert_int_equal(fedora_count_lines("a\nb", 3), 1);
	assert_true(fedora_plain_name("patch-6.5-redhat.patch"));
	assert_false(fedora_plain_name("a/b"));
	assert_false(fedora_plain_name(".."));
	assert_false(fedora_plain_name("-R"));
	assert_false(fedora_plain_name("a b"));
}

/* Not an rpm, or nothing at all: refused naming the file. */
static void test_srpm_refused(void **state)
{
	(void)state;
	char *dir = unit_mkdtemp();
	char *path = kforge_path_join(dir, "kernel-1-1.src.rpm", NULL);
	FILE *f = fopen(path, "w");
	fputs("this is no rpm\n", f);
	fclose(f);
	char **names = NULL;
	size_t n = 9;
	char why[512] = "";
	assert_int_equal(fedora_srpm_extract(path, dir, &names, &n, why, sizeof(why)), -EBADMSG);
	assert_null(names);
	assert_int_equal(n, 0);
	assert_non_null(strstr(why, path));
	assert_int_equal(fedora_srpm_extract("/nonexistent.src.rpm", dir, &names, &n, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "/nonexistent.src.rpm"));
	free(path);
	unit_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_vectors), cmocka_unit_test(test_release_refused),
		cmocka_unit_test(test_url_format), cmocka_unit_test(test_devel_package),	cmocka_unit_test(test_makefile),
		cmocka_unit_test(test_spec_fedora),	cmocka_unit_test(test_spec_percent_patch),
		cmocka_unit_test(test_spec_hostile),	cmocka_unit_test(test_count_lines),
		cmocka_unit_test(test_srpm_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
