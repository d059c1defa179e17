/* arch.h: what the arch plugin's files share: pacman's database, .SRCINFO, the release, the sandbox. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/types.h>

/*
 * The pure parts (pacman.c, srcinfo.c, version.c, patch.c, sandbox.c, util.c) use libc only, so
 * that tests/unit/test-arch.c links them directly; arch.c and source.c hold the step hooks, which
 * use the SDK. Errors: 0 or a negative errno, the reason in WHY (a buffer of WHYSIZE bytes).
 */

static inline void arch_freep(void *p)
{
	free(*(void **)p);
}
#define _arch_cleanup_free_ __attribute__((cleanup(arch_freep)))

/* The longest line read from a .SRCINFO, a pacman desc or a modules.dep. */
#define ARCH_LINE_MAX 8192

/* ---- pacman.c: the installed package ---- */

/* A package version as pacman writes it: [EPOCH:]PKGVER-PKGREL. */
struct arch_pkgver {
	char epoch[16];	  /* "" or "1" */
	char pkgver[128]; /* "6.6.1.arch1" */
	char pkgrel[32];  /* "1", "1.1" */
};

/* Splits "1:6.6.1.arch1-1"; -EINVAL (with WHY) for anything pacman would not write. */
int arch_version_split(const char *version, struct arch_pkgver *out, char *why, size_t whysize);
/* "1:6.6.1.arch1-1" (the epoch only when there is one) into BUF. */
const char *arch_version_string(const struct arch_pkgver *v, char *buf, size_t size);
/* True when two versions are the same (a missing epoch is epoch 0). */
bool arch_version_equal(const struct arch_pkgver *a, const struct arch_pkgver *b);
/* A package name as pacman allows it (letters, digits, @._+-, not starting with - or .). */
bool arch_pkgname_valid(const char *name);
/*
 * Reads %NAME% and %VERSION% of a pacman local database desc file's TEXT into NAME and
 * VERSION; -EINVAL with the reason for a damaged one (a section missing, empty, twice, a line
 * too long, a NUL byte).
 */
int arch_desc_parse(const char *text, size_t len, char *name, size_t namesize, char *version, size_t versize,
		    char *why, size_t whysize);
/*
 * The installed version of package NAME from pacman's local database LOCALDB (a host path,
 * ROOT/var/lib/pacman/local): the folder whose desc says %NAME% NAME (folders are read by
 * their desc, the name only narrows the search). -ENOENT: not installed; -EEXIST: listed more
 * than once; -EINVAL: a damaged entry; each with the reason and the fix in WHY.
 */
int arch_pacman_find(const char *localdb, const char *name, struct arch_pkgver *out, char *why, size_t whysize);
/*
 * The tag Arch's packaging repositories carry for a version, as devtools cuts it (pkgctl
 * release; get_tag_from_pkgver in archlinux/devtools src/lib/common.sh: tag=${tag/:/-};
 * tag=${tag//~/.}): git refuses ':' and '~' in a ref, so an epoch's ':' becomes '-' and '~'
 * becomes '.': "1:6.6.1.arch1-1" -> "1-6.6.1.arch1-1". Kernel tags seen: 7.0.9.arch1-1.
 */
const char *arch_packaging_tag(const struct arch_pkgver *v, char *buf, size_t size);
/* FORMAT with its one %s replaced by PKGBASE (%% is a percent sign); malloc'd, NULL on ENOMEM. */
char *arch_packaging_url(const char *format, const char *pkgbase);
/* Checks [plugin.arch] packaging_url: exactly one %s, no other % conversion, no space. */
int arch_check_url_format(const char *format, char *why, size_t whysize);
/* Checks [plugin.arch] packaging_ref: "" or tag=NAME, branch=NAME, commit=HEX. */
int arch_check_ref(const char *ref, char *why, size_t whysize);

/* ---- srcinfo.c: the sources, read as data ---- */

