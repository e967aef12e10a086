"""The repository's own rules: docs/commands is what the argparse parsers say, and the
code is ruff clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from godbg.commands.docs import generate

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_command_docs_are_current():
    out_dir = os.path.join(REPO, "docs", "commands")
    stale = []
    for path, content in generate(out_dir).items():
        try:
            with open(path) as f:
                on_disk = f.read()
        except FileNotFoundError:
            on_disk = None
        if on_disk != content:
            stale.append(os.path.relpath(path, REPO))
    assert not stale, f"regenerate with `python -m godbg.commands.docs`: {stale}"


def test_every_command_has_a_docs_page():
    names = sorted(os.path.basename(p)[:-3] for p in generate("docs/commands") if not p.endswith("README.md"))
    assert names == sorted(["info", "goroutines", "bt", "ms", "headroom", "map", "print", "panic", "report", "check",
                            "chan", "waits", "leaks"])


def test_ruff_clean():
    ruff = shutil.which("ruff") or os.path.join(os.path.dirname(sys.executable), "ruff")
    if not os.path.exists(ruff):
        if os.environ.get("CI"):
            pytest.fail("ruff is not installed (it is in the [test] extras)")
        pytest.skip("ruff is not installed")
    p = subprocess.run([ruff, "check", "godbg", "tests", "scripts", "benchmarks", "gdbinit.py"], cwd=REPO,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_strict_clean():
    """The package is typed (py.typed): `mypy --strict godbg` must stay clean."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("mypy is not installed (it is in the [test] extras)")
        pytest.skip("mypy is not installed")
    p = subprocess.run([sys.executable, "-m", "mypy", "--strict", "godbg"], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_package_is_marked_typed():
    assert os.path.exists(os.path.join(REPO, "godbg", "py.typed"))


# ARCHITECTURE.md's layers: a package may not import the ones listed for it.
FORBIDDEN_IMPORTS = {
    # The typed answers are pure data: everything else may use them, they use nothing.
    "godbg/results": ("godbg.program", "godbg.types", "godbg.runtime", "godbg.values", "godbg.answers",
                      "godbg.check", "godbg.commands", "godbg.render", "godbg.backends", "godbg.api", "gdb"),
    "godbg/program": ("godbg.runtime", "godbg.answers", "godbg.commands", "godbg.render", "godbg.backends", "gdb"),
    "godbg/render": ("godbg.runtime", "godbg.answers", "godbg.commands", "godbg.backends", "gdb"),
    "godbg/runtime": ("godbg.answers", "godbg.commands", "godbg.render", "godbg.backends", "gdb"),
    "godbg/values": ("godbg.answers", "godbg.commands", "godbg.render", "godbg.backends", "gdb"),
    "godbg/answers": ("godbg.commands", "godbg.render", "godbg.backends", "godbg.api", "gdb"),
    "godbg/commands": ("godbg.backends", "gdb"),
}


def _imports(path: str) -> set[str]:
    import ast

    with open(path) as f:
        tree = ast.parse(f.read())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_layers_import_only_downwards():
    wrong = []
    for folder, banned in FORBIDDEN_IMPORTS.items():
        for root, _dirs, files in os.walk(os.path.join(REPO, folder)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    for module in _imports(path):
                        if module.split(".")[0] == "gdb" and "gdb" in banned or module.startswith(
                                tuple(b + "." for b in banned if b != "gdb")) or module in banned:
                            wrong.append(f"{os.path.relpath(path, REPO)} imports {module}")
    assert not wrong, wrong
