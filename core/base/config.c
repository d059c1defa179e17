/* config.c: kforge.conf read with inih; every value remembers where it came from. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <string.h>

#include "base/ctx.h"

enum value_type { T_UINT, T_ENUM, T_PATH, T_STRING, T_PAIRS };

struct key_def {
	const char *key;
	const char *def;
	enum value_type type;
	const char *choices; /* T_ENUM: "|a|b|c|" */
	const char *help;
};

/* Every key kforge knows; kforge.conf.sample and `kforge config` follow this table. */
static const struct key_def keys[] = {
	{ "build.jobs", "0", T_UINT, NULL, "parallel make jobs, and modules built at once; 0 means make's -j from MAKEFLAGS, else one per CPU" },
	{ "build.strategy", "auto", T_ENUM, "|auto|headers|full|",
	  "how in-tree modules are built: headers (fast), full (whole tree), auto" },
	{ "build.cache_dir", "/var/cache/kforge", T_PATH, NULL,
	  "where fetched sources (downloads, the git store), unpacked trees and work folders are kept" },
	{ "build.cc_launcher", "", T_STRING, NULL,
	  "a compiler launcher put before CC (icecc, sccache); set, it replaces build.ccache and build.distcc" },
	{ "build.ccache", "auto", T_ENUM, "|auto|yes|no|",
	  "compile through ccache: auto when it is installed, yes (required), no; its cache is build.cache_dir/ccache, "
	  "the build user's" },
	{ "build.distcc", "", T_STRING, NULL,
	  "compile through distcc on these hosts (DISTCC_HOSTS syntax, e.g. \"10.0.0.2/8 10.0.0.3/8\"); empty: "
	  "DISTCC_HOSTS from the environment, else no distcc. -j then counts the hosts' slots" },
	{ "build.user", "kforge-build", T_STRING, NULL,
	  "the unprivileged user every build runs as (make, dkms.conf, recipes); kforge, as root, creates it when missing" },
	{ "build.sandbox", "auto", T_ENUM, "|auto|bwrap|none|",
	  "auto: bubblewrap where installed, else no network only; bwrap: bubblewrap required; none: the build user only" },
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
	{ "sources.rewrite", "", T_PAIRS, NULL,
	  "URL prefix pairs FROM TO ...: a URL kforge fetches that starts with FROM is fetched from TO (the longest FROM wins)" },
	{ "sources.timeout", "60", T_UINT, NULL, "seconds a download may go without data before it fails; 0: no limit" },
	{ "sources.connect_timeout", "30", T_UINT, NULL, "seconds to connect to a server before a download fails; 0: libcurl's own (300)" },
	{ "sources.keyring", "", T_PATH, NULL,
	  "a keyring gpgv checks source signatures with (under the root); empty: signatures are not checked" },
};

/*
 * A key of a plugin's section, [plugin.NAME]: kept as a file set it until the plugin, once
 * loaded, declares it (then checked) or does not (then an error naming file:line).
 */
struct plugin_key {
	char *key; /* "plugin.NAME.KEY" */
	char *value, *origin;
	char *help;	 /* the plugin's, once declared */
	bool declared;
	kf_setting_check_fn check; /* the plugin's check_setting, or NULL */
};

struct kf_config {
	char *value[ARRAY_SIZE(keys)];
	char *origin[ARRAY_SIZE(keys)];
	struct plugin_key *pk; /* sorted by key */
	size_t n_pk;
};

/* "plugin.NAME.KEY": the section's prefix is 7 characters, the plugin's key follows NAME's dot. */
#define PLUGIN_PREFIX "plugin."
static bool is_plugin_key(const char *key)
{
	return strncmp(key, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)) == 0 && strchr(key + strlen(PLUGIN_PREFIX), '.');
}

static const char *plugin_short_key(const char *key)
{
	return strchr(key + strlen(PLUGIN_PREFIX), '.') + 1;
}

static struct plugin_key *pk_find(const struct kf_config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->n_pk; i++)
		if (strcmp(cfg->pk[i].key, key) == 0)
			return &cfg->pk[i];
	return NULL;
}

/* The entry of KEY, added (in key order, value "") when there is none; NULL when out of memory. */
static struct plugin_key *pk_get(struct kf_config *cfg, const char *key)
{
	struct plugin_key *k = pk_find(cfg, key);
	if (k)
		return k;
	struct plugin_key *v = realloc(cfg->pk, (cfg->n_pk + 1) * sizeof(*v));
	if (!v)
		return NULL;
	cfg->pk = v;
	size_t at = 0;
	while (at < cfg->n_pk && strcmp(cfg->pk[at].key, key) < 0)
		at++;
	memmove(&cfg->pk[at + 1], &cfg->pk[at], (cfg->n_pk - at) * sizeof(*v));
	k = &cfg->pk[at];
	memset(k, 0, sizeof(*k));
	k->key = strdup(key);
	k->value = strdup("");
	k->origin = strdup("default");
	cfg->n_pk++;
	return k->key && k->value && k->origin ? k : NULL;
}

