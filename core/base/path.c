/* path.c: paths inside the target root, resolved the way a chroot would see them. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

#define MAX_LINKS 40

/* ROOT without trailing slashes; "/" becomes "" so that joining gives "/x". */
static char *root_prefix(const char *root)
{
	char *r = strdup(root ? root : "/");
	if (!r)
		return NULL;
	size_t n = strlen(r);
	while (n > 0 && r[n - 1] == '/')
		r[--n] = '\0';
	return r;
}

int kforge_path_resolve(const char *root, const char *path, char **out)
{
	_cleanup_free_ char *rp = root_prefix(root);
	if (!rp || !path)
		return -ENOMEM;
	/* cur: the resolved part, as seen inside the root ("" or "/a/b") */
	char cur[PATH_MAX] = "";
	/* todo: what is left to walk */
	_cleanup_free_ char *todo = strdup(path);
	if (!todo)
		return -ENOMEM;
	int links = 0;
	bool missing = false;
	char *p = todo;

	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char comp[NAME_MAX + 1];
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(cur, '/');
			if (slash)
				*slash = '\0';
			continue;
		}
		size_t clen = strlen(cur);
		if (clen + 1 + len + 1 > sizeof(cur))
			return -ENAMETOOLONG;
		cur[clen] = '/';
		memcpy(cur + clen + 1, comp, len + 1);
		if (missing)
			continue;

		char host[PATH_MAX];
		if ((size_t)snprintf(host, sizeof(host), "%s%s", rp, cur) >= sizeof(host))
			return -ENAMETOOLONG;
		struct stat st;
		if (lstat(host, &st) < 0) {
			/* the rest cannot exist: join it as given */
			missing = true;
			continue;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++links > MAX_LINKS)
			return -ELOOP;
		char target[PATH_MAX];
		ssize_t n = readlink(host, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		/* drop the link itself from cur; an absolute target restarts at the root */
		cur[clen] = '\0';
		if (target[0] == '/')
			cur[0] = '\0';
		char *rest = kf_strdup_printf("%s/%s", target, p);
		if (!rest)
			return -ENOMEM;
		free(todo);
		todo = rest;
		p = todo;
	}
	char *res = kf_strdup_printf("%s%s", rp, cur[0] ? cur : (rp[0] ? "" : "/"));
	if (!res)
		return -ENOMEM;
	*out = res;
	return 0;
}

char *kforge_path_find(const char *root, const char *path)
{
	char *res;
	if (kforge_path_resolve(root, path, &res) < 0)
		return NULL;
	struct stat st;
	if (stat(res, &st) < 0) {
		free(res);
		return NULL;
	}
	return res;
}

bool kforge_path_exists(const char *root, const char *path)
{
	_cleanup_free_ char *p = kforge_path_find(root, path);
	return p != NULL;
}

char *kforge_path_join(const char *first, ...)
{
	struct kf_strbuf b = { 0 };
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		if (b.len > 0 && b.s[b.len - 1] != '/' && s[0] != '/')
			kf_strbuf_append(&b, "/");
		else if (b.len > 0 && b.s[b.len - 1] == '/' && s[0] == '/')
			s++;
		if (kf_strbuf_append(&b, s) < 0) {
			va_end(ap);
			kf_strbuf_release(&b);
			return NULL;
		}
	}
	va_end(ap);
	return kf_strbuf_steal(&b);
}
