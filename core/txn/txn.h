/* txn/txn.h: what kforge keeps under a root: the lock, the journal, records and backups; the transactions. */
#pragma once

#include "kernel/kernel.h"

/*
 * The state lives in BASE/var/lib/kforge, where BASE is the root, or the --install-mod-path
 * folder (kbuild's INSTALL_MOD_PATH) so that a scratch install keeps its own records:
 *   lock                   flock(2) held by the kforge run that changes anything
 *   transaction            the journal of the install or uninstall in progress
 *   records/KVER/NAME.conf one record per installed module (INI)
 *   backups/KVER/SHA-LEAF  what an install replaced, by content
 * Paths inside the state and the records are as the target sees them ("/lib/modules/...");
 * kf_state_host() turns one into a host path.
 */
struct kf_state {
	struct kforge_ctx *ctx; /* messages; not owned */
	char *base;		/* host path everything lives under, without a trailing slash ("" for /) */
	char *dir;		/* host path of BASE/var/lib/kforge */
	int lock_fd;
	bool no_wait;
	char *repaired; /* what kf_state_open() finished or rolled back, for status; NULL when nothing */
	struct kf_strv owed; /* kernels whose initramfs a killed or failed run did not refresh */
	kf_depmod_fn depmod;
	void *depmod_data;
	/* the last failure: its message (cause and fix), and whether it rolled a transaction back */
	char error[1024];
	bool rolled_back;
};

struct kf_state_options {
	struct kforge_ctx *ctx;
	const char *base;  /* the root, or --install-mod-path */
	bool no_wait;	   /* fail at once when another run holds the lock */
	kf_depmod_fn depmod; /* runs depmod after a commit and in recovery; NULL: nothing to index */
	void *depmod_data;
};

/*
 * Opens the state under O->base, takes the lock (waiting and saying so, or failing at once with
 * no_wait), and finishes or rolls back a transaction a killed run left behind. Without CREATE,
 * a base where kforge never installed anything is left untouched (and unlocked). *OUT is set
 * even on failure (its error says why), and always closed with kf_state_close().
 */
int kf_state_open(const struct kf_state_options *o, bool create, struct kf_state **out);
void kf_state_close(struct kf_state *st);
/* Keeps the message of a failure in ST->error; returns ERR (a negative errno). ROLLED_BACK: the
 * failure undid a transaction (nothing was changed), which the command reports with its own exit code. */
