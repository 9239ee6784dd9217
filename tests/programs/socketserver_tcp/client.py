# After the Python docs, socketserver "Examples: socketserver.TCPServer Example",
# client side (https://docs.python.org/3/library/socketserver.html). Port 9999 -> 9309.
import socket
import sys

HOST, PORT = "localhost", 9309
data = " ".join(sys.argv[1:])

# Create a socket (SOCK_STREAM means a TCP socket)
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
    # Connect to server and send data
    sock.connect((HOST, PORT))
    sock.sendall(bytes(data + "\n", "utf-8"))

    # Receive data from the server and shut down
    received = str(sock.recv(1024), "utf-8")

print("Sent:     {}".format(data))
print("Received: {}".format(received))
