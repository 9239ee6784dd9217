# A non-blocking client for the selectors docs echo server, in the usual style:
# setblocking(False), connect_ex() (EINPROGRESS), wait for EVENT_WRITE, check
# SO_ERROR, send, then wait for EVENT_READ until the echo is complete. Port 9320.
import errno
import selectors
import socket

sel = selectors.DefaultSelector()
sock = socket.socket()
sock.setblocking(False)
err = sock.connect_ex(('localhost', 9320))
print('connect_ex:', errno.errorcode.get(err, err))
sel.register(sock, selectors.EVENT_WRITE)
sel.select(timeout=10)
err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
print('connected, SO_ERROR =', err)

message = b'non-blocking hello'
sock.send(message)
sel.modify(sock, selectors.EVENT_READ)
received = b''
while len(received) < len(message):
    for key, mask in sel.select(timeout=10):
        received += key.fileobj.recv(1000)
print('echo:', received)
sel.unregister(sock)
sock.close()
