"""sockviz's internals, for the curious: the model under the student's API.

``sockviz`` itself is what a lesson needs -- ``weld``, ``fake_network``,
``load``, the plots, ``replay``, ``explore`` and the errors they raise.
Here is what those are made of:

* the socket life cycle as data: :class:`SocketMode`, the calls (:class:`Op`),
  :data:`TRANSITIONS` (``(mode, call) -> mode``) and :data:`REFUSALS`
  (``(mode, call) -> errno``), and :func:`mode_table`, the same as a table;
  :data:`COMPLETIONS` (``(mode, Completion) -> mode``): the network's own steps;
* the event contract: :data:`KINDS` (every kind of event and its fields),
  :class:`Event`, and :data:`UNTIL`, what can end a wait (a wait event's
  ``until`` field, beside ``call``, ``fd``, ``peer_fd``, ``peer_owner``, ``addr``);
* :func:`tcp_state`: a fake socket's TCP state as Linux names it (ESTABLISHED,
  CLOSE_WAIT, FIN_WAIT_2, TIME_WAIT...), beside its mode;
* the fake network itself: :class:`FakeNetwork` and its :class:`FakeSocket`
  (what ``socket.socket()`` gives a welded thread);
* :class:`World`, the state of every thread, socket, lock and buffer at one
  moment of a trace (what the replay's state panel shows).

    >>> from sockviz.lowlevel import TRANSITIONS, SocketMode, Op
    >>> TRANSITIONS[SocketMode.NOT_INIT, Op.BIND].name
    'BOUND'
"""

from __future__ import annotations

from ._core._events import UNTIL, Event
from ._net._fakesocket import FakeSocket
from ._net._manager import FakeNetwork
from ._net._modes import COMPLETIONS, REFUSALS, TRANSITIONS, Completion, Op, SocketMode
from ._net._modes import markdown_table as mode_table
from ._net._tcpstate import tcp_state
from ._trace._kinds import KINDS
from ._trace._world import World

__all__ = [
    "COMPLETIONS",
    "KINDS",
    "REFUSALS",
    "TRANSITIONS",
    "UNTIL",
    "Completion",
    "Event",
    "FakeNetwork",
    "FakeSocket",
    "Op",
    "SocketMode",
    "World",
    "mode_table",
    "tcp_state",
]
