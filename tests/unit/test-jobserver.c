/* test-jobserver.c: the make jobserver kforge runs its makes under, and what MAKEFLAGS and
 * DISTCC_HOSTS say of -j. */
#include <fcntl.h>

#include "unit.h"

static void test_makeflags_jobs(void **state)
{
	(void)state;
	assert_int_equal(kf_makeflags_jobs("-j8"), 8);
	assert_int_equal(kf_makeflags_jobs(" -j3 --jobserver-auth=3,4"), 3);
	assert_int_equal(kf_makeflags_jobs("rR -j 5"), 5);
	/* -j alone is no limit: no number; nothing, or something else, neither */
	assert_int_equal(kf_makeflags_jobs("-j --jobserver-auth=3,4"), 0);
	assert_int_equal(kf_makeflags_jobs(NULL), 0);
	assert_int_equal(kf_makeflags_jobs("-k -jx"), 0);
}

static void test_distcc_slots(void **state)
{
	(void)state;
	assert_int_equal(kf_distcc_slots("10.0.0.2/8 10.0.0.3/8"), 16);
	/* no /N: 4 for a host, 2 for localhost, as distcc counts */
	assert_int_equal(kf_distcc_slots("localhost 10.0.0.2"), 6);
	assert_int_equal(kf_distcc_slots("127.0.0.1:3632/2"), 2);
	/* options hold no host */
	assert_int_equal(kf_distcc_slots("--randomize a/3"), 3);
	assert_int_equal(kf_distcc_slots(""), 0);
}

/* A jobserver of N slots has N-1 tokens (the first slot is the caller's), each taken once, given back. */
static void test_own_jobserver(void **state)
{
	(void)state;
	struct kf_jobserver *js = NULL;
	assert_int_equal(kf_jobserver_create(3, &js), 0);
	char a, b, c;
	assert_int_equal(kf_jobserver_try_take(js, &a), 0);
	assert_int_equal(kf_jobserver_try_take(js, &b), 0);
	assert_int_equal(kf_jobserver_try_take(js, &c), -EAGAIN);
	kf_jobserver_give(js, a);
	assert_int_equal(kf_jobserver_try_take(js, &c), 0);
	assert_int_equal(c, a);
	/* the fds make is told of are the pipe's, inherited across exec */
	char *flags = kf_jobserver_makeflags(js);
	char want[64];
	snprintf(want, sizeof(want), "MAKEFLAGS=-j3 --jobserver-auth=%d,%d", js->rfd, js->wfd);
	assert_string_equal(flags, want);
	assert_int_equal(fcntl(js->rfd, F_GETFD) & FD_CLOEXEC, 0);
	/* a second kforge under it (as make would run it): the same pipe, the -j from MAKEFLAGS */
	struct kf_jobserver *in = NULL;
	assert_int_equal(kf_jobserver_inherit(flags + strlen("MAKEFLAGS="), &in), 0);
	assert_true(in->inherited);
	assert_int_equal(in->tokens, 3);
	kf_jobserver_give(in, b);
	assert_int_equal(kf_jobserver_try_take(js, &b), 0);
	kf_jobserver_free(in);
	free(flags);
	kf_jobserver_free(js);
}

/* MAKEFLAGS naming fds that are no pipe (make did not pass them on): no jobserver */
static void test_inherit_refuses(void **state)
{
	(void)state;
	struct kf_jobserver *js = NULL;
	int fd = open("/dev/null", O_RDONLY);
	char flags[64];
	snprintf(flags, sizeof(flags), "-j2 --jobserver-auth=%d,%d", fd, fd);
	assert_int_equal(kf_jobserver_inherit(flags, &js), -ENOENT);
	close(fd);
	assert_int_equal(kf_jobserver_inherit("-j2 --jobserver-auth=250,251", &js), -ENOENT);
	assert_int_equal(kf_jobserver_inherit("-j2", &js), -ENOENT);
	assert_null(js);
	/* make 4.4's named fifo */
	char *dir = unit_mkdtemp();
	char *fifo = kforge_path_join(dir, "fifo", NULL);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(flags, sizeof(flags), "-j4 --jobserver-auth=fifo:%s", fifo);
	assert_int_equal(kf_jobserver_inherit(flags, &js), 0);
	assert_int_equal(js->rfd, js->wfd);
	assert_int_equal(js->tokens, 4);
	kf_jobserver_give(js, '+');
	char t;
	assert_int_equal(kf_jobserver_try_take(js, &t), 0);
	assert_int_equal(t, '+');
	kf_jobserver_free(js);
	unit_rm_rf(dir);
	free(fifo);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_makeflags_jobs),
		cmocka_unit_test(test_distcc_slots),
		cmocka_unit_test(test_own_jobserver),
		cmocka_unit_test(test_inherit_refuses),
	};
	return cmocka_run_group_tests_name("jobserver", tests, NULL, NULL);
}
