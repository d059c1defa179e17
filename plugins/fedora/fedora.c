/* fedora: Fedora and the RHEL family: kernel-devel, SRPMs, .ko.xz, dracut, weak-updates. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kforge/kforge.h>

#include "fedora.h"

static int fedora_probe(const struct kforge_probe_info *info)
{
	static const char *const ids[] = { "fedora", "rhel", "centos", "rocky", "almalinux" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (kforge_os_is(info->os, ids[i]))
			return KFORGE_SCORE_EXACT;
	if (kforge_os_is_like(info->os, "fedora") || kforge_os_is_like(info->os, "rhel"))
		return KFORGE_SCORE_FAMILY;
	return KFORGE_SCORE_NONE;
}

static bool is_rhel(const struct kforge_os_release *os)
{
	static const char *const ids[] = { "rhel", "centos", "rocky", "almalinux" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (kforge_os_is(os, ids[i]))
			return true;
	return kforge_os_is_like(os, "rhel");
}

/*
 * Where modules go: the core's updates/ is right here, the only folder that overrides kernel/
 * (DKMS and akmods put new modules in extra/). RHEL's kmod ships depmod.d/dist.conf; Fedora
 * has no search line.
 */
static const char *const *fedora_depmod_search(const struct kforge_probe_info *info)
{
	static const char *const rhel[] = { "updates", "extra", "built-in", "weak-updates", NULL };
	return is_rhel(info->os) ? rhel : NULL;
}

/* akmods' key pair (kmodgenca), and DKMS's. */
static const struct kforge_sign_key fedora_sign_keys[] = {
	{ "/etc/pki/akmods/private/private_key.priv", "/etc/pki/akmods/certs/public_key.der" },
	{ "/var/lib/dkms/mok.key", "/var/lib/dkms/mok.pub" },
	{ NULL, NULL },
};

static const struct kforge_initramfs fedora_initramfs[] = {
	{
		.name = "dracut",
		.detect = (const char *const[]){ "/usr/bin/dracut", "/usr/sbin/dracut", "/etc/dracut.conf", NULL },
		.image = "/boot/initramfs-%k.img",
		.lister = (const char *const[]){ "lsinitrd", NULL },
		.command = (const char *const[]){ "dracut", "-f", "--kver", "%k", NULL },
	},
	{ NULL },
};

/*
 * The fix of "no build directory": the kernel-devel package and the dnf line that installs it;
 * when /usr/src/kernels/KVER is there but no build dir (the core looks there too: its Makefile
 * is gone), a reinstall.
 */
static int fedora_build_dir_hint(const struct kforge_probe_info *info, char *hint, size_t size)
{
	char pkg[256], kdir[300];
	if (fedora_devel_package(info->release, pkg, sizeof(pkg)) < 0)
		return -EINVAL;
	snprintf(kdir, sizeof(kdir), "/usr/src/kernels/%s", info->release);
	if (kforge_path_exists(info->root, kdir))
		snprintf(hint, size, "%s is there but incomplete (no Makefile): reinstall %s (dnf reinstall %s)", kdir,
			 pkg, pkg);
	else
		snprintf(hint, size, "install %s, which provides %s (dnf install %s)", pkg, kdir, pkg);
	return 0;
}

/* True when the job's kernel is a RHEL family kernel: its release carries the dist tag .elN
 * (4.18.0-513.5.1.el8_9.x86_64, 5.14.0-427.13.1.el9_4.x86_64). */
static bool job_is_rhel(struct kforge_job *job)
{
	for (const char *p = strstr(kforge_job_kernel(job), ".el"); p; p = strstr(p + 1, ".el"))
		if (p[3] >= '0' && p[3] <= '9')
			return true;
	return false;
}

/*
 * Does the system boot through the Boot Loader Specification (Fedora since 30, RHEL since 8)?
 * Then kernel-install, whose plugins run dracut, owns the images: its install.conf says
 * layout=bls (the core then picked it as the generator), or /boot/loader/entries exists.
 */
static bool uses_bls(struct kforge_job *job)
{
	return strcmp(kforge_job_initramfs(job), "kernel-install") == 0 ||
	       kforge_path_exists(kforge_job_root(job), "/boot/loader/entries");
}

