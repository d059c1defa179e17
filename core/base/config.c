/* config.c: kforge.conf read with inih; every value remembers where it came from. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <string.h>

#include "base/base.h"

enum value_type { T_UINT, T_ENUM, T_PATH, T_STRING };

struct key_def {
	const char *key;
	const char *def;
	enum value_type type;
	const char *choices; /* T_ENUM: "|a|b|c|" */
	const char *help;
};

/* Every key kforge knows; kforge.conf.sample and `kforge config` follow this table. */
static const struct key_def keys[] = {
	{ "build.jobs", "0", T_UINT, NULL, "parallel make jobs; 0 means one per CPU" },
	{ "build.strategy", "auto", T_ENUM, "|auto|headers|full|",
	  "how in-tree modules are built: headers (fast), full (whole tree), auto" },
	{ "build.cache_dir", "/var/cache/kforge", T_PATH, NULL, "where unpacked kernel sources are kept" },
	{ "build.cc_launcher", "", T_STRING, NULL, "a compiler launcher put before CC, e.g. ccache" },
	{ "install.compression", "auto", T_ENUM, "|auto|none|gzip|xz|zstd|",
	  "module compression; auto matches the target kernel's own modules" },
	{ "install.strip", "yes", T_ENUM, "|yes|no|", "strip debug info from installed modules (INSTALL_MOD_STRIP=1)" },
	{ "install.initramfs", "auto", T_ENUM, "|auto|always|never|",
	  "regenerate the initramfs: when the module is in it (auto), always, never" },
	{ "install.sign", "auto", T_ENUM, "|auto|never|",
	  "sign modules when the kernel has CONFIG_MODULE_SIG and a key is found (auto), or never" },
	{ "install.sign_key", "", T_PATH, NULL, "private key for module signing" },
	{ "install.sign_cert", "", T_PATH, NULL, "certificate (DER or PEM) for module signing" },
	{ "log.level", "info", T_ENUM, "|err|warning|notice|info|debug|",
	  "messages shown: err, warning, notice, info, debug" },
	{ "log.dir", "/var/log/kforge", T_PATH, NULL, "where per-job logs are kept (under the root)" },
	{ "log.color", "auto", T_ENUM, "|auto|always|never|", "colour on a terminal; NO_COLOR always wins" },
	{ "plugins.plugin", "", T_STRING, NULL, "use this plugin instead of probing (like --plugin)" },
	{ "autoinstall.exclude", "", T_STRING, NULL,
	  "modules (names or folders, space-separated) kforge autoinstall leaves out" },
};

struct kf_config {
	char *value[ARRAY_SIZE(keys)];
	char *origin[ARRAY_SIZE(keys)];
};

int kf_config_new(struct kf_config **out)
{
	struct kf_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		cfg->value[i] = strdup(keys[i].def);
		cfg->origin[i] = strdup("default");
		if (!cfg->value[i] || !cfg->origin[i]) {
			kf_config_free(cfg);
			return -ENOMEM;
		}
	}
	*out = cfg;
	return 0;
}

void kf_config_free(struct kf_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		free(cfg->value[i]);
		free(cfg->origin[i]);
	}
	free(cfg);
}

