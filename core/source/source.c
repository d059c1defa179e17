/* source.c: what the source layer shares: --source values, git refs, names inside trees, temporary trees, progress. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <git2.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "source/source.h"

void kf_why(char *why, size_t whysize, const char *fmt, ...)
{
	if (!why || !whysize)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
}

enum kf_source_kind kf_source_kind_of(const char *source)
{
	if (!source)
		return KF_SOURCE_PATH;
	if (strncmp(source, "git+", 4) == 0)
		return KF_SOURCE_GIT;
	if (strncmp(source, "http://", 7) == 0 || strncmp(source, "https://", 8) == 0 ||
	    strncmp(source, "file://", 7) == 0)
		return KF_SOURCE_URL;
	return KF_SOURCE_PATH;
}

int kf_source_git_split(const char *source, char **url, char **ref, bool *is_signed, char *why, size_t whysize)
{
	*url = *ref = NULL;
	if (is_signed)
		*is_signed = false;
	if (kf_source_kind_of(source) != KF_SOURCE_GIT) {
		kf_why(why, whysize, "%s is not a git source: write git+URL#tag=NAME (or #commit=HEX, #branch=NAME)", source);
		return -EINVAL;
	}
	const char *u = source + 4;
	const char *hash = strchr(u, '#');
	size_t ulen = hash ? (size_t)(hash - u) : strlen(u);
	if (ulen == 0) {
		kf_why(why, whysize, "%s names no repository: write git+URL#tag=NAME, e.g. git+https://host/linux.git#tag=v6.7",
		    source);
		return -EINVAL;
	}
	_cleanup_free_ char *frag = hash ? strdup(hash + 1) : NULL;
	if (hash && !frag)
		return -ENOMEM;
	if (frag && kf_str_endswith(frag, "?signed")) {
		frag[strlen(frag) - strlen("?signed")] = '\0';
		if (is_signed)
			*is_signed = true;
	}
	if (frag && !frag[0]) {
		kf_why(why, whysize, "%s: the part after '#' is empty: write #tag=NAME, #commit=HEX or #branch=NAME", source);
		return -EINVAL;
	}
	struct kf_git_ref parsed;
	char inner[512];
	if (kf_git_ref_parse(frag, &parsed, inner, sizeof(inner)) < 0) {
		kf_why(why, whysize, "%s: %s", source, inner);
		return -EINVAL;
	}
	*url = strndup(u, ulen);
	if (!*url)
		return -ENOMEM;
	*ref = frag;
	frag = NULL;
	return 0;
}

static bool valid_ref_name(const char *prefix, const char *name)
{
	if (!name[0] || strpbrk(name, "*:?[\\ ~^") || name[0] == '-')
		return false;
	_cleanup_free_ char *full = kf_strdup_printf("%s%s", prefix, name);
	if (!full || git_libgit2_init() < 0)
		return false;
	int valid = 0;
	if (git_reference_name_is_valid(&valid, full) < 0)
		valid = 0;
	git_libgit2_shutdown();
	return valid;
}

int kf_git_ref_parse(const char *ref, struct kf_git_ref *out, char *why, size_t whysize)
{
	out->kind = KF_GIT_REF_HEAD;
	out->name = NULL;
	if (!ref)
		return 0;
	if (strncmp(ref, "tag=", 4) == 0) {
		out->kind = KF_GIT_REF_TAG;
		out->name = ref + 4;
		if (!valid_ref_name("refs/tags/", out->name)) {
			kf_why(why, whysize, "tag \"%s\" is not a valid git tag name", out->name);
			return -EINVAL;
		}
	} else if (strncmp(ref, "branch=", 7) == 0) {
		out->kind = KF_GIT_REF_BRANCH;
		out->name = ref + 7;
		if (!valid_ref_name("refs/heads/", out->name)) {
			kf_why(why, whysize, "branch \"%s\" is not a valid git branch name", out->name);
			return -EINVAL;
		}
	} else if (strncmp(ref, "commit=", 7) == 0) {
		out->kind = KF_GIT_REF_COMMIT;
		out->name = ref + 7;
		size_t n = strlen(out->name);
		bool hex = n >= 4 && n <= 40;
		for (size_t i = 0; hex && i < n; i++)
			hex = isxdigit((unsigned char)out->name[i]);
		if (!hex) {
			kf_why(why, whysize, "commit \"%s\" is not a commit id: 4 to 40 hex digits", out->name);
			return -EINVAL;
		}
	} else {
		kf_why(why, whysize, "\"%s\": expected tag=NAME, commit=HEX or branch=NAME", ref);
		return -EINVAL;
	}
	return 0;
}

const char *kf_git_ref_describe(const struct kf_git_ref *ref, char *buf, size_t size)
{
	static const char *const kinds[] = { "HEAD", "tag", "commit", "branch" };
	if (ref->kind == KF_GIT_REF_HEAD)
		snprintf(buf, size, "HEAD");
	else
		snprintf(buf, size, "%s %s", kinds[ref->kind], ref->name);
	return buf;
}

bool kf_tree_name_ok(const char *name, size_t len)
{
	if (len == 0 || memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	/* git refuses .git in any case: a case-insensitive file system would take .GIT for it */
	return !(len == 4 && strncasecmp(name, ".git", 4) == 0);
}

