/* kforge/log.h: logging through the context, with syslog priorities. */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_ctx;

typedef void (*kforge_log_fn)(void *data, int priority, const char *file, int line,
			      const char *fn, const char *format, va_list args);

void kforge_log(struct kforge_ctx *ctx, int priority, const char *file, int line,
		const char *fn, const char *format, ...) __attribute__((format(printf, 6, 7)));
void kforge_set_log_fn(struct kforge_ctx *ctx, kforge_log_fn fn, void *data);
int kforge_get_log_priority(const struct kforge_ctx *ctx);
void kforge_set_log_priority(struct kforge_ctx *ctx, int priority);
/* "err", "warning", "notice", "info", "debug" (log.level's values) and the priorities they name. Since ABI 1.1. */
int kforge_log_priority_from_name(const char *name); /* LOG_ERR..LOG_DEBUG or -EINVAL */
const char *kforge_log_priority_name(int priority);   /* clamped to LOG_ERR..LOG_DEBUG */

#define kforge_log_cond(ctx, prio, ...)                                                  \
	do {                                                                             \
		if (kforge_get_log_priority(ctx) >= (prio))                               \
			kforge_log(ctx, prio, __FILE__, __LINE__, __func__, __VA_ARGS__); \
	} while (0)

#define kforge_err(ctx, ...) kforge_log_cond(ctx, LOG_ERR, __VA_ARGS__)
#define kforge_warn(ctx, ...) kforge_log_cond(ctx, LOG_WARNING, __VA_ARGS__)
#define kforge_notice(ctx, ...) kforge_log_cond(ctx, LOG_NOTICE, __VA_ARGS__)
#define kforge_info(ctx, ...) kforge_log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define kforge_dbg(ctx, ...) kforge_log_cond(ctx, LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