enum arch_source_kind {
	ARCH_SOURCE_URL = 0, /* http(s), file: fetched into the cache */
	ARCH_SOURCE_LOCAL,   /* a file of the packaging repository itself ("config") */
	ARCH_SOURCE_GIT,     /* git+URL#tag=...: a commit of a git repository */
};

struct arch_source {
	enum arch_source_kind kind;
	char *name;	   /* the file name makepkg gives it: "linux-6.6.1.tar.xz", "config", "linux" */
	char *url;	   /* URL: what is fetched; GIT: the repository (no git+, no fragment); LOCAL: NULL */
	char *ref;	   /* GIT: the fragment, "tag=v6.6.1-arch1" ("commit=", "branch="), or NULL */
	char *sha256;	   /* 64 hex digits, or NULL */
	char *b2;	   /* 128 hex digits (BLAKE2b-512), or NULL */
	bool skip;	   /* a sums array says SKIP for it */
	unsigned int line; /* the .SRCINFO line that names it */
};

struct arch_srcinfo {
	char *pkgbase;
	char *pkgver;
	char *pkgrel;
	char *epoch; /* NULL when none */
	struct arch_source *sources;
	size_t n_sources;
	char **keys; /* validpgpkeys */
	size_t n_keys;
};

/*
 * Parses a .SRCINFO (`makepkg --printsrcinfo`; the PKGBUILD evaluation prints the same form)
 * for architecture CARCH ("x86_64"): source and source_CARCH, sha256sums[_CARCH] and
 * b2sums[_CARCH] paired with them by index, validpgpkeys. Data only: nothing in it runs.
 * -EINVAL with WHY naming the line for bad input (a line too long or without " = ", no
 * pkgbase first, no pkgver or pkgrel, a key twice, a sum that is no hex, a count mismatch).
 */
int arch_srcinfo_parse(const char *text, size_t len, const char *carch, struct arch_srcinfo *out, char *why,
		       size_t whysize);
void arch_srcinfo_free(struct arch_srcinfo *si);
/* One source= entry: "name::url", "url", "git+URL#tag=X", or a plain file name. */
int arch_source_parse(const char *entry, struct arch_source *out, char *why, size_t whysize);
void arch_source_free(struct arch_source *s);
/* The checksum kforge_fetch verifies: "b2:HEX" when there is one, else "sha256:HEX", else NULL. */
const char *arch_source_checksum(const struct arch_source *s, char *buf, size_t size);
/* "x.sig", "x.sign", "x.asc": a detached signature. */
bool arch_is_signature(const char *name);
/*
 * The source a signature SIG (an index) signs, as makepkg finds it: the name without the
 * signature's suffix, else that name with a compression suffix (linux-6.6.1.tar.sign signs
 * the .tar inside linux-6.6.1.tar.xz: *DECOMPRESS is then true). -ENOENT when none.
 */
int arch_signature_target(const struct arch_srcinfo *si, size_t sig, size_t *target, bool *decompress);
/*
 * Does the PKGBUILD's prepare() apply NAME as a patch? "*.patch" after one compression suffix
 * (.zst, .xz, .gz) is removed, as Arch's loop does, or kernel.org's incremental "patch-X.Y.Z"
 * (Manjaro). PLAIN gets the name without the compression suffix.
 */
bool arch_is_patch(const char *name, char *plain, size_t size);
/* The compression suffix of NAME (".zst", ".xz", ".gz") or NULL. */
const char *arch_compression_suffix(const char *name);
/* "*.tar", "*.tar.xz", "*.tar.gz", "*.tar.zst", "*.tar.bz2". */
bool arch_is_tarball(const char *name);
/* The source that is the kernel tree: the first git source, else the first tarball; -1 if none. */
ssize_t arch_srcinfo_kernel(const struct arch_srcinfo *si);
/* The kernel configuration among the sources: "config.CARCH", else "config"; -1 if none. */
ssize_t arch_srcinfo_config(const struct arch_srcinfo *si, const char *carch);

/* ---- version.c: the release, as the PKGBUILD builds it ---- */

