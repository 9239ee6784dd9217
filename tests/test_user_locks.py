"""Under a schedule, the program's own locks and conditions are recorded: who waited for which
lock held by whom, who notified whom; two locks taken in opposite orders are a deadlock (a
cycle), not "stuck"; and nothing runs on after the alarm."""

from __future__ import annotations

import queue
import threading
import time

import pytest

import sockviz

from .test_lessons_concurrency import run_threads


def _two_locks() -> None:
    first, second = threading.Lock(), threading.Lock()

    def one() -> None:
        with first:
            time.sleep(0)
            with second:
                print("one has both")

    def two() -> None:
        with second:
            time.sleep(0)
            with first:
                print("two has both")

    run_threads(one=one, two=two)


def test_two_locks_in_opposite_orders_are_a_deadlock_with_its_cycle() -> None:
    found = sockviz.explore({"main": _two_locks}, exhaustive=True, preemptions=1, max_runs=50)
    assert found.complete
    statuses = {o.status for o in found.outcomes}
    assert statuses == {"finished", "deadlocked"}
    locked = next(o for o in found.outcomes if o.status == "deadlocked")
    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld({"main": _two_locks}, schedule=locked.schedule, echo=False)
    error = info.value
    assert sorted(error.cycle or []) == ["main/one", "main/two"]
    assert str(error).startswith("deadlock: ")
    waits = {w.thread: w for w in error.trace.waits()}
    assert waits["main/one"].waits_for == "lock2 (held by main/two)"
    assert waits["main/two"].waits_for == "lock1 (held by main/one)"
    # after the alarm nobody takes a lock and runs on: no line is printed, no thread "returns"
    after = error.trace.events[error.trace.of_kind("deadlock")[0].seq :]
    assert not [e for e in after if e.kind == "output"]
    assert not [e for e in after if e.kind == "lock.acquire"]


def _contended() -> None:
    lock = threading.Lock()
    total = [0]

    def add() -> None:
        with lock:
            value = total[0]
            time.sleep(0)  # a switch point while holding the lock
            total[0] = value + 1

    run_threads(a=add, b=add)
    print("total", total[0])


def test_a_contended_lock_records_who_waited_for_whom() -> None:
    # the first seed whose run switches to b while a holds the lock
    schedule, trace = next(
        (schedule, trace)
        for schedule in map(sockviz.Seeded, range(40))
        if (trace := sockviz.weld({"main": _contended}, schedule=schedule, echo=False)).waits()
    )
    assert [e.fields["line"] for e in trace.of_kind("output")] == ["total 2"]
    [wait] = trace.waits()
    holder = wait.peer_owner
    assert {wait.thread, holder} == {"main/a", "main/b"}
    assert (wait.what, wait.waker, wait.waits_for) == ("lock1", holder, f"lock1 (held by {holder})")
    release = trace.events[wait.woken_by]
    assert release.kind == "lock.release" and release.thread == holder
    again = sockviz.weld({"main": _contended}, schedule=schedule, echo=False)
    assert again.fingerprint() == trace.fingerprint()  # the same names, run after run


def _mailbox() -> None:
    cond = threading.Condition()
    box: list[str] = []
    event = threading.Event()
    letters: queue.Queue[int] = queue.Queue()

    def reader() -> None:
        with cond:
            while not box:
                cond.wait()
        event.wait()
        print("got", box[0], letters.get())

    thread = threading.Thread(target=reader, name="reader")
    thread.start()
    time.sleep(0.001)  # the reader waits on all three, in turn
    with cond:
        box.append("letter")
        cond.notify()
    time.sleep(0.001)
    event.set()
    time.sleep(0.001)
    letters.put(42)
    thread.join()


def test_conditions_events_and_queues_record_their_waits_and_wakers() -> None:
    trace = sockviz.weld({"main": _mailbox}, schedule=sockviz.Seeded(0), echo=False)
    waits = [(w.thread, w.primitive, w.outcome, w.waker) for w in trace.waits()]
    assert waits == [
        ("main/reader", "cond1", "woken", "main"),
        ("main/reader", "event1.cond", "woken", "main"),
        ("main/reader", "queue1.not_empty", "woken", "main"),
    ]
    for wait in trace.waits():
        assert trace.events[wait.woken_by].kind == "cond.notify"
    # the thread's own start event, made by threading for itself, is not recorded
    assert not [e for e in trace if str(e.obj).startswith("event") and e.obj != "event1.cond"]


def test_without_a_schedule_the_programs_locks_are_not_recorded() -> None:
    trace = sockviz.weld({"main": _contended}, echo=False)
    assert [e.fields["line"] for e in trace.of_kind("output")] == ["total 2"]
    assert not [e for e in trace if e.kind.startswith(("lock.", "cond."))]
