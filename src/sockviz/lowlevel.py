"""sockviz's internals, for the curious: the model under the student's API.

``sockviz`` itself is what a lesson needs -- ``weld``, ``fake_network``,
``load``, the plots, ``replay``, ``explore`` and the errors they raise.
Here is what those are made of:

* the socket life cycle as data: :class:`SocketMode`, the calls (:class:`Op`),
  :data:`TRANSITIONS` (``(mode, call) -> mode``) and :data:`REFUSALS`
  (``(mode, call) -> errno``), and :func:`mode_table`, the same as a table;
* the event contract: :data:`KINDS` (every kind of event and its fields) and
  :class:`Event`;
* the fake network itself: :class:`FakeNetwork` and its :class:`FakeSocket`
  (what ``socket.socket()`` gives a welded thread);
* :class:`World`, the state of every thread, socket, lock and buffer at one
  moment of a trace (what the replay's state panel shows).

    >>> from sockviz.lowlevel import TRANSITIONS, SocketMode, Op
    >>> TRANSITIONS[SocketMode.NOT_INIT, Op.BIND].name
    'BOUND'
"""

from __future__ import annotations

from ._net._fakesocket import FakeSocket
from ._net._manager import FakeNetwork
from ._net._modes import REFUSALS, TRANSITIONS, Op, SocketMode
from ._net._modes import markdown_table as mode_table
from ._trace._events import KINDS, Event
from ._trace._world import World

__all__ = ["KINDS", "REFUSALS", "TRANSITIONS", "Event", "FakeNetwork", "FakeSocket", "Op", "SocketMode", "World", "mode_table"]
