"""Files over a fake socket: ``makefile()`` and ``sendfile()``, as ``socket.py`` does them.

``socket.py`` builds both on the socket's own calls, so its code serves fake
sockets too: ``makefile()`` wraps the socket in a ``SocketIO`` (which keeps
the socket open until the file is closed too), ``sendfile()`` reads the file
and ``send()``s it.  The one thing a fake socket cannot take is the kernel's
``os.sendfile()``, which would write into the descriptor's readiness carrier:
``_sendfile_use_sendfile`` checks the file as CPython does, then sends
through ``send()`` too.
"""

from __future__ import annotations

import io
import os
import socket as _socket
from typing import Any

from ._base import SocketBase

__all__ = ["Files"]


class Files(SocketBase):
    """makefile() and sendfile(): socket.py's own code over the fake socket's calls."""

    makefile = _socket.socket.makefile
    _decref_socketios = _socket.socket._decref_socketios  # type: ignore[attr-defined]
    sendfile = _socket.socket.sendfile
    _sendfile_use_send = _socket.socket._sendfile_use_send  # type: ignore[attr-defined]
    _check_sendfile_params = _socket.socket._check_sendfile_params  # type: ignore[attr-defined]

    def _sendfile_use_sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """The checks of CPython's kernel path (and its errors), then the bytes go through
        ``send()``."""
        self._check_sendfile_params(file, offset, count)
        try:
            fileno = file.fileno()
        except (AttributeError, io.UnsupportedOperation) as err:
            raise _socket._GiveupOnSendfile(err) from None  # type: ignore[attr-defined]  # not a regular file
        try:
            size = os.fstat(fileno).st_size
        except OSError as err:
            raise _socket._GiveupOnSendfile(err) from None  # type: ignore[attr-defined]
        if not size:
            return 0
        sent: int = self._sendfile_use_send(file, offset, count)
        return sent
