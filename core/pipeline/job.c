/* job.c: the job (target kernel, module, options) and the pipeline that runs its steps. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "pipeline/job.h"
#include "pipeline/steps.h"
#include "source/source.h"

static const char *const step_names[KFORGE_STEP_COUNT] = {
	"locate source", "derive version", "configure", "prepare", "compile", "install", "refresh initramfs",
};

const char *kforge_step_name(enum kforge_step step)
{
	return step < KFORGE_STEP_COUNT ? step_names[step] : "?";
}

static const char *const strategy_names[] = { "auto", "headers", "full" };

const char *kforge_strategy_name(enum kforge_strategy s)
{
	return s <= KFORGE_STRATEGY_FULL ? strategy_names[s] : "?";
}

int kforge_strategy_from_name(const char *name, enum kforge_strategy *out)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(strategy_names); i++)
		if (strcmp(name, strategy_names[i]) == 0) {
			*out = (enum kforge_strategy)i;
			return 0;
		}
	return -EINVAL;
}

const char *kforge_compression_name(enum kforge_compression c)
{
	static const char *const n[] = { "none", "gzip", "xz", "zstd" };
	return c <= KFORGE_COMPRESS_ZSTD ? n[c] : "?";
}

const char *kforge_compression_suffix(enum kforge_compression c)
{
	static const char *const n[] = { "", ".gz", ".xz", ".zst" };
	return c <= KFORGE_COMPRESS_ZSTD ? n[c] : "";
}

static bool valid_module_name(const char *s)
{
	if (!s[0] || strlen(s) > 55)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(s);
}

static bool has_kbuild_file(const char *dir)
{
	_cleanup_free_ char *k = kforge_path_join(dir, "Kbuild", NULL);
	_cleanup_free_ char *m = kforge_path_join(dir, "Makefile", NULL);
	return (k && kf_is_file(k)) || (m && kf_is_file(m));
}

static const struct kf_job_driver *dkms_driver;

void kf_job_driver_register(const struct kf_job_driver *driver)
{
	dkms_driver = driver;
}

const struct kf_job_driver *kf_job_driver_get(void)
{
	return dkms_driver;
}

/* A DKMS package's folder: DIR/dkms.conf is a file. */
static bool has_dkms_conf(const char *dir)
{
	_cleanup_free_ char *c = kforge_path_join(dir, "dkms.conf", NULL);
	return c && kf_is_file(c);
}

/* SPEC read as DKMS's NAME/VER: one '/', a version that starts with a digit and has a dot (fs/9p is no package). */
static bool looks_like_package(const char *spec)
{
	const char *slash = strchr(spec, '/');
	return slash && slash != spec && !strchr(slash + 1, '/') && slash[1] >= '0' && slash[1] <= '9' &&
	       strchr(slash + 1, '.') && !strstr(spec, "..");
}

/* The job is the DKMS package in REAL (a folder with a dkms.conf): its steps are the DKMS driver's. */
static int classify_package(struct kforge_job *job, const char *real, enum kforge_exit *code)
{
	if (!dkms_driver) {
		*code = KFORGE_EXIT_FAILURE;
		kf_err(job->ctx, "%s is a DKMS package (it has a dkms.conf), and this libkforge was built without DKMS "
				 "support",
		       real);
		return -ENOTSUP;
	}
	job->kind = KFORGE_MODULE_EXTERNAL;
	job->module_dir = strdup(real);
	job->module_origin = strdup(real);
	job->dkms_dir = strdup(real);
	job->driver = dkms_driver;
	return job->module_dir && job->module_origin && job->dkms_dir ? 0 : -ENOMEM;
}

