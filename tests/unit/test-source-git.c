/* test-source.c: the source layer's checks (--source forms, git refs, names and links inside trees) and decompression by magic. */
#include <fcntl.h>
#include <zlib.h>

#include "unit.h"
#include "source/source.h"

static void test_source_kind(void **state)
{
	(void)state;
	assert_int_equal(kf_source_kind_of("git+https://host/linux.git#tag=v6.7"), KF_SOURCE_GIT);
	assert_int_equal(kf_source_kind_of("https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz"), KF_SOURCE_URL);
	assert_int_equal(kf_source_kind_of("http://127.0.0.1:8080/linux.tar.gz"), KF_SOURCE_URL);
	assert_int_equal(kf_source_kind_of("file:///srv/linux.tar.xz"), KF_SOURCE_URL);
	assert_int_equal(kf_source_kind_of("/usr/src/linux-source-6.1.tar.xz"), KF_SOURCE_PATH);
	assert_int_equal(kf_source_kind_of("git-stuff/linux"), KF_SOURCE_PATH);
	assert_int_equal(kf_source_kind_of(NULL), KF_SOURCE_PATH);
}

static void test_git_split(void **state)
{
	(void)state;
	char why[512];
	char *url = NULL, *ref = NULL;
	bool is_signed = true;
	assert_int_equal(kf_source_git_split("git+https://h/linux.git#tag=v6.7-rc5", &url, &ref, &is_signed, why, sizeof(why)), 0);
	assert_string_equal(url, "https://h/linux.git");
	assert_string_equal(ref, "tag=v6.7-rc5");
	assert_false(is_signed);
	free(url);
	free(ref);
	/* a PKGBUILD's ?signed is dropped and said */
	assert_int_equal(kf_source_git_split("git+https://h/l#tag=6.6.1-arch1?signed", &url, &ref, &is_signed, why, sizeof(why)), 0);
	assert_string_equal(ref, "tag=6.6.1-arch1");
	assert_true(is_signed);
	free(url);
	free(ref);
	/* no fragment: the remote's HEAD */
	assert_int_equal(kf_source_git_split("git+file:///srv/linux", &url, &ref, NULL, why, sizeof(why)), 0);
	assert_string_equal(url, "file:///srv/linux");
	assert_null(ref);
	free(url);
	static const char *const bad[] = { "git+#tag=v1", "git+https://h/l#", "git+https://h/l#tug=v1", "git+https://h/l#tag=a:b",
					   "git+https://h/l#commit=xyz", "git+https://h/l#commit=abc", "git+https://h/l#branch=a..b",
					   "git+https://h/l#tag=-rf", "https://h/l#tag=v1" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		url = ref = (char *)"untouched";
		why[0] = '\0';
		assert_int_equal(kf_source_git_split(bad[i], &url, &ref, NULL, why, sizeof(why)), -EINVAL);
		assert_null(url);
		assert_null(ref);
		assert_true(why[0] != '\0');
	}
}

static void test_git_ref(void **state)
{
	(void)state;
	struct kf_git_ref r;
	char buf[128];
	assert_int_equal(kf_git_ref_parse(NULL, &r, NULL, 0), 0);
	assert_int_equal(r.kind, KF_GIT_REF_HEAD);
	assert_string_equal(kf_git_ref_describe(&r, buf, sizeof(buf)), "HEAD");
	assert_int_equal(kf_git_ref_parse("commit=0123456789abcdef0123456789ABCDEF01234567", &r, NULL, 0), 0);
	assert_int_equal(r.kind, KF_GIT_REF_COMMIT);
	assert_int_equal(kf_git_ref_parse("commit=0123456789abcdef0123456789abcdef012345678", &r, NULL, 0), -EINVAL);
	assert_int_equal(kf_git_ref_parse("branch=release/6.7", &r, NULL, 0), 0);
	assert_string_equal(kf_git_ref_describe(&r, buf, sizeof(buf)), "branch release/6.7");
	assert_int_equal(kf_git_ref_parse("tag=v6.7*", &r, NULL, 0), -EINVAL);
	assert_int_equal(kf_git_ref_parse("tag=", &r, NULL, 0), -EINVAL);
}

static void test_tree_names(void **state)
{
	(void)state;
	assert_true(kf_tree_name_ok("Makefile", 8));
	assert_true(kf_tree_name_ok(".gitignore", 10));
	assert_true(kf_tree_name_ok("...", 3));
	assert_false(kf_tree_name_ok("", 0));
	assert_false(kf_tree_name_ok(".", 1));
	assert_false(kf_tree_name_ok("..", 2));
	assert_false(kf_tree_name_ok(".git", 4));
	assert_false(kf_tree_name_ok(".Git", 4));
	assert_false(kf_tree_name_ok("a/b", 3));
	char *norm = NULL;
	assert_int_equal(kf_tree_path_check("fs/btrfs/", &norm), 0);
	assert_string_equal(norm, "fs/btrfs");
	free(norm);
	static const char *const bad[] = { "/fs", "fs/../..", "fs//btrfs", ".git/hooks", "", "/" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(kf_tree_path_check(bad[i], &norm), -EINVAL);
		assert_null(norm);
	}
}

