"""Build info parsing: versions, experiments, settings."""

from __future__ import annotations

import pytest

from godbg.errors import TargetError
from godbg.program.buildinfo import MAGIC, BuildInfo


def blob(version: str, modinfo: str) -> bytes:
    def vs(s: str) -> bytes:
        b = s.encode()
        return bytes([len(b)]) + b if len(b) < 128 else bytes([len(b) & 0x7F | 0x80, len(b) >> 7]) + b

    head = MAGIC + bytes([8, 2]) + b"\0" * 16
    return head + vs(version) + vs(modinfo)


SENTINEL = "0" * 16


@pytest.mark.parametrize(
    "version,release,experiments",
    [
        ("go1.24.11 X:noswissmap", "go1.24.11", ["noswissmap"]),
        ("go1.26.0-X:foo,bar", "go1.26.0", ["foo", "bar"]),
        ("go1.22.10", "go1.22.10", []),
    ],
)
def test_versions(version, release, experiments):
    bi = BuildInfo.parse(blob(version, ""))
    assert bi.goexperiments == experiments
    assert bi.go_version == release


def test_settings_win_over_suffix():
    mod = SENTINEL + "path\texample.com/x\nbuild\tGOEXPERIMENT=noswissmap\nbuild\tGOARCH=amd64\n" + SENTINEL
    bi = BuildInfo.parse(blob("go1.24.11 X:noswissmap", mod))
    assert bi.main_path == "example.com/x"
    assert bi.settings["GOARCH"] == "amd64"
    assert bi.goexperiments == ["noswissmap"]
    assert bi.version_tuple == (1, 24, 11)


def test_not_buildinfo():
    with pytest.raises(TargetError):
        BuildInfo.parse(b"nothing here" * 4)
