/*
 * kforge/cache.h: what the cache (build.cache_dir) keeps of sources, and freeing it: `kforge
 * cache list|prune`. Part of the front-end API (<kforge/frontend.h> includes it), not for
 * plugins. Since libkforge 0.2.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_job;

enum kforge_cache_kind {
	KFORGE_CACHE_DOWNLOAD = 0, /* downloads/ALGO/HEX: a fetched file, by its checksum (or url/HASH) */
	KFORGE_CACHE_PARTIAL,	   /* a download to resume (HEX.partial), or an interrupted unpack */
	KFORGE_CACHE_GIT,	   /* git/store.git: the one git object store */
	KFORGE_CACHE_SOURCE,	   /* src/KEY: an unpacked or exported source tree */
	KFORGE_CACHE_WORK,	   /* work/KVER/NAME, work/KVER/dkms/NAME/VER: a module's build folder (since LIBKFORGE_0.2) */
	KFORGE_CACHE_BUILD,	   /* builds/KEY: built modules kept by what decides them (since LIBKFORGE_0.2) */
	KFORGE_CACHE_CCACHE,	   /* ccache: ccache's own cache of compiled objects (since LIBKFORGE_0.2) */
};
/* "download", "partial", "git", "src", "work", "build", "ccache". */
const char *kforge_cache_kind_name(enum kforge_cache_kind kind);

struct kforge_cache_entry {
	enum kforge_cache_kind kind;
	char *path;		 /* host path */
	char *key;		 /* the path inside the cache: "downloads/sha256/HEX", "src/KEY", "git/store.git" */
	char *name, *url;	 /* what a download was fetched as, when the cache's index knows; else NULL */
	unsigned long long size; /* bytes: the sizes of every file in it */
	long long mtime;	 /* when last used (downloads) or written, in seconds since the epoch */
};

/*
 * Every entry of the job's cache (kforge_job_cache_dir): downloads/, git/store.git, src/, the
 * build folders under work/ and the kept builds under builds/, by kind and key. Free the array with kforge_cache_entries_free().
 */
int kforge_cache_list(struct kforge_job *job, struct kforge_cache_entry **out, size_t *n);
void kforge_cache_entries_free(struct kforge_cache_entry *v, size_t n);
/*
 * Since 0.2: the compiles ccache served from its cache (HITS: direct and preprocessed) and those
 * it compiled (MISSES), summed over the modules' caches (build.cache_dir/ccache/KVER/NAME-HASH, one
 * per module and kernel). Asks `ccache --print-stats` (ccache 4). -ENOENT when there is no such cache or no ccache.
 */
int kforge_ccache_stats(struct kforge_job *job, unsigned long long *hits, unsigned long long *misses);
/* An entry's size for a person, into BUF: "512 B", "1.5 MiB". */
void kforge_cache_size_text(unsigned long long bytes, char *buf, size_t size);

/*
 * Removes from the job's cache, under its lock, the downloads (partial ones too), source trees,
 * build folders (work/) and kept builds (builds/) not used for OLDER_THAN_DAYS days, or with ALL every entry, git/store.git included.
 * Nothing outside the cache folder is touched (links are never followed); an entry another
 * kforge is using is skipped (said). What was removed comes back in *REMOVED and *N (both may
 * be NULL; free with kforge_cache_entries_free()). Returns 0 or fails the job.
 */
int kforge_cache_prune(struct kforge_job *job, bool all, unsigned int older_than_days,
		       struct kforge_cache_entry **removed, size_t *n);

#ifdef __cplusplus
}
#endif
