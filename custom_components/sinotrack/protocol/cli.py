"""``python -m custom_components.sinotrack.protocol decode [--hex] [FILE]``: a debug aid.

Each input line is one TCP segment for a fresh codec (nothing carries over to the next line);
every message in it becomes one JSON object on stdout, and a line that yields none prints
``{"line": n, "error": "…"}``. Blank lines are skipped. It never stops on bad input.
``--tolerate-bad-checksum`` decodes JT/T 808 frames whose checksum is wrong (each such
position says so in ``warnings``) instead of refusing them.

Exit status: 0 when at least one line decoded to a message, 1 when none did (or the file
cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

from .codec import Codec
from .describe import describe, describe_error
from .detect import detect, start_pattern
from .jt808 import Jt808Codec
from .model import Decoded

MAX_LINE = 1 << 20  # longer lines are cut: no tracker frame is anywhere near this


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    for line in stream:
        yield line[:MAX_LINE]


def _codec(data: bytes, *, tolerate_bad_checksum: bool) -> Codec | None:
    """A fresh codec for the first byte any registered protocol recognises (skipping noise)."""
    match = start_pattern().search(data)
    cls = detect(data[match.start() :]) if match else None
    if cls is None:
        return None
    if issubclass(cls, Jt808Codec):
        return cls(tolerate_bad_checksum=tolerate_bad_checksum)
    return cls()


def decode_line(
    number: int, data: bytes, *, hex_input: bool, tolerate_bad_checksum: bool = False
) -> list[dict[str, Any]]:
    """The JSON objects for one input line."""
    if hex_input:
        text = data.decode("ascii", "replace").strip().replace(":", "")
        if text[:2].lower() == "0x":
            text = text[2:]
        try:
            data = bytes.fromhex(text)
        except ValueError as err:
            return [{"line": number, "error": f"invalid hex: {err}"}]
    codec = _codec(data, tolerate_bad_checksum=tolerate_bad_checksum)
    if codec is None:
        return [{"line": number, "error": "no frame start of any supported protocol"}]
    try:
        out = codec.feed(data)
        out += codec.flush()
    except Exception as err:  # a debug aid reports a codec bug, it does not die
        return [{"line": number, "error": f"codec failure: {type(err).__name__}: {err}"}]
    decoded = [item for item in out if isinstance(item, Decoded)]
    if decoded:
        return [{"line": number, **describe(item, codec.protocol)} for item in decoded]
    errors = [describe_error(item) for item in out if not isinstance(item, Decoded)]
    if errors:
        return [{"line": number, **errors[0]}]
    # flush() leaves nothing buffered (an unfinished frame is an error above): nothing came out.
    return [{"line": number, "error": "no message (nothing decodable)"}]


def _decode(path: str, *, hex_input: bool, tolerate_bad_checksum: bool) -> int:
    stream: BinaryIO
    if path == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as err:
            print(f"cannot read {path}: {err}", file=sys.stderr)
            return 1
    decoded = False
    try:
        for number, line in enumerate(_lines(stream), start=1):
            data = line.rstrip(b"\r\n")
            if not data.strip():
                continue
            for obj in decode_line(
                number, data, hex_input=hex_input, tolerate_bad_checksum=tolerate_bad_checksum
            ):
                decoded = decoded or "error" not in obj
                sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `… | head` is fine
        sys.stderr.close()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0 if decoded else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m custom_components.sinotrack.protocol",
        description="Decode tracker messages (H02 and the other supported protocols) to JSON.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    decode = sub.add_parser(
        "decode",
        help="decode one message per line, print JSON lines",
        description="Exit status 0 when at least one line decoded, 1 when none did.",
    )
    decode.add_argument("--hex", action="store_true", help="lines are hex dumps (spaces allowed)")
    decode.add_argument(
        "--tolerate-bad-checksum",
        action="store_true",
        help="decode JT/T 808 frames whose checksum is wrong (with a warning) instead of refusing",
    )
    decode.add_argument("file", nargs="?", default="-", help="input file (default: stdin)")
    args = parser.parse_args(argv)
    return _decode(args.file, hex_input=args.hex, tolerate_bad_checksum=args.tolerate_bad_checksum)
