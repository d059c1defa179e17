/*
 * crashprobe.c: a plugin whose probe does not answer: it dies of SIGSEGV, or with
 * CRASHPROBE=hang it never returns, with CRASHPROBE=exit it calls exit(3), with
 * CRASHPROBE=closehang it closes every descriptor and never returns. kforge skips it, by name.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kforge/plugin.h>

/* A real fault even in the sanitizer build: UBSan's null check would end the child with an
 * exit status of its own before the load faults. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 8
#define NO_NULL_CHECK
#else
#define NO_NULL_CHECK __attribute__((no_sanitize("null")))
#endif
static int NO_NULL_CHECK crashprobe_probe(const struct kforge_probe_info *info)
{
	const char *mode = getenv("CRASHPROBE");
	(void)info;
	if (mode && strcmp(mode, "hang") == 0)
		for (;;)
			pause();
	if (mode && strcmp(mode, "exit") == 0)
		exit(3);
	if (mode && strcmp(mode, "closehang") == 0) {
		for (int fd = 0; fd < 1024; fd++)
			close(fd);
		for (;;)
			pause();
	}
	/* through a volatile pointer, so that the compiler keeps the fault */
	volatile int *nowhere = NULL;
	return *nowhere;
}

KFORGE_PLUGIN_DEFINE(.name = "crashprobe", .description = "loader test: its probe crashes",
		     .probe = crashprobe_probe);
