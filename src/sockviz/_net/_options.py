"""Socket options and timeouts of a fake socket.

Options are kept per socket in a dict; the few Linux computes (``SO_ERROR``,
``SO_TYPE``, ``SO_ACCEPTCONN``...) are computed.  ``SO_ERROR`` is read once,
as on Linux: that is how a non-blocking ``connect()`` reports its outcome.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
from typing import Any

from ._args import (
    OPTION_NAMES,
    OPTIONS,
    READ_ONLY,
    check_timeout,
    linger_is_zero,
    option_key,
    option_value,
    pack_option,
)
from ._base import SocketBase
from ._modes import SocketMode, os_error
from ._traced import traced

__all__ = ["Options"]

M = SocketMode


class Options(SocketBase):
    """setsockopt, getsockopt and the timeout calls."""

    @traced(
        "setsockopt",
        lambda level, optname, value, *rest: (
            "option",
            OPTION_NAMES.get((level, optname), f"{level}/{optname}"),
            "value",
            value if isinstance(value, int) else None,
        ),
    )
    def setsockopt(self, level: int, optname: int, value: Any, optlen: int | None = None) -> None:
        self._check_open()
        key = option_key(level, optname)
        if key in READ_ONLY:
            raise os_error(errno.ENOPROTOOPT)
        self._options[key] = option_value(value)
        if key == (_socket.SOL_SOCKET, _socket.SO_LINGER):
            self._abortive_close = linger_is_zero(value)

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        self._check_open()
        key = option_key(level, optname)
        value = self._options.get(key, OPTIONS[key])
        if value is None:
            value = self._computed_option(optname)
        return value if buflen is None else pack_option(value, buflen)

    def _computed_option(self, optname: int) -> int:
        s = _socket
        if optname == s.SO_ERROR:
            error, self._so_error = self._so_error, 0  # read once, as on Linux
            if error:
                self._unreported_connect = False
                self._show_readiness()  # the error is collected: POLLERR goes
            return error
        return {
            s.SO_TYPE: int(self._type),
            s.SO_ACCEPTCONN: int(self._mode is M.LISTEN),
            s.SO_DOMAIN: int(self._family),
            s.SO_PROTOCOL: s.IPPROTO_TCP if self._family != s.AF_UNIX else 0,
        }.get(optname, self._net.buffer_size)

    @traced("settimeout", lambda value: ("timeout", value))
    def settimeout(self, value: float | None) -> None:
        """``None``: block; ``0``: never block; a number: seconds to wait."""
        # CPython stores the value before the system call fails on a closed socket.
        self._timeout = check_timeout(value)
        self._check_open()

    def gettimeout(self) -> float | None:
        return self._timeout

    @traced("setblocking", lambda flag: ("blocking", bool(flag)))
    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0
        self._check_open()

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    def get_inheritable(self) -> bool:
        """Whether a child process would inherit the descriptor: asked of the real descriptor, as
        CPython does."""
        return os.get_inheritable(self._fd)

    def set_inheritable(self, inheritable: bool) -> None:
        os.set_inheritable(self._fd, inheritable)