/* facts for `kforge info`: the family, how images are made, the package's symvers */
static int fedora_setup(struct kforge_job *job)
{
	const char *root = kforge_job_root(job), *kver = kforge_job_kernel(job);
	kforge_job_add_fact(job, "fedora.family", job_is_rhel(job) ? "rhel" : "fedora");
	kforge_job_add_fact(job, "fedora.bls", uses_bls(job) ? "yes" : "no");
	char rel[512];
	static const char *const symvers[][2] = { { "/boot/symvers-", ".xz" }, { "/lib/modules/", "/symvers.xz" },
						  { "/boot/symvers-", ".gz" }, { "/lib/modules/", "/symvers.gz" } };
	for (size_t i = 0; i < sizeof(symvers) / sizeof(symvers[0]); i++) {
		snprintf(rel, sizeof(rel), "%s%s%s", symvers[i][0], kver, symvers[i][1]);
		if (kforge_path_exists(root, rel)) {
			kforge_job_add_fact(job, "fedora.symvers", rel);
			break;
		}
	}
	return 0;
}

/*
 * The initramfs: dracut's image /boot/initramfs-KVER.img, regenerated only when it lists the
 * module. On a BLS system through `kernel-install add KVER /lib/modules/KVER/vmlinuz` (its
 * 50-dracut.install runs dracut, its other plugins keep the boot entries right), else
 * `dracut -f --kver KVER` (the core's default, from fedora_initramfs).
 */
static int fedora_refresh_initramfs(struct kforge_job *job)
{
	const char *root = kforge_job_root(job), *kver = kforge_job_kernel(job);
	const char *gen = kforge_job_initramfs(job);
	if (kforge_job_install_mod_path(job) || strcmp(gen, "none") == 0 || !uses_bls(job))
		return kforge_default_refresh_initramfs(job);
	char img[512];
	snprintf(img, sizeof(img), "/boot/initramfs-%s.img", kver);
	/* no dracut image in /boot: kernel-install's own layout (ENTRY_TOKEN/KVER/initrd), the core's */
	if (!kforge_path_exists(root, img) && strcmp(gen, "kernel-install") == 0)
		return kforge_default_refresh_initramfs(job);
	char *host = kforge_path_find(root, img);
	const char *lister[] = { "lsinitrd", host ? host : img, NULL };
	bool needed = (host || kforge_job_is_plan(job)) && kforge_job_initramfs_needed(job, lister);
	needed = needed || kforge_job_initramfs_forced(job);
	free(host);
	/* the kernel image kernel-install takes: the one the package keeps beside the modules */
	char kimg[512];
	snprintf(kimg, sizeof(kimg), "%s/vmlinuz", kforge_job_display_path(job, kforge_job_modules_dir(job)));
	if (!kforge_path_exists(root, kimg))
		snprintf(kimg, sizeof(kimg), "/boot/vmlinuz-%s", kver);
	if (kforge_job_is_plan(job))
		kforge_plan_note(job, "only when the module is in %s (the command above), or with --initramfs; the "
				      "system boots through BLS entries: kernel-install runs dracut:",
				 img);
	else if (!needed)
		return 0;
	const char *argv[] = { "kernel-install", "add", kver, kimg, NULL };
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_initramfs_failed(job, argv);
	return 0;
}

/*
 * Install: the core's (updates/, .ko.xz, depmod). On the RHEL family, other kernels may take
 * modules through weak-updates/ links that weak-modules makes for kABI-compatible kernels; kforge
 * installs for the one kernel it built for and links nothing into another's weak-updates/.
 */
static int fedora_install(struct kforge_job *job)
{
	if (job_is_rhel(job) && !kforge_job_install_mod_path(job))
		kforge_plan_note(job, "weak-updates: the module is installed for %s only; kforge does not run "
				      "weak-modules, so no other kernel's weak-updates/ links to it (to share it, "
				      "`weak-modules --add-modules` links it into the kernels whose symvers agree; "
				      "`kforge status` shows such links)",
				 kforge_job_kernel(job));
	return kforge_default_install(job);
}

KFORGE_PLUGIN_DEFINE(
	.name = "fedora",
	.description = "Fedora and the RHEL family: kernel-devel, SRPM, .ko.xz, dracut, weak-updates",
	.probe = fedora_probe,
	.setup = fedora_setup,
	.locate_source = fedora_locate_source,
	.derive_version = fedora_derive_version,
	.install = fedora_install,
	.refresh_initramfs = fedora_refresh_initramfs,
	.settings = fedora_settings,
	.check_setting = fedora_check_setting,
	.sign_keys = fedora_sign_keys,
	.initramfs = fedora_initramfs,
	.depmod_search = fedora_depmod_search,
	.build_dir_hint = fedora_build_dir_hint,
);
