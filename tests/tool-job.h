/*
 * tool-job.h: for the test programs that drive one piece of kforge outside the pipeline (a
 * sandboxed evaluation): a real context with ROOT's configuration loaded and a job for KVER, so
 * that the piece runs through the job's own runner and log.
 */
#pragma once

#include <kforge/frontend.h>

/* 0 with *CTX and *JOB set (the caller unrefs both), or -1. */
static inline int tool_job(const char *root, const char *kver, struct kforge_ctx **ctx, struct kforge_job **job)
{
	*ctx = NULL;
	*job = NULL;
	if (kforge_ctx_new(root, ctx) < 0 || kforge_config_load(*ctx, NULL, NULL) < 0)
		return -1;
	struct kforge_job_options o = { .kernel = kver };
	enum kforge_exit code;
	return kforge_job_new(*ctx, &o, job, &code) < 0 ? -1 : 0;
}
