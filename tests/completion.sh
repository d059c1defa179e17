#!/bin/sh
# completion.sh: the shell completions (TAP). The scripts that `make` generated with `kforge
# completion bash|zsh` are loaded into bash and zsh, and their completion functions run as the
# shell runs them on TAB (bash: COMP_WORDS/COMP_CWORD in, COMPREPLY out; zsh: words/CURRENT in,
# what reaches compadd out). Commands and options are checked against kforge --help, so that a
# command or option added to the tables and missing from the completion fails here; kernels,
# plugins, module names (modules.dep), recorded modules and job logs against the fixture root.
set -u
NAME=completion
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

bash_script=$builddir/data/completion/kforge
zsh_script=$builddir/data/completion/_kforge
# kforge itself is called by the scripts as the first word typed: the built binary here
root=$tmp/root
cp -a "$R/debian" "$root"
K=6.1.0-56-amd64

# bcomp WORDS...: what bash's completion offers for WORDS (the last the word being completed)
bcomp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kforge; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$bash_script" "$KFORGE" "$@" | sort
}
# zcomp WORDS...: what zsh's completion function hands to compadd (_files and compdef stubbed)
zcomp() {
	zsh -fc '
		compadd() { while [ "$1" != "--" ]; do shift; done; shift; printf "%s\n" "$@"; }
		_files() { echo ":files $*"; }
		compdef() { :; }
		. "$1"; shift
		words=("$@"); CURRENT=$#
		_kforge' _ "$zsh_script" "$KFORGE" "$@" | sort
}
has() { printf '%s\n' "$1" | grep -qx -- "$2"; }

# the commands and long options kforge --help documents
commands=$("$KFORGE" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}' | sort)
options=$("$KFORGE" --help | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u)

got=$(bcomp "")
missing=
for c in $commands; do has "$got" "$c" || missing="$missing $c"; done
check "bash: kforge <TAB> offers each of kforge --help's $(echo $commands | wc -w) commands" \
	sh -c '[ -z "$1" ] && [ "$2" -ge 12 ]' _ "$missing" "$(echo $commands | wc -w)"
got=$(bcomp --)
missing=
for opt in $options; do has "$got" "$opt" || missing="$missing $opt"; done
check "bash: kforge --<TAB> offers each of kforge --help's $(echo $options | wc -w) options" \
	sh -c '[ -z "$1" ] && [ "$2" -ge 25 ]' _ "$missing" "$(echo $options | wc -w)"
check "bash: kforge ins<TAB> is install" sh -c '[ "$1" = install ]' _ "$(bcomp ins)"
check "bash: kforge --str<TAB> is --strategy, --strategy <TAB> its three values" \
	sh -c '[ "$1" = --strategy ] && [ "$2" = "auto
full
headers" ]' _ "$(bcomp --str)" "$(bcomp --strategy '')"
# -k: the kernels of the root's /lib/modules, not the host's
kernels=$(ls "$root/usr/lib/modules" | sort)
check "bash: --root R -k <TAB> lists R's kernels ($(echo $kernels))" \
	sh -c '[ "$1" = "$2" ] && [ -n "$1" ]' _ "$(bcomp --root "$root" -k '')" "$kernels"
check "bash: --root R -k 6.1.0-56-r<TAB> is the rt kernel" sh -c '[ "$1" = 6.1.0-56-rt-amd64 ]' _ \
	"$(bcomp --root "$root" -k 6.1.0-56-r)"
# module names from the target's modules.dep, and folders
got=$(bcomp --root "$root" -k "$K" install b)
check "bash: install b<TAB> offers btrfs from $K's modules.dep" has "$got" btrfs
mkdir -p "$tmp/one/sub"
expect=$( (sed -n 's|^\([^:]*/\)\{0,1\}\([^/:]*\)\.ko[^:]*:.*|\2|p' "$root/usr/lib/modules/$K/modules.dep"; echo sub) | sort)
check "bash: install <TAB> offers exactly each module of the modules.dep and the folders here" sh -c '
	[ "$1" = "$2" ] && [ "$(printf "%s\n" "$2" | wc -l)" -ge 3 ] || { echo "got: $1"; echo "expected: $2"; false; }' _ \
	"$(cd "$tmp/one" && bcomp --root "$root" -k "$K" install '')" "$expect"
mkdir -p "$tmp/cwd/my-driver"
check "bash: install ./my<TAB> completes a folder" sh -c '[ "$1" = ./my-driver ]' _ \
	"$(cd "$tmp/cwd" && bcomp --root "$root" -k "$K" install ./my)"
