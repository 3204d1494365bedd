"""The two layouts of an H02 binary (``$``) frame, straight through ``decode_binary``.

A frame too short for the layout its length suggests, or whose digits do not fit it, is tried in
the other one; when neither fits the frame is refused with a reason, never an exception.
"""

from __future__ import annotations

import pytest

from custom_components.sinotrack.protocol import ProtocolError
from custom_components.sinotrack.protocol.h02.decode_binary import LONG_ID_LENGTH, decode_binary
from custom_components.sinotrack.protocol.h02.values import CLASSIC

# 32 bytes, the 5-byte ID layout (the reference's vector).
SHORT = bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")


def test_short_frame_in_the_short_layout() -> None:
    pos = decode_binary(SHORT, CLASSIC)
    assert pos.device_id == "4106011660"
    assert (pos.latitude, pos.longitude) == (50.58855, 4.53035)


def test_long_id_frame_in_the_long_layout() -> None:
    # The same report with a 15-digit ID (and its pad nibble): 3 bytes more, padded to 42.
    body = SHORT.hex()[12:]
    frame = bytes.fromhex("24" + "123456789012345" + "0" + body)
    frame += b"\x00" * (LONG_ID_LENGTH - len(frame))
    pos = decode_binary(frame, CLASSIC)
    assert pos.device_id == "123456789012345"
    assert (pos.latitude, pos.longitude) == (50.58855, 4.53035)


def test_a_frame_too_short_for_either_layout_is_refused() -> None:
    with pytest.raises(ProtocolError, match="invalid digits or coordinates"):
        decode_binary(SHORT[:28], CLASSIC)


def test_letters_where_digits_belong_are_refused() -> None:
    frame = bytearray(SHORT)
    frame[1] = 0x4A  # "4a…": not a digit in the ID, in either layout
    with pytest.raises(ProtocolError, match="invalid digits or coordinates"):
        decode_binary(bytes(frame), CLASSIC)
