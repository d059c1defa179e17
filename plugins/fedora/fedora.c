/* fedora: Fedora and the RHEL family: kernel-devel, SRPMs, .ko.xz, dracut. */
#include <stddef.h>

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

KFORGE_PLUGIN_DEFINE(
	.name = "fedora",
	.description = "Fedora and the RHEL family: kernel-devel, SRPM, .ko.xz, dracut",
	.probe = fedora_probe,
	.setup = fedora_setup,
);
