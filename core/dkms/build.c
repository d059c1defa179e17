/*
 * dkms/build.c: a DKMS package (a folder with a dkms.conf) built and installed as DKMS 3.4's
 * do_build and do_install do (the issue 10 note, §2, §3, §6): the conf read for the target
 * (conf.c), a BUILD_EXCLUSIVE miss a skip (exit 77), a fresh copy at exactly
 * $dkms_tree/NAME/VER/build (kforge's work folder), PATCH, PRE_BUILD, MAKE with bash -c there,
 * each BUILT_MODULE_LOCATION/BUILT_MODULE_NAME.ko checked, POST_BUILD; installed under
 * DEST_MODULE_NAME by kforge's install transaction, with PRE_INSTALL and POST_INSTALL around it.
 * Every piece of the package's code runs as the build user (kforge_run_sandboxed). The driver's
 * steps replace the core's for such a job (kf_job_driver_register, when the library loads).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "dkms/dkms.h"
#include "pipeline/steps.h"
#include "txn/record.h"

/* What the driver keeps of one package for the job. */
struct pkg {
	struct kf_dkms_conf conf;
	bool read;	     /* the conf was evaluated (not in plan mode) */
	char *arch;	     /* DKMS's $arch: x86_64 */
	char *dkms_tree;     /* WORK/KVER/dkms */
	char *base, *build;  /* DKMS_TREE/NAME/VER and its build/ */
	char *ksrc_real;     /* the target's build dir, symlinks resolved */
	bool *excluded;	     /* per module: BUILD_EXCLUSIVE_* leaves it out */
	char *dep_symvers;   /* BASE/.kforge-depends.symvers: the BUILD_DEPENDS' exports, or NULL */
};

static void pkg_free(void *data)
{
	struct pkg *p = data;
	if (!p)
		return;
	kf_dkms_conf_free(&p->conf);
	free(p->arch);
	free(p->dkms_tree);
	free(p->base);
	free(p->build);
	free(p->ksrc_real);
	free(p->excluded);
	free(p->dep_symvers);
	free(p);
}

/* uname -m's name of the target's architecture, as DKMS's $arch (it runs uname -m on the host). */
static char *target_arch(const struct kforge_job *job)
{
	static const struct {
		const char *option, *arch;
	} map[] = {
		{ "CONFIG_X86_64", "x86_64" }, { "CONFIG_X86_32", "i686" }, { "CONFIG_ARM64", "aarch64" },
		{ "CONFIG_ARM", "armv7l" },    { "CONFIG_PPC64", "ppc64le" }, { "CONFIG_S390", "s390x" },
		{ "CONFIG_RISCV", "riscv64" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		const char *v = kforge_job_kconfig(job, map[i].option);
		if (v && strcmp(v, "y") == 0)
			return strdup(map[i].arch);
	}
	struct utsname u;
	return strdup(uname(&u) == 0 ? u.machine : "unknown");
}

/*
 * How every piece of the package's code runs (the one place that says it): the build user, no
 * network; the package's folder under dkms_tree the only one it writes; the root (a fixture root
 * under /tmp, which bubblewrap's own /tmp would hide), the target's build dir and the package's
 * folder readable at their real paths; ENV added to its environment.
 */
struct pkg_sandbox {
	struct kforge_sandbox sb;
	const char *readable[4], *writable[2];
};

static void pkg_sandbox(const struct kforge_job *job, const struct pkg *p, const char *const *env,
			struct pkg_sandbox *out)
{
	size_t n = 0;
	const char *root = kforge_ctx_root(job->ctx);
	const char *candidates[] = { strcmp(root, "/") ? root : NULL, p->ksrc_real, job->dkms_dir };
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++)
		if (candidates[i] && kf_is_dir(candidates[i]))
			out->readable[n++] = candidates[i];
	out->readable[n] = NULL;
	out->writable[0] = p->base;
	out->writable[1] = NULL;
	out->sb = (struct kforge_sandbox){
		.user = NULL, /* the configured build user */
		.readable = out->readable,
		.writable = out->writable,
		.env = env,
	};
}

