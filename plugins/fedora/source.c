/*
 * source.c: the fedora plugin's locate-source and derive-version steps: the kernel's source
 * package (a local file, dnf download --source, or a URL: Koji, the RHEL rebuilds' vaults) read
 * with libarchive, its tree prepared (rpmbuild -bp unprivileged, or the spec's patches applied in
 * its order, read as data), EXTRAVERSION set as the spec's InitBuildVars sets it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kforge/kforge.h>

#include "fedora.h"

#define TREE_STAMP ".kforge-fedora-tree"
#define KOJI_URL "https://kojipkgs.fedoraproject.org/packages/kernel/%v/%r/src/kernel-%v-%r.src.rpm"
#define ROCKY_URL "https://dl.rockylinux.org/vault/rocky/%m/BaseOS/source/tree/Packages/k/kernel-%v-%r.src.rpm"
#define ALMA_URL "https://vault.almalinux.org/%m/BaseOS/Source/Packages/kernel-%v-%r.src.rpm"
#define STREAM_URL "https://mirror.stream.centos.org/%M-stream/BaseOS/source/tree/Packages/kernel-%v-%r.src.rpm"
#define ARK_URL "https://gitlab.com/cki-project/kernel-ark.git"

/* Writes TEXT into PATH under a temporary name, renamed into place. */
static int write_file(const char *path, const char *text, size_t len)
{
	_fedora_cleanup_free_ char *tmp = kforge_strdup_printf("%s.tmp-%ld", path, (long)getpid());
	if (!tmp)
		return -ENOMEM;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			unlink(tmp);
			return e;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	return 0;
}

/* ID= of the root's os-release ("fedora", "rocky"), into BUF; "" when none. */
static void os_id(struct kforge_job *job, char *buf, size_t size)
{
	buf[0] = '\0';
	_fedora_cleanup_free_ char *path = kforge_path_find(kforge_job_root(job), "/etc/os-release");
	if (!path)
		path = kforge_path_find(kforge_job_root(job), "/usr/lib/os-release");
	_fedora_cleanup_free_ char *text = NULL;
	if (!path || kforge_read_file(path, &text) < 0)
		return;
	for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, "ID=", 3) == 0) {
			const char *v = p + 3 + (p[3] == '"');
			snprintf(buf, size, "%.*s", (int)strcspn(v, "\"\n"), v);
			return;
		}
}

/* [plugin.fedora] srpm_url, else the family's default (NULL: none, with WHY). */
static const char *srpm_url_format(struct kforge_job *job, const struct fedora_release *fr, char *why, size_t whysize)
{
	const char *set = kforge_plugin_config_get(job, "srpm_url");
	if (set && set[0])
		return set;
	if (!fr->rhel)
		return KOJI_URL;
	char id[64];
	os_id(job, id, sizeof(id));
	if (strcmp(id, "rocky") == 0)
		return ROCKY_URL;
	if (strcmp(id, "almalinux") == 0)
		return ALMA_URL;
	if (strcmp(id, "centos") == 0)
		return STREAM_URL;
	snprintf(why, whysize, "Red Hat publishes no public URL for the source of %s (%s): set [plugin.fedora] srpm to "
			       "kernel-%s-%s.src.rpm (dnf download --source kernel-%s-%s with a subscription), or srpm_url",
		 fr->release, id[0] ? id : "a RHEL-family system", fr->version, fr->rel, fr->version, fr->rel);
	return NULL;
}

/* ---- the source package ---- */

/*
 * dnf download --source kernel-VER-REL into a folder of its own, as the build user (with network:
 * it fetches), into *FOUND; *FOUND NULL when dnf is not there or gave nothing (the URL then).
 * -ECANCELED when the job failed (the build user).
 */
static int dnf_download(struct kforge_job *job, const struct fedora_release *fr, const char *user, char **found)
{
	*found = NULL;
	_fedora_cleanup_free_ char *dnf = kforge_path_find(kforge_job_root(job), "/usr/bin/dnf");
	_fedora_cleanup_free_ char *host_dnf = kforge_find_program("dnf");
	if (!dnf || !host_dnf)
		return 0;
	char nvr[160];
	snprintf(nvr, sizeof(nvr), "kernel-%s-%s", fr->version, fr->rel);
	if (kforge_job_is_plan(job)) {
		kforge_plan_note(job, "dnf download --source %s as %s into a temporary folder (dnf is installed); the URL "
				      "below if that fails",
				 nvr, user && user[0] ? user : "the build user ([build] user)");
		return 0;
	}
	char dir[] = "/tmp/kforge-dnf-XXXXXX";
	if (!mkdtemp(dir))
		return 0;
	char cache[64], dest[64];
	snprintf(cache, sizeof(cache), "--setopt=cachedir=%s/cache", dir);
	snprintf(dest, sizeof(dest), "--destdir=%s", dir);
	const char *root = kforge_job_root(job);
	_fedora_cleanup_free_ char *installroot = kforge_strdup_printf("--installroot=%s", root);
	if (!installroot) {
		rmdir(dir);
		return -ENOMEM;
	}
	const char *argv[] = { "dnf", "download", "--source", cache, dest, nvr, NULL, NULL };
	if (strcmp(root, "/") != 0) {
		argv[5] = installroot;
		argv[6] = nvr;
	}
	/* dnf writes its own state (the root's): bubblewrap's read-only / would stop it */
	const char *const writable[] = { dir, NULL };
	struct kforge_sandbox sb = { .user = user,
				     .user_setting = "[plugin.fedora] build_user",
				     .writable = writable,
				     .home = dir,
				     .network = true,
				     .no_bwrap = true };
	int rc = kforge_run_sandboxed(job, dir, argv, &sb, NULL);
	if (rc == -ECANCELED) {
		kforge_remove_tree(dir);
		return rc;
	}
	if (rc == 0)
		*found = kforge_strdup_printf("%s/%s.src.rpm", dir, nvr);
	if (*found && access(*found, R_OK) != 0) {
		free(*found);
		*found = NULL;
	}
	if (!*found) {
		kforge_plan_note(job, "dnf download --source %s gave no %s.src.rpm: the URL instead", nvr, nvr);
		kforge_remove_tree(dir);
	}
	return 0;
}