/* Sorts the user's module argument into a name, an in-tree dir, an external dir or a DKMS package. */
static int classify_module(struct kforge_job *job, const char *spec, enum kforge_exit *code)
{
	job->module_spec = strdup(spec);
	/* NAME/VER: the package DKMS would find in /usr/src/NAME-VER */
	if (spec[0] != '/' && spec[0] != '.' && spec[0] != '~' && looks_like_package(spec)) {
		_cleanup_free_ char *leaf = strdup(spec);
		if (!leaf)
			return -ENOMEM;
		*strchr(leaf, '/') = '-';
		_cleanup_free_ char *dir = NULL;
		_cleanup_free_ char *rel = kforge_path_join("/usr/src", leaf, NULL);
		if (!rel || kforge_path_resolve(kforge_ctx_root(job->ctx), rel, &dir) < 0)
			return -ENOMEM;
		char real[PATH_MAX];
		if (kf_is_dir(dir) && has_dkms_conf(dir) && realpath(dir, real))
			return classify_package(job, real, code);
		*code = KFORGE_EXIT_MISSING;
		kf_err(job->ctx, "%s: no DKMS package %s/dkms.conf (NAME/VERSION is looked for as %s/dkms.conf under the "
				 "root): install the package's sources there, or give the folder that has its dkms.conf",
		       spec, dir, rel);
		return -ENOENT;
	}
	bool explicit_path = spec[0] == '/' || spec[0] == '.' || spec[0] == '~';
	if (explicit_path || (strchr(spec, '/') && kf_is_dir(spec) && (has_kbuild_file(spec) || has_dkms_conf(spec)))) {
		char real[PATH_MAX];
		if (!realpath(spec, real) || !kf_is_dir(real)) {
			*code = KFORGE_EXIT_USAGE;
			kf_err(job->ctx, "%s: no such directory: give a module name (btrfs), a directory of the "
					 "kernel source (fs/btrfs), or the path of an external module's folder",
			       spec);
			return -ENOENT;
		}
		if (has_dkms_conf(real))
			return classify_package(job, real, code);
		if (!has_kbuild_file(real)) {
			*code = KFORGE_EXIT_USAGE;
			kf_err(job->ctx, "%s has neither a Kbuild file nor a Makefile: an external module's folder "
					 "needs one (obj-m += NAME.o)",
			       real);
			return -EINVAL;
		}
		job->kind = KFORGE_MODULE_EXTERNAL;
		job->module_dir = strdup(real);
		job->module_origin = strdup(real);
		return 0;
	}
	if (strchr(spec, '/')) {
		if (strstr(spec, "..")) {
			*code = KFORGE_EXIT_USAGE;
			kf_err(job->ctx, "%s: an in-tree directory is relative to the kernel source and has no \"..\"",
			       spec);
			return -EINVAL;
		}
		job->kind = KFORGE_MODULE_INTREE_DIR;
		_cleanup_free_ char *s = strdup(spec);
		size_t n = strlen(s);
		while (n > 1 && s[n - 1] == '/')
			s[--n] = '\0';
		job->module_subdir = strdup(s);
		return 0;
	}
	if (!valid_module_name(spec)) {
		*code = KFORGE_EXIT_USAGE;
		kf_err(job->ctx, "\"%s\" is no module name: names have letters, digits, _ and - only", spec);
		return -EINVAL;
	}
	job->kind = KFORGE_MODULE_NAME;
	return 0;
}

void kf_job_probe_info(const struct kforge_job *job, const struct kf_plugin *p, struct kforge_probe_info *info)
{
	*info = (struct kforge_probe_info){
		.root = kforge_ctx_root(job->ctx),
		.os = kforge_ctx_os_release(job->ctx),
		.release = job->kernel.release,
		.build_dir = job->kernel.build_dir,
		.ctx = job->ctx,
		.plugin = p ? p->name : NULL,
	};
}

const struct kforge_initramfs *kf_job_initramfs_generator(const struct kforge_job *job, const char *name)
{
	for (unsigned int i = 0; i < job->n_chain; i++)
		for (const struct kforge_initramfs *g = job->chain[i]->desc.initramfs; g && g->name; g++)
			if (strcmp(g->name, name) == 0)
				return g;
	return NULL;
}

const char *const *kf_job_depmod_search(const struct kforge_job *job)
{
	for (unsigned int i = 0; i < job->n_chain; i++) {
		const struct kf_plugin *p = job->chain[i];
		if (!p->desc.depmod_search)
			continue;
		struct kforge_probe_info info;
		kf_job_probe_info(job, p, &info);
		const char *const *order = p->desc.depmod_search(&info);
		if (order && order[0])
			return order;
	}
	return NULL;
}

/*
 * The generator that refreshes the initramfs: kernel-install when its install.conf lays the
 * images out (on any distribution), else the first one of the plugins' that is installed.
 */
