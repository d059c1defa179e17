/* test-arch.c: the arch plugin's pure parts: pacman's database, .SRCINFO, the release vectors, patches, the PKGBUILD driver. */
#include "unit.h"

#include <zlib.h>

#include "../../plugins/arch/arch.h"

/* ---- versions, tags, URLs ---- */

static void test_version_split(void **state)
{
	(void)state;
	struct arch_pkgver v;
	char why[256], buf[256];
	assert_int_equal(arch_version_split("6.6.1.arch1-1", &v, why, sizeof(why)), 0);
	assert_string_equal(v.epoch, "");
	assert_string_equal(v.pkgver, "6.6.1.arch1");
	assert_string_equal(v.pkgrel, "1");
	assert_int_equal(arch_version_split("1:6.6.1.arch1-1", &v, why, sizeof(why)), 0);
	assert_string_equal(v.epoch, "1");
	assert_string_equal(v.pkgver, "6.6.1.arch1");
	assert_string_equal(arch_version_string(&v, buf, sizeof(buf)), "1:6.6.1.arch1-1");
	assert_int_equal(arch_version_split("6.6.63-1.1", &v, why, sizeof(why)), 0);
	assert_string_equal(v.pkgrel, "1.1");
	static const char *const bad[] = { "6.6.1", ":6.6.1-1", "a:6.6.1-1", "6.6 1-1", "6.6.1-x", "-1", "6.6.1-",
					   "6.6.1-1.", "1:2:3-1", "6:6-1-1x" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = '\0';
		assert_int_equal(arch_version_split(bad[i], &v, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, bad[i]));
	}
}

static void test_version_equal(void **state)
{
	(void)state;
	struct arch_pkgver a, b;
	char why[128];
	arch_version_split("6.6.1.arch1-1", &a, why, sizeof(why));
	arch_version_split("0:6.6.1.arch1-1", &b, why, sizeof(why));
	assert_true(arch_version_equal(&a, &b));
	arch_version_split("1:6.6.1.arch1-1", &b, why, sizeof(why));
	assert_false(arch_version_equal(&a, &b));
	arch_version_split("6.6.1.arch1-2", &b, why, sizeof(why));
	assert_false(arch_version_equal(&a, &b));
}

static void test_packaging_tag(void **state)
{
	(void)state;
	struct arch_pkgver v;
	char why[128], tag[128];
	arch_version_split("6.6.1.arch1-1", &v, why, sizeof(why));
	assert_string_equal(arch_packaging_tag(&v, tag, sizeof(tag)), "6.6.1.arch1-1");
	/* devtools' get_tag_from_pkgver: an epoch's ':' becomes '-' (git refuses ':' in a ref) */
	arch_version_split("1:6.6.1.arch1-1", &v, why, sizeof(why));
	assert_string_equal(arch_packaging_tag(&v, tag, sizeof(tag)), "1-6.6.1.arch1-1");
	arch_version_split("2:1.0~rc1-3", &v, why, sizeof(why));
	assert_string_equal(arch_packaging_tag(&v, tag, sizeof(tag)), "2-1.0.rc1-3");
}

static void test_packaging_url(void **state)
{
	(void)state;
	char why[512];
	char *u = arch_packaging_url("https://gitlab.archlinux.org/archlinux/packaging/packages/%s.git", "linux-zen");
	assert_string_equal(u, "https://gitlab.archlinux.org/archlinux/packaging/packages/linux-zen.git");
	free(u);
	u = arch_packaging_url("file:///srv/100%%/%s", "linux612");
	assert_string_equal(u, "file:///srv/100%/linux612");
	free(u);
	assert_int_equal(arch_check_url_format("https://gitlab.manjaro.org/packages/core/%s.git", why, sizeof(why)), 0);
	assert_int_equal(arch_check_url_format("file:///srv/100%%/%s", why, sizeof(why)), 0);
	static const char *const bad[] = { "https://x/linux.git", "https://x/%s/%s.git", "https://x/%d.git",
					   "https://x/%s y.git", "https://x/%s%" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = '\0';
		assert_int_equal(arch_check_url_format(bad[i], why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "packaging_url"));
	}
}

