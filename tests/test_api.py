"""The socket.socket-compatible surface: names, options, and clear refusals."""

from __future__ import annotations

import socket

import pytest

import sockviz


def test_component_names_localhost_and_numbers_resolve_inside_a_weld() -> None:
    """getaddrinfo/gethostbyname know component names and localhost; other names fail like a
    resolver."""
    answers: dict[str, object] = {}

    def server() -> None:
        answers["server"] = socket.gethostbyname("server")
        answers["client"] = socket.getaddrinfo("client", 80, type=socket.SOCK_STREAM)[0][4]
        answers["localhost"] = socket.gethostbyname("localhost")
        answers["number"] = socket.getaddrinfo("127.0.0.5", "http")[0][4]
        answers["passive"] = socket.getaddrinfo(None, 8080, flags=socket.AI_PASSIVE)[0][4]
        with pytest.raises(socket.gaierror) as unknown:
            socket.getaddrinfo("example.com", 80)
        answers["unknown"] = unknown.value.errno
        with pytest.raises(socket.gaierror) as service:
            socket.getaddrinfo("localhost", "no-such-service")
        answers["service"] = service.value.errno
        answers["reverse"] = socket.gethostbyaddr("127.0.0.1")[0]
        answers["fqdn"] = socket.getfqdn("server")

    def client() -> None:
        pass

    sockviz.weld(server, client)
    assert answers == {
        "server": "127.0.0.1",
        "client": ("127.0.0.1", 80),
        "localhost": "127.0.0.1",
        "number": ("127.0.0.5", 80),
        "passive": ("0.0.0.0", 8080),
        "unknown": socket.EAI_NONAME,
        "service": socket.EAI_SERVICE,
        "reverse": "localhost",
        "fqdn": "localhost",
    }


def test_the_machines_own_name_resolves_as_on_debian() -> None:
    """gethostbyname(gethostname()) is 127.0.1.1 (Debian's /etc/hosts) and back; a server bound to
    it is reachable."""
    seen: dict[str, object] = {}

    def server() -> None:
        with socket.socket() as listener:
            listener.bind((socket.gethostname(), 9410))  # the classic tutorial server
            listener.listen()
            seen["bound"] = listener.getsockname()
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"hi")

    def client() -> None:
        host = socket.gethostname()
        seen["address"] = socket.gethostbyname(host)
        seen["info"] = socket.getaddrinfo(host, 9410, socket.AF_INET)[0][4]
        seen["reverse"] = socket.gethostbyaddr("127.0.1.1")[0]
        seen["fqdn"] = socket.getfqdn(host)
        # the server listens on 127.0.1.1, not on localhost
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("localhost", 9410))
        with socket.create_connection((host, 9410)) as sock:
            seen["reply"] = sock.recv(10)

    sockviz.weld(server, client)
    host = socket.gethostname()
    assert seen == {
        "bound": ("127.0.1.1", 9410),
        "address": "127.0.1.1",
        "info": ("127.0.1.1", 9410),
        "reverse": host,
        "fqdn": host,
        "reply": b"hi",
    }


def test_connecting_outside_this_host_is_unreachable() -> None:
    """There is no other host in a fake network: a public address gives ENETUNREACH."""
    with sockviz.fake_network(), pytest.raises(OSError) as info:
        socket.socket().connect(("192.0.2.1", 80))
    assert info.value.errno == 101


@pytest.mark.parametrize(
    ("level", "option", "value"),
    [
        (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1),
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),
        (socket.SOL_SOCKET, socket.SO_SNDBUF, 8192),
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
    ],
)
def test_options_can_be_set_and_read_back(level: int, option: int, value: int) -> None:
    """setsockopt stores the value and getsockopt returns it (as an int, or packed bytes with
    buflen)."""
    with sockviz.fake_network():
        sock = socket.socket()
        sock.setsockopt(level, option, value)
        assert sock.getsockopt(level, option) == value
        assert sock.getsockopt(level, option, 4) == value.to_bytes(4, "little")


