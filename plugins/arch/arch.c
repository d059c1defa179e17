/*
 * arch: Arch Linux and derivatives: the plugin's descriptor, its settings, and what it knows of
 * installing (.ko.zst, updates/, mkinitcpio presets or booster). The sources (ABS: the packaging
 * repository, .SRCINFO, the PKGBUILD's sources) are source.c's; the release is version.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <errno.h>

#include <kforge/kforge.h>

#include "arch.h"
#include "source.h"

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
	return arch_read_line(path, buf, size) < 0 || !arch_pkgname_valid(buf) ? -1 : 0;
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
	if (arch_read_line(path, pkgbase, sizeof(pkgbase)) == 0 && arch_pkgname_valid(pkgbase))
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

/* [plugin.arch] in kforge.conf */
static const struct kforge_setting arch_settings[] = {
	{ "packaging_url", ARCH_DEFAULT_URL,
	  "the packaging repository of a kernel package, %s its pkgbase; on a Manjaro kernel (-MANJARO) this "
	  "default means Manjaro's https://gitlab.manjaro.org/packages/core/%s.git" },
	{ "packaging_ref", "",
	  "the commit of it to read: empty for the installed version's tag (PKGVER-PKGREL, EPOCH-PKGVER-PKGREL), "
	  "or tag=, branch=, commit= (Manjaro's repositories may not tag every version: not verified)" },
	{ "build_user", "",
	  "the unprivileged user a PKGBUILD is evaluated as (bubblewrap, no network) when there is no .SRCINFO; empty: [build] user" },
	{ "keyring", "",
	  "a gpgv keyring (a path under the root) with the keys validpgpkeys names; empty: [sources] keyring, "
	  "else signatures are not checked (the plan says so)" },
	{ NULL, NULL, NULL },
};

static int arch_check_setting(const char *key, const char *value, char *why, size_t whysize)
{
	if (strcmp(key, "packaging_url") == 0)
		return arch_check_url_format(value, why, whysize);
	if (strcmp(key, "packaging_ref") == 0)
		return arch_check_ref(value, why, whysize);
	if (strcmp(key, "build_user") == 0) {
		bool ok = strcmp(value, "root") != 0 && strlen(value) < 64;
		for (const char *p = value; ok && *p; p++)
			ok = isalnum((unsigned char)*p) || strchr("._-", *p);
		if (!ok) {
			snprintf(why, whysize, "plugin.arch.build_user must name an unprivileged user (letters, digits, . _ "
					       "-; not root), not \"%s\"",
				 value);
			return -EINVAL;
		}
	}
	if (strcmp(key, "keyring") == 0 && value[0] && value[0] != '/') {
		snprintf(why, whysize, "plugin.arch.keyring must be an absolute path (under the root), not \"%s\"",
			 value);
		return -EINVAL;
	}
	return 0;
}

KFORGE_PLUGIN_DEFINE(
	.name = "arch",
	.description = "Arch Linux and derivatives: ABS/PKGBUILD, .ko.zst, mkinitcpio or booster",
	.probe = arch_probe,
	.setup = arch_setup,
	.locate_source = arch_locate_source,
	.derive_version = arch_derive_version,
	.configure = arch_configure,
	.refresh_initramfs = arch_refresh_initramfs,
	.settings = arch_settings,
	.check_setting = arch_check_setting,
	.sign_keys = arch_sign_keys,
	.initramfs = arch_initramfs,
	.depmod_search = arch_depmod_search,
	.build_dir_hint = arch_build_dir_hint,
);
