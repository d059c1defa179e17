/* common.c: what the commands share: JSON output, jobs made from the options, argument checks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/* The length of the valid UTF-8 sequence at P (of at most N bytes), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
				       : p[0] >= 0xf0 && p[0] <= 0xf4				   ? 4
													   : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90) ||
	    (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

/*
 * JSON output: the N bytes at S as the characters of a JSON string. Paths and names are bytes:
 * a byte that is not part of valid UTF-8 is written as the lone surrogate U+DC80 + (byte - 0x80),
 * as Python's "surrogateescape" writes it, so the output stays valid JSON and the bytes can be
 * told back (json.loads, then .encode("utf-8", "surrogateescape")).
 */
static void json_chars(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		size_t len = utf8_len(p, (size_t)(end - p));
		if (!len)
			printf("\\udc%02x", *p++);
		else if (*p == '"' || *p == '\\')
			printf("\\%c", *p++);
		else if (*p == '\n')
			fputs("\\n", stdout), p++;
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p++);
		else
			fwrite(p, 1, len, stdout), p += len;
	}
}

void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	json_chars(s, strlen(s));
	putchar('"');
}

/* NAME in the folder DIRFD, whole, as a JSON string ("" when it cannot be read) */
void json_file(int dirfd_, const char *name)
{
	putchar('"');
	int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	char buf[65536 + 4];
	size_t have = 0;
	ssize_t got;
	while (fd >= 0 && (got = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		have += (size_t)got;
		/* a sequence cut at the end of the buffer waits for its rest */
		size_t keep = 0;
		while (keep < 3 && keep < have && (buf[have - 1 - keep] & 0xc0) == 0x80)
			keep++;
		if (keep < have && (unsigned char)buf[have - 1 - keep] >= 0xc0)
			keep++;
		else
			keep = 0;
		json_chars(buf, have - keep);
		memmove(buf, buf + have - keep, keep);
		have = keep;
	}
	json_chars(buf, have);
	if (fd >= 0)
		close(fd);
	putchar('"');
}

void json_kv(const char *key, const char *value, bool comma)
{
	json_str(key);
	fputs(": ", stdout);
	json_str(value);
	if (comma)
		fputs(", ", stdout);
}

int exit_for(int err)
{
	return err == -ENOMEM ? KFORGE_EXIT_FAILURE : err == -EINVAL ? KFORGE_EXIT_USAGE : KFORGE_EXIT_FAILURE;
}

/*
 * The paths the options name, by kind, before anything reads or writes them: a FIFO would
 * block tar or the reader forever, a file where a folder belongs would fail deep in a step.
 * A path that does not exist is left to the job, which says what is missing.
 */
/* --source git+URL#tag=X, or an http(s)/file URL of a tarball: checked by the job, fetched by the locate source step */
static bool source_is_url(const char *s)
{
	static const char *const prefixes[] = { "git+", "http://", "https://", "file://" };
	for (size_t i = 0; s && i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int check_path_options(struct kforge_ctx *ctx, const struct opts *o)
{
	struct stat st;
	if (o->source && !source_is_url(o->source) && stat(o->source, &st) == 0 && !S_ISDIR(st.st_mode) &&
	    !S_ISREG(st.st_mode)) {
		kforge_err(ctx, "--source %s is neither a directory nor a regular file: give a kernel source tree "
				"or a tarball of one, or git+URL#tag=NAME",
			   o->source);
		return KFORGE_EXIT_USAGE;
	}
	for (unsigned int i = 0; i < o->n_extra; i++) {
		const char *p = o->extra_symbols[i];
		if (stat(p, &st) < 0 || S_ISREG(st.st_mode))
			continue;
		if (S_ISDIR(st.st_mode))
			kforge_err(ctx, "--extra-symbols %s is a directory: name the Module.symvers file in it "
					"(--extra-symbols %s/Module.symvers)",
				   p, p);
		else
			kforge_err(ctx, "--extra-symbols %s is not a regular file: name the Module.symvers of the "
					"module that exports the symbols",
				   p);
		return KFORGE_EXIT_USAGE;
	}
	if (o->install_mod_path) {
		/* missing is fine (the install creates it); ENOTDIR: a file stands on the way */
		int r = stat(o->install_mod_path, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : EEXIST;
		if (r == EEXIST || r == ENOTDIR) {
			kforge_err(ctx, "--install-mod-path %s %s: give a folder to install under (DIR/lib/modules/KVER; "
					"it is created when missing)",
				   o->install_mod_path,
				   r == EEXIST ? "is not a directory" : "has a file where a folder belongs on its way");
			return KFORGE_EXIT_USAGE;
		}
	}
	return 0;
}

int make_job_for(struct kforge_ctx *ctx, const struct opts *o, const char *module, bool plan, bool lifecycle,
			struct kforge_job **job)
{
	int code = check_path_options(ctx, o);
	if (code)
		return code;
	enum kforge_strategy s = KFORGE_STRATEGY_AUTO;
	if (o->strategy && kforge_strategy_from_name(o->strategy, &s) < 0) {
		kforge_err(ctx, "--strategy %s: use headers, full or auto", o->strategy);
		return KFORGE_EXIT_USAGE;
	}
	const char *changes[65], *extra[17];
	for (unsigned int i = 0; i < o->n_changes; i++)
		changes[i] = o->changes[i];
	changes[o->n_changes] = NULL;
	for (unsigned int i = 0; i < o->n_extra; i++)
		extra[i] = o->extra_symbols[i];
	extra[o->n_extra] = NULL;
	struct kforge_job_options jo = {
		.kernel = o->kernel,
		.module = module,
		.source = o->source,
		.config_changes = changes,
		.strategy = s,
		.plan = plan,
		.install_mod_path = o->install_mod_path,
		.install_dir = o->install_dir,
		.extra_symbols = extra,
		.initramfs = o->initramfs,
		.no_wait = o->no_wait,
		.lifecycle = lifecycle,
	};
	enum kforge_exit ec;
	int r = kforge_job_new(ctx, &jo, job, &ec);
	if (r < 0)
		return ec ? (int)ec : exit_for(r);
	kforge_job_set_rebuild(*job, o->rebuild);
	return 0;
}

int make_job(struct kforge_ctx *ctx, const struct opts *o, const char *module, bool plan,
		    struct kforge_job **job)
{
	return make_job_for(ctx, o, module, plan, false, job);
}

/* The job's exit code after a failed call, never 0. */
int job_code(struct kforge_job *job)
{
	int code = (int)kforge_job_exit_code(job);
	return code ? code : KFORGE_EXIT_FAILURE;
}

int need_args(struct kforge_ctx *ctx, const struct opts *o, unsigned int n, const char *what)
{
	if (o->n_args == n)
		return 0;
	kforge_err(ctx, "%s (see kforge --help)", o->n_args < n ? what : "too many arguments");
	return KFORGE_EXIT_USAGE;
}

