"""Recording socket calls: the ``call`` and ``return`` events around each API method."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fmt_address", "traced"]

F = TypeVar("F", bound=Callable[..., Any])


#: addresses formatted so far: every state event formats its addresses, a few per socket call
_formatted: dict[Any, str | None] = {None: None}


def fmt_address(addr: Any) -> str | None:
    """``("127.0.0.1", 8080)`` -> ``"127.0.0.1:8080"`` (events carry strings)."""
    try:
        return _formatted[addr]
    except KeyError:
        text = _format(addr)
        if len(_formatted) < 4096 and type(addr[1]) is int:  # (not 8080.0 nor True as 8080, 1)
            _formatted[addr] = text
        return text
    except TypeError:  # (a list from a caller: connect() itself will refuse it)
        return _format(addr)


def _format(addr: Any) -> str:
    host, port = addr[0], addr[1]
    if host == "":
        host = "*"  # any address, as netstat writes it
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def traced(
    op: str,
    describe: Callable[..., tuple[Any, ...]] | None = None,
    result: Callable[[Any], tuple[Any, ...]] | None = None,
) -> Callable[[F], F]:
    """Record a ``call`` event before and a ``return`` event after the method.

    ``describe(*args)`` gives the call's fields and ``result(value)`` the
    return's, as flat ``(name, value, name, value...)`` tuples (the
    recorder's cheap form); by default the return value is the ``result``.
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
            net = self._net
            stopped = net.tracker.stopped
            # the weld is over: a leftover thread unwinds here, recording nothing
            if stopped is not None:
                raise net.refusal()
            if (
                self._fd < 0 or self._fd_lost
            ) and self._descriptors:  # this object's descriptor is closed, the socket lives
                self._check_open()
            if net.orphans:  # a safe point: close garbage-collected sockets
                net.close_orphans()
            emit = self._rec.emit
            fields: tuple[Any, ...] = ()
            if describe is not None:
                try:  # noqa: SIM105 - contextlib.suppress costs an object per call
                    fields = describe(*args, **kwargs)
                except (TypeError, ValueError, AttributeError, IndexError):
                    pass  # a bad argument is for the method itself to complain about
            emit("call", self._number, "op", op, *fields)
            try:
                value = method(self, *args, **kwargs)
            except BaseException as exc:
                emit(
                    "return", self._number,
                    "op", op, "error", type(exc).__name__, "errno", getattr(exc, "errno", None),
                )  # fmt: skip
                raise
            finally:
                if net.carriers:  # someone selects on fake sockets: show them what the call changed
                    net.show_readiness()
            if result is None:
                emit("return", self._number, "op", op, "result", value)
            else:
                emit("return", self._number, "op", op, *result(value))
            return value

        return traced  # type: ignore[return-value]

    return decorate
