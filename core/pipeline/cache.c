/* cache.c: the source cache (unpacked once, under a lock) and the work folder's lock. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"
#include "source/source.h"

/* Locks PATH for the rest of the job or until closed, saying what it waits for; the fd or fails the job. */
static int lock_wait(struct kforge_job *job, const char *path, const char *waiting)
{
	int fd = kf_lock_file(job->ctx, path, true, waiting, NULL);
	if (fd < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot lock %s: %s", path, strerror(-fd));
	return fd;
}

char *kf_cache_src_path(const struct kforge_job *job, const char *key)
{
	return kforge_path_join(job->cache_dir, "src", key, NULL);
}

char *kf_cache_subtree_key(const char *key, const char *subdir)
{
	/* readable, and unique: fs/btrfs and fs_btrfs differ in the hash */
	_cleanup_free_ char *slug = strdup(subdir);
	if (!slug)
		return NULL;
	for (char *c = slug; *c; c++)
		if (*c == '/')
			*c = '_';
	return kf_strdup_printf("%s-%s-%08lx", key, slug, kf_hash_str(KF_HASH_SEED, subdir) & 0xffffffffUL);
}

/*
 * Makes CACHE/src/KEY once with FILL: under a lock (a second kforge waits), into a temporary
 * folder renamed when complete, so an interrupted run leaves nothing that looks finished and
 * the next run removes what it left and starts again.
 */
int kf_cache_tree(struct kforge_job *job, const char *key, const char *doing, kf_cache_fill_fn fill, void *data)
{
	_cleanup_free_ char *srcdir = kforge_path_join(job->cache_dir, "src", NULL);
	_cleanup_free_ char *dest = kf_cache_src_path(job, key);
	_cleanup_free_ char *partial = kf_strdup_printf("%s.partial-%d", dest, (int)getpid());
	_cleanup_free_ char *lockpath = kf_strdup_printf("%s/.%s.lock", srcdir, key);
	if (!srcdir || !dest || !partial || !lockpath)
		return -ENOMEM;
	if (kf_is_dir(dest))
		return kforge_job_set_source_dir(job, dest);
	if (kf_mkdir_p(srcdir) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s (set build.cache_dir in kforge.conf)",
				       srcdir, strerror(errno));
	_cleanup_close_ int lock = lock_wait(job, lockpath, doing);
	if (lock < 0)
		return lock;
	if (kf_is_dir(dest)) /* the other kforge finished it */
		return kforge_job_set_source_dir(job, dest);
	/* whatever an interrupted run left; nobody else works on KEY while we hold the lock */
	DIR *d = opendir(srcdir);
	struct dirent *e;
	_cleanup_free_ char *prefix = kf_strdup_printf("%s.partial-", key);
	while (d && prefix && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		_cleanup_free_ char *old = kforge_path_join(srcdir, e->d_name, NULL);
		kf_info(job->ctx, "removing %s, left by an interrupted unpack", old);
		kf_rm_rf(old);
	}
	if (d)
		closedir(d);
	kf_info(job->ctx, "%s into %s (once per source)", doing, dest);
	if (kf_mkdir_p(partial) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s", partial, strerror(errno));
	int r = fill(job, partial, data);
	if (r < 0) {
		kf_rm_rf(partial);
		return r;
	}
	if (rename(partial, dest) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot rename %s to %s: %s", partial, dest,
				       strerror(errno));
	return kforge_job_set_source_dir(job, dest);
}

struct unpack_fill {
	const char *tarball, *subdir;
};

static int unpack_fill(struct kforge_job *job, const char *dir, void *data)
{
	struct unpack_fill *f = data;
	char why[1024];
	int r = kf_unpack_into(&job->runner, f->tarball, f->subdir, f->subdir ? KF_TREE_PARENT_FILES : 0, dir, why,
			       sizeof(why));
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s", why);
	return 0;
}

/*
 * Unpacks a source tarball once into the cache (libarchive, in-process), the whole tree or
 * only SUBDIR (with the files of the folders above it: what prepare mirrors) when the headers
 * strategy needs no more. A whole tree unpacked before serves a SUBDIR too.
 */
int kf_unpack_cached(struct kforge_job *job, const char *tarball, const char *subdir, bool *partial)
{
	*partial = false;
	struct stat st;
	if (stat(tarball, &st) < 0) {
		/* a plan ahead of a fetch that has not happened: the tarball comes later */
		if (job->plan && errno == ENOENT) {
			if (subdir)
				kforge_plan_note(job, "unpack only %s of %s once into the cache (libarchive), once fetched",
						 subdir, tarball);
			else
				kforge_plan_note(job, "unpack %s once into the cache (libarchive), once fetched", tarball);
			return 0;
		}
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s: %s", tarball, strerror(errno));
	}
	const char *base = strrchr(tarball, '/');
	_cleanup_free_ char *name = strdup(base ? base + 1 : tarball);
	if (!name)
		return -ENOMEM;
	char *ext = strstr(name, ".tar");
	if (ext)
		*ext = '\0';
	/* the tarball's size and time are in the name: a new package version unpacks anew */
	_cleanup_free_ char *key = kf_strdup_printf("%s-%lld-%lld", name, (long long)st.st_mtime, (long long)st.st_size);
	_cleanup_free_ char *full = key ? kf_cache_src_path(job, key) : NULL;
	if (!full)
		return -ENOMEM;
	if (kf_is_dir(full)) {
		kforge_plan_note(job, "kernel source %s, unpacked before into %s", tarball, full);
		return kforge_job_set_source_dir(job, full);
	}
	_cleanup_free_ char *sub_key = subdir ? kf_cache_subtree_key(key, subdir) : NULL;
	if (subdir && !sub_key)
		return -ENOMEM;
	const char *use = sub_key ? sub_key : key;
	_cleanup_free_ char *dest = kf_cache_src_path(job, use);
	if (!dest)
		return -ENOMEM;
	*partial = subdir != NULL;
	if (kf_is_dir(dest)) {
		kforge_plan_note(job, "kernel source %s, %s of it unpacked before into %s", tarball, subdir, dest);
		return kforge_job_set_source_dir(job, dest);
	}
	if (subdir)
		kforge_plan_note(job,
				 "unpack only %s (and the files of the folders above it) of %s once into the cache %s "
				 "(libarchive): the headers strategy needs no more",
				 subdir, tarball, dest);
	else
		kforge_plan_note(job, "unpack %s once into the cache %s (libarchive)", tarball, dest);
	if (job->plan)
		return kforge_job_set_source_dir(job, dest);
	_cleanup_free_ char *doing = subdir ? kf_strdup_printf("unpacking %s of %s", subdir, tarball)
					    : kf_strdup_printf("unpacking %s", tarball);
	struct unpack_fill f = { tarball, subdir };
	return doing ? kf_cache_tree(job, use, doing, unpack_fill, &f) : -ENOMEM;
}

/*
 * Two kforge runs building in the same folder (the same module for the same kernel, or one
 * external module folder) would wipe each other's objects: the second waits for the first.
 * The lock is held until the job ends (install included).
 */
char *kf_work_lock_path(const char *cache_dir, const char *dir)
{
	return kf_strdup_printf("%s/locks/%08lx.lock", cache_dir, kf_hash_str(KF_HASH_SEED, dir) & 0xffffffffUL);
}

int kf_lock_work(struct kforge_job *job, const char *dir)
{
	if (job->plan || job->work_lock >= 0)
		return 0;
	_cleanup_free_ char *locks = kforge_path_join(job->cache_dir, "locks", NULL);
	_cleanup_free_ char *path = kf_work_lock_path(job->cache_dir, dir);
	_cleanup_free_ char *waiting = kf_strdup_printf("building in %s", dir);
	if (!locks || !path || !waiting)
		return -ENOMEM;
	if (kf_mkdir_p(locks) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s (set build.cache_dir in kforge.conf)",
				       locks, strerror(errno));
	int fd = lock_wait(job, path, waiting);
	if (fd < 0)
		return fd;
	job->work_lock = fd;
	return 0;
}

