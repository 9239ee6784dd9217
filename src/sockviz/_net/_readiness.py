"""Readiness for ``select``, ``poll``, ``epoll``, ``selectors`` and asyncio.

Theory of operation
-------------------
``select`` and friends only understand real descriptors, and they ask the
kernel, not Python.  So a fake socket that someone asks for its
``fileno()`` gets a **carrier**: one end of a real Unix socketpair, moved
(``dup2``) onto the fake socket's own descriptor number.  The other end
stays with sockviz, which uses it to make the kernel tell the truth:

* *readable* -- sockviz keeps one byte queued for the descriptor while the
  fake socket has data, an end of file, a pending connection or an error;
* *writable* -- sockviz fills the descriptor's (tiny) send buffer while the
  fake socket cannot take bytes (the peer's buffer is full, a connect is
  still in progress) and drains it when it can.

The carrier follows the fake socket: after every socket call, and before any
thread waits, the network re-shows the readiness of every socket that has a
carrier (:meth:`FakeNetwork.show_readiness`).  A socket nobody selects on
never gets a carrier and costs nothing.  Creating one takes ~10 µs; a
change of state ~20 µs.
"""

from __future__ import annotations

import _socket
import contextlib
import errno
import os
import threading
from collections.abc import Callable

__all__ = ["Carrier"]

_MARK = b"r"
_FILL = b"\0" * 4096


class Carrier:
    """The real socket behind a fake descriptor, kept readable and writable when the fake one is."""

    __slots__ = (
        "_closed",
        "_control",
        "_lock",
        "error",
        "fd",
        "hangup",
        "read_hangup",
        "readable",
        "ready_cause",
        "writable",
    )

    def __init__(self, fd: int) -> None:
        ours, control = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
        # the kernel's minimum: cheap to fill
        ours.setsockopt(_socket.SOL_SOCKET, _socket.SO_SNDBUF, 1)
        control.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, 1)
        # the fake descriptor now *is* this socket
        os.dup2(ours.fileno(), fd, inheritable=os.get_inheritable(fd))
        ours.close()
        os.set_blocking(fd, False)
        control.setblocking(False)
        self.fd = fd
        self._control = control
        self._lock = threading.Lock()
        self.readable = False  # nothing queued for fd
        self.writable = True  # fd's send buffer is empty
        self.read_hangup = False  # POLLRDHUP: the peer will send no more (for good)
        self.hangup = False  # POLLHUP: both directions are shut (for good)
        self.error = False  # POLLERR: a reset waits to be reported
        self._closed = False
        #: the seq of the event after which fd last became readable: what woke a select() on it
        self.ready_cause: int | None = None

    def show(
        self,
        readiness: Callable[[], tuple[bool, bool, bool, bool, bool]],
        cause: Callable[[], int] | None = None,
    ) -> None:
        """Make the kernel report ``fd`` as ``readiness()`` says: (readable, writable, read hang-up,
        hang-up, error); ``cause()``, the seq of the event that made it readable, is kept in
        :attr:`ready_cause` when it becomes so.

        The hang-ups are for good, as they are on a real socket: sockviz's end
        shuts down writing (the descriptor then polls POLLIN|POLLRDHUP, as after
        a FIN), or the descriptor's own socket shuts down both ways (POLLHUP).
        A reset closes sockviz's end with a byte unread, which is how a Unix
        socket gets POLLERR (ECONNRESET); reading that error clears it, as
        reporting the reset does on a real socket.

        The state is read under the carrier's lock, so of two threads showing
        at once the later one reads the later state: a stale answer can never
        overwrite a fresh one (that would leave a select() asleep for ever).
        """
        with self._lock:
            if self._closed:
                return
            readable, writable, read_hangup, hangup, error = readiness()
            becomes_ready = readable or read_hangup or hangup or error
            if cause is not None and becomes_ready and not (self.readable or self.hangup):
                # before the kernel sees it: a select() it wakes reads what woke it
                self.ready_cause = cause()
            if error and not self.error and not self.hangup:
                # A byte left unread when sockviz's end closes: the kernel calls it a reset. (If the
                # descriptor was shown unwritable, bytes are waiting unread already.)
                with contextlib.suppress(BlockingIOError):
                    os.write(self.fd, _MARK)
                self._control.close()
                self.error = self.hangup = self.read_hangup = self.readable = self.writable = True
                return
            if self.error and not error:
                self.error = False
                _collect_error(self.fd)  # POLLERR goes, POLLHUP stays
            if hangup and not self.hangup:
                carrier = _socket.socket(fileno=self.fd)
                try:
                    # POLLIN|POLLOUT|POLLHUP|POLLRDHUP from now on
                    carrier.shutdown(_socket.SHUT_RDWR)
                finally:
                    carrier.detach()
                self.hangup = self.read_hangup = self.readable = self.writable = True
                return
            if self.hangup:
                return
            if read_hangup and not self.read_hangup:
                # the descriptor reads end of file: POLLIN|POLLRDHUP
                self._control.shutdown(_socket.SHUT_WR)
                self.read_hangup = self.readable = True
            if self.read_hangup:
                readable = True
            if readable != self.readable:
                if readable:
                    self._control.send(_MARK)
                else:
                    _drain_fd(self.fd)
                self.readable = readable
            if writable != self.writable:
                if writable:
                    _drain_socket(self._control)
                else:
                    _fill_fd(self.fd)
                self.writable = writable

    def close(self) -> None:
        """Let go of sockviz's end (the fake socket closes the descriptor itself)."""
        with self._lock:
            self._closed = True
            self._control.close()


def _collect_error(fd: int) -> None:
    """Read past anything queued to the pending ECONNRESET, which reading clears."""
    for _ in range(1000):
        try:
            if not os.read(fd, 4096):
                return
        except OSError:  # ECONNRESET (collected), or EAGAIN/EBADF: nothing more to do
            return


def _drain_fd(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
    except OSError as exc:  # closed under our feet: nothing left to show
        if exc.errno != errno.EBADF:
            raise


def _fill_fd(fd: int) -> None:
    try:
        while True:
            os.write(fd, _FILL)
    except BlockingIOError:
        pass
    except OSError as exc:
        if exc.errno not in (errno.EBADF, errno.EPIPE):
            raise


def _drain_socket(control: _socket.socket) -> None:
    try:
        while control.recv(65536):
            pass
    except BlockingIOError:
        pass