def test_buffer_options_default_to_the_weld_buffer_size_and_read_only_options_refuse() -> None:
    """SO_RCVBUF reports the weld's buffer size; SO_TYPE cannot be set (ENOPROTOOPT)."""
    with sockviz.fake_network(buffer_size=4321):
        sock = socket.socket()
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 4321
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM
        with pytest.raises(OSError) as info:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_TYPE, 2)
        assert info.value.errno == 92
        with pytest.raises(TypeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, "yes")


def test_unsupported_kinds_of_socket_are_refused_clearly() -> None:
    """UDP and AF_UNIX sockets in a welded thread raise OSError saying what sockviz fakes."""
    with sockviz.fake_network():
        with pytest.raises(OSError, match="SOCK_STREAM only") as udp:
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        assert udp.value.errno == 94
        with pytest.raises(OSError, match="AF_INET and AF_INET6") as unix:
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        assert unix.value.errno == 97


def test_sockets_made_from_real_descriptors_stay_real_inside_a_weld() -> None:
    """socket.socket(fileno=...) wraps a real descriptor even in a welded thread (as socketpair()
    does)."""
    import os

    with sockviz.fake_network():
        real_a, real_b = __import__("_socket").socketpair()
        wrapped = socket.socket(fileno=os.dup(real_a.fileno()))
        assert not isinstance(wrapped, sockviz.lowlevel.FakeSocket)
        assert isinstance(wrapped, socket.socket)
        wrapped.close()
        real_a.close()
        real_b.close()


def test_repr_shows_addresses_mode_and_owner() -> None:
    """repr() reads like the real one, plus the mode and the owning thread."""
    with sockviz.fake_network(name="notebook"):
        listener = socket.create_server(("127.0.0.1", 4000))
        assert "laddr=('127.0.0.1', 4000)" in repr(listener)
        assert "mode=LISTEN" in repr(listener) and "owner='notebook'" in repr(listener)
        listener.close()
        assert "[closed] fd=-1" in repr(listener)


def test_ipv6_loopback_works() -> None:
    """AF_INET6 sockets bind, listen and connect on ::1 with 4-tuple addresses."""
    with sockviz.fake_network("strict"):
        listener = socket.socket(socket.AF_INET6)
        listener.bind(("::1", 0))
        listener.listen()
        client = socket.socket(socket.AF_INET6)
        client.connect(listener.getsockname()[:2])
        conn, address = listener.accept()
        assert len(address) == 4 and address[0] == "::1"
        client.sendall(b"six")
        assert conn.recv(10) == b"six"


def test_weld_is_not_reentrant_in_one_thread() -> None:
    """A second fake_network() in a thread that is already welded is refused."""
    with (
        sockviz.fake_network(),
        pytest.raises(RuntimeError, match="already welded"),
        sockviz.fake_network(),
    ):
        pass


def test_http_client_talks_to_a_welded_server_through_makefile() -> None:
    """The standard library's http.client (create_connection + makefile('rb')) works over fake
    sockets."""
    import http.client

    body = b"<h1>hello from a fake socket</h1>" * 50

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            with conn, conn.makefile("rb") as request:
                request_line = request.readline()
                while request.readline() not in (b"\r\n", b""):
                    pass  # headers
                assert request_line.startswith(b"GET /page HTTP/1.1")
                head = (
                    f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nContent-Type: "
                    "text/html\r\n\r\n"
                )
                conn.sendall(head.encode() + body)

    got: dict[str, object] = {}

    def client() -> None:
        connection = http.client.HTTPConnection("server", 8080, timeout=5)
        connection.request("GET", "/page")
        response = connection.getresponse()
        got["status"] = response.status
        got["type"] = response.getheader("Content-Type")
        got["body"] = response.read()
        connection.close()

    trace = sockviz.weld(server, client)
    assert got == {"status": 200, "type": "text/html", "body": body}
    assert [m.get("connect") for m in trace.of_kind("meet")] == ["client"]