enum arch_scheme {
	/* Arch: EXTRAVERSION from the Arch patch (-arch1, -zen1), localversion.10-pkgrel "-$pkgrel",
	 * localversion.20-pkgname "${pkgbase#linux}" written by prepare() */
	ARCH_SCHEME_ARCH = 0,
	/* Manjaro (linuxNNN): prepare() sets the Makefile's EXTRAVERSION to "-$pkgrel"; its config
	 * says CONFIG_LOCALVERSION="-MANJARO"; no localversion files */
	ARCH_SCHEME_MANJARO,
};
enum arch_scheme arch_scheme_of(const char *pkgbase);

struct arch_release {
	char release[65];	/* "6.6.1-arch1-1" */
	char version[32];	/* the Makefile's VERSION.PATCHLEVEL.SUBLEVEL: "6.6.1", "6.12.0" */
	char extraversion[65];	/* the patched Makefile's EXTRAVERSION: "-arch1" ("" for lts) */
	bool localversion_files; /* write the two files below into the tree */
	char localversion_10[65]; /* localversion.10-pkgrel: "-1" */
	char localversion_20[65]; /* localversion.20-pkgname: "", "-lts", "-zen" */
	char make_var[80];	  /* what make needs on its command line: "EXTRAVERSION=-1" (Manjaro), "" */
};
/*
 * The release PKGBASE's PKGBUILD builds from version V: the Makefile version and EXTRAVERSION
 * from pkgver as its _srctag does (6.6.1.arch1 -> 6.6.1 and -arch1; 6.12.arch1 -> 6.12.0),
 * then what prepare() adds, then CONFIG_LOCALVERSION (CONFIG_LV, "" when unset).
 * -EINVAL when pkgver is no kernel version or the release would pass 64 characters.
 */
int arch_release_expect(const char *pkgbase, const struct arch_pkgver *v, const char *config_lv,
			struct arch_release *out, char *why, size_t whysize);
/*
 * What scripts/setlocalversion makes of a tree without git: VERSION EXTRAVERSION, the
 * localversion* files' contents (LOCALVERSIONS, concatenated in name order), CONFIG_LV.
 */
int arch_setlocalversion(const char *version, const char *extraversion, const char *localversions,
			 const char *config_lv, char *out, size_t size);
/* 0 when DERIVED (WHAT) equals TARGET (OTHER; NULL: "the target kernel"), else -EINVAL naming both in WHY. */
int arch_release_check(const char *what, const char *derived, const char *other, const char *target, char *why,
		       size_t whysize);

/* ---- patch.c: a patch cut down to one folder ---- */

/*
 * The parts of PATCH (a unified diff, git's or diff -u's) whose files are under SUBDIR
 * ("fs/btrfs"), paths taken with one leading component (-p1); commit messages and other files'
 * diffs left out. *OUT is malloc'd (may be empty: the patch does not touch SUBDIR).
 */
int arch_patch_filter(const char *patch, size_t len, const char *subdir, char **out, size_t *outlen);

/* ---- sandbox.c: what evaluates a PKGBUILD (run by kforge_run_sandboxed: unprivileged, no network) ---- */

/* The bash script that sources ./PKGBUILD and prints what it set in .SRCINFO's form, and its file name. */
extern const char arch_pkgbuild_driver[];
#define ARCH_DRIVER_NAME "kforge-pkgbuild.sh"

/* ---- util.c: small readers ---- */

/* The first line of a host file (without the newline); -ENOENT, -EINVAL when empty or too long. */
int arch_read_line(const char *path, char *buf, size_t size);
/* Gunzips SRC (/proc/config.gz) into DST, written under a temporary name and renamed (zlib). */
int arch_gunzip(const char *src, const char *dst);
/*
 * gpgv --status-fd output STATUS: 0 when it holds a good signature (GOODSIG and VALIDSIG) by
 * one of KEYS (validpgpkeys: the signing key's or its primary key's fingerprint), else -EBADMSG
 * with the reason in WHY.
 */
int arch_gpgv_check(const char *status, char *const *keys, size_t n_keys, char *why, size_t whysize);
