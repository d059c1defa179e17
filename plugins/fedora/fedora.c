/* fedora: Fedora and the RHEL family: kernel-devel, SRPMs, .ko.xz, dracut. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
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

KFORGE_PLUGIN_DEFINE(
	.name = "fedora",
	.description = "Fedora and the RHEL family: kernel-devel, SRPM, .ko.xz, dracut",
	.probe = fedora_probe,
	.locate_source = fedora_locate_source,
	.derive_version = fedora_derive_version,
	.settings = fedora_settings,
	.check_setting = fedora_check_setting,
	.sign_keys = fedora_sign_keys,
	.initramfs = fedora_initramfs,
	.depmod_search = fedora_depmod_search,
	.build_dir_hint = fedora_build_dir_hint,
);
