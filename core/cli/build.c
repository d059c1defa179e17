/* build.c: the commands that run the pipeline: plan, build, install. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static void print_plan(struct kforge_job *job, bool json)
{
	unsigned int n = kforge_job_plan_count(job);
	if (json) {
		fputs("{", stdout);
		json_kv("kernel", kforge_job_kernel(job), true);
		json_kv("module", kforge_job_module_spec(job), true);
		json_kv("strategy", kforge_strategy_name(kforge_job_strategy(job)), true);
		fputs("\"steps\": [", stdout);
		for (int s = 0; s < KFORGE_STEP_COUNT; s++) {
			fputs(s ? ", {" : "{", stdout);
			json_kv("step", kforge_step_name(s), true);
			json_kv("plugin", kforge_job_step_owner(job, s), true);
			fputs("\"actions\": [", stdout);
			bool first = true;
			for (unsigned int i = 0; i < n; i++) {
				const struct kforge_plan_item *it = kforge_job_plan_get(job, i);
				if ((int)it->step != s)
					continue;
				fputs(first ? "{" : ", {", stdout);
				first = false;
				json_kv(it->is_command ? "command" : "note", it->text, it->cwd != NULL);
				if (it->cwd)
					json_kv("cwd", it->cwd, false);
				fputs("}", stdout);
			}
			fputs("]}", stdout);
		}
		fputs("]}\n", stdout);
		return;
	}
	printf("plan for %s on %s (strategy %s)\n", kforge_job_module_spec(job), kforge_job_kernel(job),
	       kforge_strategy_name(kforge_job_strategy(job)));
	for (int s = 0; s < KFORGE_STEP_COUNT; s++) {
		printf("%d. %s [%s]\n", s + 1, kforge_step_name(s), kforge_job_step_owner(job, s));
		for (unsigned int i = 0; i < n; i++) {
			const struct kforge_plan_item *it = kforge_job_plan_get(job, i);
			if ((int)it->step != s)
				continue;
			if (it->is_command && it->cwd)
				printf("   $ (cd %s && %s)\n", it->cwd, it->text);
			else
				printf("   %s %s\n", it->is_command ? "$" : "#", it->text);
		}
	}
}

int cmd_plan(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 1, "plan needs a module: a name (btrfs), an in-tree dir (fs/btrfs) or a path");
	struct kforge_job *job = NULL;
	if (code || (code = make_job(ctx, o, o->args[0], true, &job)))
		return code;
	int r = kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_COUNT - 1);
	code = r < 0 ? (kforge_job_exit_code(job) ? (int)kforge_job_exit_code(job) : KFORGE_EXIT_FAILURE) : 0;
	if (!code)
		print_plan(job, o->json);
	kforge_job_unref(job);
	return code;
}


static int run_pipeline(struct kforge_ctx *ctx, struct opts *o, const char *command, enum kforge_step last)
{
	int code = need_args(ctx, o, 1, "a module is needed: a name (btrfs), an in-tree dir (fs/btrfs) or a path");
	struct kforge_job *job = NULL;
	if (code || (code = make_job(ctx, o, o->args[0], false, &job)))
		return code;
	int r = kforge_job_open_log(job, command);
	if (r < 0)
		kforge_warn(ctx, "no log file can be written (%s): set log.dir in kforge.conf", strerror(-r));
	else
		kforge_info(ctx, "log: %s", kforge_job_log_path(job));
	r = kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, last);
	/* build stops before install: the gate still tells whether the result would load */
	if (r == 0 && last == KFORGE_STEP_COMPILE)
		r = kforge_validate(job);
	code = r < 0 ? (kforge_job_exit_code(job) ? (int)kforge_job_exit_code(job) : KFORGE_EXIT_FAILURE) : 0;
	for (unsigned int i = 0; !code && last == KFORGE_STEP_COMPILE && kforge_job_built_module(job, i); i++)
		printf("%s\n", kforge_job_built_module(job, i));
	if (!code && last != KFORGE_STEP_COMPILE) {
		/* DKMS installed a module of the same name for this kernel: two tools would manage it */
		const char *names[65];
		unsigned int n = 0;
		for (; n < 64 && kforge_job_built_module(job, n); n++)
			names[n] = kforge_job_built_module(job, n);
		names[n] = NULL;
		kforge_dkms_warn_same_name(job, names);
	}
	if (code && kforge_job_log_path(job))
		kforge_notice(ctx, "log: %s", kforge_job_log_path(job));
	kforge_job_unref(job);
	return code;
}

int cmd_build(struct kforge_ctx *ctx, struct opts *o)
{
	if (o->dry_run)
		return cmd_plan(ctx, o);
	return run_pipeline(ctx, o, "build", KFORGE_STEP_COMPILE);
}

int cmd_install(struct kforge_ctx *ctx, struct opts *o)
{
	if (o->dry_run)
		return cmd_plan(ctx, o);
	return run_pipeline(ctx, o, "install", KFORGE_STEP_COUNT - 1);
}

