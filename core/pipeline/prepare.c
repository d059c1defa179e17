/* prepare.c: the default "prepare" step: the module's folder mirrored, the full tree prepared to the release. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"
#include "txn/txn.h"

/* TO, in a mirror kept from an earlier build, is made a link to FROM (it is one already, or it
 * goes: the build user may have put anything there) */
static int relink(const char *from, const char *to)
{
	char at[PATH_MAX];
	ssize_t n = readlink(to, at, sizeof(at) - 1);
	if (n >= 0) {
		at[n] = '\0';
		if (strcmp(at, from) == 0)
			return 0;
	}
	struct stat st;
	if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode) ? kf_rm_rf(to) < 0 : unlink(to) < 0)
		return -errno;
	return symlink(from, to) < 0 ? -errno : 0;
}

/*
 * Mirrors SRC into DST: folders made, files symlinked (a prepared tree's build outputs left out:
 * kbuild would write through the link into the tree); RECURSE 0 takes only SRC's own files.
 */
static int mirror(const char *src, const char *dst, bool recurse)
{
	if (kf_mkdir_p(dst) < 0)
		return -errno;
	DIR *d = opendir(src);
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *from = kforge_path_join(src, e->d_name, NULL);
		_cleanup_free_ char *to = kforge_path_join(dst, e->d_name, NULL);
		if (!from || !to) {
			r = -ENOMEM;
			break;
		}
		struct stat st;
		if (lstat(from, &st) < 0 || (!S_ISDIR(st.st_mode) && kf_build_output(e->d_name)))
			continue;
		if (S_ISDIR(st.st_mode))
			r = recurse ? mirror(from, to, true) : 0;
		else if (symlink(from, to) < 0 && (errno != EEXIST || (r = relink(from, to)) < 0))
			r = r < 0 ? r : -errno;
	}
	closedir(d);
	return r;
}

/* The sub-folders a module's own objects live in ("btrfs-y += tests/x.o" -> tests). */
static void object_subdirs(const char *makefile, const char *name, struct kf_strv *out)
{
	_cleanup_free_ char *text = NULL;
	if (kf_read_file(makefile, &text, NULL) < 0)
		return;
	_cleanup_free_ char *prefix = kf_strdup_printf("%s-", name);
	bool in = false;
	for (char *l = text, *next; prefix && l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		/* a continued line stays in the assignment it started */
		bool starts = strncmp(kf_strstrip(l), prefix, strlen(prefix)) == 0;
		if (!starts && !in)
			continue;
		in = l[0] && l[strlen(l) - 1] == '\\';
		char *save = NULL;
		for (char *tok = strtok_r(l, " \t\\", &save); tok; tok = strtok_r(NULL, " \t\\", &save)) {
			char *slash = strchr(tok, '/');
			if (!slash || !kf_str_endswith(tok, ".o"))
				continue;
			*slash = '\0';
			if (!kf_strv_contains(out, tok))
				kf_strv_push(out, tok);
		}
	}
}

/* The work folder, kept when STAMP (what its last build was for) says WANT, else removed: another
 * target starts over. 0 or -errno. */
static int start_over_unless(struct kforge_job *job, const char *stamp, const char *want)
{
	_cleanup_free_ char *last = NULL;
	if (kf_read_file(stamp, &last, NULL) == 0 && strcmp(last, want) == 0) {
		kf_log_to_file(job, "# %s kept from the last build for the same target: only what changed is rebuilt\n",
			       job->work_dir);
		return 0;
	}
	if (last)
		kf_log_to_file(job, "# %s was built for %s: starting over\n", job->work_dir, kf_strstrip(last));
	return kf_rm_rf(job->work_dir);
}

/*
 * The module's folder, mirrored out of the source as symlinks, so kbuild writes its objects
 * there and the cached source stays clean. A single named module takes only its folder's own
 * files and the sub-folders its objects name (drivers/net for dummy: a hundred links, not the
 * thousands of the whole folder); an in-tree folder is taken whole.
 */
