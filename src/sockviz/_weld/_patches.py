"""Everything a weld patches, installed and removed as one.

* the ``socket`` module (see :mod:`sockviz._net._wrap`);
* ``threading.Thread.start``: a thread started by a welded thread is welded
  too (its weld is told *before* it starts, so the count of live threads the
  deadlock check relies on is never short);
* ``_thread.start_new_thread``: so is a thread started the low-level way
  (CPython's own socket tests start their clients so); it becomes a daemon
  ``threading.Thread`` of the weld, as nothing waits for such a thread;
* ``threading.enumerate`` / ``active_count``: a welded thread sees the
  threads of its own component, as a program sees those of its process
  (not the other components, nor the notebook kernel's);
* ``sys.stdout`` / ``sys.stderr``: a line printed by a welded thread is
  recorded as an ``output`` event and still written where it was going.

Installs nest: the patches go when the last weld using them ends, on every
exit path.
"""

from __future__ import annotations

import _thread
import concurrent.futures
import io
import os
import signal
import sys
import threading
import time
import warnings
from typing import Any, TextIO

from .._core._schedule import current_slot
from .._net import _wrap
from .._net._members import members
from . import _selectwaits

__all__ = ["install", "uninstall", "uninstall_after"]

_get_ident = threading.get_ident
_real_start = threading.Thread.start
_real_enumerate = threading.enumerate
_real_sleep = time.sleep  # (a schedule may replace time.sleep while a janitor waits)
_real_active_count = threading.active_count
_real_active_count_old = threading.activeCount
_real_start_new_thread = _thread.start_new_thread
_real_start_new = _thread.start_new  # the old alias: a function of its own
_guard = threading.Lock()
_count = 0


def _welded_start(self: threading.Thread) -> None:
    parent = members.get(_get_ident())
    if parent is None or getattr(self, "_sockviz_adopted", False):
        return _real_start(self)
    session = parent.session
    session.adopt(self, parent)
    slot = current_slot()
    if slot is not None:  # start() waits for the new thread to run: for real, holding the baton
        slot.passthrough = True
    try:
        return _real_start(self)
    except BaseException:
        session.disown(self, parent)
        raise
    finally:
        if slot is not None:
            slot.passthrough = False


def _welded_start_new_thread(function: Any, args: Any, kwargs: Any = None) -> int:
    """``_thread.start_new_thread``: a welded caller's new thread is welded (a daemon thread of its
    weld)."""
    if _get_ident() not in members:
        return (
            _real_start_new_thread(function, args)
            if kwargs is None
            else _real_start_new_thread(function, args, kwargs)
        )
    if not callable(function):  # _thread's own checks, its own words
        raise TypeError("first arg must be callable")
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")
    thread = threading.Thread(target=function, args=args, kwargs=kwargs, daemon=True)
    thread.start()  # welded by _welded_start
    assert thread.ident is not None
    return thread.ident


def _component_threads() -> list[threading.Thread]:
    """``threading.enumerate()``: for a welded thread, the live threads of its own component."""
    me = members.get(_get_ident())
    if me is None:
        return _real_enumerate()
    mine = {
        ident
        for ident, m in list(members.items())
        if m.session is me.session and m.component == me.component
    }
    return [thread for thread in _real_enumerate() if thread.ident in mine]


def _component_thread_count() -> int:
    return len(_component_threads()) if _get_ident() in members else _real_active_count()


def _component_thread_count_old() -> int:
    """``threading.activeCount()``, deprecated as it is in the real module."""
    warnings.warn(
        "activeCount() is deprecated, use active_count() instead", DeprecationWarning, stacklevel=2
    )
    return _component_thread_count()


#: How many lines welded threads may print to the screen in one weld; the rest is only recorded.
MAX_ECHOED_LINES = 1000


