/* steps.c: the core's default for each of the seven steps: generic kbuild, as the references do it. */
#include "config.h"

#include <errno.h>
#include <libkmod.h>
#include <string.h>

#include "job-private.h"

/* make's variable list for the release: "KERNELRELEASE=..." etc., appended to ARGV at N. */
static size_t add_make_vars(const struct kforge_job *job, const char **argv, size_t n, size_t max)
{
	for (size_t i = 0; i < job->make_vars.n && n < max - 1; i++)
		argv[n++] = job->make_vars.v[i];
	return n;
}

/* The module's name as the user asked for it: "btrfs", or the leaf of a directory. */
static const char *module_leaf(const struct kforge_job *job)
{
	const char *s = job->module_spec;
	const char *slash = strrchr(s, '/');
	return slash && slash[1] ? slash + 1 : s;
}

/* "kernel/fs/btrfs/btrfs.ko.zst" -> "fs/btrfs"; NULL when not under kernel/. */
static char *subdir_of(const char *path)
{
	const char *k = strstr(path, "kernel/");
	if (!k || (k != path && k[-1] != '/'))
		return NULL;
	k += strlen("kernel/");
	const char *slash = strrchr(k, '/');
	return slash ? strndup(k, (size_t)(slash - k)) : NULL;
}

/* Module names compare with - and _ alike, as kmod does. */
static bool same_module_name(const char *a, const char *b, size_t blen)
{
	size_t i = 0;
	for (; a[i] && i < blen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return !a[i] && i == blen;
}

/*
 * Finds NAME's line in a modules.dep or modules.builtin text ("kernel/fs/x/x.ko[.zst][: deps]")
 * and returns a copy of its path, or NULL.
 */
static char *find_module_line(const char *modules_dir, const char *file, const char *name)
{
	_cleanup_free_ char *p = kforge_path_join(modules_dir, file, NULL);
	_cleanup_free_ char *text = NULL;
	if (!p || kf_read_file(p, &text, NULL) < 0)
		return NULL;
	for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		size_t len = strcspn(l, ":\n");
		const char *base = l;
		for (size_t i = 0; i < len; i++)
			if (l[i] == '/')
				base = l + i + 1;
		const char *ko = strstr(base, ".ko");
		if (ko && ko < l + len && same_module_name(name, base, (size_t)(ko - base)))
			return strndup(l, len);
	}
	return NULL;
}

/* Finds NAME's in-tree directory: libkmod on the target's indexes, else modules.dep. */
static int resolve_module_dir(struct kforge_job *job)
{
	const char *name = job->module_spec;
	_cleanup_free_ char *path = NULL;
	struct kmod_ctx *kctx = kmod_new(job->kernel.modules_dir, NULL);
	if (kctx) {
		kmod_set_log_priority(kctx, LOG_EMERG);
		struct kmod_module *mod = NULL;
		if (kmod_module_new_from_name(kctx, name, &mod) == 0) {
			const char *p = kmod_module_get_path(mod);
			if (p)
				path = strdup(p);
			kmod_module_unref(mod);
		}
		kmod_unref(kctx);
	}
	if (!path)
		/* a root whose indexes were never built (depmod writes the .bin files libkmod
		 * reads; a copied or fixture tree may lack them): the text modules.dep */
		path = find_module_line(job->kernel.modules_dir, "modules.dep", name);
	_cleanup_free_ char *sub = path ? subdir_of(path) : NULL;
	if (!sub)
		return -ENOENT;
	kforge_plan_note(job, "%s is %s in the target's modules.dep: built from %s/", name, path, sub);
	return kforge_job_set_module_subdir(job, sub);
}

/* True when NAME is listed in modules.builtin: compiled into the kernel image. */
static bool is_builtin(const struct kforge_job *job, const char *name)
{
	_cleanup_free_ char *line = find_module_line(job->kernel.modules_dir, "modules.builtin", name);
	return line != NULL;
}

