/* test-txn.c: the transaction layer on its own: installs and uninstalls, recovery from each journal
 * phase, an interrupted rename, damaged journals and records, paths outside the install tree. */
#include <dirent.h>
#include <fcntl.h>

#include "unit.h"
#include "txn/record.h"

#define K "6.1.0-56-amd64"
#define MODS "/lib/modules/" K

struct fixture {
	char *dir;  /* the base (a root) */
	char *host; /* dir + MODS */
	struct kforge_ctx *ctx;
	struct unit_log log;
	int depmods;	    /* how often the depmod callback ran */
	int depmod_status;  /* what it answers */
};

static int fake_depmod(void *data, const char *base, const char *kernel, int *status)
{
	struct fixture *f = data;
	assert_string_equal(kernel, K);
	assert_string_equal(base, f->dir);
	f->depmods++;
	*status = f->depmod_status;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = unit_mkdtemp();
	f->host = kforge_path_join(f->dir, MODS, NULL);
	unit_write(f->dir, MODS "/modules.dep", "");
	assert_int_equal(kforge_ctx_new(f->dir, &f->ctx), 0);
	kforge_set_log_fn(f->ctx, unit_log_fn, &f->log);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	kforge_ctx_unref(f->ctx);
	unit_rm_rf(f->dir);
	free(f->dir);
	free(f->host);
	free(f);
	return 0;
}

static int open_state(struct fixture *f, bool create, struct kf_state **st)
{
	struct kf_state_options o = {
		.ctx = f->ctx, .base = f->dir, .depmod = fake_depmod, .depmod_data = f,
	};
	return kf_state_open(&o, create, st);
}

/* The content of DIR/REL, or NULL when it is not there. */
static char *content(const char *dir, const char *rel)
{
	char *p = kforge_path_join(dir, rel, NULL), *text = NULL;
	if (kf_read_file(p, &text, NULL) < 0)
		text = NULL;
	free(p);
	return text;
}

static bool exists(const char *dir, const char *rel)
{
	char *p = kforge_path_join(dir, rel, NULL);
	bool e = access(p, F_OK) == 0;
	free(p);
	return e;
}

static void assert_content(const char *dir, const char *rel, const char *want)
{
	char *got = content(dir, rel);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static int copy_writer(void *data, const char *built, const char *tmp)
{
	(void)data;
	return kf_copy_file(built, tmp, 0644);
}

static struct kforge_record *record_for(const char *name, const char *path)
{
	struct kforge_record *r = calloc(1, sizeof(*r));
	r->module = strdup(name);
	r->kernel = strdup(K);
	r->spec = strdup(name);
	r->kind = strdup("name");
	r->strategy = strdup("headers");
	r->plugin = strdup("core");
	r->install_dir = strdup("updates");
	r->time = strdup("2026-11-22T00:00:00Z");
	r->path = strdup(path);
	return r;
}

/* Installs BUILT (a file written with TEXT) as NAME at MODS/REL through the transaction. */
static int install(struct fixture *f, const char *name, const char *rel, const char *text)
{
	unit_write(f->dir, "build/module.ko", text);
	char *built = kforge_path_join(f->dir, "build/module.ko", NULL);
	struct kf_strv order = { 0 };
	kf_strv_push(&order, "updates");
	kf_strv_push(&order, "built-in");
	struct kf_install req = {
		.kernel = K, .label = name, .install_base = f->host, .search_order = &order, .write = copy_writer,
	};
	struct kf_install_item *items = calloc(1, sizeof(*items));
	items[0].built = built;
	items[0].dest = kforge_path_join(f->host, rel, NULL);
	items[0].name = strdup(name);
	char *path = kf_strdup_printf(MODS "/%s", rel);
	items[0].rec = record_for(name, path);
	free(path);
	struct kf_state *st = NULL;
	int r = open_state(f, true, &st);
	if (r == 0)
		r = kf_txn_install(st, &req, items, 1);
	kf_install_items_free(items, 1);
	kf_state_close(st);
	kf_strv_free(&order);
	free(built);
	return r;
}

/* No file in FOLDER (under the base) is a temporary one of a transaction. */
static void assert_no_temporaries(struct fixture *f, const char *folder)
{
	char *p = kforge_path_join(f->dir, folder, NULL);
	DIR *d = opendir(p);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strstr(e->d_name, ".kforge-") || strstr(e->d_name, ".tmp-"))
			fail_msg("%s/%s is a temporary file left behind", folder, e->d_name);
	if (d)
		closedir(d);
	free(p);
}

