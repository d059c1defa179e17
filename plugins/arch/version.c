/* version.c: the kernel release an Arch (or Manjaro) PKGBUILD builds, and how a source tree reproduces it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"

/* Manjaro names its kernels linuxNNN (linux612, linux612-rt); Arch never does. */
enum arch_scheme arch_scheme_of(const char *pkgbase)
{
	return strncmp(pkgbase, "linux", 5) == 0 && isdigit((unsigned char)pkgbase[5]) ? ARCH_SCHEME_MANJARO
										       : ARCH_SCHEME_ARCH;
}

/*
 * pkgver as the kernel PKGBUILDs write it: N.N[.N] and an optional tag the Arch patch puts
 * into EXTRAVERSION (_srctag=v${pkgver%.*}-${pkgver##*.}: 6.6.1.arch1 -> v6.6.1-arch1).
 */
static int split_pkgver(const char *pkgver, char *version, size_t vsize, char *tag, size_t tsize)
{
	unsigned int nums[3], k = 0;
	const char *p = pkgver;
	tag[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, ".");
		if (n == 0)
			return -EINVAL;
		if (strspn(p, "0123456789") == n && k < 3 && !tag[0]) {
			if (n > 6)
				return -EINVAL;
			nums[k++] = (unsigned int)strtoul(p, NULL, 10);
		} else if (!tag[0] && k >= 2 && p[n] == '\0' && n < tsize && isalpha((unsigned char)p[0])) {
			for (size_t i = 0; i < n; i++)
				if (!isalnum((unsigned char)p[i]))
					return -EINVAL;
			memcpy(tag, p, n);
			tag[n] = '\0';
		} else {
			return -EINVAL;
		}
		p += n;
		if (*p == '.' && !*++p)
			return -EINVAL;
	}
	if (k < 2)
		return -EINVAL;
	/* 6.12.arch1 is the first release of 6.12: the Makefile says SUBLEVEL = 0 */
	snprintf(version, vsize, "%u.%u.%u", nums[0], nums[1], k == 3 ? nums[2] : 0);
	return 0;
}

int arch_release_expect(const char *pkgbase, const struct arch_pkgver *v, const char *config_lv,
			struct arch_release *out, char *why, size_t whysize)
{
	memset(out, 0, sizeof(*out));
	char tag[64];
	if (split_pkgver(v->pkgver, out->version, sizeof(out->version), tag, sizeof(tag)) < 0) {
		snprintf(why, whysize, "%s's pkgver %s is no kernel version (N.N[.N][.TAG], like 6.6.1.arch1)", pkgbase,
			 v->pkgver);
		return -EINVAL;
	}
	if (tag[0])
		snprintf(out->extraversion, sizeof(out->extraversion), "-%s", tag);
	const char *lv = config_lv ? config_lv : "";
	int n;
	if (arch_scheme_of(pkgbase) == ARCH_SCHEME_MANJARO) {
		/* prepare(): sed -ri "s|^(EXTRAVERSION =).*|\1 -${pkgrel}|" Makefile; the config's
		 * CONFIG_LOCALVERSION (_kernelname, -MANJARO) follows */
		snprintf(out->make_var, sizeof(out->make_var), "EXTRAVERSION=-%s", v->pkgrel);
		n = snprintf(out->release, sizeof(out->release), "%s-%s%s", out->version, v->pkgrel, lv);
	} else {
		/* prepare(): echo "-$pkgrel" > localversion.10-pkgrel; echo "${pkgbase#linux}" > localversion.20-pkgname */
		out->localversion_files = true;
		snprintf(out->localversion_10, sizeof(out->localversion_10), "-%s", v->pkgrel);
		snprintf(out->localversion_20, sizeof(out->localversion_20), "%s",
			 strncmp(pkgbase, "linux", 5) == 0 ? pkgbase + 5 : pkgbase);
		n = snprintf(out->release, sizeof(out->release), "%s%s%s%s%s", out->version, out->extraversion,
			     out->localversion_10, out->localversion_20, lv);
	}
	if (n < 0 || (size_t)n >= sizeof(out->release)) {
		snprintf(why, whysize, "%s %s-%s would build a release longer than 64 characters", pkgbase, v->pkgver,
			 v->pkgrel);
		return -EINVAL;
	}
	return 0;
}

int arch_setlocalversion(const char *version, const char *extraversion, const char *localversions,
			 const char *config_lv, char *out, size_t size)
{
	int n = snprintf(out, size, "%s%s%s%s", version, extraversion ? extraversion : "", localversions ? localversions : "",
			 config_lv ? config_lv : "");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int arch_release_check(const char *what, const char *derived, const char *other, const char *target, char *why,
		       size_t whysize)
{
	if (strcmp(derived, target) == 0)
		return 0;
	snprintf(why, whysize, "%s is \"%s\", %s is \"%s\"", what, derived, other ? other : "the target kernel",
		 target);
	return -EINVAL;
}
