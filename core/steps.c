/* steps.c: the core's default for each of the seven steps: generic kbuild, as the references do it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libkmod.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "job-private.h"

/* make's variable list for the release: "KERNELRELEASE=..." etc., appended to ARGV at N. */
static size_t add_make_vars(const struct kforge_job *job, const char **argv, size_t n, size_t max)
{
	for (size_t i = 0; i < job->make_vars.n && n < max - 1; i++)
		argv[n++] = job->make_vars.v[i];
	return n;
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

bool kf_module_builtin(const char *modules_dir, const char *name)
{
	_cleanup_free_ char *line = find_module_line(modules_dir, "modules.builtin", name);
	return line != NULL;
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

/*
 * Opens and locks PATH (exclusive flock) for the rest of the job or until closed; when another
 * kforge holds it, says what it waits for (WAITING) and waits. Returns the fd, or fails the job.
 */
static int lock_wait(struct kforge_job *job, const char *path, const char *waiting)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		kf_info(job->ctx, "waiting for another kforge that is %s", waiting);
		if (flock(fd, LOCK_EX) < 0) {
			int r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return r;
		}
	}
	return fd;
}

/* Removes DIR and everything below it (no error when it does not exist). */
static int rm_rf_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return nftw(dir, rm_rf_one, 32, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

/*
 * Unpacks a source tarball once into the cache: under a lock (a second kforge waits), into
 * a temporary folder renamed when complete, so an interrupted unpack leaves nothing that
 * looks finished and the next run starts it again.
 */
static int unpack_cached(struct kforge_job *job, const char *tarball)
{
	struct stat st;
	if (stat(tarball, &st) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s: %s", tarball, strerror(errno));
	const char *base = strrchr(tarball, '/');
	_cleanup_free_ char *name = strdup(base ? base + 1 : tarball);
	if (!name)
		return -ENOMEM;
	char *ext = strstr(name, ".tar");
	if (ext)
		*ext = '\0';
	/* the tarball's size and time are in the name: a new package version unpacks anew */
	_cleanup_free_ char *key = kf_strdup_printf("%s-%lld-%lld", name, (long long)st.st_mtime, (long long)st.st_size);
	_cleanup_free_ char *srcdir = kforge_path_join(job->cache_dir, "src", NULL);
	_cleanup_free_ char *dest = kforge_path_join(srcdir, key, NULL);
	_cleanup_free_ char *partial = kf_strdup_printf("%s.partial-%d", dest, (int)getpid());
	_cleanup_free_ char *lockpath = kf_strdup_printf("%s/.%s.lock", srcdir, key);
	if (!key || !dest || !partial || !lockpath)
		return -ENOMEM;
	if (kf_is_dir(dest)) {
		kforge_plan_note(job, "kernel source %s, unpacked before into %s", tarball, dest);
		return kforge_job_set_source_dir(job, dest);
	}
	kforge_plan_note(job, "unpack %s once into the cache %s", tarball, dest);
	if (job->plan) {
		kforge_runl(job, NULL, "tar", "-xf", tarball, "-C", partial, "--strip-components=1", NULL);
		return kforge_job_set_source_dir(job, dest);
	}
	if (kf_mkdir_p(srcdir) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s (set build.cache_dir in kforge.conf)",
				       srcdir, strerror(errno));
	_cleanup_free_ char *waiting = kf_strdup_printf("unpacking %s", tarball);
	_cleanup_close_ int lock = waiting ? lock_wait(job, lockpath, waiting) : -ENOMEM;
	if (lock < 0)
		return lock;
	if (kf_is_dir(dest)) /* the other kforge finished it */
		return kforge_job_set_source_dir(job, dest);
	/* whatever an interrupted run left; nobody else unpacks while we hold the lock */
	DIR *d = opendir(srcdir);
	struct dirent *e;
	_cleanup_free_ char *prefix = kf_strdup_printf("%s.partial-", key);
	while (d && prefix && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		_cleanup_free_ char *old = kforge_path_join(srcdir, e->d_name, NULL);
		kf_info(job->ctx, "removing %s, left by an interrupted unpack", old);
		rm_rf(old);
	}
	if (d)
		closedir(d);
	kf_info(job->ctx, "unpacking %s into %s (once per source)", tarball, dest);
	if (kf_mkdir_p(partial) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s", partial, strerror(errno));
	int r = kforge_runl(job, NULL, "tar", "-xf", tarball, "-C", partial, "--strip-components=1", NULL);
	if (r != 0) {
		rm_rf(partial);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot unpack %s (tar exited %d): is it a kernel source tarball?",
				       tarball, r);
	}
	if (rename(partial, dest) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot rename %s to %s: %s", partial, dest,
				       strerror(errno));
	return kforge_job_set_source_dir(job, dest);
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
	if (!job->source_dir) {
		if (!job->source)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "no kernel source for %s: pass --source PATH, a tree or tarball of the source "
					       "this kernel was built from",
					       job->kernel.release);
		int r = kf_is_dir(job->source) ? kforge_job_set_source_dir(job, job->source)
					       : unpack_cached(job, job->source);
		if (r < 0)
			return r;
		if (kf_is_dir(job->source))
			kforge_plan_note(job, "kernel source tree %s", job->source);
	}
	if (job->kind == KFORGE_MODULE_NAME) {
		int r = find_in_source(job);
		if (r < 0)
			return r;
		return check_option(job);
	}
	return 0;
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
	return kforge_run(job, NULL, argv) == 0
		       ? 0
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

static bool objdir_ready(const struct kforge_job *job)
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
				       "no configuration for %s (no build/.config, no /boot/config-%s): install its "
				       "headers",
				       job->kernel.release, job->kernel.release);
	free(job->objdir);
	job->objdir = objdir_for(job);
	if (!job->objdir)
		return -ENOMEM;
	if (objdir_ready(job)) {
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
	size_t n = add_make_vars(job, argv, 4, ARRAY_SIZE(argv));
	argv[n++] = "olddefconfig";
	argv[n] = NULL;
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "make olddefconfig failed in %s: see %s", job->source_dir,
				       job->log_path ? job->log_path : "the log");
	return check_changes_kept(job, dst);
}

