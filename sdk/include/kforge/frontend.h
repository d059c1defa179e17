/*
 * kforge/frontend.h: the front-end API, what the kforge command uses and plugins do not: the
 * context and its configuration, loading and listing plugins, making and running jobs, plans,
 * (records.h) what kforge installed: status, uninstall, autoinstall, keygen, and (cache.h)
 * what the cache keeps: kforge cache list|prune, and (dkms.h) what DKMS manages beside kforge:
 * kforge status, kforge dkms import. It includes
 * the plugin API, <kforge/kforge.h>.
 */
#pragma once

#include <stdbool.h>
#include <kforge/kforge.h>
#include <kforge/records.h>
#include <kforge/cache.h>
#include <kforge/dkms.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The exit code of a job's first failure (kforge_job_fail), KFORGE_EXIT_OK when none. */
enum kforge_exit kforge_job_exit_code(const struct kforge_job *job);

/* The context: the root every path lives under, configuration, logging, plugins. */
struct kforge_ctx;
int kforge_ctx_new(const char *root, struct kforge_ctx **out);
struct kforge_ctx *kforge_ctx_ref(struct kforge_ctx *ctx);
struct kforge_ctx *kforge_ctx_unref(struct kforge_ctx *ctx);
const char *kforge_ctx_root(const struct kforge_ctx *ctx);

/*
 * Configuration: built-in defaults, then the system file, then the user's file, then
 * the command line; each value remembers where it came from. SYSTEM_FILE and USER_FILE
 * NULL mean the defaults ($KFORGE_SYSTEM_CONFIG or SYSCONFDIR/kforge/kforge.conf;
 * $XDG_CONFIG_HOME or ~/.config, then kforge/kforge.conf); a missing file is skipped.
 * An unknown section or key, or a bad value, is an error naming file:line (-EINVAL); the
 * keys of [plugin.NAME] sections are checked once the plugins are loaded (kforge_plugins_load).
 */
int kforge_config_load(struct kforge_ctx *ctx, const char *system_file, const char *user_file);
/* Sets "section.key" from the command line (ORIGIN e.g. "command line: -j"). */
int kforge_config_set(struct kforge_ctx *ctx, const char *key, const char *value, const char *origin);
/* Iterates in a stable order; returns false past the end. */
bool kforge_config_entry(const struct kforge_ctx *ctx, unsigned int i, const char **key,
			 const char **value, const char **origin, const char **help);
/* The file paths kforge_config_load() used (after defaults were applied). */
const char *kforge_config_system_path(const struct kforge_ctx *ctx);
const char *kforge_config_user_path(const struct kforge_ctx *ctx);

/* Plugins: found along the search path, probed against the root's os-release and the target kernel. */
struct kforge_plugin_entry {
	const char *name;
	const char *path;
	const char *description;
	unsigned int abi_major;
	unsigned int abi_minor;
	int score;
	bool selected;
};
/*
 * Finds and loads every plugin. A plugin that cannot be loaded is reported (path and
 * reason) and skipped; it is an error only when no plugin at all is usable (-ENOENT), or
 * when kforge.conf sets a key of a plugin's [plugin.NAME] section that it does not declare,
 * or to a value it refuses (-EINVAL, said with file:line). Then the plugins' settings
 * are configuration keys like the core's ("plugin.NAME.KEY").
 */
int kforge_plugins_load(struct kforge_ctx *ctx);
/* The search path, in order, as a NULL-terminated list owned by the context. */
const char *const *kforge_plugins_search_path(struct kforge_ctx *ctx);
unsigned int kforge_plugins_count(const struct kforge_ctx *ctx);
const struct kforge_plugin_entry *kforge_plugins_get(const struct kforge_ctx *ctx, unsigned int i);
/*
 * kforge_job_new() probes them for its kernel and selects the best, or the one named by
 * plugins.plugin (--plugin); the entries' score and selected say what it found, and
 * kforge_plugins_selected() is the plugin it chose (NULL before any job).
 */
const struct kforge_plugin *kforge_plugins_selected(const struct kforge_ctx *ctx);
/*
 * Kept for front ends built against kforge 0.1: probes every plugin for the running kernel
 * and selects the best, or FORCED by name (-ENOENT: no such plugin, or none claims the
 * system). kforge_job_new() does this for the job's own kernel; prefer it.
 */
int kforge_plugins_select(struct kforge_ctx *ctx, const char *forced);
/* The target's os-release, as read under the root. */
const struct kforge_os_release *kforge_ctx_os_release(struct kforge_ctx *ctx);