static const char *detect_initramfs(const struct kforge_job *job)
{
	const char *root = kforge_ctx_root(job->ctx);
	if (kf_kernel_install_configured(root))
		return "kernel-install";
	for (unsigned int i = 0; i < job->n_chain; i++)
		for (const struct kforge_initramfs *g = job->chain[i]->desc.initramfs; g && g->name; g++)
			for (size_t j = 0; g->detect && g->detect[j]; j++)
				if (kforge_path_exists(root, g->detect[j]))
					return g->name;
	return "none";
}

static void report_missing_build_dir(struct kforge_job *job)
{
	const char *root = kforge_ctx_root(job->ctx);
	const char *kver = job->kernel.release;
	/* which package provides it is the distribution's to say */
	char hint[512] = "";
	for (unsigned int i = 0; i < job->n_chain && !hint[0]; i++) {
		const struct kf_plugin *p = job->chain[i];
		struct kforge_probe_info info;
		kf_job_probe_info(job, p, &info);
		if (p->desc.build_dir_hint && p->desc.build_dir_hint(&info, hint, sizeof(hint)) < 0)
			hint[0] = '\0';
	}
	if (!hint[0])
		snprintf(hint, sizeof(hint), "install this kernel's headers, or point --kernel at a kernel that has them");
	char **list = kforge_list_kernels(root);
	struct kf_strbuf b = { 0 };
	for (size_t i = 0; list && list[i]; i++) {
		kf_strbuf_appendf(&b, "%s%s", i ? ", " : "", list[i]);
		free(list[i]);
	}
	free(list);
	if (b.len)
		kf_err(job->ctx, "no build directory for %s: %s; kernels with one: %s (pick one with -k KVER)", kver, hint,
		       b.s);
	else
		kf_err(job->ctx, "no build directory for %s: %s; no installed kernel under %s has one", kver, hint, root);
	kf_strbuf_release(&b);
}

static char *default_cache_dir(struct kforge_job *job)
{
	const char *root = kforge_ctx_root(job->ctx);
	const char *cfg = kforge_config_get(job->ctx, "build.cache_dir");
	char *dir = NULL;
	if (kforge_path_resolve(root, cfg, &dir) < 0)
		return NULL;
	/* a user who cannot write the system cache gets their own */
	if (geteuid() != 0 && access(dir, W_OK) < 0 && getenv("HOME")) {
		free(dir);
		const char *xdg = getenv("XDG_CACHE_HOME");
		dir = xdg && xdg[0] == '/' ? kforge_path_join(xdg, "kforge", NULL)
					   : kforge_path_join(getenv("HOME"), ".cache/kforge", NULL);
	}
	return dir;
}

/*
 * --extra-symbols FILE. DIR/Module.symvers of an external folder kforge built for this kernel is
 * in kforge's copy, not in DIR (kforge never writes there): the registry's copy of it is taken.
 */
static int add_user_symvers(struct kforge_job *job, const char *path, enum kforge_exit *code)
{
	char real[PATH_MAX];
	_cleanup_free_ char *found = NULL;
	if (!realpath(path, real) || !kf_is_file(real)) {
		_cleanup_free_ char *dir = strdup(path);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		char folder[PATH_MAX];
		if (slash && strcmp(slash + 1, "Module.symvers") == 0) {
			*slash = '\0';
			if (realpath(dir[0] ? dir : "/", folder))
				found = kf_symvers_of(job->cache_dir, job->kernel.release, folder);
		}
		if (!found) {
			*code = KFORGE_EXIT_USAGE;
			kf_err(job->ctx,
			       "--extra-symbols %s: no such file: name the Module.symvers of the module that exports the "
			       "symbols (an external folder kforge builds has its Module.symvers in kforge's copy: build "
			       "that folder for %s with kforge first, and DIR/Module.symvers finds it)",
			       path, job->kernel.release);
			return -ENOENT;
		}
		kf_info(job->ctx, "--extra-symbols %s: the folder was built by kforge for %s: its Module.symvers is %s",
			path, job->kernel.release, found);
	}
	const char *file = found ? found : real;
	if (kf_strv_push(&job->extra_symbols, file) < 0 || kf_strv_push(&job->user_extra_symbols, file) < 0)
		return -ENOMEM;
	return 0;
}