int kf_state_fail(struct kf_state *st, int err, bool rolled_back, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A path as the target sees it ("/lib/modules/...") to a host path, and back. */
char *kf_state_host(const struct kf_state *st, const char *path);
const char *kf_state_path(const struct kf_state *st, const char *host_path);
/*
 * Is PATH, read back from a record or the journal, one kforge may write or delete? Absolute,
 * no "." or ".." component, no empty one, and under /lib/modules/, /usr/lib/modules/ or
 * /var/lib/kforge/: a damaged or forged file must not reach outside the install tree.
 */
bool kf_state_path_ok(const char *path);

/* The hex SHA-256 of a regular file (65 bytes with the NUL); 0 or a negative errno (-EINVAL: not a regular file). */
int kf_sha256_file(const char *path, char out[65]);
/* Copies the regular file SRC to DST (created with MODE, replaced if there), then fsyncs it. */
int kf_copy_file(const char *src, const char *dst, mode_t mode);
/* fsync of a folder, so that a rename in it is on disk. */
void kf_sync_dir(const char *dir);

/*
 * Test hook for the kill test: with KFORGE_TEST_KILL_AT=N in the environment, the Nth
 * checkpoint kills the process (SIGKILL); with KFORGE_TEST_CHECKPOINTS=1 each one is
 * named on stderr. Checkpoints sit between the steps of a transaction.
 */
void kf_checkpoint(const char *what);

/*
 * A transaction: files are written under temporary names, then one journal write (the
 * commit) makes them the truth. Before the commit a killed run is rolled back (the new
 * files deleted); after it, finished (renames and removals are redone, they are idempotent).
 * Every path is as the target sees it.
 */
struct kf_txn;
int kf_txn_begin(struct kf_state *st, const char *op, const char *kernel, const char *module, struct kf_txn **out);
/* FROM (a temporary file already in the destination folder) becomes TO at the commit. */
int kf_txn_rename(struct kf_txn *t, const char *from, const char *to);
/* PATH goes away at the commit (after the renames). */
int kf_txn_remove(struct kf_txn *t, const char *path);
/* PATH is a new file of this transaction: a rollback deletes it (listed before it is written). */
int kf_txn_created(struct kf_txn *t, const char *path);
/* Writes the journal with the entries so far (the rollback must know a file before it exists). */
int kf_txn_save(struct kf_txn *t);
/* The commit: journal phase "commit", then the renames and removals, then depmod. */
int kf_txn_commit(struct kf_txn *t);
/* Deletes what the transaction created, and the journal. */
void kf_txn_rollback(struct kf_txn *t);
void kf_txn_free(struct kf_txn *t);
/* Reads the journal at PATH as kf_state_open() does, nothing applied: 0, -EBADMSG, -EIO. */
int kf_journal_parse(const char *path);
/*
 * An initramfs refresh owed to KERNEL: written before a commit that changes its modules
 * (MODULES names them), removed once the refresh succeeded. kf_state_open() finds what a
 * killed run, or a failed generator, left, warns, and kf_state_refresh_owed() tells the next
 * install or uninstall for that kernel to refresh it whatever the image holds.
 */
int kf_state_refresh_pending(struct kf_state *st, const char *kernel, const char *modules);
void kf_state_refresh_done(struct kf_state *st, const char *kernel);
bool kf_state_refresh_owed(const struct kf_state *st, const char *kernel);
/* Runs the depmod callback for KERNEL; a failure's message names the command to run by hand. */
int kf_state_depmod(struct kf_state *st, const char *kernel);

/*
 * INI values for records and the journal, read back with inih: a value is %-escaped (no
 * whitespace, ';', '#', '%' or '+' left) and split into lines of at most 120 characters,
 * continuation lines starting with "  +", because inih reads at most 200 characters a line.
 */
void kf_ini_put(FILE *f, const char *key, const char *value);
/* In an inih handler: VALUE starts a new value (*SLOT replaced) or continues one ('+'). */
int kf_ini_take(char **slot, const char *value);
/* For repeated keys: a new value is pushed, a continuation ('+') extends the last one. */
int kf_ini_take_list(struct kf_strv *list, const char *value);
/* Writes a file under a temporary name beside PATH, fsyncs it, renames it over PATH. */
int kf_write_atomic(const char *path, const char *text);

/* --- install.c: the two transactions */

/* One module an install writes. */
struct kf_install_item {
	const char *built; /* host path of the built .ko */
	char *dest;	   /* host path it goes to, under the install base */
	char *name;	   /* its module name ("kforge_exporter") */
	struct kforge_record *rec; /* the new record (sha256 and replaced filled in by the install) */
	/* the install's own */
	char *tmp, *record, *record_tmp;
	struct kforge_record *old;
	struct kf_strv displaced, backup_src, backup_dst;
};

struct kf_install {
	const char *kernel;
	const char *label;	  /* what the journal calls the install ("btrfs", "hello") */
	const char *install_base; /* host path of lib/modules/KVER the modules go under */
	const struct kf_strv *search_order; /* depmod's: lower rank wins ("updates", "built-in", ...) */
	/* writes BUILT, as it is to be installed (stripped, signed, compressed), into TMP */
	int (*write)(void *data, const char *built, const char *tmp);
	void *data;
	bool owe_refresh; /* the initramfs of KERNEL owes a refresh from the commit until it is done */
};

/*
 * Installs ITEMS as one transaction: every file each displaces (its destination, and a module
 * of the same name that depmod would rank as high, kernel/ excepted) backed up by content, the
 * modules and their records written under temporary names, the journal's commit, the renames,
 * depmod. Rolled back on any failure before the commit. The items are freed by
 * kf_install_items_free().
 */
int kf_txn_install(struct kf_state *st, const struct kf_install *req, struct kf_install_item *items, size_t n);
void kf_install_items_free(struct kf_install_item *items, size_t n);

/*
 * Removes the module NAME that kforge installed for KERNEL and puts back, byte for byte, what the
 * install replaced (every backup checked first), as one transaction. A file changed since the
 * install is left alone unless FORCE. *INSTALLED: the host path the module had (for the
 * initramfs refresh), malloc'd.
 */
int kf_txn_uninstall(struct kf_state *st, const char *kernel, const char *name, bool force, bool owe_refresh,
		     char **installed);

/*
 * The file whose content is SHA256 is gone for good: its owner removed it (DKMS, after `kforge
 * dkms import --remove`). Every record of KERNEL that lists such a file among what its install
 * replaced forgets it, so that an uninstall does not put back a file nothing manages; each record
 * is rewritten atomically. Returns how many records changed, or a negative errno.
 */
int kf_state_forget_replaced(struct kf_state *st, const char *kernel, const char *sha256);
