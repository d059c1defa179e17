/* pacman.c: the installed kernel package from pacman's local database, and its packaging tag. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"

/* pkgver: letters, digits, '.', '_', '+', '~' (makepkg refuses '-', ':' and spaces) */
static bool pkgver_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._+~", s[i]))
			return false;
	return true;
}

/* pkgrel: N or N.M */
static bool pkgrel_valid(const char *s, size_t n)
{
	if (n == 0 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 1]))
		return false;
	bool dot = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && !dot)
			dot = true;
		else if (!isdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

int arch_version_split(const char *version, struct arch_pkgver *out, char *why, size_t whysize)
{
	memset(out, 0, sizeof(*out));
	const char *ver = version;
	const char *colon = strchr(version, ':');
	if (colon) {
		size_t n = (size_t)(colon - version);
		if (n == 0 || n >= sizeof(out->epoch) || strspn(version, "0123456789") != n) {
			snprintf(why, whysize, "\"%s\": the epoch before ':' must be a number", version);
			return -EINVAL;
		}
		memcpy(out->epoch, version, n);
		ver = colon + 1;
	}
	const char *dash = strrchr(ver, '-');
	if (!dash) {
		snprintf(why, whysize, "\"%s\" has no -pkgrel (a version is [EPOCH:]PKGVER-PKGREL)", version);
		return -EINVAL;
	}
	size_t vn = (size_t)(dash - ver), rn = strlen(dash + 1);
	if (!pkgver_valid(ver, vn) || vn >= sizeof(out->pkgver)) {
		snprintf(why, whysize, "\"%s\": \"%.*s\" is no pkgver (letters, digits, . _ + ~)", version, (int)vn, ver);
		return -EINVAL;
	}
	if (!pkgrel_valid(dash + 1, rn) || rn >= sizeof(out->pkgrel)) {
		snprintf(why, whysize, "\"%s\": \"%s\" is no pkgrel (a number, or N.M)", version, dash + 1);
		return -EINVAL;
	}
	memcpy(out->pkgver, ver, vn);
	memcpy(out->pkgrel, dash + 1, rn);
	return 0;
}

const char *arch_version_string(const struct arch_pkgver *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s-%s", v->epoch, v->epoch[0] ? ":" : "", v->pkgver, v->pkgrel);
	return buf;
}

bool arch_version_equal(const struct arch_pkgver *a, const struct arch_pkgver *b)
{
	const char *ea = a->epoch[0] ? a->epoch : "0", *eb = b->epoch[0] ? b->epoch : "0";
	return strtoul(ea, NULL, 10) == strtoul(eb, NULL, 10) && strcmp(a->pkgver, b->pkgver) == 0 &&
	       strcmp(a->pkgrel, b->pkgrel) == 0;
}

bool arch_pkgname_valid(const char *name)
{
	if (!name[0] || name[0] == '-' || name[0] == '.' || strlen(name) > 127)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("@._+-", *p))
			return false;
	return true;
}

/* desc: "%SECTION%\nvalue\n[value...]\n\n" blocks; we need the first value of two of them */
int arch_desc_parse(const char *text, size_t len, char *name, size_t namesize, char *version, size_t versize,
		    char *why, size_t whysize)
{
	if (memchr(text, '\0', len)) {
		snprintf(why, whysize, "it holds a NUL byte");
		return -EINVAL;
	}
	name[0] = version[0] = '\0';
	bool have_name = false, have_version = false;
	unsigned int lineno = 0;
	for (const char *p = text; p < text + len;) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		lineno++;
		if (n > ARCH_LINE_MAX) {
			snprintf(why, whysize, "line %u is longer than %d characters", lineno, ARCH_LINE_MAX);
			return -EINVAL;
		}
		const char *next = nl ? nl + 1 : text + len;
		bool is_name = n == 6 && memcmp(p, "%NAME%", 6) == 0;
		bool is_version = n == 9 && memcmp(p, "%VERSION%", 9) == 0;
		if (is_name || is_version) {
			if ((is_name && have_name) || (is_version && have_version)) {
				snprintf(why, whysize, "line %u: %.*s a second time", lineno, (int)n, p);
				return -EINVAL;
			}
			const char *v = next;
			const char *vnl = v < text + len ? memchr(v, '\n', (size_t)(text + len - v)) : NULL;
			size_t vn = vnl ? (size_t)(vnl - v) : (size_t)(text + len - v);
			char *dst = is_name ? name : version;
			size_t dsize = is_name ? namesize : versize;
			if (vn == 0 || vn >= dsize) {
				snprintf(why, whysize, "line %u: %.*s %s", lineno + 1, (int)n, p,
					 vn == 0 ? "has no value" : "has a value too long");
				return -EINVAL;
			}
			memcpy(dst, v, vn);
			dst[vn] = '\0';
			if (is_name)
				have_name = true;
			else
				have_version = true;
		}
		p = next;
	}
	if (!have_name || !have_version) {
		snprintf(why, whysize, "no %s section", have_name ? "%VERSION%" : "%NAME%");
		return -EINVAL;
	}
	return 0;
}

/* Reads a desc file (a regular file, at most 1 MiB: pacman's are a few hundred bytes). */
static int read_desc(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
		int e = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		close(fd);
		return e;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return buf ? -EIO : -ENOMEM;
	}
	buf[n] = '\0';
	*text = buf;
	*len = (size_t)n;
	return 0;
}

