"""Bounded byte buffers: one direction of a fake connection.

Theory of operation
-------------------
weldr moved bytes through ``fake_filebuf``: a 1 KiB ring buffer with a lock
and a read condition, whose ``write`` silently dropped what did not fit.
Here each direction of a connection is a :class:`ByteBuffer` of
``capacity`` bytes (64 KiB unless the weld says otherwise) that never drops a
byte: a writer that finds it full waits on ``space`` (backpressure), a reader
that finds it empty waits on ``data``.  Both conditions share the
connection's lock, so a close can update both directions at once.

The flags say how the two ends stand, the way a kernel's TCP state does:

``eof``          the writer shut down or closed: readers get ``b''`` once empty
``reader_gone``  the reader closed: the next write is the last that "succeeds"
``reset``        the reader must see ``ConnectionResetError`` once
``read_shut``    the reader did ``shutdown(SHUT_RD)``: ``b''`` instead of waiting

The bytes themselves sit in a queue of chunks.  A ``bytes`` object sent
whole is queued as it is, not copied (it cannot change), and a read that
takes a whole chunk returns that very object: bulk transfers move
references, not bytes.  Capacity is still counted in bytes.

Timeouts follow the ``socket`` module: ``None`` waits for ever, ``0`` never
waits (``BlockingIOError``), a number waits that long (``TimeoutError``).
"""

from __future__ import annotations

import errno
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._core._events import WaitReason
from .._core._sync import Lock, Primitives
from ._modes import os_error

if TYPE_CHECKING:
    from .._core._recorder import Recorder

__all__ = ["ByteBuffer", "WaitsFor", "deadline_for", "timed_out", "would_block"]


#: Why a wait waits: the reason, or a function making it (called only if a wait happens).
WaitsFor = WaitReason | Callable[[], WaitReason]


def _reason(waits_for: WaitsFor) -> WaitReason:
    return waits_for if isinstance(waits_for, WaitReason) else waits_for()


def deadline_for(timeout: float | None) -> float | None:
    """When a wait of ``timeout`` seconds ends (None, and 0 for never-wait, have none)."""
    return None if not timeout else time.monotonic() + timeout


def would_block() -> BlockingIOError:
    return BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")


def timed_out() -> TimeoutError:
    return TimeoutError("timed out")


