#!/usr/bin/env bash
# godbg's main job on a bundled example: build examples/crashy/, let it crash into
# a core file, and have godbg explain the core:
#
#   godbg core BIN CORE report
#
# Needs Go (the newest toolchain scripts/setup.sh installed, else `go` on PATH)
# and Python 3.10+; makes the project venv .venv if it is not there yet.
# The core lands in $GODBG_CACHE/demo (default ~/.cache/godbg/demo).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${GODBG_CACHE:-$HOME/.cache/godbg}
PY=${PYTHON:-python3}
OUT="$CACHE/demo"

say() { printf 'demo: %s\n' "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# godbg itself, from the project venv
VENV="$REPO/.venv"
if ! "$VENV/bin/python" -c 'import godbg' 2>/dev/null; then
	say "making the project venv $VENV (pip install -e .)"
	"$VENV/bin/python" -c '' 2>/dev/null || "$PY" -m venv "$VENV" ||
		die "could not make a venv with $PY (on Debian: apt-get install python3-venv)"
	"$VENV/bin/pip" install -q --disable-pip-version-check -e "$REPO"
fi
godbg() { "$VENV/bin/python" -m godbg "$@"; }

# Go: the newest toolchain of the test matrix if it is installed, else any go
GO=
for go in $(printf '%s\n' "$CACHE"/go/*/bin/go | sort -Vr); do
	if [ -x "$go" ]; then GO=$go; break; fi
done
[ -n "$GO" ] || GO=$(command -v go) || die "no Go toolchain: install Go or run scripts/setup.sh"

rm -rf "$OUT"
mkdir -p "$OUT"
BIN="$OUT/crashy"
say "building examples/crashy with $("$GO" env GOVERSION)"
(cd "$REPO/examples/crashy" &&
	GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$BIN" .)

# Crash it. GOTRACEBACK=crash makes the Go runtime end with abort(), so the
# kernel dumps a core; where the kernel puts cores elsewhere (a core_pattern
# with a path or a pipe), gdb's gcore takes it instead (tests/integration/gdb_gcore.py).
say "running it until it crashes (GOTRACEBACK=crash)"
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo core)
[ "${GODBG_DEMO_CORE:-}" != gcore ] || pattern="|gdb" # GODBG_DEMO_CORE=gcore: always gdb's gcore
case $pattern in
"|"* | */*)
	command -v gdb >/dev/null ||
		die "kernel cores go to '$pattern' and gdb is missing: install gdb or run scripts/setup.sh"
	GOTRACEBACK=crash GODBG_GCORE_DIR="$OUT" gdb -nx -q -batch -iex "set auto-load off" \
		-x "$REPO/tests/integration/gdb_gcore.py" "$BIN" >"$OUT/gdb.log" 2>&1 ||
		die "gdb could not dump a core (see $OUT/gdb.log)"
	fallocate --dig-holes "$OUT/core" 2>/dev/null || true # gdb writes GiBs of zeros
	;;
*)
	(cd "$OUT" && ulimit -c unlimited && GOTRACEBACK=crash "$BIN" >stdout.txt 2>stderr.txt) 2>/dev/null || true
	prefix=${pattern%%%*}
	for f in "$OUT/${prefix:-core}"*; do
		[ -f "$f" ] && [ "$f" != "$OUT/core" ] && mv "$f" "$OUT/core"
	done
	;;
esac
CORE="$OUT/core"
[ -f "$CORE" ] || die "the program left no core in $OUT (ulimit -c? core_pattern '$pattern')"

say "Go's own last words (the first lines of $OUT/stderr.txt):"
sed -n '1,/^goroutine /p' "$OUT/stderr.txt" | sed '$d' >&2
say "godbg core $BIN $CORE report"
echo

godbg core "$BIN" "$CORE" report
