/* compile.c: the default "compile" step: make M=, the built modules collected, external modules' symbols. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"

/* The folder the user named: an external module's own, else the one built. */
static const char *origin_dir(const struct kforge_job *job)
{
	return job->module_origin ? job->module_origin : job->module_dir;
}

/* The modules.order files under DIR/REL, DEPTH folders down, into OUT (host paths). */
static void find_orders(const char *dir, const char *rel, int depth, struct kf_strv *out)
{
	_cleanup_free_ char *here = rel ? kforge_path_join(dir, rel, NULL) : strdup(dir);
	_cleanup_free_ char *order = here ? kforge_path_join(here, "modules.order", NULL) : NULL;
	if (order && kf_is_file(order))
		kf_strv_push(out, order);
	DIR *d = depth > 0 && here ? opendir(here) : NULL;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.' || e->d_type == DT_LNK)
			continue;
		_cleanup_free_ char *sub = rel ? kforge_path_join(rel, e->d_name, NULL) : strdup(e->d_name);
		_cleanup_free_ char *path = sub ? kforge_path_join(dir, sub, NULL) : NULL;
		if (path && kf_is_dir(path))
			find_orders(dir, sub, depth - 1, out);
	}
	if (d)
		closedir(d);
}

/* The modules ORDER lists (paths relative to its folder), each built .ko once. */
static void add_ordered(struct kforge_job *job, const char *order)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *base = strdup(order);
	if (!base || kf_read_file(order, &text, NULL) < 0)
		return;
	*strrchr(base, '/') = '\0';
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l = kf_strstrip(l);
		size_t n = strlen(l);
		if (n > 2 && strcmp(l + n - 2, ".o") == 0)
			strcpy(l + n - 2, ".ko");
		_cleanup_free_ char *ko = l[0] == '/' ? strdup(l) : kforge_path_join(base, l, NULL);
		char real[PATH_MAX];
		struct stat st;
		/* the build user wrote the list: only a file it built, in the build folder, no link out */
		if (!ko || lstat(ko, &st) < 0 || !S_ISREG(st.st_mode) || !kf_path_leads_below(ko, job->module_dir, false) ||
		    !realpath(ko, real))
			continue;
		bool have = false;
		for (size_t i = 0; i < job->built.n && !have; i++) {
			char other[PATH_MAX];
			have = realpath(job->built.v[i], other) && strcmp(other, real) == 0;
		}
		if (!have)
			kforge_job_add_built_module(job, ko);
	}
}