def test_a_trace_with_duplicated_descriptors_reads_and_replays() -> None:
    """dup and detach are recorded as calls on the socket's number; summary, narration and the world
    follow them."""
    with sockviz.fake_network() as weld:
        a, b = socket.socketpair()
        twin = a.dup()
        a.close()  # one of two descriptors: no end of file for b
        b.setblocking(False)
        with pytest.raises(BlockingIOError):
            b.recv(1)
        fd = twin.detach()
        socket.socket(fileno=fd).close()
        assert b.recv(1) == b""
        b.close()
    trace = weld.trace
    ops = [e.fields["op"] for e in trace.of_kind("call")]
    assert ops.count("dup") == 1 and ops.count("detach") == 1 and ops.count("close") == 3
    closes = [
        e
        for e in trace.of_kind("return")
        if e.fields["op"] == "close" and "descriptors_left" in e.fields
    ]
    assert [e.fields["descriptors_left"] for e in closes] == [1]
    assert "dup" in trace.summary()
    for index in range(len(trace)):
        trace.narrate(index)
    assert trace.state_at(len(trace) - 1) is not None


def test_a_dropped_duplicate_closes_only_its_own_descriptor() -> None:
    """A dup() left to the garbage collector warns and closes its descriptor; the socket lives
    on."""
    import gc
    import warnings

    gc.collect()  # other tests' leftovers first
    with sockviz.fake_network():
        a, b = socket.socketpair()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a.dup()
            gc.collect()
        assert [w.category for w in caught] == [ResourceWarning]
        a.sendall(b"still here")
        assert b.recv(100) == b"still here"
        a.close()
        assert b.recv(100) == b""
        b.close()


def test_a_fake_descriptor_is_fake_whichever_thread_names_it() -> None:
    """socket.fromfd() of a fake descriptor in a thread outside the weld: the fake socket's bytes,
    never the carrier's."""
    import threading

    go, got = threading.Event(), []
    fd_box: list[int] = []

    def bystander() -> None:  # started before the weld: not welded
        go.wait(5)
        copy = socket.fromfd(fd_box[0], socket.AF_UNIX, socket.SOCK_STREAM)
        got.append((type(copy).__name__, copy.recv(100)))
        copy.close()

    thread = threading.Thread(target=bystander)
    thread.start()
    with sockviz.fake_network():
        a, b = socket.socketpair()
        b.sendall(b"hello")
        fd_box.append(a.fileno())  # (a readiness carrier now sits on that descriptor)
        go.set()
        thread.join(5)
        a.close()
        b.close()
    assert got == [("FakeSocket", b"hello")]


@pytest.mark.parametrize("schedule", [None, sockviz.Seeded(1)])
def test_a_weld_inside_a_weld_is_a_clear_error(schedule: sockviz.Schedule | None) -> None:
    """weld() from a welded thread (free or scheduled): a RuntimeError saying so, not a confusing
    deadlock."""

    def outer() -> None:
        sockviz.weld(lambda: None)

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld(outer, schedule=schedule, timeout=5)
    (error,) = info.value.exceptions
    assert isinstance(
        error, RuntimeError
    ) and "called inside a weld (by its thread 'outer'): welds do not nest" in str(error)


def test_lowlevel_holds_the_internals_for_the_curious() -> None:
    """sockviz.lowlevel: the life-cycle tables, the event contract, the fake network and World; its
    example runs."""
    import doctest

    import sockviz.lowlevel as lowlevel

    assert set(lowlevel.__all__) == {
        "KINDS", "REFUSALS", "TRANSITIONS", "COMPLETIONS", "Completion", "UNTIL",
        "Event", "FakeNetwork", "FakeSocket", "Op", "SocketMode", "World", "mode_table",
        "tcp_state",
    }  # fmt: skip
    assert all(getattr(lowlevel, name) is not None for name in lowlevel.__all__)
    assert doctest.testmod(lowlevel).failed == 0
