/* plugin.c: finding, loading, checking and probing plugins (libltdl). */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ltdl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/ctx.h"

int kf_plugin_check_perms(const char *path, bool as_root, char *why, size_t n)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(why, n, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* dlopen() of a FIFO waits for a writer, of a device reads it: only files and folders */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		snprintf(why, n, "%s is not a regular file (fix: put the plugin's .so there, or remove it)", path);
		return -EINVAL;
	}
	if (!as_root)
		return 0;
	/*
	 * Whoever owns the file or the folder can chmod it and put their own code there,
	 * mode 0755 or not: root loads only what root (or the user running kforge) owns.
	 */
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		struct passwd *pw = getpwuid(st.st_uid);
		char owner[64];
		if (pw)
			snprintf(owner, sizeof(owner), "%s (uid %u)", pw->pw_name, (unsigned)st.st_uid);
		else
			snprintf(owner, sizeof(owner), "uid %u", (unsigned)st.st_uid);
		snprintf(why, n,
			 "%s is owned by %s, not root: kforge runs as root and will not load code another user "
			 "can change (fix: chown root:root %s, or remove it)",
			 path, owner, path);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, n,
			 "%s is writable by %s: kforge runs as root and will not load code others can change "
			 "(fix: chmod go-w %s)",
			 path, (st.st_mode & S_IWOTH) ? "everyone" : "its group", path);
		return -EPERM;
	}
	return 0;
}

static int check_abi(unsigned int major, unsigned int minor, char *why, size_t n)
{
	if (major != KFORGE_PLUGIN_ABI_MAJOR) {
		snprintf(why, n,
			 "built for plugin ABI %u.%u, this kforge speaks %u.%u: rebuild the plugin against "
			 "this kforge's SDK (pkg-config kforge-plugin)",
			 major, minor, KFORGE_PLUGIN_ABI_MAJOR, KFORGE_PLUGIN_ABI_MINOR);
		return -EINVAL;
	}
	if (minor > KFORGE_PLUGIN_ABI_MINOR) {
		snprintf(why, n,
			 "built against a newer SDK (plugin ABI %u.%u) than this kforge (%u.%u): update kforge "
			 "or rebuild the plugin against this SDK",
			 major, minor, KFORGE_PLUGIN_ABI_MAJOR, KFORGE_PLUGIN_ABI_MINOR);
		return -EINVAL;
	}
	return 0;
}

size_t kf_plugin_descriptor_size(unsigned int minor)
{
	/* how far each minor of ABI 1 laid the descriptor out: the fields a minor added start where the last ends */
	static const size_t sizes[] = {
		[0] = offsetof(struct kforge_plugin, settings), /* 1.0: probe, setup, the seven steps */
		[1] = sizeof(struct kforge_plugin),		/* 1.1: settings, check, the distribution's knowledge */
	};
	_Static_assert(ARRAY_SIZE(sizes) == KFORGE_PLUGIN_ABI_MINOR + 1, "a descriptor size for every minor of the ABI");
	return minor < ARRAY_SIZE(sizes) ? sizes[minor] : 0;
}

int kf_plugin_read_descriptor(const struct kforge_plugin *exported, const char *file_name, struct kforge_plugin *out,
			      char *why, size_t n)
{
	/* abi_major and abi_minor lead every version of the descriptor: read those first */
	int r = check_abi(exported->abi_major, exported->abi_minor, why, n);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	memcpy(out, exported, kf_plugin_descriptor_size(exported->abi_minor));
	return kf_plugin_check_descriptor(out, file_name, why, n);
}

