#!/usr/bin/env bash
# godbg's test command: the README shows it and CI (.ci/run) runs it.
# Unit tests, then the integration matrix (every Go toolchain, kernel cores and
# gdb gcores), on all cores with pytest-xdist. Extra arguments go to pytest:
#   scripts/test.sh --quick                      oldest and newest toolchain only
#   scripts/test.sh --go-versions=1.27.3 -k map  one toolchain, some tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
	echo "test: no .venv here: run scripts/setup.sh first" >&2
	exit 2
fi
exec .venv/bin/python -m pytest -n auto --timeout=900 -q "$@"
