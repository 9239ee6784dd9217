"""Demo scenarios made of the standard library's own servers and clients, unmodified.

Each function returns ``{component: callable}`` for :func:`sockviz.weld`, and
a ``results`` dict the components fill in (what the client received), so a
test or a lesson can check the bytes that arrived:

* ``http_scenario`` -- ``socketserver.ThreadingTCPServer`` with
  ``http.server.SimpleHTTPRequestHandler`` serving a temporary folder, fetched
  with ``urllib.request`` and ``http.client`` (``serve_forever`` and
  ``shutdown`` included: they use ``selectors`` on the fake listener);
* ``xmlrpc_scenario`` -- ``SimpleXMLRPCServer`` and ``ServerProxy``;
* ``wsgi_scenario`` -- ``wsgiref.simple_server`` with a small WSGI app;
* ``asyncio_scenario`` -- ``asyncio.start_server`` and ``open_connection``,
  each side in its own event loop in its own welded thread.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import http.server
import shutil
import socketserver
import tempfile
import threading
import urllib.request
import wsgiref.simple_server
import xmlrpc.client
import xmlrpc.server
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["FILES", "asyncio_scenario", "http_scenario", "wsgi_scenario", "xmlrpc_scenario"]

Components = dict[str, Callable[[], None]]

#: What the HTTP scenario serves: a small text and 100 KiB of varied bytes.
FILES = {"hello.txt": b"hello from a file\n", "data.bin": bytes(range(256)) * 400}


class _QuietHTTP(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def http_scenario(port: int = 8000) -> tuple[Components, dict[str, Any]]:
    """http.server behind a ThreadingTCPServer, and two clients: urllib.request and http.client."""
    results: dict[str, Any] = {}
    ready, done = threading.Event(), threading.Event()

    def server() -> None:
        folder = Path(tempfile.mkdtemp(prefix="sockviz-www-"))
        try:
            for name, data in FILES.items():
                (folder / name).write_bytes(data)
            handler = functools.partial(_QuietHTTP, directory=str(folder))
            with socketserver.ThreadingTCPServer(("", port), handler) as httpd:
                serving = threading.Thread(
                    target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="serve_forever"
                )
                serving.start()
                ready.set()
                done.wait(30)
                httpd.shutdown()
                serving.join()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def client() -> None:
        ready.wait(30)
        try:
            with urllib.request.urlopen(f"http://server:{port}/hello.txt", timeout=10) as response:
                results["urllib"] = response.read()
            connection = http.client.HTTPConnection("server", port, timeout=10)
            connection.request("GET", "/data.bin")
            response = connection.getresponse()
            results["status"] = response.status
            results["http.client"] = response.read()
            connection.close()
        finally:
            done.set()

    return {"server": server, "client": client}, results


def xmlrpc_scenario(port: int = 8001) -> tuple[Components, dict[str, Any]]:
    """An XML-RPC server with an ``add`` function, called through ServerProxy."""
    results: dict[str, Any] = {}
    ready = threading.Event()

    def server() -> None:
        with xmlrpc.server.SimpleXMLRPCServer(("", port), logRequests=False) as rpc:
            rpc.register_function(lambda a, b: a + b, "add")
            ready.set()
            rpc.handle_request()

    def client() -> None:
        ready.wait(30)
        results["add"] = xmlrpc.client.ServerProxy(f"http://server:{port}").add(2, 3)

    return {"server": server, "client": client}, results


class _QuietWSGI(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _hello_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from WSGI at ", environ["PATH_INFO"].encode()]


def wsgi_scenario(port: int = 8002) -> tuple[Components, dict[str, Any]]:
    """wsgiref's simple server with a WSGI app, and an http.client request."""
    results: dict[str, Any] = {}
    ready = threading.Event()

    def server() -> None:
        with wsgiref.simple_server.make_server(
            "", port, _hello_app, handler_class=_QuietWSGI
        ) as httpd:
            ready.set()
            httpd.handle_request()

    def client() -> None:
        ready.wait(30)
        connection = http.client.HTTPConnection("server", port, timeout=10)
        connection.request("GET", "/greeting")
        results["wsgi"] = connection.getresponse().read()
        connection.close()

    return {"server": server, "client": client}, results


def asyncio_scenario(port: int = 8003) -> tuple[Components, dict[str, Any]]:
    """asyncio streams: an upper-casing line server and a client, each in its own event loop."""
    results: dict[str, Any] = {}
    ready, done = threading.Event(), threading.Event()

    async def shout(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    def server() -> None:
        async def main() -> None:
            async with await asyncio.start_server(shout, "0.0.0.0", port):
                ready.set()
                while not done.is_set():
                    await asyncio.sleep(0.01)

        asyncio.run(main())

    def client() -> None:
        async def main() -> None:
            reader, writer = await asyncio.open_connection("server", port)
            writer.write(b"hello, asyncio\n")
            await writer.drain()
            results["asyncio"] = await reader.readline()
            writer.close()
            await writer.wait_closed()

        ready.wait(30)
        try:
            asyncio.run(main())
        finally:
            done.set()

    return {"server": server, "client": client}, results
