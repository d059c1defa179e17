/* source.c: the arch plugin's steps: installed package -> packaging repository -> verified sources -> a tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <kforge/kforge.h>
#include <kforge/fetch.h>

#include "arch.h"
#include "source.h"

#define ARCH_URL ARCH_DEFAULT_URL
/* Manjaro keeps a repository per kernel series: gitlab.manjaro.org/packages/core/linux612 */
#define MANJARO_URL "https://gitlab.manjaro.org/packages/core/%s.git"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* makepkg's CARCH for the target: from its configuration, else the machine kforge runs on. */
static void target_carch(struct kforge_job *job, char *buf, size_t size)
{
	const char *y;
	if ((y = kforge_job_kconfig(job, "CONFIG_X86_64")) && strcmp(y, "y") == 0)
		snprintf(buf, size, "x86_64");
	else if ((y = kforge_job_kconfig(job, "CONFIG_ARM64")) && strcmp(y, "y") == 0)
		snprintf(buf, size, "aarch64");
	else if ((y = kforge_job_kconfig(job, "CONFIG_X86_32")) && strcmp(y, "y") == 0)
		snprintf(buf, size, "i686");
	else {
		struct utsname u;
		snprintf(buf, size, "%.31s", uname(&u) == 0 ? u.machine : "x86_64");
	}
}

void arch_pkg_free(struct arch_pkg *pkg)
{
	free(pkg->url);
	pkg->url = NULL;
}

int arch_package(struct kforge_job *job, struct arch_pkg *pkg, char *why, size_t whysize)
{
	memset(pkg, 0, sizeof(*pkg));
	_arch_cleanup_free_ char *pb = kforge_path_join(kforge_job_modules_dir(job), "pkgbase", NULL);
	if (!pb)
		return -ENOMEM;
	int r = arch_read_line(pb, pkg->pkgbase, sizeof(pkg->pkgbase));
	if (r == -ENOENT) {
		snprintf(why, whysize, "%s has no pkgbase file: no package names this kernel",
			 kforge_job_display_path(job, kforge_job_modules_dir(job)));
		return -ENOENT;
	}
	if (r < 0 || !arch_pkgname_valid(pkg->pkgbase)) {
		snprintf(why, whysize, "%s is damaged (one line, a package name like linux-lts, is expected): "
				       "reinstall the kernel's package",
			 kforge_job_display_path(job, pb));
		return -EINVAL;
	}
	pkg->has_pkgbase = true;
	_arch_cleanup_free_ char *localdb = kforge_path_find(kforge_job_root(job), "/var/lib/pacman/local");
	if (!localdb) {
		snprintf(why, whysize, "%s belongs to the package %s, but there is no pacman database "
				       "(/var/lib/pacman/local) under the root: pass --source with the kernel's source tree",
			 kforge_job_kernel(job), pkg->pkgbase);
		return -ENOENT;
	}
	char reason[768];
	r = arch_pacman_find(localdb, pkg->pkgbase, &pkg->ver, reason, sizeof(reason));
	if (r < 0) {
		snprintf(why, whysize, "%s", reason);
		return r;
	}
	arch_version_string(&pkg->ver, pkg->version, sizeof(pkg->version));
	arch_packaging_tag(&pkg->ver, pkg->tag, sizeof(pkg->tag));
	const char *fmt = kforge_plugin_config_get(job, "packaging_url");
	if (!fmt || !fmt[0])
		fmt = ARCH_URL;
	/* Arch's default on a Manjaro kernel means Manjaro's GitLab (said in the setting's help) */
	if (strcmp(fmt, ARCH_URL) == 0 && ends_with(kforge_job_kernel(job), "-MANJARO")) {
		fmt = MANJARO_URL;
		pkg->manjaro = true;
	}
	pkg->url = arch_packaging_url(fmt, pkg->pkgbase);
	if (!pkg->url)
		return -ENOMEM;
	const char *ref = kforge_plugin_config_get(job, "packaging_ref");
	if (ref && ref[0])
		snprintf(pkg->ref, sizeof(pkg->ref), "%s", ref);
	else
		snprintf(pkg->ref, sizeof(pkg->ref), "tag=%s", pkg->tag);
	target_carch(job, pkg->carch, sizeof(pkg->carch));
	return 0;
}

int arch_setup(struct kforge_job *job)
{
	/* facts for `kforge info`; nothing here fails the job: the steps that need them say why */
	struct arch_pkg pkg;
	char why[1024];
	int r = arch_package(job, &pkg, why, sizeof(why));
	if (!pkg.has_pkgbase) {
		arch_pkg_free(&pkg);
		return 0;
	}
	kforge_job_add_fact(job, "arch.pkgbase", pkg.pkgbase);
	if (r < 0) {
		kforge_job_add_fact(job, "arch.package", why);
		arch_pkg_free(&pkg);
		return 0;
	}
	char buf[512];
	snprintf(buf, sizeof(buf), "%s %s", pkg.pkgbase, pkg.version);
	kforge_job_add_fact(job, "arch.package", buf);
	kforge_job_add_fact(job, "arch.packaging_url", pkg.url);
	kforge_job_add_fact(job, "arch.packaging_ref", pkg.ref);
	struct arch_release rel;
	if (arch_release_expect(pkg.pkgbase, &pkg.ver, kforge_job_kconfig(job, "CONFIG_LOCALVERSION"), &rel, why,
				sizeof(why)) == 0) {
		snprintf(buf, sizeof(buf), "%s%s", rel.release,
			 strcmp(rel.release, kforge_job_kernel(job)) == 0 ? "" : " (not the target kernel)");
		kforge_job_add_fact(job, "arch.package_release", buf);
	}
	arch_pkg_free(&pkg);
	return 0;
}

