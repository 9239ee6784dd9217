"""Lesson 09's checkers accept every correct form of an answer, refuse wrong ones with a hint, and
never raise; and the lesson's programs, searched, show what its answers say."""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

import sockviz
from sockviz import lessons

# -- the lesson's programs (as notebooks/09_concurrency.ipynb writes them) ----------------------


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def add(self) -> None:
        me = threading.current_thread().name
        seen = self.value
        print(me, "reads", seen)
        time.sleep(0)
        self.value = seen + 1
        print(me, "writes", seen + 1)


class HalfLockedCounter(Counter):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def add(self) -> None:
        with self.lock:
            seen = self.value
        time.sleep(0)
        with self.lock:
            self.value = seen + 1


class LockedCounter(Counter):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def add(self) -> None:
        with self.lock:
            super().add()


class RestlessCounter(Counter):
    def add(self) -> None:
        super().add()
        time.sleep(0)


def run_threads(**work: Callable[[], None]) -> None:
    threads = [threading.Thread(target=function, name=name) for name, function in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def counting(make_counter: Callable[[], Counter], times: int = 1) -> Callable[[], None]:
    def main() -> None:
        counter = make_counter()

        def work() -> None:
            for _ in range(times):
                counter.add()

        run_threads(a=work, b=work)
        print("counter =", counter.value)

    return main


def total(trace: sockviz.Trace) -> int:
    return int(trace.of_kind("output")[-1].fields["line"].removeprefix("counter = "))


class Mailbox:
    def __init__(self) -> None:
        self.letter: str | None = None
        self.changed = threading.Condition()

    def put(self, letter: str) -> None:
        with self.changed:
            while self.letter is not None:
                self.changed.wait()
            self.letter = letter
            print("puts", letter)
            self.changed.notify_all()

    def take(self) -> str | None:
        with self.changed:
            while self.letter is None:
                self.changed.wait()
            letter, self.letter = self.letter, None
            self.changed.notify_all()
            return letter


class HastyMailbox(Mailbox):
    def take(self) -> str | None:
        with self.changed:
            if self.letter is None:
                print("finds it empty: waits")
                self.changed.wait()
            letter, self.letter = self.letter, None
            self.changed.notify_all()
            return letter


class TerseMailbox(Mailbox):
    """notify() instead of notify_all(): with a writer and two readers on one condition, the one
    woken may be the wrong one."""

    def put(self, letter: str) -> None:
        with self.changed:
            while self.letter is not None:
                self.changed.wait()
            self.letter = letter
            self.changed.notify()

    def take(self) -> str | None:
        with self.changed:
            while self.letter is None:
                self.changed.wait()
            letter, self.letter = self.letter, None
            self.changed.notify()
            return letter


def one_reader(
    make_mailbox: Callable[[], Mailbox], letters: tuple[str, ...] = ("hello", "world")
) -> Callable[[], None]:
    def main() -> None:
        box = make_mailbox()

        def writer() -> None:
            for letter in letters:
                box.put(letter)

        def reader() -> None:
            print("got", box.take())
            print("got", box.take())

        run_threads(writer=writer, reader=reader)

    return main


def two_readers(make_mailbox: Callable[[], Mailbox]) -> Callable[[], None]:
    def main() -> None:
        box = make_mailbox()

        def writer() -> None:
            box.put("hello")
            box.put("world")

        def reader() -> None:
            print("got", box.take())

        run_threads(writer=writer, r1=reader, r2=reader)

    return main


def got(trace: sockviz.Trace) -> str:
    lines = [
        e.fields["line"] for e in trace.of_kind("output") if e.fields["line"].startswith("got")
    ]
    return " and ".join(sorted(line.removeprefix("got ") for line in lines))


def opposite() -> None:
    lock_a, lock_b = threading.Lock(), threading.Lock()

    def one() -> None:
        with lock_a:
            print("holds A, wants B")
            time.sleep(0)
            with lock_b:
                print("holds A and B")

    def two() -> None:
        with lock_b:
            print("holds B, wants A")
            time.sleep(0)
            with lock_a:
                print("holds B and A")

    run_threads(one=one, two=two)


def same_order() -> None:
    lock_a, lock_b = threading.Lock(), threading.Lock()

    def one() -> None:
        with lock_a:
            time.sleep(0)
            with lock_b:
                print("holds A and B")

    def two() -> None:
        with lock_a:
            time.sleep(0)
            with lock_b:
                print("holds A and B")

    run_threads(one=one, two=two)


def polite_server() -> None:
    with socket.create_server(("", 8080)) as listener:
        conn, _ = listener.accept()
        with conn:
            conn.recv(100)


def polite_client() -> None:
    with socket.create_connection(("server", 8080)) as sock:
        sock.recv(100)


def lonely_server() -> None:
    with socket.create_server(("", 8080)) as listener:
        listener.accept()


def _search(program: Callable[[], None], outcome: Any = None, **options: Any) -> Any:
    return sockviz.explore({"main": program}, exhaustive=True, outcome=outcome, **options)


class Runs(NamedTuple):
    """The lesson's searches, made once."""

    totals: sockviz.Exploration  # three adds each, every schedule
    half: sockviz.Exploration  # HalfLockedCounter
    locked: sockviz.Exploration  # LockedCounter, one add each
    hasty: sockviz.Exploration  # two readers, take() with if
    careful: sockviz.Exploration  # two readers, take() with while


@functools.cache
def runs() -> Runs:
    return Runs(
        _search(counting(Counter, 3), total, preemptions=6),
        _search(counting(HalfLockedCounter), total, preemptions=1),
        _search(counting(LockedCounter), total, preemptions=1),
        _search(two_readers(HastyMailbox), got),
        _search(two_readers(Mailbox), got),
    )


def lost_by_hand() -> sockviz.Stepper:
    """The stepper's lost update: a reads and stops at its sleep(0), b reads, then the rest."""
    st = sockviz.stepper(counting(Counter))
    st.run("main/a")
    st.run("main/b")
    st.finish()
    return st


def right_by_default() -> sockviz.Stepper:
    """No choice made: each thread runs until it ends, and the total is right."""
    st = sockviz.stepper(counting(Counter))
    st.finish()
    return st


def _ok(name: str, answer: object, **context: Any) -> bool:
    return lessons.check(name, answer, **context).ok


# -- what the lesson's searches show -----------------------------------------------------------


def test_the_lesson_searches_show_what_the_answers_say() -> None:
    found = runs()
    assert found.totals.complete and {o.label for o in found.totals.outcomes} == {3, 4, 5, 6}
    assert found.half.complete and {o.label for o in found.half.outcomes} == {1, 2}
    assert found.locked.complete and {o.label for o in found.locked.outcomes} == {2}
    assert {o.label for o in found.hasty.outcomes} == {"hello and world", "None and hello"}
    assert {o.label for o in found.careful.outcomes} == {"hello and world"}
    with_one = _search(counting(Counter), total, preemptions=1)
    assert len(with_one.runs) == 7 and sum(r.label == 1 for r in with_one.runs) == 3
    lost = next(o for o in with_one.outcomes if o.label == 1)
    assert lost.schedule.order == ("main", ("main/a", 1), "main/b")
    # the schedule that lost an update, run with the lock: b waits, the total is right
    assert total(sockviz.weld(counting(LockedCounter), schedule=lost.schedule, echo=False)) == 2


def test_a_second_switch_point_makes_a_total_of_two_possible() -> None:
    found = _search(counting(RestlessCounter, 3), total, preemptions=4)
    assert found.complete and {o.label for o in found.outcomes} == {2, 3, 4, 5, 6}


def test_notify_can_wake_the_wrong_thread_and_leave_every_thread_waiting() -> None:
    """What the lesson says of notify(): with the writer and two readers on one condition, some
    schedules end with everybody waiting."""
    found = _search(two_readers(TerseMailbox))
    assert {o.status for o in found.outcomes} == {"finished", "stuck"}


def test_two_locks_in_opposite_orders_block_only_in_some_schedules_and_one_order_never() -> None:
    crossed = sockviz.explore({"opposite": opposite}, exhaustive=True, preemptions=1)
    blocked = [o for o in crossed.outcomes if o.status != "finished"]
    assert crossed.complete and blocked and any(o.status == "finished" for o in crossed.outcomes)
    with pytest.raises(sockviz.DeadlockError) as error:
        sockviz.weld(opposite, schedule=blocked[0].schedule, echo=False)
    lines = [
        e.fields["line"]
        for e in error.value.trace.events[: error.value.trace.events.index(
            error.value.trace.of_kind("deadlock")[0]
        )]
        if e.kind == "output"
    ]  # fmt: skip
    assert sorted(lines) == ["holds A, wants B", "holds B, wants A"]
    ordered = sockviz.explore({"same_order": same_order}, exhaustive=True, preemptions=2)
    assert ordered.complete and {o.status for o in ordered.outcomes} == {"finished"}


def test_the_three_blocked_runs_are_what_the_answer_says() -> None:
    programs: dict[str, Any] = {
        "polite": {"server": polite_server, "client": polite_client},
        "short": one_reader(Mailbox, letters=("hello",)),
        "lonely": {"server": lonely_server},
    }
    verdicts = {}
    for name, program in programs.items():
        with pytest.raises(sockviz.DeadlockError) as error:
            sockviz.weld(program, schedule=sockviz.Scripted([]), echo=False)
        verdicts[name] = "deadlock" if error.value.cycle else "stuck"
    assert verdicts == {"polite": "deadlock", "short": "stuck", "lonely": "stuck"}
    assert _ok("09.deadlock-or-stuck", verdicts)


# -- 09.totals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {3, 4, 5, 6},
        [6, 5, 4, 3],
        (3, 4, 5, 6),
        frozenset({3, 4, 5, 6}),
        range(3, 7),
        {"3", 4, 5, 6},
    ],
)
def test_totals_accepts_the_set_in_every_form(answer: object) -> None:
    said = lessons.check("09.totals", answer, found=runs().totals)
    assert said.ok and "Never less" in said.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({6}, "more totals"),
        ({2, 3, 4, 5, 6}, "no schedule gives 2"),
        ({0, 1, 2, 3, 4, 5, 6}, "no schedule gives 0"),
        ({3, 4, 5, 6, 7}, "no schedule gives 7"),
        ({4, 5, 6}, "more totals"),
        ("3, 4, 5, 6", "set of whole numbers"),
        (6, "set of whole numbers"),
        ({"three"}, "set of whole numbers"),
        (..., "set of whole numbers"),
        (None, "set of whole numbers"),
    ],
)
def test_totals_refuses_the_wrong_sets_with_a_hint(answer: object, hint: str) -> None:
    said = lessons.check("09.totals", answer, found=runs().totals)
    assert not said.ok and hint in said.message