static int copy_module_dir(struct kforge_job *job)
{
	_cleanup_free_ char *src = kforge_path_join(job->source_dir, job->module_subdir, NULL);
	if (!src)
		return -ENOMEM;
	if (job->plan) {
		_cleanup_free_ char *at = kforge_path_join(job->work_dir, job->module_subdir, NULL);
		kforge_plan_note(job, "mirror %s%s into %s (symlinks)", src,
				 job->kind == KFORGE_MODULE_NAME ? "'s own files and the sub-folders its objects name" : "",
				 at);
		return kforge_job_set_module_dir(job, at);
	}
	if (!kf_is_dir(src))
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s is not a folder of the source %s", job->module_subdir,
				       job->source_dir);
	/* the folder sits at its own path under the work root, and each folder above it has its
	 * files linked too, so that #include "../x.h" finds what it finds in the source */
	_cleanup_free_ char *dst = kforge_path_join(job->work_dir, job->module_subdir, NULL);
	if (!dst)
		return -ENOMEM;
	/* the mirror of an earlier build for the same source and target is kept, its objects with it:
	 * kbuild rebuilds what changed (the links follow the source); another target starts over */
	const char *kbuild = job->strategy == KFORGE_STRATEGY_HEADERS ? job->kernel.build_dir : job->objdir;
	_cleanup_free_ char *config = kbuild ? kforge_path_join(kbuild, ".config", NULL) : NULL;
	char sum[65] = "-";
	if (config && kf_sha256_file(config, sum) < 0)
		strcpy(sum, "-");
	_cleanup_free_ char *stamp = kforge_path_join(job->work_dir, ".kforge-built-for", NULL);
	_cleanup_free_ char *want = kf_strdup_printf("%s %s %s %s\n", job->source_dir, job->kernel.release,
						     kbuild ? kbuild : "-", sum);
	if (!stamp || !want)
		return -ENOMEM;
	int r = start_over_unless(job, stamp, want);
	if (r == 0)
		r = mirror(src, dst, job->kind != KFORGE_MODULE_NAME);
	_cleanup_free_ char *up = strdup(job->module_subdir);
	for (char *slash = up ? strrchr(up, '/') : NULL; r == 0 && slash; slash = strrchr(up, '/')) {
		*slash = '\0';
		_cleanup_free_ char *a_src = kforge_path_join(job->source_dir, up, NULL);
		_cleanup_free_ char *a_dst = kforge_path_join(job->work_dir, up, NULL);
		r = a_src && a_dst ? mirror(a_src, a_dst, false) : -ENOMEM;
	}
	if (r == 0 && job->kind == KFORGE_MODULE_NAME) {
		struct kf_strv subs = { 0 };
		static const char *const files[] = { "Makefile", "Kbuild" };
		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			_cleanup_free_ char *mk = kforge_path_join(src, files[i], NULL);
			if (mk)
				object_subdirs(mk, job->module_spec, &subs);
		}
		for (size_t i = 0; r == 0 && i < subs.n; i++) {
			_cleanup_free_ char *from = kforge_path_join(src, subs.v[i], NULL);
			_cleanup_free_ char *to = kforge_path_join(dst, subs.v[i], NULL);
			if (from && to && kf_is_dir(from) && !kf_is_dir(to))
				r = mirror(from, to, true);
		}
		kf_strv_free(&subs);
	}
	if (r == 0)
		r = kf_write_file(stamp, want, 0644);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot mirror %s into %s: %s", src, job->work_dir,
				       strerror(-r));
	kf_log_to_file(job, "# mirrored %s into %s\n", src, dst);
	return kforge_job_set_module_dir(job, dst);
}

/*
 * An external module is built in kforge's copy of its folder, one per kernel (work/KVER/NAME-HASH),
 * as DKMS builds in its own tree: the user's folder (a package's under /usr/src) is never written,
 * and a build for another kernel, failed or not, never touches this kernel's objects. The copy
 * notes the build dir it was built against (.kforge-built-for) and starts over when that changes.
 */
static int copy_external(struct kforge_job *job)
{
	const char *src = job->module_origin ? job->module_origin : job->module_dir;
	if (job->plan) {
		kforge_plan_note(job, "copy %s into %s (only what changed since the last build), built there", src,
				 job->work_dir);
		return kforge_job_set_module_dir(job, job->work_dir);
	}
	_cleanup_free_ char *stamp = kforge_path_join(job->work_dir, ".kforge-built-for", NULL);
	_cleanup_free_ char *want = kf_strdup_printf("%s %s\n", job->kernel.release, job->kbuild_dir);
	if (!stamp || !want)
		return -ENOMEM;
	int r = start_over_unless(job, stamp, want);
	if (r == 0)
		r = kf_mirror_external(job, src, job->work_dir);
	if (r == 0)
		r = kf_write_file(stamp, want, 0644);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "cannot copy %s into %s: %s (set build.cache_dir in kforge.conf to a writable "
				       "folder)",
				       src, job->work_dir, strerror(-r));
	return kforge_job_set_module_dir(job, job->work_dir);
}