/* Runs CMD with bash -c in CWD as the package's code runs (pkg_sandbox), PWD set to CWD. */
static int run_shell(struct kforge_job *job, const struct pkg *p, const char *cwd, const char *cmd)
{
	_cleanup_free_ char *pwd = kf_strdup_printf("PWD=%s", cwd);
	_cleanup_free_ char *extra = p->dep_symvers ? kf_strdup_printf("KBUILD_EXTRA_SYMBOLS=%s", p->dep_symvers) : NULL;
	const char *env[6] = { pwd };
	size_t n = 1;
	/* the run's jobserver: the package's makes take their tokens from it */
	struct kf_jobserver *js = kf_ctx_jobserver(job->ctx);
	_cleanup_free_ char *makeflags = js ? kf_jobserver_makeflags(js) : NULL;
	if (makeflags)
		env[n++] = makeflags;
	/* DKMS exports CC and KERNEL_CC: the compiler the kernel was built with (CONFIG_CC_VERSION_TEXT) */
	_cleanup_free_ char *cc = NULL, *kcc = NULL;
	const char *text = kforge_job_kconfig(job, "CONFIG_CC_VERSION_TEXT");
	if (text && text[0]) {
		_cleanup_free_ char *word = strndup(text, strcspn(text, " "));
		_cleanup_free_ char *found = word ? kforge_find_program(word) : NULL;
		if (found) {
			cc = kf_strdup_printf("CC=%s", word);
			kcc = kf_strdup_printf("KERNEL_CC=%s", word);
			if (cc && kcc) {
				env[n++] = cc;
				env[n++] = kcc;
			}
		}
	}
	/* the BUILD_DEPENDS' Module.symvers, which kbuild's modpost reads from the environment */
	if (extra)
		env[n++] = extra;
	env[n] = NULL;
	if (!pwd || (p->dep_symvers && !extra))
		return -ENOMEM;
	struct pkg_sandbox s;
	pkg_sandbox(job, p, env, &s);
	const char *const argv[] = { "bash", "--noprofile", "--norc", "-c", cmd, NULL };
	kf_log_to_file(job, "# command (in %s): %s\n", cwd, cmd);
	return kforge_run_sandboxed(job, cwd, argv, &s.sb, NULL);
}

/* Is the script's first word (relative to DIR) executable? DKMS only warns when it is not. */
static bool script_executable(const char *run)
{
	_cleanup_free_ char *word = strndup(run, strcspn(run, " \t"));
	return word && access(word, X_OK) == 0;
}

/*
 * A hook script (dkms.in:1148-1191): WHAT names it, SCRIPT is "path [args]" under DIR.
 * PRE_BUILD and POST_BUILD (SHELL) are shell code run with bash -c in the copy, as DKMS evals
 * them; the others are split on blanks and run as a command in the package's folder, as DKMS
 * execs them. 0, the script's status, or a negative errno; 0 (with a warning) when it is not
 * executable, as DKMS carries on.
 */
static int run_script(struct kforge_job *job, const struct pkg *p, const char *what, const char *script,
		      const char *dir, bool shell)
{
	if (!script || !script[0])
		return 0;
	if (job->plan) {
		kforge_plan_note(job, "%s: %s, run in %s as the build user", what, script, dir);
		return 0;
	}
	/* DKMS runs "$run_dir/$script" (dkms.in:1164), whatever the script's path */
	_cleanup_free_ char *run = kf_strdup_printf("%s/%s", dir, script);
	if (!run)
		return -ENOMEM;
	if (!script_executable(run)) {
		kf_warn(job->ctx, "%s: the %s script (%s) is not executable: not run, as DKMS does", job->package, what,
			script);
		return 0;
	}
	kf_info(job->ctx, "%s: running %s (%s)", job->package, what, script);
	if (shell)
		return run_shell(job, p, dir, run);
	struct kf_strv words = { 0 };
	_cleanup_free_ char *copy = strdup(run);
	for (char *save = NULL, *w = copy ? strtok_r(copy, " \t\n", &save) : NULL; w; w = strtok_r(NULL, " \t\n", &save))
		if (kf_strv_push(&words, w) < 0) {
			kf_strv_free(&words);
			return -ENOMEM;
		}
	if (!copy || !words.n) {
		kf_strv_free(&words);
		return copy ? 0 : -ENOMEM;
	}
	struct pkg_sandbox s;
	pkg_sandbox(job, p, NULL, &s);
	int r = kforge_run_sandboxed(job, dir, (const char *const *)words.v, &s.sb, NULL);
	kf_strv_free(&words);
	return r;
}

