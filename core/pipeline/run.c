/* run.c: the pipeline: the plugin's setup, then each step, the plugin's hook or the core's default. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "pipeline/job.h"

/* The plugin's hook for STEP, or NULL for the core's default. */
static kforge_step_fn plugin_hook(const struct kf_plugin *p, enum kforge_step step)
{
	if (!p)
		return NULL;
	/* the loader's copy: a field past what the plugin's minor knows is NULL there */
	const struct kforge_plugin *d = &p->desc;
	switch (step) {
	case KFORGE_STEP_LOCATE_SOURCE:
		return d->locate_source;
	case KFORGE_STEP_DERIVE_VERSION:
		return d->derive_version;
	case KFORGE_STEP_CONFIGURE:
		return d->configure;
	case KFORGE_STEP_PREPARE:
		return d->prepare;
	case KFORGE_STEP_COMPILE:
		return d->compile;
	case KFORGE_STEP_INSTALL:
		return d->install;
	case KFORGE_STEP_REFRESH_INITRAMFS:
		return d->refresh_initramfs;
	default:
		return NULL;
	}
}

static const kforge_step_fn defaults[KFORGE_STEP_COUNT] = {
	kforge_default_locate_source, kforge_default_derive_version, kforge_default_configure,
	kforge_default_prepare,	      kforge_default_compile,	     kforge_default_install,
	kforge_default_refresh_initramfs,
};

/* A DKMS package's step (the driver's), else NULL. */
static kforge_step_fn driver_step(const struct kforge_job *job, enum kforge_step step)
{
	return job->driver && step < KFORGE_STEP_COUNT ? job->driver->steps[step] : NULL;
}

const char *kforge_job_step_owner(const struct kforge_job *job, enum kforge_step step)
{
	const struct kf_plugin *p = job->plugin;
	return driver_step(job, step) ? job->driver->name : plugin_hook(p, step) ? p->name : "core";
}

int kf_job_setup(struct kforge_job *job)
{
	if (job->setup_done)
		return 0;
	const struct kf_plugin *p = job->plugin;
	job->setup_done = true;
	if (p && p->desc.setup) {
		job->runner.owner = p->name;
		int r = p->desc.setup(job);
		if (r < 0)
			return r;
	}
	/* the command line wins over the plugin's idea of where modules go */
	if (job->install_dir_forced)
		return kforge_job_set_install_subdir(job, job->install_dir_forced);
	return 0;
}

int kforge_job_run(struct kforge_job *job, enum kforge_step first, enum kforge_step last)
{
	int r = kf_job_setup(job);
	if (r < 0)
		return r;
	const struct kf_plugin *p = job->plugin;
	for (int s = (int)first; s <= (int)last && s < KFORGE_STEP_COUNT; s++) {
		kforge_step_fn own = driver_step(job, (enum kforge_step)s);
		kforge_step_fn fn = own ? own : plugin_hook(p, (enum kforge_step)s);
		job->runner.step = (enum kforge_step)s;
		if (s == KFORGE_STEP_REFRESH_INITRAMFS && job->initramfs_never) {
			job->runner.owner = "core";
			kforge_plan_note(job, "install.initramfs = never: the initramfs is not refreshed");
			if (!job->plan)
				kf_info(job->ctx, "install.initramfs = never: the initramfs of %s stays as it is",
					job->kernel.release);
			continue;
		}
		job->runner.owner = own ? job->driver->name : fn ? p->name : "core";
		if (!job->plan)
			kf_info(job->ctx, "[%d/%d] %s (%s)", s + 1, KFORGE_STEP_COUNT, kforge_step_name((enum kforge_step)s),
				job->runner.owner);
		kf_log_to_file(job, "== step %d: %s (%s)\n", s + 1, kforge_step_name((enum kforge_step)s), job->runner.owner);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = (fn ? fn : defaults[s])(job);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		kf_log_to_file(job, "== step %d: %s took %.2f s\n", s + 1, kforge_step_name((enum kforge_step)s), secs);
		if (!job->plan)
			kf_dbg(job->ctx, "%s took %.2f s", kforge_step_name((enum kforge_step)s), secs);
		if (r >= 0 && s == KFORGE_STEP_LOCATE_SOURCE)
			kf_job_resolve_strategy(job);
		if (r >= 0 && s == KFORGE_STEP_REFRESH_INITRAMFS) {
			kf_job_refresh_done(job);
			if (!job->plan && job->driver && job->driver->finished)
				r = job->driver->finished(job);
		}
		if (r < 0) {
			if (job->exit_code == KFORGE_EXIT_OK)
				job->exit_code = KFORGE_EXIT_FAILURE;
			kf_log_to_file(job, "# result: exit %d at step %d, %s\n", (int)job->exit_code, s + 1,
				       kforge_step_name((enum kforge_step)s));
			return r;
		}
	}
	/* what `kforge log` lists as the job's result: a run through compile or further (a first
	 * look, autoinstall's locate alone, goes on later) */
	if (!job->plan && last >= KFORGE_STEP_COMPILE)
		kf_log_to_file(job, "# result: ok through step %d, %s\n", (int)last + 1, kforge_step_name(last));
	return 0;
}

void kf_job_resolve_strategy(struct kforge_job *job)
{
	if (job->strategy != KFORGE_STRATEGY_AUTO)
		return;
	/* headers is exact by construction; a config change needs the whole tree */
	job->strategy = job->kind != KFORGE_MODULE_EXTERNAL && job->changes.n ? KFORGE_STRATEGY_FULL
									      : KFORGE_STRATEGY_HEADERS;
	job->strategy_chosen = true;
}

