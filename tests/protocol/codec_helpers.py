"""Decoding helpers shared by the H02 and JT/T 808 tests: only the codec differs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from custom_components.sinotrack.protocol.codec import Codec
from custom_components.sinotrack.protocol.model import Decoded, DecodeError

DecodeAll = Callable[..., list[Decoded | DecodeError]]
Messages = Callable[..., list[Decoded]]
One = Callable[..., Decoded]


def decoding_helpers(make: Callable[..., Codec]) -> tuple[DecodeAll, Messages, One]:
    """``decode_all``, ``messages`` and ``one`` for the codecs ``make(**kwargs)`` builds."""

    def decode_all(data: bytes, **kwargs: Any) -> list[Decoded | DecodeError]:
        """Feed one TCP segment to a fresh codec and flush it."""
        c = make(**kwargs)
        return c.feed(data) + c.flush()

    def messages(data: bytes, **kwargs: Any) -> list[Decoded]:
        return [item for item in decode_all(data, **kwargs) if isinstance(item, Decoded)]

    def one(data: bytes, **kwargs: Any) -> Decoded:
        out = decode_all(data, **kwargs)
        assert len(out) == 1, out
        assert isinstance(out[0], Decoded), out
        return out[0]

    return decode_all, messages, one
