"""Several descriptors for one socket: ``dup()``, ``socket.fromfd()``, ``detach()``.

Theory of operation
-------------------
On Linux a descriptor *refers to* a socket, and several descriptors can refer
to one socket: ``dup()`` makes another, ``socket.fromfd()`` wraps a
duplicate, ``detach()`` hands the descriptor over without closing anything,
and ``socket.socket(fileno=fd)`` wraps it again.  The socket lives until its
last descriptor is closed: closing one of several sends no FIN.

sockviz keeps that split.  A **handle** -- a :class:`~sockviz.FakeSocket`
object -- owns what CPython keeps per socket object: its descriptor, its
timeout, its ``makefile()`` count and its readiness carrier (the slots of
:class:`~._base.SocketBase`).  Everything else -- mode, addresses, buffers --
lives in one state dict that every handle of the socket shares as its
``__dict__``, so a call through any handle acts on the same socket.  An
**anchor**, a handle that has no descriptor and is never given out, stands
for the socket in the network's address table; ``_descriptors`` counts the
descriptors that refer to the socket, and only the last one's ``close()``
ends it.  A detached descriptor is kept by the network
(``FakeNetwork.detached``) until something wraps it again or the weld ends.
"""

from __future__ import annotations

import errno
import weakref
from typing import TYPE_CHECKING, TypeVar

from ._base import SocketBase
from ._modes import SocketMode, os_error
from ._traced import traced

if TYPE_CHECKING:
    from ._manager import FakeNetwork

__all__ = ["Descriptors", "adopt_descriptor", "duplicate_descriptor"]

H = TypeVar("H", bound="Descriptors")


class Descriptors(SocketBase):
    """dup() and detach(): the part of a fake socket that deals in descriptors."""

    def _new_handle(self: H, fd: int) -> H:
        """Another socket object for this socket, owning descriptor ``fd``."""
        handle = object.__new__(type(self))
        handle.__dict__ = self.__dict__  # the socket's state, shared
        handle._fd = fd
        handle._timeout = self._timeout
        handle._closed = False
        handle._io_refs = 0
        handle._carrier = None
        self._net.sockets[fd] = weakref.ref(handle)
        return handle

    @traced("dup", result=lambda new: ("result", new._fd))
    def dup(self: H) -> H:
        """A new socket object for this socket, on a new descriptor, with this one's timeout."""
        self._check_open()
        with self._net.lock:
            fd = self._net.new_fd()
            self._descriptors += 1
        return self._new_handle(fd)

    def detach(self) -> int:
        """Give up the descriptor without closing the socket; ``socket.socket(fileno=fd)`` wraps it again.

        -1 if this object has no descriptor (closed, or detached already), as CPython says.
        """
        fd = self._fd
        self._closed = True
        if fd < 0:
            return -1
        net = self._net
        self._rec.emit("call", self._number, "op", "detach")
        net.sockets.pop(fd, None)
        net.detach_carrier(fd)
        net.detached[fd] = (self._anchor, self._carrier)
        self._fd, self._carrier = -1, None
        self._rec.emit("return", self._number, "op", "detach", "result", fd)
        return fd


def adopt_descriptor(net: FakeNetwork, fd: int, timeout: float | None) -> Descriptors | None:
    """``socket.socket(fileno=fd)``: a socket object for a fake descriptor, or None if ``fd`` is not one.

    A detached descriptor (or one ``socket.dup(fd)`` made) is wrapped; a
    descriptor that a socket object still owns cannot be shared by two
    objects here (Linux allows it, and the second ``close()`` fails with
    EBADF): that is refused at once.
    """
    entry = net.detached.pop(fd, None)
    if entry is None:
        ref = net.sockets.get(fd)
        if ref is not None and ref() is not None:
            raise os_error(
                errno.EBADF,
                f"sockviz: descriptor {fd} belongs to a socket object already; "
                "use sock.dup() or socket.fromfd() for a second one, or sock.detach() to hand it over",
            )
        return None
    anchor, carrier = entry
    assert isinstance(anchor, Descriptors)
    handle = anchor._new_handle(fd)
    handle._timeout = timeout
    if carrier is not None:
        handle._carrier = carrier
        net.carriers[fd] = weakref.ref(handle)
    return handle


def duplicate_descriptor(net: FakeNetwork, fd: int) -> int | None:
    """``socket.dup(fd)`` (what ``socket.fromfd()`` calls) of a fake descriptor: a new detached one."""
    ref = net.sockets.get(fd)
    owner = ref() if ref is not None else None
    anchor = owner._anchor if owner is not None else net.detached.get(fd, (None, None))[0]
    if anchor is None:
        return None
    if anchor._mode is SocketMode.CLOSED:
        raise os_error(errno.EBADF)
    with net.lock:
        new = net.new_fd()
        anchor._descriptors += 1
    net.detached[new] = (anchor, None)
    return new
