# After the well-known Stack Overflow answer to "How to make a simple multithreaded
# socket server in Python that remembers clients" (the ThreadedServer class, one
# threading.Thread per accepted client, https://stackoverflow.com/q/23828264).
# Kept as published, quirks included: `raise error(...)` names nothing (a NameError
# that the bare except turns into a close). One change: the original asks for the
# port with input("Port? "); here it comes from sys.argv (default 9314).
import socket
import sys
import threading

class ThreadedServer(object):
    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))

    def listen(self):
        self.sock.listen(5)
        while True:
            client, address = self.sock.accept()
            client.settimeout(60)
            threading.Thread(target = self.listenToClient,args = (client,address)).start()

    def listenToClient(self, client, address):
        size = 1024
        while True:
            try:
                data = client.recv(size)
                if data:
                    # Set the response to echo back the recieved data 
                    response = data
                    client.send(response)
                else:
                    raise error('Client disconnected')
            except:
                client.close()
                return False

if __name__ == "__main__":
    while True:
        port_num = sys.argv[1] if len(sys.argv) > 1 else "9314"  # was: input("Port? ")
        try:
            port_num = int(port_num)
            break
        except ValueError:
            pass

    ThreadedServer('',port_num).listen()
