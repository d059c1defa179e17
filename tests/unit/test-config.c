/* test-config.c: configuration precedence, origins, and errors that name file:line. */
#include "unit.h"

struct fixture {
	char *dir;
	char *sys, *usr;
	struct kforge_ctx *ctx;
	struct unit_log log;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = unit_mkdtemp();
	f->sys = kforge_path_join(f->dir, "etc/kforge/kforge.conf", NULL);
	f->usr = kforge_path_join(f->dir, "home/.config/kforge/kforge.conf", NULL);
	assert_int_equal(kforge_ctx_new("/", &f->ctx), 0);
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
	free(f->sys);
	free(f->usr);
	free(f);
	return 0;
}

static const char *origin_of(struct kforge_ctx *ctx, const char *key)
{
	const char *k, *v, *o;
	for (unsigned int i = 0; kforge_config_entry(ctx, i, &k, &v, &o, NULL); i++)
		if (strcmp(k, key) == 0)
			return o;
	return NULL;
}

static void test_defaults_when_no_files(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(kforge_config_load(f->ctx, f->sys, f->usr), 0);
	assert_string_equal(kforge_config_get(f->ctx, "build.jobs"), "0");
	assert_string_equal(kforge_config_get(f->ctx, "build.cache_dir"), "/var/cache/kforge");
	assert_string_equal(origin_of(f->ctx, "build.jobs"), "default");
	assert_null(kforge_config_get(f->ctx, "build.nope"));
	assert_string_equal(kforge_config_system_path(f->ctx), f->sys);
}

static void test_precedence(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, "etc/kforge/kforge.conf",
		   "# system\n[build]\njobs = 8\nstrategy = full\n\n[log]\nlevel = debug\n");
	unit_write(f->dir, "home/.config/kforge/kforge.conf", "[build]\n; the user's\njobs = 4\n");
	assert_int_equal(kforge_config_load(f->ctx, f->sys, f->usr), 0);
	/* the user's file beats the system's; what only the system sets stays */
	assert_string_equal(kforge_config_get(f->ctx, "build.jobs"), "4");
	char *o = kf_strdup_printf("%s:3", f->usr);
	assert_string_equal(origin_of(f->ctx, "build.jobs"), o);
	free(o);
	assert_string_equal(kforge_config_get(f->ctx, "build.strategy"), "full");
	o = kf_strdup_printf("%s:4", f->sys);
	assert_string_equal(origin_of(f->ctx, "build.strategy"), o);
	free(o);
	/* a level from a file takes effect at once */
	assert_int_equal(kforge_get_log_priority(f->ctx), LOG_DEBUG);
	/* the command line beats both */
	assert_int_equal(kforge_config_set(f->ctx, "build.jobs", "2", "command line: -j"), 0);
	assert_string_equal(kforge_config_get(f->ctx, "build.jobs"), "2");
	assert_string_equal(origin_of(f->ctx, "build.jobs"), "command line: -j");
}

static void expect_error(struct fixture *f, const char *text, int line, const char *needle)
{
	unit_write(f->dir, "etc/kforge/kforge.conf", text);
	f->log.len = 0;
	f->log.buf[0] = '\0';
	assert_int_equal(kforge_config_load(f->ctx, f->sys, f->usr), -EINVAL);
	char *where = kf_strdup_printf("%s:%d: ", f->sys, line);
	print_message("log: %s", f->log.buf);
	assert_non_null(strstr(f->log.buf, where));
	assert_non_null(strstr(f->log.buf, needle));
	free(where);
}

static void test_unknown_key(void **state)
{
	expect_error(*state, "[build]\njobs = 2\ncolour = red\n", 3, "unknown key \"build.colour\"");
}

static void test_unknown_section(void **state)
{
	expect_error(*state, "\n[paint]\nbrush = 1\n", 3, "unknown key \"paint.brush\"");
}

static void test_outside_section(void **state)
{
	expect_error(*state, "jobs = 2\n", 1, "outside any section");
}

static void test_bad_values(void **state)
{
	struct fixture *f = *state;
	expect_error(f, "[build]\njobs = many\n", 2, "whole number");
	expect_error(f, "[build]\njobs = -1\n", 2, "whole number");
	expect_error(f, "[build]\nstrategy = fast\n", 2, "one of auto,headers,full");
	expect_error(f, "[build]\ncache_dir = relative/dir\n", 2, "absolute path");
	expect_error(f, "[log]\nlevel = loud\n", 2, "one of err,warning,notice,info,debug");
	/* and nothing of a bad file is taken, not even its good lines */
	expect_error(f, "[build]\njobs = 3\nstrategy = fast\n", 3, "one of auto,headers,full");
	assert_string_equal(kforge_config_get(f->ctx, "build.jobs"), "0");
	assert_string_equal(origin_of(f->ctx, "build.jobs"), "default");
}

static void test_malformed_line(void **state)
{
	expect_error(*state, "[build]\njobs = 2\nthis is not ini\n", 3, "not a line of an INI file");
}

