/* fedora.h: what the fedora plugin's files share: the release's parts, the spec read as data, the SRPM. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/*
 * The pure parts (version.c, spec.c, srpm.c) use libc (and libarchive for srpm.c) only, so that
 * tests/unit/test-fedora.c links them directly; source.c holds the step hooks, which use the SDK.
 * Errors: 0 or a negative errno, the reason in WHY (a buffer of WHYSIZE bytes).
 */

static inline void fedora_freep(void *p)
{
	free(*(void **)p);
}
#define _fedora_cleanup_free_ __attribute__((cleanup(fedora_freep)))

/* ---- version.c: the release, as the kernel package's spec builds it ---- */

/*
 * A Fedora or RHEL kernel release is VER-REL.ARCH[+VARIANT] (the spec's KernelVer:
 * %{specversion}-%{release}.%{_target_cpu}${Variant:++${Variant}}). The package is
 * kernel-VER-REL (a +debug kernel comes from the same source package), and InitBuildVars sets
 * the Makefile's EXTRAVERSION to -REL.ARCH[+VARIANT]: everything after the upstream version.
 */
struct fedora_release {
	char release[65];      /* "6.5.6-300.fc39.x86_64+debug" */
	char version[32];      /* "6.5.6": the Makefile's VERSION.PATCHLEVEL.SUBLEVEL */
	char rel[64];	       /* "300.fc39", "0.rc3.20241217git1a2b3c4d.fc42", "513.5.1.el8_9" */
	char arch[16];	       /* "x86_64" */
	char variant[16];      /* "debug", "rt", "64k", or "" */
	char dist[16];	       /* "fc39", "el8_9", "el9" (CentOS Stream: no minor) */
	bool rhel;	       /* an el dist tag */
	unsigned int major;    /* 39 (Fedora), 8 or 9 (RHEL) */
	int minor;	       /* RHEL's minor release (el8_9: 9), -1 when the tag has none */
	char extraversion[65]; /* "-300.fc39.x86_64+debug" */
};
/*
 * Splits RELEASE; -EINVAL with WHY naming it and what is wrong for anything that is no
 * Fedora or RHEL kernel release (no VER-REL, no architecture, no fcN or elN[_M] in REL).
 */
int fedora_release_parse(const char *release, struct fedora_release *out, char *why, size_t whysize);
/*
 * FORMAT with %v (VER), %r (REL), %a (ARCH), %m (RHEL's MAJOR.MINOR: "9.4"), %M (the major:
 * "9"), %% replaced, into a malloc'd *OUT. -EINVAL with WHY for an unknown conversion or a %m
 * the release has no minor for (CentOS Stream's el9).
 */
int fedora_url_format(const char *format, const struct fedora_release *fr, char **out, char *why, size_t whysize);
/*
 * The package that provides RELEASE's /usr/src/kernels/RELEASE into BUF:
 * "kernel-devel-6.5.6-300.fc39.x86_64", "kernel-debug-devel-..." for +debug, "kernel-rt-devel-..."
 * for +rt; -EINVAL for a release no kernel package builds, -ENAMETOOLONG.
 */
int fedora_devel_package(const char *release, char *buf, size_t size);
/* Checks [plugin.fedora] srpm_url: only the conversions above, no space, http(s):// or file://. */
int fedora_check_url_format(const char *format, char *why, size_t whysize);
/*
 * TEXT (a kernel Makefile) with its EXTRAVERSION line set to EXTRA and PATCHLEVEL to the
 * one of VERSION ("6.13.0": 13), as the spec's InitBuildVars does; malloc'd into *OUT.
 * -EINVAL when TEXT has no EXTRAVERSION or PATCHLEVEL line.
 */
int fedora_makefile_set(const char *text, const char *version, const char *extra, char **out);

/* ---- spec.c: the kernel spec's patches, read as data (nothing in it runs) ---- */