/* ---- the PKGBUILD, when the repository has no .SRCINFO ---- */

static int write_text(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			close(fd);
			return e;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0)
		return -errno;
	return 0;
}

int arch_pkgbuild_eval(struct kforge_job *job, const struct arch_eval *ev, const char *pkgbuild, size_t len,
		       char **out)
{
	*out = NULL;
	if (kforge_job_is_plan(job)) {
		_arch_cleanup_free_ char *bwrap = ev->no_bwrap ? NULL : kforge_find_program("bwrap");
		kforge_plan_note(job, "the repository has no .SRCINFO: its PKGBUILD is evaluated by bash as %s, %s, and "
				      "its sources are listed then",
				 ev->user, bwrap ? "in bubblewrap without network, the system read-only"
						 : "in a network namespace of its own (no bubblewrap)");
		return -EAGAIN;
	}
	char dir[] = "/tmp/kforge-pkgbuild-XXXXXX";
	if (!mkdtemp(dir))
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make a folder for the PKGBUILD in /tmp: %s",
				       strerror(errno));
	char pb[64], drv[64];
	snprintf(pb, sizeof(pb), "%s/PKGBUILD", dir);
	snprintf(drv, sizeof(drv), "%s/%s", dir, ARCH_DRIVER_NAME);
	int r = write_text(pb, pkgbuild, len, 0644);
	if (r == 0)
		r = write_text(drv, arch_pkgbuild_driver, strlen(arch_pkgbuild_driver), 0644);
	/* the build user reads the two files; nobody but root writes there */
	if (r == 0 && chmod(dir, 0755) < 0)
		r = -errno;
	int status = -1;
	if (r == 0) {
		/* the folder is its working directory, read-only; the global scope of a PKGBUILD takes
		 * milliseconds: one that hangs is killed */
		const char *const readable[] = { dir, NULL };
		const char *const argv[] = { "bash", "--noprofile", "--norc", "./" ARCH_DRIVER_NAME, ev->carch, NULL };
		struct kforge_sandbox sb = {
			.user = ev->user,
			.user_setting = "[plugin.arch] build_user",
			.readable = readable,
			.timeout = 60,
			.no_bwrap = ev->no_bwrap,
		};
		status = kforge_run_sandboxed(job, dir, argv, &sb, out);
	}
	unlink(pb);
	unlink(drv);
	rmdir(dir);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot set up the PKGBUILD's evaluation in %s: %s", dir,
				       strerror(-r));
	if (status == -ECANCELED) /* the build user: the job failed naming it */
		return status;
	if (status != 0) {
		free(*out);
		*out = NULL;
		return kforge_job_fail(job, KFORGE_EXIT_BUILD,
				       "the PKGBUILD could not be evaluated (%s %d): see the log; a PKGBUILD whose global "
				       "scope needs the network or writes outside /tmp cannot be read without running it "
				       "as makepkg does, which kforge does not",
				       status < 0 ? "error" : "exit", status < 0 ? -status : status);
	}
	return 0;
}

/* ---- the sources ---- */

/* The keyring signatures are checked with: [plugin.arch] keyring, else [sources] keyring; NULL: none. */
static const char *keyring_setting(struct kforge_job *job)
{
	const char *k = kforge_plugin_config_get(job, "keyring");
	if (k && k[0])
		return k;
	/* the core's key once helper "fetch" adds it (NULL, an unknown key, before that) */
	k = kforge_config_get(kforge_job_ctx(job), "sources.keyring");
	return k && k[0] ? k : NULL;
}

/* Is source I signed by a signature source that will be checked? */
static bool covered(const struct arch_srcinfo *si, size_t i, bool checking)
{
	if (!checking)
		return false;
	for (size_t j = 0; j < si->n_sources; j++) {
		size_t t;
		bool dec;
		if (arch_is_signature(si->sources[j].name) && arch_signature_target(si, j, &t, &dec) == 0 && t == i)
			return true;
	}
	return false;
}

struct fetched {
	char **path;		/* host paths of the verified files, by source index */
	char (*oid)[41];	/* git sources: their commits */
};

static void fetched_free(struct fetched *f, size_t n)
{
	for (size_t i = 0; f->path && i < n; i++)
		free(f->path[i]);
	free(f->path);
	free(f->oid);
}

