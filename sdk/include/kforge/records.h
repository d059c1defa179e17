/*
 * kforge/records.h: what kforge installed, checking it, undoing it, and carrying it to new
 * kernels; part of the front-end API (<kforge/frontend.h> includes it), not for plugins.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_ctx;
struct kforge_job;

/* A file an install replaced or moved aside, and the copy kept of it. */
struct kforge_replaced {
	char *path;   /* where it was (as the target sees it) */
	char *sha256; /* its content */
	char *backup; /* the copy under /var/lib/kforge/backups */
};

/*
 * One installed module, as recorded in /var/lib/kforge/records/KVER/NAME.conf (under the
 * root, or under --install-mod-path). Paths are as the target sees them. Read only.
 */
struct kforge_record {
	char *module, *kernel;
	char *spec, *kind;	/* what was asked: "btrfs" (name), "fs/btrfs" (intree-dir), a path (external) */
	char *source, *strategy, *plugin, *install_dir, *time;
	char *path, *sha256;	/* the installed file and its content */
	char **changes;		/* --set CONFIG_X=VAL, NULL-terminated */
	char **extra_symbols;	/* --extra-symbols files, NULL-terminated */
	bool strategy_forced, install_dir_forced;
	struct kforge_replaced *replaced;
	size_t n_replaced;
	/* a DKMS package's module (kind "dkms", spec its folder): "NAME/VER", and the
	 * DEST_MODULE_LOCATION its dkms.conf asked for ("/kernel/drivers/md"); NULL otherwise */
	char *package, *dest_location;
	/* since 0.3, a DKMS package's module: each BUILD_DEPENDS package it was built against, as
	 * "NAME/VER SHA256[,SHA256...]" (its installed modules' contents); NULL-terminated, or NULL */
	char **depends;
};

enum kforge_record_state {
	KFORGE_RECORD_OK = 0,	  /* the file is there, as installed, and depmod resolves the name to it */
	KFORGE_RECORD_MODIFIED,	  /* the file changed since kforge installed it */
	KFORGE_RECORD_MISSING,	  /* the file is gone */
	KFORGE_RECORD_SUPERSEDED, /* intact, but another file of the same name is the one that loads */
};
const char *kforge_record_state_name(enum kforge_record_state s);

/*
 * Every record of the job's root (or its --install-mod-path), of KERNEL only unless it is
 * NULL, sorted by kernel and module. Takes the lock for a moment and finishes or rolls
 * back what an interrupted run left first. The array and records are freed with
 * kforge_records_free().
 */
int kforge_records_list(struct kforge_job *job, const char *kernel, struct kforge_record ***out, size_t *n);
void kforge_records_free(struct kforge_record **list, size_t n);
/* The record's state, checked against the files and modules.dep. */
enum kforge_record_state kforge_record_check(struct kforge_job *job, const struct kforge_record *rec);
/*
 * Since 0.2: the symbolic links in any kernel's weak-updates/ (RHEL's weak-modules links a module
 * into the other kernels whose symbols agree) that lead to the record's file, as the target sees
 * them: a NULL-terminated array (empty when none), each string and the array freed with free();
 * NULL on error. kforge makes no such link itself; kforge_job_uninstall() removes those left
 * pointing at nothing.
 */
char **kforge_record_weak_links(struct kforge_job *job, const struct kforge_record *rec);
/* What the last kforge_records_list() repaired (an interrupted run), or NULL. */
const char *kforge_job_repaired(const struct kforge_job *job);

/*
 * Removes the module NAME that kforge installed for the job's kernel and puts back, byte
 * for byte, what the install replaced; then depmod and, where the module was in the
 * initramfs, a refresh. A file changed since the install is left alone unless FORCE. Links in
 * other kernels' weak-updates/ that led to the removed file (and now lead nowhere) are removed,
 * with depmod for those kernels.
 */
int kforge_job_uninstall(struct kforge_job *job, const char *name, bool force);

/*
 * Since 0.2: before a kernel is removed (its package's hooks call `kforge uninstall --all`), keeps
 * a copy of each of its records that no other kernel's record repeats (the same module folder or
 * name with the same options) in /var/lib/kforge/retired/, so that kforge_autoinstall() still
 * rebuilds those modules for the next kernel; autoinstall deletes a kept copy once its module is
 * recorded again. Returns how many were kept, or a negative errno (the job failed).
 */
int kforge_job_retire(struct kforge_job *job);
/* Since 0.2: the records kforge_job_retire() kept, as kforge_records_list() lists records. */
int kforge_records_retired(struct kforge_job *job, struct kforge_record ***out, size_t *n);

/*
 * Rebuilds, for the job's kernel, every module kforge installed for any kernel (the newest
 * record of each module folder or name with its options), each in its own job built from
 * BASE (install_mod_path, jobs). What cannot apply there (an option the kernel lacks, a module
 * built into it, a folder that is gone, autoinstall.exclude) is skipped with a one-line reason;
 * a failed build is reported with its log and counted in *FAILED. Without a build dir for the
 * kernel (headers not installed yet) nothing is done. Returns 0 or a negative errno.
 */
struct kforge_job_options;
int kforge_autoinstall(struct kforge_job *job, const struct kforge_job_options *base, int *failed);

/*
 * Creates a module signing key pair in DIR (NULL: /var/lib/kforge/mok, where kforge looks
 * first): MOK.priv and MOK.der, with openssl. Never overwrites a key. The paths (as the
 * target sees them) come back malloc'd.
 */
int kforge_job_keygen(struct kforge_job *job, const char *dir, char **key, char **cert);

#ifdef __cplusplus
}
#endif
