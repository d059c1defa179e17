/* kernel/kernel.h: facts about a target kernel: its release, config, modules, compression. */
#pragma once

#include <stdint.h>

#include "base/base.h"

/* kernel.c: facts about the target kernel, read under the root */
struct kf_kconfig_entry {
	char *name, *value; /* "CONFIG_X", "y" (quotes removed) */
	size_t line;
};
struct kf_kernel {
	char *release;
	char *modules_dir; /* host path of lib/modules/KVER (or usr/lib/modules) */
	char *build_dir;   /* host path, resolved, or NULL */
	char *config_file; /* host path or NULL */
	char *config_text; /* the config's contents, for lookups */
	struct kf_kconfig_entry *kconfig; /* its options, sorted by name */
	size_t n_kconfig;
	struct kforge_release rel;
	enum kforge_compression compression;
	/* host path of the package's compressed Module.symvers (symvers-KVER.xz), or NULL */
	char *symvers_packaged;
};
int kf_kernel_load(struct kforge_ctx *ctx, const char *release, struct kf_kernel *k);
void kf_kernel_free(struct kf_kernel *k);
/* OPTION in the kernel's config: "y", "m", a value, or NULL when unset. Writes nothing. */
const char *kf_kernel_kconfig(const struct kf_kernel *k, const char *option);
/* Looks OPTION up in a .config's text: "y", "m", "value" (quotes removed) or NULL. */
const char *kf_kconfig_lookup(const char *config_text, const char *option, char *buf, size_t size);
/* Does kernel-install lay the images out under ROOT (its install.conf says layout= or initrd_generator=)? */
bool kf_kernel_install_configured(const char *root);
/* The modules dir for RELEASE under ROOT, as a host path, or NULL. */
char *kf_find_modules_dir(const char *root, const char *release);
/*
 * Checks that RELEASE can be a kernel release: 1 to KFORGE_RELEASE_MAX characters, no '/',
 * "..", space or control character, VERSION.PATCHLEVEL first. 0, -ENAMETOOLONG or -EINVAL
 * with the whole message in WHY (the release shown safely for a terminal).
 */
int kf_release_check(const char *release, char *why, size_t size);
/* The running kernel's release. */
int kf_running_kernel(char *buf, size_t size);

/* kbuild.c: a module's directory and option from the source's Makefiles ("" option: obj-m) */
int kf_find_module_in_source(const char *src, const char *name, const char *arch, char **subdir, char *option,
			     size_t optsize);
int kf_find_module_in_dir(const char *src, const char *subdir, const char *name, char *option, size_t optsize);

/* compress.c: module files like the target's own (zlib, liblzma, libzstd) */
/* The largest module file read or decompressed: debug info makes some hundreds of MiB. */
#define KF_MODULE_MAX (1UL << 30)
enum kforge_compression kf_compression_of_path(const char *path);
/* Writes IN_PATH to OUT_FD compressed with C (gzip; xz with CRC32 checks; zstd). */
int kf_compress_file(enum kforge_compression c, const char *in_path, int out_fd);
/* Writes IN_PATH to OUT_FD decompressed, by its suffix (.gz, .xz, .zst; else as is). */
int kf_decompress_file(const char *in_path, int out_fd);
/* The compression of data that starts with BUF (zstd, xz, gzip magic), or NONE. */
enum kforge_compression kf_compression_of_magic(const void *buf, size_t len);
/*
 * Streams IN_FD decompressed (C; NONE copies) into OUT_FD, writing at most MAX bytes (-EFBIG
 * past it). Damaged or truncated data: -EBADMSG, never a short result.
 */
int kf_decompress_fd(enum kforge_compression c, int in_fd, int out_fd, uint64_t max);
/*
 * A plain copy of a possibly compressed module, for libkmod (which may lack zlib): PATH
 * itself when it is not compressed, else NAME.ko in a new folder *TMPDIR. NULL on error
 * (errno; EINVAL when PATH is not a regular file). Released with kf_module_plain_release().
 */