static int pk_set(struct plugin_key *k, const char *value, const char *origin)
{
	char *v = strdup(value), *o = strdup(origin);
	if (!v || !o) {
		free(v);
		free(o);
		return -ENOMEM;
	}
	free(k->value);
	free(k->origin);
	k->value = v;
	k->origin = o;
	return 0;
}

/* A declared key's value checked by its plugin; on refusal WHY says why. */
static int pk_check(const struct plugin_key *k, const char *value, char *why, size_t n)
{
	if (!k->check)
		return 0;
	why[0] = '\0';
	if (k->check(plugin_short_key(k->key), value, why, n) >= 0)
		return 0;
	if (!why[0])
		snprintf(why, n, "%s: \"%s\" is refused by its plugin", k->key, value);
	return -EINVAL;
}

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
	for (size_t i = 0; i < cfg->n_pk; i++) {
		free(cfg->pk[i].key);
		free(cfg->pk[i].value);
		free(cfg->pk[i].origin);
		free(cfg->pk[i].help);
	}
	free(cfg->pk);
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
	case T_PAIRS: {
		/* whitespace-separated FROM TO pairs: an odd count has a FROM without its TO */
		unsigned int words = 0;
		for (const char *p = value; *p;) {
			p += strspn(p, " \t");
			if (!*p)
				break;
			words++;
			p += strcspn(p, " \t");
		}
		if (words % 2) {
			snprintf(why, n, "%s needs pairs of URL prefixes, FROM TO [FROM TO ...], not %u word%s: \"%s\"",
				 k->key, words, words == 1 ? "" : "s", value);
			return -EINVAL;
		}
		return 0;
	}
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
	/* [plugin.NAME] lines, as section, key, value triplets: checked once the plugins are loaded */
	struct kf_strv plugin_lines;
};

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char key[256];
	snprintf(key, sizeof(key), "%s.%s", section, name);
	int i = key_index(key);
	char why[512];
	if (i < 0 && is_plugin_key(key)) {
		/* a plugin's own section: its plugin says what is allowed there, once loaded */
		if (kf_strv_push(&st->plugin_lines, section) < 0 || kf_strv_push(&st->plugin_lines, name) < 0 ||
		    kf_strv_push(&st->plugin_lines, value) < 0)
			return 0;
		return 1;
	}
	if (i < 0) {
		if (!section[0])
			snprintf(why, sizeof(why), "\"%s\" is outside any section: put it under [build], [install], [log], [plugins], [autoinstall], [sources] or [plugin.NAME]", name);
		else
			snprintf(why, sizeof(why), "unknown key \"%s\" (see `kforge config` for the keys there are)", key);
	} else if (validate(&keys[i], value, why, sizeof(why)) == 0) {
		/* a list of pairs grows: each of its lines (a repeated key, or an indented line that
		 * continues it) adds pairs, so that a long list fits the INI reader's lines */
		char *v = keys[i].type == T_PAIRS && st->pending_val[i] && st->pending_val[i][0]
				  ? kf_strdup_printf("%s %s", st->pending_val[i], value)
				  : strdup(value);
		if (!v)
			return 0;
		free(st->pending_val[i]);
		st->pending_val[i] = v;
		return 1;
	}
	if (!st->errors++)
		snprintf(st->why, sizeof(st->why), "%s", why);
	return 0;
}

