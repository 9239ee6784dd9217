"""Code exercises: the student's function welded against hidden clients, adversarial ones too."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable

from sockviz import lessons


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise EOFError(f"the peer closed after {len(data)} of {n} bytes")
        data += more
    return data


def do_nothing(sock: socket.socket, n: int) -> bytes:
    return b""


def naive(sock: socket.socket, n: int) -> bytes:
    return sock.recv(n)  # at most n: a message in pieces comes short


def endless(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:  # never sees b'': spins for ever once the peer has gone
        data += sock.recv(n - len(data))
    return data


def silent_on_eof(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            break  # returns a short message as if it were whole
        data += more
    return data


def test_a_correct_recv_exactly_passes_every_hidden_client() -> None:
    feedback = lessons.check("02.recv-exactly", recv_exactly)
    assert feedback and feedback.trace is None and "b''" in feedback.message


def test_a_function_that_does_nothing_is_never_accepted() -> None:
    feedback = lessons.check("02.recv-exactly", do_nothing)
    assert not feedback
    assert feedback.message.startswith("one send of 10 bytes: asked for 10 bytes, your function")


def test_the_naive_recv_fails_on_a_message_in_pieces_and_the_run_can_be_replayed() -> None:
    feedback = lessons.check("02.recv-exactly", naive)
    assert not feedback and feedback.message.startswith("ten sends of one byte each")
    assert "returned b'a'" in feedback.message
    widget = feedback.replay()
    assert "sockviz-replay" in widget._dom_classes


def test_an_endless_loop_on_eof_ends_quickly_with_a_clear_sentence() -> None:
    started = time.monotonic()
    feedback = lessons.check("02.recv-exactly", endless)
    assert time.monotonic() - started < 5
    assert not feedback and "hangs up" in feedback.message and "never returned" in feedback.message


def test_a_short_message_passed_off_as_whole_is_caught() -> None:
    feedback = lessons.check("02.recv-exactly", silent_on_eof)
    assert not feedback and "should raise EOFError or ConnectionError" in feedback.message


def test_the_answer_must_be_the_function() -> None:
    feedback = lessons.check("02.recv-exactly", "recv_exactly")
    assert not feedback and "your function itself" in feedback.message and feedback.trace is None


def recv_message(sock: socket.socket) -> bytes:
    size = int.from_bytes(recv_exactly(sock, 4), "big")
    return recv_exactly(sock, size)


def greedy_message(sock: socket.socket) -> bytes:
    data = sock.recv(65536)  # takes what is there: the next message too
    return data[4:]


def test_framing_accepts_a_correct_reader_and_refuses_the_greedy_one() -> None:
    assert lessons.check("02.framing", recv_message)
    greedy = lessons.check("02.framing", greedy_message)
    assert not greedy and greedy.trace is not None
    assert greedy.message.startswith("a message whose 4-byte header and body come one byte")
    assert not lessons.check("02.framing", lambda sock: b"")
    assert [e.name for e in lessons.exercises(kind="code")][:2] == [
        "02.framing",
        "02.recv-exactly",
    ]


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def threaded_serve(listener: socket.socket) -> None:
    import threading

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_echo, args=(conn,)).start()


def one_at_a_time(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        _echo(conn)


def test_a_threaded_echo_server_passes_and_a_one_at_a_time_server_is_caught() -> None:
    assert lessons.check("03.threaded-echo", threaded_serve)
    serial = lessons.check("03.threaded-echo", one_at_a_time)
    assert not serial and "serves one client at a time" in serial.message
    assert serial.trace is not None
    nothing = lessons.check("03.threaded-echo", lambda listener: None)
    assert not nothing and nothing.message.startswith("one client: ann's ConnectionRefusedError")

    def crashing(listener: socket.socket) -> None:
        listener.accept()
        raise RuntimeError("oops")

    crashed = lessons.check("03.threaded-echo", crashing)
    assert not crashed and "your server raised RuntimeError('oops')" in crashed.message


def selector_serve(listener: socket.socket) -> None:
    import selectors

    sel = selectors.DefaultSelector()
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is listener:
                conn, _ = listener.accept()
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
            else:
                data = key.fileobj.recv(1024)  # type: ignore[union-attr]
                if data:
                    key.fileobj.sendall(data)  # type: ignore[union-attr]
                else:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()  # type: ignore[union-attr]


def test_an_event_driven_echo_server_passes_and_threads_or_serial_serving_do_not() -> None:
    assert lessons.check("10.selectors-echo", selector_serve)
    threaded = lessons.check("10.selectors-echo", threaded_serve)
    assert not threaded and "your server started threads (server/Thread-1" in threaded.message
    serial = lessons.check("10.selectors-echo", one_at_a_time)
    assert not serial and "serves one client at a time" in serial.message


def chat_server(*, to_the_speaker: bool) -> Callable[[socket.socket], None]:
    """A thread-per-client chat server that sends each line to every other client (or, wrongly,
    also back to its speaker)."""

    def serve(listener: socket.socket) -> None:
        import threading

        clients: set[socket.socket] = set()
        lock = threading.Lock()

        def talk(conn: socket.socket) -> None:
            with lock:
                clients.add(conn)
            try:
                while data := conn.recv(1024):
                    with lock:
                        hearers = [c for c in clients if to_the_speaker or c is not conn]
                    for other in hearers:
                        with contextlib.suppress(OSError):  # (leaving: its own thread forgets it)
                            other.sendall(data)
            finally:
                with lock:
                    clients.discard(conn)
                conn.close()

        while True:
            conn, _ = listener.accept()
            threading.Thread(target=talk, args=(conn,)).start()

    return serve


chat_serve = chat_server(to_the_speaker=False)
shouting_chat = chat_server(to_the_speaker=True)  # the speaker hears its own line back


def forgetful_chat(listener: socket.socket) -> None:
    import threading

    clients: list[socket.socket] = []

    def talk(conn: socket.socket) -> None:
        while data := conn.recv(1024):
            for other in clients:
                if other is not conn:
                    other.sendall(data)  # still writes to a client that left

    while True:
        conn, _ = listener.accept()
        clients.append(conn)
        threading.Thread(target=talk, args=(conn,)).start()


def test_the_chat_capstone_wants_broadcast_and_a_server_that_forgets_who_left() -> None:
    assert lessons.check("10.chat", chat_serve)
    forgetful = lessons.check("10.chat", forgetful_chat)
    assert not forgetful and "cat leaves at once" in forgetful.message
    assert "BrokenPipeError" in forgetful.message or "ConnectionResetError" in forgetful.message
    echoing = lessons.check("10.chat", threaded_serve)  # echoes to the sender, tells nobody else
    assert not echoing
    assert not lessons.check("10.chat", lambda listener: None)
    loud = lessons.check("10.chat", shouting_chat)  # tells everybody, the speaker too
    assert not loud and "ann should have heard b''" in loud.message