/*
 * The SRPM's host path into *PATH: [plugin.fedora] srpm, dnf, else the URL (fetched into the
 * cache). *TMPDIR is a folder to remove after use (dnf's), or NULL.
 */
static int find_srpm(struct kforge_job *job, const struct fedora_release *fr, char **path, char **tmpdir)
{
	*path = NULL;
	*tmpdir = NULL;
	const char *local = kforge_plugin_config_get(job, "srpm");
	if (local && local[0]) {
		*path = kforge_path_find(kforge_job_root(job), local);
		if (!*path)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "[plugin.fedora] srpm = %s does not exist under the root: put kernel-%s-%s.src.rpm "
					       "there or unset it",
					       local, fr->version, fr->rel);
		kforge_plan_note(job, "source package %s ([plugin.fedora] srpm)", local);
		return 0;
	}
	const char *user = kforge_plugin_config_get(job, "build_user");
	char *dnf = NULL;
	int r = dnf_download(job, fr, user, &dnf);
	if (r < 0)
		return r;
	if (dnf) {
		*path = dnf;
		*tmpdir = strndup(dnf, strrchr(dnf, '/') - dnf);
		return *tmpdir ? 0 : -ENOMEM;
	}
	char why[768];
	const char *format = srpm_url_format(job, fr, why, sizeof(why));
	if (!format)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "%s", why);
	_fedora_cleanup_free_ char *url = NULL;
	r = fedora_url_format(format, fr, &url, why, sizeof(why));
	if (r < 0)
		return r == -ENOMEM ? r : kforge_job_fail(job, KFORGE_EXIT_USAGE, "%s", why);
	char name[200];
	snprintf(name, sizeof(name), "kernel-%s-%s.src.rpm", fr->version, fr->rel);
	r = kforge_fetch(job, url, name, NULL, path);
	if (r < 0 && r != -ECANCELED)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot fetch %s from %s: %s", name, url, strerror(-r));
	return r;
}

/* ---- preparing the tree ---- */

struct prep {
	const struct fedora_release *fr;
	const char *srpm;	/* host path, for messages */
	const char *files_dir;	/* the SRPM's files */
	char **files;
	size_t n_files;
	const char *spec_name; /* "kernel.spec" */
	struct fedora_spec spec;
	const char *subdir;	/* headers strategy: only this folder, when no patch applies */
	const char *user;
};

/* The kernel tarball: Source0 resolved, else the one linux-*.tar.* of the SRPM. */
static const char *find_tarball(struct kforge_job *job, struct prep *p)
{
	const char *file = NULL;
	char why[512];
	if (p->spec.source0 && fedora_spec_resolve(&p->spec, p->spec.source0, p->files, p->n_files, &file, why,
						   sizeof(why)) == 0)
		return file;
	for (size_t i = 0; i < p->n_files; i++)
		if (strncmp(p->files[i], "linux-", 6) == 0 && strstr(p->files[i], ".tar")) {
			if (file) {
				kforge_job_fail(job, KFORGE_EXIT_FAILURE,
						"%s has two kernel tarballs (%s, %s) and its Source0 (%s) names neither "
						"as data: use [plugin.fedora] prep = rpmbuild",
						p->srpm, file, p->files[i], p->spec.source0 ? p->spec.source0 : "none");
				return NULL;
			}
			file = p->files[i];
		}
	if (!file)
		kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s holds no kernel tarball (linux-*.tar.*): is it the kernel's "
							  "source package?",
				p->srpm);
	return file;
}