int kf_plugin_check_descriptor(const struct kforge_plugin *d, const char *file_name, char *why, size_t n)
{
	int r = check_abi(d->abi_major, d->abi_minor, why, n);
	if (r < 0)
		return r;
	if (!d->name || !d->name[0]) {
		snprintf(why, n, "its descriptor has no name");
		return -EINVAL;
	}
	if (file_name && strcmp(d->name, file_name) != 0) {
		snprintf(why, n, "its descriptor is named \"%s\" but the file is %s.so: the two must agree",
			 d->name, file_name);
		return -EINVAL;
	}
	if (!d->probe) {
		snprintf(why, n, "its descriptor has no probe function");
		return -EINVAL;
	}
	return 0;
}

static void build_search_path(struct kforge_ctx *ctx, struct kf_plugin_set *set)
{
	const char *env = getenv("KFORGE_PLUGIN_PATH");
	if (env && env[0]) {
		_cleanup_free_ char *copy = strdup(env);
		char *save = NULL;
		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
			/* a relative folder is another one in each directory kforge is started from */
			if (d[0] != '/') {
				kf_warn(ctx, "KFORGE_PLUGIN_PATH: \"%s\" is not an absolute path: skipped (fix: give "
					     "the folder as /full/path)",
					d);
				continue;
			}
			if (!kf_strv_contains(&set->search_path, d))
				kf_strv_push(&set->search_path, d);
		}
	}
	static const char *const defaults[] = { SYSCONFDIR "/kforge/plugins.d", PLUGINDIR };
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		if (!kf_strv_contains(&set->search_path, defaults[i]))
			kf_strv_push(&set->search_path, defaults[i]);
}

const char *const *kforge_plugins_search_path(struct kforge_ctx *ctx)
{
	struct kf_plugin_set *set = &ctx->plugins;
	if (!set->search_path.v)
		build_search_path(ctx, set);
	return (const char *const *)set->search_path.v;
}

/* A link to /dev/null disables the plugin of that name, as with systemd's units. */
static bool is_masked(const char *path)
{
	char target[64];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "/dev/null") == 0;
}

static int load_one(struct kforge_ctx *ctx, struct kf_plugin_set *set, const char *path, const char *name)
{
	char why[1024];
	if (kf_plugin_check_perms(path, geteuid() == 0, why, sizeof(why)) < 0) {
		kf_warn(ctx, "plugin %s refused: %s", path, why);
		return -EPERM;
	}
	lt_dlhandle h = lt_dlopen(path);
	if (!h) {
		/* lt_dlerror() often just says "file not found": ask dlopen for the real reason */
		void *d = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		const char *reason = d ? lt_dlerror() : dlerror();
		kf_warn(ctx, "plugin %s cannot be loaded: %s", path, reason ? reason : "unknown error");
		if (d)
			dlclose(d);
		return -ENOEXEC;
	}
	const struct kforge_plugin *exported = lt_dlsym(h, KFORGE_PLUGIN_SYMBOL);
	if (!exported) {
		kf_warn(ctx, "plugin %s refused: it exports no %s (define it with KFORGE_PLUGIN_DEFINE)",
			path, KFORGE_PLUGIN_SYMBOL);
		lt_dlclose(h);
		return -ENOEXEC;
	}
	struct kforge_plugin desc;
	if (kf_plugin_read_descriptor(exported, name, &desc, why, sizeof(why)) < 0) {
		kf_warn(ctx, "plugin %s refused: %s", path, why);
		lt_dlclose(h);
		return -EINVAL;
	}
	struct kf_plugin *v = realloc(set->v, (set->n + 1) * sizeof(*v));
	if (!v) {
		lt_dlclose(h);
		return -ENOMEM;
	}
	set->v = v;
	struct kf_plugin *p = &set->v[set->n];
	memset(p, 0, sizeof(*p));
	p->desc = desc;
	p->handle = h;
	p->name = strdup(name);
	p->path = strdup(path);
	p->pub.name = p->name;
	p->pub.path = p->path;
	p->pub.description = desc.description ? desc.description : "";
	p->pub.abi_major = desc.abi_major;
	p->pub.abi_minor = desc.abi_minor;
	set->n++;
	kf_dbg(ctx, "plugin %s loaded from %s", name, path);
	return 0;
}

