# After the Python docs, "socket -- Low-level networking interface", Example:
# "Echo client program" (https://docs.python.org/3/library/socket.html#example).
# HOST 'daring.cwi.nl' -> 'localhost', PORT 50007 -> 9324.
# Echo client program
import socket

HOST = 'localhost'        # The remote host
PORT = 9324               # The same port as used by the server
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    s.sendall(b'Hello, world')
    data = s.recv(1024)
print('Received', repr(data))
