"""An echo client: sends some lines and prints what comes back. Plain socket code.

Run it welded with its server:  sockviz run "echo_server.py --port 9000" "echo_client.py --port 9000"
"""

import argparse
import socket

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--host", default="echo_server", help="the server's name (a component's name inside sockviz)")
parser.add_argument("--port", type=int, default=9000)
parser.add_argument("words", nargs="*", default=["hello", "sockets"])
args = parser.parse_args()

with socket.create_connection((args.host, args.port)) as sock, sock.makefile("rwb") as stream:
    for word in args.words:
        stream.write(word.encode() + b"\n")
        stream.flush()
        print("got back", stream.readline().decode().strip())
