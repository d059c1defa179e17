/* job-private.h: the job's fields, shared by job.c, runner.c and steps.c. */
#pragma once

#include "kernel/kernel.h"

struct kforge_job {
	int refcount;
	struct kforge_ctx *ctx;
	struct kf_kernel kernel;
	char *module_spec;
	enum kforge_module_kind kind;
	char *module_subdir, *module_dir;
	char *source, *source_dir;
	char *cache_dir, *work_dir, *kbuild_dir;
	char *install_subdir, *initramfs;
	char *module_option, *objdir, *install_mod_path, *install_base, *install_dir_forced;
	struct kf_strv extra_symbols, built;
	bool initramfs_forced, initramfs_never, strategy_chosen;
	enum kforge_compression compression;
	enum kforge_strategy strategy;
	unsigned int jobs;
	bool plan, setup_done;
	struct kf_strv changes, make_vars;
	struct kforge_plan_item *plan_items;
	unsigned int n_plan;
	enum kforge_step current_step;
	const char *current_owner;
	enum kforge_exit exit_code;
	char *log_path;
	FILE *log;
	char kconfig_buf[256];
	int work_lock; /* flock held from prepare to the end of the job, -1 when none */
	struct kf_state *state; /* the root's state, locked, from install to the end of the job */
	bool no_wait;		/* --no-wait: fail at once when another kforge holds the lock */
	char *repaired;		/* what opening the state finished or rolled back */
	struct kf_strv user_extra_symbols; /* --extra-symbols as given, for the record */
	char *sign_key, *sign_cert, *sign_hash; /* host paths and hash when modules are signed */
	bool sign_checked;
};

struct kf_state;
/* install.c: the built modules installed as one transaction; the state opened and locked once */
int kf_install_built(struct kforge_job *job);
int kf_job_state(struct kforge_job *job, bool create);
/* After a successful refresh-initramfs step: the refresh the state owed is done. */
void kf_job_refresh_done(struct kforge_job *job);
void kf_state_close(struct kf_state *st);
/* sign.c: finds the key (or refuses when the kernel enforces signatures and there is none) */
int kf_sign_prepare(struct kforge_job *job);
/* Signs the module file at PATH in place when a key was found; 0 otherwise. */
int kf_sign_module(struct kforge_job *job, const char *path);

/* Picks headers or full for an auto strategy, once the module and its option are known. */
void kf_job_resolve_strategy(struct kforge_job *job);
int kf_plan_add(struct kforge_job *job, bool is_command, const char *cwd, const char *text);
int kforge_job_setup(struct kforge_job *job);
/* Writes to the job's log file when one is open. */
void kf_log_to_file(struct kforge_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
