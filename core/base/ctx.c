/* ctx.c: the library context: root, configuration, logging, the target's os-release. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <string.h>

#include "base/base.h"

struct kforge_ctx {
	int refcount;
	char *root;
	int log_priority;
	kforge_log_fn log_fn;
	void *log_data;
	struct kf_config *config;
	char *config_system, *config_user;
	struct kf_os_release os;
	bool os_loaded;
	struct kf_plugin_set plugins;
};

static void log_stderr(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	static const char *const prefix[] = { [LOG_ERR] = "error: ", [LOG_WARNING] = "warning: " };
	const char *p = priority <= LOG_WARNING && priority >= LOG_ERR ? prefix[priority] : "";
	fprintf(stderr, "kforge: %s", p);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

int kforge_ctx_new(const char *root, struct kforge_ctx **out)
{
	struct kforge_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->plugins.selected = -1;
	ctx->log_fn = log_stderr;
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
	kf_plugins_free(ctx);
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

struct kf_config *kf_ctx_config(const struct kforge_ctx *ctx)
{
	return ctx->config;
}

void kf_ctx_set_config_paths(struct kforge_ctx *ctx, const char *system, const char *user)
{
	free(ctx->config_system);
	free(ctx->config_user);
	ctx->config_system = system ? strdup(system) : NULL;
	ctx->config_user = user ? strdup(user) : NULL;
}

const char *kforge_config_system_path(const struct kforge_ctx *ctx)
{
	return ctx->config_system;
}

const char *kforge_config_user_path(const struct kforge_ctx *ctx)
{
	return ctx->config_user;
}

const struct kforge_os_release *kforge_ctx_os_release(struct kforge_ctx *ctx)
{
	if (!ctx->os_loaded) {
		if (kf_os_release_read(ctx, ctx->root, &ctx->os) < 0)
			return NULL;
		ctx->os_loaded = true;
	}
	return &ctx->os.pub;
}

void kforge_log(struct kforge_ctx *ctx, int priority, const char *file, int line, const char *fn,
		const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	ctx->log_fn(ctx->log_data, priority, file, line, fn, format, ap);
	va_end(ap);
}

void kforge_set_log_fn(struct kforge_ctx *ctx, kforge_log_fn fn, void *data)
{
	ctx->log_fn = fn ? fn : log_stderr;
	ctx->log_data = data;
}

int kforge_get_log_priority(const struct kforge_ctx *ctx)
{
	return ctx->log_priority;
}

void kforge_set_log_priority(struct kforge_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

struct kf_plugin_set *kf_ctx_plugin_set(const struct kforge_ctx *ctx)
{
	return (struct kf_plugin_set *)&ctx->plugins;
}
