/*
 * pkgbuild-eval.c: drives the arch plugin's PKGBUILD evaluation (plugins/arch/source.c,
 * sandbox.c, run by the SDK's kforge_run_sandboxed) through a real job and runner, for tests/arch-sandbox.sh: prints what the sandbox
 * handed back, as parsed by the .SRCINFO parser.
 *
 *   pkgbuild-eval ROOT KVER PKGBUILD [--no-bwrap] [--user USER]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kforge/frontend.h>

#include "../tool-job.h"

#include "../../plugins/arch/arch.h"
#include "../../plugins/arch/source.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s ROOT KVER PKGBUILD [--no-bwrap] [--user USER]\n", argv[0]);
		return 2;
	}
	struct arch_eval ev = { .user = "nobody", .carch = "x86_64" };
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--no-bwrap") == 0)
			ev.no_bwrap = true;
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			ev.user = argv[++i];
	}
	struct kforge_ctx *ctx;
	struct kforge_job *job;
	if (tool_job(argv[1], argv[2], &ctx, &job) < 0)
		return 2;
	char *text = NULL;
	FILE *f = fopen(argv[3], "re");
	static char buf[1 << 16];
	size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	int rc = 1;
	if (arch_pkgbuild_eval(job, &ev, buf, len, &text) == 0) {
		struct arch_srcinfo si;
		char why[512];
		if (arch_srcinfo_parse(text, strlen(text), ev.carch, &si, why, sizeof(why)) < 0) {
			fprintf(stderr, "parse: %s\n--- output:\n%s", why, text);
		} else {
			printf("pkgbase=%s\npkgver=%s\npkgrel=%s\nepoch=%s\nsources=%zu\nkeys=%zu\n", si.pkgbase, si.pkgver,
			       si.pkgrel, si.epoch ? si.epoch : "", si.n_sources, si.n_keys);
			for (size_t i = 0; i < si.n_sources; i++)
				printf("source=%s %s %s\n", si.sources[i].name,
				       si.sources[i].url ? si.sources[i].url : "-",
				       si.sources[i].sha256 ? si.sources[i].sha256 : (si.sources[i].skip ? "SKIP" : "-"));
			arch_srcinfo_free(&si);
			rc = 0;
		}
	}
	free(text);
	kforge_job_unref(job);
	kforge_ctx_unref(ctx);
	return rc;
}
