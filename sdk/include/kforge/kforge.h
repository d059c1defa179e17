/*
 * kforge/kforge.h: the plugin API, what a plugin includes: the descriptor, the job and its
 * steps, the runner, paths under the root, releases, logging, fetching sources (downloads, git, tarballs), and these. A front end (the
 * kforge command) includes <kforge/frontend.h>, which has this and the rest.
 */
#pragma once

#include <stdbool.h>
#include <kforge/version.h>
#include <kforge/log.h>
#include <kforge/path.h>
#include <kforge/release.h>
#include <kforge/job.h>
#include <kforge/runner.h>
#include <kforge/plugin.h>
#include <kforge/fetch.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes of the kforge command; a job records the one its failure maps to. */
enum kforge_exit {
	KFORGE_EXIT_OK = 0,
	KFORGE_EXIT_FAILURE = 1,   /* anything else */
	KFORGE_EXIT_USAGE = 2,	   /* bad command line or configuration */
	KFORGE_EXIT_MISSING = 3,   /* something missing on the system: build dir, source, tool */
	KFORGE_EXIT_BUILD = 4,	   /* the build failed */
	KFORGE_EXIT_REFUSED = 5,   /* refused by validation */
	KFORGE_EXIT_ROLLBACK = 6,  /* install failed and was rolled back */
	/* the package excludes this kernel (a DKMS package's BUILD_EXCLUSIVE_*): nothing to do, not a
	 * failure; 77 as DKMS, so that scripts written for `dkms install` read it the same */
	KFORGE_EXIT_SKIPPED = 77,
};

/*
 * Logs an error for the job, remembers CODE as the job's exit code (the first failure
 * wins) and returns -ECANCELED, so that a step can `return kforge_job_fail(...)`.
 * The message should name the cause and the fix.
 */
int kforge_job_fail(struct kforge_job *job, enum kforge_exit code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A malloc'd string formatted as printf does; NULL when memory ran out (unlike asprintf, whose
 * pointer is undefined then). Since LIBKFORGE_0.2.
 */
char *kforge_strdup_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* A setting in force ("install.sign", "plugin.acme.flavour"), or NULL for an unknown key. */
struct kforge_ctx;
const char *kforge_config_get(const struct kforge_ctx *ctx, const char *key);

#ifdef __cplusplus
}
#endif
