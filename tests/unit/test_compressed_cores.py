"""Compressed cores on synthetic cores: each format recognised by its magic bytes (never
its name) and read exactly like the plain core; a decompressed copy made once per file
identity; truncated, corrupt and unsupported files end in one clear error."""

from __future__ import annotations

import gzip
import lzma
import os

import pytest

from godbg.backends.core import compressed
from godbg.backends.core.corefile import CoreFile
from godbg.errors import TargetError
from tests.unit.corebuilder import CoreSpec, build_core

lz4_frame = pytest.importorskip("lz4.frame")
pyzstd = pytest.importorskip("pyzstd")

# Small output chunks (patched below) so a small core spans several, with zero holes.
OUTPUT_CHUNK = 256 << 10
ZEROS = 4 * OUTPUT_CHUNK


def sample_core() -> bytes:
    spec = CoreSpec(
        threads=[(101, {"rip": 0x401000, "rsp": 0x7000}, 6)],
        segments=[(0x10000, bytes(range(256)) * 16, 0), (0x100000, b"\0" * ZEROS + b"tail", 0)],
        siginfo=(6, -6, 101),
    )
    return build_core(spec)


# With checksums, as the zstd and lz4 tools write them by default: without one a
# corrupt literal decodes to wrong bytes that no decoder can notice.
COMPRESSORS = {
    "zstd": lambda b: pyzstd.compress(b, {pyzstd.CParameter.checksumFlag: 1}),
    "xz": lambda b: lzma.compress(b, format=lzma.FORMAT_XZ),
    "lzma": lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE),
    "lz4": lambda b: lz4_frame.compress(b, content_checksum=True),
    "gzip": lambda b: gzip.compress(b),
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GODBG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(compressed, "OUTPUT_CHUNK", OUTPUT_CHUNK)


def write(tmp_path, blob: bytes, name: str) -> str:
    p = tmp_path / name
    p.write_bytes(blob)
    return str(p)


@pytest.mark.parametrize("fmt", sorted(COMPRESSORS))
def test_reads_like_the_plain_core(tmp_path, fmt):
    plain = sample_core()
    # a misleading name: the magic bytes decide
    core = CoreFile(write(tmp_path, COMPRESSORS[fmt](plain), "core.txt"))
    assert core.data[:] == plain
    assert [t.tid for t in core.threads] == [101]
    assert core.read_own(0x10010, 4) == bytes([16, 17, 18, 19])
    assert core.read_own(0x100000 + ZEROS, 4) == b"tail"


def test_copy_is_sparse_and_reused(tmp_path):
    path = write(tmp_path, pyzstd.compress(sample_core()), "core.zst")
    CoreFile(path).close()
    copy = compressed.copy_path(path, os.stat(path))
    st = os.stat(copy)
    assert st.st_blocks * 512 < ZEROS // 2  # the zeros are holes
    before = st.st_mtime_ns
    os.utime(copy, ns=(before - 10**9, before - 10**9))
    CoreFile(path).close()  # reused, not rewritten: same inode
    assert os.stat(copy).st_ino == st.st_ino


def test_a_new_file_at_the_same_path_gets_a_new_copy(tmp_path):
    path = write(tmp_path, pyzstd.compress(sample_core()), "core.zst")
    first = compressed.copy_path(path, os.stat(path))
    CoreFile(path).close()
    os.unlink(path)
    write(tmp_path, lzma.compress(sample_core()), "core.zst")
    assert compressed.copy_path(path, os.stat(path)) != first
    assert CoreFile(path).read_own(0x10010, 1) == bytes([16])


def test_concatenated_frames(tmp_path):
    plain = sample_core()
    half = len(plain) // 2
    core = CoreFile(write(tmp_path, pyzstd.compress(plain[:half]) + pyzstd.compress(plain[half:]), "c"))
    assert core.data[:] == plain


@pytest.mark.parametrize("fmt", sorted(COMPRESSORS))
def test_truncated(tmp_path, fmt):
    blob = COMPRESSORS[fmt](sample_core())
    path = write(tmp_path, blob[: len(blob) * 2 // 3], "core")
    with pytest.raises(TargetError, match="truncated"):
        CoreFile(path)
    assert not [n for n in os.listdir(compressed.cache_root()) if ".tmp-" in n]


@pytest.mark.parametrize("fmt", sorted(COMPRESSORS))
def test_corrupt(tmp_path, fmt):
    blob = bytearray(COMPRESSORS[fmt](sample_core()))
    mid = len(blob) // 2
    blob[mid : mid + 16] = b"\xa5" * 16
    with pytest.raises(TargetError, match="corrupt|truncated") as e:
        CoreFile(write(tmp_path, bytes(blob), "core"))
    assert "\n" not in str(e.value)


def test_missing_module_names_the_package(tmp_path, monkeypatch):
    def missing() -> compressed.Decompressor:
        raise ImportError("No module named 'pyzstd'")

    monkeypatch.setattr(compressed, "ZSTD", compressed.Codec("zstd", "pyzstd", missing))
    with pytest.raises(TargetError, match="pip install pyzstd"):
        CoreFile(write(tmp_path, pyzstd.compress(sample_core()), "core"))


def test_plain_and_unknown_files_are_not_decompressed(tmp_path):
    assert compressed.codec_of(b"\x7fELF\x02\x01\x01\x00") is None
    with pytest.raises(TargetError, match="not an ELF core"):
        CoreFile(write(tmp_path, b"PK\x03\x04" + bytes(100), "core.zip"))
    assert not os.path.exists(compressed.cache_root())


def test_eviction_keeps_the_most_recent(tmp_path, monkeypatch):
    monkeypatch.setattr(compressed, "MAX_CACHED_COPIES", 2)
    paths = [write(tmp_path, gzip.compress(sample_core()) + b"", f"c{i}") for i in range(3)]
    for p in paths:
        CoreFile(p).close()
    left = os.listdir(compressed.cache_root())
    assert len(left) == 2
    assert os.path.basename(compressed.copy_path(paths[-1], os.stat(paths[-1]))) in left
