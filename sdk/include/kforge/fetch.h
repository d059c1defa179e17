/*
 * kforge/fetch.h: sources through one fetcher: URLs after [sources] rewrite, downloads into a
 * content-addressed cache, git through libgit2 in one object store, archives and compressed files.
 *
 * Declared here until wip-fetch/wip-git land (helper "arch" needs the signatures; helpers
 * "fetch" and "git" own this header and the implementations; the integrator merges). The
 * declarations below are copied exactly from the issue 8 work split.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_job;

/* URL after [sources] rewrite and --source-rewrite (longest FROM prefix wins, like git's
 * insteadOf; --source-rewrite pairs before the file's); malloc'd; NULL on ENOMEM. */
char *kforge_url_rewrite(const struct kforge_job *job, const char *url);

/* Fetches URL (http, https, file; rewritten) once into the content-addressed cache and
 * hands back the host path of the verified file in *PATH (malloc'd). CHECKSUM is
 * "sha256:HEX", "b2:HEX" (BLAKE2b-512) or NULL (then only by URL, kept under its URL's
 * hash and fetched anew when stale is not an issue: a NULL checksum is for files that
 * are verified another way, e.g. sha256sums.asc). NAME is the file name to show and to
 * keep ("linux-6.6.1.tar.xz"). Progress on a terminal, resume of a partial download,
 * timeouts reported. A mismatch fails the job naming the file, the expected and the
 * actual sums; nothing is left in the cache. Plan mode: notes what would be fetched
 * from where (after rewrite), fetches nothing, *PATH is where it would be. */
int kforge_fetch(struct kforge_job *job, const char *url, const char *name, const char *checksum,
		 char **path);

/* Git through libgit2, in ONE bare object store in the cache (CACHE/git/store.git): every
 * URL is a remote of it, so several kernel versions share objects. REF is "tag=v6.7-rc5",
 * "commit=HEX", "branch=NAME" (the PKGBUILD fragment syntax) or NULL (the remote's HEAD).
 * Fetches only what is missing (a tag already present is not fetched again). Writes the
 * commit id (40 hex + NUL) into OID. */
int kforge_git_fetch(struct kforge_job *job, const char *url, const char *ref, char oid[41]);
/* Reads PATH of commit OID from the store (a .SRCINFO, a PKGBUILD): malloc'd, NUL-terminated;
 * -ENOENT when the commit has no such file. */
int kforge_git_read(struct kforge_job *job, const char *oid, const char *path, char **text, size_t *len);
/* Writes the tree of commit OID (or only its SUBDIR, when not NULL) into DEST (created;
 * written under a temporary name and renamed; no .git in it, so kbuild's setlocalversion
 * sees no git tree and adds no "+"). Modes and symlinks kept. */
int kforge_git_export(struct kforge_job *job, const char *oid, const char *subdir, const char *dest);

/* Unpacks ARCHIVE (tar with gzip, xz, zstd, bzip2; libarchive) into DEST, dropping the
 * first path component; only SUBDIR (e.g. "fs/btrfs") when not NULL. Refuses absolute
 * paths, "..", and links that leave DEST. Written under a temporary name, renamed. */
int kforge_unpack(struct kforge_job *job, const char *archive, const char *subdir, const char *dest);

/* Decompresses SRC (.zst, .xz, .gz: by its magic) into DEST (for a .patch.zst). */
int kforge_decompress(struct kforge_job *job, const char *src, const char *dest);

#ifdef __cplusplus
}
#endif
