/* kforge/job.h: the job (target kernel, module, options, root) and the seven steps. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <kforge/release.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_ctx;
struct kforge_job;

/* The pipeline, in the order the core runs it. */
enum kforge_step {
	KFORGE_STEP_LOCATE_SOURCE = 0,
	KFORGE_STEP_DERIVE_VERSION,
	KFORGE_STEP_CONFIGURE,
	KFORGE_STEP_PREPARE,
	KFORGE_STEP_COMPILE,
	KFORGE_STEP_INSTALL,
	KFORGE_STEP_REFRESH_INITRAMFS,
	KFORGE_STEP_COUNT
};

/* What the user asked to build. */
enum kforge_module_kind {
	KFORGE_MODULE_NAME = 0,	  /* "btrfs": an in-tree module, found by name */
	KFORGE_MODULE_INTREE_DIR, /* "fs/btrfs": a directory of the kernel source */
	KFORGE_MODULE_EXTERNAL,	  /* "./my-driver": a directory with a Kbuild file or Makefile */
};

enum kforge_strategy {
	KFORGE_STRATEGY_AUTO = 0,
	KFORGE_STRATEGY_HEADERS, /* the module's directory built against the installed build dir */
	KFORGE_STRATEGY_FULL,	 /* the whole source prepared to the target's release */
};

enum kforge_compression {
	KFORGE_COMPRESS_NONE = 0,
	KFORGE_COMPRESS_GZIP,
	KFORGE_COMPRESS_XZ,
	KFORGE_COMPRESS_ZSTD,
};

const char *kforge_step_name(enum kforge_step step);
const char *kforge_strategy_name(enum kforge_strategy s);
/* "auto", "headers" or "full" into *OUT; -EINVAL for anything else. Since ABI 1.1. */
int kforge_strategy_from_name(const char *name, enum kforge_strategy *out);
const char *kforge_compression_name(enum kforge_compression c);
/* The suffix a module file carries: "", ".gz", ".xz", ".zst". */
const char *kforge_compression_suffix(enum kforge_compression c);

/*
 * Paths: every path a job hands out is a host path (the root already prefixed), ready
 * to open or to pass to a command. kforge_job_display_path() turns one back into the
 * path as the target system sees it, for messages.
 */
struct kforge_ctx *kforge_job_ctx(struct kforge_job *job);
const char *kforge_job_root(const struct kforge_job *job);
const char *kforge_job_display_path(const struct kforge_job *job, const char *host_path);
bool kforge_job_is_plan(const struct kforge_job *job);

/* The target kernel. */
const char *kforge_job_kernel(const struct kforge_job *job);
const struct kforge_release *kforge_job_release(const struct kforge_job *job);
const char *kforge_job_modules_dir(const struct kforge_job *job); /* .../lib/modules/KVER */
const char *kforge_job_build_dir(const struct kforge_job *job);	  /* NULL when not installed */
const char *kforge_job_config_file(const struct kforge_job *job); /* NULL when none was found */
int kforge_job_set_config_file(struct kforge_job *job, const char *host_path);
bool kforge_job_modversions(const struct kforge_job *job);
/* Looks one option up in the target's config: "y", "m", a value, or NULL when unset. */
const char *kforge_job_kconfig(const struct kforge_job *job, const char *option);
enum kforge_compression kforge_job_compression(const struct kforge_job *job);
void kforge_job_set_compression(struct kforge_job *job, enum kforge_compression c);

/* Where modules go: install_subdir under the modules dir ("updates" unless a plugin says). */
const char *kforge_job_install_subdir(const struct kforge_job *job);
int kforge_job_set_install_subdir(struct kforge_job *job, const char *subdir);
/* "mkinitcpio", "booster", "dracut", "initramfs-tools", "kernel-install" or "none". */
const char *kforge_job_initramfs(const struct kforge_job *job);
int kforge_job_set_initramfs(struct kforge_job *job, const char *generator);

/* The module. */
const char *kforge_job_module_spec(const struct kforge_job *job);
enum kforge_module_kind kforge_job_module_kind(const struct kforge_job *job);
/* For in-tree modules: the directory inside the kernel source ("fs/btrfs"), once known. */
const char *kforge_job_module_subdir(const struct kforge_job *job);
int kforge_job_set_module_subdir(struct kforge_job *job, const char *subdir);
/*
 * The one folder of the kernel source that the headers strategy builds in ("drivers/net"): the
 * module's subdir once known, else where the target's modules.dep lists the module, into BUF. A
 * plugin that fetches or prepares a source tree needs only that folder then. -ENOENT when the job
 * needs the whole tree (the full strategy, a config change) or the folder is not known;
 * -ENAMETOOLONG when BUF is too small.
 */
int kforge_job_headers_subdir(const struct kforge_job *job, char *buf, size_t size);
/*
 * The folder the module is built in (host path): before prepare, an external module's folder as
 * the user named it; from prepare on, the copy built: kforge's copy of the external folder in the
 * job's work folder (kforge_job_work_dir, one per kernel; the user's folder is never written), or
 * the mirror of the in-tree one. make runs there, with PWD set to it. Records and messages name
 * the user's folder.
 */
