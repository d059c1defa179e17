/*
 * kforge/fetch.h: sources from the network, for the locate-source step of the core and of
 * plugins: every URL through [sources] rewrite, each file fetched once (libcurl) into the
 * cache's content-addressed store and verified against its checksum. Since libkforge 0.2.
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_job;

/*
 * URL after [sources] rewrite and --source-rewrite: the pair whose FROM is the longest prefix
 * of URL replaces it with its TO, as git's url.<TO>.insteadOf = FROM (--source-rewrite pairs
 * before the file's, so that of two equal FROMs the command line's wins). URL itself when no
 * FROM matches. Malloc'd; NULL when out of memory.
 */
char *kforge_url_rewrite(const struct kforge_job *job, const char *url);

/*
 * Fetches URL (http, https, file; rewritten) once into the content-addressed cache
 * (build.cache_dir: downloads/sha256/HEX, downloads/b2/HEX, downloads/url/HASH) and hands back
 * the host path of the verified file in *PATH (malloc'd). CHECKSUM is "sha256:HEX", "b2:HEX"
 * (BLAKE2b-512) or NULL: then the file is kept under its URL's hash and verified only against
 * the sha256 recorded when it was fetched (for files that are verified another way, e.g. a
 * sha256sums.asc). NAME is the file name to show and to keep ("linux-6.6.1.tar.xz"; NULL: the
 * URL's last component). A file in the cache is verified before use (a damaged one is
 * fetched again, with a warning); two kforge runs fetching one file take turns. Progress on a
 * terminal, a partial download resumed (in the run or the next one), timeouts ([sources]
 * timeout, connect_timeout) reported. Returns 0, or fails the job naming the URL as given, the
 * URL after the rewrite and the rewrite in force, the cause and the fix: a mismatch names the
 * file, the expected and the actual sums, leaves nothing in the cache, and exits 5
 * (KFORGE_EXIT_REFUSED); a server that cannot be reached, has no such file or stalls exits 3
 * (KFORGE_EXIT_MISSING). Plan mode: notes what would be fetched from where (after the
 * rewrite), fetches nothing, and *PATH is where the file would be.
 */
int kforge_fetch(struct kforge_job *job, const char *url, const char *name, const char *checksum, char **path);

#ifdef __cplusplus
}
#endif
