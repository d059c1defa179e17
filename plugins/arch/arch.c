/* arch: Arch Linux and derivatives: PKGBUILD sources, .ko.zst, mkinitcpio presets or booster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kforge/kforge.h>

static int arch_probe(const struct kforge_probe_info *info)
{
	if (kforge_os_is(info->os, "arch"))
		return KFORGE_SCORE_EXACT;
	if (kforge_os_is_like(info->os, "arch"))
		return KFORGE_SCORE_FAMILY;
	return KFORGE_SCORE_NONE;
}

/* The first line of the host file PATH into BUF; 0, or -1 when it is missing or empty. */
static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = path ? fopen(path, "re") : NULL;
	if (!f)
		return -1;
	bool ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? 0 : -1;
}

/* The package a kernel came from (linux, linux-lts, linux-zen): MODULES_DIR/pkgbase. */
static int read_pkgbase(struct kforge_job *job, char *buf, size_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/pkgbase", kforge_job_modules_dir(job));
	return read_line(path, buf, size);
}

/*
 * Where modules go: the core's updates/ is right here, ahead of everything (Arch's depmod.d:
 * search updates extramodules built-in; the repositories' module packages use extramodules/).
 */
static const char *const *arch_depmod_search(const struct kforge_probe_info *info)
{
	static const char *const order[] = { "updates", "extramodules", "built-in", NULL };
	(void)info;
	return order;
}

/* DKMS's key pair (Arch packages dkms). */
static const struct kforge_sign_key arch_sign_keys[] = {
	{ "/var/lib/dkms/mok.key", "/var/lib/dkms/mok.pub" },
	{ NULL, NULL },
};

/*
 * mkinitcpio, booster: for a packaged kernel, arch_refresh_initramfs below runs its preset;
 * these are for a kernel no package names (an image of its own).
 */
static const struct kforge_initramfs arch_initramfs[] = {
	{
		.name = "mkinitcpio",
		.detect = (const char *const[]){ "/usr/bin/mkinitcpio", "/etc/mkinitcpio.conf", NULL },
		.image = "/boot/initramfs-custom.img",
		.lister = (const char *const[]){ "lsinitcpio", NULL },
		.command = (const char *const[]){ "mkinitcpio", "-k", "%k", "-g", "%i", NULL },
	},
	{
		.name = "booster",
		.detect = (const char *const[]){ "/usr/bin/booster", "/etc/booster.yaml", NULL },
		.image = "/boot/booster-custom.img",
		.lister = (const char *const[]){ "lsinitcpio", NULL },
		.command = (const char *const[]){ "booster", "build", "--force", "--kernel-version", "%k", "%i", NULL },
	},
	{ NULL },
};

/* PKGBASE-headers provides the build dir of a kernel of package PKGBASE. */
static int arch_build_dir_hint(const struct kforge_probe_info *info, char *hint, size_t size)
{
	char pkgbase[128], *path = NULL, rel[256];
	snprintf(rel, sizeof(rel), "/usr/lib/modules/%s/pkgbase", info->release);
	path = kforge_path_find(info->root, rel);
	if (read_line(path, pkgbase, sizeof(pkgbase)) == 0)
		snprintf(hint, size, "install %s-headers (the headers of the %s package)", pkgbase, pkgbase);
	else
		snprintf(hint, size, "install the headers package of this kernel (linux-headers for linux)");
	free(path);
	return 0;
}

static int arch_refresh_initramfs(struct kforge_job *job)
{
	const char *gen = kforge_job_initramfs(job);
	char pkgbase[128];
	if (read_pkgbase(job, pkgbase, sizeof(pkgbase)) < 0) {
		/* no pkgbase: not a packaged kernel, the generic commands apply */
		return kforge_default_refresh_initramfs(job);
	}
	bool mk = strcmp(gen, "mkinitcpio") == 0;
	if (!mk && strcmp(gen, "booster") != 0)
		return kforge_default_refresh_initramfs(job);
	/* the preset's default image, or booster's: /boot/initramfs-linux.img, /boot/booster-linux.img */
	char img[256], *host = NULL;
	snprintf(img, sizeof(img), mk ? "/boot/initramfs-%s.img" : "/boot/booster-%s.img", pkgbase);
	host = kforge_path_find(kforge_job_root(job), img);
	const char *lister[] = { "lsinitcpio", host ? host : img, NULL };
	bool needed = (host || kforge_job_is_plan(job)) && kforge_job_initramfs_needed(job, lister);
	needed = needed || kforge_job_initramfs_forced(job);
	free(host);
	if (kforge_job_is_plan(job))
		kforge_plan_note(job, "only when the module is in %s (the command above), or --initramfs "
				      "(the %s package's hook does not fire for updates/):",
				 img, pkgbase);
	else if (!needed)
		return 0;
	const char *mkinitcpio[] = { "mkinitcpio", "-p", pkgbase, NULL };
	const char *booster[] = { "booster", "build", "--force", "--kernel-version", kforge_job_kernel(job), img, NULL };
	const char *const *argv = mk ? mkinitcpio : booster;
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_initramfs_failed(job, argv);
	return 0;
}

KFORGE_PLUGIN_DEFINE(
	.name = "arch",
	.description = "Arch Linux and derivatives: ABS/PKGBUILD, .ko.zst, mkinitcpio or booster",
	.probe = arch_probe,
	.refresh_initramfs = arch_refresh_initramfs,
	.sign_keys = arch_sign_keys,
	.initramfs = arch_initramfs,
	.depmod_search = arch_depmod_search,
	.build_dir_hint = arch_build_dir_hint,
);