static int filter_so(const struct dirent *e)
{
	return e->d_name[0] != '.' && kf_str_endswith(e->d_name, ".so");
}

/* The plugins' own settings join the configuration; what kforge.conf set for them is checked now. */
static int declare_settings(struct kforge_ctx *ctx, struct kf_plugin_set *set)
{
	struct kf_strv names = { 0 };
	int ret = 0;
	for (unsigned int i = 0; i < set->n; i++) {
		const struct kf_plugin *p = &set->v[i];
		kf_strv_push(&names, p->name);
		for (const struct kforge_setting *k = p->desc.settings; k && k->key; k++) {
			int r = kf_config_declare(ctx, ctx->config, p->name, k, p->desc.check_setting);
			ret = ret < 0 ? ret : r;
		}
	}
	int r = kf_config_check_undeclared(ctx, ctx->config, &names);
	kf_strv_free(&names);
	return ret < 0 ? ret : r;
}

int kforge_plugins_load(struct kforge_ctx *ctx)
{
	struct kf_plugin_set *set = &ctx->plugins;
	if (set->n)
		return set->settings_error;
	if (!set->ltdl_ready) {
		if (lt_dlinit() != 0) {
			kf_err(ctx, "libltdl cannot start: %s", lt_dlerror());
			return -ENOEXEC;
		}
		set->ltdl_ready = true;
		ctx->plugins_release = kf_plugins_free;
	}
	const char *const *dirs = kforge_plugins_search_path(ctx);
	struct kf_strv seen = { 0 };
	bool as_root = geteuid() == 0;
	for (size_t i = 0; dirs && dirs[i]; i++) {
		const char *dir = dirs[i];
		if (!kf_is_dir(dir))
			continue;
		char why[1024];
		if (kf_plugin_check_perms(dir, as_root, why, sizeof(why)) < 0) {
			kf_warn(ctx, "plugin folder refused: %s", why);
			continue;
		}
		struct dirent **list;
		int n = scandir(dir, &list, filter_so, alphasort);
		if (n < 0)
			continue;
		for (int j = 0; j < n; j++) {
			_cleanup_free_ char *path = kforge_path_join(dir, list[j]->d_name, NULL);
			_cleanup_free_ char *name = strndup(list[j]->d_name, strlen(list[j]->d_name) - 3);
			free(list[j]);
			if (!path || !name)
				continue;
			if (kf_strv_contains(&seen, name)) {
				kf_dbg(ctx, "plugin %s skipped: an earlier folder has %s.so", path, name);
				continue;
			}
			kf_strv_push(&seen, name);
			if (is_masked(path)) {
				kf_dbg(ctx, "plugin %s disabled by %s -> /dev/null", name, path);
				continue;
			}
			load_one(ctx, set, path, name);
		}
		free(list);
	}
	kf_strv_free(&seen);
	if (set->n == 0) {
		struct kf_strbuf b = { 0 };
		for (size_t i = 0; dirs && dirs[i]; i++)
			kf_strbuf_appendf(&b, "%s%s", i ? ", " : "", dirs[i]);
		kf_err(ctx, "no usable plugin in %s: reinstall kforge, or set KFORGE_PLUGIN_PATH to the folder "
			    "holding the plugins",
		       b.s ? b.s : "(empty path)");
		kf_strbuf_release(&b);
		return -ENOENT;
	}
	set->settings_error = declare_settings(ctx, set);
	return set->settings_error;
}

unsigned int kforge_plugins_count(const struct kforge_ctx *ctx)
{
	return ctx->plugins.n;
}

const struct kforge_plugin_entry *kforge_plugins_get(const struct kforge_ctx *ctx, unsigned int i)
{
	const struct kf_plugin_set *set = &ctx->plugins;
	return i < set->n ? &set->v[i].pub : NULL;
}

unsigned int kf_plugin_probe_timeout_ms = 10000;

