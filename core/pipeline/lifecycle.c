/* lifecycle.c: what kforge installed, for the front end: records, their check, uninstall. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pipeline/job.h"
#include "txn/record.h"

const char *kforge_job_repaired(const struct kforge_job *job)
{
	return job->repaired;
}

int kforge_records_list(struct kforge_job *job, const char *kernel, struct kforge_record ***out, size_t *n)
{
	int r = kf_job_state(job, false);
	if (r < 0)
		return r;
	r = kf_records_read(job->state, kernel, out, n);
	/* reading needs no lock: let other runs go on while the caller looks at the records */
	kf_state_close(job->state);
	job->state = NULL;
	return r;
}

enum kforge_record_state kforge_record_check(struct kforge_job *job, const struct kforge_record *rec)
{
	struct kf_state st = { .ctx = job->ctx };
	st.base = strdup(job->install_mod_path ? job->install_mod_path : kforge_ctx_root(job->ctx));
	if (!st.base)
		return KFORGE_RECORD_MISSING;
	size_t n = strlen(st.base);
	while (n > 0 && st.base[n - 1] == '/')
		st.base[--n] = '\0';
	enum kforge_record_state s = kf_record_check(&st, rec);
	free(st.base);
	return s;
}

/* The refresh-initramfs step for module NAME whose file FILE changed (an uninstall's). */
static int refresh_initramfs(struct kforge_job *job, const char *name, const char *file)
{
	free(job->affected_name);
	job->affected_name = strdup(name);
	kf_strv_free(&job->affected);
	if (!job->affected_name || (file && kf_strv_push(&job->affected, file) < 0))
		return -ENOMEM;
	return kforge_job_run(job, KFORGE_STEP_REFRESH_INITRAMFS, KFORGE_STEP_REFRESH_INITRAMFS);
}

int kforge_job_uninstall(struct kforge_job *job, const char *module, bool force)
{
	_cleanup_free_ char *name = kf_module_name_of(module);
	if (!name)
		return -ENOMEM;
	int r = kf_job_state(job, false);
	if (r < 0)
		return r;
	_cleanup_free_ char *installed = NULL;
	r = kf_txn_uninstall(job->state, job->kernel.release, name, force, kf_job_owes_refresh(job), &installed);
	if (r < 0)
		return kf_job_state_failed(job, r);
	return refresh_initramfs(job, name, installed);
}