/* Reads the conf for the job's kernel with DKMS's variables; MODULE/VERSION empty on a first read from a path. */
static int read_conf(struct kforge_job *job, struct pkg *p, const char *module, const char *version)
{
	_cleanup_free_ char *conf = kforge_path_join(job->dkms_dir, "dkms.conf", NULL);
	_cleanup_free_ char *src_tree = NULL;
	_cleanup_free_ char *install_tree = strdup(job->kernel.modules_dir);
	_cleanup_free_ char *installed = kforge_path_join(job->kernel.modules_dir, job->install_subdir, NULL);
	if (!conf || !install_tree || !installed || kforge_path_resolve(kforge_ctx_root(job->ctx), "/usr/src", &src_tree) < 0)
		return -ENOMEM;
	char *slash = strrchr(install_tree, '/');
	if (slash && slash != install_tree)
		*slash = '\0';
	struct kf_dkms_vars vars = {
		.kernelver = job->kernel.release,
		.arch = p->arch,
		.kernel_source_dir = job->kernel.build_dir,
		.dkms_tree = p->dkms_tree,
		.source_tree = src_tree,
		.install_tree = install_tree,
		.module = module,
		.module_version = version,
		.installed_modules_dir = installed,
	};
	return kf_dkms_conf_read(job, conf, &vars, &p->conf);
}

/* The package's conf read, NAME/VER known, the work folder set, every exclusion decided. */
static int dkms_locate(struct kforge_job *job)
{
	struct pkg *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	job->driver_data = p;
	const char *kver = job->kernel.release;
	p->arch = target_arch(job);
	p->dkms_tree = kforge_path_join(job->cache_dir ? job->cache_dir : "/tmp", "work", kver, "dkms", NULL);
	p->ksrc_real = job->kernel.build_dir ? realpath(job->kernel.build_dir, NULL) : NULL;
	if (!p->arch || !p->dkms_tree)
		return -ENOMEM;
	kforge_plan_note(job, "DKMS package in %s, built in %s/NAME/VER/build as DKMS builds in its tree", job->dkms_dir,
			 p->dkms_tree);
	/* NAME/VER as given, else the conf's own PACKAGE_NAME/VERSION (a first read, as dkms add does) */
	_cleanup_free_ char *name = NULL, *version = NULL;
	const char *spec = job->module_spec;
	if (spec[0] != '/' && spec[0] != '.' && spec[0] != '~' && strchr(spec, '/') && !kf_is_dir(spec)) {
		name = strndup(spec, (size_t)(strchr(spec, '/') - spec));
		version = strdup(strchr(spec, '/') + 1);
		if (name && version && (!kf_dkms_good_name(name) || !kf_dkms_good_name(version)))
			return kforge_job_fail(job, KFORGE_EXIT_USAGE,
					       "%s: NAME/VERSION of a DKMS package are letters, digits and . _ + ~ -, not "
					       "beginning with . or -",
					       spec);
	} else {
		int r = read_conf(job, p, "", "");
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		name = p->conf.package_name ? strdup(p->conf.package_name) : NULL;
		version = p->conf.package_version ? strdup(p->conf.package_version) : NULL;
		kf_dkms_conf_free(&p->conf);
		if (!name || !version || !name[0] || !version[0] || strchr(name, '/') || strchr(version, '/') ||
		    strcmp(name, "..") == 0 || strcmp(version, "..") == 0)
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "%s/dkms.conf sets no usable PACKAGE_NAME and PACKAGE_VERSION (\"%s\", \"%s\"): "
					       "DKMS needs both, without '/'",
					       job->dkms_dir, name ? name : "", version ? version : "");
	}
	if (!name || !version)
		return -ENOMEM;
	int r = read_conf(job, p, name, version);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	p->read = true;
	free(job->package);
	job->package = kf_strdup_printf("%s/%s", p->conf.package_name, p->conf.package_version);
	free(job->work_dir);
	job->work_dir = kforge_path_join(p->dkms_tree, p->conf.package_name, p->conf.package_version, NULL);
	p->base = job->work_dir ? strdup(job->work_dir) : NULL;
	p->build = job->work_dir ? kforge_path_join(job->work_dir, "build", NULL) : NULL;
	p->excluded = calloc(p->conf.n_modules + 1, sizeof(*p->excluded));
	if (!job->package || !p->base || !p->build || !p->excluded)
		return -ENOMEM;
	/* DKMS's autoinstall leaves out a package whose AUTOINSTALL is not yes (dkms.in:3034-3039) */
	if (job->autoinstall && !p->conf.autoinstall) {
		job->not_autoinstalled = true;
		return kf_job_skip(job, "%s: not autoinstalled (AUTOINSTALL is not yes in its dkms.conf)", job->package);
	}
	for (size_t i = 0; i < p->conf.build_depends.len; i++) {
		const char *d = kf_dkms_array_get(&p->conf.build_depends, i);
		if (d && d[0] && !kf_strv_contains(&job->dkms_depends, d) && kf_strv_push(&job->dkms_depends, d) < 0)
			return -ENOMEM;
	}
	const char *config = job->kernel.config_text;
	_cleanup_free_ char *why = NULL;
	if (kf_dkms_package_excluded(&p->conf, kver, p->arch, config, &why))
		return kf_job_skip(job,
				   "%s skipped for %s (%s): %s. Its dkms.conf's BUILD_EXCLUSIVE directives do not match this "
				   "kernel for any module: it is not built here, as DKMS skips it (exit %d)",
				   job->package, kver, p->arch, why ? why : "BUILD_EXCLUSIVE", KFORGE_EXIT_SKIPPED);
	for (size_t i = 0; i < p->conf.n_modules; i++) {
		_cleanup_free_ char *w = NULL;
		p->excluded[i] = kf_dkms_module_excluded(&p->conf, i, kver, p->arch, config, &w);
		if (p->excluded[i]) {
			kforge_plan_note(job, "module %s left out: %s", p->conf.modules[i].built_name, w ? w : "BUILD_EXCLUSIVE");
			kf_notice(job->ctx, "%s: module %s is left out for %s: %s", job->package, p->conf.modules[i].built_name,
				  kver, w ? w : "BUILD_EXCLUSIVE");
		}
	}
	if (p->conf.remake_initrd)
		kf_log_to_file(job, "# REMAKE_INITRD=%s is ignored, as DKMS 3.x ignores it; kforge refreshes the "
				    "initramfs when the module is in it (the refresh initramfs step)\n",
			       p->conf.remake_initrd);
	return 0;
}

