"""The checkers of lesson 09: concurrency -- a race on a shared counter (the totals every schedule
gives, a lost update made by hand with the stepper), a lock put in the wrong place, a condition
checked with ``if``, what the GIL does with sleeping threads, and deadlock against stuck.

The predictions about schedules are checked against the student's own exhaustive search
(``found=``), so the answer is what the search found, whatever program it searched."""

from __future__ import annotations

from typing import Any

from .._answers import as_int, as_ints, as_seconds, same_name
from ._base import Exercise, _exploration, stepper_goal

_YES = {"yes", "y", "true", "it can", "can", "possible"}
_NO = {"no", "n", "false", "it cannot", "cannot", "can't", "impossible", "never"}


def _yes_no(answer: Any) -> bool | None:
    """A yes/no answer: a bool, or a word for one ("yes", "False"); None for anything else."""
    if isinstance(answer, bool):
        return answer
    if not isinstance(answer, str):
        return None
    said = answer.strip().strip("'\"` .!").strip().lower()
    return True if said in _YES else False if said in _NO else None


def _finished_labels(found: Any) -> set[Any]:
    return {o.label for o in _exploration(found).outcomes if o.status == "finished"}


def _cut_short(found: Any) -> str:
    """A warning when the search did not try every schedule."""
    if getattr(found, "complete", None) is False:
        return (
            " (Your search was cut short before it tried every schedule: give it a larger "
            "max_runs.)"
        )
    return ""


# -- 09.totals --------------------------------------------------------------------------------


def _totals(answer: Any, found: Any = None, **_: Any) -> tuple[bool, str]:
    possible = _finished_labels(found)
    said = as_ints(answer)
    if said is None:
        return False, "answer with a set of whole numbers, like {5, 6}."
    if not possible or not all(isinstance(label, int) for label in possible):
        return False, (
            "search the program with outcome=total, so that each outcome is labelled with the "
            "total it printed."
        )
    if said == possible:
        low, high = min(possible), max(possible)
        why = (
            " Never less: each thread reads right after its own write, with no switch point "
            "between, so its own three adds always build on each other."
            if (low, high) == (3, 6)
            else ""
        )
        return True, (
            f"{', '.join(map(str, sorted(possible)))}: {high} when no update is lost, {low} when "
            f"the most are lost.{why}{_cut_short(found)}"
        )
    if said - possible and min(said - possible) < min(possible):
        return False, (
            f"no schedule gives {min(said - possible)}. Look where the sleep(0) is: after a "
            "write, a thread reads again at once, with no switch point between. So can a thread "
            "ever lose its own add?" + _cut_short(found)
        )
    if said - possible:
        return False, (
            f"no schedule gives {max(said - possible)}: each add writes one more than it read, and "
            "there are 6 adds in all." + _cut_short(found)
        )
    return False, (
        f"the search found more totals than {sorted(said)}: each thread can be cut short at each "
        "of its sleep(0)s. How many updates can be lost at most?" + _cut_short(found)
    )


# -- 09.lost-update -----------------------------------------------------------------------------


def _printed_total(trace: Any) -> tuple[int | None, int]:
    """The total a counting program printed ("counter = N"), and how many adds its threads made
    (their "writes" lines; 2 if they print none)."""
    lines = [str(event.fields.get("line", "")) for event in trace.of_kind("output")]
    totals = [as_int(line.rsplit("=", 1)[1]) for line in lines if line.startswith("counter =")]
    adds = sum(1 for line in lines if " writes " in f" {line} ")
    return (totals[-1] if totals else None), (adds or 2)


def _lost_an_update(trace: Any) -> bool:
    printed, adds = _printed_total(trace)
    return printed is not None and printed < adds


# -- 09.half-locked -------------------------------------------------------------------------------


def _half_locked(answer: Any, found: Any = None, **_: Any) -> tuple[bool, str]:
    totals = _finished_labels(found)
    if not totals or not all(isinstance(label, int) for label in totals):
        return False, "search the program with outcome=total, so each outcome says its total."
    can_lose = min(totals) < max(totals)
    said = _yes_no(answer)
    if said is None:
        return False, "answer True (it can still lose an update) or False (it cannot)."
    if said == can_lose and can_lose:
        return True, (
            "True: each thread can still read the counter, let go of the lock at the sleep(0), and "
            "let the other read the same value before it writes. The lock must be held from the "
            "read to the write." + _cut_short(found)
        )
    if said == can_lose:
        return True, "False: in your search no schedule lost an update." + _cut_short(found)
    if can_lose:
        return False, (
            "the lock is let go between the read and the write: what can the other thread do "
            "there? Look at the outcomes the search printed." + _cut_short(found)
        )
    return False, "look at the outcomes the search printed: is any total short?" + _cut_short(found)


# -- 09.if-wait -----------------------------------------------------------------------------------


