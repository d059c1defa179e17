/* moddb.c: lookups in the target's module indexes (modules.dep, modules.builtin) and module names. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <libkmod.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/kernel.h"

/* "kernel/fs/btrfs/btrfs.ko.zst" -> "fs/btrfs"; NULL when not under kernel/. */
char *kf_module_subdir_of(const char *path)
{
	const char *k = strstr(path, "kernel/");
	if (!k || (k != path && k[-1] != '/'))
		return NULL;
	k += strlen("kernel/");
	const char *slash = strrchr(k, '/');
	return slash ? strndup(k, (size_t)(slash - k)) : NULL;
}

/* Module names compare with - and _ alike, as kmod does. */
static bool same_module_name(const char *a, const char *b, size_t blen)
{
	size_t i = 0;
	for (; a[i] && i < blen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return !a[i] && i == blen;
}

/*
 * Finds NAME's line in a modules.dep or modules.builtin text ("kernel/fs/x/x.ko[.zst][: deps]")
 * and returns a copy of its path, or NULL.
 */
static char *find_module_line(const char *modules_dir, const char *file, const char *name)
{
	_cleanup_free_ char *p = kforge_path_join(modules_dir, file, NULL);
	_cleanup_free_ char *text = NULL;
	if (!p || kf_read_file(p, &text, NULL) < 0)
		return NULL;
	for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		size_t len = strcspn(l, ":\n");
		const char *base = l;
		for (size_t i = 0; i < len; i++)
			if (l[i] == '/')
				base = l + i + 1;
		const char *ko = strstr(base, ".ko");
		if (ko && ko < l + len && same_module_name(name, base, (size_t)(ko - base)))
			return strndup(l, len);
	}
	return NULL;
}

/* Finds NAME's in-tree directory: libkmod on the target's indexes, else modules.dep. */


bool kf_module_builtin(const char *modules_dir, const char *name)
{
	_cleanup_free_ char *line = find_module_line(modules_dir, "modules.builtin", name);
	return line != NULL;
}

/*
 * libkmod opens its indexes with a plain open(): a FIFO in place of one would block it for
 * good. A folder is handed to it only when each index there is a regular file or missing.
 */
static bool indexes_are_files(const char *modules_dir)
{
	static const char *const indexes[] = { "modules.dep.bin", "modules.alias.bin", "modules.symbols.bin",
					       "modules.builtin.bin", "modules.builtin.alias.bin" };
	for (size_t i = 0; i < ARRAY_SIZE(indexes); i++) {
		_cleanup_free_ char *p = kforge_path_join(modules_dir, indexes[i], NULL);
		struct stat st;
		if (!p || (stat(p, &st) == 0 && !S_ISREG(st.st_mode)))
			return false;
	}
	return true;
}

/* The path (relative to MODULES_DIR) of NAME: libkmod on the indexes, else the text modules.dep. */
char *kf_module_path(const char *modules_dir, const char *name)
{
	char *path = NULL;
	struct kmod_ctx *kctx = indexes_are_files(modules_dir) ? kmod_new(modules_dir, NULL) : NULL;
	if (kctx) {
		kmod_set_log_priority(kctx, LOG_EMERG);
		struct kmod_module *mod = NULL;
		if (kmod_module_new_from_name(kctx, name, &mod) == 0) {
			const char *p = kmod_module_get_path(mod);
			if (p)
				path = strdup(p);
			kmod_module_unref(mod);
		}
		kmod_unref(kctx);
	}
	if (!path)
		/* a root whose indexes were never built (depmod writes the .bin files libkmod
		 * reads; a copied or fixture tree may lack them): the text modules.dep */
		path = find_module_line(modules_dir, "modules.dep", name);
	return path;
}

char *kf_module_tree_path(const char *modules_dir, const char *name)
{
	char *path = kf_module_path(modules_dir, name);
	if (path && strncmp(path, "kernel/", 7) == 0)
		return path;
	free(path);
	/* installed elsewhere (updates/ wins in depmod's order): where the kernel's build put it */
	path = find_module_line(modules_dir, "modules.order", name);
	if (path && strncmp(path, "kernel/", 7) == 0)
		return path;
	free(path);
	return NULL;
}