/* inih cuts a line at 198 characters without a word: kforge refuses it, naming the fix */
static void test_long_line_refused(void **state)
{
	struct fixture *f = *state;
	char *text = kf_strdup_printf("[sources]\nrewrite = https://a.example/ https://%0190d/\n", 0);
	expect_error(f, text, 2, "longer than the 198 the INI reader takes (fix: continue a long value on the next line");
	free(text);
	assert_string_equal(kforge_config_get(f->ctx, "sources.rewrite"), "");
	/* 198 characters are taken whole */
	text = kf_strdup_printf("[sources]\nrewrite = https://a.example/ https://%0160d/\n", 0);
	assert_int_equal(strlen(strchr(text, '\n') + 1), 199);
	unit_write(f->dir, "etc/kforge/kforge.conf", text);
	assert_int_equal(kforge_config_load(f->ctx, f->sys, f->usr), 0);
	assert_int_equal(strlen(kforge_config_get(f->ctx, "sources.rewrite")), 198 - strlen("rewrite = "));
	free(text);
}

/* each line of a list of pairs adds to it: repeated keys and indented continuation lines */
static void test_rewrite_lines_add(void **state)
{
	struct fixture *f = *state;
	unit_write(f->dir, "etc/kforge/kforge.conf",
		   "[sources]\nrewrite = https://a/ file:///a/\n  https://b/ file:///b/\nrewrite = https://c/ file:///c/\n"
		   "timeout = 5\n");
	assert_int_equal(kforge_config_load(f->ctx, f->sys, f->usr), 0);
	assert_string_equal(kforge_config_get(f->ctx, "sources.rewrite"),
			    "https://a/ file:///a/ https://b/ file:///b/ https://c/ file:///c/");
	/* each line is checked on its own: an odd one is named */
	expect_error(f, "[sources]\nrewrite = https://a/ file:///a/\n  https://b/\n", 3, "pairs");
}

static void test_bad_command_line(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(kforge_config_set(f->ctx, "build.jobs", "x", "command line: -j"), -EINVAL);
	assert_non_null(strstr(f->log.buf, "command line: -j: build.jobs must be a whole number"));
	assert_int_equal(kforge_config_set(f->ctx, "nope.key", "1", "command line"), -EINVAL);
	assert_string_equal(kforge_config_get(f->ctx, "build.jobs"), "0");
}

/* A configuration file that is not one: refused at once with the cause and the fix, not waited on. */
static void expect_not_read(struct fixture *f, const char *path, int err, const char *needle)
{
	f->log.len = 0;
	f->log.buf[0] = '\0';
	alarm(20); /* a regression that opens the FIFO blocks: the alarm ends it as a failure */
	assert_int_equal(kforge_config_load(f->ctx, f->sys, f->usr), err);
	alarm(0);
	char *want = kf_strdup_printf("%s%s", path, needle);
	if (!strstr(f->log.buf, want))
		print_error("missing in the log: %s\nlog:\n%s", want, f->log.buf);
	assert_non_null(strstr(f->log.buf, want));
	assert_non_null(strstr(f->log.buf, "fix: "));
	free(want);
}

static void test_fifo_refused(void **state)
{
	struct fixture *f = *state;
	free(unit_mkfifo(f->dir, "etc/kforge/kforge.conf"));
	expect_not_read(f, f->sys, -EINVAL, " is not a regular file");
	unlink(f->sys);
	/* the user's file too */
	free(unit_mkfifo(f->dir, "home/.config/kforge/kforge.conf"));
	expect_not_read(f, f->usr, -EINVAL, " is not a regular file");
}

static void test_folder_and_damage_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(kf_mkdir_p(f->sys), 0);
	expect_not_read(f, f->sys, -EINVAL, " is not a regular file");
	rmdir(f->sys);
	/* a crash can leave zeros in a file: not text, and not silently cut at the first one */
	FILE *fp = fopen(f->sys, "w");
	assert_non_null(fp);
	fwrite("[build]\njobs = 2\n\0\0\0\0", 1, 21, fp);
	fclose(fp);
	expect_not_read(f, f->sys, -EINVAL, " holds a NUL byte");
	assert_string_equal(kforge_config_get(f->ctx, "build.jobs"), "0");
	/* larger than any configuration file (sparse: nothing written) */
	assert_int_equal(truncate(f->sys, (off_t)KF_READ_MAX + 1), 0);
	expect_not_read(f, f->sys, -EINVAL, " is larger than 64 MiB");
}

static void test_missing_folder_on_the_way(void **state)
{
	struct fixture *f = *state;
	/* a file where the user's folder should be: as good as no user file */
	unit_write(f->dir, "home/.config/kforge", "not a folder");
	assert_int_equal(kforge_config_load(f->ctx, f->sys, f->usr), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_when_no_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_lines_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_command_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_and_damage_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_folder_on_the_way, setup, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
