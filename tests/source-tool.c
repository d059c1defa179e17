/*
 * source-tool.c: drives the SDK's source functions (kforge/fetch.h) through libkforge.so, for
 * tests/git-source.sh: a job on a fixture root with its cache in CACHE, one call, the result
 * on stdout (plan notes too with --plan). Exit 0, 1 when the call failed, 3 for -ENOENT.
 *
 *   source-tool ROOT KVER CACHE [--plan] fetch URL REF|-
 *   source-tool ROOT KVER CACHE [--plan] read OID PATH
 *   source-tool ROOT KVER CACHE [--plan] export OID SUBDIR|- DEST
 *   source-tool ROOT KVER CACHE [--plan] unpack ARCHIVE SUBDIR|- DEST
 *   source-tool ROOT KVER CACHE [--plan] decompress SRC DEST
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kforge/frontend.h>

static const char *opt(const char *a)
{
	return strcmp(a, "-") == 0 ? NULL : a;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: source-tool ROOT KVER CACHE [--plan] CMD ARGS...\n");
		return 2;
	}
	int i = 4;
	bool plan = strcmp(argv[i], "--plan") == 0;
	if (plan)
		i++;
	if (i >= argc)
		return 2;
	const char *cmd = argv[i++];
	int nargs = argc - i;
	char **a = argv + i;
	struct kforge_ctx *ctx = NULL;
	if (kforge_ctx_new(argv[1], &ctx) < 0 || kforge_config_load(ctx, NULL, NULL) < 0 ||
	    kforge_config_set(ctx, "build.cache_dir", argv[3], "source-tool") < 0)
		return 2;
	struct kforge_job_options jo = { .kernel = argv[2], .module = "dummy", .plan = plan };
	struct kforge_job *job = NULL;
	enum kforge_exit ec;
	if (kforge_job_new(ctx, &jo, &job, &ec) < 0) {
		kforge_ctx_unref(ctx);
		return 2;
	}
	int r = -EINVAL;
	if (strcmp(cmd, "fetch") == 0 && nargs == 2) {
		char oid[41] = "";
		r = kforge_git_fetch(job, a[0], opt(a[1]), oid);
		if (r == 0)
			printf("%s\n", oid);
	} else if (strcmp(cmd, "read") == 0 && nargs == 2) {
		char *text = NULL;
		size_t len = 0;
		r = kforge_git_read(job, a[0], a[1], &text, &len);
		if (r == 0)
			fwrite(text, 1, len, stdout);
		free(text);
	} else if (strcmp(cmd, "export") == 0 && nargs == 3) {
		r = kforge_git_export(job, a[0], opt(a[1]), a[2]);
	} else if (strcmp(cmd, "unpack") == 0 && nargs == 3) {
		r = kforge_unpack(job, a[0], opt(a[1]), a[2]);
	} else if (strcmp(cmd, "decompress") == 0 && nargs == 2) {
		r = kforge_decompress(job, a[0], a[1]);
	} else {
		fprintf(stderr, "source-tool: bad command %s or argument count\n", cmd);
	}
	for (unsigned int n = 0; plan && n < kforge_job_plan_count(job); n++) {
		const struct kforge_plan_item *it = kforge_job_plan_get(job, n);
		printf("%s: %s\n", it->is_command ? "command" : "note", it->text);
	}
	kforge_job_unref(job);
	kforge_ctx_unref(ctx);
	if (r == -ENOENT)
		return 3;
	return r < 0 ? 1 : 0;
}
