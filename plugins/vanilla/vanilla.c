/* vanilla: kernel.org kernels and the fallback for every system no other plugin claims. */
#include <kforge/kforge.h>

/*
 * The reference plugin: it claims any system with the lowest score and runs the core's
 * generic kbuild steps as they are, each named here so that a plugin author sees the
 * whole shape of a plugin in one place.
 */
static int vanilla_probe(const struct kforge_probe_info *info)
{
	(void)info;
	return KFORGE_SCORE_FALLBACK;
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
	.description = "kernel.org kernels; the generic kbuild procedure, and the fallback",
	.probe = vanilla_probe,
	.locate_source = kforge_default_locate_source,
	.derive_version = kforge_default_derive_version,
	.configure = kforge_default_configure,
	.prepare = kforge_default_prepare,
	.compile = kforge_default_compile,
	.install = kforge_default_install,
	.refresh_initramfs = kforge_default_refresh_initramfs,
	.initramfs = vanilla_initramfs,
);