def test_totals_is_checked_against_the_search_given_and_says_when_it_was_cut_short() -> None:
    restless = _search(counting(RestlessCounter, 3), total, preemptions=4)
    said = lessons.check("09.totals", {2, 3, 4, 5, 6}, found=restless)
    assert said.ok and "Never less" not in said.message
    short = _search(counting(Counter, 3), total, preemptions=6, max_runs=10)
    said = lessons.check("09.totals", {3, 6}, found=short)
    assert "cut short" in said.message
    unlabelled = _search(counting(Counter, 3), preemptions=1)
    assert "outcome=total" in lessons.check("09.totals", {3, 6}, found=unlabelled).message


def test_totals_needs_the_search() -> None:
    with pytest.raises(TypeError, match="found=found"):
        lessons.check("09.totals", {3, 4, 5, 6})


# -- 09.lost-update -----------------------------------------------------------------------------


def test_lost_update_accepts_a_run_that_loses_one() -> None:
    st = lost_by_hand()
    assert [e.fields["line"] for e in st.trace.of_kind("output")][-1] == "counter = 1"
    said = lessons.check("09.lost-update", st)
    assert said.ok and "Scripted(st.choices)" in said.message


def test_lost_update_refuses_a_right_total_an_unfinished_run_and_no_stepper() -> None:
    said = lessons.check("09.lost-update", right_by_default())
    assert not said.ok and "no update lost yet" in said.message
    fresh = sockviz.stepper(counting(Counter))
    assert "not over yet" in lessons.check("09.lost-update", fresh).message
    assert "the stepper itself" in lessons.check("09.lost-update", lost_by_hand().trace).message
    assert not _ok("09.lost-update", ...)


