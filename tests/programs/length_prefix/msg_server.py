# A server using the Stack Overflow send_msg/recv_msg helpers (msgproto.py, beside
# this script): each message is answered with a summary of what arrived, until the
# client closes. Port 9317; one client, then it exits.
import hashlib
import socket

import msgproto

HOST, PORT = '', 9317

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((HOST, PORT))
srv.listen(1)
print('waiting on port', PORT)
conn, addr = srv.accept()
print('connected:', addr)
while True:
    msg = msgproto.recv_msg(conn)
    if msg is None:
        break
    summary = '%d bytes, md5 %s' % (len(msg), hashlib.md5(msg).hexdigest()[:8])
    print('got', summary)
    msgproto.send_msg(conn, summary.encode())
conn.close()
srv.close()
print('bye')
