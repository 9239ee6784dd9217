# A client for the Stack Overflow ThreadedServer (thread per client), in the style of
# the answers' test clients: it opens two connections at once, talks on both in turn
# (so the server must serve them in two threads at the same time), then closes both.
import socket

HOST = 'localhost'
PORT = 9314

first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
first.connect((HOST, PORT))
second = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
second.connect((HOST, PORT))

for word in ['ping', 'pong']:
    first.sendall(('first ' + word).encode())
    second.sendall(('second ' + word).encode())
    print('first got', first.recv(1024).decode())
    print('second got', second.recv(1024).decode())

first.close()
second.close()
print('done')