static int fetch_all(struct kforge_job *job, const struct arch_pkg *pkg, const struct arch_srcinfo *si,
		     const char *oid, bool checking, struct fetched *f)
{
	f->path = calloc(si->n_sources ? si->n_sources : 1, sizeof(*f->path));
	f->oid = calloc(si->n_sources ? si->n_sources : 1, sizeof(*f->oid));
	if (!f->path || !f->oid)
		return -ENOMEM;
	_arch_cleanup_free_ char *pkgdir = NULL;
	for (size_t i = 0; i < si->n_sources; i++) {
		const struct arch_source *s = &si->sources[i];
		char sum[200];
		const char *checksum = arch_source_checksum(s, sum, sizeof(sum));
		int r;
		if (s->kind == ARCH_SOURCE_GIT) {
			r = kforge_git_fetch(job, s->url, s->ref, f->oid[i]);
			if (r < 0 && r != -ECANCELED)
				return kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot fetch %s (%s%s): %s", s->name,
						       s->url, s->ref ? s->ref : "", strerror(-r));
			if (r < 0)
				return r;
			continue;
		}
		if (!checksum && s->kind == ARCH_SOURCE_URL && !arch_is_signature(s->name) && !covered(si, i, checking))
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "%s (%s) has no checksum in %s %s's sources (%s) and no signature kforge "
					       "checks: it is refused; set [plugin.arch] keyring if validpgpkeys signs it",
					       s->name, s->url, pkg->pkgbase, pkg->version, s->skip ? "SKIP" : "none");
		_arch_cleanup_free_ char *url = NULL;
		if (s->kind == ARCH_SOURCE_LOCAL) {
			/* a file of the packaging repository itself: taken from its commit, verified like any */
			if (!pkgdir) {
				if (!(pkgdir = kforge_strdup_printf("%s/src/arch-packaging-%s", kforge_job_cache_dir(job), oid)))
					return -ENOMEM;
				if (!kforge_is_dir(pkgdir) && !kforge_job_is_plan(job)) {
					r = kforge_git_export(job, oid, NULL, pkgdir);
					if (r < 0 && r != -ECANCELED)
						return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
								       "cannot write the packaging repository's files into "
								       "%s: %s",
								       pkgdir, strerror(-r));
					if (r < 0)
						return r;
				}
			}
			if (!(url = kforge_strdup_printf("file://%s/%s", pkgdir, s->name)))
				return -ENOMEM;
		}
		r = kforge_fetch(job, url ? url : s->url, s->name, checksum, &f->path[i]);
		if (r < 0 && r != -ECANCELED)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot fetch %s from %s: %s", s->name,
					       url ? url : s->url, strerror(-r));
		if (r < 0)
			return r;
	}
	return 0;
}

static int arch_decompress(struct kforge_job *job, const char *src, const char *dst);

/* gpgv over each signature whose key validpgpkeys names, with the configured keyring. */
static int check_signatures(struct kforge_job *job, const struct arch_srcinfo *si, struct fetched *f,
			    const char *keyring, const char *scratch)
{
	for (size_t j = 0; j < si->n_sources; j++) {
		const char *sig = si->sources[j].name;
		size_t t;
		bool dec;
		if (!arch_is_signature(sig))
			continue;
		if (arch_signature_target(si, j, &t, &dec) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "the signature %s signs no source of the package (makepkg would refuse it too)",
					       sig);
		if (!f->path[j] || !f->path[t])
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "the signature %s is of %s, which is no file kforge fetched (a git source?)",
					       sig, si->sources[t].name);
		_arch_cleanup_free_ char *data = NULL;
		if (dec) {
			/* linux-6.6.1.tar.sign signs the .tar inside linux-6.6.1.tar.xz */
			if (!(data = kforge_strdup_printf("%s/%.*s", scratch, (int)(strlen(sig) - (ends_with(sig, ".sign") ? 5 : 4)), sig)))
				return -ENOMEM;
			int r = arch_decompress(job, f->path[t], data);
			if (r < 0)
				return r;
		}
		const char *argv[] = { "gpgv", "--status-fd", "1", "--keyring", keyring, f->path[j],
				       data ? data : f->path[t], NULL };
		_arch_cleanup_free_ char *status = NULL;
		int rc = kforge_run_capture(job, NULL, argv, &status);
		if (data && !kforge_job_is_plan(job))
			unlink(data);
		if (kforge_job_is_plan(job))
			continue;
		char why[512];
		if (rc != 0 || arch_gpgv_check(status ? status : "", si->keys, si->n_keys, why, sizeof(why)) < 0) {
			if (rc != 0)
				snprintf(why, sizeof(why), "gpgv exited %d (see the log)", rc);
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "the signature %s of %s does not verify with the keyring %s: %s; nothing is "
					       "built from it",
					       sig, si->sources[t].name, keyring, why);
		}
	}
	return 0;
}

static int arch_decompress(struct kforge_job *job, const char *src, const char *dst)
{
	if (kforge_job_is_plan(job)) {
		kforge_plan_note(job, "decompress %s into %s", src, dst);
		return 0;
	}
	int r = kforge_decompress(job, src, dst);
	if (r < 0 && r != -ECANCELED)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot decompress %s: %s", src, strerror(-r));
	return r;
}

