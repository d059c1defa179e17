/* util.c: strings, string lists and file helpers shared by the core. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/base.h"

static int strbuf_reserve(struct kf_strbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s)
		return -ENOMEM;
	b->s = s;
	b->cap = cap;
	return 0;
}

int kf_strbuf_append(struct kf_strbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (strbuf_reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
	return 0;
}

int kf_strbuf_appendf(struct kf_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (strbuf_reserve(b, (size_t)n) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int kf_strbuf_append_quoted(struct kf_strbuf *b, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_-+=/.,:@%";
	if (*s && strspn(s, safe) == strlen(s))
		return kf_strbuf_append(b, s);
	if (kf_strbuf_append(b, "'") < 0)
		return -ENOMEM;
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			if (kf_strbuf_append(b, "'\\''") < 0)
				return -ENOMEM;
		} else {
			char c[2] = { *p, 0 };
			if (kf_strbuf_append(b, c) < 0)
				return -ENOMEM;
		}
	}
	return kf_strbuf_append(b, "'");
}

char *kf_strbuf_steal(struct kf_strbuf *b)
{
	char *s = b->s ? b->s : strdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void kf_strbuf_release(struct kf_strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

int kf_strv_push(struct kf_strv *l, const char *s)
{
	char *dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	char **v = realloc(l->v, (l->n + 2) * sizeof(*v));
	if (!v) {
		free(dup);
		return -ENOMEM;
	}
	v[l->n++] = dup;
	v[l->n] = NULL;
	l->v = v;
	return 0;
}

void kf_strv_free(struct kf_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool kf_strv_contains(const struct kf_strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

int kf_open_regular(const char *path, struct stat *stp)
{
	/*
	 * A FIFO put where a file belongs would block open() and read() forever, a device may
	 * act on being opened (a watchdog starts, a tape rewinds) or never end: only regular
	 * files are read. stat() first so that nothing else is even opened; O_NONBLOCK and
	 * fstat() close the window where the path is swapped between the two.
	 */
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int fl;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return r;
	}
	if (stp)
		*stp = st;
	return fd;
}

char *kf_argv_quote(const char *const argv[])
{
	struct kf_strbuf b = { 0 };
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			kf_strbuf_append(&b, " ");
		kf_strbuf_append_quoted(&b, argv[i]);
	}
	return kf_strbuf_steal(&b);
}

int kf_read_file_max(const char *path, size_t max, char **out, size_t *lenp)
{
	struct stat st;
	_cleanup_close_ int fd = kf_open_regular(path, &st);
	if (fd < 0)
		return fd;
	/* /proc and /sys files say 0 and may grow: the cap also holds while reading */
	if ((unsigned long long)st.st_size > max)
		return -EFBIG;
	struct kf_strbuf b = { 0 };
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = -errno;
			kf_strbuf_release(&b);
			return r;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			kf_strbuf_release(&b);
			return -EFBIG;
		}
		if (strbuf_reserve(&b, (size_t)n) < 0) {
			kf_strbuf_release(&b);
			return -ENOMEM;
		}
		memcpy(b.s + b.len, chunk, (size_t)n);
		b.len += (size_t)n;
		b.s[b.len] = '\0';
	}
	if (lenp)
		*lenp = b.len;
	*out = kf_strbuf_steal(&b);
	return *out ? 0 : -ENOMEM;
}

int kf_read_file(const char *path, char **out, size_t *lenp)
{
	return kf_read_file_max(path, KF_READ_MAX, out, lenp);
}

const char *kf_read_strerror(int err)
{
	switch (err) {
	case -EINVAL:
		return "not a regular file";
	case -EFBIG:
		return "larger than kforge reads (" KF_READ_MAX_TEXT ")";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

int kforge_read_file(const char *path, char **out)
{
	return kf_read_file(path, out, NULL);
}

char *kf_strstrip(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

bool kf_str_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool kf_is_dir(const char *path)
{
	struct stat st;
	/* NULL: no folder (a plan asks before a fetch has named the source's) */
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool kf_path_leads_below(const char *path, const char *top, bool self)
{
	char real[PATH_MAX], t[PATH_MAX];
	if (!realpath(path, real) || !realpath(top, t))
		return false;
	size_t n = strlen(t);
	if (n == 1) /* TOP is / */
		return self || real[1] != '\0';
	return strncmp(real, t, n) == 0 && (real[n] == '/' || (self && real[n] == '\0'));
}

bool kf_is_file(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

unsigned long kf_hash_str(unsigned long h, const char *s)
{
	for (const char *p = s; p && *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h;
}

int kf_mkdir_p(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int kf_mkdir_parent(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return kf_mkdir_p(dir);
}

int kf_write_file(const char *path, const char *text, mode_t mode)
{
	/* never through a link: the file may be in a folder the build user wrote */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	int r = w == (ssize_t)len ? 0 : -(w < 0 ? errno : EIO);
	close(fd);
	return r;
}

/* Removes DIR and everything below it (no error when it does not exist). */
static int rm_rf_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

int kf_rm_rf(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return nftw(dir, rm_rf_one, 32, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

int kf_lock_file(struct kforge_ctx *ctx, const char *path, bool wait, const char *doing, char **holder)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			int r = -errno;
			close(fd);
			return r;
		}
		char buf[32] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		kf_strstrip(buf);
		bool pid = buf[0] && strspn(buf, "0123456789") == strlen(buf);
		_cleanup_free_ char *who = pid ? kf_strdup_printf("another kforge (pid %s)", buf) : strdup("another program");
		if (!wait) {
			if (holder)
				*holder = who ? strdup(who) : NULL;
			close(fd);
			return -EWOULDBLOCK;
		}
		if (doing)
			kf_notice(ctx, "waiting for another kforge that is %s (pid %s)", doing, pid ? buf : "unknown");
		else
			kf_notice(ctx, "waiting for %s that holds %s", who ? who : "another kforge", path);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int r = -errno;
				close(fd);
				return r;
			}
		}
		break;
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) < 0)
		kf_dbg(ctx, "cannot write the pid into %s", path);
	return fd;
}

int kf_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

void kf_human_size(unsigned long long n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* ---- the SDK's small helpers for plugins (kforge/kforge.h, kforge/path.h, kforge/runner.h) ---- */

char *kforge_strdup_printf(const char *format, ...)
{
	va_list ap;
	char *s;
	va_start(ap, format);
	int r = vasprintf(&s, format, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

bool kforge_is_dir(const char *path)
{
	return kf_is_dir(path);
}

int kforge_mkdir_p(const char *dir)
{
	return dir ? kf_mkdir_p(dir) : -EINVAL;
}

int kforge_remove_tree(const char *dir)
{
	return dir ? kf_rm_rf(dir) : 0;
}

char *kf_find_program(const char *name, const char *path)
{
	if (!name || !name[0])
		return NULL;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 && !kf_is_dir(name) ? strdup(name) : NULL;
	/* execvp's default when PATH is unset */
	for (const char *p = path ? path : "/usr/bin:/bin"; p;) {
		size_t n = strcspn(p, ":");
		/* an empty entry is the current folder for execvp; kforge never runs from there */
		if (n) {
			char *full = kf_strdup_printf("%.*s/%s", (int)n, p, name);
			if (!full)
				return NULL;
			if (access(full, X_OK) == 0 && !kf_is_dir(full))
				return full;
			free(full);
		}
		p = p[n] ? p + n + 1 : NULL;
	}
	return NULL;
}

char *kforge_find_program(const char *name)
{
	return kf_find_program(name, getenv("PATH"));
}