def test_lost_update_counts_the_adds_of_a_longer_program() -> None:
    """Three adds each and a total of 5 is a lost update too; 6 is not."""
    st = sockviz.stepper(counting(Counter, 3))
    st.run("main/a")
    st.run("main/b")
    st.finish()
    printed = [e.fields["line"] for e in st.trace.of_kind("output")][-1]
    assert printed != "counter = 6" and _ok("09.lost-update", st)
    whole = sockviz.stepper(counting(Counter, 3))
    whole.finish()
    assert not _ok("09.lost-update", whole)


# -- 09.half-locked and 09.if-wait --------------------------------------------------------------


@pytest.mark.parametrize("answer", [True, "True", "yes", " Yes ", "true"])
def test_half_locked_can_lose_an_update(answer: object) -> None:
    assert _ok("09.half-locked", answer, found=runs().half)


@pytest.mark.parametrize("answer", [False, "no", "False", ..., None, 1])
def test_half_locked_refuses_no_and_non_answers(answer: object) -> None:
    said = lessons.check("09.half-locked", answer, found=runs().half)
    assert not said.ok and said.message


def test_half_locked_follows_the_search_given() -> None:
    """Against a search of the locked counter, no update is lost: False is right there."""
    assert _ok("09.half-locked", False, found=runs().locked)
    assert not _ok("09.half-locked", True, found=runs().locked)


