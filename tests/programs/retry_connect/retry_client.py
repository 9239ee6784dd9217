# The "wait for the server" client found in many tutorials and answers: connect in a
# loop, catching ConnectionRefusedError and sleeping between attempts (reusing the
# same socket object, as most of them do). Port 9318.
import socket
import time

HOST = '127.0.0.1'
PORT = 9318

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
attempts = 0
while True:
    try:
        attempts += 1
        s.connect((HOST, PORT))
        break
    except ConnectionRefusedError:
        print('server not up yet, retrying in 0.5 s')
        time.sleep(0.5)

s.sendall(b'client')
print('reply:', s.recv(1024).decode())
print('connected after more than one attempt:', attempts > 1)
s.close()
