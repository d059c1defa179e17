/*
 * build-cache.c: builds kept by what decides their output, so that nothing is built twice.
 *
 * CACHE/builds/KEY holds files/ (the built .ko files at their paths inside the module folder,
 * and its Module.symvers) and a manifest, written last: "SHA256 RELPATH" a line, then
 * "symvers SHA256" or "symvers -". KEY is the SHA-256 of a text that names everything the
 * output depends on (kf_build_key_text): kforge's version, what was asked, the target's
 * identity (release, .config, Module.symvers, the generated headers), make, the compiler, assembler and linker,
 * make's variables, the symbols of other modules, and the module's sources by content. An
 * entry is made in a temporary folder and renamed into place; a reader holds its lock shared
 * (CACHE/builds/.KEY.lock), which `kforge cache prune` takes exclusively before removing it.
 * What is read back is checked file by file against the manifest: a damaged entry is removed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pipeline/steps.h"

#define BUILDS "builds"
#define MANIFEST_MAX (1024 * 1024)

static void sha256_text(const char *text, size_t len, char out[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(text, len, digest, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		out[0] = '\0';
		return;
	}
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* "file NAME SHA256" of DIR/REL, or "file NAME -" when it is not there. */
static void key_file(struct kf_strbuf *b, const char *name, const char *dir, const char *rel)
{
	_cleanup_free_ char *path = dir ? kforge_path_join(dir, rel, NULL) : strdup(rel);
	char sha[65];
	if (!path || kf_sha256_file(path, sha) < 0)
		strcpy(sha, "-");
	kf_strbuf_appendf(b, "file %s %s\n", name, sha);
}

