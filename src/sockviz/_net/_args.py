"""Checking arguments the way the real ``socket`` module does.

A wrong argument to a fake socket raises exactly what CPython's ``socket``
raises for it (``TypeError``, ``OverflowError``, ``ValueError``,
``OSError(ENOPROTOOPT)``...), so code that works against fake sockets fails
the same way against real ones, and the other way round.
"""

from __future__ import annotations

import errno
import socket as _socket
import struct
from collections.abc import Collection
from typing import Any

from ._modes import os_error
from ._resolve import resolve_host

__all__ = [
    "OPTIONS",
    "OPTION_NAMES",
    "c_int",
    "check_flowinfo",
    "check_timeout",
    "option_key",
    "pack_option",
    "parse_address",
]

S = _socket

#: Socket options a fake socket keeps: name -> (level, default); None: computed.
_OPTION_TABLE: dict[str, tuple[int, int | None]] = {
    "SO_REUSEADDR": (S.SOL_SOCKET, 0),
    "SO_REUSEPORT": (S.SOL_SOCKET, 0),
    "SO_KEEPALIVE": (S.SOL_SOCKET, 0),
    "SO_BROADCAST": (S.SOL_SOCKET, 0),
    "SO_LINGER": (S.SOL_SOCKET, 0),
    "SO_OOBINLINE": (S.SOL_SOCKET, 0),
    "SO_RCVLOWAT": (S.SOL_SOCKET, 1),
    "SO_RCVBUF": (S.SOL_SOCKET, None),
    "SO_SNDBUF": (S.SOL_SOCKET, None),
    "SO_ERROR": (S.SOL_SOCKET, None),
    "SO_TYPE": (S.SOL_SOCKET, None),
    "SO_ACCEPTCONN": (S.SOL_SOCKET, None),
    "SO_DOMAIN": (S.SOL_SOCKET, None),
    "SO_PROTOCOL": (S.SOL_SOCKET, None),
    "TCP_NODELAY": (S.IPPROTO_TCP, 0),
    "TCP_KEEPIDLE": (S.IPPROTO_TCP, 7200),
    "TCP_KEEPINTVL": (S.IPPROTO_TCP, 75),
    "TCP_KEEPCNT": (S.IPPROTO_TCP, 9),
    "TCP_MAXSEG": (S.IPPROTO_TCP, 65483),
    "TCP_QUICKACK": (S.IPPROTO_TCP, 1),
    "IPV6_V6ONLY": (S.IPPROTO_IPV6, 0),
    "IP_TOS": (S.IPPROTO_IP, 0),
    "IP_TTL": (S.IPPROTO_IP, 64),
}
OPTIONS: dict[tuple[int, int], int | None] = {
    (level, getattr(S, name)): default for name, (level, default) in _OPTION_TABLE.items()
}
#: ``(level, option) -> "SO_REUSEADDR"``: events name options, not numbers.
OPTION_NAMES: dict[tuple[int, int], str] = {
    (level, getattr(S, name)): name for name, (level, _) in _OPTION_TABLE.items()
}
#: Options that cannot be set.
READ_ONLY = {
    (S.SOL_SOCKET, S.SO_ERROR),
    (S.SOL_SOCKET, S.SO_TYPE),
    (S.SOL_SOCKET, S.SO_ACCEPTCONN),
    (S.SOL_SOCKET, S.SO_DOMAIN),
    (S.SOL_SOCKET, S.SO_PROTOCOL),
}


def option_key(level: Any, optname: Any) -> tuple[int, int]:
    if not isinstance(level, int) or not isinstance(optname, int):
        raise TypeError("'str' object cannot be interpreted as an integer")
    key = (level, optname)
    if key not in OPTIONS:
        raise os_error(errno.ENOPROTOOPT)
    return key


def option_value(value: Any) -> int:
    """The integer a ``setsockopt`` value stands for (int, or packed bytes)."""
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) >= 4:
            return int(struct.unpack("i", raw[:4])[0])
        raise os_error(errno.EINVAL)
    if value is None:
        raise TypeError("setsockopt() takes exactly 4 arguments (3 given)")
    raise TypeError(f"a bytes-like object is required, not '{type(value).__name__}'")


def linger_is_zero(value: Any) -> bool:
    """``SO_LINGER`` set to ``struct linger {l_onoff=1, l_linger=0}``: close() resets."""
    if isinstance(value, bytes | bytearray | memoryview) and len(value) >= 8:
        onoff, seconds = struct.unpack("ii", bytes(value)[:8])
        return bool(onoff) and seconds == 0
    return False


def pack_option(value: int, buflen: int) -> bytes:
    if not 0 < buflen <= 1024:
        raise os_error(errno.EINVAL, "getsockopt buflen out of range")
    raw = struct.pack("i", value)
    return (raw + bytes(buflen))[:buflen]


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def c_int(value: Any, *, strict_int: bool = False) -> int:
    """``value`` as CPython converts an argument to a C ``int``, with its errors.

    ``listen()`` parses its backlog with the ``"i"`` format (a C long first,
    then the int range); ``shutdown()`` uses ``_PyLong_AsInt`` (``strict_int``),
    which has one message for both ends.
    """
    if not isinstance(value, int):
        index = getattr(type(value), "__index__", None)
        if index is None:
            raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
        value = index(value)
    number = int(value)
    if _INT_MIN <= number <= _INT_MAX:
        return number
    if strict_int:
        raise OverflowError("Python int too large to convert to C int")
    if not _LONG_MIN <= number <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    raise OverflowError(
        "signed integer is greater than maximum"
        if number > 0
        else "signed integer is less than minimum"
    )


def check_timeout(value: Any) -> float | None:
    """A ``settimeout`` argument as the socket keeps it."""
    if value is None:
        return None
    if not isinstance(value, int | float):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    if value < 0 or value != value:
        raise ValueError("Timeout value out of range")
    return float(value)


def check_flowinfo(address: tuple[Any, ...], op: str) -> None:
    """An IPv6 address's flowinfo, as CPython checks it (a C unsigned int, then 20 bits)."""
    if len(address) < 3:
        return
    flowinfo = address[2]
    if not isinstance(flowinfo, int):
        raise TypeError(f"'{type(flowinfo).__name__}' object cannot be interpreted as an integer")
    if (flowinfo & 0xFFFFFFFF) > 0xFFFFF:
        raise OverflowError(f"{op}(): flowinfo must be 0-1048575.")


def parse_address(
    address: Any, family: int, op: str, names: Collection[str], *, passive: bool
) -> tuple[str, int]:
    """Check and resolve an ``(host, port)`` argument of bind/connect."""
    if family == S.AF_INET6:
        if not isinstance(address, tuple):
            raise TypeError(f"{op}(): AF_INET6 address must be tuple, not {type(address).__name__}")
        if not 2 <= len(address) <= 4:
            raise TypeError("AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]])")
        check_flowinfo(address, op)
    else:
        if not isinstance(address, tuple):
            raise TypeError(f"{op}(): AF_INET address must be tuple, not {type(address).__name__}")
        if len(address) != 2:
            raise TypeError("AF_INET address must be a pair (host, port)")
    host, port = address[0], address[1]
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError(f"'{type(port).__name__}' object cannot be interpreted as an integer")
    if not 0 <= port <= 65535:
        raise OverflowError(f"{op}(): port must be 0-65535.")
    if not isinstance(host, str | bytes | bytearray):
        raise TypeError(f"str, bytes or bytearray expected, not {type(host).__name__}")
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode()
    return resolve_host(host, family, names, passive=passive), port