const char *kforge_job_module_dir(const struct kforge_job *job);
int kforge_job_set_module_dir(struct kforge_job *job, const char *host_path);

/* The Kconfig option that builds the module ("CONFIG_BTRFS_FS"), once known; "" for obj-m. */
const char *kforge_job_module_option(const struct kforge_job *job);
int kforge_job_set_module_option(struct kforge_job *job, const char *option);

/* Sources and build trees. */
const char *kforge_job_source(const struct kforge_job *job);	/* --source, or NULL */
/* A plugin that found the source (a tree or a tarball) names it here, before the default runs. */
int kforge_job_set_source(struct kforge_job *job, const char *host_path);
const char *kforge_job_cache_dir(const struct kforge_job *job);
const char *kforge_job_source_dir(const struct kforge_job *job); /* the tree located */
int kforge_job_set_source_dir(struct kforge_job *job, const char *host_path);
const char *kforge_job_work_dir(const struct kforge_job *job);
/* The tree `make -C` runs in: the build dir (headers) or the prepared source (full). */
const char *kforge_job_kbuild_dir(const struct kforge_job *job);
int kforge_job_set_kbuild_dir(struct kforge_job *job, const char *host_path);

/* Options. */
enum kforge_strategy kforge_job_strategy(const struct kforge_job *job);
void kforge_job_set_strategy(struct kforge_job *job, enum kforge_strategy s);
unsigned int kforge_job_jobs(const struct kforge_job *job);
/* --set CONFIG_X=VALUE changes, in the order given; NULL past the end. */
const char *kforge_job_config_change(const struct kforge_job *job, unsigned int i);
int kforge_job_add_config_change(struct kforge_job *job, const char *change);
/* --extra-symbols files, and the Module.symvers of external modules kforge built before. */
const char *kforge_job_extra_symbols(const struct kforge_job *job, unsigned int i);
int kforge_job_add_extra_symbols(struct kforge_job *job, const char *host_path);

/* What compile produced: host paths of the .ko files, in build order; NULL past the end. */
const char *kforge_job_built_module(const struct kforge_job *job, unsigned int i);
int kforge_job_add_built_module(struct kforge_job *job, const char *host_path);

/* Installing: --install-mod-path (kbuild's INSTALL_MOD_PATH, NULL for the root itself),
 * the lib/modules/KVER folder installs go to, and --initramfs. */
const char *kforge_job_install_mod_path(const struct kforge_job *job);
const char *kforge_job_install_base(const struct kforge_job *job);
bool kforge_job_initramfs_forced(const struct kforge_job *job);

/*
 * The validation gate: every built module's vermagic must match the target's, and on a
 * CONFIG_MODVERSIONS kernel every imported symbol must carry the CRC the target (or an
 * extra Module.symvers) lists. Returns 0, or fails the job with KFORGE_EXIT_REFUSED
 * naming the string or symbol that differs. The core's install runs it first.
 */
int kforge_validate(struct kforge_job *job);

/*
 * Variables make needs to reproduce the target's release (derive version adds them,
 * prepare and compile pass them): "KERNELRELEASE=6.1.0-56-amd64", "EXTRAVERSION=-arch1".
 */
int kforge_job_add_make_var(struct kforge_job *job, const char *assignment);
const char *kforge_job_make_var(const struct kforge_job *job, unsigned int i);

/*
 * For refresh-initramfs hooks: true with --initramfs, or when LISTER (the generator's own
 * lister and the image, e.g. {"lsinitramfs", "/boot/initrd.img-KVER", NULL}) lists one of the
 * built modules. In plan mode the lister is recorded and the answer is false.
 */
bool kforge_job_initramfs_needed(struct kforge_job *job, const char *const lister[]);

/*
 * For refresh-initramfs hooks whose generator ARGV failed: fails the job (exit 1) with a
 * message that the module stays installed and recorded, and the command to run again.
 */
int kforge_initramfs_failed(struct kforge_job *job, const char *const argv[]);

/*
 * Since 0.2: a fact the plugin found about the target ("arch.package" = "linux 6.6.1.arch1-1"),
 * which `kforge info` shows after the core's own (--json: in "facts"). KEY: the plugin's name, a
 * dot, a word. A second value for a KEY replaces the first. 0, -EINVAL or -ENOMEM.
 */
int kforge_job_add_fact(struct kforge_job *job, const char *key, const char *value);

/* The core's default for each step; a plugin's hook may call it and then adjust. */
int kforge_default_locate_source(struct kforge_job *job);
int kforge_default_derive_version(struct kforge_job *job);
int kforge_default_configure(struct kforge_job *job);
int kforge_default_prepare(struct kforge_job *job);
int kforge_default_compile(struct kforge_job *job);
int kforge_default_install(struct kforge_job *job);
int kforge_default_refresh_initramfs(struct kforge_job *job);

#ifdef __cplusplus
}
#endif