/* Mirrors SRC into DST: folders made, files symlinked; RECURSE 0 takes only SRC's own files. */
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
		if (lstat(from, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = recurse ? mirror(from, to, true) : 0;
		else if (symlink(from, to) < 0)
			r = -errno;
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
	int r = rm_rf(job->work_dir);
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
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot mirror %s into %s: %s", src, job->work_dir,
				       strerror(-r));
	kf_log_to_file(job, "# mirrored %s into %s\n", src, dst);
	return kforge_job_set_module_dir(job, dst);
}

/*
 * Two kforge runs building in the same folder (the same module for the same kernel, or one
 * external module folder) would wipe each other's objects: the second waits for the first.
 * The lock is held until the job ends (install included).
 */
static int lock_work(struct kforge_job *job, const char *dir)
{
	if (job->plan || job->work_lock >= 0)
		return 0;
	_cleanup_free_ char *locks = kforge_path_join(job->cache_dir, "locks", NULL);
	_cleanup_free_ char *path = kf_strdup_printf("%s/%08lx.lock", locks, kf_hash_str(KF_HASH_SEED, dir) & 0xffffffffUL);
	_cleanup_free_ char *waiting = kf_strdup_printf("building in %s", dir);
	if (!locks || !path || !waiting)
		return -ENOMEM;
	if (kf_mkdir_p(locks) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s (set build.cache_dir in kforge.conf)",
				       locks, strerror(errno));
	int fd = lock_wait(job, path, waiting);
	if (fd < 0)
		return fd;
	job->work_lock = fd;
	return 0;
}

