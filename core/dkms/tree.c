/* dkms/tree.c: DKMS's tree (/var/lib/dkms) read as data: packages, their state per kernel, their module files. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "dkms/dkms.h"
#include "kernel/kernel.h"

/*
 * The tree may be damaged by a crash or made by someone else: every folder is opened below its
 * parent's descriptor with O_NOFOLLOW, the only links read are the two kinds DKMS makes (source,
 * kernel-KVER-ARCH), each checked as text before anything resolves it, and what is looked at is
 * bounded.
 */
#define MAX_ENTRIES 4096     /* entries read from one folder */
#define MAX_NAME 128	     /* a package, version, kernel or arch name */
#define MAX_WALK 200000	     /* entries looked at to find an installed file under /lib/modules/KVER */
#define MAX_DEPTH 8

static const char *const state_names[] = { "added", "built", "installed", "broken" };

const char *kforge_dkms_state_name(enum kforge_dkms_state s)
{
	return (unsigned int)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

bool kf_dkms_good_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAX_NAME || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._+~-", *p)))
			return false;
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of D's entries, sorted, "." and ".." left out; at most MAX_ENTRIES (*CUT tells). */
static int list_dir(int dfd, struct kf_strv *out, bool *cut)
{
	int fd = dup(dfd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	*cut = false;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (out->n >= MAX_ENTRIES) {
			*cut = true;
			break;
		}
		r = kf_strv_push(out, e->d_name);
	}
	closedir(d);
	if (r == 0 && out->n > 1)
		qsort(out->v, out->n, sizeof(char *), cmp_names);
	return r;
}

/* NAME below DFD, when it is a real folder (never a link): its fd, else -1. */
static int open_subdir(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* NAME below DFD as fstatat sees it without following: S_IFDIR, S_IFLNK, S_IFREG, other, or 0 when missing. */
static mode_t kind_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return st.st_mode & S_IFMT;
}

/* The target of link NAME below DFD, at most PATH_MAX - 1 bytes (longer: NULL, as damaged). */
static char *read_link_at(int dfd, const char *name)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf) || memchr(buf, '\0', (size_t)n))
		return NULL;
	return strndup(buf, (size_t)n);
}

struct reader {
	const char *root; /* host path of the root */
	const char *kernel;
	char *tree_host;
	struct kf_strv problems;
	struct kf_strbuf entries; /* struct kforge_dkms_entry, packed */
	size_t n;
};

static void problem(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct reader *rd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) >= 0) {
		/* said as the target sees it */
		size_t n = strlen(rd->root);
		while (n && rd->root[n - 1] == '/')
			n--;
		kf_strv_push(&rd->problems, n && strncmp(s, rd->root, n) == 0 && s[n] == '/' ? s + n : s);
		free(s);
	}
	va_end(ap);
}

static int add_entry(struct reader *rd, struct kforge_dkms_entry *e)
{
	size_t need = (rd->n + 1) * sizeof(*e);
	if (need > rd->entries.cap) {
		size_t cap = rd->entries.cap ? rd->entries.cap * 2 : 8 * sizeof(*e);
		while (cap < need)
			cap *= 2;
		char *s = realloc(rd->entries.s, cap);
		if (!s)
			return -ENOMEM;
		rd->entries.s = s;
		rd->entries.cap = cap;
	}
	memcpy(rd->entries.s + rd->n * sizeof(*e), e, sizeof(*e));
	rd->n++;
	return 0;
}

static void entry_release(struct kforge_dkms_entry *e)
{
	free(e->name);
	free(e->version);
	free(e->kernel);
	free(e->arch);
	free(e->source);
	free(e->source_dir);
	free(e->problem);
	for (size_t i = 0; i < e->n_modules; i++) {
		free(e->modules[i].name);
		free(e->modules[i].built);
		free(e->modules[i].installed);
	}
	free(e->modules);
}

void kforge_dkms_tree_free(struct kforge_dkms_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		entry_release(&t->entries[i]);
	free(t->entries);
	for (size_t i = 0; t->problems && t->problems[i]; i++)
		free(t->problems[i]);
	free(t->problems);
	free(t->path);
	free(t);
}

