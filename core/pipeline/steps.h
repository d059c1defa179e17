/* pipeline/steps.h: what the default steps share among their files. */
#pragma once

#include "pipeline/job.h"

/* derive-version.c: make's variables for the release ("KERNELRELEASE=..."), appended to ARGV at N. */
size_t kf_add_make_vars(const struct kforge_job *job, const char **argv, size_t n, size_t max);
/* "-jN" (the job's -j) written into BUF, or NULL when a jobserver runs the makes: MAKEFLAGS says it. */
const char *kf_make_jobs(struct kforge_job *job, char *buf, size_t size);
/* ccache's cache for the module's builds: build.cache_dir/ccache/KVER/NAME-HASH, one per module
 * folder and kernel (as its work folder, handed to the build user for a build and back, under
 * the work folder's lock), so that no module's build can put objects or settings into another's,
 * and two builds at once never share one (malloc'd). */
char *kf_ccache_dir(const struct kforge_job *job);
/*
 * derive-version.c: a make (or a script) of the module's or the kernel tree's own, run as every
 * build runs: kforge_run_sandboxed, the build user ([build] user), no network, CWD its working
 * directory and PWD. What it may read and kforge's bubblewrap would hide (the root, the source,
 * the module's folder, the build dir, the symbol files, all maybe under /tmp) is bound read-only;
 * WRITABLE (the build folder) and the compiler launcher's cache (build.cc_launcher: CCACHE_DIR,
 * else CACHE/ccache) are all it writes. Returns what kforge_run returns, or -ECANCELED.
 */
int kf_run_build(struct kforge_job *job, const char *cwd, const char *const argv[], const char *writable);
/* The compiler the target was built with, CONFIG_CC_VERSION_TEXT's first word (gcc-12, clang), into
 * CC; false when the text names no gcc or clang. */
bool kf_target_cc(const struct kforge_job *job, char *cc, size_t size);
/* configure.c: the prepared full tree (job->objdir) is there and made for this release. */
bool kf_objdir_ready(const struct kforge_job *job);
/*
 * cache.c: a source tarball unpacked once into the cache, under a lock; sets the job's source
 * dir. Only SUBDIR when not NULL (*PARTIAL then says the tree is not whole).
 */
int kf_unpack_cached(struct kforge_job *job, const char *tarball, const char *subdir, bool *partial);
/* CACHE/src/KEY (malloc'd) */
char *kf_cache_src_path(const struct kforge_job *job, const char *key);
/* KEY-SUBDIR-HASH: the key of only SUBDIR of KEY's tree (malloc'd) */
char *kf_cache_subtree_key(const char *key, const char *subdir);
/* Fills DIR (the temporary folder) or fails the job. */
typedef int (*kf_cache_fill_fn)(struct kforge_job *job, const char *dir, void *data);
/*
 * CACHE/src/KEY made once by FILL, under a lock (DOING says what a second kforge waits for),
 * in a temporary folder renamed when complete; sets the job's source dir.
 */
int kf_cache_tree(struct kforge_job *job, const char *key, const char *doing, kf_cache_fill_fn fill, void *data);
/*
 * sources.c: a git --source ("git+URL#tag=X"): fetched into the store, its tree (or only
 * SUBDIR, *PARTIAL then true) exported once into the cache; sets the job's source dir.
 */
int kf_git_source(struct kforge_job *job, const char *source, const char *subdir, bool *partial);
/*
 * external.c: the external module's folder SRC copied into DST, incrementally: files the source
 * did not change keep their copy (and its mtime), files it lost are removed, kbuild's outputs in
 * SRC are not taken. Nothing is written into SRC.
 */
int kf_mirror_external(struct kforge_job *job, const char *src, const char *dst);
/* What the module folder DIR holds, for a build that made no module ("it has a Makefile and no
 * Kbuild file, no obj-m line, ..."), appended to OUT. */
int kf_describe_external(const char *dir, struct kf_strbuf *out);
/*
 * Is NAME what kbuild writes (an object, .ko, .mod, .cmd, modules.order, Module.symvers), or one
 * of kforge's own notes? Never copied or linked into a build folder: a build there may be for
 * any kernel, and a link to a read-only tree's object would be written through.
 */
bool kf_build_output(const char *name);
/*
 * Does DIR's Makefile run $(MAKE) -C itself (a wrapper)? *OBJM: does its Makefile or Kbuild assign
 * obj-m? *GUARD: does the Makefile test KERNELRELEASE (ifneq ($(KERNELRELEASE),)) to tell kbuild's
 * pass from its own, so that KERNELRELEASE must not be set on its command line?
 */
bool kf_external_wrapper(const char *dir, bool *objm, bool *guard);
/* cache.c: the lock of the folder a build writes into, held to the end of the job. */
int kf_lock_work(struct kforge_job *job, const char *dir);
/* The lock file kf_lock_work takes for the work folder DIR (host path) of the cache CACHE_DIR, malloc'd. */
char *kf_work_lock_path(const char *cache_dir, const char *dir);

/*
 * The file whose content is SHA256 was removed for good by its owner (DKMS): the records of
 * KERNEL under the job's root forget it among what their installs replaced (txn's
 * kf_state_forget_replaced), so that an uninstall does not bring it back. Records changed, or a negative errno.
 */
int kf_job_forget_replaced(struct kforge_job *job, const char *kernel, const char *sha256);

/*
 * build-cache.c: builds kept by what decides their output (CACHE/builds/KEY). The text that names
 * it: kforge's version, what was asked, the target's identity, the compiler, make's variables,
 * the symbol files EXTRA the build reads, the module's sources by content (malloc'd into *OUT).
 */
int kf_build_key_text(struct kforge_job *job, const struct kf_strv *extra, char **out);
/* KEY: the SHA-256 of that text, which goes into the job's log. */
int kf_build_key(struct kforge_job *job, const struct kf_strv *extra, char key[65]);
/* CACHE/builds/KEY and the lock its readers hold shared, prune exclusively (malloc'd). */
char *kf_build_cache_path(const char *cache_dir, const char *key);
char *kf_build_cache_lock_path(const char *cache_dir, const char *key);
/*
 * The build KEY, when the cache holds it intact: its modules become the job's built ones
 * (job->built_from the entry's folder of them) and *HIT is set; the entry's lock is held to
 * the end of the job. A damaged entry is removed (a warning) and is a miss.
 */
int kf_build_cache_lookup(struct kforge_job *job, const char *key, bool *hit);
/* Keeps the job's built modules (those in its module folder) and Module.symvers as KEY. */
int kf_build_cache_store(struct kforge_job *job, const char *key);
/* Removes KEY's entry (--rebuild), once no other kforge reads it. */
int kf_build_cache_forget(struct kforge_job *job, const char *key);
