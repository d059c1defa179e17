/* external.c: an external module's folder copied into kforge's work folder, and what it holds. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/steps.h"

/*
 * The copy keeps a manifest of the files it took from the source: "SIZE SRC_MTIME DST_MTIME PATH"
 * a line (mtimes in ns), beside the copy (DST.kforge-mirror), where the build user who writes the
 * copy cannot reach it. A file whose source and copy are as the manifest says is left alone, so
 * that its mtime stays and kbuild's no-op stays one; a file the manifest lists and the source no
 * longer has is removed. What the build wrote (objects) is in no manifest and stays.
 */
#define MANIFEST ".kforge-mirror"

struct entry {
	char *path;
	long long size, src_ns, dst_ns;
	bool seen; /* the source still has it */
};

struct mirror {
	const char *src, *dst;
	struct entry *old; /* sorted by path */
	size_t n_old;
	struct kf_strbuf out; /* the new manifest */
	size_t copied;
};

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

bool kf_build_output(const char *name)
{
	static const char *const suffixes[] = { ".o", ".ko", ".mod", ".mod.c", ".a" };
	if (strcmp(name, "modules.order") == 0 || strcmp(name, "Module.symvers") == 0 ||
	    strncmp(name, ".kforge-", 8) == 0 || strcmp(name, ".tmp_versions") == 0)
		return true;
	if (name[0] == '.' && (kf_str_endswith(name, ".cmd") || kf_str_endswith(name, ".d")))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (kf_str_endswith(name, suffixes[i]))
			return true;
	return false;
}

static void load_manifest(struct mirror *m)
{
	_cleanup_free_ char *path = kf_strdup_printf("%s%s", m->dst, MANIFEST);
	_cleanup_free_ char *text = NULL;
	if (!path || kf_read_file(path, &text, NULL) < 0)
		return;
	size_t cap = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct entry e;
		int off = 0;
		if (sscanf(l, "%lld %lld %lld %n", &e.size, &e.src_ns, &e.dst_ns, &off) != 3 || !off || !l[off])
			continue;
		if (m->n_old == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct entry *v = realloc(m->old, ncap * sizeof(*v));
			if (!v)
				break;
			m->old = v;
			cap = ncap;
		}
		e.seen = false;
		e.path = strdup(l + off);
		if (e.path)
			m->old[m->n_old++] = e;
	}
	if (m->n_old)
		qsort(m->old, m->n_old, sizeof(*m->old), entry_cmp);
}

static struct entry *old_entry(const struct mirror *m, const char *rel)
{
	struct entry key = { .path = (char *)rel };
	return m->n_old ? bsearch(&key, m->old, m->n_old, sizeof(*m->old), entry_cmp) : NULL;
}

/* FROM's content into TO (through TO.kforge-tmp), with FROM's permission bits. */
static int copy_file(const char *from, const char *to, mode_t mode)
{
	_cleanup_free_ char *tmp = kf_strdup_printf("%s.kforge-tmp", to);
	if (!tmp)
		return -ENOMEM;
	int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	/* the copy is the build user's: whatever it left at TMP goes, and no link is followed; no
	 * setuid or setgid bit is copied into a file root owns */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		int e = -errno;
		close(in);
		return e;
	}
	int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode & 0777) | 0600);
	if (out < 0) {
		int e = -errno;
		close(in);
		return e;
	}
	int r = 0;
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = -errno;
				break;
			}
			done += w;
		}
		if (r < 0)
			break;
	}
	close(in);
	if (r == 0 && fchmod(out, (mode & 0777) | 0600) < 0)
		r = -errno;
	if (close(out) < 0 && r == 0)
		r = -errno;
	if (r == 0) {
		struct stat st;
		/* a folder where the source now has a file */
		if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode))
			kf_rm_rf(to);
		if (rename(tmp, to) < 0)
			r = -errno;
	}
	if (r < 0)
		unlink(tmp);
	return r;
}

