/* state-private.h: what kforge keeps under a root: the lock, the journal, records and backups. */
#pragma once

#include "pipeline/job.h"

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
	struct kforge_job *job; /* the runner and the log for depmod, messages */
	char *base;		/* host path everything lives under, without a trailing slash ("" for /) */
	char *dir;		/* host path of BASE/var/lib/kforge */
	int lock_fd;
	char *repaired; /* what kf_state_open() finished or rolled back, for status; NULL when nothing */
	struct kf_strv owed; /* kernels whose initramfs a killed or failed run did not refresh */
};

/*
 * Opens the state for JOB (its root or --install-mod-path), takes the lock (waiting and
 * saying so, or failing at once when the job has no_wait), and finishes or rolls back a
 * transaction a killed run left behind. Fails the job with a message on error. Without
 * CREATE, a root where kforge never installed anything is left untouched (and unlocked).
 */
int kf_state_open(struct kforge_job *job, bool create, struct kf_state **out);
void kf_state_close(struct kf_state *st);
/* The folder the state lives under for JOB (the root or --install-mod-path), without a trailing
 * slash ("" for /); malloc'd. */
char *kf_state_base(const struct kforge_job *job);
/* A path as the target sees it ("/lib/modules/...") to a host path, and back. */
char *kf_state_host(const struct kf_state *st, const char *path);
const char *kf_state_path(const struct kf_state *st, const char *host_path);

/* The hex SHA-256 of a file (65 bytes with the NUL); 0 or a negative errno. */
int kf_sha256_file(const char *path, char out[65]);
/* Copies SRC to DST (created with MODE, replaced if there), then fsyncs it. */
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
/* Runs depmod for KERNEL in the state's base (depmod -b when it is not /). */
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
