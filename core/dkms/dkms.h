/* dkms/dkms.h: a DKMS package's dkms.conf, read as DKMS 3.4 reads it (conf.c), and what it chooses for a kernel. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

struct kforge_job;

/*
 * A bash array as the conf left it. v[i] is NULL where index i is unset (a hole); len is the
 * highest index + 1, count the number of elements set (bash's ${#A[@]}). A scalar is element 0.
 */
struct kf_dkms_array {
	char **v;
	size_t len;
	size_t count;
};
/* Element I, or NULL when it is unset (past the end, or a hole). */
const char *kf_dkms_array_get(const struct kf_dkms_array *a, size_t i);

/* One record of the module list, with DKMS's defaults applied (dkms.in:701-775). */
struct kf_dkms_module {
	char *built_name;     /* without .ko */
	char *built_location; /* "" (the build folder's top) or "sub/dir/" (a '/' appended as DKMS does) */
	char *dest_name;      /* defaults to built_name */
	char *dest_location;  /* as written ("/updates/dkms"); DKMS overrides it per distribution */
	bool strip;	      /* STRIP[i]: only "n..." means no; empty takes STRIP[0]'s, default yes */
};

/*
 * What a dkms.conf set. Hook scripts are element 0 (DKMS reads them as scalars). The
 * BUILD_EXCLUSIVE_* arrays are kept as bash has them: element 0 is also the global rule, since
 * $X is ${X[0]} in bash (the note's §4.2 trap): kf_dkms_module_excluded() applies it to every module.
 */
struct kf_dkms_conf {
	char *path;
	char *package_name, *package_version;
	struct kf_dkms_array make, make_match;
	char *clean; /* read for the record; DKMS 3.1.8 and later never run it */
	struct kf_dkms_module *modules;
	size_t n_modules;
	struct kf_dkms_array patch, patch_match;
	char *pre_build, *post_build, *pre_install, *post_install, *post_add, *post_remove;
	struct kf_dkms_array excl_kernel, excl_arch, excl_config, excl_kernel_min, excl_kernel_max;
	struct kf_dkms_array build_depends;
	bool build_depends_rebuild, autoinstall, no_weak_modules; /* "yes" in any case; "no" or unset: false */
	char *remake_initrd; /* deprecated: DKMS 3.x ignores it */
	char *obsolete_by;   /* deprecated: already folded into excl_kernel_max[0] as DKMS does */
};
void kf_dkms_conf_free(struct kf_dkms_conf *c);

/* The variables a dkms.conf sees (DKMS's shell variables, note §1.2), and how its child runs. */
struct kf_dkms_vars {
	const char *kernelver;	       /* the target release */
	const char *arch;	       /* uname -m's form: x86_64 (DKMS's $arch, not Debian's amd64) */
	const char *kernel_source_dir; /* host path of the target's build dir */
	const char *kernel_config;     /* NULL: include/config/auto.conf there if present, else .config */
	const char *dkms_tree;	       /* the folder holding NAME/VER/build (kforge's work folder) */
	const char *source_tree;       /* NULL: /usr/src */
	const char *install_tree;      /* NULL: /lib/modules */
	const char *module, *module_version; /* DKMS's -m/-v; NULL or "" on a first read from a path */
	const char *installed_modules_dir;   /* NULL: INSTALL_TREE/KVER/updates */
	const char *user;		     /* the build user (NULL or "": [build] user) */
	const char *user_setting;	     /* what sets it, for messages */
	bool no_bwrap;			     /* never bubblewrap (tests) */
};

/*
 * Evaluates CONF_PATH with bash as DKMS does (source it in a subshell, print NAME[i]="value",
 * source that again), in a child run by kforge_run_sandboxed (the build user, no network), and
 * fills OUT from what it set, with DKMS's defaults and checks. Returns 0; -EAGAIN in plan mode
 * (noted, nothing run); else fails the job (a message naming the file, the variable and the fix)
 * and returns its negative errno (-ECANCELED, -EINVAL for a conf DKMS refuses too).
 */
int kf_dkms_conf_read(struct kforge_job *job, const char *conf_path, const struct kf_dkms_vars *vars,
		      struct kf_dkms_conf *out);