static void test_check_ref(void **state)
{
	(void)state;
	char why[256];
	static const char *const good[] = { "", "tag=6.6.1.arch1-1", "branch=master", "commit=0123abcdef" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(arch_check_ref(good[i], why, sizeof(why)), 0);
	static const char *const bad[] = { "master", "tag=", "commit=xyz", "branch=a b", "tag=a:b", "head=x" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(arch_check_ref(bad[i], why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "packaging_ref"));
	}
}

static void test_pkgname_valid(void **state)
{
	(void)state;
	assert_true(arch_pkgname_valid("linux"));
	assert_true(arch_pkgname_valid("linux612-rt"));
	assert_true(arch_pkgname_valid("linux-g14+x_y.z@1"));
	assert_false(arch_pkgname_valid(""));
	assert_false(arch_pkgname_valid("-linux"));
	assert_false(arch_pkgname_valid(".linux"));
	assert_false(arch_pkgname_valid("linux/../x"));
	assert_false(arch_pkgname_valid("linux lts"));
}

/* ---- pacman's local database ---- */

#define DESC(name, ver) "%NAME%\n" name "\n\n%VERSION%\n" ver "\n\n%BASE%\nlinux\n\n%DESC%\nThe kernel\n\n"

static void test_desc_parse(void **state)
{
	(void)state;
	char n[64], v[64], why[256];
	const char *good = DESC("linux", "1:6.6.1.arch1-1");
	assert_int_equal(arch_desc_parse(good, strlen(good), n, sizeof(n), v, sizeof(v), why, sizeof(why)), 0);
	assert_string_equal(n, "linux");
	assert_string_equal(v, "1:6.6.1.arch1-1");
	struct {
		const char *text;
		const char *reason;
	} bad[] = {
		{ "%NAME%\nlinux\n\n", "no %VERSION% section" },
		{ "%VERSION%\n6.6.1.arch1-1\n\n", "no %NAME% section" },
		{ "%NAME%\n\n%VERSION%\n6.6.1.arch1-1\n", "line 2: %NAME% has no value" },
		{ "%NAME%\nlinux\n%NAME%\nlinux\n%VERSION%\n1-1\n", "line 3: %NAME% a second time" },
		{ "", "no %NAME% section" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = '\0';
		assert_int_equal(arch_desc_parse(bad[i].text, strlen(bad[i].text), n, sizeof(n), v, sizeof(v), why,
						 sizeof(why)),
				 -EINVAL);
		assert_string_equal(why, bad[i].reason);
	}
	char nul[] = "%NAME%\nli\0ux\n\n%VERSION%\n1-1\n";
	assert_int_equal(arch_desc_parse(nul, sizeof(nul) - 1, n, sizeof(n), v, sizeof(v), why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "NUL"));
	size_t big = ARCH_LINE_MAX + 100;
	char *longline = malloc(big + 32);
	strcpy(longline, "%NAME%\nlinux\n");
	memset(longline + 13, 'x', big);
	longline[13 + big] = '\0';
	assert_int_equal(arch_desc_parse(longline, strlen(longline), n, sizeof(n), v, sizeof(v), why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "line 3 is longer than"));
	free(longline);
}

struct db {
	char *dir;
	char *local;
};

static int db_setup(void **state)
{
	struct db *d = calloc(1, sizeof(*d));
	d->dir = unit_mkdtemp();
	d->local = kforge_path_join(d->dir, "var/lib/pacman/local", NULL);
	unit_write(d->dir, "var/lib/pacman/local/ALPM_DB_VERSION", "9\n");
	/* the kernel's neighbours share its prefix: only their desc tells them apart */
	unit_write(d->dir, "var/lib/pacman/local/linux-headers-6.6.1.arch1-1/desc", DESC("linux-headers", "6.6.1.arch1-1"));
	unit_write(d->dir, "var/lib/pacman/local/linux-lts-6.6.63-1/desc", DESC("linux-lts", "6.6.63-1"));
	unit_write(d->dir, "var/lib/pacman/local/linux-firmware-20231110.74158e7a-1/desc",
		   DESC("linux-firmware", "20231110.74158e7a-1"));
	*state = d;
	return 0;
}

static int db_teardown(void **state)
{
	struct db *d = *state;
	unit_rm_rf(d->dir);
	free(d->dir);
	free(d->local);
	free(d);
	return 0;
}

static void test_pacman_find(void **state)
{
	struct db *d = *state;
	struct arch_pkgver v;
	char why[1024];
	assert_int_equal(arch_pacman_find(d->local, "linux", &v, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "has no package linux: install it (pacman -S linux)"));
	unit_write(d->dir, "var/lib/pacman/local/linux-1:6.6.1.arch1-1/desc", DESC("linux", "1:6.6.1.arch1-1"));
	assert_int_equal(arch_pacman_find(d->local, "linux", &v, why, sizeof(why)), 0);
	assert_string_equal(v.epoch, "1");
	assert_string_equal(v.pkgver, "6.6.1.arch1");
	assert_string_equal(v.pkgrel, "1");
	assert_int_equal(arch_pacman_find(d->local, "linux-lts", &v, why, sizeof(why)), 0);
	assert_string_equal(v.pkgver, "6.6.63");
	/* a second version of one package: a damaged database, said so */
	unit_write(d->dir, "var/lib/pacman/local/linux-6.6.2.arch1-1/desc", DESC("linux", "6.6.2.arch1-1"));
	assert_int_equal(arch_pacman_find(d->local, "linux", &v, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "lists linux twice"));
	assert_non_null(strstr(why, "pacman -Dk"));
}

static void test_pacman_damaged(void **state)
{
	struct db *d = *state;
	struct arch_pkgver v;
	char why[1024];
	/* the folder says one thing, desc another: refused, not trusted either way */
	unit_write(d->dir, "var/lib/pacman/local/linux-6.6.1.arch1-1/desc", DESC("linux", "6.6.9.arch1-1"));
	assert_int_equal(arch_pacman_find(d->local, "linux", &v, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "says linux 6.6.9.arch1-1, but its folder is named linux-6.6.1.arch1-1"));
	unit_write(d->dir, "var/lib/pacman/local/linux-6.6.1.arch1-1/desc", "%NAME%\nlinux\n\n");
	assert_int_equal(arch_pacman_find(d->local, "linux", &v, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "is damaged: no %VERSION% section: reinstall the package (pacman -S linux)"));
	/* a FIFO where desc belongs is never waited on */
	char *desc = kforge_path_join(d->dir, "var/lib/pacman/local/linux-6.6.1.arch1-1/desc", NULL);
	unlink(desc);
	free(unit_mkfifo(d->dir, "var/lib/pacman/local/linux-6.6.1.arch1-1/desc"));
	alarm(10);
	assert_int_equal(arch_pacman_find(d->local, "linux", &v, why, sizeof(why)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(why, "cannot be read"));
	unlink(desc);
	*strrchr(desc, '/') = '\0';
	rmdir(desc);
	free(desc);
	/* a version pacman would never write, in a folder that matches it */
	unit_write(d->dir, "var/lib/pacman/local/linux-6.6.1.arch1/desc", DESC("linux", "6.6.1.arch1"));
	assert_int_equal(arch_pacman_find(d->local, "linux", &v, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "has no -pkgrel"));
	char *none = kforge_path_join(d->dir, "nonexistent", NULL);
	assert_int_equal(arch_pacman_find(none, "linux", &v, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "is this an Arch system?"));
	free(none);
}

/* ---- .SRCINFO ---- */

#define SHA(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define B2(c) SHA(c) SHA(c)

/* shaped like Arch's linux package's .SRCINFO (makepkg --printsrcinfo) */
static const char srcinfo_linux[] =
	"pkgbase = linux\n"
	"\tpkgdesc = Linux\n"
	"\tpkgver = 6.6.1.arch1\n"
	"\tpkgrel = 1\n"
	"\turl = https://github.com/archlinux/linux\n"
	"\tarch = x86_64\n"
	"\tlicense = GPL-2.0-only\n"
	"\tmakedepends = bc\n"
	"\toptions = !debug\n"
	"\tsource = https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz\n"
	"\tsource = https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.sign\n"
	"\tsource = https://github.com/archlinux/linux/releases/download/v6.6.1-arch1/linux-v6.6.1-arch1.patch.zst\n"
	"\tsource = https://github.com/archlinux/linux/releases/download/v6.6.1-arch1/linux-v6.6.1-arch1.patch.zst.sig\n"
	"\tsource = config\n"
	"\tvalidpgpkeys = ABAF11C65A2970B130ABE3C479BE3E4300411886\n"
	"\tvalidpgpkeys = 647F28654894E3BD457199BE38DBBDC86092693E\n"
	"\tvalidpgpkeys = 83BC8889351B5DEBBB68416EB8AC08600F108CDF\n"
	"\tsha256sums = " SHA("a") "\n"
	"\tsha256sums = SKIP\n"
	"\tsha256sums = " SHA("b") "\n"
	"\tsha256sums = SKIP\n"
	"\tsha256sums = " SHA("C") "\n"
	"\tb2sums = " B2("1") "\n"
	"\tb2sums = SKIP\n"
	"\tb2sums = " B2("2") "\n"
	"\tb2sums = SKIP\n"
	"\tb2sums = " B2("3") "\n"
	"\n"
	"pkgname = linux\n"
	"\tpkgdesc = The Linux kernel and modules\n"
	"\tsource = ignored-in-a-package-section\n"
	"\n"
	"pkgname = linux-headers\n"
	"\tpkgdesc = Headers and scripts for building modules for the Linux kernel\n";

static void test_srcinfo_linux(void **state)
{
	(void)state;
	struct arch_srcinfo si;
	char why[512], sum[256];
	assert_int_equal(arch_srcinfo_parse(srcinfo_linux, strlen(srcinfo_linux), "x86_64", &si, why, sizeof(why)), 0);
	assert_string_equal(si.pkgbase, "linux");
	assert_string_equal(si.pkgver, "6.6.1.arch1");
	assert_string_equal(si.pkgrel, "1");
	assert_null(si.epoch);
	assert_int_equal(si.n_sources, 5);
	assert_int_equal(si.n_keys, 3);
	assert_string_equal(si.keys[2], "83BC8889351B5DEBBB68416EB8AC08600F108CDF");
	assert_string_equal(si.sources[0].name, "linux-6.6.1.tar.xz");
	assert_int_equal(si.sources[0].kind, ARCH_SOURCE_URL);
	assert_string_equal(si.sources[0].url, "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz");
	/* BLAKE2b when there is one; sha256 kept beside it */
	assert_string_equal(arch_source_checksum(&si.sources[0], sum, sizeof(sum)), "b2:" B2("1"));
	assert_string_equal(si.sources[0].sha256, SHA("a"));
	assert_true(si.sources[1].skip);
	assert_null(arch_source_checksum(&si.sources[1], sum, sizeof(sum)));
	assert_string_equal(si.sources[2].name, "linux-v6.6.1-arch1.patch.zst");
	assert_int_equal(si.sources[4].kind, ARCH_SOURCE_LOCAL);
	assert_string_equal(si.sources[4].name, "config");
	assert_null(si.sources[4].url);
	assert_string_equal(si.sources[4].sha256, SHA("c")); /* lower case */
	assert_int_equal(arch_srcinfo_kernel(&si), 0);
	assert_int_equal(arch_srcinfo_config(&si, "x86_64"), 4);
	/* signatures: the .tar.sign signs the .tar inside the .tar.xz; the .sig the .patch.zst itself */
	size_t t;
	bool dec;
	assert_int_equal(arch_signature_target(&si, 1, &t, &dec), 0);
	assert_int_equal(t, 0);
	assert_true(dec);
	assert_int_equal(arch_signature_target(&si, 3, &t, &dec), 0);
	assert_int_equal(t, 2);
	assert_false(dec);
	arch_srcinfo_free(&si);
}

static void test_srcinfo_git_and_arch(void **state)
{
	(void)state;
	const char text[] = "pkgbase = linux-zen\n"
			    "\tpkgver = 6.12.1.zen1\n"
			    "\tpkgrel = 1\n"
			    "\tepoch = 2\n"
			    "\tsource = archlinux-linux::git+https://github.com/archlinux/linux?signed#tag=v6.12.1-zen1\n"
			    "\tsource = git+file:///srv/git/zen-kernel.git#commit=0123456789abcdef\n"
			    "\tsource = extra.patch::https://example.org/p/?id=3\n"
			    "\tsource_aarch64 = config.aarch64\n"
			    "\tsource_x86_64 = config.x86_64\n"
			    "\tsha256sums = SKIP\n"
			    "\tsha256sums = SKIP\n"
			    "\tsha256sums = " SHA("d") "\n"
			    "\tsha256sums_x86_64 = " SHA("e") "\n"
			    "\tsha256sums_aarch64 = " SHA("f") "\n";
	struct arch_srcinfo si;
	char why[512];
	assert_int_equal(arch_srcinfo_parse(text, strlen(text), "x86_64", &si, why, sizeof(why)), 0);
	assert_string_equal(si.epoch, "2");
	assert_int_equal(si.n_sources, 4);
	assert_int_equal(si.sources[0].kind, ARCH_SOURCE_GIT);
	assert_string_equal(si.sources[0].name, "archlinux-linux");
	assert_string_equal(si.sources[0].url, "https://github.com/archlinux/linux");
	assert_string_equal(si.sources[0].ref, "tag=v6.12.1-zen1");
	assert_string_equal(si.sources[1].name, "zen-kernel");
	assert_string_equal(si.sources[1].url, "file:///srv/git/zen-kernel.git");
	assert_string_equal(si.sources[1].ref, "commit=0123456789abcdef");
	assert_string_equal(si.sources[2].name, "extra.patch");
	assert_string_equal(si.sources[2].url, "https://example.org/p/?id=3");
	/* source_x86_64 comes after source, with its own sums; aarch64's are not this machine's */
	assert_string_equal(si.sources[3].name, "config.x86_64");
	assert_string_equal(si.sources[3].sha256, SHA("e"));
	assert_int_equal(arch_srcinfo_kernel(&si), 0);
	assert_int_equal(arch_srcinfo_config(&si, "x86_64"), 3);
	assert_int_equal(arch_srcinfo_config(&si, "aarch64"), -1);
	arch_srcinfo_free(&si);
}

struct bad_srcinfo {
	const char *name;
	const char *text;
	const char *why;
};

static const struct bad_srcinfo bad_srcinfos[] = {
	{ "no pkgver", "pkgbase = linux\n\tpkgrel = 1\n\tsource = config\n\npkgname = linux\n",
	  "no pkgver line in the pkgbase section (lines 1 to 4)" },
	{ "no pkgrel", "pkgbase = linux\n\tpkgver = 1\n", "no pkgrel line in the pkgbase section (lines 1 to 2)" },
	{ "count mismatch",
	  "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tsource = a.tar.xz::https://x/a.tar.xz\n\tsource = config\n"
	  "\tsha256sums = SKIP\n",
	  "line 6: 1 sha256sums for 2 sources" },
	{ "arch count mismatch",
	  "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tsource_x86_64 = config\n\tb2sums_x86_64 = SKIP\n"
	  "\tb2sums_x86_64 = SKIP\n",
	  "line 5: 2 b2sums_x86_64 for 1 source" },
	{ "no key = value", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel=1\n", "line 3: expected \"key = value\"" },
	{ "pkgbase not first", "\tpkgver = 1\npkgbase = linux\n", "line 1: a .SRCINFO starts with \"pkgbase = NAME\"" },
	{ "pkgver twice", "pkgbase = linux\n\tpkgver = 1\n\tpkgver = 2\n\tpkgrel = 1\n", "line 3: pkgver a second time" },
	{ "sum not hex", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tsource = config\n\tsha256sums = 1234\n",
	  "sha256sums entry 1 (from line 5) is neither SKIP nor 64 hex digits" },
	{ "ftp", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tsource = ftp://x/y.tar.xz\n",
	  "source entry 1 (from line 4): \"ftp://x/y.tar.xz\": kforge fetches http, https, file and git+ sources, not ftp" },
	{ "git fragment", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tsource = git+https://x/y#tog=1\n",
	  "a git source's fragment is #tag=, #commit= or #branch=" },
	{ "slash in name", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tsource = ../../etc/x::https://x/y\n",
	  "is no file name" },
	{ "same name twice", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tsource = config\n\tsource = config::https://x/c\n",
	  "two sources are named config" },
	{ "short key", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tvalidpgpkeys = 0F108CDF\n",
	  "line 4: validpgpkeys wants a full fingerprint" },
	{ "bad epoch", "pkgbase = linux\n\tpkgver = 1\n\tpkgrel = 1\n\tepoch = x\n", "epoch \"x\" is no number" },
	{ "empty", "", "no \"pkgbase = NAME\" line" },
};

static void test_srcinfo_bad(void **state)
{
	const struct bad_srcinfo *b = *state;
	struct arch_srcinfo si;
	char why[512] = "";
	assert_int_equal(arch_srcinfo_parse(b->text, strlen(b->text), "x86_64", &si, why, sizeof(why)), -EINVAL);
	if (!strstr(why, b->why))
		fail_msg("%s: got \"%s\", want \"%s\"", b->name, why, b->why);
	assert_null(si.sources); /* nothing half-parsed is handed back */
}

static void test_srcinfo_long_line_and_nul(void **state)
{
	(void)state;
	size_t n = ARCH_LINE_MAX + 10;
	char *text = malloc(n + 64);
	int off = sprintf(text, "pkgbase = linux\n\tpkgver = 1\n\tsource = ");
	memset(text + off, 'a', n);
	strcpy(text + off + n, "\n");
	struct arch_srcinfo si;
	char why[256];
	assert_int_equal(arch_srcinfo_parse(text, strlen(text), "x86_64", &si, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 3 is longer than 8192 characters"));
	free(text);
	const char nul[] = "pkgbase = linux\n\tpkgver = 1\0\n";
	assert_int_equal(arch_srcinfo_parse(nul, sizeof(nul) - 1, "x86_64", &si, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "NUL"));
}

static void test_source_kinds(void **state)
{
	(void)state;
	char plain[256];
	assert_true(arch_is_patch("linux-v6.6.1-arch1.patch.zst", plain, sizeof(plain)));
	assert_string_equal(plain, "linux-v6.6.1-arch1.patch");
	assert_true(arch_is_patch("0001-fix.patch", plain, sizeof(plain)));
	/* Arch's loop strips .zst only: a .patch.xz is not applied by it */
	assert_false(arch_is_patch("0001-fix.patch.xz", plain, sizeof(plain)));
	/* kernel.org's incremental patch, as Manjaro applies it */
	assert_true(arch_is_patch("patch-6.12.63.xz", plain, sizeof(plain)));
	assert_string_equal(plain, "patch-6.12.63");
	assert_false(arch_is_patch("patch-notes.txt", plain, sizeof(plain)));
	assert_false(arch_is_patch("config", plain, sizeof(plain)));
	assert_true(arch_is_signature("linux-6.6.1.tar.sign"));
	assert_true(arch_is_signature("x.patch.zst.sig"));
	assert_true(arch_is_signature("sha256sums.asc"));
	assert_false(arch_is_signature("config"));
	assert_true(arch_is_tarball("linux-6.12.tar.gz"));
	assert_false(arch_is_tarball("linux-6.12.tar.sign"));
	assert_string_equal(arch_compression_suffix("a.patch.zst"), ".zst");
	assert_null(arch_compression_suffix("a.patch"));
}

/* ---- the release: every Arch vector of distro-facts.md ---- */

struct rvec {
	const char *pkgbase, *version, *config_lv;
	const char *release;    /* the vector */
	const char *makefile;   /* Makefile version */
	const char *extra;      /* EXTRAVERSION column (the upstream+patch Makefile) */
	const char *rest;       /* the rest column */
	const char *lv10, *lv20; /* localversion files, NULL: none written */
	const char *make_var;
};

static const struct rvec rvecs[] = {
	{ "linux", "6.6.1.arch1-1", "", "6.6.1-arch1-1", "6.6.1", "-arch1", "-1", "-1", "", "" },
	{ "linux", "6.12.arch1-1", "", "6.12.0-arch1-1", "6.12.0", "-arch1", "-1", "-1", "", "" },
	{ "linux-lts", "6.6.63-1", "", "6.6.63-1-lts", "6.6.63", "", "-1-lts", "-1", "-lts", "" },
	{ "linux-zen", "6.12.1.zen1-1", "", "6.12.1-zen1-1-zen", "6.12.1", "-zen1", "-1-zen", "-1", "-zen", "" },
	{ "linux-hardened", "6.16.8.hardened1-1", "", "6.16.8-hardened1-1-hardened", "6.16.8", "-hardened1",
	  "-1-hardened", "-1", "-hardened", "" },
	/* an epoch changes the package's order, never the release */
	{ "linux", "1:6.6.1.arch1-1", "", "6.6.1-arch1-1", "6.6.1", "-arch1", "-1", "-1", "", "" },
	{ "linux612", "6.12.63-1", "-MANJARO", "6.12.63-1-MANJARO", "6.12.63", "", "-1-MANJARO", NULL, NULL,
	  "EXTRAVERSION=-1" },
};

static void test_release_vector(void **state)
{
	const struct rvec *t = *state;
	struct arch_pkgver v;
	struct arch_release rel;
	char why[256], model[128];
	assert_int_equal(arch_version_split(t->version, &v, why, sizeof(why)), 0);
	assert_int_equal(arch_release_expect(t->pkgbase, &v, t->config_lv, &rel, why, sizeof(why)), 0);
	assert_string_equal(rel.release, t->release);
	assert_string_equal(rel.version, t->makefile);
	assert_string_equal(rel.extraversion, t->extra);
	assert_string_equal(rel.make_var, t->make_var);
	assert_int_equal(rel.localversion_files, t->lv10 != NULL);
	if (t->lv10) {
		assert_string_equal(rel.localversion_10, t->lv10);
		assert_string_equal(rel.localversion_20, t->lv20);
	}
	/* the table's columns: release = Makefile version + EXTRAVERSION + rest */
	snprintf(model, sizeof(model), "%s%s%s", t->makefile, t->extra, t->rest);
	assert_string_equal(model, t->release);
	/* and a tree prepared that way gives it back, as scripts/setlocalversion reads it */
	char lvs[128];
	snprintf(lvs, sizeof(lvs), "%s%s", t->lv10 ? t->lv10 : "", t->lv20 ? t->lv20 : "");
	const char *extra = rel.make_var[0] ? rel.make_var + strlen("EXTRAVERSION=") : rel.extraversion;
	assert_int_equal(arch_setlocalversion(rel.version, extra, lvs, t->config_lv, model, sizeof(model)), 0);
	assert_string_equal(model, t->release);
	assert_int_equal(arch_release_check("x", model, NULL, t->release, why, sizeof(why)), 0);
}

static void test_release_bad(void **state)
{
	(void)state;
	struct arch_pkgver v;
	struct arch_release rel;
	char why[256];
	static const char *const bad[] = { "6-1", "abc-1", "6.6.1.arch1.x-1", "6..1-1", "6.6.1.-1", "6.6.1.1-1",
					   "6.arch1-1", "6.6.1.ar_ch-1" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(arch_version_split(bad[i], &v, why, sizeof(why)), 0);
		assert_int_equal(arch_release_expect("linux", &v, "", &rel, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "is no kernel version"));
	}
	/* a release the derivation does not reproduce is an error that names both strings */
	assert_int_equal(arch_version_split("6.6.2.arch1-1", &v, why, sizeof(why)), 0);
	assert_int_equal(arch_release_expect("linux", &v, "", &rel, why, sizeof(why)), 0);
	assert_int_equal(arch_release_check("the release linux 6.6.2.arch1-1 builds", rel.release, NULL, "6.6.1-arch1-1",
					    why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why,
			    "the release linux 6.6.2.arch1-1 builds is \"6.6.2-arch1-1\", the target kernel is \"6.6.1-arch1-1\"");
	assert_int_equal(arch_release_check("EXTRAVERSION in T's Makefile", "-arch2", "the package's _srctag's", "-arch1",
					    why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "EXTRAVERSION in T's Makefile is \"-arch2\", the package's _srctag's is \"-arch1\"");
	/* past 64 characters: kbuild's limit */
	assert_int_equal(arch_version_split("6.6.1.arch1-1", &v, why, sizeof(why)), 0);
	assert_int_equal(arch_release_expect("linux-with-a-name-so-long-that-the-release-passes-sixty-four", &v, "", &rel,
					     why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "longer than 64"));
	assert_int_equal(arch_scheme_of("linux612-rt"), ARCH_SCHEME_MANJARO);
	assert_int_equal(arch_scheme_of("linux-lts"), ARCH_SCHEME_ARCH);
}

/* ---- a patch cut down to one folder ---- */

static const char series[] =
	"From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
	"From: Jan <jan@example.org>\n"
	"Subject: [PATCH 1/2] arch1\n"
	"\n"
	"---\n"
	" Makefile             | 2 +-\n"
	" drivers/net/dummy.c  | 2 +-\n"
	"\n"
	"diff --git a/Makefile b/Makefile\n"
	"index 1..2 100644\n"
	"--- a/Makefile\n"
	"+++ b/Makefile\n"
	"@@ -2,3 +2,3 @@ VERSION = 6\n"
	" PATCHLEVEL = 6\n"
	" SUBLEVEL = 1\n"
	"-EXTRAVERSION =\n"
	"+EXTRAVERSION = -arch1\n"
	"diff --git a/drivers/net/dummy.c b/drivers/net/dummy.c\n"
	"index 3..4 100644\n"
	"--- a/drivers/net/dummy.c\n"
	"+++ b/drivers/net/dummy.c\n"
	"@@ -1,3 +1,3 @@\n"
	" a\n"
	"-- removed line that looks like a signature\n"
	"+-- added\n"
	" c\n"
	"-- \n"
	"2.42.0\n"
	"\n"
	"From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001\n"
	"Subject: [PATCH 2/2] more\n"
	"\n"
	"diff --git a/drivers/net/dummy2.c b/drivers/net/dummy2.c\n"
	"new file mode 100644\n"
	"--- /dev/null\n"
	"+++ b/drivers/net/dummy2.c\n"
	"@@ -0,0 +1 @@\n"
	"+new\n"
	"diff --git a/drivers/net-extra/x.c b/drivers/net-extra/x.c\n"
	"--- a/drivers/net-extra/x.c\n"
	"+++ b/drivers/net-extra/x.c\n"
	"@@ -1 +1 @@\n"
	"-x\n"
	"+y\n"
	"-- \n"
	"2.42.0\n";

static void test_patch_filter(void **state)
{
	(void)state;
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(arch_patch_filter(series, strlen(series), "drivers/net", &out, &len), 0);
	const char want[] = "diff --git a/drivers/net/dummy.c b/drivers/net/dummy.c\n"
			    "index 3..4 100644\n"
			    "--- a/drivers/net/dummy.c\n"
			    "+++ b/drivers/net/dummy.c\n"
			    "@@ -1,3 +1,3 @@\n"
			    " a\n"
			    "-- removed line that looks like a signature\n"
			    "+-- added\n"
			    " c\n"
			    "diff --git a/drivers/net/dummy2.c b/drivers/net/dummy2.c\n"
			    "new file mode 100644\n"
			    "--- /dev/null\n"
			    "+++ b/drivers/net/dummy2.c\n"
			    "@@ -0,0 +1 @@\n"
			    "+new\n";
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	assert_int_equal(arch_patch_filter(series, strlen(series), "fs/btrfs", &out, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
	/* a plain diff -u, timestamps after a tab */
	const char plain[] = "--- a/fs/btrfs/ctree.c\t2023-01-01 00:00:00\n+++ b/fs/btrfs/ctree.c\t2023-01-02 00:00:00\n"
			     "@@ -1 +1 @@\n-a\n+b\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1 +1 @@\n-a\n+b\n";
	assert_int_equal(arch_patch_filter(plain, strlen(plain), "fs/btrfs", &out, &len), 0);
	assert_string_equal(out, "--- a/fs/btrfs/ctree.c\t2023-01-01 00:00:00\n+++ b/fs/btrfs/ctree.c\t2023-01-02 "
				 "00:00:00\n@@ -1 +1 @@\n-a\n+b\n");
	free(out);
}

/* ---- the sandbox's command line ---- */

/* The command line that runs the driver is the SDK's (kforge_run_sandboxed: tests/unit/test-util.c). */
static void test_pkgbuild_driver(void **state)
{
	(void)state;
	/* the driver never evaluates what the PKGBUILD printed: it reads variables and prints them */
	assert_non_null(strstr(arch_pkgbuild_driver, "source ./PKGBUILD 3>&-"));
	assert_non_null(strstr(arch_pkgbuild_driver, "exec 3>&1 1>&2"));
	assert_string_equal(ARCH_DRIVER_NAME, "kforge-pkgbuild.sh");
}

/* ---- small readers ---- */

static void test_read_line(void **state)
{
	(void)state;
	char *dir = unit_mkdtemp(), buf[16];
	unit_write(dir, "pkgbase", "linux-lts\n");
	unit_write(dir, "empty", "\n");
	unit_write(dir, "long", "linux-with-a-very-long-name\n");
	char *p = kforge_path_join(dir, "pkgbase", NULL);
	assert_int_equal(arch_read_line(p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "linux-lts");
	free(p);
	p = kforge_path_join(dir, "empty", NULL);
	assert_int_equal(arch_read_line(p, buf, sizeof(buf)), -EINVAL);
	free(p);
	p = kforge_path_join(dir, "long", NULL);
	assert_int_equal(arch_read_line(p, buf, sizeof(buf)), -EINVAL);
	free(p);
	p = kforge_path_join(dir, "missing", NULL);
	assert_int_equal(arch_read_line(p, buf, sizeof(buf)), -ENOENT);
	free(p);
	assert_int_equal(arch_read_line(dir, buf, sizeof(buf)), -EINVAL); /* a folder */
	unit_rm_rf(dir);
	free(dir);
}

static void test_gunzip(void **state)
{
	(void)state;
	char *dir = unit_mkdtemp();
	char *gz = kforge_path_join(dir, "config.gz", NULL), *out = kforge_path_join(dir, "config", NULL);
	gzFile f = gzopen(gz, "wb");
	const char text[] = "CONFIG_LOCALVERSION=\"\"\n# CONFIG_MODVERSIONS is not set\n";
	gzwrite(f, text, sizeof(text) - 1);
	gzclose(f);
	assert_int_equal(arch_gunzip(gz, out), 0);
	char *got = NULL;
	assert_int_equal(kforge_read_file(out, &got), 0);
	assert_string_equal(got, text);
	free(got);
	/* damaged: an error, and nothing left under either name */
	unit_write(dir, "bad.gz", "\x1f\x8b\x08\x00garbage that is no deflate stream at all");
	char *bad = kforge_path_join(dir, "bad.gz", NULL), *out2 = kforge_path_join(dir, "config2", NULL);
	assert_true(arch_gunzip(bad, out2) < 0);
	assert_int_equal(access(out2, F_OK), -1);
	char *tmp = NULL;
	assert_true(asprintf(&tmp, "%s.tmp%ld", out2, (long)getpid()) > 0);
	assert_int_equal(access(tmp, F_OK), -1);
	free(tmp);
	free(bad);
	free(out2);
	free(gz);
	free(out);
	unit_rm_rf(dir);
	free(dir);
}

static void test_gpgv_check(void **state)
{
	(void)state;
	char *keys[] = { "ABAF11C65A2970B130ABE3C479BE3E4300411886", "647F28654894E3BD457199BE38DBBDC86092693E" };
	char why[256];
	/* a subkey signed: VALIDSIG's last field is the primary key validpgpkeys names */
	const char good[] = "[GNUPG:] NEWSIG\n"
			    "[GNUPG:] GOODSIG 79BE3E4300411886 Linus Torvalds <torvalds@kernel.org>\n"
			    "[GNUPG:] VALIDSIG 1111111111111111111111111111111111111111 2023-11-08 1699440000 0 4 0 1 10 "
			    "00 ABAF11C65A2970B130ABE3C479BE3E4300411886\n";
	assert_int_equal(arch_gpgv_check(good, keys, 2, why, sizeof(why)), 0);
	const char lower[] = "[GNUPG:] GOODSIG X Y\n[GNUPG:] VALIDSIG 647f28654894e3bd457199be38dbbdc86092693e 2023-11-08 "
			     "1699440000 0 4 0 1 10 00 647f28654894e3bd457199be38dbbdc86092693e\n";
	assert_int_equal(arch_gpgv_check(lower, keys, 2, why, sizeof(why)), 0);
	const char other[] = "[GNUPG:] GOODSIG 0123 Someone\n[GNUPG:] VALIDSIG 2222222222222222222222222222222222222222 "
			     "2023-11-08 1699440000 0 4 0 1 10 00 2222222222222222222222222222222222222222\n";
	assert_int_equal(arch_gpgv_check(other, keys, 2, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "made by 2222222222222222222222222222222222222222, which validpgpkeys does not list"));
	const char badsig[] = "[GNUPG:] BADSIG 79BE3E4300411886 Linus Torvalds\n";
	assert_int_equal(arch_gpgv_check(badsig, keys, 2, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "BADSIG"));
	assert_int_equal(arch_gpgv_check("", keys, 2, why, sizeof(why)), -EBADMSG);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_version_split),
		cmocka_unit_test(test_version_equal),
		cmocka_unit_test(test_packaging_tag),
		cmocka_unit_test(test_packaging_url),
		cmocka_unit_test(test_check_ref),
		cmocka_unit_test(test_pkgname_valid),
		cmocka_unit_test(test_desc_parse),
		cmocka_unit_test_setup_teardown(test_pacman_find, db_setup, db_teardown),
		cmocka_unit_test_setup_teardown(test_pacman_damaged, db_setup, db_teardown),
		cmocka_unit_test(test_srcinfo_linux),
		cmocka_unit_test(test_srcinfo_git_and_arch),
		cmocka_unit_test(test_srcinfo_long_line_and_nul),
		cmocka_unit_test(test_source_kinds),
		cmocka_unit_test(test_release_bad),
		cmocka_unit_test(test_patch_filter),
		cmocka_unit_test(test_pkgbuild_driver),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_gunzip),
		cmocka_unit_test(test_gpgv_check),
	};
	struct CMUnitTest tests[ARRAY_SIZE(fixed) + ARRAY_SIZE(rvecs) + ARRAY_SIZE(bad_srcinfos)];
	char names[ARRAY_SIZE(rvecs) + ARRAY_SIZE(bad_srcinfos)][96];
	size_t n = 0, k = 0;
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < ARRAY_SIZE(rvecs); i++, k++) {
		snprintf(names[k], sizeof(names[k]), "release %s %s -> %s", rvecs[i].pkgbase, rvecs[i].version,
			 rvecs[i].release);
		tests[n++] = (struct CMUnitTest){ .name = names[k], .test_func = test_release_vector,
						  .initial_state = (void *)&rvecs[i] };
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_srcinfos); i++, k++) {
		snprintf(names[k], sizeof(names[k]), ".SRCINFO refused: %s", bad_srcinfos[i].name);
		tests[n++] = (struct CMUnitTest){ .name = names[k], .test_func = test_srcinfo_bad,
						  .initial_state = (void *)&bad_srcinfos[i] };
	}
	return _cmocka_run_group_tests("arch", tests, n, NULL, NULL);
}
