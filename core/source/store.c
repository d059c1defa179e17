/* store.c: the content-addressed download cache: CACHE/downloads/{sha256,b2,url}/HEX, verified on every use. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "source/source.h"

char *kf_store_key(const struct kf_checksum *sum, const char *url)
{
	if (sum)
		return kf_strdup_printf("%s/%s", kf_digest_name(sum->algo), sum->hex);
	/* by the URL as given, not as rewritten: another mirror serves the same file */
	char hex[KF_DIGEST_HEX_MAX];
	if (kf_digest_data(url, strlen(url), KF_DIGEST_SHA256, hex) < 0)
		return NULL;
	return kf_strdup_printf("url/%s", hex);
}

char *kf_store_entry_path(const char *cache_dir, const struct kf_checksum *sum, const char *url)
{
	_cleanup_free_ char *key = kf_store_key(sum, url);
	return key ? kforge_path_join(cache_dir, KF_STORE_DIR, key, NULL) : NULL;
}

char *kf_store_lock_path(const char *cache_dir, const char *key)
{
	_cleanup_free_ char *flat = strdup(key);
	if (!flat)
		return NULL;
	for (char *c = flat; *c; c++)
		if (*c == '/')
			*c = '-';
	/* in locks/, not beside the entry: downloads/ holds entries and nothing else */
	return kf_strdup_printf("%s/locks/download-%s.lock", cache_dir, flat);
}

/* --- the index: which name and URL each entry was fetched as, for `kforge cache list` */

void kf_store_names_free(struct kf_store_name *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].name);
		free(v[i].url);
		free(v[i].sum);
	}
	free(v);
}

static bool valid_key(const char *key)
{
	const char *slash = strchr(key, '/');
	if (!slash)
		return false;
	size_t hexlen = strlen(slash + 1);
	if (strspn(slash + 1, "0123456789abcdef") != hexlen)
		return false;
	size_t n = (size_t)(slash - key);
	return (n == 6 && strncmp(key, "sha256", 6) == 0 && hexlen == 64) ||
	       (n == 2 && strncmp(key, "b2", 2) == 0 && hexlen == 128) ||
	       (n == 3 && strncmp(key, "url", 3) == 0 && hexlen == 64);
}

int kf_store_names_read(const char *cache_dir, struct kf_store_name **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *path = kforge_path_join(cache_dir, KF_STORE_INDEX, NULL);
	_cleanup_free_ char *text = NULL;
	if (!path)
		return -ENOMEM;
	int r = kf_read_file(path, &text, NULL);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return r;
	struct kf_store_name *v = NULL;
	size_t count = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { NULL };
		size_t nf = 0;
		for (char *s2 = NULL, *w = strtok_r(line, " \t", &s2); w && nf < 4; w = strtok_r(NULL, " \t", &s2))
			f[nf++] = w;
		/* a damaged line (an interrupted write of an older kforge, an edit) is skipped */
		if (nf < 3 || !valid_key(f[0]))
			continue;
		size_t at = count;
		for (size_t i = 0; i < count; i++)
			if (strcmp(v[i].key, f[0]) == 0)
				at = i; /* the last line of a key wins */
		if (at == count) {
			struct kf_store_name *nv = realloc(v, (count + 1) * sizeof(*nv));
			if (!nv) {
				kf_store_names_free(v, count);
				return -ENOMEM;
			}
			v = nv;
			memset(&v[count++], 0, sizeof(*v));
		} else {
			free(v[at].key);
			free(v[at].name);
			free(v[at].url);
			free(v[at].sum);
		}
		v[at] = (struct kf_store_name){ .key = strdup(f[0]), .name = strdup(f[1]), .url = strdup(f[2]),
						.sum = f[3] ? strdup(f[3]) : NULL };
		if (!v[at].key || !v[at].name || !v[at].url || (f[3] && !v[at].sum)) {
			kf_store_names_free(v, count);
			return -ENOMEM;
		}
	}
	*out = v;
	*n = count;
	return 0;
}