/* Jobs. */
struct kforge_job_options {
	const char *kernel;	 /* NULL: the running kernel */
	const char *module;	 /* name, in-tree dir or external dir; NULL for info */
	const char *source;	 /* --source */
	const char *const *config_changes; /* NULL-terminated "CONFIG_X=y" list */
	enum kforge_strategy strategy;
	unsigned int jobs;	 /* 0: from the configuration */
	bool plan;		 /* record commands, run nothing */
	const char *install_mod_path;	   /* install under DIR/lib/modules (kbuild's INSTALL_MOD_PATH) */
	const char *install_dir;	   /* the folder under lib/modules/KVER (INSTALL_MOD_DIR) */
	const char *const *extra_symbols;  /* NULL-terminated Module.symvers files */
	bool initramfs;			   /* refresh the initramfs even when the module is not in it */
	bool no_wait;			   /* fail at once when another kforge holds the root's lock */
	bool lifecycle;			   /* status, uninstall, autoinstall: no build dir needed */
};
/*
 * Loads the plugins (when not yet done), finds the target kernel, and selects the plugin for
 * it. Fails with a message and an exit code in *exit_code (e.g. no build dir: 3; no plugin of
 * the name plugins.plugin gives: 2).
 */
int kforge_job_new(struct kforge_ctx *ctx, const struct kforge_job_options *opts,
		   struct kforge_job **out, enum kforge_exit *exit_code);
struct kforge_job *kforge_job_unref(struct kforge_job *job);
/*
 * Since 0.2: build even when the build cache (build.cache_dir/builds) holds a build of the same
 * sources, options and kernel, and keep the new one in its place (--rebuild). Before the compile step.
 */
void kforge_job_set_rebuild(struct kforge_job *job, bool rebuild);
/* Runs the plugin's setup, then steps FIRST..LAST inclusive. */
int kforge_job_run(struct kforge_job *job, enum kforge_step first, enum kforge_step last);

/*
 * Since 0.2: several jobs at once (autoinstall, install A B C). Each item runs in a process of its
 * own, at most PARALLEL at a time, and every make they run shares one GNU make jobserver of
 * PARALLEL slots: the one of the make that started kforge when MAKEFLAGS names one, else kforge's.
 * READY names an item that may start now (its dependencies done), -1 when none may until one
 * running ends; START marks it started and returns its job (NULL: it ended there, said); RUN, in
 * the item's process, runs the job and returns its exit code; DONE, in the caller's, says how it
 * ended. PARALLEL 1 runs each in the caller's process, one after the other. 0 or -errno.
 * RUN is called in a forked child: what it changes in DATA is lost, a threaded caller must not
 * use it, and SIGCHLD must not be ignored. Jobs run at once wait for each other's installs
 * (their no_wait is set aside there).
 */
struct kforge_batch_ops {
	long (*ready)(void *data);
	struct kforge_job *(*start)(void *data, size_t item);
	int (*run)(struct kforge_job *job, void *data);
	void (*done)(void *data, size_t item, int exit_code);
};
int kforge_batch_run(struct kforge_ctx *ctx, unsigned int parallel, const struct kforge_batch_ops *ops, void *data);

/* What a plan holds: per step, which plugin ran it and what it would do. */
struct kforge_plan_item {
	enum kforge_step step;
	const char *plugin; /* "core" when the default ran */
	bool is_command;    /* a command (text is shell-quoted argv) or a note */
	const char *cwd;
	const char *text;
};
unsigned int kforge_job_plan_count(const struct kforge_job *job);
const struct kforge_plan_item *kforge_job_plan_get(const struct kforge_job *job, unsigned int i);
/* The facts plugins added (kforge_job_add_fact), in order; false past the end. Since 0.2. */
bool kforge_job_fact(const struct kforge_job *job, unsigned int i, const char **key, const char **value);
/* Which plugin implements STEP for this job ("core" for the default). */
const char *kforge_job_step_owner(const struct kforge_job *job, enum kforge_step step);

/*
 * Opens the job's log file: log.dir under the root (default /var/log/kforge), or
 * ~/.local/state/kforge/logs when that cannot be written. COMMAND names it.
 */
int kforge_job_open_log(struct kforge_job *job, const char *command);
/*
 * Since 0.2: ends the job's log with its result, "# result: ok" or "# result: exit CODE", the
 * line `kforge log` lists (a log whose last line is not one was stopped). kforge_job_run() writes
 * it for a failed step and after a run through compile or further; a command that runs no step
 * (uninstall) writes it itself.
 */
void kforge_job_log_result(struct kforge_job *job, int code);
/*
 * Since 0.2: the folder a job's log goes to when log.dir cannot be written (a user who is not
 * root): $XDG_STATE_HOME/kforge/logs, else ~/.local/state/kforge/logs; malloc'd, NULL when
 * neither is known.
 */
char *kforge_user_log_dir(void);

/* Kernels under the root that have a build dir, NULL-terminated, malloc'd (free each and the list). */
char **kforge_list_kernels(const char *root);

#ifdef __cplusplus
}
#endif
