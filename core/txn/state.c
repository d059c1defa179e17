/* state.c: the lock, the transaction journal and the file primitives that make installs undoable. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "txn/txn.h"

void kf_checkpoint(const char *what)
{
	static long n, at = -2;
	static bool say;
	if (at == -2) {
		const char *e = getenv("KFORGE_TEST_KILL_AT");
		at = e && *e ? atol(e) : -1;
		say = getenv("KFORGE_TEST_CHECKPOINTS") != NULL;
	}
	if (at < 0 && !say)
		return;
	n++;
	if (say)
		fprintf(stderr, "kforge: checkpoint %ld: %s\n", n, what);
	if (n == at)
		raise(SIGKILL);
}

int kf_sha256_file(const char *path, char out[65])
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	int r = n < 0 ? -errno : 0;
	unsigned char digest[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(md, digest, &len);
	EVP_MD_CTX_free(md);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return r;
}

void kf_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void sync_parent(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash)
		return;
	*slash = '\0';
	kf_sync_dir(dir[0] ? dir : "/");
}

int kf_copy_file(const char *src, const char *dst, mode_t mode)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		return -errno;
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			done += w;
		}
	}
	if (n < 0)
		return -errno;
	kf_checkpoint("a copy written, not yet synced");
	return fsync(out) < 0 ? -errno : 0;
}

int kf_write_atomic(const char *path, const char *text)
{
	_cleanup_free_ char *tmp = kf_strdup_printf("%s.tmp-%d", path, (int)getpid());
	if (!tmp)
		return -ENOMEM;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	int r = w != (ssize_t)len || fsync(fd) < 0 ? -(errno ? errno : EIO) : 0;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	sync_parent(path);
	return 0;
}

/* --- INI values that survive inih's 200-character lines */

