"""The instrumented primitives: who waits, who wakes whom, and exact deadlock accounting."""

from __future__ import annotations

import threading
import time

import pytest

from sockviz import NetworkStopped, Trace
from sockviz._core._events import WaitReason
from sockviz._core._recorder import Recorder
from sockviz._core._sync import Condition, Lock, Semaphore
from sockviz._core._tracker import WaitTracker


def _kit() -> tuple[Recorder, WaitTracker]:
    rec = Recorder()
    return rec, WaitTracker(rec)


def test_condition_wake_names_the_notify_that_caused_it() -> None:
    """A thread woken by notify() records cond.wake whose cause is that notify's seq."""
    rec, tracker = _kit()
    cond = Condition(Lock("L", rec), "ready", tracker)
    woke = threading.Event()

    def waiter() -> None:
        with cond:
            cond.wait(5, WaitReason("recv", 7, "data", 8, "the test"))
        woke.set()

    thread = threading.Thread(target=waiter, name="waiter")
    thread.start()
    while not cond.waiting:
        time.sleep(0.001)
    with cond:
        cond.notify()
    thread.join()
    trace = Trace(rec.events)
    [notify] = trace.of_kind("cond.notify")
    [wake] = trace.of_kind("cond.wake")
    assert wake.get("cause") == notify.seq and wake.thread == "waiter"
    wait = trace.of_kind("cond.wait")[0]
    assert (
        wait.get("call"),
        wait.get("fd"),
        wait.get("until"),
        wait.get("peer_fd"),
        wait.get("peer_owner"),
    ) == ("recv", 7, "data", 8, "the test")
    assert trace.waits()[0].waits_for == "recv() on fd 7 waits for the test to send"


def test_condition_timeout_is_recorded_and_returns_false() -> None:
    """A wait that runs out of time returns False and records cond.timeout."""
    rec, tracker = _kit()
    cond = Condition(Lock("L", rec), "never", tracker)
    with cond:
        assert cond.wait(0.05) is False
    assert [e.kind for e in Trace(rec.events)] == ["cond.wait", "cond.timeout"]


def test_semaphore_hands_permits_in_arrival_order_with_causes() -> None:
    """Posts go to the longest waiter first, each acquire naming the post that gave it the
    permit."""
    rec, tracker = _kit()
    sem = Semaphore("slots", rec, tracker)
    order: list[str] = []

    def taker(name: str) -> None:
        sem.acquire(5)
        order.append(name)

    threads = []
    for name in ("first", "second"):
        threads.append(threading.Thread(target=taker, args=(name,), name=name))
        threads[-1].start()
        while len(sem._waiters) < len(threads):
            time.sleep(0.001)
    sem.post()
    threads[0].join()
    sem.post()
    threads[1].join()
    assert order == ["first", "second"]
    trace = Trace(rec.events)
    posts = trace.of_kind("sem.post")
    acquires = trace.of_kind("sem.acquire")
    assert [a.get("cause") for a in acquires] == [p.seq for p in posts]


def test_semaphore_rejects_a_negative_value() -> None:
    """A semaphore cannot start below zero."""
    rec, tracker = _kit()
    with pytest.raises(ValueError, match=">= 0"):
        Semaphore("bad", rec, tracker, -1)


def test_lock_records_contention_only() -> None:
    """Uncontended acquire/release records nothing; a contended one records wait, release and
    acquire with its cause."""
    rec, _ = _kit()
    lock = Lock("L", rec)
    with lock:
        pass
    assert len(rec) == 0
    lock.acquire()
    got = threading.Event()

    def contender() -> None:
        with lock:
            got.set()

    thread = threading.Thread(target=contender, name="contender")
    thread.start()
    while not lock._waiting:
        time.sleep(0.001)
    lock.release()
    thread.join()
    trace = Trace(rec.events)
    kinds = [e.kind for e in trace]
    assert kinds[:1] == ["lock.wait"] and "lock.release" in kinds and "lock.acquire" in kinds
    acquire = trace.of_kind("lock.acquire")[0]
    assert acquire.get("cause") == trace.of_kind("lock.release")[0].seq
    assert acquire.get("waited_ns") > 0


def test_tracker_reports_a_deadlock_when_the_last_live_thread_blocks() -> None:
    """With one live thread, an untimed wait nobody can notify is a deadlock, reported with what it
    waits for."""
    rec, tracker = _kit()
    cond = Condition(Lock("L", rec), "c", tracker)
    seen: list[dict[str, str]] = []
    tracker.on_deadlock = lambda waits: (
        seen.append(waits),
        tracker.stop(lambda: NetworkStopped("deadlock")),
    )
    tracker.enter()
    with pytest.raises(NetworkStopped), cond:
        cond.wait(None, WaitReason("accept", 3, "connection", addr="0.0.0.0:80"))
    assert list(seen[0].values()) == [
        "accept() on fd 3 waits for a client to connect to 0.0.0.0:80"
    ]


def test_tracker_stop_wakes_every_waiter_and_refuses_new_waits() -> None:
    """stop() wakes parked threads with the stop error; later waits raise it at once."""
    rec, tracker = _kit()
    cond = Condition(Lock("L", rec), "c", tracker)
    tracker.enter()
    tracker.enter()  # a second live thread: no deadlock
    raised: list[BaseException] = []

    def parked() -> None:
        try:
            with cond:
                cond.wait(None)
        except NetworkStopped as exc:
            raised.append(exc)

    thread = threading.Thread(target=parked)
    thread.start()
    while not cond.waiting:
        time.sleep(0.001)
    tracker.stop(lambda: NetworkStopped("test over"))
    thread.join(2)
    assert not thread.is_alive() and str(raised[0]) == "test over"
    with pytest.raises(NetworkStopped), cond:
        cond.wait(1)
