"""Panic values as Go prints them: the runtime's own error types (their `Error()`
text, rebuilt from their fields) and `printpanicval` for everything else.

Facts from src/runtime/error.go and print.go, Go 1.22-1.27:
- boundsError{x int64, y int, signed bool, code}: the formats below, indexed by code
  (internal/abi.BoundsErrorCode from 1.26, runtime.boundsErrorCode before; same order).
- errorString: "runtime error: " + s; plainError: s; errorAddressString: "runtime error: " + msg.
- *TypeAssertionError: "interface conversion: …" from the three type names and missingMethod.
- printpanicval: basic kinds print bare; named basic kinds as `T(v)` (`T("s")` for
  strings); anything else as `(T) 0xADDR`. Floats print as `+1.500000e+000` until Go
  1.25 and with strconv's shortest 'g' from Go 1.26.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from godbg.errors import CorruptError, FaultError, UnsupportedError
from godbg.program.target import Target
from godbg.runtime import version
from godbg.runtime.layouts import layout
from godbg.runtime.typenames import (
    KIND_BOOL,
    KIND_COMPLEX64,
    KIND_COMPLEX128,
    KIND_FLOAT32,
    KIND_FLOAT64,
    KIND_INT,
    KIND_STRING,
    KIND_UINTPTR,
    RType,
    rtype,
)

BOUNDS_FORMATS = (
    "index out of range [%x] with length %y",
    "slice bounds out of range [:%x] with length %y",
    "slice bounds out of range [:%x] with capacity %y",
    "slice bounds out of range [%x:%y]",
    "slice bounds out of range [::%x] with length %y",
    "slice bounds out of range [::%x] with capacity %y",
    "slice bounds out of range [:%x:%y]",
    "slice bounds out of range [%x:%y:]",
    "cannot convert slice with length %y to array or pointer to array with length %x",
)
# Used instead when x is signed and negative: y is not worth reporting then.
BOUNDS_NEG_FORMATS = (
    "index out of range [%x]",
    "slice bounds out of range [:%x]",
    "slice bounds out of range [:%x]",
    "slice bounds out of range [%x:]",
    "slice bounds out of range [::%x]",
    "slice bounds out of range [::%x]",
    "slice bounds out of range [:%x:]",
    "slice bounds out of range [%x::]",
)
RUNTIME_ERROR_PREFIX = "runtime error: "

BOUNDS_ERROR = "runtime.boundsError"
ERROR_STRING = "runtime.errorString"
PLAIN_ERROR = "runtime.plainError"
ERROR_ADDRESS_STRING = "runtime.errorAddressString"
TYPE_ASSERTION_ERROR = "*runtime.TypeAssertionError"
RUNTIME_ERROR_TYPES = (BOUNDS_ERROR, ERROR_STRING, PLAIN_ERROR, ERROR_ADDRESS_STRING, TYPE_ASSERTION_ERROR)

# The longest panic string godbg reads: enough for any message, bounded for corrupt ones.
MAX_STRING = 1 << 16
# strconv 'g' with the shortest precision switches to %e from this exponent on.
SHORTEST_G_EPREC = 6
FLOAT32_MAX = 3.4028234663852886e38
# Digits of the pre-1.26 runtime float format.
_OLD_FLOAT_DIGITS = 7


def bounds_error_text(x: int, y: int, signed: bool, code: int) -> str:
    """boundsError.Error(): ``x`` as stored (an int64), ``y`` an int."""
    if not 0 <= code < len(BOUNDS_FORMATS):
        raise CorruptError(f"boundsError with unknown code {code}")
    negative = signed and x < 0
    fmt = BOUNDS_NEG_FORMATS[code] if negative and code < len(BOUNDS_NEG_FORMATS) else BOUNDS_FORMATS[code]
    xs = str(x) if signed else str(x & 0xFFFFFFFFFFFFFFFF)
    return RUNTIME_ERROR_PREFIX + fmt.replace("%x", xs).replace("%y", str(y))


def _value_address(rt: RType, data: int) -> int:
    # A direct-interface value is the data word itself; the rest are pointed to.
    if rt.direct:
        raise CorruptError(f"{rt.name} is stored directly in the interface word")
    return data


def runtime_error_text(target: Target, rt: RType, data: int) -> str | None:
    """The Error() text of a runtime error value, or None when ``rt`` is not one."""
    mem = target.memory
    if rt.name == BOUNDS_ERROR:
        lay = layout(target, BOUNDS_ERROR)
        base = _value_address(rt, data)
        raw = mem.read(base, lay.size)
        x = struct.unpack_from("<q", raw, lay.off("x"))[0]
        y = struct.unpack_from("<q", raw, lay.off("y"))[0]
        return bounds_error_text(x, y, bool(raw[lay.off("signed")]), raw[lay.off("code")])
    if rt.name in (ERROR_STRING, PLAIN_ERROR):
        text = mem.gostring(_value_address(rt, data), MAX_STRING)
        return RUNTIME_ERROR_PREFIX + text if rt.name == ERROR_STRING else text
    if rt.name == ERROR_ADDRESS_STRING:
        lay = layout(target, ERROR_ADDRESS_STRING)
        return RUNTIME_ERROR_PREFIX + mem.gostring(_value_address(rt, data) + lay.off("msg"), MAX_STRING)
    if rt.name == TYPE_ASSERTION_ERROR:
        return type_assertion_text(target, data)
    return None


def type_assertion_text(target: Target, address: int) -> str:
    """(*TypeAssertionError).Error() for the record at ``address``."""
    lay = layout(target, "runtime.TypeAssertionError")
    mem = target.memory
    iface_t = mem.ptr(address + lay.off("_interface"))
    concrete_t = mem.ptr(address + lay.off("concrete"))
    asserted_t = mem.ptr(address + lay.off("asserted"))
    missing = mem.gostring(address + lay.off("missingMethod"), MAX_STRING)
    inter = rtype(target, iface_t).name if iface_t else "interface"
    asserted = rtype(target, asserted_t).name
    if not concrete_t:
        return f"interface conversion: {inter} is nil, not {asserted}"
    concrete = rtype(target, concrete_t).name
    if not missing:
        msg = f"interface conversion: {inter} is {concrete}, not {asserted}"
        if concrete == asserted:
            # Go tells packages from scopes by the types' package paths; the runtime
            # types of one package share a path, so differing records mean scopes here.
            msg += " (types from different scopes)"
        return msg
    return f"interface conversion: {concrete} is not {asserted}: missing method {missing}"


# --- printpanicval ----------------------------------------------------------------------


def _new_float_format(target: Target) -> bool:
    # runtime/print.go switched printfloat to strconv's shortest 'g' in Go 1.26.
    return version.release(target).at_least(1, 26)


def format_float_old(v: float) -> str:
    """runtime.printfloat before Go 1.26: sign, 7 significant digits, 3-digit exponent."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    sign = "+"
    e = 0
    if v == 0:
        if math.copysign(1.0, v) < 0:
            sign = "-"
    else:
        if v < 0:
            v, sign = -v, "-"
        steps = 0
        while v >= 10 and steps < 400:
            e, v, steps = e + 1, v / 10, steps + 1
        while v < 1 and steps < 800:
            e, v, steps = e - 1, v * 10, steps + 1
        v += 5.0 / 10**_OLD_FLOAT_DIGITS
        if v >= 10:
            e, v = e + 1, v / 10
    digits = []
    for _ in range(_OLD_FLOAT_DIGITS):
        d = int(v)
        digits.append(chr(ord("0") + d))
        v = (v - d) * 10
    esign = "+" if e >= 0 else "-"
    return f"{sign}{digits[0]}.{''.join(digits[1:])}e{esign}{abs(e):03d}"


