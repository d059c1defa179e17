/* vanilla: kernel.org kernels and the fallback for every system no other plugin claims. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <kforge/kforge.h>

/*
 * The reference plugin: it claims any system with the lowest score and runs the core's
 * generic kbuild steps, each named here so that a plugin author sees the whole shape of a
 * plugin in one place. Its own knowledge is kernel.org's: where a release's tarball is and
 * how the mirror vouches for it.
 */
static int vanilla_probe(const struct kforge_probe_info *info)
{
	(void)info;
	return KFORGE_SCORE_FALLBACK;
}

/* kernel.org's tarballs; [sources] rewrite points this at a mirror. */
#define KERNEL_ORG "https://cdn.kernel.org/pub/linux/kernel"

/* A whole kernel tree, not an installed headers folder: what a self-built kernel's build dir is. */
static bool is_full_tree(const char *dir)
{
	static const char *const marks[] = { "Kconfig", "init/main.c", "kernel/fork.c", "scripts/setlocalversion" };
	char path[4096];
	struct stat st;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, marks[i]);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			return false;
	}
	return true;
}

/* The sha256 that SUMS (a sha256sums.asc: "HEX  NAME" lines inside a clearsigned text) lists for NAME. */
static int sum_of(const char *sums, const char *name, char hex[65])
{
	size_t n = strlen(name);
	for (const char *l = sums; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		size_t i = 0;
		while (i < 64 && ((l[i] >= '0' && l[i] <= '9') || (l[i] >= 'a' && l[i] <= 'f')))
			i++;
		if (i != 64 || l[64] != ' ')
			continue;
		const char *f = l + 64;
		while (*f == ' ' || *f == '*')
			f++;
		if (strncmp(f, name, n) == 0 && (f[n] == '\n' || f[n] == '\r' || f[n] == '\0')) {
			memcpy(hex, l, 64);
			hex[64] = '\0';
			return 0;
		}
	}
	return -1;
}

/*
 * The source of a kernel.org kernel: --source wins; else the build dir itself when it is a
 * whole tree (a kernel built in place); else the release's tarball from kernel.org, verified
 * against the mirror's sha256sums.asc (its signature checked with gpgv when [sources] keyring
 * names a keyring). The release keeps its LOCALVERSION and git suffixes: the core's derive
 * version reproduces it exactly on make's command line.
 */
