/* kbuild.c: reading a kernel source's Makefiles: which directory and option build a module. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "kernel/kernel.h"

/* Folders of a source tree that never hold the Makefile of a loadable module we want. */
static bool skip_dir(const char *rel, const char *name, const char *arch)
{
	if (name[0] == '.')
		return true;
	if (!rel[0])
		return strcmp(name, "Documentation") == 0 || strcmp(name, "tools") == 0 ||
		       strcmp(name, "scripts") == 0 || strcmp(name, "debian") == 0 || strcmp(name, "samples") == 0 ||
		       strcmp(name, "include") == 0;
	/* only the target's architecture */
	return strcmp(rel, "arch") == 0 && arch && strcmp(name, arch) != 0;
}

/*
 * Looks for NAME.o on the right of `obj-$(CONFIG_X) += ...` or `obj-m += ...` in TEXT
 * (continuation lines joined). Returns true and the option ("" for obj-m) when found.
 */
static bool match_makefile(char *text, const char *name, char *option, size_t optsize)
{
	/* join continuation lines */
	for (char *p = text; (p = strstr(p, "\\\n"));) {
		p[0] = ' ';
		p[1] = ' ';
	}
	char want[128];
	snprintf(want, sizeof(want), "%s.o", name);
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, "obj-", 4) != 0)
			continue;
		char *assign = strstr(line, "+=");
		if (!assign)
			assign = strstr(line, ":=");
		if (!assign)
			continue;
		*assign = '\0';
		char *lhs = kf_strstrip(line + 4);
		bool found = false;
		char *tsave = NULL;
		for (char *tok = strtok_r(assign + 2, " \t", &tsave); tok && !found; tok = strtok_r(NULL, " \t", &tsave))
			found = strcmp(tok, want) == 0;
		if (!found)
			continue;
		if (strcmp(lhs, "m") == 0) {
			option[0] = '\0';
			return true;
		}
		if (strncmp(lhs, "$(CONFIG_", 9) == 0) {
			char *end = strchr(lhs, ')');
			if (!end)
				continue;
			snprintf(option, optsize, "%.*s", (int)(end - lhs - 2), lhs + 2);
			return true;
		}
	}
	return false;
}

static int walk(const char *src, const char *rel, const char *name, const char *arch, int depth, char **subdir,
		char *option, size_t optsize)
{
	if (depth > 12)
		return -ENOENT;
	_cleanup_free_ char *dir = rel[0] ? kforge_path_join(src, rel, NULL) : strdup(src);
	if (!dir)
		return -ENOMEM;
	if (rel[0]) {
		static const char *const files[] = { "Kbuild", "Makefile" };
		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			_cleanup_free_ char *mk = kforge_path_join(dir, files[i], NULL);
			_cleanup_free_ char *text = NULL;
			if (mk && kf_read_file(mk, &text, NULL) == 0 && match_makefile(text, name, option, optsize)) {
				*subdir = strdup(rel);
				return *subdir ? 0 : -ENOMEM;
			}
		}
	}
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		return -ENOENT;
	int r = -ENOENT;
	for (int i = 0; i < n; i++) {
		struct dirent *e = list[i];
		if (r == -ENOENT && !skip_dir(rel, e->d_name, arch) &&
		    (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)) {
			_cleanup_free_ char *sub = rel[0] ? kforge_path_join(rel, e->d_name, NULL) : strdup(e->d_name);
			_cleanup_free_ char *full = sub ? kforge_path_join(src, sub, NULL) : NULL;
			if (full && kf_is_dir(full))
				r = walk(src, sub, name, arch, depth + 1, subdir, option, optsize);
		}
		free(e);
	}
	free(list);
	return r;
}

int kf_find_module_in_source(const char *src, const char *name, const char *arch, char **subdir, char *option,
			     size_t optsize)
{
	/* Makefiles say foo-bar.o for the module foo-bar but kmod says foo_bar: try both */
	int r = walk(src, "", name, arch, 0, subdir, option, optsize);
	if (r == -ENOENT && strchr(name, '_')) {
		_cleanup_free_ char *dashed = strdup(name);
		for (char *p = dashed; p && *p; p++)
			if (*p == '_')
				*p = '-';
		if (dashed)
			r = walk(src, "", dashed, arch, 0, subdir, option, optsize);
	}
	return r;
}

int kf_find_module_in_dir(const char *src, const char *subdir, const char *name, char *option, size_t optsize)
{
	static const char *const files[] = { "Kbuild", "Makefile" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *mk = kforge_path_join(src, subdir, files[i], NULL);
		_cleanup_free_ char *text = NULL;
		if (mk && kf_read_file(mk, &text, NULL) == 0 && match_makefile(text, name, option, optsize))
			return 0;
	}
	return -ENOENT;
}
