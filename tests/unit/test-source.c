/* test-source.c: the fetcher's pure parts: [sources] rewrite (longest prefix, pairs, odd counts), digests, checksum specs, cache keys. */
#include "unit.h"

#include "source/source.h"


/* URL rewritten by TEXT's pairs, checked against WANT and the pair applied (FROM, or NULL for none). */
static void expect_rewrite(const char *text, const char *url, const char *want, const char *want_from)
{
	struct kf_rewrites rw = { 0 };
	assert_int_equal(kf_rewrites_parse(text, &rw), 0);
	const struct kf_rewrite *used = (const struct kf_rewrite *)1;
	char *got = kf_url_rewrite(&rw, url, &used);
	assert_non_null(got);
	assert_string_equal(got, want);
	if (want_from) {
		assert_non_null(used);
		assert_string_equal(used->from, want_from);
	} else {
		assert_null(used);
	}
	free(got);
	kf_rewrites_free(&rw);
}

static void test_longest_prefix_wins(void **state)
{
	(void)state;
	/* in either order, the longer FROM wins, as git's insteadOf */
	const char *a = "https://cdn.kernel.org/ http://mirror/all/ https://cdn.kernel.org/pub/linux/kernel/ http://mirror/k/";
	const char *b = "https://cdn.kernel.org/pub/linux/kernel/ http://mirror/k/ https://cdn.kernel.org/ http://mirror/all/";
	const char *url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz";
	expect_rewrite(a, url, "http://mirror/k/v6.x/linux-6.6.1.tar.xz", "https://cdn.kernel.org/pub/linux/kernel/");
	expect_rewrite(b, url, "http://mirror/k/v6.x/linux-6.6.1.tar.xz", "https://cdn.kernel.org/pub/linux/kernel/");
	/* the shorter one still serves what the longer does not prefix */
	expect_rewrite(a, "https://cdn.kernel.org/other", "http://mirror/all/other", "https://cdn.kernel.org/");
	/* of two equal FROMs the first (the command line's, put first) wins */
	expect_rewrite("https://x/ http://first/ https://x/ http://second/", "https://x/f", "http://first/f", "https://x/");
}

static void test_no_match(void **state)
{
	(void)state;
	expect_rewrite("https://cdn.kernel.org/ http://mirror/", "https://gitlab.archlinux.org/a.git",
		       "https://gitlab.archlinux.org/a.git", NULL);
	/* a prefix of the text, not of the URL's start, is no match */
	expect_rewrite("kernel.org/ http://mirror/", "https://cdn.kernel.org/f", "https://cdn.kernel.org/f", NULL);
	expect_rewrite("", "https://cdn.kernel.org/f", "https://cdn.kernel.org/f", NULL);
	/* no rules at all */
	const struct kf_rewrite *used = (const struct kf_rewrite *)1;
	char *got = kf_url_rewrite(NULL, "file:///x", &used);
	assert_string_equal(got, "file:///x");
	assert_null(used);
	free(got);
}

static void test_several_pairs(void **state)
{
	(void)state;
	/* blanks of any kind and count between words; each pair serves its own prefix */
	const char *text = "  https://a/ http://127.0.0.1:1/a/\t\thttps://b/   file:///srv/b/\n git://c/ https://c.mirror/ ";
	struct kf_rewrites rw = { 0 };
	assert_int_equal(kf_rewrites_parse(text, &rw), 0);
	assert_int_equal(rw.n, 3);
	assert_string_equal(rw.v[1].from, "https://b/");
	assert_string_equal(rw.v[1].to, "file:///srv/b/");
	kf_rewrites_free(&rw);
	expect_rewrite(text, "https://a/x.tar", "http://127.0.0.1:1/a/x.tar", "https://a/");
	expect_rewrite(text, "https://b/y/z.patch", "file:///srv/b/y/z.patch", "https://b/");
	expect_rewrite(text, "git://c/linux.git", "https://c.mirror/linux.git", "git://c/");
	/* pairs parsed twice append, in order: the command line's before the file's */
	assert_int_equal(kf_rewrites_parse("https://a/ http://cli/", &rw), 0);
	assert_int_equal(kf_rewrites_parse(text, &rw), 0);
	assert_int_equal(rw.n, 4);
	char *got = kf_url_rewrite(&rw, "https://a/x", NULL);
	assert_string_equal(got, "http://cli/x");
	free(got);
	kf_rewrites_free(&rw);
}

static void test_odd_count_refused(void **state)
{
	struct unit_env *f = *state;
	struct kf_rewrites rw = { 0 };
	assert_int_equal(kf_rewrites_parse("https://a/ http://b/", &rw), 0);
	assert_int_equal(kf_rewrites_parse("https://a/ http://b/ https://c/", &rw), -EINVAL);
	assert_int_equal(rw.n, 1); /* unchanged */
	kf_rewrites_free(&rw);
	/* in kforge.conf: an error naming file:line, and nothing of the file taken */
	unit_write(f->dir, "kforge.conf", "[build]\njobs = 3\n[sources]\nrewrite = https://a/ http://b/ https://c/\n");
	char *conf = kforge_path_join(f->dir, "kforge.conf", NULL);
	assert_int_equal(kforge_config_load(f->ctx, conf, "/nonexistent"), -EINVAL);
	char *where = kf_strdup_printf("%s:4: sources.rewrite needs pairs of URL prefixes", conf);
	if (!strstr(f->log.buf, where))
		print_error("missing in the log: %s\nlog:\n%s", where, f->log.buf);
	assert_non_null(strstr(f->log.buf, where));
	assert_non_null(strstr(f->log.buf, "not 3 words"));
	assert_string_equal(kforge_config_get(f->ctx, "sources.rewrite"), "");
	assert_string_equal(kforge_config_get(f->ctx, "build.jobs"), "0");
	free(where);
	/* an even count is taken, with its origin */
	unit_write(f->dir, "kforge.conf", "[sources]\nrewrite = https://a/ http://b/\ntimeout = 2\n");
	assert_int_equal(kforge_config_load(f->ctx, conf, "/nonexistent"), 0);
	assert_string_equal(kforge_config_get(f->ctx, "sources.rewrite"), "https://a/ http://b/");
	assert_string_equal(kforge_config_get(f->ctx, "sources.timeout"), "2");
	assert_string_equal(kforge_config_get(f->ctx, "sources.connect_timeout"), "30");
	/* the command line's value is checked the same way */
	assert_int_equal(kforge_config_set(f->ctx, "sources.rewrite", "https://x/", "command line: --source-rewrite"), -EINVAL);
	assert_string_equal(kforge_config_get(f->ctx, "sources.rewrite"), "https://a/ http://b/");
	free(conf);
}

