/* record.c: install records (INI under /var/lib/kforge/records), written and read back with inih. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <string.h>

#include <libkmod.h>

#include "txn/record.h"

const char *kforge_record_state_name(enum kforge_record_state s)
{
	static const char *const names[] = { "ok", "modified", "missing", "superseded" };
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

void kf_record_free(struct kforge_record *r)
{
	if (!r)
		return;
	char **fields[] = { &r->module, &r->kernel,	 &r->spec, &r->kind, &r->source, &r->strategy, &r->plugin,
			    &r->install_dir, &r->time, &r->path, &r->sha256, &r->package, &r->dest_location };
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		free(*fields[i]);
	char **lists[] = { r->changes, r->extra_symbols, r->depends };
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		struct kf_strv l = { lists[i], 0 };
		while (l.v && l.v[l.n])
			l.n++;
		kf_strv_free(&l);
	}
	for (size_t i = 0; i < r->n_replaced; i++) {
		free(r->replaced[i].path);
		free(r->replaced[i].sha256);
		free(r->replaced[i].backup);
	}
	free(r->replaced);
	free(r);
}

void kforge_records_free(struct kforge_record **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kf_record_free(list[i]);
	free(list);
}

int kf_record_add_replaced(struct kforge_record *r, const char *path, const char *sha256, const char *backup)
{
	struct kforge_replaced *v = realloc(r->replaced, (r->n_replaced + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->replaced = v;
	struct kforge_replaced *x = &v[r->n_replaced];
	x->path = path ? strdup(path) : NULL;
	x->sha256 = sha256 ? strdup(sha256) : NULL;
	x->backup = backup ? strdup(backup) : NULL;
	r->n_replaced++;
	if ((path && !x->path) || (sha256 && !x->sha256) || (backup && !x->backup))
		return -ENOMEM; /* the entry stays, incomplete: the record is freed, never written */
	return 0;
}

static int strv_take(char ***v, const char *value)
{
	struct kf_strv l = { *v, 0 };
	while (l.v && l.v[l.n])
		l.n++;
	int r = kf_ini_take_list(&l, value);
	*v = l.v;
	return r;
}

