/* base/base.h: the bottom layer: strings, files, paths, logging, context, configuration, plugins. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <kforge/frontend.h>

#define kf_err(ctx, ...) kforge_err(ctx, __VA_ARGS__)
#define kf_warn(ctx, ...) kforge_warn(ctx, __VA_ARGS__)
#define kf_notice(ctx, ...) kforge_notice(ctx, __VA_ARGS__)
#define kf_info(ctx, ...) kforge_info(ctx, __VA_ARGS__)
#define kf_dbg(ctx, ...) kforge_dbg(ctx, __VA_ARGS__)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* util.c: growable strings and string lists */
struct kf_strbuf {
	char *s;
	size_t len, cap;
};
int kf_strbuf_append(struct kf_strbuf *b, const char *s);
int kf_strbuf_appendf(struct kf_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends S quoted for a POSIX shell, only where it needs quoting. */
int kf_strbuf_append_quoted(struct kf_strbuf *b, const char *s);
char *kf_strbuf_steal(struct kf_strbuf *b);
void kf_strbuf_release(struct kf_strbuf *b);

struct kf_strv {
	char **v; /* NULL-terminated */
	size_t n;
};
int kf_strv_push(struct kf_strv *l, const char *s);
void kf_strv_free(struct kf_strv *l);
bool kf_strv_contains(const struct kf_strv *l, const char *s);

/*
 * Reads a whole regular file (NUL-terminated) into *out; returns 0 or -errno: -EINVAL when
 * PATH is not a regular file (a FIFO, device, socket or folder: nothing blocks or is
 * opened), -EFBIG above KF_READ_MAX bytes. Everything kforge reads may be damaged or hostile.
 */
#define KF_READ_MAX (64UL << 20)
#define KF_READ_MAX_TEXT "64 MiB"
int kf_read_file(const char *path, char **out, size_t *len);
/* The same with another cap: module files, which debug info can make larger. */
int kf_read_file_max(const char *path, size_t max, char **out, size_t *len);
/* Writes all of BUF to FD (EINTR retried): 0 or -errno. */
int kf_write_all(int fd, const void *buf, size_t len);
/* N bytes for a person: "512 B", "1.5 MiB". */
void kf_human_size(unsigned long long n, char *buf, size_t size);
/* kf_read_file()'s error as words: "not a regular file", "larger than ...", strerror. */
const char *kf_read_strerror(int err);
/* The core's name of the SDK's kforge_strdup_printf (kforge/kforge.h): one implementation. */
#define kf_strdup_printf kforge_strdup_printf
/* Strips surrounding whitespace in place; returns S. */
char *kf_strstrip(char *s);
bool kf_str_endswith(const char *s, const char *suffix);
bool kf_is_dir(const char *path);
bool kf_is_file(const char *path);
/* Does PATH, its links resolved, lead below TOP (its links resolved too), or to TOP itself when SELF? */
bool kf_path_leads_below(const char *path, const char *top, bool self);
/*
 * djb2 over S, continuing from H (start with KF_HASH_SEED): names cache entries after a
 * path or a list of config changes. Stable across releases: names already on disk use it.
 */
#define KF_HASH_SEED 5381UL
unsigned long kf_hash_str(unsigned long h, const char *s);
/* Creates DIR and its parents (mode 0755). */
int kf_mkdir_p(const char *dir);
/* Opens PATH read-only when it is a regular file (never a FIFO or device: -EINVAL); its stat in *ST. */
struct stat;
int kf_open_regular(const char *path, struct stat *st);
/* ARGV as a command line to show, each argument quoted for a POSIX shell where it needs it (malloc'd). */
char *kf_argv_quote(const char *const argv[]);
/* Removes DIR and everything below it, links not followed; a missing DIR is fine. */
int kf_rm_rf(const char *dir);
/* NAME's host path as execvp would find it in PATH (NULL: execvp's default), malloc'd; NULL if none. */
char *kf_find_program(const char *name, const char *path);

/*
 * jobserver.c: a GNU make jobserver: RFD/WFD the pipe of tokens (both the fifo's fd under make
 * 4.4), TOKENS the -j it stands for (0: unknown). kf_jobserver_inherit() takes the one MAKEFLAGS
 * names (-ENOENT: none, or its fds are not open); kf_jobserver_create() makes one of SLOTS, the
 * caller holding the first and the pipe the rest. kf_jobserver_try_take() never blocks (-EAGAIN:
 * none free; poll kf_jobserver_poll_fd() for one); each token taken is given back.
 * kf_jobserver_makeflags(): "MAKEFLAGS=..." that puts a make under it.
 */
struct kf_jobserver {
	int rfd, wfd;
	int reader; /* a non-blocking read end of kforge's own, or -1 */
	unsigned int tokens;
	bool inherited, close_fds;
};
unsigned int kf_makeflags_jobs(const char *makeflags);
/* The compile slots a DISTCC_HOSTS list offers (HOST/N: N; else 4, localhost 2). */
unsigned int kf_distcc_slots(const char *hosts);
int kf_jobserver_inherit(const char *makeflags, struct kf_jobserver **out);
int kf_jobserver_create(unsigned int slots, struct kf_jobserver **out);
struct kf_jobserver *kf_jobserver_free(struct kf_jobserver *js);
int kf_jobserver_try_take(struct kf_jobserver *js, char *token);
void kf_jobserver_give(struct kf_jobserver *js, char token);
int kf_jobserver_poll_fd(const struct kf_jobserver *js);
char *kf_jobserver_makeflags(const struct kf_jobserver *js);
/* The run's jobserver: the one set, else the one MAKEFLAGS names (looked for once), else NULL. */
struct kf_jobserver *kf_ctx_jobserver(struct kforge_ctx *ctx);
/* JS runs the run's makes from now on (NULL: none); the caller keeps it and frees it. */
void kf_ctx_set_jobserver(struct kforge_ctx *ctx, struct kf_jobserver *js);

/*
 * sandbox.c: the command line kforge_run_sandboxed runs (kforge/runner.h tells what it does),
 * from the host's facts: kforge is root (then setpriv drops to UID:GID), bubblewrap is used,
 * no network namespace either ([build] sandbox = none), PATH is the environment's. ARGV gets the
 * whole command line, CMD at its end; 0 or -ENOMEM.
 */
struct kf_sandbox_host {
	bool as_root;
	bool bwrap;
	bool no_netns;
	unsigned int uid, gid;
	const char *path;
};
int kf_sandbox_argv(const struct kforge_sandbox *opts, const struct kf_sandbox_host *host, const char *cwd,
		    const char *const cmd[], struct kf_strv *argv);
/*
 * The first folder above PATH (an absolute path) that UID:GID (no other groups) cannot pass
 * through, written into FOLDER (SIZE bytes) and returned, its mode in *MODE; NULL when every
 * folder above PATH lets it through (or one is missing: the command says so itself).
 */
const char *kf_sandbox_blocked(const char *path, unsigned int uid, unsigned int gid, char *folder, size_t size,
			       unsigned int *mode);
/*
 * Opens PATH (created 0644, never through a link) and takes an exclusive flock(2) on it, then
 * writes our pid into it. When another process holds it: with WAIT, says so (DOING: what the
 * other one is doing, else the path it holds) and waits, EINTR or not; without, fails with
 * -EWOULDBLOCK and *HOLDER (when HOLDER is not NULL) names the other ("another kforge (pid N)").
 * Returns the fd or a negative errno.
 */
int kf_lock_file(struct kforge_ctx *ctx, const char *path, bool wait, const char *doing, char **holder);
/* Creates the folder that holds PATH, and its parents. */
int kf_mkdir_parent(const char *path);
/* Writes TEXT into PATH (created with MODE, or truncated); 0 or a negative errno: a link at PATH is refused (-ELOOP), never followed. */
int kf_write_file(const char *path, const char *text, mode_t mode);

/* Where `kforge keygen` puts its key pair, and where kforge looks for it first. */
#define KFORGE_MOK_DIR "/var/lib/kforge/mok"

/* osrelease.c */
struct kf_os_release {
	char *id, *id_like, *version_id, *name;
	struct kforge_os_release pub;
};
/* Parses an os-release file's text (shell-like KEY=value lines, quotes, escapes). */
int kf_os_release_parse(const char *text, struct kf_os_release *out);
/*
 * Reads ROOT/etc/os-release, falling back to ROOT/usr/lib/os-release. Missing: all "".
 * One that cannot be read (not a regular file, too large) is skipped with a warning on CTX
 * (when not NULL).
 */
int kf_os_release_read(struct kforge_ctx *ctx, const char *root, struct kf_os_release *out);
void kf_os_release_free(struct kf_os_release *os);

/* config.c */
struct kf_config;
int kf_config_new(struct kf_config **out);
void kf_config_free(struct kf_config *cfg);
/* Loads one file with ORIGIN naming it in messages; missing is 0; errors go to ctx's log. */
int kf_config_load_file(struct kforge_ctx *ctx, struct kf_config *cfg, const char *path);
int kf_config_set(struct kforge_ctx *ctx, struct kf_config *cfg, const char *key, const char *value,
		  const char *origin);
const char *kf_config_get(const struct kf_config *cfg, const char *key);
/* A plugin's check_setting. */
typedef int (*kf_setting_check_fn)(const char *key, const char *value, char *why, size_t whysize);
/*
 * PLUGIN's SETTING joins the configuration as plugin.PLUGIN.KEY: what a file set is checked
 * with CHECK (an error naming file:line: -EINVAL), else the default applies.
 */
int kf_config_declare(struct kforge_ctx *ctx, struct kf_config *cfg, const char *plugin,
		      const struct kforge_setting *setting, kf_setting_check_fn check);
/*
 * What files set under [plugin.NAME] that no plugin declared: an error naming file:line when
 * NAME is one of PLUGINS (the loaded ones), a warning otherwise. -EINVAL after an error.
 */
int kf_config_check_undeclared(struct kforge_ctx *ctx, const struct kf_config *cfg, const struct kf_strv *plugins);
/* The value of PLUGIN's declared setting KEY, or NULL. */
const char *kf_config_plugin_get(const struct kforge_ctx *ctx, const char *plugin, const char *key);


/* plugin.c: one loaded plugin */
struct kf_plugin {
	struct kforge_plugin_entry pub;
	/* the host's copy of the descriptor: as far as the plugin's minor laid it out, the rest NULL */
	struct kforge_plugin desc;
	void *handle; /* lt_dlhandle */
	char *name, *path;
	bool probe_failed; /* its probe crashed, hung or exited: never selected */
};
struct kf_plugin_set {
	struct kf_plugin *v;
	unsigned int n;
	int selected; /* index into v, -1 before selection */
	struct kf_strv search_path;
	bool ltdl_ready;
	int settings_error; /* -EINVAL when kforge.conf sets a plugin's key wrongly */
};
void kf_plugins_free(struct kforge_ctx *ctx);
/*
 * Checks a plugin file or folder: a regular file or a folder (-EINVAL); when AS_ROOT, owned by
 * root or the user running kforge and not writable by group or others (-EPERM). WHY says which
 * and the fix.
 */
int kf_plugin_check_perms(const char *path, bool as_root, char *why, size_t whysize);
/* Checks a descriptor; on refusal writes the reason into WHY and returns -EINVAL. */
int kf_plugin_check_descriptor(const struct kforge_plugin *d, const char *file_name, char *why,
			       size_t whysize);
/* How many bytes of the descriptor minor MINOR of the ABI lays out (0 past the host's minor). */
size_t kf_plugin_descriptor_size(unsigned int minor);
/*
 * Checks the ABI of the descriptor a plugin EXPORTED, then copies it into OUT only as far as
 * its minor laid it out (the rest zeroed: NULL), and checks the copy. -EINVAL with WHY.
 */
int kf_plugin_read_descriptor(const struct kforge_plugin *exported, const char *file_name, struct kforge_plugin *out,
			      char *why, size_t whysize);
/*
 * Probes every plugin for the target kernel RELEASE (BUILD_DIR its build dir, or NULL) and
 * selects the best, or FORCED by name (NULL: plugins.plugin from the configuration).
 * -ENOENT: no such plugin, or none claims the system (said in the log).
 */
int kf_plugins_select(struct kforge_ctx *ctx, const char *forced, const char *release, const char *build_dir);
const struct kf_plugin *kf_ctx_plugin_selected(const struct kforge_ctx *ctx);
/* How long a probe (run in a child process) may take before it is killed and skipped. */
extern unsigned int kf_plugin_probe_timeout_ms;
/*
 * After a selection: the selected plugin, then the others whose probe claimed the system,
 * highest score first (what a plugin leaves unsaid, the next one may know). At most MAX into
 * OUT; returns how many.
 */
unsigned int kf_plugins_chain(const struct kforge_ctx *ctx, const struct kf_plugin **out, unsigned int max);


/*
 * runner.c: the one way kforge runs a command: an argv array, never a shell string; its
 * output into the log; in plan mode recorded (with the step and owner it ran under) instead.
 */
struct kf_runner {
	struct kforge_ctx *ctx; /* messages; not owned */
	bool plan;
	FILE *log;
	char *log_path;
	struct kforge_plan_item *items;
	unsigned int n_items;
	enum kforge_step step; /* what the next plan item is recorded under */
	const char *owner;     /* "core" or the plugin's name; not owned */
};
void kf_runner_init(struct kf_runner *r, struct kforge_ctx *ctx, bool plan);
void kf_runner_release(struct kf_runner *r);
/* Opens NAME in log.dir under the root (or ~/.local/state/kforge/logs when that cannot be written). */
int kf_runner_open_log(struct kf_runner *r, const char *name);
void kf_runner_log(struct kf_runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note: a plan item in plan mode, else a debug message; in the log either way. */
void kf_runner_notev(struct kf_runner *r, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/*
 * Runs ARGV (argv[0] looked up on PATH) in CWD (NULL: here) behind a watchdog; its stderr,
 * and its stdout unless CAPTURE, go to the log. Returns 0 when it ran, with *STATUS its exit
 * status (1..255, 128+N when signal N ended it, 0 when planned), or a negative errno when it
 * could not be started.
 */
int kf_runner_run(struct kf_runner *r, const char *cwd, const char *const argv[], struct kf_strbuf *capture,
		  int *status);
