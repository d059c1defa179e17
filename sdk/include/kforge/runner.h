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