int kforge_job_new(struct kforge_ctx *ctx, const struct kforge_job_options *opts, struct kforge_job **out,
		   enum kforge_exit *code)
{
	enum kforge_exit dummy;
	if (!code)
		code = &dummy;
	*code = KFORGE_EXIT_FAILURE;
	struct kforge_job *job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->refcount = 1;
	job->work_lock = -1;
	job->build_lock = -1;
	job->ctx = kforge_ctx_ref(ctx);
	job->plan = opts->plan;
	kf_runner_init(&job->runner, job->ctx, job->plan);
	job->strategy = opts->strategy;
	if (job->strategy == KFORGE_STRATEGY_AUTO) {
		/* the configuration's value was checked when it was read */
		if (kforge_strategy_from_name(kforge_config_get(ctx, "build.strategy"), &job->strategy) < 0)
			job->strategy = KFORGE_STRATEGY_AUTO;
	}
	job->jobs = opts->jobs ? opts->jobs : (unsigned)strtoul(kforge_config_get(ctx, "build.jobs"), NULL, 10);
	/* 0: the make that started kforge says (MAKEFLAGS=-jN, a jobserver's size), else the CPUs */
	if (!job->jobs) {
		struct kf_jobserver *js = kf_ctx_jobserver(ctx);
		job->jobs = js ? js->tokens : kf_makeflags_jobs(getenv("MAKEFLAGS"));
	}
	/* compiles sent to distcc hosts: as many at once as they take (the slots DISTCC_HOSTS gives) */
	const char *hosts = kforge_config_get(ctx, "build.distcc");
	if (!hosts[0] && getenv("DISTCC_HOSTS"))
		hosts = getenv("DISTCC_HOSTS");
	if (!job->jobs && !kforge_config_get(ctx, "build.cc_launcher")[0] && hosts[0])
		job->jobs = kf_distcc_slots(hosts);
	if (!job->jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		job->jobs = n > 0 ? (unsigned)n : 1;
	}
	for (size_t i = 0; opts->config_changes && opts->config_changes[i]; i++)
		if (kf_strv_push(&job->changes, opts->config_changes[i]) < 0) {
			kforge_job_unref(job);
			return -ENOMEM;
		}
	/* install.initramfs: auto (when the module is in the image), always, never; --initramfs wins */
	const char *ir = kforge_config_get(ctx, "install.initramfs");
	job->initramfs_forced = opts->initramfs || strcmp(ir, "always") == 0;
	job->initramfs_never = !opts->initramfs && strcmp(ir, "never") == 0;
	job->no_wait = opts->no_wait;
	if (opts->install_mod_path) {
		char cwd[PATH_MAX];
		if (opts->install_mod_path[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
			kforge_job_unref(job);
			return -errno;
		}
		job->install_mod_path = opts->install_mod_path[0] == '/'
						? strdup(opts->install_mod_path)
						: kforge_path_join(cwd, opts->install_mod_path, NULL);
	}
	if (opts->install_dir) {
		if (opts->install_dir[0] == '/' || strstr(opts->install_dir, "..")) {
			*code = KFORGE_EXIT_USAGE;
			kf_err(ctx, "--install-dir %s: a folder under lib/modules/KVER, like updates or extra/acme",
			       opts->install_dir);
			kforge_job_unref(job);
			return -EINVAL;
		}
		/* one spelling of the folder ("extra//acme/" is extra/acme): records compare paths as text */
		struct kf_strbuf b = { 0 };
		_cleanup_free_ char *copy = strdup(opts->install_dir);
		for (char *save = NULL, *c = copy ? strtok_r(copy, "/", &save) : NULL; c; c = strtok_r(NULL, "/", &save))
			if (strcmp(c, ".") != 0)
				kf_strbuf_appendf(&b, "%s%s", b.len ? "/" : "", c);
		job->install_dir_forced = kf_strbuf_steal(&b);
		if (!job->install_dir_forced) {
			*code = KFORGE_EXIT_USAGE;
			kf_err(ctx, "--install-dir %s: a folder under lib/modules/KVER, like updates or extra/acme",
			       opts->install_dir);
			kforge_job_unref(job);
			return -EINVAL;
		}
	}
	enum kf_source_kind skind = kf_source_kind_of(opts->source);
	if (skind == KF_SOURCE_GIT) {
		/* git+URL#tag=X: checked now, fetched by the locate source step */
		char why[1024];
		_cleanup_free_ char *url = NULL, *ref = NULL;
		if (kf_source_git_split(opts->source, &url, &ref, NULL, why, sizeof(why)) < 0) {
			*code = KFORGE_EXIT_USAGE;
			kf_err(ctx, "--source %s", why);
			kforge_job_unref(job);
			return -EINVAL;
		}
	}
	if (skind != KF_SOURCE_PATH) {
		job->source = strdup(opts->source);
	} else if (opts->source) {
		char real[PATH_MAX];
		if (!realpath(opts->source, real)) {
			*code = KFORGE_EXIT_MISSING;
			kf_err(ctx, "--source %s: %s: give a kernel source tree or a tarball of one", opts->source,
			       strerror(errno));
			kforge_job_unref(job);
			return -ENOENT;
		}
		job->source = strdup(real);
	}

	char running[KFORGE_RELEASE_MAX + 1] = "";
	const char *kver = opts->kernel;
	if (!kver) {
		if (kf_running_kernel(running, sizeof(running)) < 0) {
			kforge_job_unref(job);
			return -errno;
		}
		kver = running;
	}
	int r = kf_kernel_load(ctx, kver, &job->kernel);
	if (r == -EINVAL || r == -ENAMETOOLONG) {
		char why[512];
		*code = KFORGE_EXIT_USAGE;
		if (kf_release_check(kver, why, sizeof(why)) == 0)
			snprintf(why, sizeof(why), "kernel %s: %s", kver, strerror(-r));
		kf_err(ctx, "%s", why);
		kforge_job_unref(job);
		return r;
	}
	if (r < 0) {
		kforge_job_unref(job);
		return r;
	}
	/* the plugin is chosen for this kernel: a vendor's plugin may claim one flavour */
	r = kforge_plugins_load(ctx);
	if (r < 0) {
		/* -ENOENT: no plugin at all; -EINVAL: kforge.conf sets a plugin's key wrongly (said with file:line) */
		*code = r == -ENOENT ? KFORGE_EXIT_MISSING : r == -EINVAL ? KFORGE_EXIT_USAGE : KFORGE_EXIT_FAILURE;
		kforge_job_unref(job);
		return r;
	}
	r = kf_plugins_select(ctx, NULL, job->kernel.release, job->kernel.build_dir);
	if (r < 0) {
		/* -ENOENT: no plugin of the name --plugin gives, or none claims the system */
		const char *forced = kforge_config_get(ctx, "plugins.plugin");
		*code = r != -ENOENT ? KFORGE_EXIT_FAILURE : forced && forced[0] ? KFORGE_EXIT_USAGE : KFORGE_EXIT_MISSING;
		kforge_job_unref(job);
		return r;
	}
	job->plugin = kf_ctx_plugin_selected(ctx);
	job->chain = calloc(kforge_plugins_count(ctx), sizeof(*job->chain));
	if (!job->chain) {
		kforge_job_unref(job);
		return -ENOMEM;
	}
	job->n_chain = kf_plugins_chain(ctx, job->chain, kforge_plugins_count(ctx));
	if (!job->kernel.build_dir && !opts->lifecycle) {
		*code = KFORGE_EXIT_MISSING;
		report_missing_build_dir(job);
		kforge_job_unref(job);
		return -ENOENT;
	}
	job->compression = job->kernel.compression;
	const char *cc = kforge_config_get(ctx, "install.compression");
	if (strcmp(cc, "auto") != 0)
		for (int c = KFORGE_COMPRESS_NONE; c <= KFORGE_COMPRESS_ZSTD; c++)
			if (strcmp(cc, kforge_compression_name(c)) == 0)
				job->compression = c;
	job->install_subdir = strdup(job->install_dir_forced ? job->install_dir_forced : "updates");
	job->install_base = job->install_mod_path
				    ? kforge_path_join(job->install_mod_path, "lib/modules", kver, NULL)
				    : strdup(job->kernel.modules_dir);
	job->initramfs = strdup(detect_initramfs(job));
	job->cache_dir = default_cache_dir(job);
	for (size_t i = 0; opts->extra_symbols && opts->extra_symbols[i]; i++) {
		r = add_user_symvers(job, opts->extra_symbols[i], code);
		if (r < 0) {
			kforge_job_unref(job);
			return r;
		}
	}

	if (opts->module && classify_module(job, opts->module, code) < 0) {
		kforge_job_unref(job);
		return -EINVAL;
	}
	if (job->module_spec) {
		const char *leaf = strrchr(job->module_spec, '/');
		_cleanup_free_ char *name = strdup(leaf && leaf[1] ? leaf + 1 : job->module_spec);
		/* an external folder's copy: keyed by its real path too, so two folders never share one */
		if (name && job->module_origin) {
			char *keyed = kf_strdup_printf("%s-%08lx", name,
						       kf_hash_str(KF_HASH_SEED, job->module_origin) & 0xffffffffUL);
			free(name);
			name = keyed;
		}
		job->work_dir = kforge_path_join(job->cache_dir ? job->cache_dir : "/tmp", "work", kver,
						 name ? name : "module", NULL);
	}
	*code = KFORGE_EXIT_OK;
	*out = job;
	return 0;
}

int kforge_plugins_select(struct kforge_ctx *ctx, const char *forced)
{
	char running[KFORGE_RELEASE_MAX + 1];
	int r = kf_running_kernel(running, sizeof(running));
	if (r < 0)
		return r;
	if ((r = kforge_plugins_load(ctx)) < 0)
		return r;
	struct kf_kernel k;
	bool known = kf_kernel_load(ctx, running, &k) == 0;
	r = kf_plugins_select(ctx, forced, running, known ? k.build_dir : NULL);
	kf_kernel_free(&k);
	return r;
}

struct kforge_job *kforge_job_unref(struct kforge_job *job)
{
	if (!job || --job->refcount > 0)
		return NULL;
	kf_kernel_free(&job->kernel);
	free(job->module_spec);
	free(job->module_subdir);
	free(job->module_dir);
	free(job->module_origin);
	free(job->source);
	free(job->source_dir);
	free(job->work_dir);
	free(job->packaged_symvers);
	if (job->driver && job->driver->free_data && job->driver_data)
		job->driver->free_data(job->driver_data);
	free(job->dkms_dir);
	free(job->package);
	kf_strv_free(&job->built_as);
	kf_strv_free(&job->built_dest);
	kf_strv_free(&job->no_strip);
	kf_strv_free(&job->dkms_depends);
	kf_strv_free(&job->dkms_satisfied);
	kf_strv_free(&job->dkms_built_against);
	free(job->cache_dir);
	free(job->kbuild_dir);
	free(job->install_subdir);
	free(job->initramfs);
	free(job->chain);
	free(job->module_option);
	free(job->objdir);
	free(job->install_mod_path);
	free(job->install_base);
	free(job->install_dir_forced);
	kf_strv_free(&job->extra_symbols);
	kf_strv_free(&job->user_extra_symbols);
	kf_strv_free(&job->built);
	kf_strv_free(&job->affected);
	free(job->affected_name);
	kf_state_close(job->state);
	free(job->repaired);
	free(job->sign_key);
	free(job->sign_cert);
	free(job->sign_hash);
	kf_runner_release(&job->runner);
	if (job->work_lock >= 0)
		close(job->work_lock);
	if (job->build_lock >= 0)
		close(job->build_lock);
	free(job->built_from);
	free(job->distcc_hosts);
	kf_strv_free(&job->changes);
	kf_strv_free(&job->make_vars);
	kf_strv_free(&job->facts);
	kforge_ctx_unref(job->ctx);
	free(job);
	return NULL;
}

/* Ends the job with CODE: an error ("error:" in the log), or a skip (a notice, "skipped:"). */
__attribute__((format(printf, 4, 0))) static int end_job(struct kforge_job *job, enum kforge_exit code, bool error,
							   const char *format, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, format, ap) < 0)
		msg = NULL;
	if (error)
		kf_err(job->ctx, "%s", msg ? msg : format);
	else
		kf_notice(job->ctx, "%s", msg ? msg : format);
	kf_log_to_file(job, "%s: %s\n", error ? "error" : "skipped", msg ? msg : format);
	if (job->exit_code == KFORGE_EXIT_OK)
		job->exit_code = code;
	return -ECANCELED;
}