/* One word of the index: a name or URL with no blank or control character in it. */
static char *index_word(const char *s)
{
	char *w = strdup(s && s[0] ? s : "-");
	for (char *c = w; c && *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			*c = '_';
	return w;
}

/* Rewrites the index with KEY's line replaced by NAME URL SUM, or dropped when NAME is NULL; under its lock. */
static int names_update(struct kforge_ctx *ctx, const char *cache_dir, const char *key, const char *name,
			const char *url, const char *sum)
{
	_cleanup_free_ char *lockp = kf_strdup_printf("%s/locks/download-names.lock", cache_dir);
	_cleanup_free_ char *path = kforge_path_join(cache_dir, KF_STORE_INDEX, NULL);
	_cleanup_free_ char *tmp = kf_strdup_printf("%s.tmp-%d", path ? path : "", (int)getpid());
	if (!lockp || !path || !tmp)
		return -ENOMEM;
	int r = kf_mkdir_parent(lockp);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = kf_lock_file(ctx, lockp, true, "writing the download cache's index", NULL);
	if (lock < 0)
		return lock;
	struct kf_store_name *v;
	size_t n;
	r = kf_store_names_read(cache_dir, &v, &n);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* unreadable (not a file, too large): rebuilt with what kforge knows now */
		kf_warn(ctx, "%s cannot be read (%s): it is written anew", path, kf_read_strerror(r));
		v = NULL;
		n = 0;
	}
	struct kf_strbuf b = { 0 };
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].key, key) != 0)
			kf_strbuf_appendf(&b, "%s %s %s%s%s\n", v[i].key, v[i].name, v[i].url, v[i].sum ? " " : "",
					  v[i].sum ? v[i].sum : "");
	kf_store_names_free(v, n);
	if (name) {
		_cleanup_free_ char *w1 = index_word(name), *w2 = index_word(url);
		if (!w1 || !w2) {
			kf_strbuf_release(&b);
			return -ENOMEM;
		}
		kf_strbuf_appendf(&b, "%s %s %s%s%s\n", key, w1, w2, sum ? " " : "", sum ? sum : "");
	}
	r = kf_write_file(tmp, b.s ? b.s : "", 0644);
	kf_strbuf_release(&b);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int kf_store_names_forget(struct kforge_ctx *ctx, const char *cache_dir, const char *key)
{
	return names_update(ctx, cache_dir, key, NULL, NULL, NULL);
}

/* The sha256 the index recorded for a file kept by URL ("sha256:HEX"), or NULL. */
static char *recorded_sum(const char *cache_dir, const char *key)
{
	struct kf_store_name *v;
	size_t n;
	if (kf_store_names_read(cache_dir, &v, &n) < 0)
		return NULL;
	char *sum = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0 && v[i].sum)
			sum = strdup(v[i].sum);
	kf_store_names_free(v, n);
	return sum;
}

/*
 * The entry as found: 1 when it is there and its sum is right, 0 when it is not there (a
 * damaged one removed, said), or -errno. Everything read back may be damaged.
 */
