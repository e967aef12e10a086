"""Compressed cores (systemd-coredump keeps zstd, apport and archives xz/lzma, lz4, gzip):
recognised by their magic bytes, never by their names, and decompressed once into a
sparse copy in the cache, keyed by the compressed file's identity, that the core reader
maps like any core.

Why a copy: the engine reads a core at random (a goroutine's stack here, a map bucket
there), and none of these formats seeks without an index that systemd-coredump and
apport do not write. The copy is sparse (runs of zero bytes, most of a Go core, are
holes), so its disk cost is the core's non-zero bytes; the next command on the same
file reuses it.

zstd comes from the standard library (`compression.zstd`, Python 3.14) or `pyzstd`
(the same API: `decompress(data, max_length)`, `needs_input`, `eof`, which bounds the
memory a highly compressed run of zeros can take); lz4 from `lz4`; xz/lzma and gzip
from the standard library."""

from __future__ import annotations

import errno
import hashlib
import importlib
import lzma
import os
import zlib
from dataclasses import dataclass
from typing import IO, Callable, Optional, Protocol

from godbg.errors import TargetError

# Magic numbers at offset 0 (the formats' own specifications).
ELF_MAGIC = b"\x7fELF"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # RFC 8878, 3.1.1
XZ_MAGIC = b"\xfd7zXZ\x00"  # xz file format 1.0.4, 2.1.1.1
LZ4_MAGIC = b"\x04\x22\x4d\x18"  # lz4 frame format, 0x184D2204 little-endian
GZIP_MAGIC = b"\x1f\x8b"  # RFC 1952
# The legacy .lzma ("lzma_alone") header has no magic: its first byte is the lc/lp/pb
# properties, 0x5d for every preset of xz and lzma-utils, then a little-endian
# dictionary size whose top byte is 0 for any size below 16 MiB.
LZMA_ALONE_PROPS = b"\x5d\x00\x00"
MAGIC_BYTES = 8

INPUT_CHUNK = 1 << 20  # compressed bytes read at a time
OUTPUT_CHUNK = 8 << 20  # most decompressed bytes held in memory at once
HOLE_BLOCK = 64 << 10  # all-zero blocks this large become holes in the copy
_ZERO_BLOCK = bytes(HOLE_BLOCK)
CACHE_SUBDIR = "cores"
#: Decompressed copies kept; the least recently used beyond this are deleted.
MAX_CACHED_COPIES = 8


class Decompressor(Protocol):
    """What lzma.LZMADecompressor, pyzstd.ZstdDecompressor and lz4's frame
    decompressor have in common (zlib's is adapted to it)."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


@dataclass(frozen=True)
class Codec:
    name: str  # what the user knows the format as
    package: str  # what to install when the module is missing ("" for the standard library)
    make: Callable[[], Decompressor]


class _GzipDecompressor:
    """zlib's decompressobj with the bz2/lzma interface."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._pending = b""

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def needs_input(self) -> bool:
        return not self._pending

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._d.decompress(self._pending + data, max(max_length, 0))
        self._pending = self._d.unconsumed_tail
        return out


def _zstd() -> Decompressor:
    try:
        module = importlib.import_module("compression.zstd")  # Python 3.14
    except ImportError:
        module = importlib.import_module("pyzstd")
    d: Decompressor = module.ZstdDecompressor()
    return d


def _lz4() -> Decompressor:
    d: Decompressor = importlib.import_module("lz4.frame").LZ4FrameDecompressor()
    return d


def _xz() -> Decompressor:
    return lzma.LZMADecompressor(format=lzma.FORMAT_AUTO)


ZSTD = Codec("zstd", "pyzstd", _zstd)
LZ4 = Codec("lz4", "lz4", _lz4)
XZ = Codec("xz/lzma", "", _xz)
GZIP = Codec("gzip", "", _GzipDecompressor)


def codec_of(head: bytes) -> Optional[Codec]:
    """The compression a file starting with ``head`` uses, or None (plain or unknown)."""
    for magic, codec in ((ZSTD_MAGIC, ZSTD), (XZ_MAGIC, XZ), (LZ4_MAGIC, LZ4), (GZIP_MAGIC, GZIP),
                         (LZMA_ALONE_PROPS, XZ)):
        if head.startswith(magic):
            return codec
    return None


def open_core_file(path: str) -> IO[bytes]:
    """The core at ``path`` opened for reading: the file itself, or for a compressed core
    its decompressed copy in the cache (made on first use). Raises TargetError."""
    try:
        f = open(path, "rb")
        head = f.read(MAGIC_BYTES)
    except OSError as e:
        raise TargetError(f"cannot open core {path}: {e.strerror}") from None
    codec = codec_of(head)
    f.seek(0)
    if codec is None or head.startswith(ELF_MAGIC):
        return f
    with f:
        return _cached_copy(path, f, codec)