static int record_handler(void *data, const char *section, const char *key, const char *value)
{
	struct kforge_record *r = data;
	if (strcmp(section, "replaced") == 0) {
		if (strcmp(key, "path") == 0 && value[0] != '+' && kf_record_add_replaced(r, NULL, NULL, NULL) < 0)
			return 0;
		if (r->n_replaced == 0)
			return 0;
		struct kforge_replaced *x = &r->replaced[r->n_replaced - 1];
		char **slot = strcmp(key, "path") == 0 ? &x->path : strcmp(key, "sha256") == 0 ? &x->sha256
							 : strcmp(key, "backup") == 0 ? &x->backup
										     : NULL;
		return !slot || kf_ini_take(slot, value) == 0;
	}
	if (strcmp(section, "record") != 0)
		return 1;
	static const struct {
		const char *key;
		size_t offset;
	} fields[] = {
#define F(x) { #x, offsetof(struct kforge_record, x) }
		F(module), F(kernel), F(spec), F(kind), F(source), F(strategy), F(plugin),
		F(install_dir), F(time), F(path), F(sha256), F(package), F(dest_location),
#undef F
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (strcmp(key, fields[i].key) == 0)
			return kf_ini_take((char **)((char *)r + fields[i].offset), value) == 0;
	if (strcmp(key, "set") == 0)
		return strv_take(&r->changes, value) == 0;
	if (strcmp(key, "extra_symbols") == 0)
		return strv_take(&r->extra_symbols, value) == 0;
	if (strcmp(key, "depends") == 0)
		return strv_take(&r->depends, value) == 0;
	if (strcmp(key, "strategy_forced") == 0)
		r->strategy_forced = strcmp(value, "yes") == 0;
	else if (strcmp(key, "install_dir_forced") == 0)
		r->install_dir_forced = strcmp(value, "yes") == 0;
	return 1; /* keys of later versions are kept out of the way, not errors */
}

static bool is_sha256(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* A record read back: every field kforge acts on present and sane, every path confined. */
static const char *record_damage(const struct kforge_record *r)
{
	if (!r->module || !r->kernel || !r->path || !r->sha256)
		return "a field is missing (module, kernel, path or sha256)";
	if (!r->module[0] || strpbrk(r->module, "/ \t") || strlen(r->module) > 255)
		return "the module name is not a name";
	if (!r->kernel[0] || strchr(r->kernel, '/') || strcmp(r->kernel, "..") == 0 || strcmp(r->kernel, ".") == 0 ||
	    strlen(r->kernel) > KFORGE_RELEASE_MAX)
		return "the kernel is not a kernel release";
	if (!is_sha256(r->sha256))
		return "sha256 is not a SHA-256";
	if (!kf_state_path_ok(r->path))
		return "its path is outside the modules tree";
	for (size_t i = 0; i < r->n_replaced; i++) {
		const struct kforge_replaced *x = &r->replaced[i];
		if (!x->path || !x->sha256 || !x->backup)
			return "a [replaced] entry lacks its path, sha256 or backup";
		if (!is_sha256(x->sha256))
			return "a [replaced] entry's sha256 is not a SHA-256";
		if (!kf_state_path_ok(x->path) || !kf_state_path_ok(x->backup) ||
		    strncmp(x->backup, "/var/lib/kforge/backups/", 24) != 0)
			return "a [replaced] entry's path or backup is outside the modules tree or the backups";
	}
	return NULL;
}

int kf_record_read(const char *host_path, struct kforge_record **out, char *why, size_t whysize)
{
	*out = NULL;
	if (why && whysize)
		why[0] = '\0';
	_cleanup_free_ char *text = NULL;
	int e = kf_read_file(host_path, &text, NULL);
	if (e < 0)
		return e == -ENOENT ? -ENOENT : -EBADMSG;
	struct kforge_record *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	e = ini_parse_string(text, record_handler, r);
	const char *damage = e ? NULL : record_damage(r);
	if (e || damage) {
		if (why && whysize) {
			if (e)
				snprintf(why, whysize, "line %d cannot be read", e);
			else
				snprintf(why, whysize, "%s", damage);
		}
		kf_record_free(r);
		return -EBADMSG;
	}
	*out = r;
	return 0;
}

char *kf_record_text(const struct kforge_record *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fputs("# kforge install record: `kforge status` checks it, `kforge uninstall` undoes it\n[record]\n", f);
	const char *fields[][2] = {
		{ "module", r->module },   { "kernel", r->kernel },	  { "spec", r->spec },
		{ "kind", r->kind },	   { "source", r->source },	  { "strategy", r->strategy },
		{ "plugin", r->plugin },   { "install_dir", r->install_dir }, { "time", r->time },
		{ "path", r->path },	   { "sha256", r->sha256 },	  { "package", r->package },
		{ "dest_location", r->dest_location },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i][1])
			kf_ini_put(f, fields[i][0], fields[i][1]);
	fprintf(f, "strategy_forced = %s\ninstall_dir_forced = %s\n", r->strategy_forced ? "yes" : "no",
		r->install_dir_forced ? "yes" : "no");
	for (size_t i = 0; r->changes && r->changes[i]; i++)
		kf_ini_put(f, "set", r->changes[i]);
	for (size_t i = 0; r->extra_symbols && r->extra_symbols[i]; i++)
		kf_ini_put(f, "extra_symbols", r->extra_symbols[i]);
	for (size_t i = 0; r->depends && r->depends[i]; i++)
		kf_ini_put(f, "depends", r->depends[i]);
	for (size_t i = 0; i < r->n_replaced; i++) {
		fputs("[replaced]\n", f);
		kf_ini_put(f, "path", r->replaced[i].path);
		kf_ini_put(f, "sha256", r->replaced[i].sha256);
		kf_ini_put(f, "backup", r->replaced[i].backup);
	}
	fclose(f);
	return text;
}

char *kf_record_file(const struct kf_state *st, const char *kernel, const char *module)
{
	return kf_strdup_printf("%s/records/%s/%s.conf", st->dir, kernel, module);
}

static int cmp_records(const void *a, const void *b)
{
	const struct kforge_record *x = *(struct kforge_record *const *)a, *y = *(struct kforge_record *const *)b;
	int c = strcmp(x->kernel, y->kernel);
	return c ? c : strcmp(x->module, y->module);
}

int kf_records_read_dir(struct kforge_ctx *ctx, const char *dir, struct kforge_record ***list, size_t *count,
			struct kf_strv *paths)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.' || !kf_str_endswith(e->d_name, ".conf"))
			continue;
		_cleanup_free_ char *p = kforge_path_join(dir, e->d_name, NULL);
		struct kforge_record *r;
		char why[256] = "";
		int e2 = p ? kf_record_read(p, &r, why, sizeof(why)) : -ENOMEM;
		if (e2 < 0) {
			kf_warn(ctx, "the record %s is damaged (%s): skipped; look at it, put back what it lists by hand, then "
				     "delete it",
				p, why[0] ? why : strerror(-e2));
			continue;
		}
		struct kforge_record **v = realloc(*list, (*count + 1) * sizeof(*v));
		if (!v) {
			kf_record_free(r);
			break;
		}
		*list = v;
		(*list)[(*count)++] = r;
		if (paths)
			kf_strv_push(paths, p);
	}
	if (d)
		closedir(d);
	return 0;
}