int kforge_job_fail(struct kforge_job *job, enum kforge_exit code, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int r = end_job(job, code, true, format, ap);
	va_end(ap);
	return r;
}

int kf_job_skip(struct kforge_job *job, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int r = end_job(job, KFORGE_EXIT_SKIPPED, false, format, ap);
	va_end(ap);
	return r;
}

enum kforge_exit kforge_job_exit_code(const struct kforge_job *job)
{
	return job->exit_code;
}

unsigned int kforge_job_plan_count(const struct kforge_job *job)
{
	return job->runner.n_items;
}

const struct kforge_plan_item *kforge_job_plan_get(const struct kforge_job *job, unsigned int i)
{
	return i < job->runner.n_items ? &job->runner.items[i] : NULL;
}

/* Accessors. */
struct kforge_ctx *kforge_job_ctx(struct kforge_job *job) { return job->ctx; }
const char *kforge_job_root(const struct kforge_job *job) { return kforge_ctx_root(job->ctx); }
bool kforge_job_is_plan(const struct kforge_job *job) { return job->plan; }
const char *kforge_job_kernel(const struct kforge_job *job) { return job->kernel.release; }
const struct kforge_release *kforge_job_release(const struct kforge_job *job) { return &job->kernel.rel; }
const char *kforge_job_modules_dir(const struct kforge_job *job) { return job->kernel.modules_dir; }
const char *kforge_job_build_dir(const struct kforge_job *job) { return job->kernel.build_dir; }
const char *kforge_job_config_file(const struct kforge_job *job) { return job->kernel.config_file; }
enum kforge_compression kforge_job_compression(const struct kforge_job *job) { return job->compression; }
void kforge_job_set_compression(struct kforge_job *job, enum kforge_compression c) { job->compression = c; }
const char *kforge_job_install_subdir(const struct kforge_job *job) { return job->install_subdir; }
const char *kforge_job_initramfs(const struct kforge_job *job) { return job->initramfs; }
const char *kforge_job_module_spec(const struct kforge_job *job) { return job->module_spec; }
enum kforge_module_kind kforge_job_module_kind(const struct kforge_job *job) { return job->kind; }
const char *kforge_job_module_subdir(const struct kforge_job *job) { return job->module_subdir; }
const char *kforge_job_module_dir(const struct kforge_job *job) { return job->module_dir; }
const char *kforge_job_source(const struct kforge_job *job) { return job->source; }
const char *kforge_job_source_dir(const struct kforge_job *job) { return job->source_dir; }
const char *kforge_job_work_dir(const struct kforge_job *job) { return job->work_dir; }
const char *kforge_job_kbuild_dir(const struct kforge_job *job) { return job->kbuild_dir; }
enum kforge_strategy kforge_job_strategy(const struct kforge_job *job) { return job->strategy; }
void kforge_job_set_strategy(struct kforge_job *job, enum kforge_strategy s) { job->strategy = s; }
unsigned int kforge_job_jobs(const struct kforge_job *job) { return job->jobs; }