/* An install over the distribution's file in updates/: module in place, record, backup, depmod. */
static void test_install_commits(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, MODS "/updates/hello.ko", "OLD");
	assert_int_equal(install(f, "hello", "updates/hello.ko", "NEW"), 0);
	assert_content(f->dir, MODS "/updates/hello.ko", "NEW");
	assert_false(exists(f->dir, "var/lib/kforge/transaction"));
	assert_int_equal(f->depmods, 1);
	assert_no_temporaries(f, MODS "/updates");
	struct kforge_record *rec = NULL;
	char *file = kforge_path_join(f->dir, "var/lib/kforge/records/" K "/hello.conf", NULL);
	assert_int_equal(kf_record_read(file, &rec, NULL, 0), 0);
	assert_int_equal(rec->n_replaced, 1);
	assert_string_equal(rec->replaced[0].path, MODS "/updates/hello.ko");
	assert_content(f->dir, rec->replaced[0].backup + 1, "OLD");
	char sha[65];
	char *dest = kforge_path_join(f->host, "updates/hello.ko", NULL);
	assert_int_equal(kf_sha256_file(dest, sha), 0);
	assert_string_equal(rec->sha256, sha);
	kf_record_free(rec);
	free(file);
	free(dest);
}

/* Installed twice at the same place (--install-dir extra twice): the second install stays. */
static void test_install_twice_same_place(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(install(f, "hello", "extra/hello.ko", "ONE"), 0);
	assert_int_equal(install(f, "hello", "extra/hello.ko", "TWO"), 0);
	assert_content(f->dir, MODS "/extra/hello.ko", "TWO");
	/* and moved to another folder, the earlier one goes */
	assert_int_equal(install(f, "hello", "updates/hello.ko", "THREE"), 0);
	assert_content(f->dir, MODS "/updates/hello.ko", "THREE");
	assert_false(exists(f->dir, MODS "/extra/hello.ko"));
	/* a path spelled with an empty part would read back as damaged: refused, nothing changed */
	assert_int_equal(install(f, "hello", "extra//hello.ko", "FOUR"), -EINVAL);
	assert_content(f->dir, MODS "/updates/hello.ko", "THREE");
}

