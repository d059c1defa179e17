/*
 * jobserver.c: one GNU make jobserver for every make of a run. A pipe holds the tokens; each
 * make told of it (MAKEFLAGS=-jN --jobserver-auth=R,W, GNU make 4.2 and later) runs one job on
 * the slot it was started with and takes a token for each job more. kforge uses the jobserver of
 * the make that started it when MAKEFLAGS names one, else its own of -j N slots (N-1 tokens in
 * the pipe, the first slot being kforge's own), so that the machine is never asked for more.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ctx.h"

static bool is_fifo(int fd)
{
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

unsigned int kf_makeflags_jobs(const char *flags)
{
	unsigned int n = 0;
	for (const char *p = flags; p && *p;) {
		p += strspn(p, " \t");
		size_t len = strcspn(p, " \t");
		/* "-j8" or "-j 8"; "-j" alone is no limit, no number */
		if (len >= 2 && strncmp(p, "-j", 2) == 0) {
			const char *d = len > 2 ? p + 2 : p + len + strspn(p + len, " \t");
			char *end;
			unsigned long v = strtoul(d, &end, 10);
			if (end != d && v > 0 && v < 4096 && (*end == '\0' || *end == ' ' || *end == '\t'))
				n = (unsigned int)v;
		}
		p += len;
	}
	return n;
}

/* A read end of its own (O_NONBLOCK is the open file's, which the makes share): the parent
 * polls for a token without ever blocking in read(2) */
static int own_reader(int fd)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/*
 * The jobserver MAKEFLAGS names, its fds open pipes: "--jobserver-auth=R,W" (make 4.2, 4.3;
 * "--jobserver-fds=" before them) or "--jobserver-auth=fifo:PATH" (make 4.4). -ENOENT when
 * there is none; a named one whose fds are not open is none (make did not pass them on).
 */
static int inherit(const char *flags, struct kf_jobserver *js)
{
	const char *p = NULL, *q;
	for (q = flags; q && (q = strstr(q, "--jobserver-")); q++)
		if (strncmp(q, "--jobserver-auth=", 17) == 0)
			p = q + 17;
		else if (strncmp(q, "--jobserver-fds=", 16) == 0)
			p = q + 16;
	if (!p)
		return -ENOENT;
	if (strncmp(p, "fifo:", 5) == 0) {
		_cleanup_free_ char *path = strndup(p + 5, strcspn(p + 5, " \t"));
		int fd = path ? open(path, O_RDWR | O_CLOEXEC) : -1;
		if (fd < 0 || !is_fifo(fd)) {
			if (fd >= 0)
				close(fd);
			return -ENOENT;
		}
		/* passed on as fds: a sandbox's /tmp is not the host's */
		int keep = fcntl(fd, F_DUPFD, 3);
		close(fd);
		js->rfd = js->wfd = keep;
		js->close_fds = true;
	} else {
		int r, w;
		if (sscanf(p, "%d,%d", &r, &w) != 2 || !is_fifo(r) || !is_fifo(w))
			return -ENOENT;
		js->rfd = r;
		js->wfd = w;
	}
	js->reader = own_reader(js->rfd);
	js->inherited = true;
	js->tokens = kf_makeflags_jobs(flags);
	return 0;
}

int kf_jobserver_inherit(const char *makeflags, struct kf_jobserver **out)
{
	*out = NULL;
	struct kf_jobserver *js = calloc(1, sizeof(*js));
	if (!js)
		return -ENOMEM;
	js->rfd = js->wfd = js->reader = -1;
	int r = inherit(makeflags, js);
	if (r < 0) {
		free(js);
		return r;
	}
	*out = js;
	return 0;
}

int kf_jobserver_create(unsigned int slots, struct kf_jobserver **out)
{
	*out = NULL;
	int fds[2];
	if (slots < 1)
		slots = 1;
	/* not close-on-exec: every make kforge runs, through the sandbox, inherits them */
	if (pipe(fds) < 0)
		return -errno;
	struct kf_jobserver *js = calloc(1, sizeof(*js));
	if (!js) {
		close(fds[0]);
		close(fds[1]);
		return -ENOMEM;
	}
	*js = (struct kf_jobserver){ .rfd = fds[0], .wfd = fds[1], .tokens = slots, .close_fds = true };
	js->reader = own_reader(js->rfd);
	for (unsigned int i = 1; i < slots; i++)
		if (write(js->wfd, "+", 1) != 1) {
			int e = -errno;
			kf_jobserver_free(js);
			return e;
		}
	*out = js;
	return 0;
}

struct kf_jobserver *kf_jobserver_free(struct kf_jobserver *js)
{
	if (!js)
		return NULL;
	if (js->reader >= 0)
		close(js->reader);
	if (js->close_fds) {
		close(js->rfd);
		if (js->wfd != js->rfd)
			close(js->wfd);
	}
	free(js);
	return NULL;
}

int kf_jobserver_try_take(struct kf_jobserver *js, char *token)
{
	for (;;) {
		ssize_t n;
		if (js->reader >= 0) {
			n = read(js->reader, token, 1);
		} else {
			/* no /proc: read only what poll saw (another make may take it first: then wait) */
			struct pollfd p = { .fd = js->rfd, .events = POLLIN };
			if (poll(&p, 1, 0) <= 0)
				return -EAGAIN;
			n = read(js->rfd, token, 1);
		}
		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno != EAGAIN ? -errno : -EAGAIN;
	}
}

void kf_jobserver_give(struct kf_jobserver *js, char token)
{
	while (write(js->wfd, &token, 1) < 0 && errno == EINTR)
		;
}

int kf_jobserver_poll_fd(const struct kf_jobserver *js)
{
	return js->reader >= 0 ? js->reader : js->rfd;
}

char *kf_jobserver_makeflags(const struct kf_jobserver *js)
{
	if (js->tokens)
		return kf_strdup_printf("MAKEFLAGS=-j%u --jobserver-auth=%d,%d", js->tokens, js->rfd, js->wfd);
	return kf_strdup_printf("MAKEFLAGS=-j --jobserver-auth=%d,%d", js->rfd, js->wfd);
}

struct kf_jobserver *kf_ctx_jobserver(struct kforge_ctx *ctx)
{
	if (!ctx->jobserver_probed) {
		ctx->jobserver_probed = true;
		kf_jobserver_inherit(getenv("MAKEFLAGS"), &ctx->jobserver);
		if (ctx->jobserver)
			kf_dbg(ctx, "the jobserver of the make that started kforge (MAKEFLAGS) runs every make");
	}
	return ctx->jobserver;
}

void kf_ctx_set_jobserver(struct kforge_ctx *ctx, struct kf_jobserver *js)
{
	ctx->jobserver_probed = true;
	ctx->jobserver = js;
}

/* The slots DISTCC_HOSTS offers: "HOST/N" N each, else 4 (2 for localhost), as distcc counts them. */
unsigned int kf_distcc_slots(const char *hosts)
{
	unsigned int n = 0;
	for (const char *p = hosts; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (!len)
			break;
		if (*p != '-' && *p != '#') { /* options (--randomize) and comments hold no host */
			const char *slash = memchr(p, '/', len);
			unsigned long v = slash ? strtoul(slash + 1, NULL, 10) : 0;
			n += v > 0 && v < 1024 ? (unsigned int)v : strncmp(p, "localhost", 9) == 0 ? 2 : 4;
		}
		p += len;
	}
	return n;
}