class ByteBuffer:
    """``capacity`` bytes in flight from one socket to its peer."""

    __slots__ = (
        "_chunks",
        "_level",
        "_offset",
        "_rec",
        "capacity",
        "data",
        "eof",
        "lock",
        "name",
        "read_shut",
        "reader_gone",
        "reset",
        "space",
    )

    def __init__(
        self, name: str, lock: Lock, capacity: int, recorder: Recorder, primitives: Primitives
    ) -> None:
        self.name = name
        self.capacity = capacity
        self.lock = lock
        self.data = primitives.condition(lock, f"{name}.data")
        self.space = primitives.condition(lock, f"{name}.space")
        self._chunks: deque[bytes] = deque()
        self._offset = 0  # bytes of the first chunk already read
        self._level = 0
        self._rec = recorder
        self.eof = False
        self.reader_gone = False
        self.reset = False
        self.read_shut = False

    @property
    def level(self) -> int:
        """Bytes waiting to be read."""
        return self._level

    # -- writing ------------------------------------------------------------
    def write(self, view: memoryview, timeout: float | None, waits_for: WaitsFor) -> int:
        """Queue bytes of ``view`` for the reader; returns how many were queued.

        With ``timeout=None`` every byte is queued (waiting for room as often
        as needed), as a blocking ``send()`` does; with a timeout it waits for
        *some* room and queues what fits, as ``send()`` on a socket with a
        timeout does.  Caller holds ``self.lock``.
        """
        total = len(view)
        sent = 0
        deadline = deadline_for(timeout)
        whole = view.obj if type(view.obj) is bytes and len(view.obj) == total else None
        while True:
            room = self.capacity - self._level
            if room > 0 and sent < total:
                n = min(room, total - sent)
                self._chunks.append(
                    whole if whole is not None and n == total else bytes(view[sent : sent + n])
                )
                self._level += n
                sent += n
                self._rec.emit(
                    "buf.write", self.name, "n", n, "fill", self._level, "cap", self.capacity
                )
                if self.data._waiters:
                    self.data.notify_all()
            if sent == total or (sent and timeout is not None):
                return sent
            if self.reader_gone or self.eof:  # the reader left while we waited
                return sent
            if timeout == 0:
                raise would_block()
            if not self.space.wait_until(deadline, _reason(waits_for)):
                if sent:
                    return sent
                raise timed_out()

    def reader_left(self) -> bool:
        """Has the reader closed (possibly while a writer waited)?"""
        return self.reader_gone

    def discard(self, n: int) -> None:
        """A write to a reader that has gone: Linux accepts it once, then resets."""
        self._rec.emit(
            "buf.write", self.name,
            "n", n, "fill", self._level, "cap", self.capacity, "dropped", True,
        )  # fmt: skip

    # -- reading ------------------------------------------------------------
    def read(
        self,
        nbytes: int,
        timeout: float | None,
        waits_for: WaitsFor,
        out: memoryview | None = None,
        *,
        peek: bool = False,
    ) -> bytes | int:
        """Take up to ``nbytes`` bytes: as ``bytes``, or copied into ``out`` (a count).

        An empty result means end of file.  Raises ``ConnectionResetError``
        once if the writer reset the connection, ``BlockingIOError`` /
        ``TimeoutError`` when the timeout says not to wait (longer).  ``peek``
        leaves the bytes in the buffer (``MSG_PEEK``).  Caller holds ``self.lock``.
        """
        deadline = deadline_for(timeout)
        while True:
            have = self._level
            if have and nbytes:
                n = min(have, nbytes)
                pieces = self._take(n, consume=not peek)
                result: bytes | int
                if out is None:
                    result = pieces[0] if len(pieces) == 1 else b"".join(pieces)
                else:
                    at = 0
                    for piece in pieces:
                        out[at : at + len(piece)] = piece
                        at += len(piece)
                    result = n
                if not peek:
                    self._rec.emit(
                        "buf.read", self.name, "n", n, "fill", self._level, "cap", self.capacity
                    )
                    if self.space._waiters:
                        self.space.notify_all()
                return result
            if self.reset:
                self.reset = False
                self.eof = True
                raise os_error(errno.ECONNRESET)
            if self.eof or self.read_shut or not nbytes:
                return b"" if out is None else 0
            if timeout == 0:
                raise would_block()
            if not self.data.wait_until(deadline, _reason(waits_for)):
                raise timed_out()

    def _take(self, n: int, *, consume: bool) -> list[bytes]:
        """The next ``n`` bytes as pieces (whole chunks are not copied)."""
        pieces = []
        chunks, offset = self._chunks, self._offset
        index = 0
        while n:
            chunk = chunks[index]
            piece = chunk[offset : offset + n]  # the chunk itself when taken whole
            pieces.append(piece)
            n -= len(piece)
            if offset + len(piece) == len(chunk):
                index += 1
                offset = 0
            else:
                offset += len(piece)
        if consume:
            for _ in range(index):
                chunks.popleft()
            self._offset = offset
            self._level -= sum(len(p) for p in pieces)
        return pieces

    # -- ends closing -------------------------------------------------------
    def close_writer(self) -> None:
        """The writer shut down or closed: readers see EOF after the data."""
        if not self.eof:
            self.eof = True
            self._rec.emit("buf.eof", self.name, "fill", self._level)
            self.data.notify_all()
            self.space.notify_all()

    def close_reader(self) -> bool:
        """The reader closed.  True if bytes were left unread (Linux resets)."""
        unread = bool(self._level)
        self._clear()
        self.reader_gone = True
        self.space.notify_all()
        return unread

    def _clear(self) -> None:
        self._chunks.clear()
        self._offset = self._level = 0

    def shut_reader(self) -> None:
        """The reader did ``shutdown(SHUT_RD)``: wake it; it reads ``b''`` when empty."""
        self.read_shut = True
        self.data.notify_all()

    def reset_reader(self) -> None:
        """The writer reset the connection: the reader gets ECONNRESET once, after the bytes that
        had already arrived (Linux keeps its receive queue)."""
        self.reset = True
        self.data.notify_all()
        self.space.notify_all()
