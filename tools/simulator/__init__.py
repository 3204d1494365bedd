"""Simulated SinoTrack trackers: H02 text, H02 binary and JT/T 808 against a tracker port.

Built on the integration's protocol package (its framing, checksum and bit names; the package
imports nothing from Home Assistant), so it runs in any Python >= 3.11 without installing
anything::

    scripts/simulate                                   3 trackers (one per protocol), 5 minutes
    scripts/simulate --trackers 20 --speedup 10 --alarm random --duration 120
    scripts/simulate --protocol jt808 --transport udp --alarm power_cut

Every tracker drives a loop through Amsterdam (accelerating, braking for corners and traffic
lights, parking with the ignition off), reports as often as a real device does (every 10 s
while driving, every 60 s parked, a heartbeat every 180 s; all divided by ``--speedup``),
answers the commands the server sends (H02 ``S20`` engine cut/restore with status bit 27,
``CR``, ``D1``, ``S71``, ``SCF``, ``CQ``; JT/T 808 0x8105 F0/F1, 0x8201, 0x8103, 0x8104,
0x8202, 0x8300, 0x8500) and checks the replies the server owes it (H02 ``V4,V1`` time sync and
``R12``; JT/T 808 0x8100 and 0x8001). Lost connections are re-opened with a bounded backoff.
It stops by itself after ``--duration`` seconds (or on Ctrl-C) and prints a summary (``--json``:
one JSON object); the exit code is 0 unless nothing got through (no report sent, or the server
never answered while sends failed: UDP to a closed port).

Identities: tracker ``k`` (from 0) is ``--first-id + k``, a 10-digit number. H02 trackers send
it as is. JT/T 808 trackers send it as the 12-digit BCD terminal phone number, zero-padded
(``4106011602`` -> ``004106011602``); the integration strips the leading zeros, so the
device ID Home Assistant shows is the same 10-digit number for every protocol.

Times: H02 fix times are UTC. JT/T 808 times are Beijing time (GMT+8) as the standard says,
which is what the integration's codec assumes by default.

Alarms (``--alarm`` or ``Simulator.trigger_alarm``) are reported at once. Vibration and SOS
clear their H02 status bits (0, 1; active-low) or set their JT/T 808 alarm bits (15, 0) for
three reports, then clear again, so the server sees one edge each. A power cut (H02 bit 19
cleared, JT/T 808 alarm bit 8) lasts 10-45 simulated minutes on the backup battery, which
drains 2 %/min (below 20 % that raises low battery by itself) and recharges afterwards. Low
battery is an H02 ``ALRM`` type 2 report (H02 binary trackers carry the battery byte in every
frame too; text trackers send it in their ``LINK`` heartbeat) or JT/T 808 alarm bit 18 (the
cheap-tracker meaning Traccar uses); JT/T 808 reports carry the battery in item 0xE4.

The modules, by job: ``vehicle`` (the car), ``tracker`` (what every tracker does), ``h02_tracker``
and ``jt808_tracker`` (each protocol's reports and answers), ``h02_frames`` and
``jt808_frames`` (the frames, on the protocol package), ``links`` (TCP, UDP, the rate limit),
``session`` (connect, report, reconnect), ``simulator`` (a run), ``stats`` (counters and the
summary), ``config`` and ``cli``.

From Python (the end-to-end test, benchmarks, a soak test), with the repository root on
``sys.path`` (as it is under pytest and for ``python -m tools.simulator``)::

    from tools.simulator import SimConfig, Simulator, run

    summary = await run(SimConfig(port=port, trackers=3, duration=10, speedup=20))

    sim = Simulator(SimConfig(port=port, duration=60, speedup=50, parked=True))
    task = asyncio.create_task(sim.run())
    sim.trigger_alarm(sim.tracker_ids[0], "sos")      # reported at once
    sim.snapshot(sim.tracker_ids[0]).last_sent          # what the server was told last
    sim.stop(); summary = await task

``burst=True`` reports as fast as ``max_rate`` allows; ``chaos=P`` drops the connection or sends
junk between frames with probability ``P`` per frame; ``on_send`` sees every frame sent;
``Summary.as_dict()`` is JSON-ready. Network traffic goes to loopback only unless
``allow_remote`` is set.
"""

from __future__ import annotations

from .cli import main
from .config import ALARMS, PROTOCOLS, SimConfig
from .fix import Fix
from .h02_frames import ACK_STYLES
from .simulator import Simulator, run, tracker_class
from .stats import Stats, Summary
from .tracker import SimTracker, TrackerSnapshot
from .vehicle import Vehicle

__all__ = [
    "ACK_STYLES",
    "ALARMS",
    "PROTOCOLS",
    "Fix",
    "SimConfig",
    "SimTracker",
    "Simulator",
    "Stats",
    "Summary",
    "TrackerSnapshot",
    "Vehicle",
    "main",
    "run",
    "tracker_class",
]