/* The record of package NAME (any version) intact for the job's kernel among RECS, or NULL. */
static const struct kforge_record *installed_package(struct kforge_job *job, struct kforge_record **recs, size_t n,
						     const char *name)
{
	size_t len = strlen(name);
	for (size_t k = 0; k < n; k++)
		if (strcmp(recs[k]->kind, "dkms") == 0 && recs[k]->package && strncmp(recs[k]->package, name, len) == 0 &&
		    recs[k]->package[len] == '/' && kforge_record_check(job, recs[k]) == KFORGE_RECORD_OK)
			return recs[k];
	return NULL;
}

/* What a dependent is built against: "NAME/VER SHA256,..." of the records of FOUND's package (by module). */
static char *package_stamp(struct kforge_record **recs, size_t n, const struct kforge_record *found)
{
	struct kf_strbuf b = { 0 };
	kf_strbuf_appendf(&b, "%s ", found->package);
	bool first = true;
	for (size_t k = 0; k < n; k++)
		if (recs[k]->package && strcmp(recs[k]->package, found->package) == 0) {
			kf_strbuf_appendf(&b, "%s%s", first ? "" : ",", recs[k]->sha256);
			first = false;
		}
	return kf_strbuf_steal(&b);
}

/*
 * BUILD_DEPENDS (dkms.in:1551-1569): each package named must be installed by kforge for the
 * kernel (a record of package NAME/VER whose file is intact), or counted as such by autoinstall (skipped
 * there); else the build fails naming them (DKMS's exit 13, kforge's 3). The exports of those
 * installed are merged into BASE/.kforge-depends.symvers for modpost (KBUILD_EXTRA_SYMBOLS).
 */
