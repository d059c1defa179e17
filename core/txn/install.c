/* install.c: installing built modules as one transaction, uninstalling them, and listing what is installed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "txn/record.h"

/*
 * depmod's search order (depmod.d "search" lines under the root; without any, updates/ first
 * and everything else after): the rank of a path relative to lib/modules/KVER, lower wins.
 */
static void read_search_order(const char *root, struct kf_strv *order)
{
	static const char *const dirs[] = { "/etc/depmod.d", "/run/depmod.d", "/usr/local/lib/depmod.d",
					    "/usr/lib/depmod.d", "/lib/depmod.d" };
	struct kf_strv names = { 0 }, files = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *d = kforge_path_find(root, dirs[i]);
		struct dirent **list;
		int n = d ? scandir(d, &list, NULL, alphasort) : -1;
		for (int j = 0; j < n; j++) {
			const char *leaf = list[j]->d_name;
			/* a file of the same name in an earlier folder overrides this one */
			if (kf_str_endswith(leaf, ".conf") && !kf_strv_contains(&names, leaf)) {
				_cleanup_free_ char *p = kforge_path_join(d, leaf, NULL);
				kf_strv_push(&names, leaf);
				kf_strv_push(&files, p);
			}
			free(list[j]);
		}
		if (n >= 0)
			free(list);
	}
	/* depmod reads them in the order of their names */
	for (size_t pass = 0; pass < names.n; pass++) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < names.n; i++)
			if (files.v[i][0] && (best == SIZE_MAX || strcmp(names.v[i], names.v[best]) < 0))
				best = i;
		_cleanup_free_ char *text = NULL;
		if (kf_read_file(files.v[best], &text, NULL) == 0) {
			for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
				char *s2 = NULL, *w = strtok_r(l, " \t", &s2);
				if (!w || strcmp(w, "search") != 0)
					continue;
				while ((w = strtok_r(NULL, " \t", &s2)))
					kf_strv_push(order, w);
			}
		}
		files.v[best][0] = '\0';
	}
	kf_strv_free(&names);
	kf_strv_free(&files);
	if (order->n == 0) {
		kf_strv_push(order, "updates");
		kf_strv_push(order, "built-in");
	}
}

static size_t search_rank(const struct kf_strv *order, const char *rel)
{
	size_t builtin = order->n;
	for (size_t i = 0; i < order->n; i++) {
		size_t n = strlen(order->v[i]);
		if (strcmp(order->v[i], "built-in") == 0)
			builtin = i;
		else if (strncmp(rel, order->v[i], n) == 0 && rel[n] == '/')
			return i;
	}
	return builtin;
}