static int key_index(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* Checks VALUE for KEY; on error writes why into WHY. */
static int validate(const struct key_def *k, const char *value, char *why, size_t n)
{
	switch (k->type) {
	case T_UINT: {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (!value[0] || *end || errno || value[0] == '-' || v > 4096) {
			snprintf(why, n, "%s must be a whole number from 0 to 4096, not \"%s\"", k->key, value);
			return -EINVAL;
		}
		return 0;
	}
	case T_ENUM: {
		char needle[64];
		snprintf(needle, sizeof(needle), "|%s|", value);
		if (!value[0] || strchr(value, '|') || !strstr(k->choices, needle)) {
			_cleanup_free_ char *list = strdup(k->choices + 1);
			if (list) {
				list[strlen(list) - 1] = '\0';
				for (char *c = list; *c; c++)
					if (*c == '|')
						*c = ',';
			}
			snprintf(why, n, "%s must be one of %s, not \"%s\"", k->key, list ? list : "?", value);
			return -EINVAL;
		}
		return 0;
	}
	case T_PATH:
		if (value[0] && value[0] != '/') {
			snprintf(why, n, "%s must be an absolute path, not \"%s\"", k->key, value);
			return -EINVAL;
		}
		return 0;
	case T_STRING:
		return 0;
	}
	return 0;
}

static int set_value(struct kf_config *cfg, int i, const char *value, const char *origin)
{
	char *v = strdup(value), *o = strdup(origin);
	if (!v || !o) {
		free(v);
		free(o);
		return -ENOMEM;
	}
	free(cfg->value[i]);
	free(cfg->origin[i]);
	cfg->value[i] = v;
	cfg->origin[i] = o;
	return 0;
}

struct parse_state {
	struct kf_config *cfg;
	const char *path;
	unsigned int line_hint; /* lines seen so far, for origins */
	char why[512];		/* the first error's reason */
	int errors;
	char *pending_key[ARRAY_SIZE(keys)];
	char *pending_val[ARRAY_SIZE(keys)];
};

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char key[256];
	snprintf(key, sizeof(key), "%s.%s", section, name);
	int i = key_index(key);
	char why[512];
	if (i < 0) {
		if (!section[0])
			snprintf(why, sizeof(why), "\"%s\" is outside any section: put it under [build], [install], [log] or [plugins]", name);
		else
			snprintf(why, sizeof(why), "unknown key \"%s\" (see `kforge config` for the keys there are)", key);
	} else if (validate(&keys[i], value, why, sizeof(why)) == 0) {
		free(st->pending_val[i]);
		st->pending_val[i] = strdup(value);
		return st->pending_val[i] ? 1 : 0;
	}
	if (!st->errors++)
		snprintf(st->why, sizeof(st->why), "%s", why);
	return 0;
}

/* Finds the line a key was set on, so that `kforge config` can say file:line. */
static unsigned int find_line(const char *path, const char *section, const char *name)
{
	_cleanup_free_ char *text = NULL;
	if (kf_read_file(path, &text, NULL) < 0)
		return 0;
	unsigned int n = 0, found = 0;
	char cur[128] = "";
	/* not strtok: empty lines count */
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n++;
		char *l = kf_strstrip(line);
		if (l[0] == '[') {
			char *e = strchr(l, ']');
			if (e) {
				*e = '\0';
				snprintf(cur, sizeof(cur), "%s", kf_strstrip(l + 1));
			}
			continue;
		}
		char *eq = strpbrk(l, "=:");
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(cur, section) == 0 && strcmp(kf_strstrip(l), name) == 0)
			found = n; /* the last one wins, as in inih */
	}
	return found;
}

