/*
 * log.c: `kforge log`, the job logs kept in log.dir (under the root). Without an argument it lists
 * them, oldest first: when, what (the log's first line, "# kforge COMMAND SPEC for KVER"), the
 * result (its last "# result:" line; a job that was stopped has none) and the file. `kforge log
 * JOB` prints one (JOB: a file name as listed, or a unique part of one), `--last` the newest.
 * A log is data another run wrote, maybe cut short by a crash: read as text, nothing trusted.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kforge/path.h>

#include "base/base.h" /* the cleanup attributes only: the command uses the public API */
#include "cli/cli.h"

struct logfile {
	char *name;
	struct timespec mtime;
	off_t size;
};

static int by_time(const void *a, const void *b)
{
	const struct logfile *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The regular files NAME*.log* of DIR, oldest first; -errno. */
static int list_logs(int dirfd_, struct logfile **out, size_t *n)
{
	int fd = dup(dirfd_);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return -e;
	}
	struct logfile *v = NULL;
	size_t len = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' || !strstr(e->d_name, ".log") ||
		    fstatat(dirfd_, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		struct logfile *nv = realloc(v, (len + 1) * sizeof(*v));
		if (!nv || !(nv[len].name = strdup(e->d_name))) {
			v = nv ? nv : v;
			break;
		}
		v = nv;
		v[len].mtime = st.st_mtim;
		v[len++].size = st.st_size;
	}
	closedir(d);
	qsort(v, len, sizeof(*v), by_time);
	*out = v;
	*n = len;
	return 0;
}

/* From the log's text: its first line's "kforge COMMAND SPEC for KVER" and its last result. */
static void summarize(int dirfd_, const char *name, char **what, char **result)
{
	*what = *result = NULL;
	int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool first = true, error = false;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (first && strncmp(line, "# kforge ", 9) == 0) {
			char *root = strstr(line, " (root ");
			if (root)
				*root = '\0';
			*what = strdup(line + 9);
		}
		first = false;
		if (strncmp(line, "# result: ", 10) == 0) {
			free(*result);
			*result = strdup(line + 10);
		}
		error |= strncmp(line, "error: ", 7) == 0;
	}
	free(line);
	fclose(f);
	/* an uninstall or a status runs no steps: its errors say how it went */
	if (!*result && error)
		*result = strdup("error (see the log)");
}

static int print_log(struct kforge_ctx *ctx, int dirfd_, const char *dir, const char *name)
{
	int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		kforge_err(ctx, "%s/%s: %s", dir, name, strerror(errno));
		return KFORGE_EXIT_FAILURE;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	close(fd);
	return n < 0 ? KFORGE_EXIT_FAILURE : 0;
}

int cmd_log(struct kforge_ctx *ctx, struct opts *o)
{
	if (o->n_args > 1 || (o->last && o->n_args)) {
		kforge_err(ctx, "log takes one JOB (a log's name as `kforge log` lists it) or --last, not both");
		return KFORGE_EXIT_USAGE;
	}
	const char *logdir = kforge_config_get(ctx, "log.dir");
	_cleanup_free_ char *dir = kforge_path_join(kforge_ctx_root(ctx), logdir, NULL);
	int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd < 0 && errno != ENOENT) {
		kforge_err(ctx, "%s: %s (log.dir in kforge.conf names the folder of the job logs)", dir ? dir : logdir,
			   strerror(errno));
		return KFORGE_EXIT_FAILURE;
	}
	struct logfile *v = NULL;
	size_t n = 0;
	if (dfd >= 0 && list_logs(dfd, &v, &n) < 0) {
		kforge_err(ctx, "%s: %s", dir, strerror(errno));
		close(dfd);
		return KFORGE_EXIT_FAILURE;
	}
	int code = 0;
	const char *pick = o->n_args ? o->args[0] : NULL;
	if (pick || o->last) {
		const char *found = NULL;
		size_t matches = 0;
		for (size_t i = 0; pick && i < n; i++) {
			if (strcmp(v[i].name, pick) == 0) {
				found = v[i].name;
				matches = 1;
				break;
			}
			if (strstr(v[i].name, pick)) {
				found = v[i].name;
				matches++;
			}
		}
		if (o->last && n) {
			found = v[n - 1].name;
			matches = 1;
		}
		if (!found) {
			kforge_err(ctx, "%s: no job log %s in %s (`kforge log` lists them)", pick ? pick : "--last",
				   pick ? "of that name" : "yet", dir);
			code = KFORGE_EXIT_MISSING;
		} else if (matches > 1) {
			kforge_err(ctx, "%s is part of %zu log names in %s: give more of the name (`kforge log` lists them)",
				   pick, matches, dir);
			code = KFORGE_EXIT_USAGE;
		} else if (o->json) {
			_cleanup_free_ char *what = NULL, *result = NULL;
			summarize(dfd, found, &what, &result);
			_cleanup_free_ char *path = kforge_path_join(dir, found, NULL);
			fputs("{", stdout);
			json_kv("name", found, true);
			json_kv("path", path, true);
			json_kv("job", what, true);
			json_kv("result", result, true);
			fputs("\"text\": ", stdout);
			json_file(dfd, found);
			fputs("}\n", stdout);
		} else {
			code = print_log(ctx, dfd, dir, found);
		}
	} else if (o->json) {
		fputs("{", stdout);
		json_kv("dir", dir, true);
		fputs("\"logs\": [", stdout);
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *what = NULL, *result = NULL;
			summarize(dfd, v[i].name, &what, &result);
			char when[32];
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime(&v[i].mtime.tv_sec));
			fputs(i ? ", {" : "{", stdout);
			json_kv("name", v[i].name, true);
			json_kv("time", when, true);
			printf("\"size\": %lld, ", (long long)v[i].size);
			json_kv("job", what, true);
			json_kv("result", result, false);
			fputs("}", stdout);
		}
		fputs("]}\n", stdout);
	} else if (!n) {
		printf("no job log in %s yet\n", dir);
	} else {
		printf("%-19s %-44s %-28s %s\n", "TIME", "JOB", "RESULT", "LOG");
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *what = NULL, *result = NULL;
			summarize(dfd, v[i].name, &what, &result);
			char when[32];
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&v[i].mtime.tv_sec));
			printf("%-19s %-44s %-28s %s\n", when, what ? what : "?", result ? result : "- (no result: stopped?)",
			       v[i].name);
		}
		printf("# in %s; `kforge log NAME` or `kforge log --last` prints one\n", dir);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	if (dfd >= 0)
		close(dfd);
	return code;
}