static int check_depends(struct kforge_job *job, struct pkg *p)
{
	if (!job->dkms_depends.n)
		return 0;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	int r = kforge_records_list(job, job->kernel.release, &recs, &n);
	if (r < 0)
		return r;
	struct kf_strbuf missing = { 0 };
	struct kf_strv files = { 0 };
	for (size_t i = 0; i < job->dkms_depends.n; i++) {
		const char *d = job->dkms_depends.v[i];
		const struct kforge_record *found = installed_package(job, recs, n, d);
		if (found) {
			_cleanup_free_ char *stamp = package_stamp(recs, n, found);
			if (!stamp || kf_strv_push(&job->dkms_built_against, stamp) < 0) {
				kforge_records_free(recs, n);
				kf_strv_free(&files);
				free(kf_strbuf_steal(&missing));
				return -ENOMEM;
			}
			_cleanup_free_ char *sv = kf_symvers_of(job->cache_dir, job->kernel.release, found->spec);
			kf_info(job->ctx, "%s: BUILD_DEPENDS %s is installed for %s (%s)%s", job->package, d, job->kernel.release,
				found->package, sv ? "" : ", but kforge kept no Module.symvers of it: its exports are not given to modpost");
			if (sv && !kf_strv_contains(&files, sv))
				kf_strv_push(&files, sv);
		} else if (kf_strv_contains(&job->dkms_satisfied, d)) {
			kf_notice(job->ctx, "%s: BUILD_DEPENDS %s was skipped for %s (its BUILD_EXCLUSIVE): counted as installed, "
					    "as DKMS 3.4's autoinstall counts it",
				  job->package, d, job->kernel.release);
		} else {
			kf_strbuf_appendf(&missing, "%s%s", missing.len ? ", " : "", d);
		}
	}
	kforge_records_free(recs, n);
	if (missing.len) {
		_cleanup_free_ char *list = kf_strbuf_steal(&missing);
		kf_strv_free(&files);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s cannot be built for %s: its dkms.conf's BUILD_DEPENDS needs %s, which kforge has "
				       "not installed for %s. Install it first (kforge -k %s install NAME/VERSION, its folder "
				       "in /usr/src), then this package; DKMS refuses this build too (its exit 13)",
				       job->package, job->kernel.release, list ? list : "?", job->kernel.release,
				       job->kernel.release);
	}
	if (files.n) {
		p->dep_symvers = kforge_path_join(p->base, ".kforge-depends.symvers", NULL);
		size_t nsyms = 0;
		r = p->dep_symvers ? kf_symvers_merge(&files, p->dep_symvers, &nsyms) : -ENOMEM;
		if (r < 0) {
			kf_strv_free(&files);
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write %s: %s", p->dep_symvers ? p->dep_symvers : "?",
					       strerror(-r));
		}
		kf_log_to_file(job, "# BUILD_DEPENDS: %zu symbols of %zu Module.symvers in %s (KBUILD_EXTRA_SYMBOLS)\n", nsyms,
			       files.n, p->dep_symvers);
		/* and to the gate, which checks every symbol the modules import */
		if (kf_strv_push(&job->extra_symbols, p->dep_symvers) < 0) {
			kf_strv_free(&files);
			return -ENOMEM;
		}
	}
	kf_strv_free(&files);
	return 0;
}

/* POST_ADD, once per package version in this kernel's tree (DKMS runs it at `dkms add`). */
static int post_add(struct kforge_job *job, struct pkg *p)
{
	_cleanup_free_ char *mark = kforge_path_join(p->base, ".kforge-added", NULL);
	if (!mark)
		return -ENOMEM;
	if (!p->conf.post_add || kf_is_file(mark))
		return 0;
	int r = run_script(job, p, "POST_ADD", p->conf.post_add, job->dkms_dir, false);
	if (r != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD, "%s: POST_ADD (%s) %s %d: see %s", job->package,
				       p->conf.post_add, r < 0 ? "error" : "exited", r < 0 ? -r : r, kf_job_log_name(job));
	return kf_write_file(mark, "", 0644);
}

/* PATCH[i] that apply to the kernel, in index order, from build/patches with patch -p1 (dkms.in:1574-1598). */
static int apply_patches(struct kforge_job *job, struct pkg *p)
{
	struct kf_strv list = { 0 };
	int r = kf_dkms_patches(&p->conf, job->kernel.release, &list);
	for (size_t i = 0; r == 0 && i < list.n; i++) {
		const char *name = list.v[i];
		_cleanup_free_ char *rel = kforge_path_join("patches", name, NULL);
		_cleanup_free_ char *path = kforge_path_join(p->build, "patches", name, NULL);
		if (!rel || !path) {
			r = -ENOMEM;
		} else if (strstr(name, "/../") || strncmp(name, "../", 3) == 0 || name[0] == '/') {
			r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					    "%s: PATCH %s has a /../ or an absolute path: a patch is named relative to the "
					    "package's patches/ folder",
					    job->package, name);
		} else if (!kf_is_file(path)) {
			r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					    "%s: PATCH %s does not exist in %s/patches: add it there, or fix the PATCH line "
					    "of %s/dkms.conf",
					    job->package, name, job->dkms_dir, job->dkms_dir);
		} else {
			kf_info(job->ctx, "%s: applying patch %s", job->package, name);
			struct pkg_sandbox s;
			pkg_sandbox(job, p, NULL, &s);
			const char *const argv[] = { "patch", "-p1", "-i", rel, NULL };
			int st = kforge_run_sandboxed(job, p->build, argv, &s.sb, NULL);
			if (st != 0)
				r = st == -ECANCELED ? st
						     : kforge_job_fail(job, KFORGE_EXIT_BUILD,
								       "%s: application of patch %s failed (patch -p1 in %s): "
								       "see %s",
								       job->package, name, p->build, kf_job_log_name(job));
		}
	}
	kf_strv_free(&list);
	return r;
}