static int mirror_dir(struct mirror *m, const char *rel)
{
	_cleanup_free_ char *src = rel ? kforge_path_join(m->src, rel, NULL) : strdup(m->src);
	_cleanup_free_ char *dst = rel ? kforge_path_join(m->dst, rel, NULL) : strdup(m->dst);
	if (!src || !dst)
		return -ENOMEM;
	struct stat st;
	if (lstat(dst, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(dst) < 0)
		return -errno;
	if (kf_mkdir_p(dst) < 0)
		return -errno;
	DIR *d = opendir(src);
	if (!d)
		return -errno;
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || kf_build_output(e->d_name))
			continue;
		_cleanup_free_ char *sub = rel ? kforge_path_join(rel, e->d_name, NULL) : strdup(e->d_name);
		_cleanup_free_ char *from = kforge_path_join(m->src, sub, NULL);
		_cleanup_free_ char *to = kforge_path_join(m->dst, sub, NULL);
		if (!sub || !from || !to) {
			r = -ENOMEM;
			break;
		}
		struct stat s, t;
		if (lstat(from, &s) < 0)
			continue;
		bool have = lstat(to, &t) == 0;
		if (S_ISDIR(s.st_mode)) {
			r = mirror_dir(m, sub);
		} else if (S_ISLNK(s.st_mode)) {
			char target[PATH_MAX], now[PATH_MAX];
			ssize_t n = readlink(from, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			ssize_t k = have && S_ISLNK(t.st_mode) ? readlink(to, now, sizeof(now) - 1) : -1;
			if (k >= 0)
				now[k] = '\0';
			if (k >= 0 && strcmp(now, target) == 0)
				continue;
			if (have)
				r = S_ISDIR(t.st_mode) ? kf_rm_rf(to) : unlink(to) < 0 ? -errno : 0;
			if (r == 0 && symlink(target, to) < 0)
				r = -errno;
			m->copied++;
		} else if (S_ISREG(s.st_mode)) {
			struct entry *o = old_entry(m, sub);
			if (o)
				o->seen = true;
			if (!(o && have && S_ISREG(t.st_mode) && o->size == (long long)s.st_size &&
			      o->src_ns == ns_of(&s.st_mtim) && o->dst_ns == ns_of(&t.st_mtim) && t.st_size == s.st_size)) {
				r = copy_file(from, to, s.st_mode);
				if (r == 0 && lstat(to, &t) < 0)
					r = -errno;
				m->copied++;
			}
			if (r == 0)
				kf_strbuf_appendf(&m->out, "%lld %lld %lld %s\n", (long long)s.st_size, ns_of(&s.st_mtim),
						  ns_of(&t.st_mtim), sub);
		}
	}
	closedir(d);
	return r;
}

int kf_mirror_external(struct kforge_job *job, const char *src, const char *dst)
{
	struct mirror m = { .src = src, .dst = dst };
	load_manifest(&m);
	int r = mirror_dir(&m, NULL);
	size_t removed = 0;
	/* the files the source no longer has (a stale header must not win over the new one), only
	 * where the copy's folders lead inside it (the build user may have put a link there) */
	for (size_t i = 0; r == 0 && i < m.n_old; i++) {
		if (m.old[i].seen || strstr(m.old[i].path, "..") || m.old[i].path[0] == '/')
			continue;
		_cleanup_free_ char *gone = kforge_path_join(dst, m.old[i].path, NULL);
		_cleanup_free_ char *parent = gone ? strdup(gone) : NULL;
		struct stat st;
		if (!parent)
			continue;
		*strrchr(parent, '/') = '\0';
		if (!kf_path_leads_below(parent, dst, true))
			continue;
		if (lstat(gone, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(gone) == 0)
			removed++;
	}
	_cleanup_free_ char *manifest = kf_strdup_printf("%s%s", dst, MANIFEST);
	if (r == 0)
		r = manifest ? kf_write_file(manifest, m.out.s ? m.out.s : "", 0644) : -ENOMEM;
	if (r == 0)
		kf_log_to_file(job, "# copied %s into %s: %zu files new or changed, %zu removed\n", src, dst, m.copied,
			       removed);
	for (size_t i = 0; i < m.n_old; i++)
		free(m.old[i].path);
	free(m.old);
	kf_strbuf_release(&m.out);
	return r;
}

/* Does FILE assign obj-m (or obj-$(CONFIG_...))? Does it run $(MAKE) -C itself? */
static void scan_makefile(const char *file, bool *objm, bool *wrapper)
{
	_cleanup_free_ char *text = NULL;
	if (kf_read_file(file, &text, NULL) < 0)
		return;
	for (char *l = text, *next; l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		l = kf_strstrip(l);
		if (l[0] == '#')
			continue;
		if (strncmp(l, "obj-m", 5) == 0 || strncmp(l, "obj-$(", 6) == 0)
			*objm = true;
		if ((strstr(l, "$(MAKE)") || strstr(l, "${MAKE}") || strncmp(l, "make ", 5) == 0) && strstr(l, "-C"))
			*wrapper = true;
	}
}

/* The sub-folders (two levels down) whose Makefile or Kbuild assigns obj-m, into OUT. */
static void objm_subdirs(const char *top, const char *rel, int depth, struct kf_strv *out)
{
	_cleanup_free_ char *dir = rel ? kforge_path_join(top, rel, NULL) : strdup(top);
	DIR *d = dir ? opendir(dir) : NULL;
	for (struct dirent *e; d && (e = readdir(d)) && out->n < 4;) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = rel ? kforge_path_join(rel, e->d_name, NULL) : strdup(e->d_name);
		_cleanup_free_ char *path = sub ? kforge_path_join(top, sub, NULL) : NULL;
		if (!path || !kf_is_dir(path))
			continue;
		bool objm = false, wrapper = false;
		static const char *const names[] = { "Kbuild", "Makefile" };
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			_cleanup_free_ char *f = kforge_path_join(path, names[i], NULL);
			if (f)
				scan_makefile(f, &objm, &wrapper);
		}
		if (objm)
			kf_strv_push(out, sub);
		if (depth > 1)
			objm_subdirs(top, sub, depth - 1, out);
	}
	if (d)
		closedir(d);
}

