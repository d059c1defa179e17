/* unit.h: what the cmocka unit tests share: temp roots, file writers, a log catcher. */
#pragma once

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pipeline/job.h"

static inline char *unit_mkdtemp(void)
{
	char tmpl[] = "/tmp/kforge-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static inline int unit_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void unit_rm_rf(const char *dir)
{
	if (dir)
		nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* DIR/REL with its folders made; the caller frees it. */
static inline char *unit_path_with_parents(const char *dir, const char *rel)
{
	char *path = kforge_path_join(dir, rel, NULL);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(kf_mkdir_p(path), 0);
	*slash = '/';
	return path;
}

/* Writes TEXT to DIR/REL, creating the folders on the way. */
static inline void unit_write(const char *dir, const char *rel, const char *text)
{
	char *path = unit_path_with_parents(dir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* A FIFO at DIR/REL: what kforge must never wait on. Pair it with alarm() so a hang fails. */
static inline char *unit_mkfifo(const char *dir, const char *rel)
{
	char *path = unit_path_with_parents(dir, rel);
	assert_int_equal(mkfifo(path, 0644), 0);
	return path;
}

static inline void unit_symlink(const char *dir, const char *rel, const char *target)
{
	char *path = unit_path_with_parents(dir, rel);
	assert_int_equal(symlink(target, path), 0);
	free(path);
}

/* Collects everything logged, so that a test can assert on the message. */
struct unit_log {
	char buf[8192];
	size_t len;
};

static inline void unit_log_fn(void *data, int priority, const char *file, int line, const char *fn,
			       const char *format, va_list args)
{
	(void)priority;
	(void)file;
	(void)line;
	(void)fn;
	struct unit_log *l = data;
	int n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, format, args);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - l->len - 1;
	if (l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
}

/*
 * The fixture most units share: a scratch folder, and a context at "/" whose messages land in
 * LOG. unit_env_setup makes both; a test that makes its context itself (test-loader) sets up its
 * own and still tears down with unit_env_teardown.
 */
struct unit_env {
	char *dir;
	struct kforge_ctx *ctx;
	struct unit_log log;
};

static inline int unit_env_setup(void **state)
{
	struct unit_env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->dir = unit_mkdtemp();
	assert_int_equal(kforge_ctx_new("/", &e->ctx), 0);
	kforge_set_log_fn(e->ctx, unit_log_fn, &e->log);
	*state = e;
	return 0;
}

static inline int unit_env_teardown(void **state)
{
	struct unit_env *e = *state;
	kforge_ctx_unref(e->ctx);
	unit_rm_rf(e->dir);
	free(e->dir);
	free(e);
	return 0;
}
