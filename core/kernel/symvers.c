/* symvers.c: the registry of external modules' Module.symvers, per kernel, and merging them for modpost. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/kernel.h"

/*
 * External modules kforge built before, kept per kernel as cache/symvers/KVER/<key>.symvers
 * (key: the module folder's hash), so that their exports resolve (KBUILD_EXTRA_SYMBOLS).
 */
static char *registry_file(const char *cache_dir, const char *kernel, const char *module_dir)
{
	return kf_strdup_printf("%s/symvers/%s/%08lx.symvers", cache_dir, kernel,
				kf_hash_str(KF_HASH_SEED, module_dir) & 0xffffffffUL);
}

char *kf_symvers_of(const char *cache_dir, const char *kernel, const char *module_dir)
{
	char *file = registry_file(cache_dir, kernel, module_dir);
	if (file && !kf_is_file(file)) {
		free(file);
		return NULL;
	}
	return file;
}

/* The registry's files for this kernel, newest first, without the module's own. */
void kf_symvers_registered(const char *cache_dir, const char *kernel, const char *module_dir, struct kf_strv *out)
{
	_cleanup_free_ char *own = registry_file(cache_dir, kernel, module_dir);
	_cleanup_free_ char *reg = own ? strdup(own) : NULL;
	if (!reg)
		return;
	*strrchr(reg, '/') = '\0';
	struct kf_strv found = { 0 };
	DIR *d = opendir(reg);
	for (struct dirent *e; d && (e = readdir(d));) {
		_cleanup_free_ char *p = kforge_path_join(reg, e->d_name, NULL);
		if (p && kf_str_endswith(p, ".symvers") && strcmp(p, own) != 0)
			kf_strv_push(&found, p);
	}
	if (d)
		closedir(d);
	/* newest first: a rebuilt exporter's CRCs win over an older copy's */
	while (found.n) {
		size_t best = 0;
		struct stat sb, sa;
		for (size_t i = 1; i < found.n; i++)
			if (stat(found.v[i], &sa) == 0 && stat(found.v[best], &sb) == 0 &&
			    (sa.st_mtim.tv_sec > sb.st_mtim.tv_sec ||
			     (sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec > sb.st_mtim.tv_nsec)))
				best = i;
		kf_strv_push(out, found.v[best]);
		free(found.v[best]);
		found.v[best] = found.v[--found.n];
		found.v[found.n] = NULL;
	}
	kf_strv_free(&found);
}

int kf_symvers_merge(const struct kf_strv *files, const char *out_path, size_t *nsyms)
{
	struct kf_strv seen = { 0 };
	struct kf_strbuf out = { 0 };
	for (size_t i = 0; i < files->n; i++) {
		_cleanup_free_ char *text = NULL;
		if (kf_read_file(files->v[i], &text, NULL) < 0)
			continue;
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *sym = strchr(l, '\t');
			if (!sym)
				continue;
			_cleanup_free_ char *name = strndup(sym + 1, strcspn(sym + 1, "\t"));
			if (!name || kf_strv_contains(&seen, name))
				continue;
			kf_strv_push(&seen, name);
			kf_strbuf_appendf(&out, "%s\n", l);
		}
	}
	int r = kf_write_file(out_path, out.s ? out.s : "", 0644);
	*nsyms = seen.n;
	kf_strbuf_release(&out);
	kf_strv_free(&seen);
	return r;
}

void kf_symvers_register(const char *cache_dir, const char *kernel, const char *module_dir, const char *built_dir)
{
	_cleanup_free_ char *src = kforge_path_join(built_dir, "Module.symvers", NULL);
	_cleanup_free_ char *text = NULL;
	struct stat st;
	/* the build user wrote BUILT_DIR: a link there (to /etc/shadow) must not be read as root */
	if (!src || lstat(src, &st) < 0 || !S_ISREG(st.st_mode) || kf_read_file(src, &text, NULL) < 0 || !text[0])
		return;
	_cleanup_free_ char *dst = registry_file(cache_dir, kernel, module_dir);
	if (!dst || kf_mkdir_parent(dst) < 0)
		return;
	FILE *f = fopen(dst, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}