static long long now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Reads up to LEN bytes from FD until end of file or DEADLINE (now_ms()); returns the count. */
static size_t read_until(int fd, void *buf, size_t len, long long deadline)
{
	size_t got = 0;
	while (got < len) {
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * Reaps PID into *STATUS; false when it still runs at DEADLINE. The end of the pipe comes
 * before the child is a zombie, and a probe may close the pipe and go on: never block.
 */
static bool reap_until(pid_t pid, int *status, long long deadline)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR) {
			*status = 0; /* ECHILD: reaped elsewhere (SIGCHLD ignored); the pipe says the rest */
			return true;
		}
		if (now_ms() >= deadline)
			return false;
		struct timespec pause = { 0, 2 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
}

/* A probe that calls exit() ends the child here: the parent's atexit handlers (stdio buffers
 * it would flush a second time, a sanitizer's leak check of the parent's memory) are not the
 * child's to run. */
static void probe_exit_now(int status, void *arg)
{
	(void)arg;
	_exit(status);
}

/* The child's side: the probe, its score down the pipe, nothing else of kforge's. */
static void __attribute__((noreturn))
probe_child(const struct kf_plugin *p, const struct kforge_probe_info *info, int fd)
{
	/*
	 * The parent's handlers (a test harness's, say) must not catch the probe's crash in
	 * here and carry on as the parent; and the crash is reported by name, no core needed.
	 */
	static const int crash[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP };
	for (size_t i = 0; i < ARRAY_SIZE(crash); i++)
		signal(crash[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	on_exit(probe_exit_now, NULL);
	int score = p->desc.probe(info);
	ssize_t w = write(fd, &score, sizeof(score));
	_exit(w == (ssize_t)sizeof(score) ? 0 : 1);
}

/*
 * Runs P's probe in a child process: a probe that crashes, exits or hangs takes only the
 * child with it, and kforge goes on with the other plugins. Returns 0 with the probe's
 * answer in *SCORE, or -ECHILD when the plugin is to be skipped (said, by name).
 */
static int probe_isolated(struct kforge_ctx *ctx, const struct kf_plugin *p, const struct kforge_probe_info *info,
			  int *score)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		kf_warn(ctx, "plugin %s: its probe cannot run apart (%s): skipped", p->name, strerror(errno));
		return -ECHILD;
	}
	pid_t pid = fork();
	if (pid < 0) {
		kf_warn(ctx, "plugin %s: its probe cannot run apart (%s): skipped", p->name, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -ECHILD;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(p, info, fds[1]);
	}
	close(fds[1]);
	long long deadline = now_ms() + kf_plugin_probe_timeout_ms;
	int answer = 0, status = 0;
	size_t got = read_until(fds[0], &answer, sizeof(answer), deadline);
	close(fds[0]);
	bool late = !reap_until(pid, &status, deadline);
	if (late) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		kf_warn(ctx, "plugin %s did not finish its probe within %u s: skipped (fix: update or remove %s)",
			p->name, (kf_plugin_probe_timeout_ms + 999) / 1000, p->path);
		return -ECHILD;
	}
	if (WIFSIGNALED(status)) {
		kf_warn(ctx, "plugin %s crashed in its probe (signal %d, %s): skipped (fix: update or remove %s)",
			p->name, WTERMSIG(status), strsignal(WTERMSIG(status)), p->path);
		return -ECHILD;
	}
	if (got < sizeof(answer) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		kf_warn(ctx, "plugin %s ended its probe without a score (exit status %d): skipped (fix: update or "
			     "remove %s)",
			p->name, WIFEXITED(status) ? WEXITSTATUS(status) : -1, p->path);
		return -ECHILD;
	}
	*score = answer;
	return 0;
}

int kf_plugins_select(struct kforge_ctx *ctx, const char *forced, const char *release, const char *build_dir)
{
	struct kf_plugin_set *set = &ctx->plugins;
	if (!forced || !forced[0]) {
		const char *cfg = kforge_config_get(ctx, "plugins.plugin");
		forced = cfg && cfg[0] ? cfg : NULL;
	}
	const struct kforge_os_release *os = kforge_ctx_os_release(ctx);
	struct kforge_probe_info info = { .root = ctx->root, .os = os, .release = release, .build_dir = build_dir, .ctx = ctx };
	int best = -1;
	for (unsigned int i = 0; i < set->n; i++) {
		int s = 0;
		info.plugin = set->v[i].name;
		set->v[i].probe_failed = probe_isolated(ctx, &set->v[i], &info, &s) < 0;
		set->v[i].pub.score = s < 0 ? 0 : s;
		set->v[i].pub.selected = false;
		if (set->v[i].pub.score > 0 && (best < 0 || set->v[i].pub.score > set->v[best].pub.score))
			best = (int)i;
	}
	if (forced) {
		best = -1;
		for (unsigned int i = 0; i < set->n; i++)
			if (strcmp(set->v[i].name, forced) == 0)
				best = (int)i;
		if (best < 0) {
			struct kf_strbuf b = { 0 };
			for (unsigned int i = 0; i < set->n; i++)
				kf_strbuf_appendf(&b, "%s%s", i ? ", " : "", set->v[i].name);
			kf_err(ctx, "no plugin named \"%s\": the plugins found are %s (see `kforge plugins`)",
			       forced, b.s ? b.s : "none");
			kf_strbuf_release(&b);
			return -ENOENT;
		}
		/* forced is "use it although its probe says no", not "although it crashed" */
		if (set->v[best].probe_failed) {
			kf_err(ctx, "plugin %s cannot be used: its probe failed (see above); fix: update or remove %s",
			       forced, set->v[best].path);
			return -ENOEXEC;
		}
	} else if (best < 0) {
		kf_err(ctx, "no plugin claims this system (ID=%s, kernel %s): install the vanilla plugin, or force one "
			    "with --plugin NAME",
		       os && os->id[0] ? os->id : "unknown", release ? release : "unknown");
		return -ENOENT;
	}
	set->selected = best;
	set->v[best].pub.selected = true;
	return 0;
}

const struct kf_plugin *kf_ctx_plugin_selected(const struct kforge_ctx *ctx)
{
	const struct kf_plugin_set *set = &ctx->plugins;
	return set->selected >= 0 ? &set->v[set->selected] : NULL;
}

unsigned int kf_plugins_chain(const struct kforge_ctx *ctx, const struct kf_plugin **out, unsigned int max)
{
	const struct kf_plugin_set *set = &ctx->plugins;
	unsigned int n = 0;
	if (set->selected < 0 || max == 0)
		return 0;
	out[n++] = &set->v[set->selected];
	/* the others that claim the system, highest score first, ties in the order they were found */
	for (int score = INT_MAX; n < max;) {
		int next = 0;
		for (unsigned int i = 0; i < set->n; i++) {
			int s = set->v[i].pub.score;
			if ((int)i == set->selected || s <= 0)
				continue;
			if (s == score && n < max)
				out[n++] = &set->v[i];
			else if (s < score && s > next)
				next = s;
		}
		if (next == 0)
			break;
		score = next;
	}
	return n;
}

const struct kforge_plugin *kforge_plugins_selected(const struct kforge_ctx *ctx)
{
	const struct kf_plugin *p = kf_ctx_plugin_selected(ctx);
	return p ? &p->desc : NULL;
}

void kf_plugins_free(struct kforge_ctx *ctx)
{
	struct kf_plugin_set *set = &ctx->plugins;
	for (unsigned int i = 0; i < set->n; i++) {
		lt_dlclose(set->v[i].handle);
		free(set->v[i].name);
		free(set->v[i].path);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
	kf_strv_free(&set->search_path);
	if (set->ltdl_ready)
		lt_dlexit();
	set->ltdl_ready = false;
}