/* NAME.ko, the one module a build by name made. */
static int collect_named(struct kforge_job *job)
{
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

/* The modules a folder's build made: kbuild's modules.order, and a wrapper's that ran kbuild in a
 * sub-folder (M=$(PWD)/src), each .ko once. */
static void collect_ordered(struct kforge_job *job)
{
	struct kf_strv orders = { 0 };
	find_orders(job->module_dir, NULL, 3, &orders);
	for (size_t i = 0; i < orders.n; i++)
		add_ordered(job, orders.v[i]);
	kf_strv_free(&orders);
}

/* The error of a folder whose build made no module. TRIED: the make commands run. */
static int fail_no_module(struct kforge_job *job, const char *tried)
{
	struct kf_strbuf what = { 0 };
	kf_describe_external(job->module_dir, &what);
	int r = kforge_job_fail(job, KFORGE_EXIT_BUILD,
				"%s, run in %s%s, built no module: %s. Fix: the folder's Makefile or "
				"Kbuild needs obj-m += NAME.o where kbuild reads it (M= is the folder "
				"itself), or pass the sub-folder that has obj-m",
				tried ? tried : "`make`", job->module_origin ? "kforge's copy of " : "", origin_dir(job),
				what.s ? what.s : "");
	kf_strbuf_release(&what);
	return r;
}

/* The registry's Module.symvers of the external modules built before for this kernel, newest first. */
static void registered_symvers(struct kforge_job *job, struct kf_strv *out)
{
	kf_symvers_registered(job->cache_dir, job->kernel.release, origin_dir(job), out);
}

/*
 * One KBUILD_EXTRA_SYMBOLS file: --extra-symbols first, then the registry newest first, each
 * symbol once. The merged file replaces the list, so that the gate checks the CRCs the build used.
 */
static int merge_extra_symbols(struct kforge_job *job)
{
	struct kf_strv files = { 0 };
	for (size_t i = 0; i < job->user_extra_symbols.n; i++)
		if (kf_strv_push(&files, job->user_extra_symbols.v[i]) < 0) {
			kf_strv_free(&files);
			return -ENOMEM;
		}
	registered_symvers(job, &files);
	if (!files.n)
		return 0;
	_cleanup_free_ char *dir = kforge_path_join(job->cache_dir, "work", job->kernel.release, NULL);
	_cleanup_free_ char *merged = kf_strdup_printf("%s/extra-%08lx.symvers", dir ? dir : "",
						       kf_hash_str(KF_HASH_SEED, origin_dir(job)) & 0xffffffffUL);
	size_t nsyms = 0;
	int r = dir && merged ? kf_mkdir_p(dir) : -ENOMEM;
	if (r == 0)
		r = kf_symvers_merge(&files, merged, &nsyms);
	if (r == 0) {
		kf_log_to_file(job, "# KBUILD_EXTRA_SYMBOLS: %zu symbols from %zu files merged into %s\n", nsyms, files.n,
			       merged);
		kf_strv_free(&job->extra_symbols);
		r = kf_strv_push(&job->extra_symbols, merged);
	}
	kf_strv_free(&files);
	return r;
}

/* A CONFIG_MODVERSIONS build dir without Module.symvers, whose kernel package ships one (RHEL). */
static bool packaged_symvers_needed(const struct kforge_job *job)
{
	_cleanup_free_ char *own = kforge_path_join(job->kbuild_dir, "Module.symvers", NULL);
	return own && !kf_is_file(own) && job->kernel.symvers_packaged && kforge_job_modversions(job);
}

/* KBUILD_EXTRA_SYMBOLS=... for a build, into EXTRA (left empty when there is none). */
static void extra_symbols_arg(struct kforge_job *job, struct kf_strbuf *extra)
{
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
			kf_strbuf_appendf(extra, "%s%s", extra->len ? " " : "KBUILD_EXTRA_SYMBOLS=", job->extra_symbols.v[i]);
		}
	}
	/* a build dir without Module.symvers (the headers strategy): the kernel package's own, so
	 * that modpost writes the CRCs of the symbols the module imports */
	if (job->packaged_symvers)
		kf_strbuf_appendf(extra, "%s%s", extra->len ? " " : "KBUILD_EXTRA_SYMBOLS=", job->packaged_symvers);
	else if (job->plan && packaged_symvers_needed(job))
		kf_strbuf_appendf(extra, "%s%s", extra->len ? " " : "KBUILD_EXTRA_SYMBOLS=",
				  kforge_job_display_path(job, job->kernel.symvers_packaged));
}

/* make in the module's folder (the copy), PWD set to it, as DKMS runs it; *TRIED: the command. */
static int compile_once(struct kforge_job *job, char **tried)
{
	_cleanup_free_ char *m = kf_strdup_printf("M=%s", job->module_dir);
	_cleanup_free_ char *target = job->kind == KFORGE_MODULE_NAME ? kf_strdup_printf("%s.ko", job->module_spec)
								      : strdup("modules");
	char jobs[16];
	struct kf_strbuf extra = { 0 };
	extra_symbols_arg(job, &extra);
	const char *argv[20] = { "make", "-C", job->kbuild_dir, m, kf_make_jobs(job, jobs, sizeof(jobs)) };
	size_t n = kf_add_make_vars(job, argv, argv[4] ? 5 : 4, ARRAY_SIZE(argv));
	if (extra.len)
		argv[n++] = extra.s;
	argv[n++] = target;
	argv[n] = NULL;
	if (!job->plan)
		kf_info(job->ctx, "compiling %s against %s", job->module_spec, kforge_job_display_path(job, job->kbuild_dir));
	free(*tried);
	*tried = kf_argv_quote(argv);
	/* as the build user, sandboxed: the copy is all it writes */
	int r = kf_run_build(job, job->module_dir, argv, job->module_dir);
	kf_strbuf_release(&extra);
	return r;
}

/*
 * A wrapper Makefile (its default target runs $(MAKE) -C KDIR M=... itself, often after writing a
 * header, or in sub-folders) driven through its own default target, in the copy with PWD set,
 * the kernel named as such Makefiles read it. KERNELRELEASE is left out when the Makefile tests it
 * (GUARD: ifneq ($(KERNELRELEASE),) would take kbuild's branch). *TRIED gets the command appended.
 */