/* "tool NAME PATH SIZE MTIME" of the program NAME as PATH finds it: a compiler upgrade changes it. */
static void key_tool(struct kf_strbuf *b, const char *name)
{
	_cleanup_free_ char *found = kf_find_program(name, getenv("PATH"));
	char real[PATH_MAX];
	struct stat st;
	if (found && realpath(found, real) && stat(real, &st) == 0)
		kf_strbuf_appendf(b, "tool %s %s %lld %lld.%09ld\n", name, real, (long long)st.st_size,
				  (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	else
		kf_strbuf_appendf(b, "tool %s -\n", name);
}

static bool skip_source(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, ".git") == 0 || kf_build_output(name);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * The sources below TOP/REL in name order: "src REL MODE SHA256" a file (MODE: its execute bit),
 * "link REL TARGET" a link, what kbuild writes and .git left out. FOLLOW (a folder, or NULL): links
 * that lead below it are followed: the module folder of a named module is a mirror of links into
 * the kernel's source, whose targets are the sources.
 */
static int key_tree(struct kf_strbuf *b, const char *top, const char *rel, const char *follow, int depth)
{
	_cleanup_free_ char *dir = rel ? kforge_path_join(top, rel, NULL) : strdup(top);
	if (!dir)
		return -ENOMEM;
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0)
		return -errno;
	int r = depth > 0 ? 0 : -ELOOP;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		_cleanup_free_ char *sub = rel ? kforge_path_join(rel, name, NULL) : strdup(name);
		_cleanup_free_ char *path = kforge_path_join(top, sub ? sub : "", NULL);
		struct stat st;
		if (r < 0 || skip_source(name)) {
			/* nothing */
		} else if (!sub || !path) {
			r = -ENOMEM;
		} else if (lstat(path, &st) < 0 ||
			   (S_ISLNK(st.st_mode) && follow && kf_path_leads_below(path, follow, false) && stat(path, &st) < 0)) {
			kf_strbuf_appendf(b, "gone %s\n", sub);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t len = readlink(path, target, sizeof(target) - 1);
			target[len > 0 ? len : 0] = '\0';
			kf_strbuf_appendf(b, "link %s %s\n", sub, target);
		} else if (S_ISDIR(st.st_mode)) {
			r = key_tree(b, top, sub, follow, depth - 1);
		} else if (S_ISREG(st.st_mode)) {
			char sha[65];
			r = kf_sha256_file(path, sha);
			if (r == 0)
				kf_strbuf_appendf(b, "src %s %c %s\n", sub, st.st_mode & 0111 ? 'x' : '-', sha);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

static const char *kind_word(enum kforge_module_kind k)
{
	return k == KFORGE_MODULE_NAME ? "name" : k == KFORGE_MODULE_INTREE_DIR ? "intree-dir" : "external";
}

int kf_build_key_text(struct kforge_job *job, const struct kf_strv *extra, char **out)
{
	*out = NULL;
	struct kf_strbuf b = { 0 };
	const char *kbuild = job->kbuild_dir;
	kf_strbuf_appendf(&b, "kforge %s, build cache 1\n", KFORGE_VERSION);
	/* a named module's spec is its name; an external folder is known by its content, not its path,
	 * so that two machines (or --root trees) with the same folder share the build */
	kf_strbuf_appendf(&b, "kind %s\n", kind_word(job->kind));
	if (job->kind != KFORGE_MODULE_EXTERNAL)
		kf_strbuf_appendf(&b, "spec %s\nsubdir %s\n", job->module_spec, job->module_subdir ? job->module_subdir : "");
	kf_strbuf_appendf(&b, "strategy %s\nrelease %s\nkbuild %s\n", kforge_strategy_name(job->strategy),
			  job->kernel.release, kforge_job_display_path(job, kbuild));
	if (job->kind != KFORGE_MODULE_EXTERNAL && job->source_dir)
		kf_strbuf_appendf(&b, "source %s\n", kforge_job_display_path(job, job->source_dir));
	static const char *const target[] = { ".config", "Module.symvers", "include/generated/autoconf.h",
					      "include/generated/utsrelease.h", "include/config/kernel.release" };
	for (size_t i = 0; i < ARRAY_SIZE(target); i++)
		key_file(&b, target[i], kbuild, target[i]);
	if (job->packaged_symvers)
		key_file(&b, "packaged-symvers", NULL, job->packaged_symvers);
	for (size_t i = 0; i < job->make_vars.n; i++)
		kf_strbuf_appendf(&b, "var %s\n", job->make_vars.v[i]);
	for (size_t i = 0; extra && i < extra->n; i++)
		key_file(&b, "extra-symbols", NULL, extra->v[i]);
	/* the compiler the target was built with (CONFIG_CC_VERSION_TEXT's first word), gcc, ld */
	const char *text = kforge_job_kconfig(job, "CONFIG_CC_VERSION_TEXT");
	kf_strbuf_appendf(&b, "cc-version %s\n", text ? text : "-");
	char cc[64];
	if (kf_target_cc(job, cc, sizeof(cc)))
		key_tool(&b, cc);
	key_tool(&b, "gcc");
	key_tool(&b, "ld");
	key_tool(&b, "as");
	/* make runs the build: another make on PATH (a wrapper) may build something else */
	key_tool(&b, "make");
	int r = 0;
	if (job->kind == KFORGE_MODULE_EXTERNAL)
		r = key_tree(&b, job->module_origin ? job->module_origin : job->module_dir, NULL, NULL, 16);
	else
		r = key_tree(&b, job->module_dir, NULL, job->source_dir ? job->source_dir : job->module_dir, 16);
	if (r == 0 && !b.s)
		r = -ENOMEM;
	if (r < 0) {
		kf_strbuf_release(&b);
		return r;
	}
	*out = kf_strbuf_steal(&b);
	return *out ? 0 : -ENOMEM;
}

int kf_build_key(struct kforge_job *job, const struct kf_strv *extra, char key[65])
{
	_cleanup_free_ char *text = NULL;
	int r = kf_build_key_text(job, extra, &text);
	if (r < 0)
		return r;
	sha256_text(text, strlen(text), key);
	if (!key[0])
		return -ENOMEM;
	kf_log_to_file(job, "# build key %s of:\n%s", key, text);
	return 0;
}

char *kf_build_cache_path(const char *cache_dir, const char *key)
{
	return kf_strdup_printf("%s/" BUILDS "/%s", cache_dir, key);
}

char *kf_build_cache_lock_path(const char *cache_dir, const char *key)
{
	return kf_strdup_printf("%s/" BUILDS "/.%s.lock", cache_dir, key);
}

/* A relative path read back from a manifest: no leading '/', no empty, "." or ".." component. */
static bool rel_ok(const char *rel)
{
	if (!rel[0] || rel[0] == '/')
		return false;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p)
			p++;
		if (!*p && p[-1] == '/')
			return false;
	}
	return true;
}

/* FILES/REL is the regular file (no link on the way) whose content is SHA. */
static bool entry_file_ok(const char *files, const char *rel, const char *sha)
{
	_cleanup_free_ char *path = kforge_path_join(files, rel, NULL);
	struct stat st;
	char have[65];
	return path && rel_ok(rel) && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       kf_path_leads_below(path, files, false) && kf_sha256_file(path, have) == 0 && strcmp(have, sha) == 0;
}

/* The entry's manifest checked against its files: the .ko paths into BUILT, *SYMVERS set when it has one. */
static int entry_read(const char *entry, struct kf_strv *built, bool *symvers, char *why, size_t whysize)
{
	_cleanup_free_ char *manifest = kforge_path_join(entry, "manifest", NULL);
	_cleanup_free_ char *files = kforge_path_join(entry, "files", NULL);
	_cleanup_free_ char *text = NULL;
	if (!manifest || !files)
		return -ENOMEM;
	int r = kf_read_file_max(manifest, MANIFEST_MAX, &text, NULL);
	if (r < 0) {
		snprintf(why, whysize, "its manifest cannot be read: %s", kf_read_strerror(r));
		return -EBADMSG;
	}
	bool ended = false;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (ended) {
			snprintf(why, whysize, "its manifest goes on after its last line");
			return -EBADMSG;
		}
		char *sp = strchr(l, ' ');
		if (!sp || (strlen(l) < 66 && strncmp(l, "symvers ", 8) != 0)) {
			snprintf(why, whysize, "its manifest has a line that is not \"SHA256 PATH\": %.80s", l);
			return -EBADMSG;
		}
		*sp = '\0';
		if (strcmp(l, "symvers") == 0) {
			ended = true;
			*symvers = strcmp(sp + 1, "-") != 0;
			if (*symvers && !entry_file_ok(files, "Module.symvers", sp + 1)) {
				snprintf(why, whysize, "its Module.symvers is not the one built");
				return -EBADMSG;
			}
			continue;
		}
		if (strlen(l) != 64 || !kf_str_endswith(sp + 1, ".ko") || !entry_file_ok(files, sp + 1, l)) {
			snprintf(why, whysize, "%.200s is not the file built", sp + 1);
			return -EBADMSG;
		}
		_cleanup_free_ char *path = kforge_path_join(files, sp + 1, NULL);
		if (!path || kf_strv_push(built, path) < 0)
			return -ENOMEM;
	}
	if (!ended || !built->n) {
		snprintf(why, whysize, "its manifest is incomplete");
		return -EBADMSG;
	}
	return 0;
}

