"""The corpus of published socket programs, and how to run each one.

Each entry:

* ``name`` -- the program's name (unique);
* ``folder`` -- its folder under ``tests/programs/`` (run everything from there:
  some scripts import a helper module that sits beside them, or serve files from it);
* ``components`` -- the spec strings given to ``sockviz run``, servers first
  (``NAME=`` where one script plays two roles); on real sockets each spec is one
  ``python`` process, started in this order, ``start_gap`` seconds apart;
* ``until`` -- the components whose end ends the run (``--until``): those servers
  that serve for ever are left out of it; empty when every component ends alone;
* ``client`` -- the component whose output ``expect`` is checked against;
* ``expect`` -- substrings the client prints (stdout or stderr, as the original does);
* ``expect_deadlock`` -- the program deadlocks (on real TCP too): no output is expected
  to be complete, the run must not finish;
* ``source`` -- what it imitates; ``notes`` -- anything a reader of a failure needs.

The ports are 9301-9325, one per program.
"""

from __future__ import annotations

import os
import shlex
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

PROGRAMS: list[dict[str, Any]] = [
    {
        "name": "realpython_echo",
        "folder": "realpython_echo",
        "components": ["echo-server.py", "echo-client.py"],
        "until": [],
        "client": "echo-client",
        "expect": ["Received b'Hello, world'"],
        "expect_deadlock": False,
        "source": "Real Python, Socket Programming in Python: echo-server.py / echo-client.py",
    },
    {
        "name": "realpython_multiconn",
        "folder": "realpython_multiconn",
        "components": ["multiconn-server.py 127.0.0.1 9302", "multiconn-client.py 127.0.0.1 9302 2"],
        "until": ["multiconn-client"],
        "client": "multiconn-client",
        "expect": [
            "Starting connection 1 to ('127.0.0.1', 9302)",
            "Starting connection 2 to ('127.0.0.1', 9302)",
            "Sending b'Message 1 from client.' to connection 1",
            "Sending b'Message 2 from client.' to connection 2",
            "Closing connection 1",
            "Closing connection 2",
        ],
        "expect_deadlock": False,
        "source": "Real Python: multiconn-server.py / multiconn-client.py (selectors, types.SimpleNamespace)",
        "notes": "the server selects EVENT_READ|EVENT_WRITE on every connection for ever: it spins while one is open",
    },
    {
        "name": "realpython_app_search",
        "folder": "realpython_app",
        "components": ["app-server.py 127.0.0.1 9303", "app-client.py 127.0.0.1 9303 search morpheus"],
        "until": ["app-client"],
        "client": "app-client",
        "expect": [
            "Starting connection to ('127.0.0.1', 9303)",
            "Received response {'result': 'Follow the white rabbit. \U0001f430'} from ('127.0.0.1', 9303)",
            "Got result: Follow the white rabbit. \U0001f430",
            "Closing connection to ('127.0.0.1', 9303)",
        ],
        "expect_deadlock": False,
        "source": "Real Python: app-server.py / app-client.py with libserver.py / libclient.py",
        "notes": "the scripts `import libserver` / `import libclient` from their own folder",
    },
    {
        "name": "realpython_app_binary",
        "folder": "realpython_app",
        "components": ["app-server.py 127.0.0.1 9303", "app-client.py 127.0.0.1 9303 double 7"],
        "until": ["app-client"],
        "client": "app-client",
        "expect": [
            "Received binary/custom-server-binary-type response from ('127.0.0.1', 9303)",
            "Got response: b'First 10 bytes of request: double7'",
        ],
        "expect_deadlock": False,
        "source": "Real Python: app-client.py with a non-search action (binary content type)",
    },
    {
        "name": "pymotw_select",
        "folder": "pymotw_select",
        "components": ["select_echo_server.py", "select_echo_multiclient.py"],
        "until": ["select_echo_multiclient"],
        "client": "select_echo_multiclient",
        "expect": [
            "connecting to localhost port 9304",
            "received b'This is the message. '",
            "received b'It will be sent '",
            "received b'in parts.'",
        ],
        "expect_deadlock": False,
        "source": "PyMOTW-3 select: select_echo_server.py / select_echo_multiclient.py",
        "notes": "output on stderr; the client never closes its sockets (process exit does it)",
        # The published server crashes with KeyError when the client's process exits (on real sockets
        # too: it removes a socket's queue twice); whether the run ends before that is a race.
        "may_fail": ("select_echo_server", "KeyError"),
    },
    {
        "name": "pymotw_poll",
        "folder": "pymotw_poll",
        "components": ["select_poll_echo_server.py", "select_echo_multiclient.py"],
        "until": ["select_echo_multiclient"],
        "client": "select_echo_multiclient",
        "expect": [
            "connecting to localhost port 9305",
            "received b'This is the message. '",
            "received b'It will be sent '",
            "received b'in parts.'",
        ],
        "expect_deadlock": False,
        "source": "PyMOTW-3 select: select_poll_echo_server.py / select_echo_multiclient.py",
        "notes": "output on stderr",
    },
    {
        "name": "asyncio_streams",
        "folder": "asyncio_streams",
        "components": ["tcp_echo_server.py", "tcp_echo_client.py"],
        "until": ["tcp_echo_client"],
        "client": "tcp_echo_client",
        "expect": ["Send: 'Hello World!'", "Received: 'Hello World!'", "Close the connection"],
        "expect_deadlock": False,
        "source": "Python docs, asyncio streams: TCP echo client / server using streams",
    },
    {
        "name": "asyncio_protocols",
        "folder": "asyncio_protocols",
        "components": ["echo_server_protocol.py", "echo_client_protocol.py"],
        "until": ["echo_client_protocol"],
        "client": "echo_client_protocol",
        "expect": ["Data sent: 'Hello World!'", "Data received: 'Hello World!'", "The server closed the connection"],
        "expect_deadlock": False,
        "source": "Python docs, asyncio protocols: TCP Echo Server / TCP Echo Client (on_con_lost future)",
    },
    {
        "name": "asyncio_oldstyle",
        "folder": "asyncio_oldstyle",
        "components": ["asyncio_echo_server.py", "asyncio_echo_client.py"],
        "until": ["asyncio_echo_client"],
        "client": "asyncio_echo_client",
        "expect": ["Send: 'Hello World!'", "Received: 'Hello World!'", "Close the socket"],
        "expect_deadlock": False,
        "source": "Python 3.6 docs asyncio streams: module-level asyncio.get_event_loop(), run_until_complete",
        "notes": "loop=loop dropped (removed in 3.10); get_event_loop() makes a loop only in the main thread",
    },
    {
        "name": "socketserver_tcp",
        "folder": "socketserver_tcp",
        "components": ["tcpserver.py", "client.py hello world from the docs"],
        "until": ["client"],
        "client": "client",
        "expect": ["Sent:     hello world from the docs", "Received: HELLO WORLD FROM THE DOCS"],
        "expect_deadlock": False,
        "source": "Python docs socketserver: TCPServer + MyTCPHandler(BaseRequestHandler), and the client",
    },
    {
        "name": "socketserver_stream",
        "folder": "socketserver_stream",
        "components": ["tcpserver_stream.py", "client.py streams are nicer"],
        "until": ["client"],
        "client": "client",
        "expect": ["Sent:     streams are nicer", "Received: STREAMS ARE NICER"],
        "expect_deadlock": False,
        "source": "Python docs socketserver: the StreamRequestHandler variant (rfile.readline, wfile.write)",
    },
    {
        "name": "socketserver_threading",
        "folder": "socketserver_threading",
        "components": ["threaded_tcp.py"],
        "until": [],
        "client": "threaded_tcp",
        "expect": [
            "Server loop running in thread: Thread-",
            "(serve_forever)",
            ": Hello World 1",
            ": Hello World 2",
            ": Hello World 3",
            "(process_request_thread): Hello World",
        ],
        "expect_deadlock": False,
        "source": "Python docs socketserver: Asynchronous Mixins (ThreadingMixIn) example, one script",
        "notes": "the docs use port 0; thread numbers depend on the process",
    },
    {
        "name": "fopnp_tcp_sixteen",
        "folder": "fopnp_tcp_sixteen",
        "components": ["server=tcp_sixteen.py server '' -p 9312", "client=tcp_sixteen.py client 127.0.0.1 -p 9312"],
        "until": ["client"],
        "client": "client",
        "expect": ["Client has been assigned socket name ('127.0.0.1', ", "The server said b'Farewell, client'"],
        "expect_deadlock": False,
        "source": "Foundations of Python Network Programming 3rd ed., listing 3-1, tcp_sixteen.py",
    },
    {
        "name": "fopnp_tcp_deadlock_small",
        "folder": "fopnp_tcp_deadlock",
        "components": ["server=tcp_deadlock.py server '' -p 9313", "client=tcp_deadlock.py client 127.0.0.1 16000 -p 9313"],
        "until": ["client"],
        "client": "client",
        "expect": [
            "Sending 16000 bytes of data, in chunks of 16 bytes",
            "16000 bytes sent",
            "Receiving all the data the server sends back",
            "The first data received says b'CAPITALIZE THIS!CAPITALIZE THIS!CAPITALIZE'",
            "16000 bytes received",
        ],
        "expect_deadlock": False,
        "source": "Foundations of Python Network Programming 3rd ed., listing 3-2, tcp_deadlock.py (small count)",
    },
    {
        "name": "fopnp_tcp_deadlock_big",
        "folder": "fopnp_tcp_deadlock",
        "components": ["server=tcp_deadlock.py server '' -p 9313", "client=tcp_deadlock.py client 127.0.0.1 100000000 -p 9313"],
        "until": ["client"],
        "client": "client",
        "expect": ["Sending 100000000 bytes of data, in chunks of 16 bytes"],
        "expect_deadlock": True,
        "source": "Foundations of Python Network Programming 3rd ed., listing 3-2, tcp_deadlock.py (100 MB: deadlocks)",
        "notes": "both sides end blocked in sendall(): the client never reads, the server's replies fill the buffers",
    },
    {
        "name": "so_threaded_server",
        "folder": "so_threaded_server",
        "components": ["threaded_server.py 9314", "two_clients.py"],
        "until": ["two_clients"],
        "client": "two_clients",
        "expect": [
            "first got first ping",
            "second got second ping",
            "first got first pong",
            "second got second pong",
            "done",
        ],
        "expect_deadlock": False,
        "source": "Stack Overflow q/23828264 ThreadedServer (threading.Thread per client), a two-connection client",
    },
    {
        "name": "tutorialspoint_gethostname",
        "folder": "tutorialspoint_gethostname",
        "components": ["server.py", "client.py"],
        "until": ["client"],
        "client": "client",
        "expect": ["b'Thank you for connecting'"],
        "expect_deadlock": False,
        "source": "tutorialspoint Python network programming: host = socket.gethostname() on both sides",
        "notes": "binds and connects to the machine's own name (here resolved by /etc/hosts)",
    },
    {
        "name": "create_server_makefile",
        "folder": "create_server_makefile",
        "components": ["line_server.py", "line_client.py"],
        "until": [],
        "client": "line_client",
        "expect": ["'alpha' -> '5 ahpla'", "'beta' -> '4 ateb'", "'gamma delta' -> '11 atled ammag'", "server closed: True"],
        "expect_deadlock": False,
        "source": "Python docs socket.create_server (dual-stack idiom), create_connection, makefile('r') lines",
    },
    {
        "name": "length_prefix",
        "folder": "length_prefix",
        "components": ["msg_server.py", "msg_client.py"],
        "until": [],
        "client": "msg_client",
        "expect": [
            "server says: 5 bytes, md5 5d41402a",
            "server says: 200000 bytes, md5 ",
            "server says: 256 bytes, md5 e2c865db",
        ],
        "expect_deadlock": False,
        "source": "Stack Overflow a/17668009 send_msg/recv_msg/recvall (4-byte length prefix) in a helper module",
        "notes": "both scripts `import msgproto` from their own folder; one message is 200000 bytes",
    },
    {
        "name": "retry_connect",
        "folder": "retry_connect",
        "components": ["slow_server.py", "retry_client.py"],
        "until": [],
        "client": "retry_client",
        "expect": ["reply: hello, client"],
        "expect_deadlock": False,
        "source": "the tutorials' connect-retry loop (ConnectionRefusedError, time.sleep), same socket reused",
        "start_gap": 0.0,
        "notes": "the server sleeps 1.5 s before listening; started together, the client is refused first",
    },
    {
        "name": "gfg_start_new_thread",
        "folder": "gfg_start_new_thread",
        "components": ["server.py", "client.py"],
        "until": ["client"],
        "client": "client",
        "expect": ["Received from the server : skeegrofskeeg syas ayruahs"],
        "expect_deadlock": False,
        "source": "GeeksforGeeks, Socket Programming with Multi-threading in Python (_thread.start_new_thread)",
        "notes": "the handler runs in a thread made by _thread.start_new_thread, not threading.Thread",
    },
    {
        "name": "pydocs_selectors",
        "folder": "pydocs_selectors",
        "components": ["selectors_server.py", "nonblocking_client.py"],
        "until": ["nonblocking_client"],
        "client": "nonblocking_client",
        "expect": ["connect_ex: EINPROGRESS", "connected, SO_ERROR = 0", "echo: b'non-blocking hello'"],
        "expect_deadlock": False,
        "source": "Python docs selectors example server; a non-blocking connect_ex client",
    },
    {
        "name": "http_server_urllib",
        "folder": "http_server_urllib",
        "components": ["server.py", "fetch.py"],
        "until": ["fetch"],
        "client": "fetch",
        "expect": ["200 text/plain", "Hello from http.server!"],
        "expect_deadlock": False,
        "source": "Python docs http.server example (SimpleHTTPRequestHandler + TCPServer) and urlopen",
        "notes": "serves the current folder: run it from the program's folder",
    },
    {
        "name": "chat_broadcast",
        "folder": "chat_broadcast",
        "components": ["chat_server.py", "chat_two_clients.py"],
        "until": ["chat_two_clients"],
        "client": "chat_two_clients",
        "expect": ["alice sees: entered our chatting room", "alice sees: hello everyone", "done"],
        "expect_deadlock": False,
        "source": "the Binarytides/Pythonspot chat_server.py (select with timeout 0, broadcast), Python 3",
        "notes": "the server polls select(..., 0) in a tight loop",
    },
    {
        "name": "techwithtim",
        "folder": "techwithtim",
        "components": ["server.py", "client.py"],
        "until": ["client"],
        "client": "client",
        "expect": ["Msg received"],
        "expect_deadlock": False,
        "source": "Tech With Tim, Python Socket Programming Tutorial: gethostbyname(gethostname()), HEADER = 64",
    },
    {
        "name": "pydocs_socket_echo",
        "folder": "pydocs_socket_echo",
        "components": ["echo_server.py", "echo_client.py"],
        "until": [],
        "client": "echo_client",
        "expect": ["Received b'Hello, world'"],
        "expect_deadlock": False,
        "source": "Python docs socket module example: Echo server program / Echo client program (HOST = '')",
    },
    {
        "name": "pydocs_socket_echo_getaddrinfo",
        "folder": "pydocs_socket_echo_getaddrinfo",
        "components": ["echo_server46.py", "echo_client46.py"],
        "until": [],
        "client": "echo_client46",
        "expect": ["Received b'Hello, world'"],
        "expect_deadlock": False,
        "source": "Python docs socket module example: the IPv4/IPv6 getaddrinfo echo server and client",
    },
]


def component_name(spec: str) -> str:
    """The name ``sockviz run`` gives a spec: ``NAME=`` if given, else the script's stem."""
    head, sep, rest = spec.partition("=")
    if sep and head.isidentifier() and " " not in head:
        return head
    return os.path.splitext(os.path.basename(shlex.split(spec)[0]))[0]


def real_argv(spec: str) -> list[str]:
    """The arguments after ``python`` that run ``spec`` as a real process."""
    head, sep, rest = spec.partition("=")
    if sep and head.isidentifier() and " " not in head:
        spec = rest
    return shlex.split(spec)


def by_name(name: str) -> dict[str, Any]:
    for program in PROGRAMS:
        if program["name"] == name:
            return program
    raise KeyError(name)


def folder(program: dict[str, Any]) -> str:
    return os.path.join(HERE, program["folder"])