char *kf_module_plain_copy(const char *path, char **tmpdir);
void kf_module_plain_release(char *path, char *tmpdir);

/* moddb.c: the target's module indexes and module names */
/* True when NAME (dashes or underscores) is in MODULES_DIR's modules.builtin: compiled into the kernel. */
bool kf_module_builtin(const char *modules_dir, const char *name);
/* NAME's path as modules.dep lists it (libkmod's indexes, else the text file), malloc'd, or NULL. */
char *kf_module_path(const char *modules_dir, const char *name);
/*
 * NAME's path in the kernel's own tree ("kernel/fs/btrfs/btrfs.ko.zst"): from modules.dep, or
 * modules.order (the kernel build's list) when another copy (updates/) is the one depmod lists;
 * malloc'd, or NULL.
 */
char *kf_module_tree_path(const char *modules_dir, const char *name);
/*
 * The symbolic links in any kernel's weak-updates/ under BASE (lib/modules/KVER/weak-updates, where
 * RHEL's weak-modules links a module into the other kernels whose symbols agree) that resolve to
 * TARGET (a path as the target sees it, present or gone): pushed into LINKS as the target sees
 * them, their kernels into KERNELS (may be NULL). 0 or a negative errno.
 */
int kf_weak_links(const char *base, const char *target, struct kf_strv *links, struct kf_strv *kernels);
/* "kernel/fs/btrfs/btrfs.ko.zst" -> "fs/btrfs"; NULL when not under kernel/. */
char *kf_module_subdir_of(const char *path);
/* "kforge-exporter.ko.zst" -> "kforge_exporter": the name modprobe and depmod use. */
char *kf_module_name_of(const char *path);
/* NAME.ko, .ko.gz, .ko.xz or .ko.zst. */
bool kf_is_module_file(const char *leaf);

/*
 * symvers.c: external modules kforge built before, kept per kernel as
 * CACHE/symvers/KVER/<hash of the module folder>.symvers, so that their exports resolve.
 */
/* The registry's files for KERNEL, newest first, without MODULE_DIR's own. */
void kf_symvers_registered(const char *cache_dir, const char *kernel, const char *module_dir, struct kf_strv *out);
/* Copies BUILT_DIR/Module.symvers into the registry as MODULE_DIR's (the folder the user named; the
 * build ran in BUILT_DIR, kforge's copy of it); nothing when it is empty or missing. */
/* The registry's Module.symvers of the external folder MODULE_DIR (the user's, as built for KERNEL), malloc'd; NULL: none. */
char *kf_symvers_of(const char *cache_dir, const char *kernel, const char *module_dir);
void kf_symvers_register(const char *cache_dir, const char *kernel, const char *module_dir, const char *built_dir);
/*
 * Writes FILES' symbols into OUT_PATH, each symbol once, the first file's line winning: modpost
 * refuses a symbol "exported twice". *NSYMS: how many.
 */
int kf_symvers_merge(const struct kf_strv *files, const char *out_path, size_t *nsyms);

/*
 * depmod for KERNEL under BASE ("" or "/": the system itself; else depmod -b BASE): its argv
 * into ARGV (at least 5 slots, NULL-terminated), and as a command line to show (malloc'd).
 */
void kf_depmod_argv(const char *base, const char *kernel, const char *argv[5]);
char *kf_depmod_command(const char *base, const char *kernel);
/* Runs depmod under BASE for KERNEL; 0 when it ran (its exit status in *STATUS) or a negative errno. */
typedef int (*kf_depmod_fn)(void *data, const char *base, const char *kernel, int *status);
/*
 * depmod's search order under ROOT (depmod.d "search" lines; without any, FALLBACK, the order
 * the distribution's depmod.d sets, NULL-terminated; without that, depmod's own: updates/ first,
 * then everything else), and the rank of a path relative to lib/modules/KVER in it (lower wins).
 */
void kf_depmod_search_order(const char *root, const char *const *fallback, struct kf_strv *order);
size_t kf_depmod_rank(const struct kf_strv *order, const char *rel);
