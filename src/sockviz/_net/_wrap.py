"""Patching the ``socket`` module for welded threads only (weldr's ``wrap_network.c``).

Theory of operation
-------------------
weldr linked its programs with ``ld --wrap`` so that ``socket()``,
``connect()`` and friends landed in the fake library.  Python's equivalent
is replacing attributes of the ``socket`` module -- but that module is
shared by every thread of the process, the notebook kernel's included.  So
each replacement looks at the *calling thread*: a welded thread (see
:mod:`._members`) gets the fake network, every other thread the real thing.

``socket.socket`` itself becomes :class:`SocketStandIn`, a subclass of the
real class whose metaclass decides what a call makes:

* a welded thread calling ``socket.socket()`` gets a :class:`FakeSocket`;
* a call with ``fileno=`` of a fake descriptor (one ``detach()`` or
  ``socket.dup()`` gave) gets a fake socket object for that socket;
* any other call with ``fileno=`` gets a real socket (the standard library wraps
  real descriptors that way: ``socketpair()``, a real listener's ``accept()``);
* ``isinstance(x, socket.socket)`` is true for real and fake sockets alike.

Name resolution is patched the same way, so welded code can connect to
``("server", 8080)`` and never asks a real resolver.  ``install()`` and
``uninstall()`` are called by :mod:`sockviz._weld._patches`, which counts the welds
using them and undoes them on every exit path.
"""

from __future__ import annotations

import functools
import socket as _socket
import threading
from collections.abc import Callable
from typing import Any

from . import _resolve
from ._args import check_flowinfo
from ._descriptors import adopt_descriptor, close_descriptor, duplicate_descriptor
from ._fakesocket import FakeSocket
from ._manager import FakeNetwork
from ._members import members

__all__ = ["SocketStandIn", "install", "uninstall"]

_RealSocket = _socket.socket
_get_ident = threading.get_ident


class _StandInMeta(type):
    def __call__(
        cls, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None
    ) -> Any:
        if cls is SocketStandIn:
            if fileno is None:
                member = members.get(_get_ident())
                if member is not None:
                    return member.net.socket(family, type, proto)
            elif members:
                fake = _fake_for_descriptor(fileno)
                if fake is not None:
                    return fake
            return _RealSocket(family, type, proto, fileno)
        return super().__call__(family, type, proto, fileno)  # a subclass made during a weld

    def __instancecheck__(cls, obj: Any) -> bool:
        if cls is SocketStandIn:
            return isinstance(obj, (_RealSocket, FakeSocket))
        return type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        if cls is SocketStandIn:
            return issubclass(sub, (_RealSocket, FakeSocket))
        return type.__subclasscheck__(cls, sub)


class SocketStandIn(_RealSocket, metaclass=_StandInMeta):
    """What ``socket.socket`` is during a weld: fake for welded threads, real otherwise."""

    __slots__ = ()


def _networks() -> list[FakeNetwork]:
    """The fake networks of the welds running now, the calling thread's first."""
    mine = members.get(_get_ident())
    nets = {id(m.net): m.net for m in list(members.values())}
    return (
        [mine.net, *(net for net in nets.values() if net is not mine.net)]
        if mine is not None
        else list(nets.values())
    )


def _fake_for_descriptor(fileno: Any) -> Any:
    """``socket.socket(fileno=fd)`` of a fake descriptor: a fake socket object (None: a real
    descriptor)."""
    if not isinstance(fileno, int):
        return None
    for net in _networks():
        fake = adopt_descriptor(net, fileno, _socket.getdefaulttimeout())
        if fake is not None:
            return fake
    return None


def _dup(fd: Any) -> int:
    """``socket.dup(fd)`` (``socket.fromfd()`` calls it): a fake descriptor, whoever asks, gets a
    fake duplicate."""
    if isinstance(fd, int) and members:
        for net in _networks():
            new = duplicate_descriptor(net, fd)
            if new is not None:
                return new
    return _originals["dup"](fd)  # type: ignore[no-any-return]


def _close(fd: Any) -> None:
    """``socket.close(fd)``: a fake descriptor, whoever closes it, is closed under its socket
    objects."""
    if isinstance(fd, int) and members and any(close_descriptor(net, fd) for net in _networks()):
        return
    _originals["close"](fd)


