/* version.c: a Fedora or RHEL kernel release split as its spec builds it, the SRPM's URL, the Makefile's version. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedora.h"

/* The architectures the kernel package is built for (%{_target_cpu}). */
static bool known_arch(const char *a, size_t n)
{
	static const char *const arches[] = { "x86_64", "aarch64", "ppc64le", "s390x", "i686", "riscv64", "armv7hl" };
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (strlen(arches[i]) == n && strncmp(a, arches[i], n) == 0)
			return true;
	return false;
}

/* "6.5.6": three numbers. */
static bool upstream_version(const char *v, size_t n)
{
	int dots = 0;
	bool digit = false;
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)v[i])) {
			digit = true;
		} else if (v[i] == '.' && digit) {
			dots++;
			digit = false;
		} else {
			return false;
		}
	}
	return dots == 2 && digit;
}

/* fcN or elN[_M] (el8_9); fills the dist fields. */
static bool dist_tag(const char *t, size_t n, struct fedora_release *out)
{
	char buf[16];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, t, n);
	buf[n] = '\0';
	unsigned int major, minor;
	char tail;
	if (sscanf(buf, "fc%u%c", &major, &tail) == 1 && isdigit((unsigned char)buf[2])) {
		out->rhel = false;
		out->major = major;
		out->minor = -1;
	} else if (sscanf(buf, "el%u_%u%c", &major, &minor, &tail) == 2 && isdigit((unsigned char)buf[2]) &&
		   isdigit((unsigned char)buf[strcspn(buf, "_") + 1])) {
		out->rhel = true;
		out->major = major;
		out->minor = (int)minor;
	} else if (sscanf(buf, "el%u%c", &major, &tail) == 1 && isdigit((unsigned char)buf[2])) {
		out->rhel = true;
		out->major = major;
		out->minor = -1;
	} else {
		return false;
	}
	snprintf(out->dist, sizeof(out->dist), "%s", buf);
	return true;
}

int fedora_release_parse(const char *release, struct fedora_release *out, char *why, size_t whysize)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(release);
	if (len == 0 || len >= sizeof(out->release)) {
		snprintf(why, whysize, "\"%.80s\" is no kernel release (%zu characters; 1 to 64 are)", release, len);
		return -EINVAL;
	}
	for (const char *c = release; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("._+-~", *c)) {
			snprintf(why, whysize, "\"%s\" is no kernel release (it has a '%c')", release, *c);
			return -EINVAL;
		}
	memcpy(out->release, release, len + 1);
	const char *dash = strchr(release, '-');
	if (!dash || !upstream_version(release, (size_t)(dash - release))) {
		snprintf(why, whysize, "\"%s\" is no Fedora or RHEL kernel release: VER-REL.ARCH (6.5.6-300.fc39.x86_64) "
				       "is expected, VER three numbers",
			 release);
		return -EINVAL;
	}
	snprintf(out->version, sizeof(out->version), "%.*s", (int)(dash - release), release);
	const char *rest = dash + 1;
	const char *plus = strchr(rest, '+');
	size_t main_len = plus ? (size_t)(plus - rest) : strlen(rest);
	if (plus) {
		const char *v = plus + 1;
		bool ok = v[0] && strlen(v) < sizeof(out->variant);
		for (const char *c = v; ok && *c; c++)
			ok = isalnum((unsigned char)*c);
		if (!ok) {
			snprintf(why, whysize, "\"%s\": the variant after '+' (debug, rt, 64k) must be letters and digits",
				 release);
			return -EINVAL;
		}
		snprintf(out->variant, sizeof(out->variant), "%s", v);
	}
	/* REL.ARCH: the architecture is the last dot-separated part */
	const char *dot = NULL;
	for (size_t i = 0; i < main_len; i++)
		if (rest[i] == '.')
			dot = rest + i;
	if (!dot || !known_arch(dot + 1, (size_t)(rest + main_len - dot - 1))) {
		snprintf(why, whysize, "\"%s\" has no architecture after its release (.x86_64, .aarch64, ...): "
				       "is it a Fedora or RHEL kernel?",
			 release);
		return -EINVAL;
	}
	size_t rel_len = (size_t)(dot - rest);
	snprintf(out->arch, sizeof(out->arch), "%.*s", (int)(rest + main_len - dot - 1), dot + 1);
	if (rel_len == 0 || rel_len >= sizeof(out->rel)) {
		snprintf(why, whysize, "\"%s\" has no package release between the version and the architecture", release);
		return -EINVAL;
	}
	snprintf(out->rel, sizeof(out->rel), "%.*s", (int)rel_len, rest);
	/* the dist tag: the last part of REL that is fcN or elN[_M] (el9_4, fc42) */
	bool found = false;
	for (size_t end = rel_len; end > 0 && !found;) {
		size_t start = end;
		while (start > 0 && out->rel[start - 1] != '.')
			start--;
		found = dist_tag(out->rel + start, end - start, out);
		end = start > 0 ? start - 1 : 0;
	}
	if (!found) {
		snprintf(why, whysize, "\"%s\": the package release %s has no Fedora or RHEL dist tag (fc39, el9_4)",
			 release, out->rel);
		return -EINVAL;
	}
	for (const char *c = out->rel; *c; c++)
		if (*c == '-' || *c == '+') {
			snprintf(why, whysize, "\"%s\": the package release %s has a '%c' (rpm allows none)", release,
				 out->rel, *c);
			return -EINVAL;
		}
	snprintf(out->extraversion, sizeof(out->extraversion), "-%s", rest);
	return 0;
}