void kf_ini_put(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s = ", key);
	int col = 0;
	for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
		if (col >= 120) {
			fputs("\n  +", f);
			col = 0;
		}
		if (*p <= ' ' || *p == ';' || *p == '#' || *p == '%' || *p == '+' || *p == '=' || *p >= 0x7f) {
			fprintf(f, "%%%02X", *p);
			col += 3;
		} else {
			fputc(*p, f);
			col++;
		}
	}
	fputc('\n', f);
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undoes kf_ini_put()'s escapes; NULL (errno EBADMSG) for a '%' not followed by two hex digits. */
static char *ini_decode(const char *v)
{
	char *out = malloc(strlen(v) + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = v; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		int hi = hex_digit(p[1]), lo = hi < 0 ? -1 : hex_digit(p[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			errno = EBADMSG;
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	return out;
}

static int ini_extend(char **slot, const char *more)
{
	_cleanup_free_ char *d = ini_decode(more);
	if (!d)
		return -errno;
	char *joined = kf_strdup_printf("%s%s", *slot ? *slot : "", d);
	if (!joined)
		return -ENOMEM;
	free(*slot);
	*slot = joined;
	return 0;
}

int kf_ini_take(char **slot, const char *value)
{
	if (value[0] == '+')
		return ini_extend(slot, value + 1);
	char *d = ini_decode(value);
	if (!d)
		return -errno;
	free(*slot);
	*slot = d;
	return 0;
}

int kf_ini_take_list(struct kf_strv *list, const char *value)
{
	if (value[0] == '+' && list->n > 0)
		return ini_extend(&list->v[list->n - 1], value + 1);
	_cleanup_free_ char *d = ini_decode(value);
	return d ? kf_strv_push(list, d) : -errno;
}

/* --- the state folder and its lock */

char *kf_state_host(const struct kf_state *st, const char *path)
{
	return kf_strdup_printf("%s%s", st->base, path);
}

const char *kf_state_path(const struct kf_state *st, const char *host_path)
{
	size_t n = strlen(st->base);
	if (n && strncmp(host_path, st->base, n) == 0 && host_path[n] == '/')
		return host_path + n;
	return host_path;
}

static int lock_state(struct kf_state *st)
{
	_cleanup_free_ char *path = kforge_path_join(st->dir, "lock", NULL);
	if (!path)
		return -ENOMEM;
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->lock_fd < 0)
		return kforge_job_fail(st->job, KFORGE_EXIT_FAILURE, "cannot open %s: %s", path, strerror(errno));
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return kforge_job_fail(st->job, KFORGE_EXIT_FAILURE, "cannot lock %s: %s", path, strerror(errno));
		char buf[32] = "";
		ssize_t n = pread(st->lock_fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		kf_strstrip(buf);
		_cleanup_free_ char *who = buf[0] ? kf_strdup_printf("another kforge (pid %s)", buf)
						 : strdup("another program");
		if (st->job->no_wait)
			return kforge_job_fail(st->job, KFORGE_EXIT_FAILURE,
					       "%s holds %s: it is installing or removing modules under %s; wait for it, "
					       "or run again without --no-wait",
					       who ? who : "another kforge", path, st->base[0] ? st->base : "/");
		kforge_notice(st->job->ctx, "waiting for %s that holds %s", who ? who : "another kforge", path);
		while (flock(st->lock_fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return kforge_job_fail(st->job, KFORGE_EXIT_FAILURE, "cannot lock %s: %s", path,
						       strerror(errno));
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(st->lock_fd, 0) == 0 && pwrite(st->lock_fd, pid, (size_t)len, 0) < 0)
		kf_dbg(st->job->ctx, "cannot write the pid into %s", path);
	return 0;
}

/* --- transactions */

struct kf_txn {
	struct kf_state *st;
	char *op, *kernel, *module, *pid;
	bool committed;
	struct kf_strv from, to, remove, created;
};

static char *journal_path(const struct kf_state *st)
{
	return kforge_path_join(st->dir, "transaction", NULL);
}

void kf_txn_free(struct kf_txn *t)
{
	if (!t)
		return;
	free(t->op);
	free(t->kernel);
	free(t->module);
	free(t->pid);
	kf_strv_free(&t->from);
	kf_strv_free(&t->to);
	kf_strv_free(&t->remove);
	kf_strv_free(&t->created);
	free(t);
}

static int txn_write(struct kf_txn *t, const char *phase)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# kforge: a transaction in progress; the next kforge run finishes or rolls it back\n"
		   "[transaction]\n");
	kf_ini_put(f, "op", t->op);
	kf_ini_put(f, "kernel", t->kernel);
	kf_ini_put(f, "module", t->module);
	fprintf(f, "pid = %d\nphase = %s\n[rename]\n", (int)getpid(), phase);
	for (size_t i = 0; i < t->from.n; i++) {
		kf_ini_put(f, "from", t->from.v[i]);
		kf_ini_put(f, "to", t->to.v[i]);
	}
	fputs("[remove]\n", f);
	for (size_t i = 0; i < t->remove.n; i++)
		kf_ini_put(f, "path", t->remove.v[i]);
	fputs("[created]\n", f);
	for (size_t i = 0; i < t->created.n; i++)
		kf_ini_put(f, "path", t->created.v[i]);
	fclose(f);
	_cleanup_free_ char *path = journal_path(t->st);
	int r = path ? kf_write_atomic(path, text) : -ENOMEM;
	free(text);
	return r;
}

int kf_txn_begin(struct kf_state *st, const char *op, const char *kernel, const char *module, struct kf_txn **out)
{
	struct kf_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->st = st;
	t->op = strdup(op);
	t->kernel = strdup(kernel);
	t->module = strdup(module);
	int r = t->op && t->kernel && t->module ? txn_write(t, "prepare") : -ENOMEM;
	if (r < 0) {
		kf_txn_free(t);
		return kforge_job_fail(st->job, KFORGE_EXIT_ROLLBACK, "cannot write the journal in %s: %s; nothing was changed",
				       st->dir, strerror(-r));
	}
	kf_checkpoint("journal started");
	*out = t;
	return 0;
}

int kf_txn_rename(struct kf_txn *t, const char *from, const char *to)
{
	if (kf_strv_push(&t->from, from) < 0 || kf_strv_push(&t->to, to) < 0)
		return -ENOMEM;
	return 0;
}

int kf_txn_remove(struct kf_txn *t, const char *path)
{
	return kf_strv_contains(&t->remove, path) ? 0 : kf_strv_push(&t->remove, path);
}

int kf_txn_created(struct kf_txn *t, const char *path)
{
	return kf_strv_push(&t->created, path);
}

int kf_txn_save(struct kf_txn *t)
{
	int r = txn_write(t, "prepare");
	kf_checkpoint("journal saved");
	return r;
}

/* Unlinks PATH (as the target sees it); a missing file is fine. */
static void remove_path(const struct kf_state *st, const char *path)
{
	_cleanup_free_ char *h = kf_state_host(st, path);
	if (h && unlink(h) < 0 && errno != ENOENT)
		kf_warn(st->job->ctx, "cannot remove %s: %s", h, strerror(errno));
}

/* The renames, then the removals; each can be redone after a kill. */
static int txn_apply(struct kf_txn *t)
{
	struct kf_state *st = t->st;
	int r = 0;
	for (size_t i = 0; i < t->from.n; i++) {
		_cleanup_free_ char *from = kf_state_host(st, t->from.v[i]);
		_cleanup_free_ char *to = kf_state_host(st, t->to.v[i]);
		if (!from || !to)
			return -ENOMEM;
		if (access(from, F_OK) == 0) {
			if (rename(from, to) < 0) {
				r = -errno;
				kf_err(st->job->ctx, "cannot rename %s to %s: %s", from, to, strerror(errno));
				continue;
			}
			sync_parent(to);
		} else if (access(to, F_OK) < 0) {
			r = -ENOENT;
			kf_err(st->job->ctx, "%s is gone and %s was never written", from, to);
		}
		kf_checkpoint("one rename done");
	}
	for (size_t i = 0; i < t->remove.n; i++) {
		remove_path(st, t->remove.v[i]);
		kf_checkpoint("one removal done");
	}
	return r;
}

static int txn_end(struct kf_txn *t)
{
	_cleanup_free_ char *path = journal_path(t->st);
	if (!path || unlink(path) < 0)
		return -errno;
	kf_sync_dir(t->st->dir);
	kf_checkpoint("journal removed");
	return 0;
}

int kf_state_depmod(struct kf_state *st, const char *kernel)
{
	int r = st->base[0] ? kforge_runl(st->job, NULL, "depmod", "-b", st->base, kernel, NULL)
			    : kforge_runl(st->job, NULL, "depmod", kernel, NULL);
	kf_checkpoint("depmod done");
	if (r != 0)
		return kforge_job_fail(st->job, KFORGE_EXIT_FAILURE,
				       "depmod failed (exit %d): the files are in place but not indexed; run depmod %s%s%s "
				       "by hand, and see %s",
				       r, st->base[0] ? "-b " : "", st->base, kernel,
				       st->job->log_path ? st->job->log_path : "the log");
	return 0;
}

int kf_txn_commit(struct kf_txn *t)
{
	kf_checkpoint("about to commit");
	int r = txn_write(t, "commit");
	if (r < 0) {
		kf_txn_rollback(t);
		return kforge_job_fail(t->st->job, KFORGE_EXIT_ROLLBACK,
				       "cannot write the journal's commit: %s; rolled back, nothing was changed", strerror(-r));
	}
	t->committed = true;
	kf_checkpoint("committed");
	r = txn_apply(t);
	if (r < 0)
		return kforge_job_fail(t->st->job, KFORGE_EXIT_FAILURE,
				       "the %s of %s did not complete (%s); the next kforge run retries it", t->op,
				       t->module, strerror(-r));
	if ((r = kf_state_depmod(t->st, t->kernel)) < 0)
		return r;
	txn_end(t);
	return 0;
}

void kf_txn_rollback(struct kf_txn *t)
{
	for (size_t i = 0; i < t->from.n; i++)
		remove_path(t->st, t->from.v[i]);
	for (size_t i = 0; i < t->created.n; i++)
		remove_path(t->st, t->created.v[i]);
	txn_end(t);
}

/* --- recovery of what a killed run left */

static int journal_handler(void *data, const char *section, const char *key, const char *value)
{
	struct kf_txn *t = data;
	int r = 0;
	if (strcmp(section, "transaction") == 0) {
		if (strcmp(key, "op") == 0)
			r = kf_ini_take(&t->op, value);
		else if (strcmp(key, "kernel") == 0)
			r = kf_ini_take(&t->kernel, value);
		else if (strcmp(key, "module") == 0)
			r = kf_ini_take(&t->module, value);
		else if (strcmp(key, "pid") == 0)
			r = kf_ini_take(&t->pid, value);
		else if (strcmp(key, "phase") == 0)
			t->committed = strcmp(value, "commit") == 0;
	} else if (strcmp(section, "rename") == 0) {
		r = kf_ini_take_list(strcmp(key, "from") == 0 ? &t->from : &t->to, value);
	} else if (strcmp(section, "remove") == 0) {
		r = kf_ini_take_list(&t->remove, value);
	} else if (strcmp(section, "created") == 0) {
		r = kf_ini_take_list(&t->created, value);
	}
	return r == 0;
}

static int recover(struct kf_state *st)
{
	_cleanup_free_ char *path = journal_path(st);
	if (!path)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return 0;
	struct kf_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->st = st;
	int r = ini_parse(path, journal_handler, t);
	if (r != 0 || !t->op || !t->kernel || !t->module || t->from.n != t->to.n) {
		kf_txn_free(t);
		return kforge_job_fail(st->job, KFORGE_EXIT_FAILURE,
				       "%s is damaged (line %d): look at it, put back what it lists by hand, then delete it",
				       path, r);
	}
	if (t->committed) {
		r = txn_apply(t);
		if (r == 0)
			r = kf_state_depmod(st, t->kernel);
		if (r == 0) {
			txn_end(t);
			st->repaired = kf_strdup_printf("the %s of %s for %s (pid %s) was interrupted after its commit: "
							"finished it",
							t->op, t->module, t->kernel, t->pid ? t->pid : "?");
		}
	} else {
		kf_txn_rollback(t);
		st->repaired = kf_strdup_printf("the %s of %s for %s (pid %s) was interrupted before its commit: rolled "
						"it back, nothing had changed",
						t->op, t->module, t->kernel, t->pid ? t->pid : "?");
	}
	if (st->repaired)
		kf_warn(st->job->ctx, "%s", st->repaired);
	kf_txn_free(t);
	return r < 0 ? kforge_job_fail(st->job, KFORGE_EXIT_FAILURE,
				       "could not finish an interrupted transaction (%s): see %s", strerror(-r), path)
		     : 0;
}

/* The journal reader alone, nothing finished or rolled back: for tests/fuzz/fuzz-ini.c. */
int kf_journal_parse(const char *path)
{
	struct kf_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	int r = ini_parse(path, journal_handler, t);
	bool whole = r == 0 && t->op && t->kernel && t->module && t->from.n == t->to.n;
	kf_txn_free(t);
	return r < 0 ? -EIO : whole ? 0 : -EBADMSG;
}

/* --- an initramfs refresh owed: written before a commit, removed when the refresh succeeded */

static char *refresh_marker(const struct kf_state *st, const char *kernel)
{
	return kf_strdup_printf("%s/initramfs-pending-%s", st->dir, kernel);
}

int kf_state_refresh_pending(struct kf_state *st, const char *kernel, const char *modules)
{
	_cleanup_free_ char *path = refresh_marker(st, kernel);
	_cleanup_free_ char *text = kf_strdup_printf("%s\n", modules);
	return path && text ? kf_write_atomic(path, text) : -ENOMEM;
}

void kf_state_refresh_done(struct kf_state *st, const char *kernel)
{
	_cleanup_free_ char *path = refresh_marker(st, kernel);
	if (path && unlink(path) == 0)
		kf_sync_dir(st->dir);
}

bool kf_state_refresh_owed(const struct kf_state *st, const char *kernel)
{
	return kf_strv_contains(&st->owed, kernel);
}

/* Markers left by a run that was killed, or whose generator failed, before the refresh. */
static void find_owed_refreshes(struct kf_state *st)
{
	DIR *d = opendir(st->dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		const char *kernel = e->d_name + strlen("initramfs-pending-");
		if (strncmp(e->d_name, "initramfs-pending-", strlen("initramfs-pending-")) != 0 || strstr(kernel, ".tmp-"))
			continue;
		_cleanup_free_ char *path = kforge_path_join(st->dir, e->d_name, NULL);
		_cleanup_free_ char *mods = NULL;
		if (path)
			kf_read_file(path, &mods, NULL);
		kf_strv_push(&st->owed, kernel);
		kf_warn(st->job->ctx, "the initramfs of %s was not refreshed after %s changed (a kforge run was killed, or "
				      "the generator failed): the next kforge install or uninstall for %s refreshes it",
			kernel, mods ? kf_strstrip(mods) : "a module", kernel);
	}
	if (d)
		closedir(d);
}

char *kf_state_base(const struct kforge_job *job)
{
	char *base = strdup(job->install_mod_path ? job->install_mod_path : kforge_ctx_root(job->ctx));
	size_t n = base ? strlen(base) : 0;
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	return base;
}

int kf_state_open(struct kforge_job *job, bool create, struct kf_state **out)
{
	struct kf_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->job = job;
	st->lock_fd = -1;
	st->base = kf_state_base(job);
	if (!st->base) {
		kf_state_close(st);
		return -ENOMEM;
	}
	st->dir = kf_strdup_printf("%s/var/lib/kforge", st->base);
	if (st->dir && !create && !kf_is_dir(st->dir)) {
		/* nothing was ever installed here: nothing to lock or repair, and nothing created */
		*out = st;
		return 0;
	}
	int r = st->dir ? kf_mkdir_p(st->dir) : -ENOMEM;
	if (r < 0) {
		kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s", st->dir ? st->dir : "the state folder",
				strerror(-r));
		kf_state_close(st);
		return r;
	}
	if ((r = lock_state(st)) < 0 || (r = recover(st)) < 0) {
		kf_state_close(st);
		return r;
	}
	find_owed_refreshes(st);
	*out = st;
	return 0;
}

void kf_state_close(struct kf_state *st)
{
	if (!st)
		return;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->base);
	free(st->dir);
	free(st->repaired);
	kf_strv_free(&st->owed);
	free(st);
}
