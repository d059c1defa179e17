/* install.c: the install and uninstall transactions: backups, temporary files, records, the commit. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "txn/record.h"

struct scan {
	const char *name; /* module name looked for */
	struct kf_strv *found;
};

static void scan_dir(const struct scan *s, const char *dir, int depth)
{
	DIR *d = depth < 12 ? opendir(dir) : NULL;
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = kforge_path_join(dir, e->d_name, NULL);
		if (!p)
			break;
		if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && kf_is_dir(p))) {
			scan_dir(s, p, depth + 1);
		} else if (kf_is_module_file(e->d_name)) {
			_cleanup_free_ char *n = kf_module_name_of(e->d_name);
			if (n && strcmp(n, s->name) == 0)
				kf_strv_push(s->found, p);
		}
	}
	closedir(d);
}

/*
 * The files an install of NAME at DEST must move aside (host paths): DEST itself, and every
 * module of that name that depmod ranks as high as DEST or higher, so that ours is the one
 * that loads. The distribution's own (kernel/) stays: updates/ wins over it by design.
 */
static void displaced_files(struct kf_state *st, const struct kf_install *req, const char *name, const char *dest,
			    struct kf_strv *out)
{
	struct kf_strv found = { 0 };
	struct scan s = { .name = name, .found = &found };
	scan_dir(&s, req->install_base, 0);
	size_t n = strlen(req->install_base);
	size_t mine = kf_depmod_rank(req->search_order, dest + n + 1);
	for (size_t i = 0; i < found.n; i++) {
		const char *rel = found.v[i] + n + 1;
		size_t rank = kf_depmod_rank(req->search_order, rel);
		if (strcmp(found.v[i], dest) == 0 || (rank <= mine && strncmp(rel, "kernel/", 7) != 0))
			kf_strv_push(out, found.v[i]);
		else if (rank <= mine)
			kf_warn(st->ctx, "%s ranks as high as %s in depmod's search order here: depmod may pick either; "
					 "install into updates/ (the default) so that the rebuilt module wins",
				kf_state_path(st, found.v[i]), kf_state_path(st, dest));
	}
	kf_strv_free(&found);
}

/* DIR/.LEAF.kforge-PID: a temporary name in the destination's own folder (same filesystem). */
static char *temp_beside(const char *path)
{
	const char *slash = strrchr(path, '/');
	return kf_strdup_printf("%.*s/.%s.kforge-%d", (int)(slash - path), path, slash + 1, (int)getpid());
}

/* Is PATH (host) the file kforge's record REC installed, unchanged? */
static bool is_recorded_file(const struct kf_state *st, const struct kforge_record *rec, const char *path,
			     const char *sha)
{
	return rec && strcmp(kf_state_path(st, path), rec->path) == 0 && strcmp(sha, rec->sha256) == 0;
}

static bool replaced_has(const struct kforge_record *rec, const char *path)
{
	for (size_t i = 0; i < rec->n_replaced; i++)
		if (strcmp(rec->replaced[i].path, path) == 0)
			return true;
	return false;
}

void kf_install_items_free(struct kf_install_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		struct kf_install_item *it = &items[i];
		free(it->dest);
		free(it->name);
		free(it->tmp);
		free(it->record);
		free(it->record_tmp);
		kf_record_free(it->rec);
		kf_record_free(it->old);
		kf_strv_free(&it->displaced);
		kf_strv_free(&it->backup_src);
		kf_strv_free(&it->backup_dst);
	}
	free(items);
}

