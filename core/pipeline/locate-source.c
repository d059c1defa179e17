/* locate-source.c: the default "locate source" step: the module's folder, the source tree, its option. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"
#include "source/source.h"

/* The module's path in the kernel's own tree (*PATH) and its folder there, malloc'd; NULL if none. */
static char *tree_subdir(const struct kforge_job *job, char **path)
{
	*path = kf_module_tree_path(job->kernel.modules_dir, job->module_spec);
	return *path ? kf_module_subdir_of(*path) : NULL;
}

/* Finds NAME's in-tree directory in the target's module indexes. */
static int resolve_module_dir(struct kforge_job *job)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *sub = tree_subdir(job, &path);
	if (!sub)
		return -ENOENT;
	kforge_plan_note(job, "%s is %s in the target's module lists: built from %s/", job->module_spec, path, sub);
	return kforge_job_set_module_subdir(job, sub);
}

int kforge_job_headers_subdir(const struct kforge_job *job, char *buf, size_t size)
{
	if (job->strategy != KFORGE_STRATEGY_HEADERS || job->changes.n)
		return -ENOENT;
	_cleanup_free_ char *path = NULL, *found = NULL;
	if (!job->module_subdir && job->kind == KFORGE_MODULE_NAME)
		found = tree_subdir(job, &path);
	const char *sub = job->module_subdir ? job->module_subdir : found;
	if (!sub)
		return -ENOENT;
	return (size_t)snprintf(buf, size, "%s", sub) < size ? 0 : -ENAMETOOLONG;
}

/* The kernel architecture folder of the target (arch/x86 for x86_64). */
static const char *target_arch(const struct kforge_job *job)
{
	char buf[16];
	if (kf_kconfig_lookup(job->kernel.config_text, "CONFIG_X86_64", buf, sizeof(buf)) ||
	    kf_kconfig_lookup(job->kernel.config_text, "CONFIG_X86_32", buf, sizeof(buf)))
		return "x86";
	if (kf_kconfig_lookup(job->kernel.config_text, "CONFIG_ARM64", buf, sizeof(buf)))
		return "arm64";
	if (kf_kconfig_lookup(job->kernel.config_text, "CONFIG_RISCV", buf, sizeof(buf)))
		return "riscv";
	return NULL;
}


