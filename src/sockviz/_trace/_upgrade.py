"""Trace files of older format versions, read as the current one.

Version 1 stored why a thread waited as one English sentence, in the ``for``
field of ``cond.wait``/``sem.wait`` (and repeated on ``cond.wake`` and the
timeouts): ``"recv() on fd 5 waits for server/handler0 to send"``.  Version 2
records the parts instead -- ``call``, ``fd``, ``until``, ``peer_fd``,
``peer_owner``, ``addr`` (see ``UNTIL`` in ``_core/_events.py``) -- and every
reader takes them from there.  This is the one place a sentence is read back:
an old file's waits are turned into fields as it loads, so the rest of
sockviz knows only the current version.
"""

from __future__ import annotations

import re
from typing import Any

from .._core._events import Event

__all__ = ["upgrade"]

_SENTENCE = re.compile(r"^(?P<call>\w+)\(\) on fd (?P<fd>-?\d+) waits for (?P<target>.*)$")
#: v1's endings of the sentence -> (until, which group names what)
_TARGETS = (
    (re.compile(r"^a client to connect to (?P<addr>.+)$"), "connection"),
    (re.compile(r"^someone to listen on (?P<addr>.+)$"), "listener"),
    (re.compile(r"^room in the backlog of (?P<addr>.+)$"), "room"),
    (re.compile(r"^(?P<peer>.+) to send$"), "data"),
    (re.compile(r"^(?P<peer>.+) to read$"), "room"),
    (re.compile(r"^(?P<peer>.+) to accept$"), "accept"),
)
_WAITS = frozenset({"cond.wait", "sem.wait"})
_SAID_FOR = frozenset({"cond.wake", "cond.timeout", "sem.timeout"})


def _wait_fields(sentence: Any) -> dict[str, Any]:
    """v1's sentence as v2's fields (an unknown sentence: no fields, as a wait for a wake-up)."""
    match = _SENTENCE.match(sentence) if isinstance(sentence, str) else None
    if match is None:
        return {}
    for pattern, until in _TARGETS:
        found = pattern.match(match["target"])
        if found is not None:
            parts = found.groupdict()
            peer = parts.get("peer")
            return {
                "call": match["call"],
                "fd": int(match["fd"]),
                "until": until,
                "peer_fd": None,
                "peer_owner": None if peer in (None, "the peer", "None") else peer,
                "addr": parts.get("addr"),
            }
    return {}


def upgrade(events: list[Event], version: int) -> list[Event]:
    """``events`` of format ``version``, as the current version records them."""
    if version >= 2:
        return events
    upgraded = []
    for event in events:
        kind = event.kind
        if kind in _WAITS or kind in _SAID_FOR:
            fields = dict(event.fields)
            said = fields.pop("for", None)
            if kind in _WAITS:
                timeout = fields.pop("timeout", None)
                fields = {**fields, **_wait_fields(said), "timeout": timeout}
            event = event._replace(fields=fields)
        upgraded.append(event)
    return upgraded