struct scan {
	const char *name;	/* module name looked for */
	const char *base;	/* lib/modules/KVER, host */
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
static int displaced_files(struct kforge_job *job, const struct kf_strv *order, const char *name, const char *dest,
			   struct kf_strv *out)
{
	struct kf_strv found = { 0 };
	struct scan s = { .name = name, .base = job->install_base, .found = &found };
	scan_dir(&s, job->install_base, 0);
	size_t n = strlen(job->install_base);
	size_t mine = search_rank(order, dest + n + 1);
	for (size_t i = 0; i < found.n; i++) {
		const char *rel = found.v[i] + n + 1;
		if (strcmp(found.v[i], dest) == 0 || (search_rank(order, rel) <= mine && strncmp(rel, "kernel/", 7) != 0))
			kf_strv_push(out, found.v[i]);
		else if (search_rank(order, rel) <= mine)
			kf_warn(job->ctx, "%s ranks as high as %s in depmod's search order here: depmod may pick either; "
					  "install into updates/ (the default) so that the rebuilt module wins",
				kforge_job_display_path(job, found.v[i]), kforge_job_display_path(job, dest));
	}
	kf_strv_free(&found);
	return 0;
}

/* Where one built module goes: install_base/subdir/<its path inside the module folder>. */
static char *install_path(const struct kforge_job *job, const char *built)
{
	const char *rel = strrchr(built, '/') + 1;
	size_t n = strlen(job->module_dir);
	if (job->kind == KFORGE_MODULE_EXTERNAL && strncmp(built, job->module_dir, n) == 0 && built[n] == '/')
		rel = built + n + 1;
	return kf_strdup_printf("%s/%s/%s%s", job->install_base, job->install_subdir, rel,
				kforge_compression_suffix(job->compression));
}

/* DIR/.LEAF.kforge-PID: a temporary name in the destination's own folder (same filesystem). */
static char *temp_beside(const char *path)
{
	const char *slash = strrchr(path, '/');
	return kf_strdup_printf("%.*s/.%s.kforge-%d", (int)(slash - path), path, slash + 1, (int)getpid());
}

static const char *kind_name(enum kforge_module_kind k)
{
	return k == KFORGE_MODULE_NAME ? "name" : k == KFORGE_MODULE_INTREE_DIR ? "intree-dir" : "external";
}

/* Writes the module as it will be installed into TMP: stripped, signed, compressed, synced. */
static int write_module(struct kforge_job *job, const char *built, const char *tmp)
{
	/* staged outside the modules tree: a kill here leaves nothing beside the modules */
	const char *tmpdir = getenv("TMPDIR");
	_cleanup_free_ char *stage = kf_strdup_printf("%s/kforge-stage-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!stage)
		return -ENOMEM;
	int sfd = mkstemp(stage);
	if (sfd < 0)
		return -errno;
	close(sfd);
	int r = kf_copy_file(built, stage, 0644);
	/* debug info stripped like kbuild's INSTALL_MOD_STRIP=1 (what distributions ship) */
	if (r == 0 && strcmp(kforge_config_get(job->ctx, "install.strip"), "yes") == 0) {
		r = kforge_runl(job, NULL, "strip", "--strip-debug", stage, NULL) ? -EIO : 0;
		kf_checkpoint("debug info stripped");
	}
	if (r == 0)
		r = kf_sign_module(job, stage);
	if (r == 0) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		r = fd < 0 ? -errno : kf_compress_file(job->compression, stage, fd);
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
	}
	unlink(stage);
	kf_checkpoint("a module written under its temporary name");
	return r;
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

/* One module of an install: what it displaces, its backups, its temporary file and record. */
struct item {
	char *built, *dest, *tmp, *name, *record, *record_tmp;
	struct kforge_record *rec, *old;
	struct kf_strv displaced, backup_src, backup_dst; /* backups to write: host paths */
};

static void item_free(struct item *it)
{
	free(it->built);
	free(it->dest);
	free(it->tmp);
	free(it->name);
	free(it->record);
	free(it->record_tmp);
	kf_record_free(it->rec);
	kf_record_free(it->old);
	kf_strv_free(&it->displaced);
	kf_strv_free(&it->backup_src);
	kf_strv_free(&it->backup_dst);
}

static char *utc_now(void)
{
	char buf[32];
	time_t now = time(NULL);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	return strdup(buf);
}

static struct kforge_record *new_record(struct kforge_job *job, const struct kf_state *st, const struct item *it)
{
	struct kforge_record *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	const struct kf_plugin *p = kf_ctx_plugin_selected(job->ctx);
	const char *source = job->source ? job->source : job->source_dir;
	r->module = strdup(it->name);
	r->kernel = strdup(job->kernel.release);
	/* an external module's folder by its full path (where kforge runs, like --source):
	 * autoinstall finds it from anywhere */
	r->spec = strdup(job->kind == KFORGE_MODULE_EXTERNAL && job->module_dir ? job->module_dir : job->module_spec);
	r->kind = strdup(kind_name(job->kind));
	r->source = source ? strdup(kforge_job_display_path(job, source)) : NULL;
	r->strategy = strdup(kforge_strategy_name(job->strategy));
	r->strategy_forced = !job->strategy_chosen;
	r->plugin = strdup(p ? p->name : "core");
	r->install_dir = strdup(job->install_subdir);
	r->install_dir_forced = job->install_dir_forced != NULL;
	r->time = utc_now();
	r->path = strdup(kf_state_path(st, it->dest));
	struct kf_strv c = { 0 }, e = { 0 };
	for (size_t i = 0; i < job->changes.n; i++)
		kf_strv_push(&c, job->changes.v[i]);
	for (size_t i = 0; i < job->user_extra_symbols.n; i++)
		kf_strv_push(&e, job->user_extra_symbols.v[i]);
	r->changes = c.v;
	r->extra_symbols = e.v;
	if (!r->module || !r->kernel || !r->spec || !r->kind || !r->strategy || !r->plugin || !r->install_dir ||
	    !r->time || !r->path) {
		kf_record_free(r);
		return NULL;
	}
	return r;
}

/* Plans one module: destination, displaced files and their backups, temporary names. */
static int plan_item(struct kforge_job *job, struct kf_state *st, struct kf_txn *t, const struct kf_strv *order,
		     struct item *it)
{
	it->dest = install_path(job, it->built);
	it->name = kf_module_name_of(it->built);
	if (!it->dest || !it->name || !(it->tmp = temp_beside(it->dest)))
		return -ENOMEM;
	it->record = kf_record_file(st, job->kernel.release, it->name);
	if (!it->record || !(it->record_tmp = temp_beside(it->record)) || !(it->rec = new_record(job, st, it)))
		return -ENOMEM;
	if (kf_record_read(it->record, &it->old) < 0)
		it->old = NULL;
	displaced_files(job, order, it->name, it->dest, &it->displaced);
	for (size_t i = 0; i < it->displaced.n; i++) {
		const char *d = it->displaced.v[i];
		char sha[65];
		int r = kf_sha256_file(d, sha);
		if (r < 0)
			return kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "cannot read %s: %s; nothing was changed", d,
					       strerror(-r));
		/* kforge's own earlier install: what that one replaced is what uninstall restores */
		if (is_recorded_file(st, it->old, d, sha))
			continue;
		const char *leaf = strrchr(d, '/') + 1;
		_cleanup_free_ char *bk = kf_strdup_printf("%s/backups/%s/%s-%s", st->dir, job->kernel.release, sha, leaf);
		if (!bk)
			return -ENOMEM;
		if (access(bk, F_OK) < 0) {
			kf_txn_created(t, kf_state_path(st, bk));
			kf_strv_push(&it->backup_src, d);
			kf_strv_push(&it->backup_dst, bk);
		}
		kf_record_add_replaced(it->rec, kf_state_path(st, d), sha, kf_state_path(st, bk));
	}
	for (size_t i = 0; it->old && i < it->old->n_replaced; i++) {
		const struct kforge_replaced *x = &it->old->replaced[i];
		if (!replaced_has(it->rec, x->path))
			kf_record_add_replaced(it->rec, x->path, x->sha256, x->backup);
	}
	kf_txn_rename(t, kf_state_path(st, it->tmp), kf_state_path(st, it->dest));
	for (size_t i = 0; i < it->displaced.n; i++)
		if (strcmp(it->displaced.v[i], it->dest) != 0)
			kf_txn_remove(t, kf_state_path(st, it->displaced.v[i]));
	/* an earlier kforge install of this module elsewhere (another --install-dir) goes too */
	if (it->old && strcmp(it->old->path, it->rec->path) != 0) {
		_cleanup_free_ char *h = kf_state_host(st, it->old->path);
		char sha[65];
		if (h && kf_sha256_file(h, sha) == 0 && strcmp(sha, it->old->sha256) == 0)
			kf_txn_remove(t, it->old->path);
	}
	kf_txn_rename(t, kf_state_path(st, it->record_tmp), kf_state_path(st, it->record));
	return 0;
}

/* Writes what plan_item() planned: backups, the module under its temporary name, the record. */
static int write_item(struct kforge_job *job, struct kf_state *st, struct item *it)
{
	for (size_t i = 0; i < it->backup_src.n; i++) {
		int r = kf_mkdir_parent(it->backup_dst.v[i]);
		if (r == 0)
			r = kf_copy_file(it->backup_src.v[i], it->backup_dst.v[i], 0600);
		if (r < 0)
			return kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "cannot back up %s into %s: %s", it->backup_src.v[i],
					       it->backup_dst.v[i], strerror(-r));
		kf_checkpoint("a backup written");
		kf_info(job->ctx, "backed up %s (it goes back with kforge uninstall %s)",
			kforge_job_display_path(job, it->backup_src.v[i]), it->name);
	}
	int r = kf_mkdir_parent(it->dest);
	if (r == 0)
		r = write_module(job, it->built, it->tmp);
	if (r < 0)
		return r == -ECANCELED ? r
				       : kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "cannot write %s: %s", it->tmp,
							 strerror(-r));
	char sha[65];
	if ((r = kf_sha256_file(it->tmp, sha)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "cannot read back %s: %s", it->tmp, strerror(-r));
	free(it->rec->sha256);
	it->rec->sha256 = strdup(sha);
	_cleanup_free_ char *text = kf_record_text(it->rec);
	if (!text || !it->rec->sha256)
		return -ENOMEM;
	if ((r = kf_mkdir_parent(it->record)) < 0 || (r = kf_write_atomic(it->record_tmp, text)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "cannot write the record %s: %s", it->record_tmp,
				       strerror(-r));
	kf_checkpoint("a record written under its temporary name");
	return 0;
}

/* Before a commit: the system's initramfs owes a refresh until the refresh step has done it. */
static int owe_refresh(struct kforge_job *job, const char *modules)
{
	if (job->install_mod_path || job->initramfs_never || strcmp(job->initramfs, "none") == 0)
		return 0;
	int r = kf_state_refresh_pending(job->state, job->kernel.release, modules ? modules : "a module");
	kf_checkpoint("initramfs refresh owed");
	return r;
}

void kf_job_refresh_done(struct kforge_job *job)
{
	if (job->state && !job->plan)
		kf_state_refresh_done(job->state, job->kernel.release);
}

int kf_install_built(struct kforge_job *job)
{
	int r = kf_job_state(job, true);
	if (r < 0)
		return r;
	struct kf_state *st = job->state;
	struct kf_strv order = { 0 };
	read_search_order(kforge_ctx_root(job->ctx), &order);
	const char *leaf = strrchr(job->module_spec, '/');
	struct kf_txn *t = NULL;
	r = kf_txn_begin(st, "install", job->kernel.release, leaf && leaf[1] ? leaf + 1 : job->module_spec, &t);
	if (r < 0) {
		kf_strv_free(&order);
		return r;
	}
	struct item *items = calloc(job->built.n, sizeof(*items));
	if (!items)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < job->built.n; i++) {
		items[i].built = strdup(job->built.v[i]);
		r = items[i].built ? plan_item(job, st, t, &order, &items[i]) : -ENOMEM;
	}
	if (r == 0)
		r = kf_txn_save(t);
	for (size_t i = 0; r == 0 && i < job->built.n; i++)
		r = write_item(job, st, &items[i]);
	if (r < 0) {
		kf_txn_rollback(t);
		if (job->exit_code == KFORGE_EXIT_OK)
			kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "the install failed (%s): rolled back, nothing was changed",
					strerror(-r));
		else
			kf_err(job->ctx, "rolled back: nothing was changed");
	} else {
		_cleanup_free_ char *names = NULL;
		struct kf_strbuf b = { 0 };
		for (size_t i = 0; i < job->built.n; i++)
			kf_strbuf_appendf(&b, "%s%s", i ? " " : "", items[i].name);
		names = kf_strbuf_steal(&b);
		r = owe_refresh(job, names);
		if (r == 0)
			r = kf_txn_commit(t);
		for (size_t i = 0; r == 0 && i < job->built.n; i++)
			kf_info(job->ctx, "installed %s%s", kforge_job_display_path(job, items[i].dest),
				items[i].rec->n_replaced ? " (what it replaced is backed up)" : "");
	}
	for (size_t i = 0; items && i < job->built.n; i++)
		item_free(&items[i]);
	free(items);
	kf_txn_free(t);
	kf_strv_free(&order);
	return r;
}