/* For a module named by the user: its folder and Kconfig option, from the source's Makefiles. */
static int find_in_source(struct kforge_job *job)
{
	const char *name = job->module_spec;
	char option[128] = "";
	if (job->plan && !kf_is_dir(job->source_dir)) {
		kforge_plan_note(job, "%s's Makefile and option are read from the source once it is unpacked", name);
		return 0;
	}
	if (job->module_subdir) {
		if (kf_find_module_in_dir(job->source_dir, job->module_subdir, name, option, sizeof(option)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "%s/%s has no Makefile line that builds %s.o: is %s the source of %s?",
					       job->source_dir, job->module_subdir, name, job->source_dir, job->kernel.release);
	} else {
		_cleanup_free_ char *sub = NULL;
		if (kf_find_module_in_source(job->source_dir, name, target_arch(job), &sub, option, sizeof(option)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "no Makefile in %s builds %s.o: check the module's name (modinfo -n NAME on "
					       "a system that has it)",
					       job->source_dir, name);
		kforge_job_set_module_subdir(job, sub);
		kforge_plan_note(job, "%s is built from %s/ (obj-$(%s))", name, sub, option[0] ? option : "m");
	}
	return kforge_job_set_module_option(job, option);
}

/* What the target's config says of the module's option decides whether it can be built. */
static int check_option(struct kforge_job *job)
{
	const char *opt = job->module_option;
	if (!opt || !opt[0])
		return 0;
	char buf[64];
	const char *v = kf_kconfig_lookup(job->kernel.config_text, opt, buf, sizeof(buf));
	for (size_t i = 0; i < job->changes.n; i++)
		if (strncmp(job->changes.v[i], opt, strlen(opt)) == 0 && job->changes.v[i][strlen(opt)] == '=')
			return 0; /* the user says what it should be */
	if (v && strcmp(v, "m") == 0)
		return 0;
	if (v && strcmp(v, "y") == 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "%s is built into %s (%s=y): only a kernel rebuild replaces it, a module cannot",
				       job->module_spec, job->kernel.release, opt);
	_cleanup_free_ char *change = kf_strdup_printf("%s=m", opt);
	kforge_plan_note(job, "%s is not set in %s's configuration: building with --set %s", opt, job->kernel.release,
			 change);
	if (!job->plan)
		kf_info(job->ctx, "%s is not set for %s: building it with --set %s (the full tree)", opt,
			job->kernel.release, change);
	return change ? kforge_job_add_config_change(job, change) : -ENOMEM;
}

/*
 * The headers strategy needs only the module's folder of the source: a tarball or a git
 * source then gives only that subtree, never the whole tree. NULL: the whole tree.
 */
static const char *subtree_wanted(const struct kforge_job *job)
{
	if (job->kind == KFORGE_MODULE_EXTERNAL || !job->module_subdir)
		return NULL;
	if (job->strategy == KFORGE_STRATEGY_HEADERS)
		return job->module_subdir;
	/* auto picks headers unless the config changes (a --set, or the option unset: decided later) */
	return job->strategy == KFORGE_STRATEGY_AUTO && job->changes.n == 0 ? job->module_subdir : NULL;
}

/* The source tree of --source (a folder, a tarball, git+URL, a URL), or only SUBDIR of it (*PARTIAL). */
static int source_tree(struct kforge_job *job, const char *subdir, bool *partial)
{
	*partial = false;
	switch (kf_source_kind_of(job->source)) {
	case KF_SOURCE_GIT:
		return kf_git_source(job, job->source, subdir, partial);
	case KF_SOURCE_URL: {
		/* a tarball by URL: fetched once into the cache (kept by its URL: --source has no
		 * checksum to give), then unpacked like a tarball on disk */
		_cleanup_free_ char *path = NULL;
		int r = kforge_fetch(job, job->source, NULL, NULL, &path);
		if (r < 0)
			return r;
		return kf_unpack_cached(job, path, subdir, partial);
	}
	case KF_SOURCE_PATH:
		break;
	}
	if (kf_is_dir(job->source)) {
		kforge_plan_note(job, "kernel source tree %s", job->source);
		return kforge_job_set_source_dir(job, job->source);
	}
	return kf_unpack_cached(job, job->source, subdir, partial);
}

int kforge_default_locate_source(struct kforge_job *job)
{
	if (job->kind == KFORGE_MODULE_EXTERNAL) {
		kforge_plan_note(job, "external module in %s", job->module_dir);
		return 0;
	}
	if (job->kind == KFORGE_MODULE_NAME && !job->module_subdir) {
		if (kf_module_builtin(job->kernel.modules_dir, job->module_spec))
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
					       "%s is built into %s (modules.builtin): only a kernel rebuild replaces "
					       "it, a module cannot",
					       job->module_spec, job->kernel.release);
		resolve_module_dir(job);
	}
	bool partial = false;
	if (!job->source_dir) {
		if (!job->source)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "no kernel source for %s: pass --source PATH, a tree or tarball of the source "
					       "this kernel was built from (or git+URL#tag=NAME)",
					       job->kernel.release);
		int r = source_tree(job, subtree_wanted(job), &partial);
		if (r < 0)
			return r;
	}
	if (job->kind == KFORGE_MODULE_NAME) {
		int r = find_in_source(job);
		if (r == 0)
			r = check_option(job);
		if (r < 0)
			return r;
	}
	/* the option turned out unset: the full strategy rebuilds with it, from the whole tree */
	if (partial && job->changes.n && job->strategy != KFORGE_STRATEGY_HEADERS) {
		kforge_plan_note(job, "the full strategy needs the whole source tree, not only %s", job->module_subdir);
		return source_tree(job, NULL, &partial);
	}
	return 0;
}