static int check_entry(struct kforge_ctx *ctx, const struct kf_fetch_req *req, const char *key, const char *entry)
{
	struct stat st;
	if (lstat(entry, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	const char *name = req->name;
	if (!S_ISREG(st.st_mode)) {
		kf_warn(ctx, "%s (%s) in the download cache is not a regular file: removed, fetching it again", entry, name);
		return kf_rm_rf(entry);
	}
	struct kf_checksum want;
	_cleanup_free_ char *recorded = NULL;
	const struct kf_checksum *sum = req->sum;
	if (!sum) {
		/* kept by URL: checked against the sha256 recorded when it was fetched */
		recorded = recorded_sum(req->cache_dir, key);
		if (!recorded || kf_checksum_parse(recorded, &want) < 0) {
			kf_info(ctx, "%s (%s) was kept without a record of its sum: fetching it again", entry, name);
			return unlink(entry) < 0 && errno != ENOENT ? -errno : 0;
		}
		sum = &want;
	}
	char actual[KF_DIGEST_HEX_MAX];
	int r = kf_checksum_verify(entry, sum, actual);
	if (r == 1)
		return 1;
	if (r == 0)
		kf_warn(ctx, "%s (%s) in the download cache is damaged: its %s is %s, not %s: removed, fetching it again",
			entry, name, kf_digest_name(sum->algo), actual, sum->hex);
	else
		kf_warn(ctx, "%s (%s) in the download cache cannot be read (%s): removed, fetching it again", entry, name,
			strerror(-r));
	return unlink(entry) < 0 && errno != ENOENT ? -errno : 0;
}

/* What a download error leaves for the next run: the part fetched, when the server may still send the rest. */
static bool keep_partial(int err)
{
	return err == -ETIMEDOUT || err == -EPIPE || err == -ECONNREFUSED || err == -EHOSTUNREACH || err == -EIO;
}

static int sync_file(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

int kf_store_fetch(struct kforge_ctx *ctx, const struct kf_fetch_req *req, char **path, bool *cached, char *why,
		   size_t whysize)
{
	*path = NULL;
	*cached = false;
	why[0] = '\0';
	_cleanup_free_ char *key = kf_store_key(req->sum, req->url);
	_cleanup_free_ char *entry = key ? kforge_path_join(req->cache_dir, KF_STORE_DIR, key, NULL) : NULL;
	_cleanup_free_ char *partial = entry ? kf_strdup_printf("%s.partial", entry) : NULL;
	_cleanup_free_ char *lockp = key ? kf_store_lock_path(req->cache_dir, key) : NULL;
	_cleanup_free_ char *waiting = kf_strdup_printf("fetching %s", req->name);
	if (!partial || !lockp || !waiting)
		return -ENOMEM;
	int r;
	if ((r = kf_mkdir_parent(entry)) < 0 || (r = kf_mkdir_parent(lockp)) < 0) {
		snprintf(why, whysize, "cannot create the folders of %s and %s: %s (set build.cache_dir in kforge.conf)",
			 entry, lockp, strerror(-r));
		return r;
	}
	/* two kforge runs fetching the same file: the second waits, then finds it in the cache */
	_cleanup_close_ int lock = kf_lock_file(ctx, lockp, true, waiting, NULL);
	if (lock < 0) {
		snprintf(why, whysize, "cannot lock %s: %s", lockp, strerror(-lock));
		return lock;
	}
	r = check_entry(ctx, req, key, entry);
	if (r < 0) {
		snprintf(why, whysize, "cannot remove the damaged %s: %s", entry, strerror(-r));
		return r;
	}
	if (r == 1) {
		/* its time says when it was last used: `kforge cache prune --older-than` */
		if (utimensat(AT_FDCWD, entry, NULL, AT_SYMLINK_NOFOLLOW) < 0)
			kf_dbg(ctx, "cannot touch %s: %s", entry, strerror(errno));
		*path = strdup(entry);
		*cached = true;
		return *path ? 0 : -ENOMEM;
	}
	struct stat st;
	if (lstat(partial, &st) == 0 && !S_ISREG(st.st_mode)) {
		kf_warn(ctx, "%s is not a regular file: removed", partial);
		if ((r = kf_rm_rf(partial)) < 0) {
			snprintf(why, whysize, "cannot remove %s: %s", partial, strerror(-r));
			return r;
		}
	}
	struct kf_download d = {
		.url = req->fetch_url,
		.partial = partial,
		.label = req->name,
		.connect_timeout = req->connect_timeout,
		.timeout = req->timeout,
		.progress = req->progress,
		.log = req->log,
	};
	/* a run interrupted between the end of the download and the rename: the part is the file */
	bool done = false;
	if (req->sum && lstat(partial, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    kf_checksum_verify(partial, req->sum, NULL) == 1) {
		kf_info(ctx, "%s: the download kept from an earlier run is complete", req->name);
		done = true;
	}
	if (!done)
		kf_info(ctx, "fetching %s from %s", req->name, req->fetch_url);
	char actual[KF_DIGEST_HEX_MAX] = "";
	for (bool again = false; !done; again = true) {
		r = kf_download(ctx, &d, why, whysize);
		if (r < 0) {
			/* a server that has no such file: nothing worth resuming */
			if (!keep_partial(r) || d.bytes == 0)
				unlink(partial);
			return r;
		}
		if (!req->sum)
			break;
		r = kf_checksum_verify(partial, req->sum, actual);
		if (r == 1)
			break;
		/* a resumed part may be of an older file of that name: once more from its start */
		if (r == 0 && d.resumed_from > 0 && !again) {
			kf_info(ctx, "%s: the resumed file's %s does not match: fetching it from the start", req->name,
				kf_digest_name(req->sum->algo));
			if (unlink(partial) < 0) {
				r = -errno;
				snprintf(why, whysize, "cannot remove %s: %s", partial, strerror(errno));
				return r;
			}
			continue;
		}
		unlink(partial);
		if (r < 0) {
			snprintf(why, whysize, "cannot read %s: %s", partial, strerror(-r));
			return r;
		}
		snprintf(why, whysize, "expected %s:%s, got %s:%s", kf_digest_name(req->sum->algo), req->sum->hex,
			 kf_digest_name(req->sum->algo), actual);
		return -EBADMSG;
	}
	_cleanup_free_ char *sum_text = NULL;
	if (!req->sum) {
		/* kept by URL: its sha256 recorded so that a damaged copy is found later */
		r = kf_digest_file(partial, KF_DIGEST_SHA256, actual);
		if (r < 0) {
			unlink(partial);
			snprintf(why, whysize, "cannot read %s: %s", partial, strerror(-r));
			return r;
		}
		sum_text = kf_strdup_printf("sha256:%s", actual);
		if (!sum_text)
			return -ENOMEM;
	}
	if ((r = sync_file(partial)) < 0 || rename(partial, entry) < 0) {
		r = r < 0 ? r : -errno;
		snprintf(why, whysize, "cannot rename %s to %s: %s", partial, entry, strerror(-r));
		return r;
	}
	r = names_update(ctx, req->cache_dir, key, req->name, req->url, sum_text);
	if (r < 0) {
		if (!req->sum) {
			/* without its recorded sum the file would be fetched again anyway */
			unlink(entry);
			snprintf(why, whysize, "cannot write the index %s/%s: %s", req->cache_dir, KF_STORE_INDEX,
				 strerror(-r));
			return r;
		}
		kf_warn(ctx, "cannot write the index %s/%s: %s (kforge cache list will not name %s)", req->cache_dir,
			KF_STORE_INDEX, strerror(-r), req->name);
	}
	*path = strdup(entry);
	return *path ? 0 : -ENOMEM;
}
