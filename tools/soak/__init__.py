"""The soak test (``scripts/soak``): a real Home Assistant, many simulated trackers, chaos.

``soak`` runs it (``tools.devenv`` for Home Assistant, ``tools.simulator`` for the trackers),
``probes`` measures from outside (memory, the last report of every tracker), ``cli`` decides.
"""