/* Copies SRC into DST (a new file). */
static int copy_file(const char *src, const char *dst)
{
	_arch_cleanup_free_ char *text = NULL;
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20)) {
		close(fd);
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size)
		return -EIO;
	return write_text(dst, text, (size_t)n, 0644);
}

static int write_line(const char *dir, const char *name, const char *value)
{
	_arch_cleanup_free_ char *path = kforge_strdup_printf("%s/%s", dir, name);
	_arch_cleanup_free_ char *text = kforge_strdup_printf("%s\n", value);
	if (!path || !text)
		return -ENOMEM;
	unlink(path);
	return write_text(path, text, strlen(text), 0644);
}

/* Applies patch source I (decompressed first; cut down to SUBDIR when set) to TREE. */
static int apply_patch(struct kforge_job *job, const struct arch_srcinfo *si, size_t i, const struct fetched *f,
		       const char *tree, const char *scratch, const char *subdir)
{
	const char *name = si->sources[i].name;
	char plain[512];
	arch_is_patch(name, plain, sizeof(plain));
	_arch_cleanup_free_ char *file = NULL;
	if (!f->path[i])
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s was not fetched", name);
	if (arch_compression_suffix(name)) {
		if (!(file = kforge_strdup_printf("%s/%s", scratch, plain)))
			return -ENOMEM;
		int r = arch_decompress(job, f->path[i], file);
		if (r < 0)
			return r;
	} else if (!(file = strdup(f->path[i]))) {
		return -ENOMEM;
	}
	if (subdir && !kforge_job_is_plan(job)) {
		_arch_cleanup_free_ char *text = NULL, *cut = NULL, *only = NULL;
		size_t cutlen = 0;
		int r = kforge_read_file(file, &text);
		if (r < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
					       "cannot read %s to take its changes to %s: %s; use --strategy full", file,
					       subdir, strerror(-r));
		r = arch_patch_filter(text, strlen(text), subdir, &cut, &cutlen);
		if (r < 0)
			return r;
		if (cutlen == 0) {
			kforge_plan_note(job, "%s changes nothing in %s/", plain, subdir);
			return 0;
		}
		if (!(only = kforge_strdup_printf("%s/%s.only", scratch, plain)))
			return -ENOMEM;
		unlink(only);
		if ((r = write_text(only, cut, cutlen, 0644)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write %s: %s", only, strerror(-r));
		free(file);
		file = only;
		only = NULL;
	}
	if (kforge_runl(job, tree, "patch", "-Np1", "-i", file, NULL) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD,
				       "%s does not apply to the %s %s tree (patch -Np1 failed: see the log): the package's "
				       "sources do not fit together",
				       plain, si->pkgbase, si->pkgver);
	return 0;
}

/*
 * The tree: the kernel source unpacked (or exported) under a temporary name, the patches
 * applied in prepare()'s order, the localversion files written, then renamed into place.
 */
static int build_tree(struct kforge_job *job, const struct arch_pkg *pkg, const struct arch_srcinfo *si,
		      const struct arch_release *rel, const struct fetched *f, const char *final, const char *subdir,
		      const char *tmp, const char *scratch)
{
	bool plan = kforge_job_is_plan(job);
	const char *key_subdir = subdir; /* what the tree's name and stamp say, even when a git tree is whole */
	ssize_t k = arch_srcinfo_kernel(si);
	int r;
	if (k < 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "no kernel tree among %s %s's sources (a git+ source, or a tarball linux-*.tar.*)",
				       pkg->pkgbase, pkg->version);
	const struct arch_source *ks = &si->sources[k];
	if (ks->kind == ARCH_SOURCE_GIT) {
		/* the whole tree: what a folder of a git source holds is kforge_git_export's to say */
		if (plan)
			kforge_plan_note(job, "export %s at %s (commit of %s) into %s", ks->url, ks->ref ? ks->ref : "HEAD",
					 ks->name, final);
		else if ((r = kforge_git_export(job, f->oid[k], NULL, tmp)) < 0)
			return r == -ECANCELED ? r
					       : kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot export %s into %s: %s",
								 ks->name, tmp, strerror(-r));
		subdir = NULL;
	} else if (plan) {
		kforge_plan_note(job, "unpack %s%s%s into %s", ks->name, subdir ? ", only " : "", subdir ? subdir : "",
				 final);
	} else if ((r = kforge_unpack(job, f->path[k], subdir, tmp)) < 0) {
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot unpack %s into %s: %s", ks->name,
							 tmp, strerror(-r));
	}
	if (!plan && mkdir(scratch, 0700) < 0 && errno != EEXIST)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s", scratch, strerror(errno));
	/* prepare()'s order: kernel.org's incremental patch first (Manjaro), then *.patch as listed */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < si->n_sources; i++) {
			char plain[512];
			if (!arch_is_patch(si->sources[i].name, plain, sizeof(plain)) ||
			    (strncmp(plain, "patch-", 6) == 0 && !ends_with(plain, ".patch")) != (pass == 0))
				continue;
			if ((r = apply_patch(job, si, i, f, plan ? final : tmp, scratch, subdir)) < 0)
				return r;
		}
	if (rel->localversion_files) {
		kforge_plan_note(job, "localversion.10-pkgrel \"%s\" and localversion.20-pkgname \"%s\", as the "
				      "PKGBUILD's prepare() writes them",
				 rel->localversion_10, rel->localversion_20);
		if (!plan && ((r = write_line(tmp, "localversion.10-pkgrel", rel->localversion_10)) < 0 ||
			      (r = write_line(tmp, "localversion.20-pkgname", rel->localversion_20)) < 0))
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write localversion files in %s: %s",
					       tmp, strerror(-r));
	}
	ssize_t c = arch_srcinfo_config(si, pkg->carch);
	if (c >= 0 && !plan) {
		char dst[4200];
		snprintf(dst, sizeof(dst), "%s/" ARCH_TREE_CONFIG, tmp);
		unlink(dst);
		if ((r = copy_file(f->path[c], dst)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot copy %s into %s: %s",
					       si->sources[c].name, tmp, strerror(-r));
	}
	if (plan)
		return 0;
	/* the stamp, written last, says what the tree is (checked when it is found again) */
	char stamp[1024];
	snprintf(stamp, sizeof(stamp), "%s %s %s", pkg->pkgbase, pkg->version, key_subdir ? key_subdir : "(all)");
	if ((r = write_line(tmp, ARCH_TREE_STAMP, stamp)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write %s/%s: %s", tmp, ARCH_TREE_STAMP,
				       strerror(-r));
	if (rename(tmp, final) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot rename %s to %s: %s", tmp, final,
					       strerror(errno));
		/* another kforge finished the same tree first: its tree is as good as ours */
		kforge_remove_tree(tmp);
	}
	return 0;
}

