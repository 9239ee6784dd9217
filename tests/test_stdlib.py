"""The standard library's servers and clients, unmodified and welded: the bytes arrive, the
threads meet."""

from __future__ import annotations

import socket
import ssl

import pytest

import sockviz
from sockviz.scenarios import FILES, asyncio_scenario, http_scenario, wsgi_scenario, xmlrpc_scenario


def accept_threads(trace: sockviz.Trace) -> set[str]:
    return {m.accept_thread for m in trace.meetings() if m.what == "connect/accept"}


def connect_threads(trace: sockviz.Trace) -> set[str]:
    return {m.connect_thread for m in trace.meetings() if m.what == "connect/accept"}


@pytest.mark.parametrize("semantics", ["weldr", "strict"])
def test_http_server_with_urllib_and_http_client(semantics: str) -> None:
    """ThreadingTCPServer + SimpleHTTPRequestHandler: both clients get the files byte-exact;
    serve_forever and shutdown work."""
    components, results = http_scenario()
    trace = sockviz.weld(components, semantics=semantics, timeout=30)
    assert results["urllib"] == FILES["hello.txt"]
    assert results["status"] == 200 and results["http.client"] == FILES["data.bin"]
    assert connect_threads(trace) == {"client"}
    assert accept_threads(trace) == {"server/serve_forever"}
    assert len(trace.meetings()) >= 2
    handlers = [t for t in trace.threads if t.startswith("server/") and t != "server/serve_forever"]
    assert handlers, "ThreadingTCPServer's per-request threads are welded too"


def test_xmlrpc_server_and_proxy() -> None:
    """SimpleXMLRPCServer answers ServerProxy's call."""
    components, results = xmlrpc_scenario()
    trace = sockviz.weld(components, timeout=30)
    assert results["add"] == 5
    assert connect_threads(trace) == {"client"} and accept_threads(trace) == {"server"}


def test_wsgiref_server_and_http_client() -> None:
    """wsgiref's server runs a WSGI app for an http.client request."""
    components, results = wsgi_scenario()
    trace = sockviz.weld(components, timeout=30)
    assert results["wsgi"] == b"hello from WSGI at /greeting"
    assert connect_threads(trace) == {"client"} and accept_threads(trace) == {"server"}


@pytest.mark.parametrize("semantics", ["weldr", "strict"])
def test_asyncio_streams_in_two_event_loops(semantics: str) -> None:
    """asyncio.start_server and open_connection, each loop in its own welded thread."""
    components, results = asyncio_scenario()
    trace = sockviz.weld(components, semantics=semantics, timeout=30)
    assert results["asyncio"] == b"HELLO, ASYNCIO\n"
    assert connect_threads(trace) == {"client"} and accept_threads(trace) == {"server"}


def test_asyncio_loop_sock_calls() -> None:
    """loop.sock_connect / sock_accept / sock_sendall / sock_recv on fake sockets (readiness through
    the carriers)."""
    import asyncio

    got: dict[str, bytes] = {}

    def server() -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            listener = socket.create_server(("", 8004))
            listener.setblocking(False)
            conn, _ = await loop.sock_accept(listener)
            conn.setblocking(False)
            got["server"] = await loop.sock_recv(conn, 100)
            await loop.sock_sendall(conn, b"pong")
            conn.close()
            listener.close()

        asyncio.run(main())

    def client() -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            sock = socket.socket()
            sock.setblocking(False)
            await loop.sock_connect(sock, ("server", 8004))
            await loop.sock_sendall(sock, b"ping")
            got["client"] = await loop.sock_recv(sock, 100)
            sock.close()

        asyncio.run(main())

    sockviz.weld(server, client, timeout=30)
    assert got == {"server": b"ping", "client": b"pong"}


def test_tls_over_fake_sockets_is_refused_clearly() -> None:
    """ssl's wrap_socket on a fake socket raises NotImplementedError at once; real sockets are
    untouched after."""
    caught: list[BaseException] = []

    def client() -> None:
        try:
            ssl.create_default_context().wrap_socket(socket.socket(), server_hostname="server")
        except NotImplementedError as error:
            caught.append(error)

    sockviz.weld(client, timeout=10)
    assert caught and "TLS" in str(caught[0]) and "not supported" in str(caught[0])
    # real sockets are wrapped as ever after the weld (whether or not another test's leftover
    # thread still keeps the patches installed)
    with socket.socket() as real:
        wrapped = ssl.create_default_context().wrap_socket(
            real, server_hostname="server", do_handshake_on_connect=False
        )
        assert isinstance(wrapped, ssl.SSLSocket)
        wrapped.close()
