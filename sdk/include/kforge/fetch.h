/*
 * kforge/fetch.h: sources, for the locate-source step of the core and of plugins: every URL
 * through [sources] rewrite; files fetched once (libcurl) into the cache's content-addressed
 * store and verified against their checksums; the one git object store (libgit2); tarballs
 * (libarchive); compressed files. Since libkforge 0.2.
 */
#pragma once

#include <stddef.h>

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

/*
 * Each function fails the job (kforge_job_fail: the message names the cause and the fix) and
 * returns -ECANCELED, unless said otherwise. Paths are host paths (kforge_path_find()).
 */

/*
 * Git through libgit2, in ONE bare object store in the cache (CACHE/git/store.git): every
 * URL is a remote of it, so several kernel versions share objects. REF is "tag=v6.7-rc5",
 * "commit=HEX", "branch=NAME" (the PKGBUILD fragment syntax) or NULL (the remote's HEAD).
 * Fetches only what is missing (a tag already present is not fetched again). Writes the
 * commit id (40 hex + NUL) into OID. The URL goes through the [sources] rewrite. Progress on
 * a terminal and in the job's log. Plan mode fetches nothing: it notes what would be fetched,
 * and OID is the commit when the store has it already, else 40 zeros.
 */
int kforge_git_fetch(struct kforge_job *job, const char *url, const char *ref, char oid[41]);

/*
 * Reads PATH of commit OID from the store (a .SRCINFO, a PKGBUILD): malloc'd, NUL-terminated
 * in *TEXT, its length in *LEN (LEN may be NULL). -ENOENT when the commit has no such file
 * (and in plan mode for the 40 zeros of a fetch not done), -EISDIR when PATH is a folder:
 * neither fails the job.
 */
int kforge_git_read(struct kforge_job *job, const char *oid, const char *path, char **text, size_t *len);

/*
 * Writes the tree of commit OID (or only its SUBDIR, when not NULL, at its path in DEST:
 * DEST/fs/btrfs) into DEST (created; written under a temporary name and renamed; no .git in
 * it, so kbuild's setlocalversion sees no git tree and adds no "+"). Modes and symlinks kept;
 * an entry named .git, "..", with a '/', or a link leaving the tree is refused (a tree from
 * a remote is data). DEST must not exist. Plan mode: a note, nothing written.
 */
int kforge_git_export(struct kforge_job *job, const char *oid, const char *subdir, const char *dest);

/*
 * Unpacks ARCHIVE (tar with gzip, xz, zstd, bzip2; libarchive, in-process) into DEST,
 * dropping the first path component; only SUBDIR (e.g. "fs/btrfs", at its path in DEST) when
 * not NULL. Refuses absolute paths, "..", and links that leave DEST. Written under a temporary
 * name, renamed. DEST must not exist. Plan mode: a note, nothing written.
 */
int kforge_unpack(struct kforge_job *job, const char *archive, const char *subdir, const char *dest);

/*
 * Decompresses SRC (.zst, .xz, .gz: by its magic) into DEST (for a .patch.zst), under a
 * temporary name renamed; at most 4 GiB. Plan mode: a note, nothing written.
 */
int kforge_decompress(struct kforge_job *job, const char *src, const char *dest);

#ifdef __cplusplus
}
#endif
