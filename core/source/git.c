/* git.c: the cache's one bare git object store (libgit2): fetches by tag, commit, branch or HEAD; reads and exports trees. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "source/source.h"

/* libgit2's last message, for errors */
static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

static char *store_path(const char *cache_dir)
{
	return kforge_path_join(cache_dir, KF_GIT_STORE, NULL);
}

void kf_git_remote_name(const char *url, char name[17])
{
	git_oid id;
	git_libgit2_init();
	if (git_odb_hash(&id, url, strlen(url), GIT_OBJECT_BLOB) == 0)
		git_oid_tostr(name, 17, &id);
	else
		snprintf(name, 17, "%016lx", kf_hash_str(KF_HASH_SEED, url));
	git_libgit2_shutdown();
}

/* The store, opened; -ENOENT when nothing was ever fetched into it. */
static int store_open(const char *cache_dir, git_repository **repo, char *why, size_t whysize)
{
	*repo = NULL;
	_cleanup_free_ char *path = store_path(cache_dir);
	if (!path)
		return -ENOMEM;
	if (!kf_is_dir(path)) {
		kf_why(why, whysize, "the git store %s does not exist: nothing was fetched into it yet", path);
		return -ENOENT;
	}
	if (git_repository_open_bare(repo, path) < 0) {
		kf_why(why, whysize, "the git store %s cannot be opened (%s): remove it, kforge fetches again what it needs",
		       path, git_msg());
		return -EIO;
	}
	return 0;
}

/* Creates the store under a temporary name, renamed when complete (the caller holds the lock). */
static int store_create(struct kf_runner *r, const char *cache_dir, char *why, size_t whysize)
{
	_cleanup_free_ char *path = store_path(cache_dir);
	_cleanup_free_ char *gitdir = kforge_path_join(cache_dir, "git", NULL);
	_cleanup_free_ char *partial = path ? kf_strdup_printf("%s.partial-%d", path, (int)getpid()) : NULL;
	if (!path || !gitdir || !partial)
		return -ENOMEM;
	if (kf_is_dir(path))
		return 0;
	if (kf_mkdir_p(gitdir) < 0) {
		int e = -errno;
		kf_why(why, whysize, "cannot create %s: %s (set build.cache_dir in kforge.conf)", gitdir, strerror(errno));
		return e;
	}
	/* what an interrupted creation left; nobody else creates it while we hold the lock */
	DIR *d = opendir(gitdir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strncmp(e->d_name, "store.git.partial-", 18) != 0)
			continue;
		_cleanup_free_ char *old = kforge_path_join(gitdir, e->d_name, NULL);
		if (old)
			kf_rm_rf(old);
	}
	if (d)
		closedir(d);
	git_repository *repo = NULL;
	if (git_repository_init(&repo, partial, 1) < 0) {
		kf_why(why, whysize, "cannot create the git store %s: %s", partial, git_msg());
		kf_rm_rf(partial);
		return -EIO;
	}
	git_repository_free(repo);
	if (rename(partial, path) < 0) {
		int e = -errno;
		kf_why(why, whysize, "cannot rename %s to %s: %s", partial, path, strerror(errno));
		kf_rm_rf(partial);
		return e;
	}
	if (r)
		kf_info(r->ctx, "created the git store %s (one for every repository kforge fetches)", path);
	return 0;
}

/* The commit REFNAME points at, annotated tags peeled. */
static int ref_commit(git_repository *repo, const char *refname, char oid[41])
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int e = git_reference_lookup(&ref, repo, refname);
	if (e == 0)
		e = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	if (e == 0)
		git_oid_tostr(oid, 41, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(ref);
	return e;
}

/* The commit HEX (4 to 40 digits) names, a tag peeled; libgit2's error code. */
static int commit_by_hex(git_repository *repo, const char *hex, git_commit **out)
{
	git_oid id;
	size_t n = strlen(hex);
	int e = git_oid_fromstrn(&id, hex, n);
	if (e < 0)
		return e;
	git_object *obj = NULL, *peeled = NULL;
	e = git_object_lookup_prefix(&obj, repo, &id, n, GIT_OBJECT_ANY);
	if (e == 0)
		e = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (e == 0)
		*out = (git_commit *)peeled;
	return e;
}

