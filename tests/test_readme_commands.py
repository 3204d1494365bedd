"""The README's network checks, run as a reader would (bash, python3; no nc) against a hub."""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
import textwrap
from pathlib import Path

import pytest
from homeassistant.config_entries import EVENT_FLOW_DISCOVERED
from homeassistant.core import HomeAssistant

from custom_components.sinotrack.const import DOMAIN

from .helpers import free_port, setup_listener, wait_for_event

pytestmark = pytest.mark.usefixtures("socket_enabled")

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^( *)```bash\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
EXAMPLE_IP = "203.0.113.10"


def bash_block(containing: str) -> str:
    """The README's bash block with ``containing`` in it, as a reader copies it."""
    (block,) = [
        textwrap.dedent(m.group(2)) for m in BLOCK.finditer(README) if containing in m.group(2)
    ]
    return block


async def run(script: str, port: int) -> str:
    script = script.replace(EXAMPLE_IP, "127.0.0.1").replace("8888", str(port))
    script = re.sub(r"\bpython3\b", shlex.quote(sys.executable), script)
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    return out.decode()


def test_no_netcat() -> None:
    """A Debian base has no nc: the README does not send anyone to it."""
    assert not re.search(r"\bnc\b", README)


async def test_reachability_check_and_test_report(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port)
    check = bash_block("create_connection")
    assert (await run(check, port)).strip() == "open"
    report = bash_block("*HQ,1234567890,V1,")
    assert (await run(report, port)).startswith("*HQ,1234567890,")
    udp = report.replace(" tcp <<", " udp <<")
    assert udp != report
    assert (await run(udp, port)).startswith("*HQ,1234567890,")
    # Home Assistant offers the made-up tracker, as the README says.
    flows = await wait_for_event(
        hass,
        EVENT_FLOW_DISCOVERED,
        lambda: hass.config_entries.flow.async_progress_by_handler(DOMAIN),
    )
    assert flows[0]["context"]["title_placeholders"] == {"tracker_id": "1234567890"}
    await hass.config_entries.async_unload(entry.entry_id)
