/* commands.c: the SDK's runner for a job: commands, notes and the log, through the job's kf_runner. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
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

/*
 * useradd for [build] user, the first time a build needs it (kforge is root): a system user
 * with its own group, no home, no login shell. 0 with *PW set; -EAGAIN in plan mode (recorded).
 */
static int create_build_user(struct kforge_job *job, const char *user, struct passwd **pw)
{
	const char *const argv[] = { "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell",
				     "/usr/sbin/nologin", "--user-group", "--comment", "kforge build user", user, NULL };
	if (!job->plan)
		kf_notice(job->ctx, "creating the build user %s ([build] user): a system user without a home or a "
				    "login shell, that every build runs as",
			  user);
	int r = kforge_run(job, NULL, argv);
	if (job->plan)
		return -EAGAIN;
	/* another kforge may have made it meanwhile (useradd then says it exists) */
	if ((*pw = getpwnam(user)))
		return 0;
	char how[64];
	if (r < 0)
		snprintf(how, sizeof(how), "could not start: %s", strerror(-r));
	else
		snprintf(how, sizeof(how), "exited %d", r);
	return kforge_job_fail(job, KFORGE_EXIT_MISSING,
			       "the build user %s does not exist and cannot be created (useradd %s: see %s): create "
			       "it (useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "
			       "--user-group %s) or set [build] user in kforge.conf to an unprivileged user",
			       user, how, kf_job_log_name(job), user);
}

/* Hands DIRS to UID:GID (chown -R, links not followed); false when one could not be (the job failed). */
static bool hand_over(struct kforge_job *job, const char *const *dirs, unsigned int uid, unsigned int gid,
		      const char *who)
{
	char owner[64];
	snprintf(owner, sizeof(owner), "%u:%u", uid, gid);
	for (size_t i = 0; dirs && dirs[i]; i++)
		if (kforge_runl(job, NULL, "chown", "-R", owner, "--", dirs[i], NULL) != 0) {
			kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot hand %s to %s (chown: see %s)", dirs[i], who,
					kf_job_log_name(job));
			return false;
		}
	return true;
}

int kforge_run_sandboxed(struct kforge_job *job, const char *cwd, const char *const argv[],
			 const struct kforge_sandbox *opts, char **out)
{
	static const struct kforge_sandbox none;
	const struct kforge_sandbox *o = opts ? opts : &none;
	/* the caller's user (a plugin's build_user), else [build] user, which kforge creates */
	bool own = !o->user || !o->user[0];
	const char *user = own ? kforge_config_get(job->ctx, "build.user") : o->user;
	const char *setting = own ? "[build] user" : o->user_setting ? o->user_setting : "the build user setting";
	const char *mode = kforge_config_get(job->ctx, "build.sandbox");
	bool as_root = geteuid() == 0;
	if (out)
		*out = NULL;
	struct passwd *pw = user[0] ? getpwnam(user) : NULL;
	if (pw && pw->pw_uid == 0)
		return kforge_job_fail(job, KFORGE_EXIT_USAGE,
				       "%s %s is root: a recipe's code never runs as root; name an unprivileged user",
				       setting, user);
	/* not root, kforge cannot change users: the command runs as the one who ran kforge */
	if (!pw && (as_root || !own)) {
		if (!own || !user[0])
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "the build user %s does not exist: set %s to an unprivileged user, or create it",
					       user, setting);
		int r = create_build_user(job, user, &pw);
		if (r == -EAGAIN) {
			_cleanup_free_ char *cmd = kf_argv_quote(argv);
			kforge_plan_note(job, "then, as %s, sandboxed: %s", user, cmd ? cmd : argv[0]);
			return 0;
		}
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *bwrap = strcmp(mode, "none") == 0 || o->no_bwrap ? NULL : kforge_find_program("bwrap");
	if (!bwrap && strcmp(mode, "bwrap") == 0 && !o->no_bwrap)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "[build] sandbox = bwrap, and bubblewrap is not installed: install it (apt-get "
				       "install bubblewrap, dnf install bubblewrap, pacman -S bubblewrap) or set "
				       "[build] sandbox = auto");
	struct kf_sandbox_host host = {
		.as_root = as_root,
		.bwrap = bwrap != NULL,
		.no_netns = strcmp(mode, "none") == 0,
		.uid = pw ? (unsigned int)pw->pw_uid : (unsigned int)getuid(),
		.gid = pw ? (unsigned int)pw->pw_gid : (unsigned int)getgid(),
		.path = getenv("PATH"),
	};
	/* the build user must reach what it is given: a folder above that it cannot pass through
	 * (a private 0700 one) would otherwise fail deep inside the command */
	const char *const *lists[] = { o->readable, o->writable };
	for (size_t l = 0; as_root && l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			char folder[PATH_MAX];
			unsigned int m = 0;
			if (kf_sandbox_blocked(lists[l][i], host.uid, host.gid, folder, sizeof(folder), &m))
				return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
						       "the build user %s cannot reach %s: %s (mode %04o) is closed to "
						       "it. Fix: chmod o+x %s, or keep the build's folders (--root, "
						       "--source, build.cache_dir) under folders others may pass through",
						       user, lists[l][i], folder, m, folder);
		}
	/* the build user owns what it writes while it runs; nothing of root's is writable for it */
	struct stat before[16] = { 0 };
	size_t nw = 0;
	for (; o->writable && o->writable[nw]; nw++)
		if (nw >= ARRAY_SIZE(before) || (as_root && !job->plan && lstat(o->writable[nw], &before[nw]) < 0))
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot hand %s to the build user %s: %s",
					       o->writable[nw], user,
					       nw >= ARRAY_SIZE(before) ? "more than 16 folders" : strerror(errno));
	if (as_root && !hand_over(job, o->writable, host.uid, host.gid, user))
		return -ECANCELED;
	struct kf_strv full = { 0 };
	int r = kf_sandbox_argv(o, &host, cwd, argv, &full);
	if (r < 0)
		return r;
	r = out ? kforge_run_capture(job, cwd, (const char *const *)full.v, out)
		: kforge_run(job, cwd, (const char *const *)full.v);
	kf_strv_free(&full);
	/* and gives them back: what root reads or writes there next cannot be swapped under it */
	for (size_t i = 0; as_root && i < nw; i++) {
		const char *const one[] = { o->writable[i], NULL };
		char who[64];
		snprintf(who, sizeof(who), "their owner again (%u)", (unsigned int)before[i].st_uid);
		if (!hand_over(job, one, before[i].st_uid, before[i].st_gid, who)) {
			if (out) {
				free(*out);
				*out = NULL;
			}
			return -ECANCELED;
		}
	}
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
	kf_log_to_file(job, "# kforge %s%s%s for %s (root %s)\n", command, spec[0] ? " " : "", spec, job->kernel.release,
		       kforge_ctx_root(job->ctx));
	return 0;
}

const char *kforge_job_log_path(const struct kforge_job *job)
{
	return job->runner.log_path;
}

void kforge_job_log_result(struct kforge_job *job, int code)
{
	if (code == 0)
		kf_log_to_file(job, "# result: ok\n");
	else
		kf_log_to_file(job, "# result: exit %d\n", code);
}
