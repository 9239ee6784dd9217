# After the Python docs' socket.create_connection() and the common client idiom of
# reading the answers line by line through sock.makefile('r').
# Port 9316; sends three lines, prints the three answers, shuts down its side.
import socket

with socket.create_connection(("localhost", 9316), timeout=10) as sock:
    reader = sock.makefile('r', encoding='utf-8')
    for word in ["alpha", "beta", "gamma delta"]:
        sock.sendall((word + "\n").encode('utf-8'))
        answer = reader.readline().rstrip('\n')
        print(f"{word!r} -> {answer!r}")
    sock.shutdown(socket.SHUT_WR)
    print("server closed:", reader.readline() == "")
    reader.close()