static int commit_hex(git_repository *repo, const char *hex, char oid[41])
{
	git_commit *c = NULL;
	int e = commit_by_hex(repo, hex, &c);
	if (e == 0)
		git_oid_tostr(oid, 41, git_commit_id(c));
	git_commit_free(c);
	return e;
}

/* Where the remote NAME's REF is kept in the store: refs/kforge/NAME/tags/X, .../heads/X, .../HEAD. */
static char *local_ref(const char *name, const struct kf_git_ref *ref)
{
	switch (ref->kind) {
	case KF_GIT_REF_TAG:
		return kf_strdup_printf("refs/kforge/%s/tags/%s", name, ref->name);
	case KF_GIT_REF_BRANCH:
		return kf_strdup_printf("refs/kforge/%s/heads/%s", name, ref->name);
	case KF_GIT_REF_HEAD:
		return kf_strdup_printf("refs/kforge/%s/HEAD", name);
	default:
		return NULL;
	}
}

/* REF in the store as it is: libgit2's error code (GIT_ENOTFOUND when the store lacks it). */
static int resolve(git_repository *repo, const char *name, const struct kf_git_ref *ref, char oid[41])
{
	if (ref->kind == KF_GIT_REF_COMMIT)
		return commit_hex(repo, ref->name, oid);
	_cleanup_free_ char *refname = local_ref(name, ref);
	return refname ? ref_commit(repo, refname, oid) : GIT_ERROR;
}

int kf_git_resolve_local(const char *cache_dir, const char *url, const char *refstr, char oid[41])
{
	struct kf_git_ref ref;
	if (kf_git_ref_parse(refstr, &ref, NULL, 0) < 0)
		return -EINVAL;
	char name[17];
	kf_git_remote_name(url, name);
	git_libgit2_init();
	git_repository *repo = NULL;
	int r = store_open(cache_dir, &repo, NULL, 0);
	if (r == 0)
		r = resolve(repo, name, &ref, oid) == 0 ? 0 : -ENOENT;
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}

/* The store's config names each remote (remote.NAME.url), so that `git remote -v` in it says whose refs are whose. */
static void remember_remote(struct kf_runner *r, git_repository *repo, const char *name, const char *url)
{
	git_config *cfg = NULL;
	if (git_repository_config(&cfg, repo) < 0)
		return;
	_cleanup_free_ char *key = kf_strdup_printf("remote.%s.url", name);
	_cleanup_free_ char *tagopt = kf_strdup_printf("remote.%s.tagopt", name);
	git_buf have = { 0 };
	if (key && tagopt && (git_config_get_string_buf(&have, cfg, key) < 0 || strcmp(have.ptr, url) != 0)) {
		if (git_config_set_string(cfg, key, url) < 0 || git_config_set_string(cfg, tagopt, "--no-tags") < 0)
			kf_dbg(r->ctx, "cannot name the remote %s in the git store: %s", name, git_msg());
	}
	git_buf_dispose(&have);
	git_config_free(cfg);
}

struct fetch_progress {
	struct kf_progress p;
	const char *shown;
};

static int on_transfer(const git_indexer_progress *s, void *data)
{
	struct fetch_progress *fp = data;
	double mib = (double)s->received_bytes / (1024.0 * 1024.0);
	unsigned int pct = s->total_objects ? (unsigned int)(100ULL * s->received_objects / s->total_objects) : 0;
	if (s->received_objects < s->total_objects)
		kf_progress_show(&fp->p, false, "fetching %s: %u%% of %u objects, %.1f MiB", fp->shown, pct,
				 s->total_objects, mib);
	else if (s->total_deltas)
		kf_progress_show(&fp->p, false, "fetching %s: resolving deltas %u of %u", fp->shown, s->indexed_deltas,
				 s->total_deltas);
	int tenth = (int)(pct / 10);
	if (fp->p.r && s->total_objects && tenth > fp->p.last_log_tenth) {
		fp->p.last_log_tenth = tenth;
		kf_runner_log(fp->p.r, "# git: %s: received %u of %u objects (%.1f MiB)\n", fp->shown,
			      s->received_objects, s->total_objects, mib);
	}
	return 0;
}