static int compile_wrapper(struct kforge_job *job, bool guard, char **tried)
{
	static const char *const dir_vars[] = { "KERNEL_DIR", "KDIR", "KSRC", "KERNEL_SRC", "KERNEL_TREE" };
	const char *release = job->kernel.release;
	char jobs[16];
	char *vars[2 + ARRAY_SIZE(dir_vars)] = { kf_strdup_printf("KERNELRELEASE=%s", release),
						 kf_strdup_printf("KVER=%s", release) };
	for (size_t i = 0; i < ARRAY_SIZE(dir_vars); i++)
		vars[2 + i] = kf_strdup_printf("%s=%s", dir_vars[i], job->kbuild_dir);
	struct kf_strbuf extra = { 0 };
	extra_symbols_arg(job, &extra);
	const char *argv[32] = { "make", "-C", job->module_dir, kf_make_jobs(job, jobs, sizeof(jobs)) };
	size_t n = argv[3] ? 4 : 3;
	int r = 0;
	for (size_t i = guard ? 1 : 0; i < ARRAY_SIZE(vars); i++) {
		if (!vars[i])
			r = -ENOMEM;
		argv[n++] = vars[i];
	}
	n = kf_add_make_vars(job, argv, n, ARRAY_SIZE(argv) - 1);
	if (extra.len && n < ARRAY_SIZE(argv) - 1)
		argv[n++] = extra.s;
	argv[n] = NULL;
	_cleanup_free_ char *cmd = r == 0 ? kf_argv_quote(argv) : NULL;
	char *both = cmd ? kf_strdup_printf("%s, then its wrapper Makefile's own target `%s`", *tried ? *tried : "", cmd)
			 : NULL;
	if (!both)
		r = -ENOMEM;
	if (r == 0) {
		free(*tried);
		*tried = both;
		kf_info(job->ctx, "%s: its Makefile is a wrapper, kbuild alone built nothing: running its own target",
			job->module_spec);
		r = kf_run_build(job, job->module_dir, argv, job->module_dir);
	}
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		free(vars[i]);
	kf_strbuf_release(&extra);
	return r;
}

