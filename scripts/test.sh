#!/usr/bin/env bash
# godbg's test command: the README shows it and CI (.ci/run) runs it.
# Unit tests, then the integration matrix (every Go toolchain, kernel cores and
# gdb gcores), on all cores with pytest-xdist. Extra arguments go to pytest:
#   scripts/test.sh --quick                      oldest and newest toolchain only
#   scripts/test.sh --go-versions=1.27.3 -k map  one toolchain, some tests
#   scripts/test.sh --repeat 5                   the integration tests 5 times, each
#                                                round on fixtures built and crashed
#                                                anew (proves the suite does not flake)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
	echo "test: no .venv here: run scripts/setup.sh first" >&2
	exit 2
fi

repeat=0
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--repeat) repeat=${2:?--repeat needs a number}; shift 2 ;;
	--repeat=*) repeat=${1#--repeat=}; shift ;;
	*) args+=("$1"); shift ;;
	esac
done

if [ "$repeat" -eq 0 ]; then
	exec .venv/bin/python -m pytest -n auto --timeout=900 -q ${args[@]+"${args[@]}"}
fi

# --repeat N: every round gets an empty fixtures directory (toolchains and Go's
# build cache are kept: they do not decide what a core holds), so each round
# builds the programs, crashes them into new cores and runs the integration tests.
[ "${#args[@]}" -gt 0 ] || args=(tests/integration)
cache=${GODBG_CACHE:-$HOME/.cache/godbg}
failed=0
for round in $(seq 1 "$repeat"); do
	dir=$(mktemp -d "$cache/fixtures-repeat.XXXXXX")
	start=$SECONDS
	status=0
	GODBG_FIXTURES=$dir .venv/bin/python -m pytest -n auto --timeout=900 -q -p no:cacheprovider \
		"${args[@]}" || status=$?
	echo "test: round $round of $repeat: exit $status in $((SECONDS - start))s (fixtures $dir)"
	[ "$status" -eq 0 ] || failed=$((failed + 1))
	[ "$status" -ne 0 ] || rm -rf "$dir" # keep a failed round's cores to look at
done
echo "test: $repeat rounds, $failed failed"
[ "$failed" -eq 0 ]
