/* log.c: logging through the context, with syslog priorities and a function the caller may set. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/ctx.h"

void kf_log_stderr(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	static const char *const prefix[] = { [LOG_ERR] = "error: ", [LOG_WARNING] = "warning: " };
	const char *p = priority <= LOG_WARNING && priority >= LOG_ERR ? prefix[priority] : "";
	fprintf(stderr, "kforge: %s", p);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
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
	ctx->log_fn = fn ? fn : kf_log_stderr;
	ctx->log_data = data;
}

int kforge_get_log_priority(const struct kforge_ctx *ctx)
{
	return ctx->log_priority;
}

static const char *const priority_names[] = { "err", "warning", "notice", "info", "debug" };

int kforge_log_priority_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(priority_names); i++)
		if (strcmp(name, priority_names[i]) == 0)
			return LOG_ERR + (int)i;
	return -EINVAL;
}

const char *kforge_log_priority_name(int priority)
{
	if (priority < LOG_ERR)
		priority = LOG_ERR;
	if (priority > LOG_DEBUG)
		priority = LOG_DEBUG;
	return priority_names[priority - LOG_ERR];
}

void kforge_set_log_priority(struct kforge_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

