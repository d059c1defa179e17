/* source/source.h: the source layer: URL rewrites, digests, downloads (libcurl), the content-addressed store, the one git object store (libgit2), archives (libarchive), decompression. */
#pragma once

#include "base/base.h"
#include "kernel/kernel.h"

/* url.c: [sources] rewrite, git's insteadOf for every URL kforge fetches */
struct kf_rewrite {
	char *from, *to;
};
struct kf_rewrites {
	struct kf_rewrite *v;
	size_t n;
};
/*
 * Appends TEXT's whitespace-separated FROM TO pairs to RW, in order. -EINVAL when a FROM has
 * no TO (an odd count of words; RW unchanged), -ENOMEM.
 */
int kf_rewrites_parse(const char *text, struct kf_rewrites *rw);
void kf_rewrites_free(struct kf_rewrites *rw);
/* The pairs in force: sources.rewrite (the command line's --source-rewrite pairs first). */
int kf_rewrites_load(const struct kforge_ctx *ctx, struct kf_rewrites *rw);
/*
 * URL with the longest FROM that prefixes it replaced by its TO (of equal FROMs, the first);
 * malloc'd, NULL when out of memory. *USED (when not NULL) is the pair applied, or NULL when
 * none matched (then the copy equals URL).
 */
char *kf_url_rewrite(const struct kf_rewrites *rw, const char *url, const struct kf_rewrite **used);
/* "http", "https", "file" (lower case) when URL has one of these schemes, else NULL. */
const char *kf_url_scheme(const char *url);

/* digest.c: sha256 and BLAKE2b-512 with libcrypto, as lower-case hex */
enum kf_digest {
	KF_DIGEST_SHA256 = 0,
	KF_DIGEST_B2, /* BLAKE2b-512, Arch's b2sums */
};
#define KF_DIGEST_HEX_MAX 129 /* 128 hex digits of BLAKE2b-512 and the NUL */
struct kf_checksum {
	enum kf_digest algo;
	char hex[KF_DIGEST_HEX_MAX];
};
/* "sha256" or "b2": the spelling of checksum specs and of the cache's folders. */
const char *kf_digest_name(enum kf_digest algo);
/* How many hex digits ALGO's sum has: 64 or 128. */
size_t kf_digest_hex_len(enum kf_digest algo);
/* Parses "sha256:HEX" or "b2:HEX" (HEX of the right length, any case; kept lower-case); -EINVAL. */
int kf_checksum_parse(const char *spec, struct kf_checksum *out);
/* The digest of the file at PATH (a regular file, never a FIFO: -EINVAL) into HEX; 0 or -errno. */
int kf_digest_file(const char *path, enum kf_digest algo, char hex[KF_DIGEST_HEX_MAX]);
/* The digest of LEN bytes at DATA into HEX; 0 or -ENOMEM/-EIO. */
int kf_digest_data(const void *data, size_t len, enum kf_digest algo, char hex[KF_DIGEST_HEX_MAX]);
/* Does PATH's content have the sum SUM? 1 yes, 0 no (its own sum in ACTUAL when not NULL), or -errno. */
int kf_checksum_verify(const char *path, const struct kf_checksum *sum, char actual[KF_DIGEST_HEX_MAX]);

/* download.c: one URL into one file with libcurl (http, https, file) */
struct kf_download {
	const char *url;     /* what is fetched (after the rewrite) */
	const char *partial; /* the file written; what it holds already is resumed (Range) */
	const char *label;   /* the name shown beside the progress bar */
	unsigned int connect_timeout; /* seconds; 0: libcurl's own */
	unsigned int timeout;	      /* seconds without data before it fails; 0: none */
	bool progress;		      /* a one-line bar on stderr */
	struct kf_runner *log;	      /* a line in the job's log, or NULL */
	/* out */
	long status;		      /* the last HTTP status, 0 for file: */
	long long resumed_from;	      /* bytes kept from an earlier try, 0 when none */
	long long bytes;	      /* the file's size at the end */
};
/*
 * Fetches D->url into D->partial (created 0644, never through a link), following redirects,
 * resuming what the file holds (a server that ignores the Range starts it over) and once
 * more within the call when the connection drops after some data. Returns 0 when the body
 * is complete, or: -ETIMEDOUT (connect or stall), -ECONNREFUSED (cannot connect), -EHOSTUNREACH
 * (cannot resolve), -ENOENT (HTTP 404/410, no such file:), -EACCES (HTTP 401/403),
 * -EPROTO (another HTTP status >= 400), -EPIPE (the connection dropped), -ENOMEM, -EIO;
 * WHY (when not NULL) says what happened, libcurl's own message included.
 */