int arch_pacman_find(const char *localdb, const char *name, struct arch_pkgver *out, char *why, size_t whysize)
{
	DIR *d = opendir(localdb);
	if (!d) {
		snprintf(why, whysize, "pacman's database %s cannot be read (%s): is this an Arch system?", localdb,
			 strerror(errno));
		return -ENOENT;
	}
	size_t nlen = strlen(name);
	char found_dir[512] = "", found_ver[256] = "";
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		/* a package's folder is NAME-VERSION: the name narrows the search, its desc decides */
		if (strncmp(e->d_name, name, nlen) != 0 || e->d_name[nlen] != '-')
			continue;
		char path[4096], n[256], v[256], reason[256];
		snprintf(path, sizeof(path), "%s/%s/desc", localdb, e->d_name);
		_arch_cleanup_free_ char *text = NULL;
		size_t len = 0;
		int rr = read_desc(path, &text, &len);
		if (rr == -ENOENT)
			continue; /* not a package folder (pacman writes desc first of all) */
		if (rr < 0) {
			snprintf(why, whysize, "%s cannot be read (%s): pacman's database is damaged; check it with "
					       "pacman -Dk",
				 path, strerror(-rr));
			r = -EINVAL;
			break;
		}
		if (arch_desc_parse(text, len, n, sizeof(n), v, sizeof(v), reason, sizeof(reason)) < 0) {
			snprintf(why, whysize, "%s is damaged: %s: reinstall the package (pacman -S %s) or check the "
					       "database with pacman -Dk",
				 path, reason, name);
			r = -EINVAL;
			break;
		}
		if (strcmp(n, name) != 0)
			continue; /* linux-headers-..., linux-lts-...: another package */
		if (strlen(e->d_name) != nlen + 1 + strlen(v) || strcmp(e->d_name + nlen + 1, v) != 0) {
			snprintf(why, whysize, "%s says %s %s, but its folder is named %s: pacman's database is "
					       "damaged; check it with pacman -Dk",
				 path, n, v, e->d_name);
			r = -EINVAL;
			break;
		}
		if (found_dir[0]) {
			snprintf(why, whysize, "pacman's database %s lists %s twice (%s and %s): it is damaged; check it "
					       "with pacman -Dk",
				 localdb, name, found_ver, v);
			r = -EEXIST;
			break;
		}
		snprintf(found_dir, sizeof(found_dir), "%s", e->d_name);
		snprintf(found_ver, sizeof(found_ver), "%s", v);
	}
	closedir(d);
	if (r < 0)
		return r;
	if (!found_dir[0]) {
		snprintf(why, whysize, "pacman's database %s has no package %s: install it (pacman -S %s), or pass "
				       "--source with the kernel's source tree",
			 localdb, name, name);
		return -ENOENT;
	}
	char reason[256];
	if (arch_version_split(found_ver, out, reason, sizeof(reason)) < 0) {
		snprintf(why, whysize, "%s/%s/desc is damaged: %s: check pacman's database with pacman -Dk", localdb,
			 found_dir, reason);
		return -EINVAL;
	}
	return 0;
}

const char *arch_packaging_tag(const struct arch_pkgver *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s-%s", v->epoch, v->epoch[0] ? "-" : "", v->pkgver, v->pkgrel);
	for (char *p = buf; *p; p++)
		if (*p == '~')
			*p = '.';
	return buf;
}

char *arch_packaging_url(const char *format, const char *pkgbase)
{
	size_t n = strlen(format) + strlen(pkgbase) + 1;
	char *out = malloc(n), *o = out;
	if (!out)
		return NULL;
	for (const char *p = format; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			o = stpcpy(o, pkgbase);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			*o++ = '%';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

int arch_check_url_format(const char *format, char *why, size_t whysize)
{
	unsigned int subst = 0;
	for (const char *p = format; *p; p++) {
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p)) {
			snprintf(why, whysize, "plugin.arch.packaging_url holds a space or control character: \"%s\"",
				 format);
			return -EINVAL;
		}
		if (*p != '%')
			continue;
		if (p[1] == 's')
			subst++;
		else if (p[1] != '%') {
			snprintf(why, whysize, "plugin.arch.packaging_url: %%%c is not allowed, only %%s (the pkgbase) "
					       "and %%%% (a percent sign): \"%s\"",
				 p[1] ? p[1] : ' ', format);
			return -EINVAL;
		}
		p++;
	}
	if (subst != 1) {
		snprintf(why, whysize, "plugin.arch.packaging_url must hold %%s once, for the pkgbase (like "
				       "https://gitlab.archlinux.org/archlinux/packaging/packages/%%s.git), not \"%s\"",
			 format);
		return -EINVAL;
	}
	return 0;
}

int arch_check_ref(const char *ref, char *why, size_t whysize)
{
	if (!ref[0])
		return 0;
	const char *v = NULL;
	bool hex = false;
	if (strncmp(ref, "tag=", 4) == 0 || strncmp(ref, "branch=", 7) == 0)
		v = strchr(ref, '=') + 1;
	else if (strncmp(ref, "commit=", 7) == 0) {
		v = ref + 7;
		hex = true;
	}
	bool ok = v && *v;
	for (const char *p = v; ok && *p; p++)
		ok = hex ? isxdigit((unsigned char)*p) : (isgraph((unsigned char)*p) && !strchr("~^:?*[\\", *p));
	if (!ok) {
		snprintf(why, whysize, "plugin.arch.packaging_ref must be empty (the installed version's tag), "
				       "tag=NAME, branch=NAME or commit=HEX, not \"%s\"",
			 ref);
		return -EINVAL;
	}
	return 0;
}
