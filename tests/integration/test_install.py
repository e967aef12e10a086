"""`pip install .` into a fresh venv, then gdb with its own embedded Python loads godbg
with nothing else installed by hand: both through the checkout's gdbinit.py and through
the copy the package carries (`godbg gdbinit`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = [pytest.mark.gdb, pytest.mark.slow]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    if shutil.which("gdb") is None:
        pytest.skip("gdb is not installed")
    root = tmp_path_factory.mktemp("install")
    # A copy of the checkout without its .venv, so nothing can come from there.
    src = root / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info",
                                                              ".pytest_cache", ".ruff_cache", ".hypothesis"))
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    p = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return src, env_dir


def _help_go(gdbinit: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["gdb", "-nx", "-batch", "-ex", f"source {gdbinit}", "-ex", "help go"],
                          capture_output=True, text=True, timeout=120, env=env)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "GODBG_SITE_PACKAGES")}
    env["PATH"] = "/usr/bin:/bin"
    env["HOME"] = extra.pop("HOME", env.get("HOME", "/root"))
    env.update(extra)
    return env


def test_installed_gdbinit(fresh_venv, tmp_path):
    _src, env_dir = fresh_venv
    out = subprocess.run([str(env_dir / "bin" / "godbg"), "gdbinit"], capture_output=True, text=True)
    gdbinit = out.stdout.strip()
    assert gdbinit.startswith(str(env_dir)), gdbinit
    p = _help_go(gdbinit, _clean_env(HOME=str(tmp_path)))
    assert "go goroutines" in p.stdout and "go map" in p.stdout, p.stdout + p.stderr


def test_checkout_gdbinit_with_the_venv_active(fresh_venv, tmp_path):
    src, env_dir = fresh_venv
    env = _clean_env(HOME=str(tmp_path), VIRTUAL_ENV=str(env_dir))
    env["PATH"] = f"{env_dir}/bin:/usr/bin:/bin"
    p = _help_go(str(src / "gdbinit.py"), env)
    assert "go goroutines" in p.stdout and "go report" in p.stdout, p.stdout + p.stderr
