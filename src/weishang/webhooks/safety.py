"""Webhooks go to the public internet only (no SSRF).

A brand's endpoint URL is checked when it is saved (``check_url``) and again at every delivery
(``resolve``): the host is resolved once and *every* address it resolves to must be public —
not private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local (169.254/16, the cloud
metadata address, fe80::/10), multicast, reserved, unspecified (0.0.0.0, ::) or shared (100.64/10).
IPv4 hidden in IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64) is checked as the IPv4 it carries, and
the odd IPv4 spellings (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) are what the resolver makes
of them, so they are checked as the address they mean.

The delivery then connects to the address that was checked (``PinnedAdapter``), never resolving
the name again, so a name that changes its answer between the check and the connection (DNS
rebinding) gets nothing. For https the certificate is still checked against the name, and the
name is sent as SNI and in the Host header. Redirects are never followed (the caller).

Loopback (127/8, ::1) is allowed only when ``WEISHANG_WEBHOOK_ALLOW_LOOPBACK`` is on: in
development, for a receiver on the developer's machine (and the tests' local receiver).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter

SCHEMES = {"http": 80, "https": 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeAddress(Exception):
    """The URL cannot be delivered to: ``reason`` says why (English, for the delivery log)."""

    def __init__(self, reason: str, *, address: str = ""):
        super().__init__(reason)
        self.reason, self.address = reason, address


def allow_loopback() -> bool:
    return bool(getattr(settings, "WEISHANG_WEBHOOK_ALLOW_LOOPBACK", False))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(address: str) -> str | None:
    """Why ``address`` (an IP as text) may not receive a webhook; None if it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_problem(str(inner))
    if ip.is_loopback:
        return None if allow_loopback() else "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (the name, or the literal IP without brackets)
    port: int
    address: str  # the checked IP to connect to


def _parts(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeAddress("the port is not a number from 1 to 65535") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeAddress("only http and https are sent to")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeAddress("the address has no host")
    if port == 0:
        raise UnsafeAddress("the port is not a number from 1 to 65535")
    return scheme, host, port or SCHEMES[scheme]


def _addresses(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in found))


def resolve(url: str) -> Target:
    """Resolve the URL's host once and check every address; the first is the one to connect to.
    Raises ``UnsafeAddress`` when it does not resolve or any address is not allowed."""
    scheme, host, port = _parts(url)
    addresses = _addresses(host, port)
    if not addresses:
        raise UnsafeAddress(f"{host} does not resolve")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise UnsafeAddress(f"{host} is {address}, a {problem} address", address=address)
    return Target(scheme=scheme, host=host, port=port, address=addresses[0])


def check_url(url: str) -> None:
    """The check when an endpoint is saved: every address the host resolves to now must be
    allowed. A name that does not resolve yet is accepted (each delivery checks again)."""
    scheme, host, port = _parts(url)
    for address in _addresses(host, port):
        problem = address_problem(address)
        if problem:
            raise UnsafeAddress(f"{host} is {address}, a {problem} address", address=address)


class PinnedAdapter(HTTPAdapter):
    """A transport that connects to ``target.address`` whatever the URL's host resolves to now,
    with the URL's host in the Host header and, for https, as SNI and the name the certificate
    must carry."""

    def __init__(self, target: Target, **kwargs):
        self.target = target
        super().__init__(max_retries=0, **kwargs)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        host_params = {**host_params, "host": self.target.address, "port": self.target.port}
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": self.target.host, "assert_hostname": self.target.host}
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def add_headers(self, request, **kwargs):
        host = self.target.host
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        default = SCHEMES[self.target.scheme]
        request.headers["Host"] = host if self.target.port == default else f"{host}:{self.target.port}"
