/* derive-version.c: the default "derive version" step: the make variables that reproduce the release. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"

/* make's variable list for the release: "KERNELRELEASE=..." etc., appended to ARGV at N. */
size_t kf_add_make_vars(const struct kforge_job *job, const char **argv, size_t n, size_t max)
{
	for (size_t i = 0; i < job->make_vars.n && n < max - 1; i++)
		argv[n++] = job->make_vars.v[i];
	return n;
}


/*
 * build.cc_launcher (ccache, sccache): CC becomes "LAUNCHER COMPILER", the compiler being the
 * one the target was built with (CONFIG_CC_VERSION_TEXT's first word: gcc-12, clang), else gcc.
 */
static int add_cc_launcher(struct kforge_job *job)
{
	const char *launcher = kforge_config_get(job->ctx, "build.cc_launcher");
	if (!launcher[0])
		return 0;
	const char *text = kforge_job_kconfig(job, "CONFIG_CC_VERSION_TEXT");
	char cc[64] = "gcc";
	if (text && (strncmp(text, "gcc", 3) == 0 || strncmp(text, "clang", 5) == 0))
		snprintf(cc, sizeof(cc), "%.*s", (int)strcspn(text, " "), text);
	_cleanup_free_ char *var = kf_strdup_printf("CC=%s %s", launcher, cc);
	return var ? kforge_job_add_make_var(job, var) : -ENOMEM;
}

int kforge_default_derive_version(struct kforge_job *job)
{
	const struct kforge_release *rel = &job->kernel.rel;
	char ver[32];
	kforge_release_version_string(rel, ver, sizeof(ver));
	kforge_plan_note(job, "release %s: version %s, EXTRAVERSION \"%s\", localversion \"%s\", override %s%s",
			 rel->release, ver, rel->extraversion, rel->localversion,
			 kforge_release_override_name(rel->override),
			 rel->from_build_dir ? "" : " (guessed from the string: no Makefile in the build dir)");
	int r = add_cc_launcher(job);
	if (r < 0)
		return r;
	if (job->strategy != KFORGE_STRATEGY_FULL || job->kind == KFORGE_MODULE_EXTERNAL)
		return 0;
	/* KERNELRELEASE on make's command line reproduces any release exactly (verified on 6.1) */
	_cleanup_free_ char *kr = kf_strdup_printf("KERNELRELEASE=%s", rel->release);
	return kr ? kforge_job_add_make_var(job, kr) : -ENOMEM;
}

