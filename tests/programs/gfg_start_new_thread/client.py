# After GeeksforGeeks, "Socket Programming with Multi-threading in Python" client.
# Port 12345 -> 9319. One change: the original asks input('\nDo you want to
# continue(y/n) :'); here the answers are canned ('y' then 'n') so it ends alone.
# Import socket module
import socket

answers = iter(['y', 'n'])  # was: input('\nDo you want to continue(y/n) :')


def Main():
    # local host IP '127.0.0.1'
    host = '127.0.0.1'

    # Define the port on which you want to connect
    port = 9319

    s = socket.socket(socket.AF_INET,socket.SOCK_STREAM)

    # connect to server on local computer
    s.connect((host,port))

    # message you send to server
    message = "shaurya says geeksforgeeks"
    while True:

        # message sent to server
        s.send(message.encode('ascii'))

        # message received from server
        data = s.recv(1024)

        # print the received message
        # here it would be a reverse of sent message
        print('Received from the server :',str(data.decode('ascii')))

        # ask the client whether he wants to continue
        ans = next(answers)
        if ans == 'y':
            continue
        else:
            break
    # close the connection
    s.close()

if __name__ == '__main__':
    Main()