char *kf_module_name_of(const char *path)
{
	const char *leaf = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *name = strdup(leaf);
	if (!name)
		return NULL;
	char *ko = strstr(name, ".ko");
	if (ko)
		*ko = '\0';
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	return name;
}

bool kf_is_module_file(const char *leaf)
{
	return kf_str_endswith(leaf, ".ko") || kf_str_endswith(leaf, ".ko.gz") || kf_str_endswith(leaf, ".ko.xz") ||
	       kf_str_endswith(leaf, ".ko.zst");
}

/*
 * depmod's search order (depmod.d "search" lines under the root; without any, the fallback,
 * else updates/ first and everything else after): the rank of a path relative to
 * lib/modules/KVER, lower wins.
 */
void kf_depmod_search_order(const char *root, const char *const *fallback, struct kf_strv *order)
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
	if (order->n == 0 && fallback)
		for (size_t i = 0; fallback[i]; i++)
			kf_strv_push(order, fallback[i]);
	if (order->n == 0) {
		/* depmod's own default */
		kf_strv_push(order, "updates");
		kf_strv_push(order, "built-in");
	}
}

size_t kf_depmod_rank(const struct kf_strv *order, const char *rel)
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

void kf_depmod_argv(const char *base, const char *kernel, const char *argv[5])
{
	size_t n = 0;
	argv[n++] = "depmod";
	if (base && base[0] && strcmp(base, "/") != 0) {
		argv[n++] = "-b";
		argv[n++] = base;
	}
	argv[n++] = kernel;
	argv[n] = NULL;
}

char *kf_depmod_command(const char *base, const char *kernel)
{
	const char *argv[5];
	kf_depmod_argv(base, kernel, argv);
	return kf_argv_quote(argv);
}

/* Walks DIR (a host path under BASE) for symbolic links resolving to TARGET_HOST. */
static void weak_walk(const char *base, size_t baselen, const char *dir, const char *target_host, int depth,
		      struct kf_strv *links)
{
	DIR *d = depth < 8 ? opendir(dir) : NULL;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *p = kforge_path_join(dir, e->d_name, NULL);
		struct stat st;
		if (!p || lstat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			weak_walk(base, baselen, p, target_host, depth + 1, links);
			continue;
		}
		char to[4096];
		ssize_t n = S_ISLNK(st.st_mode) ? readlink(p, to, sizeof(to) - 1) : -1;
		if (n <= 0)
			continue;
		to[n] = '\0';
		/* the link as the target system reads it: relative to its folder there, absolute from BASE */
		_cleanup_free_ char *abs = to[0] == '/' ? strdup(to) : kf_strdup_printf("%s/%s", dir + baselen, to);
		_cleanup_free_ char *host = NULL;
		if (abs && kforge_path_resolve(base, abs, &host) == 0 && strcmp(host, target_host) == 0)
			kf_strv_push(links, p + baselen);
	}
	if (d)
		closedir(d);
}

int kf_weak_links(const char *base, const char *target, struct kf_strv *links, struct kf_strv *kernels)
{
	_cleanup_free_ char *target_host = NULL;
	int r = kforge_path_resolve(base, target, &target_host);
	if (r < 0)
		return r;
	size_t baselen = strlen(base);
	while (baselen > 0 && base[baselen - 1] == '/')
		baselen--;
	struct kf_strv seen = { 0 };
	static const char *const roots[] = { "/lib/modules", "/usr/lib/modules" };
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		_cleanup_free_ char *top = kforge_path_find(base, roots[i]);
		if (!top || kf_strv_contains(&seen, top))
			continue;
		kf_strv_push(&seen, top);
		DIR *d = opendir(top);
		for (struct dirent *e; d && (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			_cleanup_free_ char *weak = kforge_path_join(top, e->d_name, "weak-updates", NULL);
			size_t before = links->n;
			if (weak && kf_is_dir(weak))
				weak_walk(base, baselen, weak, target_host, 0, links);
			if (kernels && links->n > before && !kf_strv_contains(kernels, e->d_name))
				kf_strv_push(kernels, e->d_name);
		}
		if (d)
			closedir(d);
	}
	kf_strv_free(&seen);
	return 0;
}