int kf_tree_path_check(const char *path, char **norm)
{
	*norm = NULL;
	if (!path || !path[0] || path[0] == '/')
		return -EINVAL;
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	size_t n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	if (n == 0)
		return -EINVAL;
	for (const char *c = copy; *c;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (!kf_tree_name_ok(c, len))
			return -EINVAL;
		c += len + (slash ? 1 : 0);
	}
	*norm = copy;
	copy = NULL;
	return 0;
}

bool kf_tree_link_inside(const char *path, const char *target)
{
	if (!target[0] || target[0] == '/')
		return false;
	/* the folder the link sits in, counted from the top: a/b/link -> 2 */
	long depth = 0;
	for (const char *c = path; *c; c++)
		if (*c == '/' && c[1] && c[1] != '/')
			depth++;
	for (const char *c = target; *c;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (len > 0 && !(len == 1 && c[0] == '.')) {
			depth++;
		}
		c += len + (slash ? 1 : 0);
	}
	return true;
}

int kf_tree_write(const char *dest, kf_tree_fill_fn fill, void *data, char *why, size_t whysize)
{
	struct stat st;
	if (lstat(dest, &st) == 0) {
		kf_why(why, whysize, "%s exists: remove it, or write elsewhere", dest);
		return -EEXIST;
	}
	_cleanup_free_ char *partial = kf_strdup_printf("%s.partial-%d", dest, (int)getpid());
	if (!partial)
		return -ENOMEM;
	kf_rm_rf(partial); /* our pid's, from a run that died before it */
	if (kf_mkdir_parent(partial) < 0 || mkdir(partial, 0755) < 0) {
		int r = -errno;
		kf_why(why, whysize, "cannot create %s: %s", partial, strerror(errno));
		return r;
	}
	int r = fill(data, partial, why, whysize);
	if (r == 0 && rename(partial, dest) < 0) {
		r = -errno;
		kf_why(why, whysize, "cannot rename %s to %s: %s", partial, dest, strerror(errno));
	}
	if (r < 0)
		kf_rm_rf(partial);
	return r;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void kf_progress_init(struct kf_progress *p, struct kf_runner *r)
{
	p->r = r;
	p->tty = r && r->ctx && !r->plan && isatty(STDERR_FILENO) && kforge_get_log_priority(r->ctx) >= LOG_INFO;
	p->last_ms = 0;
	p->last_log_tenth = -1;
}

void kf_progress_show(struct kf_progress *p, bool force, const char *fmt, ...)
{
	if (!p->tty)
		return;
	long long t = now_ms();
	if (!force && t - p->last_ms < 100)
		return;
	p->last_ms = t;
	va_list ap;
	va_start(ap, fmt);
	fputs("\rkforge: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\033[K", stderr);
	va_end(ap);
	fflush(stderr);
}

void kf_progress_done(struct kf_progress *p)
{
	if (p->tty && p->last_ms) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}