def _if_wait(answer: Any, found: Any = None, **_: Any) -> tuple[bool, str]:
    labels = [str(label) for label in _finished_labels(found)]
    if not labels:
        return False, "search the two readers' program with outcome=got."
    empty = any("None" in label for label in labels)
    said = _yes_no(answer)
    if said is None:
        return False, "answer True (a reader can get None) or False (it cannot)."
    if said and empty:
        return True, (
            "True: a wake-up is not a promise. Between the notify and the moment the woken reader "
            "has the lock again, the other reader can take the letter; with if, it never looks "
            "again." + _cut_short(found)
        )
    if said == empty:
        return True, "False: in your search no reader got None." + _cut_short(found)
    if empty:
        return False, (
            "after notify_all() the woken reader must take the lock again before wait() returns: "
            "who else may take it first?" + _cut_short(found)
        )
    return False, "look at the outcomes the search printed: did any reader get None?"


# -- 09.sleepers --------------------------------------------------------------------------------


def _sleepers(answer: Any, **_: Any) -> tuple[bool, str]:
    seconds = as_seconds(answer)
    if seconds is None:
        return False, "answer with a number of seconds, like 0.5."
    if 0.25 <= seconds <= 0.4:
        return True, (
            "about 0.25 s: time.sleep lets go of the GIL, so the four threads sleep at the same "
            "time. Threads waiting for the network do the same."
        )
    if 0.9 <= seconds <= 1.1:
        return False, (
            "1 s would be one nap after another. Does a sleeping thread hold the GIL while it "
            "sleeps?"
        )
    if seconds < 0.25:
        return False, "each thread sleeps 0.25 s: can all four be done sooner than one of them?"
    return False, "each sleeping thread lets go of the GIL: do the naps overlap or take turns?"


# -- 09.deadlock-or-stuck -----------------------------------------------------------------------

#: The three runs of the exercise, and what each is.
_VERDICTS = {"polite": "deadlock", "short": "stuck", "lonely": "stuck"}

_WHY = {
    "polite": "the server waits for the client to send, the client for the server: a circle.",
    "short": (
        "the reader waits for a letter, and the writer, the only thread that could send it, "
        "has ended: no circle."
    ),
    "lonely": "the server waits in accept() for a client, and there is none: no circle.",
}


def _verdict(value: Any) -> str | None:
    for word, meaning in (("deadlock", "deadlock"), ("deadlocked", "deadlock"),
                          ("a deadlock", "deadlock"), ("stuck", "stuck")):  # fmt: skip
        if same_name(value, word):
            return meaning
    return None


def _deadlock_or_stuck(answer: Any, **_: Any) -> tuple[bool, str]:
    if not isinstance(answer, dict):
        return False, (
            'answer with a dict that gives each run "deadlock" or "stuck", like '
            '{"polite": ..., "short": ..., "lonely": ...}.'
        )
    said: dict[str, str | None] = {}
    for key, value in answer.items():
        name = next((run for run in _VERDICTS if same_name(key, run)), None)
        if name is None:
            return False, f"{key!r} is not one of the runs: name polite, short and lonely."
        said[name] = _verdict(value)
    missing = [run for run in _VERDICTS if run not in said]
    if missing:
        return False, f"say something about every run: {', '.join(missing)} is missing."
    unclear = [run for run, verdict in said.items() if verdict is None]
    if unclear:
        return False, f"say 'deadlock' or 'stuck' for {', '.join(unclear)}."
    wrong = [run for run in _VERDICTS if said[run] != _VERDICTS[run]]
    if not wrong:
        return True, (
            "polite is a deadlock: "
            + _WHY["polite"]
            + " short is stuck: "
            + _WHY["short"]
            + " lonely is stuck: "
            + _WHY["lonely"]
        )
    run = wrong[0]
    return False, (
        f"not {run}: who does each of its threads wait for? A circle of threads each waiting for "
        "the next is a deadlock; waiting for something no thread is left to do is stuck."
    )


EXERCISES: dict[str, Exercise] = {
    "09.totals": Exercise(
        "Threads a and b each add to the shared counter three times, with a sleep(0) between "
        "each read and its write: which totals can the program print?",
        _totals,
        "An update is lost when both threads read before either writes; a thread reads again "
        "right after its own write.",
    ),
    "09.lost-update": Exercise(
        "With the stepper, make the shared counter come out wrong.",
        stepper_goal(
            _lost_an_update,
            "an update is lost: both threads read the counter before either wrote it, so both "
            "wrote the same value -- and Scripted(st.choices) makes that run again.",
            "no update lost yet: one is lost when the second thread reads before the first has "
            "written. Stop the first at its sleep(0), then let the other read.",
        ),
        "Let one thread read and stop at its sleep(0); then let the other read.",
        kind="stepper",
    ),
    "09.half-locked": Exercise(
        "A counter that locks its read and its write each on its own: can it still lose an update?",
        _half_locked,
        "What happens between the two with blocks?",
    ),
    "09.if-wait": Exercise(
        "Two readers share a one-letter mailbox whose take() waits with if instead of while: can "
        "a reader get None?",
        _if_wait,
        "Who gets the lock first after the notify?",
    ),
    "09.sleepers": Exercise(
        "Four threads each sleep 0.25 s: about how long until all four are done?",
        _sleepers,
        "A sleeping thread lets go of the GIL.",
    ),
    "09.deadlock-or-stuck": Exercise(
        "Which runs are deadlocks and which are stuck: polite (both recv() first), short (a "
        "reader waits for a letter never sent), lonely (a server alone in accept())?",
        _deadlock_or_stuck,
        "A deadlock is a circle of threads, each waiting for the next.",
    ),
}
