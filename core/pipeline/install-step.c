/* install-step.c: the default "install" step: the gate, signing, then the install transaction. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"


int kforge_default_install(struct kforge_job *job)
{
	int r;
	if (job->plan) {
		kforge_plan_note(job, "validate: vermagic %s%s", job->kernel.release,
				 kforge_job_modversions(job) ? ", every imported symbol's CRC against Module.symvers" : "");
		if ((r = kf_sign_prepare(job)) < 0)
			return r;
		const char *leaf = strrchr(job->module_spec, '/') ? strrchr(job->module_spec, '/') + 1 : job->module_spec;
		_cleanup_free_ char *dest = kf_strdup_printf("%s/%s/%s.ko%s", job->install_base, job->install_subdir, leaf,
							     kforge_compression_suffix(job->compression));
		const char *base = job->install_mod_path ? job->install_mod_path : kforge_ctx_root(job->ctx);
		kforge_plan_note(job, "lock %s/var/lib/kforge; back up what %s replaces; write it under a temporary "
				      "name (%s%scompression %s), record it, commit (rename), depmod",
				 strcmp(base, "/") ? base : "", kforge_job_display_path(job, dest),
				 strcmp(kforge_config_get(job->ctx, "install.strip"), "yes") == 0 ? "debug info stripped, " : "",
				 job->sign_key ? "signed, " : "", kforge_compression_name(job->compression));
		const char *root = kforge_ctx_root(job->ctx);
		const char *b = job->install_mod_path ? job->install_mod_path : strcmp(root, "/") != 0 ? root : NULL;
		return (b ? kforge_runl(job, NULL, "depmod", "-b", b, job->kernel.release, NULL)
			  : kforge_runl(job, NULL, "depmod", job->kernel.release, NULL)) ? -EIO : 0;
	}
	if ((r = kforge_validate(job)) < 0 || (r = kf_sign_prepare(job)) < 0)
		return r;
	return kf_install_built(job);
}