/* A fresh copy of the package at DKMS_TREE/NAME/VER/build (rm -rf; cp -a), then POST_ADD and PATCH. */
static int dkms_prepare(struct kforge_job *job)
{
	struct pkg *p = job->driver_data;
	int r = kforge_job_set_kbuild_dir(job, job->kernel.build_dir);
	if (r < 0)
		return r;
	if (!p->read) {
		kforge_plan_note(job, "POST_ADD before the first build; %s copied fresh (the old copy removed) into "
				      "DKMS_TREE/NAME/VER/build, owned by the build user; PATCH[] applied with patch -p1",
				 job->dkms_dir);
		return 0;
	}
	if ((r = kf_lock_work(job, p->base)) < 0)
		return r;
	if (kf_mkdir_p(p->base) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s (set build.cache_dir in kforge.conf "
								 "to a writable folder)",
				       p->base, strerror(errno));
	if ((r = check_depends(job, p)) < 0)
		return r;
	if ((r = post_add(job, p)) < 0)
		return r;
	/* every build starts from the package as it is, as DKMS's rm -rf build; cp -a source build */
	if ((r = kf_rm_rf(p->build)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot remove the old copy %s: %s", p->build,
				       strerror(-r));
	kf_info(job->ctx, "%s: copying %s into %s", job->package, job->dkms_dir, p->build);
	/* the copy is the build's to write, whatever modes the package's files have (read-only
	 * ones, as a dist tarball's or a read-only mount's, would stop kbuild) */
	if (kforge_runl(job, NULL, "cp", "-a", "--", job->dkms_dir, p->build, NULL) != 0 ||
	    kforge_runl(job, NULL, "chmod", "-R", "u+w", "--", p->build, NULL) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot copy %s into %s: see %s", job->dkms_dir, p->build,
				       kf_job_log_name(job));
	if ((r = kforge_job_set_module_dir(job, p->build)) < 0)
		return r;
	return apply_patches(job, p);
}

/* The built files (dkms.in:1609-1621): every module not excluded at BUILT_MODULE_LOCATION/NAME.ko. */
static int collect(struct kforge_job *job, struct pkg *p, const char *cmd)
{
	for (size_t i = 0; i < p->conf.n_modules; i++) {
		const struct kf_dkms_module *m = &p->conf.modules[i];
		if (p->excluded[i])
			continue;
		_cleanup_free_ char *rel = kf_strdup_printf("%s%s.ko", m->built_location, m->built_name);
		_cleanup_free_ char *ko = rel ? kforge_path_join(p->build, rel, NULL) : NULL;
		if (!ko)
			return -ENOMEM;
		if (!kf_is_file(ko))
			return kforge_job_fail(job, KFORGE_EXIT_BUILD,
					       "build of %s failed for %s (%s): `%s`, run in %s, made no %s "
					       "(BUILT_MODULE_LOCATION[%zu]/BUILT_MODULE_NAME[%zu].ko). Make sure the name "
					       "and location of the module in dkms.conf are right, or see %s",
					       rel, job->kernel.release, p->arch, cmd, p->build, rel, i, i,
					       kf_job_log_name(job));
		/* the build user made it: a regular file in the copy, reached through no link out of it */
		struct stat st;
		if (lstat(ko, &st) < 0 || !S_ISREG(st.st_mode) || !kf_path_leads_below(ko, p->build, false))
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "%s: %s in %s is a link or leads out of the build folder: refused, a "
					       "module is installed only from what the build made there",
					       job->package, rel, p->build);
		if (kf_strv_push(&job->built, ko) < 0 || kf_strv_push(&job->built_as, m->dest_name) < 0 ||
		    kf_strv_push(&job->built_dest, m->dest_location) < 0 || (!m->strip && kf_strv_push(&job->no_strip, ko) < 0))
			return -ENOMEM;
	}
	return 0;
}

/* PRE_BUILD, MAKE with bash -c in the copy, the built files checked, POST_BUILD (dkms.in:1583-1711). */
static int dkms_compile(struct kforge_job *job)
{
	struct pkg *p = job->driver_data;
	if (!p->read) {
		kforge_plan_note(job, "PRE_BUILD; MAKE[] as dkms.conf chooses it for %s (make -jN KERNELRELEASE=%s ...), "
				      "run with bash -c in the copy with PWD set, as the build user without network; each "
				      "BUILT_MODULE_LOCATION/BUILT_MODULE_NAME.ko checked; POST_BUILD",
				 job->kernel.release, job->kernel.release);
		return 0;
	}
	int r = run_script(job, p, "PRE_BUILD", p->conf.pre_build, p->build, true);
	if (r != 0)
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_BUILD, "%s: PRE_BUILD (%s) %s %d: see %s",
							 job->package, p->conf.pre_build, r < 0 ? "error" : "exited",
							 r < 0 ? -r : r, kf_job_log_name(job));
	_cleanup_free_ char *cmd = kf_dkms_make_command(&p->conf, job->kernel.release, job->kernel.build_dir, p->build,
							 kf_ctx_jobserver(job->ctx) ? -1 : (int)job->jobs);
	if (!cmd)
		return -ENOMEM;
	kf_info(job->ctx, "%s: building for %s: %s", job->package, job->kernel.release, cmd);
	r = run_shell(job, p, p->build, cmd);
	if (r != 0)
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_BUILD,
							 "bad return status for the build of %s on %s (%s): `%s`, run in %s, "
							 "%s %d: see %s",
							 job->package, job->kernel.release, p->arch, cmd, p->build,
							 r < 0 ? "error" : "exited", r < 0 ? -r : r, kf_job_log_name(job));
	if ((r = collect(job, p, cmd)) < 0)
		return r;
	kf_symvers_register(job->cache_dir, job->kernel.release, job->module_origin, p->build);
	r = run_script(job, p, "POST_BUILD", p->conf.post_build, p->build, true);
	if (r != 0)
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_BUILD, "%s: POST_BUILD (%s) %s %d: see %s",
							 job->package, p->conf.post_build, r < 0 ? "error" : "exited",
							 r < 0 ? -r : r, kf_job_log_name(job));
	return 0;
}