/* Fetches SPECS from URL into the store: an anonymous remote, so that no insteadOf of a git config rewrites it. */
static int fetch(struct kf_runner *r, git_repository *repo, const char *url, const char *shown, const char *what,
		 const char *const *specs, size_t n_specs, char *why, size_t whysize)
{
	git_remote *remote = NULL;
	git_remote_create_options co;
	git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	co.repository = repo;
	co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	struct fetch_progress fp = { .shown = shown };
	kf_progress_init(&fp.p, r);
	int e = git_remote_create_with_opts(&remote, url, &co);
	if (e == 0) {
		git_fetch_options fo;
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks.transfer_progress = on_transfer;
		fo.callbacks.payload = &fp;
		fo.prune = GIT_FETCH_NO_PRUNE;
		fo.update_fetchhead = 0;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		fo.proxy_opts.type = GIT_PROXY_AUTO;
		git_strarray arr = { (char **)specs, n_specs };
		if (r)
			kf_runner_log(r, "# git: fetching %s (%s) into the store: %s%s\n", shown, what, specs[0],
				      n_specs > 1 ? " ..." : "");
		e = git_remote_fetch(remote, &arr, &fo, "kforge fetch");
	}
	kf_progress_done(&fp.p);
	if (e < 0) {
		bool rewritten = strcmp(url, shown) != 0;
		kf_why(why, whysize,
		       "cannot fetch %s%s%s%s (%s): %s: check the URL and that the repository is reachable, or set [sources] "
		       "rewrite / --source-rewrite to a mirror",
		       shown, rewritten ? " (rewritten to " : "", rewritten ? url : "", rewritten ? " by [sources] rewrite)" : "",
		       what, git_msg());
		git_remote_free(remote);
		return -EHOSTUNREACH; /* the source cannot be had: like an unreachable download */
	}
	const git_indexer_progress *s = git_remote_stats(remote);
	if (r && s)
		kf_runner_log(r, "# git: fetched %s (%s): %u objects, %zu bytes received\n", shown, what,
			      s->received_objects, s->received_bytes);
	git_remote_free(remote);
	return 0;
}

