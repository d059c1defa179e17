/* commands.c: the SDK's runner for a job: commands, notes and the log, through the job's kf_runner. */
#include "config.h"

#include <errno.h>
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