def cache_root() -> str:
    base = os.environ.get("GODBG_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "godbg")
    return os.path.join(base, CACHE_SUBDIR)


def copy_path(path: str, st: os.stat_result) -> str:
    """Where the decompressed copy of the file with this identity lives: a new file at the
    same path (another inode, size or mtime) gets a new copy."""
    identity = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    return os.path.join(cache_root(), f"{digest}.core")


def _cached_copy(path: str, src: IO[bytes], codec: Codec) -> IO[bytes]:
    make = _decompressor_factory(codec)
    st = os.fstat(src.fileno())
    target = copy_path(path, st)
    try:
        copy = open(target, "rb")
        os.utime(target)  # recently used: kept by the eviction below
        return copy
    except FileNotFoundError:
        pass
    except OSError as e:
        raise TargetError(f"cannot open the decompressed copy {target}: {e.strerror}") from None
    root = os.path.dirname(target)
    tmp = f"{target}.tmp-{os.getpid()}"
    try:
        os.makedirs(root, exist_ok=True)
        with open(tmp, "wb") as out:
            _decompress(src, out, make, path, codec)
        os.replace(tmp, target)
        # Opened before eviction runs, so no other process can delete it under us.
        copy = open(target, "rb")
    except OSError as e:
        _unlink(tmp)
        why = "no space left" if e.errno == errno.ENOSPC else e.strerror
        raise TargetError(f"cannot decompress {path} into {root}: {why} "
                          f"(set GODBG_CACHE to a roomier directory)") from None
    except BaseException:
        _unlink(tmp)
        raise
    _evict(root, keep=target)
    return copy


def _decompressor_factory(codec: Codec) -> Callable[[], Decompressor]:
    try:
        codec.make()
    except ImportError:
        raise TargetError(f"the core is {codec.name}-compressed and Python module {codec.package!r} "
                          f"is missing: pip install {codec.package}") from None
    return codec.make


def _decompress(src: IO[bytes], out: IO[bytes], make: Callable[[], Decompressor], path: str,
                codec: Codec) -> None:
    """Stream ``src`` through its concatenated frames/streams into ``out``, leaving holes
    for zero blocks and never holding more than OUTPUT_CHUNK of output at once."""
    d = make()
    fresh = True  # nothing given to d yet: the input may end here
    data = b""
    size = 0
    while True:
        if d.needs_input and not data:
            data = src.read(INPUT_CHUNK)
            if not data:
                if fresh:
                    break
                raise TargetError(f"{path} is a truncated {codec.name}-compressed core "
                                  f"(it ends after {size} decompressed bytes)")
        try:
            chunk = d.decompress(data, OUTPUT_CHUNK)
        except Exception as e:  # LZMAError, zlib.error, pyzstd.ZstdError, lz4's RuntimeError
            raise TargetError(f"{path} is a corrupt {codec.name}-compressed core: {e}") from None
        data = b""
        fresh = False
        size += _write_sparse(out, chunk)
        if d.eof:  # another frame or stream may follow
            data = d.unused_data
            d = make()
            fresh = True
    out.truncate(size)


def _write_sparse(out: IO[bytes], chunk: bytes) -> int:
    """Write ``chunk``, seeking over all-zero HOLE_BLOCKs (holes cost no disk)."""
    view = memoryview(chunk)
    start = 0  # of the data not yet written
    for i in range(0, len(chunk) - HOLE_BLOCK + 1, HOLE_BLOCK):
        # bytes == bytes is a memcmp; comparing memoryviews goes item by item
        if chunk[i : i + HOLE_BLOCK] == _ZERO_BLOCK:
            out.write(view[start:i])
            out.seek(HOLE_BLOCK, os.SEEK_CUR)
            start = i + HOLE_BLOCK
    out.write(view[start:])
    return len(chunk)


def _evict(root: str, keep: str) -> None:
    """Delete the least recently used copies beyond MAX_CACHED_COPIES (best effort:
    a copy another process has open stays readable until it closes it)."""
    try:
        names = [os.path.join(root, n) for n in os.listdir(root) if n.endswith(".core")]
        by_use = sorted(names, key=lambda p: os.stat(p).st_mtime, reverse=True)
    except OSError:
        return
    for p in by_use[MAX_CACHED_COPIES:]:
        if p != keep:
            _unlink(p)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
