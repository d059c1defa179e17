/* configure.c: the default "configure" step: the target's .config with the requested changes. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"

/* CONFIG_X=y|m|n|value into scripts/config arguments, applied to CONFIG (a .config path). */
static int apply_change(struct kforge_job *job, const char *config, const char *change)
{
	_cleanup_free_ char *opt = strdup(change);
	if (!opt)
		return -ENOMEM;
	char *eq = strchr(opt, '=');
	if (!eq || strncmp(opt, "CONFIG_", 7) != 0 || !eq[1])
		return kforge_job_fail(job, KFORGE_EXIT_USAGE, "--set %s: expected CONFIG_NAME=VALUE (y, m, n or a value)",
				       change);
	*eq = '\0';
	const char *val = eq + 1;
	const char *action = strcmp(val, "y") == 0   ? "--enable"
			     : strcmp(val, "m") == 0 ? "--module"
			     : strcmp(val, "n") == 0 ? "--disable"
						     : "--set-val";
	_cleanup_free_ char *script = kforge_path_join(job->source_dir, "scripts/config", NULL);
	/* scripts/config is a bash script */
	const char *argv[] = { "bash", script, "--file", config, action, opt + 7, NULL, NULL };
	if (strcmp(action, "--set-val") == 0)
		argv[6] = val;
	/* the tree's own script: as the build user, sandboxed, the prepared tree all it writes */
	int r = kf_run_build(job, job->objdir, argv, job->objdir);
	return r == 0 || r == -ECANCELED
		       ? r
		       : kforge_job_fail(job, KFORGE_EXIT_BUILD, "scripts/config could not apply %s", change);
}

/* Checks that olddefconfig kept every change (a dependency can veto one). */
static int check_changes_kept(struct kforge_job *job, const char *config)
{
	_cleanup_free_ char *text = NULL;
	if (job->plan || kf_read_file(config, &text, NULL) < 0)
		return 0;
	for (size_t i = 0; i < job->changes.n; i++) {
		_cleanup_free_ char *opt = strdup(job->changes.v[i]);
		char *eq = opt ? strchr(opt, '=') : NULL;
		if (!eq)
			continue;
		*eq = '\0';
		char buf[256];
		const char *got = kf_kconfig_lookup(text, opt, buf, sizeof(buf));
		bool want_off = strcmp(eq + 1, "n") == 0;
		if ((want_off && got) || (!want_off && (!got || strcmp(got, eq + 1) != 0)))
			return kforge_job_fail(job, KFORGE_EXIT_BUILD,
					       "--set %s did not hold: after olddefconfig %s is %s (a dependency it "
					       "needs is not set: look up its \"depends on\" with make menuconfig)",
					       job->changes.v[i], opt, got ? got : "not set");
	}
	return 0;
}

/* The prepared tree (O=) for this kernel and these config changes, reused while they stay the same. */
static char *objdir_for(struct kforge_job *job)
{
	unsigned long h = KF_HASH_SEED;
	for (size_t i = 0; i < job->changes.n; i++)
		h = kf_hash_str(h, job->changes.v[i]);
	const char *src = job->source_dir ? strrchr(job->source_dir, '/') : NULL;
	return kf_strdup_printf("%s/build/%s-%s-%08lx", job->cache_dir, job->kernel.release, src ? src + 1 : "src",
				h & 0xffffffffUL);
}

bool kf_objdir_ready(const struct kforge_job *job)
{
	_cleanup_free_ char *stamp = kforge_path_join(job->objdir, ".kforge-prepared", NULL);
	_cleanup_free_ char *text = NULL;
	return stamp && kf_read_file(stamp, &text, NULL) == 0 && strcmp(kf_strstrip(text), job->kernel.release) == 0;
}

int kforge_default_configure(struct kforge_job *job)
{
	if (job->kind == KFORGE_MODULE_EXTERNAL || job->strategy == KFORGE_STRATEGY_HEADERS) {
		if (job->changes.n)
			return kforge_job_fail(job, KFORGE_EXIT_USAGE,
					       "--set changes the kernel configuration, which only the full strategy "
					       "can rebuild against: drop --strategy headers%s",
					       job->kind == KFORGE_MODULE_EXTERNAL ? " (external modules take their "
										     "options through their own Kbuild)"
										   : "");
		kforge_plan_note(job, "configuration as installed: %s",
				 kforge_job_display_path(job, job->kernel.config_file ? job->kernel.config_file
										 : job->kernel.build_dir));
		return 0;
	}
	if (!job->kernel.config_file)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "no configuration for %s (no build/.config, no lib/modules/%s/config, no "
				       "/boot/config-%s): install its headers",
				       job->kernel.release, job->kernel.release, job->kernel.release);
	free(job->objdir);
	job->objdir = objdir_for(job);
	if (!job->objdir)
		return -ENOMEM;
	if (kf_objdir_ready(job)) {
		kforge_plan_note(job, "prepared tree %s reused (same kernel, same changes)", job->objdir);
		return 0;
	}
	_cleanup_free_ char *dst = kforge_path_join(job->objdir, ".config", NULL);
	_cleanup_free_ char *o = kf_strdup_printf("O=%s", job->objdir);
	if (kforge_runl(job, NULL, "mkdir", "-p", job->objdir, NULL) != 0 ||
	    kforge_runl(job, NULL, "cp", job->kernel.config_file, dst, NULL) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot copy %s into %s", job->kernel.config_file,
				       job->objdir);
	for (size_t i = 0; i < job->changes.n; i++) {
		int r = apply_change(job, dst, job->changes.v[i]);
		if (r < 0)
			return r;
	}
	const char *argv[16] = { "make", "-C", job->source_dir, o };
	size_t n = kf_add_make_vars(job, argv, 4, ARRAY_SIZE(argv));
	argv[n++] = "olddefconfig";
	argv[n] = NULL;
	int r = kf_run_build(job, job->objdir, argv, job->objdir);
	if (r == -ECANCELED)
		return r;
	if (r != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "make olddefconfig failed in %s: see %s", job->source_dir,
				       kf_job_log_name(job));
	return check_changes_kept(job, dst);
}

