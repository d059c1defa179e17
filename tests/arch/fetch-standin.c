/*
 * fetch-standin.c: TEST ONLY. Stand-ins for <kforge/fetch.h>, loaded with LD_PRELOAD by
 * tests/arch-abs.sh while libkforge has only the placeholders (core/pipeline/fetch-pending.c),
 * so that the arch plugin's way from a packaging repository to a patched tree runs today. They
 * follow the spec's contracts as far as the test needs (file:// and local git only) with the
 * git, tar, zstd/xz/gzip and sha256sum/b2sum commands, which kforge itself never spawns: the
 * real fetcher (helpers "fetch" and "git") uses libcurl, libgit2, libarchive and the
 * compression libraries. Once they are merged, arch-abs.sh runs against them instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kforge/kforge.h>
#include <kforge/fetch.h>

#define EXPORT __attribute__((visibility("default")))

/* Runs ARGV (stdout into OUT when not NULL, at most SIZE-1 bytes); its exit status, or -errno. */
static int run(const char *const argv[], char *out, size_t size)
{
	int fd[2];
	if (out && pipe(fd) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (out) {
			dup2(fd[1], 1);
			close(fd[0]);
			close(fd[1]);
		} else {
			dup2(null, 1);
		}
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	size_t len = 0;
	if (out) {
		close(fd[1]);
		ssize_t n;
		while ((n = read(fd[0], out + len, size - 1 - len)) > 0 && len + (size_t)n < size - 1)
			len += (size_t)n;
		if (n > 0)
			len += (size_t)n;
		close(fd[0]);
		out[len] = '\0';
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* which local repository each commit came from (one test, a few repositories) */
static struct {
	char oid[41];
	char dir[4096];
} known[64];
static size_t n_known;

static const char *local_path(const char *url)
{
	return strncmp(url, "file://", 7) == 0 ? url + 7 : url[0] == '/' ? url : NULL;
}

static const char *repo_of(const char *oid)
{
	for (size_t i = 0; i < n_known; i++)
		if (strcmp(known[i].oid, oid) == 0)
			return known[i].dir;
	return NULL;
}

EXPORT char *kforge_url_rewrite(const struct kforge_job *job, const char *url)
{
	(void)job;
	return strdup(url);
}

EXPORT int kforge_git_fetch(struct kforge_job *job, const char *url, const char *ref, char oid[41])
{
	const char *dir = local_path(url);
	oid[0] = '\0';
	if (!dir)
		return -EPROTONOSUPPORT;
	char rev[512], out[128];
	const char *r = ref ? strchr(ref, '=') + 1 : "HEAD";
	snprintf(rev, sizeof(rev), "%s^{commit}", r);
	const char *argv[] = { "git", "--git-dir", dir, "rev-parse", "--verify", "-q", rev, NULL };
	if (run(argv, out, sizeof(out)) != 0 || strlen(out) < 40)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "stand-in: cannot fetch %s (%s): no such repository or ref",
				       url, ref ? ref : "HEAD");
	memcpy(oid, out, 40);
	oid[40] = '\0';
	if (n_known < 64) {
		memcpy(known[n_known].oid, oid, 41);
		snprintf(known[n_known].dir, sizeof(known[n_known].dir), "%s", dir);
		n_known++;
	}
	kforge_plan_note(job, "stand-in: fetched %s %s: %s", url, ref ? ref : "HEAD", oid);
	return 0;
}

EXPORT int kforge_git_read(struct kforge_job *job, const char *oid, const char *path, char **text, size_t *len)
{
	(void)job;
	const char *dir = repo_of(oid);
	if (!dir)
		return -ENOENT;
	char spec[512];
	snprintf(spec, sizeof(spec), "%s:%s", oid, path);
	const char *exists[] = { "git", "--git-dir", dir, "cat-file", "-e", spec, NULL };
	if (run(exists, NULL, 0) != 0)
		return -ENOENT;
	size_t size = 1 << 20;
	char *buf = malloc(size);
	const char *cat[] = { "git", "--git-dir", dir, "cat-file", "blob", spec, NULL };
	if (!buf || run(cat, buf, size) != 0) {
		free(buf);
		return -EIO;
	}
	*text = buf;
	*len = strlen(buf);
	return 0;
}

EXPORT int kforge_git_export(struct kforge_job *job, const char *oid, const char *subdir, const char *dest)
{
	(void)job;
	const char *dir = repo_of(oid);
	if (!dir)
		return -ENOENT;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.standin-tmp", dest);
	mkdir(tmp, 0755);
	const char *argv[] = { "sh", "-c", "git --git-dir=\"$1\" archive \"$2\" $3 | tar -x -C \"$4\"", "sh", dir, oid,
			       subdir ? subdir : "", tmp, NULL };
	if (run(argv, NULL, 0) != 0 || rename(tmp, dest) < 0)
		return -EIO;
	return 0;
}

EXPORT int kforge_fetch(struct kforge_job *job, const char *url, const char *name, const char *checksum, char **path)
{
	const char *src = local_path(url);
	if (!src)
		return -EPROTONOSUPPORT;
	char *dst = NULL;
	if (asprintf(&dst, "%s/downloads/standin/%s", kforge_job_cache_dir(job), name) < 0)
		return -ENOMEM;
	*path = dst;
	if (kforge_job_is_plan(job)) {
		kforge_plan_note(job, "stand-in: would fetch %s from %s", name, url);
		return 0;
	}
	if (checksum) {
		const char *tool = strncmp(checksum, "b2:", 3) == 0 ? "b2sum" : "sha256sum";
		const char *want = strchr(checksum, ':') + 1;
		char out[512];
		const char *argv[] = { tool, src, NULL };
		if (run(argv, out, sizeof(out)) != 0)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING, "stand-in: cannot fetch %s from %s", name, url);
		out[strcspn(out, " ")] = '\0';
		if (strcmp(out, want) != 0)
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "stand-in: %s from %s does not match its checksum: expected %s, got %s", name,
					       url, checksum, out);
	}
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/downloads/standin", kforge_job_cache_dir(job));
	const char *mk[] = { "mkdir", "-p", dir, NULL };
	const char *cp[] = { "cp", src, dst, NULL };
	if (run(mk, NULL, 0) != 0 || run(cp, NULL, 0) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "stand-in: cannot fetch %s from %s", name, url);
	return 0;
}

