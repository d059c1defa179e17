/* dkms.c: kforge dkms import (what DKMS installed, taken over), and DKMS's part of kforge status. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void dkms_usage(const struct opts *o)
{
	if (o->n_args && strcmp(o->args[0], "import") == 0) {
		printf("Usage: kforge dkms import [--remove] [--dry-run] [-k KVER] [NAME[/VER]...]\n\n"
		       "Takes over the packages DKMS installed (all of them, or those named): for every kernel DKMS\n"
		       "installed a package for (or KVER alone), kforge builds and installs it from its source folder,\n"
		       "the /usr/src/NAME-VER that DKMS's tree names, as `kforge -k KVER install /usr/src/NAME-VER`\n"
		       "does (the build as the build user, the gate, the install transaction), then checks that its\n"
		       "record of every module DKMS built is there. Each package and kernel is reported imported,\n"
		       "failed (with the reason) or skipped. DKMS's tree is read as data: no dkms.conf is run to list it.\n\n"
		       "  --remove     then ask DKMS to remove each package imported for all its kernels\n"
		       "               (`dkms remove NAME/VER --all`); a package that failed anywhere is left to DKMS\n"
		       "  --dry-run    say what would be done, do nothing\n\n"
		       "Without --remove both tools manage the modules afterwards: finish with --remove, or\n"
		       "`dkms remove NAME/VER --all`. Exit status: 0 when nothing failed, 1 when a package failed.\n"
		       "Also: --root DIR, --no-wait, --initramfs, -j N (see kforge --help).\n");
		return;
	}
	printf("Usage: kforge dkms SUBCOMMAND [ARGS]\n\n"
	       "A way off DKMS. kforge reads DKMS's tree (/var/lib/dkms) as data; `kforge status` lists\n"
	       "DKMS's modules beside kforge's, read-only.\n\n"
	       "Subcommands:\n"
	       "  import [--remove] [NAME[/VER]...]  build and install DKMS's installed packages with kforge\n"
	       "                                     (and remove them from DKMS); `kforge dkms import --help`\n");
}

int cmd_dkms(struct kforge_ctx *ctx, struct opts *o)
{
	if (o->n_args == 0 || strcmp(o->args[0], "import") != 0) {
		if (o->n_args)
			kforge_err(ctx, "dkms %s: no such subcommand: use kforge dkms import (see kforge dkms --help)",
				   o->args[0]);
		else
			kforge_err(ctx, "dkms needs a subcommand: import (see kforge dkms --help)");
		return KFORGE_EXIT_USAGE;
	}
	struct kforge_job *job = NULL;
	int code = make_job_for(ctx, o, NULL, false, true, &job);
	if (code)
		return code;
	if (!o->dry_run && kforge_job_open_log(job, "dkms-import") < 0)
		kforge_warn(ctx, "no log file can be written: set log.dir in kforge.conf");
	const char *names[ARRAY_SIZE(o->args) + 1];
	for (unsigned int i = 1; i < o->n_args; i++)
		names[i - 1] = o->args[i];
	names[o->n_args - 1] = NULL;
	struct kforge_job_options base = {
		.no_wait = o->no_wait,
		.initramfs = o->initramfs,
	};
	struct kforge_dkms_import_options io = {
		.packages = o->n_args > 1 ? names : NULL,
		.kernel = o->kernel,
		.remove = o->remove,
		.dry_run = o->dry_run,
	};
	struct kforge_dkms_result *res = NULL;
	size_t n = 0;
	int failed = 0;
	int r = kforge_dkms_import(job, &base, &io, &res, &n, &failed);
	if (r < 0) {
		kforge_err(ctx, "DKMS's tree cannot be read: %s", strerror(-r));
		kforge_job_unref(job);
		return KFORGE_EXIT_FAILURE;
	}
	if (n)
		printf("%-24s %-24s %-9s %s\n", "PACKAGE", "KERNEL", "RESULT", o->dry_run ? "WOULD RUN" : "DETAIL");
	else
		printf("DKMS has installed no package%s to import\n", o->n_args > 1 ? " of those named" : "");
	for (size_t i = 0; i < n; i++) {
		char pkg[256];
		snprintf(pkg, sizeof(pkg), "%s%s%s", res[i].name, res[i].version ? "/" : "",
			 res[i].version ? res[i].version : "");
		printf("%-24s %-24s %-9s %s\n", pkg, res[i].kernel ? res[i].kernel : "-",
		       kforge_dkms_outcome_name(res[i].outcome), res[i].detail);
	}
	kforge_dkms_results_free(res, n);
	if (failed && kforge_job_log_path(job))
		kforge_notice(ctx, "log: %s", kforge_job_log_path(job));
	kforge_job_unref(job);
	return failed ? KFORGE_EXIT_FAILURE : 0;
}

/* DKMS's part of kforge status: its packages for KERNEL (NULL: all), read-only. */
void dkms_status(struct kforge_ctx *ctx, struct kforge_job *job, const char *kernel, bool json)
{
	struct kforge_dkms_tree *t = NULL;
	if (kforge_dkms_list(job, kernel, &t) < 0) {
		kforge_warn(ctx, "DKMS's tree cannot be read: DKMS's modules are not shown");
		if (json)
			fputs("null", stdout);
		return;
	}
	for (size_t i = 0; !json && t->problems[i]; i++)
		kforge_warn(ctx, "DKMS's tree: %s", t->problems[i]);
	if (json) {
		fputs("{", stdout);
		json_kv("tree", t->path, true);
		printf("\"found\": %s, \"packages\": [", t->found ? "true" : "false");
	} else if (t->n) {
		printf("\nDKMS's modules (read-only; `kforge dkms import` takes its installed packages over):\n");
		printf("%-24s %-20s %-10s %-20s %s\n", "KERNEL", "MODULE", "STATE", "PACKAGE", "PATH");
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct kforge_dkms_entry *e = &t->entries[i];
		const char *state = kforge_dkms_state_name(e->state);
		if (json) {
			fputs(i ? ", {" : "{", stdout);
			json_kv("managed_by", "dkms", true);
			json_kv("package", e->name, true);
			json_kv("version", e->version, true);
			json_kv("kernel", e->kernel, true);
			json_kv("arch", e->arch, true);
			json_kv("state", state, true);
			printf("\"installed\": %s, ", e->installed ? "true" : "false");
			json_kv("source", e->source, true);
			json_kv("problem", e->problem, true);
			fputs("\"modules\": [", stdout);
			for (size_t j = 0; j < e->n_modules; j++) {
				fputs(j ? ", {" : "{", stdout);
				json_kv("module", e->modules[j].name, true);
				json_kv("built", e->modules[j].built, true);
				json_kv("path", e->modules[j].installed, false);
				fputs("}", stdout);
			}
			fputs("]}", stdout);
			continue;
		}
		char pkg[256];
		snprintf(pkg, sizeof(pkg), "%s/%s", e->name, e->version);
		const char *k = e->kernel ? e->kernel : "-";
		if (e->n_modules == 0)
			printf("%-24s %-20s %-10s %-20s %s\n", k, "-", state, pkg, e->source ? e->source : "-");
		for (size_t j = 0; j < e->n_modules; j++)
			printf("%-24s %-20s %-10s %-20s %s\n", k, e->modules[j].name, state, pkg,
			       e->modules[j].installed ? e->modules[j].installed : "(not installed)");
		if (e->problem)
			printf("%-24s %-20s %-10s %-20s   %s\n", "", "", "", "", e->problem);
	}
	if (json) {
		fputs("], \"problems\": [", stdout);
		for (size_t i = 0; t->problems[i]; i++) {
			fputs(i ? ", " : "", stdout);
			json_str(t->problems[i]);
		}
		fputs("]}", stdout);
	}
	kforge_dkms_tree_free(t);
}
