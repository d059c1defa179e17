/* source/source.h: the source layer: the one git object store (libgit2), archives (libarchive), decompression. */
#pragma once

#include "kernel/kernel.h"

/*
 * Every function here that can fail writes the cause and the fix into WHY (WHYSIZE bytes; WHY
 * may be NULL) and returns a negative errno. Messages and progress go through a runner R (the
 * job's: its context's log, its log file); R may be NULL for quiet callers. Nothing here knows
 * the job or plan mode: the pipeline's wrappers (pipeline/sources.c) decide what runs.
 */

/* source.c: --source values, git refs, names inside trees */

/* Writes the message into WHY when WHY is not NULL. */
void kf_why(char *why, size_t whysize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* What a --source value names. */
enum kf_source_kind {
	KF_SOURCE_PATH, /* a tree or a tarball on disk */
	KF_SOURCE_GIT,	/* git+URL[#tag=X|#commit=HEX|#branch=NAME] */
	KF_SOURCE_URL,	/* an http://, https:// or file:// URL of a tarball */
};
enum kf_source_kind kf_source_kind_of(const char *source);
/*
 * Splits "git+URL#REF" into URL and REF ("tag=X", ...; NULL without a fragment), both malloc'd.
 * A trailing "?signed" (a PKGBUILD's) is dropped and reported in *SIGNED (may be NULL). The ref
 * is checked like kf_git_ref_parse(). -EINVAL with WHY.
 */
int kf_source_git_split(const char *source, char **url, char **ref, bool *is_signed, char *why, size_t whysize);

enum kf_git_ref_kind {
	KF_GIT_REF_HEAD,   /* NULL: the remote's HEAD */
	KF_GIT_REF_TAG,	   /* "tag=v6.7-rc5" */
	KF_GIT_REF_COMMIT, /* "commit=HEX" (4 to 40 hex digits) */
	KF_GIT_REF_BRANCH, /* "branch=master" */
};
struct kf_git_ref {
	enum kf_git_ref_kind kind;
	const char *name; /* into the string parsed; NULL for HEAD */
};
/* Parses REF (may be NULL); a tag or branch must be a valid git ref name. -EINVAL with WHY. */
int kf_git_ref_parse(const char *ref, struct kf_git_ref *out, char *why, size_t whysize);
/* The ref as words, for messages, into BUF: "tag v6.7", "commit abc", "branch x", "HEAD". */
const char *kf_git_ref_describe(const struct kf_git_ref *ref, char *buf, size_t size);

/*
 * Checks one name inside a tree (a tar entry's component, a git tree entry): not empty, not
 * "." or "..", no '/', not ".git" in any case. Trees from a remote or a tarball are data.
 */
bool kf_tree_name_ok(const char *name, size_t len);
/*
 * Checks a relative path inside a tree ("fs/btrfs"): components each kf_tree_name_ok(); a
 * trailing '/' is allowed. Writes it without the trailing '/' into *NORM (malloc'd).
 */
int kf_tree_path_check(const char *path, char **norm);
/* Does the symlink at PATH (relative to the tree's top) with TARGET stay inside the tree? */
bool kf_tree_link_inside(const char *path, const char *target);

/*
 * The URL that is fetched for URL ([sources] rewrite), malloc'd (NULL on ENOMEM).
 * INTEGRATOR: a stand-in that returns a copy until helper "fetch"'s kforge_url_rewrite lands;
 * pipeline/sources.c calls it in one place, to be replaced by kforge_url_rewrite(job, url).
 */
char *kf_source_rewrite(struct kforge_ctx *ctx, const char *url);

/*
 * Fills DIR (an empty folder that exists) by FILL, under the temporary name DEST.partial-PID
 * renamed to DEST when complete (the partial removed on failure). -EEXIST when DEST exists.
 */
typedef int (*kf_tree_fill_fn)(void *data, const char *dir, char *why, size_t whysize);
int kf_tree_write(const char *dest, kf_tree_fill_fn fill, void *data, char *why, size_t whysize);

/* Progress on a terminal: a line redrawn at most every 100 ms (stderr, when it is a terminal and not -q). */
struct kf_progress {
	struct kf_runner *r;
	bool tty;
	long long last_ms;
	int last_log_tenth; /* the last 10 % step written into the log */
};
void kf_progress_init(struct kf_progress *p, struct kf_runner *r);
/* Redraws the line with the text of FMT (throttled unless FORCE). */
void kf_progress_show(struct kf_progress *p, bool force, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Clears the line. */
void kf_progress_done(struct kf_progress *p);

/* git.c: the store CACHE_DIR/git/store.git; each URL a remote named by a hash of it */
#define KF_GIT_STORE "git/store.git"
/* The remote's name for URL: 16 hex digits of its SHA-1 (as a git blob), into NAME[17]. */
void kf_git_remote_name(const char *url, char name[17]);
/*
 * Fetches what REF needs from URL into the store (created on first use), under the cache's
 * lock CACHE_DIR/locks/git-store.lock, and writes the commit into OID (40 hex + NUL). A tag or
 * commit that the store already has is not fetched again. SHOWN is the URL as the user gave
 * it, for messages (NULL: URL). -ENOENT when the remote has no such ref or commit. R is
 * needed (the lock's messages).
 */
int kf_git_fetch(struct kf_runner *r, const char *cache_dir, const char *url, const char *shown, const char *ref,
		 char oid[41], char *why, size_t whysize);
/* What kf_git_fetch() would hand back without the network: 0 and OID, or -ENOENT (nothing written, no lock taken). */
int kf_git_resolve_local(const char *cache_dir, const char *url, const char *ref, char oid[41]);
/*
 * PATH of commit OID (40 or fewer hex digits): malloc'd, NUL-terminated; -ENOENT (no such
 * file), -EISDIR (a folder), -EFBIG, -ESRCH (the store lacks the commit).
 */
int kf_git_read(const char *cache_dir, const char *oid, const char *path, char **text, size_t *len, char *why,
		size_t whysize);
/* With the files (not the folders) of each folder above SUBDIR, the top included: what prepare mirrors. */
#define KF_TREE_PARENT_FILES 1u
/*
 * Writes the tree of commit OID, or only SUBDIR of it (at its path: DIR/fs/btrfs), into DIR
 * (an existing folder). Modes kept (0644, 0755), symlinks as symlinks; an entry whose name is
 * not kf_tree_name_ok() or a link that leaves the tree is refused (-EINVAL). Submodules are
 * left as empty folders. -ESRCH: the store lacks the commit; -ENOENT: it has no SUBDIR.
 */
int kf_git_export_into(struct kf_runner *r, const char *cache_dir, const char *oid, const char *subdir,
		       unsigned int flags, const char *dir, char *why, size_t whysize);
/* The same into DEST, through kf_tree_write(). */
int kf_git_export(struct kf_runner *r, const char *cache_dir, const char *oid, const char *subdir, const char *dest,
		  char *why, size_t whysize);

/* archive.c: tarballs (libarchive, in-process) and single compressed files */
/*
 * Unpacks ARCHIVE (tar, plain or gzip, xz, zstd, bzip2) into DIR (an existing folder), the
 * first path component dropped; only SUBDIR when not NULL (the rest skipped while reading).
 * Absolute paths, "..", links that leave the tree, devices and FIFOs are refused (-EINVAL),
 * a .git folder (a tarball of a checkout) is skipped,
 * and nothing is written through a link.
 */
int kf_unpack_into(struct kf_runner *r, const char *archive, const char *subdir, unsigned int flags, const char *dir,
		   char *why, size_t whysize);
/* The same into DEST, through kf_tree_write(). */
int kf_unpack(struct kf_runner *r, const char *archive, const char *dest, const char *subdir, char *why,
	      size_t whysize);
/* The most kf_decompress() writes: a few hostile bytes must not fill the disk. */
#define KF_DECOMPRESS_MAX (4ULL << 30)
/* Decompresses SRC (zstd, xz or gzip, by its magic) into DEST (a temporary name renamed). */
int kf_decompress(const char *src, const char *dest, char *why, size_t whysize);
