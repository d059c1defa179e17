/* release.c: a kernel release split into VERSION.PATCHLEVEL.SUBLEVEL, EXTRAVERSION and the rest. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "kernel/kernel.h"

struct makefile_version {
	unsigned int v, p, s;
	char extra[KFORGE_RELEASE_MAX + 1];
	int found; /* bit 0: VERSION, 1: PATCHLEVEL, 2: SUBLEVEL */
};

static void copy_str(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);
	if (len >= KFORGE_RELEASE_MAX + 1)
		len = KFORGE_RELEASE_MAX;
	if (n < len)
		len = n;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * One Makefile line (LEN bytes, no newline): "VERSION = 6" and the like fill MV, the first of
 * each only (a later assignment is a recipe's, not the release). A number that is no number:
 * -EINVAL.
 */
static int makefile_line(const char *line, size_t len, struct makefile_version *mv)
{
	static const char *const keys[] = { "VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION" };
	for (int i = 0; i < 4; i++) {
		size_t k = strlen(keys[i]);
		if (len < k || memcmp(line, keys[i], k) != 0 || (mv->found & (1 << i)))
			continue;
		const char *p = line + k, *end = line + len;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || *p != '=')
			return 0; /* VERSION := or VERSIONX = */
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		size_t n = (size_t)(end - p);
		mv->found |= 1 << i;
		if (i == 3) {
			copy_str(mv->extra, p, n);
			return 0;
		}
		if (n == 0 || n > 9 || strspn(p, "0123456789") < n)
			return -EINVAL;
		unsigned int *num[] = { &mv->v, &mv->p, &mv->s };
		*num[i] = (unsigned int)strtoul(p, NULL, 10);
		return 0;
	}
	return 0;
}

/* Reads VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION, following `include` lines (depth 4). */
static int read_makefile(const char *root, const char *path, struct makefile_version *mv, int depth)
{
	_cleanup_free_ char *text = NULL;
	if (depth > 4)
		return -ELOOP;
	int r = kf_read_file(path, &text, NULL);
	if (r < 0)
		return r;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "include ", 8) == 0 && (mv->found & 7) != 7) {
			char *inc = kf_strstrip(line + 8);
			if (inc[0] != '/' || strchr(inc, '$'))
				continue;
			_cleanup_free_ char *host = NULL;
			if (kforge_path_resolve(root, inc, &host) == 0)
				read_makefile(root, host, mv, depth + 1);
			continue;
		}
		if ((r = makefile_line(line, strlen(line), mv)) < 0)
			return r;
	}
	return (mv->found & 7) == 7 ? 0 : -ENOENT;
}

int kforge_makefile_version(const char *text, char *version, size_t vsize, char *extra, size_t esize)
{
	struct makefile_version mv = { 0 };
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (makefile_line(p, n, &mv) < 0)
			return -EINVAL;
		p = p[n] ? p + n + 1 : NULL;
	}
	if ((mv.found & 7) != 7)
		return -EINVAL;
	int a = snprintf(version, vsize, "%u.%u.%u", mv.v, mv.p, mv.s);
	int b = snprintf(extra, esize, "%s", mv.extra);
	return a < 0 || (size_t)a >= vsize || b < 0 || (size_t)b >= esize ? -ENAMETOOLONG : 0;
}