static void test_links(void **state)
{
	(void)state;
	assert_true(kf_tree_link_inside("fs/foo/alias.c", "foo.c"));
	assert_true(kf_tree_link_inside("fs/foo/x.c", "../../drivers/net/dummy.c"));
	assert_true(kf_tree_link_inside("a/b/c", "./../../d/./e"));
	assert_true(kf_tree_link_inside("a/l", "x/../../y"));
	assert_false(kf_tree_link_inside("fs/foo/x.c", "../../../etc/passwd"));
	assert_false(kf_tree_link_inside("top", ".."));
	assert_false(kf_tree_link_inside("a/l", "../../x"));
	assert_false(kf_tree_link_inside("a/l", "/etc"));
	assert_false(kf_tree_link_inside("a/l", ""));
	/* a climb that comes back in still passed outside on its way */
	assert_false(kf_tree_link_inside("l", "../tree/x"));
}

/* --- decompression by magic, streamed */

struct files {
	char *dir;
};

static int setup(void **state)
{
	struct files *f = calloc(1, sizeof(*f));
	f->dir = unit_mkdtemp();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct files *f = *state;
	unit_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void write_bytes(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Decompresses IN by its magic with a cap of MAX into a new file; the result and what was written. */
static int decompress(const char *in, uint64_t max, char **out, size_t *outlen)
{
	unsigned char magic[8] = { 0 };
	int ifd = open(in, O_RDONLY);
	assert_true(ifd >= 0);
	ssize_t n = read(ifd, magic, sizeof(magic));
	lseek(ifd, 0, SEEK_SET);
	char tmpl[] = "/tmp/kforge-unit-out-XXXXXX";
	int ofd = mkstemp(tmpl);
	int r = kf_decompress_fd(kf_compression_of_magic(magic, n > 0 ? (size_t)n : 0), ifd, ofd, max);
	close(ifd);
	close(ofd);
	*out = NULL;
	assert_int_equal(kf_read_file(tmpl, out, outlen), 0);
	unlink(tmpl);
	return r;
}

static char *text_of(size_t *len)
{
	struct kf_strbuf b = { 0 };
	for (int i = 0; i < 30000; i++)
		kf_strbuf_appendf(&b, "line %d of a patch that compresses\n", i % 113);
	*len = b.len;
	return kf_strbuf_steal(&b);
}

static void test_decompress(void **state)
{
	struct files *f = *state;
	size_t len;
	_cleanup_free_ char *text = text_of(&len);
	char *path = kforge_path_join(f->dir, "p", NULL);
	write_bytes(path, text, len);
	static const enum kforge_compression cs[] = { KFORGE_COMPRESS_GZIP, KFORGE_COMPRESS_XZ, KFORGE_COMPRESS_ZSTD };
	for (size_t i = 0; i < ARRAY_SIZE(cs); i++) {
		char *packed = kf_strdup_printf("%s/p.%zu", f->dir, i);
		int fd = open(packed, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(kf_compress_file(cs[i], path, fd), 0);
		close(fd);
		char *got = NULL;
		size_t glen = 0;
		/* by magic, whatever the name says */
		assert_int_equal(decompress(packed, UINT64_MAX, &got, &glen), 0);
		assert_int_equal(glen, len);
		assert_memory_equal(got, text, len);
		free(got);
		/* past the cap: -EFBIG, never silently short */
		assert_int_equal(decompress(packed, len / 2, &got, &glen), -EFBIG);
		free(got);
		/* truncated: -EBADMSG */
		char *data = NULL;
		size_t dlen = 0;
		assert_int_equal(kf_read_file(packed, &data, &dlen), 0);
		write_bytes(packed, data, dlen / 2);
		assert_int_equal(decompress(packed, UINT64_MAX, &got, &glen), -EBADMSG);
		free(got);
		free(data);
		free(packed);
	}
	free(path);
}

static void test_gzip_members(void **state)
{
	struct files *f = *state;
	/* `cat a.gz b.gz` is one gzip stream to gzip -d: both members, in order */
	const char *parts[] = { "first member\n", "second member\n" };
	struct kf_strbuf all = { 0 };
	for (size_t i = 0; i < 2; i++) {
		unsigned char buf[256];
		z_stream s = { 0 };
		assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
		s.next_in = (Bytef *)parts[i];
		s.avail_in = (uInt)strlen(parts[i]);
		s.next_out = buf;
		s.avail_out = sizeof(buf);
		assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
		size_t n = sizeof(buf) - s.avail_out;
		deflateEnd(&s);
		char *p = realloc(all.s, all.len + n + 1);
		memcpy(p + all.len, buf, n);
		all.s = p;
		all.len += n;
	}
	char *path = kforge_path_join(f->dir, "two.gz", NULL);
	write_bytes(path, all.s, all.len);
	char *got = NULL;
	size_t glen = 0;
	assert_int_equal(decompress(path, UINT64_MAX, &got, &glen), 0);
	assert_string_equal(got, "first member\nsecond member\n");
	free(got);
	free(path);
	kf_strbuf_release(&all);
	/* plain data is no compression */
	assert_int_equal(kf_compression_of_magic("VERSION = 6\n", 12), KFORGE_COMPRESS_NONE);
	assert_int_equal(kf_compression_of_magic("\x28\xb5", 2), KFORGE_COMPRESS_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_kind),
		cmocka_unit_test(test_git_split),
		cmocka_unit_test(test_git_ref),
		cmocka_unit_test(test_tree_names),
		cmocka_unit_test(test_links),
		cmocka_unit_test_setup_teardown(test_decompress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip_members, setup, teardown),
	};
	return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
