"""H02 commands (server -> device) and how their acknowledgements pair with them.

Reference: docs/protocol/h02.md §9 (commands, the immobilizer of each dialect) and §7 (the
acknowledgements they get).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from ..model import Command, CommandAck, CommandKind, EncodedCommand, ProtocolError
from .fields import is_device_id

PROTOCOL: Final = "h02"

# The immobilizer restore of each dialect (§9.2): the 4G document's S20,<tag>,0,0 and the
# classic (TianQin, Traccar) S20,<tag>,1,0; the cut is S20,<tag>,1,1 for both.
IMMOBILIZER_VARIANTS: Final = frozenset({"4G", "CLASSIC"})
_RESTORE: Final[dict[str, tuple[str, ...]]] = {"4g": ("0", "0"), "classic": ("1", "0")}

_SIMPLE: Final[dict[CommandKind, tuple[str, tuple[str, ...]]]] = {
    CommandKind.REQUEST_POSITION: ("CR", ()),
    CommandKind.ARM: ("SCF", ("0", "0")),
    CommandKind.DISARM: ("SCF", ("1", "1")),
    CommandKind.REBOOT: ("CQ", ()),
}


def time_tag(now: datetime) -> str:
    """The ``HHMMSS`` tag of a command: ``now`` in UTC (naive means UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).strftime("%H%M%S")


def encode(device_id: str, command: Command, now: datetime, dialect: str | None) -> EncodedCommand:
    """A command frame (§9); its time tag is ``now`` in UTC as ``HHMMSS``.

    ENGINE_STOP ``S20,tag,1,1``; ENGINE_RESUME ``S20,tag,0,0`` (4G) or ``1,0`` (classic), by
    ``Command.text`` ``"4G"``/``"CLASSIC"`` or else by ``dialect`` (unknown: classic);
    REQUEST_POSITION ``CR,tag``; SET_INTERVAL ``D1,tag,<s>`` (``text="S71"`` selects
    ``S71,tag,22,<s>``, which the ST-906L ignores); ARM ``SCF,tag,0,0``, DISARM ``SCF,tag,1,1``;
    REBOOT ``CQ,tag``. RAW: ``text`` is the body after the ID, sent verbatim as
    ``*HQ,<id>,<text>#``; a field written ``HHMMSS`` is replaced by the time tag
    (``"S20,HHMMSS,1,1"``). A text that is already a whole ``*…#`` frame is sent as is. The
    ack's command word and tag come from it.
    """
    if not is_device_id(device_id):
        raise ProtocolError(f"device id must be 1-20 digits: {device_id!r}")
    tag = time_tag(now)
    kind = command.kind
    if kind is CommandKind.ENGINE_STOP or kind is CommandKind.ENGINE_RESUME:
        variant = _immobilizer_dialect(command, dialect)
        params = ("1", "1") if kind is CommandKind.ENGINE_STOP else _RESTORE[variant]
        return _encoded(command, device_id, "S20", tag, params)
    if kind is CommandKind.SET_INTERVAL:
        return _encode_interval(device_id, command, tag)
    if kind is CommandKind.RAW:
        return _encode_raw(device_id, command, tag)
    if kind is CommandKind.SET_OVERSPEED:
        # h02.md knows the limit only as an SMS (§8: 122<password> <km/h>); no GPRS form.
        raise ProtocolError("H02 has no GPRS form of the overspeed limit (SMS 122 sets it)")
    if kind in _SIMPLE:
        word, params = _SIMPLE[kind]
        return _encoded(command, device_id, word, tag, params)
    raise ProtocolError(f"unsupported command {kind}")  # pragma: no cover - all handled


def _immobilizer_dialect(command: Command, dialect: str | None) -> str:
    """``"4g"`` or ``"classic"``: the command's own choice, else the tracker's dialect."""
    variant = (command.text or "").strip().upper()
    if not variant:
        return "4g" if dialect == "4g" else "classic"
    if variant not in IMMOBILIZER_VARIANTS:
        raise ProtocolError(f"immobilizer variant must be 4G or CLASSIC, not {command.text!r}")
    return variant.lower()


def _encode_interval(device_id: str, command: Command, tag: str) -> EncodedCommand:
    """Upload interval: ``D1,tag,<s>`` (TianQin style, the default) or ``S71,tag,22,<s>``."""
    interval_s = command.interval_s
    if not isinstance(interval_s, int) or not 1 <= interval_s <= 65535:
        raise ProtocolError(f"interval must be 1-65535 s, not {interval_s!r}")
    word = (command.text or "D1").upper()
    if word == "D1":
        params: tuple[str, ...] = (str(interval_s),)
    elif word == "S71":
        params = ("22", str(interval_s))
    else:
        raise ProtocolError(f"interval command must be D1 or S71, not {command.text!r}")
    return _encoded(command, device_id, word, tag, params)


def _check_text(text: str, what: str) -> None:
    """Command parts must not break the frame: printable ASCII without ``*``/``#``."""
    if not text or not text.isascii() or not text.isprintable():
        raise ProtocolError(f"{what} must be printable ASCII: {text!r}")
    if "*" in text or "#" in text:
        raise ProtocolError(f"{what} must not contain '*' or '#': {text!r}")


def _encoded(
    command: Command, device_id: str, word: str, tag: str | None, params: tuple[str, ...]
) -> EncodedCommand:
    fields = [f"*HQ,{device_id}", word]
    if tag is not None:
        fields.append(tag)
    fields.extend(params)
    data = (",".join(fields) + "#").encode("ascii")
    return EncodedCommand(command, data, word, tag, {"device_id": device_id})


def _encode_raw(device_id: str, command: Command, tag: str) -> EncodedCommand:
    text = (command.text or "").strip()
    if text.startswith("*") and text.endswith("#") and len(text) > 2:
        _check_text(text[1:-1], "raw command")
        parts = text[1:-1].split(",")
        word = parts[2].strip().upper() if len(parts) > 2 else ""
        raw_tag = parts[3] if len(parts) > 3 and len(parts[3]) == 6 and parts[3].isdigit() else None
        return EncodedCommand(
            command, text.encode("ascii"), word, raw_tag, {"device_id": device_id}
        )
    _check_text(text, "raw command")
    parts = text.split(",")
    used_tag = None
    for k, part in enumerate(parts):
        if part.strip().upper() == "HHMMSS":
            parts[k] = used_tag = tag
    if used_tag is None:  # a tag the user wrote themselves still identifies the ack
        used_tag = next((p for p in parts[1:] if len(p) == 6 and p.isdigit()), None)
    word = parts[0].strip().upper()
    if not word:
        raise ProtocolError("raw command without a command word")
    data = f"*HQ,{device_id},{','.join(parts)}#".encode("ascii")
    return EncodedCommand(command, data, word, used_tag, {"device_id": device_id})


def matches(pending: EncodedCommand, ack: CommandAck) -> bool:
    """Whether ``ack`` answers ``pending``: same command word and, when both carry one, the
    same time tag (short echoes such as ``V4,CR`` carry none and match by word)."""
    if ack.protocol != PROTOCOL or ack.command.upper() != pending.name.upper():
        return False
    if pending.tag is None or ack.tag is None:
        return True
    return ack.tag == pending.tag or pending.tag in ack.params
