"""Every kind of event, in one table: what it means, its fields, its sentence, its line, its mark.

A row per kind says everything sockviz shows about such an event:

* ``doc`` and ``fields`` -- what it means and what it carries (``KINDS``,
  the format doc ``docs/trace-format.md``);
* ``sentence`` -- the narration's plain sentence (``Trace.narrate``);
* ``line`` -- the summary's short line (``describe``, ``sockviz summary``);
* ``mark`` -- how the Chrome trace export shows it when it is not part of a
  call or a wait: an instant mark on its thread (``"thread"``), across the
  whole run (``"global"``), or none.

Adding a kind is adding a row; a test fails until every kind the network
records has one.  The words themselves live in ``_sentences.py`` (a wait's in
``_core/_events.py``: the engine's deadlock messages use them too).
"""

from __future__ import annotations

from typing import NamedTuple

from . import _sentences as say
from ._sentences import Line, Sentence

__all__ = ["KINDS", "TABLE", "Kind"]


class Kind(NamedTuple):
    """One row of the table."""

    doc: str  #: what the event means
    fields: tuple[str, ...]  #: what it carries (names, with a word of meaning where needed)
    sentence: Sentence  #: the narration: (trace, index, event) -> sentence
    line: Line  #: the summary: (event, trace or None) -> short line
    mark: str | None = None  #: the Chrome export's instant mark: "thread", "global" or None

    @property
    def text(self) -> str:
        """``doc`` and ``fields`` in one phrase, as the format doc lists them."""
        return (
            f"{self.doc} (fields: {', '.join(self.fields)})"
            if self.fields
            else f"{self.doc} (no fields)"
        )


_WAIT_FIELDS = ("call", "fd", "until", "peer_fd", "peer_owner", "addr", "timeout")

