/* kforge/fetch.h: sources: the one git object store (libgit2), tarballs (libarchive), compressed files. */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_job;

/*
 * INTEGRATOR: helper "fetch" adds kforge_url_rewrite() and kforge_fetch() (downloads into the
 * content-addressed cache, libcurl) to this header; the functions below are helper "git"'s.
 *
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