/* The tree's cache key: one per package version (and folder, for the headers strategy). */
static char *tree_path(struct kforge_job *job, const struct arch_pkg *pkg, const char *subdir)
{
	char sub[300] = "";
	if (subdir) {
		snprintf(sub, sizeof(sub), "-only-%s", subdir);
		for (char *c = sub; *c; c++)
			if (*c == '/')
				*c = '_';
	}
	return kforge_strdup_printf("%s/src/arch-%s-%s%s", kforge_job_cache_dir(job), pkg->pkgbase, pkg->tag, sub);
}

static int read_srcinfo(struct kforge_job *job, const struct arch_pkg *pkg, const char *oid, struct arch_srcinfo *si)
{
	_arch_cleanup_free_ char *text = NULL;
	size_t len = 0;
	const char *what = ".SRCINFO";
	int r = kforge_git_read(job, oid, ".SRCINFO", &text, &len);
	if (r == -ENOENT) {
		what = "the PKGBUILD's evaluation";
		_arch_cleanup_free_ char *pkgbuild = NULL;
		size_t plen = 0;
		r = kforge_git_read(job, oid, "PKGBUILD", &pkgbuild, &plen);
		if (r == -ENOENT)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "%s at %s has neither .SRCINFO nor PKGBUILD: is it a packaging repository? "
					       "check [plugin.arch] packaging_url",
					       pkg->url, pkg->ref);
		if (r == 0) {
			const char *user = kforge_plugin_config_get(job, "build_user");
			/* empty: [build] user (kforge_run_sandboxed) */
			struct arch_eval ev = { .user = user, .carch = pkg->carch };
			r = arch_pkgbuild_eval(job, &ev, pkgbuild, plen, &text);
			if (r == -EAGAIN)
				return r; /* plan mode: said in the plan */
			if (r == 0)
				len = strlen(text);
		}
	}
	if (r < 0)
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot read %s at %s: %s", pkg->url,
							 pkg->ref, strerror(-r));
	char why[768];
	if (arch_srcinfo_parse(text, len, pkg->carch, si, why, sizeof(why)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s of %s at %s: %s", what, pkg->url, pkg->ref, why);
	struct arch_pkgver got = { "", "", "" };
	snprintf(got.epoch, sizeof(got.epoch), "%s", si->epoch ? si->epoch : "");
	snprintf(got.pkgver, sizeof(got.pkgver), "%s", si->pkgver);
	snprintf(got.pkgrel, sizeof(got.pkgrel), "%s", si->pkgrel);
	char gotv[256];
	arch_version_string(&got, gotv, sizeof(gotv));
	if (strcmp(si->pkgbase, pkg->pkgbase) != 0 || !arch_version_equal(&got, &pkg->ver)) {
		r = kforge_job_fail(job, KFORGE_EXIT_MISSING,
				    "%s at %s is %s %s, but the installed package is %s %s: set [plugin.arch] "
				    "packaging_ref to the commit of %s %s, or pass --source",
				    pkg->url, pkg->ref, si->pkgbase, gotv, pkg->pkgbase, pkg->version, pkg->pkgbase,
				    pkg->version);
		arch_srcinfo_free(si);
		return r;
	}
	kforge_plan_note(job, "%s: %zu sources, %zu signing keys", what, si->n_sources, si->n_keys);
	return 0;
}

int arch_locate_source(struct kforge_job *job)
{
	if (kforge_job_module_kind(job) == KFORGE_MODULE_EXTERNAL || kforge_job_source(job))
		return kforge_default_locate_source(job);
	struct arch_pkg pkg;
	char why[1024];
	int r = arch_package(job, &pkg, why, sizeof(why));
	if (!pkg.has_pkgbase) {
		/* not a packaged kernel: the core's default, which asks for --source */
		arch_pkg_free(&pkg);
		return kforge_default_locate_source(job);
	}
	if (r < 0) {
		arch_pkg_free(&pkg);
		return r == -ENOMEM ? r : kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s", why);
	}
	const char *kver = kforge_job_kernel(job);
	struct arch_release rel;
	char what[512];
	snprintf(what, sizeof(what), "the release %s %s builds", pkg.pkgbase, pkg.version);
	if (arch_release_expect(pkg.pkgbase, &pkg.ver, kforge_job_kconfig(job, "CONFIG_LOCALVERSION"), &rel, why,
				sizeof(why)) < 0 ||
	    arch_release_check(what, rel.release, NULL, kver, why, sizeof(why)) < 0) {
		arch_pkg_free(&pkg);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s: the installed package's sources are not this kernel's; pass --source with %s's "
				       "source tree",
				       why, kver);
	}
	/* said before anything is fetched: a plan shows where the sources come from even offline */
	kforge_plan_note(job, "%s %s (pacman's database) built %s: packaging repository %s at %s%s", pkg.pkgbase,
			 pkg.version, kver, pkg.url, pkg.ref,
			 pkg.manjaro ? " (Manjaro's GitLab; whether it tags each version is not verified: "
				       "[plugin.arch] packaging_ref = branch=master reads its newest)"
				     : "");
	char sub[256];
	const char *subdir = kforge_job_headers_subdir(job, sub, sizeof(sub)) == 0 ? sub : NULL;
	_arch_cleanup_free_ char *final = tree_path(job, &pkg, subdir);
	_arch_cleanup_free_ char *stamp = final ? kforge_path_join(final, ARCH_TREE_STAMP, NULL) : NULL;
	if (!stamp) {
		arch_pkg_free(&pkg);
		return -ENOMEM;
	}
	char want[1024], got[1024];
	snprintf(want, sizeof(want), "%s %s %s", pkg.pkgbase, pkg.version, subdir ? subdir : "(all)");
	if (arch_read_line(stamp, got, sizeof(got)) == 0 && strcmp(got, want) == 0) {
		kforge_plan_note(job, "the %s %s tree %s is ready from an earlier run", pkg.pkgbase, pkg.version, final);
		arch_pkg_free(&pkg);
		r = kforge_job_set_source_dir(job, final);
		return r < 0 ? r : kforge_default_locate_source(job);
	}
	if (kforge_is_dir(final) && !kforge_job_is_plan(job)) {
		/* a tree is renamed into place whole, stamp included: one without it was damaged since */
		kforge_plan_note(job, "%s has no stamp saying it is complete: made again", final);
		kforge_remove_tree(final);
	}
	char oid[41] = "";
	r = kforge_git_fetch(job, pkg.url, pkg.ref, oid);
	/* a plan fetches nothing: 40 zeros when the store lacks the tag */
	if (r < 0 || !oid[0] || strspn(oid, "0") == 40) {
		if (r == -ECANCELED || !kforge_job_is_plan(job)) {
			if (r != -ECANCELED)
				r = kforge_job_fail(job, KFORGE_EXIT_MISSING,
						    "cannot fetch the packaging repository %s at %s: %s: check [plugin.arch] "
						    "packaging_url and packaging_ref, or pass --source",
						    pkg.url, pkg.ref, r < 0 ? strerror(-r) : "no commit");
			arch_pkg_free(&pkg);
			return r;
		}
		kforge_plan_note(job, "the packaging repository is not fetched in a plan: its .SRCINFO names the "
				      "sources, which kforge install fetches, verifies and unpacks into %s",
				 final);
		arch_pkg_free(&pkg);
		r = kforge_job_set_source_dir(job, final);
		return r < 0 ? r : kforge_default_locate_source(job);
	}
	struct arch_srcinfo si;
	r = read_srcinfo(job, &pkg, oid, &si);
	if (r == -EAGAIN) {
		arch_pkg_free(&pkg);
		r = kforge_job_set_source_dir(job, final);
		return r < 0 ? r : kforge_default_locate_source(job);
	}
	if (r < 0) {
		arch_pkg_free(&pkg);
		return r;
	}
	const char *keyring = keyring_setting(job);
	_arch_cleanup_free_ char *keyring_host = keyring ? kforge_path_find(kforge_job_root(job), keyring) : NULL;
	if (keyring && !keyring_host) {
		arch_srcinfo_free(&si);
		arch_pkg_free(&pkg);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "the keyring %s ([plugin.arch] keyring or [sources] keyring) does not exist under "
				       "the root: create it (gpg --export KEYS > %s) or unset the setting",
				       keyring, keyring);
	}
	bool checking = keyring_host && si.n_keys > 0;
	if (!checking)
		kforge_plan_note(job, "signatures are not checked (%s): the sources are verified by their checksums "
				      "only",
				 si.n_keys == 0 ? "the package names no validpgpkeys"
						: "no keyring: set [plugin.arch] keyring to a gpgv keyring holding "
						  "validpgpkeys' keys");
	char tmp[4096], scratch[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", final, (long)getpid());
	snprintf(scratch, sizeof(scratch), "%s.work-%ld", final, (long)getpid());
	struct fetched f = { NULL, NULL };
	_arch_cleanup_free_ char *srcdir = kforge_strdup_printf("%s/src", kforge_job_cache_dir(job));
	if (!srcdir)
		r = -ENOMEM;
	else if (!kforge_job_is_plan(job) && (r = kforge_mkdir_p(srcdir)) < 0)
		r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s", srcdir, strerror(-r));
	if (r == 0)
		r = fetch_all(job, &pkg, &si, oid, checking, &f);
	if (r == 0 && !kforge_job_is_plan(job) && mkdir(scratch, 0700) < 0 && errno != EEXIST)
		r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s", scratch, strerror(errno));
	if (r == 0 && checking)
		r = check_signatures(job, &si, &f, keyring_host, scratch);
	if (r == 0) {
		if (!kforge_job_is_plan(job))
			kforge_remove_tree(tmp); /* a pid's leftover */
		r = build_tree(job, &pkg, &si, &rel, &f, final, subdir, tmp, scratch);
	}
	if (!kforge_job_is_plan(job)) {
		kforge_remove_tree(scratch);
		if (r < 0)
			kforge_remove_tree(tmp);
	}
	fetched_free(&f, si.n_sources);
	arch_srcinfo_free(&si);
	arch_pkg_free(&pkg);
	if (r < 0)
		return r;
	if (subdir)
		kforge_plan_note(job, "only %s/ of the source is unpacked (--strategy headers), with the patches' changes "
				      "to it",
				 subdir);
	r = kforge_job_set_source_dir(job, final);
	return r < 0 ? r : kforge_default_locate_source(job);
}