class ThreadOutput:
    """A stream that records welded threads' lines, then passes everything on."""

    def __init__(self, real: TextIO, stream: str) -> None:
        self._real = real
        self._stream = stream
        self._partial: dict[int, str] = {}

    #: Show each welded thread's lines as "[name] line" (``sockviz run`` turns this on).
    prefix = False

    def write(self, text: str) -> int:
        ident = _get_ident()
        member = members.get(ident)
        if member is not None and isinstance(text, str):
            # a leftover told to stop that still prints caught it: parked
            member.session.check_stubborn()
            pending = self._partial.pop(ident, "") + text
            *lines, rest = pending.split("\n")
            for line in lines:
                member.net.recorder.emit(
                    "output", self._stream, "line", line, "stream", self._stream
                )
            if rest:
                self._partial[ident] = rest
            if not getattr(member.session, "echo", True):  # recorded, not shown
                return len(text)
            # a flood: recorded, not shown
            if not member.root and not self._may_echo(member.session, len(lines)):
                return len(text)
            if member.root:  # the notebook's own thread: as it comes
                return self._real.write(text)
            # Whole lines only, in one write each time: two threads printing at once show as two
            # lines, not one line spliced from both (print() writes the text and its newline
            # apart). What a thread printed without a newline shows when it ends.
            if lines:
                tag = f"[{member.name}] " if ThreadOutput.prefix else ""
                self._real.write("".join(f"{tag}{line}\n" for line in lines))
            written = len(text)
            if getattr(member.session, "echo_left", 1) <= 0:
                kept = (
                    "not recorded either: the weld is over"
                    if member.net.recorder.sealed
                    else "it is in the trace: trace.of_kind('output')"
                )
                self._real.write(
                    f"[sockviz] the welded threads printed more than {MAX_ECHOED_LINES:,} lines; "
                    f"the rest is not shown here ({kept})\n"
                )
            return written
        return self._real.write(text)

    def _may_echo(self, session: Any, lines: int) -> bool:
        """Whether to show more of what welded threads print: a loop that prints for ever would
        flood the notebook (megabytes of output sent to the browser); after :data:`MAX_ECHOED_LINES`
        lines the rest is recorded only, and one line says so (see :meth:`write`)."""
        left = getattr(session, "echo_left", None)
        # (a terminal, under `sockviz run`, shows everything)
        if left is None or ThreadOutput.prefix:
            return True
        if left <= 0:
            return False
        session.echo_left = left - lines
        return True

    def flush_thread(self) -> None:
        """Record what the calling thread printed without a final newline."""
        ident = _get_ident()
        rest = self._partial.pop(ident, "")
        member = members.get(ident)
        if rest and member is not None:
            member.net.recorder.emit("output", self._stream, "line", rest, "stream", self._stream)
            if member.root or not getattr(member.session, "echo", True):
                return  # (the root's text was shown as it came)
            self._real.write(f"[{member.name}] {rest}\n" if ThreadOutput.prefix else rest)

    def flush(self) -> None:
        member = members.get(_get_ident())
        if (
            member is not None
            and getattr(member.session, "sched", None) is not None
            and not isinstance(self._real, io.TextIOWrapper)
        ):
            # A notebook's stream (ipykernel's OutStream) flushes in the kernel's own thread and
            # waits for it on an Event; under a schedule that wait is scheduled, on the logical
            # clock, and times out at once ("IOStream.flush timed out"). The kernel sends what was
            # written within a moment anyway.
            return
        self._real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def flush_thread_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, ThreadOutput):
            stream.flush_thread()


_real_wrap_socket: Any = None


def _refuse_tls(self: Any, sock: Any, *args: Any, **kwargs: Any) -> Any:
    """``SSLContext.wrap_socket``, refusing fake sockets with a clear error instead of a hang."""
    from .._net._fakesocket import FakeSocket

    if isinstance(sock, FakeSocket):
        raise NotImplementedError(
            "TLS (the ssl module) over sockviz's fake sockets is not supported: sockviz fakes "
            "plain TCP. Weld the program without TLS (http:// instead of https://), or run it "
            "outside the weld."
        )
    return _real_wrap_socket(self, sock, *args, **kwargs)


def _patch_ssl(install: bool) -> None:
    global _real_wrap_socket
    import ssl

    context: Any = ssl.SSLContext
    if install:
        _real_wrap_socket = context.wrap_socket
        context.wrap_socket = _refuse_tls
    elif _real_wrap_socket is not None:
        context.wrap_socket = _real_wrap_socket
        _real_wrap_socket = None


_real_submit = concurrent.futures.ThreadPoolExecutor.submit


def _welded_submit(
    self: concurrent.futures.ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any
) -> Any:
    """``ThreadPoolExecutor.submit``, refusing a welded thread work for a pool whose threads were
    started outside its weld (an earlier cell's pool): they are real threads, with real sockets."""
    member = members.get(_get_ident())
    if member is not None:
        for worker in list(getattr(self, "_threads", ())):
            owner = members.get(worker.ident) if worker.ident is not None else None
            if owner is None or owner.session is not member.session:
                raise RuntimeError(
                    f"{member.name} gave work to a thread pool made outside the weld (in an "
                    "earlier cell?): its threads are real threads, with real sockets. Make the "
                    "pool inside the component."
                )
    return _real_submit(self, fn, *args, **kwargs)


_real_forks = {name: getattr(os, name) for name in ("fork", "forkpty") if hasattr(os, name)}