def _fake_getaddrinfo(
    net: FakeNetwork,
    host: Any,
    port: Any,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> Any:
    return _resolve.getaddrinfo(net.components, host, port, family, type, proto, flags)


def _fake_gethostbyname(net: FakeNetwork, host: str) -> str:
    return _resolve.gethostbyname(net.components, host)


def _fake_gethostbyname_ex(net: FakeNetwork, host: str) -> tuple[str, list[str], list[str]]:
    return host, [], [_resolve.gethostbyname(net.components, host)]


def _fake_gethostbyaddr(net: FakeNetwork, host: str) -> tuple[str, list[str], list[str]]:
    return _resolve.gethostbyaddr(net.components, host)


def _fake_getnameinfo(net: FakeNetwork, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
    check_flowinfo(sockaddr, "getnameinfo")
    host, port = sockaddr[0], sockaddr[1]
    ip = _resolve.resolve_host(
        host, _socket.AF_INET6 if ":" in str(host) else _socket.AF_INET, net.components
    )
    name = ip if flags & _socket.NI_NUMERICHOST else _resolve.gethostbyaddr(net.components, ip)[0]
    return name, str(port)


def _fake_socketpair(net: FakeNetwork, family: int = -1, type: int = -1, proto: int = 0) -> Any:
    return net.socketpair(family, type, proto)


_FAKES: dict[str, Callable[..., Any]] = {
    "getaddrinfo": _fake_getaddrinfo,
    "gethostbyname": _fake_gethostbyname,
    "gethostbyname_ex": _fake_gethostbyname_ex,
    "gethostbyaddr": _fake_gethostbyaddr,
    "getnameinfo": _fake_getnameinfo,
    "socketpair": _fake_socketpair,
}
#: Calls about descriptors: a fake descriptor is fake whichever thread names it.
_DESCRIPTOR_CALLS: dict[str, Callable[..., Any]] = {"dup": _dup, "close": _close}
_originals: dict[str, Any] = {}


def _dispatching(real: Callable[..., Any], fake: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        member = members.get(_get_ident())
        if member is None:
            return real(*args, **kwargs)
        return fake(member.net, *args, **kwargs)

    return dispatch


#: The calls by which a real socket reaches the real network: refused to welded threads.
_REAL_NETWORK_CALLS = (
    "accept", "bind", "connect", "connect_ex", "listen", "recv", "recv_into", "recvfrom",
    "recvfrom_into", "recvmsg", "recvmsg_into", "send", "sendall", "sendfile", "sendmsg", "sendto",
)  # fmt: skip
# method name -> what socket.socket's own __dict__ had (None: inherited)
_guarded: dict[str, Any] = {}


def _refused_to_welded_threads(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """A real socket's ``method``, refused to welded threads: a socket made before the weld (an
    earlier cell's) is real, and welded code must never reach the real network through it."""

    @functools.wraps(method)
    def real_socket_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        member = members.get(_get_ident())
        if member is not None:
            raise RuntimeError(
                f"{member.name} called {name}() on a real socket, made outside the weld (in an "
                "earlier cell?): welded code reaches only the fake network. Make the socket "
                "inside the component."
            )
        return method(self, *args, **kwargs)

    return real_socket_call


def install() -> None:
    """Patch the socket module (callers count their users: see ``sockviz._weld._patches``)."""
    if _originals:
        return
    for name in _REAL_NETWORK_CALLS:
        _guarded[name] = _RealSocket.__dict__.get(name)
        setattr(_RealSocket, name, _refused_to_welded_threads(name, getattr(_RealSocket, name)))
    _originals["socket"] = _socket.socket
    _socket.socket = SocketStandIn  # type: ignore[misc]
    for name, fake in _FAKES.items():
        _originals[name] = getattr(_socket, name)
        setattr(_socket, name, _dispatching(_originals[name], fake))
    for name, call in _DESCRIPTOR_CALLS.items():
        _originals[name] = getattr(_socket, name)
        setattr(_socket, name, functools.wraps(_originals[name])(call))


def uninstall() -> None:
    """Put back everything :func:`install` replaced."""
    for name, original in _originals.items():
        setattr(_socket, name, original)
    _originals.clear()
    for name, own in _guarded.items():
        if own is None:
            delattr(_RealSocket, name)
        else:
            setattr(_RealSocket, name, own)
    _guarded.clear()