/*
 * The package's source link, as DKMS makes it (source -> /usr/src/NAME-VER): the text must name one
 * folder right under /usr/src, and what it resolves to under the root must still lie under the
 * root's /usr/src and be a folder. Returns its host path, or NULL with *WHY said.
 */
static char *check_source(struct reader *rd, const char *src, char **why)
{
	const char *leaf = strncmp(src, "/usr/src/", 9) == 0 ? src + 9 : NULL;
	if (!leaf || !kf_dkms_good_name(leaf)) {
		*why = kf_strdup_printf("its source link leads to %s, outside /usr/src: not followed", src);
		return NULL;
	}
	_cleanup_free_ char *usr_src = NULL, *host = NULL;
	if (kforge_path_resolve(rd->root, "/usr/src", &usr_src) < 0 || kforge_path_resolve(rd->root, src, &host) < 0) {
		*why = kf_strdup_printf("its source link %s cannot be resolved", src);
		return NULL;
	}
	size_t n = strlen(usr_src);
	if (strncmp(host, usr_src, n) != 0 || host[n] != '/' || strchr(host + n + 1, '/')) {
		*why = kf_strdup_printf("its source %s is a link that leads out of /usr/src: not followed", src);
		return NULL;
	}
	if (!kf_is_dir(host)) {
		*why = kf_strdup_printf("its source link dangles: %s is no folder (reinstall the package that "
					"ships it, or `dkms remove` it)",
					src);
		return NULL;
	}
	*why = NULL;
	char *ret = host;
	host = NULL;
	return ret;
}

/* Is NAME below DFD a regular file with the same bytes as the file BUILT (a host path)? */
static bool same_content(int dfd, const char *name, const char *built)
{
	_cleanup_close_ int a = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int b = open(built, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat sa, sb;
	if (a < 0 || b < 0 || fstat(a, &sa) < 0 || fstat(b, &sb) < 0 || !S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) ||
	    sa.st_size != sb.st_size)
		return false;
	char x[8192], y[8192];
	for (;;) {
		ssize_t n = read(a, x, sizeof(x));
		if (n <= 0)
			return n == 0;
		ssize_t got = 0;
		while (got < n) {
			ssize_t m = read(b, y + got, (size_t)(n - got));
			if (m <= 0)
				return false;
			got += m;
		}
		if (memcmp(x, y, (size_t)n) != 0)
			return false;
	}
}

/*
 * Looks for FILE below DFD (REL its path so far), links not followed: the first one with BUILT's
 * bytes, since DKMS copies module/FILE as it is (kforge's own module of the same name is another file).
 */
static char *find_below(int dfd, const char *rel, const char *file, const char *built, int depth, size_t *budget)
{
	if (depth > MAX_DEPTH)
		return NULL;
	struct kf_strv names = { 0 };
	bool cut;
	if (list_dir(dfd, &names, &cut) < 0)
		return NULL;
	char *found = NULL;
	for (size_t i = 0; !found && i < names.n && *budget; i++, (*budget)--)
		if (strcmp(names.v[i], file) == 0 && same_content(dfd, file, built))
			found = kf_strdup_printf("%s/%s", rel, file);
	for (size_t i = 0; !found && i < names.n && *budget; i++, (*budget)--) {
		int sub = kind_at(dfd, names.v[i]) == S_IFDIR ? open_subdir(dfd, names.v[i]) : -1;
		if (sub < 0)
			continue;
		_cleanup_free_ char *r = kf_strdup_printf("%s/%s", rel, names.v[i]);
		found = r ? find_below(sub, r, file, built, depth + 1, budget) : NULL;
		close(sub);
	}
	kf_strv_free(&names);
	return found;
}

/*
 * Where DKMS installed FILE (BUILT: its copy in module/) for KVER, as the target sees it: updates/dkms
 * (Debian's and Arch's place, dkms.in:509), else found by name and content.
 */