int kf_records_read(struct kf_state *st, const char *kernel, struct kforge_record ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *top = kforge_path_join(st->dir, "records", NULL);
	struct kf_strv kernels = { 0 };
	if (kernel) {
		kf_strv_push(&kernels, kernel);
	} else {
		DIR *d = top ? opendir(top) : NULL;
		for (struct dirent *e; d && (e = readdir(d));)
			if (e->d_name[0] != '.' && !strstr(e->d_name, ".tmp-"))
				kf_strv_push(&kernels, e->d_name);
		if (d)
			closedir(d);
	}
	struct kforge_record **list = NULL;
	size_t count = 0;
	for (size_t k = 0; k < kernels.n; k++) {
		_cleanup_free_ char *dir = kforge_path_join(top, kernels.v[k], NULL);
		if (dir)
			kf_records_read_dir(st->ctx, dir, &list, &count, NULL);
	}
	kf_strv_free(&kernels);
	if (count)
		qsort(list, count, sizeof(*list), cmp_records);
	*out = list;
	*n = count;
	return 0;
}

/* The path modules.dep under BASE gives for NAME, as the target sees it, or NULL. */
static char *resolved_path(const char *base, const char *kernel, const char *name)
{
	_cleanup_free_ char *moddir = kf_strdup_printf("%s/lib/modules/%s", base, kernel);
	_cleanup_free_ char *usrdir = kf_strdup_printf("%s/usr/lib/modules/%s", base, kernel);
	const char *dir = moddir && kf_is_dir(moddir) ? moddir : usrdir;
	const char *null_config = NULL;
	struct kmod_ctx *k = dir ? kmod_new(dir, &null_config) : NULL;
	if (!k)
		return NULL;
	struct kmod_list *l = NULL;
	char *out = NULL;
	if (kmod_module_new_from_lookup(k, name, &l) == 0 && l) {
		struct kmod_module *m = kmod_module_get_module(l);
		const char *p = m ? kmod_module_get_path(m) : NULL;
		if (p) {
			size_t n = strlen(base);
			out = strdup(n && strncmp(p, base, n) == 0 ? p + n : p);
		}
		kmod_module_unref(m);
		kmod_module_unref_list(l);
	}
	kmod_unref(k);
	return out;
}

bool kf_record_resolves(const struct kf_state *st, const struct kforge_record *rec)
{
	_cleanup_free_ char *host = kf_state_host(st, rec->path);
	_cleanup_free_ char *now = resolved_path(st->base, rec->kernel, rec->module);
	_cleanup_free_ char *now_host = now ? kf_state_host(st, now) : NULL;
	char a[PATH_MAX], b[PATH_MAX];
	return host && now_host && realpath(now_host, a) && realpath(host, b) && strcmp(a, b) == 0;
}

enum kforge_record_state kf_record_check(const struct kf_state *st, const struct kforge_record *rec)
{
	_cleanup_free_ char *host = kf_state_host(st, rec->path);
	char sha[65];
	if (!host || access(host, F_OK) < 0)
		return KFORGE_RECORD_MISSING;
	if (kf_sha256_file(host, sha) < 0 || strcmp(sha, rec->sha256) != 0)
		return KFORGE_RECORD_MODIFIED;
	_cleanup_free_ char *now = resolved_path(st->base, rec->kernel, rec->module);
	_cleanup_free_ char *now_host = now ? kf_state_host(st, now) : NULL;
	/* compared as real paths: /lib may be a link to /usr/lib */
	char a[PATH_MAX], b[PATH_MAX];
	if (now_host && realpath(now_host, a) && realpath(host, b) && strcmp(a, b) != 0)
		return KFORGE_RECORD_SUPERSEDED;
	return KFORGE_RECORD_OK;
}