static int vanilla_locate_source(struct kforge_job *job)
{
	if (kforge_job_module_kind(job) == KFORGE_MODULE_EXTERNAL || kforge_job_source(job))
		return kforge_default_locate_source(job);
	const char *build = kforge_job_build_dir(job);
	if (build && is_full_tree(build)) {
		kforge_plan_note(job, "the build dir %s is a whole kernel tree: it is the source",
				 kforge_job_display_path(job, build));
		int r = kforge_job_set_source(job, build);
		return r < 0 ? r : kforge_default_locate_source(job);
	}
	const struct kforge_release *rel = kforge_job_release(job);
	if (rel->override != KFORGE_OVERRIDE_NONE) {
		/* a release set over the Makefile's (Debian's KERNELRELEASE): a distribution's build,
		 * not kernel.org's source; only the user can name it */
		kforge_plan_note(job, "%s is set over its Makefile's version (%s): not a kernel.org build",
				 kforge_job_kernel(job), kforge_release_override_name(rel->override));
		return kforge_default_locate_source(job);
	}
	if (strncmp(rel->extraversion, "-rc", 3) == 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s is a release candidate: kernel.org keeps no tarball of it; pass --source "
				       "git+https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git#tag=v%u.%u%s",
				       kforge_job_kernel(job), rel->version, rel->patchlevel, rel->extraversion);
	if (rel->extraversion[0])
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s has EXTRAVERSION %s, which no kernel.org release has: pass --source PATH (or "
				       "git+URL#tag=NAME) with the tree this kernel was built from",
				       kforge_job_kernel(job), rel->extraversion);
	char version[32], dir[128], name[64], url[256];
	/* kernel.org names a .0 release without its sublevel: linux-6.7.tar.xz */
	if (rel->sublevel)
		snprintf(version, sizeof(version), "%u.%u.%u", rel->version, rel->patchlevel, rel->sublevel);
	else
		snprintf(version, sizeof(version), "%u.%u", rel->version, rel->patchlevel);
	snprintf(dir, sizeof(dir), KERNEL_ORG "/v%u.x", rel->version);
	snprintf(name, sizeof(name), "linux-%s.tar.xz", version);
	kforge_plan_note(job, "%s: kernel.org's %s%s%s", kforge_job_kernel(job), name,
			 rel->localversion[0] ? ", built with the local version " : "", rel->localversion);

	/* the mirror's list of sums first: it vouches for the tarball */
	char *sums_path = NULL, *sums = NULL;
	snprintf(url, sizeof(url), "%s/sha256sums.asc", dir);
	int r = kforge_fetch(job, url, "sha256sums.asc", NULL, &sums_path);
	if (r < 0)
		return r;
	const char *keyring = kforge_config_get(kforge_job_ctx(job), "sources.keyring");
	if (keyring && keyring[0]) {
		const char *gpgv[] = { "gpgv", "--keyring", keyring, sums_path, NULL };
		if (kforge_run(job, NULL, gpgv) != 0) {
			r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					    "the signature of %s does not verify with the keyring %s: the mirror's list of "
					    "sums cannot be trusted (see the log for gpgv's words)",
					    url, keyring);
			free(sums_path);
			return r;
		}
	} else {
		kforge_plan_note(job, "the signature of %s is not checked: set [sources] keyring to a keyring with "
				      "kernel.org's signing keys",
				 url);
	}
	char hex[65] = "", checksum[80];
	if (kforge_job_is_plan(job) && kforge_read_file(sums_path, &sums) < 0) {
		/* a plan before the list was ever fetched: the tarball's sum is read from it then */
		free(sums_path);
		snprintf(url, sizeof(url), "%s/%s", dir, name);
		kforge_plan_note(job, "%s is verified against the sha256 that sha256sums.asc lists for it", name);
		char *tarball = NULL;
		r = kforge_fetch(job, url, name, NULL, &tarball);
		if (r == 0)
			r = kforge_job_set_source(job, tarball);
		free(tarball);
		return r < 0 ? r : kforge_default_locate_source(job);
	}
	if (!sums && kforge_read_file(sums_path, &sums) < 0) {
		r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot read %s, fetched from %s", sums_path, url);
		free(sums_path);
		return r;
	}
	r = sum_of(sums, name, hex);
	free(sums);
	if (r < 0) {
		r = kforge_job_fail(job, KFORGE_EXIT_MISSING,
				    "%s lists no %s: is %s a kernel.org release? Pass --source PATH with the tree it was "
				    "built from (or run kforge cache prune, should the cached list be older than the "
				    "release)",
				    url, name, kforge_job_kernel(job));
		free(sums_path);
		return r;
	}
	free(sums_path);
	snprintf(checksum, sizeof(checksum), "sha256:%s", hex);
	snprintf(url, sizeof(url), "%s/%s", dir, name);
	char *tarball = NULL;
	r = kforge_fetch(job, url, name, checksum, &tarball);
	if (r < 0)
		return r;
	r = kforge_job_set_source(job, tarball);
	free(tarball);
	return r < 0 ? r : kforge_default_locate_source(job);
}

/*
 * The fallback knows what is not one distribution's: dracut, which many distributions without a
 * plugin use (openSUSE, Gentoo, Void), writing upstream's default image. (kernel-install is the
 * core's: systemd's, the same everywhere.)
 */
static const struct kforge_initramfs vanilla_initramfs[] = {
	{
		.name = "dracut",
		.detect = (const char *const[]){ "/usr/bin/dracut", "/usr/sbin/dracut", "/etc/dracut.conf", NULL },
		.image = "/boot/initramfs-%k.img",
		.lister = (const char *const[]){ "lsinitrd", NULL },
		.command = (const char *const[]){ "dracut", "-f", "--kver", "%k", NULL },
	},
	{ NULL },
};

KFORGE_PLUGIN_DEFINE(
	.name = "vanilla",
	.description = "kernel.org kernels: their tarballs or git tags; the generic kbuild procedure, and the fallback",
	.probe = vanilla_probe,
	.locate_source = vanilla_locate_source,
	.derive_version = kforge_default_derive_version,
	.configure = kforge_default_configure,
	.prepare = kforge_default_prepare,
	.compile = kforge_default_compile,
	.install = kforge_default_install,
	.refresh_initramfs = kforge_default_refresh_initramfs,
	.initramfs = vanilla_initramfs,
);