int kf_git_fetch(struct kf_runner *r, const char *cache_dir, const char *url, const char *shown, const char *refstr,
		 char oid[41], char *why, size_t whysize)
{
	struct kf_git_ref ref;
	char inner[512];
	if (!shown)
		shown = url;
	if (kf_git_ref_parse(refstr, &ref, inner, sizeof(inner)) < 0) {
		kf_why(why, whysize, "%s: %s", shown, inner);
		return -EINVAL;
	}
	char what[300];
	kf_git_ref_describe(&ref, what, sizeof(what));
	char name[17];
	kf_git_remote_name(url, name);

	/* two kforge runs fetching at once would race on the store's refs and packs */
	_cleanup_free_ char *locks = kforge_path_join(cache_dir, "locks", NULL);
	_cleanup_free_ char *lockpath = locks ? kforge_path_join(locks, "git-store.lock", NULL) : NULL;
	if (!lockpath)
		return -ENOMEM;
	if (kf_mkdir_p(locks) < 0) {
		int e = -errno;
		kf_why(why, whysize, "cannot create %s: %s (set build.cache_dir in kforge.conf)", locks, strerror(errno));
		return e;
	}
	_cleanup_free_ char *doing = kf_strdup_printf("fetching %s into the git store", shown);
	_cleanup_close_ int lock = kf_lock_file(r->ctx, lockpath, true, doing, NULL);
	if (lock < 0) {
		kf_why(why, whysize, "cannot lock %s: %s", lockpath, strerror(-lock));
		return lock;
	}

	git_libgit2_init();
	git_repository *repo = NULL;
	_cleanup_free_ char *dst = NULL, *spec1 = NULL, *spec2 = NULL;
	int rc = store_create(r, cache_dir, why, whysize);
	if (rc == 0)
		rc = store_open(cache_dir, &repo, why, whysize);
	if (rc < 0)
		goto out;
	/* a tag or a commit does not move: what the store has is what the remote would send */
	if ((ref.kind == KF_GIT_REF_TAG || ref.kind == KF_GIT_REF_COMMIT) && resolve(repo, name, &ref, oid) == 0) {
		kf_info(r->ctx, "%s %s is in the git store already (commit %s): nothing to fetch", shown, what, oid);
		kf_runner_log(r, "# git: %s %s is commit %s, in the store already\n", shown, what, oid);
		goto out;
	}
	remember_remote(r, repo, name, url);
	dst = local_ref(name, &ref);
	switch (ref.kind) {
	case KF_GIT_REF_TAG:
		spec1 = kf_strdup_printf("+refs/tags/%s:%s", ref.name, dst);
		break;
	case KF_GIT_REF_BRANCH:
		spec1 = kf_strdup_printf("+refs/heads/%s:%s", ref.name, dst);
		break;
	case KF_GIT_REF_HEAD:
		spec1 = kf_strdup_printf("+HEAD:%s", dst);
		break;
	case KF_GIT_REF_COMMIT:
		/* no fetch by id over every transport: the remote's branches and tags, then the commit among them */
		spec1 = kf_strdup_printf("+refs/heads/*:refs/kforge/%s/heads/*", name);
		spec2 = kf_strdup_printf("+refs/tags/*:refs/kforge/%s/tags/*", name);
		break;
	}
	if (!spec1 || (ref.kind == KF_GIT_REF_COMMIT && !spec2)) {
		rc = -ENOMEM;
		goto out;
	}
	const char *specs[] = { spec1, spec2 };
	kf_info(r->ctx, "fetching %s (%s) into the git store", shown, what);
	rc = fetch(r, repo, url, shown, what, specs, spec2 ? 2 : 1, why, whysize);
	if (rc < 0)
		goto out;
	int e = resolve(repo, name, &ref, oid);
	if (e == GIT_EAMBIGUOUS) {
		kf_why(why, whysize, "%s: commit %s is ambiguous in the git store: give more of its hex digits", shown,
		       ref.name);
		rc = -EINVAL;
	} else if (e < 0) {
		const char *hint = ref.kind == KF_GIT_REF_COMMIT ? " on its branches and tags" : "";
		kf_why(why, whysize, "%s has no %s%s: check the name (git ls-remote %s lists what it has)", shown, what, hint,
		       shown);
		rc = -ENOENT;
	} else {
		kf_runner_log(r, "# git: %s %s is commit %s\n", shown, what, oid);
	}
out:
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

/* The commit HEX in the store (opened into *REPO): -ESRCH (no store, or not in it), -EINVAL (ambiguous), -EIO with WHY. */
static int open_commit(const char *cache_dir, const char *hex, git_repository **repo, git_commit **commit, char *why,
		       size_t whysize)
{
	*commit = NULL;
	struct kf_git_ref ref;
	_cleanup_free_ char *spec = kf_strdup_printf("commit=%s", hex ? hex : "");
	if (!spec)
		return -ENOMEM;
	if (kf_git_ref_parse(spec, &ref, why, whysize) < 0)
		return -EINVAL;
	int r = store_open(cache_dir, repo, why, whysize);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	int e = commit_by_hex(*repo, hex, commit);
	if (e == GIT_ENOTFOUND) {
		kf_why(why, whysize, "commit %s is not in the git store: fetch it first", hex);
		return -ESRCH;
	}
	if (e == GIT_EAMBIGUOUS) {
		kf_why(why, whysize, "commit %s is ambiguous in the git store: give all 40 hex digits", hex);
		return -EINVAL;
	}
	if (e < 0) {
		kf_why(why, whysize, "cannot read commit %s from the git store: %s", hex, git_msg());
		return -EIO;
	}
	return 0;
}

int kf_git_read(const char *cache_dir, const char *hex, const char *path, char **text, size_t *len, char *why,
		size_t whysize)
{
	*text = NULL;
	if (len)
		*len = 0;
	_cleanup_free_ char *norm = NULL;
	if (kf_tree_path_check(path, &norm) < 0) {
		kf_why(why, whysize, "\"%s\" is not a path inside a tree", path ? path : "(null)");
		return -EINVAL;
	}
	git_libgit2_init();
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	int r = open_commit(cache_dir, hex, &repo, &commit, why, whysize);
	if (r < 0)
		goto out;
	if (git_commit_tree(&tree, commit) < 0 || git_tree_entry_bypath(&entry, tree, norm) < 0) {
		kf_why(why, whysize, "commit %s has no %s", hex, norm);
		r = -ENOENT;
		goto out;
	}
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
		kf_why(why, whysize, "%s of commit %s is a folder, not a file", norm, hex);
		r = git_tree_entry_type(entry) == GIT_OBJECT_TREE ? -EISDIR : -ENOENT;
		goto out;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(entry)) < 0) {
		kf_why(why, whysize, "cannot read %s of commit %s: %s (the git store is damaged: remove it)", norm, hex,
		       git_msg());
		r = -EIO;
		goto out;
	}
	git_object_size_t size = git_blob_rawsize(blob);
	if (size > KF_READ_MAX) {
		kf_why(why, whysize, "%s of commit %s is larger than " KF_READ_MAX_TEXT, norm, hex);
		r = -EFBIG;
		goto out;
	}
	*text = malloc((size_t)size + 1);
	if (!*text) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(*text, git_blob_rawcontent(blob), (size_t)size);
	(*text)[size] = '\0';
	if (len)
		*len = (size_t)size;
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}