/* Finds the line a key was set on in the file's TEXT, so that `kforge config` can say file:line. */
static unsigned int find_line(const char *text, const char *section, const char *name)
{
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return 0;
	unsigned int n = 0, found = 0;
	char cur[128] = "";
	/* not strtok: empty lines count */
	for (char *line = copy, *next; line; line = next) {
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

/* Reads PATH for kf_config_load_file(): 0 with *TEXT, 1 when there is no file, or -errno (said). */
static int read_config_text(struct kforge_ctx *ctx, const char *path, char **text)
{
	size_t len;
	int r = kf_read_file(path, text, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return 1;
	if (r == -EINVAL) {
		/* a FIFO here would have kept kforge waiting for a writer forever */
		kf_err(ctx, "%s is not a regular file: kforge reads its configuration only from a plain file "
			    "(fix: make it one, like the commented sample kforge.conf, or remove it)",
		       path);
		return -EINVAL;
	}
	if (r == -EFBIG) {
		kf_err(ctx, "%s is larger than %s: no configuration file is, it is damaged (fix: replace it "
			    "with one, like the commented sample kforge.conf, or remove it)",
		       path, KF_READ_MAX_TEXT);
		return -EINVAL;
	}
	if (r < 0) {
		kf_err(ctx, "%s: cannot be read: %s", path, strerror(-r));
		return r == -ENOMEM ? r : -EIO;
	}
	if (strlen(*text) != len) {
		free(*text);
		*text = NULL;
		kf_err(ctx, "%s holds a NUL byte: it is damaged, not a text file (fix: replace it with a "
			    "configuration file, like the commented sample kforge.conf, or remove it)",
		       path);
		return -EINVAL;
	}
	return 0;
}

int kf_config_load_file(struct kforge_ctx *ctx, struct kf_config *cfg, const char *path)
{
	/* read once through kf_read_file, never ini_parse(path): it would open a FIFO and wait */
	_cleanup_free_ char *text = NULL;
	int r = read_config_text(ctx, path, &text);
	if (r != 0)
		return r > 0 ? 0 : r;
	/* the INI reader cuts a longer line short without a word: a value would lose its end */
	unsigned int n = 1;
	for (const char *l = text; *l; n++) {
		const char *e = strchrnul(l, '\n');
		if (e - l >= INI_MAX_LINE - 1) {
			kf_err(ctx, "%s:%u: the line is %zu characters long, longer than the %d the INI reader takes "
				    "(fix: continue a long value on the next line, indented; each line of a list such "
				    "as [sources] rewrite adds to it)",
			       path, n, (size_t)(e - l), INI_MAX_LINE - 2);
			return -EINVAL;
		}
		l = *e ? e + 1 : e;
	}
	struct parse_state st = { .cfg = cfg, .path = path };
	r = ini_parse_string(text, handler, &st);
	int ret = 0;
	if (r == -2) {
		ret = -ENOMEM;
	} else if (r < 0) {
		kf_err(ctx, "%s: cannot be parsed", path);
		ret = -EIO;
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
			unsigned int line = find_line(text, section, dot + 1);
			_cleanup_free_ char *origin = kf_strdup_printf("%s:%u", path, line);
			if (!origin || set_value(cfg, (int)i, st.pending_val[i], origin) < 0)
				ret = -ENOMEM;
		}
		for (size_t i = 0; ret == 0 && i + 2 < st.plugin_lines.n; i += 3) {
			const char *section = st.plugin_lines.v[i], *name = st.plugin_lines.v[i + 1];
			const char *value = st.plugin_lines.v[i + 2];
			_cleanup_free_ char *key = kf_strdup_printf("%s.%s", section, name);
			_cleanup_free_ char *origin = kf_strdup_printf("%s:%u", path, find_line(text, section, name));
			struct plugin_key *k = key && origin ? pk_get(cfg, key) : NULL;
			char why[512];
			if (!k)
				ret = -ENOMEM;
			else if (k->declared && pk_check(k, value, why, sizeof(why)) < 0) {
				/* the plugins are loaded already: checked at once */
				kf_err(ctx, "%s: %s", origin, why);
				ret = -EINVAL;
			} else if (pk_set(k, value, origin) < 0)
				ret = -ENOMEM;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		free(st.pending_val[i]);
	kf_strv_free(&st.plugin_lines);
	return ret;
}

int kf_config_declare(struct kforge_ctx *ctx, struct kf_config *cfg, const char *plugin,
		      const struct kforge_setting *setting, kf_setting_check_fn check)
{
	_cleanup_free_ char *key = kf_strdup_printf(PLUGIN_PREFIX "%s.%s", plugin, setting->key);
	if (!key)
		return -ENOMEM;
	bool from_file = pk_find(cfg, key) != NULL;
	struct plugin_key *k = pk_get(cfg, key);
	if (!k)
		return -ENOMEM;
	free(k->help);
	k->help = strdup(setting->help ? setting->help : "");
	k->declared = true;
	k->check = check;
	if (!k->help)
		return -ENOMEM;
	if (!from_file)
		return pk_set(k, setting->def ? setting->def : "", "default");
	char why[512];
	if (pk_check(k, k->value, why, sizeof(why)) < 0) {
		kf_err(ctx, "%s: %s", k->origin, why);
		return -EINVAL;
	}
	return 0;
}

int kf_config_check_undeclared(struct kforge_ctx *ctx, const struct kf_config *cfg, const struct kf_strv *plugins)
{
	int ret = 0;
	for (size_t i = 0; i < cfg->n_pk; i++) {
		const struct plugin_key *k = &cfg->pk[i];
		if (k->declared)
			continue;
		const char *name = k->key + strlen(PLUGIN_PREFIX);
		_cleanup_free_ char *plugin = strndup(name, (size_t)(strchr(name, '.') - name));
		if (!plugin)
			return -ENOMEM;
		if (!kf_strv_contains(plugins, plugin)) {
			/* a plugin removed or not installed yet: its settings wait for it */
			kf_warn(ctx, "%s: [plugin.%s] names no plugin kforge found (see `kforge plugins`): its settings are "
				     "ignored",
				k->origin, plugin);
			continue;
		}
		struct kf_strbuf known = { 0 };
		for (size_t j = 0; j < cfg->n_pk; j++)
			if (cfg->pk[j].declared && strncmp(cfg->pk[j].key, k->key, strlen(PLUGIN_PREFIX) + strlen(plugin) + 1) == 0)
				kf_strbuf_appendf(&known, "%s%s", known.len ? ", " : "", plugin_short_key(cfg->pk[j].key));
		if (known.len)
			kf_err(ctx, "%s: unknown key \"%s\": plugin %s knows %s", k->origin, k->key, plugin, known.s);
		else
			kf_err(ctx, "%s: unknown key \"%s\": plugin %s has no settings", k->origin, k->key, plugin);
		kf_strbuf_release(&known);
		ret = -EINVAL;
	}
	return ret;
}

const char *kf_config_plugin_get(const struct kforge_ctx *ctx, const char *plugin, const char *key)
{
	if (!plugin || !key)
		return NULL;
	_cleanup_free_ char *full = kf_strdup_printf(PLUGIN_PREFIX "%s.%s", plugin, key);
	const struct plugin_key *k = full ? pk_find(ctx->config, full) : NULL;
	return k && k->declared ? k->value : NULL;
}

const char *kforge_probe_config_get(const struct kforge_probe_info *info, const char *key)
{
	return info && info->ctx ? kf_config_plugin_get(info->ctx, info->plugin, key) : NULL;
}

int kf_config_set(struct kforge_ctx *ctx, struct kf_config *cfg, const char *key, const char *value,
		  const char *origin)
{
	int i = key_index(key);
	char why[512];
	struct plugin_key *k = i < 0 ? pk_find(cfg, key) : NULL;
	if (k && k->declared) {
		if (pk_check(k, value, why, sizeof(why)) < 0) {
			kf_err(ctx, "%s: %s", origin, why);
			return -EINVAL;
		}
		return pk_set(k, value, origin);
	}
	if (i < 0) {
		kf_err(ctx, "%s: unknown configuration key \"%s\"", origin, key);
		return -EINVAL;
	}
	if (validate(&keys[i], value, why, sizeof(why)) < 0) {
		kf_err(ctx, "%s: %s", origin, why);
		return -EINVAL;
	}
	return set_value(cfg, i, value, origin);
}

const char *kf_config_get(const struct kf_config *cfg, const char *key)
{
	int i = key_index(key);
	if (i >= 0)
		return cfg->value[i];
	const struct plugin_key *k = pk_find(cfg, key);
	return k ? k->value : NULL;
}

/* Public side: through the context. */
int kforge_config_set(struct kforge_ctx *ctx, const char *key, const char *value, const char *origin)
{
	int r = kf_config_set(ctx, ctx->config, key, value, origin);
	/* VALUE may be what kforge_config_get() returned, freed by now: the new copy is read */
	const char *now = r == 0 ? kforge_config_get(ctx, key) : NULL;
	if (now && strcmp(key, "log.level") == 0 && kforge_log_priority_from_name(now) >= 0)
		kforge_set_log_priority(ctx, kforge_log_priority_from_name(now));
	return r;
}

const char *kforge_config_get(const struct kforge_ctx *ctx, const char *key)
{
	return kf_config_get(ctx->config, key);
}

bool kforge_config_entry(const struct kforge_ctx *ctx, unsigned int i, const char **key,
			 const char **value, const char **origin, const char **help)
{
	const struct kf_config *cfg = ctx->config;
	if (i >= ARRAY_SIZE(keys)) {
		/* then the plugins' settings: plugin.NAME.KEY */
		size_t j = i - ARRAY_SIZE(keys);
		if (j >= cfg->n_pk)
			return false;
		if (key)
			*key = cfg->pk[j].key;
		if (value)
			*value = cfg->pk[j].value;
		if (origin)
			*origin = cfg->pk[j].origin;
		if (help)
			*help = cfg->pk[j].help ? cfg->pk[j].help : "";
		return true;
	}
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
	free(ctx->config_system);
	free(ctx->config_user);
	ctx->config_system = sys ? strdup(sys) : NULL;
	ctx->config_user = usr ? strdup(usr) : NULL;
	struct kf_config *cfg = ctx->config;
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

const char *kforge_config_system_path(const struct kforge_ctx *ctx)
{
	return ctx->config_system;
}

const char *kforge_config_user_path(const struct kforge_ctx *ctx)
{
	return ctx->config_user;
}
