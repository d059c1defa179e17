/* ctx.c: the library context: root, configuration, logging, the target's os-release. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <string.h>

#include "base/ctx.h"


int kforge_ctx_new(const char *root, struct kforge_ctx **out)
{
	struct kforge_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->plugins.selected = -1;
	ctx->log_fn = kf_log_stderr;
	ctx->log_priority = LOG_INFO;
	const char *r = root && root[0] ? root : "/";
	char real[4096];
	if (realpath(r, real))
		r = real; /* ../x and symlinks out of what messages show; a missing root is reported later */
	if (r[0] != '/') {
		char cwd[4096];
		if (!getcwd(cwd, sizeof(cwd))) {
			free(ctx);
			return -errno;
		}
		ctx->root = kforge_path_join(cwd, r, NULL);
	} else {
		ctx->root = strdup(r);
	}
	int err = ctx->root ? kf_config_new(&ctx->config) : -ENOMEM;
	if (err < 0) {
		free(ctx->root);
		free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

struct kforge_ctx *kforge_ctx_ref(struct kforge_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

struct kforge_ctx *kforge_ctx_unref(struct kforge_ctx *ctx)
{
	if (!ctx || --ctx->refcount > 0)
		return NULL;
	if (ctx->plugins_release)
		ctx->plugins_release(ctx);
	if (ctx->jobserver && ctx->jobserver->inherited)
		kf_jobserver_free(ctx->jobserver);
	kf_config_free(ctx->config);
	kf_os_release_free(&ctx->os);
	free(ctx->config_system);
	free(ctx->config_user);
	free(ctx->root);
	free(ctx);
	return NULL;
}

const char *kforge_ctx_root(const struct kforge_ctx *ctx)
{
	return ctx->root;
}