/* --- export: a tree written out as files */

struct export {
	git_repository *repo;
	const char *hex;
	struct kf_progress p;
	size_t files;
	unsigned long long bytes;
	char *why;
	size_t whysize;
};

static int refuse(struct export *x, const char *rel, const char *what)
{
	kf_why(x->why, x->whysize,
	       "commit %s has %s \"%s\": refused (a tree from a remote is data: nothing is written outside the folder "
	       "or into a .git): check where the repository comes from",
	       x->hex, what, rel);
	return -EINVAL;
}

static int export_entry_blob(struct export *x, int dirfd, const git_tree_entry *e, const char *rel)
{
	const char *name = git_tree_entry_name(e);
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, x->repo, git_tree_entry_id(e)) < 0) {
		kf_why(x->why, x->whysize, "cannot read %s of commit %s: %s (the git store is damaged: remove it)", rel,
		       x->hex, git_msg());
		return -EIO;
	}
	const void *data = git_blob_rawcontent(blob);
	size_t size = (size_t)git_blob_rawsize(blob);
	int r = 0;
	if (mode == GIT_FILEMODE_LINK) {
		char target[PATH_MAX];
		if (size == 0 || size >= sizeof(target) || memchr(data, '\0', size)) {
			git_blob_free(blob);
			return refuse(x, rel, "a symlink with an impossible target at");
		}
		memcpy(target, data, size);
		target[size] = '\0';
		if (!kf_tree_link_inside(rel, target)) {
			git_blob_free(blob);
			kf_why(x->why, x->whysize,
			       "commit %s has a symlink %s -> %s that leaves the tree: refused (check where the repository "
			       "comes from)",
			       x->hex, rel, target);
			return -EINVAL;
		}
		if (symlinkat(target, dirfd, name) < 0)
			r = -errno;
	} else {
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
		if (fd < 0) {
			r = -errno;
		} else {
			r = kf_write_all(fd, data, size);
			if (close(fd) < 0 && r == 0)
				r = -errno;
		}
		x->bytes += size;
	}
	git_blob_free(blob);
	if (r < 0) {
		kf_why(x->why, x->whysize, "cannot write %s: %s", rel, strerror(-r));
		return r;
	}
	x->files++;
	kf_progress_show(&x->p, false, "exporting commit %.12s: %zu files, %.1f MiB", x->hex, x->files,
			 (double)x->bytes / (1024.0 * 1024.0));
	return 0;
}

/* Makes folder NAME in DIRFD (it may exist: the folders above a subtree) and opens it, never through a link. */
static int open_subdir(struct export *x, int dirfd, const char *name, const char *rel)
{
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
		int r = -errno;
		kf_why(x->why, x->whysize, "cannot create %s: %s", rel, strerror(errno));
		return r;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;
		kf_why(x->why, x->whysize, "cannot open %s: %s (a tree entry twice, or a link where a folder belongs?)", rel,
		       strerror(errno));
		return r;
	}
	return fd;
}

