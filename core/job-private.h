/* job-private.h: the job's fields, shared by job.c, runner.c and steps.c. */
#pragma once

#include "libkforge-private.h"

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
	bool initramfs_forced, strategy_chosen;
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
};

/* Picks headers or full for an auto strategy, once the module and its option are known. */
void kf_job_resolve_strategy(struct kforge_job *job);
int kf_plan_add(struct kforge_job *job, bool is_command, const char *cwd, const char *text);
int kforge_job_setup(struct kforge_job *job);
/* Writes to the job's log file when one is open. */
void kf_log_to_file(struct kforge_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
