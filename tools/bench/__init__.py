"""Benchmarks (``scripts/bench``), each ending with one JSON line.

``codec`` (framing and decoding throughput of the protocol codecs, with ``jt808``), ``e2e`` (Home
Assistant with the integration under a TCP flood: the integration, then the ``anchor`` of the
same state changes by plain entities, then the ``floor``, a bare socket server writing them),
``scale`` (a big fleet connected at once: memory and CPU), ``wakeup`` (where a report's CPU goes
when it wakes an idle process, in-process and without sockets). ``harness`` runs Home Assistant in
the benchmark's process; ``loadgen`` is the load, in a process of its own.
"""
