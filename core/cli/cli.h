/* cli/cli.h: the kforge command's files: options, the command table's functions, output helpers. */
#pragma once

#include <stdbool.h>
#include <kforge/frontend.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct opts {
	const char *root, *kernel, *plugin, *source, *strategy, *install_mod_path, *install_dir;
	const char *changes[64];
	unsigned int n_changes;
	const char *extra_symbols[16];
	unsigned int n_extra;
	bool initramfs;
	const char *jobs;
	int verbose, quiet;
	bool json, help, dry_run, no_wait, force;
	bool rebuild;		       /* build, install, autoinstall: past the build cache */
	bool all;		       /* cache prune --all, uninstall --all */
	bool last;		       /* log --last */
	bool all_kernels;	       /* autoinstall --all-kernels */
	bool remove;		       /* dkms import --remove */
	const char *older_than;	       /* cache prune --older-than DAYS */
	const char *source_rewrites[16]; /* --source-rewrite FROM=TO, in order */
	unsigned int n_rewrites;
	const char *dir;
	const char *args[64];
	unsigned int n_args;
};

/* what an option's value is, for the completion */
enum opt_kind { OPT_NONE, OPT_TEXT, OPT_DIR, OPT_FILE, OPT_KERNEL, OPT_PLUGIN, OPT_STRATEGY };

struct optdef {
	const char *name;
	char short_name; /* 0: none */
	int val;	 /* getopt's */
	const char *metavar; /* NULL: no value */
	const char *help;
	enum opt_kind kind;
};

struct command {
	const char *name;
	int (*fn)(struct kforge_ctx *ctx, struct opts *o);
	const char *usage;
	const char *help;
	bool json;
};
/* main.c's tables, handed to the completion (which must not reach back into main.c) */
struct cli_tables {
	const struct command *commands;
	size_t n_commands;
	const struct optdef *optdefs;
	size_t n_optdefs;
};

/* common.c */
void json_str(const char *s);
void json_kv(const char *key, const char *value, bool comma);
void json_file(int dirfd_, const char *name);
int exit_for(int err);
/* A job for MODULE (NULL: none) on the target kernel, with the plugin selected for it; an exit code. */
int make_job_for(struct kforge_ctx *ctx, const struct opts *o, const char *module, bool plan, bool lifecycle,
		 struct kforge_job **job);
int make_job(struct kforge_ctx *ctx, const struct opts *o, const char *module, bool plan, struct kforge_job **job);
/* The job's exit code after a failed call, never 0. */
int job_code(struct kforge_job *job);
int need_args(struct kforge_ctx *ctx, const struct opts *o, unsigned int n, const char *what);

/* inspect.c */
int cmd_info(struct kforge_ctx *ctx, struct opts *o);
int cmd_plugins(struct kforge_ctx *ctx, struct opts *o);
int cmd_config(struct kforge_ctx *ctx, struct opts *o);
/* build.c */
int cmd_plan(struct kforge_ctx *ctx, struct opts *o);
int cmd_build(struct kforge_ctx *ctx, struct opts *o);
int cmd_install(struct kforge_ctx *ctx, struct opts *o);
/* lifecycle.c */
int cmd_uninstall(struct kforge_ctx *ctx, struct opts *o);
int cmd_status(struct kforge_ctx *ctx, struct opts *o);
int cmd_autoinstall(struct kforge_ctx *ctx, struct opts *o);
int cmd_keygen(struct kforge_ctx *ctx, struct opts *o);
/* cache.c */
int cmd_cache(struct kforge_ctx *ctx, struct opts *o);
/* log.c */
int cmd_log(struct kforge_ctx *ctx, struct opts *o);
/* complete.c */
int cmd_completion(struct kforge_ctx *ctx, struct opts *o);
/* before the options are parsed: `completion words -- WORDS...` and `completion bash|zsh` */
int cli_complete_words(const struct cli_tables *t, int n, char **words);
int cli_completion_script(const char *shell);
/* dkms.c */
int cmd_dkms(struct kforge_ctx *ctx, struct opts *o);
void dkms_usage(const struct opts *o);
/* DKMS's modules for KERNEL (NULL: all) in kforge status: a section of the table, or the value of "dkms" in --json. */
void dkms_status(struct kforge_ctx *ctx, struct kforge_job *job, const char *kernel, bool json);