/* ---- derive version ---- */

/* The localversion* files of TREE in name order, their contents joined (setlocalversion's view). */
static int tree_localversions(const char *tree, char *buf, size_t size)
{
	struct dirent **list = NULL;
	int n = scandir(tree, &list, NULL, alphasort);
	if (n < 0)
		return -errno;
	buf[0] = '\0';
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		if (r == 0 && strncmp(name, "localversion", 12) == 0 && !ends_with(name, "~")) {
			char path[4096], line[128];
			snprintf(path, sizeof(path), "%s/%s", tree, name);
			if (arch_read_line(path, line, sizeof(line)) == 0) {
				if (strlen(buf) + strlen(line) >= size)
					r = -ENAMETOOLONG;
				else
					strcat(buf, line);
			}
		}
		free(list[i]);
	}
	free(list);
	return r;
}

/* build.cc_launcher, as the core's default derive step adds it (ccache gcc-13) */
static int cc_launcher(struct kforge_job *job)
{
	const char *launcher = kforge_config_get(kforge_job_ctx(job), "build.cc_launcher");
	if (!launcher || !launcher[0])
		return 0;
	const char *text = kforge_job_kconfig(job, "CONFIG_CC_VERSION_TEXT");
	char cc[64] = "gcc", var[256];
	if (text && (strncmp(text, "gcc", 3) == 0 || strncmp(text, "clang", 5) == 0))
		snprintf(cc, sizeof(cc), "%.*s", (int)strcspn(text, " "), text);
	snprintf(var, sizeof(var), "CC=%s %s", launcher, cc);
	return kforge_job_add_make_var(job, var);
}