TABLE: dict[str, Kind] = {
    "thread.start": Kind(
        "a welded thread started",
        ("component", "parent"),
        say.start,
        lambda e, t: (
            "thread starts"
            + (f" (started by {e.fields['parent']})" if e.fields.get("parent") else "")
        ),
    ),
    "thread.exit": Kind(
        "a welded thread ended",
        ("reason",),
        say.ended,
        lambda e, t: (
            "thread ends" + (f" ({r})" if (r := e.fields.get("reason")) and r != "returned" else "")
        ),
    ),
    "thread.error": Kind(
        "a welded thread ended with an exception",
        ("error", "message", "traceback"),
        lambda t, i, e: f"{e.thread} fails: {e.fields.get('error')}: {e.fields.get('message')}.",
        lambda e, t: f"thread fails: {e.fields.get('error')}: {e.fields.get('message')}",
        "thread",
    ),
    "output": Kind(
        "a line a component printed",
        ("line", "stream"),
        lambda t, i, e: f"{e.thread} prints {e.fields.get('line')!r}.",
        lambda e, t: f"prints {e.fields.get('line')!r}",
        "thread",
    ),
    "call": Kind(
        "a socket call began",
        ("op and its arguments",),
        lambda t, i, e: say.calling(e.thread, e.obj, e.fields),
        say.call_line,
    ),
    "return": Kind(
        "a socket call ended",
        ("op, and result or error + errno",),
        lambda t, i, e: say.returning(e.thread, e.obj, e.fields),
        say.return_line,
    ),
    "state": Kind(
        "a socket's mode changed",
        ("from", "to", "local", "peer", "conn; owner when it is born"),
        say.state,
        lambda e, t: (
            f"fd {e.obj}: {e.fields['from']} -> {e.fields.get('to')}"
            if e.fields.get("from")
            else f"fd {e.obj}: new socket ({e.fields.get('to')})"
        ),
    ),
    "refused": Kind(
        "a connect() found nobody listening (strict semantics)",
        ("addr",),
        lambda t, i, e: (
            f"Nobody listens on {e.fields.get('addr')}: {e.thread}'s connection on fd {e.obj} is "
            "refused."
        ),
        lambda e, t: f"connection to {e.fields.get('addr')} refused: nobody listens there",
        "thread",
    ),
    "lock.wait": Kind(
        "a thread found a lock held and waits for it",
        ("holder",),
        say.lock_wait,
        lambda e, t: (
            f"waits for lock {e.obj} (held by {e.fields.get('holder') or 'another thread'})"
        ),
    ),
    "lock.acquire": Kind(
        "a thread got a lock",
        ("waited_ns", "cause"),
        say.got_lock,
        lambda e, t: f"takes lock {e.obj} after {e.fields.get('waited_ns', 0) / 1e3:.1f} µs",
    ),
    "lock.release": Kind(
        "a lock was released while someone waited for it",
        (),
        lambda t, i, e: (
            f"{e.thread} releases lock {e.obj}, so a thread waiting for it can have it."
        ),
        lambda e, t: f"releases lock {e.obj}",
    ),
    "cond.wait": Kind(
        "a thread waits on a condition",
        _WAIT_FIELDS,
        say.waiting,
        say.wait_line,
    ),
    "cond.notify": Kind(
        "a thread notified a condition's waiters",
        ("n",),
        say.notify,
        lambda e, t: f"notifies {e.obj} ({e.fields.get('n')} waiting)",
    ),
    "cond.wake": Kind(
        "a waiting thread was woken",
        ("cause = seq of the notify",),
        lambda t, i, e: (
            f"{e.thread} wakes up on {e.obj}: {say.woken_by(t, e.fields.get('cause'))}; it goes on "
            "with its call."
        ),
        say.woken_line,
    ),
    "cond.timeout": Kind(
        "a condition wait ran out of time",
        ("timeout",),
        say.gave_up,
        lambda e, t: f"gave up waiting on {e.obj} (timeout)",
    ),
    "sem.wait": Kind(
        "a thread waits on a semaphore",
        _WAIT_FIELDS,
        say.waiting,
        say.wait_line,
    ),
    "sem.post": Kind("a semaphore was posted", ("value",), say.post, lambda e, t: f"posts {e.obj}"),
    "sem.acquire": Kind(
        "a thread got a semaphore's permit",
        ("cause = seq of the post", "value"),
        say.permit,
        say.woken_line,
    ),
    "sem.timeout": Kind(
        "a semaphore wait ran out of time",
        ("timeout",),
        say.gave_up,
        lambda e, t: f"gave up waiting on {e.obj} (timeout)",
    ),
    "buf.write": Kind(
        "bytes entered a connection's buffer",
        ("n", "fill", "cap"),
        say.write,
        lambda e, t: (
            f"{e.fields.get('n')} bytes into {e.obj} ({e.fields.get('fill')}/{e.fields.get('cap')})"
            + (" (dropped: the reader has gone)" if e.fields.get("dropped") else "")
        ),
    ),
    "buf.read": Kind(
        "bytes left a connection's buffer",
        ("n", "fill", "cap"),
        lambda t, i, e: (
            f"{e.thread} takes {say.plural(e.fields.get('n'), 'byte')} out of {e.obj}: "
            f"{e.fields.get('fill')} bytes are left."
        ),
        lambda e, t: (
            f"{e.fields.get('n')} bytes out of {e.obj} "
            f"({e.fields.get('fill')}/{e.fields.get('cap')})"
        ),
    ),
    "buf.eof": Kind(
        "the writer of a buffer shut down or closed",
        ("fill",),
        say.eof,
        lambda e, t: f"end of file on {e.obj}",
        "thread",
    ),
    "meet": Kind(
        "a rendezvous completed: connect/accept or socketpair",
        ("what", "connect", "accept", "listener", "client", "server", "conn", "addr"),
        say.meet,
        say.meet_line,
    ),
    "timeout": Kind(
        "the weld ran out of time",
        ("after", "waits = {thread: what it waits for}"),
        say.stuck,
        lambda e, t: f"timeout {e.obj} {e.fields}",
        "global",
    ),
    "deadlock": Kind(
        "every welded thread is blocked",
        ("waits = {thread: what it waits for}",),
        say.stuck,
        say.blocked_line,
        "global",
    ),
    "outside": Kind(
        "under a schedule, a thread blocked outside the fake network; the weld stops",
        ("where", "after"),
        lambda t, i, e: (
            f"{e.thread} is blocked outside the fake network, at {e.fields.get('where')}: under a "
            "schedule nobody else may run meanwhile, so the weld stops."
        ),
        lambda e, t: f"BLOCKED OUTSIDE the fake network -- at {e.fields.get('where')}",
        "global",
    ),
}

#: Every event kind the fake network records, with what it means and carries (the format doc's
#: table).
KINDS: dict[str, str] = {kind: row.text for kind, row in TABLE.items()}