int kf_download(struct kforge_ctx *ctx, struct kf_download *d, char *why, size_t whysize);

/* store.c: each file once, by its checksum, under CACHE/downloads */
#define KF_STORE_DIR "downloads"
#define KF_STORE_INDEX "downloads/names"
/* One line of the index: "KEY NAME URL [SUM]"; KEY is "sha256/HEX", "b2/HEX" or "url/HEX". */
struct kf_store_name {
	char *key, *name, *url, *sum;
};
/* The index's lines (a damaged line is skipped), at most one per key; free with kf_store_names_free(). */
int kf_store_names_read(const char *cache_dir, struct kf_store_name **out, size_t *n);
void kf_store_names_free(struct kf_store_name *v, size_t n);
/* Drops KEY's line from the index (prune); 0 or -errno. */
int kf_store_names_forget(struct kforge_ctx *ctx, const char *cache_dir, const char *key);
/* The lock file of KEY's entry ("sha256/HEX"): CACHE/locks/download-ALGO-HEX.lock (malloc'd). */
char *kf_store_lock_path(const char *cache_dir, const char *key);
/* The git object store and its lock (git/store.git; locks/git-store.lock), for list and prune. */
#define KF_CACHE_GIT_STORE "git/store.git"
#define KF_CACHE_GIT_LOCK "locks/git-store.lock"
/* The lock `kforge cache prune` holds so that two prunes do not meet. */
#define KF_CACHE_LOCK "locks/cache.lock"

struct kf_fetch_req {
	const char *url;		 /* as given */
	const char *fetch_url;		 /* after the rewrite */
	const char *name;		 /* the file name to show and keep in the index */
	const struct kf_checksum *sum;	 /* NULL: kept by URL */
	const char *cache_dir;
	unsigned int connect_timeout, timeout;
	bool progress;
	struct kf_runner *log;
};
/* Where REQ's file is kept: CACHE/downloads/sha256/HEX, b2/HEX, or url/SHA256-OF-URL (malloc'd). */
char *kf_store_entry_path(const char *cache_dir, const struct kf_checksum *sum, const char *url);
/* KEY of the entry ("sha256/HEX"), malloc'd. */
char *kf_store_key(const struct kf_checksum *sum, const char *url);
/*
 * The verified file of REQ in *PATH (malloc'd): the cache's entry when it is there and its sum
 * matches (a damaged one is removed with a warning and fetched again), else downloaded (under
 * the entry's lock, into ENTRY.partial, resumed from an earlier run), verified, renamed into
 * place and named in the index. A file kept by URL is verified against the sha256 the index
 * recorded when it was fetched. Returns 0 (*CACHED true when no download was needed), -EBADMSG
 * when the downloaded file's sum differs (WHY: "expected ALGO:HEX, got ALGO:HEX"; nothing is
 * left, the .partial removed), or kf_download()'s errors (WHY its cause; the .partial kept for
 * the next run), or -errno of the cache (WHY says which path).
 */
int kf_store_fetch(struct kforge_ctx *ctx, const struct kf_fetch_req *req, char **path, bool *cached, char *why,
		   size_t whysize);


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
 * it, for messages (NULL: URL). -ENOENT when the remote has no such ref or commit, -EHOSTUNREACH when
 * the remote cannot be fetched from (the URL is wrong or unreachable). R is
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
