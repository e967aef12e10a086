"""Go values: DWARF type + memory → JSON-able values (``values.decode``) and text for
people (``values.text``).

    from godbg.values import ValueDecoder, format_text
    dec = ValueDecoder(target.memory, target.binary.dwarf)   # or target_decoder(target)
    v = dec.decode(var.type, var.address)                    # the contract's JSON section
    print(format_text(v))

(``godbg.values.decode`` is the module; its one-shot ``decode()`` function is not
re-exported here so that the module name stays importable as ``values.decode``.)
"""

from godbg.values.decode import ValueDecoder, compile_decoder, target_decoder
from godbg.values.model import Iface, Limits, MapRef, Raw, Struct
from godbg.values.text import format_text

__all__ = [
    "Iface", "Limits", "MapRef", "Raw", "Struct", "ValueDecoder", "compile_decoder", "format_text",
    "target_decoder",
]
