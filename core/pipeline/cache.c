/* cache.c: the source cache (unpacked once, under a lock) and the work folder's lock. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"

/* Locks PATH for the rest of the job or until closed, saying what it waits for; the fd or fails the job. */
static int lock_wait(struct kforge_job *job, const char *path, const char *waiting)
{
	int fd = kf_lock_file(job->ctx, path, true, waiting, NULL);
	if (fd < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot lock %s: %s", path, strerror(-fd));
	return fd;
}

/*
 * Unpacks a source tarball once into the cache: under a lock (a second kforge waits), into
 * a temporary folder renamed when complete, so an interrupted unpack leaves nothing that
 * looks finished and the next run starts it again.
 */
int kf_unpack_cached(struct kforge_job *job, const char *tarball)
{
	struct stat st;
	if (stat(tarball, &st) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s: %s", tarball, strerror(errno));
	const char *base = strrchr(tarball, '/');
	_cleanup_free_ char *name = strdup(base ? base + 1 : tarball);
	if (!name)
		return -ENOMEM;
	char *ext = strstr(name, ".tar");
	if (ext)
		*ext = '\0';
	/* the tarball's size and time are in the name: a new package version unpacks anew */
	_cleanup_free_ char *key = kf_strdup_printf("%s-%lld-%lld", name, (long long)st.st_mtime, (long long)st.st_size);
	_cleanup_free_ char *srcdir = kforge_path_join(job->cache_dir, "src", NULL);
	_cleanup_free_ char *dest = kforge_path_join(srcdir, key, NULL);
	_cleanup_free_ char *partial = kf_strdup_printf("%s.partial-%d", dest, (int)getpid());
	_cleanup_free_ char *lockpath = kf_strdup_printf("%s/.%s.lock", srcdir, key);
	if (!key || !dest || !partial || !lockpath)
		return -ENOMEM;
	if (kf_is_dir(dest)) {
		kforge_plan_note(job, "kernel source %s, unpacked before into %s", tarball, dest);
		return kforge_job_set_source_dir(job, dest);
	}
	kforge_plan_note(job, "unpack %s once into the cache %s", tarball, dest);
	if (job->plan) {
		kforge_runl(job, NULL, "tar", "-xf", tarball, "-C", partial, "--strip-components=1", NULL);
		return kforge_job_set_source_dir(job, dest);
	}
	if (kf_mkdir_p(srcdir) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s (set build.cache_dir in kforge.conf)",
				       srcdir, strerror(errno));
	_cleanup_free_ char *waiting = kf_strdup_printf("unpacking %s", tarball);
	_cleanup_close_ int lock = waiting ? lock_wait(job, lockpath, waiting) : -ENOMEM;
	if (lock < 0)
		return lock;
	if (kf_is_dir(dest)) /* the other kforge finished it */
		return kforge_job_set_source_dir(job, dest);
	/* whatever an interrupted run left; nobody else unpacks while we hold the lock */
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
	kf_info(job->ctx, "unpacking %s into %s (once per source)", tarball, dest);
	if (kf_mkdir_p(partial) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s", partial, strerror(errno));
	int r = kforge_runl(job, NULL, "tar", "-xf", tarball, "-C", partial, "--strip-components=1", NULL);
	if (r != 0) {
		kf_rm_rf(partial);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot unpack %s (tar exited %d): is it a kernel source tarball?",
				       tarball, r);
	}
	if (rename(partial, dest) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot rename %s to %s: %s", partial, dest,
				       strerror(errno));
	return kforge_job_set_source_dir(job, dest);
}


/*
 * Two kforge runs building in the same folder (the same module for the same kernel, or one
 * external module folder) would wipe each other's objects: the second waits for the first.
 * The lock is held until the job ends (install included).
 */
int kf_lock_work(struct kforge_job *job, const char *dir)
{
	if (job->plan || job->work_lock >= 0)
		return 0;
	_cleanup_free_ char *locks = kforge_path_join(job->cache_dir, "locks", NULL);
	_cleanup_free_ char *path = kf_strdup_printf("%s/%08lx.lock", locks, kf_hash_str(KF_HASH_SEED, dir) & 0xffffffffUL);
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