int kf_job_state(struct kforge_job *job, bool create)
{
	if (job->state)
		return 0;
	int r = kf_state_open(job, create, &job->state);
	if (r == 0 && job->state->repaired) {
		free(job->repaired);
		job->repaired = strdup(job->state->repaired);
	}
	if (r == 0 && kf_state_refresh_owed(job->state, job->kernel.release) && !job->initramfs_forced) {
		/* this run refreshes it, whatever the image holds */
		job->initramfs_forced = true;
		kf_info(job->ctx, "the initramfs of %s is refreshed by this run, as an earlier one could not",
			job->kernel.release);
	}
	return r;
}

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
	struct kf_state st = { .job = job };
	st.base = kf_state_base(job);
	if (!st.base)
		return KFORGE_RECORD_MISSING;
	enum kforge_record_state s = kf_record_check(&st, rec);
	free(st.base);
	return s;
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

int kforge_job_uninstall(struct kforge_job *job, const char *module, bool force)
{
	_cleanup_free_ char *name = kf_module_name_of(module);
	if (!name)
		return -ENOMEM;
	int r = kf_job_state(job, false);
	if (r < 0)
		return r;
	struct kf_state *st = job->state;
	const char *kver = job->kernel.release;
	_cleanup_free_ char *file = kf_record_file(st, kver, name);
	struct kforge_record *rec = NULL;
	if (!file || kf_record_read(file, &rec) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "kforge installed no module %s for %s under %s: `kforge status` lists what it installed",
				       name, kver, st->base[0] ? st->base : "/");
	_cleanup_free_ char *installed = kf_state_host(st, rec->path);
	enum kforge_record_state state = kf_record_check(st, rec);
	if (state == KFORGE_RECORD_MODIFIED && !force) {
		kf_record_free(rec);
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
				       "%s changed since kforge installed it: it is left alone; --force removes it anyway "
				       "and puts back what the install replaced",
				       installed);
	}
	if (state == KFORGE_RECORD_MISSING)
		kf_warn(job->ctx, "%s is already gone; putting back what its install replaced", rec->path);
	/* every backup must be whole before anything changes */
	for (size_t i = 0; i < rec->n_replaced; i++) {
		_cleanup_free_ char *bk = kf_state_host(st, rec->replaced[i].backup);
		char sha[65];
		if (!bk || kf_sha256_file(bk, sha) < 0 || strcmp(sha, rec->replaced[i].sha256) != 0) {
			kf_record_free(rec);
			return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
					       "the backup %s of %s is missing or damaged: it cannot be put back byte for "
					       "byte; nothing was changed (reinstall the package that owns %s)",
					       bk, rec->replaced[i].path, rec->replaced[i].path);
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
		kf_strv_push(&tmps, tmp);
		kf_strv_push(&srcs, bk);
		kf_txn_rename(t, kf_state_path(st, tmp), rec->replaced[i].path);
	}
	if (!replaced_has(rec, rec->path) && state != KFORGE_RECORD_MISSING)
		kf_txn_remove(t, rec->path);
	kf_txn_remove(t, kf_state_path(st, file));
	for (size_t i = 0; i < rec->n_replaced; i++)
		if (!backup_shared(st, rec, rec->replaced[i].backup))
			kf_txn_remove(t, rec->replaced[i].backup);
	if (r == 0)
		r = kf_txn_save(t);
	for (size_t i = 0; r == 0 && i < tmps.n; i++) {
		if ((r = kf_mkdir_parent(tmps.v[i])) == 0)
			r = kf_copy_file(srcs.v[i], tmps.v[i], 0644);
		kf_checkpoint("a backup copied back under its temporary name");
	}
	if (r == 0)
		r = owe_refresh(job, name);
	if (r < 0) {
		kf_txn_rollback(t);
		kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "cannot put back what %s replaced (%s): rolled back, nothing "
							   "was changed",
				name, strerror(-r));
	} else if ((r = kf_txn_commit(t)) == 0) {
		if (!replaced_has(rec, rec->path))
			kf_info(job->ctx, "removed %s", rec->path);
		for (size_t i = 0; i < rec->n_replaced; i++)
			kf_info(job->ctx, "restored %s", rec->replaced[i].path);
	}
	kf_txn_free(t);
	kf_strv_free(&tmps);
	kf_strv_free(&srcs);
	if (r == 0) {
		/* the initramfs step looks for the module's file name in the image */
		free(job->module_spec);
		job->module_spec = strdup(name);
		kf_strv_push(&job->built, installed);
		r = kforge_job_run(job, KFORGE_STEP_REFRESH_INITRAMFS, KFORGE_STEP_REFRESH_INITRAMFS);
	}
	kf_record_free(rec);
	return r;
}
