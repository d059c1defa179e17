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
	_cleanup_close_ int fd = kf_open_regular(path, NULL);
	if (fd < 0)
		return fd;
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
	_cleanup_close_ int in = kf_open_regular(src, NULL);
	if (in < 0)
		return in;
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

/* --- errors: a negative errno for the caller, the message (cause and fix) kept in the state */

int kf_state_fail(struct kf_state *st, int err, bool rolled_back, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->error, sizeof(st->error), fmt, ap);
	va_end(ap);
	st->rolled_back = rolled_back;
	return err < 0 ? err : -EIO;
}

/* --- the state folder and its lock */

bool kf_state_path_ok(const char *path)
{
	static const char *const tops[] = { "/lib/modules/", "/usr/lib/modules/", "/var/lib/kforge/" };
	if (!path || path[0] != '/' || strlen(path) >= 4096)
		return false;
	bool under = false;
	for (size_t i = 0; i < ARRAY_SIZE(tops); i++)
		under = under || strncmp(path, tops[i], strlen(tops[i])) == 0;
	if (!under)
		return false;
	/* every component a plain name: no "", ".", ".." */
	for (const char *c = path + 1;; ) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!c[n])
			return true;
		c += n + 1;
	}
}

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
	_cleanup_free_ char *holder = NULL;
	st->lock_fd = kf_lock_file(st->ctx, path, !st->no_wait, NULL, &holder);
	if (st->lock_fd == -EWOULDBLOCK)
		return kf_state_fail(st, -EWOULDBLOCK, false,
				     "%s holds %s: it is installing or removing modules under %s; wait for it, or run again "
				     "without --no-wait",
				     holder, path, st->base[0] ? st->base : "/");
	if (st->lock_fd < 0)
		return kf_state_fail(st, st->lock_fd, false, "cannot lock %s: %s", path, strerror(-st->lock_fd));
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
		return kf_state_fail(st, r, true, "cannot write the journal in %s: %s; nothing was changed", st->dir,
				     strerror(-r));
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
		kf_warn(st->ctx, "cannot remove %s: %s", h, strerror(errno));
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
				kf_err(st->ctx, "cannot rename %s to %s: %s", from, to, strerror(errno));
				continue;
			}
			sync_parent(to);
		} else if (access(to, F_OK) < 0) {
			r = -ENOENT;
			kf_err(st->ctx, "%s is gone and %s was never written", from, to);
		}
		kf_checkpoint("one rename done");
	}
	for (size_t i = 0; i < t->remove.n; i++) {
		/* a file this transaction renamed into place is never removed by it, however spelled */
		if (kf_strv_contains(&t->to, t->remove.v[i]))
			continue;
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
	int status = 0;
	int r = st->depmod ? st->depmod(st->depmod_data, st->base, kernel, &status) : 0;
	kf_checkpoint("depmod done");
	if (r < 0 || status != 0) {
		_cleanup_free_ char *cmd = kf_depmod_command(st->base, kernel);
		return kf_state_fail(st, r < 0 ? r : -EIO, false,
				     "depmod failed (%s %d): the files are in place but not indexed; run %s by hand, "
				     "and see the log",
				     r < 0 ? "error" : "exit", r < 0 ? -r : status, cmd ? cmd : "depmod");
	}
	return 0;
}

int kf_txn_commit(struct kf_txn *t)
{
	kf_checkpoint("about to commit");
	int r = txn_write(t, "commit");
	if (r < 0) {
		kf_txn_rollback(t);
		return kf_state_fail(t->st, r, true, "cannot write the journal's commit: %s; rolled back, nothing was changed",
				     strerror(-r));
	}
	t->committed = true;
	kf_checkpoint("committed");
	r = txn_apply(t);
	if (r < 0)
		return kf_state_fail(t->st, r, false, "the %s of %s did not complete (%s); the next kforge run retries it",
				     t->op, t->module, strerror(-r));
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

/*
 * Reads the journal at PATH into T: 0, -EPERM when it names a path outside the modules tree and
 * the state (or a kernel that is no folder name), -EBADMSG when it is damaged (*LINE: where).
 */
static int journal_read(const char *path, struct kf_txn *t, int *line)
{
	_cleanup_free_ char *text = NULL;
	int r = kf_read_file(path, &text, NULL);
	*line = r == 0 ? ini_parse_string(text, journal_handler, t) : -1;
	if (*line != 0)
		return -EBADMSG;
	const struct kf_strv *lists[] = { &t->from, &t->to, &t->remove, &t->created };
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (!kf_state_path_ok(lists[l]->v[i]))
				return -EPERM;
	if (t->kernel && (strchr(t->kernel, '/') || !t->kernel[0] || t->kernel[0] == '.'))
		return -EPERM;
	return t->op && t->kernel && t->module && t->from.n == t->to.n ? 0 : -EBADMSG;
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
	int line = 0;
	int r = journal_read(path, t, &line);
	if (r == -EPERM) {
		kf_txn_free(t);
		return kf_state_fail(st, -EBADMSG, false,
				     "%s names a path outside the modules tree and kforge's state: it was not written by "
				     "kforge; nothing was done; look at it, then delete it",
				     path);
	}
	if (r < 0) {
		kf_txn_free(t);
		return kf_state_fail(st, -EBADMSG, false,
				     "%s is damaged (line %d): look at it, put back what it lists by hand, then delete it", path,
				     line);
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
		kf_warn(st->ctx, "%s", st->repaired);
	kf_txn_free(t);
	if (r < 0 && !st->error[0])
		kf_state_fail(st, r, false, "could not finish an interrupted transaction (%s): see %s", strerror(-r), path);
	return r;
}

/* The journal reader alone, nothing finished or rolled back (tests/fuzz/fuzz-ini.c): 0, -EBADMSG, -EPERM. */
int kf_journal_parse(const char *path)
{
	struct kf_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	int line;
	int r = journal_read(path, t, &line);
	kf_txn_free(t);
	return r;
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
		kf_warn(st->ctx, "the initramfs of %s was not refreshed after %s changed (a kforge run was killed, or "
				      "the generator failed): the next kforge install or uninstall for %s refreshes it",
			kernel, mods ? kf_strstrip(mods) : "a module", kernel);
	}
	if (d)
		closedir(d);
}

int kf_state_open(const struct kf_state_options *o, bool create, struct kf_state **out)
{
	struct kf_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->ctx = o->ctx;
	st->lock_fd = -1;
	st->no_wait = o->no_wait;
	st->depmod = o->depmod;
	st->depmod_data = o->depmod_data;
	st->base = strdup(o->base);
	size_t n = st->base ? strlen(st->base) : 0;
	while (n > 0 && st->base[n - 1] == '/')
		st->base[--n] = '\0';
	st->dir = st->base ? kf_strdup_printf("%s/var/lib/kforge", st->base) : NULL;
	*out = st;
	if (!st->dir)
		return kf_state_fail(st, -ENOMEM, false, "out of memory");
	if (!create && !kf_is_dir(st->dir))
		/* nothing was ever installed here: nothing to lock or repair, and nothing created */
		return 0;
	int r = kf_mkdir_p(st->dir);
	if (r < 0)
		return kf_state_fail(st, r, false, "cannot create %s: %s", st->dir, strerror(-r));
	if ((r = lock_state(st)) < 0 || (r = recover(st)) < 0)
		return r;
	find_owed_refreshes(st);
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
