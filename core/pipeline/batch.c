/*
 * batch.c: several jobs at once (autoinstall, install A B C). Each runs in a process of its own,
 * as a second kforge would, so that the locks that keep two kforge runs apart (the work folder,
 * the build cache entry, the root's state for the install transaction) keep these apart too. The
 * makes they run share one GNU make jobserver: a job holds one slot from its start to its end (the
 * first is kforge's own, every other a token from the pipe), its makes run their first job on it
 * and take a token for each job more. So N slots are never more than N compilers.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ctx.h"
#include "pipeline/job.h"

struct child {
	pid_t pid;
	int pidfd; /* -1 without pidfd_open (Linux < 5.3): polled */
	size_t item;
	bool token_held;
	char token;
};

struct prefixed {
	kforge_log_fn fn;
	void *data;
	const char *name;
};

static void __attribute__((format(printf, 6, 7)))
pass_on(struct prefixed *p, int priority, const char *file, int line, const char *fn, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	p->fn(p->data, priority, file, line, fn, format, ap);
	va_end(ap);
}

/* A job's messages, said beside the others': its name first. */
static void log_prefixed(void *data, int priority, const char *file, int line, const char *fn, const char *format,
			 va_list args)
{
	struct prefixed *p = data;
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, format, args) < 0)
		msg = NULL;
	pass_on(p, priority, file, line, fn, "[%s] %s", p->name, msg ? msg : format);
}

static void __attribute__((noreturn)) child_main(struct kforge_job *job, const struct kforge_batch_ops *ops, void *data)
{
	/* kforge gone, its jobs go: their watchdogs end what they started */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct kforge_ctx *ctx = job->ctx;
	/* its siblings hold the root's lock in turn: it waits for them, whatever --no-wait says */
	job->no_wait = false;
	struct prefixed p = { ctx->log_fn, ctx->log_data,
			      job->module_spec ? job->module_spec : job->kernel.release ? job->kernel.release : "job" };
	kforge_set_log_fn(ctx, log_prefixed, &p);
	int code = ops->run(job, data);
	fflush(NULL);
	_exit(code < 0 || code > 255 ? KFORGE_EXIT_FAILURE : code);
}

static int exit_code(int ws)
{
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : KFORGE_EXIT_FAILURE;
}

/* The serial batch: each job in kforge's own process, one after the other (-j 1). */
static void run_serial(const struct kforge_batch_ops *ops, void *data)
{
	for (long i; (i = ops->ready(data)) >= 0;) {
		struct kforge_job *job = ops->start(data, (size_t)i);
		if (job)
			ops->done(data, (size_t)i, ops->run(job, data));
	}
}

/* Waits until a child ended, or (WANT) a token may be free. FDS: room for N+1. */
static void wait_children(struct kf_jobserver *js, bool want, struct child *kids, size_t n, struct pollfd *fds)
{
	size_t k = 0;
	bool blind = false;
	for (size_t i = 0; i < n; i++) {
		if (kids[i].pidfd < 0)
			blind = true;
		fds[k++] = (struct pollfd){ .fd = kids[i].pidfd, .events = POLLIN };
	}
	if (want)
		fds[k++] = (struct pollfd){ .fd = kf_jobserver_poll_fd(js), .events = POLLIN };
	/* without pidfds a child's end is seen at the next look (waitpid below decides, not the time) */
	if (poll(fds, k, blind ? 100 : -1) < 0 && errno != EINTR)
		return;
}

int kforge_batch_run(struct kforge_ctx *ctx, unsigned int parallel, const struct kforge_batch_ops *ops, void *data)
{
	if (parallel <= 1) {
		run_serial(ops, data);
		return 0;
	}
	if (parallel > 1024) /* a pipe holds only so many tokens */
		parallel = 1024;
	struct kf_jobserver *js = kf_ctx_jobserver(ctx), *own = NULL;
	if (!js) {
		int r = kf_jobserver_create(parallel, &own);
		if (r < 0)
			return r;
		kf_ctx_set_jobserver(ctx, own);
		js = own;
	}
	struct child *kids = calloc(parallel, sizeof(*kids));
	struct pollfd *fds = calloc(parallel + 1, sizeof(*fds));
	if (!kids || !fds) {
		free(kids);
		free(fds);
		kf_ctx_set_jobserver(ctx, NULL);
		kf_jobserver_free(own);
		return -ENOMEM;
	}
	size_t n = 0;
	bool first_free = true; /* kforge's own slot: no token needed */
	for (;;) {
		bool want = false;
		while (n < parallel) {
			long i = ops->ready(data);
			if (i < 0)
				break;
			char token = 0;
			bool held = false;
			if (!first_free) {
				if (kf_jobserver_try_take(js, &token) < 0) {
					want = true;
					break;
				}
				held = true;
			}
			struct kforge_job *job = ops->start(data, (size_t)i);
			if (!job) {
				if (held)
					kf_jobserver_give(js, token);
				continue;
			}
			fflush(NULL);
			pid_t pid = fork();
			if (pid == 0)
				child_main(job, ops, data);
			if (pid < 0) {
				kf_err(ctx, "%s: cannot start a process for it: %s", job->module_spec, strerror(errno));
				if (held)
					kf_jobserver_give(js, token);
				ops->done(data, (size_t)i, KFORGE_EXIT_FAILURE);
				continue;
			}
			if (!held)
				first_free = false;
#ifdef SYS_pidfd_open
			int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
			int pidfd = -1;
#endif
			kids[n++] = (struct child){ .pid = pid, .pidfd = pidfd, .item = (size_t)i, .token_held = held,
						    .token = token };
		}
		if (!n)
			break;
		wait_children(js, want, kids, n, fds);
		for (size_t k = 0; k < n;) {
			int ws;
			pid_t got = waitpid(kids[k].pid, &ws, WNOHANG);
			if (got == 0 || (got < 0 && errno == EINTR)) {
				k++;
				continue;
			}
			struct child c = kids[k];
			kids[k] = kids[--n];
			if (c.pidfd >= 0)
				close(c.pidfd);
			if (c.token_held)
				kf_jobserver_give(js, c.token);
			else
				first_free = true;
			ops->done(data, c.item, got < 0 ? KFORGE_EXIT_FAILURE : exit_code(ws));
		}
	}
	free(kids);
	free(fds);
	if (own) {
		kf_ctx_set_jobserver(ctx, NULL);
		kf_jobserver_free(own);
	}
	return 0;
}
