# After the Python docs for socket.create_server() (3.8+: "addr = ('', 8080); if
# socket.has_dualstack_ipv6(): ... dualstack_ipv6=True") combined with the common
# line-oriented server idiom: conn.makefile('r') and `for line in reader`.
# Port 8080 -> 9316. Serves one client, answering each line with its length and
# the line reversed, then exits.
import socket

addr = ("", 9316)  # all interfaces, port 9316
if socket.has_dualstack_ipv6():
    s = socket.create_server(addr, family=socket.AF_INET6, dualstack_ipv6=True)
else:
    s = socket.create_server(addr)

with s:
    print("listening on", s.getsockname()[:2])
    conn, peer = s.accept()
    with conn, conn.makefile('r', encoding='utf-8', newline='\n') as reader:
        print("connection from", peer[:2])
        for line in reader:
            line = line.rstrip('\n')
            reply = f"{len(line)} {line[::-1]}\n"
            conn.sendall(reply.encode('utf-8'))
        print("client finished")
