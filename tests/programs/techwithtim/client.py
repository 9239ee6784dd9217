# After Tech With Tim, "Python Socket Programming Tutorial" client.py. PORT 5050 ->
# 9323. Changes: SERVER was a hard-coded LAN address ("192.168.1.26"); here it is
# socket.gethostbyname(socket.gethostname()) as the server computes it (what most
# viewers wrote), and the input() pauses between messages are left out.
import socket

HEADER = 64
PORT = 9323
FORMAT = 'utf-8'
DISCONNECT_MESSAGE = "!DISCONNECT"
SERVER = socket.gethostbyname(socket.gethostname())
ADDR = (SERVER, PORT)

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect(ADDR)

def send(msg):
    message = msg.encode(FORMAT)
    msg_length = len(message)
    send_length = str(msg_length).encode(FORMAT)
    send_length += b' ' * (HEADER - len(send_length))
    client.send(send_length)
    client.send(message)
    print(client.recv(2048).decode(FORMAT))

send("Hello World!")
send("Hello Everyone!")
send("Hello Tim!")

send(DISCONNECT_MESSAGE)
