/* kforge/runner.h: the one way kforge runs a command: argv arrays, output to the job's log. */
#pragma once

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_job;

/*
 * Runs ARGV (NULL-terminated; argv[0] looked up on PATH) in CWD (NULL: the current
 * directory). Its output goes to the job's log. In plan mode the command is recorded
 * for the plan and not run. Returns 0 when the command exited 0 (or was planned), its
 * exit status (1..255) otherwise, 128+N when killed by signal N, or a negative errno
 * when it could not be started.
 */
int kforge_run(struct kforge_job *job, const char *cwd, const char *const argv[]);

/*
 * The same, with what went wrong kept apart from how the command ended: returns 0 when the
 * command ran (or was planned), with its exit status in *STATUS (0..255, 128+N when signal N
 * ended it), or a negative errno when it could not be started (*STATUS 0). Since ABI 1.1.
 */
int kforge_run_status(struct kforge_job *job, const char *cwd, const char *const argv[], int *status);

/*
 * Like kforge_run, and hands back what the command printed on stdout (malloc'd, NUL-
 * terminated) in *out. Commands whose output a step needs to decide (lsinitramfs) use
 * this; in plan mode it records the command and *out is "".
 */
int kforge_run_capture(struct kforge_job *job, const char *cwd, const char *const argv[], char **out);

/*
 * The host path of command NAME as the runner would find it (argv[0] looked up on kforge's
 * PATH; a NAME with a '/' is taken as it is), malloc'd; NULL when there is none (not found,
 * not executable). "Is bwrap installed?": kforge_find_program("bwrap"). Since LIBKFORGE_0.2.
 */
char *kforge_find_program(const char *name);

/*
 * How kforge_run_sandboxed runs a command of a recipe's (a PKGBUILD, a spec's %prep, a module's
 * Makefile): every field may be left zero. Since LIBKFORGE_0.2.
 */
struct kforge_sandbox {
	/*
	 * the build user. NULL or "": kforge.conf's [build] user (default kforge-build), which kforge,
	 * as root, creates on first use (useradd --system, no home, no login shell). A user named here
	 * that does not exist, or root, is refused; so is [build] user set to root. Not root, kforge
	 * cannot change users: the command runs as whoever ran kforge (never root then).
	 */
	const char *user;
	/* what sets USER, for those messages: "[plugin.arch] build_user" (NULL: "the build user setting") */
	const char *user_setting;
	/*
	 * Host folders the command reads that bubblewrap's own /tmp would hide (a folder under /tmp),
	 * bound read-only at the same path; NULL-terminated, or NULL. The rest of / is read-only.
	 */
	const char *const *readable;
	/*
	 * Host folders the command writes, NULL-terminated (or NULL; at most 16): bound writable at
	 * the same path; when kforge runs as root, handed to the build user first (chown -R) and back
	 * to their owner after the command, so that nothing root reads or writes there next can be
	 * swapped under it. Nothing else is writable but the sandbox's own /tmp (bubblewrap) or what
	 * the build user may write anyway. A folder above one of these or of READABLE that the build
	 * user cannot pass through (a private 0700 one) fails the job first, naming it.
	 */
	const char *const *writable;
	/* HOME in the command's environment (NULL: /tmp) */
	const char *home;
	/* "NAME=VALUE" entries added to the environment, NULL-terminated (or NULL) */
	const char *const *env;
	/* seconds before the command is killed (timeout -s KILL); 0: no limit */
	unsigned int timeout;
	/* keep the network (dnf download): the build user's rights only, no network namespace */
	bool network;
	/* never bubblewrap, even where it is installed (a command that writes the system's own state, a test) */
	bool no_bwrap;
};

/*
 * Runs ARGV (NULL-terminated) in CWD (a host path; NULL: the current directory) as the build
 user, without network, as kforge runs every recipe's code: never as root. The environment is
 * cleared but for PATH (kforge's), HOME, LC_ALL=C, PWD (CWD) and OPTS->env. [build] sandbox
 * decides the rest: auto (the default) uses bubblewrap where installed, bwrap requires it (the
 * job fails naming the setting when it is missing), none uses neither bubblewrap nor a network
 * namespace (the build user only). With bubblewrap (and not OPTS->no_bwrap): bwrap
 * --unshare-all, / read-only, its own /tmp, /dev and /proc, the OPTS folders bound, CWD the
 * working directory; kforge as root drops to the user first (setpriv --reuid --regid
 * --clear-groups --no-new-privs). Without: unshare --net (a user namespace of its own when not
 * root; not with none), then the same setpriv, then env -i. OPTS NULL: all zero.
 *
 * OUT NULL: its stdout goes to the log; else it is handed back in *OUT (malloc'd) as
 * kforge_run_capture does. In plan mode the whole command line is recorded, not run. Returns
 * what kforge_run returns (0, the exit status, or a negative errno when it could not start),
 * or -ECANCELED when the job failed before anything ran (the build user missing or root, the
 * writable folders not handed over), the message naming the cause and OPTS->user_setting.
 */
int kforge_run_sandboxed(struct kforge_job *job, const char *cwd, const char *const argv[],
			 const struct kforge_sandbox *opts, char **out);

/* The same with the arguments listed: kforge_runl(job, cwd, "make", "-C", dir, NULL). */
int kforge_runl(struct kforge_job *job, const char *cwd, const char *arg0, ...)
	__attribute__((sentinel));

/* Records a step's note in the plan and the log ("would unpack X into Y"). */
void kforge_plan_note(struct kforge_job *job, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* The log file of this job (host path), or NULL before the front end opened one, or in plan mode. */
const char *kforge_job_log_path(const struct kforge_job *job);

#ifdef __cplusplus
}
#endif
