/* lifecycle.c: what kforge installed, for the front end: records, their check, uninstall. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/job.h"
#include "txn/record.h"
#include "txn/txn.h"

const char *kforge_job_repaired(const struct kforge_job *job)
{
	return job->repaired;
}

int kforge_records_list(struct kforge_job *job, const char *kernel, struct kforge_record ***out, size_t *n)
{
	int r = kf_job_state(job, false);
	if (r < 0)
		return r;
	r = kf_records_read(job->state, kernel, out, n);
	/* reading needs no lock: let other runs go on while the caller looks at the records */
	kf_state_close(job->state);
	job->state = NULL;
	return r;
}

enum kforge_record_state kforge_record_check(struct kforge_job *job, const struct kforge_record *rec)
{
	struct kf_state st = { .ctx = job->ctx };
	st.base = strdup(job->install_mod_path ? job->install_mod_path : kforge_ctx_root(job->ctx));
	if (!st.base)
		return KFORGE_RECORD_MISSING;
	size_t n = strlen(st.base);
	while (n > 0 && st.base[n - 1] == '/')
		st.base[--n] = '\0';
	enum kforge_record_state s = kf_record_check(&st, rec);
	free(st.base);
	return s;
}

/* The root (or --install-mod-path) the job's records are about, without a trailing slash. */
static char *records_base(const struct kforge_job *job)
{
	char *base = strdup(job->install_mod_path ? job->install_mod_path : kforge_ctx_root(job->ctx));
	size_t n = base ? strlen(base) : 0;
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	return base;
}

/* a wish: the kind, spec and options of a record (what autoinstall builds once per kernel) */
char *kf_wish_key(const struct kforge_record *r)
{
	struct kf_strbuf b = { 0 };
	kf_strbuf_appendf(&b, "%s\n%s", r->kind, r->spec);
	for (size_t i = 0; r->changes && r->changes[i]; i++)
		kf_strbuf_appendf(&b, "\n%s", r->changes[i]);
	return kf_strbuf_steal(&b);
}

char *kf_retired_dir(const struct kforge_job *job)
{
	_cleanup_free_ char *base = records_base(job);
	return base ? kf_strdup_printf("%s/var/lib/kforge/retired", base) : NULL;
}

/* The retired records (NAME-HASH.conf), read as any record is: checked, a damaged one skipped. */
int kf_retired_read(struct kforge_job *job, struct kforge_record ***out, size_t *n, struct kf_strv *paths)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *dir = kf_retired_dir(job);
	return dir ? kf_records_read_dir(job->ctx, dir, out, n, paths) : -ENOMEM;
}

int kforge_records_retired(struct kforge_job *job, struct kforge_record ***out, size_t *n)
{
	return kf_retired_read(job, out, n, NULL);
}

int kforge_job_retire(struct kforge_job *job)
{
	int r = kf_job_state(job, true);
	if (r < 0)
		return r;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	if ((r = kf_records_read(job->state, NULL, &recs, &n)) < 0)
		return r;
	_cleanup_free_ char *dir = kf_retired_dir(job);
	unsigned int kept = 0;
	for (size_t i = 0; dir && i < n; i++) {
		if (strcmp(recs[i]->kernel, job->kernel.release) != 0)
			continue;
		_cleanup_free_ char *key = kf_wish_key(recs[i]);
		bool elsewhere = false;
		for (size_t j = 0; key && j < n && !elsewhere; j++) {
			_cleanup_free_ char *k2 = strcmp(recs[j]->kernel, job->kernel.release) ? kf_wish_key(recs[j]) : NULL;
			elsewhere = k2 && strcmp(key, k2) == 0;
		}
		if (!key || elsewhere)
			continue;
		/* NAME-HASH: one file per module and wish (FNV-1a of the key: a name, not a check) */
		unsigned long long h = 1469598103934665603ULL;
		for (const unsigned char *c = (const unsigned char *)key; *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		_cleanup_free_ char *text = kf_record_text(recs[i]);
		_cleanup_free_ char *path = kf_strdup_printf("%s/%s-%016llx.conf", dir, recs[i]->module, h);
		if (!text || !path || kforge_mkdir_p(dir) < 0 || kf_write_atomic(path, text) < 0) {
			r = kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot keep the record of %s in %s: %s", recs[i]->module,
					    dir, strerror(errno ? errno : ENOMEM));
			break;
		}
		kept++;
	}
	if (r == 0 && kept)
		kf_notice(job->ctx, "%u module%s recorded only for %s: %s kept in %s, so that kforge autoinstall builds %s for "
				     "the next kernel",
			  kept, kept == 1 ? "" : "s", job->kernel.release, kept == 1 ? "its record" : "their records", dir,
			  kept == 1 ? "it" : "them");
	kforge_records_free(recs, n);
	return r < 0 ? r : (int)kept;
}

char **kforge_record_weak_links(struct kforge_job *job, const struct kforge_record *rec)
{
	_cleanup_free_ char *base = records_base(job);
	struct kf_strv links = { 0 };
	/* a kf_strv is NULL-terminated: its array is the caller's */
	if (!base || kf_weak_links(base[0] ? base : "/", rec->path, &links, NULL) < 0) {
		kf_strv_free(&links);
		return NULL;
	}
	return links.v ? links.v : calloc(1, sizeof(char *));
}

/*
 * After an uninstall removed FILE (a host path): the weak-updates links of other kernels that
 * pointed at it (weak-modules made them) now point at nothing: removed, and depmod run for each
 * of those kernels. Links to other files are not touched.
 */
