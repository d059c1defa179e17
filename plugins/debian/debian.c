/* debian: Debian, Ubuntu and their derivatives: updates/, initramfs-tools, linux-headers packages. */
#include <string.h>

#include <kforge/kforge.h>

static int debian_probe(const struct kforge_probe_info *info)
{
	const struct kforge_os_release *os = info->os;
	if (kforge_os_is(os, "debian") || kforge_os_is(os, "ubuntu"))
		return KFORGE_SCORE_EXACT;
	if (kforge_os_is_like(os, "debian") || kforge_os_is_like(os, "ubuntu"))
		return KFORGE_SCORE_FAMILY;
	return KFORGE_SCORE_NONE;
}

static int debian_setup(struct kforge_job *job)
{
	/* depmod prefers updates/ over kernel/ on Debian (no search line) and on Ubuntu
	 * (depmod.d/ubuntu.conf: search updates ubuntu built-in); DKMS uses updates/dkms */
	return kforge_job_set_install_subdir(job, "updates");
}

static int debian_refresh_initramfs(struct kforge_job *job)
{
	/* Ubuntu 25.10 moved to dracut: the core knows that generator */
	if (strcmp(kforge_job_initramfs(job), "initramfs-tools") != 0)
		return kforge_default_refresh_initramfs(job);
	kforge_plan_note(job, "only when the module is in %s's current initramfs (lsinitramfs), or --initramfs:",
			 kforge_job_kernel(job));
	return kforge_runl(job, NULL, "update-initramfs", "-u", "-k", kforge_job_kernel(job), NULL) ? -5 : 0;
}

KFORGE_PLUGIN_DEFINE(
	.name = "debian",
	.description = "Debian and Ubuntu: linux-source and linux-headers packages, initramfs-tools",
	.probe = debian_probe,
	.setup = debian_setup,
	.refresh_initramfs = debian_refresh_initramfs,
);
