"""The time a welded thread spends in ``select()`` -- or ``poll()``, a ``selectors`` selector,
asyncio's event loop -- recorded as a wait, like a ``recv()``'s.

``select`` and friends wait in the kernel, on the real descriptors behind the fake sockets
(see :mod:`sockviz._net._readiness`), so the fake network's conditions never see them.  Here
they are wrapped, for welded threads only: a call that finds a descriptor ready at once
records nothing (it did not wait); one that has to wait records ``cond.wait`` on the system call
it waits in (``select``, ``poll``, ``epoll_wait`` for a selector: :data:`SYSCALL_OF`; ``call`` the
same, ``until`` ``"ready"``, ``addr`` the descriptors it watches),
then ``cond.wake`` -- caused by the event after which a descriptor it got became readable, so a
timeline draws the arrow from the thread that sent the bytes or made the connection -- or
``cond.timeout``.

Under a schedule, :mod:`sockviz._weld._schedpatch` parks the thread instead of blocking, and
records the same events through :func:`began` and :func:`ended`.
"""

from __future__ import annotations

import select
import selectors
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .._core._schedule import current_slot
from .._net._members import Membership, members

__all__ = ["began", "ended", "install", "uninstall", "watched"]

_get_ident = threading.get_ident
_real_select = select.select
_real_poll = select.poll
#: each selector class, and the system call its select() waits in
SYSCALL_OF = {"SelectSelector": "select", "PollSelector": "poll", "EpollSelector": "epoll_wait",
              "DevpollSelector": "poll", "KqueueSelector": "kevent"}  # fmt: skip
_saved: list[tuple[Any, str, Any]] = []
_ALL_EVENTS = select.POLLIN | select.POLLPRI | select.POLLOUT


def watched(fds: Iterable[int]) -> str:
    """The descriptors a call watches, in words: "fd 5", "fd 5 or 6", "fd 5, 6 or 7"."""
    numbers = sorted(set(fds))
    if not numbers:
        return "no descriptor"
    if len(numbers) == 1:
        return f"fd {numbers[0]}"
    return "fd " + ", ".join(map(str, numbers[:-1])) + f" or {numbers[-1]}"


def began(member: Membership, call: str, fds: Iterable[int], timeout: float | None) -> str:
    """Record that the thread waits in ``call`` on ``fds``; what it waits for, in words."""
    where = watched(fds)
    member.net.recorder.emit(
        "cond.wait", call, "call", call, "fd", None, "until", "ready",
        "peer_fd", None, "peer_owner", None, "addr", where, "timeout", timeout,
    )  # fmt: skip
    return f"{call}() waits for {where} to be ready"


def ended(
    member: Membership, call: str, ready: Iterable[int] | None, timeout: float | None
) -> None:
    """Record the end of the wait in ``call``: woken (``ready`` descriptors) or timed out (None or
    empty)."""
    rec = member.net.recorder
    ready = list(ready or ())
    if not ready:
        rec.emit("cond.timeout", call, "timeout", timeout)
        return
    causes = []
    for fd in ready:
        ref = member.net.carriers.get(fd)
        sock = ref() if ref is not None else None
        carrier = getattr(sock, "_carrier", None)
        if carrier is not None and carrier.ready_cause is not None:
            causes.append(carrier.ready_cause)
    rec.emit("cond.wake", call, "cause", max(causes) if causes else None)


def _fd(obj: Any) -> int:
    return obj if isinstance(obj, int) else int(obj.fileno())


def _waiting(member: Membership | None, timeout: float | None) -> bool:
    """A welded thread, not scheduled (a schedule parks instead), in a call that may wait."""
    return (
        member is not None
        and current_slot() is None
        and (timeout is None or (isinstance(timeout, int | float) and timeout > 0))
    )


def select_select(rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None) -> Any:
    member = members.get(_get_ident())
    if not _waiting(member, timeout):
        return _real_select(rlist, wlist, xlist, timeout)
    found = _real_select(rlist, wlist, xlist, 0)
    if any(found):
        return found
    assert member is not None
    began(member, "select", (_fd(o) for o in [*rlist, *wlist, *xlist]), timeout)
    found = _real_select(rlist, wlist, xlist, timeout)
    ended(member, "select", [_fd(o) for o in [*found[0], *found[1], *found[2]]], timeout)
    return found


def _recorded_selector(real: Callable[..., Any], call: str) -> Callable[..., Any]:
    def select(self: selectors.BaseSelector, timeout: float | None = None) -> Any:
        member = members.get(_get_ident())
        if not _waiting(member, timeout):
            return real(self, timeout)
        found = real(self, 0)
        if found:
            return found
        assert member is not None
        began(member, call, (key.fd for key in self.get_map().values()), timeout)
        found = real(self, timeout)
        ended(member, call, [key.fd for key, _ in found], timeout)
        return found

    select.__doc__ = real.__doc__
    return select


class RecordedPoll:
    """``select.poll()`` made by a welded thread: a ``poll()`` that waits is recorded (the real
    poll object does the work; the descriptors are kept to name what the wait is for)."""

    def __init__(self) -> None:
        self._real = _real_poll()
        self._fds: dict[int, None] = {}

    def register(
        self, fd: Any, eventmask: int = select.POLLIN | select.POLLPRI | select.POLLOUT
    ) -> None:
        self._real.register(fd, eventmask)
        self._fds[_fd(fd)] = None

    def modify(self, fd: Any, eventmask: int) -> None:
        self._real.modify(fd, eventmask)

    def unregister(self, fd: Any) -> None:
        self._real.unregister(fd)
        self._fds.pop(_fd(fd), None)

    def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
        member = members.get(_get_ident())
        seconds = None if timeout is None or timeout < 0 else timeout / 1000
        if not _waiting(member, seconds):
            return self._real.poll(timeout)
        found: list[tuple[int, int]] = self._real.poll(0)
        if found:
            return found
        assert member is not None
        began(member, "poll", self._fds, seconds)
        found = self._real.poll(timeout)
        ended(member, "poll", [fd for fd, _ in found], seconds)
        return found


def recorded_poll() -> Any:
    """``select.poll`` for welded threads (others get the real object)."""
    return RecordedPoll() if members.get(_get_ident()) is not None else _real_poll()


def install() -> None:
    """Wrap select, poll and the selectors' select() (the weld's patches call this once)."""
    targets: list[tuple[Any, str, Any]] = [
        (select, "select", select_select),
        (select, "poll", recorded_poll),
    ]
    for name, call in SYSCALL_OF.items():
        cls = getattr(selectors, name, None)
        if cls is not None:  # set on each class, even where it inherits select()
            targets.append((cls, "select", _recorded_selector(cls.select, call)))
    for owner, name, replacement in targets:
        original = (
            vars(owner).get(name, _INHERITED) if isinstance(owner, type) else getattr(owner, name)
        )
        _saved.append((owner, name, original))
        setattr(owner, name, replacement)


_INHERITED = object()


def uninstall() -> None:
    for owner, name, original in reversed(_saved):
        if original is _INHERITED:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _saved.clear()
