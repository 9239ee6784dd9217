# A server that takes a moment to come up (as one loading data would), in the plain
# style of beginner tutorials; it answers one greeting and exits. Port 9318.
import socket
import time

HOST = '127.0.0.1'
PORT = 9318

print('loading...')
time.sleep(1.5)  # pretend to load something before listening

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((HOST, PORT))
s.listen(1)
print('listening on', PORT)
conn, addr = s.accept()
name = conn.recv(1024).decode()
conn.sendall(('hello, ' + name).encode())
conn.close()
s.close()