bool kforge_job_modversions(const struct kforge_job *job)
{
	const char *v = kforge_job_kconfig(job, "CONFIG_MODVERSIONS");
	return v && strcmp(v, "y") == 0;
}

const char *kforge_job_kconfig(const struct kforge_job *job, const char *option)
{
	return option ? kf_kernel_kconfig(&job->kernel, option) : NULL;
}

const char *kforge_job_config_change(const struct kforge_job *job, unsigned int i)
{
	return i < job->changes.n ? job->changes.v[i] : NULL;
}

const char *kforge_job_make_var(const struct kforge_job *job, unsigned int i)
{
	return i < job->make_vars.n ? job->make_vars.v[i] : NULL;
}

int kforge_job_add_make_var(struct kforge_job *job, const char *assignment)
{
	if (!strchr(assignment, '='))
		return -EINVAL;
	/* a later assignment of the same variable replaces the earlier one */
	size_t klen = (size_t)(strchr(assignment, '=') - assignment);
	for (size_t i = 0; i < job->make_vars.n; i++) {
		if (strncmp(job->make_vars.v[i], assignment, klen + 1) == 0) {
			char *dup = strdup(assignment);
			if (!dup)
				return -ENOMEM;
			free(job->make_vars.v[i]);
			job->make_vars.v[i] = dup;
			return 0;
		}
	}
	return kf_strv_push(&job->make_vars, assignment);
}