/*
 * Parses the child's output (conf.c's driver: "NAME INDEX BYTES\nVALUE\n" records) into OUT and
 * checks it as DKMS's read_conf does. 0, -ENOMEM, or -EINVAL with the reason in WHY (the
 * first error; all errors, one a line, when WHY is large enough). Pure: used by the reader and the unit tests.
 */
int kf_dkms_conf_parse(const char *path, const char *text, size_t len, struct kf_dkms_conf *out, char *why,
		       size_t why_size);

/* The bash script that evaluates a dkms.conf in the sandboxed child (conf.c tells how). */
extern const char kf_dkms_driver[];

/* ---- choices for one kernel (pure) ---- */

/*
 * The make command for KERNELVER, as written in the conf (dkms.in:788-797): the last MAKE[i]
 * below ${#MAKE[@]} whose MAKE_MATCH[i] matches (unanchored ERE), MAKE[0] when MAKE_MATCH[0] is
 * unset, else NULL: kf_dkms_make_command() then uses DKMS's default.
 */
const char *kf_dkms_make_select(const struct kf_dkms_conf *c, const char *kernelver);

/*
 * The command DKMS runs (bash -c, in the build copy): the selected MAKE or the default
 * "make -C KERNEL_SOURCE_DIR M=BUILD_DIR", then a leading literal "make" rewritten to
 * "make -jJOBS KERNELRELEASE=KERNELVER" (JOBS 0: "-j", as DKMS's -j0; below 0: no -j, a jobserver's
 * MAKEFLAGS decides). Malloc'd, NULL: -ENOMEM.
 */
char *kf_dkms_make_command(const struct kf_dkms_conf *c, const char *kernelver, const char *kernel_source_dir,
			   const char *build_dir, int jobs);

/* PATCH[i] (i below ${#PATCH[@]}) whose PATCH_MATCH[i] is unset or matches KERNELVER, in order. */
int kf_dkms_patches(const struct kf_dkms_conf *c, const char *kernelver, struct kf_strv *out);

/* DKMS's VER(): digit runs padded to 3 digits ("6.1.0-56-amd64" -> "006.001.000-056-amd064"). Malloc'd. */
char *kf_dkms_ver(const char *version);
/* A < B, == or > as DKMS orders kernel versions (VER() compared bytewise): <0, 0, >0. */
int kf_dkms_version_cmp(const char *a, const char *b);

/*
 * Is module I excluded on KERNELVER/ARCH with the kernel config CONFIG_TEXT (NULL: no config,
 * the CONFIG rules are skipped as DKMS skips them)? Element 0 of each BUILD_EXCLUSIVE_* array is
 * checked for every module, then element I (dkms.in:833-882). When excluded, *WHY (may be NULL)
 * names the rule, e.g. "BUILD_EXCLUSIVE_CONFIG[1]: CONFIG_VIDEO_DEV is not y or m"; malloc'd.
 */
bool kf_dkms_module_excluded(const struct kf_dkms_conf *c, size_t i, const char *kernelver, const char *arch,
			     const char *config_text, char **why);
/*
 * Is the whole package skipped (DKMS's exit 77): every module excluded, and some BUILD_EXCLUSIVE
 * directive present. *WHY (may be NULL) is the first module's reason.
 */
bool kf_dkms_package_excluded(const struct kf_dkms_conf *c, const char *kernelver, const char *arch,
			      const char *config_text, char **why);

/* ---- DKMS's tree (tree.c), read as data: never a dkms.conf sourced, never a link out of it followed ---- */

#include <kforge/dkms.h>

/* Where DKMS keeps its tree (dkms_tree in framework.conf, /var/lib/dkms by default), inside the root. */
#define KF_DKMS_TREE "/var/lib/dkms"

/* Could DKMS have made NAME (a package, version, kernel or arch, or a module file's name)? [A-Za-z0-9._+~-], not led by . or -. */
bool kf_dkms_good_name(const char *name);

/*
 * Reads ROOT's DKMS tree (ROOT a host path; "/" for the system), of KERNEL only unless it is NULL,
 * into *OUT (kforge_dkms_tree_free). What kforge_dkms_list() (kforge/dkms.h) does, without a job.
 */
int kf_dkms_tree_read(const char *root, const char *kernel, struct kforge_dkms_tree **out);
