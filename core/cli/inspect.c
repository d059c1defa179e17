/* inspect.c: the commands that only look: info, plugins, config. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cmd_info(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	struct kforge_job *job = NULL;
	if (code || (code = make_job(ctx, o, NULL, true, &job)))
		return code;
	int r = kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_LOCATE_SOURCE - 1);
	if (r < 0) {
		code = kforge_job_exit_code(job);
		kforge_job_unref(job);
		return code ? code : KFORGE_EXIT_FAILURE;
	}
	const struct kforge_release *rel = kforge_job_release(job);
	char ver[32];
	kforge_release_version_string(rel, ver, sizeof(ver));
	const struct kforge_plugin *p = kforge_plugins_selected(ctx);
	char *moddir = NULL;
	if (asprintf(&moddir, "%s/%s", kforge_job_display_path(job, kforge_job_modules_dir(job)),
		     kforge_job_install_subdir(job)) < 0)
		moddir = NULL;
	const char *mv = kforge_job_modversions(job) ? "true" : "false";
	const struct kforge_os_release *os = kforge_ctx_os_release(ctx);
	if (o->json) {
		fputs("{", stdout);
		json_kv("plugin", p->name, true);
		json_kv("root", kforge_ctx_root(ctx), true);
		json_kv("os", os->id, true);
		fputs("\"kernel\": {", stdout);
		json_kv("release", rel->release, true);
		json_kv("version", ver, true);
		json_kv("extraversion", rel->extraversion, true);
		json_kv("localversion", rel->localversion, true);
		json_kv("override", kforge_release_override_name(rel->override), false);
		fputs("}, ", stdout);
		json_kv("build_dir", kforge_job_display_path(job, kforge_job_build_dir(job)), true);
		json_kv("config", kforge_job_display_path(job, kforge_job_config_file(job)), true);
		printf("\"modversions\": %s, ", mv);
		json_kv("compression", kforge_compression_name(kforge_job_compression(job)), true);
		json_kv("initramfs", kforge_job_initramfs(job), true);
		json_kv("module_dir", moddir, true);
		/* what the plugin found about the target (kforge_job_add_fact) */
		fputs("\"facts\": {", stdout);
		const char *fk, *fv, *nk, *nv;
		for (unsigned int i = 0; kforge_job_fact(job, i, &fk, &fv); i++)
			json_kv(fk, fv, kforge_job_fact(job, i + 1, &nk, &nv));
		fputs("}}\n", stdout);
	} else {
		printf("plugin:              %s\n", p->name);
		printf("root:                %s\n", kforge_ctx_root(ctx));
		printf("os:                  %s\n", os->id[0] ? os->id : "(no os-release)");
		printf("kernel.release:      %s\n", rel->release);
		printf("kernel.version:      %s\n", ver);
		printf("kernel.extraversion: %s\n", rel->extraversion);
		printf("kernel.localversion: %s\n", rel->localversion);
		printf("kernel.override:     %s\n", kforge_release_override_name(rel->override));
		printf("build_dir:           %s\n", kforge_job_display_path(job, kforge_job_build_dir(job)));
		printf("config:              %s\n", kforge_job_config_file(job)
							    ? kforge_job_display_path(job, kforge_job_config_file(job))
							    : "(none found)");
		printf("modversions:         %s\n", mv);
		printf("compression:         %s\n", kforge_compression_name(kforge_job_compression(job)));
		printf("initramfs:           %s\n", kforge_job_initramfs(job));
		printf("module_dir:          %s\n", moddir ? moddir : "?");
		const char *fk, *fv;
		for (unsigned int i = 0; kforge_job_fact(job, i, &fk, &fv); i++)
			printf("%s:%*s%s\n", fk, strlen(fk) < 20 ? (int)(20 - strlen(fk)) : 1, "", fv);
	}
	free(moddir);
	kforge_job_unref(job);
	return 0;
}

int cmd_plugins(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	if (code)
		return code;
	/* the probes score the target kernel (-k, else the running one): a job selects for it */
	struct kforge_job *job = NULL;
	code = make_job_for(ctx, o, NULL, false, true, &job);
	unsigned int n = kforge_plugins_count(ctx);
	if (n == 0) {
		kforge_job_unref(job);
		return code ? code : KFORGE_EXIT_MISSING;
	}
	if (o->json) {
		fputs("[", stdout);
	} else {
		if (job)
			printf("# probed for kernel %s (-k KVER for another)\n", kforge_job_kernel(job));
		printf("%-10s %-5s %-5s %-3s %-50s %s\n", "NAME", "ABI", "SCORE", "SEL", "PATH", "DESCRIPTION");
	}
	kforge_job_unref(job);
	for (unsigned int i = 0; i < n; i++) {
		const struct kforge_plugin_entry *e = kforge_plugins_get(ctx, i);
		char abi[16];
		snprintf(abi, sizeof(abi), "%u.%u", e->abi_major, e->abi_minor);
		if (o->json) {
			fputs(i ? ", {" : "{", stdout);
			json_kv("name", e->name, true);
			json_kv("path", e->path, true);
			json_kv("description", e->description, true);
			json_kv("abi", abi, true);
			printf("\"score\": %d, \"selected\": %s}", e->score, e->selected ? "true" : "false");
		} else {
			printf("%-10s %-5s %-5d %-3s %-50s %s\n", e->name, abi, e->score, e->selected ? "*" : "",
			       e->path, e->description);
		}
	}
	if (o->json)
		fputs("]\n", stdout);
	return code;
}

int cmd_config(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	if (code)
		return code;
	/* the plugins' own settings, [plugin.NAME], are known once they are loaded */
	if (kforge_plugins_load(ctx) == -EINVAL)
		return KFORGE_EXIT_USAGE;
	const char *key, *value, *origin, *help;
	if (o->json) {
		fputs("{", stdout);
		json_kv("system_file", kforge_config_system_path(ctx), true);
		json_kv("user_file", kforge_config_user_path(ctx), true);
		fputs("\"values\": [", stdout);
	} else {
		printf("# files read, in order: %s, %s; then the command line\n",
		       kforge_config_system_path(ctx) ? kforge_config_system_path(ctx) : "-",
		       kforge_config_user_path(ctx) ? kforge_config_user_path(ctx) : "-");
	}
	for (unsigned int i = 0; kforge_config_entry(ctx, i, &key, &value, &origin, &help); i++) {
		if (o->json) {
			fputs(i ? ", {" : "{", stdout);
			json_kv("key", key, true);
			json_kv("value", value, true);
			json_kv("origin", origin, false);
			fputs("}", stdout);
		} else {
			printf("%-20s = %-22s # %s\n", key, value, origin);
		}
	}
	if (o->json)
		fputs("]}\n", stdout);
	return 0;
}