static char *installed_path(struct reader *rd, const char *kver, const char *file, const char *built)
{
	_cleanup_free_ char *in_root = kf_strdup_printf("/lib/modules/%s", kver);
	_cleanup_free_ char *host = NULL;
	if (!in_root || kforge_path_resolve(rd->root, in_root, &host) < 0)
		return NULL;
	_cleanup_close_ int mfd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return NULL;
	_cleanup_free_ char *dkms = kf_strdup_printf("updates/dkms/%s", file);
	if (dkms && kind_at(mfd, dkms) == S_IFREG)
		return kf_strdup_printf("%s/%s", in_root, dkms);
	size_t budget = MAX_WALK;
	return find_below(mfd, in_root, file, built, 0, &budget);
}

/* The module files in KVER/ARCH/module/ (MFD), into E. */
static int read_modules(struct reader *rd, int mfd, const char *mhost, struct kforge_dkms_entry *e)
{
	struct kf_strv names = { 0 };
	bool cut;
	int r = list_dir(mfd, &names, &cut);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	if (cut)
		problem(rd, "%s: more than %d entries: the rest is not read", mhost, MAX_ENTRIES);
	e->modules = calloc(names.n ? names.n : 1, sizeof(*e->modules));
	if (!e->modules) {
		kf_strv_free(&names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < names.n; i++) {
		const char *f = names.v[i];
		if (!kf_is_module_file(f))
			continue; /* Module.symvers, .dep_* */
		if (!kf_dkms_good_name(f) || kind_at(mfd, f) != S_IFREG) {
			problem(rd, "%s/%s: not a plain module file: skipped", mhost, f);
			continue;
		}
		struct kforge_dkms_module *m = &e->modules[e->n_modules];
		m->name = kf_module_name_of(f);
		m->built = kf_strdup_printf("%s/%s", mhost, f);
		if (!m->name || !m->built) {
			free(m->name);
			free(m->built);
			kf_strv_free(&names);
			return -ENOMEM;
		}
		e->n_modules++;
		if (!e->installed)
			continue;
		m->installed = installed_path(rd, e->kernel, f, m->built);
		if (!m->installed && !e->problem)
			e->problem = kf_strdup_printf("no copy of %s under /lib/modules/%s (moved aside or removed since)", f,
						      e->kernel);
	}
	kf_strv_free(&names);
	return 0;
}

/* A package's installed kernels: "VER/KVER/ARCH" for each kernel-KVER-ARCH link that reads right. */
static int read_kernel_links(struct reader *rd, int pfd, const char *phost, const struct kf_strv *names,
			     struct kf_strv *installed)
{
	for (size_t i = 0; i < names->n; i++) {
		const char *l = names->v[i];
		if (strncmp(l, "kernel-", 7) != 0 || kind_at(pfd, l) != S_IFLNK)
			continue;
		_cleanup_free_ char *t = read_link_at(pfd, l);
		char ver[MAX_NAME + 1], kver[MAX_NAME + 1], arch[MAX_NAME + 1];
		bool ok = t && strlen(t) < 3 * (MAX_NAME + 1);
		if (ok) {
			char *a = strchr(t, '/'), *b = a ? strchr(a + 1, '/') : NULL;
			ok = a && b && !strchr(b + 1, '/') && (size_t)(a - t) <= MAX_NAME && (size_t)(b - a - 1) <= MAX_NAME;
			if (ok) {
				snprintf(ver, sizeof(ver), "%.*s", (int)(a - t), t);
				snprintf(kver, sizeof(kver), "%.*s", (int)(b - a - 1), a + 1);
				snprintf(arch, sizeof(arch), "%s", b + 1);
				ok = kf_dkms_good_name(ver) && kf_dkms_good_name(kver) && kf_dkms_good_name(arch);
			}
		}
		_cleanup_free_ char *want = ok ? kf_strdup_printf("kernel-%s-%s", kver, arch) : NULL;
		if (!ok || !want || strcmp(want, l) != 0) {
			problem(rd, "%s/%s -> %s: not the VERSION/KERNEL/ARCH link DKMS makes (it leads out of the "
				    "package or names another kernel): not followed",
				phost, l, t ? t : "(unreadable)");
			continue;
		}
		if (kf_strv_push(installed, t) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* NAME/VER (VFD): the source check, then an entry per KVER/ARCH. */
static int read_version(struct reader *rd, int vfd, const char *vhost, const char *name, const char *ver,
			const struct kf_strv *installed)
{
	struct kforge_dkms_entry base = { 0 };
	_cleanup_free_ char *why = NULL;
	mode_t sk = kind_at(vfd, "source");
	if (sk == S_IFLNK) {
		base.source = read_link_at(vfd, "source");
		base.source_dir = base.source ? check_source(rd, base.source, &why) : NULL;
		if (!base.source)
			why = strdup("its source link cannot be read");
	} else {
		why = strdup(sk ? "its source is not a link to /usr/src/NAME-VERSION" : "it has no source link");
	}
	struct kf_strv kvers = { 0 };
	bool cut;
	int r = list_dir(vfd, &kvers, &cut);
	size_t before = rd->n;
	for (size_t i = 0; r == 0 && i < kvers.n; i++) {
		const char *kver = kvers.v[i];
		if (strcmp(kver, "source") == 0 || strcmp(kver, "build") == 0 || kind_at(vfd, kver) != S_IFDIR)
			continue;
		if (!kf_dkms_good_name(kver)) {
			problem(rd, "%s/%s: not a kernel release: skipped", vhost, kver);
			continue;
		}
		if (rd->kernel && strcmp(rd->kernel, kver) != 0)
			continue;
		_cleanup_close_ int kfd = open_subdir(vfd, kver);
		struct kf_strv arches = { 0 };
		if (kfd < 0 || list_dir(kfd, &arches, &cut) < 0)
			continue;
		for (size_t j = 0; r == 0 && j < arches.n; j++) {
			const char *arch = arches.v[j];
			if (strncmp(arch, ".tmp_", 5) == 0 || kind_at(kfd, arch) != S_IFDIR)
				continue; /* what an interrupted build left (dkms.in:1624) */
			if (!kf_dkms_good_name(arch)) {
				problem(rd, "%s/%s/%s: not an architecture: skipped", vhost, kver, arch);
				continue;
			}
			_cleanup_close_ int afd = open_subdir(kfd, arch);
			_cleanup_close_ int mfd = afd < 0 ? -1 : open_subdir(afd, "module");
			_cleanup_free_ char *link = kf_strdup_printf("%s/%s/%s", ver, kver, arch);
			struct kforge_dkms_entry e = {
				.name = strdup(name),
				.version = strdup(ver),
				.kernel = strdup(kver),
				.arch = strdup(arch),
				.installed = link && kf_strv_contains(installed, link),
				.source = base.source ? strdup(base.source) : NULL,
				.source_dir = base.source_dir ? strdup(base.source_dir) : NULL,
				.problem = why ? strdup(why) : NULL,
			};
			e.state = why ? KFORGE_DKMS_BROKEN
				  : mfd < 0 ? KFORGE_DKMS_ADDED
				  : e.installed ? KFORGE_DKMS_INSTALLED
						: KFORGE_DKMS_BUILT;
			_cleanup_free_ char *mhost = kf_strdup_printf("%s/%s/%s/module", vhost, kver, arch);
			if (!e.name || !e.version || !e.kernel || !e.arch || !mhost)
				r = -ENOMEM;
			if (r == 0 && mfd >= 0)
				r = read_modules(rd, mfd, mhost, &e);
			if (r == 0 && mfd < 0 && e.installed && !e.problem)
				e.problem = strdup("DKMS marks it installed, but it has no module/ folder");
			if (r == 0)
				r = add_entry(rd, &e);
			if (r < 0)
				entry_release(&e);
		}
		kf_strv_free(&arches);
	}
	kf_strv_free(&kvers);
	if (r == 0 && rd->n == before && !rd->kernel) {
		/* added, built for no kernel */
		base.name = strdup(name);
		base.version = strdup(ver);
		base.state = why ? KFORGE_DKMS_BROKEN : KFORGE_DKMS_ADDED;
		base.problem = why;
		why = NULL;
		r = base.name && base.version ? add_entry(rd, &base) : -ENOMEM;
		if (r == 0)
			return 0;
	}
	entry_release(&base);
	return r;
}

static int read_package(struct reader *rd, int tfd, const char *name)
{
	_cleanup_free_ char *phost = kf_strdup_printf("%s/%s", rd->tree_host, name);
	_cleanup_close_ int pfd = open_subdir(tfd, name);
	if (!phost)
		return -ENOMEM;
	if (pfd < 0)
		return 0;
	struct kf_strv names = { 0 }, installed = { 0 };
	bool cut;
	int r = list_dir(pfd, &names, &cut);
	if (r == 0 && cut)
		problem(rd, "%s: more than %d entries: the rest is not read", phost, MAX_ENTRIES);
	if (r == 0)
		r = read_kernel_links(rd, pfd, phost, &names, &installed);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		const char *v = names.v[i];
		mode_t k = kind_at(pfd, v);
		if ((k == S_IFLNK && strncmp(v, "kernel-", 7) == 0) || strcmp(v, "original_module") == 0)
			continue;
		if (k != S_IFDIR || !kf_dkms_good_name(v)) {
			problem(rd, "%s/%s: not a version folder of DKMS's: skipped%s", phost, v,
				k == S_IFLNK ? " (a link, not followed)" : "");
			continue;
		}
		_cleanup_close_ int vfd = open_subdir(pfd, v);
		_cleanup_free_ char *vhost = kf_strdup_printf("%s/%s", phost, v);
		if (!vhost)
			r = -ENOMEM;
		else if (vfd >= 0)
			r = read_version(rd, vfd, vhost, name, v, &installed);
	}
	kf_strv_free(&names);
	kf_strv_free(&installed);
	return r;
}

int kf_dkms_tree_read(const char *root, const char *kernel, struct kforge_dkms_tree **out)
{
	struct reader rd = { .root = root, .kernel = kernel };
	struct kforge_dkms_tree *t = calloc(1, sizeof(*t));
	int r = t ? kforge_path_resolve(root, KF_DKMS_TREE, &rd.tree_host) : -ENOMEM;
	if (r < 0) {
		free(t);
		return r;
	}
	t->path = strdup(KF_DKMS_TREE);
	_cleanup_close_ int tfd = open(rd.tree_host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->found = tfd >= 0;
	struct kf_strv names = { 0 };
	bool cut = false;
	r = t->path ? 0 : -ENOMEM;
	if (r == 0 && tfd >= 0)
		r = list_dir(tfd, &names, &cut);
	if (r == 0 && cut)
		problem(&rd, "%s: more than %d entries: the rest is not read", rd.tree_host, MAX_ENTRIES);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		const char *n = names.v[i];
		mode_t k = kind_at(tfd, n);
		if (k == S_IFREG && strncmp(n, "mok.", 4) == 0)
			continue; /* DKMS's signing key and certificate */
		if (k != S_IFDIR || !kf_dkms_good_name(n)) {
			problem(&rd, "%s/%s: not a package folder of DKMS's: skipped%s", rd.tree_host, n,
				k == S_IFLNK ? " (a link, not followed)" : "");
			continue;
		}
		r = read_package(&rd, tfd, n);
	}
	kf_strv_free(&names);
	t->entries = (struct kforge_dkms_entry *)rd.entries.s;
	t->n = rd.n;
	t->problems = rd.problems.v ? rd.problems.v : calloc(1, sizeof(char *));
	free(rd.tree_host);
	if (r == 0 && !t->problems)
		r = -ENOMEM;
	if (r < 0) {
		kforge_dkms_tree_free(t);
		return r;
	}
	*out = t;
	return 0;
}

int kforge_dkms_list(struct kforge_job *job, const char *kernel, struct kforge_dkms_tree **out)
{
	return kf_dkms_tree_read(kforge_job_root(job), kernel, out);
}