int kforge_default_prepare(struct kforge_job *job)
{
	int lr = kf_lock_work(job, job->work_dir);
	if (lr < 0)
		return lr;
	if (job->kind == KFORGE_MODULE_EXTERNAL) {
		kforge_plan_note(job, "built against the installed build directory %s",
				 kforge_job_display_path(job, job->kernel.build_dir));
		int r = kforge_job_set_kbuild_dir(job, job->kernel.build_dir);
		return r < 0 ? r : copy_external(job);
	}
	if (!job->module_subdir)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "cannot tell which folder of the source builds %s: name the folder instead "
				       "(e.g. fs/btrfs)",
				       job->module_spec);
	int r = copy_module_dir(job);
	if (r < 0)
		return r;
	if (job->strategy == KFORGE_STRATEGY_HEADERS)
		return kforge_job_set_kbuild_dir(job, job->kernel.build_dir);
	if (kf_objdir_ready(job))
		return kforge_job_set_kbuild_dir(job, job->objdir);

	char jobs[16];
	_cleanup_free_ char *o = kf_strdup_printf("O=%s", job->objdir);
	const char *argv[16] = { "make", "-C", job->source_dir, o, kf_make_jobs(job, jobs, sizeof(jobs)) };
	size_t n = kf_add_make_vars(job, argv, argv[4] ? 5 : 4, ARRAY_SIZE(argv));
	argv[n++] = "modules_prepare";
	argv[n] = NULL;
	if (!job->plan)
		kf_info(job->ctx, "preparing the full tree for %s (once per kernel and config)", job->kernel.release);
	/* the kernel tree's own code: as the build user, sandboxed, the prepared tree all it writes */
	if ((r = kf_run_build(job, job->objdir, argv, job->objdir)) == -ECANCELED)
		return r;
	if (r != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "make modules_prepare failed: see %s",
				       kf_job_log_name(job));
	_cleanup_free_ char *symvers = kforge_path_join(job->kernel.build_dir, "Module.symvers", NULL);
	_cleanup_free_ char *dst = kforge_path_join(job->objdir, "Module.symvers", NULL);
	/* no Module.symvers in the build dir: the kernel package's own (RHEL: symvers-KVER.xz) */
	if (symvers && !kf_is_file(symvers) && job->kernel.symvers_packaged) {
		const char *plain = job->kernel.symvers_packaged;
		if (job->plan)
			kforge_plan_note(job, "Module.symvers: %s decompressed",
					 kforge_job_display_path(job, job->kernel.symvers_packaged));
		else if ((r = kf_job_packaged_symvers(job, &plain)) < 0)
			return r;
		free(symvers);
		symvers = strdup(plain);
	}
	if (kforge_runl(job, NULL, "cp", symvers, dst, NULL) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "the target's Module.symvers (%s) cannot be copied: reinstall its headers", symvers);
	if (job->plan) {
		kforge_plan_note(job, "check include/generated/utsrelease.h says %s", job->kernel.release);
		return kforge_job_set_kbuild_dir(job, job->objdir);
	}
	char uts[KFORGE_RELEASE_MAX + 1];
	r = kforge_release_read_uts(job->objdir, uts, sizeof(uts));
	if (r < 0 || strcmp(uts, job->kernel.release) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD,
				       "after modules_prepare the tree says release \"%s\", the target is \"%s\": the "
				       "module would not load",
				       r < 0 ? "(no utsrelease.h)" : uts, job->kernel.release);
	_cleanup_free_ char *stamp = kforge_path_join(job->objdir, ".kforge-prepared", NULL);
	FILE *f = stamp ? fopen(stamp, "we") : NULL;
	if (f) {
		fprintf(f, "%s\n", job->kernel.release);
		fclose(f);
	}
	return kforge_job_set_kbuild_dir(job, job->objdir);
}

