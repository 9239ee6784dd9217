"""``explore`` on several processes or machines: the runs farmed out, put back in order.

Theory of operation
-------------------
A seeded (or scripted) weld is deterministic, so a run does not care which
process makes it: ``explore(..., workers=N)`` cuts the seeds into chunks,
has N processes weld them, and sorts what comes back exactly as a serial
exploration would (the same outcome table, the same trace for each outcome).
An exhaustive search cuts its tree of schedules into subtrees instead
(:func:`subtrees`): the runs of a depth-first search are those of its
subtrees, one after the other, so concatenating the subtrees' runs in order
numbers them as one search would.

What crosses to a worker is the scenario, the ``outcome`` function and the
options, pickled once by **cloudpickle**, which sends functions defined in a
notebook cell by value (as dask does); what comes back is, per run, its
status, label, fingerprint and size, plus the trace of the first run of
each outcome in the chunk (the one the exploration keeps).  ``executor=``
takes any :class:`concurrent.futures.Executor`: a ``ProcessPoolExecutor``, or
``distributed.Client(...).get_executor()`` for a dask cluster.

A weld keeps its threads on one CPU (``single_cpu``).  Two workers on one
machine must not pick the same CPU, so each process claims a CPU of its own
with a lock file (:func:`claimed_cpu`) and welds there.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .._trace._trace import Trace
from . import _ctrl_c

if TYPE_CHECKING:
    from ._explore import Run

__all__ = ["Done", "claimed_cpu", "farmed", "own_pool", "packed", "scripted_runs", "seeded_runs"]


#: One run made by a worker: its :class:`~._explore.Run`, and its trace only if the run may open
#: its outcome (the first of its kind in the worker's chunk: the one the exploration keeps).
Done = tuple["Run", "Trace | None"]


def packed(scenario: Any, outcome: Any, options: dict[str, Any], make: Any) -> bytes:
    """What every worker needs, pickled once; a clear error when it cannot be sent."""
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps((scenario, outcome, options, make)))
    except Exception as error:
        raise TypeError(
            f"explore() with workers or an executor sends the scenario to other processes, and "
            f"it cannot be pickled ({type(error).__name__}: {error}). Components that share an "
            "object such as a threading.Event or a lock must be made afresh for each run: pass a "
            "function that returns the mapping (scenario=make_components), or explore with "
            "workers=1"
        ) from error


_unpacked: dict[bytes, Any] = {}  # a worker's last payload, unpickled once for all its chunks


def _unpack(payload: bytes) -> Any:
    import cloudpickle

    if payload not in _unpacked:
        _unpacked.clear()
        _unpacked[payload] = cloudpickle.loads(payload)
    return _unpacked[payload]


def _done(run: Run, trace: Trace, firsts: set[Any]) -> Done:
    """The run, with its trace if it is the first of its outcome in this chunk."""
    kind = (run.status, run.label, run.detail)
    first = kind not in firsts
    firsts.add(kind)
    return run, trace if first else None


def seeded_runs(payload: bytes, seeds: Sequence[int]) -> list[Done]:
    """A worker's chunk of a seeded exploration (runs in the worker process)."""
    from ._explore import judged
    from ._onerun import welded
    from ._weld import weld

    scenario, outcome, options, make = _unpack(payload)
    firsts: set[Any] = set()
    done: list[Done] = []
    with _on_claimed_cpu():
        for seed in seeds:
            made = welded(scenario, weld, options, make(seed))
            done.append(_done(judged(seed, made, outcome), made[0], firsts))
    return done


def scripted_runs(payload: bytes, prefix: list[int], max_runs: int) -> tuple[list[Done], bool]:
    """A worker's subtree of an exhaustive search: the depth-first search below ``prefix``, at
    most ``max_runs`` runs; and whether that was every run of the subtree."""
    from ._explore import judged
    from ._search import next_prefix, searched_runs
    from ._weld import weld

    scenario, outcome, options, preemptions = _unpack(payload)
    firsts: set[Any] = set()
    done: list[Done] = []
    with _on_claimed_cpu():
        for made, schedule, points in searched_runs(scenario, weld, options, prefix, preemptions):
            done.append(_done(judged(len(done), made, outcome, schedule), made[0], firsts))
            if len(done) >= max_runs:
                return done, next_prefix(points, len(prefix)) is None
    return done, True


# -- where workers run ------------------------------------------------------------------------

_claim: tuple[int, Any] | None = None  # this process's CPU, and the open lock file that holds it


def claimed_cpu() -> int | None:
    """A CPU no other sockviz worker on this machine has claimed (held until this process ends),
    or None when there is none to claim (then the weld picks as usual)."""
    global _claim
    if _claim is not None:
        return _claim[0]
    if not hasattr(os, "sched_getaffinity"):
        return None
    import fcntl

    folder = os.path.join(tempfile.gettempdir(), f"sockviz-cpus-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    for cpu in sorted(os.sched_getaffinity(0), reverse=True):
        handle = open(os.path.join(folder, f"cpu{cpu}.lock"), "w")  # noqa: SIM115 (held open)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _claim = (cpu, handle)
        return cpu
    return None


@contextlib.contextmanager
def _on_claimed_cpu() -> Iterator[None]:
    """The calling thread (whose welds' threads inherit it) on this process's CPU, for a while."""
    cpu = claimed_cpu()
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, before)


@contextlib.contextmanager
def own_pool(workers: int) -> Iterator[futures.Executor]:
    """``workers`` fresh processes (forkserver on Linux: forking a process that runs threads, as
    a Jupyter kernel does, is unsafe); stopped at the end, at once on an interrupt."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    pool = futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # (a run in progress would otherwise go on to its timeout)
            with contextlib.suppress(Exception):
                process.terminate()
        raise
    pool.shutdown(wait=True)


def farmed(
    executor: futures.Executor,
    task: Callable[..., Any],
    jobs: Sequence[tuple[Any, ...]],
    advance: Callable[[Any], None],
) -> list[Any]:
    """Run ``task(*job)`` for every job on ``executor``; their results in the jobs' order.
    ``advance(result)`` is called as each one comes (for a progress bar); Ctrl-C cancels."""
    pending = {executor.submit(task, *job): at for at, job in enumerate(jobs)}
    results: list[Any] = [None] * len(jobs)
    try:
        while pending:
            _ctrl_c.check()
            finished, _ = futures.wait(pending, timeout=0.2, return_when=futures.FIRST_COMPLETED)
            for future in finished:
                results[pending.pop(future)] = result = future.result()
                advance(result)
    finally:
        for future in pending:
            future.cancel()
    return results