int kf_build_cache_lookup(struct kforge_job *job, const char *key, bool *hit)
{
	*hit = false;
	_cleanup_free_ char *entry = kf_build_cache_path(job->cache_dir, key);
	_cleanup_free_ char *lockp = kf_build_cache_lock_path(job->cache_dir, key);
	if (!entry || !lockp)
		return -ENOMEM;
	struct stat st;
	if (lstat(entry, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	/* shared: others may use it too; prune waits for none and skips an entry in use */
	int fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || flock(fd, LOCK_SH) < 0) {
		kf_warn(job->ctx, "cannot lock %s (%s): building instead", lockp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	struct kf_strv built = { 0 };
	bool symvers = false;
	char why[320] = "";
	int r = entry_read(entry, &built, &symvers, why, sizeof(why));
	if (r == -EBADMSG && lstat(entry, &st) == 0) {
		/* removed only when no other kforge reads it (the shared lock becomes exclusive) */
		bool alone = flock(fd, LOCK_EX | LOCK_NB) == 0;
		kf_warn(job->ctx, "the build cache's entry %s is damaged (%s): %s, building again", entry, why,
			alone ? "removed" : "left to the kforge using it");
		if (alone)
			kf_rm_rf(entry);
	}
	if (r < 0) {
		kf_strv_free(&built);
		close(fd);
		return r == -EBADMSG ? 0 : r;
	}
	for (size_t i = 0; r == 0 && i < built.n; i++)
		r = kforge_job_add_built_module(job, built.v[i]);
	kf_strv_free(&built);
	_cleanup_free_ char *files = kforge_path_join(entry, "files", NULL);
	if (r == 0 && !files)
		r = -ENOMEM;
	if (r < 0) {
		close(fd);
		return r;
	}
	free(job->built_from);
	job->built_from = files;
	files = NULL;
	if (job->build_lock >= 0)
		close(job->build_lock);
	job->build_lock = fd; /* held to the end of the job, which installs from the entry */
	utimensat(AT_FDCWD, entry, NULL, AT_SYMLINK_NOFOLLOW); /* used now: prune --older-than keeps it */
	*hit = true;
	return 0;
}

/*
 * Copies the regular file FROM (the build user wrote it) to TO, made with its folders: opened
 * without following a link, a regular file with one name only (no hard link to another's file).
 */
static int copy_in(const char *from, const char *to)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return -EINVAL;
	int r = kf_mkdir_parent(to);
	if (r < 0)
		return r;
	_cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0)
		return -errno;
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if ((r = kf_write_all(out, buf, (size_t)n)) < 0)
			return r;
	}
	return fsync(out) < 0 ? -errno : 0;
}