/* True when the log's last build failed on a header the module's folder does not hold. */
static bool missing_header(const struct kforge_job *job, char *which, size_t size)
{
	_cleanup_free_ char *text = NULL;
	if (!job->runner.log_path || kf_read_file(job->runner.log_path, &text, NULL) < 0)
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

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The build cache: KEY (empty when there is none) names what decides the build's output; a
 * build kept under it is reused, *HIT set, and no make runs. --rebuild forgets it first. A DKMS
 * package's build is its driver's, and never comes here.
 */
static int cached_build(struct kforge_job *job, char key[65], bool *hit)
{
	*hit = false;
	key[0] = '\0';
	if (!job->cache_dir || (job->plan && !kf_is_dir(job->kind == KFORGE_MODULE_EXTERNAL ? origin_dir(job)
											 : job->module_dir)))
		return 0;
	/* the other modules' symbols the build reads, in a stable order: what they hold counts */
	struct kf_strv extra = { 0 };
	int r = 0;
	for (size_t i = 0; i < job->user_extra_symbols.n && r == 0; i++)
		r = kf_strv_push(&extra, job->user_extra_symbols.v[i]);
	if (job->kind == KFORGE_MODULE_EXTERNAL)
		registered_symvers(job, &extra);
	if (extra.n)
		qsort(extra.v, extra.n, sizeof(*extra.v), by_path);
	if (r == 0)
		r = kf_build_key(job, &extra, key);
	kf_strv_free(&extra);
	if (r < 0) {
		if (!job->plan)
			kf_warn(job->ctx, "cannot name this build for the build cache (%s): building, not kept", strerror(-r));
		key[0] = '\0';
		return 0;
	}
	_cleanup_free_ char *entry = kf_build_cache_path(job->cache_dir, key);
	if (!entry)
		return -ENOMEM;
	if (job->rebuild) {
		if (job->plan)
			kforge_plan_note(job, "--rebuild: the build cache's %s is not used, the new build replaces it", entry);
		else if ((r = kf_build_cache_forget(job, key)) < 0)
			kf_warn(job->ctx, "cannot remove %s: %s", entry, strerror(-r));
		return 0;
	}
	if (job->plan) {
		if (kf_is_dir(entry)) {
			kforge_plan_note(job, "the build cache holds this build (%s): no make runs, its modules are "
					      "validated and installed (--rebuild builds again)", entry);
			*hit = true;
		}
		return 0;
	}
	if ((r = kf_build_cache_lookup(job, key, hit)) < 0 || !*hit)
		return r;
	kf_notice(job->ctx, "%s: built before with the same sources, options and kernel: reusing %s (--rebuild "
			    "builds again)", job->module_spec, entry);
	if (job->kind == KFORGE_MODULE_EXTERNAL) {
		/* the gate checks the CRCs against the other modules' symbols, as after a build */
		if (merge_extra_symbols(job) < 0)
			kf_warn(job->ctx, "cannot merge the Module.symvers of other external modules");
		kf_symvers_register(job->cache_dir, job->kernel.release, origin_dir(job), job->built_from);
	}
	return 0;
}

int kforge_default_compile(struct kforge_job *job)
{
	if (!job->kbuild_dir || !job->module_dir)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "nothing prepared to compile");
	const char *packaged = NULL;
	/* the headers strategy against a build dir without Module.symvers: the kernel package's
	 * (decompressed once) is modpost's KBUILD_EXTRA_SYMBOLS, so the module carries CRCs */
	if (!job->plan && packaged_symvers_needed(job) && kf_job_packaged_symvers(job, &packaged) < 0)
		return -EIO;
	char key[65];
	bool hit;
	int r = cached_build(job, key, &hit);
	if (r < 0 || hit)
		return r;
	_cleanup_free_ char *tried = NULL;
	r = compile_once(job, &tried);
	if (r == -ECANCELED) /* the build user or the sandbox: the job failed saying why */
		return r;
	char header[256];
	if (r != 0 && job->strategy_chosen && job->strategy == KFORGE_STRATEGY_HEADERS &&
	    job->kind != KFORGE_MODULE_EXTERNAL && missing_header(job, header, sizeof(header))) {
		/* the headers strategy cannot see the rest of the source: the full tree can */
		kf_warn(job->ctx, "%s needs %s, which is outside %s: building against the full source tree instead",
			job->module_spec, header, job->module_subdir);
		job->strategy = KFORGE_STRATEGY_FULL;
		key[0] = '\0'; /* not the build the key names: not kept */
		if ((r = kforge_default_derive_version(job)) < 0 || (r = kforge_default_configure(job)) < 0 ||
		    (r = kforge_default_prepare(job)) < 0)
			return r;
		r = compile_once(job, &tried);
	}
	bool objm = false, guard = false;
	bool wrapper = job->kind == KFORGE_MODULE_EXTERNAL &&
		       kf_external_wrapper(job->plan ? origin_dir(job) : job->module_dir, &objm, &guard);
	if (wrapper && !objm && job->plan)
		kforge_plan_note(job, "if kbuild builds no module there, the folder's wrapper Makefile would be run "
				      "through its own default target, with %sKVER, KERNEL_DIR, KDIR, KSRC, KERNEL_SRC and "
				      "KERNEL_TREE set", guard ? "" : "KERNELRELEASE, ");
	/* a wrapper without obj-m may fail under kbuild: its own target is what its author runs */
	if (r != 0 && !(wrapper && !objm && !job->plan))
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "the build of %s failed (make exited %d): see %s",
				       job->module_spec, r, kf_job_log_name(job));
	if (job->plan)
		return 0;
	_cleanup_free_ char *cmds = tried ? kf_strdup_printf("`%s`", tried) : NULL;
	if (job->kind == KFORGE_MODULE_NAME) {
		r = collect_named(job);
	} else {
		if (r == 0)
			collect_ordered(job);
		/* kbuild built nothing (or failed on a wrapper without obj-m): the wrapper's own target */
		if (!job->built.n && wrapper) {
			r = compile_wrapper(job, guard, &cmds);
			if (r == -ECANCELED)
				return r;
			if (r != 0)
				return kforge_job_fail(job, KFORGE_EXIT_BUILD, "the build of %s failed: %s exited %d: see %s",
						       job->module_spec, cmds ? cmds : "its wrapper Makefile", r,
						       kf_job_log_name(job));
			collect_ordered(job);
		}
		if (!job->built.n)
			r = fail_no_module(job, cmds);
	}
	if (r == 0 && job->kind == KFORGE_MODULE_EXTERNAL)
		kf_symvers_register(job->cache_dir, job->kernel.release, origin_dir(job), job->module_dir);
	int kr;
	if (r == 0 && key[0] && (kr = kf_build_cache_store(job, key)) < 0)
		kf_warn(job->ctx, "the build of %s is not kept in the build cache: %s", job->module_spec, strerror(-kr));
	return r;
}
