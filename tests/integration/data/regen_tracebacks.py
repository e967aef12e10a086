"""Re-make the saved traceback samples from tbgen/ with the matrix's toolchains:

    python tests/integration/data/regen_tracebacks.py

The samples are real Go crash output, kept so that the parser's unit tests need no
Go; test_traceback.py also checks the parser against fresh crashes of every build."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.integration import matrix  # noqa: E402

# (mode, Go version, extra environment)
SAMPLES = [
    ("plain", "1.22.10", {}),
    ("plain", "1.27.3", {"GODEBUG": "tracebacklabels=1"}),
    ("plain", "1.26.6", {"GODEBUG": "tracebackancestors=2"}),
    ("repanic", "1.22.10", {}),
    ("repanic", "1.25.5", {}),
    ("recovered", "1.27.3", {}),
    ("nested", "1.23.9", {}),
    ("multiline", "1.22.10", {}),
    ("multiline", "1.27.3", {}),
    ("nil", "1.27.3", {}),
    ("overflow", "1.24.11", {}),
    ("deadlock", "1.27.3", {}),
    ("quit", "1.27.3", {}),
]


def sample_name(mode: str, go: str, env: dict[str, str]) -> str:
    suffix = "".join("-" + v.split("=")[0] for v in env.values())
    return f"{mode}-go{go}{suffix}.txt"


def main() -> None:
    out = HERE / "tracebacks"
    out.mkdir(exist_ok=True)
    for mode, go, env in SAMPLES:
        fx = matrix.crash(HERE / "tbgen", matrix.Build(go), args=[mode], env=env, core_kind="none")
        (out / sample_name(mode, go, env)).write_text(fx.stderr)
        print(out / sample_name(mode, go, env))


if __name__ == "__main__":
    main()
