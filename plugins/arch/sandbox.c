/*
 * sandbox.c: how a PKGBUILD is evaluated when there is no .SRCINFO: this driver, run by bash through
 * kforge_run_sandboxed (the SDK's: the build user, no network, bubblewrap where installed).
 */
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