check "bash: --plugin <TAB> lists the four plugins" sh -c '[ "$1" = "arch
debian
fedora
vanilla" ]' _ "$(bcomp --plugin '')"
check "bash: cache <TAB> offers list, prune, fetch; completion <TAB> bash, zsh" sh -c '
	[ "$1" = "fetch
list
prune" ] && [ "$2" = "bash
zsh" ]' _ "$(bcomp cache '')" "$(bcomp completion '')"
# the ways a command line says it: bash splits --opt=value at "=", options may be bundled or
# abbreviated, "--" ends them
check "bash: --root=R -k <TAB> (split by bash at =) lists R's kernels" sh -c '[ "$1" = "$2" ]' _ \
	"$(bcomp --root = "$root" -k '')" "$kernels"
check "bash: --root R --kernel=<TAB> offers =KVER for the word \"=\"; --kernel=6.1.0-56-r<TAB> the rt kernel" sh -c '
	printf "%s\n" "$1" | grep -qx "=6.1.0-56-amd64" && [ "$2" = 6.1.0-56-rt-amd64 ]' _ \
	"$(bcomp --root "$root" --kernel =)" "$(bcomp --root "$root" --kernel = 6.1.0-56-r)"
check "bash: -vk KVER (a bundle) and --ker KVER (an abbreviation) set the kernel of install b<TAB>" sh -c '
	printf "%s\n" "$1" | grep -qx btrfs && printf "%s\n" "$2" | grep -qx btrfs' _ \
	"$(bcomp --root "$root" -vk "$K" install b)" "$(bcomp --root "$root" --ker "$K" install b)"
check "bash: after --, a word starting with - is an argument, not an option to complete" sh -c '[ -z "$1" ]' _ \
	"$(bcomp --root "$root" -k "$K" uninstall -- --)"
many=$(i=0; while [ $i -lt 80 ]; do printf 'extra%s ' $i; i=$((i + 1)); done)
# shellcheck disable=SC2086
got=$(bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kforge; printf "%s\n" "${COMPREPLY[@]}"' \
	_ "$bash_script" "$KFORGE" --root "$root" -k "$K" install $many b | sort)
check "bash: a command line of 80 words (install with 80 folders) still completes its last word" has "$got" btrfs
# uninstall: the modules kforge recorded for the kernel, read without its lock
mkdir -p "$root/var/lib/kforge/records/$K"
echo "# a record" >"$root/var/lib/kforge/records/$K/kforge_pair.conf"
check "bash: uninstall <TAB> lists the modules recorded for the kernel" sh -c '[ "$1" = kforge_pair ]' _ \
	"$(bcomp --root "$root" -k "$K" uninstall '')"
# job logs of the root's log.dir
mkdir -p "$root/var/log/kforge"
echo "# kforge install hello for $K (root /)" >"$root/var/log/kforge/20261124-101010-install-hello-$K-1.log"
check "bash: log <TAB> lists the root's job logs" sh -c '[ "$1" = "$2" ]' _ \
	"$(bcomp --root "$root" log '')" "20261124-101010-install-hello-$K-1.log"

# zsh: the same answers through compadd
check "zsh: kforge ins<TAB> is install" sh -c '[ "$1" = install ]' _ "$(zcomp ins)"
got=$(zcomp "")
missing=
for c in $commands; do has "$got" "$c" || missing="$missing $c"; done
check "zsh: kforge <TAB> offers each command" sh -c '[ -z "$1" ]' _ "$missing"
check "zsh: --root R -k <TAB> lists R's kernels" sh -c '[ "$1" = "$2" ]' _ "$(zcomp --root "$root" -k '')" "$kernels"
check "zsh: install b<TAB> offers btrfs, and folders through _files -/" sh -c '
	printf "%s\n" "$1" | grep -qx btrfs && printf "%s\n" "$1" | grep -qx ":files -/"' _ \
	"$(zcomp --root "$root" -k "$K" install b)"
check "zsh: --source <TAB> completes files" sh -c '[ "$1" = ":files " ]' _ "$(zcomp --source '')"
check "zsh: --root R --kernel=6.1.0-56-r<TAB> (one word in zsh) is --kernel=6.1.0-56-rt-amd64" sh -c '
	[ "$1" = --kernel=6.1.0-56-rt-amd64 ]' _ "$(zcomp --root "$root" --kernel=6.1.0-56-r)"

# the scripts are kforge's answer: `make` installed what kforge completion prints
check "the installed scripts are what kforge completion bash|zsh prints" sh -c '
	"$1" completion bash | cmp -s - "$2" && "$1" completion zsh | cmp -s - "$3"' _ "$KFORGE" "$bash_script" "$zsh_script"
check "completion without a shell: exit 2, naming both; with two words: exit 2, saying it takes one" sh -c '
	"$1" completion >/dev/null 2>"$2"; [ $? -eq 2 ] && grep -q "completion bash" "$2" && grep -q "completion zsh" "$2" &&
	{ "$1" completion bash extra >/dev/null 2>"$2"; [ $? -eq 2 ]; } && grep -q "takes one word" "$2"' \
	_ "$KFORGE" "$tmp/err"
# made before the configuration is read: a broken kforge.conf does not break it
printf 'not ini\n' >"$tmp/broken.conf"
check "kforge completion bash ignores a broken kforge.conf (it reads none)" sh -c '
	KFORGE_SYSTEM_CONFIG="$2" "$1" completion bash | cmp -s - "$3"' _ "$KFORGE" "$tmp/broken.conf" "$bash_script"
tap_done