def _refusing_fork(name: str) -> Any:
    real = _real_forks[name]

    def fork() -> Any:
        """``os.fork()``, refused to welded threads: the child would be a copy of the whole process
        (a notebook's kernel) holding one thread and fake sockets nobody serves, hanging for
        ever."""
        member = members.get(_get_ident())
        if member is not None:
            raise RuntimeError(
                f"{member.name} called os.{name}(): welded components are threads of one process "
                "and cannot fork. Use threads instead (socketserver.ThreadingTCPServer, "
                "threading.Thread)."
            )
        return real()

    return fork


_real_signal = signal.signal


def _welded_signal(signalnum: Any, handler: Any) -> Any:
    """``signal.signal``: a welded thread is a process's main thread in the model, so a component (a
    script's ``signal.signal(SIGINT, bye)``) may install handlers -- which are kept, and never
    called: nothing sends a component a signal.  The main thread (welded by ``fake_network()``) and
    unwelded threads get the real thing."""
    member = members.get(_get_ident())
    # (a fake_network() cell's)
    if member is None or threading.current_thread() is threading.main_thread():
        return _real_signal(signalnum, handler)
    signalnum = signal.Signals(signalnum)  # the real call's checks: a number or a name of a signal
    if not callable(handler) and handler not in (signal.SIG_DFL, signal.SIG_IGN):
        raise TypeError(
            "signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object"
        )
    handlers = member.session.signal_handlers.setdefault(member.component, {})
    previous = handlers.get(signalnum, signal.getsignal(signalnum))
    handlers[signalnum] = handler
    return previous


def install() -> None:
    global _count
    with _guard:
        _count += 1
        _wrap_streams()  # every time: someone (pytest, a notebook) may have replaced a stream since
        if _count > 1:
            return
        _wrap.install()
        _selectwaits.install()
        _patch_ssl(True)
        threading.Thread.start = _welded_start  # type: ignore[method-assign]
        _thread.start_new_thread = _thread.start_new = _welded_start_new_thread
        threading.enumerate, threading.active_count = _component_threads, _component_thread_count
        threading.activeCount = _component_thread_count_old  # the old name, still in tutorials
        concurrent.futures.ThreadPoolExecutor.submit = _welded_submit  # type: ignore[method-assign,assignment]
        for name in _real_forks:
            setattr(os, name, _refusing_fork(name))
        signal.signal = _welded_signal


def _wrap_streams() -> None:
    for name in ("stdout", "stderr"):
        current = getattr(sys, name)
        if current is not None and not isinstance(current, ThreadOutput):
            setattr(sys, name, ThreadOutput(current, name))


def uninstall() -> None:
    global _count
    with _guard:
        if _count == 0:
            return
        _count -= 1
        if _count:
            return
        _wrap.uninstall()
        _selectwaits.uninstall()
        _patch_ssl(False)
        threading.Thread.start = _real_start  # type: ignore[method-assign]
        _thread.start_new_thread, _thread.start_new = _real_start_new_thread, _real_start_new
        threading.enumerate, threading.active_count = _real_enumerate, _real_active_count
        threading.activeCount = _real_active_count_old
        concurrent.futures.ThreadPoolExecutor.submit = _real_submit  # type: ignore[method-assign]
        for name, real in _real_forks.items():
            setattr(os, name, real)
        signal.signal = _real_signal
        for name in ("stdout", "stderr"):
            current = getattr(sys, name)
            if isinstance(current, ThreadOutput):  # only ours: a stream someone set since stays
                setattr(sys, name, current._real)


def uninstall_after(session: Any) -> None:
    """Remove the patches now, or -- if threads of ``session`` (a weld) outlived it -- once they
    end.

    Until then such a thread keeps getting fake sockets (of a stopped network,
    which refuses them) rather than real ones: welded code never reaches the
    real network, even late.  Whether a thread still runs is read from its
    membership, which it holds until its very last line: ``Thread.is_alive()``
    cannot be trusted here (on 3.11 a ``join()`` cut short by Ctrl-C marks a
    running thread as stopped).  A moment after it starts, the janitor stops
    the session's leftovers itself (``session.stop_leftovers()``), in case a
    second Ctrl-C cut the weld's own clean-up short.
    """

    def outlived() -> bool:
        return any(member.session is session for member in list(members.values()))

    if not outlived():
        uninstall()
        return

    def janitor() -> None:
        _real_sleep(0.2)  # the weld's grace: threads stopped in the network unwind first
        while outlived():
            # again and again: a thread that caught LeftRunning is told again
            session.stop_leftovers()
            _real_sleep(0.05)
        uninstall()

    threading.Thread(target=janitor, name="sockviz-janitor", daemon=True).start()
