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


/* One job's run to LAST, as kforge install/build runs it: its exit code. */
static int run_one(struct kforge_job *job, enum kforge_step last)
{
	int r = kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, last);
	/* build stops before install: the gate still tells whether the result would load */
	if (r == 0 && last == KFORGE_STEP_COMPILE)
		r = kforge_validate(job);
	int code = r < 0 ? (kforge_job_exit_code(job) ? (int)kforge_job_exit_code(job) : KFORGE_EXIT_FAILURE) : 0;
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
	fflush(stdout);
	return code;
}

/* install A B C: the modules at once (kforge_batch_run), a summary naming each result. */
enum item_state { ITEM_TODO, ITEM_RUNNING, ITEM_AGAIN, ITEM_DONE };

struct items {
	struct kforge_ctx *ctx;
	struct opts *o;
	const char *command;
	enum kforge_step last;
	size_t n, started, ended;
	struct item {
		const char *spec;
		struct kforge_job *job;
		enum item_state state;
		bool others_pending; /* others were not done when it started: it may have needed them */
		bool again;	     /* tried a second time */
		int code;
		char *log;
	} *v;
};

/* A job for item I with its log open (the log's path kept for the summary); an exit code. */
static int item_job(struct items *it, size_t i)
{
	struct item *x = &it->v[i];
	int code = make_job(it->ctx, it->o, x->spec, false, &x->job);
	if (code)
		return code;
	int r = kforge_job_open_log(x->job, it->command);
	if (r < 0)
		kforge_warn(it->ctx, "no log file can be written (%s): set log.dir in kforge.conf", strerror(-r));
	free(x->log);
	x->log = kforge_job_log_path(x->job) ? strdup(kforge_job_log_path(x->job)) : NULL;
	return 0;
}

static long items_ready(void *data)
{
	struct items *it = data;
	bool busy = false;
	for (size_t i = 0; i < it->n; i++) {
		if (it->v[i].state == ITEM_TODO)
			return (long)i;
		busy = busy || it->v[i].state == ITEM_RUNNING;
	}
	/* one that failed beside the others: again once they are all done (their symbols registered) */
	for (size_t i = 0; i < it->n && !busy; i++)
		if (it->v[i].state == ITEM_AGAIN)
			return (long)i;
	return -1;
}

static struct kforge_job *items_start(void *data, size_t i)
{
	struct items *it = data;
	struct item *x = &it->v[i];
	if (x->state == ITEM_AGAIN) {
		kforge_notice(it->ctx, "%s: trying again, now that the others are built (it may use their symbols)",
			      x->spec);
		int code = item_job(it, i);
		if (code) {
			x->state = ITEM_DONE;
			x->code = code;
			it->ended++;
			return NULL;
		}
	}
	x->others_pending = it->ended + 1 < it->n;
	x->state = ITEM_RUNNING;
	it->started++;
	if (it->n > 1)
		kforge_notice(it->ctx, "%s: %s (%zu of %zu)%s%s", x->spec, it->last == KFORGE_STEP_COMPILE ? "building" : "installing",
			      it->started, it->n + (size_t)(x->again), x->log ? ", log " : "", x->log ? x->log : "");
	return x->job;
}

static int items_run(struct kforge_job *job, void *data)
{
	struct items *it = data;
	return run_one(job, it->last);
}

/* Did the build LOG names fail on symbols no module it was built against exports (modpost)? */
static bool undefined_symbols(const char *log)
{
	FILE *f = log ? fopen(log, "re") : NULL;
	char line[1024];
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, "modpost: ") && strstr(line, "undefined!");
	if (f)
		fclose(f);
	return found;
}

static void items_done(void *data, size_t i, int code)
{
	struct items *it = data;
	struct item *x = &it->v[i];
	/* its locks (the root's state, its work folder) go with it: the next job in this process takes them */
	x->job = kforge_job_unref(x->job);
	if (code == KFORGE_EXIT_BUILD && x->others_pending && !x->again && undefined_symbols(x->log)) {
		x->state = ITEM_AGAIN;
		x->again = true;
		return;
	}
	x->state = ITEM_DONE;
	x->code = code;
	it->ended++;
	if (it->n > 1)
		kforge_notice(it->ctx, "%s: %s (%zu of %zu done)", x->spec, code ? "failed" : "done", it->ended, it->n);
}

static const struct kforge_batch_ops items_ops = { items_ready, items_start, items_run, items_done };

static int run_pipeline(struct kforge_ctx *ctx, struct opts *o, const char *command, enum kforge_step last)
{
	if (!o->n_args)
		return need_args(ctx, o, 1, "a module is needed: a name (btrfs), an in-tree dir (fs/btrfs) or a path");
	struct items it = { ctx, o, command, last, o->n_args, 0, 0, calloc(o->n_args, sizeof(*it.v)) };
	if (!it.v)
		return KFORGE_EXIT_FAILURE;
	int code = 0;
	for (size_t i = 0; i < it.n && !code; i++) {
		it.v[i].spec = o->args[i];
		code = item_job(&it, i);
	}
	if (!code && it.n == 1 && it.v[0].log)
		kforge_info(ctx, "log: %s", it.v[0].log);
	/* several: as many at once as -j has slots, their makes sharing them all */
	unsigned int parallel = code || it.n == 1 ? 1 : kforge_job_jobs(it.v[0].job);
	if (!code) {
		int r = kforge_batch_run(ctx, parallel, &items_ops, &it);
		if (r < 0) {
			kforge_err(ctx, "cannot run the jobs: %s", strerror(-r));
			code = KFORGE_EXIT_FAILURE;
		}
	}
	unsigned int failed = 0;
	for (size_t i = 0; i < it.n && !code; i++)
		failed += it.v[i].code != 0;
	if (!code && it.n > 1) {
		kforge_notice(ctx, "%s of %zu modules: %zu done, %u failed", command, it.n, it.n - failed, failed);
		for (size_t i = 0; i < it.n; i++)
			if (it.v[i].code)
				kforge_notice(ctx, "  %s: failed (exit %d): see %s", it.v[i].spec, it.v[i].code,
					      it.v[i].log ? it.v[i].log : "its log");
			else
				kforge_notice(ctx, "  %s: %s", it.v[i].spec, last == KFORGE_STEP_COMPILE ? "built" : "installed");
	}
	for (size_t i = 0; i < it.n && !code; i++)
		if (it.v[i].code) {
			code = it.v[i].code;
			if (it.n == 1 && it.v[i].log)
				kforge_notice(ctx, "log: %s", it.v[i].log);
		}
	for (size_t i = 0; i < it.n; i++) {
		kforge_job_unref(it.v[i].job);
		free(it.v[i].log);
	}
	free(it.v);
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