int fedora_check_url_format(const char *format, char *why, size_t whysize)
{
	if (strncmp(format, "https://", 8) != 0 && strncmp(format, "http://", 7) != 0 &&
	    strncmp(format, "file://", 7) != 0) {
		snprintf(why, whysize, "plugin.fedora.srpm_url must be an http://, https:// or file:// URL, not \"%s\"",
			 format);
		return -EINVAL;
	}
	for (const char *c = format; *c; c++) {
		if (isspace((unsigned char)*c)) {
			snprintf(why, whysize, "plugin.fedora.srpm_url has a space: \"%s\"", format);
			return -EINVAL;
		}
		if (*c == '%') {
			c++;
			if (!*c || !strchr("vramM%", *c)) {
				snprintf(why, whysize, "plugin.fedora.srpm_url has %%%c: only %%v (version), %%r (release), "
						       "%%a (arch), %%m (RHEL's 9.4), %%M (its 9) and %%%% are known",
					 *c ? *c : ' ');
				return -EINVAL;
			}
		}
	}
	return 0;
}

int fedora_url_format(const char *format, const struct fedora_release *fr, char **out, char *why, size_t whysize)
{
	*out = NULL;
	int r = fedora_check_url_format(format, why, whysize);
	if (r < 0)
		return r;
	size_t cap = strlen(format) + 4 * 96 + 1, n = 0;
	for (const char *c = format; *c; c++)
		if (*c == '%')
			cap += 96;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (const char *c = format; *c; c++) {
		char part[96];
		if (*c != '%') {
			buf[n++] = *c;
			continue;
		}
		switch (*++c) {
		case 'v': snprintf(part, sizeof(part), "%s", fr->version); break;
		case 'r': snprintf(part, sizeof(part), "%s", fr->rel); break;
		case 'a': snprintf(part, sizeof(part), "%s", fr->arch); break;
		case 'M': snprintf(part, sizeof(part), "%u", fr->major); break;
		case 'm':
			if (fr->minor < 0) {
				snprintf(why, whysize, "%s names no minor release (%s: el9_4 would be 9.4), which %%m in "
						       "%s needs: set [plugin.fedora] srpm_url or srpm",
					 fr->release, fr->dist, format);
				free(buf);
				return -EINVAL;
			}
			snprintf(part, sizeof(part), "%u.%d", fr->major, fr->minor);
			break;
		default: snprintf(part, sizeof(part), "%%"); break;
		}
		size_t pl = strlen(part);
		memcpy(buf + n, part, pl);
		n += pl;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

int fedora_makefile_set(const char *text, const char *version, const char *extra, char **out)
{
	*out = NULL;
	const char *dot = strchr(version, '.');
	unsigned int patchlevel;
	if (!dot || sscanf(dot + 1, "%u", &patchlevel) != 1)
		return -EINVAL;
	size_t len = strlen(text), cap = len + strlen(extra) + 64;
	char *buf = malloc(cap), *o = buf;
	if (!buf)
		return -ENOMEM;
	bool seen_extra = false, seen_patch = false;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (!seen_extra && strncmp(p, "EXTRAVERSION", 12) == 0 && p[12] && strchr(" \t=", p[12])) {
			o += sprintf(o, "EXTRAVERSION = %s\n", extra);
			seen_extra = true;
		} else if (!seen_patch && strncmp(p, "PATCHLEVEL", 10) == 0 && p[10] && strchr(" \t=", p[10])) {
			o += sprintf(o, "PATCHLEVEL = %u\n", patchlevel);
			seen_patch = true;
		} else {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	if (!seen_extra || !seen_patch) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	return 0;
}

/*
 * The package of RELEASE's build dir, /usr/src/kernels/KVER: kernel-devel-VER-REL.ARCH
 * (the same name on Fedora and the RHEL family); a variant's is kernel-VARIANT-devel (+debug:
 * kernel-debug-devel, +rt: kernel-rt-devel, +64k: kernel-64k-devel). Negative for a release
 * no kernel package builds (the core's general words then).
 */
int fedora_devel_package(const char *release, char *buf, size_t size)
{
	struct fedora_release fr;
	char why[256];
	if (fedora_release_parse(release, &fr, why, sizeof(why)) < 0)
		return -EINVAL;
	int n = snprintf(buf, size, "kernel%s%s-devel-%s-%s.%s", fr.variant[0] ? "-" : "", fr.variant, fr.version, fr.rel,
			 fr.arch);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
