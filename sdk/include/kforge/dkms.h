/*
 * kforge/dkms.h: what DKMS manages beside kforge, read from its tree (/var/lib/dkms) as data, and
 * `kforge dkms import`, which adopts it; part of the front-end API (<kforge/frontend.h> includes
 * it), not for plugins. Since LIBKFORGE_0.2.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_job;

/* A package's state for one kernel, as `dkms status` names it. */
enum kforge_dkms_state {
	KFORGE_DKMS_ADDED = 0,	/* added, built for no kernel */
	KFORGE_DKMS_BUILT,	/* NAME/VER/KVER/ARCH/module exists */
	KFORGE_DKMS_INSTALLED,	/* and NAME/kernel-KVER-ARCH leads to it */
	KFORGE_DKMS_BROKEN,	/* its source link dangles or leads outside /usr/src: DKMS refuses it too */
};
const char *kforge_dkms_state_name(enum kforge_dkms_state s);

/* A module file DKMS built, and where it installed it. */
struct kforge_dkms_module {
	char *name;	 /* the module's name: its file name without .ko[.xz|.zst|.gz] */
	char *built;	 /* host path of NAME/VER/KVER/ARCH/module/FILE */
	char *installed; /* as the target sees it (/lib/modules/KVER/updates/dkms/FILE), NULL when not found */
};

/* One NAME/VER for one KVER/ARCH (kernel and arch NULL for a package built for no kernel). */
struct kforge_dkms_entry {
	char *name, *version, *kernel, *arch;
	enum kforge_dkms_state state;
	bool installed;	  /* the kernel-KVER-ARCH link leads here (also when the package is broken) */
	char *source;	  /* what NAME/VER/source names (/usr/src/NAME-VER), NULL when it is no link */
	char *source_dir; /* its host path, checked to be a folder under ROOT/usr/src; NULL when broken */
	char *problem;	  /* why it is broken, or a note (an installed file not found), or NULL */
	struct kforge_dkms_module *modules;
	size_t n_modules;
};

/* DKMS's tree as read: its entries sorted by name, version, kernel, arch, and what was skipped. */
struct kforge_dkms_tree {
	char *path;			  /* the tree as the target sees it: /var/lib/dkms */
	bool found;			  /* false when there is no tree (DKMS never ran) */
	struct kforge_dkms_entry *entries;
	size_t n;
	char **problems; /* what was skipped and why ("…/kernel-X: leads out of the tree"), NULL-terminated */
};

/*
 * Reads DKMS's tree under the job's root: every NAME/VER and, per KVER/ARCH, its state and
 * module files, of KERNEL only unless it is NULL. Nothing is run and no dkms.conf is read (`dkms
 * status` sources every one as root): the tree is data, read without following a link out of it;
 * names that DKMS could not have made, links that lead out of the tree or of /usr/src and
 * oversized entries are skipped and said in problems. 0 or a negative errno (-ENOMEM).
 */
int kforge_dkms_list(struct kforge_job *job, const char *kernel, struct kforge_dkms_tree **out);
void kforge_dkms_tree_free(struct kforge_dkms_tree *tree);

/*
 * Warns, for every module NAMES lists (NULL-terminated; NULL: every module kforge recorded for
 * the job's kernel), when DKMS has a module of that name installed for the job's kernel too:
 * names the package and how to remove it or import it. Returns how many it warned about.
 */
int kforge_dkms_warn_same_name(struct kforge_job *job, const char *const *names);

/* How one package fared on one kernel in an import. */
enum kforge_dkms_outcome {
	KFORGE_DKMS_IMPORTED = 0,
	KFORGE_DKMS_FAILED,
	KFORGE_DKMS_SKIPPED,
	KFORGE_DKMS_PLANNED, /* dry run */
};
const char *kforge_dkms_outcome_name(enum kforge_dkms_outcome o);

struct kforge_dkms_result {
	char *name, *version, *kernel; /* kernel NULL: the package as a whole (its removal from DKMS) */
	enum kforge_dkms_outcome outcome;
	char *detail; /* what was installed, or why it failed or was skipped */
};

struct kforge_job_options;
struct kforge_dkms_import_options {
	const char *const *packages; /* NAME or NAME/VER, NULL-terminated; NULL: every installed package */
	const char *kernel;	     /* only this kernel (NULL: every kernel each package was installed for) */
	bool remove;		     /* then `dkms remove NAME/VER --all` for each package imported for all its kernels */
	bool dry_run;		     /* say what would be done, do nothing */
};

/*
 * `kforge dkms import`: for each package DKMS lists as installed (or those named), for each kernel
 * it was installed for, builds and installs its source folder (/usr/src/NAME-VER, checked to lie
 * under the root's /usr/src) in a job made from BASE as `kforge -k KVER install /usr/src/NAME-VER`
 * would, then checks that kforge's record of each module DKMS built is there and intact. With
 * REMOVE, a package imported for every kernel is removed from DKMS with its own command. Progress
 * goes to the log; the results come back in *RESULTS (freed with kforge_dkms_results_free), with
 * *FAILED the number of failures. 0, or a negative errno when the tree could not be read.
 */
int kforge_dkms_import(struct kforge_job *job, const struct kforge_job_options *base,
		       const struct kforge_dkms_import_options *opts, struct kforge_dkms_result **results, size_t *n,
		       int *failed);
void kforge_dkms_results_free(struct kforge_dkms_result *results, size_t n);

#ifdef __cplusplus
}
#endif
