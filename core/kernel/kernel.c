/* kernel.c: facts about a target kernel, read under the root: build dir, config, compression. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "kernel/kernel.h"

static const char *const module_roots[] = { "/lib/modules", "/usr/lib/modules" };

int kf_running_kernel(char *buf, size_t size)
{
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	snprintf(buf, size, "%s", u.release);
	return 0;
}

char *kf_find_modules_dir(const char *root, const char *release)
{
	for (size_t i = 0; i < ARRAY_SIZE(module_roots); i++) {
		_cleanup_free_ char *p = kforge_path_join(module_roots[i], release, NULL);
		char *host = p ? kforge_path_find(root, p) : NULL;
		if (host && kf_is_dir(host))
			return host;
		free(host);
	}
	return NULL;
}

/* build -> wherever it points (resolved inside the root), else where distributions keep it. */
static char *find_build_dir(const char *root, const char *release)
{
	static const char *const dirs[][2] = { { "/lib/modules/", "/build" }, { "/usr/lib/modules/", "/build" },
					       { "/usr/src/kernels/", "" }, { "/usr/src/linux-headers-", "" } };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = kf_strdup_printf("%s%s%s", dirs[i][0], release, dirs[i][1]);
		char *host = p ? kforge_path_find(root, p) : NULL;
		_cleanup_free_ char *mk = host ? kforge_path_join(host, "Makefile", NULL) : NULL;
		if (mk && kf_is_file(mk))
			return host;
		free(host);
	}
	return NULL;
}

const char *kf_kconfig_lookup(const char *text, const char *option, char *buf, size_t size)
{
	if (!text || !option)
		return NULL;
	size_t n = strlen(option);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, option, n) != 0 || p[n] != '=')
			continue;
		const char *v = p + n + 1;
		size_t len = strcspn(v, "\n");
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
			v++;
			len -= 2;
		}
		if (len >= size)
			len = size - 1;
		memcpy(buf, v, len);
		buf[len] = '\0';
		return buf;
	}
	return NULL;
}

/* The first module file under DIR (depth-first), or false. */
static bool first_module(const char *dir, int depth, enum kforge_compression *c)
{
	if (depth > 8)
		return false;
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (strstr(e->d_name, ".ko")) {
			*c = kf_compression_of_path(e->d_name);
			found = kf_str_endswith(e->d_name, ".ko") || *c != KFORGE_COMPRESS_NONE;
			continue;
		}
		_cleanup_free_ char *sub = kforge_path_join(dir, e->d_name, NULL);
		if (sub && kf_is_dir(sub))
			found = first_module(sub, depth + 1, c);
	}
	closedir(d);
	return found;
}

/* How the target's own modules are compressed: modules.dep, else the files, else the config. */
static enum kforge_compression detect_compression(const char *modules_dir, const char *config_text)
{
	enum kforge_compression c = KFORGE_COMPRESS_NONE;
	if (modules_dir) {
		_cleanup_free_ char *dep = kforge_path_join(modules_dir, "modules.dep", NULL);
		_cleanup_free_ char *text = NULL;
		if (dep && kf_read_file(dep, &text, NULL) == 0 && text[0]) {
			char *colon = strchr(text, ':');
			if (colon) {
				*colon = '\0';
				return kf_compression_of_path(text);
			}
		}
		_cleanup_free_ char *kdir = kforge_path_join(modules_dir, "kernel", NULL);
		if (kdir && first_module(kdir, 0, &c))
			return c;
	}
	char buf[16];
	if (kf_kconfig_lookup(config_text, "CONFIG_MODULE_COMPRESS_ZSTD", buf, sizeof(buf)))
		return KFORGE_COMPRESS_ZSTD;
	if (kf_kconfig_lookup(config_text, "CONFIG_MODULE_COMPRESS_XZ", buf, sizeof(buf)))
		return KFORGE_COMPRESS_XZ;
	if (kf_kconfig_lookup(config_text, "CONFIG_MODULE_COMPRESS_GZIP", buf, sizeof(buf)))
		return KFORGE_COMPRESS_GZIP;
	return KFORGE_COMPRESS_NONE;
}

/*
 * kernel-install owns the images when its install.conf picks a layout or a generator: then it
 * calls whichever generator its plugins name, on any distribution. Which other generator a
 * system has is its distribution's knowledge, in the plugins.
 */