def _shortest_digits(v: float, bits: int) -> tuple[str, int]:
    """Shortest decimal digits and exponent that round-trip at ``bits`` precision."""
    if bits == 64 or abs(v) > FLOAT32_MAX:
        text = repr(v)
    else:
        target32 = struct.pack("<f", v)
        text = repr(v)
        for prec in range(1, 10):
            cand = f"{v:.{prec}e}"
            if struct.pack("<f", float(cand)) == target32:
                text = cand
                break
    mant, _, exp = text.lower().partition("e")
    mant = mant.lstrip("-")
    intpart, _, frac = mant.partition(".")
    digits = (intpart + frac).lstrip("0")
    lead_zeros = len(intpart + frac) - len((intpart + frac).lstrip("0"))
    point = len(intpart) + (int(exp) if exp else 0) - lead_zeros
    digits = digits.rstrip("0") or "0"
    return digits, point


def format_float_g(v: float, bits: int = 64) -> str:
    """strconv.FormatFloat(v, 'g', -1, bits)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, v) < 0 else ""
    if v == 0:
        return sign + "0"
    digits, point = _shortest_digits(abs(v), bits)
    exp = point - 1
    if exp < -4 or exp >= SHORTEST_G_EPREC:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def format_float(target: Target, v: float, bits: int = 64) -> str:
    return format_float_g(v, bits) if _new_float_format(target) else format_float_old(v)


def format_complex(target: Target, re_: float, im: float, bits: int = 64) -> str:
    if _new_float_format(target):
        ims = format_float_g(im, bits)
        if not ims.startswith(("+", "-")):
            ims = "+" + ims
        return f"({format_float_g(re_, bits)}{ims}i)"
    return f"({format_float_old(re_)}{format_float_old(im)}i)"


def basic_value(target: Target, rt: RType, data: int) -> tuple[Any, str] | None:
    """(JSON value, Go's printed text) of a value of a basic kind, or None."""
    mem = target.memory
    kind = rt.kind
    if kind == KIND_STRING:
        s = mem.gostring(_value_address(rt, data), MAX_STRING)
        return s, s
    if not (KIND_BOOL <= kind <= KIND_COMPLEX128):
        return None
    raw = data.to_bytes(8, "little") if rt.direct else mem.read(data, rt.size)
    if kind == KIND_BOOL:
        b = bool(raw[0])
        return b, "true" if b else "false"
    if KIND_INT <= kind <= KIND_UINTPTR:
        signed = kind < KIND_INT + 5  # int, int8..int64
        n = int.from_bytes(raw[: rt.size], "little", signed=signed)
        return n, str(n)
    if kind == KIND_FLOAT32:
        f = struct.unpack("<f", raw[:4])[0]
        return (f if math.isfinite(f) else str(f)), format_float(target, f, 32)
    if kind == KIND_FLOAT64:
        f = struct.unpack("<d", raw[:8])[0]
        return (f if math.isfinite(f) else str(f)), format_float(target, f)
    if kind == KIND_COMPLEX64:
        re_, im = struct.unpack("<ff", raw[:8])
        text = format_complex(target, re_, im, 32)
        return text, text
    re_, im = struct.unpack("<dd", raw[:16])
    text = format_complex(target, re_, im)
    return text, text


BASIC_NAMES = frozenset({
    "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32",
    "uint64", "uintptr", "float32", "float64", "complex64", "complex128", "string",
})


def print_value(target: Target, rt: RType, data: int) -> tuple[Any, str]:
    """printpanicval: (JSON value, the text Go prints) for a value of type ``rt``.
    Runtime errors get their Error() text (preprintpanics would have printed that)."""
    try:
        err = runtime_error_text(target, rt, data)
    except UnsupportedError:
        err = None
    if err is not None:
        return err, err
    basic = basic_value(target, rt, data)
    if basic is not None:
        value, text = basic
        if rt.name in BASIC_NAMES:
            return value, text
        if rt.kind == KIND_STRING:
            return value, f'{rt.name}("{text}")'
        if rt.kind in (KIND_COMPLEX64, KIND_COMPLEX128):
            return value, f"{rt.name}{text}"
        return value, f"{rt.name}({text})"
    return None, f"({rt.name}) {data:#x}"


def eface_value(target: Target, type_word: int, data: int) -> tuple[Any, str, str | None]:
    """(JSON value, printed text, type name) of an eface; nil prints as ``nil``."""
    if not type_word:
        return None, "nil", None
    try:
        rt = rtype(target, type_word)
    except (FaultError, CorruptError) as e:
        return None, f"<unreadable value: {e}>", None
    try:
        value, text = print_value(target, rt, data)
    except (FaultError, CorruptError) as e:
        return None, f"({rt.name}) <unreadable: {e}>", rt.name
    return value, text, rt.name
