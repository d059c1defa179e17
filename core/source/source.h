/* source/source.h: the fetcher's layer: URL rewrites, digests, downloads (libcurl), the content-addressed store. */
#pragma once

#include "base/base.h"

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
