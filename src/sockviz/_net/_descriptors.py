"""Several descriptors for one socket: ``dup()``, ``socket.fromfd()``, ``detach()`` (weldr's
``sock_ctl``, its ``fd_control``: what the descriptor layer does to a socket).

Theory of operation
-------------------
On Linux a descriptor *refers to* a socket, and several descriptors can refer
to one socket: ``dup()`` makes another, ``socket.fromfd()`` wraps a
duplicate, ``detach()`` hands the descriptor over without closing anything,
and ``socket.socket(fileno=fd)`` wraps it again.  The socket lives until its
last descriptor is closed: closing one of several sends no FIN.

sockviz keeps that split.  A **handle** -- a :class:`~sockviz.lowlevel.FakeSocket`
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

__all__ = ["Descriptors", "adopt_descriptor", "close_descriptor", "duplicate_descriptor"]

H = TypeVar("H", bound="Descriptors")


class Descriptors(SocketBase):
    """dup() and detach(): the part of a fake socket that deals in descriptors."""

    @traced("dup", result=lambda new: ("result", new._fd))
    def dup(self: H) -> H:
        """A new socket object for this socket, on a new descriptor, with this one's timeout."""
        self._check_open()
        with self._net.lock:
            fd = self._net.new_fd()
            self._descriptors += 1
        return self._new_handle(fd)

    def detach(self) -> int:
        """Give up the descriptor without closing the socket; ``socket.socket(fileno=fd)`` wraps it
        again.

        -1 if this object has no descriptor (closed, or detached already), as CPython says.
        """
        fd = self._fd
        self._closed = True
        if fd < 0 or self._fd_lost:  # (a descriptor closed under this object: just its old number)
            self._fd = -1
            return fd
        net = self._net
        self._rec.emit("call", self._number, "op", "detach")
        net.sockets.pop(fd, None)
        net.detach_carrier(fd)
        net.detached[fd] = (self._anchor, self._carrier)
        self._fd, self._carrier = -1, None
        self._rec.emit("return", self._number, "op", "detach", "result", fd)
        return fd


def adopt_descriptor(net: FakeNetwork, fd: int, timeout: float | None) -> Descriptors | None:
    """``socket.socket(fileno=fd)``: a socket object for a fake descriptor, or None if ``fd`` is not
    one.

    A detached descriptor (or one ``socket.dup(fd)`` made) is wrapped.  A
    descriptor that a socket object still owns gets a second object on the
    same descriptor, as on Linux: whichever closes it first closes it for
    both, and the other then meets EBADF.
    """
    entry = net.detached.pop(fd, None)
    if entry is None:
        ref = net.sockets.get(fd)
        owner = ref() if ref is not None else None
        if owner is None or owner._fd_lost:
            return None
        assert isinstance(owner, Descriptors)
        second = owner._new_handle(fd, owns=False)
        second._timeout = timeout
        net.cowrapped.setdefault(fd, [weakref.ref(owner)]).append(weakref.ref(second))
        return second
    anchor, carrier = entry
    assert isinstance(anchor, Descriptors)
    handle = anchor._new_handle(fd)
    handle._timeout = timeout
    if carrier is not None:
        handle._carrier = carrier
        net.carriers[fd] = weakref.ref(handle)
    return handle


def close_descriptor(net: FakeNetwork, fd: int) -> bool:
    """``socket.close(fd)`` of a fake descriptor: closed under its socket objects (their calls meet
    EBADF)."""
    ref = net.sockets.get(fd)
    owner = ref() if ref is not None else None
    if owner is None:
        owner = adopt_descriptor(net, fd, None)  # a detached one: wrapped, to be closed like any
        if owner is None:
            return False
    owner._real_close()  # the socket ends if this was its last descriptor
    owner._fd, owner._fd_lost = fd, True  # its object still says this number, and gets EBADF
    return True


def duplicate_descriptor(net: FakeNetwork, fd: int) -> int | None:
    """``socket.dup(fd)`` (what ``socket.fromfd()`` calls) of a fake descriptor: a new detached
    one."""
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
