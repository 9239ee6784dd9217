"""An echo server: answers each line with the same line, upper-cased. Plain socket code.

Run it welded with its client:  sockviz run "echo_server.py --port 9000" "echo_client.py --port 9000"
(or, on the real network, in two terminals without sockviz).
"""

import argparse
import socket

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--port", type=int, default=9000)
parser.add_argument("--clients", type=int, default=1, help="how many clients to serve before stopping")
args = parser.parse_args()

with socket.create_server(("", args.port)) as listener:
    print(f"listening on port {args.port}")
    for _ in range(args.clients):
        conn, address = listener.accept()
        print(f"a client from {address[0]}:{address[1]}")
        with conn, conn.makefile("rwb") as stream:
            for line in stream:
                stream.write(line.upper())
                stream.flush()