int kforge_default_locate_source(struct kforge_job *job)
{
	if (job->kind == KFORGE_MODULE_EXTERNAL) {
		kforge_plan_note(job, "external module in %s", job->module_dir);
		return 0;
	}
	if (job->kind == KFORGE_MODULE_NAME && !job->module_subdir) {
		if (is_builtin(job, job->module_spec))
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
					       "%s is built into %s (modules.builtin): only a kernel rebuild replaces "
					       "it, a module cannot",
					       job->module_spec, job->kernel.release);
		if (resolve_module_dir(job) < 0)
			kforge_plan_note(job, "%s is not in the target's modules.dep: its directory is looked up in "
					      "the source",
					 job->module_spec);
	}
	if (!job->source)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "no kernel source for %s: pass --source PATH, a tree or tarball of the source "
				       "this kernel was built from",
				       job->kernel.release);
	if (kf_is_dir(job->source)) {
		kforge_plan_note(job, "kernel source tree %s", job->source);
		return kforge_job_set_source_dir(job, job->source);
	}
	/* a tarball: unpacked once into the cache, under a temporary name, then renamed */
	const char *base = strrchr(job->source, '/');
	_cleanup_free_ char *name = strdup(base ? base + 1 : job->source);
	if (!name)
		return -ENOMEM;
	char *ext = strstr(name, ".tar");
	if (ext)
		*ext = '\0';
	_cleanup_free_ char *dest = kforge_path_join(job->cache_dir, "src", name, NULL);
	_cleanup_free_ char *partial = kf_strdup_printf("%s.partial-%d", dest, (int)getpid());
	if (!dest || !partial)
		return -ENOMEM;
	if (kf_is_dir(dest)) {
		kforge_plan_note(job, "kernel source %s, unpacked before into %s", job->source, dest);
		return kforge_job_set_source_dir(job, dest);
	}
	kforge_plan_note(job, "unpack %s into the cache %s", job->source, dest);
	if (!job->plan && kf_mkdir_p(partial) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s (set build.cache_dir)",
				       partial, strerror(errno));
	int r = kforge_runl(job, NULL, "tar", "-xf", job->source, "-C", partial, "--strip-components=1", NULL);
	if (r != 0) {
		kforge_runl(job, NULL, "rm", "-rf", partial, NULL);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot unpack %s (tar exited %d): is it a kernel "
								 "source tarball?",
				       job->source, r);
	}
	if (!job->plan && rename(partial, dest) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot rename %s to %s: %s", partial, dest,
				       strerror(errno));
	return kforge_job_set_source_dir(job, dest);
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
	if (job->strategy != KFORGE_STRATEGY_FULL)
		return 0;
	/* KERNELRELEASE on make's command line reproduces any release exactly (verified on 6.1) */
	_cleanup_free_ char *kr = kf_strdup_printf("KERNELRELEASE=%s", rel->release);
	return kr ? kforge_job_add_make_var(job, kr) : -ENOMEM;
}