/* Parses "V.P[.S]" at the start of S; returns the length consumed, 0 if none. */
static size_t parse_numbers(const char *s, unsigned int *v, unsigned int *p, unsigned int *sub)
{
	const char *q = s;
	char *end;
	if (!isdigit((unsigned char)*q))
		return 0;
	*v = (unsigned)strtoul(q, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return 0;
	q = end + 1;
	*p = (unsigned)strtoul(q, &end, 10);
	*sub = 0;
	if (*end == '.' && isdigit((unsigned char)end[1])) {
		q = end + 1;
		*sub = (unsigned)strtoul(q, &end, 10);
	}
	return (size_t)(end - s);
}

/* "arch1", "zen1", "rc5", "hardened1": the shape of an EXTRAVERSION tag. */
static bool is_extra_tag(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && islower((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n)
		return false;
	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	return i == n;
}

/* "300.fc39.x86_64", "513.5.1.el8_9.x86_64": an RPM release that fills EXTRAVERSION. */
static bool is_rpm_release(const char *s)
{
	const char *q = s;
	while (isdigit((unsigned char)*q))
		q++;
	return q > s && *q == '.';
}

static bool has_kernelrelease_override(const char *build_dir)
{
	_cleanup_free_ char *path = kforge_path_join(build_dir, ".kernelvariables", NULL);
	_cleanup_free_ char *text = NULL;
	if (!path || kf_read_file(path, &text, NULL) < 0)
		return false;
	for (char *l = strstr(text, "KERNELRELEASE"); l; l = strstr(l + 1, "KERNELRELEASE")) {
		const char *q = l + strlen("KERNELRELEASE");
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=' || (*q == ':' && q[1] == '='))
			return true;
	}
	return false;
}

/* RELEASE for a message: bytes that could steer a terminal as \xNN, the length capped. */
static void quote_release(const char *release, char *buf, size_t size)
{
	size_t w = 0, shown = 0;
	for (const unsigned char *q = (const unsigned char *)release; *q && w + 8 < size; q++, shown++) {
		if (shown == KFORGE_RELEASE_MAX) {
			w += (size_t)snprintf(buf + w, size - w, "...");
			break;
		}
		if (*q < 0x20 || *q >= 0x7f)
			w += (size_t)snprintf(buf + w, size - w, "\\x%02x", *q);
		else
			buf[w++] = (char)*q;
	}
	buf[w] = '\0';
}

int kf_release_check(const char *release, char *why, size_t size)
{
	/*
	 * A release becomes a folder name under lib/modules and under kforge's own state: it
	 * must stay one plain name there, whatever a command line or a file says it is.
	 */
	const char *reason = NULL;
	char too_long[64];
	int r = -EINVAL;
	unsigned int v, p, s;
	if (!release)
		return -EINVAL;
	if (strlen(release) > KFORGE_RELEASE_MAX) {
		snprintf(too_long, sizeof(too_long), "longer than %d characters", KFORGE_RELEASE_MAX);
		reason = too_long;
		r = -ENAMETOOLONG;
	} else if (!release[0]) {
		reason = "it is empty";
	} else if (strchr(release, '/')) {
		reason = "it holds a '/', and a release is one folder name under lib/modules";
	} else if (strstr(release, "..")) {
		reason = "it holds \"..\", and a release is one folder name under lib/modules";
	} else {
		for (const unsigned char *q = (const unsigned char *)release; *q && !reason; q++)
			if (*q < 0x20 || *q == 0x7f)
				reason = "it holds a control character";
			else if (isspace(*q))
				reason = "it holds a space";
		if (!reason && !parse_numbers(release, &v, &p, &s))
			reason = "it does not start with VERSION.PATCHLEVEL";
	}
	if (!reason)
		return 0;
	if (why && size) {
		char shown[4 * KFORGE_RELEASE_MAX + 8];
		quote_release(release, shown, sizeof(shown));
		snprintf(why, size, "\"%s\" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): %s", shown,
			 reason);
	}
	return r;
}

int kforge_release_parse(const char *root, const char *release, const char *build_dir,
			 struct kforge_release *out)
{
	if (!release || !out)
		return -EINVAL;
	int r = kf_release_check(release, NULL, 0);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	memcpy(out->release, release, strlen(release) + 1);

	unsigned int v, p, s;
	size_t nlen = parse_numbers(release, &v, &p, &s);
	if (nlen == 0)
		return -EINVAL;
	const char *rest = release + nlen;

	struct makefile_version mv = { 0 };
	_cleanup_free_ char *mk = build_dir ? kforge_path_join(build_dir, "Makefile", NULL) : NULL;
	if (mk && read_makefile(root, mk, &mv, 0) == 0) {
		out->from_build_dir = 1;
		out->version = mv.v;
		out->patchlevel = mv.p;
		out->sublevel = mv.s;
		copy_str(out->extraversion, mv.extra, KFORGE_RELEASE_MAX);
		char base[2 * KFORGE_RELEASE_MAX];
		snprintf(base, sizeof(base), "%u.%u.%u%s", mv.v, mv.p, mv.s, mv.extra);
		if (has_kernelrelease_override(build_dir))
			out->override = KFORGE_OVERRIDE_KERNELRELEASE;
		else if (strncmp(release, base, strlen(base)) == 0)
			copy_str(out->localversion, release + strlen(base), KFORGE_RELEASE_MAX);
		else
			out->override = KFORGE_OVERRIDE_KERNELVERSION;
		return 0;
	}

	/* No build dir: infer from the string's shape (test vectors in distro-facts.md). */
	out->version = v;
	out->patchlevel = p;
	out->sublevel = s;
	if (rest[0] == '-' && is_rpm_release(rest + 1)) {
		copy_str(out->extraversion, rest, KFORGE_RELEASE_MAX);
		return 0;
	}
	if (rest[0] == '-') {
		size_t n = strcspn(rest + 1, "-+");
		if (is_extra_tag(rest + 1, n)) {
			copy_str(out->extraversion, rest, n + 1);
			rest += n + 1;
		}
	}
	copy_str(out->localversion, rest, KFORGE_RELEASE_MAX);
	return 0;
}

const char *kforge_release_version_string(const struct kforge_release *rel, char *buf, unsigned long size)
{
	snprintf(buf, size, "%u.%u.%u", rel->version, rel->patchlevel, rel->sublevel);
	return buf;
}

const char *kforge_release_override_name(enum kforge_release_override o)
{
	switch (o) {
	case KFORGE_OVERRIDE_KERNELRELEASE:
		return "KERNELRELEASE";
	case KFORGE_OVERRIDE_KERNELVERSION:
		return "KERNELVERSION";
	default:
		return "none";
	}
}

int kforge_release_read_uts(const char *build_dir, char *buf, unsigned long size)
{
	_cleanup_free_ char *path = kforge_path_join(build_dir, "include/generated/utsrelease.h", NULL);
	_cleanup_free_ char *text = NULL;
	if (!path)
		return -ENOMEM;
	int r = kf_read_file(path, &text, NULL);
	if (r < 0)
		return r;
	char *q = strstr(text, "UTS_RELEASE");
	if (!q || !(q = strchr(q, '"')))
		return -EINVAL;
	char *end = strchr(++q, '"');
	if (!end || (unsigned long)(end - q) >= size)
		return -EINVAL;
	memcpy(buf, q, (size_t)(end - q));
	buf[end - q] = '\0';
	return 0;
}
