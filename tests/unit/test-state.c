/* test-state.c: the pieces installs stand on: INI values past inih's line limit, records written
 * and read back, module compression both ways, SHA-256. */
#include <fcntl.h>
#include <ini.h>

#include "unit.h"
#include "txn/record.h"

struct fixture {
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = unit_mkdtemp();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unit_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

struct got {
	char *value;
	struct kf_strv list;
};

static int take_handler(void *data, const char *section, const char *key, const char *value)
{
	struct got *g = data;
	if (strcmp(key, "one") == 0)
		return kf_ini_take(&g->value, value) == 0;
	if (strcmp(key, "many") == 0)
		return kf_ini_take_list(&g->list, value) == 0;
	return 0;
}

/* A value of 700 characters with every character inih treats specially comes back whole. */
static void test_ini_long_values(void **state)
{
	struct fixture *f = *state;
	char value[701];
	const char specials[] = " ;#%+=\t/a";
	for (size_t i = 0; i < sizeof(value) - 1; i++)
		value[i] = specials[i % (sizeof(specials) - 1)];
	value[sizeof(value) - 1] = '\0';
	char *path = kforge_path_join(f->dir, "t.ini", NULL);
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	fputs("[s]\n", out);
	kf_ini_put(out, "one", value);
	kf_ini_put(out, "many", "first value");
	kf_ini_put(out, "many", value);
	kf_ini_put(out, "many", "");
	fclose(out);
	struct got g = { 0 };
	assert_int_equal(ini_parse(path, take_handler, &g), 0);
	assert_string_equal(g.value, value);
	assert_int_equal(g.list.n, 3);
	assert_string_equal(g.list.v[0], "first value");
	assert_string_equal(g.list.v[1], value);
	assert_string_equal(g.list.v[2], "");
	free(g.value);
	kf_strv_free(&g.list);
	free(path);
}

#define SHA_0 "0011223344556677889900112233445566778899001122334455667788990011"
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* What kf_record_text() writes, kf_record_read() reads back, replaced files and all. */
static void test_record_round_trip(void **state)
{
	struct fixture *f = *state;
	struct kforge_record r = {
		.module = "kforge_one", .kernel = "6.1.0-56-amd64", .spec = "/src/a folder; with #signs",
		.kind = "external", .strategy = "headers", .plugin = "debian", .install_dir = "updates",
		.time = "2026-11-21T10:00:00Z", .path = "/lib/modules/6.1.0-56-amd64/updates/kforge_one.ko",
		.sha256 = SHA_0, .install_dir_forced = true,
	};
	char *changes[] = { "CONFIG_X=m", "CONFIG_Y=\"a b\"", NULL };
	r.changes = changes;
	struct kforge_record *w = calloc(1, sizeof(*w));
	*w = r;
	w->replaced = NULL;
	assert_int_equal(kf_record_add_replaced(w, "/lib/modules/x/updates/kforge_one.ko", SHA_A, "/var/lib/kforge/backups/aa"), 0);
	assert_int_equal(kf_record_add_replaced(w, "/lib/modules/x/updates/dkms/kforge_one.ko.xz", SHA_B, "/var/lib/kforge/backups/bb"), 0);
	char *text = kf_record_text(w);
	assert_non_null(text);
	char *path = kforge_path_join(f->dir, "r.conf", NULL);
	assert_int_equal(kf_write_file(path, text, 0644), 0);
	struct kforge_record *back = NULL;
	assert_int_equal(kf_record_read(path, &back, NULL, 0), 0);
	assert_string_equal(back->module, "kforge_one");
	assert_string_equal(back->spec, "/src/a folder; with #signs");
	assert_string_equal(back->path, r.path);
	assert_true(back->install_dir_forced);
	assert_false(back->strategy_forced);
	assert_string_equal(back->changes[1], "CONFIG_Y=\"a b\"");
	assert_null(back->changes[2]);
	assert_int_equal(back->n_replaced, 2);
	assert_string_equal(back->replaced[1].path, "/lib/modules/x/updates/dkms/kforge_one.ko.xz");
	assert_string_equal(back->replaced[1].sha256, SHA_B);
	assert_string_equal(back->replaced[0].backup, "/var/lib/kforge/backups/aa");
	kf_record_free(back);
	for (size_t i = 0; i < w->n_replaced; i++) {
		free(w->replaced[i].path);
		free(w->replaced[i].sha256);
		free(w->replaced[i].backup);
	}
	free(w->replaced);
	free(w);
	free(text);
	free(path);
}

/* A file that is not a whole record is refused, not half read. */
static void test_record_incomplete(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, "bad.conf", "[record]\nmodule = x\nkernel = 6.1\n");
	struct kforge_record *r = NULL;
	char *path = kforge_path_join(f->dir, "bad.conf", NULL);
	assert_int_equal(kf_record_read(path, &r, NULL, 0), -EBADMSG);
	assert_null(r);
	free(path);
}

/* Each compression writes what its reader gives back byte for byte; the name decides the reader. */
static void test_compress_round_trip(void **state)
{
	struct fixture *f = *state;
	char *in = kforge_path_join(f->dir, "m.ko", NULL);
	FILE *o = fopen(in, "w");
	for (int i = 0; i < 20000; i++)
		fprintf(o, "line %d of a module that compresses\n", i % 97);
	fclose(o);
	char *orig = NULL;
	size_t olen = 0;
	assert_int_equal(kf_read_file(in, &orig, &olen), 0);
	static const enum kforge_compression cs[] = { KFORGE_COMPRESS_GZIP, KFORGE_COMPRESS_XZ, KFORGE_COMPRESS_ZSTD };
	for (size_t i = 0; i < ARRAY_SIZE(cs); i++) {
		char *packed = kf_strdup_printf("%s/m.ko%s", f->dir, kforge_compression_suffix(cs[i]));
		char *plain = kf_strdup_printf("%s/back-%zu.ko", f->dir, i);
		int fd = open(packed, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(kf_compress_file(cs[i], in, fd), 0);
		close(fd);
		struct stat st;
		assert_int_equal(stat(packed, &st), 0);
		assert_true((size_t)st.st_size < olen / 4);
		assert_int_equal(kf_compression_of_path(packed), cs[i]);
		fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(kf_decompress_file(packed, fd), 0);
		close(fd);
		char *got = NULL;
		size_t glen = 0;
		assert_int_equal(kf_read_file(plain, &got, &glen), 0);
		assert_int_equal(glen, olen);
		assert_memory_equal(got, orig, olen);
		free(got);
		free(packed);
		free(plain);
	}
	/* damaged data is an error, never a short module */
	char *bad = kf_strdup_printf("%s/bad.ko.xz", f->dir);
	unit_write(f->dir, "bad.ko.xz", "not xz at all");
	int fd = open("/dev/null", O_WRONLY);
	assert_int_equal(kf_decompress_file(bad, fd), -EBADMSG);
	close(fd);
	free(bad);
	free(orig);
	free(in);
}

static void test_sha256(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, "abc", "abc");
	char *path = kforge_path_join(f->dir, "abc", NULL);
	char hex[65];
	assert_int_equal(kf_sha256_file(path, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ini_long_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha256, setup, teardown),
	};
	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