int arch_derive_version(struct kforge_job *job)
{
	if (kforge_job_module_kind(job) == KFORGE_MODULE_EXTERNAL || kforge_job_source(job) ||
	    kforge_job_strategy(job) != KFORGE_STRATEGY_FULL)
		return kforge_default_derive_version(job);
	struct arch_pkg pkg;
	char why[1024];
	int r = arch_package(job, &pkg, why, sizeof(why));
	if (!pkg.has_pkgbase || r < 0) {
		arch_pkg_free(&pkg);
		return kforge_default_derive_version(job);
	}
	const char *kver = kforge_job_kernel(job);
	const char *lv = kforge_job_kconfig(job, "CONFIG_LOCALVERSION");
	struct arch_release rel;
	char what[512];
	snprintf(what, sizeof(what), "the release %s %s builds", pkg.pkgbase, pkg.version);
	r = arch_release_expect(pkg.pkgbase, &pkg.ver, lv, &rel, why, sizeof(why));
	if (r == 0)
		r = arch_release_check(what, rel.release, NULL, kver, why, sizeof(why));
	arch_pkg_free(&pkg);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s: kforge cannot reproduce %s from this package", why,
				       kver);
	const char *tree = kforge_job_source_dir(job);
	_arch_cleanup_free_ char *mk = tree ? kforge_path_join(tree, "Makefile", NULL) : NULL;
	_arch_cleanup_free_ char *text = NULL;
	if (mk && access(mk, F_OK) == 0) {
		char version[64], extra[80], lvs[256], model[128];
		if (kforge_read_file(mk, &text) < 0 ||
		    kforge_makefile_version(text, version, sizeof(version), extra, sizeof(extra)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s has no VERSION, PATCHLEVEL and SUBLEVEL: is %s "
									 "a kernel source tree?",
					       mk, tree);
		/* the Makefile's version and the patch's EXTRAVERSION must be what pkgver says (_srctag) */
		snprintf(what, sizeof(what), "the Makefile's version in %s", tree);
		if (arch_release_check(what, version, "pkgver's", rel.version, why, sizeof(why)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s: not the package's source", why);
		snprintf(what, sizeof(what), "EXTRAVERSION in %s's Makefile", tree);
		if (!rel.make_var[0] &&
		    arch_release_check(what, extra, "the package's _srctag's", rel.extraversion, why, sizeof(why)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
					       "%s: the patch does not set it as the package was built; the module would not "
					       "load",
					       why);
		if (tree_localversions(tree, lvs, sizeof(lvs)) < 0 ||
		    arch_setlocalversion(version, rel.make_var[0] ? rel.make_var + strlen("EXTRAVERSION=") : extra, lvs,
					 lv, model, sizeof(model)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot read the localversion files of %s", tree);
		snprintf(what, sizeof(what), "the release the tree %s makes (Makefile, localversion files, "
					     "CONFIG_LOCALVERSION)",
			 tree);
		if (arch_release_check(what, model, NULL, kver, why, sizeof(why)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s: the module would not load", why);
	} else {
		kforge_plan_note(job, "the tree's Makefile and localversion files are checked against %s once unpacked",
				 kver);
	}
	if (rel.make_var[0]) {
		kforge_plan_note(job, "release %s: %s + %s on make's command line (prepare() sets it in the Makefile) + "
				      "CONFIG_LOCALVERSION \"%s\"",
				 kver, rel.version, rel.make_var, lv ? lv : "");
		if ((r = kforge_job_add_make_var(job, rel.make_var)) < 0)
			return r;
	} else {
		kforge_plan_note(job, "release %s: %s + EXTRAVERSION \"%s\" (the patch) + localversion.10-pkgrel \"%s\" + "
				      "localversion.20-pkgname \"%s\" + CONFIG_LOCALVERSION \"%s\": no KERNELRELEASE needed",
				 kver, rel.version, rel.extraversion, rel.localversion_10, rel.localversion_20,
				 lv ? lv : "");
	}
	return cc_launcher(job);
}

/* ---- configure ---- */

/* Is the target the kernel running here, so that /proc/config.gz is its own? */
static bool target_is_running(struct kforge_job *job)
{
	char real[4096];
	struct utsname u;
	return realpath(kforge_job_root(job), real) && strcmp(real, "/") == 0 && uname(&u) == 0 &&
	       strcmp(u.release, kforge_job_kernel(job)) == 0;
}

int arch_configure(struct kforge_job *job)
{
	if (kforge_job_module_kind(job) == KFORGE_MODULE_EXTERNAL || kforge_job_strategy(job) != KFORGE_STRATEGY_FULL)
		return kforge_default_configure(job);
	const char *tree = kforge_job_source_dir(job);
	_arch_cleanup_free_ char *pkgconfig = tree ? kforge_path_join(tree, ARCH_TREE_CONFIG, NULL) : NULL;
	int r;
	if (pkgconfig && access(pkgconfig, F_OK) == 0) {
		if ((r = kforge_job_set_config_file(job, pkgconfig)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot read %s: %s", pkgconfig, strerror(-r));
		kforge_plan_note(job, "configuration: the packaging repository's config (%s), as the package was built "
				      "from it",
				 pkgconfig);
	} else if (target_is_running(job) && access("/proc/config.gz", R_OK) == 0) {
		_arch_cleanup_free_ char *dst = kforge_strdup_printf("%s/config-%s", kforge_job_cache_dir(job), kforge_job_kernel(job));
		if (!dst)
			return -ENOMEM;
		/* the host's /proc, not the root's: only a running target has one, and it is this one */
		kforge_plan_note(job, "configuration: /proc/config.gz of the running kernel %s (the host's /proc, "
				      "--root does not apply to it), into %s",
				 kforge_job_kernel(job), dst);
		if (!kforge_job_is_plan(job)) {
			if ((r = arch_gunzip("/proc/config.gz", dst)) < 0)
				return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot read /proc/config.gz into %s: %s",
						       dst, strerror(-r));
			if ((r = kforge_job_set_config_file(job, dst)) < 0)
				return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot read %s: %s", dst, strerror(-r));
		}
	} else if (kforge_job_is_plan(job) && tree && strstr(tree, "/src/arch-")) {
		kforge_plan_note(job, "configuration: the packaging repository's config once fetched, else %s",
				 kforge_job_config_file(job) ? kforge_job_display_path(job, kforge_job_config_file(job))
							     : "(none found)");
	} else {
		kforge_plan_note(job, "configuration: %s (no packaging config, not the running kernel)",
				 kforge_job_config_file(job) ? kforge_job_display_path(job, kforge_job_config_file(job))
							     : "(none found)");
	}
	return kforge_default_configure(job);
}
