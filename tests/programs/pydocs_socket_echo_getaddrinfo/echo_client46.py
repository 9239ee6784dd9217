# After the Python docs, "socket" Example: the IPv4/IPv6 "Echo client program" that
# tries every getaddrinfo(HOST, PORT, AF_UNSPEC, SOCK_STREAM) result
# (https://docs.python.org/3/library/socket.html#example).
# HOST 'daring.cwi.nl' -> 'localhost', PORT 50007 -> 9325.
# Echo client program
import socket
import sys

HOST = 'localhost'        # The remote host
PORT = 9325               # The same port as used by the server
s = None
for res in socket.getaddrinfo(HOST, PORT, socket.AF_UNSPEC, socket.SOCK_STREAM):
    af, socktype, proto, canonname, sa = res
    try:
        s = socket.socket(af, socktype, proto)
    except OSError as msg:
        s = None
        continue
    try:
        s.connect(sa)
    except OSError as msg:
        s.close()
        s = None
        continue
    break
if s is None:
    print('could not open socket')
    sys.exit(1)
with s:
    s.sendall(b'Hello, world')
    data = s.recv(1024)
print('Received', repr(data))