/* CONFIG_X=y|m|n|value into scripts/config arguments. */
static int apply_change(struct kforge_job *job, const char *change)
{
	_cleanup_free_ char *opt = strdup(change);
	if (!opt)
		return -ENOMEM;
	char *eq = strchr(opt, '=');
	if (!eq || strncmp(opt, "CONFIG_", 7) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_USAGE, "--set %s: expected CONFIG_NAME=VALUE (y, m, n or a value)",
				       change);
	*eq = '\0';
	const char *val = eq + 1;
	const char *action = strcmp(val, "y") == 0   ? "--enable"
			     : strcmp(val, "m") == 0 ? "--module"
			     : strcmp(val, "n") == 0 ? "--disable"
						     : "--set-val";
	_cleanup_free_ char *cfg = kforge_path_join(job->source_dir, ".config", NULL);
	const char *argv[] = { "scripts/config", "--file", cfg, action, opt + 7, NULL, NULL };
	if (strcmp(action, "--set-val") == 0)
		argv[5] = val;
	return kforge_run(job, job->source_dir, argv) == 0
		       ? 0
		       : kforge_job_fail(job, KFORGE_EXIT_BUILD, "scripts/config could not apply %s", change);
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
				       "no configuration for %s (no build/.config, no /boot/config-%s): install its "
				       "headers",
				       job->kernel.release, job->kernel.release);
	_cleanup_free_ char *dst = kforge_path_join(job->source_dir, ".config", NULL);
	if (kforge_runl(job, NULL, "cp", job->kernel.config_file, dst, NULL) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot copy %s into %s", job->kernel.config_file,
				       job->source_dir);
	for (size_t i = 0; i < job->changes.n; i++) {
		int r = apply_change(job, job->changes.v[i]);
		if (r < 0)
			return r;
	}
	const char *argv[16] = { "make", "-C", job->source_dir };
	size_t n = add_make_vars(job, argv, 3, ARRAY_SIZE(argv));
	argv[n++] = "olddefconfig";
	argv[n] = NULL;
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "make olddefconfig failed in %s: see %s",
				       job->source_dir, job->log_path ? job->log_path : "the log");
	return 0;
}

int kforge_default_prepare(struct kforge_job *job)
{
	if (job->kind == KFORGE_MODULE_EXTERNAL) {
		kforge_plan_note(job, "built against the installed build directory %s",
				 kforge_job_display_path(job, job->kernel.build_dir));
		return kforge_job_set_kbuild_dir(job, job->kernel.build_dir);
	}
	if (!job->module_subdir)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "cannot tell which directory of the source builds %s: name the directory "
				       "instead (e.g. fs/btrfs)",
				       job->module_spec);
	_cleanup_free_ char *src = kforge_path_join(job->source_dir, job->module_subdir, NULL);
	if (!job->plan && !kf_is_dir(src))
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s is not a directory of the source %s",
				       job->module_subdir, job->source_dir);
	if (job->strategy == KFORGE_STRATEGY_HEADERS) {
		/* only the module's directory, built as an external module against the headers */
		_cleanup_free_ char *from = kforge_path_join(src, ".", NULL);
		if (kforge_runl(job, NULL, "rm", "-rf", job->work_dir, NULL) != 0 ||
		    kforge_runl(job, NULL, "mkdir", "-p", job->work_dir, NULL) != 0 ||
		    kforge_runl(job, NULL, "cp", "-a", from, job->work_dir, NULL) != 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot copy %s into %s", src,
					       job->work_dir);
		kforge_job_set_module_dir(job, job->work_dir);
		return kforge_job_set_kbuild_dir(job, job->kernel.build_dir);
	}
	const char *argv[16] = { "make", "-C", job->source_dir, "-j" };
	char jobs[16];
	snprintf(jobs, sizeof(jobs), "%u", job->jobs);
	argv[4] = jobs;
	size_t n = add_make_vars(job, argv, 5, ARRAY_SIZE(argv));
	argv[n++] = "modules_prepare";
	argv[n] = NULL;
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "make modules_prepare failed in %s: see %s",
				       job->source_dir, job->log_path ? job->log_path : "the log");
	_cleanup_free_ char *symvers = kforge_path_join(job->kernel.build_dir, "Module.symvers", NULL);
	_cleanup_free_ char *dst = kforge_path_join(job->source_dir, "Module.symvers", NULL);
	if (kforge_runl(job, NULL, "cp", symvers, dst, NULL) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "the target's Module.symvers (%s) cannot be copied: "
								 "reinstall its headers",
				       symvers);
	if (!job->plan) {
		char uts[KFORGE_RELEASE_MAX + 1];
		int r = kforge_release_read_uts(job->source_dir, uts, sizeof(uts));
		if (r < 0 || strcmp(uts, job->kernel.release) != 0)
			return kforge_job_fail(job, KFORGE_EXIT_BUILD,
					       "after modules_prepare the source says release \"%s\", the target is "
					       "\"%s\": the module would not load",
					       r < 0 ? "(no utsrelease.h)" : uts, job->kernel.release);
	} else {
		kforge_plan_note(job, "check include/generated/utsrelease.h says %s", job->kernel.release);
	}
	kforge_job_set_module_dir(job, src);
	return kforge_job_set_kbuild_dir(job, job->source_dir);
}