int kf_config_load_file(struct kforge_ctx *ctx, struct kf_config *cfg, const char *path)
{
	if (access(path, F_OK) < 0)
		return 0;
	struct parse_state st = { .cfg = cfg, .path = path };
	int r = ini_parse(path, handler, &st);
	int ret = 0;
	if (r == -1) {
		kf_err(ctx, "%s: cannot be read: %s", path, strerror(errno));
		ret = -EIO;
	} else if (r == -2) {
		ret = -ENOMEM;
	} else if (r > 0) {
		if (st.errors)
			kf_err(ctx, "%s:%d: %s", path, r, st.why);
		else
			kf_err(ctx, "%s:%d: not a line of an INI file: expected [section] or key = value", path, r);
		ret = -EINVAL;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			if (!st.pending_val[i])
				continue;
			char section[64];
			const char *dot = strchr(keys[i].key, '.');
			snprintf(section, sizeof(section), "%.*s", (int)(dot - keys[i].key), keys[i].key);
			unsigned int line = find_line(path, section, dot + 1);
			_cleanup_free_ char *origin = kf_strdup_printf("%s:%u", path, line);
			if (!origin || set_value(cfg, (int)i, st.pending_val[i], origin) < 0)
				ret = -ENOMEM;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		free(st.pending_val[i]);
	return ret;
}

int kf_config_set(struct kforge_ctx *ctx, struct kf_config *cfg, const char *key, const char *value,
		  const char *origin)
{
	int i = key_index(key);
	if (i < 0) {
		kf_err(ctx, "%s: unknown configuration key \"%s\"", origin, key);
		return -EINVAL;
	}
	char why[512];
	if (validate(&keys[i], value, why, sizeof(why)) < 0) {
		kf_err(ctx, "%s: %s", origin, why);
		return -EINVAL;
	}
	return set_value(cfg, i, value, origin);
}

const char *kf_config_get(const struct kf_config *cfg, const char *key)
{
	int i = key_index(key);
	return i < 0 ? NULL : cfg->value[i];
}

unsigned int kf_config_get_uint(const struct kf_config *cfg, const char *key)
{
	const char *v = kf_config_get(cfg, key);
	return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

/* Public side: through the context. */
int kforge_config_set(struct kforge_ctx *ctx, const char *key, const char *value, const char *origin)
{
	int r = kf_config_set(ctx, kf_ctx_config(ctx), key, value, origin);
	/* VALUE may be what kforge_config_get() returned, freed by now: the new copy is read */
	const char *now = r == 0 ? kforge_config_get(ctx, key) : NULL;
	if (now && strcmp(key, "log.level") == 0) {
		static const char *const lv[] = { "err", "warning", "notice", "info", "debug" };
		for (size_t i = 0; i < ARRAY_SIZE(lv); i++)
			if (strcmp(now, lv[i]) == 0)
				kforge_set_log_priority(ctx, LOG_ERR + (int)i);
	}
	return r;
}

const char *kforge_config_get(const struct kforge_ctx *ctx, const char *key)
{
	return kf_config_get(kf_ctx_config(ctx), key);
}

bool kforge_config_entry(const struct kforge_ctx *ctx, unsigned int i, const char **key,
			 const char **value, const char **origin, const char **help)
{
	if (i >= ARRAY_SIZE(keys))
		return false;
	const struct kf_config *cfg = kf_ctx_config(ctx);
	if (key)
		*key = keys[i].key;
	if (value)
		*value = cfg->value[i];
	if (origin)
		*origin = cfg->origin[i];
	if (help)
		*help = keys[i].help;
	return true;
}

static char *default_user_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && xdg[0] == '/')
		return kforge_path_join(xdg, "kforge/kforge.conf", NULL);
	const char *home = getenv("HOME");
	if (home && home[0] == '/')
		return kforge_path_join(home, ".config/kforge/kforge.conf", NULL);
	return NULL;
}

int kforge_config_load(struct kforge_ctx *ctx, const char *system_file, const char *user_file)
{
	_cleanup_free_ char *sys = NULL, *usr = NULL;
	if (system_file)
		sys = strdup(system_file);
	else if (getenv("KFORGE_SYSTEM_CONFIG"))
		sys = strdup(getenv("KFORGE_SYSTEM_CONFIG"));
	else
		sys = strdup(SYSCONFDIR "/kforge/kforge.conf");
	usr = user_file ? strdup(user_file) : default_user_path();
	kf_ctx_set_config_paths(ctx, sys, usr);
	struct kf_config *cfg = kf_ctx_config(ctx);
	const char *files[] = { sys, usr };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (!files[i])
			continue;
		int r = kf_config_load_file(ctx, cfg, files[i]);
		if (r < 0)
			return r;
	}
	/* the level from the files applies at once; the command line may change it later */
	int i = key_index("log.level");
	if (strcmp(cfg->origin[i], "default") == 0)
		return 0;
	/* set_value frees the old strings: hand it copies */
	_cleanup_free_ char *lvl = strdup(cfg->value[i]);
	_cleanup_free_ char *origin = strdup(cfg->origin[i]);
	if (!lvl || !origin)
		return -ENOMEM;
	return kforge_config_set(ctx, "log.level", lvl, origin);
}