static void test_digests(void **state)
{
	struct unit_env *f = *state;
	char hex[KF_DIGEST_HEX_MAX];
	/* FIPS 180-2 and RFC 7693's "abc" vectors */
	const char *sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	const char *b2 = "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
			 "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
	assert_int_equal(kf_digest_data("abc", 3, KF_DIGEST_SHA256, hex), 0);
	assert_string_equal(hex, sha);
	assert_int_equal(kf_digest_data("abc", 3, KF_DIGEST_B2, hex), 0);
	assert_string_equal(hex, b2);
	unit_write(f->dir, "abc", "abc");
	char *path = kforge_path_join(f->dir, "abc", NULL);
	assert_int_equal(kf_digest_file(path, KF_DIGEST_SHA256, hex), 0);
	assert_string_equal(hex, sha);
	assert_int_equal(kf_digest_file(path, KF_DIGEST_B2, hex), 0);
	assert_string_equal(hex, b2);
	struct kf_checksum c;
	char *spec = kf_strdup_printf("b2:%s", b2);
	assert_int_equal(kf_checksum_parse(spec, &c), 0);
	assert_int_equal(kf_checksum_verify(path, &c, hex), 1);
	free(spec);
	spec = kf_strdup_printf("sha256:%064d", 0);
	assert_int_equal(kf_checksum_parse(spec, &c), 0);
	assert_int_equal(kf_checksum_verify(path, &c, hex), 0);
	assert_string_equal(hex, sha); /* the actual sum, for the message */
	free(spec);
	free(path);
	/* never read from a FIFO; a missing file is -ENOENT */
	path = unit_mkfifo(f->dir, "fifo");
	alarm(20);
	assert_int_equal(kf_digest_file(path, KF_DIGEST_SHA256, hex), -EINVAL);
	alarm(0);
	free(path);
	path = kforge_path_join(f->dir, "missing", NULL);
	assert_int_equal(kf_digest_file(path, KF_DIGEST_SHA256, hex), -ENOENT);
	free(path);
}

static void test_checksum_specs(void **state)
{
	(void)state;
	struct kf_checksum c;
	const char *sha = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
	char *spec = kf_strdup_printf("sha256:%s", sha);
	assert_int_equal(kf_checksum_parse(spec, &c), 0);
	assert_int_equal(c.algo, KF_DIGEST_SHA256);
	assert_string_equal(c.hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(spec);
	spec = kf_strdup_printf("b2:%0128d", 7);
	assert_int_equal(kf_checksum_parse(spec, &c), 0);
	assert_int_equal(c.algo, KF_DIGEST_B2);
	assert_int_equal(strlen(c.hex), 128);
	free(spec);
	static const char *const bad[] = {
		"", "sha256", "sha256:", "md5:d41d8cd98f00b204e9800998ecf8427e",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",   /* 63 digits */
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015adx", /* 65 */
		"sha256:za7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",  /* not hex */
		"b2:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",	    /* a sha256's length */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (kf_checksum_parse(bad[i], &c) != -EINVAL)
			fail_msg("\"%s\" was taken as a checksum", bad[i]);
	}
	assert_int_equal(kf_checksum_parse(NULL, &c), -EINVAL);
	assert_string_equal(kf_digest_name(KF_DIGEST_B2), "b2");
	assert_int_equal(kf_digest_hex_len(KF_DIGEST_SHA256), 64);
}

static void test_schemes_and_keys(void **state)
{
	(void)state;
	assert_string_equal(kf_url_scheme("https://cdn.kernel.org/x"), "https");
	assert_string_equal(kf_url_scheme("HTTP://x/"), "http");
	assert_string_equal(kf_url_scheme("file:///srv/x"), "file");
	assert_null(kf_url_scheme("git://x/y.git"));
	assert_null(kf_url_scheme("ftp://x/y"));
	assert_null(kf_url_scheme("/srv/x"));
	struct kf_checksum c;
	assert_int_equal(kf_checksum_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &c), 0);
	char *p = kf_store_entry_path("/c", &c, "https://ignored/");
	assert_string_equal(p, "/c/downloads/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(p);
	/* kept by URL: under the sha256 of the URL as given */
	p = kf_store_entry_path("/c", NULL, "abc");
	assert_string_equal(p, "/c/downloads/url/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(p);
	p = kf_store_lock_path("/c", "b2/00");
	assert_string_equal(p, "/c/locks/download-b2-00.lock");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_longest_prefix_wins, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_no_match, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_several_pairs, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_odd_count_refused, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_digests, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_checksum_specs, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_schemes_and_keys, unit_env_setup, unit_env_teardown),
	};
	return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