EXPORT int kforge_unpack(struct kforge_job *job, const char *archive, const char *subdir, const char *dest)
{
	(void)job;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.standin-tmp", dest);
	mkdir(tmp, 0755);
	/* everything, then only SUBDIR kept: a stand-in need not be quick */
	const char *argv[] = { "sh", "-c",
			       "tar -xf \"$1\" -C \"$2\" --strip-components=1 && if [ -n \"$3\" ]; then "
			       "mkdir -p \"$2.sub/$(dirname \"$3\")\" && mv \"$2/$3\" \"$2.sub/$3\" && rm -rf \"$2\" && "
			       "mv \"$2.sub\" \"$2\"; fi",
			       "sh", archive, tmp, subdir ? subdir : "", NULL };
	if (run(argv, NULL, 0) != 0 || rename(tmp, dest) < 0)
		return -EIO;
	return 0;
}

EXPORT int kforge_decompress(struct kforge_job *job, const char *src, const char *dest)
{
	(void)job;
	const char *tool = strstr(src, ".zst") ? "zstd" : strstr(src, ".xz") ? "xz" : "gzip";
	const char *argv[] = { "sh", "-c", "$1 -dc \"$2\" > \"$3\"", "sh", tool, src, dest, NULL };
	return run(argv, NULL, 0) == 0 ? 0 : -EIO;
}
