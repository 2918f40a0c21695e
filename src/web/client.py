"""Who sent a request: the visitor's address behind trusted proxies, and privacy signals."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from footfall.settings import IPNetwork


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def client_ip(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[IPNetwork]
) -> str | None:
    """The peer's address, or, when the peer is a trusted proxy, the rightmost
    `X-Forwarded-For` hop that is not itself a trusted proxy.

    Hops left of an untrusted one could have been written by the client, so they are
    never believed; without trusted proxies the header is ignored altogether.
    """
    address = _address(peer)
    if address is None or not _trusted(address, trusted) or not forwarded_for:
        return None if address is None else str(address)
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            break
        address = hop_address
        if not _trusted(hop_address, trusted):
            break
    return str(address)


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[IPNetwork]
) -> bool:
    return any(address in network for network in trusted)


def do_not_track(dnt: str | None, gpc: str | None) -> bool:
    """`DNT: 1` or `Sec-GPC: 1`: the visitor asked not to be tracked."""
    return (dnt or "").strip() == "1" or (gpc or "").strip() == "1"
