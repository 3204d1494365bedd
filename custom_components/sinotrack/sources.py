"""Who may connect to the tracker port, and who makes room (no Home Assistant, no asyncio).

The port faces the internet: an optional allow-list of networks (``allowed_sources``), a bound on
the connections of one address (``max_per_source``: carriers put many SIMs behind one), and, at a
cap, the oldest connection that never identified itself (spoke for a known tracker) is the one
dropped for a newcomer. An identified tracker's connection is never dropped for a stranger.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Final, Protocol

MAX_ALLOWED_SOURCES: Final = 100  # networks in the allow-list

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Connection(Protocol):
    """What the table needs of a peer."""

    host: str
    identified: bool


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR ranges (a bare address is its own /32 or /128); raises ``ValueError`` on junk."""
    networks = tuple(ipaddress.ip_network(str(v).strip(), strict=False) for v in values)
    if len(networks) > MAX_ALLOWED_SOURCES:
        raise ValueError(f"at most {MAX_ALLOWED_SOURCES} networks")
    return networks


def allowed(host: str, networks: tuple[Network, ...]) -> bool:
    """Whether ``host`` may talk to the port: any, with no allow-list; else one in a network."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 client on a dual-stack socket
    return any(address in network for network in networks)


class Connections[P: Connection]:
    """The open connections, oldest first, counted per source address."""

    def __init__(self) -> None:
        self._peers: dict[P, None] = {}
        self._per_host: Counter[str] = Counter()

    def add(self, peer: P) -> None:
        if peer not in self._peers:
            self._peers[peer] = None
            self._per_host[peer.host] += 1

    def discard(self, peer: P) -> None:
        if peer in self._peers:
            del self._peers[peer]
            left = self._per_host[peer.host] - 1
            if left > 0:
                self._per_host[peer.host] = left
            else:
                del self._per_host[peer.host]

    def count(self, host: str) -> int:
        """The connections open from ``host``."""
        return self._per_host.get(host, 0)

    def oldest_unidentified(self, host: str | None = None) -> P | None:
        """The oldest connection (from ``host``, or any) that never spoke for a known tracker."""
        for peer in self._peers:
            if not peer.identified and (host is None or peer.host == host):
                return peer
        return None

    def __len__(self) -> int:
        return len(self._peers)

    def __iter__(self) -> Iterator[P]:
        return iter(list(self._peers))

    def __contains__(self, peer: object) -> bool:
        return peer in self._peers
