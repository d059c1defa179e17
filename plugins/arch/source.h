/* source.h: the arch plugin's step hooks (source.c), which use the SDK and the fetcher. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "arch.h"

struct kforge_job;

/* The tree's own files kforge adds: the stamp written last (the tree is complete), the config. */
#define ARCH_TREE_STAMP ".kforge-arch-tree"
#define ARCH_TREE_CONFIG ".kforge-arch-config"

/* Arch's packaging repositories, %s the pkgbase: [plugin.arch] packaging_url's default. */
#define ARCH_DEFAULT_URL "https://gitlab.archlinux.org/archlinux/packaging/packages/%s.git"

/* What the plugin knows of the target's package. */
struct arch_pkg {
	bool has_pkgbase;	/* MODULES_DIR/pkgbase names it */
	bool manjaro;		/* Manjaro's GitLab, for a -MANJARO kernel */
	char pkgbase[128];	/* "linux" */
	struct arch_pkgver ver; /* from pacman's database */
	char version[192];	/* "6.6.1.arch1-1" */
	char tag[192];		/* its packaging tag */
	char ref[256];		/* what is fetched: "tag=6.6.1.arch1-1", or [plugin.arch] packaging_ref */
	char *url;		/* the packaging repository */
	char carch[32];		/* makepkg's CARCH for the target: "x86_64" */
};
/* Fills PKG; negative with WHY when the package cannot be known (PKG->has_pkgbase tells how far it got). */
int arch_package(struct kforge_job *job, struct arch_pkg *pkg, char *why, size_t whysize);
void arch_pkg_free(struct arch_pkg *pkg);

/* How a PKGBUILD is evaluated. */
struct arch_eval {
	const char *user;  /* the build user ([plugin.arch] build_user) */
	bool no_bwrap;	   /* never bubblewrap (a test of the other path): kforge_sandbox's no_bwrap */
	const char *carch; /* "x86_64" */
};
/*
 * Evaluates PKGBUILD (its text) with the driver (sandbox.c) through kforge_run_sandboxed; *OUT gets what it
 * set, in .SRCINFO's form. Fails the job with the reason; -EAGAIN in plan mode (noted, not run).
 */
int arch_pkgbuild_eval(struct kforge_job *job, const struct arch_eval *ev, const char *pkgbuild, size_t len,
		       char **out);

/* The hooks. */
int arch_setup(struct kforge_job *job);
int arch_locate_source(struct kforge_job *job);
int arch_derive_version(struct kforge_job *job);
int arch_configure(struct kforge_job *job);