int kforge_default_compile(struct kforge_job *job)
{
	if (!job->kbuild_dir || !job->module_dir)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "nothing prepared to compile");
	_cleanup_free_ char *m = kf_strdup_printf("M=%s", job->module_dir);
	char jobs[16];
	snprintf(jobs, sizeof(jobs), "%u", job->jobs);
	const char *argv[16] = { "make", "-C", job->kbuild_dir, m, "-j", jobs };
	size_t n = add_make_vars(job, argv, 6, ARRAY_SIZE(argv));
	argv[n++] = "modules";
	argv[n] = NULL;
	int r = kforge_run(job, NULL, argv);
	if (r != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "the build of %s failed (make exited %d): see %s",
				       job->module_spec, r, job->log_path ? job->log_path : "the log");
	return 0;
}

int kforge_default_install(struct kforge_job *job)
{
	_cleanup_free_ char *dest = kforge_path_join(job->kernel.modules_dir, job->install_subdir, NULL);
	const char *where = kforge_job_display_path(job, dest);
	if (job->plan) {
		kforge_plan_note(job, "not in this version: install (the validation gate, then %s/%s.ko%s, then "
				      "depmod) comes with the next release; `kforge build` leaves the module in %s",
				 where, module_leaf(job), kforge_compression_suffix(job->compression),
				 job->module_dir ? job->module_dir : "the work folder");
		return 0;
	}
	return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
			       "install is not implemented in this version: the validation gate that keeps a module "
			       "that would not load off %s comes first; `kforge build %s` builds it into %s",
			       where, job->module_spec, job->module_dir ? job->module_dir : "the work folder");
}

/* The command that regenerates KVER's image for each generator. */
int kforge_default_refresh_initramfs(struct kforge_job *job)
{
	const char *gen = job->initramfs;
	const char *kver = job->kernel.release;
	if (strcmp(gen, "none") == 0) {
		kforge_plan_note(job, "no initramfs generator under the root: nothing to refresh");
		return 0;
	}
	kforge_plan_note(job, "only when %s is in %s's current initramfs (or --initramfs):", module_leaf(job), kver);
	if (strcmp(gen, "initramfs-tools") == 0)
		return kforge_runl(job, NULL, "update-initramfs", "-u", "-k", kver, NULL) ? -EIO : 0;
	if (strcmp(gen, "dracut") == 0)
		return kforge_runl(job, NULL, "dracut", "-f", "--kver", kver, NULL) ? -EIO : 0;
	if (strcmp(gen, "mkinitcpio") == 0)
		return kforge_runl(job, NULL, "mkinitcpio", "-k", kver, "-g",
				   "/boot/initramfs-custom.img", NULL) ? -EIO : 0;
	if (strcmp(gen, "booster") == 0)
		return kforge_runl(job, NULL, "booster", "build", "--force", "--kernel-version", kver,
				   "/boot/booster-custom.img", NULL) ? -EIO : 0;
	if (strcmp(gen, "kernel-install") == 0) {
		_cleanup_free_ char *img = kf_strdup_printf("/lib/modules/%s/vmlinuz", kver);
		return kforge_runl(job, NULL, "kernel-install", "add", kver, img, NULL) ? -EIO : 0;
	}
	return kforge_job_fail(job, KFORGE_EXIT_MISSING, "unknown initramfs generator \"%s\"", gen);
}