int kforge_default_prepare(struct kforge_job *job)
{
	int lr = lock_work(job, job->kind == KFORGE_MODULE_EXTERNAL ? job->module_dir : job->work_dir);
	if (lr < 0)
		return lr;
	if (job->kind == KFORGE_MODULE_EXTERNAL) {
		kforge_plan_note(job, "built against the installed build directory %s",
				 kforge_job_display_path(job, job->kernel.build_dir));
		return kforge_job_set_kbuild_dir(job, job->kernel.build_dir);
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
	if (objdir_ready(job))
		return kforge_job_set_kbuild_dir(job, job->objdir);

	char jobs[16];
	snprintf(jobs, sizeof(jobs), "-j%u", job->jobs);
	_cleanup_free_ char *o = kf_strdup_printf("O=%s", job->objdir);
	const char *argv[16] = { "make", "-C", job->source_dir, o, jobs };
	size_t n = add_make_vars(job, argv, 5, ARRAY_SIZE(argv));
	argv[n++] = "modules_prepare";
	argv[n] = NULL;
	if (!job->plan)
		kf_info(job->ctx, "preparing the full tree for %s (once per kernel and config)", job->kernel.release);
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "make modules_prepare failed: see %s",
				       job->log_path ? job->log_path : "the log");
	_cleanup_free_ char *symvers = kforge_path_join(job->kernel.build_dir, "Module.symvers", NULL);
	_cleanup_free_ char *dst = kforge_path_join(job->objdir, "Module.symvers", NULL);
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

/* The .ko files a build made: NAME.ko for one module, else modules.order's list. */
static int collect_built(struct kforge_job *job)
{
	if (job->kind == KFORGE_MODULE_NAME) {
		_cleanup_free_ char *ko = kf_strdup_printf("%s/%s.ko", job->module_dir, job->module_spec);
		if (ko && !kf_is_file(ko)) {
			/* kbuild names the file after the Makefile's spelling (dashes) */
			for (char *p = strrchr(ko, '/'); p && *p; p++)
				if (*p == '_')
					*p = '-';
		}
		if (!ko || !kf_is_file(ko))
			return kforge_job_fail(job, KFORGE_EXIT_BUILD, "the build made no %s.ko in %s", job->module_spec,
					       job->module_dir);
		return kforge_job_add_built_module(job, ko);
	}
	_cleanup_free_ char *order = kforge_path_join(job->module_dir, "modules.order", NULL);
	_cleanup_free_ char *text = NULL;
	if (!order || kf_read_file(order, &text, NULL) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "the build left no modules.order in %s", job->module_dir);
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l = kf_strstrip(l);
		size_t n = strlen(l);
		if (n > 2 && strcmp(l + n - 2, ".o") == 0)
			strcpy(l + n - 2, ".ko");
		_cleanup_free_ char *ko = l[0] == '/' ? strdup(l) : kforge_path_join(job->module_dir, l, NULL);
		if (ko && kf_is_file(ko))
			kforge_job_add_built_module(job, ko);
	}
	if (!job->built.n)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "the build in %s made no module: does its Kbuild say obj-m?",
				       job->module_dir);
	return 0;
}

/*
 * External modules kforge built before, kept per kernel as cache/symvers/KVER/<key>.symvers
 * (key: the module folder's hash), so that their exports resolve (KBUILD_EXTRA_SYMBOLS).
 */
static char *symvers_file(const struct kforge_job *job, const char *module_dir)
{
	return kf_strdup_printf("%s/symvers/%s/%08lx.symvers", job->cache_dir, job->kernel.release,
				kf_hash_str(KF_HASH_SEED, module_dir) & 0xffffffffUL);
}

