/*
 * fetch-pending.c: placeholders for <kforge/fetch.h> until wip-fetch/wip-git land: weak
 * definitions that do nothing and return -ENOSYS, so that the arch plugin written against the
 * spec's signatures links and loads now (and tests/abi.sh finds every declared function
 * exported). The real functions (helpers "fetch" and "git") are strong definitions and
 * replace these at link time; the integrator deletes this file when merging them.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include <kforge/fetch.h>

#define PENDING __attribute__((weak))

PENDING char *kforge_url_rewrite(const struct kforge_job *job, const char *url)
{
	(void)job;
	(void)url;
	errno = ENOSYS;
	return NULL;
}

PENDING int kforge_fetch(struct kforge_job *job, const char *url, const char *name, const char *checksum, char **path)
{
	(void)job;
	(void)url;
	(void)name;
	(void)checksum;
	*path = NULL;
	return -ENOSYS;
}

PENDING int kforge_git_fetch(struct kforge_job *job, const char *url, const char *ref, char oid[41])
{
	(void)job;
	(void)url;
	(void)ref;
	oid[0] = '\0';
	return -ENOSYS;
}

PENDING int kforge_git_read(struct kforge_job *job, const char *oid, const char *path, char **text, size_t *len)
{
	(void)job;
	(void)oid;
	(void)path;
	*text = NULL;
	*len = 0;
	return -ENOSYS;
}

PENDING int kforge_git_export(struct kforge_job *job, const char *oid, const char *subdir, const char *dest)
{
	(void)job;
	(void)oid;
	(void)subdir;
	(void)dest;
	return -ENOSYS;
}

PENDING int kforge_unpack(struct kforge_job *job, const char *archive, const char *subdir, const char *dest)
{
	(void)job;
	(void)archive;
	(void)subdir;
	(void)dest;
	return -ENOSYS;
}

PENDING int kforge_decompress(struct kforge_job *job, const char *src, const char *dest)
{
	(void)job;
	(void)src;
	(void)dest;
	return -ENOSYS;
}
