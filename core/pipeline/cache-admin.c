/* cache-admin.c: `kforge cache list|prune`: what build.cache_dir keeps of sources, and freeing it under its lock. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pipeline/job.h"
#include "pipeline/steps.h"
#include "source/source.h"

const char *kforge_cache_kind_name(enum kforge_cache_kind kind)
{
	static const char *const names[] = { "download", "partial", "git", "src", "work", "build", "ccache" };
	return kind <= KFORGE_CACHE_CCACHE ? names[kind] : "?";
}

void kforge_cache_size_text(unsigned long long bytes, char *buf, size_t size)
{
	if (buf && size)
		kf_human_size(bytes, buf, size);
}

void kforge_cache_entries_free(struct kforge_cache_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].path);
		free(v[i].key);
		free(v[i].name);
		free(v[i].url);
	}
	free(v);
}

struct entries {
	struct kforge_cache_entry *v;
	size_t n;
};

static unsigned long long tree_bytes;
static int add_size(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		tree_bytes += (unsigned long long)st->st_size;
	return 0;
}

/* The bytes of every file below PATH (links not followed). */
static unsigned long long size_of(const char *path, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return S_ISREG(st->st_mode) ? (unsigned long long)st->st_size : 0;
	tree_bytes = 0;
	nftw(path, add_size, 32, FTW_PHYS);
	return tree_bytes;
}

static int add(struct entries *l, enum kforge_cache_kind kind, const char *cache, const char *key,
	       const struct kf_store_name *known)
{
	_cleanup_free_ char *path = kforge_path_join(cache, key, NULL);
	struct stat st;
	if (!path)
		return -ENOMEM;
	if (lstat(path, &st) < 0)
		return 0; /* gone meanwhile */
	struct kforge_cache_entry *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	struct kforge_cache_entry *e = &v[l->n];
	*e = (struct kforge_cache_entry){
		.kind = kind,
		.path = path,
		.key = strdup(key),
		.name = known ? strdup(known->name) : NULL,
		.url = known ? strdup(known->url) : NULL,
		.size = size_of(path, &st),
		.mtime = (long long)st.st_mtime,
	};
	path = NULL;
	l->n++;
	if (!e->key || (known && (!e->name || !e->url)))
		return -ENOMEM;
	return 0;
}

/* A folder of the cache, when it is one (a link there is never followed): its DIR*, or NULL. */
static DIR *open_cache_dir(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return opendir(path);
}

static bool is_hex(const char *s, size_t len)
{
	return strlen(s) >= len && strspn(s, "0123456789abcdef") == len;
}

static int list_downloads(struct entries *l, const char *cache)
{
	struct kf_store_name *names = NULL;
	size_t n_names = 0;
	if (kf_store_names_read(cache, &names, &n_names) == -ENOMEM)
		return -ENOMEM;
	static const struct {
		const char *dir;
		size_t hex_len;
	} algos[] = { { "sha256", 64 }, { "b2", 128 }, { "url", 64 } };
	int r = 0;
	for (size_t a = 0; r == 0 && a < ARRAY_SIZE(algos); a++) {
		_cleanup_free_ char *dir = kforge_path_join(cache, KF_STORE_DIR, algos[a].dir, NULL);
		DIR *d = dir ? open_cache_dir(dir) : NULL;
		for (struct dirent *de; r == 0 && d && (de = readdir(d));) {
			const char *hex = de->d_name;
			size_t len = algos[a].hex_len;
			if (!is_hex(hex, len))
				continue;
			bool partial = strcmp(hex + len, ".partial") == 0;
			if (hex[len] && !partial)
				continue; /* not kforge's */
			char key[256];
			snprintf(key, sizeof(key), "%s/%.*s", algos[a].dir, (int)len, hex);
			const struct kf_store_name *known = NULL;
			for (size_t i = 0; i < n_names; i++)
				if (strcmp(names[i].key, key) == 0)
					known = &names[i];
			_cleanup_free_ char *rel = kf_strdup_printf(KF_STORE_DIR "/%s/%s", algos[a].dir, hex);
			r = rel ? add(l, partial ? KFORGE_CACHE_PARTIAL : KFORGE_CACHE_DOWNLOAD, cache, rel, known) : -ENOMEM;
		}
		if (d)
			closedir(d);
	}
	kf_store_names_free(names, n_names);
	return r;
}