/* The registry's files for this kernel, newest first, without the module's own. */
static void registered_symvers(struct kforge_job *job, struct kf_strv *out)
{
	_cleanup_free_ char *own = symvers_file(job, job->module_dir);
	_cleanup_free_ char *reg = own ? strdup(own) : NULL;
	if (!reg)
		return;
	*strrchr(reg, '/') = '\0';
	struct kf_strv found = { 0 };
	DIR *d = opendir(reg);
	for (struct dirent *e; d && (e = readdir(d));) {
		_cleanup_free_ char *p = kforge_path_join(reg, e->d_name, NULL);
		if (p && kf_str_endswith(p, ".symvers") && strcmp(p, own) != 0)
			kf_strv_push(&found, p);
	}
	if (d)
		closedir(d);
	/* newest first: a rebuilt exporter's CRCs win over an older copy's */
	while (found.n) {
		size_t best = 0;
		struct stat sb, sa;
		for (size_t i = 1; i < found.n; i++)
			if (stat(found.v[i], &sa) == 0 && stat(found.v[best], &sb) == 0 &&
			    (sa.st_mtim.tv_sec > sb.st_mtim.tv_sec ||
			     (sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec > sb.st_mtim.tv_nsec)))
				best = i;
		kf_strv_push(out, found.v[best]);
		free(found.v[best]);
		found.v[best] = found.v[--found.n];
		found.v[found.n] = NULL;
	}
	kf_strv_free(&found);
}

/*
 * One KBUILD_EXTRA_SYMBOLS file: --extra-symbols first, then the registry newest first, each
 * symbol once. modpost refuses a symbol "exported twice", and the registry holds one file per
 * folder ever built: a copy of an exporter, or one built from another folder, exports the same.
 * The merged file replaces the list, so that the gate checks the CRCs the build used.
 */
static int merge_extra_symbols(struct kforge_job *job)
{
	struct kf_strv files = { 0 }, seen = { 0 };
	for (size_t i = 0; i < job->user_extra_symbols.n; i++)
		kf_strv_push(&files, job->user_extra_symbols.v[i]);
	registered_symvers(job, &files);
	if (!files.n)
		return 0;
	struct kf_strbuf out = { 0 };
	for (size_t i = 0; i < files.n; i++) {
		_cleanup_free_ char *text = NULL;
		if (kf_read_file(files.v[i], &text, NULL) < 0)
			continue;
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *sym = strchr(l, '\t');
			if (!sym)
				continue;
			_cleanup_free_ char *name = strndup(sym + 1, strcspn(sym + 1, "\t"));
			if (!name || kf_strv_contains(&seen, name))
				continue;
			kf_strv_push(&seen, name);
			kf_strbuf_appendf(&out, "%s\n", l);
		}
	}
	_cleanup_free_ char *dir = kforge_path_join(job->cache_dir, "work", job->kernel.release, NULL);
	_cleanup_free_ char *merged = kf_strdup_printf("%s/extra-%08lx.symvers", dir ? dir : "",
						       kf_hash_str(KF_HASH_SEED, job->module_dir) & 0xffffffffUL);
	int r = dir && merged ? kf_mkdir_p(dir) : -ENOMEM;
	if (r == 0)
		r = kf_write_file(merged, out.s ? out.s : "", 0644);
	if (r == 0) {
		kf_log_to_file(job, "# KBUILD_EXTRA_SYMBOLS: %zu symbols from %zu files merged into %s\n", seen.n, files.n,
			       merged);
		kf_strv_free(&job->extra_symbols);
		kf_strv_push(&job->extra_symbols, merged);
	}
	kf_strbuf_release(&out);
	kf_strv_free(&files);
	kf_strv_free(&seen);
	return r;
}

