/* fetch.c: the public fetcher: kforge_url_rewrite() and kforge_fetch(), the job's face of core/source/. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pipeline/job.h"
#include "source/source.h"

char *kforge_url_rewrite(const struct kforge_job *job, const char *url)
{
	if (!job || !url) {
		errno = EINVAL;
		return NULL;
	}
	struct kf_rewrites rw = { 0 };
	/* the value was checked when it was read or set: an odd count never gets here */
	if (kf_rewrites_load(job->ctx, &rw) == -ENOMEM)
		return NULL;
	char *out = kf_url_rewrite(&rw, url, NULL);
	kf_rewrites_free(&rw);
	return out;
}

/* Where sources.rewrite came from ("/etc/kforge/kforge.conf:12", "command line: --source-rewrite"). */
static const char *rewrite_origin(const struct kforge_ctx *ctx)
{
	const char *key, *origin;
	for (unsigned int i = 0; kforge_config_entry(ctx, i, &key, NULL, &origin, NULL); i++)
		if (strcmp(key, "sources.rewrite") == 0)
			return origin;
	return "?";
}

/* NAME, or the URL's last path component (no query, no fragment), or "download"; malloc'd. */
static char *name_for(const char *url, const char *name)
{
	if (name && name[0])
		return strdup(name);
	const char *path = strstr(url, "://");
	path = path ? path + 3 : url;
	size_t end = strcspn(path, "?#");
	const char *last = NULL;
	for (const char *p = path; p < path + end; p++)
		if (*p == '/')
			last = p;
	if (!last || last + 1 >= path + end)
		return strdup("download");
	return strndup(last + 1, (size_t)(path + end - (last + 1)));
}

static bool is_url_text(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return url[0] != '\0';
}

static unsigned int config_seconds(const struct kforge_ctx *ctx, const char *key)
{
	const char *v = kforge_config_get(ctx, key);
	return v ? (unsigned int)strtoul(v, NULL, 10) : 0;
}

int kforge_fetch(struct kforge_job *job, const char *url, const char *name, const char *checksum, char **path)
{
	if (!job || !path)
		return -EINVAL;
	*path = NULL;
	if (!url || !is_url_text(url))
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "cannot fetch \"%s\": not a URL (no blank or control character belongs in one)",
				       url ? url : "(null)");
	_cleanup_free_ char *shown = name_for(url, name);
	if (!shown)
		return -ENOMEM;
	if (strchr(shown, '/'))
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot fetch %s as \"%s\": a file name has no \"/\"", url,
				       shown);
	struct kf_checksum sum;
	if (checksum && kf_checksum_parse(checksum, &sum) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "cannot fetch %s (%s): its checksum \"%s\" is neither sha256:HEX (64 hex digits) nor "
				       "b2:HEX (BLAKE2b-512, 128 hex digits)",
				       shown, url, checksum);
	struct kf_rewrites rw = { 0 };
	if (kf_rewrites_load(job->ctx, &rw) == -ENOMEM)
		return -ENOMEM;
	const struct kf_rewrite *used = NULL;
	_cleanup_free_ char *fetch_url = kf_url_rewrite(&rw, url, &used);
	/* how the URL came to be what is fetched, for every message: the rewrite in force, and where it is set */
	_cleanup_free_ char *where = NULL;
	if (fetch_url && used)
		where = kf_strdup_printf("%s (rewritten to %s by the rewrite %s %s of [sources] rewrite, set by %s)", url,
					 fetch_url, used->from, used->to, rewrite_origin(job->ctx));
	else if (fetch_url)
		where = strdup(url);
	kf_rewrites_free(&rw);
	if (!where)
		return -ENOMEM;
	if (!kf_url_scheme(fetch_url))
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "cannot fetch %s: kforge fetches http, https and file URLs (a git repository goes "
				       "through git+URL#tag=...): fix the URL, or the rewrite that made it",
				       where);
	if (!job->cache_dir)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "cannot fetch %s: no cache folder to keep it in (set build.cache_dir in kforge.conf)",
				       where);
	_cleanup_free_ char *entry = kf_store_entry_path(job->cache_dir, checksum ? &sum : NULL, url);
	if (!entry)
		return -ENOMEM;
	_cleanup_free_ char *check = checksum ? kf_strdup_printf(", checked against %s:%s", kf_digest_name(sum.algo), sum.hex)
					      : strdup(", kept by its URL (no checksum)");
	if (!check)
		return -ENOMEM;
	if (job->plan) {
		if (kf_is_file(entry))
			kforge_plan_note(job, "fetch %s: in the cache at %s (verified when used)", url, entry);
		else if (used)
			kforge_plan_note(job, "fetch %s (via %s) into %s%s", url, fetch_url, entry, check);
		else
			kforge_plan_note(job, "fetch %s into %s%s", url, entry, check);
		*path = strdup(entry);
		return *path ? 0 : -ENOMEM;
	}
	struct kf_fetch_req req = {
		.url = url,
		.fetch_url = fetch_url,
		.name = shown,
		.sum = checksum ? &sum : NULL,
		.cache_dir = job->cache_dir,
		.connect_timeout = config_seconds(job->ctx, "sources.connect_timeout"),
		.timeout = config_seconds(job->ctx, "sources.timeout"),
		/* a bar only where someone watches, and not under -q */
		.progress = isatty(STDERR_FILENO) && kforge_get_log_priority(job->ctx) >= LOG_INFO,
		.log = &job->runner,
	};
	kf_log_to_file(job, "fetch %s into %s%s\n", where, entry, check);
	char why[1024];
	bool cached = false;
	int r = kf_store_fetch(job->ctx, &req, path, &cached, why, sizeof(why));
	if (r == 0) {
		if (cached)
			kf_info(job->ctx, "%s: in the cache (%s)", shown, *path);
		kf_log_to_file(job, "%s: %s %s\n", shown, cached ? "verified in the cache at" : "fetched into", *path);
		return 0;
	}
	switch (r) {
	case -ENOMEM:
		return r;
	case -EBADMSG:
		return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
				       "%s from %s does not match its checksum: %s; nothing was kept in the cache (fix: the "
				       "file served is not the one the recipe names: check the URL and the rewrite, a mirror "
				       "may serve another file, or the recipe's checksum)",
				       shown, where, why);
	case -ENOENT:
	case -EACCES:
	case -EPROTO:
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "cannot fetch %s from %s: %s (fix: check the URL, or point [sources] rewrite / "
				       "--source-rewrite at a mirror that has it)",
				       shown, where, why);
	case -ETIMEDOUT:
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "cannot fetch %s from %s: %s (fix: try again: what was fetched is kept and resumed; "
				       "or raise [sources] timeout / connect_timeout, or set [sources] rewrite / "
				       "--source-rewrite to a mirror)",
				       shown, where, why);
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -EPIPE:
	case -EIO:
	case -EPROTONOSUPPORT:
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "cannot fetch %s from %s: %s (fix: check the URL and the network, or set [sources] "
				       "rewrite / --source-rewrite to a mirror)",
				       shown, where, why);
	default:
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot fetch %s from %s: %s", shown, where,
				       why[0] ? why : strerror(-r));
	}
}