/* Writes TREE's entries into DIRFD (REL its path, for messages and links); folders too when RECURSE. */
static int export_tree(struct export *x, const git_tree *tree, int dirfd, const char *rel, bool recurse)
{
	size_t n = git_tree_entrycount(tree);
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		_cleanup_free_ char *sub = rel[0] ? kf_strdup_printf("%s/%s", rel, name) : strdup(name);
		if (!sub)
			return -ENOMEM;
		if (!kf_tree_name_ok(name, strlen(name)))
			return refuse(x, sub, "a tree entry named");
		int r = 0;
		switch (git_tree_entry_filemode(e)) {
		case GIT_FILEMODE_TREE: {
			if (!recurse)
				break;
			git_tree *child = NULL;
			if (git_tree_lookup(&child, x->repo, git_tree_entry_id(e)) < 0) {
				kf_why(x->why, x->whysize, "cannot read %s of commit %s: %s (the git store is damaged: remove it)",
				       sub, x->hex, git_msg());
				return -EIO;
			}
			int fd = open_subdir(x, dirfd, name, sub);
			r = fd < 0 ? fd : export_tree(x, child, fd, sub, true);
			if (fd >= 0)
				close(fd);
			git_tree_free(child);
			break;
		}
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
		case GIT_FILEMODE_LINK:
			r = export_entry_blob(x, dirfd, e, sub);
			break;
		case GIT_FILEMODE_COMMIT:
			/* a submodule: an empty folder, as a checkout without it leaves */
			if (recurse && mkdirat(dirfd, name, 0755) < 0) {
				r = -errno;
				kf_why(x->why, x->whysize, "cannot create %s: %s", sub, strerror(errno));
			}
			break;
		default:
			return refuse(x, sub, "an entry of an unknown mode,");
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int kf_git_export_into(struct kf_runner *r, const char *cache_dir, const char *hex, const char *subdir,
		       unsigned int flags, const char *dir, char *why, size_t whysize)
{
	_cleanup_free_ char *norm = NULL;
	if (subdir && kf_tree_path_check(subdir, &norm) < 0) {
		kf_why(why, whysize, "\"%s\" is not a folder inside a tree", subdir);
		return -EINVAL;
	}
	git_libgit2_init();
	struct export x = { .hex = hex, .why = why, .whysize = whysize };
	kf_progress_init(&x.p, r);
	git_commit *commit = NULL;
	git_tree *root = NULL;
	int fd = -1;
	int rc = open_commit(cache_dir, hex, &x.repo, &commit, why, whysize);
	if (rc < 0)
		goto out;
	if (git_commit_tree(&root, commit) < 0) {
		kf_why(why, whysize, "cannot read the tree of commit %s: %s (the git store is damaged: remove it)", hex,
		       git_msg());
		rc = -EIO;
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		kf_why(why, whysize, "cannot open %s: %s", dir, strerror(errno));
		goto out;
	}
	if (!norm) {
		rc = export_tree(&x, root, fd, "", true);
		goto out;
	}
	/* down to SUBDIR, one folder at a time, each made and opened without following a link */
	git_tree *cur = root;
	char rel[PATH_MAX] = "";
	for (char *save = NULL, *c = strtok_r(norm, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (flags & KF_TREE_PARENT_FILES) {
			rc = export_tree(&x, cur, fd, rel, false);
			if (rc < 0)
				break;
		}
		size_t used = strlen(rel);
		snprintf(rel + used, sizeof(rel) - used, "%s%s", used ? "/" : "", c);
		const git_tree_entry *e = git_tree_entry_byname(cur, c);
		git_tree *next = NULL;
		if (!e || git_tree_entry_type(e) != GIT_OBJECT_TREE || git_tree_lookup(&next, x.repo, git_tree_entry_id(e)) < 0) {
			kf_why(why, whysize, "commit %s has no folder %s", hex, rel);
			rc = -ENOENT;
			break;
		}
		int sub = open_subdir(&x, fd, c, rel);
		if (cur != root)
			git_tree_free(cur);
		cur = next;
		close(fd);
		fd = sub;
		if (sub < 0) {
			rc = sub;
			break;
		}
	}
	if (rc == 0)
		rc = export_tree(&x, cur, fd, rel, true);
	if (cur != root)
		git_tree_free(cur);
out:
	kf_progress_done(&x.p);
	if (rc == 0 && r)
		kf_runner_log(r, "# git: exported commit %s%s%s into %s: %zu files, %llu bytes\n", hex, norm ? " folder " : "",
			      norm ? subdir : "", dir, x.files, x.bytes);
	if (fd >= 0)
		close(fd);
	git_tree_free(root);
	git_commit_free(commit);
	git_repository_free(x.repo);
	git_libgit2_shutdown();
	return rc;
}

struct export_args {
	struct kf_runner *r;
	const char *cache_dir, *hex, *subdir;
};

static int export_fill(void *data, const char *dir, char *why, size_t whysize)
{
	struct export_args *a = data;
	return kf_git_export_into(a->r, a->cache_dir, a->hex, a->subdir, 0, dir, why, whysize);
}

int kf_git_export(struct kf_runner *r, const char *cache_dir, const char *hex, const char *subdir, const char *dest,
		  char *why, size_t whysize)
{
	struct export_args a = { r, cache_dir, hex, subdir };
	return kf_tree_write(dest, export_fill, &a, why, whysize);
}
