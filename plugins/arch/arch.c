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

/* The package a kernel came from (linux, linux-lts, linux-zen): MODULES_DIR/pkgbase. */
static int read_pkgbase(struct kforge_job *job, char *buf, size_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/pkgbase", kforge_job_modules_dir(job));
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	bool ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? 0 : -1;
}

static int arch_setup(struct kforge_job *job)
{
	/* updates/ wins over kernel/ (depmod.d: search updates extramodules built-in) */
	return kforge_job_set_install_subdir(job, "updates");
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
	.setup = arch_setup,
	.refresh_initramfs = arch_refresh_initramfs,
);
