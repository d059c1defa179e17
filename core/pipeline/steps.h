/* pipeline/steps.h: what the default steps share among their files. */
#pragma once

#include "pipeline/job.h"

/* derive-version.c: make's variables for the release ("KERNELRELEASE=..."), appended to ARGV at N. */
size_t kf_add_make_vars(const struct kforge_job *job, const char **argv, size_t n, size_t max);
/* configure.c: the prepared full tree (job->objdir) is there and made for this release. */
bool kf_objdir_ready(const struct kforge_job *job);
/* cache.c: a source tarball unpacked once into the cache, under a lock; sets the job's source dir. */
int kf_unpack_cached(struct kforge_job *job, const char *tarball);
/* cache.c: the lock of the folder a build writes into, held to the end of the job. */
int kf_lock_work(struct kforge_job *job, const char *dir);