int kf_build_cache_store(struct kforge_job *job, const char *key)
{
	_cleanup_free_ char *entry = kf_build_cache_path(job->cache_dir, key);
	_cleanup_free_ char *tmp = kf_strdup_printf("%s/" BUILDS "/.%s.tmp-XXXXXX", job->cache_dir, key);
	_cleanup_free_ char *files = NULL;
	if (!entry || !tmp)
		return -ENOMEM;
	struct stat st;
	if (lstat(entry, &st) == 0)
		return 0; /* another kforge kept the same build */
	int r = kf_mkdir_parent(tmp);
	if (r < 0)
		return r;
	if (!mkdtemp(tmp))
		return -errno;
	chmod(tmp, 0755);
	if (!(files = kforge_path_join(tmp, "files", NULL)))
		r = -ENOMEM;
	else if (mkdir(files, 0755) < 0)
		r = -errno;
	struct kf_strbuf manifest = { 0 };
	size_t n = strlen(job->module_dir);
	for (size_t i = 0; r == 0 && i < job->built.n; i++) {
		const char *built = job->built.v[i];
		/* only what the build made in its own folder: the paths read back are below files/ */
		if (strncmp(built, job->module_dir, n) != 0 || built[n] != '/' || !rel_ok(built + n + 1)) {
			r = -EXDEV;
			break;
		}
		_cleanup_free_ char *to = kforge_path_join(files, built + n + 1, NULL);
		char sha[65];
		r = to ? copy_in(built, to) : -ENOMEM;
		if (r == 0)
			r = kf_sha256_file(to, sha);
		if (r == 0)
			r = kf_strbuf_appendf(&manifest, "%s %s\n", sha, built + n + 1);
	}
	_cleanup_free_ char *symvers = kforge_path_join(job->module_dir, "Module.symvers", NULL);
	_cleanup_free_ char *symvers_to = kforge_path_join(files, "Module.symvers", NULL);
	char sha[65] = "-";
	if (r == 0 && (!symvers || !symvers_to))
		r = -ENOMEM;
	if (r == 0 && lstat(symvers, &st) == 0 && S_ISREG(st.st_mode) &&
	    (r = copy_in(symvers, symvers_to)) == 0)
		r = kf_sha256_file(symvers_to, sha);
	if (r == 0)
		r = kf_strbuf_appendf(&manifest, "symvers %s\n", sha);
	_cleanup_free_ char *mpath = kforge_path_join(tmp, "manifest", NULL);
	if (r == 0)
		r = mpath && manifest.s ? kf_write_file(mpath, manifest.s, 0644) : -ENOMEM;
	kf_strbuf_release(&manifest);
	if (r == 0 && rename(tmp, entry) < 0)
		r = errno == EEXIST || errno == ENOTEMPTY ? 0 : -errno;
	kf_rm_rf(tmp);
	if (r == 0)
		kf_log_to_file(job, "# kept in the build cache as %s\n", entry);
	return r;
}

int kf_build_cache_forget(struct kforge_job *job, const char *key)
{
	_cleanup_free_ char *entry = kf_build_cache_path(job->cache_dir, key);
	_cleanup_free_ char *lockp = kf_build_cache_lock_path(job->cache_dir, key);
	if (!entry || !lockp)
		return -ENOMEM;
	struct stat st;
	if (lstat(entry, &st) < 0)
		return 0;
	_cleanup_close_ int fd = kf_lock_file(job->ctx, lockp, true, "replacing a kept build", NULL);
	if (fd < 0)
		return fd;
	return kf_rm_rf(entry);
}
