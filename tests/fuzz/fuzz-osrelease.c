/*
 * fuzz-osrelease.c: kf_os_release_parse(), which reads the target's /etc/os-release (shell-like
 * KEY=value lines, quotes, backslash escapes) before any plugin is chosen. Input: the file's text.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_string(data, size);
	struct kf_os_release os;
	if (kf_os_release_parse(text, &os) == 0) {
		/* every field is a string, "" when absent: plugins' probes compare them without checks */
		fuzz_assert(os.pub.id && os.pub.id_like && os.pub.version_id && os.pub.name);
		/* what the plugins' probes ask */
		static const char *const words[] = { "debian", "ubuntu", "arch", "fedora", "rhel", "" };
		for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
			kforge_os_is(&os.pub, words[i]);
			kforge_os_is_like(&os.pub, words[i]);
		}
		kforge_os_is_like(&os.pub, os.pub.id);
	}
	kf_os_release_free(&os);
	return 0;
}