/* A FIFO where the module goes: refused at once (reading it would block with the lock held). */
static void test_install_fifo_destination(void **state)
{
	struct fixture *f = *state;
	char *fifo = unit_path_with_parents(f->dir, MODS "/updates/hello.ko");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	struct kf_state *st = NULL;
	assert_int_equal(open_state(f, true, &st), 0);
	kf_state_close(st);
	int r = install(f, "hello", "updates/hello.ko", "NEW");
	assert_true(r < 0);
	struct stat sb;
	assert_int_equal(lstat(fifo, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	assert_false(exists(f->dir, "var/lib/kforge/records/" K "/hello.conf"));
	assert_false(exists(f->dir, "var/lib/kforge/transaction"));
	free(fifo);
}

static void write_journal(struct fixture *f, const char *phase, const char *body)
{
	char *text = kf_strdup_printf("[transaction]\nop = install\nkernel = " K "\nmodule = hello\npid = 1\n"
				      "phase = %s\n%s",
				      phase, body);
	unit_write(f->dir, "var/lib/kforge/transaction", text);
	free(text);
}

/* Killed before the commit: the next open deletes what the run wrote; the system is as it was. */
static void test_recover_prepare_rolls_back(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, MODS "/updates/hello.ko", "OLD");
	unit_write(f->dir, MODS "/updates/.hello.ko.kforge-1", "NEW");
	unit_write(f->dir, "var/lib/kforge/backups/" K "/aaaa-hello.ko", "OLD");
	write_journal(f, "prepare",
		      "[rename]\nfrom = " MODS "/updates/.hello.ko.kforge-1\nto = " MODS "/updates/hello.ko\n"
		      "[remove]\n[created]\npath = /var/lib/kforge/backups/" K "/aaaa-hello.ko\n");
	struct kf_state *st = NULL;
	assert_int_equal(open_state(f, false, &st), 0);
	assert_non_null(st->repaired);
	assert_non_null(strstr(st->repaired, "rolled it back"));
	kf_state_close(st);
	assert_content(f->dir, MODS "/updates/hello.ko", "OLD");
	assert_false(exists(f->dir, MODS "/updates/.hello.ko.kforge-1"));
	assert_false(exists(f->dir, "var/lib/kforge/backups/" K "/aaaa-hello.ko"));
	assert_false(exists(f->dir, "var/lib/kforge/transaction"));
	assert_int_equal(f->depmods, 0);
}

/* Killed after the commit: the next open does the renames and removals left, then depmod. */
static void test_recover_commit_finishes(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, MODS "/updates/.hello.ko.kforge-1", "NEW");
	unit_write(f->dir, MODS "/extra/hello.ko", "EARLIER");
	write_journal(f, "commit",
		      "[rename]\nfrom = " MODS "/updates/.hello.ko.kforge-1\nto = " MODS "/updates/hello.ko\n"
		      "[remove]\npath = " MODS "/extra/hello.ko\n[created]\n");
	struct kf_state *st = NULL;
	assert_int_equal(open_state(f, false, &st), 0);
	assert_non_null(st->repaired);
	assert_non_null(strstr(st->repaired, "finished it"));
	kf_state_close(st);
	assert_content(f->dir, MODS "/updates/hello.ko", "NEW");
	assert_false(exists(f->dir, MODS "/extra/hello.ko"));
	assert_false(exists(f->dir, "var/lib/kforge/transaction"));
	assert_int_equal(f->depmods, 1);
}

/* Killed between two renames of a commit: the one done is not redone, the other is finished. */
static void test_recover_interrupted_rename(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, MODS "/updates/a.ko", "A-NEW");
	unit_write(f->dir, MODS "/updates/.b.ko.kforge-1", "B-NEW");
	write_journal(f, "commit",
		      "[rename]\nfrom = " MODS "/updates/.a.ko.kforge-1\nto = " MODS "/updates/a.ko\n"
		      "from = " MODS "/updates/.b.ko.kforge-1\nto = " MODS "/updates/b.ko\n[remove]\n[created]\n");
	struct kf_state *st = NULL;
	assert_int_equal(open_state(f, false, &st), 0);
	kf_state_close(st);
	assert_content(f->dir, MODS "/updates/a.ko", "A-NEW");
	assert_content(f->dir, MODS "/updates/b.ko", "B-NEW");
	assert_false(exists(f->dir, "var/lib/kforge/transaction"));
}

/* A rename whose file is gone on both sides cannot be finished: an error, and the journal stays. */
static void test_recover_rename_lost(void **state)
{
	struct fixture *f = *state;
	write_journal(f, "commit",
		      "[rename]\nfrom = " MODS "/updates/.a.ko.kforge-1\nto = " MODS "/updates/a.ko\n[remove]\n[created]\n");
	struct kf_state *st = NULL;
	assert_true(open_state(f, false, &st) < 0);
	assert_non_null(strstr(st->error, "did not complete") ? st->error : strstr(st->error, "interrupted"));
	kf_state_close(st);
	assert_true(exists(f->dir, "var/lib/kforge/transaction"));
	assert_non_null(strstr(f->log.buf, "never written"));
}