@pytest.mark.parametrize("answer", [True, "yes", "TRUE", "possible"])
def test_if_wait_can_give_an_empty_mailbox(answer: object) -> None:
    said = lessons.check("09.if-wait", answer, found=runs().hasty)
    assert said.ok and "other reader" in said.message


@pytest.mark.parametrize("answer", [False, "no", "never", ..., 0, "maybe"])
def test_if_wait_refuses_no_and_non_answers(answer: object) -> None:
    said = lessons.check("09.if-wait", answer, found=runs().hasty)
    assert not said.ok and said.message


def test_if_wait_follows_the_search_given() -> None:
    assert _ok("09.if-wait", False, found=runs().careful)
    assert not _ok("09.if-wait", True, found=runs().careful)


# -- 09.sleepers --------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [0.25, 0.3, "0.25", "0.25 s", "250 ms", "about 0.25", 0.4])
def test_sleepers_overlap(answer: object) -> None:
    assert _ok("09.sleepers", answer)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (1, "one nap after another"),
        ("1.0 s", "one nap after another"),
        (0.05, "sooner"),
        (2, "overlap"),
        ("fast", "number of seconds"),
        (True, "number of seconds"),
        (..., "number of seconds"),
    ],
)
def test_sleepers_refuses_with_a_hint(answer: object, hint: str) -> None:
    said = lessons.check("09.sleepers", answer)
    assert not said.ok and hint in said.message


def test_sleeping_threads_do_overlap_on_this_python() -> None:
    """The fact behind the answer: four real threads sleeping 0.25 s take about 0.25 s."""
    threads = [threading.Thread(target=time.sleep, args=(0.25,)) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.perf_counter() - started < 0.6


# -- 09.deadlock-or-stuck -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"polite": "deadlock", "short": "stuck", "lonely": "stuck"},
        {"Polite": "Deadlocked", "short": " stuck ", "LONELY": "Stuck"},
        {"lonely": "stuck", "polite": "a deadlock", "short": "STUCK"},
    ],
)
def test_deadlock_or_stuck_accepts_every_spelling(answer: dict[str, str]) -> None:
    said = lessons.check("09.deadlock-or-stuck", answer)
    assert said.ok and "circle" in said.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"polite": "stuck", "short": "stuck", "lonely": "stuck"}, "not polite"),
        ({"polite": "deadlock", "short": "deadlock", "lonely": "stuck"}, "not short"),
        ({"polite": "deadlock", "short": "stuck", "lonely": "deadlock"}, "not lonely"),
        ({"polite": "deadlock", "short": "stuck"}, "lonely is missing"),
        ({"polite": "deadlock", "short": "stuck", "lonely": "waiting"}, "'deadlock' or 'stuck'"),
        ({"polite": "deadlock", "short": "stuck", "lonely": "stuck", "echo": "x"}, "not one of"),
        ("deadlock", "a dict"),
        (..., "a dict"),
    ],
)
def test_deadlock_or_stuck_refuses_with_a_hint(answer: object, hint: str) -> None:
    said = lessons.check("09.deadlock-or-stuck", answer)
    assert not said.ok and hint in said.message


def test_the_catalogue_lists_the_lesson() -> None:
    listed = lessons.exercises(9)
    assert [entry.name for entry in listed] == sorted(
        ["09.totals", "09.lost-update", "09.half-locked", "09.if-wait", "09.sleepers",
         "09.deadlock-or-stuck"]
    )  # fmt: skip
    assert [entry.name for entry in lessons.exercises(9, kind="stepper")] == ["09.lost-update"]
