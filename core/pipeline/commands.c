/* commands.c: the SDK's runner for a job: commands, notes and the log, through the job's kf_runner. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <time.h>

#include "pipeline/job.h"

int kforge_run_status(struct kforge_job *job, const char *cwd, const char *const argv[], int *status)
{
	return kf_runner_run(&job->runner, cwd, argv, NULL, status);
}

int kforge_run(struct kforge_job *job, const char *cwd, const char *const argv[])
{
	int status;
	int r = kf_runner_run(&job->runner, cwd, argv, NULL, &status);
	return r < 0 ? r : status;
}

int kforge_run_capture(struct kforge_job *job, const char *cwd, const char *const argv[], char **out)
{
	struct kf_strbuf b = { 0 };
	int status;
	int r = kf_runner_run(&job->runner, cwd, argv, &b, &status);
	*out = kf_strbuf_steal(&b);
	if (!*out)
		*out = strdup("");
	return r < 0 ? r : !*out ? -ENOMEM : status;
}

int kforge_runl(struct kforge_job *job, const char *cwd, const char *arg0, ...)
{
	const char *argv[64];
	size_t n = 0;
	va_list ap;
	va_start(ap, arg0);
	for (const char *a = arg0; a && n < ARRAY_SIZE(argv) - 1; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return kforge_run(job, cwd, argv);
}

int kforge_run_sandboxed(struct kforge_job *job, const char *cwd, const char *const argv[],
			 const struct kforge_sandbox *opts, char **out)
{
	static const struct kforge_sandbox none;
	const struct kforge_sandbox *o = opts ? opts : &none;
	const char *user = o->user && o->user[0] ? o->user : "nobody";
	const char *setting = o->user_setting ? o->user_setting : "the build user setting";
	if (out)
		*out = NULL;
	struct passwd *pw = getpwnam(user);
	if (!pw)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "the build user %s does not exist: set %s to an unprivileged user, or create it", user,
				       setting);
	if (pw->pw_uid == 0)
		return kforge_job_fail(job, KFORGE_EXIT_USAGE,
				       "%s %s is root: a recipe's code never runs as root; name an unprivileged user",
				       setting, user);
	_cleanup_free_ char *bwrap = o->no_bwrap ? NULL : kforge_find_program("bwrap");
	struct kf_sandbox_host host = {
		.as_root = geteuid() == 0,
		.bwrap = bwrap != NULL,
		.uid = (unsigned int)pw->pw_uid,
		.gid = (unsigned int)pw->pw_gid,
		.path = getenv("PATH"),
	};
	/* the build user owns what it writes; nothing of root's is writable for it */
	if (host.as_root)
		for (size_t i = 0; o->writable && o->writable[i]; i++) {
			char owner[64];
			snprintf(owner, sizeof(owner), "%u:%u", host.uid, host.gid);
			if (kforge_runl(job, NULL, "chown", "-R", owner, "--", o->writable[i], NULL) != 0)
				return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
						       "cannot hand %s to the build user %s (chown: see the log)",
						       o->writable[i], user);
		}
	struct kf_strv full = { 0 };
	int r = kf_sandbox_argv(o, &host, cwd, argv, &full);
	if (r < 0)
		return r;
	r = out ? kforge_run_capture(job, cwd, (const char *const *)full.v, out)
		: kforge_run(job, cwd, (const char *const *)full.v);
	kf_strv_free(&full);
	return r;
}

void kforge_plan_note(struct kforge_job *job, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	kf_runner_notev(&job->runner, format, ap);
	va_end(ap);
}

int kforge_job_open_log(struct kforge_job *job, const char *command)
{
	if (job->plan || job->runner.log)
		return 0;
	char stamp[32];
	time_t now = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	const char *spec = job->module_spec ? job->module_spec : "";
	const char *leaf = strrchr(spec, '/');
	leaf = leaf && leaf[1] ? leaf + 1 : spec;
	_cleanup_free_ char *name = kf_strdup_printf("%s-%s%s%s-%s-%d.log", stamp, command, leaf[0] ? "-" : "", leaf,
						     job->kernel.release, (int)getpid());
	if (!name)
		return -ENOMEM;
	int r = kf_runner_open_log(&job->runner, name);
	if (r < 0)
		return r;
	kf_log_to_file(job, "# kforge %s %s for %s (root %s)\n", command, spec, job->kernel.release,
		       kforge_ctx_root(job->ctx));
	return 0;
}

const char *kforge_job_log_path(const struct kforge_job *job)
{
	return job->runner.log_path;
}