bool kf_kernel_install_configured(const char *root)
{
	static const char *const confs[] = { "/etc/kernel/install.conf", "/usr/lib/kernel/install.conf" };
	for (size_t i = 0; i < ARRAY_SIZE(confs); i++) {
		_cleanup_free_ char *p = kforge_path_find(root, confs[i]);
		_cleanup_free_ char *text = NULL;
		if (p && kf_read_file(p, &text, NULL) == 0)
			for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
				l = kf_strstrip(l);
				if (strncmp(l, "layout=", 7) == 0 || strncmp(l, "initrd_generator=", 17) == 0)
					return true;
			}
	}
	return false;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct kf_kconfig_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	/* the first line of an option wins, as kf_kconfig_lookup() reads it */
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* The config's options, parsed once: sorted by name, so that a lookup writes nothing. */
static int parse_kconfig(struct kf_kernel *k)
{
	if (!k->config_text)
		return 0;
	size_t cap = 0, line = 0;
	for (const char *p = k->config_text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL, line++) {
		size_t len = strcspn(p, "\n");
		const char *eq = memchr(p, '=', len);
		if (!eq || eq == p || p[0] == '#')
			continue;
		if (k->n_kconfig == cap) {
			cap = cap ? 2 * cap : 256;
			struct kf_kconfig_entry *v = realloc(k->kconfig, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			k->kconfig = v;
		}
		const char *v = eq + 1;
		size_t vlen = len - (size_t)(v - p);
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		struct kf_kconfig_entry *e = &k->kconfig[k->n_kconfig];
		e->name = strndup(p, (size_t)(eq - p));
		e->value = strndup(v, vlen);
		e->line = line;
		if (!e->name || !e->value) {
			free(e->name);
			free(e->value);
			return -ENOMEM;
		}
		k->n_kconfig++;
	}
	if (k->n_kconfig)
		qsort(k->kconfig, k->n_kconfig, sizeof(*k->kconfig), cmp_entry);
	return 0;
}

const char *kf_kernel_kconfig(const struct kf_kernel *k, const char *option)
{
	size_t lo = 0, hi = k->n_kconfig;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(k->kconfig[mid].name, option) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->n_kconfig && strcmp(k->kconfig[lo].name, option) == 0 ? k->kconfig[lo].value : NULL;
}

/*
 * The kernel package's own compressed copy of its Module.symvers, where the RHEL family keeps
 * it (kernel-core: /boot/symvers-KVER.xz, lib/modules/KVER/symvers.xz; .gz up to RHEL 8), or NULL.
 */
static char *find_packaged_symvers(const char *root, const char *release, const char *modules_dir)
{
	static const char *const exts[] = { "xz", "gz" };
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		_cleanup_free_ char *boot = kf_strdup_printf("/boot/symvers-%s.%s", release, exts[i]);
		char *host = boot ? kforge_path_find(root, boot) : NULL;
		if (host && kf_is_file(host))
			return host;
		free(host);
		_cleanup_free_ char *leaf = kf_strdup_printf("symvers.%s", exts[i]);
		host = leaf ? kforge_path_join(modules_dir, leaf, NULL) : NULL;
		if (host && kf_is_file(host))
			return host;
		free(host);
	}
	return NULL;
}

int kf_kernel_load(struct kforge_ctx *ctx, const char *release, struct kf_kernel *k)
{
	const char *root = kforge_ctx_root(ctx);
	memset(k, 0, sizeof(*k));
	/* before any path is made of it: "..", '/' or 300 characters must not reach lib/modules */
	int r = kf_release_check(release, NULL, 0);
	if (r < 0)
		return r;
	k->release = strdup(release);
	if (!k->release)
		return -ENOMEM;
	k->modules_dir = kf_find_modules_dir(root, release);
	if (!k->modules_dir) {
		_cleanup_free_ char *p = kforge_path_join("/lib/modules", release, NULL);
		if (!p || kforge_path_resolve(root, p, &k->modules_dir) < 0)
			return -ENOMEM;
	}
	k->build_dir = find_build_dir(root, release);
	r = kforge_release_parse(root, release, k->build_dir, &k->rel);
	if (r < 0)
		return r;

	/* the build dir's, then the one the kernel package keeps beside its modules (Fedora, RHEL:
	 * lib/modules/KVER/config), then /boot's */
	_cleanup_free_ char *boot = kf_strdup_printf("/boot/config-%s", release);
	char *candidates[] = { k->build_dir ? kforge_path_join(k->build_dir, ".config", NULL) : NULL,
			       kforge_path_join(k->modules_dir, "config", NULL),
			       boot ? kforge_path_find(root, boot) : NULL };
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
		if (!k->config_file && candidates[i] && kf_is_file(candidates[i]) &&
		    kf_read_file(candidates[i], &k->config_text, NULL) == 0) {
			k->config_file = candidates[i];
			continue;
		}
		free(candidates[i]);
	}
	if ((r = parse_kconfig(k)) < 0)
		return r;
	k->compression = detect_compression(k->modules_dir, k->config_text);
	k->symvers_packaged = find_packaged_symvers(root, release, k->modules_dir);
	return 0;
}

void kf_kernel_free(struct kf_kernel *k)
{
	free(k->release);
	free(k->modules_dir);
	free(k->build_dir);
	free(k->config_file);
	free(k->config_text);
	free(k->symvers_packaged);
	for (size_t i = 0; i < k->n_kconfig; i++) {
		free(k->kconfig[i].name);
		free(k->kconfig[i].value);
	}
	free(k->kconfig);
	memset(k, 0, sizeof(*k));
}

char **kforge_list_kernels(const char *root)
{
	struct kf_strv out = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(module_roots); i++) {
		_cleanup_free_ char *dir = kforge_path_find(root, module_roots[i]);
		struct dirent **list;
		int n = dir ? scandir(dir, &list, NULL, alphasort) : -1;
		for (int j = 0; j < n; j++) {
			const char *name = list[j]->d_name;
			if (name[0] != '.' && !kf_strv_contains(&out, name)) {
				_cleanup_free_ char *b = find_build_dir(root, name);
				if (b)
					kf_strv_push(&out, name);
			}
			free(list[j]);
		}
		if (n >= 0)
			free(list);
	}
	if (!out.v)
		return calloc(1, sizeof(char *));
	return out.v;
}
