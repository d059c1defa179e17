/* runner.c: the one way kforge runs commands: argv arrays, output into a log, or recorded for a plan. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "base/ctx.h"

void kf_runner_init(struct kf_runner *r, struct kforge_ctx *ctx, bool plan)
{
	*r = (struct kf_runner){ .ctx = ctx, .plan = plan, .owner = "core" };
}

void kf_runner_release(struct kf_runner *r)
{
	for (unsigned int i = 0; i < r->n_items; i++) {
		free((char *)r->items[i].cwd);
		free((char *)r->items[i].text);
	}
	free(r->items);
	r->items = NULL;
	r->n_items = 0;
	free(r->log_path);
	r->log_path = NULL;
	if (r->log)
		fclose(r->log);
	r->log = NULL;
}

void kf_runner_log(struct kf_runner *r, const char *fmt, ...)
{
	if (!r->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->log, fmt, ap);
	va_end(ap);
	fflush(r->log);
}

static int plan_add(struct kf_runner *r, bool is_command, const char *cwd, const char *text)
{
	struct kforge_plan_item *v = realloc(r->items, (r->n_items + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->items = v;
	char *c = cwd ? strdup(cwd) : NULL, *t = strdup(text);
	if ((cwd && !c) || !t) {
		free(c);
		free(t);
		return -ENOMEM;
	}
	v[r->n_items++] = (struct kforge_plan_item){
		.step = r->step, .plugin = r->owner ? r->owner : "core", .is_command = is_command, .cwd = c, .text = t,
	};
	return 0;
}

char *kforge_user_log_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && xdg[0] == '/')
		return kforge_path_join(xdg, "kforge/logs", NULL);
	const char *home = getenv("HOME");
	return home && home[0] == '/' ? kforge_path_join(home, ".local/state/kforge/logs", NULL) : NULL;
}

int kf_runner_open_log(struct kf_runner *r, const char *name)
{
	if (r->plan || r->log)
		return 0;
	_cleanup_free_ char *dir = NULL;
	if (kforge_path_resolve(r->ctx->root, kforge_config_get(r->ctx, "log.dir"), &dir) < 0)
		return -ENOMEM;
	if (kf_mkdir_p(dir) < 0 || access(dir, W_OK) < 0) {
		free(dir);
		dir = kforge_user_log_dir();
		if (!dir || kf_mkdir_p(dir) < 0)
			return -EACCES;
	}
	/* a name another job of this run took already (two folders of one name, the same second):
	 * NAME.2.log, NAME.3.log, ... never the other's file */
	int fd = -1;
	for (unsigned int n = 1; fd < 0 && n < 100; n++) {
		free(r->log_path);
		size_t len = strlen(name);
		bool log = len > 4 && strcmp(name + len - 4, ".log") == 0;
		_cleanup_free_ char *try = n == 1 ? strdup(name)
						   : kf_strdup_printf("%.*s.%u%s", (int)(log ? len - 4 : len), name, n,
								      log ? ".log" : "");
		r->log_path = try ? kforge_path_join(dir, try, NULL) : NULL;
		if (!r->log_path)
			return -ENOMEM;
		fd = open(r->log_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || !(r->log = fdopen(fd, "w"))) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	return 0;
}

void kf_runner_notev(struct kf_runner *r, const char *format, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, format, ap) < 0)
		return;
	if (r->plan)
		plan_add(r, false, NULL, msg);
	else
		kf_dbg(r->ctx, "%s", msg);
	kf_runner_log(r, "# %s\n", msg);
}

/* Keeps the last bytes a command printed, to show beside a failure. */
struct tail {
	char buf[2048];
	size_t len;
};