static int remove_dangling_weak_links(struct kforge_job *job, const char *file)
{
	_cleanup_free_ char *base = records_base(job);
	if (!base)
		return -ENOMEM;
	const char *target = kf_state_path(job->state, file);
	struct kf_strv links = { 0 }, kernels = { 0 };
	int r = kf_weak_links(base[0] ? base : "/", target, &links, &kernels);
	for (size_t i = 0; r == 0 && i < links.n; i++) {
		_cleanup_free_ char *host = kforge_path_join(base, links.v[i], NULL);
		if (!host || access(host, F_OK) == 0) /* it still leads to a file: not kforge's to remove */
			continue;
		if (unlink(host) < 0 && errno != ENOENT) {
			kf_warn(job->ctx, "cannot remove %s, which pointed at %s: %s", links.v[i], target, strerror(errno));
			continue;
		}
		kf_info(job->ctx, "removed %s, which pointed at %s (weak-modules had linked it)", links.v[i], target);
	}
	for (size_t i = 0; r == 0 && i < kernels.n; i++) {
		const char *argv[5];
		kf_depmod_argv(base, kernels.v[i], argv);
		if (kforge_run(job, NULL, argv) != 0)
			kf_warn(job->ctx, "depmod for %s failed after its weak-updates link was removed: run %s", kernels.v[i],
				argv[0]);
	}
	kf_strv_free(&links);
	kf_strv_free(&kernels);
	return r;
}

/* The refresh-initramfs step for module NAME whose file FILE changed (an uninstall's). */
static int refresh_initramfs(struct kforge_job *job, const char *name, const char *file)
{
	free(job->affected_name);
	job->affected_name = strdup(name);
	kf_strv_free(&job->affected);
	if (!job->affected_name || (file && kf_strv_push(&job->affected, file) < 0))
		return -ENOMEM;
	return kforge_job_run(job, KFORGE_STEP_REFRESH_INITRAMFS, KFORGE_STEP_REFRESH_INITRAMFS);
}

static int uninstall_one(struct kforge_job *job, const char *name, bool force)
{
	_cleanup_free_ char *installed = NULL;
	int r = kf_txn_uninstall(job->state, job->kernel.release, name, force, kf_job_owes_refresh(job), &installed);
	if (r < 0)
		return kf_job_state_failed(job, r);
	if (installed && remove_dangling_weak_links(job, installed) < 0)
		kf_warn(job->ctx, "cannot look for weak-updates links to %s", installed);
	/* the folders an install made and this removal emptied (updates/, records/KVER): gone too, so
	 * that a removed kernel's lib/modules/KVER goes with its package; a folder not empty stays */
	_cleanup_free_ char *mark = kf_strdup_printf("/lib/modules/%s/", job->kernel.release);
	char *slash = installed ? strrchr(installed, '/') : NULL;
	char *at = installed && mark ? strstr(installed, mark) : NULL;
	if (slash && at && slash > at + strlen(mark)) {
		*slash = '\0';
		rmdir(installed);
		*slash = '/';
	}
	_cleanup_free_ char *rec = job->state ? kf_record_file(job->state, job->kernel.release, name) : NULL;
	char *rs = rec ? strrchr(rec, '/') : NULL;
	if (rs) {
		*rs = '\0';
		rmdir(rec);
	}
	return refresh_initramfs(job, name, installed);
}

/* Does any record of the kernel belong to PACKAGE (a DKMS package's "NAME/VER")? */
static bool package_left(struct kforge_record **recs, size_t n, const char *package, const char *except)
{
	for (size_t i = 0; i < n; i++)
		if (recs[i]->package && strcmp(recs[i]->package, package) == 0 && (!except || strcmp(recs[i]->module, except)))
			return true;
	return false;
}

int kforge_job_uninstall(struct kforge_job *job, const char *module, bool force)
{
	int r = kf_job_state(job, false);
	if (r < 0)
		return r;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	if (job->state && kf_records_read(job->state, job->kernel.release, &recs, &n) < 0)
		n = 0;
	/* a DKMS package's NAME/VER: each of its modules; then its POST_REMOVE */
	_cleanup_free_ char *package = NULL, *dir = NULL;
	/* NAME/VER, not the path of a module file (lib/modules/.../x.ko) */
	bool pkg = strchr(module, '/') && !strstr(module, ".ko") && !kf_is_file(module);
	if (pkg && !package_left(recs, n, module, NULL)) {
		kforge_records_free(recs, n);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "kforge installed no module of the DKMS package %s for %s: `kforge status` lists "
				       "what it installed",
				       module, job->kernel.release);
	}
	if (pkg) {
		package = strdup(module);
		for (size_t i = 0; r == 0 && i < n; i++)
			if (recs[i]->package && strcmp(recs[i]->package, module) == 0) {
				if (!dir && recs[i]->spec)
					dir = strdup(recs[i]->spec);
				r = uninstall_one(job, recs[i]->module, force);
			}
	} else {
		_cleanup_free_ char *name = kf_module_name_of(module);
		if (!name) {
			kforge_records_free(recs, n);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(recs[i]->module, name) == 0 && recs[i]->package && !package_left(recs, n, recs[i]->package, name)) {
				package = strdup(recs[i]->package);
				dir = recs[i]->spec ? strdup(recs[i]->spec) : NULL;
			}
		r = uninstall_one(job, name, force);
	}
	kforge_records_free(recs, n);
	const struct kf_job_driver *d = kf_job_driver_get();
	if (r == 0 && package && dir && d && d->removed)
		d->removed(job, package, dir);
	return r;
}