/* Does FILE test KERNELRELEASE to tell kbuild's pass from its own (ifneq ($(KERNELRELEASE),))? */
static bool tests_kernelrelease(const char *file)
{
	_cleanup_free_ char *text = NULL;
	if (kf_read_file(file, &text, NULL) < 0)
		return false;
	for (char *l = text, *next; l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		l = kf_strstrip(l);
		if ((strncmp(l, "ifeq", 4) == 0 || strncmp(l, "ifneq", 5) == 0 || strncmp(l, "ifdef", 5) == 0 ||
		     strncmp(l, "ifndef", 6) == 0) &&
		    strstr(l, "KERNELRELEASE"))
			return true;
	}
	return false;
}

bool kf_external_wrapper(const char *dir, bool *objm, bool *guard)
{
	_cleanup_free_ char *kbuild = kforge_path_join(dir, "Kbuild", NULL);
	_cleanup_free_ char *makefile = kforge_path_join(dir, "Makefile", NULL);
	bool wrapper = false, ignored = false;
	*objm = *guard = false;
	if (kbuild && kf_is_file(kbuild))
		scan_makefile(kbuild, objm, &ignored);
	if (makefile && kf_is_file(makefile)) {
		scan_makefile(makefile, objm, &wrapper);
		*guard = tests_kernelrelease(makefile);
	}
	return wrapper;
}

int kf_describe_external(const char *dir, struct kf_strbuf *out)
{
	_cleanup_free_ char *kbuild = kforge_path_join(dir, "Kbuild", NULL);
	_cleanup_free_ char *makefile = kforge_path_join(dir, "Makefile", NULL);
	if (!kbuild || !makefile)
		return -ENOMEM;
	bool has_kbuild = kf_is_file(kbuild), has_makefile = kf_is_file(makefile);
	bool objm = false, wrapper = false, ignored = false;
	if (has_kbuild)
		scan_makefile(kbuild, &objm, &ignored);
	if (has_makefile)
		scan_makefile(makefile, &objm, &wrapper);
	kf_strbuf_appendf(out, "it has %s", has_kbuild && has_makefile ? "a Kbuild file and a Makefile"
					    : has_kbuild		 ? "a Kbuild file and no Makefile"
					    : has_makefile		 ? "a Makefile and no Kbuild file"
								 : "neither a Kbuild file nor a Makefile");
	if (has_kbuild || has_makefile)
		kf_strbuf_appendf(out, ", %s", objm ? "an obj-m line" : "no obj-m line");
	if (wrapper)
		kf_strbuf_append(out, ", and its Makefile runs $(MAKE) -C itself (a wrapper: kbuild reads only its obj-m "
				      "lines, not its own targets)");
	struct kf_strv subs = { 0 };
	objm_subdirs(dir, NULL, 2, &subs);
	for (size_t i = 0; i < subs.n; i++)
		kf_strbuf_appendf(out, "%s%s", i ? ", " : "; obj-m is set in ", subs.v[i]);
	kf_strv_free(&subs);
	return 0;
}