/* The spec's patches as data, in %prep's order, onto TREE (unpacked from the tarball). */
static int prep_data(struct kforge_job *job, struct prep *p, const char *tree)
{
	const char *tarball = find_tarball(job, p);
	if (!tarball)
		return -ECANCELED;
	/* which patches apply: resolved and counted before anything is unpacked */
	const char **files = calloc(p->spec.n_apply + 1, sizeof(*files));
	if (!files)
		return -ENOMEM;
	size_t applying = 0;
	int r = 0;
	for (size_t i = 0; i < p->spec.n_apply && r == 0; i++) {
		const struct fedora_apply *a = &p->spec.apply[i];
		char why[768];
		if (fedora_spec_resolve(&p->spec, a->name, p->files, p->n_files, &files[i], why, sizeof(why)) < 0) {
			r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s of %s, line %u: %s", p->spec_name, p->srpm, a->line,
					    why);
			break;
		}
		_fedora_cleanup_free_ char *path = kforge_path_join(p->files_dir, files[i], NULL);
		_fedora_cleanup_free_ char *text = NULL;
		if (!path || kforge_read_file(path, &text) < 0) {
			r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot read %s out of %s", files[i], p->srpm);
			break;
		}
		/* Fedora's ApplyOptionalPatch: a patch of 9 lines or fewer is left out (an empty one) */
		if (a->optional && fedora_count_lines(text, strlen(text)) <= 9) {
			kforge_plan_note(job, "%s is empty (ApplyOptionalPatch, line %u): not applied", files[i], a->line);
			files[i] = NULL;
			continue;
		}
		applying++;
	}
	/* a patch may touch anything: only an unpatched tree can be cut down to the module's folder */
	const char *subdir = applying ? NULL : p->subdir;
	if (r == 0) {
		_fedora_cleanup_free_ char *tar = kforge_path_join(p->files_dir, tarball, NULL);
		kforge_plan_note(job, "unpack %s%s%s, then apply %zu patch%s in %s's %%prep order (read as data%s)", tarball,
				 subdir ? ", only " : "", subdir ? subdir : "", applying, applying == 1 ? "" : "es",
				 p->spec_name, p->spec.conditional ? "; every %if branch's patches" : "");
		r = tar ? kforge_unpack(job, tar, subdir, tree) : -ENOMEM;
		if (r < 0 && r != -ECANCELED)
			r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot unpack %s of %s: %s", tarball, p->srpm,
					    strerror(-r));
	}
	for (size_t i = 0; i < p->spec.n_apply && r == 0; i++) {
		if (!files[i])
			continue;
		_fedora_cleanup_free_ char *path = kforge_path_join(p->files_dir, files[i], NULL);
		char strip[16];
		int s = p->spec.apply[i].strip;
		snprintf(strip, sizeof(strip), "-p%d", s < 0 ? 1 : s);
		if (!path)
			r = -ENOMEM;
		else if (kforge_runl(job, tree, "patch", "-N", strip, "--no-backup-if-mismatch", "-i", path, NULL) != 0)
			r = kforge_job_fail(job, KFORGE_EXIT_BUILD,
					    "%s (%s line %u) does not apply to %s's tree (patch %s failed: see the log): the "
					    "source package's files do not fit together",
					    files[i], p->spec_name, p->spec.apply[i].line, tarball, strip);
	}
	free(files);
	return r;
}

/* A folder (depth 1 or 2 under DIR) holding a kernel Makefile: what %prep left in BUILD. */
static char *find_kernel_tree(const char *dir, int depth)
{
	_fedora_cleanup_free_ char *mk = kforge_path_join(dir, "Makefile", NULL);
	_fedora_cleanup_free_ char *text = NULL;
	char v[32], e[80];
	if (depth < 3 && mk && kforge_read_file(mk, &text) == 0 &&
	    kforge_makefile_version(text, v, sizeof(v), e, sizeof(e)) == 0 && kforge_is_dir(dir))
		return strdup(dir);
	if (depth >= 3)
		return NULL;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char *found = NULL;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_fedora_cleanup_free_ char *sub = kforge_path_join(dir, de->d_name, NULL);
		struct stat st;
		if (sub && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			found = find_kernel_tree(sub, depth + 1);
	}
	closedir(d);
	return found;
}

/*
 * rpmbuild -bp (or rpmspec -P, whose output is read as data) as the build user, without network
 * (kforge_run_sandboxed): TOPDIR is all it writes, and its HOME.
 */
/* Who the sandboxed commands run as, for messages: [plugin.fedora] build_user, else [build] user's. */
static const char *build_user_name(const struct prep *p)
{
	return p->user && p->user[0] ? p->user : "the build user ([build] user)";
}

static int run_sandboxed(struct kforge_job *job, struct prep *p, const char *topdir, const char *const cmd[],
			 char **out)
{
	const char *const writable[] = { topdir, NULL };
	/* %prep of a real kernel unpacks and patches for minutes; one that hangs is killed */
	struct kforge_sandbox sb = { .user = p->user,
				     .user_setting = "[plugin.fedora] build_user",
				     .writable = writable,
				     .home = topdir,
				     .timeout = 1800 };
	int rc = kforge_run_sandboxed(job, topdir, cmd, &sb, out);
	if (rc == -ECANCELED)
		return rc;
	if (rc != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD,
				       "%s %s of %s failed (%s %d, as %s without network: see the log); [plugin.fedora] prep "
				       "= data applies the spec's patches without running it",
				       cmd[0], cmd[1], p->spec_name, rc < 0 ? "error" : "exit", rc < 0 ? -rc : rc, build_user_name(p));
	return 0;
}

