# A client using the Stack Overflow send_msg/recv_msg helpers (msgproto.py, beside
# this script). Sends three messages, one larger than a socket buffer (200000 bytes),
# and prints the server's summaries. Port 9317.
import socket

import msgproto

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect(('localhost', 9317))
for msg in [b'hello', b'x' * 200000, bytes(range(256))]:
    msgproto.send_msg(sock, msg)
    reply = msgproto.recv_msg(sock)
    print('server says:', reply.decode())
sock.close()
