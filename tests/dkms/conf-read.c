/*
 * conf-read.c: drives the dkms.conf reader (core/dkms/conf.c, through kforge_run_sandboxed) with a
 * real job and runner, for tests/dkms-conf.sh: prints what it read back and what it chooses for
 * the kernel, one "key=value" a line. A refusal exits with the job's exit code.
 *
 *   conf-read ROOT KVER CONF KSRC DKMS_TREE [--kernelver K] [--arch A] [--no-bwrap] [--user USER]
 *
 * KVER is the job's kernel (one of ROOT's); --kernelver gives the conf another $kernelver.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kforge/frontend.h>

#include "../tool-job.h"

#include "dkms/dkms.h"
#include "pipeline/job.h"

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: %s ROOT KVER CONF KSRC DKMS_TREE [--arch A] [--no-bwrap] [--user USER] [--module NAME VER]\n", argv[0]);
		return 2;
	}
	struct kf_dkms_vars v = { .kernelver = argv[2], .kernel_source_dir = argv[4], .dkms_tree = argv[5],
				  .arch = "x86_64", .user_setting = "--user" };
	for (int i = 6; i < argc; i++) {
		if (strcmp(argv[i], "--no-bwrap") == 0)
			v.no_bwrap = true;
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			v.user = argv[++i];
		else if (strcmp(argv[i], "--kernelver") == 0 && i + 1 < argc)
			v.kernelver = argv[++i];
		else if (strcmp(argv[i], "--arch") == 0 && i + 1 < argc)
			v.arch = argv[++i];
		else if (strcmp(argv[i], "--module") == 0 && i + 2 < argc) {
			v.module = argv[++i];
			v.module_version = argv[++i];
		}
	}
	struct kforge_ctx *ctx;
	struct kforge_job *job;
	if (tool_job(argv[1], argv[2], &ctx, &job) < 0)
		return 2;
	struct kf_dkms_conf c;
	int rc = 1;
	if (kf_dkms_conf_read(job, argv[3], &v, &c) == 0) {
		printf("name=%s\nversion=%s\n", c.package_name, c.package_version);
		_cleanup_free_ char *build = kf_strdup_printf("%s/%s/%s/build", v.dkms_tree, c.package_name,
							      c.package_version);
		_cleanup_free_ char *make = kf_dkms_make_command(&c, v.kernelver, v.kernel_source_dir, build, 2);
		printf("make=%s\n", make);
		for (size_t i = 0; i < c.n_modules; i++) {
			const struct kf_dkms_module *m = &c.modules[i];
			printf("module=%s%s -> %s/%s strip=%s\n", m->built_location, m->built_name,
			       m->dest_location, m->dest_name, m->strip ? "yes" : "no");
		}
		struct kf_strv p = { 0 };
		kf_dkms_patches(&c, v.kernelver, &p);
		for (size_t i = 0; i < p.n; i++)
			printf("patch=%s\n", p.v[i]);
		kf_strv_free(&p);
		const char *hooks[][2] = { { "pre_build", c.pre_build }, { "post_build", c.post_build },
					   { "pre_install", c.pre_install }, { "post_install", c.post_install },
					   { "post_add", c.post_add }, { "post_remove", c.post_remove },
					   { "clean", c.clean } };
		for (size_t i = 0; i < ARRAY_SIZE(hooks); i++)
			if (hooks[i][1])
				printf("%s=%s\n", hooks[i][0], hooks[i][1]);
		for (size_t i = 0; i < c.build_depends.len; i++)
			if (c.build_depends.v[i])
				printf("build_depends=%s\n", c.build_depends.v[i]);
		printf("autoinstall=%s\n", c.autoinstall ? "yes" : "no");
		_cleanup_free_ char *cfgpath = kf_strdup_printf("%s/.config", v.kernel_source_dir);
		_cleanup_free_ char *cfg = NULL;
		size_t len;
		if (kf_read_file(cfgpath, &cfg, &len) < 0)
			cfg = NULL;
		char *why = NULL;
		if (kf_dkms_package_excluded(&c, v.kernelver, v.arch, cfg, &why))
			printf("excluded=%s\n", why);
		else
			for (size_t i = 0; i < c.n_modules; i++) {
				char *w = NULL;
				if (kf_dkms_module_excluded(&c, i, v.kernelver, v.arch, cfg, &w))
					printf("module_excluded=%s: %s\n", c.modules[i].built_name, w);
				free(w);
			}
		free(why);
		kf_dkms_conf_free(&c);
		rc = 0;
	} else if (kforge_job_exit_code(job) != KFORGE_EXIT_OK) {
		rc = (int)kforge_job_exit_code(job); /* the job's own exit code: the shell test checks it */
	}
	kforge_job_unref(job);
	kforge_ctx_unref(ctx);
	return rc;
}
