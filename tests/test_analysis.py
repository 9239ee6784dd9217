"""Trace analysis: sockets, waits, meetings, the world at any event, sentences, filters."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sockviz
from sockviz._trace._kinds import KINDS
from sockviz._trace._world import WorldIndex, replay_to

from .scenarios import scenario_trace

# -- sockets -------------------------------------------------------------------------


def test_sockets_have_owner_addresses_and_mode_history(echo: sockviz.Trace) -> None:
    """Each socket comes with its owner, both addresses, its connection and every mode it went
    through."""
    lives = echo.sockets()
    listener = next(s for s in lives if s.listened)
    assert listener.owner == "server" and listener.local == "0.0.0.0:8080" and listener.peer is None
    assert listener.modes == ["NOT_INIT", "BOUND", "LISTEN", "CLOSED"]
    alice = next(s for s in lives if s.owner == "alice")
    assert alice.modes == ["NOT_INIT", "CONNECTING", "OUTBOUND", "CLOSED"]
    assert alice.peer == "127.0.0.1:8080" and re.fullmatch(r"127\.0\.0\.1:\d+", alice.local or "")
    served = next(s for s in lives if s.modes[0] == "INBOUND" and s.conn == alice.conn)
    assert served.owner == "server" and served.peer == alice.local and served.local == alice.peer
    assert all(s.closed is not None for s in lives)
    assert len(lives) == 5


def test_a_reused_descriptor_is_a_new_socket() -> None:
    """When a closed fd number comes back, sockets() reports two lives, each with its own
    history."""
    trace = scenario_trace("backlog", "weldr")
    client_fds = [s.fd for s in trace.sockets() if s.owner in ("ann", "ben", "cat")]
    assert len(client_fds) == 3
    assert len(trace.sockets()) == 7
    assert all(s.modes[-1] == "CLOSED" for s in trace.sockets())


# -- waits ---------------------------------------------------------------------------


def test_waits_say_what_for_and_who_woke_them(echo: sockviz.Trace) -> None:
    """The server's accept() wait is woken by a client's connect, named as the waker."""
    accept_waits = [w for w in echo.waits() if w.what == "accept"]
    assert accept_waits and accept_waits[0].thread == "server"
    first = accept_waits[0]
    assert first.outcome == "woken" and first.waker in ("alice", "bob")
    assert echo.by_seq(first.woken_by).kind == "cond.notify"  # type: ignore[arg-type, union-attr]
    assert first.start < first.woken_by < first.end  # type: ignore[operator]
    assert (
        first.waits_for.startswith("accept() on fd") and first.duration_ns and first.duration_ns > 0
    )
    assert {w.what for w in echo.waits()} >= {"accept", "recv", "connect"}


def test_deadlocked_waits_never_end_in_a_wake_up() -> None:
    """In the deadlock both recv() waits are cut short by the weld stopping them, woken by
    nobody."""
    trace = scenario_trace("deadlock", "weldr")
    recv_waits = [w for w in trace.waits() if w.what == "recv"]
    assert sorted(w.thread for w in recv_waits) == ["client", "server"]
    for wait in recv_waits:
        assert wait.outcome == "stopped" and wait.waker is None
        ended_by = trace.by_seq(wait.end)  # type: ignore[arg-type]
        assert (
            ended_by is not None
            and ended_by.kind == "return"
            and ended_by.fields["error"] == "NetworkStopped"
        )
    assert trace.state_at(-1).threads["client"].status == "ended"


def test_a_timed_out_wait_says_so() -> None:
    """A recv() with a timeout that runs out is a wait with outcome 'timeout'."""

    def server() -> None:
        with socket.create_server(("", 9000)) as listener:
            conn, _ = listener.accept()
            conn.settimeout(0.05)
            with pytest.raises(TimeoutError):
                conn.recv(10)
            conn.close()

    def client() -> None:
        with socket.create_connection(("server", 9000)) as sock:
            sock.recv(10)

    trace = sockviz.weld({"server": server, "client": client})
    timed = [w for w in trace.waits() if w.outcome == "timeout"]
    assert len(timed) == 1 and timed[0].thread == "server" and timed[0].what == "recv"
    assert timed[0].duration_ns is not None and timed[0].duration_ns >= 40_000_000


# -- meetings ----------------------------------------------------------------------------


def test_meetings_name_both_sides_and_when_each_arrived(echo: sockviz.Trace) -> None:
    """Each connect/accept meeting names both threads, all fds and the arrival of each side."""
    meetings = echo.meetings()
    assert sorted(m.connect_thread for m in meetings) == ["alice", "bob"]
    for m in meetings:
        assert (
            m.accept_thread == "server"
            and m.what == "connect/accept"
            and m.addr == "127.0.0.1:8080"
        )
        connect, accept = echo.by_seq(m.connect_arrived), echo.by_seq(m.accept_arrived)  # type: ignore[arg-type]
        assert connect is not None and connect.fields["op"] == "connect" and connect.obj == m.client
        assert accept is not None and accept.fields["op"] == "accept" and accept.obj == m.listener
        assert max(m.connect_arrived, m.accept_arrived) < m.seq  # type: ignore[type-var]
        assert m.first in ("connect", "accept")


def test_socketpair_is_a_meeting_too() -> None:
    """socketpair() is recorded as a meeting of the thread with itself."""

    def pair() -> None:
        a, b = socket.socketpair()
        a.close()
        b.close()

    (meeting,) = sockviz.weld(pair).meetings()
    assert (
        meeting.what == "socketpair" and meeting.connect_thread == meeting.accept_thread == "pair"
    )


# -- the world at an event -------------------------------------------------------------------


def test_state_at_shows_sockets_buffers_and_blocked_threads() -> None:
    """Mid-transfer in the backpressure scenario: the buffer is full and the sender waits in
    sendall."""
    trace = scenario_trace("backpressure", "weldr", buffer_size=8192)
    full = next(i for i, e in enumerate(trace) if e.kind == "cond.wait" and e.thread == "sender")
    world = trace.state_at(full)
    sender = next(s for s in world.sockets.values() if s.owner == "sender")
    reader = next(s for s in world.sockets.values() if s.owner == "reader" and s.mode == "INBOUND")
    assert sender.outbound == 8192 == reader.inbound and sender.inbound == 0
    assert world.threads["sender"].status == "blocked" and world.threads["sender"].call == "sendall"
    assert world.threads["sender"].waits_for.startswith("send() on fd")  # type: ignore[union-attr]
    assert "sender" in world.conditions[world.threads["sender"].waits_on].waiters  # type: ignore[index]
    end = trace.state_at(-1)
    assert all(t.status == "ended" for t in end.threads.values()) and not end.sockets


def test_state_at_shows_semaphore_waiters_in_weldr_connect(echo: sockviz.Trace) -> None:
    """While a weldr connect() waits for accept(), its semaphore lists the client as waiter."""
    i = next(i for i, e in enumerate(echo) if e.kind == "sem.wait")
    event = echo[i]
    world = echo.state_at(i)
    assert world.semaphores[event.obj].waiters == (event.thread,)
    assert world.threads[event.thread].status == "blocked"


def test_state_at_refuses_an_index_out_of_range(echo: sockviz.Trace) -> None:
    """Indexes follow list rules: negative from the end, out of range raises IndexError."""
    assert echo.state_at(-1).position == len(echo) - 1
    with pytest.raises(IndexError, match="out of range"):
        echo.state_at(len(echo))


def _oracle(
    events: list[sockviz.lowlevel.Event], index: int
) -> tuple[dict[object, str], dict[str, int], dict[str, str]]:
    """An independent, brute-force account: modes of open sockets, buffer fills, thread status."""
    modes: dict[object, str] = {}
    fills: dict[str, int] = {}
    status: dict[str, str] = {}
    closed_at: dict[object, int] = {}
    for position, event in enumerate(events[: index + 1]):
        kind = event.kind
        if kind == "state":
            modes[event.obj] = event.fields["to"]
            closed_at[event.obj] = position
        elif kind in ("buf.write", "buf.read", "buf.eof") and not event.fields.get("dropped"):
            fills[event.obj] = event.fields["fill"]
        if kind in ("cond.wait", "sem.wait", "lock.wait"):
            status[event.thread] = "blocked"
        elif kind in ("lock.release", "deadlock", "timeout") and event.thread in status:
            # a condition wait releases its lock after it has begun; the last to block reports a
            # deadlock
            pass
        elif kind in ("thread.exit", "thread.error"):
            status[event.thread] = "ended"
        else:
            status[event.thread] = "running"
    # a socket is shown CLOSED by the event that closes it, and is gone after that
    modes = {fd: m for fd, m in modes.items() if m != "CLOSED" or closed_at[fd] == index}
    return modes, fills, status


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=6),
    clients=st.integers(1, 3),
    buffer_size=st.sampled_from([256, 1024, 65536]),
    read_size=st.sampled_from([7, 100, 4096]),
    semantics=st.sampled_from(["weldr", "strict"]),
    every=st.sampled_from([1, 3, 17, 128]),
    picks=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=8),
)
def test_state_at_matches_a_brute_force_replay(
    messages, clients, buffer_size, read_size, semantics, every, picks
) -> None:
    """On random echo traffic, checkpointed state_at equals a full replay and an independent
    oracle."""

    def server() -> None:
        with socket.create_server(("", 7000), backlog=clients) as listener:
            handlers = []
            for _ in range(clients):
                conn, _ = listener.accept()

                def echo_back(conn: socket.socket = conn) -> None:
                    with conn:
                        while chunk := conn.recv(read_size):
                            conn.sendall(chunk)

                handler = threading.Thread(target=echo_back)
                handler.start()
                handlers.append(handler)
            for handler in handlers:
                handler.join()

    def client() -> None:
        from sockviz.scenarios import connect_with_retry

        with connect_with_retry(("server", 7000)) as sock:
            for message in messages:
                sock.sendall(message)
                got = b""
                while len(got) < len(message):
                    got += sock.recv(read_size)
                assert got == message

    components = {"server": server, **{f"c{n}": client for n in range(clients)}}
    trace = sockviz.weld(components, semantics=semantics, buffer_size=buffer_size)
    events = trace.events
    index = WorldIndex(events, every=every)
    for i in [int(pick * len(events)) for pick in picks]:
        world = index.state_at(i)
        assert world == replay_to(events, i)
        modes, fills, status = _oracle(events, i)
        assert {fd: s.mode for fd, s in world.sockets.items()} == modes
        for name, fill in world.buffers.items():
            assert fills[name] == fill
        assert {t: s.status for t, s in world.threads.items()} == status


# -- sentences -----------------------------------------------------------------------------------

EXAMPLES = {
    "thread.start": {"component": "server", "parent": None},
    "thread.exit": {"reason": "returned"},
    "thread.error": {"error": "ValueError", "message": "bad", "traceback": ""},
    "output": {"line": "hello", "stream": "stdout"},
    "call": {"op": "connect", "addr": "127.0.0.1:8080"},
    "return": {"op": "recv", "result": 0},
    "state": {"from": "CONNECTING", "to": "OUTBOUND"},
    "refused": {"addr": "127.0.0.1:8080"},
    "lock.wait": {"holder": "server"},
    "lock.acquire": {"waited_ns": 2500, "cause": 0},
    "lock.release": {},
    "cond.wait": {
        "call": "recv",
        "fd": 5,
        "until": "data",
        "peer_fd": 6,
        "peer_owner": "server",
        "addr": None,
        "timeout": None,
    },
    "cond.notify": {"n": 1},
    "cond.wake": {"cause": 0},
    "cond.timeout": {"timeout": 0.5},
    "sem.wait": {
        "call": "connect",
        "fd": 5,
        "until": "accept",
        "peer_fd": 4,
        "peer_owner": "server",
        "addr": None,
        "timeout": None,
    },
    "sem.post": {"value": 1},
    "sem.acquire": {"cause": 0, "value": 0},
    "sem.timeout": {"timeout": 1.0},
    "buf.write": {"n": 5, "fill": 5, "cap": 65536},
    "buf.read": {"n": 5, "fill": 0, "cap": 65536},
    "buf.eof": {"fill": 0},
    "meet": {
        "what": "connect/accept",
        "connect": "client",
        "accept": "server",
        "listener": 4,
        "client": 5,
        "server": 6,
        "conn": 1,
    },
    "timeout": {"after": 30.0, "waits": {"client": "recv() on fd 5 waits for server to send"}},
    "deadlock": {"waits": {"client": "recv() on fd 5 waits for server to send"}},
    "outside": {"where": "client.py:12 in ask(): name = input()", "after": 1.0},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_narrate_has_a_sentence_for_every_kind(kind: str) -> None:
    """Every event kind gets its own plain sentence (not the generic fallback)."""
    first = sockviz.lowlevel.Event(0, 0, "server", "thread.start", None, {})
    family = kind.split(".")[0]
    obj = {"buf": "conn1.up", "cond": "conn1.up.data", "sem": "fd5.accepted", "lock": "net"}.get(
        family, 5
    )
    trace = sockviz.Trace(
        [first, sockviz.lowlevel.Event(1, 10, "client", kind, obj, EXAMPLES[kind])]
    )
    sentence = trace.narrate(1)
    assert sentence != f"client: {kind} on {obj}."
    assert sentence.endswith(".") and ("client" in sentence or str(obj) in sentence)
    assert "{" not in sentence and "None" not in sentence


def test_narrate_explains_a_wait_in_domain_words(echo: sockviz.Trace) -> None:
    """A connect() waiting for accept() is told as a student would say it."""
    i = next(i for i, e in enumerate(echo) if e.kind == "sem.wait" and e.thread == "alice")
    assert re.fullmatch(
        r"alice waits in connect\(\) on fd \d+: nobody has accepted yet, so it waits until "
        r"server's accept\(\) wakes it \(#\d+\)\.",
        echo.narrate(i),
    )
    sentences = [echo.narrate(i) for i in range(len(echo))]
    assert not [
        s for s in sentences if re.search(r": \S+ on ", s) and s.split(":")[0] in echo.threads
    ]


# -- filter ------------------------------------------------------------------------------------


def test_filter_by_component_kind_family_and_window(echo: sockviz.Trace) -> None:
    """filter() keeps a component's child threads, a kind family, a time window; seqs stay."""
    server = echo.filter(threads="server")
    assert set(server.threads) == {"server", "server/handler1", "server/handler2"}
    locks = echo.filter(kinds=["cond", "meet"])
    assert {e.kind for e in locks} <= {
        "cond.wait",
        "cond.wake",
        "cond.notify",
        "cond.timeout",
        "meet",
    } and locks.of_kind("meet")
    middle = echo[len(echo) // 2].t_ns / 1e6
    early = echo.filter(window=(None, middle))
    assert early.events == [e for e in echo if e.t_ns <= middle * 1e6]
    both = echo.filter(threads=["alice"], kinds="call")
    assert all(e.thread == "alice" and e.kind == "call" for e in both) and len(both) > 3
    assert both[0].seq == next(e.seq for e in echo if e.thread == "alice" and e.kind == "call")
    assert both.meta["filtered"]["threads"] == ["alice"] and both.meta["semantics"] == "weldr"


def test_lock_waits_are_named_in_domain_words() -> None:
    """A wait for the network's lock is the original's bind lock; others name their lock."""
    events = [
        sockviz.lowlevel.Event(0, 0, "a", "lock.wait", "net", {"holder": "b"}),
        sockviz.lowlevel.Event(1, 5, "b", "lock.release", "net", {}),
        sockviz.lowlevel.Event(2, 9, "a", "lock.acquire", "net", {"waited_ns": 9, "cause": 1}),
        sockviz.lowlevel.Event(3, 10, "a", "lock.wait", "conn1", {"holder": "b"}),
    ]
    trace = sockviz.Trace(events)
    assert trace.waits() == []  # the simulator's bookkeeping: shown only when asked for
    first, second = trace.waits(internals=True)
    assert (first.what, first.waker, first.outcome, first.duration_ns) == (
        "bind lock (net)",
        "b",
        "woken",
        9,
    )
    assert (second.what, second.outcome, second.end) == ("lock conn1", "unfinished", None)
    world = sockviz.Trace(events).state_at(3)
    assert world.locks["conn1"].waiters == ("a",) and world.locks["net"].holder == "a"


# -- the narration's oracle: what the whole trace knows -------------------------------------------


def _oracle_traces() -> dict[str, sockviz.Trace]:
    from sockviz import scenarios

    traces = {}
    for semantics in ("weldr", "strict"):
        for name in ("echo_scenario", "race_scenario", "http_scenario"):
            made = getattr(scenarios, name)()
            components = made[0] if isinstance(made, tuple) else made  # (http: and its results)
            try:
                trace = sockviz.weld(components, semantics=semantics, echo=False)
            except (sockviz.ComponentError, sockviz.DeadlockError) as error:
                trace = error.trace
            traces[f"{name}/{semantics}"] = trace
    return traces


def test_every_state_sentence_names_the_sockets_owner_and_every_woken_wait_its_waker() -> None:
    """A sentence about a descriptor names the thread that owns it (trace.sockets()), not the one
    that happened to record the change; a wait that was woken names the thread that woke it and
    the event (trace.waits()); no sentence says None."""
    for name, trace in _oracle_traces().items():
        owner = {seq: life.owner for life in trace.sockets() for seq, _, _ in life.history}
        waits = {w.start: w for w in trace.waits()}
        for i, event in enumerate(trace.events):
            sentence = trace.narrate(i)
            assert "None" not in sentence, (name, sentence)
            if event.kind == "state":
                assert sentence.startswith(f"fd {event.obj} of {owner[event.seq]} "), (
                    name,
                    sentence,
                )
            wait = waits.get(event.seq)
            if event.kind in ("cond.wait", "sem.wait") and wait and wait.outcome == "woken":
                assert f"until {wait.waker}" in sentence and f"(#{wait.woken_by})" in sentence, (
                    name,
                    sentence,
                )


def test_a_weldr_client_socket_is_told_as_the_clients_though_the_server_records_its_outbound(
    echo: sockviz.Trace,
) -> None:
    """Under weldr semantics accept() completes the client's connect: the OUTBOUND state event is
    recorded by the server's thread, and the sentence still names alice, whose socket it is."""
    [i] = [
        i
        for i, e in enumerate(echo)
        if e.kind == "state" and e.fields.get("to") == "OUTBOUND" and e.thread == "server"
    ][:1]
    assert echo.narrate(i).startswith(f"fd {echo[i].obj} of alice goes from CONNECTING to OUTBOUND")