static void tail_add(struct tail *t, const char *s, size_t n)
{
	if (n >= sizeof(t->buf)) {
		memcpy(t->buf, s + n - sizeof(t->buf), sizeof(t->buf));
		t->len = sizeof(t->buf);
		return;
	}
	if (t->len + n > sizeof(t->buf)) {
		size_t drop = t->len + n - sizeof(t->buf);
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static volatile sig_atomic_t watched_group;

static void kill_watched_group(int sig)
{
	(void)sig;
	if (watched_group > 0)
		kill(-watched_group, SIGKILL);
	_exit(128 + SIGKILL);
}

/*
 * Between kforge and a command stands a watchdog: the command runs in a process group of
 * its own, and when kforge dies, even by SIGKILL, the watchdog is told (PR_SET_PDEATHSIG)
 * and kills the whole group. So no compiler, modpost or tar that make or sh started outlives
 * a killed kforge and goes on writing into a module folder or the cache. The watchdog exits
 * with the command's status (128+N when a signal N ended it).
 */
static void __attribute__((noreturn)) watchdog(pid_t parent, const char *const argv[])
{
	/* the command is not in the terminal's process group: Ctrl-C reaches it through here */
	struct sigaction sa = { .sa_handler = kill_watched_group };
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(125); /* kforge died before the watch began */
	pid_t g = fork();
	if (g < 0)
		_exit(126);
	if (g == 0) {
		setpgid(0, 0);
		execvp(argv[0], (char *const *)argv); /* exec resets the handler */
		dprintf(STDERR_FILENO, "kforge: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	setpgid(g, g);
	watched_group = g;
	int status;
	while (waitpid(g, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int kf_runner_run(struct kf_runner *r, const char *cwd, const char *const argv[], struct kf_strbuf *capture, int *status)
{
	*status = 0;
	if (!argv || !argv[0])
		return -EINVAL;
	_cleanup_free_ char *cmd = kf_argv_quote(argv);
	if (!cmd)
		return -ENOMEM;
	if (r->plan)
		return plan_add(r, true, cwd, cmd);

	kf_dbg(r->ctx, "running: %s%s%s", cmd, cwd ? " in " : "", cwd ? cwd : "");
	kf_runner_log(r, "$ %s%s%s\n", cwd ? "cd " : "", cwd ? cwd : "", cwd ? " && " : "");
	kf_runner_log(r, "$ %s\n", cmd);
	int pfd[2], cfd[2] = { -1, -1 };
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	if (capture && pipe2(cfd, O_CLOEXEC) < 0) {
		int e = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	fflush(NULL);
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(pfd[0]);
		close(pfd[1]);
		if (capture) {
			close(cfd[0]);
			close(cfd[1]);
		}
		return e;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(capture ? cfd[1] : pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		if (cwd && chdir(cwd) < 0) {
			dprintf(STDERR_FILENO, "kforge: cannot enter %s: %s\n", cwd, strerror(errno));
			_exit(126);
		}
		/* PWD says where the command runs, as a shell would set it: Makefiles read $(PWD) */
		char here[PATH_MAX];
		const char *pwd = cwd && cwd[0] == '/' ? cwd : cwd ? getcwd(here, sizeof(here)) : NULL;
		if (pwd)
			setenv("PWD", pwd, 1);
		watchdog(self, argv);
	}
	close(pfd[1]);
	if (capture)
		close(cfd[1]);
	struct tail tail = { .len = 0 };
	bool echo = kforge_get_log_priority(r->ctx) >= LOG_DEBUG;
	char buf[4096];
	struct pollfd fds[2] = { { .fd = pfd[0], .events = POLLIN }, { .fd = capture ? cfd[0] : -1, .events = POLLIN } };
	int open_fds = capture ? 2 : 1;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fds[i].fd, buf, sizeof(buf) - 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 1) {
				buf[n] = '\0';
				kf_strbuf_append(capture, buf);
				continue;
			}
			if (r->log)
				fwrite(buf, 1, (size_t)n, r->log);
			if (echo)
				fwrite(buf, 1, (size_t)n, stderr);
			tail_add(&tail, buf, (size_t)n);
		}
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -errno;
	int rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	kf_runner_log(r, "# exit %d\n", rc);
	if (rc != 0 && !echo && tail.len) {
		/* show the end of what it printed: that is where the reason is */
		fprintf(stderr, "--- last output of: %s\n%.*s%s---\n", cmd, (int)tail.len, tail.buf,
			tail.buf[tail.len - 1] == '\n' ? "" : "\n");
	}
	if (rc == 127)
		kf_err(r->ctx, "%s: command not found: install it (see the log%s%s)", argv[0], r->log_path ? " " : "",
		       r->log_path ? r->log_path : "");
	*status = rc;
	return 0;
}
