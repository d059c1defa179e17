/* pipeline/job.h: the job's fields, shared by the pipeline's files. */
#pragma once

#include "txn/txn.h"

struct kf_job_driver;

struct kforge_job {
	int refcount;
	struct kforge_ctx *ctx;
	const struct kf_plugin *plugin; /* selected for this job's kernel; owned by the context */
	/* the plugin, then the others that claim the system, by score: whose knowledge the defaults use */
	const struct kf_plugin **chain;
	unsigned int n_chain;
	struct kf_kernel kernel;
	char *module_spec;
	enum kforge_module_kind kind;
	char *module_subdir, *module_dir;
	/* an external module: its folder as the user named it (real path), which records and messages
	 * name; module_dir is then kforge's copy of it that the build runs in (prepare) */
	char *module_origin;
	char *source, *source_dir;
	char *cache_dir, *work_dir, *kbuild_dir;
	char *install_subdir, *initramfs;
	char *module_option, *objdir, *install_mod_path, *install_base, *install_dir_forced;
	struct kf_strv extra_symbols, built;
	/* what the refresh-initramfs step is about: the module files this job changed, and its name */
	struct kf_strv affected;
	char *affected_name;
	bool initramfs_forced, initramfs_never, strategy_chosen;
	enum kforge_compression compression;
	enum kforge_strategy strategy;
	unsigned int jobs;
	bool plan, setup_done;
	struct kf_strv changes, make_vars;
	struct kf_runner runner; /* commands, the log, the plan's items */
	enum kforge_exit exit_code;
	int work_lock; /* flock held from prepare to the end of the job, -1 when none */
	struct kf_state *state; /* the root's state, locked, from install to the end of the job */
	bool no_wait;		/* --no-wait: fail at once when another kforge holds the lock */
	char *repaired;		/* what opening the state finished or rolled back */
	struct kf_strv user_extra_symbols; /* --extra-symbols as given, for the record */
	char *sign_key, *sign_cert, *sign_hash; /* host paths and hash when modules are signed */
	bool sign_checked;
	struct kf_strv facts; /* what plugins found about the target: key, value, key, value, ... */
	char *packaged_symvers; /* kernel.symvers_packaged decompressed (kf_job_packaged_symvers) */
	/* a DKMS package (a folder with a dkms.conf, also module_origin): its steps are the driver's
	 * (core/dkms/build.c); package is "NAME/VER" once its dkms.conf is read */
	char *dkms_dir, *package;
	const struct kf_job_driver *driver;
	void *driver_data;
	/* parallel to built when the driver fills them: the name each is installed as (DEST_MODULE_NAME,
	 * without .ko), and where the package wanted it (DEST_MODULE_LOCATION) for the record */
	struct kf_strv built_as, built_dest;
	struct kf_strv no_strip; /* built files installed with their debug info (STRIP[i]=no) */
	/* the package's BUILD_DEPENDS (names), set when its dkms.conf is read; those autoinstall
	 * counts as installed for the kernel (they were skipped there, exit 77, as DKMS 3.4 counts them) */
	struct kf_strv dkms_depends, dkms_satisfied;
	/* "NAME/VER SHA256,..." of each BUILD_DEPENDS package the build used, for the record */
	struct kf_strv dkms_built_against;
	/* run by autoinstall: a package whose AUTOINSTALL is not yes is skipped, not_autoinstalled set */
	bool autoinstall, not_autoinstalled;
	/* the build cache (build-cache.c): --rebuild; on a hit, the entry's folder the built modules
	 * are in (their install paths are taken relative to it) and its lock, held to the end */
	bool rebuild;
	bool ccache;	    /* compiles go through ccache (build.ccache, build.cc_launcher) */
	char *distcc_hosts; /* and through distcc to these hosts (build.distcc, DISTCC_HOSTS) */
	char *built_from;
	int build_lock;
	/* the install found every module installed as this build would install it: nothing committed */
	bool unchanged;
};