/* Plans one module: displaced files and their backups, temporary names, the journal's entries. */
static int plan_item(struct kf_state *st, const struct kf_install *req, struct kf_txn *t, struct kf_install_item *it)
{
	if (!(it->tmp = temp_beside(it->dest)))
		return -ENOMEM;
	it->record = kf_record_file(st, req->kernel, it->name);
	if (!it->record || !(it->record_tmp = temp_beside(it->record)))
		return -ENOMEM;
	char why[256];
	int r = kf_record_read(it->record, &it->old, why, sizeof(why));
	if (r == -EBADMSG)
		return kf_state_fail(st, r, true,
				     "the record %s is damaged (%s): kforge cannot tell what its earlier install replaced; "
				     "look at it, put back what it lists by hand, delete it, then install again",
				     it->record, why);
	if (r < 0)
		it->old = NULL;
	displaced_files(st, req, it->name, it->dest, &it->displaced);
	for (size_t i = 0; i < it->displaced.n; i++) {
		const char *d = it->displaced.v[i];
		char sha[65];
		if ((r = kf_sha256_file(d, sha)) < 0)
			return kf_state_fail(st, r, true, "cannot read %s: %s; nothing was changed", d,
					     r == -EINVAL ? "not a regular file (remove it)" : strerror(-r));
		/* kforge's own earlier install: what that one replaced is what uninstall restores */
		if (is_recorded_file(st, it->old, d, sha))
			continue;
		const char *leaf = strrchr(d, '/') + 1;
		_cleanup_free_ char *bk = kf_strdup_printf("%s/backups/%s/%s-%s", st->dir, req->kernel, sha, leaf);
		if (!bk)
			return -ENOMEM;
		/* a backup not written, or not known to the rollback, would lose the file it keeps */
		if (access(bk, F_OK) < 0 &&
		    (kf_txn_created(t, kf_state_path(st, bk)) < 0 || kf_strv_push(&it->backup_src, d) < 0 ||
		     kf_strv_push(&it->backup_dst, bk) < 0))
			return -ENOMEM;
		if (kf_record_add_replaced(it->rec, kf_state_path(st, d), sha, kf_state_path(st, bk)) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; it->old && i < it->old->n_replaced; i++) {
		const struct kforge_replaced *x = &it->old->replaced[i];
		if (!replaced_has(it->rec, x->path) && kf_record_add_replaced(it->rec, x->path, x->sha256, x->backup) < 0)
			return -ENOMEM;
	}
	if (kf_txn_rename(t, kf_state_path(st, it->tmp), kf_state_path(st, it->dest)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < it->displaced.n; i++)
		if (strcmp(it->displaced.v[i], it->dest) != 0 && kf_txn_remove(t, kf_state_path(st, it->displaced.v[i])) < 0)
			return -ENOMEM;
	/* an earlier kforge install of this module elsewhere (another --install-dir) goes too */
	if (it->old && strcmp(it->old->path, it->rec->path) != 0) {
		_cleanup_free_ char *h = kf_state_host(st, it->old->path);
		char sha[65];
		if (h && kf_sha256_file(h, sha) == 0 && strcmp(sha, it->old->sha256) == 0 && kf_txn_remove(t, it->old->path) < 0)
			return -ENOMEM;
	}
	return kf_txn_rename(t, kf_state_path(st, it->record_tmp), kf_state_path(st, it->record)) < 0 ? -ENOMEM : 0;
}

/* Writes what plan_item() planned: backups, the module under its temporary name, the record. */
static int write_item(struct kf_state *st, const struct kf_install *req, struct kf_install_item *it)
{
	for (size_t i = 0; i < it->backup_src.n; i++) {
		int r = kf_mkdir_parent(it->backup_dst.v[i]);
		if (r == 0)
			r = kf_copy_file(it->backup_src.v[i], it->backup_dst.v[i], 0600);
		if (r < 0)
			return kf_state_fail(st, r, true, "cannot back up %s into %s: %s", it->backup_src.v[i],
					     it->backup_dst.v[i], strerror(-r));
		kf_checkpoint("a backup written");
		kf_info(st->ctx, "backed up %s (it goes back with kforge uninstall %s)",
			kf_state_path(st, it->backup_src.v[i]), it->name);
	}
	int r = kf_mkdir_parent(it->dest);
	if (r == 0)
		r = req->write(req->data, it->built, it->tmp);
	kf_checkpoint("a module written under its temporary name");
	if (r == -ECANCELED) /* the writer said why */
		return r;
	if (r < 0)
		return kf_state_fail(st, r, true, "cannot write %s: %s", it->tmp, strerror(-r));
	char sha[65];
	if ((r = kf_sha256_file(it->tmp, sha)) < 0)
		return kf_state_fail(st, r, true, "cannot read back %s: %s", it->tmp, strerror(-r));
	free(it->rec->sha256);
	it->rec->sha256 = strdup(sha);
	_cleanup_free_ char *text = kf_record_text(it->rec);
	if (!text || !it->rec->sha256)
		return -ENOMEM;
	if ((r = kf_mkdir_parent(it->record)) < 0 || (r = kf_write_atomic(it->record_tmp, text)) < 0)
		return kf_state_fail(st, r, true, "cannot write the record %s: %s", it->record_tmp, strerror(-r));
	kf_checkpoint("a record written under its temporary name");
	return 0;
}

/* Before a commit: the system's initramfs owes a refresh until the refresh step has done it. */
static int owe_refresh(struct kf_state *st, const char *kernel, const char *modules)
{
	int r = kf_state_refresh_pending(st, kernel, modules ? modules : "a module");
	kf_checkpoint("initramfs refresh owed");
	return r < 0 ? kf_state_fail(st, r, true, "cannot note the initramfs refresh owed in %s: %s", st->dir,
				     strerror(-r))
		     : 0;
}

int kf_txn_install(struct kf_state *st, const struct kf_install *req, struct kf_install_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		/* what the record will say must read back as a clean path under the modules tree */
		if (!kf_state_path_ok(items[i].rec->path))
			return kf_state_fail(st, -EINVAL, false,
					     "%s is not a clean path under lib/modules (an empty, \".\" or \"..\" part): "
					     "nothing was changed; give --install-dir as a plain folder like updates or extra/acme",
					     items[i].rec->path);
	struct kf_txn *t = NULL;
	int r = kf_txn_begin(st, "install", req->kernel, req->label, &t);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = plan_item(st, req, t, &items[i]);
	if (r == 0)
		r = kf_txn_save(t);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = write_item(st, req, &items[i]);
	if (r == 0 && req->owe_refresh) {
		struct kf_strbuf b = { 0 };
		for (size_t i = 0; i < n; i++)
			kf_strbuf_appendf(&b, "%s%s", i ? " " : "", items[i].name);
		_cleanup_free_ char *names = kf_strbuf_steal(&b);
		r = owe_refresh(st, req->kernel, names);
	}
	if (r < 0) {
		kf_txn_rollback(t);
		kf_txn_free(t);
		if (!st->error[0] && r != -ECANCELED)
			kf_state_fail(st, r, true, "the install failed (%s): rolled back, nothing was changed", strerror(-r));
		st->rolled_back = true;
		return r;
	}
	r = kf_txn_commit(t);
	kf_txn_free(t);
	for (size_t i = 0; r == 0 && i < n; i++)
		kf_info(st->ctx, "installed %s%s", kf_state_path(st, items[i].dest),
			items[i].rec->n_replaced ? " (what it replaced is backed up)" : "");
	return r;
}

/* True when another record of the state still uses BACKUP. */
static bool backup_shared(struct kf_state *st, const struct kforge_record *self, const char *backup)
{
	struct kforge_record **all;
	size_t n;
	bool shared = false;
	if (kf_records_read(st, NULL, &all, &n) < 0)
		return true;
	for (size_t i = 0; i < n && !shared; i++) {
		if (strcmp(all[i]->kernel, self->kernel) == 0 && strcmp(all[i]->module, self->module) == 0)
			continue;
		for (size_t j = 0; j < all[i]->n_replaced; j++)
			if (strcmp(all[i]->replaced[j].backup, backup) == 0)
				shared = true;
	}
	kforge_records_free(all, n);
	return shared;
}

int kf_txn_uninstall(struct kf_state *st, const char *kver, const char *name, bool force, bool owe,
		     char **installed_out)
{
	*installed_out = NULL;
	_cleanup_free_ char *file = kf_record_file(st, kver, name);
	struct kforge_record *rec = NULL;
	char why[256];
	int r = file ? kf_record_read(file, &rec, why, sizeof(why)) : -ENOMEM;
	if (r == -EBADMSG)
		return kf_state_fail(st, r, false,
				     "the record %s is damaged (%s): kforge cannot tell what to put back; nothing was "
				     "changed; look at it, put back what it lists by hand, then delete it",
				     file, why);
	if (r < 0)
		return kf_state_fail(st, -ENOENT, false,
				     "kforge installed no module %s for %s under %s: `kforge status` lists what it installed",
				     name, kver, st->base[0] ? st->base : "/");
	_cleanup_free_ char *installed = kf_state_host(st, rec->path);
	enum kforge_record_state state = kf_record_check(st, rec);
	if (state == KFORGE_RECORD_MODIFIED && !force) {
		kf_record_free(rec);
		return kf_state_fail(st, -EEXIST, false,
				     "%s changed since kforge installed it: it is left alone; --force removes it anyway "
				     "and puts back what the install replaced",
				     installed);
	}
	if (state == KFORGE_RECORD_MISSING)
		kf_warn(st->ctx, "%s is already gone; putting back what its install replaced", rec->path);
	/* every backup must be whole before anything changes */
	for (size_t i = 0; i < rec->n_replaced; i++) {
		_cleanup_free_ char *bk = kf_state_host(st, rec->replaced[i].backup);
		char sha[65];
		if (!bk || kf_sha256_file(bk, sha) < 0 || strcmp(sha, rec->replaced[i].sha256) != 0) {
			r = kf_state_fail(st, -EBADMSG, false,
					  "the backup %s of %s is missing or damaged: it cannot be put back byte for byte; "
					  "nothing was changed (reinstall the package that owns %s)",
					  bk ? bk : rec->replaced[i].backup, rec->replaced[i].path, rec->replaced[i].path);
			kf_record_free(rec);
			return r;
		}
	}
	struct kf_txn *t = NULL;
	if ((r = kf_txn_begin(st, "uninstall", kver, name, &t)) < 0) {
		kf_record_free(rec);
		return r;
	}
	struct kf_strv tmps = { 0 }, srcs = { 0 };
	for (size_t i = 0; i < rec->n_replaced; i++) {
		_cleanup_free_ char *dest = kf_state_host(st, rec->replaced[i].path);
		_cleanup_free_ char *tmp = dest ? temp_beside(dest) : NULL;
		_cleanup_free_ char *bk = kf_state_host(st, rec->replaced[i].backup);
		if (!tmp || !bk) {
			r = -ENOMEM;
			break;
		}
		if (kf_strv_push(&tmps, tmp) < 0 || kf_strv_push(&srcs, bk) < 0 ||
		    kf_txn_rename(t, kf_state_path(st, tmp), rec->replaced[i].path) < 0) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && !replaced_has(rec, rec->path) && state != KFORGE_RECORD_MISSING)
		r = kf_txn_remove(t, rec->path);
	if (r == 0)
		r = kf_txn_remove(t, kf_state_path(st, file));
	for (size_t i = 0; r == 0 && i < rec->n_replaced; i++)
		if (!backup_shared(st, rec, rec->replaced[i].backup))
			r = kf_txn_remove(t, rec->replaced[i].backup);
	if (r == 0)
		r = kf_txn_save(t);
	for (size_t i = 0; r == 0 && i < tmps.n; i++) {
		if ((r = kf_mkdir_parent(tmps.v[i])) == 0)
			r = kf_copy_file(srcs.v[i], tmps.v[i], 0644);
		kf_checkpoint("a backup copied back under its temporary name");
	}
	if (r == 0 && owe)
		r = owe_refresh(st, kver, name);
	if (r < 0) {
		kf_txn_rollback(t);
		kf_state_fail(st, r, true, "cannot put back what %s replaced (%s): rolled back, nothing was changed", name,
			      strerror(-r));
	} else if ((r = kf_txn_commit(t)) == 0) {
		if (!replaced_has(rec, rec->path))
			kf_info(st->ctx, "removed %s", rec->path);
		for (size_t i = 0; i < rec->n_replaced; i++)
			kf_info(st->ctx, "restored %s", rec->replaced[i].path);
		*installed_out = installed;
		installed = NULL;
	}
	kf_txn_free(t);
	kf_strv_free(&tmps);
	kf_strv_free(&srcs);
	kf_record_free(rec);
	return r;
}

int kf_state_forget_replaced(struct kf_state *st, const char *kernel, const char *sha256)
{
	struct kforge_record **recs = NULL;
	size_t n = 0;
	int r = kf_records_read(st, kernel, &recs, &n);
	int changed = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct kforge_record *rec = recs[i];
		size_t keep = 0;
		for (size_t j = 0; j < rec->n_replaced; j++) {
			if (strcmp(rec->replaced[j].sha256, sha256) != 0) {
				rec->replaced[keep++] = rec->replaced[j];
				continue;
			}
			free(rec->replaced[j].path);
			free(rec->replaced[j].sha256);
			free(rec->replaced[j].backup);
		}
		if (keep == rec->n_replaced)
			continue;
		rec->n_replaced = keep;
		_cleanup_free_ char *text = kf_record_text(rec);
		_cleanup_free_ char *file = kf_record_file(st, kernel, rec->module);
		r = text && file ? kf_write_atomic(file, text) : -ENOMEM;
		if (r == 0) {
			kf_dbg(st->ctx, "%s: forgot the file %s among what its install replaced", file, sha256);
			changed++;
		}
	}
	kforge_records_free(recs, n);
	return r < 0 ? r : changed;
}
