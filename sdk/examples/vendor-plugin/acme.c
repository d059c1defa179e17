/* acme.c: an example vendor plugin: ACME's kernels on Debian, replacing the debian plugin by name. */
#include <string.h>

#include <kforge/kforge.h>

/*
 * Built out of tree against the installed SDK (see Makefile) into debian.so and dropped
 * into /etc/kforge/plugins.d, this file comes earlier in the search path than the
 * distribution's debian.so and replaces it: same name, ACME's rules.
 */
static int acme_probe(const struct kforge_probe_info *info)
{
	if (kforge_os_is(info->os, "debian") || kforge_os_is_like(info->os, "debian"))
		return KFORGE_SCORE_EXACT;
	return KFORGE_SCORE_NONE;
}

static int acme_setup(struct kforge_job *job)
{
	/* ACME keeps its modules apart from everyone else's, still ahead of kernel/ */
	return kforge_job_set_install_subdir(job, "updates/acme");
}

static int acme_locate_source(struct kforge_job *job)
{
	/* the core's default does the work; the vendor adds its word around it */
	int r = kforge_default_locate_source(job);
	if (r < 0)
		return r;
	kforge_plan_note(job, "ACME: sources for %s are taken as they are (no ACME patches needed)",
			 kforge_job_kernel(job));
	return 0;
}

KFORGE_PLUGIN_DEFINE(
	.name = "debian",
	.description = "ACME kernels on Debian (example vendor plugin from the kforge SDK)",
	.probe = acme_probe,
	.setup = acme_setup,
	.locate_source = acme_locate_source,
);
