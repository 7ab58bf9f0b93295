"""Which addresses an outgoing request may connect to: the SSRF guard.

Every outgoing request of the service (fetching an article, delivering a webhook) goes
through :func:`resolve`, which resolves the host name once and refuses the request
unless every address it resolves to is public. The caller then connects to the address
that was checked (:mod:`service.fetching.client`), never to the name again, so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot lead
anywhere else.

An address is refused when it is not globally routable by IANA's special-purpose
registries (``ipaddress``'s ``is_global``: loopback, private, link-local with the cloud
metadata address 169.254.169.254, shared address space, documentation, benchmarking,
reserved, unspecified) or is multicast, and IPv6 addresses that carry an IPv4 address
(IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address they
carry, or refused outright where that cannot be told. Names that resolve to several
addresses are refused when any of them is refused. Literal addresses in any notation
(``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``) are resolved by the
same resolver as names and meet the same checks.

The operator can allow given networks (``CLAIMWIRE_FETCH_ALLOW_NETWORKS``, off by
default) for an intranet CMS, and the ports requests may use
(``CLAIMWIRE_FETCH_PORTS``, 80 and 443 by default).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

SCHEMES = {"http": 80, "https": 443}
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class RefusedURL(Exception):
    """The URL may not be requested; the message says why, for the client to read."""

    def __init__(self, message: str, address_class: str | None = None) -> None:
        super().__init__(message)
        self.address_class = address_class  # "loopback", "private", ... when an address was refused


@dataclass(frozen=True, slots=True)
class Target:
    """A URL the guard accepted: where to connect (the checked address) and what to ask for."""

    scheme: str
    host: str  # as written in the URL, for the Host header and TLS (SNI, certificate)
    port: int
    address: str  # the checked IP address to connect to
    target: str  # path and query, what goes on the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Policy:
    """What outgoing requests may reach: ports, and private networks let through by the operator."""

    ports: frozenset[int]
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, ports: Sequence[int], networks: Sequence[str]) -> Policy:
        return cls(frozenset(ports), tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to ``address`` is refused, or None when it is allowed."""
        if any(address in network for network in self.allowed_networks):
            return None
        return address_refusal(address)


def address_refusal(address: IPAddress) -> str | None:
    """The class of a non-public address ("loopback", "private", ...), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"IPv6 carrying a {inner} IPv4 address" if inner else None
        if address.teredo is not None:
            return "Teredo (IPv4 tunnel)"
    for name, test in _CLASSES:
        if test(address):
            return name
    return None if address.is_global else "non-global"


_CLASSES: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda a: a.is_unspecified),
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("private", lambda a: a.is_private),
    ("reserved", lambda a: a.is_reserved),
)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (names and literals alike)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedURL(f"The host {host!r} could not be resolved ({exc}).") from None
    return [info[4][0] for info in infos]


def resolve(url: str, policy: Policy, resolver: Resolver = system_resolver) -> Target:
    """Check ``url`` and resolve its host; raise :class:`RefusedURL` saying why it may not be requested."""
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise RefusedURL(f"Only http and https URLs are fetched, not {scheme or 'a URL without scheme'}.")
    if parts.username is not None or parts.password is not None:
        raise RefusedURL("URLs with credentials are not fetched.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedURL("The URL has no host.")
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise RefusedURL("The URL's port is not a number from 0 to 65535.") from None
    if port not in policy.ports:
        allowed = ", ".join(str(p) for p in sorted(policy.ports))
        raise RefusedURL(f"Port {port} is not allowed (allowed: {allowed}).")
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolver(host, port)]
    if not addresses:
        raise RefusedURL(f"The host {host!r} has no address.")
    for address in addresses:
        why = policy.refusal(address)
        if why is not None:
            raise RefusedURL(f"The host {host!r} resolves to {address} ({why}), which is not fetched.", why)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Target(scheme, host, port, str(addresses[0]), target)


def _split(url: str) -> SplitResult:
    if any(c in url for c in "\r\n\t\x00 "):
        raise RefusedURL("The URL contains whitespace or control characters.")
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise RefusedURL(f"The URL cannot be parsed: {exc}.") from None
