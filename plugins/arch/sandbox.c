/* sandbox.c: how a PKGBUILD is evaluated when there is no .SRCINFO: bash, unprivileged, no network. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"

/*
 * Written as ARCH_DRIVER_NAME beside the PKGBUILD (a plan shows one line, not the script).
 * Sources ./PKGBUILD (the folder is the sandbox's working directory) and prints, on the
 * descriptor the PKGBUILD cannot see, what it set, in .SRCINFO's "key = value" form, one array
 * entry per line: arch_srcinfo_parse() reads it like a .SRCINFO. What the PKGBUILD prints
 * itself goes to the log (stderr). A value with a newline cannot be written in that form: the
 * driver refuses it. $1 is CARCH (x86_64), which makepkg also sets before sourcing.
 *
 * The output is data of the recipe's, no more trusted than the recipe: a PKGBUILD that wants
 * to lie about its sources can do so in its own source=() line. What the sandbox protects is
 * the system: the recipe's code runs as the build user, with no network, the system read-only.
 */
const char arch_pkgbuild_driver[] =
	"CARCH=$1\n"
	"emit() {\n"
	"\tlocal key=$1 v\n"
	"\tshift\n"
	"\tfor v in \"$@\"; do\n"
	"\t\tcase $v in *$'\\n'*) echo \"kforge: $key has a value with a newline\" >&2; exit 3 ;; esac\n"
	"\t\tprintf '%s = %s\\n' \"$key\" \"$v\" >&3\n"
	"\tdone\n"
	"}\n"
	"exec 3>&1 1>&2\n"
	"source ./PKGBUILD 3>&- || { echo 'kforge: sourcing the PKGBUILD failed' >&2; exit 3; }\n"
	"emit pkgbase \"${pkgbase:-${pkgname[0]}}\"\n"
	"emit pkgver \"$pkgver\"\n"
	"emit pkgrel \"$pkgrel\"\n"
	"[ -z \"$epoch\" ] || emit epoch \"$epoch\"\n"
	"for _kf_k in source sha256sums b2sums; do\n"
	"\tdeclare -n _kf_a=$_kf_k\n"
	"\temit $_kf_k \"${_kf_a[@]}\"\n"
	"\tunset -n _kf_a\n"
	"\tdeclare -n _kf_a=${_kf_k}_$CARCH\n"
	"\temit ${_kf_k}_$CARCH \"${_kf_a[@]}\"\n"
	"\tunset -n _kf_a\n"
	"done\n"
	"emit validpgpkeys \"${validpgpkeys[@]}\"\n";

int arch_sandbox_argv(const struct arch_sandbox *sb, const char *argv[], size_t max, char *uidbuf, char *gidbuf,
		      size_t idsize)
{
	size_t n = 0;
#define ADD(s)                             \
	do {                               \
		if (n + 1 >= max)          \
			return -E2BIG;     \
		argv[n++] = (s);           \
	} while (0)
	snprintf(uidbuf, idsize, "--reuid=%u", sb->uid);
	snprintf(gidbuf, idsize, "--regid=%u", sb->gid);
	/* the global scope of a PKGBUILD takes milliseconds: one that hangs is killed */
	ADD("timeout");
	ADD("-s");
	ADD("KILL");
	ADD("60");
	if (!sb->bwrap) {
		/* no bubblewrap: a network namespace of its own, the build user's rights (no folder
		 * hidden: it reads what that user may read, writes where that user may write) */
		ADD("unshare");
		ADD("--net");
		if (!sb->as_root)
			ADD("--map-current-user");
		ADD("--");
	}
	if (sb->as_root) {
		/* bwrap's --uid needs a user namespace it would own as root: drop to the user first */
		ADD("setpriv");
		ADD(uidbuf);
		ADD(gidbuf);
		ADD("--clear-groups");
		ADD("--no-new-privs");
		ADD("--");
	}
	if (sb->bwrap) {
		ADD("bwrap");
		ADD("--unshare-all");
		ADD("--die-with-parent");
		ADD("--new-session");
		ADD("--ro-bind");
		ADD("/");
		ADD("/");
		ADD("--tmpfs");
		ADD("/tmp");
		ADD("--dev");
		ADD("/dev");
		ADD("--proc");
		ADD("/proc");
		ADD("--ro-bind");
		ADD(sb->dir);
		ADD("/tmp/pkgbuild"); /* in the sandbox's own /tmp: / is read-only, no folder can be made there */
		ADD("--chdir");
		ADD("/tmp/pkgbuild");
		ADD("--clearenv");
		ADD("--setenv");
		ADD("PATH");
		ADD("/usr/bin:/bin");
		ADD("--setenv");
		ADD("HOME");
		ADD("/tmp");
		ADD("--setenv");
		ADD("LC_ALL");
		ADD("C");
		ADD("--");
	} else {
		ADD("env");
		ADD("-i");
		ADD("PATH=/usr/bin:/bin");
		ADD("HOME=/tmp");
		ADD("LC_ALL=C");
	}
	ADD("bash");
	ADD("--noprofile");
	ADD("--norc");
	ADD("./" ARCH_DRIVER_NAME);
	ADD(sb->carch);
	argv[n] = NULL;
#undef ADD
	return 0;
}
