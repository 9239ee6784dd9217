#!/usr/bin/python           # This is client.py file
# After tutorialspoint's "Python - Network Programming" (Python 3 edition) client.py:
# it connects to socket.gethostname(). Port 12345 -> 9315.

import socket               # Import socket module

s = socket.socket()         # Create a socket object
host = socket.gethostname() # Get local machine name
port = 9315                 # Reserve a port for your service.

s.connect((host, port))
print (s.recv(1024))
s.close()                   # Close the socket when done