/*
 * The steps of a kind of job that the core's defaults do not build (a DKMS package), from a layer
 * above the pipeline (core/dkms registers its own when the library loads): a step set here
 * replaces the plugin's hook and the core's default.
 */
struct kf_job_driver {
	const char *name; /* the owner of its steps in the plan and the log ("dkms") */
	kforge_step_fn steps[KFORGE_STEP_COUNT];
	void (*free_data)(void *data);
	/* after kforge_job_uninstall removed the last module of PACKAGE (its folder DIR) for the kernel */
	void (*removed)(struct kforge_job *job, const char *package, const char *dir);
	/* after the job's last step succeeded (kforge_job_run): a negative errno fails the job */
	int (*finished)(struct kforge_job *job);
};
void kf_job_driver_register(const struct kf_job_driver *driver);
const struct kf_job_driver *kf_job_driver_get(void);
/* Ends the job as skipped (the package excludes this kernel): a notice, not an error; exit 77. */
int kf_job_skip(struct kforge_job *job, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* job-state.c: the state of the job's root (or --install-mod-path), opened and locked once */
int kf_job_state(struct kforge_job *job, bool create);
/*
 * Retired records (lifecycle.c): a copy of a kernel's record kept in STATE/retired/ when the
 * kernel was removed while it held the only record of that module (its spec and options), so
 * that autoinstall still rebuilds the module for the next kernel. KEY: what autoinstall keys a
 * wish by (kind, spec, options); the folder under BASE (the root or --install-mod-path).
 */
char *kf_wish_key(const struct kforge_record *r);
char *kf_retired_dir(const struct kforge_job *job);
int kf_retired_read(struct kforge_job *job, struct kforge_record ***out, size_t *n, struct kf_strv *paths);
/* A failure of the transaction layer (its message kept in the state) failing the job. */
int kf_job_state_failed(struct kforge_job *job, int err);
/* The depmod callback the state runs through the job's runner. */
int kf_job_depmod(void *job, const char *base, const char *kernel, int *status);
/* Does the system's initramfs owe a refresh once a commit changed modules (not under --install-mod-path,
 * not with install.initramfs = never, not without a generator)? */
bool kf_job_owes_refresh(const struct kforge_job *job);
/* After a successful refresh-initramfs step: the refresh the state owed is done. */
void kf_job_refresh_done(struct kforge_job *job);
/* sign.c: finds the key (or refuses when the kernel enforces signatures and there is none) */
int kf_sign_prepare(struct kforge_job *job);
/* Signs the module file at PATH in place when a key was found; 0 otherwise. */
int kf_sign_module(struct kforge_job *job, const char *path);

/*
 * gate.c: the kernel package's compressed Module.symvers (kernel.symvers_packaged), decompressed
 * into the work folder once per job: *OUT its host path (the job's), NULL when the package ships none. A damaged file fails
 * the job naming it.
 */
int kf_job_packaged_symvers(struct kforge_job *job, const char **out);

/* job.c: what plugin P's knowledge functions see of the job's kernel (the probe's view). */
void kf_job_probe_info(const struct kforge_job *job, const struct kf_plugin *p, struct kforge_probe_info *info);
/* The initramfs generator NAME as the first of the job's plugins that knows it describes it, or NULL. */
const struct kforge_initramfs *kf_job_initramfs_generator(const struct kforge_job *job, const char *name);
/* depmod's search order as the distribution's depmod.d sets it (the first plugin that says), or NULL. */
const char *const *kf_job_depmod_search(const struct kforge_job *job);

/* Picks headers or full for an auto strategy, once the module and its option are known. */
void kf_job_resolve_strategy(struct kforge_job *job);
/* Runs the plugin's setup once; then --install-dir wins over what it said. */
int kf_job_setup(struct kforge_job *job);
/* Writes to the job's log file when one is open. */
#define kf_log_to_file(job, ...) kf_runner_log(&(job)->runner, __VA_ARGS__)
/* The job's log, for messages: its path or "the log". */
static inline const char *kf_job_log_name(const struct kforge_job *job)
{
	return job->runner.log_path ? job->runner.log_path : "the log";
}
