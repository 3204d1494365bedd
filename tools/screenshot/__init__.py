"""Pictures of the integration in a real Home Assistant: the map and one tracker's device page.

Run by ``scripts/screenshot`` (which installs Debian's ``chromium`` when missing and runs
``python -m tools.screenshot`` with the develop venv's Python, which has ``aiohttp``).
Everything is temporary and local:

1. a real ``hass`` (the develop venv, see ``tools/devenv``) on a temporary config folder
   with free ports on 127.0.0.1 (never 8123/8888), onboarded with the user dev/dev and a
   ``sinotrack`` listener entry;
2. the simulator (``tools/simulator``): three trackers of mixed protocols driving around
   Amsterdam, each raising a vibration alarm, plus one parked H02 tracker;
3. headless Chromium driven over the Chrome DevTools Protocol (a websocket, with ``aiohttp``):
   the browser is logged in by putting the tokens of a normal login flow into ``localStorage``
   (``hassTokens``, where the frontend keeps them) before any page script runs; then
   ``/map`` and ``/config/devices/device/<id>`` are opened, the script waits until the markers
   and the entity cards are rendered, and saves ``map.png`` and ``device.png``.

Map tiles come from the internet; without it the map background stays blank, the tracker
markers still show. Everything is torn down within a bounded time, also on errors and signals.

The modules, by job: ``stage`` (Home Assistant and the simulators, the teardown), ``cdp``
(Chromium and its DevTools protocol), ``pages`` (the page scripts), ``pictures`` (taking them),
``cli``.
"""