static void register_symvers(struct kforge_job *job)
{
	_cleanup_free_ char *src = kforge_path_join(job->module_dir, "Module.symvers", NULL);
	_cleanup_free_ char *text = NULL;
	if (!src || kf_read_file(src, &text, NULL) < 0 || !text[0])
		return;
	_cleanup_free_ char *dst = symvers_file(job, job->module_dir);
	if (!dst || kf_mkdir_parent(dst) < 0)
		return;
	FILE *f = fopen(dst, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int compile_once(struct kforge_job *job)
{
	_cleanup_free_ char *m = kf_strdup_printf("M=%s", job->module_dir);
	_cleanup_free_ char *target = job->kind == KFORGE_MODULE_NAME ? kf_strdup_printf("%s.ko", job->module_spec)
								      : strdup("modules");
	char jobs[16];
	snprintf(jobs, sizeof(jobs), "-j%u", job->jobs);
	struct kf_strbuf extra = { 0 };
	if (job->kind == KFORGE_MODULE_EXTERNAL) {
		if (job->plan) {
			struct kf_strv reg = { 0 };
			registered_symvers(job, &reg);
			for (size_t i = 0; i < reg.n; i++)
				kforge_job_add_extra_symbols(job, reg.v[i]);
			kf_strv_free(&reg);
		} else if (merge_extra_symbols(job) < 0) {
			kf_warn(job->ctx, "cannot merge the Module.symvers of other external modules: building without them");
		}
		_cleanup_free_ char *own = kforge_path_join(job->module_dir, "Module.symvers", NULL);
		for (size_t i = 0; i < job->extra_symbols.n; i++) {
			if (own && strcmp(job->extra_symbols.v[i], own) == 0)
				continue;
			kf_strbuf_appendf(&extra, "%s%s", extra.len ? " " : "KBUILD_EXTRA_SYMBOLS=", job->extra_symbols.v[i]);
		}
	}
	const char *argv[20] = { "make", "-C", job->kbuild_dir, m, jobs };
	size_t n = add_make_vars(job, argv, 5, ARRAY_SIZE(argv));
	if (extra.len)
		argv[n++] = extra.s;
	argv[n++] = target;
	argv[n] = NULL;
	if (!job->plan)
		kf_info(job->ctx, "compiling %s against %s", job->module_spec, kforge_job_display_path(job, job->kbuild_dir));
	int r = kforge_run(job, NULL, argv);
	kf_strbuf_release(&extra);
	return r;
}

/* True when the log's last build failed on a header the module's folder does not hold. */
static bool missing_header(const struct kforge_job *job, char *which, size_t size)
{
	_cleanup_free_ char *text = NULL;
	if (!job->log_path || kf_read_file(job->log_path, &text, NULL) < 0)
		return false;
	char *last = NULL;
	for (char *p = text; (p = strstr(p, "fatal error: ")); p++)
		last = p;
	if (!last)
		return false;
	last += strlen("fatal error: ");
	char *colon = strstr(last, ": No such file or directory");
	if (!colon || colon - last > 200)
		return false;
	snprintf(which, size, "%.*s", (int)(colon - last), last);
	return true;
}

/*
 * An external module is built in its own folder, as the kernel's guide has it; kbuild does not
 * notice that the objects there were made for another kernel, so kforge leaves a note in the
 * folder (.kforge-built-for: release and build tree) and cleans the folder when that changes.
 */
static char *external_stamp(const struct kforge_job *job)
{
	return kforge_path_join(job->module_dir, ".kforge-built-for", NULL);
}

static int clean_if_other_kernel(struct kforge_job *job)
{
	_cleanup_free_ char *stamp = external_stamp(job);
	_cleanup_free_ char *last = NULL;
	if (!stamp)
		return -ENOMEM;
	_cleanup_free_ char *want = kf_strdup_printf("%s %s", job->kernel.release, job->kbuild_dir);
	if (!want)
		return -ENOMEM;
	if (kf_read_file(stamp, &last, NULL) == 0 && strcmp(kf_strstrip(last), want) == 0)
		return 0;
	/* built for another kernel, or never by kforge (the objects there may be for any kernel) */
	_cleanup_free_ char *m = kf_strdup_printf("M=%s", job->module_dir);
	return kforge_runl(job, NULL, "make", "-C", job->kbuild_dir, m ? m : "M=", "clean", NULL) ? -EIO : 0;
}

static void write_external_stamp(struct kforge_job *job)
{
	_cleanup_free_ char *stamp = external_stamp(job);
	_cleanup_free_ char *want = kf_strdup_printf("%s %s\n", job->kernel.release, job->kbuild_dir);
	if (stamp && want && kf_write_file(stamp, want, 0644) < 0)
		kf_dbg(job->ctx, "cannot write %s", stamp);
}

int kforge_default_compile(struct kforge_job *job)
{
	if (!job->kbuild_dir || !job->module_dir)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "nothing prepared to compile");
	if (job->kind == KFORGE_MODULE_EXTERNAL && clean_if_other_kernel(job) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "make clean in %s failed: see %s", job->module_dir,
				       job->log_path ? job->log_path : "the log");
	int r = compile_once(job);
	char header[256];
	if (r != 0 && job->strategy_chosen && job->strategy == KFORGE_STRATEGY_HEADERS &&
	    job->kind != KFORGE_MODULE_EXTERNAL && missing_header(job, header, sizeof(header))) {
		/* the headers strategy cannot see the rest of the source: the full tree can */
		kf_warn(job->ctx, "%s needs %s, which is outside %s: building against the full source tree instead",
			job->module_spec, header, job->module_subdir);
		job->strategy = KFORGE_STRATEGY_FULL;
		if ((r = kforge_default_derive_version(job)) < 0 || (r = kforge_default_configure(job)) < 0 ||
		    (r = kforge_default_prepare(job)) < 0)
			return r;
		r = compile_once(job);
	}
	if (r != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "the build of %s failed (make exited %d): see %s",
				       job->module_spec, r, job->log_path ? job->log_path : "the log");
	if (job->plan)
		return 0;
	r = collect_built(job);
	if (r == 0 && job->kind == KFORGE_MODULE_EXTERNAL) {
		register_symvers(job);
		write_external_stamp(job);
	}
	return r;
}

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

bool kforge_job_initramfs_needed(struct kforge_job *job, const char *const lister[])
{
	if (job->initramfs_forced)
		return true;
	_cleanup_free_ char *out = NULL;
	if (kforge_run_capture(job, NULL, lister, &out) != 0 || job->plan)
		return false;
	for (size_t i = 0; i < job->built.n; i++) {
		const char *leaf = strrchr(job->built.v[i], '/') + 1;
		_cleanup_free_ char *needle = kf_strdup_printf("/%s", leaf);
		if (needle && strstr(out, needle))
			return true;
	}
	return false;
}

/* kernel-install's image of the kernel: ENTRY_TOKEN/KVER/initrd in the boot or EFI partition. */
static char *kernel_install_image(struct kforge_job *job)
{
	const char *root = kforge_ctx_root(job->ctx);
	_cleanup_free_ char *token = NULL;
	static const char *const token_files[] = { "/etc/kernel/entry-token", "/etc/machine-id" };
	for (size_t i = 0; i < ARRAY_SIZE(token_files) && !token; i++) {
		_cleanup_free_ char *p = kforge_path_find(root, token_files[i]);
		if (p && kf_read_file(p, &token, NULL) == 0 && !kf_strstrip(token)[0]) {
			free(token);
			token = NULL;
		}
	}
	static const char *const tops[] = { "/boot", "/efi", "/boot/efi" };
	char *first = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(tops); i++) {
		char *img = kf_strdup_printf("%s/%s/%s/initrd", tops[i], token ? kf_strstrip(token) : "", job->kernel.release);
		if (img && kforge_path_exists(root, img)) {
			free(first);
			return img;
		}
		if (!first)
			first = img;
		else
			free(img);
	}
	return first;
}