static int list_sources(struct entries *l, const char *cache)
{
	_cleanup_free_ char *dir = kforge_path_join(cache, "src", NULL);
	DIR *d = dir ? open_cache_dir(dir) : NULL;
	int r = 0;
	for (struct dirent *de; r == 0 && d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue; /* ., .., and the trees' lock files */
		_cleanup_free_ char *rel = kf_strdup_printf("src/%s", de->d_name);
		_cleanup_free_ char *full = kforge_path_join(dir, de->d_name, NULL);
		struct stat st;
		if (!rel || !full) {
			r = -ENOMEM;
			break;
		}
		if (lstat(full, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		/* cache.c unpacks into KEY.partial-PID and renames it when complete */
		r = add(l, strstr(de->d_name, ".partial-") ? KFORGE_CACHE_PARTIAL : KFORGE_CACHE_SOURCE, cache, rel, NULL);
	}
	if (d)
		closedir(d);
	return r;
}

/*
 * builds/KEY: a kept build (build-cache.c); builds/.KEY.tmp-XXXXXX: one being kept, or left by a
 * kforge that was killed (partial once it is an hour old).
 */
static int list_builds(struct entries *l, const char *cache)
{
	_cleanup_free_ char *dir = kforge_path_join(cache, "builds", NULL);
	DIR *d = dir ? open_cache_dir(dir) : NULL;
	int r = dir ? 0 : -ENOMEM;
	for (struct dirent *de; r == 0 && d && (de = readdir(d));) {
		const char *name = de->d_name;
		const char *tmp = name[0] == '.' && is_hex(name + 1, 64) ? strstr(name, ".tmp-") : NULL;
		if (!(is_hex(name, 64) && !name[64]) && !tmp)
			continue; /* ., .., the entries' lock files */
		struct stat st;
		_cleanup_free_ char *full = kf_strdup_printf("%s/%s", dir, name);
		if (tmp && full && lstat(full, &st) == 0 && st.st_mtime > time(NULL) - 3600)
			continue; /* being written now, maybe by another machine sharing the cache: an hour's grace */
		_cleanup_free_ char *rel = kf_strdup_printf("builds/%s", name);
		r = rel ? add(l, tmp ? KFORGE_CACHE_PARTIAL : KFORGE_CACHE_BUILD, cache, rel, NULL) : -ENOMEM;
	}
	if (d)
		closedir(d);
	return r;
}

/* The folders DEPTH levels under REL (a folder of the cache: "work/KVER/dkms"), each a work entry. */
static int list_folders(struct entries *l, const char *cache, const char *rel, int depth)
{
	_cleanup_free_ char *dir = kforge_path_join(cache, rel, NULL);
	DIR *d = dir ? open_cache_dir(dir) : NULL;
	int r = dir ? 0 : -ENOMEM;
	for (struct dirent *de; r == 0 && d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = kf_strdup_printf("%s/%s", rel, de->d_name);
		_cleanup_free_ char *full = kforge_path_join(dir, de->d_name, NULL);
		struct stat st;
		if (!sub || !full) {
			r = -ENOMEM;
			break;
		}
		if (lstat(full, &st) < 0 || !S_ISDIR(st.st_mode))
			continue; /* extra-*.symvers: a few bytes, remade by the next build */
		if (depth > 0)
			r = list_folders(l, cache, sub, depth - 1);
		else
			r = add(l, KFORGE_CACHE_WORK, cache, sub, NULL);
	}
	if (d)
		closedir(d);
	return r;
}

/* work/KVER/NAME (a module's copy or tree) and work/KVER/dkms/NAME/VER (a DKMS package's folder). */
static int list_work(struct entries *l, const char *cache)
{
	_cleanup_free_ char *dir = kforge_path_join(cache, "work", NULL);
	DIR *d = dir ? open_cache_dir(dir) : NULL;
	int r = dir ? 0 : -ENOMEM;
	for (struct dirent *de; r == 0 && d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *kver = kf_strdup_printf("work/%s", de->d_name);
		_cleanup_free_ char *dkms = kf_strdup_printf("work/%s/dkms", de->d_name);
		if (!kver || !dkms) {
			r = -ENOMEM;
			break;
		}
		_cleanup_free_ char *full = kforge_path_join(cache, kver, NULL);
		struct stat st;
		if (!full || lstat(full, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		DIR *k = opendir(full);
		for (struct dirent *e; r == 0 && k && (e = readdir(k));) {
			if (e->d_name[0] == '.')
				continue;
			_cleanup_free_ char *sub = kf_strdup_printf("%s/%s", kver, e->d_name);
			_cleanup_free_ char *path = sub ? kforge_path_join(cache, sub, NULL) : NULL;
			if (!sub || !path) {
				r = -ENOMEM;
				break;
			}
			if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			r = strcmp(e->d_name, "dkms") == 0 ? list_folders(l, cache, dkms, 1)
							   : add(l, KFORGE_CACHE_WORK, cache, sub, NULL);
		}
		if (k)
			closedir(k);
	}
	if (d)
		closedir(d);
	return r;
}

static int by_kind_and_key(const void *a, const void *b)
{
	const struct kforge_cache_entry *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The cache folder, when it is one kforge may list and prune: never the root itself. */
static int check_cache_dir(struct kforge_job *job)
{
	const char *cache = job->cache_dir;
	if (!cache)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "no cache folder (set build.cache_dir in kforge.conf)");
	char real[4096];
	const char *root = kforge_ctx_root(job->ctx);
	if (cache[0] != '/' || strcmp(cache, "/") == 0 || (realpath(cache, real) && strcmp(real, "/") == 0) ||
	    strcmp(cache, root) == 0)
		return kforge_job_fail(job, KFORGE_EXIT_USAGE,
				       "build.cache_dir is %s: kforge keeps its cache in a folder of its own, never the root "
				       "(fix: set build.cache_dir in kforge.conf, e.g. /var/cache/kforge)",
				       cache);
	return 0;
}

static int collect(struct kforge_job *job, struct entries *l)
{
	int r = list_downloads(l, job->cache_dir);
	if (r == 0) {
		_cleanup_free_ char *git = kforge_path_join(job->cache_dir, KF_CACHE_GIT_STORE, NULL);
		struct stat st;
		if (!git)
			r = -ENOMEM;
		else if (lstat(git, &st) == 0 && S_ISDIR(st.st_mode))
			r = add(l, KFORGE_CACHE_GIT, job->cache_dir, KF_CACHE_GIT_STORE, NULL);
	}
	if (r == 0)
		r = list_sources(l, job->cache_dir);
	if (r == 0)
		r = list_work(l, job->cache_dir);
	if (r == 0)
		r = list_builds(l, job->cache_dir);
	if (r == 0) {
		_cleanup_free_ char *cc = kforge_path_join(job->cache_dir, "ccache", NULL);
		struct stat st;
		if (!cc)
			r = -ENOMEM;
		else if (lstat(cc, &st) == 0 && S_ISDIR(st.st_mode))
			r = add(l, KFORGE_CACHE_CCACHE, job->cache_dir, "ccache", NULL);
	}
	if (r == 0 && l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_kind_and_key);
	return r;
}

int kforge_cache_list(struct kforge_job *job, struct kforge_cache_entry **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	int r = check_cache_dir(job);
	if (r < 0)
		return r;
	struct entries l = { 0 };
	r = collect(job, &l);
	if (r < 0) {
		kforge_cache_entries_free(l.v, l.n);
		return r;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

/* The lock that whoever writes entry E holds (a download, its .partial, a tree, the git store). */
static char *entry_lock(const char *cache, const struct kforge_cache_entry *e)
{
	if (e->kind == KFORGE_CACHE_WORK)
		return kf_work_lock_path(cache, e->path); /* the build's, kf_lock_work */
	if (e->kind == KFORGE_CACHE_GIT)
		return kforge_path_join(cache, KF_CACHE_GIT_LOCK, NULL);
	if (strncmp(e->key, "builds/", 7) == 0) { /* a reader holds it shared (build-cache.c) */
		const char *key = e->key + 7 + (e->key[7] == '.');
		return kf_build_cache_lock_path(cache, strndupa(key, 64));
	}
	if (strncmp(e->key, KF_STORE_DIR "/", strlen(KF_STORE_DIR) + 1) == 0) {
		/* store.c's lock of the download, which its .partial shares */
		_cleanup_free_ char *key = strdup(e->key + strlen(KF_STORE_DIR) + 1);
		char *dot = key ? strstr(key, ".partial") : NULL;
		if (dot)
			*dot = '\0';
		return key ? kf_store_lock_path(cache, key) : NULL;
	}
	/* cache.c's lock of a tree and of its interrupted unpack: src/.KEY.lock */
	_cleanup_free_ char *key = strdup(e->key + strlen("src/"));
	char *dot = key ? strstr(key, ".partial-") : NULL;
	if (dot)
		*dot = '\0';
	return key ? kf_strdup_printf("%s/src/.%s.lock", cache, key) : NULL;
}

int kforge_cache_prune(struct kforge_job *job, bool all, unsigned int older_than_days,
		       struct kforge_cache_entry **removed, size_t *n_removed)
{
	if (removed)
		*removed = NULL;
	if (n_removed)
		*n_removed = 0;
	int r = check_cache_dir(job);
	if (r < 0)
		return r;
	const char *cache = job->cache_dir;
	if (!kf_is_dir(cache))
		return 0;
	_cleanup_free_ char *lockp = kforge_path_join(cache, KF_CACHE_LOCK, NULL);
	if (!lockp)
		return -ENOMEM;
	_cleanup_close_ int lock = -1;
	if (!job->plan) {
		if ((r = kf_mkdir_parent(lockp)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create the folder of %s: %s", lockp,
					       strerror(-r));
		lock = kf_lock_file(job->ctx, lockp, true, "pruning the cache", NULL);
		if (lock < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot lock %s: %s", lockp, strerror(-lock));
	}
	struct entries l = { 0 }, gone = { 0 };
	r = collect(job, &l);
	long long cutoff = (long long)time(NULL) - (long long)older_than_days * 86400;
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		struct kforge_cache_entry *e = &l.v[i];
		/* the git store is shared by every version, ccache keeps its own size: only --all drops them */
		if (!all && (e->kind == KFORGE_CACHE_GIT || e->kind == KFORGE_CACHE_CCACHE || e->mtime > cutoff))
			continue;
		if (job->plan) {
			kforge_plan_note(job, "remove %s (%llu bytes)", e->path, e->size);
		} else {
			_cleanup_free_ char *elock = entry_lock(cache, e);
			_cleanup_free_ char *holder = NULL;
			if (!elock) {
				r = -ENOMEM;
				break;
			}
			_cleanup_close_ int fd = kf_lock_file(job->ctx, elock, false, NULL, &holder);
			if (fd == -EWOULDBLOCK) {
				kf_notice(job->ctx, "%s is in use by %s: kept", e->path, holder ? holder : "another kforge");
				continue;
			}
			if (fd < 0) {
				kf_warn(job->ctx, "%s: cannot lock %s (%s): kept", e->path, elock, strerror(-fd));
				continue;
			}
			int rr = kf_rm_rf(e->path);
			if (rr < 0) {
				kf_warn(job->ctx, "cannot remove %s: %s", e->path, strerror(-rr));
				continue;
			}
			if (e->kind == KFORGE_CACHE_WORK) { /* the copy's manifest, beside it (external.c) */
				_cleanup_free_ char *manifest = kf_strdup_printf("%s.kforge-mirror", e->path);
				if (manifest)
					unlink(manifest);
			}
			if (e->kind == KFORGE_CACHE_DOWNLOAD && strncmp(e->key, KF_STORE_DIR "/", strlen(KF_STORE_DIR) + 1) == 0 &&
			    (rr = kf_store_names_forget(job->ctx, cache, e->key + strlen(KF_STORE_DIR) + 1)) < 0)
				kf_warn(job->ctx, "cannot update %s/%s: %s", cache, KF_STORE_INDEX, strerror(-rr));
			kf_log_to_file(job, "removed %s (%llu bytes)\n", e->path, e->size);
		}
		/* moved into GONE: L keeps an empty slot */
		struct kforge_cache_entry *v = realloc(gone.v, (gone.n + 1) * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			break;
		}
		gone.v = v;
		gone.v[gone.n++] = *e;
		memset(e, 0, sizeof(*e));
	}
	kforge_cache_entries_free(l.v, l.n);
	if (r < 0) {
		kforge_cache_entries_free(gone.v, gone.n);
		return r;
	}
	if (removed) {
		*removed = gone.v;
		if (n_removed)
			*n_removed = gone.n;
	} else {
		kforge_cache_entries_free(gone.v, gone.n);
	}
	return 0;
}

/* Adds the counters of ccache's cache DIR (one module's) into *HITS and *MISSES. */
static int ccache_dir_stats(struct kforge_job *job, const char *dir, unsigned long long *hits,
			    unsigned long long *misses)
{
	_cleanup_free_ char *var = kf_strdup_printf("CCACHE_DIR=%s", dir);
	if (!var)
		return -ENOMEM;
	/* handed back to root after each build; read with kforge's settings, none of the folder's */
	const char *const argv[] = { "env", var, "CCACHE_CONFIGPATH=/dev/null", "ccache", "--print-stats", NULL };
	_cleanup_free_ char *out = NULL;
	int r = kforge_run_capture(job, NULL, argv, &out);
	if (r != 0)
		return r < 0 ? r : -EIO;
	/* "counter<TAB>value" lines (ccache 4) */
	char *save = NULL;
	for (char *l = out ? strtok_r(out, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		unsigned long long v = strtoull(tab + 1, NULL, 10);
		if (strcmp(l, "direct_cache_hit") == 0 || strcmp(l, "preprocessed_cache_hit") == 0)
			*hits += v;
		else if (strcmp(l, "cache_miss") == 0)
			*misses += v;
	}
	return 0;
}

/* The caches DEPTH folders below DIR (ccache/KVER/NAME-HASH), their counters added up. */
static int ccache_tree_stats(struct kforge_job *job, const char *dir, int depth, unsigned long long *hits,
			     unsigned long long *misses)
{
	if (depth == 0)
		return ccache_dir_stats(job, dir, hits, misses);
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		_cleanup_free_ char *sub = kforge_path_join(dir, e->d_name, NULL);
		r = sub ? ccache_tree_stats(job, sub, depth - 1, hits, misses) : -ENOMEM;
	}
	closedir(d);
	return r;
}

int kforge_ccache_stats(struct kforge_job *job, unsigned long long *hits, unsigned long long *misses)
{
	*hits = *misses = 0;
	_cleanup_free_ char *top = kforge_path_join(job->cache_dir, "ccache", NULL);
	_cleanup_free_ char *ccache = kforge_find_program("ccache");
	if (!top)
		return -ENOMEM;
	if (!ccache || !kf_is_dir(top))
		return -ENOENT;
	return ccache_tree_stats(job, top, 2, hits, misses);
}
