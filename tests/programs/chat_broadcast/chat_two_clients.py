# A scripted stand-in for two people running the tutorial's chat_client.py (which
# selects on sys.stdin and the socket): "alice" and "bob" join the chat_server on port
# 9322; alice sees bob enter, bob says hello, alice sees it broadcast.
import socket

alice = socket.create_connection(('localhost', 9322))
bob = socket.create_connection(('localhost', 9322))

entered = alice.recv(4096).decode()
print('alice sees:', entered.split('] ', 1)[1].strip())

bob.send(b'hello everyone\n')
said = alice.recv(4096).decode()
print('alice sees:', said.split('] ', 1)[1].strip())

bob.close()
alice.close()
print('done')