/* PRE_INSTALL (a failure aborts), kforge's install, POST_INSTALL (a failure is a warning). */
static int dkms_install(struct kforge_job *job)
{
	struct pkg *p = job->driver_data;
	int r = run_script(job, p, "PRE_INSTALL", p->read ? p->conf.pre_install : NULL, job->dkms_dir, false);
	if (r != 0)
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_REFUSED,
							 "%s: PRE_INSTALL (%s) %s %d: the install is aborted, nothing changed",
							 job->package, p->conf.pre_install, r < 0 ? "error" : "exited",
							 r < 0 ? -r : r);
	if ((r = kforge_default_install(job)) < 0)
		return r;
	r = run_script(job, p, "POST_INSTALL", p->read ? p->conf.post_install : NULL, job->dkms_dir, false);
	if (r != 0 && r != -ECANCELED)
		kf_warn(job->ctx, "%s: POST_INSTALL (%s) %s %d: the modules are installed all the same", job->package,
			p->conf.post_install, r < 0 ? "error" : "exited", r < 0 ? -r : r);
	return 0;
}

/* After kforge uninstall removed the package's last module for the kernel: POST_REMOVE, a failure a warning. */
static void dkms_removed(struct kforge_job *job, const char *package, const char *dir)
{
	struct pkg *p = calloc(1, sizeof(*p));
	if (!p)
		return;
	_cleanup_free_ char *conf = kforge_path_join(dir, "dkms.conf", NULL);
	p->arch = target_arch(job);
	p->dkms_tree = kforge_path_join(job->cache_dir ? job->cache_dir : "/tmp", "work", job->kernel.release, "dkms",
					NULL);
	p->base = kforge_path_join(p->dkms_tree ? p->dkms_tree : "/tmp", package, NULL);
	free(job->dkms_dir);
	job->dkms_dir = strdup(dir);
	free(job->package);
	job->package = strdup(package);
	_cleanup_free_ char *name = strndup(package, strcspn(package, "/"));
	const char *version = strchr(package, '/') ? strchr(package, '/') + 1 : "";
	if (conf && kf_is_file(conf) && p->arch && p->base && name && job->dkms_dir && job->package &&
	    kf_mkdir_p(p->base) == 0 && read_conf(job, p, name, version) == 0 && p->conf.post_remove) {
		int r = run_script(job, p, "POST_REMOVE", p->conf.post_remove, dir, false);
		if (r != 0 && r != -ECANCELED)
			kf_warn(job->ctx, "%s: POST_REMOVE (%s) %s %d", package, p->conf.post_remove,
				r < 0 ? "error" : "exited", r < 0 ? -r : r);
	}
	pkg_free(p);
}

/*
 * After the package was installed for the kernel: every package recorded for it that was built
 * against another version or content of this one (its record's depends) is rebuilt and installed
 * again, each said; always, not only with BUILD_DEPENDS_REBUILD=yes as DKMS does. The root's
 * state is let go first: each rebuild is a job of its own, which takes it. A package already being
 * rebuilt up the chain (a cycle) is said and left alone.
 */
