/* kforge/release.h: a kernel release split into the parts kbuild builds it from. */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest release kbuild accepts (include/linux/utsname.h: __NEW_UTS_LEN). */
#define KFORGE_RELEASE_MAX 64

enum kforge_release_override {
	/* VERSION.PATCHLEVEL.SUBLEVEL EXTRAVERSION LOCALVERSION, as setlocalversion builds it */
	KFORGE_OVERRIDE_NONE = 0,
	/* the whole release set on make's command line (Debian: .kernelvariables) */
	KFORGE_OVERRIDE_KERNELRELEASE,
	/* the version part replaced, the Makefile keeps upstream's SUBLEVEL (Ubuntu) */
	KFORGE_OVERRIDE_KERNELVERSION,
};

struct kforge_release {
	char release[KFORGE_RELEASE_MAX + 1];
	/* the Makefile's VERSION, PATCHLEVEL, SUBLEVEL: upstream's, even when the release differs */
	unsigned int version;
	unsigned int patchlevel;
	unsigned int sublevel;
	char extraversion[KFORGE_RELEASE_MAX + 1];
	/* everything setlocalversion appends: localversion files, CONFIG_LOCALVERSION, git suffix */
	char localversion[KFORGE_RELEASE_MAX + 1];
	enum kforge_release_override override;
	/* 1 when the parts come from a build directory, 0 when guessed from the string alone */
	int from_build_dir;
};

/*
 * Splits RELEASE. When BUILD_DIR (a host path) is given and holds the kernel's Makefile,
 * the version and EXTRAVERSION come from it (an `include /abs/Makefile` line is followed
 * inside ROOT, NULL meaning "/"), and a release that does not start with them is
 * recognised as an override; otherwise the parts are inferred from the string alone.
 * Returns 0, -EINVAL for a string that is no kernel release, -ENAMETOOLONG past 64 chars.
 */
int kforge_release_parse(const char *root, const char *release, const char *build_dir,
			 struct kforge_release *out);

/*
 * A kernel Makefile's TEXT (a tree a plugin fetched or prepared): "6.1.192" into VERSION and its
 * EXTRAVERSION ("-arch1", "" when none) into EXTRA, from the first assignment of each. -EINVAL
 * when VERSION, PATCHLEVEL or SUBLEVEL is missing or no number; -ENAMETOOLONG when a buffer is
 * too small. Since LIBKFORGE_0.2.
 */
int kforge_makefile_version(const char *text, char *version, size_t vsize, char *extra, size_t esize);

/* "6.1.192": VERSION.PATCHLEVEL.SUBLEVEL into BUF. Returns BUF. */
const char *kforge_release_version_string(const struct kforge_release *rel, char *buf, unsigned long size);

/* The name of an override ("none", "KERNELRELEASE", "KERNELVERSION"). */
const char *kforge_release_override_name(enum kforge_release_override o);

/*
 * Reads UTS_RELEASE from BUILD_DIR/include/generated/utsrelease.h into BUF.
 * Returns 0 or a negative errno.
 */
int kforge_release_read_uts(const char *build_dir, char *buf, unsigned long size);

#include <stddef.h>

#ifdef __cplusplus
}
#endif