int kforge_default_refresh_initramfs(struct kforge_job *job)
{
	const char *gen = job->initramfs;
	const char *kver = job->kernel.release;
	if (job->install_mod_path) {
		kforge_plan_note(job, "installed under --install-mod-path %s: not the system's initramfs, nothing to refresh",
				 job->install_mod_path);
		return 0;
	}
	if (strcmp(gen, "none") == 0) {
		kforge_plan_note(job, "no initramfs generator under the root: nothing to refresh");
		return 0;
	}
	const char *argv[8] = { NULL };
	const char *lister[4] = { NULL };
	_cleanup_free_ char *img = NULL, *kimg = NULL;
	if (strcmp(gen, "initramfs-tools") == 0) {
		img = kf_strdup_printf("/boot/initrd.img-%s", kver);
		const char *a[] = { "update-initramfs", "-u", "-k", kver, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitramfs";
	} else if (strcmp(gen, "dracut") == 0) {
		img = kf_strdup_printf("/boot/initramfs-%s.img", kver);
		const char *a[] = { "dracut", "-f", "--kver", kver, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitrd";
	} else if (strcmp(gen, "mkinitcpio") == 0) {
		img = strdup("/boot/initramfs-custom.img");
		const char *a[] = { "mkinitcpio", "-k", kver, "-g", img, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitcpio";
	} else if (strcmp(gen, "booster") == 0) {
		img = strdup("/boot/booster-custom.img");
		const char *a[] = { "booster", "build", "--force", "--kernel-version", kver, img, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitcpio";
	} else if (strcmp(gen, "kernel-install") == 0) {
		img = kernel_install_image(job);
		kimg = kf_strdup_printf("/usr/lib/modules/%s/vmlinuz", kver);
		if (kimg && !kforge_path_exists(kforge_ctx_root(job->ctx), kimg)) {
			free(kimg);
			kimg = kf_strdup_printf("/boot/vmlinuz-%s", kver);
		}
		const char *a[] = { "kernel-install", "add", kver, kimg, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitrd";
	} else {
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "unknown initramfs generator \"%s\"", gen);
	}
	if (!img)
		return -ENOMEM;
	_cleanup_free_ char *host_img = kforge_path_find(kforge_ctx_root(job->ctx), img);
	lister[1] = host_img ? host_img : img;
	bool needed = job->initramfs_forced || ((host_img || job->plan) && kforge_job_initramfs_needed(job, lister));
	const char *leaf = strrchr(job->module_spec, '/');
	leaf = leaf && leaf[1] ? leaf + 1 : job->module_spec;
	if (job->plan) {
		if (job->initramfs_forced)
			kforge_plan_note(job, "--initramfs or install.initramfs = always: refreshed whatever %s holds:", img);
		else
			kforge_plan_note(job, "only when %s is in %s (the command above), or with --initramfs:", leaf, img);
		return kforge_run(job, NULL, argv) ? -EIO : 0;
	}
	if (!needed) {
		kf_info(job->ctx, "%s is not in %s: the initramfs stays as it is (--initramfs refreshes it anyway)", leaf,
			host_img ? img : "any initramfs");
		return 0;
	}
	kf_info(job->ctx, "refreshing the initramfs of %s with %s", kver, argv[0]);
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_initramfs_failed(job, argv);
	return 0;
}

int kforge_initramfs_failed(struct kforge_job *job, const char *const argv[])
{
	_cleanup_free_ char *cmd = NULL;
	struct kf_strbuf b = { 0 };
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			kf_strbuf_append(&b, " ");
		kf_strbuf_append_quoted(&b, argv[i]);
	}
	cmd = kf_strbuf_steal(&b);
	return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
			       "%s failed (its output is above): the module stays installed and recorded, but the initramfs "
			       "of %s still holds what it held; fix the cause and run it again: %s (the next kforge install "
			       "or uninstall for %s retries it; log: %s)",
			       argv[0], job->kernel.release, cmd ? cmd : argv[0], job->kernel.release,
			       job->log_path ? job->log_path : "none");
}
