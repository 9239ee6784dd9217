"""A fake socket's TCP state, as Linux would name it (``ss -t``, ``/proc/net/tcp``).

sockviz's modes are the life cycle the *calls* see (see :mod:`._modes`); TCP's
states are what the kernel keeps for the connection, and a few of them are not
modes: CLOSE_WAIT (the peer's FIN has arrived, this end has not closed yet),
FIN_WAIT_2 (this end's FIN went first, the peer's has not come), TIME_WAIT (this
end closed first, and keeps its address for a minute after both FINs).  On
loopback every ACK arrives at once, so the passing states (SYN_RECV,
FIN_WAIT_1, CLOSING, LAST_ACK) are never seen, and neither are they here.
"""

from __future__ import annotations

import time
from typing import Any

from ._modes import SocketMode

__all__ = ["tcp_state"]

M = SocketMode
_NO_CONNECTION = (M.NOT_INIT, M.BOUND, M.REFUSED, M.RESET)


def tcp_state(sock: Any) -> str:
    """The TCP state of the fake socket ``sock`` right now: "CLOSED", "LISTEN", "SYN_SENT",
    "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_2" or "TIME_WAIT"."""
    mode = sock._mode
    if mode is M.LISTEN:
        return "LISTEN"
    if mode is M.CONNECTING:
        return "SYN_SENT"
    rx, tx = sock._rx, sock._tx
    if mode in _NO_CONNECTION or rx is None or tx is None:
        return "CLOSED"
    if not tx.eof:  # this end has sent no FIN (its mode is OUTBOUND, INBOUND or SHUT_RD)
        return "CLOSE_WAIT" if rx.eof else "ESTABLISHED"
    if not sock._fin_first:  # the peer's FIN came first: LAST_ACK, over at once on loopback
        return "CLOSED"
    if not rx.eof:
        return "FIN_WAIT_2"
    return (
        "TIME_WAIT"
        if mode is not M.CLOSED or time.monotonic() < sock._time_wait_until
        else "CLOSED"
    )
