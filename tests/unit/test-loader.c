/* test-loader.c: the plugin loader: good and broken plugins, search-path override, masks, permissions. */
#include "unit.h"
#include "base/ctx.h"

#include <signal.h>

#ifndef TEST_PLUGIN_DIR
#error TEST_PLUGIN_DIR must name the folder of the test plugins
#endif


/* the scratch folder only: each test makes its context */
static int setup(void **state)
{
	struct unit_env *f = calloc(1, sizeof(*f));
	f->dir = unit_mkdtemp();
	setenv("KFORGE_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
	*state = f;
	return 0;
}

static void new_ctx(struct unit_env *f, const char *root)
{
	assert_int_equal(kforge_ctx_new(root ? root : f->dir, &f->ctx), 0);
	kforge_set_log_fn(f->ctx, unit_log_fn, &f->log);
	kforge_set_log_priority(f->ctx, LOG_DEBUG);
}

static const struct kforge_plugin_entry *find(struct kforge_ctx *ctx, const char *name)
{
	for (unsigned int i = 0; i < kforge_plugins_count(ctx); i++)
		if (strcmp(kforge_plugins_get(ctx, i)->name, name) == 0)
			return kforge_plugins_get(ctx, i);
	return NULL;
}

static void copy_file(const char *from, const char *to)
{
	char *data;
	size_t len;
	assert_int_equal(kf_read_file(from, &data, &len), 0);
	FILE *f = fopen(to, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	free(data);
}

static void assert_logged(struct unit_env *f, const char *plugin, const char *reason)
{
	char *needle = kf_strdup_printf("%s/%s.so %s", TEST_PLUGIN_DIR, plugin, reason);
	if (!strstr(f->log.buf, needle))
		print_error("missing in the log: %s\nlog:\n%s", needle, f->log.buf);
	assert_non_null(strstr(f->log.buf, needle));
	free(needle);
}

static void test_good_loads_broken_refused(void **state)
{
	struct unit_env *f = *state;
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	const struct kforge_plugin_entry *good = find(f->ctx, "good");
	assert_non_null(good);
	assert_string_equal(good->path, TEST_PLUGIN_DIR "/good.so");
	assert_string_equal(good->description, "loader test: loads");
	assert_int_equal(good->abi_major, KFORGE_PLUGIN_ABI_MAJOR);
	const char *broken[] = { "badabi", "newminor", "nodesc", "misnamed", "unresolved" };
	for (size_t i = 0; i < ARRAY_SIZE(broken); i++)
		assert_null(find(f->ctx, broken[i]));
	/* each refusal names the file and the real reason */
	char abi[64];
	snprintf(abi, sizeof(abi), "refused: built for plugin ABI %d.0", KFORGE_PLUGIN_ABI_MAJOR + 1);
	assert_logged(f, "badabi", abi);
	assert_logged(f, "newminor", "refused: built against a newer SDK");
	assert_logged(f, "nodesc", "refused: it exports no kforge_plugin_descriptor");
	assert_logged(f, "misnamed", "refused: its descriptor is named \"debian\" but the file is misnamed.so");
	assert_logged(f, "unresolved", "cannot be loaded: ");
	assert_non_null(strstr(f->log.buf, "undefined symbol: kforge_test_symbol_nobody_defines"));
}

static void test_earlier_folder_wins(void **state)
{
	struct unit_env *f = *state;
	char *vendor = kforge_path_join(f->dir, "vendor", NULL);
	char *copy = kforge_path_join(vendor, "good.so", NULL);
	assert_int_equal(kf_mkdir_p(vendor), 0);
	copy_file(TEST_PLUGIN_DIR "/good.so", copy);
	char *path = kf_strdup_printf("%s:%s", vendor, TEST_PLUGIN_DIR);
	setenv("KFORGE_PLUGIN_PATH", path, 1);
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	const char *const *sp = kforge_plugins_search_path(f->ctx);
	assert_string_equal(sp[0], vendor);
	assert_string_equal(sp[1], TEST_PLUGIN_DIR);
	const struct kforge_plugin_entry *good = find(f->ctx, "good");
	assert_non_null(good);
	assert_string_equal(good->path, copy);
	/* exactly one "good" */
	unsigned int n = 0;
	for (unsigned int i = 0; i < kforge_plugins_count(f->ctx); i++)
		n += strcmp(kforge_plugins_get(f->ctx, i)->name, "good") == 0;
	assert_int_equal(n, 1);
	free(path);
	free(copy);
	free(vendor);
}

static void test_link_to_dev_null_disables(void **state)
{
	struct unit_env *f = *state;
	char *mask = kforge_path_join(f->dir, "mask", NULL);
	unit_symlink(f->dir, "mask/good.so", "/dev/null");
	char *path = kf_strdup_printf("%s:%s", mask, TEST_PLUGIN_DIR);
	setenv("KFORGE_PLUGIN_PATH", path, 1);
	new_ctx(f, NULL);
	kforge_plugins_load(f->ctx);
	assert_null(find(f->ctx, "good"));
	assert_non_null(strstr(f->log.buf, "plugin good disabled by"));
	free(path);
	free(mask);
}

static void test_writable_refused_as_root(void **state)
{
	struct unit_env *f = *state;
	char why[512];
	char *dir = kforge_path_join(f->dir, "open", NULL);
	assert_int_equal(kf_mkdir_p(dir), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(kf_plugin_check_perms(dir, true, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by everyone"));
	assert_non_null(strstr(why, "chmod go-w"));
	assert_int_equal(kf_plugin_check_perms(dir, false, why, sizeof(why)), 0);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(kf_plugin_check_perms(dir, true, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by its group"));
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(kf_plugin_check_perms(dir, true, why, sizeof(why)), 0);

	/* through the loader: a group-writable plugin file is not loaded by root */
	char *copy = kforge_path_join(dir, "good.so", NULL);
	copy_file(TEST_PLUGIN_DIR "/good.so", copy);
	assert_int_equal(chmod(copy, 0664), 0);
	setenv("KFORGE_PLUGIN_PATH", dir, 1);
	new_ctx(f, NULL);
	kforge_plugins_load(f->ctx);
	if (geteuid() == 0) {
		assert_null(find(f->ctx, "good"));
		assert_non_null(strstr(f->log.buf, "good.so is writable by its group"));
	} else {
		/* an ordinary user loads their own plugins whatever the mode */
		assert_non_null(find(f->ctx, "good"));
	}
	free(copy);
	free(dir);
}

/* A plugin owned by another user: mode 0755 does not help, that user can change it at will. */
static void test_owned_by_other_refused_as_root(void **state)
{
	struct unit_env *f = *state;
	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	char why[512];
	char *dir = kforge_path_join(f->dir, "theirs", NULL);
	char *copy = kforge_path_join(dir, "good.so", NULL);
	assert_int_equal(kf_mkdir_p(dir), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	copy_file(TEST_PLUGIN_DIR "/good.so", copy);
	assert_int_equal(chmod(copy, 0755), 0);
	assert_int_equal(chown(copy, 65534, 65534), 0);
	assert_int_equal(kf_plugin_check_perms(copy, true, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "uid 65534"));
	assert_non_null(strstr(why, "not root"));
	assert_non_null(strstr(why, "chown root:root"));
	/* an ordinary user's own plugins are theirs to load */
	assert_int_equal(kf_plugin_check_perms(copy, false, why, sizeof(why)), 0);

	/* through the loader: named, with the owner and the fix, and not loaded */
	setenv("KFORGE_PLUGIN_PATH", dir, 1);
	new_ctx(f, NULL);
	kforge_plugins_load(f->ctx);
	assert_null(find(f->ctx, "good"));
	char *needle = kf_strdup_printf("plugin %s refused: %s is owned by ", copy, copy);
	assert_non_null(strstr(f->log.buf, needle));
	free(needle);
	kforge_ctx_unref(f->ctx);
	f->ctx = NULL;

	/* given back to root, it loads */
	assert_int_equal(chown(copy, 0, 0), 0);
	f->log.len = 0;
	f->log.buf[0] = '\0';
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	assert_non_null(find(f->ctx, "good"));
	kforge_ctx_unref(f->ctx);
	f->ctx = NULL;

	/* the folder that holds it, owned by another user: the whole folder is refused */
	assert_int_equal(chown(dir, 65534, 65534), 0);
	f->log.len = 0;
	f->log.buf[0] = '\0';
	new_ctx(f, NULL);
	kforge_plugins_load(f->ctx);
	assert_null(find(f->ctx, "good"));
	needle = kf_strdup_printf("plugin folder refused: %s is owned by ", dir);
	if (!strstr(f->log.buf, needle))
		print_error("missing in the log: %s\nlog:\n%s", needle, f->log.buf);
	assert_non_null(strstr(f->log.buf, needle));
	assert_non_null(strstr(f->log.buf, "uid 65534"));
	free(needle);
	free(copy);
	free(dir);
}

/* A FIFO named like a plugin: dlopen() would wait on it for good; refused at once. */
static void test_fifo_plugin_refused(void **state)
{
	struct unit_env *f = *state;
	char *fifo = unit_mkfifo(f->dir, "fifos/blocker.so");
	char *dir = kforge_path_join(f->dir, "fifos", NULL);
	char *path = kf_strdup_printf("%s:%s", dir, TEST_PLUGIN_DIR);
	setenv("KFORGE_PLUGIN_PATH", path, 1);
	new_ctx(f, NULL);
	alarm(20); /* a regression blocks in dlopen(): the alarm ends it as a failure */
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	alarm(0);
	assert_null(find(f->ctx, "blocker"));
	assert_non_null(find(f->ctx, "good"));
	char *needle = kf_strdup_printf("plugin %s refused: %s is not a regular file", fifo, fifo);
	assert_non_null(strstr(f->log.buf, needle));
	free(needle);
	free(path);
	free(dir);
	free(fifo);
}

/* A relative folder in KFORGE_PLUGIN_PATH depends on where kforge starts: skipped, named. */
static void test_relative_path_entry_skipped(void **state)
{
	struct unit_env *f = *state;
	setenv("KFORGE_PLUGIN_PATH", "relative/plugins:" TEST_PLUGIN_DIR ":.", 1);
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	const char *const *sp = kforge_plugins_search_path(f->ctx);
	assert_string_equal(sp[0], TEST_PLUGIN_DIR);
	for (size_t i = 0; sp[i]; i++)
		assert_true(sp[i][0] == '/');
	assert_non_null(strstr(f->log.buf, "KFORGE_PLUGIN_PATH: \"relative/plugins\" is not an absolute path: skipped"));
	assert_non_null(strstr(f->log.buf, "KFORGE_PLUGIN_PATH: \".\" is not an absolute path: skipped"));
	assert_non_null(find(f->ctx, "good"));
}

static void test_probe_and_select(void **state)
{
	struct unit_env *f = *state;
	unit_write(f->dir, "etc/os-release", "ID=testos\n");
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	assert_int_equal(kf_plugins_select(f->ctx, NULL, NULL, NULL), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "good");
	assert_int_equal(find(f->ctx, "good")->score, 42);
	assert_true(find(f->ctx, "good")->selected);
	/* what front ends built against 0.1 call: the same, for the running kernel */
	assert_int_equal(kforge_plugins_select(f->ctx, NULL), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "good");
	assert_int_equal(kforge_plugins_select(f->ctx, "v10"), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "v10");
	assert_int_equal(kf_plugins_select(f->ctx, NULL, NULL, NULL), 0);
	/* forcing a name that does not exist lists what does */
	f->log.len = 0;
	f->log.buf[0] = '\0';
	assert_int_equal(kforge_plugins_select(f->ctx, "nosuch"), -ENOENT);
	/* the list is in that message: the log of the loading names "good" anyway */
	const char *msg = strstr(f->log.buf, "no plugin named \"nosuch\": the plugins found are ");
	assert_non_null(msg);
	char *end = strchr(msg, '\n');
	assert_non_null(end);
	*end = '\0';
	/* the list is the loaded plugins' names (crashprobe's probe never ran here: it loaded all the same) */
	const char *list = msg + strlen("no plugin named \"nosuch\": the plugins found are ");
	assert_non_null(strstr(list, "good"));
	assert_null(strstr(list, "nosuch"));
}

static void test_probe_scores_zero_elsewhere(void **state)
{
	struct unit_env *f = *state;
	unit_write(f->dir, "etc/os-release", "ID=otheros\n");
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	kf_plugins_select(f->ctx, NULL, NULL, NULL);
	assert_int_equal(find(f->ctx, "good")->score, 0);
	assert_false(find(f->ctx, "good")->selected);
	/* forced, a plugin is used even where its probe says no */
	assert_int_equal(kf_plugins_select(f->ctx, "good", NULL, NULL), 0);
	assert_true(find(f->ctx, "good")->selected);
}

/* A probe that dies of SIGSEGV: named and skipped, the other plugins probed and one selected. */
static void test_crashing_probe_skipped(void **state)
{
	struct unit_env *f = *state;
	unsetenv("CRASHPROBE");
	unit_write(f->dir, "etc/os-release", "ID=testos\n");
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	const struct kforge_plugin_entry *crash = find(f->ctx, "crashprobe");
	assert_non_null(crash);
	assert_int_equal(kforge_plugins_select(f->ctx, NULL), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "good");
	assert_int_equal(find(f->ctx, "good")->score, 42);
	assert_int_equal(crash->score, 0);
	assert_false(crash->selected);
	char *needle = kf_strdup_printf("plugin crashprobe crashed in its probe (signal %d, ", SIGSEGV);
	if (!strstr(f->log.buf, needle))
		print_error("missing in the log: %s\nlog:\n%s", needle, f->log.buf);
	assert_non_null(strstr(f->log.buf, needle));
	free(needle);
	assert_non_null(strstr(f->log.buf, "): skipped (fix: update or remove " TEST_PLUGIN_DIR "/crashprobe.so)"));
	/* forced, it is still refused: "although its probe says no" is not "although it crashed" */
	assert_int_equal(kforge_plugins_select(f->ctx, "crashprobe"), -ENOEXEC);
	assert_non_null(strstr(f->log.buf, "plugin crashprobe cannot be used: its probe failed"));
	/* and the others can still be forced */
	assert_int_equal(kforge_plugins_select(f->ctx, "good"), 0);
	assert_true(find(f->ctx, "good")->selected);
}

/* A probe that exits or never returns (even with its pipe closed): killed at the deadline, skipped. */
static void test_exiting_or_hung_probe_skipped(void **state)
{
	struct unit_env *f = *state;
	static const struct {
		const char *mode, *said;
	} cases[] = {
		{ "exit", "plugin crashprobe ended its probe without a score (exit status 3): skipped" },
		{ "hang", "plugin crashprobe did not finish its probe within 1 s: skipped" },
		{ "closehang", "plugin crashprobe did not finish its probe within 1 s: skipped" },
	};
	unsigned int saved = kf_plugin_probe_timeout_ms;
	kf_plugin_probe_timeout_ms = 300;
	unit_write(f->dir, "etc/os-release", "ID=testos\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		setenv("CRASHPROBE", cases[i].mode, 1);
		kforge_ctx_unref(f->ctx);
		f->log.len = 0;
		f->log.buf[0] = '\0';
		new_ctx(f, NULL);
		assert_int_equal(kforge_plugins_load(f->ctx), 0);
		alarm(20); /* the deadline is 300 ms: a regression that waits for good fails here */
		assert_int_equal(kforge_plugins_select(f->ctx, NULL), 0);
		alarm(0);
		assert_string_equal(kforge_plugins_selected(f->ctx)->name, "good");
		assert_int_equal(find(f->ctx, "crashprobe")->score, 0);
		if (!strstr(f->log.buf, cases[i].said))
			print_error("missing in the log: %s\nlog:\n%s", cases[i].said, f->log.buf);
		assert_non_null(strstr(f->log.buf, cases[i].said));
	}
	unsetenv("CRASHPROBE");
	kf_plugin_probe_timeout_ms = saved;
}

static void test_probe_sees_the_kernel(void **state)
{
	struct unit_env *f = *state;
	unit_write(f->dir, "etc/os-release", "ID=testos\n");
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	assert_int_equal(find(f->ctx, "v11")->abi_minor, 1);
	/* v11 claims its flavour above the distribution's plugin (good), and sees the build dir */
	assert_int_equal(kf_plugins_select(f->ctx, NULL, "6.1.0-56-v11-amd64", "/usr/src/linux-headers-6.1.0-56-v11-amd64"), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "v11");
	assert_int_equal(find(f->ctx, "v11")->score, KFORGE_SCORE_KERNEL + 1);
	assert_int_equal(find(f->ctx, "good")->score, 42);
	assert_false(find(f->ctx, "good")->selected);
	assert_int_equal(kf_plugins_select(f->ctx, NULL, "6.1.0-56-v11-amd64", NULL), 0);
	assert_int_equal(find(f->ctx, "v11")->score, KFORGE_SCORE_KERNEL);
	/* another kernel of the same system: the distribution's plugin keeps it */
	assert_int_equal(kf_plugins_select(f->ctx, NULL, "6.1.0-56-amd64", "/usr/src/linux-headers-6.1.0-56-amd64"), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "good");
	assert_int_equal(find(f->ctx, "v11")->score, 0);
	assert_false(find(f->ctx, "v11")->selected);
}

static void test_chain_follows_the_scores(void **state)
{
	struct unit_env *f = *state;
	unit_write(f->dir, "etc/os-release", "ID=testos\n");
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	const struct kf_plugin *chain[16];
	/* the selected plugin first, then the others that claim the system by score; none that scored 0 */
	assert_int_equal(kf_plugins_select(f->ctx, NULL, "6.1.0-56-v11-amd64", NULL), 0);
	assert_int_equal(kf_plugins_chain(f->ctx, chain, ARRAY_SIZE(chain)), 2);
	assert_string_equal(chain[0]->name, "v11");
	assert_string_equal(chain[1]->name, "good");
	assert_int_equal(kf_plugins_chain(f->ctx, chain, 1), 1);
	/* forced: that one first, even where its probe says no; the claimants after it */
	assert_int_equal(kf_plugins_select(f->ctx, "v10", "6.1.0-56-v11-amd64", NULL), 0);
	assert_int_equal(kf_plugins_chain(f->ctx, chain, ARRAY_SIZE(chain)), 3);
	assert_string_equal(chain[0]->name, "v10");
	assert_string_equal(chain[1]->name, "v11");
	assert_string_equal(chain[2]->name, "good");
}

static const struct kforge_plugin *descriptor(struct kforge_ctx *ctx, const char *name)
{
	for (unsigned int i = 0; i < ctx->plugins.n; i++)
		if (strcmp(ctx->plugins.v[i].name, name) == 0)
			return &ctx->plugins.v[i].desc;
	return NULL;
}

static void test_descriptor_read_as_far_as_its_minor(void **state)
{
	struct unit_env *f = *state;
	/* one size per minor: 1.0 ends where 1.1's first field starts */
	assert_int_equal(kf_plugin_descriptor_size(0), offsetof(struct kforge_plugin, settings));
	assert_int_equal(kf_plugin_descriptor_size(1), sizeof(struct kforge_plugin));
	assert_int_equal(kf_plugin_descriptor_size(KFORGE_PLUGIN_ABI_MINOR + 1), 0);
	unit_write(f->dir, "etc/os-release", "ID=oldos\n");
	new_ctx(f, NULL);
	assert_int_equal(kforge_plugins_load(f->ctx), 0);
	/* v10 is laid out as 1.0, followed by words that crash whoever reads them: its 1.1 fields are NULL */
	const struct kforge_plugin_entry *e = find(f->ctx, "v10");
	assert_non_null(e);
	assert_int_equal(e->abi_minor, 0);
	assert_string_equal(e->description, "loader test: ABI 1.0");
	const struct kforge_plugin *d = descriptor(f->ctx, "v10");
	assert_non_null(d->probe);
	assert_non_null(d->setup);
	assert_non_null(d->locate_source);
	assert_null(d->refresh_initramfs);
	assert_null(d->settings);
	assert_null(d->check_setting);
	/* and it still probes (it sees a 1.1 probe info, and reads what 1.0 had) */
	assert_int_equal(kf_plugins_select(f->ctx, NULL, "6.1.0-56-amd64", NULL), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "v10");
	assert_int_equal(find(f->ctx, "v10")->score, KFORGE_SCORE_EXACT);
	/* a 1.1 plugin's fields are there */
	d = descriptor(f->ctx, "v11");
	assert_non_null(d->settings);
	assert_string_equal(d->settings[0].key, "flavour");
	assert_non_null(d->check_setting);
}

static void test_read_descriptor_refuses_before_copying(void **state)
{
	char why[512];
	struct kforge_plugin out;
	/* a newer minor than the host's: refused on the two leading fields alone */
	static const unsigned int newer[2] = { KFORGE_PLUGIN_ABI_MAJOR, KFORGE_PLUGIN_ABI_MINOR + 1 };
	assert_int_equal(kf_plugin_read_descriptor((const struct kforge_plugin *)newer, "x", &out, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "built against a newer SDK"));
	static const unsigned int other[2] = { KFORGE_PLUGIN_ABI_MAJOR + 1, 0 };
	assert_int_equal(kf_plugin_read_descriptor((const struct kforge_plugin *)other, "x", &out, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "built for plugin ABI"));
}

/* A context with CONF as the system configuration file, its plugins loaded; the load's result. */
static int load_with_conf(struct unit_env *f, const char *conf)
{
	unit_write(f->dir, "kforge.conf", conf);
	char *path = kforge_path_join(f->dir, "kforge.conf", NULL);
	new_ctx(f, NULL);
	assert_int_equal(kforge_config_load(f->ctx, path, "/nonexistent/user.conf"), 0);
	free(path);
	return kforge_plugins_load(f->ctx);
}

static void assert_in_log(struct unit_env *f, const char *text)
{
	char *needle = kf_strdup_printf("%s/kforge.conf:%s", f->dir, text);
	if (!strstr(f->log.buf, needle))
		print_error("missing in the log: %s\nlog:\n%s", needle, f->log.buf);
	assert_non_null(strstr(f->log.buf, needle));
	free(needle);
}

static void test_plugin_settings(void **state)
{
	struct unit_env *f = *state;
	unit_write(f->dir, "etc/os-release", "ID=testos\n");
	assert_int_equal(load_with_conf(f, "[build]\njobs = 2\n\n[plugin.v11]\ncolour = red\nflavour = rt\n"), 0);
	assert_string_equal(kforge_config_get(f->ctx, "plugin.v11.colour"), "red");
	/* listed with the core's settings, with the line that set them */
	const char *key, *value, *origin, *help;
	bool colour = false;
	for (unsigned int i = 0; kforge_config_entry(f->ctx, i, &key, &value, &origin, &help); i++) {
		if (strcmp(key, "plugin.v11.colour") != 0)
			continue;
		colour = true;
		assert_string_equal(value, "red");
		assert_string_equal(help, "red, green or blue");
		char *want = kf_strdup_printf("%s/kforge.conf:5", f->dir);
		assert_string_equal(origin, want);
		free(want);
	}
	assert_true(colour);
	/* the probe reads its own section: flavour = rt claims -rt- kernels, not -v11- ones */
	assert_int_equal(kf_plugins_select(f->ctx, NULL, "6.1.0-56-rt-amd64", NULL), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "v11");
	assert_int_equal(kf_plugins_select(f->ctx, NULL, "6.1.0-56-v11-amd64", NULL), 0);
	assert_string_equal(kforge_plugins_selected(f->ctx)->name, "good");
	/* set later, checked by the plugin too */
	assert_int_equal(kforge_config_set(f->ctx, "plugin.v11.colour", "green", "test"), 0);
	assert_string_equal(kforge_config_get(f->ctx, "plugin.v11.colour"), "green");
	assert_int_equal(kforge_config_set(f->ctx, "plugin.v11.colour", "purple", "test"), -EINVAL);
	assert_non_null(strstr(f->log.buf, "test: plugin.v11.colour must be red, green or blue, not \"purple\""));
	assert_int_equal(kforge_config_set(f->ctx, "plugin.v11.size", "1", "test"), -EINVAL);
}

static void test_plugin_settings_defaults(void **state)
{
	struct unit_env *f = *state;
	assert_int_equal(load_with_conf(f, "# nothing\n"), 0);
	assert_string_equal(kforge_config_get(f->ctx, "plugin.v11.colour"), "blue");
	assert_string_equal(kforge_config_get(f->ctx, "plugin.v11.flavour"), "v11");
	/* a 1.0 plugin has none */
	assert_null(kforge_config_get(f->ctx, "plugin.v10.colour"));
}

static void test_plugin_settings_bad_value(void **state)
{
	struct unit_env *f = *state;
	assert_int_equal(load_with_conf(f, "[plugin.v11]\n\ncolour = purple\n"), -EINVAL);
	assert_in_log(f, "3: plugin.v11.colour must be red, green or blue, not \"purple\"");
	/* the error stays: a second call says it again */
	assert_int_equal(kforge_plugins_load(f->ctx), -EINVAL);
}

static void test_plugin_settings_unknown_key(void **state)
{
	struct unit_env *f = *state;
	assert_int_equal(load_with_conf(f, "[plugin.v11]\nsize = 1\n"), -EINVAL);
	assert_in_log(f, "2: unknown key \"plugin.v11.size\": plugin v11 knows colour, flavour");
}

static void test_plugin_settings_for_a_1_0_plugin(void **state)
{
	struct unit_env *f = *state;
	assert_int_equal(load_with_conf(f, "[plugin.v10]\ncolour = red\n"), -EINVAL);
	assert_in_log(f, "2: unknown key \"plugin.v10.colour\": plugin v10 has no settings");
}

static void test_plugin_settings_of_a_missing_plugin(void **state)
{
	struct unit_env *f = *state;
	assert_int_equal(load_with_conf(f, "[plugin.gone]\nx = 1\n"), 0);
	assert_in_log(f, "2: [plugin.gone] names no plugin kforge found");
}

static void test_check_descriptor(void **state)
{
	char why[512];
	struct kforge_plugin d = { .abi_major = KFORGE_PLUGIN_ABI_MAJOR, .abi_minor = KFORGE_PLUGIN_ABI_MINOR,
				   .name = "x" };
	assert_int_equal(kf_plugin_check_descriptor(&d, "x", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "its descriptor has no probe function");
	d.probe = (int (*)(const struct kforge_probe_info *))1;
	assert_int_equal(kf_plugin_check_descriptor(&d, "x", why, sizeof(why)), 0);
	d.name = "";
	assert_int_equal(kf_plugin_check_descriptor(&d, "x", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "its descriptor has no name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_loads_broken_refused, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_earlier_folder_wins, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_link_to_dev_null_disables, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_writable_refused_as_root, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_owned_by_other_refused_as_root, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_fifo_plugin_refused, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_relative_path_entry_skipped, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_probe_and_select, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_probe_scores_zero_elsewhere, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_probe_sees_the_kernel, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_chain_follows_the_scores, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_descriptor_read_as_far_as_its_minor, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_read_descriptor_refuses_before_copying, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_plugin_settings, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_plugin_settings_defaults, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_plugin_settings_bad_value, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_plugin_settings_unknown_key, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_plugin_settings_for_a_1_0_plugin, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_plugin_settings_of_a_missing_plugin, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_check_descriptor, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_crashing_probe_skipped, setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_exiting_or_hung_probe_skipped, setup, unit_env_teardown),
	};
	return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
