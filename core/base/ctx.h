/* base/ctx.h: the context's fields, for the base files that keep its parts (log, config, os-release, plugins). */
#pragma once

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
	struct kf_jobserver *jobserver; /* jobserver.c */
	bool jobserver_probed;
	struct kf_plugin_set plugins;
	/* set by the plugin loader: unloads the plugins when the context goes */
	void (*plugins_release)(struct kforge_ctx *ctx);
};

/* log.c: the default log function (stderr) */
void kf_log_stderr(void *data, int priority, const char *file, int line, const char *fn, const char *format,
		   va_list args);
