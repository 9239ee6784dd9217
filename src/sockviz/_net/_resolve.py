"""Name resolution inside the fake network.

Welded code never asks a real resolver: everything lives on one host, so
``localhost``, numeric addresses and the names of the weld's components all
resolve to loopback addresses (``("server", 8080)`` reaches the component
named ``server``); the machine's own name (``socket.gethostname()``) resolves
to ``127.0.1.1``, as Debian's ``/etc/hosts`` has it, and back; any other name
fails with the ``socket.gaierror`` a real resolver gives for an unknown host.
Service names are read from the local services database (no network involved).
"""

from __future__ import annotations

import functools
import ipaddress
import socket as _socket
from collections.abc import Collection
from typing import Any

__all__ = [
    "UNKNOWN_HOST",
    "getaddrinfo",
    "gethostbyaddr",
    "gethostbyname",
    "resolve_host",
    "resolve_port",
]

UNKNOWN_HOST = (_socket.EAI_NONAME, "Name or service not known")
_UNKNOWN_SERVICE = (_socket.EAI_SERVICE, "Servname not supported for ai_socktype")
_LOOPBACK: dict[int, str] = {_socket.AF_INET: "127.0.0.1", _socket.AF_INET6: "::1"}
_ANY: dict[int, str] = {_socket.AF_INET: "0.0.0.0", _socket.AF_INET6: "::"}
_real_getservbyname = _socket.getservbyname
#: Where Debian's /etc/hosts puts the machine's own name.
HOST_ADDRESS = "127.0.1.1"


def _own_name(host: str) -> bool:
    """Is ``host`` this machine's name (``socket.gethostname()``, asked each time: it can
    change)?"""
    return host.lower() == _socket.gethostname().lower()


@functools.lru_cache(maxsize=256)
def _numeric(host: str) -> tuple[int, str] | None:
    """``(version, canonical text)`` of a numeric address, None for a name (cached)."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return ip.version, str(ip)


def resolve_host(host: Any, family: int, names: Collection[str], *, passive: bool = False) -> str:
    """The numeric address ``host`` stands for in the fake network."""
    if host is None or host == "":
        return _ANY[family] if passive else _LOOPBACK[family]
    if isinstance(host, bytes):
        host = host.decode("idna")
    if not isinstance(host, str):
        raise TypeError(f"str, bytes or bytearray expected, not {type(host).__name__}")
    if host == "<broadcast>":
        raise _socket.gaierror(*UNKNOWN_HOST)
    numeric = _numeric(host)
    if numeric is None:
        if host.lower() in ("localhost", "localhost.localdomain") or host in names:
            return _LOOPBACK[family]
        if not _own_name(host):
            raise _socket.gaierror(*UNKNOWN_HOST)
        numeric = (4, HOST_ADDRESS)
    version, ip = numeric
    if (version == 4) != (family == _socket.AF_INET):
        if family == _socket.AF_INET6 and version == 4:
            return f"::ffff:{ip}"
        raise _socket.gaierror(_socket.EAI_ADDRFAMILY, "Address family for hostname not supported")
    return ip


def resolve_port(port: Any) -> int:
    if port is None:
        return 0
    if isinstance(port, bytes):
        port = port.decode()
    if isinstance(port, int):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        try:
            return _real_getservbyname(port, "tcp")
        except OSError:
            raise _socket.gaierror(*_UNKNOWN_SERVICE) from None
    raise TypeError("getaddrinfo() argument 2 must be integer or string")


def getaddrinfo(
    names: Collection[str],
    host: Any,
    port: Any,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> list[tuple[Any, Any, int, str, tuple[Any, ...]]]:
    """``socket.getaddrinfo`` for welded threads: stream addresses only."""
    if type not in (0, _socket.SOCK_STREAM):
        raise _socket.gaierror(_socket.EAI_SOCKTYPE, "ai_socktype not supported")
    number = resolve_port(port)
    families = [family] if family in (_socket.AF_INET, _socket.AF_INET6) else [_socket.AF_INET]
    if family == _socket.AF_UNSPEC and isinstance(host, str) and ":" in host:
        families = [_socket.AF_INET6]
    passive = bool(flags & _socket.AI_PASSIVE)
    out = []
    for fam in families:
        ip = resolve_host(host, fam, names, passive=passive)
        addr: tuple[Any, ...] = (ip, number) if fam == _socket.AF_INET else (ip, number, 0, 0)
        canon = host if (flags & _socket.AI_CANONNAME and isinstance(host, str)) else ""
        out.append(
            (
                _socket.AddressFamily(fam),
                _socket.SocketKind.SOCK_STREAM,
                _socket.IPPROTO_TCP,
                canon,
                addr,
            )
        )
    return out


def gethostbyname(names: Collection[str], host: str) -> str:
    return resolve_host(host, _socket.AF_INET, names)


def gethostbyaddr(names: Collection[str], host: str) -> tuple[str, list[str], list[str]]:
    """Reverse look-up: ``127.0.1.1`` is the machine's own name, every other fake address
    ``localhost``."""
    try:
        ip = resolve_host(host, _socket.AF_INET6 if ":" in host else _socket.AF_INET, names)
    except _socket.gaierror:
        raise _socket.herror(1, "Unknown host") from None
    if ip in (HOST_ADDRESS, f"::ffff:{HOST_ADDRESS}"):
        return (_socket.gethostname(), [], [ip])
    if ip.startswith("127.") or ip in ("::1", "0.0.0.0", "::"):
        return ("localhost", [], [ip])
    raise _socket.herror(1, "Unknown host")
