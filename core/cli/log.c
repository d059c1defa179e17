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
	int dir; /* the index of its folder */
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

/* Appends the regular files NAME*.log* of the folder DIRS[IDX] to *OUT; -errno. */
static int list_logs(int dirfd_, int idx, struct logfile **out, size_t *n)
{
	int fd = dup(dirfd_);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return -e;
	}
	struct logfile *v = *out;
	size_t len = *n;
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
		v[len].dir = idx;
		v[len].mtime = st.st_mtim;
		v[len++].size = st.st_size;
	}
	closedir(d);
	*out = v;
	*n = len;
	return 0;
}

/* Opens NAME in DIRFD for reading: a regular file only (a log swapped for a FIFO or a device is refused). */
static int open_log(int dirfd_, const char *name)
{
	int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* "2026-11-24 10:10:10" (or with the zone, ISO), "?" for a time localtime cannot take */
static void when_text(time_t t, bool iso, char *buf, size_t size)
{
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%S%z" : "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "?");
}

/* TEXT for a terminal's table: control characters shown as '?' */
static char *table_text(const char *text)
{
	char *t = text ? strdup(text) : NULL;
	for (char *p = t; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return t;
}

/*
 * From the log's text: its first line's "kforge COMMAND SPEC for KVER", and its result: the last
 * line, when it is kforge's "# result: ..." (a job stopped before its end has none; a line a
 * command printed in the middle is not the last). Reads the first and the last 4 KiB only.
 */
static void summarize(int dirfd_, const char *name, char **what, char **result)
{
	*what = *result = NULL;
	int fd = open_log(dirfd_, name);
	if (fd < 0)
		return;
	char head[4096], tail[4096];
	ssize_t h = pread(fd, head, sizeof(head) - 1, 0);
	struct stat st;
	off_t from = fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(tail) - 1 ? st.st_size - (off_t)sizeof(tail) + 1 : 0;
	ssize_t t = pread(fd, tail, sizeof(tail) - 1, from);
	close(fd);
	if (h > 0) {
		head[h] = '\0';
		head[strcspn(head, "\n")] = '\0';
		if (strncmp(head, "# kforge ", 9) == 0) {
			char *root = strstr(head, " (root ");
			if (root)
				*root = '\0';
			*what = strdup(head + 9);
		}
	}
	if (t > 0) {
		tail[t] = '\0';
		while (t > 0 && tail[t - 1] == '\n')
			tail[--t] = '\0';
		/* the text may hold NUL bytes: searched as bytes */
		char *last = memrchr(tail, '\n', (size_t)t);
		last = last ? last + 1 : (from == 0 ? tail : NULL);
		if (last && strncmp(last, "# result: ", 10) == 0 && !memchr(last, '\0', (size_t)(tail + t - last)))
			*result = strdup(last + 10);
	}
}

static int print_log(struct kforge_ctx *ctx, int dirfd_, const char *dir, const char *name)
{
	int fd = open_log(dirfd_, name);
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
	/* log.dir under the root, resolved as the runner resolves it; for a user who cannot write
	 * there, also the folder the runner falls back to */
	const char *logdir = kforge_config_get(ctx, "log.dir");
	char *dirs[2] = { NULL, NULL };
	int dfds[2] = { -1, -1 };
	if (kforge_path_resolve(kforge_ctx_root(ctx), logdir, &dirs[0]) < 0)
		return KFORGE_EXIT_FAILURE;
	if (geteuid() != 0 && access(dirs[0], W_OK) < 0)
		dirs[1] = kforge_user_log_dir();
	struct logfile *v = NULL;
	size_t n = 0;
	int code = 0;
	for (int i = 0; i < 2 && !code; i++) {
		if (!dirs[i])
			continue;
		dfds[i] = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfds[i] < 0 && errno != ENOENT) {
			kforge_err(ctx, "%s: %s (log.dir in kforge.conf names the folder of the job logs)", dirs[i], strerror(errno));
			code = KFORGE_EXIT_FAILURE;
		} else if (dfds[i] >= 0 && list_logs(dfds[i], i, &v, &n) < 0) {
			kforge_err(ctx, "%s: %s", dirs[i], strerror(errno));
			code = KFORGE_EXIT_FAILURE;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), by_time);
	const char *pick = o->n_args ? o->args[0] : NULL;
	const char *where = dirs[1] ? dirs[1] : dirs[0];
	if (code) {
	} else if (pick || o->last) {
		const struct logfile *found = NULL;
		size_t matches = 0;
		for (size_t i = 0; pick && i < n; i++) {
			if (strcmp(v[i].name, pick) == 0) {
				found = &v[i];
				matches = 1;
				break;
			}
			if (strstr(v[i].name, pick)) {
				found = &v[i];
				matches++;
			}
		}
		if (o->last && n) {
			found = &v[n - 1];
			matches = 1;
		}
		if (!found) {
			kforge_err(ctx, "%s: no job log %s in %s (`kforge log` lists them)", pick ? pick : "--last",
				   pick ? "of that name" : "yet", where);
			code = KFORGE_EXIT_MISSING;
		} else if (matches > 1) {
			kforge_err(ctx, "%s is part of %zu log names in %s: give more of the name (`kforge log` lists them)",
				   pick, matches, where);
			code = KFORGE_EXIT_USAGE;
		} else if (o->json) {
			int fd = open_log(dfds[found->dir], found->name);
			if (fd < 0) {
				kforge_err(ctx, "%s/%s: %s", dirs[found->dir], found->name, strerror(errno));
				code = KFORGE_EXIT_FAILURE;
			} else {
				close(fd);
				_cleanup_free_ char *what = NULL, *result = NULL;
				summarize(dfds[found->dir], found->name, &what, &result);
				_cleanup_free_ char *path = kforge_path_join(dirs[found->dir], found->name, NULL);
				fputs("{", stdout);
				json_kv("name", found->name, true);
				json_kv("path", path, true);
				json_kv("job", what, true);
				json_kv("result", result, true);
				fputs("\"text\": ", stdout);
				json_file(dfds[found->dir], found->name);
				fputs("}\n", stdout);
			}
		} else {
			code = print_log(ctx, dfds[found->dir], dirs[found->dir], found->name);
		}
	} else if (o->json) {
		fputs("{", stdout);
		json_kv("dir", dirs[0], true);
		fputs("\"logs\": [", stdout);
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *what = NULL, *result = NULL;
			summarize(dfds[v[i].dir], v[i].name, &what, &result);
			char when[40];
			when_text(v[i].mtime.tv_sec, true, when, sizeof(when));
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
		printf("no job log in %s%s%s yet\n", dirs[0], dirs[1] ? " or " : "", dirs[1] ? dirs[1] : "");
	} else {
		printf("%-19s %-44s %-28s %s\n", "TIME", "JOB", "RESULT", "LOG");
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *what = NULL, *result = NULL;
			summarize(dfds[v[i].dir], v[i].name, &what, &result);
			char when[40];
			when_text(v[i].mtime.tv_sec, false, when, sizeof(when));
			_cleanup_free_ char *w = table_text(what), *res = table_text(result), *nm = table_text(v[i].name);
			printf("%-19s %-44s %-28s %s\n", when, w ? w : "?", res ? res : "- (no result: stopped?)", nm ? nm : "?");
		}
		printf("# in %s%s%s; `kforge log NAME` or `kforge log --last` prints one\n", dirs[0], dirs[1] ? " and " : "",
		       dirs[1] ? dirs[1] : "");
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	for (int i = 0; i < 2; i++) {
		if (dfds[i] >= 0)
			close(dfds[i]);
		free(dirs[i]);
	}
	return code;
}
