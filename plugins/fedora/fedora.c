/* fedora: Fedora and the RHEL family: kernel-devel, SRPMs, .ko.xz, dracut. */
#include <string.h>

#include <kforge/kforge.h>

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

static int fedora_setup(struct kforge_job *job)
{
	/* only updates/ overrides kernel/ (RHEL's dist.conf: search updates extra built-in
	 * weak-updates); DKMS and akmods use extra/ for new modules */
	return kforge_job_set_install_subdir(job, "updates");
}

static int fedora_refresh_initramfs(struct kforge_job *job)
{
	if (strcmp(kforge_job_initramfs(job), "dracut") != 0)
		return kforge_default_refresh_initramfs(job);
	kforge_plan_note(job, "only when the module is in %s's current initramfs (lsinitrd), or --initramfs:",
			 kforge_job_kernel(job));
	return kforge_runl(job, NULL, "dracut", "-f", "--kver", kforge_job_kernel(job), NULL) ? -5 : 0;
}

KFORGE_PLUGIN_DEFINE(
	.name = "fedora",
	.description = "Fedora and the RHEL family: kernel-devel, SRPM, .ko.xz, dracut",
	.probe = fedora_probe,
	.setup = fedora_setup,
	.refresh_initramfs = fedora_refresh_initramfs,
);
