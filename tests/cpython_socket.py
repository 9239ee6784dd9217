"""CPython's own ``test/test_socket.py``, untouched, on real sockets and inside
``fake_network("strict")``.

Strict semantics aim to behave exactly like Linux; the interpreter's own socket
tests are the most demanding outside check of that there is.  This module runs
the plain-TCP classes of ``test.test_socket`` (and the socket-object methods of
``GeneralModuleTests``) twice: once on real sockets, once with every test inside
its own ``with sockviz.fake_network(semantics="strict"):`` block, entered by the
thread that runs the test -- so ``setUp`` makes the server socket in the welded
thread, and the client half, which the test starts itself with
``_thread.start_new_thread``, is welded too.

Nothing can hang the run, and no test can spoil the next: a worker process per
mode (more with ``jobs``) imports everything once, then forks a fresh child for
each test, which runs it in its main thread (signal tests need that).  The child
arms ``faulthandler.dump_traceback_later(timeout, exit=True)``, so a test that
hangs dumps every thread's stack and ends; the worker also kills a child that
stays silent past the limit, and the parent replaces a worker that dies.  Such a
test counts as ``hang``, its stacks in the report.  sockviz's own deadlock
detection cannot do this job: the tests wait on ``threading.Event``, which it
does not count as blocked.  ``repeat`` runs the fake side several times: a test
passes only if it passes every time.

Run it (from the project root)::

    .venv/bin/python tests/cpython_socket.py              # the brief's classes
    .venv/bin/python tests/cpython_socket.py --extra      # + other plain-TCP classes
    .venv/bin/python tests/cpython_socket.py -k BasicTCP -k testDup
    .venv/bin/python tests/cpython_socket.py --extra --repeat 3 --json /tmp/r.json
    .venv/bin/python tests/cpython_socket.py --from-json /tmp/r.json  # score saved outcomes again

or from Python: ``run_tests(select_tests())`` returns
``{test id: {"real": Outcome, "fake": Outcome}}``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = [
    "CLASSES",
    "EXTRA_CLASSES",
    "GENERAL_INCLUDED",
    "Outcome",
    "run_tests",
    "score",
    "select_tests",
]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("real", "fake")
#: Seconds one test may take (the slowest legitimate one sleeps 3 s, and a weld joins leftovers for
#: 2 s).
DEFAULT_TIMEOUT = 20.0

#: The plain-TCP classes of the brief, in the order test_socket defines them.
CLASSES = [
    "BasicTCPTest",
    "TCPCloserTest",
    "BasicSocketPairTest",
    "NonBlockingTCPTests",
    "FileObjectClassTestCase",
    "UnbufferedFileObjectClassTestCase",
    "LineBufferedFileObjectClassTestCase",
    "SmallBufferedFileObjectClassTestCase",
    "UnicodeReadFileObjectClassTestCase",
    "UnicodeWriteFileObjectClassTestCase",
    "UnicodeReadWriteFileObjectClassTestCase",
    "BasicTCPTest2",
    "NetworkConnectionNoServer",
    "NetworkConnectionAttributesTest",
    "NetworkConnectionBehaviourTest",
    "TCPTimeoutTest",
    "TestExceptions",
    "ContextManagersTest",
    "InheritanceTest",
    "CreateServerTest",
    "CreateServerFunctionalTest",
]

#: Other classes of test_socket.py that use only TCP (or socketpair) sockets: run with ``--extra``,
#: scored separately.
EXTRA_CLASSES = {
    "BufferIOTest": "recv_into/recvfrom_into over a TCP connection",
    "NonblockConstantTest": "SOCK_NONBLOCK and the descriptor's O_NONBLOCK flag",
    "InterruptedSendTimeoutTest": (
        "send/sendto/sendmsg with a timeout, interrupted by SIGALRM (TCP)"
    ),
    "SendfileUsingSendTest": "socket.sendfile() through send(), over TCP",
    "SendfileUsingSendfileTest": "socket.sendfile() through os.sendfile(), over TCP",
    "SendmsgTCPTest": "sendmsg() over TCP",
    "RecvmsgTCPTest": "recvmsg() over TCP",
    "RecvmsgIntoTCPTest": "recvmsg_into() over TCP",
}

#: The GeneralModuleTests methods that are about socket objects, each with why.
GENERAL_INCLUDED = {
    "test_SocketType_is_socketobject": (
        "socket.socket() must be an instance of _socket.socket (socket.SocketType)"
    ),
    "test_socket_methods": "socket.socket has the methods a configure check gates",
    "test_repr": "repr() of a socket: fd, family, type, proto, laddr, [closed]",
    "test_weakref": "a weakref.proxy to a socket dies with it",
    "testDefaultTimeout": "socket.setdefaulttimeout() reaches new sockets",
    "testSockName": "getsockname() after bind((0.0.0.0, port))",
    "testGetSockOpt": "SO_REUSEADDR is 0 on a new socket",
    "testSetSockOpt": "setsockopt(SO_REUSEADDR) sticks",
    "testSendAfterClose": "send() on a closed socket raises OSError",
    "testCloseException": "close() after the descriptor was closed behind its back raises EBADF",
    "testNewAttributes": ".family, .type, .proto",
    "test_getsockaddrarg": "bind() port range checks (OverflowError)",
    "test_sendall_interrupted": (
        "sendall() interrupted by a signal handler that raises (socketpair)"
    ),
    "test_sendall_interrupted_with_timeout": "same, with a timeout, then TimeoutError",
    "test_dealloc_warn": "ResourceWarning for a socket (and a makefile() file) collected unclosed",
    "test_name_closed_socketio": "repr() of a closed makefile() file",
    "test_unusable_closed_socketio": "a closed SocketIO refuses readable()/writable()/seekable()",
    "test_socket_close": "socket.close(fd) closes the descriptor under the socket",
    "test_makefile_mode": "makefile() modes",
    "test_makefile_invalid_mode": "makefile() rejects bad modes",
    "test_pickle": "sockets cannot be pickled",
    "test_listen_backlog": "listen(0), listen(-1), listen()",
    "test_listen_backlog_overflow": "listen(INT_MAX + 1) raises OverflowError",
    "test_flowinfo": (
        "AF_INET6 bind() with a negative flowinfo raises OverflowError (and getnameinfo with a "
        "big one)"
    ),
    "test_str_for_enums": "s.family and s.type are the enums",
    "test_socket_consistent_sock_type": (
        "s.type stays SOCK_STREAM through SOCK_NONBLOCK/settimeout/setblocking"
    ),
    "test_unknown_socket_family_repr": "detach(), then socket(fileno=...) with an unknown family",
    "test__sendfile_use_sendfile": "the _sendfile_use_sendfile checks of a socket",
    "test_socket_fileno": (
        "socket(fileno=s.fileno()) gives a socket with the same family/type (TCP, UDP, TCP6, UNIX)"
    ),
    "test_socket_fileno_rejects_float": "socket(fileno=42.5) is a TypeError",
    "test_socket_fileno_rejects_other_types": "socket(fileno='foo') is a TypeError",
    "test_socket_fileno_rejects_invalid_socket": "socket(fileno=-1) is a ValueError",
    "test_socket_fileno_rejects_negative": "socket(fileno=-42) is a ValueError",
    "test_socket_fileno_requires_valid_fd": "socket(fileno=bad fd) is EBADF",
    "test_socket_fileno_requires_socket_fd": "socket(fileno=a file) is ENOTSOCK",
}

#: The GeneralModuleTests methods left out, by group, with why (for the report).
GENERAL_EXCLUDED = [
    (
        [
            "testSocketError",
            "testCrucialConstants",
            "testCrucialIpProtoConstants",
            "testWindowsSpecificConstants",
            "test3542SocketOptions",
            "test_addressfamily_enum",
            "test_socketkind_enum",
            "test_msgflag_enum",
            "test_addressinfo_enum",
        ],
        "exception classes and module constants: no socket object involved; sockviz replaces "
        "neither",
    ),
    (["testSendtoErrors"], "UDP (SOCK_DGRAM): sockviz fakes SOCK_STREAM only, by design"),
    (
        ["test_csocket_repr"],
        "uses _socket.socket directly: the C type, which sockviz does not (cannot) patch",
    ),
    (
        [
            "testHostnameRes",
            "test_host_resolution",
            "test_host_resolution_bad_address",
            "testRefCountGetNameInfo",
            "testInterpreterCrash",
            "testGetaddrinfo",
            "test_getnameinfo",
            "test_idna",
            "test_getaddrinfo_ipv6_basic",
            "test_getfqdn_filter_localhost",
            "test_getaddrinfo_ipv6_scopeid_symbolic",
            "test_getaddrinfo_ipv6_scopeid_numeric",
            "test_getnameinfo_ipv6_scopeid_symbolic",
            "test_getnameinfo_ipv6_scopeid_numeric",
            "testGetServBy",
        ],
        "name resolution (module functions, not socket objects); sockviz's resolver is a "
        "deliberate stand-in that knows component names and loopback, not the host's DNS -- a "
        "different contract, out of scope",
    ),
    (
        [
            "test_sethostname",
            "testInterfaceNameIndex",
            "testInvalidInterfaceIndexToName",
            "testInvalidInterfaceNameToIndex",
            "testNtoH",
            "testNtoHErrors",
            "testIPv4_inet_aton_fourbytes",
            "testIPv4toString",
            "testIPv6toString",
            "testStringToIPv4",
            "testStringToIPv6",
        ],
        "host, interface and address-conversion functions: no socket object involved",
    ),
    (["test_sock_ioctl", "test_sio_loopback_fast_path"], "Windows only (skipped on Linux)"),
]

# -- selection -----------------------------------------------------------------


def select_tests(*, extra: bool = False, patterns: Sequence[str] = ()) -> list[str]:
    """The ids (``Class.method``) to run, in test_socket's order; ``patterns`` filter them
    (substring, any)."""
    import unittest

    import test.test_socket as ts  # type: ignore[import-not-found]

    loader = unittest.TestLoader()
    ids: list[str] = []
    names = list(CLASSES) + (list(EXTRA_CLASSES) if extra else [])
    for name in names:
        cls = getattr(ts, name, None)
        if cls is None:
            print(f"note: test_socket has no class {name} in this Python; skipped", file=sys.stderr)
            continue
        ids += [f"{name}.{method}" for method in loader.getTestCaseNames(cls)]
    general = set(loader.getTestCaseNames(ts.GeneralModuleTests))
    for method in GENERAL_INCLUDED:
        if method in general:
            ids.append(f"GeneralModuleTests.{method}")
        else:
            print(
                f"note: GeneralModuleTests has no {method} in this Python; skipped", file=sys.stderr
            )
    if patterns:
        ids = [i for i in ids if any(p in i for p in patterns)]
    return ids


def group_of(test_id: str) -> str:
    """The group a test belongs to: ``main`` (the brief's classes and GeneralModuleTests) or
    ``extra``."""
    return "extra" if test_id.split(".")[0] in EXTRA_CLASSES else "main"


# -- outcomes --------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """How one test ended in one mode."""

    status: str  # pass, fail, error, skip, xfail, xpass, hang, crash
    seconds: float = 0.0
    first_line: str = ""  # the first problem's exception, one line ("AssertionError: ...")
    # every problem: kind, where, traceback
    details: list[dict[str, str]] = dataclasses.field(default_factory=list)
    skip_reason: str = ""
    fake_sockets: int | None = None  # sockets the fake network made during the test (fake mode)
    # the status of every run (see run_tests' repeat)
    runs: list[str] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(**data)


# -- the worker (a subprocess) ---------------------------------------------------


def _exception_line(exc_type: type[BaseException], exc: BaseException) -> str:
    import traceback

    text = "".join(traceback.format_exception_only(exc_type, exc)).strip()
    return text.splitlines()[0] if text else exc_type.__name__


def _make_result_class() -> type:
    import traceback
    import unittest

    class Recording(unittest.TestResult):
        """A TestResult that keeps each problem's one-line summary as well as its traceback."""

        def __init__(self) -> None:
            super().__init__()
            self.problems: list[dict[str, str]] = []

        def _note(self, kind: str, test: Any, err: Any) -> None:
            exc_type, exc, tb = err
            # Class.method (or its subtest)
            where = test.id().split(".", 2)[-1] if test is not None else ""
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            self.problems.append(
                {
                    "kind": kind,
                    "where": where,
                    "line": _exception_line(exc_type, exc),
                    "traceback": text,
                }
            )

        def addError(self, test: Any, err: Any) -> None:  # noqa: N802 - unittest's names
            super().addError(test, err)
            self._note("error", test, err)

        def addFailure(self, test: Any, err: Any) -> None:  # noqa: N802
            super().addFailure(test, err)
            self._note("failure", test, err)

        def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:  # noqa: N802
            super().addSubTest(test, subtest, err)
            if err is not None:
                self._note(
                    "failure" if issubclass(err[0], test.failureException) else "error",
                    subtest,
                    err,
                )

        def addUnexpectedSuccess(self, test: Any) -> None:  # noqa: N802
            super().addUnexpectedSuccess(test)
            self.problems.append(
                {
                    "kind": "unexpected success",
                    "where": test.id(),
                    "line": "unexpected success",
                    "traceback": "",
                }
            )

    return Recording


def _run_one(test_id: str, mode: str) -> Outcome:
    """Run one test here, in this (the main) thread; fake mode welds this thread for the test."""
    import unittest

    import test.test_socket as ts

    loader = unittest.TestLoader()
    suite = loader.loadTestsFromName(test_id, ts)
    (case,) = list(suite)
    cls: Any = type(case)
    result = _make_result_class()()
    fake_sockets: int | None = None
    started = time.monotonic()
    try:
        cls.setUpClass()  # (only the sendfile tests have one: they write their file)
    except Exception as exc:
        result.addError(case, (type(exc), exc, exc.__traceback__))
    else:
        try:
            if mode == "real":
                case.run(result)
            else:
                import sockviz

                weld = None
                try:
                    with sockviz.fake_network(semantics="strict") as weld:
                        case.run(result)
                except Exception as exc:
                    result.problems.append(
                        {
                            "kind": "error",
                            "where": "leaving fake_network()",
                            "line": _exception_line(type(exc), exc),
                            "traceback": repr(exc),
                        }
                    )
                    result.errors.append((case, repr(exc)))
                if weld is not None:
                    fake_sockets = sum(
                        1 for e in weld.trace.of_kind("state") if e.fields.get("from") is None
                    )
        finally:
            with contextlib.suppress(Exception):
                cls.tearDownClass()
                cls.doClassCleanups()
    seconds = round(time.monotonic() - started, 3)
    problems = result.problems
    if result.errors:
        status = "error"
    elif result.failures:
        status = "fail"
    elif result.unexpectedSuccesses:
        status = "xpass"
    elif result.skipped and not result.testsRun - len(result.skipped) > 0:
        status = "skip"
    elif result.expectedFailures:
        status = "xfail"
    else:
        status = "pass"
    # Only real problems (failures and errors) name the first line; an error beats a failure.
    firsts = [p for p in problems if p["kind"] == "error"] or problems
    skip_reason = "; ".join(str(reason) for _, reason in result.skipped)
    first_line = firsts[0]["line"] if firsts and status not in ("pass", "skip") else ""
    if status == "skip":
        first_line = f"skipped: {skip_reason}"
    return Outcome(
        status=status,
        seconds=seconds,
        first_line=first_line,
        details=problems,
        skip_reason=skip_reason,
        fake_sockets=fake_sockets,
    )


def _worker(mode: str, fd: int, stack_file: str, timeout: float) -> None:
    """Read test ids (JSON) on stdin; run each in a child forked for it, reporting on ``fd``.

    A fresh child per test: a test that leaves the process damaged (a thread-local
    waiter of sockviz's corrupted by a signal, a leftover thread, a patched module)
    cannot make the next one fail.  Forking costs a few milliseconds; the imports
    are done once, here, and no thread runs in this process when it forks.
    """
    import faulthandler

    ids = json.load(sys.stdin)
    out = os.fdopen(fd, "w", buffering=1)
    import test.test_socket  # noqa: F401 - import once, before forking: it opens sockets

    if mode == "fake":
        import sockviz  # noqa: F401

    for test_id in ids:
        out.write(json.dumps({"event": "start", "id": test_id}) + "\n")
        rfd, wfd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: run the test, send the outcome, leave without cleanup
            os.close(rfd)
            try:
                with open(stack_file, "w") as stacks:
                    faulthandler.dump_traceback_later(timeout, exit=True, file=stacks)
                    try:
                        outcome = _run_one(test_id, mode)
                    except BaseException as exc:
                        line = _exception_line(type(exc), exc)
                        problem = {"kind": "error", "where": test_id, "line": line, "traceback": ""}
                        outcome = Outcome("error", first_line=line, details=[problem])
                    faulthandler.cancel_dump_traceback_later()
                view = memoryview(json.dumps(outcome.to_json()).encode())
                while view:
                    view = view[os.write(wfd, view) :]
            finally:
                os._exit(0)  # leftover (daemon) threads must not keep the child alive
        os.close(wfd)
        written = _read_child(rfd, pid, timeout + 5)
        os.close(rfd)
        outcome = _child_outcome(written, pid, stack_file, timeout)
        with contextlib.suppress(OSError):
            os.unlink(stack_file)
        out.write(
            json.dumps({"event": "result", "id": test_id, "outcome": outcome.to_json()}) + "\n"
        )
    out.close()


def _read_child(rfd: int, pid: int, limit: float) -> bytes | None:
    """What the child wrote, or None if it did not finish within ``limit`` seconds (it is then
    killed)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + limit
    while True:
        wait = deadline - time.monotonic()
        ready = select.select([rfd], [], [], max(wait, 0))[0] if wait > 0 else []
        if not ready:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # our own child
            os.waitpid(pid, 0)
            return None
        chunk = os.read(rfd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _child_outcome(data: bytes | None, pid: int, stack_file: str, timeout: float) -> Outcome:
    status = 0
    if data is not None:
        _, status = os.waitpid(pid, 0)
    if data:
        return Outcome.from_json(json.loads(data))
    stacks = _read(stack_file)
    if data is None or stacks.strip():
        how = "faulthandler dumped the threads" if stacks.strip() else "killed"
        line = f"hang: no result within {timeout:g} s ({how})"
        return Outcome(
            "hang",
            seconds=timeout,
            first_line=line,
            details=[{"kind": "hang", "where": "", "line": line, "traceback": stacks}],
        )
    line = f"crash: the test process died ({_describe_status(status)})"
    return Outcome(
        "crash",
        first_line=line,
        details=[{"kind": "crash", "where": "", "line": line, "traceback": ""}],
    )


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else str(status)


# -- the parent ------------------------------------------------------------------


class _Shard:
    """Runs some test ids in one mode, one worker process at a time, restarting after a hang or
    crash."""

    def __init__(
        self,
        mode: str,
        ids: list[str],
        timeout: float,
        workdir: str,
        on_result: Callable[[str, str, Outcome], None],
    ) -> None:
        self.mode, self.ids, self.timeout, self.workdir, self.on_result = (
            mode,
            ids,
            timeout,
            workdir,
            on_result,
        )
        self.results: dict[str, Outcome] = {}

    def run(self) -> dict[str, Outcome]:
        remaining = list(self.ids)
        while remaining:
            remaining = self._one_worker(remaining)
        return self.results

    def _record(self, test_id: str, outcome: Outcome) -> None:
        self.results[test_id] = outcome
        self.on_result(self.mode, test_id, outcome)

    def _one_worker(self, ids: list[str]) -> list[str]:
        """Run ``ids`` in a new worker; return those still to run when it ended."""
        rfd, wfd = os.pipe()
        stack_file = tempfile.mktemp(prefix=f"stacks-{self.mode}-", dir=self.workdir)
        err_path = tempfile.mktemp(prefix=f"stderr-{self.mode}-", dir=self.workdir)
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                filter(None, [os.path.join(ROOT, "src"), os.environ.get("PYTHONPATH")])
            ),
        )
        with open(err_path, "w") as err:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--worker",
                    self.mode,
                    str(wfd),
                    stack_file,
                    str(self.timeout),
                ],
                stdin=subprocess.PIPE,
                stdout=err,
                stderr=subprocess.STDOUT,
                pass_fds=(wfd,),
                cwd=self.workdir,
                env=env,
                start_new_session=True,
            )
        os.close(wfd)
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(ids).encode())
        proc.stdin.close()
        done: set[str] = set()
        current: str | None = None
        deadline = time.monotonic() + 120  # the worker's start-up (imports)
        buffer = b""
        reason = ""
        try:
            while True:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    reason = "killed"
                    break
                ready, _, _ = select.select([rfd], [], [], wait)
                if not ready:
                    continue
                chunk = os.read(rfd, 65536)
                if not chunk:
                    reason = "ended"
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    message = json.loads(raw)
                    if message["event"] == "start":
                        current = message["id"]
                        # the worker kills a hung test first
                        deadline = time.monotonic() + self.timeout + 30
                    else:
                        self._record(message["id"], Outcome.from_json(message["outcome"]))
                        done.add(message["id"])
                        current = None
                        deadline = time.monotonic() + self.timeout + 30
        finally:
            os.close(rfd)
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # our own worker's process group
            proc.wait()
        stacks = _read(stack_file)
        output = _read(err_path)
        for path in (stack_file, err_path):
            with contextlib.suppress(OSError):
                os.unlink(path)
        remaining = [i for i in ids if i not in done]
        if current is None:
            if remaining:  # the worker died between tests, or before the first: give up on the rest
                for test_id in remaining:
                    self._record(
                        test_id,
                        Outcome(
                            "crash",
                            first_line=f"the worker ended before the test ({proc.returncode})",
                            details=[
                                {
                                    "kind": "crash",
                                    "where": "",
                                    "line": "",
                                    "traceback": output[-4000:],
                                }
                            ],
                        ),
                    )
                return []
            return []
        # The test in progress hung (faulthandler ended the worker, or we killed it) or crashed the
        # worker.
        if stacks.strip():
            line = f"hang: no result within {self.timeout:g} s (faulthandler dumped the threads)"
            outcome = Outcome(
                "hang",
                seconds=self.timeout,
                first_line=line,
                details=[{"kind": "hang", "where": current, "line": line, "traceback": stacks}],
            )
        elif reason == "killed":
            line = f"hang: no result within {self.timeout + 30:g} s (worker killed)"
            outcome = Outcome(
                "hang",
                seconds=self.timeout,
                first_line=line,
                details=[
                    {"kind": "hang", "where": current, "line": line, "traceback": output[-4000:]}
                ],
            )
        else:
            line = f"crash: the worker died during the test (exit status {proc.returncode})"
            problem = {"kind": "crash", "where": current, "line": line, "traceback": output[-4000:]}
            outcome = Outcome("crash", first_line=line, details=[problem])
        self._record(current, outcome)
        return [i for i in remaining if i != current]


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _split(ids: list[str], n: int) -> list[list[str]]:
    """``n`` contiguous pieces of about equal size, never splitting a class."""
    if n <= 1 or len(ids) <= 1:
        return [ids]
    classes: list[list[str]] = []
    for test_id in ids:
        cls = test_id.split(".")[0]
        if classes and classes[-1][0].split(".")[0] == cls:
            classes[-1].append(test_id)
        else:
            classes.append([test_id])
    pieces: list[list[str]] = [[] for _ in range(n)]
    target = len(ids) / n
    index = 0
    for group in classes:
        if len(pieces[index]) >= target and index < n - 1:
            index += 1
        pieces[index].extend(group)
    return [p for p in pieces if p]


def run_tests(
    ids: Sequence[str],
    *,
    modes: Iterable[str] = MODES,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = 2,
    repeat: int = 1,
    progress: Callable[[str, str, Outcome], None] | None = None,
) -> dict[str, dict[str, Outcome]]:
    """Run each test on real sockets and/or inside ``fake_network("strict")``.

    Returns ``{test id: {mode: Outcome}}``.  ``jobs`` worker processes run at
    once (the modes run side by side; more jobs split each mode by class).
    ``timeout``: seconds a test may take before it counts as a hang.
    ``repeat``: run the fake side that many times; a test passes on fake sockets
    only if it passes every time (``Outcome.runs`` lists every run's status).
    """
    modes = list(modes)
    ids = list(ids)
    runs: dict[tuple[str, str], list[Outcome]] = {}
    per_mode = max(1, jobs // len(modes))
    workdir = tempfile.mkdtemp(prefix="cpython-socket-")

    def note(mode: str, test_id: str, outcome: Outcome) -> None:
        runs.setdefault((test_id, mode), []).append(outcome)
        if progress is not None:
            progress(mode, test_id, outcome)

    shards = [
        _Shard(mode, piece, timeout, workdir, note)
        for round_ in range(max(1, repeat))
        for mode in modes
        if mode == "fake" or round_ == 0
        for piece in _split(ids, per_mode)
    ]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for future in [pool.submit(shard.run) for shard in shards]:
                future.result()
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    results: dict[str, dict[str, Outcome]] = {i: {} for i in ids}
    for (test_id, mode), outcomes in runs.items():
        results[test_id][mode] = _combine(outcomes)
    return results


def _combine(outcomes: list[Outcome]) -> Outcome:
    """One outcome for several runs of a test: the first that did not pass, if any."""
    bad = [o for o in outcomes if not o.passed]
    chosen = dataclasses.replace(bad[0] if bad else outcomes[0])
    chosen.runs = [o.status for o in outcomes]
    if bad and len(bad) < len(outcomes):
        chosen.first_line = f"[flaky: {len(bad)} of {len(outcomes)} runs] {chosen.first_line}"
    return chosen


# -- scoring and the report --------------------------------------------------------


def score(
    results: dict[str, dict[str, Outcome]], group: str | None = "main"
) -> tuple[int, int, list[str]]:
    """(passing on both, passing on real, the ids passing on real but not on fake)."""
    on_real = [
        i
        for i, r in results.items()
        if (group is None or group_of(i) == group) and r.get("real") and r["real"].passed
    ]
    failing = [i for i in on_real if not (r := results[i].get("fake")) or not r.passed]
    return len(on_real) - len(failing), len(on_real), failing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-k",
        dest="patterns",
        action="append",
        default=[],
        help="run only ids containing this (repeatable)",
    )
    parser.add_argument(
        "--extra",
        action="store_true",
        help="also run the other plain-TCP classes (scored separately)",
    )
    parser.add_argument("--mode", choices=["both", *MODES], default="both")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds per test before it counts as a hang",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="worker processes at once (default 2: real and fake side by side)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the fake side N times; pass = pass every time (finds flaky tests)",
    )
    parser.add_argument("--json", help="write the raw outcomes here")
    parser.add_argument(
        "--from-json",
        metavar="PATH",
        help="run nothing: score and report the outcomes saved in PATH by --json",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print each outcome as it comes"
    )
    parser.add_argument(
        "--worker", nargs=4, metavar=("MODE", "FD", "STACKS", "TIMEOUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        mode, fd, stacks, timeout = args.worker
        _worker(mode, int(fd), stacks, float(timeout))
        return 0

    ids = select_tests(extra=args.extra, patterns=args.patterns)
    modes: tuple[str, ...] = MODES if args.mode == "both" else (args.mode,)

    def progress(mode: str, test_id: str, outcome: Outcome) -> None:
        if args.verbose:
            print(
                f"{mode:4} {outcome.status:5} {outcome.seconds:6.2f}s {test_id}  "
                f"{outcome.first_line[:120]}",
                flush=True,
            )

    started = time.monotonic()
    seconds: float | None
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        results = {i: {m: Outcome.from_json(o) for m, o in r.items()} for i, r in saved.items()}
        ids, modes, seconds = (
            list(results),
            tuple(m for m in MODES if any(m in r for r in results.values())),
            None,
        )
    else:
        results = run_tests(
            ids,
            modes=modes,
            timeout=args.timeout,
            jobs=args.jobs,
            repeat=args.repeat,
            progress=progress,
        )
        seconds = time.monotonic() - started
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {i: {m: o.to_json() for m, o in r.items()} for i, r in results.items()}, f, indent=1
            )
    if len(modes) == 1:
        counts: dict[str, int] = {}
        for r in results.values():
            counts[r[modes[0]].status] = counts.get(r[modes[0]].status, 0) + 1
        print(f"{modes[0]}: {counts}" + (f" in {seconds:.1f} s" if seconds is not None else ""))
        return 0
    extra = any(group_of(i) == "extra" for i in results)
    for group in ("main", "extra") if extra else ("main",):
        passed, total, failing = score(results, group)
        pct = 100.0 * passed / total if total else 0.0
        label = "" if group == "main" else " (extra classes)"
        print(
            f"{passed} of {total} tests that pass on real sockets pass on fake ones ({pct:.1f} "
            f"%){label}"
        )
        for test_id in failing:
            fake = results[test_id]["fake"]
            print(f"  FAIL {test_id} [{fake.status}]: {textwrap.shorten(fake.first_line, 200)}")
    not_real = [i for i, r in results.items() if "real" in r and not r["real"].passed]
    if not_real:
        print(
            "not counted (no pass on real sockets): "
            + ", ".join(f"{i} [{results[i]['real'].status}]" for i in not_real)
        )
    if seconds is not None:
        repeats = f", fake side {args.repeat} times" if args.repeat > 1 else ""
        print(
            f"run time: {seconds:.1f} s ({len(ids)} tests x {len(modes)} modes{repeats}, "
            f"{args.jobs} jobs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