struct fedora_apply {
	char *name;	   /* as written (macros unexpanded): "patch-%{patchversion}-redhat.patch" */
	bool optional;	   /* ApplyOptionalPatch: applied only when it has more than 9 lines */
	int strip;	   /* -pN; -1 when none was given (patch's own default) */
	unsigned int line; /* the spec's line that applies it */
};

struct fedora_macro {
	char *name;
	char *body; /* NULL: defined by something that is not data (%(...), %{lua:...}, a parameter list) */
};

struct fedora_spec {
	char *name;	       /* Name: */
	char *source0;	       /* Source0: (or Source:), as written */
	struct fedora_patch {
		unsigned int num; /* PatchN: N (Patch: is 0) */
		char *name;	  /* as written */
	} *patches;
	size_t n_patches;
	struct fedora_apply *apply; /* what %prep applies, in its order */
	size_t n_apply;
	struct fedora_macro *macros; /* %define and %global, the last one of a name wins */
	size_t n_macros;
	bool has_prep;
	bool conditional; /* %prep has %if lines: every branch's patches are listed */
};

/*
 * Reads a spec's TEXT as data: Name, Source0, PatchN lines, %define/%global with literal
 * bodies, and what %prep applies in order: ApplyOptionalPatch NAME, ApplyPatch NAME (Fedora's
 * and RHEL's kernel spec), %patch N / %patchN / %patch -P N (-pN), %autopatch and %autosetup
 * (every PatchN in number order). -EINVAL with WHY naming the line for bad input: a NUL byte,
 * a line past 8 KiB, a patch number twice, a %patch of a number no PatchN line gives, more
 * than 4096 patches, no %prep.
 */
int fedora_spec_parse(const char *text, size_t len, struct fedora_spec *out, char *why, size_t whysize);
void fedora_spec_free(struct fedora_spec *s);
/*
 * IN with the spec's literal macros (%name, %{name}, %{?name}; Name: as %{name}) expanded into
 * OUT. -ENOENT when a macro is unknown or not data (OUT then holds IN with each such macro
 * replaced by '*', a pattern fedora_spec_resolve matches files with); -ENAMETOOLONG.
 */
int fedora_spec_expand(const struct fedora_spec *s, const char *in, char *out, size_t size);
/*
 * The file of the SRPM (FILES, N of them: plain names) that NAME (as the spec writes it)
 * names: its expansion, or the one file its pattern matches. -ENOENT (none), -EEXIST (more
 * than one), -EINVAL (a name that is no plain file name), each with WHY.
 */
int fedora_spec_resolve(const struct fedora_spec *s, const char *name, char *const *files, size_t n,
			const char **file, char *why, size_t whysize);
/* Is NAME a plain file name (no '/', not "." or "..", no leading '-', printable, < 256)? */
bool fedora_plain_name(const char *name);
/* The number of lines of TEXT as wc -l counts them (newlines). */
size_t fedora_count_lines(const char *text, size_t len);

/* ---- srpm.c: the source package, read with libarchive ---- */

/*
 * Writes the files of the SRPM at PATH (rpm's lead and header, then a cpio payload in any
 * compression libarchive reads) into DIR (which exists), each a plain file name; their names
 * into a malloc'd *NAMES (*N of them, free with fedora_names_free). -EBADMSG with WHY naming
 * PATH for a file that is no rpm or a damaged one (truncated, a bad checksum in its
 * compression), -EINVAL for an entry that is not a regular file of a plain name (a folder, a
 * link, "../x"), -EFBIG past 64 GiB.
 */
int fedora_srpm_extract(const char *path, const char *dir, char ***names, size_t *n, char *why, size_t whysize);
void fedora_names_free(char **names, size_t n);

/* ---- source.c: the step hooks (they use the SDK) ---- */

#include <kforge/plugin.h>

int fedora_locate_source(struct kforge_job *job);
int fedora_derive_version(struct kforge_job *job);
/* [plugin.fedora]: srpm, srpm_url, source, ark_url, prep, build_user */
extern const struct kforge_setting fedora_settings[];
int fedora_check_setting(const char *key, const char *value, char *why, size_t whysize);