static int dkms_finished(struct kforge_job *job)
{
	static struct kf_strv in_progress; /* the packages whose dependents are being rebuilt */
	struct pkg *p = job->driver_data;
	if (!p || !p->read || !job->package)
		return 0;
	const char *name = p->conf.package_name;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	int r = kforge_records_list(job, job->kernel.release, &recs, &n);
	if (r < 0)
		return r;
	const struct kforge_record *self = installed_package(job, recs, n, name);
	_cleanup_free_ char *now = self ? package_stamp(recs, n, self) : NULL;
	_cleanup_free_ char *prefix = kf_strdup_printf("%s/", name);
	struct kf_strv todo = { 0 }, why = { 0 };
	for (size_t k = 0; now && prefix && k < n; k++)
		for (size_t i = 0; recs[k]->depends && recs[k]->depends[i]; i++) {
			const char *was = recs[k]->depends[i];
			if (strncmp(was, prefix, strlen(prefix)) == 0 && strcmp(was, now) != 0 &&
			    !kf_strv_contains(&todo, recs[k]->spec)) {
				kf_strv_push(&todo, recs[k]->spec);
				kf_strv_push(&why, recs[k]->package ? recs[k]->package : recs[k]->spec);
			}
		}
	kforge_records_free(recs, n);
	if (!todo.n) {
		kf_strv_free(&why);
		return 0;
	}
	/* the rebuilds take the root's lock themselves */
	kf_state_close(job->state);
	job->state = NULL;
	kf_strv_push(&in_progress, name);
	struct kf_strbuf failed = { 0 };
	for (size_t i = 0; i < todo.n; i++) {
		_cleanup_free_ char *dep_name = strndup(why.v[i], strcspn(why.v[i], "/"));
		if (dep_name && kf_strv_contains(&in_progress, dep_name)) {
			kf_err(job->ctx, "%s: not rebuilt for %s: its BUILD_DEPENDS lead back to it (a cycle): break it in their "
					 "dkms.conf files",
			       why.v[i], job->kernel.release);
			kf_strbuf_appendf(&failed, "%s%s", failed.len ? ", " : "", why.v[i]);
			continue;
		}
		kf_notice(job->ctx, "%s: rebuilding for %s: it was built against another version or content of %s, now %s",
			  why.v[i], job->kernel.release, name, job->package);
		struct kforge_job_options o = {
			.kernel = job->kernel.release,
			.module = todo.v[i],
			.jobs = job->jobs,
			.install_mod_path = job->install_mod_path,
			.no_wait = job->no_wait,
			.strategy = KFORGE_STRATEGY_AUTO,
		};
		struct kforge_job *dep = NULL;
		enum kforge_exit code = KFORGE_EXIT_OK;
		if (kforge_job_new(job->ctx, &o, &dep, &code) == 0) {
			kforge_job_open_log(dep, "rebuild");
			kforge_job_run(dep, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_COUNT - 1);
			code = kforge_job_exit_code(dep);
		}
		if (code != KFORGE_EXIT_OK) {
			kf_strbuf_appendf(&failed, "%s%s (exit %d%s%s)", failed.len ? ", " : "", why.v[i], (int)code,
					  dep && kforge_job_log_path(dep) ? ": see " : "",
					  dep && kforge_job_log_path(dep) ? kforge_job_log_path(dep) : "");
		} else {
			kf_notice(job->ctx, "%s: rebuilt and installed for %s against %s", why.v[i], job->kernel.release,
				  job->package);
		}
		kforge_job_unref(dep);
	}
	free(in_progress.v[--in_progress.n]);
	in_progress.v[in_progress.n] = NULL;
	if (!in_progress.n)
		kf_strv_free(&in_progress);
	kf_strv_free(&todo);
	kf_strv_free(&why);
	if (failed.len) {
		_cleanup_free_ char *list = kf_strbuf_steal(&failed);
		return kforge_job_fail(job, KFORGE_EXIT_BUILD,
				       "%s is installed for %s, but packages built against its older version or content "
				       "could not be rebuilt: %s. They stay installed as they were",
				       job->package, job->kernel.release, list ? list : "?");
	}
	return 0;
}

static const struct kf_job_driver dkms_driver = {
	.name = "dkms",
	.steps = {
		[KFORGE_STEP_LOCATE_SOURCE] = dkms_locate,
		[KFORGE_STEP_PREPARE] = dkms_prepare,
		[KFORGE_STEP_COMPILE] = dkms_compile,
		[KFORGE_STEP_INSTALL] = dkms_install,
	},
	.free_data = pkg_free,
	.removed = dkms_removed,
	.finished = dkms_finished,
};

/* The pipeline lies below this layer: it learns of DKMS packages here, when the library loads. */
__attribute__((constructor)) static void dkms_register(void)
{
	kf_job_driver_register(&dkms_driver);
}
