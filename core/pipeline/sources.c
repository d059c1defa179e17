/* sources.c: the SDK's source functions (kforge/fetch.h) over core/source/, and a git --source in the cache. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pipeline/steps.h"
#include "source/source.h"

#define NULL_OID "0000000000000000000000000000000000000000"

/* "URL" or "URL (rewritten to X by [sources] rewrite)", for notes */
static char *url_shown(const char *url, const char *fetched)
{
	if (strcmp(url, fetched) == 0)
		return strdup(url);
	return kf_strdup_printf("%s (rewritten to %s by [sources] rewrite)", url, fetched);
}

int kforge_git_fetch(struct kforge_job *job, const char *url, const char *ref, char oid[41])
{
	if (!job || !url || !oid)
		return -EINVAL;
	memcpy(oid, NULL_OID, 41);
	struct kf_git_ref parsed;
	char why[1024];
	if (kf_git_ref_parse(ref, &parsed, why, sizeof(why)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_USAGE, "git %s: %s", url, why);
	_cleanup_free_ char *fetched = kforge_url_rewrite(job, url);
	_cleanup_free_ char *shown = fetched ? url_shown(url, fetched) : NULL;
	_cleanup_free_ char *store = kforge_path_join(job->cache_dir, KF_GIT_STORE, NULL);
	if (!shown || !store)
		return -ENOMEM;
	char what[300];
	kf_git_ref_describe(&parsed, what, sizeof(what));
	if (job->plan) {
		bool fixed = parsed.kind == KF_GIT_REF_TAG || parsed.kind == KF_GIT_REF_COMMIT;
		char have[41];
		if (kf_git_resolve_local(job->cache_dir, fetched, ref, have) == 0 && fixed) {
			memcpy(oid, have, 41);
			kforge_plan_note(job, "git: %s %s is commit %s, in the store %s already: nothing to fetch", shown,
					 what, oid, store);
		} else {
			kforge_plan_note(job, "git: fetch %s (%s) into the store %s (libgit2; only what it lacks)", shown,
					 what, store);
		}
		return 0;
	}
	int r = kf_git_fetch(&job->runner, job->cache_dir, fetched, shown, ref, oid, why, sizeof(why));
	if (r < 0)
		return kforge_job_fail(job, r == -ENOENT || r == -EHOSTUNREACH ? KFORGE_EXIT_MISSING : KFORGE_EXIT_FAILURE,
				       "%s", why);
	return 0;
}

int kforge_git_read(struct kforge_job *job, const char *oid, const char *path, char **text, size_t *len)
{
	if (!job || !oid || !path || !text)
		return -EINVAL;
	*text = NULL;
	if (len)
		*len = 0;
	if (job->plan && strcmp(oid, NULL_OID) == 0) {
		kforge_plan_note(job, "git: read %s from the fetched commit", path);
		return -ENOENT;
	}
	char why[1024];
	int r = kf_git_read(job->cache_dir, oid, path, text, len, why, sizeof(why));
	/* a missing file is the caller's question, a missing commit its mistake */
	if (r == -ENOENT || r == -EISDIR)
		return r;
	if (r < 0)
		return kforge_job_fail(job, r == -ESRCH ? KFORGE_EXIT_MISSING : KFORGE_EXIT_FAILURE, "%s", why);
	return 0;
}

int kforge_git_export(struct kforge_job *job, const char *oid, const char *subdir, const char *dest)
{
	if (!job || !oid || !dest)
		return -EINVAL;
	if (job->plan) {
		kforge_plan_note(job, "git: export commit %s%s%s into %s", strcmp(oid, NULL_OID) == 0 ? "(once fetched)" : oid,
				 subdir ? ", only " : "", subdir ? subdir : "", dest);
		return 0;
	}
	char why[1024];
	int r = kf_git_export(&job->runner, job->cache_dir, oid, subdir, dest, why, sizeof(why));
	if (r < 0)
		return kforge_job_fail(job, r == -ENOENT || r == -ESRCH ? KFORGE_EXIT_MISSING : KFORGE_EXIT_FAILURE, "%s", why);
	return 0;
}

int kforge_unpack(struct kforge_job *job, const char *archive, const char *subdir, const char *dest)
{
	if (!job || !archive || !dest)
		return -EINVAL;
	if (job->plan) {
		kforge_plan_note(job, "unpack %s%s%s into %s (libarchive)", archive, subdir ? ", only " : "",
				 subdir ? subdir : "", dest);
		return 0;
	}
	char why[1024];
	int r = kf_unpack(&job->runner, archive, dest, subdir, why, sizeof(why));
	if (r < 0)
		return kforge_job_fail(job, r == -ENOENT || r == -EHOSTUNREACH ? KFORGE_EXIT_MISSING : KFORGE_EXIT_FAILURE,
				       "%s", why);
	return 0;
}

int kforge_decompress(struct kforge_job *job, const char *src, const char *dest)
{
	if (!job || !src || !dest)
		return -EINVAL;
	if (job->plan) {
		kforge_plan_note(job, "decompress %s into %s", src, dest);
		return 0;
	}
	char why[1024];
	int r = kf_decompress(src, dest, why, sizeof(why));
	if (r < 0)
		return kforge_job_fail(job, r == -ENOENT || r == -EHOSTUNREACH ? KFORGE_EXIT_MISSING : KFORGE_EXIT_FAILURE,
				       "%s", why);
	kf_log_to_file(job, "# decompressed %s into %s\n", src, dest);
	return 0;
}

/* --- a git --source: fetched into the store, its tree exported once into the cache */

struct export_fill {
	const char *oid, *subdir;
};

static int export_fill(struct kforge_job *job, const char *dir, void *data)
{
	struct export_fill *f = data;
	char why[1024];
	int r = kf_git_export_into(&job->runner, job->cache_dir, f->oid, f->subdir, f->subdir ? KF_TREE_PARENT_FILES : 0,
				   dir, why, sizeof(why));
	return r < 0 ? kforge_job_fail(job, r == -ENOENT || r == -ESRCH ? KFORGE_EXIT_MISSING : KFORGE_EXIT_FAILURE, "%s", why) : 0;
}

int kf_git_source(struct kforge_job *job, const char *source, const char *subdir, bool *partial)
{
	*partial = false;
	_cleanup_free_ char *url = NULL, *ref = NULL;
	bool is_signed = false;
	char why[1024];
	if (kf_source_git_split(source, &url, &ref, &is_signed, why, sizeof(why)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_USAGE, "--source %s", why);
	if (is_signed) {
		kforge_plan_note(job, "%s asks for a signed tag (?signed): the signature is not checked", source);
		if (!job->plan)
			kf_warn(job->ctx, "%s: the tag's signature is not checked (?signed)", source);
	}
	char oid[41];
	int r = kforge_git_fetch(job, url, ref, oid);
	if (r < 0)
		return r;
	bool known = strcmp(oid, NULL_OID) != 0;
	const char *id = known ? oid : "COMMIT";
	_cleanup_free_ char *full_key = kf_strdup_printf("git-%s", id);
	_cleanup_free_ char *full = full_key ? kf_cache_src_path(job, full_key) : NULL;
	if (!full)
		return -ENOMEM;
	if (!known) {
		struct kf_git_ref parsed;
		char what[300] = "HEAD";
		if (kf_git_ref_parse(ref, &parsed, NULL, 0) == 0)
			kf_git_ref_describe(&parsed, what, sizeof(what));
		kforge_plan_note(job, "COMMIT below: the commit that %s of %s names, known once fetched", what, url);
	}
	if (kf_is_dir(full) || !subdir) {
		if (kf_is_dir(full)) {
			kforge_plan_note(job, "kernel source: commit %s of %s, exported before into %s", id, url, full);
			return kforge_job_set_source_dir(job, full);
		}
		kforge_plan_note(job, "export commit %s of %s once into the cache %s (no .git in it)", id, url, full);
		if (job->plan)
			return kforge_job_set_source_dir(job, full);
		struct export_fill f = { oid, NULL };
		_cleanup_free_ char *doing = kf_strdup_printf("exporting commit %s of %s", oid, url);
		return doing ? kf_cache_tree(job, full_key, doing, export_fill, &f) : -ENOMEM;
	}
	_cleanup_free_ char *key = kf_cache_subtree_key(full_key, subdir);
	_cleanup_free_ char *dest = key ? kf_cache_src_path(job, key) : NULL;
	if (!dest)
		return -ENOMEM;
	*partial = true;
	if (kf_is_dir(dest)) {
		kforge_plan_note(job, "kernel source: %s of commit %s of %s, exported before into %s", subdir, id, url, dest);
		return kforge_job_set_source_dir(job, dest);
	}
	kforge_plan_note(job,
			 "export only %s (and the files of the folders above it) of commit %s of %s once into the cache %s: "
			 "the headers strategy needs no more",
			 subdir, id, url, dest);
	if (job->plan)
		return kforge_job_set_source_dir(job, dest);
	struct export_fill f = { oid, subdir };
	_cleanup_free_ char *doing = kf_strdup_printf("exporting %s of commit %s of %s", subdir, oid, url);
	return doing ? kf_cache_tree(job, key, doing, export_fill, &f) : -ENOMEM;
}