static int replace(char **slot, const char *value)
{
	char *dup = value ? strdup(value) : NULL;
	if (value && !dup)
		return -ENOMEM;
	free(*slot);
	*slot = dup;
	return 0;
}

const char *kforge_job_display_path(const struct kforge_job *job, const char *host_path)
{
	const char *root = kforge_ctx_root(job->ctx);
	size_t n = strlen(root);
	while (n > 0 && root[n - 1] == '/')
		n--;
	if (host_path && n > 0 && strncmp(host_path, root, n) == 0 && host_path[n] == '/')
		return host_path + n;
	return host_path;
}

int kforge_job_set_config_file(struct kforge_job *job, const char *p)
{
	_cleanup_free_ char *text = NULL;
	int r = kf_read_file(p, &text, NULL);
	if (r < 0)
		return r;
	free(job->kernel.config_text);
	job->kernel.config_text = text;
	text = NULL;
	return replace(&job->kernel.config_file, p);
}
int kforge_job_set_install_subdir(struct kforge_job *job, const char *s) { return replace(&job->install_subdir, s); }
int kforge_job_set_initramfs(struct kforge_job *job, const char *g) { return replace(&job->initramfs, g); }
int kforge_job_set_module_subdir(struct kforge_job *job, const char *s) { return replace(&job->module_subdir, s); }
int kforge_job_set_module_dir(struct kforge_job *job, const char *p) { return replace(&job->module_dir, p); }
int kforge_job_set_source_dir(struct kforge_job *job, const char *p) { return replace(&job->source_dir, p); }
int kforge_job_set_kbuild_dir(struct kforge_job *job, const char *p) { return replace(&job->kbuild_dir, p); }
int kforge_job_set_module_option(struct kforge_job *job, const char *o) { return replace(&job->module_option, o); }
int kforge_job_set_source(struct kforge_job *job, const char *p) { return replace(&job->source, p); }
const char *kforge_job_module_option(const struct kforge_job *job) { return job->module_option; }