/* The topdir rpmbuild and rpmspec read: SOURCES (the SRPM's files), SPECS/the spec. */
static int make_topdir(struct kforge_job *job, struct prep *p, const char *topdir)
{
	_fedora_cleanup_free_ char *sources = kforge_path_join(topdir, "SOURCES", NULL);
	_fedora_cleanup_free_ char *specs = kforge_path_join(topdir, "SPECS", NULL);
	if (!sources || !specs)
		return -ENOMEM;
	if (mkdir(topdir, 0755) < 0 || rename(p->files_dir, sources) < 0 || mkdir(specs, 0755) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot lay out %s for rpmbuild: %s", topdir,
				       strerror(errno));
	p->files_dir = NULL; /* moved */
	_fedora_cleanup_free_ char *from = kforge_path_join(sources, p->spec_name, NULL);
	_fedora_cleanup_free_ char *to = kforge_path_join(specs, p->spec_name, NULL);
	if (!from || !to || link(from, to) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot place %s in %s: %s", p->spec_name, specs,
				       strerror(errno));
	return 0;
}

static int prep_rpmbuild(struct kforge_job *job, struct prep *p, const char *topdir, const char *tree)
{
	int r = make_topdir(job, p, topdir);
	if (r < 0)
		return r;
	_fedora_cleanup_free_ char *define = kforge_strdup_printf("_topdir %s", topdir);
	_fedora_cleanup_free_ char *tmppath = kforge_strdup_printf("_tmppath %s/tmp", topdir);
	_fedora_cleanup_free_ char *tmpdir = kforge_strdup_printf("%s/tmp", topdir);
	_fedora_cleanup_free_ char *spec = kforge_strdup_printf("%s/SPECS/%s", topdir, p->spec_name);
	if (!define || !tmppath || !tmpdir || !spec)
		return -ENOMEM;
	/* rpmbuild's scripts go to _tmppath: /var/tmp is read-only in the sandbox */
	if (mkdir(tmpdir, 0755) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s", tmpdir, strerror(errno));
	kforge_plan_note(job, "rpmbuild -bp %s as %s without network: %%prep unpacks and patches the tree", p->spec_name,
			 build_user_name(p));
	const char *cmd[] = { "rpmbuild", "-bp", "--nodeps", "--define", define, "--define", tmppath, spec, NULL };
	if ((r = run_sandboxed(job, p, topdir, cmd, NULL)) < 0)
		return r;
	_fedora_cleanup_free_ char *build = kforge_strdup_printf("%s/BUILD", topdir);
	_fedora_cleanup_free_ char *found = build ? find_kernel_tree(build, 0) : NULL;
	if (!found)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "rpmbuild -bp %s left no kernel tree in %s", p->spec_name,
				       build ? build : topdir);
	/* copied, not renamed: the build user owned it, the cache's tree is kforge's (and /tmp may be tmpfs) */
	if (kforge_runl(job, NULL, "cp", "-R", "--preserve=mode,timestamps,links", "--", found, tree, NULL) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot copy %s to %s (see the log)", found, tree);
	return 0;
}

/* rpmspec -P: the spec with its macros expanded by rpm (in the sandbox); then read as data. */
static int prep_rpmspec(struct kforge_job *job, struct prep *p, const char *topdir, const char *tree)
{
	int r = make_topdir(job, p, topdir);
	if (r < 0)
		return r;
	_fedora_cleanup_free_ char *define = kforge_strdup_printf("_topdir %s", topdir);
	_fedora_cleanup_free_ char *spec = kforge_strdup_printf("%s/SPECS/%s", topdir, p->spec_name);
	_fedora_cleanup_free_ char *sources = kforge_strdup_printf("%s/SOURCES", topdir);
	if (!define || !spec || !sources)
		return -ENOMEM;
	kforge_plan_note(job, "rpmspec -P %s as %s without network, its %%prep's patches applied as data", p->spec_name,
			 build_user_name(p));
	const char *cmd[] = { "rpmspec", "-P", "--define", define, spec, NULL };
	_fedora_cleanup_free_ char *text = NULL;
	if ((r = run_sandboxed(job, p, topdir, cmd, &text)) < 0)
		return r;
	struct fedora_spec parsed;
	char why[768];
	if (fedora_spec_parse(text, strlen(text), &parsed, why, sizeof(why)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "rpmspec -P %s: %s", p->spec_name, why);
	fedora_spec_free(&p->spec);
	p->spec = parsed;
	p->files_dir = sources;
	r = prep_data(job, p, tree);
	p->files_dir = NULL;
	return r;
}

/*
 * Makes TREE's Makefile say the release: EXTRAVERSION = -REL.ARCH[+VARIANT] and the version's
 * PATCHLEVEL, as InitBuildVars does before every build (%prep leaves upstream's).
 */
static int set_extraversion(struct kforge_job *job, const struct fedora_release *fr, const char *tree)
{
	_fedora_cleanup_free_ char *mk = kforge_path_join(tree, "Makefile", NULL);
	_fedora_cleanup_free_ char *text = NULL, *out = NULL;
	char version[32], extra[80];
	if (!mk || kforge_read_file(mk, &text) < 0 ||
	    kforge_makefile_version(text, version, sizeof(version), extra, sizeof(extra)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s has no VERSION, PATCHLEVEL and SUBLEVEL: the source "
								 "package's tree is no kernel tree",
				       mk ? mk : tree);
	/* a pre-rc1 tree says the previous PATCHLEVEL: the spec sets it, so only VERSION and SUBLEVEL must agree */
	unsigned int a, b, c, x, y, z;
	if (sscanf(version, "%u.%u.%u", &a, &b, &c) != 3 || sscanf(fr->version, "%u.%u.%u", &x, &y, &z) != 3 ||
	    a != x || c != z)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "the source package's tree is %s (its Makefile), the kernel %s is %s: not its source",
				       version, fr->release, fr->version);
	if (strcmp(extra, fr->extraversion) == 0)
		return 0;
	kforge_plan_note(job, "EXTRAVERSION \"%s\" -> \"%s\" in the Makefile, as the spec's InitBuildVars sets it", extra,
			 fr->extraversion);
	int r = fedora_makefile_set(text, fr->version, fr->extraversion, &out);
	if (r == 0)
		r = write_file(mk, out, strlen(out));
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot set EXTRAVERSION in %s: %s", mk, strerror(-r));
	return 0;
}

/* The SRPM's files into FILES_DIR, its spec read. */
static int open_srpm(struct kforge_job *job, struct prep *p, const char *files_dir)
{
	char why[1024];
	/* checked before anything is read from it: libarchive reads past the rpm header without its
	 * digests, and a damaged payload may decompress into garbage before its compressor's check
	 * fails (gzip's trailer is not checked at all); rpm's own check sees every change */
	_fedora_cleanup_free_ char *rpmkeys = kforge_find_program("rpmkeys");
	int checked = -1; /* 1: digests OK; 0: rpm could not read it (libarchive says what it is) */
	if (rpmkeys) {
		const char *argv[] = { "rpmkeys", "--checksig", "--nosignature", "--", p->srpm, NULL };
		_fedora_cleanup_free_ char *out = NULL;
		int r = kforge_run_capture(job, NULL, argv, &out);
		if (r == -ENOMEM)
			return r;
		if (r != 0 && out && strstr(out, "NOT OK"))
			return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					       "kernel-%s-%s.src.rpm (%s) is damaged: its digests do not match (rpmkeys "
					       "--checksig, see %s): fetch it again or check where it came from",
					       p->fr->version, p->fr->rel, p->srpm, kforge_job_log_path(job));
		checked = r == 0;
	} else {
		kforge_plan_note(job, "%s: its rpm digests are not checked (no rpmkeys: install rpm); its payload is "
				      "checked as it decompresses",
				 p->srpm);
	}
	if (mkdir(files_dir, 0755) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s", files_dir, strerror(errno));
	int r = fedora_srpm_extract(p->srpm, files_dir, &p->files, &p->n_files, why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return kforge_job_fail(job, r == -EBADMSG || r == -EINVAL ? KFORGE_EXIT_REFUSED : KFORGE_EXIT_FAILURE,
				       "kernel-%s-%s.src.rpm: %s", p->fr->version, p->fr->rel, why);
	if (checked == 0)
		return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
				       "rpm cannot check kernel-%s-%s.src.rpm (%s: rpmkeys --checksig failed, see %s): "
				       "fetch it again or check where it came from",
				       p->fr->version, p->fr->rel, p->srpm, kforge_job_log_path(job));
	for (size_t i = 0; i < p->n_files; i++) {
		size_t n = strlen(p->files[i]);
		if (n > 5 && strcmp(p->files[i] + n - 5, ".spec") == 0) {
			if (p->spec_name)
				return kforge_job_fail(job, KFORGE_EXIT_REFUSED, "%s holds two specs (%s, %s): refused", p->srpm,
						       p->spec_name, p->files[i]);
			p->spec_name = p->files[i];
		}
	}
	if (!p->spec_name)
		return kforge_job_fail(job, KFORGE_EXIT_REFUSED, "%s holds no .spec: it is no source package", p->srpm);
	_fedora_cleanup_free_ char *path = kforge_path_join(files_dir, p->spec_name, NULL);
	_fedora_cleanup_free_ char *text = NULL;
	if (!path || (r = kforge_read_file(path, &text)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_REFUSED, "cannot read %s out of %s", p->spec_name, p->srpm);
	if (fedora_spec_parse(text, strlen(text), &p->spec, why, sizeof(why)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_REFUSED, "%s of %s: %s", p->spec_name, p->srpm, why);
	return 0;
}

/* [plugin.fedora] prep, auto resolved: "rpmbuild", "rpmspec" or "data". */
static const char *prep_method(struct kforge_job *job)
{
	const char *m = kforge_plugin_config_get(job, "prep");
	if (m && m[0] && strcmp(m, "auto") != 0)
		return m;
	_fedora_cleanup_free_ char *rpmbuild = kforge_find_program("rpmbuild");
	_fedora_cleanup_free_ char *rpmspec = rpmbuild ? NULL : kforge_find_program("rpmspec");
	return rpmbuild ? "rpmbuild" : rpmspec ? "rpmspec" : "data";
}

/* The tree from the SRPM at SRPM, written at TMP, renamed to FINAL with its stamp. */
static int build_tree(struct kforge_job *job, const struct fedora_release *fr, const char *srpm, const char *method,
		      const char *subdir, const char *final, const char *stampline)
{
	const char *user = kforge_plugin_config_get(job, "build_user");
	struct prep p = { .fr = fr, .srpm = srpm, .subdir = subdir, .user = user };
	/* the SRPM's files and rpmbuild's topdir: in /tmp, which the build user can reach (the cache may not be) */
	char work[] = "/tmp/kforge-fedora-XXXXXX";
	if (!mkdtemp(work))
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make a folder in /tmp: %s", strerror(errno));
	_fedora_cleanup_free_ char *tmp = kforge_strdup_printf("%s.tmp-%ld", final, (long)getpid());
	_fedora_cleanup_free_ char *files = kforge_path_join(work, "files", NULL);
	_fedora_cleanup_free_ char *topdir = kforge_path_join(work, "rpmbuild", NULL);
	if (!tmp || !files || !topdir) {
		rmdir(work);
		return -ENOMEM;
	}
	kforge_remove_tree(tmp);
	int r = 0;
	if (chmod(work, 0755) < 0)
		r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot open %s to the build user: %s", work, strerror(errno));
	p.files_dir = files;
	if (r == 0)
		r = open_srpm(job, &p, files);
	if (r == 0) {
		kforge_plan_note(job, "%s: %s, %zu files, %zu patches applied by its %%prep", srpm, p.spec_name, p.n_files,
				 p.spec.n_apply);
		if (strcmp(method, "rpmbuild") == 0)
			r = prep_rpmbuild(job, &p, topdir, tmp);
		else if (strcmp(method, "rpmspec") == 0)
			r = prep_rpmspec(job, &p, topdir, tmp);
		else
			r = prep_data(job, &p, tmp);
	}
	_fedora_cleanup_free_ char *mk = kforge_path_join(tmp, "Makefile", NULL);
	if (r == 0 && subdir && mk && access(mk, F_OK) != 0)
		kforge_plan_note(job, "only %s/ was unpacked (no patch applies): the build dir's release counts", subdir);
	else if (r == 0)
		r = set_extraversion(job, fr, tmp);
	_fedora_cleanup_free_ char *stamp = kforge_path_join(tmp, TREE_STAMP, NULL);
	if (r == 0) {
		_fedora_cleanup_free_ char *line = kforge_strdup_printf("%s\n", stampline);
		r = !stamp || !line ? -ENOMEM : write_file(stamp, line, strlen(line));
		if (r < 0 && r != -ENOMEM)
			r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write %s: %s", stamp, strerror(-r));
	}
	if (r == 0 && rename(tmp, final) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot rename %s to %s: %s", tmp, final,
					    strerror(errno));
	}
	kforge_remove_tree(tmp);
	kforge_remove_tree(work);
	fedora_names_free(p.files, p.n_files);
	fedora_spec_free(&p.spec);
	return r;
}

/* The stamp's first line, or "" */
static void read_stamp(const char *path, char *buf, size_t size)
{
	_fedora_cleanup_free_ char *text = NULL;
	buf[0] = '\0';
	if (path && kforge_read_file(path, &text) == 0)
		snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
}

static int ark_tree(struct kforge_job *job, const struct fedora_release *fr, const char *subdir, const char *final,
		    const char *stampline)
{
	const char *url = kforge_plugin_config_get(job, "ark_url");
	char ref[200], oid[41] = "";
	snprintf(ref, sizeof(ref), "tag=kernel-%s-%s", fr->version, fr->rel);
	kforge_plan_note(job, "kernel-ark %s at %s ([plugin.fedora] source = ark)", url && url[0] ? url : ARK_URL, ref);
	int r = kforge_git_fetch(job, url && url[0] ? url : ARK_URL, ref, oid);
	if (r < 0)
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot fetch kernel-ark at %s: %s", ref,
							 strerror(-r));
	if (kforge_job_is_plan(job) || strspn(oid, "0") == 40) {
		kforge_plan_note(job, "export its tree into %s and set EXTRAVERSION to \"%s\"", final, fr->extraversion);
		return 0;
	}
	_fedora_cleanup_free_ char *tmp = kforge_strdup_printf("%s.tmp-%ld", final, (long)getpid());
	if (!tmp)
		return -ENOMEM;
	kforge_remove_tree(tmp);
	/* the tag's tree is the patched one: the headers strategy needs its Makefile, so the whole tree */
	(void)subdir;
	r = kforge_git_export(job, oid, NULL, tmp);
	if (r < 0 && r != -ECANCELED)
		r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot export kernel-ark %s into %s: %s", ref, tmp,
				    strerror(-r));
	if (r == 0)
		r = set_extraversion(job, fr, tmp);
	_fedora_cleanup_free_ char *stamp = kforge_path_join(tmp, TREE_STAMP, NULL);
	_fedora_cleanup_free_ char *line = kforge_strdup_printf("%s\n", stampline);
	if (r == 0 && (!stamp || !line))
		r = -ENOMEM;
	if (r == 0 && (r = write_file(stamp, line, strlen(line))) < 0)
		r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write %s: %s", stamp, strerror(-r));
	if (r == 0 && rename(tmp, final) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
	kforge_remove_tree(tmp);
	return r;
}

/*
 * The cache's tree of the release prepared by METHOD (SUBDIR only, or whole when NULL), malloc'd;
 * WANT is the first line of its stamp when complete, GOT the stamp's line there now ("" if none).
 */
static char *tree_path(const char *srcdir, const struct fedora_release *fr, const char *method, const char *subdir,
		       char *want, size_t wsize, char *got, size_t gsize)
{
	char key[400];
	snprintf(key, sizeof(key), "fedora-%s-%s%s%s", fr->release, method, subdir ? "-only-" : "", subdir ? subdir : "");
	for (char *c = key; *c; c++)
		if (*c == '/')
			*c = '_';
	char *final = kforge_path_join(srcdir, key, NULL);
	_fedora_cleanup_free_ char *stamp = final ? kforge_path_join(final, TREE_STAMP, NULL) : NULL;
	if (!stamp) {
		free(final);
		return NULL;
	}
	snprintf(want, wsize, "kernel-%s-%s %s %s %s", fr->version, fr->rel, fr->release, method, subdir ? subdir : "(all)");
	read_stamp(stamp, got, gsize);
	return final;
}

int fedora_locate_source(struct kforge_job *job)
{
	if (kforge_job_module_kind(job) == KFORGE_MODULE_EXTERNAL || kforge_job_source(job))
		return kforge_default_locate_source(job);
	struct fedora_release fr;
	char why[768];
	if (fedora_release_parse(kforge_job_kernel(job), &fr, why, sizeof(why)) < 0) {
		/* not a packaged kernel (a custom build on Fedora): the core's default asks for --source */
		kforge_plan_note(job, "%s: no source package to look for", why);
		return kforge_default_locate_source(job);
	}
	const char *source = kforge_plugin_config_get(job, "source");
	bool ark = source && strcmp(source, "ark") == 0;
	const char *method = ark ? "ark" : prep_method(job);
	char sub[256];
	const char *subdir = !ark && kforge_job_headers_subdir(job, sub, sizeof(sub)) == 0 ? sub : NULL;
	_fedora_cleanup_free_ char *srcdir = kforge_strdup_printf("%s/src", kforge_job_cache_dir(job));
	if (!srcdir)
		return -ENOMEM;
	char want[600], got[600];
	_fedora_cleanup_free_ char *final = tree_path(srcdir, &fr, method, NULL, want, sizeof(want), got, sizeof(got));
	if (!final)
		return -ENOMEM;
	if (subdir && strcmp(got, want) == 0) {
		subdir = NULL; /* a whole tree an earlier run made (the full strategy's) serves the headers strategy too */
	} else if (subdir) {
		free(final);
		final = tree_path(srcdir, &fr, method, subdir, want, sizeof(want), got, sizeof(got));
		if (!final)
			return -ENOMEM;
	}
	int r;
	if (strcmp(got, want) == 0) {
		kforge_plan_note(job, "the kernel-%s-%s tree %s is ready from an earlier run", fr.version, fr.rel, final);
	} else {
		if (kforge_is_dir(final) && !kforge_job_is_plan(job)) {
			/* a tree is renamed into place whole, stamp included: one without it was damaged since */
			kforge_plan_note(job, "%s has no stamp saying it is complete: made again", final);
			kforge_remove_tree(final);
		}
		if (!kforge_job_is_plan(job) && (r = kforge_mkdir_p(srcdir)) < 0)
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s", srcdir, strerror(-r));
		if (ark) {
			r = ark_tree(job, &fr, subdir, final, want);
			if (r < 0)
				return r;
		} else {
			_fedora_cleanup_free_ char *srpm = NULL, *tmpdir = NULL;
			r = find_srpm(job, &fr, &srpm, &tmpdir);
			if (r < 0)
				return r;
			if (kforge_job_is_plan(job)) {
				kforge_plan_note(job, "read kernel-%s-%s.src.rpm (libarchive), prepare its tree (%s), set "
						      "EXTRAVERSION \"%s\", into %s",
						 fr.version, fr.rel,
						 strcmp(method, "rpmbuild") == 0  ? "rpmbuild -bp, unprivileged, no network"
						 : strcmp(method, "rpmspec") == 0 ? "rpmspec -P, then its patches as data"
										  : "its spec's patches read as data",
						 fr.extraversion, final);
			} else {
				r = build_tree(job, &fr, srpm, method, subdir, final, want);
			}
			if (tmpdir)
				kforge_remove_tree(tmpdir);
			if (r < 0)
				return r;
		}
	}
	r = kforge_job_set_source_dir(job, final);
	return r < 0 ? r : kforge_default_locate_source(job);
}

/* ---- derive version ---- */

int fedora_derive_version(struct kforge_job *job)
{
	struct fedora_release fr;
	char why[768];
	if (kforge_job_module_kind(job) == KFORGE_MODULE_EXTERNAL || kforge_job_source(job) ||
	    kforge_job_strategy(job) != KFORGE_STRATEGY_FULL ||
	    fedora_release_parse(kforge_job_kernel(job), &fr, why, sizeof(why)) < 0)
		return kforge_default_derive_version(job);
	const char *tree = kforge_job_source_dir(job);
	_fedora_cleanup_free_ char *mk = tree ? kforge_path_join(tree, "Makefile", NULL) : NULL;
	_fedora_cleanup_free_ char *text = NULL;
	const char *lv = kforge_job_kconfig(job, "CONFIG_LOCALVERSION");
	if (!mk || access(mk, F_OK) != 0) {
		kforge_plan_note(job, "release %s: %s + EXTRAVERSION \"%s\" (set in the prepared tree's Makefile, as the "
				      "spec's InitBuildVars does); checked once it is prepared",
				 fr.release, fr.version, fr.extraversion);
		return 0;
	}
	char version[32], extra[80];
	if (kforge_read_file(mk, &text) < 0 || kforge_makefile_version(text, version, sizeof(version), extra,
								       sizeof(extra)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "%s has no VERSION, PATCHLEVEL and SUBLEVEL: is %s a "
								 "kernel source tree?",
				       mk, tree);
	/* setlocalversion: the Makefile's, then localversion* files (Fedora's tree has none), CONFIG_LOCALVERSION */
	char model[200];
	snprintf(model, sizeof(model), "%s%s%s", version, extra, lv ? lv : "");
	if (strcmp(model, fr.release) != 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "the tree %s makes the release %s (Makefile %s, EXTRAVERSION \"%s\", CONFIG_LOCALVERSION "
				       "\"%s\"), not %s: the module would not load; remove the tree (kforge cache prune) "
				       "or pass --source",
				       tree, model, version, extra, lv ? lv : "", fr.release);
	kforge_plan_note(job, "release %s: %s + EXTRAVERSION \"%s\" (the Makefile, as InitBuildVars sets it) + "
			      "CONFIG_LOCALVERSION \"%s\": no KERNELRELEASE needed",
			 fr.release, version, extra, lv ? lv : "");
	const char *launcher = kforge_config_get(kforge_job_ctx(job), "build.cc_launcher");
	if (!launcher || !launcher[0])
		return 0;
	/* build.cc_launcher, as the core's default derive step adds it */
	const char *cctext = kforge_job_kconfig(job, "CONFIG_CC_VERSION_TEXT");
	char cc[64] = "gcc", var[256];
	if (cctext && (strncmp(cctext, "gcc", 3) == 0 || strncmp(cctext, "clang", 5) == 0))
		snprintf(cc, sizeof(cc), "%.*s", (int)strcspn(cctext, " "), cctext);
	snprintf(var, sizeof(var), "CC=%s %s", launcher, cc);
	return kforge_job_add_make_var(job, var);
}

/* ---- settings ---- */

const struct kforge_setting fedora_settings[] = {
	{ "srpm", "", "a kernel source package under the root (kernel-VER-REL.src.rpm) used instead of dnf or a URL" },
	{ "srpm_url", "",
	  "where the source package is fetched from, %v the version, %r the release, %a the arch, %m RHEL's 9.4, %M its "
	  "9; empty: Koji (" KOJI_URL ") on Fedora, Rocky's or Alma's vault, CentOS Stream's mirror" },
	{ "source", "srpm", "srpm: the kernel's source package; ark: the kernel-ark git tag kernel-VER-REL" },
	{ "ark_url", ARK_URL, "the kernel-ark repository ([plugin.fedora] source = ark)" },
	{ "prep", "auto",
	  "how the tree is prepared: rpmbuild (-bp), rpmspec (-P, then the patches as data), data (the spec's patch "
	  "lines read, nothing run); auto: the first of them installed" },
	{ "build_user", "", "the unprivileged user rpmbuild, rpmspec and dnf download run as (no network); empty: [build] user" },
	{ NULL, NULL, NULL },
};

int fedora_check_setting(const char *key, const char *value, char *why, size_t whysize)
{
	if (strcmp(key, "srpm_url") == 0 && value[0])
		return fedora_check_url_format(value, why, whysize);
	if (strcmp(key, "srpm") == 0 && value[0] && value[0] != '/') {
		snprintf(why, whysize, "plugin.fedora.srpm must be an absolute path (under the root), not \"%s\"", value);
		return -EINVAL;
	}
	if (strcmp(key, "source") == 0 && strcmp(value, "srpm") != 0 && strcmp(value, "ark") != 0) {
		snprintf(why, whysize, "plugin.fedora.source is srpm or ark, not \"%s\"", value);
		return -EINVAL;
	}
	if (strcmp(key, "prep") == 0 && strcmp(value, "auto") != 0 && strcmp(value, "rpmbuild") != 0 &&
	    strcmp(value, "rpmspec") != 0 && strcmp(value, "data") != 0) {
		snprintf(why, whysize, "plugin.fedora.prep is auto, rpmbuild, rpmspec or data, not \"%s\"", value);
		return -EINVAL;
	}
	if (strcmp(key, "build_user") == 0) {
		bool ok = strcmp(value, "root") != 0 && strlen(value) < 64;
		for (const char *p = value; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     strchr("._-", *p);
		if (!ok) {
			snprintf(why, whysize, "plugin.fedora.build_user must name an unprivileged user, not \"%s\"", value);
			return -EINVAL;
		}
	}
	return 0;
}