/* A journal that is no journal: refused with the fix, nothing touched. */
static void test_recover_damaged_journal(void **state)
{
	struct fixture *f = *state;
	static const char *const bodies[] = {
		"[transaction]\nop = install\nkernel = " K "\n",			/* cut short */
		"[transaction]\nop = install\nkernel = " K "\nmodule = %4\nphase = commit\n", /* a lone escape */
		"\x01\x02 garbage\n",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		unit_write(f->dir, "var/lib/kforge/transaction", bodies[i]);
		struct kf_state *st = NULL;
		assert_int_equal(open_state(f, false, &st), -EBADMSG);
		assert_non_null(strstr(st->error, "is damaged"));
		assert_non_null(strstr(st->error, "delete it"));
		kf_state_close(st);
		assert_true(exists(f->dir, "var/lib/kforge/transaction"));
	}
}

/* A journal that names files outside the modules tree and the state (forged, or damaged): refused. */
static void test_recover_journal_outside(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, "etc/shadow", "SECRET");
	unit_write(f->dir, MODS "/updates/.x.kforge-1", "X");
	static const char *const bodies[] = {
		"[rename]\nfrom = " MODS "/updates/.x.kforge-1\nto = /etc/shadow\n[remove]\n[created]\n",
		"[rename]\n[remove]\npath = " MODS "/../../../etc/shadow\n[created]\n",
		"[rename]\n[remove]\n[created]\npath = /lib/modules/../../etc/shadow\n",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		write_journal(f, i ? "prepare" : "commit", bodies[i]);
		struct kf_state *st = NULL;
		assert_int_equal(open_state(f, false, &st), -EBADMSG);
		assert_non_null(strstr(st->error, "outside"));
		kf_state_close(st);
		assert_content(f->dir, "etc/shadow", "SECRET");
		assert_true(exists(f->dir, MODS "/updates/.x.kforge-1"));
	}
}

/* Damaged records: each is refused with a reason, never half read. */
static void test_record_damaged(void **state)
{
	struct fixture *f = *state;
	static const char *const head = "[record]\nmodule = hello\nkernel = " K "\npath = " MODS "/updates/hello.ko\n";
	static const char *const sha = "sha256 = 0011223344556677889900112233445566778899001122334455667788990011\n";
	struct {
		const char *tail, *why;
	} cases[] = {
		{ "sha256 = 00%\n", "line" },
		{ "sha256 = 0011\n", "SHA-256" },
		{ "[replaced]\npath = " MODS "/updates/hello.ko\nbackup = /var/lib/kforge/backups/x\n", "sha256" },
		{ "[replaced]\npath = " MODS "/../../../../etc/passwd\nsha256 = "
		  "0011223344556677889900112233445566778899001122334455667788990011\nbackup = /var/lib/kforge/backups/x\n",
		  "outside" },
		{ "[replaced]\npath = " MODS "/updates/x.ko\nsha256 = "
		  "0011223344556677889900112233445566778899001122334455667788990011\nbackup = /tmp/x\n",
		  "outside" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = kf_strdup_printf("%s%s%s", head, i < 2 ? "" : sha, cases[i].tail);
		unit_write(f->dir, "r.conf", text);
		char *path = kforge_path_join(f->dir, "r.conf", NULL);
		struct kforge_record *r = NULL;
		char why[256];
		assert_int_equal(kf_record_read(path, &r, why, sizeof(why)), -EBADMSG);
		assert_null(r);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, why, cases[i].why);
		free(text);
		free(path);
	}
	/* a record whose path leaves the modules tree is not read at all */
	char *text = kf_strdup_printf("[record]\nmodule = hello\nkernel = " K "\npath = " MODS "/../../../etc/passwd\n%s", sha);
	unit_write(f->dir, "r.conf", text);
	char *path = kforge_path_join(f->dir, "r.conf", NULL);
	struct kforge_record *r = NULL;
	assert_int_equal(kf_record_read(path, &r, NULL, 0), -EBADMSG);
	free(text);
	free(path);
}