const char *kforge_plugin_config_get(const struct kforge_job *job, const char *key)
{
	return job->plugin ? kf_config_plugin_get(job->ctx, job->plugin->name, key) : NULL;
}
const char *kforge_job_cache_dir(const struct kforge_job *job) { return job->cache_dir; }
const char *kforge_job_install_mod_path(const struct kforge_job *job) { return job->install_mod_path; }
const char *kforge_job_install_base(const struct kforge_job *job) { return job->install_base; }
bool kforge_job_initramfs_forced(const struct kforge_job *job) { return job->initramfs_forced; }
void kforge_job_set_rebuild(struct kforge_job *job, bool rebuild) { job->rebuild = rebuild; }

const char *kforge_job_extra_symbols(const struct kforge_job *job, unsigned int i)
{
	return i < job->extra_symbols.n ? job->extra_symbols.v[i] : NULL;
}

int kforge_job_add_extra_symbols(struct kforge_job *job, const char *p)
{
	return kf_strv_contains(&job->extra_symbols, p) ? 0 : kf_strv_push(&job->extra_symbols, p);
}

const char *kforge_job_built_module(const struct kforge_job *job, unsigned int i)
{
	return i < job->built.n ? job->built.v[i] : NULL;
}

int kforge_job_add_built_module(struct kforge_job *job, const char *p)
{
	return kf_strv_contains(&job->built, p) ? 0 : kf_strv_push(&job->built, p);
}

int kforge_job_add_config_change(struct kforge_job *job, const char *change)
{
	return kf_strv_contains(&job->changes, change) ? 0 : kf_strv_push(&job->changes, change);
}

int kforge_job_add_fact(struct kforge_job *job, const char *key, const char *value)
{
	if (!key || !key[0] || !value)
		return -EINVAL;
	for (size_t i = 0; i + 1 < job->facts.n; i += 2)
		if (strcmp(job->facts.v[i], key) == 0) {
			char *v = strdup(value);
			if (!v)
				return -ENOMEM;
			free(job->facts.v[i + 1]);
			job->facts.v[i + 1] = v;
			return 0;
		}
	if (kf_strv_push(&job->facts, key) < 0)
		return -ENOMEM;
	if (kf_strv_push(&job->facts, value) < 0) {
		/* never a key without its value */
		free(job->facts.v[--job->facts.n]);
		job->facts.v[job->facts.n] = NULL;
		return -ENOMEM;
	}
	return 0;
}

bool kforge_job_fact(const struct kforge_job *job, unsigned int i, const char **key, const char **value)
{
	if ((size_t)i * 2 + 1 >= job->facts.n)
		return false;
	*key = job->facts.v[i * 2];
	*value = job->facts.v[i * 2 + 1];
	return true;
}
