/* job-state.c: the state of the job's root (or --install-mod-path), opened once, and its failures. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pipeline/job.h"
#include "pipeline/steps.h"

int kf_job_depmod(void *data, const char *base, const char *kernel, int *status)
{
	const char *argv[5];
	kf_depmod_argv(base, kernel, argv);
	return kforge_run_status(data, NULL, argv, status);
}

int kf_job_state_failed(struct kforge_job *job, int err)
{
	struct kf_state *st = job->state;
	if (err == -ECANCELED && job->exit_code != KFORGE_EXIT_OK) {
		/* the step that failed inside the transaction said why */
		kf_err(job->ctx, "rolled back: nothing was changed");
		return err;
	}
	if (!st || !st->error[0])
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s", strerror(-err));
	return kforge_job_fail(job, st->rolled_back ? KFORGE_EXIT_ROLLBACK : KFORGE_EXIT_FAILURE, "%s", st->error);
}

static struct kf_state_options state_options(struct kforge_job *job)
{
	return (struct kf_state_options){
		.ctx = job->ctx,
		.base = job->install_mod_path ? job->install_mod_path : kforge_ctx_root(job->ctx),
		.no_wait = job->no_wait,
		.depmod = kf_job_depmod,
		.depmod_data = job,
	};
}

int kf_job_forget_replaced(struct kforge_job *job, const char *kernel, const char *sha256)
{
	/* opened for this alone: the lock is not kept while other jobs of the same run install */
	struct kf_state_options o = state_options(job);
	struct kf_state *st = NULL;
	int r = kf_state_open(&o, false, &st);
	if (r == 0)
		r = kf_state_forget_replaced(st, kernel, sha256);
	kf_state_close(st);
	return r;
}

int kf_job_state(struct kforge_job *job, bool create)
{
	if (job->state)
		return 0;
	struct kf_state_options o = state_options(job);
	int r = kf_state_open(&o, create, &job->state);
	if (r < 0) {
		r = kf_job_state_failed(job, r);
		kf_state_close(job->state);
		job->state = NULL;
		return r;
	}
	if (job->state->repaired) {
		free(job->repaired);
		job->repaired = strdup(job->state->repaired);
	}
	if (kf_state_refresh_owed(job->state, job->kernel.release) && !job->initramfs_forced) {
		/* this run refreshes it, whatever the image holds */
		job->initramfs_forced = true;
		kf_info(job->ctx, "the initramfs of %s is refreshed by this run, as an earlier one could not",
			job->kernel.release);
	}
	return 0;
}

void kf_job_refresh_done(struct kforge_job *job)
{
	if (job->state && !job->plan)
		kf_state_refresh_done(job->state, job->kernel.release);
}

/* The system's initramfs owes a refresh once a commit changed its modules, unless none is refreshed. */
bool kf_job_owes_refresh(const struct kforge_job *job)
{
	return !job->install_mod_path && !job->initramfs_never && strcmp(job->initramfs, "none") != 0;
}