/* Uninstall whose backup was removed: refused before anything changes (it once read freed memory). */
static void test_uninstall_backup_gone(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, MODS "/updates/hello.ko", "OLD");
	assert_int_equal(install(f, "hello", "updates/hello.ko", "NEW"), 0);
	char *file = kforge_path_join(f->dir, "var/lib/kforge/records/" K "/hello.conf", NULL);
	struct kforge_record *rec = NULL;
	assert_int_equal(kf_record_read(file, &rec, NULL, 0), 0);
	char *bk = kforge_path_join(f->dir, rec->replaced[0].backup, NULL);
	assert_int_equal(unlink(bk), 0);
	struct kf_state *st = NULL;
	assert_int_equal(open_state(f, false, &st), 0);
	char *installed = NULL;
	assert_true(kf_txn_uninstall(st, K, "hello", false, false, &installed) < 0);
	assert_null(installed);
	assert_non_null(strstr(st->error, "missing or damaged"));
	assert_non_null(strstr(st->error, MODS "/updates/hello.ko"));
	kf_state_close(st);
	assert_content(f->dir, MODS "/updates/hello.ko", "NEW");
	assert_true(exists(f->dir, "var/lib/kforge/records/" K "/hello.conf"));
	kf_record_free(rec);
	free(bk);
	free(file);
}

/* Uninstall puts back byte for byte what the install replaced, and runs depmod. */
static void test_uninstall_restores(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, MODS "/updates/hello.ko", "OLD");
	assert_int_equal(install(f, "hello", "updates/hello.ko", "NEW"), 0);
	struct kf_state *st = NULL;
	assert_int_equal(open_state(f, false, &st), 0);
	char *installed = NULL;
	assert_int_equal(kf_txn_uninstall(st, K, "hello", false, false, &installed), 0);
	assert_non_null(installed);
	kf_state_close(st);
	assert_content(f->dir, MODS "/updates/hello.ko", "OLD");
	assert_false(exists(f->dir, "var/lib/kforge/records/" K "/hello.conf"));
	assert_int_equal(f->depmods, 2);
	free(installed);
}

/* depmod failing after the commit: the files are in place, the message names the command to run. */
static void test_depmod_failure(void **state)
{
	struct fixture *f = *state;
	f->depmod_status = 1;
	unit_write(f->dir, "build/module.ko", "NEW");
	struct kf_state *st = NULL;
	assert_int_equal(open_state(f, true, &st), 0);
	struct kf_txn *t = NULL;
	assert_int_equal(kf_txn_begin(st, "install", K, "hello", &t), 0);
	unit_write(f->dir, MODS "/updates/.hello.ko.kforge-1", "NEW");
	assert_int_equal(kf_txn_rename(t, MODS "/updates/.hello.ko.kforge-1", MODS "/updates/hello.ko"), 0);
	assert_true(kf_txn_commit(t) < 0);
	kf_txn_free(t);
	char *cmd = kf_strdup_printf("depmod -b %s " K, f->dir);
	if (!strstr(st->error, cmd))
		fail_msg("\"%s\" does not name \"%s\"", st->error, cmd);
	free(cmd);
	kf_state_close(st);
	assert_content(f->dir, MODS "/updates/hello.ko", "NEW");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_twice_same_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_fifo_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_prepare_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_commit_finishes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_interrupted_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_rename_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_damaged_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_journal_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uninstall_backup_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uninstall_restores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depmod_failure, setup, teardown),
	};
	return cmocka_run_group_tests_name("txn", tests, NULL, NULL);
}
